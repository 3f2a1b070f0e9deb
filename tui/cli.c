/*
 * tui/cli.c: finding a command, logging in and running it.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui/cli.h"
#include "tui/main.h"

static const struct cli_command *const cli_tables[] = {
    cli_cmds_admin,	 cli_cmds_user,	   cli_cmds_template, cli_cmds_dkim, cli_cmds_campaign,
    cli_cmds_subscriber, cli_cmds_segment, cli_cmds_bounce,   NULL,
};

static int same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static int group_exists(const char *group)
{
	const struct cli_command *c;
	size_t t;

	for (t = 0; cli_tables[t] != NULL; t++)
		for (c = cli_tables[t]; c->group != NULL; c++)
			if (same(c->group, group))
				return 1;
	return 0;
}

const struct cli_command *cli_find(int argc, char **argv, int *words)
{
	const struct cli_command *c;
	size_t t;

	for (t = 0; cli_tables[t] != NULL; t++) {
		for (c = cli_tables[t]; c->group != NULL; c++) {
			if (!same(c->group, argv[0]))
				continue;
			if (c->name == NULL) {
				*words = 1;
				return c;
			}
			if (argc > 1 && same(c->name, argv[1])) {
				*words = 2;
				return c;
			}
		}
	}
	return NULL;
}

void cli_help(FILE *fp, const char *group)
{
	const struct cli_command *c;
	size_t t;

	for (t = 0; cli_tables[t] != NULL; t++)
		for (c = cli_tables[t]; c->group != NULL; c++)
			if (group != NULL && !same(c->group, group))
				continue;
			else if (strlen(c->usage) <= 52)
				fprintf(fp, "  hato %-52s %s\n", c->usage, c->help);
			else
				fprintf(fp, "  hato %s\n  %-57s %s\n", c->usage, "", c->help);
}

static int wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

const char *cli_default_user(const char *given)
{
	const char *env = getenv("HATO_USER");
	struct passwd *pw;

	if (given != NULL)
		return given;
	if (env != NULL && *env != '\0')
		return env;
	pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_name : "";
}

/* Opens the store as c->user. Returns an exit code. */
int cli_login(struct cli *c)
{
	enum store_status s;
	char *path = NULL, *err = NULL, *pw;
	int rc = EX_DATAERR;

	s = store_path(c->store_path, &path, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	pw = cli_password_read(c->password_file, NULL, "Password: ", 0, &rc);
	if (pw == NULL) {
		free(path);
		/* Without a file there was no terminal to ask on: no login. */
		return c->password_file == NULL ? EX_NOPERM : rc;
	}
	s = store_open(path, c->user, pw, &c->st, &err);
	cli_password_free(&pw);
	free(path);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	return EX_OK;
}

int cli_run(struct cli *c, int argc, char **argv)
{
	const struct cli_command *cmd;
	enum store_status s;
	char *err = NULL;
	int words = 0, rc;

	cmd = cli_find(argc, argv, &words);
	if (cmd == NULL) {
		if (group_exists(argv[0])) {
			if (wants_help(argc, argv) || argc == 1) {
				printf("hato %s commands:\n", argv[0]);
				cli_help(stdout, argv[0]);
				return argc == 1 ? EX_USAGE : EX_OK;
			}
			cli_error("unknown command: hato %s %s", argv[0], argv[1]);
		} else {
			cli_error("unknown command: %s; see hato --help", argv[0]);
		}
		return EX_USAGE;
	}
	c->cmd = cmd;
	argc -= words - 1;
	argv += words - 1;
	if (wants_help(argc, argv)) {
		printf("usage: hato %s\n  %s\n", cmd->usage, cmd->help);
		return EX_OK;
	}
	if (!(cmd->flags & CLI_NOSTORE)) {
		rc = cli_login(c);
		if (rc != EX_OK)
			return rc;
		char typed[64], action[70];
		snprintf(typed, sizeof(typed), "%s%s%s", cmd->group, cmd->name ? " " : "",
			 cmd->name ? cmd->name : "");
		/* Refusals name the command as typed; the audit trail, "hato " and it. */
		store_set_command(c->st, typed);
		snprintf(action, sizeof(action), "hato %s", typed);
		s = store_require(c->st, cmd->perm, action, &err);
		if (s != STORE_OK) {
			rc = cli_fail_store(s, err);
			store_close(&c->st);
			return rc;
		}
	}
	optind = 0; /* 0 makes glibc getopt start afresh, permuting again */
	rc = cmd->run(c, argc, argv);
	store_close(&c->st);
	return rc;
}
