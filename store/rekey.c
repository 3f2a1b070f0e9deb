/*
 * store/rekey.c: data key rotation.
 *
 * The store is never changed in place. The whole database is written,
 * under the new key, to a new file beside it ("<db>.rotate-db",
 * sqlcipher_export: SQLCipher's way to change a database's key), and
 * synced; the new keyslot file is written beside the old one as
 * "<keys>.rotate"; then the new database is renamed over the old one, and
 * the new keyslot file over the old one. A failure before the first rename
 * (a full disk, a damaged page) leaves the store as it was. If hato dies
 * between the two renames, store_open finds the database opens only with
 * the key in the ".rotate" file and finishes the rename (see
 * store_recover_rotation).
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/private.h"

/* path + suffix, allocated; NULL when out of memory. */
static char *beside(const char *path, const char *suffix)
{
	size_t n = strlen(path) + strlen(suffix) + 1;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s%s", path, suffix);
	return p;
}

static char *rotate_path(const struct store *st)
{
	return beside(st->keys_path, ".rotate");
}

/* fsync of a file, or of the folder a file is in (dir). 0 or -1. */
static int sync_path(const char *path, bool dir)
{
	char *d = dir ? strdup(path) : NULL, *slash;
	int fd, rc;

	if (dir) {
		if (d == NULL)
			return -1;
		slash = strrchr(d, '/');
		if (slash == NULL)
			strcpy(d, ".");
		else
			slash[slash == d ? 1 : 0] = '\0';
	}
	fd = open(dir ? d : path, O_RDONLY | O_CLOEXEC);
	free(d);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Out of WAL mode: that needs the sole use of the store, which rotation needs. */
static enum store_status sole_use(struct store *st, char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	int ok = 0;

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
	return STORE_OK;
}

/*
 * Writes the whole database under the key dk, at the store's page size, to
 * the new file `to`, and syncs it. The store is only read.
 */
static enum store_status export_db(struct store *st, const unsigned char *dk, const char *to,
				   char **errstr)
{
	char hex[2 * STORE_KEY_LEN + 1], raw[2 * STORE_KEY_LEN + 4], sql[160];
	sqlite3_stmt *q = NULL;
	enum store_status s;
	int64_t page = 0, version = 0;
	int fd;

	s = store_query_int(st, "PRAGMA cipher_page_size", &page, errstr, 0);
	if (s == STORE_OK)
		s = store_query_int(st, "PRAGMA user_version", &version, errstr, 0);
	if (s != STORE_OK)
		return s;
	/* Private (0600) as the store is, made anew: not one a rotation that died left. */
	unlink(to);
	fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return store_fail(errstr, STORE_EIO, "cannot create %s: %s", to,
				  store_strerror(errno));
	close(fd);
	s = store_prepare(st, "ATTACH DATABASE ?1 AS rotated KEY ?2", &q, errstr);
	if (s != STORE_OK)
		return s;
	sodium_bin2hex(hex, sizeof(hex), dk, STORE_KEY_LEN);
	snprintf(raw, sizeof(raw), "x'%s'", hex);
	sqlite3_bind_text(q, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, raw, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "writing the store under the new key");
	sqlite3_finalize(q);
	sodium_memzero(hex, sizeof(hex));
	sodium_memzero(raw, sizeof(raw));
	if (s != STORE_OK)
		return s;
	/* The export copies the schema and the rows, not the schema's version. */
	snprintf(sql, sizeof(sql),
		 "PRAGMA rotated.cipher_page_size = %lld; SELECT sqlcipher_export('rotated');"
		 " PRAGMA rotated.user_version = %lld;",
		 (long long)page, (long long)version);
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		s = store_sqlfail(st, errstr,
				  "writing the store under the new key (the store is unchanged)");
	sqlite3_exec(st->db, "DETACH DATABASE rotated", NULL, NULL, NULL);
	if (s == STORE_OK && sync_path(to, false) != 0)
		s = store_fail(errstr, STORE_EIO, "cannot write %s: %s", to, store_strerror(errno));
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
	char *tmp = rotate_path(st), *newdb = beside(st->path, ".rotate-db"), details[128];
	size_t i, n = 0, dropped = 0;
	bool renamed = false;
	int fd = -1;

	if (dk == NULL || tmp == NULL || newdb == NULL) {
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
		s = sole_use(st, errstr);
	if (s == STORE_OK)
		s = export_db(st, dk, newdb, errstr);
	if (s == STORE_OK)
		s = keyfile_save(tmp, &kf, errstr);
	/* The new database in place: from here the store opens only with the new key. */
	if (s == STORE_OK && rename(newdb, st->path) != 0)
		s = store_fail(errstr, STORE_EIO, "cannot replace %s: %s", st->path,
			       store_strerror(errno));
	renamed = s == STORE_OK;
	if (renamed && rename(tmp, st->keys_path) != 0)
		s = store_fail(errstr, STORE_EIO,
			       "cannot replace %s: %s; the next login finishes the rotation",
			       st->keys_path, store_strerror(errno));
	sync_path(st->path, true);
	if (!renamed) {
		unlink(newdb);
		unlink(tmp);
		sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
	}
	keyfile_free(&kf);
	if (renamed) {
		/* This connection reads the old file, now gone: open the new one. */
		sqlite3_close(st->db);
		st->db = NULL;
		memcpy(st->data_key, dk, STORE_KEY_LEN);
		if (s == STORE_OK)
			s = store_db_open(st->path, st->data_key, &st->db, errstr);
	}
	if (s != STORE_OK)
		goto done;
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
	free(newdb);
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
