/*
 * tui/cmd_send.c: hato campaign check|preview|test|status|retry and hato worker.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "send/send.h"
#include "templates/templates.h"
#include "tui/cli.h"

static int load(struct cli *cl, const char *name, struct store_campaign **c)
{
	enum store_status s;
	char *err = NULL;

	s = store_campaign_get(cl->st, name, c, &err);
	return s == STORE_OK ? EX_OK : cli_fail_store(s, err);
}

int cmd_campaign_check(struct cli *cl, int argc, char **argv)
{
	struct store_campaign *c = NULL;
	struct send_campaign_checks k;
	enum send_status s;
	char *err = NULL;
	int rc;

	if (argc != 2)
		return cli_usage(cl);
	rc = load(cl, argv[1], &c);
	if (rc != EX_OK)
		return rc;
	s = send_check_campaign(cl->st, c, &k, &err);
	if (s != SEND_OK) {
		store_campaign_free(&c);
		return cli_fail_send(s, err);
	}
	cli_print_findings(stdout, k.findings);
	if (k.audience_code != NULL)
		printf("error   audience       %-16s %s\n", k.audience_code, k.audience_error);
	printf("recipients: %lld (list %s%s%s, after unsubscribes and suppressions)\n",
	       (long long)(k.recipients > 0 ? k.recipients : 0), c->list,
	       c->segment ? ", segment " : "", c->segment ? c->segment : "");
	printf("%zu error%s, %zu warning%s\n", k.errors, k.errors == 1 ? "" : "s", k.warnings,
	       k.warnings == 1 ? "" : "s");
	rc = k.errors > 0 ? EX_DATAERR : EX_OK;
	send_campaign_checks_clear(&k);
	store_campaign_free(&c);
	return rc;
}

static int to_opt(struct cli *cl, int argc, char **argv, const char **to)
{
	static const struct option opts[] = {{"to", required_argument, NULL, 't'},
					     {NULL, 0, NULL, 0}};
	int ch;

	*to = NULL;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 't')
			return cli_usage(cl);
		*to = optarg;
	}
	return optind == argc - 1 && *to != NULL ? EX_OK : cli_usage(cl);
}

int cmd_campaign_preview(struct cli *cl, int argc, char **argv)
{
	struct store_campaign *c = NULL;
	struct send_composer *comp = NULL;
	struct send_recipient_buf b = {0};
	enum send_status s;
	const char *to;
	char *err = NULL;
	int rc = to_opt(cl, argc, argv, &to);

	if (rc == EX_OK)
		rc = load(cl, argv[optind], &c);
	if (rc != EX_OK)
		return rc;
	s = send_recipient_load(cl->st, to, c->list, &b, &err);
	if (s == SEND_OK)
		s = send_composer_for_campaign(cl->st, c, &comp, &err);
	rc = s == SEND_OK ? cli_print_message(comp, &b.r) : cli_fail_send(s, err);
	send_composer_free(&comp);
	send_recipient_clear(&b);
	store_campaign_free(&c);
	return rc;
}

int cmd_campaign_test(struct cli *cl, int argc, char **argv)
{
	enum send_status s;
	const char *to;
	char *err = NULL, *reply = NULL;
	int rc = to_opt(cl, argc, argv, &to);

	if (rc != EX_OK)
		return rc;
	s = send_campaign_test(cl->st, argv[optind], to, &reply, &err);
	if (s != SEND_OK)
		return cli_fail_send(s, err);
	printf("test message (Subject \"[TEST] ...\", X-Hato-Test: yes) sent to %s: %s\n", to,
	       reply);
	free(reply);
	return EX_OK;
}

static int print_error(const struct store_rcpt_error *e, void *arg)
{
	(void)arg;
	/* The reply is the server's words: anything may be in it. */
	const char *cause = send_reply_cause(e->reply);

	printf("  %s  %-9s %s  ", e->time, e->state, e->email);
	cli_put_safe(stdout, e->reply);
	putchar('\n');
	if (cause != NULL)
		printf("      cause: %s\n", cause);
	return 0;
}

static int status_once(struct cli *cl, const char *name)
{
	struct store_campaign *c = NULL;
	struct store_queue_stats qs;
	struct send_warmup w;
	enum store_status s;
	char *err = NULL, rate[32];
	int rc = load(cl, name, &c), i;

	if (rc != EX_OK)
		return rc;
	s = store_queue_stats(cl->st, c->id, &qs, &err);
	if (s != STORE_OK) {
		store_campaign_free(&c);
		return cli_fail_store(s, err);
	}
	printf("campaign %s: %s\n", c->name, store_campaign_state_name(c->state));
	for (i = 0; i < STORE_RCPT_NSTATES; i++)
		if (i != STORE_RCPT_INFLIGHT || qs.count[i] > 0)
			printf("%s%s %lld", i ? ", " : "  ",
			       store_rcpt_state_name((enum store_rcpt_state)i),
			       (long long)qs.count[i]);
	printf(" (of %lld)\n", (long long)qs.total);
	if (qs.bounced > 0)
		printf(
		    "  bounced: %lld of the failed %s marked bounced (a 5.1.x reply: the address "
		    "does not exist) and no campaign mails them again\n",
		    (long long)qs.bounced, qs.bounced == 1 ? "is" : "are");
	if (qs.complaints > 0)
		printf(
		    "  complaints: %lld (%.2f%% of the sent; mailbox providers want under 0.3%%, "
		    "0.1%% as a target)\n",
		    (long long)qs.complaints,
		    qs.count[STORE_RCPT_SENT] > 0
			? 100.0 * (double)qs.complaints / (double)qs.count[STORE_RCPT_SENT]
			: 100.0);
	printf("  rate: %lld message%s in the last minute (%s)\n", (long long)qs.sent_last_minute,
	       qs.sent_last_minute == 1 ? "" : "s",
	       send_rate_text(qs.sent_last_minute, rate, sizeof(rate)));
	send_warmup_status(cl->st, time(NULL), &w);
	if (w.active && w.next_cap >= 0)
		printf("  warm-up: day %d of the %s: cap %ld today, %lld sent; %ld tomorrow\n",
		       w.day, w.plan, w.cap, (long long)w.sent_today, w.next_cap);
	else if (w.active)
		printf("  warm-up: day %d of the %s: cap %ld today, %lld sent; no cap from "
		       "tomorrow (the table ends)\n",
		       w.day, w.plan, w.cap, (long long)w.sent_today);
	else
		printf("  warm-up: no cap (set warmup.start to ramp up a new domain or IP)\n");
	if (w.active && w.restarted)
		printf("  the warm-up started again after 30 days or more without a message sent: "
		       "mailbox providers see the sender as new\n");
	if (c->pause_reason != NULL &&
	    (c->state == STORE_CAMPAIGN_PAUSED || c->state == STORE_CAMPAIGN_FAILED)) {
		printf("  %s: ", c->state == STORE_CAMPAIGN_PAUSED ? "paused" : "failed");
		cli_put_safe(stdout, c->pause_reason);
		putchar('\n');
	}
	if (qs.count[STORE_RCPT_UNCERTAIN] > 0)
		printf("  %lld uncertain: in flight when a worker stopped or a connection dropped, "
		       "they may have arrived; resend with hato campaign retry %s --uncertain\n",
		       (long long)qs.count[STORE_RCPT_UNCERTAIN], c->name);
	printf("  recent errors:\n");
	store_queue_errors(cl->st, c->id, 5, print_error, NULL, NULL);
	store_campaign_free(&c);
	return EX_OK;
}

int cmd_campaign_status(struct cli *cl, int argc, char **argv)
{
	int watch = argc == 3 && strcmp(argv[2], "--watch") == 0;

	if (argc != 2 && !watch)
		return cli_usage(cl);
	if (!watch)
		return status_once(cl, argv[1]);
	for (;;) {
		int rc;
		printf("\033[H\033[2J");
		rc = status_once(cl, argv[1]);
		fflush(stdout);
		if (rc != EX_OK)
			return rc;
		sleep(1);
	}
}

int cmd_campaign_retry(struct cli *cl, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"failed", no_argument, NULL, 'f'},
	    {"deferred", no_argument, NULL, 'd'},
	    {"uncertain", no_argument, NULL, 'u'},
	    {NULL, 0, NULL, 0},
	};
	enum store_status s;
	unsigned states = 0;
	int64_t n = 0;
	char *err = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'f')
			states |= 1u << STORE_RCPT_FAILED;
		else if (ch == 'd')
			states |= 1u << STORE_RCPT_DEFERRED;
		else if (ch == 'u')
			states |= 1u << STORE_RCPT_UNCERTAIN;
		else
			return cli_usage(cl);
	}
	if (optind != argc - 1)
		return cli_usage(cl);
	if (states == 0)
		states = (1u << STORE_RCPT_FAILED) | (1u << STORE_RCPT_DEFERRED);
	s = store_queue_retry(cl->st, argv[optind], states, &n, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("queued %lld recipient%s of %s again\n", (long long)n, n == 1 ? "" : "s",
	       argv[optind]);
	return EX_OK;
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int cmd_worker(struct cli *cl, int argc, char **argv)
{
	struct send_worker_opts o = {0};
	struct sigaction sa;
	enum send_status s;
	char *err = NULL;

	if (argc == 2 && strcmp(argv[1], "--once") == 0)
		o.once = true;
	else if (argc != 1)
		return cli_usage(cl);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	o.stop = &stop_flag;
	o.log = stderr;
	s = send_worker_run(cl->st, &o, &err);
	return s == SEND_OK ? EX_OK : cli_fail_send(s, err);
}
