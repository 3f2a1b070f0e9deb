/*
 * test_token.c: unsubscribe tokens round-trip, and any change to a token, or
 * another key, makes it fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "templates/templates.h"

static void test_round_trip(void **state)
{
	static const uint64_t ids[][2] = {{0, 0},
					  {1, 2},
					  {42, 7},
					  {UINT64_MAX, UINT64_MAX},
					  {0x0123456789abcdefULL, 0xfedcba9876543210ULL}};
	unsigned char key[TPL_UNSUB_KEY_LEN];
	char tok[TPL_UNSUB_TOKEN_LEN + 1];
	uint64_t sub, list;
	size_t i;

	(void)state;
	randombytes_buf(key, sizeof(key));
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		tpl_unsub_token(key, ids[i][0], ids[i][1], tok);
		assert_int_equal(strlen(tok), TPL_UNSUB_TOKEN_LEN);
		/* URL-safe: letters, digits, - and _ only, no padding */
		assert_int_equal(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					     "0123456789-_"),
				 TPL_UNSUB_TOKEN_LEN);
		sub = list = 12345;
		assert_int_equal(tpl_unsub_token_verify(key, tok, &sub, &list), TPL_OK);
		assert_true(sub == ids[i][0]);
		assert_true(list == ids[i][1]);
	}
}

static void test_tampering(void **state)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char key[TPL_UNSUB_KEY_LEN], other[TPL_UNSUB_KEY_LEN];
	char tok[TPL_UNSUB_TOKEN_LEN + 1], bad[TPL_UNSUB_TOKEN_LEN + 2];
	size_t i, k;

	(void)state;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(other, sizeof(other));
	tpl_unsub_token(key, 1001, 7, tok);
	/* every single-character change, to every other character, fails */
	for (i = 0; i < TPL_UNSUB_TOKEN_LEN; i++) {
		for (k = 0; k < 64; k++) {
			if (b64[k] == tok[i])
				continue;
			memcpy(bad, tok, sizeof(tok));
			bad[i] = b64[k];
			assert_int_equal(tpl_unsub_token_verify(key, bad, NULL, NULL), TPL_EINVAL);
		}
	}
	assert_int_equal(tpl_unsub_token_verify(other, tok, NULL, NULL), TPL_EINVAL);
	memcpy(bad, tok, sizeof(tok));
	bad[TPL_UNSUB_TOKEN_LEN - 1] = '\0';
	assert_int_equal(tpl_unsub_token_verify(key, bad, NULL, NULL), TPL_EINVAL);
	memcpy(bad, tok, sizeof(tok));
	bad[TPL_UNSUB_TOKEN_LEN] = 'A';
	bad[TPL_UNSUB_TOKEN_LEN + 1] = '\0';
	assert_int_equal(tpl_unsub_token_verify(key, bad, NULL, NULL), TPL_EINVAL);
	assert_int_equal(tpl_unsub_token_verify(key, "", NULL, NULL), TPL_EINVAL);
	assert_int_equal(tpl_unsub_token_verify(key, NULL, NULL, NULL), TPL_EINVAL);
	memset(bad, '=', TPL_UNSUB_TOKEN_LEN);
	bad[TPL_UNSUB_TOKEN_LEN] = '\0';
	assert_int_equal(tpl_unsub_token_verify(key, bad, NULL, NULL), TPL_EINVAL);
	/* and the original still verifies */
	assert_int_equal(tpl_unsub_token_verify(key, tok, NULL, NULL), TPL_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_tampering),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
