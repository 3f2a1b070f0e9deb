/*
 * campaign.c: a campaign's subject, HTML and text compiled once (the body
 * spliced into its layout), then rendered per subscriber into a message.
 */
#include <stdlib.h>
#include <string.h>

#include "templates/private.h"

struct tpl_campaign {
	struct tpl *subject, *html, *text;
};

void tpl_campaign_free(struct tpl_campaign **c)
{
	if (c == NULL || *c == NULL)
		return;
	tpl_free(&(*c)->subject);
	tpl_free(&(*c)->html);
	tpl_free(&(*c)->text);
	free(*c);
	*c = NULL;
}

/* Prefixes *errstr with "what: ". */
static void prefix_err(char **errstr, const char *what)
{
	char *old;

	if (errstr == NULL || *errstr == NULL)
		return;
	old = *errstr;
	*errstr = NULL;
	tpl_seterr(errstr, "%s: %s", what, old);
	free(old);
}

static enum tpl_status wrap(const char *layout_src, struct tpl **body, struct tpl **out,
			    char **errstr)
{
	struct tpl *lt = NULL;
	enum tpl_status st;

	st = tpl_compile(layout_src, strlen(layout_src), &lt, errstr);
	if (st == TPL_OK)
		st = tpl_splice(lt, *body, out);
	if (st != TPL_OK)
		prefix_err(errstr, "layout");
	tpl_free(&lt);
	tpl_free(body);
	return st;
}

enum tpl_status tpl_campaign_compile(const struct tpl_campaign_src *src, struct tpl_campaign **out,
				     char **errstr)
{
	const struct tpl_layout *lay = tpl_layout_find(src->layout);
	struct tpl *bh = NULL, *bt = NULL;
	struct tpl_campaign *c = NULL;
	enum tpl_status st = TPL_ENOTFOUND;

	*out = NULL;
	if (lay == NULL) {
		tpl_seterr(errstr, "layout: there is no layout called \"%s\"", src->layout);
		goto done;
	}
	st = TPL_ENOMEM;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto done;
	st = tpl_body_compile(src->kind, src->src ? src->src : "", src->src ? src->src_len : 0, &bh,
			      &bt, errstr);
	if (st != TPL_OK) {
		prefix_err(errstr, "body");
		goto done;
	}
	if (src->text_src != NULL) {
		tpl_free(&bt);
		st = tpl_compile(src->text_src, strlen(src->text_src), &bt, errstr);
		if (st != TPL_OK) {
			prefix_err(errstr, "text");
			goto done;
		}
	}
	st = wrap(lay->html, &bh, &c->html, errstr);
	if (st == TPL_OK)
		st = wrap(lay->text, &bt, &c->text, errstr);
	if (st != TPL_OK)
		goto done;
	st = tpl_compile(src->subject ? src->subject : "", src->subject ? strlen(src->subject) : 0,
			 &c->subject, errstr);
	if (st != TPL_OK) {
		prefix_err(errstr, "subject");
		goto done;
	}
	*out = c;
	c = NULL;
done:
	tpl_free(&bh);
	tpl_free(&bt);
	tpl_campaign_free(&c);
	return st;
}

const struct tpl *tpl_campaign_subject(const struct tpl_campaign *c)
{
	return c->subject;
}

const struct tpl *tpl_campaign_html(const struct tpl_campaign *c)
{
	return c->html;
}

const struct tpl *tpl_campaign_text(const struct tpl_campaign *c)
{
	return c->text;
}

enum tpl_status tpl_campaign_render(const struct tpl_campaign *c, tpl_lookup_fn lookup, void *arg,
				    const struct tpl_message *m, struct tpl_buf *out, char **errstr)
{
	struct tpl_buf subj = {0}, text = {0}, html = {0};
	struct tpl_message mm = *m;
	enum tpl_status st = TPL_ENOMEM;

	if (tpl_render(c->subject, TPL_MODE_TEXT, lookup, arg, &subj) != TPL_OK ||
	    tpl_render(c->text, TPL_MODE_TEXT, lookup, arg, &text) != TPL_OK ||
	    tpl_render(c->html, TPL_MODE_HTML, lookup, arg, &html) != TPL_OK) {
		tpl_seterr(errstr, "out of memory");
		goto done;
	}
	mm.subject = subj.data ? subj.data : "";
	mm.text = text.data;
	mm.text_len = text.len;
	mm.html = html.data;
	mm.html_len = html.len;
	st = tpl_message_build(&mm, out, NULL, errstr);
done:
	tpl_buf_free(&subj);
	tpl_buf_free(&text);
	tpl_buf_free(&html);
	return st;
}
