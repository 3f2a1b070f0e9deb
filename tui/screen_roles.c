/*
 * tui/screen_roles.c: the roles and their permissions. Anyone may read them;
 * changing them needs the permission "roles": n adds a custom role (a name,
 * then permissions picked from the list), e edits the selected custom role
 * in the same picker, its permissions marked (store_role_set_perms), and d
 * removes it after a y/n (store_role_rm). Built-in roles stay as they are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/ui.h"

enum { ASK_NAME = 1, ASK_RM, ASK_DISCARD };
enum { COL_NAME, COL_KIND, COL_PERMS, NCOLS };

struct roles {
	struct ui_table t;
	/* The permission picker, while adding or editing (`editing`) a role. */
	bool picking, editing;
	char name[65];
	struct ui_table perms;
	bool marked[STORE_PERM_COUNT];
	bool was[STORE_PERM_COUNT]; /* the marks when the picker opened */
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
	if (r->editing)
		rc = store_role_set_perms(ui_store(s->ui), r->name, names, n, &err);
	else
		rc = store_role_add(ui_store(s->ui), r->name, names, n, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return UI_REDRAW_STATUS;
	}
	r->picking = false;
	roles_load(s);
	if (r->editing)
		ui_info(s->ui,
			"the role %s now has %zu permission%s; its users get them at their "
			"next login",
			r->name, n, n == 1 ? "" : "s");
	else
		ui_info(s->ui, "added the role %s with %zu permission%s", r->name, n,
			n == 1 ? "" : "s");
	return UI_REDRAW_ALL;
}

/* The picker is open with marks other than those it opened with. */
static bool roles_unsaved(struct screen *s)
{
	struct roles *r = s->priv;

	return r->picking && memcmp(r->marked, r->was, sizeof(r->marked)) != 0;
}

/* Closes the picker: nothing changed. */
static int stop_picking(struct screen *s)
{
	struct roles *r = s->priv;

	r->picking = false;
	ui_info(s->ui, r->editing ? "the role %s was not changed" : "the role %s was not added",
		r->name);
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
		if (ui_ask_discard(s->ui, ASK_DISCARD, roles_unsaved(s), "the permissions you %s",
				   r->editing ? "changed" : "marked"))
			return UI_REDRAW_ALL;
		return stop_picking(s);
	case UI_INPUT_DONE:
		ui_discarded(s->ui);
		r->picking = false;
		return UI_REDRAW_ALL;
	case UI_INPUT_CANCEL:
		ui_info(s->ui, "kept: Space marks, Enter %s the role, q cancels",
			r->editing ? "saves" : "adds");
		return UI_REDRAW_ALL;
	default:
		return ui_table_move(&r->perms, a);
	}
}

/* Opens the picker for r->name with `perms` ("a b c", may be NULL) marked. */
static int start_picker(struct screen *s, bool editing, const char *perms)
{
	struct roles *r = s->priv;
	enum store_perm p;
	char word[64];
	size_t n;

	memset(r->marked, 0, sizeof(r->marked));
	while (perms != NULL && *perms != '\0') {
		n = strcspn(perms, " ");
		snprintf(word, sizeof(word), "%.*s", (int)n, perms);
		if (store_perm_lookup(word, &p) == STORE_OK)
			r->marked[p] = true;
		perms += n + (perms[n] == ' ');
	}
	memcpy(r->was, r->marked, sizeof(r->was));
	r->perms.sel = r->perms.top = 0;
	if (fill_picker(r) != 0) {
		ui_error(s->ui, "out of memory");
		return UI_REDRAW_ALL;
	}
	r->picking = true;
	r->editing = editing;
	ui_info(s->ui, "Space marks a permission, Enter %s the role, q cancels",
		editing ? "saves" : "adds");
	return UI_REDRAW_ALL;
}

/* The selected role, copied to r->name, when it is a custom one; else NULL. */
static const char *selected_custom(struct screen *s, const char *verb)
{
	struct roles *r = s->priv;
	const char *name = ui_table_selected(&r->t, COL_NAME);

	if (name == NULL)
		return NULL;
	if (strcmp(ui_table_selected(&r->t, COL_KIND), "custom") != 0) {
		ui_error(s->ui, "the role %s is built in and cannot be %s; n adds a custom role",
			 name, verb);
		return NULL;
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	return r->name;
}

static int answer(struct screen *s)
{
	struct roles *r = s->priv;
	enum store_status rc;
	char *err = NULL;

	if (ui_input_tag(s->ui) == ASK_RM) {
		rc = store_role_rm(ui_store(s->ui), r->name, &err);
		if (rc != STORE_OK) {
			ui_error_store(s->ui, rc, err);
			return UI_REDRAW_ALL;
		}
		roles_load(s);
		ui_info(s->ui, "removed the role %s", r->name);
		return UI_REDRAW_ALL;
	}
	if (store_name_check("role", ui_input_text(s->ui), &err) != STORE_OK) {
		ui_error_store(s->ui, STORE_EINVAL, err);
		return UI_REDRAW_ALL;
	}
	snprintf(r->name, sizeof(r->name), "%s", ui_input_text(s->ui));
	return start_picker(s, false, NULL);
}

static int roles_handle(struct screen *s, enum ui_action a)
{
	struct roles *r = s->priv;

	if (r->picking)
		return pick(s, a);
	switch (a) {
	case UI_NEW:
		ui_input(s->ui, ASK_NAME, 0, NULL, "Name of the new role: ");
		return UI_REDRAW_ALL;
	case UI_EDIT:
		if (selected_custom(s, "edited") == NULL)
			return UI_REDRAW_STATUS;
		return start_picker(s, true, ui_table_selected(&r->t, COL_PERMS));
	case UI_DELETE:
		if (selected_custom(s, "removed") == NULL)
			return UI_REDRAW_STATUS;
		ui_input(s->ui, ASK_RM, UI_INPUT_YESNO, NULL, "Remove the role %s? (y/n) ",
			 r->name);
		return UI_REDRAW_ALL;
	case UI_INPUT_DONE:
		return answer(s);
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
	int h = g->h - 3 - 4, w;

	if (r->picking) {
		/* The hint line names the list's keys; the picker's are told here. */
		w = grid_printf(g, 1, 2, UI_A_BOLD, "%s %s: mark its permissions",
				r->editing ? "Editing" : "New role", r->name);
		grid_printf(g, 1, 4 + w, UI_A_DIM, "Space marks, Enter %s, q cancels",
			    r->editing ? "saves" : "adds");
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
    UI_TABLE_VERBS,
    {UI_NEW, "add a custom role", STORE_PERM_ROLES, "hato role add", false},
    {UI_EDIT, "edit a custom role", STORE_PERM_ROLES, "hato role edit", false},
    {UI_DELETE, "remove a role", STORE_PERM_ROLES, "hato role rm", false},
    {UI_TOGGLE, "mark a permission (adding or editing)", STORE_PERM_ROLES, NULL, false},
    {UI_ENTER, "save the role with the marked permissions", STORE_PERM_ROLES, NULL, false},
    {UI_BACK, "go back (or leave the role unchanged)", STORE_PERM_NONE, NULL, false},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
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
    .unsaved = roles_unsaved,
};
