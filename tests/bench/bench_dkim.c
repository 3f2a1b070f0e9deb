/*
 * tests/bench/bench_dkim.c: DKIM signing throughput. Signs N generated ~5 KB
 * campaign messages with no key, Ed25519, RSA-2048, and both, on one thread,
 * and prints messages per second for each, by wall-clock and by CPU time.
 * Compare the rsa line with `openssl speed -seconds 3 rsa2048` (sign/s; it
 * counts user CPU time unless given -elapsed); the target is at least 80%.
 *
 * Usage: bench_dkim [N]   (default 2000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send/send.h"

#define NMSG_DEFAULT 2000
#define NVARIANT 64

static char *make_message(unsigned i)
{
	char *msg = NULL, line[80];
	size_t len = 0, cap = 6144;

	msg = malloc(cap);
	if (msg == NULL)
		return NULL;
	len = (size_t)snprintf(msg, cap,
			       "From: News <news@example.com>\r\n"
			       "To: user%u@example.jp\r\n"
			       "Subject: =?UTF-8?B?44CQ44GK55+l44KJ44Gb44CR?= %u\r\n"
			       "Date: Sat, 28 Nov 2026 09:00:00 +0900\r\n"
			       "Message-ID: <%u.bench@example.com>\r\n"
			       "MIME-Version: 1.0\r\n"
			       "List-Unsubscribe: <https://example.com/u/%08x>\r\n"
			       "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
			       "Content-Type: text/plain; charset=UTF-8\r\n"
			       "Content-Transfer-Encoding: quoted-printable\r\n"
			       "\r\n",
			       i, i, i, i * 2654435761u);
	while (len < 5000) {
		int n = snprintf(line, sizeof(line),
				 "=E6=98=A5=E3=81=AE=E3=82=BB=E3=83=BC=E3=83=AB line %u of %u\r\n",
				 (unsigned)len, i);

		memcpy(msg + len, line, (size_t)n);
		len += (size_t)n;
	}
	msg[len] = '\0';
	return msg;
}

static double now(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *name, const struct send_dkim_key *keys, size_t nkeys, char **msgs,
	       unsigned n)
{
	struct send_dkim *d = NULL;
	char *err = NULL, *out = NULL;
	size_t outlen;
	double t0, c0, t, c;

	if (send_dkim_new(keys, nkeys, &d, &err) != SEND_OK) {
		fprintf(stderr, "bench_dkim: %s\n", err != NULL ? err : "send_dkim_new failed");
		free(err);
		return 1;
	}
	t0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	for (unsigned i = 0; i < n; i++) {
		const char *m = msgs[i % NVARIANT];

		if (send_dkim_sign(d, m, strlen(m), &out, &outlen, &err) != SEND_OK) {
			fprintf(stderr, "bench_dkim: %s\n", err != NULL ? err : "sign failed");
			free(err);
			send_dkim_free(&d);
			return 1;
		}
		free(out);
	}
	t = now(CLOCK_MONOTONIC) - t0;
	c = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
	printf("%-8s %8u messages %8.3f s %10.1f messages/s (wall) %10.1f messages/s (CPU)\n", name,
	       n, t, n / t, n / c);
	send_dkim_free(&d);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n = NMSG_DEFAULT;
	char *msgs[NVARIANT] = {0}, *rsa = NULL, *ed = NULL, *txt = NULL;
	struct send_dkim_key keys[2];
	int rc = 1;

	if (argc > 1) {
		char *end;
		long v = strtol(argv[1], &end, 10);

		if (*end != '\0' || v < 1 || v > 10000000) {
			fprintf(stderr, "usage: bench_dkim [N]\n");
			return 2;
		}
		n = (unsigned)v;
	}
	for (unsigned i = 0; i < NVARIANT; i++) {
		msgs[i] = make_message(i);
		if (msgs[i] == NULL)
			goto done;
	}
	if (send_dkim_keygen(SEND_DKIM_RSA_SHA256, 2048, &rsa, &txt, NULL) != SEND_OK)
		goto done;
	free(txt);
	txt = NULL;
	if (send_dkim_keygen(SEND_DKIM_ED25519_SHA256, 0, &ed, &txt, NULL) != SEND_OK)
		goto done;
	keys[0] = (struct send_dkim_key){"example.com", "rsa", SEND_DKIM_RSA_SHA256, rsa};
	keys[1] = (struct send_dkim_key){"example.com", "ed", SEND_DKIM_ED25519_SHA256, ed};
	printf("bench_dkim: %zu-byte messages, one thread\n", strlen(msgs[0]));
	rc = run("none", NULL, 0, msgs, n) || run("ed25519", &keys[1], 1, msgs, n) ||
	     run("rsa", &keys[0], 1, msgs, n) || run("dual", keys, 2, msgs, n);
done:
	for (unsigned i = 0; i < NVARIANT; i++)
		free(msgs[i]);
	send_secret_free(&rsa);
	send_secret_free(&ed);
	free(txt);
	return rc;
}
