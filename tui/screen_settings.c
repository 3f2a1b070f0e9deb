/*
 * tui/screen_settings.c: the settings, for admins. Secrets (keys ending in
 * "password") are masked by the store and typed without echo; a new value
 * is checked by store_config_set, which says what is wrong with it, and
 * asked for again, as typed, to be corrected. A secret is typed twice, as
 * on the command line. d unsets the selected one (y/n), so that its
 * default holds again.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/ui.h"

enum { ASK_KEY = 1, ASK_VALUE, ASK_AGAIN, ASK_UNSET };
enum { COL_KEY, COL_VALUE, NCOLS };

struct settings {
	struct ui_table t;
	char key[128];
	char *secret; /* a secret's first typing, until the second (wiped) */
};

static const char *const heads[NCOLS] = {"Setting", "Value"};

static int settings_open(struct screen *s)
{
	struct settings *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	ui_table_init(&c->t, NCOLS, heads);
	s->priv = c;
	return 0;
}

static void forget_secret(struct settings *c)
{
	if (c->secret != NULL) {
		sodium_memzero(c->secret, strlen(c->secret));
		free(c->secret);
		c->secret = NULL;
	}
}

static void settings_close(struct screen *s)
{
	struct settings *c = s->priv;

	ui_table_free(&c->t);
	forget_secret(c);
	free(c);
	s->priv = NULL;
}

static int add_row(const char *key, const char *value, bool secret, void *arg)
{
	struct settings *c = arg;
	const char *cols[NCOLS] = {key, value};

	(void)secret; /* the store masks it already */
	return ui_table_add(&c->t, cols);
}

static int settings_load(struct screen *s)
{
	struct settings *c = s->priv;
	enum store_status rc;
	char *err = NULL;

	ui_table_clear(&c->t);
	rc = store_config_list(ui_store(s->ui), add_row, c, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return -1;
	}
	return 0;
}

static void ask_value(struct screen *s, const char *current)
{
	struct settings *c = s->priv;

	if (store_config_is_secret(c->key))
		ui_input(s->ui, ASK_VALUE, UI_INPUT_SECRET, NULL,
			 "New value of %s (not shown): ", c->key);
	else
		ui_input(s->ui, ASK_VALUE, 0, current, "New value of %s: ", c->key);
}

/* A secret's first typing is kept for the second; a mismatch starts over. */
static int answer_secret(struct screen *s, const char *text)
{
	struct settings *c = s->priv;

	if (ui_input_tag(s->ui) == ASK_VALUE) {
		forget_secret(c);
		c->secret = strdup(text);
		if (c->secret == NULL) {
			ui_error(s->ui, "out of memory");
			return UI_REDRAW_ALL;
		}
		ui_input(s->ui, ASK_AGAIN, UI_INPUT_SECRET, NULL, "%s again, to be sure: ", c->key);
		return UI_REDRAW_ALL;
	}
	if (strcmp(c->secret != NULL ? c->secret : "", text) != 0) {
		forget_secret(c);
		ui_error(s->ui, "the two values differ; type %s again (Esc cancels)", c->key);
		ask_value(s, NULL);
		return UI_REDRAW_ALL;
	}
	return -1;
}

static int answer(struct screen *s, const char *text)
{
	struct settings *c = s->priv;
	int tag = ui_input_tag(s->ui), r;
	enum store_status rc;
	char *err = NULL;

	if (tag == ASK_KEY) {
		if (!store_config_known(text)) {
			ui_error(s->ui,
				 "unknown setting %s; the keys are listed in hato(1) (Esc cancels)",
				 text);
			ui_input(s->ui, ASK_KEY, 0, text, "Setting to set (e.g. sender.from): ");
			return UI_REDRAW_ALL;
		}
		snprintf(c->key, sizeof(c->key), "%s", text);
		ask_value(s, NULL);
		return UI_REDRAW_ALL;
	}
	if (tag != ASK_UNSET && store_config_is_secret(c->key)) {
		r = answer_secret(s, text);
		if (r >= 0)
			return r;
	}
	if (tag == ASK_UNSET)
		rc = store_config_unset(ui_store(s->ui), c->key, &err);
	else
		rc = store_config_set(ui_store(s->ui), c->key, text, &err);
	forget_secret(c);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		/* A value refused is asked for again, as typed (a secret afresh). */
		if (tag != ASK_UNSET && rc != STORE_EDENIED)
			ask_value(s, store_config_is_secret(c->key) ? NULL : text);
		return UI_REDRAW_ALL;
	}
	settings_load(s);
	ui_info(s->ui, "%s %s", tag == ASK_UNSET ? "unset" : "set", c->key);
	return UI_REDRAW_ALL;
}

static int settings_handle(struct screen *s, enum ui_action a)
{
	struct settings *c = s->priv;
	const char *key = ui_table_selected(&c->t, COL_KEY);

	switch (a) {
	case UI_NEW:
		ui_input(s->ui, ASK_KEY, 0, NULL, "Setting to set (e.g. sender.from): ");
		return UI_REDRAW_ALL;
	case UI_EDIT:
	case UI_ENTER:
		if (key == NULL)
			return UI_REDRAW_NONE;
		snprintf(c->key, sizeof(c->key), "%s", key);
		ask_value(s, ui_table_selected(&c->t, COL_VALUE));
		return UI_REDRAW_ALL;
	case UI_DELETE:
		if (key == NULL)
			return UI_REDRAW_NONE;
		snprintf(c->key, sizeof(c->key), "%s", key);
		ui_input(s->ui, ASK_UNSET, UI_INPUT_YESNO, NULL,
			 "Unset %s, so that its default holds? (y/n) ", c->key);
		return UI_REDRAW_ALL;
	case UI_INPUT_DONE:
		return answer(s, ui_input_text(s->ui));
	case UI_INPUT_CANCEL:
		forget_secret(c);
		return UI_REDRAW_ALL;
	default:
		return ui_table_move(&c->t, a);
	}
}

static void settings_render(struct screen *s, struct grid *g)
{
	struct settings *c = s->priv;

	grid_printf(g, 1, 2, UI_A_BOLD, "Settings (%zu set)", c->t.nrows);
	ui_table_render(&c->t, g, 3, g->h - 3, "Nothing is set yet: n sets a value.");
}

static const struct screen_verb settings_verbs[] = {
    UI_TABLE_VERBS,
    {UI_EDIT, "change the value", STORE_PERM_SETTINGS, "hato config set", false},
    {UI_ENTER, "change the value", STORE_PERM_SETTINGS, "hato config set", false},
    {UI_NEW, "set another setting", STORE_PERM_SETTINGS, "hato config set", false},
    {UI_DELETE, "unset the setting", STORE_PERM_SETTINGS, "hato config unset", false},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_settings_ops = {
    .title = "Settings",
    .perm = STORE_PERM_SETTINGS,
    .menu_help = "SMTP, sender identity, warm-up and pacing",
    .verbs = settings_verbs,
    .open = settings_open,
    .load = settings_load,
    .handle = settings_handle,
    .render = settings_render,
    .close = settings_close,
};
