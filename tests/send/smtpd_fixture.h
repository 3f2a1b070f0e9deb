/*
 * tests/send/smtpd_fixture.h: what the transport tests against a real SMTP
 * server share (test_transport.c, test_transport_sessions.c): a folder with
 * a test CA (tests/servers/mkca.sh), servers on loopback (tests/servers/
 * smtpd.py on aiosmtpd) with their stats, and sending a batch of messages
 * through a transport. Run from the top of the tree (tests/run.sh does).
 */
#ifndef HATO_TESTS_SEND_SMTPD_FIXTURE_H
#define HATO_TESTS_SEND_SMTPD_FIXTURE_H

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

static inline int group_setup(void **state)
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

static inline int group_teardown(void **state)
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

static inline const char *ca(const char *name)
{
	static char buf[4][400];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/ca/%s", tmpdir, name);
	return buf[i];
}

/* Starts smtpd.py with the given options (NULL-terminated). */
static inline void srv_start(struct srv *s, ...)
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

static inline void srv_stop(struct srv *s)
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
static inline long stat_get(const struct srv *s, const char *key)
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
static inline void submit_to(struct transport *t, const char *rcpt, struct res *r)
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
static inline void send_some(const struct transport_config *cfg, const char *const *rcpts, size_t n,
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

static inline void send_all(const struct transport_config *cfg, const char *const *rcpts, size_t n,
			    struct res *res)
{
	send_some(cfg, rcpts, n, NULL, res);
}

static inline void send_one(const struct transport_config *cfg, const char *rcpt, struct res *res)
{
	send_all(cfg, &rcpt, 1, res);
}

static inline void url_of(char *buf, size_t n, const char *scheme, const struct srv *s)
{
	snprintf(buf, n, "%s://127.0.0.1:%d", scheme, s->port);
}

#endif
