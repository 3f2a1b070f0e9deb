/*
 * The live monitor without a terminal: its rates, peaks and sparkline, on a
 * fake clock, as the worker's outcomes come in; and a monitor of a campaign
 * no worker sends. Grids are compared with golden files in tests/tui/golden/
 * (regenerate with HATO_UPDATE_GOLDEN=1 and review the diff), after the
 * scrubbing of campaign_screens.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "send/send.h"
#include "store/store.h"
#include "tui/helpers.h"
#include "tui/campaign_fixture.h"
#include "tui/campaign_screens.h"

static double fake_now;

static double fake_clock(void)
{
	return fake_now;
}

static int claim_cb(const struct store_rcpt *r, void *arg)
{
	struct claimed *c = arg;

	c->ids[c->n++] = r->subscriber;
	return 0;
}

/* ---- The live monitor ------------------------------------------------------ */

/* A second passes, and its tick. */
static void tick(struct ui *ui)
{
	fake_now += 1.0;
	ui_act(ui, UI_TICK);
}

/*
 * As the worker would: fills the queue of `name`, in review, approved and
 * sent now by the operator's session, claims its recipients and sets it sending.
 */
static struct store_campaign *start_sending(struct ui *ui, const char *name, struct claimed *cl)
{
	struct store *st = ui_store(ui);
	struct store_campaign *c = NULL;
	int64_t n = 0;

	approve_and_send(ui, name);
	assert_int_equal(store_campaign_get(st, name, &c, NULL), STORE_OK);
	assert_int_equal(store_queue_fill(st, c->id, &n, NULL), STORE_OK);
	assert_int_equal(store_campaign_set_state(st, c->id, STORE_CAMPAIGN_SENDING, NULL, NULL),
			 STORE_OK);
	/* 32 at a time, as the worker claims them, while that gets more */
	for (int before = -1; cl->n < n && cl->n != before;) {
		before = cl->n;
		assert_int_equal(
		    store_queue_claim(st, c->id, time(NULL), 32, NULL, claim_cb, cl, NULL),
		    STORE_OK);
	}
	assert_int_equal(cl->n, n);
	return c;
}

static void sent(struct ui *ui, const struct store_campaign *c, const struct claimed *cl, int from,
		 int to)
{
	for (; from < to; from++)
		assert_int_equal(store_queue_result(ui_store(ui), c->id, cl->ids[from],
						    STORE_RCPT_SENT, "250 ok", NULL, 0, NULL),
				 STORE_OK);
}

static void test_monitor(void **state)
{
	struct ui *ui, *vw, *ad;
	struct store *st;
	struct store_campaign *c = NULL;
	struct claimed cl = {{0}, 0};

	(void)state;
	submit("spring");
	ui = logged_in("operator");
	st = ui_store(ui);
	/* What the worker does, step by step, so that the sparkline is known. */
	c = start_sending(ui, "spring", &cl);
	assert_int_equal(cl.n, 2);
	ui_campaign_select("spring");
	ui_monitor_clock(fake_clock); /* a tick a second */
	assert_int_equal(ui_push(ui, &screen_monitor_ops), 0);
	tick(ui);
	sent(ui, c, &cl, 0, 1);
	tick(ui);
	tick(ui);
	assert_int_equal(store_queue_result(st, c->id, cl.ids[1], STORE_RCPT_FAILED,
					    "550 5.1.1 no such user", NULL, 0, NULL),
			 STORE_OK);
	tick(ui);
	assert_golden(ui, "monitor");

	/* Pause asks first; n keeps it sending, y pauses. */
	ui_key(ui, 'p');
	ui_key(ui, 'n');
	assert_int_equal(state_of(st, "spring"), STORE_CAMPAIGN_SENDING);
	ui_key(ui, 'p');
	ui_key(ui, 'y');
	assert_int_equal(state_of(st, "spring"), STORE_CAMPAIGN_PAUSED);
	assert_true(shows(ui, "Paused: paused by operator"));
	/* Resuming is refused while the worker would pause it again at once. */
	ad = logged_in("admin");
	assert_int_equal(
	    store_config_set(ui_store(ad), "sender.contact", "other@example.com", NULL), STORE_OK);
	ui_key(ui, 'c');
	ui_key(ui, 'y');
	assert_int_equal(state_of(st, "spring"), STORE_CAMPAIGN_PAUSED);
	assert_true(shows(ui, "spring is not resumed, as its approval no longer holds"));
	assert_int_equal(
	    store_config_set(ui_store(ad), "sender.contact", "support@example.com", NULL),
	    STORE_OK);
	ui_free(&ad);
	ui_key(ui, 'c');
	ui_key(ui, 'y');
	assert_int_equal(state_of(st, "spring"), STORE_CAMPAIGN_SENDING);

	/* A viewer sees the same campaign with masked addresses and cannot act. */
	vw = logged_in("viewer");
	ui_campaign_select("spring");
	assert_int_equal(ui_push(vw, &screen_monitor_ops), 0);
	assert_true(shows(vw, "t***@example.org"));
	ui_key(vw, 'X');
	assert_true(shows(vw, "refused: cancel needs the permission \"campaigns.send\""));
	assert_int_equal(ui_push(vw, &screen_review_ops), 0);
	ui_key(vw, 'a');
	assert_true(shows(vw, "needs the permission \"campaigns.approve\""));
	ui_free(&vw);

	ui_key(ui, 'X');
	ui_key(ui, 'y');
	assert_int_equal(state_of(st, "spring"), STORE_CAMPAIGN_CANCELLED);
	store_campaign_free(&c);
	ui_free(&ui);
}

/*
 * The operator's session on the monitor of "spring" sending to `people` more
 * of the list m, at the fake time 100; *c and *cl as start_sending's.
 */
static struct ui *monitoring(int people, struct store_campaign **c, struct claimed *cl)
{
	struct store *st = as("marketer");
	struct ui *ui;
	char addr[64];

	for (int i = 0; i < people; i++) {
		snprintf(addr, sizeof(addr), "r%02d@example.net", i);
		assert_int_equal(store_subscriber_add(st, "m", addr, NULL, NULL, 0, NULL, NULL),
				 STORE_OK);
	}
	store_close(&st);
	submit("spring");
	ui = logged_in("operator");
	*c = start_sending(ui, "spring", cl);
	ui_monitor_clock(fake_clock);
	fake_now = 100;
	ui_campaign_select("spring");
	assert_int_equal(ui_push(ui, &screen_monitor_ops), 0);
	return ui;
}

/*
 * The rate is the messages sent in an interval over its length, so it never
 * exceeds what was sent: 18 messages seen by a tick 1.8 s after the last are
 * 10 a second, not 18; a sample sooner than a second (a key) does not end
 * an interval.
 */
static void test_monitor_rate(void **state)
{
	struct store_campaign *c;
	struct claimed cl = {{0}, 0};
	struct ui *ui = monitoring(18, &c, &cl);

	(void)state;
	sent(ui, c, &cl, 0, 18);
	fake_now = 101.8;
	ui_act(ui, UI_TICK);
	assert_true(shows(ui, "18/min, peak 10/s"));
	sent(ui, c, &cl, 18, 20);
	fake_now = 102.3;
	ui_key(ui, UI_CTRL('l'));
	fake_now = 103.3;
	ui_act(ui, UI_TICK); /* 2 in 1.5 s */
	assert_true(shows(ui, "20/min, peak 10/s"));
	assert_true(shows(ui, "Rate  █▁ ")); /* 10, then 1 */
	store_campaign_free(&c);
	ui_free(&ui);
}

/* From one a second, the rate is given a second, as campaign status gives it (QA). */
static void test_monitor_rate_per_second(void **state)
{
	struct store_campaign *c;
	struct claimed cl = {{0}, 0};
	struct ui *ui = monitoring(90, &c, &cl);

	(void)state;
	sent(ui, c, &cl, 0, 90);
	fake_now = 102;
	ui_act(ui, UI_TICK);
	assert_true(shows(ui, "1.5/s, peak 45/s"));
	assert_true(lacks(ui, "/min"));
	store_campaign_free(&c);
	ui_free(&ui);
}

/* Messages sent before the monitor opened: the rate, but no peak of 0/s. */
static void test_monitor_no_peak(void **state)
{
	struct store_campaign *c;
	struct claimed cl = {{0}, 0};
	struct ui *ui;

	(void)state;
	submit("spring");
	ui = logged_in("operator");
	c = start_sending(ui, "spring", &cl);
	sent(ui, c, &cl, 0, 1);
	ui_monitor_clock(fake_clock);
	fake_now = 100;
	ui_campaign_select("spring");
	assert_int_equal(ui_push(ui, &screen_monitor_ops), 0);
	fake_now = 101.5;
	ui_act(ui, UI_TICK);
	assert_true(shows(ui, "1/min"));
	assert_true(lacks(ui, "peak 0/s"));
	store_campaign_free(&c);
	ui_free(&ui);
}

/*
 * A campaign that finished before the monitor opened has no rate to show,
 * and the screen says so; X on it refuses at once.
 */
static void test_monitor_not_live(void **state)
{
	struct store_campaign *c;
	struct claimed cl = {{0}, 0};
	struct ui *ui;

	(void)state;
	submit("spring");
	ui = logged_in("operator");
	c = start_sending(ui, "spring", &cl);
	sent(ui, c, &cl, 0, 2);
	set_state(ui_store(ui), "spring", STORE_CAMPAIGN_SENT);
	ui_campaign_select("spring");
	assert_int_equal(ui_push(ui, &screen_monitor_ops), 0);
	ui_act(ui, UI_TICK);
	assert_true(shows(ui, "not observed live: it finished before the monitor opened (2 sent"));
	assert_true(lacks(ui, "peak"));
	ui_key(ui, 'X');
	assert_false(ui_input_active(ui));
	assert_true(shows(ui, "spring is sent: it is over, so there is nothing to cancel"));
	store_campaign_free(&c);
	ui_free(&ui);
	/* A sent campaign's form does not open: e says to copy it. */
	ui = logged_in("marketer");
	ui_campaign_select("spring");
	assert_int_equal(ui_push(ui, &screen_campaigns_ops), 0);
	ui_key(ui, 'e');
	assert_true(shows(ui, "spring is sent and can no longer be edited: y copies it"));
	assert_true(lacks(ui, "Template (one of"));
	ui_free(&ui);
}

/* The sparkline scales to the maximum, and a golden that differs fails. */
static void test_sparkline(void **state)
{
	static const int64_t v[] = {0, 1, 2, 4, 8};
	struct grid g;
	char *d;

	(void)state;
	assert_int_equal(grid_init(&g, 8, 1), 0);
	ui_sparkline(&g, 0, 0, 8, v, 5);
	d = grid_dump(&g);
	assert_string_equal(d, "▁▁▂▄█\n");
	free(d);
	assert_false(getenv("HATO_UPDATE_GOLDEN") == NULL && golden_check(&g, "monitor"));
	grid_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sparkline),
	    cmocka_unit_test_setup_teardown(test_monitor, setup, teardown_worker),
	    cmocka_unit_test_setup_teardown(test_monitor_rate, setup, teardown_worker),
	    cmocka_unit_test_setup_teardown(test_monitor_rate_per_second, setup, teardown_worker),
	    cmocka_unit_test_setup_teardown(test_monitor_no_peak, setup, teardown_worker),
	    cmocka_unit_test_setup_teardown(test_monitor_not_live, setup, teardown_worker),
	};

	if (helpers_init() != 0)
		return 1;
	golden_scrub = scrub;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
