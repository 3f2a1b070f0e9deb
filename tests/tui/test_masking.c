/*
 * What a user without the pii permission (a viewer) sees of a person in the
 * subscriber browser and the member record: addresses written in a name, an
 * attribute, a consent record or the history masked as the address is, and
 * the consent IP hidden, also in the consent a removed list's history keeps.
 * A name that holds an address is not found by a viewer's search, which
 * would spell it out letter by letter. A marketer (pii) sees it all. Driven
 * with keys, without a terminal; the grid is searched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/helpers.h"
#include "tui/ui.h"

/*
 * A store with admin, marketer and viewer: grace, whose name, attribute and
 * consent hold addresses, on promo; Dave, who consented from an IP on the
 * list third, which was removed since.
 */
static int setup(void **state)
{
	static const char *const who[] = {"marketer", "viewer"};
	static const struct store_attr attrs[] = {{"backup", "grace.backup@example.org"}};
	static const struct store_consent grace = {.source = "form grace@example.org",
						   .text = "signed up as grace@example.org"};
	static const struct store_consent dave = {.text = "yes pls", .ip = "198.51.100.7"};
	struct store *st = make_store("/tmp/hato-mask-XXXXXX", who, 2);
	char *err = NULL;

	(void)state;
	store_close(&st);
	assert_int_equal(store_open(STORE, "marketer", "marketer-password-1", &st, &err), STORE_OK);
	assert_int_equal(store_list_add(st, "promo", "Promo", NULL, &err), STORE_OK);
	assert_int_equal(store_list_add(st, "third", "Third", NULL, &err), STORE_OK);
	assert_int_equal(store_subscriber_add(st, "promo", "grace@example.org", "grace@example.org",
					      attrs, 1, &grace, &err),
			 STORE_OK);
	assert_int_equal(
	    store_subscriber_add(st, "third", "dave@example.com", "Dave", NULL, 0, &dave, &err),
	    STORE_OK);
	assert_int_equal(store_list_rm(st, "third", &err), STORE_OK);
	store_close(&st);
	return 0;
}

/* The browser of a wide window, searched for text; Enter opens the first row. */
static struct ui *record_of(const char *user, const char *search)
{
	struct ui *ui = logged_in(user);

	ui_resize(ui, 200, 40);
	assert_int_equal(ui_push(ui, &screen_subscribers_ops), 0);
	ui_key(ui, '/');
	ui_type(ui, search);
	ui_key(ui, UI_KEY_ENTER);
	return ui;
}

static void test_viewer_sees_no_address_in_text(void **state)
{
	struct ui *ui = logged_in("viewer");

	(void)state;
	ui_resize(ui, 200, 40);
	assert_int_equal(ui_push(ui, &screen_subscribers_ops), 0);
	/* The row: the name holds the address, masked as the address is. */
	assert_true(shows(ui, "g***@example.org      active"));
	assert_true(lacks(ui, "grace@"));
	/* A name holding an address is not searched: "grac", "grace"... would spell it. */
	ui_key(ui, '/');
	ui_type(ui, "grac");
	assert_true(shows(ui, "No subscriber matches."));
	ui_key(ui, UI_CTRL('u'));
	ui_key(ui, UI_KEY_ENTER);
	/* The record: by address, Dave's row and then grace's. */
	ui_key(ui, UI_KEY_DOWN);
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "Name      g***@example.org"));
	assert_true(shows(ui, "backup = g***@example.org"));
	assert_true(shows(ui, "consent: form g***@example.org, by "));
	assert_true(shows(ui, "text \"signed up as g***@example.org\""));
	assert_true(lacks(ui, "grace"));
	ui_free(&ui);
}

static void test_viewer_sees_no_ip_of_removed_list(void **state)
{
	struct ui *ui = record_of("viewer", "Dave");

	(void)state;
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "list-removed  third        consent kept: "));
	assert_true(shows(ui, "text \"yes pls\", IP (hidden); was active"));
	assert_true(lacks(ui, "198.51.100.7"));
	ui_free(&ui);
}

static void test_marketer_sees_all(void **state)
{
	struct ui *ui = record_of("marketer", "Dave");

	(void)state;
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "text \"yes pls\", IP 198.51.100.7; was active"));
	ui_free(&ui);
	ui = record_of("marketer", "grace");
	assert_true(shows(ui, "grace@example.org     active"));
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "backup = grace.backup@example.org"));
	assert_true(shows(ui, "text \"signed up as grace@example.org\""));
	ui_free(&ui);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_viewer_sees_no_address_in_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_viewer_sees_no_ip_of_removed_list, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_marketer_sees_all, setup, teardown),
	};

	if (helpers_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
