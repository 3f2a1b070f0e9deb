/*
 * send/transport_file.c: file:DIR writes each message as DIR/<unique>.eml,
 * for the demo and for dry runs.
 *
 * Each file is written to DIR/.tmp-<unique> (mode 0600, O_EXCL), synced and
 * renamed into place, so a reader never sees half a message. DIR is created
 * with mode 0700 when missing. The envelope goes on top as a delivery agent
 * writes it: "Return-Path: <from>" and "Delivered-To: rcpt". The write
 * happens in submit; the report waits for the next run, as with SMTP.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "send/private.h"
#include "send/transport.h"

#define FILE_REPLY_MAX 4200

struct done_msg {
	void *arg;
	enum transport_outcome outcome;
	char *reply; /* malloc'd */
	char *error; /* malloc'd or NULL */
};

struct filet {
	struct transport *t;
	const char *dir;
	unsigned long counter;
	struct done_msg *done;
	size_t ndone, cap;
};

static enum send_status file_open(const struct transport_conf *c, struct transport *t, void **state,
				  char **errstr)
{
	struct filet *f;
	struct stat sb;

	if (mkdir(c->dir, 0700) != 0 && errno != EEXIST)
		return send_err(errstr, SEND_EINVAL, "file: cannot create %s: %s", c->dir,
				strerror(errno));
	if (stat(c->dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return send_err(errstr, SEND_EINVAL, "file: %s is not a directory", c->dir);
	if (access(c->dir, W_OK | X_OK) != 0)
		return send_err(errstr, SEND_EINVAL, "file: cannot write into %s: %s", c->dir,
				strerror(errno));
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return SEND_ENOMEM;
	f->t = t;
	f->dir = c->dir;
	f->cap = c->slots;
	f->done = calloc(f->cap, sizeof(*f->done));
	if (f->done == NULL) {
		free(f);
		return SEND_ENOMEM;
	}
	*state = f;
	return SEND_OK;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes the message; returns 0, or -1 with errno set. final is filled. */
static int write_eml(struct filet *f, const struct transport_message *m, char *final, size_t fsz)
{
	char tmp[4096], head[2200], rnd[17];
	unsigned char rb[8];
	int fd, n, hn, saved;
	size_t i;

	randombytes_buf(rb, sizeof(rb));
	for (i = 0; i < sizeof(rb); i++)
		snprintf(rnd + 2 * i, 3, "%02x", rb[i]);
	f->counter++;
	n = snprintf(final, fsz, "%s/%lld.%ld.%lu.%s.eml", f->dir, (long long)time(NULL),
		     (long)getpid(), f->counter, rnd);
	if (n < 0 || (size_t)n >= fsz)
		goto toolong;
	n = snprintf(tmp, sizeof(tmp), "%s/.tmp-%ld.%lu.%s", f->dir, (long)getpid(), f->counter,
		     rnd);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		goto toolong;
	hn = snprintf(head, sizeof(head), "Return-Path: <%s>\r\nDelivered-To: %s\r\n", m->from,
		      m->rcpt);
	if (hn < 0 || (size_t)hn >= sizeof(head))
		goto toolong;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write_all(fd, head, (size_t)hn) != 0 || write_all(fd, m->data, m->len) != 0 ||
	    fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, final) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
toolong:
	errno = ENAMETOOLONG;
	return -1;
}

static enum send_status file_submit(void *state, const struct transport_message *m, char **errstr)
{
	struct filet *f = state;
	struct done_msg *d;
	char final[4096];
	size_t n;

	if (f->ndone >= f->cap)
		return send_err(errstr, SEND_EUSAGE, "file: no free slot");
	d = &f->done[f->ndone];
	memset(d, 0, sizeof(*d));
	d->arg = m->arg;
	n = strlen(f->dir) + 256;
	d->reply = malloc(n);
	if (d->reply == NULL)
		return SEND_ENOMEM;
	if (write_eml(f, m, final, sizeof(final)) == 0) {
		d->outcome = TRANSPORT_SENT;
		snprintf(d->reply, n, "file: wrote %s", final);
	} else {
		d->outcome = TRANSPORT_ERROR;
		snprintf(d->reply, n, "file: cannot write into %s: %s", f->dir, strerror(errno));
		d->error = strdup(d->reply);
		if (d->error == NULL) {
			free(d->reply);
			return SEND_ENOMEM;
		}
	}
	f->ndone++;
	return SEND_OK;
}

static enum send_status file_run(void *state, int timeout_ms, transport_report_fn *report,
				 char **errstr)
{
	struct filet *f = state;
	size_t i, n = f->ndone;
	struct done_msg batch[2 * TRANSPORT_CONNECTIONS_MAX];

	(void)timeout_ms;
	(void)errstr;
	/* Take the batch first: a callback may submit again. */
	memcpy(batch, f->done, n * sizeof(*batch));
	f->ndone = 0;
	for (i = 0; i < n; i++) {
		struct transport_result r = {
		    .outcome = batch[i].outcome,
		    .reply = batch[i].reply,
		    .error = batch[i].error,
		};

		report(f->t, batch[i].arg, &r);
		free(batch[i].reply);
		free(batch[i].error);
	}
	return SEND_OK;
}

static void file_close(void **state)
{
	struct filet *f;
	size_t i;

	if (state == NULL || *state == NULL)
		return;
	f = *state;
	for (i = 0; i < f->ndone; i++) {
		free(f->done[i].reply);
		free(f->done[i].error);
	}
	free(f->done);
	free(f);
	*state = NULL;
}

const struct transport_ops transport_file_ops = {
    .name = "file",
    .open = file_open,
    .submit = file_submit,
    .run = file_run,
    .close = file_close,
};
