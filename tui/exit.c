/*
 * tui/exit.c: the one place where statuses become process exit codes
 * (sysexits.h), and the one-line error printer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tui/cli.h"

int exit_from_store(enum store_status s)
{
	switch (s) {
	case STORE_OK:
		return EX_OK;
	case STORE_EUSAGE:
		return EX_USAGE;
	case STORE_EINVAL:
	case STORE_EEXIST:
	case STORE_ECORRUPT:
		return EX_DATAERR;
	case STORE_ENOTFOUND:
		return EX_NOINPUT;
	case STORE_EAUTH:
	case STORE_ELOCKED:
	case STORE_EDENIED:
		return EX_NOPERM;
	case STORE_EDELAY:
	case STORE_EBUSY:
		return EX_TEMPFAIL;
	case STORE_EUNSAFE:
		return EX_CONFIG;
	case STORE_EIO:
		return EX_IOERR;
	case STORE_ENOMEM:
		return EX_OSERR;
	case STORE_EINTR:
		return EX_TEMPFAIL; /* commands that catch a signal exit 128 + its number */
	}
	return EX_SOFTWARE;
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("hato: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_fail_store(enum store_status s, char *errstr)
{
	cli_error("%s", errstr != NULL ? errstr : store_strstatus(s));
	free(errstr);
	return exit_from_store(s);
}

int cli_usage(const struct cli *c)
{
	fprintf(stderr, "usage: hato %s\n", c->cmd->usage);
	return EX_USAGE;
}
