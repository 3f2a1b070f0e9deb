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
	bool gone;	   /* display:none or the like, here or above: nothing inside shows */
	bool invisible;	   /* visibility:hidden in effect (a child may make itself visible) */
	bool tiny;	   /* a font size of zero in effect (a child may set a size of its own) */
	bool shut;	   /* a <details> without "open": only its <summary> shows */
	bool unreadable;   /* its text in about the colour of the background under it */
	char fg[8], bg[8]; /* those colours, "#rrggbb" or "?" (tpl_css_show) */
};

struct view {
	struct tpl_html_view *v;
	struct open_el el[VIEW_DEPTH];
	int depth;
	int over;	     /* elements opened past VIEW_DEPTH: what is in them counts as hidden */
	int link;	     /* the depth of the open <a href>, or -1 */
	size_t link_text;    /* where its visible text starts in v->text */
	struct tpl_buf href; /* its href */
	struct tpl_buf id, cls;	    /* the id and class of the tag being read */
	struct tpl_buf style;	    /* its style, references decoded */
	struct tpl_css_sheet sheet; /* the rules of the <style> elements */
	bool sheets;		    /* reading the <style> elements only, before the rest */
	bool oom;
};

/* What an element's own attributes, and the rules that match it, say. */
struct el_attrs {
	struct tpl_css_show css;
	bool has_href;
	bool open;		   /* <details open> */
	char color[8], bgcolor[8]; /* <font color>, bgcolor: under any CSS */
};

static bool shown(const struct view *w)
{
	const struct open_el *top = w->depth > 0 ? &w->el[w->depth - 1] : NULL;

	return w->over == 0 && (top == NULL || (!top->gone && !top->invisible && !top->tiny &&
						!top->shut && !top->unreadable));
}

/*
 * Elements whose text a reader does not see as text: a frame's or an
 * object's fallback, a drawing's or a formula's inner names, media, a list
 * to pick from.
 */
static const char *const unseen[] = {"iframe", "object", "svg",	   "math",     "audio",
				     "video",  "canvas", "select", "datalist", NULL};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
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

/* An element's colour: its CSS's, else its attribute's, else its parent's. */
static void paint(char out[8], const char *css, const char *attr, const char *parent)
{
	snprintf(out, 8, "%s", css[0] != '\0' ? css : attr[0] != '\0' ? attr : parent);
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
	if (top != NULL && ((strcmp(top->name, "p") == 0 && tpl_name_in(name, closes_p)) ||
			    (strcmp(top->name, name) == 0 && tpl_name_in(name, siblings)) ||
			    (tpl_name_in(top->name, cells) && tpl_name_in(name, cells))))
		pop_to(w, w->depth - 1);
	if (w->depth == VIEW_DEPTH || w->over > 0) {
		w->over++;
		return;
	}
	top = w->depth > 0 ? &w->el[w->depth - 1] : NULL;
	e = &w->el[w->depth];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->gone = a->css.gone || tpl_name_in(name, unseen) || (top != NULL && top->gone) ||
		  (top != NULL && top->shut && strcmp(name, "summary") != 0);
	e->shut = strcmp(name, "details") == 0 && !a->open;
	e->invisible =
	    a->css.visibility >= 0 ? a->css.visibility == 0 : top != NULL && top->invisible;
	e->tiny = a->css.font >= 0 ? a->css.font == 0 : top != NULL && top->tiny;
	/* Text is black and the page white, as in most mail clients, until they are set. */
	paint(e->fg, a->css.fg, strcmp(name, "font") == 0 ? a->color : "",
	      top != NULL ? top->fg : "#000000");
	paint(e->bg, a->css.bg, a->bgcolor, top != NULL ? top->bg : "#ffffff");
	e->unreadable = tpl_css_unreadable(e->fg, e->bg);
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

/* A bgcolor or color attribute's value, as CSS reads colours ("fff" taken as "#fff"). */
static void legacy_colour(const char *val, size_t vl, char out[8])
{
	char v[32];
	size_t i, k = 0;

	for (i = 0; i < vl && k + 2 < sizeof(v); i++)
		if (!is_ws(val[i]))
			v[k++] = (char)tolower((unsigned char)val[i]);
	v[k] = '\0';
	if ((k == 3 || k == 6) && strspn(v, "0123456789abcdef") == k) {
		memmove(v + 1, v, k + 1);
		v[0] = '#';
	}
	tpl_css_paint(v, false, out);
}

/* Appends the attribute value s[0..n), or the text, to out, its character references
 * decoded. */
static void decode(const char *s, size_t n, bool attr, struct tpl_buf *out)
{
	size_t i = 0, k, olen;
	char ent[8];

	while (i < n) {
		k = 0;
		if (s[i] == '&')
			k = attr ? tpl_html_attr_entity(s + i + 1, n - i - 1, ent, &olen)
				 : tpl_html_entity(s + i + 1, n - i - 1, ent, &olen);
		if (k > 0) {
			tpl_buf_append(out, ent, olen);
			i += k + 1;
		} else {
			tpl_buf_appendc(out, s[i]);
			i++;
		}
	}
}

/* An attribute's value: what it says about showing the element, its href, id and class
 * (not read in the first reading, of the style sheets). */
static void attr(struct view *w, const char *name, size_t nl, const char *val, size_t vl,
		 struct el_attrs *a)
{
	if (w->sheets)
		return;
	if (nl == 5 && strncasecmp(name, "style", 5) == 0) {
		tpl_buf_reset(&w->style);
		decode(val, vl, true, &w->style);
		if (!tpl_css_declarations(w->style.data, w->style.len, &a->css))
			w->oom = true;
	} else if ((nl == 7 && strncasecmp(name, "bgcolor", 7) == 0) ||
		   (nl == 5 && strncasecmp(name, "color", 5) == 0)) {
		if (nl == 5 || a->bgcolor[0] != '?')
			legacy_colour(val, vl, nl == 7 ? a->bgcolor : a->color);
	} else if (nl == 10 && strncasecmp(name, "background", 10) == 0) {
		snprintf(a->bgcolor, sizeof(a->bgcolor), "?"); /* an image, over any bgcolor */
	} else if (nl == 6 && strncasecmp(name, "hidden", 6) == 0) {
		a->css.gone = true;
	} else if (nl == 4 && strncasecmp(name, "open", 4) == 0) {
		a->open = true;
	} else if (nl == 4 && strncasecmp(name, "href", 4) == 0) {
		a->has_href = true;
		tpl_buf_reset(&w->href);
		decode(val, vl, true, &w->href);
	} else if (nl == 5 && strncasecmp(name, "class", 5) == 0) {
		/* Twice: both count, which only widens the rules that match. */
		tpl_buf_appendc(&w->cls, ' ');
		decode(val, vl, true, &w->cls);
	} else if (nl == 2 && strncasecmp(name, "id", 2) == 0 && w->id.len == 0) {
		decode(val, vl, true, &w->id);
	}
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
	tpl_buf_reset(&w->id);
	tpl_buf_reset(&w->cls);
	while (j < len) {
		while (j < len && is_ws(html[j]))
			j++;
		if (j >= len) /* a tag the input ends in: nothing after it */
			break;
		if (html[j] == '>') {
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
		attr(w, html + ns, nl, html + vs, vl, a);
	}
	if (w->href.oom || w->id.oom || w->cls.oom || w->style.oom)
		w->oom = true; /* the next tag resets them */
	*i = j;
}

static const char *const raw[] = {"head",     "script",	 "style",    "title",
				  "template", "noembed", "noframes", NULL};

/* Skips what a raw-text element (script, style, title...) holds, and its end tag;
 * *body: where what it holds ends. */
static size_t skip_raw(const char *html, size_t len, size_t i, const char *name, size_t *body)
{
	size_t n = strlen(name);

	for (; i + 2 + n <= len; i++)
		if (html[i] == '<' && html[i + 1] == '/' &&
		    strncasecmp(html + i + 2, name, n) == 0 &&
		    (i + 2 + n == len || !isalnum((unsigned char)html[i + 2 + n]))) {
			const char *gt = memchr(html + i, '>', len - i);

			*body = i;
			return gt != NULL ? (size_t)(gt - html) + 1 : len;
		}
	*body = len;
	return len;
}

/*
 * A start tag in the first reading, of the style sheets alone: a <style>
 * element's rules go into the sheet, wherever it is; <head> is read through,
 * and the other raw-text elements are skipped. Returns where reading goes on.
 */
static size_t sheet_tag(struct view *w, const char *html, size_t len, size_t i, const char *name)
{
	size_t end, body;

	if (strcmp(name, "head") == 0 || !tpl_name_in(name, raw))
		return i;
	end = skip_raw(html, len, i, name, &body);
	if (strcmp(name, "style") == 0)
		tpl_css_sheet_add(&w->sheet, html + i, body - i);
	return end;
}

/* A tag at html[i] == '<': returns where reading goes on. */
static size_t on_tag(struct view *w, const char *html, size_t len, size_t i)
{
	static const char *const empty[] = {"area",   "base",  "br",	 "col",	 "embed", "hr",
					    "img",    "input", "keygen", "link", "meta",  "param",
					    "source", "track", "wbr",	 NULL};
	struct el_attrs a = {.css = {.visibility = -1, .font = -1}};
	struct tpl_css_el el;
	char name[VIEW_NAME];
	const char *end;
	size_t body;
	bool self;

	if (w->sheets && len - i >= 7 && strncasecmp(html + i, "<!--[if", 7) == 0) {
		/* Outlook reads a <style> in <!--[if mso]>...<![endif]-->: so does this. */
		end = memchr(html + i, '>', len - i);
		return end != NULL ? (size_t)(end - html) + 1 : len;
	}
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
	if (w->sheets)
		return sheet_tag(w, html, len, i, name);
	if (tpl_name_in(name, raw))
		return skip_raw(html, len, i, name, &body);
	if (strcmp(name, "a") == 0 && w->link >= 0)
		end_link(w); /* links do not nest: the new one ends the last */
	if (tpl_name_in(name, empty) || self)
		return i;
	el = (struct tpl_css_el){.tag = name,
				 .id = w->id.data,
				 .nid = w->id.len,
				 .cls = w->cls.data,
				 .ncls = w->cls.len};
	tpl_css_sheet_apply(&w->sheet, &el, &a.css);
	push(w, name, &a);
	if (strcmp(name, "a") == 0 && a.has_href && w->over == 0) {
		w->link = w->depth - 1;
		w->link_text = w->v->text.len;
	}
	return i;
}

static bool tag_at(const char *html, size_t len, size_t i)
{
	return html[i] == '<' && i + 1 < len &&
	       (isalpha((unsigned char)html[i + 1]) || strchr("!/?", html[i + 1]) != NULL);
}

/* Reads html through: the style sheets alone (w->sheets), or what it shows. */
static void walk(struct view *w, const char *html, size_t len)
{
	size_t i = 0, j;

	while (i < len) {
		if (tag_at(html, len, i)) {
			i = on_tag(w, html, len, i);
			continue;
		}
		for (j = i + 1; j < len && !tag_at(html, len, j);)
			j++;
		if (!w->sheets && shown(w))
			decode(html + i, j - i, false, &w->v->text);
		i = j;
	}
	pop_to(w, 0);
}

/*
 * Reads html twice: first its <style> elements, whose rules apply wherever
 * they are, then what it shows.
 */
enum tpl_status tpl_html_view(const char *html, size_t len, struct tpl_html_view *v)
{
	struct view *w = calloc(1, sizeof(*w));
	enum tpl_status st = TPL_ENOMEM;

	memset(v, 0, sizeof(*v));
	if (w == NULL)
		return TPL_ENOMEM;
	w->v = v;
	w->link = -1;
	w->sheets = true;
	walk(w, html, len);
	w->sheets = false;
	walk(w, html, len);
	if (!v->text.oom && !v->links.oom && !w->sheet.oom && !w->oom)
		st = TPL_OK;
	tpl_buf_free(&w->href);
	tpl_buf_free(&w->id);
	tpl_buf_free(&w->cls);
	tpl_buf_free(&w->style);
	tpl_css_sheet_free(&w->sheet);
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
