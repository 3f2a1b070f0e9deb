/*
 * tests/store/campaign_fixture.h: a real encrypted store with real users
 * for the campaign and queue tests: a marketer, two operators, a viewer, an
 * admin and "boss", a template, two lists with segments, and the people the
 * queue tests send to (one unsubscribed, one suppressed, one in a
 * suppressed domain).
 */
#ifndef HATO_TESTS_CAMPAIGN_FIXTURE_H
#define HATO_TESTS_CAMPAIGN_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

#define PW_ADMIN "admin-password-1"
#define PW "a-user-password-1"

static char dir[64], path[128];
/* Sessions: a marketer, two operators, a viewer, an admin, and "boss", who may do everything. */
static struct store *mk, *op1, *op2, *vw, *adm, *boss;

#define OK(call)                                                                                   \
	do {                                                                                       \
		char *err_ = NULL;                                                                 \
		enum store_status s_ = (call);                                                     \
		if (s_ != STORE_OK)                                                                \
			fail_msg("%s: %s: %s", #call, store_strstatus(s_), err_ ? err_ : "");      \
		free(err_);                                                                        \
	} while (0)
/* Expects status `want`; when `words` is not NULL, the error must contain them. */
static __attribute__((unused)) void refused(enum store_status got, char *err,
					    enum store_status want, const char *words)
{
	if (got != want)
		fail_msg("got %s (%s), wanted %s", store_strstatus(got), err ? err : "",
			 store_strstatus(want));
	if (words != NULL && (err == NULL || strstr(err, words) == NULL))
		fail_msg("\"%s\" lacks \"%s\"", err ? err : "(null)", words);
	free(err);
}
#define REFUSED(want, words, call)                                                                 \
	do {                                                                                       \
		char *err = NULL;                                                                  \
		enum store_status got_ = (call);                                                   \
		refused(got_, err, want, words);                                                   \
	} while (0)

static __attribute__((unused)) struct store *login(const char *user, const char *pw)
{
	struct store *st = NULL;
	char *err = NULL;

	if (store_open(path, user, pw, &st, &err) != STORE_OK)
		fail_msg("login %s: %s", user, err);
	return st;
}

static __attribute__((unused)) void person(const char *email, const char *list, const char *city)
{
	struct store_attr a = {"city", city};

	OK(store_subscriber_add(mk, list, email, "Name", &a, 1, NULL, &err_));
}

static __attribute__((unused)) int setup(void **state)
{
	struct store *st;
	struct store_template t = {0};
	static const char *const all[] = {"campaigns.read", "campaigns.edit",	"campaigns.approve",
					  "campaigns.send", "subscribers.read", "pii",
					  "templates"};

	(void)state;
	assert_true(sodium_init() >= 0);
	snprintf(dir, sizeof(dir), "/tmp/hato-camp-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s/hato.db", dir);
	OK(store_init(path, "admin", PW_ADMIN, STORE_KDF_INTERACTIVE, &err_));
	st = login("admin", PW_ADMIN);
	OK(store_role_add(st, "boss", all, 7, &err_));
	OK(store_user_add(st, "mk", "marketer", PW, STORE_KDF_INTERACTIVE, &err_));
	OK(store_user_add(st, "op1", "operator", PW, STORE_KDF_INTERACTIVE, &err_));
	OK(store_user_add(st, "op2", "operator", PW, STORE_KDF_INTERACTIVE, &err_));
	OK(store_user_add(st, "vw", "viewer", PW, STORE_KDF_INTERACTIVE, &err_));
	OK(store_user_add(st, "boss", "boss", PW, STORE_KDF_INTERACTIVE, &err_));
	adm = st;
	mk = login("mk", PW);
	op1 = login("op1", PW);
	op2 = login("op2", PW);
	vw = login("vw", PW);
	boss = login("boss", PW);
	OK(store_list_add(mk, "news", "News", "", &err_));
	OK(store_list_add(mk, "other", "Other", "", &err_));
	t.name = "hello";
	t.kind = "markdown";
	t.source = "Hello {{name}}";
	OK(store_template_save(mk, &t, false, &err_));
	OK(store_segment_add(mk, "tokyo", "news", "attr.city = \"Tokyo\"", &err_));
	OK(store_segment_add(mk, "elsewhere", "other", "name is set", &err_));
	/* The people of the queue tests. */
	person("a@example.com", "news", "Tokyo");
	person("b@example.com", "news", "Osaka");
	person("c@example.com", "news", "Tokyo");
	person("d@example.com", "news", "Tokyo");
	person("e@blocked.example", "news", "Tokyo");
	person("f@example.com", "other", "Tokyo");
	OK(store_subscriber_unsubscribe(mk, "c@example.com", "news", NULL, &err_));
	OK(store_suppress_add(mk, "d@example.com", "complaint", &err_));
	OK(store_suppress_add(mk, "@blocked.example", "whole domain", &err_));
	return 0;
}

static __attribute__((unused)) int teardown(void **state)
{
	char cmd[160];

	(void)state;
	store_close(&mk);
	store_close(&op1);
	store_close(&op2);
	store_close(&vw);
	store_close(&adm);
	store_close(&boss);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static __attribute__((unused)) const unsigned char H0[32] = {1}, H1[32] = {2}, SIG[64] = {3};

static __attribute__((unused)) void add(struct store *st, const char *name, const char *list,
					const char *segment)
{
	struct store_campaign c = {0};

	c.name = (char *)name;
	c.template_name = "hello";
	c.list = (char *)list;
	c.segment = (char *)segment;
	c.subject = "Spring news";
	OK(store_campaign_add(st, &c, &err_));
}

static __attribute__((unused)) struct store_campaign *get(const char *name)
{
	struct store_campaign *c = NULL;

	OK(store_campaign_get(vw, name, &c, &err_));
	return c;
}

static __attribute__((unused)) enum store_campaign_state state_of(const char *name)
{
	struct store_campaign *c = get(name);
	enum store_campaign_state s = c->state;

	store_campaign_free(&c);
	return s;
}

static __attribute__((unused)) int count_cb(const struct store_approval *a, void *arg)
{
	int *n = arg;

	assert_int_equal(a->hash[0] == 1 || a->hash[0] == 2, 1);
	(*n)++;
	return 0;
}

static __attribute__((unused)) int approvals(const char *name)
{
	struct store_campaign *c = get(name);
	int n = 0;

	OK(store_campaign_approvals(vw, c->id, count_cb, &n, &err_));
	store_campaign_free(&c);
	return n;
}

/* Counts audit records of `action` on `object` (whose details hold `details`, if not NULL). */
struct audit_count {
	const char *object, *outcome, *details;
	int n;
};
static __attribute__((unused)) int audit_cb(const struct store_audit_record *r, void *arg)
{
	struct audit_count *a = arg;

	if (r->object != NULL && strcmp(r->object, a->object) == 0 &&
	    strcmp(r->outcome, a->outcome) == 0 &&
	    (a->details == NULL || (r->details != NULL && strstr(r->details, a->details))))
		a->n++;
	return 0;
}
static __attribute__((unused)) int audited_with(const char *action, const char *object,
						const char *outcome, const char *details)
{
	struct store_audit_filter f = {.action = action};
	struct audit_count a = {object, outcome, details, 0};

	OK(store_audit_log(adm, &f, audit_cb, &a, &err_));
	return a.n;
}
static __attribute__((unused)) int audited(const char *action, const char *object,
					   const char *outcome)
{
	return audited_with(action, object, outcome, NULL);
}

/* ---- Campaigns ----------------------------------------------------------- */

#endif
