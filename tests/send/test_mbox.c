/*
 * tests/send/test_mbox.c: the mbox reader of `bounce read` (send/mbox.c):
 * where messages start, mboxrd's ">From " lines, the blank line before a
 * separator (LF and CRLF), the size limit, and memory that stays bounded
 * when a line has no end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "send/send.h"

#define MAX_MSGS 8

struct got {
	int n;
	char *msg[MAX_MSGS];
	size_t len[MAX_MSGS];
	bool big[MAX_MSGS];
	unsigned long line[MAX_MSGS];
};

static int keep(const char *msg, size_t n, bool too_big, unsigned long line, void *arg)
{
	struct got *g = arg;

	assert_true(g->n < MAX_MSGS);
	g->msg[g->n] = malloc(n + 1);
	assert_non_null(g->msg[g->n]);
	memcpy(g->msg[g->n], msg, n);
	g->msg[g->n][n] = '\0';
	g->len[g->n] = n;
	g->big[g->n] = too_big;
	g->line[g->n] = line;
	g->n++;
	return 0;
}

static void got_free(struct got *g)
{
	for (int i = 0; i < g->n; i++)
		free(g->msg[i]);
}

/* Reads text as an mbox whose first line ("From ...") was read already. */
static void read_text(const char *text, struct got *g)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");

	assert_non_null(in);
	memset(g, 0, sizeof(*g));
	assert_int_equal(send_mbox_read(in, 1, keep, g), 0);
	fclose(in);
}

static void test_messages(void **state)
{
	struct got g;

	(void)state;
	read_text("Subject: one\n\nBody.\nFrom here on, more.\n>From the desk\n>>From two\n\n"
		  "From b@example.net Sun Nov 29 12:00:00 2026\nSubject: two\n\nx\n\n",
		  &g);
	assert_int_equal(g.n, 2);
	/* A "From " line without a blank line before it stays in the message;
	 * ">From " loses one '>'; the blank line before a separator is no one's. */
	assert_string_equal(g.msg[0], "Subject: one\n\nBody.\nFrom here on, more.\nFrom the desk\n"
				      ">From two\n");
	assert_int_equal(g.line[0], 1);
	assert_string_equal(g.msg[1], "Subject: two\n\nx\n");
	assert_int_equal(g.line[1], 9);
	got_free(&g);

	read_text("Subject: one\r\n\r\nx\r\n\r\nFrom b\r\nSubject: two\r\n", &g);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.msg[0], "Subject: one\r\n\r\nx\r\n");
	assert_string_equal(g.msg[1], "Subject: two\r\n");
	got_free(&g);

	/* Nothing after the separator: one empty message. */
	read_text("", &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len[0], 0);
	got_free(&g);
}

/* A message of exactly the limit passes, one byte more does not. */
static void test_limit(void **state)
{
	size_t body = SEND_REPORT_MAX - 1, n;
	char *text = malloc(SEND_REPORT_MAX + 64);
	struct got g;

	(void)state;
	assert_non_null(text);
	for (int extra = 0; extra < 2; extra++) {
		memset(text, 'a', body + (size_t)extra);
		n = body + (size_t)extra;
		memcpy(text + n, "\n\nFrom b\nSubject: two\n", 23);
		read_text(text, &g);
		assert_int_equal(g.n, 2);
		assert_int_equal(g.big[0], extra == 1);
		if (extra == 0)
			assert_int_equal(g.len[0], SEND_REPORT_MAX);
		assert_false(g.big[1]);
		assert_string_equal(g.msg[1], "Subject: two\n");
		got_free(&g);
	}
	free(text);
}

/* 200 MB on one line, without an end: read in pieces, memory bounded. */
static void test_endless_line(void **state)
{
	struct rusage before, after;
	char chunk[65536];
	FILE *in = tmpfile();
	struct got g;

	(void)state;
	assert_non_null(in);
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 200 * 16; i++)
		assert_int_equal(fwrite(chunk, 1, sizeof(chunk), in), sizeof(chunk));
	rewind(in);
	memset(&g, 0, sizeof(g));
	getrusage(RUSAGE_SELF, &before);
	assert_int_equal(send_mbox_read(in, 1, keep, &g), 0);
	getrusage(RUSAGE_SELF, &after);
	fclose(in);
	assert_int_equal(g.n, 1);
	assert_true(g.big[0]);
	/* The limit's 10 MB and the copy kept here, not 200 MB (kB). */
	assert_true(after.ru_maxrss - before.ru_maxrss < 60 * 1024);
	got_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_messages),
	    cmocka_unit_test(test_limit),
	    cmocka_unit_test(test_endless_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
