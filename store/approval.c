/*
 * store/approval.c: approvals, schedules and rejections. The store keeps who
 * approved what hash with which signature; send/approve.c computes the hashes
 * and verifies the signatures before anything is sent. Who last rejected a
 * campaign, and when, is kept with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/campaign_private.h"

/* ---- Approvals ------------------------------------------------------------ */

static enum store_status add_approval(struct store *st, int64_t id, const unsigned char *hash,
				      const unsigned char *sig, const char *comment, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char now[21];

	store_utc_now(now);
	s = store_prepare(st,
			  "INSERT INTO approvals (campaign, approver, hash, sig, comment, time)"
			  " VALUES (?, ?, ?, ?, ?, ?)",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, st->user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 3, hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(q, 4, sig, 64, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, comment ? comment : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, now, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		s = (sqlite3_errcode(st->db) & 0xff) == SQLITE_CONSTRAINT
			? store_fail(errstr, STORE_EEXIST,
				     "you have approved this campaign already; another user "
				     "must give the next approval")
			: store_sqlfail(st, errstr, "recording an approval");
	sqlite3_finalize(q);
	return s;
}

static enum store_status count_approvals(struct store *st, int64_t id, int *n, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	*n = 0;
	s = store_prepare(st, "SELECT count(*) FROM approvals WHERE campaign = ?", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) == SQLITE_ROW)
		*n = sqlite3_column_int(q, 0);
	else
		s = store_sqlfail(st, errstr, "counting approvals");
	sqlite3_finalize(q);
	return s;
}

/*
 * Did a schedule send the campaign back to review, for more approvals of it
 * (store_campaign_schedule)? Then the approval that completes them makes it
 * due at that time, as the schedule would have. campaigns.scheduled_review
 * says what last put it in review: a schedule sets it, a submission clears
 * it (kept with the campaign, not read from the audit trail, whose old
 * records audit.retention may delete).
 */
static enum store_status scheduled_in_review(struct store *st, int64_t id, bool *sched,
					     char **errstr)
{
	int64_t v = 0;
	enum store_status s;

	s = store_query_int(st, "SELECT scheduled_review FROM campaigns WHERE id = ?", &v, errstr,
			    1, id);
	*sched = v != 0;
	return s;
}

enum store_status store_campaign_approve(struct store *st, const char *name,
					 const unsigned char hash[32], const unsigned char sig[64],
					 const char *comment, char **errstr)
{
	static const struct campaign_move m = {
	    "campaign.approve",
	    STORE_PERM_CAMPAIGNS_APPROVE,
	    STORE_PERM_NONE,
	    true,
	    BIT(STORE_CAMPAIGN_IN_REVIEW),
	    "only a campaign in review can be approved (its author submits it first)"};
	enum store_status s;
	struct store_campaign *c = NULL;
	char details[64];
	bool sched = false;
	int n = 0;

	s = campaign_check_text("comment", comment, false, errstr);
	if (s != STORE_OK)
		return s;
	s = store_begin_err(st, errstr, "approving a campaign");
	if (s != STORE_OK)
		return s;
	s = campaign_begin_move(st, name, &m, &c, errstr);
	/* What it needs now (the current approvals.required, if higher) is what holds. */
	if (s == STORE_OK)
		s = campaign_exec_id(st, "UPDATE campaigns SET approvals_needed = ?2 WHERE id = ?1",
				     c->id, c->approvals_needed, errstr);
	if (s == STORE_OK)
		s = add_approval(st, c->id, hash, sig, comment, errstr);
	if (s == STORE_OK)
		s = count_approvals(st, c->id, &n, errstr);
	if (s == STORE_OK && n >= c->approvals_needed)
		s = scheduled_in_review(st, c->id, &sched, errstr);
	if (s == STORE_OK && n >= c->approvals_needed)
		s = campaign_set_state(st, c->id,
				       sched ? STORE_CAMPAIGN_SCHEDULED : STORE_CAMPAIGN_APPROVED,
				       NULL, NULL, errstr);
	if (s == STORE_OK && n >= c->approvals_needed)
		s = store_campaign_snapshot(st, c->id, errstr);
	if (s == STORE_OK) {
		snprintf(details, sizeof(details), "approval %d of %d", n, c->approvals_needed);
		s = store_audit(st, "campaign.approve", name, "ok", details);
	}
	store_campaign_free(&c);
	s = campaign_finish(st, s, errstr);
	/* add_approval's refusal, after the rollback: on record all the same. */
	if (s == STORE_EEXIST)
		store_audit(st, "campaign.approve", name, "refused",
			    "this user has approved it already");
	return s;
}

enum store_status store_campaign_schedule(struct store *st, const char *name, time_t at,
					  const unsigned char hash[32], const unsigned char sig[64],
					  char **errstr)
{
	static const struct campaign_move m = {
	    "campaign.schedule",
	    STORE_PERM_CAMPAIGNS_SEND,
	    STORE_PERM_CAMPAIGNS_APPROVE,
	    true,
	    BIT(STORE_CAMPAIGN_APPROVED) | BIT(STORE_CAMPAIGN_SCHEDULED),
	    "only an approved or scheduled campaign can be sent or scheduled"};
	enum store_status s;
	struct store_campaign *c = NULL;
	sqlite3_stmt *q = NULL;
	enum store_campaign_state to = STORE_CAMPAIGN_SCHEDULED;
	char details[96];
	int n = 0;

	if (at < 0)
		return store_fail(errstr, STORE_EUSAGE, "the send time is before 1970");
	s = store_begin_err(st, errstr, "scheduling a campaign");
	if (s != STORE_OK)
		return s;
	s = campaign_begin_move(st, name, &m, &c, errstr);
	/*
	 * Approvals of other content (another schedule) go; those of exactly
	 * this content stay, and the scheduler's own is replaced by the new one.
	 */
	if (s == STORE_OK)
		s = store_prepare(st,
				  "DELETE FROM approvals WHERE campaign = ?1 AND"
				  " (hash != ?2 OR approver = ?3)",
				  &q, errstr);
	if (s == STORE_OK) {
		sqlite3_bind_int64(q, 1, c->id);
		sqlite3_bind_blob(q, 2, hash, 32, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, st->user, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			s = store_sqlfail(st, errstr, "scheduling a campaign");
		sqlite3_finalize(q);
	}
	if (s == STORE_OK)
		s = add_approval(st, c->id, hash, sig, NULL, errstr);
	if (s == STORE_OK)
		s = count_approvals(st, c->id, &n, errstr);
	if (s == STORE_OK) {
		if (n < c->approvals_needed)
			to = STORE_CAMPAIGN_IN_REVIEW;
		s = campaign_set_state(st, c->id, to, NULL, NULL, errstr);
	}
	if (s == STORE_OK)
		s = campaign_exec_id(st,
				     "UPDATE campaigns SET scheduled_at = ?2, scheduled_review = 1"
				     " WHERE id = ?1",
				     c->id, (int64_t)at, errstr);
	if (s == STORE_OK) {
		snprintf(details, sizeof(details), "at %lld; %d of %d approvals; %s", (long long)at,
			 n, c->approvals_needed, campaign_state_names[to]);
		s = store_audit(st, "campaign.schedule", name, "ok", details);
	}
	store_campaign_free(&c);
	return campaign_finish(st, s, errstr);
}

enum store_status store_campaign_resubmit(struct store *st, const char *name, char **errstr)
{
	static const struct campaign_move m = {
	    "campaign.resubmit",
	    STORE_PERM_CAMPAIGNS_EDIT,
	    STORE_PERM_NONE,
	    false,
	    BIT(STORE_CAMPAIGN_PAUSED) | BIT(STORE_CAMPAIGN_APPROVED) |
		BIT(STORE_CAMPAIGN_SCHEDULED),
	    "only a paused, approved or scheduled campaign goes back to review this way"};
	enum store_status s;
	struct store_campaign *c = NULL;
	char details[96];

	s = store_begin_err(st, errstr, "submitting a campaign again");
	if (s != STORE_OK)
		return s;
	s = campaign_begin_move(st, name, &m, &c, errstr);
	if (s == STORE_OK)
		s = campaign_set_state(st, c->id, STORE_CAMPAIGN_IN_REVIEW,
				       "pause_reason = NULL, scheduled_review = 0", NULL, errstr);
	if (s == STORE_OK)
		s = campaign_exec_id(st, "DELETE FROM approvals WHERE campaign = ?1", c->id, 0,
				     errstr);
	if (s == STORE_OK) {
		snprintf(details, sizeof(details), "%s -> in_review; approvals dropped%s",
			 campaign_state_names[c->state],
			 c->state == STORE_CAMPAIGN_PAUSED ? "; its queue is kept" : "");
		s = store_audit(st, "campaign.resubmit", name, "ok", details);
	}
	store_campaign_free(&c);
	return campaign_finish(st, s, errstr);
}

enum store_status store_campaign_approvals(struct store *st, int64_t campaign, store_approval_cb cb,
					   void *arg, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct store_approval a;
	int rc;

	s = store_require(st, STORE_PERM_CAMPAIGNS_READ, "campaign.approvals", errstr);
	if (s == STORE_OK)
		s = store_prepare(st,
				  "SELECT approver, hash, sig, comment, time FROM approvals"
				  " WHERE campaign = ? ORDER BY time, approver",
				  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, campaign);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(q, 1) != 32 || sqlite3_column_bytes(q, 2) != 64)
			continue; /* damaged: never passes for an approval */
		a.approver = (const char *)sqlite3_column_text(q, 0);
		a.hash = sqlite3_column_blob(q, 1);
		a.sig = sqlite3_column_blob(q, 2);
		a.comment = (const char *)sqlite3_column_text(q, 3);
		a.time = (const char *)sqlite3_column_text(q, 4);
		if (cb(&a, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "listing approvals");
	sqlite3_finalize(q);
	return s;
}

/* ---- Rejections ----------------------------------------------------------- */

enum store_status store_campaign_rejection(struct store *st, const char *name, char **by, char **at,
					   char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	int rc;

	*by = *at = NULL;
	s = store_require(st, STORE_PERM_CAMPAIGNS_READ, "campaign.show", errstr);
	if (s == STORE_OK)
		s = store_prepare(st,
				  "SELECT rejected_by, rejected_at FROM campaigns WHERE name = ?"
				  " AND rejected_by IS NOT NULL AND rejected_at IS NOT NULL",
				  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*by = strdup((const char *)sqlite3_column_text(q, 0));
		*at = strdup((const char *)sqlite3_column_text(q, 1));
		if (*by == NULL || *at == NULL) {
			free(*by);
			free(*at);
			*by = *at = NULL;
			s = store_fail(errstr, STORE_ENOMEM, "out of memory");
		}
	} else if (rc == SQLITE_DONE) {
		s = store_fail(errstr, STORE_ENOTFOUND, "%s has not been rejected", name);
	} else {
		s = store_sqlfail(st, errstr, "reading a campaign's rejection");
	}
	sqlite3_finalize(q);
	return s;
}
