/*
 * The send queue against a real encrypted store with real users: the
 * recipients fixed into the queue, claims that never hand a row out twice,
 * crash recovery, retries, counts, masked errors, and the statements the
 * worker runs for every message.
 */
#include "store/private.h"
#include "tests/store/campaign_fixture.h"
#include "tests/store/explain.h"

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
	OK(store_subscriber_unsubscribe(mk, "g@example.com", NULL, NULL, &err_));
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
	OK(store_subscriber_unsubscribe(mk, "unsub@example.com", "leave", NULL, &err_));
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

static void test_recover(void **state)
{
	struct seen s = {0}, t = {0};
	struct store_queue_stats q;
	int64_t id = bulk("q-recover"), other = bulk("q-recover2"), n = -1;
	struct errs errs = {0};
	char *names = NULL;
	int i;

	(void)state;
	OK(store_queue_recover(op2, &n, NULL, &err_)); /* what earlier tests left in flight */
	OK(store_queue_claim(op1, id, time(NULL), 6, NULL, seen_cb, &s, &err_));
	OK(store_queue_claim(op1, other, time(NULL), 2, NULL, seen_cb, &t, &err_));
	OK(store_queue_result(op1, id, s.ids[0], STORE_RCPT_SENT, "250 ok", "<m0@x>", 0, &err_));
	OK(store_queue_result(op1, id, s.ids[1], STORE_RCPT_FAILED, "550 no", NULL, 0, &err_));
	/* The worker dies here; on restart the four still in flight here and two there are
	 * uncertain. */
	REFUSED(STORE_EDENIED, NULL, store_queue_recover(mk, &n, NULL, &err));
	OK(store_queue_recover(op2, &n, &names, &err_));
	assert_int_equal(n, 6);
	/* The log names the campaigns to retry, and each recovered row says why it is uncertain. */
	assert_string_equal(names, "q-recover q-recover2");
	free(names);
	OK(store_queue_errors(op1, id, 8, errs_cb, &errs, &err_));
	assert_int_equal(errs.n, 5);
	for (i = 0; i < errs.n; i++)
		if (strcmp(errs.reply[i], "550 no") != 0)
			assert_string_equal(errs.reply[i], STORE_RECOVERED_REPLY);
	q = stats(id);
	assert_int_equal(q.count[STORE_RCPT_UNCERTAIN], 4);
	assert_int_equal(q.count[STORE_RCPT_SENT], 1);
	assert_int_equal(q.count[STORE_RCPT_FAILED], 1);
	assert_int_equal(q.count[STORE_RCPT_INFLIGHT], 0);
	assert_int_equal(q.count[STORE_RCPT_QUEUED], BIG - 6);
	assert_int_equal(stats(other).count[STORE_RCPT_UNCERTAIN], 2);
	OK(store_queue_recover(op2, &n, &names, &err_));
	assert_int_equal(n, 0);
	assert_null(names);
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
	char sql[128];

	(void)state;
	OK(store_queue_claim(op1, id, now, 10, NULL, seen_cb, &s, &err_));
	OK(store_queue_result(op1, id, s.ids[0], STORE_RCPT_SENT, "250 ok", "<m@x>", 0, &err_));
	OK(store_queue_result(op1, id, s.ids[1], STORE_RCPT_FAILED, "552 5.2.2 mailbox full", NULL,
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
	OK(store_queue_recover(op1, &n, NULL, &err_)); /* s.ids[6..9] become uncertain too */
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
				 strstr(sub->events[i].details, "5.2.2") != NULL;
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

	/* A failed campaign can't send: retrying it is refused, and changes nothing. */
	OK(store_queue_result(op1, id, s.ids[0], STORE_RCPT_DEFERRED, "451 later", NULL, now,
			      &err_));
	snprintf(sql, sizeof(sql), "UPDATE campaigns SET state = 'failed' WHERE id = %lld",
		 (long long)id);
	assert_int_equal(sqlite3_exec(op1->db, sql, NULL, NULL, NULL), SQLITE_OK);
	n = -1;
	REFUSED(STORE_EINVAL, "can no longer send",
		store_queue_retry(op1, "q-retry", 1u << STORE_RCPT_DEFERRED, &n, &err));
	assert_int_equal(n, 0);
	assert_int_equal(stats(id).count[STORE_RCPT_DEFERRED], 1);
	assert_int_equal(audited("campaign.retry", "q-retry", "ok"), 2);
}

/* The state, attempts and reply of one queue row, as "state attempts reply". */
static void queue_row(int64_t campaign, int64_t subscriber, char *out, size_t n)
{
	sqlite3_stmt *q = NULL;

	assert_int_equal(sqlite3_prepare_v2(op1->db,
					    "SELECT state, attempts, coalesce(reply, '') FROM queue"
					    " WHERE campaign = ?1 AND subscriber = ?2",
					    -1, &q, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(q, 1, campaign);
	sqlite3_bind_int64(q, 2, subscriber);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	snprintf(out, n, "%d %d %s", sqlite3_column_int(q, 0), sqlite3_column_int(q, 1),
		 (const char *)sqlite3_column_text(q, 2));
	sqlite3_finalize(q);
}

/*
 * A claimed row that goes back to the queue unsent (over its domain's pace,
 * or withdrawn from the transport before it went): the attempt its claim
 * counted is given back, and the reply of its last real attempt stays.
 */
static void test_returned_unsent(void **state)
{
	struct seen s = {.stop_after = 1};
	int64_t id = bulk("q-unsent");
	time_t now = time(NULL);
	char row[600];

	(void)state;
	OK(store_queue_claim(op1, id, now, 1, NULL, seen_cb, &s, &err_));
	OK(store_queue_result(op1, id, s.ids[0], STORE_RCPT_DEFERRED, "451 4.7.1 greylisted", NULL,
			      now, &err_));
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	OK(store_queue_claim(op1, id, now, 1, NULL, seen_cb, &s,
			     &err_)); /* the deferred one, due */
	queue_row(id, s.ids[0], row, sizeof(row));
	assert_string_equal(row, "1 2 451 4.7.1 greylisted");
	OK(store_queue_result(op1, id, s.ids[0], STORE_RCPT_QUEUED, NULL, NULL, 0, &err_));
	queue_row(id, s.ids[0], row, sizeof(row));
	assert_string_equal(row, "0 1 451 4.7.1 greylisted");
	/* Claimed again, it is its second attempt, not its third. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	OK(store_queue_claim(op1, id, now, 1, NULL, seen_cb, &s, &err_));
	queue_row(id, s.ids[0], row, sizeof(row));
	assert_string_equal(row, "1 2 451 4.7.1 greylisted");
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

/* An erasure takes the person, not the campaign's counts or the day's sends; a
 * message in flight, which may still go out, stays counted as uncertain. */
static void test_erase_keeps_counts(void **state)
{
	struct seen s = {0};
	int64_t id = bulk("q-erase"), sent0 = -1, sent1 = -1;
	struct store_queue_stats q0, q1;
	time_t t0 = time(NULL);

	(void)state;
	OK(store_queue_claim(op1, id, t0, 3, NULL, seen_cb, &s, &err_));
	OK(store_queue_result(op1, id, s.ids[0], STORE_RCPT_SENT, "250", NULL, 0, &err_));
	OK(store_queue_result(op1, id, s.ids[1], STORE_RCPT_FAILED, "550", NULL, 0, &err_));
	q0 = stats(id);
	OK(store_sent_since(op1, t0 - 5, &sent0, &err_));
	/* The one sent, the one failed, and one still in flight. */
	OK(store_subscriber_erase(mk, s.emails[0], NULL, &err_));
	OK(store_subscriber_erase(mk, s.emails[1], NULL, &err_));
	OK(store_subscriber_erase(mk, s.emails[2], NULL, &err_));
	q1 = stats(id);
	OK(store_sent_since(op1, t0 - 5, &sent1, &err_));
	assert_int_equal(q1.count[STORE_RCPT_SENT], q0.count[STORE_RCPT_SENT]);
	assert_int_equal(q1.count[STORE_RCPT_FAILED], q0.count[STORE_RCPT_FAILED]);
	assert_int_equal(q1.sent_last_minute, q0.sent_last_minute);
	assert_int_equal(q1.count[STORE_RCPT_INFLIGHT], q0.count[STORE_RCPT_INFLIGHT] - 1);
	assert_int_equal(q1.count[STORE_RCPT_UNCERTAIN], q0.count[STORE_RCPT_UNCERTAIN] + 1);
	assert_int_equal(q1.total, q0.total);
	assert_int_equal(sent1, sent0);
	assert_int_equal(q0.count[STORE_RCPT_SENT], 1);
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

static void test_reply_bad_address(void **state)
{
	static const char *const bad[] = {
	    "550 5.1.1 no such user",
	    "550-5.1.1 The email account that you tried to reach does not exist.",
	    "550 5.1.1 <taro@example.com>: Recipient address rejected: User unknown",
	    "553 5.1.3 bad address syntax",
	    "550 5.1.10 null MX",
	    "550 5.1.2",
	};
	static const char *const not_bad[] = {
	    "554 5.7.1 spam",		   /* policy or reputation: not the address */
	    "550 5.7.515 DMARC",	   /* likewise */
	    "451 4.1.1 try later",	   /* transient */
	    "450 5.1.1 odd",		   /* a 4xx reply is transient whatever it says */
	    "550 no such user 5.1.1",	   /* the status is right after the code or nowhere */
	    "550 user unknown",		   /* no enhanced status */
	    "550 5.1.8 bad sender domain", /* the sender's address */
	    "550 5.1.7 bad sender",
	    "550 5.1.1x",
	    "550 5.1.",
	    "550 5.1.1234 too long",
	    "550 4.1.1 a class that does not match",
	    "5.1.1 no reply code",
	    "smtp: 127.0.0.1:2587 answered \"550 5.1.1 no such user\"",
	    "",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!store_reply_bad_address(bad[i]))
			fail_msg("not read as a bad address: %s", bad[i]);
	for (i = 0; i < sizeof(not_bad) / sizeof(not_bad[0]); i++)
		if (store_reply_bad_address(not_bad[i]))
			fail_msg("read as a bad address: %s", not_bad[i]);
	assert_false(store_reply_bad_address(NULL));
}

/* The details of the last audit record of action on object. */
struct audit_details {
	const char *object;
	char details[256];
};
static int details_cb(const struct store_audit_record *r, void *arg)
{
	struct audit_details *a = arg;

	if (strcmp(r->object, a->object) == 0)
		snprintf(a->details, sizeof(a->details), "%s", r->details);
	return 0;
}

static const char *audit_details(const char *action, const char *object)
{
	static struct audit_details a;
	struct store_audit_filter f = {.action = action};

	a.object = object;
	a.details[0] = '\0';
	OK(store_audit_log(adm, &f, details_cb, &a, &err_));
	return a.details;
}

static int count_bounced_cb(const struct store_rcpt_error *e, void *arg)
{
	*(int *)arg += strstr(e->reply, "not sent: unsubscribed, bounced or suppressed") != NULL;
	return 0;
}

static const char *status_of(const char *email, const char *event, char *details, size_t n)
{
	static char status[16];
	struct store_subscriber *sub = NULL;
	size_t i;

	details[0] = '\0';
	OK(store_subscriber_get(op1, email, &sub, &err_));
	snprintf(status, sizeof(status), "%s", sub->status);
	for (i = 0; i < sub->nevents; i++)
		if (strcmp(sub->events[i].event, event) == 0)
			snprintf(details, n, "%s|%s", sub->events[i].list, sub->events[i].details);
	store_subscriber_free(&sub);
	return status;
}

/*
 * A hard bounce (5.1.x) makes the person bounced, in their history and the
 * audit trail: a campaign whose queue holds them already skips them, and a
 * later one does not queue them. 5.7.x, 4.x.x and a 5.1.1 that is not the
 * reply's status change nothing.
 */
static void test_hard_bounce(void **state)
{
	static const struct {
		const char *email, *reply;
		enum store_rcpt_state state;
		bool bounced;
	} cases[] = {
	    {"hb1@example.com", "550 5.1.1 no such user", STORE_RCPT_FAILED, true},
	    {"hb2@example.com", "550-5.1.1 <hb2@example.com> no such user 550 5.1.1 see the docs",
	     STORE_RCPT_FAILED, true},
	    {"hb3@example.com", "554 5.7.1 blocked by policy", STORE_RCPT_FAILED, false},
	    {"hb4@example.com", "451 4.1.1 try later", STORE_RCPT_DEFERRED, false},
	    {"hb5@example.com", "550 rejected: 5.1.1 said elsewhere", STORE_RCPT_FAILED, false},
	    {"hb6@example.com", "550 5.1.1 no such user", STORE_RCPT_SENT, false},
	};
	struct seen s = {0};
	struct store_queue_stats q;
	char details[512];
	int64_t c1, c2, c3, n = 0;
	size_t i;
	int k, bounces = 0;

	(void)state;
	OK(store_list_add(mk, "hb", "Bounces", "", &err_));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		person(cases[i].email, "hb", "Nara");
	add(mk, "hb-c1", "hb", NULL);
	add(mk, "hb-c2", "hb", NULL);
	add(mk, "hb-c3", "hb", NULL);
	c1 = id_of("hb-c1");
	c2 = id_of("hb-c2");
	c3 = id_of("hb-c3");
	OK(store_queue_fill(op1, c1, &n, &err_));
	OK(store_queue_fill(op1, c2, &n, &err_)); /* fixed before the bounces */
	assert_int_equal(n, 6);
	OK(store_queue_claim(op1, c1, time(NULL), 10, NULL, seen_cb, &s, &err_));
	assert_int_equal(s.n, 6);
	for (k = 0; k < s.n; k++)
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			if (strcmp(s.emails[k], cases[i].email) == 0)
				OK(store_queue_result(op1, c1, s.ids[k], cases[i].state,
						      cases[i].reply, NULL, time(NULL) + 600,
						      &err_));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *st = status_of(cases[i].email, "bounced", details, sizeof(details));

		assert_string_equal(st, cases[i].bounced ? "bounced" : "active");
		if (!cases[i].bounced) {
			assert_string_equal(details, "");
			continue;
		}
		bounces++;
		if (strncmp(details, "hb|hard bounce in hb-c1: 550", 28) != 0)
			fail_msg("%s: the event says \"%s\"", cases[i].email, details);
	}
	assert_int_equal(bounces, 2);
	q = stats(c1);
	assert_int_equal(q.count[STORE_RCPT_FAILED], 4);
	assert_int_equal(q.bounced, 2);
	/* In the audit trail, each address as its keyed hash, and the reply's codes alone: the
	 * server's words may quote the address. */
	store_address_hash(op1, "hb1@example.com", details);
	assert_int_equal(audited("subscriber.bounce", details, "ok"), 1);
	assert_string_equal(audit_details("subscriber.bounce", details),
			    "550 5.1.1 in campaign hb-c1");
	store_address_hash(op1, "hb2@example.com", details);
	assert_string_equal(audit_details("subscriber.bounce", details),
			    "550-5.1.1 in campaign hb-c1");
	store_address_hash(op1, "hb3@example.com", details);
	assert_int_equal(audited("subscriber.bounce", details, "ok"), 0);

	/* Queued before the bounces: skipped, marked failed, never handed out. */
	memset(&s, 0, sizeof(s));
	OK(store_queue_claim(op1, c2, time(NULL), 10, NULL, seen_cb, &s, &err_));
	assert_int_equal(s.n, 4);
	assert_false(has(&s, "hb1@example.com") || has(&s, "hb2@example.com"));
	bounces = 0;
	OK(store_queue_errors(op1, c2, 10, count_bounced_cb, &bounces, &err_));
	assert_int_equal(bounces, 2);
	/* Fixed after: they are not queued at all. */
	OK(store_queue_fill(op1, c3, &n, &err_));
	assert_int_equal(n, 4);
	/* A bounced person is not subscribed again by an add. */
	REFUSED(STORE_EEXIST, "bounced",
		store_subscriber_add(mk, "hb", "hb1@example.com", "Name", NULL, 0, NULL, &err));
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

/*
 * A person's history of sends: a message sent shows from its queue row, a
 * failure from the event it left, and a failure retried and then sent shows
 * both, in that order; no event row is written for a send.
 */
static void test_history_of_sends(void **state)
{
	struct seen s = {0};
	int64_t id = bulk("q-history"), n;
	struct store_subscriber *sub = NULL;
	char hist[512] = "";
	size_t i, len = 0;
	sqlite3_stmt *q = NULL;

	(void)state;
	s.stop_after = 1;
	OK(store_queue_claim(op1, id, time(NULL), 1, NULL, seen_cb, &s, &err_));
	OK(store_queue_result(op1, id, s.ids[0], STORE_RCPT_FAILED, "452 4.2.2 full, given up",
			      NULL, 0, &err_));
	OK(store_queue_retry(op1, "q-history", 1u << STORE_RCPT_FAILED, &n, &err_));
	assert_int_equal(n, 1);
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	OK(store_queue_claim(op1, id, time(NULL), 1, NULL, seen_cb, &s, &err_));
	OK(store_queue_result(op1, id, s.ids[0], STORE_RCPT_SENT, "250 ok", "<h@x>", 0, &err_));
	OK(store_subscriber_get(op1, s.emails[0], &sub, &err_));
	/* The person was sent to by the tests before: this campaign's part. */
	for (i = 0; i < sub->nevents; i++)
		if (strstr(sub->events[i].details, "q-history") != NULL)
			len += (size_t)snprintf(hist + len, sizeof(hist) - len, "%s %s %s|",
						sub->events[i].event, sub->events[i].list,
						sub->events[i].details);
	assert_string_equal(hist, "failed bulk q-history: 452 4.2.2 full, given up|"
				  "sent bulk q-history|");
	store_subscriber_free(&sub);
	assert_int_equal(sqlite3_prepare_v2(
			     op1->db, "SELECT count(*) FROM subscriber_events WHERE event = 'sent'",
			     -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(q, 0), 0);
	sqlite3_finalize(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fill),
	    cmocka_unit_test(test_claim),
	    cmocka_unit_test(test_claim_skips_leavers),
	    cmocka_unit_test(test_recover),
	    cmocka_unit_test(test_retry_and_deferred),
	    cmocka_unit_test(test_returned_unsent),
	    cmocka_unit_test(test_sent_since),
	    cmocka_unit_test(test_history_of_sends),
	    cmocka_unit_test(test_errors_masked),
	    cmocka_unit_test(test_result_rate),
	    cmocka_unit_test(test_worker_statements_build_no_btree),
	    cmocka_unit_test(test_reply_bad_address),
	    cmocka_unit_test(test_hard_bounce),
	    cmocka_unit_test(test_erase_keeps_counts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
