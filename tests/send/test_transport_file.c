/*
 * tests/send/test_transport_file.c: the transport's configuration checks
 * (no server needed) and the file transport, whose messages a MIME parser
 * we did not write reads back.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "send/transport.h"
#include "tests/send/transport_helpers.h"

#define PY "/usr/bin/python3"

static char tmpdir[256];

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hato-transport-file-XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_config_errors(void **state)
{
	struct transport *t = NULL;
	char *err = NULL;
	int dummy = 0;
	const char *bad[] = {"",
			     "http://example.com",
			     "smtp://user:pw@mail.example.com:587",
			     "smtp://:587",
			     "smtp://mail.example.com:0",
			     "smtp://mail.example.com:99999",
			     "smtp://mail.example.com:58x",
			     "smtp://[::1:587",
			     "smtp://mail.example.com:587/path",
			     "file:"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct transport_config c = {.url = bad[i]};

		assert_int_equal(transport_open(&c, on_done, &dummy, &t, &err), SEND_EINVAL);
		assert_null(t);
		assert_non_null(err);
		assert_null(strstr(err, "pw@"));
		free(err);
		err = NULL;
	}
	/* The worker refuses a URL with a password in the words `config set` uses. */
	struct transport_config c0 = {.url = "smtps://bob:" PASSWORD "@mail.example.com:465"};
	assert_int_equal(transport_open(&c0, on_done, &dummy, &t, &err), SEND_EINVAL);
	assert_string_equal(err, "smtp: the URL must not hold a user or password; use smtp.user "
				 "and smtp.password");
	free(err);
	err = NULL;
	struct transport_config c1 = {.url = "smtp://mail.example.com", .connections = 65};
	assert_int_equal(transport_open(&c1, on_done, &dummy, &t, &err), SEND_EINVAL);
	free(err);
	err = NULL;
	struct transport_config c2 = {.url = "smtp://mail.example.com", .tls = "maybe"};
	assert_int_equal(transport_open(&c2, on_done, &dummy, &t, &err), SEND_EINVAL);
	free(err);
	err = NULL;
	struct transport_config c3 = {.url = "smtp://mail.example.com", .password = PASSWORD};
	assert_int_equal(transport_open(&c3, on_done, &dummy, &t, &err), SEND_EINVAL);
	assert_null(strstr(err, PASSWORD));
	free(err);
	err = NULL;

	struct transport_config c5 = {.url = "smtp://mail.example.com",
				      .ca_file = "/nonexistent/ca.pem"};
	assert_int_equal(transport_open(&c5, on_done, &dummy, &t, &err), SEND_EINVAL);
	assert_non_null(strstr(err, "smtp.ca_file"));
	free(err);
	err = NULL;

	struct transport_config ok = {.url = "smtp://mail.example.com"};
	assert_int_equal(transport_open(&ok, on_done, &dummy, &t, &err), SEND_OK);
	assert_string_equal(transport_name(t), "smtp");
	assert_int_equal(transport_free_slots(t), 32); /* 8 x the default 4 connections */
	struct transport_message m = {
	    .from = "a@b", .rcpt = "x@y\r\nRCPT TO:<z@w>", .data = "", .len = 0};
	assert_int_equal(transport_submit(t, &m, &err), SEND_EUSAGE);
	free(err);
	transport_close(&t);
	transport_close(&t); /* NULL is fine */

	assert_true(transport_host_is_loopback("127.0.0.1"));
	assert_true(transport_host_is_loopback("127.1.2.3"));
	assert_true(transport_host_is_loopback("::1"));
	assert_true(transport_host_is_loopback("[::1]"));
	assert_true(transport_host_is_loopback("LOCALHOST"));
	assert_false(transport_host_is_loopback("128.0.0.1"));
	assert_false(transport_host_is_loopback("localhost.example.com"));
	assert_false(transport_host_is_loopback("::2"));
	assert_false(transport_host_is_loopback(""));
}

static void test_file(void **state)
{
	enum { N = 5 };
	struct transport *t = NULL;
	struct res r[N];
	char dir[400], cmd[2400], file[1000], *err = NULL;
	int ndone = 0, files = 0;
	struct stat sb;
	DIR *d;
	struct dirent *de;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/out/eml", tmpdir);
	snprintf(file, sizeof(file), "%s/out", tmpdir);
	assert_int_equal(mkdir(file, 0755), 0);
	snprintf(file, sizeof(file), "file:%s", dir);
	struct transport_config cfg = {.url = file, .connections = 2};
	memset(r, 0, sizeof(r));
	assert_int_equal(transport_open(&cfg, on_done, &ndone, &t, &err), SEND_OK);
	assert_string_equal(transport_name(t), "file");
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	for (int i = 0; i < N; i++) {
		struct transport_message m = {.from = "bounce@example.com",
					      .rcpt = "rcpt@example.net",
					      .data = msg_text,
					      .len = strlen(msg_text),
					      .arg = &r[i]};
		if (transport_free_slots(t) == 0)
			assert_int_equal(transport_drain(t, &err), SEND_OK);
		assert_int_equal(transport_submit(t, &m, &err), SEND_OK);
	}
	assert_int_equal(transport_drain(t, &err), SEND_OK);
	transport_close(&t);
	assert_int_equal(ndone, N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].outcome, TRANSPORT_SENT);
		assert_non_null(strstr(r[i].reply, "file: wrote "));
		assert_non_null(strstr(r[i].reply, ".eml"));
	}
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t len;
		char *got;

		if (de->d_name[0] == '.')
			continue;
		files++;
		assert_non_null(strstr(de->d_name, ".eml"));
		snprintf(file, sizeof(file), "%s/%s", dir, de->d_name);
		assert_int_equal(stat(file, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
		got = slurp(file, &len);
		assert_true(len > strlen(msg_text));
		assert_memory_equal(got + len - strlen(msg_text), msg_text, strlen(msg_text));
		free(got);
		/* A MIME parser we did not write reads it back. */
		snprintf(cmd, sizeof(cmd),
			 PY " -c 'import sys,email,email.policy;"
			    "m=email.message_from_binary_file(open(sys.argv[1],\"rb\"),"
			    "policy=email.policy.default);"
			    "assert m[\"Subject\"]==\"transport test\";"
			    "assert m[\"Return-Path\"]==\"<bounce@example.com>\";"
			    "assert m[\"Delivered-To\"]==\"rcpt@example.net\";"
			    "assert not m.defects, m.defects' '%s'",
			 file);
		assert_int_equal(system(cmd), 0);
	}
	closedir(d);
	assert_int_equal(files, N);

	/* An unwritable place is a configuration error. */
	struct transport_config bad = {.url = "file:/proc/hato-no-such-dir"};
	assert_int_equal(transport_open(&bad, on_done, &ndone, &t, &err), SEND_EINVAL);
	assert_non_null(err);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_errors),
	    cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
