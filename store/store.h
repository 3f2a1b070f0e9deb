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
 *   config.c    settings and secrets
 *   status.c    status strings and the small helpers every file shares
 *   address.c, fields.c, subscriber.c, list.c, import.c, import_csv.c, export.c,
 *   suppress.c, segment.c, segment_sql.c, segment_pii.c, browse.c, bounce.c: the people on
 *               the lists
 *               (subscribers_private.h)
 *   template.c  templates and DKIM keys as stored
 *   campaign.c, approval.c, campaign_version.c, queue.c, queue_admin.c:
 *               campaigns, their approvals and their send queue
 *               (campaign_private.h; declared in campaigns.h, which this
 *               header includes: include store.h, never campaigns.h alone)
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
 * *bad_id to the first record whose hash does not match.
 */
enum store_status store_audit_verify(struct store *st, int64_t *bad_id, int64_t *count,
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
 * bad value.
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
 * refuse a value. Without one, only the store's own checks run.
 */
typedef bool (*store_config_check_fn)(const char *key, const char *value, char **errstr);
void store_config_set_checker(store_config_check_fn fn);
/*
 * *value is allocated (NULL and STORE_ENOTFOUND when unset). Secrets come back
 * in clear: for the program's own use, never to print.
 */
enum store_status store_config_get(struct store *st, const char *key, char **value, char **errstr);
typedef int (*store_config_cb)(const char *key, const char *value, bool secret, void *arg);
/* Lists settings; secret values are passed as "********". */
enum store_status store_config_list(struct store *st, store_config_cb cb, void *arg, char **errstr);

/* ==== Lists and subscribers (address.c, list.c, subscriber.c) ========== */

#define STORE_ADDRESS_MAX 254

/*
 * Checks and normalises the address in[0..len): trims blanks around it,
 * lower-cases the domain (an IDN becomes A-labels), keeps the local part's
 * case and writes a quoted local part in one form: unquoted when it needs no
 * quotes ("a\b" is ab; "a..b" at a carrier is a..b), else with only '"' and
 * '\' escaped, so that one mailbox has one key. Carrier
 * addresses (a..b@docomo.ne.jp) pass for the Japanese carrier domains only.
 * On failure returns STORE_EINVAL and sets *reason (may be NULL) to a
 * constant sentence. No allocation.
 */
enum store_status store_address_normalise(const char *in, size_t len,
					  char out[STORE_ADDRESS_MAX + 1], const char **reason);
/* True for docomo.ne.jp, ezweb.ne.jp, au.com, softbank.ne.jp, i.softbank.jp. */
bool store_address_is_carrier(const char *domain);
/* The part after the last '@' (a pointer into address). */
const char *store_address_domain(const char *address);

struct store_list_info {
	const char *id, *name, *description;
	time_t created;
	int64_t active;	 /* active members that are not suppressed; -1 when not counted */
	int64_t members; /* all members; -1 when not counted */
};
typedef int (*store_list_cb)(const struct store_list_info *l, void *arg);

/*
 * Checks a list ID: store_name_check's rules, and no ".." nor a final '.'
 * (it names the list in the List-Id header). STORE_EINVAL saying why.
 */
enum store_status store_list_id_check(const char *id, char **errstr);
/*
 * List IDs follow store_list_id_check, and may not differ from an existing
 * list's only in case (STORE_EEXIST). name defaults to the id. Needs
 * STORE_PERM_LISTS.
 */
enum store_status store_list_add(struct store *st, const char *id, const char *name,
				 const char *description, char **errstr);
/* Removes the list, its memberships and segments (not the people), keeping each member's
 * consent record in their history (a list-removed event). Needs STORE_PERM_LISTS. */
enum store_status store_list_rm(struct store *st, const char *id, char **errstr);
/*
 * Calls cb for each list by id, with its members counted when counts is true
 * (a second or more for a million people). Needs STORE_PERM_SUBSCRIBERS_READ.
 */
enum store_status store_list_ls(struct store *st, bool counts, store_list_cb cb, void *arg,
				char **errstr);
/*
 * The list's number: stable for the life of the list and never reused, for
 * tokens (unsubscribe links) that must name a list compactly.
 */
enum store_status store_list_rowid(struct store *st, const char *id, int64_t *rowid, char **errstr);
/* The list with that number; *id is allocated. */
enum store_status store_list_by_rowid(struct store *st, int64_t rowid, char **id, char **errstr);
/* The list's display name ({{list.name}}), allocated; its id when it has none. */
enum store_status store_list_name(struct store *st, const char *id, char **name, char **errstr);
/* STORE_OK when the list exists, else STORE_ENOTFOUND with a sentence. */
enum store_status store_list_check(struct store *st, const char *id, char **errstr);

struct store_attr {
	const char *key, *value;
};

/* A consent record; any field may be NULL. `at` is ISO 8601 (default: now). */
struct store_consent {
	const char *source, *at, *method, *text, *ip;
};

struct store_membership {
	char *list, *status;
	char *consent_source, *consent_at, *consent_method, *consent_text, *consent_ip;
	time_t created, updated;
};
struct store_event {
	char *time, *event, *list, *details;
};
/* Everything hato holds about one person. Every string is allocated. */
struct store_subscriber {
	int64_t id;
	char *email, *domain, *name, *status;
	bool suppressed;
	time_t created, updated;
	struct store_attr *attrs; /* key and value allocated */
	size_t nattrs;
	struct store_membership *lists;
	size_t nlists;
	struct store_event *events;
	size_t nevents;
};

/*
 * Adds the person to the list (creating the person when new) with the
 * consent record. Never re-subscribes someone unsubscribed, bounced or
 * complained (STORE_EEXIST with a sentence), never adds a suppressed address
 * (STORE_EEXIST too: bad data, not a missing permission). Attributes given replace those of the
 * same key. Needs STORE_PERM_SUBSCRIBERS_WRITE.
 */
enum store_status store_subscriber_add(struct store *st, const char *list, const char *email,
				       const char *name, const struct store_attr *attrs,
				       size_t nattrs, const struct store_consent *consent,
				       char **errstr);
/* Unsubscribes from one list, or from every list and globally when list is NULL. */
enum store_status store_subscriber_unsubscribe(struct store *st, const char *email,
					       const char *list, char **errstr);
/*
 * Loads the person. *out is allocated; free with store_subscriber_free.
 * Needs SUBSCRIBERS_READ and, as every lookup of a person by address that
 * answers differently for a subscriber (show, add, unsubscribe, erase, data,
 * an address's suppression, a test send), STORE_PERM_PII: whether an address
 * is on file is what masking hides. store_subscriber_get_id opens a record
 * without it.
 */
enum store_status store_subscriber_get(struct store *st, const char *email,
				       struct store_subscriber **out, char **errstr);
void store_subscriber_free(struct store_subscriber **sub);
/*
 * A report applied to one person (`bounce read`), named by id (id > 0: a
 * VERP token whose MAC was checked) or else by address: "bounced" (only
 * while active) or "complained" (also suppressed). One transaction: status,
 * history event (details: codes, never an address; campaign 0 or its id),
 * suppression, audit ("bounce.read", the address hashed). *changed: the
 * status changed; *email (email may be NULL): the address, allocated.
 * STORE_ENOTFOUND: nobody on file. Needs SUBSCRIBERS_WRITE and PII.
 */
enum store_status store_subscriber_mark(struct store *st, int64_t id, const char *address,
					const char *status, int64_t campaign, const char *details,
					char **email, bool *changed, char **errstr);
/* Appends an event (a send, a bounce) to the person's history. */
enum store_status store_subscriber_event(struct store *st, int64_t subscriber, const char *event,
					 const char *list, const char *details, char **errstr);
/*
 * Writes everything held about the person as one JSON object (GDPR Art. 15
 * and 20), with the saved segments whose expression names the address.
 * Needs STORE_PERM_PII; audited with the address hash.
 */
enum store_status store_subscriber_data(struct store *st, const char *email, FILE *out,
					char **errstr);
/*
 * Erases the person (GDPR Art. 17): deletes the row, attributes, memberships,
 * consent records and history, writes "(erased)" in place of the address in
 * saved segments' expressions (which then match nobody by it), keeps the
 * keyed hash on the suppression list and checkpoints the WAL. Needs
 * STORE_PERM_SUBSCRIBERS_ERASE; audited with the count of segments changed.
 */
enum store_status store_subscriber_erase(struct store *st, const char *email, char **errstr);

/* ==== Browsing subscribers (browse.c) =================================== */

/*
 * A page of subscribers by keyset pagination, for the terminal UI's browser:
 * each page is read from an index from where the last one ended, so a page
 * costs the same at row 10 as at row 1,000,000 and nothing is ever loaded
 * whole.
 *
 * Without a search every subscriber is one part, sorted by address (ASCII
 * case ignored). With a search the result has two parts: part 0, the
 * addresses that start with the text, sorted by address; then part 1, the
 * names that start with it (and whose address does not), sorted by name.
 * Both are index range scans (migration 5), so a search keystroke is as fast
 * as a page. Only prefixes are searched: a substring search cannot use an
 * index and would scan every row. Users without STORE_PERM_PII search names
 * only, so that a search can't reveal which addresses are on file.
 *
 * The list and status filters are checked row by row along the index: fast
 * when they match many people, slower the fewer they match.
 */
struct store_browse {
	const char *list;   /* members of this list (any membership status), or NULL */
	const char *status; /* active, unsubscribed, bounced, complained or suppressed; or NULL */
	const char *search; /* prefix of the address or the name; NULL or "" for all */
	int64_t anchor;	    /* 0: from the start (or the end, backward); else a row's id */
	int anchor_part;    /* the part of the anchor row (struct store_browse_row.part) */
	bool backward;	    /* rows before the anchor instead of after it */
	int limit;	    /* rows wanted, 1 to 1000 */
};

/* One row; the strings are valid during the callback only. */
struct store_browse_row {
	int64_t id;
	int part;	   /* 0: sorted by address; 1: a name match of a search */
	const char *email; /* masked without STORE_PERM_PII */
	const char *name;
	const char *status; /* "suppressed" for an active, suppressed address */
	time_t created;
};
typedef int (*store_browse_cb)(const struct store_browse_row *r, void *arg);

/*
 * Calls cb for up to q->limit rows in display order (ascending, even when
 * q->backward), starting after (or ending before) the anchor. A non-zero
 * return from cb stops. STORE_ENOTFOUND when the anchor row is gone (erased
 * meanwhile: start again from the top); STORE_EINVAL for an unknown status.
 * Needs STORE_PERM_SUBSCRIBERS_READ.
 */
enum store_status store_subscriber_page(struct store *st, const struct store_browse *q,
					store_browse_cb cb, void *arg, char **errstr);
/*
 * store_subscriber_get by the row's id, so that a browser that only shows
 * masked addresses can open a record. SUBSCRIBERS_READ only: a row names
 * nobody.
 */
enum store_status store_subscriber_get_id(struct store *st, int64_t id,
					  struct store_subscriber **out, char **errstr);

/* ==== Import and export (import.c, export.c) ============================ */

struct store_import_stats {
	uint64_t rows;		    /* data rows read */
	uint64_t imported;	    /* added to the list */
	uint64_t updated;	    /* already on the list: attributes updated */
	uint64_t invalid;	    /* refused; each written to the rejects file */
	uint64_t duplicate;	    /* repeated an earlier row of the file */
	uint64_t suppressed;	    /* on the suppression list: left out */
	uint64_t kept_unsubscribed; /* of the updated: unsubscribed, and left so */
};

struct store_import_opts {
	FILE *rejects; /* CSV: line,reason,fields...; may be NULL */
	/*
	 * When rejects is NULL and this is not: called once, on the import's
	 * reading thread, at the first rejected row, to open the rejects file,
	 * so that a file is made only when needed. Returns it (the caller's to
	 * close), or NULL with *errstr (allocated) saying why; the import then
	 * fails with STORE_EIO.
	 */
	FILE *(*open_rejects)(void *rejects_arg, char **errstr);
	void *rejects_arg;
	const char *rejects_name; /* for messages: "cannot write NAME: ..." */
	const char *source;	  /* default consent source, e.g. "import contacts.csv" */
	/* Called now and then with the bytes read so far. */
	void (*progress)(uint64_t bytes, uint64_t rows, void *arg);
	void *arg;
	/* When not NULL and it becomes nonzero (a signal handler may set it),
	 * the import stops within a tenth of a second and is rolled back. */
	volatile sig_atomic_t *stop;
};

/*
 * Imports a CSV file (RFC 4180, UTF-8, optional BOM) into the list in one
 * transaction. The header must name an `email` column; `name`,
 * `consent_source`, `consent_at`, `consent_text`, `consent_method` and
 * `consent_ip` are recognised, every other column is an attribute. Bad rows
 * are counted and written to o->rejects, never dropped silently. Streams:
 * memory does not grow with the file. `in` must be seekable for the parser to
 * resynchronise after an unbalanced quote. The rejects are flushed and
 * synced to the disk before the import commits. Returns STORE_EINVAL when
 * the file is not CSV or has no email column, STORE_EINTR when o->stop was
 * set, STORE_EIO when the rejects can't be written; the store is then
 * unchanged, and the audit trail says why it failed. Needs
 * STORE_PERM_SUBSCRIBERS_WRITE.
 */
enum store_status store_subscriber_import(struct store *st, const char *list, FILE *in,
					  const struct store_import_opts *o,
					  struct store_import_stats *stats, char **errstr);

enum store_export_flags {
	/* Every cell byte for byte, for an import into hato; unsafe to open in a
	 * spreadsheet. */
	STORE_EXPORT_RAW = 1,
};

/*
 * Writes the list's active members as CSV, every cell quoted: email, name,
 * consent_source, consent_at, consent_method, consent_text, consent_ip, then
 * one column per attribute key, every key any member has. Unless flags hold
 * STORE_EXPORT_RAW, a cell a spreadsheet would run as a formula (one that
 * starts with = + - @, a tab or a CR, and is not a decimal number such as
 * -5) starts with ' instead (OWASP's advice on CSV injection), the attribute
 * names of the header included. Needs STORE_PERM_SUBSCRIBERS_EXPORT and
 * STORE_PERM_PII (masked addresses would import as other people); audited
 * with the row count, and whether it was raw.
 */
enum store_status store_list_export(struct store *st, const char *list, FILE *out, unsigned flags,
				    int64_t *rows, char **errstr);

/* ==== Suppression (suppress.c) ========================================== */

/*
 * Suppresses an address (kept as a keyed hash, with the address itself while
 * the person is on file) or a whole domain ("@example.com"). Needs
 * STORE_PERM_SUBSCRIBERS_WRITE, and STORE_PERM_PII for an address; audited.
 * Idempotent: what is on the list already stays as it was, reason and date
 * included, and nothing is audited; then *already (when already is not NULL)
 * is an allocated sentence, "ADDR is already on the suppression list (since
 * DATE, reason: R)", the address masked without pii and the reason given only
 * to those who may read the list (STORE_PERM_SUBSCRIBERS_READ). Otherwise
 * *already is NULL.
 */
enum store_status store_suppress_put(struct store *st, const char *what, const char *reason,
				     char **already, char **errstr);
/* store_suppress_put without the sentence. */
enum store_status store_suppress_add(struct store *st, const char *what, const char *reason,
				     char **errstr);
/* Takes an address or domain off the list; STORE_EEXIST for the entry an
 * erasure left, which stays for good. Permissions as store_suppress_add. */
enum store_status store_suppress_rm(struct store *st, const char *what, char **errstr);

struct store_suppression {
	const char *kind;    /* "address" or "domain" */
	const char *value;   /* the hash, or the domain */
	const char *address; /* the address when known (masked without pii), else NULL */
	const char *reason, *created, *by;
};
typedef int (*store_suppression_cb)(const struct store_suppression *s, void *arg);
enum store_status store_suppress_ls(struct store *st, store_suppression_cb cb, void *arg,
				    char **errstr);
/*
 * May mail go to this address at all? *why stays NULL when it may: it is on
 * no suppression list (the address, an erased person's hash, its domain)
 * and, when it belongs to a subscriber, that person is active and has not
 * left `list` (NULL: any list). Otherwise *why (allocated) says why not.
 * For test sends; needs STORE_PERM_CAMPAIGNS_EDIT and STORE_PERM_PII.
 */
enum store_status store_address_mailable(struct store *st, const char *address, const char *list,
					 char **why, char **errstr);
/* Is the (normalised) address suppressed, by hash or by domain? */
enum store_status store_suppressed(struct store *st, const char *address, bool *out, char **errstr);

/* ==== Segments (segment.c, segment_sql.c) =============================== */

/*
 * The filter language:
 *   expr   := or ; or := and ("or" and)* ; and := unary ("and" unary)*
 *   unary  := "not" unary | "(" expr ")" | cond
 *   cond   := field op value | field "in" "(" value ("," value)* ")"
 *           | field "is" ["not"] "set" | "created" "within" N("d"|"h"|"w")
 *   field  := email | name | domain | status | created | attr.KEY | attr."KEY"
 *   op     := = != < <= > >= contains starts_with ends_with
 *   value  := "string" | number | YYYY-MM-DD[THH:MM:SS[Z]]
 * Checks the expression without a store. On a syntax error returns
 * STORE_EINVAL with "column N: expected ..., found ...".
 */
enum store_status store_segment_check(const char *expr, char **errstr);

enum store_status store_segment_add(struct store *st, const char *name, const char *list,
				    const char *expr, char **errstr);
enum store_status store_segment_rm(struct store *st, const char *name, char **errstr);
struct store_segment_info {
	const char *name, *list, *expr, *created, *by;
};
typedef int (*store_segment_cb)(const struct store_segment_info *s, void *arg);
/* Lists the saved segments, each expression as store_segment_mask shows it. */
enum store_status store_segment_ls(struct store *st, store_segment_cb cb, void *arg, char **errstr);
/*
 * The expression as the user may see it: without STORE_PERM_PII each of its
 * strings that holds an address is masked as store_mask_address masks one
 * (email = "b***@example.jp"), and a string compared with email hides even
 * without an '@' (email starts_with "***"); the expression as it is
 * otherwise. Allocated; NULL when out of memory.
 */
char *store_segment_mask(const struct store *st, const char *expr);
/* The saved segment's list and expression as saved, both allocated: for
 * evaluating it; show it through store_segment_mask. */
enum store_status store_segment_get(struct store *st, const char *name, char **list, char **expr,
				    char **errstr);

/*
 * Counts the recipients of (list, expr): active people, active on the list,
 * not suppressed by address or domain, matching expr (NULL or "" = all).
 * Needs STORE_PERM_SUBSCRIBERS_READ or STORE_PERM_CAMPAIGNS_READ.
 */
enum store_status store_segment_count(struct store *st, const char *list, const char *expr,
				      int64_t *count, char **errstr);

struct store_recipient {
	int64_t id;
	const char *email, *name, *domain;
	const struct store_attr *attrs;
	size_t nattrs;
};
/* Non-zero from the callback stops the walk (STORE_OK is returned). */
typedef int (*store_recipient_cb)(const struct store_recipient *r, void *arg);
/*
 * Calls cb for each recipient of (list, expr) in a stable order (subscriber
 * id ascending), evaluated when called. For the campaign worker: every
 * address is checked against the suppression list once more. Pointers are
 * valid during the call only.
 */
enum store_status store_segment_recipients(struct store *st, const char *list, const char *expr,
					   store_recipient_cb cb, void *arg, char **errstr);

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
enum store_status store_commit(struct store *st);
/* store_commit, with why it failed in *errstr ("saving the changes: the disk is full..."). */
enum store_status store_commit_err(struct store *st, char **errstr);
void store_rollback(struct store *st);

/* Campaigns, their approvals and their send queue: a part of this header. */
#include "store/campaigns.h"

#endif
