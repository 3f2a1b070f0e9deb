/*
 * store/audit_prune.c: the audit trail's retention (the setting
 * audit.retention, in days; unset, every record is kept for good).
 *
 * The first login after records grow older than the retention deletes them,
 * in its transaction, as one prefix of the chain: from the first record up to
 * the one before the oldest record written within the retention, so that a
 * clock that stepped back only delays a pruning. The last record of the
 * prefix stays, blanked but for its number, time and hash, as the chain's
 * anchor (action AUDIT_ANCHOR): `audit verify` goes on from its hash, and an
 * audit.prune record names it, with the count removed and the retention
 * applied. secure_delete overwrites what is deleted. A prefix whose chain
 * does not verify is not deleted, for it is the evidence of an edit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/private.h"

/* At most a hundred years: a longer one is a typing error. */
#define RETENTION_MAX 36500
/* Records deleted by one statement: see move_subscribers in schema.c. */
#define PRUNE_BATCH 5000

/* The days in a value N or Nd; -1 when it is neither. */
static long retention_days(const char *value)
{
	char *end = NULL;
	long n;

	if (*value < '0' || *value > '9')
		return -1;
	n = strtol(value, &end, 10);
	if (*end == 'd')
		end++;
	return *end == '\0' && n <= RETENTION_MAX ? n : -1;
}

enum store_status audit_retention_check(const char *value, char **errstr)
{
	long n = retention_days(value);

	if (*value == '\0')
		return STORE_OK; /* unset, as everywhere: every record is kept */
	if (n < 0)
		return store_fail(errstr, STORE_EINVAL,
				  "audit.retention takes a number of days, %d to %d (365 or 365d)",
				  AUDIT_RETENTION_MIN, RETENTION_MAX);
	if (n < AUDIT_RETENTION_MIN)
		return store_fail(
		    errstr, STORE_EINVAL,
		    "audit.retention must be %d days or more, not %ld: the audit trail "
		    "backs rate limits, approvals and who did what",
		    AUDIT_RETENTION_MIN, n);
	return STORE_OK;
}

/* The retention set, in days; 0 when unset, or set behind hato's back to what it refuses. */
static enum store_status retention(struct store *st, long *days)
{
	enum store_status s;
	char *value = NULL;

	*days = 0;
	s = store_config_get(st, "audit.retention", &value, NULL);
	if (s == STORE_ENOTFOUND)
		return STORE_OK;
	if (s == STORE_OK && *value != '\0' && audit_retention_check(value, NULL) == STORE_OK)
		*days = retention_days(value);
	free(value);
	return s;
}

/* Deletes records first to anchor - 1, a batch at a time, and blanks the anchor. */
static enum store_status cut(struct store *st, int64_t first, int64_t anchor, char **errstr)
{
	enum store_status s = STORE_OK;
	int64_t from;

	for (from = first; s == STORE_OK && from < anchor; from += PRUNE_BATCH)
		s = store_run(st, "DELETE FROM audit WHERE id >= ?1 AND id < ?2", errstr,
			      "pruning the audit trail", "ii", from,
			      from + PRUNE_BATCH < anchor ? from + PRUNE_BATCH : anchor);
	if (s == STORE_OK)
		s = store_run(st,
			      "UPDATE audit SET user = '', os_user = '', action = ?1, object = '',"
			      " outcome = 'pruned', details = '' WHERE id = ?2",
			      errstr, "pruning the audit trail", "ti", AUDIT_ANCHOR, anchor);
	return s;
}

enum store_status audit_prune(struct store *st, int64_t *pruned, char **errstr)
{
	enum store_status s;
	struct audit_walk w;
	char object[40], details[240], *why = NULL;
	int64_t keep = 0, first = 0;
	long days;

	*pruned = 0;
	s = retention(st, &days);
	if (s != STORE_OK || days == 0)
		return s;
	/* The first record kept: the oldest written within the retention. */
	s = store_query_int(st,
			    "SELECT min(id) FROM audit WHERE time >="
			    " strftime('%Y-%m-%dT%H:%M:%SZ', ?1, 'unixepoch')",
			    &keep, errstr, 1, (int64_t)time(NULL) - (int64_t)days * 86400);
	if (s == STORE_OK)
		s = store_query_int(st, "SELECT min(id) FROM audit", &first, errstr, 0);
	/* The records with something in them that the pruning removes. */
	if (s == STORE_OK && keep > 1)
		s = store_query_int(
		    st, "SELECT count(*) FROM audit WHERE id < ?1 AND action <> '" AUDIT_ANCHOR "'",
		    pruned, errstr, 1, keep);
	if (s != STORE_OK || *pruned == 0)
		return s;
	snprintf(object, sizeof(object), "record %lld", (long long)(keep - 1));
	s = audit_walk(st, keep, &w, &why);
	if (s != STORE_OK && s != STORE_ECORRUPT)
		s = store_fail(errstr, s, "%s", why != NULL ? why : store_strstatus(s));
	free(why);
	if (s == STORE_ECORRUPT) {
		*pruned = 0;
		snprintf(details, sizeof(details),
			 "nothing removed: the records older than the retention do not verify "
			 "(broken at record %lld); hato audit verify says more",
			 (long long)w.bad);
		return store_audit(st, "audit.prune", object, "failed", details);
	}
	if (s == STORE_OK)
		s = cut(st, first, keep - 1, errstr);
	snprintf(details, sizeof(details),
		 "%lld record%s removed by the retention of %ld days (audit.retention), up to "
		 "record %lld, which is kept blanked for its hash: the chain goes on from it",
		 (long long)*pruned, *pruned == 1 ? "" : "s", days, (long long)(keep - 1));
	if (s == STORE_OK)
		s = store_audit(st, "audit.prune", object, "ok", details);
	return s;
}

/*
 * Reads into *p the audit.prune record that names the anchor p->anchor or,
 * when record > 0, the first one that removed that record (its anchor is at
 * or after it) and is still in the trail.
 */
static enum store_status prune_record(struct store *st, struct store_audit_prune *p, int64_t record,
				      char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	const char *details, *of;
	char object[40];
	struct tm tm;

	snprintf(object, sizeof(object), "record %lld", (long long)p->anchor);
	s = store_prepare(st,
			  record > 0
			      ? "SELECT id, time, details FROM audit WHERE action = 'audit.prune'"
				" AND outcome = 'ok' AND object LIKE 'record %'"
				" AND CAST(substr(object, 8) AS INTEGER) >= ?2 ORDER BY id LIMIT 1"
			      : "SELECT id, time, details FROM audit WHERE action = 'audit.prune'"
				" AND outcome = 'ok' AND object = ?1 ORDER BY id DESC LIMIT 1",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	if (record > 0)
		sqlite3_bind_int64(q, 2, record);
	else
		sqlite3_bind_text(q, 1, object, -1, SQLITE_STATIC);
	memset(&tm, 0, sizeof(tm));
	if (sqlite3_step(q) == SQLITE_ROW) {
		snprintf(p->time, sizeof(p->time), "%s", (const char *)sqlite3_column_text(q, 1));
		details = (const char *)sqlite3_column_text(q, 2);
		of = strstr(details, " retention of ");
		p->removed = strtoll(details, NULL, 10);
		p->days = of != NULL ? (int)strtol(of + 14, NULL, 10) : 0;
		/* Only what a pruning could remove is taken for one. */
		if (p->days >= AUDIT_RETENTION_MIN && p->days <= RETENTION_MAX &&
		    strptime(p->time, "%Y-%m-%dT%H:%M:%SZ", &tm) != NULL) {
			p->record = sqlite3_column_int64(q, 0);
			store_utc_time(timegm(&tm) - (time_t)p->days * 86400, p->before);
		}
	}
	sqlite3_finalize(q);
	return s;
}

enum store_status store_audit_pruned(struct store *st, struct store_audit_prune *p, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	memset(p, 0, sizeof(*p));
	s = store_require(st, STORE_PERM_AUDIT, "audit.verify", errstr);
	if (s == STORE_OK)
		s = store_prepare(st, "SELECT id, action FROM audit ORDER BY id LIMIT 1", &q,
				  errstr);
	if (s != STORE_OK)
		return s;
	if (sqlite3_step(q) == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(q, 1), AUDIT_ANCHOR) == 0)
		p->anchor = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return p->anchor != 0 ? prune_record(st, p, 0, errstr) : STORE_OK;
}

enum store_status audit_pruned_record(struct store *st, int64_t record, struct store_audit_prune *p,
				      char **errstr)
{
	struct store_audit_prune first = *p;
	enum store_status s;

	if (p->anchor == 0 || record >= p->anchor)
		return STORE_OK;
	s = prune_record(st, &first, record, errstr);
	if (s == STORE_OK && first.record != 0)
		*p = first;
	return s;
}
