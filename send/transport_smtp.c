/*
 * send/transport_smtp.c: smtp:// (STARTTLS required) and smtps:// over the
 * libcurl multi interface.
 *
 * One easy handle per in-flight slot, reused from message to message; the
 * multi handle keeps up to `connections` connections to the relay open and
 * hands them from one transfer to the next (CURLMOPT_MAX_HOST_CONNECTIONS,
 * CURLMOPT_MAXCONNECTS), so a session carries many messages.
 *
 * What libcurl 7.88 returns (lib/smtp.c), and how it is mapped:
 *   greeting not 2xx          CURLE_WEIRD_SERVER_REPLY  code = the reply
 *   STARTTLS refused/absent   CURLE_USE_SSL_FAILED      TLS failure
 *   AUTH refused              CURLE_LOGIN_DENIED        auth failure
 *   MAIL FROM not 2xx         CURLE_SEND_ERROR          code = the reply
 *   RCPT TO not 2xx           CURLE_SEND_ERROR          code = the reply
 *   DATA not 354              CURLE_SEND_ERROR          code = the reply
 *   end of data not 250       CURLE_WEIRD_SERVER_REPLY  code = the reply
 *   connection dropped        CURLE_RECV_ERROR / CURLE_SEND_ERROR /
 *                             CURLE_GOT_NOTHING, code = the last reply seen
 * So the outcome comes from the last reply captured by the header callback
 * (libcurl passes every server reply line there): 4xx deferred, 5xx failed;
 * a transfer that failed while the last reply was a 2xx/3xx (or none) is a
 * transport error.
 *
 * libcurl copies the password given with CURLOPT_PASSWORD into its own
 * memory and frees it without wiping; our copy is wiped at close.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send/private.h"
#include "send/transport.h"

#define REPLY_MAX 512

struct slot {
	CURL *easy;
	bool busy;
	void *arg;
	struct curl_slist *rcpt;
	char *from;
	char *data; /* kept from message to message */
	size_t len, off, cap;
	bool data_started;
	char cur[REPLY_MAX]; /* the reply being read (multi-line) */
	size_t cur_len;
	char reply[REPLY_MAX]; /* the last complete reply */
	int reply_code;
	char errbuf[CURL_ERROR_SIZE];
};

struct smtp {
	struct transport *t;
	const struct transport_conf *c;
	CURLM *multi;
	struct slot *slots;
	size_t nslots;
	char *curl_url;
	char where[300]; /* "host:port" for messages */
};

static void slot_release(struct slot *s)
{
	curl_slist_free_all(s->rcpt);
	s->rcpt = NULL;
	free(s->from);
	s->from = NULL;
	s->len = s->off = 0;
	s->busy = false;
	s->arg = NULL;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	struct slot *s = userp;
	size_t room = size * nitems, n = s->len - s->off;

	if (n > room)
		n = room;
	memcpy(buf, s->data + s->off, n);
	s->off += n;
	s->data_started = true;
	return n;
}

/* Appends one reply line to the reply being read, printable ASCII only. */
static void reply_add(struct slot *s, const char *line, size_t n, bool first)
{
	size_t i = first ? 0 : 4;

	if (!first && s->cur_len + 1 < sizeof(s->cur))
		s->cur[s->cur_len++] = ' ';
	for (; i < n && s->cur_len + 1 < sizeof(s->cur); i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch == '\r' || ch == '\n')
			break;
		s->cur[s->cur_len++] = (ch < 0x20 || ch > 0x7e) ? '?' : (char)ch;
	}
	s->cur[s->cur_len] = '\0';
}

/* libcurl passes each server reply line ("250-...", "250 ...") here. */
static size_t header_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	struct slot *s = userp;
	size_t n = size * nitems;
	bool cont;

	if (n < 3 || buf[0] < '1' || buf[0] > '5' || buf[1] < '0' || buf[1] > '9' || buf[2] < '0' ||
	    buf[2] > '9')
		return n;
	cont = n > 3 && buf[3] == '-';
	/* libcurl QUITs a connection after a failed transfer; keep the verdict. */
	if (s->cur_len == 0 && !cont && n >= 3 && memcmp(buf, "221", 3) == 0)
		return n;
	reply_add(s, buf, n, s->cur_len == 0);
	if (s->cur_len > 3 && s->cur[3] == '-')
		s->cur[3] = ' ';
	if (!cont) {
		memcpy(s->reply, s->cur, s->cur_len + 1);
		s->reply_code = (buf[0] - '0') * 100 + (buf[1] - '0') * 10 + (buf[2] - '0');
		s->cur_len = 0;
		s->cur[0] = '\0';
	}
	return n;
}

static enum send_status easy_setup(struct smtp *m, struct slot *s, char **errstr)
{
	const struct transport_conf *c = m->c;
	CURL *e = s->easy;
	CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = curl_easy_setopt(e, opt, val);                                        \
	} while (0)
	SET(CURLOPT_URL, m->curl_url);
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_READFUNCTION, read_cb);
	SET(CURLOPT_READDATA, s);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, s);
	SET(CURLOPT_ERRORBUFFER, s->errbuf);
	SET(CURLOPT_PRIVATE, s);
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

static enum send_status smtp_open(const struct transport_conf *c, struct transport *t, void **state,
				  char **errstr)
{
	struct smtp *m;
	enum send_status st = SEND_ENOMEM;
	bool v6 = strchr(c->host, ':') != NULL;
	size_t i, n;
	long nc = (long)c->connections;

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
	m->multi = curl_multi_init();
	m->nslots = c->slots;
	m->slots = calloc(m->nslots, sizeof(*m->slots));
	if (m->multi == NULL || m->slots == NULL)
		goto done;
	curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, nc);
	curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, nc);
	curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, nc);
	for (i = 0; i < m->nslots; i++) {
		m->slots[i].easy = curl_easy_init();
		if (m->slots[i].easy == NULL)
			goto done;
		st = easy_setup(m, &m->slots[i], errstr);
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
	struct slot *s = NULL;
	CURLMcode mc;
	size_t i;

	for (i = 0; i < m->nslots && s == NULL; i++)
		if (!m->slots[i].busy)
			s = &m->slots[i];
	if (s == NULL)
		return send_err(errstr, SEND_EUSAGE, "smtp: no free slot");
	s->from = strdup(msg->from);
	s->rcpt = curl_slist_append(NULL, msg->rcpt);
	if (s->cap < msg->len || s->data == NULL) {
		free(s->data);
		s->cap = msg->len > 4096 ? msg->len : 4096;
		s->data = malloc(s->cap);
		if (s->data == NULL)
			s->cap = 0;
	}
	if (s->from == NULL || s->rcpt == NULL || s->data == NULL) {
		slot_release(s);
		return SEND_ENOMEM;
	}
	if (msg->len > 0)
		memcpy(s->data, msg->data, msg->len);
	s->len = msg->len;
	s->off = 0;
	s->arg = msg->arg;
	s->data_started = false;
	s->cur_len = 0;
	s->cur[0] = s->reply[0] = s->errbuf[0] = '\0';
	s->reply_code = 0;
	curl_easy_setopt(s->easy, CURLOPT_MAIL_FROM, s->from);
	curl_easy_setopt(s->easy, CURLOPT_MAIL_RCPT, s->rcpt);
	curl_easy_setopt(s->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)s->len);
	/* A per-connection rule: end this SMTP session after this message. */
	curl_easy_setopt(s->easy, CURLOPT_FORBID_REUSE, msg->close_after ? 1L : 0L);
	mc = curl_multi_add_handle(m->multi, s->easy);
	if (mc != CURLM_OK) {
		slot_release(s);
		return send_err(errstr, mc == CURLM_OUT_OF_MEMORY ? SEND_ENOMEM : SEND_EINVAL,
				"smtp: libcurl: %s", curl_multi_strerror(mc));
	}
	s->busy = true;
	return SEND_OK;
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

/* The curl detail: the error buffer when it says something, else strerror. */
static const char *detail(const struct slot *s, CURLcode rc)
{
	return s->errbuf[0] != '\0' ? s->errbuf : curl_easy_strerror(rc);
}

/* Fills r (error into ebuf) for a finished transfer. */
static void classify(const struct smtp *m, const struct slot *s, CURLcode rc,
		     struct transport_result *r, char *ebuf, size_t esz)
{
	const char *w = m->where, *rep = s->reply;
	int code = s->reply_code;

	r->code = code;
	r->after_data = s->data_started;
	r->outcome = TRANSPORT_ERROR;
	if (rc == CURLE_OK && code >= 200 && code < 300) {
		r->outcome = TRANSPORT_SENT;
		return;
	}
	if (rc == CURLE_OK) {
		snprintf(ebuf, esz, "smtp: %s: unexpected end of transfer (last reply \"%s\")", w,
			 rep);
	} else if (rc == CURLE_USE_SSL_FAILED && code >= 200 && code < 300) {
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
			 detail(s, rc));
	} else if (is_tls_error(rc)) {
		r->tls_failure = true;
		snprintf(ebuf, esz, "smtp: TLS with %s failed: %s", w, detail(s, rc));
	} else if (rc == CURLE_LOGIN_DENIED) {
		r->auth_failure = true;
		snprintf(ebuf, esz, "smtp: %s refused AUTH as %s%s%s%s", w,
			 m->c->user ? m->c->user : "", *rep ? " (\"" : "", rep, *rep ? "\")" : "");
	} else if (code >= 400 && code < 600 &&
		   (rc == CURLE_SEND_ERROR || rc == CURLE_WEIRD_SERVER_REPLY ||
		    rc == CURLE_RECV_ERROR || rc == CURLE_REMOTE_ACCESS_DENIED)) {
		r->outcome = code < 500 ? TRANSPORT_DEFERRED : TRANSPORT_FAILED;
		r->auth_failure = code == 530 || code == 535;
		snprintf(ebuf, esz, "smtp: %s answered \"%s\"", w, rep);
	} else {
		snprintf(ebuf, esz, "smtp: %s: %s%s", w, detail(s, rc),
			 s->data_started ? " (after the data was sent: delivery uncertain)" : "");
	}
	r->error = ebuf;
}

static void reap(struct smtp *m, transport_report_fn *report)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
		struct slot *s = NULL;
		struct transport_result r = {0};
		char reply[REPLY_MAX], ebuf[REPLY_MAX + 400];
		void *arg;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		ebuf[0] = '\0';
		classify(m, s, msg->data.result, &r, ebuf, sizeof(ebuf));
		memcpy(reply, s->reply, sizeof(reply));
		r.reply = reply;
		arg = s->arg;
		curl_multi_remove_handle(m->multi, s->easy);
		slot_release(s);
		report(m->t, arg, &r);
	}
}

static enum send_status smtp_run(void *state, int timeout_ms, transport_report_fn *report,
				 char **errstr)
{
	struct smtp *m = state;
	CURLMcode mc;
	int running = 0;

	mc = curl_multi_perform(m->multi, &running);
	if (mc == CURLM_OK) {
		reap(m, report);
		if (timeout_ms > 0 && running > 0) {
			mc = curl_multi_poll(m->multi, NULL, 0, timeout_ms, NULL);
			if (mc == CURLM_OK)
				mc = curl_multi_perform(m->multi, &running);
			if (mc == CURLM_OK)
				reap(m, report);
		}
	}
	if (mc == CURLM_OUT_OF_MEMORY)
		return send_err(errstr, SEND_ENOMEM, "smtp: out of memory");
	if (mc != CURLM_OK)
		return send_err(errstr, SEND_EINVAL, "smtp: libcurl: %s", curl_multi_strerror(mc));
	return SEND_OK;
}

static void smtp_close(void **state)
{
	struct smtp *m;
	size_t i;

	if (state == NULL || *state == NULL)
		return;
	m = *state;
	for (i = 0; m->slots != NULL && i < m->nslots; i++) {
		if (m->slots[i].busy && m->multi != NULL)
			curl_multi_remove_handle(m->multi, m->slots[i].easy);
		slot_release(&m->slots[i]);
		free(m->slots[i].data);
		if (m->slots[i].easy != NULL)
			curl_easy_cleanup(m->slots[i].easy);
	}
	if (m->multi != NULL)
		curl_multi_cleanup(m->multi);
	free(m->slots);
	free(m->curl_url);
	free(m);
	curl_global_cleanup();
	*state = NULL;
}

const struct transport_ops transport_smtp_ops = {
    .name = "smtp",
    .open = smtp_open,
    .submit = smtp_submit,
    .run = smtp_run,
    .close = smtp_close,
};
