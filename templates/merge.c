/*
 * merge.c: the merge-tag compiler and renderer.
 *
 * A template compiles into a flat array of ops (text, value, section, end);
 * a section op holds the index of its end, so rendering is one loop with no
 * recursion and no stack. The compiler keeps a fixed stack of at most
 * TPL_MAX_DEPTH open sections.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "templates/private.h"

struct tpl *tpl_new(void)
{
	return calloc(1, sizeof(struct tpl));
}

void tpl_free(struct tpl **t)
{
	if (t == NULL || *t == NULL)
		return;
	free((*t)->ops);
	tpl_buf_free(&(*t)->arena);
	free(*t);
	*t = NULL;
}

static struct tpl_op *add_op(struct tpl *t)
{
	struct tpl_op *ops;
	size_t ncap;

	if (t->nops == t->cap) {
		ncap = t->cap ? t->cap * 2 : 16;
		ops = realloc(t->ops, ncap * sizeof(*ops));
		if (ops == NULL)
			return NULL;
		t->ops = ops;
		t->cap = ncap;
	}
	ops = &t->ops[t->nops++];
	memset(ops, 0, sizeof(*ops));
	return ops;
}

enum tpl_status tpl_add_text(struct tpl *t, const char *p, size_t n)
{
	struct tpl_op *op;
	size_t off = t->arena.len;

	if (n == 0)
		return TPL_OK;
	if (tpl_buf_append(&t->arena, p, n) != TPL_OK)
		return TPL_ENOMEM;
	if (t->nops > 0) {
		op = &t->ops[t->nops - 1];
		if (op->type == TPL_OP_TEXT && op->off + op->len == off) {
			op->len += n;
			return TPL_OK;
		}
	}
	op = add_op(t);
	if (op == NULL)
		return TPL_ENOMEM;
	op->type = TPL_OP_TEXT;
	op->off = off;
	op->len = n;
	return TPL_OK;
}

/* Appends a NUL-terminated copy of p[0..n) to the arena; stores its offset. */
static enum tpl_status arena_str(struct tpl *t, const char *p, size_t n, size_t *off)
{
	*off = t->arena.len;
	if (tpl_buf_append(&t->arena, p, n) != TPL_OK || tpl_buf_appendc(&t->arena, '\0') != TPL_OK)
		return TPL_ENOMEM;
	return TPL_OK;
}

static enum tpl_status add_tag(struct tpl *t, enum tpl_op_type type, const char *name, size_t nlen,
			       const char *fb, size_t fblen, bool has_fb, bool raw, unsigned line,
			       unsigned col)
{
	struct tpl_op *op;
	size_t off = 0, fboff = 0;

	if (type != TPL_OP_END || nlen > 0) {
		if (arena_str(t, name, nlen, &off) != TPL_OK)
			return TPL_ENOMEM;
	}
	if (has_fb && arena_str(t, fb, fblen, &fboff) != TPL_OK)
		return TPL_ENOMEM;
	op = add_op(t);
	if (op == NULL)
		return TPL_ENOMEM;
	op->type = type;
	op->raw = raw;
	op->has_fb = has_fb;
	op->off = off;
	op->len = nlen;
	op->fb_off = fboff;
	op->fb_len = fblen;
	op->line = line;
	op->col = col;
	return TPL_OK;
}

enum tpl_status tpl_add_op_from(struct tpl *t, const struct tpl *src, const struct tpl_op *op)
{
	enum tpl_status st;

	if (op->type == TPL_OP_TEXT)
		return tpl_add_text(t, src->arena.data + op->off, op->len);
	st = add_tag(t, op->type, src->arena.data + op->off, op->len,
		     op->has_fb ? src->arena.data + op->fb_off : NULL, op->fb_len, op->has_fb,
		     op->raw, op->line, op->col);
	if (st == TPL_OK)
		t->ops[t->nops - 1].html = op->html;
	return st;
}

enum tpl_status tpl_add_underline(struct tpl *t, char c)
{
	return add_tag(t, TPL_OP_UNDERLINE, &c, 1, NULL, 0, false, false, 0, 0);
}

bool tpl_link_sections(struct tpl *t, char **errstr)
{
	size_t *stack = NULL, depth = 0, i;
	bool ok = false;

	stack = malloc((t->nops + 1) * sizeof(*stack));
	if (stack == NULL) {
		tpl_seterr(errstr, "out of memory");
		goto done;
	}
	for (i = 0; i < t->nops; i++) {
		struct tpl_op *op = &t->ops[i];

		if (op->type == TPL_OP_SECTION || op->type == TPL_OP_INVERTED) {
			stack[depth++] = i;
		} else if (op->type == TPL_OP_END) {
			if (depth == 0 || strcmp(t->arena.data + t->ops[stack[depth - 1]].off,
						 t->arena.data + op->off) != 0) {
				tpl_seterr(
				    errstr,
				    "%u:%u: expected section tags to stay nested after "
				    "Markdown; keep them out of link destinations and raw HTML",
				    op->line, op->col);
				goto done;
			}
			t->ops[stack[--depth]].jump = i;
		}
	}
	if (depth > 0) {
		tpl_seterr(errstr,
			   "%u:%u: expected the section to be closed after Markdown; keep section "
			   "tags out of link destinations and raw HTML",
			   t->ops[stack[depth - 1]].line, t->ops[stack[depth - 1]].col);
		goto done;
	}
	ok = true;
done:
	free(stack);
	return ok;
}

/*
 * Copies a layout's text, each line of '=' alone in it (the newsletter's
 * banner underline) as a TPL_OP_UNDERLINE: as wide as the line above it once
 * merged, whatever the width of the list's name.
 */
static enum tpl_status add_layout_text(struct tpl *t, const char *s, size_t n)
{
	enum tpl_status st;
	size_t from = 0, i, e;

	for (i = 1; i < n; i++) {
		if (s[i - 1] != '\n' || s[i] != '=')
			continue;
		for (e = i; e < n && s[e] == '='; e++)
			;
		if (e < n && s[e] != '\n')
			continue;
		st = tpl_add_text(t, s + from, i - from);
		if (st == TPL_OK)
			st = tpl_add_underline(t, '=');
		if (st != TPL_OK)
			return st;
		from = i = e;
	}
	return tpl_add_text(t, s + from, n - from);
}

enum tpl_status tpl_splice(const struct tpl *layout, const struct tpl *body, struct tpl **out)
{
	enum tpl_status st = TPL_ENOMEM;
	struct tpl *t = tpl_new();
	size_t i, j;

	if (t == NULL)
		goto done;
	for (i = 0; i < layout->nops; i++) {
		const struct tpl_op *op = &layout->ops[i];

		if (op->type == TPL_OP_VAR && op->raw &&
		    strcmp(layout->arena.data + op->off, "body") == 0) {
			for (j = 0; j < body->nops; j++) {
				if (tpl_add_op_from(t, body, &body->ops[j]) != TPL_OK)
					goto done;
			}
		} else if (op->type == TPL_OP_TEXT) {
			if (add_layout_text(t, layout->arena.data + op->off, op->len) != TPL_OK)
				goto done;
		} else if (tpl_add_op_from(t, layout, op) != TPL_OK) {
			goto done;
		}
	}
	if (!tpl_link_sections(t, NULL)) {
		st = TPL_ESYNTAX;
		goto done;
	}
	*out = t;
	t = NULL;
	st = TPL_OK;
done:
	tpl_free(&t);
	return st;
}

/* ---- Compiling ----------------------------------------------------------- */

struct parser {
	const char *src;
	size_t len;
	struct tpl *t;
	size_t open[TPL_MAX_DEPTH];
	size_t depth;
	bool standalone; /* drop the lines of standalone section tags */
	char **errstr;
};

/* ASCII letters, digits, _ - . and any non-ASCII character: an imported
 * header such as 都道府県 names an attribute too. */
static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.' || (unsigned char)c >= 0x80;
}

static enum tpl_status perr(struct parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum tpl_status perr(struct parser *p, size_t at, const char *fmt, ...)
{
	struct tpl_buf m = {0};
	unsigned line, col;
	va_list ap;

	if (p->errstr == NULL)
		return TPL_ESYNTAX;
	tpl_linecol(p->src, p->len, at, &line, &col);
	tpl_buf_appendf(&m, "%u:%u: ", line, col);
	va_start(ap, fmt);
	tpl_buf_vappendf(&m, fmt, ap);
	va_end(ap);
	free(*p->errstr);
	*p->errstr = tpl_buf_steal(&m);
	return TPL_ESYNTAX;
}

/* Describes the character at i for an error message. */
static const char *found(const struct parser *p, size_t i, char tmp[8])
{
	unsigned char c;

	if (i >= p->len)
		return "the end of the template";
	c = (unsigned char)p->src[i];
	if (c == '\n')
		return "a line break";
	if (c < 0x20 || c >= 0x7f)
		return "a character that can't be in a name";
	tmp[0] = '\'';
	tmp[1] = (char)c;
	tmp[2] = '\'';
	tmp[3] = '\0';
	return tmp;
}

static void where(const struct parser *p, size_t at, char out[32])
{
	unsigned l, c;

	tpl_linecol(p->src, p->len, at, &l, &c);
	snprintf(out, 32, "%u:%u", l, c);
}

/* Is the text between from and at (a tag) only blanks back to a line start? */
static bool blank_before(const struct parser *p, size_t from, size_t at, size_t *k)
{
	size_t j = at;

	while (j > from && (p->src[j - 1] == ' ' || p->src[j - 1] == '\t'))
		j--;
	*k = j;
	return j == 0 || p->src[j - 1] == '\n';
}

/* Is the rest of the line after at blank? *e is then the next line's start. */
static bool blank_after(const struct parser *p, size_t at, size_t *e)
{
	size_t j = at;

	while (j < p->len && (p->src[j] == ' ' || p->src[j] == '\t'))
		j++;
	if (j + 1 < p->len && p->src[j] == '\r' && p->src[j + 1] == '\n')
		j++;
	if (j < p->len && p->src[j] != '\n')
		return false;
	*e = j < p->len ? j + 1 : j;
	return true;
}

struct tag {
	char sigil; /* 0, '#', '^', '/', '!' */
	bool raw;
	size_t name, nlen;
	bool has_fb;
	size_t fb, fblen;
	size_t end; /* just past the closing braces */
};

static size_t skip_blank(const struct parser *p, size_t i)
{
	while (i < p->len && (p->src[i] == ' ' || p->src[i] == '\t'))
		i++;
	return i;
}

static enum tpl_status unclosed(struct parser *p, size_t at, size_t i, const char *close)
{
	char w[32];

	where(p, at, w);
	return perr(p, i, "expected \"%s\" to close the tag opened at %s", close, w);
}

static enum tpl_status parse_fallback(struct parser *p, struct tag *g, size_t at, size_t i,
				      const char *close, size_t clen)
{
	g->has_fb = true;
	g->fb = i;
	while (i < p->len) {
		if (p->len - i >= clen && memcmp(p->src + i, close, clen) == 0) {
			g->fblen = i - g->fb;
			g->end = i + clen;
			return TPL_OK;
		}
		if (p->src[i] == '\n' ||
		    (p->src[i] == '{' && i + 1 < p->len && p->src[i + 1] == '{'))
			break;
		i++;
	}
	return unclosed(p, at, i, close);
}

/* Parses the tag whose "{{" is at at into g. */
static enum tpl_status parse_tag(struct parser *p, size_t at, struct tag *g)
{
	const char *close, *e;
	size_t i, clen;
	char tmp[8];

	memset(g, 0, sizeof(*g));
	g->raw = at + 2 < p->len && p->src[at + 2] == '{';
	close = g->raw ? "}}}" : "}}";
	clen = g->raw ? 3 : 2;
	i = skip_blank(p, at + clen);
	if (!g->raw && i < p->len && p->src[i] != '\0' && strchr("#^/!", p->src[i]) != NULL)
		g->sigil = p->src[i++];
	if (g->sigil == '!') {
		e = memmem(p->src + i, p->len - i, "}}", 2);
		if (e == NULL)
			return unclosed(p, at, p->len, "}}");
		g->end = (size_t)(e - p->src) + 2;
		return TPL_OK;
	}
	i = skip_blank(p, i);
	g->name = i;
	while (i < p->len && name_char(p->src[i]))
		i++;
	g->nlen = i - g->name;
	if (g->nlen == 0)
		return perr(p, i, "expected a tag name, found %s", found(p, i, tmp));
	if (p->src[g->name] == '.' || p->src[i - 1] == '.' ||
	    memmem(p->src + g->name, g->nlen, "..", 2) != NULL)
		return perr(p, g->name, "expected a name of dot-separated parts, found \"%.*s\"",
			    (int)g->nlen, p->src + g->name);
	i = skip_blank(p, i);
	if (i < p->len && p->src[i] == '|' && g->sigil == 0)
		return parse_fallback(p, g, at, i + 1, close, clen);
	if (p->len - i >= clen && memcmp(p->src + i, close, clen) == 0) {
		g->end = i + clen;
		return TPL_OK;
	}
	if (i < p->len && p->src[i] == '|')
		return perr(p, i,
			    "expected \"}}\" after a section name (sections take no "
			    "fallback), found '|'");
	if (i >= p->len || p->src[i] == '\n' || p->src[i] == '}' || p->src[i] == '{')
		return unclosed(p, at, i, close);
	return perr(p, i,
		    "expected a name character (A-Z a-z 0-9 _ - ., or a non-ASCII letter) or "
		    "\"%s\", found %s",
		    close, found(p, i, tmp));
}

static enum tpl_status add_parsed(struct parser *p, size_t at, const struct tag *g)
{
	enum tpl_op_type type = TPL_OP_VAR;
	const char *name = p->src + g->name;
	struct tpl_op *open;
	unsigned line, col;

	tpl_linecol(p->src, p->len, at, &line, &col);
	if (g->sigil == '#' || g->sigil == '^') {
		if (p->depth == TPL_MAX_DEPTH) {
			perr(p, at, "expected at most %u nested sections", TPL_MAX_DEPTH);
			return TPL_ETOOBIG;
		}
		p->open[p->depth++] = p->t->nops;
		type = g->sigil == '#' ? TPL_OP_SECTION : TPL_OP_INVERTED;
	} else if (g->sigil == '/') {
		if (p->depth == 0)
			return perr(p, at, "expected an open section before {{/%.*s}}",
				    (int)g->nlen, name);
		open = &p->t->ops[p->open[p->depth - 1]];
		if (open->len != g->nlen ||
		    memcmp(p->t->arena.data + open->off, name, g->nlen) != 0)
			return perr(p, at,
				    "expected {{/%s}} to close the section opened at %u:%u, found "
				    "{{/%.*s}}",
				    p->t->arena.data + open->off, open->line, open->col,
				    (int)g->nlen, name);
		open->jump = p->t->nops;
		p->depth--;
		type = TPL_OP_END;
	}
	if (add_tag(p->t, type, name, g->nlen, p->src + g->fb, g->fblen, g->has_fb, g->raw, line,
		    col) != TPL_OK)
		return TPL_ENOMEM;
	return TPL_OK;
}

static enum tpl_status check_utf8(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->src;
	uint32_t cp;
	size_t i = 0, n;

	while (i < p->len) {
		if (s[i] >= 0x01 && s[i] < 0x80) {
			i++;
			continue;
		}
		n = s[i] == 0 ? 0 : tpl_utf8_decode(s + i, p->len - i, &cp);
		if (n == 0) {
			perr(p, i, "expected valid UTF-8 text, found the byte 0x%02x", s[i]);
			return TPL_EENCODING;
		}
		i += n;
	}
	return TPL_OK;
}

static enum tpl_status parse(struct parser *p)
{
	enum tpl_status st;
	const char *q;
	size_t i = 0, at, k, e;
	struct tag g;

	while (i < p->len) {
		q = memmem(p->src + i, p->len - i, "{{", 2);
		if (q == NULL)
			break;
		at = (size_t)(q - p->src);
		st = parse_tag(p, at, &g);
		if (st != TPL_OK)
			return st;
		k = at;
		e = g.end;
		if (p->standalone && g.sigil != 0 && blank_before(p, i, at, &k) &&
		    blank_after(p, g.end, &e)) {
			/* a standalone section or comment line leaves no trace */
		} else {
			k = at;
			e = g.end;
		}
		if (tpl_add_text(p->t, p->src + i, k - i) != TPL_OK)
			return TPL_ENOMEM;
		if (g.sigil != '!') {
			st = add_parsed(p, at, &g);
			if (st != TPL_OK)
				return st;
		}
		i = e;
	}
	if (tpl_add_text(p->t, p->src + i, p->len - i) != TPL_OK)
		return TPL_ENOMEM;
	if (p->depth > 0) {
		const struct tpl_op *open = &p->t->ops[p->open[p->depth - 1]];

		return perr(p, p->len, "expected {{/%s}} to close the section opened at %u:%u",
			    p->t->arena.data + open->off, open->line, open->col);
	}
	return TPL_OK;
}

enum tpl_status tpl_compile(const char *src, size_t len, struct tpl **out, char **errstr)
{
	return tpl_compile_ex(src, len, true, out, errstr);
}

enum tpl_status tpl_compile_ex(const char *src, size_t len, bool standalone, struct tpl **out,
			       char **errstr)
{
	struct parser *p = NULL;
	enum tpl_status st = TPL_ENOMEM;

	*out = NULL;
	if (len > TPL_MAX_SOURCE) {
		tpl_seterr(errstr, "the template is %zu bytes; the limit is %u bytes (1 MiB)", len,
			   TPL_MAX_SOURCE);
		st = TPL_ETOOBIG;
		goto done;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		goto done;
	p->src = src;
	p->len = len;
	p->standalone = standalone;
	p->errstr = errstr;
	st = check_utf8(p);
	if (st != TPL_OK)
		goto done;
	st = TPL_ENOMEM;
	p->t = tpl_new();
	if (p->t == NULL)
		goto done;
	st = parse(p);
	if (st != TPL_OK)
		goto done;
	*out = p->t;
	p->t = NULL;
done:
	if (p != NULL)
		tpl_free(&p->t);
	free(p);
	if (st == TPL_ENOMEM)
		tpl_seterr(errstr, "out of memory");
	return st;
}

/* ---- Rendering ----------------------------------------------------------- */

bool tpl_truthy(const char *v)
{
	/* What takes a fallback (tpl_is_blank) is false, as are 0 and false. */
	return !tpl_is_blank(v) && strcmp(v, "0") != 0 && strcasecmp(v, "false") != 0;
}

static const unsigned char html_special[256] = {
    ['&'] = 1, ['<'] = 1, ['>'] = 1, ['"'] = 1, ['\''] = 1,
};

enum tpl_status tpl_html_escape(struct tpl_buf *out, const char *s, size_t len)
{
	size_t i, start = 0;

	for (i = 0; i < len; i++) {
		const char *rep;

		if (!html_special[(unsigned char)s[i]])
			continue;
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		default:
			rep = "&#39;";
			break;
		}
		tpl_buf_append(out, s + start, i - start);
		tpl_buf_appends(out, rep);
		start = i + 1;
	}
	return tpl_buf_append(out, s + start, len - start);
}

/*
 * Underlines the line above, as rendered, with c: as wide as it is less what
 * the underline's line holds already (a quote's "> ", a list's indent).
 */
static void underline(struct tpl_buf *out, char c)
{
	size_t cur = out->len, prev, above, here;

	while (cur > 0 && out->data[cur - 1] != '\n')
		cur--;
	if (cur == 0)
		return;
	for (prev = cur - 1; prev > 0 && out->data[prev - 1] != '\n';)
		prev--;
	above = tpl_text_width(out->data + prev, cur - 1 - prev);
	here = tpl_text_width(out->data + cur, out->len - cur);
	for (; above > here; above--)
		tpl_buf_appendc(out, c);
}

/* A {{{raw}}} value, HTML, in a text part: as text, without the line end it ends in. */
static void html_as_text(struct tpl_buf *out, const char *v)
{
	struct tpl_buf b = {0};

	if (tpl_html_to_text(v, strlen(v), &b) != TPL_OK) {
		out->oom = true;
		tpl_buf_free(&b);
		return;
	}
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.len--;
	tpl_buf_append(out, b.data != NULL ? b.data : "", b.len);
	tpl_buf_free(&b);
}

enum tpl_status tpl_render(const struct tpl *t, enum tpl_mode mode, tpl_lookup_fn lookup, void *arg,
			   struct tpl_buf *out)
{
	const char *a = t->arena.data, *v;
	size_t i;

	for (i = 0; i < t->nops; i++) {
		const struct tpl_op *op = &t->ops[i];

		switch (op->type) {
		case TPL_OP_TEXT:
			tpl_buf_append(out, a + op->off, op->len);
			break;
		case TPL_OP_VAR:
			v = lookup(a + op->off, arg);
			/* A value that shows nothing (" ", U+3000, U+200B) takes the fallback too.
			 */
			if (op->has_fb && tpl_is_blank(v))
				v = a + op->fb_off;
			if (v == NULL)
				break;
			if (op->html)
				html_as_text(out, v);
			else if (op->raw || mode == TPL_MODE_TEXT)
				tpl_buf_appends(out, v);
			else
				tpl_html_escape(out, v, strlen(v));
			break;
		case TPL_OP_SECTION:
			if (!tpl_truthy(lookup(a + op->off, arg)))
				i = op->jump;
			break;
		case TPL_OP_INVERTED:
			if (tpl_truthy(lookup(a + op->off, arg)))
				i = op->jump;
			break;
		case TPL_OP_END:
			break;
		case TPL_OP_UNDERLINE:
			underline(out, a[op->off]);
			break;
		}
	}
	return out->oom ? TPL_ENOMEM : TPL_OK;
}

/* ---- Tags ---------------------------------------------------------------- */

static bool is_tag(const struct tpl_op *op)
{
	return op->type == TPL_OP_VAR || op->type == TPL_OP_SECTION || op->type == TPL_OP_INVERTED;
}

size_t tpl_tag_count(const struct tpl *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->nops; i++)
		n += is_tag(&t->ops[i]);
	return n;
}

bool tpl_tag_get(const struct tpl *t, size_t idx, struct tpl_tag *tag)
{
	size_t i, n = 0;
	unsigned depth = 0;

	for (i = 0; i < t->nops; i++) {
		const struct tpl_op *op = &t->ops[i];
		bool opens = op->type == TPL_OP_SECTION || op->type == TPL_OP_INVERTED;

		if (op->type == TPL_OP_END && depth > 0)
			depth--;
		if (!is_tag(op) || n++ != idx) {
			depth += opens;
			continue;
		}
		tag->depth = depth;
		tag->name = t->arena.data + op->off;
		tag->fallback = op->has_fb ? t->arena.data + op->fb_off : NULL;
		tag->kind = op->type == TPL_OP_SECTION	  ? TPL_TAG_SECTION
			    : op->type == TPL_OP_INVERTED ? TPL_TAG_INVERTED
			    : op->raw			  ? TPL_TAG_RAW
							  : TPL_TAG_VAR;
		tag->line = op->line;
		tag->col = op->col;
		return true;
	}
	return false;
}

bool tpl_name_known(const char *name, const char *const *known, size_t nknown)
{
	size_t i, n;

	for (i = 0; i < nknown; i++) {
		n = strlen(known[i]);
		if (n > 0 && known[i][n - 1] == '.') {
			if (strncmp(name, known[i], n) == 0 && name[n] != '\0')
				return true;
		} else if (strcmp(name, known[i]) == 0) {
			return true;
		}
	}
	return false;
}
