/*
 * send/report.c: the reader of the reports a receiving server sends back, a
 * delivery status notification (RFC 3464) or a complaint in the Abuse
 * Reporting Format (RFC 5965). This is outside input: the reader is strict
 * and bounded. It takes one message of at most SEND_REPORT_MAX bytes, reads
 * its header (folded lines unfolded), requires multipart/report with a
 * report-type of delivery-status or feedback-report and a boundary, splits
 * the top-level parts at that boundary, decodes the report part and the
 * returned message (7bit, 8bit, binary, base64 or quoted-printable) and reads
 * their fields. Other parts are ignored; nested multiparts are not opened.
 * Also the token in the Subject of an unsubscribe request sent to
 * unsubscribe.mailto, its RFC 2047 encoded-words decoded (send_request_token).
 */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send/private.h"
#include "templates/templates.h"

#define MAX_FIELDS 512	/* header fields kept from one header block */
#define MAX_PARTS 64	/* top-level parts looked at */
#define MAX_FIELD 8192	/* an unfolded field's value */
#define MAX_BOUNDARY 70 /* RFC 2046 */

struct field {
	char name[64];
	char *value;
};

struct fields {
	struct field f[MAX_FIELDS];
	size_t n;
};

static void fields_clear(struct fields *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free(h->f[i].value);
	h->n = 0;
}

/* The end of the line at p (before its LF or CRLF) and the start of the next. */
static const char *line_end(const char *p, const char *end, const char **next)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	const char *e = lf != NULL ? lf : end;

	*next = lf != NULL ? lf + 1 : end;
	if (e > p && e[-1] == '\r')
		e--;
	return e;
}

static bool blank_line(const char *p, const char *end)
{
	const char *next;

	return line_end(p, end, &next) == p;
}

/*
 * Appends a line's text to a field's value: folding keeps one space. What
 * goes past MAX_FIELD is dropped: a long field of no use here (a mail
 * system's X- field) must not sink the report.
 */
static enum send_status value_add(struct field *f, const char *p, const char *e, size_t *len)
{
	size_t n = (size_t)(e - p);
	char *v;

	if (*len + n + 1 > MAX_FIELD)
		n = MAX_FIELD > *len + 1 ? MAX_FIELD - *len - 1 : 0;
	if (n == 0 && f->value != NULL)
		return SEND_OK;
	v = realloc(f->value, *len + n + 1);
	if (v == NULL)
		return SEND_ENOMEM;
	memcpy(v + *len, p, n);
	*len += n;
	v[*len] = '\0';
	f->value = v;
	return SEND_OK;
}

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	memmove(s, s + i, n - i + 1);
}

/*
 * Reads a block of header fields from p up to a blank line (consumed) or
 * end; *rest is where the body starts. Lines that are not fields are
 * refused; fields past MAX_FIELDS are dropped.
 */
static enum send_status fields_read(const char *p, const char *end, struct fields *h,
				    const char **rest)
{
	struct field *cur = NULL;
	size_t len = 0;
	const char *next, *e, *colon;
	enum send_status s = SEND_OK;

	h->n = 0;
	while (p < end) {
		e = line_end(p, end, &next);
		if (e == p) {
			p = next;
			break;
		}
		if (*p == ' ' || *p == '\t') {
			if (cur != NULL)
				s = value_add(cur, p, e, &len);
		} else {
			colon = memchr(p, ':', (size_t)(e - p));
			if (colon == NULL || colon == p) {
				*rest = next;
				return SEND_EINVAL;
			}
			cur = NULL;
			if (h->n < MAX_FIELDS && (size_t)(colon - p) < sizeof(h->f[0].name)) {
				cur = &h->f[h->n++];
				memcpy(cur->name, p, (size_t)(colon - p));
				cur->name[colon - p] = '\0';
				trim(cur->name);
				cur->value = NULL;
				len = 0;
				s = value_add(cur, colon + 1, e, &len);
			}
		}
		if (s != SEND_OK) {
			*rest = next;
			return s;
		}
		p = next;
	}
	for (size_t i = 0; i < h->n; i++)
		trim(h->f[i].value);
	*rest = p;
	return SEND_OK;
}

/* The nth value of a field (names compare without case), or NULL. */
static const char *field_nth(const struct fields *h, const char *name, size_t nth)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->f[i].name, name) == 0 && nth-- == 0)
			return h->f[i].value;
	return NULL;
}

static const char *field(const struct fields *h, const char *name)
{
	return field_nth(h, name, 0);
}

/* ---- Content-Type --------------------------------------------------------- */

struct ctype {
	char type[80];	 /* "multipart/report", lower case */
	char report[40]; /* report-type, lower case */
	char boundary[MAX_BOUNDARY + 1];
};

/* Reads a token or a quoted string at *p into out (cut to n). */
static void param_value(const char **p, char *out, size_t n)
{
	size_t k = 0;
	const char *s = *p;

	if (*s == '"') {
		for (s++; *s != '\0' && *s != '"'; s++) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			if (k + 1 < n)
				out[k++] = *s;
		}
		if (*s == '"')
			s++;
	} else {
		for (; *s != '\0' && *s != ';' && *s != ' ' && *s != '\t'; s++)
			if (k + 1 < n)
				out[k++] = *s;
	}
	out[k] = '\0';
	*p = s;
}

static void lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/*
 * RFC 6533's reports, for mail to Unicode addresses (SMTPUTF8), read as the
 * classic ones: their fields are UTF-8, which the readers take.
 */
static void global_types(struct ctype *ct)
{
	static const char *const as[][2] = {
	    {"message/global-delivery-status", "message/delivery-status"},
	    {"message/global", "message/rfc822"},
	    {"message/global-headers", "text/rfc822-headers"},
	};

	for (size_t i = 0; i < sizeof(as) / sizeof(as[0]); i++)
		if (strcmp(ct->type, as[i][0]) == 0)
			snprintf(ct->type, sizeof(ct->type), "%s", as[i][1]);
	if (strcmp(ct->report, "global-delivery-status") == 0)
		snprintf(ct->report, sizeof(ct->report), "delivery-status");
}

static void ctype_parse(const char *v, struct ctype *ct)
{
	const char *p = v;
	char name[40], val[MAX_BOUNDARY + 2];
	size_t k;

	memset(ct, 0, sizeof(*ct));
	if (v == NULL)
		return;
	for (k = 0; *p != '\0' && *p != ';' && *p != ' ' && *p != '\t'; p++)
		if (k + 1 < sizeof(ct->type))
			ct->type[k++] = *p;
	ct->type[k] = '\0';
	lower(ct->type);
	while (*p != '\0') {
		while (*p == ';' || *p == ' ' || *p == '\t')
			p++;
		for (k = 0; *p != '\0' && *p != '=' && *p != ';'; p++)
			if (k + 1 < sizeof(name) && *p != ' ' && *p != '\t')
				name[k++] = *p;
		name[k] = '\0';
		if (*p != '=')
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		param_value(&p, val, sizeof(val));
		if (strcasecmp(name, "boundary") == 0 && strlen(val) <= MAX_BOUNDARY)
			memcpy(ct->boundary, val, strlen(val) + 1);
		else if (strcasecmp(name, "report-type") == 0) {
			snprintf(ct->report, sizeof(ct->report), "%.39s", val);
			lower(ct->report);
		}
		/* anything else up to the next ";" (a comment, junk) */
		while (*p != '\0' && *p != ';')
			p++;
	}
	global_types(ct);
}

/* ---- Transfer encodings --------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes p[0..n) in the part's transfer encoding into *out (allocated, NUL-terminated). */
static enum send_status decode(const char *cte, const char *p, size_t n, char **out, size_t *olen)
{
	char *o = malloc(n + 1);
	size_t i, k = 0;
	unsigned acc = 0;
	int bits = 0, v;

	if (o == NULL)
		return SEND_ENOMEM;
	if (cte != NULL && strcasecmp(cte, "base64") == 0) {
		for (i = 0; i < n; i++) {
			if (p[i] == '=')
				break;
			v = b64val((unsigned char)p[i]);
			if (v < 0) {
				if (p[i] == '\r' || p[i] == '\n' || p[i] == ' ' || p[i] == '\t')
					continue;
				free(o);
				return SEND_EINVAL;
			}
			acc = (acc << 6) | (unsigned)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				o[k++] = (char)((acc >> bits) & 0xff);
			}
		}
	} else if (cte != NULL && strcasecmp(cte, "quoted-printable") == 0) {
		for (i = 0; i < n; i++) {
			if (p[i] != '=') {
				o[k++] = p[i];
			} else if (i + 2 < n && hexval((unsigned char)p[i + 1]) >= 0 &&
				   hexval((unsigned char)p[i + 2]) >= 0) {
				o[k++] = (char)(hexval((unsigned char)p[i + 1]) * 16 +
						hexval((unsigned char)p[i + 2]));
				i += 2;
			} else if (i + 1 < n && p[i + 1] == '\n') {
				i += 1; /* a soft line break */
			} else if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') {
				i += 2;
			} else {
				o[k++] = p[i];
			}
		}
	} else if (cte == NULL || strcasecmp(cte, "7bit") == 0 || strcasecmp(cte, "8bit") == 0 ||
		   strcasecmp(cte, "binary") == 0) {
		memcpy(o, p, n);
		k = n;
	} else {
		free(o);
		return SEND_EINVAL;
	}
	o[k] = '\0';
	*out = o;
	*olen = k;
	return SEND_OK;
}

/* ---- The report -------------------------------------------------------- */

/* An address out of "rfc822; a@b", "<a@b>", "Name <a@b>": allocated, or NULL. */
static char *address_of(const char *v)
{
	const char *lt, *gt, *semi;
	char *a;

	if (v == NULL)
		return NULL;
	semi = strchr(v, ';');
	if (semi != NULL && strchr(v, '<') == NULL)
		v = semi + 1;
	lt = strrchr(v, '<');
	gt = lt != NULL ? strchr(lt, '>') : NULL;
	if (lt != NULL && gt != NULL)
		a = strndup(lt + 1, (size_t)(gt - lt - 1));
	else
		a = strndup(v, strcspn(v, ","));
	if (a == NULL)
		return NULL;
	trim(a);
	if (a[0] == '\0' || strchr(a, '@') == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

static enum send_status add_str(char ***arr, size_t *n, size_t max, char *s)
{
	char **a;

	if (s == NULL)
		return SEND_OK;
	if (*n >= max) {
		free(s);
		return SEND_OK;
	}
	a = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (a == NULL) {
		free(s);
		return SEND_ENOMEM;
	}
	a[(*n)++] = s;
	*arr = a;
	return SEND_OK;
}

/* Candidates for a VERP token: every address of these fields, each value split at commas. */
static enum send_status add_verp(struct send_report *r, const struct fields *h, const char *name)
{
	enum send_status s = SEND_OK;
	const char *v, *p;
	size_t i;

	for (i = 0; s == SEND_OK && (v = field_nth(h, name, i)) != NULL; i++)
		for (p = v; s == SEND_OK && *p != '\0'; p += strcspn(p, ","), p += *p == ',')
			s = add_str(&r->verp, &r->nverp, SEND_REPORT_MAX_ADDRS, address_of(p));
	return s;
}

static char *dupfield(const struct fields *h, const char *name)
{
	const char *v = field(h, name);

	return v != NULL ? strdup(v) : NULL;
}

/* One recipient's group of fields. */
static enum send_status rcpt_add(struct send_report *r, const struct fields *h)
{
	struct send_report_rcpt *x, *a;
	const char *v;

	a = realloc(r->rcpts, (r->nrcpts + 1) * sizeof(*a));
	if (a == NULL)
		return SEND_ENOMEM;
	r->rcpts = a;
	x = &r->rcpts[r->nrcpts++];
	memset(x, 0, sizeof(*x));
	x->final_recipient = address_of(field(h, "Final-Recipient"));
	x->original_recipient = address_of(field(h, "Original-Recipient"));
	x->action = dupfield(h, "Action");
	v = field(h, "Status");
	x->status = v != NULL ? strndup(v, strcspn(v, " \t(")) : NULL;
	if (x->action != NULL)
		lower(x->action);
	return SEND_OK;
}

static enum send_status dsn_fields(struct send_report *r, const char *p, const char *end)
{
	struct fields *h = calloc(1, sizeof(*h));
	enum send_status s;

	if (h == NULL)
		return SEND_ENOMEM;
	while (p < end && blank_line(p, end))
		line_end(p, end, &p);
	/* The per-message fields, then one group per recipient. */
	s = fields_read(p, end, h, &p);
	/* Reporting-MTA is required there; a recipient's fields are taken all the same. */
	if (s == SEND_OK && field(h, "Final-Recipient") != NULL)
		s = rcpt_add(r, h);
	fields_clear(h);
	if (s == SEND_EINVAL)
		s = SEND_OK;
	while (s == SEND_OK && p < end && r->nrcpts < SEND_REPORT_MAX_ADDRS) {
		while (p < end && blank_line(p, end))
			line_end(p, end, &p);
		if (p >= end)
			break;
		s = fields_read(p, end, h, &p);
		if (s == SEND_EINVAL)
			s = SEND_OK; /* a line that is no field ends a group we skip */
		else if (s == SEND_OK && field(h, "Final-Recipient") != NULL)
			s = rcpt_add(r, h);
		fields_clear(h);
	}
	free(h);
	return s;
}

/* Reads one block of fields at p and hands it to `use`. */
static enum send_status fields_use(struct send_report *r, const char *p, const char *end,
				   enum send_status (*use)(struct send_report *r,
							   const struct fields *h))
{
	struct fields *h = calloc(1, sizeof(*h));
	enum send_status s;

	if (h == NULL)
		return SEND_ENOMEM;
	s = fields_read(p, end, h, &p);
	if (s == SEND_OK)
		s = use(r, h);
	fields_clear(h);
	free(h);
	return s;
}

static enum send_status arf_use(struct send_report *r, const struct fields *h)
{
	r->feedback_type = dupfield(h, "Feedback-Type");
	r->arf_rcpt = address_of(field(h, "Original-Rcpt-To"));
	return add_verp(r, h, "Original-Mail-From");
}

/* The returned message (or its header): its Return-Path and To. */
static enum send_status returned_use(struct send_report *r, const struct fields *h)
{
	if (r->returned_to == NULL)
		r->returned_to = address_of(field(h, "To"));
	return add_verp(r, h, "Return-Path");
}

/* One top-level part: its header, then its body decoded and read by its type. */
static enum send_status part(struct send_report *r, const char *p, const char *end, bool *seen)
{
	struct fields *h = calloc(1, sizeof(*h));
	struct ctype ct;
	enum send_status s;
	char *body = NULL;
	size_t n = 0;

	if (h == NULL)
		return SEND_ENOMEM;
	s = fields_read(p, end, h, &p);
	if (s != SEND_OK)
		goto done;
	ctype_parse(field(h, "Content-Type"), &ct);
	if (strcmp(ct.type, "message/delivery-status") != 0 &&
	    strcmp(ct.type, "message/feedback-report") != 0 &&
	    strcmp(ct.type, "message/rfc822") != 0 && strcmp(ct.type, "text/rfc822-headers") != 0)
		goto done;
	s = decode(field(h, "Content-Transfer-Encoding"), p, (size_t)(end - p), &body, &n);
	if (s != SEND_OK)
		goto done;
	if (strcmp(ct.type, "message/delivery-status") == 0 && r->kind == SEND_REPORT_DSN &&
	    !*seen) {
		*seen = true;
		s = dsn_fields(r, body, body + n);
	} else if (strcmp(ct.type, "message/feedback-report") == 0 && r->kind == SEND_REPORT_ARF &&
		   !*seen) {
		*seen = true;
		s = fields_use(r, body, body + n, arf_use);
	} else if (strcmp(ct.type, "message/rfc822") == 0 ||
		   strcmp(ct.type, "text/rfc822-headers") == 0) {
		s = fields_use(r, body, body + n, returned_use);
		if (s == SEND_EINVAL)
			s = SEND_OK; /* a returned message we can't read names nobody */
	}
done:
	free(body);
	fields_clear(h);
	free(h);
	return s;
}

/* Is the line p..e the delimiter "--boundary" (1) or the close "--boundary--" (2)? */
static int delimiter(const char *p, const char *e, const char *b, size_t bl)
{
	if ((size_t)(e - p) < bl + 2 || p[0] != '-' || p[1] != '-' || memcmp(p + 2, b, bl) != 0)
		return 0;
	p += bl + 2;
	if (e - p >= 2 && p[0] == '-' && p[1] == '-')
		return 2;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return p == e ? 1 : 0;
}

static enum send_status parts(struct send_report *r, const char *p, const char *end, const char *b,
			      char **errstr)
{
	size_t bl = strlen(b), count = 0;
	const char *start = NULL, *e, *next;
	enum send_status s = SEND_OK;
	bool seen = false;
	int d;

	for (; p < end && s == SEND_OK; p = next) {
		e = line_end(p, end, &next);
		d = delimiter(p, e, b, bl);
		if (d == 0)
			continue;
		if (start != NULL && count++ < MAX_PARTS) {
			/* The line break before the delimiter belongs to it. */
			const char *pe = p;
			if (pe > start && pe[-1] == '\n')
				pe--;
			if (pe > start && pe[-1] == '\r')
				pe--;
			s = part(r, start, pe, &seen);
		}
		start = next;
		if (d == 2)
			break;
	}
	if (s == SEND_OK && !seen)
		s = send_err(errstr, SEND_EINVAL, "the report has no %s part",
			     r->kind == SEND_REPORT_DSN ? "message/delivery-status"
							: "message/feedback-report");
	return s;
}

enum send_status send_report_parse(const char *msg, size_t n, struct send_report **out,
				   char **errstr)
{
	struct fields *h = NULL;
	struct send_report *r = NULL;
	struct ctype ct;
	const char *body;
	enum send_status s;

	*out = NULL;
	if (n > SEND_REPORT_MAX)
		return send_err(errstr, SEND_EINVAL, "the message is over %u bytes",
				(unsigned)SEND_REPORT_MAX);
	if (memchr(msg, '\0', n) != NULL)
		return send_err(errstr, SEND_EINVAL, "the message holds a NUL byte");
	h = calloc(1, sizeof(*h));
	r = calloc(1, sizeof(*r));
	if (h == NULL || r == NULL) {
		s = SEND_ENOMEM;
		goto done;
	}
	s = fields_read(msg, msg + n, h, &body);
	if (s == SEND_EINVAL) {
		s = send_err(errstr, s, "the message's header is not a mail header");
		goto done;
	}
	if (s != SEND_OK)
		goto done;
	ctype_parse(field(h, "Content-Type"), &ct);
	if (strcmp(ct.type, "multipart/report") != 0 ||
	    (strcmp(ct.report, "delivery-status") != 0 &&
	     strcmp(ct.report, "feedback-report") != 0) ||
	    ct.boundary[0] == '\0') {
		s = send_err(errstr, SEND_EINVAL,
			     "not a report: a report is multipart/report with a boundary and a "
			     "report-type of delivery-status or feedback-report");
		goto done;
	}
	r->kind = ct.report[0] == 'd' ? SEND_REPORT_DSN : SEND_REPORT_ARF;
	s = add_verp(r, h, "To");
	if (s == SEND_OK)
		s = add_verp(r, h, "Delivered-To");
	if (s == SEND_OK)
		s = add_verp(r, h, "X-Original-To");
	if (s == SEND_OK)
		s = add_verp(r, h, "Envelope-To");
	if (s == SEND_OK)
		s = parts(r, body, msg + n, ct.boundary, errstr);
done:
	if (h != NULL)
		fields_clear(h);
	free(h);
	/* The first error's words win; these are for the ones that had none. */
	if (s == SEND_EINVAL)
		s = send_err(errstr, s,
			     "a part of the report can't be read: a bad transfer encoding or a "
			     "field over %d bytes",
			     MAX_FIELD);
	else if (s != SEND_OK)
		s = send_err(errstr, s, "out of memory reading the report");
	if (s == SEND_OK)
		*out = r;
	else
		send_report_free(&r);
	return s;
}

void send_report_free(struct send_report **rp)
{
	struct send_report *r;
	size_t i;

	if (rp == NULL || *rp == NULL)
		return;
	r = *rp;
	for (i = 0; i < r->nverp; i++)
		free(r->verp[i]);
	free(r->verp);
	for (i = 0; i < r->nrcpts; i++) {
		free(r->rcpts[i].final_recipient);
		free(r->rcpts[i].original_recipient);
		free(r->rcpts[i].action);
		free(r->rcpts[i].status);
	}
	free(r->rcpts);
	free(r->feedback_type);
	free(r->arf_rcpt);
	free(r->returned_to);
	free(r);
	*rp = NULL;
}

/* ---- An unsubscribe request by mail (bounce.c) ------------------------------ */

/*
 * Decodes one RFC 2047 encoded-word at p ("=?charset?B?...?=" or Q) into out
 * (k bytes there, at most n in all); returns its length, or 0 when p is no
 * encoded-word. The charset is not read: a token is ASCII in any charset a
 * mail client would use (UTF-8, ISO-2022-JP's ASCII set).
 */
static size_t encoded_word(const char *p, char *out, size_t *k, size_t n)
{
	const char *q, *text, *end;
	size_t got = 0;
	char enc;

	if (p[0] != '=' || p[1] != '?' || (q = strchr(p + 2, '?')) == NULL || q[1] == '\0' ||
	    q[2] != '?')
		return 0;
	enc = (char)(q[1] | 0x20);
	text = q + 3;
	if ((enc != 'b' && enc != 'q') || (end = strstr(text, "?=")) == NULL)
		return 0;
	if (enc == 'b') {
		if (sodium_base642bin((unsigned char *)out + *k, n - *k - 1, text,
				      (size_t)(end - text), NULL, &got, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0)
			return 0;
		*k += got;
	} else {
		for (; text < end && *k + 1 < n; text++) {
			unsigned hi, lo;

			if (*text == '_')
				out[(*k)++] = ' ';
			else if (*text == '=' && end - text >= 3 &&
				 sscanf(text + 1, "%1x%1x", &hi, &lo) == 2) {
				out[(*k)++] = (char)(hi << 4 | lo);
				text += 2;
			} else
				out[(*k)++] = *text;
		}
	}
	return (size_t)(end + 2 - p);
}

/* The subject s with its encoded-words decoded (RFC 2047), into out. */
static void decode_words(const char *s, char *out, size_t n)
{
	size_t k = 0, w;
	bool after_word = false;

	while (*s != '\0' && k + 1 < n) {
		w = encoded_word(s, out, &k, n);
		if (w > 0) {
			s += w;
			after_word = true;
			continue;
		}
		/* Blanks between two encoded-words are not part of the text (6.2). */
		if (after_word && (*s == ' ' || *s == '\t')) {
			const char *t = s + strspn(s, " \t");
			if (t[0] == '=' && t[1] == '?') {
				s = t;
				continue;
			}
		}
		after_word = false;
		out[k++] = *s++;
	}
	out[k] = '\0';
}

_Static_assert(TPL_UNSUB_TOKEN_LEN + 1 == 67, "send_request_token's size in send.h");

bool send_request_token(const char *msg, size_t n, char token[TPL_UNSUB_TOKEN_LEN + 1])
{
	struct fields *h = calloc(1, sizeof(*h));
	const char *v, *rest;
	char subject[400];
	size_t i, w;
	bool found = false;

	if (h == NULL)
		return false;
	if (fields_read(msg, msg + n, h, &rest) == SEND_OK && (v = field(h, "Subject")) != NULL) {
		decode_words(v, subject, sizeof(subject));
		for (i = 0; subject[i] != '\0' && !found; i += w ? w : 1) {
			for (w = 0; isalnum((unsigned char)subject[i + w]) ||
				    subject[i + w] == '-' || subject[i + w] == '_';)
				w++;
			if (w == TPL_UNSUB_TOKEN_LEN) {
				memcpy(token, subject + i, w);
				token[w] = '\0';
				found = true;
			}
		}
	}
	fields_clear(h);
	free(h);
	return found;
}
