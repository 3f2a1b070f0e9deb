/*
 * tui/screen_audit.c: the audit trail, newest first, a page at a time. `/`
 * filters by user, action (exact, or a prefix ending in '.') and date, and
 * says what is wrong with a filter it cannot read; `v` recomputes the hash
 * chain and says in the status line whether it holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/cli.h"
#include "tui/ui.h"

enum { ASK_FILTER = 1 };
/* The outcome before the object: at 80 columns, what is cut is the object, never the outcome. */
enum { COL_ID, COL_TIME, COL_USER, COL_ACTION, COL_OUTCOME, COL_OBJECT, COL_DETAILS, NCOLS };

struct audit {
	struct ui_table t;
	char filter[256]; /* as typed */
	char user[65], action[65];
	time_t since; /* 0: from the first record */
};

static const char *const heads[NCOLS] = {"#",	    "Time (UTC)", "User",   "Action",
					 "Outcome", "Object",	  "Details"};

static int audit_open(struct screen *s)
{
	struct audit *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return -1;
	ui_table_init(&a->t, NCOLS, heads);
	a->t.maxw = 20;
	s->priv = a;
	return 0;
}

static void audit_close(struct screen *s)
{
	struct audit *a = s->priv;

	ui_table_free(&a->t);
	free(a);
	s->priv = NULL;
}

static int add_row(const struct store_audit_record *r, void *arg)
{
	struct audit *a = arg;
	const char *cols[NCOLS];
	char id[24];

	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	cols[COL_ID] = id;
	cols[COL_TIME] = r->time;
	cols[COL_USER] = r->user;
	cols[COL_ACTION] = r->action;
	cols[COL_OBJECT] = r->object;
	cols[COL_OUTCOME] = r->outcome;
	cols[COL_DETAILS] = r->details;
	return ui_table_add(&a->t, cols);
}

/* The store gives the oldest first; the screen shows the newest first. */
static void reverse(struct ui_table *t)
{
	size_t i, j, c, n = (size_t)t->ncols;
	char *tmp;

	for (i = 0, j = t->nrows ? t->nrows - 1 : 0; i < j; i++, j--) {
		for (c = 0; c < n; c++) {
			tmp = t->cells[i * n + c];
			t->cells[i * n + c] = t->cells[j * n + c];
			t->cells[j * n + c] = tmp;
		}
	}
}

static int audit_load(struct screen *s)
{
	struct audit *a = s->priv;
	struct store_audit_filter f = {
	    .user = a->user[0] ? a->user : NULL,
	    .action = a->action[0] ? a->action : NULL,
	    .since = a->since,
	};
	enum store_status rc;
	char *err = NULL;

	ui_table_clear(&a->t);
	rc = store_audit_log(ui_store(s->ui), &f, add_row, a, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return -1;
	}
	reverse(&a->t);
	return 0;
}

/*
 * Reads "user:NAME action:PREFIX since:DATE" into the filter. 0, or -1 with
 * the reason in why, the filter in force unchanged.
 */
static int parse_filter(struct audit *a, const char *text, char *why, size_t size)
{
	static const char *const prefixes[] = {"user:", "action:", "since:"};
	char buf[256], *word, *save = NULL, user[65] = "", action[65] = "", since[32] = "";
	char *slots[] = {user, action, since};
	const size_t sizes[] = {sizeof(user), sizeof(action), sizeof(since)};
	size_t i, n;
	time_t when = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	for (word = strtok_r(buf, " \t", &save); word != NULL;
	     word = strtok_r(NULL, " \t", &save)) {
		for (i = 0; i < 3 && strncmp(word, prefixes[i], strlen(prefixes[i])) != 0; i++)
			;
		if (i == 3) {
			snprintf(
			    why, size,
			    "unknown filter: %s; the filters are user:, action:, since:", word);
			return -1;
		}
		n = strlen(prefixes[i]);
		if (word[n] == '\0' || strlen(word + n) >= sizes[i]) {
			snprintf(why, size, "%s takes %s", prefixes[i],
				 i == 2 ? CLI_SINCE_FORMS : "a name, 1 to 64 characters");
			return -1;
		}
		if (i == 2 && cli_parse_day_or_time(word + n, &when) != 0) {
			snprintf(why, size, "not a date: %s; since: takes %s", word + n,
				 CLI_SINCE_FORMS);
			return -1;
		}
		snprintf(slots[i], sizes[i], "%s", word + n);
	}
	snprintf(a->user, sizeof(a->user), "%s", user);
	snprintf(a->action, sizeof(a->action), "%s", action);
	a->since = since[0] ? when : 0;
	snprintf(a->filter, sizeof(a->filter), "%s", text);
	return 0;
}

static int verify(struct screen *s)
{
	struct store_audit_prune p = {0};
	enum store_status rc;
	int64_t bad = 0, count = 0;
	char *err = NULL;

	rc = store_audit_verify(ui_store(s->ui), &bad, &count, &err);
	if (rc == STORE_OK)
		rc = store_audit_pruned(ui_store(s->ui), &p, &err);
	if (rc == STORE_OK && p.record != 0) {
		free(err);
		ui_info(s->ui,
			"the audit chain is intact from record %lld on: %lld verified (%d-day "
			"retention)",
			(long long)p.anchor, (long long)count, p.days);
	} else if (rc == STORE_OK) {
		free(err);
		ui_info(s->ui, "the audit chain is intact: %lld record%s verified",
			(long long)count, count == 1 ? "" : "s");
	} else if (rc == STORE_ECORRUPT && bad > 0) {
		free(err);
		ui_error(s->ui,
			 "the audit chain is BROKEN at record %lld: it was changed after "
			 "it was written",
			 (long long)bad);
	} else {
		ui_error_store(s->ui, rc, err);
	}
	/* Show any records written since the list was read. */
	audit_load(s);
	return UI_REDRAW_ALL;
}

static void ask_filter(struct screen *s, const char *text)
{
	ui_input(s->ui, ASK_FILTER, 0, text,
		 "Filter (user:NAME action:PREFIX. since:YYYY-MM-DD): ");
}

static int audit_handle(struct screen *s, enum ui_action act)
{
	struct audit *a = s->priv;
	char why[160];

	switch (act) {
	case UI_SEARCH:
		ask_filter(s, a->filter);
		return UI_REDRAW_ALL;
	case UI_INPUT_DONE:
		if (parse_filter(a, ui_input_text(s->ui), why, sizeof(why)) != 0) {
			/* Asked again with the filter as typed, to be corrected. */
			ui_error(s->ui, "%s", why);
			ask_filter(s, ui_input_text(s->ui));
			return UI_REDRAW_ALL;
		}
		a->t.sel = a->t.top = 0;
		if (audit_load(s) == 0)
			ui_info(s->ui, "%zu records%s%s", a->t.nrows, a->filter[0] ? " match " : "",
				a->filter);
		return UI_REDRAW_ALL;
	case UI_INPUT_CANCEL:
		return UI_REDRAW_ALL;
	case UI_VERIFY:
		return verify(s);
	default:
		return ui_table_move(&a->t, act);
	}
}

static void audit_render(struct screen *s, struct grid *g)
{
	struct audit *a = s->priv;
	const char *d, *user, *object;
	int h = g->h - 3 - 3;

	grid_printf(g, 1, 2, UI_A_BOLD, "Audit trail, newest first (%zu records)", a->t.nrows);
	if (a->filter[0] != '\0')
		grid_printf(g, 1, 50, UI_A_DIM, "filter: %s", a->filter);
	ui_table_render(&a->t, g, 3, h, "No records match.");
	if (a->t.nrows == 0 || h < 2)
		return;
	/* The selected record in full; a pruning's anchor has no user and no object. */
	user = ui_table_selected(&a->t, COL_USER);
	object = ui_table_selected(&a->t, COL_OBJECT);
	grid_printf(g, g->h - 2, 2, UI_A_DIM, "#%s %s%s%s: %s %s", ui_table_selected(&a->t, 0),
		    ui_table_selected(&a->t, COL_TIME), user[0] ? " by " : "", user,
		    ui_table_selected(&a->t, COL_ACTION), ui_table_selected(&a->t, COL_OUTCOME));
	d = ui_table_selected(&a->t, COL_DETAILS);
	grid_printf(g, g->h - 1, 2, UI_A_DIM, "%s%s%s%s", object[0] ? "object " : "", object,
		    object[0] ? "  " : "", d);
}

static int count(const struct store_audit_record *r, void *arg)
{
	(void)r;
	++*(long long *)arg;
	return 0;
}

static void audit_summary(struct ui *ui, char *buf, size_t size)
{
	long long n = 0;

	if (store_audit_log(ui_store(ui), NULL, count, &n, NULL) == STORE_OK)
		snprintf(buf, size, "%lld record%s", n, n == 1 ? "" : "s");
}

static const struct screen_verb audit_verbs[] = {
    {UI_UP, NULL, STORE_PERM_NONE, NULL, false},
    {UI_DOWN, NULL, STORE_PERM_NONE, NULL, false},
    {UI_PGUP, NULL, STORE_PERM_NONE, NULL, false},
    {UI_PGDN, NULL, STORE_PERM_NONE, NULL, false},
    {UI_HOME, "the newest record", STORE_PERM_NONE, NULL, false},
    {UI_END, "the oldest record", STORE_PERM_NONE, NULL, false},
    {UI_SEARCH, "filter by user, action or date", STORE_PERM_AUDIT, "hato audit log", false},
    {UI_VERIFY, "verify the hash chain", STORE_PERM_AUDIT, "hato audit verify", false},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_audit_ops = {
    .title = "Audit trail",
    .perm = STORE_PERM_AUDIT,
    .menu_help = "who did what, and whether the record is intact",
    .verbs = audit_verbs,
    .open = audit_open,
    .load = audit_load,
    .handle = audit_handle,
    .render = audit_render,
    .close = audit_close,
    .summary = audit_summary,
};
