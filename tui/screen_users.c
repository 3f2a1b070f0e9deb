/*
 * tui/screen_users.c: the users of the store, for admins. Lists each user's
 * role, status, failed logins and lock; adds a user (name, role, password
 * twice, never echoed), disables one after a confirmation, unlocks one and
 * changes a role. New keyslots use the "moderate" KDF, or $HATO_KDF.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/ui.h"

enum { ASK_NAME = 1, ASK_ROLE, ASK_PASSWORD, ASK_AGAIN, ASK_DISABLE, ASK_NEWROLE };

enum { COL_NAME, COL_ROLE, COL_STATUS, COL_FAILS, COL_LOCKED, NCOLS };

struct users {
	struct ui_table t;
	char name[65], role[65], target[65];
	char *password; /* sodium_malloc'd between the two password prompts */
};

static const char *const heads[NCOLS] = {"User", "Role", "Status", "Failed logins", "Lock"};

static int users_open(struct screen *s)
{
	struct users *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return -1;
	ui_table_init(&u->t, NCOLS, heads);
	s->priv = u;
	return 0;
}

static void forget_password(struct users *u)
{
	if (u->password != NULL) {
		sodium_free(u->password);
		u->password = NULL;
	}
}

static void users_close(struct screen *s)
{
	struct users *u = s->priv;

	forget_password(u);
	ui_table_free(&u->t);
	free(u);
	s->priv = NULL;
}

static int add_row(const struct store_user_info *info, void *arg)
{
	struct users *u = arg;
	char fails[16];
	const char *cols[NCOLS];

	snprintf(fails, sizeof(fails), "%d", info->failures);
	cols[COL_NAME] = info->name;
	cols[COL_ROLE] = info->role;
	cols[COL_STATUS] = info->status;
	cols[COL_FAILS] = fails;
	cols[COL_LOCKED] = info->locked ? "LOCKED" : "";
	return ui_table_add(&u->t, cols);
}

static int users_load(struct screen *s)
{
	struct users *u = s->priv;
	enum store_status rc;
	char *err = NULL;

	ui_table_clear(&u->t);
	rc = store_user_list(ui_store(s->ui), add_row, u, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return -1;
	}
	return 0;
}

static enum store_kdf kdf(void)
{
	enum store_kdf k = STORE_KDF_MODERATE;
	const char *env = getenv("HATO_KDF");

	if (env != NULL && store_kdf_parse(env, &k) != STORE_OK)
		k = STORE_KDF_MODERATE;
	return k;
}

static int done(struct screen *s, enum store_status rc, char *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reports the outcome of a store call (fmt: what was done) and reloads the list. */
static int done(struct screen *s, enum store_status rc, char *err, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return UI_REDRAW_ALL;
	}
	free(err);
	users_load(s);
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	ui_info(s->ui, "%s", what);
	return UI_REDRAW_ALL;
}

static int known_user(const struct store_user_info *info, void *arg)
{
	ui_names_add(arg, info->name);
	return 0;
}

static int known_role(const struct store_role_info *info, void *arg)
{
	ui_names_add(arg, info->name);
	return 0;
}

/* A role is checked when it is typed: false after saying which roles there are. */
static bool role_known(struct screen *s, const char *role)
{
	struct ui_names k = {role, false, ""};

	if (store_role_list(ui_store(s->ui), known_role, &k, NULL) != STORE_OK || k.found)
		return true;
	ui_error(s->ui, "there is no role \"%s\"; the roles are %s", role, k.all);
	return false;
}

/* The role prompts start empty (typing would add to a default): the default is named. */
static void ask_role(struct screen *s, int tag, const char *text)
{
	struct users *u = s->priv;

	if (tag == ASK_ROLE)
		ui_input(s->ui, ASK_ROLE, 0, text, "Role of %s (empty: viewer): ", u->name);
	else
		ui_input(s->ui, ASK_NEWROLE, 0, text,
			 "New role for %s (now %s; empty: unchanged): ", u->target,
			 ui_table_selected(&u->t, COL_ROLE));
}

/* Asks for the new user's password (again, after a refusal). */
static void ask_password(struct screen *s)
{
	struct users *u = s->priv;

	ui_input(s->ui, ASK_PASSWORD, UI_INPUT_SECRET, NULL, "Password for %s: ", u->name);
}

/*
 * Adding a user: the name, the role and the password twice, each checked
 * when it is given; a refused answer is asked again, the earlier ones kept.
 */
static int add_answer(struct screen *s, int tag, const char *text)
{
	struct users *u = s->priv;
	struct store *st = ui_store(s->ui);
	struct ui_names k = {text, false, ""};
	enum store_status rc;
	char *err = NULL;

	switch (tag) {
	case ASK_NAME:
		rc = store_name_check("user", text, &err);
		if (rc != STORE_OK) {
			ui_error_store(s->ui, rc, err);
		} else if (store_user_list(st, known_user, &k, NULL) == STORE_OK && k.found) {
			ui_error(s->ui, "there is a user %s already", text);
			rc = STORE_EEXIST;
		}
		if (rc != STORE_OK) {
			ui_input(s->ui, ASK_NAME, 0, text, "Name of the new user: ");
			return UI_REDRAW_ALL;
		}
		snprintf(u->name, sizeof(u->name), "%s", text);
		ask_role(s, ASK_ROLE, NULL);
		break;
	case ASK_ROLE:
		if (text[0] != '\0' && !role_known(s, text)) {
			ask_role(s, ASK_ROLE, text);
			return UI_REDRAW_ALL;
		}
		snprintf(u->role, sizeof(u->role), "%s", text[0] ? text : "viewer");
		ask_password(s);
		break;
	case ASK_PASSWORD:
		rc = store_password_check(u->name, text, &err);
		if (rc != STORE_OK) {
			ui_error_store(s->ui, rc, err);
			ask_password(s);
			return UI_REDRAW_ALL;
		}
		forget_password(u);
		u->password = sodium_malloc(strlen(text) + 1);
		if (u->password == NULL) {
			ui_error(s->ui, "out of memory");
			return UI_REDRAW_ALL;
		}
		memcpy(u->password, text, strlen(text) + 1);
		ui_input(s->ui, ASK_AGAIN, UI_INPUT_SECRET, NULL, "Repeat the password: ");
		break;
	case ASK_AGAIN:
		if (u->password == NULL || strcmp(u->password, text) != 0) {
			forget_password(u);
			ui_error(s->ui, "the two passwords differ; type it again, twice");
			ask_password(s);
			return UI_REDRAW_ALL;
		}
		ui_busy(s->ui, "adding %s: deriving the key of the new keyslot...", u->name);
		rc = store_user_add(st, u->name, u->role, u->password, kdf(), &err);
		forget_password(u);
		return done(s, rc, err, "added the user %s with the role %s", u->name, u->role);
	}
	return UI_REDRAW_ALL;
}

static int answer(struct screen *s, const char *text)
{
	struct users *u = s->priv;
	struct store *st = ui_store(s->ui);
	int tag = ui_input_tag(s->ui);
	enum store_status rc;
	char *err = NULL;

	if (tag == ASK_DISABLE) {
		rc = store_user_disable(st, u->target, &err);
		return done(s, rc, err, "disabled the user %s", u->target);
	}
	if (tag == ASK_NEWROLE) {
		if (text[0] == '\0') {
			ui_info(s->ui, "the role of %s is unchanged", u->target);
			return UI_REDRAW_ALL;
		}
		if (!role_known(s, text)) {
			ask_role(s, ASK_NEWROLE, text);
			return UI_REDRAW_ALL;
		}
		rc = store_user_set_role(st, u->target, text, &err);
		return done(s, rc, err, "changed the role of %s to %s", u->target, text);
	}
	return add_answer(s, tag, text);
}

static int users_handle(struct screen *s, enum ui_action a)
{
	struct users *u = s->priv;
	const char *sel = ui_table_selected(&u->t, COL_NAME);
	enum store_status rc;
	char *err = NULL;

	if (a == UI_INPUT_DONE)
		return answer(s, ui_input_text(s->ui));
	if (a == UI_INPUT_CANCEL) {
		forget_password(u);
		ui_info(s->ui, "cancelled");
		return UI_REDRAW_ALL;
	}
	if (a == UI_NEW) {
		ui_input(s->ui, ASK_NAME, 0, NULL, "Name of the new user: ");
		return UI_REDRAW_ALL;
	}
	if (a == UI_TAB) {
		ui_push(s->ui, &screen_roles_ops);
		return UI_REDRAW_ALL;
	}
	if ((a == UI_DELETE || a == UI_UNLOCK || a == UI_ROLE) && sel == NULL)
		return UI_REDRAW_NONE;
	if (sel != NULL)
		snprintf(u->target, sizeof(u->target), "%s", sel);
	switch (a) {
	case UI_DELETE:
		if (strcmp(ui_table_selected(&u->t, COL_STATUS), "disabled") == 0) {
			ui_error(s->ui, "%s is disabled already", u->target);
			return UI_REDRAW_STATUS;
		}
		ui_input(s->ui, ASK_DISABLE, UI_INPUT_YESNO, NULL,
			 "Disable %s? Their keyslot is removed and they can no longer log in. "
			 "(y/n) ",
			 u->target);
		return UI_REDRAW_ALL;
	case UI_UNLOCK:
		rc = store_user_unlock(ui_store(s->ui), u->target, &err);
		return done(s, rc, err, "unlocked %s", u->target);
	case UI_ROLE:
		ask_role(s, ASK_NEWROLE, NULL);
		return UI_REDRAW_ALL;
	default:
		return ui_table_move(&u->t, a);
	}
}

static void users_render(struct screen *s, struct grid *g)
{
	struct users *u = s->priv;

	grid_printf(g, 1, 2, UI_A_BOLD, "Users (%zu)", u->t.nrows);
	ui_table_render(&u->t, g, 3, g->h - 3, "No users.");
}

static int count(const struct store_user_info *info, void *arg)
{
	int *n = arg;

	n[0]++;
	n[1] += info->locked;
	n[2] += strcmp(info->status, "active") == 0;
	return 0;
}

static void users_summary(struct ui *ui, char *buf, size_t size)
{
	int n[3] = {0, 0, 0};

	if (store_user_list(ui_store(ui), count, n, NULL) == STORE_OK)
		snprintf(buf, size, "%d active, %d locked", n[2], n[1]);
}

static const struct screen_verb users_verbs[] = {
    UI_TABLE_VERBS,
    {UI_NEW, "add a user", STORE_PERM_USERS, "hato user add", false},
    {UI_DELETE, "disable the user", STORE_PERM_USERS, "hato user disable", false},
    {UI_UNLOCK, "unlock the user", STORE_PERM_USERS, "hato user unlock", false},
    {UI_ROLE, "change the user's role", STORE_PERM_USERS, "hato user role", false},
    {UI_TAB, "show the roles", STORE_PERM_NONE, NULL, false},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_users_ops = {
    .title = "Users",
    .perm = STORE_PERM_USERS,
    .menu_help = "add, disable and unlock users; change roles",
    .verbs = users_verbs,
    .open = users_open,
    .load = users_load,
    .handle = users_handle,
    .render = users_render,
    .close = users_close,
    .summary = users_summary,
};
