/*
 * send: campaigns in flight.
 *
 * Turns a campaign into messages on the wire: composes each recipient's
 * signed message, checks the four-eyes approvals before anything leaves,
 * and runs the worker that sends through a transport with pacing, the
 * warm-up cap and the circuit breaker. Also the DKIM keys and the check of
 * a sending domain's DNS (SPF, DKIM, DMARC, MX/A).
 *
 * Files:
 *   status.c    send_strstatus and the module's small helpers
 *   dkim.c      DKIM key generation; signing with libopendkim (and the key
 *               cache that spares it a PEM decode per message)
 *   dns.c       DNS queries through glibc's resolver (res_nquery against a
 *               chosen server) and the parser of DNS answer messages
 *   dns_records.c  the parsers of record text: tag lists, DKIM key records,
 *               DMARC and SPF
 *   domain.c    the domain authentication check and its report
 *   domain_checks.c  its SPF, DKIM, DMARC and MX/A checks
 *   compose.c   one recipient's complete, signed message; recipients loaded
 *               from the store
 *   check.c     the pre-send checks of a stored template
 *   approve.c   approval hashes, signing and verifying them
 *   approve_changes.c  what changed since an approval that the store keeps
 *               no copy of
 *   worker.c    the worker: queue, claims, outcomes, crash safety
 *   pool.c      helper threads that compose and sign a claimed batch
 *   settings.c  the settings sending reads, and the transport they describe
 *   pace.c      rate, per-domain rules, warm-up, circuit breaker (pace.h)
 *   testsend.c  `campaign test`: one message now
 *   report.c    the reader of bounce and complaint reports (DSN, ARF)
 *   bounce.c    `bounce read`: a report applied to the people it names
 *   unsubscribe.c  the unsubscribe link of a message, followed
 *   transport.c, transport_smtp.c, transport_file.c: the transports behind
 *               one ops table (transport.h)
 *   private.h   what only the files in send/ (and white-box tests) share
 *
 * Depends on: store, templates; libopendkim (2.11, for Ed25519), OpenSSL 3,
 * libsodium, libcurl and glibc's libresolv.
 *
 * Error contract: every function returns enum send_status. Where words help
 * the caller it also fills *errstr with a malloc'd sentence that the caller
 * frees; errstr may be NULL. No error string ever holds a private key or a
 * password.
 *
 * Secrets: private keys handed out by this module live in sodium_malloc'd
 * memory; release them with send_secret_free(), which wipes them.
 */
#ifndef HATO_SEND_H
#define HATO_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

enum send_status {
	SEND_OK = 0,
	SEND_EUSAGE,  /* the caller passed something malformed (NULL, bad size) */
	SEND_EINVAL,  /* bad data: a bad domain, selector, key or message */
	SEND_EDNS,    /* the DNS server could not be reached or failed */
	SEND_ECRYPTO, /* OpenSSL, libsodium or libopendkim failed */
	SEND_ENOMEM,
	SEND_EDENIED,	   /* a refused approval, permission or four-eyes rule */
	SEND_ESTORE,	   /* the store failed: errstr says how */
	SEND_EBUSY,	   /* someone else holds what is needed: try later */
	SEND_ECONFIG,	   /* a setting is wrong or missing (smtp.url, smtp.tls, ...): fix it */
	SEND_ENOTFOUND,	   /* what was named (a campaign, a template) does not exist */
	SEND_EUNAVAILABLE, /* the mail server can't be reached, or refused TLS or our login */
};

/* A constant English name for the status. */
const char *send_strstatus(enum send_status s);

/* Wipes and frees a secret this module allocated (a private key); sets *p to NULL. */
void send_secret_free(char **p);

/* Frees a NULL-terminated vector of strings and sets *v to NULL. Accepts NULL. */
void send_strv_free(char ***v);

/* ---- Names ------------------------------------------------------------ */

/*
 * Checks a domain or a DKIM selector: dot-separated DNS labels of 1 to 63
 * letters, digits and hyphens (no hyphen at either end of a label), at most
 * 253 characters, no trailing dot. International names must be given in
 * their xn-- form. `what` names the thing in the error ("domain", "selector").
 */
enum send_status send_name_check(const char *what, const char *name, char **errstr);

/* ---- DKIM keys -------------------------------------------------------- */

enum send_dkim_alg {
	SEND_DKIM_RSA_SHA256,
	SEND_DKIM_ED25519_SHA256,
};

/* "rsa-sha256" or "ed25519-sha256", as written in a=. */
const char *send_dkim_alg_name(enum send_dkim_alg alg);

/* Parses "rsa", "rsa-sha256", "ed25519" or "ed25519-sha256". */
enum send_status send_dkim_alg_parse(const char *s, enum send_dkim_alg *out, char **errstr);

#define SEND_DKIM_RSA_BITS_DEFAULT 2048
#define SEND_DKIM_RSA_BITS_MIN 1024
#define SEND_DKIM_RSA_BITS_MAX 4096

/*
 * Generates a DKIM key pair. `bits` is for RSA only: 0 means 2048; fewer
 * than 1024 or more than 4096 is SEND_EINVAL. Ed25519 ignores it.
 *
 * *private_pem: the private key as PEM PKCS#8 ("-----BEGIN PRIVATE KEY-----"),
 *   the form libopendkim loads for both algorithms. sodium_malloc'd; the
 *   caller releases it with send_secret_free().
 * *public_txt: the DNS TXT value, "v=DKIM1; k=rsa; p=<base64 SPKI DER>" or
 *   "v=DKIM1; k=ed25519; p=<base64 of the raw 32-byte key>". malloc'd; the
 *   caller frees it.
 */
enum send_status send_dkim_keygen(enum send_dkim_alg alg, unsigned bits, char **private_pem,
				  char **public_txt, char **errstr);

/*
 * Derives the TXT value (as send_dkim_keygen writes it) from a PEM private
 * key, and reports the key's algorithm in *alg (may be NULL). *public_txt is
 * malloc'd; the caller frees it. An RSA key under 1024 bits is SEND_EINVAL.
 */
enum send_status send_dkim_public_txt(const char *private_pem, enum send_dkim_alg *alg,
				      char **public_txt, char **errstr);
/* The size in bits of the key in a DKIM key record (2048 for RSA-2048), or 0. */
unsigned send_dkim_public_bits(const char *public_txt);

/*
 * Splits a TXT value into DNS character-strings of at most `max` bytes
 * (1..255; 0 means 255). *strings is a malloc'd NULL-terminated vector of
 * malloc'd strings; free it with send_strv_free(). Their concatenation is
 * `value`. Refuses values with control or non-ASCII characters.
 */
enum send_status send_txt_split(const char *value, size_t max, char ***strings, char **errstr);

/*
 * Formats the record to publish for a DKIM key:
 *   *name  = "SELECTOR._domainkey.DOMAIN"
 *   *value = "\"v=DKIM1; k=rsa; p=MIIB...\" \"...\"" (strings of at most
 *            255 characters, quoted for a zone file, '"' and '\' escaped)
 * Both malloc'd; the caller frees them.
 */
enum send_status send_dkim_dns_record(const char *selector, const char *domain,
				      const char *public_txt, char **name, char **value,
				      char **errstr);

/* ---- DKIM signing ----------------------------------------------------- */

/* One signing key. All strings are copied by send_dkim_new(). */
struct send_dkim_key {
	const char *domain;	 /* d=, the From domain */
	const char *selector;	 /* s= */
	enum send_dkim_alg alg;	 /* must match the key's type */
	const char *private_pem; /* PEM PKCS#8 or PKCS#1 (RSA) */
};

/* A reusable signer: the libopendkim library handle and the checked keys. */
struct send_dkim;

/*
 * Creates a signer for `nkeys` keys (0 to 4). Each key gives one
 * DKIM-Signature, so an RSA and an Ed25519 key give a dual signature. The
 * private keys are copied into sodium_malloc'd memory; the caller may wipe
 * its copies at once. Signs c=relaxed/relaxed, never l=, never rsa-sha1, and
 * the header fields listed in DELIVERABILITY.md (with oversigning).
 * Free with send_dkim_free().
 */
enum send_status send_dkim_new(const struct send_dkim_key *keys, size_t nkeys,
			       struct send_dkim **out, char **errstr);

/* Wipes the keys, frees the signer and sets *d to NULL. Accepts NULL. */
void send_dkim_free(struct send_dkim **d);

/*
 * Signs one message: `msg` is `len` bytes of a complete RFC 5322 message
 * whose body is already quoted-printable or base64 encoded. Lines may end in
 * LF or CRLF. *out is a malloc'd copy of the message with CRLF line endings
 * and one folded "DKIM-Signature:" field per key on top; *outlen is its
 * length (*out is also NUL-terminated). The caller frees *out.
 * The message must have a From field. A signer may be used by several
 * threads at once.
 */
enum send_status send_dkim_sign(const struct send_dkim *d, const char *msg, size_t len, char **out,
				size_t *outlen, char **errstr);

/* ---- Domain authentication check -------------------------------------- */

enum send_check_result {
	SEND_CHECK_PASS,
	SEND_CHECK_WARN,
	SEND_CHECK_FAIL,
};

/* "PASS", "WARN" or "FAIL". */
const char *send_check_result_name(enum send_check_result r);

/* A DKIM key we hold, as the check compares it with DNS. Strings are borrowed. */
struct send_dkim_pub {
	const char *selector;
	const char *public_txt; /* as send_dkim_keygen/send_dkim_public_txt write it */
};

struct send_domain_report;

/*
 * Reads the DNS of `domain` and reports, item by item, whether mail from it
 * will authenticate:
 *   SPF     exactly one v=spf1 record, at most 10 DNS-querying terms (RFC 7208
 *           4.6.4, counted through includes and redirects), no +all;
 *           ?all or no all is a warning
 *   SPF-IP  (when sending_ip is given) the record allows that IPv4/IPv6 address
 *   DKIM    per held selector: SELECTOR._domainkey.DOMAIN publishes our key
 *   DMARC   _dmarc.DOMAIN has v=DMARC1, else the first parent domain found
 *           by the RFC 9989 tree walk, whose sp= (else p=) applies; p=none
 *           is a warning (RFC 7489 and RFC 9989 tags both accepted)
 *   ALIGN   From/DKIM d= and SPF alignment under the record's adkim/aspf
 *   MX      the domain has an MX or an A/AAAA record
 *   BOUNCE-SPF, BOUNCE-SPF-IP, BOUNCE-ALIGN
 *           when the envelope sender is on another domain (bounce.domain,
 *           `envelope`, which receivers check SPF for): SPF and SPF-IP for
 *           it, and whether it is in From's organisation (SPF alignment)
 *
 * dns_server: "HOST:PORT" or "HOST" (IPv4 address, port 53), or NULL for the
 * system resolver. sending_ip may be NULL. keys may be NULL when nkeys is 0.
 * *report is allocated; free it with send_domain_report_free(). Returns
 * SEND_EDNS when the server does not answer at all; a record that is missing
 * or wrong is a FAIL item, not an error.
 */
enum send_status send_domain_check(const char *domain, const char *envelope, const char *dns_server,
				   const char *sending_ip, const struct send_dkim_pub *keys,
				   size_t nkeys, struct send_domain_report **report, char **errstr);

/* send_domain_check with the DKIM keys the store holds for the domain. */
struct store;
enum send_status send_domain_check_held(struct store *st, const char *domain,
					const char *dns_server, const char *sending_ip,
					struct send_domain_report **report, char **errstr);
/* Number of items in the report. */
size_t send_domain_report_count(const struct send_domain_report *r);

/*
 * Item i (0-based, < count). The strings belong to the report and stay valid
 * until it is freed; any of name, reason, fix may be NULL. *fix is "" when
 * nothing needs fixing.
 */
enum send_check_result send_domain_report_item(const struct send_domain_report *r, size_t i,
					       const char **name, const char **reason,
					       const char **fix);

/* The first item whose name is `name` (e.g. "SPF", "DKIM rsa"), or -1. */
int send_domain_report_find(const struct send_domain_report *r, const char *name);

/* True when no item failed: the domain is fit to send from. */
bool send_domain_report_ok(const struct send_domain_report *r);

/*
 * The report as text, one item a line ("PASS  SPF     one record, 3 lookups"),
 * each failing or warning item followed by an indented "fix: ..." line.
 * *text is malloc'd; the caller frees it.
 */
enum send_status send_domain_report_format(const struct send_domain_report *r, char **text,
					   char **errstr);

/* Frees the report and sets *r to NULL. Accepts NULL. */
void send_domain_report_free(struct send_domain_report **r);

/* ---- Composing messages (compose.c) ------------------------------------ */

struct store;

/* What a message is made from. Strings are borrowed. */
struct send_compose_src {
	const char *template_name;
	const char *subject;  /* a template: merge tags allowed */
	const char *from;     /* "Name <addr>" or "addr"; NULL: the sender.from setting */
	const char *list;     /* the list's id, for List-Id and {{list.name}} (the list's
			       * name); NULL: "list", and no {{list.name}} */
	uint64_t campaign_id; /* for Feedback-ID; 0 for previews */
	bool test;	      /* a test send: each message says so (X-Hato-Test: yes) */
};

/* One recipient. Strings are borrowed. */
struct send_recipient {
	uint64_t subscriber_id;
	uint64_t list_id;
	const char *email;
	const char *name;
	const char *const *attr_keys;
	const char *const *attr_values;
	size_t nattrs;
};

/* A composed message: data is malloc'd (the caller frees it), CRLF throughout. */
struct send_composed {
	char *data;
	size_t len;
	char message_id[128];
};

struct send_composer;

/*
 * Loads and compiles the template, reads the sender identity, the unsubscribe
 * settings (unsubscribe.url must be https://) and every DKIM key held for the
 * From domain. *out is the caller's: send_composer_free.
 */
enum send_status send_composer_new(struct store *st, const struct send_compose_src *src,
				   struct send_composer **out, char **errstr);
void send_composer_free(struct send_composer **c);
/* How many DKIM keys sign each message; the From domain. */
size_t send_composer_dkim_keys(const struct send_composer *c);
const char *send_composer_from_domain(const struct send_composer *c);
const char *send_composer_from_addr(const struct send_composer *c);
/*
 * The complete message for one recipient: merged, MIME-encoded, with
 * List-Unsubscribe (an https token URL and the mailto), List-Unsubscribe-Post,
 * List-Id, Feedback-ID and its own Message-ID, and DKIM-signed with every key.
 */
enum send_status send_compose(const struct send_composer *c, const struct send_recipient *r,
			      struct send_composed *out, char **errstr);
struct store_campaign;
struct store_subscriber;
/* A composer for a campaign's template, subject, From and list. */
enum send_status send_composer_for_campaign(struct store *st, const struct store_campaign *c,
					    struct send_composer **out, char **errstr);

/* A recipient loaded from the store, and what its strings live in. */
struct send_recipient_buf {
	struct send_recipient r;
	const char *list; /* the id of the list it was loaded as a member of, or NULL */
	struct store_subscriber *sub;
	const char **keys, **values;
};
/*
 * Loads a subscriber as a recipient of `list` (NULL: the person's first list).
 * Needs the store's subscriber read permission. Clear with send_recipient_clear.
 */
enum send_status send_recipient_load(struct store *st, const char *email, const char *list,
				     struct send_recipient_buf *b, char **errstr);
void send_recipient_clear(struct send_recipient_buf *b);

/* Reads one mailbox, "addr", "Name <addr>" or "\"Hato, Inc.\" <addr>", the name
 * unquoted (tpl_mailbox_parse); more than one address is SEND_EINVAL. Both
 * allocated; "" for no name. */
enum send_status send_parse_from(const char *from, char **name, char **addr, char **errstr);

/* The merge tags a template may use, for the pre-send checks. */
extern const char *const send_known_tags[];
extern const size_t send_known_tags_count;

/*
 * What a mailbox provider's reply says is wrong with the sender, for the
 * enhanced codes Gmail and Outlook.com give (4.7.23 a PTR, 4.7.27 SPF,
 * 5.7.26 unauthenticated, 5.7.515...), in words and with what to run;
 * NULL for any other reply (retry.c).
 */
const char *send_reply_cause(const char *reply);

/* ---- Settings (settings.c) ---------------------------------------------- */

/*
 * Checks a value of the setting `key` with the parser sending reads it with:
 * SEND_EINVAL, saying what is wrong, for a value it would refuse or misread.
 * "" (unset) and the settings sending takes as free text are SEND_OK. The
 * store runs it before it saves a setting (store_config_set_checker).
 */
enum send_status send_setting_check(const char *key, const char *value, char **errstr);
/* send_setting_check, and the value against the store's other settings, as
 * sending reads them together: smtp.tls = none with an smtp.url that is not a
 * loopback relay, or is smtps://, is SEND_EINVAL whichever is set last. */
enum send_status send_setting_check_in(struct store *st, const char *key, const char *value,
				       char **errstr);

/* ---- Pre-send checks (check.c) ------------------------------------------ */

struct tpl_findings;
struct store_campaign;
/*
 * Runs the pre-send checks of templates/ on a stored template with the
 * store's sender identity, the DKIM keys held for the From domain (from, or
 * the sender.from setting) and the ISO-2022-JP option. The settings the
 * worker would refuse (unsubscribe.url unset or not https://HOST/PATH, a bad
 * unsubscribe.mailto or send.iso2022jp) are errors too: unsubscribe-url,
 * unsubscribe-mailto, iso2022jp. *out is the caller's (tpl_findings_free);
 * it may hold errors while the call returns SEND_OK.
 */
enum send_status send_check_template(struct store *st, const char *template_name,
				     const char *subject, const char *from,
				     struct tpl_findings **out, char **errstr);

/*
 * A campaign's pre-send checks: its template's (send_check_template with the
 * campaign's subject and From) and its audience's (nobody left after
 * suppressions is an error). Clear with send_campaign_checks_clear.
 */
struct send_campaign_checks {
	struct tpl_findings *findings; /* the template's */
	int64_t recipients;	       /* after suppressions; -1 when not counted */
	const char *audience_code;     /* "recipients" or "no-recipients" when it fails */
	char *audience_error;	       /* why it fails (allocated), or NULL */
	size_t errors, warnings;       /* findings and audience together */
};
enum send_status send_check_campaign(struct store *st, const struct store_campaign *c,
				     struct send_campaign_checks *out, char **errstr);
void send_campaign_checks_clear(struct send_campaign_checks *k);
/* A finding as one line: "error   body:3:5       unknown-tag      {{nmae}} is ...". */
struct tpl_finding;
void send_finding_format(const struct tpl_finding *x, char *buf, size_t size);
/*
 * Runs the campaign's checks: SEND_OK when none fails; SEND_EINVAL when any
 * does, with *errstr saying so and listing every error, one a line.
 * Warnings never block.
 */
enum send_status send_campaign_check_errors(struct store *st, const struct store_campaign *c,
					    char **errstr);

/* ---- Four-eyes approval (approve.c) -------------------------------------- */

struct store_campaign;

/*
 * The 32-byte hash an approval signs: From (the sender.from setting when the
 * campaign has none), subject, template kind, source and text part, layout
 * name and sources, list, segment name and expression, scheduled_at, and the
 * settings that go into every message: sender.name, sender.postal_address,
 * sender.contact, unsubscribe.url, unsubscribe.mailto, feedback.id and
 * send.iso2022jp.
 */
enum send_status send_campaign_hash(struct store *st, const struct store_campaign *c,
				    time_t scheduled_at, unsigned char hash[32], char **errstr);
struct store_campaign_version;
/*
 * What changed since the approved version v of campaign c
 * (store_campaign_last_approved) among what the approval covers but v keeps
 * no copy of: the template's kind and layout, the list's name, the
 * segment's expression, the From that sender.from gives, and the settings
 * that go into every message. Sets *out to NULL when none of them changed,
 * else to sentences saying what did, or may have (a NULL-terminated vector;
 * free it with send_strv_free). While c still has the approvals of v, their
 * hashes tell whether any changed, and which when one alone did and its old
 * value can be guessed; once they are dropped (c went back to review), only
 * that any may have.
 */
enum send_status send_campaign_changes_unkept(struct store *st, const struct store_campaign *c,
					      const struct store_campaign_version *v, char ***out,
					      char **errstr);
/*
 * Submits a draft or rejected campaign for review, refusing it (SEND_EINVAL,
 * every error listed in *errstr) when its pre-send checks fail. A campaign
 * paused because its approved content changed goes back to review the same
 * way, keeping its queue (store_campaign_resubmit); one paused with valid
 * approvals is refused (resume it instead).
 */
enum send_status send_campaign_submit(struct store *st, const char *name, char **errstr);
/*
 * Resumes a paused campaign (store_campaign_resume), unless the worker would
 * pause it again at once: SEND_EINVAL, saying why, when its approved content
 * changed (submit it again) or its pre-send checks fail (a setting, a DKIM
 * key); SEND_EDENIED when its approvals don't verify.
 */
enum send_status send_campaign_resume(struct store *st, const char *name, char **errstr);
/*
 * Signs the campaign's hash with the logged-in user's key and records the
 * approval. Refused like submitting when the pre-send checks fail now.
 * `shown` is what the approver was shown: the 32-byte send_campaign_hash of
 * the campaign as loaded, with its scheduled_at then. When the campaign's
 * hash is another now (an edit, a resubmission, a changed template, layout,
 * segment or setting), nothing is signed: SEND_EDENIED, saying the campaign
 * changed since it was shown. NULL signs the campaign as it is now (the
 * command line, which shows nothing first).
 */
enum send_status send_campaign_approve(struct store *st, const char *name, const char *comment,
				       const unsigned char *shown, char **errstr);
/*
 * Sets the send time (0: now), signing the new content as the scheduler's
 * approval; refused when the pre-send checks fail now, and for a time more
 * than a minute in the past (SEND_EINVAL). `shown` as for
 * send_campaign_approve.
 */
enum send_status send_campaign_schedule(struct store *st, const char *name, time_t at,
					const unsigned char *shown, char **errstr);
/*
 * Advice on a send time, not a refusal: true, with why, when it falls in the
 * first five minutes of an hour and the campaign has recipients at
 * docomo.ne.jp, which watches for bursts then (DELIVERABILITY.md).
 */
bool send_schedule_advice(struct store *st, const char *name, time_t at, char *why, size_t n);
/* A send time that send_campaign_schedule refuses: more than a minute before now (0 is now). */
bool send_schedule_passed(time_t at, time_t now);
/*
 * Recomputes the hash and counts the approvals whose signature verifies under
 * the approver's key, whose hash matches, whose approver is not the author and
 * is an active user with the approve permission. SEND_EDENIED, saying why,
 * when fewer than approvals_needed pass. *changed (may be NULL) is then true
 * when they would all pass but for the hash: the approved content changed
 * (an edit, a setting), which calls for a new review rather than suspicion.
 */
enum send_status send_campaign_verify(struct store *st, const struct store_campaign *c,
				      bool *changed, char **errstr);

/* ---- The worker (worker.c, pace.c) ---------------------------------------- */

struct send_worker_opts {
	bool once;		     /* exit when nothing more can be sent now */
	volatile sig_atomic_t *stop; /* set by a signal: finish what is in flight, stop */
	FILE *log;		     /* progress lines, or NULL */
};

/*
 * Sends every due campaign: checks its approvals (refusing, in the audit
 * trail, any that do not verify), fixes its recipients into the queue, sends
 * through the smtp.url transport with pacing, the warm-up cap and the circuit
 * breaker, and records each recipient's outcome. At start, recipients left in
 * flight by a dead worker become uncertain. One worker per store
 * (SEND_EBUSY otherwise). With o->once, SEND_EUNAVAILABLE when a TLS or
 * AUTH failure paused a campaign (the server is refusing us).
 */
enum send_status send_worker_run(struct store *st, const struct send_worker_opts *o, char **errstr);
/*
 * The warm-up plan: with warmup.start set, a day's cap is warmup.volume
 * (default 50) growing 40% a day, or that day's entry of warmup.schedule
 * ("50,80,120"); after the table's last day, or without warmup.start, no cap.
 */
struct send_warmup {
	bool active;
	int day;       /* days since warmup.start */
	long cap;      /* today's cap; -1: none */
	long next_cap; /* tomorrow's; -1: none */
	int64_t sent_today;
	const char *plan; /* "built-in ramp, +40% a day" or "custom table" */
	bool restarted;	  /* day 0 is a restart after 30 days without a message sent */
	long idle_days;	  /* those days, when the restart is today and not yet recorded */
};
void send_warmup_status(struct store *st, time_t now, struct send_warmup *w);
/*
 * The rate of the messages sent in the last minute, as campaign status and
 * the monitor give it: "243.2/s", or under one a second (which would round
 * to 0.0/s) "13/min". Returns buf.
 */
const char *send_rate_text(int64_t last_minute, char *buf, size_t size);
/* Records a restart of the warm-up (today, day 0) when 30 days went by without a
 * message sent: the worker, before it sends (audited as warmup.restart). */
void send_warmup_restart(struct store *st, time_t now);
/* True when a worker holds this store's worker lock. */
bool send_worker_running(struct store *st);
/* The VERP envelope sender b+CAMPAIGN.SUBSCRIBER.MAC@domain. */
void send_verp(const unsigned char key[32], const char *domain, int64_t campaign,
	       int64_t subscriber, char *out, size_t outlen);
/*
 * Reads the VERP address b+CAMPAIGN.SUBSCRIBER.MAC@domain (any domain; the
 * MAC's hex in either case): true, with the ids, when its MAC is the one
 * send_verp makes with key.
 */
bool send_verp_check(const unsigned char key[32], const char *address, int64_t *campaign,
		     int64_t *subscriber);

/* ---- Bounce and complaint reports (report.c, bounce.c) -------------------- */

#define SEND_REPORT_MAX (10u << 20) /* bytes of one report message */
#define SEND_REPORT_MAX_ADDRS 256   /* recipients and VERP candidates kept */

enum send_report_kind {
	SEND_REPORT_DSN, /* multipart/report; report-type=delivery-status (RFC 3464) */
	SEND_REPORT_ARF, /* multipart/report; report-type=feedback-report (RFC 5965) */
};

/* One recipient of a DSN. Each string is allocated, or NULL when absent. */
struct send_report_rcpt {
	char *final_recipient;	  /* the address of Final-Recipient, its type removed */
	char *original_recipient; /* the same of Original-Recipient */
	char *action;		  /* lower case: "failed", "delayed", ... */
	char *status;		  /* "5.1.1", without a comment */
};

struct send_report {
	enum send_report_kind kind;
	/* Addresses that may hold a VERP token: the report's To, Delivered-To,
	 * X-Original-To and Envelope-To, the returned message's Return-Path and
	 * an ARF's Original-Mail-From, in that order of finding. */
	char **verp;
	size_t nverp;
	struct send_report_rcpt *rcpts; /* DSN */
	size_t nrcpts;
	char *feedback_type; /* ARF: "abuse", ...; NULL when absent */
	char *arf_rcpt;	     /* ARF: Original-Rcpt-To */
	char *returned_to;   /* the returned message's (first) To address */
};

/*
 * Parses one message (msg[0..n), not NUL-terminated, at most
 * SEND_REPORT_MAX bytes). SEND_EINVAL with a sentence when it is not a
 * report: not multipart/report of a delivery-status or feedback-report type,
 * no boundary, no report part, a header that is not a mail header. *out is
 * allocated; free it with send_report_free.
 */
enum send_status send_report_parse(const char *msg, size_t n, struct send_report **out,
				   char **errstr);
void send_report_free(struct send_report **r);

/*
 * Does a DSN recipient's Status say the address is bad? The rule
 * store_reply_bad_address applies to an SMTP reply: 5.1.x but not 5.1.7 or
 * 5.1.8.
 */
bool send_report_bad_address(const char *status);

/*
 * The unsubscribe link of a message, followed: link is its token, or the
 * whole URL (unsubscribe.url and the token, a query dropped). Unsubscribes
 * the person it names from the list it names, whose ID goes to list;
 * *already when they were unsubscribed already. SEND_EINVAL when it is not
 * a link of this store (no token, or one whose MAC does not verify);
 * SEND_ENOTFOUND (from the store) when the person was erased or the list
 * removed. Needs STORE_PERM_SUBSCRIBERS_WRITE; no address is shown. how
 * goes to the person's history ("by the unsubscribe link of a message").
 */
enum send_status send_unsubscribe_link(struct store *st, const char *link, const char *how,
				       char list[65], bool *already, char **errstr);
/* Its parser: the ids the token of link names, when its MAC verifies under key. */
enum send_status send_unsubscribe_parse(const unsigned char key[32], const char *link,
					uint64_t *subscriber, uint64_t *list_num, char **errstr);

/* Called with each line `bounce read` prints (what became of whom). */
typedef void (*send_bounce_cb)(const char *line, void *arg);
/*
 * `bounce read`: parses the report and applies it. A DSN recipient that
 * failed with a bad address (send_report_bad_address) becomes bounced; an
 * ARF complaint makes the person complained and suppressed. The person is
 * the one a VERP token with a good MAC names, else the one whose address
 * the report gives (Final-Recipient or Original-Recipient; Original-Rcpt-To
 * or the returned message's To). Other outcomes (5.7.x, 4.x.x, nobody on
 * file) change nothing and are reported too. Needs
 * STORE_PERM_SUBSCRIBERS_WRITE and STORE_PERM_PII (store_subscriber_mark).
 * A message that is no report but has an unsubscribe token in its Subject
 * (send_request_token: a request to unsubscribe.mailto) is followed as
 * send_unsubscribe_link follows a link. SEND_EINVAL when the message is
 * neither, or its token does not verify.
 */
enum send_status send_bounce_read(struct store *st, const char *msg, size_t n, send_bounce_cb cb,
				  void *arg, char **errstr);
/* The first word of the Subject of the message msg[0..n) with an unsubscribe
 * token's length and alphabet, into token; false when there is none. */
bool send_request_token(const char *msg, size_t n, char token[67]);

/*
 * An mbox, one message at a time, from in: the file's first line, a "From "
 * line (line number first), has been read already. cb gets each message
 * (without its "From " line), the number of that line, and whether the
 * message was over SEND_REPORT_MAX bytes (then only its first bytes are
 * given). A non-zero return of cb stops the reading and is returned; -1
 * when reading fails or memory runs out (errno says why).
 */
typedef int (*send_mbox_cb)(const char *msg, size_t n, bool too_big, unsigned long line, void *arg);
int send_mbox_read(FILE *in, unsigned long first, send_mbox_cb cb, void *arg);

/*
 * A test send of a campaign to one address (a subscriber's data when the
 * address is on file), through the configured transport, now. *reply is the
 * server's reply (allocated). Audited.
 *
 * The message can't pass for the campaign: its Subject starts "[TEST] " and
 * it carries "X-Hato-Test: yes"; it is DKIM-signed like the real one. It is
 * refused (SEND_EDENIED, audited) to an address that may not be mailed
 * (store_address_mailable: suppressed, erased, unsubscribed, bounced...),
 * and (SEND_EBUSY) once the user has sent SEND_TEST_DAILY_MAX test messages
 * in the last 24 hours, as the audit trail counts them.
 */
#define SEND_TEST_DAILY_MAX 20
enum send_status send_campaign_test(struct store *st, const char *name, const char *to,
				    char **reply, char **errstr);

#endif
