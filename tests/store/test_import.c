/*
 * CSV import against a real encrypted store: the hostile corpus (each case
 * gets a clear error and no valid row is lost), duplicates, unsubscribes
 * that survive a re-import, suppression and erasure, export and the JSON of
 * one person's data (checked with Python's json module, a parser we did not
 * write).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/subscribers_private.h"
#include "subs_fixture.h"

static void test_basic(void **state)
{
	struct store *st = *state;
	struct store_import_stats s;
	struct store_subscriber *p = NULL;
	char *err = NULL;
	static const char csv[] =
	    "\xef\xbb\xbf"
	    /* Spaces around a name are dropped, quoted or not. */
	    "\" Email \",name,\"\tcity \", consent_source,consent_at,consent_text\r\n"
	    "taro@Example.com,Taro Yamada,Tokyo,web form,2026-01-02T03:04:05+09:00,v1\r\n"
	    "\"hanako@example.com\",\"Yamada, Hanako\",\"Osaka\nKita\",,,\r\n"
	    "jiro@example.com,,,,,\n"
	    "\n"
	    "taro@example.com,,Kyoto,,,\n"; /* repeat: updates city, keeps name */
	const char *f = fx_file("basic.csv", csv, sizeof(csv) - 1);

	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_OK);
	assert_int_equal(s.rows, 4);
	assert_int_equal(s.imported, 3);
	assert_int_equal(s.duplicate, 1);
	assert_int_equal(s.invalid, 0);
	assert_int_equal(store_subscriber_get(st, "taro@EXAMPLE.COM", &p, &err), STORE_OK);
	assert_string_equal(p->email, "taro@example.com");
	assert_string_equal(p->name, "Taro Yamada");
	assert_int_equal(p->nattrs, 1);
	assert_string_equal(p->attrs[0].key, "city");
	assert_string_equal(p->attrs[0].value, "Kyoto");
	assert_int_equal(p->nlists, 1);
	assert_string_equal(p->lists[0].consent_source, "web form");
	assert_string_equal(p->lists[0].consent_at, "2026-01-01T18:04:05Z");
	assert_string_equal(p->lists[0].consent_text, "v1");
	store_subscriber_free(&p);
	assert_int_equal(store_subscriber_get(st, "hanako@example.com", &p, &err), STORE_OK);
	assert_string_equal(p->name, "Yamada, Hanako");
	assert_string_equal(p->attrs[0].value, "Osaka\nKita");
	assert_string_equal(p->lists[0].consent_source, "test");
	store_subscriber_free(&p);
	/* Importing the same file again changes nobody and says so. */
	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_OK);
	assert_int_equal(s.imported, 0);
	assert_int_equal(s.updated, 3);
	assert_int_equal(s.duplicate, 1);
	assert_int_equal(fx_count(st, "news", NULL), 3);
}

/* Appends n good rows good_<from..from+n>@example.com. */
static void good_rows(FILE *fp, int from, int n)
{
	for (int i = from; i < from + n; i++)
		fprintf(fp, "good_%d@example.com,Good %d,c%d\n", i, i, i % 7);
}

static int rejects_have(const char *path, const char *line_reason)
{
	char rej[300], *txt;
	int r;

	snprintf(rej, sizeof(rej), "%s.rej", path);
	txt = fx_slurp(rej);
	r = memmem(txt, fx_len, line_reason, strlen(line_reason)) != NULL;
	if (!r)
		print_message("rejects lack \"%s\":\n%.2000s\n", line_reason, txt);
	free(txt);
	return r;
}

static void test_hostile(void **state)
{
	struct store *st = *state;
	struct store_import_stats s;
	char *err = NULL, path[256];
	FILE *fp;
	int i, good = 0;

	snprintf(path, sizeof(path), "%s/hostile.csv", fx_dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs("email,name,city\n", fp);			  /* line 1 */
	good_rows(fp, good, 10), good += 10;		  /* 2-11 */
	fputs("bad1@example.com,N\xff\xfeme,x\n", fp);	  /* 12: invalid UTF-8 */
	fwrite("bad2@example.com,Na\0me,x\n", 1, 25, fp); /* 13: NUL */
	good_rows(fp, good, 10), good += 10;		  /* 14-23 */
	fputs("\"Taro\r\nYamada\",bad3@example.com,x\n",
	      fp);					    /* 24-25: wrong column, CRLF in name */
	fputs("bad4@example.com,\"Taro\nYamada\",x\n", fp); /* 26-27: LF in name */
	good_rows(fp, good, 10), good += 10;		    /* 28-37 */
	fputs("bad5@example.com,\"unbalanced,x\n", fp);	    /* 38: quote never closed... */
	good_rows(fp, good, 10), good += 10;		    /* 39-48 */
	fputs("good_q@example.com,\"Quoted \"\"Name\"\"\",x\n",
	      fp); /* 49: closes 38's quote early */
	good++;
	good_rows(fp, good, 10), good += 10;	/* 50-59 */
	fputs("bad6@example.com,x\"y,z\n", fp); /* 60: stray quote */
	fputs("bad7@example.com,\"", fp);	/* 61: a 50 MB quoted field */
	for (i = 0; i < 50 * 1024; i++) {
		char kb[1024];
		memset(kb, 'x', sizeof(kb));
		fwrite(kb, 1, sizeof(kb), fp);
	}
	fputs("\",x\n", fp);
	good_rows(fp, good, 10), good += 10; /* 62-71 */
	fputs("bad8@example.com", fp);	     /* 72: 10,000 columns */
	for (i = 1; i < 10000; i++)
		fputs(",v", fp);
	fputc('\n', fp);
	good_rows(fp, good, 10), good += 10;		 /* 73-82 */
	fputs("not-an-address,x,y\n", fp);		 /* 83 */
	fputs("bad9@example.com,x\n", fp);		 /* 84: too few fields */
	fputs("bad10@example.com,\"never closed\n", fp); /* 85: open until EOF */
	good_rows(fp, good, 10), good += 10;		 /* 86-95 */
	fclose(fp);

	assert_int_equal(fx_import(st, "news", path, &s, &err), STORE_OK);
	print_message("rows %llu imported %llu invalid %llu\n", (unsigned long long)s.rows,
		      (unsigned long long)s.imported, (unsigned long long)s.invalid);
	/* Every good row is in; no bad row is. */
	assert_int_equal(fx_count(st, "news", "email starts_with \"good_\""), good);
	assert_int_equal(fx_count(st, "news", "email starts_with \"bad\""), 0);
	assert_int_equal(s.imported, (uint64_t)good);
	/* Every bad row is in the rejects with its line and reason. */
	assert_true(rejects_have(path, "12,\"column 2 (name) is not valid UTF-8\""));
	assert_true(rejects_have(path, "13,\"column 2 (name) holds a NUL byte\""));
	assert_true(
	    rejects_have(path, "24,\"not a valid address: the address holds a line break\""));
	assert_true(
	    rejects_have(path, "26,\"column 2 (name) holds a line break or control character\""));
	assert_true(rejects_have(path, "38,"));
	assert_true(rejects_have(path, "60,\"a quote is out of place"));
	/* A row that can't be parsed is given as its line, to be mended. */
	assert_true(rejects_have(path, "comma)\",\"bad6@example.com,x\"\"y,z\"\n"));
	assert_true(rejects_have(path, "85,\"a quoted field is never closed\","
				       "\"bad10@example.com,\"\"never closed\"\n"));
	/* ...and a 50 MB one as its first 64 KiB. */
	assert_true(rejects_have(path, "61,\"the row is longer than 1 MiB"));
	assert_true(
	    rejects_have(path, "; the line is cut at 64 KiB here\",\"bad7@example.com,\"\"xxx"));
	assert_true(rejects_have(path, "61,\"the row is longer than 1 MiB"));
	assert_true(rejects_have(path, "72,\"the row has 10000 fields, the header has 3\""));
	assert_true(rejects_have(path, "83,\"not a valid address: the address has no '@'\""));
	assert_true(rejects_have(path, "84,\"the row has 2 fields, the header has 3\""));
	assert_true(rejects_have(path, "85,\"a quoted field is never closed\""));
	assert_int_equal(s.rows, s.imported + s.updated + s.invalid + s.duplicate + s.suppressed);
}

static void file_fails(struct store *st, const char *name, const void *data, size_t len,
		       const char *want)
{
	struct store_import_stats s;
	char *err = NULL;
	const char *f = fx_file(name, data, len);
	int64_t before = fx_count(st, "news", NULL);

	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_EINVAL);
	assert_non_null(err);
	if (strstr(err, want) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", name, err, want);
	free(err);
	assert_int_equal(fx_count(st, "news", NULL), before); /* the store is unchanged */
}

static void test_bad_files(void **state)
{
	struct store *st = *state;
	struct store_import_stats s;
	char *err = NULL, *wide;
	const char *one;
	size_t i, n = 0;
	static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10";

	file_fails(st, "empty.csv", "", 0, "empty");
	file_fails(st, "bom.csv", "\xef\xbb\xbf", 3, "empty");
	/* Attribute names count case (City and city are two); the own columns don't. */
	file_fails(st, "dup.csv", "email,city,city\na@example.com,x,y\n", 34, "repeats \"city\"");
	file_fails(st, "dupname.csv", "email,name,Name\na@example.com,x,y\n", 34,
		   "repeats \"Name\"");
	file_fails(st, "noemail.csv", "mail,name\na@example.com,x\n", 26, "no email column");
	/* A name with a zero-width space would pass for consent_version; a BOM
	 * inside the header makes "email" another column. */
	file_fails(st, "zwsp.csv", "email,consent_\xe2\x80\x8bversion\na@example.com,v1\n", 42,
		   "column 2 of the header holds an invisible character");
	file_fails(st, "midbom.csv",
		   "\xef\xbb\xbf"
		   "city,\xef\xbb\xbf"
		   "email\nx,a@example.com\n",
		   33, "column 2 of the header holds an invisible character");
	file_fails(st, "png.csv", png, sizeof(png) - 1, "not a CSV file");
	file_fails(st, "hdrquote.csv", "email,\"name\n", 12,
		   "not a CSV file: the header (line 1) can't be read: a quoted field is never "
		   "closed");
	/* A header of 2 MiB, and a row of one field, are told in plain English. */
	wide = malloc(2 << 20);
	assert_non_null(wide);
	memset(wide, 'h', 2 << 20);
	memcpy(wide, "email,", 6);
	wide[(2 << 20) - 1] = '\n';
	file_fails(st, "hdrlong.csv", wide, 2 << 20,
		   "not a CSV file: the header (line 1) can't be read: the row is longer than "
		   "1 MiB (a huge field, or a quote that is never closed)");
	free(wide);
	one = fx_file("one.csv", "email,name\na@example.com\n", 25);
	assert_int_equal(fx_import(st, "news", one, &s, &err), STORE_OK);
	assert_int_equal(s.invalid, 1);
	assert_true(rejects_have(one, "2,\"the row has 1 field, the header has 2\""));
	/* 10,000 columns import, every one; past 16,384 the file is refused. */
	wide = malloc(20000 * 16 + 64);
	assert_non_null(wide);
	n = (size_t)sprintf(wide, "email");
	for (i = 1; i < 10000; i++)
		n += (size_t)sprintf(wide + n, ",c%zu", i);
	for (int row = 0; row < 2; row++) {
		n += (size_t)sprintf(wide + n, "\nwide%d@example.com", row);
		for (i = 1; i < 10000; i++)
			n += (size_t)sprintf(wide + n, ",%zu", i * (size_t)(row + 1));
	}
	n += (size_t)sprintf(wide + n, "\n");
	assert_int_equal(fx_import(st, "news", fx_file("wide.csv", wide, n), &s, &err), STORE_OK);
	assert_int_equal(s.imported, 2);
	assert_int_equal(fx_count(st, "news", "attr.c9999 = \"19998\" and attr.c1 = \"2\""), 1);
	n = (size_t)sprintf(wide, "email");
	for (i = 1; i < 20000; i++)
		n += (size_t)sprintf(wide + n, ",c%zu", i);
	n += (size_t)sprintf(wide + n, "\na@example.com\n");
	file_fails(st, "wider.csv", wide, n, "20000 columns; hato accepts at most 16384");
	free(wide);
	/* A header alone is a file read: nothing to do. */
	assert_int_equal(fx_import(st, "news", fx_file("hdr.csv", "email,name\r\n", 12), &s, &err),
			 STORE_OK);
	assert_int_equal(s.rows, 0);
	/* An unknown list. */
	assert_int_equal(fx_import(st, "nope", fx_file("x.csv", "email\n", 6), &s, &err),
			 STORE_ENOTFOUND);
	free(err);
}

static void test_unsubscribes_survive(void **state)
{
	struct store *st = *state;
	struct store_import_stats s;
	struct store_subscriber *p = NULL;
	char *err = NULL, path[256], addr[64];
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), "%s/people.csv", fx_dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("email,name,plan\n", fp);
	for (i = 0; i < 100; i++)
		fprintf(fp, "p%d@example.net,P %d,basic\n", i, i);
	fclose(fp);
	assert_int_equal(fx_import(st, "news", path, &s, &err), STORE_OK);
	assert_int_equal(s.imported, 100);
	for (i = 0; i < 10; i++) {
		snprintf(addr, sizeof(addr), "p%d@example.net", i);
		assert_int_equal(
		    store_subscriber_unsubscribe(st, addr, i % 2 ? "news" : NULL, NULL, &err),
		    STORE_OK);
	}
	assert_int_equal(fx_count(st, "news", "domain = \"example.net\""), 90);
	assert_int_equal(fx_import(st, "news", path, &s, &err), STORE_OK);
	assert_int_equal(s.imported, 0);
	assert_int_equal(s.updated, 100);
	assert_int_equal(s.kept_unsubscribed, 10);
	assert_int_equal(fx_count(st, "news", "domain = \"example.net\""), 90);
	for (i = 0; i < 10; i++) {
		snprintf(addr, sizeof(addr), "p%d@example.net", i);
		assert_int_equal(store_subscriber_get(st, addr, &p, &err), STORE_OK);
		assert_string_equal(p->lists[0].status, "unsubscribed");
		assert_string_equal(p->status, i % 2 ? "active" : "unsubscribed");
		store_subscriber_free(&p);
	}
	/* Nor can a person who unsubscribed be added back by hand. */
	assert_int_equal(
	    store_subscriber_add(st, "news", "p0@example.net", NULL, NULL, 0, NULL, &err),
	    STORE_EEXIST);
	free(err);
	err = NULL;
	/* Another list: someone unsubscribed globally is not added there either. */
	assert_int_equal(store_list_add(st, "promo", NULL, NULL, &err), STORE_OK);
	assert_int_equal(fx_import(st, "promo", path, &s, &err), STORE_OK);
	assert_int_equal(s.imported, 95);
	assert_int_equal(s.kept_unsubscribed, 5);
	assert_int_equal(fx_count(st, "promo", NULL), 95);
}

/* The value of attribute key of p, or NULL. */
/*
 * New people are written IMPORT_BATCH rows to a statement. Batches that mix
 * new people with repeats, people on file (one unsubscribed) and a
 * suppressed address come out as rows written one by one would: the later
 * row of a repeat wins, and every count is right.
 */
static void test_batches_mixed(void **state)
{
	struct store *st = *state;
	struct store_import_stats s;
	struct store_subscriber *p = NULL;
	char *err = NULL, path[256];
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), "%s/old.csv", fx_dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("email,plan\n", fp);
	for (i = 0; i < 10; i++)
		fprintf(fp, "old%d@example.net,old\n", i);
	fclose(fp);
	assert_int_equal(fx_import(st, "news", path, &s, &err), STORE_OK);
	assert_int_equal(store_subscriber_unsubscribe(st, "old1@example.net", "news", NULL, &err),
			 STORE_OK);
	assert_int_equal(store_suppress_add(st, "sup@example.net", NULL, &err), STORE_OK);

	/* 101 rows: three whole batches of 32 and five rows after them. */
	assert_true(3 * IMPORT_BATCH < 101 && 101 < 4 * IMPORT_BATCH);
	snprintf(path, sizeof(path), "%s/mixed.csv", fx_dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("email,name,plan\n", fp);
	for (i = 0; i <= 100; i++) {
		if (i == 40)
			fputs("sup@example.net,Sup,first\n", fp);
		else if (i == 70) /* n66 again, the domain in capitals */
			fputs("n66@EXAMPLE.NET,Case,case\n", fp);
		else if (i % 16 == 5) /* old0 to old5 */
			fprintf(fp, "old%d@example.net,Old %d,again\n", i / 16, i);
		else if (i % 8 == 3) /* the row two above again */
			fprintf(fp, "n%d@example.net,Second %d,second\n", i - 2, i);
		else
			fprintf(fp, "n%d@example.net,First %d,first\n", i, i);
	}
	fclose(fp);
	assert_int_equal(fx_import(st, "news", path, &s, &err), STORE_OK);
	assert_int_equal(s.rows, 101);
	assert_int_equal(s.imported, 80);
	assert_int_equal(s.duplicate, 14); /* 13 rows two below and n66 */
	assert_int_equal(s.updated, 6);
	assert_int_equal(s.kept_unsubscribed, 1);
	assert_int_equal(s.suppressed, 1);
	assert_int_equal(s.invalid, 0);
	assert_int_equal(fx_count(st, "news", NULL), 80 + 10 - 1);
	assert_int_equal(fx_count(st, "news", "attr.plan = \"first\""), 80 - 14);
	assert_int_equal(fx_count(st, "news", "attr.plan = \"second\""), 13);
	assert_int_equal(fx_count(st, "news", "attr.plan = \"again\""), 5);

	assert_int_equal(store_subscriber_get(st, "n97@example.net", &p, &err), STORE_OK);
	assert_string_equal(p->name, "Second 99");
	assert_string_equal(fx_attr(p, "plan"), "second");
	assert_string_equal(p->lists[0].consent_source, "test");
	store_subscriber_free(&p);
	assert_int_equal(store_subscriber_get(st, "n66@example.net", &p, &err), STORE_OK);
	assert_string_equal(p->name, "Case");
	assert_string_equal(fx_attr(p, "plan"), "case");
	store_subscriber_free(&p);
	assert_int_equal(store_subscriber_get(st, "old3@example.net", &p, &err), STORE_OK);
	assert_string_equal(p->name, "Old 53");
	assert_string_equal(fx_attr(p, "plan"), "again");
	store_subscriber_free(&p);
	assert_int_equal(store_subscriber_get(st, "old1@example.net", &p, &err), STORE_OK);
	assert_string_equal(p->lists[0].status, "unsubscribed");
	store_subscriber_free(&p);
	assert_int_equal(store_subscriber_get(st, "sup@example.net", &p, &err), STORE_ENOTFOUND);
	free(err);
}

static void test_suppression_and_erasure(void **state)
{
	struct store *st = *state;
	struct store_import_stats s;
	struct store_subscriber *p = NULL;
	char *err = NULL;
	bool sup = false;
	static const char csv[] =
	    "email\nsup@example.org\nx@blocked.example\nErase.Me@example.org\n"
	    "keep@example.org\n";
	const char *f = fx_file("sup.csv", csv, sizeof(csv) - 1);

	assert_int_equal(store_suppress_add(st, "SUP@example.org", "bounce 5.1.1", &err), STORE_OK);
	assert_int_equal(store_suppress_add(st, "@Blocked.Example", "asked", &err), STORE_OK);
	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_OK);
	assert_int_equal(s.imported, 2);
	assert_int_equal(s.suppressed, 2);
	/* Addresses that differ only in case are one person. */
	assert_int_equal(store_subscriber_erase(st, "erase.me@EXAMPLE.org", NULL, &err), STORE_OK);
	assert_int_equal(store_subscriber_erase(st, "Erase.Me@example.org", NULL, &err),
			 STORE_ENOTFOUND);
	free(err);
	err = NULL;
	assert_int_equal(store_subscriber_get(st, "Erase.Me@example.org", &p, &err),
			 STORE_ENOTFOUND);
	free(err);
	err = NULL;
	assert_int_equal(store_suppressed(st, "erase.me@example.org", &sup, &err), STORE_OK);
	assert_true(sup);
	/* Re-importing never revives the erased or the suppressed. */
	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_OK);
	assert_int_equal(s.suppressed, 3);
	assert_int_equal(s.imported, 0);
	assert_int_equal(s.updated, 1);
	/* A suppressed member no longer counts; taken off the list, counts again. */
	assert_int_equal(fx_count(st, "news", "email = \"keep@example.org\""), 1);
	assert_int_equal(store_suppress_add(st, "keep@example.org", NULL, &err), STORE_OK);
	assert_int_equal(fx_count(st, "news", "email = \"keep@example.org\""), 0);
	assert_int_equal(store_suppress_rm(st, "keep@example.org", &err), STORE_OK);
	assert_int_equal(fx_count(st, "news", "email = \"keep@example.org\""), 1);
}

/*
 * A suppression list of thousands (its filter grows past its smallest
 * size): every address on it, and every address of a suppressed domain, is
 * kept out; every other address of the file goes in.
 */
static void test_long_suppression_list(void **state)
{
	struct store *st = *state;
	struct store_import_stats s;
	struct store_subscriber *p = NULL;
	char addr[64], *err = NULL;
	const char *f = fx_file("many.csv", "", 0);
	FILE *fp = fopen(f, "w");
	int i;

	assert_non_null(fp);
	fputs("email\n", fp);
	for (i = 0; i < 10000; i++)
		fprintf(fp, "p%d@%s.example\n", i, i % 100 == 1 ? "blocked" : "ex");
	fclose(fp);
	for (i = 0; i < 10000; i += 2) {
		snprintf(addr, sizeof(addr), "P%d@EX.example", i);
		assert_int_equal(store_suppress_add(st, addr, NULL, &err), STORE_OK);
	}
	assert_int_equal(store_suppress_add(st, "@blocked.example", NULL, &err), STORE_OK);
	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_OK);
	assert_int_equal(s.suppressed, 5000 + 100);
	assert_int_equal(s.imported, 4900);
	assert_int_equal(fx_count(st, "news", "domain = \"ex.example\""), 4900);
	assert_int_equal(store_subscriber_get(st, "p9998@ex.example", &p, &err), STORE_ENOTFOUND);
	free(err);
	err = NULL;
	assert_int_equal(store_subscriber_get(st, "p9999@ex.example", &p, &err), STORE_OK);
	store_subscriber_free(&p);
}

static void test_export_and_data(void **state)
{
	struct store *st = *state, *vw = NULL;
	struct store_attr attrs[] = {{"city", "Tokyo \"east\"\\\n\x01"},
				     {"\xe8\x89\xb2", "\xe9\x9d\x92"}};
	struct store_consent c = {"form",
				  "2026-03-01",
				  "double opt-in",
				  "I agree",
				  "192.0.2.7",
				  "v2",
				  "2026-03-01T09:10:00+09:00"};
	char *err = NULL, out[300], cmd[1200], *txt;
	int64_t rows = 0;
	FILE *fp;

	assert_int_equal(
	    store_subscriber_add(st, "news", "json@example.com", "J \"Son\"", attrs, 2, &c, &err),
	    STORE_OK);
	snprintf(out, sizeof(out), "%s/data.json", fx_dir);
	fp = fopen(out, "w");
	assert_int_equal(store_subscriber_data(st, "json@example.com", fp, &err), STORE_OK);
	fclose(fp);
	snprintf(
	    cmd, sizeof(cmd),
	    "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));"
	    " assert d[\"email\"]==\"json@example.com\"; assert d[\"name\"]==\"J \\\"Son\\\"\";"
	    " assert d[\"attributes\"][\"city\"]==\"Tokyo \\\"east\\\"\\\\\\n\\x01\";"
	    " assert d[\"attributes\"][\"\\u8272\"]==\"\\u9752\";"
	    " assert d[\"lists\"][0][\"consent\"][\"ip\"]==\"192.0.2.7\";"
	    " assert d[\"lists\"][0][\"consent\"][\"at\"]==\"2026-03-01T00:00:00Z\";"
	    " assert d[\"lists\"][0][\"consent\"][\"version\"]==\"v2\";"
	    " assert d[\"lists\"][0][\"consent\"][\"confirmed_at\"]==\"2026-03-01T00:10:00Z\";"
	    " assert d[\"history\"][0][\"event\"]==\"subscribed\"' %s",
	    out);
	assert_int_equal(system(cmd), 0);
	snprintf(out, sizeof(out), "%s/export.csv", fx_dir);
	fp = fopen(out, "w");
	assert_int_equal(store_list_export(st, "news", fp, 0, &rows, &err), STORE_OK);
	fclose(fp);
	assert_true(rows > 0);
	txt = fx_slurp(out);
	assert_non_null(strstr(txt, "\"json@example.com\",\"J \"\"Son\"\"\",\"form\""));
	free(txt);
	/* Python's csv module reads it back with the same row count. */
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1],"
		 " newline=\"\"))); assert len(r)==%lld, len(r)' %s",
		 (long long)rows, out);
	assert_int_equal(system(cmd), 0);
	/* A viewer can neither export nor read the data, and sees masked addresses. */
	assert_int_equal(store_open(fx_path, "vw", VW_PW, &vw, &err), STORE_OK);
	assert_int_equal(store_list_export(vw, "news", stdout, 0, &rows, &err), STORE_EDENIED);
	free(err);
	err = NULL;
	assert_int_equal(store_subscriber_data(vw, "json@example.com", stdout, &err),
			 STORE_EDENIED);
	free(err);
	err = NULL;
	txt = store_mask_address(vw, "json@example.com");
	assert_string_equal(txt, "j***@example.com");
	free(txt);
	assert_int_equal(store_subscriber_erase(vw, "json@example.com", NULL, &err), STORE_EDENIED);
	free(err);
	store_close(&vw);
}

/* The consent of the person at addr on the first list. */
static void consent_is(struct store *st, const char *addr, const char *want)
{
	struct store_subscriber *p = NULL;
	char *err = NULL;

	assert_int_equal(store_subscriber_get(st, addr, &p, &err), STORE_OK);
	assert_string_equal(p->lists[0].consent_at, want);
	store_subscriber_free(&p);
}

/*
 * consent_at in the ISO 8601 forms other tools write, stored in UTC without
 * a fraction; a time in the future (past a day of clock skew) is refused,
 * by an import and by subscriber add alike.
 */
static void test_consent_times(void **state)
{
	struct store *st = *state;
	struct store_import_stats s;
	struct store_consent c = {.source = "form", .at = "2099-01-01", .method = "manual"};
	char *err = NULL, soon[32];
	time_t now = time(NULL);
	const char *f;
	FILE *fp;

	f = fx_file("at.csv", "", 0);
	fp = fopen(f, "w");
	assert_non_null(fp);
	strftime(soon, sizeof(soon), "%Y-%m-%dT%H:%M:%SZ", gmtime(&(time_t){now + 3600}));
	fprintf(fp,
		"email,consent_at\n"
		"js@example.com,2025-06-01T12:00:00.123Z\n"
		"basic@example.com,20250601\n"
		"basict@example.com,20250601T120000Z\n"
		"off@example.com,2025-06-01T21:00:00+0900\n"
		"comma@example.com,\"2025-06-01T12:00:00,5-0130\"\n"
		"skew@example.com,%s\n"
		"future@example.com,2099-01-01\n"
		"junk@example.com,June 1st\n"
		"colon@example.com,2025-06-01T12:00:00+09:\n"
		"mixed@example.com,20250601T12:00:00Z\n"
		"mixed2@example.com,2025-06-01T120000Z\n"
		"noleap@example.com,2025-06-01T12:00:60Z\n"
		"leap@example.com,2016-12-31T23:59:60Z\n"
		"leapjp@example.com,2017-01-01T08:59:60+09:00\n",
		soon);
	fclose(fp);
	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_OK);
	/* a trailing colon, basic and extended forms mixed, and a second 60
	 * that is no leap second (23:59:60 UTC) are refused */
	assert_int_equal(s.imported, 8);
	assert_int_equal(s.invalid, 6);
	for (int line = 10; line <= 13; line++) {
		char want[64];
		snprintf(want, sizeof(want), "%d,\"column 2 (consent_at) is not an ISO 8601", line);
		assert_true(rejects_have(f, want));
	}
	consent_is(st, "leap@example.com", "2016-12-31T23:59:59Z");
	consent_is(st, "leapjp@example.com", "2016-12-31T23:59:59Z");
	consent_is(st, "js@example.com", "2025-06-01T12:00:00Z");
	consent_is(st, "basic@example.com", "2025-06-01T00:00:00Z");
	consent_is(st, "basict@example.com", "2025-06-01T12:00:00Z");
	consent_is(st, "off@example.com", "2025-06-01T12:00:00Z");
	consent_is(st, "comma@example.com", "2025-06-01T13:30:00Z");
	consent_is(st, "skew@example.com", soon);
	assert_true(rejects_have(f, "8,\"column 2 (consent_at) is in the future"));
	assert_true(rejects_have(f, "9,\"column 2 (consent_at) is not an ISO 8601 date or time; "
				    "hato reads 2025-06-01, "));
	/* subscriber add reads it the same way. */
	assert_int_equal(
	    store_subscriber_add(st, "news", "add@example.com", NULL, NULL, 0, &c, &err),
	    STORE_EINVAL);
	assert_non_null(strstr(err, "the consent time \"2099-01-01\" is in the future"));
	free(err);
	err = NULL;
	c.at = "20250601T120000.5+09";
	assert_int_equal(
	    store_subscriber_add(st, "news", "add@example.com", NULL, NULL, 0, &c, &err), STORE_OK);
	consent_is(st, "add@example.com", "2025-06-01T03:00:00Z");
}

/*
 * An imported person's history says when they joined each list, as that of
 * a person added by hand does, once; and in the JSON of their data too.
 */
static void test_history_of_imported(void **state)
{
	struct store *st = *state;
	struct store_import_stats s;
	struct store_subscriber *p = NULL;
	char *err = NULL, out[300], cmd[800];
	const char *f = fx_file("h.csv", "email\nimp@example.com\n", 22);
	FILE *fp;

	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_OK);
	assert_int_equal(
	    store_subscriber_add(st, "news", "added@example.com", NULL, NULL, 0, NULL, &err),
	    STORE_OK);
	assert_int_equal(store_subscriber_get(st, "imp@example.com", &p, &err), STORE_OK);
	assert_int_equal(p->nevents, 1);
	assert_string_equal(p->events[0].event, "subscribed");
	assert_string_equal(p->events[0].list, "news");
	assert_non_null(strstr(p->events[0].details, "test"));
	store_subscriber_free(&p);
	assert_int_equal(store_subscriber_get(st, "added@example.com", &p, &err), STORE_OK);
	assert_int_equal(p->nevents, 1);
	assert_string_equal(p->events[0].event, "subscribed");
	store_subscriber_free(&p);
	snprintf(out, sizeof(out), "%s/imp.json", fx_dir);
	fp = fopen(out, "w");
	assert_int_equal(store_subscriber_data(st, "imp@example.com", fp, &err), STORE_OK);
	fclose(fp);
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));"
		 " h=d[\"history\"]; assert len(h)==1 and h[0][\"event\"]==\"subscribed\""
		 " and h[0][\"list\"]==\"news\" and h[0][\"time\"]==d[\"lists\"][0][\"joined\"], h'"
		 " %s",
		 out);
	assert_int_equal(system(cmd), 0);
}

/*
 * The database fails in the middle of a file much longer than the queue
 * between the reading thread and the database: the import stops with the
 * database's error, the reader stops too, and the store is as it was. Once
 * there is room, the same file goes in whole.
 */
/* many.csv: the header, the rows given, then 20,000 good rows. */
static const char *many_file(const char *first)
{
	const char *f = fx_file("many.csv", "", 0);
	FILE *fp = fopen(f, "w");

	assert_non_null(fp);
	fprintf(fp, "email,name,city\n%s", first);
	good_rows(fp, 0, 20000);
	fclose(fp);
	return f;
}

static void test_database_fails_midway(void **state)
{
	struct store *st = *state;
	struct store_import_stats s;
	char *err = NULL, sql[96];
	const char *f;
	int64_t pages = 0;

	f = many_file("");
	assert_int_equal(store_query_int(st, "PRAGMA page_count", &pages, NULL, 0), STORE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld", (long long)pages + 40);
	assert_int_equal(sqlite3_exec(st->db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(fx_import(st, "news", f, &s, &err), STORE_OK);
	assert_non_null(err);
	if (strstr(err, "full") == NULL)
		fail_msg("the error does not name the cause: %s", err);
	free(err);
	err = NULL;
	/* The reader stopped: at most the queue's rows ahead of the failure. */
	assert_true(s.rows > 0 && s.rows < 20000 - IMPORT_QUEUE_ROWS);
	assert_int_equal(fx_count(st, "news", NULL), 0);
	assert_int_equal(
	    sqlite3_exec(st->db, "PRAGMA max_page_count = 1073741823", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_OK);
	assert_int_equal(s.imported, 20000);
	assert_int_equal(fx_count(st, "news", NULL), 20000);
}

/* The import's progress callback stands in for a signal handler: it sets the
 * stop flag once some thousands of rows were written. */
static void stop_after_rows(uint64_t bytes, uint64_t rows, void *arg)
{
	volatile sig_atomic_t *stop = arg;

	(void)bytes;
	if (rows >= 4000)
		*stop = 1;
}

static void test_interrupted_midway(void **state)
{
	struct store *st = *state;
	struct store_import_stats s;
	struct store_import_opts o = {0};
	struct store_subscriber *p = NULL;
	volatile sig_atomic_t stop = 0;
	char *err = NULL;
	const char *f;
	FILE *in;

	f = fx_file("first.csv", "email,name\nr1@example.com,Before\n", 33);
	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_OK);
	f = many_file("r1@example.com,After,Kobe\n");
	in = fopen(f, "rb");
	assert_non_null(in);
	o.source = "test";
	o.progress = stop_after_rows;
	o.arg = (void *)&stop;
	o.stop = &stop;
	assert_int_equal(store_subscriber_import(st, "news", in, &o, &s, &err), STORE_EINTR);
	fclose(in);
	assert_int_equal(stop, 1);
	assert_non_null(strstr(err, "interrupted"));
	free(err);
	err = NULL;
	/* Rolled back: the rows written before the stop are gone, the update too. */
	assert_int_equal(fx_count(st, "news", NULL), 1);
	assert_int_equal(store_subscriber_get(st, "r1@example.com", &p, &err), STORE_OK);
	assert_string_equal(p->name, "Before");
	store_subscriber_free(&p);
	/* The same file again, not stopped, imports it all. */
	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_OK);
	assert_int_equal(s.imported, 20000);
	assert_int_equal(s.updated, 1);
	assert_int_equal(fx_count(st, "news", NULL), 20001);
}

/*
 * Memory does not grow with the size of the rows either: a slot of the
 * queue between the import's threads gives back the buffer of a big row
 * once the row is written, and keeps a small one for its next row.
 */
static void test_queue_gives_back_big_rows(void **state)
{
	static char big[IMPORT_SLOT_KEEP * 4];
	struct import_queue q;
	struct import_ready *r;
	size_t off, i;

	(void)state;
	assert_int_equal(import_queue_init(&q), 0);
	for (i = 0; i < 2 * IMPORT_QUEUE_ROWS; i++) {
		size_t n = i % 2 ? sizeof(big) : 100;
		r = import_queue_slot(&q);
		assert_non_null(r);
		assert_int_equal(import_ready_add(r, big, n, &off), 0);
		import_queue_put(&q, r);
		assert_int_equal(import_queue_take(&q, 0, &r, 1), 1);
		assert_true(r->cap > n);
		import_queue_done(&q, 1);
		if (n > IMPORT_SLOT_KEEP)
			assert_int_equal(r->cap, 0);
		else
			assert_true(r->cap > 0);
	}
	import_queue_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_basic, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_hostile, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_files, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_unsubscribes_survive, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_batches_mixed, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_suppression_and_erasure, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_long_suppression_list, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_export_and_data, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_consent_times, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_history_of_imported, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_database_fails_midway, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_interrupted_midway, fx_setup, fx_teardown),
	    cmocka_unit_test(test_queue_gives_back_big_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
