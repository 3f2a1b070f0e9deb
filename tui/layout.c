/*
 * tui/layout.c: the frame of a session: the title bar, the top screen's body,
 * the hint line (or the open prompt, on two rows when it is long) and the
 * status line, rendered into the session's grid.
 */
#include <stdio.h>
#include <string.h>

#include "tui/ui_private.h"

void ui_resize(struct ui *ui, int w, int h)
{
	if (w < 20)
		w = 20;
	if (h < 5)
		h = 5;
	ui->w = w;
	ui->h = h;
}

int ui_body_rows(const struct ui *ui)
{
	return ui->h - 3;
}

static void render_hints(struct ui *ui, const struct screen *s, int row)
{
	const struct screen_verb *v;
	const char *prev = NULL;
	char keys[64], item[128];
	int col = 1, w;

	for (v = s->ops->verbs; v != NULL && v->action != UI_NONE; v++) {
		if (v->action == UI_UP || v->action == UI_DOWN || v->action == UI_PGUP ||
		    v->action == UI_PGDN || v->action == UI_HOME || v->action == UI_END ||
		    v->action == UI_BACK || v->action >= UI_INPUT_DONE)
			continue;
		/* Two keys for one thing (e and Enter): the first says it. */
		if (prev != NULL && v->help != NULL && strcmp(prev, v->help) == 0)
			continue;
		prev = v->help;
		if (v->perm != STORE_PERM_NONE && (ui->st == NULL || !store_can(ui->st, v->perm)))
			continue;
		if (v->pii && (ui->st == NULL || !store_can(ui->st, STORE_PERM_PII)))
			continue;
		ui_keymap_keys(v->action, keys, sizeof(keys));
		if (strchr(keys, ',') != NULL)
			*strchr(keys, ',') = '\0';
		snprintf(item, sizeof(item), "%s %s", keys,
			 v->help ? v->help : ui_keymap_help(v->action));
		w = grid_width(item);
		if (col + w + 16 > ui->w)
			break;
		grid_put(&ui->grid, row, col, -1, UI_A_DIM, item);
		col += w + 3;
	}
	grid_put(&ui->grid, row, col, -1, UI_A_DIM,
		 ui->depth > 1 ? "? help  q back" : "? help  q quit");
}

/* The byte offset of the first character of text whose rest fits in room columns. */
static size_t input_scroll(const char *text, int room)
{
	const char *p = text;

	/* Show the end of a long answer. */
	while (*p != '\0' && grid_width(p) > room)
		p++;
	while (((unsigned char)*p & 0xc0) == 0x80)
		p++;
	return (size_t)(p - text);
}

size_t ui_input_shown(const struct ui *ui, int room)
{
	const struct ui_prompt *p = &ui->prompt;
	size_t start;
	char keep;

	/* What fits before the cursor, which shows the end of a long answer; with
	 * text after the cursor, in a column less, where "…" stands for that text. */
	if (p->cur < p->len && room > 1)
		room--;
	keep = p->buf[p->cur];
	p->buf[p->cur] = '\0';
	start = input_scroll(p->buf, room);
	p->buf[p->cur] = keep;
	return start;
}

void ui_input_render(struct ui *ui, struct grid *g, int row, int col, bool with_label)
{
	struct ui_prompt *p = &ui->prompt;
	size_t start;
	int room, w = 0;
	char keep;

	if (!p->active)
		return;
	if (with_label)
		col += grid_put(g, row, col, -1, UI_A_BOLD, p->label);
	p->buf[p->len] = '\0';
	if (!(p->flags & (UI_INPUT_SECRET | UI_INPUT_YESNO))) { /* else no echo */
		room = g->w - col - 1;
		start = ui_input_shown(ui, room);
		grid_put(g, row, col, room, UI_A_NORMAL, p->buf + start);
		keep = p->buf[p->cur];
		p->buf[p->cur] = '\0';
		w = grid_width(p->buf + start);
		p->buf[p->cur] = keep;
	}
	ui->cur_row = row + (g == &ui->body ? 1 : 0);
	ui->cur_col = col + w;
}

/*
 * The open prompt on the hint line. A question too long for it takes the row
 * above as well, broken at a space, so that the keys that answer it (the
 * "(y/n)" it ends with) and what is typed always show; what still does not
 * fit is cut before those keys, with "…".
 */
static void render_prompt(struct ui *ui, int row)
{
	struct ui_prompt *p = &ui->prompt;
	const char *rest, *keys;
	char part[sizeof(p->label)];
	int room = ui->w - 2, typing, col;

	for (col = 0; col < ui->w; col++)
		grid_put(&ui->grid, row, col, 1, UI_A_NORMAL, " ");
	typing = p->flags & (UI_INPUT_SECRET | UI_INPUT_YESNO) ? 0 : 16;
	if (grid_width(p->label) + typing <= room || ui->h < 6) {
		ui_input_render(ui, &ui->grid, row, 1, true);
		return;
	}
	snprintf(part, sizeof(part), "%.*s", (int)grid_fit(p->label, room, true), p->label);
	rest = p->label + strlen(part);
	while (*rest == ' ')
		rest++;
	for (col = 0; col < ui->w; col++)
		grid_put(&ui->grid, row - 1, col, 1, UI_A_NORMAL, " ");
	grid_put(&ui->grid, row - 1, 1, room, UI_A_BOLD, part);
	/* The keys at the end, such as "(y/n) ", stay whole. */
	keys = strrchr(rest, '(');
	if (keys == NULL || strchr(keys, ')') == NULL)
		keys = rest + strlen(rest);
	snprintf(part, sizeof(part), "%.*s", (int)(keys - rest), rest);
	col = 1 + grid_put(&ui->grid, row, 1, room - typing - grid_width(keys), UI_A_BOLD, part);
	col += grid_put(&ui->grid, row, col, -1, UI_A_BOLD, keys);
	ui_input_render(ui, &ui->grid, row, col, false);
}

/*
 * The hint line, or the open prompt, and the status line under it. A long
 * message wraps whole, taking the hint line and the body's last rows too,
 * up to a third of the terminal (two rows, three with a prompt, at the
 * least), so that the remedy at its end shows; a prompt open moves up above
 * it, so that neither is cut.
 */
static void render_bottom(struct ui *ui, struct screen *s)
{
	bool prompt = ui->prompt.active && !(ui->prompt.flags & UI_INPUT_INLINE);
	int attr = ui->status_error ? UI_A_ERROR : UI_A_OK, rows = 1, most = ui->h / 3, row, c;

	if (most < (prompt ? 3 : 2))
		most = prompt ? 3 : 2;
	if (ui->status[0] != '\0' && grid_width(ui->status) > ui->w - 2)
		rows = grid_wrap_rows(&ui->grid, 1, ui->status);
	if (rows > most)
		rows = most;
	if (prompt && ui->h < 8)
		rows = 1;
	if (prompt)
		render_prompt(ui, ui->h - 1 - rows);
	else if (!ui->prompt.active)
		render_hints(ui, s, ui->h - 2);
	if (ui->status[0] == '\0')
		return;
	row = ui->h - rows;
	if (rows == 1) {
		grid_put(&ui->grid, row, 1, -1, attr, ui->status);
		return;
	}
	for (; row < ui->h; row++)
		for (c = 0; c < ui->w; c++)
			grid_put(&ui->grid, row, c, 1, UI_A_NORMAL, " ");
	grid_wrap(&ui->grid, ui->h - rows, 1, rows, attr, ui->status);
}

/*
 * The title bar: the screen on the left; on the right, which rows of a long
 * table show (the body's note) and who is logged in, who gives way to the
 * rows when both do not fit.
 */
static void render_title(struct ui *ui, const struct screen *s)
{
	char right[160];
	int left, rw = 0, nw = grid_width(ui->body.note);

	grid_attr(&ui->grid, 0, 0, -1, UI_A_TITLE);
	left = 1 + grid_printf(&ui->grid, 0, 1, UI_A_TITLE | UI_A_BOLD, "hato · %s", s->ops->title);
	if (ui->st != NULL) {
		snprintf(right, sizeof(right), "%s · role %s", store_user(ui->st),
			 store_role(ui->st));
		rw = grid_width(right);
		if (rw + 2 >= ui->w / 2 || (nw > 0 && ui->w - 1 - rw - 3 - nw < left + 2))
			rw = 0;
		if (rw > 0)
			grid_put(&ui->grid, 0, ui->w - rw - 1, -1, UI_A_TITLE, right);
	}
	if (nw > 0 && ui->w - 1 - (rw > 0 ? rw + 3 : 0) - nw >= left + 2)
		grid_put(&ui->grid, 0, ui->w - 1 - (rw > 0 ? rw + 3 : 0) - nw, -1, UI_A_TITLE,
			 ui->body.note);
}

const struct grid *ui_render(struct ui *ui)
{
	struct screen *s = ui_top(ui);

	if (ui->grid.w != ui->w || ui->grid.h != ui->h) {
		grid_free(&ui->grid);
		if (grid_init(&ui->grid, ui->w, ui->h) != 0)
			return &ui->grid;
	}
	if (ui->body.w != ui->w || ui->body.h != ui_body_rows(ui)) {
		grid_free(&ui->body);
		if (grid_init(&ui->body, ui->w, ui_body_rows(ui)) != 0)
			return &ui->grid;
	}
	grid_clear(&ui->grid);
	grid_clear(&ui->body);
	ui->cur_row = ui->cur_col = -1;
	if (s == NULL)
		return &ui->grid;

	s->ops->render(s, &ui->body);
	grid_blit(&ui->grid, &ui->body, 1);
	render_title(ui, s);

	render_bottom(ui, s);
	return &ui->grid;
}

void ui_cursor(const struct ui *ui, int *row, int *col)
{
	*row = ui->cur_row;
	*col = ui->cur_col;
}
