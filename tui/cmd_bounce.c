/*
 * tui/cmd_bounce.c: hato bounce read [FILE]: one bounce or complaint report
 * (a DSN or an ARF message) from FILE or standard input, applied to the
 * people it names (send_bounce_read).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tui/cli.h"

static void print_line(const char *line, void *arg)
{
	(void)arg;
	cli_put_safe(stdout, line);
	fputc('\n', stdout);
}

/* Reads at most SEND_REPORT_MAX bytes (one more tells it is too big). */
static int slurp(FILE *in, const char *name, char **buf, size_t *n)
{
	size_t cap = 65536, len = 0, got;
	char *b = malloc(cap), *nb;

	if (b == NULL)
		return EX_OSERR;
	while ((got = fread(b + len, 1, cap - len, in)) > 0) {
		len += got;
		if (len > SEND_REPORT_MAX)
			break;
		if (len == cap) {
			cap *= 2;
			nb = realloc(b, cap);
			if (nb == NULL) {
				free(b);
				return EX_OSERR;
			}
			b = nb;
		}
	}
	if (ferror(in)) {
		cli_error("%s: %s", name, strerror(errno));
		free(b);
		return EX_IOERR;
	}
	if (len > SEND_REPORT_MAX) {
		cli_error("%s: a report is at most %u bytes", name, (unsigned)SEND_REPORT_MAX);
		free(b);
		return EX_DATAERR;
	}
	*buf = b;
	*n = len;
	return EX_OK;
}

static int bounce_read(struct cli *c, int argc, char **argv)
{
	const char *name = "standard input";
	FILE *in = stdin;
	char *buf = NULL, *err = NULL;
	enum send_status s;
	size_t n = 0;
	int rc;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-' && argv[1][1] != '\0'))
		return cli_usage(c);
	if (argc == 2 && strcmp(argv[1], "-") != 0) {
		name = argv[1];
		in = fopen(name, "rb");
		if (in == NULL) {
			cli_error("%s: %s", name, strerror(errno));
			return EX_NOINPUT;
		}
	}
	rc = slurp(in, name, &buf, &n);
	if (in != stdin)
		fclose(in);
	if (rc != EX_OK)
		return rc;
	s = send_bounce_read(c->st, buf, n, print_line, NULL, &err);
	free(buf);
	return s == SEND_OK ? EX_OK : cli_fail_send(s, err);
}

const struct cli_command cli_cmds_bounce[] = {
    {"bounce", "read", STORE_PERM_SUBSCRIBERS_WRITE, 0, bounce_read, "bounce read [FILE]",
     "apply a DSN or ARF report sent back: the person becomes bounced or complained"},
    {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
