/*
 * tui/grid.c: the in-memory cell grid that screens render into. Each cell
 * holds one UTF-8 character; a wide (CJK) character takes two cells, the
 * second marked with width 0. Combining marks (zero width: U+0301, U+3099...)
 * stay in the cell of the character before them, as far as it has room. Text is clipped by display
 * width, never by bytes, so a column that ends in the middle of a wide character ends on a space
 * instead.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui/ui.h"

int grid_init(struct grid *g, int w, int h)
{
	g->w = 0;
	g->h = 0;
	g->cells = NULL;
	g->note[0] = '\0';
	if (w < 1)
		w = 1;
	if (h < 1)
		h = 1;
	g->cells = calloc((size_t)w * (size_t)h, sizeof(*g->cells));
	if (g->cells == NULL)
		return -1;
	g->w = w;
	g->h = h;
	grid_clear(g);
	return 0;
}

void grid_free(struct grid *g)
{
	if (g == NULL)
		return;
	free(g->cells);
	g->cells = NULL;
	g->w = 0;
	g->h = 0;
}

static struct grid_cell *cell(struct grid *g, int row, int col)
{
	return &g->cells[(size_t)row * (size_t)g->w + (size_t)col];
}

static void blank(struct grid_cell *c, int attr)
{
	c->ch[0] = ' ';
	c->ch[1] = '\0';
	c->width = 1;
	c->attr = (unsigned short)attr;
}

void grid_clear(struct grid *g)
{
	size_t i, n = (size_t)g->w * (size_t)g->h;

	for (i = 0; i < n; i++)
		blank(&g->cells[i], UI_A_NORMAL);
	g->note[0] = '\0';
}

/* Before overwriting (row, col): a wide character cut in half leaves a space. */
static void unsplit(struct grid *g, int row, int col)
{
	struct grid_cell *c = cell(g, row, col);

	if (c->width == 0 && col > 0)
		blank(cell(g, row, col - 1), cell(g, row, col - 1)->attr);
	if (c->width == 2 && col + 1 < g->w)
		blank(cell(g, row, col + 1), c->attr);
}

/* Decodes one character of s[0..left). *wc and *w are its code point and width. */
static size_t next_char(const char *s, size_t left, wchar_t *wc, int *w)
{
	mbstate_t ps;
	size_t n;

	memset(&ps, 0, sizeof(ps));
	n = mbrtowc(wc, s, left, &ps);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0 || n > 4) {
		*wc = L'?';
		*w = -1; /* bad UTF-8: one '?' */
		return 1;
	}
	*w = wcwidth(*wc);
	/* A control character, a line separator or a bidi override: '?', seen. */
	if (*wc < 0x20 || *wc == 0x7f || (*w < 0 && *wc < 0xa0) ||
	    store_char_is_unsafe((uint32_t)*wc))
		*w = -1;
	else if (*w < 0)
		*w = 0;
	return n;
}

/*
 * True for a zero-width character that combines with the one before it (the
 * marks, Mn and Me, and the Hangul vowels and finals), false for the other
 * zero-width ones: the format characters (Cf), which put() drops.
 */
static bool combines(wchar_t wc)
{
	return wc >= 0x300 && !(wc >= 0x600 && wc <= 0x605) && wc != 0x61c && wc != 0x6dd &&
	       wc != 0x70f && wc != 0x8e2 && wc != 0x180e && !(wc >= 0x200b && wc <= 0x200f) &&
	       !(wc >= 0x2028 && wc <= 0x206f) && wc != 0xfeff && !(wc >= 0xfff9 && wc <= 0xfffb) &&
	       wc != 0x110bd && wc != 0x110cd && !(wc >= 0x1bca0 && wc <= 0x1bca3) &&
	       !(wc >= 0x1d173 && wc <= 0x1d17a) && !(wc >= 0xe0000 && wc <= 0xe007f);
}

/* Appends the mark s[0..n) to the character in c, when it has room. */
static void add_mark(struct grid_cell *c, const char *s, size_t n)
{
	size_t used = strlen(c->ch);

	if (used > 0 && used + n < sizeof(c->ch)) {
		memcpy(c->ch + used, s, n);
		c->ch[used + n] = '\0';
	}
}

/* The display width of s[0..len), as put() counts it. */
static int width_of(const char *s, size_t len)
{
	size_t n;
	wchar_t wc;
	int w, total = 0;

	while (len > 0) {
		n = next_char(s, len, &wc, &w);
		total += w < 0 ? 1 : w;
		s += n;
		len -= n;
	}
	return total;
}

static bool regional(wchar_t wc)
{
	return wc >= 0x1f1e6 && wc <= 0x1f1ff;
}

/*
 * The columns that must fit for the character at s (n bytes, w wide) to be
 * put: a flag's two regional indicators go whole or not at all (*pair says
 * whether the one before opened a flag).
 */
static int needs(const char *s, size_t len, size_t n, wchar_t wc, int w, bool *pair)
{
	wchar_t next;
	int nw;

	if (!regional(wc)) {
		*pair = false;
		return w;
	}
	*pair = !*pair;
	if (!*pair || n >= len)
		return w;
	next_char(s + n, len - n, &next, &nw);
	return regional(next) ? w + (nw > 0 ? nw : 0) : w;
}

/* grid_put of s[0..len). */
static int put(struct grid *g, int row, int col, int maxw, int attr, const char *s, size_t len)
{
	size_t n;
	wchar_t wc;
	int w, start = col, limit;
	bool cut, pair = false;
	struct grid_cell *c, *last = NULL;

	if (s == NULL || row < 0 || row >= g->h || col < 0 || col >= g->w)
		return 0;
	limit = maxw < 0 || col + maxw > g->w ? g->w : col + maxw;
	if (limit <= col)
		return 0;
	/* Text that does not fit ends in "…", in the last column it may use. */
	cut = width_of(s, len) > limit - col;
	if (cut)
		limit--;
	while (len > 0) {
		n = next_char(s, len, &wc, &w);
		if (w == 0) {
			if (last != NULL && combines(wc))
				add_mark(last, s, n);
			s += n;
			len -= n;
			continue;
		}
		if (col >= limit)
			break;
		c = cell(g, row, col);
		if (w == 2 && col + 1 >= limit)
			break; /* never half a wide character */
		if (col + needs(s, len, n, wc, w, &pair) > limit)
			break; /* nor half a flag */
		unsplit(g, row, col);
		if (w < 0) {
			blank(c, attr);
			c->ch[0] = '?';
			w = 1;
			last = NULL;
		} else {
			last = c;
			memcpy(c->ch, s, n);
			c->ch[n] = '\0';
			c->width = (unsigned char)w;
			c->attr = (unsigned short)attr;
		}
		if (w == 2) {
			unsplit(g, row, col + 1);
			c = cell(g, row, col + 1);
			c->ch[0] = '\0';
			c->width = 0;
			c->attr = (unsigned short)attr;
		}
		col += w;
		s += n;
		len -= n;
	}
	if (cut) {
		unsplit(g, row, col);
		blank(cell(g, row, col), attr);
		memcpy(cell(g, row, col)->ch, "…", sizeof("…"));
		/* Where a wide character did not fit, a space after it. */
		for (col++; col <= limit; col++) {
			unsplit(g, row, col);
			blank(cell(g, row, col), attr);
		}
	}
	return col - start;
}

int grid_put(struct grid *g, int row, int col, int maxw, int attr, const char *s)
{
	return s != NULL ? put(g, row, col, maxw, attr, s, strlen(s)) : 0;
}

size_t grid_fit(const char *s, int maxw, bool at_space)
{
	size_t n, left = strlen(s), fit = 0, brk = 0;
	wchar_t wc;
	int w, total = 0;

	while (left > 0) {
		n = next_char(s + fit, left, &wc, &w);
		total += w < 0 ? 1 : w;
		if (total > maxw)
			break;
		fit += n;
		left -= n;
		if (s[fit] == ' ')
			brk = fit;
	}
	if (left == 0 || brk == 0 || !at_space)
		return fit;
	return brk;
}

const char *grid_clip(const char *s, int maxw, char *buf, size_t size)
{
	if (grid_width(s) <= maxw)
		snprintf(buf, size, "%s", s);
	else
		snprintf(buf, size, "%.*s…", maxw > 1 ? (int)grid_fit(s, maxw - 1, false) : 0, s);
	return buf;
}

/* Wraps s in `room` columns from (row, col): draws it when g is not NULL, else counts the rows. */
static int wrap(struct grid *g, int row, int col, int room, int maxrows, int attr, const char *s)
{
	const char *p = s;
	int rows = 0, w;
	wchar_t wc;
	size_t n;

	if (room < 1)
		return 0;
	while (*p != '\0' && rows < maxrows) {
		/* The last row of text that goes on: cut, and marked "…". */
		if (g != NULL && rows == maxrows - 1 && grid_width(p) > room) {
			grid_put(g, row + rows, col, room, attr, p);
			return rows + 1;
		}
		n = grid_fit(p, room, true);
		if (n == 0) /* a character wider than the room */
			n = next_char(p, strlen(p), &wc, &w);
		if (g != NULL)
			put(g, row + rows, col, room, attr, p, n);
		rows++;
		p += n;
		while (*p == ' ')
			p++;
	}
	return rows;
}

int grid_wrap(struct grid *g, int row, int col, int maxrows, int attr, const char *s)
{
	return wrap(g, row, col, g->w - col - 1, maxrows, attr, s);
}

int grid_wrap_rows(const struct grid *g, int col, const char *s)
{
	return wrap(NULL, 0, col, g->w - col - 1, INT_MAX, 0, s);
}

int grid_printf(struct grid *g, int row, int col, int attr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return grid_put(g, row, col, -1, attr, buf);
}

void grid_attr(struct grid *g, int row, int col, int n, int attr)
{
	int end;

	if (row < 0 || row >= g->h || col < 0)
		return;
	end = n < 0 || col + n > g->w ? g->w : col + n;
	for (; col < end; col++)
		cell(g, row, col)->attr |= (unsigned short)attr;
}

void grid_blit(struct grid *dst, const struct grid *src, int row)
{
	int r, w = src->w < dst->w ? src->w : dst->w;

	for (r = 0; r < src->h && row + r < dst->h; r++) {
		if (row + r < 0)
			continue;
		memcpy(cell(dst, row + r, 0), &src->cells[(size_t)r * (size_t)src->w],
		       (size_t)w * sizeof(struct grid_cell));
		/* A wide character cut at dst's edge. */
		if (w > 0 && cell(dst, row + r, w - 1)->width == 2)
			blank(cell(dst, row + r, w - 1), cell(dst, row + r, w - 1)->attr);
	}
}

char *grid_dump(const struct grid *g)
{
	size_t size = (size_t)g->h * ((size_t)g->w * sizeof(g->cells->ch) + 1) + 1, len = 0, end;
	char *out = malloc(size);
	const struct grid_cell *c;
	int r, col;

	if (out == NULL)
		return NULL;
	for (r = 0; r < g->h; r++) {
		end = len;
		for (col = 0; col < g->w; col++) {
			c = &g->cells[(size_t)r * (size_t)g->w + (size_t)col];
			if (c->width == 0)
				continue;
			memcpy(out + len, c->ch, strlen(c->ch));
			len += strlen(c->ch);
			if (c->ch[0] != ' ')
				end = len;
		}
		len = end;
		out[len++] = '\n';
	}
	out[len] = '\0';
	return out;
}

int grid_width(const char *s)
{
	return width_of(s, strlen(s));
}
