/*
 * tui/cmd_segment.c: hato import, hato export and hato segment ...
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tui/cli.h"
#include "tui/outfile.h"

/* ---- import ------------------------------------------------------------- */

struct progress {
	uint64_t size;
	int shown;
	struct timespec start;
};

/* The bar on stderr, from half a second on: a short import shows none. */
static void show_progress(uint64_t bytes, uint64_t rows, void *arg)
{
	struct progress *p = arg;
	struct timespec now;
	char bar[41];
	int pct = p->size ? (int)(bytes * 100 / p->size) : 100, i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!p->shown &&
	    (now.tv_sec - p->start.tv_sec) * 1000000000L + (now.tv_nsec - p->start.tv_nsec) <
		500000000L)
		return;
	for (i = 0; i < 40; i++)
		bar[i] = i < pct * 40 / 100 ? '#' : ' ';
	bar[40] = '\0';
	fprintf(stderr, "\r[%s] %3d%% %llu rows", bar, pct > 100 ? 100 : pct,
		(unsigned long long)rows);
	p->shown = 1;
}

/*
 * Ctrl-C, SIGTERM or SIGHUP during an import: the signal's number, which
 * stops the import (store_import_opts.stop). It is rolled back, the store is
 * as it was, and hato exits 128 + the number, as a shell reports a signal.
 * A second signal ends hato at once: the transaction was never committed,
 * so the store is as it was then too.
 */
static volatile sig_atomic_t import_signal;

#define NSTOP 4

static void on_import_signal(int sig)
{
	if (import_signal != 0) {
		outfile_on_signal(); /* the unfinished rejects file */
		signal(sig, SIG_DFL);
		raise(sig);
	}
	import_signal = sig;
}

/* A signal while an export is written: its new file goes (outfile.h), then
 * the signal takes its course. */
static void on_export_signal(int sig)
{
	outfile_on_signal();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The signals that stop a command; the last, a file over `ulimit -f`, is ignored. */
static const int stop_signals[NSTOP] = {SIGINT, SIGTERM, SIGHUP, SIGXFSZ};

/*
 * Catches the signals that stop a command, keeping the old handlers in old.
 * A signal ignored on entry (Ctrl-C for a background job) stays ignored.
 * SIGXFSZ is ignored: the write then fails (EFBIG), and the command says so
 * and cleans up as for a full disk.
 */
static void signals_catch(struct sigaction old[NSTOP], void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NSTOP; i++) {
		sa.sa_handler = stop_signals[i] == SIGXFSZ ? SIG_IGN : handler;
		if (sigaction(stop_signals[i], NULL, &old[i]) == 0 && old[i].sa_handler != SIG_IGN)
			sigaction(stop_signals[i], &sa, NULL);
	}
}

static void signals_restore(const struct sigaction old[NSTOP])
{
	for (size_t i = 0; i < NSTOP; i++)
		sigaction(stop_signals[i], &old[i], NULL);
}

static int do_import(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"rejects", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	struct store_import_stats st;
	struct store_import_opts o = {0};
	struct progress prog = {0};
	enum store_status s;
	const char *rejects = NULL, *file;
	char *err = NULL, *defrej = NULL, source[300];
	struct stat sb;
	struct sigaction old[NSTOP];
	struct outfile rj = {0};
	struct outfile_lazy lazy = {
	    &rj, NULL, "; name one that can be written with --rejects FILE", c->st, false, NULL};
	FILE *in = NULL;
	int ch, rc = EX_OK;
	bool caught = false;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'r')
			return cli_usage(c);
		rejects = optarg;
	}
	if (optind != argc - 2)
		return cli_usage(c);
	file = argv[optind + 1];
	/* A file, read whole and checked unchanged at the end: not a stream. */
	if (strcmp(file, "-") == 0) {
		cli_error("import reads a file, not standard input: save the CSV to a file and "
			  "give its name");
		return EX_USAGE;
	}
	in = fopen(file, "rb");
	if (in == NULL || fstat(fileno(in), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		cli_error("cannot open %s: %s", file,
			  in == NULL ? strerror(errno)
				     : "not a regular file (a pipe or a device): save the CSV to a "
				       "file first");
		if (in != NULL)
			fclose(in);
		return EX_NOINPUT;
	}
	if (rejects == NULL) {
		size_t n = strlen(file) + sizeof(".rejects.csv");
		defrej = malloc(n);
		if (defrej == NULL) {
			rc = EX_OSERR;
			goto done;
		}
		snprintf(defrej, n, "%s.rejects.csv", file);
		rejects = defrej;
	}
	if (outfile_is(rejects, fileno(in))) {
		cli_error("the rejects file %s is the file being imported; give another with "
			  "--rejects FILE",
			  rejects);
		rc = EX_USAGE;
		goto done;
	}
	/* Caught from here: once the rejects file exists, a signal stops the
	 * import and never leaves the store half written. */
	import_signal = 0;
	o.stop = &import_signal;
	signals_catch(old, on_import_signal);
	caught = true;
	/* Written beside its place and kept only when there are rejects
	 * (outfile.h): a file already there is never lost. The default one
	 * is made at the first bad row: an import of good rows needs no
	 * folder it can write to. */
	if (defrej != NULL) {
		lazy.path = rejects;
		o.open_rejects = outfile_lazy_open;
		o.rejects_arg = &lazy;
	} else if (outfile_open(&rj, rejects, true, c->st) != 0) {
		cli_error("cannot create %s: %s", rejects, outfile_why(&rj, errno));
		rc = rj.why != NULL ? EX_USAGE : EX_CANTCREAT;
		goto done;
	}
	snprintf(source, sizeof(source), "import %s", file);
	o.rejects = rj.fp;
	o.rejects_name = rejects;
	o.source = source;
	prog.size = (uint64_t)sb.st_size;
	if (isatty(STDERR_FILENO)) {
		o.progress = show_progress;
		o.arg = &prog;
		clock_gettime(CLOCK_MONOTONIC, &prog.start);
	}
	s = store_subscriber_import(c->st, argv[optind], in, &o, &st, &err);
	if (prog.shown)
		fputc('\n', stderr);
	if (s != STORE_OK) {
		rc = cli_fail_store(s, err);
		if (s == STORE_EINVAL)
			rc = EX_DATAERR;
		else if (s == STORE_EINTR)
			rc = 128 + import_signal;
		else if (lazy.failed)
			rc = EX_CANTCREAT;
		fprintf(stderr, "hato: nothing was imported; the store is as it was\n");
		goto done;
	}
	printf("imported %llu, updated %llu, invalid %llu, duplicate %llu, suppressed %llu "
	       "(%llu row%s)\n",
	       (unsigned long long)st.imported, (unsigned long long)st.updated,
	       (unsigned long long)st.invalid, (unsigned long long)st.duplicate,
	       (unsigned long long)st.suppressed, (unsigned long long)st.rows,
	       st.rows == 1 ? "" : "s");
	if (st.kept_unsubscribed > 0)
		printf("%llu of the updated %s unsubscribed, bounced or complained and stay%s so\n",
		       (unsigned long long)st.kept_unsubscribed,
		       st.kept_unsubscribed == 1 ? "is" : "are",
		       st.kept_unsubscribed == 1 ? "s" : "");
	/* Written and synced before the import committed: only its rename is left. */
	if (outfile_finish(&rj, st.invalid > 0) != 0) {
		cli_error("the import went through, but the invalid rows could not be put in "
			  "%s: %s",
			  rejects, outfile_why(&rj, errno));
		rc = EX_IOERR;
	} else if (st.invalid > 0) {
		fputs(st.invalid == 1 ? "the invalid row, with its line number and reason, is in "
				      : "the invalid rows, with line numbers and reasons, are in ",
		      stdout);
		cli_put_safe(stdout, rejects); /* a file name is the user's bytes */
		puts("; fixed, that file can be imported as it is");
	}
done:
	if (rj.fp != NULL)
		outfile_abort(&rj);
	if (caught)
		signals_restore(old);
	fclose(in);
	free(defrej);
	return rc;
}

/* ---- export ------------------------------------------------------------- */

/*
 * hato export LIST [FILE] [--raw]. Not to a terminal: a cell may hold escape
 * sequences, which would steer it (recolour it, retitle it, ring its bell).
 */
static int do_export(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"raw", no_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	enum store_status s;
	struct outfile of;
	struct sigaction old[NSTOP];
	const char *list, *file = NULL;
	char *err = NULL;
	unsigned flags = 0;
	int64_t rows = 0;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'r')
			return cli_usage(c);
		flags |= STORE_EXPORT_RAW;
	}
	if (optind != argc - 1 && optind != argc - 2)
		return cli_usage(c);
	list = argv[optind];
	if (optind == argc - 2 && strcmp(argv[optind + 1], "-") != 0)
		file = argv[optind + 1];
	if (file == NULL && isatty(STDOUT_FILENO)) {
		cli_error("not writing the export to a terminal, where control characters in the "
			  "data could steer it; give a file (hato export %s FILE) or a pipe (hato "
			  "export %s | less)",
			  list, list);
		return EX_USAGE;
	}
	if (file == NULL) {
		s = store_list_export(c->st, list, stdout, flags, &rows, &err);
		if (s == STORE_OK && fflush(stdout) != 0) {
			cli_error("cannot write the export to standard output: %s",
				  store_strerror(errno));
			return EX_IOERR;
		}
	} else {
		/* The file appears, complete, only when the export succeeded. */
		signals_catch(old, on_export_signal);
		if (outfile_open(&of, file, true, c->st) != 0) {
			signals_restore(old);
			cli_error("cannot create %s: %s", file, outfile_why(&of, errno));
			return of.why != NULL ? EX_USAGE : EX_CANTCREAT;
		}
		s = store_list_export(c->st, list, of.fp, flags, &rows, &err);
		if (s != STORE_OK) {
			outfile_abort(&of);
		} else if (outfile_commit(&of) != 0) {
			cli_error("cannot write %s: %s; nothing was exported", file,
				  outfile_why(&of, errno));
			signals_restore(old);
			return EX_IOERR;
		}
		signals_restore(old);
	}
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	fprintf(stderr, "exported %lld subscriber%s of %s%s\n", (long long)rows,
		rows == 1 ? "" : "s", list,
		flags & STORE_EXPORT_RAW ? " (raw: for hato import, not for a spreadsheet)" : "");
	return EX_OK;
}

/* ---- segment ------------------------------------------------------------ */

static int seg_add(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"list", required_argument, NULL, 'l'},
	    {"where", required_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	const char *list = NULL, *where = NULL;
	enum store_status s;
	char *err = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'l')
			list = optarg;
		else if (ch == 'w')
			where = optarg;
		else
			return cli_usage(c);
	}
	if (optind != argc - 1 || list == NULL || where == NULL)
		return cli_usage(c);
	s = store_segment_add(c->st, argv[optind], list, where, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("added segment %s\n", argv[optind]);
	return EX_OK;
}

static int print_seg(const struct store_segment_info *x, void *arg)
{
	(void)arg;
	printf("%-20s %-20s %-20s ", x->name, x->list, x->created);
	cli_put_safe(stdout, x->expr);
	fputc('\n', stdout);
	return 0;
}

static int seg_ls(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	(void)argv;
	if (argc != 1)
		return cli_usage(c);
	printf("%-20s %-20s %-20s %s\n", "SEGMENT", "LIST", "CREATED", "WHERE");
	s = store_segment_ls(c->st, print_seg, NULL, &err);
	return s == STORE_OK ? EX_OK : cli_fail_store(s, err);
}

static int seg_count(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"list", required_argument, NULL, 'l'},
	    {"where", required_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	const char *list = NULL, *where = NULL;
	char *slist = NULL, *sexpr = NULL, *err = NULL;
	enum store_status s;
	int64_t n = 0;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'l')
			list = optarg;
		else if (ch == 'w')
			where = optarg;
		else
			return cli_usage(c);
	}
	if (optind == argc - 1 && list == NULL && where == NULL) {
		s = store_segment_get(c->st, argv[optind], &slist, &sexpr, &err);
		if (s != STORE_OK)
			return cli_fail_store(s, err);
		list = slist;
		where = sexpr;
	} else if (optind != argc || list == NULL) {
		return cli_usage(c);
	}
	s = store_segment_count(c->st, list, where, &n, &err);
	free(slist);
	free(sexpr);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("%lld\n", (long long)n);
	return EX_OK;
}

const struct cli_command cli_cmds_segment[] = {
    {"import", NULL, STORE_PERM_SUBSCRIBERS_WRITE, 0, do_import,
     "import LIST FILE.csv [--rejects FILE]",
     "import subscribers from CSV (header with an email column)"},
    {"export", NULL, STORE_PERM_SUBSCRIBERS_EXPORT, 0, do_export, "export LIST [FILE] [--raw]",
     "export a list's active subscribers as CSV, safe for spreadsheets (--raw: byte for byte, "
     "to import again)"},
    {"segment", "add", STORE_PERM_SEGMENTS, 0, seg_add, "segment add NAME --list L --where EXPR",
     "save a segment"},
    {"segment", "ls", STORE_PERM_SUBSCRIBERS_READ, 0, seg_ls, "segment ls", "list segments"},
    {"segment", "count", STORE_PERM_SUBSCRIBERS_READ, 0, seg_count,
     "segment count NAME | --list L [--where EXPR]",
     "count the recipients a segment would have now"},
    {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
