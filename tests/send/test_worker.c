/*
 * tests/send/test_worker.c: white-box tests of the worker's pacing and
 * circuit breaker (send/pace.c), without a store: the rules are set in the
 * struct as pace_init would read them; and of the helper threads that
 * compose a claimed batch (send/pool.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "send/pace.h"
#include "send/private.h"

static void rule(struct pace *p, const char *domain, long per_minute, long per_connection)
{
	struct pace_domain *d = &p->domains[p->ndomains++];

	memset(d, 0, sizeof(*d));
	strcpy(d->name, domain);
	d->per_minute = per_minute;
	d->per_connection = per_connection;
}

#define SEC 1000000LL /* the pacer's clock is in microseconds */

static void test_per_minute(void **state)
{
	struct pace p;
	const char *blocked[4];
	unsigned limit;
	int64_t now = 1000000 * SEC;

	(void)state;
	memset(&p, 0, sizeof(p));
	rule(&p, "slow.example", 2, 0);
	assert_true(pace_take(&p, "slow.example", now, &limit));
	/* Two a minute is one every 30 seconds, not both at once. */
	assert_false(pace_take(&p, "SLOW.example", now, &limit));
	assert_false(pace_take(&p, "slow.example", now + 29 * SEC, &limit));
	assert_int_equal(pace_blocked(&p, now + 29 * SEC, blocked, 4), 1);
	assert_string_equal(blocked[0], "slow.example");
	assert_true(pace_wait_us(&p, now + 29 * SEC) == 1 * SEC);
	/* Other domains are not held back. */
	assert_true(pace_take(&p, "fast.example", now + 29 * SEC, &limit));
	assert_int_equal(limit, 0);
	/* Its next one is due. */
	assert_int_equal(pace_blocked(&p, now + 30 * SEC, blocked, 4), 0);
	assert_true(pace_wait_us(&p, now + 30 * SEC) == 0);
	assert_true(pace_take(&p, "slow.example", now + 30 * SEC, &limit));
	/* A clock stepped back an hour leaves a minute to wait, not an hour. */
	assert_false(pace_take(&p, "slow.example", now - 3600 * SEC, &limit));
	assert_false(pace_take(&p, "slow.example", now - 3570 * SEC, &limit));
	assert_true(pace_take(&p, "slow.example", now - 3540 * SEC, &limit));
}

/* A worker started while the next message to a domain of pace 10 is 30
 * seconds away (pace_init: a gap after the last one sent there, or a minute
 * after the first of a full minute) waits those 30 seconds. */
static void test_per_minute_restart(void **state)
{
	struct pace p;
	unsigned limit;
	int64_t now = 1000000 * SEC;

	(void)state;
	memset(&p, 0, sizeof(p));
	rule(&p, "docomo.ne.jp", 10, 100);
	p.domains[0].next_us = now + 5 * 6 * SEC;
	assert_false(pace_take(&p, "docomo.ne.jp", now, &limit));
	assert_false(pace_take(&p, "docomo.ne.jp", now + 29 * SEC, &limit));
	assert_true(pace_wait_us(&p, now + 29 * SEC) == 1 * SEC);
	assert_true(pace_take(&p, "docomo.ne.jp", now + 30 * SEC, &limit));
}

/*
 * pace 10, asked every 100 ms for 10 minutes, as a worker with a queue of
 * that domain would: never more than 10 in any 60 seconds (a window fixed
 * at the worker's start let 10 go at its end and 10 more at the next one's
 * start), one every 6 seconds rather than 10 in the same second, and still
 * 10 a minute.
 */
static void test_per_minute_sliding(void **state)
{
	struct pace p;
	unsigned limit;
	int64_t start = 1000000 * SEC + 400000, sent[200];
	int n = 0, i;

	(void)state;
	memset(&p, 0, sizeof(p));
	rule(&p, "docomo.ne.jp", 10, 100);
	for (int64_t t = start; t < start + 600 * SEC; t += SEC / 10)
		if (pace_take(&p, "docomo.ne.jp", t, &limit))
			sent[n++] = t;
	assert_int_equal(n, 100);
	for (i = 1; i < n; i++)
		assert_true(sent[i] - sent[i - 1] >= 6 * SEC);
	for (i = 10; i < n; i++)
		assert_true(sent[i] - sent[i - 10] >= 60 * SEC);
}

static void test_rate(void **state)
{
	struct pace p;
	unsigned limit;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.rate = 5;
	p.tokens = 1;
	assert_true(pace_take(&p, "a.example", 0, &limit));
	/* The token is spent: the global rate says wait. */
	assert_false(pace_take(&p, "a.example", 0, &limit));
}

/* A per-connection rule is what one SMTP session may carry to the domain,
 * whatever the number of connections: docomo's default 100 (not 100 / 4, a
 * session every 25), and pace.example.net 0/5 gives 5 (not 5 / 4 = 1, a
 * session per message). The transport counts them per session. */
static void test_per_connection(void **state)
{
	struct pace p;
	unsigned limit;
	int i;

	(void)state;
	memset(&p, 0, sizeof(p));
	rule(&p, "docomo.ne.jp", 0, 100);
	rule(&p, "example.net", 0, 5);
	for (i = 0; i < 100; i++) {
		assert_true(pace_take(&p, "docomo.ne.jp", 0, &limit));
		assert_int_equal(limit, 100);
	}
	for (i = 0; i < 30; i++) {
		assert_true(pace_take(&p, "example.net", 0, &limit));
		assert_int_equal(limit, 5);
	}
	assert_true(pace_take(&p, "other.example", 0, &limit));
	assert_int_equal(limit, 0);
}

static void test_breaker(void **state)
{
	struct pace p;
	char why[300];
	int i;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.breaker_pct = 5;
	/* One 5xx among the first replies is not over 5% of 20: a bad address is no alarm. */
	pace_result(&p, true);
	assert_false(pace_breaker(&p, why, sizeof(why)));
	/* A second is, whatever the next 18 replies say: it trips at once. */
	pace_result(&p, true);
	assert_true(pace_breaker(&p, why, sizeof(why)));
	assert_non_null(strstr(why, "2 of the last 2 replies were 5xx, over the threshold of 5% "
				    "of 20 replies already"));
	/* Each campaign is judged on its own replies. */
	pace_breaker_reset(&p);
	assert_false(pace_breaker(&p, why, sizeof(why)));
	/* 1 in 20 is 5%: not over the threshold; 2 in 21 is. */
	for (i = 0; i < 19; i++)
		pace_result(&p, false);
	pace_result(&p, true);
	assert_false(pace_breaker(&p, why, sizeof(why)));
	pace_result(&p, true);
	assert_true(pace_breaker(&p, why, sizeof(why)));
	assert_non_null(strstr(why, "2 of the last 21 replies were 5xx (9%, threshold 5%)"));
	/* Past 20 replies the share is of the window: 5 in 100 is not over 5%, 6 is. */
	pace_breaker_reset(&p);
	for (i = 0; i < 100; i++)
		pace_result(&p, i % 20 == 19);
	assert_false(pace_breaker(&p, why, sizeof(why)));
	pace_result(&p, true);
	assert_true(pace_breaker(&p, why, sizeof(why)));
	/* At 10%, 2 of the first replies are not over 10% of 20; 3 are. */
	pace_breaker_reset(&p);
	p.breaker_pct = 10;
	pace_result(&p, true);
	pace_result(&p, true);
	assert_false(pace_breaker(&p, why, sizeof(why)));
	pace_result(&p, true);
	assert_true(pace_breaker(&p, why, sizeof(why)));
	/* 0 trips on the first 5xx; 100 never. */
	pace_breaker_reset(&p);
	p.breaker_pct = 0;
	pace_result(&p, false);
	assert_false(pace_breaker(&p, why, sizeof(why)));
	pace_result(&p, true);
	assert_true(pace_breaker(&p, why, sizeof(why)));
	pace_breaker_reset(&p);
	p.breaker_pct = 100;
	for (i = 0; i < PACE_WINDOW; i++)
		pace_result(&p, true);
	assert_false(pace_breaker(&p, why, sizeof(why)));
}

struct loop {
	atomic_int calls[997];
	pthread_t threads[997];
	long nap_ns; /* each call's length */
};

static void count_call(size_t i, void *arg)
{
	struct loop *l = arg;
	struct timespec ts = {0, l->nap_ns};

	atomic_fetch_add(&l->calls[i], 1);
	l->threads[i] = pthread_self();
	if (l->nap_ns > 0)
		nanosleep(&ts, NULL);
}

/* Every index is done exactly once, loop after loop, and on more than one thread. */
static void test_pool(void **state)
{
	static struct loop l;
	struct send_pool *p = NULL;
	size_t helpers, i, round;
	bool other_thread = false;

	(void)state;
	for (helpers = 0; helpers <= 3; helpers++) {
		assert_int_equal(send_pool_new(helpers, &p), SEND_OK);
		assert_int_equal(send_pool_threads(p), helpers + 1);
		for (round = 1; round <= 50; round++) {
			size_t n = round == 1 ? 1 : 997 - round;

			memset(&l, 0, sizeof(l));
			send_pool_run(p, n, count_call, &l);
			for (i = 0; i < 997; i++)
				assert_int_equal(atomic_load(&l.calls[i]), i < n ? 1 : 0);
			for (i = 0; i < n; i++)
				if (!pthread_equal(l.threads[i], pthread_self()))
					other_thread = true;
		}
		send_pool_run(p, 0, count_call, &l); /* nothing to do: returns */
		/* calls that take a while (as signing does) leave time for every helper to join */
		memset(&l, 0, sizeof(l));
		l.nap_ns = 2000000;
		send_pool_run(p, 64, count_call, &l);
		for (i = 0; i < 64; i++) {
			assert_int_equal(atomic_load(&l.calls[i]), 1);
			if (!pthread_equal(l.threads[i], pthread_self()))
				other_thread = true;
		}
		send_pool_free(&p);
		assert_null(p);
		if (helpers == 0)
			assert_false(other_thread);
	}
	/* With helpers, some of the work ran beside the caller. */
	assert_true(other_thread);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_per_minute),
	    cmocka_unit_test(test_per_minute_sliding),
	    cmocka_unit_test(test_per_minute_restart),
	    cmocka_unit_test(test_rate),
	    cmocka_unit_test(test_per_connection),
	    cmocka_unit_test(test_breaker),
	    cmocka_unit_test(test_pool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
