/*
 * check.c: the pre-send checks. Each finding names a place: a line and
 * column in the body or text source, or "subject", "layout", "sender",
 * "from". Checks that need the finished HTML render it once with the sample
 * subscriber (or with placeholder values) and the sender's details.
 */
#include <cmark.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "templates/private.h"

#define GMAIL_CLIP (102u * 1024u)
#define SUBJECT_MAX 150u

struct tpl_findings {
	struct tpl_finding *v;
	size_t n, cap;
};

void tpl_check_add(struct tpl_findings *f, enum tpl_severity sev, const char *code,
		   const char *where, unsigned line, unsigned col, const char *fmt, ...)
{
	struct tpl_buf m = {0};
	struct tpl_finding *v;
	va_list ap;

	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 8;

		v = realloc(f->v, ncap * sizeof(*v));
		if (v == NULL)
			return;
		f->v = v;
		f->cap = ncap;
	}
	va_start(ap, fmt);
	tpl_buf_vappendf(&m, fmt, ap);
	va_end(ap);
	v = &f->v[f->n];
	v->message = tpl_buf_steal(&m);
	if (v->message == NULL)
		return;
	v->severity = sev;
	v->code = code;
	v->where = where;
	v->line = line;
	v->col = col;
	f->n++;
}

enum tpl_status tpl_findings_add(struct tpl_findings *f, enum tpl_severity sev, const char *code,
				 const char *where, const char *message)
{
	size_t n = f->n;

	tpl_check_add(f, sev, code, where, 0, 0, "%s", message != NULL ? message : code);
	return f->n > n ? TPL_OK : TPL_ENOMEM;
}

size_t tpl_findings_count(const struct tpl_findings *f)
{
	return f != NULL ? f->n : 0;
}

const struct tpl_finding *tpl_findings_get(const struct tpl_findings *f, size_t i)
{
	return f != NULL && i < f->n ? &f->v[i] : NULL;
}

size_t tpl_findings_count_severity(const struct tpl_findings *f, enum tpl_severity s)
{
	size_t i, n = 0;

	for (i = 0; f != NULL && i < f->n; i++)
		n += f->v[i].severity == s;
	return n;
}

void tpl_findings_free(struct tpl_findings **f)
{
	size_t i;

	if (f == NULL || *f == NULL)
		return;
	for (i = 0; i < (*f)->n; i++)
		free((char *)(*f)->v[i].message);
	free((*f)->v);
	free(*f);
	*f = NULL;
}

/* ---- Helpers ------------------------------------------------------------- */

/* Reads "LINE:COL: " at the start of an error string. */
static void err_pos(const char *e, unsigned *line, unsigned *col)
{
	char *end;
	unsigned long l, c;

	*line = *col = 0;
	if (e == NULL)
		return;
	l = strtoul(e, &end, 10);
	if (end == e || *end != ':')
		return;
	e = end + 1;
	c = strtoul(e, &end, 10);
	if (end == e || *end != ':')
		return;
	*line = (unsigned)l;
	*col = (unsigned)c;
}

static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

struct look {
	const struct tpl_check_input *in;
};

static const char *check_lookup(const char *name, void *arg)
{
	const struct tpl_check_input *in = ((struct look *)arg)->in;
	const char *v = NULL;

	if (strcmp(name, "sender.name") == 0)
		return in->sender_name;
	if (strcmp(name, "sender.postal_address") == 0)
		return in->sender_postal_address;
	if (strcmp(name, "sender.contact") == 0)
		return in->sender_contact;
	if (in->sample != NULL)
		v = in->sample(name, in->sample_arg);
	if (v == NULL && strcmp(name, "unsubscribe_url") == 0)
		v = "https://unsubscribe.invalid/u/"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	return v;
}

/*
 * The tags the law wants displayed, each rendered as a mark of its own to
 * find where a reader sees it: the sender's name, postal address and
 * contact, and the opt-out link.
 */
enum { MARK_NAME, MARK_POSTAL, MARK_CONTACT, MARK_UNSUB, NMARKS };
static const struct {
	const char *tag, *mark;
} marks[NMARKS] = {{"sender.name", "hato-shown-mark-0"},
		   {"sender.postal_address", "hato-shown-mark-1"},
		   {"sender.contact", "hato-shown-mark-2"},
		   {"unsubscribe_url", "https://unsubscribe.invalid/hato-shown-mark-3"}};

static const char *mark_lookup(const char *name, void *arg)
{
	size_t i;

	for (i = 0; i < NMARKS; i++)
		if (strcmp(name, marks[i].tag) == 0)
			return marks[i].mark;
	return check_lookup(name, arg);
}

/* The HTML part as a reader sees it, rendered with the marks; false when it can't be. */
static bool shown_view(const struct tpl *html, struct look *lk, struct tpl_html_view *v)
{
	struct tpl_buf r = {0};
	bool ok = tpl_render(html, TPL_MODE_HTML, mark_lookup, lk, &r) == TPL_OK &&
		  tpl_html_view(r.data != NULL ? r.data : "", r.len, v) == TPL_OK;

	tpl_buf_free(&r);
	return ok;
}

/* Where a part has a tag: nowhere, only inside sections (some messages), or in every message. */
enum placing { NOWHERE, IN_SOME, IN_EVERY };

static enum placing placing(const struct tpl *t, const char *name)
{
	enum placing p = NOWHERE;
	struct tpl_tag g;
	size_t i;

	for (i = 0; tpl_tag_get(t, i, &g); i++) {
		if (strcmp(g.name, name) != 0 || g.kind == TPL_TAG_INVERTED)
			continue;
		if (g.depth == 0 && g.kind != TPL_TAG_SECTION)
			return IN_EVERY;
		p = IN_SOME;
	}
	return p;
}

/* The error for a tag the law wants in every message that a part has only in sections. */
static void in_sections(struct tpl_findings *f, const char *code, const char *where,
			const char *part, const char *what, const char *tag)
{
	tpl_check_add(
	    f, TPL_SEV_ERROR, code, where, 0, 0,
	    "the %s part has %s ({{%s}}) only inside sections ({{#…}} or {{^…}}), which leave "
	    "it out of some messages; the Act on Specified Electronic Mail requires it in every "
	    "message",
	    part, what, tag);
}

/* Flags unknown tags, and with a sample, tags that render nothing. */
static void check_tags(struct tpl_findings *f, const struct tpl *t, const char *where,
		       const struct tpl_check_input *in)
{
	struct look lk = {in};
	struct tpl_tag g;
	const char *v;
	size_t i;

	for (i = 0; tpl_tag_get(t, i, &g); i++) {
		if (!tpl_name_known(g.name, in->known, in->nknown)) {
			tpl_check_add(
			    f, TPL_SEV_ERROR, "unknown-tag", where, g.line, g.col,
			    "{{%s}} is not a known merge tag; it would be empty in every message",
			    g.name);
			continue;
		}
		if (in->sample == NULL || g.fallback != NULL ||
		    (g.kind != TPL_TAG_VAR && g.kind != TPL_TAG_RAW))
			continue;
		v = check_lookup(g.name, &lk);
		if (v == NULL || v[0] == '\0')
			tpl_check_add(
			    f, TPL_SEV_WARNING, "unresolved-tag", where, g.line, g.col,
			    "{{%s}} is empty for the sample subscriber and has no fallback; "
			    "write {{%s|…}} to give one",
			    g.name, g.name);
	}
}

static void check_http(struct tpl_findings *f, const char *src, size_t len, const char *where)
{
	size_t i, n = 0;
	unsigned line, col;

	for (i = 0; i + 7 <= len && n < MAX_PER_KIND; i++) {
		if (strncasecmp(src + i, "http://", 7) != 0)
			continue;
		tpl_linecol(src, len, i, &line, &col);
		tpl_check_add(f, TPL_SEV_WARNING, "http-link", where, line, col,
			      "a link uses http://; use https:// so that the link is encrypted and "
			      "not flagged");
		n++;
	}
}

/* ---- Links and images in the rendered HTML -------------------------------- */

/* The host of an http(s) URL, lowercased, without "www.". */
static bool url_host(const char *url, char *out, size_t outsz)
{
	const char *p = strstr(url, "://");
	size_t j = 0;

	if (p == NULL || (strncasecmp(url, "http", 4) != 0))
		return false;
	p += 3;
	if (strncasecmp(p, "www.", 4) == 0)
		p += 4;
	while (*p != '\0' && strchr("/:?#", *p) == NULL && j + 1 < outsz)
		out[j++] = (char)tolower((unsigned char)*p++);
	out[j] = '\0';
	return j > 0;
}

/* A domain-looking word in visible text ("example.com", "https://x.jp/"). */
static bool text_host(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i = 0, j, k, dot, last;

	while (i < n) {
		while (i < n && !isalnum((unsigned char)s[i]))
			i++;
		for (j = i, dot = 0, last = i;
		     j < n && (isalnum((unsigned char)s[j]) || s[j] == '.' || s[j] == '-'); j++) {
			if (s[j] == '.' && j + 1 < n && isalnum((unsigned char)s[j + 1])) {
				dot++;
				last = j + 1;
			}
		}
		if (j < n && (s[j] == ':' || s[j] == '@')) { /* a scheme or a mailbox */
			i = j + 1;
			continue;
		}
		if (dot > 0 && j - last >= 2) {
			for (k = last; k < j && isalpha((unsigned char)s[k]); k++)
				;
			if (k == j || (k < j && s[k] == '.')) {
				if (strncasecmp(s + i, "www.", 4) == 0)
					i += 4;
				for (k = 0; i < j && k + 1 < outsz; i++)
					out[k++] = (char)tolower((unsigned char)s[i]);
				while (k > 0 && out[k - 1] == '.')
					k--;
				out[k] = '\0';
				return true;
			}
		}
		i = j + 1;
	}
	return false;
}

/* Same site: equal, or one a subdomain of the other. */
static bool same_site(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la < lb)
		return same_site(b, a);
	return strcmp(a, b) == 0 ||
	       (la > lb && a[la - lb - 1] == '.' && strcmp(a + la - lb, b) == 0);
}

/*
 * The URLs met so far in the rendered HTML (links' href and images' src, in
 * order) and how often each: the nth use of a URL is placed at its nth use
 * in the source, not always at the first.
 */
#define MAX_URLS 64
struct urls_seen {
	char *url[MAX_URLS];
	unsigned count[MAX_URLS];
	size_t n;
};

/* Counts one more use of url; returns how many came before (0 once the table is full). */
static unsigned url_seen(struct urls_seen *u, const char *url)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (strcmp(u->url[i], url) == 0)
			return u->count[i]++;
	if (u->n < MAX_URLS && (u->url[u->n] = strdup(url)) != NULL)
		u->count[u->n++] = 1;
	return 0;
}

static void urls_seen_clear(struct urls_seen *u)
{
	while (u->n > 0)
		free(u->url[--u->n]);
}

/*
 * Places the nth (from 0) use of url in the source: where it stands as a
 * link or image target, after "(", "<", a quote or "=" (not as the visible
 * text of a link); the last such use when there are fewer, else 0:0.
 */
static void src_pos(const char *src, size_t len, const char *url, unsigned nth, unsigned *line,
		    unsigned *col)
{
	const char *p = src, *at = NULL, *hit;
	size_t n = strlen(url);

	*line = *col = 0;
	while (n > 0 && (hit = memmem(p, len - (size_t)(p - src), url, n)) != NULL) {
		if (hit == src || strchr("(<\"'=", hit[-1]) != NULL) {
			at = hit;
			if (nth-- == 0)
				break;
		}
		p = hit + 1;
	}
	if (at != NULL)
		tpl_linecol(src, len, (size_t)(at - src), line, col);
}

static void check_anchor(struct tpl_findings *f, const struct tpl_check_input *in, const char *html,
			 size_t len, size_t i, size_t tag_end, struct urls_seen *seen)
{
	char href[2048], th[256], uh[256];
	struct tpl_buf vis = {0};
	const char *close;
	size_t j;
	unsigned line, col, nth;
	bool intag = false;

	tpl_html_attr(html + i + 1, tag_end - i - 1, "href", href, sizeof(href));
	nth = url_seen(seen, href);
	close = memmem(html + tag_end, len - tag_end, "</a", 3);
	for (j = tag_end + 1; j < (close ? (size_t)(close - html) : len); j++) {
		if (html[j] == '<' || html[j] == '>')
			intag = html[j] == '<';
		else if (!intag)
			tpl_buf_appendc(&vis, html[j]);
	}
	if (vis.len > 0 && url_host(href, uh, sizeof(uh)) &&
	    text_host(vis.data, vis.len, th, sizeof(th)) && !same_site(th, uh)) {
		src_pos(in->src, in->src_len, href, nth, &line, &col);
		tpl_check_add(
		    f, TPL_SEV_WARNING, "link-mismatch", "body", line, col,
		    "a link shows \"%s\" but goes to \"%s\"; filters and readers take that "
		    "for phishing",
		    th, uh);
	}
	tpl_buf_free(&vis);
}

static void check_html(struct tpl_findings *f, const struct tpl_check_input *in, const char *html,
		       size_t len)
{
	struct urls_seen seen = {0};
	size_t i, e, nimg = 0;
	unsigned line, col, nth;
	char alt[8], src[1024];

	for (i = 0; i + 4 < len; i++) {
		if (html[i] != '<')
			continue;
		for (e = i; e < len && html[e] != '>'; e++)
			;
		if (e == len)
			break;
		if ((html[i + 1] | 0x20) == 'a' && (html[i + 2] == ' ' || html[i + 2] == '\n'))
			check_anchor(f, in, html, len, i, e, &seen);
		if (strncasecmp(html + i, "<img", 4) != 0) {
			i = e;
			continue;
		}
		tpl_html_attr(html + i + 1, e - i - 1, "src", src, sizeof(src));
		nth = url_seen(&seen, src);
		if (nimg < MAX_PER_KIND &&
		    (!tpl_html_attr(html + i + 1, e - i - 1, "alt", alt, sizeof(alt)) ||
		     alt[0] == '\0')) {
			src_pos(in->src, in->src_len, src, nth, &line, &col);
			tpl_check_add(
			    f, TPL_SEV_WARNING, "img-no-alt", "body", line, col,
			    "an image (%s) has no alt text; many readers block images at first",
			    src[0] ? src : "no src");
			nimg++;
		}
		i = e;
	}
	urls_seen_clear(&seen);
}

/* ---- The checks ------------------------------------------------------------ */

/*
 * A subscriber who has none of the fields a template may ask for: the
 * sender's identity and the addresses are always there, nothing else is.
 */
static const char *bare_lookup(const char *name, void *arg)
{
	if (strncmp(name, "sender.", 7) == 0)
		return check_lookup(name, arg);
	if (strcmp(name, "email") == 0 || strcmp(name, "unsubscribe_url") == 0)
		return "x";
	return NULL;
}

/* Would the subject t be blank for a subscriber without the fields it asks for? */
static bool blank_for_some(const struct tpl *t, const struct tpl_check_input *in)
{
	struct look lk = {in};
	struct tpl_buf r = {0};
	bool blank = tpl_render(t, TPL_MODE_TEXT, bare_lookup, &lk, &r) == TPL_OK &&
		     tpl_is_blank_n(r.data != NULL ? r.data : "", r.len);

	tpl_buf_free(&r);
	return blank;
}

static void check_subject(struct tpl_findings *f, const struct tpl_check_input *in)
{
	const char *s = in->subject != NULL ? in->subject : "";
	struct tpl *t = NULL;
	char *err = NULL;
	size_t n = chars(s);
	bool blank = tpl_is_blank(s);

	if (blank)
		tpl_check_add(f, TPL_SEV_ERROR, "subject-empty", "subject", 0, 0,
			      "the subject is empty, or only spaces and invisible characters");
	else if (n > SUBJECT_MAX)
		tpl_check_add(f, TPL_SEV_WARNING, "subject-long", "subject", 0, 0,
			      "the subject is %zu characters; over %u, mail readers cut it off", n,
			      SUBJECT_MAX);
	if (tpl_compile(s, strlen(s), &t, &err) != TPL_OK) {
		unsigned line, col;

		err_pos(err, &line, &col);
		tpl_check_add(f, TPL_SEV_ERROR, "syntax", "subject", line, col, "%s",
			      err ? err : "bad tag");
	} else {
		check_tags(f, t, "subject", in);
		if (!blank && blank_for_some(t, in))
			tpl_check_add(
			    f, TPL_SEV_ERROR, "subject-empty", "subject", 0, 0,
			    "the subject is empty for a subscriber without the fields it shows; "
			    "give them a fallback ({{name|…}}) or write text beside them");
	}
	if (in->iso2022jp)
		tpl_check_jis(f, s, strlen(s), "subject", true);
	tpl_free(&t);
	free(err);
}

/*
 * The sender identity the law requires in every message: in each part, as a
 * reader may see only one. A part that lacks a tag is named once: the whole
 * message when the HTML part lacks it, else the text part.
 */
static void check_sender(struct tpl_findings *f, const struct tpl_check_input *in,
			 const struct tpl *html, const struct tpl *text,
			 const struct tpl_html_view *view)
{
	static const struct {
		const char *tag, *what;
	} parts[] = {{"sender.name", "the sender's name"},
		     {"sender.postal_address", "the sender's postal address"},
		     {"sender.contact", "a contact for complaints"}};
	const char *vals[3] = {in->sender_name, in->sender_postal_address, in->sender_contact};
	enum placing ph, pt;
	size_t i;

	for (i = 0; i < 3; i++) {
		ph = html != NULL ? placing(html, parts[i].tag) : IN_EVERY;
		pt = text != NULL ? placing(text, parts[i].tag) : IN_EVERY;
		if (ph == NOWHERE)
			tpl_check_add(
			    f, TPL_SEV_ERROR, "footer-missing", "layout", 0, 0,
			    "the message does not show %s ({{%s}}), which the Act on Specified "
			    "Electronic Mail requires; use a layout with the footer",
			    parts[i].what, parts[i].tag);
		else if (ph == IN_SOME)
			in_sections(f, "footer-missing", "body", "HTML", parts[i].what,
				    parts[i].tag);
		else if (view != NULL && !tpl_html_view_shows(view, marks[i].mark))
			tpl_check_add(
			    f, TPL_SEV_ERROR, "footer-missing", "body", 0, 0,
			    "the HTML part has %s ({{%s}}) only where a reader does not see it: in "
			    "an HTML comment, an attribute such as an image's alt text, or a "
			    "hidden element (display:none, visibility:hidden, font-size:0, the "
			    "hidden attribute, or a <style> rule that hides it); the Act on "
			    "Specified Electronic Mail requires it displayed",
			    parts[i].what, parts[i].tag);
		else if (pt == NOWHERE)
			tpl_check_add(
			    f, TPL_SEV_ERROR, "footer-missing", "text", 0, 0,
			    "the text part does not show %s ({{%s}}), which the Act on Specified "
			    "Electronic Mail requires in every message; add it to the text part",
			    parts[i].what, parts[i].tag);
		else if (pt == IN_SOME)
			in_sections(f, "footer-missing", "text", "text", parts[i].what,
				    parts[i].tag);
		if (vals[i] == NULL || vals[i][0] == '\0')
			tpl_check_add(f, TPL_SEV_ERROR, "sender-empty", "sender", 0, 0,
				      "%s is not set; the law requires it in every message",
				      parts[i].what);
		else if (tpl_is_blank(vals[i]))
			tpl_check_add(
			    f, TPL_SEV_ERROR, "sender-empty", "sender", 0, 0,
			    "%s is only blanks, which show nothing; the law requires it in every "
			    "message",
			    parts[i].what);
		else if (in->iso2022jp)
			tpl_check_jis(f, vals[i], strlen(vals[i]), "sender", false);
	}
}

static void check_raw_html(struct tpl_findings *f, const struct tpl_check_input *in)
{
	cmark_node *doc = cmark_parse_document(in->src, in->src_len, tpl_cmark_options());
	cmark_iter *it = doc ? cmark_iter_new(doc) : NULL;
	cmark_event_type ev;
	size_t n = 0;

	while (it != NULL && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE && n < MAX_PER_KIND) {
		cmark_node *node = cmark_iter_get_node(it), *p;
		cmark_node_type type = cmark_node_get_type(node);

		if (ev != CMARK_EVENT_ENTER ||
		    (type != CMARK_NODE_HTML_BLOCK && type != CMARK_NODE_HTML_INLINE))
			continue;
		for (p = node; p != NULL && cmark_node_get_start_line(p) == 0;)
			p = cmark_node_parent(p);
		tpl_check_add(
		    f, TPL_SEV_WARNING, "markdown-raw-html", "body",
		    p ? (unsigned)cmark_node_get_start_line(p) : 0,
		    p ? (unsigned)cmark_node_get_start_column(p) : 0,
		    "raw HTML in Markdown is left out of the message; write an HTML template "
		    "to use it");
		n++;
	}
	if (it != NULL)
		cmark_iter_free(it);
	if (doc != NULL)
		cmark_node_free(doc);
}

/* Compiles the body and text, flags their tags; *html and *text are the
 * whole message parts (layout included), or NULL when they don't compile. */
static void check_body(struct tpl_findings *f, const struct tpl_check_input *in, struct tpl **html,
		       struct tpl **text)
{
	const struct tpl_layout *lay = tpl_layout_find(in->layout);
	struct tpl *src = NULL, *bh = NULL, *bt = NULL, *lt = NULL;
	unsigned line, col;
	char *err = NULL;

	if (tpl_compile_ex(in->src, in->src_len, in->kind != TPL_KIND_MARKDOWN, &src, &err) !=
		TPL_OK ||
	    tpl_body_compile(in->kind, in->src, in->src_len, &bh, &bt, &err) != TPL_OK) {
		err_pos(err, &line, &col);
		tpl_check_add(f, TPL_SEV_ERROR, "syntax", "body", line, col, "%s",
			      err ? err : "bad template");
		goto done;
	}
	check_tags(f, src, "body", in);
	tpl_check_data(f, src, in->src, in->src_len, in->kind == TPL_KIND_HTML);
	if (in->text_src != NULL) {
		tpl_free(&bt);
		if (tpl_compile(in->text_src, strlen(in->text_src), &bt, &err) != TPL_OK) {
			err_pos(err, &line, &col);
			tpl_check_add(f, TPL_SEV_ERROR, "syntax", "text", line, col, "%s",
				      err ? err : "bad");
			goto done;
		}
		check_tags(f, bt, "text", in);
	}
	if (lay == NULL) {
		tpl_check_add(f, TPL_SEV_ERROR, "no-layout", "layout", 0, 0,
			      "there is no layout called \"%s\"", in->layout);
		goto done;
	}
	if (tpl_compile(lay->html, strlen(lay->html), &lt, NULL) == TPL_OK)
		tpl_splice(lt, bh, html);
	tpl_free(&lt);
	if (tpl_compile(lay->text, strlen(lay->text), &lt, NULL) == TPL_OK)
		tpl_splice(lt, bt, text);
done:
	tpl_free(&lt);
	tpl_free(&src);
	tpl_free(&bh);
	tpl_free(&bt);
	free(err);
}

enum tpl_status tpl_check(const struct tpl_check_input *in, struct tpl_findings **out)
{
	struct tpl_findings *f = calloc(1, sizeof(*f));
	struct tpl *html = NULL, *text = NULL;
	struct tpl_buf r = {0};
	struct tpl_html_view view;
	struct look lk = {in};
	enum tpl_status st = TPL_ENOMEM;
	enum placing unsub[2];
	bool have_view = false;

	memset(&view, 0, sizeof(view));
	*out = NULL;
	if (f == NULL)
		goto done;
	check_subject(f, in);
	check_body(f, in, &html, &text);
	have_view = html != NULL && shown_view(html, &lk, &view);
	unsub[0] = html != NULL ? placing(html, "unsubscribe_url") : IN_EVERY;
	unsub[1] = text != NULL ? placing(text, "unsubscribe_url") : IN_EVERY;
	if (unsub[0] == NOWHERE)
		tpl_check_add(
		    f, TPL_SEV_ERROR, "no-unsubscribe", "body", 0, 0,
		    "the HTML part has no unsubscribe link ({{unsubscribe_url}}); the law and "
		    "the mailbox providers require one");
	else if (unsub[0] == IN_SOME)
		in_sections(f, "no-unsubscribe", "body", "HTML", "the unsubscribe link",
			    "unsubscribe_url");
	else if (have_view && !tpl_html_view_links_to(&view, marks[MARK_UNSUB].mark) &&
		 !tpl_html_view_shows(&view, marks[MARK_UNSUB].mark))
		tpl_check_add(
		    f, TPL_SEV_ERROR, "no-unsubscribe", "body", 0, 0,
		    "the HTML part's unsubscribe link ({{unsubscribe_url}}) is not shown: it must "
		    "be a link with visible text, not in an HTML comment or a hidden element "
		    "(display:none, visibility:hidden, font-size:0, the hidden attribute, or a "
		    "<style> rule that hides it); the law requires the opt-out displayed");
	else if (unsub[1] == NOWHERE)
		tpl_check_add(f, TPL_SEV_ERROR, "no-unsubscribe", "text", 0, 0,
			      "the text part has no unsubscribe link ({{unsubscribe_url}})");
	else if (unsub[1] == IN_SOME)
		in_sections(f, "no-unsubscribe", "text", "text", "the unsubscribe link",
			    "unsubscribe_url");
	check_sender(f, in, html, text, have_view ? &view : NULL);
	check_http(f, in->src, in->src_len, "body");
	if (in->text_src != NULL)
		check_http(f, in->text_src, strlen(in->text_src), "text");
	if (in->kind == TPL_KIND_MARKDOWN)
		check_raw_html(f, in);
	if (html != NULL && tpl_render(html, TPL_MODE_HTML, check_lookup, &lk, &r) == TPL_OK) {
		if (r.len > GMAIL_CLIP)
			tpl_check_add(
			    f, TPL_SEV_WARNING, "html-too-big", "body", 0, 0,
			    "the HTML part is %zu bytes; Gmail clips messages over %u bytes", r.len,
			    GMAIL_CLIP);
		check_html(f, in, r.data, r.len);
		if (in->iso2022jp)
			tpl_check_jis_lines(f, r.data, r.len);
	}
	if (in->iso2022jp) {
		tpl_check_jis(f, in->src, in->src_len, "body", true);
		/* A long line of the text part is wrapped (flowed.c): HTML's is not. */
		if (in->text_src != NULL)
			tpl_check_jis(f, in->text_src, strlen(in->text_src), "text", true);
	}
	if (!in->from_has_dkim && in->dkim_by_relay)
		tpl_check_add(
		    f, TPL_SEV_WARNING, "no-dkim", "from", 0, 0,
		    "the From domain has no DKIM key in hato, and send.dkim = relay says the SMTP "
		    "relay signs: check that it signs with d= the From domain, for DMARC");
	else if (!in->from_has_dkim)
		tpl_check_add(
		    f, TPL_SEV_ERROR, "no-dkim", "from", 0, 0,
		    "the From domain has no DKIM key; Gmail, Yahoo and Outlook.com reject bulk "
		    "mail without DKIM (send.dkim = relay when the SMTP relay signs it)");
	*out = f;
	f = NULL;
	st = TPL_OK;
done:
	tpl_html_view_free(&view);
	tpl_buf_free(&r);
	tpl_free(&html);
	tpl_free(&text);
	tpl_findings_free(&f);
	return st;
}
