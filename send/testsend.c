/*
 * send/testsend.c: `campaign test`: one message of a campaign to one
 * address, now, through the configured transport.
 *
 * A test send skips the review, so it is kept from doing what a campaign
 * does: it never goes to an address that may not be mailed (suppressed,
 * erased, unsubscribed, bounced), it is marked as a test in its Subject and
 * a header, and each user may send SEND_TEST_DAILY_MAX of them in 24 hours,
 * counted from the audit trail: each is reserved there ("started") in the
 * same write transaction as the count, before it is sent, so tests run in
 * parallel can't pass the cap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send/private.h"
#include "send/send.h"
#include "send/transport.h"
#include "store/store.h"

struct test_ctx {
	char *reply;
	enum transport_outcome outcome;
	bool done, after_data;
};

static void test_done(void *arg, void *msg_arg, const struct transport_result *r)
{
	struct test_ctx *t = arg;

	(void)msg_arg;
	t->done = true;
	t->outcome = r->outcome;
	t->after_data = r->after_data;
	/* A verdict keeps the server's words; trouble keeps ours, not its last "354". */
	t->reply = strdup(r->outcome == TRANSPORT_ERROR && r->error != NULL ? r->error
			  : r->reply[0] != '\0'				    ? r->reply
			  : r->error != NULL				    ? r->error
									    : "no reply");
}

/*
 * What a test send that was not sent becomes: the status, its words and the
 * audit outcome ("uncertain" keeps the reservation, "failed" gives it back).
 */
static enum send_status not_sent(const struct test_ctx *t, const char **outcome, char **errstr)
{
	const char *why = t->reply != NULL ? t->reply : "no reply";

	*outcome = "failed";
	if (!t->done)
		return send_err(errstr, SEND_EUNAVAILABLE,
				"the test message was not sent: no outcome");
	switch (t->outcome) {
	case TRANSPORT_DEFERRED:
		return send_err(errstr, SEND_EBUSY,
				"the server deferred the test message; try again later: %s", why);
	case TRANSPORT_FAILED:
		return send_err(errstr, SEND_EINVAL, "the server refused the test message: %s",
				why);
	case TRANSPORT_ERROR:
	default:
		break;
	}
	if (t->after_data) {
		*outcome = "uncertain";
		return send_err(errstr, SEND_EBUSY,
				"the connection was lost after the test message was sent, so it "
				"may have arrived; look in the inbox before sending it again: %s",
				why);
	}
	return send_err(errstr, SEND_EUNAVAILABLE, "the test message was not sent: %s", why);
}

/*
 * Refuses (audited) an address that may not be mailed, and a user over the
 * cap; otherwise reserves one of the user's test sends (*reserved), which the
 * caller ends with an "ok" or "failed" record.
 */
static enum send_status allowed(struct store *st, const struct store_campaign *c, const char *to,
				const char *hash, bool *reserved, char **errstr)
{
	enum store_status ss;
	enum send_status s = SEND_OK;
	char *why = NULL, *serr = NULL, details[300];
	int64_t n = 0;

	*reserved = false;
	ss = store_address_mailable(st, to, c->list, &why, &serr);
	if (ss == STORE_OK && why == NULL)
		ss = store_audit_reserve_own(st, "campaign.test", c->name, hash,
					     time(NULL) - 24 * 3600, SEND_TEST_DAILY_MAX, &n,
					     reserved, &serr);
	if (ss != STORE_OK) {
		s = send_err(errstr,
			     ss == STORE_EDENIED ? SEND_EDENIED
			     : ss == STORE_EBUSY ? SEND_EBUSY
						 : SEND_EINVAL,
			     "%s", serr != NULL ? serr : store_strstatus(ss));
	} else if (why != NULL) {
		s = send_err(errstr, SEND_EDENIED,
			     "a test message may not go to %s: %s; send tests to your team's own "
			     "addresses",
			     to, why);
		snprintf(details, sizeof(details), "%s: %s", hash, why);
		store_audit(st, "campaign.test", c->name, "refused", details);
	} else if (!*reserved) {
		s = send_err(errstr, SEND_EBUSY,
			     "you have sent %lld test messages in the last 24 hours, the most "
			     "allowed (%d); try again later",
			     (long long)n, SEND_TEST_DAILY_MAX);
		snprintf(details, sizeof(details), "%s: the daily cap of %d test messages", hash,
			 SEND_TEST_DAILY_MAX);
		store_audit(st, "campaign.test", c->name, "refused", details);
	}
	free(why);
	free(serr);
	return s;
}

/* The campaign's composer, with every message marked as a test. */
static enum send_status test_composer(struct store *st, const struct store_campaign *c,
				      struct send_composer **out, char **errstr)
{
	struct send_compose_src src = {0};
	enum send_status s;
	char *subject = NULL;

	if (asprintf(&subject, "[TEST] %s", c->subject) < 0)
		return SEND_ENOMEM;
	src.template_name = c->template_name;
	src.subject = subject;
	src.from = c->from;
	src.list = c->list;
	src.campaign_id = (uint64_t)c->id;
	src.test = true;
	s = send_composer_new(st, &src, out, errstr);
	free(subject);
	return s;
}

enum send_status send_campaign_test(struct store *st, const char *name, const char *to,
				    char **reply, char **errstr)
{
	struct store_campaign *c = NULL;
	struct send_composer *comp = NULL;
	struct send_recipient_buf b = {0};
	struct send_recipient r = {0};
	struct send_composed m = {0};
	struct transport_message tm = {0};
	struct transport *t = NULL;
	struct test_ctx ctx = {0};
	enum store_status ss;
	enum send_status s;
	char *serr = NULL, hash[65];
	const char *outcome = "failed"; /* what ends the reservation */
	bool reserved = false;
	int64_t rowid = 0;

	*reply = NULL;
	ss = store_campaign_get(st, name, &c, &serr);
	s = send_from_store(ss, serr, errstr);
	serr = NULL;
	if (s != SEND_OK)
		goto done;
	store_address_hash(st, to, hash);
	s = allowed(st, c, to, hash, &reserved, errstr);
	if (s != SEND_OK)
		goto done;
	/* A subscriber's own data when the address is on file; else the bare address. */
	if (send_recipient_load(st, to, c->list, &b, NULL) == SEND_OK) {
		r = b.r;
	} else {
		store_list_rowid(st, c->list, &rowid, NULL);
		r.email = to;
		r.name = "";
		r.list_id = (uint64_t)rowid;
	}
	s = test_composer(st, c, &comp, errstr);
	if (s == SEND_OK)
		s = send_compose(comp, &r, &m, errstr);
	if (s == SEND_OK)
		s = send_transport_from_config(st, test_done, &ctx, &t, errstr);
	if (s != SEND_OK)
		goto done;
	tm.from = send_composer_from_addr(comp);
	tm.rcpt = r.email;
	tm.data = m.data;
	tm.len = m.len;
	s = transport_submit(t, &tm, errstr);
	if (s == SEND_OK)
		s = transport_drain(t, errstr);
	if (s == SEND_OK && ctx.done && ctx.outcome == TRANSPORT_SENT) {
		*reply = ctx.reply;
		ctx.reply = NULL;
		outcome = "ok";
	} else if (s == SEND_OK) {
		s = not_sent(&ctx, &outcome, errstr);
	}
done:
	if (reserved)
		store_audit(st, "campaign.test", name, outcome, hash);
	transport_close(&t);
	free(ctx.reply);
	free(m.data);
	free(serr);
	send_composer_free(&comp);
	send_recipient_clear(&b);
	store_campaign_free(&c);
	return s;
}
