/*
 * send/settings.c: the settings that sending reads from the store, how each
 * one is read, and the transport they describe.
 *
 * Each setting has one parser. Sending reads the setting with it, and
 * `config set` runs the same parser through send_setting_check (which the
 * store calls before it saves a value), so a value the worker would misread
 * is refused when it is set. The parsers live with what they describe: the
 * numbers, unsubscribe.url, send.iso2022jp, send.dkim and the sender.* values of
 * blanks here, smtp.url and smtp.tls in
 * transport.c, warmup.* and pace.DOMAIN in pace.c, sender.from in
 * templates/header.c (tpl_mailbox_parse, through send_parse_from).
 */
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "send/pace.h"
#include "send/private.h"
#include "send/transport.h"
#include "store/store.h"
#include "templates/templates.h"

/* A number setting: its default and the values it may take. */
struct number {
	const char *key;
	long dflt, min, max;
};

static const struct number numbers[] = {
    {"send.rate", 0, 0, 1000000},      /* messages a second; 0: no limit */
    {"send.breaker", 5, 0, 100},       /* the share of 5xx, in percent, that pauses */
    {"send.retry_base", 60, 1, 86400}, /* seconds before the first retry */
    {"send.retry_for", SEND_RETRY_FOR_DEFAULT, 0, 30L * 86400}, /* seconds before giving up */
    {"warmup.volume", 50, 1, PACE_CAP_MAX},			/* the built-in ramp's first day */
    {"smtp.connections", TRANSPORT_CONNECTIONS_DEFAULT, 1, TRANSPORT_CONNECTIONS_MAX},
};

static const struct number *number_of(const char *key)
{
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (strcmp(numbers[i].key, key) == 0)
			return &numbers[i];
	return NULL;
}

bool send_parse_number(const char *s, long min, long max, long *n, const char **end)
{
	long v = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > max / 10 || v * 10 > max - (*s - '0'))
			return false;
		v = v * 10 + (*s - '0');
	}
	if (v < min)
		return false;
	*n = v;
	*end = s;
	return true;
}

static enum send_status number_parse(const struct number *d, const char *v, long *n, char **errstr)
{
	const char *end;

	if (!send_parse_number(v, d->min, d->max, n, &end) || *end != '\0')
		return send_err(errstr, SEND_EINVAL,
				"%s takes a whole number from %ld to %ld; \"%s\" is not", d->key,
				d->min, d->max, v);
	return SEND_OK;
}

char *send_setting(struct store *st, const char *key)
{
	char *v = NULL;

	if (store_config_get(st, key, &v, NULL) != STORE_OK || v == NULL || *v == '\0') {
		free(v);
		return NULL;
	}
	return v;
}

long send_setting_number(struct store *st, const char *key)
{
	const struct number *d = number_of(key);
	char *v;
	long n = 0;

	if (d == NULL)
		return 0; /* not a number setting: a bug */
	v = send_setting(st, key);
	if (v == NULL || number_parse(d, v, &n, NULL) != SEND_OK)
		n = d->dflt;
	free(v);
	return n;
}

enum send_status send_unsub_url_check(const char *url, char **errstr)
{
	const char *host, *p;
	char name[254];
	size_t n;
	long port;

	if (url == NULL)
		return send_err(errstr, SEND_EINVAL,
				"unsubscribe.url must be set to an https:// address: RFC 8058 "
				"one-click unsubscribe needs it");
	if (strncasecmp(url, "https://", 8) != 0)
		goto bad;
	host = url + 8;
	n = strcspn(host, ":/");
	if (n == 0 || n >= sizeof(name))
		goto bad;
	memcpy(name, host, n);
	name[n] = '\0';
	if (send_name_check("the host of unsubscribe.url", name, NULL) != SEND_OK)
		goto bad;
	p = host + n;
	if (*p == ':' && (!send_parse_number(p + 1, 1, 65535, &port, &p)))
		goto bad;
	if (*p != '\0' && *p != '/')
		goto bad;
	/* The path: RFC 3986 pchar, without a query or fragment (the token is
	 * appended to it), and nothing that would end the <...> of
	 * List-Unsubscribe or the href it is written into. */
	for (; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("-._~!$&'()*+,;=:@/%", *p) == NULL)
			goto bad;
	return SEND_OK;
bad:
	return send_err(errstr, SEND_EINVAL,
			"unsubscribe.url \"%s\" is not an https:// address "
			"(https://HOST[:PORT]/PATH, such as https://example.com/u/): RFC 8058 "
			"one-click unsubscribe needs one",
			url);
}

enum send_status send_parse_choice(const char *key, const char *v, const char *first,
				   const char *second, bool *is_second, char **errstr)
{
	if (v == NULL || strcasecmp(v, first) == 0)
		*is_second = false;
	else if (strcasecmp(v, second) == 0)
		*is_second = true;
	else
		return send_err(errstr, SEND_EINVAL, "%s is \"%s\" or \"%s\"; \"%s\" is not", key,
				first, second, v);
	return SEND_OK;
}

enum send_status send_iso2022jp_parse(const char *v, bool *carriers, char **errstr)
{
	return send_parse_choice("send.iso2022jp", v, "off", "carriers", carriers, errstr);
}

enum send_status send_dkim_parse(const char *v, bool *relay, char **errstr)
{
	return send_parse_choice("send.dkim", v, "hato", "relay", relay, errstr);
}

enum send_status send_mailto_check(const char *v, char **errstr)
{
	char *name = NULL, *addr = NULL;
	enum send_status s = send_parse_from(v, &name, &addr, NULL);

	if (s == SEND_OK && (*name != '\0' || strcmp(addr, v) != 0))
		s = SEND_EINVAL;
	free(name);
	free(addr);
	if (s == SEND_EINVAL)
		s = send_err(errstr, s,
			     "unsubscribe.mailto is an address alone, such as "
			     "unsubscribe@example.com; \"%s\" is not",
			     v);
	return s;
}

/* ---- The checks `config set` runs ------------------------------------------ */

static enum send_status check_tls(const char *v, char **errstr)
{
	bool cleartext;

	return transport_tls_parse(v, &cleartext, errstr);
}

static enum send_status check_iso2022jp(const char *v, char **errstr)
{
	bool carriers;

	return send_iso2022jp_parse(v, &carriers, errstr);
}

static enum send_status check_dkim(const char *v, char **errstr)
{
	bool relay;

	return send_dkim_parse(v, &relay, errstr);
}

static enum send_status check_from(const char *v, char **errstr)
{
	char *name = NULL, *addr = NULL;
	enum send_status s = send_parse_from(v, &name, &addr, errstr);

	free(name);
	free(addr);
	return s;
}

static enum send_status check_bounce_domain(const char *v, char **errstr)
{
	return send_name_check("bounce.domain", v, errstr);
}

static enum send_status check_day(const char *v, char **errstr)
{
	if (pace_day_parse(v) == (time_t)-1)
		return send_err(errstr, SEND_EINVAL,
				"warmup.start is a day, YYYY-MM-DD (UTC), such as 2026-12-01; "
				"\"%s\" is not",
				v);
	return SEND_OK;
}

static enum send_status check_table(const char *v, char **errstr)
{
	long cap, next;

	return strcmp(v, "ramp") == 0 ? SEND_OK : pace_table_parse(v, 0, &cap, &next, errstr);
}

/* A file of CA certificates the worker will read: one it can open now. */
static enum send_status check_ca_file(const char *v, char **errstr)
{
	if (access(v, R_OK) != 0)
		return send_err(errstr, SEND_EINVAL, "cannot read smtp.ca_file %s: %s", v,
				strerror(errno));
	return SEND_OK;
}

static const struct {
	const char *key;
	enum send_status (*check)(const char *value, char **errstr);
} checks[] = {
    {"smtp.ca_file", check_ca_file},
    {"smtp.url", transport_url_check},
    {"smtp.tls", check_tls},
    {"sender.from", check_from},
    {"unsubscribe.url", send_unsub_url_check},
    {"unsubscribe.mailto", send_mailto_check},
    {"bounce.domain", check_bounce_domain},
    {"send.iso2022jp", check_iso2022jp},
    {"send.dkim", check_dkim},
    {"warmup.start", check_day},
    {"warmup.schedule", check_table},
};

enum send_status send_setting_check(const char *key, const char *value, char **errstr)
{
	const struct number *d = number_of(key);
	long a, b;

	if (value == NULL || *value == '\0')
		return SEND_OK; /* unset: the default */
	if (d != NULL)
		return number_parse(d, value, &a, errstr);
	/* The footer the law requires would show nothing: refused, as an unset value fails
	 * the pre-send checks (sender-empty). */
	if (strncmp(key, "sender.", 7) == 0 && tpl_is_blank(value))
		return send_err(errstr, SEND_EINVAL,
				"%s is only blanks, which show nothing; every message must show "
				"the sender's name, postal address and contact (an empty value "
				"unsets it)",
				key);
	if (strncmp(key, "pace.", 5) == 0) {
		enum send_status s = send_name_check(key, key + 5, errstr);

		return s != SEND_OK ? s : pace_rule_parse(key, value, &a, &b, errstr);
	}
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (strcmp(checks[i].key, key) == 0)
			return checks[i].check(value, errstr);
	return SEND_OK; /* free text: names, addresses for people, a path */
}

enum send_status send_setting_check_in(struct store *st, const char *key, const char *value,
				       char **errstr)
{
	enum send_status s = send_setting_check(key, value, errstr);
	bool url = strcmp(key, "smtp.url") == 0, tls = strcmp(key, "smtp.tls") == 0;
	char *other, *why = NULL;

	if (s != SEND_OK || st == NULL || (!url && !tls))
		return s;
	other = send_setting(st, url ? "smtp.tls" : "smtp.url");
	if (other != NULL && value != NULL && *value != '\0' && tls)
		s = transport_tls_check(other, value, errstr);
	if (other != NULL && value != NULL && *value != '\0' && url &&
	    transport_tls_check(value, other, &why) != SEND_OK)
		s = send_err(errstr, SEND_EINVAL,
			     "smtp.url \"%s\" does not go with smtp.tls = %s (%s); set smtp.tls to "
			     "required first",
			     value, other, why != NULL ? why : "refused");
	free(why);
	free(other);
	return s;
}

/* Reads the smtp.* settings and opens the transport. */
enum send_status send_transport_from_config(struct store *st, transport_done_fn *done, void *arg,
					    struct transport **t, char **errstr)
{
	struct transport_config cfg = {0};
	char *url = send_setting(st, "smtp.url"), *user = send_setting(st, "smtp.user");
	char *pw = send_setting(st, "smtp.password"), *ca = send_setting(st, "smtp.ca_file");
	char *tls = send_setting(st, "smtp.tls");
	enum send_status s;

	if (url == NULL) {
		s = send_err(errstr, SEND_ECONFIG,
			     "no transport: set smtp.url (smtp://host:587, smtps://host:465 or "
			     "file:DIR)");
		goto done;
	}
	cfg.url = url;
	cfg.user = user;
	cfg.password = pw;
	cfg.ca_file = ca;
	cfg.tls = tls;
	cfg.connections = (unsigned)send_setting_number(st, "smtp.connections");
	s = transport_open(&cfg, done, arg, t, errstr);
	/* transport_open's bad data is the smtp.* settings: a configuration error. */
	if (s == SEND_EINVAL)
		s = SEND_ECONFIG;
done:
	if (pw != NULL) {
		sodium_memzero(pw, strlen(pw));
		free(pw);
	}
	free(url);
	free(user);
	free(ca);
	free(tls);
	return s;
}
