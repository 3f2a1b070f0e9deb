/*
 * send/approve.c: four-eyes approval, enforced by signatures.
 *
 * An approval is the approver's Ed25519 signature over a BLAKE2b hash of
 * everything that decides what is sent: the From (as it will be used, the
 * sender.from setting when the campaign names none), the subject, the
 * template's kind, source and text part, the layout's name and both its
 * sources, the list, the segment's expression as it is now, and the
 * schedule. The worker recomputes the hash before sending, so an edit after
 * approval, a changed layout, a changed segment or a state forced in the
 * database gets no message out.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send/private.h"
#include "send/send.h"
#include "store/store.h"
#include "templates/templates.h"

static void feed(crypto_generichash_state *h, const char *field)
{
	unsigned char len[8];
	size_t n = field != NULL ? strlen(field) : 0;
	int i;

	/* Length-prefixed, with a distinct length for NULL, so fields can't run together. */
	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)((field == NULL ? ~(size_t)0 : n) >> (8 * i));
	crypto_generichash_update(h, len, sizeof(len));
	if (n > 0)
		crypto_generichash_update(h, (const unsigned char *)field, n);
}

enum send_status send_campaign_hash(struct store *st, const struct store_campaign *c,
				    time_t scheduled_at, unsigned char hash[32], char **errstr)
{
	struct store_template *t = NULL;
	const struct tpl_layout *layout;
	crypto_generichash_state h;
	char *from = NULL, *serr = NULL, when[32];

	if (store_template_get(st, c->template_name, &t, &serr) != STORE_OK) {
		enum send_status s = send_err(errstr, SEND_EINVAL, "%s", serr);
		free(serr);
		return s;
	}
	if (c->from == NULL && store_config_get(st, "sender.from", &from, NULL) != STORE_OK) {
		free(from);
		from = NULL;
	}
	layout = tpl_layout_find(t->layout);
	snprintf(when, sizeof(when), "%lld", (long long)scheduled_at);
	crypto_generichash_init(&h, NULL, 0, 32);
	feed(&h, "hato-approval-1");
	feed(&h, c->from != NULL ? c->from : from);
	feed(&h, c->subject);
	feed(&h, t->kind);
	feed(&h, t->source);
	feed(&h, t->text_source);
	feed(&h, t->layout);
	feed(&h, layout != NULL ? layout->html : NULL);
	feed(&h, layout != NULL ? layout->text : NULL);
	feed(&h, c->list);
	feed(&h, c->segment);
	feed(&h, c->segment_expr);
	feed(&h, when);
	crypto_generichash_final(&h, hash, 32);
	free(from);
	store_template_free(&t);
	return SEND_OK;
}

/* Loads the campaign, hashes it with the schedule `at` and signs the hash. */
static enum send_status sign(struct store *st, const char *name, const time_t *at,
			     unsigned char hash[32], unsigned char sig[64], char **errstr)
{
	struct store_campaign *c = NULL;
	enum store_status ss;
	enum send_status s;
	char *serr = NULL;

	ss = store_campaign_get(st, name, &c, &serr);
	if (ss != STORE_OK)
		return send_from_store(ss, serr, errstr);
	s = send_campaign_hash(st, c, at != NULL ? *at : c->scheduled_at, hash, errstr);
	if (s == SEND_OK && store_sign(st, hash, 32, sig) != STORE_OK)
		s = send_err(errstr, SEND_EDENIED, "you have no signing key");
	store_campaign_free(&c);
	return s;
}

enum send_status send_campaign_approve(struct store *st, const char *name, const char *comment,
				       char **errstr)
{
	unsigned char hash[32], sig[64];
	enum store_status ss;
	enum send_status s;
	char *serr = NULL;

	s = sign(st, name, NULL, hash, sig, errstr);
	if (s != SEND_OK)
		return s;
	ss = store_campaign_approve(st, name, hash, sig, comment, &serr);
	return ss == STORE_OK ? SEND_OK : send_from_store(ss, serr, errstr);
}

enum send_status send_campaign_schedule(struct store *st, const char *name, time_t at,
					char **errstr)
{
	unsigned char hash[32], sig[64];
	enum store_status ss;
	enum send_status s;
	char *serr = NULL;

	s = sign(st, name, &at, hash, sig, errstr);
	if (s != SEND_OK)
		return s;
	ss = store_campaign_schedule(st, name, at, hash, sig, &serr);
	return ss == STORE_OK ? SEND_OK : send_from_store(ss, serr, errstr);
}

struct verify_ctx {
	struct store *st;
	const struct store_campaign *c;
	unsigned char hash[32];
	int valid;
	char why[256];
};

static int check_one(const struct store_approval *a, void *arg)
{
	struct verify_ctx *v = arg;
	unsigned char pk[32];
	bool may = false;

	if (strcmp(a->approver, v->c->author) == 0) {
		snprintf(v->why, sizeof(v->why), "%s approved their own campaign", a->approver);
		return 0;
	}
	if (sodium_memcmp(a->hash, v->hash, 32) != 0) {
		snprintf(v->why, sizeof(v->why),
			 "%s's approval covers other content: the campaign changed after it",
			 a->approver);
		return 0;
	}
	if (store_user_pubkey(v->st, a->approver, pk, NULL) != STORE_OK ||
	    crypto_sign_verify_detached(a->sig, v->hash, 32, pk) != 0) {
		snprintf(v->why, sizeof(v->why), "%s's signature does not verify", a->approver);
		return 0;
	}
	if (store_user_can(v->st, a->approver, STORE_PERM_CAMPAIGNS_APPROVE, &may) != STORE_OK ||
	    !may) {
		snprintf(v->why, sizeof(v->why),
			 "%s is no longer an active user with the approve permission", a->approver);
		return 0;
	}
	v->valid++;
	return 0;
}

enum send_status send_campaign_verify(struct store *st, const struct store_campaign *c,
				      char **errstr)
{
	struct verify_ctx v;
	enum send_status s;
	char *serr = NULL;
	int need = c->approvals_needed > 0 ? c->approvals_needed : 1;

	memset(&v, 0, sizeof(v));
	v.st = st;
	v.c = c;
	snprintf(v.why, sizeof(v.why), "it has no approval");
	s = send_campaign_hash(st, c, c->scheduled_at, v.hash, errstr);
	if (s != SEND_OK)
		return s;
	if (store_campaign_approvals(st, c->id, check_one, &v, &serr) != STORE_OK)
		return send_from_store(STORE_EIO, serr, errstr);
	if (v.valid >= need)
		return SEND_OK;
	return send_err(errstr, SEND_EDENIED,
			"campaign %s has %d valid approval%s of %d needed: %s", c->name, v.valid,
			v.valid == 1 ? "" : "s", need, v.why);
}
