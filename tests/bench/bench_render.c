/*
 * bench_render.c: renders 100,000 personalised messages from one compiled
 * campaign (Markdown body, newsletter layout, four extra headers) and prints
 * messages per second on one core. No DKIM: send/ signs afterwards.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "templates/templates.h"

#define COUNT 100000

struct sub {
	char name[32];
	char url[128];
	const char *city;
};

static const char *lookup(const char *name, void *arg)
{
	const struct sub *s = arg;

	if (strcmp(name, "name") == 0)
		return s->name;
	if (strcmp(name, "unsubscribe_url") == 0)
		return s->url;
	if (strcmp(name, "attr.city") == 0)
		return s->city;
	if (strcmp(name, "sender.name") == 0)
		return "株式会社ハト";
	if (strcmp(name, "sender.postal_address") == 0)
		return "〒100-0001 東京都千代田区千代田1-1";
	if (strcmp(name, "sender.contact") == 0)
		return "support@hato.example";
	if (strcmp(name, "list.name") == 0)
		return "ハト通信";
	return NULL;
}

static const char body[] =
    "# {{name|お客様}}様、春のセールのお知らせ\n\n"
    "いつもハト通信をご愛読いただき、ありがとうございます。{{attr.city}}店では今週末、"
    "春のセールを開催します。\n\n"
    "- 全品20%オフ\n- 会員様限定の先行販売\n- 送料無料キャンペーン\n\n"
    "{{#attr.city}}\n\n**{{attr.city}}店**の営業時間は10時から20時までです。\n\n{{/attr.city}}\n\n"
    "[セール会場はこちら](https://shop.example/sale?utm_source=hato)\n\n"
    "Thank you for reading. Spring sale: everything 20% off this weekend.\n";

int main(void)
{
	struct tpl_campaign_src cs = {
	    TPL_KIND_MARKDOWN, body,
	    sizeof(body) - 1,  NULL,
	    "newsletter",      "{{name|お客様}}様へ：春のセールのお知らせ"};
	struct tpl_header h[] = {
	    {"List-Unsubscribe", NULL},
	    {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
	    {"List-Id", "Hato News <news.hato.example>"},
	    {"Feedback-ID", "c42:l7:hato"},
	};
	struct tpl_message m = {
	    .from = {"ハト通信", "news@hato.example"}, .headers = h, .nheaders = 4};
	struct tpl_campaign *c = NULL;
	struct tpl_buf out = {0};
	struct timespec t0, t1, c0, c1;
	struct sub s;
	char to[64], lu[160], *err = NULL;
	size_t i, bytes = 0;
	double secs, cpu;

	if (sodium_init() < 0 || tpl_campaign_compile(&cs, &c, &err) != TPL_OK) {
		fprintf(stderr, "bench: %s\n", err ? err : "sodium_init failed");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	for (i = 0; i < COUNT; i++) {
		snprintf(s.name, sizeof(s.name), "山田%zu", i);
		snprintf(s.url, sizeof(s.url),
			 "https://hato.example/u/"
			 "AQAAAAAAAAAqAAAAAAAAAAdDa1SmNlNfSKwzZ6T1Y5n7S0n0QG%06zu",
			 i);
		s.city = i % 3 ? "大阪" : "";
		snprintf(to, sizeof(to), "user%zu@example.jp", i);
		snprintf(lu, sizeof(lu), "<%s>", s.url);
		h[0].value = lu;
		m.to.name = s.name;
		m.to.addr = to;
		tpl_buf_reset(&out);
		if (tpl_campaign_render(c, lookup, &s, &m, &out, &err) != TPL_OK) {
			fprintf(stderr, "bench: %s\n", err);
			return 1;
		}
		bytes += out.len;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	/* CPU time is the per-core figure; wall time also counts other load */
	printf("bench_render: %d messages, %.1f KB each: %.0f messages/s per core (%.3f s CPU), "
	       "%.0f messages/s wall (%.3f s)\n",
	       COUNT, (double)bytes / COUNT / 1024.0, COUNT / cpu, cpu, COUNT / secs, secs);
	tpl_buf_free(&out);
	tpl_campaign_free(&c);
	return 0;
}
