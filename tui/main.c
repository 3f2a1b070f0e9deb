/*
 * tui/main.c: hato's entry point. With a command it runs the command line;
 * without one it opens the terminal UI.
 */
#include <getopt.h>
#include <locale.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tui/cli.h"
#include "tui/main.h"
#include "tui/ui.h"

static void usage(FILE *fp)
{
	fprintf(fp, "usage: hato [--store PATH] [--user NAME] [--password-file FILE] "
		    "[COMMAND ...]\n"
		    "       hato --help | --version\n\n"
		    "Without a command, hato opens its terminal UI.\n\n"
		    "Global options:\n"
		    "  --store PATH          the store (default $HATO_STORE, else "
		    "$XDG_DATA_HOME/hato/hato.db,\n"
		    "                        else ~/.local/share/hato/hato.db)\n"
		    "  --user NAME           log in as NAME (default $HATO_USER, else your "
		    "login name)\n"
		    "  --password-file FILE  read the password from the first line of FILE\n"
		    "                        (default $HATO_PASSWORD_FILE, else ask)\n\n"
		    "Commands:\n");
	cli_help(fp, NULL);
	fprintf(fp, "\nExit codes (sysexits.h; hato(1) says more under EXIT STATUS):\n"
		    "  0 success, 64 usage, 65 bad data or a failed check, 66 missing input,\n"
		    "  69 service unavailable, 70 internal error (a bug), 71 out of memory or\n"
		    "  another system error, 73 an output file can't be created, 74 an\n"
		    "  input/output error, 75 temporary failure, 77 permission denied or\n"
		    "  authentication failed, 78 configuration error; 128 + N when signal N\n"
		    "  stopped an import.\n");
}

/* The store refuses a setting that sending would misread, with sending's own
 * parser of it. */
static bool setting_ok(struct store *st, const char *key, const char *value, char **errstr)
{
	return send_setting_check_in(st, key, value, errstr) == SEND_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"store", required_argument, NULL, 's'},
	    {"user", required_argument, NULL, 'u'},
	    {"password-file", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct cli c;
	const char *user = NULL, *pwfile = getenv("HATO_PASSWORD_FILE");
	int ch;

	setlocale(LC_ALL, "");
	/*
	 * Numbers are data (segment counts, rates, settings): read and printed
	 * with a decimal point whatever the user's locale, which keeps its
	 * characters and collation for the screens.
	 */
	setlocale(LC_NUMERIC, "C");
	/*
	 * The case rules hato applies (column and header names, keywords,
	 * domains) are ASCII's, but the C library's follow the locale: in a
	 * Turkish one tolower('I') is 'I', and "EMAIL" is not "email". hato's
	 * text is UTF-8 in any locale, and C.UTF-8's case rules are ASCII's.
	 */
	setlocale(LC_CTYPE, "C.UTF-8");
	umask(077);
	if (sodium_init() < 0) {
		cli_error("libsodium failed to start");
		return EX_SOFTWARE;
	}
	store_config_set_checker(setting_ok);
	memset(&c, 0, sizeof(c));
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			c.store_path = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'V':
			printf("hato %s\n", HATO_VERSION);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	c.user = cli_default_user(user);
	/* The UI asks for the user unless one was named: the login name is rarely a store user. */
	if (optind >= argc && user == NULL && getenv("HATO_USER") == NULL)
		c.user = NULL;
	c.password_file = pwfile != NULL && *pwfile != '\0' ? pwfile : NULL;
	if (optind >= argc)
		return ui_run(&c);
	return cli_run(&c, argc - optind, argv + optind);
}
