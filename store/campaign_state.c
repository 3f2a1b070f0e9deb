/*
 * store/campaign_state.c: moving a campaign between its states, with the
 * permissions and the four-eyes rule each move needs.
 *
 *   draft -> in_review -> approved | rejected -> scheduled -> sending <-> paused
 *         -> sent | cancelled | failed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/campaign_private.h"

/* ---- Moving between states ----------------------------------------------- */

enum store_status store_campaign_four_eyes(struct store *st, const struct store_campaign *c,
					   const char *action, char **errstr)
{
	const char *verb = strchr(action, '.');
	int who;
	char details[96];
	static const char *const said[][2] = {
	    {"wrote this campaign", "its author"},
	    {"edited this campaign", "an editor of it"},
	    {"changed its template", "who last changed its template"},
	};

	if (!store_campaign_written_by(c, st->user))
		return STORE_OK;
	who = strcmp(c->author, st->user) == 0 ? 0 : campaign_named(c->editors, st->user) ? 1 : 2;
	snprintf(details, sizeof(details), "four-eyes: %s may not do this", said[who][1]);
	store_audit(st, action, c->name, "denied", details);
	return store_fail(errstr, STORE_EDENIED, "you %s; another user must %s it", said[who][0],
			  verb != NULL ? verb + 1 : action);
}

/*
 * In a transaction: checks the permissions, the four-eyes rule and the
 * state, and loads the campaign into *c.
 */
enum store_status campaign_begin_move(struct store *st, const char *name,
				      const struct campaign_move *m, struct store_campaign **c,
				      char **errstr)
{
	enum store_status s;

	*c = NULL;
	s = store_require(st, m->perm, m->action, errstr);
	if (s == STORE_OK && m->perm2 != STORE_PERM_NONE)
		s = store_require(st, m->perm2, m->action, errstr);
	if (s == STORE_OK)
		s = campaign_load(st, name, 0, c, errstr);
	if (s != STORE_OK)
		return s;
	if (m->four_eyes) {
		s = store_campaign_four_eyes(st, *c, m->action, errstr);
		if (s != STORE_OK)
			return s;
	}
	if (!(m->from & BIT((*c)->state)))
		return store_fail(errstr, STORE_EINVAL, "campaign %s is %s; %s", name,
				  store_campaign_state_name((*c)->state), m->hint);
	return STORE_OK;
}

/*
 * Sets the state; `also` is extra SQL for the SET clause, with ?3 bound to
 * text, ?4 to the time now (epoch seconds) and ?5, when it uses it, to the
 * user.
 */
enum store_status campaign_set_state(struct store *st, int64_t id, enum store_campaign_state to,
				     const char *also, const char *text, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "UPDATE campaigns SET state = ?2, updated = ?4%s%s WHERE id = ?1",
		 also ? ", " : "", also ? also : "");
	s = store_prepare(st, sql, &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, campaign_state_names[to], -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, (sqlite3_int64)time(NULL));
	if (sqlite3_bind_parameter_count(q) >= 5)
		sqlite3_bind_text(q, 5, st->user, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "changing a campaign's state");
	sqlite3_finalize(q);
	return s;
}

/* Runs a move whose whole effect is a new state (plus `also`), in its own transaction. */
static enum store_status simple_move(struct store *st, const char *name,
				     const struct campaign_move *m, enum store_campaign_state to,
				     const char *also, const char *text, bool drop, char **errstr)
{
	enum store_status s;
	struct store_campaign *c = NULL;

	s = store_begin_err(st, errstr, "changing a campaign's state");
	if (s != STORE_OK)
		return s;
	s = campaign_begin_move(st, name, m, &c, errstr);
	if (s == STORE_OK && to == STORE_CAMPAIGN_SENDING && c->started_at == 0)
		to = STORE_CAMPAIGN_SCHEDULED; /* resuming what never started */
	if (s == STORE_OK)
		s = campaign_set_state(st, c->id, to, also, text, errstr);
	if (s == STORE_OK && drop)
		s = campaign_drop_approvals(st, c->id, errstr);
	if (s == STORE_OK)
		s = store_audit(st, m->action, name, "ok", text);
	store_campaign_free(&c);
	return campaign_finish(st, s, errstr);
}

enum store_status store_campaign_submit(struct store *st, const char *name, char **errstr)
{
	static const struct campaign_move m = {
	    "campaign.submit",
	    STORE_PERM_CAMPAIGNS_EDIT,
	    STORE_PERM_NONE,
	    false,
	    BIT(STORE_CAMPAIGN_DRAFT) | BIT(STORE_CAMPAIGN_REJECTED),
	    "only a draft or a rejected campaign can be submitted for review"};

	/* The requirement of the moment is fixed now; approvals.required raised later still
	 * applies until the campaign is approved (CAMPAIGN_NEEDED_SQL). */
	return simple_move(st, name, &m, STORE_CAMPAIGN_IN_REVIEW,
			   "scheduled_review = 0,"
			   " approvals_needed = max(approvals_needed, " CAMPAIGN_REQUIRED_SQL ")",
			   NULL, false, errstr);
}

enum store_status store_campaign_reject(struct store *st, const char *name, const char *comment,
					char **errstr)
{
	static const struct campaign_move m = {"campaign.reject",
					       STORE_PERM_CAMPAIGNS_APPROVE,
					       STORE_PERM_NONE,
					       true,
					       BIT(STORE_CAMPAIGN_IN_REVIEW),
					       "only a campaign in review can be rejected"};
	enum store_status s;

	if (comment == NULL || *comment == '\0')
		return store_fail(errstr, STORE_EUSAGE,
				  "a rejection needs a comment that tells the author why");
	s = campaign_check_text("comment", comment, true, errstr);
	if (s != STORE_OK)
		return s;
	/* Who rejected it is kept with it: the audit trail's records may be pruned. */
	return simple_move(st, name, &m, STORE_CAMPAIGN_REJECTED,
			   "comment = ?3, rejected_by = ?5,"
			   " rejected_at = strftime('%Y-%m-%dT%H:%M:%SZ', ?4, 'unixepoch')",
			   comment, true, errstr);
}

enum store_status store_campaign_pause(struct store *st, const char *name, const char *reason,
				       char **errstr)
{
	static const struct campaign_move m = {
	    "campaign.pause",
	    STORE_PERM_CAMPAIGNS_SEND,
	    STORE_PERM_NONE,
	    false,
	    BIT(STORE_CAMPAIGN_SENDING) | BIT(STORE_CAMPAIGN_SCHEDULED),
	    "only a sending or scheduled campaign can be paused"};

	char by[STORE_NAME_MAX + 16];

	snprintf(by, sizeof(by), "paused by %s", st->user);
	return simple_move(st, name, &m, STORE_CAMPAIGN_PAUSED, "pause_reason = ?3",
			   reason ? reason : by, false, errstr);
}

enum store_status store_campaign_resume(struct store *st, const char *name, char **errstr)
{
	static const struct campaign_move m = {"campaign.resume",
					       STORE_PERM_CAMPAIGNS_SEND,
					       STORE_PERM_NONE,
					       false,
					       BIT(STORE_CAMPAIGN_PAUSED),
					       "only a paused campaign can be resumed"};

	return simple_move(st, name, &m, STORE_CAMPAIGN_SENDING, "pause_reason = NULL", NULL, false,
			   errstr);
}

enum store_status store_campaign_cancel(struct store *st, const char *name, char **errstr)
{
	static const struct campaign_move m = {"campaign.cancel",
					       STORE_PERM_CAMPAIGNS_SEND,
					       STORE_PERM_NONE,
					       false,
					       ~TERMINAL & ((1u << STORE_CAMPAIGN_NSTATES) - 1),
					       "it is over already"};

	return simple_move(st, name, &m, STORE_CAMPAIGN_CANCELLED, "finished_at = ?4", NULL, false,
			   errstr);
}

enum store_status store_campaign_set_state(struct store *st, int64_t id,
					   enum store_campaign_state state, const char *reason,
					   char **errstr)
{
	enum store_status s;
	struct store_campaign *c = NULL;
	unsigned from;
	const char *also = NULL;
	char details[300];

	switch (state) {
	case STORE_CAMPAIGN_SENDING:
		from = BIT(STORE_CAMPAIGN_SCHEDULED) | BIT(STORE_CAMPAIGN_SENDING);
		also = "started_at = CASE started_at WHEN 0 THEN ?4 ELSE started_at END";
		break;
	case STORE_CAMPAIGN_PAUSED:
		from = BIT(STORE_CAMPAIGN_SCHEDULED) | BIT(STORE_CAMPAIGN_SENDING) |
		       BIT(STORE_CAMPAIGN_PAUSED);
		also = "pause_reason = ?3";
		break;
	case STORE_CAMPAIGN_SENT:
		from = BIT(STORE_CAMPAIGN_SENDING) | BIT(STORE_CAMPAIGN_PAUSED);
		also = "finished_at = ?4";
		break;
	case STORE_CAMPAIGN_FAILED:
		from = BIT(STORE_CAMPAIGN_SCHEDULED) | BIT(STORE_CAMPAIGN_SENDING) |
		       BIT(STORE_CAMPAIGN_PAUSED);
		also = "finished_at = ?4, pause_reason = ?3"; /* why it failed */
		break;
	default:
		return store_fail(errstr, STORE_EUSAGE,
				  "the worker sets only sending, paused, sent or failed");
	}
	s = store_require(st, STORE_PERM_CAMPAIGNS_SEND, "campaign.state", errstr);
	if (s != STORE_OK)
		return s;
	s = store_begin_err(st, errstr, "changing a campaign's state");
	if (s != STORE_OK)
		return s;
	s = campaign_load(st, NULL, id, &c, errstr);
	if (s == STORE_OK && !(from & BIT(c->state)))
		s = store_fail(errstr, STORE_EINVAL, "campaign %s is %s and cannot become %s",
			       c->name, store_campaign_state_name(c->state),
			       campaign_state_names[state]);
	if (s == STORE_OK)
		s = campaign_set_state(st, id, state, also, reason ? reason : "", errstr);
	if (s == STORE_OK && c->state != state) {
		snprintf(details, sizeof(details), "%s -> %s%s%.200s",
			 campaign_state_names[c->state], campaign_state_names[state],
			 reason ? ": " : "", reason ? reason : "");
		s = store_audit(st, "campaign.state", c->name, "ok", details);
	}
	store_campaign_free(&c);
	return campaign_finish(st, s, errstr);
}
