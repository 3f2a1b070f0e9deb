/*
 * tests/templates/test_mailbox.c: reading a From (templates/header.c,
 * tpl_mailbox_parse), the one parser behind campaign --from and sender.from.
 * A quoted display name is unquoted once and written back as Python's email
 * package reads it; more than one address is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>

#include "tests/templates/helpers.h"

/* s reads as name and addr. */
static void reads(const char *s, const char *name, const char *addr)
{
	char *n = NULL, *a = NULL, *err = NULL;

	if (tpl_mailbox_parse(s, &n, &a, &err) != TPL_OK)
		fail_msg("%s: %s", s, err ? err : "refused");
	assert_string_equal(n, name);
	assert_string_equal(a, addr);
	free(n);
	free(a);
}

/* s is refused, and the reason holds `why`. */
static void refused(const char *s, const char *why)
{
	char *n = NULL, *a = NULL, *err = NULL;

	assert_int_equal(tpl_mailbox_parse(s, &n, &a, &err), TPL_EINVAL);
	assert_null(n);
	assert_null(a);
	assert_non_null(err);
	if (strstr(err, why) == NULL)
		fail_msg("%s: the reason \"%s\" does not say \"%s\"", s, err, why);
	free(err);
}

static void test_reads(void **state)
{
	(void)state;
	reads("news@example.com", "", "news@example.com");
	reads("  news@example.com  ", "", "news@example.com");
	reads("<news@example.com>", "", "news@example.com");
	reads("News <news@example.com>", "News", "news@example.com");
	reads("ニュース編集部 <news@example.com>", "ニュース編集部", "news@example.com");
	/* Quoted: unquoted once, and unescaped. */
	reads("\"Hato, Inc.\" <news@example.com>", "Hato, Inc.", "news@example.com");
	reads("\"Say \\\"Hi\\\"\" <news@example.com>", "Say \"Hi\"", "news@example.com");
	reads("\"鳩, 株式会社\" <news@example.com>", "鳩, 株式会社", "news@example.com");
	/* Words joined by one space; a quoted word's own spaces stay. */
	reads("Hato   \"News  Desk\"  < news@example.com >", "Hato News  Desk", "news@example.com");
	reads("Hato Inc. <news@example.com>", "Hato Inc.", "news@example.com");
}

static void test_refused(void **state)
{
	(void)state;
	/* What QA found: the second address was dropped. */
	refused("\"Eve\" <news@example.com>, x@evil.example", "more than one address");
	refused("news@example.com, x@evil.example", "more than one address");
	refused("Hato, Inc. <news@example.com>", "a name with a comma goes in quotes");
	refused("News <news@example.com> <x@evil.example>", "more after its address");
	refused("News <news@example.com", "no '>'");
	refused("\"News <news@example.com>", "quote that is not closed");
	refused("News (desk) <news@example.com>", "holds '('");
	refused("Undisclosed: ;", "not an email address");
	refused("garbage", "not an email address");
	refused("News <news@@example.com>", "not an email address");
	refused("News <\"a b\"@example.com>", "not an email address");
	refused("News <news@example.com.>", "not an email address");
	refused("", "not an email address");
}

/* A name read from a From is written as a From that Python's email package
 * reads back as the same name: quoted when it holds a special, in RFC 2047
 * encoded-words when it is not ASCII; never with the quotes inside it. */
static void test_round_trip(void **state)
{
	static const char *const from[] = {"\"Hato, Inc.\" <news@example.com>",
					   "\"鳩, 株式会社\" <news@example.com>",
					   "\"Say \\\"Hi\\\"\" <news@example.com>"};
	static const char *const want[] = {"Hato, Inc.", "鳩, 株式会社", "Say \"Hi\""};

	(void)state;
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		struct tpl_message m = {.to = {"", "taro@example.jp"},
					.subject = "Hello",
					.text = "hi\n",
					.text_len = 3,
					.html = "<p>hi</p>\n",
					.html_len = 10};
		struct tpl_buf msg = {0}, j = {0};
		char *name = NULL, *addr = NULL;

		assert_int_equal(tpl_mailbox_parse(from[i], &name, &addr, NULL), TPL_OK);
		m.from = (struct tpl_addr){name, addr};
		assert_int_equal(tpl_message_build(&m, &msg, NULL, NULL), TPL_OK);
		tpl_buf_appendc(&j, '{');
		json_key(&j, "from_name", want[i]);
		json_key(&j, "from_local", "news");
		tpl_buf_appendc(&j, '}');
		assert_int_equal(mime_check(&msg, &j), 0);
		if (i == 0)
			assert_non_null(
			    strstr(msg.data, "From: \"Hato, Inc.\" <news@example.com>\r\n"));
		if (i == 1)
			assert_non_null(strstr(msg.data, "From: =?UTF-8?B?"));
		tpl_buf_free(&msg);
		tpl_buf_free(&j);
		free(name);
		free(addr);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reads),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_round_trip),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
