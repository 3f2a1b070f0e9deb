/*
 * The campaign screens without a terminal: the campaigns list and form, the
 * review queue with its preview, checks and diff, the dashboard's sending
 * figures, the sending set-up, and the background worker started from the
 * UI (the live monitor: test_monitor_screens.c). Screens are driven with keys and
 * actions against a real store, and grids are compared with golden files in
 * tests/tui/golden/ (regenerate with HATO_UPDATE_GOLDEN=1 and review the
 * diff). What changes from run to run is replaced before comparing: the
 * unsubscribe token (keyed by a random store secret), times of day, dates
 * and process ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "send/send.h"
#include "store/store.h"
#include "tui/helpers.h"
#include "tui/campaign_fixture.h"
#include "tui/campaign_screens.h"
#include "tui/ui.h"

/* ---- Campaigns and the form --------------------------------------------- */

static void test_campaigns_form(void **state)
{
	struct ui *ui = logged_in("marketer");

	(void)state;
	assert_int_equal(ui_push(ui, &screen_campaigns_ops), 0);
	assert_golden(ui, "campaigns_list");

	/* A new draft through the form. */
	ui_key(ui, 'n');
	assert_true(shows(ui, "New campaign"));
	answer(ui, "autumn");
	answer(ui, "t");
	answer(ui, "m");
	answer(ui, "");
	answer(ui, "Autumn news for {{name}}");
	assert_true(shows(ui, "From (empty for sender.from):"));
	answer(ui, "");
	assert_false(ui_input_active(ui));
	assert_golden(ui, "campaign_form");
	ui_key(ui, 's');
	assert_true(shows(ui, "created the draft autumn"));
	assert_true(shows(ui, "> autumn"));

	/* An edit keeps the name and returns to the list. */
	ui_key(ui, 'e');
	assert_true(shows(ui, "Edit campaign autumn"));
	ui_key(ui, UI_KEY_ENTER); /* the template field is selected first */
	ui_key(ui, UI_KEY_ESC);
	ui_key(ui, UI_KEY_UP);
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "a campaign keeps its name"));
	ui_key(ui, UI_KEY_DOWN);
	ui_key(ui, UI_KEY_DOWN);
	ui_key(ui, UI_KEY_DOWN);
	ui_key(ui, UI_KEY_DOWN);
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, UI_CTRL('u'));
	answer(ui, "Autumn news");
	assert_true(shows(ui, "(changed)"));
	ui_key(ui, 's');
	assert_true(shows(ui, "saved autumn"));

	/* The checks and the recipient count. */
	ui_key(ui, 'C');
	assert_golden(ui, "campaigns_checks");

	/* Copy, then submit with a confirmation. */
	ui_key(ui, 'y');
	answer(ui, "autumn2");
	assert_true(shows(ui, "copied into the new draft autumn2"));
	ui_key(ui, 'S');
	ui_key(ui, 'y');
	assert_true(shows(ui, "submitted autumn2 for review"));
	assert_int_equal(state_of(ui_store(ui), "autumn2"), STORE_CAMPAIGN_IN_REVIEW);
	ui_key(ui, 'S');
	assert_true(shows(ui, "only a draft or a rejected campaign is submitted"));
	ui_free(&ui);
}

/*
 * Submitting a campaign whose pre-send checks fail: refused, with the
 * failures shown on the screen, as C shows them, not a line ending in ":".
 */
static void test_submit_failing_checks(void **state)
{
	struct store *st = as("marketer");
	struct store_campaign c = {
	    .name = "broken", .template_name = "t", .list = "m", .subject = "{{name"};
	struct ui *ui;
	char *err = NULL;

	(void)state;
	assert_int_equal(store_campaign_add(st, &c, &err), STORE_OK);
	store_close(&st);
	ui = logged_in("marketer");
	assert_int_equal(ui_push(ui, &screen_campaigns_ops), 0);
	assert_true(shows(ui, "> broken"));
	ui_key(ui, 'S');
	ui_key(ui, 'y');
	assert_true(shows(ui, "broken: 1 error to fix before it can be sent"));
	assert_true(shows(ui, "subject"));
	assert_true(lacks(ui, "(see: hato campaign check broken):"));
	assert_int_equal(state_of(ui_store(ui), "broken"), STORE_CAMPAIGN_DRAFT);
	ui_free(&ui);
}

/*
 * The new-campaign form keeps what was typed: a bad name or segment stays in
 * the prompt with the reason, and Esc asks before throwing a filled-in form
 * away (an empty one goes at once).
 */
static void test_campaign_form_keep(void **state)
{
	struct ui *ui = logged_in("marketer");
	struct store_campaign *c = NULL;
	int i;

	(void)state;
	assert_int_equal(ui_push(ui, &screen_campaigns_ops), 0);
	ui_key(ui, 'n');
	answer(ui, "bad name!");
	assert_true(ui_input_active(ui));
	assert_string_equal(ui_input_text(ui), "bad name!");
	assert_true(shows(ui, "Name (letters, digits, . _ -): bad name!"));
	assert_true(shows(ui, "campaign name"));
	ui_key(ui, UI_CTRL('u'));
	answer(ui, "autumn");
	answer(ui, "t");
	answer(ui, "m");
	answer(ui, "nosuch");
	assert_string_equal(ui_input_text(ui), "nosuch");
	assert_true(shows(ui, "Segment (empty for the whole list): nosuch"));
	ui_key(ui, UI_KEY_ESC); /* stops the questions: the form stays */
	assert_false(ui_input_active(ui));
	assert_true(shows(ui, "Template  t"));
	ui_key(ui, UI_KEY_ESC);
	assert_true(shows(ui, "Discard this new campaign? (y/n)"));
	ui_key(ui, 'n');
	assert_true(shows(ui, "New campaign"));
	assert_true(shows(ui, "Name      autumn"));
	ui_key(ui, UI_KEY_LEFT);
	ui_key(ui, 'y');
	assert_true(shows(ui, "Campaigns (1)"));
	assert_int_equal(store_campaign_get(ui_store(ui), "autumn", &c, NULL), STORE_ENOTFOUND);
	/* Nothing typed: Esc leaves the form at once. */
	ui_key(ui, 'n');
	ui_key(ui, UI_KEY_ESC);
	ui_key(ui, UI_KEY_ESC);
	assert_true(shows(ui, "Campaigns (1)"));
	/* An edit asks before dropping its changes. */
	ui_key(ui, 'e');
	for (i = 0; i < 3; i++) /* from the template down to the subject */
		ui_key(ui, UI_KEY_DOWN);
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, UI_CTRL('u'));
	answer(ui, "Changed");
	assert_true(shows(ui, "(changed)"));
	/* A long value is cut, with "…", before the marker, which stays whole. */
	ui_key(ui, UI_KEY_UP);
	ui_key(ui, UI_KEY_ENTER);
	ui_key(ui, UI_CTRL('u'));
	answer(ui,
	       "{{name|お客様}}さん、12月号のお知らせ: 年末セールと新年の特別イベントを開催します");
	assert_true(shows(
	    ui, "  Subject   {{name|お客様}}さん、12月号のお知らせ: 年末セールと新…  (changed)\n"));
	ui_key(ui, UI_KEY_ESC);
	assert_true(shows(ui, "Discard your changes to spring? (y/n)"));
	ui_key(ui, 'y');
	assert_int_equal(store_campaign_get(ui_store(ui), "spring", &c, NULL), STORE_OK);
	assert_string_equal(c->subject, "Spring news");
	store_campaign_free(&c);
	ui_free(&ui);
}

/* ---- Review: preview, checks, approval, diff, rejection ------------------- */

static void test_review(void **state)
{
	struct ui *ui;
	struct store *st;
	struct store_campaign ch = {0};
	struct store_template t = {0};

	(void)state;
	submit("spring");
	ui = logged_in("operator");
	assert_int_equal(ui_push(ui, &screen_review_ops), 0);
	assert_golden(ui, "review_preview");
	ui_key(ui, UI_KEY_TAB);
	assert_true(shows(ui, "[Checks]"));
	ui_key(ui, UI_KEY_TAB);
	assert_true(shows(ui, "No earlier approved version"));

	/* Approve, signed; then the campaign waits to be sent. The question
	 * wraps onto a second row at 80 columns, so that its keys show. */
	ui_key(ui, 'a');
	ui_type(ui, "looks good");
	assert_true(
	    shows(ui, "\n Approve spring with your signature? Comment (optional), Enter approves, "
		      "Esc\n cancels: looks good\n"));
	ui_key(ui, UI_KEY_ENTER);
	assert_true(shows(ui, "spring is approved"));
	assert_true(shows(ui, "approved  marketer"));
	assert_int_equal(state_of(ui_store(ui), "spring"), STORE_CAMPAIGN_APPROVED);
	ui_free(&ui);

	/* The marketer changes it and submits it again: the reviewer sees the diff. */
	st = as("marketer");
	ch.subject = "Spring news, revised";
	assert_int_equal(store_campaign_edit(st, "spring", &ch, NULL), STORE_OK);
	t.name = "t";
	t.kind = "markdown";
	t.layout = "plain";
	t.source = "# Hello {{name|there}}\n\nNews for {{attr.city}}.\n\nA new line.\n";
	assert_int_equal(store_template_save(st, &t, true, NULL), STORE_OK);
	assert_int_equal(store_campaign_submit(st, "spring", NULL), STORE_OK);
	store_close(&st);
	ui = logged_in("operator");
	assert_int_equal(ui_push(ui, &screen_review_ops), 0);
	ui_key(ui, UI_KEY_TAB);
	ui_key(ui, UI_KEY_TAB);
	assert_golden(ui, "review_changes");

	/*
	 * Reject with a comment; an empty comment is refused and asked for
	 * again, so what is typed next is the comment, never the screen's keys
	 * (a would approve).
	 */
	ui_key(ui, 'R');
	answer(ui, "");
	assert_true(shows(ui, "a rejection needs a comment"));
	assert_true(ui_input_active(ui));
	answer(ui, "a shorter subject: this one is too long for phones");
	assert_true(shows(ui, "rejected spring"));
	assert_int_equal(state_of(ui_store(ui), "spring"), STORE_CAMPAIGN_REJECTED);
	ui_free(&ui);

	/* The author sees the rejection and its comment, on the dashboard too. */
	ui = logged_in("marketer");
	assert_golden(ui, "dashboard_marketer");
	assert_int_equal(ui_push(ui, &screen_campaigns_ops), 0);
	assert_true(
	    shows(ui, "Rejected by operator: a shorter subject: this one is too long for phones"));
	ui_free(&ui);
}

/*
 * Ctrl-C and Q leave hato, but ask first when that would throw away a form
 * not saved, even in the middle of a question; a second Ctrl-C leaves.
 */
static void test_form_interrupt(void **state)
{
	struct ui *ui = logged_in("marketer");

	(void)state;
	assert_int_equal(ui_push(ui, &screen_campaigns_ops), 0);
	ui_key(ui, 'n');
	answer(ui, "autumn");
	ui_type(ui, "t");
	ui_key(ui, UI_KEY_INTERRUPT);
	assert_true(shows(ui, "What you typed is not saved; leaving throws it away. Leave?"));
	ui_key(ui, 'n');
	assert_false(ui_done(ui));
	assert_true(shows(ui, "Name      autumn"));
	/* n goes back to the prompt that was open, with what was typed in it. */
	assert_true(shows(ui, "Template (one of the templates below): t"));
	ui_key(ui, UI_KEY_ESC);
	ui_key(ui, 'Q');
	assert_true(shows(ui, "What you typed is not saved"));
	ui_key(ui, UI_KEY_ESC);
	assert_false(ui_done(ui));
	ui_key(ui, UI_KEY_INTERRUPT);
	ui_key(ui, UI_KEY_INTERRUPT);
	assert_true(ui_done(ui));
	ui_free(&ui);

	/* Nothing typed: Ctrl-C leaves at once. */
	ui = logged_in("marketer");
	assert_int_equal(ui_push(ui, &screen_campaigns_ops), 0);
	ui_key(ui, UI_KEY_INTERRUPT);
	assert_true(ui_done(ui));
	ui_free(&ui);
}

/*
 * A long rejection comment is cut on two rows with "…", and Tab shows it
 * whole, with who rejected it and when.
 */
static void test_rejection_long(void **state)
{
	struct ui *ui;
	struct store *st;
	char comment[600];

	(void)state;
	submit("spring");
	snprintf(comment, sizeof(comment), "%s",
		 "The subject line is too long for phones, the greeting repeats the subject, "
		 "the list of dates has no year, the link to the shop goes to last season's "
		 "page, and the legal footer is missing the postal address that the law asks "
		 "for; please fix all of these and submit it again. END-OF-COMMENT");
	st = as("operator");
	assert_int_equal(store_campaign_reject(st, "spring", comment, NULL), STORE_OK);
	store_close(&st);
	ui = logged_in("marketer");
	assert_int_equal(ui_push(ui, &screen_campaigns_ops), 0);
	assert_true(shows(ui, "Rejected by operator: The subject line is too long for phones"));
	assert_true(
	    shows(ui, "…\n    Tab reads the whole comment; e edits it; S submits it again."));
	assert_true(lacks(ui, "END-OF-COMMENT"));
	ui_key(ui, UI_KEY_TAB);
	assert_true(shows(ui, "spring · rejected by operator on 20"));
	assert_true(shows(ui, "END-OF-COMMENT"));
	assert_true(lacks(ui, "…"));
	ui_key(ui, UI_KEY_TAB);
	assert_true(lacks(ui, "END-OF-COMMENT"));
	/* A campaign that is not rejected has nothing to read. */
	ui_key(ui, 'y');
	answer(ui, "copy");
	ui_key(ui, UI_KEY_TAB);
	assert_true(shows(ui, "only a rejected campaign has a comment to read"));
	ui_free(&ui);
}

/* The review screen of a viewer: the preview uses a placeholder recipient. */
static void test_review_viewer(void **state)
{
	struct ui *ui;

	(void)state;
	submit("spring");
	ui = logged_in("viewer");
	assert_int_equal(ui_push(ui, &screen_review_ops), 0);
	assert_true(shows(ui, "To:      s***@example.com"));
	assert_true(shows(ui, "Hello there"));
	assert_true(lacks(ui, "Sub Scriber"));
	ui_free(&ui);
}

/* ---- Dashboard ------------------------------------------------------------------ */

static void test_dashboard_operator(void **state)
{
	struct ui *ui;

	(void)state;
	submit("spring");
	ui = logged_in("operator");
	assert_golden(ui, "dashboard_operator");
	ui_free(&ui);
}

/* ---- The worker the UI runs in the background ------------------------------------ */

static int count_files(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += strstr(e->d_name, ".eml") != NULL;
	closedir(d);
	return n;
}

static void test_background_worker(void **state)
{
	char cwd[4096], log[4200];
	struct ui *ui;
	struct store *st;
	long pid;
	int i;

	(void)state;
	submit("spring");
	ui = logged_in("operator");
	assert_true(shows(ui, "not running, so nothing is sent; w runs one"));
	/* A wrong password: the child says so and no worker runs. */
	ui_key(ui, 'w');
	answer(ui, "not-the-password");
	assert_true(shows(ui, "wrong password"));
	assert_int_equal(ui_worker_pid(), 0);
	sleep(1); /* the delay after a failed login */
	ui_key(ui, 'w');
	answer(ui, "operator-password-1");
	pid = ui_worker_pid();
	assert_true(pid > 0);
	ui_key(ui, UI_CTRL('l'));
	assert_true(shows(ui, "running (pid"));
	/* The dashboard says where the worker's log is. */
	assert_non_null(realpath(".", cwd));
	snprintf(log, sizeof(log), "%s/%s.worker.log)", cwd, STORE);
	assert_true(shows(ui, log));
	approve_and_send(ui, "spring");
	for (i = 0; i < 200 && state_of(ui_store(ui), "spring") != STORE_CAMPAIGN_SENT; i++)
		usleep(100 * 1000);
	if (state_of(ui_store(ui), "spring") != STORE_CAMPAIGN_SENT)
		system("cat " STORE ".worker.log");
	assert_int_equal(state_of(ui_store(ui), "spring"), STORE_CAMPAIGN_SENT);
	assert_int_equal(count_files("outbox"), 2);
	/* Leaving would stop the worker: q on the dashboard asks first. */
	ui_key(ui, 'q');
	assert_false(ui_done(ui));
	assert_true(shows(ui, "A worker runs in the background; leaving stops it. Leave? (y/n)"));
	ui_key(ui, 'n');
	assert_false(ui_done(ui));
	/* While a campaign is sending, the question says so (the worker held still). */
	st = as("marketer");
	assert_int_equal(store_campaign_copy(st, "spring", "summer", NULL), STORE_OK);
	assert_int_equal(store_campaign_submit(st, "summer", NULL), STORE_OK);
	store_close(&st);
	assert_int_equal(kill((pid_t)pid, SIGSTOP), 0);
	approve_and_send(ui, "summer");
	set_state(ui_store(ui), "summer", STORE_CAMPAIGN_SENDING);
	ui_key(ui, 'Q');
	assert_true(shows(ui, "A worker is sending; leaving stops it. Leave? (y/n)"));
	ui_key(ui, 'n');
	ui_key(ui, UI_KEY_ESC);
	assert_true(shows(ui, "A worker is sending; leaving stops it. Leave? (y/n)"));
	assert_int_equal(kill((pid_t)pid, SIGCONT), 0);
	ui_key(ui, 'y');
	assert_true(ui_done(ui));
	ui_free(&ui);
	/* Leaving the UI stops the worker. */
	assert_int_equal(ui_worker_pid(), 0);
	assert_true(kill((pid_t)pid, 0) != 0);
}

/* ---- Sending set-up (admin) ---------------------------------------------------- */

static void test_sending_setup(void **state)
{
	struct ui *ui = logged_in("admin");

	(void)state;
	assert_int_equal(ui_push(ui, &screen_sending_ops), 0);
	assert_true(shows(ui, "smtp.password            ********"));
	assert_true(lacks(ui, "smtp-secret-1"));
	assert_true(shows(ui, "publish: fx._domainkey.example.com IN TXT"));
	assert_true(shows(ui, "v=DKIM1; k=ed25519; p="));
	ui_key(ui, UI_KEY_PGDN);
	assert_true(shows(ui, "pace.docomo.ne.jp        30/1"));
	assert_true(shows(ui, "today: no cap"));
	/* The domain check against a DNS server that does not answer says so. */
	ui_key(ui, 'v');
	ui_key(ui, UI_KEY_ENTER); /* example.com, from sender.from */
	answer(ui, "127.0.0.1:9");
	assert_true(shows(ui, "example.com"));
	/* A long line (the DKIM record) wraps under its indent rather than being cut. */
	ui_resize(ui, 50, 40);
	assert_true(shows(ui, "\n        ( \"v=DKIM1; k=ed25519;\n        p="));
	assert_true(shows(ui, "=\" )\n")); /* the end of the record */
	/* QA's case: paging stops at a full last page, says what more there is,
	 * and a terminal grown to hold it all shows it all from the top. */
	ui_resize(ui, 80, 24);
	ui_key(ui, UI_KEY_HOME);
	assert_true(shows(ui, "PgDn: more below"));
	assert_true(lacks(ui, "PgUp: more above"));
	for (int i = 0; i < 20; i++)
		ui_key(ui, UI_KEY_PGDN);
	assert_true(shows(ui, "PgUp: more above"));
	assert_true(lacks(ui, "PgDn: more below"));
	assert_true(shows(ui, "today: no cap"));
	assert_true(lacks(ui, "\n\n\n\n\n\n\n\n\n\n")); /* no blank page */
	ui_resize(ui, 200, 80);
	assert_true(shows(ui, "smtp.password            ********"));
	assert_true(lacks(ui, "more above"));
	ui_free(&ui);
}

/* ---- The decoder of the preview ----------------------------------------------- */

static void test_preview_parse(void **state)
{
	static const char msg[] = "From: =?UTF-8?B?5pel5pys?= <a@example.com>\r\n"
				  "To: b@example.com\r\n"
				  "Subject: =?UTF-8?Q?caf=C3=A9?=\r\n =?UTF-8?B?IOaXpeacrA==?=\r\n"
				  "Content-Type: multipart/alternative;\r\n boundary=\"XX\"\r\n"
				  "\r\n"
				  "--XX\r\n"
				  "Content-Type: text/plain; charset=UTF-8\r\n"
				  "Content-Transfer-Encoding: base64\r\n"
				  "\r\n"
				  "aGVsbG8KLS0gCnNpZwo=\r\n"
				  "--XX\r\n"
				  "Content-Type: text/html\r\n\r\n<p>x</p>\r\n--XX--\r\n";
	struct ui_preview p = {0};

	(void)state;
	assert_int_equal(ui_preview_parse(msg, sizeof(msg) - 1, &p), 0);
	assert_string_equal(p.from, "日本 <a@example.com>");
	assert_string_equal(p.subject, "café 日本");
	assert_int_equal(p.n, 3);
	assert_string_equal(p.lines[0], "hello");
	assert_string_equal(p.lines[1], "-- "); /* a signature is not a boundary */
	assert_string_equal(p.lines[2], "sig");
	ui_preview_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_preview_parse),
	    cmocka_unit_test_setup_teardown(test_campaigns_form, setup, teardown_worker),
	    cmocka_unit_test_setup_teardown(test_submit_failing_checks, setup, teardown_worker),
	    cmocka_unit_test_setup_teardown(test_campaign_form_keep, setup, teardown_worker),
	    cmocka_unit_test_setup_teardown(test_form_interrupt, setup, teardown_worker),
	    cmocka_unit_test_setup_teardown(test_review, setup, teardown_worker),
	    cmocka_unit_test_setup_teardown(test_rejection_long, setup, teardown_worker),
	    cmocka_unit_test_setup_teardown(test_review_viewer, setup, teardown_worker),
	    cmocka_unit_test_setup_teardown(test_dashboard_operator, setup, teardown_worker),
	    cmocka_unit_test_setup_teardown(test_background_worker, setup, teardown_worker),
	    cmocka_unit_test_setup_teardown(test_sending_setup, setup, teardown_worker),
	};

	if (helpers_init() != 0)
		return 1;
	golden_scrub = scrub;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
