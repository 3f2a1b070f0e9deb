/*
 * store/queue_admin.c: the send queue outside the worker's claims: turning
 * what was in flight at a crash into uncertain, retrying recipients, and
 * the counts and recent errors that status screens show.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/private.h"

/* ---- Recovery and retries ----------------------------------------------------- */

/* The names of the campaigns with recipients in flight, each followed by a space. */
static enum store_status inflight_campaigns(struct store *st, char **names, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char *all = NULL, *grown;
	size_t len = 0, n;
	int rc;

	s = store_prepare(st,
			  /* campaign by campaign through queue_claim: no scan of the queue */
			  "SELECT name FROM campaigns c WHERE EXISTS (SELECT 1 FROM queue q"
			  " WHERE q.campaign = c.id AND q.state = 1) ORDER BY name",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		n = strlen(name != NULL ? name : "");
		grown = realloc(all, len + n + 2);
		if (grown == NULL) {
			s = store_fail(errstr, STORE_ENOMEM, "out of memory");
			break;
		}
		all = grown;
		memcpy(all + len, name != NULL ? name : "", n);
		len += n;
		all[len++] = ' ';
		all[len] = '\0';
	}
	if (s == STORE_OK && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "recovering the send queue");
	sqlite3_finalize(q);
	if (s != STORE_OK) {
		free(all);
		all = NULL;
	}
	*names = all;
	return s;
}

enum store_status store_queue_recover(struct store *st, int64_t *uncertain, char **campaigns,
				      char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char details[64], *names = NULL;

	*uncertain = 0;
	if (campaigns != NULL)
		*campaigns = NULL;
	s = store_require(st, STORE_PERM_CAMPAIGNS_SEND, "campaign.recover", errstr);
	if (s != STORE_OK)
		return s;
	s = store_begin_err(st, errstr, "recovering the send queue");
	if (s != STORE_OK)
		return s;
	if (campaigns != NULL)
		s = inflight_campaigns(st, &names, errstr);
	if (s == STORE_OK)
		s = store_prepare(st,
				  "UPDATE queue SET state = 5, updated = ?, reply = ?"
				  " WHERE campaign IN (SELECT id FROM campaigns) AND state = 1",
				  &q, errstr);
	if (s == STORE_OK) {
		sqlite3_bind_int64(q, 1, (sqlite3_int64)time(NULL));
		sqlite3_bind_text(q, 2, STORE_RECOVERED_REPLY, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			s = store_sqlfail(st, errstr, "recovering the send queue");
		else
			*uncertain = sqlite3_changes(st->db);
		sqlite3_finalize(q);
	}
	if (s == STORE_OK && *uncertain > 0) {
		snprintf(details, sizeof(details), "%lld in flight became uncertain",
			 (long long)*uncertain);
		s = store_audit(st, "campaign.recover", NULL, "ok", details);
	}
	if (s == STORE_OK)
		s = store_commit_err(st, errstr);
	else
		store_rollback(st);
	if (s == STORE_OK && campaigns != NULL && names != NULL && names[0] != '\0') {
		names[strlen(names) - 1] = '\0'; /* the last space */
		*campaigns = names;
		names = NULL;
	}
	free(names);
	return s;
}

enum store_status store_queue_retry(struct store *st, const char *name, unsigned states,
				    int64_t *count, char **errstr)
{
	const unsigned allowed =
	    1u << STORE_RCPT_FAILED | 1u << STORE_RCPT_DEFERRED | 1u << STORE_RCPT_UNCERTAIN;
	enum store_status s;
	sqlite3_stmt *q = NULL;
	int64_t id = 0;
	char details[96], cstate[16] = "";

	*count = 0;
	s = store_require(st, STORE_PERM_CAMPAIGNS_SEND, "campaign.retry", errstr);
	if (s != STORE_OK)
		return s;
	if (states == 0 || (states & ~allowed) != 0)
		return store_fail(
		    errstr, STORE_EUSAGE,
		    "say which recipients to retry: failed, deferred and/or uncertain");
	s = store_begin_err(st, errstr, "retrying recipients");
	if (s != STORE_OK)
		return s;
	s = store_prepare(st, "SELECT id, state FROM campaigns WHERE name = ?", &q, errstr);
	if (s == STORE_OK) {
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW) {
			id = sqlite3_column_int64(q, 0);
			snprintf(cstate, sizeof(cstate), "%s", sqlite3_column_text(q, 1));
		} else {
			s = store_fail(errstr, STORE_ENOTFOUND,
				       "there is no campaign %s; see: hato campaign ls", name);
		}
		sqlite3_finalize(q);
		q = NULL;
	}
	if (s == STORE_OK && strcmp(cstate, "cancelled") == 0)
		s = store_fail(errstr, STORE_EINVAL,
			       "campaign %s is cancelled; copy it to send it again", name);
	/*
	 * Nothing sends a failed campaign's queue: retrying its recipients would
	 * promise what won't happen.
	 */
	if (s == STORE_OK && strcmp(cstate, "failed") == 0)
		s = store_fail(errstr, STORE_EINVAL,
			       "campaign %s failed and can no longer send (see: hato campaign show "
			       "%s); copy it with hato campaign copy to send it again",
			       name, name);
	if (s == STORE_OK)
		s = store_prepare(
		    st,
		    "UPDATE queue SET state = 0, next_try = 0, attempts = 0, updated = ?3"
		    " WHERE campaign = ?1 AND state IN (3, 4, 5) AND (?2 >> state) & 1",
		    &q, errstr);
	if (s == STORE_OK) {
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_int64(q, 2, states);
		sqlite3_bind_int64(q, 3, (sqlite3_int64)time(NULL));
		if (sqlite3_step(q) != SQLITE_DONE)
			s = store_sqlfail(st, errstr, "retrying recipients");
		else
			*count = sqlite3_changes(st->db);
		sqlite3_finalize(q);
	}
	/* A finished campaign with recipients to send again is sending again. */
	if (s == STORE_OK && *count > 0 && strcmp(cstate, "sent") == 0)
		s = store_query_int(
		    st,
		    "UPDATE campaigns SET state = 'sending', finished_at = 0, updated = ?2"
		    " WHERE id = ?1",
		    &id, errstr, 2, id, (int64_t)time(NULL));
	if (s == STORE_OK) {
		snprintf(details, sizeof(details), "%lld recipients (%s%s%s)", (long long)*count,
			 states & 1u << STORE_RCPT_FAILED ? " failed" : "",
			 states & 1u << STORE_RCPT_DEFERRED ? " deferred" : "",
			 states & 1u << STORE_RCPT_UNCERTAIN ? " uncertain" : "");
		s = store_audit(st, "campaign.retry", name, "ok", details);
	}
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

/* ---- Counting ------------------------------------------------------------------ */

enum store_status store_queue_stats(struct store *st, int64_t campaign,
				    struct store_queue_stats *out, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	int64_t next = 0;
	int rc, k;

	memset(out, 0, sizeof(*out));
	s = store_require(st, STORE_PERM_CAMPAIGNS_READ, "campaign.status", errstr);
	if (s == STORE_OK)
		s = store_prepare(
		    st,
		    "SELECT state, count(*) FROM (SELECT state FROM queue WHERE campaign = ?1"
		    " UNION ALL SELECT state FROM queue_erased WHERE campaign = ?1) GROUP BY state",
		    &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, campaign);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		k = sqlite3_column_int(q, 0);
		if (k >= 0 && k < STORE_RCPT_NSTATES)
			out->count[k] = sqlite3_column_int64(q, 1);
		out->total += sqlite3_column_int64(q, 1);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return store_sqlfail(st, errstr, "counting the send queue");
	s = store_query_int(st,
			    "SELECT (SELECT count(*) FROM queue WHERE state = 2 AND updated >= ?2"
			    " AND campaign = ?1) + (SELECT count(*) FROM queue_erased"
			    " WHERE state = 2 AND updated >= ?2 AND campaign = ?1)",
			    &out->sent_last_minute, errstr, 2, campaign, (int64_t)time(NULL) - 60);
	if (s == STORE_OK)
		s = store_query_int(
		    st, "SELECT min(next_try) FROM queue WHERE campaign = ? AND state = 3", &next,
		    errstr, 1, campaign);
	if (s == STORE_OK && out->count[STORE_RCPT_FAILED] > 0)
		s = store_query_int(
		    st,
		    "SELECT (SELECT count(*) FROM queue q JOIN subscribers s"
		    " ON s.id = q.subscriber AND s.status = 'bounced'"
		    " WHERE q.campaign = ?1 AND q.state = 4) + (SELECT count(*)"
		    " FROM queue_erased WHERE campaign = ?1 AND state = 4 AND bounced)",
		    &out->bounced, errstr, 1, campaign);
	if (s == STORE_OK)
		s = store_query_int(st, "SELECT count(*) FROM complaints WHERE campaign = ?",
				    &out->complaints, errstr, 1, campaign);
	out->next_retry = (time_t)next;
	return s;
}

enum store_status store_campaign_complaints(struct store *st, int64_t campaign, int64_t *complaints,
					    int64_t *sent, char **errstr)
{
	enum store_status s;

	*sent = 0;
	s = store_query_int(st, "SELECT count(*) FROM complaints WHERE campaign = ?", complaints,
			    errstr, 1, campaign);
	if (s == STORE_OK && *complaints > 0)
		s = store_query_int(st,
				    "SELECT (SELECT count(*) FROM queue WHERE campaign = ?1"
				    " AND state = 2) + (SELECT count(*) FROM queue_erased"
				    " WHERE campaign = ?1 AND state = 2)",
				    sent, errstr, 1, campaign);
	return s;
}

enum store_status store_last_sent_before(struct store *st, time_t t, time_t *out, char **errstr)
{
	enum store_status s;
	int64_t v = 0;

	*out = 0;
	s = store_require(st, STORE_PERM_CAMPAIGNS_READ, "campaign.status", errstr);
	if (s == STORE_OK)
		s = store_query_int(
		    st,
		    "SELECT max(coalesce((SELECT max(updated) FROM queue WHERE state = 2"
		    " AND updated < ?1), 0), coalesce((SELECT max(updated) FROM"
		    " queue_erased WHERE state = 2 AND updated < ?1), 0))",
		    &v, errstr, 1, (int64_t)t);
	*out = (time_t)v;
	return s;
}

enum store_status store_warmup_restart_get(struct store *st, time_t *day, char **errstr)
{
	int64_t v = 0;
	enum store_status s = store_query_int(
	    st, "SELECT value FROM sequences WHERE name = 'warmup.restarted'", &v, errstr, 0);

	*day = (time_t)v;
	return s;
}

enum store_status store_warmup_restart_set(struct store *st, time_t day, const char *why,
					   char **errstr)
{
	enum store_status s =
	    store_require(st, STORE_PERM_CAMPAIGNS_SEND, "warmup.restart", errstr);
	char when[21];

	if (s == STORE_OK)
		s = store_begin_err(st, errstr, "restarting the warm-up");
	if (s != STORE_OK)
		return s;
	s = store_run(
	    st, "INSERT OR REPLACE INTO sequences (name, value) VALUES ('warmup.restarted', ?)",
	    errstr, "restarting the warm-up", "i", (int64_t)day);
	store_utc_time(day, when);
	if (s == STORE_OK)
		s = store_audit(st, "warmup.restart", when, "ok", why);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

enum store_status store_complaints_since(struct store *st, time_t t, int64_t *complaints,
					 int64_t *sent, char **errstr)
{
	enum store_status s = store_sent_since(st, t, sent, errstr);

	if (s == STORE_OK)
		s = store_query_int(st, "SELECT count(*) FROM complaints WHERE time >= ?",
				    complaints, errstr, 1, (int64_t)t);
	return s;
}

enum store_status store_sent_since(struct store *st, time_t t, int64_t *count, char **errstr)
{
	enum store_status s;

	*count = 0;
	s = store_require(st, STORE_PERM_CAMPAIGNS_READ, "campaign.status", errstr);
	if (s != STORE_OK)
		return s;
	return store_query_int(
	    st,
	    "SELECT (SELECT count(*) FROM queue WHERE state = 2 AND updated >= ?1)"
	    " + (SELECT count(*) FROM queue_erased WHERE state = 2"
	    " AND updated >= ?1)",
	    count, errstr, 1, (int64_t)t);
}

enum store_status store_sent_to_domain_since(struct store *st, const char *domain, time_t t,
					     int64_t *count, time_t *first, time_t *last,
					     char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	int rc;

	*count = 0;
	*first = *last = 0;
	s = store_require(st, STORE_PERM_CAMPAIGNS_READ, "campaign.status", errstr);
	if (s == STORE_OK)
		s = store_prepare(st,
				  "SELECT count(*), min(updated), max(updated) FROM queue WHERE "
				  "state = 2 AND updated >= ?"
				  " AND domain = ? COLLATE NOCASE",
				  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, (sqlite3_int64)t);
	sqlite3_bind_text(q, 2, domain, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*count = sqlite3_column_int64(q, 0);
		*first = (time_t)sqlite3_column_int64(q, 1); /* NULL, none: 0 */
		*last = (time_t)sqlite3_column_int64(q, 2);
	} else {
		s = store_sqlfail(st, errstr, "counting messages to a domain");
	}
	sqlite3_finalize(q);
	return s;
}

enum store_status store_queue_errors(struct store *st, int64_t campaign, int max,
				     store_rcpt_error_cb cb, void *arg, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct store_rcpt_error e;
	char *masked, *reply, when[21];
	time_t t;
	struct tm tm;
	int rc;

	s = store_require(st, STORE_PERM_CAMPAIGNS_READ, "campaign.status", errstr);
	if (s == STORE_OK)
		s = store_prepare(st,
				  "SELECT email, state, reply, updated FROM queue"
				  " WHERE campaign = ? AND state IN (3, 4, 5)"
				  " ORDER BY updated DESC, subscriber DESC LIMIT ?",
				  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, campaign);
	sqlite3_bind_int(q, 2, max);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		/* A reply may quote the address ("550 <taro@example.com>: unknown"). */
		masked = store_mask_address(st, (const char *)sqlite3_column_text(q, 0));
		reply = store_mask_text(st, sqlite3_column_type(q, 2) == SQLITE_NULL
						? ""
						: (const char *)sqlite3_column_text(q, 2));
		if (masked == NULL || reply == NULL) {
			free(masked);
			free(reply);
			s = STORE_ENOMEM;
			break;
		}
		t = (time_t)sqlite3_column_int64(q, 3);
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		e.email = masked;
		e.state = store_rcpt_state_name((enum store_rcpt_state)sqlite3_column_int(q, 1));
		e.reply = reply;
		e.time = when;
		rc = cb(&e, arg);
		free(masked);
		free(reply);
		if (rc != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (s == STORE_OK && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "listing recent errors");
	sqlite3_finalize(q);
	return s;
}
