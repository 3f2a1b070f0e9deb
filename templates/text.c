/*
 * text.c: the plain-text part, from a Markdown tree or from HTML.
 *
 * Both walk their input without recursion (cmark_iter, or a scan over the
 * HTML) and list links as numbered references at the end:
 *   Read more [1]
 *   …
 *   [1] https://example.com/
 */
#include <cmark.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "templates/private.h"

#define MAX_PREFIX 64

struct prefix {
	const char *first, *rest; /* written at the start of the first line, then later lines */
	char num[16];
	bool used;
};

struct emit {
	struct tpl_buf *out;
	struct tpl_buf refs; /* "url\0url\0…" */
	size_t nrefs;
	struct prefix pre[MAX_PREFIX];
	size_t npre;
	unsigned pending; /* line breaks owed before the next text */
	bool line_start;
	bool fresh_item; /* an item's marker is not written yet */
};

static void flush(struct emit *e)
{
	size_t i;

	if (e->out->len > 0 && e->pending > 0) {
		for (; e->pending > 0; e->pending--)
			tpl_buf_appendc(e->out, '\n');
		e->line_start = true;
	}
	e->pending = 0;
	if (!e->line_start)
		return;
	for (i = 0; i < e->npre; i++) {
		struct prefix *p = &e->pre[i];

		tpl_buf_appends(e->out, p->used ? p->rest : p->first);
		p->used = true;
	}
	e->line_start = false;
	e->fresh_item = false;
}

static void put(struct emit *e, const char *s, size_t n)
{
	const char *nl;

	while (n > 0) {
		flush(e);
		nl = memchr(s, '\n', n);
		if (nl == NULL) {
			tpl_buf_append(e->out, s, n);
			return;
		}
		tpl_buf_append(e->out, s, (size_t)(nl - s));
		tpl_buf_appendc(e->out, '\n');
		e->line_start = true;
		n -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
}

static void newline(struct emit *e)
{
	if (e->out->len == 0)
		return;
	tpl_buf_appendc(e->out, '\n');
	e->line_start = true;
}

static void request(struct emit *e, unsigned n)
{
	if (e->fresh_item || e->out->len == 0)
		return;
	/* at a line start the current line is already ended */
	if (e->line_start && n > 0)
		n--;
	if (n > e->pending)
		e->pending = n;
}

static void push(struct emit *e, const char *first, const char *rest)
{
	if (e->npre == MAX_PREFIX)
		return;
	e->pre[e->npre].first = first;
	e->pre[e->npre].rest = rest;
	e->pre[e->npre].used = false;
	e->npre++;
}

static void pop(struct emit *e)
{
	if (e->npre > 0)
		e->npre--;
}

/* Numbers url among the references, reusing an equal one. */
static size_t ref_number(struct emit *e, const char *url)
{
	size_t i, off = 0, n = strlen(url);

	for (i = 0; i < e->nrefs; i++) {
		const char *r = e->refs.data + off;

		if (strcmp(r, url) == 0)
			return i + 1;
		off += strlen(r) + 1;
	}
	tpl_buf_append(&e->refs, url, n + 1);
	return ++e->nrefs;
}

/* The schemes libcmark's safe mode blanks in HTML: leave them out of the
 * text part too. */
static bool unsafe_url(const char *url)
{
	static const char *const bad[] = {"javascript:", "vbscript:", "file:", "data:", NULL};
	size_t i;

	while (*url == ' ' || *url == '\t')
		url++;
	for (i = 0; bad[i] != NULL; i++) {
		if (strncasecmp(url, bad[i], strlen(bad[i])) == 0)
			return true;
	}
	return false;
}

static void end_link(struct emit *e, const char *url, size_t start)
{
	const char *text = e->out->data ? e->out->data + start : "";
	size_t tlen = e->out->len - start;

	if (url == NULL || url[0] == '\0' || unsafe_url(url))
		return;
	if ((strlen(url) == tlen && memcmp(url, text, tlen) == 0) ||
	    (strncmp(url, "mailto:", 7) == 0 && strlen(url + 7) == tlen &&
	     memcmp(url + 7, text, tlen) == 0))
		return;
	tpl_buf_appendf(e->out, " [%zu]", ref_number(e, url));
}

static void end_refs(struct emit *e)
{
	size_t i, off = 0;

	if (e->out->len > 0 && e->nrefs > 0)
		tpl_buf_appends(e->out, "\n\n");
	for (i = 0; i < e->nrefs; i++) {
		tpl_buf_appendf(e->out, "[%zu] %s\n", i + 1, e->refs.data + off);
		off += strlen(e->refs.data + off) + 1;
	}
	if (e->nrefs == 0 && e->out->len > 0 && e->out->data[e->out->len - 1] != '\n')
		tpl_buf_appendc(e->out, '\n');
	tpl_buf_free(&e->refs);
}

size_t tpl_text_width(const char *s, size_t n)
{
	size_t i = 0, w = 0, k;
	uint32_t cp;

	while (i < n) {
		k = tpl_utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (k == 0)
			k = 1, cp = '?';
		i += k;
		w += (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
			     (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
			     (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
			     (cp >= 0xffe0 && cp <= 0xffe6) || cp >= 0x20000
			 ? 2
			 : 1;
	}
	return w;
}

/*
 * A heading's underline: as a placeholder that rendering turns into one as
 * wide as the heading with its merged values; without placeholders, as wide
 * as the text from `start`.
 */
static void underline(struct emit *e, const char *prefix, size_t start, char c)
{
	/* An empty output has no buffer yet: nothing to measure. */
	size_t w =
	    e->out->data != NULL ? tpl_text_width(e->out->data + start, e->out->len - start) : 0;

	newline(e);
	flush(e);
	if (prefix != NULL) {
		tpl_buf_appendf(e->out, "%s%cz", prefix, c);
		return;
	}
	while (w-- > 0)
		tpl_buf_appendc(e->out, c);
}

static bool tight_item(cmark_node *n)
{
	cmark_node *p = cmark_node_parent(n);

	if (p == NULL || cmark_node_get_type(p) != CMARK_NODE_ITEM)
		return false;
	p = cmark_node_parent(p);
	return p != NULL && cmark_node_get_list_tight(p);
}

static void enter_item(struct emit *e, cmark_node *n)
{
	cmark_node *list = cmark_node_parent(n);
	struct prefix *p;
	int num = 1;
	cmark_node *s;

	request(e, 1);
	push(e, "- ", "  ");
	if (list == NULL || cmark_node_get_list_type(list) != CMARK_ORDERED_LIST || e->npre == 0) {
		e->fresh_item = true;
		return;
	}
	num = cmark_node_get_list_start(list);
	for (s = cmark_node_first_child(list); s != NULL && s != n; s = cmark_node_next(s))
		num++;
	p = &e->pre[e->npre - 1];
	snprintf(p->num, sizeof(p->num), "%d. ", num);
	p->first = p->num;
	p->rest = "   ";
	e->fresh_item = true;
}

enum tpl_status tpl_md_to_text(cmark_node *doc, const char *prefix, struct tpl_buf *out)
{
	struct emit *e = calloc(1, sizeof(*e));
	size_t link_start[MAX_PREFIX], nlinks = 0, head_start = 0;
	cmark_iter *it = NULL;
	cmark_event_type ev;
	enum tpl_status st = TPL_ENOMEM;

	if (e == NULL)
		goto done;
	e->out = out;
	e->line_start = true;
	it = cmark_iter_new(doc);
	if (it == NULL)
		goto done;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		const char *lit = cmark_node_get_literal(n);
		bool in = ev == CMARK_EVENT_ENTER;

		switch (cmark_node_get_type(n)) {
		case CMARK_NODE_BLOCK_QUOTE:
			if (in) {
				request(e, 2);
				push(e, "> ", "> ");
			} else {
				pop(e);
			}
			break;
		case CMARK_NODE_LIST:
			if (in)
				request(e, tight_item(n) ? 1 : 2);
			break;
		case CMARK_NODE_ITEM:
			if (in)
				enter_item(e, n);
			else
				pop(e);
			break;
		case CMARK_NODE_PARAGRAPH:
			if (in)
				request(e, tight_item(n) ? 1 : 2);
			break;
		case CMARK_NODE_HEADING:
			if (in) {
				request(e, 2);
				flush(e);
				head_start = out->len;
			} else if (cmark_node_get_heading_level(n) <= 2) {
				underline(e, prefix, head_start,
					  cmark_node_get_heading_level(n) == 1 ? '=' : '-');
			}
			break;
		case CMARK_NODE_CODE_BLOCK:
			request(e, 2);
			push(e, "    ", "    ");
			if (lit != NULL) {
				size_t l = strlen(lit);

				put(e, lit, l > 0 && lit[l - 1] == '\n' ? l - 1 : l);
			}
			pop(e);
			break;
		case CMARK_NODE_THEMATIC_BREAK:
			request(e, 2);
			put(e, "----------", 10);
			break;
		case CMARK_NODE_TEXT:
		case CMARK_NODE_CODE:
			if (lit != NULL)
				put(e, lit, strlen(lit));
			break;
		case CMARK_NODE_SOFTBREAK:
		case CMARK_NODE_LINEBREAK:
			newline(e);
			break;
		case CMARK_NODE_LINK:
			if (in && nlinks < MAX_PREFIX) {
				flush(e);
				link_start[nlinks++] = out->len;
			} else if (!in && nlinks > 0) {
				end_link(e, cmark_node_get_url(n), link_start[--nlinks]);
			}
			break;
		default: /* document, emphasis, images (their alt text shows), raw HTML */
			break;
		}
	}
	end_refs(e);
	st = out->oom ? TPL_ENOMEM : TPL_OK;
done:
	if (it != NULL)
		cmark_iter_free(it);
	if (e != NULL)
		tpl_buf_free(&e->refs);
	free(e);
	return st;
}

/* ---- HTML ---------------------------------------------------------------- */

struct h2t {
	struct emit e;
	bool space; /* a space is owed before the next word */
	char *href; /* the open link's, whole */
	bool in_a;
	bool pre;     /* inside <pre>: spaces and line ends are kept */
	int lists[8]; /* the open lists: an <ol>'s count so far, or -1 for a <ul> */
	size_t nlists;
	size_t a_start;
};

static void h2t_word(struct h2t *h, const char *s, size_t n)
{
	if (h->space && !h->e.line_start && h->e.pending == 0)
		put(&h->e, " ", 1);
	h->space = false;
	put(&h->e, s, n);
}

static void h2t_break(struct h2t *h, unsigned n)
{
	request(&h->e, n);
	h->space = false;
}

char *tpl_html_attr_dup(const char *tag, size_t n, const char *name)
{
	struct tpl_buf b = {0};
	size_t i, k = strlen(name), e, olen;
	char q, ent[8];

	for (i = 0; i + k + 1 < n; i++) {
		if (strncasecmp(tag + i, name, k) != 0 || tag[i + k] != '=' ||
		    (i > 0 && tag[i - 1] != ' ' && tag[i - 1] != '\t' && tag[i - 1] != '\n'))
			continue;
		i += k + 1;
		q = tag[i] == '"' || tag[i] == '\'' ? tag[i++] : 0;
		while (i < n && (q ? tag[i] != q : tag[i] != ' ' && tag[i] != '>')) {
			/* Character references, as a browser reads them in an attribute. */
			if (tag[i] == '&' &&
			    (e = tpl_html_attr_entity(tag + i + 1, n - i - 1, ent, &olen)) > 0) {
				tpl_buf_append(&b, ent, olen);
				i += e + 1;
				continue;
			}
			tpl_buf_appendc(&b, tag[i++]);
		}
		return tpl_buf_steal(&b);
	}
	return NULL;
}

bool tpl_html_attr(const char *tag, size_t n, const char *name, char *out, size_t outsz)
{
	char *v = tpl_html_attr_dup(tag, n, name);
	size_t k;

	out[0] = '\0';
	if (v == NULL)
		return false;
	/* Cut, when it must be, before a character, never inside one. */
	k = strlen(v);
	if (k >= outsz) {
		k = outsz - 1;
		while (k > 0 && ((unsigned char)v[k] & 0xc0) == 0x80)
			k--;
	}
	memcpy(out, v, k);
	out[k] = '\0';
	free(v);
	return true;
}

static bool tag_is(const char *name, size_t n, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strlen(*set) == n && strncasecmp(name, *set, n) == 0)
			return true;
	return false;
}

/* An <ol> (its start= too), <ul> or <pre> opened or closed; tag[0..tn) is the whole tag. */
static void h2t_block(struct h2t *h, const char *name, size_t n, bool close, const char *tag,
		      size_t tn)
{
	bool ol = n == 2 && strncasecmp(name, "ol", 2) == 0;
	char *start = ol && !close ? tpl_html_attr_dup(tag, tn, "start") : NULL;
	int first = start != NULL ? atoi(start) : 1;

	if (n == 3 && strncasecmp(name, "pre", 3) == 0)
		h->pre = !close;
	else if (!ol && !(n == 2 && strncasecmp(name, "ul", 2) == 0))
		return;
	else if (close && h->nlists > 0)
		h->nlists--;
	else if (!close && h->nlists < sizeof(h->lists) / sizeof(h->lists[0]))
		h->lists[h->nlists++] = ol ? (first > 0 && first < 1000000 ? first - 1 : 0) : -1;
	free(start);
}

/* An <li>: numbered in an <ol>, marked with "- " elsewhere. */
static void h2t_item(struct h2t *h)
{
	char mark[16];
	int *n = h->nlists > 0 ? &h->lists[h->nlists - 1] : NULL;

	if (n != NULL && *n >= 0)
		snprintf(mark, sizeof(mark), "%d. ", ++*n);
	else
		snprintf(mark, sizeof(mark), "- ");
	h2t_word(h, mark, strlen(mark));
}

/* Handles the tag html[i..j) (without < and >). */
static void h2t_tag(struct h2t *h, const char *t, size_t n)
{
	static const char *const para[] = {"p",	 "div",	       "h1", "h2",    "h3",
					   "h4", "h5",	       "h6", "table", "ul",
					   "ol", "blockquote", "hr", "pre",   NULL};
	static const char *const line[] = {"br", "tr", "li", NULL};
	bool close = n > 0 && t[0] == '/';
	size_t k = close ? 1 : 0, s = k;
	char *alt;

	while (k < n && t[k] != ' ' && t[k] != '\t' && t[k] != '\n' && t[k] != '/')
		k++;
	if (tag_is(t + s, k - s, para)) {
		h2t_break(h, 2);
		h2t_block(h, t + s, k - s, close, t, n);
	} else if (tag_is(t + s, k - s, line)) {
		h2t_break(h, 1);
		if (!close && k - s == 2 && strncasecmp(t + s, "li", 2) == 0)
			h2t_item(h);
	} else if (k - s == 1 && (t[s] == 'a' || t[s] == 'A')) {
		if (!close) {
			free(h->href);
			h->href = tpl_html_attr_dup(t, n, "href");
			flush(&h->e);
			h->in_a = true;
			h->a_start = h->e.out->len;
		} else if (h->in_a) {
			h->in_a = false;
			end_link(&h->e, h->href != NULL ? h->href : "", h->a_start);
		}
	} else if (!close && k - s == 3 && strncasecmp(t + s, "img", 3) == 0) {
		alt = tpl_html_attr_dup(t, n, "alt");
		if (alt != NULL && alt[0] != '\0')
			h2t_word(h, alt, strlen(alt));
		free(alt);
	} else if (k - s == 2 &&
		   (strncasecmp(t + s, "td", 2) == 0 || strncasecmp(t + s, "th", 2) == 0)) {
		h->space = true;
	}
}

/* Skips past the end of an element whose content is not text. */
static size_t skip_to(const char *html, size_t len, size_t i, const char *end)
{
	const char *p = NULL;
	size_t k = strlen(end);

	for (; i + k <= len; i++) {
		if (strncasecmp(html + i, end, k) == 0) {
			p = html + i;
			break;
		}
	}
	return p == NULL ? len : (size_t)(p - html) + k;
}

enum tpl_status tpl_html_to_text(const char *html, size_t len, struct tpl_buf *out)
{
	struct h2t *h = calloc(1, sizeof(*h));
	enum tpl_status st = TPL_ENOMEM;
	size_t i = 0, j, k, olen;
	char ent[8];

	if (h == NULL)
		goto done;
	h->e.out = out;
	h->e.line_start = true;
	while (i < len) {
		char c = html[i];

		if (c == '<') {
			if (len - i >= 4 && strncmp(html + i, "<!--", 4) == 0) {
				i = skip_to(html, len, i + 4, "-->");
				continue;
			}
			for (j = i + 1; j < len && html[j] != '>';)
				j++;
			if (len - i > 7 && (strncasecmp(html + i, "<style", 6) == 0 ||
					    strncasecmp(html + i, "<head", 5) == 0 ||
					    strncasecmp(html + i, "<script", 7) == 0)) {
				i = skip_to(html, len, j,
					    (html[i + 2] | 0x20) == 't'	  ? "</style>"
					    : (html[i + 2] | 0x20) == 'c' ? "</script>"
									  : "</head>");
				continue;
			}
			h2t_tag(h, html + i + 1, j - i - 1);
			i = j < len ? j + 1 : len;
		} else if (h->pre && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
			/* As written; HTML drops a line end right after <pre>. */
			if (c != '\r' && !(c == '\n' && i > 0 && html[i - 1] == '>'))
				put(&h->e, c == '\t' ? "\t" : c == '\n' ? "\n" : " ", 1);
			h->space = false;
			i++;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			h->space = true;
			i++;
		} else if (c == '&' &&
			   (k = tpl_html_entity(html + i + 1, len - i - 1, ent, &olen)) > 0) {
			h2t_word(h, ent, olen);
			i += k + 1;
		} else {
			for (j = i; j < len && html[j] != '<' && html[j] != '&' && html[j] != ' ' &&
				    html[j] != '\t' && html[j] != '\n' && html[j] != '\r';
			     j++)
				;
			if (j == i)
				j++;
			h2t_word(h, html + i, j - i);
			i = j;
		}
	}
	end_refs(&h->e);
	st = out->oom ? TPL_ENOMEM : TPL_OK;
done:
	if (h != NULL) {
		tpl_buf_free(&h->e.refs);
		free(h->href);
	}
	free(h);
	return st;
}
