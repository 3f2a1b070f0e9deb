/*
 * tui/screen_lists.c: lists and segments, three screens.
 *
 *   Lists         each list with its active and total members; n adds one,
 *                 d removes one (y/n), Enter shows its segments, Tab browses
 *                 its members, i imports a CSV file into it, x exports it
 *                 (store_list_export) to a new file of mode 0600, asking
 *                 before it replaces one.
 *   Segments      the saved segments of one list; n writes a new one, Enter
 *                 or e edits one, d removes one (y/n).
 *   Segment editor  the expression is checked as it is typed
 *                 (store_segment_check: "column N: expected ..." in the
 *                 status line and a caret under the column) and its
 *                 recipients are counted live (store_segment_count). When the
 *                 last count took under 50 ms it is redone on every key; when
 *                 slower, it waits until typing pauses for a second (UI_TICK),
 *                 so typing never stalls on a large list. Enter saves
 *                 (store_segment_add, or replaces the segment being edited).
 *                 Without the pii permission a segment whose expression
 *                 holds an address does not open: the list shows it masked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/outfile.h"
#include "tui/ui.h"

/* A count faster than this (ms) is redone at each key; $HATO_SEGMENT_LIVE_MS overrides. */
#define COUNT_FAST_MS 50.0

/* ==== Lists ============================================================= */

enum { ASK_LIST_ID = 1, ASK_LIST_NAME, ASK_LIST_RM, ASK_EXPORT_PATH, ASK_EXPORT_REPLACE };
enum { L_ID, L_ACTIVE, L_MEMBERS, L_NAME, L_NCOLS };

struct lists {
	struct ui_table t;
	char id[65];
	char path[1025]; /* the export's file */
};

static const char *const list_heads[L_NCOLS] = {"List", "Active", "Members", "Name"};

static int lists_open(struct screen *s)
{
	struct lists *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return -1;
	ui_table_init(&l->t, L_NCOLS, list_heads);
	s->priv = l;
	return 0;
}

static void lists_close(struct screen *s)
{
	struct lists *l = s->priv;

	ui_table_free(&l->t);
	free(l);
	s->priv = NULL;
}

static int list_row(const struct store_list_info *i, void *arg)
{
	struct lists *l = arg;
	char active[24], members[24], name[512];
	const char *cols[L_NCOLS];

	snprintf(active, sizeof(active), "%lld", (long long)i->active);
	snprintf(members, sizeof(members), "%lld", (long long)i->members);
	snprintf(name, sizeof(name), "%s%s%s", i->name, i->description[0] ? " - " : "",
		 i->description);
	cols[L_ID] = i->id;
	cols[L_ACTIVE] = active;
	cols[L_MEMBERS] = members;
	cols[L_NAME] = name;
	return ui_table_add(&l->t, cols);
}

static int lists_load(struct screen *s)
{
	struct lists *l = s->priv;
	enum store_status rc;
	char *err = NULL;

	ui_table_clear(&l->t);
	rc = store_list_ls(ui_store(s->ui), true, list_row, l, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return -1;
	}
	return 0;
}

/* Asks where to export the list l->id: ./LIST-YYYYMMDD.csv unless changed. */
static int ask_export(struct screen *s)
{
	struct lists *l = s->priv;
	char def[128], day[16];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	snprintf(def, sizeof(def), "./%s-%s.csv", l->id, day);
	ui_input(s->ui, ASK_EXPORT_PATH, 0, def, "Export the list %s to: ", l->id);
	return UI_REDRAW_ALL;
}

/*
 * Writes the list to l->path, which must not exist unless `replace`. The
 * file holds people's data: it is written beside the path with mode 0600
 * and put in place only when complete (outfile.h), so that a failed export
 * leaves what was there, and never through a symbolic link.
 */
static int export_list(struct screen *s, bool replace)
{
	struct lists *l = s->priv;
	struct outfile of;
	enum store_status rc;
	int64_t rows = 0;
	char *err = NULL;

	if (outfile_open(&of, l->path, replace, ui_store(s->ui)) != 0) {
		if (errno == EEXIST)
			ui_input(s->ui, ASK_EXPORT_REPLACE, UI_INPUT_YESNO, NULL,
				 "%s exists. Replace it? (y/n) ", l->path);
		else
			ui_error(s->ui, "cannot create %s: %s", l->path, outfile_why(&of, errno));
		return UI_REDRAW_ALL;
	}
	ui_busy(s->ui, "exporting the list %s...", l->id);
	rc = store_list_export(ui_store(s->ui), l->id, of.fp, 0, &rows, &err);
	if (rc != STORE_OK) {
		outfile_abort(&of);
		ui_error_store(s->ui, rc, err);
		return UI_REDRAW_ALL;
	}
	free(err);
	if (outfile_commit(&of) != 0) {
		ui_error(s->ui, "cannot write %s: %s; nothing exported", l->path,
			 outfile_why(&of, errno));
		return UI_REDRAW_ALL;
	}
	ui_info(s->ui, "exported %lld subscriber%s of %s to %s (mode 0600)", (long long)rows,
		rows == 1 ? "" : "s", l->id, l->path);
	return UI_REDRAW_ALL;
}

static int lists_answer(struct screen *s)
{
	struct lists *l = s->priv;
	const char *text = ui_input_text(s->ui);
	enum store_status rc;
	char *err = NULL;

	switch (ui_input_tag(s->ui)) {
	case ASK_LIST_ID:
		if (store_list_id_check(text, &err) != STORE_OK) {
			ui_error_store(s->ui, STORE_EINVAL, err);
			return UI_REDRAW_ALL;
		}
		snprintf(l->id, sizeof(l->id), "%s", text);
		ui_input(s->ui, ASK_LIST_NAME, 0, NULL, "Name of the list %s (empty: %s): ", l->id,
			 l->id);
		return UI_REDRAW_ALL;
	case ASK_LIST_NAME:
		rc = store_list_add(ui_store(s->ui), l->id, text[0] ? text : NULL, NULL, &err);
		break;
	case ASK_LIST_RM:
		rc = store_list_rm(ui_store(s->ui), l->id, &err);
		break;
	case ASK_EXPORT_PATH:
		if (text[0] == '\0') {
			ui_error(s->ui, "no file given; nothing exported");
			return UI_REDRAW_ALL;
		}
		snprintf(l->path, sizeof(l->path), "%s", text);
		return export_list(s, false);
	case ASK_EXPORT_REPLACE:
		return export_list(s, true);
	default:
		return UI_REDRAW_NONE;
	}
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return UI_REDRAW_ALL;
	}
	free(err);
	lists_load(s);
	ui_info(s->ui,
		ui_input_tag(s->ui) == ASK_LIST_RM ? "removed the list %s; its members stay on file"
						   : "added the list %s",
		l->id);
	return UI_REDRAW_ALL;
}

static int lists_handle(struct screen *s, enum ui_action a)
{
	struct lists *l = s->priv;
	const char *sel = ui_table_selected(&l->t, L_ID);
	struct ui_marketer_target *t = ui_marketer_target();

	switch (a) {
	case UI_NEW:
		ui_input(s->ui, ASK_LIST_ID, 0, NULL, "Id of the new list: ");
		return UI_REDRAW_ALL;
	case UI_EXPORT:
		if (sel == NULL)
			return UI_REDRAW_NONE;
		snprintf(l->id, sizeof(l->id), "%s", sel);
		return ask_export(s);
	case UI_INPUT_DONE:
		return lists_answer(s);
	case UI_INPUT_CANCEL:
		if (ui_input_tag(s->ui) == ASK_EXPORT_REPLACE)
			ui_info(s->ui, "not exported; %s is unchanged", l->path);
		else
			ui_info(s->ui, "cancelled");
		return UI_REDRAW_ALL;
	default:
		break;
	}
	if (a == UI_DELETE || a == UI_ENTER || a == UI_TAB || a == UI_IMPORT) {
		if (sel == NULL && a != UI_IMPORT)
			return UI_REDRAW_NONE;
		snprintf(l->id, sizeof(l->id), "%s", sel ? sel : "");
		snprintf(t->list, sizeof(t->list), "%s", l->id);
	}
	switch (a) {
	case UI_DELETE:
		ui_input(
		    s->ui, ASK_LIST_RM, UI_INPUT_YESNO, NULL,
		    "Remove the list %s (%s members) and its segments? The people stay. (y/n) ",
		    l->id, ui_table_selected(&l->t, L_MEMBERS));
		return UI_REDRAW_ALL;
	case UI_ENTER:
		ui_push(s->ui, &screen_segments_ops);
		return UI_REDRAW_ALL;
	case UI_TAB:
		ui_push(s->ui, &screen_subscribers_ops);
		return UI_REDRAW_ALL;
	case UI_IMPORT:
		ui_push(s->ui, &screen_import_ops);
		return UI_REDRAW_ALL;
	default:
		return ui_table_move(&l->t, a);
	}
}

static void lists_render(struct screen *s, struct grid *g)
{
	struct lists *l = s->priv;

	grid_printf(g, 1, 2, UI_A_BOLD, "Lists (%zu)", l->t.nrows);
	ui_table_render(&l->t, g, 3, g->h - 3, "No lists yet: n adds one.");
}

static const struct screen_verb lists_verbs[] = {
    UI_TABLE_VERBS,
    {UI_ENTER, "segments", STORE_PERM_NONE, NULL, false},
    {UI_NEW, "add", STORE_PERM_LISTS, "hato list add", false},
    {UI_DELETE, "remove", STORE_PERM_LISTS, "hato list rm", false},
    {UI_TAB, "members", STORE_PERM_NONE, NULL, false},
    {UI_IMPORT, "import CSV", STORE_PERM_SUBSCRIBERS_WRITE, "hato import", true},
    {UI_EXPORT, "export CSV", STORE_PERM_SUBSCRIBERS_EXPORT, "hato export", true},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_lists_ops = {
    .title = "Lists",
    .perm = STORE_PERM_SUBSCRIBERS_READ,
    .menu_help = "lists and their segments, with a live segment editor",
    .verbs = lists_verbs,
    .open = lists_open,
    .load = lists_load,
    .handle = lists_handle,
    .render = lists_render,
    .close = lists_close,
};

/* ==== Segments of a list ================================================ */

enum { ASK_SEG_RM = 1 };
enum { S_NAME, S_EXPR, S_BY, S_CREATED, S_NCOLS };

struct segments {
	struct ui_table t;
	char list[65], name[65];
};

static const char *const seg_heads[S_NCOLS] = {"Segment", "Expression", "By", "Created"};

static int segments_open(struct screen *s)
{
	struct segments *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return -1;
	ui_table_init(&g->t, S_NCOLS, seg_heads);
	g->t.maxw = 40;
	snprintf(g->list, sizeof(g->list), "%s", ui_marketer_target()->list);
	ui_marketer_target()->list[0] = '\0';
	s->priv = g;
	return 0;
}

static void segments_close(struct screen *s)
{
	struct segments *g = s->priv;

	ui_table_free(&g->t);
	free(g);
	s->priv = NULL;
}

static int seg_row(const struct store_segment_info *i, void *arg)
{
	struct segments *g = arg;
	const char *cols[S_NCOLS] = {i->name, i->expr, i->by, i->created};

	if (strcmp(i->list, g->list) != 0)
		return 0;
	return ui_table_add(&g->t, cols);
}

static int segments_load(struct screen *s)
{
	struct segments *g = s->priv;
	enum store_status rc;
	char *err = NULL;

	ui_table_clear(&g->t);
	rc = store_segment_ls(ui_store(s->ui), seg_row, g, &err);
	if (rc != STORE_OK) {
		ui_error_denied(s->ui, rc, err, "list the segments", STORE_PERM_SUBSCRIBERS_READ);
		return -1;
	}
	return 0;
}

static int segments_handle(struct screen *s, enum ui_action a)
{
	struct segments *g = s->priv;
	const char *sel = ui_table_selected(&g->t, S_NAME);
	struct ui_marketer_target *t = ui_marketer_target();
	enum store_status rc;
	char *err = NULL;

	switch (a) {
	case UI_NEW:
	case UI_ENTER:
	case UI_EDIT:
		if (a != UI_NEW && sel == NULL)
			return UI_REDRAW_NONE;
		snprintf(t->list, sizeof(t->list), "%s", g->list);
		snprintf(t->segment, sizeof(t->segment), "%s", a == UI_NEW ? "" : sel);
		ui_push(s->ui, &screen_segment_edit_ops);
		return UI_REDRAW_ALL;
	case UI_DELETE:
		if (sel == NULL)
			return UI_REDRAW_NONE;
		snprintf(g->name, sizeof(g->name), "%s", sel);
		ui_input(s->ui, ASK_SEG_RM, UI_INPUT_YESNO, NULL, "Remove the segment %s? (y/n) ",
			 g->name);
		return UI_REDRAW_ALL;
	case UI_INPUT_DONE:
		rc = store_segment_rm(ui_store(s->ui), g->name, &err);
		if (rc != STORE_OK) {
			ui_error_denied(s->ui, rc, err, "remove the segment", STORE_PERM_SEGMENTS);
			return UI_REDRAW_ALL;
		}
		free(err);
		segments_load(s);
		ui_info(s->ui, "removed the segment %s", g->name);
		return UI_REDRAW_ALL;
	case UI_INPUT_CANCEL:
		return UI_REDRAW_ALL;
	default:
		return ui_table_move(&g->t, a);
	}
}

static void segments_render(struct screen *s, struct grid *g)
{
	struct segments *sg = s->priv;

	grid_printf(g, 1, 2, UI_A_BOLD, "Segments of the list %s (%zu)", sg->list, sg->t.nrows);
	ui_table_render(&sg->t, g, 3, g->h - 3, "No segments yet: n writes one.");
}

static const struct screen_verb segments_verbs[] = {
    UI_TABLE_VERBS,
    {UI_ENTER, "edit", STORE_PERM_SEGMENTS, "hato segment add", false},
    {UI_EDIT, "edit", STORE_PERM_SEGMENTS, "hato segment add", false},
    {UI_NEW, "new segment", STORE_PERM_SEGMENTS, "hato segment add", false},
    {UI_DELETE, "remove", STORE_PERM_SEGMENTS, NULL, false},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_segments_ops = {
    .title = "Segments",
    .perm = STORE_PERM_SUBSCRIBERS_READ,
    .verbs = segments_verbs,
    .open = segments_open,
    .load = segments_load,
    .handle = segments_handle,
    .render = segments_render,
    .close = segments_close,
};

/* ==== The segment editor ================================================ */

enum { ASK_EXPR = 1, ASK_SEG_NAME, ASK_REPLACE, ASK_DISCARD };

struct editor {
	char list[65], name[65]; /* name: the segment's, "" for a new one until it is saved */
	char naming[65];	 /* the name a new segment is being saved under */
	char expr[1100];
	char saved[1100]; /* the expression as opened: "" for a new segment */
	char error[256];  /* the syntax error, or "" */
	size_t error_col; /* its column (from 1), 0 when none */
	int64_t count;	  /* -1: not counted */
	double count_ms;  /* how long the last count took */
	bool pending;	  /* the text changed since the last count */
	bool editing;	  /* an existing segment */
};

static const char *const language[] = {
    "field op value    fields: email name domain status created attr.KEY",
    "                  ops: = != < <= > >= contains starts_with ends_with",
    "field in (\"a\", \"b\")   field is [not] set   created within 30d",
    "combine with and, or, not and ( ); values are \"text\", 12 or 2026-01-31",
};

static void ask_expr(struct screen *s)
{
	struct editor *e = s->priv;

	ui_input(s->ui, ASK_EXPR, UI_INPUT_INLINE | UI_INPUT_NOTIFY, e->expr, "Expression: ");
}

/*
 * A failed count, a refusal in the UI's words: the role reads neither
 * subscribers nor campaigns, or the expression tests email, which a user
 * without pii could probe address by address.
 */
static void count_refused(struct screen *s, enum store_status rc, char *err)
{
	struct store *st = ui_store(s->ui);

	if (store_can(st, STORE_PERM_SUBSCRIBERS_READ) || store_can(st, STORE_PERM_CAMPAIGNS_READ))
		ui_error_denied(s->ui, rc, err, "count by email address", STORE_PERM_PII);
	else
		ui_error_denied(s->ui, rc, err, "count the recipients",
				STORE_PERM_SUBSCRIBERS_READ);
}

static void recount(struct screen *s)
{
	struct editor *e = s->priv;
	struct timespec t0, t1;
	enum store_status rc;
	char *err = NULL;

	e->pending = false;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = store_segment_count(ui_store(s->ui), e->list, e->expr, &e->count, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	e->count_ms =
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (rc != STORE_OK) {
		e->count = -1;
		count_refused(s, rc, err);
		return;
	}
	free(err);
}

static double fast_ms(void)
{
	const char *env = getenv("HATO_SEGMENT_LIVE_MS");
	char *end = NULL;
	double v;

	if (env == NULL || *env == '\0')
		return COUNT_FAST_MS;
	v = strtod(env, &end);
	return end != NULL && *end == '\0' && v >= 0 ? v : COUNT_FAST_MS;
}

/*
 * Checks e->expr at once; counts now when counting is fast, else at the next
 * pause. It takes no text: copying e->expr onto itself with snprintf would
 * be undefined (it emptied the expression of a segment opened for editing).
 */
static int changed(struct screen *s)
{
	struct editor *e = s->priv;
	char *err = NULL;
	const char *p;

	e->error[0] = '\0';
	e->error_col = 0;
	e->count = -1;
	if (store_segment_check(e->expr, &err) != STORE_OK) {
		snprintf(e->error, sizeof(e->error), "%s", err ? err : "syntax error");
		p = strstr(e->error, "column ");
		if (p != NULL)
			e->error_col = strtoul(p + 7, NULL, 10);
		free(err);
		e->pending = false;
		ui_error(s->ui, "%s", e->error);
		return UI_REDRAW_ALL;
	}
	ui_info(s->ui, "the expression is valid");
	e->pending = true;
	if (e->count_ms < fast_ms())
		recount(s);
	return UI_REDRAW_ALL;
}

/* Takes the expression being typed. */
static int typed(struct screen *s)
{
	struct editor *e = s->priv;

	snprintf(e->expr, sizeof(e->expr), "%s", ui_input_text(s->ui));
	return changed(s);
}

/*
 * The segment's expression holds what the user may not see: an address, or
 * a string compared with email (store_segment_mask). The editor would show
 * it, and saving the masked text would overwrite it: refuses, after saying
 * why and writing the refusal to the audit trail. The list shows it masked.
 */
static bool masked_for_user(struct screen *s, const char *expr)
{
	struct editor *e = s->priv;
	struct store *st = ui_store(s->ui);
	char *masked = store_segment_mask(st, expr), what[160], why[512];
	bool hides = masked == NULL || strcmp(masked, expr) != 0;

	free(masked);
	if (!hides)
		return false;
	store_require(st, STORE_PERM_PII, "tui: edit a segment that holds an address", NULL);
	snprintf(what, sizeof(what), "edit the segment %s (it holds an address masked for you)",
		 e->name);
	ui_error(s->ui, "%s", ui_refusal(s->ui, what, STORE_PERM_PII, why, sizeof(why)));
	return true;
}

static int editor_open(struct screen *s)
{
	struct editor *e = calloc(1, sizeof(*e));
	struct ui_marketer_target *t = ui_marketer_target();
	char *list = NULL, *expr = NULL, *err = NULL;
	enum store_status rc;

	if (e == NULL)
		return -1;
	s->priv = e;
	e->count = -1;
	snprintf(e->list, sizeof(e->list), "%s", t->list);
	snprintf(e->name, sizeof(e->name), "%s", t->segment);
	t->list[0] = t->segment[0] = '\0';
	if (e->name[0] != '\0') {
		rc = store_segment_get(ui_store(s->ui), e->name, &list, &expr, &err);
		if (rc != STORE_OK) {
			ui_error_store(s->ui, rc, err);
			return -1;
		}
		if (masked_for_user(s, expr)) {
			free(list);
			free(expr);
			return -1;
		}
		snprintf(e->list, sizeof(e->list), "%s", list);
		snprintf(e->expr, sizeof(e->expr), "%s", expr);
		snprintf(e->saved, sizeof(e->saved), "%s", expr);
		free(list);
		free(expr);
		e->editing = true;
	}
	changed(s);
	ask_expr(s);
	return 0;
}

static void editor_close(struct screen *s)
{
	free(s->priv);
	s->priv = NULL;
}

static int save(struct screen *s, bool replace)
{
	struct editor *e = s->priv;
	struct store *st = ui_store(s->ui);
	const char *name = e->editing ? e->name : e->naming;
	enum store_status rc;
	char *err = NULL;

	rc = store_begin(st);
	if (rc == STORE_OK && replace)
		rc = store_segment_rm(st, name, &err);
	if (rc == STORE_OK)
		rc = store_segment_add(st, name, e->list, e->expr, &err);
	if (rc == STORE_OK)
		rc = store_commit_err(st, &err);
	else
		store_rollback(st);
	if (rc == STORE_EEXIST && !replace) {
		free(err);
		ui_input(s->ui, ASK_REPLACE, UI_INPUT_YESNO, NULL,
			 "The segment %s exists. Replace it? (y/n) ", name);
		return UI_REDRAW_ALL;
	}
	if (rc != STORE_OK) {
		ui_error_denied(s->ui, rc, err, "save the segment", STORE_PERM_SEGMENTS);
		if (rc == STORE_EINVAL && !e->editing) /* the name: asked again, to correct */
			ui_input(s->ui, ASK_SEG_NAME, 0, e->naming, "Save as segment: ");
		else
			ask_expr(s);
		return UI_REDRAW_ALL;
	}
	free(err);
	ui_info(s->ui, "saved the segment %s of the list %s", name, e->list);
	ui_pop(s->ui);
	return UI_REDRAW_ALL;
}

/* The expression typed differs from the one saved (or, new, is not empty). */
static bool editor_unsaved(struct screen *s)
{
	struct editor *e = s->priv;

	return strcmp(e->expr, e->saved) != 0;
}

/* Esc in the expression: leaves, after asking when that throws away what was typed. */
static int editor_leave(struct screen *s)
{
	struct editor *e = s->priv;

	if (ui_ask_discard(s->ui, ASK_DISCARD, editor_unsaved(s),
			   e->editing ? "your changes to the segment %s" : "%s",
			   e->editing ? e->name : "this new segment"))
		return UI_REDRAW_ALL;
	ui_info(s->ui, "left the editor; nothing saved");
	ui_pop(s->ui);
	return UI_REDRAW_ALL;
}

static int editor_handle(struct screen *s, enum ui_action a)
{
	struct editor *e = s->priv;
	int tag = ui_input_tag(s->ui);

	switch (a) {
	case UI_INPUT_CHANGED:
		return typed(s);
	case UI_TICK:
		if (!e->pending || e->error[0] != '\0')
			return UI_REDRAW_NONE;
		recount(s);
		return UI_REDRAW_ALL;
	case UI_INPUT_DONE:
		if (tag == ASK_EXPR) {
			typed(s);
			if (e->error[0] != '\0') {
				ask_expr(s);
				return UI_REDRAW_ALL;
			}
			if (e->editing)
				return save(s, true);
			ui_input(s->ui, ASK_SEG_NAME, 0, NULL, "Save as segment: ");
			return UI_REDRAW_ALL;
		}
		if (tag == ASK_DISCARD) {
			ui_pop(s->ui);
			ui_discarded(s->ui);
			return UI_REDRAW_ALL;
		}
		if (tag == ASK_SEG_NAME)
			snprintf(e->naming, sizeof(e->naming), "%s", ui_input_text(s->ui));
		return save(s, tag == ASK_REPLACE);
	case UI_INPUT_CANCEL:
		if (tag == ASK_EXPR)
			return editor_leave(s);
		if (tag == ASK_DISCARD)
			ui_info(s->ui, "kept: Enter saves it, Esc leaves");
		ask_expr(s);
		return UI_REDRAW_ALL;
	default:
		return UI_REDRAW_NONE;
	}
}

/*
 * A caret on row 5 under the character the parser stopped at (error_col
 * counts characters from 1), where the expression on row 4 shows it: a
 * long one being typed shows its end.
 */
static void render_caret(struct screen *s, struct grid *g)
{
	struct editor *e = s->priv;
	char prefix[sizeof(e->expr)];
	size_t shown = 0, at = 0, n;
	int col;

	if (ui_input_active(s->ui) && ui_input_tag(s->ui) == ASK_EXPR)
		shown = ui_input_shown(s->ui, g->w - 4 - 1);
	for (n = 1; n < e->error_col && e->expr[at] != '\0'; n++)
		for (at++; ((unsigned char)e->expr[at] & 0xc0) == 0x80; at++)
			;
	if (at < shown)
		return;
	snprintf(prefix, sizeof(prefix), "%.*s", (int)(at - shown), e->expr + shown);
	col = 4 + grid_width(prefix);
	if (col < g->w)
		grid_put(g, 5, col, 1, UI_A_ERROR, "^");
}

static void editor_render(struct screen *s, struct grid *g)
{
	struct editor *e = s->priv;
	size_t i;
	int y = 12;

	grid_printf(g, 1, 2, UI_A_BOLD, "Segment %s of the list %s", e->name[0] ? e->name : "(new)",
		    e->list);
	grid_put(g, 3, 2, -1, UI_A_NORMAL, "Expression:");
	if (ui_input_active(s->ui) && ui_input_tag(s->ui) == ASK_EXPR)
		ui_input_render(s->ui, g, 4, 4, false);
	else
		grid_put(g, 4, 4, -1, UI_A_NORMAL, e->expr);
	if (e->error[0] != '\0') {
		render_caret(s, g);
		grid_wrap(g, 7, 2, 2, UI_A_ERROR, e->error);
	} else if (e->count >= 0) {
		grid_printf(g, 7, 2, UI_A_OK, "%lld recipient%s", (long long)e->count,
			    e->count == 1 ? "" : "s");
		grid_printf(g, 8, 2, UI_A_DIM,
			    "active, on the list, not suppressed; counted in %.0f ms", e->count_ms);
	} else if (e->pending) {
		grid_put(g, 7, 2, -1, UI_A_DIM, "counting when you pause typing...");
	}
	grid_put(g, 10, 2, -1, UI_A_DIM, "Enter saves   Esc leaves without saving");
	for (i = 0; i < sizeof(language) / sizeof(language[0]) && y < g->h; i++, y++)
		grid_put(g, y, 2, -1, UI_A_DIM, language[i]);
}

static const struct screen_verb editor_verbs[] = {
    {UI_INPUT_CHANGED, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_TICK, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_segment_edit_ops = {
    .title = "Segment editor",
    .perm = STORE_PERM_SEGMENTS,
    .verbs = editor_verbs,
    .open = editor_open,
    .handle = editor_handle,
    .render = editor_render,
    .close = editor_close,
    .unsaved = editor_unsaved,
};
