/*
 * tui/screen_dashboard.c: the home screen after login. It offers the screens of
 * ui_screens[] that the user's role may open, each with its one-line summary,
 * and under them the sending figures (both refreshed every few seconds):
 *   - campaigns by state;
 *   - messages sent today (since 00:00 UTC) against the warm-up cap;
 *   - failures and bounces of the campaigns that started in the last 7 days:
 *     failed / (sent + failed), and hard bounces, the failures whose SMTP
 *     reply was a 5xx, over the same attempts (DSN bounces that arrive later
 *     are not counted here);
 *   - what awaits the user: for a role that approves, the campaigns in
 *     review by others; for one that edits, the user's rejected campaigns;
 *   - whether a worker runs, with w to run one in the background.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send/send.h"
#include "tui/ui.h"

enum { ASK_PASSWORD = 1 };

struct dashboard {
	struct ui_table menu;
	const struct screen_ops *ops[32]; /* the menu's rows */
	char fig[5][4400];		  /* the sending figures' lines (the worker's has a path) */
	char disabled[160];		  /* the account was disabled since login: so it says */
	int ticks;
};

static void figures(struct screen *s);

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
	/* Asked first: it reads the user's rights again, which the menu shows. */
	if (ui_disabled(s->ui, d->disabled, sizeof(d->disabled)) == NULL)
		d->disabled[0] = '\0';
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
	figures(s);
	return 0;
}

static int dash_handle(struct screen *s, enum ui_action a)
{
	struct dashboard *d = s->priv;

	if (a == UI_TICK) {
		if (++d->ticks % 3 != 0)
			return UI_REDRAW_NONE;
		/* The menu's Now column with the figures, so that both say the same. */
		dash_load(s);
		return UI_REDRAW_BODY;
	}
	if (a == UI_WORKER)
		return ui_worker_offer(s->ui, ASK_PASSWORD);
	if (a == UI_INPUT_DONE) {
		ui_worker_answer(s->ui, ui_input_text(s->ui));
		figures(s);
		return UI_REDRAW_ALL;
	}
	if (a == UI_INPUT_CANCEL)
		return UI_REDRAW_ALL;
	if (a == UI_ENTER) {
		if (d->menu.nrows == 0)
			return UI_REDRAW_NONE;
		ui_push(s->ui, d->ops[d->menu.sel]);
		return UI_REDRAW_ALL;
	}
	return ui_table_move(&d->menu, a);
}

/* ---- The sending figures ------------------------------------------------ */

struct tally {
	struct store *st;
	const char *me;
	bool approver, editor;
	int by_state[STORE_CAMPAIGN_NSTATES];
	int64_t sent, failed, bounced;
	char waiting[200];
	int nwaiting;
	time_t since;
};

static int count_bounce(const struct store_rcpt_error *e, void *arg)
{
	struct tally *t = arg;

	t->bounced += strcmp(e->state, "failed") == 0 && e->reply != NULL && e->reply[0] == '5';
	return 0;
}

static int tally_one(const struct store_campaign *c, void *arg)
{
	struct tally *t = arg;
	struct store_queue_stats qs;
	bool mine = t->me != NULL && c->author != NULL && strcmp(c->author, t->me) == 0;
	size_t n;

	t->by_state[c->state]++;
	/* In review and not written by me (four eyes), or rejected and mine. */
	if ((t->approver && c->state == STORE_CAMPAIGN_IN_REVIEW && t->me != NULL &&
	     !store_campaign_written_by(c, t->me)) ||
	    (!t->approver && t->editor && c->state == STORE_CAMPAIGN_REJECTED && mine)) {
		n = strlen(t->waiting);
		if (t->nwaiting < 4)
			snprintf(t->waiting + n, sizeof(t->waiting) - n, "%s%s", n ? ", " : "",
				 c->name);
		t->nwaiting++;
	}
	if (c->started_at >= t->since && store_queue_stats(t->st, c->id, &qs, NULL) == STORE_OK) {
		t->sent += qs.count[STORE_RCPT_SENT];
		t->failed += qs.count[STORE_RCPT_FAILED];
		if (qs.count[STORE_RCPT_FAILED] > 0)
			store_queue_errors(t->st, c->id, 100000, count_bounce, t, NULL);
	}
	return 0;
}

static void figures(struct screen *s)
{
	struct dashboard *d = s->priv;
	struct store *st = ui_store(s->ui);
	struct tally t;
	struct send_warmup w;
	time_t now = time(NULL);
	int64_t today = 0, tries;
	size_t n;
	int i;
	bool running;

	memset(d->fig, 0, sizeof(d->fig));
	if (d->disabled[0] != '\0') {
		snprintf(d->fig[0], sizeof(d->fig[0]), "%s", d->disabled);
		return;
	}
	if (!store_can(st, STORE_PERM_CAMPAIGNS_READ)) {
		snprintf(d->fig[0], sizeof(d->fig[0]), "your role does not read campaigns");
		return;
	}
	memset(&t, 0, sizeof(t));
	t.st = st;
	t.me = store_user(st);
	t.approver = store_can(st, STORE_PERM_CAMPAIGNS_APPROVE);
	t.editor = store_can(st, STORE_PERM_CAMPAIGNS_EDIT);
	t.since = now - 7 * 86400;
	store_campaign_list(st, tally_one, &t, NULL);
	for (i = 0; i < STORE_CAMPAIGN_NSTATES; i++) {
		if (t.by_state[i] == 0)
			continue;
		n = strlen(d->fig[0]);
		snprintf(d->fig[0] + n, sizeof(d->fig[0]) - n, "%s%d %s", n ? " · " : "",
			 t.by_state[i], store_campaign_state_name((enum store_campaign_state)i));
	}
	if (d->fig[0][0] == '\0')
		snprintf(d->fig[0], sizeof(d->fig[0]), "none yet");
	store_sent_since(st, now - now % 86400, &today, NULL);
	send_warmup_status(st, now, &w);
	if (w.active)
		snprintf(d->fig[1], sizeof(d->fig[1]), "%lld of %ld (warm-up day %d; %ld tomorrow)",
			 (long long)today, w.cap, w.day, w.next_cap);
	else
		snprintf(d->fig[1], sizeof(d->fig[1]), "%lld (no warm-up cap)", (long long)today);
	tries = t.sent + t.failed;
	if (tries > 0)
		snprintf(d->fig[2], sizeof(d->fig[2]),
			 "failed %.1f%%, hard bounces %.1f%% of %lld attempts",
			 100.0 * (double)t.failed / (double)tries,
			 100.0 * (double)t.bounced / (double)tries, (long long)tries);
	else
		snprintf(d->fig[2], sizeof(d->fig[2]), "no messages sent in the last 7 days");
	if (t.nwaiting > 0)
		snprintf(d->fig[3], sizeof(d->fig[3]), "%d %s: %s%s", t.nwaiting,
			 t.approver ? "in review" : "rejected, to fix", t.waiting,
			 t.nwaiting > 4 ? ", ..." : "");
	else
		snprintf(d->fig[3], sizeof(d->fig[3]), "nothing");
	ui_worker_line(st, d->fig[4], sizeof(d->fig[4]), &running);
	memmove(d->fig[4], d->fig[4] + strlen("worker: "),
		strlen(d->fig[4]) - strlen("worker: ") + 1);
}

static const char *const labels[5] = {"Campaigns", "Sent today", "Last 7 days", "Awaiting you",
				      "Worker"};

static void dash_render(struct screen *s, struct grid *g)
{
	struct dashboard *d = s->priv;
	struct store *st = ui_store(s->ui);
	int row = 1, i, height, attr;

	grid_printf(g, row, 2, UI_A_NORMAL, "Logged in as %s, role %s.", store_user(st),
		    store_role(st));
	row += 2;
	/* The menu before the figures: on a short terminal it keeps three rows. */
	height = (int)d->menu.nrows + 1;
	if (height > g->h - row - 8)
		height = g->h - row - 8;
	if (height < 4)
		height = (int)d->menu.nrows + 1 < 4 ? (int)d->menu.nrows + 1 : 4;
	ui_table_render(&d->menu, g, row, height,
			d->disabled[0] ? d->disabled
				       : "Your role may open none of the screens yet.");
	row += height + 1;
	grid_put(g, row++, 2, -1, UI_A_BOLD, "Sending");
	for (i = 0; i < 5 && row < g->h; i++, row++) {
		if (d->fig[i][0] == '\0')
			continue;
		attr = (i == 3 && strcmp(d->fig[i], "nothing") != 0) ||
			       (i == 4 && strncmp(d->fig[i], "not running", 11) == 0)
			   ? UI_A_BOLD
			   : UI_A_NORMAL;
		grid_put(g, row, 4, 14, UI_A_NORMAL, labels[i]);
		/* The worker's line, the last, may wrap: it ends with its log's path. */
		if (i == 4)
			grid_wrap(g, row, 18, g->h - row, attr, d->fig[i]);
		else
			grid_put(g, row, 18, -1, attr, d->fig[i]);
	}
}

static const struct screen_verb dash_verbs[] = {
    {UI_UP, NULL, STORE_PERM_NONE, NULL, false},
    {UI_DOWN, NULL, STORE_PERM_NONE, NULL, false},
    {UI_HOME, NULL, STORE_PERM_NONE, NULL, false},
    {UI_END, NULL, STORE_PERM_NONE, NULL, false},
    {UI_ENTER, "open the screen", STORE_PERM_NONE, NULL, false},
    {UI_WORKER, "run a worker in the background", STORE_PERM_CAMPAIGNS_SEND, "hato worker", false},
    {UI_TICK, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
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
