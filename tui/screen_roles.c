/*
 * tui/screen_roles.c: the roles and their permissions. Anyone may read them;
 * adding a custom role (a name, then permissions picked from the list)
 * needs the permission "roles".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/ui.h"

enum { ASK_NAME = 1 };
enum { COL_NAME, COL_KIND, COL_PERMS, NCOLS };

struct roles {
	struct ui_table t;
	/* The permission picker, while adding a role. */
	bool picking;
	char name[65];
	struct ui_table perms;
	bool marked[STORE_PERM_COUNT];
};

static const char *const heads[NCOLS] = {"Role", "Kind", "Permissions"};
static const char *const perm_heads[3] = {"", "Permission", "What it allows"};

static int roles_open(struct screen *s)
{
	struct roles *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -1;
	ui_table_init(&r->t, NCOLS, heads);
	r->t.maxw = 20;
	ui_table_init(&r->perms, 3, perm_heads);
	s->priv = r;
	return 0;
}

static void roles_close(struct screen *s)
{
	struct roles *r = s->priv;

	ui_table_free(&r->t);
	ui_table_free(&r->perms);
	free(r);
	s->priv = NULL;
}

static int add_row(const struct store_role_info *info, void *arg)
{
	struct roles *r = arg;
	char perms[1024];
	const char *cols[NCOLS];
	size_t i, len = 0;

	perms[0] = '\0';
	for (i = 0; info->perms[i] != NULL && len < sizeof(perms); i++)
		len += (size_t)snprintf(perms + len, sizeof(perms) - len, "%s%s", i ? " " : "",
					info->perms[i]);
	cols[COL_NAME] = info->name;
	cols[COL_KIND] = info->builtin ? "built-in" : "custom";
	cols[COL_PERMS] = perms;
	return ui_table_add(&r->t, cols);
}

static int roles_load(struct screen *s)
{
	struct roles *r = s->priv;
	enum store_status rc;
	char *err = NULL;

	ui_table_clear(&r->t);
	rc = store_role_list(ui_store(s->ui), add_row, r, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return -1;
	}
	return 0;
}

static int fill_picker(struct roles *r)
{
	const char *cols[3];
	int p;

	ui_table_clear(&r->perms);
	for (p = 0; p < STORE_PERM_COUNT; p++) {
		cols[0] = r->marked[p] ? "[x]" : "[ ]";
		cols[1] = store_perm_name((enum store_perm)p);
		cols[2] = store_perm_describe((enum store_perm)p);
		if (ui_table_add(&r->perms, cols) != 0)
			return -1;
	}
	return 0;
}

static int save(struct screen *s)
{
	struct roles *r = s->priv;
	const char *names[STORE_PERM_COUNT];
	enum store_status rc;
	size_t n = 0;
	char *err = NULL;
	int p;

	for (p = 0; p < STORE_PERM_COUNT; p++)
		if (r->marked[p])
			names[n++] = store_perm_name((enum store_perm)p);
	if (n == 0) {
		ui_error(s->ui, "mark at least one permission with Space");
		return UI_REDRAW_STATUS;
	}
	rc = store_role_add(ui_store(s->ui), r->name, names, n, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return UI_REDRAW_STATUS;
	}
	r->picking = false;
	roles_load(s);
	ui_info(s->ui, "added the role %s with %zu permissions", r->name, n);
	return UI_REDRAW_ALL;
}

static int pick(struct screen *s, enum ui_action a)
{
	struct roles *r = s->priv;

	switch (a) {
	case UI_TOGGLE:
		r->marked[r->perms.sel] = !r->marked[r->perms.sel];
		if (fill_picker(r) != 0)
			ui_error(s->ui, "out of memory");
		return UI_REDRAW_BODY;
	case UI_ENTER:
		return save(s);
	case UI_BACK:
		r->picking = false;
		ui_info(s->ui, "the role %s was not added", r->name);
		return UI_REDRAW_ALL;
	default:
		return ui_table_move(&r->perms, a);
	}
}

static int roles_handle(struct screen *s, enum ui_action a)
{
	struct roles *r = s->priv;
	char *err = NULL;

	if (r->picking)
		return pick(s, a);
	switch (a) {
	case UI_NEW:
		ui_input(s->ui, ASK_NAME, 0, NULL, "Name of the new role: ");
		return UI_REDRAW_ALL;
	case UI_INPUT_DONE:
		if (store_name_check("role", ui_input_text(s->ui), &err) != STORE_OK) {
			ui_error_store(s->ui, STORE_EINVAL, err);
			return UI_REDRAW_ALL;
		}
		snprintf(r->name, sizeof(r->name), "%s", ui_input_text(s->ui));
		memset(r->marked, 0, sizeof(r->marked));
		r->perms.sel = r->perms.top = 0;
		if (fill_picker(r) != 0) {
			ui_error(s->ui, "out of memory");
			return UI_REDRAW_ALL;
		}
		r->picking = true;
		ui_info(s->ui, "Space marks a permission, Enter adds the role, q cancels");
		return UI_REDRAW_ALL;
	case UI_INPUT_CANCEL:
		return UI_REDRAW_ALL;
	case UI_BACK:
		ui_pop(s->ui);
		return UI_REDRAW_ALL;
	case UI_TOGGLE:
	case UI_ENTER:
		return UI_REDRAW_NONE;
	default:
		return ui_table_move(&r->t, a);
	}
}

static void roles_render(struct screen *s, struct grid *g)
{
	struct roles *r = s->priv;
	const char *perms;
	int h = g->h - 3 - 4;

	if (r->picking) {
		grid_printf(g, 1, 2, UI_A_BOLD, "New role %s: mark its permissions", r->name);
		ui_table_render(&r->perms, g, 3, g->h - 3, NULL);
		return;
	}
	grid_printf(g, 1, 2, UI_A_BOLD, "Roles (%zu)", r->t.nrows);
	if (h > (int)r->t.nrows + 1)
		h = (int)r->t.nrows + 1;
	ui_table_render(&r->t, g, 3, h, "No roles.");
	perms = ui_table_selected(&r->t, COL_PERMS);
	if (perms != NULL) {
		grid_printf(g, 4 + h, 2, UI_A_BOLD, "Permissions of %s",
			    ui_table_selected(&r->t, COL_NAME));
		grid_wrap(g, 5 + h, 4, g->h - 5 - h, UI_A_NORMAL, perms);
	}
}

static const struct screen_verb roles_verbs[] = {
    {UI_UP, NULL, STORE_PERM_NONE},
    {UI_DOWN, NULL, STORE_PERM_NONE},
    {UI_PGUP, NULL, STORE_PERM_NONE},
    {UI_PGDN, NULL, STORE_PERM_NONE},
    {UI_HOME, NULL, STORE_PERM_NONE},
    {UI_END, NULL, STORE_PERM_NONE},
    {UI_NEW, "add a custom role", STORE_PERM_ROLES},
    {UI_TOGGLE, "mark a permission of the new role", STORE_PERM_ROLES},
    {UI_ENTER, "add the new role with the marked permissions", STORE_PERM_ROLES},
    {UI_BACK, "go back (or cancel the new role)", STORE_PERM_NONE},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE},
    {UI_NONE, NULL, STORE_PERM_NONE},
};

const struct screen_ops screen_roles_ops = {
    .title = "Roles",
    .perm = STORE_PERM_NONE,
    .menu_help = "the roles and what each may do",
    .verbs = roles_verbs,
    .open = roles_open,
    .load = roles_load,
    .handle = roles_handle,
    .render = roles_render,
    .close = roles_close,
};
