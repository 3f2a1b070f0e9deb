/*
 * store/subscribers.h: the lists, subscribers and segments part of the
 * store's public header, kept in a file of its own for size. store/store.h
 * includes it at its end; include store/store.h, never this file alone. See
 * store.h for the module, its files and its error contract.
 */
#ifndef HATO_STORE_SUBSCRIBERS_H
#define HATO_STORE_SUBSCRIBERS_H

#ifndef HATO_STORE_H
#error "include store/store.h, which includes this file"
#endif

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

/*
 * A consent record; any field may be NULL. `at` is ISO 8601 (default: now);
 * `version` names the version of the text agreed to; `confirmed` is when a
 * double opt-in was confirmed, ISO 8601, not before `at`.
 */
struct store_consent {
	const char *source, *at, *method, *text, *ip, *version, *confirmed;
};

struct store_membership {
	char *list, *status;
	char *consent_source, *consent_at, *consent_method, *consent_text, *consent_ip;
	char *consent_version, *consent_confirmed; /* "" when not known */
	time_t created, updated;
};
struct store_event {
	char *time, *event, *list, *details;
};
/*
 * Everything hato holds about one person. Every string is allocated. For a
 * user without STORE_PERM_PII (store_subscriber_get_id) the record comes
 * masked, except `email` (whole, to act on; show it through
 * store_mask_address): each address written in a name, an attribute, a
 * consent record or the history's details masked as store_mask_text masks
 * it, each consent IP STORE_IP_HIDDEN, and the IP of the consent a removed
 * list's history keeps "(hidden)".
 */
#define STORE_IP_HIDDEN "(IP hidden)"
struct store_subscriber {
	int64_t id;
	char *email, *domain, *name, *status;
	bool suppressed; /* by the address's entry or its domain's: never mailed */
	/* When suppressed, the entry's kind ("address" or "domain") and reason
	 * ("" for none); else NULL. */
	char *suppressed_by, *suppression_reason;
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
/*
 * Unsubscribes from one list, or from every list and globally when list is
 * NULL. *already (when not NULL) is set when there was nothing to change:
 * nothing is then recorded, in the person's history or in the audit trail.
 */
enum store_status store_subscriber_unsubscribe(struct store *st, const char *email,
					       const char *list, bool *already, char **errstr);
/*
 * The same from one list, for the person who followed the unsubscribe link
 * of a message: the link's token names them by id and the list by number
 * (its MAC is checked by the caller, send_unsubscribe_link). The list's ID
 * goes to list. Needs STORE_PERM_SUBSCRIBERS_WRITE only: no address is
 * looked up or shown. STORE_ENOTFOUND when the person was erased or the
 * list removed since. how is the history's word for it.
 */
enum store_status store_subscriber_unsubscribe_link(struct store *st, int64_t subscriber,
						    int64_t list_num, const char *how,
						    char list[65], bool *already, char **errstr);
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
/*
 * Why p is suppressed, for display: "by its address" or "by its domain",
 * then "; reason: R" when the entry has one. "" when p is not suppressed.
 */
void store_subscriber_why_suppressed(const struct store_subscriber *p, char *out, size_t n);
void store_subscriber_free(struct store_subscriber **sub);
/*
 * A complaint about the message of a campaign to a person erased since (the
 * VERP token names them): counted in the campaign's complaints, once;
 * *counted false when it was already. Needs STORE_PERM_SUBSCRIBERS_WRITE.
 */
enum store_status store_complaint_of_erased(struct store *st, int64_t campaign, int64_t id,
					    bool *counted, char **errstr);
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
 * When a mail went out to the person within the last month, their consent
 * records and address stay until a month after it (the Act on Specified
 * Electronic Mail), and *held_until (when not NULL) is that time; else 0.
 * The first login after it deletes them. `subscriber data` shows them.
 */
enum store_status store_subscriber_erase(struct store *st, const char *email, time_t *held_until,
					 char **errstr);

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
 * only, and not those that hold an "@", so that a search can't reveal which
 * addresses are on file, nor spell out one written as a name.
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
	int part;	    /* 0: sorted by address; 1: a name match of a search */
	const char *email;  /* masked without STORE_PERM_PII */
	const char *name;   /* an address in it masked (store_mask_text) without pii */
	const char *status; /* "suppressed" for an active person whose address or domain is */
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
 * nobody. Without STORE_PERM_PII the record comes masked (struct
 * store_subscriber).
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

#endif
