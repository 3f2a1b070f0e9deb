/*
 * Campaigns and their send queue, against a real encrypted store with real
 * users: the state machine (each allowed and refused move), four-eyes
 * approval, edits that drop approvals, the recipients fixed into the queue,
 * claims that never hand a row out twice, crash recovery, retries, counts
 * and masked errors.
 */
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

#include "store/private.h"
#include "tests/store/explain.h"

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
static void refused(enum store_status got, char *err, enum store_status want, const char *words)
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

static struct store *login(const char *user, const char *pw)
{
	struct store *st = NULL;
	char *err = NULL;

	if (store_open(path, user, pw, &st, &err) != STORE_OK)
		fail_msg("login %s: %s", user, err);
	return st;
}

static void person(const char *email, const char *list, const char *city)
{
	struct store_attr a = {"city", city};

	OK(store_subscriber_add(mk, list, email, "Name", &a, 1, NULL, &err_));
}

static int setup(void **state)
{
	struct store *st;
	struct store_template t = {0};
	static const char *const all[] = {"campaigns.read", "campaigns.edit",	"campaigns.approve",
					  "campaigns.send", "subscribers.read", "pii"};

	(void)state;
	assert_true(sodium_init() >= 0);
	snprintf(dir, sizeof(dir), "/tmp/hato-camp-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s/hato.db", dir);
	OK(store_init(path, "admin", PW_ADMIN, STORE_KDF_INTERACTIVE, &err_));
	st = login("admin", PW_ADMIN);
	OK(store_role_add(st, "boss", all, 6, &err_));
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
	OK(store_subscriber_unsubscribe(mk, "c@example.com", "news", &err_));
	OK(store_suppress_add(mk, "d@example.com", "complaint", &err_));
	OK(store_suppress_add(mk, "@blocked.example", "whole domain", &err_));
	return 0;
}

static int teardown(void **state)
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

static const unsigned char H0[32] = {1}, H1[32] = {2}, SIG[64] = {3};

static void add(struct store *st, const char *name, const char *list, const char *segment)
{
	struct store_campaign c = {0};

	c.name = (char *)name;
	c.template_name = "hello";
	c.list = (char *)list;
	c.segment = (char *)segment;
	c.subject = "Spring news";
	OK(store_campaign_add(st, &c, &err_));
}

static struct store_campaign *get(const char *name)
{
	struct store_campaign *c = NULL;

	OK(store_campaign_get(vw, name, &c, &err_));
	return c;
}

static enum store_campaign_state state_of(const char *name)
{
	struct store_campaign *c = get(name);
	enum store_campaign_state s = c->state;

	store_campaign_free(&c);
	return s;
}

static int count_cb(const struct store_approval *a, void *arg)
{
	int *n = arg;

	assert_int_equal(a->hash[0] == 1 || a->hash[0] == 2, 1);
	(*n)++;
	return 0;
}

static int approvals(const char *name)
{
	struct store_campaign *c = get(name);
	int n = 0;

	OK(store_campaign_approvals(vw, c->id, count_cb, &n, &err_));
	store_campaign_free(&c);
	return n;
}

/* Counts audit records of `action` on `object`. */
struct audit_count {
	const char *object, *outcome;
	int n;
};
static int audit_cb(const struct store_audit_record *r, void *arg)
{
	struct audit_count *a = arg;

	if (r->object != NULL && strcmp(r->object, a->object) == 0 &&
	    strcmp(r->outcome, a->outcome) == 0)
		a->n++;
	return 0;
}
static int audited(const char *action, const char *object, const char *outcome)
{
	struct store_audit_filter f = {NULL, NULL, action};
	struct audit_count a = {object, outcome, 0};

	OK(store_audit_log(adm, &f, audit_cb, &a, &err_));
	return a.n;
}

/* ---- Campaigns ----------------------------------------------------------- */

static void test_add(void **state)
{
	struct store_campaign c = {0}, *g;

	(void)state;
	add(mk, "c-add", "news", "tokyo");
	g = get("c-add");
	assert_string_equal(g->name, "c-add");
	assert_string_equal(g->template_name, "hello");
	assert_string_equal(g->list, "news");
	assert_string_equal(g->segment, "tokyo");
	assert_string_equal(g->segment_expr, "attr.city = \"Tokyo\"");
	assert_string_equal(g->author, "mk");
	assert_null(g->from);
	assert_int_equal(g->state, STORE_CAMPAIGN_DRAFT);
	assert_int_equal(g->approvals_needed, 1);
	assert_int_equal(g->version, 1);
	assert_true(g->created > 0);
	store_campaign_free(&g);
	assert_null(g);
	assert_int_equal(audited("campaign.add", "c-add", "ok"), 1);

	/* A segment alone brings its list. */
	add(mk, "c-seg", NULL, "tokyo");
	g = get("c-seg");
	assert_string_equal(g->list, "news");
	store_campaign_free(&g);

	c.name = "c-add";
	c.template_name = "hello";
	c.list = "news";
	c.subject = "x";
	REFUSED(STORE_EEXIST, "exists already", store_campaign_add(mk, &c, &err));
	c.name = "c-bad";
	c.template_name = "nope";
	REFUSED(STORE_ENOTFOUND, "no template nope", store_campaign_add(mk, &c, &err));
	c.template_name = "hello";
	c.segment = "elsewhere";
	REFUSED(STORE_EINVAL, "belongs to the list other", store_campaign_add(mk, &c, &err));
	c.segment = NULL;
	c.list = "nolist";
	REFUSED(STORE_ENOTFOUND, NULL, store_campaign_add(mk, &c, &err));
	c.list = "news";
	c.subject = "Hi\r\nBcc: x@evil.example";
	REFUSED(STORE_EINVAL, "line break", store_campaign_add(mk, &c, &err));
	c.subject = "Hi";
	REFUSED(STORE_EDENIED, "campaigns.edit", store_campaign_add(vw, &c, &err));
	REFUSED(STORE_EDENIED, "campaigns.edit", store_campaign_add(op1, &c, &err));
	REFUSED(STORE_ENOTFOUND, NULL, store_campaign_get(vw, "c-bad", &g, &err));

	/* A copy is a new draft by whoever copies it. */
	OK(store_campaign_copy(boss, "c-add", "c-copy", &err_));
	g = get("c-copy");
	assert_string_equal(g->author, "boss");
	assert_string_equal(g->segment, "tokyo");
	assert_string_equal(g->subject, "Spring news");
	assert_int_equal(g->state, STORE_CAMPAIGN_DRAFT);
	store_campaign_free(&g);
}

static void test_state_machine(void **state)
{
	struct store_campaign *g;
	const char *n = "c-states";

	(void)state;
	add(mk, n, "news", NULL);
	/* Nothing but submit leaves a draft. */
	REFUSED(STORE_EINVAL, "in review", store_campaign_approve(op1, n, H0, SIG, NULL, &err));
	REFUSED(STORE_EINVAL, "in review", store_campaign_reject(op1, n, "no", &err));
	REFUSED(STORE_EINVAL, "approved", store_campaign_schedule(op1, n, 0, H0, SIG, &err));
	REFUSED(STORE_EINVAL, "paused", store_campaign_resume(op1, n, &err));
	REFUSED(STORE_EINVAL, "sending or scheduled", store_campaign_pause(op1, n, NULL, &err));
	REFUSED(STORE_EDENIED, "campaigns.edit", store_campaign_submit(op1, n, &err));
	OK(store_campaign_submit(mk, n, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_IN_REVIEW);
	REFUSED(STORE_EINVAL, "draft or a rejected", store_campaign_submit(mk, n, &err));

	/* Rejection needs a reason and another person. */
	REFUSED(STORE_EUSAGE, "comment", store_campaign_reject(op1, n, NULL, &err));
	REFUSED(STORE_EDENIED, "campaigns.approve", store_campaign_reject(mk, n, "x", &err));
	OK(store_campaign_reject(op1, n, "the subject is too loud", &err_));
	g = get(n);
	assert_int_equal(g->state, STORE_CAMPAIGN_REJECTED);
	assert_string_equal(g->comment, "the subject is too loud");
	store_campaign_free(&g);
	OK(store_campaign_submit(mk, n, &err_));

	/* Approval: not by a viewer, not by a marketer, yes by an operator. */
	REFUSED(STORE_EDENIED, "campaigns.approve",
		store_campaign_approve(vw, n, H0, SIG, NULL, &err));
	REFUSED(STORE_EDENIED, "campaigns.approve",
		store_campaign_approve(mk, n, H0, SIG, NULL, &err));
	OK(store_campaign_approve(op1, n, H0, SIG, "fine", &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_APPROVED);
	assert_int_equal(approvals(n), 1);
	REFUSED(STORE_EINVAL, "in review", store_campaign_approve(op2, n, H0, SIG, NULL, &err));
	REFUSED(STORE_EINVAL, NULL, store_campaign_submit(mk, n, &err));
	REFUSED(STORE_EDENIED, "campaigns.send", store_campaign_pause(mk, n, NULL, &err));

	/* Scheduled, paused before it starts, resumed: scheduled again. */
	REFUSED(STORE_EDENIED, "campaigns.send",
		store_campaign_schedule(mk, n, 2000000000, H1, SIG, &err));
	OK(store_campaign_schedule(op1, n, 2000000000, H1, SIG, &err_));
	g = get(n);
	assert_int_equal(g->state, STORE_CAMPAIGN_SCHEDULED);
	assert_int_equal(g->scheduled_at, 2000000000);
	store_campaign_free(&g);
	OK(store_campaign_pause(op2, n, NULL, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_PAUSED);
	REFUSED(STORE_EINVAL, NULL, store_campaign_pause(op2, n, NULL, &err));
	OK(store_campaign_resume(op2, n, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_SCHEDULED);

	/* The worker's moves. */
	g = get(n);
	REFUSED(STORE_EDENIED, "campaigns.send",
		store_campaign_set_state(mk, g->id, STORE_CAMPAIGN_SENDING, NULL, &err));
	REFUSED(STORE_EUSAGE, NULL,
		store_campaign_set_state(op1, g->id, STORE_CAMPAIGN_APPROVED, NULL, &err));
	OK(store_campaign_set_state(op1, g->id, STORE_CAMPAIGN_SENDING, "due", &err_));
	store_campaign_free(&g);
	g = get(n);
	assert_int_equal(g->state, STORE_CAMPAIGN_SENDING);
	assert_true(g->started_at > 0);
	REFUSED(STORE_EINVAL, "can no longer be edited",
		store_campaign_edit(mk, n, &(struct store_campaign){.subject = "x"}, &err));
	OK(store_campaign_set_state(op1, g->id, STORE_CAMPAIGN_PAUSED, "5xx over 5%", &err_));
	store_campaign_free(&g);
	g = get(n);
	assert_int_equal(g->state, STORE_CAMPAIGN_PAUSED);
	assert_string_equal(g->pause_reason, "5xx over 5%");
	/* The worker does not undo an operator's pause. */
	REFUSED(STORE_EINVAL, "cannot become sending",
		store_campaign_set_state(op1, g->id, STORE_CAMPAIGN_SENDING, NULL, &err));
	OK(store_campaign_resume(op2, n, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_SENDING);
	OK(store_campaign_set_state(op1, g->id, STORE_CAMPAIGN_SENT, "done", &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_SENT);
	REFUSED(STORE_EINVAL, "over already", store_campaign_cancel(op1, n, &err));
	REFUSED(STORE_EINVAL, NULL,
		store_campaign_set_state(op1, g->id, STORE_CAMPAIGN_SENDING, NULL, &err));
	REFUSED(STORE_EINVAL, NULL,
		store_campaign_set_state(op1, g->id, STORE_CAMPAIGN_FAILED, NULL, &err));
	store_campaign_free(&g);

	/* Cancel from review; nothing moves a cancelled campaign. */
	add(mk, "c-cancel", "news", NULL);
	OK(store_campaign_submit(mk, "c-cancel", &err_));
	REFUSED(STORE_EDENIED, "campaigns.send", store_campaign_cancel(mk, "c-cancel", &err));
	OK(store_campaign_cancel(op1, "c-cancel", &err_));
	assert_int_equal(state_of("c-cancel"), STORE_CAMPAIGN_CANCELLED);
	REFUSED(STORE_EINVAL, NULL, store_campaign_submit(mk, "c-cancel", &err));
	REFUSED(STORE_EINVAL, NULL, store_campaign_cancel(op1, "c-cancel", &err));
	REFUSED(
	    STORE_EINVAL, NULL,
	    store_campaign_edit(mk, "c-cancel", &(struct store_campaign){.subject = "x"}, &err));
	REFUSED(STORE_ENOTFOUND, "no campaign", store_campaign_submit(mk, "c-none", &err));

	/* Every move is in the audit trail, and so are the refusals. */
	assert_int_equal(audited("campaign.submit", n, "ok"), 2);
	assert_int_equal(audited("campaign.reject", n, "ok"), 1);
	assert_int_equal(audited("campaign.approve", n, "ok"), 1);
	assert_int_equal(audited("campaign.schedule", n, "ok"), 1);
	assert_int_equal(audited("campaign.pause", n, "ok"), 1);
	assert_int_equal(audited("campaign.resume", n, "ok"), 2);
	assert_int_equal(audited("campaign.state", n, "ok"), 3);
	assert_int_equal(audited("campaign.cancel", "c-cancel", "ok"), 1);
}

static void test_four_eyes(void **state)
{
	const char *n = "c-boss";

	(void)state;
	/* boss holds every permission, yet may not approve what boss wrote. */
	add(boss, n, "news", NULL);
	OK(store_campaign_submit(boss, n, &err_));
	REFUSED(STORE_EDENIED, "you wrote this campaign; another user must approve it",
		store_campaign_approve(boss, n, H0, SIG, NULL, &err));
	REFUSED(STORE_EDENIED, "another user must reject it",
		store_campaign_reject(boss, n, "meh", &err));
	assert_int_equal(audited("campaign.approve", n, "denied"), 1);
	assert_int_equal(approvals(n), 0);
	assert_int_equal(state_of(n), STORE_CAMPAIGN_IN_REVIEW);
	OK(store_campaign_approve(op1, n, H0, SIG, NULL, &err_));
	REFUSED(STORE_EDENIED, "another user must schedule it",
		store_campaign_schedule(boss, n, 0, H1, SIG, &err));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_APPROVED);
	/* Anyone else with both permissions may schedule: it replaces the approvals. */
	OK(store_campaign_schedule(op2, n, 0, H1, SIG, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_SCHEDULED);
	assert_int_equal(approvals(n), 1);
}

static void test_edit_drops_approvals(void **state)
{
	struct store_campaign ch = {0}, *g;
	const char *n = "c-edit";

	(void)state;
	add(mk, n, "news", NULL);
	OK(store_campaign_submit(mk, n, &err_));
	OK(store_campaign_approve(op1, n, H0, SIG, NULL, &err_));
	assert_int_equal(approvals(n), 1);
	ch.subject = "A quieter subject";
	REFUSED(STORE_EDENIED, NULL, store_campaign_edit(vw, n, &ch, &err));
	REFUSED(STORE_EUSAGE, "nothing to change",
		store_campaign_edit(mk, n, &(struct store_campaign){0}, &err));
	OK(store_campaign_edit(mk, n, &ch, &err_));
	g = get(n);
	assert_int_equal(g->state, STORE_CAMPAIGN_DRAFT);
	assert_int_equal(g->version, 2);
	assert_string_equal(g->subject, "A quieter subject");
	store_campaign_free(&g);
	assert_int_equal(approvals(n), 0);

	/* From scheduled too; a segment of another list is refused; "" removes it. */
	OK(store_campaign_submit(mk, n, &err_));
	OK(store_campaign_approve(op1, n, H0, SIG, NULL, &err_));
	OK(store_campaign_schedule(op2, n, 0, H1, SIG, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_SCHEDULED);
	memset(&ch, 0, sizeof(ch));
	ch.list = "news";
	ch.segment = "elsewhere";
	REFUSED(STORE_EINVAL, "belongs to the list other", store_campaign_edit(mk, n, &ch, &err));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_SCHEDULED);
	assert_int_equal(approvals(n), 1);
	ch.list = NULL;
	ch.segment = "tokyo";
	OK(store_campaign_edit(mk, n, &ch, &err_));
	g = get(n);
	assert_int_equal(g->state, STORE_CAMPAIGN_DRAFT);
	assert_string_equal(g->segment, "tokyo");
	assert_int_equal(g->version, 3);
	store_campaign_free(&g);
	assert_int_equal(approvals(n), 0);
	ch.segment = "";
	OK(store_campaign_edit(mk, n, &ch, &err_));
	g = get(n);
	assert_null(g->segment);
	assert_null(g->segment_expr);
	store_campaign_free(&g);
	assert_int_equal(audited("campaign.edit", n, "ok"), 3);
}

static void test_two_approvals(void **state)
{
	struct store_campaign *g;
	const char *n = "c-two";

	(void)state;
	OK(store_config_set(adm, "approvals.required", "2", &err_));
	add(mk, n, "news", NULL);
	OK(store_config_set(adm, "approvals.required", "1", &err_));
	g = get(n);
	assert_int_equal(g->approvals_needed, 2); /* fixed when created */
	store_campaign_free(&g);
	OK(store_campaign_submit(mk, n, &err_));
	OK(store_campaign_approve(op1, n, H0, SIG, NULL, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_IN_REVIEW);
	REFUSED(STORE_EEXIST, "approved this campaign already",
		store_campaign_approve(op1, n, H0, SIG, NULL, &err));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_IN_REVIEW);
	OK(store_campaign_approve(op2, n, H0, SIG, NULL, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_APPROVED);
	assert_int_equal(approvals(n), 2);

	/*
	 * A new schedule is new content: op1's approval of it replaces both, one
	 * is too few, back to review. op2 approves the same content; op2 then
	 * schedules the same time: both approvals of that content stand.
	 */
	OK(store_campaign_schedule(op1, n, 2000000000, H1, SIG, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_IN_REVIEW);
	assert_int_equal(approvals(n), 1);
	OK(store_campaign_approve(op2, n, H1, SIG, NULL, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_APPROVED);
	OK(store_campaign_schedule(op2, n, 2000000000, H1, SIG, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_SCHEDULED);
	assert_int_equal(approvals(n), 2);
}

static int due_cb(const struct store_campaign *c, void *arg)
{
	int *found = arg;

	if (strcmp(c->name, "c-due") == 0)
		*found = 1;
	return 0;
}

static void test_due(void **state)
{
	int found = 0;
	time_t now = time(NULL);

	(void)state;
	add(mk, "c-due", "news", NULL);
	OK(store_campaign_submit(mk, "c-due", &err_));
	OK(store_campaign_approve(op1, "c-due", H0, SIG, NULL, &err_));
	OK(store_campaign_due(op1, now, due_cb, &found, &err_));
	assert_int_equal(found, 0); /* approved is not scheduled */
	OK(store_campaign_schedule(op1, "c-due", now + 3600, H1, SIG, &err_));
	OK(store_campaign_due(op1, now, due_cb, &found, &err_));
	assert_int_equal(found, 0);
	OK(store_campaign_due(op1, now + 3600, due_cb, &found, &err_));
	assert_int_equal(found, 1);
	found = 0;
	OK(store_campaign_pause(op1, "c-due", NULL, &err_));
	OK(store_campaign_due(op1, now + 3600, due_cb, &found, &err_));
	assert_int_equal(found, 0);
}

/* ---- The queue --------------------------------------------------------------- */

struct seen {
	char emails[64][64];
	int64_t ids[64];
	int n, stop_after;
};

static int seen_cb(const struct store_rcpt *r, void *arg)
{
	struct seen *s = arg;
	size_t i;

	assert_true(s->n < 64);
	snprintf(s->emails[s->n], sizeof(s->emails[0]), "%s", r->email);
	s->ids[s->n++] = r->subscriber;
	assert_string_equal(r->domain, strrchr(r->email, '@') + 1);
	assert_string_equal(r->name, "Name");
	assert_true(r->attempts >= 1);
	for (i = 0; i < r->nattrs; i++)
		if (strcmp(r->attrs[i].key, "city") == 0)
			break;
	assert_true(i < r->nattrs);
	return s->stop_after > 0 && s->n >= s->stop_after;
}

static int64_t id_of(const char *name)
{
	struct store_campaign *c = get(name);
	int64_t id = c->id;

	store_campaign_free(&c);
	return id;
}

static int has(const struct seen *s, const char *email)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->emails[i], email) == 0)
			return 1;
	return 0;
}

static struct store_queue_stats stats(int64_t id)
{
	struct store_queue_stats q;

	OK(store_queue_stats(vw, id, &q, &err_));
	return q;
}

static void test_fill(void **state)
{
	struct seen s = {0};
	int64_t n = -1, id;

	(void)state;
	add(mk, "q-tokyo", "news", "tokyo");
	add(mk, "q-all", "news", NULL);
	id = id_of("q-tokyo");
	REFUSED(STORE_EDENIED, "campaigns.send", store_queue_fill(mk, id, &n, &err));
	OK(store_queue_fill(op1, id, &n, &err_));
	/* a only: b is in Osaka, c unsubscribed, d and e suppressed, f on another list. */
	assert_int_equal(n, 1);
	OK(store_queue_claim(op1, id, time(NULL), 10, NULL, seen_cb, &s, &err_));
	assert_int_equal(s.n, 1);
	assert_string_equal(s.emails[0], "a@example.com");

	id = id_of("q-all");
	OK(store_queue_fill(op1, id, &n, &err_));
	assert_int_equal(n, 2);
	/* Fixed once: a newcomer does not join, and nobody is queued twice. */
	person("g@example.com", "news", "Kyoto");
	OK(store_queue_fill(op1, id, &n, &err_));
	assert_int_equal(n, 2);
	assert_int_equal(stats(id).total, 2);
	assert_int_equal(stats(id).count[STORE_RCPT_QUEUED], 2);
	memset(&s, 0, sizeof(s));
	OK(store_queue_claim(op1, id, time(NULL), 10, NULL, seen_cb, &s, &err_));
	assert_int_equal(s.n, 2);
	assert_true(has(&s, "a@example.com") && has(&s, "b@example.com"));
	assert_false(has(&s, "g@example.com"));
	assert_int_equal(audited("campaign.queue", "q-all", "ok"), 1);
	OK(store_subscriber_unsubscribe(mk, "g@example.com", NULL, &err_));
}

#define BIG 40

/* A list "bulk" of BIG people, half at x.example and half at y.example, and its campaign. */
static int64_t bulk(const char *name)
{
	static int made;
	char email[64];
	int64_t id, n;
	int i;

	if (!made) {
		OK(store_list_add(mk, "bulk", "Bulk", "", &err_));
		for (i = 0; i < BIG; i++) {
			snprintf(email, sizeof(email), "p%02d@%s.example", i, i % 2 ? "y" : "x");
			person(email, "bulk", "Nara");
		}
		made = 1;
	}
	add(mk, name, "bulk", NULL);
	id = id_of(name);
	OK(store_queue_fill(op1, id, &n, &err_));
	assert_int_equal(n, BIG);
	return id;
}

static void test_claim(void **state)
{
	struct seen s = {0};
	const char *const not_x[] = {"x.example", NULL};
	unsigned char given[BIG] = {0};
	int64_t id = bulk("q-claim");
	struct store_queue_stats q;
	int i, total = 0;

	(void)state;
	REFUSED(STORE_EDENIED, NULL,
		store_queue_claim(mk, id, time(NULL), 5, NULL, seen_cb, &s, &err));
	assert_int_equal(s.n, 0);
	/* Leaving x.example out hands out only y.example. */
	OK(store_queue_claim(op1, id, time(NULL), 5, not_x, seen_cb, &s, &err_));
	assert_int_equal(s.n, 5);
	for (i = 0; i < s.n; i++)
		assert_non_null(strstr(s.emails[i], "@y.example"));
	q = stats(id);
	assert_int_equal(q.count[STORE_RCPT_INFLIGHT], 5);
	assert_int_equal(q.count[STORE_RCPT_QUEUED], BIG - 5);
	/* A callback that stops early leaves the rest queued, not in flight. */
	total = s.n;
	for (i = 0; i < s.n; i++)
		given[s.ids[i] % BIG]++;
	memset(&s, 0, sizeof(s));
	s.stop_after = 3;
	OK(store_queue_claim(op1, id, time(NULL), 8, NULL, seen_cb, &s, &err_));
	assert_int_equal(s.n, 3);
	q = stats(id);
	assert_int_equal(q.count[STORE_RCPT_INFLIGHT], 8);
	assert_int_equal(q.count[STORE_RCPT_QUEUED], BIG - 8);
	/* Claim the rest in small batches: nobody twice, everybody once. */
	for (;;) {
		int k;

		total += s.n;
		for (k = 0; k < s.n; k++)
			given[s.ids[k] % BIG]++;
		memset(&s, 0, sizeof(s));
		OK(store_queue_claim(op1, id, time(NULL), 7, NULL, seen_cb, &s, &err_));
		if (s.n == 0)
			break;
	}
	assert_int_equal(total, BIG);
	for (i = 0; i < BIG; i++)
		assert_int_equal(given[i], 1);
	q = stats(id);
	assert_int_equal(q.count[STORE_RCPT_INFLIGHT], BIG);
	assert_int_equal(q.total, BIG);
}

static void test_claim_skips_leavers(void **state)
{
	struct seen s = {0};
	struct store_queue_stats q;
	int64_t id, n;

	(void)state;
	OK(store_list_add(mk, "leave", "Leave", "", &err_));
	person("stay@example.com", "leave", "Nara");
	person("unsub@example.com", "leave", "Nara");
	person("complain@example.com", "leave", "Nara");
	person("gone@gone.example", "leave", "Nara");
	add(mk, "q-leave", "leave", NULL);
	id = id_of("q-leave");
	OK(store_queue_fill(op1, id, &n, &err_));
	assert_int_equal(n, 4);
	/* Unsubscribed and suppressed after the queue was fixed: not sent to. */
	OK(store_subscriber_unsubscribe(mk, "unsub@example.com", "leave", &err_));
	OK(store_suppress_add(mk, "complain@example.com", "complaint", &err_));
	OK(store_suppress_add(mk, "@gone.example", "domain gone", &err_));
	OK(store_queue_claim(op1, id, time(NULL), 10, NULL, seen_cb, &s, &err_));
	assert_int_equal(s.n, 1);
	assert_string_equal(s.emails[0], "stay@example.com");
	q = stats(id);
	assert_int_equal(q.count[STORE_RCPT_FAILED], 3);
	assert_int_equal(q.count[STORE_RCPT_INFLIGHT], 1);
	assert_int_equal(q.count[STORE_RCPT_QUEUED], 0);
}

static void test_recover(void **state)
{
	struct seen s = {0}, t = {0};
	struct store_queue_stats q;
	int64_t id = bulk("q-recover"), other = bulk("q-recover2"), n = -1;

	(void)state;
	OK(store_queue_recover(op2, &n, &err_)); /* what earlier tests left in flight */
	OK(store_queue_claim(op1, id, time(NULL), 6, NULL, seen_cb, &s, &err_));
	OK(store_queue_claim(op1, other, time(NULL), 2, NULL, seen_cb, &t, &err_));
	OK(store_queue_result(op1, id, s.ids[0], STORE_RCPT_SENT, "250 ok", "<m0@x>", 0, &err_));
	OK(store_queue_result(op1, id, s.ids[1], STORE_RCPT_FAILED, "550 no", NULL, 0, &err_));
	/* The worker dies here; on restart the four still in flight here and two there are
	 * uncertain. */
	REFUSED(STORE_EDENIED, NULL, store_queue_recover(mk, &n, &err));
	OK(store_queue_recover(op2, &n, &err_));
	assert_int_equal(n, 6);
	q = stats(id);
	assert_int_equal(q.count[STORE_RCPT_UNCERTAIN], 4);
	assert_int_equal(q.count[STORE_RCPT_SENT], 1);
	assert_int_equal(q.count[STORE_RCPT_FAILED], 1);
	assert_int_equal(q.count[STORE_RCPT_INFLIGHT], 0);
	assert_int_equal(q.count[STORE_RCPT_QUEUED], BIG - 6);
	assert_int_equal(stats(other).count[STORE_RCPT_UNCERTAIN], 2);
	OK(store_queue_recover(op2, &n, &err_));
	assert_int_equal(n, 0);
	/* Uncertain rows are not claimed again until retried. */
	memset(&t, 0, sizeof(t));
	OK(store_queue_claim(op1, other, time(NULL), BIG, NULL, seen_cb, &t, &err_));
	assert_int_equal(t.n, BIG - 2);
	assert_int_equal(audited("campaign.recover", "", "ok"), 2);
}

static void test_retry_and_deferred(void **state)
{
	struct seen s = {0};
	struct store_queue_stats q;
	int64_t id = bulk("q-retry"), n = -1;
	time_t now = time(NULL);
	struct store_subscriber *sub = NULL;
	size_t i;
	int sent_events = 0, failed_events = 0;

	(void)state;
	OK(store_queue_claim(op1, id, now, 10, NULL, seen_cb, &s, &err_));
	OK(store_queue_result(op1, id, s.ids[0], STORE_RCPT_SENT, "250 ok", "<m@x>", 0, &err_));
	OK(store_queue_result(op1, id, s.ids[1], STORE_RCPT_FAILED, "550 5.1.1 no such user", NULL,
			      0, &err_));
	OK(store_queue_result(op1, id, s.ids[2], STORE_RCPT_FAILED, "554 5.7.1 spam", NULL, 0,
			      &err_));
	OK(store_queue_result(op1, id, s.ids[3], STORE_RCPT_DEFERRED, "451 4.7.1 greylisted", NULL,
			      now + 600, &err_));
	OK(store_queue_result(op1, id, s.ids[4], STORE_RCPT_QUEUED, NULL, NULL, 0, &err_));
	/* A connection dropped after the data: the worker records it uncertain. */
	OK(store_queue_result(op1, id, s.ids[5], STORE_RCPT_UNCERTAIN, "smtp: connection dropped",
			      "<m5@x>", 0, &err_));
	REFUSED(STORE_EUSAGE, NULL,
		store_queue_result(op1, id, s.ids[6], STORE_RCPT_INFLIGHT, NULL, NULL, 0, &err));
	REFUSED(STORE_ENOTFOUND, NULL,
		store_queue_result(op1, id, 999999, STORE_RCPT_SENT, "250", NULL, 0, &err));
	OK(store_queue_recover(op1, &n, &err_)); /* s.ids[6..9] become uncertain too */
	q = stats(id);
	assert_int_equal(q.count[STORE_RCPT_SENT], 1);
	assert_int_equal(q.count[STORE_RCPT_FAILED], 2);
	assert_int_equal(q.count[STORE_RCPT_DEFERRED], 1);
	assert_int_equal(q.count[STORE_RCPT_UNCERTAIN], 5);
	assert_int_equal(q.count[STORE_RCPT_QUEUED], BIG - 9);
	assert_int_equal(q.sent_last_minute, 1);
	assert_int_equal(q.next_retry, now + 600);

	/* The history of the person sent to, and of one who failed. */
	OK(store_subscriber_get(op1, s.emails[0], &sub, &err_));
	for (i = 0; i < sub->nevents; i++)
		sent_events += strcmp(sub->events[i].event, "sent") == 0 &&
			       strcmp(sub->events[i].details, "q-retry") == 0;
	store_subscriber_free(&sub);
	OK(store_subscriber_get(op1, s.emails[1], &sub, &err_));
	for (i = 0; i < sub->nevents; i++)
		failed_events += strcmp(sub->events[i].event, "failed") == 0 &&
				 strstr(sub->events[i].details, "5.1.1") != NULL;
	store_subscriber_free(&sub);
	assert_int_equal(sent_events, 1);
	assert_int_equal(failed_events, 1);

	/* The deferred row waits for its time, then comes first. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	OK(store_queue_claim(op1, id, now + 599, 1, NULL, seen_cb, &s, &err_));
	assert_int_equal(stats(id).count[STORE_RCPT_DEFERRED], 1);
	OK(store_queue_result(op1, id, s.ids[0], STORE_RCPT_QUEUED, NULL, NULL, 0, &err_));
	memset(&s, 0, sizeof(s));
	OK(store_queue_claim(op1, id, now + 600, 1, NULL, seen_cb, &s, &err_));
	assert_int_equal(stats(id).count[STORE_RCPT_DEFERRED], 0);
	OK(store_queue_result(op1, id, s.ids[0], STORE_RCPT_DEFERRED, "451 again", NULL, now + 1200,
			      &err_));

	/* Retry by state. */
	REFUSED(STORE_EUSAGE, NULL, store_queue_retry(op1, "q-retry", 0, &n, &err));
	REFUSED(STORE_EUSAGE, NULL,
		store_queue_retry(op1, "q-retry", 1u << STORE_RCPT_SENT, &n, &err));
	REFUSED(STORE_EDENIED, NULL,
		store_queue_retry(mk, "q-retry", 1u << STORE_RCPT_FAILED, &n, &err));
	OK(store_queue_retry(op1, "q-retry", 1u << STORE_RCPT_FAILED, &n, &err_));
	assert_int_equal(n, 2);
	q = stats(id);
	assert_int_equal(q.count[STORE_RCPT_FAILED], 0);
	assert_int_equal(q.count[STORE_RCPT_UNCERTAIN], 5);
	assert_int_equal(q.count[STORE_RCPT_DEFERRED], 1);
	OK(store_queue_retry(op1, "q-retry", 1u << STORE_RCPT_UNCERTAIN | 1u << STORE_RCPT_DEFERRED,
			     &n, &err_));
	assert_int_equal(n, 6);
	q = stats(id);
	assert_int_equal(q.count[STORE_RCPT_QUEUED], BIG - 1);
	assert_int_equal(q.count[STORE_RCPT_SENT], 1);
	assert_int_equal(q.next_retry, 0);
	assert_int_equal(audited("campaign.retry", "q-retry", "ok"), 2);
}

static void test_sent_since(void **state)
{
	struct seen s = {0};
	int64_t id = bulk("q-since"), before = -1, after = -1, later = -1;
	time_t t0 = time(NULL);
	int i;

	(void)state;
	OK(store_sent_since(op1, t0 - 5, &before, &err_));
	OK(store_queue_claim(op1, id, t0, 4, NULL, seen_cb, &s, &err_));
	for (i = 0; i < 3; i++)
		OK(store_queue_result(op1, id, s.ids[i], STORE_RCPT_SENT, "250", NULL, 0, &err_));
	OK(store_queue_result(op1, id, s.ids[3], STORE_RCPT_FAILED, "550", NULL, 0, &err_));
	OK(store_sent_since(op1, t0 - 5, &after, &err_));
	assert_int_equal(after - before, 3);
	OK(store_sent_since(op1, t0 + 3600, &later, &err_));
	assert_int_equal(later, 0);
}

struct errs {
	char email[8][64], reply[8][64];
	int n;
};
static int errs_cb(const struct store_rcpt_error *e, void *arg)
{
	struct errs *x = arg;

	assert_true(x->n < 8);
	snprintf(x->email[x->n], sizeof(x->email[0]), "%s", e->email);
	snprintf(x->reply[x->n], sizeof(x->reply[0]), "%s", e->reply);
	assert_non_null(strchr(e->time, 'T'));
	x->n++;
	return 0;
}

static void test_errors_masked(void **state)
{
	struct seen s = {0};
	struct errs full = {0}, masked = {0};
	int64_t id = bulk("q-errors");
	int i;

	(void)state;
	OK(store_queue_claim(op1, id, time(NULL), 3, NULL, seen_cb, &s, &err_));
	OK(store_queue_result(op1, id, s.ids[0], STORE_RCPT_FAILED, "550 gone", NULL, 0, &err_));
	OK(store_queue_result(op1, id, s.ids[1], STORE_RCPT_DEFERRED, "421 later", NULL,
			      time(NULL) + 60, &err_));
	OK(store_queue_result(op1, id, s.ids[2], STORE_RCPT_SENT, "250 ok", NULL, 0, &err_));
	OK(store_queue_errors(op1, id, 10, errs_cb, &full, &err_));
	OK(store_queue_errors(vw, id, 10, errs_cb, &masked, &err_));
	assert_int_equal(full.n, 2);
	assert_int_equal(masked.n, 2);
	for (i = 0; i < 2; i++) {
		assert_true(has(&s, full.email[i]));
		assert_non_null(strstr(masked.email[i], "***@"));
		assert_false(has(&s, masked.email[i]));
		assert_true(strcmp(full.reply[i], "550 gone") == 0 ||
			    strcmp(full.reply[i], "421 later") == 0);
	}
	memset(&full, 0, sizeof(full));
	OK(store_queue_errors(op1, id, 1, errs_cb, &full, &err_));
	assert_int_equal(full.n, 1);
}

/* What store_queue_result costs: the worker calls it once per message. */
static void test_result_rate(void **state)
{
	struct seen s = {0};
	struct timespec a, b;
	int64_t id = bulk("q-rate");
	double secs;
	int i, k, n = 0;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (k = 0; k < 25; k++) {
		memset(&s, 0, sizeof(s));
		OK(store_queue_claim(op1, id, time(NULL), BIG, NULL, seen_cb, &s, &err_));
		assert_int_equal(s.n, BIG);
		for (i = 0; i < s.n; i++, n++)
			OK(store_queue_result(op1, id, s.ids[i], STORE_RCPT_FAILED, "550", NULL, 0,
					      &err_));
		OK(store_queue_retry(op1, "q-rate", 1u << STORE_RCPT_FAILED, &(int64_t){0}, &err_));
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	print_message("store_queue_result (with claims): %d in %.2fs, %.0f/s (sanitizer build)\n",
		      n, secs, n / secs);
	assert_int_equal(n, 25 * BIG);
}

/*
 * The statements the store keeps for the worker run for every message: none
 * of them may build a temporary b-tree each time.
 */
static void test_worker_statements_build_no_btree(void **state)
{
	struct seen s = {0};
	int64_t id = bulk("q-plain");
	sqlite3_stmt *x;
	int kept = 0;

	(void)state;
	OK(store_queue_claim(op1, id, time(NULL), 5, NULL, seen_cb, &s, &err_));
	assert_int_equal(s.n, 5);
	OK(store_queue_result(op1, id, s.ids[0], STORE_RCPT_SENT, "250 ok", "<k@x>", 0, &err_));
	/* What is still prepared on the connection is what queue.c keeps. */
	for (x = sqlite3_next_stmt(op1->db, NULL); x != NULL; x = sqlite3_next_stmt(op1->db, x)) {
		kept++;
		if (builds_btree(op1->db, sqlite3_sql(x)))
			fail_msg("builds a b-tree each run: %s", sqlite3_sql(x));
	}
	assert_int_equal(kept, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add),
	    cmocka_unit_test(test_state_machine),
	    cmocka_unit_test(test_four_eyes),
	    cmocka_unit_test(test_edit_drops_approvals),
	    cmocka_unit_test(test_two_approvals),
	    cmocka_unit_test(test_due),
	    cmocka_unit_test(test_fill),
	    cmocka_unit_test(test_claim),
	    cmocka_unit_test(test_claim_skips_leavers),
	    cmocka_unit_test(test_recover),
	    cmocka_unit_test(test_retry_and_deferred),
	    cmocka_unit_test(test_sent_since),
	    cmocka_unit_test(test_errors_masked),
	    cmocka_unit_test(test_result_rate),
	    cmocka_unit_test(test_worker_statements_build_no_btree),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
