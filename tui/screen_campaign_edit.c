/*
 * tui/screen_campaign_edit.c: the campaign form. One row per field (name,
 * template, list, segment, subject, from); Enter changes the selected field
 * in the prompt line, s saves: a new draft with store_campaign_add, or the
 * changed fields with store_campaign_edit (the campaign returns to draft).
 * Under the form it lists the templates, lists and segments to choose from.
 * Choosing a segment sets the list to the segment's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/ui.h"

enum { F_NAME, F_TEMPLATE, F_LIST, F_SEGMENT, F_SUBJECT, F_FROM, NFIELDS };
enum { ASK_DISCARD = 100 }; /* the fields' prompts are tagged 1 + their index */

static const char *const labels[NFIELDS] = {"Name",    "Template", "List",
					    "Segment", "Subject",  "From"};
static const char *const hints[NFIELDS] = {
    "letters, digits, . _ -",	"one of the templates below",	"one of the lists below",
    "empty for the whole list", "merge tags allowed: {{name}}", "empty for sender.from"};

static char form_target[128]; /* the campaign to edit; "" for a new one */

struct form {
	bool editing;
	char *val[NFIELDS], *orig[NFIELDS];
	int sel;
	char templates[256], lists[256], segments[256];
};

int ui_campaign_form(struct ui *ui, const char *name)
{
	snprintf(form_target, sizeof(form_target), "%s", name != NULL ? name : "");
	return ui_push(ui, &screen_campaign_form_ops);
}

static void set(char **slot, const char *v)
{
	free(*slot);
	*slot = v != NULL ? strdup(v) : NULL;
}

/* Asks for field i, starting from `text`. */
static void ask(struct screen *s, int i, const char *text)
{
	ui_input(s->ui, i + 1, 0, text, "%s (%s): ", labels[i], hints[i]);
}

static int add_template(const struct store_template *t, void *arg)
{
	struct form *f = arg;

	ui_join(f->templates, sizeof(f->templates), t->name);
	return 0;
}

static int add_list(const struct store_list_info *l, void *arg)
{
	struct form *f = arg;

	ui_join(f->lists, sizeof(f->lists), l->id);
	return 0;
}

static int add_segment(const struct store_segment_info *g, void *arg)
{
	struct form *f = arg;
	char item[160];

	snprintf(item, sizeof(item), "%s (%s)", g->name, g->list);
	ui_join(f->segments, sizeof(f->segments), item);
	return 0;
}

static int form_open(struct screen *s)
{
	struct form *f = calloc(1, sizeof(*f));
	struct store_campaign *c = NULL;
	struct store *st = ui_store(s->ui);
	enum store_status rc;
	char *err = NULL;
	int i;

	if (f == NULL)
		return -1;
	s->priv = f;
	if (form_target[0] != '\0') {
		rc = store_campaign_get(st, form_target, &c, &err);
		if (rc != STORE_OK) {
			ui_error_store(s->ui, rc, err);
			return -1;
		}
		f->editing = true;
		set(&f->val[F_NAME], c->name);
		set(&f->val[F_TEMPLATE], c->template_name);
		set(&f->val[F_LIST], c->list);
		set(&f->val[F_SEGMENT], c->segment);
		set(&f->val[F_SUBJECT], c->subject);
		set(&f->val[F_FROM], c->from);
		for (i = 0; i < NFIELDS; i++)
			set(&f->orig[i], f->val[i]);
		store_campaign_free(&c);
		f->sel = F_TEMPLATE;
	} else {
		ask(s, F_NAME, NULL);
	}
	store_template_list(st, add_template, f, NULL);
	store_list_ls(st, false, add_list, f, NULL);
	store_segment_ls(st, add_segment, f, NULL);
	return 0;
}

static void form_close(struct screen *s)
{
	struct form *f = s->priv;
	int i;

	for (i = 0; i < NFIELDS; i++) {
		free(f->val[i]);
		free(f->orig[i]);
	}
	free(f);
	s->priv = NULL;
}

static bool changed(const struct form *f, int i)
{
	const char *a = f->val[i] ? f->val[i] : "", *b = f->orig[i] ? f->orig[i] : "";

	return strcmp(a, b) != 0;
}

static const char *field_or_null(const struct form *f, int i)
{
	return f->val[i] != NULL && f->val[i][0] != '\0' ? f->val[i] : NULL;
}

static int save(struct screen *s)
{
	struct form *f = s->priv;
	struct store_campaign c;
	enum store_status rc;
	char *err = NULL;
	int i;

	memset(&c, 0, sizeof(c));
	if (!f->editing) {
		for (i = F_NAME; i <= F_SUBJECT; i++)
			if (i != F_SEGMENT && field_or_null(f, i) == NULL) {
				ui_error(s->ui,
					 "the %s is missing; every field but segment and from "
					 "is needed",
					 labels[i]);
				f->sel = i;
				return UI_REDRAW_ALL;
			}
		c.name = f->val[F_NAME];
		c.template_name = f->val[F_TEMPLATE];
		c.list = f->val[F_LIST];
		c.segment = (char *)field_or_null(f, F_SEGMENT);
		c.subject = f->val[F_SUBJECT];
		c.from = (char *)field_or_null(f, F_FROM);
		rc = store_campaign_add(ui_store(s->ui), &c, &err);
	} else {
		for (i = F_TEMPLATE; i < NFIELDS; i++)
			if (changed(f, i))
				break;
		if (i == NFIELDS) {
			ui_info(s->ui, "nothing changed");
			ui_pop(s->ui);
			return UI_REDRAW_ALL;
		}
		if (changed(f, F_TEMPLATE))
			c.template_name = f->val[F_TEMPLATE];
		if (changed(f, F_LIST))
			c.list = f->val[F_LIST];
		if (changed(f, F_SEGMENT))
			c.segment = f->val[F_SEGMENT] ? f->val[F_SEGMENT] : "";
		if (changed(f, F_SUBJECT))
			c.subject = f->val[F_SUBJECT];
		if (changed(f, F_FROM))
			c.from = f->val[F_FROM] ? f->val[F_FROM] : "";
		rc = store_campaign_edit(ui_store(s->ui), f->val[F_NAME], &c, &err);
	}
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return UI_REDRAW_ALL;
	}
	ui_campaign_select(f->val[F_NAME]);
	ui_pop(s->ui);
	ui_info(s->ui,
		f->editing ? "saved %s; it is a draft again: S submits it for review"
			   : "created the draft %s: C checks it, S submits it for review",
		f->val[F_NAME]);
	return UI_REDRAW_ALL;
}

/* Refuses the answer to field i with the reason, and asks again with it, to be corrected. */
static int refuse(struct screen *s, int i, enum store_status rc, char *err, const char *text)
{
	ui_error_store(s->ui, rc, err);
	ask(s, i, text);
	return UI_REDRAW_ALL;
}

static int answer(struct screen *s, const char *text)
{
	struct form *f = s->priv;
	struct store *st = ui_store(s->ui);
	enum store_status rc;
	char *list = NULL, *expr = NULL, *err = NULL;
	int i = ui_input_tag(s->ui) - 1;

	if (i < 0 || i >= NFIELDS)
		return UI_REDRAW_ALL;
	if (i == F_NAME && store_name_check("campaign", text, &err) != STORE_OK)
		return refuse(s, i, STORE_EINVAL, err, text);
	if (i == F_SEGMENT && text[0] != '\0') {
		rc = store_segment_get(st, text, &list, &expr, &err);
		if (rc != STORE_OK)
			return refuse(s, i, rc, err, text);
		if (field_or_null(f, F_LIST) == NULL || strcmp(f->val[F_LIST], list) != 0) {
			set(&f->val[F_LIST], list);
			ui_info(s->ui, "the list is now %s, the segment's", list);
		}
		free(list);
		free(expr);
	}
	set(&f->val[i], text);
	if (i < F_FROM)
		f->sel = i + 1;
	/* A new campaign is asked for field after field; Esc stops and Enter goes on. */
	if (!f->editing && i < F_FROM && (i + 1 != F_LIST || field_or_null(f, F_LIST) == NULL))
		ask(s, f->sel, f->val[f->sel]);
	return UI_REDRAW_ALL;
}

/* Something typed that leaving would throw away. */
static bool dirty(const struct form *f)
{
	int i;

	for (i = 0; i < NFIELDS; i++)
		if (f->editing ? changed(f, i) : field_or_null(f, i) != NULL)
			return true;
	return false;
}

static bool form_unsaved(struct screen *s)
{
	return dirty(s->priv);
}

/* Esc: leaves, after asking when that would throw away what was typed. */
static int leave(struct screen *s)
{
	struct form *f = s->priv;

	if (!ui_ask_discard(s->ui, ASK_DISCARD, dirty(f), f->editing ? "your changes to %s" : "%s",
			    f->editing ? f->val[F_NAME] : "this new campaign"))
		ui_pop(s->ui);
	return UI_REDRAW_ALL;
}

static int form_handle(struct screen *s, enum ui_action a)
{
	struct form *f = s->priv;

	switch (a) {
	case UI_UP:
		f->sel = f->sel > 0 ? f->sel - 1 : 0;
		return UI_REDRAW_BODY;
	case UI_DOWN:
		f->sel = f->sel < NFIELDS - 1 ? f->sel + 1 : NFIELDS - 1;
		return UI_REDRAW_BODY;
	case UI_ENTER:
	case UI_EDIT:
		if (f->editing && f->sel == F_NAME) {
			ui_error(s->ui, "a campaign keeps its name; y on the list copies it to "
					"a new one");
			return UI_REDRAW_STATUS;
		}
		ask(s, f->sel, f->val[f->sel]);
		return UI_REDRAW_ALL;
	case UI_SAVE:
		return save(s);
	case UI_BACK:
		return leave(s);
	case UI_INPUT_DONE:
		if (ui_input_tag(s->ui) == ASK_DISCARD) {
			ui_pop(s->ui);
			ui_discarded(s->ui);
			return UI_REDRAW_ALL;
		}
		return answer(s, ui_input_text(s->ui));
	case UI_INPUT_CANCEL:
		if (ui_input_tag(s->ui) == ASK_DISCARD)
			ui_info(s->ui, "kept: s saves it, Esc leaves");
		return UI_REDRAW_ALL;
	default:
		return UI_REDRAW_NONE;
	}
}

static void form_render(struct screen *s, struct grid *g)
{
	struct form *f = s->priv;
	int i, row = 1;

	if (f->editing)
		grid_printf(g, row, 2, UI_A_BOLD, "Edit campaign %s", f->val[F_NAME]);
	else
		grid_put(g, row, 2, -1, UI_A_BOLD, "New campaign");
	row += 2;
	for (i = 0; i < NFIELDS && row < g->h; i++, row++) {
		int attr = i == f->sel ? UI_A_REVERSE : UI_A_NORMAL;
		const char *v = f->val[i] != NULL && f->val[i][0] != '\0' ? f->val[i] : NULL;
		bool mark = f->editing && changed(f, i);

		grid_put(g, row, 2, 2, attr, i == f->sel ? "> " : "  ");
		grid_printf(g, row, 4, attr | UI_A_BOLD, "%-9s", labels[i]);
		/* A changed value ends before the marker, cut with "…" when long. */
		grid_put(g, row, 14, mark ? g->w - 11 - 14 : -1, v ? attr : (attr | UI_A_DIM),
			 v ? v : hints[i]);
		if (i == f->sel)
			grid_attr(g, row, 2, g->w - 4, UI_A_REVERSE);
		if (mark)
			grid_put(g, row, g->w - 10, -1, UI_A_DIM, "(changed)");
	}
	row++;
	if (row < g->h)
		grid_printf(g, row++, 2, UI_A_DIM, "Templates: %s",
			    f->templates[0] ? f->templates : "(none yet)");
	if (row < g->h)
		grid_printf(g, row++, 2, UI_A_DIM, "Lists:     %s",
			    f->lists[0] ? f->lists : "(none yet)");
	if (row < g->h)
		grid_printf(g, row++, 2, UI_A_DIM, "Segments:  %s",
			    f->segments[0] ? f->segments : "(none)");
	row++;
	if (row < g->h)
		grid_put(g, row, 2, -1, UI_A_DIM,
			 f->editing ? "Saving makes the campaign a draft again; its approvals go."
				    : "Enter changes the field; s saves the draft.");
}

static const struct screen_verb form_verbs[] = {
    {UI_UP, NULL, STORE_PERM_NONE, NULL, false},
    {UI_DOWN, NULL, STORE_PERM_NONE, NULL, false},
    {UI_ENTER, "change the field", STORE_PERM_CAMPAIGNS_EDIT, "hato campaign edit", false},
    {UI_EDIT, "change the field", STORE_PERM_CAMPAIGNS_EDIT, "hato campaign edit", false},
    {UI_SAVE, "save the campaign", STORE_PERM_CAMPAIGNS_EDIT, "hato campaign edit", false},
    {UI_BACK, "go back (asks before throwing away what was typed)", STORE_PERM_NONE, NULL, false},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_campaign_form_ops = {
    .title = "Campaign",
    .perm = STORE_PERM_CAMPAIGNS_EDIT,
    .verbs = form_verbs,
    .open = form_open,
    .handle = form_handle,
    .render = form_render,
    .close = form_close,
    .unsaved = form_unsaved,
};
