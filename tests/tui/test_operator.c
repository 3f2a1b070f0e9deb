/*
 * What the operator's screens say and ask: the review queue refuses a user
 * who wrote the campaign, or a campaign still in review, before asking
 * anything, and answers a send time in the past with a key of its own; the
 * live monitor asks to resume in plain words and counts the recipients a
 * cancelled campaign never sends as not sent. Driven with keys, without a
 * terminal; the grid is searched.
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

#include "send/send.h"
#include "store/store.h"
#include "tui/helpers.h"
#include "tui/campaign_fixture.h"
#include "tui/ui.h"

/* Approves spring as the operator, from the command line. */
static void approve_spring(void)
{
	struct store *st = as("operator");
	char *err = NULL;

	if (send_campaign_approve(st, "spring", NULL, NULL, &err) != SEND_OK)
		fail_msg("approving spring: %s", err ? err : "?");
	store_close(&st);
}

/*
 * lead may edit and approve campaigns; having edited spring, lead is
 * refused at once by a, R, t and N, and no question is asked.
 */
static void test_four_eyes_first(void **state)
{
	static const char *const perms[] = {"campaigns.read", "campaigns.edit", "campaigns.approve",
					    "campaigns.send"};
	static const int keys[] = {'a', 'R'};
	struct store_campaign ch = {0};
	struct store *st = as("admin");
	struct ui *ui;
	bool is_error = false;
	size_t i;

	(void)state;
	assert_int_equal(store_role_add(st, "lead", perms, 4, NULL), STORE_OK);
	assert_int_equal(
	    store_user_add(st, "lead", "lead", "lead-password-1", STORE_KDF_INTERACTIVE, NULL),
	    STORE_OK);
	store_close(&st);
	st = as("lead");
	ch.subject = "Spring news, by lead";
	assert_int_equal(store_campaign_edit(st, "spring", &ch, NULL), STORE_OK);
	store_close(&st);
	submit("spring");

	ui = logged_in("lead");
	assert_int_equal(ui_push(ui, &screen_review_ops), 0);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		ui_key(ui, keys[i]);
		assert_false(ui_input_active(ui));
		assert_string_equal(ui_status(ui, &is_error),
				    i == 0
					? "you edited this campaign; another user must approve it"
					: "you edited this campaign; another user must reject it");
		assert_true(is_error);
	}
	ui_free(&ui);

	/* Approved by the operator, it is lead's to schedule or send no more than to approve. */
	approve_spring();
	ui = logged_in("lead");
	assert_int_equal(ui_push(ui, &screen_review_ops), 0);
	ui_key(ui, 't');
	assert_false(ui_input_active(ui));
	assert_true(shows(ui, "you edited this campaign; another user must schedule it"));
	ui_key(ui, 'N');
	assert_false(ui_input_active(ui));
	assert_true(shows(ui, "you edited this campaign; another user must schedule it"));
	ui_free(&ui);
}

/*
 * A campaign in review is neither scheduled nor sent: t and N say so, and
 * what to do first, before asking anything (not for a time, nor y/n).
 */
static void test_review_state_first(void **state)
{
	static const int keys[] = {'t', 'N'};
	struct ui *ui;
	bool is_error = false;
	size_t i;

	(void)state;
	submit("spring");
	ui = logged_in("operator");
	assert_int_equal(ui_push(ui, &screen_review_ops), 0);
	assert_true(shows(ui, "> spring"));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		ui_key(ui, keys[i]);
		assert_false(ui_input_active(ui));
		assert_string_equal(ui_status(ui, &is_error),
				    "spring is in review: approve it first (a)");
		assert_true(is_error);
	}
	assert_int_equal(state_of(ui_store(ui), "spring"), STORE_CAMPAIGN_IN_REVIEW);
	ui_key(ui, 'a');
	assert_true(ui_input_active(ui));
	ui_free(&ui);
}

/* t with a time gone by points at N; with a time to come it says the time. */
static void test_schedule_words(void **state)
{
	struct ui *ui;

	(void)state;
	submit("spring");
	approve_spring();
	ui = logged_in("operator");
	assert_int_equal(ui_push(ui, &screen_review_ops), 0);
	ui_key(ui, 't');
	answer(ui, "2020-01-01T09:00+09:00");
	assert_true(
	    shows(ui, "that time has passed: give a later one, or Esc and N to send spring now"));
	assert_true(lacks(ui, "hato campaign send"));
	assert_int_equal(state_of(ui_store(ui), "spring"), STORE_CAMPAIGN_APPROVED);
	/* Asked again with the time as typed, to be corrected; not a time, too. */
	assert_true(ui_input_active(ui));
	assert_string_equal(ui_input_text(ui), "2020-01-01T09:00+09:00");
	ui_key(ui, UI_KEY_ESC);
	ui_key(ui, 't');
	answer(ui, "soon");
	assert_true(shows(ui, "not a time"));
	assert_true(ui_input_active(ui));
	ui_key(ui, UI_KEY_ESC);
	ui_key(ui, 't');
	answer(ui, "2030-12-01T09:00+09:00");
	assert_true(shows(ui, "spring is scheduled for 2030-12-01 00:00 UTC"));
	assert_int_equal(state_of(ui_store(ui), "spring"), STORE_CAMPAIGN_SCHEDULED);
	ui_free(&ui);
}

/*
 * spring, scheduled with its queue filled, is paused by an operator: c asks
 * to resume it with the reason in brackets. Cancelled, its two queued
 * recipients count as not sent.
 */
/* spring, approved and scheduled with its queue filled, paused by an operator. */
static void paused_spring(void)
{
	struct store_campaign *c = NULL;
	struct store *st;
	int64_t n = 0;

	submit("spring");
	approve_spring();
	st = as("operator");
	assert_int_equal(send_campaign_schedule(st, "spring", time(NULL) + 86400, NULL, NULL),
			 SEND_OK);
	assert_int_equal(store_campaign_get(st, "spring", &c, NULL), STORE_OK);
	assert_int_equal(store_queue_fill(st, c->id, &n, NULL), STORE_OK);
	assert_int_equal(n, 2);
	store_campaign_free(&c);
	assert_int_equal(store_campaign_pause(st, "spring", "paused by an operator", NULL),
			 STORE_OK);
	store_close(&st);
}

static void test_monitor_words(void **state)
{
	struct ui *ui;

	(void)state;
	paused_spring();
	ui = logged_in("operator");
	ui_campaign_select("spring");
	assert_int_equal(ui_push(ui, &screen_monitor_ops), 0);
	assert_true(shows(ui, "queued 2"));
	ui_key(ui, 'c');
	assert_true(shows(ui, "Resume spring (paused: paused by an operator)? (y/n)"));
	ui_key(ui, 'n');
	ui_key(ui, 'X');
	ui_key(ui, 'y');
	assert_true(shows(ui, "spring · cancelled"));
	assert_true(shows(ui, "not sent (cancelled) 2"));
	assert_true(lacks(ui, "queued"));
	ui_free(&ui);
}

/*
 * Resuming spring after a setting its approval covers changed is refused
 * with a long sentence: it wraps on the status rows, whole, to the remedy
 * at its end, at 80x24.
 */
static void test_monitor_refusal_whole(void **state)
{
	struct store *st;
	struct ui *ui;

	(void)state;
	paused_spring();
	st = as("admin");
	config(st, "sender.name", "Hato KK");
	store_close(&st);
	ui = logged_in("operator");
	ui_campaign_select("spring");
	assert_int_equal(ui_push(ui, &screen_monitor_ops), 0);
	ui_key(ui, 'c');
	ui_key(ui, 'y');
	assert_true(shows(ui, "campaign spring is not resumed, as its approval no longer holds"));
	assert_true(shows(ui, "submit it for review again"));
	assert_true(lacks(ui, "…"));
	ui_free(&ui);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_four_eyes_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_review_state_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schedule_words, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_monitor_words, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_monitor_refusal_whole, setup, teardown),
	};

	if (helpers_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
