/*
 * Screens against a store that another process changes under them: what
 * an operator signs is what the screen showed, the changes pane compares
 * with the current approval, and a screen whose action failed because of
 * such a change shows the store as it is now. The change
 * is made through a second store handle, as `hato` in another shell would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "send/send.h"
#include "store/store.h"
#include "tui/helpers.h"
#include "tui/campaign_fixture.h"
#include "tui/ui.h"

/* The template t's source in the fixture. */
#define SOURCE "# Hello {{name|there}}\n\nNews for {{attr.city}}.\n"

static int count_approval(const struct store_approval *a, void *arg)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

static int approvals_of(struct store *st, const char *name)
{
	struct store_campaign *c = NULL;
	int n = 0;

	assert_int_equal(store_campaign_get(st, name, &c, NULL), STORE_OK);
	assert_int_equal(store_campaign_approvals(st, c->id, count_approval, &n, NULL), STORE_OK);
	store_campaign_free(&c);
	return n;
}

static void edit_subject(const char *name, const char *subject)
{
	struct store *st = as("marketer");
	struct store_campaign ch = {0};

	ch.subject = (char *)subject;
	assert_int_equal(store_campaign_edit(st, name, &ch, NULL), STORE_OK);
	store_close(&st);
}

/*
 * The operator has the review queue open on spring; meanwhile the marketer
 * edits it and submits it again. a, Enter must not sign the new subject:
 * the approval is refused, the screen shows the campaign as it is now, and
 * a second a, Enter (the operator has now seen it) approves it.
 */
static void test_approve_what_was_shown(void **state)
{
	struct ui *ui;

	(void)state;
	submit("spring");
	ui = logged_in("operator");
	assert_int_equal(ui_push(ui, &screen_review_ops), 0);
	assert_true(shows(ui, "Subject: Spring news"));

	edit_subject("spring", "CHANGED: 90% off");
	submit("spring");
	ui_key(ui, 'a');
	answer(ui, "");
	assert_true(shows(ui, "changed since it was shown to you"));
	assert_int_equal(state_of(ui_store(ui), "spring"), STORE_CAMPAIGN_IN_REVIEW);
	assert_int_equal(approvals_of(ui_store(ui), "spring"), 0);
	assert_true(shows(ui, "Subject: CHANGED: 90% off"));

	ui_key(ui, 'a');
	answer(ui, "");
	assert_true(shows(ui, "spring is approved"));
	assert_int_equal(state_of(ui_store(ui), "spring"), STORE_CAMPAIGN_APPROVED);
	ui_free(&ui);
}

/*
 * Scheduling signs too: a campaign changed and approved again after the
 * screen was loaded is refused the same way (its approvals hold, but not
 * for what the operator saw); one whose setting changed since its approval
 * is refused as changed since it was approved.
 */
static void test_schedule_what_was_shown(void **state)
{
	struct store *st;
	struct ui *ui;
	char *err = NULL;

	(void)state;
	submit("spring");
	st = as("operator");
	assert_int_equal(send_campaign_approve(st, "spring", NULL, NULL, &err), SEND_OK);
	store_close(&st);
	ui = logged_in("operator");
	assert_int_equal(ui_push(ui, &screen_review_ops), 0);

	edit_subject("spring", "CHANGED: 90% off");
	submit("spring");
	st = as("operator");
	assert_int_equal(send_campaign_approve(st, "spring", NULL, NULL, &err), SEND_OK);
	store_close(&st);
	ui_key(ui, 'N');
	ui_key(ui, 'y');
	assert_true(shows(ui, "changed since it was shown to you"));
	assert_int_equal(state_of(ui_store(ui), "spring"), STORE_CAMPAIGN_APPROVED);

	st = as("admin");
	config(st, "sender.name", "Another Ltd");
	store_close(&st);
	ui_key(ui, 'N');
	ui_key(ui, 'y');
	assert_true(shows(ui, "its approval no longer holds"));
	assert_int_equal(state_of(ui_store(ui), "spring"), STORE_CAMPAIGN_APPROVED);
	ui_free(&ui);
}

/* The command line shows nothing first: it signs the campaign as it is. */
static void test_cli_signs_as_is(void **state)
{
	struct store *st;
	unsigned char other[32] = {0};
	char *err = NULL;

	(void)state;
	submit("spring");
	st = as("operator");
	assert_int_equal(send_campaign_approve(st, "spring", NULL, other, &err), SEND_EDENIED);
	assert_non_null(strstr(err, "changed since it was shown"));
	free(err);
	err = NULL;
	assert_int_equal(send_campaign_approve(st, "spring", NULL, NULL, &err), SEND_OK);
	store_close(&st);
}

static void approve(const char *name, time_t at)
{
	struct store *st = as("operator");
	char *err = NULL;

	if (send_campaign_approve(st, name, NULL, NULL, &err) != SEND_OK ||
	    (at != 0 && send_campaign_schedule(st, name, at, NULL, &err) != SEND_OK))
		fail_msg("approving %s: %s", name, err ? err : "?");
	store_close(&st);
}

/* Replaces the template t as the marketer. */
static void save_template(const char *layout, const char *source)
{
	struct store *st = as("marketer");
	struct store_template t = {0};

	t.name = "t";
	t.kind = "markdown";
	t.layout = (char *)layout;
	t.source = (char *)source;
	assert_int_equal(store_template_save(st, &t, true, NULL), STORE_OK);
	store_close(&st);
}

/*
 * A campaign approved twice, the second time as it is now, and scheduled;
 * then its template changes. The changes pane compares with the current
 * approval (only the template differs), and the queue says the approved
 * content changed.
 */
static void test_changes_since_current_approval(void **state)
{
	struct ui *ui;

	(void)state;
	submit("spring");
	approve("spring", 0);
	edit_subject("spring", "Third subject");
	submit("spring");
	approve("spring", time(NULL) + 86400);
	save_template("plain",
		      "# Hello {{name|there}}\n\nNews for {{attr.city}}.\n{{#attr.vip}}VIP "
		      "only{{/attr.vip}}\n");

	ui = logged_in("operator");
	assert_int_equal(ui_push(ui, &screen_review_ops), 0);
	assert_true(shows(ui, "scheduled  marketer  m         1 of 1, content changed"));
	assert_true(shows(ui, "the approved content changed"));
	ui_key(ui, UI_KEY_TAB);
	ui_key(ui, UI_KEY_TAB);
	assert_true(shows(ui, "against the current approval, version"));
	assert_true(shows(ui, "+ {{#attr.vip}}VIP only{{/attr.vip}}"));
	assert_true(lacks(ui, "Spring news"));
	ui_free(&ui);
}

/* The review queue as the operator, on the changes pane, at 100x40. */
static struct ui *changes_pane(void)
{
	struct ui *ui = logged_in("operator");

	ui_resize(ui, 100, 40);
	assert_int_equal(ui_push(ui, &screen_review_ops), 0);
	ui_key(ui, UI_KEY_TAB);
	ui_key(ui, UI_KEY_TAB);
	return ui;
}

/* spring, on the new segment tokyo (attr.city = "Tokyo"), submitted and approved. */
static void approved_on_tokyo(void)
{
	struct store_campaign ch = {0};
	struct store *st = as("marketer");

	assert_int_equal(store_segment_add(st, "tokyo", "m", "attr.city = \"Tokyo\"", NULL),
			 STORE_OK);
	ch.segment = "tokyo";
	assert_int_equal(store_campaign_edit(st, "spring", &ch, NULL), STORE_OK);
	store_close(&st);
	submit("spring");
	approve("spring", 0);
}

/* The segment tokyo saved again, with another expression. */
static void tokyo_saved_again(void)
{
	struct store *st = as("marketer");

	assert_int_equal(store_segment_rm(st, "tokyo", NULL), STORE_OK);
	assert_int_equal(store_segment_add(st, "tokyo", "m", "attr.city = \"Osaka\"", NULL),
			 STORE_OK);
	store_close(&st);
}

/*
 * spring, on the segment tokyo, is approved; then what the approval covers
 * but the approved version's copy does not keep changes: the layout, a
 * setting, the segment's expression. The changes pane names the layout and
 * the setting with their old values, says that something else changed when
 * the segment's expression did, and once spring is back in review, that
 * they may have changed.
 */
static void test_changes_not_kept(void **state)
{
	struct store *st;
	struct ui *ui;

	(void)state;
	approved_on_tokyo();
	ui = changes_pane();
	assert_true(shows(ui, "(no changes)"));
	assert_true(lacks(ui, "Also covered by the approval"));
	ui_free(&ui);

	save_template("newsletter", SOURCE);
	ui = changes_pane();
	assert_true(shows(ui, "(subject, From, list, segment and template as approved)"));
	assert_true(shows(ui, "Also covered by the approval, which the store keeps no copy of:"));
	assert_true(shows(ui, "* the layout: plain when approved, newsletter now"));
	ui_free(&ui);
	save_template("plain", SOURCE);

	st = as("admin");
	config(st, "feedback.id", "spring:news:hato");
	store_close(&st);
	ui = changes_pane();
	assert_true(
	    shows(ui, "* the setting feedback.id: unset when approved, \"spring:news:hato\""));
	ui_free(&ui);
	st = as("admin");
	assert_int_equal(store_config_unset(st, "feedback.id", NULL), STORE_OK);
	store_close(&st);

	tokyo_saved_again();
	ui = changes_pane();
	assert_true(shows(ui, "* the segment's expression, the layout or kind of template,"));
	assert_true(shows(ui, "send.iso2022jp and send.dkim: one of them"));
	assert_true(shows(ui, "* the segment tokyo was saved again at"));
	ui_free(&ui);

	st = as("marketer");
	assert_int_equal(send_campaign_submit(st, "spring", NULL), SEND_OK);
	store_close(&st);
	ui = changes_pane();
	assert_true(shows(ui, "send.iso2022jp and send.dkim: they may"));
	assert_true(shows(ui, "dropped when the campaign went back to"));
	/* Its approval is gone: it is no longer "the current approval". */
	assert_true(shows(ui, "against version 2, approved by operator"));
	ui_free(&ui);
}

/*
 * At 80x24 the changes pane has no room for the whole of its long bullet
 * (the segment's expression changed since the approval): it is cut with
 * "…", and PgDn scrolls it by rows, not to the next bullet, so that its end
 * shows. The reason the approval no longer holds shows whole above, to its
 * remedy.
 */
static void test_changes_long_bullet(void **state)
{
	struct ui *ui;

	(void)state;
	approved_on_tokyo();
	tokyo_saved_again();
	ui = logged_in("operator");
	assert_int_equal(ui_push(ui, &screen_review_ops), 0);
	ui_key(ui, UI_KEY_TAB);
	ui_key(ui, UI_KEY_TAB);
	assert_true(shows(ui, "* the segment's expression, the layout or kind of template,"));
	assert_true(shows(ui, "send.dkim); submit it for review again"));
	assert_true(lacks(ui, "differs even with the fields above as approved)"));
	ui_key(ui, UI_KEY_PGDN);
	assert_true(shows(ui, "differs even with the fields above as approved)"));
	assert_true(shows(ui, "* the segment tokyo was saved again at"));
	ui_free(&ui);
}

/*
 * The marketer has the campaigns list open on spring, a draft; meanwhile it
 * is submitted from elsewhere. S, y is refused, and the list shows it in
 * review at once.
 */
static void test_campaigns_reload_on_failure(void **state)
{
	struct ui *ui = logged_in("marketer");

	(void)state;
	assert_int_equal(ui_push(ui, &screen_campaigns_ops), 0);
	assert_true(shows(ui, "spring    draft"));
	submit("spring");
	ui_key(ui, 'S');
	ui_key(ui, 'y');
	assert_true(shows(ui, "only a draft"));
	assert_true(shows(ui, "spring    in_review"));
	ui_free(&ui);
}

/*
 * A member record is open; meanwhile the person is erased from elsewhere.
 * u, y fails, and nothing of the person stays on screen.
 */
static void test_member_gone(void **state)
{
	struct store *st;
	struct ui *ui = logged_in("marketer");
	char *err = NULL;

	(void)state;
	assert_int_equal(ui_push(ui, &screen_subscribers_ops), 0);
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "Sub Scriber"));
	assert_true(shows(ui, "Tokyo"));
	st = as("marketer");
	if (store_subscriber_erase(st, "sub@example.com", NULL, &err) != STORE_OK)
		fail_msg("erase: %s", err);
	store_close(&st);
	ui_key(ui, 'u');
	ui_key(ui, 'y');
	assert_true(shows(ui, "no subscriber"));
	assert_true(lacks(ui, "Sub Scriber"));
	assert_true(lacks(ui, "Tokyo"));
	ui_free(&ui);
}

/*
 * The operator's dashboard is open; another campaign is submitted from
 * elsewhere. After the automatic refresh the menu's Now column and the
 * sending figures both count it.
 */
static void test_dashboard_refresh(void **state)
{
	struct store *st;
	struct ui *ui;
	char *err = NULL;
	int i;

	(void)state;
	submit("spring");
	ui = logged_in("operator");
	assert_true(shows(ui, "1 in review, 0 approved"));
	st = as("marketer");
	assert_int_equal(store_campaign_copy(st, "spring", "summer", &err), STORE_OK);
	store_close(&st);
	submit("summer");
	for (i = 0; i < 3; i++)
		ui_key(ui, UI_KEY_NONE);
	assert_true(shows(ui, "2 in review, 0 approved"));
	assert_true(lacks(ui, "1 in review"));
	ui_free(&ui);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_approve_what_was_shown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schedule_what_was_shown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cli_signs_as_is, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes_since_current_approval, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes_not_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes_long_bullet, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_campaigns_reload_on_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_member_gone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dashboard_refresh, setup, teardown),
	};

	if (helpers_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
