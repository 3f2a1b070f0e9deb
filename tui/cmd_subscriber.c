/*
 * tui/cmd_subscriber.c: hato list ..., hato subscriber ... and hato suppress ...
 *
 * Everything printed from the store passes through cli_put_safe, so that text
 * someone imported can never drive the terminal with escape sequences.
 * Addresses are masked for users without the pii permission.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/cli.h"

static void day(time_t t, char out[21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * An address or "@domain" as the store keeps it (the domain lower-cased, an
 * IDN as A-labels), masked without pii: what a command then says it did.
 * Allocated; NULL when out of memory.
 */
static char *shown(const struct cli *c, const char *what)
{
	char addr[STORE_ADDRESS_MAX + 1], *tmp;
	bool domain = what[0] == '@';
	enum store_status s;

	/* Whole: a Unicode domain typed may be longer than the address it stands for. */
	if (asprintf(&tmp, "%s%s", domain ? "x" : "", what) < 0)
		return NULL;
	s = store_address_normalise(tmp, strlen(tmp), addr, NULL);
	free(tmp);
	if (s != STORE_OK)
		return store_mask_address(c->st, what);
	return domain ? strdup(store_address_domain(addr) - 1) : store_mask_address(c->st, addr);
}

/* ---- list --------------------------------------------------------------- */

static int list_add(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"description", required_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	const char *name = NULL, *desc = NULL;
	enum store_status s;
	char *err = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'n')
			name = optarg;
		else if (ch == 'd')
			desc = optarg;
		else
			return cli_usage(c);
	}
	if (optind != argc - 1)
		return cli_usage(c);
	s = store_list_add(c->st, argv[optind], name, desc, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("added list %s\n", argv[optind]);
	return EX_OK;
}

static int print_list(const struct store_list_info *l, void *arg)
{
	(void)arg;
	printf("%-20s %10lld %10lld  ", l->id, (long long)l->active, (long long)l->members);
	cli_put_safe(stdout, l->name);
	if (l->description[0] != '\0') {
		fputs(" - ", stdout);
		cli_put_safe(stdout, l->description);
	}
	fputc('\n', stdout);
	return 0;
}

static int list_ls(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	(void)argv;
	if (argc != 1)
		return cli_usage(c);
	printf("%-20s %10s %10s  %s\n", "LIST", "ACTIVE", "MEMBERS", "NAME");
	s = store_list_ls(c->st, true, print_list, NULL, &err);
	return s == STORE_OK ? EX_OK : cli_fail_store(s, err);
}

static int list_rm(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	if (argc != 2)
		return cli_usage(c);
	s = store_list_rm(c->st, argv[1], &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("removed list %s (its members stay on file)\n", argv[1]);
	return EX_OK;
}

/* ---- subscriber -------------------------------------------------------- */

static int sub_add(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"list", required_argument, NULL, 'l'},
	    {"name", required_argument, NULL, 'n'},
	    {"attr", required_argument, NULL, 'a'},
	    {"consent-source", required_argument, NULL, 's'},
	    {"consent-text", required_argument, NULL, 't'},
	    {"consent-ip", required_argument, NULL, 'i'},
	    {"consent-at", required_argument, NULL, 'w'},
	    {"consent-version", required_argument, NULL, 'v'},
	    {"consent-confirmed", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	struct store_consent consent = {.method = "manual"};
	struct store_attr *attrs = calloc((size_t)argc, sizeof(*attrs));
	const char *list = NULL, *name = NULL;
	enum store_status s;
	size_t nattrs = 0;
	char *err = NULL, *masked;
	int ch, idx = 0, rc = EX_OK;

	if (attrs == NULL)
		return EX_OSERR;
	while ((ch = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		/* Where each option's value goes: given once, or refused. */
		const char **to = ch == 'l'   ? &list
				  : ch == 'n' ? &name
				  : ch == 's' ? &consent.source
				  : ch == 't' ? &consent.text
				  : ch == 'i' ? &consent.ip
				  : ch == 'w' ? &consent.at
				  : ch == 'v' ? &consent.version
				  : ch == 'c' ? &consent.confirmed
					      : NULL;
		char *eq;
		if (to != NULL && *to != NULL) {
			cli_error("--%s is given twice", opts[idx].name);
			rc = EX_USAGE;
			goto done;
		}
		if (to != NULL) {
			*to = optarg;
			continue;
		}
		switch (ch) {
		case 'a':
			eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg) {
				cli_error("--attr takes KEY=VALUE");
				rc = EX_USAGE;
				goto done;
			}
			*eq = '\0';
			attrs[nattrs].key = optarg;
			attrs[nattrs++].value = eq + 1;
			break;
		default:
			rc = cli_usage(c);
			goto done;
		}
	}
	if (optind != argc - 1 || list == NULL) {
		rc = cli_usage(c);
		goto done;
	}
	s = store_subscriber_add(c->st, list, argv[optind], name, attrs, nattrs, &consent, &err);
	if (s != STORE_OK) {
		rc = cli_fail_store(s, err);
		goto done;
	}
	masked = shown(c, argv[optind]);
	printf("added %s to %s\n", masked ? masked : "***", list);
	free(masked);
done:
	free(attrs);
	return rc;
}

/* subscriber unsubscribe --link LINK: what serves unsubscribe.url runs it. */
static int unsubscribe_link(struct cli *c, const char *link)
{
	enum send_status s;
	char *err = NULL, list[65];
	bool already;

	s = send_unsubscribe_link(c->st, link, "by the unsubscribe link of a message", list,
				  &already, &err);
	if (s != SEND_OK)
		return cli_fail_send(s, err);
	printf(already ? "nothing to do: the person the link names is already unsubscribed from "
			 "%s\n"
		       : "unsubscribed the person the link names from %s\n",
	       list);
	return EX_OK;
}

static int sub_unsubscribe(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"list", required_argument, NULL, 'l'},
	    {"link", required_argument, NULL, 'k'},
	    {NULL, 0, NULL, 0},
	};
	const char *list = NULL, *link = NULL;
	enum store_status s;
	char *err = NULL, *masked;
	bool already;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'l')
			list = optarg;
		else if (ch == 'k')
			link = optarg;
		else
			return cli_usage(c);
	}
	/* The link names the person and the list. */
	if (link != NULL)
		return optind == argc && list == NULL ? unsubscribe_link(c, link) : cli_usage(c);
	if (optind != argc - 1)
		return cli_usage(c);
	s = store_subscriber_unsubscribe(c->st, argv[optind], list, &already, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	masked = shown(c, argv[optind]);
	if (already)
		printf("%s is already unsubscribed from %s\n", masked ? masked : "***",
		       list ? list : "every list");
	else
		printf("unsubscribed %s from %s\n", masked ? masked : "***",
		       list ? list : "every list");
	free(masked);
	return EX_OK;
}

static void row(const char *k, const char *v)
{
	cli_print_field(stdout, 12, k, v);
}

static int sub_show(struct cli *c, int argc, char **argv)
{
	struct store_subscriber *p = NULL;
	enum store_status s;
	char *err = NULL, *masked, t[21];
	size_t i;

	if (argc != 2)
		return cli_usage(c);
	s = store_subscriber_get(c->st, argv[1], &p, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	masked = store_mask_address(c->st, p->email);
	row("email", masked ? masked : "***");
	free(masked);
	row("name", p->name);
	row("status", p->suppressed ? (strcmp(p->status, "active") == 0 ? "suppressed" : p->status)
				    : p->status);
	if (p->suppressed) {
		char why[400];

		store_subscriber_why_suppressed(p, why, sizeof(why));
		row("suppression", why);
	}
	day(p->created, t);
	row("created", t);
	day(p->updated, t);
	row("updated", t);
	printf("attributes%s\n", p->nattrs ? "" : "   (none)");
	for (i = 0; i < p->nattrs; i++) {
		fputs("  ", stdout);
		cli_put_safe(stdout, p->attrs[i].key);
		fputs(" = ", stdout);
		cli_put_safe(stdout, p->attrs[i].value);
		fputc('\n', stdout);
	}
	printf("lists%s\n", p->nlists ? "" : "        (none)");
	for (i = 0; i < p->nlists; i++) {
		const struct store_membership *m = &p->lists[i];
		printf("  %-16s %-13s consent: ", m->list, m->status);
		cli_put_safe(stdout, m->consent_source);
		printf(", %s, %s", m->consent_at, m->consent_method);
		if (m->consent_ip[0] != '\0')
			printf(", from %s", m->consent_ip);
		if (m->consent_text[0] != '\0') {
			fputs(", text \"", stdout);
			cli_put_safe(stdout, m->consent_text);
			fputc('"', stdout);
		}
		if (m->consent_version[0] != '\0') {
			fputs(", version \"", stdout);
			cli_put_safe(stdout, m->consent_version);
			fputc('"', stdout);
		}
		if (m->consent_confirmed[0] != '\0')
			printf(", confirmed %s", m->consent_confirmed);
		fputc('\n', stdout);
	}
	printf("history%s\n", p->nevents ? "" : "      (none)");
	for (i = 0; i < p->nevents; i++) {
		printf("  %s %-14s %s ", p->events[i].time, p->events[i].event, p->events[i].list);
		cli_put_safe(stdout, p->events[i].details);
		fputc('\n', stdout);
	}
	store_subscriber_free(&p);
	return EX_OK;
}

static int sub_data(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	if (argc != 2)
		return cli_usage(c);
	s = store_subscriber_data(c->st, argv[1], stdout, &err);
	return s == STORE_OK ? EX_OK : cli_fail_store(s, err);
}

static int sub_erase(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL, until[21];
	time_t held = 0;

	if (argc != 2)
		return cli_usage(c);
	s = store_subscriber_erase(c->st, argv[1], &held, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("erased; only a keyed hash stays on the suppression list, so the address is "
	       "never imported again\n");
	if (held != 0) {
		day(held, until);
		printf("the consent records are kept until %s, a month after the last mail, as "
		       "the Act on Specified Electronic Mail requires; then they are deleted\n",
		       until);
	}
	return EX_OK;
}

/* ---- suppress ----------------------------------------------------------- */

static int supp_add(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"reason", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	const char *reason = "manual";
	enum store_status s;
	char *err = NULL, *already = NULL, *what;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'r')
			return cli_usage(c);
		reason = optarg;
	}
	if (optind != argc - 1)
		return cli_usage(c);
	s = store_suppress_put(c->st, argv[optind], reason, &already, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	if (already != NULL) {
		cli_put_safe(stdout, already);
		printf("; left as it was\n");
		free(already);
		return EX_OK;
	}
	what = shown(c, argv[optind]);
	fputs("suppressed ", stdout);
	cli_put_safe(stdout, what ? what : "***");
	fputc('\n', stdout);
	free(what);
	return EX_OK;
}

static int supp_rm(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL, *what;

	if (argc != 2)
		return cli_usage(c);
	s = store_suppress_rm(c->st, argv[1], &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	what = shown(c, argv[1]);
	fputs("removed ", stdout);
	cli_put_safe(stdout, what ? what : "***");
	printf(" from the suppression list\n");
	free(what);
	return EX_OK;
}

static int print_supp(const struct store_suppression *x, void *arg)
{
	(void)arg;
	printf("%-8s %-34s %-20s %s ", x->kind,
	       x->address	   ? x->address
	       : x->kind[0] == 'd' ? x->value
				   : "(address not on file)",
	       x->created, x->by);
	cli_put_safe(stdout, x->reason);
	if (x->kind[0] == 'a')
		printf(" [%s]", x->value);
	fputc('\n', stdout);
	return 0;
}

static int supp_ls(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	(void)argv;
	if (argc != 1)
		return cli_usage(c);
	printf("%-8s %-34s %-20s %s\n", "KIND", "ADDRESS OR DOMAIN", "SINCE", "BY REASON [HASH]");
	s = store_suppress_ls(c->st, print_supp, NULL, &err);
	return s == STORE_OK ? EX_OK : cli_fail_store(s, err);
}

const struct cli_command cli_cmds_subscriber[] = {
    {"list", "add", STORE_PERM_LISTS, 0, list_add, "list add ID [--name N] [--description D]",
     "create a list"},
    {"list", "ls", STORE_PERM_SUBSCRIBERS_READ, 0, list_ls, "list ls",
     "show the lists with their active and total members"},
    {"list", "rm", STORE_PERM_LISTS, 0, list_rm, "list rm ID",
     "remove a list, its memberships and segments"},
    {"subscriber", "show", STORE_PERM_PII, 0, sub_show, "subscriber show EMAIL",
     "show a person: attributes, lists, consent, history"},
    {"subscriber", "add", STORE_PERM_SUBSCRIBERS_WRITE, 0, sub_add,
     "subscriber add EMAIL --list L [--name N] [--attr k=v ...] [--consent-source S] "
     "[--consent-text T] [--consent-version V] [--consent-ip IP] [--consent-at TIME] "
     "[--consent-confirmed TIME]",
     "add a person to a list with a consent record"},
    {"subscriber", "unsubscribe", STORE_PERM_SUBSCRIBERS_WRITE, 0, sub_unsubscribe,
     "subscriber unsubscribe EMAIL [--list L] | --link TOKEN|URL",
     "unsubscribe from one list, or from all of them; --link: the person and list the "
     "unsubscribe link of a message names"},
    {"subscriber", "data", STORE_PERM_PII, 0, sub_data, "subscriber data EMAIL",
     "print everything held about a person as JSON (GDPR Art. 15/20)"},
    {"subscriber", "erase", STORE_PERM_SUBSCRIBERS_ERASE, 0, sub_erase, "subscriber erase EMAIL",
     "erase a person's data, keeping only a keyed hash (Art. 17)"},
    {"suppress", "add", STORE_PERM_SUBSCRIBERS_WRITE, 0, supp_add,
     "suppress add EMAIL|@DOMAIN [--reason R]", "never mail an address or domain"},
    {"suppress", "rm", STORE_PERM_SUBSCRIBERS_WRITE, 0, supp_rm, "suppress rm EMAIL|@DOMAIN",
     "take an address or domain off the suppression list"},
    {"suppress", "ls", STORE_PERM_SUBSCRIBERS_READ, 0, supp_ls, "suppress ls",
     "show the suppression list"},
    {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
