/*
 * tui/cmd_user.c: hato user ... and hato role ...
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/cli.h"

/* How a new password is given without a terminal, for the message. */
#define NEW_PW_OPTION "--new-password-file FILE"

/* Parses --role, --kdf and --new-password-file; leaves the first operand at argv[optind]. */
struct user_opts {
	const char *role, *pwfile;
	enum store_kdf kdf;
};

static int parse_user_opts(struct cli *c, int argc, char **argv, struct user_opts *o)
{
	static const struct option opts[] = {
	    {"role", required_argument, NULL, 'r'},
	    {"kdf", required_argument, NULL, 'k'},
	    {"new-password-file", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	o->role = NULL;
	o->pwfile = NULL;
	o->kdf = STORE_KDF_MODERATE;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			o->role = optarg;
			break;
		case 'f':
			o->pwfile = optarg;
			break;
		case 'k':
			if (store_kdf_parse(optarg, &o->kdf) != STORE_OK) {
				cli_error("--kdf takes interactive, moderate or sensitive");
				return EX_USAGE;
			}
			break;
		default:
			return cli_usage(c);
		}
	}
	return EX_OK;
}

static int user_add(struct cli *c, int argc, char **argv)
{
	struct user_opts o;
	enum store_status s;
	char *err = NULL, *pw;
	int rc = parse_user_opts(c, argc, argv, &o);

	if (rc != EX_OK)
		return rc;
	if (optind != argc - 1 || o.role == NULL)
		return cli_usage(c);
	pw = cli_password_read(o.pwfile, NEW_PW_OPTION, "New user's password: ", 1, &rc);
	if (pw == NULL)
		return rc;
	s = store_user_add(c->st, argv[optind], o.role, pw, o.kdf, &err);
	cli_password_free(&pw);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("added user %s with role %s\n", argv[optind], o.role);
	return EX_OK;
}

static int print_user(const struct store_user_info *u, void *arg)
{
	static const int widths[] = {20, 12, 9, 9};
	char created[32], fails[32];
	const char *cols[5];
	struct tm tm;

	(void)arg;
	gmtime_r(&u->created, &tm);
	strftime(created, sizeof(created), "%Y-%m-%d", &tm);
	snprintf(fails, sizeof(fails), "%s%d", u->locked ? "LOCKED " : "", u->failures);
	cols[0] = u->name;
	cols[1] = u->role;
	cols[2] = u->status;
	cols[3] = fails;
	cols[4] = created;
	cli_print_cols(stdout, cols, widths, 5);
	return 0;
}

static int user_list(struct cli *c, int argc, char **argv)
{
	static const int widths[] = {20, 12, 9, 9};
	static const char *const head[] = {"USER", "ROLE", "STATUS", "FAILURES", "CREATED"};
	enum store_status s;
	char *err = NULL;

	(void)argv;
	if (argc != 1)
		return cli_usage(c);
	cli_print_cols(stdout, head, widths, 5);
	s = store_user_list(c->st, print_user, NULL, &err);
	return s == STORE_OK ? EX_OK : cli_fail_store(s, err);
}

static int user_role(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	if (argc != 3)
		return cli_usage(c);
	s = store_user_set_role(c->st, argv[1], argv[2], &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("%s now has role %s\n", argv[1], argv[2]);
	return EX_OK;
}

static int user_disable(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	if (argc != 2)
		return cli_usage(c);
	s = store_user_disable(c->st, argv[1], &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("disabled %s and removed the user's keyslot\n", argv[1]);
	return EX_OK;
}

static int user_unlock(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	if (argc != 2)
		return cli_usage(c);
	s = store_user_unlock(c->st, argv[1], &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("unlocked %s\n", argv[1]);
	return EX_OK;
}

static int user_passwd(struct cli *c, int argc, char **argv)
{
	struct user_opts o;
	enum store_status s;
	const char *name;
	char *err = NULL, *pw;
	int rc = parse_user_opts(c, argc, argv, &o);

	if (rc != EX_OK)
		return rc;
	if (argc - optind > 1 || o.role != NULL)
		return cli_usage(c);
	name = optind < argc ? argv[optind] : store_user(c->st);
	pw = cli_password_read(o.pwfile, NEW_PW_OPTION, "New password: ", 1, &rc);
	if (pw == NULL)
		return rc;
	s = store_user_passwd(c->st, name, pw, &err);
	cli_password_free(&pw);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("changed the password of %s\n", name);
	return EX_OK;
}

static int print_role(const struct store_role_info *r, void *arg)
{
	const char *const *p;

	(void)arg;
	printf("%-12s %-8s", r->name, r->builtin ? "built-in" : "custom");
	for (p = r->perms; *p != NULL; p++)
		printf(" %s", *p);
	printf("\n");
	return 0;
}

static int role_list(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;
	int i;

	if (argc == 2 && strcmp(argv[1], "--perms") == 0) {
		for (i = 0; i < STORE_PERM_COUNT; i++)
			printf("%-20s %s\n", store_perm_name((enum store_perm)i),
			       store_perm_describe((enum store_perm)i));
		return EX_OK;
	}
	if (argc != 1)
		return cli_usage(c);
	s = store_role_list(c->st, print_role, NULL, &err);
	return s == STORE_OK ? EX_OK : cli_fail_store(s, err);
}

static int role_add(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	if (argc < 3)
		return cli_usage(c);
	s = store_role_add(c->st, argv[1], (const char *const *)argv + 2, (size_t)argc - 2, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("added role %s\n", argv[1]);
	return EX_OK;
}

static int role_edit(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	if (argc < 3)
		return cli_usage(c);
	s = store_role_set_perms(c->st, argv[1], (const char *const *)argv + 2, (size_t)argc - 2,
				 &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("changed the permissions of role %s; its users get them at their next login\n",
	       argv[1]);
	return EX_OK;
}

static int role_rm(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	if (argc != 2)
		return cli_usage(c);
	s = store_role_rm(c->st, argv[1], &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("removed role %s\n", argv[1]);
	return EX_OK;
}

const struct cli_command cli_cmds_user[] = {
    {"user", "add", STORE_PERM_USERS, 0, user_add,
     "user add NAME --role ROLE [--kdf K] [--new-password-file FILE]", "add a user"},
    {"user", "list", STORE_PERM_USERS, 0, user_list, "user list", "list users"},
    {"user", "role", STORE_PERM_USERS, 0, user_role, "user role NAME ROLE", "change a user's role"},
    {"user", "disable", STORE_PERM_USERS, 0, user_disable, "user disable NAME",
     "disable a user and remove the user's keyslot"},
    {"user", "unlock", STORE_PERM_USERS, 0, user_unlock, "user unlock NAME",
     "unlock a user after failed logins"},
    {"user", "passwd", STORE_PERM_NONE, 0, user_passwd,
     "user passwd [NAME] [--new-password-file FILE]",
     "change your password, or (users permission) another user's"},
    {"role", "list", STORE_PERM_NONE, 0, role_list, "role list [--perms]",
     "list roles and their permissions, or every permission"},
    {"role", "add", STORE_PERM_ROLES, 0, role_add, "role add NAME PERM...", "create a custom role"},
    {"role", "edit", STORE_PERM_ROLES, 0, role_edit, "role edit NAME PERM...",
     "replace a custom role's permissions"},
    {"role", "rm", STORE_PERM_ROLES, 0, role_rm, "role rm NAME",
     "remove a custom role that no user holds"},
    {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
