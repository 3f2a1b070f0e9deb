/*
 * test_merge.c: the merge-tag engine: every tag form, escaping, syntax errors
 * with their exact positions, and hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "templates/helpers.h"

static const struct kv people[] = {
    {"name", "田中"},
    {"email", "tanaka@example.jp"},
    {"attr.city", "大阪"},
    {"unsubscribe_url", "https://hato.example/u/TOKEN"},
    {"list.name", "ハト通信"},
    {"sender.name", "株式会社ハト"},
    {"attr.vip", "1"},
    {"attr.zero", "0"},
    {"attr.false", "FALSE"},
    {"attr.empty", ""},
    {"attr.html", "<a href=\"x\">&'"},
    {NULL, NULL},
};

/* Compiles src, renders it in mode with people, returns the malloc'd result. */
static char *render(const char *src, enum tpl_mode mode, const struct kv *kv)
{
	struct tpl *t = NULL;
	struct tpl_buf b = {0};
	char *err = NULL;

	if (tpl_compile(src, strlen(src), &t, &err) != TPL_OK) {
		fprintf(stderr, "compile: %s\n", err);
		free(err);
		return NULL;
	}
	assert_int_equal(tpl_render(t, mode, kv_lookup, (void *)kv, &b), TPL_OK);
	tpl_free(&t);
	assert_null(t);
	return tpl_buf_steal(&b);
}

static void expect(const char *src, enum tpl_mode mode, const char *want)
{
	char *got = render(src, mode, people);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

/* Compiles src, expecting status st and exactly the error string want. */
static void expect_error(const char *src, size_t len, enum tpl_status st, const char *want)
{
	struct tpl *t = NULL;
	char *err = NULL;

	assert_int_equal(tpl_compile(src, len, &t, &err), st);
	assert_null(t);
	assert_non_null(err);
	if (want != NULL)
		assert_string_equal(err, want);
	free(err);
}

static void test_every_tag_form(void **state)
{
	(void)state;
	expect("{{name}} <{{email}}> {{attr.city}} {{unsubscribe_url}} {{list.name}} "
	       "{{sender.name}}",
	       TPL_MODE_TEXT,
	       "田中 <tanaka@example.jp> 大阪 https://hato.example/u/TOKEN ハト通信 株式会社ハト");
	expect("{{ name }}|{{{ name }}}|{{unset}}|", TPL_MODE_HTML, "田中|田中||");
	expect("a{{! a comment {{ with braces }}b", TPL_MODE_TEXT, "ab");
	expect("no tags at all { } }} {", TPL_MODE_TEXT, "no tags at all { } }} {");
}

static void test_fallback(void **state)
{
	static const struct kv empty_name[] = {{"name", ""}, {NULL, NULL}};
	static const struct kv none[] = {{NULL, NULL}};
	char *got;

	(void)state;
	expect("{{name|お客様}}様", TPL_MODE_TEXT, "田中様");
	got = render("{{name|お客様}}様、こんにちは", TPL_MODE_TEXT, none);
	assert_string_equal(got, "お客様様、こんにちは");
	free(got);
	got = render("{{ name | お客様 }}様", TPL_MODE_TEXT, empty_name);
	assert_string_equal(got, " お客様 様");
	free(got);
	/* An imported header such as 都道府県 names an attribute a tag can show. */
	static const struct kv ja[] = {{"attr.都道府県", "東京都"}, {NULL, NULL}};
	got = render("{{attr.都道府県}}/{{attr.市区町村|不明}}", TPL_MODE_TEXT, ja);
	assert_string_equal(got, "東京都/不明");
	free(got);
	/* QA's case: a value that shows nothing (a space, U+3000, U+200B) takes it too */
	static const struct kv blank[] = {{"attr.a", " "},
					  {"attr.b", "\u3000"},
					  {"attr.c", "\u200b"},
					  {"attr.d", " x "},
					  {NULL, NULL}};
	got = render("{{attr.a|A}}{{attr.b|B}}{{attr.c|C}}{{attr.d|D}}", TPL_MODE_TEXT, blank);
	assert_string_equal(got, "ABC x ");
	free(got);
	/* and a section agrees: what takes the fallback is false */
	got = render("[{{#attr.a}}a{{/attr.a}}{{#attr.b}}b{{/attr.b}}{{#attr.c}}c{{/attr.c}}"
		     "{{#attr.d}}d{{/attr.d}}{{^attr.b}}!{{/attr.b}}]",
		     TPL_MODE_TEXT, blank);
	assert_string_equal(got, "[d!]");
	free(got);
	/* the fallback is text: escaped in HTML like any value */
	got = render("{{name|<お客様>}}|{{{name|<b>}}}", TPL_MODE_HTML, none);
	assert_string_equal(got, "&lt;お客様&gt;|<b>");
	free(got);
}

static void test_sections(void **state)
{
	(void)state;
	expect("{{#attr.vip}}VIP{{/attr.vip}}", TPL_MODE_TEXT, "VIP");
	expect("[{{#attr.zero}}x{{/attr.zero}}{{#attr.false}}x{{/attr.false}}"
	       "{{#attr.empty}}x{{/attr.empty}}{{#unset}}x{{/unset}}]",
	       TPL_MODE_TEXT, "[]");
	expect("[{{^attr.zero}}a{{/attr.zero}}{{^attr.false}}b{{/attr.false}}"
	       "{{^attr.empty}}c{{/attr.empty}}{{^unset}}d{{/unset}}{{^attr.vip}}e{{/attr.vip}}]",
	       TPL_MODE_TEXT, "[abcd]");
	expect(
	    "{{#attr.vip}}1{{#unset}}2{{^attr.vip}}3{{/attr.vip}}{{/unset}}4{{^unset}}5{{/unset}}"
	    "{{/attr.vip}}6",
	    TPL_MODE_TEXT, "1456");
	/* a section tag alone on its line takes the line with it */
	expect("a\n  {{#attr.vip}}  \nb\n{{/attr.vip}}\r\nc\n{{#unset}}\nd\n{{/unset}}\ne",
	       TPL_MODE_TEXT, "a\nb\nc\ne");
}

static void test_escaping(void **state)
{
	(void)state;
	expect("{{attr.html}}", TPL_MODE_HTML, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
	expect("{{attr.html}}", TPL_MODE_TEXT, "<a href=\"x\">&'");
	expect("{{{attr.html}}}", TPL_MODE_HTML, "<a href=\"x\">&'");
	expect("{{{attr.html}}}", TPL_MODE_TEXT, "<a href=\"x\">&'");
	/* template text itself is never escaped */
	expect("<p>&amp; {{name}}</p>", TPL_MODE_HTML, "<p>&amp; 田中</p>");
}

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_error("Hello {{name", 12, TPL_ESYNTAX,
		     "1:13: expected \"}}\" to close the tag opened at 1:7");
	expect_error("Hello {{name\n}}", 15, TPL_ESYNTAX,
		     "1:13: expected \"}}\" to close the tag opened at 1:7");
	expect_error("x {{{raw}}", 10, TPL_ESYNTAX,
		     "1:9: expected \"}}}\" to close the tag opened at 1:3");
	expect_error("line1\n  {{#a}}x{{/b}}", 21, TPL_ESYNTAX,
		     "2:10: expected {{/a}} to close the section opened at 2:3, found {{/b}}");
	expect_error("{{#a}}\nabc", 10, TPL_ESYNTAX,
		     "2:4: expected {{/a}} to close the section opened at 1:1");
	expect_error("{{}}", 4, TPL_ESYNTAX, "1:3: expected a tag name, found '}'");
	expect_error("{{#}}", 5, TPL_ESYNTAX, "1:4: expected a tag name, found '}'");
	expect_error("{{na!me}}", 9, TPL_ESYNTAX,
		     "1:5: expected a name character (A-Z a-z 0-9 _ - ., or a non-ASCII letter) or "
		     "\"}}\", found '!'");
	expect_error("{{a..b}}", 8, TPL_ESYNTAX,
		     "1:3: expected a name of dot-separated parts, found \"a..b\"");
	expect_error("{{.a}}", 6, TPL_ESYNTAX,
		     "1:3: expected a name of dot-separated parts, found \".a\"");
	expect_error("ok\n{{/a}}", 9, TPL_ESYNTAX, "2:1: expected an open section before {{/a}}");
	/* columns count characters, not bytes */
	expect_error("こんにちは{{na!me}}", strlen("こんにちは{{na!me}}"), TPL_ESYNTAX,
		     "1:10: expected a name character (A-Z a-z 0-9 _ - ., or a non-ASCII letter) "
		     "or \"}}\", found '!'");
	expect_error("{{#a|x}}", 8, TPL_ESYNTAX,
		     "1:5: expected \"}}\" after a section name (sections take no fallback), "
		     "found '|'");
	expect_error("{{name|fall\nback}}", 18, TPL_ESYNTAX,
		     "1:12: expected \"}}\" to close the tag opened at 1:1");
	expect_error("{{", 2, TPL_ESYNTAX,
		     "1:3: expected a tag name, found the end of the template");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	expect_error("ab\ncd\xff"
		     "ef",
		     8, TPL_EENCODING, "2:3: expected valid UTF-8 text, found the byte 0xff");
	expect_error("\xc0\xaf", 2, TPL_EENCODING,
		     "1:1: expected valid UTF-8 text, found the byte 0xc0");
	expect_error("日本\xed\xa0\x80", 9, TPL_EENCODING,
		     "1:3: expected valid UTF-8 text, found the byte 0xed");
	expect_error("abc\xe3\x81", 5, TPL_EENCODING,
		     "1:4: expected valid UTF-8 text, found the byte 0xe3");
	expect_error("a\0b", 3, TPL_EENCODING,
		     "1:2: expected valid UTF-8 text, found the byte 0x00");
}

static char *repeat(const char *s, size_t times, const char *tail)
{
	struct tpl_buf b = {0};
	size_t i;

	for (i = 0; i < times; i++)
		tpl_buf_appends(&b, s);
	tpl_buf_appends(&b, tail);
	return tpl_buf_steal(&b);
}

static void test_deep_nesting(void **state)
{
	struct tpl_buf b = {0};
	struct tpl *t = NULL;
	char *src, *err = NULL;
	size_t i;

	(void)state;
	/* 10,000 deep: refused at the 101st with its position */
	for (i = 0; i < 10000; i++)
		tpl_buf_appends(&b, "{{#a}}");
	for (i = 0; i < 10000; i++)
		tpl_buf_appends(&b, "{{/a}}");
	expect_error(b.data, b.len, TPL_ETOOBIG, "1:601: expected at most 100 nested sections");
	/* 10,000 unclosed sections */
	src = repeat("{{#a}}x", 10000, "");
	expect_error(src, strlen(src), TPL_ETOOBIG, "1:701: expected at most 100 nested sections");
	free(src);
	/* exactly 100 deep is fine */
	tpl_buf_reset(&b);
	for (i = 0; i < TPL_MAX_DEPTH; i++)
		tpl_buf_appends(&b, "{{#attr.vip}}");
	tpl_buf_appends(&b, "deep");
	for (i = 0; i < TPL_MAX_DEPTH; i++)
		tpl_buf_appends(&b, "{{/attr.vip}}");
	assert_int_equal(tpl_compile(b.data, b.len, &t, &err), TPL_OK);
	tpl_buf_reset(&b);
	assert_int_equal(tpl_render(t, TPL_MODE_HTML, kv_lookup, (void *)people, &b), TPL_OK);
	assert_string_equal(b.data, "deep");
	tpl_free(&t);
	tpl_buf_free(&b);
	/* 5,000 unclosed tags in a row */
	src = repeat("{{", 5000, "");
	expect_error(src, strlen(src), TPL_ESYNTAX, "1:4: expected a tag name, found '{'");
	free(src);
}

static void test_size_limit(void **state)
{
	size_t big = 50u * 1024 * 1024;
	char *src = malloc(big), *err = NULL;
	struct tpl *t = NULL;

	(void)state;
	assert_non_null(src);
	memset(src, 'a', big);
	memcpy(src, "{{name}}", 8);
	expect_error(src, big, TPL_ETOOBIG,
		     "the template is 52428800 bytes; the limit is 1048576 bytes (1 MiB)");
	/* one byte over, and exactly at the limit */
	expect_error(src, TPL_MAX_SOURCE + 1, TPL_ETOOBIG, NULL);
	assert_int_equal(tpl_compile(src, TPL_MAX_SOURCE, &t, &err), TPL_OK);
	assert_int_equal(tpl_tag_count(t), 1);
	tpl_free(&t);
	free(src);
}

static void test_tag_list(void **state)
{
	static const char src[] = "Hi {{name|お客様}},\n{{#attr.vip}}{{{attr.note}}}{{/attr.vip}}"
				  "{{^list.name}}x{{/list.name}}";
	static const char *const known[] = {"name", "attr.", "email"};
	struct tpl *t = NULL;
	struct tpl_tag g;

	(void)state;
	assert_int_equal(tpl_compile(src, strlen(src), &t, NULL), TPL_OK);
	assert_int_equal(tpl_tag_count(t), 4);
	assert_true(tpl_tag_get(t, 0, &g));
	assert_string_equal(g.name, "name");
	assert_string_equal(g.fallback, "お客様");
	assert_int_equal(g.kind, TPL_TAG_VAR);
	assert_int_equal(g.line, 1);
	assert_int_equal(g.col, 4);
	assert_true(tpl_tag_get(t, 1, &g));
	assert_string_equal(g.name, "attr.vip");
	assert_int_equal(g.kind, TPL_TAG_SECTION);
	assert_int_equal(g.line, 2);
	assert_int_equal(g.col, 1);
	assert_true(tpl_tag_get(t, 2, &g));
	assert_string_equal(g.name, "attr.note");
	assert_null(g.fallback);
	assert_int_equal(g.kind, TPL_TAG_RAW);
	assert_true(tpl_tag_get(t, 3, &g));
	assert_int_equal(g.kind, TPL_TAG_INVERTED);
	assert_false(tpl_tag_get(t, 4, &g));
	assert_true(tpl_name_known("name", known, 3));
	assert_true(tpl_name_known("attr.city", known, 3));
	assert_false(tpl_name_known("attr.", known, 3));
	assert_false(tpl_name_known("nam", known, 3));
	assert_false(tpl_name_known("list.name", known, 3));
	tpl_free(&t);
	tpl_free(&t); /* NULL is fine */
}

static void test_buf(void **state)
{
	struct tpl_buf b = {0};
	char *s;

	(void)state;
	assert_int_equal(tpl_buf_appendf(&b, "%d-%s", 42, "x"), TPL_OK);
	assert_int_equal(tpl_buf_append(&b, "yz", 2), TPL_OK);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.data, "42-xyz");
	tpl_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	tpl_buf_appendc(&b, 'q');
	s = tpl_buf_steal(&b);
	assert_string_equal(s, "q");
	assert_null(b.data);
	free(s);
	s = tpl_buf_steal(&b);
	assert_string_equal(s, "");
	free(s);
	tpl_buf_free(&b);
	assert_string_equal(tpl_strstatus(TPL_ETOOBIG), "over a size limit");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_tag_form), cmocka_unit_test(test_fallback),
	    cmocka_unit_test(test_sections),	   cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_syntax_errors),  cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_deep_nesting),   cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_tag_list),	   cmocka_unit_test(test_buf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
