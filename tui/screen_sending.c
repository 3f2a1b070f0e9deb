/*
 * tui/screen_sending.c: the sending set-up, for admins, on one scrolling
 * page: the SMTP settings (secrets masked by the store), the sender
 * identity, the DKIM keys with the DNS record to publish for each, the
 * warm-up schedule and where it stands today, and the per-domain pacing.
 * v checks a domain's DNS (SPF, DKIM, DMARC, alignment, MX) against a DNS
 * server the user names (empty: the system's) and shows the report here;
 * e opens the settings to change a value.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send/send.h"
#include "tui/ui.h"

enum { ASK_DOMAIN = 1, ASK_DNS };

struct line {
	char *text;
	int attr;
};

struct sending {
	struct line *l;
	size_t n;
	int top;
	int page; /* the rows the last render showed */
	char domain[256];
	char *report; /* the last domain check, formatted; or NULL */
	bool report_ok;
};

static int sending_open(struct screen *s)
{
	s->priv = calloc(1, sizeof(struct sending));
	return s->priv != NULL ? 0 : -1;
}

static void lines_free(struct sending *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->l[i].text);
	free(p->l);
	p->l = NULL;
	p->n = 0;
}

static void sending_close(struct screen *s)
{
	struct sending *p = s->priv;

	lines_free(p);
	free(p->report);
	free(p);
	s->priv = NULL;
}

static void add(struct sending *p, int attr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(struct sending *p, int attr, const char *fmt, ...)
{
	struct line *l = realloc(p->l, (p->n + 1) * sizeof(*l));
	char buf[2048];
	va_list ap;

	if (l == NULL)
		return;
	p->l = l;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	l[p->n].text = strdup(buf);
	l[p->n].attr = attr;
	if (l[p->n].text != NULL)
		p->n++;
}

struct want {
	struct sending *p;
	const char *prefix; /* keys starting with it */
	int found;
};

static int add_setting(const char *key, const char *value, bool secret, void *arg)
{
	struct want *w = arg;

	(void)secret; /* the store masks secrets already */
	if (strncmp(key, w->prefix, strlen(w->prefix)) != 0)
		return 0;
	add(w->p, UI_A_NORMAL, "    %-24s %s", key, value);
	w->found++;
	return 0;
}

static void section(struct screen *s, const char *title, const char *prefix, const char *none)
{
	struct sending *p = s->priv;
	struct want w = {p, prefix, 0};

	add(p, UI_A_BOLD, "%s", title);
	store_config_list(ui_store(s->ui), add_setting, &w, NULL);
	if (w.found == 0)
		add(p, UI_A_DIM, "    %s", none);
	add(p, UI_A_NORMAL, "%s", "");
}

static int add_key(const struct store_dkim_key *k, void *arg)
{
	struct sending *p = arg;
	char *name = NULL, *value = NULL, *err = NULL, when[16];
	struct tm tm;

	gmtime_r(&k->created, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d", &tm);
	add(p, UI_A_NORMAL, "    %s  selector %s  %s  made %s", k->domain, k->selector, k->alg,
	    when);
	if (send_dkim_dns_record(k->selector, k->domain, k->public_txt, &name, &value, &err) ==
	    SEND_OK) {
		add(p, UI_A_DIM, "      publish: %s IN TXT", name);
		add(p, UI_A_DIM, "      ( %s )", value);
	} else {
		add(p, UI_A_ERROR, "      %s", err ? err : "cannot format the record");
	}
	free(name);
	free(value);
	free(err);
	return 0;
}

static void warmup(struct screen *s)
{
	struct sending *p = s->priv;
	struct send_warmup w;

	section(s, "Warm-up", "warmup.", "not set: no daily cap (set warmup.start to ramp up)");
	send_warmup_status(ui_store(s->ui), time(NULL), &w);
	p->n--; /* under the settings, where it stands */
	free(p->l[p->n].text);
	if (w.active)
		add(p, UI_A_OK, "    today: day %d of the %s, cap %ld, %lld sent; tomorrow %ld",
		    w.day, w.plan, w.cap, (long long)w.sent_today, w.next_cap);
	else
		add(p, UI_A_DIM, "    today: no cap");
	add(p, UI_A_NORMAL, "%s", "");
}

static void report_lines(struct sending *p)
{
	const char *q = p->report, *e;
	char line[1024];

	add(p, UI_A_BOLD, "Domain check of %s: %s", p->domain,
	    p->report_ok ? "fit to send" : "fix the items below before sending");
	while (q != NULL && *q != '\0') {
		e = strchr(q, '\n');
		snprintf(line, sizeof(line), "%.*s", (int)(e ? e - q : (long)strlen(q)), q);
		add(p,
		    strncmp(line, "FAIL", 4) == 0   ? UI_A_ERROR
		    : strncmp(line, "PASS", 4) == 0 ? UI_A_OK
						    : UI_A_NORMAL,
		    "    %s", line);
		q = e ? e + 1 : NULL;
	}
	add(p, UI_A_NORMAL, "%s", "");
}

static int sending_load(struct screen *s)
{
	struct sending *p = s->priv;
	struct want pacing;
	char *from = NULL, *addr = NULL, *name = NULL;

	lines_free(p);
	if (p->domain[0] == '\0' &&
	    store_config_get(ui_store(s->ui), "sender.from", &from, NULL) == STORE_OK &&
	    send_parse_from(from, &name, &addr, NULL) == SEND_OK && strchr(addr, '@') != NULL)
		snprintf(p->domain, sizeof(p->domain), "%s", strchr(addr, '@') + 1);
	free(from);
	free(addr);
	free(name);
	if (p->report != NULL)
		report_lines(p);
	section(s, "SMTP", "smtp.", "not set: smtp.url is needed to send");
	section(s, "Sender identity", "sender.", "not set: sender.from is needed to send");
	section(s, "Unsubscribe and bounces", "unsubscribe.", "not set: unsubscribe.url is needed");
	add(p, UI_A_BOLD, "DKIM keys and the DNS records to publish");
	if (store_dkim_list(ui_store(s->ui), NULL, false, add_key, p, NULL) != STORE_OK ||
	    p->l[p->n - 1].attr == UI_A_BOLD)
		add(p, UI_A_DIM, "    none: hato dkim keygen DOMAIN SELECTOR makes one");
	add(p, UI_A_NORMAL, "%s", "");
	warmup(s);
	add(p, UI_A_BOLD, "Pacing per recipient domain (pace.DOMAIN = PER_MINUTE/PER_CONNECTION)");
	pacing.p = p;
	pacing.prefix = "pace.";
	pacing.found = 0;
	store_config_list(ui_store(s->ui), add_setting, &pacing, NULL);
	pacing.prefix = "send.";
	store_config_list(ui_store(s->ui), add_setting, &pacing, NULL);
	if (pacing.found == 0)
		add(p, UI_A_DIM, "    the defaults (Japanese carriers are paced slower)");
	return 0;
}

static int check_domain(struct screen *s, const char *dns)
{
	struct sending *p = s->priv;
	struct send_domain_report *rep = NULL;
	char *err = NULL;
	enum send_status rc;

	ui_busy(s->ui, "checking the DNS of %s...", p->domain);
	rc = send_domain_check_held(ui_store(s->ui), p->domain, dns[0] ? dns : NULL, NULL, &rep,
				    &err);
	free(p->report);
	p->report = NULL;
	if (rc == SEND_OK)
		rc = send_domain_report_format(rep, &p->report, &err);
	if (rc == SEND_OK) {
		p->report_ok = send_domain_report_ok(rep);
		ui_info(s->ui, "checked %s: %s", p->domain,
			p->report_ok ? "fit to send" : "some items fail; see the fixes");
	} else {
		ui_error(s->ui, "%s", err ? err : send_strstatus(rc));
	}
	free(err);
	send_domain_report_free(&rep);
	sending_load(s);
	p->top = 0;
	return UI_REDRAW_ALL;
}

static int sending_handle(struct screen *s, enum ui_action a)
{
	struct sending *p = s->priv;
	int page = p->page > 1 ? p->page - 1 : 1;

	switch (a) {
	case UI_VERIFY:
		ui_input(s->ui, ASK_DOMAIN, 0, p->domain, "Check the DNS of the domain: ");
		return UI_REDRAW_ALL;
	case UI_INPUT_DONE:
		if (ui_input_tag(s->ui) == ASK_DOMAIN) {
			if (send_name_check("domain", ui_input_text(s->ui), NULL) != SEND_OK) {
				ui_error(s->ui, "not a domain name: %s", ui_input_text(s->ui));
				return UI_REDRAW_ALL;
			}
			snprintf(p->domain, sizeof(p->domain), "%s", ui_input_text(s->ui));
			ui_input(s->ui, ASK_DNS, 0, NULL,
				 "DNS server, HOST or HOST:PORT (empty: the system's): ");
			return UI_REDRAW_ALL;
		}
		return check_domain(s, ui_input_text(s->ui));
	case UI_INPUT_CANCEL:
		return UI_REDRAW_ALL;
	case UI_EDIT:
		ui_push(s->ui, &screen_settings_ops);
		return UI_REDRAW_ALL;
	case UI_UP:
	case UI_DOWN:
	case UI_PGUP:
	case UI_PGDN:
		p->top += a == UI_UP ? -1 : a == UI_DOWN ? 1 : a == UI_PGUP ? -page : page;
		if (p->top > (int)p->n - 1)
			p->top = (int)p->n - 1;
		if (p->top < 0)
			p->top = 0;
		return UI_REDRAW_BODY;
	case UI_HOME:
		p->top = 0;
		return UI_REDRAW_BODY;
	default:
		return UI_REDRAW_NONE;
	}
}

/* The rows line i takes: long lines (a DKIM record, a fix) wrap under their own indent. */
static int line_rows(const struct sending *p, const struct grid *g, size_t i)
{
	const char *text = p->l[i].text;
	int indent = (int)strspn(text, " ");

	return text[indent] == '\0' ? 1 : grid_wrap_rows(g, 2 + indent, text + indent);
}

static void sending_render(struct screen *s, struct grid *g)
{
	struct sending *p = s->priv;
	const char *text;
	int row, indent, rows, last = g->h - 1; /* the last row says what more there is */
	size_t i;

	p->page = last - 1;
	/* Never past the end, also once the terminal grew: the last page is full. */
	for (i = p->n, rows = 0; i > 0 && rows + line_rows(p, g, i - 1) <= p->page; i--)
		rows += line_rows(p, g, i - 1);
	if (p->top > (int)i)
		p->top = (int)i;
	for (i = (size_t)p->top, rows = 0; i < p->n; i++)
		rows += line_rows(p, g, i);
	for (row = 1, i = (size_t)p->top; i < p->n && row < last; i++) {
		text = p->l[i].text;
		indent = (int)strspn(text, " ");
		if (text[indent] == '\0')
			row++;
		else
			row +=
			    grid_wrap(g, row, 2 + indent, last - row, p->l[i].attr, text + indent);
	}
	grid_printf(g, last, 2, UI_A_DIM, "%s%s", p->top > 0 ? "PgUp: more above  " : "",
		    rows > p->page ? "PgDn: more below" : "");
}

static const struct screen_verb sending_verbs[] = {
    {UI_UP, NULL, STORE_PERM_NONE, NULL, false},
    {UI_DOWN, NULL, STORE_PERM_NONE, NULL, false},
    {UI_PGUP, NULL, STORE_PERM_NONE, NULL, false},
    {UI_PGDN, NULL, STORE_PERM_NONE, NULL, false},
    {UI_HOME, NULL, STORE_PERM_NONE, NULL, false},
    {UI_VERIFY, "check a domain's DNS", STORE_PERM_REPORTS, "hato domain check", false},
    {UI_EDIT, "change a setting", STORE_PERM_SETTINGS, "hato config set", false},
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_sending_ops = {
    .title = "Sending set-up",
    .perm = STORE_PERM_SETTINGS,
    .menu_help = "sender, DKIM records, domain check, warm-up, pacing",
    .verbs = sending_verbs,
    .open = sending_open,
    .load = sending_load,
    .handle = sending_handle,
    .render = sending_render,
    .close = sending_close,
};
