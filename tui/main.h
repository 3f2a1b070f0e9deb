/* tui/main.h: what main.c and cli.c share. */
#ifndef HATO_TUI_MAIN_H
#define HATO_TUI_MAIN_H

#include <stdio.h>

#include "tui/cli.h"

/* Finds the command named by argv; *words is how many words named it. */
const struct cli_command *cli_find(int argc, char **argv, int *words);
/* Lists the commands, or those of one group. */
void cli_help(FILE *fp, const char *group);
/* The user to log in as: given, else $HATO_USER, else the login name. */
const char *cli_default_user(const char *given);
/* Opens c->st as c->user; returns an exit code. */
int cli_login(struct cli *c);
/* Runs the command in argv. Returns an exit code. */
int cli_run(struct cli *c, int argc, char **argv);

#endif
