/*
 * send/private.h: what only the files in send/ share. Nothing outside send/ may
 * include this file, except white-box tests and fuzz targets under tests/.
 */
#ifndef HATO_SEND_PRIVATE_H
#define HATO_SEND_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "send/send.h"
#include "store/store.h"

#define SEND_PRINTF(a, b) __attribute__((format(printf, a, b)))

/*
 * Sets *errstr (when errstr is not NULL and *errstr is NULL) to a malloc'd
 * message built from fmt, and returns `s`. The first error wins.
 */
enum send_status send_err(char **errstr, enum send_status s, const char *fmt, ...)
    SEND_PRINTF(3, 4);

/*
 * A store status as a send status: a missing object stays "not found", a
 * refusal stays a refusal, bad data stays bad data, and the rest is
 * SEND_ESTORE. Sets *errstr (as send_err does) to serr, or to the status'
 * words when serr is NULL, and frees serr. SEND_OK for STORE_OK.
 */
enum send_status send_from_store(enum store_status s, char *serr, char **errstr);

/* Appends s (ownership taken; freed on failure) to a NULL-terminated vector. */
enum send_status send_strv_push(char ***v, size_t *n, char *s);

/* Number of strings in a NULL-terminated vector (NULL counts 0). */
size_t send_strv_len(char *const *v);

/* Case-insensitive prefix test. */
bool send_prefix(const char *s, const char *prefix);

/* ---- Settings (settings.c) --------------------------------------------- */

struct store;

/* A setting's value (allocated), or NULL when it is unset or empty. */
char *send_setting(struct store *st, const char *key);
/* A number setting (send.rate, send.breaker, send.retry_base, warmup.volume,
 * smtp.connections), or its default when it is unset or out of its range. */
long send_setting_number(struct store *st, const char *key);
/* Reads the digits at the start of s (no sign, no blank): true, with *n and
 * *end just past them, when they make a number from min to max. */
bool send_parse_number(const char *s, long min, long max, long *n, const char **end);
/* unsubscribe.url: https://HOST[:PORT]/PATH, the token goes after PATH; NULL
 * (unset) is an error too. */
enum send_status send_unsub_url_check(const char *url, char **errstr);
/* unsubscribe.mailto: an address alone. */
enum send_status send_mailto_check(const char *v, char **errstr);
/* A setting that is one of two words, in any case: *is_second, or false
 * for NULL (unset); anything else is SEND_EINVAL. */
enum send_status send_parse_choice(const char *key, const char *v, const char *first,
				   const char *second, bool *is_second, char **errstr);
/* send.iso2022jp: NULL or "off", or "carriers" (any case). */
enum send_status send_iso2022jp_parse(const char *v, bool *carriers, char **errstr);
/* send.dkim: NULL or "hato" (hato signs), or "relay" (the SMTP relay signs). */
enum send_status send_dkim_parse(const char *v, bool *relay, char **errstr);

/* ---- Retries of deferred recipients (retry.c) ---------------------------- */

#define SEND_RETRY_CAP 3600			/* the longest wait between two tries, in seconds */
#define SEND_RETRY_FOR_DEFAULT (5L * 24 * 3600) /* send.retry_for: give up after 5 days */

/* The wait after the n-th attempt (n >= 1): base doubled n - 1 times, at most an hour. */
long send_retry_delay(long base, int attempts);
/*
 * After the n-th attempt at a recipient was deferred: sets *next to its next
 * try and returns false; or returns true (give up) when that try would come
 * more than `limit` seconds after the first attempt.
 */
bool send_retry_next(long base, long limit, int attempts, time_t now, time_t *next);
/* The last reply of a recipient given up on, saying so (allocated; NULL: no memory). */
char *send_retry_gave_up(const char *reply, int attempts);

/* ---- Before sending (admit.c) -------------------------------------------- */

struct store_campaign;

/* ---- What an approval hash covers (approve.c) ---------------------------- */

/* The number of settings an approval hash covers (HASHED_SETTINGS in approve.c). */
#define SEND_HASHED_SETTINGS 8

/* The i-th of them (sender.name first), or NULL past the last. */
const char *send_hashed_setting(size_t i);

/*
 * What an approval hash covers, in the order hashed; from the layout's name,
 * the hash takes the layout's sources too. A setting at its default is NULL.
 * None of the strings is owned: see struct send_hash_input.
 */
struct send_hash_values {
	const char *from, *subject, *kind, *source, *text, *layout;
	const char *list, *list_name, *segment, *segment_expr;
	const char *settings[SEND_HASHED_SETTINGS];
};

/* The values of a campaign as it is now, and what they point into. */
struct send_hash_input {
	struct send_hash_values v;
	struct store_template *t;
	char *from; /* sender.from, when the campaign names no From */
	char *list_name;
	char *settings[SEND_HASHED_SETTINGS];
};

/*
 * Reads what the hash of campaign c covers now; its strings point into c and
 * into *in, which send_hash_input_free frees. SEND_EINVAL when its template
 * is missing.
 */
enum send_status send_hash_input_load(struct store *st, const struct store_campaign *c,
				      struct send_hash_input *in, char **errstr);
void send_hash_input_free(struct send_hash_input *in);
/* The approval hash of v with the schedule scheduled_at, in the format 3 or 2. */
void send_hash_values(const struct send_hash_values *v, time_t scheduled_at, int format,
		      unsigned char hash[32]);

/*
 * send_campaign_hash in a given format: 3 (now), or 2, which an earlier hato
 * signed (without the list's name and send.dkim), to recognise its approvals
 * (approve.c): they are not valid, but the worker can say why.
 */
enum send_status send_campaign_hash_as(struct store *st, const struct store_campaign *c,
				       time_t scheduled_at, int format, unsigned char hash[32],
				       char **errstr);
/*
 * The checks of a campaign as it would be sent now that can fail without an
 * edit: the sender's name, postal address and contact, and the unsubscribe
 * link, in every part, and a DKIM key for the From domain (unless the relay
 * signs). SEND_EINVAL with the reason when one fails.
 */
enum send_status send_campaign_legal_check(struct store *st, const struct store_campaign *c,
					   char **errstr);
/* Does c name a segment that no longer exists (removed, or with its list)? */
bool send_segment_gone(const struct store_campaign *c);

enum send_admit {
	SEND_ADMIT_GO,	    /* send it */
	SEND_ADMIT_PAUSED,  /* paused for a fix or a new review, with the reason */
	SEND_ADMIT_REFUSED, /* failed: its approvals are missing or forged */
	SEND_ADMIT_ERROR,   /* the store failed; try again later */
};
/*
 * Before a due campaign is sent: verifies its approvals and the legal
 * checks, pausing (approved content changed, legal check failed) or failing
 * (no valid approval) it, audited; and when it starts, fixes its queue and
 * makes it sending. *msg, for the worker's log, is allocated (may be NULL).
 */
enum send_admit send_campaign_admit(struct store *st, const struct store_campaign *c, char **msg);
/*
 * The same checks while it sends, as often as the worker asks: a setting
 * that goes into every message, changed mid-run, pauses it for a new
 * review rather than let the rest go out as approved before.
 */
enum send_admit send_campaign_recheck(struct store *st, const struct store_campaign *c, char **msg);

/* ---- Helper threads (pool.c) ------------------------------------------- */

struct send_pool;

/* nthreads helpers (0: none, everything runs on the caller's thread). */
enum send_status send_pool_new(size_t nthreads, struct send_pool **out);
/* Calls fn(i, arg) for every i below n, on the caller's thread and the
 * helpers; returns when all calls have returned. fn must be thread-safe. */
void send_pool_run(struct send_pool *p, size_t n, void (*fn)(size_t i, void *arg), void *arg);
/* The threads a loop runs on: the helpers and the caller. */
size_t send_pool_threads(const struct send_pool *p);
void send_pool_free(struct send_pool **p);

/* ---- DNS (dns.c) -------------------------------------------------------- */

enum send_dns_type {
	SEND_DNS_A,
	SEND_DNS_AAAA,
	SEND_DNS_MX,
	SEND_DNS_TXT,
	SEND_DNS_PTR,
};

struct send_dns;

/* server: "HOST[:PORT]" (IPv4) or NULL for /etc/resolv.conf. Free with send_dns_close(). */
enum send_status send_dns_open(const char *server, struct send_dns **out, char **errstr);
void send_dns_close(struct send_dns **d);

/*
 * Queries `name` for `type`. *rrs is a malloc'd NULL-terminated vector,
 * empty on NXDOMAIN or no data:
 *   TXT   each record's strings concatenated (records holding NUL are skipped)
 *   MX    the exchange names, lowest preference first ("." for a null MX)
 *   A     addresses in presentation form; AAAA likewise
 * SEND_EDNS when the server fails (SERVFAIL, REFUSED, timeout).
 */
enum send_status send_dns_query(struct send_dns *d, const char *name, enum send_dns_type type,
				char ***rrs, char **errstr);

/* Parses a DNS answer message (as res_nquery returns it): the same output as above. */
enum send_status send_dns_parse_answer(const unsigned char *msg, size_t len,
				       enum send_dns_type type, char ***rrs, char **errstr);

/* ---- Tag lists (dns_records.c; RFC 6376 3.2; DKIM key records, DMARC) -- */

struct send_taglist;

/*
 * Parses "tag=value; tag=value[;]". Tag names are ALPHA *(ALNUM / "_");
 * whitespace around names and values is dropped; a duplicate tag is an
 * error. Free with send_taglist_free().
 */
enum send_status send_taglist_parse(const char *text, struct send_taglist **out, char **errstr);
void send_taglist_free(struct send_taglist **t);
size_t send_taglist_count(const struct send_taglist *t);
/* The i-th tag's name and value (borrowed). */
void send_taglist_at(const struct send_taglist *t, size_t i, const char **name, const char **value);
/* The value of tag `name` (case-sensitive, as RFC 6376 says), or NULL. */
const char *send_taglist_get(const struct send_taglist *t, const char *name);

/*
 * A DKIM key record: v= (optional, "DKIM1", first), k= (default "rsa"), p=
 * (required; whitespace removed; "" means revoked). *k and *p are malloc'd.
 */
enum send_status send_dkim_record_parse(const char *txt, char **k, char **p, char **errstr);

/* ---- SPF (RFC 7208) ------------------------------------------------------ */

enum send_spf_mech {
	SEND_SPF_ALL,
	SEND_SPF_INCLUDE,
	SEND_SPF_A,
	SEND_SPF_MX,
	SEND_SPF_PTR,
	SEND_SPF_IP4,
	SEND_SPF_IP6,
	SEND_SPF_EXISTS,
};

struct send_spf_term {
	char qual; /* '+', '-', '~' or '?' */
	enum send_spf_mech mech;
	char *domain;		/* target of include/a/mx/ptr/exists, NULL = the domain */
	unsigned char addr[16]; /* ip4 (first 4 bytes) or ip6 */
	int cidr4;		/* prefix length for ip4 / a / mx: 0..32 */
	int cidr6;		/* prefix length for ip6 / a / mx: 0..128 */
};

struct send_spf {
	struct send_spf_term *terms;
	size_t nterms;
	char *redirect; /* redirect= target or NULL */
	bool has_exp;	/* an exp= was read */
	bool macros;	/* some domain-spec holds a %{...} macro */
};

/* True when a TXT value is an SPF record: "v=spf1" then a space or the end. */
bool send_spf_is_record(const char *txt);

/* Parses an SPF record. Unknown modifiers are skipped; bad syntax is SEND_EINVAL. */
enum send_status send_spf_parse(const char *txt, struct send_spf **out, char **errstr);
void send_spf_free(struct send_spf **s);

/* Number of DNS-querying terms in one record (include, a, mx, ptr, exists, redirect). */
int send_spf_lookups(const struct send_spf *s);

/* ---- DMARC (RFC 7489, RFC 9989) ------------------------------------------ */

enum send_dmarc_policy {
	SEND_DMARC_UNSET = 0,
	SEND_DMARC_NONE,
	SEND_DMARC_QUARANTINE,
	SEND_DMARC_REJECT,
};

struct send_dmarc {
	enum send_dmarc_policy p, sp, np; /* np: RFC 9989 */
	char adkim, aspf;		  /* 'r' or 's' (default 'r') */
	int pct;			  /* 0..100, -1 when absent (RFC 7489 only) */
	bool has_rf, has_ri;		  /* RFC 7489 only */
	char t;				  /* RFC 9989 testing: 'y', 'n', or 0 when absent */
	char psd;			  /* RFC 9989: 'y', 'n', 'u', or 0 */
	bool rua, ruf;
};

/* True when a TXT value starts with "v=DMARC1" (then ';', space or end). */
bool send_dmarc_is_record(const char *txt);

/* Parses a DMARC record; unknown tags are ignored, bad known values are SEND_EINVAL. */
enum send_status send_dmarc_parse(const char *txt, struct send_dmarc *out, char **errstr);

/* "none", "quarantine", "reject" or "unset". */
const char *send_dmarc_policy_name(enum send_dmarc_policy p);

/* ---- Domain check (domain.c, domain_checks.c) ---------------------------- */

/* Appends an item to the report, its reason formatted from fmt; fix may be NULL. */
enum send_status send_domain_add(struct send_domain_report *r, enum send_check_result res,
				 const char *name, const char *fix, const char *fmt, ...)
    SEND_PRINTF(5, 6);
/* Adds `item` (SPF: the record) and, when ip is not NULL, `item`-IP (may ip
 * send for the domain?). */
enum send_status send_domain_check_spf(struct send_domain_report *r, struct send_dns *dns,
				       const char *domain, const char *ip, const char *item,
				       char **errstr);
/*
 * The organisational domain of d, without a public suffix list: its last two
 * labels, or three under a second level such as co.jp or com.au.
 */
const char *send_org_domain(const char *d);
/* Adds "DKIM <selector>": is the key hato holds published at its selector? */
enum send_status send_domain_check_dkim(struct send_domain_report *r, struct send_dns *dns,
					const char *domain, const struct send_dkim_pub *key);
/* Adds DMARC (the policy) and ALIGN (alignment, given the nkeys DKIM keys hato holds). */
enum send_status send_domain_check_dmarc(struct send_domain_report *r, struct send_dns *dns,
					 const char *domain, size_t nkeys);
/* Adds PTR: does the sending IP have reverse DNS, a name that resolves back to
 * it (forward-confirmed)? */
enum send_status send_domain_check_ptr(struct send_domain_report *r, struct send_dns *dns,
				       const char *ip);
/* Adds MX: does the domain receive mail (an MX record, or else A/AAAA)? */
enum send_status send_domain_check_mx(struct send_domain_report *r, struct send_dns *dns,
				      const char *domain);

#endif
