/*
 * tests/tui/marketer_fixture.h: the store the marketer screens' tests start
 * from (test_marketer.c, test_marketer_content.c): an admin, a marketer and
 * a viewer; the list news with 6 Japanese and 40 other people, the list vip
 * with one. Dates the screens show are pinned in SQL.
 */
#ifndef HATO_TESTS_TUI_MARKETER_FIXTURE_H
#define HATO_TESTS_TUI_MARKETER_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/private.h"
#include "tui/helpers.h"
#include "tui/ui.h"

static const char japanese_csv[] =
    "email,name,city,plan,consent_source,consent_at,consent_text\n"
    "taro.yamada@example.jp,山田 太郎,東京,pro,申込フォーム,2026-01-12T01:00:00Z,newsletter-ja-v1\n"
    "hanako.suzuki@example.jp,鈴木 "
    "花子,大阪,free,申込フォーム,2026-02-03T02:00:00Z,newsletter-ja-v1\n"
    "ichiro@docomo.ne.jp,佐藤 一郎,東京,free,店頭,2026-03-01T03:00:00Z,newsletter-ja-v1\n"
    "a..b@docomo.ne.jp,高橋 美咲,名古屋,pro,店頭,2026-03-09T04:00:00Z,newsletter-ja-v1\n"
    "kenji.@ezweb.ne.jp,伊藤 健二,東京,free,申込フォーム,2026-04-11T05:00:00Z,newsletter-ja-v1\n"
    "yuki@softbank.ne.jp,渡辺 由紀,福岡,pro,セミナー,2026-05-05T06:00:00Z,newsletter-ja-v1\n";

static inline void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static inline void sql(struct store *st, const char *q)
{
	assert_int_equal(sqlite3_exec(st->db, q, NULL, NULL, NULL), SQLITE_OK);
}

/* A store with admin, marketer, viewer; the list news with 6 Japanese and 40 other people. */
static inline int setup(void **state)
{
	static const char *const who[] = {"marketer", "viewer"};
	struct store *st = make_store("/tmp/hato-mkt-XXXXXX", who, 2);
	struct store_import_stats stats;
	struct store_import_opts o = {0};
	char *err = NULL, line[128];
	FILE *in;
	int i;

	(void)state;
	store_close(&st);
	assert_int_equal(store_open(STORE, "marketer", "marketer-password-1", &st, &err), STORE_OK);
	assert_int_equal(store_list_add(st, "news", "Newsletter", NULL, &err), STORE_OK);
	assert_int_equal(store_list_add(st, "vip", "VIP", NULL, &err), STORE_OK);
	write_file("ja.csv", japanese_csv);
	in = fopen("ja.csv", "rb");
	assert_non_null(in);
	assert_int_equal(store_subscriber_import(st, "news", in, &o, &stats, &err), STORE_OK);
	fclose(in);
	in = fopen("en.csv", "w");
	assert_non_null(in);
	fputs("email,name,plan\n", in);
	for (i = 0; i < 40; i++) {
		snprintf(line, sizeof(line), "user%02d@example.com,Person %02d,%s\n", i, i,
			 i % 3 ? "free" : "pro");
		fputs(line, in);
	}
	fclose(in);
	in = fopen("en.csv", "rb");
	assert_int_equal(store_subscriber_import(st, "news", in, &o, &stats, &err), STORE_OK);
	fclose(in);
	assert_int_equal(
	    store_subscriber_add(st, "vip", "user07@example.com", NULL, NULL, 0, NULL, &err),
	    STORE_OK);
	/* Pin the dates the screens show. */
	sql(st, "UPDATE subscribers SET created = 1767225600, updated = 1767225600");
	sql(st, "UPDATE subscriber_events SET time = '2026-01-01T00:00:00Z'");
	sql(st, "UPDATE memberships SET created = 1767225600, updated = 1767225600");
	sql(st, "UPDATE memberships SET consent_at = '2026-01-01T00:00:00Z' WHERE consent_at > "
		"'2026-06'");
	store_close(&st);
	return 0;
}

static inline struct ui *on_screen(const char *user, const struct screen_ops *ops)
{
	struct ui *ui = logged_in(user);

	assert_int_equal(ui_push(ui, ops), 0);
	return ui;
}
#endif
