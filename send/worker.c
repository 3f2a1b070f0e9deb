/*
 * send/worker.c: the sending worker.
 *
 * Crash safety rests on the queue: a recipient is marked in flight, in a
 * committed transaction, before its message is handed to the transport, and
 * its outcome is committed soon after the transport reports it (within 20 ms,
 * usually about one). After a crash the in-flight rows, and only they, become
 * uncertain; they are resent only on `campaign retry --uncertain`. Everyone
 * else gets exactly one message.
 *
 * Speed: the store is encrypted page by page, so what costs is the number of
 * transactions, not their size. One transaction (cycle) records the outcomes
 * that came in and claims as many recipients as there are free slots,
 * composing their messages; once it is committed they are handed over at
 * once. A claim never takes more than the free slots, so the rows in flight,
 * and the uncertain rows after a kill -9, never exceed the transport's slots
 * (4 x smtp.connections): the messages in flight, plus the ones whose
 * outcome came in but is not committed yet. When the campaign signs, the
 * claimed batch is composed on every core (pool.c) before the commit. The
 * store and the outcomes stay on this thread; the SMTP sessions run on the
 * transport's own thread (transport.c), so they keep sending while this
 * thread records and claims.
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

#include "send/pace.h"
#include "send/private.h"
#include "send/send.h"
#include "send/transport.h"
#include "store/store.h"

#define MAX_BLOCKED 32

/*
 * A claimed message: composed, then handed to the transport, then its
 * outcome until it is recorded.
 */
struct inflight {
	int64_t subscriber;
	char message_id[128];
	char *data; /* the composed message, until it is handed over */
	size_t len;
	char *rcpt;
	/* the recipient, from the claim until the message is composed */
	char *name;
	char **attrs; /* key, value, key, value... */
	size_t nattrs;
	char *compose_err; /* why the message could not be composed */
	unsigned session_limit;
	enum store_rcpt_state state;
	char *reply;
	time_t next;
	int attempts; /* this one included */
};

struct run {
	struct store *st;
	const struct send_worker_opts *o;
	struct transport *t;
	struct pace pace;
	struct store_campaign *c;
	struct send_composer *comp;
	struct send_pool *pool; /* composes a batch on every core when it signs */
	int64_t list_rowid;
	long retry_base, retry_for;
	char *verp_domain;
	unsigned char verp_key[32];
	bool trip; /* the breaker tripped: pause the campaign */
	char trip_why[300];
	char unavailable[300]; /* the last TLS or AUTH failure that tripped it, or "" */
	int64_t claimed, done;
	struct inflight **pend; /* outcomes not yet recorded (at most the slots) */
	size_t npend, cappend;
	struct timespec first_pend; /* when the oldest of them came in */
	struct inflight **ready;    /* claimed and composed, to hand over once committed */
	size_t nready;
	size_t batch; /* outcomes worth a transaction: half the slots */
	enum send_status fatal;
	char *fatal_err;
	char *denied; /* why the user may no longer send (an admin's change), or NULL */
};

static void logf_(const struct send_worker_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void logf_(const struct send_worker_opts *o, const char *fmt, ...)
{
	va_list ap;
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	if (o->log == NULL)
		return;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(o->log, "%s worker: ", when);
	va_start(ap, fmt);
	vfprintf(o->log, fmt, ap);
	va_end(ap);
	fputc('\n', o->log);
	fflush(o->log);
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

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
			logf_(run->o, "%s: recipient %lld left the queue while in flight",
			      run->c->name, (long long)f->subscriber);
			free(*err);
			*err = NULL;
			s = STORE_OK;
		}
	}
	return s;
}

static void on_done(void *arg, void *msg_arg, const struct transport_result *r)
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
	if (!run->trip && pace_breaker(&run->pace, run->trip_why, sizeof(run->trip_why)))
		run->trip = true;
}

struct claim_ctx {
	struct run *run;
	time_t now;
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
	if (!pace_take(&run->pace, r->domain, cc->now, &session_limit)) {
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
			logf_(run->o, "cannot submit: %s", err ? err : "transport error");
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
static void withdraw(struct run *run, char *why)
{
	if (run->denied != NULL) {
		free(why);
		return;
	}
	run->denied = why != NULL ? why : strdup("the permission to send was withdrawn");
	logf_(run->o, "no longer allowed to send: %s", run->denied ? run->denied : "");
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
	struct claim_ctx cc = {run, time(NULL)};
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
			withdraw(run, err);
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
		logf_(run->o, "cannot record %zu outcomes and claim: %s", run->npend,
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
static enum send_status feed(struct run *run, bool claim, long *warm_left, bool *more)
{
	const char *blocked[MAX_BLOCKED + 1];
	long want = claim ? wanted(run, *warm_left) : 0;
	size_t nb = 0;
	int submitted = 0;
	enum send_status s;

	if (want > 0)
		nb = pace_blocked(&run->pace, time(NULL), blocked, MAX_BLOCKED);
	blocked[nb] = NULL;
	s = cycle(run, want, nb ? blocked : NULL, &submitted);
	if (s != SEND_OK)
		return s;
	if (want > 0) {
		if (*warm_left >= 0)
			*warm_left -= submitted;
		*more = submitted > 0;
	}
	return SEND_OK;
}

static long us_since(const struct timespec *t)
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
static bool time_to_cycle(struct run *run, bool claiming)
{
	if (transport_in_flight(run->t) == 0)
		return true;
	if (run->npend == 0)
		return false;
	return !claiming || transport_free_slots(run->t) >= run->batch ||
	       us_since(&run->first_pend) >= 20000;
}

/* Re-reads the campaign's state: an operator may have paused or cancelled it. */
static bool still_sending(struct run *run)
{
	struct store_campaign *c = NULL;
	bool ok;

	if (store_campaign_get(run->st, run->c->name, &c, NULL) != STORE_OK)
		return false;
	ok = c->state == STORE_CAMPAIGN_SENDING;
	store_campaign_free(&c);
	return ok;
}

static enum send_status open_composer(struct run *run, char **errstr)
{
	enum send_status s;

	if (store_list_rowid(run->st, run->c->list, &run->list_rowid, NULL) != STORE_OK)
		return send_err(errstr, SEND_EINVAL, "the list %s is gone", run->c->list);
	s = send_composer_for_campaign(run->st, run->c, &run->comp, errstr);
	if (s != SEND_OK)
		return s;
	/*
	 * Signing costs a core's worth per thousand or two messages a second,
	 * so a campaign that signs composes on every core; one that doesn't
	 * composes faster than the connections send, on this thread alone.
	 */
	if (send_composer_dkim_keys(run->comp) > 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		size_t helpers = cpus > 1 ? (size_t)(cpus < 8 ? cpus - 1 : 7) : 0;

		if (send_pool_new(helpers, &run->pool) != SEND_OK)
			return send_err(errstr, SEND_ENOMEM, "out of memory");
	}
	return SEND_OK;
}

/*
 * Sends one campaign until its queue has nothing to send now, the warm-up
 * cap is reached, the breaker trips, an operator pauses it or a stop is
 * asked for. *sent_any tells whether anything was handed over.
 */
static enum send_status run_campaign(struct run *run, bool *sent_any)
{
	struct send_warmup w;
	enum send_status s = SEND_OK;
	long warm_left;
	struct timespec last_check;
	bool more = true, halted = false;
	char *err = NULL;

	*sent_any = false;
	send_warmup_status(run->st, time(NULL), &w);
	warm_left = w.active ? (w.cap > w.sent_today ? (long)(w.cap - w.sent_today) : 0) : -1;
	if (warm_left == 0) {
		logf_(run->o, "%s: the warm-up cap of %ld today is reached; the rest waits",
		      run->c->name, w.cap);
		return SEND_OK;
	}
	s = open_composer(run, &err);
	if (s != SEND_OK) {
		/* Most often a setting: paused, to resume once it is fixed. */
		run->trip = true;
		snprintf(run->trip_why, sizeof(run->trip_why),
			 "cannot compose its messages: %.200s; fix it and resume the campaign",
			 err ? err : send_strstatus(s));
		store_campaign_set_state(run->st, run->c->id, STORE_CAMPAIGN_PAUSED, run->trip_why,
					 NULL);
		logf_(run->o, "%s: paused: %s", run->c->name, run->trip_why);
		free(err);
		send_composer_free(&run->comp);
		return SEND_OK;
	}
	clock_gettime(CLOCK_MONOTONIC, &last_check);
	while (s == SEND_OK && run->fatal == SEND_OK) {
		bool stopping =
		    *run->o->stop || run->trip || halted || warm_left == 0 || run->denied != NULL;
		bool claiming = !stopping && more;

		if (time_to_cycle(run, claiming))
			s = feed(run, claiming, &warm_left, &more);
		if (s != SEND_OK)
			break;
		if (transport_in_flight(run->t) == 0 && (stopping || !more))
			break;
		if (transport_in_flight(run->t) > 0)
			*sent_any = true;
		else
			nap_ms(20); /* waiting for the rate's next token: don't spin */
		s = transport_run(run->t, claiming ? 10 : 500, &err);
		if (us_since(&last_check) >= 1000000) { /* an operator's pause, within a second */
			clock_gettime(CLOCK_MONOTONIC, &last_check);
			halted = !still_sending(run);
		}
	}
	/* Whatever is still in flight finishes, and every outcome is recorded. */
	while (s == SEND_OK && run->fatal == SEND_OK && transport_in_flight(run->t) > 0) {
		s = transport_run(run->t, 500, &err);
		if (s == SEND_OK && run->npend > 0)
			s = feed(run, false, &warm_left, &more);
	}
	if (run->fatal == SEND_OK && run->npend > 0)
		feed(run, false, &warm_left, &more);
	if (run->trip) {
		store_campaign_set_state(run->st, run->c->id, STORE_CAMPAIGN_PAUSED, run->trip_why,
					 NULL);
		logf_(run->o, "%s: paused: %s", run->c->name, run->trip_why);
	}
	send_pool_free(&run->pool);
	send_composer_free(&run->comp);
	if (s != SEND_OK) {
		logf_(run->o, "%s: %s", run->c->name, err ? err : send_strstatus(s));
		free(err);
	}
	return s;
}

static char *worker_lock_path(struct store *st)
{
	size_t n = strlen(store_file(st)) + 8;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s.worker", store_file(st));
	return p;
}

bool send_worker_running(struct store *st)
{
	char *p = worker_lock_path(st);
	int fd = p ? open(p, O_RDONLY | O_CLOEXEC) : -1;
	bool running = false;

	if (fd >= 0) {
		running = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
		close(fd);
	}
	free(p);
	return running;
}

struct due {
	char **names;
	size_t n;
};

static int collect_due(const struct store_campaign *c, void *arg)
{
	struct due *d = arg;
	char **n = realloc(d->names, (d->n + 1) * sizeof(*n));

	if (n == NULL)
		return 1;
	d->names = n;
	d->names[d->n] = strdup(c->name);
	if (d->names[d->n] != NULL)
		d->n++;
	return 0;
}

/* Checks the approvals and the legal footer, fixes the queue and sends one due campaign. */
static void work_on(struct run *run, const char *name, bool *sent_any)
{
	struct store_queue_stats qs;
	enum send_admit a;
	char *msg = NULL;

	*sent_any = false;
	if (store_campaign_get(run->st, name, &run->c, NULL) != STORE_OK)
		return;
	a = send_campaign_admit(run->st, run->c, &msg);
	if (msg != NULL)
		logf_(run->o, "%s: %s", name, msg);
	if (a != SEND_ADMIT_GO)
		goto done;
	run->trip = false;
	pace_breaker_reset(&run->pace);
	run_campaign(run, sent_any);
	if (!run->trip && store_queue_stats(run->st, run->c->id, &qs, NULL) == STORE_OK &&
	    qs.count[STORE_RCPT_QUEUED] + qs.count[STORE_RCPT_INFLIGHT] +
		    qs.count[STORE_RCPT_DEFERRED] ==
		0) {
		store_campaign_set_state(run->st, run->c->id, STORE_CAMPAIGN_SENT, NULL, NULL);
		logf_(run->o, "%s: finished: %lld sent, %lld failed, %lld uncertain", name,
		      (long long)qs.count[STORE_RCPT_SENT], (long long)qs.count[STORE_RCPT_FAILED],
		      (long long)qs.count[STORE_RCPT_UNCERTAIN]);
	}
done:
	free(msg);
	store_campaign_free(&run->c);
}

static void nap(const struct send_worker_opts *o, int ms)
{
	struct timespec ts = {0, 100 * 1000 * 1000};

	for (; ms > 0 && !*o->stop; ms -= 100)
		nanosleep(&ts, NULL);
}

enum send_status send_worker_run(struct store *st, const struct send_worker_opts *o, char **errstr)
{
	struct run run;
	struct due d = {0};
	enum send_status s;
	char *lock = worker_lock_path(st), *err = NULL, details[64];
	int64_t uncertain = 0;
	size_t i;
	int fd = -1;

	memset(&run, 0, sizeof(run));
	run.st = st;
	run.o = o;
	/*
	 * Every message allocates and frees a few buffers of some kilobytes at
	 * the top of the heap: without a margin glibc gives the memory back and
	 * takes it again (brk and fresh zeroed pages) several times a message.
	 */
	mallopt(M_TRIM_THRESHOLD, 8 << 20);
	mallopt(M_TOP_PAD, 1 << 20);
	fd = lock ? open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		s = send_err(errstr, SEND_EBUSY, "another worker is running for this store");
		goto done;
	}
	if (store_queue_recover(st, &uncertain, &err) != STORE_OK) {
		s = send_err(errstr, SEND_ESTORE, "%s", err ? err : "cannot recover the queue");
		goto done;
	}
	if (uncertain > 0) {
		snprintf(details, sizeof(details), "%lld recipients in flight became uncertain",
			 (long long)uncertain);
		store_audit(st, "worker.recover", NULL, "ok", details);
		logf_(o, "%s; resend them with: hato campaign retry NAME --uncertain", details);
	}
	s = send_transport_from_config(st, on_done, &run, &run.t, errstr);
	if (s != SEND_OK)
		goto done;
	run.cappend = transport_free_slots(run.t);
	run.batch = run.cappend / 2 > 0 ? run.cappend / 2 : 1;
	run.pend = calloc(run.cappend, sizeof(*run.pend));
	run.ready = calloc(run.cappend, sizeof(*run.ready));
	if (run.pend == NULL || run.ready == NULL) {
		s = send_err(errstr, SEND_ENOMEM, "out of memory");
		goto done;
	}
	pace_init(&run.pace, st);
	run.retry_base = send_setting_number(st, "send.retry_base");
	run.retry_for = send_setting_number(st, "send.retry_for");
	run.verp_domain = send_setting(st, "bounce.domain");
	store_unsubscribe_key(st, run.verp_key);
	logf_(o, "started as %s, sending through %s", store_user(st), transport_url(run.t));
	while (!*o->stop && run.fatal == SEND_OK && run.denied == NULL) {
		bool any = false, sent = false;
		d.n = 0;
		if (store_require(st, STORE_PERM_CAMPAIGNS_SEND, "worker", &err) == STORE_EDENIED) {
			withdraw(&run, err);
			err = NULL;
			break;
		}
		if (store_campaign_due(st, time(NULL), collect_due, &d, NULL) != STORE_OK)
			break;
		for (i = 0; i < d.n; i++) {
			sent = false;
			if (!*o->stop)
				work_on(&run, d.names[i], &sent);
			any = any || sent;
			free(d.names[i]);
		}
		if (o->once && !any)
			break;
		if (!any)
			nap(o, 2000);
	}
	if (run.fatal != SEND_OK)
		s = send_err(errstr, run.fatal, "%s", run.fatal_err ? run.fatal_err : "failed");
	else if (run.denied != NULL)
		s = send_err(errstr, SEND_EDENIED, "the worker stopped: %s", run.denied);
	else if (o->once && run.unavailable[0] != '\0') /* a service would keep waiting */
		s = send_err(errstr, SEND_EUNAVAILABLE, "the mail server is unavailable (%s)",
			     run.unavailable);
	logf_(o, "stopped");
done:
	free(d.names);
	free(err);
	free(run.fatal_err);
	free(run.denied);
	free(run.pend);
	free(run.ready);
	free(run.verp_domain);
	sodium_memzero(run.verp_key, sizeof(run.verp_key));
	transport_close(&run.t);
	if (fd >= 0)
		close(fd);
	free(lock);
	return s;
}
