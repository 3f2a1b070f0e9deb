/*
 * store/config.c: settings. A key whose name ends in "password" is a secret:
 * it lives only inside the encrypted store, its value never reaches the audit
 * trail and it is always listed masked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/private.h"

#define MASK "********"

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
    "send.retry_base",
    "send.breaker",
    "warmup.volume",
    NULL,
};

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

static int is_uint(const char *v, long max)
{
	char *end = NULL;
	long n = strtol(v, &end, 10);

	return *v != '\0' && *end == '\0' && n >= 0 && n <= max;
}

static enum store_status validate(const char *key, const char *value, char **errstr)
{
	size_t i;

	for (i = 0; value[i] != '\0'; i++)
		if ((unsigned char)value[i] < 0x20 && value[i] != '\t')
			return store_fail(errstr, STORE_EINVAL,
					  "the value of %s holds a control character", key);
	if (strcmp(key, "approvals.required") == 0 && !is_uint(value, 16))
		return store_fail(errstr, STORE_EINVAL, "%s takes a whole number", key);
	return STORE_OK;
}

/* The reading module's check (store_config_set_checker); set once, at start. */
static store_config_check_fn checker;

void store_config_set_checker(store_config_check_fn fn)
{
	checker = fn;
}

enum store_status store_config_check(const char *key, const char *value, char **errstr)
{
	enum store_status s = STORE_OK;
	char *why = NULL;

	if (checker != NULL && !checker(key, value, &why))
		s = store_fail(errstr, STORE_EINVAL, "%s", why != NULL ? why : "bad value");
	free(why);
	return s;
}

enum store_status store_config_set(struct store *st, const char *key, const char *value,
				   char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char *details = NULL;
	size_t n;

	s = store_require(st, STORE_PERM_SETTINGS, "config.set", errstr);
	if (s != STORE_OK)
		return s;
	if (!store_config_known(key))
		return store_fail(errstr, STORE_EINVAL,
				  "unknown setting %s; see hato config list for the keys", key);
	s = validate(key, value, errstr);
	if (s == STORE_OK)
		s = store_config_check(key, value, errstr);
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
		n = strlen(value) + 16;
		details = malloc(n);
		if (details == NULL)
			s = STORE_ENOMEM;
		else if (store_config_is_secret(key))
			snprintf(details, n, "secret changed");
		else
			snprintf(details, n, "= %s", value);
	}
	if (s == STORE_OK)
		s = store_audit(st, "config.set", key, "ok", details);
	free(details);
	if (s == STORE_OK)
		return store_commit(st);
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
