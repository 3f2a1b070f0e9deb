/*
 * tests/bench/bench_compose.c: render and sign personalised messages through
 * the same path the worker uses (send_compose: merge, MIME, DKIM), for no
 * DKIM, Ed25519, RSA-2048 and both. Prints messages/s by wall clock and per
 * core (CPU time). The reference for RSA is `openssl speed rsa2048`, run by
 * tests/bench/run.sh in the same run. A shared machine's speed drifts from
 * one minute to the next, so the rsa-2048 case also interleaves, in blocks of
 * 50, bare RSA-2048 signatures (EVP_PKEY_sign of a SHA-256 digest, the
 * operation `openssl speed` counts) and prints them as "rsa-ref" with the
 * ratio per core of rsa-2048 to them. rsa-2048's own figures exclude them.
 *
 * Usage: bench_compose [N [CASE]]   (default 100000, every case)
 */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "send/send.h"
#include "store/store.h"

#define PW "bench-password-1"

static double now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, char *err)
{
	fprintf(stderr, "bench_compose: %s: %s\n", what, err ? err : "failed");
	exit(1);
}

/* n bare RSA signatures with one context, as `openssl speed` makes them; adds their CPU time. */
static void raw_signs(EVP_PKEY *pkey, long n, double *cpu)
{
	unsigned char md[32] = {0}, sig[512];
	double c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);

	if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1)
		die("reference RSA signature", NULL);
	for (long i = 0; i < n; i++) {
		size_t siglen = sizeof(sig);

		md[0] = (unsigned char)i;
		if (EVP_PKEY_sign(ctx, sig, &siglen, md, sizeof(md)) != 1)
			die("reference RSA signature", NULL);
	}
	EVP_PKEY_CTX_free(ctx);
	*cpu += now(CLOCK_PROCESS_CPUTIME_ID) - c0;
}

static void add_key(struct store *st, const char *domain, enum send_dkim_alg alg)
{
	struct store_dkim_key k = {0};
	char *pem = NULL, *txt = NULL, *err = NULL;

	if (send_dkim_keygen(alg, 2048, &pem, &txt, &err) != SEND_OK)
		die("keygen", err);
	k.domain = domain;
	k.selector = alg == SEND_DKIM_RSA_SHA256 ? "rsa" : "ed";
	k.alg = alg == SEND_DKIM_RSA_SHA256 ? "rsa" : "ed25519";
	k.private_key = pem;
	k.public_txt = txt;
	if (store_dkim_add(st, &k, &err) != STORE_OK)
		die("dkim add", err);
	send_secret_free(&pem);
	free(txt);
}

int main(int argc, char **argv)
{
	static const char *const cases[][2] = {
	    {"none", "News <news@none.example>"},
	    {"ed25519", "News <news@ed.example>"},
	    {"rsa-2048", "News <news@rsa.example>"},
	    {"dual", "News <news@dual.example>"},
	};
	static const char *const keys[] = {"city", "plan"};
	const char *vals[2] = {"東京", "pro"};
	char dir[] = "/tmp/hato-bench-XXXXXX", path[128], email[64], name[64], *err = NULL;
	struct store_template t = {0};
	struct store *st = NULL;
	long n = argc > 1 ? atol(argv[1]) : 100000;
	const char *only = argc > 2 ? argv[2] : NULL;
	size_t c;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL || n <= 0)
		return 1;
	snprintf(path, sizeof(path), "%s/s/hato.db", dir);
	if (store_init(path, "admin", PW, STORE_KDF_INTERACTIVE, &err) != STORE_OK ||
	    store_open(path, "admin", PW, &st, &err) != STORE_OK)
		die("store", err);
	/* A user who may hold keys, templates and lists: a custom role. */
	if (store_role_add(st, "bench",
			   (const char *const[]){"keys", "settings", "templates", "lists"}, 4,
			   &err) != STORE_OK ||
	    store_user_add(st, "bench", "bench", PW "x", STORE_KDF_INTERACTIVE, &err) != STORE_OK)
		die("user", err);
	store_config_set(st, "sender.name", "鳩商事", NULL);
	store_config_set(st, "sender.postal_address", "東京都千代田区丸の内1-2-3", NULL);
	store_config_set(st, "sender.contact", "support@example.com", NULL);
	store_config_set(st, "unsubscribe.url", "https://example.com/u/", NULL);
	store_config_set(st, "unsubscribe.mailto", "unsubscribe@example.com", NULL);
	store_close(&st);
	if (store_open(path, "bench", PW "x", &st, &err) != STORE_OK)
		die("login", err);
	if (store_list_add(st, "members", "会員", NULL, &err) != STORE_OK)
		die("list", err);
	add_key(st, "ed.example", SEND_DKIM_ED25519_SHA256);
	add_key(st, "rsa.example", SEND_DKIM_RSA_SHA256);
	add_key(st, "dual.example", SEND_DKIM_RSA_SHA256);
	add_key(st, "dual.example", SEND_DKIM_ED25519_SHA256);
	t.name = "news";
	t.kind = "markdown";
	t.layout = "newsletter";
	t.source = "# {{name|お客様}}さん、こんにちは\n\nYour city: **{{attr.city}}**.\n\n"
		   "{{#attr.plan}}Plan: {{attr.plan}}{{/attr.plan}}\n\n"
		   "Read [our news](https://example.com/news) and "
		   "[the archive](https://example.com/archive).\n\n"
		   "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod "
		   "tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, "
		   "quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo.\n";
	if (store_template_save(st, &t, false, &err) != STORE_OK)
		die("template", err);
	printf("%-10s %10s %14s %14s %8s\n", "dkim", "messages", "msg/s (wall)", "msg/s (core)",
	       "KB/msg");
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct send_compose_src src = {.template_name = "news",
					       .subject = "{{name}}様へ 今月のお知らせ",
					       .from = cases[c][1],
					       .list = "members",
					       .campaign_id = 1};
		struct send_composer *comp = NULL;
		struct send_recipient r = {0};
		double w0, c0, w = 0, cpu = 0, refcpu = 0;
		size_t bytes = 0;
		long i, refn = 0;
		EVP_PKEY *ref = NULL;

		if (only != NULL && strcmp(only, cases[c][0]) != 0)
			continue;
		if (send_composer_new(st, &src, &comp, &err) != SEND_OK)
			die("composer", err);
		r.list_id = 1;
		r.attr_keys = keys;
		r.attr_values = vals;
		r.nattrs = 2;
		if (strcmp(cases[c][0], "rsa-2048") == 0 &&
		    (ref = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)) == NULL)
			die("reference key", NULL);
		w0 = now(CLOCK_MONOTONIC);
		c0 = now(CLOCK_PROCESS_CPUTIME_ID);
		for (i = 0; i < n; i++) {
			struct send_composed m;

			if (ref != NULL && i % 50 == 0) {
				w += now(CLOCK_MONOTONIC) - w0;
				cpu += now(CLOCK_PROCESS_CPUTIME_ID) - c0;
				raw_signs(ref, 50, &refcpu);
				refn += 50;
				w0 = now(CLOCK_MONOTONIC);
				c0 = now(CLOCK_PROCESS_CPUTIME_ID);
			}
			snprintf(email, sizeof(email), "user%ld@example.jp", i);
			snprintf(name, sizeof(name), "山田 太郎%ld", i);
			r.subscriber_id = (uint64_t)i + 1;
			r.email = email;
			r.name = name;
			if (send_compose(comp, &r, &m, &err) != SEND_OK)
				die("compose", err);
			bytes += m.len;
			free(m.data);
		}
		w += now(CLOCK_MONOTONIC) - w0;
		cpu += now(CLOCK_PROCESS_CPUTIME_ID) - c0;
		printf("%-10s %10ld %14.0f %14.0f %8.1f\n", cases[c][0], n, (double)n / w,
		       (double)n / cpu, (double)bytes / (double)n / 1024.0);
		if (ref != NULL && refn > 0 && refcpu > 0)
			printf("%-10s %10ld %14s %14.0f %8s  (rsa-2048 per core = %.3f of it)\n",
			       "rsa-ref", refn, "", (double)refn / refcpu, "",
			       ((double)n / cpu) / ((double)refn / refcpu));
		EVP_PKEY_free(ref);
		fflush(stdout);
		send_composer_free(&comp);
	}
	store_close(&st);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	return system(path) == 0 ? 0 : 1;
}
