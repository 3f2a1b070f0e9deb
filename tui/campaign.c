/*
 * tui/campaign.c: what the campaign screens share: the campaign selected for
 * the next screen, the pre-send checks as lines, the preview of the message
 * one recipient would get (composed by send/, then decoded for the screen),
 * the sparkline and the time format.
 */
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "send/send.h"
#include "templates/templates.h"
#include "tui/ui.h"

static char selected[128];

void ui_campaign_select(const char *name)
{
	snprintf(selected, sizeof(selected), "%s", name != NULL ? name : "");
}

const char *ui_campaign_selected(void)
{
	return selected[0] != '\0' ? selected : NULL;
}

void ui_campaign_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (t == 0) {
		snprintf(buf, size, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm);
}

void ui_sparkline(struct grid *g, int row, int col, int width, const int64_t *v, size_t n)
{
	static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	int64_t max = 0;
	size_t i, first = n > (size_t)width ? n - (size_t)width : 0;
	int level;

	for (i = first; i < n; i++)
		if (v[i] > max)
			max = v[i];
	for (i = first; i < n; i++, col++) {
		if (v[i] <= 0 || max == 0) {
			grid_put(g, row, col, 1, UI_A_DIM, "▁");
			continue;
		}
		level = (int)((v[i] * 8 + max - 1) / max) - 1; /* 1..max -> 0..7, rounding up */
		if (level < 0)
			level = 0;
		grid_put(g, row, col, 1, UI_A_BOLD, bars[level > 7 ? 7 : level]);
	}
}

/* ---- Checks ------------------------------------------------------------- */

static int add_line(struct ui_check *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int add_line(struct ui_check *k, const char *fmt, ...)
{
	char buf[1024], **l;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	l = realloc(k->lines, (k->n + 1) * sizeof(*l));
	if (l == NULL)
		return -1;
	k->lines = l;
	k->lines[k->n] = strdup(buf);
	if (k->lines[k->n] == NULL)
		return -1;
	k->n++;
	return 0;
}

void ui_check_free(struct ui_check *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->lines[i]);
	free(k->lines);
	memset(k, 0, sizeof(*k));
}

int ui_check_run(struct store *st, const struct store_campaign *c, struct ui_check *out,
		 char **errstr)
{
	struct send_campaign_checks k;
	const struct tpl_finding *x;
	char line[1200];
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->recipients = -1;
	if (send_check_campaign(st, c, &k, errstr) != SEND_OK)
		return -1;
	for (i = 0; (x = tpl_findings_get(k.findings, i)) != NULL && rc == 0; i++) {
		send_finding_format(x, line, sizeof(line));
		rc = add_line(out, "%s", line);
	}
	if (rc == 0 && k.audience_code != NULL)
		rc = add_line(out, "%-7s %-14s %-16s %s", "error", "audience", k.audience_code,
			      k.audience_error);
	out->errors = k.errors;
	out->warnings = k.warnings;
	out->recipients = k.recipients;
	send_campaign_checks_clear(&k);
	if (rc == 0 && out->n == 0)
		rc = add_line(out, "ok      the checks found nothing to fix");
	if (rc != 0) {
		ui_check_free(out);
		if (errstr != NULL)
			*errstr = strdup("out of memory");
		return -1;
	}
	return 0;
}

/* ---- Preview ------------------------------------------------------------ */

void ui_preview_free(struct ui_preview *p)
{
	size_t i;

	free(p->from);
	free(p->to);
	free(p->subject);
	free(p->note);
	for (i = 0; i < p->n; i++)
		free(p->lines[i]);
	free(p->lines);
	memset(p, 0, sizeof(*p));
}

/* in[0..n) from charset into UTF-8 appended to b (as is when iconv can't). */
static void append_charset(struct tpl_buf *b, const char *charset, const char *in, size_t n)
{
	char out[4096], *ip = (char *)in, *op;
	size_t il = n, ol;
	iconv_t cd;

	if (charset == NULL || strcasecmp(charset, "utf-8") == 0 ||
	    strcasecmp(charset, "us-ascii") == 0) {
		tpl_buf_append(b, in, n);
		return;
	}
	cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1) {
		tpl_buf_append(b, in, n);
		return;
	}
	while (il > 0) {
		op = out;
		ol = sizeof(out);
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 && op == out) {
			tpl_buf_appendc(b, '?');
			ip++;
			il--;
		}
		tpl_buf_append(b, out, (size_t)(op - out));
	}
	op = out;
	ol = sizeof(out);
	iconv(cd, NULL, NULL, &op, &ol);
	tpl_buf_append(b, out, (size_t)(op - out));
	iconv_close(cd);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Quoted-printable (header: '_' is a space) into b. */
static void qp_decode(struct tpl_buf *b, const char *s, size_t n, bool header)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '=' && i + 1 < n && s[i + 1] == '\n') {
			i++;
		} else if (s[i] == '=' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
			   hexval(s[i + 2]) >= 0) {
			tpl_buf_appendc(b, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
			i += 2;
		} else if (header && s[i] == '_') {
			tpl_buf_appendc(b, ' ');
		} else {
			tpl_buf_appendc(b, s[i]);
		}
	}
}

static void b64_decode(struct tpl_buf *b, const char *s, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned acc = 0;
	int bits = 0;
	const char *p;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '=')
			break;
		p = s[i] != '\0' ? strchr(a, s[i]) : NULL;
		if (p == NULL)
			continue;
		acc = (acc << 6) | (unsigned)(p - a);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			tpl_buf_appendc(b, (char)((acc >> bits) & 0xff));
		}
	}
}

/* Decodes RFC 2047 encoded words of an unfolded header value. Allocated. */
static char *header_decode(const char *v)
{
	struct tpl_buf b = {0}, raw = {0};
	const char *p = v, *q, *e, *text;
	char charset[32];
	bool last_word = false;

	while (*p != '\0') {
		q = strstr(p, "=?");
		e = q ? strchr(q + 2, '?') : NULL;
		if (q == NULL || e == NULL || e - q - 2 >= (long)sizeof(charset) || e[1] == '\0' ||
		    e[2] != '?' || (text = e + 3, strstr(text, "?=") == NULL)) {
			tpl_buf_appends(&b, p);
			break;
		}
		/* Blanks between two encoded words are dropped (RFC 2047 6.2). */
		if (!(last_word && strspn(p, " \t") == (size_t)(q - p)))
			tpl_buf_append(&b, p, (size_t)(q - p));
		memcpy(charset, q + 2, (size_t)(e - q - 2));
		charset[e - q - 2] = '\0';
		tpl_buf_reset(&raw);
		if (e[1] == 'B' || e[1] == 'b')
			b64_decode(&raw, text, (size_t)(strstr(text, "?=") - text));
		else
			qp_decode(&raw, text, (size_t)(strstr(text, "?=") - text), true);
		append_charset(&b, charset, raw.data ? raw.data : "", raw.len);
		p = strstr(text, "?=") + 2;
		last_word = true;
	}
	tpl_buf_free(&raw);
	return tpl_buf_steal(&b);
}

/* The value of header `name` in the unfolded header block, allocated, or NULL. */
static char *header_get(const char *hdr, const char *name)
{
	size_t n = strlen(name);
	const char *p = hdr, *end;
	char *raw, *out;

	while (*p != '\0') {
		end = strchr(p, '\n');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			p += strspn(p, " \t");
			raw = strndup(p, (size_t)(end - p));
			if (raw == NULL)
				return NULL;
			out = header_decode(raw);
			free(raw);
			return out;
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}

/*
 * Copies msg without CRs, with the folded lines of its header block joined.
 * *hdr_len is the length of the header block (up to and with its last line
 * break); the blank line that ends it follows. Allocated.
 */
static char *unfold(const char *msg, size_t len, size_t *hdr_len)
{
	struct tpl_buf b = {0};
	bool in_header = true;
	size_t i, j;

	*hdr_len = 0;
	for (i = 0; i < len; i++) {
		if (msg[i] == '\r')
			continue;
		if (in_header && msg[i] == '\n') {
			for (j = i + 1; j < len && msg[j] == '\r'; j++)
				;
			if (j < len && (msg[j] == ' ' || msg[j] == '\t'))
				continue; /* folded: the next line's blank joins it */
			tpl_buf_appendc(&b, '\n');
			if (j >= len || msg[j] == '\n') {
				in_header = false;
				*hdr_len = b.len;
			}
			continue;
		}
		tpl_buf_appendc(&b, msg[i]);
	}
	if (in_header)
		*hdr_len = b.len;
	return tpl_buf_steal(&b);
}

/* The charset parameter of a Content-Type value, into out. */
static void param_charset(const char *ct, char *out, size_t size)
{
	const char *p = ct ? strcasestr(ct, "charset=") : NULL;
	size_t n;

	snprintf(out, size, "utf-8");
	if (p == NULL)
		return;
	p += 8;
	if (*p == '"')
		p++;
	n = strcspn(p, "\";, ");
	if (n < size)
		snprintf(out, size, "%.*s", (int)n, p);
}

static int split_lines(struct ui_preview *out, const char *text)
{
	const char *p = text, *e;
	char **l;

	while (*p != '\0') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		l = realloc(out->lines, (out->n + 1) * sizeof(*l));
		if (l == NULL)
			return -1;
		out->lines = l;
		out->lines[out->n] = strndup(p, (size_t)(e - p));
		if (out->lines[out->n] == NULL)
			return -1;
		out->n++;
		p = *e ? e + 1 : e;
	}
	/* Trailing blank lines say nothing. */
	while (out->n > 0 && out->lines[out->n - 1][0] == '\0')
		free(out->lines[--out->n]);
	return 0;
}

int ui_preview_parse(const char *msg, size_t len, struct ui_preview *out)
{
	struct tpl_buf body = {0}, raw = {0};
	char *m, *hdr = NULL, *part_hdr = NULL, *ct = NULL, *cte = NULL, charset[32];
	const char *part, *start, *stop;
	size_t hl, phl;
	int rc = -1;

	m = unfold(msg, len, &hl);
	if (m == NULL)
		return -1;
	hdr = strndup(m, hl);
	if (hdr == NULL)
		goto done;
	out->from = header_get(hdr, "From");
	out->to = header_get(hdr, "To");
	out->subject = header_get(hdr, "Subject");
	start = m + hl + (m[hl] == '\n');
	/* The first text/plain part, or the body of a single-part message. */
	part = strcasestr(start, "Content-Type: text/plain");
	if (part == NULL) {
		ct = header_get(hdr, "Content-Type");
		cte = header_get(hdr, "Content-Transfer-Encoding");
	} else {
		start = strstr(part, "\n\n");
		if (start == NULL)
			goto done;
		part_hdr = unfold(part, (size_t)(start - part) + 1, &phl);
		if (part_hdr == NULL)
			goto done;
		ct = header_get(part_hdr, "Content-Type");
		cte = header_get(part_hdr, "Content-Transfer-Encoding");
		start += 2;
	}
	stop = NULL;
	if (part != NULL) {
		/* The part ends at the next boundary line (not at a "-- " signature). */
		char *top = header_get(hdr, "Content-Type"), *bnd, delim[128];
		const char *bp = top ? strcasestr(top, "boundary=") : NULL;

		if (bp != NULL) {
			bp += 9 + (bp[9] == '"');
			snprintf(delim, sizeof(delim), "\n--%.*s", (int)strcspn(bp, "\";"), bp);
			bnd = strstr(start, delim);
			stop = bnd;
		}
		free(top);
	}
	if (stop == NULL)
		stop = start + strlen(start);
	param_charset(ct, charset, sizeof(charset));
	if (cte != NULL && strcasecmp(cte, "quoted-printable") == 0)
		qp_decode(&raw, start, (size_t)(stop - start), false);
	else if (cte != NULL && strcasecmp(cte, "base64") == 0)
		b64_decode(&raw, start, (size_t)(stop - start));
	else
		tpl_buf_append(&raw, start, (size_t)(stop - start));
	append_charset(&body, charset, raw.data ? raw.data : "", raw.len);
	tpl_buf_appendc(&body, '\0');
	rc = body.oom || raw.oom ? -1 : split_lines(out, body.data ? body.data : "");
done:
	tpl_buf_free(&raw);
	tpl_buf_free(&body);
	free(part_hdr);
	free(hdr);
	free(ct);
	free(cte);
	free(m);
	return rc;
}

/* The first recipient of the audience, copied. */
struct sample {
	bool found;
	int64_t id;
	char *email, *name;
	char **keys, **values;
	size_t nattrs;
};

static int first_recipient(const struct store_recipient *r, void *arg)
{
	struct sample *s = arg;
	size_t i;

	s->found = true;
	s->id = r->id;
	s->email = strdup(r->email);
	s->name = strdup(r->name ? r->name : "");
	s->keys = calloc(r->nattrs + 1, sizeof(char *));
	s->values = calloc(r->nattrs + 1, sizeof(char *));
	if (s->keys != NULL && s->values != NULL)
		for (i = 0; i < r->nattrs; i++) {
			s->keys[i] = strdup(r->attrs[i].key);
			s->values[i] = strdup(r->attrs[i].value);
			if (s->keys[i] == NULL || s->values[i] == NULL)
				break;
			s->nattrs++;
		}
	return 1; /* one is enough */
}

static void sample_free(struct sample *s)
{
	size_t i;

	for (i = 0; i < s->nattrs; i++) {
		free(s->keys[i]);
		free(s->values[i]);
	}
	free(s->keys);
	free(s->values);
	free(s->email);
	free(s->name);
	memset(s, 0, sizeof(*s));
}

int ui_preview_make(struct store *st, const struct store_campaign *c, struct ui_preview *out,
		    char **errstr)
{
	struct send_recipient r = {0};
	struct send_composed m = {0};
	struct send_composer *comp = NULL;
	struct sample smp = {0};
	enum store_status ss;
	enum send_status s;
	char *masked = NULL, note[256];
	int64_t rowid = 0;
	bool pii = store_can(st, STORE_PERM_PII);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	ss = store_segment_recipients(st, c->list, c->segment_expr, first_recipient, &smp, errstr);
	if (ss != STORE_OK)
		goto done;
	if (!smp.found || smp.email == NULL) {
		if (errstr != NULL)
			*errstr = strdup("no preview: the audience is empty");
		goto done;
	}
	if (store_list_rowid(st, c->list, &rowid, errstr) != STORE_OK)
		goto done;
	r.subscriber_id = (uint64_t)smp.id;
	r.list_id = (uint64_t)rowid;
	if (pii) {
		r.email = smp.email;
		r.name = smp.name;
		r.attr_keys = (const char *const *)smp.keys;
		r.attr_values = (const char *const *)smp.values;
		r.nattrs = smp.nattrs;
		snprintf(note, sizeof(note), "for the first recipient");
	} else {
		masked = store_mask_address(st, smp.email);
		r.email = masked;
		snprintf(note, sizeof(note), "placeholder recipient (no pii)");
	}
	s = send_composer_for_campaign(st, c, &comp, errstr);
	if (s == SEND_OK)
		s = send_compose(comp, &r, &m, errstr);
	if (s != SEND_OK)
		goto done;
	out->dkim_keys = send_composer_dkim_keys(comp);
	if (ui_preview_parse(m.data, m.len, out) != 0 || (out->note = strdup(note)) == NULL) {
		ui_preview_free(out);
		if (errstr != NULL)
			*errstr = strdup("out of memory");
		goto done;
	}
	rc = 0;
done:
	free(m.data);
	send_composer_free(&comp);
	free(masked);
	sample_free(&smp);
	return rc;
}
