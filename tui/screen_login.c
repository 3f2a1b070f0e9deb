/*
 * tui/screen_login.c: the first screen. It asks for the user and the
 * password (never echoed), opens the store, and says why a login failed:
 * a wrong user or password, the delay after failures, or the lockout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/ui.h"

enum { ASK_USER = 1, ASK_PASSWORD };

struct login {
	char user[65];
	char message[512];
};

static void ask_password(struct screen *s)
{
	ui_input(s->ui, ASK_PASSWORD, UI_INPUT_INLINE | UI_INPUT_SECRET, NULL, "Password: ");
}

static int login_open(struct screen *s)
{
	struct login *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return -1;
	s->priv = l;
	snprintf(l->user, sizeof(l->user), "%s", ui_default_user(s->ui));
	/* With a user known (--user, $HATO_USER, the login name) ask the password first. */
	if (store_name_check("user", l->user, NULL) == STORE_OK)
		ask_password(s);
	else
		ui_input(s->ui, ASK_USER, UI_INPUT_INLINE | UI_INPUT_FORM, NULL, "User: ");
	return 0;
}

static void login_close(struct screen *s)
{
	free(s->priv);
	s->priv = NULL;
}

/* Says why the form was not accepted: under the form and on the status line. */
static void say(struct screen *s, const char *why)
{
	struct login *l = s->priv;

	snprintf(l->message, sizeof(l->message), "%s", why);
	ui_error(s->ui, "%s", why);
}

static void try_login(struct screen *s, const char *password)
{
	struct login *l = s->priv;
	struct store *st = NULL;
	enum store_status rc;
	char *err = NULL;

	ui_busy(s->ui, "checking the password...");
	rc = store_open(ui_store_path(s->ui), l->user, password, &st, &err);
	if (rc == STORE_OK) {
		ui_login(s->ui, st);
		free(err);
		return;
	}
	say(s, rc == STORE_EAUTH ? "wrong user or password"
	       : err != NULL	 ? err
				 : store_strstatus(rc));
	free(err);
	ask_password(s);
}

static int login_handle(struct screen *s, enum ui_action a)
{
	struct login *l = s->priv;
	const char *text = ui_input_text(s->ui);

	if (a == UI_INPUT_CANCEL) {
		if (ui_input_tag(s->ui) == ASK_USER)
			ui_quit(s->ui);
		else /* Esc at the password goes back to the user. */
			ui_input(s->ui, ASK_USER, UI_INPUT_INLINE | UI_INPUT_FORM, l->user,
				 "User: ");
		return UI_REDRAW_ALL;
	}
	if (a != UI_INPUT_DONE)
		return UI_REDRAW_NONE;
	if (ui_input_tag(s->ui) == ASK_USER) {
		if (store_name_check("user", text, NULL) != STORE_OK) {
			/* The name stays in the field, to be corrected. */
			say(s, "not a user name: a user name is 1 to 64 letters, digits, '.', "
			       "'_' or '-'");
			ui_input(s->ui, ASK_USER, UI_INPUT_INLINE | UI_INPUT_FORM, text, "User: ");
			return UI_REDRAW_ALL;
		}
		snprintf(l->user, sizeof(l->user), "%s", text);
		l->message[0] = '\0'; /* the last attempt's words are over */
		ask_password(s);
	} else if (*text == '\0') {
		say(s, "type the password, or Esc to change the user");
		ask_password(s);
	} else {
		try_login(s, text);
	}
	return UI_REDRAW_ALL;
}

static void login_render(struct screen *s, struct grid *g)
{
	struct login *l = s->priv;
	bool asking_user = ui_input_active(s->ui) && ui_input_tag(s->ui) == ASK_USER;
	int row = 2;

	grid_put(g, row, 4, -1, UI_A_BOLD, "Log in to hato");
	row += 2;
	grid_put(g, row, 4, -1, UI_A_NORMAL, "Store");
	grid_put(g, row, 16, -1, UI_A_NORMAL, ui_store_path(s->ui));
	row += 2;
	grid_put(g, row, 4, -1, UI_A_NORMAL, "User");
	if (asking_user)
		ui_input_render(s->ui, g, row, 16, false);
	else
		grid_put(g, row, 16, -1, UI_A_NORMAL, l->user);
	row += 1;
	grid_put(g, row, 4, -1, UI_A_NORMAL, "Password");
	if (!asking_user)
		ui_input_render(s->ui, g, row, 16, false);
	row += 2;
	if (l->message[0] != '\0')
		grid_wrap(g, row, 4, 3, UI_A_ERROR, l->message);
	if (g->h > row + 3)
		grid_put(
		    g, g->h - 1, 4, -1, UI_A_DIM,
		    "Enter/Tab: next   Esc: back (at User: leave)   the password is not shown");
}

static const struct screen_verb login_verbs[] = {
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_login_ops = {
    .title = "Log in",
    .perm = STORE_PERM_NONE,
    .verbs = login_verbs,
    .open = login_open,
    .handle = login_handle,
    .render = login_render,
    .close = login_close,
};
