/*
 * jis.c: ISO-2022-JP through glibc's iconv.
 *
 * Each thread keeps its own pair of conversion descriptors (opened on first
 * use, reset before each conversion), so converting costs no iconv_open.
 * They are closed when the thread ends: the worker's compose threads come
 * and go with each campaign it takes up.
 */
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <string.h>

#include "templates/private.h"

static _Thread_local iconv_t to_jis = (iconv_t)-1;
static _Thread_local iconv_t from_jis = (iconv_t)-1;
static pthread_key_t closer; /* its destructor runs as a thread that opened one ends */
static pthread_once_t closer_once = PTHREAD_ONCE_INIT;
static bool have_closer;

static void close_cds(void *unused)
{
	(void)unused;
	if (to_jis != (iconv_t)-1)
		iconv_close(to_jis);
	if (from_jis != (iconv_t)-1)
		iconv_close(from_jis);
	to_jis = from_jis = (iconv_t)-1;
}

static void make_closer(void)
{
	have_closer = pthread_key_create(&closer, close_cds) == 0;
}

static bool open_cd(iconv_t *cd, const char *to, const char *from)
{
	if (*cd == (iconv_t)-1) {
		pthread_once(&closer_once, make_closer);
		*cd = iconv_open(to, from);
		if (*cd != (iconv_t)-1 && have_closer)
			pthread_setspecific(closer, &closer); /* any value but NULL */
	}
	if (*cd == (iconv_t)-1)
		return false;
	iconv(*cd, NULL, NULL, NULL, NULL);
	return true;
}

/* Appends the conversion of s through cd to out, including the final shift
 * back to ASCII; false on any failure. */
static bool convert(iconv_t cd, const char *s, size_t len, struct tpl_buf *out)
{
	char *in = (char *)s, *op;
	size_t inleft = len, outleft, r, chunk = len * 2 + 16;
	bool flushing = false;

	for (;;) {
		if (tpl_buf_reserve(out, chunk) != TPL_OK)
			return false;
		op = out->data + out->len;
		outleft = out->cap - out->len - 1;
		if (flushing)
			r = iconv(cd, NULL, NULL, &op, &outleft);
		else
			r = iconv(cd, &in, &inleft, &op, &outleft);
		out->len = (size_t)(op - out->data);
		out->data[out->len] = '\0';
		if (r != (size_t)-1) {
			if (flushing)
				return true;
			flushing = true;
			continue;
		}
		if (errno != E2BIG)
			return false;
		chunk *= 2;
	}
}

static bool has_shift_bytes(const char *s, size_t len)
{
	return memchr(s, 0x1b, len) != NULL || memchr(s, 0x0e, len) != NULL ||
	       memchr(s, 0x0f, len) != NULL;
}

bool tpl_jis_convert(const char *s, size_t len, struct tpl_buf *out)
{
	size_t start = out->len;

	if (has_shift_bytes(s, len) || !open_cd(&to_jis, "ISO-2022-JP", "UTF-8"))
		return false;
	if (convert(to_jis, s, len, out))
		return true;
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return false;
}

bool tpl_jis_lossless(const char *s, size_t len)
{
	struct tpl_buf j = {0}, back = {0};
	bool ok = false;

	if (has_shift_bytes(s, len) || !tpl_jis_convert(s, len, &j))
		goto done;
	if (!open_cd(&from_jis, "UTF-8", "ISO-2022-JP"))
		goto done;
	if (!convert(from_jis, j.data ? j.data : "", j.len, &back))
		goto done;
	ok = back.len == len && (len == 0 || memcmp(back.data, s, len) == 0);
done:
	tpl_buf_free(&j);
	tpl_buf_free(&back);
	return ok;
}

size_t tpl_jis_unencodable(const char *s, size_t len, size_t *offs, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, count = 0;
	uint32_t cp;

	while (i < len) {
		if (p[i] < 0x80 && p[i] != 0x1b && p[i] != 0x0e && p[i] != 0x0f) {
			i++;
			continue;
		}
		k = tpl_utf8_decode(p + i, len - i, &cp);
		if (k == 0 || p[i] < 0x80 || !tpl_jis_lossless(s + i, k)) {
			if (count < max)
				offs[count] = i;
			count++;
		}
		i += k ? k : 1;
	}
	return count;
}
