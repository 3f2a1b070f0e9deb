/*
 * Unit tests of the marketer screens without a terminal: the subscriber
 * browser (keyset pages, search as you type, Japanese names lined up, masked
 * addresses for a viewer), the member record and its actions, the CSV
 * import, lists and the segment editor, exporting a list (the CSV read
 * back with Python's csv module), and templates ($EDITOR, preview, checks).
 * Each test makes a real store; the grids are compared with golden files in
 * tests/tui/golden/ (regenerate with HATO_UPDATE_GOLDEN=1 and review the
 * diff). Dates that would change from day to day are pinned in SQL.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/private.h"
#include "tui/helpers.h"
#include "tui/ui.h"

static const char japanese_csv[] =
    "email,name,city,plan,consent_source,consent_at,consent_text\n"
    "taro.yamada@example.jp,山田 太郎,東京,pro,申込フォーム,2026-01-12T01:00:00Z,newsletter-ja-v1\n"
    "hanako.suzuki@example.jp,鈴木 "
    "花子,大阪,free,申込フォーム,2026-02-03T02:00:00Z,newsletter-ja-v1\n"
    "ichiro@docomo.ne.jp,佐藤 一郎,東京,free,店頭,2026-03-01T03:00:00Z,newsletter-ja-v1\n"
    "a..b@docomo.ne.jp,高橋 美咲,名古屋,pro,店頭,2026-03-09T04:00:00Z,newsletter-ja-v1\n"
    "kenji.@ezweb.ne.jp,伊藤 健二,東京,free,申込フォーム,2026-04-11T05:00:00Z,newsletter-ja-v1\n"
    "yuki@softbank.ne.jp,渡辺 由紀,福岡,pro,セミナー,2026-05-05T06:00:00Z,newsletter-ja-v1\n";

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void sql(struct store *st, const char *q)
{
	assert_int_equal(sqlite3_exec(st->db, q, NULL, NULL, NULL), SQLITE_OK);
}

/* A store with admin, marketer, viewer; the list news with 6 Japanese and 40 other people. */
static int setup(void **state)
{
	static const char *const who[] = {"marketer", "viewer"};
	struct store *st = make_store("/tmp/hato-mkt-XXXXXX", who, 2);
	struct store_import_stats stats;
	struct store_import_opts o = {0};
	char *err = NULL, line[128];
	FILE *in;
	int i;

	(void)state;
	store_close(&st);
	assert_int_equal(store_open(STORE, "marketer", "marketer-password-1", &st, &err), STORE_OK);
	assert_int_equal(store_list_add(st, "news", "Newsletter", NULL, &err), STORE_OK);
	assert_int_equal(store_list_add(st, "vip", "VIP", NULL, &err), STORE_OK);
	write_file("ja.csv", japanese_csv);
	in = fopen("ja.csv", "rb");
	assert_non_null(in);
	assert_int_equal(store_subscriber_import(st, "news", in, &o, &stats, &err), STORE_OK);
	fclose(in);
	in = fopen("en.csv", "w");
	assert_non_null(in);
	fputs("email,name,plan\n", in);
	for (i = 0; i < 40; i++) {
		snprintf(line, sizeof(line), "user%02d@example.com,Person %02d,%s\n", i, i,
			 i % 3 ? "free" : "pro");
		fputs(line, in);
	}
	fclose(in);
	in = fopen("en.csv", "rb");
	assert_int_equal(store_subscriber_import(st, "news", in, &o, &stats, &err), STORE_OK);
	fclose(in);
	assert_int_equal(
	    store_subscriber_add(st, "vip", "user07@example.com", NULL, NULL, 0, NULL, &err),
	    STORE_OK);
	/* Pin the dates the screens show. */
	sql(st, "UPDATE subscribers SET created = 1767225600, updated = 1767225600");
	sql(st, "UPDATE subscriber_events SET time = '2026-01-01T00:00:00Z'");
	sql(st, "UPDATE memberships SET created = 1767225600, updated = 1767225600");
	sql(st, "UPDATE memberships SET consent_at = '2026-01-01T00:00:00Z' WHERE consent_at > "
		"'2026-06'");
	store_close(&st);
	return 0;
}

static struct ui *on_screen(const char *user, const struct screen_ops *ops)
{
	struct ui *ui = logged_in(user);

	assert_int_equal(ui_push(ui, ops), 0);
	return ui;
}

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
 * leave, so a long name is shown whole; at 80 columns what is cut ends in "…",
 * the member record's Name too.
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
	/* The member record: the Name line is cut at the edge, with "…". */
	ui_key(ui, UI_KEY_ENTER);
	ui_resize(ui, 50, 24);
	assert_true(shows(ui, "Name      Maximilian Alexander Wolfgang von Bei…\n"));
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
	/* A bad status says which are known. */
	ui_key(ui, '/');
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "status:gone");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "no status \"gone\""));
	/* So does a list that does not exist. */
	ui_key(ui, '/');
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "list:nosuch");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "there is no list \"nosuch\"; the Lists screen shows them"));
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

static void test_segment_editor(void **state)
{
	struct ui *ui = on_screen("marketer", &screen_lists_ops);

	(void)state;
	assert_golden(ui, "mkt_lists");
	ui_key(ui, UI_KEY_ENTER); /* news */
	assert_true(shows(ui, "Segments of the list news (0)"));
	ui_key(ui, 'n');
	ui_type(ui, "attr.plan = ");
	/* Checked as it is typed: the status line names the column. */
	assert_golden(ui, "mkt_segment_error");
	ui_type(ui, "\"pro\"");
	/* The count of a small list is fast, so it is redone at each key. */
	assert_true(shows(ui, "17 recipients"));
	ui_type(ui, " and name starts_with \"Person\"");
	assert_golden(ui, "mkt_segment_count");
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "pros");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "saved the segment pros of the list news"));
	assert_true(shows(ui, "pros     attr.plan = \"pro\" and name starts_with"));
	/* Edit it again: it opens with the saved expression, counted. */
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "Segment pros of the list news"));
	assert_true(shows(ui, "    attr.plan = \"pro\" and name starts_with \"Person\""));
	assert_true(shows(ui, "14 recipients"));
	/* Enter at once saves it as it was, not empty. */
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "saved the segment pros of the list news"));
	assert_true(shows(ui, "pros     attr.plan = \"pro\" and name starts_with"));
	/* Enter replaces it. */
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "attr.plan = \"free\"");
	ui_act(ui, UI_TICK);
	assert_true(shows(ui, "29 recipients"));
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "pros     attr.plan = \"free\""));
	/* A list is added and removed, with a confirmation. */
	ui_key(ui, 'q');
	ui_key(ui, 'n');
	ui_type(ui, "spring");
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "Spring sale");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "spring  0       0        Spring sale"));
	ui_act(ui, UI_DOWN);
	ui_key(ui, 'd');
	assert_true(shows(ui, "Remove the list spring"));
	ui_key(ui, 'y');
	assert_false(shows_quiet(ui, "Spring sale"));
	ui_free(&ui);
}

/* The file's permission bits, or -1 when it is missing. */
static int mode_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

/*
 * Parses the export with Python's csv module (a parser we did not write):
 * the header, 46 rows, and 山田 太郎's row with the city in its column.
 */
static int csv_ok(const char *path)
{
	static const char script[] =
	    "import csv, sys\n"
	    "rows = list(csv.DictReader(open(sys.argv[1], encoding='utf-8', newline='')))\n"
	    "assert len(rows) == 46, len(rows)\n"
	    "assert list(rows[0])[:2] == ['email', 'name'], list(rows[0])\n"
	    "taro = [r for r in rows if r['email'] == 'taro.yamada@example.jp']\n"
	    "assert len(taro) == 1 and taro[0]['name'] == '山田 太郎', taro\n"
	    "assert taro[0]['city'] == '東京' and taro[0]['plan'] == 'pro', taro\n"
	    "assert sum(r['email'].startswith('user') for r in rows) == 40\n";
	char cmd[256];

	write_file("check.py", script);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 check.py '%s'", path);
	return system(cmd) == 0;
}

static void test_export(void **state)
{
	struct ui *ui = on_screen("marketer", &screen_lists_ops);
	char def[64], day[16], line[64];
	time_t now = time(NULL);
	bool is_error = false;
	struct tm tm;
	FILE *fp;

	(void)state;
	localtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	snprintf(def, sizeof(def), "./news-%s.csv", day);
	/* x on news proposes ./news-YYYYMMDD.csv; Enter takes it. */
	ui_key(ui, 'x');
	assert_true(shows(ui, "Export the list news to:"));
	assert_true(shows(ui, def));
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "exported 46 subscribers of news to"));
	assert_int_equal(mode_of(def), 0600);
	assert_true(csv_ok(def));
	/* An existing file is replaced only after y; n leaves it as it was. */
	write_file("old.csv", "keep me\n");
	chmod("old.csv", 0644);
	ui_key(ui, 'x');
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "old.csv");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "old.csv exists. Replace it? (y/n)"));
	ui_key(ui, 'n');
	assert_true(shows(ui, "not exported; old.csv is unchanged"));
	fp = fopen("old.csv", "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	assert_string_equal(line, "keep me\n");
	ui_key(ui, 'x');
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "old.csv");
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, 'y');
	assert_true(shows(ui, "exported 46 subscribers of news to old.csv (mode 0600)"));
	assert_int_equal(mode_of("old.csv"), 0600);
	assert_true(csv_ok("old.csv"));
	/* Never through a symbolic link. */
	assert_int_equal(symlink("old.csv", "link.csv"), 0);
	ui_key(ui, 'x');
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "link.csv");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "link.csv: it is a symbolic link"));
	assert_false(ui_input_active(ui)); /* refused at once, not asked to replace */
	/* Never over the store's own files. */
	ui_key(ui, 'x');
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, ui_store_path(ui));
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "it is one of the store's own files"));
	assert_false(ui_input_active(ui));
	ui_free(&ui);

	/* A viewer is refused with the reason, and nothing is written. */
	unlink(def);
	ui = on_screen("viewer", &screen_lists_ops);
	ui_key(ui, 'x');
	assert_string_equal(ui_status(ui, &is_error),
			    "refused: export CSV needs the permission \"subscribers.export\", "
			    "which the role viewer lacks");
	assert_true(is_error);
	assert_true(shows(ui, "needs the permission \"subscribers.export\""));
	assert_false(ui_input_active(ui));
	assert_int_equal(mode_of(def), -1);
	ui_free(&ui);
}

/* A viewer's segments screen masks an address written in an expression. */
static void test_segments_viewer(void **state)
{
	struct store *st = NULL;
	struct ui *ui;
	char *err = NULL;

	(void)state;
	assert_int_equal(store_open(STORE, "marketer", "marketer-password-1", &st, &err), STORE_OK);
	assert_int_equal(store_segment_add(st, "one", "news",
					   "email = \"user07@example.com\" or name = \"Person 08\"",
					   &err),
			 STORE_OK);
	store_close(&st);
	ui = on_screen("viewer", &screen_lists_ops);
	ui_key(ui, UI_KEY_ENTER); /* news */
	assert_true(shows(ui, "email = \"u***@example.com\" or name"));
	assert_false(shows_quiet(ui, "user07"));
	ui_free(&ui);
	ui = on_screen("marketer", &screen_lists_ops);
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "email = \"user07@example.com\""));
	ui_free(&ui);
}

/* The slow path of the editor: a count over the threshold waits for a pause. */
static void test_segment_debounce(void **state)
{
	struct ui *ui = on_screen("marketer", &screen_lists_ops);

	(void)state;
	setenv("HATO_SEGMENT_LIVE_MS", "0", 1); /* every count is "slow" */
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, 'n');
	ui_type(ui, "attr.plan = \"pro\"");
	assert_true(shows(ui, "counting when you pause typing..."));
	assert_false(shows_quiet(ui, "recipients"));
	ui_key(ui, UI_KEY_NONE); /* a second without a key */
	assert_true(shows(ui, "17 recipients"));
	/* A syntax error is still shown at once. */
	ui_type(ui, " and");
	assert_true(shows(ui, "column 22: expected a field"));
	unsetenv("HATO_SEGMENT_LIVE_MS");
	ui_free(&ui);
}

static void test_templates(void **state)
{
	struct store *st = NULL;
	struct store_template t = {0};
	struct ui *ui;
	char *err = NULL;

	(void)state;
	assert_int_equal(store_open(STORE, "marketer", "marketer-password-1", &st, &err), STORE_OK);
	t.name = "welcome";
	t.kind = "markdown";
	t.layout = "none";
	t.source = "# Hello {{name|there}}\n\nYou live in {{attr.city|Japan}}. From the list "
		   "{{list.name}}.\n";
	assert_int_equal(store_template_save(st, &t, false, &err), STORE_OK);
	sql(st, "UPDATE templates SET updated = 1767225600");
	store_close(&st);
	ui = on_screen("marketer", &screen_templates_ops);
	assert_golden(ui, "mkt_templates");
	/* Preview for a chosen subscriber: merged with their name and attributes. */
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "taro.yamada@example.jp");
	ui_key(ui, UI_KEY_ENTER);
	assert_golden(ui, "mkt_template_preview");
	/* {{list.name}} is the list's name, not its id (news). */
	assert_true(shows(ui, "From the list Newsletter."));
	ui_key(ui, 'q');
	/* Copy. */
	ui_key(ui, 'y');
	ui_type(ui, "welcome-2");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "copied welcome to welcome-2"));
	/* Edit in $EDITOR: a script stands in for the user. */
	write_file("ed-good.sh", "#!/bin/sh\nprintf 'Edited {{name}}\\n' > \"$1\"\n"
				 "stat -c %a \"$1\" > mode.txt\n");
	write_file("ed-bad.sh", "#!/bin/sh\nprintf 'Broken {{#vip}} never closed\\n' > \"$1\"\n");
	chmod("ed-good.sh", 0700);
	chmod("ed-bad.sh", 0700);
	setenv("VISUAL", "./ed-bad.sh", 1);
	ui_key(ui, 'e');
	assert_true(shows(ui, "welcome does not compile"));
	assert_true(shows(ui, "Edit again to fix it?"));
	setenv("VISUAL", "./ed-good.sh", 1);
	ui_key(ui, 'y');
	assert_true(shows(ui, "saved welcome"));
	unsetenv("VISUAL");
	{
		FILE *fp = fopen("mode.txt", "r");
		char mode[16] = "";
		assert_non_null(fp);
		assert_non_null(fgets(mode, sizeof(mode), fp));
		fclose(fp);
		assert_string_equal(mode, "600\n");
	}
	assert_int_equal(store_open(STORE, "marketer", "marketer-password-1", &st, &err), STORE_OK);
	{
		struct store_template *x = NULL;
		assert_int_equal(store_template_get(st, "welcome", &x, &err), STORE_OK);
		assert_string_equal(x->source, "Edited {{name}}\n");
		store_template_free(&x);
	}
	store_close(&st);
	/* n: an editor quit without writing (true, as :q in vi) makes no template. */
	setenv("VISUAL", "true", 1);
	ui_key(ui, 'n');
	ui_type(ui, "untouched");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "nothing was written; no template made"));
	assert_true(lacks(ui, "untouched"));
	setenv("VISUAL", "./ed-good.sh", 1);
	ui_key(ui, 'n');
	ui_type(ui, "written");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "saved written"));
	unsetenv("VISUAL");
	assert_int_equal(store_open(STORE, "marketer", "marketer-password-1", &st, &err), STORE_OK);
	{
		struct store_template *x = NULL;
		assert_int_equal(store_template_get(st, "untouched", &x, &err), STORE_ENOTFOUND);
		free(err);
		err = NULL;
	}
	store_close(&st);
	/* The checks, with their results. */
	ui_act(ui, UI_HOME);
	ui_key(ui, 'C');
	assert_true(shows(ui, "Pre-send checks of welcome"));
	assert_true(shows(ui, "errors,"));
	ui_free(&ui);
}

/* How long a count took varies from run to run: "counted in N ms". */
static void scrub_ms(char *s)
{
	static const char tag[] = "counted in ";
	char *p, *q;

	for (p = s; (p = strstr(p, tag)) != NULL;) {
		p += sizeof(tag) - 1;
		for (q = p; isdigit((unsigned char)*q); q++)
			;
		if (q == p)
			continue;
		*p = 'N';
		memmove(p + 1, q, strlen(q) + 1);
	}
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
	    cmocka_unit_test_setup_teardown(test_segment_editor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_segment_debounce, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_segments_viewer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_templates, setup, teardown),
	};

	if (helpers_init() != 0)
		return 1;
	golden_scrub = scrub_ms;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
