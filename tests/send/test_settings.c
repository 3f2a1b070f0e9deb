/*
 * tests/send/test_settings.c: the parsers of the settings sending reads
 * (send/settings.c, send/pace.c, send/transport.c), through
 * send_setting_check, which `config set` runs: what the worker would refuse
 * or misread is refused with words that name the setting; what it reads is
 * accepted. And the warm-up table as the worker reads it.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "send/pace.h"
#include "send/private.h"
#include "send/send.h"

/* The value is refused, and the reason names the setting or quotes the value. */
static void refused(const char *key, const char *value)
{
	char *err = NULL;
	bool clear;

	if (send_setting_check(key, value, &err) != SEND_EINVAL)
		fail_msg("%s = \"%s\" was accepted", key, value);
	assert_non_null(err);
	clear = strstr(err, key) != NULL || strstr(err, value) != NULL;
	if (!clear)
		print_error("the reason for %s = \"%s\" says neither: %s\n", key, value, err);
	free(err);
	assert_true(clear);
}

static void accepted(const char *key, const char *value)
{
	char *err = NULL;

	if (send_setting_check(key, value, &err) != SEND_OK)
		fail_msg("%s = \"%s\" was refused: %s", key, value, err ? err : "");
	assert_null(err);
}

/* What QA found accepted, and more of the same. */
static void test_refused(void **state)
{
	(void)state;
	refused("warmup.schedule", "abc,12");
	refused("warmup.schedule", "5,1O,20"); /* a letter O */
	refused("warmup.schedule", "5,,20");
	refused("warmup.schedule", "5,20,");
	refused("warmup.schedule", "-5");
	refused("warmup.start", "tomorrow");
	refused("warmup.start", "2026-02-30");
	refused("warmup.start", "2026-12-01x");
	refused("warmup.volume", "0");
	refused("send.breaker", "x");
	refused("send.breaker", "101");
	refused("send.rate", "abc");
	refused("send.rate", "-1");
	refused("send.rate", " 5");
	refused("send.rate", "99999999999999999999999");
	refused("send.retry_base", "0");
	refused("smtp.connections", "65");
	refused("pace.docomo.ne.jp", "abc");
	refused("pace.docomo.ne.jp", "30/");
	refused("pace.docomo.ne.jp", "30/x");
	refused("pace.docomo.ne.jp", "30/5/1");
	refused("pace.bad_domain", "30");
	refused("send.iso2022jp", "yes");
	refused("smtp.url", "http://x");
	refused("smtp.url", "smtp://");
	refused("smtp.url", "smtp://mail.example.com:99999");
	refused("smtp.tls", "maybe");
	refused("sender.from", "garbage");
	refused("unsubscribe.url", "not a url");
	refused("unsubscribe.url", "http://example.com/u/");
	refused("unsubscribe.url", "https://");
	refused("unsubscribe.url", "https://example.com/u?id=");
	refused("unsubscribe.url", "https://example.com/u/>, <https://evil.example/");
	refused("unsubscribe.url", "https://example.com:0/u/");
	refused("unsubscribe.mailto", "News <unsubscribe@example.com>");
	refused("unsubscribe.mailto", "nobody");
	refused("bounce.domain", "bad domain");
	/* A sender identity of blanks would show nothing in the footer the law requires. */
	refused("sender.name", " ");
	refused("sender.postal_address", "\t \u3000");
	refused("sender.contact", "\u00a0");
}

/* A refused URL that holds a password does not show it. */
static void test_url_secret(void **state)
{
	static const char *const urls[] = {"smtp://u:s3cretpw@mail.example.com/x",
					   "http://u:s3cretpw@mail.example.com"};
	char *err = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		assert_int_equal(send_setting_check("smtp.url", urls[i], &err), SEND_EINVAL);
		assert_non_null(err);
		assert_null(strstr(err, "s3cretpw"));
		free(err);
		err = NULL;
	}
}

static void test_accepted(void **state)
{
	(void)state;
	accepted("warmup.schedule", "ramp");
	accepted("warmup.schedule", "50,80,120");
	accepted("warmup.schedule", "50, 80, 120");
	accepted("warmup.start", "2026-12-01");
	accepted("warmup.start", "2028-02-29");
	accepted("warmup.volume", "20");
	accepted("send.breaker", "0");
	accepted("send.breaker", "100");
	accepted("send.rate", "0");
	accepted("send.rate", "1000000");
	accepted("smtp.connections", "64");
	accepted("pace.docomo.ne.jp", "30");
	accepted("pace.docomo.ne.jp", "0/100");
	accepted("pace.example.net", "0/5");
	accepted("send.iso2022jp", "off");
	accepted("send.iso2022jp", "carriers");
	accepted("smtp.url", "smtp://mail.example.com:587");
	accepted("smtp.url", "smtps://[::1]:465");
	accepted("smtp.url", "file:/tmp/outbox");
	accepted("smtp.tls", "none");
	accepted("sender.from", "News <news@example.com>");
	accepted("sender.name", " Hato Ltd ");
	accepted("sender.contact", ""); /* unset */
	accepted("sender.from", "news@example.com");
	accepted("unsubscribe.url", "https://example.com/u/");
	accepted("unsubscribe.url", "https://example.com:8443/u");
	accepted("unsubscribe.url", "https://example.com");
	accepted("unsubscribe.mailto", "unsubscribe@example.com");
	accepted("bounce.domain", "bounce.example.com");
	/* Unset is the default; free text is free. */
	accepted("send.rate", "");
	accepted("sender.name", "鳩商事株式会社 <x>");
	accepted("feedback.id", "anything at all");
}

/* The worker reads a table entry by entry, and a whole table or nothing. */
static void test_warmup_table(void **state)
{
	long cap, next;

	(void)state;
	assert_int_equal(pace_table_parse("5,10,20", 0, &cap, &next, NULL), SEND_OK);
	assert_int_equal(cap, 5);
	assert_int_equal(next, 10);
	assert_int_equal(pace_table_parse("5, 10 ,20", 2, &cap, &next, NULL), SEND_OK);
	assert_int_equal(cap, 20);
	assert_int_equal(next, -1);
	/* Past the table's end: no cap. */
	assert_int_equal(pace_table_parse("5,10,20", 3, &cap, &next, NULL), SEND_OK);
	assert_int_equal(cap, -1);
	/* "abc,12" was no cap at all, and "5,1O,20" was "5,1". */
	assert_int_equal(pace_table_parse("abc,12", 0, &cap, &next, NULL), SEND_EINVAL);
	assert_int_equal(pace_table_parse("5,1O,20", 0, &cap, &next, NULL), SEND_EINVAL);
}

/* A rule without a per-connection part leaves it as it was (a carrier keeps
 * its 100 a session); numbers are whole and bounded. */
static void test_pace_rule(void **state)
{
	long pm, pc;
	const char *end;
	long n;

	(void)state;
	assert_int_equal(pace_rule_parse("pace.x", "30", &pm, &pc, NULL), SEND_OK);
	assert_int_equal(pm, 30);
	assert_int_equal(pc, -1);
	assert_int_equal(pace_rule_parse("pace.x", "0/5", &pm, &pc, NULL), SEND_OK);
	assert_int_equal(pm, 0);
	assert_int_equal(pc, 5);
	assert_true(send_parse_number("42,", 0, 100, &n, &end));
	assert_int_equal(n, 42);
	assert_string_equal(end, ",");
	assert_false(send_parse_number("101", 0, 100, &n, &end));
	assert_false(send_parse_number("9223372036854775808", 0, 9223372036854775807L, &n, &end));
	assert_false(send_parse_number("+1", 0, 100, &n, &end));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refused),    cmocka_unit_test(test_accepted),
	    cmocka_unit_test(test_url_secret), cmocka_unit_test(test_warmup_table),
	    cmocka_unit_test(test_pace_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
