/*
 * The segment language: syntax errors name their column and what was
 * expected; counts over generated data agree with an independent count made
 * here from the generated rows; SQL metacharacters are data, never code; the
 * recipient walk agrees with the count, in a stable order. An address written
 * in a saved segment is masked for a viewer, shown in the person's data and
 * taken out by an erasure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <time.h>

#include "store/subscribers_private.h"
#include "subs_fixture.h"

static void test_syntax(void **state)
{
	char deep[400];
	int i;

	(void)state;
	assert_int_equal(store_segment_check("", NULL), STORE_OK);
	assert_int_equal(store_segment_check("attr.city = \"Tokyo\" and not domain in "
					     "(\"docomo.ne.jp\",\"ezweb.ne.jp\")",
					     NULL),
			 STORE_OK);
	assert_int_equal(store_segment_check("(name is set or attr.\"first name\" is not set) and "
					     "created within 30d or created > 2026-01-01",
					     NULL),
			 STORE_OK);
	assert_int_equal(store_segment_check("attr.age >= 18 and attr.age < 65.5", NULL), STORE_OK);
	/* An import's column "1st" or "2nd-choice" is a name, not a malformed number. */
	assert_int_equal(store_segment_check("attr.1st = \"one\" or attr.2nd-choice is set", NULL),
			 STORE_OK);
	fx_segment_error("attr.? = 1", "expected an attribute name (one with spaces or other "
					"signs in double quotes: attr.\"First Name\")");
	fx_segment_error("attr.city = ",
			 "column 13: expected a value in double quotes or a number, "
			 "found the end of the text");
	fx_segment_error("attr.city == \"x\"", "column 12: expected a value");
	fx_segment_error("city = \"x\"", "column 1: expected a field");
	fx_segment_error("name = 'x'",
			 "column 8: expected a value in double quotes or a number, found a "
			 "single quote");
	fx_segment_error("name = \"x", "found a string with no closing quote");
	fx_segment_error("(name is set", "column 13: expected \")\"");
	fx_segment_error("name is set name", "column 13: expected \"and\", \"or\" or the end");
	fx_segment_error("created > yesterday", "column 11: expected a date");
	fx_segment_error("created > 2026-01-01T09:00+25:00", "column 11: expected a date");
	fx_segment_error("created within 30 days", "expected a duration");
	fx_segment_error("status = \"gone\"", "expected a status");
	fx_segment_error("domain in \"a\"", "expected \"(\" after \"in\"");
	fx_segment_error("name = \"a\"; DROP TABLE subscribers", "column 11: expected \"and\"");
	/* Columns count characters, not bytes: the quote is the 39th character. */
	fx_segment_error("attr.city = \"東京\" and name starts_with \"伊", "column 39: expected");
	fx_segment_error("name = \"東京\" \x01",
			 "column 13: the expression holds a control character");
	for (i = 0; i < 200; i++)
		deep[i] = '(';
	strcpy(deep + 200, "name is set");
	fx_segment_error(deep, "less nesting");
}

#define N 3000

static const char *const cities[] = {"Tokyo", "Osaka", "Kyoto", "Sapporo", ""};
static const char *const domains[] = {"example.com", "docomo.ne.jp", "ezweb.ne.jp", "Example.org",
				      "blocked.example"};

struct person {
	char email[64], domain[32], name[32], city[16];
	int age; /* -1: none */
	int unsub, in_list;
};
static struct person people[N];

/* An independent evaluation of the expressions below, over the generated rows. */
static int counts(const struct person *p, int which)
{
	int tokyo = strcmp(p->city, "Tokyo") == 0;
	int carrier =
	    strcmp(p->domain, "docomo.ne.jp") == 0 || strcmp(p->domain, "ezweb.ne.jp") == 0;

	switch (which) {
	case 0:
		return 1;
	case 1:
		return tokyo;
	case 2:
		return tokyo && !carrier;
	case 3:
		return strcmp(p->domain, "docomo.ne.jp") == 0;
	case 4:
		return p->age >= 0 && p->age >= 40;
	case 5:
		return !(p->age >= 0 && p->age >= 40);
	case 6:
		return p->city[0] == '\0';
	case 7:
		return p->city[0] != '\0' && strcmp(p->city, "Osaka") != 0;
	case 8:
		return strcmp(p->city, "Osaka") != 0;
	case 9:
		return p->name[0] != '\0' && strstr(p->name, "7") != NULL;
	case 10:
		return strncmp(p->email, "u1", 2) == 0 || strcmp(p->domain, "example.org") == 0;
	case 11:
		return p->age >= 0 && p->age < 30 && (tokyo || strcmp(p->city, "Kyoto") == 0);
	case 12:
		return strlen(p->email) >= 5 &&
		       strcmp(p->email + strlen(p->email) - 5, "e.com") == 0;
	}
	return 0;
}

static const char *const exprs[] = {
    "",
    "attr.city = \"Tokyo\"",
    "attr.city = \"Tokyo\" and not domain in (\"docomo.ne.jp\",\"EZWEB.ne.jp\")",
    "domain = \"DOCOMO.ne.jp\"",
    "attr.age >= 40",
    "not attr.age >= 40",
    "attr.city is not set",
    "attr.city is set and attr.city != \"Osaka\"",
    "attr.city != \"Osaka\"",
    "name contains \"7\"",
    "email starts_with \"u1\" or domain = \"example.org\"",
    "attr.age < 30 and (attr.city = \"Tokyo\" or attr.city = \"Kyoto\")",
    "email ends_with \"e.com\"",
};

static void test_counts(void **state)
{
	struct store *st = *state;
	struct store_import_stats s;
	char *err = NULL, path[256];
	unsigned seed = 12345;
	FILE *fp;
	int i, k;

	snprintf(path, sizeof(path), "%s/gen.csv", fx_dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("email,name,city,age\n", fp);
	for (i = 0; i < N; i++) {
		struct person *p = &people[i];
		int d = (int)(rand_r(&seed) % 5);
		snprintf(p->domain, sizeof(p->domain), "%s", domains[d]);
		for (char *c = p->domain; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		snprintf(p->email, sizeof(p->email), "u%d@%.31s", i, domains[d]);
		for (char *c = strchr(p->email, '@'); *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		if (rand_r(&seed) % 4)
			snprintf(p->name, sizeof(p->name), "Name %d", (int)(rand_r(&seed) % 100));
		snprintf(p->city, sizeof(p->city), "%s", cities[rand_r(&seed) % 5]);
		p->age = rand_r(&seed) % 5 ? (int)(rand_r(&seed) % 80) : -1;
		p->in_list = 1;
		fprintf(fp, "u%d@%s,%s,%s,", i, domains[d], p->name, p->city);
		if (p->age >= 0)
			fprintf(fp, "%d", p->age);
		fputc('\n', fp);
	}
	fclose(fp);
	assert_int_equal(fx_import(st, "news", path, &s, &err), STORE_OK);
	assert_int_equal(s.imported, N);
	/* Some unsubscribe; a domain is suppressed: neither counts. */
	for (i = 0; i < N; i += 37) {
		assert_int_equal(
		    store_subscriber_unsubscribe(st, people[i].email, "news", NULL, &err),
		    STORE_OK);
		people[i].unsub = 1;
	}
	assert_int_equal(store_suppress_add(st, "@blocked.example", "test", &err), STORE_OK);
	assert_int_equal(store_suppress_add(st, people[1].email, "test", &err), STORE_OK);
	people[1].unsub = 1;
	for (k = 0; k < (int)(sizeof(exprs) / sizeof(exprs[0])); k++) {
		int64_t want = 0;
		for (i = 0; i < N; i++)
			if (!people[i].unsub && strcmp(people[i].domain, "blocked.example") != 0 &&
			    counts(&people[i], k))
				want++;
		print_message("%5lld  %s\n", (long long)want, exprs[k]);
		assert_true(want > 0);
		assert_int_equal(fx_count(st, "news", exprs[k]), want);
		/* counted by id ranges on one connection per core: the same */
		store_count_split_min = 1;
		assert_int_equal(fx_count(st, "news", exprs[k]), want);
		store_count_split_min = 100000;
	}
	/* inside a transaction the other connections can't see its writes: one range */
	store_count_split_min = 1;
	assert_int_equal(store_subscriber_unsubscribe(st, people[2].email, "news", NULL, &err),
			 STORE_OK);
	assert_int_equal(store_begin(st), STORE_OK);
	assert_int_equal(store_subscriber_unsubscribe(st, people[3].email, "news", NULL, &err),
			 STORE_OK);
	{
		int64_t all = 0;

		for (i = 0; i < N; i++)
			if (!people[i].unsub && strcmp(people[i].domain, "blocked.example") != 0)
				all++;
		all -= !people[2].unsub && strcmp(people[2].domain, "blocked.example") != 0;
		all -= !people[3].unsub && strcmp(people[3].domain, "blocked.example") != 0;
		assert_int_equal(fx_count(st, "news", ""), all);
	}
	store_rollback(st);
	store_count_split_min = 100000;
}

struct walk {
	int64_t n, last;
	int ordered;
};

static int walk_cb(const struct store_recipient *r, void *arg)
{
	struct walk *w = arg;

	if (r->id <= w->last)
		w->ordered = 0;
	w->last = r->id;
	w->n++;
	assert_non_null(strstr(r->email, "@"));
	return 0;
}

static void test_metachars_and_walk(void **state)
{
	struct store *st = *state;
	char *err = NULL, *list = NULL, *expr = NULL;
	struct walk w = {0, 0, 1};
	struct store_attr a = {"k'); DROP TABLE subscribers; --", "x' OR 1=1 --"};

	assert_int_equal(
	    store_subscriber_add(st, "news", "evil@example.com", "x' OR 1=1 --", &a, 1, NULL, &err),
	    STORE_OK);
	assert_int_equal(
	    store_subscriber_add(st, "news", "plain@example.com", "Plain", NULL, 0, NULL, &err),
	    STORE_OK);
	assert_int_equal(fx_count(st, "news", "name = \"x' OR 1=1 --\""), 1);
	assert_int_equal(fx_count(st, "news", "name = \"' OR 1=1 --\""), 0);
	assert_int_equal(fx_count(st, "news", "name = \"\\\" OR 1=1 --\""), 0);
	assert_int_equal(fx_count(st, "news", "attr.\"k'); DROP TABLE subscribers; --\" is set"),
			 1);
	assert_int_equal(fx_count(st, "news",
				  "attr.\"k'); DROP TABLE subscribers; --\" = "
				  "\"x' OR 1=1 --\""),
			 1);
	assert_int_equal(fx_count(st, "news", "email contains \"%\" or name contains \"_\""), 0);
	assert_int_equal(fx_count(st, "news", NULL), 2); /* the table is still there */
	assert_int_equal(store_segment_recipients(st, "news", "", walk_cb, &w, &err), STORE_OK);
	assert_int_equal(w.n, 2);
	assert_true(w.ordered);
	/* Saved segments. */
	assert_int_equal(store_segment_add(st, "plain", "news", "name = \"Plain\"", &err),
			 STORE_OK);
	assert_int_equal(store_segment_add(st, "bad", "news", "name = ", &err), STORE_EINVAL);
	free(err);
	err = NULL;
	assert_int_equal(store_segment_add(st, "x", "nolist", "", &err), STORE_ENOTFOUND);
	free(err);
	err = NULL;
	assert_int_equal(store_segment_get(st, "plain", &list, &expr, &err), STORE_OK);
	assert_string_equal(list, "news");
	assert_int_equal(fx_count(st, list, expr), 1);
	free(list);
	free(expr);
}

static void test_dates(void **state)
{
	struct store *st = *state;
	char *err = NULL, today[32], expr[96];
	time_t now = time(NULL);
	struct tm tm;

	assert_int_equal(
	    store_subscriber_add(st, "news", "d@example.com", NULL, NULL, 0, NULL, &err), STORE_OK);
	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	assert_int_equal(fx_count(st, "news", "created within 1d"), 1);
	assert_int_equal(fx_count(st, "news", "created within 1h"), 1);
	assert_int_equal(fx_count(st, "news", "created > 2030-01-01"), 0);
	assert_int_equal(fx_count(st, "news", "created > 2020-01-01T00:00:00Z"), 1);
	assert_int_equal(fx_count(st, "news", "created > 2020-01-01T09:00:00+09:00"), 1);
	assert_int_equal(fx_count(st, "news", "created > 2030-01-01T09:00-05:00"), 0);
	snprintf(expr, sizeof(expr), "created = %s", today);
	assert_int_equal(fx_count(st, "news", expr), 1);
	snprintf(expr, sizeof(expr), "created != %s", today);
	assert_int_equal(fx_count(st, "news", expr), 0);
}

/*
 * A date is its whole day with every operator: people made a second before
 * 2026-10-31 (UTC), at its first and last second, and a second after it.
 */
static void test_date_is_a_day(void **state)
{
	struct store *st = *state;
	static const char *const who[] = {"a", "b", "c", "d"};
	static const struct {
		const char *op;
		int n;
	} want[] = {{"=", 2}, {"!=", 2}, {"<", 1}, {"<=", 3}, {">", 1}, {">=", 3}};
	const int64_t day = 1793404800; /* 2026-10-31T00:00:00Z */
	const int64_t at[] = {day - 1, day, day + 86399, day + 86400};
	char *err = NULL, sql[160], expr[64];

	for (int i = 0; i < 4; i++) {
		snprintf(sql, sizeof(sql), "%s@example.com", who[i]);
		assert_int_equal(store_subscriber_add(st, "news", sql, NULL, NULL, 0, NULL, &err),
				 STORE_OK);
		snprintf(sql, sizeof(sql),
			 "UPDATE subscribers SET created = %lld WHERE email = '%s@example.com'",
			 (long long)at[i], who[i]);
		assert_int_equal(sqlite3_exec(st->db, sql, NULL, NULL, NULL), SQLITE_OK);
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(expr, sizeof(expr), "created %s 2026-10-31", want[i].op);
		if (fx_count(st, "news", expr) != want[i].n)
			fail_msg("%s: %lld, not %d", expr, (long long)fx_count(st, "news", expr),
				 want[i].n);
	}
	/* A time is that instant. */
	assert_int_equal(fx_count(st, "news", "created <= 2026-10-31T00:00:00Z"), 2);
	assert_int_equal(fx_count(st, "news", "created > 2026-10-31T00:00:00Z"), 2);
}

/* Appends n copies of `each`, joined by `sep`, to a growing expression. */
static char *repeat(const char *head, const char *each, const char *sep, int n, const char *tail)
{
	size_t cap = strlen(head) + (size_t)n * (strlen(each) + strlen(sep) + 8) + strlen(tail) + 1;
	char *e = malloc(cap), *w;
	int i;

	assert_non_null(e);
	w = e + sprintf(e, "%s", head);
	for (i = 0; i < n; i++) {
		if (i > 0)
			w += sprintf(w, "%s", sep);
		w += sprintf(w, each, i);
	}
	sprintf(w, "%s", tail);
	return e;
}

/*
 * The largest expressions the parser takes are ones SQLite can run: no
 * "too many SQL variables" or "expression tree is too large" when counting
 * or sending; one more condition or value is a parse error with a column.
 */
static void test_limits(void **state)
{
	struct store *st = *state;
	char *err = NULL, *e;

	assert_int_equal(
	    store_subscriber_add(st, "news", "v7@example.com", "v7", NULL, 0, NULL, &err),
	    STORE_OK);
	e = repeat("", "name is set", " and ", 200, "");
	assert_int_equal(fx_count(st, "news", e), 1);
	free(e);
	e = repeat("", "name != \"x%d\"", " and ", 200, "");
	assert_int_equal(fx_count(st, "news", e), 1);
	free(e);
	e = repeat("", "name is set", " and ", 201, "");
	fx_segment_error(e, "at most 200");
	free(e);
	e = repeat("name in (", "\"v%d\"", ",", 990, ")");
	assert_int_equal(fx_count(st, "news", e), 1);
	free(e);
	e = repeat("name in (", "\"v%d\"", ",", 991, ")");
	fx_segment_error(e, "at most 990 values");
	free(e);
	/* Numbers count as values too, though they share one bound value. */
	e = repeat("attr.age in (", "%d", ",", 990, ")");
	assert_int_equal(fx_count(st, "news", e),
			 fx_count(st, "news", "attr.age >= 0 and attr.age < 990"));
	free(e);
	e = repeat("attr.age in (", "%d", ",", 991, ")");
	fx_segment_error(e, "at most 990 values");
	free(e);
}

/*
 * Nesting as deep as the parser takes, in the shapes that fill SQLite's
 * parser stack the most, counts and walks; one level more is a parse error.
 */
static void test_nesting(void **state)
{
	static const char *const inner[] = {
	    "attr.x >= 5",	 "attr.k is not set",	      "email = \"a@b.c\"",
	    "created within 3d", "attr.a.b in (\"a\",\"b\")", "name contains \"v\""};
	static const struct {
		const char *head, *tail;
		int depth; /* per head */
	} shapes[] = {
	    {"(name = \"z\" or name = \"z\" and ", ")", 1},
	    {"(name = \"z\" or name = \"z\" and not ", ")", 2},
	    {"not ", "", 1},
	    {"(", ")", 1},
	    {"not (name = \"z\" or ", ")", 2},
	};
	struct store *st = *state;
	char *err = NULL, *e, *heads, *tails;
	size_t i, k;

	assert_int_equal(
	    store_subscriber_add(st, "news", "v7@example.com", "v7", NULL, 0, NULL, &err),
	    STORE_OK);
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		int n = 12 / shapes[i].depth;
		heads = repeat("", shapes[i].head, "", n, "");
		tails = repeat("", shapes[i].tail, "", n, "");
		for (k = 0; k < sizeof(inner) / sizeof(inner[0]); k++) {
			struct walk w = {0, 0, 1};
			size_t len = strlen(heads) + strlen(inner[k]) + strlen(tails) + 1;
			e = malloc(len);
			assert_non_null(e);
			snprintf(e, len, "%s%s%s", heads, inner[k], tails);
			assert_true(fx_count(st, "news", e) >= 0);
			if (store_segment_recipients(st, "news", e, walk_cb, &w, &err) != STORE_OK)
				fail_msg("%s: %s", e, err);
			free(e);
		}
		free(heads);
		free(tails);
	}
	e = repeat("", "(", "", 13, "name is set");
	fx_segment_error(e, "at most 12 levels");
	free(e);
	e = repeat("", "not ", "", 13, "name is set");
	fx_segment_error(e, "at most 12 levels");
	free(e);
}

static int expr_of(const struct store_segment_info *i, void *arg)
{
	char **out = arg;

	if (strcmp(i->name, "who") == 0)
		*out = strdup(i->expr);
	return 0;
}

/* The expression of the segment "who" as `segment ls` shows it to st's user. */
static char *listed(struct store *st)
{
	char *expr = NULL, *err = NULL;

	assert_int_equal(store_segment_ls(st, expr_of, &expr, &err), STORE_OK);
	assert_non_null(expr);
	return expr;
}

#define WHO                                                                                        \
	"email in (\"other@victim.jp\", \"Bob.Target@VICTIM.jp\") or attr.\"note \\\"x\\\"\" "     \
	"contains \"call bob.target@victim.jp \\\"now\\\"\" or email starts_with \"bob.t\" or "    \
	"attr.ref = \"xbob.target@victim.jp\""

static void test_addresses_in_segments(void **state)
{
	struct store *st = *state, *vw = NULL;
	char *err = NULL, *txt, *list = NULL, *expr = NULL, path[200], cmd[700];
	sqlite3_stmt *q = NULL;
	FILE *fp;

	assert_int_equal(
	    store_subscriber_add(st, "news", "bob.target@victim.jp", "Bob", NULL, 0, NULL, &err),
	    STORE_OK);
	assert_int_equal(
	    store_subscriber_add(st, "news", "other@victim.jp", "Other", NULL, 0, NULL, &err),
	    STORE_OK);
	assert_int_equal(store_segment_add(st, "who", "news", WHO, &err), STORE_OK);
	assert_int_equal(
	    store_segment_add(st, "vip", "news", "email = \"bob.target@victim.jp\"", &err),
	    STORE_OK);
	assert_int_equal(store_segment_add(st, "city", "news", "attr.city = \"Tokyo\"", &err),
			 STORE_OK);
	/* The marketer (pii) sees the expression as written. */
	txt = listed(st);
	assert_string_equal(txt, WHO);
	free(txt);
	/* A viewer sees every address masked, and a piece of one compared with email. */
	assert_int_equal(store_open(fx_path, "vw", VW_PW, &vw, &err), STORE_OK);
	txt = listed(vw);
	assert_string_equal(txt,
			    "email in (\"o***@victim.jp\", \"B***@VICTIM.jp\") or "
			    "attr.\"note \\\"x\\\"\" contains \"call b***@victim.jp \\\"now\\\"\" "
			    "or email starts_with \"***\" or attr.ref = \"x***@victim.jp\"");
	assert_null(strstr(txt, "target"));
	assert_int_equal(store_segment_check(txt, NULL), STORE_OK);
	free(txt);
	/* Text after the last address is kept. */
	txt = store_segment_mask(vw, "attr.note contains \"call bob@victim.jp now\"");
	assert_string_equal(txt, "attr.note contains \"call b***@victim.jp now\"");
	free(txt);
	txt = store_segment_mask(vw, "attr.city = \"Tokyo\" and domain = \"victim.jp\"");
	assert_string_equal(txt, "attr.city = \"Tokyo\" and domain = \"victim.jp\"");
	free(txt);
	/* A string compared with email is one address: its local part is masked from the
	 * start, whatever quotes or escapes it holds; a domain alone is kept. */
	txt = store_segment_mask(vw, "email = \"kn\\\"o@victim.jp\" or email in "
				     "(\"\\\"kn o\\\"@victim.jp\", \"a\\\\b\\\"c@victim.jp\") or "
				     "email ends_with \"@victim.jp\"");
	assert_string_equal(txt, "email = \"k***@victim.jp\" or email in (\"k***@victim.jp\", "
				 "\"a***@victim.jp\") or email ends_with \"@victim.jp\"");
	assert_int_equal(store_segment_check(txt, NULL), STORE_OK);
	free(txt);
	store_close(&vw);
	/* The person's data lists the segments that name the address, in any case. */
	snprintf(path, sizeof(path), "%s/data.json", fx_dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(store_subscriber_data(st, "BOB.TARGET@victim.jp", fp, &err), STORE_OK);
	fclose(fp);
	snprintf(
	    cmd, sizeof(cmd),
	    "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));"
	    " assert [s[\"name\"] for s in d[\"segments\"]]==[\"vip\",\"who\"], d;"
	    " assert d[\"segments\"][0][\"list\"]==\"news\";"
	    " assert d[\"segments\"][0][\"expression\"]==\"email = \\\"bob.target@victim.jp\\\"\"'"
	    " %s",
	    path);
	assert_int_equal(system(cmd), 0);
	/* The erasure takes the address out of both, and they still parse. */
	assert_int_equal(store_subscriber_erase(st, "bob.target@victim.jp", NULL, &err), STORE_OK);
	assert_int_equal(store_segment_get(st, "who", &list, &expr, &err), STORE_OK);
	assert_string_equal(expr, "email in (\"other@victim.jp\", \"(erased)\") or attr.\"note "
				  "\\\"x\\\"\" contains \"call (erased) \\\"now\\\"\" or email "
				  "starts_with \"bob.t\" or attr.ref = \"xbob.target@victim.jp\"");
	assert_int_equal(fx_count(st, list, expr), 1);
	free(list);
	free(expr);
	assert_int_equal(store_segment_get(st, "vip", &list, &expr, &err), STORE_OK);
	assert_string_equal(expr, "email = \"(erased)\"");
	assert_int_equal(fx_count(st, list, expr), 0);
	free(list);
	free(expr);
	/* The erasure's audit record counts them. */
	assert_int_equal(sqlite3_prepare_v2(st->db,
					    "SELECT details FROM audit WHERE action ="
					    " 'subscriber.erase'",
					    -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_non_null(strstr((const char *)sqlite3_column_text(q, 0), "2 saved segments"));
	sqlite3_finalize(q);
}

/*
 * A viewer can't spell out an address in a name or an attribute with
 * counts that test no "@": for them such a value is not set, whatever the
 * operator, while the marketer counts it as it is.
 */
static void test_viewer_probes(void **state)
{
	struct store *st = *state, *vw = NULL;
	struct store_attr a = {"backup", "hidden.u@corp.example"};
	char *err = NULL;
	static const char *const probes[] = {
	    "name starts_with \"jane.doe\" and name ends_with \"corp.example\"",
	    "name contains \"doe\"",
	    "name > \"jane\" and name < \"janf\"",
	    "attr.backup starts_with \"hidden.u\"",
	    "attr.backup in (\"x\", \"hidden\") or attr.backup >= \"h\"",
	};

	assert_int_equal(store_subscriber_add(st, "news", "c@example.com", "jane.doe@corp.example",
					      &a, 1, NULL, &err),
			 STORE_OK);
	assert_int_equal(
	    store_subscriber_add(st, "news", "d@example.com", "Jane Plain", NULL, 0, NULL, &err),
	    STORE_OK);
	assert_int_equal(store_open(fx_path, "vw", VW_PW, &vw, &err), STORE_OK);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if (fx_count(st, "news", probes[i]) != 1)
			fail_msg("the marketer's count of %s", probes[i]);
		if (fx_count(vw, "news", probes[i]) != 0)
			fail_msg("the viewer's count of %s", probes[i]);
	}
	/* The rest is counted as for anyone. */
	assert_int_equal(fx_count(vw, "news", "name starts_with \"Jane\""), 1);
	assert_int_equal(fx_count(vw, "news", "attr.backup is not set"), 2);
	assert_int_equal(fx_count(vw, "news", "name is set"), 1);
	assert_int_equal(fx_count(st, "news", "name is set"), 2);
	store_close(&vw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_syntax),
	    cmocka_unit_test_setup_teardown(test_counts, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_metachars_and_walk, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_dates, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_date_is_a_day, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_limits, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_nesting, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_addresses_in_segments, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_viewer_probes, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
