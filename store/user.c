/*
 * store/user.c: users, their keyslots and signing keys, and store secrets.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/private.h"

enum store_status store_secret_get(struct store *st, const char *name, unsigned char *buf,
				   size_t len)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	s = store_prepare(st, "SELECT value FROM secrets WHERE name = ?", &q, NULL);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	s = STORE_ECORRUPT;
	if (sqlite3_step(q) == SQLITE_ROW && (size_t)sqlite3_column_bytes(q, 0) == len) {
		memcpy(buf, sqlite3_column_blob(q, 0), len);
		s = STORE_OK;
	}
	sqlite3_finalize(q);
	return s;
}

enum store_status store_secret_put(struct store *st, const char *name, const unsigned char *buf,
				   size_t len, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	s = store_prepare(st, "INSERT OR REPLACE INTO secrets (name, value) VALUES (?, ?)", &q,
			  errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 2, buf, (int)len, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "saving a store secret");
	sqlite3_finalize(q);
	return s;
}

/*
 * Stores the user's Ed25519 pair (keep_sk, or a new one) sealed under the
 * key that comes from the slot's secret key, and the slot's public key.
 */
static enum store_status set_sign_key(struct store *st, const char *name,
				      const unsigned char box_sk[32], const unsigned char *keep_sk,
				      char **errstr)
{
	unsigned char key[STORE_KEY_LEN], slot_pk[32];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	unsigned char nonce[crypto_secretbox_NONCEBYTES];
	unsigned char sealed[crypto_sign_SECRETKEYBYTES + crypto_secretbox_MACBYTES];
	enum store_status s;
	sqlite3_stmt *q = NULL;

	if (keep_sk != NULL) {
		memcpy(sk, keep_sk, sizeof(sk));
		crypto_sign_ed25519_sk_to_pk(pk, sk);
	} else {
		crypto_sign_keypair(pk, sk);
	}
	randombytes_buf(nonce, sizeof(nonce));
	keyslot_sign_key(box_sk, key);
	crypto_secretbox_easy(sealed, sk, sizeof(sk), nonce, key);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(key, sizeof(key));
	crypto_scalarmult_base(slot_pk, box_sk);
	s = store_prepare(st,
			  "UPDATE users SET sign_pk = ?, sign_nonce = ?, sign_sealed = ?, "
			  "slot_pk = ? WHERE name = ?",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_blob(q, 1, pk, sizeof(pk), SQLITE_STATIC);
	sqlite3_bind_blob(q, 2, nonce, sizeof(nonce), SQLITE_STATIC);
	sqlite3_bind_blob(q, 3, sealed, sizeof(sealed), SQLITE_STATIC);
	sqlite3_bind_blob(q, 4, slot_pk, sizeof(slot_pk), SQLITE_STATIC);
	sqlite3_bind_text(q, 5, name, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "saving a user");
	else if (sqlite3_changes(st->db) != 1)
		s = store_fail(errstr, STORE_ENOTFOUND, "there is no user %s", name);
	sqlite3_finalize(q);
	return s;
}

enum store_status store_user_insert(struct store *st, const char *name, const char *role,
				    const struct slot_keys *k, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	/* Logins count case: MK beside mk would pass for mk in user list and the audit trail. */
	s = store_case_twin(st, "users", "name", "user", "user names", name, errstr);
	if (s == STORE_OK)
		s = store_prepare(st,
				  "INSERT INTO users (name, role, created, sign_pk, sign_nonce, "
				  "sign_sealed) VALUES (?, ?, ?, x'', x'', x'')",
				  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, role, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, (sqlite3_int64)time(NULL));
	if (sqlite3_step(q) != SQLITE_DONE)
		s = (sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
			? store_fail(errstr, STORE_ENOTFOUND, "there is no role %s", role)
			: store_fail(errstr, STORE_EEXIST, "the user %s exists already", name);
	sqlite3_finalize(q);
	if (s != STORE_OK)
		return s;
	return set_sign_key(st, name, k->box_sk, NULL, errstr);
}

/* Opens the signing key sealed in row q (columns 3, 4) under key into st->sign_sk. */
static bool open_sign_key(struct store *st, sqlite3_stmt *q, const unsigned char *key)
{
	return sqlite3_column_bytes(q, 3) == crypto_secretbox_NONCEBYTES &&
	       sqlite3_column_bytes(q, 4) ==
		   crypto_sign_SECRETKEYBYTES + crypto_secretbox_MACBYTES &&
	       crypto_secretbox_open_easy(st->sign_sk, sqlite3_column_blob(q, 4),
					  (unsigned long long)sqlite3_column_bytes(q, 4),
					  sqlite3_column_blob(q, 3), key) == 0;
}

enum store_status store_session_load(struct store *st, const char *name, const struct slot_keys *k,
				     char **errstr)
{
	enum store_status s = STORE_OK;
	sqlite3_stmt *q = NULL;
	unsigned char key[STORE_KEY_LEN];
	int rc;

	if (st->sign_sk == NULL)
		st->sign_sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (st->box_sk == NULL)
		st->box_sk = sodium_malloc(32);
	if (st->sign_sk == NULL || st->box_sk == NULL)
		return STORE_ENOMEM;
	s = store_prepare(st,
			  "SELECT id, role, status, sign_nonce, sign_sealed, slot_pk FROM users "
			  "WHERE name = ?",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		s = store_sqlfail(st, errstr, "reading the users");
		goto done;
	}
	if (rc != SQLITE_ROW) {
		s = store_fail(errstr, STORE_EAUTH, "login failed: unknown user or wrong password");
		goto done;
	}
	if (strcmp((const char *)sqlite3_column_text(q, 2), "active") != 0) {
		/* Its slot was put back, or outlived the disable: on record, as the
		 * user, whose password it was. */
		snprintf(st->user, sizeof(st->user), "%s", name);
		store_audit(st, "login", name, "denied",
			    "the account is disabled, yet its keyslot opened");
		st->user[0] = '\0';
		s = store_fail(errstr, STORE_EAUTH, "the account %s is disabled", name);
		goto done;
	}
	st->user_id = sqlite3_column_int64(q, 0);
	snprintf(st->user, sizeof(st->user), "%s", name);
	snprintf(st->role, sizeof(st->role), "%s", (const char *)sqlite3_column_text(q, 1));
	memcpy(st->box_sk, k->box_sk, 32);
	keyslot_sign_key(k->box_sk, key);
	st->sign_legacy = false;
	if (!open_sign_key(st, q, key)) {
		st->sign_legacy = open_sign_key(st, q, k->kek);
		if (!st->sign_legacy) {
			/* A slot from before a password reset, put back: on record too. */
			store_audit(st, "login", name, "denied",
				    "the keyslot opened, but not the signing key: a slot older "
				    "than the last password reset");
			st->user[0] = '\0';
			s = store_fail(errstr, STORE_ECORRUPT,
				       "the signing key of %s does not open with its keyslot; an "
				       "admin can reset the password (hato user passwd %s), which "
				       "makes a new one",
				       name, name);
			goto done;
		}
	}
	st->slot_pk_unset = sqlite3_column_type(q, 5) == SQLITE_NULL;
	s = store_secret_get(st, "address_hash_key", st->hash_key, STORE_KEY_LEN);
	if (s != STORE_OK) {
		s = store_fail(errstr, s, "the store's secrets are damaged");
		goto done;
	}
	s = store_load_perms(st, errstr);
done:
	sodium_memzero(key, sizeof(key));
	sqlite3_finalize(q);
	return s;
}

enum store_status store_session_upgrade(struct store *st, char **errstr)
{
	if (!st->sign_legacy && !st->slot_pk_unset)
		return STORE_OK;
	st->sign_legacy = st->slot_pk_unset = false;
	return set_sign_key(st, st->user, st->box_sk, st->sign_sk, errstr);
}

/* Runs fn on the keyslot file under its lock, then saves it. */
static enum store_status with_keyfile(struct store *st,
				      enum store_status (*fn)(struct keyfile *, void *), void *arg,
				      char **errstr)
{
	enum store_status s;
	struct keyfile kf;
	int fd = keyfile_lock(st->lock_path);

	if (fd < 0)
		return store_fail(errstr, STORE_EIO, "cannot lock %s", st->lock_path);
	s = keyfile_load(st->keys_path, &kf, errstr);
	if (s == STORE_OK) {
		s = fn(&kf, arg);
		if (s == STORE_OK)
			s = keyfile_save(st->keys_path, &kf, errstr);
		keyfile_free(&kf);
	}
	keyfile_unlock(fd);
	return s;
}

static enum store_status put_slot(struct keyfile *kf, void *arg)
{
	struct keyslot *ks = arg, *old = keyfile_find(kf, ks->name);

	if (old != NULL) {
		*old = *ks;
		return STORE_OK;
	}
	return keyfile_add(kf, ks);
}

static enum store_status drop_slot(struct keyfile *kf, void *arg)
{
	keyfile_remove(kf, arg);
	return STORE_OK;
}

static enum store_status unlock_slot(struct keyfile *kf, void *arg)
{
	struct keyslot *ks = keyfile_find(kf, arg);

	if (ks == NULL)
		return STORE_ENOTFOUND;
	ks->fails = 0;
	ks->locked = 0;
	ks->last_fail = 0;
	return STORE_OK;
}

/*
 * Ends the caller's transaction, in which s is the outcome so far: puts ks
 * in the keyslot file, then commits. A user's slot and their row change
 * together, so when the commit fails the file is put back as it was:
 * undo(kf, undo_arg).
 */
static enum store_status commit_with_slot(struct store *st, enum store_status s, struct keyslot *ks,
					  enum store_status (*undo)(struct keyfile *, void *),
					  void *undo_arg, char **errstr)
{
	bool slot_written;

	if (s == STORE_OK)
		s = with_keyfile(st, put_slot, ks, errstr);
	slot_written = s == STORE_OK;
	if (s == STORE_OK)
		s = store_commit_err(st, errstr);
	else
		store_rollback(st);
	if (s != STORE_OK && slot_written)
		with_keyfile(st, undo, undo_arg, NULL);
	return s;
}

/* Fails unless the user exists (and is active, if asked); fills role when not NULL. */
static enum store_status find_user(struct store *st, const char *name, bool active, char *role,
				   char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	s = store_prepare(st, "SELECT role, status FROM users WHERE name = ?", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW)
		s = store_fail(errstr, STORE_ENOTFOUND, "there is no user %s", name);
	else if (active && strcmp((const char *)sqlite3_column_text(q, 1), "active") != 0)
		s = store_fail(errstr, STORE_EINVAL, "the user %s is disabled", name);
	else if (role != NULL)
		snprintf(role, STORE_NAME_MAX + 1, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	return s;
}

/*
 * Refuses when `role` holds a permission the logged-in user lacks: giving it
 * to `name` (give: "giving the role R"), or managing `name`, who holds it
 * ("unlocking NAME (role R)").
 */
static enum store_status may_handle(struct store *st, const char *action, const char *verb,
				    const char *name, const char *role, bool give, char **errstr)
{
	char what[200];

	if (give)
		snprintf(what, sizeof(what), "%s the role %s", verb, role);
	else
		snprintf(what, sizeof(what), "%s %s (role %s)", verb, name, role);
	return store_require_role(st, role, action, name, what, errstr);
}

enum store_status store_user_add(struct store *st, const char *name, const char *role,
				 const char *password, enum store_kdf kdf, char **errstr)
{
	enum store_status s;
	struct keyslot ks;
	struct slot_keys k;
	unsigned long long ops;
	size_t mem;

	s = store_require(st, STORE_PERM_USERS, "user.add", errstr);
	if (s == STORE_OK)
		s = store_name_check("user", name, errstr);
	if (s == STORE_OK)
		s = may_handle(st, "user.add", "adding a user with", name, role, true, errstr);
	if (s == STORE_OK)
		s = store_password_check(name, password, errstr);
	if (s != STORE_OK)
		return s;
	keyslot_kdf_params(kdf, &ops, &mem);
	s = keyslot_create(&ks, name, password, ops, mem, st->data_key, &k);
	if (s != STORE_OK)
		goto wipe;
	s = store_begin(st);
	if (s == STORE_OK)
		s = store_user_insert(st, name, role, &k, errstr);
	if (s == STORE_OK)
		s = store_audit(st, "user.add", name, "ok", role);
	/* Not added: no slot is left for a user the database does not have. */
	s = commit_with_slot(st, s, &ks, drop_slot, (void *)name, errstr);
wipe:
	sodium_memzero(&k, sizeof(k));
	sodium_memzero(&ks, sizeof(ks));
	return s;
}

enum store_status store_user_list(struct store *st, store_user_cb cb, void *arg, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct store_user_info u;
	struct keyfile kf;
	struct keyslot *ks;
	int rc;

	s = keyfile_load(st->keys_path, &kf, errstr);
	if (s != STORE_OK)
		return s;
	s = store_prepare(st, "SELECT name, role, status, created FROM users ORDER BY name", &q,
			  errstr);
	if (s != STORE_OK)
		goto done;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		u.name = (const char *)sqlite3_column_text(q, 0);
		u.role = (const char *)sqlite3_column_text(q, 1);
		u.status = (const char *)sqlite3_column_text(q, 2);
		u.created = (time_t)sqlite3_column_int64(q, 3);
		ks = keyfile_find(&kf, u.name);
		u.failures = ks ? ks->fails : 0;
		u.locked = ks ? ks->locked != 0 : false;
		if (cb(&u, arg) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "listing users");
done:
	sqlite3_finalize(q);
	keyfile_free(&kf);
	return s;
}

/*
 * Refuses a change that would leave no admin who can log in: another admin
 * must be active and have a keyslot that is not locked (a disabled user has
 * none).
 */
static enum store_status keep_an_admin(struct store *st, const char *name, char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	struct keyfile kf;
	struct keyslot *ks;
	int others = 0, rc;

	s = keyfile_load(st->keys_path, &kf, errstr);
	if (s != STORE_OK)
		return s;
	s = store_prepare(st,
			  "SELECT name FROM users WHERE role = 'admin' AND "
			  "status = 'active' AND name != ?",
			  &q, errstr);
	if (s != STORE_OK)
		goto done;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		ks = keyfile_find(&kf, (const char *)sqlite3_column_text(q, 0));
		if (ks != NULL && !ks->locked && ks->fails < KEYSLOT_MAX_FAILS)
			others++;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "reading users");
	else if (others == 0)
		s = store_fail(errstr, STORE_EINVAL,
			       "%s is the last admin who can log in (a locked or disabled admin "
			       "does not count); add another admin, or unlock one, first",
			       name);
done:
	keyfile_free(&kf);
	return s;
}

enum store_status store_user_set_role(struct store *st, const char *name, const char *role,
				      char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char old[STORE_NAME_MAX + 1];

	s = store_require(st, STORE_PERM_USERS, "user.role", errstr);
	if (s == STORE_OK)
		/* A disabled user's role may change too, so that a role they
		 * alone hold can be removed (store_role_rm). */
		s = find_user(st, name, false, old, errstr);
	if (s == STORE_OK)
		s = may_handle(st, "user.role", "changing the role of", name, old, false, errstr);
	if (s == STORE_OK)
		s = may_handle(st, "user.role", "giving", name, role, true, errstr);
	if (s != STORE_OK)
		return s;
	/* Under the write lock: two admins demoting each other at once leave one. */
	s = store_begin(st);
	if (s == STORE_OK && strcmp(old, "admin") == 0 && strcmp(role, "admin") != 0)
		s = keep_an_admin(st, name, errstr);
	if (s == STORE_OK && strcmp(name, st->user) == 0)
		s = store_deny(st, "user.role", name, "own role", errstr,
			       "nobody may change their own role; ask another user who holds "
			       "\"users\"");
	if (s == STORE_OK)
		s = store_prepare(st, "UPDATE users SET role = ? WHERE name = ?", &q, errstr);
	if (s == STORE_OK) {
		sqlite3_bind_text(q, 1, role, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			s = store_fail(errstr, STORE_ENOTFOUND, "there is no role %s", role);
		sqlite3_finalize(q);
	}
	if (s == STORE_OK) {
		char details[160];
		snprintf(details, sizeof(details), "%s -> %s", old, role);
		s = store_audit(st, "user.role", name, "ok", details);
	}
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	/* A refusal keeps its audit record. */
	if (s == STORE_EDENIED && store_commit(st) == STORE_OK)
		return s;
	store_rollback(st);
	return s;
}

/*
 * The database first: once it says disabled, the login refuses the user and
 * key rotation leaves their slot out, so a slot the keyslot file still holds
 * after a failure opens nothing new.
 */
enum store_status store_user_disable(struct store *st, const char *name, char **errstr)
{
	enum store_status s;
	char role[STORE_NAME_MAX + 1], *why = NULL;

	s = store_require(st, STORE_PERM_USERS, "user.disable", errstr);
	if (s == STORE_OK)
		s = find_user(st, name, true, role, errstr);
	if (s == STORE_OK && strcmp(name, st->user) == 0)
		s = store_fail(errstr, STORE_EINVAL, "you cannot disable your own account");
	if (s == STORE_OK)
		s = may_handle(st, "user.disable", "disabling", name, role, false, errstr);
	if (s != STORE_OK)
		return s;
	/* Under the write lock: two admins disabling each other at once leave one. */
	s = store_begin(st);
	if (s == STORE_OK && strcmp(role, "admin") == 0)
		s = keep_an_admin(st, name, errstr);
	if (s == STORE_OK)
		s = store_run(st, "UPDATE users SET status = 'disabled' WHERE name = ?", errstr,
			      "disabling a user", "t", name);
	if (s == STORE_OK)
		s = store_audit(st, "user.disable", name, "ok", "keyslot removed");
	if (s == STORE_OK)
		s = store_commit_err(st, errstr);
	else
		store_rollback(st);
	if (s != STORE_OK)
		return s;
	s = with_keyfile(st, drop_slot, (void *)name, &why);
	if (s != STORE_OK)
		store_fail(errstr, s,
			   "%s is disabled and can no longer log in, but the keyslot file still "
			   "holds their slot (%s); run hato user disable %s again",
			   name, why != NULL ? why : "it was not written", name);
	free(why);
	return s;
}

enum store_status store_user_unlock(struct store *st, const char *name, char **errstr)
{
	enum store_status s;
	char role[STORE_NAME_MAX + 1];

	s = store_require(st, STORE_PERM_USERS, "user.unlock", errstr);
	if (s == STORE_OK)
		s = find_user(st, name, true, role, errstr);
	if (s == STORE_OK)
		s = may_handle(st, "user.unlock", "unlocking", name, role, false, errstr);
	if (s == STORE_OK)
		s = with_keyfile(st, unlock_slot, (void *)name, errstr);
	if (s == STORE_OK)
		s = store_audit(st, "user.unlock", name, "ok", NULL);
	return s;
}

/* Copies the slot of want->name into want. */
static enum store_status find_slot(struct keyfile *kf, void *arg)
{
	struct keyslot *want = arg, *ks = keyfile_find(kf, want->name);

	if (ks == NULL)
		return STORE_ENOTFOUND;
	*want = *ks;
	return STORE_OK;
}

/* Puts the new wrapping of a slot (a new password, the same key pair) in place. */
static enum store_status rewrap_slot(struct keyfile *kf, void *arg)
{
	const struct keyslot *nw = arg;
	struct keyslot *ks = keyfile_find(kf, nw->name);

	if (ks == NULL || sodium_memcmp(ks->box_pk, nw->box_pk, sizeof(ks->box_pk)) != 0)
		return STORE_EINVAL;
	memcpy(ks->salt, nw->salt, sizeof(ks->salt));
	memcpy(ks->sk_nonce, nw->sk_nonce, sizeof(ks->sk_nonce));
	memcpy(ks->sk_wrapped, nw->sk_wrapped, sizeof(ks->sk_wrapped));
	return STORE_OK;
}

/*
 * One's own password: the slot keeps its key pair, so only the keyslot file
 * changes, in one rename, and a failure leaves the old password working. A
 * signing key still sealed the old way is first sealed under the slot.
 */
static enum store_status own_passwd(struct store *st, struct keyslot *ks, const char *password,
				    char **errstr)
{
	enum store_status s;

	/* EINVAL: the slot is not the one this login opened. */
	s = keyslot_rewrap(ks, password, st->box_sk);
	if (s == STORE_OK)
		s = store_session_upgrade(st, errstr);
	if (s == STORE_OK)
		s = with_keyfile(st, rewrap_slot, ks, errstr);
	if (s == STORE_EINVAL)
		return store_fail(errstr, s,
				  "your keyslot changed since you logged in; log in again");
	if (s != STORE_OK)
		return s;
	s = store_audit(st, "user.passwd", st->user, "ok", "own password");
	if (s != STORE_OK)
		store_fail(errstr, s,
			   "your password is changed, but the audit trail could not record it: %s",
			   store_strstatus(s));
	return s;
}

/*
 * Another user's password: a new slot and a new signing key, as theirs
 * can't be opened. The slot is written before the commit; when the commit
 * fails the old slot is put back, and should that fail too, a second reset
 * mends it. A user without a slot (old->ops 0) gets one of cost ops, mem.
 */
static enum store_status reset_passwd(struct store *st, const struct keyslot *old,
				      unsigned long long ops, size_t mem, const char *password,
				      char **errstr)
{
	enum store_status s;
	struct keyslot ks;
	struct slot_keys k;

	s = keyslot_create(&ks, old->name, password, old->ops != 0 ? old->ops : ops,
			   old->ops != 0 ? old->mem : mem, st->data_key, &k);
	if (s == STORE_OK)
		s = store_begin(st);
	if (s == STORE_OK)
		s = set_sign_key(st, old->name, k.box_sk, NULL, errstr);
	if (s == STORE_OK)
		s = store_audit(st, "user.passwd", old->name, "ok", "reset");
	s = commit_with_slot(st, s, &ks, old->ops != 0 ? put_slot : drop_slot,
			     old->ops != 0 ? (void *)old : (void *)old->name, errstr);
	sodium_memzero(&k, sizeof(k));
	sodium_memzero(&ks, sizeof(ks));
	return s;
}

enum store_status store_user_passwd(struct store *st, const char *name, const char *password,
				    char **errstr)
{
	enum store_status s;
	struct keyslot ks;
	char role[STORE_NAME_MAX + 1];
	bool self = strcmp(name, st->user) == 0;
	unsigned long long ops = 0;
	size_t mem = 0;

	memset(&ks, 0, sizeof(ks));
	s = self ? STORE_OK : store_require(st, STORE_PERM_USERS, "user.passwd", errstr);
	if (s == STORE_OK)
		s = find_user(st, name, true, role, errstr);
	if (s == STORE_OK && !self)
		s = may_handle(st, "user.passwd", "changing the password of", name, role, false,
			       errstr);
	if (s == STORE_OK)
		s = store_password_check(name, password, errstr);
	if (s != STORE_OK)
		return s;
	/* The slot as it is: its cost is kept, and it is put back on a failure. */
	snprintf(ks.name, sizeof(ks.name), "%s", name);
	s = with_keyfile(st, find_slot, &ks, errstr);
	/* A reset makes the slot a user lost (ops 0: none to put back). */
	if (s == STORE_ENOTFOUND && !self) {
		keyslot_kdf_params(STORE_KDF_MODERATE, &ops, &mem);
		s = STORE_OK;
	}
	if (s == STORE_ENOTFOUND)
		s = store_fail(errstr, s, "the keyslot file has no slot for %s", name);
	if (s == STORE_OK)
		s = self ? own_passwd(st, &ks, password, errstr)
			 : reset_passwd(st, &ks, ops, mem, password, errstr);
	sodium_memzero(&ks, sizeof(ks));
	return s;
}

enum store_status store_user_pubkey(struct store *st, const char *name, unsigned char pk[32],
				    char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	s = store_prepare(st, "SELECT sign_pk FROM users WHERE name = ?", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_bytes(q, 0) == 32)
		memcpy(pk, sqlite3_column_blob(q, 0), 32);
	else
		s = store_fail(errstr, STORE_ENOTFOUND, "there is no user %s", name);
	sqlite3_finalize(q);
	return s;
}

enum store_status store_sign(struct store *st, const unsigned char *msg, size_t len,
			     unsigned char sig[64])
{
	if (st->sign_sk == NULL)
		return STORE_EDENIED;
	crypto_sign_detached(sig, NULL, msg, len, st->sign_sk);
	return STORE_OK;
}
