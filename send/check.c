/*
 * send/check.c: the pre-send checks of a template as a campaign would send
 * it: templates/ runs the checks, this file gathers what they need from the
 * store (the sender identity, the DKIM keys of the From domain and who
 * signs, the ISO-2022-JP option). Also a campaign's checks (its template's and its
 * audience's), which submitting and approving it enforce.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "send/private.h"
#include "send/send.h"
#include "store/store.h"
#include "templates/templates.h"

/* A setting, or "" when it is unset. */
static char *setting(struct store *st, const char *key)
{
	char *v = send_setting(st, key);

	return v != NULL ? v : strdup("");
}

static int count_key(const struct store_dkim_key *k, void *arg)
{
	(void)k;
	(*(size_t *)arg)++;
	return 0;
}

/* Adds an error finding about a setting, its message taken from *why. */
static enum send_status bad_setting(struct tpl_findings *f, const char *code, char **why)
{
	enum tpl_status t = tpl_findings_add(f, TPL_SEV_ERROR, code, "sender", *why);

	free(*why);
	*why = NULL;
	return t == TPL_OK ? SEND_OK : SEND_ENOMEM;
}

/*
 * VERP's envelope sender on a domain of another organisation than From's:
 * SPF may pass for it, but not DMARC (relaxed alignment, RFC 7489 3.1.2).
 * A warning: the DKIM signature on the From domain, which the checks
 * require, still aligns.
 */
static enum send_status check_bounce_domain(struct store *st, const char *from_addr,
					    struct tpl_findings *f)
{
	char *bounce = send_setting(st, "bounce.domain");
	const char *from = from_addr != NULL ? strrchr(from_addr, '@') : NULL;
	enum tpl_status t = TPL_OK;
	char why[600];

	if (bounce != NULL && from != NULL &&
	    strcasecmp(send_org_domain(bounce), send_org_domain(from + 1)) != 0) {
		snprintf(why, sizeof(why),
			 "bounce.domain %s is not aligned with the From domain %s: SPF passes "
			 "for the envelope sender but not DMARC; use %s or a subdomain of it",
			 bounce, from + 1, send_org_domain(from + 1));
		t = tpl_findings_add(f, TPL_SEV_WARNING, "bounce-domain", "sender", why);
	}
	free(bounce);
	return t == TPL_OK ? SEND_OK : SEND_ENOMEM;
}

/* What the worker would refuse in the settings a message is made with,
 * read with the parsers it uses: each is an error. */
static enum send_status check_settings(struct store *st, const char *jis, const char *dkim,
				       struct tpl_findings *f)
{
	char *url = send_setting(st, "unsubscribe.url"),
	     *mailto = send_setting(st, "unsubscribe.mailto");
	char *why = NULL;
	enum send_status s = SEND_OK;
	bool carriers, relay;

	if (send_unsub_url_check(url, &why) != SEND_OK)
		s = bad_setting(f, "unsubscribe-url", &why);
	if (s == SEND_OK && mailto != NULL && send_mailto_check(mailto, &why) != SEND_OK)
		s = bad_setting(f, "unsubscribe-mailto", &why);
	if (s == SEND_OK && *jis != '\0' && send_iso2022jp_parse(jis, &carriers, &why) != SEND_OK)
		s = bad_setting(f, "iso2022jp", &why);
	if (s == SEND_OK && *dkim != '\0' && send_dkim_parse(dkim, &relay, &why) != SEND_OK)
		s = bad_setting(f, "dkim-setting", &why);
	free(url);
	free(mailto);
	free(why);
	return s;
}

enum send_status send_check_template(struct store *st, const char *template_name,
				     const char *subject, const char *from,
				     struct tpl_findings **out, char **errstr)
{
	struct store_template *t = NULL;
	struct tpl_check_input in;
	enum store_status ss;
	enum send_status s = SEND_OK;
	char *name = NULL, *postal = NULL, *contact = NULL, *jis = NULL, *cfrom = NULL;
	char *dkim = NULL, *fname = NULL, *faddr = NULL, *serr = NULL;
	size_t nkeys = 0;

	*out = NULL;
	ss = store_template_get(st, template_name, &t, &serr);
	s = send_from_store(ss, serr, errstr);
	serr = NULL;
	if (s != SEND_OK)
		goto done;
	name = setting(st, "sender.name");
	postal = setting(st, "sender.postal_address");
	contact = setting(st, "sender.contact");
	jis = setting(st, "send.iso2022jp");
	dkim = setting(st, "send.dkim");
	cfrom = from != NULL ? strdup(from) : setting(st, "sender.from");
	if (name == NULL || postal == NULL || contact == NULL || jis == NULL || dkim == NULL ||
	    cfrom == NULL) {
		s = SEND_ENOMEM;
		goto done;
	}
	if (*cfrom != '\0' && send_parse_from(cfrom, &fname, &faddr, NULL) == SEND_OK)
		store_dkim_list(st, strrchr(faddr, '@') + 1, false, count_key, &nkeys, NULL);
	memset(&in, 0, sizeof(in));
	in.subject = subject;
	in.kind = strcmp(t->kind, "html") == 0 ? TPL_KIND_HTML : TPL_KIND_MARKDOWN;
	in.src = t->source;
	in.src_len = strlen(t->source);
	in.text_src = t->text_source;
	in.layout = t->layout;
	in.known = send_known_tags;
	in.nknown = send_known_tags_count;
	in.sender_name = name;
	in.sender_postal_address = postal;
	in.sender_contact = contact;
	in.from_has_dkim = nkeys > 0;
	/* A value that does not parse is off here, and an error of its own below. */
	send_iso2022jp_parse(*jis != '\0' ? jis : NULL, &in.iso2022jp, NULL);
	send_dkim_parse(*dkim != '\0' ? dkim : NULL, &in.dkim_by_relay, NULL);
	if (tpl_check(&in, out) != TPL_OK)
		s = SEND_ENOMEM;
	if (s == SEND_OK)
		s = check_settings(st, jis, dkim, *out);
	if (s == SEND_OK)
		s = check_bounce_domain(st, faddr, *out);
done:
	free(serr);
	free(name);
	free(postal);
	free(contact);
	free(jis);
	free(dkim);
	free(cfrom);
	free(fname);
	free(faddr);
	store_template_free(&t);
	return s;
}

/* ---- A campaign's checks ------------------------------------------------- */

/*
 * The complaint rate of the last 30 days, every campaign: Gmail and Yahoo
 * want it under 0.3%, and 0.1% as a target. A warning over 0.1%; the
 * worker's breaker pauses a campaign over 0.3% of its own.
 */
static enum send_status check_complaints(struct store *st, struct tpl_findings *f)
{
	int64_t n = 0, sent = 0;
	char why[400];

	if (store_complaints_since(st, time(NULL) - 30 * 86400, &n, &sent, NULL) != STORE_OK ||
	    n == 0 || (double)n <= 0.001 * (double)sent)
		return SEND_OK;
	snprintf(why, sizeof(why),
		 "%lld complaint%s in the last 30 days, %.2f%% of the %lld messages sent; mailbox "
		 "providers want under 0.3%%, 0.1%% as a target: send only to people who asked "
		 "for it lately (segment out the inactive, check the consent)",
		 (long long)n, n == 1 ? "" : "s",
		 sent > 0 ? 100.0 * (double)n / (double)sent : 100.0, (long long)sent);
	return tpl_findings_add(f, TPL_SEV_WARNING, "complaint-rate", "audience", why) == TPL_OK
		   ? SEND_OK
		   : SEND_ENOMEM;
}

/* au refuses messages over 3 MB (DELIVERABILITY.md, the carriers). */
#define AU_MAX (3u * 1024u * 1024u)

/*
 * The campaign's message as an au address would get it, measured: over
 * AU_MAX it is an error when any recipient is at au (au.com, ezweb.ne.jp),
 * else a warning. Nothing when no message can be made: the other checks say
 * why.
 */
/* How many of the campaign's recipients `where` (a segment expression) also
 * picks; 0 when they can't be counted. */
static int64_t recipients_where(struct store *st, const struct store_campaign *c, const char *where)
{
	struct tpl_buf expr = {0};
	int64_t n = 0;

	if (c->segment_expr != NULL && *c->segment_expr != '\0')
		tpl_buf_appendf(&expr, "(%s) and %s", c->segment_expr, where);
	else
		tpl_buf_appends(&expr, where);
	if (!expr.oom && store_segment_count(st, c->list, expr.data, &n, NULL) != STORE_OK)
		n = 0;
	tpl_buf_free(&expr);
	return n;
}

/*
 * The {{attr.KEY}} tags (no fallback, outside sections) of one template
 * source whose attribute some of the recipients lack: each would read
 * "Dear ," to them, and a misspelt name to all. A warning each, with how
 * many; *seen holds the names already counted, separated by '\n'.
 */
static void unset_attrs_of(struct store *st, const struct store_campaign *c, const char *src,
			   int64_t recipients, struct tpl_buf *seen, struct tpl_findings *f)
{
	struct tpl *t = NULL;
	struct tpl_tag g;
	struct tpl_buf where = {0}, key = {0};
	char why[400];
	int64_t n;

	if (src == NULL || tpl_compile(src, strlen(src), &t, NULL) != TPL_OK)
		return;
	for (size_t i = 0; tpl_tag_get(t, i, &g); i++) {
		if ((g.kind != TPL_TAG_VAR && g.kind != TPL_TAG_RAW) || g.fallback != NULL ||
		    g.depth > 0 || strncmp(g.name, "attr.", 5) != 0)
			continue;
		tpl_buf_reset(&key);
		tpl_buf_appendf(&key, "\n%s\n", g.name);
		if (seen->data != NULL && strstr(seen->data, key.data) != NULL)
			continue;
		tpl_buf_append(seen, key.data + 1, key.len - 1);
		tpl_buf_reset(&where);
		tpl_buf_appends(&where, "attr.\"");
		for (const char *p = g.name + 5; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				tpl_buf_appendc(&where, '\\');
			tpl_buf_appendc(&where, *p);
		}
		tpl_buf_appends(&where, "\" is not set");
		n = where.oom ? 0 : recipients_where(st, c, where.data);
		if (n == 0)
			continue;
		snprintf(
		    why, sizeof(why),
		    "{{%.100s}} has no value for %lld of the %lld recipients, who get nothing in "
		    "its place%s; give it a fallback ({{%.100s|...}}) or check its name",
		    g.name, (long long)n, (long long)recipients,
		    n == recipients ? " (for all of them: is the name right?)" : "", g.name);
		tpl_findings_add(f, TPL_SEV_WARNING, "unset-attr", "audience", why);
	}
	tpl_buf_free(&where);
	tpl_buf_free(&key);
	tpl_free(&t);
}

static void check_unset_attrs(struct store *st, const struct store_campaign *c, int64_t recipients,
			      struct tpl_findings *f)
{
	struct store_template *t = NULL;
	struct tpl_buf seen = {0};

	tpl_buf_appendc(&seen, '\n');
	unset_attrs_of(st, c, c->subject, recipients, &seen, f);
	if (store_template_get(st, c->template_name, &t, NULL) == STORE_OK) {
		unset_attrs_of(st, c, t->source, recipients, &seen, f);
		unset_attrs_of(st, c, t->text_source, recipients, &seen, f);
	}
	store_template_free(&t);
	tpl_buf_free(&seen);
}

static enum send_status check_size(struct store *st, const struct store_campaign *c,
				   struct tpl_findings *f)
{
	struct send_composer *comp = NULL;
	struct send_recipient r = {.email = "size.check@au.com", .name = ""};
	struct send_composed m = {0};
	char *err = NULL, why[400];
	int64_t at_au = 0;
	enum send_status s = SEND_OK;

	if (send_composer_for_campaign(st, c, &comp, &err) != SEND_OK ||
	    send_compose(comp, &r, &m, &err) != SEND_OK || m.len <= AU_MAX)
		goto done;
	at_au = recipients_where(st, c, "domain in (\"au.com\", \"ezweb.ne.jp\")");
	snprintf(why, sizeof(why),
		 "the message is %zu bytes; au (au.com, ezweb.ne.jp) refuses messages over %u "
		 "bytes%s: link to large images and files instead of putting them in",
		 m.len, AU_MAX, at_au > 0 ? ", and this campaign has recipients there" : "");
	if (tpl_findings_add(f, at_au > 0 ? TPL_SEV_ERROR : TPL_SEV_WARNING, "too-big-for-au",
			     "body", why) != TPL_OK)
		s = SEND_ENOMEM;
done:
	free(err);
	free(m.data);
	send_composer_free(&comp);
	return s;
}

bool send_schedule_advice(struct store *st, const char *name, time_t at, char *why, size_t n)
{
	struct store_campaign *c = NULL;
	int64_t docomo = 0;

	/* The first five minutes of an hour, in Japan's time as in UTC's. */
	if (at == 0 || (at % 3600) >= 5 * 60 || store_campaign_get(st, name, &c, NULL) != STORE_OK)
		return false;
	docomo = recipients_where(st, c, "domain = \"docomo.ne.jp\"");
	store_campaign_free(&c);
	if (docomo == 0)
		return false;
	snprintf(why, n,
		 "the campaign starts at the top of an hour, with %lld recipient%s at "
		 "docomo.ne.jp, which treats bursts then as a sign of bulk mail; a time such "
		 "as :07 or :23 is safer",
		 (long long)docomo, docomo == 1 ? "" : "s");
	return true;
}

bool send_segment_gone(const struct store_campaign *c)
{
	return c->segment != NULL && *c->segment != '\0' && c->segment_expr == NULL;
}

enum send_status send_check_campaign(struct store *st, const struct store_campaign *c,
				     struct send_campaign_checks *out, char **errstr)
{
	enum store_status ss;
	enum send_status s;
	char *serr = NULL;

	memset(out, 0, sizeof(*out));
	out->recipients = -1;
	s = send_check_template(st, c->template_name, c->subject, c->from, &out->findings, errstr);
	if (s == SEND_OK)
		s = check_size(st, c, out->findings);
	if (s == SEND_OK)
		s = check_complaints(st, out->findings);
	if (s != SEND_OK) {
		send_campaign_checks_clear(out);
		return s;
	}
	out->errors = tpl_findings_count_severity(out->findings, TPL_SEV_ERROR);
	out->warnings = tpl_findings_count(out->findings) - out->errors;
	/* A segment removed since (alone, or with its list) is not the whole list. */
	if (send_segment_gone(c)) {
		out->audience_code = "segment-missing";
		if (asprintf(&out->audience_error,
			     "the segment %s no longer exists: it was removed, or its list was; "
			     "choose another (hato campaign edit %s --segment S), or none "
			     "(--segment \"\") for the whole list",
			     c->segment, c->name) < 0)
			out->audience_error = NULL;
	} else if ((ss = store_segment_count(st, c->list, c->segment_expr, &out->recipients,
					     &serr)) != STORE_OK) {
		out->recipients = -1;
		out->audience_code = "recipients";
		out->audience_error = strdup(serr != NULL ? serr : store_strstatus(ss));
	} else if (out->recipients == 0) {
		out->audience_code = "no-recipients";
		out->audience_error = strdup("nobody would get this campaign: the audience is "
					     "empty after suppressions");
	} else {
		check_unset_attrs(st, c, out->recipients, out->findings);
		out->warnings = tpl_findings_count(out->findings) - out->errors;
	}
	free(serr);
	if (out->audience_code != NULL && out->audience_error == NULL) {
		send_campaign_checks_clear(out);
		return SEND_ENOMEM;
	}
	out->errors += out->audience_code != NULL;
	return SEND_OK;
}

void send_campaign_checks_clear(struct send_campaign_checks *k)
{
	tpl_findings_free(&k->findings);
	free(k->audience_error);
	memset(k, 0, sizeof(*k));
	k->recipients = -1;
}

void send_finding_format(const struct tpl_finding *x, char *buf, size_t size)
{
	char where[64];

	if (x->line > 0)
		snprintf(where, sizeof(where), "%s:%u:%u", x->where, x->line, x->col);
	else
		snprintf(where, sizeof(where), "%s", x->where);
	snprintf(buf, size, "%-7s %-14s %-16s %s",
		 x->severity == TPL_SEV_ERROR ? "error" : "warning", where, x->code, x->message);
}

enum send_status send_campaign_check_errors(struct store *st, const struct store_campaign *c,
					    char **errstr)
{
	struct send_campaign_checks k;
	const struct tpl_finding *x;
	enum send_status s;
	struct tpl_buf b = {0};
	char line[1200];
	size_t i;

	s = send_check_campaign(st, c, &k, errstr);
	if (s != SEND_OK || k.errors == 0)
		goto done;
	tpl_buf_appendf(&b,
			"campaign %s fails %zu pre-send check%s; fix %s (see: hato campaign "
			"check %s):",
			c->name, k.errors, k.errors == 1 ? "" : "s", k.errors == 1 ? "it" : "them",
			c->name);
	for (i = 0; (x = tpl_findings_get(k.findings, i)) != NULL; i++) {
		if (x->severity != TPL_SEV_ERROR)
			continue;
		send_finding_format(x, line, sizeof(line));
		tpl_buf_appendf(&b, "\n  %s", line);
	}
	if (k.audience_code != NULL)
		tpl_buf_appendf(&b, "\n  %-7s %-14s %-16s %s", "error", "audience", k.audience_code,
				k.audience_error);
	s = b.data != NULL && !b.oom ? send_err(errstr, SEND_EINVAL, "%s", b.data) : SEND_ENOMEM;
done:
	tpl_buf_free(&b);
	send_campaign_checks_clear(&k);
	return s;
}

#define MAX_PUBS 16

struct pubs {
	struct send_dkim_pub k[MAX_PUBS];
	char *sel[MAX_PUBS], *txt[MAX_PUBS];
	size_t n;
};

static int collect_pub(const struct store_dkim_key *k, void *arg)
{
	struct pubs *ps = arg;

	if (ps->n == MAX_PUBS)
		return 1;
	ps->sel[ps->n] = strdup(k->selector);
	ps->txt[ps->n] = strdup(k->public_txt);
	if (ps->sel[ps->n] == NULL || ps->txt[ps->n] == NULL) {
		free(ps->sel[ps->n]);
		free(ps->txt[ps->n]);
		return 1;
	}
	ps->k[ps->n].selector = ps->sel[ps->n];
	ps->k[ps->n].public_txt = ps->txt[ps->n];
	ps->n++;
	return 0;
}

enum send_status send_domain_check_held(struct store *st, const char *domain,
					const char *dns_server, const char *sending_ip,
					struct send_domain_report **report, char **errstr)
{
	struct pubs ps;
	enum send_status s;
	char *bounce;
	size_t i;

	memset(&ps, 0, sizeof(ps));
	store_dkim_list(st, domain, false, collect_pub, &ps, NULL);
	bounce = send_setting(st, "bounce.domain");
	s = send_domain_check(domain, bounce, dns_server, sending_ip, ps.k, ps.n, report, errstr);
	free(bounce);
	for (i = 0; i < ps.n; i++) {
		free(ps.sel[i]);
		free(ps.txt[i]);
	}
	return s;
}
