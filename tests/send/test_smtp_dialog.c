/*
 * tests/send/test_smtp_dialog.c: the SMTP back end's mail transactions
 * (send/smtp_dialog.c) on a session with no socket behind it: what hato
 * writes, and what it makes of the server's replies when its writes are
 * only partly taken. The end-to-end behaviour against a real server is in
 * test_transport.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "send/smtp_private.h"

static const char msg[] = "Subject: hi\r\n\r\n.a line with a dot\r\nbye\r\n";

/* A session, its one message, and what the back end reported. */
struct fixture {
	struct transport_conf c;
	struct smtp m;
	struct conn k;
	struct job job;
	int reports;
	struct transport_result r;
	char error[1024];
};

static struct fixture *current;

static void on_report(struct transport *t, void *arg, const struct transport_result *r)
{
	(void)t;
	(void)arg;
	current->reports++;
	current->r = *r;
	snprintf(current->error, sizeof(current->error), "%s", r->error ? r->error : "");
	current->r.error = current->error;
	current->r.reply = NULL;
}

/* An open session, pipelining or not, with its message started. */
static void start(struct fixture *f, bool pipelining)
{
	memset(f, 0, sizeof(*f));
	current = f;
	f->c.timeout_s = 30;
	f->c.wake_fd = -1;
	f->m.c = &f->c;
	f->m.conns = &f->k;
	f->m.nconns = 1;
	f->m.jobs = &f->job;
	f->m.njobs = 1;
	f->m.report = on_report;
	snprintf(f->m.where, sizeof(f->m.where), "mx.example:25");
	f->k.state = C_OPEN;
	f->k.fd = CURL_SOCKET_BAD;
	f->k.pipelining = pipelining;
	f->job.from = strdup("bounce@example.com");
	f->job.rcpt = strdup("someone@example.net");
	assert_non_null(f->job.from);
	assert_non_null(f->job.rcpt);
	assert_true(smtp_job_data(&f->job, msg, strlen(msg)));
	f->job.used = true;
	f->k.job = &f->job;
	smtp_transaction_start(&f->m, &f->k);
}

static void finish(struct fixture *f)
{
	if (f->k.job != NULL)
		smtp_job_release(f->k.job);
	free(f->job.data);
}

/* What the session has left to write, as a string. */
static const char *pending(const struct fixture *f)
{
	static char buf[256];
	size_t n = f->k.out_len - f->k.out_off;

	if (f->k.out == NULL)
		return "";
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, f->k.out + f->k.out_off, n);
	buf[n] = '\0';
	return buf;
}

static void say(struct fixture *f, const char *reply)
{
	smtp_conn_input(&f->m, &f->k, reply, strlen(reply));
}

/* The whole sequential dialog: one command at a time, the data dot-stuffed. */
static void test_sequential_dialog(void **state)
{
	struct fixture f;

	(void)state;
	start(&f, false);
	assert_string_equal(pending(&f), "MAIL FROM:<bounce@example.com>\r\n");
	f.k.out_off = f.k.out_len;
	say(&f, "250 2.1.0 ok\r\n");
	assert_string_equal(pending(&f), "RCPT TO:<someone@example.net>\r\n");
	f.k.out_off = f.k.out_len;
	say(&f, "250 2.1.5 ok\r\n");
	assert_string_equal(pending(&f), "DATA\r\n");
	f.k.out_off = f.k.out_len;
	say(&f, "354 go ahead\r\n");
	assert_string_equal(pending(&f), "Subject: hi\r\n\r\n..a line with a dot\r\nbye\r\n.\r\n");
	f.k.out_off = f.k.out_len;
	assert_int_equal(f.reports, 0);
	say(&f, "250 2.0.0 queued as 1\r\n");
	assert_int_equal(f.reports, 1);
	assert_int_equal(f.r.outcome, TRANSPORT_SENT);
	assert_int_equal(f.r.code, 250);
	assert_int_equal(f.k.state, C_OPEN); /* ready for the next message */
	finish(&f);
}

/*
 * A server that answers MAIL FROM before all of it was written is out of
 * step: hato must not write RCPT TO over the rest of MAIL FROM. The message
 * is an error (nothing was delivered) and the session ends.
 */
static void test_answer_before_command_written(void **state)
{
	struct fixture f;

	(void)state;
	start(&f, false);
	f.k.out_off = 5; /* "MAIL " taken, the rest waiting */
	say(&f, "250 2.1.0 ok\r\n");
	assert_int_equal(f.reports, 1);
	assert_int_equal(f.r.outcome, TRANSPORT_ERROR);
	assert_false(f.r.after_data);
	assert_non_null(strstr(f.error, "answered a command before it was sent"));
	assert_int_equal(f.k.state, C_CLOSED);
	assert_string_equal(pending(&f), "");
	finish(&f);
}

/*
 * Pipelined: the reply to MAIL FROM may come while RCPT TO and DATA are
 * still being written; a reply to RCPT TO before RCPT TO was all written
 * may not.
 */
static void test_pipelined_partial_write(void **state)
{
	struct fixture f;
	const char *rcpt;

	(void)state;
	start(&f, true);
	assert_string_equal(pending(&f), "MAIL FROM:<bounce@example.com>\r\n"
					 "RCPT TO:<someone@example.net>\r\n"
					 "DATA\r\n");
	rcpt = strstr(f.k.out, "RCPT");
	f.k.out_off = (size_t)(rcpt - f.k.out) + 4; /* MAIL FROM and "RCPT" taken */
	say(&f, "250 2.1.0 ok\r\n");
	assert_int_equal(f.reports, 0); /* in step so far */
	assert_int_equal(f.k.state, C_OPEN);
	say(&f, "250 2.1.5 ok\r\n");
	assert_int_equal(f.reports, 1);
	assert_int_equal(f.r.outcome, TRANSPORT_ERROR);
	assert_int_equal(f.k.state, C_CLOSED);
	finish(&f);
}

/* A refusal that came in step stands even when the next reply is out of step. */
static void test_pipelined_refusal_stands(void **state)
{
	struct fixture f;
	const char *data;

	(void)state;
	start(&f, true);
	data = strstr(f.k.out, "DATA");
	f.k.out_off = (size_t)(data - f.k.out); /* MAIL FROM and RCPT TO taken */
	say(&f, "250 2.1.0 ok\r\n550 5.1.1 no such user\r\n");
	assert_int_equal(f.reports, 0);
	say(&f, "354 go ahead\r\n"); /* DATA is not all written yet */
	assert_int_equal(f.reports, 1);
	assert_int_equal(f.r.outcome, TRANSPORT_FAILED);
	assert_int_equal(f.r.code, 550);
	assert_int_equal(f.k.state, C_CLOSED);
	finish(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sequential_dialog),
	    cmocka_unit_test(test_answer_before_command_written),
	    cmocka_unit_test(test_pipelined_partial_write),
	    cmocka_unit_test(test_pipelined_refusal_stands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
