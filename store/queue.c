/*
 * store/queue.c: a campaign's send queue, one row per recipient: filling it,
 * the worker's claims and the outcomes it records.
 *
 * The queue is fixed once, when sending starts, by streaming the segment's
 * recipients into it inside one transaction. A worker claims rows, which
 * marks them in flight in a committed transaction before it sees them; so
 * a crash leaves them in flight, and store_queue_recover (queue_admin.c)
 * turns those (and only those) into uncertain: at most the messages that
 * were in flight. Nothing here loads a whole queue into memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/subscribers_private.h"

static const char *const rcpt_names[STORE_RCPT_NSTATES] = {
    "queued", "in_flight", "sent", "deferred", "failed", "uncertain",
};

const char *store_rcpt_state_name(enum store_rcpt_state s)
{
	return (int)s >= 0 && s < STORE_RCPT_NSTATES ? rcpt_names[s] : "unknown";
}

/* Reads one integer from SQL whose parameters are int64 values. */
enum store_status store_query_int(struct store *st, const char *sql, int64_t *out, char **errstr,
				  int n, ...)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	va_list ap;
	int i, rc;

	*out = 0;
	s = store_prepare(st, sql, &q, errstr);
	if (s != STORE_OK)
		return s;
	va_start(ap, n);
	for (i = 1; i <= n; i++)
		sqlite3_bind_int64(q, i, va_arg(ap, int64_t));
	va_end(ap);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(q, 0);
	else if (rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "reading the send queue");
	sqlite3_finalize(q);
	return s;
}

/* ---- Kept statements ------------------------------------------------------ */

/*
 * The worker claims and records outcomes thousands of times a second; it
 * would spend a good part of that preparing the same SQL again. These
 * statements are prepared once per store and finalised by store_close. A
 * kept statement is reset, with its bindings cleared, after each use.
 */
enum qstmt {
	Q_PICK,	  /* the claim's pick, without excluded domains */
	Q_CHECK,  /* still_wanted's person */
	Q_SUPP,	  /* still_wanted's address hash */
	Q_MARK,	  /* the claim's update */
	Q_HAND,	  /* hand_out's row */
	Q_RESULT, /* an outcome */
	Q_EVENT,  /* the outcome in the person's history */
	Q_COUNT
};

void store_queue_stmts_free(struct store *st)
{
	int i;

	if (st->queue_stmts == NULL)
		return;
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(st->queue_stmts[i]);
	free(st->queue_stmts);
	st->queue_stmts = NULL;
}

/* The kept statement `which`, prepared from sql on first use. */
static enum store_status kept(struct store *st, enum qstmt which, const char *sql, sqlite3_stmt **q,
			      char **errstr)
{
	enum store_status s;

	*q = NULL;
	if (st->queue_stmts == NULL) {
		st->queue_stmts = calloc(Q_COUNT, sizeof(*st->queue_stmts));
		if (st->queue_stmts == NULL)
			return STORE_ENOMEM;
	}
	if (st->queue_stmts[which] == NULL) {
		s = store_prepare(st, sql, &st->queue_stmts[which], errstr);
		if (s != STORE_OK)
			return s;
	}
	*q = st->queue_stmts[which];
	return STORE_OK;
}

/* Done with a statement: a kept one is reset for next time, another finalised. */
static void unkeep(struct store *st, sqlite3_stmt *q)
{
	int i;

	if (q == NULL)
		return;
	for (i = 0; st->queue_stmts != NULL && i < Q_COUNT; i++)
		if (st->queue_stmts[i] == q) {
			sqlite3_reset(q);
			sqlite3_clear_bindings(q);
			return;
		}
	sqlite3_finalize(q);
}

/* ---- Filling -------------------------------------------------------------- */

struct fill {
	struct store *st;
	sqlite3_stmt *ins;
	int64_t campaign, now, count;
	int rc; /* of the last failed step */
};

static int fill_one(const struct store_recipient *r, void *arg)
{
	struct fill *f = arg;

	sqlite3_bind_int64(f->ins, 2, r->id);
	sqlite3_bind_text(f->ins, 3, r->email, -1, SQLITE_STATIC);
	sqlite3_bind_text(f->ins, 4, r->domain, -1, SQLITE_STATIC);
	f->rc = sqlite3_step(f->ins);
	sqlite3_reset(f->ins);
	if (f->rc != SQLITE_DONE)
		return 1;
	f->count += sqlite3_changes(f->st->db);
	return 0;
}

enum store_status store_queue_fill(struct store *st, int64_t campaign, int64_t *count,
				   char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct fill f = {st, NULL, campaign, (int64_t)time(NULL), 0, SQLITE_DONE};
	char *list = NULL, *segment = NULL, *seglist = NULL, *expr = NULL, *name = NULL;
	char details[64];
	int64_t filled = 0;

	*count = 0;
	s = store_require(st, STORE_PERM_CAMPAIGNS_SEND, "campaign.queue", errstr);
	if (s != STORE_OK)
		return s;
	s = store_begin_err(st, errstr, "fixing the recipients");
	if (s != STORE_OK)
		return s;
	s = store_prepare(st, "SELECT list, segment, filled, name FROM campaigns WHERE id = ?", &q,
			  errstr);
	if (s != STORE_OK)
		goto done;
	sqlite3_bind_int64(q, 1, campaign);
	if (sqlite3_step(q) != SQLITE_ROW) {
		s = store_fail(errstr, STORE_ENOTFOUND, "there is no campaign number %lld",
			       (long long)campaign);
		goto done;
	}
	list = strdup((const char *)sqlite3_column_text(q, 0));
	if (sqlite3_column_type(q, 1) != SQLITE_NULL)
		segment = strdup((const char *)sqlite3_column_text(q, 1));
	filled = sqlite3_column_int64(q, 2);
	name = strdup((const char *)sqlite3_column_text(q, 3));
	sqlite3_finalize(q);
	q = NULL;
	if (list == NULL || name == NULL) {
		s = STORE_ENOMEM;
		goto done;
	}
	if (filled != 0) {
		s = store_query_int(st, "SELECT count(*) FROM queue WHERE campaign = ?", count,
				    errstr, 1, campaign);
		goto done;
	}
	if (segment != NULL)
		s = store_segment_get(st, segment, &seglist, &expr, errstr);
	if (s == STORE_OK)
		s = store_prepare(
		    st,
		    "INSERT OR IGNORE INTO queue (campaign, subscriber, email, domain,"
		    " updated) VALUES (?1, ?2, ?3, ?4, ?5)",
		    &f.ins, errstr);
	if (s != STORE_OK)
		goto done;
	sqlite3_bind_int64(f.ins, 1, campaign);
	sqlite3_bind_int64(f.ins, 5, f.now);
	s = store_segment_recipients(st, list, expr, fill_one, &f, errstr);
	if (s == STORE_OK && f.rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "fixing the recipients");
	if (s == STORE_OK)
		s = store_query_int(st, "UPDATE campaigns SET filled = ?2 WHERE id = ?1", &filled,
				    errstr, 2, campaign, f.now);
	if (s == STORE_OK) {
		*count = f.count;
		snprintf(details, sizeof(details), "%lld recipients", (long long)f.count);
		s = store_audit(st, "campaign.queue", name, "ok", details);
	}
done:
	sqlite3_finalize(q);
	sqlite3_finalize(f.ins);
	free(list);
	free(segment);
	free(seglist);
	free(expr);
	free(name);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

/* ---- Claiming -------------------------------------------------------------- */

struct claimed {
	int64_t id;
	int prev; /* the state it was claimed from */
};

#define EXCLUDE_MAX 500

/*
 * The rows to claim: of one state, due, not of an excluded domain. The
 * claim index keeps queued rows in subscriber order, which mixes domains.
 */
static enum store_status prepare_pick(struct store *st, const char *const *exclude,
				      sqlite3_stmt **q, char **errstr)
{
	char sql[160 + 6 * EXCLUDE_MAX];
	size_t n = 0, len;
	int i;

	while (exclude != NULL && exclude[n] != NULL)
		n++;
	if (n == 0)
		return kept(st, Q_PICK,
			    "SELECT subscriber, state FROM queue WHERE campaign = ?1"
			    " AND state = ?2 AND next_try <= ?3 LIMIT ?4",
			    q, errstr);
	if (n > EXCLUDE_MAX)
		return store_fail(errstr, STORE_EUSAGE, "at most %d domains can be left out",
				  EXCLUDE_MAX);
	len = (size_t)snprintf(sql, sizeof(sql),
			       "SELECT subscriber, state FROM queue WHERE campaign = ?1"
			       " AND state = ?2 AND next_try <= ?3");
	for (i = 0; i < (int)n; i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s?%d",
					i ? "," : " AND domain NOT IN (", 5 + i);
	snprintf(sql + len, sizeof(sql) - len, "%s LIMIT ?4", n ? ")" : "");
	return store_prepare(st, sql, q, errstr);
}

/*
 * Is the person still to be mailed: active, on the list, not suppressed by
 * flag, address hash or domain? Whoever left since the queue was fixed is
 * not sent to. (The domain test is NOT EXISTS: SQLite 3.15 would build the
 * set of NOT IN (SELECT ...) again each time, for every message.)
 */
static enum store_status still_wanted(struct store *st, sqlite3_stmt *chk, sqlite3_stmt *supp,
				      int64_t id, bool *ok)
{
	char h[65];
	int rc;

	*ok = false;
	sqlite3_bind_int64(chk, 2, id);
	rc = sqlite3_step(chk);
	if (rc == SQLITE_ROW && sqlite3_column_int(chk, 0) == 1) {
		store_address_hash(st, (const char *)sqlite3_column_text(chk, 1), h);
		sqlite3_bind_text(supp, 1, h, -1, SQLITE_TRANSIENT);
		*ok = sqlite3_step(supp) != SQLITE_ROW;
		sqlite3_reset(supp);
	}
	sqlite3_reset(chk);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_EIO;
}

/* In one transaction: picks up to max rows and marks them in flight (or failed, when not wanted).
 */
static enum store_status claim_rows(struct store *st, int64_t campaign, time_t now, int max,
				    const char *const *exclude, struct claimed *rows, int *n,
				    char **errstr)
{
	enum store_status s;
	sqlite3_stmt *pick = NULL, *chk = NULL, *supp = NULL, *mark = NULL;
	int pass, got, i, rc;
	bool ok;

	*n = 0;
	s = prepare_pick(st, exclude, &pick, errstr);
	if (s == STORE_OK)
		s = kept(st, Q_CHECK,
			 "SELECT s.status = 'active' AND s.suppressed = 0"
			 " AND EXISTS (SELECT 1 FROM memberships m WHERE m.subscriber = s.id"
			 "  AND m.list = c.list AND m.status = 'active')"
			 " AND NOT EXISTS (SELECT 1 FROM suppressions"
			 "  WHERE value = s.domain AND kind = 'domain'), q.email"
			 " FROM queue q JOIN campaigns c ON c.id = q.campaign"
			 " JOIN subscribers s ON s.id = q.subscriber"
			 " WHERE q.campaign = ?1 AND q.subscriber = ?2",
			 &chk, errstr);
	if (s == STORE_OK)
		s = kept(st, Q_SUPP, "SELECT 1 FROM suppressions WHERE value = ?", &supp, errstr);
	if (s == STORE_OK)
		s = kept(
		    st, Q_MARK,
		    "UPDATE OR FAIL queue SET state = ?3, updated = ?4,"
		    " attempts = attempts + (?3 = 1),"
		    " reply = CASE ?3 WHEN 1 THEN reply ELSE"
		    " 'not sent: unsubscribed, bounced or suppressed after the queue was fixed'"
		    " END"
		    " WHERE campaign = ?1 AND subscriber = ?2",
		    &mark, errstr);
	if (s != STORE_OK)
		goto done;
	sqlite3_bind_int64(pick, 1, campaign);
	sqlite3_bind_int64(pick, 3, (sqlite3_int64)now);
	for (i = 0; exclude != NULL && exclude[i] != NULL; i++)
		sqlite3_bind_text(pick, 5 + i, exclude[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(chk, 1, campaign);
	sqlite3_bind_int64(mark, 1, campaign);
	sqlite3_bind_int64(mark, 4, (sqlite3_int64)now);
	/* Deferred rows whose time has come first, then queued ones. */
	for (pass = 0; pass < 2 && s == STORE_OK && *n < max; pass++) {
		sqlite3_bind_int(pick, 2, pass == 0 ? STORE_RCPT_DEFERRED : STORE_RCPT_QUEUED);
		do {
			int from = *n;

			sqlite3_bind_int(pick, 4, max - *n);
			got = 0;
			while ((rc = sqlite3_step(pick)) == SQLITE_ROW) {
				rows[*n + got].id = sqlite3_column_int64(pick, 0);
				rows[*n + got].prev = sqlite3_column_int(pick, 1);
				got++;
			}
			sqlite3_reset(pick);
			if (rc != SQLITE_DONE) {
				s = store_sqlfail(st, errstr, "claiming recipients");
				break;
			}
			for (i = from; i < from + got && s == STORE_OK; i++) {
				s = still_wanted(st, chk, supp, rows[i].id, &ok);
				if (s != STORE_OK) {
					s = store_sqlfail(st, errstr, "claiming recipients");
					break;
				}
				sqlite3_bind_int64(mark, 2, rows[i].id);
				sqlite3_bind_int(mark, 3,
						 ok ? STORE_RCPT_INFLIGHT : STORE_RCPT_FAILED);
				if (sqlite3_step(mark) != SQLITE_DONE)
					s = store_sqlfail(st, errstr, "claiming recipients");
				sqlite3_reset(mark);
				if (ok)
					rows[(*n)++] = rows[i];
			}
		} while (s == STORE_OK && got > 0 && *n < max);
	}
done:
	unkeep(st, pick);
	unkeep(st, chk);
	unkeep(st, supp);
	unkeep(st, mark);
	return s;
}

/* Puts rows that were claimed but never handed out back as they were. */
static enum store_status unclaim(struct store *st, int64_t campaign, const struct claimed *rows,
				 int n, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	int i;

	if (n == 0)
		return STORE_OK;
	s = store_begin(st);
	if (s == STORE_OK)
		s = store_prepare(st,
				  "UPDATE queue SET state = ?3, attempts = attempts - 1"
				  " WHERE campaign = ?1 AND subscriber = ?2 AND state = 1",
				  &q, errstr);
	for (i = 0; i < n && s == STORE_OK; i++) {
		sqlite3_bind_int64(q, 1, campaign);
		sqlite3_bind_int64(q, 2, rows[i].id);
		sqlite3_bind_int(q, 3, rows[i].prev);
		if (sqlite3_step(q) != SQLITE_DONE)
			s = store_sqlfail(st, errstr, "returning unsent recipients to the queue");
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

/* Calls cb for each claimed row, with its address, name and attributes. */
static enum store_status hand_out(struct store *st, int64_t campaign, const struct claimed *rows,
				  int n, store_rcpt_cb cb, void *arg, int *handed, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct store_rcpt r;
	struct store_attr *attrs = NULL;
	size_t nattrs = 0;
	int i, rc;

	*handed = 0;
	s = kept(st, Q_HAND,
		 "SELECT q.email, q.domain, q.attempts, s.name, s.attrs FROM queue q"
		 " JOIN subscribers s ON s.id = q.subscriber"
		 " WHERE q.campaign = ? AND q.subscriber = ?",
		 &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, campaign);
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(q, 2, rows[i].id);
		rc = sqlite3_step(q);
		*handed = i + 1;
		if (rc == SQLITE_DONE) { /* erased meanwhile: its row went with it */
			sqlite3_reset(q);
			continue;
		}
		if (rc != SQLITE_ROW) {
			*handed = i;
			s = store_sqlfail(st, errstr, "reading claimed recipients");
			break;
		}
		s = attrs_decode(sqlite3_column_blob(q, 4), (size_t)sqlite3_column_bytes(q, 4),
				 &attrs, &nattrs);
		if (s != STORE_OK) {
			*handed = i;
			break;
		}
		r.subscriber = rows[i].id;
		r.email = (const char *)sqlite3_column_text(q, 0);
		r.domain = (const char *)sqlite3_column_text(q, 1);
		r.attempts = sqlite3_column_int(q, 2);
		r.name = (const char *)sqlite3_column_text(q, 3);
		r.attrs = attrs;
		r.nattrs = nattrs;
		rc = cb(&r, arg);
		attrs_array_free(attrs, nattrs);
		attrs = NULL;
		sqlite3_reset(q);
		if (rc != 0)
			break;
	}
	unkeep(st, q);
	return s;
}

enum store_status store_queue_claim(struct store *st, int64_t campaign, time_t now, int max,
				    const char *const *exclude, store_rcpt_cb cb, void *arg,
				    char **errstr)
{
	enum store_status s, s2;
	struct claimed *rows;
	int n = 0, handed = 0;

	if (max <= 0)
		return STORE_OK;
	s = store_require(st, STORE_PERM_CAMPAIGNS_SEND, "campaign.claim", errstr);
	if (s != STORE_OK)
		return s;
	rows = calloc((size_t)max, sizeof(*rows));
	if (rows == NULL)
		return STORE_ENOMEM;
	s = store_begin(st);
	if (s != STORE_OK) {
		s = store_sqlfail(st, errstr, "claiming recipients");
		goto done;
	}
	s = claim_rows(st, campaign, now, max, exclude, rows, &n, errstr);
	if (s == STORE_OK)
		s = store_commit_err(st, errstr);
	else
		store_rollback(st);
	if (s != STORE_OK)
		goto done;
	/* Committed: from here on a crash leaves them in flight, never lost. */
	s = hand_out(st, campaign, rows, n, cb, arg, &handed, errstr);
	s2 = unclaim(st, campaign, rows + handed, n - handed, s == STORE_OK ? errstr : NULL);
	if (s == STORE_OK)
		s = s2;
done:
	free(rows);
	return s;
}

/* ---- Outcomes --------------------------------------------------------------- */

/* Reads 1 to 3 digits at *p (a part of an enhanced status code) into *v. */
static bool status_part(const char **p, int *v)
{
	int n = 0;

	*v = 0;
	while (n < 3 && **p >= '0' && **p <= '9') {
		*v = *v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n > 0 && !(**p >= '0' && **p <= '9');
}

bool store_reply_bad_address(const char *reply)
{
	const char *p = reply;
	int cls, subject, detail;

	/* The reply code, 5yz, then a space or the hyphen of a multi-line reply. */
	if (p == NULL || p[0] != '5' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' ||
	    (p[3] != ' ' && p[3] != '-'))
		return false;
	p += 4;
	/* class "." subject "." detail (RFC 3463 section 2), then a space or the end. */
	if (!status_part(&p, &cls) || cls != 5 || *p != '.')
		return false;
	p++;
	if (!status_part(&p, &subject) || *p != '.')
		return false;
	p++;
	if (!status_part(&p, &detail) || (*p != '\0' && *p != ' ' && *p != '\t'))
		return false;
	/* X.1.7 and X.1.8 are the sender's address, not the recipient's. */
	return subject == 1 && detail != 7 && detail != 8;
}

/*
 * A hard bounce: the person, while active, becomes bounced, with the reply in
 * their history and a record in the audit trail: the address as a keyed
 * hash, and of the reply only its codes ("550 5.1.1"), as the server's words
 * may quote the address.
 */
static enum store_status mark_bounced(struct store *st, int64_t campaign, int64_t subscriber,
				      const char *reply, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char now[21], h[65], details[160];
	int codes = (int)(4 + strcspn(reply + 4, " \t"));

	s = store_run(st,
		      "UPDATE subscribers SET status = 'bounced', updated = ?2"
		      " WHERE id = ?1 AND status = 'active'",
		      errstr, "marking a bounced address", "ii", subscriber, (int64_t)time(NULL));
	if (s != STORE_OK || sqlite3_changes(st->db) == 0)
		return s;
	store_utc_now(now);
	s = store_run(st,
		      "INSERT INTO subscriber_events (subscriber, time, event, list, details)"
		      " VALUES (?1, ?2, 'bounced',"
		      " coalesce((SELECT list FROM campaigns WHERE id = ?3), ''),"
		      " coalesce((SELECT 'hard bounce in ' || name || ': ' || ?4"
		      "  FROM campaigns WHERE id = ?3), ?4))",
		      errstr, "marking a bounced address", "itit", subscriber, now, campaign,
		      reply);
	if (s == STORE_OK)
		s = store_prepare(
		    st,
		    "SELECT s.email, coalesce((SELECT name FROM campaigns WHERE id = ?2),"
		    " '') FROM subscribers s WHERE s.id = ?1",
		    &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, subscriber);
	sqlite3_bind_int64(q, 2, campaign);
	snprintf(h, sizeof(h), "subscriber %lld", (long long)subscriber);
	snprintf(details, sizeof(details), "%.*s", codes, reply);
	if (sqlite3_step(q) == SQLITE_ROW) {
		store_address_hash(st, (const char *)sqlite3_column_text(q, 0), h);
		snprintf(details, sizeof(details), "%.*s in campaign %.100s", codes, reply,
			 (const char *)sqlite3_column_text(q, 1));
	}
	sqlite3_finalize(q);
	return store_audit(st, "subscriber.bounce", h, "ok", details);
}

enum store_status store_queue_result(struct store *st, int64_t campaign, int64_t subscriber,
				     enum store_rcpt_state state, const char *reply,
				     const char *message_id, time_t next_try, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char now[21];

	if (state != STORE_RCPT_SENT && state != STORE_RCPT_DEFERRED &&
	    state != STORE_RCPT_FAILED && state != STORE_RCPT_QUEUED &&
	    state != STORE_RCPT_UNCERTAIN)
		return store_fail(
		    errstr, STORE_EUSAGE,
		    "an outcome is sent, deferred, failed, uncertain or queued, not %s",
		    store_rcpt_state_name(state));
	s = store_begin_err(st, errstr, "recording an outcome");
	if (s != STORE_OK)
		return s;
	s = kept(
	    st, Q_RESULT,
	    "UPDATE OR FAIL queue SET state = ?3, reply = CASE ?3 WHEN 0 THEN reply ELSE ?4 END,"
	    " attempts = max(attempts - (?3 = 0), 0),"
	    " message_id = coalesce(?5, message_id), next_try = ?6, updated = ?7"
	    " WHERE campaign = ?1 AND subscriber = ?2",
	    &q, errstr);
	if (s != STORE_OK)
		goto done;
	sqlite3_bind_int64(q, 1, campaign);
	sqlite3_bind_int64(q, 2, subscriber);
	sqlite3_bind_int(q, 3, state);
	sqlite3_bind_text(q, 4, reply, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, state == STORE_RCPT_DEFERRED ? (sqlite3_int64)next_try : 0);
	sqlite3_bind_int64(q, 7, (sqlite3_int64)time(NULL));
	if (sqlite3_step(q) != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "recording an outcome");
	else if (sqlite3_changes(st->db) == 0)
		s = store_fail(errstr, STORE_ENOTFOUND,
			       "recipient %lld is not in the queue of campaign %lld",
			       (long long)subscriber, (long long)campaign);
	unkeep(st, q);
	q = NULL;
	/*
	 * A failure goes into the person's history, as store_subscriber_event
	 * writes it, naming the campaign: a retry may send later, and the
	 * failure stays. A message sent is in the history from its queue row
	 * (store/subscriber.c, HISTORY_SQL): a row for each would cost the
	 * worker a quarter of the pages it writes.
	 */
	if (s != STORE_OK || state != STORE_RCPT_FAILED)
		goto done;
	store_utc_now(now);
	s = kept(
	    st, Q_EVENT,
	    "INSERT OR FAIL INTO subscriber_events (subscriber, time, event, list, details)"
	    " VALUES (?2, ?3, 'failed', coalesce((SELECT list FROM campaigns WHERE id = ?1), ''),"
	    " coalesce((SELECT name || ': ' || ?4 FROM campaigns WHERE id = ?1), ''))",
	    &q, errstr);
	if (s != STORE_OK)
		goto done;
	sqlite3_bind_int64(q, 1, campaign);
	sqlite3_bind_int64(q, 2, subscriber);
	sqlite3_bind_text(q, 3, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, reply, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "recording an outcome");
	if (s == STORE_OK && store_reply_bad_address(reply))
		s = mark_bounced(st, campaign, subscriber, reply, errstr);
done:
	unkeep(st, q);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	if (s == STORE_ENOTFOUND && store_commit(st) == STORE_OK)
		return s; /* nothing was written: a caller's transaction goes on */
	store_rollback(st);
	return s;
}
