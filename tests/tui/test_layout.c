/*
 * Screens at the edges of what fits: a long message while a prompt is open,
 * a segment expression longer than its row, a terminal at the smallest
 * sizes (the monitor's counts and the dashboard's menu at 40x12), and a
 * terminal made smaller under the subscriber browser, combining marks, and
 * where a long table says which rows show. Driven with keys,
 * without a terminal; the grid is searched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "tui/helpers.h"
#include "tui/campaign_fixture.h"
#include "tui/ui.h"

/*
 * At 80 columns, a name refused while its prompt stays open: the whole
 * message shows, wrapped above the status line, with the prompt above it.
 */
static void test_long_error_with_prompt(void **state)
{
	struct ui *ui = logged_in("admin");

	(void)state;
	assert_int_equal(ui_push(ui, &screen_users_ops), 0);
	ui_key(ui, 'n');
	ui_type(ui, "田中");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(ui_input_active(ui));
	assert_true(shows(ui, "user name may hold only letters, digits"));
	assert_true(shows(ui, "\n a letter or digit\n"));
	assert_true(shows(ui, "田中"));
	ui_free(&ui);
}

/*
 * A message of several lines (the pre-send checks' errors, one a line, as
 * the command line prints them) is one paragraph on the status line, never
 * a "?" for each line break.
 */
static void test_message_of_lines(void **state)
{
	struct ui *ui = logged_in("admin");

	(void)state;
	ui_error(ui, "campaign x fails 2 pre-send checks:\n  error  footer-missing\n"
		     "  error  no-dkim\n");
	assert_true(shows(ui, "checks: error  footer-missing; error  no-dkim"));
	ui_free(&ui);
}

/*
 * The prompt's line editor moves its cursor: Home and End, Left and Right
 * over whole characters, Backspace and Delete on either side, typing at the
 * cursor. A long answer scrolls to keep the cursor in view, its start
 * included.
 */
static void test_prompt_cursor(void **state)
{
	struct ui *ui = logged_in("admin");
	char long_text[160];
	int row, col;

	(void)state;
	ui_input(ui, 0, 0, "hello world", "Value: ");
	ui_key(ui, UI_KEY_HOME);
	ui_key(ui, 'X');
	ui_key(ui, UI_KEY_END);
	ui_key(ui, UI_KEY_LEFT);
	ui_key(ui, UI_KEY_LEFT);
	ui_key(ui, 'Y');
	ui_key(ui, UI_KEY_DELETE);
	assert_string_equal(ui_input_text(ui), "Xhello worYd");
	assert_true(shows(ui, "Value: Xhello worYd"));
	ui_cursor(ui, &row, &col);
	assert_int_equal(col, 1 + 7 + 11); /* after the Y */

	ui_input(ui, 0, 0, "東京本社", "Value: ");
	ui_key(ui, UI_KEY_LEFT);
	ui_key(ui, UI_KEY_BACKSPACE);
	assert_string_equal(ui_input_text(ui), "東京社");
	ui_key(ui, UI_KEY_RIGHT);
	ui_key(ui, UI_KEY_RIGHT); /* past the end: stays there */
	ui_key(ui, '!');
	assert_string_equal(ui_input_text(ui), "東京社!");

	snprintf(long_text, sizeof(long_text), "START%0120dEND", 0);
	ui_input(ui, 0, 0, long_text, "Value: ");
	assert_true(shows(ui, "0END"));
	assert_false(shows(ui, "START"));
	ui_key(ui, UI_KEY_HOME);
	assert_true(shows(ui, "Value: START0"));
	ui_cursor(ui, &row, &col);
	assert_int_equal(col, 1 + 7);
	ui_key(ui, UI_KEY_ESC);
	ui_free(&ui);
}

/* The column of the first "^" on the row, or -1. */
static int caret_at(const struct grid *g, int row)
{
	int c;

	for (c = 0; c < g->w; c++)
		if (strcmp(g->cells[row * g->w + c].ch, "^") == 0)
			return c;
	return -1;
}

/*
 * An expression longer than its row: the row shows its end, and the caret
 * stands under the character the error is at, counted in characters.
 */
static void test_segment_caret(void **state)
{
	struct ui *ui = logged_in("marketer");
	const struct grid *g;
	int c;

	(void)state;
	assert_int_equal(ui_push(ui, &screen_lists_ops), 0);
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, 'n');
	ui_type(ui, "attr.city = \"東京\" and domain in (\"example.jp\", \"docomo.ne.jp\", "
		    "\"ezweb.ne.jp\", \"softbank.ne.jp\", \"au.com\", \"i.softbank.jp\") and "
		    "not name starts_with \"佐\"x");
	assert_true(shows(ui, "column 151: expected"));
	g = ui_render(ui);
	c = caret_at(g, 6);
	assert_true(c > 0);
	assert_string_equal(g->cells[5 * g->w + c].ch, "x");
	/* A short one with a wide character before the error. */
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "attr.city = \"東京\" x");
	assert_true(shows(ui, "column 18: expected"));
	g = ui_render(ui);
	c = caret_at(g, 6);
	assert_true(c > 0);
	assert_string_equal(g->cells[5 * g->w + c].ch, "x");
	ui_free(&ui);
}

/* At 40x12 with two campaigns, the monitor's title keeps its state whole. */
static void test_monitor_narrow(void **state)
{
	struct store *st = as("marketer");
	struct ui *ui;

	(void)state;
	assert_int_equal(store_campaign_copy(st, "spring", "summer", NULL), STORE_OK);
	store_close(&st);
	ui = logged_in("operator");
	ui_resize(ui, 40, 12);
	ui_campaign_select("spring");
	assert_int_equal(ui_push(ui, &screen_monitor_ops), 0);
	assert_true(shows(ui, "\n  spring · draft"));
	assert_true(shows(ui, "Tab: next\n"));
	/* Every count shows, on two rows, and the bar fits with its figure. */
	assert_true(shows(ui, "\n    queued 0   in flight 0   sent 0\n"));
	assert_true(shows(ui, "\n    deferred 0   failed 0   uncertain 0\n"));
	assert_true(shows(ui, "0% done\n"));
	ui_free(&ui);
}

/*
 * At 40x12 the dashboard keeps three rows of its menu, and says that there
 * are more; Down scrolls to them.
 */
static void test_dashboard_small(void **state)
{
	struct ui *ui = logged_in("admin");
	int i;

	(void)state;
	ui_resize(ui, 40, 12);
	assert_true(shows(ui, "1-3 of 9\n"));
	assert_true(shows(ui, "> Users"));
	assert_true(shows(ui, "\n  Audit trail"));
	for (i = 0; i < 3; i++)
		ui_key(ui, UI_KEY_DOWN);
	assert_true(shows(ui, "2-4 of 9\n"));
	assert_true(shows(ui, "> Settings"));
	ui_free(&ui);
}

/*
 * A table scrolled to its end in a small terminal shows every row again
 * once the terminal grows: none stays hidden above with room to spare.
 */
static void test_table_grows_back(void **state)
{
	struct ui *ui = logged_in("admin");

	(void)state;
	ui_resize(ui, 80, 30);
	ui_act(ui, UI_END);
	ui_resize(ui, 40, 8);
	assert_true(lacks(ui, "\n  Users"));
	ui_resize(ui, 80, 30);
	assert_true(shows(ui, "\n  Users"));
	assert_true(lacks(ui, " of 9\n"));
	ui_free(&ui);
}

/*
 * A long answer in a narrow prompt, the cursor moved into it: what is just
 * before the cursor shows, and "…" only stands for what follows it, so
 * that what Backspace removes is on the screen.
 */
static void test_prompt_cursor_inside(void **state)
{
	struct ui *ui = logged_in("marketer");
	int i;

	(void)state;
	ui_resize(ui, 40, 12);
	assert_int_equal(ui_push(ui, &screen_subscribers_ops), 0);
	ui_key(ui, '/');
	ui_type(ui, "The quick brown fox jumps over the lazy dog and more text");
	ui_key(ui, UI_KEY_HOME);
	for (i = 0; i < 40; i++)
		ui_key(ui, UI_KEY_RIGHT);
	ui_type(ui, "XYZ");
	assert_true(shows(ui, "lazy XYZ"));
	assert_true(shows(ui, "XYZ…"));
	ui_key(ui, UI_KEY_BACKSPACE);
	assert_true(shows(ui, "lazy XY…"));
	ui_free(&ui);
}

/*
 * Shrinking the terminal keeps the subscriber browser's selection: the
 * 21st of 30 subscribers, selected at 80x30, is still selected and shown at
 * 80x15 (the page now ends at it), Enter opens that person's record, and it
 * stays selected when the terminal grows again.
 */
static void test_browser_resize(void **state)
{
	struct store *st = as("marketer");
	struct ui *ui;
	char email[32];
	int i;

	(void)state;
	for (i = 0; i < 28; i++) {
		snprintf(email, sizeof(email), "p%02d@example.net", i);
		assert_int_equal(store_subscriber_add(st, "m", email, "P", NULL, 0, NULL, NULL),
				 STORE_OK);
	}
	store_close(&st);
	ui = logged_in("marketer");
	ui_resize(ui, 80, 30);
	assert_int_equal(ui_push(ui, &screen_subscribers_ops), 0);
	for (i = 0; i < 20; i++)
		ui_key(ui, 'j');
	assert_true(shows(ui, "> p20@example.net"));
	ui_resize(ui, 80, 15);
	assert_true(shows(ui, "> p20@example.net"));
	assert_true(shows(ui, "\n  p14@example.net"));
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "p20@example.net"));
	assert_true(lacks(ui, "p06@example.net"));
	ui_key(ui, 'q');
	assert_true(shows(ui, "> p20@example.net"));
	ui_resize(ui, 80, 30);
	assert_true(shows(ui, "> p20@example.net"));
	ui_free(&ui);
}

/*
 * Combining marks (U+3099, U+309A, U+0301) stay in the cell of the character
 * before them and take no column: on the grid, cut at its edge, and in the
 * subscriber browser and the member record of a name with marks that NFC
 * keeps (no character has them composed), as the store keeps names.
 */
static void test_combining_marks(void **state)
{
	static const char name[] = "か\xe3\x82\x9aくせい ト\xe3\x82\x9aスト Josx\xcc\x81";
	struct store *st = as("marketer");
	struct ui *ui;
	struct grid g;
	char *dump;

	(void)state;
	assert_int_equal(grid_init(&g, 8, 2), 0);
	assert_int_equal(grid_put(&g, 0, 0, -1, 0, "Jose\xcc\x81|e\xcc\x81\xcc\x81"), 6);
	assert_string_equal(g.cells[3].ch, "e\xcc\x81");
	assert_int_equal(grid_put(&g, 1, 0, 4, 0, "ホ\xe3\x82\x9a\xe2\x80\x8bスト"), 4);
	dump = grid_dump(&g);
	assert_string_equal(dump, "Jose\xcc\x81|e\xcc\x81\xcc\x81\nホ\xe3\x82\x9a…\n");
	free(dump);
	/* A bidi override, an isolate or a line separator shows, as '?': dropped
	 * like a zero-width space, "v\u202eRTL" would read as "vRTL". */
	grid_clear(&g);
	assert_int_equal(grid_put(&g, 0, 0, -1, 0, "v\xe2\x80\xaeRTL"), 5);
	assert_int_equal(grid_put(&g, 1, 0, -1, 0,
				  "a\xe2\x81\xa6"
				  "b\xe2\x80\xa8"
				  "c"),
			 5);
	dump = grid_dump(&g);
	assert_string_equal(dump, "v?RTL\na?b?c\n");
	free(dump);
	/* QA's case: a cut never leaves half a flag (two regional indicators). */
	grid_clear(&g);
	grid_put(&g, 0, 0, -1, 0, "abcde \U0001F1EF\U0001F1F5 flag");
	grid_put(&g, 1, 0, -1, 0, "abc \U0001F1EF\U0001F1F5 flag");
	dump = grid_dump(&g);
	assert_null(strstr(dump, "\U0001F1EF…"));
	free(dump);
	grid_free(&g);
	assert_int_equal(grid_width(name), 20);
	assert_int_equal(
	    store_subscriber_add(st, "m", "kana@example.net", name, NULL, 0, NULL, NULL), STORE_OK);
	store_close(&st);
	ui = logged_in("marketer");
	assert_int_equal(ui_push(ui, &screen_subscribers_ops), 0);
	assert_true(shows(ui, name));
	while (!shows_quiet(ui, "> kana@example.net"))
		ui_key(ui, 'j');
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, name));
	ui_free(&ui);
}

/* The first row of the screen shows range, and no row shows it over heading. */
static void range_in_title(struct ui *ui, const char *heading, const char *range)
{
	char *dump = grid_dump(ui_render(ui)), *head;

	assert_non_null(dump);
	assert_non_null(strstr(dump, range));
	assert_true(strstr(dump, range) < strchr(dump, '\n'));
	head = strstr(dump, heading);
	if (head == NULL)
		fail_msg("no heading \"%s\" in:\n%s", heading, dump);
	*strchrnul(head, '\n') = '\0';
	if (strstr(head, " of ") != NULL)
		fail_msg("the range covers the heading: %s", head);
	free(dump);
}

/*
 * Which rows of a long table show ("1-20 of 27") is on the title bar, clear
 * of the headings: the audit trail at 100x30, the help at 60x14, the
 * dashboard at 45 columns; and at 80x24 the audit trail keeps its Outcome
 * column, which tells a denied record from an ok one.
 */
static void test_table_range(void **state)
{
	struct store *st = as("viewer");
	struct ui *ui;
	char *err = NULL;

	(void)state;
	assert_int_not_equal(store_config_set(st, "sender.name", "X", &err), STORE_OK);
	free(err);
	store_close(&st);
	ui = logged_in("admin");
	ui_resize(ui, 45, 14);
	range_in_title(ui, "  Screen", "1-");
	ui_resize(ui, 60, 14);
	ui_key(ui, '?');
	range_in_title(ui, "  Action", "1-7 of ");
	ui_key(ui, 'q');
	ui_resize(ui, 100, 30);
	assert_int_equal(ui_push(ui, &screen_audit_ops), 0);
	range_in_title(ui, "Outcome", "1-20 of ");
	ui_resize(ui, 80, 24);
	range_in_title(ui, "Outcome  Object", "1-14 of ");
	assert_true(shows(ui, "denied"));
	ui_free(&ui);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_long_error_with_prompt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_message_of_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prompt_cursor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_segment_caret, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_monitor_narrow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dashboard_small, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table_grows_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prompt_cursor_inside, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_browser_resize, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_combining_marks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table_range, setup, teardown),
	};

	if (helpers_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
