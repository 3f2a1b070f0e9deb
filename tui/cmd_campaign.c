/*
 * tui/cmd_campaign.c: hato campaign ... (a campaign's life up to sending).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send/send.h"
#include "tui/cli.h"

static const struct option edit_opts[] = {
    {"template", required_argument, NULL, 't'}, {"list", required_argument, NULL, 'l'},
    {"segment", required_argument, NULL, 'g'},	{"subject", required_argument, NULL, 's'},
    {"from", required_argument, NULL, 'f'},	{NULL, 0, NULL, 0},
};

/* Fills the non-NULL fields of c from the options (strings borrowed from argv). */
static int parse_edit(struct cli *cl, int argc, char **argv, struct store_campaign *c)
{
	int ch;

	memset(c, 0, sizeof(*c));
	while ((ch = getopt_long(argc, argv, "", edit_opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			c->template_name = optarg;
			break;
		case 'l':
			c->list = optarg;
			break;
		case 'g':
			c->segment = optarg;
			break;
		case 's':
			c->subject = optarg;
			break;
		case 'f':
			c->from = optarg;
			break;
		default:
			return cli_usage(cl);
		}
	}
	return optind == argc - 1 ? EX_OK : cli_usage(cl);
}

/* With --segment and no --list, the list is the segment's. */
static int segment_list(struct cli *cl, struct store_campaign *c, char **list)
{
	enum store_status s;
	char *expr = NULL, *err = NULL;

	*list = NULL;
	if (c->segment == NULL || c->segment[0] == '\0' || c->list != NULL)
		return EX_OK;
	s = store_segment_get(cl->st, c->segment, list, &expr, &err);
	free(expr);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	c->list = *list;
	return EX_OK;
}

/* campaign add and campaign edit: the same options, then the store call. */
static int add_or_edit(struct cli *cl, int argc, char **argv, bool add)
{
	struct store_campaign c;
	enum store_status s;
	char *err = NULL, *list = NULL;
	int rc = parse_edit(cl, argc, argv, &c);

	if (rc != EX_OK)
		return rc;
	c.name = add ? argv[optind] : NULL;
	rc = segment_list(cl, &c, &list);
	if (rc != EX_OK)
		return rc;
	if (add && (c.template_name == NULL || c.list == NULL || c.subject == NULL)) {
		free(list);
		return cli_usage(cl);
	}
	s = add ? store_campaign_add(cl->st, &c, &err)
		: store_campaign_edit(cl->st, argv[optind], &c, &err);
	free(list);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf(add ? "added campaign %s as a draft\n"
		   : "changed campaign %s; it is a draft again\n",
	       argv[optind]);
	return EX_OK;
}

static int campaign_add(struct cli *cl, int argc, char **argv)
{
	return add_or_edit(cl, argc, argv, true);
}

static int campaign_edit(struct cli *cl, int argc, char **argv)
{
	return add_or_edit(cl, argc, argv, false);
}

static int campaign_copy(struct cli *cl, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	if (argc != 3)
		return cli_usage(cl);
	s = store_campaign_copy(cl->st, argv[1], argv[2], &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("copied campaign %s to %s\n", argv[1], argv[2]);
	return EX_OK;
}

static void fmt_time(time_t t, char *out, size_t n)
{
	struct tm tm;

	if (t == 0) {
		snprintf(out, n, "-");
		return;
	}
	gmtime_r(&t, &tm);
	/* The seconds when there are any: 15:06:59 is not 15:06. */
	strftime(out, n, tm.tm_sec != 0 ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%dT%H:%MZ", &tm);
}

static int print_campaign(const struct store_campaign *c, void *arg)
{
	static const int widths[] = {20, 10, 16, 14, 18};
	const char *cols[6];
	char when[32];

	(void)arg;
	fmt_time(c->scheduled_at, when, sizeof(when));
	cols[0] = c->name;
	cols[1] = store_campaign_state_name(c->state);
	cols[2] = c->template_name;
	cols[3] = c->segment ? c->segment : c->list;
	cols[4] = when;
	cols[5] = c->author;
	cli_print_cols(stdout, cols, widths, 6);
	return 0;
}

static int campaign_ls(struct cli *cl, int argc, char **argv)
{
	static const int widths[] = {20, 10, 16, 14, 18};
	static const char *const head[] = {"NAME",     "STATE",	    "TEMPLATE",
					   "AUDIENCE", "SCHEDULED", "AUTHOR"};
	enum store_status s;
	char *err = NULL;

	(void)argv;
	if (argc != 1)
		return cli_usage(cl);
	cli_print_cols(stdout, head, widths, 6);
	s = store_campaign_list(cl->st, print_campaign, NULL, &err);
	return s == STORE_OK ? EX_OK : cli_fail_store(s, err);
}

static int print_approval(const struct store_approval *a, void *arg)
{
	(void)arg;
	printf("approved by %s at %s", a->approver, a->time);
	if (a->comment != NULL && a->comment[0] != '\0') {
		fputs(": ", stdout);
		cli_put_safe(stdout, a->comment);
	}
	putchar('\n');
	return 0;
}

/* A line of campaign show: the label in 10 columns, the value escaped. */
static void field(const char *label, const char *value)
{
	cli_print_field(stdout, 10, label, value);
}

/* The rejected: line of campaign show: who rejected it and when, when known, and why. */
static void rejected(struct store *st, const struct store_campaign *c)
{
	char *by = NULL, *at = NULL, *line = NULL;

	if (store_campaign_rejection(st, c->name, &by, &at, NULL) == STORE_OK &&
	    asprintf(&line, "by %s on %s: %s", by, at, c->comment) < 0)
		line = NULL;
	field("rejected:", line != NULL ? line : c->comment);
	free(line);
	free(by);
	free(at);
}

static int campaign_show(struct cli *cl, int argc, char **argv)
{
	struct store_campaign *c = NULL;
	enum store_status s;
	char *err = NULL, *seg = NULL, *expr = NULL, when[32], need[32];

	if (argc != 2)
		return cli_usage(cl);
	s = store_campaign_get(cl->st, argv[1], &c, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	fmt_time(c->scheduled_at, when, sizeof(when));
	snprintf(need, sizeof(need), "%d needed", c->approvals_needed);
	/* An address in the segment's expression is masked without pii. */
	if (c->segment_expr != NULL)
		expr = store_segment_mask(cl->st, c->segment_expr);
	if (c->segment != NULL && c->segment_expr == NULL)
		expr = strdup("no longer exists"); /* campaign check says what to do */
	if (asprintf(&seg, "%s%s%s%s", c->segment ? c->segment : "(whole list)", expr ? " (" : "",
		     expr ? expr : "", expr ? ")" : "") < 0)
		seg = NULL;
	free(expr);
	field("name:", c->name);
	field("state:", store_campaign_state_name(c->state));
	field("author:", c->author);
	if (c->editors != NULL && *c->editors != '\0')
		field("edited by:", c->editors);
	field("template:", c->template_name);
	field("subject:", c->subject);
	field("from:", c->from ? c->from : "(sender.from)");
	field("list:", c->list);
	field("segment:", seg);
	field("scheduled:", when);
	field("approvals:", need);
	free(seg);
	if (c->comment != NULL)
		rejected(cl->st, c);
	if (c->pause_reason != NULL && c->state == STORE_CAMPAIGN_FAILED)
		field("failed:", c->pause_reason);
	else if (c->pause_reason != NULL && c->state == STORE_CAMPAIGN_PAUSED)
		field("paused:", c->pause_reason);
	store_campaign_approvals(cl->st, c->id, print_approval, NULL, NULL);
	store_campaign_free(&c);
	return EX_OK;
}

/* Runs a one-argument state change; `what` is printed on success. */
static int simple(struct cli *cl, int argc, char **argv,
		  enum store_status (*fn)(struct store *, const char *, char **), const char *what)
{
	enum store_status s;
	char *err = NULL;

	if (argc != 2)
		return cli_usage(cl);
	s = fn(cl->st, argv[1], &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("campaign %s %s\n", argv[1], what);
	return EX_OK;
}

/* As simple, for a state change the send module checks first. */
static int simple_send(struct cli *cl, int argc, char **argv,
		       enum send_status (*fn)(struct store *, const char *, char **),
		       const char *what)
{
	enum send_status s;
	char *err = NULL;

	if (argc != 2)
		return cli_usage(cl);
	s = fn(cl->st, argv[1], &err);
	if (s != SEND_OK)
		return cli_fail_send(s, err);
	printf("campaign %s %s\n", argv[1], what);
	return EX_OK;
}

static int campaign_submit(struct cli *cl, int argc, char **argv)
{
	return simple_send(cl, argc, argv, send_campaign_submit, "submitted for review");
}

static int campaign_resume(struct cli *cl, int argc, char **argv)
{
	return simple_send(cl, argc, argv, send_campaign_resume, "resumed");
}

static int campaign_cancel(struct cli *cl, int argc, char **argv)
{
	return simple(cl, argc, argv, store_campaign_cancel, "cancelled");
}

static int campaign_pause(struct cli *cl, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	if (argc != 2)
		return cli_usage(cl);
	s = store_campaign_pause(cl->st, argv[1], NULL, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("campaign %s paused\n", argv[1]);
	return EX_OK;
}

/* --comment C, then NAME. */
static int comment_opt(struct cli *cl, int argc, char **argv, const char **comment)
{
	static const struct option opts[] = {{"comment", required_argument, NULL, 'c'},
					     {NULL, 0, NULL, 0}};
	int ch;

	*comment = NULL;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'c')
			return cli_usage(cl);
		*comment = optarg;
	}
	return optind == argc - 1 ? EX_OK : cli_usage(cl);
}

static int campaign_approve(struct cli *cl, int argc, char **argv)
{
	const char *comment;
	enum send_status s;
	char *err = NULL;
	int rc = comment_opt(cl, argc, argv, &comment);

	if (rc != EX_OK)
		return rc;
	s = send_campaign_approve(cl->st, argv[optind], comment, NULL, &err);
	if (s != SEND_OK)
		return cli_fail_send(s, err);
	printf("approved campaign %s with your signature\n", argv[optind]);
	return EX_OK;
}

static int campaign_reject(struct cli *cl, int argc, char **argv)
{
	const char *comment;
	enum store_status s;
	char *err = NULL;
	int rc = comment_opt(cl, argc, argv, &comment);

	if (rc != EX_OK)
		return rc;
	if (comment == NULL || *comment == '\0') {
		cli_error("a rejection needs --comment saying what to change");
		return EX_USAGE;
	}
	s = store_campaign_reject(cl->st, argv[optind], comment, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("rejected campaign %s\n", argv[optind]);
	return EX_OK;
}

/*
 * After a schedule or a send: true, having said so, when the campaign went
 * back to review because more approvals than the scheduler's are needed of
 * the schedule (approvals.required over 1; the last makes it due).
 */
static bool back_in_review(struct cli *cl, const char *name)
{
	struct store_campaign *c = NULL;
	bool back;

	if (store_campaign_get(cl->st, name, &c, NULL) != STORE_OK)
		return false;
	back = c->state == STORE_CAMPAIGN_IN_REVIEW;
	if (back)
		printf("campaign %s is in review again: the schedule is part of what is approved, "
		       "and it needs %d approvals of it, yours included (campaign show lists "
		       "them); the last one makes it due\n",
		       name, c->approvals_needed);
	store_campaign_free(&c);
	return back;
}

static int campaign_schedule(struct cli *cl, int argc, char **argv)
{
	static const struct option opts[] = {{"at", required_argument, NULL, 'a'},
					     {NULL, 0, NULL, 0}};
	const char *at = NULL;
	enum send_status s;
	time_t when = 0;
	char *err = NULL, shown[32], advice[300];
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'a')
			return cli_usage(cl);
		at = optarg;
	}
	if (optind != argc - 1 || at == NULL)
		return cli_usage(cl);
	if (cli_parse_time(at, &when) != 0) {
		cli_error("--at takes a time such as 2026-12-01T09:00+09:00");
		return EX_USAGE;
	}
	s = send_campaign_schedule(cl->st, argv[optind], when, NULL, &err);
	if (s != SEND_OK)
		return cli_fail_send(s, err);
	if (back_in_review(cl, argv[optind]))
		return EX_OK;
	fmt_time(when, shown, sizeof(shown));
	printf("campaign %s is scheduled for %s\n", argv[optind], shown);
	if (send_schedule_advice(cl->st, argv[optind], when, advice, sizeof(advice)))
		fprintf(stderr, "hato: note: %s\n", advice);
	return EX_OK;
}

static int campaign_send(struct cli *cl, int argc, char **argv)
{
	enum send_status s;
	char *err = NULL;

	if (argc != 2)
		return cli_usage(cl);
	s = send_campaign_schedule(cl->st, argv[1], 0, NULL, &err);
	if (s != SEND_OK)
		return cli_fail_send(s, err);
	if (back_in_review(cl, argv[1]))
		return EX_OK;
	printf("campaign %s will be sent now%s\n", argv[1],
	       send_worker_running(cl->st) ? ""
					   : "; no worker is running: start one with hato worker");
	return EX_OK;
}

const struct cli_command cli_cmds_campaign[] = {
    {"campaign", "add", STORE_PERM_CAMPAIGNS_EDIT, 0, campaign_add,
     "campaign add NAME --template T (--list L | --segment S) --subject S [--from F]",
     "create a draft campaign"},
    {"campaign", "edit", STORE_PERM_CAMPAIGNS_EDIT, 0, campaign_edit,
     "campaign edit NAME [--template T] [--list L] [--segment S] [--subject S] [--from F]",
     "change a campaign (it returns to draft)"},
    {"campaign", "copy", STORE_PERM_CAMPAIGNS_EDIT, 0, campaign_copy, "campaign copy NAME NEW",
     "copy a campaign into a new draft"},
    {"campaign", "ls", STORE_PERM_CAMPAIGNS_READ, 0, campaign_ls, "campaign ls", "list campaigns"},
    {"campaign", "show", STORE_PERM_CAMPAIGNS_READ, 0, campaign_show, "campaign show NAME",
     "show a campaign and its approvals"},
    {"campaign", "submit", STORE_PERM_CAMPAIGNS_EDIT, 0, campaign_submit, "campaign submit NAME",
     "submit a draft for review"},
    {"campaign", "approve", STORE_PERM_CAMPAIGNS_APPROVE, 0, campaign_approve,
     "campaign approve NAME [--comment C]", "approve, signed with your key"},
    {"campaign", "reject", STORE_PERM_CAMPAIGNS_APPROVE, 0, campaign_reject,
     "campaign reject NAME --comment C", "reject with a reason"},
    {"campaign", "schedule", STORE_PERM_CAMPAIGNS_SEND, 0, campaign_schedule,
     "campaign schedule NAME --at 2026-12-01T09:00+09:00", "schedule an approved campaign"},
    {"campaign", "send", STORE_PERM_CAMPAIGNS_SEND, 0, campaign_send, "campaign send NAME",
     "send an approved campaign now"},
    {"campaign", "pause", STORE_PERM_CAMPAIGNS_SEND, 0, campaign_pause, "campaign pause NAME",
     "pause sending"},
    {"campaign", "resume", STORE_PERM_CAMPAIGNS_SEND, 0, campaign_resume, "campaign resume NAME",
     "resume sending"},
    {"campaign", "cancel", STORE_PERM_CAMPAIGNS_SEND, 0, campaign_cancel, "campaign cancel NAME",
     "cancel a campaign"},
    {"campaign", "check", STORE_PERM_CAMPAIGNS_READ, 0, cmd_campaign_check, "campaign check NAME",
     "pre-send checks, recipient count and DKIM"},
    {"campaign", "preview", STORE_PERM_PII, 0, cmd_campaign_preview,
     "campaign preview NAME --to EMAIL", "print the message one subscriber would get"},
    {"campaign", "test", STORE_PERM_CAMPAIGNS_EDIT, 0, cmd_campaign_test,
     "campaign test NAME --to EMAIL", "send one test message now"},
    {"campaign", "status", STORE_PERM_CAMPAIGNS_READ, 0, cmd_campaign_status,
     "campaign status NAME [--watch]", "counts, rate, warm-up cap and recent errors"},
    {"campaign", "retry", STORE_PERM_CAMPAIGNS_SEND, 0, cmd_campaign_retry,
     "campaign retry NAME [--failed] [--deferred] [--uncertain]",
     "queue failed, deferred or uncertain recipients again"},
    {"worker", NULL, STORE_PERM_CAMPAIGNS_SEND, 0, cmd_worker, "worker [--once]",
     "send due campaigns until stopped (or, with --once, until nothing is left now)"},
    {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
