/*
 * store/login.c: opening the store as a user.
 *
 * Failed logins are counted in the keyslot file, because they happen before
 * the database can be decrypted. After n failures in a row the next attempt
 * must wait keyslot_delay(n) seconds; after KEYSLOT_MAX_FAILS the account is
 * locked until an admin unlocks it. Each failure also leaves a "pending" line
 * that the next successful login moves into the audit trail.
 *
 * An attempt holds the keyslot file's lock from the check of the delay and
 * the lock until its failure is counted or the count cleared, the password
 * check in between. So attempts on one store take turns: each sees the
 * outcome of the one before, parallel attempts get the delay as sequential
 * ones do, at most KEYSLOT_MAX_FAILS passwords are ever checked before the
 * account locks, and two right passwords at once both log in (the second
 * waits for the first's check). A process killed mid-check releases the
 * lock (flock) having learnt nothing.
 */
#include <errno.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/private.h"

/* A late login's line (STORE_PENDING_LOGIN_OK) carries its MAC: "REASON:MAC". */
static void add_pending(struct store *st, struct keyfile *kf, const char *user, const char *reason)
{
	char line[300], now[21], mac[33];
	size_t n;

	store_utc_now(now);
	n = (size_t)snprintf(line, sizeof(line) - sizeof(mac), "%s %s %s %s", now,
			     store_name_check("user", user, NULL) == STORE_OK ? user
									      : "(invalid-name)",
			     st->os_user, reason);
	if (strcmp(reason, STORE_PENDING_LOGIN_OK) == 0 && n < sizeof(line) - sizeof(mac)) {
		store_pending_mac(st, line, mac);
		snprintf(line + n, sizeof(line) - n, ":%s", mac);
	}
	keyfile_add_pending(kf, line);
}

/* Why a user with `fails` failures in a row, the last `wait` s from over, may not try now. */
static enum store_status wait_or_lock(const char *user, int fails, bool locked, long long wait,
				      char **errstr)
{
	if (locked)
		return store_fail(errstr, STORE_ELOCKED,
				  "the account %s is locked after %d failed logins; "
				  "an admin can unlock it with: hato user unlock %s",
				  user, fails, user);
	if (wait > 0)
		return store_fail(errstr, STORE_EDELAY,
				  "login for %s is delayed after %d failed attempt%s; "
				  "try again in %lld s",
				  user, fails, fails == 1 ? "" : "s", wait);
	return STORE_OK;
}

/*
 * A name with no slot is answered as a user's would be, so that the answers
 * do not tell who exists: its failures, the pending lines under its name,
 * delay and lock it as a user's failures do (until a login moves them into
 * the audit trail). STORE_EAUTH, or the delay or the lock.
 */
static enum store_status unknown_user(const struct keyfile *kf, const char *user, char **errstr)
{
	long long last = 0, now = (long long)time(NULL), t;
	struct tm tm;
	int fails = 0;
	size_t i, n = strlen(user);
	enum store_status s;

	for (i = 0; i < kf->npending; i++) {
		const char *l = kf->pending[i], *who = strchr(l, ' ');
		if (who == NULL || strncmp(who + 1, user, n) != 0 || who[1 + n] != ' ' ||
		    strstr(who, " wrong-password") == NULL)
			continue;
		memset(&tm, 0, sizeof(tm));
		if (strptime(l, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
			continue;
		fails++;
		t = (long long)timegm(&tm);
		if (t > last)
			last = t;
	}
	if (last > now)
		last = now; /* the clock stepped back: as for a user (begin_attempt) */
	s = wait_or_lock(user, fails, fails >= KEYSLOT_MAX_FAILS,
			 fails > 0 ? last + keyslot_delay(fails) - now : 0, errstr);
	return s != STORE_OK ? s : STORE_EAUTH;
}

/*
 * The password opened the user's slot, but its data key does not open the
 * store: the slot is older than the store's key (a rotation since, or an old
 * line put back into the keyslot file), or the store is damaged. Which, only
 * another user's login can tell: said so, and left for the audit trail.
 */
static enum store_status slot_does_not_open(struct store *st, const char *user, char **errstr)
{
	struct keyfile kf;
	int fd = keyfile_lock(st->lock_path);

	if (fd >= 0 && keyfile_load(st->keys_path, &kf, NULL) == STORE_OK) {
		add_pending(st, &kf, user, "slot-does-not-open");
		keyfile_save(st->keys_path, &kf, NULL);
		keyfile_free(&kf);
	}
	keyfile_unlock(fd);
	if (errstr != NULL) { /* store_db_open's reason, which this one replaces */
		free(*errstr);
		*errstr = NULL;
	}
	return store_fail(errstr, STORE_ECORRUPT,
			  "the key in %s's slot does not open %s: the slot is older than the "
			  "store's key (a key rotation since, or an old line of the keyslot file "
			  "put back), or the store is damaged. If another user can log in, an "
			  "admin can give %s a new slot with: hato user passwd %s; if nobody can, "
			  "restore the store and its keyslot file from a backup",
			  user, st->path, user, user);
}

/*
 * Can a failure be counted? The keyslot file is written anew beside itself
 * (keyfile_save): where its folder can't be written, a wrong password would
 * go uncounted, with no delay and no lock, so no password is checked there.
 */
static enum store_status failures_countable(struct store *st, char **errstr)
{
	char *copy = strdup(st->keys_path);
	enum store_status s = STORE_OK;

	if (copy == NULL)
		return STORE_ENOMEM;
	if (access(dirname(copy), W_OK | X_OK) != 0)
		s = store_fail(errstr, STORE_EIO,
			       "cannot count failed logins in %s (%s): hato checks a password "
			       "only where a wrong one is counted",
			       st->keys_path, store_strerror(errno));
	free(copy);
	return s;
}

/*
 * Takes the lock and says why the user may not try now, or copies the
 * user's slot. *fd is the lock, held until end_attempt (-1 when it could
 * not be taken). An unknown user gets STORE_EAUTH.
 */
static enum store_status begin_attempt(struct store *st, const char *user, struct keyslot *out,
				       int *fd, char **errstr)
{
	enum store_status s;
	struct keyfile kf;
	struct keyslot *ks;

	*fd = keyfile_lock(st->lock_path);
	if (*fd < 0)
		return store_fail(errstr, STORE_EIO, "cannot lock %s: %s", st->lock_path,
				  store_strerror(errno));
	s = failures_countable(st, errstr);
	if (s == STORE_OK)
		s = keyfile_load(st->keys_path, &kf, errstr);
	if (s != STORE_OK)
		return s;
	ks = store_name_check("user", user, NULL) == STORE_OK ? keyfile_find(&kf, user) : NULL;
	/*
	 * A failure "in the future" means the clock stepped back since: its
	 * delay counts from now instead, so that it stays at most 5 minutes.
	 */
	if (ks != NULL && ks->last_fail > (long long)time(NULL)) {
		ks->last_fail = (long long)time(NULL);
		keyfile_save(st->keys_path, &kf, NULL);
	}
	if (ks == NULL) {
		s = unknown_user(&kf, user, errstr);
	} else {
		s = wait_or_lock(user, ks->fails, ks->locked,
				 ks->last_fail + keyslot_delay(ks->fails) - (long long)time(NULL),
				 errstr);
		if (s == STORE_OK)
			*out = *ks;
	}
	keyfile_free(&kf);
	return s;
}

/*
 * After an attempt with outcome s, still under the lock fd, which it
 * releases: a wrong password (STORE_EAUTH) counts a failure, starts the delay
 * and locks the account at KEYSLOT_MAX_FAILS; a right one (STORE_OK, or
 * STORE_ECORRUPT: the slot opened but its data key is damaged) clears the
 * count. A wrong password, an unknown user or a locked account leaves a line
 * for the audit trail.
 */
static void end_attempt(struct store *st, int fd, const char *user, enum store_status s)
{
	struct keyfile kf;
	struct keyslot *ks;

	if (fd < 0)
		return;
	if (keyfile_load(st->keys_path, &kf, NULL) == STORE_OK) {
		bool changed = s == STORE_EAUTH || s == STORE_ELOCKED;
		ks = keyfile_find(&kf, user);
		if (ks != NULL && s == STORE_EAUTH) {
			ks->fails++;
			ks->last_fail = (long long)time(NULL);
			if (ks->fails >= KEYSLOT_MAX_FAILS)
				ks->locked = 1;
		} else if (ks != NULL && !ks->locked && ks->fails > 0 &&
			   (s == STORE_OK || s == STORE_ECORRUPT)) {
			ks->fails = 0;
			changed = true;
		}
		if (s == STORE_EAUTH || s == STORE_ELOCKED)
			add_pending(st, &kf, user, s == STORE_EAUTH ? "wrong-password" : "locked");
		if (changed)
			keyfile_save(st->keys_path, &kf, NULL);
		keyfile_free(&kf);
	}
	keyfile_unlock(fd);
}

/*
 * After a successful login: moves pending lines into the audit trail,
 * records the login, deletes the consent records past their hold
 * (consent_purge) and the audit records older than audit.retention
 * (audit_prune). When another hato holds the write lock for longer than
 * LOGIN_WAIT_MS (an import of a million rows holds it for a minute), the
 * login is left as a pending line for a later login to move, so that
 * reading is not held up by a writer.
 */
#define LOGIN_WAIT_MS 1000

static enum store_status finish_login(struct store *st, char **errstr)
{
	enum store_status s;
	struct keyfile kf;
	char *why = NULL;
	int64_t purged = 0, pruned = 0;
	int fd = keyfile_lock(st->lock_path);

	if (fd < 0)
		return store_fail(errstr, STORE_EIO, "cannot lock %s", st->lock_path);
	s = keyfile_load(st->keys_path, &kf, errstr);
	if (s != STORE_OK)
		goto unlock;
	sqlite3_busy_timeout(st->db, LOGIN_WAIT_MS);
	s = store_begin(st);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	if (s == STORE_EBUSY) {
		add_pending(st, &kf, st->user, STORE_PENDING_LOGIN_OK);
		s = keyfile_save(st->keys_path, &kf, errstr);
		goto done;
	}
	if (s == STORE_OK)
		s = store_audit_pending(st, kf.pending, kf.npending);
	if (s == STORE_OK)
		s = store_audit(st, "login", st->user, "ok", NULL);
	if (s == STORE_OK)
		s = consent_purge(st, &purged, &why);
	if (s == STORE_OK)
		s = audit_prune(st, &pruned, &why);
	if (s == STORE_OK)
		s = store_session_upgrade(st, &why);
	if (s == STORE_OK) {
		s = store_commit_err(st, &why);
	} else {
		/* store_audit says only its status: SQLite's reason, before the rollback. */
		if (why == NULL)
			why = strdup(s == STORE_ECORRUPT
					 ? "the store is damaged: a page of it " STORE_PAGE_DAMAGED
					 : store_sql_why(st->db));
		store_rollback(st);
	}
	if (s != STORE_OK) {
		s = store_fail(errstr, s, "cannot write the audit trail of %s%s%s", st->path,
			       why != NULL ? ": " : "", why != NULL ? why : "");
		goto done;
	}
	/* Push the deleted pages out of the write-ahead log, as an erasure does. */
	if (purged > 0 || pruned > 0)
		sqlite3_exec(st->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	if (kf.npending > 0) {
		for (size_t i = 0; i < kf.npending; i++)
			free(kf.pending[i]);
		kf.npending = 0;
		s = keyfile_save(st->keys_path, &kf, errstr);
	}
done:
	free(why);
	keyfile_free(&kf);
unlock:
	keyfile_unlock(fd);
	return s;
}

enum store_status store_open(const char *path, const char *user, const char *password,
			     struct store **out, char **errstr)
{
	enum store_status s;
	struct store *st;
	struct keyslot ks;
	int fd = -1;
	struct slot_keys *k = sodium_malloc(sizeof(*k));

	*out = NULL;
	st = store_new_session(path);
	if (st == NULL || k == NULL) {
		s = STORE_ENOMEM;
		goto done;
	}
	s = store_check_files(path, errstr);
	if (s != STORE_OK)
		goto done;
	s = begin_attempt(st, user, &ks, &fd, errstr);
	if (s == STORE_OK)
		s = keyslot_open(&ks, password, st->data_key, k);
	sodium_memzero(&ks, sizeof(ks));
	end_attempt(st, fd, user, s);
	if (s == STORE_EAUTH) {
		s = store_fail(errstr, s, "login failed: unknown user or wrong password");
		goto done;
	}
	if (s != STORE_OK)
		goto done;
	s = store_db_open(st->path, st->data_key, &st->db, errstr);
	if (s == STORE_ECORRUPT && store_recover_rotation(st, user, password, k, NULL) == STORE_OK)
		s = STORE_OK;
	if (s == STORE_ECORRUPT)
		s = slot_does_not_open(st, user, errstr);
	if (s == STORE_OK)
		s = store_migrate(st, errstr);
	if (s == STORE_OK)
		s = store_session_load(st, user, k, errstr);
	if (s == STORE_OK)
		s = finish_login(st, errstr);
	if (s == STORE_OK) {
		*out = st;
		st = NULL;
	}
done:
	sodium_free(k);
	store_close(&st);
	return s;
}
