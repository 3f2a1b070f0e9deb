/*
 * Campaigns against a real encrypted store with real users: the state
 * machine (each allowed and refused move), four-eyes approval, edits that
 * drop approvals, and which campaigns are due. The send queue is in
 * test_queue.c.
 */
#include "tests/store/campaign_fixture.h"

static void test_add(void **state)
{
	struct store_campaign c = {0}, *g;

	(void)state;
	add(mk, "c-add", "news", "tokyo");
	g = get("c-add");
	assert_string_equal(g->name, "c-add");
	assert_string_equal(g->template_name, "hello");
	assert_string_equal(g->list, "news");
	assert_string_equal(g->segment, "tokyo");
	assert_string_equal(g->segment_expr, "attr.city = \"Tokyo\"");
	assert_string_equal(g->author, "mk");
	assert_null(g->from);
	assert_int_equal(g->state, STORE_CAMPAIGN_DRAFT);
	assert_int_equal(g->approvals_needed, 1);
	assert_int_equal(g->version, 1);
	assert_true(g->created > 0);
	store_campaign_free(&g);
	assert_null(g);
	assert_int_equal(audited("campaign.add", "c-add", "ok"), 1);

	/* A segment alone brings its list. */
	add(mk, "c-seg", NULL, "tokyo");
	g = get("c-seg");
	assert_string_equal(g->list, "news");
	store_campaign_free(&g);

	c.name = "c-add";
	c.template_name = "hello";
	c.list = "news";
	c.subject = "x";
	REFUSED(STORE_EEXIST, "exists already", store_campaign_add(mk, &c, &err));
	c.name = "c-bad";
	c.template_name = "nope";
	REFUSED(STORE_ENOTFOUND, "no template nope", store_campaign_add(mk, &c, &err));
	c.template_name = "hello";
	c.segment = "elsewhere";
	REFUSED(STORE_EINVAL, "belongs to the list other", store_campaign_add(mk, &c, &err));
	c.segment = NULL;
	c.list = "nolist";
	REFUSED(STORE_ENOTFOUND, NULL, store_campaign_add(mk, &c, &err));
	c.list = "news";
	c.subject = "Hi\r\nBcc: x@evil.example";
	REFUSED(STORE_EINVAL, "line break", store_campaign_add(mk, &c, &err));
	c.subject = "Hi";
	REFUSED(STORE_EDENIED, "campaigns.edit", store_campaign_add(vw, &c, &err));
	REFUSED(STORE_EDENIED, "campaigns.edit", store_campaign_add(op1, &c, &err));
	REFUSED(STORE_ENOTFOUND, NULL, store_campaign_get(vw, "c-bad", &g, &err));

	/* A copy is a new draft by whoever copies it. */
	OK(store_campaign_copy(boss, "c-add", "c-copy", &err_));
	g = get("c-copy");
	assert_string_equal(g->author, "boss");
	assert_string_equal(g->segment, "tokyo");
	assert_string_equal(g->subject, "Spring news");
	assert_int_equal(g->state, STORE_CAMPAIGN_DRAFT);
	store_campaign_free(&g);
}

static void test_state_machine(void **state)
{
	struct store_campaign *g;
	const char *n = "c-states";

	(void)state;
	add(mk, n, "news", NULL);
	/* Nothing but submit leaves a draft. */
	REFUSED(STORE_EINVAL, "in review", store_campaign_approve(op1, n, H0, SIG, NULL, &err));
	REFUSED(STORE_EINVAL, "in review", store_campaign_reject(op1, n, "no", &err));
	REFUSED(STORE_EINVAL, "approved", store_campaign_schedule(op1, n, 0, H0, SIG, &err));
	REFUSED(STORE_EINVAL, "paused", store_campaign_resume(op1, n, &err));
	REFUSED(STORE_EINVAL, "sending or scheduled", store_campaign_pause(op1, n, NULL, &err));
	REFUSED(STORE_EDENIED, "campaigns.edit", store_campaign_submit(op1, n, &err));
	OK(store_campaign_submit(mk, n, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_IN_REVIEW);
	REFUSED(STORE_EINVAL, "draft or a rejected", store_campaign_submit(mk, n, &err));

	/* Rejection needs a reason and another person. */
	REFUSED(STORE_EUSAGE, "comment", store_campaign_reject(op1, n, NULL, &err));
	REFUSED(STORE_EDENIED, "campaigns.approve", store_campaign_reject(mk, n, "x", &err));
	OK(store_campaign_reject(op1, n, "the subject is too loud", &err_));
	g = get(n);
	assert_int_equal(g->state, STORE_CAMPAIGN_REJECTED);
	assert_string_equal(g->comment, "the subject is too loud");
	store_campaign_free(&g);
	OK(store_campaign_submit(mk, n, &err_));

	/* Approval: not by a viewer, not by a marketer, yes by an operator. */
	REFUSED(STORE_EDENIED, "campaigns.approve",
		store_campaign_approve(vw, n, H0, SIG, NULL, &err));
	REFUSED(STORE_EDENIED, "campaigns.approve",
		store_campaign_approve(mk, n, H0, SIG, NULL, &err));
	OK(store_campaign_approve(op1, n, H0, SIG, "fine", &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_APPROVED);
	assert_int_equal(approvals(n), 1);
	REFUSED(STORE_EINVAL, "in review", store_campaign_approve(op2, n, H0, SIG, NULL, &err));
	REFUSED(STORE_EINVAL, NULL, store_campaign_submit(mk, n, &err));
	REFUSED(STORE_EDENIED, "campaigns.send", store_campaign_pause(mk, n, NULL, &err));

	/* Scheduled, paused before it starts, resumed: scheduled again. */
	REFUSED(STORE_EDENIED, "campaigns.send",
		store_campaign_schedule(mk, n, 2000000000, H1, SIG, &err));
	OK(store_campaign_schedule(op1, n, 2000000000, H1, SIG, &err_));
	g = get(n);
	assert_int_equal(g->state, STORE_CAMPAIGN_SCHEDULED);
	assert_int_equal(g->scheduled_at, 2000000000);
	store_campaign_free(&g);
	OK(store_campaign_pause(op2, n, NULL, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_PAUSED);
	REFUSED(STORE_EINVAL, NULL, store_campaign_pause(op2, n, NULL, &err));
	OK(store_campaign_resume(op2, n, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_SCHEDULED);

	/* The worker's moves. */
	g = get(n);
	REFUSED(STORE_EDENIED, "campaigns.send",
		store_campaign_set_state(mk, g->id, STORE_CAMPAIGN_SENDING, NULL, &err));
	REFUSED(STORE_EUSAGE, NULL,
		store_campaign_set_state(op1, g->id, STORE_CAMPAIGN_APPROVED, NULL, &err));
	OK(store_campaign_set_state(op1, g->id, STORE_CAMPAIGN_SENDING, "due", &err_));
	store_campaign_free(&g);
	g = get(n);
	assert_int_equal(g->state, STORE_CAMPAIGN_SENDING);
	assert_true(g->started_at > 0);
	REFUSED(STORE_EINVAL, "can no longer be edited",
		store_campaign_edit(mk, n, &(struct store_campaign){.subject = "x"}, &err));
	OK(store_campaign_set_state(op1, g->id, STORE_CAMPAIGN_PAUSED, "5xx over 5%", &err_));
	store_campaign_free(&g);
	g = get(n);
	assert_int_equal(g->state, STORE_CAMPAIGN_PAUSED);
	assert_string_equal(g->pause_reason, "5xx over 5%");
	/* The worker does not undo an operator's pause. */
	REFUSED(STORE_EINVAL, "cannot become sending",
		store_campaign_set_state(op1, g->id, STORE_CAMPAIGN_SENDING, NULL, &err));
	OK(store_campaign_resume(op2, n, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_SENDING);
	OK(store_campaign_set_state(op1, g->id, STORE_CAMPAIGN_SENT, "done", &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_SENT);
	REFUSED(STORE_EINVAL, "over already", store_campaign_cancel(op1, n, &err));
	REFUSED(STORE_EINVAL, NULL,
		store_campaign_set_state(op1, g->id, STORE_CAMPAIGN_SENDING, NULL, &err));
	REFUSED(STORE_EINVAL, NULL,
		store_campaign_set_state(op1, g->id, STORE_CAMPAIGN_FAILED, NULL, &err));
	store_campaign_free(&g);

	/* Cancel from review; nothing moves a cancelled campaign. */
	add(mk, "c-cancel", "news", NULL);
	OK(store_campaign_submit(mk, "c-cancel", &err_));
	REFUSED(STORE_EDENIED, "campaigns.send", store_campaign_cancel(mk, "c-cancel", &err));
	OK(store_campaign_cancel(op1, "c-cancel", &err_));
	assert_int_equal(state_of("c-cancel"), STORE_CAMPAIGN_CANCELLED);
	REFUSED(STORE_EINVAL, NULL, store_campaign_submit(mk, "c-cancel", &err));
	REFUSED(STORE_EINVAL, NULL, store_campaign_cancel(op1, "c-cancel", &err));
	REFUSED(
	    STORE_EINVAL, NULL,
	    store_campaign_edit(mk, "c-cancel", &(struct store_campaign){.subject = "x"}, &err));
	REFUSED(STORE_ENOTFOUND, "no campaign", store_campaign_submit(mk, "c-none", &err));

	/* Every move is in the audit trail, and so are the refusals. */
	assert_int_equal(audited("campaign.submit", n, "ok"), 2);
	assert_int_equal(audited("campaign.reject", n, "ok"), 1);
	assert_int_equal(audited("campaign.approve", n, "ok"), 1);
	assert_int_equal(audited("campaign.schedule", n, "ok"), 1);
	assert_int_equal(audited("campaign.pause", n, "ok"), 1);
	assert_int_equal(audited("campaign.resume", n, "ok"), 2);
	assert_int_equal(audited("campaign.state", n, "ok"), 3);
	assert_int_equal(audited("campaign.cancel", "c-cancel", "ok"), 1);
}

static void test_four_eyes(void **state)
{
	const char *n = "c-boss";

	(void)state;
	/* boss holds every permission, yet may not approve what boss wrote. */
	add(boss, n, "news", NULL);
	OK(store_campaign_submit(boss, n, &err_));
	REFUSED(STORE_EDENIED, "you wrote this campaign; another user must approve it",
		store_campaign_approve(boss, n, H0, SIG, NULL, &err));
	REFUSED(STORE_EDENIED, "another user must reject it",
		store_campaign_reject(boss, n, "meh", &err));
	assert_int_equal(audited_with("campaign.approve", n, "denied", "its author may not"), 1);
	assert_int_equal(approvals(n), 0);
	assert_int_equal(state_of(n), STORE_CAMPAIGN_IN_REVIEW);
	OK(store_campaign_approve(op1, n, H0, SIG, NULL, &err_));
	REFUSED(STORE_EDENIED, "another user must schedule it",
		store_campaign_schedule(boss, n, 0, H1, SIG, &err));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_APPROVED);
	/* Anyone else with both permissions may schedule: it replaces the approvals. */
	OK(store_campaign_schedule(op2, n, 0, H1, SIG, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_SCHEDULED);
	assert_int_equal(approvals(n), 1);
}

/*
 * Four eyes count everyone who wrote what is sent: a user who edited
 * someone else's campaign, or who last changed its template, may not approve
 * it either; nor may the author of a campaign approve a copy of it.
 */
static void test_four_eyes_editors(void **state)
{
	struct store_template t = {0};
	struct store_campaign *g;

	(void)state;
	add(mk, "c-edited", "news", NULL);
	OK(store_campaign_edit(boss, "c-edited",
			       &(struct store_campaign){.subject = "Boss's words"}, &err_));
	OK(store_campaign_edit(mk, "c-edited", &(struct store_campaign){.subject = "Again"},
			       &err_));
	g = get("c-edited");
	assert_string_equal(g->author, "mk");
	assert_string_equal(g->editors, "boss"); /* once, and never the author */
	assert_true(store_campaign_written_by(g, "boss"));
	assert_false(store_campaign_written_by(g, "op1"));
	store_campaign_free(&g);
	OK(store_campaign_submit(boss, "c-edited", &err_));
	REFUSED(STORE_EDENIED, "you edited this campaign; another user must approve it",
		store_campaign_approve(boss, "c-edited", H0, SIG, NULL, &err));
	assert_int_equal(
	    audited_with("campaign.approve", "c-edited", "denied", "an editor of it may not"), 1);
	OK(store_campaign_approve(op1, "c-edited", H0, SIG, NULL, &err_));

	/* A copy keeps the original's writers. */
	OK(store_campaign_copy(boss, "c-edited", "c-edited2", &err_));
	g = get("c-edited2");
	assert_string_equal(g->author, "boss");
	assert_true(store_campaign_written_by(g, "mk"));
	store_campaign_free(&g);

	/* The last to change the template wrote the campaign's words too. */
	t.name = "boss-words";
	t.kind = "markdown";
	t.source = "Words by boss for {{name}}";
	OK(store_template_save(boss, &t, false, &err_));
	add(mk, "c-template", "news", NULL);
	OK(store_campaign_edit(mk, "c-template",
			       &(struct store_campaign){.template_name = "boss-words"}, &err_));
	OK(store_campaign_submit(mk, "c-template", &err_));
	REFUSED(STORE_EDENIED, "you changed its template; another user must approve it",
		store_campaign_approve(boss, "c-template", H0, SIG, NULL, &err));
	assert_int_equal(audited_with("campaign.approve", "c-template", "denied",
				      "who last changed its template may not"),
			 1);
	OK(store_campaign_approve(op1, "c-template", H0, SIG, NULL, &err_));
}

static void test_edit_drops_approvals(void **state)
{
	struct store_campaign ch = {0}, *g;
	const char *n = "c-edit";

	(void)state;
	add(mk, n, "news", NULL);
	OK(store_campaign_submit(mk, n, &err_));
	OK(store_campaign_approve(op1, n, H0, SIG, NULL, &err_));
	assert_int_equal(approvals(n), 1);
	ch.subject = "A quieter subject";
	REFUSED(STORE_EDENIED, NULL, store_campaign_edit(vw, n, &ch, &err));
	REFUSED(STORE_EUSAGE, "nothing to change",
		store_campaign_edit(mk, n, &(struct store_campaign){0}, &err));
	OK(store_campaign_edit(mk, n, &ch, &err_));
	g = get(n);
	assert_int_equal(g->state, STORE_CAMPAIGN_DRAFT);
	assert_int_equal(g->version, 2);
	assert_string_equal(g->subject, "A quieter subject");
	store_campaign_free(&g);
	assert_int_equal(approvals(n), 0);

	/* From scheduled too; a segment of another list is refused; "" removes it. */
	OK(store_campaign_submit(mk, n, &err_));
	OK(store_campaign_approve(op1, n, H0, SIG, NULL, &err_));
	OK(store_campaign_schedule(op2, n, 0, H1, SIG, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_SCHEDULED);
	memset(&ch, 0, sizeof(ch));
	ch.list = "news";
	ch.segment = "elsewhere";
	REFUSED(STORE_EINVAL, "belongs to the list other", store_campaign_edit(mk, n, &ch, &err));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_SCHEDULED);
	assert_int_equal(approvals(n), 1);
	ch.list = NULL;
	ch.segment = "tokyo";
	OK(store_campaign_edit(mk, n, &ch, &err_));
	g = get(n);
	assert_int_equal(g->state, STORE_CAMPAIGN_DRAFT);
	assert_string_equal(g->segment, "tokyo");
	assert_int_equal(g->version, 3);
	store_campaign_free(&g);
	assert_int_equal(approvals(n), 0);
	ch.segment = "";
	OK(store_campaign_edit(mk, n, &ch, &err_));
	g = get(n);
	assert_null(g->segment);
	assert_null(g->segment_expr);
	store_campaign_free(&g);
	assert_int_equal(audited("campaign.edit", n, "ok"), 3);
}

/*
 * approvals.required raised while a campaign is in review applies to it: it
 * needs the higher of the number fixed at submission and the current
 * setting, and that is fixed when it is approved. Lowered again, the setting
 * does not lower what a submitted campaign needs.
 */
static void test_required_raised(void **state)
{
	struct store_campaign *g;

	(void)state;
	OK(store_config_set(adm, "approvals.required", "1", &err_));
	add(mk, "c-raise", "news", NULL);
	add(mk, "c-fixed", "news", NULL);
	OK(store_campaign_submit(mk, "c-raise", &err_));
	OK(store_config_set(adm, "approvals.required", "2", &err_));
	g = get("c-raise");
	assert_int_equal(g->approvals_needed, 2); /* shown as it will be applied */
	store_campaign_free(&g);
	OK(store_campaign_approve(op1, "c-raise", H0, SIG, NULL, &err_));
	assert_int_equal(state_of("c-raise"), STORE_CAMPAIGN_IN_REVIEW);
	assert_int_equal(audited("campaign.approve", "c-raise", "ok"), 1);
	OK(store_campaign_approve(op2, "c-raise", H0, SIG, NULL, &err_));
	assert_int_equal(state_of("c-raise"), STORE_CAMPAIGN_APPROVED);
	/* Approved: a later change of the setting does not move it. */
	OK(store_config_set(adm, "approvals.required", "3", &err_));
	g = get("c-raise");
	assert_int_equal(g->approvals_needed, 2);
	store_campaign_free(&g);
	/* Submitted at 3, the setting lowered to 1: it still needs 3. */
	OK(store_campaign_submit(mk, "c-fixed", &err_));
	OK(store_config_set(adm, "approvals.required", "1", &err_));
	g = get("c-fixed");
	assert_int_equal(g->approvals_needed, 3);
	store_campaign_free(&g);
	OK(store_campaign_approve(op1, "c-fixed", H0, SIG, NULL, &err_));
	OK(store_campaign_approve(op2, "c-fixed", H0, SIG, NULL, &err_));
	assert_int_equal(state_of("c-fixed"), STORE_CAMPAIGN_IN_REVIEW);
	/* An unset setting is 1; a stored value out of range is read within 1 to 16. */
	OK(store_config_unset(adm, "approvals.required", &err_));
	add(mk, "c-unset", "news", NULL);
	g = get("c-unset");
	assert_int_equal(g->approvals_needed, 1);
	store_campaign_free(&g);
	OK(store_config_set(adm, "approvals.required", "1", &err_));
}

static void test_two_approvals(void **state)
{
	struct store_campaign *g;
	const char *n = "c-two";

	(void)state;
	OK(store_config_set(adm, "approvals.required", "2", &err_));
	add(mk, n, "news", NULL);
	OK(store_config_set(adm, "approvals.required", "1", &err_));
	g = get(n);
	assert_int_equal(g->approvals_needed, 2); /* fixed when created */
	store_campaign_free(&g);
	OK(store_campaign_submit(mk, n, &err_));
	OK(store_campaign_approve(op1, n, H0, SIG, NULL, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_IN_REVIEW);
	REFUSED(STORE_EEXIST, "approved this campaign already",
		store_campaign_approve(op1, n, H0, SIG, NULL, &err));
	assert_int_equal(audited_with("campaign.approve", n, "refused", "approved it already"), 1);
	assert_int_equal(state_of(n), STORE_CAMPAIGN_IN_REVIEW);
	OK(store_campaign_approve(op2, n, H0, SIG, NULL, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_APPROVED);
	assert_int_equal(approvals(n), 2);

	/*
	 * A new schedule is new content: op1's approval of it replaces both, one
	 * is too few, back to review. op2 approves the same content, which
	 * completes them: it is scheduled, as op1 asked. op2 then schedules the
	 * same time: both approvals of that content stand.
	 */
	OK(store_campaign_schedule(op1, n, 2000000000, H1, SIG, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_IN_REVIEW);
	assert_int_equal(approvals(n), 1);
	OK(store_campaign_approve(op2, n, H1, SIG, NULL, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_SCHEDULED);
	OK(store_campaign_schedule(op2, n, 2000000000, H1, SIG, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_SCHEDULED);
	assert_int_equal(approvals(n), 2);
	/* Submitted again, its approval is of content only: approved, not due. */
	OK(store_campaign_resubmit(mk, n, &err_));
	OK(store_campaign_approve(op1, n, H1, SIG, NULL, &err_));
	OK(store_campaign_approve(op2, n, H1, SIG, NULL, &err_));
	assert_int_equal(state_of(n), STORE_CAMPAIGN_APPROVED);
}

static int due_cb(const struct store_campaign *c, void *arg)
{
	int *found = arg;

	if (strcmp(c->name, "c-due") == 0)
		*found = 1;
	return 0;
}

static void test_due(void **state)
{
	int found = 0;
	time_t now = time(NULL);

	(void)state;
	add(mk, "c-due", "news", NULL);
	OK(store_campaign_submit(mk, "c-due", &err_));
	OK(store_campaign_approve(op1, "c-due", H0, SIG, NULL, &err_));
	OK(store_campaign_due(op1, now, due_cb, &found, &err_));
	assert_int_equal(found, 0); /* approved is not scheduled */
	OK(store_campaign_schedule(op1, "c-due", now + 3600, H1, SIG, &err_));
	OK(store_campaign_due(op1, now, due_cb, &found, &err_));
	assert_int_equal(found, 0);
	OK(store_campaign_due(op1, now + 3600, due_cb, &found, &err_));
	assert_int_equal(found, 1);
	found = 0;
	OK(store_campaign_pause(op1, "c-due", NULL, &err_));
	OK(store_campaign_due(op1, now + 3600, due_cb, &found, &err_));
	assert_int_equal(found, 0);
}

static int size_of(const struct store_template *t, void *arg)
{
	if (strcmp(t->name, "ja-size") == 0)
		*(size_t *)arg = t->size;
	return 0;
}

/* A template's size is its bytes (what `template ls` and the screen show), not characters. */
static void test_template_size(void **state)
{
	struct store_template t = {0};
	size_t size = 0;

	(void)state;
	t.name = "ja-size";
	t.kind = "markdown";
	t.source = "# {{name|お客様}}さん、12月号\n";
	OK(store_template_save(mk, &t, false, &err_));
	OK(store_template_list(mk, size_of, &size, &err_));
	assert_int_equal(size, strlen(t.source));
}

/* ---- The queue --------------------------------------------------------------- */

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add),
	    cmocka_unit_test(test_state_machine),
	    cmocka_unit_test(test_four_eyes),
	    cmocka_unit_test(test_four_eyes_editors),
	    cmocka_unit_test(test_edit_drops_approvals),
	    cmocka_unit_test(test_two_approvals),
	    cmocka_unit_test(test_required_raised),
	    cmocka_unit_test(test_due),
	    cmocka_unit_test(test_template_size),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
