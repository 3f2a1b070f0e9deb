/*
 * tests/send/test_admit.c: what the worker checks before it sends (send/
 * admit.c), against a real encrypted store with real users, sending through
 * the file: transport.
 *
 * An approval made without the pre-send checks (as an older hato made them,
 * or anything calling the store directly) of a campaign whose messages would
 * lack the sender's postal address: the worker re-runs the legal checks,
 * pauses the campaign with the reason and writes nothing. The address then
 * set, the approval no longer covers what would be sent: the campaign stays
 * paused, now for a new review, and still nothing is written.
 */
#include <dirent.h>

#include "send/private.h"
#include "send/send.h"
#include "tests/store/campaign_fixture.h"

static char outdir[96];

static void set(const char *key, const char *value)
{
	OK(store_config_set(adm, key, value, &err_));
}

/* Files written by the file: transport. */
static int written(void)
{
	DIR *d = opendir(outdir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += strstr(e->d_name, ".eml") != NULL;
	closedir(d);
	return n;
}

static void run_worker(void)
{
	static volatile sig_atomic_t stop;
	struct send_worker_opts o = {0};
	char *err = NULL;

	o.once = true;
	o.stop = &stop;
	if (send_worker_run(op1, &o, &err) != SEND_OK)
		fail_msg("worker: %s", err ? err : "failed");
}

/* op1 approves and schedules `name` for now, signing its hash: no checks run. */
static void approve_unchecked(const char *name)
{
	struct store_campaign *c = get(name);
	unsigned char hash[32], sig[64];

	assert_int_equal(send_campaign_hash(op1, c, 0, hash, NULL), SEND_OK);
	OK(store_sign(op1, hash, 32, sig));
	OK(store_campaign_approve(op1, name, hash, sig, NULL, &err_));
	OK(store_campaign_schedule(op1, name, 0, hash, sig, &err_));
	store_campaign_free(&c);
}

static void test_legal_check_pauses(void **state)
{
	struct store_campaign *c;
	char *err = NULL, url[128];

	(void)state;
	snprintf(outdir, sizeof(outdir), "%s/out", dir);
	snprintf(url, sizeof(url), "file:%s", outdir);
	set("smtp.url", url);
	set("sender.from", "News <news@example.com>");
	set("sender.name", "Hato Ltd");
	set("sender.contact", "support@example.com");
	set("unsubscribe.url", "https://example.com/u/");
	/* sender.postal_address is not set. */
	add(mk, "g1", "news", NULL);
	OK(store_campaign_submit(mk, "g1", &err_));
	/* The checks refuse it now... */
	assert_int_equal(send_campaign_approve(op1, "g1", NULL, NULL, &err), SEND_EINVAL);
	assert_non_null(strstr(err, "sender-empty"));
	free(err);
	err = NULL;
	/* ...but an approval made without them reaches the worker. */
	approve_unchecked("g1");
	assert_int_equal(state_of("g1"), STORE_CAMPAIGN_SCHEDULED);
	run_worker();
	c = get("g1");
	assert_int_equal(c->state, STORE_CAMPAIGN_PAUSED);
	assert_non_null(strstr(c->pause_reason, "the pre-send checks failed"));
	assert_non_null(strstr(c->pause_reason, "postal address"));
	store_campaign_free(&c);
	assert_int_equal(written(), 0);
	assert_int_equal(audited("campaign.refused", "g1", "refused"), 1);

	/* The address set: the approval no longer covers the messages. */
	set("sender.postal_address", "1-2-3 Marunouchi, Tokyo");
	OK(store_campaign_resume(op1, "g1", &err_));
	run_worker();
	c = get("g1");
	assert_int_equal(c->state, STORE_CAMPAIGN_PAUSED);
	assert_non_null(strstr(c->pause_reason, "the approved content changed"));
	store_campaign_free(&c);
	assert_int_equal(written(), 0);
	assert_int_equal(audited("campaign.refused", "g1", "refused"), 2);
}

/*
 * An approval an earlier hato made (format 2: without the list's name and
 * send.dkim) does not hold, and the worker says it was the upgrade, not an
 * edit. The campaign pauses for a new review; nothing is sent.
 */
static void test_earlier_format(void **state)
{
	struct store_campaign *c;
	unsigned char hash[32], sig[64];
	int before = written();

	(void)state;
	add(mk, "g2", "news", NULL);
	OK(store_campaign_submit(mk, "g2", &err_));
	c = get("g2");
	assert_int_equal(send_campaign_hash_as(op1, c, 0, 2, hash, NULL), SEND_OK);
	store_campaign_free(&c);
	OK(store_sign(op1, hash, 32, sig));
	OK(store_campaign_approve(op1, "g2", hash, sig, NULL, &err_));
	OK(store_campaign_schedule(op1, "g2", 0, hash, sig, &err_));
	run_worker();
	c = get("g2");
	assert_int_equal(c->state, STORE_CAMPAIGN_PAUSED);
	assert_non_null(strstr(c->pause_reason, "made by an earlier version of hato"));
	store_campaign_free(&c);
	assert_int_equal(written(), before);
}

/*
 * A campaign whose segment was removed after it was made: the checks refuse
 * it (segment-missing) rather than count the whole list, so it can't be
 * approved; one approved without them is paused by the worker, which sends
 * nothing.
 */
static void test_segment_gone(void **state)
{
	struct store_campaign *c;
	struct send_campaign_checks k;
	char *err = NULL;
	int before = written();

	(void)state;
	set("send.dkim", "relay"); /* the legal checks pass */
	add(mk, "g3", "news", "tokyo");
	OK(store_segment_rm(mk, "tokyo", &err_));
	c = get("g3");
	assert_int_equal(send_check_campaign(mk, c, &k, &err), SEND_OK);
	assert_string_equal(k.audience_code, "segment-missing");
	assert_non_null(strstr(k.audience_error, "the segment tokyo no longer exists"));
	assert_true(k.errors > 0);
	send_campaign_checks_clear(&k);
	store_campaign_free(&c);
	OK(store_campaign_submit(mk, "g3", &err_));
	assert_int_equal(send_campaign_approve(op1, "g3", NULL, NULL, &err), SEND_EINVAL);
	assert_non_null(strstr(err, "segment-missing"));
	free(err);
	approve_unchecked("g3");
	run_worker();
	c = get("g3");
	assert_int_equal(c->state, STORE_CAMPAIGN_PAUSED);
	if (strstr(c->pause_reason, "the segment tokyo no longer exists") == NULL)
		fail_msg("paused: %s", c->pause_reason);
	store_campaign_free(&c);
	assert_int_equal(written(), before);
	assert_int_equal(audited("campaign.refused", "g3", "refused"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_legal_check_pauses),
	    cmocka_unit_test(test_earlier_format),
	    cmocka_unit_test(test_segment_gone),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
