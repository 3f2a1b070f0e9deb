/*
 * tests/templates/check_fixture.h: what the tests of the pre-send checks
 * share: a clean Markdown campaign, an HTML body with its text part, and
 * running the checks and finding what they say.
 */
#ifndef HATO_TESTS_TEMPLATES_CHECK_FIXTURE_H
#define HATO_TESTS_TEMPLATES_CHECK_FIXTURE_H

#include "templates/helpers.h"
static const char *const known[] = {"name", "email", "unsubscribe_url", "attr.", "list.name"};

static const struct kv sample[] = {
    {"name", "田中"},	   {"email", "tanaka@example.jp"},
    {"attr.city", "大阪"}, {"unsubscribe_url", "https://hato.example/u/TOKEN"},
    {NULL, NULL},
};

static const char clean_md[] =
    "# {{name|お客様}}様\n"
    "\n"
    "{{attr.city}}店の[セール](https://shop.example/sale)のお知らせです。\n"
    "[shop.example](https://www.shop.example/top) もご覧ください。\n"
    "\n"
    "![セールのバナー](https://shop.example/banner.png)\n";

__attribute__((unused)) static struct tpl_check_input clean(void)
{
	struct tpl_check_input in = {
	    .subject = "{{name|お客様}}様へ 春のセールのお知らせ",
	    .kind = TPL_KIND_MARKDOWN,
	    .src = clean_md,
	    .src_len = strlen(clean_md),
	    .layout = "plain",
	    .known = known,
	    .nknown = sizeof(known) / sizeof(known[0]),
	    .sample = kv_lookup,
	    .sample_arg = (void *)sample,
	    .sender_name = "株式会社ハト",
	    .sender_postal_address = "東京都千代田区千代田1-1",
	    .sender_contact = "support@hato.example",
	    .from_has_dkim = true,
	};
	return in;
}

__attribute__((unused)) static struct tpl_findings *run(const struct tpl_check_input *in)
{
	struct tpl_findings *f = NULL;

	assert_int_equal(tpl_check(in, &f), TPL_OK);
	assert_non_null(f);
	return f;
}

/* The one finding with code, which must exist exactly n times. */
__attribute__((unused)) static const struct tpl_finding *find(const struct tpl_findings *f,
							      const char *code, size_t n)
{
	const struct tpl_finding *hit = NULL;
	size_t i, count = 0;

	for (i = 0; i < tpl_findings_count(f); i++) {
		const struct tpl_finding *x = tpl_findings_get(f, i);

		if (strcmp(x->code, code) == 0) {
			count++;
			if (hit == NULL)
				hit = x;
		}
	}
	if (count != n) {
		for (i = 0; i < tpl_findings_count(f); i++)
			fprintf(stderr, "  %s %s %u:%u %s\n", tpl_findings_get(f, i)->code,
				tpl_findings_get(f, i)->where, tpl_findings_get(f, i)->line,
				tpl_findings_get(f, i)->col, tpl_findings_get(f, i)->message);
		fprintf(stderr, "%s: %zu findings, expected %zu\n", code, count, n);
		fail();
	}
	return hit;
}

__attribute__((unused)) static const char full_text[] =
    "Body\n\n{{sender.name}}\n{{sender.postal_address}}\n"
    "{{sender.contact}}\nUnsubscribe: {{unsubscribe_url}}\n";
__attribute__((unused)) static const char *const html_known[] = {"sender.", "unsubscribe_url",
								 "name"};

/* An HTML body without a layout, and its text part. */
__attribute__((unused)) static struct tpl_check_input html_input(const char *html, const char *text)
{
	struct tpl_check_input in = clean();

	in.kind = TPL_KIND_HTML;
	in.layout = "none";
	in.src = html;
	in.src_len = strlen(html);
	in.known = html_known;
	in.nknown = sizeof(html_known) / sizeof(html_known[0]);
	in.text_src = text;
	return in;
}

#endif
