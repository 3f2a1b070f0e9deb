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
	struct store_subscriber *sub = NULL;
	struct send_composer *comp = NULL;
	struct send_compose_src src = {0};
	struct send_recipient r = {0};
	struct send_composed m = {0};
	struct transport_message tm = {0};
	struct transport *t = NULL;
	struct test_ctx ctx = {0};
	const char **keys = NULL, **vals = NULL;
	enum send_status s;
	char *serr = NULL, hash[65];
	int64_t rowid = 0;
	size_t i;

	*reply = NULL;
	if (store_campaign_get(st, name, &c, &serr) != STORE_OK) {
		s = send_err(errstr, SEND_EINVAL, "%s", serr);
		goto done;
	}
	store_list_rowid(st, c->list, &rowid, NULL);
	r.email = to;
	r.name = "";
	r.list_name = c->list;
	r.list_id = (uint64_t)rowid;
	if (store_subscriber_get(st, to, &sub, NULL) == STORE_OK) {
		r.subscriber_id = (uint64_t)sub->id;
		r.email = sub->email;
		r.name = sub->name;
		keys = calloc(sub->nattrs + 1, sizeof(*keys));
		vals = calloc(sub->nattrs + 1, sizeof(*vals));
		for (i = 0; keys && vals && i < sub->nattrs; i++) {
			keys[i] = sub->attrs[i].key;
			vals[i] = sub->attrs[i].value;
		}
		r.nattrs = keys && vals ? sub->nattrs : 0;
		r.attr_keys = keys;
		r.attr_values = vals;
	}
	src.template_name = c->template_name;
	src.subject = c->subject;
	src.from = c->from;
	src.list = c->list;
	src.campaign_id = (uint64_t)c->id;
	s = send_composer_new(st, &src, &comp, errstr);
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
	free(keys);
	free(vals);
	free(serr);
	send_composer_free(&comp);
	store_subscriber_free(&sub);
	store_campaign_free(&c);
	return s;
}
