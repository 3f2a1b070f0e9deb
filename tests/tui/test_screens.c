/*
 * Unit tests of the terminal UI without a terminal: screens are driven with
 * keys and actions, and the rendered grid is compared with a golden file in
 * tests/tui/golden/NAME.txt (the grid as text, trailing blanks removed).
 *
 * A differing grid fails the test and prints both. After a deliberate change
 * to a screen, regenerate the goldens with
 *     HATO_UPDATE_GOLDEN=1 build/test/tests/tui/test_screens
 * and review the diff in git before committing it.
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
#include <time.h>
#include <unistd.h>

#include "store/private.h"
#include "tui/helpers.h"
#include "tui/ui.h"

static struct ui *session(int w, int h)
{
	struct ui *ui = ui_new(STORE, "admin");

	assert_non_null(ui);
	ui_resize(ui, w, h);
	return ui;
}

static void test_login_wrong_password(void **state)
{
	struct ui *ui = session(80, 24);

	(void)state;
	assert_golden(ui, "login");
	ui_type(ui, "not-the-password");
	assert_golden(ui, "login_typing"); /* no echo */
	ui_key(ui, UI_KEY_ENTER);
	assert_null(ui_store(ui));
	assert_golden(ui, "login_wrong");
	ui_free(&ui);
	assert_null(ui);
}

/* With no user given, the form asks for one; Tab goes on to the password as
 * Enter does, and the right password opens the store. */
static void test_login_tab(void **state)
{
	struct ui *ui = ui_new(STORE, NULL);

	(void)state;
	assert_non_null(ui);
	ui_resize(ui, 80, 24);
	ui_type(ui, "admin");
	ui_key(ui, UI_KEY_TAB);
	assert_true(ui_input_active(ui));
	assert_true(shows(ui, "User        admin"));
	ui_type(ui, PW_ADMIN);
	ui_key(ui, UI_KEY_ENTER);
	assert_non_null(ui_store(ui));
	ui_free(&ui);
}

/*
 * A rejected user name stays in the field to be corrected, and the form says
 * why, in place of the words of an earlier attempt.
 */
static void test_login_bad_name(void **state)
{
	struct ui *ui = ui_new(STORE, NULL);
	char long_name[71];

	(void)state;
	assert_non_null(ui);
	ui_resize(ui, 80, 24);
	ui_type(ui, "admin");
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "not-the-password");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "wrong user or password"));
	ui_key(ui, UI_KEY_ESC); /* back to the user */
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "bad name");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(ui_input_active(ui));
	assert_string_equal(ui_input_text(ui), "bad name");
	assert_golden(ui, "login_bad_name");
	assert_true(lacks(ui, "wrong user or password"));
	/* 70 letters: too long, and kept too. */
	memset(long_name, 'a', 70);
	long_name[70] = '\0';
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, long_name);
	ui_key(ui, UI_KEY_ENTER);
	assert_string_equal(ui_input_text(ui), long_name);
	assert_true(shows(ui, "not a user name"));
	/* Corrected, the name goes through and the password opens the store. */
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "admin");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(lacks(ui, "not a user name"));
	sleep(1); /* the delay after one failure */
	ui_type(ui, PW_ADMIN);
	ui_key(ui, UI_KEY_ENTER);
	assert_non_null(ui_store(ui));
	ui_free(&ui);
}

static void wait_second_boundary(void)
{
	time_t t = time(NULL);

	while (time(NULL) == t)
		usleep(10000);
}

static void test_login_delay(void **state)
{
	struct ui *ui = session(80, 24);

	(void)state;
	wait_second_boundary();
	ui_type(ui, "not-the-password");
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, PW_ADMIN);
	ui_key(ui, UI_KEY_ENTER);
	assert_null(ui_store(ui));
	assert_true(shows(ui, "try again in 1 s"));
	sleep(1);
	ui_type(ui, PW_ADMIN);
	ui_key(ui, UI_KEY_ENTER);
	assert_non_null(ui_store(ui));
	assert_true(shows(ui, "Dashboard"));
	ui_free(&ui);
}

/* Locks the user's keyslot as ten failures would. */
static void lock_user(const char *user)
{
	struct keyfile kf;
	struct keyslot *ks;

	assert_int_equal(keyfile_load(STORE ".keys", &kf, NULL), STORE_OK);
	ks = keyfile_find(&kf, user);
	assert_non_null(ks);
	ks->locked = 1;
	ks->fails = 10;
	assert_int_equal(keyfile_save(STORE ".keys", &kf, NULL), STORE_OK);
	keyfile_free(&kf);
}

static void test_login_locked(void **state)
{
	struct ui *ui;

	(void)state;
	lock_user("marketer");
	ui = ui_new(STORE, "marketer");
	ui_resize(ui, 80, 24);
	ui_type(ui, "marketer-password-1");
	ui_key(ui, UI_KEY_ENTER);
	assert_null(ui_store(ui));
	assert_golden(ui, "login_locked");
	ui_free(&ui);
}

static void test_dashboards(void **state)
{
	struct ui *ui = logged_in("admin");

	(void)state;
	assert_golden(ui, "dashboard_admin");
	ui_free(&ui);
	ui = logged_in("viewer");
	assert_golden(ui, "dashboard_viewer");
	/* q on the dashboard leaves. */
	ui_key(ui, 'q');
	assert_true(ui_done(ui));
	ui_free(&ui);
}

/* r on the users screen: gives the selected user `role`. */
static void give_role(struct ui *ui, const char *role)
{
	ui_key(ui, 'r');
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, role);
	ui_key(ui, UI_KEY_ENTER);
}

/*
 * Through the store, as admin: adds a custom role with perms and, unless user
 * is NULL, a user holding it whose password is pw.
 */
static void add_role_user(const char *role, const char *const *perms, size_t n, const char *user,
			  const char *pw)
{
	struct store *st = NULL;
	char *err = NULL;

	assert_int_equal(store_open(STORE, "admin", PW_ADMIN, &st, &err), STORE_OK);
	assert_int_equal(store_role_add(st, role, perms, n, &err), STORE_OK);
	if (user != NULL)
		assert_int_equal(store_user_add(st, user, role, pw, STORE_KDF_INTERACTIVE, &err),
				 STORE_OK);
	store_close(&st);
}

/*
 * Esc or Left on the dashboard asks before leaving hato: one stray key too
 * many does not quit. q and Q leave at once (no worker runs here).
 */
static void test_dashboard_leave(void **state)
{
	struct ui *ui = logged_in("viewer");

	(void)state;
	ui_key(ui, UI_KEY_ESC);
	assert_false(ui_done(ui));
	assert_true(shows(ui, "Leave hato? (y/n)"));
	ui_key(ui, 'n');
	assert_false(ui_done(ui));
	assert_true(lacks(ui, "Leave hato?"));
	ui_key(ui, UI_KEY_LEFT);
	assert_true(shows(ui, "Leave hato? (y/n)"));
	ui_key(ui, UI_KEY_ESC); /* Esc answers no */
	assert_false(ui_done(ui));
	/* A key sequence the terminal sent and hato does not know is not Esc. */
	ui_key(ui, UI_KEY_UNKNOWN);
	assert_false(ui_input_active(ui));
	assert_true(shows(ui, "that key does nothing here"));
	ui_key(ui, UI_KEY_LEFT);
	ui_key(ui, 'y');
	assert_true(ui_done(ui));
	ui_free(&ui);
	/* Q leaves from any screen at once. */
	ui = logged_in("viewer");
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, 'Q');
	assert_true(ui_done(ui));
	ui_free(&ui);
}

static void test_users(void **state)
{
	struct ui *ui = logged_in("admin");

	(void)state;
	setenv("HATO_KDF", "interactive", 1);
	lock_user("operator");
	ui_key(ui, UI_KEY_ENTER); /* Users is first */
	assert_golden(ui, "users");
	/* Add a user: name, role, the password twice (never on screen). */
	ui_key(ui, 'n');
	ui_type(ui, "hanako");
	ui_key(ui, UI_KEY_ENTER);
	assert_golden(ui, "users_add_role");
	ui_key(ui, UI_CTRL('u'));
	ui_type(ui, "marketer");
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "hanako-password-1");
	assert_golden(ui, "users_add_password");
	ui_key(ui, UI_KEY_ENTER);
	ui_type(ui, "hanako-password-1");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "added the user hanako"));
	/* Unlock the operator (row 4: admin, hanako, marketer, operator). */
	ui_act(ui, UI_HOME);
	ui_act(ui, UI_DOWN);
	ui_act(ui, UI_DOWN);
	ui_act(ui, UI_DOWN);
	ui_key(ui, 'u');
	assert_true(shows(ui, "unlocked operator"));
	/* Disable the viewer, after saying n once. */
	ui_act(ui, UI_END);
	ui_key(ui, 'd');
	assert_golden(ui, "users_disable_confirm");
	ui_key(ui, 'n');
	assert_true(shows(ui, "viewer    viewer    active"));
	ui_key(ui, 'd');
	ui_key(ui, 'y');
	assert_true(shows(ui, "disabled the user viewer"));
	/* Change a role. */
	ui_act(ui, UI_HOME);
	ui_act(ui, UI_DOWN);
	give_role(ui, "operator");
	assert_golden(ui, "users_after");
	ui_free(&ui);
}

/* True when the status line says something holding `text` (the whole line, untruncated). */
static bool status_says(struct ui *ui, const char *text)
{
	const char *st = ui_status(ui, NULL);

	if (st != NULL && strstr(st, text) != NULL)
		return true;
	print_error("the status line says \"%s\", not \"%s\"\n", st ? st : "", text);
	return false;
}

/* A user holding only "users" is refused on the screen what the store refuses. */
static void test_users_delegated(void **state)
{
	static const char *const perms[] = {"users"};
	struct ui *ui;

	(void)state;
	add_role_user("helpdesk", perms, 1, "hd", "hd-password-1");
	ui = logged_in("hd");
	ui_key(ui, UI_KEY_ENTER); /* Users is first */
	assert_true(shows(ui, "Users (5)"));
	ui_act(ui, UI_HOME); /* admin */
	give_role(ui, "viewer");
	assert_true(
	    status_says(ui, "changing the role of admin (role admin) needs the permission"));
	ui_key(ui, 'u');
	assert_true(status_says(ui, "unlocking admin (role admin) needs the permission"));
	/* Its own row: the role cannot be changed, not even to one it may give. */
	ui_act(ui, UI_DOWN);
	assert_true(shows(ui, "> hd "));
	give_role(ui, "helpdesk");
	assert_true(status_says(ui, "nobody may change their own role"));
	assert_true(shows(ui, "admin     admin     active"));
	ui_free(&ui);
}

/*
 * Adding a user checks each answer when it is given and keeps the earlier
 * ones on a refusal; the role prompt starts empty, naming its default, so
 * what is typed is the role (not "viewer" and more).
 */
static void test_users_add_checks(void **state)
{
	struct ui *ui = logged_in("admin");
	struct store *st = NULL;
	char *err = NULL;

	(void)state;
	setenv("HATO_KDF", "interactive", 1);
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, 'n');
	enter(ui, "marketer"); /* taken */
	assert_true(shows(ui, "there is a user marketer already"));
	assert_string_equal(ui_input_text(ui), "marketer");
	ui_key(ui, UI_CTRL('u'));
	enter(ui, "bad name");
	assert_string_equal(ui_input_text(ui), "bad name");
	ui_key(ui, UI_CTRL('u'));
	enter(ui, "kenji");
	assert_true(shows(ui, "Role of kenji (empty: viewer):"));
	assert_string_equal(ui_input_text(ui), "");
	enter(ui, "nosuchrole");
	/* The role is refused at once, before any password, and kept to be corrected. */
	assert_true(shows(ui, "there is no role \"nosuchrole\"; the roles are admin, marketer"));
	assert_true(shows(ui, "Role of kenji (empty: viewer): nosuchrole"));
	ui_key(ui, UI_CTRL('u'));
	enter(ui, "operator");
	/* A short password is asked again; the name and role stay. */
	enter(ui, "short");
	assert_true(shows(ui, "Password for kenji:"));
	enter(ui, "kenji-password-1");
	enter(ui, "kenji-password-2");
	assert_true(shows(ui, "the two passwords differ"));
	assert_true(shows(ui, "Password for kenji:"));
	enter(ui, "kenji-password-1");
	enter(ui, "kenji-password-1");
	assert_true(shows(ui, "added the user kenji with the role operator"));
	/* r: the new role is typed from empty; an unknown one is refused. */
	assert_true(shows(ui, "kenji     operator"));
	ui_act(ui, UI_HOME);
	ui_act(ui, UI_DOWN);
	ui_key(ui, 'r');
	assert_true(shows(ui, "New role for kenji (now operator; empty: unchanged):"));
	enter(ui, "viewer2");
	assert_true(shows(ui, "there is no role \"viewer2\""));
	ui_key(ui, UI_KEY_BACKSPACE);
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "changed the role of kenji to viewer"));
	ui_free(&ui);
	assert_int_equal(store_open(STORE, "kenji", "kenji-password-1", &st, &err), STORE_OK);
	assert_string_equal(store_role(st), "viewer");
	store_close(&st);
}

static void test_help(void **state)
{
	struct ui *ui = logged_in("admin");

	(void)state;
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, '?');
	assert_golden(ui, "help_users");
	/* It scrolls as tables do: End and Home too. */
	ui_act(ui, UI_END);
	assert_true(lacks(ui, "that key does nothing here"));
	ui_act(ui, UI_HOME);
	assert_golden(ui, "help_users");
	ui_key(ui, 'q');
	assert_true(shows(ui, "Users (4)"));
	/* On the dashboard, going back is leaving hato: its help says so (QA). */
	ui_key(ui, 'q');
	ui_key(ui, '?');
	assert_true(shows(ui, "leave hato (q at once; Esc and Left ask first)"));
	ui_free(&ui);
}

struct denials {
	const char *details;
	int n;
};

static int count_one(const struct store_audit_record *r, void *arg)
{
	struct denials *d = arg;

	d->n += strcmp(r->outcome, "denied") == 0 && r->details != NULL &&
		strcmp(r->details, d->details) == 0;
	return 0;
}

/* The viewer's audit records of action, denied with these details. */
static int count_denied(const char *action, const char *details)
{
	struct store_audit_filter f = {0, "viewer", action};
	struct denials d = {details, 0};
	struct store *st = NULL;

	assert_int_equal(store_open(STORE, "admin", PW_ADMIN, &st, NULL), STORE_OK);
	assert_int_equal(store_audit_log(st, &f, count_one, &d, NULL), STORE_OK);
	store_close(&st);
	return d.n;
}

/* A refusal explains itself, and goes to the audit trail as the command line's do. */
static void test_refusal(void **state)
{
	struct ui *ui = logged_in("viewer");

	(void)state;
	/* The viewer may read the roles but not add one. */
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "Roles (4)"));
	ui_key(ui, 'n');
	assert_golden(ui, "roles_refused");
	/* And may not open the users screen even by asking for it. */
	assert_int_equal(ui_push(ui, &screen_users_ops), -1);
	assert_true(shows(ui, "needs the permission \"users\""));
	ui_free(&ui);
	assert_int_equal(count_denied("role.add", "needs permission roles"), 1);
	assert_int_equal(count_denied("tui: Users", "needs permission users"), 1);
}

static void test_roles_add(void **state)
{
	struct ui *ui = logged_in("admin");

	(void)state;
	ui_act(ui, UI_DOWN);
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, 'n');
	ui_type(ui, "analyst");
	ui_key(ui, UI_KEY_ENTER);
	ui_act(ui, UI_TOGGLE); /* users? no: the first row is "users" */
	ui_act(ui, UI_TOGGLE); /* unmark it again */
	ui_act(ui, UI_END);
	ui_act(ui, UI_UP);
	ui_act(ui, UI_UP);
	ui_act(ui, UI_UP);
	ui_act(ui, UI_TOGGLE); /* campaigns.read */
	ui_act(ui, UI_HOME);
	ui_act(ui, UI_DOWN);
	ui_act(ui, UI_DOWN);
	ui_act(ui, UI_DOWN);
	ui_act(ui, UI_DOWN);
	ui_act(ui, UI_DOWN);
	ui_act(ui, UI_TOGGLE); /* reports */
	assert_golden(ui, "roles_picker");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "added the role analyst with 2 permissions"));
	assert_true(shows(ui, "analyst   custom"));
	ui_free(&ui);
}

static void test_roles_edit(void **state)
{
	static const char *const perms[] = {"reports", "campaigns.read"};
	struct store *st = NULL;
	struct ui *ui;
	char *err = NULL;
	int i;

	(void)state;
	add_role_user("analyst", perms, 2, "ann", "analyst-password-1");
	add_role_user("spare", perms, 1, NULL, NULL);
	ui = logged_in("admin");
	ui_act(ui, UI_DOWN);
	ui_key(ui, UI_KEY_ENTER);
	/* A built-in role is neither edited nor removed, and the screen says why. */
	ui_key(ui, 'e');
	assert_true(shows(ui, "the role admin is built in and cannot be edited"));
	ui_key(ui, 'd');
	assert_true(shows(ui, "the role admin is built in and cannot be removed"));
	/* e on a custom role: the picker with its permissions already marked. */
	for (i = 0; i < 4; i++)
		ui_act(ui, UI_DOWN);
	assert_true(shows(ui, "> analyst   custom"));
	ui_key(ui, 'e');
	ui_act(ui, UI_DOWN);
	ui_act(ui, UI_DOWN);
	ui_act(ui, UI_DOWN);
	ui_act(ui, UI_DOWN);
	ui_act(ui, UI_TOGGLE); /* audit */
	ui_act(ui, UI_DOWN);
	ui_act(ui, UI_TOGGLE); /* reports: unmarked */
	assert_golden(ui, "roles_edit_picker");
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "the role analyst now has 2 permissions"));
	assert_true(shows(ui, "analyst   custom    audit campaigns.read"));
	/* q in the picker changes nothing (test_discard.c: after a mark, it asks). */
	ui_key(ui, 'e');
	ui_key(ui, 'q');
	assert_true(shows(ui, "the role analyst was not changed"));
	assert_true(shows(ui, "analyst   custom    audit campaigns.read"));
	/* d: a role still held is refused with the count; a free one goes after y. */
	ui_key(ui, 'd');
	assert_true(shows(ui, "Remove the role analyst? (y/n)"));
	ui_key(ui, 'y');
	assert_true(shows(ui, "the role analyst is held by 1 user"));
	ui_act(ui, UI_DOWN);
	ui_key(ui, 'd');
	ui_key(ui, 'n');
	assert_true(shows(ui, "spare     custom"));
	ui_key(ui, 'd');
	ui_key(ui, 'y');
	assert_true(shows(ui, "removed the role spare"));
	assert_true(shows(ui, "Roles (5)"));
	assert_false(shows_quiet(ui, "spare     custom"));
	ui_free(&ui);
	/* The store has the new list. */
	assert_int_equal(store_open(STORE, "ann", "analyst-password-1", &st, &err), STORE_OK);
	assert_true(store_can(st, STORE_PERM_AUDIT));
	assert_false(store_can(st, STORE_PERM_REPORTS));
	store_close(&st);
}

/* Every line fits the width, and the status line is the last row. */
static void test_resize(void **state)
{
	struct ui *ui = logged_in("admin");
	const struct grid *g;
	char *dump, *line, *save = NULL;
	int rows = 0;

	(void)state;
	ui_key(ui, UI_KEY_ENTER);
	ui_resize(ui, 120, 40);
	g = ui_render(ui);
	assert_int_equal(g->w, 120);
	ui_resize(ui, 80, 24);
	g = ui_render(ui);
	assert_int_equal(g->h, 24);
	dump = grid_dump(g);
	for (line = strtok_r(dump, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		assert_true(grid_width(line) <= 80);
	free(dump);
	/* The status line is row 24 (the last). */
	ui_key(ui, 'x');
	dump = grid_dump(ui_render(ui));
	for (line = dump; (line = strchr(line, '\n')) != NULL; line++)
		rows++;
	assert_int_equal(rows, 24);
	assert_non_null(strstr(dump, "\n that key does nothing here; press ? for the keys\n"));
	assert_string_equal(strrchr(dump, '\n') -
				strlen(" that key does nothing here; press ? for the keys"),
			    " that key does nothing here; press ? for the keys\n");
	free(dump);
	ui_free(&ui);
}

/*
 * The grid itself: wide characters, clipping (what is cut ends in "…", never
 * in half a wide character), wrapping, and a golden that must fail.
 */
static void test_grid(void **state)
{
	struct grid g;
	char *dump;

	(void)state;
	assert_int_equal(grid_init(&g, 10, 3), 0);
	assert_int_equal(grid_put(&g, 0, 0, -1, 0, "日本語の名前"), 10); /* 日本語の… + a space */
	assert_int_equal(grid_put(&g, 1, 0, 5, 0, "日本語"), 5);	 /* 日本… */
	assert_int_equal(grid_put(&g, 1, 5, -1, 0, "|ab\x01\xff"), 5); /* fits: no … */
	grid_put(&g, 2, 1, -1, 0, "xyz");
	grid_put(&g, 0, 1, 1, 0, "Z"); /* cuts 日 in half: both halves become blanks */
	dump = grid_dump(&g);
	assert_string_equal(dump, " Z本語の…\n日本…|ab??\n xyz\n");
	free(dump);
	grid_clear(&g);
	assert_int_equal(grid_put(&g, 0, 0, 4, 0, "日本語"), 4); /* 日… + a space */
	assert_int_equal(grid_put(&g, 0, 4, 1, 0, "abc"), 1);	 /* … alone */
	assert_int_equal(grid_put(&g, 0, 5, 0, 0, "abc"), 0);
	assert_int_equal(grid_wrap(&g, 1, 0, 2, 0, "one two three four five six"), 2);
	dump = grid_dump(&g);
	assert_string_equal(dump, "日… …\none two\nthree fo…\n");
	free(dump);
	/* A golden that differs must fail. */
	golden_quiet = 1;
	assert_false(getenv("HATO_UPDATE_GOLDEN") == NULL && golden_check(&g, "login"));
	golden_quiet = 0;
	grid_free(&g);
	grid_free(&g);
}

/*
 * Table columns: capped at maxw and cut with "…" at 80 columns; on a wide
 * terminal the capped columns share the room the last one does not need.
 */
static void test_table_widths(void **state)
{
	static const char *const heads[] = {"Name", "Address", "Note"};
	static const char *const row[] = {"A name that is longer than twenty columns",
					  "someone.with.a.long.address@example.com",
					  "and a note that runs on for forty columns"};
	struct ui_table t;
	struct grid g;
	char *dump;

	(void)state;
	ui_table_init(&t, 3, heads);
	t.maxw = 20;
	assert_int_equal(ui_table_add(&t, row), 0);
	assert_int_equal(grid_init(&g, 80, 3), 0);
	ui_table_render(&t, &g, 0, 2, NULL);
	dump = grid_dump(&g);
	assert_non_null(strstr(dump, "> A name that is long…  someone.with.a.long…  and a note"));
	assert_non_null(strstr(dump, "…\n"));
	free(dump);
	grid_free(&g);
	assert_int_equal(grid_init(&g, 200, 3), 0);
	ui_table_render(&t, &g, 0, 2, NULL);
	dump = grid_dump(&g);
	assert_non_null(strstr(dump, "> A name that is longer than twenty columns  "
				     "someone.with.a.long.address@example.com  "
				     "and a note that runs on for forty columns\n"));
	assert_null(strstr(dump, "…"));
	free(dump);
	grid_free(&g);
	ui_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grid),
	    cmocka_unit_test(test_table_widths),
	    cmocka_unit_test_setup_teardown(test_login_wrong_password, setup_three_roles, teardown),
	    cmocka_unit_test_setup_teardown(test_login_tab, setup_three_roles, teardown),
	    cmocka_unit_test_setup_teardown(test_login_bad_name, setup_three_roles, teardown),
	    cmocka_unit_test_setup_teardown(test_login_delay, setup_three_roles, teardown),
	    cmocka_unit_test_setup_teardown(test_login_locked, setup_three_roles, teardown),
	    cmocka_unit_test_setup_teardown(test_dashboards, setup_three_roles, teardown),
	    cmocka_unit_test_setup_teardown(test_dashboard_leave, setup_three_roles, teardown),
	    cmocka_unit_test_setup_teardown(test_users, setup_three_roles, teardown),
	    cmocka_unit_test_setup_teardown(test_users_delegated, setup_three_roles, teardown),
	    cmocka_unit_test_setup_teardown(test_users_add_checks, setup_three_roles, teardown),
	    cmocka_unit_test_setup_teardown(test_help, setup_three_roles, teardown),
	    cmocka_unit_test_setup_teardown(test_refusal, setup_three_roles, teardown),
	    cmocka_unit_test_setup_teardown(test_roles_add, setup_three_roles, teardown),
	    cmocka_unit_test_setup_teardown(test_roles_edit, setup_three_roles, teardown),
	    cmocka_unit_test_setup_teardown(test_resize, setup_three_roles, teardown),
	};

	if (helpers_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
