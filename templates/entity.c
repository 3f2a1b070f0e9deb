/*
 * templates/entity.c: HTML character references (&#233; &#xE9; &eacute;),
 * decoded for the plain-text part made from an HTML template.
 *
 * Numeric references follow the HTML standard's rules: 0, surrogates, code
 * points past U+10FFFF and control characters become U+FFFD, and 128-159
 * mean the windows-1252 characters that pages have always meant by them.
 * Named ones: HTML's Latin-1 set (&nbsp; to &yuml;), its names for ASCII
 * punctuation (&colon; &semi;...) and its common typographic and symbol
 * ones; others are left as they are.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "templates/private.h"

/* HTML's named references from Latin-1 (U+00A0 to U+00FF), in order. */
static const char *const latin1[96] = {
    "nbsp",   "iexcl",	"cent",	  "pound",  "curren", "yen",	"brvbar", "sect",   "uml",
    "copy",   "ordf",	"laquo",  "not",    "shy",    "reg",	"macr",	  "deg",    "plusmn",
    "sup2",   "sup3",	"acute",  "micro",  "para",   "middot", "cedil",  "sup1",   "ordm",
    "raquo",  "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc",  "Atilde",
    "Auml",   "Aring",	"AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",   "Igrave",
    "Iacute", "Icirc",	"Iuml",	  "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde",
    "Ouml",   "times",	"Oslash", "Ugrave", "Uacute", "Ucirc",	"Uuml",	  "Yacute", "THORN",
    "szlig",  "agrave", "aacute", "acirc",  "atilde", "auml",	"aring",  "aelig",  "ccedil",
    "egrave", "eacute", "ecirc",  "euml",   "igrave", "iacute", "icirc",  "iuml",   "eth",
    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",	"divide", "oslash", "ugrave",
    "uacute", "ucirc",	"uuml",	  "yacute", "thorn",  "yuml",
};

/* The others: markup, typography, currency, arrows, a few symbols and ASCII punctuation. */
static const struct {
	const char *name;
	uint32_t cp;
} others[] = {
    {"amp", '&'},	{"lt", '<'},	    {"gt", '>'},       {"quot", '"'},
    {"apos", '\''},	{"OElig", 0x152},   {"oelig", 0x153},  {"Scaron", 0x160},
    {"scaron", 0x161},	{"Yuml", 0x178},    {"fnof", 0x192},   {"circ", 0x2c6},
    {"tilde", 0x2dc},	{"ensp", 0x2002},   {"emsp", 0x2003},  {"thinsp", 0x2009},
    {"zwnj", 0x200c},	{"zwj", 0x200d},    {"lrm", 0x200e},   {"rlm", 0x200f},
    {"ndash", 0x2013},	{"mdash", 0x2014},  {"lsquo", 0x2018}, {"rsquo", 0x2019},
    {"sbquo", 0x201a},	{"ldquo", 0x201c},  {"rdquo", 0x201d}, {"bdquo", 0x201e},
    {"dagger", 0x2020}, {"Dagger", 0x2021}, {"bull", 0x2022},  {"hellip", 0x2026},
    {"permil", 0x2030}, {"prime", 0x2032},  {"Prime", 0x2033}, {"lsaquo", 0x2039},
    {"rsaquo", 0x203a}, {"oline", 0x203e},  {"frasl", 0x2044}, {"euro", 0x20ac},
    {"trade", 0x2122},	{"larr", 0x2190},   {"uarr", 0x2191},  {"rarr", 0x2192},
    {"darr", 0x2193},	{"harr", 0x2194},   {"minus", 0x2212}, {"infin", 0x221e},
    {"ne", 0x2260},	{"le", 0x2264},	    {"ge", 0x2265},    {"check", 0x2713},
    {"Tab", '\t'},	{"NewLine", '\n'},  {"excl", '!'},     {"num", '#'},
    {"dollar", '$'},	{"percnt", '%'},    {"lpar", '('},     {"rpar", ')'},
    {"ast", '*'},	{"plus", '+'},	    {"comma", ','},    {"period", '.'},
    {"sol", '/'},	{"colon", ':'},	    {"semi", ';'},     {"equals", '='},
    {"quest", '?'},	{"commat", '@'},    {"lsqb", '['},     {"bsol", '\\'},
    {"rsqb", ']'},	{"Hat", '^'},	    {"lowbar", '_'},   {"grave", '`'},
    {"lcub", '{'},	{"verbar", '|'},    {"rcub", '}'},
};

/* What HTML makes of &#128; to &#159;: windows-1252 (0 where it has none). */
static const uint16_t cp1252[32] = {
    0x20ac, 0,	    0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,	    0x017d, 0,	    0,	    0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,	    0x017e, 0x0178,
};

size_t tpl_utf8_put(uint32_t cp, char out[8])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A numeric reference's code point as HTML reads it. */
static uint32_t numeric_cp(uint32_t cp)
{
	if (cp >= 0x80 && cp <= 0x9f)
		return cp1252[cp - 0x80] != 0 ? cp1252[cp - 0x80] : 0xfffd;
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7f)
		return 0xfffd;
	return cp;
}

/* &#N; or &#xH; at s (after "&#"): its length, or 0. lax: the ';' may be left out. */
static size_t numeric(const char *s, size_t n, bool lax, uint32_t *cp)
{
	bool hex = n > 0 && (s[0] == 'x' || s[0] == 'X');
	size_t i = hex ? 1 : 0, start = i;
	uint32_t v = 0;
	int d;

	for (; i < n; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			break;
		v = v > 0x110000 ? 0x110000 : v * (hex ? 16 : 10) + (uint32_t)d;
	}
	if (i == start || ((i >= n || s[i] != ';') && !lax))
		return 0;
	*cp = numeric_cp(v);
	return i < n && s[i] == ';' ? i + 1 : i;
}

/* NAME; at s: its length with the ';', when NAME is exactly `name`. */
static size_t named(const char *s, size_t n, const char *name, bool any_case)
{
	size_t k = strlen(name);

	if (n <= k || s[k] != ';')
		return 0;
	return (any_case ? strncasecmp(s, name, k) : strncmp(s, name, k)) == 0 ? k + 1 : 0;
}

static size_t entity(const char *s, size_t n, bool lax, char out[8], size_t *olen)
{
	uint32_t cp = 0;
	size_t i, k = 0;

	*olen = 0;
	if (n > 0 && s[0] == '#')
		k = numeric(s + 1, n - 1, lax, &cp);
	if (k > 0) {
		*olen = tpl_utf8_put(cp, out);
		return k + 1;
	}
	for (i = 0; i < 96 && k == 0; i++)
		if ((k = named(s, n, latin1[i], false)) > 0)
			cp = 0xa0 + (uint32_t)i;
	/* &AMP; &LT; &GT; &QUOT; are HTML too: markup's four in any case. */
	for (i = 0; i < sizeof(others) / sizeof(others[0]) && k == 0; i++)
		if ((k = named(s, n, others[i].name, i < 4)) > 0)
			cp = others[i].cp;
	if (k == 0)
		return 0;
	/* A no-break space reads as a space in plain text. */
	*olen = tpl_utf8_put(cp == 0xa0 ? ' ' : cp, out);
	return k;
}

size_t tpl_html_entity(const char *s, size_t n, char out[8], size_t *olen)
{
	return entity(s, n, false, out, olen);
}

size_t tpl_html_attr_entity(const char *s, size_t n, char out[8], size_t *olen)
{
	return entity(s, n, true, out, olen);
}
