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

/* A session, its message (jobs[0]) and one that may wait (jobs[1]), and
 * what the back end reported: the last report, and each message's. */
struct fixture {
	struct transport_conf c;
	struct smtp m;
	struct conn k;
	struct job jobs[2];
	int reports;
	struct transport_result r, of[2];
	char error[1024], error_of[2][1024];
	int order[2]; /* which message was reported first, second */
};

static struct fixture *current;

static void on_report(struct transport *t, void *arg, const struct transport_result *r)
{
	int i = (int)(intptr_t)arg;

	(void)t;
	assert_true(i == 0 || i == 1);
	if (current->reports < 2)
		current->order[current->reports] = i;
	current->reports++;
	current->r = *r;
	snprintf(current->error, sizeof(current->error), "%s", r->error ? r->error : "");
	current->r.error = current->error;
	current->r.reply = NULL;
	current->of[i] = current->r;
	memcpy(current->error_of[i], current->error, sizeof(current->error));
	current->of[i].error = current->error_of[i];
}

/* Fills job i for rcpt; the second waits for a connection. */
static void job_fill(struct fixture *f, int i, const char *rcpt)
{
	struct job *j = &f->jobs[i];

	j->from = strdup("bounce@example.com");
	j->rcpt = strdup(rcpt);
	assert_non_null(j->from);
	assert_non_null(j->rcpt);
	assert_true(smtp_job_data(j, msg, strlen(msg)));
	j->used = true;
	j->queued = i == 1;
	j->seq = (unsigned long)i;
	j->arg = (void *)(intptr_t)i;
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
	f->m.jobs = f->jobs;
	f->m.njobs = 2;
	f->m.report = on_report;
	snprintf(f->m.where, sizeof(f->m.where), "mx.example:25");
	f->k.state = C_OPEN;
	f->k.fd = CURL_SOCKET_BAD;
	f->k.pipelining = pipelining;
	job_fill(f, 0, "someone@example.net");
	f->k.job = &f->jobs[0];
	smtp_transaction_start(&f->m, &f->k);
}

static void finish(struct fixture *f)
{
	for (int i = 0; i < 2; i++) {
		smtp_job_release(&f->jobs[i]);
		free(f->jobs[i].data);
	}
	free(f->k.obuf);
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

#define DATA1 "Subject: hi\r\n\r\n..a line with a dot\r\nbye\r\n.\r\n"
#define ENVELOPE2 "MAIL FROM:<bounce@example.com>\r\nRCPT TO:<second@example.net>\r\nDATA\r\n"

/* A pipelining session with a second message waiting: the first's data is
 * written, with the second's commands right behind it in the same write. */
static void start_two(struct fixture *f)
{
	start(f, true);
	job_fill(f, 1, "second@example.net");
	f->k.out_off = f->k.out_len;
	say(f, "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n");
	assert_string_equal(pending(f), DATA1 ENVELOPE2);
	assert_ptr_equal(f->k.next, &f->jobs[1]);
	assert_false(f->jobs[1].queued);
	f->k.out_off = f->k.out_len;
}

/* The next message's envelope rides behind the data: one wait per message. */
static void test_pipelined_next(void **state)
{
	struct fixture f;

	(void)state;
	start_two(&f);
	/* The end of data's reply and the second's three can come together. */
	say(&f, "250 2.0.0 queued as 1\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n");
	assert_int_equal(f.reports, 1);
	assert_int_equal(f.of[0].outcome, TRANSPORT_SENT);
	assert_true(f.of[0].after_data);
	assert_ptr_equal(f.k.job, &f.jobs[1]);
	assert_null(f.k.next);
	/* Nothing waits any more: the second's data goes alone. */
	assert_string_equal(pending(&f), DATA1);
	f.k.out_off = f.k.out_len;
	say(&f, "250 2.0.0 queued as 2\r\n");
	assert_int_equal(f.reports, 2);
	assert_int_equal(f.order[0], 0);
	assert_int_equal(f.order[1], 1);
	assert_int_equal(f.of[1].outcome, TRANSPORT_SENT);
	assert_null(f.k.job);
	assert_int_equal(f.k.nexpect, 0);
	assert_int_equal(f.k.state, C_OPEN);
	finish(&f);
}

/* Each message keeps its own verdict: the first refused after its data, the
 * second refused at RCPT (then RSET), neither taints the other. */
static void test_pipelined_next_verdicts(void **state)
{
	struct fixture f;

	(void)state;
	start_two(&f);
	say(&f, "554 5.7.1 rejected after data\r\n250 2.1.0 ok\r\n550 5.1.1 no such user\r\n");
	assert_int_equal(f.reports, 1);
	assert_int_equal(f.of[0].outcome, TRANSPORT_FAILED);
	assert_int_equal(f.of[0].code, 554);
	say(&f, "554 5.5.1 no valid recipients\r\n");
	assert_int_equal(f.reports, 2);
	assert_int_equal(f.of[1].outcome, TRANSPORT_FAILED);
	assert_int_equal(f.of[1].code, 550);
	assert_false(f.of[1].after_data);
	assert_string_equal(pending(&f), "RSET\r\n");
	finish(&f);
}

/* The session breaks before the first's verdict: the first may have arrived
 * (uncertain); the second, none of whose data went, waits for another
 * session, as it was. */
static void test_pipelined_next_broken(void **state)
{
	struct fixture f;

	(void)state;
	start_two(&f);
	smtp_conn_fail(&f.m, &f.k, "the connection dropped");
	assert_int_equal(f.reports, 1);
	assert_int_equal(f.order[0], 0);
	assert_int_equal(f.of[0].outcome, TRANSPORT_ERROR);
	assert_true(f.of[0].after_data);
	assert_null(f.k.next);
	assert_true(f.jobs[1].used && f.jobs[1].queued);
	assert_int_equal(f.k.state, C_CLOSED);
	finish(&f);
}

/* Withdrawn while its commands rode behind the first's data (the campaign
 * must stop), then the session breaks: the second is reported unsent, not
 * queued again. */
static void test_pipelined_next_withdrawn(void **state)
{
	struct fixture f;

	(void)state;
	start_two(&f);
	f.m.withdrawn_below = 2; /* a withdraw after both were submitted */
	smtp_conn_fail(&f.m, &f.k, "the connection dropped");
	assert_int_equal(f.reports, 2);
	assert_int_equal(f.of[0].outcome, TRANSPORT_ERROR);
	assert_int_equal(f.of[1].outcome, TRANSPORT_UNSENT);
	assert_false(f.jobs[1].used);
	finish(&f);
}

/* 421 to the end of data: the first is deferred, the second waits for
 * another session. */
static void test_pipelined_next_421(void **state)
{
	struct fixture f;

	(void)state;
	start_two(&f);
	say(&f, "421 4.3.2 shutting down\r\n");
	assert_int_equal(f.reports, 1);
	assert_int_equal(f.of[0].outcome, TRANSPORT_DEFERRED);
	assert_true(f.jobs[1].used && f.jobs[1].queued);
	assert_int_equal(f.k.state, C_CLOSED);
	finish(&f);
}

/* The second's envelope was answered after the first's verdict, then the
 * session broke: the second is an error before its data, with no reply
 * of the first's. */
static void test_pipelined_next_broken_later(void **state)
{
	struct fixture f;

	(void)state;
	start_two(&f);
	say(&f, "250 2.0.0 queued as 1\r\n");
	assert_ptr_equal(f.k.job, &f.jobs[1]);
	smtp_conn_fail(&f.m, &f.k, "the connection dropped");
	assert_int_equal(f.reports, 2);
	assert_int_equal(f.of[0].outcome, TRANSPORT_SENT);
	assert_int_equal(f.of[1].outcome, TRANSPORT_ERROR);
	assert_false(f.of[1].after_data);
	assert_int_equal(f.of[1].code, 0);
	assert_null(strstr(f.error_of[1], "uncertain"));
	finish(&f);
}

/* A message after which the session ends takes nobody behind it, and a
 * server that does not pipeline gets the data alone. */
static void test_no_next(void **state)
{
	struct fixture f;

	(void)state;
	start(&f, true);
	job_fill(&f, 1, "second@example.net");
	f.jobs[0].close_after = true;
	f.k.out_off = f.k.out_len;
	say(&f, "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n");
	assert_string_equal(pending(&f), DATA1);
	assert_null(f.k.next);
	assert_true(f.jobs[1].queued);
	finish(&f);

	start(&f, false);
	job_fill(&f, 1, "second@example.net");
	f.k.out_off = f.k.out_len;
	say(&f, "250 2.1.0 ok\r\n");
	f.k.out_off = f.k.out_len;
	say(&f, "250 2.1.5 ok\r\n");
	f.k.out_off = f.k.out_len;
	say(&f, "354 go ahead\r\n");
	assert_string_equal(pending(&f), DATA1);
	assert_null(f.k.next);
	finish(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sequential_dialog),
	    cmocka_unit_test(test_answer_before_command_written),
	    cmocka_unit_test(test_pipelined_partial_write),
	    cmocka_unit_test(test_pipelined_refusal_stands),
	    cmocka_unit_test(test_pipelined_next),
	    cmocka_unit_test(test_pipelined_next_verdicts),
	    cmocka_unit_test(test_pipelined_next_broken),
	    cmocka_unit_test(test_pipelined_next_421),
	    cmocka_unit_test(test_pipelined_next_withdrawn),
	    cmocka_unit_test(test_pipelined_next_broken_later),
	    cmocka_unit_test(test_no_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
