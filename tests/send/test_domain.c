/*
 * tests/send/test_domain.c: the domain authentication check against a real
 * DNS server (dnsmasq on a loopback port, serving crafted zones), and the
 * parsers of SPF, DMARC and DKIM records on their own.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "send/private.h"
#include "send/send.h"

#define DNSMASQ "/usr/sbin/dnsmasq"

static struct {
	pid_t pid;
	char server[32];
	char *rsa_pem, *rsa_txt, *ed_pem, *ed_txt, *other_txt, *small_txt;
	char **argv;
	size_t argc;
} S;

static void arg(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL || send_strv_push(&S.argv, &S.argc, s) != SEND_OK)
		abort();
}

/* --txt-record=NAME,STRING,STRING...: dnsmasq takes one comma-separated string each. */
static void txt(const char *name, const char *value)
{
	char **parts = NULL, *joined = NULL;
	size_t len = strlen(name) + 16;

	if (send_txt_split(value, 255, &parts, NULL) != SEND_OK)
		abort();
	for (size_t i = 0; parts[i] != NULL; i++)
		len += strlen(parts[i]) + 1;
	joined = calloc(1, len);
	if (joined == NULL)
		abort();
	snprintf(joined, len, "--txt-record=%s", name);
	for (size_t i = 0; parts[i] != NULL; i++) {
		strncat(joined, ",", len - strlen(joined) - 1);
		strncat(joined, parts[i], len - strlen(joined) - 1);
	}
	if (send_strv_push(&S.argv, &S.argc, joined) != SEND_OK)
		abort();
	send_strv_free(&parts);
}

static void zones(void)
{
	/* good.test: everything right. Its SPF record comes as two strings. */
	arg("--txt-record=good.test,v=spf1 ip4:192.0.2.0/24 ,include:_spf.good.test mx -all");
	arg("--txt-record=good.test,google-site-verification=abc123");
	txt("_spf.good.test", "v=spf1 ip4:198.51.100.7 ip6:2001:db8::/32 -all");
	arg("--mx-host=good.test,mx.good.test,10");
	arg("--host-record=mx.good.test,203.0.113.25");
	/* Reverse DNS: forward-confirmed for .7 (A and PTR); a PTR to a name with
	 * another address for .8; none for other IPs. */
	arg("--host-record=out.good.test,198.51.100.7");
	arg("--ptr-record=8.100.51.198.in-addr.arpa,liar.good.test");
	arg("--host-record=liar.good.test,198.51.100.99");
	arg("--host-record=out6.good.test,2001:db8::25");
	txt("rsa._domainkey.good.test", S.rsa_txt);
	txt("ed._domainkey.good.test", S.ed_txt);
	txt("_dmarc.good.test", "v=DMARC1; p=reject; adkim=s; aspf=r; rua=mailto:d@good.test");

	/* two SPF records */
	txt("twospf.test", "v=spf1 ip4:192.0.2.1 -all");
	txt("twospf.test", "v=spf1 include:_spf.good.test -all");
	arg("--mx-host=twospf.test,mx.good.test,10");

	/* 11 includes before the ip4 that allows the sender, and 10 */
	{
		char v[400] = "v=spf1";

		for (int i = 1; i <= 11; i++) {
			char n[40];

			snprintf(n, sizeof(n), "w%d.wide.test", i);
			txt(n, "v=spf1 -all");
			snprintf(v + strlen(v), sizeof(v) - strlen(v), " include:%s", n);
			if (i == 10) {
				char ten[440];

				snprintf(ten, sizeof(ten), "%s ip4:192.0.2.0/24 -all", v);
				txt("tenwide.test", ten);
			}
		}
		strcat(v, " ip4:192.0.2.0/24 -all");
		txt("wide.test", v);
	}

	/* 11 lookups through nested includes, and 10 */
	txt("deep.test", "v=spf1 include:l1.deep.test -all");
	for (int i = 1; i <= 9; i++) {
		char n[40], v[80];

		snprintf(n, sizeof(n), "l%d.deep.test", i);
		snprintf(v, sizeof(v), "v=spf1 include:l%d.deep.test -all", i + 1);
		txt(n, v);
	}
	txt("l10.deep.test", "v=spf1 a -all");
	txt("ten.test", "v=spf1 include:t1.ten.test -all");
	for (int i = 1; i <= 8; i++) {
		char n[40], v[80];

		snprintf(n, sizeof(n), "t%d.ten.test", i);
		snprintf(v, sizeof(v), "v=spf1 include:t%d.ten.test -all", i + 1);
		txt(n, v);
	}
	txt("t9.ten.test", "v=spf1 a -all");

	/* no DMARC; p=none with RFC 7489 tags; RFC 9989 tags */
	txt("nodmarc.test", "v=spf1 ip4:192.0.2.1 -all");
	arg("--mx-host=nodmarc.test,mx.good.test,10");
	txt("none.test", "v=spf1 ip4:192.0.2.1 -all");
	txt("_dmarc.none.test",
	    "v=DMARC1; p=none; pct=100; rf=afrf; ri=86400; rua=mailto:d@none.test");
	arg("--mx-host=none.test,mx.good.test,10");
	txt("bis.test", "v=spf1 ip4:192.0.2.1 ~all");
	txt("_dmarc.bis.test", "v=DMARC1; p=quarantine; np=reject; psd=n; t=n; aspf=s");
	arg("--host-record=bis.test,192.0.2.80");

	/* Subdomains without a record of their own: the DMARC tree walk (RFC 9989 4.10) */
	txt("_dmarc.org.test", "v=DMARC1; p=reject; sp=quarantine; adkim=s");
	txt("news.org.test", "v=spf1 ip4:192.0.2.1 -all");
	txt("_dmarc.nosp.test", "v=DMARC1; p=reject");
	txt("_dmarc.spnone.test", "v=DMARC1; p=reject; sp=none");
	txt("_dmarc.own.spnone.test", "v=DMARC1; p=quarantine");
	txt("_dmarc.nop.test", "v=DMARC1; sp=reject"); /* no p=: not a policy */

	/* DKIM: another key under our RSA selector, nothing under ed */
	txt("mismatch.test", "v=spf1 ip4:192.0.2.1 -all");
	txt("rsa._domainkey.mismatch.test", S.other_txt);
	txt("_dmarc.mismatch.test", "v=DMARC1; p=reject");
	arg("--mx-host=mismatch.test,mx.good.test,10");

	/* DKIM: our RSA key with tags that make receivers ignore it (h=, s=) or
	 * treat it as unsigned (t=y), with ones that don't, and a 1024-bit key */
	{
		static const char *const tagged[][2] = {
		    {"sha1", "h=sha1"},	       {"svc", "s=other"},   {"testing", "t=y:s"},
		    {"both", "h=sha1:sha256"}, {"star", "s=*; t=s"},
		};
		char n[64], v[1200];

		for (size_t i = 0; i < sizeof(tagged) / sizeof(tagged[0]); i++) {
			snprintf(n, sizeof(n), "rsa._domainkey.%s.test", tagged[i][0]);
			snprintf(v, sizeof(v), "%s; %s", S.rsa_txt, tagged[i][1]);
			txt(n, v);
		}
		txt("small._domainkey.good.test", S.small_txt);
	}

	/* Records that let anyone send without +all; an mx of 11 hosts */
	txt("anyone.test", "v=spf1 ip4:0.0.0.0/0 -all");
	txt("ptr.test", "v=spf1 ptr ip4:192.0.2.1 -all");
	/* envelope senders (bounce.domain): one with SPF, elsewhere */
	txt("bounce.elsewhere.test", "v=spf1 ip4:192.0.2.0/24 -all");
	txt("anyone6.test", "v=spf1 ip4:192.0.2.1 ip6:::/0 -all");
	txt("incany.test", "v=spf1 include:plusall.test -all");
	txt("azero.test", "v=spf1 a:mx.good.test/0 -all");
	txt("mx11.test", "v=spf1 mx:many.mx.test ip4:192.0.2.0/24 -all");
	for (int i = 1; i <= 11; i++)
		arg("--mx-host=many.mx.test,m%d.many.mx.test,%d", i, i);

	/* no MX and no A */
	txt("nomx.test", "v=spf1 ip4:192.0.2.1 -all");
	txt("_dmarc.nomx.test", "v=DMARC1; p=reject");

	/* +all, ?all, redirect, an include without a record, a syntax error */
	txt("plusall.test", "v=spf1 +all");
	txt("qall.test", "v=spf1 ip4:192.0.2.1 ?all");
	txt("redirect.test", "v=spf1 redirect=_spf.good.test");
	txt("brokeninc.test", "v=spf1 include:missing.test -all");
	txt("syntax.test", "v=spf1 ip4:300.1.1.1 -all");
	/* void lookups (RFC 7208 4.6.4): names that do not resolve; two are allowed */
	txt("void.test",
	    "v=spf1 a:nx1.void.test a:nx2.void.test mx:nx3.void.test ip4:192.0.2.7 -all");
	txt("twovoid.test", "v=spf1 a:nx1.void.test exists:nx2.void.test ip4:192.0.2.7 -all");
}

static bool server_answers(void)
{
	struct send_dns *dns = NULL;
	char **rrs = NULL;
	bool ok;

	if (send_dns_open(S.server, &dns, NULL) != SEND_OK)
		return false;
	ok = send_dns_query(dns, "good.test", SEND_DNS_MX, &rrs, NULL) == SEND_OK && rrs[0] != NULL;
	send_strv_free(&rrs);
	send_dns_close(&dns);
	return ok;
}

static int start_dnsmasq(void)
{
	unsigned base = 20000 + (unsigned)getpid() % 30000;

	for (unsigned try = 0; try < 20; try++) {
		unsigned port = base + try * 7;
		int status;

		send_strv_free(&S.argv);
		S.argc = 0;
		arg(DNSMASQ);
		arg("--no-daemon");
		arg("--port=%u", port);
		arg("--listen-address=127.0.0.1");
		arg("--bind-interfaces");
		arg("--no-resolv");
		arg("--no-hosts");
		arg("--conf-file=/dev/null");
		arg("--pid-file=");
		arg("--local=/test/");
		arg("--local=/in-addr.arpa/"); /* no PTR: NXDOMAIN, not a timeout */
		arg("--local=/ip6.arpa/");
		if (geteuid() == 0)
			arg("--user=root");
		zones();
		snprintf(S.server, sizeof(S.server), "127.0.0.1:%u", port);
		S.pid = fork();
		if (S.pid < 0)
			return -1;
		if (S.pid == 0) {
			/* dies with the test, even when the test is killed */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (freopen("/dev/null", "w", stderr) == NULL)
				_exit(126);
			execv(DNSMASQ, S.argv);
			_exit(127);
		}
		for (int i = 0; i < 50; i++) {
			struct timespec ts = {0, 100 * 1000 * 1000};

			if (waitpid(S.pid, &status, WNOHANG) == S.pid) {
				S.pid = 0;
				break; /* it exited: port taken, try the next */
			}
			if (server_answers())
				return 0;
			nanosleep(&ts, NULL);
		}
		if (S.pid > 0) {
			kill(S.pid, SIGTERM);
			waitpid(S.pid, &status, 0);
			S.pid = 0;
		}
	}
	return -1;
}

static int setup(void **state)
{
	char *pem = NULL;

	(void)state;
	if (access(DNSMASQ, X_OK) != 0) {
		fprintf(stderr, "test_domain: %s is missing\n", DNSMASQ);
		return -1;
	}
	if (send_dkim_keygen(SEND_DKIM_RSA_SHA256, 0, &S.rsa_pem, &S.rsa_txt, NULL) != SEND_OK ||
	    send_dkim_keygen(SEND_DKIM_ED25519_SHA256, 0, &S.ed_pem, &S.ed_txt, NULL) != SEND_OK ||
	    send_dkim_keygen(SEND_DKIM_RSA_SHA256, 0, &pem, &S.other_txt, NULL) != SEND_OK)
		return -1;
	send_secret_free(&pem);
	if (send_dkim_keygen(SEND_DKIM_RSA_SHA256, 1024, &pem, &S.small_txt, NULL) != SEND_OK)
		return -1;
	send_secret_free(&pem);
	return start_dnsmasq();
}

static int teardown(void **state)
{
	int status;

	(void)state;
	if (S.pid > 0) {
		kill(S.pid, SIGTERM);
		waitpid(S.pid, &status, 0);
	}
	send_secret_free(&S.rsa_pem);
	send_secret_free(&S.ed_pem);
	free(S.rsa_txt);
	free(S.ed_txt);
	free(S.other_txt);
	free(S.small_txt);
	send_strv_free(&S.argv);
	return 0;
}

static struct send_domain_report *check(const char *domain, const char *ip)
{
	struct send_dkim_pub keys[] = {{"rsa", S.rsa_txt}, {"ed", S.ed_txt}};
	struct send_domain_report *r = NULL;
	char *err = NULL, *text = NULL;

	assert_int_equal(send_domain_check(domain, NULL, S.server, ip, keys, 2, &r, &err), SEND_OK);
	assert_null(err);
	assert_int_equal(send_domain_report_format(r, &text, NULL), SEND_OK);
	fprintf(stderr, "--- %s%s%s\n%s", domain, ip != NULL ? " from " : "", ip != NULL ? ip : "",
		text);
	free(text);
	return r;
}

/* Asserts item `name` has result `want` and its reason contains `needle`. */
static void expect(const struct send_domain_report *r, const char *name,
		   enum send_check_result want, const char *needle)
{
	const char *reason = NULL;
	int i = send_domain_report_find(r, name);

	if (i < 0)
		fail_msg("no item %s", name);
	assert_int_equal(send_domain_report_item(r, (size_t)i, NULL, &reason, NULL), want);
	if (needle != NULL && strstr(reason, needle) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", name, reason, needle);
}

static void test_good_domain(void **state)
{
	struct send_domain_report *r = check("good.test", "198.51.100.7");
	char *text = NULL;

	(void)state;
	expect(r, "SPF", SEND_CHECK_PASS, "one record, 2 lookups");
	expect(r, "SPF-IP", SEND_CHECK_PASS, "allowed");
	expect(r, "DKIM rsa", SEND_CHECK_PASS, "rsa");
	expect(r, "DKIM ed", SEND_CHECK_PASS, "ed25519");
	expect(r, "DMARC", SEND_CHECK_PASS, "p=reject");
	expect(r, "ALIGN", SEND_CHECK_PASS, "adkim=s strict");
	expect(r, "MX", SEND_CHECK_PASS, "mx.good.test");
	expect(r, "PTR", SEND_CHECK_PASS,
	       "198.51.100.7 is out.good.test, which resolves back to it");
	assert_int_equal(send_domain_report_count(r), 8);
	assert_true(send_domain_report_ok(r));
	assert_int_equal(send_domain_report_format(r, &text, NULL), SEND_OK);
	assert_true(strncmp(text, "PASS  SPF     one record, 2 lookups", 35) == 0);
	assert_null(strstr(text, "FAIL"));
	free(text);
	send_domain_report_free(&r);
	assert_null(r);

	/* allowed through ip4 range, mx, and ip6 in the include */
	r = check("good.test", "192.0.2.200");
	expect(r, "SPF-IP", SEND_CHECK_PASS, NULL);
	send_domain_report_free(&r);
	r = check("good.test", "2001:db8::25");
	expect(r, "SPF-IP", SEND_CHECK_PASS, NULL);
	expect(r, "PTR", SEND_CHECK_PASS, "out6.good.test");
	send_domain_report_free(&r);
	/* No reverse DNS, and a PTR whose name does not resolve back. */
	r = check("good.test", "192.0.2.200");
	expect(r, "PTR", SEND_CHECK_FAIL, "192.0.2.200 has no PTR record");
	assert_false(send_domain_report_ok(r));
	send_domain_report_free(&r);
	r = check("good.test", "198.51.100.8");
	expect(r, "PTR", SEND_CHECK_FAIL,
	       "198.51.100.8 is liar.good.test, which does not resolve back to it");
	send_domain_report_free(&r);
	r = check("good.test", "203.0.113.25"); /* only the mx mechanism allows it */
	expect(r, "SPF-IP", SEND_CHECK_PASS, NULL);
	send_domain_report_free(&r);
}

static void test_ip_not_allowed(void **state)
{
	struct send_domain_report *r = check("good.test", "203.0.113.9");
	const char *fix = NULL;

	(void)state;
	expect(r, "SPF", SEND_CHECK_PASS, NULL);
	expect(r, "SPF-IP", SEND_CHECK_FAIL, "203.0.113.9 is not allowed (fail)");
	send_domain_report_item(r, (size_t)send_domain_report_find(r, "SPF-IP"), NULL, NULL, &fix);
	assert_non_null(strstr(fix, "ip4:203.0.113.9"));
	assert_false(send_domain_report_ok(r));
	send_domain_report_free(&r);
}

static void test_spf_records(void **state)
{
	static const char *const anyone[][2] = {
	    {"anyone.test", "the record passes 240.0.0.1, which nobody should send from"},
	    {"anyone6.test", "the record passes 3fff:ffff::1"},
	    {"incany.test", "lets anyone send as incany.test"},
	    {"azero.test", "lets anyone send as azero.test"},
	};
	struct send_domain_report *r;

	(void)state;
	r = check("twospf.test", NULL);
	expect(r, "SPF", SEND_CHECK_FAIL, "2 v=spf1 records");
	assert_int_equal(send_domain_report_find(r, "SPF-IP"), -1);
	assert_false(send_domain_report_ok(r));
	send_domain_report_free(&r);

	r = check("deep.test", NULL);
	expect(r, "SPF", SEND_CHECK_FAIL, "11 DNS lookups");
	send_domain_report_free(&r);

	r = check("ten.test", NULL);
	expect(r, "SPF", SEND_CHECK_PASS, "10 lookups");
	send_domain_report_free(&r);

	/* A receiver stops at the 11th lookup: the ip4 after it is never reached. */
	r = check("wide.test", "192.0.2.7");
	expect(r, "SPF", SEND_CHECK_FAIL, "11 DNS lookups");
	expect(r, "SPF-IP", SEND_CHECK_FAIL, "192.0.2.7 is not allowed (permerror)");
	send_domain_report_free(&r);
	r = check("tenwide.test", "192.0.2.7");
	expect(r, "SPF", SEND_CHECK_PASS, "10 lookups");
	expect(r, "SPF-IP", SEND_CHECK_PASS, "allowed");
	send_domain_report_free(&r);

	r = check("plusall.test", "203.0.113.9");
	expect(r, "SPF", SEND_CHECK_FAIL, "+all");
	send_domain_report_free(&r);

	r = check("qall.test", NULL);
	expect(r, "SPF", SEND_CHECK_WARN, "?all");
	send_domain_report_free(&r);

	/* QA's cases: what lets anyone send without saying +all */
	for (size_t i = 0; i < sizeof(anyone) / sizeof(anyone[0]); i++) {
		r = check(anyone[i][0], NULL);
		expect(r, "SPF", SEND_CHECK_FAIL, anyone[i][1]);
		send_domain_report_free(&r);
	}
	r = check("ptr.test", NULL);
	expect(r, "SPF", SEND_CHECK_WARN, "uses ptr, which RFC 7208 5.5 says not to publish");
	send_domain_report_free(&r);
	/* An mx of more than 10 hosts is a permerror (RFC 7208 4.6.4), even for an
	 * address an ip4 after it allows. */
	r = check("mx11.test", "192.0.2.7");
	expect(r, "SPF", SEND_CHECK_FAIL, "many.mx.test has 11 MX hosts");
	expect(r, "SPF-IP", SEND_CHECK_FAIL, "permerror");
	send_domain_report_free(&r);

	r = check("redirect.test", "198.51.100.7");
	expect(r, "SPF", SEND_CHECK_PASS, "ends with -all");
	expect(r, "SPF-IP", SEND_CHECK_PASS, NULL);
	send_domain_report_free(&r);

	r = check("brokeninc.test", "192.0.2.1");
	expect(r, "SPF", SEND_CHECK_FAIL, "missing.test");
	expect(r, "SPF-IP", SEND_CHECK_FAIL, "permerror");
	send_domain_report_free(&r);

	/* A third void lookup is a permerror, for the record and for an IP after it. */
	r = check("void.test", "192.0.2.7");
	expect(r, "SPF", SEND_CHECK_FAIL, "3 void lookups");
	expect(r, "SPF-IP", SEND_CHECK_FAIL, "(permerror)");
	send_domain_report_free(&r);
	r = check("twovoid.test", "192.0.2.7");
	expect(r, "SPF", SEND_CHECK_PASS, NULL);
	expect(r, "SPF-IP", SEND_CHECK_PASS, NULL);
	send_domain_report_free(&r);

	r = check("syntax.test", NULL);
	expect(r, "SPF", SEND_CHECK_FAIL, "bad address");
	send_domain_report_free(&r);

	r = check("missing.test", NULL);
	expect(r, "SPF", SEND_CHECK_FAIL, "no v=spf1 record");
	expect(r, "MX", SEND_CHECK_FAIL, "no MX");
	send_domain_report_free(&r);
}

/* One domain's DMARC item. */
static void expect_dmarc(const char *domain, enum send_check_result want, const char *needle)
{
	struct send_domain_report *r = check(domain, NULL);

	expect(r, "DMARC", want, needle);
	send_domain_report_free(&r);
}

static void test_dmarc(void **state)
{
	struct send_domain_report *r;

	(void)state;
	r = check("nodmarc.test", NULL);
	expect(r, "DMARC", SEND_CHECK_FAIL,
	       "no v=DMARC1 record at _dmarc.nodmarc.test or at any parent");
	send_domain_report_free(&r);

	r = check("none.test", NULL);
	expect(r, "DMARC", SEND_CHECK_WARN, "p=none: monitoring only");
	expect(r, "DMARC", SEND_CHECK_WARN, "RFC 9989 drops them");
	expect(r, "ALIGN", SEND_CHECK_PASS, "adkim=r relaxed");
	send_domain_report_free(&r);

	/* A subdomain takes the sp= of the organisational domain's record. */
	expect_dmarc("news.org.test", SEND_CHECK_PASS, "p=quarantine (the sp= of _dmarc.org.test");
	/* Its p= without sp=, however deep: 10 labels jump to the last 7, then one at a time. */
	expect_dmarc("a.b.c.d.e.f.g.h.nosp.test", SEND_CHECK_PASS,
		     "p=reject (the p= of _dmarc.nosp.test");
	/* sp=none leaves subdomains unprotected; a subdomain's own record comes first. */
	expect_dmarc("news.spnone.test", SEND_CHECK_WARN,
		     "take no action (the sp= of _dmarc.spnone.test");
	expect_dmarc("x.own.spnone.test", SEND_CHECK_PASS,
		     "p=quarantine (the p= of _dmarc.own.spnone.test");
	expect_dmarc("own.spnone.test", SEND_CHECK_PASS, "p=quarantine");
	/* A record without p= is read as p=none (RFC 7489 6.6.3), its sp= too. */
	expect_dmarc("y.nop.test", SEND_CHECK_WARN, "no p= in _dmarc.nop.test");

	r = check("bis.test", NULL);
	expect(r, "DMARC", SEND_CHECK_PASS, "p=quarantine");
	expect(r, "ALIGN", SEND_CHECK_PASS, "aspf=s strict");
	expect(r, "MX", SEND_CHECK_PASS, "192.0.2.80"); /* no MX, but an A record */
	send_domain_report_free(&r);
}

static void test_dkim_and_mx(void **state)
{
	struct send_domain_report *r;
	const char *fix = NULL;

	(void)state;
	r = check("mismatch.test", NULL);
	expect(r, "DKIM rsa", SEND_CHECK_FAIL, "not the public key hato holds");
	expect(r, "DKIM ed", SEND_CHECK_FAIL, "no DKIM key record at ed._domainkey.mismatch.test");
	send_domain_report_item(r, (size_t)send_domain_report_find(r, "DKIM ed"), NULL, NULL, &fix);
	assert_non_null(strstr(fix, "ed._domainkey.mismatch.test TXT \"v=DKIM1; k=ed25519; p="));
	send_domain_report_free(&r);

	r = check("nomx.test", NULL);
	expect(r, "MX", SEND_CHECK_FAIL, "no MX and no A/AAAA");
	expect(r, "DMARC", SEND_CHECK_PASS, NULL);
	send_domain_report_free(&r);
}

/* QA's cases: the key record's h=, s= and t= tags, and the key's size. */
static void test_dkim_record_tags(void **state)
{
	static const struct {
		const char *domain;
		enum send_check_result want;
		const char *needle;
	} cases[] = {
	    {"sha1.test", SEND_CHECK_FAIL, "its h= does not list sha256"},
	    {"svc.test", SEND_CHECK_FAIL, "its s= names neither email nor *"},
	    {"testing.test", SEND_CHECK_WARN, "testing mode (t=y)"},
	    {"both.test", SEND_CHECK_PASS, "publishes our rsa key"},
	    {"star.test", SEND_CHECK_PASS, "publishes our rsa key"},
	};
	struct send_dkim_pub rsa = {"rsa", S.rsa_txt}, small = {"small", S.small_txt};
	struct send_domain_report *r = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
		    send_domain_check(cases[i].domain, NULL, S.server, NULL, &rsa, 1, &r, NULL),
		    SEND_OK);
		expect(r, "DKIM rsa", cases[i].want, cases[i].needle);
		send_domain_report_free(&r);
	}
	assert_int_equal(send_domain_check("good.test", NULL, S.server, NULL, &small, 1, &r, NULL),
			 SEND_OK);
	expect(r, "DKIM small", SEND_CHECK_WARN, "our 1024-bit RSA key; 2048 bits is the size");
	send_domain_report_free(&r);
}

/* QA's case: the envelope sender's domain (bounce.domain) is what receivers
 * check SPF for, and DMARC's SPF alignment needs it in From's organisation. */
static void test_envelope_domain(void **state)
{
	struct send_dkim_pub keys[] = {{"rsa", S.rsa_txt}, {"ed", S.ed_txt}};
	struct send_domain_report *r = NULL;

	(void)state;
	assert_int_equal(send_domain_check("good.test", "vrp.good.test", S.server, "192.0.2.7",
					   keys, 2, &r, NULL),
			 SEND_OK);
	expect(r, "SPF", SEND_CHECK_PASS, NULL);
	expect(r, "BOUNCE-SPF", SEND_CHECK_FAIL, "no v=spf1 record at vrp.good.test");
	expect(r, "BOUNCE-ALIGN", SEND_CHECK_PASS, "in the organisation of good.test");
	send_domain_report_free(&r);
	assert_int_equal(send_domain_check("good.test", "bounce.elsewhere.test", S.server,
					   "192.0.2.7", keys, 2, &r, NULL),
			 SEND_OK);
	expect(r, "BOUNCE-SPF", SEND_CHECK_PASS, NULL);
	expect(r, "BOUNCE-SPF-IP", SEND_CHECK_PASS, "192.0.2.7 is allowed");
	expect(r, "BOUNCE-ALIGN", SEND_CHECK_WARN, "does not align for DMARC");
	send_domain_report_free(&r);
	/* the From domain itself as envelope: nothing more */
	assert_int_equal(
	    send_domain_check("good.test", "GOOD.test", S.server, NULL, keys, 2, &r, NULL),
	    SEND_OK);
	assert_int_equal(send_domain_report_find(r, "BOUNCE-SPF"), -1);
	send_domain_report_free(&r);
}

static void test_errors(void **state)
{
	struct send_domain_report *r = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(send_domain_check("bad_domain", NULL, S.server, NULL, NULL, 0, &r, &err),
			 SEND_EINVAL);
	assert_null(r);
	free(err);
	err = NULL;
	assert_int_equal(
	    send_domain_check("good.test", NULL, S.server, "not-an-ip", NULL, 0, &r, &err),
	    SEND_EUSAGE);
	free(err);
	err = NULL;
	assert_int_equal(
	    send_domain_check("good.test", NULL, "127.0.0.1:notaport", NULL, NULL, 0, &r, NULL),
	    SEND_EUSAGE);
	/* nothing listens on port 9 of loopback: the check says so */
	assert_int_equal(
	    send_domain_check("good.test", NULL, "127.0.0.1:9", NULL, NULL, 0, &r, &err),
	    SEND_EDNS);
	assert_non_null(strstr(err, "127.0.0.1:9"));
	free(err);
	/* no key held: DKIM fails */
	assert_int_equal(send_domain_check("good.test", NULL, S.server, NULL, NULL, 0, &r, NULL),
			 SEND_OK);
	expect(r, "DKIM", SEND_CHECK_FAIL, "no DKIM key");
	expect(r, "ALIGN", SEND_CHECK_WARN, NULL);
	send_domain_report_free(&r);
}

/* ---- Parsers without DNS ---------------------------------------------------------------- */

static void test_spf_parser(void **state)
{
	struct send_spf *s = NULL;
	static const char *bad[] = {"v=spf1 ip4:1.2.3.4/33",
				    "v=spf1 ip6:zz::1",
				    "v=spf1 foo",
				    "v=spf1 include",
				    "v=spf1 all:x",
				    "v=spf1 a/40",
				    "v=spf1 redirect=a redirect=b",
				    "v=spf1 exp=a.example exp=b.example -all",
				    "v=spf1 ip4:1.2.3.4/01",
				    "v=spf10 -all",
				    "spf1 -all"};

	(void)state;
	assert_int_equal(
	    send_spf_parse("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a:mail.example.com/28//64 "
			   "mx -include:_spf.example.net ~all exp=explain.%{d} unknown=x",
			   &s, NULL),
	    SEND_OK);
	assert_int_equal(s->nterms, 6);
	assert_int_equal(s->terms[0].mech, SEND_SPF_IP4);
	assert_int_equal(s->terms[0].cidr4, 24);
	assert_int_equal(s->terms[1].cidr6, 32);
	assert_string_equal(s->terms[2].domain, "mail.example.com");
	assert_int_equal(s->terms[2].cidr4, 28);
	assert_int_equal(s->terms[2].cidr6, 64);
	assert_int_equal(s->terms[4].qual, '-');
	assert_int_equal(s->terms[5].qual, '~');
	assert_int_equal(send_spf_lookups(s), 3);
	assert_false(s->macros);
	send_spf_free(&s);
	assert_null(s);
	assert_int_equal(
	    send_spf_parse("v=spf1 exists:%{i}.bl.example redirect=x.example", &s, NULL), SEND_OK);
	assert_true(s->macros);
	assert_int_equal(send_spf_lookups(s), 2);
	send_spf_free(&s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (send_spf_parse(bad[i], &s, NULL) != SEND_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_null(s);
	}
}

static void test_dmarc_parser(void **state)
{
	struct send_dmarc d;
	char *err = NULL;

	(void)state;
	assert_int_equal(send_dmarc_parse("v=DMARC1; p=Reject; sp=none; adkim=s; pct=20; rf=afrf; "
					  "ri=3600; rua=mailto:a@example.com;",
					  &d, NULL),
			 SEND_OK);
	assert_int_equal(d.p, SEND_DMARC_REJECT);
	assert_int_equal(d.sp, SEND_DMARC_NONE);
	assert_int_equal(d.adkim, 's');
	assert_int_equal(d.aspf, 'r');
	assert_int_equal(d.pct, 20);
	assert_true(d.has_rf && d.has_ri && d.rua && !d.ruf);
	assert_int_equal(send_dmarc_parse("v=DMARC1;p=quarantine;np=reject;psd=y;t=y", &d, NULL),
			 SEND_OK);
	assert_int_equal(d.np, SEND_DMARC_REJECT);
	assert_int_equal(d.psd, 'y');
	assert_int_equal(d.t, 'y');
	assert_int_equal(d.pct, -1);
	assert_int_equal(send_dmarc_parse("v=DMARC1; p=maybe", &d, &err), SEND_EINVAL);
	assert_non_null(strstr(err, "p=maybe"));
	free(err);
	assert_int_equal(send_dmarc_parse("p=none; v=DMARC1", &d, NULL), SEND_EINVAL);
	assert_int_equal(send_dmarc_parse("v=DMARC1; pct=101", &d, NULL), SEND_EINVAL);
	assert_int_equal(send_dmarc_parse("v=DMARC1; p=none; p=reject", &d, NULL), SEND_EINVAL);
	assert_true(send_dmarc_is_record("v = DMARC1 ; p=none"));
	assert_false(send_dmarc_is_record("v=DMARC10; p=none"));
	/* RFC 7489 6.4 spells the version in upper case only (QA) */
	assert_false(send_dmarc_is_record("v=dmarc1; p=none"));
	assert_true(send_dmarc_is_record("V=DMARC1; p=none")); /* "v" is a string: any case */
}

static void test_dkim_record_parser(void **state)
{
	char *k = NULL, *p = NULL;

	(void)state;
	assert_int_equal(send_dkim_record_parse("v=DKIM1; k=ed25519; p=AbC+/ 12\t=", &k, &p, NULL),
			 SEND_OK);
	assert_string_equal(k, "ed25519");
	assert_string_equal(p, "AbC+/12=");
	free(k);
	free(p);
	assert_int_equal(send_dkim_record_parse("p=", &k, &p, NULL), SEND_OK);
	assert_string_equal(k, "rsa"); /* the default */
	assert_string_equal(p, "");    /* revoked */
	free(k);
	free(p);
	assert_int_equal(send_dkim_record_parse("k=rsa; v=DKIM1; p=abc", &k, &p, NULL),
			 SEND_EINVAL);
	assert_int_equal(send_dkim_record_parse("v=DKIM1; k=rsa", &k, &p, NULL), SEND_EINVAL);
	assert_int_equal(send_dkim_record_parse("v=DKIM1; p=ab$c", &k, &p, NULL), SEND_EINVAL);
	assert_int_equal(send_dkim_record_parse("v=DKIM1; 1x=2; p=a", &k, &p, NULL), SEND_EINVAL);
	assert_null(k);
	assert_null(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spf_parser),
	    cmocka_unit_test(test_dmarc_parser),
	    cmocka_unit_test(test_dkim_record_parser),
	    cmocka_unit_test(test_good_domain),
	    cmocka_unit_test(test_ip_not_allowed),
	    cmocka_unit_test(test_spf_records),
	    cmocka_unit_test(test_dmarc),
	    cmocka_unit_test(test_dkim_and_mx),
	    cmocka_unit_test(test_dkim_record_tags),
	    cmocka_unit_test(test_envelope_domain),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
