/*
 * store/audit.c: the tamper-evident audit trail.
 *
 * Each record's hash is BLAKE2b-256 (crypto_generichash) over the previous
 * record's hash and the record itself, every field length-prefixed, so that
 * editing, removing or reordering any record breaks the chain from there on.
 * A pruning (audit_prune.c) leaves its last record as the first, an anchor
 * whose hash alone is kept: the chain goes on from it.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/private.h"

#define HASH_LEN 32

static void feed(crypto_generichash_state *h, const char *field)
{
	unsigned char len[8];
	size_t n = field ? strlen(field) : 0;
	int i;

	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)(n >> (8 * i));
	crypto_generichash_update(h, len, sizeof(len));
	if (n > 0)
		crypto_generichash_update(h, (const unsigned char *)field, n);
}

static void record_hash(const unsigned char prev[HASH_LEN], const struct store_audit_record *r,
			unsigned char out[HASH_LEN])
{
	crypto_generichash_state h;
	char id[24];

	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	crypto_generichash_init(&h, NULL, 0, HASH_LEN);
	crypto_generichash_update(&h, prev, HASH_LEN);
	feed(&h, id);
	feed(&h, r->time);
	feed(&h, r->user);
	feed(&h, r->os_user);
	feed(&h, r->action);
	feed(&h, r->object);
	feed(&h, r->outcome);
	feed(&h, r->details);
	crypto_generichash_final(&h, out, HASH_LEN);
}

static enum store_status append(struct store *st, const struct store_audit_record *in)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	unsigned char prev[HASH_LEN] = {0}, hash[HASH_LEN];
	struct store_audit_record r = *in;

	s = store_prepare(st, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", &q, NULL);
	if (s != STORE_OK)
		return s;
	r.id = 1;
	if (sqlite3_step(q) == SQLITE_ROW) {
		r.id = sqlite3_column_int64(q, 0) + 1;
		if (sqlite3_column_bytes(q, 1) == HASH_LEN)
			memcpy(prev, sqlite3_column_blob(q, 1), HASH_LEN);
	}
	sqlite3_finalize(q);
	record_hash(prev, &r, hash);
	s = store_prepare(st,
			  "INSERT INTO audit (id, time, user, os_user, action, object, "
			  "outcome, details, hash) VALUES (?,?,?,?,?,?,?,?,?)",
			  &q, NULL);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, r.id);
	sqlite3_bind_text(q, 2, r.time, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, r.user, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, r.os_user, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, r.action, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, r.object ? r.object : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 7, r.outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 8, r.details ? r.details : "", -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 9, hash, HASH_LEN, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		s = store_sqlfail(st, NULL, "audit");
	sqlite3_finalize(q);
	return s;
}

/*
 * The trail's name for an action. A gate refuses a command by the name the
 * user typed ("hato user add"); the trail names the action it would have
 * been ("user.add"), so that `audit log --action user.` finds a refusal
 * beside what went through.
 */
static const char *action_name(const char *action, char *buf, size_t len)
{
	size_t i;

	if (strncmp(action, "hato ", 5) != 0)
		return action;
	snprintf(buf, len, "%s", action + 5);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == ' ')
			buf[i] = '.';
	return buf;
}

enum store_status store_audit(struct store *st, const char *action, const char *object,
			      const char *outcome, const char *details)
{
	enum store_status s;
	char now[21], name[80];
	struct store_audit_record r = {
	    .time = now,
	    .user = st->user,
	    .os_user = st->os_user,
	    .action = action_name(action, name, sizeof(name)),
	    .object = object,
	    .outcome = outcome,
	    .details = details,
	};

	store_utc_now(now);
	s = store_begin(st);
	if (s != STORE_OK)
		return s;
	s = append(st, &r);
	if (s == STORE_OK)
		return store_commit(st);
	store_rollback(st);
	return s;
}

void store_pending_mac(const struct store *st, const char *line, char hex[33])
{
	unsigned char key[crypto_generichash_KEYBYTES], mac[16];

	crypto_kdf_derive_from_key(key, sizeof(key), 2, "hatopend", st->hash_key);
	crypto_generichash(mac, sizeof(mac), (const unsigned char *)line, strlen(line), key,
			   sizeof(key));
	sodium_memzero(key, sizeof(key));
	sodium_bin2hex(hex, 33, mac, sizeof(mac));
}

/* A time as store_utc_now writes it: 2026-01-02T03:04:05Z. */
static bool utc_time(const char *t)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t i;

	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i])
			return false;
	return t[i] == '\0';
}

/*
 * What a pending line says, checked: the keyslot file is not authenticated,
 * so anyone who can write it can add lines. A failed login is what anyone
 * may cause by trying a password; its time is only a claim, kept in the
 * details, and the record's own time is now. A late successful login must
 * carry the MAC that only a login holding the store's key can make; any
 * other line is recorded as not written by hato.
 */
static void read_pending(struct store *st, char **f, struct store_audit_record *r, char *details,
			 size_t size)
{
	const char *why = NULL, *mac = strchr(f[3], ':');
	char line[300], want[33];

	r->action = "login";
	r->object = f[1];
	r->outcome = "failed";
	if (utc_time(f[0]) && strcmp(f[3], "wrong-password") == 0)
		why = "wrong password";
	else if (utc_time(f[0]) && strcmp(f[3], "locked") == 0)
		why = "the account is locked";
	else if (utc_time(f[0]) && strcmp(f[3], "slot-does-not-open") == 0)
		why = "the password opened the slot, but its key does not open the store (a slot "
		      "older than the store's key, or a damaged store)";
	if (why == NULL && utc_time(f[0]) && mac != NULL &&
	    strncmp(f[3], STORE_PENDING_LOGIN_OK ":", sizeof(STORE_PENDING_LOGIN_OK)) == 0) {
		snprintf(line, sizeof(line), "%s %s %s %s", f[0], f[1], f[2],
			 STORE_PENDING_LOGIN_OK);
		store_pending_mac(st, line, want);
		if (sodium_memcmp(want, mac + 1, sizeof(want)) == 0) {
			r->outcome = "ok";
			why = "recorded late: another hato was writing to the store";
		}
	}
	if (why != NULL)
		snprintf(details, size, "%s, at %s", why, f[0]);
	else
		snprintf(details, size,
			 "a line of the keyslot file that hato did not write: %.40s %.200s", f[0],
			 f[3]);
	r->details = details;
}

enum store_status store_audit_pending(struct store *st, char **lines, size_t n)
{
	enum store_status s = STORE_OK;
	char now[21], details[400];
	size_t i;

	store_utc_now(now);
	for (i = 0; s == STORE_OK && i < n; i++) {
		char *copy = strdup(lines[i]), *f[4], *p;
		int k;
		if (copy == NULL)
			return STORE_ENOMEM;
		/* TIME NAME OSUSER REASON */
		for (k = 0, p = copy; k < 4 && p != NULL; k++) {
			f[k] = p;
			p = strchr(p, ' ');
			if (p != NULL && k < 3)
				*p++ = '\0';
		}
		if (k == 4) {
			struct store_audit_record r = {.time = now, .user = f[1], .os_user = f[2]};
			read_pending(st, f, &r, details, sizeof(details));
			s = append(st, &r);
		}
		free(copy);
	}
	return s;
}

static void fill(sqlite3_stmt *q, struct store_audit_record *r)
{
	r->id = sqlite3_column_int64(q, 0);
	r->time = (const char *)sqlite3_column_text(q, 1);
	r->user = (const char *)sqlite3_column_text(q, 2);
	r->os_user = (const char *)sqlite3_column_text(q, 3);
	r->action = (const char *)sqlite3_column_text(q, 4);
	r->object = (const char *)sqlite3_column_text(q, 5);
	r->outcome = (const char *)sqlite3_column_text(q, 6);
	r->details = (const char *)sqlite3_column_text(q, 7);
}

/* Is this record the anchor of the chain, which its hash stands for alone? */
static bool anchor_like(const struct store_audit_record *r)
{
	return strcmp(r->action, AUDIT_ANCHOR) == 0;
}

enum store_status store_audit_log(struct store *st, const struct store_audit_filter *f,
				  store_audit_cb cb, void *arg, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct store_audit_record r;
	char since[21], name[80];
	int rc;

	s = store_require(st, STORE_PERM_AUDIT, "audit.log", errstr);
	if (s == STORE_OK)
		s = store_prepare(
		    st,
		    /* a: the action's name, for records made before action_name */
		    "SELECT id, time, user, os_user, action, object, outcome, details "
		    "FROM (SELECT *, CASE WHEN substr(action, 1, 5) = 'hato ' "
		    "      THEN replace(substr(action, 6), ' ', '.') ELSE action END AS a "
		    "      FROM audit) "
		    "WHERE (?1 IS NULL OR time >= ?1) "
		    "AND (?2 IS NULL OR user = ?2) "
		    "AND (?3 IS NULL OR a = ?3 OR "
		    "     (substr(?3, -1) = '.' AND substr(a, 1, length(?3)) = ?3)) "
		    "ORDER BY id",
		    &q, errstr);
	if (s != STORE_OK)
		return s;
	if (f != NULL) {
		if (f->since != 0) {
			store_utc_time(f->since, since);
			sqlite3_bind_text(q, 1, since, -1, SQLITE_STATIC);
		}
		sqlite3_bind_text(q, 2, f->user, -1, SQLITE_STATIC);
		if (f->action != NULL)
			sqlite3_bind_text(q, 3, action_name(f->action, name, sizeof(name)), -1,
					  SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		fill(q, &r);
		if (anchor_like(&r))
			r.details =
			    "the records up to this one were removed by the retention "
			    "(audit.retention); its hash is kept, for the chain goes on from it";
		if (cb(&r, arg) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "reading the audit trail");
	sqlite3_finalize(q);
	return s;
}

/* The logged-in user's own records of action with outcome since `when`. */
static enum store_status count_own(struct store *st, const char *action, const char *outcome,
				   const char *when, int64_t *count, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	*count = 0;
	s = store_prepare(st,
			  "SELECT count(*) FROM audit WHERE time >= ?1 AND user = ?2"
			  " AND action = ?3 AND outcome = ?4",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, when, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, store_user(st), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, outcome, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		*count = sqlite3_column_int64(q, 0);
	else
		s = store_sqlfail(st, errstr, "reading the audit trail");
	sqlite3_finalize(q);
	return s;
}

enum store_status store_audit_reserve_own(struct store *st, const char *action, const char *object,
					  const char *details, time_t since, int64_t max,
					  int64_t *count, bool *reserved, char **errstr)
{
	enum store_status s;
	char when[32], now[21];
	struct tm tm;
	int64_t started = 0, failed = 0, ok = 0;
	struct store_audit_record r = {.time = now,
				       .user = st->user,
				       .os_user = st->os_user,
				       .action = action,
				       .object = object,
				       .outcome = "started",
				       .details = details};

	*count = 0;
	*reserved = false;
	gmtime_r(&since, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* One write transaction from the count to the record: others wait their turn. */
	s = store_begin(st);
	if (s != STORE_OK)
		return store_fail(errstr, s, "the store is busy; try again");
	s = count_own(st, action, "started", when, &started, errstr);
	if (s == STORE_OK)
		s = count_own(st, action, "failed", when, &failed, errstr);
	if (s == STORE_OK)
		s = count_own(st, action, "ok", when, &ok, errstr);
	if (s != STORE_OK)
		goto done;
	/* "ok" records without a "started" one come from before reservations. */
	*count = started - failed > ok ? started - failed : ok;
	if (*count >= max)
		goto done;
	store_utc_now(now);
	s = append(st, &r);
	*reserved = s == STORE_OK;
done:
	if (s == STORE_OK)
		s = store_commit_err(st, errstr);
	else
		store_rollback(st);
	if (s != STORE_OK)
		*reserved = false;
	return s;
}

enum store_status audit_walk(struct store *st, int64_t upto, struct audit_walk *w, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct store_audit_record r;
	unsigned char prev[HASH_LEN] = {0}, hash[HASH_LEN];
	char named[40] = "";
	int64_t expect = 1;
	bool first = true;
	int rc;

	memset(w, 0, sizeof(*w));
	s = store_prepare(st,
			  "SELECT id, time, user, os_user, action, object, outcome, details, "
			  "hash FROM audit WHERE ?1 = 0 OR id <= ?1 ORDER BY id",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, upto);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		fill(q, &r);
		/* The anchor a pruning kept starts the chain with its own hash. */
		if (first && anchor_like(&r) && sqlite3_column_bytes(q, 8) == HASH_LEN) {
			memcpy(prev, sqlite3_column_blob(q, 8), HASH_LEN);
			w->anchor = r.id;
			snprintf(named, sizeof(named), "record %lld", (long long)r.id);
			expect = r.id + 1;
			first = false;
			continue;
		}
		first = false;
		/* Blanked as an anchor anywhere else: a record hidden. */
		if (anchor_like(&r)) {
			w->bad = r.id;
			s = store_fail(errstr, STORE_ECORRUPT,
				       "the audit trail is broken at record %lld: it is blanked as "
				       "what a pruning keeps, which only the first record may be",
				       (long long)r.id);
			break;
		}
		record_hash(prev, &r, hash);
		/* A gap in the ids means a record was removed. */
		if (r.id != expect || sqlite3_column_bytes(q, 8) != HASH_LEN ||
		    sodium_memcmp(hash, sqlite3_column_blob(q, 8), HASH_LEN) != 0) {
			w->bad = r.id != expect ? expect : r.id;
			s = store_fail(errstr, STORE_ECORRUPT,
				       "the audit trail is broken at record %lld: it was changed, "
				       "removed or inserted after it was written",
				       (long long)w->bad);
			break;
		}
		if (w->anchor != 0 && strcmp(r.action, "audit.prune") == 0 &&
		    strcmp(r.outcome, "ok") == 0 && strcmp(r.object, named) == 0)
			w->named = true;
		memcpy(prev, hash, HASH_LEN);
		expect++;
		w->count++;
	}
	if (s == STORE_OK && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "reading the audit trail");
	sqlite3_finalize(q);
	return s;
}

enum store_status store_audit_verify(struct store *st, int64_t *bad_id, int64_t *count,
				     char **errstr)
{
	enum store_status s;
	struct audit_walk w = {0};

	s = store_require(st, STORE_PERM_AUDIT, "audit.verify", errstr);
	if (s == STORE_OK)
		s = audit_walk(st, 0, &w, errstr);
	/* An anchor that no pruning of the chain names: records cut off its start. */
	if (s == STORE_OK && w.anchor != 0 && !w.named) {
		w.bad = w.anchor;
		s = store_fail(errstr, STORE_ECORRUPT,
			       "the audit trail is broken at record %lld: it starts there, blanked "
			       "as what a pruning keeps, but no audit.prune record names it",
			       (long long)w.anchor);
	}
	*bad_id = w.bad;
	*count = w.count;
	return s;
}

void store_address_hash(const struct store *st, const char *address, char out[65])
{
	unsigned char h[16];
	crypto_generichash_state g;
	char c;
	const char *p;

	crypto_generichash_init(&g, st->hash_key, STORE_KEY_LEN, sizeof(h));
	for (p = address; *p; p++) {
		c = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
		crypto_generichash_update(&g, (const unsigned char *)&c, 1);
	}
	crypto_generichash_final(&g, h, sizeof(h));
	sodium_bin2hex(out, 65, h, sizeof(h));
}
