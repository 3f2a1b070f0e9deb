/*
 * tui/screen_help.c: the `?` screen. It lists the keys of the screen below
 * it, built from that screen's verbs and the keymap, so the help shows only
 * what the screen handles and never drifts from what the keys do.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tui/ui.h"

struct help {
	struct ui_table keys;
	const char *of; /* the title of the screen described */
};

static const char *const heads[] = {"Keys", "Action", "Needs"};

static int add(struct help *h, enum ui_action a, const char *what, const char *needs)
{
	char keys[96];
	const char *cols[3];

	cols[0] = ui_keymap_keys(a, keys, sizeof(keys));
	cols[1] = what != NULL ? what : ui_keymap_help(a);
	cols[2] = needs;
	return ui_table_add(&h->keys, cols);
}

static int help_open(struct screen *s)
{
	struct screen *below = ui_below(s->ui, s);
	const struct screen_verb *v;
	struct help *h = calloc(1, sizeof(*h));
	bool has_back = false;
	char needs[64];
	const char *perm;
	int rc = 0;

	if (h == NULL)
		return -1;
	s->priv = h;
	ui_table_init(&h->keys, 3, heads);
	h->keys.maxw = 44;
	h->of = below != NULL ? below->ops->title : "";
	for (v = below != NULL ? below->ops->verbs : NULL; v != NULL && v->action != UI_NONE; v++) {
		if (v->action >= UI_INPUT_DONE)
			continue;
		has_back |= v->action == UI_BACK;
		perm = store_perm_name(v->perm);
		snprintf(needs, sizeof(needs), "%s%s", perm ? perm : "", v->pii ? " + pii" : "");
		rc |= add(h, v->action, v->help, perm ? needs : NULL);
	}
	/* What the framework does on every screen. */
	/* On the dashboard, the first screen, going back is leaving hato. */
	if (!has_back)
		rc |= add(h, UI_BACK,
			  below != NULL && below->ops == &screen_dashboard_ops
			      ? "leave hato (q at once; Esc and Left ask first)"
			      : NULL,
			  NULL);
	rc |= add(h, UI_REFRESH, NULL, NULL);
	rc |= add(h, UI_HELP, NULL, NULL);
	rc |= add(h, UI_QUIT, NULL, NULL);
	if (rc != 0) {
		ui_error(s->ui, "out of memory");
		return -1;
	}
	return 0;
}

static void help_close(struct screen *s)
{
	struct help *h = s->priv;

	ui_table_free(&h->keys);
	free(h);
	s->priv = NULL;
}

static int help_handle(struct screen *s, enum ui_action a)
{
	struct help *h = s->priv;

	return ui_table_move(&h->keys, a);
}

static void help_render(struct screen *s, struct grid *g)
{
	struct help *h = s->priv;

	grid_printf(g, 1, 2, UI_A_BOLD, "Keys of the screen %s", h->of);
	ui_table_render(&h->keys, g, 3, g->h - 3, NULL);
}

static const struct screen_verb help_verbs[] = {
    UI_TABLE_VERBS,
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_help_ops = {
    .title = "Help",
    .perm = STORE_PERM_NONE,
    .verbs = help_verbs,
    .open = help_open,
    .handle = help_handle,
    .render = help_render,
    .close = help_close,
};
