/*
 * send/smtp_dialog.c: the mail transactions of the SMTP back end, over a
 * session that libcurl opened (transport_smtp.c): MAIL FROM, RCPT TO and
 * DATA (in one write when the server pipelines), the dot-stuffed message
 * and its end in one write (with the next message's MAIL FROM, RCPT TO and
 * DATA behind it when the server pipelines), RSET after a refusal, QUIT when
 * the session ends; and the replies, read as they come.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send/private.h"
#include "send/smtp_private.h"

long long smtp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void smtp_job_release(struct job *j)
{
	free(j->from);
	free(j->rcpt);
	j->from = j->rcpt = NULL;
	j->used = j->queued = false;
	j->arg = NULL;
	j->len = 0;
}

/* ---- Replies -------------------------------------------------------------- */

/* Appends one reply line to the reply being read, printable ASCII only. */
static void reply_add(struct conn *k, const char *line, size_t n, bool first)
{
	size_t i = first ? 0 : 4;

	if (!first && k->cur_len + 1 < sizeof(k->cur))
		k->cur[k->cur_len++] = ' ';
	for (; i < n && k->cur_len + 1 < sizeof(k->cur); i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch == '\r' || ch == '\n')
			break;
		k->cur[k->cur_len++] = (ch < 0x20 || ch > 0x7e) ? '?' : (char)ch;
	}
	k->cur[k->cur_len] = '\0';
}

/*
 * Takes one reply line. Returns the code when it completes a reply (then in
 * k->reply), 0 when more lines follow, -1 for a line that is not a reply.
 */
int smtp_reply_line(struct conn *k, const char *buf, size_t n)
{
	bool cont;
	int code;

	if (n < 3 || buf[0] < '1' || buf[0] > '5' || buf[1] < '0' || buf[1] > '9' || buf[2] < '0' ||
	    buf[2] > '9')
		return -1;
	cont = n > 3 && buf[3] == '-';
	reply_add(k, buf, n, k->cur_len == 0);
	if (k->cur_len > 3 && k->cur[3] == '-')
		k->cur[3] = ' ';
	if (cont)
		return 0;
	code = (buf[0] - '0') * 100 + (buf[1] - '0') * 10 + (buf[2] - '0');
	memcpy(k->reply, k->cur, k->cur_len + 1);
	k->reply_code = code;
	k->cur_len = 0;
	k->cur[0] = '\0';
	return code;
}

/* The curl detail: the error buffer when it says something, else strerror. */
const char *smtp_detail(const struct conn *k, CURLcode rc)
{
	return k->errbuf[0] != '\0' ? k->errbuf : curl_easy_strerror(rc);
}

/* ---- Messages on a connection --------------------------------------------- */

void smtp_job_unsent(struct smtp *m, struct job *j, transport_report_fn *report)
{
	void *arg = j->arg;

	smtp_job_release(j);
	report(m->t, arg, &transport_unsent);
}

/* Reports the connection's message and frees its slot. */
void smtp_job_report(struct smtp *m, struct conn *k, struct transport_result *r)
{
	struct job *j = k->job;
	void *arg = j->arg;

	k->job = NULL;
	if (j->close_after && k->state == C_OPEN)
		k->quit = true;
	smtp_job_release(j);
	m->report(m->t, arg, r);
}

/* Waits for the reply to a command that ends at offset end of the output. */
static void expect_push(struct conn *k, enum expect x, size_t end)
{
	if (k->nexpect < sizeof(k->expect) / sizeof(k->expect[0]))
		k->expect[k->nexpect++] = (struct awaited){x, end};
}

static void expect_pop(struct conn *k)
{
	if (k->nexpect > 0) {
		memmove(k->expect, k->expect + 1, (k->nexpect - 1) * sizeof(k->expect[0]));
		k->nexpect--;
	}
}

static void out_set(struct conn *k, const char *p, size_t n)
{
	k->out = p;
	k->out_len = n;
	k->out_off = 0;
}

/* Appends one command, VERB, VERB<ADDR> or VERB<ADDR>PARAM, to buf (of cap
 * bytes, *len used). */
static void cmd_add(char *buf, size_t cap, size_t *len, const char *verb, const char *addr,
		    const char *param)
{
	int n =
	    snprintf(buf + *len, cap - *len, "%s%s%s%s%s\r\n", verb, addr != NULL ? "<" : "",
		     addr != NULL ? addr : "", addr != NULL ? ">" : "", param != NULL ? param : "");

	if (n > 0 && (size_t)n < cap - *len)
		*len += (size_t)n;
}

static void deadline_set(const struct smtp *m, struct conn *k)
{
	k->deadline_ms = smtp_now_ms() + m->c->timeout_s * 1000;
}

/* Writes one command, and waits for its reply. */
static void say(const struct smtp *m, struct conn *k, const char *verb, const char *addr,
		const char *param, enum expect x)
{
	size_t len = 0;

	cmd_add(k->cmd, sizeof(k->cmd), &len, verb, addr, param);
	out_set(k, k->cmd, len);
	expect_push(k, x, len);
	deadline_set(m, k);
}

/* MAIL FROM, declaring the message's size (as sent, an estimate RFC 1870
 * allows) when the server takes SIZE. */
static void mail_from(const struct conn *k, const struct job *j, char *buf, size_t cap, size_t *len)
{
	char size[32] = "";

	if (k->size_ext)
		snprintf(size, sizeof(size), " SIZE=%zu", j->len);
	cmd_add(buf, cap, len, "MAIL FROM:", j->from, size);
}

/* Appends j's MAIL FROM, RCPT TO and DATA to buf, for a pipelining server,
 * and waits for their replies. */
static void envelope(struct conn *k, const struct job *j, char *buf, size_t cap, size_t *len)
{
	mail_from(k, j, buf, cap, len);
	expect_push(k, X_MAIL, *len);
	cmd_add(buf, cap, len, "RCPT TO:", j->rcpt, NULL);
	expect_push(k, X_RCPT, *len);
	cmd_add(buf, cap, len, "DATA", NULL, NULL);
	expect_push(k, X_DATA, *len);
}

/* The connection's message is now its own transaction: nothing refused, nothing sent. */
static void transaction_reset(struct conn *k)
{
	k->failed = k->data_sent = false;
	k->fail[0] = '\0';
	k->fail_code = 0;
}

/* Starts the connection's message: all three commands at once when the
 * server pipelines, else MAIL FROM alone. */
void smtp_transaction_start(const struct smtp *m, struct conn *k)
{
	size_t len = 0;

	transaction_reset(k);
	k->nexpect = 0;
	if (k->pipelining) {
		envelope(k, k->job, k->cmd, sizeof(k->cmd), &len);
	} else {
		mail_from(k, k->job, k->cmd, sizeof(k->cmd), &len);
		expect_push(k, X_MAIL, len);
	}
	out_set(k, k->cmd, len);
	deadline_set(m, k);
}

/* Makes obuf hold n bytes; false when memory is short (then nothing rides
 * behind the data). */
static bool obuf_room(struct conn *k, size_t n)
{
	char *b;

	if (k->obuf_cap >= n)
		return true;
	b = realloc(k->obuf, n);
	if (b == NULL)
		return false;
	k->obuf = b;
	k->obuf_cap = n;
	return true;
}

/*
 * Writes the message, dot-stuffed, with its end. When the server pipelines
 * and this session goes on after it, the next waiting message's MAIL, RCPT
 * and DATA go right behind, in the same write (RFC 2920 3.1: message content
 * may begin a group of commands). So the session waits for the server once a
 * message, not twice, and writes once.
 */
static void send_data(struct smtp *m, struct conn *k)
{
	const struct job *j = k->job;
	size_t len = j->len;

	k->data_sent = true;
	deadline_set(m, k);
	if (k->pipelining && !j->close_after && k->next == NULL && obuf_room(k, j->len + CMD_MAX))
		k->next = smtp_take_job(m, k);
	expect_push(k, X_END, j->len);
	if (k->next == NULL) {
		out_set(k, j->data, j->len);
		return;
	}
	memcpy(k->obuf, j->data, j->len);
	envelope(k, k->next, k->obuf, k->obuf_cap, &len);
	out_set(k, k->obuf, len);
}

/* The message pipelined behind the one that ended becomes the connection's. */
static void next_becomes_current(struct conn *k)
{
	k->job = k->next;
	k->next = NULL;
	transaction_reset(k);
	k->reply[0] = '\0'; /* the last reply was to the other message */
	k->reply_code = 0;
}

/* The server's verdict on the connection's message. */
static void job_verdict(struct smtp *m, struct conn *k, int code, const char *text, bool after_data)
{
	struct transport_result r = {0};
	char reply[REPLY_MAX], ebuf[REPLY_MAX + 400];

	snprintf(reply, sizeof(reply), "%s", text);
	r.code = code;
	r.reply = reply;
	r.after_data = after_data;
	if (code >= 200 && code < 300) {
		r.outcome = TRANSPORT_SENT;
	} else {
		r.outcome = code >= 500	  ? TRANSPORT_FAILED
			    : code >= 400 ? TRANSPORT_DEFERRED
					  : TRANSPORT_ERROR;
		r.auth_failure = code == 530 || code == 535;
		snprintf(ebuf, sizeof(ebuf), "smtp: %s answered \"%s\"", m->where, reply);
		r.error = ebuf;
	}
	smtp_job_report(m, k, &r);
}

/* The message whose commands went behind the data of a session that ends:
 * none of its data went, so it waits for another session, as it was; or,
 * withdrawn meanwhile, it is reported unsent. */
static void next_requeue(struct smtp *m, struct conn *k)
{
	struct job *j = k->next;

	if (j == NULL)
		return;
	k->next = NULL;
	if (j->seq >= m->withdrawn_below)
		j->queued = true;
	else
		smtp_job_unsent(m, j, m->report);
}

/* The connection broke (or timed out): its message, if any, is an error. */
void smtp_conn_fail(struct smtp *m, struct conn *k, const char *why)
{
	if (k->job != NULL && k->failed) {
		/* Refused (pipelined) before the session broke: the refusal stands. */
		job_verdict(m, k, k->fail_code, k->fail, false);
	} else if (k->job != NULL) {
		struct transport_result r = {0};
		char reply[REPLY_MAX], ebuf[REPLY_MAX + 400];

		memcpy(reply, k->reply, sizeof(reply));
		r.outcome = TRANSPORT_ERROR;
		r.code = k->reply_code;
		r.reply = reply;
		r.after_data = k->data_sent;
		snprintf(ebuf, sizeof(ebuf), "smtp: %s: %s%s", m->where, why,
			 k->data_sent ? " (after the data was sent: delivery uncertain)" : "");
		r.error = ebuf;
		smtp_job_report(m, k, &r);
	}
	next_requeue(m, k);
	smtp_conn_close(k);
}

/* After a message: QUIT when its session ends here, RSET after a refused
 * transaction, else nothing (the connection is ready). */
static void after_message(const struct smtp *m, struct conn *k, bool refused)
{
	if (k->quit)
		say(m, k, "QUIT", NULL, NULL, X_QUIT);
	else if (refused)
		say(m, k, "RSET", NULL, NULL, X_RSET);
}

/* Notes the first refusal of a transaction. */
static void refuse(struct conn *k, int code)
{
	if (!k->failed) {
		k->failed = true;
		k->fail_code = code;
		memcpy(k->fail, k->reply, sizeof(k->fail));
	}
}

/* One complete reply (code, k->reply) to what the connection sent. */
static void on_reply(struct smtp *m, struct conn *k, int code)
{
	bool ok = code >= 200 && code < 300;
	struct awaited a;
	enum expect x;

	if (k->nexpect == 0) {
		/* Unasked: a 421 on an idle session, say. */
		smtp_conn_fail(m, k, "unexpected reply from the server");
		return;
	}
	a = k->expect[0];
	x = a.what;
	expect_pop(k);
	if (code == 421 && x != X_QUIT) {
		/* The server is closing the session. */
		if (k->job != NULL)
			job_verdict(m, k, code, k->reply, k->data_sent);
		next_requeue(m, k);
		smtp_conn_close(k);
		return;
	}
	if (x != X_END && k->out_off < a.end) {
		/* An answer to a command not yet all written: the session is out
		 * of step, and the next command would overwrite this one. (An early
		 * answer to the data is X_END's case below.) */
		smtp_conn_fail(m, k, "the server answered a command before it was sent");
		return;
	}
	switch (x) {
	case X_MAIL:
	case X_RCPT:
		if (!ok)
			refuse(k, code);
		if (k->pipelining)
			break;
		if (!ok) {
			job_verdict(m, k, k->fail_code, k->fail, false);
			after_message(m, k, true);
		} else if (x == X_MAIL) {
			say(m, k, "RCPT TO:", k->job->rcpt, NULL, X_RCPT);
		} else {
			say(m, k, "DATA", NULL, NULL, X_DATA);
		}
		break;
	case X_DATA:
		if (code == 354 && k->failed) {
			/* A pipelining server that took DATA after refusing the
			 * recipient: end the empty message. */
			out_set(k, ".\r\n", 3);
			expect_push(k, X_END, 3);
		} else if (code == 354) {
			send_data(m, k);
		} else if (code < 400) {
			/* Neither go-ahead nor refusal: nothing was sent. */
			smtp_conn_fail(m, k, "unexpected reply to DATA");
		} else {
			refuse(k, code);
			job_verdict(m, k, k->fail_code, k->fail, false);
			after_message(m, k, true);
		}
		break;
	case X_END:
		if (k->failed)
			job_verdict(m, k, k->fail_code, k->fail, false);
		else
			job_verdict(m, k, code, k->reply, true);
		if (k->out_off < a.end)
			/* The server answered before the message was all written:
			 * the rest can't be taken back, so the session ends. */
			smtp_conn_fail(m, k,
				       "the server answered before the message was all written");
		else if (k->next != NULL)
			next_becomes_current(k); /* its replies come next */
		else
			after_message(m, k, k->failed);
		break;
	case X_RSET:
		if (!ok)
			smtp_conn_close(k);
		break;
	case X_QUIT:
		smtp_conn_close(k);
		break;
	}
}

/* Writes what the connection has to write, as far as the socket takes it. */
void smtp_conn_flush(struct smtp *m, struct conn *k)
{
	while (k->state == C_OPEN && k->out_off < k->out_len) {
		size_t n = 0;
		CURLcode rc =
		    curl_easy_send(k->easy, k->out + k->out_off, k->out_len - k->out_off, &n);

		if (rc == CURLE_AGAIN)
			return;
		if (rc != CURLE_OK) {
			smtp_conn_fail(m, k, smtp_detail(k, rc));
			return;
		}
		k->out_off += n;
	}
}

/* Reads what the server said, and acts on each complete reply. */
void smtp_conn_input(struct smtp *m, struct conn *k, const char *buf, size_t n)
{
	for (size_t i = 0; i < n && k->state == C_OPEN; i++) {
		int code;

		if (buf[i] != '\n') {
			if (k->in_len + 1 < sizeof(k->in))
				k->in[k->in_len++] = buf[i];
			continue;
		}
		code = smtp_reply_line(k, k->in, k->in_len);
		k->in_len = 0;
		if (code < 0) {
			smtp_conn_fail(m, k, "the server's reply is not SMTP");
			return;
		}
		if (code > 0)
			on_reply(m, k, code);
	}
}

void smtp_conn_read(struct smtp *m, struct conn *k)
{
	char buf[4096];

	while (k->state == C_OPEN) {
		size_t n = 0;
		CURLcode rc = curl_easy_recv(k->easy, buf, sizeof(buf), &n);

		if (rc == CURLE_AGAIN)
			return;
		if (rc != CURLE_OK || n == 0) {
			smtp_conn_fail(m, k,
				       rc != CURLE_OK ? smtp_detail(k, rc)
						      : "the server closed the connection");
			return;
		}
		smtp_conn_input(m, k, buf, n);
	}
}

/* The next line that starts with a dot, from p on: the dot, or NULL. A line
 * starts at the beginning and after each CRLF. */
static const char *next_dot(const char *data, const char *p, const char *end)
{
	if (p == data && p < end && *p == '.')
		return p;
	while (end - p >= 2 && (p = memchr(p, '\n', (size_t)(end - p - 1))) != NULL) {
		p++;
		if (p[0] == '.' && p - data >= 2 && p[-2] == '\r')
			return p;
	}
	return NULL;
}

/* Copies the message, dot-stuffed (RFC 5321 4.5.2) and with its end. */
bool smtp_job_data(struct job *j, const char *data, size_t len)
{
	const char *end = data + len, *p, *d, *from = data;
	size_t dots = 0, need, o = 0;
	bool crlf_end = len >= 2 && end[-2] == '\r' && end[-1] == '\n';

	for (p = data; (d = next_dot(data, p, end)) != NULL; p = d + 1)
		dots++;
	need = len + dots + 5;
	if (j->cap < need || j->data == NULL) {
		free(j->data);
		j->cap = need > 8192 ? need : 8192;
		j->data = malloc(j->cap);
		if (j->data == NULL) {
			j->cap = 0;
			return false;
		}
	}
	for (p = data; (d = next_dot(data, p, end)) != NULL; p = d + 1) {
		memcpy(j->data + o, from, (size_t)(d - from));
		o += (size_t)(d - from);
		j->data[o++] = '.';
		from = d;
	}
	memcpy(j->data + o, from, (size_t)(end - from));
	o += (size_t)(end - from);
	if (len > 0 && !crlf_end) {
		memcpy(j->data + o, "\r\n", 2);
		o += 2;
	}
	memcpy(j->data + o, ".\r\n", 3);
	j->len = o + 3;
	return true;
}
