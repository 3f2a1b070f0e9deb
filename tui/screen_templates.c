/*
 * tui/screen_templates.c: the templates, and a preview of one.
 *
 *   Templates  each template's kind, layout, size and author. e edits it in
 *              $EDITOR as mutt and git do: the source goes to a temp file
 *              (mode 0600, in $TMPDIR), curses steps aside while the editor
 *              runs, and the result is compiled before it is saved, or the
 *              error is shown with line:column and the editor offered again.
 *              The temp file is wiped and removed afterwards. n writes a new
 *              Markdown template the same way (an editor quit without
 *              writing makes none), under a name checked before the editor
 *              opens; y copies one. An edit the store refuses to save is
 *              kept, for another name or another try: never lost.
 *   Preview    Enter: the text the chosen subscriber would read (merged with
 *              their name and attributes, in the template's layout), and the
 *              pre-send check results (send_check_template).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send/send.h"
#include "templates/templates.h"
#include "tui/ui.h"

/* ==== Templates ========================================================== */

enum { ASK_COPY = 1, ASK_AGAIN, ASK_NEW, ASK_WHO, ASK_SAVE_AS };
enum { T_NAME, T_KIND, T_LAYOUT, T_SIZE, T_AUTHOR, T_UPDATED, T_NCOLS };

struct templates {
	struct ui_table t;
	char name[130];
	char tmp[UI_EDIT_PATH]; /* the temp file being edited, or "" */
	bool is_new;
	bool edited; /* tmp holds an edit still to save: no editor before saving it */
};

static const char *const tpl_heads[T_NCOLS] = {"Template", "Kind",   "Layout",
					       "Size",	   "Author", "Updated"};

static const char skeleton[] = "# Hello {{name|there}}\n\n"
			       "Write the message here, in Markdown.\n";

static int templates_open(struct screen *s)
{
	struct templates *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	ui_table_init(&t->t, T_NCOLS, tpl_heads);
	s->priv = t;
	return 0;
}

static void templates_close(struct screen *s)
{
	struct templates *t = s->priv;

	ui_edit_wipe(t->tmp);
	ui_table_free(&t->t);
	free(t);
	s->priv = NULL;
}

static int tpl_row(const struct store_template *x, void *arg)
{
	struct templates *t = arg;
	char size[24], updated[11];
	struct tm tm;
	const char *cols[T_NCOLS];

	snprintf(size, sizeof(size), "%zu", x->size);
	gmtime_r(&x->updated, &tm);
	strftime(updated, sizeof(updated), "%Y-%m-%d", &tm);
	cols[T_NAME] = x->name;
	cols[T_KIND] = x->kind;
	cols[T_LAYOUT] = x->layout;
	cols[T_SIZE] = size;
	cols[T_AUTHOR] = x->author;
	cols[T_UPDATED] = updated;
	return ui_table_add(&t->t, cols);
}

static int templates_load(struct screen *s)
{
	struct templates *t = s->priv;
	enum store_status rc;
	char *err = NULL;

	ui_table_clear(&t->t);
	rc = store_template_list(ui_store(s->ui), tpl_row, t, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return -1;
	}
	return 0;
}

/*
 * Edits t->tmp, then compiles and saves it. On a compile error keeps the
 * file and offers the editor again.
 */
static int edit_and_save(struct screen *s)
{
	struct templates *t = s->priv;
	struct store_template *old = NULL, nw = {0};
	struct tpl_campaign_src src = {0};
	struct tpl_campaign *comp = NULL;
	enum store_status rc = STORE_OK;
	char *text = NULL, *err = NULL;

	if (!t->edited && ui_edit_run(s->ui, t->tmp, "the template is unchanged") != 0) {
		ui_edit_wipe(t->tmp);
		return UI_REDRAW_ALL;
	}
	t->edited = false;
	text = ui_edit_read(t->tmp);
	if (text == NULL) {
		ui_error(s->ui, "cannot read %s back", t->tmp);
		ui_edit_wipe(t->tmp);
		return UI_REDRAW_ALL;
	}
	/* A new template left as it was given: the editor was quit without writing. */
	if (t->is_new && strcmp(text, skeleton) == 0) {
		ui_info(s->ui, "nothing was written; no template made");
		goto done;
	}
	if (!t->is_new)
		rc = store_template_get(ui_store(s->ui), t->name, &old, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		goto done;
	}
	nw.name = t->name;
	nw.kind = old ? old->kind : "markdown";
	nw.layout = old ? old->layout : "plain";
	nw.text_source = old ? old->text_source : NULL;
	nw.source = text;
	if (old != NULL && strcmp(old->source, text) == 0) {
		ui_info(s->ui, "no change to %s", t->name);
		goto done;
	}
	src.kind = strcmp(nw.kind, "html") == 0 ? TPL_KIND_HTML : TPL_KIND_MARKDOWN;
	src.src = text;
	src.src_len = strlen(text);
	src.text_src = nw.text_source;
	src.layout = nw.layout;
	src.subject = "";
	if (tpl_campaign_compile(&src, &comp, &err) != TPL_OK) {
		ui_error(s->ui, "%s does not compile: %s", t->name, err ? err : "error");
		free(err);
		err = NULL;
		ui_input(s->ui, ASK_AGAIN, UI_INPUT_YESNO, NULL,
			 "Edit again to fix it? n discards the edit. (y/n) ");
		free(text);
		store_template_free(&old);
		return UI_REDRAW_ALL; /* the temp file stays for the next edit */
	}
	tpl_campaign_free(&comp);
	rc = store_template_save(ui_store(s->ui), &nw, !t->is_new, &err);
	if (rc != STORE_OK) {
		/* Refused (the name taken meanwhile, the store busy): the edit is kept. */
		ui_error_store(s->ui, rc, err);
		t->edited = true;
		if (t->is_new)
			ui_input(s->ui, ASK_SAVE_AS, 0, t->name,
				 "Save the new template as (Esc discards it): ");
		else
			ui_input(s->ui, ASK_AGAIN, UI_INPUT_YESNO, NULL,
				 "Try to save it again? n discards the edit. (y/n) ");
		free(text);
		store_template_free(&old);
		return UI_REDRAW_ALL;
	} else {
		free(err);
		templates_load(s);
		ui_info(s->ui, "saved %s (%zu bytes)", t->name, strlen(text));
	}
done:
	ui_edit_wipe(t->tmp);
	free(text);
	store_template_free(&old);
	return UI_REDRAW_ALL;
}

/* Edits the template t->name. */
static int edit(struct screen *s)
{
	struct templates *t = s->priv;
	struct store_template *x = NULL;
	enum store_status rc;
	char *err = NULL;
	int r;

	t->is_new = false;
	rc = store_template_get(ui_store(s->ui), t->name, &x, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return UI_REDRAW_ALL;
	}
	r = ui_edit_write(s->ui, t->tmp, x->source, strcmp(x->kind, "html") == 0 ? ".html" : ".md");
	store_template_free(&x);
	if (r != 0)
		return UI_REDRAW_ALL;
	return edit_and_save(s);
}

/* A name a new template can't have (not one, or taken), said with ui_error(). */
static bool name_taken(struct screen *s, const char *name)
{
	struct store_template *x = NULL;
	enum store_status rc;
	char *err = NULL;

	rc = store_name_check("template", name, &err);
	if (rc == STORE_OK && store_template_get(ui_store(s->ui), name, &x, NULL) == STORE_OK) {
		store_template_free(&x);
		ui_error(s->ui, "the template %s exists already; choose another name", name);
		return true;
	}
	if (rc != STORE_OK)
		ui_error_store(s->ui, rc, err);
	else
		free(err);
	return rc != STORE_OK;
}

static int answer(struct screen *s)
{
	struct templates *t = s->priv;
	const char *text = ui_input_text(s->ui);
	enum store_status rc;
	char *err = NULL;

	switch (ui_input_tag(s->ui)) {
	case ASK_COPY:
		rc = store_template_copy(ui_store(s->ui), t->name, text, &err);
		if (rc != STORE_OK) {
			ui_error_store(s->ui, rc, err);
			return UI_REDRAW_ALL;
		}
		free(err);
		templates_load(s);
		ui_info(s->ui, "copied %s to %s", t->name, text);
		return UI_REDRAW_ALL;
	case ASK_AGAIN:
		return edit_and_save(s);
	case ASK_NEW:
		snprintf(t->name, sizeof(t->name), "%s", text);
		if (name_taken(s, t->name)) {
			/* Asked again, with what was typed: before any writing in the editor. */
			ui_input(s->ui, ASK_NEW, 0, t->name, "Name of the new template: ");
			return UI_REDRAW_ALL;
		}
		t->is_new = true;
		t->edited = false;
		if (ui_edit_write(s->ui, t->tmp, skeleton, ".md") != 0)
			return UI_REDRAW_ALL;
		return edit_and_save(s);
	case ASK_SAVE_AS:
		snprintf(t->name, sizeof(t->name), "%s", text);
		return edit_and_save(s); /* t->edited: the file as it was written */
	case ASK_WHO:
		snprintf(ui_marketer_target()->template_name,
			 sizeof(ui_marketer_target()->template_name), "%s", t->name);
		/* The preview reads the address from the prompt during its open(). */
		ui_push(s->ui, &screen_preview_ops);
		return UI_REDRAW_ALL;
	default:
		return UI_REDRAW_NONE;
	}
}

static int templates_handle(struct screen *s, enum ui_action a)
{
	struct templates *t = s->priv;
	const char *sel = ui_table_selected(&t->t, T_NAME);

	switch (a) {
	case UI_INPUT_DONE:
		return answer(s);
	case UI_INPUT_CANCEL:
		if (ui_input_tag(s->ui) == ASK_AGAIN) {
			ui_edit_wipe(t->tmp);
			t->edited = false;
			ui_info(s->ui, "discarded the edit; %s is unchanged", t->name);
		} else if (ui_input_tag(s->ui) == ASK_SAVE_AS) {
			ui_edit_wipe(t->tmp);
			t->edited = false;
			ui_info(s->ui, "discarded the new template");
		}
		return UI_REDRAW_ALL;
	case UI_NEW:
		ui_input(s->ui, ASK_NEW, 0, NULL, "Name of the new template: ");
		return UI_REDRAW_ALL;
	default:
		break;
	}
	if ((a == UI_EDIT || a == UI_COPY || a == UI_ENTER || a == UI_CHECK) && sel == NULL)
		return UI_REDRAW_NONE;
	if (sel != NULL)
		snprintf(t->name, sizeof(t->name), "%s", sel);
	switch (a) {
	case UI_EDIT:
		return edit(s);
	case UI_COPY:
		ui_input(s->ui, ASK_COPY, 0, NULL, "Copy %s to: ", t->name);
		return UI_REDRAW_ALL;
	case UI_ENTER:
		ui_input(s->ui, ASK_WHO, 0, NULL,
			 "Preview for which subscriber? (address; empty: the first one) ");
		return UI_REDRAW_ALL;
	case UI_CHECK:
		snprintf(ui_marketer_target()->template_name,
			 sizeof(ui_marketer_target()->template_name), "%s", t->name);
		ui_marketer_target()->subscriber = -1; /* checks only */
		ui_push(s->ui, &screen_preview_ops);
		return UI_REDRAW_ALL;
	default:
		return ui_table_move(&t->t, a);
	}
}

static void templates_render(struct screen *s, struct grid *g)
{
	struct templates *t = s->priv;

	grid_printf(g, 1, 2, UI_A_BOLD, "Templates (%zu)", t->t.nrows);
	ui_table_render(&t->t, g, 3, g->h - 3, "No templates yet: n writes one.");
}

static const struct screen_verb templates_verbs[] = {
    UI_TABLE_VERBS,
    {UI_ENTER, "preview", STORE_PERM_PII, "hato template render", false},
    {UI_EDIT, "edit in $EDITOR", STORE_PERM_TEMPLATES, "hato template add", false},
    {UI_CHECK, "checks", STORE_PERM_CAMPAIGNS_READ, "hato template check", false},
    {UI_COPY, "copy", STORE_PERM_TEMPLATES, "hato template copy", false},
    {UI_NEW, "new", STORE_PERM_TEMPLATES, "hato template add", false},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_templates_ops = {
    .title = "Templates",
    .perm = STORE_PERM_CAMPAIGNS_READ,
    .menu_help = "edit templates in $EDITOR, preview them, run the checks",
    .verbs = templates_verbs,
    .open = templates_open,
    .load = templates_load,
    .handle = templates_handle,
    .render = templates_render,
    .close = templates_close,
};

/* ==== Preview and checks ================================================= */

struct preview {
	char name[130];
	char **lines;
	int *attrs;
	size_t n, cap, top;
	int height;
};

static void pv_add(struct preview *p, int attr, const char *text, size_t len)
{
	char **l;
	int *a;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		l = realloc(p->lines, cap * sizeof(*l));
		if (l == NULL)
			return;
		p->lines = l;
		a = realloc(p->attrs, cap * sizeof(*a));
		if (a == NULL)
			return;
		p->attrs = a;
		p->cap = cap;
	}
	p->lines[p->n] = strndup(text, len);
	if (p->lines[p->n] == NULL)
		return;
	p->attrs[p->n++] = attr;
}

static void pv_addf(struct preview *p, int attr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void pv_addf(struct preview *p, int attr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pv_add(p, attr, buf, strlen(buf));
}

/* Adds text line by line (tabs and CRs dropped by the grid). */
static void pv_text(struct preview *p, const char *text)
{
	const char *nl;

	while (*text != '\0') {
		nl = strchr(text, '\n');
		if (nl == NULL) {
			pv_add(p, UI_A_NORMAL, text, strlen(text));
			break;
		}
		pv_add(p, UI_A_NORMAL, text, (size_t)(nl - text - (nl > text && nl[-1] == '\r')));
		text = nl + 1;
	}
}

/* Adds text wrapped at spaces to lines of at most `width` columns, each after `indent`. */
static void pv_wrap(struct preview *p, int attr, const char *indent, const char *text, int width)
{
	char line[1024];
	const char *brk, *q;
	size_t n, i;

	while (*text != '\0') {
		brk = NULL;
		for (q = text; *q != '\0'; q++) {
			n = (size_t)(q - text);
			if (n >= sizeof(line))
				break;
			memcpy(line, text, n);
			line[n] = '\0';
			if (grid_width(line) > width)
				break;
			if (*q == ' ')
				brk = q;
		}
		if (*q == '\0')
			brk = q;
		else if (brk == NULL)
			brk = q > text ? q - 1 : q + 1;
		n = (size_t)(brk - text);
		i = (size_t)snprintf(line, sizeof(line), "%s", indent);
		snprintf(line + i, sizeof(line) - i, "%.*s", (int)n, text);
		pv_add(p, attr, line, strlen(line));
		text = brk;
		while (*text == ' ')
			text++;
	}
}

/* What the merge tags read: the subscriber, the sender settings. */
struct merge {
	struct store *st;
	const struct store_subscriber *sub;
	char *shown; /* the address, masked without pii */
	char *cfg;   /* the last setting read */
};

static const char *lookup(const char *name, void *arg)
{
	struct merge *m = arg;
	size_t i;

	free(m->cfg);
	m->cfg = NULL;
	if (strcmp(name, "name") == 0)
		return m->sub->name;
	if (strcmp(name, "email") == 0)
		return m->shown;
	if (strcmp(name, "unsubscribe_url") == 0)
		return "https://(the unsubscribe link of this subscriber)";
	if (strcmp(name, "list.name") == 0) {
		if (m->sub->nlists == 0 ||
		    store_list_name(m->st, m->sub->lists[0].list, &m->cfg, NULL) != STORE_OK)
			return "list";
		return m->cfg;
	}
	if (strncmp(name, "sender.", 7) == 0) {
		if (store_config_get(m->st, name, &m->cfg, NULL) != STORE_OK)
			m->cfg = NULL;
		return m->cfg;
	}
	if (strncmp(name, "attr.", 5) == 0)
		for (i = 0; i < m->sub->nattrs; i++)
			if (strcmp(m->sub->attrs[i].key, name + 5) == 0)
				return m->sub->attrs[i].value;
	return NULL;
}

static int first_id(const struct store_browse_row *r, void *arg)
{
	*(int64_t *)arg = r->id;
	return 1;
}

/* The subscriber to preview for: the address typed, or the first one. */
static enum store_status who(struct store *st, const char *addr, struct store_subscriber **sub,
			     char **err)
{
	struct store_browse q = {.limit = 1};
	int64_t id = 0;
	enum store_status rc;

	if (addr != NULL && *addr != '\0')
		return store_subscriber_get(st, addr, sub, err);
	rc = store_subscriber_page(st, &q, first_id, &id, err);
	if (rc != STORE_OK)
		return rc;
	if (id == 0) {
		*err = strdup("there are no subscribers to preview for");
		return STORE_ENOTFOUND;
	}
	return store_subscriber_get_id(st, id, sub, err);
}

static int render_text(struct screen *s, const char *addr)
{
	struct preview *p = s->priv;
	struct store *st = ui_store(s->ui);
	struct store_template *t = NULL;
	struct merge m = {st, NULL, NULL, NULL};
	struct tpl_campaign_src src = {0};
	struct tpl_campaign *comp = NULL;
	struct store_subscriber *sub = NULL;
	struct tpl_buf out = {0};
	enum store_status rc;
	char *err = NULL;
	int r = -1;

	rc = store_template_get(st, p->name, &t, &err);
	if (rc == STORE_OK)
		rc = who(st, addr, &sub, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		goto done;
	}
	m.sub = sub;
	m.shown = store_mask_address(st, sub->email);
	src.kind = strcmp(t->kind, "html") == 0 ? TPL_KIND_HTML : TPL_KIND_MARKDOWN;
	src.src = t->source;
	src.src_len = strlen(t->source);
	src.text_src = t->text_source;
	src.layout = t->layout;
	src.subject = t->name;
	if (tpl_campaign_compile(&src, &comp, &err) != TPL_OK) {
		ui_error(s->ui, "%s does not compile: %s", p->name, err ? err : "error");
		free(err);
		goto done;
	}
	if (tpl_render(tpl_campaign_text(comp), TPL_MODE_TEXT, lookup, &m, &out) != TPL_OK) {
		ui_error(s->ui, "out of memory");
		goto done;
	}
	pv_addf(p, UI_A_BOLD, "To: %s%s%s%s", sub->name, sub->name[0] ? " <" : "",
		m.shown ? m.shown : "***", sub->name[0] ? ">" : "");
	pv_addf(p, UI_A_DIM,
		"The text part, as %s would read it:", sub->name[0] ? sub->name : "they");
	pv_add(p, UI_A_NORMAL, "", 0);
	pv_text(p, out.data != NULL ? out.data : "");
	pv_add(p, UI_A_NORMAL, "", 0);
	r = 0;
done:
	tpl_buf_free(&out);
	tpl_campaign_free(&comp);
	free(m.shown);
	free(m.cfg);
	store_subscriber_free(&sub);
	store_template_free(&t);
	return r;
}

static void checks(struct screen *s)
{
	struct preview *p = s->priv;
	struct tpl_findings *f = NULL;
	const struct tpl_finding *x;
	enum send_status rc;
	char *err = NULL, where[64];
	size_t i, errors;

	rc = send_check_template(ui_store(s->ui), p->name, p->name, NULL, &f, &err);
	if (rc != SEND_OK) {
		pv_addf(p, UI_A_BOLD, "Pre-send checks of %s", p->name);
		pv_addf(p, UI_A_ERROR, "  cannot run them: %s", err ? err : send_strstatus(rc));
		free(err);
		return;
	}
	errors = tpl_findings_count_severity(f, TPL_SEV_ERROR);
	pv_addf(p, errors ? UI_A_ERROR | UI_A_BOLD : UI_A_OK | UI_A_BOLD,
		"Pre-send checks of %s: %zu errors, %zu warnings", p->name, errors,
		tpl_findings_count(f) - errors);
	for (i = 0; (x = tpl_findings_get(f, i)) != NULL; i++) {
		if (x->line > 0)
			snprintf(where, sizeof(where), "%s:%u:%u", x->where, x->line, x->col);
		else
			snprintf(where, sizeof(where), "%s", x->where);
		pv_addf(p, x->severity == TPL_SEV_ERROR ? UI_A_ERROR : UI_A_BOLD, "  %-7s %-14s %s",
			x->severity == TPL_SEV_ERROR ? "error" : "warning", where, x->code);
		pv_wrap(p, UI_A_NORMAL, "          ", x->message, 66);
	}
	tpl_findings_free(&f);
}

static int preview_open(struct screen *s)
{
	struct preview *p = calloc(1, sizeof(*p));
	struct ui_marketer_target *t = ui_marketer_target();
	bool checks_only = t->subscriber == -1;

	if (p == NULL)
		return -1;
	s->priv = p;
	p->height = 18;
	snprintf(p->name, sizeof(p->name), "%s", t->template_name);
	t->subscriber = 0;
	/* Opened from the ASK_WHO prompt: its text is the address. */
	if (!checks_only && render_text(s, ui_input_text(s->ui)) != 0)
		return -1;
	checks(s);
	return 0;
}

static void preview_close(struct screen *s)
{
	struct preview *p = s->priv;
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->lines[i]);
	free(p->lines);
	free(p->attrs);
	free(p);
	s->priv = NULL;
}

static int preview_handle(struct screen *s, enum ui_action a)
{
	struct preview *p = s->priv;
	size_t page = p->height > 1 ? (size_t)p->height : 1;
	size_t last = p->n > page ? p->n - page : 0;

	switch (a) {
	case UI_UP:
		p->top = p->top > 0 ? p->top - 1 : 0;
		break;
	case UI_DOWN:
		p->top = p->top < last ? p->top + 1 : last;
		break;
	case UI_PGUP:
		p->top = p->top > page ? p->top - page : 0;
		break;
	case UI_PGDN:
		p->top = p->top + page < last ? p->top + page : last;
		break;
	case UI_HOME:
		p->top = 0;
		break;
	case UI_END:
		p->top = last;
		break;
	default:
		return UI_REDRAW_NONE;
	}
	return UI_REDRAW_BODY;
}

static void preview_render(struct screen *s, struct grid *g)
{
	struct preview *p = s->priv;
	size_t i;
	int y;

	p->height = g->h - 3;
	grid_printf(g, 1, 2, UI_A_BOLD, "Template %s", p->name);
	for (i = p->top, y = 3; i < p->n && y < g->h; i++, y++)
		grid_put(g, y, 2, -1, p->attrs[i], p->lines[i]);
}

static const struct screen_verb preview_verbs[] = {
    {UI_UP, NULL, STORE_PERM_NONE, NULL, false},   {UI_DOWN, NULL, STORE_PERM_NONE, NULL, false},
    {UI_PGUP, NULL, STORE_PERM_NONE, NULL, false}, {UI_PGDN, NULL, STORE_PERM_NONE, NULL, false},
    {UI_HOME, NULL, STORE_PERM_NONE, NULL, false}, {UI_END, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_preview_ops = {
    .title = "Template preview",
    .perm = STORE_PERM_CAMPAIGNS_READ,
    .verbs = preview_verbs,
    .open = preview_open,
    .handle = preview_handle,
    .render = preview_render,
    .close = preview_close,
};
