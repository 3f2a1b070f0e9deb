/*
 * test_check.c: each pre-send check fires on a template made to trip it, at
 * the right place, and a clean campaign gets no finding at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "check_fixture.h"

static void test_clean(void **state)
{
	struct tpl_check_input in = clean();
	struct tpl_findings *f;
	size_t i;

	(void)state;
	f = run(&in);
	for (i = 0; i < tpl_findings_count(f); i++)
		fprintf(stderr, "unexpected: %s %s\n", tpl_findings_get(f, i)->code,
			tpl_findings_get(f, i)->message);
	assert_int_equal(tpl_findings_count(f), 0);
	assert_null(tpl_findings_get(f, 0));
	tpl_findings_free(&f);
	assert_null(f);
	tpl_findings_free(&f);
	/* the newsletter layout and ISO-2022-JP-clean text are clean too */
	in = clean();
	in.layout = "newsletter";
	in.iso2022jp = true;
	f = run(&in);
	assert_int_equal(tpl_findings_count(f), 0);
	tpl_findings_free(&f);
}

static void test_tags(void **state)
{
	static const char md[] = "Hi {{name}}\n\n{{nmae}} from {{attr.city}} {{attr.zip}}, "
				 "{{attr.zip|-}}\n";
	struct tpl_check_input in = clean();
	const struct tpl_finding *x;
	struct tpl_findings *f;

	(void)state;
	in.src = md;
	in.src_len = strlen(md);
	in.subject = "{{subject.bad}} hi";
	f = run(&in);
	find(f, "unknown-tag", 2);
	x = tpl_findings_get(f, 0);
	assert_string_equal(x->code, "unknown-tag");
	assert_string_equal(x->where, "subject");
	assert_int_equal(x->severity, TPL_SEV_ERROR);
	x = tpl_findings_get(f, 1);
	assert_string_equal(x->where, "body");
	assert_int_equal(x->line, 3);
	assert_int_equal(x->col, 1);
	assert_non_null(strstr(x->message, "{{nmae}}"));
	/* attr.zip has no value for the sample and no fallback, once */
	x = find(f, "unresolved-tag", 1);
	assert_int_equal(x->severity, TPL_SEV_WARNING);
	assert_int_equal(x->line, 3);
	assert_int_equal(x->col, 29);
	tpl_findings_free(&f);
}

static void test_syntax(void **state)
{
	struct tpl_check_input in = clean();
	const struct tpl_finding *x;
	struct tpl_findings *f;

	(void)state;
	in.src = "ok\n\n  {{#a}} never closed";
	in.src_len = strlen(in.src);
	in.subject = "{{bad";
	f = run(&in);
	x = find(f, "syntax", 2);
	assert_string_equal(x->where, "subject");
	assert_int_equal(x->line, 1);
	assert_int_equal(x->col, 6);
	x = tpl_findings_get(f, tpl_findings_count(f) - 1);
	x = NULL;
	for (size_t i = 0; i < tpl_findings_count(f); i++) {
		if (strcmp(tpl_findings_get(f, i)->where, "body") == 0)
			x = tpl_findings_get(f, i);
	}
	assert_non_null(x);
	assert_string_equal(x->code, "syntax");
	assert_int_equal(x->line, 3);
	assert_int_equal(x->col, 22);
	tpl_findings_free(&f);
}

static void test_unsubscribe_and_footer(void **state)
{
	struct tpl_check_input in = clean();
	struct tpl_findings *f;
	const struct tpl_finding *x;

	(void)state;
	in.layout = "none";
	f = run(&in);
	find(f, "no-unsubscribe", 1);
	find(f, "footer-missing", 3);
	tpl_findings_free(&f);
	/* the body's own link and footer satisfy both */
	{
		static const char md[] = "Body\n\n{{sender.name}} {{sender.postal_address}} "
					 "{{sender.contact}} [配信停止]({{unsubscribe_url}})\n";
		static const char *const k2[] = {"sender.", "unsubscribe_url", "name"};

		in.src = md;
		in.src_len = strlen(md);
		in.known = k2;
		in.nknown = 3;
		f = run(&in);
		assert_int_equal(tpl_findings_count(f), 0);
		tpl_findings_free(&f);
	}
	in = clean();
	in.sender_postal_address = "";
	in.sender_contact = NULL;
	f = run(&in);
	x = find(f, "sender-empty", 2);
	assert_string_equal(x->where, "sender");
	assert_int_equal(x->severity, TPL_SEV_ERROR);
	tpl_findings_free(&f);
}

/*
 * A sender identity of blanks shows nothing: sender-empty, as an unset one.
 * Spaces, a tab and a line break, an ideographic space (U+3000), no-break
 * and zero-width spaces, and the characters that render as nothing: the
 * Hangul fillers, the Braille blank, a soft hyphen, the Mongolian vowel
 * separator, word joiner and invisible operators, the combining grapheme
 * joiner, the Khmer inherent vowels, variation selectors and tags. A name
 * with a blank in it is fine.
 */
static void test_sender_blank(void **state)
{
	static const char *const blanks[] = {
	    " ",
	    "  \t\r\n",
	    "\u3000\u3000",
	    "\u00a0",
	    "\u200b \ufeff",
	    "\u3164",
	    "\u2800",
	    "\u00ad",
	    "\u180e",
	    "\u115f\u1160",
	    "\uffa0",
	    "\u2060\u2064",
	    "\u2061\u2062\u2063",
	    "\u034f",
	    "\u17b4\u17b5",
	    "\ufe00\ufe0f",
	    "\U000e0000\U000e0041\U000e007f",
	};
	struct tpl_check_input in;
	const struct tpl_finding *x;
	struct tpl_findings *f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(blanks) / sizeof(blanks[0]); i++) {
		in = clean();
		in.sender_name = blanks[i];
		in.sender_postal_address = blanks[i];
		in.sender_contact = blanks[i];
		f = run(&in);
		x = find(f, "sender-empty", 3);
		assert_int_equal(x->severity, TPL_SEV_ERROR);
		assert_non_null(strstr(x->message, "only blanks"));
		tpl_findings_free(&f);
	}
	in = clean();
	in.sender_name = "\u3000株式会社 ハト ";
	f = run(&in);
	assert_int_equal(tpl_findings_count(f), 0);
	tpl_findings_free(&f);
	assert_true(tpl_is_blank(NULL));
	assert_true(tpl_is_blank(""));
	assert_false(tpl_is_blank(" x "));
	assert_false(tpl_is_blank("\xff")); /* not UTF-8: not known to be blank */
}

static void test_subject(void **state)
{
	struct tpl_check_input in = clean();
	struct tpl_buf s = {0};
	struct tpl_findings *f;
	size_t i;

	static const struct {
		const char *subject;
		size_t empty;
	} cases[] = {
	    {"  ", 1},
	    /* Invisible: a full-width space, a zero-width space, a no-break space. */
	    {"\xe3\x80\x80\xe2\x80\x8b\xc2\xa0", 1},
	    /* Empty for a subscriber without the field, whatever the sample has. */
	    {"{{name}}", 1},
	    {" {{attr.city}} ", 1},
	    {"{{#name}}{{name}}様{{/name}}", 1},
	    {"{{name|お客様}}", 0},
	    {"{{name}}さん、12月号", 0},
	    {"{{sender.name}}より", 0},
	};

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in.subject = cases[i].subject;
		f = run(&in);
		find(f, "subject-empty", cases[i].empty);
		tpl_findings_free(&f);
	}
	/* 150 Japanese characters (450 bytes) are fine; 151 are not */
	for (i = 0; i < 150; i++)
		tpl_buf_appends(&s, "あ");
	in.subject = s.data;
	f = run(&in);
	find(f, "subject-long", 0);
	tpl_findings_free(&f);
	tpl_buf_appends(&s, "い");
	in.subject = s.data;
	f = run(&in);
	assert_string_equal(find(f, "subject-long", 1)->where, "subject");
	tpl_findings_free(&f);
	tpl_buf_free(&s);
}

static void test_links(void **state)
{
	static const char md[] = "Visit [our shop](http://shop.example/) today.\n\n"
				 "[https://bank.example/login](https://evil.example/login)\n\n"
				 "[www.shop.example](https://shop.example/) and "
				 "[sale.shop.example](https://shop.example/) and "
				 "[Read more](https://other.example/) are fine.\n";
	struct tpl_check_input in = clean();
	const struct tpl_finding *x;
	struct tpl_findings *f;

	(void)state;
	in.src = md;
	in.src_len = strlen(md);
	f = run(&in);
	x = find(f, "http-link", 1);
	assert_int_equal(x->line, 1);
	assert_int_equal(x->col, 18);
	x = find(f, "link-mismatch", 1);
	assert_int_equal(x->line, 3);
	assert_int_equal(x->col, 30);
	assert_non_null(strstr(x->message, "bank.example"));
	assert_non_null(strstr(x->message, "evil.example"));
	tpl_findings_free(&f);
}

/* The k-th (from 0) finding with code: its line:col as "L:C". */
static void expect_at(const struct tpl_findings *f, const char *code, size_t k, unsigned line,
		      unsigned col)
{
	size_t i;

	for (i = 0; i < tpl_findings_count(f); i++) {
		const struct tpl_finding *x = tpl_findings_get(f, i);

		if (strcmp(x->code, code) == 0 && k-- == 0) {
			if (x->line != line || x->col != col)
				fail_msg("%s: at %u:%u, wanted %u:%u", code, x->line, x->col, line,
					 col);
			return;
		}
	}
	fail_msg("too few %s findings", code);
}

/* A link or image used twice is placed where each use is, not twice at the first. */
static void test_repeated_places(void **state)
{
	static const char md[] =
	    "# T\n\n[paypal.com](https://evil.example)\n\nx\n\n"
	    "[bank.example](https://evil.example)\n\n"
	    "![](https://i.example/a.png) and ![](https://i.example/a.png)\n\n"
	    "[https://evil.example](https://evil.example) [paypal.com](https://"
	    "evil.example)\n";
	struct tpl_check_input in = clean();
	struct tpl_findings *f;

	(void)state;
	in.src = md;
	in.src_len = strlen(md);
	f = run(&in);
	find(f, "link-mismatch", 3);
	expect_at(f, "link-mismatch", 0, 3, 14);
	expect_at(f, "link-mismatch", 1, 7, 16);
	/* a link showing the URL itself is a use (not a mismatch); its text is no use */
	expect_at(f, "link-mismatch", 2, 11, 59);
	find(f, "img-no-alt", 2);
	expect_at(f, "img-no-alt", 0, 9, 5);
	expect_at(f, "img-no-alt", 1, 9, 38);
	tpl_findings_free(&f);
}

static void test_images_and_size(void **state)
{
	static const char html[] =
	    "<p>{{unsubscribe_url}}</p>\n<img src=\"https://x.example/a.png\">\n"
	    "<img src=\"https://x.example/b.png\" alt=\"\">\n"
	    "<img src=\"https://x.example/c.png\" alt=\"c\">\n";
	struct tpl_check_input in = clean();
	struct tpl_buf big = {0};
	const struct tpl_finding *x;
	struct tpl_findings *f;
	size_t i;

	(void)state;
	in.kind = TPL_KIND_HTML;
	in.src = html;
	in.src_len = strlen(html);
	f = run(&in);
	x = find(f, "img-no-alt", 2);
	assert_int_equal(x->line, 2);
	assert_int_equal(x->col, 11);
	find(f, "html-too-big", 0);
	tpl_findings_free(&f);
	/* Markdown images without alt text, too */
	in = clean();
	in.src = "![](https://x.example/a.png)\n";
	in.src_len = strlen(in.src);
	f = run(&in);
	find(f, "img-no-alt", 1);
	tpl_findings_free(&f);
	/* 110 KB of HTML: Gmail clips it */
	for (i = 0; i < 1100; i++)
		tpl_buf_appends(&big,
				"<p>0123456789012345678901234567890123456789012345678901234567890"
				"123456789012345678901234567890</p>\n");
	in.kind = TPL_KIND_HTML;
	in.src = big.data;
	in.src_len = big.len;
	f = run(&in);
	find(f, "html-too-big", 1);
	tpl_findings_free(&f);
	tpl_buf_free(&big);
}

static void test_jis_dkim_raw_html(void **state)
{
	static const char md[] = "会員番号①の{{name}}様\n\n㈱ハトより\n\n<div>raw</div>\n";
	struct tpl_check_input in = clean();
	const struct tpl_finding *x;
	struct tpl_findings *f;

	(void)state;
	in.src = md;
	in.src_len = strlen(md);
	in.subject = "①のお知らせ";
	in.from_has_dkim = false;
	f = run(&in);
	find(f, "jis-unencodable", 0); /* the option is off */
	x = find(f, "no-dkim", 1);
	assert_int_equal(x->severity, TPL_SEV_ERROR);
	assert_string_equal(x->where, "from");
	x = find(f, "markdown-raw-html", 1);
	assert_int_equal(x->line, 5);
	tpl_findings_free(&f);
	in.iso2022jp = true;
	in.from_has_dkim = true;
	f = run(&in);
	x = find(f, "jis-unencodable", 3);
	assert_string_equal(x->where, "subject");
	assert_non_null(strstr(x->message, "①"));
	assert_int_equal(tpl_findings_count_severity(f, TPL_SEV_ERROR), 0);
	for (size_t i = 0; i < tpl_findings_count(f); i++) {
		x = tpl_findings_get(f, i);
		if (strcmp(x->where, "body") == 0 && strcmp(x->code, "jis-unencodable") == 0 &&
		    x->line == 3)
			assert_int_equal(x->col, 1);
	}
	tpl_findings_free(&f);
}

/*
 * A line too long for ISO-2022-JP's 7bit makes the message UTF-8: a warning
 * says so, only for what the composer can't break (QA: a long Japanese
 * paragraph, which it breaks between characters, was warned of too).
 */
static void test_jis_long_line(void **state)
{
	struct tpl_check_input in = clean();
	const struct tpl_finding *x;
	struct tpl_findings *f;
	struct tpl_buf md = {0};
	int i;

	(void)state;
	tpl_buf_appends(&md, "こんにちは\n\n");
	for (i = 0; i < 500; i++) /* 1,000 bytes and more of ISO-2022-JP, broken by hato */
		tpl_buf_appends(&md, "あ");
	tpl_buf_appends(&md, "\n\n{{unsubscribe_url}}\n");
	in.src = md.data;
	in.src_len = md.len;
	in.iso2022jp = true;
	f = run(&in);
	find(f, "jis-long-line", 0);
	tpl_findings_free(&f);
	/* ASCII with no space to break at, 1,100 bytes */
	tpl_buf_appends(&md, "\n");
	for (i = 0; i < 1100; i++)
		tpl_buf_appendc(&md, 'x');
	tpl_buf_appends(&md, "\n");
	in.src = md.data;
	in.src_len = md.len;
	f = run(&in);
	x = find(f, "jis-long-line", 1);
	assert_string_equal(x->where, "body");
	assert_non_null(strstr(x->message, "go out as UTF-8"));
	tpl_findings_free(&f);
	in.iso2022jp = false;
	f = run(&in);
	find(f, "jis-long-line", 0); /* the option is off */
	tpl_findings_free(&f);
	tpl_buf_free(&md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean),
	    cmocka_unit_test(test_jis_long_line),
	    cmocka_unit_test(test_tags),
	    cmocka_unit_test(test_syntax),
	    cmocka_unit_test(test_unsubscribe_and_footer),
	    cmocka_unit_test(test_sender_blank),
	    cmocka_unit_test(test_subject),
	    cmocka_unit_test(test_links),
	    cmocka_unit_test(test_repeated_places),
	    cmocka_unit_test(test_images_and_size),
	    cmocka_unit_test(test_jis_dkim_raw_html),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
