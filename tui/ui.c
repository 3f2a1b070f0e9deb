/*
 * tui/ui.c: the UI session. It keeps the screen stack, turns keys into
 * actions, checks each action against the top screen's verbs and the user's
 * permissions; prompt.c runs the prompts and layout.c lays out the frame.
 */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "tui/cli.h"
#include "tui/ui_private.h"

/* The screens the dashboard offers, in its order. Add new screens here. */
const struct screen_ops *const ui_screens[] = {
    &screen_users_ops,
    &screen_roles_ops,
    &screen_audit_ops,
    &screen_settings_ops,
    /* campaign screens */
    &screen_campaigns_ops,
    &screen_review_ops,
    &screen_monitor_ops,
    &screen_sending_ops,
    /* marketer screens */
    &screen_subscribers_ops,
    &screen_lists_ops,
    &screen_templates_ops,
    NULL,
};

struct ui *ui_new(const char *store_path, const char *user)
{
	struct ui *ui = calloc(1, sizeof(*ui));

	if (ui == NULL)
		return NULL;
	ui->store_path = strdup(store_path);
	ui->user = strdup(user != NULL ? user : "");
	ui->prompt.buf = sodium_malloc(UI_INPUT_MAX + 1);
	ui->kept.buf = sodium_malloc(UI_INPUT_MAX + 1);
	ui->w = 80;
	ui->h = 24;
	ui->key = UI_KEY_NONE;
	if (ui->store_path == NULL || ui->user == NULL || ui->prompt.buf == NULL ||
	    ui->kept.buf == NULL || grid_init(&ui->grid, ui->w, ui->h) != 0 ||
	    ui_push(ui, &screen_login_ops) != 0) {
		ui_free(&ui);
		return NULL;
	}
	return ui;
}

static void close_screen(struct screen **s)
{
	if (*s == NULL)
		return;
	if ((*s)->ops->close != NULL)
		(*s)->ops->close(*s);
	free(*s);
	*s = NULL;
}

void ui_free(struct ui **ui)
{
	struct ui *u;

	if (ui == NULL || *ui == NULL)
		return;
	u = *ui;
	ui_worker_stop(); /* the campaign screens' background worker, if any */
	while (u->depth > 0)
		close_screen(&u->stack[--u->depth]);
	store_close(&u->st);
	if (u->kept.buf != NULL) {
		ui_input_back(u, false);
		sodium_free(u->kept.buf);
	}
	if (u->prompt.buf != NULL) {
		ui_input_wipe(u);
		sodium_free(u->prompt.buf);
	}
	grid_free(&u->grid);
	grid_free(&u->body);
	free(u->store_path);
	free(u->user);
	free(u);
	*ui = NULL;
}

struct store *ui_store(const struct ui *ui)
{
	return ui->st;
}

const char *ui_store_path(const struct ui *ui)
{
	return ui->store_path;
}

const char *ui_default_user(const struct ui *ui)
{
	return ui->user;
}

bool ui_done(const struct ui *ui)
{
	return ui->quit;
}

void ui_quit(struct ui *ui)
{
	ui->quit = true;
}

/* ---- Status line ------------------------------------------------------ */

/*
 * The status line is one paragraph: a message of several lines (the errors
 * of the pre-send checks, one a line) has each line break and the indent
 * after it written "; ".
 */
static void vstatus(struct ui *ui, bool error, const char *fmt, va_list ap)
{
	char line[sizeof(ui->status)];
	const char *in = line;
	size_t n = 0;

	vsnprintf(line, sizeof(line), fmt, ap);
	while (*in != '\0' && n + 2 < sizeof(ui->status)) {
		if (*in != '\n') {
			ui->status[n++] = *in++;
			continue;
		}
		in += 1 + strspn(in + 1, " \t");
		if (*in == '\0')
			break;
		if (n > 0 && ui->status[n - 1] != ':')
			ui->status[n++] = ';';
		ui->status[n++] = ' ';
	}
	ui->status[n] = '\0';
	ui->status_error = error;
}

void ui_info(struct ui *ui, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vstatus(ui, false, fmt, ap);
	va_end(ap);
}

void ui_error(struct ui *ui, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vstatus(ui, true, fmt, ap);
	va_end(ap);
}

static void draw(struct ui *ui);

void ui_busy(struct ui *ui, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vstatus(ui, false, fmt, ap);
	va_end(ap);
	if (ui->in_terminal)
		draw(ui);
}

bool ui_interrupted(struct ui *ui)
{
	int key;

	if (!ui->in_terminal)
		return false;
	while ((key = term_key(0)) != UI_KEY_NONE)
		if (key == UI_KEY_ESC || key == UI_KEY_INTERRUPT)
			return true;
	return false;
}

const char *ui_disabled(const struct ui *ui, char *buf, size_t size)
{
	if (ui->st == NULL || !store_session_disabled(ui->st))
		return NULL;
	snprintf(buf, size, "the account %s was disabled after this session began",
		 store_user(ui->st));
	return buf;
}

void ui_error_store(struct ui *ui, enum store_status s, char *errstr)
{
	char why[160];

	/* The store's words name its action ("subscriber.show is not allowed..."). */
	if (s == STORE_EDENIED && ui_disabled(ui, why, sizeof(why)) != NULL)
		ui_error(ui, "refused: %s", why);
	else
		ui_error(ui, "%s", errstr != NULL ? errstr : store_strstatus(s));
	free(errstr);
}

void ui_error_denied(struct ui *ui, enum store_status s, char *errstr, const char *what,
		     enum store_perm p)
{
	char why[512];

	if (s != STORE_EDENIED) {
		ui_error_store(ui, s, errstr);
		return;
	}
	free(errstr);
	ui_error(ui, "%s", ui_refusal(ui, what, p, why, sizeof(why)));
}

const char *ui_status(const struct ui *ui, bool *is_error)
{
	if (is_error != NULL)
		*is_error = ui->status_error;
	return ui->status;
}

const char *ui_refusal(const struct ui *ui, const char *what, enum store_perm p, char *buf,
		       size_t size)
{
	char why[160];

	if (ui_disabled(ui, why, sizeof(why)) != NULL)
		snprintf(buf, size, "refused: %s: %s", what, why);
	else
		snprintf(buf, size,
			 "refused: %s needs the permission \"%s\", which the role %s lacks", what,
			 store_perm_name(p), ui->st != NULL ? store_role(ui->st) : "(none)");
	return buf;
}

void ui_join(char *buf, size_t size, const char *name)
{
	size_t n = strlen(buf);

	if (n + strlen(name) + 6 >= size) {
		if (n + 4 < size && strcmp(buf + (n > 3 ? n - 3 : 0), "...") != 0)
			snprintf(buf + n, size - n, "...");
		return;
	}
	snprintf(buf + n, size - n, "%s%s", n ? ", " : "", name);
}

void ui_names_add(struct ui_names *n, const char *name)
{
	n->found |= n->want != NULL && strcmp(name, n->want) == 0;
	ui_join(n->all, sizeof(n->all), name);
}

/* ---- Screens ---------------------------------------------------------- */

struct screen *ui_top(const struct ui *ui)
{
	return ui->depth > 0 ? ui->stack[ui->depth - 1] : NULL;
}

/*
 * Writes a refusal for want of p to the audit trail as the command line
 * does (store_require): `action`, or "tui: WHAT" when it is NULL.
 */
static void refuse_audited(struct ui *ui, const char *action, const char *what, enum store_perm p)
{
	char name[128];

	if (ui->st == NULL)
		return;
	if (action == NULL) {
		snprintf(name, sizeof(name), "tui: %s", what);
		action = name;
	}
	store_require(ui->st, p, action, NULL);
}

/*
 * The user may do what needs p, as the store has the user's rights now: an
 * admin may have changed the role, or disabled the user, since the login.
 */
static bool may(struct ui *ui, enum store_perm p)
{
	if (p == STORE_PERM_NONE)
		return true;
	/* store_session_disabled reads the rights again, at most once a second. */
	return ui->st != NULL && !store_session_disabled(ui->st) && store_can(ui->st, p);
}

int ui_push(struct ui *ui, const struct screen_ops *ops)
{
	struct screen *s;
	char why[256];

	if (!may(ui, ops->perm)) {
		refuse_audited(ui, NULL, ops->title, ops->perm);
		ui_error(ui, "%s", ui_refusal(ui, ops->title, ops->perm, why, sizeof(why)));
		return -1;
	}
	if (ui->depth == UI_STACK_MAX) {
		ui_error(ui, "too many screens open; go back first");
		return -1;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		ui_error(ui, "out of memory");
		return -1;
	}
	s->ops = ops;
	s->ui = ui;
	if ((ops->open != NULL && ops->open(s) != 0) || (ops->load != NULL && ops->load(s) != 0)) {
		close_screen(&s);
		return -1;
	}
	ui->stack[ui->depth++] = s;
	return 0;
}

void ui_pop(struct ui *ui)
{
	ui->pop_pending++;
}

int ui_replace(struct ui *ui, const struct screen_ops *ops)
{
	/* Closing the caller now would pull the rug: pop after the action. */
	ui->pop_pending = 0;
	if (ui_push(ui, ops) != 0)
		return -1;
	ui->pop_pending = -(ui->depth - 1); /* negative: drop every screen below the top */
	return 0;
}

struct screen *ui_below(struct ui *ui, struct screen *s)
{
	int i;

	for (i = ui->depth - 1; i > 0; i--)
		if (ui->stack[i] == s)
			return ui->stack[i - 1];
	/* A screen being opened is not on the stack yet: the top is below it. */
	for (i = 0; i < ui->depth; i++)
		if (ui->stack[i] == s)
			return NULL;
	return ui_top(ui);
}

/* Applies ui_pop()/ui_replace() requests once the action is over. Returns 1 if any. */
static int settle(struct ui *ui)
{
	struct screen *keep;
	int i, changed = ui->pop_pending != 0;

	if (ui->in_dispatch > 0)
		return 0;
	if (ui->pop_pending < 0) {
		keep = ui->stack[ui->depth - 1];
		for (i = 0; i < ui->depth - 1; i++)
			close_screen(&ui->stack[i]);
		ui->stack[0] = keep;
		ui->depth = 1;
		/* A prompt of a closed screen (the login's, after --password-file) goes too. */
		if (ui->in_dispatch == 0 && keep->ops != &screen_login_ops)
			ui_input_wipe(ui);
	}
	for (; ui->pop_pending > 0; ui->pop_pending--) {
		if (ui->depth <= 1) {
			ui->quit = true;
			break;
		}
		close_screen(&ui->stack[--ui->depth]);
		ui_input_wipe(ui);
		ui_input_back(ui, false);
		/* What the closed screen did may change what the one below shows. */
		if (ui_top(ui)->ops->load != NULL)
			ui_top(ui)->ops->load(ui_top(ui));
	}
	ui->pop_pending = 0;
	return changed;
}

void ui_login(struct ui *ui, struct store *st)
{
	store_close(&ui->st);
	ui->st = st;
	if (ui_replace(ui, &screen_dashboard_ops) == 0)
		ui_info(ui, "logged in as %s, role %s", store_user(st), store_role(st));
	settle(ui);
}

/* ---- Actions ---------------------------------------------------------- */

static const struct screen_verb *find_verb(const struct screen *s, enum ui_action a)
{
	const struct screen_verb *v;

	for (v = s->ops->verbs; v != NULL && v->action != UI_NONE; v++)
		if (v->action == a)
			return v;
	return NULL;
}

static int count_sending(const struct store_campaign *c, void *arg)
{
	*(int *)arg += c->state == STORE_CAMPAIGN_SENDING;
	return 0;
}

/*
 * Some screen on the stack holds what was typed and not saved, or the open
 * prompt holds text typed into it.
 */
static bool unsaved(const struct ui *ui)
{
	int i;

	if (ui->st != NULL && ui_input_unsaved(ui))
		return true;
	for (i = 0; i < ui->depth; i++)
		if (ui->stack[i]->ops->unsaved != NULL && ui->stack[i]->ops->unsaved(ui->stack[i]))
			return true;
	return false;
}

/*
 * Leaving hato from the last screen, with Q or Ctrl-C. Leaving stops this
 * session's background worker and throws away a form not saved, so that is
 * asked first; so is Esc or Left on the dashboard, where one stray key too
 * many would otherwise quit. q, Q and Ctrl-C leave at once when nothing
 * would be lost.
 */
static int leave(struct ui *ui, bool at_once)
{
	int sending = 0;
	bool form = unsaved(ui);
	char q[400];

	if (ui_worker_pid() > 0) {
		if (ui->st != NULL && store_can(ui->st, STORE_PERM_CAMPAIGNS_READ))
			store_campaign_list(ui->st, count_sending, &sending, NULL);
		snprintf(q, sizeof(q), "%s%s; leaving stops it%s. Leave? (y/n) ",
			 sending > 0 ? "A worker is sending" : "A worker runs in the background",
			 form ? " and what you typed is not saved" : "",
			 form ? " and throws that away" : "");
	} else if (form) {
		snprintf(q, sizeof(q),
			 "What you typed is not saved; leaving throws it away. Leave? (y/n) ");
	} else if (at_once) {
		ui->quit = true;
		return UI_REDRAW_NONE;
	} else {
		snprintf(q, sizeof(q), "Leave hato? (y/n) ");
	}
	/* n puts back the prompt this question covers, as it was. */
	ui_input_keep(ui);
	ui_input(ui, 0, UI_INPUT_YESNO | UI_INPUT_LEAVE, NULL, "%s", q);
	return UI_REDRAW_ALL;
}

/*
 * Ctrl-C: leaves as Q does, with exit status 130; a second one while hato
 * asks whether to leave leaves at once.
 */
static int interrupt(struct ui *ui)
{
	ui->exit_code = 128 + SIGINT;
	if (ui->prompt.active && (ui->prompt.flags & UI_INPUT_LEAVE)) {
		ui_input_wipe(ui);
		ui_input_back(ui, false);
		ui->quit = true;
		return UI_REDRAW_NONE;
	}
	ui->status[0] = '\0';
	return leave(ui, true) | UI_REDRAW_STATUS;
}

int ui_dispatch(struct ui *ui, enum ui_action a)
{
	struct screen *s = ui_top(ui);
	const struct screen_verb *v;
	const char *what;
	char why[256];
	enum store_perm p;
	int r;

	if (s == NULL)
		return UI_REDRAW_NONE;
	if (a == UI_QUIT)
		return leave(ui, true);
	v = find_verb(s, a);
	if (v == NULL && a == UI_HELP && s->ops != &screen_help_ops) {
		ui_push(ui, &screen_help_ops);
		return UI_REDRAW_ALL;
	}
	if (v == NULL && a == UI_HELP)
		return UI_REDRAW_NONE;
	if (v == NULL && a == UI_BACK && ui->depth <= 1)
		return leave(ui, ui->key == 'q');
	if (v == NULL && a == UI_BACK) {
		ui_pop(ui);
		settle(ui);
		return UI_REDRAW_ALL;
	}
	if (v == NULL && a == UI_REFRESH) {
		if (s->ops->load != NULL)
			s->ops->load(s);
		return UI_REDRAW_ALL;
	}
	if (v == NULL) {
		if (a != UI_TICK && a < UI_INPUT_DONE)
			ui_error(ui, "that key does nothing here; press ? for the keys");
		return a == UI_TICK ? UI_REDRAW_NONE : UI_REDRAW_STATUS;
	}
	/* The permission refused: the verb's own, or pii for one that needs it too. */
	p = !may(ui, v->perm)			 ? v->perm
	    : v->pii && !may(ui, STORE_PERM_PII) ? STORE_PERM_PII
						 : STORE_PERM_NONE;
	if (p != STORE_PERM_NONE) {
		what = v->help ? v->help : ui_keymap_help(a);
		refuse_audited(ui, v->audit, what, p);
		ui_error(ui, "%s", ui_refusal(ui, what, p, why, sizeof(why)));
		return UI_REDRAW_STATUS;
	}
	ui->in_dispatch++;
	r = s->ops->handle(s, a);
	ui->in_dispatch--;
	return r | (settle(ui) ? UI_REDRAW_ALL : 0);
}

int ui_act(struct ui *ui, enum ui_action a)
{
	if (a == UI_TICK)
		return ui_dispatch(ui, a);
	ui->status[0] = '\0';
	return ui_dispatch(ui, a) | UI_REDRAW_STATUS;
}

/* ---- Keys ------------------------------------------------------------- */

int ui_key(struct ui *ui, int key)
{
	enum ui_action a;
	int r;

	if (key == UI_KEY_NONE)
		return ui_act(ui, UI_TICK);
	if (key == UI_KEY_INTERRUPT)
		return interrupt(ui);
	if (ui->prompt.active)
		return ui_input_key(ui, key);
	a = ui_keymap_lookup(key);
	if (a == UI_NONE) {
		ui_error(ui, "that key does nothing here; press ? for the keys");
		return UI_REDRAW_STATUS;
	}
	ui->key = key;
	r = ui_act(ui, a);
	ui->key = UI_KEY_NONE;
	return r;
}

void ui_type(struct ui *ui, const char *s)
{
	mbstate_t ps;
	wchar_t wc;
	size_t n, left = strlen(s);

	memset(&ps, 0, sizeof(ps));
	while (left > 0) {
		n = mbrtowc(&wc, s, left, &ps);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0)
			return;
		ui_key(ui, (int)wc);
		s += n;
		left -= n;
	}
}

/* ---- Running in a terminal -------------------------------------------- */

/* With --password-file, logs in before the first screen shows. */
static void login_from_file(struct ui *ui, const char *file)
{
	struct store *st = NULL;
	enum store_status s;
	char *pw, *err = NULL;

	pw = cli_password_read(file, NULL, "", 0, NULL);
	if (pw == NULL)
		return;
	s = store_open(ui->store_path, ui->user, pw, &st, &err);
	cli_password_free(&pw);
	if (s == STORE_OK)
		ui_login(ui, st);
	else
		ui_error_store(ui, s, err);
}

static void draw(struct ui *ui)
{
	int w, h, row, col;

	term_size(&w, &h);
	ui_resize(ui, w, h);
	ui_render(ui);
	ui_cursor(ui, &row, &col);
	term_draw(&ui->grid, row, col);
}

int ui_run(struct cli *c)
{
	struct ui *ui = NULL;
	char *path = NULL, *err = NULL;
	enum store_status s;
	int key, redraw = UI_REDRAW_ALL, rc = EX_OK;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		cli_error("the terminal UI needs a terminal; for scripts use the commands in "
			  "hato --help");
		return EX_USAGE;
	}
	s = store_path(c->store_path, &path, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	if (access(path, F_OK) != 0) {
		cli_error("there is no store at %s; create one with: hato init --admin NAME", path);
		free(path);
		return EX_NOINPUT;
	}
	ui = ui_new(path, c->user);
	free(path);
	if (ui == NULL) {
		cli_error("out of memory");
		return EX_OSERR;
	}
	if (c->password_file != NULL)
		login_from_file(ui, c->password_file);
	if (term_start() != 0) {
		cli_error("cannot start the terminal UI (is TERM set?)");
		rc = EX_UNAVAILABLE;
		goto done;
	}
	ui->in_terminal = true;
	while (!ui_done(ui)) {
		if (redraw != UI_REDRAW_NONE)
			draw(ui);
		key = term_key(1000);
		if (key == UI_KEY_RESIZE) {
			redraw = UI_REDRAW_ALL;
			continue;
		}
		redraw = ui_key(ui, key);
	}
	ui->in_terminal = false;
	term_end();
	rc = ui->exit_code;
done:
	ui_free(&ui);
	return rc;
}
