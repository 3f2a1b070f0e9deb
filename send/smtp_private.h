/*
 * send/smtp_private.h: the parts of the SMTP back end (transport_smtp.c,
 * smtp_dialog.c), internal to them and to white-box tests.
 *
 * transport_smtp.c opens and closes the sessions with libcurl and runs the
 * back end (submit, poll, run); smtp_dialog.c carries the mail
 * transactions over an open session. See the top of transport_smtp.c.
 */
#ifndef HATO_SEND_SMTP_PRIVATE_H
#define HATO_SEND_SMTP_PRIVATE_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "send/transport.h"

#define REPLY_MAX 512
#define CMD_MAX 1200 /* MAIL FROM, RCPT TO (each at most 256 + 2) and DATA */

/* A submitted message. */
struct job {
	bool used, queued; /* queued: waiting for a connection */
	unsigned long seq; /* submission order */
	void *arg;
	char *from, *rcpt;
	char *data; /* dot-stuffed, ending in CRLF.CRLF; the buffer is kept */
	size_t len, cap;
	unsigned session_limit; /* per session, for the recipient's domain; 0: none */
	bool close_after;	/* the session ends after this message */
};

/* How many domains with a per-session limit one session keeps count of; a
 * session that meets more ends early. */
#define SESSION_DOMAINS 8

/* Messages a session carried to one domain (a hash of its name: two domains
 * that collide share one count, which only ends sessions sooner). */
struct tally {
	uint64_t domain;
	unsigned n;
};

enum conn_state { C_CLOSED, C_OPENING, C_OPEN };

/* The replies a connection waits for, in order. */
enum expect { X_MAIL, X_RCPT, X_DATA, X_END, X_RSET, X_QUIT };

/* A reply waited for, and where in the output its command ends: a server
 * can't answer a command before all of it was written. */
struct awaited {
	enum expect what;
	size_t end;
};

/* One SMTP session, and the message on it (two, when the server pipelines). */
struct conn {
	CURLM *multi; /* this connection's own: see the top of transport_smtp.c */
	CURL *easy;
	enum conn_state state;
	curl_socket_t fd;
	int pidx;	 /* its place in the poll set, or -1 */
	short revents;	 /* what the last poll saw */
	bool pipelining; /* the EHLO reply (after TLS) lists PIPELINING */
	bool size_ext;	 /* ... and SIZE: MAIL FROM declares the size */
	struct job *job;
	/* When the server pipelines: the message whose MAIL, RCPT and DATA went
	 * right behind job's end of data; it becomes job when job's reply comes. */
	struct job *next;
	struct awaited expect[4]; /* at most job's end of data and next's three */
	unsigned nexpect;
	bool failed;			     /* MAIL, RCPT or DATA was refused */
	bool data_sent;			     /* the message started to go */
	bool quit;			     /* QUIT once the message is done */
	struct tally tally[SESSION_DOMAINS]; /* this session's limited domains */
	unsigned ntally;
	long long deadline_ms;
	char cmd[CMD_MAX];
	const char *out; /* what is being written: cmd, a job's data, obuf or a constant */
	size_t out_len, out_off;
	char *obuf; /* job's data with next's commands behind it, for one write */
	size_t obuf_cap;
	char in[REPLY_MAX]; /* the reply line being read */
	size_t in_len;
	char cur[REPLY_MAX]; /* the reply being read (multi-line) */
	size_t cur_len;
	char reply[REPLY_MAX]; /* the last complete reply */
	int reply_code;
	char fail[REPLY_MAX]; /* the reply that refused the transaction */
	int fail_code;
	char errbuf[CURL_ERROR_SIZE];
};

/* The back end. */
struct smtp {
	struct transport *t;
	const struct transport_conf *c;
	struct conn *conns;
	size_t nconns;
	struct job *jobs;
	size_t njobs;
	unsigned long seq;
	/* The messages submitted before the last withdraw (seq below this):
	 * one of them that a session gives back is reported unsent, not
	 * queued again. */
	unsigned long withdrawn_below;
	char *curl_url;
	char where[300];	     /* "host:port" for messages */
	transport_report_fn *report; /* run's, for the messages that end */
	struct pollfd *pfd;
	size_t npfd;
};

/* ---- smtp_dialog.c -------------------------------------------------------- */

/* Monotonic milliseconds. */
long long smtp_now_ms(void);

/* Frees what a job holds (not its data buffer, which is kept) and marks it unused. */
void smtp_job_release(struct job *j);

/* Copies a message into a job, dot-stuffed (RFC 5321 4.5.2) and with its end. */
bool smtp_job_data(struct job *j, const char *data, size_t len);

/* Takes one reply line: the code when it completes a reply (in k->reply), 0
 * when more lines follow, -1 for a line that is not a reply. */
int smtp_reply_line(struct conn *k, const char *buf, size_t n);

/* libcurl's error buffer when it says something, else curl_easy_strerror. */
const char *smtp_detail(const struct conn *k, CURLcode rc);

/* Reports job j TRANSPORT_UNSENT with report() and frees it: none of it went. */
void smtp_job_unsent(struct smtp *m, struct job *j, transport_report_fn *report);
/* Reports the connection's message to the worker and frees its job. */
void smtp_job_report(struct smtp *m, struct conn *k, struct transport_result *r);

/* Starts the connection's job on its open session. */
void smtp_transaction_start(const struct smtp *m, struct conn *k);

/* Writes, or reads and acts on the replies, as far as the socket allows. */
void smtp_conn_flush(struct smtp *m, struct conn *k);
void smtp_conn_read(struct smtp *m, struct conn *k);

/* Acts on n bytes the server sent (smtp_conn_read's parser; a fuzz target's
 * entry, tests/fuzz/fuzz_smtp.c). */
void smtp_conn_input(struct smtp *m, struct conn *k, const char *buf, size_t n);

/* The session broke or timed out: its message, if any, is an error; closes it. */
void smtp_conn_fail(struct smtp *m, struct conn *k, const char *why);

/* ---- transport_smtp.c ----------------------------------------------------- */

/* Ends the session (libcurl closes the connection). */
void smtp_conn_close(struct conn *k);
/* The oldest message waiting for a connection, taken by session k (and
 * counted against its domain's per-session limit), or NULL. */
struct job *smtp_take_job(struct smtp *m, struct conn *k);

#endif
