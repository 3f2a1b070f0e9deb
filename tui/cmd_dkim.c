/*
 * tui/cmd_dkim.c: hato dkim ... and hato domain check.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send/send.h"
#include "tui/cli.h"

static int print_record(const char *selector, const char *domain, const char *txt)
{
	enum send_status s;
	char *name = NULL, *value = NULL, *err = NULL;

	s = send_dkim_dns_record(selector, domain, txt, &name, &value, &err);
	if (s != SEND_OK)
		return cli_fail_send(s, err);
	printf("%s IN TXT ( %s )\n", name, value);
	free(name);
	free(value);
	return EX_OK;
}

static int dkim_keygen(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"alg", required_argument, NULL, 'a'},
	    {"bits", required_argument, NULL, 'b'},
	    {NULL, 0, NULL, 0},
	};
	enum send_dkim_alg alg = SEND_DKIM_RSA_SHA256;
	struct store_dkim_key k = {0};
	enum send_status s;
	enum store_status ss;
	char *pem = NULL, *txt = NULL, *err = NULL, *end = NULL;
	unsigned long bits = 0;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'a' && send_dkim_alg_parse(optarg, &alg, &err) == SEND_OK)
			continue;
		if (ch == 'b') {
			bits = strtoul(optarg, &end, 10);
			if (*optarg != '\0' && *end == '\0')
				continue;
		}
		free(err);
		return cli_usage(c);
	}
	if (optind != argc - 2)
		return cli_usage(c);
	k.domain = argv[optind];
	k.selector = argv[optind + 1];
	s = send_name_check("domain", k.domain, &err);
	if (s == SEND_OK)
		s = send_name_check("selector", k.selector, &err);
	if (s == SEND_OK)
		s = send_dkim_keygen(alg, (unsigned)bits, &pem, &txt, &err);
	if (s != SEND_OK)
		return cli_fail_send(s, err);
	k.alg = alg == SEND_DKIM_ED25519_SHA256 ? "ed25519" : "rsa";
	k.private_key = pem;
	k.public_txt = txt;
	ss = store_dkim_add(c->st, &k, &err);
	send_secret_free(&pem);
	if (ss != STORE_OK) {
		free(txt);
		return cli_fail_store(ss, err);
	}
	printf("stored an %s key for %s; publish this record:\n",
	       strcmp(k.alg, "ed25519") == 0 ? "Ed25519" : "RSA", k.domain);
	rc = print_record(k.selector, k.domain, txt);
	free(txt);
	return rc;
}

static int print_key(const struct store_dkim_key *k, void *arg)
{
	char when[32];
	struct tm tm;

	(void)arg;
	gmtime_r(&k->created, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d", &tm);
	printf("%-24s %-12s %-8s %s\n", k->domain, k->selector, k->alg, when);
	print_record(k->selector, k->domain, k->public_txt);
	return 0;
}

static int dkim_ls(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	(void)argv;
	if (argc != 1)
		return cli_usage(c);
	s = store_dkim_list(c->st, NULL, false, print_key, NULL, &err);
	return s == STORE_OK ? EX_OK : cli_fail_store(s, err);
}

static int dkim_rm(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	if (argc != 3)
		return cli_usage(c);
	s = store_dkim_rm(c->st, argv[1], argv[2], &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("removed the DKIM key %s._domainkey.%s\n", argv[2], argv[1]);
	return EX_OK;
}

static int domain_check(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dns", required_argument, NULL, 'd'},
	    {"ip", required_argument, NULL, 'i'},
	    {NULL, 0, NULL, 0},
	};
	struct send_domain_report *rep = NULL;
	const char *dns = NULL, *ip = NULL;
	enum send_status s;
	char *err = NULL, *text = NULL;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'd')
			dns = optarg;
		else if (ch == 'i')
			ip = optarg;
		else
			return cli_usage(c);
	}
	if (optind != argc - 1)
		return cli_usage(c);
	s = send_domain_check_held(c->st, argv[optind], dns, ip, &rep, &err);
	if (s == SEND_OK)
		s = send_domain_report_format(rep, &text, &err);
	if (s == SEND_OK) {
		fputs(text, stdout);
		rc = send_domain_report_ok(rep) ? EX_OK : EX_DATAERR;
	} else {
		rc = cli_fail_send(s, err);
	}
	free(text);
	send_domain_report_free(&rep);
	return rc;
}

const struct cli_command cli_cmds_dkim[] = {
    {"dkim", "keygen", STORE_PERM_KEYS, 0, dkim_keygen,
     "dkim keygen DOMAIN SELECTOR [--alg rsa|ed25519] [--bits 2048]",
     "make a DKIM key and print the DNS record to publish"},
    {"dkim", "ls", STORE_PERM_CAMPAIGNS_READ, 0, dkim_ls, "dkim ls",
     "list DKIM keys with their DNS records"},
    {"dkim", "rm", STORE_PERM_KEYS, 0, dkim_rm, "dkim rm DOMAIN SELECTOR", "remove a DKIM key"},
    {"domain", "check", STORE_PERM_REPORTS, 0, domain_check,
     "domain check DOMAIN [--dns HOST:PORT] [--ip SENDING_IP]",
     "check SPF, DKIM, DMARC and MX in DNS"},
    {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
