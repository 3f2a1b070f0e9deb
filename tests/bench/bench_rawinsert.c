/*
 * bench_rawinsert: the floor for `hato import`. Inserts the rows of a simple
 * CSV (no quoting: the benchmark's own file) into a fresh SQLCipher database
 * in one transaction, with a raw key and hato's pragmas (cipher_page_size
 * 8192, WAL, synchronous NORMAL, secure_delete). Three shapes, the first
 * two into tables without any index, key or constraint:
 *
 *   plain    the 7 CSV fields as 7 TEXT columns of one table: the same rows.
 *   address  plain, with one index: the address, unique with ASCII case
 *            ignored (a repeat is skipped), as the dedupe against the store
 *            needs. What that one index costs on top of the floor.
 *   content  the same logical content hato stores for each new person: a
 *            subscriber row (id, email, domain, name, status, attribute
 *            BLOB in hato's encoding, created, updated) and a membership
 *            row (list, subscriber, status, consent source, time, method,
 *            text, IP, created, updated, version, confirmation). Rows without '@' are skipped;
 *            duplicates are inserted again. No validation, no dedupe.
 *   indexed  content, with the keys and indexes hato's schema has: the
 *            address, unique with ASCII case ignored (a repeat is skipped,
 *            with its membership), the name (case ignored, for the
 *            subscriber browser), the partial index of the inactive, the
 *            membership keyed by person and list (WITHOUT ROWID) and its
 *            index by list, and hato's 40 MB page cache for the import.
 *            What SQLite alone costs for hato's rows, without checks or
 *            parsing.
 *
 * usage: bench_rawinsert FILE.csv DB [plain|address|content|indexed]
 * prints: rows seconds
 */
#include <sqlite3.h>
#include <stdint.h>
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

/* hato's attribute encoding: varint(key length) key varint(value length) value. */
static size_t put(unsigned char *b, size_t n, const char *s)
{
	size_t l = strlen(s);

	b[n++] = (unsigned char)l; /* the benchmark's keys and values are short */
	memcpy(b + n, s, l);
	return n + l;
}

static const char plain_sql[] =
    "CREATE TABLE t (c0 TEXT, c1 TEXT, c2 TEXT, c3 TEXT, c4 TEXT, c5 TEXT, c6 TEXT);";
static const char address_sql[] = "CREATE UNIQUE INDEX t_email ON t(c0 COLLATE NOCASE);";
static const char content_sql[] =
    "CREATE TABLE s (id INTEGER PRIMARY KEY, email TEXT, domain TEXT,"
    " name TEXT, status TEXT, attrs BLOB, created INTEGER, updated INTEGER);"
    "CREATE TABLE m (list TEXT, subscriber INTEGER, status TEXT, consent_source TEXT,"
    " consent_at TEXT, consent_method TEXT, consent_text TEXT, consent_ip TEXT,"
    " created INTEGER, updated INTEGER, consent_version TEXT, consent_confirmed TEXT);";

static const char indexed_sql[] =
    "PRAGMA cache_size = -40000;"
    "DROP TABLE m;"
    "CREATE TABLE m (list TEXT, subscriber INTEGER, status TEXT, consent_source TEXT,"
    " consent_at TEXT, consent_method TEXT, consent_text TEXT, consent_ip TEXT,"
    " created INTEGER, updated INTEGER, consent_version TEXT, consent_confirmed TEXT,"
    " PRIMARY KEY (subscriber, list)) WITHOUT ROWID;"
    "CREATE INDEX m_list ON m(list, subscriber);"
    "CREATE UNIQUE INDEX s_email ON s(email COLLATE NOCASE);"
    "CREATE INDEX s_name ON s(name COLLATE NOCASE, id);"
    "CREATE INDEX s_inactive ON s(status, email COLLATE NOCASE, id) WHERE status <> 'active';";

static int step(sqlite3 *db, sqlite3_stmt *q)
{
	if (sqlite3_step(q) != SQLITE_DONE) {
		fprintf(stderr, "bench_rawinsert: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_reset(q);
	return 0;
}

/* One row of fields f[0..6]: 0, 1 when skipped, -1 on error. */
static int content_row(sqlite3 *db, sqlite3_stmt *s, sqlite3_stmt *m, char **f, int64_t id,
		       int64_t t)
{
	static const char *const keys[] = {"city", "plan", "age", "score", "tag"};
	unsigned char blob[1024];
	const char *at = strrchr(f[0], '@');
	size_t n = 0;
	int i;

	if (at == NULL)
		return 1;
	for (i = 0; i < 5; i++) {
		if (strlen(f[2 + i]) > 127)
			return 1;
		n = put(blob, n, keys[i]);
		n = put(blob, n, f[2 + i]);
	}
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, f[0], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, at + 1, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, f[1], -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, blob, (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, t);
	if (step(db, s) != 0)
		return -1;
	if (sqlite3_changes(db) == 0) /* a repeat, with the unique address of indexed */
		return 1;
	sqlite3_bind_int64(m, 1, id);
	sqlite3_bind_int64(m, 2, t);
	return step(db, m);
}

int main(int argc, char **argv)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL, *m = NULL;
	FILE *in;
	char line[4096], *f[COLS];
	long rows = 0;
	int64_t id = 1, t = (int64_t)time(NULL);
	double t0;
	int i, indexed = argc == 4 && strcmp(argv[3], "indexed") == 0;
	int content = indexed || (argc == 4 && strcmp(argv[3], "content") == 0);
	int address = argc == 4 && strcmp(argv[3], "address") == 0;

	if (argc < 3 || argc > 4 ||
	    (argc == 4 && !content && !address && strcmp(argv[3], "plain") != 0)) {
		fprintf(stderr,
			"usage: bench_rawinsert FILE.csv DB [plain|address|content|indexed]\n");
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
		     "PRAGMA cipher_page_size = 8192; PRAGMA journal_mode = WAL;"
		     "PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON;",
		     NULL, NULL, NULL);
	sqlite3_exec(db, content ? content_sql : plain_sql, NULL, NULL, NULL);
	if (indexed)
		sqlite3_exec(db, indexed_sql, NULL, NULL, NULL);
	if (address)
		sqlite3_exec(db, address_sql, NULL, NULL, NULL);
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db,
			       content ? "INSERT OR IGNORE INTO s VALUES (?,?,?,?,'active',?,?6,?6)"
			       : address ? "INSERT OR IGNORE INTO t VALUES (?,?,?,?,?,?,?)"
					 : "INSERT INTO t VALUES (?,?,?,?,?,?,?)",
			       -1, &q, NULL) != SQLITE_OK ||
	    (content && sqlite3_prepare_v2(db,
					   "INSERT INTO m VALUES ('bench',?1,'active','import',"
					   "'2026-01-01T00:00:00Z','import','','',?2,?2,'','')",
					   -1, &m, NULL) != SQLITE_OK)) {
		fprintf(stderr, "bench_rawinsert: %s\n", sqlite3_errmsg(db));
		return 70;
	}
	if (fgets(line, sizeof(line), in) == NULL) /* the header */
		return 65;
	while (fgets(line, sizeof(line), in) != NULL) {
		char *p = line;
		line[strcspn(line, "\r\n")] = '\0';
		for (i = 0; i < COLS; i++) {
			f[i] = p;
			p = strchr(p, ',');
			if (p != NULL)
				*p++ = '\0';
			else
				p = f[i] + strlen(f[i]);
		}
		if (content) {
			int r = content_row(db, q, m, f, id, t);
			if (r < 0)
				return 70;
			if (r == 0)
				id++;
		} else {
			for (i = 0; i < COLS; i++)
				sqlite3_bind_text(q, i + 1, f[i], -1, SQLITE_STATIC);
			if (step(db, q) != 0)
				return 70;
		}
		rows++;
	}
	sqlite3_finalize(q);
	sqlite3_finalize(m);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	printf("%ld %.3f\n", rows, now() - t0);
	fclose(in);
	return 0;
}
