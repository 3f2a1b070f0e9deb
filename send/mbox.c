/*
 * send/mbox.c: an mbox, one message at a time, for `bounce read`. A line
 * that starts with "From " after a blank line (or first in the file) starts
 * a message, and that blank line belongs to no message; mboxrd's ">From "
 * lines (any number of '>') lose one '>'. A message is kept up to
 * SEND_REPORT_MAX bytes; the rest of a longer one is read and dropped, and
 * it is passed on marked too big. Lines are read in pieces of at most
 * PIECE bytes, so that memory stays bounded whatever the input.
 */
#include <stdlib.h>
#include <string.h>

#include "send/send.h"

#define PIECE 65536

struct msg {
	char *p;
	size_t n, cap;
	bool too_big;
	size_t blank; /* bytes of the blank line that ends it so far, 0 if none */
};

/* Keeps a few bytes beyond the limit: the blank line before a separator. */
static int append(struct msg *m, const char *s, size_t len)
{
	size_t c;
	char *np;

	if (m->too_big || m->n + len > SEND_REPORT_MAX + 2) {
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

/* The next piece of a line: up to its '\n' or PIECE bytes; 0 at the end. */
static size_t piece(FILE *in, char *buf)
{
	size_t n = 0;
	int ch;

	while (n < PIECE && (ch = getc_unlocked(in)) != EOF) {
		buf[n++] = (char)ch;
		if (ch == '\n')
			break;
	}
	return n;
}

/* Hands the message on, without the blank line a separator followed. */
static int deliver(struct msg *m, unsigned long from, send_mbox_cb cb, void *arg)
{
	size_t n = m->n - (m->too_big ? 0 : m->blank);
	int rc = cb(m->p != NULL ? m->p : "", n, m->too_big || n > SEND_REPORT_MAX, from, arg);

	m->n = 0;
	m->blank = 0;
	m->too_big = false;
	return rc;
}

int send_mbox_read(FILE *in, unsigned long first, send_mbox_cb cb, void *arg)
{
	struct msg m = {NULL, 0, 0, false, 0};
	unsigned long line = first, from = first;
	char *buf = malloc(PIECE);
	bool start = true; /* the piece starts a line */
	bool after_blank = false;
	size_t len;
	int rc = 0;

	if (buf == NULL)
		return -1;
	flockfile(in);
	while (rc == 0 && (len = piece(in, buf)) > 0) {
		const char *p = buf;
		size_t i = 0;
		bool whole = buf[len - 1] == '\n';

		if (start) {
			line++;
			if (after_blank && len >= 5 && memcmp(buf, "From ", 5) == 0) {
				rc = deliver(&m, from, cb, arg);
				from = line;
				after_blank = false;
				/* The rest of a long separator line is not the message's. */
				while (rc == 0 && !whole && (len = piece(in, buf)) > 0)
					whole = buf[len - 1] == '\n';
				start = true;
				continue;
			}
			after_blank = (len == 1 && buf[0] == '\n') ||
				      (len == 2 && buf[0] == '\r' && buf[1] == '\n');
			m.blank = after_blank ? len : 0;
			while (i < len && buf[i] == '>')
				i++;
			if (i > 0 && len - i >= 5 && memcmp(buf + i, "From ", 5) == 0) {
				p++;
				len--;
			}
		} else {
			after_blank = false;
			m.blank = 0;
		}
		if (append(&m, p, len) != 0)
			rc = -1;
		start = whole;
	}
	if (rc == 0 && ferror(in))
		rc = -1;
	funlockfile(in);
	if (rc == 0)
		rc = deliver(&m, from, cb, arg);
	free(buf);
	free(m.p);
	return rc;
}
