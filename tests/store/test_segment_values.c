/*
 * How the segment language reads values and text: counts are the same
 * whatever the locale (a comma-decimal German one, a Turkish one whose
 * tolower leaves "I" alone); "x in (a, b)" counts as "x = a or x = b"; only
 * plain decimals are numbers; long ids compare exactly; a full-width space
 * is a space and an invisible character an error at its column; text that
 * is not UTF-8 is refused and not saved.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <sys/stat.h>

#include "store/segment_private.h"
#include "subs_fixture.h"

/*
 * The people: each has at most one attribute of interest. age holds QA's
 * values for "in"; v holds texts strtod takes for numbers.
 */
static const char people_csv[] = "email,city,age,score,member,v,1st\n"
				 "a1@example.com,,10,,,,\n"
				 "a2@example.com,,010,,,,\n"
				 "a3@example.com,,10.0,,,,\n"
				 "a4@example.com,,0x10,,,,\n"
				 "a5@example.com,,inf,,,,\n"
				 "s1@example.com,,,1.5,,,\n"
				 "s2@example.com,,,-2.5,,,\n"
				 "s3@example.com,,,3,,,\n"
				 "m1@example.com,,,,12345678901234567,,\n"
				 "m2@example.com,,,,12345678901234568,,\n"
				 "m3@example.com,,,,012345678901234567,,\n"
				 "v01@example.com,,,,,0x10,\n"
				 "v02@example.com,,,,,0X1p4,\n"
				 "v03@example.com,,,,,Infinity,\n"
				 "v04@example.com,,,,,nan,\n"
				 "v05@example.com,,,,,1e1,\n"
				 "v06@example.com,,,,,16,\n"
				 "v07@example.com,,,,,+16,\n"
				 "v08@example.com,,,,,.5,\n"
				 "v09@example.com,,,,,5.,\n"
				 "v10@example.com,,,,,\"1,5\",\n"
				 "pi@example.com,Tokyo,,,,,\n"
				 "t2@example.com,Tokyo,,,,,\n"
				 "o1@example.com,Osaka,,,,,first\n";

static int setup(void **state)
{
	struct store_import_stats s;
	char *err = NULL;

	fx_setup(state);
	assert_int_equal(fx_import(*state, "news",
				   fx_file("people.csv", people_csv, strlen(people_csv)), &s, &err),
			 STORE_OK);
	assert_int_equal(s.imported, 24);
	return 0;
}

static int teardown(void **state)
{
	setlocale(LC_ALL, "C");
	return fx_teardown(state);
}

static int64_t walked;

static int count_one(const struct store_recipient *r, void *arg)
{
	(void)r;
	(void)arg;
	walked++;
	return 0;
}

/* The count of expr three ways: one thread, one per core, and the worker's walk. */
static int64_t count3(struct store *st, const char *expr)
{
	int64_t n = fx_count(st, "news", expr), m;
	char *err = NULL;

	store_count_split_min = 1;
	m = fx_count(st, "news", expr);
	store_count_split_min = 100000;
	assert_int_equal(m, n);
	walked = 0;
	assert_int_equal(store_segment_recipients(st, "news", expr, count_one, NULL, &err),
			 STORE_OK);
	assert_int_equal(walked, n);
	return n;
}

/* Builds the locale `name` (say de_DE.UTF-8) under the fixture folder and switches to it. */
static void use_locale(const char *name)
{
	char dir[128], cmd[400], src[32];

	snprintf(dir, sizeof(dir), "%s/locale", fx_dir);
	mkdir(dir, 0700);
	snprintf(src, sizeof(src), "%.*s", (int)strcspn(name, "."), name);
	snprintf(cmd, sizeof(cmd), "localedef -i %s -f UTF-8 '%s/%s' >/dev/null 2>&1", src, dir,
		 name);
	if (system(cmd) != 0)
		fail_msg("localedef could not build %s: install the Debian package locales "
			 "(make deps)",
			 name);
	setenv("LOCPATH", dir, 1);
	if (setlocale(LC_ALL, name) == NULL)
		fail_msg("setlocale(LC_ALL, \"%s\") failed", name);
}

/* QA's case: under a German locale "1.5" read as 1 and "= 1.5" was a syntax error. */
static void test_comma_locale(void **state)
{
	struct store *st = *state;

	use_locale("de_DE.UTF-8");
	/* the test really runs under a comma locale */
	assert_string_equal(localeconv()->decimal_point, ",");
	assert_int_equal(store_segment_check("attr.score = 1.5", NULL), STORE_OK);
	assert_int_equal(count3(st, "attr.score > 1"), 2);
	assert_int_equal(count3(st, "attr.score = 1.5"), 1);
	assert_int_equal(count3(st, "attr.score < -2.4"), 1);
	assert_int_equal(count3(st, "attr.score in (1.5, 3)"), 2);
	/* a comma is still no decimal separator: "1,5" is text */
	assert_int_equal(count3(st, "attr.v >= 1"), 2);
	assert_int_equal(count3(st, "attr.v = \"1,5\""), 1);
}

/* Under tr_TR.UTF-8 the C library's tolower('I') is 'I' and strcasecmp("IN", "in") != 0. */
static void test_turkish_locale(void **state)
{
	struct store *st = *state;

	use_locale("tr_TR.UTF-8");
	assert_int_equal(count3(st, "attr.score IN (3) AND NOT attr.score = 1.5"), 1);
	assert_int_equal(count3(st, "email = \"PI@EXAMPLE.COM\""), 1);
	assert_int_equal(count3(st, "domain = \"EXAMPLE.COM\" AND attr.city Is Set"), 3);
}

/* "x in (a, b)" counts exactly as "x = a or x = b", and "not" negates both alike. */
static void test_in_is_equals(void **state)
{
	static const char *const pairs[][2] = {
	    {"attr.age in (10)", "attr.age = 10"},
	    {"attr.age in (10, \"inf\")", "attr.age = 10 or attr.age = \"inf\""},
	    {"attr.age in (\"010\", 16)", "attr.age = \"010\" or attr.age = 16"},
	    {"attr.score in (-2.5, 3, \"1.5\")",
	     "attr.score = -2.5 or attr.score = 3 or attr.score = \"1.5\""},
	    {"attr.member in (12345678901234567)", "attr.member = 12345678901234567"},
	    {"attr.v in (16, \"nan\", \".5\")",
	     "attr.v = 16 or attr.v = \"nan\" or attr.v = \".5\""},
	    {"attr.absent in (1, \"x\")", "attr.absent = 1 or attr.absent = \"x\""},
	    {"attr.city in (\"Tokyo\", \"osaka\")",
	     "attr.city = \"Tokyo\" or attr.city = \"osaka\""},
	    {"domain in (\"EXAMPLE.com\")", "domain = \"EXAMPLE.com\""},
	    {"status in (\"active\", \"bounced\")", "status = \"active\" or status = \"bounced\""},
	    {"email in (\"A1@example.com\", \"pi@example.com\")",
	     "email = \"A1@example.com\" or email = \"pi@example.com\""},
	};
	struct store *st = *state;
	char in[160], eq[160];
	size_t i;

	/* QA's numbers: 10, 010, 10.0, 0x10 and inf */
	assert_int_equal(count3(st, "attr.age = 10"), 3);
	assert_int_equal(count3(st, "attr.age in (10)"), 3);
	assert_int_equal(count3(st, "not attr.age in (10)"), 24 - 3);
	assert_int_equal(count3(st, "not attr.age in (10)"), count3(st, "attr.age != 10"));
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		assert_int_equal(count3(st, pairs[i][0]), count3(st, pairs[i][1]));
		snprintf(in, sizeof(in), "not %s", pairs[i][0]);
		snprintf(eq, sizeof(eq), "not (%s)", pairs[i][1]);
		assert_int_equal(count3(st, in), count3(st, eq));
	}
	/* numbers only with attributes, as with = */
	fx_segment_error("name in (\"a\", 1)",
			 "column 15: expected a value in double quotes, found \"1\"");
	fx_segment_error("attr.x in (1, 0x1)", "column 15: expected");
}

/*
 * QA's case: "" is what an unset attribute reads as, as an empty name does
 * (and as an export shows both): = "" matches who lacks it, != "" who has it.
 */
static void test_empty_is_not_set(void **state)
{
	struct store *st = *state;

	/* 3 people have a city, 21 don't; nobody has a name */
	assert_int_equal(count3(st, "attr.city = \"\""), 21);
	assert_int_equal(count3(st, "attr.city = \"\""), count3(st, "attr.city is not set"));
	assert_int_equal(count3(st, "attr.city != \"\""), 3);
	assert_int_equal(count3(st, "attr.city != \"\""), count3(st, "attr.city is set"));
	assert_int_equal(count3(st, "attr.city in (\"\", \"Osaka\")"), 22);
	assert_int_equal(count3(st, "attr.absent = \"\""), 24);
	assert_int_equal(count3(st, "name = \"\""), count3(st, "name is not set"));
	assert_int_equal(count3(st, "attr.city = \"\""), count3(st, "not attr.city != \"\""));
	/* an order is no test for being set: an unset attribute is below nothing */
	assert_int_equal(count3(st, "attr.city < \"P\""), 1);
	assert_int_equal(count3(st, "attr.city != \"Tokyo\""), 22);
	/* a column named "1st" is attr.1st */
	assert_int_equal(count3(st, "attr.1st = \"first\""), 1);
	assert_int_equal(count3(st, "attr.1st = \"first\""), count3(st, "attr.\"1st\" is set"));
}

/* Only plain decimals are numbers: hex, inf, nan, exponents, ".5" and "5." are text. */
static void test_plain_decimals(void **state)
{
	struct store *st = *state;

	/* 16 and +16; not 0x10 nor 0X1p4 */
	assert_int_equal(count3(st, "attr.v = 16"), 2);
	assert_int_equal(count3(st, "attr.v > 0"), 2);
	assert_int_equal(count3(st, "attr.v is set and not attr.v > 0 and not attr.v <= 0"), 8);
	assert_int_equal(count3(st, "attr.age > 1000"), 0); /* inf is text */
	assert_int_equal(count3(st, "attr.v = \"0x10\""), 1);
	fx_segment_error("attr.v = 1.",
			 "column 10: expected a number such as 12 or -3.5, found \"1.\"");
	fx_segment_error("attr.v > 1.2.3", "column 10: expected a number");
	fx_segment_error("attr.v = 0x10",
			 "column 10: expected a value in double quotes or a number, "
			 "found a malformed number");
	fx_segment_error("attr.v = 1e3", "found a malformed number");
	fx_segment_error("attr.v = inf",
			 "column 10: expected a value in double quotes or a number, "
			 "found \"inf\"");
}

/* Ids longer than a double's 53 bits compare exactly; leading zeros do not count. */
static void test_long_integers(void **state)
{
	struct store *st = *state;

	assert_int_equal(count3(st, "attr.member = 12345678901234567"), 2);
	assert_int_equal(count3(st, "attr.member = 12345678901234568"), 1);
	assert_int_equal(count3(st, "attr.member > 12345678901234567"), 1);
	assert_int_equal(count3(st, "attr.member < 12345678901234567.000000001"), 2);
	assert_int_equal(count3(st, "attr.member = \"12345678901234567\""), 1);
	assert_int_equal(count3(st, "attr.member >= 99999999999999999999999999999"), 0);
	assert_int_equal(count3(st, "attr.member > -99999999999999999999999999999"), 3);
}

/* Exact comparisons of numbers no double holds (segment_num.c). */
static void test_decimal_compare(void **state)
{
	static const struct {
		const char *a, *b;
		int want;
	} cases[] = {
	    {"0.1", "0.10000000000000000001", -1},
	    {"-0", "0.000", 0},
	    {"99999999999999999999", "100000000000000000000", -1},
	    {"-1.5", "-1.25", -1},
	    {"007.50", "7.5", 0},
	    {" +3 ", "3", 0},
	    {"-3", "2", -1},
	};
	struct seg_decimal a, b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(seg_decimal_parse(cases[i].a, strlen(cases[i].a), &a));
		assert_true(seg_decimal_parse(cases[i].b, strlen(cases[i].b), &b));
		assert_int_equal(seg_decimal_cmp(&a, &b), cases[i].want);
		assert_int_equal(seg_decimal_cmp(&b, &a), -cases[i].want);
	}
}

/* A full-width space (U+3000) and the other Unicode spaces separate tokens as a space does. */
static void test_unicode_spaces(void **state)
{
	struct store *st = *state;
	char *err = NULL, *list = NULL, *expr = NULL;

	assert_int_equal(count3(st, "attr.city = \"Tokyo\""), 2);
	assert_int_equal(count3(st, "attr.city\u3000= \"Tokyo\""), 2);
	assert_int_equal(count3(st, "\u3000attr.city\u3000=\u3000\"Tokyo\"\u3000and\u00a0domain "
				    "=\u2003\"example.com\"\u3000"),
			 2);
	assert_int_equal(store_segment_add(st, "tokyo", "news", "attr.city\u3000= \"Tokyo\"", &err),
			 STORE_OK);
	assert_int_equal(store_segment_get(st, "tokyo", &list, &expr, &err), STORE_OK);
	free(list);
	free(expr);
	/* inside a string it is data */
	assert_int_equal(count3(st, "attr.city = \"Tokyo\u3000\""), 0);
	/* an invisible character is an error at its column, shown as its code point */
	fx_segment_error(
	    "attr.ci\u200bty = \"Tokyo\"",
	    "column 8: expected an operator: =, !=, <, <=, >, >=, contains, starts_with, "
	    "ends_with, in or is, found <U+200B>, an invisible character");
	fx_segment_error("\ufeffname is set", "column 1: expected a field");
	/* every default-ignorable character: a variation selector, a Hangul filler, a tag */
	fx_segment_error("attr.v\ufe0f = 10", "found <U+FE0F>, an invisible character");
	fx_segment_error("attr.v\u3164 = 10", "found <U+3164>, an invisible character");
	fx_segment_error("attr.v\U000e0020 = 10", "found <U+E0020>, an invisible character");
	/* a found token shows white space and invisible characters */
	fx_segment_error("name is set \"\u6771\u4eac\u3000\t\u200b\"",
			 "found the string \"\u6771\u4eac<U+3000><U+0009><U+200B>\"");
}

/* Text that is not UTF-8 is refused at its column, and the segment is not saved. */
static void test_invalid_utf8(void **state)
{
	struct store *st = *state;
	char *err = NULL, *list = NULL, *expr = NULL;

	fx_segment_error("attr.city = \"\xff\xfe\"",
			 "column 14: the expression is not valid UTF-8");
	fx_segment_error("attr.\xc3 = \"x\"", "column 6: the expression is not valid UTF-8");
	fx_segment_error("name = \"\xc0\xaf\"", "column 9: the expression is not valid UTF-8");
	fx_segment_error("name = \"\xed\xa0\x80\"", "column 9: the expression is not valid UTF-8");
	fx_segment_error("name = \"\xc2\x85\"",
			 "column 9: the expression holds a control character");
	assert_int_equal(store_segment_add(st, "bad", "news", "attr.\xc3 = \"x\"", &err),
			 STORE_EINVAL);
	assert_non_null(strstr(err, "column 6: the expression is not valid UTF-8"));
	free(err);
	err = NULL;
	assert_int_equal(store_segment_get(st, "bad", &list, &expr, &err), STORE_ENOTFOUND);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_comma_locale, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_turkish_locale, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_is_equals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_is_not_set, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_plain_decimals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_integers, setup, teardown),
	    cmocka_unit_test(test_decimal_compare),
	    cmocka_unit_test_setup_teardown(test_unicode_spaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
