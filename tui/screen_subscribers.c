/*
 * tui/screen_subscribers.c: the subscriber browser. It holds one page of
 * rows and reads the next or previous one from the store by keyset
 * (store_subscriber_page), so it opens and pages as fast at 1,000,000
 * subscribers as at ten. `/` searches as you type: an address prefix (with
 * the pii permission) or a name prefix, with the filter words list:ID and
 * status:S. Enter opens the member record; i imports a CSV file.
 *
 * Each page is read with one row more than it shows, so the screen knows
 * whether there is more below (forward) or above (backward), and remembers
 * the row just above the page, from which load() reads the page again. A
 * resize reads it again too, keeping the selected subscriber selected and
 * in view.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/ui.h"

enum { ASK_SEARCH = 1 };

struct row {
	int64_t id;
	int part;
	char *email, *name, *status;
	time_t created;
};

struct subs {
	struct row *rows; /* page + 1 slots */
	size_t n, sel, cap;
	int page;	   /* rows a page shows */
	int64_t before_id; /* the row just above the page; 0 at the top */
	int before_part;
	bool more_below, more_above;
	char search[256], list[65], status[16]; /* the filter in force */
	char typed[512];			/* the filter as typed */
	char saved[512];			/* the filter before `/`, for Esc */
};

static struct ui_marketer_target target;

struct ui_marketer_target *ui_marketer_target(void)
{
	return &target;
}

static void rows_clear(struct subs *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->rows[i].email);
		free(b->rows[i].name);
		free(b->rows[i].status);
	}
	b->n = 0;
}

/* The rows a page shows in a body of that many rows: all under the heading. */
static int page_rows(int body_rows)
{
	return body_rows - 5 < 1 ? 1 : body_rows - 5;
}

static int subs_open(struct screen *s)
{
	struct subs *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return -1;
	s->priv = b;
	/* Opened from a list: its members. */
	if (target.list[0] != '\0') {
		snprintf(b->list, sizeof(b->list), "%s", target.list);
		snprintf(b->typed, sizeof(b->typed), "list:%s", target.list);
		target.list[0] = '\0';
	}
	return 0;
}

static void subs_close(struct screen *s)
{
	struct subs *b = s->priv;

	rows_clear(b);
	free(b->rows);
	free(b);
	s->priv = NULL;
}

struct fetch {
	struct row *rows;
	size_t n, cap;
	int fail;
};

static int add_row(const struct store_browse_row *r, void *arg)
{
	struct fetch *f = arg;
	struct row *w;

	if (f->n == f->cap)
		return 1;
	w = &f->rows[f->n];
	w->id = r->id;
	w->part = r->part;
	w->created = r->created;
	w->email = strdup(r->email);
	w->name = strdup(r->name);
	w->status = strdup(r->status);
	if (w->email == NULL || w->name == NULL || w->status == NULL) {
		free(w->email);
		free(w->name);
		free(w->status);
		f->fail = 1;
		return 1;
	}
	f->n++;
	return 0;
}

/*
 * Reads page + 1 rows after (or before) the anchor into the page. Returns
 * the rows read, or -1 after ui_error().
 */
static int fetch(struct screen *s, int64_t anchor, int part, bool backward)
{
	struct subs *b = s->priv;
	struct store_browse q = {
	    .list = b->list[0] ? b->list : NULL,
	    .status = b->status[0] ? b->status : NULL,
	    .search = b->search,
	    .anchor = anchor,
	    .anchor_part = part,
	    .backward = backward,
	    .limit = b->page + 1,
	};
	struct fetch f = {0};
	enum store_status rc;
	char *err = NULL;

	if (b->cap < (size_t)b->page + 1) {
		struct row *r = realloc(b->rows, ((size_t)b->page + 1) * sizeof(*r));
		if (r == NULL) {
			ui_error(s->ui, "out of memory");
			return -1;
		}
		b->rows = r;
		b->cap = (size_t)b->page + 1;
	}
	rows_clear(b);
	f.rows = b->rows;
	f.cap = (size_t)b->page + 1;
	rc = store_subscriber_page(ui_store(s->ui), &q, add_row, &f, &err);
	b->n = f.n;
	if (rc == STORE_OK && f.fail)
		rc = STORE_ENOMEM;
	if (rc != STORE_OK) {
		rows_clear(b);
		b->more_above = b->more_below = false; /* nothing shows: nothing more either */
		ui_error_store(s->ui, rc, err);
		return -1;
	}
	return (int)f.n;
}

/* Drops row i of the page (the extra one read to look ahead). */
static void drop(struct subs *b, size_t i)
{
	free(b->rows[i].email);
	free(b->rows[i].name);
	free(b->rows[i].status);
	memmove(&b->rows[i], &b->rows[i + 1], (b->n - i - 1) * sizeof(b->rows[0]));
	b->n--;
}

/* The page after (anchor, part), or the first page when anchor is 0. */
static int page_after(struct screen *s, int64_t anchor, int part)
{
	struct subs *b = s->priv;
	int k = fetch(s, anchor, part, false);

	if (k < 0)
		return -1;
	b->before_id = anchor;
	b->before_part = part;
	b->more_above = anchor != 0;
	b->more_below = k > b->page;
	if (b->more_below)
		drop(b, b->n - 1);
	return k;
}

/* The page before (anchor, part), or the last page when anchor is 0. */
static int page_before(struct screen *s, int64_t anchor, int part)
{
	struct subs *b = s->priv;
	int k = fetch(s, anchor, part, true);

	if (k < 0)
		return -1;
	if (k <= b->page) /* near the top: show a full first page instead */
		return page_after(s, 0, 0);
	b->before_id = b->rows[0].id;
	b->before_part = b->rows[0].part;
	drop(b, 0);
	b->more_above = true;
	b->more_below = anchor != 0;
	return k;
}

/*
 * Reads the page again, as many rows as the terminal has now, from its top;
 * from lower down when a shorter page would leave the selected row out, so
 * that it ends at that row. The selected subscriber stays selected.
 */
static int subs_load(struct screen *s)
{
	struct subs *b = s->priv;
	int64_t top = b->before_id, sel_id = b->n ? b->rows[b->sel].id : 0;
	int top_part = b->before_part, sel_part = b->n ? b->rows[b->sel].part : 0, k;
	size_t i;

	b->page = page_rows(ui_body_rows(s->ui));
	if (b->sel < b->n && b->sel >= (size_t)b->page) {
		top = b->rows[b->sel - (size_t)b->page].id;
		top_part = b->rows[b->sel - (size_t)b->page].part;
		b->sel = (size_t)b->page - 1;
	}
	k = page_after(s, top, top_part);
	if (k < 0 && top != 0) /* the row above is gone: the top */
		k = page_after(s, 0, 0);
	for (i = 0; i < b->n; i++)
		if (b->rows[i].id == sel_id && b->rows[i].part == sel_part)
			b->sel = i;
	if (b->sel >= b->n)
		b->sel = b->n ? b->n - 1 : 0;
	return k < 0 ? -1 : 0;
}

/* Reads "list:ID status:S words..."; the words are the search text. */
static int parse_filter(struct subs *b, const char *text)
{
	char buf[512], *word, *save = NULL;
	size_t len = 0;

	b->search[0] = b->list[0] = b->status[0] = '\0';
	snprintf(buf, sizeof(buf), "%s", text);
	for (word = strtok_r(buf, " \t", &save); word != NULL;
	     word = strtok_r(NULL, " \t", &save)) {
		if (strncmp(word, "list:", 5) == 0)
			snprintf(b->list, sizeof(b->list), "%s", word + 5);
		else if (strncmp(word, "status:", 7) == 0)
			snprintf(b->status, sizeof(b->status), "%s", word + 7);
		else if (len < sizeof(b->search) - 1)
			len += (size_t)snprintf(b->search + len, sizeof(b->search) - len, "%s%s",
						len ? " " : "", word);
	}
	snprintf(b->typed, sizeof(b->typed), "%s", text);
	return 0;
}

static int search(struct screen *s, const char *text)
{
	struct subs *b = s->priv;

	parse_filter(b, text);
	b->sel = 0;
	/* A list that does not exist is an error, as a status that does not is.
	 * Checked by id alone: the search runs at each keystroke, and listing
	 * the lists counts their members. */
	if (b->list[0] != '\0' &&
	    store_list_check(ui_store(s->ui), b->list, NULL) == STORE_ENOTFOUND) {
		rows_clear(b);
		b->more_above = b->more_below = false;
		ui_error(s->ui, "there is no list \"%s\"; the Lists screen shows them", b->list);
		b->list[0] = '\0'; /* nor is it import's list (i) */
		return UI_REDRAW_ALL;
	}
	return page_after(s, 0, 0) < 0 ? UI_REDRAW_ALL : UI_REDRAW_BODY;
}

static int open_record(struct screen *s)
{
	struct subs *b = s->priv;

	if (b->n == 0)
		return UI_REDRAW_NONE;
	target.subscriber = b->rows[b->sel].id;
	ui_push(s->ui, &screen_member_ops);
	return UI_REDRAW_ALL;
}

static int move(struct screen *s, enum ui_action a)
{
	struct subs *b = s->priv;
	int64_t first = b->n ? b->rows[0].id : 0, last = b->n ? b->rows[b->n - 1].id : 0;
	int fpart = b->n ? b->rows[0].part : 0, lpart = b->n ? b->rows[b->n - 1].part : 0;

	switch (a) {
	case UI_DOWN:
		if (b->sel + 1 < b->n) {
			b->sel++;
		} else if (b->more_below && page_after(s, last, lpart) >= 0) {
			b->sel = 0;
		}
		break;
	case UI_UP:
		if (b->sel > 0) {
			b->sel--;
		} else if (b->more_above && page_before(s, first, fpart) >= 0) {
			b->sel = b->n ? b->n - 1 : 0;
		}
		break;
	case UI_PGDN:
		if (b->more_below)
			page_after(s, last, lpart);
		else
			b->sel = b->n ? b->n - 1 : 0;
		break;
	case UI_PGUP:
		if (b->more_above)
			page_before(s, first, fpart);
		else
			b->sel = 0;
		break;
	case UI_HOME:
		page_after(s, 0, 0);
		b->sel = 0;
		break;
	case UI_END:
		page_before(s, 0, 0);
		b->sel = b->n ? b->n - 1 : 0;
		break;
	default:
		return UI_REDRAW_NONE;
	}
	if (b->sel >= b->n)
		b->sel = b->n ? b->n - 1 : 0;
	return UI_REDRAW_ALL;
}

static int subs_handle(struct screen *s, enum ui_action a)
{
	struct subs *b = s->priv;

	switch (a) {
	case UI_SEARCH:
		snprintf(b->saved, sizeof(b->saved), "%s", b->typed);
		ui_input(s->ui, ASK_SEARCH, UI_INPUT_NOTIFY, b->typed,
			 store_can(ui_store(s->ui), STORE_PERM_PII)
			     ? "Search address or name (list:ID status:S): "
			     : "Search name (list:ID status:S): ");
		return UI_REDRAW_ALL;
	case UI_INPUT_CHANGED:
		return search(s, ui_input_text(s->ui)) | UI_REDRAW_STATUS;
	case UI_INPUT_DONE:
		search(s, ui_input_text(s->ui));
		return UI_REDRAW_ALL;
	case UI_INPUT_CANCEL:
		search(s, b->saved);
		return UI_REDRAW_ALL;
	case UI_ENTER:
		return open_record(s);
	case UI_IMPORT:
		snprintf(target.list, sizeof(target.list), "%s", b->list);
		ui_push(s->ui, &screen_import_ops);
		return UI_REDRAW_ALL;
	default:
		return move(s, a);
	}
}

static void day(time_t t, char out[11])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/*
 * Column layout: the address takes what the others leave, at most 40, and
 * the name 20; on a wider terminal the two share the rest, each up to the
 * widest on the page.
 */
struct cols {
	int email, name, status, added, x_name, x_status, x_added;
};

static void layout(const struct subs *b, const struct grid *g, struct cols *c)
{
	int want_email = 0, want_name = 0, spare, more;
	size_t i;

	for (i = 0; i < b->n; i++) {
		if (grid_width(b->rows[i].email) > want_email)
			want_email = grid_width(b->rows[i].email);
		if (grid_width(b->rows[i].name) > want_name)
			want_name = grid_width(b->rows[i].name);
	}
	c->name = 20;
	c->status = 12;
	c->added = 10;
	c->email = g->w - 1 - 2 - (c->name + 2) - (c->status + 2) - (c->added + 2);
	if (c->email > 40)
		c->email = 40;
	if (c->email < 12)
		c->email = 12;
	spare = g->w - 1 - 2 - (c->email + 2) - (c->name + 2) - (c->status + 2) - (c->added + 2);
	while (spare > 0 && (c->email < want_email || c->name < want_name)) {
		more = c->email < want_email && c->name < want_name ? (spare + 1) / 2 : spare;
		if (c->email < want_email) {
			more = more < want_email - c->email ? more : want_email - c->email;
			c->email += more;
			spare -= more;
		}
		more = spare < want_name - c->name ? spare : want_name - c->name;
		if (more > 0) {
			c->name += more;
			spare -= more;
		}
	}
	c->x_name = 2 + c->email + 2;
	c->x_status = c->x_name + c->name + 2;
	c->x_added = c->x_status + c->status + 2;
}

static void draw_row(struct grid *g, int y, const struct cols *c, const char *email,
		     const char *name, const char *status, const char *added, int attr)
{
	grid_put(g, y, 2, c->email, attr, email);
	grid_put(g, y, c->x_name, c->name, attr, name);
	grid_put(g, y, c->x_status, c->status, attr, status);
	grid_put(g, y, c->x_added, c->added, attr, added);
}

static void subs_render(struct screen *s, struct grid *g)
{
	struct subs *b = s->priv;
	struct cols c;
	char added[11];
	int y, page = page_rows(g->h);
	size_t i;

	/* The terminal was resized: the page is read again to fill it. */
	if (page != b->page)
		subs_load(s);
	layout(b, g, &c);
	grid_put(g, 1, 2, -1, UI_A_BOLD, "Subscribers, by address");
	if (b->typed[0] != '\0')
		grid_printf(g, 1, 28, UI_A_DIM, "filter: %s", b->typed);
	draw_row(g, 3, &c, "Address", "Name", "Status", "Added", UI_A_BOLD | UI_A_UNDERLINE);
	if (b->n == 0)
		grid_put(g, 4, 2, -1, UI_A_DIM,
			 b->typed[0] ? "No subscriber matches."
				     : "No subscribers yet: i imports a CSV file.");
	for (i = 0, y = 4; i < b->n && y < 4 + page; i++, y++) {
		day(b->rows[i].created, added);
		/* A name match of a search comes after the address matches. */
		if (i > 0 && b->rows[i].part != b->rows[i - 1].part)
			grid_attr(g, y, 2, -1, UI_A_UNDERLINE);
		draw_row(g, y, &c, b->rows[i].email, b->rows[i].name, b->rows[i].status, added,
			 UI_A_NORMAL);
		if (i == b->sel) {
			grid_put(g, y, 0, 1, UI_A_REVERSE, ">");
			grid_attr(g, y, 0, -1, UI_A_REVERSE);
		}
	}
	grid_printf(g, g->h - 1, 2, UI_A_DIM, "%s%s%s", b->more_above ? "PgUp: more above  " : "",
		    b->more_below ? "PgDn: more below  " : "",
		    b->search[0] ? "search: address prefix, then name prefix" : "");
}

static const struct screen_verb subs_verbs[] = {
    UI_TABLE_VERBS,
    {UI_ENTER, "open the record", STORE_PERM_SUBSCRIBERS_READ, "hato subscriber show", false},
    {UI_SEARCH, "search or filter", STORE_PERM_NONE, NULL, false},
    {UI_IMPORT, "import CSV", STORE_PERM_SUBSCRIBERS_WRITE, "hato import", true},
    {UI_INPUT_CHANGED, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_subscribers_ops = {
    .title = "Subscribers",
    .perm = STORE_PERM_SUBSCRIBERS_READ,
    .menu_help = "browse and search subscribers; import a CSV file",
    .verbs = subs_verbs,
    .open = subs_open,
    .load = subs_load,
    .handle = subs_handle,
    .render = subs_render,
    .close = subs_close,
};
