/*
 * Text that comes in decomposed (NFD, as some Macs save it) is kept and
 * compared in NFC: an import's names, attributes and header, `subscriber
 * add`, segment strings and attribute names, and the browser's search. A
 * segment typed one way finds people imported the other way. The browser
 * finds an address by its Unicode domain too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <uninorm.h>
#include <unictype.h>

#include "store/private.h"
#include "subs_fixture.h"

/* "ガ" as one character (NFC), and as "カ" with a combining mark (NFD). */
#define GA_NFC "\xe3\x82\xac"
#define GA_NFD "\xe3\x82\xab\xe3\x82\x99"
/* "é" both ways. */
#define E_NFC "\xc3\xa9"
#define E_NFD "e\xcc\x81"

static void nfc_is(const char *in, const char *want)
{
	char *out = NULL;
	size_t n = 0;

	assert_int_equal(store_nfc(in, strlen(in), &out, &n), 0);
	if (want == NULL) {
		assert_null(out);
		return;
	}
	assert_non_null(out);
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
	free(out);
}

static void test_store_nfc(void **state)
{
	char *d;

	(void)state;
	nfc_is("", NULL);
	nfc_is("Plain ASCII", NULL);
	nfc_is(GA_NFC "ーデン 東京", NULL);
	nfc_is(GA_NFD "ーデン", GA_NFC "ーデン");
	nfc_is("Caf" E_NFD, "Caf" E_NFC);
	/* A Hangul syllable and a final jamo after it are one syllable. */
	nfc_is("\xea\xb0\x80\xe1\x86\xa8", "\xea\xb0\x81");
	nfc_is("ＡＢＣ　ｶﾞ가", NULL);
	/* Not UTF-8: left as it is, for the checks to refuse. */
	nfc_is("bad \xff byte", NULL);
	/* A composition exclusion (U+0958) stays decomposed: NFC may be longer. */
	nfc_is("\xe0\xa5\x98", "\xe0\xa4\x95\xe0\xa4\xbc");
	d = store_nfc_dup("Caf" E_NFD);
	assert_string_equal(d, "Caf" E_NFC);
	free(d);
	d = store_nfc_dup("as is");
	assert_string_equal(d, "as is");
	free(d);
}

/*
 * store_nfc's short cut, against libunistring's own tables, for every code
 * point: one it calls stable is in NFC alone, is no combining mark, and is
 * not the second of two characters that NFC composes into one.
 */
static void test_stable_characters(void **state)
{
	static bool second[0x110000];
	ucs4_t d[UC_DECOMPOSITION_MAX_LENGTH], cp;
	size_t stable = 0;

	(void)state;
	for (cp = 0; cp < 0x110000; cp++)
		if (uc_canonical_decomposition(cp, d) == 2 && uc_composition(d[0], d[1]) == cp)
			second[d[1]] = true;
	for (cp = 0; cp < 0x110000; cp++) {
		if ((cp >= 0xd800 && cp <= 0xdfff) || !store_nfc_stable(cp))
			continue;
		stable++;
		if (uc_combining_class(cp) != 0 || second[cp] ||
		    (uc_canonical_decomposition(cp, d) > 0 && uc_composition(d[0], d[1]) != cp))
			fail_msg("U+%04X is not stable under NFC", (unsigned)cp);
	}
	assert_true(stable > 38000); /* the CJK ideographs and Hangul syllables */
}

static void test_import_and_segments(void **state)
{
	struct store *st = *state;
	struct store_import_stats stats;
	struct store_subscriber *p = NULL;
	char *err = NULL;
	/* The header's attribute name and the cells are decomposed. */
	static const char csv[] = "email,name,k" GA_NFD ",city\n"
				  "nfd@example.com," GA_NFD "ーデン," GA_NFD ",Caf" E_NFD "\n"
				  "nfc@example.com," GA_NFC "ーデン," GA_NFC ",Caf" E_NFC "\n"
				  "other@example.com,Other,x,Tokyo\n";

	assert_int_equal(
	    fx_import(st, "news", fx_file("n.csv", csv, sizeof(csv) - 1), &stats, &err), STORE_OK);
	assert_int_equal(stats.imported, 3);
	assert_int_equal(stats.invalid, 0);
	assert_int_equal(store_subscriber_get(st, "nfd@example.com", &p, &err), STORE_OK);
	assert_string_equal(p->name, GA_NFC "ーデン");
	assert_non_null(fx_attr(p, "k" GA_NFC));
	assert_string_equal(fx_attr(p, "k" GA_NFC), GA_NFC);
	assert_string_equal(fx_attr(p, "city"), "Caf" E_NFC);
	assert_null(fx_attr(p, "k" GA_NFD));
	store_subscriber_free(&p);
	/* Either form typed finds both people, whichever form they came in. */
	assert_int_equal(fx_count(st, "news", "name = \"" GA_NFC "ーデン\""), 2);
	assert_int_equal(fx_count(st, "news", "name = \"" GA_NFD "ーデン\""), 2);
	assert_int_equal(fx_count(st, "news", "name starts_with \"" GA_NFD "\""), 2);
	assert_int_equal(fx_count(st, "news", "attr.city in (\"Caf" E_NFD "\")"), 2);
	assert_int_equal(fx_count(st, "news", "attr.city contains \"f" E_NFC "\""), 2);
	assert_int_equal(fx_count(st, "news", "attr.k" GA_NFD " = \"" GA_NFD "\""), 2);
	assert_int_equal(fx_count(st, "news", "attr.k" GA_NFC " is set"), 3);
}

static void test_subscriber_add(void **state)
{
	struct store *st = *state;
	struct store_subscriber *p = NULL;
	struct store_attr a[] = {{"k" GA_NFD, "Caf" E_NFD}};
	struct store_attr twice[] = {{"k" GA_NFD, "1"}, {"k" GA_NFC, "2"}};
	char *err = NULL;

	assert_int_equal(
	    store_subscriber_add(st, "news", "add@example.com", GA_NFD, a, 1, NULL, &err),
	    STORE_OK);
	assert_int_equal(store_subscriber_get(st, "add@example.com", &p, &err), STORE_OK);
	assert_string_equal(p->name, GA_NFC);
	assert_int_equal(p->nattrs, 1);
	assert_string_equal(p->attrs[0].key, "k" GA_NFC);
	assert_string_equal(p->attrs[0].value, "Caf" E_NFC);
	store_subscriber_free(&p);
	/* Two names that are one in NFC are the same attribute given twice. */
	assert_int_equal(
	    store_subscriber_add(st, "news", "two@example.com", NULL, twice, 2, NULL, &err),
	    STORE_EUSAGE);
	assert_non_null(strstr(err, "given twice"));
	free(err);
}

struct found {
	int n;
	char email[128];
};

static int collect(const struct store_browse_row *r, void *arg)
{
	struct found *f = arg;

	f->n++;
	snprintf(f->email, sizeof(f->email), "%s", r->email);
	return 0;
}

/* The rows of a search in the browser, and the last one's address. */
static struct found search(struct store *st, const char *text)
{
	struct store_browse q = {.search = text, .limit = 10};
	struct found f = {0};
	char *err = NULL;

	assert_int_equal(store_subscriber_page(st, &q, collect, &f, &err), STORE_OK);
	return f;
}

/*
 * The browser's search: a name typed decomposed finds it composed; an
 * address typed with its Unicode domain finds it, kept as A-labels, once
 * the domain's labels are whole.
 */
static void test_browse_search(void **state)
{
	struct store *st = *state;
	char *err = NULL;
	const char *const idn[] = {"hanako@例え", "HANAKO@例え.JP", "hanako@xn--r8jz45g", "hana"};

	assert_int_equal(store_subscriber_add(st, "news", "s1@example.com", GA_NFC "ーデン", NULL,
					      0, NULL, &err),
			 STORE_OK);
	assert_int_equal(
	    store_subscriber_add(st, "news", "s2@example.com", "Else", NULL, 0, NULL, &err),
	    STORE_OK);
	assert_int_equal(
	    store_subscriber_add(st, "news", "hanako@例え.jp", "Hanako", NULL, 0, NULL, &err),
	    STORE_OK);
	assert_int_equal(search(st, GA_NFD).n, 1);
	assert_string_equal(search(st, GA_NFD).email, "s1@example.com");
	assert_int_equal(search(st, GA_NFC).n, 1);
	for (size_t i = 0; i < sizeof(idn) / sizeof(idn[0]); i++) {
		struct found f = search(st, idn[i]);
		if (f.n != 1 || strcmp(f.email, "hanako@xn--r8jz45g.jp") != 0)
			fail_msg("search \"%s\": %d rows, %s", idn[i], f.n, f.email);
	}
	/* A name that is an address's beginning is found once, by its address. */
	assert_int_equal(search(st, "Hanako").n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_store_nfc),
	    cmocka_unit_test(test_stable_characters),
	    cmocka_unit_test_setup_teardown(test_import_and_segments, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_subscriber_add, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_browse_search, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
