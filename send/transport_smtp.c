/*
 * send/transport_smtp.c: smtp:// (STARTTLS required) and smtps:// over
 * libcurl.
 *
 * The work is split between libcurl and this file:
 *   - libcurl opens each SMTP session. It connects, reads the greeting,
 *     says EHLO, upgrades with STARTTLS (CURLUSESSL_ALL: never cleartext),
 *     verifies the peer and its name, says EHLO again and authenticates.
 *     That is a CONNECT_ONLY transfer on the connection's own multi handle,
 *     so that it never blocks the other connections.
 *   - smtp_dialog.c then carries the mail transactions over that session,
 *     with curl_easy_send and curl_easy_recv (which go through libcurl's
 *     TLS): MAIL FROM, RCPT TO, DATA, the dot-stuffed message and its end in
 *     one write, RSET after a transaction that failed, QUIT at the end.
 * Why not a libcurl transfer per message, as before: libcurl 7.88 writes the
 * end of data (".\r\n") as a write of its own, which the server answers
 * only after a wake-up of its own, and it moves its transfers in step. That
 * held the transport at 0.43 of what Postfix's smtp-source does to the same
 * server (make bench). Here each connection moves on as soon as its own
 * reply arrives, and when the server's EHLO lists PIPELINING (RFC 2920)
 * MAIL, RCPT and DATA go in one write, and the next message's go right
 * behind the end of the data (smtp_dialog.c, send_data).
 *
 * Each connection has one message at a time (two when the next one's
 * commands went behind the data), and the others wait in `jobs`
 * (the transport takes TRANSPORT_SLOTS_PER_CONNECTION x as many messages as
 * connections). A message with a session_limit counts against its domain on
 * the session that carries it (session_count), and the session QUITs after
 * the one that reaches the limit, so no session carries more than the limit
 * to a domain. The back end runs on the transport's thread (transport.c):
 * submit and run are called from that thread only, and run also wakes on
 * conf->wake_fd.
 *
 * What a message's outcome is:
 *   the session could not be opened   as libcurl reports it (classify_open):
 *                                     TLS failure, AUTH failure, a 4xx/5xx
 *                                     greeting, or a connection error
 *   MAIL, RCPT or DATA answered 4xx   deferred, 5xx failed (the first such
 *                                     reply); the data is not sent
 *   the end of data answered          2xx sent, 4xx deferred, 5xx failed
 *   the connection dropped or timed   error; after_data when the message had
 *   out                               started to go
 *   421 at any point                  deferred, and the session is closed
 *
 * libcurl copies the password given with CURLOPT_PASSWORD into its own
 * memory and frees it without wiping; our copy is wiped at close.
 */
#include <curl/curl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "send/private.h"
#include "send/smtp_private.h"
#include "send/transport.h"
#include "templates/templates.h"

/* Is the reply line an EHLO keyword line ("250-KEYWORD ..." or "250 KEYWORD")? */
static bool ehlo_has(const char *buf, size_t n, const char *keyword)
{
	size_t kl = strlen(keyword);

	return n >= 4 + kl && memcmp(buf, "250", 3) == 0 && (buf[3] == '-' || buf[3] == ' ') &&
	       strncasecmp(buf + 4, keyword, kl) == 0 &&
	       (n == 4 + kl || buf[4 + kl] == '\r' || buf[4 + kl] == '\n' || buf[4 + kl] == ' ');
}

/* While libcurl opens the session it passes each server reply line here:
 * kept for the error report, and read for PIPELINING (RFC 2920) and SIZE
 * (RFC 1870). A 220 (the greeting, or the go-ahead for STARTTLS) starts the
 * capabilities afresh. */
static size_t header_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	struct conn *k = userp;
	size_t n = size * nitems;

	if (n >= 3 && memcmp(buf, "220", 3) == 0)
		k->pipelining = k->size_ext = false;
	k->pipelining = k->pipelining || ehlo_has(buf, n, "PIPELINING");
	k->size_ext = k->size_ext || ehlo_has(buf, n, "SIZE");
	smtp_reply_line(k, buf, n);
	return n;
}

/* ---- Opening and closing sessions ----------------------------------------- */

static enum send_status easy_setup(struct smtp *m, struct conn *k, char **errstr)
{
	const struct transport_conf *c = m->c;
	CURL *e = k->easy;
	CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = curl_easy_setopt(e, opt, val);                                        \
	} while (0)
	SET(CURLOPT_URL, m->curl_url);
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SET(CURLOPT_CONNECT_ONLY, 1L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, k);
	SET(CURLOPT_ERRORBUFFER, k->errbuf);
	SET(CURLOPT_CONNECTTIMEOUT, 30L);
	SET(CURLOPT_TIMEOUT, c->timeout_s);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	/*
	 * Never a proxy from the environment (all_proxy and the like): mail
	 * goes straight to smtp.url, so the rule that cleartext goes only to
	 * loopback holds, and no proxy sees the messages.
	 */
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_USE_SSL, c->cleartext ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->ca_file != NULL)
		SET(CURLOPT_CAINFO, c->ca_file);
	if (c->user != NULL)
		SET(CURLOPT_USERNAME, c->user);
	if (c->password != NULL)
		SET(CURLOPT_PASSWORD, c->password);
#undef SET
	if (rc != CURLE_OK)
		return send_err(errstr, rc == CURLE_OUT_OF_MEMORY ? SEND_ENOMEM : SEND_EINVAL,
				"smtp: libcurl refused an option: %s", curl_easy_strerror(rc));
	return SEND_OK;
}

/* Starts opening a session (libcurl does the work in conn_progress). */
static bool conn_open(struct conn *k)
{
	k->cur_len = k->in_len = 0;
	k->reply[0] = k->cur[0] = k->errbuf[0] = '\0';
	k->reply_code = 0;
	k->pipelining = k->size_ext = false;
	if (curl_multi_add_handle(k->multi, k->easy) != CURLM_OK)
		return false;
	k->state = C_OPENING;
	return true;
}

/* Ends the session. Removing a CONNECT_ONLY handle from its multi handle
 * closes its connection (libcurl 7.88, curl_multi_remove_handle). */
void smtp_conn_close(struct conn *k)
{
	if (k->state != C_CLOSED)
		curl_multi_remove_handle(k->multi, k->easy);
	k->state = C_CLOSED;
	k->fd = CURL_SOCKET_BAD;
	k->out = NULL;
	k->out_len = k->out_off = 0;
	k->nexpect = 0;
	k->quit = false;
	k->ntally = 0;
}

static bool is_tls_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
		return true;
	default:
		return false;
	}
}

/*
 * Fills r (error into ebuf) for a session that libcurl could not open. What
 * libcurl 7.88 returns (lib/smtp.c):
 *   greeting not 2xx          CURLE_WEIRD_SERVER_REPLY  code = the reply
 *   STARTTLS refused/absent   CURLE_USE_SSL_FAILED      TLS failure
 *   AUTH refused              CURLE_LOGIN_DENIED        auth failure
 *   connection trouble        CURLE_COULDNT_CONNECT, CURLE_RECV_ERROR, ...
 */
static void classify_open(const struct smtp *m, const struct conn *k, CURLcode rc,
			  struct transport_result *r, char *ebuf, size_t esz)
{
	const char *w = m->where, *rep = k->reply;
	int code = k->reply_code;

	r->code = code;
	r->outcome = TRANSPORT_ERROR;
	if (rc == CURLE_USE_SSL_FAILED && code >= 200 && code < 300) {
		/* libcurl does not even try when EHLO lists no STARTTLS. */
		r->tls_failure = true;
		snprintf(ebuf, esz, "smtp: STARTTLS refused by %s: the server does not offer it",
			 w);
	} else if (rc == CURLE_USE_SSL_FAILED) {
		r->tls_failure = true;
		snprintf(ebuf, esz, "smtp: STARTTLS refused by %s%s%s%s", w, *rep ? " (\"" : "",
			 rep, *rep ? "\")" : "");
	} else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
		   rc == CURLE_SSL_ISSUER_ERROR) {
		r->tls_failure = true;
		snprintf(ebuf, esz, "smtp: TLS certificate of %s not accepted: %s", w,
			 smtp_detail(k, rc));
	} else if (is_tls_error(rc)) {
		r->tls_failure = true;
		snprintf(ebuf, esz, "smtp: TLS with %s failed: %s", w, smtp_detail(k, rc));
	} else if (rc == CURLE_LOGIN_DENIED) {
		r->auth_failure = true;
		/* Not the login itself: smtp.user may be an address, and this goes to
		 * the pause reason and the audit trail, which hold none. */
		snprintf(ebuf, esz, "smtp: %s refused AUTH with smtp.user and smtp.password%s%s%s",
			 w, *rep ? " (\"" : "", rep, *rep ? "\")" : "");
	} else if (code >= 400 && code < 600) {
		r->outcome = code < 500 ? TRANSPORT_DEFERRED : TRANSPORT_FAILED;
		r->auth_failure = code == 530 || code == 535;
		snprintf(ebuf, esz, "smtp: %s answered \"%s\"", w, rep);
	} else {
		snprintf(ebuf, esz, "smtp: %s: %s", w, smtp_detail(k, rc));
	}
	r->error = ebuf;
}

/* Moves a session being opened on; when it is open, starts its message. */
static void conn_progress(struct smtp *m, struct conn *k)
{
	CURLMsg *msg;
	int running, left;

	if (k->state != C_OPENING)
		return;
	curl_multi_perform(k->multi, &running);
	while ((msg = curl_multi_info_read(k->multi, &left)) != NULL) {
		CURLcode rc = msg->data.result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		if (rc == CURLE_OK &&
		    curl_easy_getinfo(k->easy, CURLINFO_ACTIVESOCKET, &k->fd) == CURLE_OK &&
		    k->fd != CURL_SOCKET_BAD) {
			k->state = C_OPEN;
			smtp_transaction_start(m, k);
		} else {
			struct transport_result r = {0};
			char ebuf[REPLY_MAX + 400];

			classify_open(m, k, rc == CURLE_OK ? CURLE_RECV_ERROR : rc, &r, ebuf,
				      sizeof(ebuf));
			r.reply = k->reply;
			smtp_conn_close(k);
			smtp_job_report(m, k, &r);
		}
		return;
	}
}

/* The oldest message waiting for a connection, or NULL. */
static struct job *next_job(struct smtp *m)
{
	struct job *best = NULL;

	for (size_t i = 0; i < m->njobs; i++)
		if (m->jobs[i].queued && (best == NULL || m->jobs[i].seq < best->seq))
			best = &m->jobs[i];
	return best;
}

/* FNV-1a of the recipient's domain, in lower case. */
static uint64_t domain_hash(const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	uint64_t h = 14695981039346656037ull;

	for (const char *p = at != NULL ? at + 1 : rcpt; *p != '\0'; p++) {
		h ^= (unsigned char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		h *= 1099511628211ull;
	}
	return h;
}

/* Counts the message against its domain's per-session limit on this
 * session: true when it is the last the session may carry there. */
static bool session_count(struct conn *k, const struct job *j)
{
	uint64_t h;
	unsigned i;

	if (j->session_limit == 0)
		return false;
	h = domain_hash(j->rcpt);
	for (i = 0; i < k->ntally && k->tally[i].domain != h; i++)
		;
	if (i == k->ntally) {
		if (i == SESSION_DOMAINS)
			return true;
		k->tally[k->ntally++] = (struct tally){h, 0};
	}
	return ++k->tally[i].n >= j->session_limit;
}

static bool conn_idle(const struct conn *k)
{
	return k->job == NULL && k->nexpect == 0 && k->out_off >= k->out_len && !k->quit;
}

struct job *smtp_take_job(struct smtp *m, struct conn *k)
{
	struct job *j = next_job(m);

	if (j != NULL) {
		j->queued = false;
		j->close_after = session_count(k, j);
	}
	return j;
}

/* Gives waiting messages to idle sessions first, then opens new ones. */
static void dispatch(struct smtp *m)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < m->nconns; i++) {
			struct conn *k = &m->conns[i];
			struct job *j;

			if (!conn_idle(k) || k->state != (pass == 0 ? C_OPEN : C_CLOSED))
				continue;
			j = smtp_take_job(m, k);
			if (j == NULL)
				return;
			k->job = j;
			if (k->state == C_OPEN) {
				smtp_transaction_start(m, k);
			} else if (!conn_open(k)) {
				struct transport_result r = {.outcome = TRANSPORT_ERROR,
							     .reply = ""};

				r.error = "smtp: libcurl could not start a connection";
				smtp_job_report(m, k, &r);
			} else {
				conn_progress(m, k);
			}
		}
	}
}

/* ---- The back end's operations -------------------------------------------- */

static enum send_status smtp_open(const struct transport_conf *c, struct transport *t, void **state,
				  char **errstr)
{
	struct smtp *m;
	enum send_status st = SEND_ENOMEM;
	bool v6 = strchr(c->host, ':') != NULL;
	size_t i, n;

	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return SEND_ENOMEM;
	m->t = t;
	m->c = c;
	/*
	 * libcurl writes every TLS session's secrets to the file named by
	 * SSLKEYLOGFILE, opened once when it starts; those sessions carry the
	 * AUTH password and the subscribers' mail. hato never lets it.
	 */
	unsetenv("SSLKEYLOGFILE");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		st = send_err(errstr, SEND_ECRYPTO, "smtp: libcurl failed to start");
		free(m);
		return st;
	}
	snprintf(m->where, sizeof(m->where), v6 ? "[%s]:%d" : "%s:%d", c->host, c->port);
	n = strlen(c->host) + (c->helo != NULL ? strlen(c->helo) : 0) + 32;
	m->curl_url = malloc(n);
	if (m->curl_url == NULL)
		goto done;
	snprintf(m->curl_url, n, "%s://%s/%s", c->implicit_tls ? "smtps" : "smtp", m->where,
		 c->helo != NULL ? c->helo : "");
	m->nconns = c->connections;
	m->njobs = c->slots;
	m->conns = calloc(m->nconns, sizeof(*m->conns));
	m->jobs = calloc(m->njobs, sizeof(*m->jobs));
	m->npfd = 4 * m->nconns + 1;
	m->pfd = calloc(m->npfd, sizeof(*m->pfd));
	if (m->conns == NULL || m->jobs == NULL || m->pfd == NULL)
		goto done;
	for (i = 0; i < m->nconns; i++) {
		struct conn *k = &m->conns[i];

		k->fd = CURL_SOCKET_BAD;
		k->multi = curl_multi_init();
		k->easy = curl_easy_init();
		if (k->multi == NULL || k->easy == NULL)
			goto done;
		st = easy_setup(m, k, errstr);
		if (st != SEND_OK)
			goto done;
	}
	*state = m;
	m = NULL;
	st = SEND_OK;
done:
	if (m != NULL) {
		void *p = m;

		transport_smtp_ops.close(&p);
	}
	return st;
}

static enum send_status smtp_submit(void *state, const struct transport_message *msg, char **errstr)
{
	struct smtp *m = state;
	struct job *j = NULL;
	struct tpl_buf rcpt = {0};

	for (size_t i = 0; i < m->njobs && j == NULL; i++)
		if (!m->jobs[i].used)
			j = &m->jobs[i];
	if (j == NULL)
		return send_err(errstr, SEND_EUSAGE, "smtp: no free slot");
	/* An old carrier address ("a..b@docomo.ne.jp") goes with its local part quoted. */
	if (tpl_addr_spec(&rcpt, msg->rcpt, NULL) == TPL_EINVAL)
		return send_err(errstr, SEND_EINVAL, "smtp: \"%s\" is not an address", msg->rcpt);
	j->from = strdup(msg->from);
	j->rcpt = tpl_buf_steal(&rcpt);
	if (j->from == NULL || j->rcpt == NULL || !smtp_job_data(j, msg->data, msg->len)) {
		smtp_job_release(j);
		return SEND_ENOMEM;
	}
	j->arg = msg->arg;
	j->session_limit = msg->session_limit;
	j->seq = m->seq++;
	j->used = j->queued = true;
	return SEND_OK;
}

/* Adds the sockets of a session being opened to the poll set. */
static void poll_opening(struct smtp *m, struct conn *k, size_t *np, long *wait)
{
	fd_set r, w, x;
	int maxfd = -1;
	long t = -1;

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&x);
	if (curl_multi_fdset(k->multi, &r, &w, &x, &maxfd) != CURLM_OK)
		maxfd = -1;
	for (int fd = 0; fd <= maxfd && *np < m->npfd; fd++) {
		short ev =
		    (short)((FD_ISSET(fd, &r) ? POLLIN : 0) | (FD_ISSET(fd, &w) ? POLLOUT : 0) |
			    (FD_ISSET(fd, &x) ? POLLPRI : 0));

		if (ev != 0)
			m->pfd[(*np)++] = (struct pollfd){.fd = fd, .events = ev};
	}
	if (curl_multi_timeout(k->multi, &t) == CURLM_OK && t >= 0 && t < *wait)
		*wait = t;
	/* No socket yet (a name being resolved): look again soon. */
	if (maxfd < 0 && *wait > 50)
		*wait = 50;
}

/*
 * Waits at most timeout_ms for any session to have something to do, or for
 * the front's wake-up, and notes in each open session's revents what it
 * has. Without a wake-up to wait for, does not wait when no message is in
 * flight.
 */
static void smtp_wait(struct smtp *m, int timeout_ms)
{
	long wait = timeout_ms;
	size_t np = 0, i;
	bool busy = m->c->wake_fd >= 0;
	long long now = smtp_now_ms();

	if (m->c->wake_fd >= 0)
		m->pfd[np++] = (struct pollfd){.fd = m->c->wake_fd, .events = POLLIN};
	for (i = 0; i < m->nconns; i++) {
		struct conn *k = &m->conns[i];

		k->pidx = -1;
		k->revents = 0;
		if (k->state == C_OPENING) {
			poll_opening(m, k, &np, &wait);
			busy = true;
		} else if (k->state == C_OPEN && np < m->npfd) {
			short ev = POLLIN;

			if (k->out_off < k->out_len)
				ev |= POLLOUT;
			k->pidx = (int)np;
			m->pfd[np++] = (struct pollfd){.fd = (int)k->fd, .events = ev};
			if (k->nexpect > 0) {
				long long left = k->deadline_ms - now;

				busy = true;
				if (left < wait)
					wait = left < 0 ? 0 : (long)left;
			}
		}
	}
	if (np == 0)
		return;
	if (poll(m->pfd, np, busy ? (int)wait : 0) <= 0)
		return;
	if (m->c->wake_fd >= 0 && (m->pfd[0].revents & POLLIN) != 0) {
		uint64_t n;

		if (read(m->c->wake_fd, &n, sizeof(n)) < 0)
			n = 0; /* another read drained it */
	}
	for (i = 0; i < m->nconns; i++)
		if (m->conns[i].pidx >= 0)
			m->conns[i].revents = m->pfd[m->conns[i].pidx].revents;
}

static enum send_status smtp_run(void *state, int timeout_ms, transport_report_fn *report,
				 char **errstr)
{
	struct smtp *m = state;
	long long now;
	size_t i;

	(void)errstr;
	m->report = report;
	dispatch(m);
	for (i = 0; i < m->nconns; i++)
		smtp_conn_flush(m, &m->conns[i]);
	smtp_wait(m, timeout_ms);
	now = smtp_now_ms();
	for (i = 0; i < m->nconns; i++) {
		struct conn *k = &m->conns[i];

		if (k->state == C_OPENING) {
			conn_progress(m, k);
			continue;
		}
		if (k->state == C_OPEN && (k->revents & (POLLIN | POLLERR | POLLHUP)) != 0)
			smtp_conn_read(m, k);
		if (k->state == C_OPEN && k->nexpect > 0 && now >= k->deadline_ms)
			smtp_conn_fail(m, k, "the server did not answer in time");
	}
	dispatch(m);
	for (i = 0; i < m->nconns; i++)
		smtp_conn_flush(m, &m->conns[i]);
	return SEND_OK;
}

static void smtp_withdraw(void *state, transport_report_fn *report)
{
	struct smtp *m = state;

	m->withdrawn_below = m->seq;
	for (size_t i = 0; i < m->njobs; i++)
		if (m->jobs[i].used && m->jobs[i].queued)
			smtp_job_unsent(m, &m->jobs[i], report);
}

static void smtp_close(void **state)
{
	struct smtp *m;
	size_t i;

	if (state == NULL || *state == NULL)
		return;
	m = *state;
	for (i = 0; m->conns != NULL && i < m->nconns; i++) {
		struct conn *k = &m->conns[i];

		if (k->state == C_OPEN) {
			size_t n;

			/* A courtesy: one try, no wait for the answer. */
			curl_easy_send(k->easy, "QUIT\r\n", 6, &n);
		}
		if (k->multi != NULL && k->easy != NULL)
			smtp_conn_close(k);
		if (k->easy != NULL)
			curl_easy_cleanup(k->easy);
		if (k->multi != NULL)
			curl_multi_cleanup(k->multi);
		free(k->obuf);
	}
	for (i = 0; m->jobs != NULL && i < m->njobs; i++) {
		smtp_job_release(&m->jobs[i]);
		free(m->jobs[i].data);
	}
	free(m->conns);
	free(m->jobs);
	free(m->pfd);
	free(m->curl_url);
	free(m);
	curl_global_cleanup();
	*state = NULL;
}

const struct transport_ops transport_smtp_ops = {
    .name = "smtp",
    .threaded = true,
    .open = smtp_open,
    .submit = smtp_submit,
    .run = smtp_run,
    .withdraw = smtp_withdraw,
    .close = smtp_close,
};
