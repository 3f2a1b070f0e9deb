/*
 * store/import_db.c: an import's database side. The rows the reader has
 * checked are written here, in file order, in the import's one transaction.
 *
 * New people go straight in, several rows to a statement: an INSERT of
 * IMPORT_BATCH rows costs SQLite about a sixth less than as many INSERTs of
 * one row (each statement opens its cursors on the table and its indexes,
 * and starts and ends). The address is unique, so a row whose address is
 * on file already is skipped by that INSERT (OR IGNORE); those rows are
 * then found and handled one at a time, in their place in the file's order.
 * Ids are given in order; one that a skipped row would have had stays
 * unused, as the ids of people erased do.
 *
 * The other writes are OR FAIL, not the default OR ABORT: a statement that
 * could abort after its first change keeps a statement journal, and
 * SQLCipher encrypts each page it saves there, which cost the import about
 * a sixth of its time. A failure fails the import, whose one transaction is
 * rolled back whole.
 *
 * Duplicates are found through the database (the unique index on email and
 * a temporary table of people touched), not an in-memory set.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/subscribers_private.h"

/* ---- The INSERTs -------------------------------------------------------- */

/* A membership's parameters in an INSERT: the person, then the consent's fields. */
#define MEMBER_BINDS (1 + R_CONSENT)

/*
 * The INSERT of n new people (subscribers) or of their memberships, numbered
 * as bind_subscriber and bind_membership bind them; the time, and the list,
 * follow the rows' parameters. NULL when out of memory.
 */
static char *insert_sql(bool members, int n)
{
	int per = members ? MEMBER_BINDS : 5, j, k;
	size_t cap = 200 + (size_t)n * 64, len;
	char *sql = malloc(cap);

	if (sql == NULL)
		return NULL;
	len = (size_t)snprintf(sql, cap, "%s",
			       members
				   ? "INSERT OR FAIL INTO memberships (subscriber, consent_source,"
				     " consent_at, consent_method, consent_text, consent_ip,"
				     " consent_version, consent_confirmed, list, created, updated)"
				     " VALUES "
				   : "INSERT OR IGNORE INTO subscribers (email, domain, name,"
				     " attrs, id, created, updated) VALUES ");
	for (j = 0; j < n; j++) {
		len += (size_t)snprintf(sql + len, cap - len, "%s(", j > 0 ? "," : "");
		for (k = 1; k <= per; k++)
			len += (size_t)snprintf(sql + len, cap - len, "?%d,", per * j + k);
		if (members)
			len += (size_t)snprintf(sql + len, cap - len, "?%d,?%d,?%d)", per * n + 1,
						per * n + 2, per * n + 2);
		else
			len += (size_t)snprintf(sql + len, cap - len, "?%d,?%d)", per * n + 1,
						per * n + 1);
	}
	return sql;
}

/* Prepares the insert_sql of n rows as *q, and binds its time and list. */
static enum store_status prepare_insert(struct import *im, bool members, int n, sqlite3_stmt **q,
					char **errstr)
{
	char *sql = insert_sql(members, n);
	enum store_status s;

	if (sql == NULL)
		return store_fail(errstr, STORE_ENOMEM, "out of memory");
	s = store_prepare(im->st, sql, q, errstr);
	free(sql);
	if (s != STORE_OK)
		return s;
	if (members) {
		sqlite3_bind_text(*q, MEMBER_BINDS * n + 1, im->list, -1, SQLITE_STATIC);
		sqlite3_bind_int64(*q, MEMBER_BINDS * n + 2, im->now);
	} else {
		sqlite3_bind_int64(*q, 5 * n + 1, im->now);
	}
	return STORE_OK;
}

/* ---- One row ------------------------------------------------------------ */

/* Binds row r as the j-th of a subscribers INSERT (insert_sql), with its id. */
static void bind_subscriber(sqlite3_stmt *q, int j, const struct import_ready *r, int64_t id)
{
	sqlite3_bind_text(q, 5 * j + 1, r->addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5 * j + 2, store_address_domain(r->addr), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5 * j + 3, r->buf + r->off[R_NAME], (int)r->len[R_NAME],
			  SQLITE_STATIC);
	sqlite3_bind_blob(q, 5 * j + 4, r->buf + r->off[R_ATTRS], (int)r->len[R_ATTRS],
			  SQLITE_STATIC);
	sqlite3_bind_int64(q, 5 * j + 5, id);
}

/* Binds the membership of row r, person id, as the j-th of a memberships INSERT. */
static void bind_membership(sqlite3_stmt *q, int j, const struct import_ready *r, int64_t id)
{
	int i;

	sqlite3_bind_int64(q, MEMBER_BINDS * j + 1, id);
	for (i = 0; i < R_CONSENT; i++)
		sqlite3_bind_text(q, MEMBER_BINDS * j + 2 + i, r->buf + r->off[R_SOURCE + i],
				  (int)r->len[R_SOURCE + i], SQLITE_STATIC);
}

static int step_done(struct import *im, sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		im->db_s = store_sqlfail(im->st, &im->db_err, "importing");
		return -1;
	}
	return 0;
}

/* Has this import touched the (existing) person already? Marks them. */
static int seen_before(struct import *im, int64_t id)
{
	int rc;

	sqlite3_bind_int64(im->seen, 1, id);
	rc = sqlite3_step(im->seen);
	sqlite3_reset(im->seen);
	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_bind_int64(im->mark, 1, id);
	step_done(im, im->mark);
	return 0;
}

/*
 * The memberships of n people the import adds to the list, with their
 * consent: one INSERT, prepared at its first use for each n.
 */
static void add_memberships(struct import *im, const struct import_ready *const *r,
			    const int64_t *id, int n)
{
	sqlite3_stmt **q = &im->ins_mem[n];
	int j;

	if (*q == NULL) {
		im->db_s = prepare_insert(im, true, n, q, &im->db_err);
		if (im->db_s != STORE_OK)
			return;
	}
	for (j = 0; j < n; j++)
		bind_membership(*q, j, r[j], id[j]);
	if (step_done(im, *q) == 0)
		im->stats->imported += (uint64_t)n;
}

static void add_membership(struct import *im, int64_t id, const struct import_ready *r)
{
	add_memberships(im, &r, &id, 1);
}

/*
 * A member's consent as on file, completed: the version when it had none,
 * and a double opt-in's confirmation, which comes after the consent, when
 * it had none (one not after the consent on file is left out). Nothing on
 * file is rewritten.
 */
static void fill_consent(struct import *im, int64_t id, const struct import_ready *r)
{
	sqlite3_bind_text(im->fill_mem, 1, r->buf + r->off[R_VERSION], (int)r->len[R_VERSION],
			  SQLITE_STATIC);
	sqlite3_bind_text(im->fill_mem, 2, r->buf + r->off[R_CONFIRMED], (int)r->len[R_CONFIRMED],
			  SQLITE_STATIC);
	sqlite3_bind_int64(im->fill_mem, 3, id);
	step_done(im, im->fill_mem);
}

static void existing(struct import *im, int64_t id, const char *status, const void *old,
		     size_t oldn, const struct import_ready *r)
{
	int rc, member = -1;

	im->merged.n = 0;
	if (attrs_merge(&im->merged, old, oldn, (const unsigned char *)r->buf + r->off[R_ATTRS],
			r->len[R_ATTRS]) != 0) {
		im->db_s = STORE_ENOMEM;
		return;
	}
	sqlite3_bind_text(im->upd_sub, 1, r->buf + r->off[R_NAME], (int)r->len[R_NAME],
			  SQLITE_STATIC);
	sqlite3_bind_blob(im->upd_sub, 2, im->merged.n ? (const void *)im->merged.p : "",
			  (int)im->merged.n, SQLITE_STATIC);
	sqlite3_bind_int64(im->upd_sub, 3, im->now);
	sqlite3_bind_int64(im->upd_sub, 4, id);
	if (step_done(im, im->upd_sub) != 0)
		return;
	if (id > im->base_id || seen_before(im, id)) {
		im->stats->duplicate++;
		return;
	}
	sqlite3_bind_int64(im->find_mem, 2, id);
	rc = sqlite3_step(im->find_mem);
	if (rc == SQLITE_ROW && sqlite3_column_type(im->find_mem, 0) != SQLITE_NULL)
		member = sqlite3_column_int(im->find_mem, 0);
	sqlite3_reset(im->find_mem);
	if (member == -1 && strcmp(status, "active") == 0) {
		add_membership(im, id, r);
		return;
	}
	if (member != -1 && (r->len[R_VERSION] > 0 || r->len[R_CONFIRMED] > 0))
		fill_consent(im, id, r);
	im->stats->updated++;
	if (member == 0 || strcmp(status, "active") != 0)
		im->stats->kept_unsubscribed++;
}

/* Is the row's address or domain on the suppression list? Then it is never revived. */
static bool suppressed(struct import *im, const struct import_ready *r)
{
	int rc;

	if (!r->maybe_supp) /* never set when the list is empty */
		return false;
	sqlite3_bind_text(im->supp, 1, r->hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(im->supp, 2, store_address_domain(r->addr), -1, SQLITE_STATIC);
	rc = sqlite3_step(im->supp);
	sqlite3_reset(im->supp);
	if (rc != SQLITE_ROW)
		return false;
	im->stats->suppressed++;
	return true;
}

/* A row whose address the store has: an update, a new membership or a duplicate. */
static void on_file(struct import *im, const struct import_ready *r)
{
	int rc;

	sqlite3_bind_text(im->find, 1, r->addr, -1, SQLITE_STATIC);
	rc = sqlite3_step(im->find);
	if (rc == SQLITE_ROW) {
		char status[16];
		snprintf(status, sizeof(status), "%s", sqlite3_column_text(im->find, 1));
		existing(im, sqlite3_column_int64(im->find, 0), status,
			 sqlite3_column_blob(im->find, 2),
			 (size_t)sqlite3_column_bytes(im->find, 2), r);
	} else {
		im->db_s = store_sqlfail(im->st, &im->db_err, "importing");
	}
	sqlite3_reset(im->find);
}

/* Writes one row: a new person and membership, or an update. */
static void apply_one(struct import *im, const struct import_ready *r)
{
	bind_subscriber(im->ins_sub, 0, r, im->next_id);
	if (step_done(im, im->ins_sub) != 0)
		return;
	if (sqlite3_changes(im->st->db) == 1)
		add_membership(im, im->next_id++, r);
	else
		on_file(im, r);
}

/*
 * Writes IMPORT_BATCH rows with one INSERT, and their memberships with
 * another. When some of the addresses were on file, the ids that went in
 * say which rows were new.
 */
static void apply_batch(struct import *im, const struct import_ready *const *r)
{
	const struct import_ready *fresh[IMPORT_BATCH];
	int64_t first = im->next_id, id[IMPORT_BATCH];
	bool taken[IMPORT_BATCH], all;
	int j, n = 0, rc;

	for (j = 0; j < IMPORT_BATCH; j++)
		bind_subscriber(im->ins_subs, j, r[j], first + j);
	if (step_done(im, im->ins_subs) != 0)
		return;
	im->next_id += IMPORT_BATCH;
	all = sqlite3_changes(im->st->db) == IMPORT_BATCH;
	memset(taken, all, sizeof(taken));
	if (!all) {
		sqlite3_bind_int64(im->ids_in, 1, first);
		sqlite3_bind_int64(im->ids_in, 2, first + IMPORT_BATCH);
		while ((rc = sqlite3_step(im->ids_in)) == SQLITE_ROW)
			taken[sqlite3_column_int64(im->ids_in, 0) - first] = true;
		sqlite3_reset(im->ids_in);
		if (rc != SQLITE_DONE) {
			im->db_s = store_sqlfail(im->st, &im->db_err, "importing");
			return;
		}
	}
	for (j = 0; j < IMPORT_BATCH; j++) {
		if (taken[j]) {
			fresh[n] = r[j];
			id[n++] = first + j;
		}
	}
	if (n > 0)
		add_memberships(im, fresh, id, n);
	/* The others, people on file already or repeats of a row above, in their order. */
	for (j = 0; j < IMPORT_BATCH && im->db_s == STORE_OK; j++)
		if (!taken[j])
			on_file(im, r[j]);
}

void import_db_apply(struct import *im, struct import_ready *const *rows, size_t n)
{
	const struct import_ready *fresh[IMPORT_BATCH];
	size_t i, m = 0;

	for (i = 0; i < n && i < IMPORT_BATCH; i++)
		if (!suppressed(im, rows[i]))
			fresh[m++] = rows[i];
	if (m == IMPORT_BATCH) {
		apply_batch(im, fresh);
		return;
	}
	for (i = 0; i < m && im->db_s == STORE_OK; i++)
		apply_one(im, fresh[i]);
}

/* ---- The suppression list's filter ------------------------------------ */

/*
 * Looking every row up in the suppression list made an import 6 to 12%
 * slower. A Bloom filter of the list's values, made when the import
 * starts, answers "not there" for nearly every row on the reading thread;
 * the others are looked up as before. A filter has no false
 * negatives, so a suppressed address is always looked up and never revived.
 * Its size follows the list's (16 bits a value, 4 probes: under 0.3% false
 * positives), from 8 KiB to 2 MiB, and not the file's.
 */
#define SUPP_PROBES 4
#define SUPP_MIN_BITS (1u << 16)
#define SUPP_MAX_BITS (1u << 24)
_Static_assert(sizeof(((struct import *)0)->supp_key) == crypto_shorthash_KEYBYTES,
	       "supp_key is a SipHash key");

/* The filter's bits for value, by double hashing of one SipHash. */
static void supp_probes(const struct import *im, const char *value, uint64_t out[SUPP_PROBES])
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t a, b;
	int i;

	crypto_shorthash(h, (const unsigned char *)value, strlen(value), im->supp_key);
	memcpy(&a, h, sizeof(a));
	b = (a >> 32) | 1;
	for (i = 0; i < SUPP_PROBES; i++)
		out[i] = (a + (uint64_t)i * b) & im->supp_mask;
}

static bool supp_has(const struct import *im, const char *value)
{
	uint64_t bit[SUPP_PROBES];
	int i;

	supp_probes(im, value, bit);
	for (i = 0; i < SUPP_PROBES; i++)
		if (!(im->supp_bits[bit[i] >> 3] & (1u << (bit[i] & 7))))
			return false;
	return true;
}

bool import_supp_maybe(const struct import *im, const char *hash, const char *address)
{
	return im->supp_bits == NULL || supp_has(im, hash) ||
	       supp_has(im, store_address_domain(address));
}

/* Makes the filter of the suppression list's values (addresses' hashes, and domains). */
static enum store_status import_supp_load(struct import *im)
{
	uint64_t bits = SUPP_MIN_BITS, bit[SUPP_PROBES];
	int64_t n = 0;
	sqlite3_stmt *q = NULL;
	enum store_status s;
	int i, rc;

	s = store_query_int(im->st, "SELECT count(*) FROM suppressions", &n, im->errstr, 0);
	if (s != STORE_OK)
		return s;
	while (bits < SUPP_MAX_BITS && bits < 16 * (uint64_t)n)
		bits <<= 1;
	im->supp_bits = calloc(bits / 8, 1);
	if (im->supp_bits == NULL)
		return store_fail(im->errstr, STORE_ENOMEM, "out of memory");
	im->supp_mask = bits - 1;
	randombytes_buf(im->supp_key, sizeof(im->supp_key));
	s = store_prepare(im->st, "SELECT value FROM suppressions", &q, im->errstr);
	if (s != STORE_OK)
		return s;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		supp_probes(im, (const char *)sqlite3_column_text(q, 0), bit);
		for (i = 0; i < SUPP_PROBES; i++)
			im->supp_bits[bit[i] >> 3] |= (unsigned char)(1u << (bit[i] & 7));
	}
	if (rc != SQLITE_DONE)
		s = store_sqlfail(im->st, im->errstr, "reading the suppression list");
	sqlite3_finalize(q);
	return s;
}

/* ---- Set-up ------------------------------------------------------------- */

enum store_status import_db_prepare(struct import *im)
{
	struct {
		sqlite3_stmt **q;
		const char *sql;
	} all[] = {
	    {&im->find, "SELECT id, status, attrs FROM subscribers WHERE email = ?"},
	    {&im->upd_sub,
	     "UPDATE OR FAIL subscribers SET name = CASE WHEN ?1 = '' THEN name ELSE ?1 END,"
	     " attrs = ?2, updated = ?3 WHERE id = ?4"},
	    {&im->find_mem, SUBSCRIBER_MEMBER_SQL},
	    {&im->fill_mem,
	     "UPDATE OR FAIL memberships SET"
	     " consent_version = CASE WHEN consent_version = '' THEN ?1 ELSE consent_version END,"
	     " consent_confirmed = CASE WHEN consent_confirmed = '' AND ?2 >= consent_at"
	     "  THEN ?2 ELSE consent_confirmed END"
	     " WHERE subscriber = ?3 AND list = ?4"},
	    {&im->supp, "SELECT 1 FROM suppressions WHERE value = ?1 OR"
			" (value = ?2 AND kind = 'domain')"},
	    {&im->seen, "SELECT 1 FROM temp.import_seen WHERE id = ?"},
	    {&im->mark, "INSERT INTO temp.import_seen (id) VALUES (?)"},
	    {&im->ids_in, "SELECT id FROM subscribers WHERE id >= ?1 AND id < ?2"},
	};
	enum store_status s;
	size_t i;

	s = store_exec(im->st,
		       "CREATE TEMP TABLE IF NOT EXISTS import_seen (id INTEGER PRIMARY KEY);"
		       "DELETE FROM temp.import_seen;",
		       im->errstr);
	for (i = 0; s == STORE_OK && i < sizeof(all) / sizeof(all[0]); i++)
		s = store_prepare(im->st, all[i].sql, all[i].q, im->errstr);
	if (s == STORE_OK)
		s = prepare_insert(im, false, 1, &im->ins_sub, im->errstr);
	if (s == STORE_OK)
		s = prepare_insert(im, false, IMPORT_BATCH, &im->ins_subs, im->errstr);
	if (s == STORE_OK && im->any_supp)
		s = import_supp_load(im);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(im->find_mem, 1, im->list, -1, SQLITE_STATIC);
	sqlite3_bind_text(im->fill_mem, 4, im->list, -1, SQLITE_STATIC);
	return STORE_OK;
}

void import_db_finalize(struct import *im)
{
	sqlite3_stmt **all[] = {&im->find, &im->ins_sub, &im->upd_sub, &im->find_mem, &im->fill_mem,
				&im->supp, &im->seen,	 &im->mark,    &im->ins_subs, &im->ids_in};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
	for (i = 0; i <= IMPORT_BATCH; i++) {
		sqlite3_finalize(im->ins_mem[i]);
		im->ins_mem[i] = NULL;
	}
	free(im->supp_bits);
	im->supp_bits = NULL;
}
