/*
 * The admin's settings and audit trail screens, without a terminal, as
 * test_screens.c drives the others (goldens in tests/tui/golden/; after a
 * deliberate change, HATO_UPDATE_GOLDEN=1 build/test/tests/tui/test_admin
 * and review the diff).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/helpers.h"
#include "tui/ui.h"

static void test_settings_japanese(void **state)
{
	struct ui *ui = logged_in("admin");

	(void)state;
	assert_int_equal(ui_push(ui, &screen_settings_ops), 0); /* not last on the menu now */
	ui_key(ui, 'n');
	ui_type(ui, "sender.name");
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "鳩メール配信");
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, 'n');
	ui_type(ui, "smtp.password");
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "s3cret-smtp");
	assert_false(shows_quiet(ui, "s3cret"));
	ui_key(ui, UI_KEY_ENTER);
	/* A secret is typed twice, as on the command line; a mismatch starts over. */
	assert_true(shows(ui, "smtp.password again, to be sure:"));
	ui_type(ui, "s3cret-smpt");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "the two values differ; type smtp.password again"));
	assert_true(shows(ui, "New value of smtp.password (not shown):"));
	ui_type(ui, "s3cret-smtp");
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "s3cret-smtp");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "set smtp.password"));
	ui_key(ui, 'n');
	ui_type(ui, "sender.postal_address");
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "東京都千代田区1-1");
	ui_key(ui, UI_KEY_ENTER);
	/* Wide characters take two cells: the columns line up, the secret is masked. */
	assert_golden(ui, "settings");
	assert_false(shows_quiet(ui, "s3cret"));
	/* d unsets the selected setting, after a question: a mistaken secret goes. */
	ui_act(ui, UI_END);
	assert_true(shows(ui, "> smtp.password"));
	ui_key(ui, 'd');
	assert_true(shows(ui, "Unset smtp.password, so that its default holds? (y/n)"));
	ui_key(ui, 'y');
	assert_true(shows(ui, "unset smtp.password"));
	assert_true(shows(ui, "Settings (2 set)"));
	assert_true(lacks(ui, "********"));
	/* A bad value is refused with the store's reason. */
	ui_act(ui, UI_HOME);
	ui_key(ui, 'n');
	ui_type(ui, "no.such.key");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "unknown setting no.such.key"));
	/* Asked again as typed, to be corrected: what is typed next is no key of the screen. */
	assert_true(ui_input_active(ui));
	assert_string_equal(ui_input_text(ui), "no.such.key");
	for (int i = 0; i < 11; i++)
		ui_key(ui, UI_KEY_BACKSPACE);
	ui_type(ui, "approvals.required");
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "two");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "approvals.required takes a whole number"));
	assert_true(ui_input_active(ui));
	assert_string_equal(ui_input_text(ui), "two");
	ui_key(ui, UI_KEY_ESC);
	assert_false(ui_input_active(ui));
	ui_free(&ui);
}

/* Opens the audit screen's filter, empties it and types text. */
static void audit_filter(struct ui *ui, const char *text)
{
	ui_key(ui, '/');
	for (int i = 0; i < 256; i++)
		ui_key(ui, UI_KEY_BACKSPACE);
	ui_type(ui, text);
	ui_key(ui, UI_KEY_ENTER);
}

static void test_audit(void **state)
{
	struct ui *ui = logged_in("admin");

	(void)state;
	ui_act(ui, UI_DOWN);
	ui_act(ui, UI_DOWN);
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "Audit trail, newest first"));
	ui_key(ui, 'v');
	assert_true(shows(ui, "the audit chain is intact"));
	ui_key(ui, '/');
	ui_type(ui, "action:user.");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "3 records match action:user."));
	assert_true(shows(ui, "user.add"));
	assert_false(shows_quiet(ui, " login "));
	/* A filter it cannot read is an error, not 0 records; the filter in force
	 * stays, and the text comes back to be corrected. */
	ui_key(ui, '/');
	ui_key(ui, UI_CTRL('u'));
	enter(ui, "since:garbage");
	assert_true(shows(ui, "not a date: garbage"));
	assert_string_equal(ui_input_text(ui), "since:garbage");
	ui_key(ui, UI_CTRL('u'));
	enter(ui, "admin");
	assert_true(shows(ui, "unknown filter: admin; the filters are user:, action:, since:"));
	ui_key(ui, UI_KEY_ESC);
	assert_true(shows(ui, "filter: action:user."));
	assert_true(shows(ui, "(3 records)"));
	ui_key(ui, '/');
	ui_key(ui, UI_CTRL('u'));
	enter(ui, "user:admin since:2000-01-01");
	assert_true(shows(ui, "records match user:admin since:2000-01-01"));
	assert_true(lacks(ui, "0 records"));
	/* since: takes what audit log --since takes, offsets included. */
	ui_key(ui, '/');
	ui_key(ui, UI_CTRL('u'));
	enter(ui, "since:yesterday");
	assert_true(shows(ui, "not a date: yesterday; since: takes a date such as 2026-11-29"));
	ui_key(ui, UI_KEY_ESC);
	audit_filter(ui, "action:user. since:2000-01-01T09:00+09:00");
	assert_true(shows(ui, "3 records match"));
	audit_filter(ui, "action:user. since:2999-01-01");
	assert_true(shows(ui, "0 records match"));
	ui_free(&ui);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_settings_japanese, setup_three_roles, teardown),
	    cmocka_unit_test_setup_teardown(test_audit, setup_three_roles, teardown),
	};

	if (helpers_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
