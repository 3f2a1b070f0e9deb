/*
 * tests/tui/campaign_fixture.h: the store the campaign screen tests share.
 * setup() makes it (make_store): admin, marketer, operator and viewer; a
 * file transport into ./outbox, the sender settings and an Ed25519 DKIM key
 * for example.com, so that the pre-send checks pass; the list "m" with two
 * people, the template "t" and the draft campaign "spring" on it, by the
 * marketer. Include it after tui/helpers.h.
 */
#ifndef HATO_TESTS_TUI_CAMPAIGN_FIXTURE_H
#define HATO_TESTS_TUI_CAMPAIGN_FIXTURE_H

#include <sys/stat.h>

#include "send/send.h"
#include "store/store.h"

/* The store opened as user (password NAME-password-1); the caller closes it. */
static inline struct store *as(const char *user)
{
	struct store *st = NULL;
	char pw[64], *err = NULL;

	snprintf(pw, sizeof(pw), "%s-password-1", user);
	if (store_open(STORE, user, pw, &st, &err) != STORE_OK)
		fail_msg("cannot open the store as %s: %s", user, err ? err : "?");
	return st;
}

static inline void config(struct store *st, const char *k, const char *v)
{
	char *err = NULL;

	if (store_config_set(st, k, v, &err) != STORE_OK)
		fail_msg("config %s: %s", k, err);
}

static inline int setup(void **state)
{
	static const char *const who[] = {"marketer", "operator", "viewer"};
	struct store *st = make_store("/tmp/hato-tuic-XXXXXX", who, 3);
	struct store_dkim_key k = {0};
	struct store_template t = {0};
	struct store_attr tokyo = {"city", "Tokyo"}, osaka = {"city", "Osaka"};
	struct store_campaign c = {0};
	char *err = NULL, *pem = NULL, *txt = NULL, url[1100], cwd[1024];

	(void)state;
	assert_int_equal(mkdir("outbox", 0700), 0);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(url, sizeof(url), "file:%s/outbox", cwd);
	config(st, "smtp.url", url);
	config(st, "smtp.user", "hato");
	config(st, "smtp.password", "smtp-secret-1");
	config(st, "sender.from", "News <news@example.com>");
	config(st, "sender.name", "Hato Ltd");
	config(st, "sender.postal_address", "1-2-3 Marunouchi, Tokyo");
	config(st, "sender.contact", "support@example.com");
	config(st, "unsubscribe.url", "https://example.com/u/");
	config(st, "unsubscribe.mailto", "unsubscribe@example.com");
	config(st, "pace.docomo.ne.jp", "30/1");
	assert_int_equal(send_dkim_keygen(SEND_DKIM_ED25519_SHA256, 0, &pem, &txt, &err), SEND_OK);
	k.domain = "example.com";
	k.selector = "fx";
	k.alg = "ed25519";
	k.private_key = pem;
	k.public_txt = txt;
	assert_int_equal(store_dkim_add(st, &k, &err), STORE_OK);
	send_secret_free(&pem);
	free(txt);
	store_close(&st);

	st = as("marketer");
	assert_int_equal(store_list_add(st, "m", "Members", NULL, &err), STORE_OK);
	assert_int_equal(
	    store_subscriber_add(st, "m", "sub@example.com", "Sub Scriber", &tokyo, 1, NULL, &err),
	    STORE_OK);
	assert_int_equal(
	    store_subscriber_add(st, "m", "two@example.org", "Two", &osaka, 1, NULL, &err),
	    STORE_OK);
	t.name = "t";
	t.kind = "markdown";
	t.layout = "plain";
	t.source = "# Hello {{name|there}}\n\nNews for {{attr.city}}.\n";
	assert_int_equal(store_template_save(st, &t, false, &err), STORE_OK);
	c.name = "spring";
	c.template_name = "t";
	c.list = "m";
	c.subject = "Spring news";
	assert_int_equal(store_campaign_add(st, &c, &err), STORE_OK);
	store_close(&st);
	return 0;
}

/* Answers the open prompt with text and Enter (helpers.h). */
static inline void answer(struct ui *ui, const char *text)
{
	enter(ui, text);
}

static inline enum store_campaign_state state_of(struct store *st, const char *name)
{
	struct store_campaign *c = NULL;
	enum store_campaign_state s;

	assert_int_equal(store_campaign_get(st, name, &c, NULL), STORE_OK);
	s = c->state;
	store_campaign_free(&c);
	return s;
}

/* Submits the campaign as the marketer. */
static inline void submit(const char *name)
{
	struct store *st = as("marketer");

	assert_int_equal(store_campaign_submit(st, name, NULL), STORE_OK);
	store_close(&st);
}

#endif
