/*
 * send/domain.c: the domain authentication check and its report. The
 * check runs the checks of domain_checks.c (SPF, DKIM, DMARC) and its own
 * (MX/A, PTR, the envelope sender's domain), each of which adds its items
 * here. Also the TXT record text that publishes a DKIM key.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "send/private.h"

struct item {
	enum send_check_result result;
	char *name, *reason, *fix;
};

struct send_domain_report {
	struct item *items;
	size_t n;
};

const char *send_check_result_name(enum send_check_result r)
{
	switch (r) {
	case SEND_CHECK_PASS:
		return "PASS";
	case SEND_CHECK_WARN:
		return "WARN";
	case SEND_CHECK_FAIL:
		return "FAIL";
	}
	return "????";
}

enum send_status send_domain_add(struct send_domain_report *r, enum send_check_result res,
				 const char *name, const char *fix, const char *fmt, ...)
{
	struct item *ni, *it;
	va_list ap;
	int rc;

	ni = realloc(r->items, (r->n + 1) * sizeof(*ni));
	if (ni == NULL)
		return SEND_ENOMEM;
	r->items = ni;
	it = &ni[r->n];
	it->result = res;
	it->name = strdup(name);
	it->fix = strdup(fix != NULL ? fix : "");
	va_start(ap, fmt);
	rc = vasprintf(&it->reason, fmt, ap);
	va_end(ap);
	if (rc < 0)
		it->reason = NULL;
	r->n++;
	if (it->name == NULL || it->fix == NULL || it->reason == NULL)
		return SEND_ENOMEM;
	return SEND_OK;
}

/* ---- TXT records ------------------------------------------------------------- */

enum send_status send_txt_split(const char *value, size_t max, char ***strings, char **errstr)
{
	char **v = NULL;
	size_t n = 0, len;
	enum send_status st = SEND_OK;

	if (strings == NULL || value == NULL || max > 255) {
		st = send_err(errstr, SEND_EUSAGE, "txt: bad arguments");
		goto done;
	}
	*strings = NULL;
	if (max == 0)
		max = 255;
	len = strlen(value);
	for (size_t i = 0; i < len; i++) {
		if (value[i] < 0x20 || value[i] > 0x7e) {
			st = send_err(errstr, SEND_EINVAL,
				      "txt: control or non-ASCII character at offset %zu", i);
			goto done;
		}
	}
	for (size_t off = 0; off < len || n == 0; off += max) {
		size_t chunk = len - off < max ? len - off : max;

		st = send_strv_push(&v, &n, strndup(value + off, chunk));
		if (st != SEND_OK)
			goto done;
		if (len == 0)
			break;
	}
	*strings = v;
	v = NULL;
done:
	send_strv_free(&v);
	return st;
}

enum send_status send_dkim_dns_record(const char *selector, const char *domain,
				      const char *public_txt, char **name, char **value,
				      char **errstr)
{
	char **parts = NULL, *out = NULL;
	size_t cap = 0, used = 0;
	enum send_status st = SEND_OK;

	if (name == NULL || value == NULL || public_txt == NULL) {
		st = send_err(errstr, SEND_EUSAGE, "dkim: bad arguments");
		goto done;
	}
	*name = NULL;
	*value = NULL;
	st = send_name_check("selector", selector, errstr);
	if (st == SEND_OK)
		st = send_name_check("domain", domain, errstr);
	if (st == SEND_OK)
		st = send_txt_split(public_txt, 255, &parts, errstr);
	if (st != SEND_OK)
		goto done;
	for (size_t i = 0; parts[i] != NULL; i++)
		cap += 2 * strlen(parts[i]) + 3;
	out = malloc(cap + 1);
	if (out == NULL) {
		st = SEND_ENOMEM;
		goto done;
	}
	for (size_t i = 0; parts[i] != NULL; i++) {
		if (i > 0)
			out[used++] = ' ';
		out[used++] = '"';
		for (const char *p = parts[i]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				out[used++] = '\\';
			out[used++] = *p;
		}
		out[used++] = '"';
	}
	out[used] = '\0';
	if (asprintf(name, "%s._domainkey.%s", selector, domain) < 0) {
		*name = NULL;
		st = SEND_ENOMEM;
		goto done;
	}
	*value = out;
	out = NULL;
done:
	free(out);
	send_strv_free(&parts);
	return st;
}

/* The name whose PTR record names the host at ip: d.c.b.a.in-addr.arpa, or
 * ip6.arpa's nibbles; false when ip is not an address. */
static bool reverse_name(const char *ip, char *out, size_t n, unsigned char a[16], int *family)
{
	size_t k = 0;

	if (inet_pton(AF_INET, ip, a) == 1) {
		*family = AF_INET;
		snprintf(out, n, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
		return true;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return false;
	*family = AF_INET6;
	for (int i = 15; i >= 0 && k < n; i--)
		k += (size_t)snprintf(out + k, n - k, "%x.%x.", a[i] & 15u, a[i] >> 4);
	if (k < n)
		snprintf(out + k, n - k, "ip6.arpa");
	return true;
}

/* Does name have ip (a, of family) among its addresses? */
static enum send_status resolves_to(struct send_dns *dns, const char *name, int family,
				    const unsigned char *a, bool *yes, char **errstr)
{
	char **addrs = NULL;
	unsigned char b[16];
	enum send_status st;

	*yes = false;
	st = send_dns_query(dns, name, family == AF_INET ? SEND_DNS_A : SEND_DNS_AAAA, &addrs,
			    errstr);
	for (size_t i = 0; st == SEND_OK && addrs[i] != NULL && !*yes; i++)
		*yes = inet_pton(family, addrs[i], b) == 1 &&
		       memcmp(a, b, family == AF_INET ? 4 : 16) == 0;
	send_strv_free(&addrs);
	return st;
}

/* ---- MX / A ----------------------------------------------------------------------------- */

enum send_status send_domain_check_mx(struct send_domain_report *r, struct send_dns *dns,
				      const char *domain)
{
	static const char fix[] = "publish an MX (or at least an A) record; docomo and other "
				  "receivers refuse mail from domains that do not resolve";
	char **mx = NULL, **a = NULL, *err = NULL;
	enum send_status st;

	st = send_dns_query(dns, domain, SEND_DNS_MX, &mx, &err);
	if (st == SEND_OK && mx[0] == NULL) {
		st = send_dns_query(dns, domain, SEND_DNS_A, &a, &err);
		if (st == SEND_OK && a[0] == NULL) {
			send_strv_free(&a);
			st = send_dns_query(dns, domain, SEND_DNS_AAAA, &a, &err);
		}
	}
	if (st == SEND_EDNS)
		st = send_domain_add(r, SEND_CHECK_FAIL, "MX", "retry, or check the DNS server",
				     "%s", err);
	else if (st != SEND_OK)
		;
	else if (mx[0] != NULL && strcmp(mx[0], ".") == 0 && mx[1] == NULL)
		st = send_domain_add(r, SEND_CHECK_FAIL, "MX", fix,
				     "null MX: %s receives no mail, so replies and bounces fail",
				     domain);
	else if (mx[0] != NULL)
		st = send_domain_add(r, SEND_CHECK_PASS, "MX", NULL, "%zu MX record%s, first %s",
				     send_strv_len(mx), mx[1] != NULL ? "s" : "", mx[0]);
	else if (a[0] != NULL)
		st = send_domain_add(r, SEND_CHECK_PASS, "MX", NULL,
				     "no MX, but an address record (%s)", a[0]);
	else
		st = send_domain_add(r, SEND_CHECK_FAIL, "MX", fix,
				     "no MX and no A/AAAA record for %s", domain);
	send_strv_free(&mx);
	send_strv_free(&a);
	free(err);
	return st;
}

enum send_status send_domain_check_ptr(struct send_domain_report *r, struct send_dns *dns,
				       const char *ip)
{
	char rev[80], **ptr = NULL, *err = NULL;
	unsigned char a[16];
	enum send_status st;
	bool yes = false;
	size_t i;
	int family;

	if (!reverse_name(ip, rev, sizeof(rev), a, &family))
		return SEND_OK; /* SPF-IP says so already */
	st = send_dns_query(dns, rev, SEND_DNS_PTR, &ptr, &err);
	for (i = 0; st == SEND_OK && ptr[i] != NULL && !yes; i++)
		st = resolves_to(dns, ptr[i], family, a, &yes, &err);
	if (st == SEND_EDNS)
		st = send_domain_add(r, SEND_CHECK_FAIL, "PTR", "retry, or check the DNS server",
				     "%s", err);
	else if (st != SEND_OK)
		;
	else if (ptr[0] == NULL)
		st = send_domain_add(
		    r, SEND_CHECK_FAIL, "PTR",
		    "ask whoever runs the IP to set its reverse DNS to the sending host's name",
		    "%s has no PTR record: Gmail, Yahoo and docomo refuse or junk mail from an IP "
		    "without reverse DNS",
		    ip);
	else if (yes)
		st = send_domain_add(r, SEND_CHECK_PASS, "PTR", NULL,
				     "%s is %s, which resolves back to it", ip, ptr[i - 1]);
	else
		st = send_domain_add(
		    r, SEND_CHECK_FAIL, "PTR",
		    "give that name an address record for the IP, or the IP a "
		    "PTR to a name that has one",
		    "%s is %s, which does not resolve back to it (forward-confirmed "
		    "reverse DNS fails)",
		    ip, ptr[0]);
	send_strv_free(&ptr);
	free(err);
	return st;
}

/* ---- The check and its report ---------------------------------------------------------- */

/*
 * The envelope sender's domain, when it is not From's (bounce.domain):
 * receivers check SPF for it, and DMARC's SPF alignment needs it in From's
 * organisation. DKIM, on the From domain, aligns either way.
 */
static enum send_status check_envelope(struct send_domain_report *r, struct send_dns *dns,
				       const char *domain, const char *envelope,
				       const char *sending_ip, char **errstr)
{
	enum send_status st;

	st = send_domain_check_spf(r, dns, envelope, sending_ip, "BOUNCE-SPF", errstr);
	if (st != SEND_OK)
		return st;
	if (strcasecmp(send_org_domain(envelope), send_org_domain(domain)) == 0)
		return send_domain_add(r, SEND_CHECK_PASS, "BOUNCE-ALIGN", NULL,
				       "bounce.domain %s is in the organisation of %s: SPF aligns "
				       "for DMARC under aspf=r (not aspf=s)",
				       envelope, send_org_domain(domain));
	return send_domain_add(r, SEND_CHECK_WARN, "BOUNCE-ALIGN",
			       "set bounce.domain to a subdomain of the From domain",
			       "bounce.domain %s is outside the organisation of %s: SPF passes "
			       "for the envelope sender but does not align for DMARC, which "
			       "rests on DKIM alone",
			       envelope, send_org_domain(domain));
}

enum send_status send_domain_check(const char *domain, const char *envelope, const char *dns_server,
				   const char *sending_ip, const struct send_dkim_pub *keys,
				   size_t nkeys, struct send_domain_report **report, char **errstr)
{
	struct send_domain_report *r = NULL;
	struct send_dns *dns = NULL;
	enum send_status st;

	if (report == NULL || (nkeys > 0 && keys == NULL))
		return send_err(errstr, SEND_EUSAGE, "domain: bad arguments");
	*report = NULL;
	st = send_name_check("domain", domain, errstr);
	if (st != SEND_OK)
		goto done;
	if (sodium_init() < 0) {
		st = send_err(errstr, SEND_ECRYPTO, "domain: libsodium failed to start");
		goto done;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		st = SEND_ENOMEM;
		goto done;
	}
	st = send_dns_open(dns_server, &dns, errstr);
	if (st == SEND_OK)
		st = send_domain_check_spf(r, dns, domain, sending_ip, "SPF", errstr);
	if (st == SEND_OK && envelope != NULL && *envelope != '\0' &&
	    strcasecmp(envelope, domain) != 0)
		st = check_envelope(r, dns, domain, envelope, sending_ip, errstr);
	if (st == SEND_OK && nkeys == 0)
		st = send_domain_add(r, SEND_CHECK_FAIL, "DKIM",
				     "generate a key and publish its record",
				     "hato holds no DKIM key for %s", domain);
	for (size_t i = 0; i < nkeys && st == SEND_OK; i++)
		st = send_domain_check_dkim(r, dns, domain, &keys[i]);
	if (st == SEND_OK)
		st = send_domain_check_dmarc(r, dns, domain, nkeys);
	if (st == SEND_OK)
		st = send_domain_check_mx(r, dns, domain);
	if (st == SEND_OK && sending_ip != NULL)
		st = send_domain_check_ptr(r, dns, sending_ip);
	if (st != SEND_OK)
		goto done;
	*report = r;
	r = NULL;
done:
	send_dns_close(&dns);
	send_domain_report_free(&r);
	return st;
}

size_t send_domain_report_count(const struct send_domain_report *r)
{
	return r != NULL ? r->n : 0;
}

enum send_check_result send_domain_report_item(const struct send_domain_report *r, size_t i,
					       const char **name, const char **reason,
					       const char **fix)
{
	const struct item *it = r != NULL && i < r->n ? &r->items[i] : NULL;

	if (name != NULL)
		*name = it != NULL ? it->name : NULL;
	if (reason != NULL)
		*reason = it != NULL ? it->reason : NULL;
	if (fix != NULL)
		*fix = it != NULL ? it->fix : NULL;
	return it != NULL ? it->result : SEND_CHECK_FAIL;
}

int send_domain_report_find(const struct send_domain_report *r, const char *name)
{
	for (size_t i = 0; r != NULL && name != NULL && i < r->n; i++)
		if (strcmp(r->items[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool send_domain_report_ok(const struct send_domain_report *r)
{
	if (r == NULL)
		return false;
	for (size_t i = 0; i < r->n; i++)
		if (r->items[i].result == SEND_CHECK_FAIL)
			return false;
	return true;
}

enum send_status send_domain_report_format(const struct send_domain_report *r, char **text,
					   char **errstr)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = NULL;
	enum send_status st = SEND_OK;

	if (r == NULL || text == NULL) {
		st = send_err(errstr, SEND_EUSAGE, "domain: bad arguments");
		goto done;
	}
	*text = NULL;
	f = open_memstream(&buf, &size);
	if (f == NULL) {
		st = SEND_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct item *it = &r->items[i];

		fprintf(f, "%s  %-7s %s\n", send_check_result_name(it->result), it->name,
			it->reason);
		if (it->result != SEND_CHECK_PASS && it->fix[0] != '\0')
			fprintf(f, "              fix: %s\n", it->fix);
	}
	if (fclose(f) != 0) {
		f = NULL;
		st = SEND_ENOMEM;
		goto done;
	}
	f = NULL;
	*text = buf;
	buf = NULL;
done:
	if (f != NULL)
		fclose(f);
	free(buf);
	return st;
}

void send_domain_report_free(struct send_domain_report **r)
{
	if (r == NULL || *r == NULL)
		return;
	for (size_t i = 0; i < (*r)->n; i++) {
		free((*r)->items[i].name);
		free((*r)->items[i].reason);
		free((*r)->items[i].fix);
	}
	free((*r)->items);
	free(*r);
	*r = NULL;
}
