/*
 * send/approve.c: four-eyes approval, enforced by signatures.
 *
 * An approval is the approver's Ed25519 signature over a BLAKE2b hash of
 * everything that decides what is sent: the From (as it will be used, the
 * sender.from setting when the campaign names none), the subject, the
 * template's kind, source and text part, the layout's name and both its
 * sources, the list and its name ({{list.name}}), the segment's expression
 * as it is now, the schedule, and the settings that go into every message
 * (HASHED_SETTINGS: the sender identity of the legal footer, the unsubscribe
 * addresses, the Feedback-ID, the ISO-2022-JP option and who signs with
 * DKIM). The worker recomputes the hash before sending, so an edit after
 * approval, a changed layout, segment or setting, or a state forced in the
 * database gets no message out.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/*
 * The settings that decide what every message says, in the order hashed,
 * with the default of those that have one: a setting set to its default
 * hashes as unset, so that writing the default down changes nothing.
 */
static const struct {
	const char *key, *dflt;
} HASHED_SETTINGS[] = {
    {"sender.name", NULL},     {"sender.postal_address", NULL}, {"sender.contact", NULL},
    {"unsubscribe.url", NULL}, {"unsubscribe.mailto", NULL},	{"feedback.id", NULL},
    {"send.iso2022jp", "off"}, {"send.dkim", "hato"},
};
_Static_assert(sizeof(HASHED_SETTINGS) / sizeof(HASHED_SETTINGS[0]) == SEND_HASHED_SETTINGS,
	       "SEND_HASHED_SETTINGS is the number of HASHED_SETTINGS");

/* The format of the hash: 3 since the list's name and send.dkim count. */
#define FORMAT 3

const char *send_hashed_setting(size_t i)
{
	return i < SEND_HASHED_SETTINGS ? HASHED_SETTINGS[i].key : NULL;
}

void send_hash_input_free(struct send_hash_input *in)
{
	size_t i;

	free(in->from);
	free(in->list_name);
	for (i = 0; i < SEND_HASHED_SETTINGS; i++)
		free(in->settings[i]);
	store_template_free(&in->t);
	memset(in, 0, sizeof(*in));
}

enum send_status send_hash_input_load(struct store *st, const struct store_campaign *c,
				      struct send_hash_input *in, char **errstr)
{
	char *serr = NULL;
	size_t i;

	memset(in, 0, sizeof(*in));
	if (store_template_get(st, c->template_name, &in->t, &serr) != STORE_OK) {
		enum send_status s = send_err(errstr, SEND_EINVAL, "%s", serr);
		free(serr);
		return s;
	}
	if (c->from == NULL && store_config_get(st, "sender.from", &in->from, NULL) != STORE_OK) {
		free(in->from);
		in->from = NULL;
	}
	/* A list removed since: no name, which no approval made with one matches. */
	if (store_list_name(st, c->list, &in->list_name, NULL) != STORE_OK) {
		free(in->list_name);
		in->list_name = NULL;
	}
	for (i = 0; i < SEND_HASHED_SETTINGS; i++) {
		in->settings[i] = send_setting(st, HASHED_SETTINGS[i].key);
		if (in->settings[i] != NULL && HASHED_SETTINGS[i].dflt != NULL &&
		    strcmp(in->settings[i], HASHED_SETTINGS[i].dflt) == 0) {
			free(in->settings[i]);
			in->settings[i] = NULL;
		}
	}
	in->v.from = c->from != NULL ? c->from : in->from;
	in->v.subject = c->subject;
	in->v.kind = in->t->kind;
	in->v.source = in->t->source;
	in->v.text = in->t->text_source;
	in->v.layout = in->t->layout;
	in->v.list = c->list;
	in->v.list_name = in->list_name;
	in->v.segment = c->segment;
	in->v.segment_expr = c->segment_expr;
	for (i = 0; i < SEND_HASHED_SETTINGS; i++)
		in->v.settings[i] = in->settings[i];
	return SEND_OK;
}

/* Format 2 hashed neither the list's name nor send.dkim, the last setting. */
void send_hash_values(const struct send_hash_values *v, time_t scheduled_at, int format,
		      unsigned char hash[32])
{
	const struct tpl_layout *layout = tpl_layout_find(v->layout);
	size_t i, n = SEND_HASHED_SETTINGS - (format == 2);
	crypto_generichash_state h;
	char when[32];

	snprintf(when, sizeof(when), "%lld", (long long)scheduled_at);
	crypto_generichash_init(&h, NULL, 0, 32);
	feed(&h, format == 2 ? "hato-approval-2" : "hato-approval-3");
	feed(&h, v->from);
	feed(&h, v->subject);
	feed(&h, v->kind);
	feed(&h, v->source);
	feed(&h, v->text);
	feed(&h, v->layout);
	feed(&h, layout != NULL ? layout->html : NULL);
	feed(&h, layout != NULL ? layout->text : NULL);
	feed(&h, v->list);
	if (format != 2)
		feed(&h, v->list_name);
	feed(&h, v->segment);
	feed(&h, v->segment_expr);
	feed(&h, when);
	for (i = 0; i < n; i++) {
		feed(&h, HASHED_SETTINGS[i].key);
		feed(&h, v->settings[i]);
	}
	crypto_generichash_final(&h, hash, 32);
}

enum send_status send_campaign_hash_as(struct store *st, const struct store_campaign *c,
				       time_t scheduled_at, int format, unsigned char hash[32],
				       char **errstr)
{
	struct send_hash_input in;
	enum send_status s;

	s = send_hash_input_load(st, c, &in, errstr);
	if (s != SEND_OK)
		return s;
	send_hash_values(&in.v, scheduled_at, format, hash);
	send_hash_input_free(&in);
	return SEND_OK;
}

enum send_status send_campaign_hash(struct store *st, const struct store_campaign *c,
				    time_t scheduled_at, unsigned char hash[32], char **errstr)
{
	return send_campaign_hash_as(st, c, scheduled_at, FORMAT, hash, errstr);
}

/*
 * Would the store let this user make this move (it says why not, and first)?
 * Only then are the pre-send checks worth running.
 */
static bool may_move(struct store *st, const struct store_campaign *c, unsigned from,
		     enum store_perm perm)
{
	return (from & (1u << c->state)) != 0 && store_can(st, perm) &&
	       !store_campaign_written_by(c, store_user(st));
}

/*
 * Refuses the move when `shown` (the hash of the campaign as a screen showed
 * it, with the schedule it had) is not the campaign's hash now: someone
 * changed it, its template, audience or a hashed setting since.
 */
static enum send_status check_shown(struct store *st, const struct store_campaign *c,
				    const unsigned char *shown, char **errstr)
{
	unsigned char now[32];
	enum send_status s;

	if (shown == NULL)
		return SEND_OK;
	s = send_campaign_hash(st, c, c->scheduled_at, now, errstr);
	if (s == SEND_OK && sodium_memcmp(now, shown, 32) != 0)
		s = send_err(errstr, SEND_EDENIED,
			     "campaign %s changed since it was shown to you (the campaign, its "
			     "template or layout, its audience or a sender setting): nothing was "
			     "signed; review it again as it is now",
			     c->name);
	return s;
}

/* A refusal because the approval no longer holds, on record as the worker's are. */
static void stale_refused(struct store *st, const char *action, const char *name, const char *why)
{
	char details[480];

	snprintf(details, sizeof(details), "its approval no longer holds: %s", why);
	store_audit(st, action, name, "refused", details);
}

/*
 * An approved or scheduled campaign whose content changed since its
 * approvals (a setting, its template, its list's name) is not re-signed by a
 * new schedule: that would approve what nobody reviewed. It goes back to
 * review, resubmitted by its author.
 */
static enum send_status still_approved(struct store *st, const struct store_campaign *c,
				       char **errstr)
{
	enum send_status s = SEND_OK;
	bool changed = false;
	char *why = NULL;

	if ((c->state == STORE_CAMPAIGN_APPROVED || c->state == STORE_CAMPAIGN_SCHEDULED) &&
	    send_campaign_verify(st, c, &changed, &why) != SEND_OK && changed) {
		s = send_err(errstr, SEND_EINVAL,
			     "campaign %s is not sent, as its approval no longer holds: %s "
			     "(hato campaign submit %s)",
			     c->name, why, c->name);
		stale_refused(st, "campaign.schedule", c->name, why);
	}
	free(why);
	return s;
}

/*
 * Loads the campaign, refuses it when its approvals no longer hold
 * (still_approved), when it is no longer what the caller was shown
 * (check_shown) or when its pre-send checks fail (the settings may
 * have changed since it was submitted), hashes it with the schedule `at`
 * and signs the hash. `from` is the states the move starts from.
 */
static enum send_status sign(struct store *st, const char *name, const time_t *at, unsigned from,
			     const unsigned char *shown, unsigned char hash[32],
			     unsigned char sig[64], char **errstr)
{
	struct store_campaign *c = NULL;
	enum store_status ss;
	enum send_status s = SEND_OK;
	char *serr = NULL;

	ss = store_campaign_get(st, name, &c, &serr);
	if (ss != STORE_OK)
		return send_from_store(ss, serr, errstr);
	if (may_move(st, c, from, STORE_PERM_CAMPAIGNS_APPROVE)) {
		s = still_approved(st, c, errstr);
		if (s == SEND_OK)
			s = check_shown(st, c, shown, errstr);
		if (s == SEND_OK)
			s = send_campaign_check_errors(st, c, errstr);
	}
	if (s == SEND_OK)
		s = send_campaign_hash(st, c, at != NULL ? *at : c->scheduled_at, hash, errstr);
	if (s == SEND_OK && store_sign(st, hash, 32, sig) != STORE_OK)
		s = send_err(errstr, SEND_EDENIED, "you have no signing key");
	store_campaign_free(&c);
	return s;
}

enum send_status send_campaign_submit(struct store *st, const char *name, char **errstr)
{
	struct store_campaign *c = NULL;
	enum store_status ss;
	enum send_status s = SEND_OK;
	char *serr = NULL;
	bool again = false; /* its approvals are of other content: back to review */

	ss = store_campaign_get(st, name, &c, &serr);
	if (ss != STORE_OK)
		return send_from_store(ss, serr, errstr);
	/*
	 * Paused because its approved content changed, or approved and changed
	 * since: back to review, its queue kept.
	 */
	if (c->state == STORE_CAMPAIGN_PAUSED) {
		again = true;
		if (send_campaign_verify(st, c, NULL, NULL) == SEND_OK)
			s = send_err(
			    errstr, SEND_EINVAL,
			    "campaign %s is paused and its approval still holds: resume it "
			    "with hato campaign resume %s",
			    name, name);
	} else if (c->state == STORE_CAMPAIGN_APPROVED || c->state == STORE_CAMPAIGN_SCHEDULED) {
		/* Still approved: the store says it can't be submitted. */
		if (send_campaign_verify(st, c, &again, NULL) == SEND_OK)
			again = false;
	}
	if (s == SEND_OK &&
	    (again || c->state == STORE_CAMPAIGN_DRAFT || c->state == STORE_CAMPAIGN_REJECTED) &&
	    store_can(st, STORE_PERM_CAMPAIGNS_EDIT))
		s = send_campaign_check_errors(st, c, errstr);
	if (s == SEND_OK) {
		ss = again ? store_campaign_resubmit(st, name, &serr)
			   : store_campaign_submit(st, name, &serr);
		if (ss != STORE_OK)
			s = send_from_store(ss, serr, errstr);
	}
	store_campaign_free(&c);
	return s;
}

enum send_status send_campaign_resume(struct store *st, const char *name, char **errstr)
{
	struct store_campaign *c = NULL;
	enum store_status ss;
	enum send_status s = SEND_OK;
	char *serr = NULL, *why = NULL;
	bool changed = false;

	ss = store_campaign_get(st, name, &c, &serr);
	if (ss != STORE_OK)
		return send_from_store(ss, serr, errstr);
	/* What the worker would pause it for again at once; the store refuses the rest. */
	if (c->state == STORE_CAMPAIGN_PAUSED && store_can(st, STORE_PERM_CAMPAIGNS_SEND)) {
		s = send_campaign_verify(st, c, &changed, &why);
		if (s != SEND_OK && changed) {
			s = send_err(errstr, SEND_EINVAL,
				     "campaign %s is not resumed, as its approval no longer holds: "
				     "%s (hato campaign submit %s)",
				     name, why, name);
			stale_refused(st, "campaign.resume", name, why);
		} else if (s != SEND_OK)
			s = send_err(errstr, s, "campaign %s is not resumed: %s", name, why);
		else
			s = send_campaign_legal_check(st, c, errstr);
	}
	free(why);
	store_campaign_free(&c);
	if (s == SEND_OK) {
		ss = store_campaign_resume(st, name, &serr);
		if (ss != STORE_OK)
			s = send_from_store(ss, serr, errstr);
	}
	return s;
}

enum send_status send_campaign_approve(struct store *st, const char *name, const char *comment,
				       const unsigned char *shown, char **errstr)
{
	unsigned char hash[32], sig[64];
	enum store_status ss;
	enum send_status s;
	char *serr = NULL;

	s = sign(st, name, NULL, 1u << STORE_CAMPAIGN_IN_REVIEW, shown, hash, sig, errstr);
	if (s != SEND_OK)
		return s;
	ss = store_campaign_approve(st, name, hash, sig, comment, &serr);
	return ss == STORE_OK ? SEND_OK : send_from_store(ss, serr, errstr);
}

bool send_schedule_passed(time_t at, time_t now)
{
	return at != 0 && at < now - 60;
}

enum send_status send_campaign_schedule(struct store *st, const char *name, time_t at,
					const unsigned char *shown, char **errstr)
{
	unsigned char hash[32], sig[64];
	enum store_status ss;
	enum send_status s;
	char *serr = NULL;

	/* A time gone by would mean "now": that is campaign send, said plainly. */
	if (send_schedule_passed(at, time(NULL)))
		return send_err(errstr, SEND_EINVAL,
				"that time has passed; to send now, use: hato campaign send %s",
				name);
	s = sign(st, name, &at, 1u << STORE_CAMPAIGN_APPROVED | 1u << STORE_CAMPAIGN_SCHEDULED,
		 shown, hash, sig, errstr);
	if (s != SEND_OK)
		return s;
	ss = store_campaign_schedule(st, name, at, hash, sig, &serr);
	return ss == STORE_OK ? SEND_OK : send_from_store(ss, serr, errstr);
}

struct verify_ctx {
	struct store *st;
	const struct store_campaign *c;
	unsigned char hash[32], old[32]; /* old: in format 2, computed when needed */
	bool have_old;
	int valid, stale; /* stale: sound approvals of other content */
	char why[400];
};

/* True when the approval is of this content as an earlier hato hashed it. */
static bool of_format_2(struct verify_ctx *v, const struct store_approval *a)
{
	if (!v->have_old &&
	    send_campaign_hash_as(v->st, v->c, v->c->scheduled_at, 2, v->old, NULL) == SEND_OK)
		v->have_old = true;
	return v->have_old && sodium_memcmp(a->hash, v->old, 32) == 0;
}

static int check_one(const struct store_approval *a, void *arg)
{
	struct verify_ctx *v = arg;
	unsigned char pk[32];
	bool may = false;

	if (store_campaign_written_by(v->c, a->approver)) {
		snprintf(v->why, sizeof(v->why),
			 "%s approved what they wrote (the campaign or its template)", a->approver);
		return 0;
	}
	if (store_user_pubkey(v->st, a->approver, pk, NULL) != STORE_OK ||
	    crypto_sign_verify_detached(a->sig, a->hash, 32, pk) != 0) {
		snprintf(v->why, sizeof(v->why), "%s's signature does not verify", a->approver);
		return 0;
	}
	if (store_user_can(v->st, a->approver, STORE_PERM_CAMPAIGNS_APPROVE, &may) != STORE_OK ||
	    !may) {
		snprintf(v->why, sizeof(v->why),
			 "%s is no longer an active user with the approve permission", a->approver);
		return 0;
	}
	if (sodium_memcmp(a->hash, v->hash, 32) != 0 && of_format_2(v, a)) {
		snprintf(v->why, sizeof(v->why),
			 "%s's approval was made by an earlier version of hato, whose approvals "
			 "cover less (not the list's name nor send.dkim); nothing changed, but "
			 "submit it for review again",
			 a->approver);
		v->stale++;
		return 0;
	}
	if (sodium_memcmp(a->hash, v->hash, 32) != 0) {
		snprintf(v->why, sizeof(v->why),
			 "the approved content changed: %s's approval covers other content (the "
			 "campaign, its template or layout, its list's name or its audience, or a "
			 "setting that goes into every message: sender.*, unsubscribe.*, "
			 "feedback.id, send.iso2022jp, send.dkim); submit it for review again",
			 a->approver);
		v->stale++;
		return 0;
	}
	v->valid++;
	return 0;
}

enum send_status send_campaign_verify(struct store *st, const struct store_campaign *c,
				      bool *changed, char **errstr)
{
	struct verify_ctx v;
	enum send_status s;
	char *serr = NULL;
	int need = c->approvals_needed > 0 ? c->approvals_needed : 1;

	memset(&v, 0, sizeof(v));
	v.st = st;
	v.c = c;
	if (changed != NULL)
		*changed = false;
	snprintf(v.why, sizeof(v.why), "it has no approval");
	s = send_campaign_hash(st, c, c->scheduled_at, v.hash, errstr);
	if (s != SEND_OK)
		return s;
	if (store_campaign_approvals(st, c->id, check_one, &v, &serr) != STORE_OK)
		return send_from_store(STORE_EIO, serr, errstr);
	if (v.valid >= need)
		return SEND_OK;
	/* Enough sound approvals, of content that has changed since: not a forgery. */
	if (v.valid + v.stale >= need && v.stale > 0) {
		if (changed != NULL)
			*changed = true;
		return send_err(errstr, SEND_EDENIED, "%s", v.why);
	}
	return send_err(errstr, SEND_EDENIED,
			"campaign %s has %d valid approval%s of %d needed: %s", c->name, v.valid,
			v.valid == 1 ? "" : "s", need, v.why);
}
