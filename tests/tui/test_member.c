/*
 * The member record's lists: an active membership shows since its consent,
 * an unsubscribed one since it was unsubscribed, not since the consent.
 * A suppressed person's record says by what, address or domain, and why.
 * Driven with keys, without a terminal; the grid is searched.
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

#include "store/store.h"
#include "tui/helpers.h"
#include "tui/campaign_fixture.h"
#include "tui/ui.h"

/* The marketer's session, on the member record of old@example.net. */
static struct ui *open_record(void)
{
	struct ui *ui = logged_in("marketer");

	assert_int_equal(ui_push(ui, &screen_subscribers_ops), 0);
	while (!shows_quiet(ui, "> old@example.net"))
		ui_key(ui, 'j');
	ui_key(ui, UI_KEY_ENTER);
	return ui;
}

static void test_unsubscribed_since(void **state)
{
	const struct store_consent consent = {.source = "web form",
					      .at = "2020-05-01T09:00:00Z",
					      .method = "double opt-in",
					      .version = "terms 2020",
					      .confirmed = "2020-05-01T09:07:00Z"};
	struct store *st = as("marketer");
	struct ui *ui;
	char line[128], today[16];
	time_t now = time(NULL);
	struct tm tm;

	(void)state;
	assert_int_equal(
	    store_subscriber_add(st, "m", "old@example.net", "Old", NULL, 0, &consent, NULL),
	    STORE_OK);
	store_close(&st);
	ui = open_record();
	snprintf(line, sizeof(line), "  %-16s %-13s since 2020-05-01T09:00:00Z", "m", "active");
	assert_true(shows(ui, line));
	ui_free(&ui);

	st = as("marketer");
	assert_int_equal(store_subscriber_unsubscribe(st, "old@example.net", "m", NULL, NULL),
			 STORE_OK);
	store_close(&st);
	ui = open_record();
	/* The day it was done: the day before it, or after it at midnight. */
	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%dT", &tm);
	snprintf(line, sizeof(line), "  %-16s %-13s since %s", "m", "unsubscribed", today);
	if (!shows_quiet(ui, line)) {
		now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(today, sizeof(today), "%Y-%m-%dT", &tm);
		snprintf(line, sizeof(line), "  %-16s %-13s since %s", "m", "unsubscribed", today);
		assert_true(shows(ui, line));
	}
	/* The version and the double opt-in's confirmation, wrapped to the width. */
	assert_true(shows(ui,
			  "consent: web form, by double opt-in, version \"terms 2020\", confirmed\n"
			  "      2020-05-01T09:07:00Z"));
	ui_free(&ui);
}

static void test_suppressed_why(void **state)
{
	struct store *st = as("marketer");
	struct ui *ui;

	(void)state;
	assert_int_equal(
	    store_subscriber_add(st, "m", "old@example.net", "Old", NULL, 0, NULL, NULL), STORE_OK);
	assert_int_equal(store_suppress_add(st, "@example.net", "no longer ours", NULL), STORE_OK);
	store_close(&st);
	ui = open_record();
	assert_true(shows(ui, "Status    suppressed"));
	assert_true(shows(ui, "on the suppression list by its domain; reason: no longer ours"));
	ui_free(&ui);

	/* In the browser too, and under its filter. */
	ui = logged_in("marketer");
	assert_int_equal(ui_push(ui, &screen_subscribers_ops), 0);
	ui_key(ui, '/');
	ui_type(ui, "status:suppressed");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "> old@example.net                Old                   suppressed"));
	ui_free(&ui);
}

/* Long values wrap to the screen's width: their ends show (found in QA). */
static void test_long_values(void **state)
{
	char name[400] = "", memo[600] = "", text[600] = "";
	struct store_attr a = {"memo", memo};
	struct store_consent c = {.source = "shop", .at = "", .method = "", .text = text, .ip = ""};
	struct store *st = as("marketer");
	struct ui *ui;
	int i;

	(void)state;
	for (i = 0; i < 20; i++)
		strcat(name, "長い名前");
	strcat(name, "NAMEEND");
	for (i = 0; i < 60; i++)
		strcat(memo, "メモ");
	strcat(memo, "MEMOEND");
	for (i = 0; i < 40; i++)
		strcat(text, "同意文");
	strcat(text, "TEXTEND");
	assert_int_equal(store_subscriber_add(st, "m", "old@example.net", name, &a, 1, &c, NULL),
			 STORE_OK);
	store_close(&st);
	ui = open_record();
	ui_resize(ui, 80, 40);
	assert_true(shows(ui, "NAMEEND"));
	assert_true(shows(ui, "MEMOEND"));
	assert_true(shows(ui, "TEXTEND"));
	ui_free(&ui);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_unsubscribed_since, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_suppressed_why, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_values, setup, teardown),
	};

	if (helpers_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
