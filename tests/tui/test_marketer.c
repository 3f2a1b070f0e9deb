/*
 * Unit tests of the marketer screens without a terminal: the subscriber
 * browser (keyset pages, search as you type, Japanese names lined up, masked
 * addresses for a viewer), the member record and its actions, and the CSV
 * import (segments, export and templates: test_marketer_content.c). Each
 * test makes a real store (marketer_fixture.h); the grids are compared with
 * golden files in tests/tui/golden/ (regenerate with HATO_UPDATE_GOLDEN=1
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
#include <sys/stat.h>
#include <unistd.h>

#include "tui/marketer_fixture.h"

/* The display column where `word` starts on grid row y, or -1. */
static int column_of(const struct grid *g, int y, const char *word)
{
	size_t n = strlen(word);
	int x, i, len;
	char buf[64];

	for (x = 0; x < g->w; x++) {
		len = 0;
		for (i = x; i < g->w && (size_t)len < n; i++) {
			const struct grid_cell *c = &g->cells[y * g->w + i];
			if (c->width == 0)
				continue;
			len += snprintf(buf + len, sizeof(buf) - (size_t)len, "%s", c->ch);
			if ((size_t)len > n || strncmp(buf, word, (size_t)len) != 0)
				break;
		}
		if ((size_t)len == n && strncmp(buf, word, n) == 0)
			return x;
	}
	return -1;
}

static void test_browser_japanese(void **state)
{
	struct ui *ui = on_screen("marketer", &screen_subscribers_ops);
	const struct grid *g;
	int y, x, n = 0;

	(void)state;
	/* a..b@ sorts first; the Japanese names are wide, the status column still lines up. */
	assert_golden(ui, "mkt_subs_first");
	g = ui_render(ui);
	x = column_of(g, 4, "Status");
	assert_true(x > 0);
	for (y = 5; y < g->h - 3; y++) {
		if (column_of(g, y, "active") < 0)
			continue;
		assert_int_equal(column_of(g, y, "active"), x);
		n++;
	}
	assert_true(n >= 6);
	assert_true(shows(ui, "山田 太郎"));
	ui_key(ui, '/');
	ui_type(ui, "status:active");
	ui_key(ui, UI_KEY_ENTER);
	ui_act(ui, UI_END);
	assert_golden(ui, "mkt_subs_last");
	ui_free(&ui);
}

/* Adds addr (and name) to the list vip, and opens the browser on that list. */
static struct ui *vip_browser(const char *addr, const char *name)
{
	struct store *st = NULL;
	struct ui *ui;
	char *err = NULL;

	assert_int_equal(store_open(STORE, "marketer", "marketer-password-1", &st, &err), STORE_OK);
	assert_int_equal(store_subscriber_add(st, "vip", addr, name, NULL, 0, NULL, &err),
			 STORE_OK);
	store_close(&st);
	ui = on_screen("marketer", &screen_subscribers_ops);
	ui_key(ui, '/');
	ui_type(ui, "list:vip");
	ui_key(ui, UI_KEY_ENTER);
	return ui;
}

/*
 * A wide terminal: the address and name columns share the room the others
 * leave, so a long name is shown whole; at 80 columns what is cut ends in "…";
 * the member record's Name wraps under itself at 50.
 */
static void test_browser_wide(void **state)
{
	static const char name[] = "Maximilian Alexander Wolfgang von Beispielhausen";
	struct ui *ui;

	(void)state;
	ui = vip_browser("maximilian.alexander.wolfgang@example.com", name);
	ui_resize(ui, 200, 30);
	assert_true(shows(ui, "maximilian.alexander.wolfgang@example.com  Maximilian"));
	assert_true(shows(ui, name));
	assert_true(lacks(ui, "…"));
	ui_resize(ui, 80, 24);
	assert_true(shows(ui, "maximilian.alexander.wolfgan…  Maximilian Alexande…"));
	assert_true(lacks(ui, name));
	/* The member record: the Name wraps at a space, the rest under the name. */
	ui_key(ui, UI_KEY_ENTER);
	ui_resize(ui, 50, 24);
	assert_true(shows(ui, "Name      Maximilian Alexander Wolfgang von\n"));
	assert_true(shows(ui, "\n            Beispielhausen\n"));
	ui_resize(ui, 80, 24);
	assert_true(shows(ui, name));
	ui_free(&ui);
}

/*
 * A confirmation too long for the hint line wraps onto a second row, so that
 * "(y/n)" shows at 80 columns; a long address in it is cut with "…".
 */
static void test_member_long_address(void **state)
{
	char addr[80], cut[48];
	struct ui *ui;

	(void)state;
	memset(addr, 'a', 64);
	snprintf(addr + 64, sizeof(addr) - 64, "@big.example");
	snprintf(cut, sizeof(cut), "%.39s…", addr);
	ui = vip_browser(addr, NULL);
	ui_key(ui, UI_KEY_ENTER); /* aaa…@big.example sorts first */
	assert_true(shows(ui, "Address   aaaaaaaaaa"));
	ui_key(ui, 'd');
	assert_true(shows(ui, cut));
	assert_true(shows(ui, "This cannot be undone. (y/n)"));
	ui_key(ui, 'n');
	ui_key(ui, 'b');
	assert_true(shows(ui, "imported again. (y/n)"));
	ui_key(ui, 'n');
	ui_free(&ui);
}

static void test_browser_paging(void **state)
{
	struct ui *ui = on_screen("marketer", &screen_subscribers_ops);
	int i;

	(void)state;
	assert_true(shows(ui, "PgDn: more below"));
	assert_false(shows_quiet(ui, "more above"));
	ui_act(ui, UI_PGDN);
	assert_golden(ui, "mkt_subs_page2");
	ui_act(ui, UI_PGDN);
	ui_act(ui, UI_PGDN);
	assert_false(shows_quiet(ui, "more below"));
	assert_true(shows(ui, "yuki@softbank.ne.jp"));
	/* Up from the first row of a page reads the page before. */
	ui_act(ui, UI_PGUP);
	for (i = 0; i < 16; i++)
		ui_act(ui, UI_UP);
	assert_true(shows(ui, "more below"));
	ui_act(ui, UI_HOME);
	assert_golden(ui, "mkt_subs_home");
	/* Down past the bottom of the page goes on to the next. */
	for (i = 0; i < 16; i++)
		ui_act(ui, UI_DOWN);
	assert_golden(ui, "mkt_subs_page2_top");
	ui_free(&ui);
}

/* The rows of the subscriber list on the screen: those showing an address. */
static int rows_shown(struct ui *ui)
{
	char *dump = grid_dump(ui_render(ui)), *p;
	int n = 0;

	assert_non_null(dump);
	for (p = dump; (p = strchr(p, '@')) != NULL; p++)
		n++;
	free(dump);
	return n;
}

/* The list fills the terminal when it opens, and again after a resize. */
static void test_browser_fills(void **state)
{
	struct ui *ui = logged_in("marketer");

	(void)state;
	ui_resize(ui, 100, 30);
	assert_int_equal(ui_push(ui, &screen_subscribers_ops), 0);
	assert_int_equal(rows_shown(ui), 30 - 8);
	ui_resize(ui, 120, 40);
	assert_int_equal(rows_shown(ui), 40 - 8);
	assert_true(shows(ui, "PgDn: more below"));
	ui_resize(ui, 80, 24);
	assert_int_equal(rows_shown(ui), 24 - 8);
	/* The member record opened at 80x24 and left at 100x60: all 46 fit. */
	ui_key(ui, UI_KEY_ENTER);
	ui_resize(ui, 100, 60);
	ui_key(ui, 'q');
	assert_int_equal(rows_shown(ui), 46);
	assert_false(shows_quiet(ui, "more below"));
	ui_free(&ui);
}

static void test_browser_search(void **state)
{
	struct ui *ui = on_screen("marketer", &screen_subscribers_ops);

	(void)state;
	ui_key(ui, '/');
	ui_type(ui, "user1");
	/* Each keystroke searched: the screen is already filtered. */
	assert_golden(ui, "mkt_subs_search_user1");
	ui_key(ui, UI_KEY_BACKSPACE);
	ui_key(ui, UI_KEY_BACKSPACE);
	ui_key(ui, UI_KEY_BACKSPACE);
	ui_key(ui, UI_KEY_BACKSPACE);
	ui_key(ui, UI_KEY_BACKSPACE);
	ui_type(ui, "鈴木");
	assert_true(shows(ui, "hanako.suzuki@example.jp"));
	assert_false(shows_quiet(ui, "taro.yamada"));
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "filter: 鈴木"));
	/* Name prefixes are matched without ASCII case; list: filters. */
	ui_key(ui, '/');
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "list:vip");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "user07@example.com"));
	assert_false(shows_quiet(ui, "user08@example.com"));
	/* Esc puts the filter back as it was. */
	ui_key(ui, '/');
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "person 3");
	assert_true(shows(ui, "user39@example.com"));
	ui_key(ui, UI_KEY_ESC);
	assert_true(shows(ui, "filter: list:vip"));
	/* A bad status says which are known, and that there is no more to see. */
	ui_key(ui, '/');
	ui_key(ui, UI_CTRL('u'));
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "PgDn: more below"));
	ui_key(ui, '/');
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "status:gone");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "no status \"gone\""));
	assert_true(lacks(ui, "more below"));
	/* So does a list that does not exist, which import does not offer then. */
	ui_key(ui, '/');
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "list:nosuch");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "there is no list \"nosuch\"; the Lists screen shows them"));
	ui_key(ui, 'i');
	enter(ui, "/nonexistent.csv");
	assert_true(ui_input_active(ui));
	assert_string_equal(ui_input_text(ui), "");
	ui_free(&ui);
}

static void test_browser_viewer(void **state)
{
	struct ui *ui = on_screen("viewer", &screen_subscribers_ops);

	(void)state;
	assert_golden(ui, "mkt_subs_viewer");
	assert_false(shows_quiet(ui, "taro.yamada@"));
	/* A viewer searches names only: an address prefix reveals nothing. */
	ui_key(ui, '/');
	ui_type(ui, "taro");
	assert_true(shows(ui, "No subscriber matches."));
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "山田");
	assert_true(shows(ui, "t***@example.jp"));
	ui_key(ui, UI_KEY_ENTER);
	/* The record is masked too, and the actions are refused with the reason. */
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "Address   t***@example.jp"));
	assert_false(shows_quiet(ui, "taro.yamada"));
	ui_key(ui, 'd');
	assert_true(shows(ui, "needs the permission \"subscribers.erase\""));
	ui_key(ui, 'q');
	ui_key(ui, 'i');
	assert_true(shows(ui, "needs the permission \"subscribers.write\""));
	ui_free(&ui);
}

static void test_member_record(void **state)
{
	struct ui *ui = on_screen("marketer", &screen_subscribers_ops);

	(void)state;
	ui_key(ui, '/');
	ui_type(ui, "user07");
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, UI_KEY_ENTER);
	assert_golden(ui, "mkt_member");
	/* Suppress: asks first; n changes nothing. */
	ui_key(ui, 'b');
	assert_true(shows(ui, "Suppress user07@example.com?"));
	ui_key(ui, 'n');
	assert_true(shows(ui, "cancelled; nothing changed"));
	ui_key(ui, 'b');
	ui_key(ui, 'y');
	assert_true(shows(ui, "Status    suppressed"));
	ui_key(ui, 'u');
	ui_key(ui, 'y');
	assert_true(shows(ui, "Status    unsubscribed (and suppressed)"));
	assert_true(shows(ui, "vip              unsubscribed"));
	/* The browser filters by status (through the index of the not-active). */
	ui_key(ui, 'q');
	ui_key(ui, '/');
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "status:unsubscribed");
	ui_key(ui, UI_KEY_ENTER);
	assert_golden(ui, "mkt_subs_unsubscribed");
	ui_key(ui, '/');
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "status:active");
	assert_false(shows_quiet(ui, "user07@example.com"));
	assert_true(shows(ui, "user06@example.com"));
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "status:unsubscribed");
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, UI_KEY_ENTER);
	/* Erase goes back to the browser, which no longer shows the person. */
	ui_key(ui, 'd');
	assert_true(shows(ui, "This cannot be\n undone. (y/n)")); /* on two rows, whole */
	ui_key(ui, 'y');
	assert_true(shows(ui, "Subscribers, by address"));
	assert_true(shows(ui, "erased user07@example.com"));
	assert_true(shows(ui, "No subscriber matches."));
	ui_free(&ui);
}

/* From the import screen or the browser: q back, i, and the file into vip. */
static void import_again(struct ui *ui, const char *file)
{
	ui_key(ui, 'q');
	ui_key(ui, 'i');
	ui_type(ui, file);
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "vip");
	ui_key(ui, UI_KEY_ENTER);
}

static void test_import(void **state)
{
	struct ui *ui = on_screen("marketer", &screen_subscribers_ops);

	(void)state;
	write_file("more.csv", "email,name\nnew1@example.org,New One\nnot-an-address,Bad\n"
			       "new2@example.org,新しい 人\nnew1@example.org,Again\n");
	ui_key(ui, 'i');
	assert_true(shows(ui, "CSV file to import:"));
	ui_type(ui, "more.csv");
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "vip");
	ui_key(ui, UI_KEY_ENTER);
	assert_golden(ui, "mkt_import_done");
	assert_int_equal(access("more.csv.rejects.csv", F_OK), 0);
	/* Back in the browser, the new people are there. */
	ui_key(ui, 'q');
	ui_key(ui, '/');
	ui_type(ui, "new");
	assert_true(shows(ui, "new2@example.org"));
	assert_true(shows(ui, "新しい 人"));
	/* A missing file says so and imports nothing. */
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, 'i');
	ui_type(ui, "nope.csv");
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "vip");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "cannot open nope.csv"));
	/* A file name is shown escaped: a bidi override would reorder the line. */
	write_file("rtl\u202e.csv", "email\nnot-an-address\n");
	import_again(ui, "rtl\u202e.csv");
	assert_true(shows(ui, "from rtl\\u202e.csv"));
	assert_true(shows(ui, "rtl\\u202e.csv.rejects.csv; fixed"));
	assert_false(shows(ui, "\u202e"));
	/*
	 * The rejects file is made at the first bad row: good rows go in even
	 * where it can't be made (here a folder holds its name), and bad ones
	 * then stop the import with nothing taken.
	 */
	write_file("good.csv", "email\ngood1@example.org\n");
	write_file("bad.csv", "email\ngood2@example.org\nnot-an-address\n");
	assert_int_equal(mkdir("good.csv.rejects.csv", 0700), 0);
	assert_int_equal(mkdir("bad.csv.rejects.csv", 0700), 0);
	import_again(ui, "good.csv");
	assert_true(shows(ui, "imported 1 and updated 0 from good.csv"));
	import_again(ui, "bad.csv");
	assert_true(shows(ui, "cannot create the rejects file bad.csv.rejects.csv"));
	ui_free(&ui);
	assert_int_equal(rmdir("good.csv.rejects.csv"), 0);
	assert_int_equal(rmdir("bad.csv.rejects.csv"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_browser_japanese, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_browser_wide, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_member_long_address, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_browser_paging, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_browser_fills, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_browser_search, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_browser_viewer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_member_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import, setup, teardown),
	};

	if (helpers_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
