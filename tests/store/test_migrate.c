/*
 * Unit tests of the store's migrations with a real SQLCipher store in a temp
 * folder: each one is tried on a store put back to the version before it,
 * with rows in it, and what it leaves is checked.
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
#include "tests/store/explain.h"
#include "tests/store/admin_fixture.h"

/* The version of a store this hato writes. */
#define LATEST 21

/* ---- Migration 7: CHECKs without IN lists -------------------------------- */

#define SUB_IN "CHECK (status IN    ('active','unsubscribed','bounced','complained','erased'))"
#define SUB_OR                                                                                     \
	"CHECK (status = 'active' OR status = 'unsubscribed' OR status = 'bounced'"                \
	" OR status = 'complained' OR status = 'erased')"

static char *table_sql(sqlite3 *db, const char *table)
{
	sqlite3_stmt *q = NULL;
	char *out = NULL;

	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT sql FROM sqlite_master"
					    " WHERE type = 'table' AND name = ?",
					    -1, &q, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	out = strdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	return out;
}

static const char insert_sub[] =
    "INSERT INTO subscribers (id, email, domain, status, created, updated)"
    " VALUES (%d, 'p%d@example.com', 'example.com', '%s', 0, 0)";

/* What migration 7 leaves: OR in the CHECKs, as strict as before. */
static void check_rewritten(struct store *st)
{
	static const char *const good[] = {"active", "unsubscribed", "bounced", "complained",
					   "erased"};
	char *sql, stmt[256];
	size_t i;

	sql = table_sql(st->db, "subscribers");
	assert_non_null(strstr(sql, SUB_OR));
	assert_null(strstr(sql, " IN "));
	free(sql);
	sql = table_sql(st->db, "campaigns");
	assert_non_null(strstr(sql, "OR state = 'failed')"));
	assert_null(strstr(sql, " IN "));
	free(sql);
	assert_true(one_int(st, "PRAGMA user_version") >= 7);
	/* Writing a person no longer builds a b-tree for the CHECK. */
	snprintf(stmt, sizeof(stmt), insert_sub, 100, 100, "active");
	assert_false(builds_btree(st->db, stmt));
	assert_false(builds_btree(st->db, "UPDATE subscribers SET name = 'x' WHERE id = 1"));
	/* Every status that was allowed still is; no other one is. */
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(stmt, sizeof(stmt), insert_sub, 200 + (int)i, 200 + (int)i, good[i]);
		assert_int_equal(sqlite3_exec(st->db, stmt, NULL, NULL, NULL), SQLITE_OK);
	}
	snprintf(stmt, sizeof(stmt), insert_sub, 300, 300, "Active");
	assert_int_equal(sqlite3_exec(st->db, stmt, NULL, NULL, NULL), SQLITE_CONSTRAINT);
	assert_int_equal(
	    sqlite3_exec(st->db, "UPDATE subscribers SET status = 'gone'", NULL, NULL, NULL),
	    SQLITE_CONSTRAINT);
	assert_int_equal(sqlite3_exec(st->db,
				      "INSERT INTO campaigns (id, name, template, list, subject,"
				      " state, author, created, updated)"
				      " VALUES (1, 'c', 't', 'l', 's', 'done', 'a', 0, 0)",
				      NULL, NULL, NULL),
			 SQLITE_CONSTRAINT);
	assert_int_equal(sqlite3_exec(st->db,
				      "INSERT INTO campaigns (id, name, template, list, subject,"
				      " state, author, created, updated)"
				      " VALUES (1, 'c', 't', 'l', 's', 'failed', 'a', 0, 0)",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(one_int(st, "SELECT count(*) FROM subscribers WHERE id >= 200"), 5);
}

static void test_new_store_checks(void **state)
{
	struct store *st = open_admin();

	(void)state;
	check_rewritten(st);
	store_close(&st);
}

/* A store of version 6, with a person in it, comes up to 7 when opened. */
static void test_checks_migrated(void **state)
{
	unsigned char key[STORE_KEY_LEN];
	struct store *st = open_admin();
	sqlite3 *raw = NULL;
	sqlite3_stmt *q = NULL;
	char sql[512], *text;

	(void)state;
	/* Back to the text migration 2 wrote, as in every store made before 7. */
	snprintf(sql, sizeof(sql),
		 "PRAGMA writable_schema = ON;"
		 "UPDATE sqlite_master SET sql = replace(sql, \"%s\", \"%s\")"
		 " WHERE name = 'subscribers';"
		 "PRAGMA schema_version = %lld; PRAGMA writable_schema = OFF;"
		 "PRAGMA user_version = 6;",
		 SUB_OR, SUB_IN, (long long)one_int(st, "PRAGMA schema_version") + 1);
	assert_int_equal(sqlite3_exec(st->db, sql, NULL, NULL, NULL), SQLITE_OK);
	memcpy(key, st->data_key, sizeof(key));
	store_close(&st);
	/* Opened without migrating: the old text, and the cost 7 removes. */
	assert_int_equal(store_db_open(path, key, &raw, NULL), STORE_OK);
	text = table_sql(raw, "subscribers");
	assert_non_null(strstr(text, SUB_IN));
	free(text);
	snprintf(sql, sizeof(sql), insert_sub, 1, 1, "bounced");
	assert_int_equal(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_true(builds_btree(raw, sql));
	sqlite3_close(raw);
	sodium_memzero(key, sizeof(key));

	st = open_admin();
	check_rewritten(st);
	assert_int_equal(one_int(st, "SELECT count(*) FROM subscribers"
				     " WHERE id = 1 AND status = 'bounced'"),
			 1);
	assert_int_equal(sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal(sqlite3_column_text(q, 0), "ok");
	sqlite3_finalize(q);
	store_close(&st);
}

/* Migration 10: reasons written before it that hold an address lose their text. */
static void test_reasons_migrated(void **state)
{
	struct store *st = open_admin();

	(void)state;
	assert_int_equal(
	    sqlite3_exec(st->db,
			 "INSERT INTO suppressions (value, kind, address, reason, created, by)"
			 " VALUES ('h1','address',NULL,'complaint from c@example.com','t','u'),"
			 " ('@x.example','domain',NULL,'asked by phone','t','u');"
			 "PRAGMA user_version = 9;",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	store_close(&st);
	st = open_admin();
	assert_int_equal(one_int(st, "SELECT count(*) FROM suppressions WHERE reason LIKE '%@%'"),
			 0);
	assert_int_equal(one_int(st, "SELECT count(*) FROM suppressions"
				     " WHERE reason = 'asked by phone'"),
			 1);
	store_close(&st);
}

/*
 * Migration 9 on a store made before it: each campaign's editors come from
 * the audit trail (campaign.edit by others than its author), and a copy
 * gets the original's author and editors, so that none of them may approve.
 */
static void test_editors_migrated(void **state)
{
	struct store *st = open_admin();
	char *text, *old, *at, sql[4096];
	static const char col[] = ", editors TEXT NOT NULL DEFAULT ''";

	(void)state;
	/* campaigns as migration 8 left it: without the column. */
	text = table_sql(st->db, "campaigns");
	at = strstr(text, col);
	assert_non_null(at);
	assert_true(asprintf(&old, "%.*s%s", (int)(at - text), text, at + strlen(col)) > 0);
	snprintf(sql, sizeof(sql),
		 "PRAGMA foreign_keys = OFF; BEGIN;"
		 "ALTER TABLE campaigns RENAME TO campaigns_9; %s; DROP TABLE campaigns_9;"
		 "INSERT INTO campaigns (name, template, list, subject, author, created, updated)"
		 " VALUES ('c1', 't', 'm', 's', 'mk', 0, 0), ('c2', 't', 'm', 's', 'lead', 0, 0),"
		 " ('c3', 't', 'm', 's', 'mk', 0, 0);"
		 "INSERT INTO audit (time, user, os_user, action, object, outcome, details, hash)"
		 " VALUES ('t', 'both', 'x', 'campaign.edit', 'c1', 'ok', '', x'00'),"
		 " ('t', 'mk', 'x', 'campaign.edit', 'c1', 'ok', '', x'00'),"
		 " ('t', 'eve', 'x', 'campaign.edit', 'c1', 'denied', '', x'00'),"
		 " ('t', 'lead', 'x', 'campaign.copy', 'c2', 'ok', 'c1', x'00');"
		 "COMMIT; PRAGMA user_version = 8;",
		 old);
	assert_int_equal(sqlite3_exec(st->db, sql, NULL, NULL, NULL), SQLITE_OK);
	free(old);
	free(text);
	store_close(&st);

	st = open_admin();
	assert_int_equal(one_int(st, "SELECT editors = 'both' FROM campaigns WHERE name = 'c1'"),
			 1);
	assert_int_equal(one_int(st, "SELECT editors = 'mk both' FROM campaigns WHERE name = 'c2'"),
			 1);
	assert_int_equal(one_int(st, "SELECT editors = '' FROM campaigns WHERE name = 'c3'"), 1);
	store_close(&st);
}

/*
 * Migration 11 on a store made before it: the signing key was sealed under
 * the password's KEK and no slot key was recorded. The login still opens it,
 * seals it under the slot and records the slot's key; then a change of one's
 * own password leaves the old password working should the keyslot file not
 * be written.
 */
static void test_sign_key_migrated(void **state)
{
	struct store *st = open_admin();
	struct keyfile kf;
	struct slot_keys k;
	unsigned char dk[STORE_KEY_LEN], nonce[crypto_secretbox_NONCEBYTES], key[STORE_KEY_LEN];
	unsigned char sealed[crypto_sign_SECRETKEYBYTES + crypto_secretbox_MACBYTES];
	char keys[160], *before;
	size_t len = 0;
	sqlite3_stmt *q = NULL;
	FILE *fp;

	(void)state;
	assert_int_equal(keyfile_load(st->keys_path, &kf, NULL), STORE_OK);
	assert_int_equal(keyslot_open(keyfile_find(&kf, "admin"), PW, dk, &k), STORE_OK);
	keyfile_free(&kf);
	randombytes_buf(nonce, sizeof(nonce));
	crypto_secretbox_easy(sealed, st->sign_sk, crypto_sign_SECRETKEYBYTES, nonce, k.kek);
	assert_int_equal(sqlite3_prepare_v2(st->db,
					    "UPDATE users SET sign_nonce = ?, sign_sealed = ?,"
					    " slot_pk = NULL WHERE name = 'admin'",
					    -1, &q, NULL),
			 SQLITE_OK);
	sqlite3_bind_blob(q, 1, nonce, sizeof(nonce), SQLITE_STATIC);
	sqlite3_bind_blob(q, 2, sealed, sizeof(sealed), SQLITE_STATIC);
	assert_int_equal(sqlite3_step(q), SQLITE_DONE);
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_exec(st->db, "PRAGMA user_version = 10", NULL, NULL, NULL),
			 SQLITE_OK);
	store_close(&st);

	st = open_admin();
	assert_int_equal(one_int(st, "SELECT count(*) FROM users WHERE name = 'admin'"
				     " AND length(slot_pk) = 32"),
			 1);
	assert_int_equal(sqlite3_prepare_v2(st->db,
					    "SELECT sign_nonce, sign_sealed FROM users"
					    " WHERE name = 'admin'",
					    -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	keyslot_sign_key(k.box_sk, key);
	assert_int_equal(crypto_secretbox_open_easy(sealed, sqlite3_column_blob(q, 1),
						    (unsigned long long)sqlite3_column_bytes(q, 1),
						    sqlite3_column_blob(q, 0), key),
			 0);
	sqlite3_finalize(q);

	/* One's own password, then the keyslot file as it was before. */
	snprintf(keys, sizeof(keys), "%s.keys", path);
	before = slurp(keys, &len);
	assert_non_null(before);
	assert_int_equal(store_user_passwd(st, "admin", "admin-password-2", NULL), STORE_OK);
	store_close(&st);
	fp = fopen(keys, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(before, 1, len, fp), len);
	fclose(fp);
	free(before);

	st = open_admin();
	store_close(&st);
	sodium_memzero(&k, sizeof(k));
	sodium_memzero(dk, sizeof(dk));
	sodium_memzero(key, sizeof(key));
}

/* A damaged page of the users table is damage (65), not a wrong password (77). */

/*
 * Migration 12: a store of version 11, with people, memberships, history and
 * a queue, comes up to 12. Its subscribers table loses ehash and its unique
 * index and the index on domain, and nothing that points at a person is
 * lost: the table is dropped with foreign keys off.
 */
static void test_subscribers_rebuilt(void **state)
{
	struct store *st = open_admin();
	sqlite3_stmt *q = NULL;
	char *sql;

	(void)state;
	/* subscribers as migration 11 left it. */
	assert_int_equal(
	    sqlite3_exec(
		st->db,
		"PRAGMA foreign_keys = OFF; BEGIN;"
		"CREATE TABLE old (id INTEGER PRIMARY KEY, ehash INTEGER NOT NULL UNIQUE,"
		" email TEXT NOT NULL, domain TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',"
		" status TEXT NOT NULL DEFAULT 'active' " SUB_OR ","
		" suppressed INTEGER NOT NULL DEFAULT 0, attrs BLOB NOT NULL DEFAULT x'',"
		" created INTEGER NOT NULL, updated INTEGER NOT NULL);"
		"DROP TABLE subscribers; ALTER TABLE old RENAME TO subscribers;"
		"CREATE INDEX subscribers_domain ON subscribers(domain);"
		"CREATE INDEX subscribers_email ON subscribers(email COLLATE NOCASE, id);"
		"CREATE INDEX subscribers_name ON subscribers(name COLLATE NOCASE, id);"
		"INSERT INTO lists (id, name, created) VALUES ('l', 'L', 0);"
		"INSERT INTO subscribers (id, ehash, email, domain, name, status, attrs, created,"
		" updated) VALUES (7, 11, 'Ann@example.com', 'example.com', 'Ann', 'active',"
		" x'0163016b', 1, 2), (9, 22, 'bob@example.org', 'example.org', '',"
		" 'unsubscribed', x'', 3, 4);"
		"INSERT INTO memberships (list, subscriber, consent_source, created, updated)"
		" VALUES ('l', 7, 'web', 0, 0), ('l', 9, 'web', 0, 0);"
		"INSERT INTO subscriber_events (subscriber, time, event) VALUES (7, 't', 'e');"
		/* more than the rows moved at a time */
		"WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n WHERE i < 12099)"
		" INSERT INTO subscribers (id, ehash, email, domain, created, updated)"
		" SELECT i, i, 'p' || i || '@example.net', 'example.net', i, i FROM n;"
		"INSERT INTO campaigns (id, name, template, list, subject, author, created,"
		" updated) VALUES (1, 'c', 't', 'l', 's', 'a', 0, 0);"
		"INSERT INTO queue (campaign, subscriber, email, domain, updated)"
		" VALUES (1, 7, 'Ann@example.com', 'example.com', 0);"
		"COMMIT; PRAGMA user_version = 11; PRAGMA foreign_keys = ON;",
		NULL, NULL, NULL),
	    SQLITE_OK);
	store_close(&st);

	st = open_admin();
	assert_int_equal(one_int(st, "PRAGMA user_version"), LATEST);
	assert_int_equal(one_int(st, "PRAGMA foreign_keys"), 1);
	sql = table_sql(st->db, "subscribers");
	assert_null(strstr(sql, "ehash"));
	assert_non_null(strstr(sql, SUB_OR));
	free(sql);
	assert_int_equal(one_int(st, "SELECT count(*) FROM sqlite_master WHERE tbl_name ="
				     " 'subscribers' AND type = 'index'"),
			 3);
	assert_int_equal(one_int(st, "SELECT count(*) FROM sqlite_master"
				     " WHERE name = 'subscribers_domain'"),
			 0);
	/* Every row and everything that points at one is there. */
	assert_int_equal(one_int(st, "SELECT count(*) FROM subscribers WHERE id = 7"
				     " AND email = 'Ann@example.com' AND name = 'Ann'"
				     " AND attrs = x'0163016b' AND created = 1 AND updated = 2"),
			 1);
	assert_int_equal(one_int(st, "SELECT count(*) FROM subscribers WHERE id = 9"
				     " AND status = 'unsubscribed'"),
			 1);
	assert_int_equal(one_int(st, "SELECT count(*) FROM subscribers"), 12002);
	assert_int_equal(one_int(st, "SELECT sum(id) - sum(created) FROM subscribers"
				     " WHERE email LIKE 'p%@example.net'"),
			 0);
	assert_int_equal(one_int(st, "SELECT count(*) FROM memberships"), 2);
	assert_int_equal(one_int(st, "SELECT count(*) FROM subscriber_events"), 1);
	assert_int_equal(one_int(st, "SELECT count(*) FROM queue"), 1);
	/* (PRAGMA foreign_key_check of SQLite 3.15 misreads WITHOUT ROWID tables.) */
	assert_int_equal(one_int(st, "SELECT (SELECT count(*) FROM memberships WHERE subscriber"
				     " NOT IN (SELECT id FROM subscribers)) + (SELECT count(*)"
				     " FROM queue WHERE subscriber NOT IN (SELECT id FROM"
				     " subscribers))"),
			 0);
	assert_int_equal(sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal(sqlite3_column_text(q, 0), "ok");
	sqlite3_finalize(q);
	/* The address is the key now, its case ignored, through the index. */
	assert_int_equal(one_int(st, "SELECT id FROM subscribers WHERE email = 'ANN@EXAMPLE.COM'"),
			 7);
	assert_false(builds_btree(st->db, "SELECT id FROM subscribers WHERE email = 'a@b.c'"));
	assert_int_equal(sqlite3_exec(st->db,
				      "INSERT INTO subscribers (email, domain, created, updated)"
				      " VALUES ('ann@EXAMPLE.com', 'example.com', 0, 0)",
				      NULL, NULL, NULL),
			 SQLITE_CONSTRAINT);
	/* A person's rows still go with the person. */
	assert_int_equal(
	    sqlite3_exec(st->db, "DELETE FROM subscribers WHERE id = 7", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(one_int(st, "SELECT count(*) FROM memberships"), 1);
	assert_int_equal(one_int(st, "SELECT count(*) FROM queue"), 0);
	store_close(&st);
}

/*
 * Migration 14: the people of a domain on the suppression list, unmarked
 * before, are marked suppressed; the others are left as they were.
 */
static void test_domain_suppression_marked(void **state)
{
	struct store *st = open_admin();

	(void)state;
	assert_int_equal(
	    sqlite3_exec(st->db,
			 "INSERT INTO subscribers (id, email, domain, status, created, updated)"
			 " VALUES (1, 'a@blocked.example', 'blocked.example', 'active', 0, 0),"
			 " (2, 'b@blocked.example', 'blocked.example', 'unsubscribed', 0, 0),"
			 " (3, 'c@other.example', 'other.example', 'active', 0, 0);"
			 "INSERT INTO suppressions (value, kind, created, by)"
			 " VALUES ('blocked.example', 'domain', 't', 'admin');"
			 "UPDATE subscribers SET suppressed = 0; PRAGMA user_version = 13;",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	store_close(&st);

	st = open_admin();
	assert_int_equal(one_int(st, "PRAGMA user_version"), LATEST);
	assert_int_equal(one_int(st, "SELECT count(*) FROM subscribers WHERE suppressed <> 0"
				     " AND id IN (1, 2)"),
			 2);
	assert_int_equal(one_int(st, "SELECT suppressed FROM subscribers WHERE id = 3"), 0);
	store_close(&st);
}

/*
 * Migration 15: a send's event goes when the queue row that now shows it
 * is there; one with no such row (its campaign renamed, say) stays.
 */
static void test_sent_events_dropped(void **state)
{
	struct store *st = open_admin();
	struct store_subscriber *p = NULL;
	int sent = 0;
	size_t i;

	(void)state;
	assert_int_equal(
	    sqlite3_exec(
		st->db,
		"INSERT INTO lists (id, name, created) VALUES ('l', 'L', 0);"
		"INSERT INTO subscribers (id, email, domain, created, updated)"
		" VALUES (1, 'a@example.com', 'example.com', 0, 0);"
		"INSERT INTO campaigns (id, name, template, list, subject, author, created, "
		"updated)"
		" VALUES (1, 'c1', 't', 'l', 's', 'a', 0, 0), (2, 'c2', 't', 'l', 's', 'a', 0, 0);"
		"INSERT INTO queue (campaign, subscriber, email, domain, state, updated)"
		" VALUES (1, 1, 'a@example.com', 'example.com', 2, 1700000000),"
		" (2, 1, 'a@example.com', 'example.com', 4, 1700000100);"
		"INSERT INTO subscriber_events (subscriber, time, event, list, details) VALUES"
		" (1, '2023-11-14T22:13:20Z', 'sent', 'l', 'c1'),"
		" (1, '2023-11-14T22:15:00Z', 'sent', 'l', 'old name'),"
		" (1, '2023-11-14T22:15:00Z', 'failed', 'l', 'c2: 550 no');"
		"PRAGMA user_version = 14;",
		NULL, NULL, NULL),
	    SQLITE_OK);
	store_close(&st);

	st = open_admin();
	assert_int_equal(one_int(st, "PRAGMA user_version"), LATEST);
	assert_int_equal(one_int(st, "SELECT count(*) FROM subscriber_events WHERE event = 'sent'"
				     " AND details = 'old name'"),
			 1);
	assert_int_equal(one_int(st, "SELECT count(*) FROM subscriber_events"), 2);
	/* The history shows the send to c1 once, from the queue, at its time. */
	assert_int_equal(store_user_add(st, "op", "operator", "operator-password-1",
					STORE_KDF_INTERACTIVE, NULL),
			 STORE_OK);
	store_close(&st);
	assert_int_equal(store_open(path, "op", "operator-password-1", &st, NULL), STORE_OK);
	assert_int_equal(store_subscriber_get(st, "a@example.com", &p, NULL), STORE_OK);
	for (i = 0; i < p->nevents; i++)
		if (strcmp(p->events[i].event, "sent") == 0 &&
		    strcmp(p->events[i].details, "c1") == 0) {
			sent++;
			assert_string_equal(p->events[i].time, "2023-11-14T22:13:20Z");
			assert_string_equal(p->events[i].list, "l");
		}
	assert_int_equal(sent, 1);
	store_subscriber_free(&p);
	store_close(&st);
}

/* "ガ" as one character (NFC), and as "カ" with a combining mark (NFD). */
#define GA_NFC "\xe3\x82\xac"
#define GA_NFD "\xe3\x82\xab\xe3\x82\x99"

/*
 * Migration 16: names and attributes written decomposed are put in NFC,
 * attribute names too, and those lose the spaces around them; two names
 * that become one keep the first value; rows in NFC already, ASCII or not,
 * and a damaged BLOB are left alone.
 */
static void test_nfc_migrated(void **state)
{
	struct store *st = open_admin();
	sqlite3_stmt *q = NULL;
	/* Octal lengths, then the text: k<GA_NFD> = <GA_NFD>, k<GA_NFC> = x, city = Tokyo */
	static const char attrs[] =
	    "\007k" GA_NFD "\006" GA_NFD "\004k" GA_NFC "\001x\004city\005Tokyo";
	static const char want[] = "\004k" GA_NFC "\003" GA_NFC "\004city\005Tokyo";
	static const char broken[] = "\011broken";
	/* A name with spaces around it loses them, but for one left empty. */
	static const char padded[] = "\006 city \005Tokyo\001 \001x";
	static const char trimmed[] = "\004city\005Tokyo\001 \001x";

	(void)state;
	assert_int_equal(
	    sqlite3_prepare_v2(st->db,
			       "INSERT INTO subscribers (id, email, domain, name, attrs,"
			       " created, updated) VALUES (?, ?, 'example.com', ?, ?, 0, 7)",
			       -1, &q, NULL),
	    SQLITE_OK);
	struct {
		const char *email, *name, *attrs;
		int alen;
	} rows[] = {{"a@example.com", GA_NFD "-den", attrs, (int)sizeof(attrs) - 1},
		    {"b@example.com", GA_NFC "-den", padded, (int)sizeof(padded) - 1},
		    {"c@example.com", "Plain", broken, (int)sizeof(broken) - 1}};
	for (int i = 0; i < 3; i++) {
		sqlite3_bind_int(q, 1, i + 1);
		sqlite3_bind_text(q, 2, rows[i].email, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, rows[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_blob(q, 4, rows[i].attrs, rows[i].alen, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(q), SQLITE_DONE);
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_exec(st->db, "PRAGMA user_version = 15", NULL, NULL, NULL),
			 SQLITE_OK);
	store_close(&st);

	st = open_admin();
	assert_int_equal(one_int(st, "PRAGMA user_version"), LATEST);
	assert_int_equal(
	    one_int(st, "SELECT count(*) FROM subscribers WHERE name = '" GA_NFC "-den'"), 2);
	assert_int_equal(
	    sqlite3_prepare_v2(st->db, "SELECT attrs FROM subscribers ORDER BY id", -1, &q, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(q, 0), (int)sizeof(want) - 1);
	assert_memory_equal(sqlite3_column_blob(q, 0), want, sizeof(want) - 1);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(q, 0), (int)sizeof(trimmed) - 1);
	assert_memory_equal(sqlite3_column_blob(q, 0), trimmed, sizeof(trimmed) - 1);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(q, 0), (int)sizeof(broken) - 1);
	assert_memory_equal(sqlite3_column_blob(q, 0), broken, sizeof(broken) - 1);
	sqlite3_finalize(q);
	assert_int_equal(one_int(st, "SELECT count(*) FROM subscribers WHERE name = 'Plain'"), 1);
	store_close(&st);
}

/*
 * Migration 21 on a store made before it: what features read back from the
 * audit trail is filled in from it, so that pruning the trail loses none of
 * it. An erased address's entry is marked (not one whose erasure was
 * denied); a campaign last put in review by a schedule is marked, one
 * submitted again since is not; the last rejection of each campaign is kept.
 */
static void test_audit_facts_migrated(void **state)
{
	struct store *st = open_admin();

	(void)state;
	assert_int_equal(
	    sqlite3_exec(
		st->db,
		"INSERT INTO suppressions (value, kind, address, reason, created, by)"
		" VALUES ('h1', 'address', NULL, 'erased', 't', 'u'),"
		" ('h2', 'address', NULL, 'erased', 't', 'u'),"
		" ('h3', 'address', NULL, 'asked', 't', 'u');"
		"INSERT INTO campaigns (name, template, list, subject, author, created, updated)"
		" VALUES ('c1', 't', 'm', 's', 'mk', 0, 0), ('c2', 't', 'm', 's', 'mk', 0, 0),"
		" ('c3', 't', 'm', 's', 'mk', 0, 0), ('c4', 't', 'm', 's', 'mk', 0, 0);"
		"INSERT INTO audit (time, user, os_user, action, object, outcome, details, hash)"
		" VALUES ('t1', 'mk', 'x', 'subscriber.erase', 'h1', 'ok', '', x'00'),"
		" ('t1', 'eve', 'x', 'subscriber.erase', 'h2', 'denied', '', x'00'),"
		" ('t1', 'mk', 'x', 'campaign.submit', 'c1', 'ok', '', x'00'),"
		" ('t2', 'op', 'x', 'campaign.schedule', 'c1', 'ok', '', x'00'),"
		" ('t2', 'op', 'x', 'campaign.schedule', 'c2', 'ok', '', x'00'),"
		" ('t3', 'mk', 'x', 'campaign.resubmit', 'c2', 'ok', '', x'00'),"
		" ('t4', 'op', 'x', 'campaign.schedule', 'c2', 'denied', '', x'00'),"
		" ('2026-01-02T03:04:05Z', 'ken', 'x', 'campaign.reject', 'c3', 'ok', '', x'00'),"
		" ('2026-02-03T04:05:06Z', 'ana', 'x', 'campaign.reject', 'c3', 'ok', '', x'00'),"
		" ('2026-03-03T04:05:06Z', 'eve', 'x', 'campaign.reject', 'c3', 'denied', '', "
		"x'00');"
		"PRAGMA user_version = 20;",
		NULL, NULL, NULL),
	    SQLITE_OK);
	store_close(&st);

	st = open_admin();
	assert_int_equal(one_int(st, "PRAGMA user_version"), LATEST);
	assert_int_equal(one_int(st, "SELECT erased FROM suppressions WHERE value = 'h1'"), 1);
	assert_int_equal(one_int(st, "SELECT erased FROM suppressions WHERE value = 'h2'"), 0);
	assert_int_equal(one_int(st, "SELECT erased FROM suppressions WHERE value = 'h3'"), 0);
	assert_int_equal(one_int(st, "SELECT scheduled_review FROM campaigns WHERE name = 'c1'"),
			 1);
	assert_int_equal(one_int(st, "SELECT scheduled_review FROM campaigns WHERE name = 'c2'"),
			 0);
	assert_int_equal(
	    one_int(st, "SELECT count(*) FROM campaigns WHERE name = 'c3'"
			" AND rejected_by = 'ana' AND rejected_at = '2026-02-03T04:05:06Z'"),
	    1);
	assert_int_equal(one_int(st, "SELECT count(*) FROM campaigns WHERE rejected_by IS NULL"),
			 3);
	store_close(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_new_store_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checks_migrated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_editors_migrated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reasons_migrated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sign_key_migrated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_subscribers_rebuilt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_domain_suppression_marked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sent_events_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nfc_migrated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_facts_migrated, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
