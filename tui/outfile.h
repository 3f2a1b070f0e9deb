/*
 * tui/outfile.h: writing a file of people's data (an export) so that a
 * failure or an interruption loses nothing and leaves nothing behind.
 *
 * The data goes to a new file beside the target, PATH.XXXXXX, mode 0600,
 * which replaces PATH only once it is complete (rename). Until then PATH is
 * as it was. A failed write removes the new file, and so does a signal that
 * ends the process: its handler calls outfile_on_signal(). What a process
 * killed outright left (kill -9) goes at the next outfile_open() of PATH:
 * each new file is locked while it is written, and one no process holds
 * that has not changed for a minute is removed. When PATH exists
 * and is not a regular file (/dev/stdout, a pipe), the data goes straight
 * to it.
 */
#ifndef HATO_TUI_OUTFILE_H
#define HATO_TUI_OUTFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

struct store;

struct outfile {
	FILE *fp;
	const char *why; /* why outfile_open() refused, or NULL */
	char path[PATH_MAX];
	char tmp[PATH_MAX]; /* the new file; "" when writing straight to path */
};

/*
 * Starts writing PATH. Fails with errno EEXIST when PATH exists and not
 * `replace`, ELOOP when PATH is a symbolic link (give the file's own path),
 * EPERM when PATH is one of the files of the store st (when not NULL), and
 * the errno of creating the new file otherwise. Returns 0 or -1; after -1,
 * outfile_why() says why in words.
 */
int outfile_open(struct outfile *o, const char *path, bool replace, const struct store *st);
/* Why the last outfile_open() or outfile_commit() of o failed, for a message
 * ("the disk is full" for ENOSPC). */
const char *outfile_why(const struct outfile *o, int err);

/* Writes out and fsyncs the new file, then puts it in place. Returns 0, or
 * -1 with errno when that fails (the new file is removed, PATH untouched). */
int outfile_commit(struct outfile *o);

/* Gives up: removes the new file; PATH is as it was. */
void outfile_abort(struct outfile *o);

/* For a signal handler: removes the new file being written, if any
 * (async-signal-safe). */
void outfile_on_signal(void);

/* Ends the writing: keep puts the new file in place (outfile_commit), else
 * it goes and PATH is as it was (outfile_abort). Returns 0, or -1 with errno
 * when keeping fails. */
int outfile_finish(struct outfile *o, bool keep);

/* True when PATH names the file open on fd: an import's rejects must never
 * replace the file being read. */
bool outfile_is(const char *path, int fd);

/*
 * A file made only when something is first written to it, as an import's
 * rejects are (store_import_opts.open_rejects, with the struct as its
 * argument): an import of good rows needs no folder it can write to.
 * `hint` ends the message when the file can't be made ("" for none);
 * `shown`, when not NULL, is the path as the message names it (escaped).
 */
struct outfile_lazy {
	struct outfile *of;
	const char *path, *hint;
	const struct store *st;
	bool failed; /* it was needed and could not be made */
	const char *shown;
};

FILE *outfile_lazy_open(void *lazy, char **errstr);

#endif
