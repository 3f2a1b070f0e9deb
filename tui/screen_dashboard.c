/*
 * tui/screen_dashboard.c: the home screen after login. It offers the screens of
 * ui_screens[] that the user's role may open, each with its one-line summary,
 * and keeps a place for the sending figures that campaigns will fill.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tui/ui.h"

struct dashboard {
	struct ui_table menu;
	const struct screen_ops *ops[32]; /* the menu's rows */
};

static const char *const heads[] = {"Screen", "Now", "What it is for"};

static int dash_open(struct screen *s)
{
	struct dashboard *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -1;
	ui_table_init(&d->menu, 3, heads);
	s->priv = d;
	return 0;
}

static void dash_close(struct screen *s)
{
	struct dashboard *d = s->priv;

	ui_table_free(&d->menu);
	free(d);
	s->priv = NULL;
}

static int dash_load(struct screen *s)
{
	struct dashboard *d = s->priv;
	struct store *st = ui_store(s->ui);
	const struct screen_ops *const *o;
	const char *cols[3];
	char now[128];
	size_t n = 0;

	ui_table_clear(&d->menu);
	for (o = ui_screens; *o != NULL && n < sizeof(d->ops) / sizeof(d->ops[0]); o++) {
		if ((*o)->menu_help == NULL || !store_can(st, (*o)->perm))
			continue;
		now[0] = '\0';
		if ((*o)->summary != NULL)
			(*o)->summary(s->ui, now, sizeof(now));
		cols[0] = (*o)->title;
		cols[1] = now;
		cols[2] = (*o)->menu_help;
		if (ui_table_add(&d->menu, cols) != 0) {
			ui_error(s->ui, "out of memory");
			return -1;
		}
		d->ops[n++] = *o;
	}
	return 0;
}

static int dash_handle(struct screen *s, enum ui_action a)
{
	struct dashboard *d = s->priv;

	if (a == UI_ENTER) {
		if (d->menu.nrows == 0)
			return UI_REDRAW_NONE;
		ui_push(s->ui, d->ops[d->menu.sel]);
		return UI_REDRAW_ALL;
	}
	return ui_table_move(&d->menu, a);
}

/* Figures that later issues fill: campaigns, sends, rates, work waiting. */
static const char *const later[][2] = {
    {"Campaigns by state", "— (with campaigns)"},
    {"Sent today / warm-up cap", "— (with sending)"},
    {"Failures, bounces (7 days)", "—"},
    {"Awaiting you", "—"},
};

static void dash_render(struct screen *s, struct grid *g)
{
	struct dashboard *d = s->priv;
	struct store *st = ui_store(s->ui);
	int row = 1, i, height;

	grid_printf(g, row, 2, UI_A_NORMAL, "Logged in as %s, role %s.", store_user(st),
		    store_role(st));
	row += 2;
	height = (int)d->menu.nrows + 1;
	if (height > g->h - row - 7)
		height = g->h - row - 7;
	if (height < 2)
		height = 2;
	ui_table_render(&d->menu, g, row, height, "Your role may open none of the screens yet.");
	row += height + 1;
	grid_put(g, row++, 2, -1, UI_A_BOLD, "Sending");
	for (i = 0; i < 4 && row < g->h; i++, row++) {
		grid_put(g, row, 4, 28, UI_A_NORMAL, later[i][0]);
		grid_put(g, row, 34, -1, UI_A_DIM, later[i][1]);
	}
}

static const struct screen_verb dash_verbs[] = {
    {UI_UP, NULL, STORE_PERM_NONE},
    {UI_DOWN, NULL, STORE_PERM_NONE},
    {UI_HOME, NULL, STORE_PERM_NONE},
    {UI_END, NULL, STORE_PERM_NONE},
    {UI_ENTER, "open the screen", STORE_PERM_NONE},
    {UI_NONE, NULL, STORE_PERM_NONE},
};

const struct screen_ops screen_dashboard_ops = {
    .title = "Dashboard",
    .perm = STORE_PERM_NONE,
    .verbs = dash_verbs,
    .open = dash_open,
    .load = dash_load,
    .handle = dash_handle,
    .render = dash_render,
    .close = dash_close,
};
