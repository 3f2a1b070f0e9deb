/*
 * Unit tests of the store's core with a real SQLCipher store in a temp folder:
 * encryption at rest (the database and its WAL), key rotation, the audit
 * chain against direct edits, keyslot files and the password rules, and what
 * a full disk is called.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/private.h"
#include "tests/slurp.h"
#include "tests/store/admin_fixture.h"

static void test_no_plaintext_in_db_or_wal(void **state)
{
	static const char canary[] = "CanaryHanakoSuzuki";
	struct store *st = open_admin();
	char wal[160], *buf;
	size_t len = 0;
	int i;

	(void)state;
	for (i = 0; i < 50; i++)
		assert_int_equal(store_config_set(st, "sender.name", canary, NULL), STORE_OK);
	/* The store is still open: its WAL holds the recent pages. */
	snprintf(wal, sizeof(wal), "%s-wal", path);
	buf = slurp(wal, &len);
	assert_non_null(buf);
	assert_true(len > 4096);
	assert_null(memmem(buf, len, canary, sizeof(canary) - 1));
	assert_null(memmem(buf, len, "sender.name", 11));
	free(buf);
	buf = slurp(path, &len);
	assert_non_null(buf);
	assert_null(memmem(buf, len, canary, sizeof(canary) - 1));
	assert_null(memmem(buf, len, "SQLite format 3", 15));
	free(buf);
	store_close(&st);
	assert_null(st);
}

static void test_wrong_password(void **state)
{
	struct store *st = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(store_open(path, "admin", "not-the-password", &st, &err), STORE_EAUTH);
	assert_null(st);
	assert_non_null(strstr(err, "wrong password"));
	free(err);
}

static void test_rotation_retires_old_key(void **state)
{
	unsigned char old[STORE_KEY_LEN];
	struct store *st = open_admin();
	sqlite3 *db = NULL;
	char *err = NULL;

	(void)state;
	memcpy(old, st->data_key, sizeof(old));
	assert_int_equal(store_key_rotate(st, NULL, &err), STORE_OK);
	assert_memory_not_equal(old, st->data_key, sizeof(old));
	store_close(&st);
	/* The old data key no longer opens the database... */
	assert_int_equal(store_db_open(path, old, &db, &err), STORE_ECORRUPT);
	assert_null(db);
	free(err);
	err = NULL;
	/* ...but the password does, through the rewrapped slot. */
	st = open_admin();
	assert_int_equal(store_db_open(path, st->data_key, &db, &err), STORE_OK);
	sqlite3_close(db);
	store_close(&st);
}

static void test_audit_edit_is_named(void **state)
{
	struct store *st = open_admin();
	int64_t bad = 0, n = 0;
	char *err = NULL;
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_int_equal(store_audit(st, "test.step", "obj", "ok", NULL), STORE_OK);
	assert_int_equal(store_audit_verify(st, &bad, &n, &err), STORE_OK);
	assert_true(n >= 7);
	/* With the data key, change one record's details directly. */
	assert_int_equal(sqlite3_exec(st->db,
				      "UPDATE audit SET details = 'nothing happened' "
				      "WHERE id = 4",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(store_audit_verify(st, &bad, &n, &err), STORE_ECORRUPT);
	assert_int_equal(bad, 4);
	assert_non_null(strstr(err, "record 4"));
	free(err);
	err = NULL;
	/* Restoring it mends the chain; deleting a record breaks it again. */
	assert_int_equal(
	    sqlite3_exec(st->db, "UPDATE audit SET details = '' WHERE id = 4", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(store_audit_verify(st, &bad, &n, &err), STORE_OK);
	assert_int_equal(sqlite3_exec(st->db, "DELETE FROM audit WHERE id = 5", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(store_audit_verify(st, &bad, &n, &err), STORE_ECORRUPT);
	assert_int_equal(bad, 5);
	free(err);
	store_close(&st);
}

static void write_file(const char *p, const char *data, size_t len)
{
	FILE *fp = fopen(p, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	fclose(fp);
}

static void test_damaged_keyslot_files(void **state)
{
	char keys[160], *good, *err = NULL;
	size_t len = 0, cut;
	struct keyfile kf;
	static const char *const bad[] = {
	    "",
	    "hato-keyslots 2\n",
	    "hato-keyslots 1\nslot admin 2 67108864 x y z w v 0 0 0\n",
	    "hato-keyslots 1\nslot admin 99999 67108864 AAAA AAAA AAAA AAAA AAAA 0 0 0\n",
	    "hato-keyslots 1\ngarbage\n",
	};
	size_t i;

	(void)state;
	snprintf(keys, sizeof(keys), "%s.keys", path);
	good = slurp(keys, &len);
	assert_non_null(good);
	assert_int_equal(keyfile_load(keys, &kf, &err), STORE_OK);
	assert_int_equal(kf.n, 1);
	keyfile_free(&kf);
	/* Every truncation of a valid file is refused, never half-read. */
	for (cut = 1; cut < len; cut += 7) {
		write_file(keys, good, cut);
		assert_int_equal(keyfile_load(keys, &kf, &err), STORE_ECORRUPT);
		assert_non_null(strstr(err, "damaged"));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(keys, bad[i], strlen(bad[i]));
		assert_int_equal(keyfile_load(keys, &kf, &err), STORE_ECORRUPT);
	}
	write_file(keys, "hato-keyslots 1\0slot", 20);
	assert_int_equal(keyfile_load(keys, &kf, &err), STORE_ECORRUPT);
	free(err);
	write_file(keys, good, len);
	free(good);
}

static void test_password_and_name_rules(void **state)
{
	char big[10241];

	(void)state;
	assert_int_equal(store_password_check("bob", "short", NULL), STORE_EINVAL);
	assert_int_equal(store_password_check("bob", "twelve-chars", NULL), STORE_OK);
	assert_int_equal(store_password_check("longusername", "LongUserName", NULL), STORE_EINVAL);
	/* Twelve Japanese characters are twelve characters, not 36 bytes. */
	assert_int_equal(store_password_check("bob", "あいうえおかきくけこさし", NULL), STORE_OK);
	assert_int_equal(store_password_check("bob", "あいうえおかきくけこさ", NULL), STORE_EINVAL);
	memset(big, 'u', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(store_name_check("user", big, NULL), STORE_EINVAL);
	assert_int_equal(store_name_check("user", "ok.name-1", NULL), STORE_OK);
	assert_int_equal(store_name_check("user", "-x", NULL), STORE_EINVAL);
	assert_int_equal(store_name_check("user", "a b", NULL), STORE_EINVAL);
}

/* The UTF-8 decoder and the characters no setting may hold. */
static void test_text_checks(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		uint32_t cp;
	} cases[] = {
	    {"a", 1, 'a'},
	    {"\xc3\xa9", 2, 0xe9},
	    {"\xe3\x81\x82", 3, 0x3042},
	    {"\xf0\x9f\x90\xa6", 4, 0x1f426},
	    {"\x9b", 0, 0},		/* a continuation byte alone */
	    {"\xc0\xaf", 0, 0},		/* overlong '/' */
	    {"\xe0\x80\xaf", 0, 0},	/* overlong again */
	    {"\xed\xa0\x80", 0, 0},	/* a surrogate */
	    {"\xf4\x90\x80\x80", 0, 0}, /* past U+10FFFF */
	    {"\xe3\x81", 0, 0},		/* cut short */
	};
	uint32_t cp = 0;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(store_utf8_char(cases[i].s, strlen(cases[i].s), &cp),
				 cases[i].len);
		if (cases[i].len > 0)
			assert_int_equal(cp, cases[i].cp);
	}
	assert_true(store_char_is_unsafe(0x1b) && store_char_is_unsafe('\t'));
	assert_true(store_char_is_unsafe(0x7f) && store_char_is_unsafe(0x9b));
	assert_true(store_char_is_unsafe(0x202a) && store_char_is_unsafe(0x202e));
	assert_true(store_char_is_unsafe(0x2066) && store_char_is_unsafe(0x2069));
	assert_false(store_char_is_unsafe(' ') || store_char_is_unsafe(0xa0));
	/* The line and paragraph separators break a line as a newline does. */
	assert_true(store_char_is_unsafe(0x2028) && store_char_is_unsafe(0x2029));
	assert_false(store_char_is_unsafe(0x2027) || store_char_is_unsafe(0x202f));
	assert_false(store_char_is_unsafe(0x2065) || store_char_is_unsafe(0x206a));
	assert_int_equal(store_config_check("sender.name", "Hato \xe9\xb3\xa9", NULL), STORE_OK);
	assert_int_equal(store_config_check("sender.name",
					    "A\xc2\x9b"
					    "31m",
					    NULL),
			 STORE_EINVAL);
	assert_int_equal(store_config_check("sender.name", "A\xe2\x81\xa9", NULL), STORE_EINVAL);
	assert_int_equal(store_config_check("sender.name", "A\x9b", NULL), STORE_EINVAL);
}

static void test_delay_grows(void **state)
{
	int i;

	(void)state;
	assert_int_equal(keyslot_delay(0), 0);
	for (i = 1; i < KEYSLOT_MAX_FAILS; i++)
		assert_true(keyslot_delay(i + 1) >= keyslot_delay(i));
	assert_true(keyslot_delay(2) > keyslot_delay(1));
	/* As hato(1) says: 2^(n-1) seconds, at most 5 minutes. */
	assert_int_equal(keyslot_delay(1), 1);
	assert_int_equal(keyslot_delay(8), 128);
	assert_int_equal(keyslot_delay(9), 256);
	assert_int_equal(keyslot_delay(10), 300);
	assert_int_equal(keyslot_delay(40), 300);
}

static void test_mask_and_hash(void **state)
{
	struct store *st = open_admin();
	char a[65], b[65];
	char *m;

	(void)state;
	/* The admin role holds no pii permission: addresses come back masked. */
	m = store_mask_address(st, "taro@example.com");
	assert_string_equal(m, "t***@example.com");
	free(m);
	/* A first character outside ASCII is kept whole: the text stays UTF-8. */
	m = store_mask_address(st, "\xe5\xb1\xb1\xe7\x94\xb0@example.jp");
	assert_string_equal(m, "\xe5\xb1\xb1***@example.jp");
	free(m);
	m = store_mask_address(st, "\"\xc3\xa9mile x\"@example.fr");
	assert_string_equal(m, "\xc3\xa9***@example.fr");
	free(m);
	/* In free text: an escaped quote is part of the local part; UTF-8 kept whole. */
	m = store_mask_text(st, "note: kn\\\"o@x.jp and \xe5\xb1\xb1\xe7\x94\xb0@example.jp, ok");
	assert_string_equal(m, "note: k***@x.jp and \xe5\xb1\xb1***@example.jp, ok");
	free(m);
	store_address_hash(st, "Taro@Example.com", a);
	store_address_hash(st, "taro@example.com", b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 32);
	assert_null(strstr(a, "taro"));
	store_close(&st);
}

/* ---- A full disk ---------------------------------------------------------- */

/*
 * A VFS over the default one whose writes fail as on a full disk while
 * disk_full is set: SQLite reports SQLITE_FULL for those (a write short of
 * room, ENOSPC).
 */
static sqlite3_vfs full_vfs, *real_vfs;
static int disk_full;

/* Each kind of file's methods, and the same with full_write (a few kinds at most). */
static struct {
	const sqlite3_io_methods *real;
	sqlite3_io_methods full;
} kinds[4];

static int full_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	size_t i;

	if (disk_full)
		return SQLITE_FULL;
	for (i = 0; &kinds[i].full != f->pMethods; i++)
		;
	return kinds[i].real->xWrite(f, p, n, off);
}

static int full_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	int rc = real_vfs->xOpen(real_vfs, name, f, flags, out);
	size_t i;

	(void)vfs;
	if (rc != SQLITE_OK || f->pMethods == NULL)
		return rc;
	for (i = 0; kinds[i].real != NULL && kinds[i].real != f->pMethods; i++)
		assert_true(i + 1 < sizeof(kinds) / sizeof(kinds[0]));
	if (kinds[i].real == NULL) {
		kinds[i].real = f->pMethods;
		kinds[i].full = *f->pMethods;
		kinds[i].full.xWrite = full_write;
	}
	f->pMethods = &kinds[i].full;
	return rc;
}

static void test_disk_full(void **state)
{
	struct store *st;
	char *err = NULL;
	int64_t bad = -1, n = 0;

	(void)state;
	real_vfs = sqlite3_vfs_find(NULL);
	full_vfs = *real_vfs;
	full_vfs.zName = "hato-test-full";
	full_vfs.xOpen = full_open;
	assert_int_equal(sqlite3_vfs_register(&full_vfs, 1), SQLITE_OK);
	st = open_admin();
	/* A statement that needs room SQLite has not got. */
	assert_int_equal(sqlite3_exec(st->db, "PRAGMA max_page_count = 1", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(
	    store_exec(st, "CREATE TABLE filler AS SELECT zeroblob(1000000) AS x", &err),
	    STORE_EIO);
	assert_non_null(err);
	assert_non_null(strstr(err, "the disk is full, where the store is ("));
	assert_non_null(strstr(err, path));
	free(err);
	err = NULL;
	assert_int_equal(
	    sqlite3_exec(st->db, "PRAGMA max_page_count = 1073741823", NULL, NULL, NULL),
	    SQLITE_OK);
	/* A commit that can't write the log. */
	disk_full = 1;
	assert_int_equal(store_config_set(st, "sender.name", "Hato", &err), STORE_EIO);
	disk_full = 0;
	assert_non_null(err);
	assert_non_null(strstr(err, "saving the changes: the disk is full, where the store is"));
	free(err);
	err = NULL;
	/* With room again, nothing was lost and the same change goes in. */
	assert_int_equal(store_config_set(st, "sender.name", "Hato", &err), STORE_OK);
	assert_int_equal(store_audit_verify(st, &bad, &n, &err), STORE_OK);
	assert_int_equal(bad, 0);
	store_close(&st);
	assert_int_equal(sqlite3_vfs_unregister(&full_vfs), SQLITE_OK);
	assert_string_equal(store_strerror(ENOSPC), "the disk is full");
}

static void test_damaged_users_page(void **state)
{
	struct store *st = open_admin();
	struct store *bad = NULL;
	char *err = NULL;
	int64_t root, page;
	FILE *fp;

	(void)state;
	root = one_int(st, "SELECT rootpage FROM sqlite_master WHERE name = 'users'");
	assert_true(root > 1);
	page = one_int(st, "PRAGMA page_size");
	store_close(&st);
	fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, (long)((root - 1) * page) + 2000, SEEK_SET), 0);
	assert_int_equal(fwrite("XXXX", 1, 4, fp), 4);
	fclose(fp);
	assert_int_equal(store_open(path, "admin", PW, &bad, &err), STORE_ECORRUPT);
	assert_non_null(strstr(err, "damaged"));
	assert_null(bad);
	free(err);
}

/*
 * A store made before pages of 8 KiB has pages of 4 KiB, and keeps them: it
 * opens, reads and writes as before. It is made here from a new store by
 * SQLCipher's own export, at that page size.
 */
static void test_store_with_4k_pages(void **state)
{
	struct store *st = open_admin();
	char hex[2 * STORE_KEY_LEN + 1], sql[512], old[160], wal[160];
	int64_t version, bad, records;
	sqlite3 *db = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(one_int(st, "PRAGMA page_size"), 8192);
	version = one_int(st, "PRAGMA user_version");
	assert_int_equal(store_config_set(st, "sender.name", "Hanako", &err), STORE_OK);
	assert_int_equal(store_db_open(path, st->data_key, &db, &err), STORE_OK);
	sodium_bin2hex(hex, sizeof(hex), st->data_key, STORE_KEY_LEN);
	store_close(&st);
	snprintf(old, sizeof(old), "%s.4k", path);
	fclose(fopen(old, "w")); /* hato's connections do not create files */
	snprintf(sql, sizeof(sql),
		 "ATTACH DATABASE '%s' AS old KEY \"x'%s'\";"
		 "PRAGMA old.cipher_page_size = 4096;"
		 "SELECT sqlcipher_export('old');"
		 "PRAGMA old.user_version = %lld;"
		 "DETACH DATABASE old;",
		 old, hex, (long long)version);
	sodium_memzero(hex, sizeof(hex));
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sodium_memzero(sql, sizeof(sql));
	sqlite3_close(db);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
	assert_int_equal(rename(old, path), 0);

	st = open_admin();
	assert_int_equal(one_int(st, "PRAGMA page_size"), 4096);
	assert_int_equal(
	    one_int(st, "SELECT value = 'Hanako' FROM config WHERE key = 'sender.name'"), 1);
	assert_int_equal(store_config_set(st, "sender.name", "Taro", &err), STORE_OK);
	store_close(&st);
	st = open_admin();
	assert_int_equal(one_int(st, "PRAGMA page_size"), 4096);
	assert_int_equal(one_int(st, "SELECT value = 'Taro' FROM config WHERE key = 'sender.name'"),
			 1);
	assert_int_equal(store_audit_verify(st, &bad, &records, &err), STORE_OK);
	assert_true(records > 3);
	store_close(&st);
}

/*
 * A session outlives an admin's changes: once its user is disabled it may
 * do nothing more, and a changed role takes effect, within a second.
 */
static void test_session_follows_admin(void **state)
{
	struct store *ad = open_admin(), *ed = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(
	    store_user_add(ad, "ed", "operator", "ed-password-12345", STORE_KDF_INTERACTIVE, NULL),
	    STORE_OK);
	assert_int_equal(store_open(path, "ed", "ed-password-12345", &ed, NULL), STORE_OK);
	assert_int_equal(store_require(ed, STORE_PERM_CAMPAIGNS_SEND, "campaign.pause", NULL),
			 STORE_OK);
	assert_int_equal(store_user_set_role(ad, "ed", "viewer", NULL), STORE_OK);
	ed->checked_ms = 0; /* as if a second had passed */
	assert_int_equal(store_require(ed, STORE_PERM_CAMPAIGNS_SEND, "campaign.pause", NULL),
			 STORE_EDENIED);
	assert_int_equal(store_require(ed, STORE_PERM_REPORTS, "report", NULL), STORE_OK);
	assert_false(store_session_disabled(ed));
	assert_int_equal(store_user_disable(ad, "ed", NULL), STORE_OK);
	ed->checked_ms = 0;
	assert_true(store_session_disabled(ed));
	assert_int_equal(store_require(ed, STORE_PERM_REPORTS, "report", &err), STORE_EDENIED);
	assert_non_null(strstr(err, "the account ed was disabled after this session began"));
	free(err);
	store_close(&ed);
	store_close(&ad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_no_plaintext_in_db_or_wal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_password, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_retires_old_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_edit_is_named, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_keyslot_files, setup, teardown),
	    cmocka_unit_test(test_password_and_name_rules),
	    cmocka_unit_test(test_delay_grows),
	    cmocka_unit_test(test_text_checks),
	    cmocka_unit_test_setup_teardown(test_mask_and_hash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_users_page, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_with_4k_pages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_session_follows_admin, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
