/*
 * tests/send/test_retry.c: white-box tests of when a deferred recipient is
 * tried again and when it is given up (send/retry.c): the wait doubles from
 * send.retry_base up to an hour, and a recipient is given up once its next
 * try would come more than send.retry_for after its first attempt.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "send/private.h"

static void test_delay_doubles_to_an_hour(void **state)
{
	(void)state;
	assert_int_equal(send_retry_delay(60, 1), 60);
	assert_int_equal(send_retry_delay(60, 2), 120);
	assert_int_equal(send_retry_delay(60, 3), 240);
	assert_int_equal(send_retry_delay(60, 6), 1920);
	assert_int_equal(send_retry_delay(60, 7), 3600); /* 3840, capped */
	assert_int_equal(send_retry_delay(60, 500), 3600);
	assert_int_equal(send_retry_delay(1, 1), 1);
	assert_int_equal(send_retry_delay(1, 4), 8);
	/* A base longer than the cap is its own cap; a bad one counts as a second. */
	assert_int_equal(send_retry_delay(7200, 3), 7200);
	assert_int_equal(send_retry_delay(0, 1), 1);
}

/* How many attempts are made before the recipient is given up. */
static int attempts_until_given_up(long base, long limit)
{
	time_t next = 0;
	int n;

	for (n = 1; n < 100000; n++)
		if (send_retry_next(base, limit, n, 1000, &next))
			return n;
	return -1;
}

static void test_give_up(void **state)
{
	time_t next = 0;

	(void)state;
	/* Waits of 1, 2, 4: tries at 0, 1, 3; the next at 7 would pass 5. */
	assert_false(send_retry_next(1, 5, 1, 1000, &next));
	assert_int_equal(next, 1001);
	assert_false(send_retry_next(1, 5, 2, 1000, &next));
	assert_int_equal(next, 1002);
	assert_true(send_retry_next(1, 5, 3, 1000, &next));
	assert_int_equal(attempts_until_given_up(1, 5), 3);
	/*
	 * The defaults: 60 s doubling to an hour, for 5 days. The waits add up to
	 * 7,380 s over the first 7 attempts, then an hour each: 118 more reach
	 * 432,180 s, past the 432,000 s of 5 days. So 125 attempts.
	 */
	assert_int_equal(attempts_until_given_up(60, SEND_RETRY_FOR_DEFAULT), 125);
	/* send.retry_for = 0: the first deferral is final. */
	assert_true(send_retry_next(60, 0, 1, 1000, &next));
}

static void test_gave_up_reply(void **state)
{
	char *s = send_retry_gave_up("451 4.3.0 try later", 3);

	(void)state;
	assert_string_equal(s, "451 4.3.0 try later (gave up after 3 attempts)");
	free(s);
}

/* The enhanced codes Gmail and Outlook.com give, in words; anything else, none. */
static void test_reply_cause(void **state)
{
	(void)state;
	assert_non_null(strstr(send_reply_cause("421-4.7.23 The sending IP does not have a PTR "
						"record"),
			       "reverse DNS (PTR)"));
	assert_non_null(strstr(send_reply_cause("550-5.7.26 This mail is unauthenticated"),
			       "neither SPF nor DKIM passes"));
	assert_non_null(strstr(send_reply_cause("550 5.7.515 Access denied"), "Outlook.com"));
	assert_non_null(strstr(send_reply_cause("421 4.7.27 SPF"), "SPF does not pass"));
	assert_null(send_reply_cause("550 5.1.1 no such user"));
	assert_null(send_reply_cause("550 5.7.1 rejected"));
	assert_null(send_reply_cause("250 2.7.26 ok"));
	assert_null(send_reply_cause("550 see 5.7.26x"));
	assert_null(send_reply_cause("550 version1.5.7.26"));
	assert_null(send_reply_cause(""));
	assert_null(send_reply_cause(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_delay_doubles_to_an_hour),
	    cmocka_unit_test(test_give_up),
	    cmocka_unit_test(test_gave_up_reply),
	    cmocka_unit_test(test_reply_cause),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
