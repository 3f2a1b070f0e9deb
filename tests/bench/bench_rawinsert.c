/*
 * bench_rawinsert: the floor for `hato import`. Inserts the rows of a simple
 * CSV (no quoting: the benchmark's own file) into a fresh SQLCipher database
 * in one transaction, with a raw key and hato's pragmas (cipher_page_size
 * 4096, WAL, synchronous NORMAL), into one plain table without indexes.
 *
 * usage: bench_rawinsert FILE.csv DB
 * prints: rows seconds
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COLS 7

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	FILE *in;
	char line[4096];
	long rows = 0;
	double t0;
	int i;

	if (argc != 3) {
		fprintf(stderr, "usage: bench_rawinsert FILE.csv DB\n");
		return 64;
	}
	in = fopen(argv[1], "r");
	if (in == NULL || sqlite3_open(argv[2], &db) != SQLITE_OK) {
		fprintf(stderr, "bench_rawinsert: cannot open %s or %s\n", argv[1], argv[2]);
		return 66;
	}
	t0 = now();
	sqlite3_exec(db,
		     "PRAGMA key = \"x'000102030405060708090a0b0c0d0e0f"
		     "101112131415161718191a1b1c1d1e1f'\";"
		     "PRAGMA cipher_page_size = 4096; PRAGMA journal_mode = WAL;"
		     "PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON;"
		     "CREATE TABLE t (c0 TEXT, c1 TEXT, c2 TEXT, c3 TEXT, c4 TEXT, c5 TEXT, c6 TEXT);"
		     "BEGIN;",
		     NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?,?,?,?,?,?,?)", -1, &q, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "bench_rawinsert: %s\n", sqlite3_errmsg(db));
		return 70;
	}
	if (fgets(line, sizeof(line), in) == NULL) /* the header */
		return 65;
	while (fgets(line, sizeof(line), in) != NULL) {
		char *p = line, *f;
		line[strcspn(line, "\r\n")] = '\0';
		for (i = 0; i < COLS; i++) {
			f = p;
			p = strchr(p, ',');
			if (p != NULL)
				*p++ = '\0';
			sqlite3_bind_text(q, i + 1, f, -1, SQLITE_STATIC);
			if (p == NULL)
				p = f + strlen(f);
		}
		if (sqlite3_step(q) != SQLITE_DONE) {
			fprintf(stderr, "bench_rawinsert: %s\n", sqlite3_errmsg(db));
			return 70;
		}
		sqlite3_reset(q);
		rows++;
	}
	sqlite3_finalize(q);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	printf("%ld %.3f\n", rows, now() - t0);
	fclose(in);
	return 0;
}
