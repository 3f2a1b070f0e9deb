/*
 * tests/fuzz/fuzz_smtp.c: libFuzzer target for the SMTP back end's reading
 * of what a server says (send/smtp_dialog.c, smtp_conn_input), on a session
 * in the middle of its mail transactions.
 *
 * The first byte sets whether the server pipelines (bit 0), takes SIZE (bit
 * 1), whether every third message ends its session (bit 2) and whether the
 * socket takes only every other write at once (bit 3: the server may answer
 * before the message is all written); the second byte's low bits give the
 * size of the pieces the rest is fed in (1 to 16 bytes), so that replies
 * split across reads. A message always waits for the session, so that a
 * pipelining session takes it behind the data of the one it carries; a new
 * one starts whenever the session is idle. Checked: every message the
 * session took is reported exactly once, with a known outcome, and with an
 * error unless it was sent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send/smtp_private.h"

#define MAX_MSGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int reported[MAX_MSGS];

static void on_report(struct transport *t, void *arg, const struct transport_result *r)
{
	intptr_t i = (intptr_t)arg;

	(void)t;
	if (i < 0 || i >= MAX_MSGS || reported[i]++ != 0 || r->reply == NULL ||
	    r->outcome > TRANSPORT_ERROR || (r->outcome != TRANSPORT_SENT && r->error == NULL))
		abort();
}

/* Fills a free slot with message number i, waiting for the session. */
static void job_fill(struct job *j, int i, unsigned session_limit)
{
	static const char msg[] = "Subject: fuzz\r\n\r\n.a line with a dot\r\nthe end\r\n";

	j->from = strdup("bounce@example.com");
	j->rcpt = strdup("someone@example.net");
	if (j->from == NULL || j->rcpt == NULL || !smtp_job_data(j, msg, strlen(msg)))
		abort();
	j->used = j->queued = true;
	j->seq = (unsigned long)i;
	j->arg = (void *)(intptr_t)i;
	j->session_limit = session_limit;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transport_conf c = {.timeout_s = 300, .wake_fd = -1};
	struct job jobs[2];
	struct conn k;
	struct smtp m;
	size_t off = 2, piece;
	int started = 0, feeds = 0, i;

	if (size < 2 || size > 16384)
		return 0;
	memset(jobs, 0, sizeof(jobs));
	memset(&k, 0, sizeof(k));
	memset(&m, 0, sizeof(m));
	memset(reported, 0, sizeof(reported));
	m.c = &c;
	m.conns = &k;
	m.nconns = 1;
	m.jobs = jobs;
	m.njobs = 2;
	m.report = on_report;
	snprintf(m.where, sizeof(m.where), "fuzz.example:25");
	k.state = C_OPEN;
	k.fd = CURL_SOCKET_BAD;
	k.pipelining = (data[0] & 1) != 0;
	k.size_ext = (data[0] & 2) != 0;
	piece = (size_t)(data[1] & 15) + 1;
	while (off < size && k.state == C_OPEN) {
		size_t n = size - off < piece ? size - off : piece;

		for (i = 0; i < 2; i++)
			if (!jobs[i].used && started < MAX_MSGS)
				job_fill(&jobs[i], started++, (data[0] & 4) != 0 ? 3 : 0);
		if (k.job == NULL && k.nexpect == 0 && !k.quit) {
			k.job = smtp_take_job(&m, &k);
			if (k.job != NULL)
				smtp_transaction_start(&m, &k);
		}
		if ((data[0] & 8) == 0 || feeds++ % 2 == 0)
			k.out_off = k.out_len; /* as if the socket took it all */
		smtp_conn_input(&m, &k, (const char *)data + off, n);
		off += n;
	}
	if (k.job != NULL || k.next != NULL)
		smtp_conn_fail(&m, &k, "the input ended");
	/* A message still waiting was never taken: never reported. */
	for (i = 0; i < 2; i++)
		if (jobs[i].used && jobs[i].queued)
			reported[(intptr_t)jobs[i].arg]++;
	for (i = 0; i < started; i++)
		if (reported[i] != 1)
			abort();
	for (i = 0; i < 2; i++) {
		smtp_job_release(&jobs[i]);
		free(jobs[i].data);
	}
	free(k.obuf);
	return 0;
}
