/*
 * tests/bench/bench_smtp.c: throughput of the SMTP transport.
 *
 *   bench_smtp URL CONNECTIONS COUNT BODY_BYTES
 *
 * Sends COUNT messages of BODY_BYTES of body (plus about 200 bytes of
 * headers) over CONNECTIONS parallel connections, with smtp.tls = none (so
 * URL must be a loopback relay such as Postfix's smtp-sink), and prints
 * "MSGS SECONDS MSG_PER_S". Exits 1 when any message was not accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send/transport.h"

struct tally {
	long sent, other;
	char first_error[600];
};

static void on_done(void *done_arg, void *msg_arg, const struct transport_result *r)
{
	struct tally *t = done_arg;

	(void)msg_arg;
	if (r->outcome == TRANSPORT_SENT) {
		t->sent++;
		return;
	}
	if (t->other++ == 0)
		snprintf(t->first_error, sizeof(t->first_error), "%s: %s",
			 transport_outcome_name(r->outcome), r->error ? r->error : r->reply);
}

static char *make_message(long body, size_t *len)
{
	const char *head = "From: Bench <bench@example.com>\r\n"
			   "To: <sink@example.net>\r\n"
			   "Subject: hato transport benchmark\r\n"
			   "Date: Sat, 28 Nov 2026 09:00:00 +0900\r\n"
			   "Message-ID: <bench@example.com>\r\n"
			   "MIME-Version: 1.0\r\n"
			   "Content-Type: text/plain; charset=us-ascii\r\n"
			   "\r\n";
	size_t hl = strlen(head), n = hl;
	char *m = malloc(hl + (size_t)body + 80);

	if (m == NULL)
		return NULL;
	memcpy(m, head, hl);
	while ((long)(n - hl) < body) {
		/* 76 characters and CRLF per line. */
		for (int i = 0; i < 76; i++, n++)
			m[n] = (char)('a' + (i + (int)(n / 78)) % 26);
		m[n++] = '\r';
		m[n++] = '\n';
	}
	*len = n;
	return m;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct tally tally = {0};
	struct transport *t = NULL;
	char *err = NULL, *msg;
	size_t len;
	long conns, count, body, submitted = 0;
	double t0, dt;

	if (argc != 5) {
		fprintf(stderr, "usage: bench_smtp URL CONNECTIONS COUNT BODY_BYTES\n");
		return 2;
	}
	conns = strtol(argv[2], NULL, 10);
	count = strtol(argv[3], NULL, 10);
	body = strtol(argv[4], NULL, 10);
	if (conns < 1 || conns > TRANSPORT_CONNECTIONS_MAX || count < 1 || body < 0) {
		fprintf(stderr, "bench_smtp: bad arguments\n");
		return 2;
	}
	msg = make_message(body, &len);
	if (msg == NULL)
		return 1;
	struct transport_config cfg = {.url = argv[1],
				       .tls = "none",
				       .connections = (unsigned)conns,
				       .helo = "bench.localhost"};
	if (transport_open(&cfg, on_done, &tally, &t, &err) != SEND_OK) {
		fprintf(stderr, "bench_smtp: %s\n", err ? err : "cannot open");
		free(err);
		free(msg);
		return 1;
	}
	t0 = now();
	while (tally.sent + tally.other < count) {
		while (submitted < count && transport_free_slots(t) > 0) {
			struct transport_message m = {.from = "bench@example.com",
						      .rcpt = "sink@example.net",
						      .data = msg,
						      .len = len};

			if (transport_submit(t, &m, &err) != SEND_OK) {
				fprintf(stderr, "bench_smtp: %s\n", err ? err : "submit failed");
				return 1;
			}
			submitted++;
		}
		if (transport_run(t, 1000, &err) != SEND_OK) {
			fprintf(stderr, "bench_smtp: %s\n", err ? err : "run failed");
			return 1;
		}
	}
	dt = now() - t0;
	transport_close(&t);
	free(msg);
	printf("%ld %.3f %.1f\n", tally.sent, dt, (double)tally.sent / dt);
	if (tally.other > 0) {
		fprintf(stderr, "bench_smtp: %ld not sent; first: %s\n", tally.other,
			tally.first_error);
		return 1;
	}
	return 0;
}
