/*
 * store/segment_sql.c: segments saved, counted and walked; the SQL functions
 * that compiled segments call.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/segment_private.h"

/* ---- SQL functions ------------------------------------------------------ */

/* hato_attr(blob, key): the attribute's value, or NULL. */
static void fn_attr(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const unsigned char *blob = sqlite3_value_blob(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	const char *key = (const char *)sqlite3_value_text(argv[1]);
	int kl = sqlite3_value_bytes(argv[1]);
	const char *v;
	size_t vl;

	(void)argc;
	if (blob == NULL || key == NULL)
		return;
	if (attrs_find(blob, (size_t)n, key, (size_t)kl, &v, &vl))
		sqlite3_result_text(cx, v, (int)vl, SQLITE_TRANSIENT);
}

static void fn_text(sqlite3_context *cx, sqlite3_value **argv, int how)
{
	const char *h = (const char *)sqlite3_value_text(argv[0]);
	const char *n = (const char *)sqlite3_value_text(argv[1]);
	size_t hl, nl;
	int r = 0;

	if (h != NULL && n != NULL) {
		hl = (size_t)sqlite3_value_bytes(argv[0]);
		nl = (size_t)sqlite3_value_bytes(argv[1]);
		if (how == 0)
			r = memmem(h, hl, n, nl) != NULL;
		else if (nl <= hl)
			r = memcmp(how == 1 ? h : h + hl - nl, n, nl) == 0;
	}
	sqlite3_result_int(cx, r);
}

/* hato_unseen(x): NULL when x holds an "@", else x (segment.c, emit_field). */
static void fn_unseen(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const char *x = (const char *)sqlite3_value_text(argv[0]);

	(void)argc;
	if (x != NULL && memchr(x, '@', (size_t)sqlite3_value_bytes(argv[0])) == NULL)
		sqlite3_result_value(cx, argv[0]);
}

static void fn_contains(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	(void)argc;
	fn_text(cx, argv, 0);
}

static void fn_starts(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	(void)argc;
	fn_text(cx, argv, 1);
}

static void fn_ends(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	(void)argc;
	fn_text(cx, argv, 2);
}

/* Registers the functions compiled segments call on one connection. */
static int sql_functions_on(sqlite3 *db)
{
	static const struct {
		const char *name;
		int n;
		void (*fn)(sqlite3_context *, int, sqlite3_value **);
	} fns[] = {
	    {"hato_attr", 2, fn_attr},	     {"hato_numcmp", 2, seg_fn_numcmp},
	    {"hato_numin", 2, seg_fn_numin}, {"hato_contains", 2, fn_contains},
	    {"hato_starts", 2, fn_starts},   {"hato_ends", 2, fn_ends},
	    {"hato_unseen", 1, fn_unseen},
	};
	size_t i;

	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (sqlite3_create_function(db, fns[i].name, fns[i].n,
					    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, fns[i].fn,
					    NULL, NULL) != SQLITE_OK)
			return SQLITE_ERROR;
	return SQLITE_OK;
}

enum store_status store_sql_functions(struct store *st, char **errstr)
{
	if (sql_functions_on(st->db) != SQLITE_OK)
		return store_sqlfail(st, errstr, "setting up segments");
	return STORE_OK;
}

/* ---- Evaluating --------------------------------------------------------- */

#define RECIPIENTS                                                                                 \
	" FROM subscribers s CROSS JOIN memberships m"                                             \
	" ON m.subscriber = s.id AND m.list = ?"                                                   \
	" WHERE m.status = 'active' AND s.status = 'active'"                                       \
	" AND s.suppressed = 0"                                                                    \
	" AND s.domain NOT IN (SELECT value FROM suppressions WHERE kind = 'domain') AND "

/* select + the recipients of the list matching c + tail (allocated), or NULL. */
static char *segment_sql_text(const char *select, const struct seg_sql *c, const char *tail)
{
	size_t n = strlen(select) + strlen(RECIPIENTS) + strlen(c->where) + strlen(tail) + 1;
	char *sql = malloc(n);

	if (sql != NULL)
		snprintf(sql, n, "%s%s%s%s", select, RECIPIENTS, c->where, tail);
	return sql;
}

/* Binds the list (?1) and the expression's values (?2...). */
static void segment_bind(sqlite3_stmt *q, const char *list, const struct seg_sql *c)
{
	size_t i;

	sqlite3_bind_text(q, 1, list, -1, SQLITE_TRANSIENT);
	for (i = 0; i < c->nbinds; i++) {
		int k = (int)i + 2;
		if (c->binds[i].type == SEG_TEXT)
			sqlite3_bind_text(q, k, c->binds[i].text, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(q, k, c->binds[i].i);
	}
}

/* Checks the list and compiles expr for this connection (masked: segment_compile). */
static enum store_status segment_start(struct store *st, const char *list, const char *expr,
				       bool masked, struct seg_sql *c, char **errstr)
{
	enum store_status s = store_list_check(st, list, errstr);

	memset(c, 0, sizeof(*c));
	if (s == STORE_OK)
		s = store_sql_functions(st, errstr);
	if (s == STORE_OK)
		s = segment_compile(expr, time(NULL), masked, c, errstr);
	return s;
}

static enum store_status prepare_segment(struct store *st, const char *select, const char *tail,
					 const char *list, const char *expr, sqlite3_stmt **q,
					 char **errstr)
{
	struct seg_sql c;
	enum store_status s;
	char *sql = NULL;

	*q = NULL;
	s = segment_start(st, list, expr, false, &c, errstr);
	if (s != STORE_OK)
		return s;
	sql = segment_sql_text(select, &c, tail);
	s = sql != NULL ? store_prepare(st, sql, q, errstr) : STORE_ENOMEM;
	if (s == STORE_OK)
		segment_bind(*q, list, &c);
	free(sql);
	segment_sql_free(&c);
	return s;
}

/* ---- Counting ------------------------------------------------------------ */

/*
 * A count over many people runs on every core: each thread counts a range
 * of subscriber ids on a connection of its own (WAL lets readers run side
 * by side), and the calling thread counts the first range on the store's.
 * A write committed meanwhile may be seen by some ranges and not others,
 * as it may by a count that starts a moment later.
 */
#define COUNT_THREADS_MAX 4

int64_t store_count_split_min = 100000;

struct count_part {
	const struct store *st; /* its path and data key, read only */
	const char *sql, *list;
	const struct seg_sql *c;
	int64_t lo, hi; /* the ids counted: lo <= id < hi */
	int64_t count;
	enum store_status s;
	pthread_t thread;
	bool started;
};

static enum store_status count_on(sqlite3 *db, struct count_part *p)
{
	sqlite3_stmt *q = NULL;
	int k = (int)p->c->nbinds + 2, rc;

	rc = sqlite3_prepare_v2(db, p->sql, -1, &q, NULL);
	if (rc == SQLITE_OK) {
		segment_bind(q, p->list, p->c);
		sqlite3_bind_int64(q, k, p->lo);
		sqlite3_bind_int64(q, k + 1, p->hi);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW)
			p->count = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return (rc & 0xff) == SQLITE_BUSY ? STORE_EBUSY : STORE_EIO;
}

static void *count_thread(void *arg)
{
	struct count_part *p = arg;
	sqlite3 *db = NULL;

	p->s = store_db_open(p->st->path, p->st->data_key, &db, NULL);
	if (p->s == STORE_OK && sql_functions_on(db) != SQLITE_OK)
		p->s = STORE_EIO;
	if (p->s == STORE_OK)
		p->s = count_on(db, p);
	sqlite3_close(db);
	return NULL;
}

/*
 * How many ranges to count: one per core when the ids are many, else one.
 * Inside a transaction the other connections would not see its writes: one.
 */
static size_t count_parts(struct store *st, int64_t *max_id)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	*max_id = 0;
	if (st->tx_depth > 0 || cpus < 2 ||
	    store_query_int(st, "SELECT coalesce(max(id), 0) FROM subscribers", max_id, NULL, 0) !=
		STORE_OK ||
	    *max_id < store_count_split_min)
		return 1;
	return cpus < COUNT_THREADS_MAX ? (size_t)cpus : COUNT_THREADS_MAX;
}

static enum store_status count_parallel(struct store *st, const char *list, const struct seg_sql *c,
					int64_t *count, char **errstr)
{
	struct count_part parts[COUNT_THREADS_MAX];
	int64_t max_id, step;
	size_t n = count_parts(st, &max_id), i;
	enum store_status s = STORE_OK;
	char tail[64], *sql;

	snprintf(tail, sizeof(tail), " AND s.id >= ?%zu AND s.id < ?%zu", c->nbinds + 2,
		 c->nbinds + 3);
	sql = segment_sql_text("SELECT count(*)", c, tail);
	if (sql == NULL)
		return STORE_ENOMEM;
	step = max_id / (int64_t)n + 1;
	for (i = 0; i < n; i++) {
		parts[i] = (struct count_part){
		    .st = st,
		    .sql = sql,
		    .list = list,
		    .c = c,
		    .lo = (int64_t)i * step,
		    .hi = i + 1 == n ? INT64_MAX : (int64_t)(i + 1) * step,
		    .s = STORE_OK,
		};
		if (i > 0)
			parts[i].started =
			    pthread_create(&parts[i].thread, NULL, count_thread, &parts[i]) == 0;
	}
	parts[0].s = count_on(st->db, &parts[0]);
	*count = 0;
	for (i = 0; i < n; i++) {
		if (i > 0 && parts[i].started)
			pthread_join(parts[i].thread, NULL);
		/* a range whose thread or connection failed is counted here */
		if (i > 0 && (!parts[i].started || parts[i].s != STORE_OK))
			parts[i].s = count_on(st->db, &parts[i]);
		if (parts[i].s != STORE_OK && s == STORE_OK)
			s = parts[i].s;
		*count += parts[i].count;
	}
	free(sql);
	if (s != STORE_OK)
		return store_sqlfail(st, errstr, "counting a segment");
	return STORE_OK;
}

enum store_status store_segment_count(struct store *st, const char *list, const char *expr,
				      int64_t *count, char **errstr)
{
	enum store_status s;
	struct seg_sql c;

	*count = 0;
	/* A count reveals nobody: whoever may see campaigns may see their audience's size. */
	s = store_can(st, STORE_PERM_CAMPAIGNS_READ)
		? STORE_OK
		: store_require(st, STORE_PERM_SUBSCRIBERS_READ, "segment.count", errstr);
	if (s != STORE_OK)
		return s;
	s = segment_start(st, list, expr, !store_can(st, STORE_PERM_PII), &c, errstr);
	/*
	 * A count of "email starts_with ..." probed letter by letter would spell
	 * out the addresses that masking hides, and one of `name = "a@b.jp"`
	 * (or any field compared with an address) would confirm a guessed one:
	 * testing email, or any value holding an "@", needs pii. Without it,
	 * the addresses in names and attributes are not there (emit_field).
	 */
	if (s == STORE_OK && c.tests_email && !store_can(st, STORE_PERM_PII))
		s = store_deny(st, "segment.count", list, "needs permission pii", errstr,
			       "the expression tests email addresses (the field email, or a "
			       "value holding an \"@\"), which needs the permission \"pii\" "
			       "(test domain instead)");
	if (s == STORE_OK)
		s = count_parallel(st, list, &c, count, errstr);
	segment_sql_free(&c);
	return s;
}

enum store_status store_segment_recipients(struct store *st, const char *list, const char *expr,
					   store_recipient_cb cb, void *arg, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL, *supp = NULL;
	struct store_recipient r;
	struct store_attr *attrs = NULL;
	size_t nattrs = 0;
	char h[65];
	int rc;

	s = store_require(st, STORE_PERM_SUBSCRIBERS_READ, "segment.recipients", errstr);
	if (s == STORE_OK)
		s = prepare_segment(st, "SELECT s.id, s.email, s.name, s.domain, s.attrs",
				    " ORDER BY s.id", list, expr, &q, errstr);
	if (s == STORE_OK)
		s = store_prepare(st, "SELECT 1 FROM suppressions WHERE value = ?", &supp, errstr);
	if (s != STORE_OK)
		goto done;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		r.id = sqlite3_column_int64(q, 0);
		r.email = (const char *)sqlite3_column_text(q, 1);
		r.name = (const char *)sqlite3_column_text(q, 2);
		r.domain = (const char *)sqlite3_column_text(q, 3);
		/* The flag mirrors the hash list; check the hash once more all the same. */
		store_address_hash(st, r.email, h);
		sqlite3_bind_text(supp, 1, h, -1, SQLITE_STATIC);
		rc = sqlite3_step(supp);
		sqlite3_reset(supp);
		if (rc == SQLITE_ROW)
			continue;
		s = attrs_decode(sqlite3_column_blob(q, 4), (size_t)sqlite3_column_bytes(q, 4),
				 &attrs, &nattrs);
		if (s != STORE_OK)
			break;
		r.attrs = attrs;
		r.nattrs = nattrs;
		rc = cb(&r, arg);
		attrs_array_free(attrs, nattrs);
		attrs = NULL;
		if (rc != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (s == STORE_OK && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "walking a segment");
done:
	sqlite3_finalize(q);
	sqlite3_finalize(supp);
	return s;
}

/* ---- Saved segments ----------------------------------------------------- */

enum store_status store_segment_add(struct store *st, const char *name, const char *list,
				    const char *expr, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char now[21];

	s = store_require(st, STORE_PERM_SEGMENTS, "segment.add", errstr);
	if (s == STORE_OK)
		s = store_name_check("segment", name, errstr);
	if (s == STORE_OK)
		s = store_segment_check(expr, errstr);
	if (s != STORE_OK)
		return s;
	store_utc_now(now);
	s = store_begin_err(st, errstr, "adding a segment");
	if (s != STORE_OK)
		return s;
	s = store_list_check(st, list, errstr);
	if (s == STORE_OK)
		s = store_case_twin(st, "segments", "name", "segment", "segment names", name,
				    errstr);
	if (s == STORE_OK)
		s = store_prepare(st,
				  "INSERT INTO segments (name, list, expr, created, by)"
				  " VALUES (?,?,?,?,?)",
				  &q, errstr);
	if (s == STORE_OK) {
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, list, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, expr, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 4, now, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 5, store_user(st), -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			s = (sqlite3_errcode(st->db) & 0xff) == SQLITE_CONSTRAINT
				? store_fail(errstr, STORE_EEXIST, "the segment %s exists already",
					     name)
				: store_sqlfail(st, errstr, "adding a segment");
		sqlite3_finalize(q);
	}
	if (s == STORE_OK)
		s = store_audit(st, "segment.add", name, "ok", list);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

enum store_status store_segment_rm(struct store *st, const char *name, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	s = store_require(st, STORE_PERM_SEGMENTS, "segment.rm", errstr);
	if (s == STORE_OK)
		s = store_prepare(st, "DELETE FROM segments WHERE name = ?", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "removing a segment");
	else if (sqlite3_changes(st->db) == 0)
		s = store_fail(errstr, STORE_ENOTFOUND, "there is no segment %s", name);
	sqlite3_finalize(q);
	if (s == STORE_OK)
		s = store_audit(st, "segment.rm", name, "ok", NULL);
	return s;
}

enum store_status store_segment_ls(struct store *st, store_segment_cb cb, void *arg, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct store_segment_info x;
	char *shown;
	int rc;

	s = store_require(st, STORE_PERM_SUBSCRIBERS_READ, "segment.ls", errstr);
	if (s == STORE_OK)
		s = store_prepare(
		    st, "SELECT name, list, expr, created, by FROM segments ORDER BY name", &q,
		    errstr);
	if (s != STORE_OK)
		return s;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		x.name = (const char *)sqlite3_column_text(q, 0);
		x.list = (const char *)sqlite3_column_text(q, 1);
		x.created = (const char *)sqlite3_column_text(q, 3);
		x.by = (const char *)sqlite3_column_text(q, 4);
		/* An address in an expression is masked as it is everywhere else. */
		shown = store_segment_mask(st, (const char *)sqlite3_column_text(q, 2));
		if (shown == NULL) {
			s = STORE_ENOMEM;
			break;
		}
		x.expr = shown;
		rc = cb(&x, arg);
		free(shown);
		if (rc != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(q);
	if (s != STORE_OK)
		return s;
	return rc == SQLITE_DONE ? STORE_OK : store_sqlfail(st, errstr, "listing segments");
}

enum store_status store_segment_get(struct store *st, const char *name, char **list, char **expr,
				    char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	int rc;

	*list = *expr = NULL;
	s = store_prepare(st, "SELECT list, expr FROM segments WHERE name = ?", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*list = strdup((const char *)sqlite3_column_text(q, 0));
		*expr = strdup((const char *)sqlite3_column_text(q, 1));
		if (*list == NULL || *expr == NULL) {
			free(*list);
			free(*expr);
			*list = *expr = NULL;
			s = STORE_ENOMEM;
		}
	} else {
		s = rc == SQLITE_DONE
			? store_fail(errstr, STORE_ENOTFOUND,
				     "there is no segment %s; see: hato segment ls", name)
			: store_sqlfail(st, errstr, "reading a segment");
	}
	sqlite3_finalize(q);
	return s;
}
