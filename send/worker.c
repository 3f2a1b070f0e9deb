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
 * transactions, not their size. One transaction (cycle, in worker_cycle.c)
 * records the outcomes that came in and claims as many recipients as there
 * are free slots, composing their messages; once it is committed they are
 * handed over at once. A claim never takes more than the free slots, so the rows in flight,
 * and the uncertain rows after a kill -9, never exceed the transport's slots
 * (8 x smtp.connections): the messages in flight, plus the ones whose
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

#include "send/worker_private.h"

void worker_log(const struct send_worker_opts *o, const char *fmt, ...)
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

/*
 * The complaint rate of the campaign: over COMPLAINT_LIMIT (0.3%, where
 * Gmail and Yahoo start refusing a sender's mail) once COMPLAINT_MIN messages
 * went out, the breaker pauses it. A new campaign to a cleaned list starts
 * from no complaints.
 */
#define COMPLAINT_LIMIT 0.003
#define COMPLAINT_MIN 1000

static void check_complaints(struct run *run)
{
	int64_t n = 0, sent = 0;

	if (run->trip ||
	    store_campaign_complaints(run->st, run->c->id, &n, &sent, NULL) != STORE_OK ||
	    sent < COMPLAINT_MIN || (double)n <= COMPLAINT_LIMIT * (double)sent)
		return;
	run->trip = true;
	snprintf(run->trip_why, sizeof(run->trip_why),
		 "circuit breaker: %lld complaints of %lld sent (%.2f%%), over the 0.3%% mailbox "
		 "providers allow; find out why before sending more",
		 (long long)n, (long long)sent, 100.0 * (double)n / (double)sent);
}

/* Pauses the campaign for why the breaker (or a setting) tripped, and says so. */
static void pause_tripped(struct run *run)
{
	store_campaign_set_state(run->st, run->c->id, STORE_CAMPAIGN_PAUSED, run->trip_why, NULL);
	worker_log(run->o, "%s: paused: %s", run->c->name, run->trip_why);
}

/*
 * Re-reads the campaign's state: an operator may have paused or cancelled
 * it. Its approvals and legal checks too (send_campaign_recheck), which
 * pause it when a setting that goes into its messages changed.
 */
static bool still_sending(struct run *run)
{
	struct store_campaign *c = NULL;
	char *msg = NULL;
	bool ok;

	if (store_campaign_get(run->st, run->c->name, &c, NULL) != STORE_OK)
		return false;
	ok = c->state == STORE_CAMPAIGN_SENDING;
	if (ok && send_campaign_recheck(run->st, c, &msg) != SEND_ADMIT_GO) {
		worker_log(run->o, "%s: %s", c->name, msg ? msg : "out of memory");
		ok = false;
	}
	free(msg);
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
	unsigned checks = 0;
	bool more = true, halted = false, withdrawn = false;
	char *err = NULL;

	*sent_any = false;
	check_complaints(run);
	if (run->trip) { /* before anything is claimed */
		pause_tripped(run);
		return SEND_OK;
	}
	send_warmup_restart(run->st, time(NULL));
	send_warmup_status(run->st, time(NULL), &w);
	warm_left = w.active ? (w.cap > w.sent_today ? (long)(w.cap - w.sent_today) : 0) : -1;
	if (warm_left == 0) {
		worker_log(run->o, "%s: the warm-up cap of %ld today is reached; the rest waits",
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
		pause_tripped(run);
		free(err);
		send_composer_free(&run->comp);
		return SEND_OK;
	}
	clock_gettime(CLOCK_MONOTONIC, &last_check);
	while (s == SEND_OK && run->fatal == SEND_OK) {
		/* Tripped, paused, stopped or refused: what no connection took yet stays unsent. */
		bool must_stop = *run->o->stop || run->trip || halted || run->denied != NULL;
		bool stopping = must_stop || warm_left == 0;
		bool claiming = !stopping && more;

		if (must_stop && !withdrawn) {
			transport_withdraw(run->t);
			withdrawn = true;
		}
		if (worker_time_to_cycle(run, claiming))
			s = worker_feed(run, claiming, &warm_left, &more);
		if (s != SEND_OK)
			break;
		if (transport_in_flight(run->t) == 0 && (stopping || !more))
			break;
		if (transport_in_flight(run->t) > 0)
			*sent_any = true;
		else
			nap_ms(20); /* waiting for the rate's next token: don't spin */
		s = transport_run(run->t, claiming ? 10 : 500, &err);
		if (worker_us_since(&last_check) >=
		    1000000) { /* a pause, or a setting changed, within a second */
			clock_gettime(CLOCK_MONOTONIC, &last_check);
			halted = !still_sending(run);
			if (++checks % 10 == 0) /* every ten seconds */
				check_complaints(run);
		}
	}
	/* Whatever is still in flight finishes, and every outcome is recorded. */
	while (s == SEND_OK && run->fatal == SEND_OK && transport_in_flight(run->t) > 0) {
		s = transport_run(run->t, 500, &err);
		if (s == SEND_OK && run->npend > 0)
			s = worker_feed(run, false, &warm_left, &more);
	}
	if (run->fatal == SEND_OK && run->npend > 0)
		worker_feed(run, false, &warm_left, &more);
	if (run->trip) {
		pause_tripped(run);
	}
	send_pool_free(&run->pool);
	send_composer_free(&run->comp);
	if (s != SEND_OK) {
		worker_log(run->o, "%s: %s", run->c->name, err ? err : send_strstatus(s));
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
		worker_log(run->o, "%s: %s", name, msg);
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
		worker_log(run->o, "%s: finished: %lld sent, %lld failed, %lld uncertain", name,
			   (long long)qs.count[STORE_RCPT_SENT],
			   (long long)qs.count[STORE_RCPT_FAILED],
			   (long long)qs.count[STORE_RCPT_UNCERTAIN]);
	}
done:
	free(msg);
	store_campaign_free(&run->c);
}

/* Says how to resend what a crash left uncertain: a retry for each campaign
 * of `campaigns` (names separated by spaces, which names never hold). */
static void log_recovered(const struct send_worker_opts *o, const char *details,
			  const char *campaigns)
{
	char how[1024] = "";
	const char *p = campaigns != NULL ? campaigns : "";
	size_t len = 0, n;

	while (*p != '\0' && len < sizeof(how)) {
		n = strcspn(p, " ");
		len += (size_t)snprintf(how + len, sizeof(how) - len,
					"%shato campaign retry %.*s --uncertain", len ? "; " : "",
					(int)n, p);
		p += n + strspn(p + n, " ");
	}
	worker_log(o, "%s; resend them with: %s", details,
		   how[0] != '\0' ? how : "hato campaign retry NAME --uncertain");
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
	char *lock = worker_lock_path(st), *err = NULL, *recovered = NULL, details[64];
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
	if (store_queue_recover(st, &uncertain, &recovered, &err) != STORE_OK) {
		s = send_err(errstr, SEND_ESTORE, "%s", err ? err : "cannot recover the queue");
		goto done;
	}
	if (uncertain > 0) {
		snprintf(details, sizeof(details), "%lld recipients in flight became uncertain",
			 (long long)uncertain);
		store_audit(st, "worker.recover", NULL, "ok", details);
		log_recovered(o, details, recovered);
	}
	s = send_transport_from_config(st, worker_on_done, &run, &run.t, errstr);
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
	worker_log(o, "started as %s, sending through %s", store_user(st), transport_url(run.t));
	while (!*o->stop && run.fatal == SEND_OK && run.denied == NULL) {
		bool any = false, sent = false;
		d.n = 0;
		if (store_require(st, STORE_PERM_CAMPAIGNS_SEND, "worker", &err) == STORE_EDENIED) {
			worker_withdraw(&run, err);
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
			nap(o, WORKER_NAP_MS);
	}
	if (run.fatal != SEND_OK)
		s = send_err(errstr, run.fatal, "%s", run.fatal_err ? run.fatal_err : "failed");
	else if (run.denied != NULL)
		s = send_err(errstr, SEND_EDENIED, "the worker stopped: %s", run.denied);
	else if (o->once && run.unavailable[0] != '\0') /* a service would keep waiting */
		s = send_err(errstr, SEND_EUNAVAILABLE, "the mail server is unavailable (%s)",
			     run.unavailable);
	worker_log(o, "stopped");
done:
	free(d.names);
	free(recovered);
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
