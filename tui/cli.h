/*
 * tui/cli.h: the command line. main.c parses the global options, finds the
 * command in the tables below, opens the store as the user, checks the
 * command's permission and runs it.
 *
 * Adding commands: write a table `const struct cli_command cli_cmds_X[]`
 * ending in an all-zero entry, in its own tui/cmd_X.c, and list it in
 * cli_tables in tui/cli.c.
 */
#ifndef HATO_TUI_CLI_H
#define HATO_TUI_CLI_H

#include <stdio.h>
#include <time.h>

#include "send/send.h"
#include "store/store.h"
#include "templates/templates.h"

/* sysexits.h codes: the one mapping from statuses lives in tui/exit.c. */
#include <sysexits.h>

struct cli {
	struct store *st;	   /* the open store; NULL for CLI_NOSTORE commands */
	const char *store_path;	   /* as given by --store, or NULL */
	const char *user;	   /* --user, $HATO_USER or the login name */
	const char *password_file; /* --password-file or $HATO_PASSWORD_FILE, or NULL */
	const struct cli_command *cmd;
};

enum cli_flags {
	CLI_NOSTORE = 1, /* runs without opening the store (init, --help) */
};

struct cli_command {
	const char *group;    /* first word: "user" */
	const char *name;     /* second word: "add"; NULL for a one-word command */
	enum store_perm perm; /* checked before run; STORE_PERM_NONE: any user */
	int flags;
	/* argv[0] is the last command word; getopt_long may be used. Returns an exit code. */
	int (*run)(struct cli *c, int argc, char **argv);
	const char *usage; /* "user add NAME --role ROLE [--new-password-file FILE]" */
	const char *help;  /* one line */
};

/*
 * Prints "hato: <message>" and a newline to stderr, the message escaped
 * (cli_put_safe). A message of several lines (a list of failed checks) prints
 * one line each, escaped, the later ones indented.
 */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the usage of c->cmd to stderr and returns EX_USAGE. */
int cli_usage(const struct cli *c);
/* Prints errstr (or the status' words) to stderr, frees errstr, returns the exit code. */
int cli_fail_store(enum store_status s, char *errstr);
/* Like cli_fail_store, for send statuses. */
int cli_fail_send(enum send_status s, char *errstr);

/* Map each module's statuses to sysexits codes (tui/exit.c, the only such mappings). */
int exit_from_store(enum store_status s);
int exit_from_send(enum send_status s);
int exit_from_tpl(enum tpl_status s);

/*
 * Reads a password: from the file (first line, at most 1024 bytes, no NUL),
 * else from the terminal without echo. `confirm` asks twice. `how` is NULL
 * for the user's own password (--password-file), or, for a new user's, the
 * option that names its file ("--new-password-file FILE"), for the message
 * when there is neither file nor terminal. Returns a sodium_malloc'd string
 * the caller frees with cli_password_free, or NULL after printing why; then
 * *rc (when not NULL) is the exit code: EX_NOINPUT when the file can't be
 * opened, EX_DATAERR otherwise (a bad file, no terminal to ask on).
 */
char *cli_password_read(const char *file, const char *how, const char *prompt, int confirm,
			int *rc);
void cli_password_free(char **pw);
/*
 * Reads a setting's value from stdin: its first line, at most 4095 bytes, no
 * NUL, not empty. When stdin is a terminal, shows `prompt` there and reads
 * twice without echo, as for a new password. Returns a sodium_malloc'd string
 * to free with cli_password_free, or NULL after printing why.
 */
char *cli_value_read(const char *prompt);

/*
 * Text shown on the terminal (tui/text.c). What could steer the terminal or
 * reorder the line (store_char_is_unsafe) is shown escaped: \n, \r and \t
 * as such, other C0 controls and DEL as \x1b, bytes that are not UTF-8 as
 * \x9b, C1 controls and bidirectional overrides as \u009b and \u202e.
 *
 * cli_escape writes s escaped into out (n bytes, NUL-terminated, cut short
 * when it does not fit; out may be NULL when n is 0) and returns the length
 * of the whole escaped text. cli_escaped returns it malloc'd (NULL when out
 * of memory). cli_put_safe writes it to fp. Every error (cli_error) and every
 * listing of text from the store or the command line goes through them.
 */
size_t cli_escape(char *out, size_t n, const char *s);
char *cli_escaped(const char *s);
void cli_put_safe(FILE *fp, const char *s);
/* Prints a table row, each column escaped and padded to its display width
 * (wide characters count 2). */
void cli_print_cols(FILE *fp, const char *const *cols, const int *widths, int n);
/* Prints "label value" as a two-column row, the label padded to width. */
void cli_print_field(FILE *fp, int width, const char *label, const char *value);

/* ---- Shared by the command files ---------------------------------------- */

/* Composes the message for r and writes it to stdout. Returns an exit code. */
int cli_print_message(const struct send_composer *comp, const struct send_recipient *r);
/* Prints pre-send findings; returns the number of errors. */
size_t cli_print_findings(FILE *fp, const struct tpl_findings *f);
int cmd_template_render(struct cli *c, int argc, char **argv);
int cmd_template_check(struct cli *c, int argc, char **argv);
int cmd_campaign_check(struct cli *c, int argc, char **argv);
int cmd_campaign_preview(struct cli *c, int argc, char **argv);
int cmd_campaign_test(struct cli *c, int argc, char **argv);
int cmd_campaign_status(struct cli *c, int argc, char **argv);
int cmd_campaign_retry(struct cli *c, int argc, char **argv);
int cmd_worker(struct cli *c, int argc, char **argv);
/*
 * Dates and times (tui/when.c). cli_parse_time takes 2026-12-01T09:00[:SS]
 * with a zone (Z, +09:00, +0900) or without one as local time;
 * cli_parse_day_or_time also takes a date alone, its local midnight. 0, or
 * -1 when s is anything else.
 */
int cli_parse_time(const char *s, time_t *out);
int cli_parse_day_or_time(const char *s, time_t *out);
/* What --since and the audit screen's since: take, for messages. */
#define CLI_SINCE_FORMS "a date such as 2026-11-29 or a time such as 2026-11-29T13:00+09:00"

extern const struct cli_command cli_cmds_admin[];
extern const struct cli_command cli_cmds_template[];
extern const struct cli_command cli_cmds_dkim[];
extern const struct cli_command cli_cmds_campaign[];
extern const struct cli_command cli_cmds_user[];
extern const struct cli_command cli_cmds_subscriber[];
extern const struct cli_command cli_cmds_segment[];
extern const struct cli_command cli_cmds_bounce[];

#endif
