/*
 * Leaving a form with what was typed or marked and not saved asks first,
 * with the campaign form's question: the segment editor's Esc and the role
 * editor's q; n goes back to the input as it was, y throws it away. Without
 * changes they leave at once. Ctrl-C asks too when only an open prompt
 * holds what was typed, and its question whether to leave hato puts the
 * prompt it covered back as it was after n. Driven with keys, without a
 * terminal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "tui/helpers.h"
#include "tui/campaign_fixture.h"
#include "tui/ui.h"

static void expression_of(const char *segment, const char *want)
{
	struct store *st = as("marketer");
	char *list = NULL, *expr = NULL;

	assert_int_equal(store_segment_get(st, segment, &list, &expr, NULL), STORE_OK);
	assert_string_equal(expr, want);
	free(list);
	free(expr);
	store_close(&st);
}

/* The marketer in the segment editor, on the segment tokyo of the list m (made here). */
static struct ui *editing_tokyo(void)
{
	struct store *st = as("marketer");
	struct ui *ui;

	assert_int_equal(store_segment_add(st, "tokyo", "m", "attr.city = \"Tokyo\"", NULL),
			 STORE_OK);
	store_close(&st);
	ui = logged_in("marketer");
	assert_int_equal(ui_push(ui, &screen_lists_ops), 0);
	ui_key(ui, UI_KEY_ENTER); /* m's segments */
	ui_key(ui, UI_KEY_ENTER); /* tokyo */
	return ui;
}

static void test_segment_editor_asks(void **state)
{
	struct ui *ui = editing_tokyo();

	(void)state;
	assert_true(shows(ui, "Segment tokyo of the list m"));
	/* Unchanged: Esc leaves at once. */
	ui_key(ui, UI_KEY_ESC);
	assert_true(shows(ui, "left the editor; nothing saved"));
	assert_true(shows(ui, "Segments of the list m"));
	/* Changed: Esc asks; n goes back to the text typed, y leaves it unsaved. */
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, " or attr.city = \"Osaka\"");
	ui_key(ui, UI_KEY_ESC);
	assert_true(shows(ui, "Discard your changes to the segment tokyo? (y/n)"));
	ui_key(ui, 'n');
	assert_true(ui_input_active(ui));
	assert_string_equal(ui_input_text(ui), "attr.city = \"Tokyo\" or attr.city = \"Osaka\"");
	ui_key(ui, UI_KEY_ESC);
	ui_key(ui, 'y');
	assert_true(shows(ui, "discarded; nothing was saved"));
	assert_true(shows(ui, "Segments of the list m"));
	expression_of("tokyo", "attr.city = \"Tokyo\"");
	/* A new segment with an expression typed asks too. */
	ui_key(ui, 'n');
	ui_type(ui, "attr.city = \"Osaka\"");
	ui_key(ui, UI_KEY_ESC);
	assert_true(shows(ui, "Discard this new segment? (y/n)"));
	ui_key(ui, 'y');
	assert_true(shows(ui, "Segments of the list m (1)"));
	ui_free(&ui);
}

/*
 * Ctrl-C in the segment editor asks whether to leave; n puts back the
 * expression's prompt as it was, text and cursor, so that typing goes on
 * where it was and Esc still asks before throwing the changes away.
 */
static void test_interrupt_keeps_prompt(void **state)
{
	struct ui *ui = editing_tokyo();
	int row, col, row2, col2;

	(void)state;
	ui_type(ui, " or attr.city = \"Osaka\"");
	ui_key(ui, UI_KEY_LEFT);
	ui_key(ui, UI_KEY_LEFT);
	ui_key(ui, UI_KEY_LEFT);
	ui_render(ui);
	ui_cursor(ui, &row, &col);
	ui_key(ui, UI_KEY_INTERRUPT);
	assert_true(shows(ui, "What you typed is not saved; leaving throws it away. Leave? (y/n)"));
	ui_key(ui, 'n');
	assert_false(ui_done(ui));
	assert_true(ui_input_active(ui));
	assert_string_equal(ui_input_text(ui), "attr.city = \"Tokyo\" or attr.city = \"Osaka\"");
	assert_true(shows(ui, "    attr.city = \"Tokyo\" or attr.city = \"Osaka\""));
	ui_render(ui);
	ui_cursor(ui, &row2, &col2);
	assert_int_equal(row2, row);
	assert_int_equal(col2, col);
	ui_type(ui, "X");
	assert_string_equal(ui_input_text(ui), "attr.city = \"Tokyo\" or attr.city = \"OsaXka\"");
	ui_key(ui, UI_KEY_ESC);
	assert_true(shows(ui, "Discard your changes to the segment tokyo? (y/n)"));
	ui_key(ui, 'y');
	assert_true(shows(ui, "Segments of the list m"));
	expression_of("tokyo", "attr.city = \"Tokyo\"");
	ui_free(&ui);
}

/*
 * Text typed into an open prompt is unsaved input too: Ctrl-C asks before
 * leaving hato with the campaign form's name typed and not yet entered, or
 * a field's prompt changed; a prompt as it opened, nothing typed, does not
 * hold it back.
 */
static void test_interrupt_typed_prompt(void **state)
{
	struct ui *ui = logged_in("marketer");

	(void)state;
	assert_int_equal(ui_push(ui, &screen_campaigns_ops), 0);
	ui_key(ui, 'n');
	ui_type(ui, "newcamp");
	ui_key(ui, UI_KEY_INTERRUPT);
	assert_false(ui_done(ui));
	assert_true(shows(ui, "What you typed is not saved; leaving throws it away. Leave? (y/n)"));
	ui_key(ui, 'n');
	assert_string_equal(ui_input_text(ui), "newcamp");
	ui_key(ui, UI_KEY_ESC);
	ui_key(ui, UI_KEY_ESC); /* the form, nothing entered */
	assert_true(shows(ui, "> spring"));
	ui_key(ui, 'e');
	ui_key(ui, 'j');
	ui_key(ui, 'j');
	ui_key(ui, 'j');
	ui_key(ui, UI_KEY_ENTER); /* Subject */
	assert_string_equal(ui_input_text(ui), "Spring news");
	ui_key(ui, UI_KEY_INTERRUPT);
	assert_true(ui_done(ui));
	ui_free(&ui);

	ui = logged_in("marketer");
	assert_int_equal(ui_push(ui, &screen_campaigns_ops), 0);
	ui_key(ui, 'e');
	ui_key(ui, 'j');
	ui_key(ui, 'j');
	ui_key(ui, 'j');
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "ABC");
	ui_key(ui, UI_KEY_INTERRUPT);
	assert_false(ui_done(ui));
	assert_true(shows(ui, "What you typed is not saved"));
	ui_key(ui, 'y');
	assert_true(ui_done(ui));
	ui_free(&ui);
}

static void test_role_editor_asks(void **state)
{
	static const char *const perms[] = {"reports"};
	struct store *st = as("admin");
	struct ui *ui;
	int i;

	(void)state;
	assert_int_equal(store_role_add(st, "analyst", perms, 1, NULL), STORE_OK);
	store_close(&st);
	ui = logged_in("admin");
	assert_int_equal(ui_push(ui, &screen_roles_ops), 0);
	for (i = 0; i < 4; i++)
		ui_act(ui, UI_DOWN);
	assert_true(shows(ui, "> analyst"));
	ui_key(ui, 'e');
	ui_act(ui, UI_TOGGLE); /* users */
	ui_key(ui, 'q');
	assert_true(shows(ui, "Discard the permissions you changed? (y/n)"));
	ui_key(ui, 'n');
	assert_true(shows(ui, "Editing analyst"));
	assert_true(shows(ui, "[x]  users"));
	ui_key(ui, 'q');
	ui_key(ui, 'y');
	assert_true(shows(ui, "discarded; nothing was saved"));
	assert_true(shows(ui, "analyst   custom    reports"));
	/* Marked again by hand as it was: nothing to lose, q leaves at once. */
	ui_key(ui, 'e');
	ui_act(ui, UI_TOGGLE);
	ui_act(ui, UI_TOGGLE);
	ui_key(ui, 'q');
	assert_true(shows(ui, "the role analyst was not changed"));
	ui_free(&ui);
}

/*
 * QA's case: a paste longer than a prompt holds is not cut in the middle
 * with what follows the cut (a closing quote) still taken in, to be saved as
 * another expression. Past the limit nothing is taken, the status says so,
 * and Enter is refused until something is deleted.
 */
static void test_long_paste_refused(void **state)
{
	struct ui *ui = editing_tokyo();
	char paste[1400];
	size_t i, n = 0;

	(void)state;
	ui_key(ui, UI_CTRL('u'));
	n += (size_t)snprintf(paste, sizeof(paste), "name contains \"");
	for (i = 0; i < 200; i++) /* 1200 bytes */
		n += (size_t)snprintf(paste + n, sizeof(paste) - n, "日本");
	snprintf(paste + n, sizeof(paste) - n, "\"");
	ui_type(ui, paste);
	assert_true(shows(ui, "an answer holds at most 1024 bytes: what came after was not taken"));
	assert_int_equal(strlen(ui_input_text(ui)), 15 + 336 * 3); /* no closing quote */
	ui_key(ui, UI_KEY_ENTER);
	assert_true(ui_input_active(ui));
	assert_true(shows(ui, "the text was cut at 1024 bytes, the most an answer holds"));
	/* A deletion lets typing go on: the quote closes the shortened string. */
	ui_key(ui, UI_KEY_BACKSPACE);
	ui_type(ui, "\"");
	assert_int_equal(strlen(ui_input_text(ui)), 15 + 335 * 3 + 1);
	ui_key(ui, UI_KEY_ENTER);
	/* What is saved is what the prompt showed. */
	paste[15 + 335 * 3] = '"';
	paste[15 + 335 * 3 + 1] = '\0';
	expression_of("tokyo", paste);
	ui_free(&ui);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_segment_editor_asks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_interrupt_keeps_prompt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_interrupt_typed_prompt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_role_editor_asks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_paste_refused, setup, teardown),
	};

	if (helpers_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
