/*
 * store/schema.c: the versioned schema. PRAGMA user_version holds the number
 * of the last migration applied; store_migrate applies the newer ones inside
 * one transaction, so a store is never left half migrated.
 *
 * SQLCipher 3.4.1 is SQLite 3.15.2: no UPSERT, no window functions, no
 * RETURNING, no JSON1.
 */
#include <stdio.h>

#include "store/private.h"

struct migration {
	int version;
	const char *sql;
};

static const struct migration migrations[] = {
	{1, "CREATE TABLE secrets ("
	    "  name TEXT PRIMARY KEY, value BLOB NOT NULL);"
	    "CREATE TABLE roles ("
	    "  name TEXT PRIMARY KEY, builtin INTEGER NOT NULL DEFAULT 0);"
	    "CREATE TABLE role_perms ("
	    "  role TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE,"
	    "  perm TEXT NOT NULL, PRIMARY KEY (role, perm));"
	    "CREATE TABLE users ("
	    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	    "  role TEXT NOT NULL REFERENCES roles(name),"
	    "  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','disabled')),"
	    "  created INTEGER NOT NULL,"
	    "  sign_pk BLOB NOT NULL, sign_nonce BLOB NOT NULL, sign_sealed BLOB NOT NULL);"
	    "CREATE TABLE audit ("
	    "  id INTEGER PRIMARY KEY, time TEXT NOT NULL, user TEXT NOT NULL,"
	    "  os_user TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL,"
	    "  outcome TEXT NOT NULL, details TEXT NOT NULL, hash BLOB NOT NULL);"
	    "CREATE INDEX audit_time ON audit(time);"
	    "CREATE TABLE config ("
	    "  key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	    "INSERT INTO roles VALUES ('admin',1),('marketer',1),('operator',1),('viewer',1);"
	    "INSERT INTO role_perms VALUES "
	    "('admin','users'),('admin','roles'),('admin','settings'),"
	    "('admin','keys'),('admin','audit'),('admin','reports'),"
	    "('admin','campaigns.read');"
	    "INSERT INTO role_perms VALUES "
	    "('marketer','reports'),('marketer','subscribers.read'),"
	    "('marketer','subscribers.write'),('marketer','subscribers.export'),"
	    "('marketer','subscribers.erase'),('marketer','pii'),"
	    "('marketer','lists'),('marketer','segments'),('marketer','templates'),"
	    "('marketer','campaigns.read'),('marketer','campaigns.edit');"
	    "INSERT INTO role_perms VALUES "
	    "('operator','reports'),('operator','subscribers.read'),"
	    "('operator','pii'),('operator','campaigns.read'),"
	    "('operator','campaigns.approve'),('operator','campaigns.send');"
	    "INSERT INTO role_perms VALUES "
	    "('viewer','reports'),('viewer','subscribers.read'),"
	    "('viewer','campaigns.read');"},
	/* Later issues append their migrations here, in order. */
};

enum store_status store_migrate(struct store *st, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *stmt = NULL;
	char sql[64];
	int have = 0;
	size_t i;

	s = store_begin(st);
	if (s != STORE_OK)
		return store_sqlfail(st, errstr, "migrating the store");
	s = store_prepare(st, "PRAGMA user_version", &stmt, errstr);
	if (s != STORE_OK)
		goto done;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		have = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (have > migrations[sizeof(migrations) / sizeof(migrations[0]) - 1].version) {
		s = store_fail(errstr, STORE_ECORRUPT,
			       "the store has schema version %d, newer than this hato knows; "
			       "upgrade hato",
			       have);
		goto done;
	}
	for (i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
		if (migrations[i].version <= have)
			continue;
		if (sqlite3_exec(st->db, migrations[i].sql, NULL, NULL, NULL) != SQLITE_OK) {
			s = store_sqlfail(st, errstr, "migrating the store");
			goto done;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", migrations[i].version);
		s = store_exec(st, sql, errstr);
		if (s != STORE_OK)
			goto done;
	}
done:
	if (s == STORE_OK)
		return store_commit(st);
	store_rollback(st);
	return s;
}
