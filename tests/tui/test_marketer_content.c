/*
 * Unit tests of the marketer screens without a terminal, after
 * test_marketer.c: lists and the segment editor, exporting a list (the CSV
 * read back with Python's csv module), and templates ($EDITOR, preview,
 * checks). Each test makes a real store (marketer_fixture.h); the grids are
 * compared with golden files in tests/tui/golden/ (regenerate with
 * HATO_UPDATE_GOLDEN=1 and review the diff).
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

#include "tui/marketer_fixture.h"

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
	/* A name refused: asked again holding it, and the segment still new. */
	ui_type(ui, "pros 2");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "segment name may hold only letters"));
	assert_true(shows(ui, "Segment (new) of the list news"));
	assert_true(shows(ui, "Save as segment: pros 2"));
	ui_key(ui, UI_KEY_BACKSPACE);
	ui_key(ui, UI_KEY_BACKSPACE);
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

/*
 * n never loses what was written: a name taken is refused before the
 * editor opens, with the name kept to correct; and a name taken while the
 * editor ran (by another user, here the command line) asks for another,
 * with the text kept.
 */
static void new_template_kept(struct ui *ui)
{
	const char *hato = getenv("HATO");
	struct store *st = NULL;
	struct store_template *x = NULL;
	char script[512], *err = NULL;

	write_file("ed-mark.sh", "#!/bin/sh\ntouch ran.txt\nprintf 'Kept {{name}}\\n' > \"$1\"\n");
	chmod("ed-mark.sh", 0700);
	setenv("VISUAL", "./ed-mark.sh", 1);
	ui_key(ui, 'n');
	ui_type(ui, "welcome");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "the template welcome exists already; choose another name"));
	assert_true(shows(ui, "Name of the new template: welcome"));
	assert_int_equal(access("ran.txt", F_OK), -1);
	ui_type(ui, "-3");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "saved welcome-3"));
	assert_int_equal(access("ran.txt", F_OK), 0);
	if (hato == NULL) { /* run by hand, without tests/run.sh */
		unsetenv("VISUAL");
		return;
	}
	write_file("pw.m", "marketer-password-1\n");
	chmod("pw.m", 0600);
	snprintf(script, sizeof(script),
		 "#!/bin/sh\nprintf 'Mine {{name}}\\n' > \"$1\"\n'%s' --store " STORE
		 " --user marketer --password-file pw.m template add racy \"$1\" >/dev/null\n",
		 hato);
	write_file("ed-race.sh", script);
	chmod("ed-race.sh", 0700);
	setenv("VISUAL", "./ed-race.sh", 1);
	ui_key(ui, 'n');
	ui_type(ui, "racy");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "the template racy exists already"));
	assert_true(shows(ui, "Save the new template as (Esc discards it): racy"));
	ui_type(ui, "-2");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "saved racy-2"));
	unsetenv("VISUAL");
	assert_int_equal(store_open(STORE, "marketer", "marketer-password-1", &st, &err), STORE_OK);
	assert_int_equal(store_template_get(st, "racy-2", &x, &err), STORE_OK);
	assert_string_equal(x->source, "Mine {{name}}\n");
	store_template_free(&x);
	store_close(&st);
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
	ui_key(ui, 'q');
	new_template_kept(ui);
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
