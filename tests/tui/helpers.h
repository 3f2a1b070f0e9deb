/*
 * tests/tui/helpers.h: what the screen tests without a terminal share. Each
 * test makes a real store in a temp folder (make_store, teardown), logs in
 * through the login screen (logged_in), drives the screens with keys and
 * compares the rendered grid with tests/tui/golden/NAME.txt (assert_golden,
 * shows). Include it after <cmocka.h>; each test binary is one .c file.
 *
 * After a deliberate change to a screen, regenerate the goldens with
 * HATO_UPDATE_GOLDEN=1 and review the diff in git before committing it.
 */
#ifndef HATO_TESTS_TUI_HELPERS_H
#define HATO_TESTS_TUI_HELPERS_H

#include <locale.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "tui/ui.h"

/* Relative to dir, so that the login screen's store path is the same every run. */
#define STORE "s/hato.db"
#define PW_ADMIN "admin-password-1"

static char golden_dir[4096], dir[64];
static int golden_quiet; /* for the checks that a differing grid fails */
/* Replaces in a grid dump what differs from run to run; NULL for nothing. */
static void (*golden_scrub)(char *dump);

/*
 * Makes a temp folder from tmpl ("/tmp/hato-...-XXXXXX") into dir, enters
 * it, and makes the store with admin and the n users named, each with the
 * role of its name and the password NAME-password-1. Returns the store open
 * as admin; the caller closes it.
 */
static inline struct store *make_store(const char *tmpl, const char *const *users, size_t n)
{
	struct store *st = NULL;
	char pw[64], *err = NULL;
	size_t i;

	snprintf(dir, sizeof(dir), "%s", tmpl);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(store_init(STORE, "admin", PW_ADMIN, STORE_KDF_INTERACTIVE, &err),
			 STORE_OK);
	assert_int_equal(store_open(STORE, "admin", PW_ADMIN, &st, &err), STORE_OK);
	for (i = 0; i < n; i++) {
		snprintf(pw, sizeof(pw), "%s-password-1", users[i]);
		assert_int_equal(
		    store_user_add(st, users[i], users[i], pw, STORE_KDF_INTERACTIVE, &err),
		    STORE_OK);
	}
	return st;
}

/* A cmocka setup: a store with a marketer, an operator and a viewer (make_store). */
static inline int setup_three_roles(void **state)
{
	static const char *const who[] = {"marketer", "operator", "viewer"};
	struct store *st = make_store("/tmp/hato-tui-XXXXXX", who, 3);

	(void)state;
	store_close(&st);
	return 0;
}

/* Leaves the temp folder and removes it. */
static inline int teardown(void **state)
{
	char cmd[128];

	(void)state;
	assert_int_equal(chdir("/"), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* Compares the grid with golden/NAME.txt, or writes it with HATO_UPDATE_GOLDEN=1. */
static inline int golden_check(const struct grid *g, const char *name)
{
	char path[4200], *got = grid_dump(g), *want = NULL;
	const char *update = getenv("HATO_UPDATE_GOLDEN");
	FILE *fp;
	long n;
	int same = 0;

	if (golden_scrub != NULL)
		golden_scrub(got);
	snprintf(path, sizeof(path), "%s/%s.txt", golden_dir, name);
	if (update != NULL && strcmp(update, "1") == 0) {
		fp = fopen(path, "w");
		if (fp != NULL) {
			fputs(got, fp);
			fclose(fp);
			print_message("updated %s\n", path);
		}
		free(got);
		return fp != NULL;
	}
	fp = fopen(path, "rb");
	if (fp != NULL && fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0) {
		want = calloc(1, (size_t)n + 1);
		rewind(fp);
		if (want != NULL && fread(want, 1, (size_t)n, fp) == (size_t)n)
			same = strcmp(got, want) == 0;
	}
	if (fp != NULL)
		fclose(fp);
	if (!same && !golden_quiet)
		print_error("grid differs from %s\n--- want\n%s--- got\n%s---\n", path,
			    want ? want : "(no golden file)\n", got);
	free(got);
	free(want);
	return same;
}

#define assert_golden(ui, name) assert_true(golden_check(ui_render(ui), name))

/* The rendered grid contains the text; if not, prints the screen. */
static inline int shows(struct ui *ui, const char *text)
{
	char *dump = grid_dump(ui_render(ui));
	int found = dump != NULL && strstr(dump, text) != NULL;

	if (!found)
		print_error("the screen lacks \"%s\":\n%s", text, dump);
	free(dump);
	return found;
}

/* Types text into the open prompt and presses Enter. */
static inline void enter(struct ui *ui, const char *text)
{
	assert_true(ui_input_active(ui));
	ui_type(ui, text);
	ui_key(ui, UI_KEY_ENTER);
}

/* The rendered grid contains the text; prints nothing. */
static inline int shows_quiet(struct ui *ui, const char *text)
{
	char *dump = grid_dump(ui_render(ui));
	int found = dump != NULL && strstr(dump, text) != NULL;

	free(dump);
	return found;
}

/* The rendered grid does not contain the text; if it does, prints the screen. */
static inline int lacks(struct ui *ui, const char *text)
{
	char *dump = grid_dump(ui_render(ui));
	int absent = dump != NULL && strstr(dump, text) == NULL;

	if (!absent)
		print_error("the screen shows \"%s\":\n%s", text, dump);
	free(dump);
	return absent;
}

/*
 * Logs in through the login screen of an 80x24 terminal, as a user would,
 * with the password NAME-password-1. The campaign selection is process-wide,
 * so it is cleared: each login starts with none, whatever a test before chose.
 */
static inline struct ui *logged_in(const char *user)
{
	struct ui *ui = ui_new(STORE, user);
	char pw[64];

	assert_non_null(ui);
	ui_resize(ui, 80, 24);
	snprintf(pw, sizeof(pw), "%s-password-1", user);
	ui_type(ui, pw);
	ui_key(ui, UI_KEY_ENTER);
	assert_non_null(ui_store(ui));
	ui_campaign_select(NULL);
	return ui;
}

/*
 * What every main() does before running its tests: a UTF-8 locale,
 * libsodium, and golden_dir from HATO_GOLDEN_DIR or ./tests/tui/golden.
 * Returns 0, or -1 when libsodium cannot start.
 */
static inline int helpers_init(void)
{
	const char *gd = getenv("HATO_GOLDEN_DIR");
	char cwd[2048];

	setlocale(LC_ALL, "C.UTF-8");
	if (sodium_init() < 0)
		return -1;
	if (gd != NULL)
		snprintf(golden_dir, sizeof(golden_dir), "%s", gd);
	else if (getcwd(cwd, sizeof(cwd)) != NULL)
		snprintf(golden_dir, sizeof(golden_dir), "%s/tests/tui/golden", cwd);
	return 0;
}

#endif
