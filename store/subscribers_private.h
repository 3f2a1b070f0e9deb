/*
 * store/subscribers_private.h: what the subscriber files of store/ share
 * (address.c, list.c, subscriber.c, import.c, import_csv.c, export.c,
 * suppress.c, segment.c, segment_lex.c, segment_num.c, segment_sql.c, segment_pii.c).
 * Nothing outside store/ may include this file, except white-box tests under
 * tests/store/.
 */
#ifndef HATO_STORE_SUBSCRIBERS_PRIVATE_H
#define HATO_STORE_SUBSCRIBERS_PRIVATE_H

#include <csv.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "store/private.h"

/*
 * Attributes are kept in one BLOB per subscriber: a sequence of
 * varint(key length) key varint(value length) value, keys unique, in the
 * order they were first set. Keys and values are UTF-8 without NUL.
 */
struct attrs_buf {
	unsigned char *p;
	size_t n, cap;
};

/* Appends a pair. 0, or -1 when out of memory. */
int attrs_put(struct attrs_buf *b, const char *k, size_t kl, const char *v, size_t vl);
/* Reads the pair at *pos: 1 when read, 0 at the end, -1 when the blob is damaged. */
int attrs_next(const unsigned char *p, size_t n, size_t *pos, const char **k, size_t *kl,
	       const char **v, size_t *vl);
/* Looks a key up: 1 when found. */
int attrs_find(const unsigned char *p, size_t n, const char *key, size_t kl, const char **v,
	       size_t *vl);
/* out := old with new's pairs set over it. 0, or -1. out must be empty. */
int attrs_merge(struct attrs_buf *out, const unsigned char *old, size_t on, const unsigned char *nw,
		size_t nn);
void attrs_free(struct attrs_buf *b);
/* Decodes into an array of allocated pairs (*out allocated). */
enum store_status attrs_decode(const unsigned char *p, size_t n, struct store_attr **out,
			       size_t *nout);
void attrs_array_free(struct store_attr *a, size_t n);

/* Registers hato_attr(), hato_numcmp(), hato_contains() and friends. */
enum store_status store_sql_functions(struct store *st, char **errstr);

/* Suppression of a normalised address, by hash or by domain. */
enum store_status suppress_check(struct store *st, const char *address, bool *out);
/*
 * suppress_check, and when suppressed (and kind not NULL) the entry's kind
 * ("address" or "domain"; the address's own entry first) and reason ("" for
 * none) in *kind and *reason, allocated; the caller frees them.
 */
enum store_status suppress_entry(struct store *st, const char *address, bool *out, char **kind,
				 char **reason);

/*
 * store_address_hash in one call to BLAKE2b instead of one per byte: the
 * same digest (the import computes one per row). out is the caller's.
 */
void subscriber_hash(const struct store *st, const char *address, char out[65]);

/*
 * Subscriber ids are never reused, so that a token naming an erased person
 * can never name someone else: *first is the first free id, and `take` ids
 * from it are marked used (take may be 0 to just look).
 */
enum store_status subscriber_ids(struct store *st, int64_t take, int64_t *first, char **errstr);

/* ---- The values of a person's record (fields.c) --------------------- */

/* The columns an import reads as such (email, name, consent_*, and the
 * reject_line and reject_reason a rejects file starts with, which it skips):
 * every other column is an attribute. */
#define SUBSCRIBER_NCOLUMNS 11
extern const char *const subscriber_columns[SUBSCRIBER_NCOLUMNS];

#define SUBSCRIBER_MAX_NAME 256
#define SUBSCRIBER_MAX_KEY 128
#define SUBSCRIBER_MAX_WORD 1024 /* a consent's source, method or version */

enum subscriber_field {
	SF_NAME,       /* text on one line, at most 256 bytes */
	SF_ATTR_KEY,   /* text on one line, 1 to 128 bytes, not a column's name */
	SF_WORD,       /* text on one line, at most 1024 bytes: consent source, method, version */
	SF_FREE_TEXT,  /* any text: attribute values, consent text */
	SF_CONSENT_IP, /* empty, or an IPv4 or IPv6 address */
};

/* Why v[0..n) is refused as field f, as a phrase ("is not valid UTF-8"), or
 * NULL. Every field is UTF-8 without a NUL byte. */
const char *subscriber_field_why(enum subscriber_field f, const char *v, size_t n);
/*
 * Copies in[0..n) to out (cap bytes, NUL-terminated) with each label after
 * the last "@" (or each label, without one) that is not ASCII written as its
 * lower-case A-label, as the store keeps domains: a segment's ".テスト"
 * becomes ".xn--zckzah". A label that is no IDNA2008 label stays as it is.
 * 0, or -1 when out is too small (address.c).
 */
int address_alabels(const char *in, size_t n, char *out, size_t cap);
/* Are a[0..an) and b[0..bn) the same attribute name? Byte for byte: case counts. */
int subscriber_key_same(const char *a, size_t an, const char *b, size_t bn);
/*
 * Drops the spaces and tabs around the attribute name k[0..*n), as an
 * import drops them around its header's names.
 */
void subscriber_key_trim(const char **k, size_t *n);
/*
 * Copies of a person's name ("" for NULL) and attributes as the store
 * keeps them, for subscriber_check_fields to check: attribute names
 * trimmed (subscriber_key_trim), and all in NFC (store_nfc). The caller
 * frees *nname, and *nattr with attrs_array_free, also after a failure.
 * STORE_OK or STORE_ENOMEM.
 */
enum store_status subscriber_kept_fields(const char *name, const struct store_attr *attrs,
					 size_t nattrs, char **nname, struct store_attr **nattr);
/*
 * Migration 16 (store/schema.c): the names and attributes of the people of
 * a store written before, as subscriber_kept_fields keeps them.
 */
enum store_status subscriber_keep_all(struct store *st, char **errstr);
/* The values `subscriber add` is given, checked as an import checks them:
 * STORE_EINVAL with a sentence naming the bad one; STORE_EUSAGE for an
 * attribute given twice. */
enum store_status subscriber_check_fields(const char *name, const struct store_attr *attrs,
					  size_t nattrs, const struct store_consent *c,
					  char **errstr);
int subscriber_utf8_ok(const char *s, size_t n);
/* Does s[0..n) hold a C0 control character (line breaks included) or DEL? */
int subscriber_has_ctl(const char *s, size_t n);

/*
 * A person's standing on a list, ?1 the list and ?2 the subscriber id: 1 a
 * member, 0 unsubscribed from it, NULL neither. Unsubscribed also when the
 * membership went with the list (list rm) but the history says the person
 * left a list of that name, in any case (list IDs may not differ only in
 * case): no import or add brings them back.
 */
#define SUBSCRIBER_MEMBER_SQL                                                                      \
	"SELECT COALESCE((SELECT status = 'active' FROM memberships WHERE list = ?1 AND"           \
	" subscriber = ?2), (SELECT 0 FROM subscriber_events WHERE subscriber = ?2 AND"            \
	" list = ?1 COLLATE NOCASE AND event = 'unsubscribed' LIMIT 1))"

/* store_subscriber_get of a normalised address, without its permission checks. */
enum store_status subscriber_load(struct store *st, const char *address,
				  struct store_subscriber **out, char **errstr);
/*
 * The record as a user without pii may see it (the address itself aside,
 * which the caller masks: it needs it whole to act on the person): every
 * address in the free text masked, wherever it was written (a name, an
 * attribute, a consent record, an SMTP reply in the history), and the
 * consent IP hidden, in the memberships and in the consent kept in the
 * history of a removed list. For a user with pii, nothing changes.
 * (subscriber_mask.c)
 */
enum store_status subscriber_mask(const struct store *st, struct store_subscriber *p);

/* Looks up a normalised address: id (0 when absent) and status. */
enum store_status subscriber_find(struct store *st, const char *address, int64_t *id,
				  char status[16], char **errstr);
/* Normalises for a command: STORE_EINVAL with "not a valid address: reason". */
enum store_status subscriber_norm(const char *in, char out[STORE_ADDRESS_MAX + 1], char **errstr);

/*
 * Parses an ISO 8601 date, or date and time, into UTC "YYYY-MM-DDTHH:MM:SSZ"
 * (*t the same as a time_t when t is not NULL): 2025-06-01 or 20250601,
 * then optionally T (or a space) and HH:MM[:SS] or HHMM[SS], a fraction of
 * a second (dropped), and Z, +HH:MM, +HHMM or +HH (none: UTC). -1 when bad
 * (fields.c).
 */
int store_iso_norm(const char *in, size_t len, char out[21], time_t *t);
/* How far ahead of the clock a consent time may be: another computer's clock may run fast. */
#define SUBSCRIBER_CONSENT_SKEW (24 * 3600)
/*
 * A consent time, as an import's consent_at or subscriber add's: NULL with
 * out set to its UTC form, or why v[0..n) is refused, as a phrase ("is in the
 * future: ..."). now is the time of the import (fields.c).
 */
const char *subscriber_consent_at_why(const char *v, size_t n, time_t now, char out[21]);
/*
 * A double opt-in's confirmation time: as subscriber_consent_at_why, and
 * not before at (the consent time in its UTC form) when at is not NULL.
 */
const char *subscriber_confirmed_why(const char *v, size_t n, time_t now, const char *at,
				     char out[21]);

/* A compiled segment: SQL text for a WHERE clause and its bound values. */
enum seg_bind_type { SEG_TEXT, SEG_INT };
struct seg_bind {
	enum seg_bind_type type;
	char *text;
	int64_t i;
};
struct seg_sql {
	char *where; /* "1" for an empty expression */
	struct seg_bind *binds;
	size_t nbinds;
	/* A condition on email, or a value holding an "@" on any field: counting
	 * it needs STORE_PERM_PII. */
	bool tests_email;
};
/* Below this many subscriber ids a segment count runs on one thread
 * (segment_sql.c; white-box tests lower it). */
extern int64_t store_count_split_min;
/*
 * Parses and compiles; `now` resolves "within"; `masked` for a user who may
 * not see addresses, to whom a name or attribute holding one reads as not
 * set.
 */
enum store_status segment_compile(const char *expr, time_t now, bool masked, struct seg_sql *out,
				  char **errstr);
void segment_sql_free(struct seg_sql *s);
/*
 * Called for each string an expression holds, in order: where its token is
 * in the text (expr[start..end), quotes included), its value (unescaped;
 * valid during the call) and whether it is compared with email.
 */
typedef void (*segment_string_cb)(size_t start, size_t end, const char *value, size_t len,
				  bool email, void *arg);
/* Parses expr (as segment_compile) and calls cb for each of its strings. */
enum store_status segment_strings(const char *expr, segment_string_cb cb, void *arg, char **errstr);

/* ---- Addresses inside saved segments (segment_pii.c) -------------------- */

/* Called with a saved segment that names an address; non-zero stops. */
typedef int (*segment_named_cb)(const char *name, const char *list, const char *expr, void *arg);
/*
 * Calls cb for each saved segment whose expression names the normalised
 * address in one of its strings (compared as the store compares addresses:
 * case aside, IDN domains as A-labels), sorted by name.
 */
enum store_status segment_each_naming(struct store *st, const char *address, segment_named_cb cb,
				      void *arg, char **errstr);
/*
 * Writes SEGMENT_ERASED in place of the address wherever a saved segment's
 * expression names it, keeping each expression valid; *changed counts the
 * segments changed. For an erasure, inside its transaction.
 */
#define SEGMENT_ERASED "(erased)"
enum store_status segment_erase_address(struct store *st, const char *address, int64_t *changed,
					char **errstr);

/* ---- Consent records an erasure keeps (consent.c) ------------------------ */

/*
 * Inside an erasure's transaction, before the person is deleted: when a mail
 * went out to them (sent or uncertain) less than CONSENT_HOLD before now,
 * copies their consent records, with the address and its hash h, into
 * consent_held until CONSENT_HOLD after that mail; *until is then that time,
 * else 0.
 */
enum store_status consent_hold(struct store *st, int64_t id, const char *addr, const char *h,
			       time_t now, time_t *until, char **errstr);

/* ---- Importing CSV (import.c, import_csv.c) ------------------------------ */

/* A file's columns: a wide export from another tool (10,000 columns) still
 * imports; a row stays within 1 MiB whatever the columns. */
#define IMPORT_MAX_COLUMNS 16384

/* The record being parsed: its fields, each NUL-terminated, one after another in buf. */
struct import_row {
	char *buf;
	size_t n, cap;
	size_t *off, *len;
	size_t nf, capf;
	size_t fields; /* counted even past capf */
	int nul;       /* a field held a NUL byte */
};

/*
 * A row read and checked on the import's reading thread, waiting in the
 * queue for the database (import_queue.c). buf holds the name, the
 * attributes and the consent's fields, each followed by a NUL.
 */
enum { R_NAME, R_ATTRS, R_SOURCE, R_AT, R_METHOD, R_TEXT, R_IP, R_VERSION, R_CONFIRMED, R_FIELDS };
#define R_CONSENT (R_FIELDS - R_SOURCE) /* the consent's fields, from R_SOURCE on */
struct import_ready {
	uint64_t line;
	char addr[STORE_ADDRESS_MAX + 1];
	char hash[65];	 /* its keyed hash, when the suppression list is not empty */
	bool maybe_supp; /* the filter of the suppression list has its hash or domain */
	size_t off[R_FIELDS], len[R_FIELDS];
	char *buf;
	size_t n, cap;
};

#define IMPORT_QUEUE_ROWS 256
#define IMPORT_BATCH 32 /* rows the database side writes with one INSERT */
#define IMPORT_QUEUE_BYTES (4u << 20)
#define IMPORT_SLOT_KEEP (64u << 10) /* a slot's buffer kept for the next row */

struct import_queue {
	pthread_mutex_t mu;
	pthread_cond_t can_put, can_take;
	struct import_ready slot[IMPORT_QUEUE_ROWS];
	size_t head, count, bytes;
	int closed;  /* the reader has finished */
	int stopped; /* the database side gave up: the reader stops */
	int put_waiting, take_waiting;
	size_t take_want; /* the rows the database side waits for */
};

int import_queue_init(struct import_queue *q);
void import_queue_free(struct import_queue *q);
/* Reader: a free slot to fill (waits for one), or NULL once stopped. */
struct import_ready *import_queue_slot(struct import_queue *q);
/* Reader: hands over the slot just filled. */
void import_queue_put(struct import_queue *q, struct import_ready *r);
/* Reader: no more rows. */
void import_queue_close(struct import_queue *q);
/*
 * Database side: the max oldest rows, out[0] the oldest, waiting up to
 * wait_ms for them; fewer only when the reader has closed, or waits for
 * room because the rows are big. The number of rows, 0 when they did not
 * come in time, -1 when the reader has closed and all are taken. The rows
 * stay the caller's until import_queue_done(q, that number).
 */
int import_queue_take(struct import_queue *q, int wait_ms, struct import_ready **out, size_t max);
void import_queue_done(struct import_queue *q, size_t n);
/* Database side: gives up; the reader stops at its next row. */
void import_queue_stop(struct import_queue *q);
/* Appends n bytes and a NUL to r->buf; *off gets where. 0, or -1. */
int import_ready_add(struct import_ready *r, const void *p, size_t n, size_t *off);

/* One import under way. */
/* What an import's column is: an attribute, or the columns of subscriber_columns in their order. */
enum import_column {
	C_ATTR,
	C_EMAIL,
	C_NAME,
	C_SOURCE,
	C_AT,
	C_TEXT,
	C_METHOD,
	C_IP,
	C_VERSION,
	C_CONFIRMED,
	C_RLINE,
	C_RREASON
};

struct import {
	struct store *st;
	const char *list;
	const struct store_import_opts *o;
	struct store_import_stats *stats;
	char **errstr;
	enum store_status s; /* a failure that ends the import */
	struct csv_parser p;
	struct import_row row;
	int have_header;
	size_t ncols;
	int *kind;   /* per column: enum import_column */
	char **name; /* header names */
	uint64_t line, rec_line;
	off_t off, rec_off, next_line_off;
	int resync;
	/*
	 * The first and last lines of a rejected record that spanned lines,
	 * written to the rejects file whole. Its lines are read again as rows, so that a stray
	 * quote swallows no good row; what fails again among them is a piece of
	 * that record, already reported, and is neither counted nor written.
	 */
	uint64_t covered_from, covered;
	FILE *rejects;	 /* o->rejects, or the file o->open_rejects gave */
	int rejects_bad; /* it could not be opened or written: the import fails */
	int64_t base_id, next_id, now;
	int any_supp; /* is the suppression list not empty? */
	/*
	 * A Bloom filter of the suppression list's values (import_supp_load):
	 * supp_mask + 1 bits, set by SipHash under supp_key. Read-only once
	 * the reader starts.
	 */
	unsigned char *supp_bits;
	uint64_t supp_mask;
	unsigned char supp_key[16];
	char now_iso[21];
	sqlite3_stmt *find, *ins_sub, *upd_sub, *find_mem, *fill_mem, *supp, *seen, *mark;
	sqlite3_stmt *ins_subs, *ids_in;	 /* IMPORT_BATCH people; which of them went in */
	sqlite3_stmt *ins_mem[IMPORT_BATCH + 1]; /* n memberships, prepared at first use */
	struct attrs_buf attrs, merged;
	char *nfc[2]; /* the row's last attribute value, and its name, put in NFC */
	/*
	 * The reading thread owns the parser, the row and attrs, im->s and
	 * *errstr, and stats->rows and stats->invalid until it ends. The
	 * database side owns the statements, merged, db_s and db_err and the
	 * other counts, and reports progress from what the reader publishes
	 * here. Only the reader writes to the rejects file.
	 */
	struct import_queue q;
	enum store_status db_s;
	char *db_err;
	_Atomic uint64_t read_bytes, read_rows;
};

/* The database side (import_db.c). */
/* Prepares the import's statements; import_db_finalize finalizes them. */
enum store_status import_db_prepare(struct import *im);
void import_db_finalize(struct import *im);
/*
 * Reader: may the address, with its keyed hash, be on the suppression list?
 * false only when it is not; true sends it to the database to be sure.
 */
bool import_supp_maybe(const struct import *im, const char *hash, const char *address);
/* Writes n (at most IMPORT_BATCH) checked rows, in order. A failure is in im->db_s. */
void import_db_apply(struct import *im, struct import_ready *const *rows, size_t n);

/* Writes the rejects file's header line (line,reason, then the columns). */
void import_rejects_header(struct import *im);
/* Counts a rejected row and writes it to the rejects file (its fields too when with_fields). */
void import_reject(struct import *im, uint64_t line, const char *reason, int with_fields);
/* The same with text (a line as it is in the file) in place of the fields. */
void import_reject_text(struct import *im, uint64_t line, const char *reason, const char *text,
			size_t n);
/* Takes the parsed row as the header: checks and keeps the columns' names and kinds. */
enum store_status import_header(struct import *im);
/* Checks the parsed data row and queues it for the database, or rejects it. */
void import_data_row(struct import *im);
/* Starts the CSV parser afresh, dropping any row it holds. */
void import_parser_reset(struct import *im);
/* Reads and parses `in` to its end, handing each row to import_header or import_data_row. */
enum store_status import_read_all(struct import *im, FILE *in);
/* Ends the parse at the end of the file, going back to re-read after a bad last record. */
enum store_status import_finish(struct import *im, FILE *in);

#endif
