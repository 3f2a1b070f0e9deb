/*
 * send/worker_cycle.c: the worker's transaction (see worker.c): recording
 * the outcomes that came in, claiming recipients and composing their
 * messages, then handing them to the transport once it is committed.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "send/worker_private.h"

/* Drops what only composing needed. */
static void recipient_free(struct inflight *f)
{
	for (size_t i = 0; i < 2 * f->nattrs; i++)
		free(f->attrs[i]);
	free(f->attrs);
	f->attrs = NULL;
	f->nattrs = 0;
	free(f->name);
	f->name = NULL;
	free(f->compose_err);
	f->compose_err = NULL;
}

static void inflight_free(struct inflight *f)
{
	recipient_free(f);
	free(f->data);
	free(f->rcpt);
	free(f->reply);
	free(f);
}

/*
 * Writes the outcomes that came in, inside the caller's transaction (cycle).
 * A recipient erased meanwhile has left the queue: noted, not an error.
 */
static enum store_status record(struct run *run, char **err)
{
	enum store_status s = STORE_OK;
	size_t i;

	for (i = 0; i < run->npend && s == STORE_OK; i++) {
		struct inflight *f = run->pend[i];
		/* The Message-ID is kept wherever the message may have arrived. */
		const char *mid = f->state == STORE_RCPT_SENT || f->state == STORE_RCPT_UNCERTAIN
				      ? f->message_id
				      : NULL;
		s = store_queue_result(run->st, run->c->id, f->subscriber, f->state,
				       f->reply ? f->reply : "", mid, f->next, err);
		if (s == STORE_ENOTFOUND) {
			worker_log(run->o, "%s: recipient %lld left the queue while in flight",
				   run->c->name, (long long)f->subscriber);
			free(*err);
			*err = NULL;
			s = STORE_OK;
		}
	}
	return s;
}

void worker_on_done(void *arg, void *msg_arg, const struct transport_result *r)
{
	struct run *run = arg;
	struct inflight *f = msg_arg;
	enum store_rcpt_state state;
	time_t next = 0, now = time(NULL);
	/* A verdict keeps the server's words; trouble without one keeps ours, with context. */
	const char *reply = r->outcome == TRANSPORT_ERROR && r->error != NULL ? r->error
			    : r->reply[0] != '\0'			      ? r->reply
			    : r->error != NULL				      ? r->error
									      : "";

	switch (r->outcome) {
	case TRANSPORT_UNSENT: /* taken back before it went: waits in the queue again */
		state = STORE_RCPT_QUEUED;
		break;
	case TRANSPORT_SENT:
		state = STORE_RCPT_SENT;
		pace_result(&run->pace, false);
		break;
	case TRANSPORT_FAILED:
		state = STORE_RCPT_FAILED;
		pace_result(&run->pace, true);
		break;
	case TRANSPORT_ERROR:
	default:
		if (r->after_data) {
			/* Dropped after the data: it may have arrived, so never resend on our own.
			 */
			state = STORE_RCPT_UNCERTAIN;
			break;
		}
		if (r->tls_failure || r->auth_failure) {
			/* Not the recipient's trouble: the breaker pauses the campaign. */
			state = STORE_RCPT_DEFERRED;
			next = now + run->retry_base;
			run->trip = true;
			snprintf(run->trip_why, sizeof(run->trip_why), "circuit breaker: %s",
				 r->error ? r->error : "TLS or authentication failure");
			memcpy(run->unavailable, run->trip_why, sizeof(run->unavailable));
			break;
		}
		/* The server unreachable: it waits as a deferral does. */
		/* fall through */
	case TRANSPORT_DEFERRED: /* deferred for longer than send.retry_for: failed */
		state = send_retry_next(run->retry_base, run->retry_for, f->attempts, now, &next)
			    ? STORE_RCPT_FAILED
			    : STORE_RCPT_DEFERRED;
		break;
	}
	f->state = state;
	f->next = next;
	f->reply = r->outcome != TRANSPORT_FAILED && state == STORE_RCPT_FAILED
		       ? send_retry_gave_up(reply, f->attempts)
		       : strdup(reply);
	if (run->npend == run->cappend) { /* never: each slot has at most one outcome */
		inflight_free(f);
		return;
	}
	if (run->npend == 0)
		clock_gettime(CLOCK_MONOTONIC, &run->first_pend);
	run->pend[run->npend++] = f;
	run->done++;
	if (!run->trip && pace_breaker(&run->pace, run->trip_why, sizeof(run->trip_why))) {
		const char *cause = send_reply_cause(reply);
		size_t n = strlen(run->trip_why);

		run->trip = true;
		if (cause != NULL) /* the last reply says what is wrong */
			snprintf(run->trip_why + n, sizeof(run->trip_why) - n, "; %s", cause);
	}
}

struct claim_ctx {
	struct run *run;
	time_t now;
	int64_t pace_now; /* pace_clock_us */
};

/* A copy of a claimed recipient, to compose from once the claim is done. */
static struct inflight *recipient_copy(const struct store_rcpt *r)
{
	struct inflight *f = calloc(1, sizeof(*f));
	size_t i, n = r->nattrs < 64 ? r->nattrs : 64;

	if (f == NULL)
		return NULL;
	f->subscriber = r->subscriber;
	f->attempts = r->attempts;
	f->rcpt = strdup(r->email);
	f->name = r->name != NULL ? strdup(r->name) : NULL;
	f->attrs = n > 0 ? calloc(2 * n, sizeof(*f->attrs)) : NULL;
	if (f->rcpt == NULL || (r->name != NULL && f->name == NULL) || (n > 0 && f->attrs == NULL))
		goto fail;
	for (; f->nattrs < n; f->nattrs++) {
		i = f->nattrs;
		f->attrs[2 * i] = strdup(r->attrs[i].key);
		f->attrs[2 * i + 1] = strdup(r->attrs[i].value);
		if (f->attrs[2 * i] == NULL || f->attrs[2 * i + 1] == NULL) {
			f->nattrs++;
			goto fail;
		}
	}
	return f;
fail:
	inflight_free(f);
	return NULL;
}

/*
 * A claimed recipient, inside the claiming transaction: takes it from the
 * pacing budgets and keeps a copy, whose message compose_ready() makes
 * before the claim is committed. Whoever can't go now returns to the queue
 * in the same transaction.
 */
static int claim_one(const struct store_rcpt *r, void *arg)
{
	struct claim_ctx *cc = arg;
	struct run *run = cc->run;
	struct inflight *f;
	unsigned session_limit = 0;

	if (run->nready == run->cappend) { /* never: the claim asks for free slots only */
		store_queue_result(run->st, run->c->id, r->subscriber, STORE_RCPT_QUEUED, NULL,
				   NULL, 0, NULL);
		return 1;
	}
	if (!pace_take(&run->pace, r->domain, cc->pace_now, &session_limit)) {
		/* Its domain's budget (or the global rate) is spent: back in the queue. */
		store_queue_result(run->st, run->c->id, r->subscriber, STORE_RCPT_QUEUED, NULL,
				   NULL, 0, NULL);
		return 0;
	}
	f = recipient_copy(r);
	if (f == NULL) {
		/* Out of memory: this one and the rest go back to the queue. */
		store_queue_result(run->st, run->c->id, r->subscriber, STORE_RCPT_QUEUED, NULL,
				   NULL, 0, NULL);
		return 1;
	}
	f->session_limit = session_limit;
	run->ready[run->nready++] = f;
	return 0;
}

/* Composes one claimed message; runs on any of the pool's threads. */
static void compose_at(size_t i, void *arg)
{
	struct run *run = arg;
	struct inflight *f = run->ready[i];
	struct send_recipient rc = {0};
	struct send_composed m = {0};
	const char *keys[64], *vals[64];
	size_t k;

	rc.subscriber_id = (uint64_t)f->subscriber;
	rc.list_id = (uint64_t)run->list_rowid;
	rc.email = f->rcpt;
	rc.name = f->name;
	for (k = 0; k < f->nattrs; k++) {
		keys[k] = f->attrs[2 * k];
		vals[k] = f->attrs[2 * k + 1];
	}
	rc.nattrs = f->nattrs;
	rc.attr_keys = keys;
	rc.attr_values = vals;
	if (send_compose(run->comp, &rc, &m, &f->compose_err) != SEND_OK) {
		if (f->compose_err == NULL)
			f->compose_err = strdup("hato: the message could not be composed");
		return;
	}
	f->data = m.data;
	f->len = m.len;
	snprintf(f->message_id, sizeof(f->message_id), "%s", m.message_id);
}

/*
 * Composes the claimed messages, in the claiming transaction; a message
 * that can't be composed fails there and is not handed over.
 */
static void compose_ready(struct run *run)
{
	size_t i, kept = 0;

	send_pool_run(run->pool, run->nready, compose_at, run);
	for (i = 0; i < run->nready; i++) {
		struct inflight *f = run->ready[i];

		if (f->data == NULL) {
			store_queue_result(run->st, run->c->id, f->subscriber, STORE_RCPT_FAILED,
					   f->compose_err ? f->compose_err : "out of memory", NULL,
					   0, NULL);
			inflight_free(f);
			continue;
		}
		recipient_free(f);
		run->ready[kept++] = f;
	}
	run->nready = kept;
}

/* Hands the committed claims to the transport. */
static void hand_over(struct run *run, int *submitted)
{
	struct transport_message tm;
	char verp[512], *err = NULL;
	size_t i;

	for (i = 0; i < run->nready; i++) {
		struct inflight *f = run->ready[i];

		memset(&tm, 0, sizeof(tm));
		if (run->verp_domain != NULL) {
			send_verp(run->verp_key, run->verp_domain, run->c->id, f->subscriber, verp,
				  sizeof(verp));
			tm.from = verp;
		} else {
			tm.from = send_composer_from_addr(run->comp);
		}
		tm.rcpt = f->rcpt;
		tm.data = f->data;
		tm.len = f->len;
		tm.arg = f;
		tm.session_limit = f->session_limit;
		if (transport_submit(run->t, &tm, &err) != SEND_OK) {
			store_queue_result(run->st, run->c->id, f->subscriber, STORE_RCPT_QUEUED,
					   NULL, NULL, 0, NULL);
			worker_log(run->o, "cannot submit: %s", err ? err : "transport error");
			free(err);
			err = NULL;
			inflight_free(f);
			continue;
		}
		/* The transport keeps its own copy. */
		free(f->data);
		f->data = NULL;
		free(f->rcpt);
		f->rcpt = NULL;
		(*submitted)++;
		run->claimed++;
	}
	run->nready = 0;
}

/*
 * The user may no longer send: disabled, or their role changed, during the
 * run. Nothing more is claimed; what is in flight finishes and is recorded.
 */
void worker_withdraw(struct run *run, char *why)
{
	if (run->denied != NULL) {
		free(why);
		return;
	}
	run->denied = why != NULL ? why : strdup("the permission to send was withdrawn");
	worker_log(run->o, "no longer allowed to send: %s", run->denied ? run->denied : "");
}

/*
 * One transaction records the outcomes that came in and claims as many
 * recipients as the free slots, pacing and warm-up allow (want may be 0);
 * once it is committed, their messages are handed over at once. So a
 * recipient is in flight in the store before its message leaves, and the
 * rows in flight never exceed the transport's slots: a crash leaves those,
 * and only those, to become uncertain.
 */
static enum send_status cycle(struct run *run, long want, const char *const *blocked,
			      int *submitted)
{
	struct claim_ctx cc = {run, time(NULL), pace_clock_us()};
	enum store_status s;
	char *err = NULL;
	size_t i;

	*submitted = 0;
	if (run->npend == 0 && want <= 0)
		return SEND_OK;
	s = store_begin(run->st);
	if (s == STORE_OK)
		s = record(run, &err);
	if (s == STORE_OK && want > 0 && run->denied == NULL) {
		s = store_queue_claim(run->st, run->c->id, cc.now, (int)want, blocked, claim_one,
				      &cc, &err);
		/* The outcomes that came in are still recorded. */
		if (s == STORE_EDENIED) {
			worker_withdraw(run, err);
			err = NULL;
			s = STORE_OK;
		}
	}
	if (s == STORE_OK && run->nready > 0)
		compose_ready(run);
	if (s == STORE_OK)
		s = store_commit_err(run->st, &err);
	else
		store_rollback(run->st);
	for (i = 0; i < run->npend; i++)
		inflight_free(run->pend[i]);
	if (s != STORE_OK) {
		/* Nothing was handed over; what was in flight stays so and becomes uncertain. */
		worker_log(run->o, "cannot record %zu outcomes and claim: %s", run->npend,
			   err ? err : store_strstatus(s));
		for (i = 0; i < run->nready; i++)
			inflight_free(run->ready[i]);
		run->npend = run->nready = 0;
		if (run->fatal == SEND_OK) {
			run->fatal = SEND_ESTORE;
			run->fatal_err = err != NULL ? err : strdup("cannot record outcomes");
			err = NULL;
		}
		free(err);
		return SEND_ESTORE;
	}
	run->npend = 0;
	hand_over(run, submitted);
	free(err);
	return SEND_OK;
}

/* How many recipients to claim now: the free slots, within the rate and the warm-up. */
static long wanted(struct run *run, long warm_left)
{
	long want = (long)transport_free_slots(run->t);
	double budget = pace_budget(&run->pace);

	if (budget < want)
		want = (long)budget;
	if (warm_left >= 0 && warm_left < want)
		want = warm_left;
	return want;
}

/* Records what came in and claims and hands over what may go now. */
enum send_status worker_feed(struct run *run, bool claim, long *warm_left, bool *more)
{
	const char *blocked[MAX_BLOCKED + 1];
	long want = claim ? wanted(run, *warm_left) : 0;
	int64_t now = pace_clock_us();
	size_t nb = 0;
	int submitted = 0;
	enum send_status s;

	if (want > 0)
		nb = pace_blocked(&run->pace, now, blocked, MAX_BLOCKED);
	blocked[nb] = NULL;
	s = cycle(run, want, nb ? blocked : NULL, &submitted);
	if (s != SEND_OK)
		return s;
	if (want > 0) {
		if (*warm_left >= 0)
			*warm_left -= submitted;
		/*
		 * A domain whose next message is due before the worker would look
		 * again (it naps WORKER_NAP_MS between rounds) is waited for here,
		 * so that its messages go one a gap, not one a round.
		 */
		*more = submitted > 0 ||
			(nb > 0 && pace_wait_us(&run->pace, now) <= WORKER_NAP_MS * 1000L);
	}
	return SEND_OK;
}

long worker_us_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t->tv_sec) * 1000000L + (now.tv_nsec - t->tv_nsec) / 1000;
}

/*
 * Is it time for a transaction? Each one costs the same few encrypted pages
 * however many outcomes and claims it carries, so outcomes are gathered: a
 * transaction runs when nothing is in flight any more, when half the slots
 * are free (the other half keeps the connections busy meanwhile, on the
 * transport's thread), or when the oldest outcome has waited 20 ms. On a
 * slow relay that wait stays small beside a message's round trips.
 */
bool worker_time_to_cycle(struct run *run, bool claiming)
{
	if (transport_in_flight(run->t) == 0)
		return true;
	if (run->npend == 0)
		return false;
	return !claiming || transport_free_slots(run->t) >= run->batch ||
	       worker_us_since(&run->first_pend) >= 20000;
}
