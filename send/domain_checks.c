/*
 * send/domain_checks.c: the checks of a sending domain's DNS that
 * send_domain_check runs, each adding its items to the report: SPF (the
 * record, and its evaluation for a sending IP), DKIM, DMARC and alignment
 * (MX/A and PTR are in domain.c).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "send/private.h"

#define SPF_LOOKUP_LIMIT 10 /* RFC 7208 4.6.4 */
#define SPF_VOID_LIMIT 2    /* void lookups, RFC 7208 4.6.4 */
#define SPF_DEPTH_MAX 12
#define SPF_MX_MAX 10

/* ---- SPF ---------------------------------------------------------------------- */

enum spf_result {
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_NEUTRAL,
	SPF_NONE,
	SPF_PERMERROR,
	SPF_TEMPERROR,
	SPF_UNKNOWN, /* macros: not evaluated */
};

static const char *const spf_names[] = {"pass", "fail",	     "softfail",  "neutral",
					"none", "permerror", "temperror", "unknown"};

struct spf_ctx {
	struct send_dns *dns;
	int lookups;
	int voids;     /* lookups answered NXDOMAIN or with no records */
	char *problem; /* the first problem met while walking includes */
	unsigned char ip[16];
	int family; /* AF_INET, AF_INET6 or 0 */
};

static void problem(struct spf_ctx *c, const char *fmt, ...) SEND_PRINTF(2, 3);

static void problem(struct spf_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->problem != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&c->problem, fmt, ap) < 0)
		c->problem = NULL;
	va_end(ap);
}

/*
 * The SPF record of a domain: *spf is NULL with *count 0 (none) or >1. A DNS
 * failure is SEND_EDNS. A syntax error is SEND_EINVAL with errstr set.
 */
static enum send_status spf_fetch(struct spf_ctx *c, const char *domain, struct send_spf **spf,
				  int *count, char **errstr)
{
	char **txt = NULL;
	const char *rec = NULL;
	enum send_status st;

	*spf = NULL;
	*count = 0;
	st = send_dns_query(c->dns, domain, SEND_DNS_TXT, &txt, errstr);
	if (st != SEND_OK)
		goto done;
	for (size_t i = 0; txt[i] != NULL; i++) {
		if (send_spf_is_record(txt[i])) {
			rec = txt[i];
			(*count)++;
		}
	}
	if (*count == 1)
		st = send_spf_parse(rec, spf, errstr);
done:
	send_strv_free(&txt);
	return st;
}

/* Counts a void lookup (RFC 7208 4.6.4) when rrs is empty; true past the limit. */
static bool spf_void(struct spf_ctx *c, char *const *rrs)
{
	if (rrs[0] == NULL)
		c->voids++;
	return c->voids > SPF_VOID_LIMIT;
}

/* The query of an a, mx or exists term (to `target`), as any sender the
 * terms before it do not match makes it: counts it when it is void. */
static void spf_count_void(struct spf_ctx *c, const struct send_spf_term *t, const char *target)
{
	enum send_dns_type type = t->mech == SEND_SPF_MX ? SEND_DNS_MX : SEND_DNS_A;
	char **rrs = NULL;

	if ((t->mech != SEND_SPF_A && t->mech != SEND_SPF_MX && t->mech != SEND_SPF_EXISTS) ||
	    strchr(target, '%') != NULL)
		return;
	if (send_dns_query(c->dns, target, type, &rrs, NULL) == SEND_OK) {
		spf_void(c, rrs);
		if (t->mech == SEND_SPF_MX && send_strv_len(rrs) > SPF_MX_MAX)
			problem(c,
				"%s has %zu MX hosts; an mx term may look up %d (RFC 7208 4.6.4: "
				"permerror)",
				target, send_strv_len(rrs), SPF_MX_MAX);
	}
	send_strv_free(&rrs);
}

/* Counts DNS-querying terms through includes and redirects, and the void lookups. */
static void spf_count(struct spf_ctx *c, const struct send_spf *s, const char *domain, int depth)
{
	c->lookups += send_spf_lookups(s);
	for (size_t i = 0; i < s->nterms && c->lookups <= SPF_LOOKUP_LIMIT; i++)
		spf_count_void(c, &s->terms[i],
			       s->terms[i].domain != NULL ? s->terms[i].domain : domain);
	for (size_t i = 0; i <= s->nterms; i++) {
		const char *target = NULL;
		struct send_spf *sub = NULL;
		char *err = NULL;
		int n;

		if (i < s->nterms && s->terms[i].mech == SEND_SPF_INCLUDE)
			target = s->terms[i].domain;
		else if (i == s->nterms)
			target = s->redirect;
		if (target == NULL || strchr(target, '%') != NULL)
			continue;
		if (c->lookups > SPF_LOOKUP_LIMIT || depth >= SPF_DEPTH_MAX)
			return; /* over the limit already: no need to go deeper */
		if (spf_fetch(c, target, &sub, &n, &err) != SEND_OK)
			problem(c, "%s: %s", target, err != NULL ? err : "lookup failed");
		else if (n != 1)
			problem(c, "%s (included) has %d SPF records, not one", target, n);
		else
			spf_count(c, sub, target, depth + 1);
		free(err);
		send_spf_free(&sub);
	}
}

static bool cidr_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

/* Does any A/AAAA address of `name` match the IP within the prefix? */
static enum spf_result host_match(struct spf_ctx *c, const char *name,
				  const struct send_spf_term *t, bool *match)
{
	enum spf_result r = SPF_NONE;
	char **addrs = NULL;
	unsigned char a[16];
	enum send_dns_type type = c->family == AF_INET ? SEND_DNS_A : SEND_DNS_AAAA;

	*match = false;
	if (send_dns_query(c->dns, name, type, &addrs, NULL) != SEND_OK)
		return SPF_TEMPERROR;
	/* The a mechanism's own lookup; not the addresses of an mx's hosts. */
	if (t->mech == SEND_SPF_A && spf_void(c, addrs))
		r = SPF_PERMERROR;
	for (size_t i = 0; addrs[i] != NULL && !*match && r == SPF_NONE; i++) {
		if (inet_pton(c->family, addrs[i], a) == 1)
			*match = cidr_match(a, c->ip, c->family == AF_INET ? t->cidr4 : t->cidr6);
	}
	send_strv_free(&addrs);
	return r;
}

static enum spf_result spf_eval(struct spf_ctx *c, const char *domain, int depth);

/* Does term t of `domain`'s record match? Returns SPF_NONE, or an error result. */
static enum spf_result term_match(struct spf_ctx *c, const char *domain,
				  const struct send_spf_term *t, int depth, bool *match)
{
	const char *target = t->domain != NULL ? t->domain : domain;
	enum spf_result r = SPF_NONE;
	char **mx = NULL;

	*match = false;
	if (t->domain != NULL && strchr(t->domain, '%') != NULL)
		return SPF_UNKNOWN;
	/* A receiver counts the terms that query DNS as it evaluates (RFC 7208
	 * 4.6.4): the 11th is a permerror, whatever the terms after it. */
	if (t->mech != SEND_SPF_ALL && t->mech != SEND_SPF_IP4 && t->mech != SEND_SPF_IP6 &&
	    ++c->lookups > SPF_LOOKUP_LIMIT)
		return SPF_PERMERROR;
	switch (t->mech) {
	case SEND_SPF_ALL:
		*match = true;
		break;
	case SEND_SPF_IP4:
	case SEND_SPF_IP6:
		*match = c->family == (t->mech == SEND_SPF_IP4 ? AF_INET : AF_INET6) &&
			 cidr_match(t->addr, c->ip, t->mech == SEND_SPF_IP4 ? t->cidr4 : t->cidr6);
		break;
	case SEND_SPF_A:
		r = host_match(c, target, t, match);
		break;
	case SEND_SPF_MX:
		if (send_dns_query(c->dns, target, SEND_DNS_MX, &mx, NULL) != SEND_OK)
			return SPF_TEMPERROR;
		/* RFC 7208 4.6.4: more than 10 MX hosts to look up is a permerror. */
		if (spf_void(c, mx) || send_strv_len(mx) > SPF_MX_MAX)
			r = SPF_PERMERROR;
		for (size_t i = 0; mx[i] != NULL && !*match && r == SPF_NONE; i++)
			r = host_match(c, mx[i], t, match);
		send_strv_free(&mx);
		break;
	case SEND_SPF_INCLUDE:
		r = spf_eval(c, target, depth + 1);
		*match = r == SPF_PASS;
		if (r == SPF_NONE)
			return SPF_PERMERROR;
		if (r != SPF_PERMERROR && r != SPF_TEMPERROR && r != SPF_UNKNOWN)
			r = SPF_NONE;
		break;
	case SEND_SPF_EXISTS:
		if (send_dns_query(c->dns, target, SEND_DNS_A, &mx, NULL) != SEND_OK)
			return SPF_TEMPERROR;
		if (spf_void(c, mx))
			r = SPF_PERMERROR;
		*match = mx[0] != NULL && r == SPF_NONE;
		send_strv_free(&mx);
		break;
	case SEND_SPF_PTR: /* RFC 7208 5.5: do not use; never matches here */
		break;
	}
	return r;
}

static enum spf_result spf_eval(struct spf_ctx *c, const char *domain, int depth)
{
	struct send_spf *s = NULL;
	enum spf_result r = SPF_NEUTRAL;
	bool match = false;
	int n;

	if (depth >= SPF_DEPTH_MAX)
		return SPF_PERMERROR;
	switch (spf_fetch(c, domain, &s, &n, NULL)) {
	case SEND_OK:
		break;
	case SEND_EINVAL:
		return SPF_PERMERROR; /* a syntax error */
	default:
		return SPF_TEMPERROR;
	}
	if (n == 0)
		return SPF_NONE;
	if (n > 1 || s == NULL) {
		send_spf_free(&s);
		return SPF_PERMERROR;
	}
	for (size_t i = 0; i < s->nterms && !match; i++) {
		enum spf_result e = term_match(c, domain, &s->terms[i], depth, &match);

		if (e != SPF_NONE) {
			r = e;
			goto done;
		}
		if (match) {
			switch (s->terms[i].qual) {
			case '-':
				r = SPF_FAIL;
				break;
			case '~':
				r = SPF_SOFTFAIL;
				break;
			case '?':
				r = SPF_NEUTRAL;
				break;
			default:
				r = SPF_PASS;
				break;
			}
		}
	}
	if (!match && s->redirect != NULL) {
		r = strchr(s->redirect, '%') != NULL  ? SPF_UNKNOWN
		    : ++c->lookups > SPF_LOOKUP_LIMIT ? SPF_PERMERROR
						      : spf_eval(c, s->redirect, depth + 1);
		if (r == SPF_NONE)
			r = SPF_PERMERROR;
	}
done:
	send_spf_free(&s);
	return r;
}

/* The qualifier of the "all" that ends the record (following redirects), or 0. */
static char spf_all(struct spf_ctx *c, const struct send_spf *s, int depth)
{
	struct send_spf *sub = NULL;
	char q = 0;
	int n;

	for (size_t i = 0; i < s->nterms; i++)
		if (s->terms[i].mech == SEND_SPF_ALL)
			return s->terms[i].qual;
	if (s->redirect == NULL || depth >= SPF_DEPTH_MAX)
		return 0;
	if (spf_fetch(c, s->redirect, &sub, &n, NULL) == SEND_OK && sub != NULL)
		q = spf_all(c, sub, depth + 1);
	send_spf_free(&sub);
	return q;
}

static bool spf_has(const struct send_spf *s, enum send_spf_mech m)
{
	for (size_t i = 0; i < s->nterms; i++)
		if (s->terms[i].mech == m)
			return true;
	return false;
}

/*
 * Does the record pass an address no sender holds (reserved IPv4 space, and
 * IPv6 documentation space)? Then it lets anyone send, however it ends:
 * ip4:0.0.0.0/0, a:host/0, an include of a +all record... *probe: which.
 */
static bool passes_anyone(struct spf_ctx *c, const char *domain, const char **probe)
{
	static const char *const probes[] = {"240.0.0.1", "3fff:ffff::1"};
	int lookups = c->lookups, voids = c->voids;
	bool pass = false;

	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]) && !pass; i++) {
		c->family = strchr(probes[i], ':') != NULL ? AF_INET6 : AF_INET;
		inet_pton(c->family, probes[i], c->ip);
		c->lookups = c->voids = 0;
		pass = spf_eval(c, domain, 0) == SPF_PASS;
		*probe = probes[i];
	}
	c->lookups = lookups;
	c->voids = voids;
	c->family = 0;
	return pass;
}

enum send_status send_domain_check_spf(struct send_domain_report *r, struct send_dns *dns,
				       const char *domain, const char *ip, const char *item,
				       char **errstr)
{
	struct spf_ctx c = {.dns = dns};
	struct send_spf *s = NULL;
	char *err = NULL, fix[160], item_ip[40], all;
	const char *probe = NULL;
	int n = 0;
	enum spf_result res;
	enum send_status st;

	snprintf(item_ip, sizeof(item_ip), "%s-IP", item);
	st = spf_fetch(&c, domain, &s, &n, &err);
	if (st == SEND_EDNS) { /* the first query: the server itself is not answering */
		st = send_err(errstr, SEND_EDNS, "%s", err != NULL ? err : "dns failure");
		goto done;
	}
	snprintf(fix, sizeof(fix), "publish one TXT record at %s, e.g. \"v=spf1 ip4:%s -all\"",
		 domain, ip != NULL && strchr(ip, ':') == NULL ? ip : "192.0.2.1");
	if (st == SEND_EINVAL) {
		st = send_domain_add(r, SEND_CHECK_FAIL, item, "correct the record's syntax", "%s",
				     err);
		goto done;
	}
	if (st != SEND_OK)
		goto done;
	if (n == 0) {
		st = send_domain_add(r, SEND_CHECK_FAIL, item, fix, "no v=spf1 record at %s",
				     domain);
		goto done;
	}
	if (n > 1) {
		st = send_domain_add(r, SEND_CHECK_FAIL, item, "merge them into one record",
				     "%d v=spf1 records; RFC 7208 allows exactly one (permerror)",
				     n);
		goto done;
	}
	spf_count(&c, s, domain, 0);
	all = spf_all(&c, s, 0);
	if (c.lookups > SPF_LOOKUP_LIMIT)
		st =
		    send_domain_add(r, SEND_CHECK_FAIL, item,
				    "flatten includes, or replace a/mx/include with ip4/ip6 ranges",
				    "%d DNS lookups; RFC 7208 4.6.4 allows %d (permerror)",
				    c.lookups, SPF_LOOKUP_LIMIT);
	else if (c.voids > SPF_VOID_LIMIT)
		st =
		    send_domain_add(r, SEND_CHECK_FAIL, item,
				    "remove the a, mx and exists terms whose names do not resolve",
				    "%d void lookups (no such name, or no records); RFC 7208 4.6.4 "
				    "allows %d (permerror)",
				    c.voids, SPF_VOID_LIMIT);
	else if (c.problem != NULL)
		st = send_domain_add(r, SEND_CHECK_FAIL, item, "fix or remove that include", "%s",
				     c.problem);
	else if (all == '+')
		st = send_domain_add(r, SEND_CHECK_FAIL, item, "end the record with -all or ~all",
				     "+all lets anyone send as %s", domain);
	else if (passes_anyone(&c, domain, &probe))
		st = send_domain_add(r, SEND_CHECK_FAIL, item,
				     "list only the addresses that send for the domain",
				     "the record passes %s, which nobody should send from: it lets "
				     "anyone send as %s (a /0 range, or an include that does)",
				     probe, domain);
	else if (spf_has(s, SEND_SPF_PTR))
		st = send_domain_add(r, SEND_CHECK_WARN, item,
				     "replace ptr with the ip4/ip6 ranges it stands for",
				     "the record uses ptr, which RFC 7208 5.5 says not to publish: "
				     "it is slow, and receivers may skip it");
	else if (all == '?' || all == 0)
		st = send_domain_add(
		    r, SEND_CHECK_WARN, item, "end the record with ~all or -all",
		    "one record, %d lookups, %s: other senders get a neutral result", c.lookups,
		    all == '?' ? "ends with ?all" : "no all");
	else
		st = send_domain_add(r, SEND_CHECK_PASS, item, NULL,
				     "one record, %d lookups, ends with %call", c.lookups, all);
	if (st != SEND_OK || ip == NULL)
		goto done;

	c.family = strchr(ip, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(c.family, ip, c.ip) != 1) {
		st = send_err(errstr, SEND_EUSAGE, "spf: \"%.60s\" is not an IP address", ip);
		goto done;
	}
	snprintf(fix, sizeof(fix), "add %s:%s to the SPF record of %s",
		 c.family == AF_INET ? "ip4" : "ip6", ip, domain);
	c.voids = c.lookups = 0; /* the evaluation counts its own */
	res = spf_eval(&c, domain, 0);
	if (res == SPF_PASS)
		st = send_domain_add(r, SEND_CHECK_PASS, item_ip, NULL, "%s is allowed (pass)", ip);
	else if (res == SPF_UNKNOWN)
		st = send_domain_add(r, SEND_CHECK_WARN, item_ip, "check the macro terms by hand",
				     "the record uses macros; %s could not be evaluated", ip);
	else
		st = send_domain_add(r, SEND_CHECK_FAIL, item_ip, fix, "%s is not allowed (%s)", ip,
				     spf_names[res]);
done:
	free(err);
	free(c.problem);
	send_spf_free(&s);
	return st;
}

/* ---- DKIM ------------------------------------------------------------------------- */

/* Does the colon-separated tag value v (NULL: the tag is absent) list want, or "*"? */
static bool lists(const char *v, const char *want, bool star)
{
	size_t n;

	if (v == NULL)
		return true;
	for (; *v != '\0'; v += n + (v[n] == ':')) {
		while (*v == ' ' || *v == '\t')
			v++;
		n = strcspn(v, ":");
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if ((n == strlen(want) && strncasecmp(v, want, n) == 0) ||
		    (star && n == 1 && *v == '*'))
			return true;
		n = strcspn(v, ":");
	}
	return false;
}

/*
 * What the key record's other tags say (RFC 6376 3.6.1): a record whose h=
 * lacks sha256, or whose s= names neither email nor *, makes receivers
 * ignore every signature hato makes (FAIL); t=y asks them to treat signed
 * mail as unsigned (WARN). "" when none of it applies.
 */
static const char *record_tags(const char *txt, enum send_check_result *verdict)
{
	struct send_taglist *t = NULL;
	const char *why = "";

	*verdict = SEND_CHECK_PASS;
	if (send_taglist_parse(txt, &t, NULL) != SEND_OK)
		return why;
	if (!lists(send_taglist_get(t, "h"), "sha256", false)) {
		*verdict = SEND_CHECK_FAIL;
		why = "its h= does not list sha256, which hato signs with: receivers ignore the "
		      "signatures";
	} else if (!lists(send_taglist_get(t, "s"), "email", true)) {
		*verdict = SEND_CHECK_FAIL;
		why = "its s= names neither email nor *: receivers ignore the key for mail";
	} else if (send_taglist_get(t, "t") != NULL &&
		   lists(send_taglist_get(t, "t"), "y", false)) {
		*verdict = SEND_CHECK_WARN;
		why = "it is in testing mode (t=y): receivers treat signed mail as unsigned; take "
		      "t=y out once the tests are over";
	}
	send_taglist_free(&t);
	return why;
}

/* Decoded p= equality; false when either is not base64. */
static bool same_key(const char *p1, const char *p2)
{
	size_t l1 = strlen(p1), l2 = strlen(p2), n1 = 0, n2 = 0;
	unsigned char *b1 = malloc(l1 + 1), *b2 = malloc(l2 + 1);
	bool same = false;

	if (b1 != NULL && b2 != NULL &&
	    sodium_base642bin(b1, l1 + 1, p1, l1, NULL, &n1, NULL,
			      sodium_base64_VARIANT_ORIGINAL) == 0 &&
	    sodium_base642bin(b2, l2 + 1, p2, l2, NULL, &n2, NULL,
			      sodium_base64_VARIANT_ORIGINAL) == 0)
		same = n1 == n2 && n1 > 0 && memcmp(b1, b2, n1) == 0;
	free(b1);
	free(b2);
	return same;
}

enum send_status send_domain_check_dkim(struct send_domain_report *r, struct send_dns *dns,
					const char *domain, const struct send_dkim_pub *key)
{
	char item[80], qname[320], fix[1200], **txt = NULL, *err = NULL;
	char *ok = NULL, *op = NULL, *k = NULL, *p = NULL, *name = NULL, *value = NULL;
	size_t found = 0, match = 0;
	enum send_status st;
	enum send_check_result verdict = SEND_CHECK_PASS;
	const char *why = "";
	unsigned bits = 0;

	snprintf(item, sizeof(item), "DKIM %.60s", key->selector != NULL ? key->selector : "?");
	if (send_dkim_dns_record(key->selector, domain, key->public_txt, &name, &value, &err) !=
		SEND_OK ||
	    send_dkim_record_parse(key->public_txt, &ok, &op, &err) != SEND_OK) {
		st = send_domain_add(r, SEND_CHECK_FAIL, item, "regenerate the key",
				     "the key hato holds: %s", err != NULL ? err : "unusable");
		goto done;
	}
	snprintf(qname, sizeof(qname), "%s", name);
	snprintf(fix, sizeof(fix), "publish %s TXT %s", name, value);
	st = send_dns_query(dns, qname, SEND_DNS_TXT, &txt, &err);
	if (st == SEND_EDNS) {
		st = send_domain_add(r, SEND_CHECK_FAIL, item, "retry, or check the DNS server",
				     "%s", err);
		goto done;
	}
	if (st != SEND_OK)
		goto done;
	for (size_t i = 0; txt[i] != NULL; i++) {
		char *kk = NULL, *pp = NULL;

		if (send_dkim_record_parse(txt[i], &kk, &pp, NULL) != SEND_OK)
			continue;
		found++;
		match = i;
		free(k);
		free(p);
		k = kk;
		p = pp;
	}
	if (found == 1 && *p != '\0') {
		why = record_tags(txt[match], &verdict);
		bits = strcasecmp(ok, "rsa") == 0 ? send_dkim_public_bits(key->public_txt) : 0;
	}
	if (found == 0)
		st = send_domain_add(r, SEND_CHECK_FAIL, item, fix, "no DKIM key record at %s",
				     qname);
	else if (found > 1)
		st = send_domain_add(r, SEND_CHECK_FAIL, item, fix,
				     "%zu key records at %s; publish one", found, qname);
	else if (*p == '\0')
		st = send_domain_add(r, SEND_CHECK_FAIL, item, fix,
				     "the key at %s is revoked (empty p=)", qname);
	else if (strcasecmp(k, ok) != 0)
		st = send_domain_add(r, SEND_CHECK_FAIL, item, fix,
				     "%s publishes k=%s, hato signs with k=%s", qname, k, ok);
	else if (!same_key(p, op))
		st = send_domain_add(r, SEND_CHECK_FAIL, item, fix,
				     "the p= at %s is not the public key hato holds", qname);
	else if (verdict != SEND_CHECK_PASS)
		st = send_domain_add(r, verdict, item, fix, "%s publishes our %s key, but %s",
				     qname, ok, why);
	else if (bits > 0 && bits < SEND_DKIM_RSA_BITS_DEFAULT)
		st = send_domain_add(
		    r, SEND_CHECK_WARN, item,
		    "make a 2048-bit key under a new selector (hato dkim keygen), "
		    "publish it, then retire this one",
		    "%s publishes our %u-bit RSA key; 2048 bits is the size to use", qname, bits);
	else
		st = send_domain_add(r, SEND_CHECK_PASS, item, NULL, "%s publishes our %s key",
				     qname, ok);
done:
	send_strv_free(&txt);
	free(err);
	free(ok);
	free(op);
	free(k);
	free(p);
	free(name);
	free(value);
	return st;
}

/* ---- DMARC and alignment ------------------------------------------------------------- */

/*
 * The name above `name` that the DMARC tree walk asks next (RFC 9989 4.10):
 * one label fewer, or straight to the last 7 labels from 8 or more; NULL
 * above a single label.
 */
static const char *dmarc_parent(const char *name)
{
	size_t labels = 1;
	const char *p;

	for (p = name; *p != '\0'; p++)
		labels += *p == '.';
	if (labels <= 1)
		return NULL;
	for (p = name; labels > 7; labels--)
		p = strchr(p, '.') + 1;
	if (p == name)
		p = strchr(name, '.') + 1;
	return *p != '\0' ? p : NULL;
}

/*
 * Finds the DMARC record that applies to mail from domain: the one at
 * _dmarc.DOMAIN, else the first one walking up the tree, which reaches the
 * organisational domain without a public suffix list (RFC 9989 4.10; RFC 7489
 * 6.6.3 asks the organisational domain). Fills qname (where the walk stopped),
 * *txt (the TXT records there, allocated), *rec (the first DMARC one) and *n
 * (how many there are; 0 when the walk found none).
 */
static enum send_status dmarc_find(struct send_dns *dns, const char *domain, char *qname,
				   size_t qlen, char ***txt, const char **rec, size_t *n,
				   char **err)
{
	const char *name = domain;
	enum send_status st;

	for (;;) {
		snprintf(qname, qlen, "_dmarc.%s", name);
		st = send_dns_query(dns, qname, SEND_DNS_TXT, txt, err);
		if (st != SEND_OK)
			return st;
		*n = 0;
		*rec = NULL;
		for (size_t i = 0; (*txt)[i] != NULL; i++)
			if (send_dmarc_is_record((*txt)[i]) && (*n)++ == 0)
				*rec = (*txt)[i];
		name = dmarc_parent(name);
		if (*n > 0 || name == NULL)
			return SEND_OK;
		send_strv_free(txt);
	}
}

enum send_status send_domain_check_dmarc(struct send_domain_report *r, struct send_dns *dns,
					 const char *domain, size_t nkeys)
{
	char qname[300], fix[400], notes[800] = "", **txt = NULL, *err = NULL;
	const char *rec = NULL;
	struct send_dmarc dm;
	enum send_dmarc_policy policy;
	size_t n = 0;
	bool inherited;
	enum send_status st;
	enum send_check_result res;

	snprintf(fix, sizeof(fix),
		 "publish _dmarc.%s TXT \"v=DMARC1; p=none; rua=mailto:dmarc@%s\", then move to "
		 "p=quarantine or p=reject",
		 domain, domain);
	st = dmarc_find(dns, domain, qname, sizeof(qname), &txt, &rec, &n, &err);
	if (st == SEND_EDNS) {
		st = send_domain_add(r, SEND_CHECK_FAIL, "DMARC", "retry, or check the DNS server",
				     "%s", err);
		goto done;
	}
	if (st != SEND_OK)
		goto done;
	if (n == 0) {
		st = send_domain_add(r, SEND_CHECK_FAIL, "DMARC", fix,
				     "no v=DMARC1 record at _dmarc.%s or at any parent domain",
				     domain);
		goto done;
	}
	if (n > 1) {
		st =
		    send_domain_add(r, SEND_CHECK_FAIL, "DMARC", "keep one record",
				    "%zu DMARC records at %s; receivers ignore them all", n, qname);
		goto done;
	}
	if (send_dmarc_parse(rec, &dm, &err) != SEND_OK) {
		st = send_domain_add(r, SEND_CHECK_FAIL, "DMARC", "correct the record", "%s", err);
		goto done;
	}
	/*
	 * A subdomain without its own record takes the sp= of the one above
	 * (else its p=). A record without p= is no policy: receivers read it
	 * as p=none, or ignore it (RFC 7489 6.6.3), its sp= included.
	 */
	inherited = strcmp(qname + strlen("_dmarc."), domain) != 0;
	policy = dm.p == SEND_DMARC_UNSET		  ? SEND_DMARC_UNSET
		 : inherited && dm.sp != SEND_DMARC_UNSET ? dm.sp
							  : dm.p;
	if (dm.p == SEND_DMARC_UNSET)
		snprintf(notes, sizeof(notes), " (no p= in %s: add one)", qname);
	else if (inherited)
		snprintf(notes, sizeof(notes), " (the %s of %s, which covers %s)",
			 dm.sp != SEND_DMARC_UNSET ? "sp=" : "p=", qname, domain);
	if (dm.pct >= 0 && dm.pct < 100)
		snprintf(notes + strlen(notes), sizeof(notes) - strlen(notes),
			 "; pct=%d: the policy covers %d%% of failing mail", dm.pct, dm.pct);
	if (dm.pct >= 0 || dm.has_rf || dm.has_ri)
		snprintf(notes + strlen(notes), sizeof(notes) - strlen(notes),
			 "; pct/rf/ri accepted (RFC 7489), RFC 9989 drops them");
	if (dm.t == 'y')
		snprintf(notes + strlen(notes), sizeof(notes) - strlen(notes),
			 "; t=y: testing mode (RFC 9989)");
	res = policy == SEND_DMARC_QUARANTINE || policy == SEND_DMARC_REJECT ? SEND_CHECK_PASS
									     : SEND_CHECK_WARN;
	if (dm.t == 'y' || (dm.pct >= 0 && dm.pct < 100))
		res = SEND_CHECK_WARN;
	if (policy == SEND_DMARC_NONE || policy == SEND_DMARC_UNSET)
		st = send_domain_add(
		    r, res, "DMARC",
		    "when the reports look clean, move to p=quarantine, then p=reject",
		    "p=%s: monitoring only, receivers take no action%s",
		    policy == SEND_DMARC_NONE ? "none" : "unset (treated as none)", notes);
	else
		st = send_domain_add(r, res, "DMARC",
				     res == SEND_CHECK_PASS ? NULL : "remove pct<100 or t=y",
				     "p=%s%s", send_dmarc_policy_name(policy), notes);
	if (st != SEND_OK)
		goto done;
	/* hato signs with d= the From domain itself, so DKIM aligns in both modes */
	if (nkeys == 0)
		st = send_domain_add(
		    r, SEND_CHECK_WARN, "ALIGN", "add a DKIM key for the From domain",
		    "no DKIM key: alignment rests on SPF alone (aspf=%c)", dm.aspf);
	else
		st = send_domain_add(
		    r, SEND_CHECK_PASS, "ALIGN", NULL,
		    "DKIM d=%s aligns with From @%s (adkim=%c %s); SPF aspf=%c %s", domain, domain,
		    dm.adkim, dm.adkim == 's' ? "strict" : "relaxed", dm.aspf,
		    dm.aspf == 's' ? "strict: a Return-Path on a subdomain does not align"
				   : "relaxed");
done:
	send_strv_free(&txt);
	free(err);
	return st;
}
