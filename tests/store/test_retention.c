/*
 * Unit tests of the audit trail's retention (store/audit_prune.c) with a
 * real SQLCipher store in a temp folder: the values audit.retention takes;
 * the login that deletes the records older than it, as a prefix of the
 * chain whose last record stays as the anchor; what `audit verify` makes of
 * an anchor where none may be; a prefix that does not verify, which is kept;
 * and a signed head whose record was pruned.
 *
 * Records are made old by rewriting their times and writing the chain anew
 * with the hash written here from its description (BLAKE2b-256 over the
 * previous hash and each field, length first), not with hato's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/private.h"
#include "tests/store/admin_fixture.h"

#define OLD "2020-01-01T00:00:00Z"

static void run(struct store *st, const char *sql)
{
	char *e = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &e) != SQLITE_OK)
		fail_msg("%s: %s", sql, e);
}

static void feed(crypto_generichash_state *h, const unsigned char *p, size_t n)
{
	unsigned char len[8];
	size_t i;

	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)n >> (8 * i));
	crypto_generichash_update(h, len, sizeof(len));
	crypto_generichash_update(h, p, n);
}

/* Writes every record's chain hash anew, from the anchor's when the first is one. */
static void rechain(struct store *st)
{
	sqlite3_stmt *q = NULL, *u = NULL;
	unsigned char prev[32] = {0};
	crypto_generichash_state h;
	bool first = true;
	char id[24];
	int i;

	assert_int_equal(
	    sqlite3_prepare_v2(st->db,
			       "SELECT id, time, user, os_user, action, object, outcome,"
			       " details, hash FROM audit ORDER BY id",
			       -1, &q, NULL),
	    SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(st->db, "UPDATE audit SET hash = ? WHERE id = ?", -1, &u, NULL),
	    SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (first && strcmp((const char *)sqlite3_column_text(q, 4), AUDIT_ANCHOR) == 0) {
			memcpy(prev, sqlite3_column_blob(q, 8), 32);
			first = false;
			continue;
		}
		first = false;
		snprintf(id, sizeof(id), "%lld", (long long)sqlite3_column_int64(q, 0));
		crypto_generichash_init(&h, NULL, 0, 32);
		crypto_generichash_update(&h, prev, 32);
		feed(&h, (const unsigned char *)id, strlen(id));
		for (i = 1; i <= 7; i++)
			feed(&h, sqlite3_column_text(q, i), (size_t)sqlite3_column_bytes(q, i));
		crypto_generichash_final(&h, prev, 32);
		sqlite3_bind_blob(u, 1, prev, 32, SQLITE_STATIC);
		sqlite3_bind_int64(u, 2, sqlite3_column_int64(q, 0));
		assert_int_equal(sqlite3_step(u), SQLITE_DONE);
		sqlite3_reset(u);
	}
	sqlite3_finalize(q);
	sqlite3_finalize(u);
}

/*
 * A store with ten records more, those up to `old` written in 2020, then
 * `tamper` run on it (NULL: nothing), and audit.retention set to `days`
 * (NULL: left unset); the session is closed.
 */
static void old_store(int old, const char *tamper, const char *days)
{
	struct store *st = open_admin();
	char sql[128];
	int i;

	for (i = 0; i < 10; i++)
		assert_int_equal(store_audit(st, "test.step", "obj", "ok", NULL), STORE_OK);
	snprintf(sql, sizeof(sql), "UPDATE audit SET time = '" OLD "' WHERE id <= %d", old);
	run(st, sql);
	rechain(st);
	if (tamper != NULL)
		run(st, tamper);
	if (days != NULL)
		assert_int_equal(store_config_set(st, "audit.retention", days, NULL), STORE_OK);
	store_close(&st);
}

static void expect_corrupt(struct store *st, int64_t at, const char *says)
{
	int64_t bad = 0, n = 0;
	char *err = NULL;

	assert_int_equal(store_audit_verify(st, &bad, &n, &err), STORE_ECORRUPT);
	assert_int_equal(bad, at);
	if (strstr(err, says) == NULL)
		fail_msg("verify says: %s", err);
	free(err);
}

static void test_values(void **state)
{
	static const char *const bad[] = {
	    "89", "30d", "0", "-365", "365 days", "d", "12m", "36501", "99999999999999999999"};
	struct store *st = open_admin();
	char *err = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(store_config_set(st, "audit.retention", bad[i], &err),
				 STORE_EINVAL);
		assert_non_null(strstr(err, "audit.retention"));
		free(err);
		err = NULL;
	}
	assert_int_equal(store_config_set(st, "audit.retention", "89", &err), STORE_EINVAL);
	assert_non_null(strstr(err, "90 days or more"));
	free(err);
	assert_int_equal(store_config_set(st, "audit.retention", "90", NULL), STORE_OK);
	assert_int_equal(store_config_set(st, "audit.retention", "365d", NULL), STORE_OK);
	assert_int_equal(one_int(st, "SELECT count(*) FROM audit WHERE action = 'config.set'"
				     " AND object = 'audit.retention' AND details = '= 365d'"),
			 1);
	assert_int_equal(store_config_unset(st, "audit.retention", NULL), STORE_OK);
	store_close(&st);
}

/*
 * The login after deletes records 1 to 5 and blanks 6, the last of the
 * old ones, but for its number, time and hash; the chain verifies from it.
 */
static void test_login_prunes(void **state)
{
	struct store_audit_prune p;
	struct store *st;
	int64_t bad = 0, n = 0;

	(void)state;
	old_store(6, NULL, "90");
	st = open_admin();
	assert_int_equal(one_int(st, "SELECT min(id) FROM audit"), 6);
	assert_int_equal(one_int(st, "SELECT count(*) FROM audit WHERE id = 6 AND time = '" OLD
				     "' AND length(hash) = 32 AND user = '' AND os_user = ''"
				     " AND action = '" AUDIT_ANCHOR "' AND object = ''"
				     " AND outcome = 'pruned' AND details = ''"),
			 1);
	assert_int_equal(one_int(st, "SELECT count(*) FROM audit WHERE time = '" OLD "'"), 1);
	assert_int_equal(
	    one_int(st, "SELECT count(*) FROM audit WHERE action = 'audit.prune' AND outcome = 'ok'"
			" AND object = 'record 6' AND details LIKE '6 records removed by the"
			" retention of 90 days%'"),
	    1);
	assert_int_equal(store_audit_verify(st, &bad, &n, NULL), STORE_OK);
	assert_int_equal(n, one_int(st, "SELECT count(*) FROM audit") - 1);
	assert_int_equal(store_audit_pruned(st, &p, NULL), STORE_OK);
	assert_int_equal(p.anchor, 6);
	assert_int_equal(p.removed, 6);
	assert_int_equal(p.days, 90);
	assert_true(p.record > 6);
	store_close(&st);
	/* Nothing more is old: the next login removes nothing. */
	st = open_admin();
	assert_int_equal(one_int(st, "SELECT count(*) FROM audit WHERE action = 'audit.prune'"), 1);
	assert_int_equal(store_audit_verify(st, &bad, &n, NULL), STORE_OK);
	store_close(&st);
}

/* Unset, or set and unset, nothing is removed; set, nothing newer than it is. */
static void test_unset_keeps_all(void **state)
{
	struct store *st;

	(void)state;
	old_store(6, NULL, NULL);
	st = open_admin();
	assert_int_equal(one_int(st, "SELECT min(id) FROM audit"), 1);
	assert_int_equal(store_config_set(st, "audit.retention", "90", NULL), STORE_OK);
	assert_int_equal(store_config_unset(st, "audit.retention", NULL), STORE_OK);
	store_close(&st);
	st = open_admin();
	assert_int_equal(one_int(st, "SELECT count(*) FROM audit WHERE time = '" OLD "'"), 6);
	assert_int_equal(one_int(st, "SELECT count(*) FROM audit WHERE action = 'audit.prune'"), 0);
	store_close(&st);
}

static void test_recent_kept(void **state)
{
	struct store *st;

	(void)state;
	old_store(0, NULL, "90");
	st = open_admin();
	assert_int_equal(one_int(st, "SELECT min(id) FROM audit"), 1);
	assert_int_equal(one_int(st, "SELECT count(*) FROM audit WHERE action = 'audit.prune'"), 0);
	store_close(&st);
}

/* A record blanked as an anchor after the first breaks the chain, rechained or not. */
static void test_anchor_only_first(void **state)
{
	struct store *st;

	(void)state;
	old_store(6, NULL, "90");
	st = open_admin();
	run(st, "UPDATE audit SET user = '', os_user = '', action = '" AUDIT_ANCHOR "',"
		" object = '', outcome = 'pruned', details = '' WHERE id = 9");
	expect_corrupt(st, 9, "only the first record may be");
	rechain(st);
	expect_corrupt(st, 9, "only the first record may be");
	store_close(&st);
}

/* Records cut off the start and the next blanked as an anchor: no pruning names it. */
static void test_anchor_named(void **state)
{
	struct store *st = open_admin();
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_int_equal(store_audit(st, "test.step", "obj", "ok", NULL), STORE_OK);
	run(st, "DELETE FROM audit WHERE id < 4;"
		"UPDATE audit SET user = '', os_user = '', action = '" AUDIT_ANCHOR "',"
		" object = '', outcome = 'pruned', details = '' WHERE id = 4");
	rechain(st);
	expect_corrupt(st, 4, "no audit.prune record names it");
	store_close(&st);
}

/* Old records changed behind hato's back are kept, as evidence, and the refusal audited. */
static void test_broken_prefix_kept(void **state)
{
	struct store *st;

	(void)state;
	old_store(6, "UPDATE audit SET details = 'nothing happened' WHERE id = 3", "90");
	st = open_admin();
	assert_int_equal(one_int(st, "SELECT min(id) FROM audit"), 1);
	assert_int_equal(one_int(st, "SELECT count(*) FROM audit WHERE action = 'audit.prune'"
				     " AND outcome = 'failed' AND details LIKE"
				     " 'nothing removed:%broken at record 3)%'"),
			 1);
	expect_corrupt(st, 3, "broken at record 3");
	store_close(&st);
}

/*
 * A signed head whose record was pruned: it was signed before the
 * pruning's cut-off, so the retention removed it; one signed after, whose
 * record is gone, was cut. The anchor keeps its hash to check.
 */
static void test_head_pruned(void **state)
{
	struct store_audit_head h = {
	    .record = 3, .time = "2020-01-01T00:00:01Z", .signer = "admin"};
	struct store_audit_prune p;
	struct store *st;
	sqlite3_stmt *q = NULL;
	bool other = false;
	char *err = NULL;

	(void)state;
	old_store(6, NULL, "90");
	st = open_admin();
	assert_int_equal(store_audit_head_check(st, &h, &other, &p, NULL), STORE_OK);
	assert_int_equal(p.anchor, 6);
	assert_int_equal(p.days, 90);
	snprintf(h.time, sizeof(h.time), "2099-01-01T00:00:00Z");
	assert_int_equal(store_audit_head_check(st, &h, &other, &p, &err), STORE_ECORRUPT);
	assert_non_null(strstr(err, "there is no record 3"));
	free(err);
	h.record = 6;
	assert_int_equal(store_audit_head_check(st, &h, &other, &p, NULL), STORE_ECORRUPT);
	assert_int_equal(
	    sqlite3_prepare_v2(st->db, "SELECT hash FROM audit WHERE id = 6", -1, &q, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	memcpy(h.hash, sqlite3_column_blob(q, 0), sizeof(h.hash));
	sqlite3_finalize(q);
	assert_int_equal(store_audit_head_check(st, &h, &other, &p, NULL), STORE_OK);
	store_close(&st);
}

/*
 * A head whose record an earlier pruning removed is said to be removed by
 * that one, with its cut-off, not by the last pruning.
 */
static void test_head_of_earlier_pruning(void **state)
{
	struct store_audit_head h = {
	    .record = 3, .time = "2020-01-01T00:00:01Z", .signer = "admin"};
	struct store_audit_prune p;
	struct store *st;
	bool other = false;
	int64_t first, second;

	(void)state;
	old_store(6, NULL, "90");
	st = open_admin(); /* the first pruning: records up to 6 */
	first = one_int(st, "SELECT id FROM audit WHERE action = 'audit.prune'");
	run(st, "UPDATE audit SET time = '2021-01-01T00:00:00Z' WHERE id BETWEEN 7 AND 9");
	rechain(st);
	store_close(&st);
	st = open_admin(); /* the second: records 7 to 9 */
	second = one_int(st, "SELECT max(id) FROM audit WHERE action = 'audit.prune'");
	assert_true(second > first);
	assert_int_equal(one_int(st, "SELECT count(*) FROM audit WHERE action = 'audit.prune'"
				     " AND object = 'record 9'"),
			 1);
	assert_int_equal(store_audit_head_check(st, &h, &other, &p, NULL), STORE_OK);
	assert_int_equal(p.anchor, 9);
	assert_int_equal(p.record, first);
	assert_int_equal(p.removed, 6);
	h.record = 8;
	snprintf(h.time, sizeof(h.time), "2021-01-01T00:00:01Z");
	assert_int_equal(store_audit_head_check(st, &h, &other, &p, NULL), STORE_OK);
	assert_int_equal(p.record, second);
	assert_int_equal(p.removed, 3);
	/* The last pruning is what store_audit_pruned reads. */
	assert_int_equal(store_audit_pruned(st, &p, NULL), STORE_OK);
	assert_int_equal(p.record, second);
	store_close(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_login_prunes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unset_keeps_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recent_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_anchor_only_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_anchor_named, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_broken_prefix_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_head_pruned, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_head_of_earlier_pruning, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
