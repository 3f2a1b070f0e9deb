/*
 * store/campaigns.h: the campaigns part of the store's public header, kept in
 * a file of its own for size. store/store.h includes it at its end; include
 * store/store.h, never this file alone. See store.h for the module, its files
 * and its error contract.
 */
#ifndef HATO_STORE_CAMPAIGNS_H
#define HATO_STORE_CAMPAIGNS_H

#ifndef HATO_STORE_H
#error "include store/store.h, which includes this file"
#endif

/* ==== Campaigns and their send queue (campaign.c, queue.c) ================ */

enum store_campaign_state {
	STORE_CAMPAIGN_DRAFT,
	STORE_CAMPAIGN_IN_REVIEW,
	STORE_CAMPAIGN_APPROVED,
	STORE_CAMPAIGN_REJECTED,
	STORE_CAMPAIGN_SCHEDULED,
	STORE_CAMPAIGN_SENDING,
	STORE_CAMPAIGN_PAUSED,
	STORE_CAMPAIGN_SENT,
	STORE_CAMPAIGN_CANCELLED,
	STORE_CAMPAIGN_FAILED,
	STORE_CAMPAIGN_NSTATES,
};
/* "draft", "in_review", ... */
const char *store_campaign_state_name(enum store_campaign_state s);

/* A campaign. Every string is allocated (NULL when unset). */
struct store_campaign {
	int64_t id;
	char *name;
	char *template_name;
	char *list;	    /* the list's id */
	char *segment;	    /* a saved segment's name, or NULL for the whole list */
	char *segment_expr; /* that segment's expression now (filled by get), or NULL */
	char *subject;
	char *from; /* "Name <addr>", or NULL for the sender.from setting */
	enum store_campaign_state state;
	char *author;
	char *editors;	       /* the other users who edited it, space-separated */
	char *template_author; /* who last changed its template */
	char *comment;	       /* the last rejection's comment */
	char *pause_reason;    /* why it was paused (the circuit breaker's reason) */
	time_t created, updated;
	time_t scheduled_at; /* 0: as soon as approved and sent */
	time_t started_at, finished_at;
	int approvals_needed; /* approvals.required when created, submitted or approved, and
			       * until approved at least its current value; default 1 */
	int64_t version;      /* bumped by every edit */
};
typedef int (*store_campaign_cb)(const struct store_campaign *c, void *arg);

/* A copy of c that store_campaign_free() frees (from a callback's view); NULL when out of memory.
 */
struct store_campaign *store_campaign_dup(const struct store_campaign *c);
/*
 * True when user wrote what the campaign sends: its author, a user who
 * edited it (or the campaign it was copied from), or the last to change its
 * template. Four eyes: such a user may not approve it.
 */
bool store_campaign_written_by(const struct store_campaign *c, const char *user);
/*
 * The four-eyes rule for the logged-in user and the move `action`
 * ("campaign.approve"): STORE_EDENIED, saying why and audited as a denied
 * `action`, when the user wrote c (store_campaign_written_by). The moves
 * check it themselves; a screen checks it before asking for a comment.
 */
enum store_status store_campaign_four_eyes(struct store *st, const struct store_campaign *c,
					   const char *action, char **errstr);

/*
 * Creates a draft authored by the logged-in user. Checks that the template,
 * the list and the segment (which must belong to the list) exist. Needs
 * STORE_PERM_CAMPAIGNS_EDIT; audited.
 */
enum store_status store_campaign_add(struct store *st, const struct store_campaign *c,
				     char **errstr);
/* May a campaign in this state be edited (store_campaign_edit)? */
bool store_campaign_editable(enum store_campaign_state state);
/*
 * Changes the non-NULL fields of `changes` (template_name, list, segment,
 * subject, from; segment "" removes the segment). Allowed in draft,
 * in_review, approved, rejected and scheduled (store_campaign_editable); the
 * campaign returns to draft and its approvals are deleted. Needs
 * STORE_PERM_CAMPAIGNS_EDIT; audited.
 */
enum store_status store_campaign_edit(struct store *st, const char *name,
				      const struct store_campaign *changes, char **errstr);
/* A new draft with the same content, authored by the logged-in user. */
enum store_status store_campaign_copy(struct store *st, const char *name, const char *copy,
				      char **errstr);
/* *out is allocated; free with store_campaign_free. Needs STORE_PERM_CAMPAIGNS_READ. */
enum store_status store_campaign_get(struct store *st, const char *name,
				     struct store_campaign **out, char **errstr);
void store_campaign_free(struct store_campaign **c);
enum store_status store_campaign_list(struct store *st, store_campaign_cb cb, void *arg,
				      char **errstr);
/* draft or rejected -> in_review. Needs STORE_PERM_CAMPAIGNS_EDIT; audited. */
enum store_status store_campaign_submit(struct store *st, const char *name, char **errstr);
/*
 * paused, approved or scheduled -> in_review, dropping its approvals and
 * keeping its queue (who was sent to stays sent): for a campaign whose
 * approved content changed (send/ decides that). Once approved and sent
 * again, it goes on where it stopped. Needs STORE_PERM_CAMPAIGNS_EDIT; audited.
 */
enum store_status store_campaign_resubmit(struct store *st, const char *name, char **errstr);
/*
 * in_review -> rejected with a comment (required). Needs
 * STORE_PERM_CAMPAIGNS_APPROVE and that the user is not the author; audited.
 */
enum store_status store_campaign_reject(struct store *st, const char *name, const char *comment,
					char **errstr);
/*
 * Who rejected the campaign last, and when (ISO 8601 UTC), from the audit
 * trail; the comment is the campaign's. *by and *at are allocated.
 * STORE_ENOTFOUND when it was never rejected. Needs STORE_PERM_CAMPAIGNS_READ.
 */
enum store_status store_campaign_rejection(struct store *st, const char *name, char **by, char **at,
					   char **errstr);

/*
 * An approval: the approver's Ed25519 signature over a 32-byte hash of what
 * decides what is sent (computed by send/, which knows the layouts). The
 * store only keeps approvals; send/ recomputes and verifies them.
 */
struct store_approval {
	const char *approver;
	const unsigned char *hash; /* 32 bytes */
	const unsigned char *sig;  /* 64 bytes */
	const char *comment;
	const char *time;
};
typedef int (*store_approval_cb)(const struct store_approval *a, void *arg);

/*
 * Records the logged-in user's approval of a campaign in in_review (or, with
 * `schedule`, in approved or scheduled: see below). Refuses the author
 * (STORE_EDENIED, "four-eyes"), a user without STORE_PERM_CAMPAIGNS_APPROVE
 * and a second approval by the same user. When the approvals reach
 * approvals_needed (the higher of the number fixed at submission and the
 * current approvals.required, which is then fixed) the campaign becomes
 * approved. Audited.
 */
enum store_status store_campaign_approve(struct store *st, const char *name,
					 const unsigned char hash[32], const unsigned char sig[64],
					 const char *comment, char **errstr);
/*
 * Sets the send time (0: now) of an approved or scheduled campaign. As the
 * schedule is part of what approvals cover, the scheduler's own approval of
 * the new content (hash, sig) replaces the old approvals; with fewer than
 * approvals_needed left the campaign returns to in_review. Otherwise it
 * becomes scheduled. Needs STORE_PERM_CAMPAIGNS_SEND and
 * STORE_PERM_CAMPAIGNS_APPROVE, and that the user is not the author. Audited.
 */
enum store_status store_campaign_schedule(struct store *st, const char *name, time_t at,
					  const unsigned char hash[32], const unsigned char sig[64],
					  char **errstr);
enum store_status store_campaign_approvals(struct store *st, int64_t campaign, store_approval_cb cb,
					   void *arg, char **errstr);

/*
 * State changes by operators (STORE_PERM_CAMPAIGNS_SEND, audited):
 *   pause:  sending or scheduled -> paused (reason NULL: "paused by USER")
 *   resume: paused -> sending (or scheduled when it never started)
 *   cancel: anything not sent, cancelled or failed -> cancelled
 */
enum store_status store_campaign_pause(struct store *st, const char *name, const char *reason,
				       char **errstr);
enum store_status store_campaign_resume(struct store *st, const char *name, char **errstr);
enum store_status store_campaign_cancel(struct store *st, const char *name, char **errstr);
/*
 * For the worker: sets the state (sending, sent, failed, paused) with a
 * reason for the audit trail, without the operator checks above.
 */
enum store_status store_campaign_set_state(struct store *st, int64_t id,
					   enum store_campaign_state state, const char *reason,
					   char **errstr);
/* Campaigns the worker should look at now: scheduled and due, or sending. */
enum store_status store_campaign_due(struct store *st, time_t now, store_campaign_cb cb, void *arg,
				     char **errstr);

/* ---- The per-campaign queue ---- */

enum store_rcpt_state {
	STORE_RCPT_QUEUED,
	STORE_RCPT_INFLIGHT, /* claimed by a worker, not yet answered */
	STORE_RCPT_SENT,
	STORE_RCPT_DEFERRED,
	STORE_RCPT_FAILED,
	STORE_RCPT_UNCERTAIN, /* was in flight when a worker died */
	STORE_RCPT_NSTATES,
};
const char *store_rcpt_state_name(enum store_rcpt_state s);

/*
 * Fixes the recipients of a campaign into its queue, once, in one
 * transaction: the active members of its list that match its segment, minus
 * the suppression list (store_segment_recipients). Does nothing when the
 * queue exists already. *count is the queue's size.
 */
enum store_status store_queue_fill(struct store *st, int64_t campaign, int64_t *count,
				   char **errstr);

/* A claimed recipient, with what composing a message needs. */
struct store_rcpt {
	int64_t subscriber;
	const char *email, *name, *domain;
	const struct store_attr *attrs;
	size_t nattrs;
	int attempts;
};
typedef int (*store_rcpt_cb)(const struct store_rcpt *r, void *arg);
/*
 * Claims up to max recipients that are queued, or deferred with their retry
 * time passed, marking them in flight in one committed transaction before
 * calling cb for each (so a crash leaves them in flight, never lost). Inside
 * a caller's transaction nothing is committed before cb runs: the caller
 * must commit before any message leaves (the worker does, and records the
 * outcomes that came in within the same transaction).
 * `exclude`, when not NULL, is a NULL-terminated list of recipient domains to
 * leave for later (those over their pacing budget).
 */
enum store_status store_queue_claim(struct store *st, int64_t campaign, time_t now, int max,
				    const char *const *exclude, store_rcpt_cb cb, void *arg,
				    char **errstr);
/*
 * Records a recipient's outcome: sent (reply, message_id), deferred (reply;
 * retried at next_try), failed (reply), uncertain (the connection dropped
 * after the data: reply, message_id; resent only on retry --uncertain) or
 * queued again (never sent: the attempt its claim counted is given back,
 * and the last reply is kept). A failure adds a "failed" event to the
 * subscriber's history (a message sent is there from its queue row); one
 * whose reply says the address is bad (store_reply_bad_address) also makes
 * the person bounced, with a "bounced" event, in the same transaction: no
 * later campaign mails them. Each call is its own transaction unless the
 * caller holds one. No permission is checked: it records what became of a
 * message the worker claimed (which needed campaigns.send), also when the
 * user lost the permission since. STORE_ENOTFOUND when the row is gone (the
 * person was erased meanwhile); that writes nothing and leaves the caller's
 * transaction open.
 */
enum store_status store_queue_result(struct store *st, int64_t campaign, int64_t subscriber,
				     enum store_rcpt_state state, const char *reply,
				     const char *message_id, time_t next_try, char **errstr);
/*
 * True when an SMTP reply ("550 5.1.1 no such user", "550-5.1.1 ...") is a
 * permanent failure (5yz) whose enhanced status code (RFC 3463, in the place
 * RFC 2034 puts it: right after the reply code) is 5.1.x, a bad destination
 * address: a hard bounce. Not 5.1.7 and 5.1.8, which are about the sender's
 * address; not 5.7.x (policy or reputation) nor anything 4xx (transient).
 */
bool store_reply_bad_address(const char *reply);
/* The reply a recipient recovered as uncertain gets, for status and errors to show. */
#define STORE_RECOVERED_REPLY "the worker stopped while sending it; it may have arrived"
/*
 * At worker start: every in-flight recipient of every campaign becomes
 * uncertain, with STORE_RECOVERED_REPLY. *campaigns, unless campaigns is
 * NULL: the names of their campaigns, separated by spaces, to free; NULL
 * when none was in flight.
 */
enum store_status store_queue_recover(struct store *st, int64_t *uncertain, char **campaigns,
				      char **errstr);
/*
 * Puts failed, deferred and/or uncertain recipients back in the queue
 * (states is a bit mask of 1 << enum store_rcpt_state). Needs
 * STORE_PERM_CAMPAIGNS_SEND; audited with the count.
 */
enum store_status store_queue_retry(struct store *st, const char *name, unsigned states,
				    int64_t *count, char **errstr);

struct store_queue_stats {
	int64_t count[STORE_RCPT_NSTATES];
	int64_t total;
	int64_t sent_last_minute; /* for the rate */
	int64_t bounced;	  /* failed recipients whose person is now bounced */
	int64_t complaints;	  /* feedback reports about this campaign (bounce read) */
	time_t next_retry;	  /* the earliest deferred retry, 0 if none */
};
enum store_status store_queue_stats(struct store *st, int64_t campaign,
				    struct store_queue_stats *out, char **errstr);
/* Messages sent (all campaigns) since t: for the warm-up cap. */
enum store_status store_sent_since(struct store *st, time_t t, int64_t *count, char **errstr);
/* The time of the last message sent before t (any campaign); 0 when none. */
enum store_status store_last_sent_before(struct store *st, time_t t, time_t *out, char **errstr);
/*
 * The day the warm-up started again after an idle spell (send/pace.c), 0
 * when it never did; and setting it (STORE_PERM_CAMPAIGNS_SEND, audited as
 * warmup.restart with why).
 */
enum store_status store_warmup_restart_get(struct store *st, time_t *day, char **errstr);
enum store_status store_warmup_restart_set(struct store *st, time_t day, const char *why,
					   char **errstr);
/* A campaign's complaints and, when it has any, the messages it sent (else 0). */
enum store_status store_campaign_complaints(struct store *st, int64_t campaign, int64_t *complaints,
					    int64_t *sent, char **errstr);
/* Complaints (feedback reports, any campaign) since t, and messages sent since t:
 * the complaint rate mailbox providers watch. */
enum store_status store_complaints_since(struct store *st, time_t t, int64_t *complaints,
					 int64_t *sent, char **errstr);
/* Messages sent (all campaigns) to one recipient domain since t, and when the
 * first and the last of them were (0: none): for per-minute pacing. */
enum store_status store_sent_to_domain_since(struct store *st, const char *domain, time_t t,
					     int64_t *count, time_t *first, time_t *last,
					     char **errstr);
/* The most recent deferred, failed or uncertain outcomes, newest first. */
struct store_rcpt_error {
	const char *email; /* masked without STORE_PERM_PII */
	const char *state, *reply, *time;
};
typedef int (*store_rcpt_error_cb)(const struct store_rcpt_error *e, void *arg);
enum store_status store_queue_errors(struct store *st, int64_t campaign, int max,
				     store_rcpt_error_cb cb, void *arg, char **errstr);

/* ==== Approved versions of campaigns (campaign_version.c; issue 6) ======== */

/*
 * What was approved: store_campaign_approve keeps a copy of a campaign's
 * content (subject, from, template source, audience) when the campaign
 * becomes approved, so that a reviewer can see what changed since. Every
 * string is allocated (NULL when unset).
 */
struct store_campaign_version {
	int64_t campaign, version;
	char *subject, *from, *template_name, *template_source, *template_text;
	char *list, *segment, *approver;
	time_t approved;
};
/*
 * The most recent approved version of the campaign (by id) whose version is
 * at most `upto` (0: any): for a campaign approved as it is now, that
 * version itself; for one edited since, the one approved before the edit.
 * STORE_ENOTFOUND when there is none. *out is allocated; free with
 * store_campaign_version_free. Needs STORE_PERM_CAMPAIGNS_READ.
 */
enum store_status store_campaign_last_approved(struct store *st, int64_t campaign, int64_t upto,
					       struct store_campaign_version **out, char **errstr);
void store_campaign_version_free(struct store_campaign_version **v);

#endif
