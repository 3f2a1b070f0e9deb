/*
 * send/admit.c: what the worker checks before it sends a due campaign, each
 * time it takes it up: that its approvals still hold, that every message
 * will show what the Act on Specified Electronic Mail requires (the sender's
 * name, postal address and contact, and the opt-out link), and that it will
 * be signed with DKIM (a key of the From domain, or send.dkim = relay).
 *
 * A campaign whose approved content changed (an edit behind hato's back, or
 * a setting such as sender.postal_address or sender.from changed after the
 * approval) is paused, with the reason, for a new review: it is not the
 * sender's fault that a setting moved, and nothing is lost. One whose
 * approvals are missing or forged fails. Every refusal goes to the audit
 * trail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send/private.h"
#include "send/send.h"
#include "store/store.h"
#include "templates/templates.h"

/*
 * The checks that keep a message lawful (the sender identity and the
 * opt-out) and signed: what can change after the approval without an edit,
 * a setting or a DKIM key removed.
 */
static bool legal_code(const char *code)
{
	return strcmp(code, "footer-missing") == 0 || strcmp(code, "sender-empty") == 0 ||
	       strcmp(code, "no-unsubscribe") == 0 || strcmp(code, "no-dkim") == 0;
}

enum send_status send_campaign_legal_check(struct store *st, const struct store_campaign *c,
					   char **errstr)
{
	struct tpl_findings *f = NULL;
	const struct tpl_finding *x;
	const char *first = NULL;
	enum send_status s;
	size_t i, n = 0;
	bool keys_only = true; /* only the DKIM key is missing: nothing approved changed */

	s = send_check_template(st, c->template_name, c->subject, c->from, &f, errstr);
	if (s != SEND_OK)
		return s;
	for (i = 0; (x = tpl_findings_get(f, i)) != NULL; i++) {
		if (x->severity != TPL_SEV_ERROR || !legal_code(x->code))
			continue;
		if (first == NULL)
			first = x->message;
		keys_only &= strcmp(x->code, "no-dkim") == 0;
		n++;
	}
	if (n > 0 && keys_only)
		s = send_err(errstr, SEND_EINVAL,
			     "the pre-send checks failed (see: hato campaign check %s): %s; add a "
			     "DKIM key for the From domain (hato dkim keygen), then resume the "
			     "campaign (hato campaign resume %s)",
			     c->name, first, c->name);
	else if (n > 0)
		s = send_err(errstr, SEND_EINVAL,
			     "the pre-send checks failed (%zu error%s; see: hato campaign check "
			     "%s): %s; fix it and submit the campaign for review again",
			     n, n == 1 ? "" : "s", c->name, first);
	tpl_findings_free(&f);
	return s;
}

/* Pauses or fails the campaign with the reason, in the audit trail too. */
static enum send_admit halt(struct store *st, const struct store_campaign *c,
			    enum store_campaign_state to, char *why, char **msg)
{
	const char *reason = why != NULL ? why : "out of memory";

	store_audit(st, "campaign.refused", c->name, "refused", reason);
	store_campaign_set_state(st, c->id, to, reason, NULL);
	if (to == STORE_CAMPAIGN_PAUSED)
		send_err(msg, SEND_OK, "paused: %s", reason);
	else
		send_err(msg, SEND_OK, "refused: %s", reason);
	free(why);
	return to == STORE_CAMPAIGN_PAUSED ? SEND_ADMIT_PAUSED : SEND_ADMIT_REFUSED;
}

enum send_admit send_campaign_recheck(struct store *st, const struct store_campaign *c, char **msg)
{
	char *err = NULL;
	bool changed = false;

	if (send_campaign_verify(st, c, &changed, &err) != SEND_OK)
		return halt(st, c, changed ? STORE_CAMPAIGN_PAUSED : STORE_CAMPAIGN_FAILED, err,
			    msg);
	if (send_campaign_legal_check(st, c, &err) != SEND_OK)
		return halt(st, c, STORE_CAMPAIGN_PAUSED, err, msg);
	return SEND_ADMIT_GO;
}

enum send_admit send_campaign_admit(struct store *st, const struct store_campaign *c, char **msg)
{
	enum send_admit a = send_campaign_recheck(st, c, msg);
	char *err = NULL;
	int64_t n = 0;

	if (a != SEND_ADMIT_GO || c->state != STORE_CAMPAIGN_SCHEDULED)
		return a;
	/* Approved before campaign check refused it (segment-missing): never the whole list. */
	if (send_segment_gone(c)) {
		if (asprintf(&err,
			     "the segment %s no longer exists; choose another and submit the "
			     "campaign for review again",
			     c->segment) < 0)
			err = NULL;
		return halt(st, c, STORE_CAMPAIGN_PAUSED, err, msg);
	}
	if (store_queue_fill(st, c->id, &n, &err) != STORE_OK ||
	    store_campaign_set_state(st, c->id, STORE_CAMPAIGN_SENDING, NULL, &err) != STORE_OK) {
		send_err(msg, SEND_OK, "cannot start: %s", err ? err : "store error");
		free(err);
		return SEND_ADMIT_ERROR;
	}
	send_err(msg, SEND_OK, "sending to %lld recipient%s", (long long)n, n == 1 ? "" : "s");
	return SEND_ADMIT_GO;
}
