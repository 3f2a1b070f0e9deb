/*
 * tests/send/transport_helpers.h: what the transport tests share: the test
 * message, a record of each message's outcome and the callback that fills
 * it, and reading a file whole.
 */
#ifndef HATO_TESTS_SEND_TRANSPORT_HELPERS_H
#define HATO_TESTS_SEND_TRANSPORT_HELPERS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send/transport.h"
#include "tests/slurp.h"

#define PASSWORD "s3cret-Pa55word"

struct res {
	bool done;
	enum transport_outcome outcome;
	int code;
	char reply[600];
	char error[1200];
	bool tls, auth, after;
};

static const char *const msg_text = "From: Hato <news@example.com>\r\n"
				    "To: <rcpt@example.net>\r\n"
				    "Subject: transport test\r\n"
				    "Message-ID: <1@example.com>\r\n"
				    "\r\n"
				    "Hello,\r\n"
				    ".a line that starts with a dot\r\n"
				    "..two dots\r\n"
				    ".\r\n"
				    "the end\r\n";

static inline void path(char *out, size_t n, const char *a, const char *b)
{
	snprintf(out, n, "%s/%s", a, b);
}

static inline void on_done(void *done_arg, void *msg_arg, const struct transport_result *r)
{
	struct res *x = msg_arg;
	int *ndone = done_arg;

	assert_false(x->done);
	assert_non_null(r->reply);
	x->done = true;
	x->outcome = r->outcome;
	x->code = r->code;
	snprintf(x->reply, sizeof(x->reply), "%s", r->reply);
	snprintf(x->error, sizeof(x->error), "%s", r->error != NULL ? r->error : "");
	x->tls = r->tls_failure;
	x->auth = r->auth_failure;
	x->after = r->after_data;
	(*ndone)++;
	if (getenv("TRANSPORT_TEST_VERBOSE") != NULL)
		fprintf(stderr, "# %s code=%d tls=%d auth=%d after=%d reply=[%s] error=[%s]\n",
			transport_outcome_name(r->outcome), r->code, r->tls_failure,
			r->auth_failure, r->after_data, r->reply, x->error);
	/* The secret never shows. */
	assert_null(strstr(r->reply, PASSWORD));
	assert_null(strstr(x->error, PASSWORD));
}

#endif
