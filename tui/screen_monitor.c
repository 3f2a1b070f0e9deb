/*
 * tui/screen_monitor.c: the live monitor of one campaign. Once a second (on
 * UI_TICK) it samples store_queue_stats and keeps the rate of each interval
 * of at least a second, the messages sent in it over its length by the
 * monitor's clock (so no figure exceeds what was sent in its interval), for
 * the last 60, drawn as a sparkline. A campaign not seen sending while the
 * monitor was open has no rate: the screen says so. It shows the count of
 * each recipient state with a progress bar, the warm-up cap, why the circuit
 * breaker paused the campaign, and the recent errors with their SMTP replies
 * (addresses masked by the store for roles without "pii"). p pauses, c
 * resumes and X cancels, each after a confirmation (X refuses a campaign that
 * is over at once); Tab goes to the next campaign.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send/send.h"
#include "tui/ui.h"

#define SAMPLES 60
#define ERRORS 8

enum { ASK_PAUSE = 1, ASK_RESUME, ASK_CANCEL };

struct monitor {
	struct store_campaign *c;
	struct store_queue_stats qs;
	struct send_warmup w;
	int64_t rate[SAMPLES]; /* messages a second in each interval, oldest first */
	size_t nrate;
	int64_t last_sent; /* at the start of the interval; -1: no sample yet */
	double last_at;	   /* when the interval started, by the monitor's clock */
	bool last_sending; /* whether the campaign was sending then */
	bool live;	   /* an interval was seen while it was sending */
	char err[ERRORS][320];
	int nerr;
	char names[64][128]; /* the campaigns, for Tab */
	int nnames;
};

static double monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double (*clock_now)(void) = monotonic;

void ui_monitor_clock(double (*now)(void))
{
	clock_now = now != NULL ? now : monotonic;
}

static int monitor_open(struct screen *s)
{
	struct monitor *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return -1;
	m->last_sent = -1;
	s->priv = m;
	return 0;
}

static void monitor_close(struct screen *s)
{
	struct monitor *m = s->priv;

	store_campaign_free(&m->c);
	free(m);
	s->priv = NULL;
}

/* The campaigns, and the best one to show when none was chosen. */
struct pick {
	struct monitor *m;
	char best[128];
	int rank;
	time_t updated;
};

static int rank_of(enum store_campaign_state st)
{
	switch (st) {
	case STORE_CAMPAIGN_SENDING:
		return 4;
	case STORE_CAMPAIGN_PAUSED:
		return 3;
	case STORE_CAMPAIGN_SCHEDULED:
		return 2;
	case STORE_CAMPAIGN_SENT:
	case STORE_CAMPAIGN_FAILED:
		return 1;
	default:
		return 0;
	}
}

static int collect(const struct store_campaign *c, void *arg)
{
	struct pick *p = arg;
	int r = rank_of(c->state);

	if (p->m->nnames < 64)
		snprintf(p->m->names[p->m->nnames++], sizeof(p->m->names[0]), "%s", c->name);
	if (p->best[0] == '\0' || r > p->rank || (r == p->rank && c->updated > p->updated)) {
		snprintf(p->best, sizeof(p->best), "%s", c->name);
		p->rank = r;
		p->updated = c->updated;
	}
	return 0;
}

static int add_error(const struct store_rcpt_error *e, void *arg)
{
	struct monitor *m = arg;
	const char *t = e->time != NULL && strlen(e->time) >= 19 ? e->time + 11 : e->time;

	if (m->nerr < ERRORS)
		snprintf(m->err[m->nerr++], sizeof(m->err[0]), "%.8s  %-9s %-28s %s", t ? t : "",
			 e->state, e->email, e->reply ? e->reply : "");
	return 0;
}

/*
 * Ends the interval when it has lasted a second or more (a sample taken
 * sooner, for a key rather than the tick, lets it go on), with its rate:
 * the messages sent in it over its length, so never more than were sent.
 */
static void take_rate(struct monitor *m, int64_t sent, bool sending)
{
	double now = clock_now();
	int64_t d;

	if (m->last_sent >= 0 && now - m->last_at < 1.0)
		return;
	if (m->last_sent >= 0) {
		d = sent > m->last_sent ? sent - m->last_sent : 0;
		if (m->nrate == SAMPLES) {
			memmove(m->rate, m->rate + 1, (SAMPLES - 1) * sizeof(m->rate[0]));
			m->nrate--;
		}
		m->rate[m->nrate++] = llround((double)d / (now - m->last_at));
		m->live |= m->last_sending || sending;
	}
	m->last_sent = sent;
	m->last_at = now;
	m->last_sending = sending;
}

/* Takes one sample of the queue and of the campaign. */
static int sample(struct screen *s)
{
	struct monitor *m = s->priv;
	struct store *st = ui_store(s->ui);
	struct store_campaign *c = NULL;
	enum store_status rc;
	char *err = NULL;

	if (m->c == NULL)
		return -1;
	rc = store_campaign_get(st, m->c->name, &c, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return -1;
	}
	store_campaign_free(&m->c);
	m->c = c;
	rc = store_queue_stats(st, c->id, &m->qs, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return -1;
	}
	take_rate(m, m->qs.count[STORE_RCPT_SENT], c->state == STORE_CAMPAIGN_SENDING);
	m->nerr = 0;
	store_queue_errors(st, c->id, ERRORS, add_error, m, NULL);
	send_warmup_status(st, time(NULL), &m->w);
	return 0;
}

static int monitor_show(struct screen *s, const char *name)
{
	struct monitor *m = s->priv;
	struct store_campaign *c = NULL;
	enum store_status rc;
	char *err = NULL;

	rc = store_campaign_get(ui_store(s->ui), name, &c, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return -1;
	}
	store_campaign_free(&m->c);
	m->c = c;
	m->nrate = 0;
	m->last_sent = -1;
	m->live = false;
	ui_campaign_select(name);
	return sample(s);
}

static int monitor_load(struct screen *s)
{
	struct monitor *m = s->priv;
	struct pick p = {m, "", 0, 0};
	enum store_status rc;
	char *err = NULL;
	const char *want;

	m->nnames = 0;
	rc = store_campaign_list(ui_store(s->ui), collect, &p, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return -1;
	}
	if (m->c != NULL)
		return sample(s);
	want = ui_campaign_selected();
	if (want == NULL)
		want = p.best;
	if (want[0] == '\0')
		return 0; /* no campaigns: the screen says so */
	return monitor_show(s, want);
}

static int monitor_answer(struct screen *s)
{
	struct monitor *m = s->priv;
	struct store *st = ui_store(s->ui);
	enum store_status rc;
	char *err = NULL;
	const char *did;

	switch (ui_input_tag(s->ui)) {
	case ASK_PAUSE:
		rc = store_campaign_pause(st, m->c->name, NULL, &err);
		did = "paused";
		break;
	case ASK_RESUME:
		/* Refused when the worker would pause it again at once. */
		if (send_campaign_resume(st, m->c->name, &err) != SEND_OK) {
			ui_error(s->ui, "%s", err ? err : "cannot resume it");
			free(err);
			sample(s);
			return UI_REDRAW_ALL;
		}
		rc = STORE_OK;
		did = "resumed";
		break;
	default:
		rc = store_campaign_cancel(st, m->c->name, &err);
		did = "cancelled";
		break;
	}
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return UI_REDRAW_ALL;
	}
	sample(s);
	ui_info(s->ui, "%s %s", m->c->name, did);
	return UI_REDRAW_ALL;
}

static int monitor_handle(struct screen *s, enum ui_action a)
{
	struct monitor *m = s->priv;
	int i;

	if (a == UI_TICK) {
		if (m->c == NULL)
			return UI_REDRAW_NONE;
		sample(s);
		return UI_REDRAW_BODY;
	}
	if (a == UI_INPUT_CANCEL) {
		ui_info(s->ui, "nothing changed");
		return UI_REDRAW_ALL;
	}
	if (m->c == NULL)
		return UI_REDRAW_NONE;
	switch (a) {
	case UI_INPUT_DONE:
		return monitor_answer(s);
	case UI_TAB:
		for (i = 0; i < m->nnames && strcmp(m->names[i], m->c->name) != 0; i++)
			;
		if (m->nnames > 0)
			monitor_show(s, m->names[(i + 1) % m->nnames]);
		return UI_REDRAW_ALL;
	case UI_PAUSE:
		if (m->c->state != STORE_CAMPAIGN_SENDING &&
		    m->c->state != STORE_CAMPAIGN_SCHEDULED) {
			ui_error(s->ui, "%s is %s: only a sending or scheduled campaign pauses",
				 m->c->name, store_campaign_state_name(m->c->state));
			return UI_REDRAW_STATUS;
		}
		ui_input(s->ui, ASK_PAUSE, UI_INPUT_YESNO, NULL,
			 "Pause %s? Messages in flight finish; the rest wait. (y/n) ", m->c->name);
		return UI_REDRAW_ALL;
	case UI_RESUME:
		if (m->c->state != STORE_CAMPAIGN_PAUSED) {
			ui_error(s->ui, "%s is %s: only a paused campaign resumes", m->c->name,
				 store_campaign_state_name(m->c->state));
			return UI_REDRAW_STATUS;
		}
		ui_input(s->ui, ASK_RESUME, UI_INPUT_YESNO, NULL, "Resume %s%s%s%s? (y/n) ",
			 m->c->name, m->c->pause_reason ? " (paused: " : "",
			 m->c->pause_reason ? m->c->pause_reason : "",
			 m->c->pause_reason ? ")" : "");
		return UI_REDRAW_ALL;
	case UI_CANCEL:
		if (m->c->state == STORE_CAMPAIGN_SENT || m->c->state == STORE_CAMPAIGN_FAILED ||
		    m->c->state == STORE_CAMPAIGN_CANCELLED) {
			ui_error(s->ui, "%s is %s: it is over, so there is nothing to cancel",
				 m->c->name, store_campaign_state_name(m->c->state));
			return UI_REDRAW_STATUS;
		}
		ui_input(s->ui, ASK_CANCEL, UI_INPUT_YESNO, NULL,
			 "Cancel %s for good? What is not sent yet is never sent. (y/n) ",
			 m->c->name);
		return UI_REDRAW_ALL;
	default:
		return UI_REDRAW_NONE;
	}
}

/* [██████░░░░] 60% done: the bar as wide as fits, at most `width`. */
static void progress(struct grid *g, int row, int col, int width, int64_t done, int64_t total)
{
	int i, fill;

	if (width > g->w - 1 - col - 10) /* " 100% done" */
		width = g->w - 1 - col - 10;
	if (width < 0)
		width = 0;
	fill = total > 0 ? (int)(done * width / total) : 0;
	for (i = 0; i < width; i++)
		grid_put(g, row, col + i, 1, i < fill ? UI_A_OK : UI_A_DIM, i < fill ? "█" : "░");
	grid_printf(g, row, col + width + (width > 0), UI_A_NORMAL, "%lld%% done",
		    (long long)(total > 0 ? done * 100 / total : 0));
}

/*
 * The count of each recipient state, on as many rows as the width needs;
 * then the total and the progress bar. Queued recipients of a campaign that
 * is over are never sent: they count as "not sent". Returns the rows used.
 */
static int render_counts(struct monitor *m, struct grid *g, int row)
{
	static const char *const shown[STORE_RCPT_NSTATES] = {"queued",	  "in flight", "sent",
							      "deferred", "failed",    "uncertain"};
	const struct store_queue_stats *q = &m->qs;
	int col = 4, i, w, top = row;
	char item[64];

	for (i = 0; i < STORE_RCPT_NSTATES; i++) {
		if (i == STORE_RCPT_QUEUED && (m->c->state == STORE_CAMPAIGN_CANCELLED ||
					       m->c->state == STORE_CAMPAIGN_FAILED))
			snprintf(item, sizeof(item), "not sent (%s) %lld",
				 store_campaign_state_name(m->c->state), (long long)q->count[i]);
		else
			snprintf(item, sizeof(item), "%s %lld", shown[i], (long long)q->count[i]);
		w = grid_width(item);
		if (col > 4 && col + w > g->w - 1) {
			row++;
			col = 4;
		}
		col += grid_put(g, row, col, -1,
				(i == STORE_RCPT_FAILED || i == STORE_RCPT_UNCERTAIN) && q->count[i]
				    ? UI_A_ERROR
				    : UI_A_NORMAL,
				item) +
		       3;
	}
	row++;
	grid_printf(g, row, 4, UI_A_DIM, "of %lld recipient%s", (long long)q->total,
		    q->total == 1 ? "" : "s");
	progress(g, row, 26, 30,
		 q->count[STORE_RCPT_SENT] + q->count[STORE_RCPT_FAILED] +
		     q->count[STORE_RCPT_UNCERTAIN],
		 q->total);
	return row + 1 - top;
}

/* The rate of a campaign the monitor has not seen sending: none, and why. */
static void not_live(const struct monitor *m, struct grid *g, int row)
{
	const struct store_campaign *c = m->c;
	long secs = (long)(c->finished_at - c->started_at);

	if (c->state == STORE_CAMPAIGN_SENDING)
		grid_put(g, row, 8, -1, UI_A_DIM, "measuring: the first figures come in a second");
	else if (c->started_at > 0 && c->finished_at >= c->started_at)
		grid_printf(g, row, 8, UI_A_NORMAL,
			    "not observed live: it finished before the monitor opened "
			    "(%lld sent in %ld min %ld s)",
			    (long long)m->qs.count[STORE_RCPT_SENT], secs / 60, secs % 60);
	else
		grid_printf(g, row, 8, UI_A_NORMAL, "not observed live: it is %s, not sending",
			    store_campaign_state_name(c->state));
}

/*
 * The campaign and its state on the left; on the right, when there are
 * others, that Tab shows the next, said shorter when the title needs the
 * room. A title still too long is cut with "…", never written over.
 */
static void render_title(const struct monitor *m, struct grid *g, int row)
{
	const struct store_campaign *c = m->c;
	char title[300], hint[64];
	int room = g->w - 3;

	snprintf(title, sizeof(title), "%s · %s", c->name, store_campaign_state_name(c->state));
	if (m->nnames > 1) {
		snprintf(hint, sizeof(hint), "Tab: next of %d campaigns", m->nnames);
		if (grid_width(title) + 2 + grid_width(hint) > room)
			snprintf(hint, sizeof(hint), "Tab: next");
		grid_put(g, row, g->w - 1 - grid_width(hint), -1, UI_A_DIM, hint);
		room -= grid_width(hint) + 2;
	}
	grid_put(g, row, 2, room > 0 ? room : 1, UI_A_BOLD, title);
}

static void monitor_render(struct screen *s, struct grid *g)
{
	struct monitor *m = s->priv;
	struct store_campaign *c = m->c;
	int row = 1, i, width;
	int64_t peak = 0;
	char when[40], rate[32];

	if (c == NULL) {
		grid_put(g, 1, 2, -1, UI_A_DIM, "No campaigns to monitor yet.");
		return;
	}
	render_title(m, g, row);
	row += 2;
	grid_put(g, row++, 2, -1, UI_A_BOLD, "Recipients");
	row += render_counts(m, g, row) + 1;
	width = g->w - 30;
	if (width > SAMPLES)
		width = SAMPLES;
	for (i = 0; i < (int)m->nrate; i++)
		if (m->rate[i] > peak)
			peak = m->rate[i];
	grid_put(g, row, 2, -1, UI_A_BOLD, "Rate");
	if (m->live) {
		ui_sparkline(g, row, 8, width, m->rate, m->nrate);
		/* No peak while the monitor has seen nothing sent (it may have come before). */
		send_rate_text(m->qs.sent_last_minute, rate, sizeof(rate));
		if (peak > 0)
			grid_printf(g, row++, 9 + width, UI_A_NORMAL, "%s, peak %lld/s", rate,
				    (long long)peak);
		else
			grid_printf(g, row++, 9 + width, UI_A_NORMAL, "%s", rate);
		grid_printf(g, row++, 8, UI_A_DIM,
			    "messages sent each second, newest on the right");
	} else {
		not_live(m, g, row);
		row += 2;
	}
	row++;
	if (m->w.active)
		grid_printf(g, row++, 2, UI_A_NORMAL,
			    "Warm-up: day %d of the %s: %lld of %ld sent today; %ld tomorrow",
			    m->w.day, m->w.plan, (long long)m->w.sent_today, m->w.cap,
			    m->w.next_cap);
	else
		grid_put(g, row++, 2, -1, UI_A_NORMAL, "Warm-up: no cap (warmup.start is not set)");
	if (c->state == STORE_CAMPAIGN_SCHEDULED && c->scheduled_at != 0) {
		ui_campaign_time(c->scheduled_at, when, sizeof(when));
		grid_printf(g, row++, 2, UI_A_NORMAL, "Scheduled for %s", when);
	}
	if (c->pause_reason != NULL &&
	    (c->state == STORE_CAMPAIGN_PAUSED || c->state == STORE_CAMPAIGN_FAILED))
		grid_printf(g, row++, 2, UI_A_ERROR, "%s: %s",
			    c->state == STORE_CAMPAIGN_PAUSED ? "Paused" : "Failed",
			    c->pause_reason);
	if (m->qs.count[STORE_RCPT_UNCERTAIN] > 0 && row < g->h)
		grid_printf(g, row++, 2, UI_A_ERROR,
			    "%lld uncertain: in flight when a worker stopped; hato campaign retry "
			    "%s --uncertain resends them",
			    (long long)m->qs.count[STORE_RCPT_UNCERTAIN], c->name);
	row++;
	if (row >= g->h)
		return;
	grid_put(g, row++, 2, -1, UI_A_BOLD, "Recent errors");
	if (m->nerr == 0 && row < g->h)
		grid_put(g, row++, 4, -1, UI_A_DIM, "none");
	for (i = 0; i < m->nerr && row < g->h; i++)
		grid_put(g, row++, 4, -1, UI_A_NORMAL, m->err[i]);
}

static const struct screen_verb monitor_verbs[] = {
    {UI_PAUSE, "pause", STORE_PERM_CAMPAIGNS_SEND, "hato campaign pause", false},
    {UI_RESUME, "resume", STORE_PERM_CAMPAIGNS_SEND, "hato campaign resume", false},
    {UI_CANCEL, "cancel", STORE_PERM_CAMPAIGNS_SEND, "hato campaign cancel", false},
    {UI_TAB, "next campaign", STORE_PERM_NONE, NULL, false},
    {UI_TICK, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_monitor_ops = {
    .title = "Live monitor",
    .perm = STORE_PERM_CAMPAIGNS_READ,
    .menu_help = "a sending campaign: rate, counts, errors; pause or cancel",
    .verbs = monitor_verbs,
    .open = monitor_open,
    .load = monitor_load,
    .handle = monitor_handle,
    .render = monitor_render,
    .close = monitor_close,
};
