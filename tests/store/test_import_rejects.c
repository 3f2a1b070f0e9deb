/*
 * An import's rejects file and its failures, against a real encrypted
 * store: the rejects are on the disk before the import commits, or nothing
 * is imported; a rejects file made only when a row is bad; a huge field over
 * many lines counted once; the audit record of a failed import says why,
 * naming nobody.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/subscribers_private.h"
#include "subs_fixture.h"

/* The last audit record's outcome and details (allocated). */
static void last_audit(struct store *st, char **outcome, char **details)
{
	sqlite3_stmt *q = NULL;

	assert_int_equal(sqlite3_prepare_v2(st->db,
					    "SELECT outcome, details FROM audit ORDER BY id DESC"
					    " LIMIT 1",
					    -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	*outcome = strdup((const char *)sqlite3_column_text(q, 0));
	*details = strdup((const char *)sqlite3_column_text(q, 1));
	sqlite3_finalize(q);
}

/* Imports path into news with o's rejects (source "test"). */
static enum store_status import_opts(struct store *st, const char *path,
				     struct store_import_opts *o, struct store_import_stats *s,
				     char **err)
{
	enum store_status rc;
	FILE *in = fopen(path, "rb");

	assert_non_null(in);
	o->source = "test";
	rc = store_subscriber_import(st, "news", in, o, s, err);
	fclose(in);
	return rc;
}

static enum store_status import_to(struct store *st, const char *path, FILE *rejects,
				   struct store_import_stats *s, char **err)
{
	struct store_import_opts o = {0};

	o.rejects = rejects;
	o.rejects_name = "rej.csv";
	return import_opts(st, path, &o, s, err);
}

/* One good row, then n bad ones (long addresses that are not). */
static const char *good_then_bad(int n)
{
	const char *f = fx_file("mixed.csv", "", 0);
	FILE *fp = fopen(f, "w");

	assert_non_null(fp);
	fputs("email,name\ngood@example.com,Good\n", fp);
	for (int i = 0; i < n; i++)
		fprintf(fp, "bad%d-%0200d,x\n", i, 0);
	fclose(fp);
	return f;
}

static void fails_for_full_disk(struct store *st, const char *f)
{
	struct store_import_stats s;
	char *err = NULL, *outcome, *details;
	FILE *full = fopen("/dev/full", "w");

	assert_non_null(full);
	assert_int_equal(import_to(st, f, full, &s, &err), STORE_EIO);
	fclose(full);
	assert_non_null(err);
	if (strstr(err, "cannot write rej.csv: the disk is full") == NULL)
		fail_msg("the error does not say the rejects could not be written: %s", err);
	free(err);
	/* The good row is not in: the store is as it was. */
	assert_int_equal(fx_count(st, "news", NULL), 0);
	/* The audit says it failed, and why. */
	last_audit(st, &outcome, &details);
	assert_string_equal(outcome, "failed");
	if (strstr(details, "rolled back at row") == NULL ||
	    strstr(details, "the disk is full") == NULL)
		fail_msg("the audit record does not say why: %s", details);
	free(outcome);
	free(details);
}

/* A rejects file that can't be written fails the import, whether the write
 * fails while rows are read (many rejects) or only when it is flushed
 * before the commit (one reject, still in stdio's buffer). */
static void test_rejects_unwritable(void **state)
{
	struct store *st = *state;

	fails_for_full_disk(st, good_then_bad(5000));
	fails_for_full_disk(st, good_then_bad(1));
}

struct opener {
	int calls;
	FILE *fp;
	const char *path; /* NULL: opening fails */
};

static FILE *open_cb(void *arg, char **errstr)
{
	struct opener *op = arg;

	op->calls++;
	if (op->path == NULL) {
		*errstr = strdup("cannot create the rejects file here: Permission denied");
		return NULL;
	}
	op->fp = fopen(op->path, "w");
	return op->fp;
}

static enum store_status import_lazy(struct store *st, const char *path, struct opener *op,
				     struct store_import_stats *s, char **err)
{
	struct store_import_opts o = {0};
	enum store_status rc;

	o.open_rejects = open_cb;
	o.rejects_arg = op;
	rc = import_opts(st, path, &o, s, err);
	if (op->fp != NULL)
		fclose(op->fp);
	op->fp = NULL;
	return rc;
}

static void test_rejects_made_when_needed(void **state)
{
	struct store *st = *state;
	struct store_import_stats s;
	struct opener op = {0};
	char *err = NULL, rej[300], *txt, *outcome, *details;
	const char *f, *bad = "email\nok2@example.com\nnot-an-address\nok3@example.com\n";

	/* Every row good: the rejects file is never asked for. */
	f = fx_file("ok.csv", "email\nok1@example.com\n", 22);
	assert_int_equal(import_lazy(st, f, &op, &s, &err), STORE_OK);
	assert_int_equal(op.calls, 0);
	assert_int_equal(s.imported, 1);
	/* It can't be made when a row is bad: nothing is imported. */
	f = fx_file("bad.csv", bad, strlen(bad));
	assert_int_equal(import_lazy(st, f, &op, &s, &err), STORE_EIO);
	assert_int_equal(op.calls, 1);
	assert_non_null(err);
	assert_non_null(strstr(err, "Permission denied"));
	free(err);
	err = NULL;
	assert_int_equal(fx_count(st, "news", NULL), 1);
	last_audit(st, &outcome, &details);
	assert_string_equal(outcome, "failed");
	assert_non_null(strstr(details, "Permission denied"));
	free(outcome);
	free(details);
	/* Made at the first bad row, once, with the header line. */
	snprintf(rej, sizeof(rej), "%s/bad.rej", fx_dir);
	op = (struct opener){0, NULL, rej};
	assert_int_equal(import_lazy(st, f, &op, &s, &err), STORE_OK);
	assert_int_equal(op.calls, 1);
	assert_int_equal(s.imported, 2);
	assert_int_equal(s.invalid, 1);
	txt = fx_slurp(rej);
	assert_string_equal(txt, "reject_line,reject_reason,\"email\"\n"
				 "3,\"not a valid address: the address has no '@'\","
				 "\"not-an-address\"\n");
	free(txt);
}

/*
 * A quoted field of 2 MB over 2,000 lines is one bad row, counted once:
 * its lines are not reported again one by one. A quote left open over more
 * than 1 MiB of rows still leaves them rows: the good ones are imported,
 * the bad ones reported.
 */
static void test_huge_field_counts_once(void **state)
{
	struct store *st = *state;
	struct store_import_stats s;
	char *err = NULL, rej[300], *txt;
	const char *f = fx_file("hq.csv", "", 0);
	FILE *fp = fopen(f, "w");
	int i;

	assert_non_null(fp);
	fputs("email,note\nh4@example.com,\"", fp);
	for (i = 0; i < 2000; i++)
		fprintf(fp, "%01000d\n", 0);
	fputs("\"\nh5@example.com,ok\n", fp);
	fclose(fp);
	snprintf(rej, sizeof(rej), "%s.rej", f);
	fp = fopen(rej, "w");
	assert_int_equal(import_to(st, f, fp, &s, &err), STORE_OK);
	fclose(fp);
	assert_int_equal(s.rows, 2);
	assert_int_equal(s.invalid, 1);
	assert_int_equal(s.imported, 1);
	assert_int_equal(fx_count(st, "news", "email = \"h5@example.com\""), 1);
	txt = fx_slurp(rej);
	assert_non_null(strstr(txt, "\n2,\"the row is longer than 1 MiB (lines 2 to 2002"));
	assert_null(strstr(txt, "\n3,"));
	free(txt);

	/* A stray quote: rows 3 to 20,002 swallowed, one of them bad. */
	f = fx_file("stray.csv", "", 0);
	fp = fopen(f, "w");
	assert_non_null(fp);
	fputs("email,note\nopen@example.com,\"never closed\n", fp);
	for (i = 0; i < 20000; i++)
		fprintf(fp, i == 10000 ? "not-an-address-%d,x\n" : "row%d@example.com,%060d\n", i,
			0);
	fclose(fp);
	fp = fopen(rej, "w");
	assert_int_equal(import_to(st, f, fp, &s, &err), STORE_OK);
	fclose(fp);
	assert_int_equal(s.imported, 19999);
	assert_int_equal(s.invalid, 2);
	txt = fx_slurp(rej);
	assert_non_null(strstr(txt, "\n10003,\"not a valid address"));
	free(txt);
}

/* A failed import's audit record says why, without the addresses the
 * reason may quote; a good one counts its rows in plain English. */
static void test_audit_says_why(void **state)
{
	struct store *st = *state;
	struct store_import_stats s;
	char *err = NULL, *outcome, *details;
	const char *f;

	f = fx_file("hdr.csv", "x@example.com,x@example.com\n", 28);
	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_EINVAL);
	assert_non_null(strstr(err, "repeats \"x@example.com\""));
	free(err);
	err = NULL;
	last_audit(st, &outcome, &details);
	assert_string_equal(outcome, "failed");
	if (strstr(details, "rolled back at row 0: column 2 of the header repeats") == NULL ||
	    strchr(details, '@') != NULL)
		fail_msg("the audit record: %s", details);
	free(outcome);
	free(details);
	f = fx_file("one.csv", "email\none@example.com\n", 22);
	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_OK);
	last_audit(st, &outcome, &details);
	assert_string_equal(outcome, "ok");
	assert_string_equal(details, "1 row read: imported 1, updated 0, invalid 0, duplicate 0, "
				     "suppressed 0");
	free(outcome);
	free(details);
}

/* An import that cannot have the write lock (another hato holds it) says the
 * store is busy, as every writer does, and imports nothing. */
static void test_busy_store(void **state)
{
	struct store *st = *state, *other = NULL;
	struct store_import_stats s;
	char *err = NULL;
	const char *f = fx_file("one.csv", "email\none@example.com\n", 22);

	assert_int_equal(store_open(fx_path, "admin", ADMIN_PW, &other, &err), STORE_OK);
	assert_int_equal(store_begin(other), STORE_OK);
	sqlite3_busy_timeout(st->db, 20);
	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_EBUSY);
	if (err == NULL ||
	    strstr(err, "importing: the store is busy: another hato is writing") != err)
		fail_msg("the error: %s", err != NULL ? err : "(none)");
	free(err);
	store_rollback(other);
	store_close(&other);
	assert_int_equal(fx_count(st, "news", NULL), 0);
}

/* The progress callback writes to the file being read, once. */
static void append_once(uint64_t bytes, uint64_t rows, void *arg)
{
	const char **path = arg;
	FILE *fp;

	(void)bytes;
	(void)rows;
	if (*path == NULL)
		return;
	fp = fopen(*path, "a");
	assert_non_null(fp);
	fputs("late@example.com\n", fp);
	fclose(fp);
	*path = NULL;
}

/* A file that changes while it is read is refused: nothing is imported. */
static void test_file_changed(void **state)
{
	struct store *st = *state;
	struct store_import_opts o = {0};
	struct store_import_stats s;
	char *err = NULL;
	const char *f = fx_file("growing.csv", "", 0), *target;
	FILE *fp = fopen(f, "w");

	assert_non_null(fp);
	fputs("email\n", fp);
	for (int i = 0; i < 5000; i++)
		fprintf(fp, "p%d@example.com\n", i);
	fclose(fp);
	target = f;
	o.progress = append_once;
	o.arg = &target;
	assert_int_equal(import_opts(st, f, &o, &s, &err), STORE_EINVAL);
	assert_null(target); /* it was written to */
	if (err == NULL || strstr(err, "the file changed while it was read") == NULL)
		fail_msg("the error: %s", err != NULL ? err : "(none)");
	free(err);
	err = NULL;
	assert_int_equal(fx_count(st, "news", NULL), 0);
	/* Read again, whole and unchanged, it goes in. */
	o.progress = NULL;
	assert_int_equal(import_opts(st, f, &o, &s, &err), STORE_OK);
	assert_int_equal(fx_count(st, "news", NULL), 5001);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rejects_unwritable, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rejects_made_when_needed, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_huge_field_counts_once, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_audit_says_why, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_busy_store, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_file_changed, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
