/*
 * send/bounce.c: `bounce read`: a bounce or complaint report (read by
 * report.c) applied to the people it names, through store_subscriber_mark.
 * The person is found by the VERP token of the envelope sender hato used
 * (its MAC checked with the key send_verp signs with), else by address.
 * A message that is no report but a request sent to unsubscribe.mailto, as
 * List-Unsubscribe's mailto writes it (Subject: "unsubscribe TOKEN"), is
 * applied as the https link's token is (send_unsubscribe_link).
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send/private.h"
#include "store/store.h"
#include "templates/templates.h"

/* Reads a decimal id of 1 to 19 digits at *p, up to `stop`. */
static bool id_at(const char **p, char stop, int64_t *out)
{
	const char *s = *p;
	int64_t v = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9' && n < 19) {
		v = v * 10 + (*s - '0');
		s++;
		n++;
	}
	if (n == 0 || *s != stop || v <= 0)
		return false;
	*out = v;
	*p = s + 1;
	return true;
}

bool send_verp_check(const unsigned char key[32], const char *address, int64_t *campaign,
		     int64_t *subscriber)
{
	const char *p = address, *at;
	char want[600], got[17], mac[17];
	int64_t c = 0, s = 0;
	size_t i;

	if (address == NULL || strncasecmp(p, "b+", 2) != 0)
		return false;
	p += 2;
	if (!id_at(&p, '.', &c) || !id_at(&p, '.', &s))
		return false;
	at = strchr(p, '@');
	if (at == NULL || at - p != 16 || strlen(at + 1) > 255)
		return false;
	for (i = 0; i < 16; i++)
		got[i] = (char)((p[i] >= 'A' && p[i] <= 'F') ? p[i] - 'A' + 'a' : p[i]);
	got[16] = '\0';
	send_verp(key, at + 1, c, s, want, sizeof(want));
	/* want is "b+C.S.MAC@domain": its MAC ends 17 bytes before the "@". */
	at = strchr(want, '@');
	memcpy(mac, at - 16, 16);
	mac[16] = '\0';
	if (sodium_memcmp(mac, got, 16) != 0)
		return false;
	*campaign = c;
	*subscriber = s;
	return true;
}

bool send_report_bad_address(const char *status)
{
	char reply[32];

	if (status == NULL || strlen(status) > 20)
		return false;
	snprintf(reply, sizeof(reply), "550 %s", status);
	return store_reply_bad_address(reply);
}

/* Is the Status a well-formed code (class.subject.detail, digits) to quote? */
static bool code_ok(const char *s)
{
	size_t i, dots = 0;

	if (s == NULL || s[0] == '\0' || strlen(s) > 11)
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == '.')
			dots++;
		else if (s[i] < '0' || s[i] > '9')
			return false;
	return dots == 2;
}

struct apply {
	struct store *st;
	send_bounce_cb cb;
	void *arg;
	int64_t campaign, subscriber; /* from a good VERP token, else 0 */
};

static void say(struct apply *a, const char *fmt, ...) SEND_PRINTF(2, 3);
static void say(struct apply *a, const char *fmt, ...)
{
	char line[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	a->cb(line, a->arg);
}

/* Marks the person (VERP id, else address); says what became of them. */
static enum send_status mark(struct apply *a, bool by_verp, const char *address, const char *status,
			     const char *details, char **errstr)
{
	enum store_status ss;
	char *email = NULL, *serr = NULL;
	bool changed = false;
	const char *name = address != NULL ? address : "(no address)";

	ss = store_subscriber_mark(a->st, by_verp ? a->subscriber : 0, address, status,
				   by_verp ? a->campaign : 0, details, &email, &changed, &serr);
	if (ss == STORE_ENOTFOUND) {
		bool counted = false;

		free(serr);
		serr = NULL;
		/* Erased since: a complaint still counts against the campaign it names. */
		if (by_verp && a->campaign > 0 && strcmp(status, "complained") == 0) {
			ss = store_complaint_of_erased(a->st, a->campaign, a->subscriber, &counted,
						       &serr);
			if (ss != STORE_OK)
				return send_from_store(ss, serr, errstr);
		}
		say(a, "%.300s: nobody on file; no change%s", name,
		    counted ? "; the complaint is counted against its campaign" : "");
		return SEND_OK;
	}
	if (ss != STORE_OK)
		return send_from_store(ss, serr, errstr);
	if (changed)
		say(a, "%.300s: %s (%s)%s", email, status, details,
		    strcmp(status, "complained") == 0 ? "; suppressed" : "");
	else
		say(a, "%.300s: %s (%s); no change: already %s", email, status, details,
		    strcmp(status, "bounced") == 0 ? "not active" : "complained");
	free(email);
	return SEND_OK;
}

static enum send_status dsn(struct apply *a, const struct send_report *r, char **errstr)
{
	enum send_status s = SEND_OK;
	const struct send_report_rcpt *x;
	const char *who, *code;
	char details[64];
	size_t i;

	if (r->nrcpts == 0)
		say(a, "the report names no recipient; no change");
	for (i = 0; s == SEND_OK && i < r->nrcpts; i++) {
		x = &r->rcpts[i];
		who = x->final_recipient != NULL ? x->final_recipient : x->original_recipient;
		code = code_ok(x->status) ? x->status : "no valid status";
		if (who == NULL)
			who = "(no address)";
		if (x->action == NULL || strcmp(x->action, "failed") != 0)
			say(a, "%.300s: %.20s, %s: not a failure; no change", who,
			    x->action != NULL ? x->action : "no action", code);
		else if (code_ok(x->status) && x->status[0] == '4')
			say(a, "%.300s: %s: transient; no change", who, code);
		else if (code_ok(x->status) && strncmp(x->status, "5.7.", 4) == 0)
			say(a,
			    "%.300s: %s: a policy or reputation block, not the address; no "
			    "change",
			    who, code);
		else if (!send_report_bad_address(x->status))
			say(a, "%.300s: %s: not a bad address; no change", who, code);
		else {
			snprintf(details, sizeof(details), "hard bounce %s (delivery report)",
				 x->status);
			/* hato sends one recipient per message: a token names that one. */
			s = mark(a, a->subscriber > 0 && r->nrcpts == 1,
				 x->final_recipient != NULL ? x->final_recipient
							    : x->original_recipient,
				 "bounced", details, errstr);
		}
	}
	return s;
}

/*
 * A feedback report: a complaint when its type is abuse (the person marked
 * the mail as spam) or fraud (as phishing). The other types (RFC 5965, RFC
 * 6591) are not the person's complaint: not-spam says the opposite, and
 * auth-failure, a DMARC failure report, is about mail forged in the
 * sender's name, whose recipients did nothing; they change nothing.
 */
static enum send_status arf(struct apply *a, const struct send_report *r, char **errstr)
{
	char details[64], ft[24] = "";
	const char *v = r->feedback_type;
	size_t n = 0;

	/* The type: its first word, a comment after it aside (RFC 5965 allows one). */
	while (v != NULL &&
	       ((v[n] >= 'a' && v[n] <= 'z') || (v[n] >= 'A' && v[n] <= 'Z') || v[n] == '-'))
		n++;
	if (v != NULL && n > 0 && n < sizeof(ft) && strchr(" \t(", v[n]) != NULL)
		snprintf(ft, sizeof(ft), "%.*s", (int)n, v);
	if (strcasecmp(ft, "abuse") != 0 && strcasecmp(ft, "fraud") != 0) {
		say(a, "a feedback report of type %s, which is not a complaint; no change",
		    ft[0] != '\0' ? ft : "(none or unreadable)");
		return SEND_OK;
	}
	snprintf(details, sizeof(details), "complaint (feedback report, %s)", ft);
	return mark(a, a->subscriber > 0, r->arf_rcpt != NULL ? r->arf_rcpt : r->returned_to,
		    "complained", details, errstr);
}

/* An unsubscribe request by mail: the token in its subject, followed as a link. */
static enum send_status mail_request(struct apply *a, const char *token, char **errstr)
{
	char list[65];
	bool already = false;
	enum send_status s = send_unsubscribe_link(
	    a->st, token, "by an unsubscribe request by mail", list, &already, errstr);

	/* Nobody to unsubscribe (erased, or the list removed): nobody gets mail either. */
	if (s == SEND_ENOTFOUND) {
		say(a, "an unsubscribe request by mail for someone no longer on the list (erased, "
		       "or the list removed); no change");
		if (errstr != NULL) {
			free(*errstr);
			*errstr = NULL;
		}
		return SEND_OK;
	}
	if (s == SEND_OK)
		say(a,
		    already ? "an unsubscribe request by mail: the person it names is already "
			      "unsubscribed from %s"
			    : "an unsubscribe request by mail: unsubscribed the person it names "
			      "from %s",
		    list);
	return s;
}

enum send_status send_bounce_read(struct store *st, const char *msg, size_t n, send_bounce_cb cb,
				  void *arg, char **errstr)
{
	struct send_report *r = NULL;
	struct apply a = {st, cb, arg, 0, 0};
	unsigned char key[32];
	enum send_status s;
	enum store_status ss;
	char *serr = NULL, token[TPL_UNSUB_TOKEN_LEN + 1];
	size_t i;
	bool bad = false;

	ss = store_require(st, STORE_PERM_SUBSCRIBERS_WRITE, "bounce.read", &serr);
	if (ss == STORE_OK)
		ss = store_require(st, STORE_PERM_PII, "bounce.read", &serr);
	if (ss != STORE_OK)
		return send_from_store(ss, serr, errstr);
	s = send_report_parse(msg, n, &r, errstr);
	if (s == SEND_EINVAL && send_request_token(msg, n, token)) {
		if (errstr != NULL) {
			free(*errstr);
			*errstr = NULL;
		}
		return mail_request(&a, token, errstr);
	}
	if (s != SEND_OK)
		return s;
	ss = store_unsubscribe_key(st, key);
	if (ss != STORE_OK) {
		s = send_from_store(ss, NULL, errstr);
		goto done;
	}
	for (i = 0; i < r->nverp && a.subscriber == 0; i++) {
		if (send_verp_check(key, r->verp[i], &a.campaign, &a.subscriber))
			break;
		if (strncasecmp(r->verp[i], "b+", 2) == 0)
			bad = true;
	}
	sodium_memzero(key, sizeof(key));
	if (a.subscriber == 0 && bad)
		say(&a, "a VERP token did not verify (a bad MAC); the person is looked up by "
			"address");
	s = r->kind == SEND_REPORT_DSN ? dsn(&a, r, errstr) : arf(&a, r, errstr);
done:
	send_report_free(&r);
	return s;
}
