/*
 * store/bounce.c: a bounce or complaint report applied to one person
 * (`bounce read`): their status, their history, and for a complaint the
 * suppression list, in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/subscribers_private.h"

/* The person's address and status by id; id 0 after the SELECT when absent. */
static enum store_status load(struct store *st, int64_t *id, char addr[STORE_ADDRESS_MAX + 1],
			      char status[16], char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	int rc;

	s = store_prepare(st, "SELECT email, status FROM subscribers WHERE id = ?", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, *id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		snprintf(addr, STORE_ADDRESS_MAX + 1, "%s",
			 (const char *)sqlite3_column_text(q, 0));
		snprintf(status, 16, "%s", (const char *)sqlite3_column_text(q, 1));
	} else {
		*id = 0;
		if (rc != SQLITE_DONE)
			s = store_sqlfail(st, errstr, "finding a subscriber");
	}
	sqlite3_finalize(q);
	if (s == STORE_OK && *id != 0 && strcmp(status, "erased") == 0)
		*id = 0;
	return s;
}

/* A complaint: the address on the suppression list, as `suppress add` puts it. */
static enum store_status suppress(struct store *st, int64_t id, const char *addr, const char *hash,
				  char **errstr)
{
	enum store_status s;
	char now[21];

	store_utc_now(now);
	s = store_run(
	    st,
	    "INSERT OR IGNORE INTO suppressions (value, kind, address, reason, created, by)"
	    " VALUES (?, 'address', ?, 'complaint (feedback report)', ?, ?)",
	    errstr, "suppressing", "tttt", hash, addr, now, store_user(st));
	if (s == STORE_OK && sqlite3_changes(st->db) == 0)
		return STORE_OK; /* already suppressed */
	if (s == STORE_OK)
		s = store_run(st, "UPDATE subscribers SET suppressed = 1 WHERE id = ?", errstr,
			      "suppressing", "i", id);
	if (s == STORE_OK)
		s = store_subscriber_event(st, id, "suppressed", NULL,
					   "complaint (feedback report)", errstr);
	return s;
}

static enum store_status count_complaint(struct store *st, int64_t campaign, int64_t id,
					 char **errstr)
{
	return store_run(st,
			 "INSERT OR IGNORE INTO complaints (campaign, subscriber, time)"
			 " VALUES (nullif(?, 0), ?, ?)",
			 errstr, "counting a complaint", "iii", campaign, id, (int64_t)time(NULL));
}

enum store_status store_complaint_of_erased(struct store *st, int64_t campaign, int64_t id,
					    bool *counted, char **errstr)
{
	enum store_status s =
	    store_require(st, STORE_PERM_SUBSCRIBERS_WRITE, "bounce.read", errstr);

	char object[32];

	*counted = false;
	if (s == STORE_OK)
		s = count_complaint(st, campaign, id, errstr);
	if (s == STORE_OK)
		*counted = sqlite3_changes(st->db) > 0;
	snprintf(object, sizeof(object), "campaign %lld", (long long)campaign);
	if (s == STORE_OK && *counted)
		s = store_audit(
		    st, "bounce.read", object, "ok",
		    "complained: about a person erased since; counted for the campaign");
	return s;
}

static enum store_status mark_locked(struct store *st, int64_t id, const char *addr,
				     const char *status, int64_t campaign, const char *details,
				     bool *changed, char **errstr)
{
	enum store_status s;
	char now[21], h[65], audit[200];

	if (strcmp(status, "bounced") == 0)
		s = store_run(st,
			      "UPDATE subscribers SET status = 'bounced', updated = ?2"
			      " WHERE id = ?1 AND status = 'active'",
			      errstr, "marking a bounced address", "ii", id, (int64_t)time(NULL));
	else
		s = store_run(st,
			      "UPDATE subscribers SET status = 'complained', updated = ?2"
			      " WHERE id = ?1 AND status <> 'complained'",
			      errstr, "marking a complaint", "ii", id, (int64_t)time(NULL));
	if (s != STORE_OK)
		return s;
	*changed = sqlite3_changes(st->db) > 0;
	store_utc_now(now);
	if (*changed)
		s = store_run(
		    st,
		    "INSERT INTO subscriber_events (subscriber, time, event, list, details)"
		    " VALUES (?1, ?2, ?3,"
		    " coalesce((SELECT list FROM campaigns WHERE id = ?4), ''),"
		    " coalesce((SELECT ?5 || ' in ' || name FROM campaigns WHERE id = ?4),"
		    " ?5))",
		    errstr, "recording an event", "ittit", id, now, status, campaign, details);
	store_address_hash(st, addr, h);
	if (s == STORE_OK && strcmp(status, "complained") == 0)
		s = suppress(st, id, addr, h, errstr);
	/* Counted once a person: a second report of the same complaint changes nothing. */
	if (s == STORE_OK && *changed && strcmp(status, "complained") == 0)
		s = count_complaint(st, campaign, id, errstr);
	snprintf(audit, sizeof(audit), "%s: %.150s%s", status, details,
		 *changed ? "" : " (no change)");
	if (s == STORE_OK)
		s = store_audit(st, "bounce.read", h, "ok", audit);
	return s;
}

enum store_status store_subscriber_mark(struct store *st, int64_t id, const char *address,
					const char *status, int64_t campaign, const char *details,
					char **email, bool *changed, char **errstr)
{
	enum store_status s;
	char addr[STORE_ADDRESS_MAX + 1], cur[16];

	*changed = false;
	if (email != NULL)
		*email = NULL;
	if (strcmp(status, "bounced") != 0 && strcmp(status, "complained") != 0)
		return store_fail(errstr, STORE_EUSAGE,
				  "a report makes a person bounced or "
				  "complained, not %s",
				  status);
	s = store_require(st, STORE_PERM_SUBSCRIBERS_WRITE, "bounce.read", errstr);
	if (s == STORE_OK)
		s = store_require_lookup(st, "bounce.read", errstr);
	if (s != STORE_OK)
		return s;
	/* An address that is not one names nobody on file. */
	if (id <= 0 && (address == NULL || subscriber_norm(address, addr, NULL) != STORE_OK))
		return store_fail(errstr, STORE_ENOTFOUND, "nobody on file");
	s = store_begin_err(st, errstr, "applying a report");
	if (s != STORE_OK)
		return s;
	if (id <= 0)
		s = subscriber_find(st, addr, &id, NULL, errstr);
	if (s == STORE_OK && id > 0)
		s = load(st, &id, addr, cur, errstr);
	if (s == STORE_OK && id <= 0)
		s = store_fail(errstr, STORE_ENOTFOUND, "nobody on file");
	if (s == STORE_OK)
		s = mark_locked(st, id, addr, status, campaign, details ? details : "", changed,
				errstr);
	if (s == STORE_OK && email != NULL) {
		*email = strdup(addr);
		if (*email == NULL)
			s = STORE_ENOMEM;
	}
	if (s == STORE_OK)
		s = store_commit_err(st, errstr);
	else
		store_rollback(st);
	if (s != STORE_OK && email != NULL) {
		free(*email);
		*email = NULL;
	}
	return s;
}
