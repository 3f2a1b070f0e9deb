/*
 * tui/cmd_bounce.c: hato bounce read [FILE]: bounce and complaint reports
 * (DSN or ARF messages) from FILE or standard input, one message or an mbox
 * of them, applied to the people they name (send_bounce_read).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tui/cli.h"

/* One line of what became of a recipient; arg, when not NULL, goes before it. */
static void print_line(const char *line, void *arg)
{
	if (arg != NULL)
		fputs(arg, stdout);
	cli_put_safe(stdout, line);
	fputc('\n', stdout);
}

/*
 * Reads the rest of one message into *buf (*n bytes there already, in cap):
 * at most SEND_REPORT_MAX bytes in all, one more telling it is too big.
 * *buf is freed on failure.
 */
static int slurp(FILE *in, const char *name, char **buf, size_t *n, size_t cap)
{
	size_t len = *n, got;
	int rc = EX_OK;

	do {
		if (len + 65536 > cap) {
			size_t nc = 2 * cap > len + 65536 ? 2 * cap : len + 65536;
			char *nb = realloc(*buf, nc);
			if (nb == NULL) {
				rc = EX_OSERR;
				break;
			}
			*buf = nb;
			cap = nc;
		}
		got = fread(*buf + len, 1, cap - len, in);
		len += got;
	} while (got > 0 && len <= SEND_REPORT_MAX);
	if (rc == EX_OK && ferror(in)) {
		cli_error("%s: %s", name, strerror(errno));
		rc = EX_IOERR;
	} else if (rc == EX_OK && len > SEND_REPORT_MAX) {
		cli_error("%s: a report is at most %u bytes", name, (unsigned)SEND_REPORT_MAX);
		rc = EX_DATAERR;
	}
	if (rc != EX_OK) {
		free(*buf);
		*buf = NULL;
	}
	*n = len;
	return rc;
}

/* What became of the messages of an mbox. */
struct tally {
	struct cli *c;
	unsigned long count, applied, not_report, big;
};

/* One message of an mbox: 0, or the exit code when the store failed. */
static int apply_one(const char *msg, size_t n, bool too_big, unsigned long line, void *arg)
{
	struct tally *t = arg;
	enum send_status s;
	char *err = NULL;

	t->count++;
	printf("message %lu (line %lu):\n", t->count, line);
	if (too_big) {
		printf("  larger than %u bytes; skipped\n", (unsigned)SEND_REPORT_MAX);
		t->big++;
		return 0;
	}
	s = send_bounce_read(t->c->st, msg, n, print_line, "  ", &err);
	if (s == SEND_EINVAL) {
		printf("  ");
		cli_put_safe(stdout, err != NULL ? err : "not a report");
		printf("; skipped\n");
		free(err);
		t->not_report++;
		return 0;
	}
	if (s != SEND_OK) {
		fflush(stdout);
		return cli_fail_send(s, err);
	}
	t->applied++;
	return 0;
}

/*
 * The messages of an mbox, each applied in turn; one that is not a report
 * is skipped, a failure of the store stops the run.
 */
static int read_mbox(struct cli *c, FILE *in, const char *name)
{
	struct tally t = {c, 0, 0, 0, 0};
	int rc = send_mbox_read(in, 1, apply_one, &t);

	if (rc == -1) {
		cli_error("%s: %s", name, strerror(errno));
		return errno == ENOMEM ? EX_OSERR : EX_IOERR;
	}
	if (rc != 0)
		return rc;
	printf("%lu message%s: %lu read as report%s, %lu not %s, %lu too large\n", t.count,
	       t.count == 1 ? "" : "s", t.applied, t.applied == 1 ? "" : "s", t.not_report,
	       t.not_report == 1 ? "a report" : "reports", t.big);
	if (t.applied == 0 && t.big > 0) {
		cli_error("%s: no message in it could be read as a report (%lu too large)", name,
			  t.big);
		return EX_DATAERR;
	}
	if (t.applied == 0) {
		cli_error("%s: no message in it is a bounce or complaint report", name);
		return EX_DATAERR;
	}
	return EX_OK;
}

static int bounce_read(struct cli *c, int argc, char **argv)
{
	const char *name = "standard input";
	FILE *in = stdin;
	char *buf = NULL, *err = NULL;
	enum send_status s;
	enum store_status ss;
	struct stat sb;
	size_t n;
	int rc, ch;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-' && argv[1][1] != '\0'))
		return cli_usage(c);
	/* Refused before anything is read or said about the input. */
	ss = store_require(c->st, STORE_PERM_PII, "bounce.read", &err);
	if (ss != STORE_OK)
		return cli_fail_store(ss, err);
	if (argc == 2 && strcmp(argv[1], "-") != 0) {
		name = argv[1];
		in = fopen(name, "rb");
		if (in == NULL) {
			cli_error("%s: %s", name, strerror(errno));
			return EX_NOINPUT;
		}
		if (fstat(fileno(in), &sb) == 0 && S_ISDIR(sb.st_mode)) {
			cli_error("%s is a directory, not a file", name);
			fclose(in);
			return EX_NOINPUT;
		}
	}
	/* An mbox starts with a "From " line; a message with its header. */
	buf = malloc(65536);
	if (buf == NULL) {
		if (in != stdin)
			fclose(in);
		return EX_OSERR;
	}
	n = fread(buf, 1, 5, in);
	if (n == 5 && memcmp(buf, "From ", 5) == 0) {
		free(buf);
		while ((ch = getc(in)) != EOF && ch != '\n')
			; /* the rest of the first separator line */
		rc = read_mbox(c, in, name);
		if (in != stdin)
			fclose(in);
		return rc;
	}
	rc = slurp(in, name, &buf, &n, 65536);
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
     "apply DSN or ARF reports sent back (one message or an mbox): the person becomes "
     "bounced or complained; and unsubscribe requests sent to unsubscribe.mailto"},
    {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
