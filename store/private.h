/*
 * store/private.h: what only the files of store/ share. Nothing outside store/ may
 * include this file.
 */
#ifndef HATO_STORE_PRIVATE_H
#define HATO_STORE_PRIVATE_H

#include <sqlite3.h>
#include <stdarg.h>

#include "store/store.h"

#define STORE_KEY_LEN 32
#define STORE_NAME_MAX 64

struct store {
	sqlite3 *db;
	char *path;		 /* the database file */
	char *keys_path;	 /* the keyslot file */
	char *lock_path;	 /* guards the keyslot file */
	unsigned char *data_key; /* sodium_malloc'd, STORE_KEY_LEN */
	unsigned char *sign_sk;	 /* sodium_malloc'd, the user's Ed25519 secret key, or NULL */
	unsigned char *hash_key; /* sodium_malloc'd, keys store_address_hash */
	unsigned char *box_sk;	 /* sodium_malloc'd, the login's keyslot secret key, or NULL */
	bool sign_legacy;	 /* the signing key is still sealed under the password */
	bool slot_pk_unset;	 /* users.slot_pk is not recorded yet */
	bool disabled;		 /* the user was disabled during the session */
	long long checked_ms;	 /* when store_require last read the user's status */
	int64_t user_id;
	char user[STORE_NAME_MAX + 1];
	char role[STORE_NAME_MAX + 1];
	char os_user[STORE_NAME_MAX + 1];
	char command[64]; /* what the user asked for (store_set_command), or "" */
	uint64_t perms;	  /* bit i set: the role holds enum store_perm i */
	int tx_depth;
	sqlite3_stmt **queue_stmts; /* queue.c's prepared statements, kept until store_close */
};

/* Fills *errstr (when not NULL) with a formatted, allocated sentence. Returns s. */
enum store_status store_fail(char **errstr, enum store_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps a SQLite result code to a status and describes it, naming `what`. */
enum store_status store_sqlfail(struct store *st, char **errstr, const char *what);
/* What a page that fails SQLCipher's check is said to be, after "a page of X". */
#define STORE_PAGE_DAMAGED "does not check out; restore it and its keyslot file from a backup"

/* Prepares SQL; on failure reports through errstr. */
enum store_status store_prepare(struct store *st, const char *sql, sqlite3_stmt **stmt,
				char **errstr);
/* Runs SQL that returns no rows. */
enum store_status store_exec(struct store *st, const char *sql, char **errstr);
/*
 * Runs one statement that returns no rows, binding the arguments that follow
 * as fmt says: 't' text (NULL binds ""), 'i' int64_t, 'b' a blob and its
 * length (size_t). A failure says "WHAT: ...".
 */
enum store_status store_run(struct store *st, const char *sql, char **errstr, const char *what,
			    const char *fmt, ...);
/* Reads one integer (0 when no row) from SQL whose n parameters are int64_t values. */
/* How long a statement waits for another hato's write lock (ms). */
#define STORE_BUSY_MS 10000
/* The reason of a pending line for a login whose record had to wait (login.c). */
#define STORE_PENDING_LOGIN_OK "ok-while-store-busy"
enum store_status store_query_int(struct store *st, const char *sql, int64_t *out, char **errstr,
				  int n, ...);

/*
 * Grows the byte buffer at *bufp (a pointer to a char or unsigned char
 * pointer) to hold at least need bytes, doubling its capacity, or starting
 * from first. 0, or -1 when out of memory; the buffer is kept either way.
 */
int store_reserve(void *bufp, size_t *cap, size_t need, size_t first);
/*
 * Refuses (STORE_EEXIST) a value of table.column (names from the code, never
 * from a user) that differs from one there only in case: "a `what` named X
 * exists already; `names` may not differ only in case".
 */
enum store_status store_case_twin(struct store *st, const char *table, const char *column,
				  const char *what, const char *names, const char *value,
				  char **errstr);
/*
 * Is cp in NFC whatever comes before or after it (store_nfc's short cut)?
 * Exposed for the test that checks it against libunistring's tables.
 */
bool store_nfc_stable(uint32_t cp);

/* The current UTC time as "YYYY-MM-DDTHH:MM:SSZ", the form records store. */
void store_utc_now(char out[21]);
/* The time t in that form. */
void store_utc_time(time_t t, char out[21]);

/* Opens the database file with the key, applying hato's pragmas. */
enum store_status store_db_open(const char *path, const unsigned char key[STORE_KEY_LEN],
				sqlite3 **out, char **errstr);

/* A store with its paths set and no database open yet. */
struct store *store_new_session(const char *path);
/*
 * Checks that the store's folder and file exist and are safe to open (ours,
 * and nobody else may write to them), that the file is not empty, and that
 * the keyslot file, when there, is safe too.
 */
enum store_status store_check_files(const char *path, char **errstr);

/* Runs every migration newer than PRAGMA user_version, in one transaction. */
enum store_status store_migrate(struct store *st, char **errstr);

/* Finalises queue.c's kept statements (store_close calls it). */
void store_queue_stmts_free(struct store *st);

/* Loads the role's permissions into st->perms. */
enum store_status store_load_perms(struct store *st, char **errstr);

/* Why SQLite failed on db: "the disk is full" when it is (SQLITE_FULL, or
 * ENOSPC under an I/O error), else SQLite's own message. */
const char *store_sql_why(sqlite3 *db);

/*
 * For a command that looks a person up by address and answers differently
 * for a subscriber and for anyone else (exit 66 or 0, "unsubscribed"...):
 * a user who sees addresses masked could otherwise confirm guessed ones.
 * store_require of STORE_PERM_PII: refused, audited, naming the permission.
 */
enum store_status store_require_lookup(struct store *st, const char *action, char **errstr);

/* Where an address written in free text ends, reading on from its '@'. */
bool store_addr_stop(unsigned char c);
/*
 * Where its local part starts, reading back from the '@': more is taken for
 * a boundary than RFC 5321 allows in a local part (' and ` are in one, and a
 * reply may quote anything), so that masking leaves no part of an address.
 */
bool store_local_stop(unsigned char c);

/* store_name_check, naming `what` whole ("a list ID") rather than "WHAT name". */
enum store_status store_word_check(const char *what, const char *name, char **errstr);

/*
 * Writes a "denied" audit record of `action` on `object` (may be NULL) with
 * `details`, and returns STORE_EDENIED with "ACTION is not allowed for USER
 * (role ROLE): " and the formatted reason.
 */
enum store_status store_deny(struct store *st, const char *action, const char *object,
			     const char *details, char **errstr, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/*
 * Refuses (store_deny) when `role` holds a permission that the logged-in
 * user's role lacks: nobody gives or manages more than they hold. The built-in
 * admin counts as holding every permission, both as the user and as `role`.
 * `what` names the change: "WHAT needs the permission P, which you do not hold".
 */
enum store_status store_require_role(struct store *st, const char *role, const char *action,
				     const char *object, const char *what, char **errstr);

/* Reads a secret from the secrets table into buf, which holds exactly len bytes. */
enum store_status store_secret_get(struct store *st, const char *name, unsigned char *buf,
				   size_t len);
enum store_status store_secret_put(struct store *st, const char *name, const unsigned char *buf,
				   size_t len, char **errstr);

struct slot_keys;
/* Inserts a user row with a new Ed25519 pair sealed under the slot's key (k). */
enum store_status store_user_insert(struct store *st, const char *name, const char *role,
				    const struct slot_keys *k, char **errstr);
/*
 * Makes `name` the session's user: loads the role, its permissions and
 * signing key, which k opens (or, sealed before schema 11, k's KEK), and
 * keeps the slot's secret key for a change of password.
 */
enum store_status store_session_load(struct store *st, const char *name, const struct slot_keys *k,
				     char **errstr);
/*
 * In the login's transaction: seals the signing key of a user of an older
 * store under the slot's key and records the slot's public key.
 */
enum store_status store_session_upgrade(struct store *st, char **errstr);
/* Finishes a key rotation that died between rekeying and replacing the keyslot file. */
enum store_status store_recover_rotation(struct store *st, const char *user, const char *password,
					 struct slot_keys *k, char **errstr);
/* Writes pending failed-login records to the audit trail. */
enum store_status store_audit_pending(struct store *st, char **lines, size_t n);
/*
 * The MAC (32 hex digits) of a pending line "TIME NAME OSUSER REASON", under a
 * key that comes from the store's secrets: a late login's line carries it.
 */
void store_pending_mac(const struct store *st, const char *line, char hex[33]);

/*
 * Keeps a copy of the campaign's content as it is approved (campaign_version.c).
 * Called inside store_campaign_approve's transaction.
 */
enum store_status store_campaign_snapshot(struct store *st, int64_t campaign, char **errstr);

/*
 * How long an erasure keeps a person's consent records after the last mail
 * to them (store/consent.c): 31 days, a month at least.
 */
#define CONSENT_HOLD ((int64_t)31 * 86400)
/* Deletes the consent records past their hold, audited when there were any
 * (*purged counts them); in the login's transaction (consent.c). */
enum store_status consent_purge(struct store *st, int64_t *purged, char **errstr);

/* ---- The audit trail's retention (audit_prune.c) ------------------------ */

/* The action of the anchor a pruning keeps as the trail's first record. */
#define AUDIT_ANCHOR "audit.pruned"
/* The shortest retention: the trail backs rate limits, approvals and accountability. */
#define AUDIT_RETENTION_MIN 90
struct audit_walk {
	int64_t bad;	/* the first broken record, when the chain breaks */
	int64_t count;	/* the records checked, the anchor aside */
	int64_t anchor; /* the first record, when it is a pruning's anchor; else 0 */
	bool named;	/* an audit.prune record in the chain names the anchor */
};
/*
 * Recomputes the hash chain from its first record up to id upto (0: to its
 * end), from the anchor's hash when a pruning left one (audit.c).
 * STORE_ECORRUPT at a break, w->bad naming it. Checks no permission.
 */
enum store_status audit_walk(struct store *st, int64_t upto, struct audit_walk *w, char **errstr);
/* Checks a value of audit.retention: days, N or Nd, AUDIT_RETENTION_MIN or more. */
enum store_status audit_retention_check(const char *value, char **errstr);
/*
 * When audit.retention is set, deletes the records older than it as a
 * prefix of the chain, keeps the last as the anchor, and audits it as
 * audit.prune (*pruned counts the records removed); in the login's
 * transaction (login.c).
 */
enum store_status audit_prune(struct store *st, int64_t *pruned, char **errstr);
/*
 * *p as store_audit_pruned read it, but for the pruning that removed record
 * (before the anchor): the first audit.prune still in the trail whose anchor
 * is at or after it. *p stays as it was when there is none.
 */
enum store_status audit_pruned_record(struct store *st, int64_t record, struct store_audit_prune *p,
				      char **errstr);

/* The reading module's check of a setting's value (store_config_set_checker),
 * when one is installed; STORE_EINVAL with its reason (config.c). */
enum store_status store_config_module_check(struct store *st, const char *key, const char *value,
					    char **errstr);

/* ---- keyslot.c --------------------------------------------------------- */

#define KEYSLOT_SALT 16	 /* crypto_pwhash_SALTBYTES */
#define KEYSLOT_NONCE 24 /* crypto_secretbox_NONCEBYTES */
#define KEYSLOT_MAX_FAILS 10

struct keyslot {
	char name[STORE_NAME_MAX + 1];
	unsigned long long ops;
	size_t mem;
	unsigned char salt[KEYSLOT_SALT];
	unsigned char box_pk[32];
	unsigned char sk_nonce[KEYSLOT_NONCE];
	unsigned char sk_wrapped[32 + 16]; /* secretbox(box_sk, KEK) */
	unsigned char sealed_dk[32 + 48];  /* crypto_box_seal(data key, box_pk) */
	int fails;
	long long last_fail;
	int locked;
};

struct keyfile {
	struct keyslot *slots;
	size_t n;
	char **pending; /* failed-login records waiting for the audit trail */
	size_t npending;
};

/* Takes the exclusive lock that guards the keyslot file. Returns a fd, or -1. */
int keyfile_lock(const char *lock_path);
void keyfile_unlock(int fd);

/* Reads and strictly parses the keyslot file. A missing file is STORE_ENOTFOUND. */
enum store_status keyfile_load(const char *path, struct keyfile *kf, char **errstr);
/* Writes the keyslot file atomically (temp file, fsync, rename), mode 0600. */
enum store_status keyfile_save(const char *path, const struct keyfile *kf, char **errstr);
void keyfile_free(struct keyfile *kf);
struct keyslot *keyfile_find(struct keyfile *kf, const char *name);
/* Appends a slot (copied). */
enum store_status keyfile_add(struct keyfile *kf, const struct keyslot *ks);
void keyfile_remove(struct keyfile *kf, const char *name);
enum store_status keyfile_add_pending(struct keyfile *kf, const char *line);

/*
 * What an open slot gives besides the data key: the password's KEK, which
 * sealed the user's signing key before schema 11, and the slot's X25519
 * secret key, from which the key that seals it now comes
 * (keyslot_sign_key): a change of one's own password keeps the slot's
 * key pair, so the database need not change with the keyslot file.
 */
struct slot_keys {
	unsigned char kek[STORE_KEY_LEN];
	unsigned char box_sk[32];
};

/* Fills a slot for `name`: new salt and X25519 pair, the data key sealed to it. */
enum store_status keyslot_create(struct keyslot *ks, const char *name, const char *password,
				 unsigned long long ops, size_t mem,
				 const unsigned char dk[STORE_KEY_LEN], struct slot_keys *out);
/* The Argon2id cost of each KDF level. */
void keyslot_kdf_params(enum store_kdf kdf, unsigned long long *ops, size_t *mem);
/* Derives the KEK from the password and unwraps the data key. EAUTH when wrong. */
enum store_status keyslot_open(const struct keyslot *ks, const char *password,
			       unsigned char dk[STORE_KEY_LEN], struct slot_keys *out);
/*
 * Wraps the slot's secret key box_sk under a new password (new salt, same
 * cost, same key pair and sealed data key). STORE_EINVAL when box_sk is not
 * the secret key of the slot's public key.
 */
enum store_status keyslot_rewrap(struct keyslot *ks, const char *password,
				 const unsigned char box_sk[32]);
/* The key that seals the user's signing key, from the slot's secret key. */
void keyslot_sign_key(const unsigned char box_sk[32], unsigned char key[STORE_KEY_LEN]);
/* Seals a new data key to the slot's public key (key rotation). */
enum store_status keyslot_reseal(struct keyslot *ks, const unsigned char dk[STORE_KEY_LEN]);
/* Seconds a user must wait after `fails` failures in a row. */
long keyslot_delay(int fails);

#endif
