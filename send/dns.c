/*
 * send/dns.c: DNS queries through glibc's resolver, and the parser of the
 * answer messages it returns. The parsers of the records' text (tag lists,
 * DKIM key records, DMARC, SPF) are in dns_records.c. The answer parser
 * reads outside input; tests/fuzz/fuzz_spf.c fuzzes it.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "send/private.h"

#define ANSWER_MAX 65535

/* ---- Resolver ------------------------------------------------------------ */

struct send_dns {
	struct __res_state res;
	char server[64];
};

static enum send_status parse_server(const char *server, struct sockaddr_in *sin, char **errstr)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(server, ':');
	size_t hlen = colon != NULL ? (size_t)(colon - server) : strlen(server);
	long port = 53;
	char *end;

	if (hlen == 0 || hlen >= sizeof(host))
		return send_err(errstr, SEND_EUSAGE, "dns: bad server \"%.80s\" (want HOST:PORT)",
				server);
	memcpy(host, server, hlen);
	host[hlen] = '\0';
	if (colon != NULL) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno != 0 || end == colon + 1 || *end != '\0' || port < 1 || port > 65535)
			return send_err(errstr, SEND_EUSAGE, "dns: bad port in \"%.80s\"", server);
	}
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return send_err(errstr, SEND_EUSAGE, "dns: server \"%.80s\" is not an IPv4 address",
				server);
	return SEND_OK;
}

enum send_status send_dns_open(const char *server, struct send_dns **out, char **errstr)
{
	struct send_dns *d = NULL;
	struct sockaddr_in sin;
	enum send_status st = SEND_OK;

	if (out == NULL) {
		st = send_err(errstr, SEND_EUSAGE, "dns: no output pointer");
		goto done;
	}
	*out = NULL;
	if (server != NULL) {
		st = parse_server(server, &sin, errstr);
		if (st != SEND_OK)
			goto done;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		st = SEND_ENOMEM;
		goto done;
	}
	if (res_ninit(&d->res) != 0) {
		st = send_err(errstr, SEND_EDNS, "dns: the resolver failed to start");
		free(d);
		d = NULL;
		goto done;
	}
	d->res.options |= RES_USE_EDNS0;
	d->res.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	d->res.retrans = 2;
	d->res.retry = 2;
	snprintf(d->server, sizeof(d->server), "%s", server != NULL ? server : "system resolver");
	if (server != NULL) {
		d->res.nsaddr_list[0] = sin;
		d->res.nscount = 1;
	}
	*out = d;
	d = NULL;
done:
	return st;
}

void send_dns_close(struct send_dns **d)
{
	if (d == NULL || *d == NULL)
		return;
	res_nclose(&(*d)->res);
	free(*d);
	*d = NULL;
}

static const int qtypes[] = {ns_t_a, ns_t_aaaa, ns_t_mx, ns_t_txt, ns_t_ptr};
static const char *const qnames[] = {"A", "AAAA", "MX", "TXT", "PTR"};

enum send_status send_dns_query(struct send_dns *d, const char *name, enum send_dns_type type,
				char ***rrs, char **errstr)
{
	unsigned char *buf = NULL;
	int n;
	enum send_status st = SEND_OK;

	if (d == NULL || name == NULL || rrs == NULL || (unsigned)type > SEND_DNS_PTR) {
		st = send_err(errstr, SEND_EUSAGE, "dns: bad arguments");
		goto done;
	}
	*rrs = NULL;
	buf = malloc(ANSWER_MAX);
	if (buf == NULL) {
		st = SEND_ENOMEM;
		goto done;
	}
	n = res_nquery(&d->res, name, ns_c_in, qtypes[type], buf, ANSWER_MAX);
	if (n < 0) {
		switch (d->res.res_h_errno) {
		case HOST_NOT_FOUND: /* NXDOMAIN */
		case NO_DATA:
			*rrs = calloc(1, sizeof(char *));
			st = *rrs != NULL ? SEND_OK : SEND_ENOMEM;
			break;
		case TRY_AGAIN:
			st = send_err(errstr, SEND_EDNS,
				      "dns: %s %s: no answer from %s (timeout or SERVFAIL)", name,
				      qnames[type], d->server);
			break;
		default:
			st = send_err(errstr, SEND_EDNS, "dns: %s %s: refused or failed at %s",
				      name, qnames[type], d->server);
			break;
		}
		goto done;
	}
	st = send_dns_parse_answer(buf, (size_t)n, type, rrs, errstr);
done:
	free(buf);
	return st;
}

/* ---- Answer parsing ---------------------------------------------------------- */

struct mx {
	unsigned pref;
	char *name;
};

static int mx_cmp(const void *a, const void *b)
{
	const struct mx *x = a, *y = b;

	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

/* One TXT record: its strings concatenated, or NULL when malformed or holding NUL. */
static char *txt_join(const unsigned char *rd, size_t rdlen)
{
	char *s = malloc(rdlen + 1);
	size_t off = 0, used = 0;

	if (s == NULL)
		return NULL;
	while (off < rdlen) {
		size_t l = rd[off++];

		if (l > rdlen - off || memchr(rd + off, '\0', l) != NULL) {
			free(s);
			return NULL;
		}
		memcpy(s + used, rd + off, l);
		used += l;
		off += l;
	}
	s[used] = '\0';
	return s;
}

enum send_status send_dns_parse_answer(const unsigned char *msg, size_t len,
				       enum send_dns_type type, char ***rrs, char **errstr)
{
	ns_msg h;
	ns_rr rr;
	struct mx *mxs = NULL;
	size_t nmx = 0, n = 0;
	char **v = NULL, name[NS_MAXDNAME], addr[INET6_ADDRSTRLEN];
	int count;
	enum send_status st = SEND_OK;

	if (rrs == NULL || msg == NULL || len > ANSWER_MAX || (unsigned)type > SEND_DNS_PTR) {
		st = send_err(errstr, SEND_EUSAGE, "dns: bad arguments");
		goto done;
	}
	*rrs = NULL;
	v = calloc(1, sizeof(char *));
	if (v == NULL) {
		st = SEND_ENOMEM;
		goto done;
	}
	if (ns_initparse(msg, (int)len, &h) < 0) {
		st = send_err(errstr, SEND_EDNS, "dns: malformed answer");
		goto done;
	}
	count = ns_msg_count(h, ns_s_an);
	mxs = calloc((size_t)count + 1, sizeof(*mxs));
	if (mxs == NULL) {
		st = SEND_ENOMEM;
		goto done;
	}
	for (int i = 0; i < count && st == SEND_OK; i++) {
		const unsigned char *rd;
		size_t rdlen;

		if (ns_parserr(&h, ns_s_an, i, &rr) < 0) {
			st = send_err(errstr, SEND_EDNS, "dns: malformed answer record");
			break;
		}
		if ((int)ns_rr_type(rr) != qtypes[type] || ns_rr_class(rr) != ns_c_in)
			continue; /* a CNAME on the way, or noise */
		rd = ns_rr_rdata(rr);
		rdlen = ns_rr_rdlen(rr);
		if (type == SEND_DNS_TXT) {
			char *s = txt_join(rd, rdlen);

			if (s != NULL)
				st = send_strv_push(&v, &n, s);
		} else if (type == SEND_DNS_A && rdlen == 4) {
			st = send_strv_push(&v, &n,
					    strdup(inet_ntop(AF_INET, rd, addr, sizeof(addr))));
		} else if (type == SEND_DNS_AAAA && rdlen == 16) {
			st = send_strv_push(&v, &n,
					    strdup(inet_ntop(AF_INET6, rd, addr, sizeof(addr))));
		} else if (type == SEND_DNS_PTR) {
			if (ns_name_uncompress(ns_msg_base(h), ns_msg_end(h), rd, name,
					       sizeof(name)) < 0)
				continue;
			st = send_strv_push(&v, &n, strdup(name));
		} else if (type == SEND_DNS_MX && rdlen >= 3) {
			if (ns_name_uncompress(ns_msg_base(h), ns_msg_end(h), rd + 2, name,
					       sizeof(name)) < 0)
				continue;
			mxs[nmx].pref = ns_get16(rd);
			mxs[nmx].name = strdup(name[0] != '\0' ? name : ".");
			if (mxs[nmx++].name == NULL)
				st = SEND_ENOMEM;
		}
	}
	if (st != SEND_OK)
		goto done;
	qsort(mxs, nmx, sizeof(*mxs), mx_cmp);
	for (size_t i = 0; i < nmx && st == SEND_OK; i++) {
		st = send_strv_push(&v, &n, mxs[i].name);
		mxs[i].name = NULL;
	}
	if (st != SEND_OK)
		goto done;
	*rrs = v;
	v = NULL;
done:
	for (size_t i = 0; mxs != NULL && i < nmx; i++)
		free(mxs[i].name);
	free(mxs);
	send_strv_free(&v);
	return st;
}
