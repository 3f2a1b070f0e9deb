/*
 * store: hato's encrypted database.
 *
 * Everything hato keeps lives in one SQLCipher database file, encrypted with a
 * random 256-bit data key. Beside it lies a keyslot file ("<store>.keys"):
 * one slot per user, holding the data key wrapped (crypto_secretbox) under a
 * key that Argon2id derives from that user's password. Opening the store means
 * unwrapping a slot; nothing in the database is readable without one.
 *
 * Files:
 *   db.c        open, create, file checks, pragmas, transactions
 *   login.c     opening the store as a user; failed-login counting
 *   rekey.c     data key rotation
 *   schema.c    the versioned schema and its migrations
 *   keyslot.c   the keyslot file: KDF, wrap/unwrap, failed-login counters
 *   user.c      users, their keyslots and signing keys; store secrets
 *   perm.c      permissions and roles
 *   audit.c     the hash-chained audit trail
 *   audit_head.c  signed heads of the trail
 *   audit_prune.c the trail's retention: pruning old records at login
 *   config.c    settings and secrets
 *   status.c    status strings and the small helpers every file shares
 *   address.c, fields.c, subscriber.c, subscriber_mask.c, list.c, import.c,
 *   import_csv.c, export.c, suppress.c, segment.c, segment_sql.c, segment_pii.c,
 *   browse.c, bounce.c: the people on the lists
 *               (subscribers_private.h)
 *   template.c  templates and DKIM keys as stored
 *   campaign.c, approval.c, campaign_version.c, queue.c, queue_admin.c:
 *               campaigns, their approvals and their send queue
 *               (campaign_private.h; declared in campaigns.h)
 *
 * The people on the lists are declared in subscribers.h and campaigns in
 * campaigns.h, which this header includes at its end: include store.h,
 * never those alone.
 *
 * Depends on: SQLCipher, libsodium, libcsv, libidn2. No other hato module.
 *
 * Error contract: every function returns enum store_status. Where words help
 * the caller, it also fills *errstr with a malloc'd sentence that the caller
 * frees; errstr may be NULL. No error string ever holds a secret.
 */
#ifndef HATO_STORE_H
#define HATO_STORE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct store;

enum store_status {
	STORE_OK = 0,
	STORE_EUSAGE,	 /* the caller passed something malformed */
	STORE_EINVAL,	 /* bad data: a weak password, a bad name, a failed check */
	STORE_EEXIST,	 /* the object exists already */
	STORE_ENOTFOUND, /* no such store, user, role or object */
	STORE_EAUTH,	 /* wrong user or password */
	STORE_ELOCKED,	 /* account locked until an admin unlocks it */
	STORE_EDELAY,	 /* login refused for now after recent failures */
	STORE_EDENIED,	 /* the user's role lacks the permission */
	STORE_EBUSY,	 /* the database stayed locked past the busy timeout */
	STORE_EUNSAFE,	 /* file permissions or ownership are unsafe */
	STORE_ECORRUPT,	 /* the database or keyslot file is damaged */
	STORE_EIO,	 /* an I/O or database error */
	STORE_ENOMEM,
	STORE_EINTR, /* stopped when the caller asked (an import's stop flag) */
};

/* A constant English name for the status. */
const char *store_strstatus(enum store_status s);
/* strerror(err), plainer where it can be: ENOSPC is "the disk is full". */
const char *store_strerror(int err);

/* ---- Opening ---------------------------------------------------------- */

enum store_kdf {
	STORE_KDF_INTERACTIVE,
	STORE_KDF_MODERATE,
	STORE_KDF_SENSITIVE,
};

/* Parses "interactive", "moderate" or "sensitive". */
enum store_status store_kdf_parse(const char *s, enum store_kdf *out);

/*
 * The store path: `override` when not NULL, else $HATO_STORE, else
 * $XDG_DATA_HOME/hato/hato.db, else ~/.local/share/hato/hato.db.
 * *path is allocated; the caller frees it.
 */
enum store_status store_path(const char *override, char **path, char **errstr);

/*
 * True when path is one of the open store's own files: the database, its
 * WAL, shared-memory and journal files, the keyslot file or its lock (the
 * same file, or the same name where it does not exist yet). Files of
 * people's data (exports, rejects) are never written over them.
 */
bool store_is_own_file(const struct store *st, const char *path);

/*
 * Password rules: at least 12 characters and not the user name. Returns
 * STORE_EINVAL with a reason otherwise.
 */
enum store_status store_password_check(const char *user, const char *password, char **errstr);

/* User and role names: 1 to 64 of [A-Za-z0-9._-], starting with a letter or digit. */
enum store_status store_name_check(const char *what, const char *name, char **errstr);
/*
 * Decodes the UTF-8 character at s (n bytes left): returns its length, 1 to
 * 4, and sets *cp; or returns 0 when s does not start with a well-formed
 * character (a stray byte, a cut sequence, an overlong form, a surrogate).
 */
size_t store_utf8_char(const char *s, size_t n, uint32_t *cp);
/*
 * True for a character that could steer a terminal or reorder what it
 * shows: the C0 and C1 controls, DEL, and the bidirectional embeddings,
 * overrides and isolates (U+202A..U+202E, U+2066..U+2069). Settings refuse
 * them; the command line shows them escaped.
 */
bool store_char_is_unsafe(uint32_t cp);
/*
 * True for a character that shows nothing, or reorders what is shown:
 * Unicode's Default_Ignorable_Code_Point (the soft hyphen, zero-width and
 * format characters, the Hangul fillers, variation selectors, tags).
 */
bool store_char_is_invisible(uint32_t cp);
/*
 * Unicode normalisation form C (NFC) of the UTF-8 text s[0..n), so that
 * the same words compare equal whichever form they came in: a "ガ" made of
 * "カ" and a combining mark (as some Macs save text) becomes the one
 * character. Names, attributes, segment strings and searches are kept and
 * compared in NFC. Sets *out to NULL when s is in NFC already (ASCII text
 * always is) or is not UTF-8, else to an allocated, NUL-terminated copy in
 * NFC of length *outn. Returns -1 only when out of memory.
 */
int store_nfc(const char *s, size_t n, char **out, size_t *outn);
/* store_nfc of the string s, always a copy: NULL only when out of memory. */
char *store_nfc_dup(const char *s);

/*
 * Creates a new store at `path` with one admin user. Fails with STORE_EEXIST
 * when a store is there. The folder is created with mode 0700, the files 0600.
 */
enum store_status store_init(const char *path, const char *admin, const char *password,
			     enum store_kdf kdf, char **errstr);

/*
 * Opens the store at `path` as `user`, authenticating with `password`.
 * A failed login is counted in the keyslot file, delays the next attempt and,
 * after 10 failures in a row, locks the account. Failures are written to the
 * audit trail at the next successful open. On success *out is the store; the
 * caller closes it with store_close. The password is not kept.
 */
enum store_status store_open(const char *path, const char *user, const char *password,
			     struct store **out, char **errstr);

/* Closes the store, wipes its keys and sets *st to NULL. Accepts NULL. */
void store_close(struct store **st);

/* The database file's path. Owned by the store. */
const char *store_file(const struct store *st);
/* The logged-in user's name and role. Owned by the store. */
const char *store_user(const struct store *st);
const char *store_role(const struct store *st);

/* ---- Permissions ------------------------------------------------------ */

enum store_perm {
	STORE_PERM_USERS,
	STORE_PERM_ROLES,
	STORE_PERM_SETTINGS,
	STORE_PERM_KEYS,
	STORE_PERM_AUDIT,
	STORE_PERM_REPORTS,
	STORE_PERM_SUBSCRIBERS_READ,
	STORE_PERM_SUBSCRIBERS_WRITE,
	STORE_PERM_SUBSCRIBERS_EXPORT,
	STORE_PERM_SUBSCRIBERS_ERASE,
	STORE_PERM_PII,
	STORE_PERM_LISTS,
	STORE_PERM_SEGMENTS,
	STORE_PERM_TEMPLATES,
	STORE_PERM_CAMPAIGNS_READ,
	STORE_PERM_CAMPAIGNS_EDIT,
	STORE_PERM_CAMPAIGNS_APPROVE,
	STORE_PERM_CAMPAIGNS_SEND,
	STORE_PERM_COUNT,
	STORE_PERM_NONE = -1, /* for commands that need only a login */
};

/* The permission's name ("subscribers.export"), or NULL when out of range. */
const char *store_perm_name(enum store_perm p);
/* A one-line description of the permission. */
const char *store_perm_describe(enum store_perm p);
/* Looks a permission up by name; STORE_ENOTFOUND if there is none. */
enum store_status store_perm_lookup(const char *name, enum store_perm *out);

/* True when the logged-in user's role holds the permission. */
bool store_can(const struct store *st, enum store_perm p);
/*
 * True when the logged-in user was disabled after this session began (or
 * removed): the session then holds no permission, and store_require says
 * so. Reads the user's status again, at most once a second.
 */
bool store_session_disabled(struct store *st);

/*
 * Names what the user asked for, as they asked ("subscriber add" for the
 * command `hato subscriber add`), or NULL to forget it. A refusal then says
 * "subscriber add is not allowed for USER (role ROLE): ..." whichever
 * check refused, where it would otherwise name the store's action
 * ("subscriber.add"); the audit trail keeps the action. Copied (up to 63
 * bytes).
 */
void store_set_command(struct store *st, const char *words);

/*
 * Checks the permission; on refusal writes a "denied" record to the audit
 * trail and returns STORE_EDENIED with an explanation naming the permission.
 */
enum store_status store_require(struct store *st, enum store_perm p, const char *action,
				char **errstr);

/*
 * Masks an address for a user without the pii permission:
 * "taro@example.com" -> "t***@example.com". Returns an allocated string.
 */
char *store_mask_address(const struct store *st, const char *address);
/*
 * Masks every address inside a free text, such as an SMTP reply quoting the
 * recipient ("550 5.1.1 <t***@example.com>: Recipient address rejected"), for
 * a user without the pii permission; the text as it is otherwise. Returns an
 * allocated string (NULL when out of memory).
 */
char *store_mask_text(const struct store *st, const char *text);

/* ---- Users and roles -------------------------------------------------- */

struct store_user_info {
	const char *name;
	const char *role;
	const char *status; /* "active", "disabled" */
	int failures;	    /* failed logins in a row */
	bool locked;
	time_t created;
};

typedef int (*store_user_cb)(const struct store_user_info *u, void *arg);

enum store_status store_user_add(struct store *st, const char *name, const char *role,
				 const char *password, enum store_kdf kdf, char **errstr);
/* Calls cb for every user, sorted by name. A non-zero return from cb stops. */
enum store_status store_user_list(struct store *st, store_user_cb cb, void *arg, char **errstr);
enum store_status store_user_set_role(struct store *st, const char *name, const char *role,
				      char **errstr);
/* Disables the user and removes the user's keyslot. */
enum store_status store_user_disable(struct store *st, const char *name, char **errstr);
enum store_status store_user_unlock(struct store *st, const char *name, char **errstr);
/*
 * Sets a new password. For the logged-in user it rewraps the slot and reseals
 * the user's signing key; for another user (needs STORE_PERM_USERS) it
 * rewraps that user's slot and issues a new signing key pair.
 */
enum store_status store_user_passwd(struct store *st, const char *name, const char *password,
				    char **errstr);

/* The user's Ed25519 public key (32 bytes). */
enum store_status store_user_pubkey(struct store *st, const char *name, unsigned char pk[32],
				    char **errstr);
/* Signs msg with the logged-in user's Ed25519 key. sig is 64 bytes. */
enum store_status store_sign(struct store *st, const unsigned char *msg, size_t len,
			     unsigned char sig[64]);

struct store_role_info {
	const char *name;
	bool builtin;
	const char *const *perms; /* NULL-terminated */
};
typedef int (*store_role_cb)(const struct store_role_info *r, void *arg);

enum store_status store_role_list(struct store *st, store_role_cb cb, void *arg, char **errstr);
/* Creates a custom role from permission names. */
enum store_status store_role_add(struct store *st, const char *name, const char *const *perms,
				 size_t nperms, char **errstr);
/*
 * Replaces a custom role's permissions with `perms` (names, as for
 * store_role_add) in one transaction. Built-in roles are refused
 * (STORE_EINVAL). Needs STORE_PERM_ROLES; audited "role.edit" with the new
 * list. Users holding the role get the new permissions at their next login.
 */
enum store_status store_role_set_perms(struct store *st, const char *name, const char *const *perms,
				       size_t nperms, char **errstr);
/*
 * Removes a custom role. Refuses built-in roles and roles any user (disabled
 * ones included) still holds, saying how many (STORE_EINVAL). Needs
 * STORE_PERM_ROLES; audited "role.rm".
 */
enum store_status store_role_rm(struct store *st, const char *name, char **errstr);

/* Does the named active user's role hold the permission? */
enum store_status store_user_can(struct store *st, const char *name, enum store_perm p,
				 bool *result);

/* ---- Keys ------------------------------------------------------------- */

/*
 * Rekeys the database with a new random data key and rewraps every active
 * user's slot. Each slot holds an X25519 key pair whose secret half is sealed
 * under the user's password-derived key, and the data key is sealed to the
 * slot's public half, so the store can rewrap every slot without knowing any
 * password. Only the slot of an active user whose public key the store
 * recorded is rewrapped; any other line of the keyslot file (a disabled
 * user's put back, one added under a user's name) is dropped and counted in
 * *dropped (may be NULL). Needs STORE_PERM_KEYS.
 */
enum store_status store_key_rotate(struct store *st, size_t *dropped, char **errstr);

/*
 * A keyed hash (BLAKE2b under a store secret) of a lower-cased email
 * address, as 32 hex characters plus NUL. Used wherever an address must be
 * recognisable but not readable: the audit trail, the erasure list.
 */
void store_address_hash(const struct store *st, const char *address, char out[65]);

/* ---- Audit trail ------------------------------------------------------ */

/*
 * Appends a record. `object` and `details` may be NULL. Details must never
 * carry a secret or a plain email address: use store_address_hash.
 */
enum store_status store_audit(struct store *st, const char *action, const char *object,
			      const char *outcome, const char *details);

struct store_audit_record {
	int64_t id;
	const char *time; /* UTC, ISO 8601 */
	const char *user;
	const char *os_user;
	const char *action;
	const char *object;
	const char *outcome;
	const char *details;
};
struct store_audit_filter {
	time_t since; /* records written at this time or later; 0 for all */
	const char *user;
	const char *action; /* exact, or a prefix ending in '.' such as "user." */
};
typedef int (*store_audit_cb)(const struct store_audit_record *r, void *arg);

enum store_status store_audit_log(struct store *st, const struct store_audit_filter *f,
				  store_audit_cb cb, void *arg, char **errstr);
/*
 * Reserves one of the logged-in user's `max` actions since `since`, for
 * limits such as the daily cap on test sends. In one write transaction, so
 * that users running at once can't all pass the count: counts the user's
 * own `action` records since then that may have done something ("started"
 * ones less those that ended "failed"; or the "ok" ones, if more), and below
 * `max` appends a "started" record with object and details and sets
 * *reserved. The caller then records the outcome: "ok", "failed" (which
 * gives the reservation back) or anything else (which keeps it). *count is
 * the count before. Needs no permission: it reveals nothing of anybody
 * else's.
 */
enum store_status store_audit_reserve_own(struct store *st, const char *action, const char *object,
					  const char *details, time_t since, int64_t max,
					  int64_t *count, bool *reserved, char **errstr);
/*
 * Recomputes the hash chain. On a break returns STORE_ECORRUPT and sets
 * *bad_id to the first record whose hash does not match. After a pruning
 * (audit.retention) the chain starts from the anchor's hash; an anchor that
 * is not the first record, or that no audit.prune record names, is a break.
 * *count: the records checked, the anchor aside.
 */
enum store_status store_audit_verify(struct store *st, int64_t *bad_id, int64_t *count,
				     char **errstr);

/*
 * What the last pruning (audit.retention) left: the trail's first record is
 * then its anchor, kept for its hash alone, named by an audit.prune record.
 */
struct store_audit_prune {
	int64_t anchor;	 /* the anchor's number; 0 when the trail was never pruned */
	int64_t record;	 /* the audit.prune record naming it; 0 when there is none */
	int64_t removed; /* the records that pruning removed */
	int days;	 /* the retention it applied */
	char time[21];	 /* when it ran (UTC) */
	char before[21]; /* it removed only records written before this time */
};
/* Reads what the last pruning left into *p (STORE_PERM_AUDIT). */
enum store_status store_audit_pruned(struct store *st, struct store_audit_prune *p, char **errstr);

/*
 * A signed head of the audit trail (audit_head.c): the last record's number
 * and hash, the time, the signer and their Ed25519 public key, signed with
 * the signer's key, as lines of text to keep somewhere else. A later
 * `audit verify --head` checks the trail still holds that record with that
 * hash: nobody rewrote or cut it up to there.
 */
struct store_audit_head {
	int64_t record;
	unsigned char hash[32];
	char time[21];
	char signer[65];
	unsigned char key[32], sig[64];
};
/* Signs the head with the user's key (STORE_PERM_AUDIT; audited as audit.sign);
 * *text is the head written out, allocated. */
enum store_status store_audit_head_sign(struct store *st, char **text, char **errstr);
/* Reads a head written by store_audit_head_sign and checks its signature with
 * the key it names: STORE_EINVAL, saying why, when it is not one or does not
 * verify. Needs no store. */
enum store_status store_audit_head_parse(const char *text, size_t len, struct store_audit_head *h,
					 char **errstr);
/*
 * Checks a head against the trail: the record is there with that hash (run
 * store_audit_verify too: it checks the records up to it). STORE_ECORRUPT
 * when the trail no longer holds the head. *other_key: the head's key is not
 * the one the store holds for its signer now (an admin's reset of their
 * password makes a new one; or the head is another store's, whose records
 * then differ). *pruned is what the pruning that removed the head's record
 * left (the first audit.prune still in the trail whose anchor is at or after
 * it; else the last, store_audit_pruned): a head before the anchor, signed
 * before that pruning's cut-off, was removed by the retention, and is
 * STORE_OK; the anchor itself keeps its hash.
 */
enum store_status store_audit_head_check(struct store *st, const struct store_audit_head *h,
					 bool *other_key, struct store_audit_prune *pruned,
					 char **errstr);

/* ---- Settings --------------------------------------------------------- */

/* A key is a secret when its name ends in "password". */
bool store_config_is_secret(const char *key);
/* Known keys; setting an unknown key fails with STORE_EINVAL. */
bool store_config_known(const char *key);
/*
 * Checks a value for key as store_config_set does first, before the reading
 * module's check (below): UTF-8 with no character that store_char_is_unsafe
 * names, approvals.required a whole number up to 16, and no user or password
 * inside smtp.url. STORE_EINVAL with errstr saying why; errstr never holds
 * the value. Readers of settings stored before a check existed use it too
 * (the transport checks smtp.url with it).
 */
enum store_status store_config_check(const char *key, const char *value, char **errstr);
/*
 * Saves a setting after store_config_check and the check of the module that
 * reads the setting, when one is installed; STORE_EINVAL, saying why, for a
 * bad value. An empty value unsets it (store_config_unset; STORE_OK when it
 * was not set).
 */
enum store_status store_config_set(struct store *st, const char *key, const char *value,
				   char **errstr);
/* Removes a setting, so that its default holds again (a mistaken secret,
 * say); STORE_ENOTFOUND when it is not set. Needs STORE_PERM_SETTINGS;
 * audited as config.unset. */
enum store_status store_config_unset(struct store *st, const char *key, char **errstr);
/*
 * What a setting's value means is the business of the module that reads it,
 * which the store can't call (send/ depends on store/, not the other way).
 * The program installs that module's check once, at start (tui/main.c
 * installs send_setting_check), and store_config_set runs it, as
 * store_campaign_add and store_campaign_edit do on a campaign's From (as a
 * sender.from): it returns false, with *errstr (malloc'd) saying why, to
 * refuse a value. st is the store the value goes in, for a check against
 * the other settings. Without one, only the store's own checks run.
 */
typedef bool (*store_config_check_fn)(struct store *st, const char *key, const char *value,
				      char **errstr);
void store_config_set_checker(store_config_check_fn fn);
/*
 * *value is allocated (NULL and STORE_ENOTFOUND when unset). Secrets come back
 * in clear: for the program's own use, never to print.
 */
enum store_status store_config_get(struct store *st, const char *key, char **value, char **errstr);
typedef int (*store_config_cb)(const char *key, const char *value, bool secret, void *arg);
/* Lists settings; secret values are passed as "********". */
enum store_status store_config_list(struct store *st, store_config_cb cb, void *arg, char **errstr);

/* ---- Templates and DKIM keys ------------------------------------------------ */

struct store_template {
	char *name;
	char *kind;   /* "markdown" or "html" */
	char *layout; /* "plain", "newsletter" or "none" */
	char *source;
	char *text_source; /* the plain-text alternative of an HTML template, or NULL */
	char *author;
	time_t updated;
	size_t size; /* of source, in bytes; filled by store_template_list */
};
typedef int (*store_template_cb)(const struct store_template *t, void *arg);

/* Adds a template (replace false) or replaces one (true). Needs STORE_PERM_TEMPLATES. */
enum store_status store_template_save(struct store *st, const struct store_template *t,
				      bool replace, char **errstr);
/* *out is allocated; free it with store_template_free. */
enum store_status store_template_get(struct store *st, const char *name,
				     struct store_template **out, char **errstr);
void store_template_free(struct store_template **t);
/* Lists templates without their sources (source and text_source are NULL). */
enum store_status store_template_list(struct store *st, store_template_cb cb, void *arg,
				      char **errstr);
enum store_status store_template_copy(struct store *st, const char *name, const char *copy,
				      char **errstr);
/* The store's key for one-click unsubscribe tokens. */
enum store_status store_unsubscribe_key(struct store *st, unsigned char key[32]);

struct store_dkim_key {
	const char *domain;
	const char *selector;
	const char *alg;	 /* "rsa" or "ed25519" */
	const char *private_key; /* NULL unless asked for */
	const char *public_txt;	 /* the TXT value to publish */
	time_t created;
};
typedef int (*store_dkim_cb)(const struct store_dkim_key *k, void *arg);

/* Stores a key. Needs STORE_PERM_KEYS. */
enum store_status store_dkim_add(struct store *st, const struct store_dkim_key *k, char **errstr);
enum store_status store_dkim_rm(struct store *st, const char *domain, const char *selector,
				char **errstr);
/*
 * Calls cb for each key, of one domain or (domain NULL) all. Private keys are
 * passed only when with_private is true, valid during the call only: copy
 * into locked memory and wipe after use.
 */
enum store_status store_dkim_list(struct store *st, const char *domain, bool with_private,
				  store_dkim_cb cb, void *arg, char **errstr);

/* ---- Transactions ----------------------------------------------------- */

enum store_status store_begin(struct store *st);
/*
 * store_begin, with why it failed in *errstr, naming `what` ("importing: the
 * store is busy: another hato is writing to it...").
 */
enum store_status store_begin_err(struct store *st, char **errstr, const char *what);
enum store_status store_commit(struct store *st);
/* store_commit, with why it failed in *errstr ("saving the changes: the disk is full..."). */
enum store_status store_commit_err(struct store *st, char **errstr);
void store_rollback(struct store *st);

/* Lists, subscribers and segments; campaigns, their approvals and their send
 * queue: parts of this header. */
#include "store/subscribers.h"
#include "store/campaigns.h"

#endif
