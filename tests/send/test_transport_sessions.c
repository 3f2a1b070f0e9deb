/*
 * tests/send/test_transport_sessions.c: the SMTP transport's sessions against
 * a real SMTP server on loopback (see smtpd_fixture.h): per-domain limits on
 * what one session carries, the sending thread, and messages withdrawn
 * before a session took them. Run from the top of the tree (tests/run.sh
 * does).
 */
#include "tests/send/smtpd_fixture.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_session_limit),
	    cmocka_unit_test(test_session_limit_per_domain),
	    cmocka_unit_test(test_session_limit_connections),
	    cmocka_unit_test(test_thread_wait_and_close),
	    cmocka_unit_test(test_withdraw),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
