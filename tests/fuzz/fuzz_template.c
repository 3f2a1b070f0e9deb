/*
 * fuzz_template.c: compiles fuzzed bytes as a merge template and as a
 * Markdown or HTML body, renders what compiles in both modes, and runs the
 * pre-send checks on the body (which read its HTML as a reader sees it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "templates/templates.h"

static const char *lookup(const char *name, void *arg)
{
	(void)arg;
	switch (name[0] % 4) {
	case 0:
		return NULL;
	case 1:
		return "";
	case 2:
		return "<b>&\"'値";
	default:
		return "1";
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tpl *t = NULL;
	struct tpl_campaign *c = NULL;
	struct tpl_buf b = {0};
	char *err = NULL, *src;
	struct tpl_campaign_src cs;
	static const char *const known[] = {"name", "sender.", "unsubscribe_url", "attr."};
	struct tpl_check_input in = {0};
	struct tpl_findings *f = NULL;

	if (tpl_compile((const char *)data, size, &t, &err) == TPL_OK) {
		tpl_render(t, TPL_MODE_HTML, lookup, NULL, &b);
		tpl_render(t, TPL_MODE_TEXT, lookup, NULL, &b);
		if (tpl_tag_count(t) > 0) {
			struct tpl_tag g;

			if (!tpl_tag_get(t, 0, &g) || g.name[0] == '\0')
				abort();
		}
	} else if (err == NULL || strchr(err, ':') == NULL) {
		abort(); /* every error says where or why */
	}
	tpl_free(&t);
	free(err);
	err = NULL;
	/* the same bytes as a body, both kinds, with a layout */
	src = malloc(size + 1);
	if (src == NULL)
		return 0;
	memcpy(src, data, size);
	src[size] = '\0';
	cs = (struct tpl_campaign_src){size % 2 ? TPL_KIND_MARKDOWN : TPL_KIND_HTML,
				       src,
				       size,
				       NULL,
				       size % 3 ? "plain" : "newsletter",
				       "{{name}}"};
	/* the pre-send checks, which read the rendered HTML as a reader sees it */
	in.kind = cs.kind;
	in.src = src;
	in.src_len = size;
	in.layout = "none";
	in.known = known;
	in.nknown = sizeof(known) / sizeof(known[0]);
	if (tpl_check(&in, &f) == TPL_OK)
		tpl_findings_free(&f);
	if (tpl_campaign_compile(&cs, &c, &err) == TPL_OK) {
		tpl_render(tpl_campaign_html(c), TPL_MODE_HTML, lookup, NULL, &b);
		tpl_render(tpl_campaign_text(c), TPL_MODE_TEXT, lookup, NULL, &b);
	}
	tpl_campaign_free(&c);
	free(err);
	free(src);
	tpl_buf_free(&b);
	return 0;
}
