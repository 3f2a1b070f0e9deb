/*
 * tui/screen_member.c: the member record: everything held about one person
 * (store_subscriber_get): the address (masked without the pii permission),
 * name, status, attributes, each list with its consent record, and the send
 * history, each line wrapped to the screen's width; without pii the store
 * masks the addresses written in them and hides consent IPs. u unsubscribes from every list, b
 * suppresses the address, d erases the person; each asks y/n first, and the framework refuses a
 * role that lacks the permission, saying which.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/ui.h"

enum { ASK_UNSUBSCRIBE = 1, ASK_SUPPRESS, ASK_ERASE };

struct line {
	char *text;
	int attr;
};

struct member {
	int64_t id;
	struct store_subscriber *p;
	char *shown; /* the address as this user may see it */
	struct line *lines;
	size_t n, cap, top;
	int height;
};

static int member_open(struct screen *s)
{
	struct member *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return -1;
	m->id = ui_marketer_target()->subscriber;
	m->height = 18;
	s->priv = m;
	return 0;
}

static void lines_clear(struct member *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->lines[i].text);
	m->n = 0;
}

static void member_close(struct screen *s)
{
	struct member *m = s->priv;

	lines_clear(m);
	free(m->lines);
	store_subscriber_free(&m->p);
	free(m->shown);
	free(m);
	s->priv = NULL;
}

static void add(struct member *m, int attr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(struct member *m, int attr, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;
	struct line *l;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 32;
		l = realloc(m->lines, cap * sizeof(*l));
		if (l == NULL)
			return;
		m->lines = l;
		m->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (text == NULL)
		return;
	m->lines[m->n].text = text;
	m->lines[m->n].attr = attr;
	m->n++;
}

static void stamp(time_t t, char out[21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *status_of(const struct store_subscriber *p)
{
	if (p->suppressed && strcmp(p->status, "active") == 0)
		return "suppressed";
	return p->status;
}

static void build(struct screen *s)
{
	struct member *m = s->priv;
	const struct store_subscriber *p = m->p;
	char t1[21], t2[21], why[400];
	size_t i;

	lines_clear(m);
	add(m, UI_A_NORMAL, "Address   %s", m->shown);
	add(m, UI_A_NORMAL, "Name      %s", p->name);
	add(m, p->suppressed ? UI_A_ERROR : UI_A_NORMAL, "Status    %s%s", status_of(p),
	    p->suppressed && strcmp(p->status, "active") != 0 ? " (and suppressed)" : "");
	if (p->suppressed) {
		store_subscriber_why_suppressed(p, why, sizeof(why));
		add(m, UI_A_DIM, "          on the suppression list %s", why);
	}
	stamp(p->created, t1);
	stamp(p->updated, t2);
	add(m, UI_A_NORMAL, "Added     %s   updated %s", t1, t2);
	add(m, UI_A_NORMAL, "%s", "");
	add(m, UI_A_BOLD, "Attributes%s", p->nattrs ? "" : "   (none)");
	for (i = 0; i < p->nattrs; i++)
		add(m, UI_A_NORMAL, "  %s = %s", p->attrs[i].key, p->attrs[i].value);
	add(m, UI_A_NORMAL, "%s", "");
	add(m, UI_A_BOLD, "Lists and consent%s", p->nlists ? "" : "   (none)");
	for (i = 0; i < p->nlists; i++) {
		const struct store_membership *l = &p->lists[i];

		/* Active since the consent; anything else since the status changed. */
		stamp(l->updated, t1);
		add(m, UI_A_NORMAL, "  %-16s %-13s since %s", l->list, l->status,
		    strcmp(l->status, "active") == 0 ? l->consent_at : t1);
		add(m, UI_A_DIM, "    consent: %s, by %s%s%s%s%s%s%s%s%s%s%s", l->consent_source,
		    l->consent_method, l->consent_ip[0] ? ", from " : "", l->consent_ip,
		    l->consent_text[0] ? ", text \"" : "", l->consent_text,
		    l->consent_text[0] ? "\"" : "", l->consent_version[0] ? ", version \"" : "",
		    l->consent_version, l->consent_version[0] ? "\"" : "",
		    l->consent_confirmed[0] ? ", confirmed " : "", l->consent_confirmed);
	}
	add(m, UI_A_NORMAL, "%s", "");
	add(m, UI_A_BOLD, "History%s", p->nevents ? "" : "   (none)");
	for (i = 0; i < p->nevents; i++)
		add(m, UI_A_NORMAL, "  %s  %-13s %-12s %s", p->events[i].time, p->events[i].event,
		    p->events[i].list, p->events[i].details);
}

static int member_load(struct screen *s)
{
	struct member *m = s->priv;
	enum store_status rc;
	char *err = NULL;

	store_subscriber_free(&m->p);
	free(m->shown);
	m->shown = NULL;
	/* Nothing of the person stays on screen when they can no longer be read. */
	lines_clear(m);
	rc = store_subscriber_get_id(ui_store(s->ui), m->id, &m->p, &err);
	if (rc != STORE_OK) {
		ui_error_store(s->ui, rc, err);
		return -1;
	}
	m->shown = store_mask_address(ui_store(s->ui), m->p->email);
	if (m->shown == NULL) {
		ui_error(s->ui, "out of memory");
		return -1;
	}
	build(s);
	return 0;
}

static int act(struct screen *s, int tag)
{
	struct member *m = s->priv;
	struct store *st = ui_store(s->ui);
	enum store_status rc;
	char *err = NULL, until[32];
	bool already; /* never: only an active person is asked about */
	time_t held = 0;

	switch (tag) {
	case ASK_UNSUBSCRIBE:
		rc = store_subscriber_unsubscribe(st, m->p->email, NULL, &already, &err);
		break;
	case ASK_SUPPRESS:
		rc = store_suppress_add(st, m->p->email, "manual (terminal UI)", &err);
		break;
	case ASK_ERASE:
		rc = store_subscriber_erase(st, m->p->email, &held, &err);
		break;
	default:
		return UI_REDRAW_NONE;
	}
	if (rc != STORE_OK) {
		/* It may have failed because of a change elsewhere (the person erased):
		 * show the record as it is now, or close it when it is gone. */
		if (member_load(s) != 0)
			ui_pop(s->ui);
		ui_error_store(s->ui, rc, err);
		return UI_REDRAW_ALL;
	}
	free(err);
	if (tag == ASK_ERASE && held != 0) {
		ui_campaign_time(held, until, sizeof(until));
		ui_info(s->ui,
			"erased %s; a keyed hash stays, and the consent records until %s (a "
			"month after the last mail, as the law asks)",
			m->shown, until);
		ui_pop(s->ui);
		return UI_REDRAW_ALL;
	}
	if (tag == ASK_ERASE) {
		ui_info(s->ui, "erased %s; only a keyed hash stays, on the suppression list",
			m->shown);
		ui_pop(s->ui);
		return UI_REDRAW_ALL;
	}
	member_load(s);
	ui_info(s->ui,
		tag == ASK_UNSUBSCRIBE ? "unsubscribed %s from every list"
				       : "suppressed %s: it is never mailed again",
		m->shown);
	return UI_REDRAW_ALL;
}

static int member_handle(struct screen *s, enum ui_action a)
{
	struct member *m = s->priv;
	size_t page = m->height > 1 ? (size_t)m->height : 1;
	size_t last = m->n > page ? m->n - page : 0;
	char who[200]; /* the address in a question: a long one is cut */

	if (m->p == NULL) /* gone from the store: the screen closes */
		return UI_REDRAW_NONE;
	grid_clip(m->shown, 40, who, sizeof(who));

	switch (a) {
	case UI_UNLOCK:
		if (strcmp(m->p->status, "active") != 0) {
			ui_error(s->ui, "%s is %s already", m->shown, m->p->status);
			return UI_REDRAW_STATUS;
		}
		ui_input(s->ui, ASK_UNSUBSCRIBE, UI_INPUT_YESNO, NULL,
			 "Unsubscribe %s from every list? (y/n) ", who);
		return UI_REDRAW_ALL;
	case UI_SUPPRESS:
		if (m->p->suppressed) {
			ui_error(s->ui, "%s is suppressed already", m->shown);
			return UI_REDRAW_STATUS;
		}
		ui_input(s->ui, ASK_SUPPRESS, UI_INPUT_YESNO, NULL,
			 "Suppress %s? It is never mailed or imported again. (y/n) ", who);
		return UI_REDRAW_ALL;
	case UI_DELETE:
		ui_input(s->ui, ASK_ERASE, UI_INPUT_YESNO, NULL,
			 "Erase %s and everything held about them? This cannot be undone. (y/n) ",
			 who);
		return UI_REDRAW_ALL;
	case UI_INPUT_DONE:
		return act(s, ui_input_tag(s->ui));
	case UI_INPUT_CANCEL:
		ui_info(s->ui, "cancelled; nothing changed");
		return UI_REDRAW_ALL;
	case UI_UP:
		m->top = m->top > 0 ? m->top - 1 : 0;
		return UI_REDRAW_BODY;
	case UI_DOWN:
		m->top = m->top < last ? m->top + 1 : last;
		return UI_REDRAW_BODY;
	case UI_PGUP:
		m->top = m->top > page ? m->top - page : 0;
		return UI_REDRAW_BODY;
	case UI_PGDN:
		m->top = m->top + page < last ? m->top + page : last;
		return UI_REDRAW_BODY;
	case UI_HOME:
		m->top = 0;
		return UI_REDRAW_BODY;
	case UI_END:
		m->top = last;
		return UI_REDRAW_BODY;
	default:
		return UI_REDRAW_NONE;
	}
}

/*
 * Draws line s from row y, wrapped at the grid's width: the rows after the
 * first start under its value (past its label's spaces), and a row breaks
 * at a space unless that leaves most of it empty (Japanese has none).
 * Returns the rows used, at least one.
 */
static int put_wrapped(struct grid *g, int y, int attr, const char *s)
{
	const char *p = s, *v = strstr(s, "  ");
	int room = g->w - 3, indent = 0, rows = 0, w;
	size_t n, soft;
	char *piece;

	if (v != NULL && v - s < 24) {
		while (*v == ' ')
			v++;
		piece = strndup(s, (size_t)(v - s));
		indent = piece != NULL ? grid_width(piece) : 0;
		free(piece);
	}
	if (indent > room / 2)
		indent = 0;
	do {
		w = rows == 0 ? room : room - indent;
		if (w < 1)
			break;
		soft = grid_fit(p, w, true);
		n = grid_fit(p, w, false);
		piece = strndup(p, soft);
		if (piece != NULL && soft != n && grid_width(piece) * 3 >= w * 2)
			n = soft;
		free(piece);
		if (n == 0)
			break; /* a character wider than the room */
		piece = strndup(p, n);
		if (piece != NULL)
			grid_put(g, y + rows, rows == 0 ? 2 : 2 + indent, w, attr, piece);
		free(piece);
		rows++;
		for (p += n; rows > 0 && *p == ' ';)
			p++;
	} while (*p != '\0' && y + rows < g->h);
	return rows > 0 ? rows : 1;
}

static void member_render(struct screen *s, struct grid *g)
{
	struct member *m = s->priv;
	int y;
	size_t i;

	m->height = g->h - 3;
	grid_printf(g, 1, 2, UI_A_BOLD, "Member record #%lld", (long long)m->id);
	/* A long value (a name, an attribute, a consent text) wraps: all of it shows. */
	for (i = m->top, y = 3; i < m->n && y < g->h; i++)
		y += put_wrapped(g, y, m->lines[i].attr, m->lines[i].text);
}

static const struct screen_verb member_verbs[] = {
    UI_TABLE_VERBS,
    {UI_UNLOCK, "unsubscribe from all", STORE_PERM_SUBSCRIBERS_WRITE, "hato subscriber unsubscribe",
     true},
    {UI_SUPPRESS, "suppress", STORE_PERM_SUBSCRIBERS_WRITE, "hato suppress add", true},
    {UI_DELETE, "erase", STORE_PERM_SUBSCRIBERS_ERASE, "hato subscriber erase", true},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_member_ops = {
    .title = "Member record",
    .perm = STORE_PERM_SUBSCRIBERS_READ,
    .verbs = member_verbs,
    .open = member_open,
    .load = member_load,
    .handle = member_handle,
    .render = member_render,
    .close = member_close,
};
