/*
 * visible.c: what a reader sees. Text that is only blanks shows nothing, so
 * a sender's name of spaces is no name; and of an HTML part, only the text
 * outside comments, attributes and hidden elements is shown. The pre-send
 * checks use both: the Act on Specified Electronic Mail wants the sender's
 * identity and the opt-out link displayed, not merely present in the source.
 *
 * The HTML reader is deliberately simple and errs towards "hidden": an
 * element left open hides what follows it as long as it is open, which only
 * makes a check stricter.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "templates/private.h"

/*
 * A character that shows as nothing: Unicode White_Space, the
 * Default_Ignorable_Code_Point characters (zero-width and format characters,
 * the soft hyphen, the Hangul fillers, variation selectors, tags...) and the
 * Braille blank, which fonts draw as an empty cell.
 */
static bool blank_char(uint32_t cp)
{
	static const uint32_t ranges[][2] = {
	    {0x09, 0x0d},     {0x20, 0x20},	  {0x85, 0x85},	      {0xa0, 0xa0},
	    {0xad, 0xad},     {0x34f, 0x34f},	  {0x61c, 0x61c},     {0x115f, 0x1160},
	    {0x1680, 0x1680}, {0x17b4, 0x17b5},	  {0x180b, 0x180f},   {0x2000, 0x200f},
	    {0x2028, 0x202f}, {0x205f, 0x206f},	  {0x2800, 0x2800},   {0x3000, 0x3000},
	    {0x3164, 0x3164}, {0xfe00, 0xfe0f},	  {0xfeff, 0xfeff},   {0xffa0, 0xffa0},
	    {0xfff0, 0xfff8}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0000, 0xe0fff},
	};
	size_t i;

	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (cp >= ranges[i][0] && cp <= ranges[i][1])
			return true;
	return false;
}

bool tpl_is_blank_n(const char *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		k = tpl_utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (k == 0 || !blank_char(cp))
			return false;
		i += k;
	}
	return true;
}

bool tpl_is_blank(const char *s)
{
	return s == NULL || tpl_is_blank_n(s, strlen(s));
}

/* ---- The HTML as shown ---------------------------------------------------- */

#define VIEW_DEPTH 256
#define VIEW_NAME 16

struct open_el {
	char name[VIEW_NAME];
	bool gone;	/* display:none or the like, here or above: nothing inside shows */
	bool invisible; /* visibility:hidden in effect (a child may make itself visible) */
};

struct view {
	struct tpl_html_view *v;
	struct open_el el[VIEW_DEPTH];
	int depth;
	int over;	     /* elements opened past VIEW_DEPTH: what is in them counts as hidden */
	int link;	     /* the depth of the open <a href>, or -1 */
	size_t link_text;    /* where its visible text starts in v->text */
	struct tpl_buf href; /* its href */
};

/* What an element's own attributes say. */
struct el_attrs {
	bool gone;
	int visibility; /* -1 as its parent, 0 hidden, 1 visible */
	bool has_href;
};

static bool shown(const struct view *w)
{
	return w->over == 0 &&
	       (w->depth == 0 || (!w->el[w->depth - 1].gone && !w->el[w->depth - 1].invisible));
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool name_is(const char *name, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(name, *set) == 0)
			return true;
	return false;
}

/* A CSS length or number that is zero: "0", "0px", ".0", "0%". */
static bool css_zero(const char *v)
{
	bool digit = false;

	for (; *v == '0' || *v == '.'; v++)
		digit |= *v == '0';
	return digit && (*v == '\0' || *v == '%' || isalpha((unsigned char)*v));
}

/* Reads a style attribute's declarations (lower-cased, without blanks). */
static void read_style(const char *s, size_t n, struct el_attrs *a)
{
	char css[1024], *decl, *next, *colon, *bang;
	bool zero_height = false, clipped = false;
	size_t i, j = 0;

	for (i = 0; i < n && j + 1 < sizeof(css); i++)
		if (!is_ws(s[i]))
			css[j++] = (char)tolower((unsigned char)s[i]);
	css[j] = '\0';
	for (decl = css; decl != NULL; decl = next) {
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
		if (strcmp(decl, "display") == 0 && strcmp(colon, "none") == 0)
			a->gone = true;
		else if (strcmp(decl, "mso-hide") == 0 && strcmp(colon, "all") == 0)
			a->gone = true;
		else if (strcmp(decl, "opacity") == 0 && css_zero(colon))
			a->gone = true;
		else if (strcmp(decl, "visibility") == 0)
			a->visibility = strcmp(colon, "visible") == 0 ? 1 : 0;
		else if ((strcmp(decl, "max-height") == 0 || strcmp(decl, "height") == 0) &&
			 css_zero(colon))
			zero_height = true;
		else if (strcmp(decl, "overflow") == 0 && strcmp(colon, "hidden") == 0)
			clipped = true;
	}
	if (zero_height && clipped)
		a->gone = true;
}

/* Ends the open link: its href counts when it showed some text. */
static void end_link(struct view *w)
{
	struct tpl_html_view *v = w->v;

	if (w->link < 0)
		return;
	if (v->text.len > w->link_text &&
	    !tpl_is_blank_n(v->text.data + w->link_text, v->text.len - w->link_text)) {
		tpl_buf_append(&v->links, w->href.data != NULL ? w->href.data : "", w->href.len);
		tpl_buf_appendc(&v->links, '\n');
	}
	w->link = -1;
}

/* Closes the open elements down to depth d (d itself included). */
static void pop_to(struct view *w, int d)
{
	if (w->link >= d)
		end_link(w);
	w->depth = d;
}

static void push(struct view *w, const char *name, const struct el_attrs *a)
{
	static const char *const closes_p[] = {
	    "p",  "div",	"table", "ul", "ol",	  "h1",	    "h2",     "h3",	"h4", "h5",
	    "h6", "blockquote", "pre",	 "hr", "section", "header", "footer", "center", NULL};
	static const char *const cells[] = {"td", "th", NULL};
	static const char *const siblings[] = {"li", "tr", "option", "a", NULL};
	const struct open_el *top = w->depth > 0 ? &w->el[w->depth - 1] : NULL;
	struct open_el *e;

	/* The end tags HTML lets a writer leave out, where the next element implies them. */
	if (top != NULL && ((strcmp(top->name, "p") == 0 && name_is(name, closes_p)) ||
			    (strcmp(top->name, name) == 0 && name_is(name, siblings)) ||
			    (name_is(top->name, cells) && name_is(name, cells))))
		pop_to(w, w->depth - 1);
	if (w->depth == VIEW_DEPTH || w->over > 0) {
		w->over++;
		return;
	}
	top = w->depth > 0 ? &w->el[w->depth - 1] : NULL;
	e = &w->el[w->depth];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->gone = a->gone || (top != NULL && top->gone);
	e->invisible = a->visibility >= 0 ? a->visibility == 0 : top != NULL && top->invisible;
	w->depth++;
}

/* An end tag: closes the innermost open element of that name, and what it holds. */
static void close_el(struct view *w, const char *name)
{
	int d;

	if (w->over > 0) {
		w->over--;
		return;
	}
	for (d = w->depth - 1; d >= 0; d--)
		if (strcmp(w->el[d].name, name) == 0) {
			pop_to(w, d);
			return;
		}
}

/* Reads a tag's name at html[*i] into name (lower-cased); advances *i past it. */
static void tag_name(const char *html, size_t len, size_t *i, char name[VIEW_NAME])
{
	size_t k = 0;

	while (*i < len && !is_ws(html[*i]) && html[*i] != '>' && html[*i] != '/') {
		if (k + 1 < VIEW_NAME)
			name[k++] = (char)tolower((unsigned char)html[*i]);
		(*i)++;
	}
	name[k] = '\0';
}

/*
 * Reads the attributes from html[*i] to the end of the tag (past '>'), noting
 * what hides the element and, for a link, its href. *self: it ended in "/>".
 */
static void tag_attrs(struct view *w, const char *html, size_t len, size_t *i, struct el_attrs *a,
		      bool *self)
{
	size_t j = *i, ns, nl, vs, vl;

	*self = false;
	while (j < len) {
		while (j < len && is_ws(html[j]))
			j++;
		if (j >= len || html[j] == '>') {
			j++;
			break;
		}
		if (html[j] == '/') {
			*self = j + 1 < len && html[j + 1] == '>';
			j++;
			continue;
		}
		ns = j;
		while (j < len && !is_ws(html[j]) && html[j] != '>' && html[j] != '/' &&
		       (html[j] != '=' || j == ns))
			j++;
		nl = j - ns;
		while (j < len && is_ws(html[j]))
			j++;
		vs = vl = 0;
		if (j < len && html[j] == '=') {
			char q;

			for (j++; j < len && is_ws(html[j]);)
				j++;
			q = j < len && (html[j] == '"' || html[j] == '\'') ? html[j++] : 0;
			vs = j;
			while (j < len && (q ? html[j] != q : !is_ws(html[j]) && html[j] != '>'))
				j++;
			vl = j - vs;
			if (q && j < len)
				j++;
		}
		if (nl == 5 && strncasecmp(html + ns, "style", 5) == 0)
			read_style(html + vs, vl, a);
		else if (nl == 6 && strncasecmp(html + ns, "hidden", 6) == 0)
			a->gone = true;
		else if (nl == 4 && strncasecmp(html + ns, "href", 4) == 0) {
			a->has_href = true;
			tpl_buf_reset(&w->href);
			tpl_buf_append(&w->href, html + vs, vl);
		}
	}
	*i = j;
}

/* Skips what a raw-text element (script, style, title...) holds, and its end tag. */
static size_t skip_raw(const char *html, size_t len, size_t i, const char *name)
{
	size_t n = strlen(name);

	for (; i + 2 + n <= len; i++)
		if (html[i] == '<' && html[i + 1] == '/' &&
		    strncasecmp(html + i + 2, name, n) == 0 &&
		    (i + 2 + n == len || !isalnum((unsigned char)html[i + 2 + n]))) {
			const char *gt = memchr(html + i, '>', len - i);

			return gt != NULL ? (size_t)(gt - html) + 1 : len;
		}
	return len;
}

/* A tag at html[i] == '<': returns where reading goes on. */
static size_t on_tag(struct view *w, const char *html, size_t len, size_t i)
{
	static const char *const empty[] = {"area",   "base",  "br",	 "col",	 "embed", "hr",
					    "img",    "input", "keygen", "link", "meta",  "param",
					    "source", "track", "wbr",	 NULL};
	static const char *const raw[] = {"head",     "script",	 "style",    "title",
					  "template", "noembed", "noframes", NULL};
	struct el_attrs a = {false, -1, false};
	char name[VIEW_NAME];
	const char *end;
	bool self;

	if (len - i >= 4 && strncmp(html + i, "<!--", 4) == 0) {
		if (len - i >= 5 && html[i + 4] == '>')
			return i + 5;
		if (len - i >= 6 && strncmp(html + i + 4, "->", 2) == 0)
			return i + 6;
		end = memmem(html + i + 4, len - i - 4, "-->", 3);
		return end != NULL ? (size_t)(end - html) + 3 : len;
	}
	if (html[i + 1] == '!' || html[i + 1] == '?' || html[i + 1] == '/') {
		/* An end tag; or a doctype, a processing instruction or a bogus comment. */
		bool closing =
		    html[i + 1] == '/' && i + 2 < len && isalpha((unsigned char)html[i + 2]);

		i += 2;
		if (closing) {
			tag_name(html, len, &i, name);
			close_el(w, name);
		}
		end = memchr(html + i, '>', len - i);
		return end != NULL ? (size_t)(end - html) + 1 : len;
	}
	i++;
	tag_name(html, len, &i, name);
	tag_attrs(w, html, len, &i, &a, &self);
	if (name_is(name, raw))
		return skip_raw(html, len, i, name);
	if (strcmp(name, "a") == 0 && w->link >= 0)
		end_link(w); /* links do not nest: the new one ends the last */
	if (name_is(name, empty) || self)
		return i;
	push(w, name, &a);
	if (strcmp(name, "a") == 0 && a.has_href && w->over == 0) {
		w->link = w->depth - 1;
		w->link_text = w->v->text.len;
	}
	return i;
}

enum tpl_status tpl_html_view(const char *html, size_t len, struct tpl_html_view *v)
{
	struct view *w = calloc(1, sizeof(*w));
	size_t i = 0, k, olen;
	char ent[8];
	enum tpl_status st = TPL_ENOMEM;

	memset(v, 0, sizeof(*v));
	if (w == NULL)
		return TPL_ENOMEM;
	w->v = v;
	w->link = -1;
	while (i < len) {
		if (html[i] == '<' && i + 1 < len &&
		    (isalpha((unsigned char)html[i + 1]) || strchr("!/?", html[i + 1]) != NULL)) {
			i = on_tag(w, html, len, i);
			continue;
		}
		k = html[i] == '&' ? tpl_html_entity(html + i + 1, len - i - 1, ent, &olen) : 0;
		if (k > 0) {
			if (shown(w))
				tpl_buf_append(&v->text, ent, olen);
			i += k + 1;
			continue;
		}
		if (shown(w))
			tpl_buf_appendc(&v->text, html[i]);
		i++;
	}
	pop_to(w, 0);
	if (!v->text.oom && !v->links.oom && !w->href.oom)
		st = TPL_OK;
	tpl_buf_free(&w->href);
	free(w);
	if (st != TPL_OK)
		tpl_html_view_free(v);
	return st;
}

void tpl_html_view_free(struct tpl_html_view *v)
{
	tpl_buf_free(&v->text);
	tpl_buf_free(&v->links);
}

bool tpl_html_view_shows(const struct tpl_html_view *v, const char *s)
{
	return v->text.len > 0 && memmem(v->text.data, v->text.len, s, strlen(s)) != NULL;
}

bool tpl_html_view_links_to(const struct tpl_html_view *v, const char *s)
{
	return v->links.len > 0 && memmem(v->links.data, v->links.len, s, strlen(s)) != NULL;
}
