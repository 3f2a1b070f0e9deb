/*
 * store/export.c: what leaves the store about people: a list as CSV, and one
 * person's data as JSON (GDPR Art. 15 and 20).
 */
#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/subscribers_private.h"

#define MAX_EXPORT_KEYS 512

/* ---- CSV ------------------------------------------------------------------ */

struct keys {
	char *k[MAX_EXPORT_KEYS];
	size_t n;
};

static int keys_add(struct keys *ks, const char *k, size_t kl)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		if (strlen(ks->k[i]) == kl && memcmp(ks->k[i], k, kl) == 0)
			return 0;
	if (ks->n == MAX_EXPORT_KEYS)
		return 0;
	ks->k[ks->n] = strndup(k, kl);
	if (ks->k[ks->n] == NULL)
		return -1;
	ks->n++;
	return 0;
}

static void csv_cell(FILE *out, const char *s, size_t n, int first)
{
	if (!first)
		fputc(',', out);
	csv_fwrite(out, s, n);
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

enum store_status store_list_export(struct store *st, const char *list, FILE *out, int64_t *rows,
				    char **errstr)
{
	static const char *const fixed[] = {"email",	  "name",	    "consent_source",
					    "consent_at", "consent_method", "consent_text",
					    "consent_ip"};
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct keys ks = {{0}, 0};
	const char *why;
	char details[64];
	size_t i, pos, kl, vl;
	const char *k, *v;
	int rc;

	*rows = 0;
	/* Masked addresses would make a file that imports as other people. */
	s = store_require(st, STORE_PERM_SUBSCRIBERS_EXPORT, "export", errstr);
	if (s == STORE_OK)
		s = store_require(st, STORE_PERM_PII, "export", errstr);
	if (s == STORE_OK)
		s = store_list_check(st, list, errstr);
	/* First pass: the attribute keys, in the order first seen. */
	if (s == STORE_OK)
		s = store_prepare(st, "SELECT s.attrs" MEMBERS " ORDER BY s.id", &q, errstr);
	if (s != STORE_OK)
		goto done;
	sqlite3_bind_text(q, 1, list, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const unsigned char *b = sqlite3_column_blob(q, 0);
		size_t n = (size_t)sqlite3_column_bytes(q, 0);
		pos = 0;
		while (attrs_next(b, n, &pos, &k, &kl, &v, &vl) == 1)
			if (keys_add(&ks, k, kl) != 0) {
				s = STORE_ENOMEM;
				goto done;
			}
	}
	sqlite3_finalize(q);
	q = NULL;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		csv_cell(out, fixed[i], strlen(fixed[i]), i == 0);
	for (i = 0; i < ks.n; i++)
		csv_cell(out, ks.k[i], strlen(ks.k[i]), 0);
	fputc('\n', out);
	s = store_prepare(
	    st,
	    "SELECT s.email, s.name, m.consent_source, m.consent_at, m.consent_method,"
	    " m.consent_text, m.consent_ip, s.attrs" MEMBERS " ORDER BY s.id",
	    &q, errstr);
	if (s != STORE_OK)
		goto done;
	sqlite3_bind_text(q, 1, list, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *email = (const char *)sqlite3_column_text(q, 0);
		const unsigned char *b = sqlite3_column_blob(q, 7);
		size_t n = (size_t)sqlite3_column_bytes(q, 7);
		csv_cell(out, email, strlen(email), 1);
		for (i = 1; i < 7; i++)
			csv_cell(out, (const char *)sqlite3_column_text(q, (int)i),
				 (size_t)sqlite3_column_bytes(q, (int)i), 0);
		for (i = 0; i < ks.n; i++) {
			if (attrs_find(b, n, ks.k[i], strlen(ks.k[i]), &v, &vl))
				csv_cell(out, v, vl, 0);
			else
				fputc(',', out);
		}
		fputc('\n', out);
		(*rows)++;
	}
	if (rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "exporting");
	why = s == STORE_OK ? write_failed(out) : NULL;
	if (why != NULL)
		s = store_fail(errstr, STORE_EIO, "cannot write the export: %s", why);
done:
	sqlite3_finalize(q);
	for (i = 0; i < ks.n; i++)
		free(ks.k[i]);
	snprintf(details, sizeof(details), "%lld rows", (long long)*rows);
	if (s != STORE_EDENIED)
		store_audit(st, "export", list, s == STORE_OK ? "ok" : "failed", details);
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
	if (s != STORE_OK)
		return s;
	iso(p->created, t1);
	iso(p->updated, t2);
	fputs("{\n", out);
	json_kv(out, "  ", "email", p->email, 0);
	json_kv(out, "  ", "name", p->name, 0);
	json_kv(out, "  ", "status", p->status, 0);
	fprintf(out, "  \"suppressed\": %s,\n", p->suppressed ? "true" : "false");
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
		fputs("      \"consent\": {\n", out);
		json_kv(out, "        ", "source", m->consent_source, 0);
		json_kv(out, "        ", "at", m->consent_at, 0);
		json_kv(out, "        ", "method", m->consent_method, 0);
		json_kv(out, "        ", "text", m->consent_text, 0);
		json_kv(out, "        ", "ip", m->consent_ip, 1);
		fputs("      }\n    }", out);
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
