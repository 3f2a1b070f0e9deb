/*
 * The consent records an erasure keeps (store/consent.c) against a real
 * encrypted store: until a month after the last mail to the person, as
 * Japan's Act on Specified Electronic Mail asks, shown by `subscriber data`
 * and deleted by the first login after that; and nothing kept for a person
 * no mail went to, or whose last mail is older than a month.
 */
#include "store/private.h"
#include "tests/store/campaign_fixture.h"

struct claimed {
	int64_t ids[8];
	char emails[8][64];
	int n;
};

static int claim_cb(const struct store_rcpt *r, void *arg)
{
	struct claimed *c = arg;

	assert_true(c->n < 8);
	c->ids[c->n] = r->subscriber;
	snprintf(c->emails[c->n++], sizeof(c->emails[0]), "%s", r->email);
	return 0;
}

/* Runs sql on the store, as an admin's session; fails the test when it fails. */
static void sql(const char *q)
{
	char *e = NULL;

	if (sqlite3_exec(adm->db, q, NULL, NULL, &e) != SQLITE_OK)
		fail_msg("%s: %s", q, e);
}

static int64_t count(const char *q)
{
	sqlite3_stmt *s = NULL;
	int64_t n = -1;

	assert_int_equal(sqlite3_prepare_v2(adm->db, q, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* What `subscriber data` writes for email, into buf; its status. */
static enum store_status data_of(const char *email, char *buf, size_t size)
{
	FILE *f = fmemopen(buf, size, "w");
	enum store_status s;
	char *e = NULL;

	assert_non_null(f);
	memset(buf, 0, size);
	s = store_subscriber_data(mk, email, f, &e);
	fclose(f);
	free(e);
	return s;
}

/*
 * Four people of one campaign: one mailed, one mailed 40 days ago, one whose
 * message failed, one never claimed. Erased, only the first leaves consent
 * records, until 31 days after the mail.
 */
static void test_held_after_a_mail(void **state)
{
	struct store_consent c = {.source = "web form",
				  .at = "2026-01-02T03:04:05Z",
				  .method = "double opt-in",
				  .text = "News, v3",
				  .ip = "192.0.2.7",
				  .version = "2026-01",
				  .confirmed = "2026-01-02T03:10:00Z"};
	struct store_attr a = {"city", "Nara"};
	struct claimed k = {0};
	struct store_campaign *cp;
	const char *const people[] = {"sent@example.jp", "old@example.jp", "failed@example.jp",
				      "never@example.jp"};
	char buf[4096], q[256];
	time_t held = -1, t0 = time(NULL);
	int64_t id, n;
	int i;

	(void)state;
	OK(store_list_add(mk, "held", "Held", "", &err_));
	for (i = 0; i < 4; i++)
		OK(store_subscriber_add(mk, "held", people[i], "Name", &a, 1, &c, &err_));
	add(mk, "c-held", "held", NULL);
	cp = get("c-held");
	id = cp->id;
	store_campaign_free(&cp);
	OK(store_queue_fill(op1, id, &n, &err_));
	assert_int_equal(n, 4);
	OK(store_queue_claim(op1, id, t0, 3, NULL, claim_cb, &k, &err_));
	assert_int_equal(k.n, 3);
	for (i = 0; i < k.n; i++)
		OK(store_queue_result(op1, id, k.ids[i],
				      strcmp(k.emails[i], "failed@example.jp") == 0
					  ? STORE_RCPT_FAILED
					  : STORE_RCPT_SENT,
				      "250", NULL, 0, &err_));
	snprintf(q, sizeof(q),
		 "UPDATE queue SET updated = updated - 40 * 86400 WHERE email = 'old@example.jp'");
	sql(q);

	OK(store_subscriber_erase(mk, "sent@example.jp", &held, &err_));
	assert_true(held >= t0 + 31 * 86400 && held <= time(NULL) + 31 * 86400);
	assert_int_equal(data_of("sent@example.jp", buf, sizeof(buf)), STORE_OK);
	assert_non_null(strstr(buf, "\"email\": \"sent@example.jp\""));
	assert_non_null(strstr(buf, "\"status\": \"erased\""));
	assert_non_null(strstr(buf, "\"consent_held_until\": \""));
	assert_non_null(strstr(buf, "\"list\": \"held\""));
	assert_non_null(strstr(buf, "\"source\": \"web form\""));
	assert_non_null(strstr(buf, "\"at\": \"2026-01-02T03:04:05Z\""));
	assert_non_null(strstr(buf, "\"text\": \"News, v3\""));
	assert_non_null(strstr(buf, "\"ip\": \"192.0.2.7\""));
	assert_non_null(strstr(buf, "\"version\": \"2026-01\""));
	assert_non_null(strstr(buf, "\"confirmed_at\": \"2026-01-02T03:10:00Z\""));
	/* Nothing else of the person: no name, attributes or history. */
	assert_null(strstr(buf, "Nara"));
	assert_null(strstr(buf, "\"history\""));
	for (i = 1; i < 4; i++) {
		OK(store_subscriber_erase(mk, people[i], &held, &err_));
		assert_int_equal(held, 0);
		assert_int_equal(data_of(people[i], buf, sizeof(buf)), STORE_ENOTFOUND);
	}
	assert_int_equal(count("SELECT count(*) FROM consent_held"), 1);
	assert_int_equal(count("SELECT count(*) FROM consent_held WHERE email = 'sent@example.jp'"),
			 1);
	/* The audit trail says what each erasure kept. */
	assert_int_equal(
	    count("SELECT count(*) FROM audit WHERE action = 'subscriber.erase' AND "
		  "details LIKE 'all data deleted but the consent records, held until %'"),
	    1);
	assert_int_equal(count("SELECT count(*) FROM audit WHERE action = 'subscriber.erase' AND "
			       "details LIKE 'all data deleted; %'"),
			 3);
}

/*
 * A message in flight as the erasure runs may still go out: the consent
 * records are kept, and the message is counted, as uncertain. A list
 * removed before the erasure left its consent records in the history:
 * they are kept too (found in QA).
 */
static void test_held_in_flight_and_removed_list(void **state)
{
	struct store_consent c = {.source = "shop",
				  .at = "2026-02-03T04:05:06Z",
				  .method = "paper form",
				  .text = "Sale letters",
				  .ip = ""};
	struct claimed k = {0};
	struct store_campaign *cp;
	struct store_queue_stats q;
	char buf[4096];
	time_t held = 0;
	int64_t id, n;

	(void)state;
	OK(store_list_add(mk, "fly", "Fly", "", &err_));
	OK(store_list_add(mk, "gone", "Gone", "", &err_));
	OK(store_subscriber_add(mk, "fly", "air@example.jp", "Air", NULL, 0, &c, &err_));
	OK(store_subscriber_add(mk, "gone", "air@example.jp", "Air", NULL, 0, &c, &err_));
	add(mk, "c-fly", "fly", NULL);
	cp = get("c-fly");
	id = cp->id;
	store_campaign_free(&cp);
	OK(store_queue_fill(op1, id, &n, &err_));
	OK(store_queue_claim(op1, id, time(NULL), 1, NULL, claim_cb, &k, &err_));
	assert_int_equal(k.n, 1); /* in flight, no outcome yet */
	OK(store_list_rm(mk, "gone", &err_));
	OK(store_subscriber_erase(mk, "air@example.jp", &held, &err_));
	assert_true(held > time(NULL) + 30 * 86400);
	assert_int_equal(data_of("air@example.jp", buf, sizeof(buf)), STORE_OK);
	assert_non_null(strstr(buf, "\"list\": \"fly\""));
	assert_non_null(strstr(buf, "\"text\": \"Sale letters\""));
	assert_non_null(strstr(buf, "\"list\": \"gone\""));
	assert_non_null(
	    strstr(buf, "consent kept: source \\\"shop\\\", given 2026-02-03T04:05:06Z"));
	OK(store_queue_stats(vw, id, &q, &err_));
	assert_int_equal(q.count[STORE_RCPT_UNCERTAIN], 1);
	assert_int_equal(q.count[STORE_RCPT_INFLIGHT], 0);
	assert_int_equal(q.total, 1);
}

/* Past its hold, the first login deletes the record, and says so in the trail. */
static void test_purged_at_login(void **state)
{
	struct store *st;
	char buf[4096];

	(void)state;
	sql("DELETE FROM consent_held WHERE email <> 'sent@example.jp'");
	assert_int_equal(count("SELECT count(*) FROM consent_held"), 1);
	/* A login before the hold ends keeps it. */
	st = login("vw", PW);
	store_close(&st);
	assert_int_equal(count("SELECT count(*) FROM consent_held"), 1);
	sql("UPDATE consent_held SET until = strftime('%s', 'now') - 1");
	st = login("vw", PW);
	store_close(&st);
	assert_int_equal(count("SELECT count(*) FROM consent_held"), 0);
	assert_int_equal(count("SELECT count(*) FROM audit WHERE action = 'consent.purge' AND "
			       "user = 'vw' AND details LIKE '1 consent record of erased people%'"),
			 1);
	assert_int_equal(data_of("sent@example.jp", buf, sizeof(buf)), STORE_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_held_after_a_mail),
	    cmocka_unit_test(test_held_in_flight_and_removed_list),
	    cmocka_unit_test(test_purged_at_login),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
