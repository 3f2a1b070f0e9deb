/*
 * store/rekey.c: data key rotation.
 *
 * The new keyslot file is written beside the old one as "<keys>.rotate"
 * before the database is rekeyed, and renamed over it afterwards. If hato
 * dies in between, store_open finds the database opens only with the key in
 * the ".rotate" file and finishes the rename (see store_recover_rotation).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/private.h"

static char *rotate_path(const struct store *st)
{
	size_t n = strlen(st->keys_path) + 8;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s.rotate", st->keys_path);
	return p;
}

static enum store_status rekey_db(struct store *st, const unsigned char *dk, char **errstr)
{
	char hex[2 * STORE_KEY_LEN + 1], raw[2 * STORE_KEY_LEN + 4];
	sqlite3_stmt *q = NULL;
	enum store_status s;
	int rc, ok = 0;

	/* SQLCipher cannot rekey in WAL mode; leaving WAL needs sole use of the store. */
	sqlite3_exec(st->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	s = store_prepare(st, "PRAGMA journal_mode = DELETE", &q, errstr);
	if (s != STORE_OK)
		return s;
	if (sqlite3_step(q) == SQLITE_ROW)
		ok = strcmp((const char *)sqlite3_column_text(q, 0), "delete") == 0;
	sqlite3_finalize(q);
	if (!ok)
		return store_fail(errstr, STORE_EBUSY,
				  "another hato (the UI or a worker) is using the store; "
				  "stop it and run the rotation again");
	sodium_bin2hex(hex, sizeof(hex), dk, STORE_KEY_LEN);
	snprintf(raw, sizeof(raw), "x'%s'", hex);
	rc = sqlite3_rekey(st->db, raw, (int)strlen(raw));
	sodium_memzero(hex, sizeof(hex));
	sodium_memzero(raw, sizeof(raw));
	if (rc != SQLITE_OK)
		s = store_sqlfail(st, errstr, "rekeying the store");
	sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
	return s;
}

/*
 * Keeps in kf only the slots the new key may be sealed to: the first slot of
 * each active user whose public key is the one the database recorded (or,
 * for a user who has not logged in since schema 11, the first slot under
 * that name). A slot of a disabled or unknown user, or one someone added
 * under an active user's name, is dropped: *dropped counts them.
 */
static enum store_status keep_active(struct store *st, struct keyfile *kf, size_t *dropped,
				     char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct keyfile kept = {0};
	struct keyslot *ks;
	size_t i;
	int rc;

	*dropped = 0;
	s = store_prepare(st, "SELECT slot_pk FROM users WHERE name = ? AND status = 'active'", &q,
			  errstr);
	for (i = 0; s == STORE_OK && i < kf->n; i++) {
		ks = &kf->slots[i];
		sqlite3_bind_text(q, 1, ks->name, -1, SQLITE_STATIC);
		rc = sqlite3_step(q);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			s = store_sqlfail(st, errstr, "reading the users");
		else if (rc == SQLITE_ROW && keyfile_find(&kept, ks->name) == NULL &&
			 (sqlite3_column_type(q, 0) == SQLITE_NULL ||
			  (sqlite3_column_bytes(q, 0) == 32 &&
			   memcmp(sqlite3_column_blob(q, 0), ks->box_pk, 32) == 0)))
			s = keyfile_add(&kept, ks);
		else
			(*dropped)++;
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	if (s != STORE_OK) {
		keyfile_free(&kept);
		return s;
	}
	kept.pending = kf->pending;
	kept.npending = kf->npending;
	kf->pending = NULL;
	kf->npending = 0;
	keyfile_free(kf);
	*kf = kept;
	return STORE_OK;
}

enum store_status store_key_rotate(struct store *st, size_t *dropped_out, char **errstr)
{
	enum store_status s;
	struct keyfile kf;
	unsigned char *dk = sodium_malloc(STORE_KEY_LEN);
	char *tmp = rotate_path(st), details[128];
	size_t i, n = 0, dropped = 0;
	int fd = -1;

	if (dk == NULL || tmp == NULL) {
		s = STORE_ENOMEM;
		goto done;
	}
	s = store_require(st, STORE_PERM_KEYS, "key.rotate", errstr);
	if (s != STORE_OK)
		goto done;
	fd = keyfile_lock(st->lock_path);
	if (fd < 0) {
		s = store_fail(errstr, STORE_EIO, "cannot lock %s", st->lock_path);
		goto done;
	}
	s = keyfile_load(st->keys_path, &kf, errstr);
	if (s != STORE_OK)
		goto done;
	s = keep_active(st, &kf, &dropped, errstr);
	randombytes_buf(dk, STORE_KEY_LEN);
	for (i = 0; s == STORE_OK && i < kf.n; i++, n++)
		s = keyslot_reseal(&kf.slots[i], dk);
	if (s == STORE_OK)
		s = keyfile_save(tmp, &kf, errstr);
	if (s == STORE_OK)
		s = rekey_db(st, dk, errstr);
	if (s == STORE_OK && rename(tmp, st->keys_path) != 0)
		s = store_fail(errstr, STORE_EIO, "cannot replace %s", st->keys_path);
	if (s != STORE_OK)
		unlink(tmp);
	keyfile_free(&kf);
	if (s != STORE_OK)
		goto done;
	memcpy(st->data_key, dk, STORE_KEY_LEN);
	if (dropped > 0)
		snprintf(details, sizeof(details),
			 "%zu keyslots rewrapped; %zu dropped: of no active user, or not the "
			 "user's recorded key",
			 n, dropped);
	else
		snprintf(details, sizeof(details), "%zu keyslots rewrapped", n);
	s = store_audit(st, "key.rotate", NULL, "ok", details);
	if (dropped_out != NULL)
		*dropped_out = dropped;
done:
	keyfile_unlock(fd);
	sodium_free(dk);
	free(tmp);
	return s;
}

enum store_status store_recover_rotation(struct store *st, const char *user, const char *password,
					 struct slot_keys *k, char **errstr)
{
	enum store_status s;
	struct keyfile kf;
	struct keyslot *ks;
	char *tmp = rotate_path(st);

	if (tmp == NULL)
		return STORE_ENOMEM;
	s = keyfile_load(tmp, &kf, NULL);
	if (s != STORE_OK) {
		s = STORE_ECORRUPT;
		goto done;
	}
	ks = keyfile_find(&kf, user);
	s = ks ? keyslot_open(ks, password, st->data_key, k) : STORE_ECORRUPT;
	keyfile_free(&kf);
	if (s == STORE_OK)
		s = store_db_open(st->path, st->data_key, &st->db, errstr);
	if (s == STORE_OK && rename(tmp, st->keys_path) != 0)
		s = store_fail(errstr, STORE_EIO, "cannot replace %s", st->keys_path);
done:
	free(tmp);
	return s;
}
