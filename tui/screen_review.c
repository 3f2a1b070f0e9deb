/*
 * tui/screen_review.c: the review queue, for operators. Lists the campaigns
 * in review, and those approved or scheduled that wait to be sent. For the
 * selected one it shows the headers of the message its first recipient
 * would get (From, To, Subject), the recipient count and the checks, and in
 * a pane that Tab switches: the rendered text part, the check findings, or
 * the changes since the last approved version (a line diff). a approves
 * (signed with the user's key), R rejects with a comment, t schedules, N
 * sends now, w runs a worker in the background when none is running.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send/send.h"
#include "tui/cli.h"
#include "tui/ui.h"

enum { ASK_APPROVE = 1, ASK_REJECT, ASK_SCHEDULE, ASK_SEND, ASK_PASSWORD };
enum { PANE_PREVIEW, PANE_CHECKS, PANE_CHANGES, NPANES };
enum { COL_NAME, COL_STATE, COL_AUTHOR, COL_AUDIENCE, COL_APPROVALS, NCOLS };

struct review {
	struct ui_table t;
	char shown[128]; /* the campaign the details are of */
	struct store_campaign *c;
	struct ui_check check;
	struct ui_preview pv;
	char *pv_error;
	char *stale; /* why its approval no longer holds, when the content changed since */
	unsigned char hash[32]; /* the approval hash of c as loaded: what is shown */
	bool hashed;
	char **diff; /* the changes pane's lines; "-", "+" or " " first */
	size_t ndiff;
	bool has_old;
	int pane, scroll; /* scroll: the pane's rows above its top */
	int pane_rows;	  /* the pane's height at the last render: what PgDn moves */
	char target[128];
};

static const char *const heads[NCOLS] = {"Campaign", "State", "Author", "Audience", "Approvals"};
static const char *const pane_names[NPANES] = {"Preview", "Checks", "Changes since approval"};

static int rev_open(struct screen *s)
{
	struct review *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -1;
	ui_table_init(&r->t, NCOLS, heads);
	r->t.maxw = 20;
	s->priv = r;
	return 0;
}

static void diff_free(struct review *r)
{
	size_t i;

	for (i = 0; i < r->ndiff; i++)
		free(r->diff[i]);
	free(r->diff);
	r->diff = NULL;
	r->ndiff = 0;
}

static void details_free(struct review *r)
{
	store_campaign_free(&r->c);
	ui_check_free(&r->check);
	ui_preview_free(&r->pv);
	free(r->pv_error);
	r->pv_error = NULL;
	free(r->stale);
	r->stale = NULL;
	diff_free(r);
	r->shown[0] = '\0';
	r->has_old = false;
	r->hashed = false;
}

static void rev_close(struct screen *s)
{
	struct review *r = s->priv;

	details_free(r);
	ui_table_free(&r->t);
	free(r);
	s->priv = NULL;
}

static int count_approval(const struct store_approval *a, void *arg)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

struct rows {
	struct review *r;
	struct store *st;
};

static int add_row(const struct store_campaign *c, void *arg)
{
	struct rows *w = arg;
	const char *cols[NCOLS];
	char audience[160], approvals[48];
	bool changed = false;
	int n = 0;

	if (c->state != STORE_CAMPAIGN_IN_REVIEW && c->state != STORE_CAMPAIGN_APPROVED &&
	    c->state != STORE_CAMPAIGN_SCHEDULED)
		return 0;
	store_campaign_approvals(w->st, c->id, count_approval, &n, NULL);
	/* An approved campaign whose template or a setting changed since: say so. */
	if (c->state != STORE_CAMPAIGN_IN_REVIEW)
		send_campaign_verify(w->st, c, &changed, NULL);
	snprintf(audience, sizeof(audience), "%s%s%s", c->list, c->segment ? " / " : "",
		 c->segment ? c->segment : "");
	snprintf(approvals, sizeof(approvals), "%d of %d%s", n, c->approvals_needed,
		 changed ? ", content changed" : "");
	cols[COL_NAME] = c->name;
	cols[COL_STATE] = store_campaign_state_name(c->state);
	cols[COL_AUTHOR] = c->author;
	cols[COL_AUDIENCE] = audience;
	cols[COL_APPROVALS] = approvals;
	return ui_table_add(&w->r->t, cols) != 0;
}

/* ---- The diff ----------------------------------------------------------- */

static int diff_add(struct review *r, char mark, const char *text, size_t len)
{
	char **d = realloc(r->diff, (r->ndiff + 1) * sizeof(*d));

	if (d == NULL)
		return -1;
	r->diff = d;
	d[r->ndiff] = malloc(len + 3);
	if (d[r->ndiff] == NULL)
		return -1;
	d[r->ndiff][0] = mark;
	d[r->ndiff][1] = ' ';
	memcpy(d[r->ndiff] + 2, text, len);
	d[r->ndiff][len + 2] = '\0';
	r->ndiff++;
	return 0;
}

/* Splits s into lines (pointers into a copy); *n lines. */
static char **lines_of(const char *s, size_t *n, char **copy)
{
	char **v = NULL, **nv, *p, *e;

	*n = 0;
	*copy = strdup(s != NULL ? s : "");
	if (*copy == NULL)
		return NULL;
	for (p = *copy; *p != '\0'; p = e + 1) {
		e = strchr(p, '\n');
		nv = realloc(v, (*n + 1) * sizeof(*v));
		if (nv == NULL)
			break;
		v = nv;
		v[(*n)++] = p;
		if (e == NULL)
			break;
		*e = '\0';
	}
	return v;
}

/* A line diff (longest common subsequence) of a and b, with `what` on top. */
static void diff_text(struct review *r, const char *what, const char *a, const char *b)
{
	char *ca = NULL, *cb = NULL, **la, **lb, head[128];
	size_t na, nb, i, j, *lcs = NULL;

	if (strcmp(a ? a : "", b ? b : "") == 0)
		return;
	la = lines_of(a, &na, &ca);
	lb = lines_of(b, &nb, &cb);
	snprintf(head, sizeof(head), "%s:", what);
	diff_add(r, '@', head, strlen(head));
	if (na > 2000 || nb > 2000 || (lcs = calloc((na + 1) * (nb + 1), sizeof(*lcs))) == NULL) {
		diff_add(r, '!', "(too long to compare line by line)", 34);
		goto done;
	}
#define L(x, y) lcs[(x) * (nb + 1) + (y)]
	for (i = na; i-- > 0;)
		for (j = nb; j-- > 0;)
			L(i, j) = strcmp(la[i], lb[j]) == 0    ? L(i + 1, j + 1) + 1
				  : L(i + 1, j) >= L(i, j + 1) ? L(i + 1, j)
							       : L(i, j + 1);
	for (i = 0, j = 0; i < na || j < nb;) {
		if (i < na && j < nb && strcmp(la[i], lb[j]) == 0) {
			diff_add(r, ' ', la[i], strlen(la[i]));
			i++, j++;
		} else if (i < na && (j == nb || L(i + 1, j) >= L(i, j + 1))) {
			diff_add(r, '-', la[i], strlen(la[i])); /* the old line first */
			i++;
		} else {
			diff_add(r, '+', lb[j], strlen(lb[j]));
			j++;
		}
	}
#undef L
done:
	free(lcs);
	free(la);
	free(lb);
	free(ca);
	free(cb);
}

/*
 * What the approval covers beyond the copy v, when it changed or may have:
 * '*' lines, after a line saying that the fields compared are as approved
 * when they are.
 */
static void load_unkept(struct review *r, struct store *st, const struct store_campaign_version *v)
{
	static const char head[] =
	    "Also covered by the approval, which the store keeps no copy of:";
	static const char same[] = "(subject, From, list, segment and template as approved)";
	char **unkept = NULL;
	size_t i;

	if (send_campaign_changes_unkept(st, r->c, v, &unkept, NULL) != SEND_OK)
		unkept = NULL;
	if (r->ndiff == 1)
		diff_add(r, ' ', unkept ? same : "(no changes)", unkept ? strlen(same) : 12);
	if (unkept == NULL)
		return;
	diff_add(r, '@', head, strlen(head));
	for (i = 0; unkept[i] != NULL; i++)
		diff_add(r, '*', unkept[i], strlen(unkept[i]));
	send_strv_free(&unkept);
}

static void load_diff(struct screen *s)
{
	struct review *r = s->priv;
	struct store *st = ui_store(s->ui);
	struct store_campaign_version *v = NULL;
	struct store_template *t = NULL;
	char when[40], line[256];

	if (store_campaign_last_approved(st, r->c->id, r->c->version, &v, NULL) != STORE_OK)
		return;
	r->has_old = true;
	ui_campaign_time(v->approved, when, sizeof(when));
	snprintf(line, sizeof(line), "against %sversion %lld, approved by %s on %s",
		 v->version == r->c->version && r->c->state != STORE_CAMPAIGN_IN_REVIEW
		     ? "the current approval, "
		     : "",
		 (long long)v->version, v->approver, when);
	diff_add(r, '=', line, strlen(line));
	diff_text(r, "Subject", v->subject, r->c->subject);
	diff_text(r, "From", v->from ? v->from : "(sender.from)",
		  r->c->from ? r->c->from : "(sender.from)");
	diff_text(r, "List", v->list, r->c->list);
	diff_text(r, "Segment", v->segment ? v->segment : "(whole list)",
		  r->c->segment ? r->c->segment : "(whole list)");
	diff_text(r, "Template name", v->template_name, r->c->template_name);
	if (store_template_get(st, r->c->template_name, &t, NULL) == STORE_OK) {
		diff_text(r, "Template source", v->template_source, t->source);
		diff_text(r, "Template text part", v->template_text, t->text_source);
		store_template_free(&t);
	}
	load_unkept(r, st, v);
	store_campaign_version_free(&v);
}

/* Keeps why an approved campaign's approval no longer holds, if its content changed. */
static void load_stale(struct review *r, struct store *st)
{
	bool changed = false;
	char *why = NULL;

	if (r->c->state == STORE_CAMPAIGN_IN_REVIEW)
		return;
	if (send_campaign_verify(st, r->c, &changed, &why) != SEND_OK && changed) {
		r->stale = why;
		why = NULL;
	}
	free(why);
}

/* Loads the selected campaign's details, unless they are shown already. */
static void load_details(struct screen *s, bool force)
{
	struct review *r = s->priv;
	struct store *st = ui_store(s->ui);
	const char *name = ui_table_selected(&r->t, COL_NAME);
	char *err = NULL;

	if (name == NULL) {
		details_free(r);
		return;
	}
	if (!force && strcmp(name, r->shown) == 0)
		return;
	details_free(r);
	r->scroll = 0;
	snprintf(r->shown, sizeof(r->shown), "%s", name);
	if (store_campaign_get(st, name, &r->c, &err) != STORE_OK) {
		r->pv_error = err;
		return;
	}
	/* Hashed first: what is shown below was read after, so it can only be newer. */
	r->hashed = send_campaign_hash(st, r->c, r->c->scheduled_at, r->hash, NULL) == SEND_OK;
	load_stale(r, st);
	if (ui_check_run(st, r->c, &r->check, &err) != 0) {
		r->pv_error = err;
		err = NULL;
	}
	if (ui_preview_make(st, r->c, &r->pv, &err) != 0) {
		free(r->pv_error);
		r->pv_error = err;
	}
	load_diff(s);
}

static int rev_load(struct screen *s)
{
	struct review *r = s->priv;
	struct rows w = {r, ui_store(s->ui)};
	enum store_status rc;
	char *err = NULL;

	ui_table_clear(&r->t);
	rc = store_campaign_list(w.st, add_row, &w, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return -1;
	}
	load_details(s, true);
	return 0;
}

/* ---- Actions ------------------------------------------------------------ */

static int done_send(struct screen *s, enum send_status rc, char *err, const char *what)
{
	struct review *r = s->priv;
	char line[200];
	const char *tail;
	bool running;

	if (rc != SEND_OK) { /* the first line: a refusal by the checks lists them below it */
		/* Shown again as it is now: the refusal may be due to a change elsewhere. */
		rev_load(s);
		ui_error(s->ui, "%.*s", err ? (int)strcspn(err, "\n") : 64,
			 err ? err : send_strstatus(rc));
		free(err);
		return UI_REDRAW_ALL;
	}
	free(err);
	rev_load(s);
	/* A schedule that needs more approvals than the scheduler's. */
	if (r->c != NULL && strcmp(r->c->name, r->target) == 0 &&
	    r->c->state == STORE_CAMPAIGN_IN_REVIEW) {
		ui_info(s->ui,
			"%s is in review again: its schedule needs %d approvals, yours included; "
			"the last one makes it due",
			r->target, r->c->approvals_needed);
		return UI_REDRAW_ALL;
	}
	ui_worker_line(ui_store(s->ui), line, sizeof(line), &running);
	if (running) {
		ui_info(s->ui, "%s %s", r->target, what);
		return UI_REDRAW_ALL;
	}
	/* "worker: not running, so ..." -> "the worker is not running, so ..." */
	tail = line + strlen("worker: ");
	ui_info(s->ui, "%s %s; the worker %s%s", r->target, what,
		strncmp(tail, "not ", 4) == 0 ? "is " : "", tail);
	return UI_REDRAW_ALL;
}

/*
 * The prompts that take text. A wrong answer asks again, with the text as
 * typed: were the prompt to close, what is typed next would be read as the
 * screen's keys ("add a line" would start with a, approve).
 */
static void ask_reject(struct screen *s, const char *text)
{
	struct review *r = s->priv;

	ui_input(s->ui, ASK_REJECT, 0, text, "Reject %s. What must change? ", r->target);
}

static void ask_schedule(struct screen *s, const char *text)
{
	struct review *r = s->priv;

	ui_input(s->ui, ASK_SCHEDULE, 0, text,
		 "Send %s at (e.g. 2026-12-01T09:00+09:00): ", r->target);
}

/* Rejects with the comment text; a refusal reloads, like done_send. */
static int reject(struct screen *s, const char *text)
{
	struct review *r = s->priv;
	enum store_status ss;
	char *err = NULL;

	if (text[0] == '\0') {
		ui_error(s->ui, "a rejection needs a comment saying what to change (Esc cancels)");
		ask_reject(s, text);
		return UI_REDRAW_ALL;
	}
	ss = store_campaign_reject(ui_store(s->ui), r->target, text, &err);
	rev_load(s);
	if (ss != STORE_OK) {
		ui_error_store(s->ui, ss, err);
		return UI_REDRAW_ALL;
	}
	ui_info(s->ui, "rejected %s; its author sees your comment", r->target);
	return UI_REDRAW_ALL;
}

/*
 * Approving, scheduling and sending sign the campaign as the screen showed
 * it (r->hash): the core refuses when it has changed since.
 */
static int answer(struct screen *s, const char *text)
{
	struct review *r = s->priv;
	struct store *st = ui_store(s->ui);
	int tag = ui_input_tag(s->ui);
	enum send_status rc;
	char *err = NULL, when[40], what[160], advice[300];
	time_t at = 0;

	if (tag == ASK_PASSWORD)
		return ui_worker_answer(s->ui, text);
	if (tag == ASK_REJECT)
		return reject(s, text);
	/* The details are of another campaign now, or could not be hashed: sign nothing. */
	if (r->c == NULL || strcmp(r->c->name, r->target) != 0 || !r->hashed) {
		rev_load(s);
		ui_error(s->ui, "%s is no longer shown as it was: review it again", r->target);
		return UI_REDRAW_ALL;
	}
	if (tag == ASK_APPROVE) {
		rc = send_campaign_approve(st, r->target, text[0] ? text : NULL, r->hash, &err);
		return done_send(
		    s, rc, err,
		    "is approved, signed with your key: N sends it now, t schedules it");
	}
	if (tag == ASK_SCHEDULE && cli_parse_time(text, &at) != 0) {
		ui_error(s->ui, "not a time: write it as 2026-12-01T09:00+09:00 (Esc cancels)");
		ask_schedule(s, text);
		return UI_REDRAW_ALL;
	}
	if (tag == ASK_SCHEDULE && send_schedule_passed(at, time(NULL))) {
		ui_error(s->ui,
			 "that time has passed: give a later one, or Esc and N to send %s now",
			 r->target);
		ask_schedule(s, text);
		return UI_REDRAW_ALL;
	}
	if (tag != ASK_SCHEDULE && tag != ASK_SEND)
		return UI_REDRAW_ALL;
	ui_campaign_time(at, when, sizeof(when));
	snprintf(what, sizeof(what), "is scheduled for %s%s", when,
		 tag == ASK_SCHEDULE &&
			 send_schedule_advice(st, r->target, at, advice, sizeof(advice))
		     ? " (docomo watches for bursts at the top of the hour: :07 is safer)"
		     : "");
	rc = send_campaign_schedule(st, r->target, at, r->hash, &err);
	return done_send(s, rc, err, tag == ASK_SEND ? "will be sent now" : what);
}

/*
 * The campaign's state allows a (approve; or schedule, send now): else says
 * why, in the UI's words and with what to do first, before anything is
 * asked, and returns true.
 */
static bool state_refuse(struct screen *s, enum ui_action a)
{
	struct review *r = s->priv;
	enum store_campaign_state st = r->c->state;

	if (a == UI_APPROVE && st != STORE_CAMPAIGN_IN_REVIEW)
		ui_error(s->ui, "%s is %s: only a campaign in review is approved", r->target,
			 store_campaign_state_name(st));
	else if (a != UI_APPROVE && st == STORE_CAMPAIGN_IN_REVIEW)
		ui_error(s->ui, "%s is in review: %s", r->target,
			 store_can(ui_store(s->ui), STORE_PERM_CAMPAIGNS_APPROVE)
			     ? "approve it first (a)"
			     : "it is sent once approved");
	else if (a != UI_APPROVE && st != STORE_CAMPAIGN_APPROVED && st != STORE_CAMPAIGN_SCHEDULED)
		ui_error(s->ui, "%s is %s: only an approved or scheduled campaign is %s", r->target,
			 store_campaign_state_name(st), a == UI_SEND_NOW ? "sent" : "scheduled");
	else
		return false;
	return true;
}

/* The four-eyes rule, before anything is asked: true after saying why it refuses. */
static bool four_eyes_refuse(struct screen *s, const char *action)
{
	struct review *r = s->priv;
	enum store_status rc;
	char *err = NULL;

	rc = store_campaign_four_eyes(ui_store(s->ui), r->c, action, &err);
	if (rc == STORE_OK)
		return false;
	ui_error_store(s->ui, rc, err);
	return true;
}

static int rev_handle(struct screen *s, enum ui_action a)
{
	struct review *r = s->priv;
	int moved, step;

	if (a == UI_INPUT_DONE)
		return answer(s, ui_input_text(s->ui));
	if (a == UI_INPUT_CANCEL) {
		ui_info(s->ui, "cancelled");
		return UI_REDRAW_ALL;
	}
	if (a == UI_WORKER)
		return ui_worker_offer(s->ui, ASK_PASSWORD);
	if (a == UI_TAB) {
		r->pane = (r->pane + 1) % NPANES;
		r->scroll = 0;
		return UI_REDRAW_BODY;
	}
	if (a == UI_PGDN || a == UI_PGUP) {
		/* A page less a row: the row at the bottom goes on at the top. */
		step = r->pane_rows > 2 ? r->pane_rows - 1 : 1;
		r->scroll += a == UI_PGDN ? step : -step;
		if (r->scroll < 0)
			r->scroll = 0;
		return UI_REDRAW_BODY;
	}
	if (r->c == NULL) {
		moved = ui_table_move(&r->t, a);
		load_details(s, false);
		return moved;
	}
	snprintf(r->target, sizeof(r->target), "%s", r->c->name);
	switch (a) {
	case UI_APPROVE:
		if (state_refuse(s, a) || four_eyes_refuse(s, "campaign.approve"))
			return UI_REDRAW_STATUS;
		ui_input(s->ui, ASK_APPROVE, 0, NULL,
			 "Approve %s with your signature? Comment (optional), Enter approves, Esc "
			 "cancels: ",
			 r->target);
		return UI_REDRAW_ALL;
	case UI_REJECT:
		if (four_eyes_refuse(s, "campaign.reject"))
			return UI_REDRAW_STATUS;
		ask_reject(s, NULL);
		return UI_REDRAW_ALL;
	case UI_SCHEDULE:
		if (state_refuse(s, a) || four_eyes_refuse(s, "campaign.schedule"))
			return UI_REDRAW_STATUS;
		ask_schedule(s, NULL);
		return UI_REDRAW_ALL;
	case UI_SEND_NOW:
		if (state_refuse(s, a) || four_eyes_refuse(s, "campaign.schedule"))
			return UI_REDRAW_STATUS;
		ui_input(s->ui, ASK_SEND, UI_INPUT_YESNO, NULL,
			 "Send %s to %lld recipient%s now? (y/n) ", r->target,
			 (long long)(r->check.recipients > 0 ? r->check.recipients : 0),
			 r->check.recipients == 1 ? "" : "s");
		return UI_REDRAW_ALL;
	case UI_ENTER:
	case UI_MONITOR:
		ui_campaign_select(r->target);
		ui_push(s->ui, &screen_monitor_ops);
		return UI_REDRAW_ALL;
	default:
		moved = ui_table_move(&r->t, a);
		load_details(s, false);
		return moved;
	}
}

/* ---- Drawing ------------------------------------------------------------ */

/* Is the line a sentence of the changes pane: a bullet, wrapped? */
static bool bullet(const struct review *r, const char *line)
{
	return r->pane == PANE_CHANGES && line[0] == '*';
}

static int line_attr(const struct review *r, const char *line)
{
	if (r->pane == PANE_CHANGES)
		return line[0] == '-'	? UI_A_ERROR
		       : line[0] == '+' ? UI_A_OK
		       : line[0] == '@' ? UI_A_BOLD
		       : line[0] == '=' ? UI_A_DIM
					: UI_A_NORMAL;
	if (r->pane == PANE_CHECKS && strncmp(line, "error", 5) == 0)
		return UI_A_ERROR;
	return UI_A_NORMAL;
}

/*
 * The pane's lines from r->scroll, which counts rows: a bullet wrapped on
 * several rows scrolls a row at a time, so that its end can be read however
 * long it is. They are drawn on a grid of the pane's own, from above its
 * top (rows above it are dropped), and copied under the tabs.
 */
static void render_lines(struct review *r, struct grid *g, int row, char *const *lines, size_t n)
{
	struct grid pane;
	size_t i;
	int y, total = 0;

	if (row >= g->h || grid_init(&pane, g->w, g->h - row) != 0)
		return;
	r->pane_rows = pane.h;
	for (i = 0; i < n; i++)
		total += bullet(r, lines[i]) ? grid_wrap_rows(&pane, 6, lines[i] + 2) : 1;
	if (r->scroll >= total && total > 0)
		r->scroll = total - 1;
	for (i = 0, y = -r->scroll; i < n && y < pane.h; i++) {
		if (bullet(r, lines[i])) {
			grid_put(&pane, y, 4, 1, UI_A_ERROR, "*");
			grid_wrap(&pane, y, 6, pane.h - y, UI_A_ERROR, lines[i] + 2);
			y += grid_wrap_rows(&pane, 6, lines[i] + 2);
			continue;
		}
		grid_put(&pane, y++, 4, -1, line_attr(r, lines[i]),
			 r->pane == PANE_CHANGES && (lines[i][0] == '@' || lines[i][0] == '=')
			     ? lines[i] + 2
			     : lines[i]);
	}
	grid_blit(g, &pane, row);
	grid_free(&pane);
}

static void render_pane(struct review *r, struct grid *g, int row)
{
	if (r->pane == PANE_PREVIEW && r->pv_error != NULL)
		grid_wrap(g, row, 4, 2, UI_A_ERROR, r->pv_error);
	else if (r->pane == PANE_PREVIEW)
		render_lines(r, g, row, r->pv.lines, r->pv.n);
	else if (r->pane == PANE_CHECKS)
		render_lines(r, g, row, r->check.lines, r->check.n);
	else if (!r->has_old)
		grid_put(g, row, 4, -1, UI_A_DIM,
			 "No earlier approved version: nothing to compare with.");
	else
		render_lines(r, g, row, r->diff, r->ndiff);
}

static void render_details(struct review *r, struct grid *g, int row)
{
	int col = 2, i;
	char line[128];

	if (r->c == NULL) {
		if (r->pv_error != NULL)
			grid_wrap(g, row, 2, 2, UI_A_ERROR, r->pv_error);
		return;
	}
	grid_printf(g, row++, 2, UI_A_NORMAL, "From:    %s", r->pv.from ? r->pv.from : "-");
	grid_printf(g, row++, 2, UI_A_NORMAL, "To:      %s  (%s)", r->pv.to ? r->pv.to : "-",
		    r->pv.to ? "the first recipient" : "no recipient");
	grid_printf(g, row++, 2, UI_A_NORMAL, "Subject: %s",
		    r->pv.subject ? r->pv.subject : r->c->subject);
	if (r->check.recipients >= 0)
		snprintf(line, sizeof(line), "recipients: %lld", (long long)r->check.recipients);
	else
		snprintf(line, sizeof(line), "recipients not counted");
	grid_printf(g, row++, 2, r->check.errors ? UI_A_ERROR : UI_A_NORMAL,
		    "Checks:  %zu errors, %zu warnings · %s · DKIM: %zu key%s", r->check.errors,
		    r->check.warnings, line, r->pv.dkim_keys, r->pv.dkim_keys == 1 ? "" : "s");
	/* Whole, to the remedy at its end ("submit it for review again"). */
	if (r->stale != NULL)
		row += grid_wrap(g, row, 2, 5, UI_A_ERROR, r->stale);
	row++;
	for (i = 0; i < NPANES; i++) {
		snprintf(line, sizeof(line), i == r->pane ? "[%s]" : " %s ", pane_names[i]);
		col += grid_put(g, row, col, -1, i == r->pane ? UI_A_BOLD | UI_A_REVERSE : UI_A_DIM,
				line) +
		       1;
	}
	if (r->pane == PANE_PREVIEW && r->pv.note != NULL)
		grid_put(g, row, col + 1, -1, UI_A_DIM, r->pv.note);
	render_pane(r, g, row + 1);
}

static void rev_render(struct screen *s, struct grid *g)
{
	struct review *r = s->priv;
	char worker[200];
	bool running;
	int height = (int)r->t.nrows + 1;

	grid_printf(g, 0, 2, UI_A_BOLD, "Review queue (%zu)", r->t.nrows);
	ui_worker_line(ui_store(s->ui), worker, sizeof(worker), &running);
	grid_put(g, 1, 2, -1, running ? UI_A_DIM : UI_A_ERROR, worker);
	if (height > 4)
		height = 4;
	if (height < 2)
		height = 2;
	ui_table_render(&r->t, g, 2, height,
			"Nothing awaits review or sending: campaigns appear here once submitted.");
	render_details(r, g, 2 + height + 1);
}

static int count_review(const struct store_campaign *c, void *arg)
{
	int *n = arg;

	n[0] += c->state == STORE_CAMPAIGN_IN_REVIEW;
	n[1] += c->state == STORE_CAMPAIGN_APPROVED;
	return 0;
}

static void rev_summary(struct ui *ui, char *buf, size_t size)
{
	int n[2] = {0, 0};

	if (store_campaign_list(ui_store(ui), count_review, n, NULL) == STORE_OK)
		snprintf(buf, size, "%d in review, %d approved", n[0], n[1]);
}

static const struct screen_verb rev_verbs[] = {
    {UI_UP, NULL, STORE_PERM_NONE, NULL, false},
    {UI_DOWN, NULL, STORE_PERM_NONE, NULL, false},
    {UI_HOME, NULL, STORE_PERM_NONE, NULL, false},
    {UI_END, NULL, STORE_PERM_NONE, NULL, false},
    {UI_PGUP, "scroll the pane up", STORE_PERM_NONE, NULL, false},
    {UI_PGDN, "scroll the pane down", STORE_PERM_NONE, NULL, false},
    {UI_APPROVE, "approve", STORE_PERM_CAMPAIGNS_APPROVE, "hato campaign approve", false},
    {UI_REJECT, "reject", STORE_PERM_CAMPAIGNS_APPROVE, "hato campaign reject", false},
    {UI_SEND_NOW, "send now", STORE_PERM_CAMPAIGNS_SEND, "hato campaign send", false},
    {UI_SCHEDULE, "schedule", STORE_PERM_CAMPAIGNS_SEND, "hato campaign schedule", false},
    {UI_TAB, "preview, checks or changes", STORE_PERM_NONE, NULL, false},
    {UI_WORKER, "run a worker", STORE_PERM_CAMPAIGNS_SEND, "hato worker", false},
    {UI_ENTER, "open the live monitor", STORE_PERM_NONE, NULL, false},
    {UI_MONITOR, "open the live monitor", STORE_PERM_NONE, NULL, false},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_review_ops = {
    .title = "Review queue",
    .perm = STORE_PERM_CAMPAIGNS_READ,
    .menu_help = "review, approve or reject; schedule or send",
    .verbs = rev_verbs,
    .open = rev_open,
    .load = rev_load,
    .handle = rev_handle,
    .render = rev_render,
    .close = rev_close,
    .summary = rev_summary,
};
