/*
 * tests/send/test_transport.c: the SMTP transport against a real SMTP server
 * on loopback (tests/servers/smtpd.py on aiosmtpd, with certificates from
 * tests/servers/mkca.sh): TLS, AUTH and the replies. Sessions (per-domain
 * limits, the sending thread, withdrawing) are in test_transport_sessions.c;
 * the configuration checks and the file transport in test_transport_file.c.
 * Run from the top of the tree (tests/run.sh does).
 */
#include "tests/send/smtpd_fixture.h"

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

/*
 * The old carrier addresses the store keeps ("a..b@docomo.ne.jp") are not
 * RFC 5321 dot-strings: RCPT TO names them with the local part quoted, as
 * the To header does.
 */
static void test_carrier_address_quoted(void **state)
{
	const char *rcpts[2] = {"a..b@docomo.ne.jp", "abc.@ezweb.ne.jp"};
	const char *want[2] = {"\"rcpt_raw\": \"\\\"a..b\\\"@docomo.ne.jp\"",
			       "\"rcpt_raw\": \"\\\"abc.\\\"@ezweb.ne.jp\""};
	struct srv s;
	struct res r[2];
	char url[100], file[700], *got;
	size_t len;
	int i;

	(void)state;
	srv_start(&s, "--cert", ca("server.pem"), "--key", ca("server.key"), NULL);
	url_of(url, sizeof(url), "smtp", &s);
	struct transport_config cfg = {.url = url, .ca_file = ca("ca.pem")};
	send_all(&cfg, rcpts, 2, r);
	srv_stop(&s);
	for (i = 0; i < 2; i++) {
		assert_int_equal(r[i].outcome, TRANSPORT_SENT);
		snprintf(file, sizeof(file), "%s/mail/00000%d-0.json", s.dir, i + 1);
		got = slurp(file, &len);
		assert_non_null(got);
		if (strstr(got, want[i]) == NULL)
			fail_msg("%s: %s", want[i], got);
		free(got);
	}
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
	assert_non_null(strstr(r.error, "refused AUTH with smtp.user and smtp.password"));
	assert_null(strstr(r.error, "hato")); /* the login is not said: it may be an address */
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
	    cmocka_unit_test(test_carrier_address_quoted),
	    cmocka_unit_test(test_connection_reuse),
	    cmocka_unit_test(test_replies),
	    cmocka_unit_test(test_replies_pipelining),
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
