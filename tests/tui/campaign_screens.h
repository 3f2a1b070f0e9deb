/*
 * tests/tui/campaign_screens.h: what the campaign screens' tests share
 * (test_campaign_screens.c, test_monitor_screens.c): their teardown, the
 * scrubbing of what changes from run to run before a golden compare, and
 * moving a campaign along.
 */
#ifndef HATO_TESTS_TUI_CAMPAIGN_SCREENS_H
#define HATO_TESTS_TUI_CAMPAIGN_SCREENS_H

#include <ctype.h>
#include <string.h>

#include "store/store.h"
#include "tui/helpers.h"
#include "tui/campaign_fixture.h"
#include "tui/ui.h"

/* Stops the background worker a test started, then removes the folder. */
static inline int teardown_worker(void **state)
{
	ui_worker_stop();
	ui_monitor_clock(NULL);
	return teardown(state);
}

/* Replaces what differs from run to run: tokens, times, dates, pids. */
static inline void scrub(char *s)
{
	char *p;
	int i;

	for (p = s; (p = strstr(p, "/u/")) != NULL; p += 3)
		for (i = 3; isalnum((unsigned char)p[i]) || p[i] == '-' || p[i] == '_'; i++)
			p[i] = 'X';
	for (p = s; *p != '\0'; p++) {
		if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) && p[2] == ':' &&
		    isdigit((unsigned char)p[3]) && isdigit((unsigned char)p[4]))
			memcpy(p, "hh:mm", 5);
		if (strncmp(p, "hh:mm:", 6) == 0 && isdigit((unsigned char)p[6]) &&
		    isdigit((unsigned char)p[7]))
			memcpy(p + 6, "ss", 2);
		if (p[0] == '2' && p[1] == '0' && isdigit((unsigned char)p[2]) &&
		    isdigit((unsigned char)p[3]) && p[4] == '-' && isdigit((unsigned char)p[5]) &&
		    p[7] == '-' && isdigit((unsigned char)p[8]))
			memcpy(p, "YYYY-MM-DD", 10);
		if (strncmp(p, "pid ", 4) == 0)
			for (i = 4; isdigit((unsigned char)p[i]); i++)
				p[i] = 'N';
	}
}

static inline void set_state(struct store *st, const char *name, enum store_campaign_state to)
{
	struct store_campaign *c = NULL;

	assert_int_equal(store_campaign_get(st, name, &c, NULL), STORE_OK);
	assert_int_equal(store_campaign_set_state(st, c->id, to, NULL, NULL), STORE_OK);
	store_campaign_free(&c);
}

/* Approves and sends `name` now as the operator, through the review screen. */
static inline void approve_and_send(struct ui *ui, const char *name)
{
	(void)name;
	assert_int_equal(ui_push(ui, &screen_review_ops), 0);
	ui_key(ui, 'a');
	answer(ui, "");
	ui_key(ui, 'N');
	ui_key(ui, 'y');
	assert_true(shows(ui, "will be sent now"));
	assert_true(ui_worker_pid() > 0 ||
		    shows(ui, "will be sent now; the worker is not running, so nothing is sent"));
	ui_key(ui, 'q');
}

struct claimed {
	int64_t ids[128];
	int n;
};

/* The monitor's clock in the tests: it moves when a test says so. */
#endif
