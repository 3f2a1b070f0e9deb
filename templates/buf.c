/*
 * buf.c: struct tpl_buf, status strings and small helpers the module shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "templates/private.h"

const char *tpl_strstatus(enum tpl_status s)
{
	switch (s) {
	case TPL_OK:
		return "success";
	case TPL_ESYNTAX:
		return "template syntax error";
	case TPL_EINVAL:
		return "invalid argument";
	case TPL_ETOOBIG:
		return "over a size limit";
	case TPL_EENCODING:
		return "bad character encoding";
	case TPL_ENOTFOUND:
		return "not found";
	case TPL_ENOMEM:
		return "out of memory";
	}
	return "unknown status";
}

static enum tpl_status grow(struct tpl_buf *b, size_t n)
{
	size_t want, ncap;
	char *p;

	if (b->oom)
		return TPL_ENOMEM;
	if (n > SIZE_MAX - b->len - 1)
		goto fail;
	want = b->len + n + 1;
	if (want <= b->cap)
		return TPL_OK;
	ncap = b->cap ? b->cap : 64;
	while (ncap < want)
		ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
	p = realloc(b->data, ncap);
	if (p == NULL)
		goto fail;
	b->data = p;
	b->cap = ncap;
	return TPL_OK;
fail:
	b->oom = true;
	return TPL_ENOMEM;
}

enum tpl_status tpl_buf_reserve(struct tpl_buf *b, size_t n)
{
	return grow(b, n);
}

enum tpl_status tpl_buf_append(struct tpl_buf *b, const void *p, size_t n)
{
	if (b->oom || n >= b->cap - b->len) {
		if (grow(b, n) != TPL_OK)
			return TPL_ENOMEM;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return TPL_OK;
}

enum tpl_status tpl_buf_appends(struct tpl_buf *b, const char *s)
{
	return tpl_buf_append(b, s, strlen(s));
}

enum tpl_status tpl_buf_appendc(struct tpl_buf *b, char c)
{
	return tpl_buf_append(b, &c, 1);
}

enum tpl_status tpl_buf_vappendf(struct tpl_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	if (b->oom)
		return TPL_ENOMEM;
	if (b->cap - b->len > 1) { /* usually it fits: one pass */
		va_copy(ap2, ap);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
		va_end(ap2);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return TPL_OK;
		}
		b->data[b->len] = '\0';
	}
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || grow(b, (size_t)n) != TPL_OK) {
		b->oom = true;
		return TPL_ENOMEM;
	}
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return TPL_OK;
}

enum tpl_status tpl_buf_appendf(struct tpl_buf *b, const char *fmt, ...)
{
	enum tpl_status st;
	va_list ap;

	va_start(ap, fmt);
	st = tpl_buf_vappendf(b, fmt, ap);
	va_end(ap);
	return st;
}

void tpl_buf_reset(struct tpl_buf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *tpl_buf_steal(struct tpl_buf *b)
{
	char *p;

	if (b->oom) {
		tpl_buf_free(b);
		return NULL;
	}
	if (b->data == NULL && tpl_buf_append(b, "", 0) != TPL_OK)
		return NULL;
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void tpl_buf_free(struct tpl_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

void tpl_seterr(char **errstr, const char *fmt, ...)
{
	struct tpl_buf b = {0};
	va_list ap;

	if (errstr == NULL)
		return;
	va_start(ap, fmt);
	tpl_buf_vappendf(&b, fmt, ap);
	va_end(ap);
	free(*errstr);
	*errstr = tpl_buf_steal(&b);
}

size_t tpl_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len, i;

	if (n == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

void tpl_linecol(const char *s, size_t len, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;
	size_t i = 0;

	if (off > len)
		off = len;
	while (i < off) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n') {
			l++;
			c = 1;
		} else if ((ch & 0xc0) != 0x80) {
			c++;
		}
		i++;
	}
	*line = l;
	*col = c;
}

bool tpl_name_in(const char *name, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(name, *set) == 0)
			return true;
	return false;
}
