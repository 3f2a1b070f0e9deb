/*
 * tests/store/explain.h: what SQLite compiles a statement into. SQLite 3.15
 * builds a temporary b-tree (OpenEphemeral) for an IN list of more than two
 * constants, or for IN (SELECT ...) with a WHERE, every time the statement
 * runs: tens of thousands of instructions, where a statement that runs for
 * each row or each message cannot afford them.
 */
#ifndef HATO_TESTS_EXPLAIN_H
#define HATO_TESTS_EXPLAIN_H

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* Does the program SQLite compiles for sql open a temporary b-tree? */
static int builds_btree(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q = NULL;
	char explain[2048];
	int found = 0;

	snprintf(explain, sizeof(explain), "EXPLAIN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(db, explain, -1, &q, NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW)
		found |= strcmp((const char *)sqlite3_column_text(q, 1), "OpenEphemeral") == 0;
	sqlite3_finalize(q);
	return found;
}

#endif
