/*
 * send/transport.c: the front of the transports. Parses and checks the
 * configuration (URL, TLS policy, connections), keeps the password in
 * sodium_malloc'd memory, counts messages in flight and passes each
 * back end's reports to the worker's callback.
 *
 * A back end marked threaded (SMTP) runs on a sending thread of its own,
 * so that its sessions move on while the worker's thread records outcomes
 * and composes the next messages. The thread alone calls the back end's
 * submit and run. Messages go to it through `subs`, and what became of
 * them comes back through `fins`, both under `mu`; an eventfd wakes the
 * thread's poll when there is something to send, and a condition variable
 * wakes the worker when something finished. The worker's callback still
 * runs in the worker's thread, from transport_run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "send/private.h"
#include "send/transport.h"

/* A message for the sending thread, with its own copies. */
struct sub {
	struct transport_message m;
	char *buf; /* from, rcpt and data; kept from message to message */
	size_t cap;
};

/* A finished message, for the worker's thread. */
struct fin {
	void *arg;
	struct transport_result r;
	char reply[600];
	char error[1200];
};

struct transport {
	const struct transport_ops *ops;
	void *state;
	struct transport_conf conf;
	transport_done_fn *done;
	void *done_arg;
	size_t in_flight;
	bool in_callback;
	/* The sending thread, for a threaded back end. */
	bool threaded;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* something finished, or the thread stopped */
	struct sub *subs;  /* waiting for the thread; at most conf.slots */
	size_t nsubs;
	bool woken;	   /* the thread was woken for the subs waiting */
	struct fin *fins;  /* finished, waiting for the worker; at most conf.slots */
	struct fin *taken; /* the worker's side of the swap */
	size_t nfins;
	bool withdraw; /* transport_withdraw was called: the thread takes back the waiting */
	bool stop, stopped;
	enum send_status thread_st;
	char *thread_err;
};

const char *transport_outcome_name(enum transport_outcome o)
{
	switch (o) {
	case TRANSPORT_SENT:
		return "sent";
	case TRANSPORT_DEFERRED:
		return "deferred";
	case TRANSPORT_FAILED:
		return "failed";
	case TRANSPORT_ERROR:
		return "error";
	case TRANSPORT_UNSENT:
		return "unsent";
	}
	return "unknown";
}

bool transport_host_is_loopback(const char *host)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n;
	struct in_addr a4;
	struct in6_addr a6;

	if (host == NULL || *host == '\0')
		return false;
	if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	n = strlen(host);
	if (host[0] == '[' && n >= 2 && host[n - 1] == ']') {
		if (n - 2 >= sizeof(buf))
			return false;
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		host = buf;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
	}
	return false;
}

static void conf_clear(struct transport_conf *c)
{
	free(c->url);
	free(c->host);
	free(c->dir);
	free(c->user);
	free(c->ca_file);
	free(c->helo);
	if (c->password != NULL) {
		sodium_memzero(c->password, strlen(c->password));
		sodium_free(c->password);
	}
	memset(c, 0, sizeof(*c));
}

static bool has_ctl(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Splits the authority of smtp[s]://AUTHORITY[/...] into host and port. */
static enum send_status parse_authority(const char *url, const char *auth, size_t len,
					bool implicit_tls, struct transport_conf *c, char **errstr)
{
	const char *end = auth + len, *colon = NULL, *hs = auth, *he;
	long port = implicit_tls ? 465 : 587;

	if (len > 0 && auth[0] == '[') {
		he = memchr(auth, ']', len);
		if (he == NULL)
			return send_err(errstr, SEND_EINVAL, "smtp: bad IPv6 address in %s", url);
		hs = auth + 1;
		if (he + 1 < end) {
			if (he[1] != ':')
				return send_err(errstr, SEND_EINVAL, "smtp: bad URL %s", url);
			colon = he + 1;
		}
	} else {
		colon = memchr(auth, ':', len);
		he = colon != NULL ? colon : end;
	}
	if (he == hs)
		return send_err(errstr, SEND_EINVAL, "smtp: no host in %s", url);
	if (colon != NULL) {
		char pbuf[8], *pend;
		size_t pl = (size_t)(end - colon - 1);

		if (pl == 0 || pl >= sizeof(pbuf))
			return send_err(errstr, SEND_EINVAL, "smtp: bad port in %s", url);
		memcpy(pbuf, colon + 1, pl);
		pbuf[pl] = '\0';
		errno = 0;
		port = strtol(pbuf, &pend, 10);
		if (errno != 0 || *pend != '\0' || port < 1 || port > 65535)
			return send_err(errstr, SEND_EINVAL, "smtp: bad port in %s", url);
	}
	c->host = strndup(hs, (size_t)(he - hs));
	if (c->host == NULL)
		return SEND_ENOMEM;
	c->port = (int)port;
	return SEND_OK;
}

static enum send_status parse_url(const char *url, struct transport_conf *c,
				  const struct transport_ops **ops, char **errstr)
{
	const char *rest, *slash;
	enum store_status ss;
	char *serr = NULL;
	enum send_status st;

	if (url == NULL || *url == '\0')
		return send_err(errstr, SEND_EINVAL, "transport: no URL (smtp.url)");
	if (has_ctl(url))
		return send_err(errstr, SEND_EINVAL, "transport: control character in the URL");
	/* The checks of `config set`, for a URL stored before they existed. */
	ss = store_config_check("smtp.url", url, &serr);
	if (ss != STORE_OK)
		return send_from_store(ss, serr, errstr);
	if (strncasecmp(url, "file:", 5) == 0) {
		rest = url + 5;
		if (strncmp(rest, "//", 2) == 0)
			rest += 2;
		if (*rest == '\0')
			return send_err(errstr, SEND_EINVAL, "file: no directory in %s", url);
		c->dir = strdup(rest);
		*ops = &transport_file_ops;
		return c->dir == NULL ? SEND_ENOMEM : SEND_OK;
	}
	if (strncasecmp(url, "smtps://", 8) == 0) {
		c->implicit_tls = true;
		rest = url + 8;
	} else if (strncasecmp(url, "smtp://", 7) == 0) {
		rest = url + 7;
	} else {
		/* Not echoed: a URL of another scheme may hold a password. */
		return send_err(errstr, SEND_EINVAL,
				"transport: smtp.url must be smtp://HOST:587, smtps://HOST:465 or "
				"file:DIR; its scheme is not one of these");
	}
	slash = strchr(rest, '/');
	*ops = &transport_smtp_ops;
	/* The authority first: it refuses a user or password without echoing them. */
	st = parse_authority(url, rest, slash != NULL ? (size_t)(slash - rest) : strlen(rest),
			     c->implicit_tls, c, errstr);
	if (st == SEND_OK && slash != NULL && slash[1] != '\0')
		st = send_err(errstr, SEND_EINVAL,
			      "smtp: unexpected path in %s (the EHLO name is a separate setting)",
			      url);
	return st;
}

enum send_status transport_url_check(const char *url, char **errstr)
{
	struct transport_conf c = {0};
	const struct transport_ops *ops = NULL;
	enum send_status s = parse_url(url, &c, &ops, errstr);

	conf_clear(&c);
	return s;
}

enum send_status transport_tls_parse(const char *tls, bool *cleartext, char **errstr)
{
	return send_parse_choice("smtp.tls", tls, "required", "none", cleartext, errstr);
}

/* smtp.tls for the smtp:// or smtps:// URL c was read from. */
static enum send_status tls_fits(struct transport_conf *c, const char *tls, char **errstr)
{
	enum send_status st = transport_tls_parse(tls, &c->cleartext, errstr);

	if (st != SEND_OK)
		return st;
	if (c->cleartext && c->implicit_tls)
		return send_err(errstr, SEND_EINVAL,
				"smtp: smtp.tls = none contradicts smtps:// (implicit TLS)");
	if (c->cleartext && !transport_host_is_loopback(c->host))
		return send_err(errstr, SEND_EINVAL,
				"smtp: smtp.tls = none is allowed only to a loopback relay "
				"(127.0.0.0/8, ::1, localhost), not to %s",
				c->host);
	return SEND_OK;
}

enum send_status transport_tls_check(const char *url, const char *tls, char **errstr)
{
	struct transport_conf c = {0};
	const struct transport_ops *ops = NULL;
	enum send_status s = parse_url(url, &c, &ops, errstr);

	if (s == SEND_OK && ops == &transport_smtp_ops)
		s = tls_fits(&c, tls, errstr);
	conf_clear(&c);
	return s;
}

static enum send_status dup_opt(char **dst, const char *src)
{
	if (src == NULL || *src == '\0')
		return SEND_OK;
	*dst = strdup(src);
	return *dst == NULL ? SEND_ENOMEM : SEND_OK;
}

static enum send_status conf_fill(const struct transport_config *cfg, struct transport_conf *c,
				  const struct transport_ops **ops, char **errstr)
{
	enum send_status st;

	st = parse_url(cfg->url, c, ops, errstr);
	if (st != SEND_OK)
		return st;
	if (*ops == &transport_smtp_ops) {
		st = tls_fits(c, cfg->tls, errstr);
		if (st != SEND_OK)
			return st;
	}
	if (cfg->ca_file != NULL && *cfg->ca_file != '\0' && access(cfg->ca_file, R_OK) != 0)
		return send_err(errstr, SEND_EINVAL, "smtp: cannot read smtp.ca_file %s: %s",
				cfg->ca_file, strerror(errno));
	if (has_ctl(cfg->user) || has_ctl(cfg->helo) || has_ctl(cfg->ca_file))
		return send_err(errstr, SEND_EINVAL, "smtp: control character in a setting");
	c->connections = cfg->connections != 0 ? cfg->connections : TRANSPORT_CONNECTIONS_DEFAULT;
	if (c->connections > TRANSPORT_CONNECTIONS_MAX)
		return send_err(errstr, SEND_EINVAL, "transport: smtp.connections is at most %d",
				TRANSPORT_CONNECTIONS_MAX);
	c->slots = TRANSPORT_SLOTS_PER_CONNECTION * c->connections;
	c->timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 300;
	if (dup_opt(&c->url, cfg->url) != SEND_OK || dup_opt(&c->user, cfg->user) != SEND_OK ||
	    dup_opt(&c->ca_file, cfg->ca_file) != SEND_OK ||
	    dup_opt(&c->helo, cfg->helo) != SEND_OK)
		return SEND_ENOMEM;
	if (cfg->password != NULL && *cfg->password != '\0') {
		size_t n = strlen(cfg->password);

		c->password = sodium_malloc(n + 1);
		if (c->password == NULL)
			return SEND_ENOMEM;
		memcpy(c->password, cfg->password, n + 1);
	}
	if (c->password != NULL && c->user == NULL)
		return send_err(errstr, SEND_EINVAL,
				"smtp: smtp.password is set but smtp.user is not");
	return SEND_OK;
}

/* ---- The sending thread ------------------------------------------------- */

static void wake_thread(struct transport *t)
{
	uint64_t one = 1;

	/* A write can fail only when the counter is full: woken either way. */
	if (write(t->conf.wake_fd, &one, sizeof(one)) < 0)
		return;
}

/* The back end's report, in the sending thread: queued for the worker. */
static void queue_fin(struct transport *t, void *msg_arg, const struct transport_result *r)
{
	struct fin *f;

	pthread_mutex_lock(&t->mu);
	f = &t->fins[t->nfins++];
	f->arg = msg_arg;
	f->r = *r;
	snprintf(f->reply, sizeof(f->reply), "%s", r->reply != NULL ? r->reply : "");
	snprintf(f->error, sizeof(f->error), "%s", r->error != NULL ? r->error : "");
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

/* Hands the waiting messages to the back end; one it refuses is finished
 * at once, as an error before any data. Called with mu held. */
static void take_subs(struct transport *t)
{
	for (size_t i = 0; i < t->nsubs; i++) {
		struct sub *s = &t->subs[i];
		char *err = NULL;

		if (t->ops->submit(t->state, &s->m, &err) != SEND_OK) {
			struct transport_result r = {.outcome = TRANSPORT_ERROR, .reply = ""};

			r.error = err != NULL ? err : "transport: the message was refused";
			pthread_mutex_unlock(&t->mu);
			queue_fin(t, s->m.arg, &r);
			pthread_mutex_lock(&t->mu);
			free(err);
		}
	}
	t->nsubs = 0;
	t->woken = false;
}

static void *sending_thread(void *arg)
{
	struct transport *t = arg;
	enum send_status st = SEND_OK;
	char *err = NULL;

	pthread_mutex_lock(&t->mu);
	while (!t->stop && st == SEND_OK) {
		bool withdraw = t->withdraw;

		take_subs(t);
		t->withdraw = false;
		pthread_mutex_unlock(&t->mu);
		if (withdraw && t->ops->withdraw != NULL)
			t->ops->withdraw(t->state, queue_fin);
		st = t->ops->run(t->state, 1000, queue_fin, &err);
		pthread_mutex_lock(&t->mu);
	}
	t->thread_st = st;
	t->thread_err = err;
	t->stopped = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* Starts the sending thread, with every signal blocked in it (they are the
 * worker's to handle). */
static enum send_status thread_start(struct transport *t, char **errstr)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	size_t n = t->conf.slots;
	int rc;

	t->subs = calloc(n, sizeof(*t->subs));
	t->fins = calloc(n, sizeof(*t->fins));
	t->taken = calloc(n, sizeof(*t->taken));
	if (t->subs == NULL || t->fins == NULL || t->taken == NULL)
		return SEND_ENOMEM;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&t->mu, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t->thread, NULL, sending_thread, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_mutex_destroy(&t->mu);
		pthread_cond_destroy(&t->cv);
		return send_err(errstr, SEND_ENOMEM, "transport: cannot start a thread: %s",
				strerror(rc));
	}
	t->threaded = true;
	return SEND_OK;
}

/* Stops and joins the thread, and frees the queues. */
static void thread_stop(struct transport *t)
{
	if (t->threaded) {
		pthread_mutex_lock(&t->mu);
		t->stop = true;
		pthread_mutex_unlock(&t->mu);
		wake_thread(t);
		pthread_join(t->thread, NULL);
		pthread_mutex_destroy(&t->mu);
		pthread_cond_destroy(&t->cv);
		t->threaded = false;
	}
	free(t->thread_err);
	for (size_t i = 0; t->subs != NULL && i < t->conf.slots; i++)
		free(t->subs[i].buf);
	free(t->subs);
	free(t->fins);
	free(t->taken);
}

/* Copies a message for the sending thread. */
static enum send_status queue_sub(struct transport *t, const struct transport_message *m)
{
	size_t lf = strlen(m->from) + 1, lr = strlen(m->rcpt) + 1, need = lf + lr + m->len;
	struct sub *s;

	pthread_mutex_lock(&t->mu);
	s = &t->subs[t->nsubs];
	if (s->cap < need) {
		char *b = realloc(s->buf, need);

		if (b == NULL) {
			pthread_mutex_unlock(&t->mu);
			return SEND_ENOMEM;
		}
		s->buf = b;
		s->cap = need;
	}
	memcpy(s->buf, m->from, lf);
	memcpy(s->buf + lf, m->rcpt, lr);
	if (m->len > 0)
		memcpy(s->buf + lf + lr, m->data, m->len);
	s->m = *m;
	s->m.from = s->buf;
	s->m.rcpt = s->buf + lf;
	s->m.data = s->buf + lf + lr;
	t->nsubs++;
	pthread_mutex_unlock(&t->mu);
	return SEND_OK;
}

/* The worker's side of run: wakes the thread for what was submitted, waits
 * at most timeout_ms for something to finish, and reports it. */
static enum send_status threaded_run(struct transport *t, int timeout_ms, char **errstr)
{
	struct timespec until;
	struct fin *f;
	size_t n;
	bool wake;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&t->mu);
	wake = t->nsubs > 0 && !t->woken;
	t->woken = t->woken || wake;
	if (wake) {
		pthread_mutex_unlock(&t->mu);
		wake_thread(t);
		pthread_mutex_lock(&t->mu);
	}
	while (t->nfins == 0 && !t->stopped && timeout_ms > 0 && t->in_flight > 0)
		if (pthread_cond_timedwait(&t->cv, &t->mu, &until) == ETIMEDOUT)
			break;
	f = t->fins;
	t->fins = t->taken;
	t->taken = f;
	n = t->nfins;
	t->nfins = 0;
	if (t->stopped && t->thread_st != SEND_OK && n == 0) {
		enum send_status st = t->thread_st;

		send_err(errstr, st, "%s", t->thread_err ? t->thread_err : "transport: stopped");
		pthread_mutex_unlock(&t->mu);
		return st;
	}
	pthread_mutex_unlock(&t->mu);
	for (size_t i = 0; i < n; i++) {
		f = &t->taken[i];
		f->r.reply = f->reply;
		f->r.error = f->error[0] != '\0' ? f->error : NULL;
		transport_report(t, f->arg, &f->r);
	}
	return SEND_OK;
}

/* ---- The front ------------------------------------------------------------ */

enum send_status transport_open(const struct transport_config *cfg, transport_done_fn *done,
				void *done_arg, struct transport **out, char **errstr)
{
	struct transport *t = NULL;
	const struct transport_ops *ops = NULL;
	enum send_status st;

	if (cfg == NULL || done == NULL || out == NULL)
		return send_err(errstr, SEND_EUSAGE, "transport: missing argument");
	*out = NULL;
	if (sodium_init() < 0)
		return send_err(errstr, SEND_ECRYPTO, "transport: libsodium failed to start");
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return SEND_ENOMEM;
	t->conf.wake_fd = -1;
	t->done = done;
	t->done_arg = done_arg;
	st = conf_fill(cfg, &t->conf, &ops, errstr);
	if (st != SEND_OK)
		goto done;
	t->ops = ops;
	if (ops->threaded) {
		t->conf.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (t->conf.wake_fd < 0) {
			st = send_err(errstr, SEND_ENOMEM, "transport: eventfd: %s",
				      strerror(errno));
			goto done;
		}
	}
	st = ops->open(&t->conf, t, &t->state, errstr);
	if (st == SEND_OK && ops->threaded)
		st = thread_start(t, errstr);
	if (st != SEND_OK)
		goto done;
	*out = t;
	t = NULL;
done:
	if (t != NULL)
		transport_close(&t);
	if (st == SEND_ENOMEM)
		send_err(errstr, st, "transport: out of memory");
	return st;
}

size_t transport_free_slots(const struct transport *t)
{
	if (t == NULL || t->in_flight >= t->conf.slots)
		return 0;
	return t->conf.slots - t->in_flight;
}

size_t transport_in_flight(const struct transport *t)
{
	return t != NULL ? t->in_flight : 0;
}

const char *transport_name(const struct transport *t)
{
	return t != NULL && t->ops != NULL ? t->ops->name : "";
}

const char *transport_url(const struct transport *t)
{
	return t != NULL && t->conf.url != NULL ? t->conf.url : "";
}

enum send_status transport_submit(struct transport *t, const struct transport_message *m,
				  char **errstr)
{
	enum send_status st;

	if (t == NULL || m == NULL || m->from == NULL || m->rcpt == NULL ||
	    (m->data == NULL && m->len > 0))
		return send_err(errstr, SEND_EUSAGE, "transport: missing message argument");
	if (transport_free_slots(t) == 0)
		return send_err(errstr, SEND_EUSAGE, "transport: no free slot (%zu in flight)",
				t->in_flight);
	if (*m->rcpt == '\0' || has_ctl(m->rcpt) || has_ctl(m->from))
		return send_err(errstr, SEND_EUSAGE, "transport: malformed envelope address");
	st = t->threaded ? queue_sub(t, m) : t->ops->submit(t->state, m, errstr);
	if (st == SEND_OK)
		t->in_flight++;
	return st;
}

void transport_report(struct transport *t, void *msg_arg, const struct transport_result *r)
{
	if (t->in_flight > 0)
		t->in_flight--;
	t->in_callback = true;
	t->done(t->done_arg, msg_arg, r);
	t->in_callback = false;
}

enum send_status transport_run(struct transport *t, int timeout_ms, char **errstr)
{
	if (t == NULL || t->in_callback)
		return send_err(errstr, SEND_EUSAGE, "transport: run from a callback");
	if (timeout_ms < 0)
		timeout_ms = 0;
	if (t->threaded)
		return threaded_run(t, timeout_ms, errstr);
	return t->ops->run(t->state, timeout_ms, transport_report, errstr);
}

const struct transport_result transport_unsent = {
    .outcome = TRANSPORT_UNSENT, .reply = "", .error = TRANSPORT_UNSENT_WHY};

void transport_withdraw(struct transport *t)
{
	if (t == NULL)
		return;
	if (!t->threaded) {
		if (t->ops->withdraw != NULL)
			t->ops->withdraw(t->state, transport_report);
		return;
	}
	/* What the thread has not taken yet comes back from here; the rest from the thread. */
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < t->nsubs; i++) {
		struct fin *f = &t->fins[t->nfins++];

		f->arg = t->subs[i].m.arg;
		f->r = transport_unsent;
		snprintf(f->reply, sizeof(f->reply), "%s", transport_unsent.reply);
		snprintf(f->error, sizeof(f->error), "%s", transport_unsent.error);
	}
	t->nsubs = 0;
	t->withdraw = true;
	pthread_mutex_unlock(&t->mu);
	wake_thread(t);
}

enum send_status transport_drain(struct transport *t, char **errstr)
{
	enum send_status st = SEND_OK;

	while (st == SEND_OK && transport_in_flight(t) > 0)
		st = transport_run(t, 1000, errstr);
	return st;
}

void transport_close(struct transport **tp)
{
	struct transport *t;

	if (tp == NULL || *tp == NULL)
		return;
	t = *tp;
	thread_stop(t);
	if (t->ops != NULL && t->state != NULL)
		t->ops->close(&t->state);
	if (t->conf.wake_fd >= 0)
		close(t->conf.wake_fd);
	conf_clear(&t->conf);
	free(t);
	*tp = NULL;
}
