/*
 * Refusals in the UI's words: a session whose user an admin disabled says
 * so wherever it is refused, never that a role lacks a permission; the
 * segment editor says what the store refused in the UI's words, not with
 * the store's action names, and does not open a segment that holds an
 * address for a user without pii. Driven with keys, without a terminal;
 * the grid and the status line are searched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/private.h"
#include "tui/helpers.h"
#include "tui/campaign_fixture.h"
#include "tui/ui.h"

/* The status line holds text; if not, prints it. */
static int says(struct ui *ui, const char *text)
{
	const char *status = ui_status(ui, NULL);

	if (strstr(status, text) != NULL)
		return 1;
	print_error("the status line lacks \"%s\": %s\n", text, status);
	return 0;
}

/* An admin disables the user; the session reads it at its next check, as a second later. */
static void disable(struct ui *ui, const char *user)
{
	struct store *st = as("admin");

	assert_int_equal(store_user_disable(st, user, NULL), STORE_OK);
	store_close(&st);
	ui_store(ui)->checked_ms = 0;
}

/*
 * The viewer, disabled while browsing subscribers: opening a record (which
 * the UI checks first), a search (which the store refuses) and the
 * dashboard all say that the account was disabled.
 */
static void test_disabled(void **state)
{
	struct ui *ui = logged_in("viewer");

	(void)state;
	assert_int_equal(ui_push(ui, &screen_subscribers_ops), 0);
	assert_true(shows(ui, "s***@example.com"));
	disable(ui, "viewer");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(says(ui, "refused: open the record: the account viewer was disabled after "
			     "this session began"));
	assert_null(strstr(ui_status(ui, NULL), "lacks"));
	ui_key(ui, '/');
	ui_type(ui, "Sub");
	assert_true(says(ui, "refused: the account viewer was disabled after this session began"));
	assert_null(strstr(ui_status(ui, NULL), "subscriber.browse"));
	ui_key(ui, UI_KEY_ESC);
	ui_key(ui, 'q');
	assert_true(shows(ui, "the account viewer was disabled after this session began"));
	assert_true(lacks(ui, "your role does not read campaigns"));
	ui_free(&ui);
}

/* Adds the role boss (subscribers.read, segments: no pii) and its user boss. */
static void add_boss(void)
{
	static const char *const perms[] = {"subscribers.read", "segments"};
	struct store *st = as("admin");

	assert_int_equal(store_role_add(st, "boss", perms, 2, NULL), STORE_OK);
	assert_int_equal(
	    store_user_add(st, "boss", "boss", "boss-password-1", STORE_KDF_INTERACTIVE, NULL),
	    STORE_OK);
	store_close(&st);
}

/* An admin gives the role these permissions; the session reads them at its next check. */
static void set_perms(struct ui *ui, const char *role, const char *const *perms, size_t n)
{
	struct store *st = as("admin");

	assert_int_equal(store_role_set_perms(st, role, perms, n, NULL), STORE_OK);
	store_close(&st);
	ui_store(ui)->checked_ms = 0;
}

/*
 * The segment editor's refusals by the store are in the UI's words, never
 * its action names ("segment.count is not allowed for boss..."): a count by
 * email (or by a value holding an "@") without pii, a count once the role no longer reads
 * subscribers, and a save once it no longer writes segments.
 */
static void test_segment_editor_words(void **state)
{
	static const char *const no_read[] = {"segments"};
	static const char *const no_write[] = {"subscribers.read"};
	struct ui *ui;

	(void)state;
	add_boss();
	ui = logged_in("boss");
	assert_int_equal(ui_push(ui, &screen_lists_ops), 0);
	ui_key(ui, UI_KEY_ENTER); /* m's segments */
	ui_key(ui, 'n');
	ui_type(ui, "email ends_with \"example.com\"");
	assert_true(says(ui, "refused: count by email address needs the permission \"pii\", which "
			     "the role boss lacks"));
	/* So is one comparing any field with an address: it would confirm a guessed one. */
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "attr.city = \"Tokyo\" or name in (\"x\", \"a@example.com\")");
	assert_true(says(ui, "refused: count by email address needs the permission \"pii\", which "
			     "the role boss lacks"));
	assert_true(lacks(ui, "1 recipient"));
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "attr.city = \"Tokyo\"");
	assert_true(shows(ui, "1 recipient"));
	assert_false(shows(ui, "1 recipients"));
	set_perms(ui, "boss", no_read, 1);
	ui_type(ui, " or attr.city = \"Osaka\"");
	assert_true(says(ui, "refused: count the recipients needs the permission "
			     "\"subscribers.read\", which the role boss lacks"));
	set_perms(ui, "boss", no_write, 1);
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "kansai");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(says(ui, "refused: save the segment needs the permission \"segments\", which "
			     "the role boss lacks"));
	assert_null(strstr(ui_status(ui, NULL), "segment."));
	ui_free(&ui);
}

/*
 * Without pii, the editor does not open a segment whose expression holds an
 * address, or a string compared with email: it would show it, and saving
 * the masked text would overwrite it. The list shows it masked; another
 * segment opens. With pii, it opens as saved.
 */
static void test_segment_editor_pii(void **state)
{
	struct store *st = as("marketer");
	struct ui *ui;

	(void)state;
	assert_int_equal(store_segment_add(st, "a1", "m", "email = \"sub@example.com\"", NULL),
			 STORE_OK);
	assert_int_equal(store_segment_add(st, "a2", "m", "email starts_with \"sub\"", NULL),
			 STORE_OK);
	assert_int_equal(store_segment_add(st, "a3", "m", "attr.city = \"Tokyo\"", NULL), STORE_OK);
	store_close(&st);
	add_boss();
	ui = logged_in("boss");
	assert_int_equal(ui_push(ui, &screen_lists_ops), 0);
	ui_key(ui, UI_KEY_ENTER); /* m's segments */
	assert_true(shows(ui, "email = \"s***@example.com\""));
	ui_key(ui, UI_KEY_ENTER); /* a1 */
	assert_true(says(ui, "refused: edit the segment a1 (it holds an address masked for you) "
			     "needs the permission \"pii\", which the role boss lacks"));
	assert_true(shows(ui, "Segments of the list m"));
	assert_true(lacks(ui, "sub@example.com"));
	ui_key(ui, 'j');
	ui_key(ui, 'e'); /* a2 */
	assert_true(says(ui, "refused: edit the segment a2"));
	assert_true(lacks(ui, "\"sub\""));
	ui_key(ui, 'j');
	ui_key(ui, UI_KEY_ENTER); /* a3 */
	assert_true(shows(ui, "Segment a3 of the list m"));
	assert_string_equal(ui_input_text(ui), "attr.city = \"Tokyo\"");
	ui_free(&ui);
	ui = logged_in("marketer");
	assert_int_equal(ui_push(ui, &screen_lists_ops), 0);
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, UI_KEY_ENTER);
	assert_string_equal(ui_input_text(ui), "email = \"sub@example.com\"");
	ui_free(&ui);
}

/*
 * QA's case: a role that writes subscribers but lacks pii is not offered
 * what the member record does by the person's address (unsubscribe,
 * suppress, erase); the help says it needs pii too, and the key is refused
 * at once, not after a confirmation, in the UI's words. So are import and
 * export on the lists.
 */
static void test_record_actions_need_pii(void **state)
{
	static const char *const clerk[] = {"subscribers.read", "subscribers.write"};
	struct store *st = as("admin");
	struct ui *ui;

	(void)state;
	assert_int_equal(store_role_add(st, "clerk", clerk, 2, NULL), STORE_OK);
	assert_int_equal(
	    store_user_add(st, "clerk", "clerk", "clerk-password-1", STORE_KDF_INTERACTIVE, NULL),
	    STORE_OK);
	store_close(&st);
	ui = logged_in("clerk");
	assert_int_equal(ui_push(ui, &screen_subscribers_ops), 0);
	assert_true(lacks(ui, "i import CSV"));
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "Member record"));
	assert_true(lacks(ui, "u unsubscribe from all"));
	assert_true(lacks(ui, "b suppress"));
	ui_key(ui, 'u');
	assert_false(ui_input_active(ui));
	assert_true(says(ui, "refused: unsubscribe from all needs the permission \"pii\", which "
			     "the role clerk lacks"));
	ui_key(ui, 'b');
	assert_false(ui_input_active(ui));
	assert_true(says(ui, "refused: suppress needs the permission \"pii\""));
	ui_key(ui, '?');
	assert_true(shows(ui, "subscribers.write + pii"));
	ui_key(ui, 'q');
	ui_key(ui, 'q');
	ui_key(ui, 'q');
	assert_int_equal(ui_push(ui, &screen_lists_ops), 0);
	ui_key(ui, 'i');
	assert_false(ui_input_active(ui));
	assert_true(says(ui, "refused: import CSV needs the permission \"pii\""));
	ui_free(&ui);
	/* The marketer, who has pii, is offered them. */
	ui = logged_in("marketer");
	assert_int_equal(ui_push(ui, &screen_subscribers_ops), 0);
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "u unsubscribe from all"));
	ui_key(ui, 'u');
	assert_true(ui_input_active(ui));
	ui_free(&ui);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_disabled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_segment_editor_words, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_segment_editor_pii, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_actions_need_pii, setup, teardown),
	};

	if (helpers_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
