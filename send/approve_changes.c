/*
 * send/approve_changes.c: what changed since a campaign's approval among
 * what the approval covers but the store keeps no copy of.
 *
 * The copy of an approved version (store_campaign_snapshot) holds the
 * subject, the From, the template's sources, the list and the segment's
 * name. The approval hash covers more: the template's kind and layout, the
 * list's name, the segment's expression, the From that sender.from gives
 * and the settings of HASHED_SETTINGS. While the campaign still has the
 * approvals of that version, their hashes tell whether any of those
 * changed: the campaign's hash is recomputed with the copy's values in
 * place of today's. A single change whose old value can be guessed (another
 * layout or kind, a setting that was unset, the other choice of a setting
 * that has two) is named with its old value; any other is only known to be
 * one of them.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send/private.h"
#include "send/send.h"
#include "store/store.h"
#include "templates/templates.h"

#define MAX_HASHES 16

/* The candidates, as the reviewer reads them. */
#define UNKEPT                                                                                     \
	"the segment's expression, the layout or kind of template, the list's name, sender.from "  \
	"and the settings sender.*, unsubscribe.*, feedback.id, send.iso2022jp and send.dkim"

/* The other choice of a setting that has two, whose unset value is the first. */
static const struct {
	const char *key, *value;
} OTHER_CHOICE[] = {{"send.iso2022jp", "carriers"}, {"send.dkim", "relay"}};

struct approved {
	unsigned char now[32];		    /* the campaign's hash now */
	unsigned char hash[MAX_HASHES][32]; /* the approvals' hashes of other content */
	size_t n, same;			    /* same: approvals of the content as it is now */
	time_t at;			    /* the schedule the approvals signed */
};

static int keep_hash(const struct store_approval *a, void *arg)
{
	struct approved *ap = arg;

	if (sodium_memcmp(a->hash, ap->now, 32) == 0)
		ap->same++;
	else if (ap->n < MAX_HASHES)
		memcpy(ap->hash[ap->n++], a->hash, 32);
	return 0;
}

/* Does an approval sign v (in this format or, from an earlier hato, the last)? */
static bool signed_as(const struct approved *ap, const struct send_hash_values *v)
{
	unsigned char h[32], old[32];
	size_t i;

	send_hash_values(v, ap->at, 3, h);
	send_hash_values(v, ap->at, 2, old);
	for (i = 0; i < ap->n; i++)
		if (sodium_memcmp(ap->hash[i], h, 32) == 0 ||
		    sodium_memcmp(ap->hash[i], old, 32) == 0)
			return true;
	return false;
}

static enum send_status say(char ***out, size_t *n, const char *fmt, ...) SEND_PRINTF(3, 4);

static enum send_status say(char ***out, size_t *n, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return SEND_ENOMEM;
	return send_strv_push(out, n, s);
}

/* Another layout or kind of template alone: says which, and returns true. */
static bool guess_layout(const struct approved *ap, const struct send_hash_values *was, char ***out,
			 size_t *n)
{
	static const char *const kinds[] = {"markdown", "html"};
	struct send_hash_values v = *was;
	const struct tpl_layout *l;
	size_t i, k;

	for (k = 0; k < 2; k++)
		for (i = 0; (l = tpl_layout_at(i)) != NULL; i++) {
			v.kind = kinds[k];
			v.layout = l->name;
			if ((strcmp(v.kind, was->kind) == 0 &&
			     strcmp(v.layout, was->layout) == 0) ||
			    !signed_as(ap, &v))
				continue;
			if (strcmp(v.kind, was->kind) != 0)
				say(out, n, "the template's kind: %s when approved, %s now", v.kind,
				    was->kind);
			if (strcmp(v.layout, was->layout) != 0)
				say(out, n, "the layout: %s when approved, %s now", v.layout,
				    was->layout);
			return true;
		}
	return false;
}

/* A setting alone, that was unset or had the other of two choices: says which. */
static bool guess_setting(const struct approved *ap, const struct send_hash_values *was,
			  char ***out, size_t *n)
{
	struct send_hash_values v = *was;
	const char *key;
	size_t i, k;

	for (i = 0; (key = send_hashed_setting(i)) != NULL; i++) {
		v.settings[i] = NULL;
		if (was->settings[i] != NULL && signed_as(ap, &v)) {
			say(out, n, "the setting %s: unset when approved, \"%s\" now", key,
			    was->settings[i]);
			return true;
		}
		for (k = 0; k < sizeof(OTHER_CHOICE) / sizeof(OTHER_CHOICE[0]); k++) {
			if (strcmp(key, OTHER_CHOICE[k].key) != 0 || was->settings[i] != NULL)
				continue;
			v.settings[i] = OTHER_CHOICE[k].value;
			if (signed_as(ap, &v)) {
				say(out, n, "the setting %s: \"%s\" when approved, unset now", key,
				    OTHER_CHOICE[k].value);
				return true;
			}
		}
		v.settings[i] = was->settings[i];
	}
	return false;
}

struct segment_time {
	const char *name;
	char created[32];
};

static int find_segment(const struct store_segment_info *s, void *arg)
{
	struct segment_time *t = arg;

	if (strcmp(s->name, t->name) == 0)
		snprintf(t->created, sizeof(t->created), "%s", s->created);
	return 0;
}

/* When the segment was saved after the approval, says so. */
static void segment_saved(struct store *st, const char *segment, time_t approved, char ***out,
			  size_t *n)
{
	struct segment_time t = {segment, ""};
	char when[32];
	struct tm tm;

	if (segment == NULL || store_segment_ls(st, find_segment, &t, NULL) != STORE_OK)
		return;
	gmtime_r(&approved, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (t.created[0] != '\0' && strcmp(t.created, when) >= 0)
		say(out, n,
		    "the segment %s was saved again at %s, after the approval: its "
		    "expression may differ",
		    segment, t.created);
}

/* What as_approved read for the values of the approved version. */
struct was_read {
	char *from, *segment_list, *segment_expr, *list_name;
};

/*
 * The values the campaign had when approved, as far as v tells: its copy's
 * fields, and today's for the rest. The strings point into v, now and *r.
 */
static void as_approved(struct store *st, const struct store_campaign_version *v,
			const struct send_hash_values *now, struct send_hash_values *was,
			struct was_read *r)
{
	*was = *now;
	was->subject = v->subject;
	was->source = v->template_source;
	was->text = v->template_text;
	was->list = v->list;
	was->segment = v->segment;
	was->from = v->from;
	if (v->from == NULL && store_config_get(st, "sender.from", &r->from, NULL) == STORE_OK)
		was->from = r->from;
	if (v->segment == NULL)
		was->segment_expr = NULL;
	else if (now->segment == NULL || strcmp(v->segment, now->segment) != 0)
		was->segment_expr = store_segment_get(st, v->segment, &r->segment_list,
						      &r->segment_expr, NULL) == STORE_OK
					? r->segment_expr
					: NULL;
	if (strcmp(v->list, now->list) != 0)
		was->list_name = store_list_name(st, v->list, &r->list_name, NULL) == STORE_OK
				     ? r->list_name
				     : NULL;
}

/* The campaign's approvals when they are those of v: it is approved as v. */
static bool approvals_of(const struct store_campaign *c, const struct store_campaign_version *v)
{
	return v->version == c->version &&
	       (c->state == STORE_CAMPAIGN_APPROVED || c->state == STORE_CAMPAIGN_SCHEDULED ||
		c->state == STORE_CAMPAIGN_SENDING || c->state == STORE_CAMPAIGN_PAUSED);
}

enum send_status send_campaign_changes_unkept(struct store *st, const struct store_campaign *c,
					      const struct store_campaign_version *v, char ***out,
					      char **errstr)
{
	struct send_hash_input in;
	struct send_hash_values was;
	struct approved ap;
	enum send_status s;
	struct was_read r = {NULL, NULL, NULL, NULL};
	size_t n = 0;

	*out = NULL;
	memset(&ap, 0, sizeof(ap));
	ap.at = c->scheduled_at;
	s = send_hash_input_load(st, c, &in, errstr);
	if (s != SEND_OK)
		return s;
	send_hash_values(&in.v, ap.at, 3, ap.now);
	if (approvals_of(c, v) &&
	    store_campaign_approvals(st, c->id, keep_hash, &ap, NULL) != STORE_OK)
		ap.n = ap.same = 0;
	if (ap.n == 0 && ap.same == 0) {
		s = say(out, &n,
			"%s: they may have changed (the approvals that would tell were dropped "
			"when the campaign went back to review)",
			UNKEPT);
		segment_saved(st, c->segment, v->approved, out, &n);
		goto done;
	}
	as_approved(st, v, &in.v, &was, &r);
	/* Signed as it was approved, but for what the copy keeps: nothing else changed. */
	if (ap.same > 0 || signed_as(&ap, &was))
		goto done;
	if (guess_layout(&ap, &was, out, &n) || guess_setting(&ap, &was, out, &n))
		goto done;
	s = say(out, &n,
		"%s: one of them changed (the approval's hash differs even with the fields "
		"above as approved)",
		UNKEPT);
	segment_saved(st, c->segment, v->approved, out, &n);
done:
	free(r.from);
	free(r.segment_list);
	free(r.segment_expr);
	free(r.list_name);
	send_hash_input_free(&in);
	if (s != SEND_OK)
		send_strv_free(out);
	return s;
}
