/*
 * store/login.c: opening the store as a user.
 *
 * Failed logins are counted in the keyslot file, because they happen before
 * the database can be decrypted. After n failures in a row the next attempt
 * must wait keyslot_delay(n) seconds; after KEYSLOT_MAX_FAILS the account is
 * locked until an admin unlocks it. Each failure also leaves a "pending" line
 * that the next successful login moves into the audit trail.
 *
 * The check of the delay and the lock and the counting of the attempt happen
 * together under the keyslot file's lock, before the password is checked;
 * a right password then clears the count. So parallel attempts see the ones
 * still running and get the delay, and at most KEYSLOT_MAX_FAILS passwords
 * are ever checked before the account locks.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/private.h"

static void add_pending(struct store *st, struct keyfile *kf, const char *user, const char *reason)
{
	char line[256], now[21];

	store_utc_now(now);
	snprintf(line, sizeof(line), "%s %s %s %s", now,
		 store_name_check("user", user, NULL) == STORE_OK ? user : "(invalid-name)",
		 st->os_user, reason);
	keyfile_add_pending(kf, line);
}

/*
 * Under the lock: says why the user may not try now, or counts the attempt
 * as a failure before the password is checked and copies the user's slot.
 * An unknown user gets STORE_EAUTH at once, with nothing counted.
 */
static enum store_status begin_attempt(struct store *st, const char *user, struct keyslot *out,
				       char **errstr)
{
	enum store_status s;
	struct keyfile kf;
	struct keyslot *ks;
	long long now = (long long)time(NULL), wait;
	int fd = keyfile_lock(st->lock_path);

	if (fd < 0)
		return store_fail(errstr, STORE_EIO, "cannot lock %s", st->lock_path);
	s = keyfile_load(st->keys_path, &kf, errstr);
	if (s != STORE_OK)
		goto done;
	ks = store_name_check("user", user, NULL) == STORE_OK ? keyfile_find(&kf, user) : NULL;
	if (ks == NULL) {
		s = STORE_EAUTH;
		goto unload;
	}
	wait = ks->last_fail + keyslot_delay(ks->fails) - now;
	/* The last allowed attempt died before it could lock the account: lock it now. */
	if (!ks->locked && ks->fails >= KEYSLOT_MAX_FAILS && wait <= 0) {
		ks->locked = 1;
		keyfile_save(st->keys_path, &kf, NULL);
	}
	if (ks->locked) {
		s = store_fail(errstr, STORE_ELOCKED,
			       "the account %s is locked after %d failed logins; "
			       "an admin can unlock it with: hato user unlock %s",
			       user, ks->fails, user);
	} else if (wait > 0) {
		s = store_fail(errstr, STORE_EDELAY,
			       "login for %s is delayed after %d failed attempts; "
			       "try again in %lld s",
			       user, ks->fails, wait);
	} else {
		ks->fails++;
		ks->last_fail = now;
		s = keyfile_save(st->keys_path, &kf, errstr);
		if (s == STORE_OK)
			*out = *ks;
	}
unload:
	keyfile_free(&kf);
done:
	keyfile_unlock(fd);
	return s;
}

/*
 * Under the lock, after an attempt with outcome s. When begin_attempt counted
 * it: a wrong password (STORE_EAUTH) keeps the count, starts the delay again
 * and locks the account at KEYSLOT_MAX_FAILS; a right one (STORE_OK, or
 * STORE_ECORRUPT: the slot opened but its data key is damaged) clears the
 * count; any other outcome checked no password and takes the count back.
 * A wrong password or a locked account leaves a line for the audit trail.
 */
static void end_attempt(struct store *st, const char *user, enum store_status s, bool counted)
{
	struct keyfile kf;
	struct keyslot *ks;
	int fd = keyfile_lock(st->lock_path);

	if (fd < 0)
		return;
	if (keyfile_load(st->keys_path, &kf, NULL) == STORE_OK) {
		ks = counted ? keyfile_find(&kf, user) : NULL;
		if (ks != NULL && s == STORE_EAUTH) {
			ks->last_fail = (long long)time(NULL);
			if (ks->fails >= KEYSLOT_MAX_FAILS)
				ks->locked = 1;
		} else if (ks != NULL && (s == STORE_OK || s == STORE_ECORRUPT)) {
			if (!ks->locked)
				ks->fails = 0;
		} else if (ks != NULL && ks->fails > 0) {
			ks->fails--;
		}
		if (s == STORE_EAUTH || s == STORE_ELOCKED)
			add_pending(st, &kf, user, s == STORE_EAUTH ? "wrong-password" : "locked");
		keyfile_save(st->keys_path, &kf, NULL);
		keyfile_free(&kf);
	}
	keyfile_unlock(fd);
}

/* After a successful login: moves pending failures into the audit trail. */
static enum store_status finish_login(struct store *st, char **errstr)
{
	enum store_status s;
	struct keyfile kf;
	int fd = keyfile_lock(st->lock_path);

	if (fd < 0)
		return store_fail(errstr, STORE_EIO, "cannot lock %s", st->lock_path);
	s = keyfile_load(st->keys_path, &kf, errstr);
	if (s != STORE_OK)
		goto unlock;
	s = store_begin(st);
	if (s == STORE_OK)
		s = store_audit_pending(st, kf.pending, kf.npending);
	if (s == STORE_OK)
		s = store_audit(st, "login", st->user, "ok", NULL);
	if (s == STORE_OK)
		s = store_commit(st);
	else
		store_rollback(st);
	if (s != STORE_OK) {
		s = store_fail(errstr, s, "cannot write the audit trail of %s", st->path);
		goto done;
	}
	if (kf.npending > 0) {
		for (size_t i = 0; i < kf.npending; i++)
			free(kf.pending[i]);
		kf.npending = 0;
		s = keyfile_save(st->keys_path, &kf, errstr);
	}
done:
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
	bool counted;
	unsigned char *kek = sodium_malloc(STORE_KEY_LEN);

	*out = NULL;
	st = store_new_session(path);
	if (st == NULL || kek == NULL) {
		s = STORE_ENOMEM;
		goto done;
	}
	s = store_check_files(path, errstr);
	if (s != STORE_OK)
		goto done;
	s = begin_attempt(st, user, &ks, errstr);
	counted = s == STORE_OK;
	if (counted)
		s = keyslot_open(&ks, password, st->data_key, kek);
	sodium_memzero(&ks, sizeof(ks));
	if (counted || s == STORE_EAUTH || s == STORE_ELOCKED)
		end_attempt(st, user, s, counted);
	if (s == STORE_EAUTH) {
		s = store_fail(errstr, s, "login failed: unknown user or wrong password");
		goto done;
	}
	if (s != STORE_OK)
		goto done;
	s = store_db_open(st->path, st->data_key, &st->db, errstr);
	if (s == STORE_ECORRUPT &&
	    store_recover_rotation(st, user, password, kek, NULL) == STORE_OK)
		s = STORE_OK;
	if (s == STORE_OK)
		s = store_migrate(st, errstr);
	if (s == STORE_OK)
		s = store_session_load(st, user, kek, errstr);
	if (s == STORE_OK)
		s = finish_login(st, errstr);
	if (s == STORE_OK) {
		*out = st;
		st = NULL;
	}
done:
	sodium_free(kek);
	store_close(&st);
	return s;
}
