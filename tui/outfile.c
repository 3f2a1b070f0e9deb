/*
 * tui/outfile.c: a file of people's data written beside its target and put
 * in place when complete. See outfile.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "tui/outfile.h"

/* The new file being written, for outfile_on_signal(): one at a time. */
static const char *volatile current;

/* Is name "BASE.XXXXXX", a new file mkostemp made for base? */
static bool new_file_of(const char *name, const char *base)
{
	size_t n = strlen(base), i;

	if (strncmp(name, base, n) != 0 || name[n] != '.' || strlen(name + n + 1) != 6)
		return false;
	for (i = n + 1; name[i] != '\0'; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9')))
			return false;
	return true;
}

/*
 * Removes what a hato killed outright (kill -9, a crash, the power) left of
 * its new files beside path: people's data in plain text. One is ours when
 * it is named so, ours, private and regular, unchanged for a minute, and no
 * live hato holds it locked (outfile_open locks each one it makes).
 */
static void sweep(const char *path)
{
	char dir[PATH_MAX], base[PATH_MAX];
	struct dirent *e;
	struct stat sb;
	DIR *d;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(base, sizeof(base), "%s", path);
	d = opendir(dirname(dir));
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!new_file_of(e->d_name, basename(base)) ||
		    fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(sb.st_mode) || sb.st_uid != geteuid() || (sb.st_mode & 0777) != 0600 ||
		    sb.st_mtime > time(NULL) - 60)
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dirfd(d), e->d_name, 0);
		close(fd);
	}
	closedir(d);
}

int outfile_open(struct outfile *o, const char *path, bool replace, const struct store *st)
{
	struct stat sb;
	int fd, saved;

	memset(o, 0, sizeof(*o));
	/* "" would make the new file ".XXXXXX" here, and fail only at its rename. */
	if (*path == '\0') {
		o->why = "the file name is empty";
		errno = ENOENT;
		return -1;
	}
	if (strlen(path) + sizeof(".XXXXXX") > sizeof(o->tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (st != NULL && store_is_own_file(st, path)) {
		o->why = "it is one of the store's own files";
		errno = EPERM;
		return -1;
	}
	snprintf(o->path, sizeof(o->path), "%s", path);
	if (lstat(path, &sb) == 0) {
		if (S_ISLNK(sb.st_mode)) {
			errno = ELOOP;
			return -1;
		}
		if (!replace) {
			errno = EEXIST;
			return -1;
		}
		if (!S_ISREG(sb.st_mode)) {
			fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
			if (fd >= 0 && isatty(fd)) {
				close(fd);
				o->why = "it is a terminal, where control characters in the data "
					 "could steer it";
				errno = EPERM;
				return -1;
			}
			o->fp = fd >= 0 ? fdopen(fd, "w") : NULL;
			goto opened;
		}
	}
	sweep(path);
	snprintf(o->tmp, sizeof(o->tmp), "%s.XXXXXX", path);
	fd = mkostemp(o->tmp, O_CLOEXEC); /* mode 0600, never through a link */
	if (fd < 0) {
		o->tmp[0] = '\0';
		return -1;
	}
	flock(fd, LOCK_EX); /* held until it closes: sweep() leaves it alone */
	current = o->tmp;
	o->fp = fdopen(fd, "w");
opened:
	if (o->fp == NULL) {
		saved = errno;
		if (fd >= 0)
			close(fd);
		outfile_abort(o);
		errno = saved;
		return -1;
	}
	return 0;
}

int outfile_commit(struct outfile *o)
{
	int rc = 0, saved = 0;

	if (fflush(o->fp) != 0 || (o->tmp[0] != '\0' && fsync(fileno(o->fp)) != 0)) {
		rc = -1;
		saved = errno;
	}
	if (fclose(o->fp) != 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	o->fp = NULL;
	if (rc == 0 && o->tmp[0] != '\0' && rename(o->tmp, o->path) != 0) {
		rc = -1;
		saved = errno;
	}
	if (rc != 0)
		outfile_abort(o);
	current = NULL;
	o->tmp[0] = '\0';
	errno = saved;
	return rc;
}

void outfile_abort(struct outfile *o)
{
	if (o->fp != NULL)
		fclose(o->fp);
	o->fp = NULL;
	if (o->tmp[0] != '\0')
		unlink(o->tmp);
	current = NULL;
	o->tmp[0] = '\0';
}

int outfile_finish(struct outfile *o, bool keep)
{
	if (keep)
		return outfile_commit(o);
	outfile_abort(o);
	return 0;
}

const char *outfile_why(const struct outfile *o, int err)
{
	if (o->why != NULL)
		return o->why;
	return err == ELOOP ? "it is a symbolic link; give the file's own path"
			    : store_strerror(err);
}

bool outfile_is(const char *path, int fd)
{
	struct stat a, b;

	return stat(path, &a) == 0 && fstat(fd, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

void outfile_on_signal(void)
{
	const char *p = current;

	if (p != NULL)
		unlink(p);
}

FILE *outfile_lazy_open(void *lazy, char **errstr)
{
	struct outfile_lazy *lz = lazy;

	if (outfile_open(lz->of, lz->path, true, lz->st) == 0)
		return lz->of->fp;
	lz->failed = true;
	if (asprintf(errstr, "cannot create the rejects file %s for the invalid rows: %s%s",
		     lz->shown != NULL ? lz->shown : lz->path, outfile_why(lz->of, errno),
		     lz->hint) < 0)
		*errstr = NULL;
	return NULL;
}
