/*
 * hato export against a real encrypted store, each file read back with
 * Python's csv module (a parser we did not write): cells a spreadsheet would
 * run as formulas are neutralised by default, --raw gives back every byte
 * and imports again as it was, and no attribute is ever left out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "subs_fixture.h"

/* Someone whose name and attributes look like formulas, and like numbers. */
static const struct store_attr tricky[] = {
    {"@cmd", "+1+1"}, {"neg", "-5"},	  {"phone", "+81312345678"},	 {"dec", "-3.25"},
    {"tab", "\t=1"},  {"cr", "\r=2"},	  {"dde", "=cmd|' /C calc'!A0"}, {"city", "Tokyo"},
    {"minus", "-"},   {"at", "@SUM(A1)"},
};
#define NTRICKY (sizeof(tricky) / sizeof(tricky[0]))
static const char tricky_name[] = "=HYPERLINK(\"http://evil.example/\",\"Click\")";

static void add_tricky(struct store *st)
{
	char *err = NULL;

	assert_int_equal(store_subscriber_add(st, "news", "f1@example.com", tricky_name, tricky,
					      NTRICKY, NULL, &err),
			 STORE_OK);
}

static const char *export_to(struct store *st, const char *list, const char *name, unsigned flags,
			     int64_t *rows)
{
	static char path[2][256];
	static int k;
	char *err = NULL;
	FILE *fp;

	k ^= 1;
	snprintf(path[k], sizeof(path[k]), "%s/%s", fx_dir, name);
	fp = fopen(path[k], "w");
	assert_non_null(fp);
	assert_int_equal(store_list_export(st, list, fp, flags, rows, &err), STORE_OK);
	fclose(fp);
	return path[k];
}

/* Runs a Python program on the CSV file at csv: sys.argv[1]. */
static void python(const char *program, const char *csv)
{
	char cmd[600];
	const char *py = fx_file("check.py", program, strlen(program));

	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s", py, csv);
	assert_int_equal(system(cmd), 0);
}

static void test_formulas_neutralised(void **state)
{
	struct store *st = *state;
	int64_t rows = 0;

	add_tricky(st);
	python("import csv, re, sys\n"
	       "r = list(csv.reader(open(sys.argv[1], newline='')))\n"
	       "h, row = r[0], dict(zip(r[0], r[1]))\n"
	       "assert len(r) == 2, r\n"
	       "# No cell starts a formula, unless it is a plain number.\n"
	       "for c in h + r[1]:\n"
	       "    assert not c or c[0] not in '=+-@\\t\\r' or "
	       "re.fullmatch(r'[+-]?[0-9]+(\\.[0-9]+)?', c), c\n"
	       "assert \"'@cmd\" in h and '@cmd' not in h, h\n"
	       "assert row['name'] == '\\'=HYPERLINK(\"http://evil.example/\",\"Click\")', row\n"
	       "assert row[\"'@cmd\"] == \"'+1+1\", row\n"
	       "assert row['dde'] == \"'=cmd|' /C calc'!A0\", row\n"
	       "assert row['tab'] == \"'\\t=1\" and row['cr'] == \"'\\r=2\", row\n"
	       "assert row['at'] == \"'@SUM(A1)\" and row['minus'] == \"'-\", row\n"
	       "# Numbers, and text, are as stored.\n"
	       "assert row['neg'] == '-5' and row['dec'] == '-3.25', row\n"
	       "assert row['phone'] == '+81312345678' and row['city'] == 'Tokyo', row\n"
	       "assert row['email'] == 'f1@example.com', row\n",
	       export_to(st, "news", "safe.csv", 0, &rows));
	assert_int_equal(rows, 1);
}

/* A copy of the CSV file csv, as name, with the address addr made someone else's. */
static const char *someone_new(const char *csv, const char *addr, size_t pos, char c,
			       const char *name)
{
	char *txt = fx_slurp(csv), *at = strstr(txt, addr);
	const char *out;

	assert_non_null(at);
	at[pos] = c;
	out = fx_file(name, txt, strlen(txt));
	free(txt);
	return out;
}

static void test_raw_round_trips(void **state)
{
	struct store *st = *state;
	struct store_subscriber *p = NULL;
	struct store_import_stats s;
	const char *raw;
	char *err = NULL;
	int64_t rows = 0;
	size_t i, j;

	add_tricky(st);
	raw = export_to(st, "news", "raw.csv", STORE_EXPORT_RAW, &rows);
	assert_int_equal(rows, 1);
	python("import csv, sys\n"
	       "r = list(csv.reader(open(sys.argv[1], newline='')))\n"
	       "row = dict(zip(r[0], r[1]))\n"
	       "assert row['name'] == '=HYPERLINK(\"http://evil.example/\",\"Click\")', row\n"
	       "assert row['@cmd'] == '+1+1' and row['tab'] == '\\t=1', row\n"
	       "assert row['cr'] == '\\r=2' and row['minus'] == '-', row\n",
	       raw);
	/* Imported as someone new (f2) into another list: exactly as stored. */
	assert_int_equal(store_list_add(st, "copy", NULL, NULL, &err), STORE_OK);
	raw = someone_new(raw, "f1@example.com", 1, '2', "raw2.csv");
	assert_int_equal(fx_import(st, "copy", raw, &s, &err), STORE_OK);
	assert_int_equal(s.imported, 1);
	assert_int_equal(s.invalid, 0);
	assert_int_equal(store_subscriber_get(st, "f2@example.com", &p, &err), STORE_OK);
	assert_string_equal(p->name, tricky_name);
	assert_int_equal(p->nattrs, NTRICKY);
	for (i = 0; i < NTRICKY; i++) {
		for (j = 0; j < p->nattrs && strcmp(p->attrs[j].key, tricky[i].key) != 0; j++)
			;
		assert_true(j < p->nattrs);
		assert_string_equal(p->attrs[j].value, tricky[i].value);
	}
	store_subscriber_free(&p);
}

/*
 * Attribute names are kept without spaces around them, as an import reads
 * a header: what subscriber add is given that way exports as a header that
 * imports again, and a reserved or empty name is no less refused for them.
 */
static void test_names_trimmed(void **state)
{
	struct store *st = *state;
	struct store_attr padded[] = {{" city", "Tokyo"}, {"plan\t", "pro"}};
	struct store_attr reserved[] = {{"email ", "x"}}, blank[] = {{" \t", "x"}};
	struct store_subscriber *p = NULL;
	struct store_import_stats s;
	char *err = NULL;
	int64_t rows = 0;

	assert_int_equal(
	    store_subscriber_add(st, "news", "t1@example.com", NULL, padded, 2, NULL, &err),
	    STORE_OK);
	assert_int_equal(store_subscriber_get(st, "t1@example.com", &p, &err), STORE_OK);
	assert_string_equal(fx_attr(p, "city"), "Tokyo");
	assert_string_equal(fx_attr(p, "plan"), "pro");
	store_subscriber_free(&p);
	assert_int_equal(
	    store_subscriber_add(st, "news", "t2@example.com", NULL, reserved, 1, NULL, &err),
	    STORE_EINVAL);
	assert_non_null(strstr(err, "is reserved"));
	free(err);
	err = NULL;
	assert_int_equal(
	    store_subscriber_add(st, "news", "t3@example.com", NULL, blank, 1, NULL, &err),
	    STORE_EINVAL);
	assert_non_null(strstr(err, "is empty"));
	free(err);
	err = NULL;
	assert_int_equal(store_list_add(st, "copy", NULL, NULL, &err), STORE_OK);
	assert_int_equal(fx_import(st, "copy",
				   export_to(st, "news", "t.csv", STORE_EXPORT_RAW, &rows), &s,
				   &err),
			 STORE_OK);
	assert_int_equal(rows, 1);
	assert_int_equal(s.updated, 0);
	assert_int_equal(s.invalid, 0);
	assert_int_equal(s.imported, 1);
}

/* 600 attributes on one person, one more on another: 601 columns, none lost. */
static void test_every_attribute(void **state)
{
	struct store *st = *state;
	struct store_attr *a = calloc(600, sizeof(*a));
	struct store_attr late = {"late", "last"};
	char(*kv)[2][16] = calloc(600, sizeof(*kv));
	char *err = NULL;
	int64_t rows = 0;
	size_t i;

	assert_non_null(a);
	assert_non_null(kv);
	for (i = 0; i < 600; i++) {
		snprintf(kv[i][0], sizeof(kv[i][0]), "k%03zu", i);
		snprintf(kv[i][1], sizeof(kv[i][1]), "v%zu", i);
		a[i].key = kv[i][0];
		a[i].value = kv[i][1];
	}
	assert_int_equal(
	    store_subscriber_add(st, "news", "many@example.com", "Many", a, 600, NULL, &err),
	    STORE_OK);
	assert_int_equal(
	    store_subscriber_add(st, "news", "one@example.com", "One", &late, 1, NULL, &err),
	    STORE_OK);
	python("import csv, sys\n"
	       "r = list(csv.reader(open(sys.argv[1], newline='')))\n"
	       "h = r[0]\n"
	       "assert len(h) == 9 + 601, len(h)\n"
	       "assert h[9:609] == ['k%03d' % i for i in range(600)] and h[609] == 'late', h\n"
	       "rows = {x[0]: dict(zip(h, x)) for x in r[1:]}\n"
	       "m, o = rows['many@example.com'], rows['one@example.com']\n"
	       "assert all(m['k%03d' % i] == 'v%d' % i for i in range(600)), m\n"
	       "assert m['late'] == '' and o['late'] == 'last' and o['k599'] == '', o\n",
	       export_to(st, "news", "many.csv", 0, &rows));
	assert_int_equal(rows, 2);
	free(a);
	free(kv);
}

/* The consent of addr on its first list, as stored. */
static void consent_of(struct store *st, const char *addr, const char *version,
		       const char *confirmed)
{
	struct store_subscriber *p = NULL;
	char *err = NULL;

	assert_int_equal(store_subscriber_get(st, addr, &p, &err), STORE_OK);
	assert_string_equal(p->lists[0].consent_version, version);
	assert_string_equal(p->lists[0].consent_confirmed, confirmed);
	store_subscriber_free(&p);
}

/*
 * Proof of consent (GDPR Art. 7(1)) names the version of the text agreed to
 * and when a double opt-in was confirmed: read from an import's own columns
 * in any order, the confirmation never before the consent it confirms,
 * exported as columns of their own that import again as they were.
 */
static void test_consent_proof(void **state)
{
	static const char proof_csv[] =
	    "consent_confirmed_at,email,consent_at,Consent_Version\n"
	    "2026-01-05T10:30:00+09:00,ok@example.com,2026-01-05T01:00:00Z,privacy v3\n"
	    "2026-01-04,early@example.com,2026-01-05,v3\n"
	    "2099-01-01,future@example.com,,v3\n"
	    "20260105T013000Z,noat@example.com,,\n"
	    ",none@example.com,,\n"
	    "2026-01-06,line@example.com,2026-01-05,\"v3\nv4\"\n";
	struct store *st = *state;
	struct store_consent c = {.at = "2026-02-01T10:00:00Z",
				  .version = "terms v4",
				  .confirmed = "2026-02-01T09:00:00Z"};
	struct store_import_stats s;
	struct store_subscriber *p = NULL;
	const char *f, *out;
	char *err = NULL, *txt, rej[300];
	int64_t rows = 0;

	f = fx_file("proof.csv", proof_csv, sizeof(proof_csv) - 1);
	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_OK);
	assert_int_equal(s.imported, 3);
	assert_int_equal(s.invalid, 3);
	snprintf(rej, sizeof(rej), "%s.rej", f);
	txt = fx_slurp(rej);
	assert_non_null(strstr(txt, "3,\"column 1 (consent_confirmed_at) is before the consent "
				    "was given"));
	assert_non_null(strstr(txt, "4,\"column 1 (consent_confirmed_at) is in the future"));
	assert_non_null(strstr(txt, "7,\"column 4 (Consent_Version) holds a line break"));
	free(txt);
	consent_of(st, "ok@example.com", "privacy v3", "2026-01-05T01:30:00Z");
	/* With no consent time of its own, the consent is dated by its confirmation. */
	consent_of(st, "noat@example.com", "", "2026-01-05T01:30:00Z");
	assert_int_equal(store_subscriber_get(st, "noat@example.com", &p, &err), STORE_OK);
	assert_string_equal(p->lists[0].consent_at, "2026-01-05T01:30:00Z");
	store_subscriber_free(&p);
	consent_of(st, "none@example.com", "", "");

	/* subscriber add holds it to the same rules. */
	assert_int_equal(store_list_add(st, "copy", NULL, NULL, &err), STORE_OK);
	assert_int_equal(
	    store_subscriber_add(st, "news", "add@example.com", NULL, NULL, 0, &c, &err),
	    STORE_EINVAL);
	assert_non_null(strstr(err, "the confirmation time \"2026-02-01T09:00:00Z\" is before"));
	free(err);
	err = NULL;
	c.confirmed = "2026-02-01T10:05:00+00:00";
	assert_int_equal(
	    store_subscriber_add(st, "news", "add@example.com", NULL, NULL, 0, &c, &err), STORE_OK);
	consent_of(st, "add@example.com", "terms v4", "2026-02-01T10:05:00Z");
	c.at = NULL;
	c.confirmed = "2026-02-02";
	assert_int_equal(
	    store_subscriber_add(st, "copy", "conf@example.com", NULL, NULL, 0, &c, &err),
	    STORE_OK);
	assert_int_equal(store_subscriber_get(st, "conf@example.com", &p, &err), STORE_OK);
	assert_string_equal(p->lists[0].consent_at, "2026-02-02T00:00:00Z");
	store_subscriber_free(&p);

	/* Exported as columns of their own, read back by Python's csv module... */
	out = export_to(st, "news", "proof-out.csv", STORE_EXPORT_RAW, &rows);
	assert_int_equal(rows, 4);
	python("import csv, sys\n"
	       "r = {d['email']: d for d in csv.DictReader(open(sys.argv[1], newline=''))}\n"
	       "assert r['ok@example.com']['consent_version'] == 'privacy v3', r\n"
	       "assert r['ok@example.com']['consent_confirmed_at'] == '2026-01-05T01:30:00Z', r\n"
	       "assert r['add@example.com']['consent_version'] == 'terms v4', r\n"
	       "assert r['none@example.com']['consent_confirmed_at'] == '', r\n"
	       "assert 'Consent_Version' not in r['ok@example.com'], r\n",
	       out);
	/* ...and imported again, as someone new, exactly as they were. */
	out = someone_new(out, "ok@example.com", 0, 'k', "proof-again.csv");
	assert_int_equal(fx_import(st, "copy", out, &s, &err), STORE_OK);
	assert_int_equal(s.imported, 4); /* kk, and the others' memberships of copy */
	assert_int_equal(s.invalid, 0);
	consent_of(st, "kk@example.com", "privacy v3", "2026-01-05T01:30:00Z");
}

/*
 * A second import completes a member's consent, rewriting nothing: a
 * version where there was none, and a double opt-in confirmed since, not
 * one before the consent on file. A version on more than one line, with a C1
 * control, or over 1024 bytes is a bad row.
 */
static void test_consent_completed(void **state)
{
	static const char first_csv[] = "email,consent_at,consent_version\n"
					"plain@example.com,2026-01-01,\n"
					"versioned@example.com,2026-01-01,v1\n"
					"early@example.com,2026-01-10,\n";
	struct store *st = *state;
	struct store_import_stats s;
	struct store_consent c = {0};
	const char *f;
	char *err = NULL, *txt, rej[300], big[1100], row[1200];

	f = fx_file("first.csv", first_csv, sizeof(first_csv) - 1);
	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_OK);
	assert_int_equal(s.imported, 3);
	memset(big, 'x', 1025);
	big[1025] = '\0';
	snprintf(row, sizeof(row), "long@example.com,,%s\n", big);
	txt = NULL;
	assert_int_equal(asprintf(&txt,
				  "email,consent_confirmed_at,consent_version\n"
				  "plain@example.com,2026-01-02T08:00:00Z,v2\n"
				  "versioned@example.com,2026-01-02,v2\n"
				  "early@example.com,2026-01-05,v2\n"
				  "c1@example.com,,v\xc2\x85"
				  "2\n"
				  "%s",
				  row) > 0,
			 1);
	f = fx_file("again.csv", txt, strlen(txt));
	free(txt);
	assert_int_equal(fx_import(st, "news", f, &s, &err), STORE_OK);
	assert_int_equal(s.updated, 3);
	assert_int_equal(s.imported, 0);
	assert_int_equal(s.invalid, 2);
	consent_of(st, "plain@example.com", "v2", "2026-01-02T08:00:00Z");
	consent_of(st, "versioned@example.com", "v1", "2026-01-02T00:00:00Z");
	consent_of(st, "early@example.com", "v2", "");
	snprintf(rej, sizeof(rej), "%s.rej", f);
	txt = fx_slurp(rej);
	assert_non_null(
	    strstr(txt, "5,\"column 3 (consent_version) holds a line break or control"));
	assert_non_null(strstr(txt, "6,\"column 3 (consent_version) is longer than 1024 bytes"));
	free(txt);
	/* The same rules hold for subscriber add. */
	c.version = big;
	assert_int_equal(
	    store_subscriber_add(st, "news", "big@example.com", NULL, NULL, 0, &c, &err),
	    STORE_EINVAL);
	assert_non_null(strstr(err, "the consent version is longer than 1024 bytes"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_formulas_neutralised, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_raw_round_trips, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_names_trimmed, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_every_attribute, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_consent_proof, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_consent_completed, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
