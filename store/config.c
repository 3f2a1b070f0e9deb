/*
 * store/config.c: settings. A key whose name ends in "password" is a secret:
 * it lives only inside the encrypted store, its value never reaches the audit
 * trail and it is always listed masked. Other values are audited with each
 * email address in them as its keyed hash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/private.h"

#define MASK "********"

/* clang-format off */
static const char *const known[] = {
    "smtp.url",
    "smtp.user",
    "smtp.password",
    "smtp.ca_file",
    "smtp.tls",
    "smtp.connections",
    "send.rate",
    "sender.from",
    "sender.name",
    "sender.postal_address",
    "sender.contact",
    "unsubscribe.url",
    "unsubscribe.mailto",
    "bounce.domain",
    "approvals.required",
    "warmup.start",
    "warmup.schedule",
    "feedback.id",
    "send.iso2022jp",
    "send.dkim",
    "send.retry_base",
    "send.retry_for",
    "send.breaker",
    "warmup.volume",
    "audit.retention",
    NULL,
};
/* clang-format on */

bool store_config_is_secret(const char *key)
{
	size_t n = strlen(key);

	return n >= 8 && strcmp(key + n - 8, "password") == 0;
}

bool store_config_known(const char *key)
{
	size_t i;

	for (i = 0; known[i] != NULL; i++)
		if (strcmp(known[i], key) == 0)
			return true;
	/* Per-domain pacing rules: pace.DOMAIN = "PER_MINUTE/PER_CONNECTION". */
	return strncmp(key, "pace.", 5) == 0 && key[5] != '\0';
}

/* "unknown setting KEY; the settings are ...": every key, so none is left to guess. */
static enum store_status unknown_key(const char *key, char **errstr)
{
	char keys[1024];
	size_t i, n = 0;

	keys[0] = '\0';
	for (i = 0; known[i] != NULL && n < sizeof(keys); i++)
		n += (size_t)snprintf(keys + n, sizeof(keys) - n, "%s, ", known[i]);
	if (n >= 2 && n < sizeof(keys))
		keys[n - 2] = '\0';
	return store_fail(errstr, STORE_EINVAL,
			  "unknown setting %s; the settings are %s and pace.DOMAIN (SETTINGS in "
			  "hato(1) says what each takes)",
			  key, keys);
}

static int is_uint(const char *v, long max)
{
	char *end = NULL;
	long n = strtol(v, &end, 10);

	return *v != '\0' && *end == '\0' && n >= 0 && n <= max;
}

/* True when the authority of a URL (between "://" and the path) holds a user or password. */
static bool url_has_userinfo(const char *url)
{
	const char *auth = strstr(url, "://");

	if (auth == NULL)
		return false;
	auth += 3;
	return memchr(auth, '@', strcspn(auth, "/?#")) != NULL;
}

/* Refuses what could steer a terminal when the value is shown: see store_char_is_unsafe. */
static enum store_status check_text(const char *key, const char *value, char **errstr)
{
	size_t i, k, n = strlen(value);
	uint32_t cp;

	for (i = 0; i < n; i += k) {
		k = store_utf8_char(value + i, n - i, &cp);
		if (k == 0)
			return store_fail(errstr, STORE_EINVAL,
					  "the value of %s is not valid UTF-8 (byte %zu)", key,
					  i + 1);
		if (!store_char_is_unsafe(cp))
			continue;
		/* The unsafe characters from U+202A on are the bidirectional ones. */
		return store_fail(errstr, STORE_EINVAL,
				  cp >= 0x202a
				      ? "the value of %s holds a bidirectional override or "
					"isolate character (U+%04X), which can reorder "
					"what is shown"
				      : "the value of %s holds a control character (U+%04X)",
				  key, (unsigned)cp);
	}
	return STORE_OK;
}

enum store_status store_config_check(const char *key, const char *value, char **errstr)
{
	enum store_status s = check_text(key, value, errstr);

	if (s != STORE_OK)
		return s;
	/* The other settings' values are the reading module's check (below). */
	if (strcmp(key, "approvals.required") == 0 && !is_uint(value, 16))
		return store_fail(errstr, STORE_EINVAL, "%s takes a whole number from 0 to 16",
				  key);
	if (strcmp(key, "audit.retention") == 0)
		return audit_retention_check(value, errstr);
	/* A password there would be listed, audited and logged in clear. */
	if (strcmp(key, "smtp.url") == 0 && url_has_userinfo(value))
		return store_fail(errstr, STORE_EINVAL,
				  "smtp: the URL must not hold a user or password; use smtp.user "
				  "and smtp.password");
	return STORE_OK;
}

/* The reading module's check (store_config_set_checker); set once, at start. */
static store_config_check_fn checker;

void store_config_set_checker(store_config_check_fn fn)
{
	checker = fn;
}

enum store_status store_config_module_check(struct store *st, const char *key, const char *value,
					    char **errstr)
{
	enum store_status s = STORE_OK;
	char *why = NULL;

	if (checker != NULL && !checker(st, key, value, &why))
		s = store_fail(errstr, STORE_EINVAL, "%s", why != NULL ? why : "bad value");
	free(why);
	return s;
}

/*
 * The value as the audit trail keeps it: "= VALUE", each email address in it
 * (sender.from's, sender.contact's, a mailto: URL's, an SMTP user that is
 * one) replaced by its keyed hash, as addresses are everywhere in the audit
 * trail. Allocated; NULL when out of memory.
 */
static char *audit_value(const struct store *st, const char *v)
{
	size_t n = strlen(v), i = 0, j, local, end;
	char addr[STORE_ADDRESS_MAX + 1], h[65], *out, *o, *raw;

	/*
	 * An address of 3 bytes or more becomes 32: at most 11 times longer;
	 * the sentence for a whole value is at most 80 bytes.
	 */
	out = malloc(n * 11 + 80);
	if (out == NULL)
		return NULL;
	o = out;
	*o++ = '=';
	*o++ = ' ';
	while (i < n) {
		for (j = i; j < n && v[j] != '@'; j++)
			;
		for (local = j; local > i && !store_local_stop((unsigned char)v[local - 1]) &&
				!strchr("(),;", v[local - 1]);
		     local--)
			;
		for (end = j + 1;
		     end < n && v[end] != '@' && !store_addr_stop((unsigned char)v[end]); end++)
			;
		if (j == n || local == j || end == j + 1) { /* text, or an '@' alone */
			end = j < n ? j + 1 : n;
			memcpy(o, v + i, end - i);
			o += end - i;
			i = end;
			continue;
		}
		memcpy(o, v + i, local - i);
		o += local - i;
		if (store_address_normalise(v + local, end - local, addr, NULL) == STORE_OK) {
			store_address_hash(st, addr, h);
		} else {
			raw = strndup(v + local, end - local);
			if (raw == NULL) {
				free(out);
				return NULL;
			}
			store_address_hash(st, raw, h);
			free(raw);
		}
		memcpy(o, h, 32);
		o += 32;
		i = end;
	}
	*o = '\0';
	/*
	 * What the scan above does not take for an address (a quoted local
	 * part, an address literal) still holds an '@': then the whole value
	 * is kept as its keyed hash.
	 */
	if (strchr(out, '@') != NULL) {
		store_address_hash(st, v, h);
		snprintf(out, n * 11 + 80, "(a value that holds an email address: %.32s)", h);
	}
	return out;
}

/*
 * Settings need the settings permission; the audit trail's retention the
 * audit permission too: it decides what of the trail is deleted.
 */
static enum store_status config_require(struct store *st, const char *key, const char *action,
					char **errstr)
{
	enum store_status s = store_require(st, STORE_PERM_SETTINGS, action, errstr);

	if (s == STORE_OK && strcmp(key, "audit.retention") == 0)
		s = store_require(st, STORE_PERM_AUDIT, action, errstr);
	return s;
}

enum store_status store_config_set(struct store *st, const char *key, const char *value,
				   char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char *details = NULL;

	s = config_require(st, key, "config.set", errstr);
	if (s != STORE_OK)
		return s;
	if (!store_config_known(key))
		return unknown_key(key, errstr);
	/* An empty value is no value: the key is unset (nothing to do when it is). */
	if (value[0] == '\0') {
		s = store_config_unset(st, key, errstr);
		if (s == STORE_ENOTFOUND && errstr != NULL) {
			free(*errstr);
			*errstr = NULL;
		}
		return s == STORE_ENOTFOUND ? STORE_OK : s;
	}
	s = store_config_check(key, value, errstr);
	if (s == STORE_OK)
		s = store_config_module_check(st, key, value, errstr);
	if (s != STORE_OK)
		return s;
	s = store_begin(st);
	if (s == STORE_OK)
		s = store_prepare(st, "INSERT OR REPLACE INTO config (key, value) VALUES (?, ?)",
				  &q, errstr);
	if (s == STORE_OK) {
		sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			s = store_sqlfail(st, errstr, "saving a setting");
		sqlite3_finalize(q);
	}
	if (s == STORE_OK) {
		details =
		    store_config_is_secret(key) ? strdup("secret changed") : audit_value(st, value);
		if (details == NULL)
			s = STORE_ENOMEM;
	}
	if (s == STORE_OK)
		s = store_audit(st, "config.set", key, "ok", details);
	free(details);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

enum store_status store_config_unset(struct store *st, const char *key, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	s = config_require(st, key, "config.unset", errstr);
	if (s != STORE_OK)
		return s;
	if (!store_config_known(key))
		return unknown_key(key, errstr);
	s = store_begin(st);
	if (s == STORE_OK)
		s = store_prepare(st, "DELETE FROM config WHERE key = ?", &q, errstr);
	if (s == STORE_OK) {
		sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			s = store_sqlfail(st, errstr, "removing a setting");
		else if (sqlite3_changes(st->db) == 0)
			s = store_fail(errstr, STORE_ENOTFOUND, "%s is not set", key);
		sqlite3_finalize(q);
	}
	if (s == STORE_OK)
		s = store_audit(st, "config.unset", key, "ok", NULL);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

enum store_status store_config_get(struct store *st, const char *key, char **value, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	*value = NULL;
	s = store_prepare(st, "SELECT value FROM config WHERE key = ?", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW) {
		*value = strdup((const char *)sqlite3_column_text(q, 0));
		if (*value == NULL)
			s = STORE_ENOMEM;
	} else {
		s = store_fail(errstr, STORE_ENOTFOUND, "%s is not set", key);
	}
	sqlite3_finalize(q);
	return s;
}

enum store_status store_config_list(struct store *st, store_config_cb cb, void *arg, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	const char *key;
	bool secret;
	int rc;

	s = store_prepare(st, "SELECT key, value FROM config ORDER BY key", &q, errstr);
	if (s != STORE_OK)
		return s;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		key = (const char *)sqlite3_column_text(q, 0);
		secret = store_config_is_secret(key);
		if (cb(key, secret ? MASK : (const char *)sqlite3_column_text(q, 1), secret, arg))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "listing settings");
	sqlite3_finalize(q);
	return s;
}
