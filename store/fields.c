/*
 * store/fields.c: the checks of the values of a person's record (the name,
 * attributes and consent), the same whether they come from an import or
 * from `subscriber add`, so that whatever is stored exports as CSV that
 * imports again.
 *
 * Attribute names are compared byte for byte, case included, everywhere:
 * in the store, in segments (attr.City is not attr.city), in templates, in
 * an import's header and among `subscriber add`'s --attr. Only the import's
 * own columns (email, name, consent_...) are recognised in any case, and no
 * attribute may be named as one of them in any case.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "store/subscribers_private.h"

const char *const subscriber_columns[SUBSCRIBER_NCOLUMNS] = {
    "email",	      "name",	    "consent_source",  "consent_at",	       "consent_text",
    "consent_method", "consent_ip", "consent_version", "consent_confirmed_at", "reject_line",
    "reject_reason",
};

int subscriber_utf8_ok(const char *s, size_t n)
{
	size_t i, k;
	uint32_t cp;

	for (i = 0; i < n; i += k) {
		k = store_utf8_char(s + i, n - i, &cp);
		if (k == 0)
			return 0;
	}
	return 1;
}

int subscriber_has_ctl(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/* A C1 control, or a line or paragraph separator. */
static bool line_char(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029;
}

/* Does v[0..n), valid UTF-8, hold a character that is(cp) picks? */
static bool has_char(const char *v, size_t n, bool (*is)(uint32_t cp))
{
	size_t i, k;
	uint32_t cp;

	for (i = 0; i < n; i += k) {
		k = store_utf8_char(v + i, n - i, &cp);
		if (is(cp))
			return true;
	}
	return false;
}

const char *subscriber_field_why(enum subscriber_field f, const char *v, size_t n)
{
	unsigned char ip[16];
	char buf[64];

	if (memchr(v, '\0', n) != NULL)
		return "holds a NUL byte";
	if (!subscriber_utf8_ok(v, n))
		return "is not valid UTF-8";
	switch (f) {
	case SF_NAME:
		if (n > SUBSCRIBER_MAX_NAME)
			return "is longer than 256 bytes";
		break;
	case SF_ATTR_KEY:
		if (n == 0)
			return "is empty";
		if (n > SUBSCRIBER_MAX_KEY)
			return "is longer than 128 bytes";
		for (size_t i = 0; i < SUBSCRIBER_NCOLUMNS; i++)
			if (strlen(subscriber_columns[i]) == n &&
			    strncasecmp(subscriber_columns[i], v, n) == 0)
				return "is the name of a column of its own in an import";
		/* "consent_\u200bversion" would pass for the column of that name. */
		if (has_char(v, n, store_char_is_invisible))
			return "holds an invisible character (such as a zero-width space, a "
			       "direction mark or a byte-order mark)";
		break;
	case SF_CONSENT_IP:
		if (n == 0)
			return NULL;
		if (n >= sizeof(buf))
			return "is not an IP address";
		memcpy(buf, v, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET, buf, ip) != 1 && inet_pton(AF_INET6, buf, ip) != 1)
			return "is not an IP address";
		return NULL;
	case SF_FREE_TEXT:
		return NULL; /* line breaks and tabs are text here */
	case SF_WORD:
		if (n > SUBSCRIBER_MAX_WORD)
			return "is longer than 1024 bytes";
		if (has_char(v, n, line_char))
			return "holds a line break or control character";
		break;
	}
	if (subscriber_has_ctl(v, n))
		return "holds a line break or control character";
	return NULL;
}

int subscriber_key_same(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

/* Is k one of an import's own columns, in any case? */
static bool reserved(const char *k)
{
	for (size_t i = 0; i < SUBSCRIBER_NCOLUMNS; i++)
		if (strcasecmp(k, subscriber_columns[i]) == 0)
			return true;
	return false;
}

/* "the attribute name "Email" is reserved ...", naming every reserved name. */
static enum store_status reserved_name(const char *k, char **errstr)
{
	char names[256] = "";
	size_t i, n = 0;

	for (i = 0; i < SUBSCRIBER_NCOLUMNS; i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
				      i == 0			     ? ""
				      : i + 1 == SUBSCRIBER_NCOLUMNS ? " and "
								     : ", ",
				      subscriber_columns[i]);
	return store_fail(errstr, STORE_EINVAL,
			  "the attribute name \"%s\" is reserved: it is a column of its own in an "
			  "import, an export or a rejects file; the reserved names, in any case, "
			  "are %s",
			  k, names);
}

void subscriber_key_trim(const char **k, size_t *n)
{
	while (*n > 0 && (**k == ' ' || **k == '\t'))
		(*k)++, (*n)--;
	while (*n > 0 && ((*k)[*n - 1] == ' ' || (*k)[*n - 1] == '\t'))
		(*n)--;
}

/* A copy of the attribute name k as kept: trimmed (subscriber_key_trim), in NFC. */
static char *kept_key(const char *k)
{
	size_t n = strlen(k);
	char *t, *nfc;

	subscriber_key_trim(&k, &n);
	t = strndup(k, n);
	nfc = t != NULL ? store_nfc_dup(t) : NULL;
	free(t);
	return nfc;
}

enum store_status subscriber_kept_fields(const char *name, const struct store_attr *attrs,
					 size_t nattrs, char **nname, struct store_attr **nattr)
{
	size_t i;

	*nname = store_nfc_dup(name != NULL ? name : "");
	*nattr = calloc(nattrs > 0 ? nattrs : 1, sizeof(**nattr));
	if (*nname == NULL || *nattr == NULL)
		return STORE_ENOMEM;
	for (i = 0; i < nattrs; i++) {
		(*nattr)[i].key = kept_key(attrs[i].key);
		(*nattr)[i].value = store_nfc_dup(attrs[i].value);
		if ((*nattr)[i].key == NULL || (*nattr)[i].value == NULL)
			return STORE_ENOMEM;
	}
	return STORE_OK;
}

enum store_status subscriber_check_fields(const char *name, const struct store_attr *attrs,
					  size_t nattrs, const struct store_consent *c,
					  char **errstr)
{
	const struct {
		enum subscriber_field f;
		const char *what, *v;
	} one[] = {
	    {SF_NAME, "the name", name},
	    {SF_WORD, "the consent source", c ? c->source : NULL},
	    {SF_WORD, "the consent method", c ? c->method : NULL},
	    {SF_FREE_TEXT, "the consent text", c ? c->text : NULL},
	    {SF_CONSENT_IP, "the consent IP", c ? c->ip : NULL},
	    {SF_WORD, "the consent version", c ? c->version : NULL},
	};
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		if (one[i].v == NULL)
			continue;
		why = subscriber_field_why(one[i].f, one[i].v, strlen(one[i].v));
		if (why != NULL)
			return store_fail(errstr, STORE_EINVAL, "%s %s", one[i].what, why);
	}
	for (i = 0; i < nattrs; i++) {
		if (reserved(attrs[i].key))
			return reserved_name(attrs[i].key, errstr);
		/* A bad name is not shown: it may hold anything. */
		why = subscriber_field_why(SF_ATTR_KEY, attrs[i].key, strlen(attrs[i].key));
		if (why != NULL)
			return store_fail(errstr, STORE_EINVAL, "attribute %zu's name %s", i + 1,
					  why);
		/* As an import's empty cell sets nothing, an attribute is never "". */
		if (attrs[i].value[0] == '\0')
			return store_fail(errstr, STORE_EUSAGE,
					  "the attribute %s has no value; give it one, or leave it "
					  "out",
					  attrs[i].key);
		why = subscriber_field_why(SF_FREE_TEXT, attrs[i].value, strlen(attrs[i].value));
		if (why != NULL)
			return store_fail(errstr, STORE_EINVAL, "the value of attribute %s %s",
					  attrs[i].key, why);
		/* As an import's header may not name a column twice. */
		for (size_t j = 0; j < i; j++)
			if (subscriber_key_same(attrs[j].key, strlen(attrs[j].key), attrs[i].key,
						strlen(attrs[i].key)))
				return store_fail(errstr, STORE_EUSAGE,
						  "the attribute %s is given twice (attributes %zu "
						  "and %zu); give each once",
						  attrs[i].key, j + 1, i + 1);
	}
	return STORE_OK;
}

/* ---- Dates and times ------------------------------------------------------ */

/* Reads exactly n digits at *p (before end) into *v and moves *p past them. */
static int iso_digits(const char **p, const char *end, int n, int *v)
{
	int i;

	if (end - *p < n)
		return -1;
	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

static bool iso_digit_at(const char *p, const char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/*
 * The time after a date's 'T': HH:MM[:SS[.fff]] after an extended date
 * (2025-06-01), HHMM[SS[.fff]] after a basic one (20250601), then Z,
 * +HH:MM, +HHMM or +HH (or none: UTC). A fraction of a second is read and
 * dropped. *off gets the offset east of UTC in seconds.
 */
static int iso_time(const char **p, const char *end, bool ext, int *h, int *mi, int *s, int *off)
{
	int oh = 0, om = 0, sign;

	if (iso_digits(p, end, 2, h) != 0)
		return -1;
	if (ext && (*p == end || **p != ':'))
		return -1;
	if (ext)
		(*p)++;
	if (iso_digits(p, end, 2, mi) != 0)
		return -1;
	if (ext ? *p < end && **p == ':' : iso_digit_at(*p, end)) {
		if (ext)
			(*p)++;
		if (iso_digits(p, end, 2, s) != 0)
			return -1;
		if (*p < end && (**p == '.' || **p == ',')) {
			(*p)++;
			if (!iso_digit_at(*p, end))
				return -1;
			while (iso_digit_at(*p, end))
				(*p)++;
		}
	}
	if (*p < end && (**p == 'Z' || **p == 'z')) {
		(*p)++;
	} else if (*p < end && (**p == '+' || **p == '-')) {
		sign = **p == '+' ? 1 : -1;
		(*p)++;
		if (iso_digits(p, end, 2, &oh) != 0)
			return -1;
		if (*p < end && **p == ':') {
			(*p)++;
			if (iso_digits(p, end, 2, &om) != 0)
				return -1; /* +09: */
		} else if (iso_digit_at(*p, end) && iso_digits(p, end, 2, &om) != 0) {
			return -1;
		}
		if (oh > 23 || om > 59)
			return -1;
		*off = sign * (oh * 3600 + om * 60);
	}
	return 0;
}

int store_iso_norm(const char *in, size_t len, char out[21], time_t *t)
{
	const char *p = in, *end = in + len;
	int y, mo, d, h = 0, mi = 0, s = 0, off = 0;
	bool ext;
	struct tm tm;
	time_t v;

	if (iso_digits(&p, end, 4, &y) != 0)
		return -1;
	ext = p < end && *p == '-';
	if (ext)
		p++;
	if (iso_digits(&p, end, 2, &mo) != 0 || (ext && (p == end || *p++ != '-')) ||
	    iso_digits(&p, end, 2, &d) != 0)
		return -1;
	if (p < end && (*p == 'T' || *p == 't' || *p == ' ')) {
		p++;
		if (iso_time(&p, end, ext, &h, &mi, &s, &off) != 0)
			return -1;
	}
	/* A leap second is 23:59:60 UTC; it is kept as 23:59:59. */
	if (s == 60 && (((h * 60 + mi - off / 60) % 1440) + 1440) % 1440 != 1439)
		return -1;
	if (s == 60)
		s = 59;
	if (p != end || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 ||
	    y < 1970)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	v = timegm(&tm);
	if (tm.tm_mday != d)
		return -1; /* 2026-02-31 */
	v -= off;
	if (t != NULL)
		*t = v;
	gmtime_r(&v, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return 0;
}

const char *subscriber_consent_at_why(const char *v, size_t n, time_t now, char out[21])
{
	time_t t;

	if (store_iso_norm(v, n, out, &t) != 0)
		return "is not an ISO 8601 date or time; hato reads 2025-06-01, "
		       "2025-06-01T12:00:00Z, 2025-06-01T21:00:00.123+09:00 (or +0900) and "
		       "20250601T120000Z";
	if (t > now + SUBSCRIBER_CONSENT_SKEW)
		return "is in the future: a consent time may be at most a day ahead of this "
		       "computer's clock";
	return NULL;
}

const char *subscriber_confirmed_why(const char *v, size_t n, time_t now, const char *at,
				     char out[21])
{
	const char *why = subscriber_consent_at_why(v, n, now, out);

	if (why == NULL && at != NULL && strcmp(out, at) < 0)
		return "is before the consent was given: a double opt-in is confirmed after it";
	return why;
}

/* ---- Stores written before (migration 16) -------------------------------- */

/*
 * b := the pairs of p[0..n) as kept (b empty): names trimmed, but for one
 * that would be left empty, and all in NFC; a name that two pairs then
 * share keeps its first value. 1 when that changed anything, 0 when not,
 * -1 when out of memory; a damaged BLOB is left alone (0).
 */
static int attrs_kept(struct attrs_buf *b, const unsigned char *p, size_t n)
{
	const char *k, *v, *dv, *tk;
	char *nk = NULL, *nv = NULL;
	size_t pos = 0, kl, vl, dl, tl;
	int rc, changed = 0;

	while ((rc = attrs_next(p, n, &pos, &k, &kl, &v, &vl)) == 1) {
		tk = k;
		tl = kl;
		subscriber_key_trim(&tk, &tl);
		if (tl > 0 && tl != kl) {
			k = tk;
			kl = tl;
			changed = 1;
		}
		if (store_nfc(k, kl, &nk, &kl) != 0 || store_nfc(v, vl, &nv, &vl) != 0)
			break;
		changed |= nk != NULL || nv != NULL;
		if (nk != NULL)
			k = nk;
		if (nv != NULL)
			v = nv;
		if (attrs_find(b->p, b->n, k, kl, &dv, &dl))
			changed = 1;
		else if (attrs_put(b, k, kl, v, vl) != 0)
			break;
		free(nk);
		free(nv);
		nk = nv = NULL;
	}
	free(nk);
	free(nv);
	if (rc == 1)
		return -1;
	return rc == 0 && changed;
}

enum store_status subscriber_keep_all(struct store *st, char **errstr)
{
	sqlite3_stmt *q = NULL, *u = NULL;
	struct attrs_buf b = {0};
	enum store_status s;
	char *name;
	size_t len;
	int rc = SQLITE_DONE, a;

	s = store_prepare(st, "SELECT id, name, attrs FROM subscribers", &q, errstr);
	if (s == STORE_OK)
		s = store_prepare(st, "UPDATE subscribers SET name = ?, attrs = ? WHERE id = ?", &u,
				  errstr);
	while (s == STORE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *old = (const char *)sqlite3_column_text(q, 1);
		name = NULL;
		b.n = 0;
		if (store_nfc(old, (size_t)sqlite3_column_bytes(q, 1), &name, &len) != 0 ||
		    (a = attrs_kept(&b, sqlite3_column_blob(q, 2),
				    (size_t)sqlite3_column_bytes(q, 2))) < 0) {
			free(name);
			s = STORE_ENOMEM;
			break;
		}
		if (name != NULL || a == 1) {
			sqlite3_bind_text(u, 1, name != NULL ? name : old, -1, SQLITE_TRANSIENT);
			if (a == 1)
				sqlite3_bind_blob(u, 2, b.n > 0 ? (const void *)b.p : "", (int)b.n,
						  SQLITE_TRANSIENT);
			else
				sqlite3_bind_value(u, 2, sqlite3_column_value(q, 2));
			sqlite3_bind_int64(u, 3, sqlite3_column_int64(q, 0));
			if (sqlite3_step(u) != SQLITE_DONE)
				s = store_sqlfail(st, errstr, "migrating names and attributes");
			sqlite3_reset(u);
		}
		free(name);
	}
	if (s == STORE_OK && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "migrating names and attributes");
	sqlite3_finalize(q);
	sqlite3_finalize(u);
	attrs_free(&b);
	return s;
}
