/*
 * markdown.c: a body (Markdown or HTML) compiled into an HTML template and a
 * text template.
 *
 * The source is compiled as a merge template first, so syntax errors point
 * into the source. Each tag is then replaced by a placeholder made of letters
 * and digits only ("zq" + 8 hex digits + "n" + op index + "z", with the hex
 * chosen so that "zq<hex>" appears nowhere in the source). libcmark passes
 * such a word through unchanged in text, in link destinations and in code, so
 * the Markdown is rendered once, and the placeholders in its output are turned
 * back into the tags' ops. A placeholder alone in a paragraph (a standalone
 * section tag) takes its paragraph with it, so a hidden section leaves no
 * empty <p></p>. In the text part a heading's underline is a placeholder too
 * (prefix, '=' or '-', 'z'), which becomes a TPL_OP_UNDERLINE: its width is
 * known only once the heading's values are merged.
 */
#include <cmark.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "templates/private.h"

int tpl_cmark_options(void)
{
	/* CMARK_OPT_SAFE is the default in 0.30 (raw HTML and javascript:,
	 * vbscript:, file: and most data: links are dropped); say it anyway. */
	return CMARK_OPT_SAFE;
}

struct protect {
	char prefix[16]; /* "zq%08xn" */
	size_t plen;
	const struct tpl *t;
	bool markdown; /* the source is Markdown, not HTML */
	bool *code;    /* per op: the tag stands in Markdown code, where <...> is literal */
};

static bool is_tag_op(const struct tpl_op *op)
{
	return op->type != TPL_OP_TEXT;
}

static bool same_var(const struct tpl *t, const struct tpl_op *a, const struct tpl_op *b)
{
	return a->type == TPL_OP_VAR && b->type == TPL_OP_VAR && a->raw == b->raw &&
	       a->has_fb == b->has_fb &&
	       strcmp(t->arena.data + a->off, t->arena.data + b->off) == 0 &&
	       (!a->has_fb || strcmp(t->arena.data + a->fb_off, t->arena.data + b->fb_off) == 0);
}

static void pick_prefix(struct protect *pr, const char *src, size_t len)
{
	unsigned v = 0x5eed1234u;

	do {
		snprintf(pr->prefix, sizeof(pr->prefix), "zq%08x", v);
		v = v * 2654435761u + 1u;
	} while (memmem(src, len, pr->prefix, strlen(pr->prefix)) != NULL);
	pr->plen = strlen(pr->prefix) + 1;
	pr->prefix[pr->plen - 1] = 'n';
	pr->prefix[pr->plen] = '\0';
}

/*
 * Marks the tags of Markdown that stand in code: a code span (between
 * backtick runs on a paragraph's lines), a fenced block (``` or ~~~) or an
 * indented one (four spaces). Good enough for where a "<" before a tag is
 * literal; libcmark itself never sees the tags. False when out of memory.
 */
static bool mark_code(struct protect *pr)
{
	const struct tpl *t = pr->t;
	bool fence = false, span = false, indented = false, start = true;
	size_t i, k, lead = 0;

	pr->code = calloc(t->nops > 0 ? t->nops : 1, sizeof(*pr->code));
	if (pr->code == NULL)
		return false;
	for (i = 0; i < t->nops; i++) {
		const char *s = t->arena.data + t->ops[i].off;

		if (t->ops[i].type != TPL_OP_TEXT) {
			pr->code[i] = fence || span || indented;
			start = false;
			continue;
		}
		for (k = 0; k < t->ops[i].len; k++) {
			if (s[k] == '\n') {
				span = span && !start; /* a blank line ends a paragraph */
				start = true;
				lead = 0;
				indented = false;
				continue;
			}
			if (start && s[k] == ' ' && ++lead < 4)
				continue;
			if (start) {
				indented = !fence && lead >= 4;
				fence ^=
				    lead < 4 && t->ops[i].len - k >= 3 &&
				    (memcmp(s + k, "```", 3) == 0 || memcmp(s + k, "~~~", 3) == 0);
				start = false;
			}
			if (s[k] == '`' && !fence && !indented && (k == 0 || s[k - 1] != '`'))
				span = !span;
		}
	}
	return true;
}

/* Is op i of Markdown a tag written as an autolink, "<{{unsubscribe_url}}>"? */
static bool autolink(const struct protect *pr, size_t i)
{
	const struct tpl *t = pr->t;
	const struct tpl_op *a = i > 0 ? &t->ops[i - 1] : NULL, *b = &t->ops[i + 1];

	return pr->markdown && !pr->code[i] && t->ops[i].type == TPL_OP_VAR && a != NULL &&
	       a->type == TPL_OP_TEXT && a->len > 0 && t->arena.data[a->off + a->len - 1] == '<' &&
	       i + 1 < t->nops && b->type == TPL_OP_TEXT && b->len > 0 &&
	       t->arena.data[b->off] == '>';
}

/*
 * The source with every tag replaced by its placeholder. A tag written as an
 * autolink, whose placeholder libcmark would take for raw HTML and drop,
 * loses its angle brackets: {{unsubscribe_url}}, always an address of the
 * web, becomes a link to itself ("[PH](PH)"), any other tag its text (its
 * value may be a mail address or no address at all).
 */
static enum tpl_status protect(const struct protect *pr, struct tpl_buf *out)
{
	const struct tpl *t = pr->t;
	size_t i, j, idx, skip = 0;

	for (i = 0; i < t->nops; i++) {
		const struct tpl_op *op = &t->ops[i];

		if (!is_tag_op(op)) {
			bool before = i + 1 < t->nops && autolink(pr, i + 1);

			tpl_buf_append(out, t->arena.data + op->off + skip,
				       op->len - skip - (before ? 1 : 0));
			skip = 0;
			continue;
		}
		idx = i;
		for (j = 0; j < i && op->type == TPL_OP_VAR; j++) {
			if (same_var(t, &t->ops[j], op)) {
				idx = j;
				break;
			}
		}
		skip = autolink(pr, i) ? 1 : 0; /* the '>' */
		if (skip && op->len == 15 &&
		    memcmp(t->arena.data + op->off, "unsubscribe_url", 15) == 0) {
			tpl_buf_appendf(out, "[%s%zuz](%s%zuz)", pr->prefix, idx, pr->prefix, idx);
		} else {
			tpl_buf_appendf(out, "%s%zuz", pr->prefix, idx);
		}
	}
	return out->oom ? TPL_ENOMEM : TPL_OK;
}

/* Parses a placeholder at s; returns its length and the op index, or 0. */
static size_t placeholder(const struct protect *pr, const char *s, size_t n, size_t *idx)
{
	size_t i = pr->plen, v = 0;

	if (n < pr->plen + 2 || memcmp(s, pr->prefix, pr->plen) != 0)
		return 0;
	while (i < n && s[i] >= '0' && s[i] <= '9' && i - pr->plen < 9)
		v = v * 10 + (size_t)(s[i++] - '0');
	if (i == pr->plen || i >= n || s[i] != 'z' || v >= pr->t->nops ||
	    !is_tag_op(&pr->t->ops[v]))
		return 0;
	*idx = v;
	return i + 1;
}

/* Parses a heading's underline placeholder (prefix, '=' or '-', 'z') at s; returns its length, or
 * 0. */
static size_t rule(const struct protect *pr, const char *s, size_t n, char *c)
{
	if (n < pr->plen + 2 || memcmp(s, pr->prefix, pr->plen) != 0 ||
	    (s[pr->plen] != '=' && s[pr->plen] != '-') || s[pr->plen + 1] != 'z')
		return 0;
	*c = s[pr->plen];
	return pr->plen + 2;
}

/* Where a section placeholder sits in rendered output, and what surrounds
 * it that should move or go: lit_end is where the literal text before it
 * ends, resume where the literal text after it starts, and before/after are
 * literal strings written before and after the tag. */
struct spot {
	size_t lit_end, resume;
	const char *before, *after;
};

static void place_html(const char *s, size_t n, size_t lit, size_t a, size_t b,
		       enum tpl_op_type type, struct spot *sp)
{
	bool p_before = a >= lit + 3 && memcmp(s + a - 3, "<p>", 3) == 0;

	if (p_before && n - b >= 5 && memcmp(s + b, "</p>\n", 5) == 0) {
		sp->lit_end = a - 3; /* <p>PH</p>: the paragraph goes */
		sp->resume = b + 5;
	} else if (type != TPL_OP_END && p_before && b < n && s[b] == '\n') {
		sp->lit_end = a - 3; /* <p>PH\n…: the tag moves before <p> */
		sp->resume = b + 1;
		sp->after = "<p>";
	} else if (type == TPL_OP_END && a > lit && s[a - 1] == '\n' && n - b >= 5 &&
		   memcmp(s + b, "</p>\n", 5) == 0) {
		sp->lit_end = a - 1; /* …\nPH</p>: the tag moves after </p> */
		sp->resume = b + 5;
		sp->before = "</p>\n";
	}
}

static void place_text(const char *s, size_t n, size_t lit, size_t a, size_t b, struct spot *sp)
{
	bool line_start = a == 0 || (a > lit && s[a - 1] == '\n');
	bool blank_before = a == 0 || (a >= lit + 2 && s[a - 1] == '\n' && s[a - 2] == '\n');

	if (!line_start || (b < n && s[b] != '\n'))
		return;
	sp->resume = b < n ? b + 1 : b; /* the placeholder's line goes */
	if (blank_before && sp->resume < n && s[sp->resume] == '\n')
		sp->resume++; /* and so does a blank line after a lone one */
}

/* Turns rendered output back into a template. */
static enum tpl_status unprotect(const struct protect *pr, const char *s, size_t n, bool html,
				 struct tpl **out, char **errstr)
{
	enum tpl_status st = TPL_ENOMEM;
	struct tpl *t = tpl_new();
	size_t i = 0, lit = 0, k, r, idx;
	const struct tpl_op *op;
	struct spot sp;
	char c = 0;

	if (t == NULL)
		goto done;
	while (i < n) {
		const char *q = memmem(s + i, n - i, pr->prefix, pr->plen);

		if (q == NULL)
			break;
		i = (size_t)(q - s);
		k = placeholder(pr, s + i, n - i, &idx);
		r = html ? 0 : rule(pr, s + i, n - i, &c);
		if (r > 0) {
			if (tpl_add_text(t, s + lit, i - lit) != TPL_OK ||
			    tpl_add_underline(t, c) != TPL_OK)
				goto done;
			lit = i = i + r;
			continue;
		}
		if (k == 0) {
			i++;
			continue;
		}
		op = &pr->t->ops[idx];
		sp = (struct spot){i, i + k, "", ""};
		if (op->type != TPL_OP_VAR && html)
			place_html(s, n, lit, i, i + k, op->type, &sp);
		else if (op->type != TPL_OP_VAR)
			place_text(s, n, lit, i, i + k, &sp);
		if (tpl_add_text(t, s + lit, sp.lit_end - lit) != TPL_OK ||
		    tpl_add_text(t, sp.before, strlen(sp.before)) != TPL_OK ||
		    tpl_add_op_from(t, pr->t, op) != TPL_OK)
			goto done;
		/* A {{{raw}}} value is HTML: the text part shows it as text. */
		if (!html && op->type == TPL_OP_VAR && op->raw)
			t->ops[t->nops - 1].html = true;
		if (tpl_add_text(t, sp.after, strlen(sp.after)) != TPL_OK)
			goto done;
		lit = i = sp.resume;
	}
	if (tpl_add_text(t, s + lit, n - lit) != TPL_OK)
		goto done;
	if (!tpl_link_sections(t, errstr)) {
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

enum tpl_status tpl_body_compile(enum tpl_kind kind, const char *src, size_t len, struct tpl **html,
				 struct tpl **text, char **errstr)
{
	struct tpl_buf prot = {0}, txt = {0};
	struct tpl *t = NULL;
	struct protect pr = {0};
	cmark_node *doc = NULL;
	char *out = NULL;
	enum tpl_status st;

	*html = *text = NULL;
	st = tpl_compile_ex(src, len, kind != TPL_KIND_MARKDOWN, &t, errstr);
	if (st != TPL_OK)
		goto done;
	pr.t = t;
	pr.markdown = kind == TPL_KIND_MARKDOWN;
	st = TPL_ENOMEM;
	if (!mark_code(&pr))
		goto done;
	pick_prefix(&pr, src, len);
	st = protect(&pr, &prot);
	if (st != TPL_OK)
		goto done;
	st = TPL_ENOMEM;
	if (kind == TPL_KIND_MARKDOWN) {
		doc =
		    cmark_parse_document(prot.data ? prot.data : "", prot.len, tpl_cmark_options());
		if (doc == NULL)
			goto done;
		out = cmark_render_html(doc, tpl_cmark_options());
		if (out == NULL || tpl_md_to_text(doc, pr.prefix, &txt) != TPL_OK)
			goto done;
		st = unprotect(&pr, out, strlen(out), true, html, errstr);
	} else {
		if (tpl_html_to_text(prot.data ? prot.data : "", prot.len, &txt) != TPL_OK)
			goto done;
		st = unprotect(&pr, prot.data ? prot.data : "", prot.len, true, html, errstr);
	}
	if (st == TPL_OK)
		st = unprotect(&pr, txt.data ? txt.data : "", txt.len, false, text, errstr);
	if (st != TPL_OK)
		tpl_free(html);
done:
	if (doc != NULL)
		cmark_node_free(doc);
	free(pr.code);
	free(out);
	tpl_buf_free(&prot);
	tpl_buf_free(&txt);
	tpl_free(&t);
	return st;
}
