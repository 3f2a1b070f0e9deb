/*
 * test_markdown.c: Markdown and HTML bodies, the text part with numbered
 * link references, layouts, and whole campaigns rendered into messages that
 * Python's email package parses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>

#include "templates/helpers.h"

static const struct kv subscriber[] = {
    {"name", "<b>田中</b> & *Co*"},
    {"unsubscribe_url", "https://hato.example/u/TOKEN?a=1&b=2"},
    {"sender.name", "株式会社ハト"},
    {"sender.postal_address", "〒100-0001 東京都千代田区千代田1-1"},
    {"sender.contact", "support@hato.example"},
    {"list.name", "ハト通信"},
    {"attr.vip", "yes"},
    {NULL, NULL},
};

static struct tpl_campaign *compile(enum tpl_kind kind, const char *src, const char *text,
				    const char *layout)
{
	struct tpl_campaign_src cs = {kind, src, strlen(src), text, layout, "{{name|お客様}}へ"};
	struct tpl_campaign *c = NULL;
	char *err = NULL;

	if (tpl_campaign_compile(&cs, &c, &err) != TPL_OK) {
		fprintf(stderr, "compile: %s\n", err);
		free(err);
		fail();
	}
	return c;
}

static char *render(const struct tpl *t, enum tpl_mode mode, const struct kv *kv)
{
	struct tpl_buf b = {0};

	assert_int_equal(tpl_render(t, mode, kv_lookup, (void *)kv, &b), TPL_OK);
	return tpl_buf_steal(&b);
}

static void test_markdown_body(void **state)
{
	static const char md[] = "# Hello {{name|お客様}}\n"
				 "\n"
				 "Dear {{name}}, read [our news](https://hato.example/news?id=1) "
				 "and `code {{name}}`.\n"
				 "\n"
				 "<script>alert(1)</script>\n"
				 "\n"
				 "[bad](javascript:alert(1)) and <https://hato.example/plain>\n"
				 "\n"
				 "[Unsubscribe]({{unsubscribe_url}})\n";
	struct tpl_campaign *c = compile(TPL_KIND_MARKDOWN, md, NULL, "none");
	char *html = render(tpl_campaign_html(c), TPL_MODE_HTML, subscriber);
	char *text = render(tpl_campaign_text(c), TPL_MODE_TEXT, subscriber);

	(void)state;
	/* values are escaped in HTML, and Markdown in a value stays literal */
	assert_non_null(strstr(html, "<h1>Hello &lt;b&gt;田中&lt;/b&gt; &amp; *Co*</h1>"));
	assert_non_null(strstr(html, "<a href=\"https://hato.example/news?id=1\">our news</a>"));
	assert_non_null(strstr(html, "<code>code &lt;b&gt;田中&lt;/b&gt; &amp; *Co*</code>"));
	assert_non_null(strstr(html, "<a href=\"https://hato.example/u/TOKEN?a=1&amp;b=2\">"
				     "Unsubscribe</a>"));
	/* raw HTML and javascript: links are dropped */
	assert_null(strstr(html, "<script>"));
	assert_null(strstr(html, "javascript:"));
	/* the text part: values as they are, links as numbered references */
	assert_string_equal(text, "Hello <b>田中</b> & *Co*\n"
				  "========================\n"
				  "\n"
				  "Dear <b>田中</b> & *Co*, read our news [1] and code <b>田中</b> "
				  "& *Co*.\n"
				  "\n"
				  "bad and https://hato.example/plain\n"
				  "\n"
				  "Unsubscribe [2]\n"
				  "\n"
				  "[1] https://hato.example/news?id=1\n"
				  "[2] https://hato.example/u/TOKEN?a=1&b=2\n");
	free(html);
	free(text);
	tpl_campaign_free(&c);
	assert_null(c);
	tpl_campaign_free(&c);
}

/*
 * A heading's underline in the text part is as wide as the heading with its
 * merged values, at their display width (a wide character counts 2), in a
 * quote too; a value left empty makes it shorter.
 */
/* QA's case: a tag written as a Markdown autolink is a link, not raw HTML dropped. */
static void test_tag_autolink(void **state)
{
	static const char md[] = "Stop: <{{unsubscribe_url}}>\n\nWrite to <{{sender.contact}}>.\n"
				 "\n<https://hato.example/news>\n";
	struct tpl_campaign *c = compile(TPL_KIND_MARKDOWN, md, NULL, "none");
	char *html = render(tpl_campaign_html(c), TPL_MODE_HTML, subscriber);
	char *text = render(tpl_campaign_text(c), TPL_MODE_TEXT, subscriber);

	(void)state;
	assert_non_null(strstr(html,
			       "<p>Stop: <a href=\"https://hato.example/u/TOKEN?a=1&amp;b=2\">"
			       "https://hato.example/u/TOKEN?a=1&amp;b=2</a></p>"));
	assert_non_null(strstr(html, "<p>Write to support@hato.example.</p>"));
	assert_null(strstr(html, "raw HTML omitted"));
	assert_non_null(strstr(text, "Stop: https://hato.example/u/TOKEN?a=1&b=2\n"));
	assert_non_null(strstr(text, "Write to support@hato.example."));
	free(html);
	free(text);
	tpl_campaign_free(&c);
	/* QA's regression: in code (a span, an indented or fenced block), <{{x}}> is literal. */
	c = compile(TPL_KIND_MARKDOWN,
		    "Inline `<{{unsubscribe_url}}>` and ``<{{name}}>``\n\n"
		    "    <{{unsubscribe_url}}> indented\n\n"
		    "```\n<{{sender.contact}}>\n```\n\nAfter: <{{sender.contact}}>\n",
		    NULL, "none");
	html = render(tpl_campaign_html(c), TPL_MODE_HTML, subscriber);
	text = render(tpl_campaign_text(c), TPL_MODE_TEXT, subscriber);
	assert_non_null(
	    strstr(html, "<code>&lt;https://hato.example/u/TOKEN?a=1&amp;b=2&gt;</code>"));
	assert_non_null(strstr(html, "<code>&lt;&lt;b&gt;田中&lt;/b&gt; &amp; *Co*&gt;</code>"));
	assert_non_null(strstr(html, "<pre><code>&lt;https://hato.example/u/TOKEN?a=1&amp;b=2&gt; "
				     "indented"));
	assert_non_null(strstr(html, "<pre><code>&lt;support@hato.example&gt;\n</code></pre>"));
	assert_non_null(strstr(html, "<p>After: support@hato.example</p>"));
	assert_null(strstr(html, "]("));
	assert_null(strstr(text, "]("));
	free(html);
	free(text);
	tpl_campaign_free(&c);
	/* In HTML, <{{x}}> stays as written. */
	c = compile(TPL_KIND_HTML, "<p><{{sender.name}}></p>", NULL, "none");
	html = render(tpl_campaign_html(c), TPL_MODE_HTML, subscriber);
	assert_string_equal(html, "<p><株式会社ハト></p>");
	free(html);
	tpl_campaign_free(&c);
}

/* QA's case: a {{{raw}}} value is HTML, which the text part shows as text. */
static void test_raw_in_text(void **state)
{
	static const struct kv offer[] = {
	    {"attr.offer",
	     "<p>Special <b>offer</b> &amp; <a href=\"https://example.com/o\">more</a></p>"},
	    {NULL, NULL}};
	struct tpl_campaign *c =
	    compile(TPL_KIND_HTML, "<p>Hello</p>\n{{{attr.offer}}}\n<p>Bye</p>", NULL, "none");
	char *text = render(tpl_campaign_text(c), TPL_MODE_TEXT, offer);
	char *html = render(tpl_campaign_html(c), TPL_MODE_HTML, offer);

	(void)state;
	assert_string_equal(
	    text, "Hello\n\nSpecial offer & more [1]\n\n[1] https://example.com/o\n\nBye\n");
	assert_non_null(strstr(html, "<p>Special <b>offer</b> &amp; <a href="));
	free(text);
	free(html);
	tpl_campaign_free(&c);
}

static void test_heading_underline(void **state)
{
	static const char md[] = "# {{name}}, welcome\n"
				 "\n"
				 "> ## {{list.name}} {{#attr.vip}}VIP{{/attr.vip}}\n"
				 "\n"
				 "Setext {{name|friend}}\n"
				 "---\n";
	static const struct kv yamada[] = {
	    {"name", "山田 太郎"}, {"list.name", "ハト通信"}, {"attr.vip", "yes"}, {NULL, NULL}};
	static const struct kv nobody[] = {{"list.name", "News"}, {NULL, NULL}};
	struct tpl_campaign *c = compile(TPL_KIND_MARKDOWN, md, NULL, "none");
	char *s;

	(void)state;
	s = render(tpl_campaign_text(c), TPL_MODE_TEXT, yamada);
	assert_string_equal(s, "山田 太郎, welcome\n"
			       "==================\n"
			       "\n"
			       "> ハト通信 VIP\n"
			       "> ------------\n"
			       "\n"
			       "Setext 山田 太郎\n"
			       "----------------\n");
	free(s);
	s = render(tpl_campaign_text(c), TPL_MODE_TEXT, nobody);
	assert_string_equal(s, ", welcome\n"
			       "=========\n"
			       "\n"
			       "> News \n"
			       "> -----\n"
			       "\n"
			       "Setext friend\n"
			       "-------------\n");
	free(s);
	tpl_campaign_free(&c);
	/* An empty heading first in the body has no underline. fuzz_template
	 * found that its width was taken of a buffer not yet made (clang's
	 * UBSan; the seed empty-heading.md runs it at every `make fuzz`). */
	c = compile(TPL_KIND_MARKDOWN, "#", NULL, "none");
	s = render(tpl_campaign_text(c), TPL_MODE_TEXT, nobody);
	assert_string_equal(s, "\n");
	free(s);
	tpl_campaign_free(&c);
}

static void test_markdown_sections(void **state)
{
	static const char md[] = "Hello\n"
				 "\n"
				 "{{#attr.vip}}\n"
				 "\n"
				 "**VIP** offer\n"
				 "\n"
				 "{{/attr.vip}}\n"
				 "\n"
				 "Bye\n";
	static const struct kv novip[] = {{"attr.vip", "0"}, {NULL, NULL}};
	struct tpl_campaign *c = compile(TPL_KIND_MARKDOWN, md, NULL, NULL);
	char *s;

	(void)state;
	s = render(tpl_campaign_html(c), TPL_MODE_HTML, subscriber);
	assert_string_equal(s, "<p>Hello</p>\n<p><strong>VIP</strong> offer</p>\n<p>Bye</p>\n");
	free(s);
	s = render(tpl_campaign_html(c), TPL_MODE_HTML, novip);
	assert_string_equal(s, "<p>Hello</p>\n<p>Bye</p>\n");
	free(s);
	s = render(tpl_campaign_text(c), TPL_MODE_TEXT, subscriber);
	assert_string_equal(s, "Hello\n\nVIP offer\n\nBye\n");
	free(s);
	s = render(tpl_campaign_text(c), TPL_MODE_TEXT, novip);
	assert_string_equal(s, "Hello\n\nBye\n");
	free(s);
	tpl_campaign_free(&c);
}

static void test_section_in_link_destination(void **state)
{
	static const char md[] = "[x]({{#a}}) then {{/a}}\n";
	struct tpl_campaign_src cs = {TPL_KIND_MARKDOWN, md, strlen(md), NULL, NULL, "s"};
	struct tpl_campaign *c = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(tpl_campaign_compile(&cs, &c, &err), TPL_ESYNTAX);
	assert_null(c);
	assert_non_null(strstr(err, "keep them out of link destinations"));
	free(err);
	err = NULL;
	cs.layout = "fancy";
	assert_int_equal(tpl_campaign_compile(&cs, &c, &err), TPL_ENOTFOUND);
	assert_string_equal(err, "layout: there is no layout called \"fancy\"");
	free(err);
	err = NULL;
	cs.layout = "plain";
	cs.src = "ok {{name";
	cs.src_len = strlen(cs.src);
	assert_int_equal(tpl_campaign_compile(&cs, &c, &err), TPL_ESYNTAX);
	assert_string_equal(err, "body: 1:10: expected \"}}\" to close the tag opened at 1:4");
	free(err);
	err = NULL;
	cs.src = "ok";
	cs.src_len = 2;
	cs.subject = "{{#x}}";
	assert_int_equal(tpl_campaign_compile(&cs, &c, &err), TPL_ESYNTAX);
	assert_string_equal(err,
			    "subject: 1:7: expected {{/x}} to close the section opened at 1:1");
	free(err);
}

static void test_html_body(void **state)
{
	static const char src[] =
	    "<html><head><style>p{color:red}</style></head><body>\n"
	    "<p>Hello {{name}},</p>\n"
	    "<p>See <a href=\"https://hato.example/a?x=1&amp;y=2\">the sale</a>"
	    " &amp; more.<br>Line two</p>\n"
	    "<ul><li>one</li><li>two</li></ul>\n"
	    "<p><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></p></body></html>";
	struct tpl_campaign *c = compile(TPL_KIND_HTML, src, NULL, "none");
	char *s;

	(void)state;
	s = render(tpl_campaign_text(c), TPL_MODE_TEXT, subscriber);
	assert_string_equal(s, "Hello <b>田中</b> & *Co*,\n"
			       "\n"
			       "See the sale [1] & more.\n"
			       "Line two\n"
			       "\n"
			       "- one\n"
			       "- two\n"
			       "\n"
			       "Unsubscribe [2]\n"
			       "\n"
			       "[1] https://hato.example/a?x=1&y=2\n"
			       "[2] https://hato.example/u/TOKEN?a=1&b=2\n");
	free(s);
	s = render(tpl_campaign_html(c), TPL_MODE_HTML, subscriber);
	assert_non_null(strstr(s, "<p>Hello &lt;b&gt;田中&lt;/b&gt; &amp; *Co*,</p>"));
	free(s);
	tpl_campaign_free(&c);
	/* an explicit text source wins */
	c = compile(TPL_KIND_HTML, src, "Text for {{name}}", "none");
	s = render(tpl_campaign_text(c), TPL_MODE_TEXT, subscriber);
	assert_string_equal(s, "Text for <b>田中</b> & *Co*");
	free(s);
	tpl_campaign_free(&c);
}

/* The text part made from the HTML template src is want. */
static void expect_text(const char *src, const char *want)
{
	struct tpl_campaign *c = compile(TPL_KIND_HTML, src, NULL, "none");
	char *s = render(tpl_campaign_text(c), TPL_MODE_TEXT, subscriber);

	assert_string_equal(s, want);
	free(s);
	tpl_campaign_free(&c);
}

/* The text part decodes HTML's character references, numeric and named. */
static void test_html_entities(void **state)
{
	static const char src[] =
	    "<p>a &#x41; &#65; &#128512; &yen; &eacute;&Eacute; &hellip; &mdash; &ndash; "
	    "&ldquo;q&rdquo; &euro;&trade; &AMP; &copy; &#39;</p>"
	    "<p>bad: &#0; &#xD800; &#x110000; &#1; &#150; &#129; &#99999999999;</p>"
	    "<p>left: &bogus; &eacute &#x; &#65 &</p>";
	(void)state;
	expect_text(src, "a A A \xf0\x9f\x98\x80 \xc2\xa5 \xc3\xa9\xc3\x89 \xe2\x80\xa6 "
			 "\xe2\x80\x94 \xe2\x80\x93 \xe2\x80\x9cq\xe2\x80\x9d "
			 "\xe2\x82\xac\xe2\x84\xa2 & \xc2\xa9 '\n"
			 "\n"
			 "bad: \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd "
			 "\xe2\x80\x93 \xef\xbf\xbd \xef\xbf\xbd\n"
			 "\n"
			 "left: &bogus; &eacute &#x; &#65 &\n");
}

/*
 * QA's case: an alt text over 511 bytes and a link over 2047 of Japanese
 * were cut inside a character, and every message failed to build. Both go
 * whole into the text part, their character references decoded.
 */
static void test_long_attributes(void **state)
{
	struct tpl_buf src = {0}, alt = {0}, href = {0}, want = {0}, msg = {0};
	struct tpl_message m = {.from = {"", "news@hato.example"}, .to = {"", "u@example.jp"}};
	struct tpl_campaign *c;
	char *text, *err = NULL;

	(void)state;
	for (int i = 0; i < 200; i++)
		tpl_buf_appends(&alt, "猫");
	tpl_buf_appends(&href, "https://hato.example/");
	for (int i = 0; i < 800; i++)
		tpl_buf_appends(&href, "犬");
	tpl_buf_appendf(&src,
			"<p><img src=\"https://hato.example/c.png\" alt=\"%s &eacute;\">"
			"<a href=\"%s?a=1&amp;b=2\">link</a></p>",
			alt.data, href.data);
	c = compile(TPL_KIND_HTML, src.data, NULL, "none");
	text = render(tpl_campaign_text(c), TPL_MODE_TEXT, subscriber);
	tpl_buf_appendf(&want, "%s \xc3\xa9link [1]\n\n[1] %s?a=1&b=2\n", alt.data, href.data);
	assert_string_equal(text, want.data);
	assert_int_equal(tpl_campaign_render(c, kv_lookup, (void *)subscriber, &m, &msg, &err),
			 TPL_OK);
	free(text);
	tpl_campaign_free(&c);
	tpl_buf_free(&src);
	tpl_buf_free(&alt);
	tpl_buf_free(&href);
	tpl_buf_free(&want);
	tpl_buf_free(&msg);
}

/* QA's case: <pre> keeps its spaces and line ends, and <ol> its numbers. */
static void test_pre_and_ol(void **state)
{
	(void)state;
	expect_text("<p>Table:</p><pre>\nname   qty\napple    3\n\npear     1</pre><p>after</p>",
		    "Table:\n\nname   qty\napple    3\n\npear     1\n\nafter\n");
	expect_text("<ol><li>one</li><li>two<ul><li>x</li></ul></li><li>three</li></ol>",
		    "1. one\n2. two\n\n- x\n\n3. three\n");
	expect_text("<ol start=\"3\"><li>c</li><li>d</li></ol>", "3. c\n4. d\n");
}

static void test_layouts(void **state)
{
	static const char *const legal[] = {"{{sender.name}}",
					    "{{sender.postal_address}}",
					    "{{sender.contact}}",
					    "{{unsubscribe_url}}",
					    "配信停止",
					    "opt out",
					    NULL};
	const struct tpl_layout *l;
	size_t i, k, n = 0;

	(void)state;
	assert_null(tpl_layout_find("nope"));
	assert_string_equal(tpl_layout_find(NULL)->name, "none");
	assert_non_null(tpl_layout_find("plain"));
	assert_non_null(tpl_layout_find("newsletter"));
	for (i = 0; (l = tpl_layout_at(i)) != NULL; i++) {
		struct tpl *t = NULL;

		n++;
		assert_int_equal(tpl_compile(l->html, strlen(l->html), &t, NULL), TPL_OK);
		tpl_free(&t);
		assert_int_equal(tpl_compile(l->text, strlen(l->text), &t, NULL), TPL_OK);
		tpl_free(&t);
		assert_non_null(strstr(l->html, "{{{body}}}"));
		assert_non_null(strstr(l->text, "{{{body}}}"));
		if (strcmp(l->name, "none") == 0)
			continue;
		for (k = 0; legal[k] != NULL; k++) {
			assert_non_null(strstr(l->html, legal[k]));
			assert_non_null(strstr(l->text, legal[k]));
		}
		assert_non_null(strstr(l->html, "<meta name=\"viewport\""));
		assert_non_null(strstr(l->html, "max-width:600px"));
		assert_non_null(strstr(l->html, "role=\"presentation\""));
	}
	assert_int_equal(n, 3);
}

/*
 * The newsletter's text part underlines its banner, the list's name, as wide
 * as the name once merged (a wide character counts 2), not with a fixed 10.
 */
static void test_newsletter_banner(void **state)
{
	static const struct kv weekly[] = {{"list.name", "ハト通信 Weekly"}, {NULL, NULL}};
	static const struct kv news[] = {{"list.name", "News"}, {NULL, NULL}};
	struct tpl_campaign *c = compile(TPL_KIND_MARKDOWN, "Hello\n", NULL, "newsletter");
	char *s;

	(void)state;
	s = render(tpl_campaign_text(c), TPL_MODE_TEXT, weekly);
	s[strlen("ハト通信 Weekly\n===============\n\nHello\n")] = '\0';
	assert_string_equal(s, "ハト通信 Weekly\n===============\n\nHello\n");
	free(s);
	s = render(tpl_campaign_text(c), TPL_MODE_TEXT, news);
	s[strlen("News\n====\n\nHello\n")] = '\0';
	assert_string_equal(s, "News\n====\n\nHello\n");
	free(s);
	tpl_campaign_free(&c);
}

static void test_campaign_message(void **state)
{
	static const char md[] = "こんにちは、{{name|お客様}}さん。\n\n"
				 "[セール会場はこちら](https://hato.example/sale)\n";
	static const char *const layouts[] = {"plain", "newsletter"};
	struct tpl_header h[] = {{"List-Unsubscribe", "<https://hato.example/u/TOKEN>"},
				 {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
	struct tpl_message m = {.from = {"ハト通信", "news@hato.example"},
				.to = {"田中 一郎", "ichiro@example.jp"},
				.headers = h,
				.nheaders = 2};
	struct tpl_buf msg = {0}, j = {0};
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct tpl_campaign *c = compile(TPL_KIND_MARKDOWN, md, NULL, layouts[i]);
		char *html = render(tpl_campaign_html(c), TPL_MODE_HTML, subscriber);
		char *text = render(tpl_campaign_text(c), TPL_MODE_TEXT, subscriber);
		char *err = NULL;

		tpl_buf_reset(&msg);
		assert_int_equal(
		    tpl_campaign_render(c, kv_lookup, (void *)subscriber, &m, &msg, &err), TPL_OK);
		/* the legal footer, in both parts */
		assert_non_null(strstr(text, "〒100-0001 東京都千代田区千代田1-1"));
		assert_non_null(strstr(text, "配信停止"));
		assert_non_null(strstr(text, "https://hato.example/u/TOKEN?a=1&b=2"));
		assert_non_null(strstr(text, "セール会場はこちら [1]"));
		assert_non_null(strstr(text, "[1] https://hato.example/sale"));
		assert_non_null(strstr(html, "support@hato.example"));
		assert_non_null(strstr(html, "href=\"https://hato.example/u/TOKEN?a=1&amp;b=2\""));
		tpl_buf_reset(&j);
		tpl_buf_appendc(&j, '{');
		json_key(&j, "subject", "<b>田中</b> & *Co*へ");
		json_key(&j, "from_name", "ハト通信");
		json_key(&j, "to_name", "田中 一郎");
		json_key(&j, "text", text);
		json_key(&j, "html", html);
		tpl_buf_appendc(&j, '}');
		assert_int_equal(mime_check(&msg, &j), 0);
		free(html);
		free(text);
		tpl_campaign_free(&c);
	}
	tpl_buf_free(&msg);
	tpl_buf_free(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_markdown_body),
	    cmocka_unit_test(test_tag_autolink),
	    cmocka_unit_test(test_raw_in_text),
	    cmocka_unit_test(test_heading_underline),
	    cmocka_unit_test(test_markdown_sections),
	    cmocka_unit_test(test_section_in_link_destination),
	    cmocka_unit_test(test_html_body),
	    cmocka_unit_test(test_html_entities),
	    cmocka_unit_test(test_long_attributes),
	    cmocka_unit_test(test_pre_and_ol),
	    cmocka_unit_test(test_layouts),
	    cmocka_unit_test(test_newsletter_banner),
	    cmocka_unit_test(test_campaign_message),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
