/*
 * tui/cmd_admin.c: hato init, key, audit and config.
 */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tui/cli.h"

/*
 * A keyslot file left without its store: says so and returns EX_DATAERR,
 * before anyone types a password (store_init would call it "a store").
 */
static int stale_keyslot(const char *path)
{
	char keys[4096];

	if (snprintf(keys, sizeof(keys), "%s.keys", path) >= (int)sizeof(keys) ||
	    access(path, F_OK) == 0 || access(keys, F_OK) != 0)
		return EX_OK;
	cli_error("%s is a keyslot file without its store %s: move it away, or put the store "
		  "back, before hato init",
		  keys, path);
	return EX_DATAERR;
}

static int init(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"admin", required_argument, NULL, 'a'},
	    {"kdf", required_argument, NULL, 'k'},
	    {NULL, 0, NULL, 0},
	};
	enum store_kdf kdf = STORE_KDF_MODERATE;
	enum store_status s;
	const char *admin = NULL;
	char *path = NULL, *err = NULL, *pw;
	int ch, rc = EX_DATAERR;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'a')
			admin = optarg;
		else if (ch == 'k' && store_kdf_parse(optarg, &kdf) == STORE_OK)
			continue;
		else
			return cli_usage(c);
	}
	if (admin == NULL || optind != argc)
		return cli_usage(c);
	s = store_name_check("user", admin, &err);
	if (s == STORE_OK)
		s = store_path(c->store_path, &path, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	if (stale_keyslot(path) != EX_OK) {
		free(path);
		return EX_DATAERR;
	}
	pw = cli_password_read(c->password_file, NULL, "Admin password: ", 1, &rc);
	if (pw == NULL) {
		free(path);
		return rc;
	}
	s = store_init(path, admin, pw, kdf, &err);
	cli_password_free(&pw);
	if (s == STORE_OK)
		printf("created the store %s with admin %s\n", path, admin);
	free(path);
	return s == STORE_OK ? EX_OK : cli_fail_store(s, err);
}

static int key_rotate(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;
	size_t dropped = 0;

	(void)argv;
	if (argc != 1)
		return cli_usage(c);
	s = store_key_rotate(c->st, &dropped, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("rotated the data key; every active user's keyslot was rewrapped\n");
	if (dropped > 0)
		printf("dropped %zu keyslot%s of no active user, or not the key the store recorded "
		       "for the user: look into how the keyslot file came to hold %s\n",
		       dropped, dropped == 1 ? "" : "s", dropped == 1 ? "it" : "them");
	return EX_OK;
}

/*
 * ID TIME USER (OS_USER) ACTION OBJECT OUTCOME DETAILS, tab-separated, each
 * field escaped; a record with no OS user (a pruning's anchor) shows none.
 */
static int print_audit(const struct store_audit_record *r, void *arg)
{
	const char *const rest[] = {r->action, r->object, r->outcome, r->details};
	size_t i;

	(void)arg;
	printf("%lld\t", (long long)r->id);
	cli_put_safe(stdout, r->time);
	fputc('\t', stdout);
	cli_put_safe(stdout, r->user);
	if (r->os_user[0] != '\0') {
		fputs(" (", stdout);
		cli_put_safe(stdout, r->os_user);
		fputc(')', stdout);
	}
	for (i = 0; i < sizeof(rest) / sizeof(rest[0]); i++) {
		fputc('\t', stdout);
		cli_put_safe(stdout, rest[i]);
	}
	fputc('\n', stdout);
	return 0;
}

static int audit_log(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"since", required_argument, NULL, 's'},
	    {"user", required_argument, NULL, 'u'},
	    {"action", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	struct store_audit_filter f = {0};
	enum store_status s;
	char *err = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (cli_parse_day_or_time(optarg, &f.since) != 0) {
				cli_error("--since takes " CLI_SINCE_FORMS
					  " (with Z or +HH:MM for the zone; without one it is "
					  "local time)");
				return EX_USAGE;
			}
			break;
		case 'u':
			f.user = optarg;
			break;
		case 'a':
			f.action = optarg;
			break;
		default:
			return cli_usage(c);
		}
	}
	if (optind != argc)
		return cli_usage(c);
	s = store_audit_log(c->st, &f, print_audit, NULL, &err);
	return s == STORE_OK ? EX_OK : cli_fail_store(s, err);
}

/* Reads a signed head (audit sign) from path: EX_OK, or the exit code after saying why. */
static int read_head(const char *path, struct store_audit_head *h)
{
	char buf[1024], *err = NULL;
	FILE *f = fopen(path, "rb");
	struct stat sb;
	size_t n;

	if (f == NULL || (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode))) {
		cli_error("%s: %s", path, f == NULL ? strerror(errno) : "a folder, not a file");
		if (f != NULL)
			fclose(f);
		return EX_NOINPUT;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n == sizeof(buf)) {
		cli_error("%s: not a signed head: it is longer than one", path);
		return EX_DATAERR;
	}
	if (store_audit_head_parse(buf, n, h, &err) != STORE_OK) {
		cli_error("%s: %s", path, err);
		free(err);
		return EX_DATAERR;
	}
	return EX_OK;
}

static int audit_verify(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {{"head", required_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct store_audit_head h;
	struct store_audit_prune p = {0}, last = {0};
	enum store_status s;
	int64_t bad = 0, n = 0;
	const char *head = NULL;
	char *err = NULL;
	bool other_key = false;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'h')
			return cli_usage(c);
		head = optarg;
	}
	if (optind != argc)
		return cli_usage(c);
	/* A head that is not one is refused before the trail is read. */
	if (head != NULL && (rc = read_head(head, &h)) != EX_OK)
		return rc;
	s = store_audit_verify(c->st, &bad, &n, &err);
	if (s == STORE_OK)
		s = store_audit_pruned(c->st, &last, &err);
	/* p: the pruning that removed the head's record, when one did. */
	if (s == STORE_OK && head != NULL)
		s = store_audit_head_check(c->st, &h, &other_key, &p, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("the audit trail is whole: %lld record%s\n", (long long)n, n == 1 ? "" : "s");
	if (last.record != 0)
		printf("the records up to %lld were removed by the retention of %d days (the last "
		       "pruning, on %s, removed %lld); the chain goes on from record %lld's hash, "
		       "which is kept\n",
		       (long long)last.anchor, last.days, last.time, (long long)last.removed,
		       (long long)last.anchor);
	if (head != NULL && h.record < p.anchor)
		printf("note: record %lld, which %s signed on %s, was removed by the retention of "
		       "%d days (the pruning on %s removed what was written before %s); the "
		       "remaining chain verifies, and a head signed since checks it\n",
		       (long long)h.record, h.signer, h.time, p.days, p.time, p.before);
	else if (head != NULL)
		printf("it holds the head %s signed on %s: record %lld, unchanged%s\n", h.signer,
		       h.time, (long long)h.record,
		       h.record == p.anchor ? " (the retention removed all but its hash)" : "");
	if (head != NULL && other_key)
		printf("note: the head's key is not %s's key in this store now (an admin's reset "
		       "of their password makes a new one): compare it with the key you keep\n",
		       h.signer);
	return EX_OK;
}

static int audit_sign(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL, *text = NULL;

	(void)argv;
	if (argc != 1)
		return cli_usage(c);
	s = store_audit_head_sign(c->st, &text, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	fputs(text, stdout);
	free(text);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}

static int config_set(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL, *value = NULL, prompt[96];
	bool unset;

	if (argc != 3)
		return cli_usage(c);
	if (strcmp(argv[2], "-") == 0) {
		/* An unknown key is refused below, before anyone types a value. */
		if (store_config_known(argv[1])) {
			snprintf(prompt, sizeof(prompt), "Value of %.64s: ", argv[1]);
			value = cli_value_read(prompt);
			if (value == NULL)
				return EX_DATAERR;
		}
	} else if (store_config_is_secret(argv[1])) {
		cli_error("give secrets on stdin, not on the command line: "
			  "hato config set %s - < FILE",
			  argv[1]);
		return EX_USAGE;
	}
	s = store_config_set(c->st, argv[1], value ? value : argv[2], &err);
	unset = (value ? value : argv[2])[0] == '\0';
	cli_password_free(&value);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf(unset ? "%s unset\n" : "%s set\n", argv[1]);
	return EX_OK;
}

static int config_unset(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	if (argc != 2)
		return cli_usage(c);
	s = store_config_unset(c->st, argv[1], &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("%s unset\n", argv[1]);
	return EX_OK;
}

static int config_get(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL, *value = NULL;

	if (argc != 2)
		return cli_usage(c);
	s = store_config_get(c->st, argv[1], &value, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	cli_put_safe(stdout, store_config_is_secret(argv[1]) ? "********" : value);
	putchar('\n');
	if (value != NULL) {
		sodium_memzero(value, strlen(value));
		free(value);
	}
	return EX_OK;
}

static int print_config(const char *key, const char *value, bool secret, void *arg)
{
	static const int widths[] = {24};
	const char *const cols[] = {key, value};

	(void)secret;
	(void)arg;
	cli_print_cols(stdout, cols, widths, 2);
	return 0;
}

static int config_list(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	(void)argv;
	if (argc != 1)
		return cli_usage(c);
	s = store_config_list(c->st, print_config, NULL, &err);
	return s == STORE_OK ? EX_OK : cli_fail_store(s, err);
}

const struct cli_command cli_cmds_admin[] = {
    {"init", NULL, STORE_PERM_NONE, CLI_NOSTORE, init,
     "init --admin NAME [--kdf interactive|moderate|sensitive]", "create a new store"},
    {"key", "rotate", STORE_PERM_KEYS, 0, key_rotate, "key rotate",
     "rekey the store with a new data key"},
    {"audit", "log", STORE_PERM_AUDIT, 0, audit_log,
     "audit log [--since T] [--user U] [--action A]",
     "list audit records; T is 2026-11-29 or 2026-11-29T13:00[:SS][Z|+09:00]"},
    {"audit", "verify", STORE_PERM_AUDIT, 0, audit_verify, "audit verify [--head FILE]",
     "check the audit trail's hash chain, and that it still holds a signed head"},
    {"audit", "sign", STORE_PERM_AUDIT, 0, audit_sign, "audit sign",
     "sign the trail's head with your key and print it, to keep somewhere else"},
    {"config", "set", STORE_PERM_SETTINGS, 0, config_set, "config set KEY VALUE|-",
     "change a setting (secrets from stdin with -)"},
    {"config", "unset", STORE_PERM_SETTINGS, 0, config_unset, "config unset KEY",
     "remove a setting, so that its default holds"},
    {"config", "get", STORE_PERM_SETTINGS, 0, config_get, "config get KEY", "show a setting"},
    {"config", "list", STORE_PERM_SETTINGS, 0, config_list, "config list",
     "list settings, secrets masked"},
    {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
