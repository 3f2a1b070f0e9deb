/*
 * store/export.c: what leaves the store about people: a list as CSV, and one
 * person's data as JSON (GDPR Art. 15 and 20).
 */
#include <stdbool.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/subscribers_private.h"

/* ---- CSV ------------------------------------------------------------------ */

/*
 * The attribute keys of the people exported, in the order first seen: every
 * one, however many, with a hash table from key to column so that a row is
 * written in one pass over its attributes.
 */
struct keys {
	char **k;
	size_t *len;
	size_t n, cap;
	size_t *slot; /* column + 1, or 0 for a free slot; nslots is a power of 2 */
	size_t nslots;
};

static size_t key_hash(const char *k, size_t kl)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < kl; i++)
		h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
	return (size_t)h;
}

/* The slot of k in a table of n slots: where it is, or the free one it would take. */
static size_t keys_slot(const struct keys *ks, const size_t *slot, size_t n, const char *k,
			size_t kl)
{
	size_t i, c;

	for (i = key_hash(k, kl) & (n - 1); slot[i] != 0; i = (i + 1) & (n - 1)) {
		c = slot[i] - 1;
		if (ks->len[c] == kl && memcmp(ks->k[c], k, kl) == 0)
			break;
	}
	return i;
}

/* The column of k, or SIZE_MAX when it is not one of the keys. */
static size_t keys_find(const struct keys *ks, const char *k, size_t kl)
{
	size_t i;

	if (ks->nslots == 0)
		return SIZE_MAX;
	i = keys_slot(ks, ks->slot, ks->nslots, k, kl);
	return ks->slot[i] != 0 ? ks->slot[i] - 1 : SIZE_MAX;
}

/* Doubles the table (64 slots at first) and puts every key in again. */
static int keys_grow_table(struct keys *ks)
{
	size_t n = ks->nslots ? ks->nslots * 2 : 64, i;
	size_t *slot = calloc(n, sizeof(*slot));

	if (slot == NULL)
		return -1;
	for (i = 0; i < ks->n; i++)
		slot[keys_slot(ks, slot, n, ks->k[i], ks->len[i])] = i + 1;
	free(ks->slot);
	ks->slot = slot;
	ks->nslots = n;
	return 0;
}

/* Makes room for one more key. 0, or -1 when out of memory. */
static int keys_reserve(struct keys *ks)
{
	size_t cap = ks->cap ? ks->cap * 2 : 64;
	char **k;
	size_t *len;

	if ((ks->n + 1) * 2 > ks->nslots && keys_grow_table(ks) != 0)
		return -1;
	if (ks->n < ks->cap)
		return 0;
	k = realloc(ks->k, cap * sizeof(*k));
	if (k == NULL)
		return -1;
	ks->k = k;
	len = realloc(ks->len, cap * sizeof(*len));
	if (len == NULL)
		return -1;
	ks->len = len;
	ks->cap = cap;
	return 0;
}

/* Adds k unless it is a key already. 0, or -1 when out of memory. */
static int keys_add(struct keys *ks, const char *k, size_t kl)
{
	if (keys_find(ks, k, kl) != SIZE_MAX)
		return 0;
	if (keys_reserve(ks) != 0)
		return -1;
	ks->k[ks->n] = strndup(k, kl);
	if (ks->k[ks->n] == NULL)
		return -1;
	ks->len[ks->n] = kl;
	ks->slot[keys_slot(ks, ks->slot, ks->nslots, k, kl)] = ks->n + 1;
	ks->n++;
	return 0;
}

static void keys_free(struct keys *ks)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		free(ks->k[i]);
	free(ks->k);
	free(ks->len);
	free(ks->slot);
	memset(ks, 0, sizeof(*ks));
}

/* A cell that is a decimal number (-5, +81312345678, 3.25) is not a formula. */
static bool is_number(const char *s, size_t n)
{
	size_t i = 0, digits = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (digits > 0 && i < n && s[i] == '.')
		for (i++, digits = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	return digits > 0 && i == n;
}

/*
 * Would a spreadsheet take the cell for a formula (CSV injection)? It does
 * for one that starts with = + - or @, and with a tab or CR before them.
 */
static bool is_formula(const char *s, size_t n)
{
	return n > 0 && strchr("=+-@\t\r", s[0]) != NULL && !is_number(s, n);
}

/*
 * Writes a cell, always quoted (RFC 4180). Unless raw, a cell a spreadsheet
 * would run as a formula gets a leading ' (OWASP), which makes it text.
 */
static void csv_cell(FILE *out, const char *s, size_t n, bool first, bool raw)
{
	size_t i;

	if (!first)
		fputc(',', out);
	fputc('"', out);
	if (!raw && s != NULL && is_formula(s, n))
		fputc('\'', out);
	for (i = 0; s != NULL && i < n; i++) {
		if (s[i] == '"')
			fputc('"', out);
		fputc(s[i], out);
	}
	fputc('"', out);
}

/* Flushes out: NULL, or why a write to it failed ("the disk is full"). */
static const char *write_failed(FILE *out)
{
	if (fflush(out) != 0)
		return store_strerror(errno);
	return ferror(out) ? "a write failed" : NULL;
}

#define MEMBERS                                                                                    \
	" FROM subscribers s CROSS JOIN memberships m"                                             \
	" ON m.subscriber = s.id AND m.list = ?"                                                   \
	" WHERE m.status = 'active' AND s.status = 'active'"                                       \
	" AND s.suppressed = 0"                                                                    \
	" AND s.domain NOT IN (SELECT value FROM suppressions WHERE kind = 'domain')"

/* First pass: the attribute keys of the members, in the order first seen,
 * and how many members there are. */
static enum store_status collect_keys(struct store *st, const char *list, struct keys *ks,
				      int64_t *members, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	const char *k, *v;
	size_t pos, kl, vl;
	int rc;

	s = store_prepare(st, "SELECT s.attrs" MEMBERS " ORDER BY s.id", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, list, -1, SQLITE_STATIC);
	while (s == STORE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const unsigned char *b = sqlite3_column_blob(q, 0);
		size_t n = (size_t)sqlite3_column_bytes(q, 0);
		pos = 0;
		(*members)++;
		while (s == STORE_OK && attrs_next(b, n, &pos, &k, &kl, &v, &vl) == 1)
			if (keys_add(ks, k, kl) != 0)
				s = STORE_ENOMEM;
	}
	if (s == STORE_OK && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "exporting");
	sqlite3_finalize(q);
	return s;
}

/* An export's own columns, read in this order from the query, then the attributes. */
static const char *const fixed[] = {
    "email",	    "name",	  "consent_source",  "consent_at",	     "consent_method",
    "consent_text", "consent_ip", "consent_version", "consent_confirmed_at",
};
#define NFIXED (sizeof(fixed) / sizeof(fixed[0]))

/* One member's row; v and vl are scratch arrays of ks->n entries. */
static void write_row(FILE *out, sqlite3_stmt *q, const struct keys *ks, const char **v, size_t *vl,
		      bool raw)
{
	const unsigned char *b = sqlite3_column_blob(q, NFIXED);
	size_t n = (size_t)sqlite3_column_bytes(q, NFIXED), pos = 0, kl, l, c, i;
	const char *k, *val;

	for (i = 0; i < NFIXED; i++)
		csv_cell(out, (const char *)sqlite3_column_text(q, (int)i),
			 (size_t)sqlite3_column_bytes(q, (int)i), i == 0, raw);
	for (i = 0; i < ks->n; i++)
		v[i] = NULL;
	while (attrs_next(b, n, &pos, &k, &kl, &val, &l) == 1) {
		c = keys_find(ks, k, kl);
		if (c != SIZE_MAX && v[c] == NULL) {
			v[c] = val;
			vl[c] = l;
		}
	}
	for (i = 0; i < ks->n; i++) {
		if (v[i] != NULL)
			csv_cell(out, v[i], vl[i], false, raw);
		else
			fputc(',', out);
	}
	fputc('\n', out);
}

/*
 * The second audit record of an export, for what the first one (written
 * before any row) didn't foresee: a failure, or members who came or went.
 */
static void audit_outcome(struct store *st, const char *list, enum store_status s, int64_t rows,
			  int64_t members, char **errstr)
{
	char details[300];

	if (s != STORE_OK)
		snprintf(details, sizeof(details), "failed (%lld of %lld rows read): %s",
			 (long long)rows, (long long)members,
			 errstr != NULL && *errstr != NULL ? *errstr : store_strstatus(s));
	else if (rows != members)
		snprintf(details, sizeof(details),
			 "%lld rows, not %lld: the list changed during the export", (long long)rows,
			 (long long)members);
	else
		return;
	store_audit(st, "export", list, s == STORE_OK ? "ok" : "failed", details);
}

enum store_status store_list_export(struct store *st, const char *list, FILE *out, unsigned flags,
				    int64_t *rows, char **errstr)
{
	bool raw = (flags & STORE_EXPORT_RAW) != 0;
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct keys ks = {0};
	const char **v = NULL;
	size_t *vl = NULL, i;
	const char *why;
	char details[64];
	int64_t members = 0;
	bool audited = false;
	int rc;

	*rows = 0;
	/* Masked addresses would make a file that imports as other people. */
	s = store_require(st, STORE_PERM_SUBSCRIBERS_EXPORT, "export", errstr);
	if (s == STORE_OK)
		s = store_require(st, STORE_PERM_PII, "export", errstr);
	if (s == STORE_OK)
		s = store_list_check(st, list, errstr);
	if (s == STORE_OK)
		s = collect_keys(st, list, &ks, &members, errstr);
	/*
	 * Audited before a row leaves: an export read by a pipe that closes
	 * early, or one stopped by a signal, is on record all the same, and
	 * one that can't be recorded (another hato is writing) writes nothing.
	 */
	if (s == STORE_OK) {
		snprintf(details, sizeof(details), "%lld row%s%s", (long long)members,
			 members == 1 ? "" : "s", raw ? ", raw (formulas not neutralised)" : "");
		s = store_audit(st, "export", list, "ok", details);
		audited = s == STORE_OK;
		if (s != STORE_OK)
			s = store_fail(errstr, s,
				       "the export can't be recorded in the audit trail (%s), so "
				       "nothing was exported",
				       store_strstatus(s));
	}
	if (s != STORE_OK)
		goto done;
	v = calloc(ks.n + 1, sizeof(*v));
	vl = calloc(ks.n + 1, sizeof(*vl));
	if (v == NULL || vl == NULL) {
		s = STORE_ENOMEM;
		goto done;
	}
	for (i = 0; i < NFIXED; i++)
		csv_cell(out, fixed[i], strlen(fixed[i]), i == 0, raw);
	for (i = 0; i < ks.n; i++)
		csv_cell(out, ks.k[i], ks.len[i], false, raw);
	fputc('\n', out);
	s = store_prepare(
	    st,
	    "SELECT s.email, s.name, m.consent_source, m.consent_at, m.consent_method,"
	    " m.consent_text, m.consent_ip, m.consent_version, m.consent_confirmed, s.attrs" MEMBERS
	    " ORDER BY s.id",
	    &q, errstr);
	if (s != STORE_OK)
		goto done;
	sqlite3_bind_text(q, 1, list, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		write_row(out, q, &ks, v, vl, raw);
		(*rows)++;
	}
	if (rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "exporting");
	why = s == STORE_OK ? write_failed(out) : NULL;
	if (why != NULL)
		s = store_fail(errstr, STORE_EIO, "cannot write the export: %s", why);
done:
	if (audited)
		audit_outcome(st, list, s, *rows, members, errstr);
	sqlite3_finalize(q);
	keys_free(&ks);
	free(v);
	free(vl);
	return s;
}

/* ---- JSON ----------------------------------------------------------------- */

/* Writes s as a JSON string; invalid UTF-8 becomes U+FFFD. */
static void json_str(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	const unsigned char *end = s + strlen((const char *)s);
	uint32_t cp;
	size_t k;

	fputc('"', out);
	while (*s) {
		unsigned char c = *s;
		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
			s++;
			continue;
		}
		if (c < 0x20) {
			const char *e = c == '\n'   ? "\\n"
					: c == '\r' ? "\\r"
					: c == '\t' ? "\\t"
					: c == '\b' ? "\\b"
					: c == '\f' ? "\\f"
						    : NULL;
			if (e != NULL)
				fputs(e, out);
			else
				fprintf(out, "\\u%04x", c);
			s++;
			continue;
		}
		k = store_utf8_char((const char *)s, (size_t)(end - s), &cp);
		if (k == 0) {
			fputs("\\ufffd", out);
			s++;
			continue;
		}
		fwrite(s, 1, k, out);
		s += k;
	}
	fputc('"', out);
}

static void json_kv(FILE *out, const char *indent, const char *k, const char *v, int last)
{
	fputs(indent, out);
	json_str(out, k);
	fputs(": ", out);
	json_str(out, v);
	fputs(last ? "\n" : ",\n", out);
}

static void iso(time_t t, char out[21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The segments that name the person, as JSON objects after "segments": [. */
struct named_out {
	FILE *out;
	size_t n;
};

static int json_segment(const char *name, const char *list, const char *expr, void *arg)
{
	struct named_out *o = arg;

	fputs(o->n++ ? ",\n    {\n" : "\n    {\n", o->out);
	json_kv(o->out, "      ", "name", name, 0);
	json_kv(o->out, "      ", "list", list, 0);
	json_kv(o->out, "      ", "expression", expr, 1);
	fputs("    }", o->out);
	return 0;
}

/* A consent record, the last member of a list's object. */
static void consent_json(FILE *out, const char *source, const char *at, const char *method,
			 const char *text, const char *version, const char *confirmed,
			 const char *ip)
{
	fputs("      \"consent\": {\n", out);
	json_kv(out, "        ", "source", source, 0);
	json_kv(out, "        ", "at", at, 0);
	json_kv(out, "        ", "method", method, 0);
	json_kv(out, "        ", "text", text, 0);
	json_kv(out, "        ", "version", version, 0);
	json_kv(out, "        ", "confirmed_at", confirmed, 0);
	json_kv(out, "        ", "ip", ip, 1);
	fputs("      }\n", out);
}

/*
 * What an erasure kept of an address (store/consent.c): its consent records,
 * until a month after the last mail. *found is false when there are none.
 */
static enum store_status held_data(struct store *st, const char *email, FILE *out, bool *found,
				   char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char addr[STORE_ADDRESS_MAX + 1], h[65], t1[21], t2[21];
	const char *failed;
	int rc, n = 0;

	*found = false;
	s = subscriber_norm(email, addr, errstr);
	if (s != STORE_OK)
		return s;
	store_address_hash(st, addr, h);
	s = store_prepare(st,
			  "SELECT email, list, source, at, method, text, ip, last_mail, until,"
			  " version, confirmed FROM consent_held WHERE ehash = ? ORDER BY list",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, h, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n++ == 0) {
			iso((time_t)sqlite3_column_int64(q, 7), t1);
			iso((time_t)sqlite3_column_int64(q, 8), t2);
			fputs("{\n", out);
			json_kv(out, "  ", "email", (const char *)sqlite3_column_text(q, 0), 0);
			json_kv(out, "  ", "status", "erased", 0);
			json_kv(out, "  ", "last_mail", t1, 0);
			json_kv(out, "  ", "consent_held_until", t2, 0);
			fputs("  \"lists\": [\n", out);
		} else {
			fputs(",\n", out);
		}
		fputs("    {\n", out);
		json_kv(out, "      ", "list", (const char *)sqlite3_column_text(q, 1), 0);
		consent_json(out, (const char *)sqlite3_column_text(q, 2),
			     (const char *)sqlite3_column_text(q, 3),
			     (const char *)sqlite3_column_text(q, 4),
			     (const char *)sqlite3_column_text(q, 5),
			     (const char *)sqlite3_column_text(q, 9),
			     (const char *)sqlite3_column_text(q, 10),
			     (const char *)sqlite3_column_text(q, 6));
		fputs("    }", out);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return store_sqlfail(st, errstr, "reading the consent records kept");
	if (n == 0)
		return STORE_OK;
	fputs("\n  ]\n}\n", out);
	*found = true;
	failed = write_failed(out);
	if (failed != NULL)
		return store_fail(errstr, STORE_EIO, "cannot write the data: %s", failed);
	return store_audit(st, "subscriber.data", h, "ok",
			   "data access (GDPR Art. 15/20): the consent records an erasure kept");
}

enum store_status store_subscriber_data(struct store *st, const char *email, FILE *out,
					char **errstr)
{
	enum store_status s;
	struct store_subscriber *p = NULL;
	struct named_out named = {out, 0};
	const char *why;
	char t1[21], t2[21], h[65];
	size_t i;

	s = store_require(st, STORE_PERM_PII, "subscriber.data", errstr);
	if (s == STORE_OK)
		s = store_subscriber_get(st, email, &p, errstr);
	if (s == STORE_ENOTFOUND) {
		/* Erased: what the law asked kept a while, if anything. */
		bool found = false;
		char *herr = NULL;
		enum store_status k = held_data(st, email, out, &found, &herr);

		if (k != STORE_OK || found) {
			if (errstr != NULL) {
				free(*errstr);
				*errstr = herr;
			} else {
				free(herr);
			}
			return k;
		}
		free(herr);
	}
	if (s != STORE_OK)
		return s;
	iso(p->created, t1);
	iso(p->updated, t2);
	fputs("{\n", out);
	json_kv(out, "  ", "email", p->email, 0);
	json_kv(out, "  ", "name", p->name, 0);
	json_kv(out, "  ", "status", p->status, 0);
	/* status is the person's; a suppression, of the address or its domain, is beside it. */
	fprintf(out, "  \"suppressed\": %s,\n", p->suppressed ? "true" : "false");
	if (p->suppressed_by != NULL) {
		fputs("  \"suppression\": {\n", out);
		json_kv(out, "    ", "by", p->suppressed_by, 0);
		json_kv(out, "    ", "reason", p->suppression_reason, 1);
		fputs("  },\n", out);
	} else {
		fputs("  \"suppression\": null,\n", out);
	}
	json_kv(out, "  ", "created", t1, 0);
	json_kv(out, "  ", "updated", t2, 0);
	fputs("  \"attributes\": {", out);
	for (i = 0; i < p->nattrs; i++)
		json_kv(out, i ? "    " : "\n    ", p->attrs[i].key, p->attrs[i].value,
			i + 1 == p->nattrs);
	fputs(p->nattrs ? "  },\n" : "},\n", out);
	fputs("  \"lists\": [", out);
	for (i = 0; i < p->nlists; i++) {
		const struct store_membership *m = &p->lists[i];
		iso(m->created, t1);
		iso(m->updated, t2);
		fputs(i ? ",\n    {\n" : "\n    {\n", out);
		json_kv(out, "      ", "list", m->list, 0);
		json_kv(out, "      ", "status", m->status, 0);
		json_kv(out, "      ", "joined", t1, 0);
		json_kv(out, "      ", "updated", t2, 0);
		consent_json(out, m->consent_source, m->consent_at, m->consent_method,
			     m->consent_text, m->consent_version, m->consent_confirmed,
			     m->consent_ip);
		fputs("    }", out);
	}
	fputs(p->nlists ? "\n  ],\n" : "],\n", out);
	fputs("  \"history\": [", out);
	for (i = 0; i < p->nevents; i++) {
		const struct store_event *e = &p->events[i];
		fputs(i ? ",\n    {\n" : "\n    {\n", out);
		json_kv(out, "      ", "time", e->time, 0);
		json_kv(out, "      ", "event", e->event, 0);
		json_kv(out, "      ", "list", e->list, 0);
		json_kv(out, "      ", "details", e->details, 1);
		fputs("    }", out);
	}
	fputs(p->nevents ? "\n  ],\n" : "],\n", out);
	/* A saved segment's expression may name the person (email = "..."). */
	fputs("  \"segments\": [", out);
	s = segment_each_naming(st, p->email, json_segment, &named, errstr);
	fputs(named.n ? "\n  ]\n}\n" : "]\n}\n", out);
	store_address_hash(st, p->email, h);
	store_subscriber_free(&p);
	if (s != STORE_OK)
		return s;
	why = write_failed(out);
	if (why != NULL)
		return store_fail(errstr, STORE_EIO, "cannot write the data: %s", why);
	return store_audit(st, "subscriber.data", h, "ok", "data access (GDPR Art. 15/20)");
}
