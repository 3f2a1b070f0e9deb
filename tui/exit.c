/*
 * tui/exit.c: the one place where statuses become process exit codes
 * (sysexits.h), and the one-line error printer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int exit_from_send(enum send_status s)
{
	switch (s) {
	case SEND_OK:
		return EX_OK;
	case SEND_EUSAGE:
		return EX_USAGE;
	case SEND_EINVAL:
		return EX_DATAERR;
	case SEND_EDNS:
		return EX_UNAVAILABLE;
	case SEND_ECRYPTO:
		return EX_SOFTWARE;
	case SEND_ENOMEM:
		return EX_OSERR;
	case SEND_EDENIED:
		return EX_NOPERM;
	case SEND_ESTORE:
		return EX_IOERR;
	case SEND_EBUSY:
		return EX_TEMPFAIL;
	case SEND_ECONFIG:
		return EX_CONFIG;
	case SEND_ENOTFOUND:
		return EX_NOINPUT;
	case SEND_EUNAVAILABLE:
		return EX_UNAVAILABLE;
	}
	return EX_SOFTWARE;
}

int exit_from_tpl(enum tpl_status s)
{
	switch (s) {
	case TPL_OK:
		return EX_OK;
	case TPL_ENOTFOUND:
		return EX_NOINPUT;
	case TPL_ENOMEM:
		return EX_OSERR;
	case TPL_ESYNTAX:
	case TPL_EINVAL:
	case TPL_ETOOBIG:
	case TPL_EENCODING:
		return EX_DATAERR;
	}
	return EX_SOFTWARE;
}

int cli_fail_send(enum send_status s, char *errstr)
{
	cli_error("%s", errstr != NULL ? errstr : send_strstatus(s));
	free(errstr);
	return exit_from_send(s);
}

/*
 * Writes a message of one or more lines (a list of failed checks), each line
 * escaped; a line after the first is indented, so none can pass for a line
 * of its own ("hato: ...").
 */
static void put_lines(FILE *fp, const char *msg)
{
	const char *line = msg, *nl;
	char *copy;

	for (;;) {
		nl = strchr(line, '\n');
		copy = nl != NULL ? strndup(line, (size_t)(nl - line)) : NULL;
		if (line != msg && line[0] != ' ')
			fputs("  ", fp);
		cli_put_safe(fp, nl == NULL ? line : copy != NULL ? copy : "(out of memory)");
		fputc('\n', fp);
		free(copy);
		if (nl == NULL)
			break;
		line = nl + 1;
	}
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	fputs("hato: ", stderr);
	/* Names and values in the message come from the user or the store. */
	put_lines(stderr, n >= 0 ? msg : "out of memory");
	if (n >= 0)
		free(msg);
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
