/*
 * send/mbox.c: an mbox, one message at a time, for `bounce read`. A line
 * that starts with "From " after a blank line (or first in the file) starts
 * a message; mboxrd's ">From " lines (any number of '>') lose one '>'. A
 * message is kept up to SEND_REPORT_MAX bytes; the rest of a longer one is
 * read and dropped, and the message is passed on marked too big.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "send/send.h"

struct msg {
	char *p;
	size_t n, cap;
	bool too_big;
};

static int append(struct msg *m, const char *s, size_t len)
{
	size_t c;
	char *np;

	if (m->too_big || m->n + len > SEND_REPORT_MAX) {
		m->too_big = true;
		return 0;
	}
	if (m->n + len > m->cap) {
		c = m->cap ? m->cap : 65536;
		while (c < m->n + len)
			c *= 2;
		np = realloc(m->p, c);
		if (np == NULL)
			return -1;
		m->p = np;
		m->cap = c;
	}
	memcpy(m->p + m->n, s, len);
	m->n += len;
	return 0;
}

int send_mbox_read(FILE *in, unsigned long first, send_mbox_cb cb, void *arg)
{
	struct msg m = {NULL, 0, 0, false};
	unsigned long line = first, from = first;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	bool blank = false;
	int rc = 0;

	while (rc == 0 && (len = getline(&buf, &cap, in)) >= 0) {
		const char *p = buf;
		size_t i = 0;

		line++;
		if (blank && strncmp(buf, "From ", 5) == 0) {
			rc = cb(m.p != NULL ? m.p : "", m.n, m.too_big, from, arg);
			m.n = 0;
			m.too_big = false;
			from = line;
			blank = false;
			continue;
		}
		blank = buf[0] == '\n' || (buf[0] == '\r' && buf[1] == '\n');
		while (buf[i] == '>')
			i++;
		if (i > 0 && strncmp(buf + i, "From ", 5) == 0) {
			p++;
			len--;
		}
		if (append(&m, p, (size_t)len) != 0)
			rc = -1;
	}
	if (rc == 0 && ferror(in))
		rc = -1;
	if (rc == 0)
		rc = cb(m.p != NULL ? m.p : "", m.n, m.too_big, from, arg);
	free(buf);
	free(m.p);
	return rc;
}
