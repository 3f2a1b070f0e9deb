/*
 * css.c: what CSS says about showing an element, for visible.c: the
 * declarations of a style attribute, and the rules of <style> elements.
 *
 * Like visible.c it errs towards "hidden":
 *  - a declaration that hides wins over one that shows, whatever their order
 *    or weight (display:none;display:block hides);
 *  - a rule is matched by its last compound selector alone, the element it
 *    styles (".footer p" as "p"), and attribute selectors and pseudo-classes
 *    in it are taken as matching (":first-child"); a selector left with
 *    nothing to match by ("[hidden]", ":root") is left out, and so are
 *    pseudo-elements ("::before") and states a reader must bring about
 *    (":hover", ":checked");
 *  - the rules inside @media, @supports and the like count, as some mail
 *    clients apply them whatever the query;
 *  - a sheet with more than CSS_RULES rules that hide, show or colour, or
 *    with blocks nested more than CSS_NEST deep, hides everything.
 * Colours are the exception: a rule's count only where its selector is one
 * compound (".x p" colours nothing), and the last rule's win.
 * Escapes (\3a, \:) and comments are read as CSS reads them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "templates/private.h"

#define CSS_RULES 1024
#define CSS_NEST 8

/* Before a class and an id in a rule's selector: decoded names hold no control characters. */
#define SEL_CLASS '\x01'
#define SEL_ID '\x02'
#define SEL_MARKS "\x01\x02"

struct tpl_css_rule {
	char *sel; /* the type ("" for any), then SEL_CLASS name and SEL_ID name parts */
	struct tpl_css_show show;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool is_hex(char c)
{
	return isxdigit((unsigned char)c) != 0;
}

/* The length of the escape at s[i] == '\\': up to six hex digits and one blank after
 * them, or one character. */
static size_t esc_len(const char *s, size_t n, size_t i)
{
	size_t j = i + 1;

	if (j >= n)
		return 1;
	if (!is_hex(s[j]))
		return 2;
	while (j < n && j < i + 7 && is_hex(s[j]))
		j++;
	if (j < n && is_blank(s[j]))
		j++;
	return j - i;
}

/* Appends what the escape e[0..k) stands for, lower-cased. */
static void put_escape(const char *e, size_t k, struct tpl_buf *out)
{
	uint32_t cp = 0;
	size_t j;
	char u[8];

	if (k < 2 || e[1] == '\n' || e[1] == '\r' || e[1] == '\f')
		return; /* an escaped line break, or a backslash at the end: nothing */
	/*
	 * A control character escaped is U+FFFD, as one written in hex: never a
	 * byte of its own, which could read as a selector's marks (SEL_MARKS).
	 */
	if (!is_hex(e[1]) && ((unsigned char)e[1] < 0x20 || e[1] == 0x7f)) {
		tpl_buf_append(out, "\xef\xbf\xbd", 3);
		return;
	}
	if (!is_hex(e[1])) {
		tpl_buf_appendc(out, (char)tolower((unsigned char)e[1]));
		return;
	}
	for (j = 1; j < k && is_hex(e[j]); j++)
		cp = cp * 16 + (uint32_t)(e[j] <= '9' ? e[j] - '0' : (e[j] | 0x20) - 'a' + 10);
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp < 0x20 || cp == 0x7f)
		cp = 0xfffd;
	if (cp < 0x80)
		cp = (uint32_t)tolower((int)cp);
	tpl_buf_append(out, u, tpl_utf8_put(cp, u));
}

/*
 * Appends s[0..n) to out as the reading below wants it: comments left out,
 * letters lower-cased, each run of blanks one space; escapes decoded with
 * unescape, else kept (a selector's names decode theirs).
 */
static void css_clean(const char *s, size_t n, bool unescape, struct tpl_buf *out)
{
	const char *end;
	bool blank = false;
	size_t i = 0, k;

	while (i < n) {
		if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
			end = memmem(s + i + 2, n - i - 2, "*/", 2);
			i = end != NULL ? (size_t)(end - s) + 2 : n;
			continue;
		}
		if (is_blank(s[i])) {
			blank = true;
			i++;
			continue;
		}
		if (blank && out->len > 0)
			tpl_buf_appendc(out, ' ');
		blank = false;
		k = s[i] == '\\' ? esc_len(s, n, i) : 1;
		if (k > 1 && unescape)
			put_escape(s + i, k, out);
		else if (k > 1)
			tpl_buf_append(out, s + i, k);
		else if (s[i] != '\\')
			tpl_buf_appendc(out, (char)tolower((unsigned char)s[i]));
		i += k;
	}
}

/* ---- Declarations --------------------------------------------------------- */

/* What one source says, into what others said: hiding (0) wins, showing (1) only
 * where nothing was said. */
static void settle(int *to, int v)
{
	if (v == 0 || (v > 0 && *to < 0))
		*to = v;
}

static void merge(struct tpl_css_show *to, const struct tpl_css_show *from)
{
	to->gone = to->gone || from->gone;
	to->zero_height = to->zero_height || from->zero_height;
	to->clipped = to->clipped || from->clipped;
	to->gone = to->gone || (to->zero_height && to->clipped);
	settle(&to->visibility, from->visibility);
	settle(&to->font, from->font);
}

/* A CSS length or number that is zero: "0", "0px", ".0", "0%". */
static bool css_zero(const char *v)
{
	bool digit = false;

	for (; *v == '0' || *v == '.'; v++)
		digit |= *v == '0';
	return digit && (*v == '\0' || *v == '%' || isalpha((unsigned char)*v));
}

/*
 * A font size: 0 when zero or too small to read (under 6px or 4.5pt, or a
 * tenth of the parent's, 0.4em, 40%), 1 when a size of its own, -1 when its
 * parent's sets it (1em, 100%, larger, inherit) or it is not known.
 */
static int font_size(const char *v)
{
	static const char *const sizes[] = {"xx-small", "x-small",  "small",	 "medium",  "large",
					    "x-large",	"xx-large", "xxx-large", "initial", NULL};
	static const char *const units[] = {"px",  "pt", "pc", "in",   "cm",   "mm", "q",
					    "rem", "vw", "vh", "vmin", "vmax", NULL};
	const char *unit;
	double x;

	if (css_zero(v))
		return 0;
	if (tpl_name_in(v, sizes))
		return 1;
	x = tpl_css_number(v, &unit);
	if (unit == NULL || x < 0)
		return -1;
	v = unit;
	if ((strcmp(v, "px") == 0 && x < 6) || (strcmp(v, "pt") == 0 && x < 4.5) ||
	    ((strcmp(v, "em") == 0 || strcmp(v, "rem") == 0) && x < 0.4) ||
	    (strcmp(v, "%") == 0 && x < 40))
		return 0;
	return tpl_name_in(v, units) ? 1 : -1;
}

/* The size in the font shorthand ("bold 0/0 a", "12px/1.5 arial"), as font_size. */
static int font_shorthand(char *v)
{
	char *tok, *next, *slash;
	int k;

	for (tok = v; tok != NULL && *tok != '\0'; tok = next) {
		next = strchr(tok, ' ');
		if (next != NULL)
			*next++ = '\0';
		slash = strchr(tok, '/');
		if (slash != NULL)
			*slash = '\0';
		k = font_size(tok);
		if (k >= 0 || slash != NULL)
			return k;
	}
	return -1;
}

static char *trim(char *s)
{
	size_t n;

	while (*s == ' ')
		s++;
	n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		s[--n] = '\0';
	return s;
}

static void declaration(const char *name, char *value, struct tpl_css_show *h)
{
	if (strcmp(name, "display") == 0 && strcmp(value, "none") == 0)
		h->gone = true;
	else if (strcmp(name, "mso-hide") == 0 && strcmp(value, "all") == 0)
		h->gone = true;
	else if (strcmp(name, "opacity") == 0 && css_zero(value))
		h->gone = true;
	else if (strcmp(name, "visibility") == 0)
		settle(&h->visibility, strcmp(value, "visible") == 0 ? 1 : 0);
	else if ((strcmp(name, "max-height") == 0 || strcmp(name, "height") == 0 ||
		  strcmp(name, "max-width") == 0 || strcmp(name, "width") == 0) &&
		 css_zero(value))
		h->zero_height = true;
	else if ((strcmp(name, "overflow") == 0 || strcmp(name, "overflow-y") == 0) &&
		 (strncmp(value, "hidden", 6) == 0 || strncmp(value, "clip", 4) == 0))
		h->clipped = true;
	else if (strcmp(name, "font-size") == 0)
		settle(&h->font, font_size(value));
	else if (strcmp(name, "font") == 0)
		settle(&h->font, font_shorthand(value));
	else if (tpl_css_value_hides(name, value))
		h->gone = true;
	h->gone = h->gone || (h->zero_height && h->clipped);
}

bool tpl_css_declarations(const char *s, size_t n, struct tpl_css_show *h)
{
	struct tpl_buf b = {0};
	char *decl, *next, *colon, *bang;
	bool ok;

	css_clean(s, n, true, &b);
	ok = !b.oom;
	for (decl = ok ? b.data : NULL; decl != NULL; decl = next) {
		next = strchr(decl, ';');
		if (next != NULL)
			*next++ = '\0';
		colon = strchr(decl, ':');
		if (colon == NULL)
			continue;
		*colon++ = '\0';
		bang = strchr(colon, '!');
		if (bang != NULL)
			*bang = '\0';
		decl = trim(decl);
		colon = trim(colon);
		declaration(decl, colon, h);
		/* The colours, which visible.c compares with those the element inherits. */
		if (strcmp(decl, "color") == 0)
			tpl_css_paint(colon, false, h->fg);
		else if (strcmp(decl, "background-color") == 0 || strcmp(decl, "background") == 0)
			tpl_css_paint(colon, true, h->bg);
	}
	tpl_buf_free(&b);
	return ok;
}

/* ---- Style sheets ---------------------------------------------------------- */

/* Past the escape, comment or string at s[i], or past s[i]. */
static size_t css_step(const char *s, size_t n, size_t i)
{
	const char *end;
	char q;

	if (s[i] == '\\')
		return i + esc_len(s, n, i);
	if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
		end = memmem(s + i + 2, n - i - 2, "*/", 2);
		return end != NULL ? (size_t)(end - s) + 2 : n;
	}
	if (s[i] != '"' && s[i] != '\'')
		return i + 1;
	q = s[i];
	for (i++; i < n && s[i] != q && s[i] != '\n'; i++)
		if (s[i] == '\\' && i + 1 < n)
			i++;
	return i < n ? i + 1 : n;
}

/* The first of stop's characters in s[i..n) outside escapes, comments, strings and
 * nested blocks; n when none. */
static size_t css_find(const char *s, size_t n, size_t i, const char *stop)
{
	int depth = 0;

	for (; i < n; i = css_step(s, n, i)) {
		if (depth == 0 && s[i] != '\0' && strchr(stop, s[i]) != NULL)
			return i;
		if (s[i] == '{')
			depth++;
		else if (s[i] == '}' && depth > 0)
			depth--;
	}
	return n;
}

/* Past the bracket that closes the one at c[i] ('(' or '['), with those nested in it. */
static size_t close_of(const char *c, size_t n, size_t i)
{
	int depth = 0;

	for (; i < n; i = css_step(c, n, i)) {
		if (c[i] == '(' || c[i] == '[') {
			depth++;
		} else if (c[i] == ')' || c[i] == ']') {
			depth--;
			if (depth == 0)
				return i + 1;
		}
	}
	return n;
}

/* Reads the name at c[i] into out, escapes decoded; returns where it ends. */
static size_t ident(const char *c, size_t n, size_t i, struct tpl_buf *out)
{
	size_t k;

	while (i < n) {
		unsigned char ch = (unsigned char)c[i];

		if (ch == '\\') {
			k = esc_len(c, n, i);
			put_escape(c + i, k, out);
			i += k;
		} else if (isalnum(ch) || ch == '-' || ch == '_' || ch >= 0x80) {
			tpl_buf_appendc(out, (char)ch);
			i++;
		} else {
			break;
		}
	}
	return i;
}

/* A pseudo-class at c[i] (past its ':'): false when the selector can't count. */
static bool pseudo(const char *c, size_t n, size_t *i)
{
	static const char *const never[] = {"hover",
					    "focus",
					    "active",
					    "focus-within",
					    "focus-visible",
					    "checked",
					    "target",
					    "visited",
					    "before",
					    "after",
					    "first-line",
					    "first-letter",
					    "marker",
					    "placeholder",
					    "selection",
					    "backdrop",
					    NULL};
	char name[24];
	size_t k = 0;

	if (*i < n && c[*i] == ':')
		return false; /* a pseudo-element */
	for (; *i < n && (isalnum((unsigned char)c[*i]) || c[*i] == '-'); (*i)++)
		if (k + 1 < sizeof(name))
			name[k++] = c[*i];
	name[k] = '\0';
	if (*i < n && c[*i] == '(')
		*i = close_of(c, n, *i);
	return !tpl_name_in(name, never);
}

/*
 * The compound selector c[0..n) as a rule's selector, into out. False when it
 * can't count: a pseudo-element, a state, something this reader does not
 * know, or nothing left to match by.
 */
static bool compound(const char *c, size_t n, struct tpl_buf *out);

/*
 * [class=x], [class~=x] and [id=x] at c[i] == '[', as .x and #x: appends the
 * parts to out and sets *named; other attribute tests only narrow. Returns
 * where the test ends.
 */
static size_t attr_sel(const char *c, size_t n, size_t i, struct tpl_buf *out, bool *named)
{
	size_t end = close_of(c, n, i), j = i + 1, at;
	char mark, q = 0;

	while (j < end && c[j] == ' ')
		j++;
	if (end - j > 6 && strncmp(c + j, "class", 5) == 0)
		mark = SEL_CLASS, j += 5;
	else if (end - j > 3 && strncmp(c + j, "id", 2) == 0)
		mark = SEL_ID, j += 2;
	else
		return end;
	while (j < end && c[j] == ' ')
		j++;
	if (c[j] == '~' && mark == SEL_CLASS)
		j++;
	if (c[j++] != '=')
		return end;
	while (j < end && c[j] == ' ')
		j++;
	if (c[j] == '"' || c[j] == '\'')
		q = c[j++];
	/* Each word of the value a name (ident: never a mark), as the class list's words. */
	while (j < end && c[j] != q && c[j] != ']') {
		tpl_buf_appendc(out, mark);
		at = out->len;
		j = ident(c, end, j, out);
		if (out->len == at)
			return n; /* not a name: nothing left to match by */
		*named = true;
		while (j < end && c[j] == ' ')
			j++;
	}
	return end;
}

/*
 * :is(.x), :where(#y) and the like, of one compound without a type or
 * anything else inside it (no ':', so no nesting): read as it.
 */
static bool matches_any(const char *c, size_t n, size_t *i, struct tpl_buf *out, bool *named)
{
	static const char *const any[] = {"is",		 "where",    "matches", "any",
					  "-webkit-any", "-moz-any", NULL};
	size_t j = *i, end;
	char name[16];
	size_t k = 0;

	for (; j < n && (isalnum((unsigned char)c[j]) || c[j] == '-'); j++)
		if (k + 1 < sizeof(name))
			name[k++] = c[j];
	name[k] = '\0';
	if (!tpl_name_in(name, any) || j >= n || c[j] != '(')
		return false;
	end = close_of(c, n, j);
	if (end - j < 3 || (c[j + 1] != '.' && c[j + 1] != '#'))
		return false;
	for (k = j + 1; k < end - 1; k++)
		if (strchr(", :[(", c[k]) != NULL)
			return false;
	if (!compound(c + j + 1, end - j - 2, out))
		return false;
	*named = true;
	*i = end;
	return true;
}

static bool compound(const char *c, size_t n, struct tpl_buf *out)
{
	bool universal = n > 0 && c[0] == '*', named, narrowed = false;
	size_t i = universal ? 1 : ident(c, n, 0, out), at;

	named = out->len > 0;
	while (i < n) {
		if (c[i] == '.' || c[i] == '#') {
			tpl_buf_appendc(out, c[i] == '.' ? SEL_CLASS : SEL_ID);
			at = out->len;
			i = ident(c, n, i + 1, out);
			if (out->len == at)
				return false;
			named = true;
		} else if (c[i] == '[') {
			i = attr_sel(c, n, i, out, &named);
			narrowed = true;
		} else if (c[i] == ':') {
			i++;
			if (matches_any(c, n, &i, out, &named))
				continue;
			if (!pseudo(c, n, &i))
				return false;
			narrowed = true;
		} else {
			return false;
		}
	}
	return named || (universal && !narrowed);
}

/*
 * Scans the selector list s from i: returns where the selector ends (its ','
 * or n), and sets *subject to where its last compound selector starts.
 */
static size_t sel_scan(const char *s, size_t n, size_t i, size_t *subject)
{
	int depth = 0;

	*subject = i;
	for (; i < n; i = css_step(s, n, i)) {
		if (s[i] == '(' || s[i] == '[')
			depth++;
		else if ((s[i] == ')' || s[i] == ']') && depth > 0)
			depth--;
		else if (depth == 0 && s[i] == ',')
			return i;
		else if (depth == 0 && strchr(" >+~", s[i]) != NULL)
			*subject = i + 1;
	}
	return n;
}

static void add_rule(struct tpl_css_sheet *sh, const char *c, size_t n,
		     const struct tpl_css_show *h)
{
	struct tpl_buf sel = {0};
	struct tpl_css_rule *r;
	size_t cap;

	if (!compound(c, n, &sel))
		goto done;
	if (sh->n == CSS_RULES) {
		sh->overflow = true;
		goto done;
	}
	if (sh->n == sh->cap) {
		cap = sh->cap ? sh->cap * 2 : 16;
		r = realloc(sh->rule, cap * sizeof(*r));
		if (r == NULL) {
			sh->oom = true;
			goto done;
		}
		sh->rule = r;
		sh->cap = cap;
	}
	r = &sh->rule[sh->n];
	r->sel = tpl_buf_steal(&sel);
	r->show = *h;
	if (r->sel == NULL)
		sh->oom = true;
	else
		sh->n++;
done:
	tpl_buf_free(&sel);
}

static bool hides_or_shows(const struct tpl_css_show *h)
{
	return h->gone || h->visibility >= 0 || h->font >= 0 || h->zero_height || h->clipped;
}

/* A rule for each selector in the list s (cleaned) that can count. */
static void add_rules(struct tpl_css_sheet *sh, const char *s, const struct tpl_css_show *h)
{
	size_t n = strlen(s), i = 0, e, end, subject;

	while (i < n && !sh->oom && !sh->overflow) {
		e = sel_scan(s, n, i, &subject);
		for (end = e; end > i && s[end - 1] == ' ';)
			end--;
		while (i < end && s[i] == ' ')
			i++;
		sel_scan(s, end, i, &subject);
		if (subject == i) {
			add_rule(sh, s + subject, end - subject, h);
		} else {
			/*
			 * ".dark p": matched as "p", it would hide whatever "p" hides;
			 * its colours would paint every p, and call a footer on white
			 * hidden because of a dark band elsewhere. They are left out.
			 */
			struct tpl_css_show only = *h;

			only.fg[0] = only.bg[0] = '\0';
			if (hides_or_shows(&only))
				add_rule(sh, s + subject, end - subject, &only);
		}
		i = e + 1;
	}
}

static void sheet_block(struct tpl_css_sheet *sh, const char *s, size_t n, int nest);

/* The block body[0..n) after the prelude pre (cleaned). */
static void on_block(struct tpl_css_sheet *sh, const char *pre, const char *body, size_t n,
		     int nest)
{
	static const char *const groups[] = {"media",	      "supports",	"document",
					     "-moz-document", "container",	"layer",
					     "scope",	      "starting-style", NULL};
	struct tpl_css_show h = {.visibility = -1, .font = -1};
	char name[24];
	size_t k = 0;

	/* The HTML comment marks a sheet may still hold around its rules. */
	for (;;) {
		while (*pre == ' ')
			pre++;
		if (strncmp(pre, "<!--", 4) == 0)
			pre += 4;
		else if (strncmp(pre, "-->", 3) == 0)
			pre += 3;
		else
			break;
	}
	if (*pre == '@') {
		for (pre++; *pre != '\0' && (isalnum((unsigned char)*pre) || *pre == '-'); pre++)
			if (k + 1 < sizeof(name))
				name[k++] = *pre;
		name[k] = '\0';
		if (!tpl_name_in(name, groups))
			return;
		if (nest >= CSS_NEST)
			sh->overflow = true;
		else
			sheet_block(sh, body, n, nest + 1);
		return;
	}
	if (!tpl_css_declarations(body, n, &h))
		sh->oom = true;
	else if (hides_or_shows(&h) || h.fg[0] != '\0' || h.bg[0] != '\0')
		add_rules(sh, pre, &h);
}

/* The rules of s[0..n), nest blocks deep. */
static void sheet_block(struct tpl_css_sheet *sh, const char *s, size_t n, int nest)
{
	struct tpl_buf pre = {0};
	size_t i = 0, p, e;

	while (i < n && !sh->oom && !sh->overflow) {
		p = css_find(s, n, i, "{;}");
		if (p == n)
			break;
		if (s[p] != '{') {
			i = p + 1;
			continue;
		}
		e = css_find(s, n, p + 1, "}");
		tpl_buf_reset(&pre);
		css_clean(s + i, p - i, false, &pre);
		if (pre.oom)
			sh->oom = true;
		else
			on_block(sh, pre.data != NULL ? pre.data : "", s + p + 1, e - p - 1, nest);
		i = e + 1;
	}
	tpl_buf_free(&pre);
}

void tpl_css_sheet_add(struct tpl_css_sheet *sh, const char *css, size_t n)
{
	sheet_block(sh, css, n, 0);
}

/* Does the space-separated list l[0..n) hold w[0..wn) (ASCII case aside)? */
static bool has_word(const char *l, size_t n, const char *w, size_t wn)
{
	size_t i = 0, start;

	while (i < n) {
		while (i < n && is_blank(l[i]))
			i++;
		start = i;
		while (i < n && !is_blank(l[i]))
			i++;
		if (i > start && i - start == wn && strncasecmp(l + start, w, wn) == 0)
			return true;
	}
	return false;
}

static bool matches(const char *sel, const struct tpl_css_el *el)
{
	const char *p = sel, *q;
	size_t k = strcspn(p, SEL_MARKS);

	if (k > 0 && (strlen(el->tag) != k || strncmp(el->tag, p, k) != 0))
		return false;
	for (p += k; *p != '\0'; p = q) {
		q = p + 1 + strcspn(p + 1, SEL_MARKS);
		k = (size_t)(q - p - 1);
		if (*p == SEL_CLASS && !has_word(el->cls, el->ncls, p + 1, k))
			return false;
		if (*p == SEL_ID && (el->nid != k || strncasecmp(el->id, p + 1, k) != 0))
			return false;
	}
	return true;
}

void tpl_css_sheet_apply(const struct tpl_css_sheet *sh, const struct tpl_css_el *el,
			 struct tpl_css_show *h)
{
	char fg[8] = "", bg[8] = "";
	size_t i;

	if (sh->overflow)
		h->gone = true;
	for (i = 0; i < sh->n; i++) {
		if (!matches(sh->rule[i].sel, el))
			continue;
		merge(h, &sh->rule[i].show);
		/* Colours: the last rule's, as between rules of one weight */
		if (sh->rule[i].show.fg[0] != '\0')
			memcpy(fg, sh->rule[i].show.fg, sizeof(fg));
		if (sh->rule[i].show.bg[0] != '\0')
			memcpy(bg, sh->rule[i].show.bg, sizeof(bg));
	}
	/* and the style attribute's before any rule's. */
	if (h->fg[0] == '\0')
		memcpy(h->fg, fg, sizeof(fg));
	if (h->bg[0] == '\0')
		memcpy(h->bg, bg, sizeof(bg));
}

void tpl_css_sheet_free(struct tpl_css_sheet *sh)
{
	size_t i;

	for (i = 0; i < sh->n; i++)
		free(sh->rule[i].sel);
	free(sh->rule);
	memset(sh, 0, sizeof(*sh));
}
