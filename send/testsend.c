/*
 * send/testsend.c: `campaign test`: one message of a campaign to one
 * address, now, through the configured transport.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send/private.h"
#include "send/send.h"
#include "send/transport.h"
#include "store/store.h"

struct test_ctx {
	char *reply;
	enum transport_outcome outcome;
	bool done;
};

static void test_done(void *arg, void *msg_arg, const struct transport_result *r)
{
	struct test_ctx *t = arg;

	(void)msg_arg;
	t->done = true;
	t->outcome = r->outcome;
	t->reply = strdup(r->reply[0] != '\0' ? r->reply : (r->error ? r->error : ""));
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
	enum send_status s;
	char *serr = NULL, hash[65];
	int64_t rowid = 0;

	*reply = NULL;
	if (store_campaign_get(st, name, &c, &serr) != STORE_OK) {
		s = send_err(errstr, SEND_EINVAL, "%s", serr);
		goto done;
	}
	/* A subscriber's own data when the address is on file; else the bare address. */
	if (send_recipient_load(st, to, c->list, &b, NULL) == SEND_OK) {
		r = b.r;
	} else {
		store_list_rowid(st, c->list, &rowid, NULL);
		r.email = to;
		r.name = "";
		r.list_id = (uint64_t)rowid;
	}
	s = send_composer_for_campaign(st, c, &comp, errstr);
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
	store_address_hash(st, to, hash);
	if (s == SEND_OK && ctx.done && ctx.outcome == TRANSPORT_SENT) {
		*reply = ctx.reply;
		ctx.reply = NULL;
		store_audit(st, "campaign.test", name, "ok", hash);
	} else if (s == SEND_OK) {
		s = send_err(errstr, SEND_EINVAL, "the test message was not sent: %s",
			     ctx.reply ? ctx.reply : "no reply");
		store_audit(st, "campaign.test", name, "failed", hash);
	}
done:
	transport_close(&t);
	free(ctx.reply);
	free(m.data);
	free(serr);
	send_composer_free(&comp);
	send_recipient_clear(&b);
	store_campaign_free(&c);
	return s;
}
