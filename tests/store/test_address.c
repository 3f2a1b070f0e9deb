/*
 * Unit tests of address checking and normalisation (store/address.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "store/store.h"

static const char *norm(const char *in, const char **why)
{
	static char out[STORE_ADDRESS_MAX + 1];

	if (store_address_normalise(in, strlen(in), out, why) != STORE_OK)
		return NULL;
	return out;
}

static void accepts(const char *in, const char *want)
{
	const char *why = NULL, *got = norm(in, &why);

	if (got == NULL)
		fail_msg("refused %s: %s", in, why);
	assert_string_equal(got, want);
}

static void refuses(const char *in)
{
	const char *why = NULL;

	if (norm(in, &why) != NULL)
		fail_msg("accepted %s", in);
	assert_non_null(why);
}

static void test_dot_atom(void **state)
{
	(void)state;
	accepts("taro@example.com", "taro@example.com");
	accepts("Taro.Yamada@EXAMPLE.COM", "Taro.Yamada@example.com"); /* local keeps case */
	accepts("  a+tag@sub.example.co.jp\t", "a+tag@sub.example.co.jp");
	accepts("!#$%&'*+-/=?^_`{|}~@example.org", "!#$%&'*+-/=?^_`{|}~@example.org");
	refuses("");
	refuses("taro");
	refuses("@example.com");
	refuses("taro@");
	refuses("a..b@example.com");
	refuses(".a@example.com");
	refuses("a.@example.com");
	refuses("a b@example.com");
	refuses("a@b@example.com");
	refuses("taro@localhost");
	refuses("taro@example.123");
	refuses("taro@-example.com");
	refuses("taro@example-.com");
	refuses("taro@exa_mple.com");
	refuses("taro@example..com");
	refuses("taro@example.com.");
	refuses("taro@[192.0.2.1]");
	refuses("t\xc3\xa4ro@example.com"); /* needs SMTPUTF8 */
}

static void test_control(void **state)
{
	(void)state;
	refuses("taro@example.com\r\nBcc: x@y.com");
	refuses("ta\nro@example.com");
	refuses("ta\x01ro@example.com");
	refuses("taro@exa\x7fmple.com");
	refuses("\"ta\rro\"@example.com");
}

static void test_quoted(void **state)
{
	(void)state;
	accepts("\"john doe\"@example.com", "\"john doe\"@example.com");
	accepts("\"a\\\"b\"@example.com", "\"a\\\"b\"@example.com");
	accepts("\"a@b\"@example.com", "\"a@b\"@example.com");
	accepts("\"plain\"@Example.com", "plain@example.com"); /* needless quotes dropped */
	/* One mailbox, one form: escapes that change nothing go. */
	accepts("\"a\\b\"@example.com", "ab@example.com");
	accepts("\"a\\ b\"@example.com", "\"a b\"@example.com");
	accepts("\"a\\\\b\"@example.com", "\"a\\\\b\"@example.com"); /* a real backslash */
	accepts("\"a.b\"@example.com", "a.b@example.com");
	accepts("\"a..b\"@example.com", "\"a..b\"@example.com");
	/* At a carrier the old dots need no quotes: a..b is how it is kept. */
	accepts("\"a..b\"@docomo.ne.jp", "a..b@docomo.ne.jp");
	accepts("\"abc.\"@ezweb.ne.jp", "abc.@ezweb.ne.jp");
	accepts("\"a\\.\\.b\"@docomo.ne.jp", "a..b@docomo.ne.jp");
	refuses("\"\"@example.com");
	refuses("\"unclosed@example.com");
	refuses("\"a\"b\"@example.com");
	refuses("\"a\\\"@example.com");
}

static void test_lengths(void **state)
{
	char buf[400];

	(void)state;
	memset(buf, 'a', 64);
	strcpy(buf + 64, "@example.com");
	accepts(buf, buf);
	memset(buf, 'a', 65);
	strcpy(buf + 65, "@example.com");
	refuses(buf);
	/* a 64-character label is too long */
	strcpy(buf, "a@");
	memset(buf + 2, 'b', 64);
	strcpy(buf + 66, ".com");
	refuses(buf);
}

static void test_idn(void **state)
{
	(void)state;
	accepts("taro@\xe4\xbe\x8b\xe3\x81\x88.jp", "taro@xn--r8jz45g.jp"); /* 例え.jp */
	accepts("taro@M\xc3\xbcnchen.DE", "taro@xn--mnchen-3ya.de");	    /* München */
	accepts("taro@xn--r8jz45g.jp", "taro@xn--r8jz45g.jp");
	refuses("taro@xn--zz.jp");   /* bad A-label */
	refuses("taro@\xff\xfe.jp"); /* not UTF-8 */
}

static void test_carriers(void **state)
{
	(void)state;
	accepts("a..b@docomo.ne.jp", "a..b@docomo.ne.jp");
	accepts("abc.@ezweb.ne.jp", "abc.@ezweb.ne.jp");
	accepts("abc.@EZweb.ne.JP", "abc.@ezweb.ne.jp");
	accepts("x..y.@au.com", "x..y.@au.com");
	accepts("x..y@softbank.ne.jp", "x..y@softbank.ne.jp");
	accepts("x.@i.softbank.jp", "x.@i.softbank.jp");
	refuses("a..b@example.com");
	refuses("abc.@gmail.com");
	refuses("a..b@sub.docomo.ne.jp");
	refuses(".abc@docomo.ne.jp");
	refuses("a b@docomo.ne.jp");
	assert_true(store_address_is_carrier("docomo.ne.jp"));
	assert_false(store_address_is_carrier("example.com"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dot_atom), cmocka_unit_test(test_control),
	    cmocka_unit_test(test_quoted),   cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_idn),	     cmocka_unit_test(test_carriers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
