/*
 * tests/send/test_transport.c: the SMTP transport against a real SMTP server
 * on loopback (tests/servers/smtpd.py on aiosmtpd, with certificates from
 * tests/servers/mkca.sh). The configuration checks and the file transport
 * are in test_transport_file.c. Run from the top of the tree (tests/run.sh
 * does).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <cmocka.h>

#include "send/transport.h"
#include "tests/send/transport_helpers.h"

#define PY "/usr/bin/python3"
#define SMTPD "tests/servers/smtpd.py"

static char tmpdir[256], keylog[300];
static pid_t live[64]; /* servers not yet stopped, killed in teardown */

struct srv {
	pid_t pid;
	int port;
	char dir[512]; /* its own folder: mail/, stats.json */
	char stats[600];
};

static int group_setup(void **state)
{
	char cmd[600];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hato-transport-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "bash tests/servers/mkca.sh %s/ca", tmpdir);
	/* a developer's TLS key log, which the transport must never write to */
	snprintf(keylog, sizeof(keylog), "%s/keylog", tmpdir);
	setenv("SSLKEYLOGFILE", keylog, 1);
	return system(cmd) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[300];

	(void)state;
	for (size_t k = 0; k < sizeof(live) / sizeof(live[0]); k++)
		if (live[k] > 0) {
			kill(live[k], SIGTERM);
			waitpid(live[k], NULL, 0);
		}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *ca(const char *name)
{
	static char buf[4][400];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/ca/%s", tmpdir, name);
	return buf[i];
}

/* Starts smtpd.py with the given options (NULL-terminated). */
static void srv_start(struct srv *s, ...)
{
	static int n;
	const char *argv[32];
	char mail[600], line[64];
	int fds[2], i = 0;
	va_list ap;
	FILE *fp;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/srv%d", tmpdir, ++n);
	assert_int_equal(mkdir(s->dir, 0700), 0);
	path(mail, sizeof(mail), s->dir, "mail");
	path(s->stats, sizeof(s->stats), s->dir, "stats.json");
	argv[i++] = PY;
	argv[i++] = SMTPD;
	argv[i++] = "--maildir";
	argv[i++] = mail;
	argv[i++] = "--stats";
	argv[i++] = s->stats;
	va_start(ap, s);
	for (const char *a = va_arg(ap, const char *); a != NULL && i < 30;
	     a = va_arg(ap, const char *))
		argv[i++] = a;
	va_end(ap);
	argv[i] = NULL;
	assert_int_equal(pipe(fds), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(PY, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	for (size_t k = 0; k < sizeof(live) / sizeof(live[0]); k++)
		if (live[k] == 0) {
			live[k] = s->pid;
			break;
		}
	fp = fdopen(fds[0], "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	assert_int_equal(sscanf(line, "READY %d", &s->port), 1);
}

static void srv_stop(struct srv *s)
{
	int status;

	if (s->pid > 0) {
		for (size_t k = 0; k < sizeof(live) / sizeof(live[0]); k++)
			if (live[k] == s->pid)
				live[k] = 0;
		kill(s->pid, SIGTERM);
		waitpid(s->pid, &status, 0);
		s->pid = 0;
	}
}

/* A counter from the server's stats file. */
static long stat_get(const struct srv *s, const char *key)
{
	char buf[8192], pat[64], *p;
	size_t n;
	FILE *fp = fopen(s->stats, "r");

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(buf, pat);
	assert_non_null(p);
	return strtol(p + strlen(pat), NULL, 10);
}

/* Submits the test message to rcpt; its outcome goes to *r. */
static void submit_to(struct transport *t, const char *rcpt, struct res *r)
{
	struct transport_message m = {.from = "bounce@example.com",
				      .rcpt = rcpt,
				      .data = msg_text,
				      .len = strlen(msg_text),
				      .arg = r};
	char *err = NULL;

	assert_int_equal(transport_submit(t, &m, &err), SEND_OK);
	assert_null(err);
}

/* Sends n messages; limit (may be NULL) is each one's session_limit. */
static void send_some(const struct transport_config *cfg, const char *const *rcpts, size_t n,
		      const unsigned *limit, struct res *res)
{
	struct transport *t = NULL;
	char *err = NULL;
	int ndone = 0;
	size_t next = 0;
	time_t start = time(NULL);

	memset(res, 0, n * sizeof(*res));
	assert_int_equal(transport_open(cfg, on_done, &ndone, &t, &err), SEND_OK);
	assert_null(err);
	while ((size_t)ndone < n) {
		while (next < n && transport_free_slots(t) > 0) {
			struct transport_message m = {
			    .from = "bounce@example.com",
			    .rcpt = rcpts[next],
			    .data = msg_text,
			    .len = strlen(msg_text),
			    .arg = &res[next],
			    .session_limit = limit != NULL ? limit[next] : 0,
			};
			assert_int_equal(transport_submit(t, &m, &err), SEND_OK);
			next++;
		}
		assert_int_equal(transport_run(t, 200, &err), SEND_OK);
		assert_true(time(NULL) - start < 60);
	}
	assert_int_equal(transport_in_flight(t), 0);
	transport_close(&t);
	assert_null(t);
}

static void send_all(const struct transport_config *cfg, const char *const *rcpts, size_t n,
		     struct res *res)
{
	send_some(cfg, rcpts, n, NULL, res);
}

static void send_one(const struct transport_config *cfg, const char *rcpt, struct res *res)
{
	send_all(cfg, &rcpt, 1, res);
}

static void url_of(char *buf, size_t n, const char *scheme, const struct srv *s)
{
	snprintf(buf, n, "%s://127.0.0.1:%d", scheme, s->port);
}

/* ---- Tests -------------------------------------------------------------- */

static void test_starttls_auth_intact(void **state)
{
	struct srv s;
	struct res r;
	char url[100], file[700], want[100], *got;
	size_t len;

	(void)state;
	srv_start(&s, "--cert", ca("server.pem"), "--key", ca("server.key"), "--auth",
		  "hato:" PASSWORD, NULL);
	url_of(url, sizeof(url), "smtp", &s);
	struct transport_config cfg = {
	    .url = url, .user = "hato", .password = PASSWORD, .ca_file = ca("ca.pem")};
	send_one(&cfg, "alice@example.net", &r);
	srv_stop(&s);
	assert_int_equal(r.outcome, TRANSPORT_SENT);
	assert_int_equal(r.code, 250);
	assert_non_null(strstr(r.reply, "250 2.0.0 Ok: queued as 000001"));
	assert_string_equal(r.error, "");
	assert_int_equal(stat_get(&s, "tls_sessions"), 1);
	assert_int_equal(stat_get(&s, "auth_ok"), 1);
	path(file, sizeof(file), s.dir, "mail/000001-0.eml");
	got = slurp(file, &len);
	assert_int_equal(len, strlen(msg_text));
	assert_memory_equal(got, msg_text, len);
	free(got);
	path(file, sizeof(file), s.dir, "mail/000001-0.json");
	got = slurp(file, &len);
	assert_non_null(strstr(got, "\"mail_from\": \"bounce@example.com\""));
	assert_non_null(strstr(got, "\"rcpt\": \"alice@example.net\""));
	assert_non_null(strstr(got, "\"tls\": true"));
	/* The server lists SIZE: MAIL FROM declares what is sent (three lines
	 * dot-stuffed, and the end of data). */
	snprintf(want, sizeof(want), "\"mail_options\": [\"SIZE=%zu\"]", strlen(msg_text) + 3 + 3);
	assert_non_null(strstr(got, want));
	free(got);
}

static void test_connection_reuse(void **state)
{
	enum { N = 40 };
	struct srv s;
	struct res r[N];
	const char *rcpts[N];
	char url[100];

	(void)state;
	for (int i = 0; i < N; i++)
		rcpts[i] = "user@example.net";
	srv_start(&s, "--cert", ca("server.pem"), "--key", ca("server.key"), "--auth",
		  "hato:" PASSWORD, NULL);
	url_of(url, sizeof(url), "smtp", &s);
	struct transport_config cfg = {.url = url,
				       .user = "hato",
				       .password = PASSWORD,
				       .ca_file = ca("ca.pem"),
				       .connections = 4};
	send_all(&cfg, rcpts, N, r);
	srv_stop(&s);
	for (int i = 0; i < N; i++)
		assert_int_equal(r[i].outcome, TRANSPORT_SENT);
	assert_int_equal(stat_get(&s, "messages"), N);
	assert_true(stat_get(&s, "sessions") <= 4);
	assert_true(stat_get(&s, "sessions") >= 1);
	assert_int_equal(stat_get(&s, "auth_ok"), stat_get(&s, "sessions"));
}

/* 4xx, 5xx and a dropped connection, mixed with good mail on one transport;
 * with `pipelining`, from a server that lists PIPELINING, so that MAIL, RCPT
 * and DATA go together and a refusal comes back after all three. */
static void replies(bool pipelining)
{
	enum { N = 8 };
	const char *rcpts[N] = {"defer1@example.net",	"ok1@example.net",
				"fail1@example.net",	"latedefer@example.net",
				"latefail@example.net", "drop1@example.net",
				"ok2@example.net",	"ok3@example.net"};
	struct srv s;
	struct res r[N];
	char url[100];

	srv_start(&s, "--cert", ca("server.pem"), "--key", ca("server.key"), "--auth",
		  "hato:" PASSWORD, pipelining ? "--pipelining" : NULL, NULL);
	url_of(url, sizeof(url), "smtp", &s);
	struct transport_config cfg = {.url = url,
				       .user = "hato",
				       .password = PASSWORD,
				       .ca_file = ca("ca.pem"),
				       .connections = 2};
	send_all(&cfg, rcpts, N, r);
	srv_stop(&s);

	assert_int_equal(r[0].outcome, TRANSPORT_DEFERRED);
	assert_int_equal(r[0].code, 451);
	assert_string_equal(r[0].reply, "451 4.3.0 try later");
	assert_false(r[0].tls || r[0].auth);

	assert_int_equal(r[2].outcome, TRANSPORT_FAILED);
	assert_int_equal(r[2].code, 550);
	assert_string_equal(r[2].reply, "550 5.1.1 no such user");
	assert_non_null(strstr(r[2].error, "550 5.1.1 no such user"));
	assert_false(r[2].tls || r[2].auth);

	assert_int_equal(r[3].outcome, TRANSPORT_DEFERRED);
	assert_int_equal(r[3].code, 451);
	assert_true(r[3].after);

	assert_int_equal(r[4].outcome, TRANSPORT_FAILED);
	assert_int_equal(r[4].code, 554);
	assert_string_equal(r[4].reply, "554 5.7.1 rejected after data");

	assert_int_equal(r[5].outcome, TRANSPORT_ERROR);
	assert_true(r[5].after);
	assert_false(r[5].tls || r[5].auth);
	assert_true(strlen(r[5].error) > 0);

	assert_int_equal(r[1].outcome, TRANSPORT_SENT);
	assert_int_equal(r[6].outcome, TRANSPORT_SENT);
	assert_int_equal(r[7].outcome, TRANSPORT_SENT);
	/* Only the three good ones arrived. */
	assert_int_equal(stat_get(&s, "messages"), 3);
}

/* A per-session limit of 3: one connection carries 3, 3 and 1 messages. */
static void test_session_limit(void **state)
{
	enum { N = 7 };
	const char *rcpts[N];
	const unsigned limit[N] = {3, 3, 3, 3, 3, 3, 3};
	struct srv s;
	struct res r[N];
	char url[100], file[700], want[100], *got;
	size_t len;

	(void)state;
	for (int i = 0; i < N; i++)
		rcpts[i] = "user@example.net";
	srv_start(&s, "--cert", ca("server.pem"), "--key", ca("server.key"), "--pipelining", NULL);
	url_of(url, sizeof(url), "smtp", &s);
	struct transport_config cfg = {.url = url, .ca_file = ca("ca.pem"), .connections = 1};
	send_some(&cfg, rcpts, N, limit, r);
	srv_stop(&s);
	for (int i = 0; i < N; i++)
		assert_int_equal(r[i].outcome, TRANSPORT_SENT);
	path(file, sizeof(file), s.dir, "stats.json");
	got = slurp(file, &len);
	assert_non_null(strstr(got, "\"per_session\": [3, 3, 1]"));
	free(got);
	/* Pipelined, MAIL FROM still declares the size, and the bytes arrive intact. */
	path(file, sizeof(file), s.dir, "mail/000007-0.json");
	got = slurp(file, &len);
	snprintf(want, sizeof(want), "\"mail_options\": [\"SIZE=%zu\"]", strlen(msg_text) + 3 + 3);
	assert_non_null(strstr(got, want));
	free(got);
	path(file, sizeof(file), s.dir, "mail/000007-0.eml");
	got = slurp(file, &len);
	assert_int_equal(len, strlen(msg_text));
	assert_memory_equal(got, msg_text, len);
	free(got);
}

/* The server's messages per session, from its stats; returns how many sessions. */
static size_t per_session(const struct srv *s, long *out, size_t max)
{
	char file[700], *got, *p, *end;
	size_t len, n = 0;

	path(file, sizeof(file), s->dir, "stats.json");
	got = slurp(file, &len);
	p = strstr(got, "\"per_session\": [");
	assert_non_null(p);
	for (p += strlen("\"per_session\": ["); *p != ']' && n < max; p = end) {
		out[n++] = strtol(p, &end, 10);
		assert_true(end > p);
		end += strspn(end, ", ");
	}
	free(got);
	return n;
}

/* The limit is per domain: messages to a domain without one do not count
 * against it, and each session carries at most the limit to the domain. */
static void test_session_limit_per_domain(void **state)
{
	enum { N = 6 };
	const char *rcpts[N] = {"a1@a.example", "b1@b.example", "a2@a.example",
				"b2@b.example", "a3@a.example", "b3@b.example"};
	const unsigned limit[N] = {2, 0, 2, 0, 2, 0};
	struct srv s;
	struct res r[N];
	long got[8];
	char url[100];

	(void)state;
	srv_start(&s, "--cert", ca("server.pem"), "--key", ca("server.key"), NULL);
	url_of(url, sizeof(url), "smtp", &s);
	struct transport_config cfg = {.url = url, .ca_file = ca("ca.pem"), .connections = 1};
	send_some(&cfg, rcpts, N, limit, r);
	srv_stop(&s);
	/* a1 b1 a2 | b2 a3 b3: the first session ends at the second a.example. */
	assert_int_equal(per_session(&s, got, 8), 2);
	assert_int_equal(got[0], 3);
	assert_int_equal(got[1], 3);
}

/* Over 4 connections, 30 messages with a limit of 5: no session carries more
 * than 5 and only the last session of each connection may carry fewer, so
 * at most 30 / 5 + 4 sessions (it was a session per message). */
static void test_session_limit_connections(void **state)
{
	enum { N = 30 };
	const char *rcpts[N];
	unsigned limit[N];
	struct srv s;
	struct res r[N];
	long got[N];
	char url[100];
	size_t n;
	long sum = 0;

	(void)state;
	for (int i = 0; i < N; i++) {
		rcpts[i] = "user@example.net";
		limit[i] = 5;
	}
	srv_start(&s, "--cert", ca("server.pem"), "--key", ca("server.key"), "--pipelining", NULL);
	url_of(url, sizeof(url), "smtp", &s);
	struct transport_config cfg = {.url = url, .ca_file = ca("ca.pem"), .connections = 4};
	send_some(&cfg, rcpts, N, limit, r);
	srv_stop(&s);
	n = per_session(&s, got, N);
	assert_true(n >= N / 5 && n <= N / 5 + 4);
	for (size_t i = 0; i < n; i++) {
		assert_true(got[i] >= 1 && got[i] <= 5);
		sum += got[i];
	}
	assert_int_equal(sum, N);
}

/*
 * The sending thread: a run returns as soon as a message finishes, not at
 * the end of its timeout; and closing with messages in flight stops the
 * thread, calls back for none of them and leaks nothing (ASan).
 */
static void test_thread_wait_and_close(void **state)
{
	enum { N = 6 };
	struct srv s;
	struct res r[N];
	struct transport *t = NULL;
	char url[100], *err = NULL;
	int ndone = 0, before;
	time_t start;

	(void)state;
	memset(r, 0, sizeof(r));
	srv_start(&s, "--cert", ca("server.pem"), "--key", ca("server.key"), NULL);
	url_of(url, sizeof(url), "smtp", &s);
	struct transport_config cfg = {.url = url, .ca_file = ca("ca.pem"), .connections = 2};
	assert_int_equal(transport_open(&cfg, on_done, &ndone, &t, &err), SEND_OK);
	for (int i = 0; i < N; i++)
		submit_to(t, "user@example.net", &r[i]);
	start = time(NULL);
	while (ndone == 0)
		assert_int_equal(transport_run(t, 60000, &err), SEND_OK);
	assert_true(time(NULL) - start < 30);
	assert_int_equal(transport_in_flight(t), (size_t)(N - ndone));
	before = ndone;
	transport_close(&t);
	assert_null(t);
	srv_stop(&s);
	assert_int_equal(ndone, before);
	for (int i = 0; i < N; i++)
		if (r[i].done)
			assert_int_equal(r[i].outcome, TRANSPORT_SENT);
}

/*
 * transport_withdraw: over one connection, the first message is on the
 * session (the server holds its RCPT half a second) while seven wait; they
 * come back unsent and never reach the server, and the first is sent. Then
 * three submitted and withdrawn before the thread took them: unsent too.
 */
static void test_withdraw(void **state)
{
	enum { N = 8, M = 3 };
	struct srv s;
	struct res r[N + M];
	struct transport *t = NULL;
	char url[100], *err = NULL;
	int ndone = 0, i;
	time_t start = time(NULL);

	(void)state;
	memset(r, 0, sizeof(r));
	srv_start(&s, "--cert", ca("server.pem"), "--key", ca("server.key"), "--pipelining", NULL);
	url_of(url, sizeof(url), "smtp", &s);
	struct transport_config cfg = {.url = url, .ca_file = ca("ca.pem"), .connections = 1};
	assert_int_equal(transport_open(&cfg, on_done, &ndone, &t, &err), SEND_OK);
	for (i = 0; i < N; i++)
		submit_to(t, i == 0 ? "slow1@example.net" : "user@example.net", &r[i]);
	/* Until the server has the first MAIL FROM: the session carries it. */
	while (stat_get(&s, "mail_from") < 1) {
		assert_int_equal(transport_run(t, 20, &err), SEND_OK);
		assert_true(time(NULL) - start < 30);
	}
	assert_int_equal(ndone, 0);
	transport_withdraw(t);
	assert_int_equal(transport_drain(t, &err), SEND_OK);
	assert_int_equal(ndone, N);
	assert_int_equal(r[0].outcome, TRANSPORT_SENT);
	for (i = 1; i < N; i++) {
		assert_int_equal(r[i].outcome, TRANSPORT_UNSENT);
		assert_string_equal(r[i].error, TRANSPORT_UNSENT_WHY);
		assert_false(r[i].after);
	}
	for (i = N; i < N + M; i++)
		submit_to(t, "user@example.net", &r[i]);
	transport_withdraw(t);
	assert_int_equal(transport_drain(t, &err), SEND_OK);
	assert_int_equal(ndone, N + M);
	for (i = N; i < N + M; i++)
		assert_int_equal(r[i].outcome, TRANSPORT_UNSENT);
	transport_close(&t);
	srv_stop(&s);
	assert_int_equal(stat_get(&s, "mail_from"), 1);
	assert_int_equal(stat_get(&s, "messages"), 1);
	assert_string_equal(transport_outcome_name(TRANSPORT_UNSENT), "unsent");
}

static void test_replies(void **state)
{
	(void)state;
	replies(false);
}

static void test_replies_pipelining(void **state)
{
	(void)state;
	replies(true);
}

static void assert_nothing_sent(const struct srv *s)
{
	assert_int_equal(stat_get(s, "mail_from"), 0);
	assert_int_equal(stat_get(s, "messages"), 0);
}

static void test_no_starttls(void **state)
{
	struct srv s;
	struct res r;
	char url[100], want[100];

	(void)state;
	srv_start(&s, "--cert", ca("server.pem"), "--key", ca("server.key"), "--no-starttls", NULL);
	url_of(url, sizeof(url), "smtp", &s);
	struct transport_config cfg = {
	    .url = url, .user = "hato", .password = PASSWORD, .ca_file = ca("ca.pem")};
	send_one(&cfg, "alice@example.net", &r);
	srv_stop(&s);
	assert_int_equal(r.outcome, TRANSPORT_ERROR);
	assert_true(r.tls);
	snprintf(want, sizeof(want), "smtp: STARTTLS refused by 127.0.0.1:%d", s.port);
	assert_non_null(strstr(r.error, want));
	assert_int_equal(stat_get(&s, "sessions"), 1);
	assert_nothing_sent(&s);
}

static void tls_refused(const char *cert, const char *key, const char *ca_file)
{
	struct srv s;
	struct res r;
	char url[100];

	srv_start(&s, "--cert", cert, "--key", key, NULL);
	url_of(url, sizeof(url), "smtp", &s);
	struct transport_config cfg = {.url = url, .ca_file = ca_file};
	send_one(&cfg, "alice@example.net", &r);
	srv_stop(&s);
	assert_int_equal(r.outcome, TRANSPORT_ERROR);
	assert_true(r.tls);
	assert_false(r.auth);
	assert_non_null(strstr(r.error, "smtp: TLS certificate of 127.0.0.1:"));
	assert_int_equal(stat_get(&s, "sessions"), 1);
	assert_nothing_sent(&s);
}

static void test_wrong_name(void **state)
{
	(void)state;
	tls_refused(ca("other.pem"), ca("other.key"), ca("ca.pem"));
}

static void test_unknown_ca(void **state)
{
	(void)state;
	/* No ca_file: the system bundle, which does not know our CA. */
	tls_refused(ca("server.pem"), ca("server.key"), NULL);
	/* Self-signed, with our CA given. */
	tls_refused(ca("self.pem"), ca("self.key"), ca("ca.pem"));
}

static void test_wrong_password(void **state)
{
	struct srv s;
	struct res r;
	char url[100];

	(void)state;
	srv_start(&s, "--cert", ca("server.pem"), "--key", ca("server.key"), "--auth",
		  "hato:right-password", NULL);
	url_of(url, sizeof(url), "smtp", &s);
	struct transport_config cfg = {
	    .url = url, .user = "hato", .password = PASSWORD, .ca_file = ca("ca.pem")};
	send_one(&cfg, "alice@example.net", &r);
	srv_stop(&s);
	assert_int_equal(r.outcome, TRANSPORT_ERROR);
	assert_true(r.auth);
	assert_false(r.tls);
	assert_non_null(strstr(r.error, "refused AUTH as hato"));
	assert_true(stat_get(&s, "auth_failed") >= 1);
	assert_nothing_sent(&s);
}

static void test_no_auth_given(void **state)
{
	struct srv s;
	struct res r;
	char url[100];

	(void)state;
	srv_start(&s, "--cert", ca("server.pem"), "--key", ca("server.key"), "--auth",
		  "hato:" PASSWORD, NULL);
	url_of(url, sizeof(url), "smtp", &s);
	struct transport_config cfg = {.url = url, .ca_file = ca("ca.pem")};
	send_one(&cfg, "alice@example.net", &r);
	srv_stop(&s);
	/* aiosmtpd answers MAIL with 530 5.7.0 Authentication required. */
	assert_int_equal(r.outcome, TRANSPORT_FAILED);
	assert_int_equal(r.code, 530);
	assert_true(r.auth);
	assert_int_equal(stat_get(&s, "messages"), 0);
}

static void test_cleartext_loopback(void **state)
{
	struct srv s;
	struct res r;
	struct transport *t = NULL;
	char url[100], *err = NULL;
	int dummy = 0;

	(void)state;
	srv_start(&s, "--auth", "hato:" PASSWORD, NULL);
	url_of(url, sizeof(url), "smtp", &s);
	struct transport_config cfg = {
	    .url = url, .user = "hato", .password = PASSWORD, .tls = "none"};
	send_one(&cfg, "alice@example.net", &r);
	assert_int_equal(r.outcome, TRANSPORT_SENT);
	snprintf(url, sizeof(url), "smtp://localhost:%d", s.port);
	send_one(&cfg, "bob@example.net", &r);
	assert_int_equal(r.outcome, TRANSPORT_SENT);
	/* Without tls = none the same server is refused: no cleartext fallback. */
	cfg.tls = NULL;
	send_one(&cfg, "carol@example.net", &r);
	assert_int_equal(r.outcome, TRANSPORT_ERROR);
	assert_true(r.tls);
	srv_stop(&s);
	assert_int_equal(stat_get(&s, "messages"), 2);
	assert_int_equal(stat_get(&s, "mail_from"), 2);

	/* tls = none to anything but loopback is a configuration error at open. */
	const char *bad[] = {"smtp://mail.example.com:587", "smtp://10.0.0.1:25",
			     "smtp://[2001:db8::1]:25", "smtp://127.example.com:25"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct transport_config c2 = {.url = bad[i], .tls = "none"};

		assert_int_equal(transport_open(&c2, on_done, &dummy, &t, &err), SEND_EINVAL);
		assert_null(t);
		assert_non_null(err);
		assert_non_null(strstr(err, "only to a loopback relay"));
		free(err);
		err = NULL;
	}
	struct transport_config c3 = {.url = "smtp://[::1]:2525", .tls = "none"};
	assert_int_equal(transport_open(&c3, on_done, &dummy, &t, &err), SEND_OK);
	transport_close(&t);
	struct transport_config c4 = {.url = "smtps://127.0.0.1:465", .tls = "none"};
	assert_int_equal(transport_open(&c4, on_done, &dummy, &t, &err), SEND_EINVAL);
	free(err);
}

/*
 * A proxy named in the environment is never used: mail goes straight to the
 * relay, so "cleartext only to loopback" stays true and no proxy sees it.
 */
static void test_environment_proxy_ignored(void **state)
{
	static const char *const vars[] = {"all_proxy", "ALL_PROXY", "smtp_proxy"};
	struct srv s;
	struct res r;
	char url[100];
	size_t i;

	(void)state;
	srv_start(&s, NULL);
	url_of(url, sizeof(url), "smtp", &s);
	/* port 9 on loopback: nothing listens, so a message sent through it fails */
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		setenv(vars[i], "socks5h://127.0.0.1:9", 1);
	struct transport_config cfg = {.url = url, .tls = "none"};
	send_one(&cfg, "alice@example.net", &r);
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	srv_stop(&s);
	assert_int_equal(r.outcome, TRANSPORT_SENT);
	assert_int_equal(stat_get(&s, "messages"), 1);
}

/* After TLS sessions with SSLKEYLOGFILE set, no session secret was written. */
static void test_no_tls_key_log(void **state)
{
	struct stat sb;

	(void)state;
	assert_true(stat(keylog, &sb) != 0 && errno == ENOENT);
}

static void test_smtps(void **state)
{
	struct srv s;
	struct res r[3];
	const char *rcpts[3] = {"a@example.net", "b@example.net", "c@example.net"};
	char url[100];

	(void)state;
	srv_start(&s, "--cert", ca("server.pem"), "--key", ca("server.key"), "--implicit-tls",
		  "--auth", "hato:" PASSWORD, NULL);
	url_of(url, sizeof(url), "smtps", &s);
	struct transport_config cfg = {.url = url,
				       .user = "hato",
				       .password = PASSWORD,
				       .ca_file = ca("ca.pem"),
				       .connections = 1};
	send_all(&cfg, rcpts, 3, r);
	srv_stop(&s);
	for (int i = 0; i < 3; i++)
		assert_int_equal(r[i].outcome, TRANSPORT_SENT);
	assert_int_equal(stat_get(&s, "messages"), 3);
	assert_int_equal(stat_get(&s, "sessions"), 1);
	assert_int_equal(stat_get(&s, "tls_sessions"), 1);
}

static void test_connection_refused(void **state)
{
	struct srv s;
	struct res r;
	char url[100];

	(void)state;
	srv_start(&s, NULL);
	srv_stop(&s); /* now nobody listens on that port */
	url_of(url, sizeof(url), "smtp", &s);
	struct transport_config cfg = {.url = url, .ca_file = ca("ca.pem")};
	send_one(&cfg, "alice@example.net", &r);
	assert_int_equal(r.outcome, TRANSPORT_ERROR);
	assert_false(r.tls || r.auth || r.after);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.error, "smtp: 127.0.0.1:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_starttls_auth_intact),
	    cmocka_unit_test(test_connection_reuse),
	    cmocka_unit_test(test_replies),
	    cmocka_unit_test(test_replies_pipelining),
	    cmocka_unit_test(test_session_limit),
	    cmocka_unit_test(test_session_limit_per_domain),
	    cmocka_unit_test(test_session_limit_connections),
	    cmocka_unit_test(test_thread_wait_and_close),
	    cmocka_unit_test(test_withdraw),
	    cmocka_unit_test(test_no_starttls),
	    cmocka_unit_test(test_wrong_name),
	    cmocka_unit_test(test_unknown_ca),
	    cmocka_unit_test(test_wrong_password),
	    cmocka_unit_test(test_no_auth_given),
	    cmocka_unit_test(test_cleartext_loopback),
	    cmocka_unit_test(test_environment_proxy_ignored),
	    cmocka_unit_test(test_smtps),
	    cmocka_unit_test(test_connection_refused),
	    cmocka_unit_test(test_no_tls_key_log),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
