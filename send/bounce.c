/*
 * send/bounce.c: `bounce read`: a bounce or complaint report (read by
 * report.c) applied to the people it names, through store_subscriber_mark.
 * The person is found by the VERP token of the envelope sender hato used
 * (its MAC checked with the key send_verp signs with), else by address.
 * A message that is no report but a request sent to unsubscribe.mailto, as
 * List-Unsubscribe's mailto writes it (Subject: "unsubscribe TOKEN"), is
 * applied as the https link's token is (send_unsubscribe_link).
 */
#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static enum send_status arf(struct apply *a, const struct send_report *r, char **errstr)
{
	char details[64];
	const char *ft = r->feedback_type;
	size_t i;

	/* The type is quoted only when it is a plain word. */
	for (i = 0; ft != NULL && ft[i] != '\0'; i++)
		if (i >= 20 || !((ft[i] >= 'a' && ft[i] <= 'z') || (ft[i] >= 'A' && ft[i] <= 'Z') ||
				 ft[i] == '-'))
			ft = NULL;
	snprintf(details, sizeof(details), "complaint (feedback report%s%s)", ft ? ", " : "",
		 ft ? ft : "");
	return mark(a, a->subscriber > 0, r->arf_rcpt != NULL ? r->arf_rcpt : r->returned_to,
		    "complained", details, errstr);
}

/* The header field's value starting at v (after "Name:"), unfolded, into out. */
static void unfold(const char *v, const char *end, char *out, size_t size)
{
	size_t k = 0;

	for (; v < end && k + 1 < size; v++) {
		if (*v == '\r') { /* a space, as any other break between words */
			out[k++] = ' ';
			continue;
		}
		if (*v == '\n') {
			if (v + 1 >= end || (v[1] != ' ' && v[1] != '\t'))
				break; /* the field ends */
			continue;
		}
		out[k++] = *v;
	}
	out[k] = '\0';
}

/*
 * Decodes one RFC 2047 encoded-word at p ("=?charset?B?...?=" or Q) into out
 * (k bytes there, at most n in all); returns its length, or 0 when p is no
 * encoded-word. The charset is not read: a token is ASCII in any charset a
 * mail client would use (UTF-8, ISO-2022-JP's ASCII set).
 */
static size_t encoded_word(const char *p, char *out, size_t *k, size_t n)
{
	const char *q, *text, *end;
	size_t got = 0;
	char enc;

	if (p[0] != '=' || p[1] != '?' || (q = strchr(p + 2, '?')) == NULL || q[1] == '\0' ||
	    q[2] != '?')
		return 0;
	enc = (char)(q[1] | 0x20);
	text = q + 3;
	if ((enc != 'b' && enc != 'q') || (end = strstr(text, "?=")) == NULL)
		return 0;
	if (enc == 'b') {
		if (sodium_base642bin((unsigned char *)out + *k, n - *k - 1, text,
				      (size_t)(end - text), NULL, &got, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0)
			return 0;
		*k += got;
	} else {
		for (; text < end && *k + 1 < n; text++) {
			unsigned hi, lo;

			if (*text == '_')
				out[(*k)++] = ' ';
			else if (*text == '=' && end - text >= 3 &&
				 sscanf(text + 1, "%1x%1x", &hi, &lo) == 2) {
				out[(*k)++] = (char)(hi << 4 | lo);
				text += 2;
			} else
				out[(*k)++] = *text;
		}
	}
	return (size_t)(end + 2 - p);
}

/* The subject s with its encoded-words decoded (RFC 2047), into out. */
static void decode_words(const char *s, char *out, size_t n)
{
	size_t k = 0, w;
	bool after_word = false;

	while (*s != '\0' && k + 1 < n) {
		w = encoded_word(s, out, &k, n);
		if (w > 0) {
			s += w;
			after_word = true;
			continue;
		}
		/* Blanks between two encoded-words are not part of the text (6.2). */
		if (after_word && (*s == ' ' || *s == '\t')) {
			const char *t = s + strspn(s, " \t");
			if (t[0] == '=' && t[1] == '?') {
				s = t;
				continue;
			}
		}
		after_word = false;
		out[k++] = *s++;
	}
	out[k] = '\0';
}

_Static_assert(TPL_UNSUB_TOKEN_LEN + 1 == 67, "send_request_token's size in send.h");

bool send_request_token(const char *msg, size_t n, char token[TPL_UNSUB_TOKEN_LEN + 1])
{
	const char *p = msg, *end = msg + n, *eol;
	char raw[400], subject[400];
	size_t i, w;

	while (p < end && *p != '\r' && *p != '\n') { /* the header, to its blank line */
		if (end - p > 8 && strncasecmp(p, "Subject:", 8) == 0) {
			unfold(p + 8, end, raw, sizeof(raw));
			decode_words(raw, subject, sizeof(subject));
			for (i = 0; subject[i] != '\0'; i += w ? w : 1) {
				for (w = 0; isalnum((unsigned char)subject[i + w]) ||
					    subject[i + w] == '-' || subject[i + w] == '_';)
					w++;
				if (w == TPL_UNSUB_TOKEN_LEN) {
					memcpy(token, subject + i, w);
					token[w] = '\0';
					return true;
				}
			}
			return false;
		}
		eol = memchr(p, '\n', (size_t)(end - p));
		p = eol != NULL ? eol + 1 : end;
	}
	return false;
}

/* An unsubscribe request by mail: the token in its subject, followed as a link. */
static enum send_status mail_request(struct apply *a, const char *token, char **errstr)
{
	char list[65];
	bool already = false;
	enum send_status s = send_unsubscribe_link(a->st, token, list, &already, errstr);

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
