/*
 * store/segment_lex.c: the segment language's tokens, and the errors that
 * name them.
 *
 * The text must be UTF-8 without control characters (tab and line breaks
 * aside). Outside strings, any Unicode white space separates tokens as a
 * space does: a full-width space (U+3000) typed with a Japanese input method
 * is a space. An invisible formatting character (U+200B and the like) outside
 * a string is an error at its column: inside a name it would silently name
 * another attribute. Errors show such characters as <U+XXXX>.
 *
 * Letters are ASCII letters, compared without the C library's locale-bound
 * ctype functions; any other non-ASCII character may be part of a name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/segment_private.h"

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Unicode's White_Space characters from U+0080 on. */
static int is_uspace(uint32_t cp)
{
	return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* The character at s (the text is checked UTF-8): its length, *cp its code point. */
static size_t char_at(const char *s, uint32_t *cp)
{
	size_t k = store_utf8_char(s, strnlen(s, 4), cp);

	if (k == 0) {
		*cp = (unsigned char)*s;
		k = 1;
	}
	return k;
}

/* The byte length of the white space at s, or 0. */
static size_t space_at(const char *s)
{
	uint32_t cp;
	size_t k;

	if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		return 1;
	if ((unsigned char)*s < 0x80)
		return 0;
	k = char_at(s, &cp);
	return is_uspace(cp) ? k : 0;
}

size_t seg_ident_char(const char *s)
{
	uint32_t cp;
	size_t k;

	if ((unsigned char)*s < 0x80)
		return is_alnum(*s) || *s == '_';
	k = char_at(s, &cp);
	return is_uspace(cp) || store_char_is_invisible(cp) ? 0 : k;
}

/* Where the run of name characters from s[j] ends. */
static size_t ident_end(const char *s, size_t j)
{
	size_t k;

	for (k = seg_ident_char(s + j); k > 0; k = seg_ident_char(s + j))
		j += k;
	return j;
}

/* ---- Errors ------------------------------------------------------------- */

/*
 * Writes up to 40 characters of s[0..n) to out (cap bytes) with white space
 * other than a plain space, and invisible characters, written as <U+XXXX>.
 */
static void visible(const char *s, size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0, chars = 0, k;
	char piece[16];
	uint32_t cp;

	out[0] = '\0';
	while (i < n && s[i] != '\0') {
		if (chars == 40) {
			snprintf(piece, sizeof(piece), "...");
			k = 0;
		} else {
			k = char_at(s + i, &cp);
			if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
			    is_uspace(cp) || store_char_is_invisible(cp))
				snprintf(piece, sizeof(piece), "<U+%04X>", (unsigned)cp);
			else
				snprintf(piece, sizeof(piece), "%.*s", (int)k, s + i);
		}
		if (o + strlen(piece) >= cap)
			break;
		memcpy(out + o, piece, strlen(piece) + 1);
		o += strlen(piece);
		if (k == 0)
			break;
		i += k;
		chars++;
	}
}

static void describe(struct parser *p, char *out, size_t n)
{
	char shown[200];

	switch (p->tok) {
	case T_END:
		snprintf(out, n, "the end of the text");
		break;
	case T_STRING:
		visible(p->text, p->len, shown, sizeof(shown));
		snprintf(out, n, "the string \"%s\"", shown);
		break;
	case T_BAD:
		snprintf(out, n, "%s", p->text);
		break;
	default:
		visible(p->src + p->pos, p->next - p->pos, shown, sizeof(shown));
		snprintf(out, n, "\"%s\"", shown);
	}
}

/* The column (from 1) of the byte at `off` of src, counted in characters. */
static size_t column_of(const char *src, size_t off)
{
	size_t i, col = 1;

	for (i = 0; i < off && src[i] != '\0'; i++)
		col += ((unsigned char)src[i] & 0xc0) != 0x80;
	return col;
}

int seg_fail(struct parser *p, const char *expected)
{
	char found[240];

	if (p->s != STORE_OK)
		return -1;
	describe(p, found, sizeof(found));
	p->s = store_fail(p->errstr, STORE_EINVAL, "column %zu: expected %s, found %s",
			  column_of(p->src, p->pos), expected, found);
	return -1;
}

enum store_status seg_text_check(const char *src, char **errstr)
{
	size_t i, k, n = strlen(src);
	uint32_t cp;

	for (i = 0; i < n; i += k) {
		k = store_utf8_char(src + i, n - i, &cp);
		if (k == 0)
			return store_fail(errstr, STORE_EINVAL,
					  "column %zu: the expression is not valid UTF-8",
					  column_of(src, i));
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7f ||
		    (cp >= 0x80 && cp <= 0x9f))
			return store_fail(errstr, STORE_EINVAL,
					  "column %zu: the expression holds a control character",
					  column_of(src, i));
	}
	return STORE_OK;
}

/* ---- Tokens ------------------------------------------------------------- */

static int set_text(struct parser *p, const char *s, size_t n)
{
	char *t = realloc(p->text, n + 1);

	if (t == NULL) {
		p->s = STORE_ENOMEM;
		return -1;
	}
	memcpy(t, s, n);
	t[n] = '\0';
	p->text = t;
	p->len = n;
	return 0;
}

static int set_msg(struct parser *p, const char *m)
{
	return set_text(p, m, strlen(m));
}

/*
 * Makes buf[0..n), allocated, the token's text, in NFC (store_nfc) as the
 * store keeps names and attributes. Takes buf, which may be the text already.
 */
static int set_nfc(struct parser *p, char *buf, size_t n)
{
	char *nfc = NULL;

	if (store_nfc(buf, n, &nfc, &n) != 0) {
		if (buf != p->text)
			free(buf);
		p->s = STORE_ENOMEM;
		return -1;
	}
	if (nfc != NULL) {
		if (buf != p->text)
			free(buf);
		buf = nfc;
	}
	if (p->text != buf)
		free(p->text);
	p->text = buf;
	p->len = n;
	return 0;
}

static int lex_string(struct parser *p, size_t i)
{
	const char *s = p->src;
	size_t n = 0, cap = 16;
	char *buf = malloc(cap);

	if (buf == NULL) {
		p->s = STORE_ENOMEM;
		return -1;
	}
	for (i++;; i++) {
		char c = s[i];
		if (c == '\0') {
			free(buf);
			p->next = i;
			p->tok = T_BAD;
			return set_msg(p, "a string with no closing quote");
		}
		if (c == '"')
			break;
		if (c == '\\' && (s[i + 1] == '"' || s[i + 1] == '\\'))
			c = s[++i];
		if (n + 1 >= cap) {
			char *b = realloc(buf, cap *= 2);
			if (b == NULL) {
				free(buf);
				p->s = STORE_ENOMEM;
				return -1;
			}
			buf = b;
		}
		buf[n++] = c;
	}
	p->next = i + 1;
	p->tok = T_STRING;
	buf[n] = '\0';
	return set_nfc(p, buf, n);
}

/* A token that is no token: says what the character at i is. */
static int lex_bad(struct parser *p, size_t i)
{
	char msg[160];
	uint32_t cp;
	size_t k = char_at(p->src + i, &cp);

	p->tok = T_BAD;
	p->next = i + k;
	if (p->src[i] == '\'')
		return set_msg(p, "a single quote (strings take double quotes)");
	if (store_char_is_invisible(cp)) {
		snprintf(msg, sizeof(msg),
			 "<U+%04X>, an invisible character the language does not accept "
			 "outside a string",
			 (unsigned)cp);
		return set_msg(p, msg);
	}
	snprintf(msg, sizeof(msg), "\"%.*s\", a character the language does not use", (int)k,
		 p->src + i);
	return set_msg(p, msg);
}

/* A number, date or duration starting at i: sets p->tok and returns where it ends. */
static size_t lex_number(struct parser *p, size_t i)
{
	const char *s = p->src;
	size_t j = i + 1;

	while (is_digit(s[j]) || s[j] == '.')
		j++;
	p->tok = T_NUMBER;
	if (s[j] == '-' && j - i == 4) {
		/* A date: YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM|-HH:MM] */
		while (is_digit(s[j]) || s[j] == '-' || s[j] == ':' || s[j] == 'T' || s[j] == 'Z' ||
		       s[j] == '+')
			j++;
		p->tok = T_DATE;
	} else if (s[j] == 'd' || s[j] == 'h' || s[j] == 'w') {
		j++;
		p->tok = T_DURATION;
	}
	return j;
}

int seg_lex(struct parser *p)
{
	const char *s = p->src;
	size_t i = p->next, j, k;

	for (k = space_at(s + i); k > 0; k = space_at(s + i))
		i += k;
	p->pos = i;
	j = i + 1;
	switch (s[i]) {
	case '\0':
		p->tok = T_END;
		j = i;
		break;
	case '(':
		p->tok = T_LPAREN;
		break;
	case ')':
		p->tok = T_RPAREN;
		break;
	case ',':
		p->tok = T_COMMA;
		break;
	case '.':
		p->tok = T_DOT;
		break;
	case '=':
		p->tok = T_EQ;
		break;
	case '!':
		if (s[i + 1] != '=') {
			p->tok = T_BAD;
			p->next = j;
			return set_msg(p, "\"!\" (did you mean \"!=\" or \"not\"?)");
		}
		p->tok = T_NE;
		j++;
		break;
	case '<':
		p->tok = s[i + 1] == '=' ? T_LE : T_LT;
		j += s[i + 1] == '=';
		break;
	case '>':
		p->tok = s[i + 1] == '=' ? T_GE : T_GT;
		j += s[i + 1] == '=';
		break;
	case '"':
		return lex_string(p, i);
	default:
		if (is_digit(s[i]) || (s[i] == '-' && is_digit(s[i + 1]))) {
			j = lex_number(p, i);
			if (seg_ident_char(s + j) > 0 && s[j] != '_') {
				p->next = ident_end(s, j);
				p->tok = T_BAD;
				return set_msg(p, "a malformed number, date or duration");
			}
			break;
		}
		if (seg_ident_char(s + i) == 0)
			return lex_bad(p, i);
		j = ident_end(s, i);
		p->tok = T_IDENT;
		p->next = j;
		/* A name (attr.KEY) as the store keeps attribute names. */
		return set_text(p, s + i, j - i) != 0 ? -1 : set_nfc(p, p->text, p->len);
	}
	p->next = j;
	return set_text(p, s + i, j - i);
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

void seg_ascii_lower(char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		s[i] = ascii_lower(s[i]);
}

bool seg_ascii_same(const char *a, const char *b)
{
	for (; *a != '\0' && ascii_lower(*a) == ascii_lower(*b); a++, b++)
		;
	return *a == *b;
}

int seg_is_kw(const struct parser *p, const char *kw)
{
	return p->tok == T_IDENT && seg_ascii_same(p->text, kw);
}

int seg_lex_name(struct parser *p)
{
	const char *s = p->src;
	size_t i = p->next, k, j;

	for (k = space_at(s + i); k > 0; k = space_at(s + i))
		i += k;
	if (!is_digit(s[i]))
		return seg_lex(p);
	j = ident_end(s, i);
	p->pos = i;
	p->tok = T_IDENT;
	p->next = j;
	return set_text(p, s + i, j - i) != 0 ? -1 : set_nfc(p, p->text, p->len);
}
