/*
 * tui/table.c: a table of text cells with a cursor, drawn with columns
 * padded to display width. Screens fill it in load() and draw it in render().
 */
#include <stdlib.h>
#include <string.h>

#include "tui/ui.h"

void ui_table_init(struct ui_table *t, int ncols, const char *const *heads)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->heads = heads;
	t->page = 10;
	t->maxw = 32;
}

int ui_table_add(struct ui_table *t, const char *const *cols)
{
	size_t ncap, i;
	char **cells;

	if (t->nrows == t->cap) {
		ncap = t->cap ? t->cap * 2 : 16;
		cells = realloc(t->cells, ncap * (size_t)t->ncols * sizeof(*cells));
		if (cells == NULL)
			return -1;
		t->cells = cells;
		t->cap = ncap;
	}
	cells = t->cells + t->nrows * (size_t)t->ncols;
	for (i = 0; i < (size_t)t->ncols; i++) {
		cells[i] = strdup(cols[i] != NULL ? cols[i] : "");
		if (cells[i] == NULL) {
			while (i-- > 0)
				free(cells[i]);
			return -1;
		}
	}
	t->nrows++;
	return 0;
}

void ui_table_clear(struct ui_table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	t->nrows = 0;
}

void ui_table_free(struct ui_table *t)
{
	ui_table_clear(t);
	free(t->cells);
	t->cells = NULL;
	t->cap = 0;
}

const char *ui_table_cell(const struct ui_table *t, size_t row, int col)
{
	if (row >= t->nrows || col < 0 || col >= t->ncols)
		return NULL;
	return t->cells[row * (size_t)t->ncols + (size_t)col];
}

const char *ui_table_selected(const struct ui_table *t, int col)
{
	return ui_table_cell(t, t->sel, col);
}

int ui_table_move(struct ui_table *t, enum ui_action a)
{
	size_t page = t->page > 1 ? (size_t)t->page : 1, last = t->nrows ? t->nrows - 1 : 0;

	switch (a) {
	case UI_UP:
		if (t->sel > 0)
			t->sel--;
		break;
	case UI_DOWN:
		if (t->sel < last)
			t->sel++;
		break;
	case UI_PGUP:
		t->sel = t->sel > page ? t->sel - page : 0;
		break;
	case UI_PGDN:
		t->sel = t->sel + page < last ? t->sel + page : last;
		break;
	case UI_HOME:
		t->sel = 0;
		break;
	case UI_END:
		t->sel = last;
		break;
	default:
		return UI_REDRAW_NONE;
	}
	return UI_REDRAW_BODY;
}

/*
 * Column widths in `room` columns: each column's widest cell, capped at maxw
 * but for the last, which takes the rest. Room that the last column does not
 * need goes to the capped columns, shared evenly, so that a wide terminal
 * shows more of them.
 */
static void widths(const struct ui_table *t, int room, int *w)
{
	int want[16], c, cw, last = t->ncols - 1, spare, n, share;
	size_t r;

	for (c = 0; c < t->ncols; c++) {
		want[c] = grid_width(t->heads[c]);
		for (r = 0; r < t->nrows; r++) {
			cw = grid_width(ui_table_cell(t, r, c));
			if (cw > want[c])
				want[c] = cw;
		}
		w[c] = c < last && want[c] > t->maxw ? t->maxw : want[c];
	}
	spare = room - want[last];
	for (c = 0; c < last; c++)
		spare -= w[c] + 2;
	while (spare > 0) {
		for (n = 0, c = 0; c < last; c++)
			n += w[c] < want[c];
		if (n == 0)
			break;
		share = spare / n > 0 ? spare / n : 1;
		for (c = 0; c < last && spare > 0; c++) {
			cw = want[c] - w[c] < share ? want[c] - w[c] : share;
			w[c] += cw;
			spare -= cw;
		}
	}
}

static void draw_row(struct grid *g, int row, const int *w, int ncols, const char *const *cols,
		     int attr)
{
	int c, x = 2;

	for (c = 0; c < ncols && x < g->w; c++) {
		grid_put(g, row, x, c == ncols - 1 ? -1 : w[c], attr, cols[c]);
		x += w[c] + 2;
	}
}

/*
 * Some rows do not fit: g's note says which show, "2-4 of 7", for the title
 * bar (layout.c), where it covers no heading.
 */
static void more_rows(const struct ui_table *t, struct grid *g, size_t shown)
{
	snprintf(g->note, sizeof(g->note), "%zu-%zu of %zu", t->top + 1, t->top + shown, t->nrows);
}

void ui_table_render(struct ui_table *t, struct grid *g, int row, int height, const char *empty)
{
	int w[16], i, rows = height - 1;
	const char *cols[16];
	size_t r;

	if (t->ncols > 16 || height < 1)
		return;
	widths(t, g->w - 2, w);
	draw_row(g, row, w, t->ncols, t->heads, UI_A_BOLD | UI_A_UNDERLINE);
	t->page = rows > 1 ? rows : 1;
	if (t->nrows == 0) {
		t->sel = t->top = 0;
		if (empty != NULL && rows > 0)
			grid_put(g, row + 1, 2, -1, UI_A_DIM, empty);
		return;
	}
	if (t->sel >= t->nrows)
		t->sel = t->nrows - 1;
	if (t->sel < t->top)
		t->top = t->sel;
	if (rows > 0 && t->sel >= t->top + (size_t)rows)
		t->top = t->sel - (size_t)rows + 1;
	/* No room left empty below the last row while rows above are hidden (the
	 * window grown again after a scroll): rows that fit all show. */
	if (rows > 0 && t->top + (size_t)rows > t->nrows)
		t->top = t->nrows > (size_t)rows ? t->nrows - (size_t)rows : 0;
	for (i = 0; i < rows && t->top + (size_t)i < t->nrows; i++) {
		r = t->top + (size_t)i;
		for (int c = 0; c < t->ncols; c++)
			cols[c] = ui_table_cell(t, r, c);
		draw_row(g, row + 1 + i, w, t->ncols, cols, UI_A_NORMAL);
		if (r == t->sel) {
			grid_put(g, row + 1 + i, 0, 1, UI_A_REVERSE, ">");
			grid_attr(g, row + 1 + i, 0, -1, UI_A_REVERSE);
		}
	}
	if (rows > 0 && t->nrows > (size_t)rows)
		more_rows(t, g, (size_t)i);
}
