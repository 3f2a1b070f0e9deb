/*
 * tui/screen_campaigns.c: the campaigns, for marketers (and, read-only, for
 * everyone with campaigns.read). Lists every campaign with its state and
 * audience; under the list, the selected one's subject, sender and, when
 * rejected, who rejected it and the comment (Tab shows a long one whole). n creates a draft and e
 * edits one (the form in screen_campaign_edit.c), y copies, C runs the pre-send checks and the
 * recipient count and shows the findings, S submits for review, m opens the live monitor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send/send.h"
#include "tui/ui.h"

enum { ASK_COPY = 1, ASK_SUBMIT };
enum { COL_NAME, COL_STATE, COL_AUDIENCE, COL_TEMPLATE, COL_AUTHOR, NCOLS };

struct campaigns {
	struct ui_table t;
	struct store_campaign **all; /* the rows' campaigns */
	size_t n, cap;
	struct ui_check check; /* the last check, of check_of */
	char check_of[128];
	char target[128];
	char rejected_of[128], rejected_by[65], rejected_at[32]; /* who rejected it, when */
	bool whole;						 /* Tab: the whole rejection */
};

static const char *const heads[NCOLS] = {"Campaign", "State", "Audience", "Template", "Author"};

static int camp_open(struct screen *s)
{
	struct campaigns *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	ui_table_init(&c->t, NCOLS, heads);
	c->t.maxw = 24;
	s->priv = c;
	return 0;
}

static void forget(struct campaigns *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		store_campaign_free(&c->all[i]);
	c->n = 0;
}

static void camp_close(struct screen *s)
{
	struct campaigns *c = s->priv;

	forget(c);
	free(c->all);
	ui_check_free(&c->check);
	ui_table_free(&c->t);
	free(c);
	s->priv = NULL;
}

/* Keeps a copy of the campaign, to show its details. */
static int keep(struct campaigns *c, const struct store_campaign *src)
{
	struct store_campaign *d, **a;

	if (c->n == c->cap) {
		a = realloc(c->all, (c->cap ? c->cap * 2 : 16) * sizeof(*a));
		if (a == NULL)
			return -1;
		c->all = a;
		c->cap = c->cap ? c->cap * 2 : 16;
	}
	d = store_campaign_dup(src);
	if (d == NULL)
		return -1;
	c->all[c->n++] = d;
	return 0;
}

static int add_row(const struct store_campaign *cp, void *arg)
{
	struct campaigns *c = arg;
	const char *cols[NCOLS];
	char audience[160];

	if (cp->segment != NULL)
		snprintf(audience, sizeof(audience), "%s / %s", cp->list, cp->segment);
	else
		snprintf(audience, sizeof(audience), "%s", cp->list);
	cols[COL_NAME] = cp->name;
	cols[COL_STATE] = store_campaign_state_name(cp->state);
	cols[COL_AUDIENCE] = audience;
	cols[COL_TEMPLATE] = cp->template_name;
	cols[COL_AUTHOR] = cp->author;
	if (keep(c, cp) != 0 || ui_table_add(&c->t, cols) != 0)
		return 1;
	return 0;
}

static struct store_campaign *current(struct campaigns *c)
{
	return c->t.nrows > 0 && c->t.sel < c->n ? c->all[c->t.sel] : NULL;
}

/* Looks up who rejected the selected campaign, once per campaign shown. */
static void find_reviewer(struct screen *s)
{
	struct campaigns *c = s->priv;
	struct store_campaign *cp = current(c);
	char *by = NULL, *at = NULL;

	if (cp == NULL || cp->state != STORE_CAMPAIGN_REJECTED) {
		c->whole = false;
		return;
	}
	if (strcmp(c->rejected_of, cp->name) == 0)
		return;
	c->whole = false;
	snprintf(c->rejected_of, sizeof(c->rejected_of), "%s", cp->name);
	c->rejected_by[0] = c->rejected_at[0] = '\0';
	if (store_campaign_rejection(ui_store(s->ui), cp->name, &by, &at, NULL) == STORE_OK) {
		snprintf(c->rejected_by, sizeof(c->rejected_by), "%s", by);
		snprintf(c->rejected_at, sizeof(c->rejected_at), "%s", at);
	}
	free(by);
	free(at);
}

static int camp_load(struct screen *s)
{
	struct campaigns *c = s->priv;
	enum store_status rc;
	char *err = NULL;
	size_t i;

	ui_table_clear(&c->t);
	forget(c);
	rc = store_campaign_list(ui_store(s->ui), add_row, c, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return -1;
	}
	/* The cursor follows the campaign just saved or monitored. */
	for (i = 0; ui_campaign_selected() != NULL && i < c->n; i++)
		if (strcmp(c->all[i]->name, ui_campaign_selected()) == 0)
			c->t.sel = i;
	c->rejected_of[0] = '\0';
	find_reviewer(s);
	return 0;
}

/* Reloads and keeps the cursor on `name`. */
static void reload_at(struct screen *s, const char *name)
{
	struct campaigns *c = s->priv;
	size_t i;

	camp_load(s);
	for (i = 0; i < c->n; i++)
		if (strcmp(c->all[i]->name, name) == 0)
			c->t.sel = i;
}

/*
 * Reports a store call, reloads and keeps the cursor on `name`. A failure
 * reloads too: it may come of a change made elsewhere since the list was read.
 */
static int after(struct screen *s, enum store_status rc, char *err, const char *fmt,
		 const char *name)
{
	reload_at(s, name);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return UI_REDRAW_ALL;
	}
	free(err);
	ui_info(s->ui, fmt, name);
	return UI_REDRAW_ALL;
}

static int run_check(struct screen *s, struct store_campaign *cp)
{
	struct campaigns *c = s->priv;
	char *err = NULL;

	ui_check_free(&c->check);
	c->check_of[0] = '\0';
	ui_busy(s->ui, "checking %s...", cp->name);
	if (ui_check_run(ui_store(s->ui), cp, &c->check, &err) != 0) {
		ui_error(s->ui, "%s", err ? err : "the checks failed");
		free(err);
		return UI_REDRAW_ALL;
	}
	snprintf(c->check_of, sizeof(c->check_of), "%s", cp->name);
	if (c->check.errors > 0)
		ui_error(s->ui, "%s: %zu error%s to fix before it can be sent", cp->name,
			 c->check.errors, c->check.errors == 1 ? "" : "s");
	else
		ui_info(s->ui, "%s: no errors, %zu warning%s, %lld recipient%s", cp->name,
			c->check.warnings, c->check.warnings == 1 ? "" : "s",
			(long long)c->check.recipients, c->check.recipients == 1 ? "" : "s");
	return UI_REDRAW_ALL;
}

static int camp_answer(struct screen *s, const char *text)
{
	struct campaigns *c = s->priv;
	enum store_status rc;
	char *err = NULL;

	if (ui_input_tag(s->ui) == ASK_COPY) {
		if (text[0] == '\0') {
			ui_error(s->ui, "a copy needs a name");
			return UI_REDRAW_ALL;
		}
		rc = store_campaign_copy(ui_store(s->ui), c->target, text, &err);
		return after(s, rc, err, "copied into the new draft %s", text);
	}
	if (send_campaign_submit(ui_store(s->ui), c->target, &err) != SEND_OK) {
		struct store_campaign *cp;

		reload_at(s, c->target);
		cp = current(c);
		/* Refused while the pre-send checks fail (the findings follow the first
		 * line): shown here, as C shows them. */
		if (err != NULL && strchr(err, '\n') != NULL && cp != NULL &&
		    strcmp(cp->name, c->target) == 0) {
			free(err);
			return run_check(s, cp);
		}
		ui_error(s->ui, "%s", err ? err : "cannot submit it");
		free(err);
		return UI_REDRAW_ALL;
	}
	return after(s, STORE_OK, NULL, "submitted %s for review", c->target);
}

/* Tab: the whole rejection in place of the details, and back. */
static int read_rejection(struct screen *s, struct store_campaign *cp)
{
	struct campaigns *c = s->priv;

	if (cp->state != STORE_CAMPAIGN_REJECTED || cp->comment == NULL) {
		ui_error(s->ui, "%s is %s: only a rejected campaign has a comment to read",
			 cp->name, store_campaign_state_name(cp->state));
		return UI_REDRAW_STATUS;
	}
	c->whole = !c->whole;
	return UI_REDRAW_BODY;
}

static int camp_handle(struct screen *s, enum ui_action a)
{
	struct campaigns *c = s->priv;
	struct store_campaign *cp = current(c);
	int r;

	switch (a) {
	case UI_INPUT_DONE:
		return camp_answer(s, ui_input_text(s->ui));
	case UI_INPUT_CANCEL:
		ui_info(s->ui, "cancelled");
		return UI_REDRAW_ALL;
	case UI_NEW:
		ui_campaign_form(s->ui, NULL);
		return UI_REDRAW_ALL;
	default:
		break;
	}
	if (cp == NULL)
		return ui_table_move(&c->t, a);
	snprintf(c->target, sizeof(c->target), "%s", cp->name);
	switch (a) {
	case UI_EDIT:
		if (!store_campaign_editable(cp->state)) {
			ui_error(s->ui,
				 "%s is %s and can no longer be edited: y copies it into a "
				 "new draft",
				 cp->name, store_campaign_state_name(cp->state));
			return UI_REDRAW_STATUS;
		}
		ui_campaign_form(s->ui, cp->name);
		return UI_REDRAW_ALL;
	case UI_COPY:
		ui_input(s->ui, ASK_COPY, 0, NULL, "Copy %s into a new draft named: ", cp->name);
		return UI_REDRAW_ALL;
	case UI_CHECK:
		return run_check(s, cp);
	case UI_SUBMIT:
		if (cp->state != STORE_CAMPAIGN_DRAFT && cp->state != STORE_CAMPAIGN_REJECTED) {
			ui_error(s->ui,
				 "%s is %s: only a draft or a rejected campaign is submitted",
				 cp->name, store_campaign_state_name(cp->state));
			return UI_REDRAW_STATUS;
		}
		ui_input(s->ui, ASK_SUBMIT, UI_INPUT_YESNO, NULL,
			 "Submit %s for review? An operator must approve it before it is sent. "
			 "(y/n) ",
			 cp->name);
		return UI_REDRAW_ALL;
	case UI_ENTER:
	case UI_MONITOR:
		ui_campaign_select(cp->name);
		ui_push(s->ui, &screen_monitor_ops);
		return UI_REDRAW_ALL;
	case UI_TAB:
		return read_rejection(s, cp);
	default:
		r = ui_table_move(&c->t, a);
		find_reviewer(s);
		return r;
	}
}

/*
 * The rejection: who, and the comment on two rows, marked "…" when it is
 * longer, with Tab to read it whole. Returns the next row.
 */
static int render_rejection(struct campaigns *c, struct store_campaign *cp, struct grid *g, int row)
{
	char who[128];
	int col, rows;

	if (c->rejected_by[0] != '\0')
		snprintf(who, sizeof(who), "Rejected by %s: ", c->rejected_by);
	else
		snprintf(who, sizeof(who), "Rejected: ");
	col = 4 + grid_put(g, row, 4, -1, UI_A_ERROR, who);
	rows = grid_wrap_rows(g, col, cp->comment);
	row += grid_wrap(g, row, col, 2, UI_A_NORMAL, cp->comment);
	if (row < g->h)
		grid_put(g, row++, 4, -1, UI_A_DIM,
			 rows > 2 ? "Tab reads the whole comment; e edits it; S submits it again."
				  : "e edits it; S submits it again.");
	return row;
}

/* Tab: the whole rejection, with who and when, in place of the details. */
static void render_whole_rejection(struct campaigns *c, struct store_campaign *cp, struct grid *g,
				   int row)
{
	grid_printf(g, row++, 2, UI_A_BOLD, "%s · rejected%s%s%s%s", cp->name,
		    c->rejected_by[0] ? " by " : "", c->rejected_by,
		    c->rejected_at[0] ? " on " : "", c->rejected_at);
	row++;
	if (row < g->h - 2)
		row += grid_wrap(g, row, 4, g->h - 2 - row, UI_A_NORMAL, cp->comment);
	grid_put(g, g->h - 1, 2, -1, UI_A_DIM,
		 "Tab goes back to the details; e edits it; S submits it again.");
}

static void render_details(struct campaigns *c, struct grid *g, int row)
{
	struct store_campaign *cp = current(c);
	char when[40];
	size_t i;

	if (cp == NULL || row >= g->h)
		return;
	if (c->whole && cp->state == STORE_CAMPAIGN_REJECTED && cp->comment != NULL) {
		render_whole_rejection(c, cp, g, row);
		return;
	}
	grid_printf(g, row++, 2, UI_A_BOLD, "%s · %s · version %lld", cp->name,
		    store_campaign_state_name(cp->state), (long long)cp->version);
	grid_printf(g, row++, 4, UI_A_NORMAL, "Subject: %s", cp->subject);
	grid_printf(g, row++, 4, UI_A_NORMAL, "From:    %s",
		    cp->from ? cp->from : "(the sender.from setting)");
	if (cp->scheduled_at != 0 && row < g->h) {
		ui_campaign_time(cp->scheduled_at, when, sizeof(when));
		grid_printf(g, row++, 4, UI_A_NORMAL, "Send at: %s", when);
	}
	if (cp->state == STORE_CAMPAIGN_REJECTED && cp->comment != NULL && row < g->h)
		row = render_rejection(c, cp, g, row);
	if (cp->pause_reason != NULL &&
	    (cp->state == STORE_CAMPAIGN_PAUSED || cp->state == STORE_CAMPAIGN_FAILED) &&
	    row < g->h)
		grid_printf(g, row++, 4, UI_A_ERROR, "%s: %s",
			    cp->state == STORE_CAMPAIGN_PAUSED ? "Paused" : "Failed",
			    cp->pause_reason);
	if (strcmp(c->check_of, cp->name) != 0 || row + 1 >= g->h)
		return;
	row++;
	if (c->check.recipients >= 0)
		grid_printf(g, row++, 2, UI_A_BOLD,
			    "Checks: %zu errors, %zu warnings · %lld recipients", c->check.errors,
			    c->check.warnings, (long long)c->check.recipients);
	else
		grid_printf(g, row++, 2, UI_A_BOLD, "Checks: %zu errors, %zu warnings",
			    c->check.errors, c->check.warnings);
	for (i = 0; i < c->check.n && row < g->h; i++)
		grid_put(g, row++, 4, -1,
			 strncmp(c->check.lines[i], "error", 5) == 0 ? UI_A_ERROR : UI_A_NORMAL,
			 c->check.lines[i]);
}

static void camp_render(struct screen *s, struct grid *g)
{
	struct campaigns *c = s->priv;
	int height = (int)c->t.nrows + 1;

	grid_printf(g, 1, 2, UI_A_BOLD, "Campaigns (%zu)", c->t.nrows);
	if (height > g->h / 2 - 2)
		height = g->h / 2 - 2;
	if (height < 2)
		height = 2;
	ui_table_render(&c->t, g, 3, height, "No campaigns yet: n creates a draft.");
	render_details(c, g, 3 + height + 1);
}

static int count_state(const struct store_campaign *cp, void *arg)
{
	int *n = arg;

	n[cp->state]++;
	n[STORE_CAMPAIGN_NSTATES]++;
	return 0;
}

static void camp_summary(struct ui *ui, char *buf, size_t size)
{
	int n[STORE_CAMPAIGN_NSTATES + 1] = {0};

	if (store_campaign_list(ui_store(ui), count_state, n, NULL) == STORE_OK)
		snprintf(buf, size, "%d campaign%s, %d rejected", n[STORE_CAMPAIGN_NSTATES],
			 n[STORE_CAMPAIGN_NSTATES] == 1 ? "" : "s", n[STORE_CAMPAIGN_REJECTED]);
}

static const struct screen_verb camp_verbs[] = {
    UI_TABLE_VERBS,
    {UI_NEW, "create a campaign", STORE_PERM_CAMPAIGNS_EDIT, "hato campaign add", false},
    {UI_EDIT, "edit the campaign", STORE_PERM_CAMPAIGNS_EDIT, "hato campaign edit", false},
    {UI_CHECK, "run the checks", STORE_PERM_CAMPAIGNS_READ, "hato campaign check", false},
    {UI_SUBMIT, "submit for review", STORE_PERM_CAMPAIGNS_EDIT, "hato campaign submit", false},
    {UI_COPY, "copy the campaign", STORE_PERM_CAMPAIGNS_EDIT, "hato campaign copy", false},
    {UI_ENTER, "open the live monitor", STORE_PERM_NONE, NULL, false},
    {UI_MONITOR, "open the live monitor", STORE_PERM_NONE, NULL, false},
    {UI_TAB, "read the whole rejection, with who rejected it", STORE_PERM_NONE, NULL, false},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_campaigns_ops = {
    .title = "Campaigns",
    .perm = STORE_PERM_CAMPAIGNS_READ,
    .menu_help = "create, check and submit campaigns; see rejections",
    .verbs = camp_verbs,
    .open = camp_open,
    .load = camp_load,
    .handle = camp_handle,
    .render = camp_render,
    .close = camp_close,
    .summary = camp_summary,
};
