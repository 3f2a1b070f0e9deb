/*
 * mime.c: the complete message: headers, then multipart/alternative with the
 * text part first and the HTML part last. Bodies are quoted-printable UTF-8
 * (lines of at most 76, CRLF), or 7bit ISO-2022-JP when the caller asks for it
 * and every part converts both ways without loss with no line over 998 bytes.
 * The HTML's own <meta> charset declaration is made to name the charset of
 * its MIME part.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "templates/private.h"

#define QP_MAX 76

/* How quoted-printable writes each byte: as itself, as a blank (itself unless
 * it ends a line), as =XX, or as a line end. */
enum { QP_LIT, QP_BLANK, QP_HEX, QP_EOL };

static unsigned char qp_class(unsigned char c)
{
	if (c == '\r' || c == '\n')
		return QP_EOL;
	if (c == ' ' || c == '\t')
		return QP_BLANK;
	return c >= 33 && c <= 126 && c != '=' ? QP_LIT : QP_HEX;
}

static unsigned char cls[256]; /* qp_class() of every byte */

static void qp_classes(void)
{
	for (int c = 0; c < 256; c++)
		cls[c] = qp_class((unsigned char)c);
}

/* Is s[i..n) "From " (which a mailbox would rewrite at a line's start)? */
static bool from_at(const unsigned char *s, size_t i, size_t n)
{
	return n - i >= 5 && memcmp(s + i, "From ", 5) == 0;
}

/* Appends s as quoted-printable with CRLF line ends. LF, CRLF and a lone CR
 * all end a line. "From " starting a line is written "=46rom ": an mbox
 * would rewrite it to ">From ", breaking the DKIM body hash. */
static enum tpl_status qp_encode(struct tpl_buf *out, const char *src, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const unsigned char *s = (const unsigned char *)src;
	size_t i, col = 0, worst = n * 3 + (n * 3 / (QP_MAX - 1) + 2) * 3 + 8;
	char *o;

	pthread_once(&once, qp_classes);
	if (tpl_buf_reserve(out, worst) != TPL_OK)
		return TPL_ENOMEM;
	o = out->data + out->len;
	for (i = 0; i < n; i++) {
		unsigned char c = s[i], k = cls[c];

		if (k == QP_EOL) {
			if (c == '\r' && i + 1 < n && s[i + 1] == '\n')
				i++;
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
			continue;
		}
		if ((k == QP_BLANK && (i + 1 == n || cls[s[i + 1]] == QP_EOL)) ||
		    (col == 0 && from_at(s, i, n)))
			k = QP_HEX;
		if (k != QP_HEX) {
			/* a run of bytes written as themselves: copied a line's room at a time */
			size_t j = i + 1;

			while (j < n &&
			       (cls[s[j]] == QP_LIT ||
				(cls[s[j]] == QP_BLANK && j + 1 < n && cls[s[j + 1]] != QP_EOL)))
				j++;
			while (i < j) {
				size_t take;

				if (col + 1 > QP_MAX - 1) {
					memcpy(o, "=\r\n", 3);
					o += 3;
					col = 0;
					if (from_at(s, i, n)) {
						memcpy(o, "=46", 3);
						o += 3;
						col = 3;
						i++;
					}
				}
				take = j - i < QP_MAX - 1 - col ? j - i : QP_MAX - 1 - col;
				memcpy(o, s + i, take);
				o += take;
				col += take;
				i += take;
			}
			i--; /* the loop's i++ */
			continue;
		}
		if (col + 3 > QP_MAX - 1) {
			memcpy(o, "=\r\n", 3);
			o += 3;
			col = 0;
		}
		o[0] = '=';
		o[1] = hex[c >> 4];
		o[2] = hex[c & 15];
		o += 3;
		col += 3;
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return TPL_OK;
}

/* Appends s with every line end made CRLF. */
static void crlf(struct tpl_buf *out, const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (s[i] != '\r' && s[i] != '\n')
			continue;
		tpl_buf_append(out, s + start, i - start);
		tpl_buf_append(out, "\r\n", 2);
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	tpl_buf_append(out, s + start, n - start);
}

static bool cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* Validates UTF-8 (no overlongs, surrogates or code points past U+10FFFF),
 * eight ASCII bytes at a time where it can: it runs on every message. */
static bool valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	uint64_t w;

	while (i < n) {
		unsigned char c = p[i];

		if (n - i >= 8) {
			memcpy(&w, p + i, 8);
			if ((w & 0x8080808080808080ull) == 0) {
				i += 8;
				continue;
			}
		}
		if (c < 0x80) {
			i++;
		} else if (c >= 0xc2 && c <= 0xdf) {
			if (n - i < 2 || !cont(p[i + 1]))
				return false;
			i += 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			if (n - i < 3 || !cont(p[i + 1]) || !cont(p[i + 2]) ||
			    (c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] >= 0xa0))
				return false;
			i += 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			if (n - i < 4 || !cont(p[i + 1]) || !cont(p[i + 2]) || !cont(p[i + 3]) ||
			    (c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] >= 0x90))
				return false;
			i += 4;
		} else {
			return false;
		}
	}
	return true;
}

/* Appends the ISO-2022-JP text j with CRLF line ends, if it is 7bit and no line is
 * over 998 bytes. */
static bool jis_lines(const struct tpl_buf *j, struct tpl_buf *out)
{
	size_t i, start = out->len, line = 0;

	crlf(out, j->data ? j->data : "", j->len);
	if (out->oom)
		return false;
	for (i = start; i < out->len; i++) {
		unsigned char c = (unsigned char)out->data[i];

		if (c == 0 || c >= 0x80)
			return false;
		line = c == '\n' ? 0 : line + 1;
		if (line > 998)
			return false;
	}
	return true;
}

/* The 7bit ISO-2022-JP form of s with CRLF line ends, if it is lossless and
 * no line is over 998 bytes. */
static bool jis_body(const char *s, size_t n, struct tpl_buf *out)
{
	struct tpl_buf j = {0};
	bool ok = tpl_jis_lossless(s, n) && tpl_jis_convert(s, n, &j) && jis_lines(&j, out);

	tpl_buf_free(&j);
	return ok;
}

/*
 * The text part in 7bit ISO-2022-JP: its lines wrapped as format=flowed when
 * one is over 78 bytes (flowed.c), for the carriers, which ask for short
 * lines; else as jis_body makes it.
 */
static bool jis_text(const char *s, size_t n, struct tpl_buf *out, bool *flowed)
{
	struct tpl_buf j = {0};
	bool ok = tpl_jis_lossless(s, n) && tpl_jis_convert(s, n, &j);

	*flowed = ok && tpl_jis_too_long(j.data ? j.data : "", j.len);
	if (ok)
		ok = *flowed ? tpl_jis_flowed(s, n, out) : jis_lines(&j, out);
	tpl_buf_free(&j);
	return ok;
}

/* Where HTML's own charset declaration is looked for: the first 1024 bytes
 * (the HTML standard's prescan), in <meta charset=...> and in <meta
 * http-equiv="Content-Type" content="text/html; charset=...">. */
#define META_PRESCAN 1024

/* Moves k past the bytes of set (or, with !in, up to one), at most to end. */
static size_t span(const char *h, size_t k, size_t end, const char *set, bool in)
{
	while (k < end && (memchr(set, h[k], strlen(set)) != NULL) == in)
		k++;
	return k;
}

/* The next charset name a <meta> tag declares at or after `from`: its offset
 * and length, or false. */
static bool meta_charset(const char *h, size_t n, size_t from, size_t *pos, size_t *len)
{
	size_t lim = n < META_PRESCAN ? n : META_PRESCAN;

	for (size_t i = from; i < lim; i++) {
		const char *gt;
		size_t end;

		if (h[i] != '<' || n - i < 6 || strncasecmp(h + i + 1, "meta", 4) != 0 ||
		    memchr(" \t\r\n/", h[i + 5], 5) == NULL)
			continue;
		gt = memchr(h + i, '>', n - i);
		end = gt != NULL ? (size_t)(gt - h) : n;
		for (size_t j = i + 5; j + 7 < end; j++) {
			size_t k, v;

			if (strncasecmp(h + j, "charset", 7) != 0)
				continue;
			k = span(h, j + 7, end, " \t\r\n", true);
			if (k >= end || h[k] != '=')
				continue;
			v = span(h, k + 1, end, " \t\r\n\"'", true);
			k = span(h, v, end, " \t\r\n\"';/", false);
			if (k > v) {
				*pos = v;
				*len = k - v;
				return true;
			}
		}
		i = end;
	}
	return false;
}

/* Copies html into out with each charset its <meta> tags declare made
 * `charset`, so that the HTML says what the MIME part says. False, with out
 * untouched, when they all say it already (or there are none). */
static bool meta_charset_fix(const char *html, size_t n, const char *charset, struct tpl_buf *out)
{
	size_t from = 0, done = 0, pos, len, cl = strlen(charset);
	bool changed = false;

	while (meta_charset(html, n, from, &pos, &len)) {
		if (len != cl || strncasecmp(html + pos, charset, cl) != 0) {
			tpl_buf_append(out, html + done, pos - done);
			tpl_buf_appends(out, charset);
			done = pos + len;
			changed = true;
		}
		from = pos + len;
	}
	if (changed)
		tpl_buf_append(out, html + done, n - done);
	return changed;
}

static bool jis_header_ok(const char *s)
{
	struct tpl_buf v = {0};
	bool ok;

	if (s == NULL)
		return true;
	ok = tpl_header_clean(s, &v) == TPL_OK && tpl_jis_lossless(v.data ? v.data : "", v.len);
	tpl_buf_free(&v);
	return ok;
}

static bool reserved_name(const char *name)
{
	static const char *const names[] = {
	    "From", "To", "Subject", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	    NULL};
	size_t i;

	for (i = 0; names[i] != NULL; i++) {
		if (strcasecmp(name, names[i]) == 0)
			return true;
	}
	return false;
}

static const char *given(const struct tpl_message *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nheaders; i++) {
		if (m->headers[i].name != NULL && strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].value != NULL ? m->headers[i].value : "";
	}
	return NULL;
}

/* The Date of a message made now: formatted once a second per thread (a
 * campaign asks for it thousands of times a second). */
static void now_date(char out[40])
{
	static _Thread_local time_t last = (time_t)-1;
	static _Thread_local char last_s[40];
	time_t t = time(NULL);

	if (t != last) {
		tpl_date(t, last_s);
		last = t;
	}
	memcpy(out, last_s, 40);
}

static enum tpl_status put_headers(const struct tpl_message *m, bool jis, struct tpl_buf *out,
				   char **errstr)
{
	enum tpl_status st;
	const char *at;
	char date[40], mid[300];
	size_t i;

	st = tpl_header_address(out, "From", &m->from, jis, errstr);
	if (st == TPL_OK)
		st = tpl_header_address(out, "To", &m->to, jis, errstr);
	if (st != TPL_OK)
		return st;
	if (tpl_header_unstructured(out, "Subject", m->subject ? m->subject : "", jis) != TPL_OK)
		return TPL_ENOMEM;
	if (given(m, "Date") == NULL) {
		now_date(date);
		tpl_buf_appendf(out, "Date: %s\r\n", date);
	}
	if (given(m, "Message-ID") == NULL) {
		at = strrchr(m->from.addr, '@');
		if (at == NULL || tpl_message_id(at + 1, mid, sizeof(mid)) != TPL_OK) {
			tpl_seterr(errstr, "can't make a Message-ID from \"%s\"", m->from.addr);
			return TPL_EINVAL;
		}
		tpl_buf_appendf(out, "Message-ID: %s\r\n", mid);
	}
	for (i = 0; i < m->nheaders; i++) {
		const struct tpl_header *h = &m->headers[i];

		if (h->name == NULL || reserved_name(h->name)) {
			tpl_seterr(errstr, "the header \"%s\" can't be given as an extra header",
				   h->name ? h->name : "(null)");
			return TPL_EINVAL;
		}
		st = tpl_header_field(out, h->name, h->value ? h->value : "", false, true);
		if (st == TPL_EINVAL)
			tpl_seterr(errstr, "\"%s\" is not a header field name", h->name);
		if (st != TPL_OK)
			return st;
	}
	return out->oom ? TPL_ENOMEM : TPL_OK;
}

static void put_part(struct tpl_buf *out, const char *boundary, const char *type, bool jis,
		     bool flowed, const char *body, size_t len)
{
	tpl_buf_appends(out, "--");
	tpl_buf_appends(out, boundary);
	tpl_buf_appends(out, "\r\nContent-Type: ");
	tpl_buf_appends(out, type);
	tpl_buf_appends(out, jis ? "; charset=ISO-2022-JP" : "; charset=UTF-8");
	if (flowed)
		tpl_buf_appends(out, ";\r\n format=flowed; delsp=yes");
	tpl_buf_appends(out, jis ? "\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
				 : "\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
	if (jis)
		tpl_buf_append(out, body, len);
	else
		qp_encode(out, body, len);
	tpl_buf_appends(out, "\r\n");
}

static void make_boundary(char out[48], const struct tpl_buf *a, const struct tpl_buf *b)
{
	unsigned char r[16];
	char hex[33];

	do {
		tpl_random(r, sizeof(r));
		sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
		snprintf(out, 48, "=_hato_%s", hex);
	} while ((a->len > 0 && memmem(a->data, a->len, out, strlen(out)) != NULL) ||
		 (b->len > 0 && memmem(b->data, b->len, out, strlen(out)) != NULL));
}

enum tpl_status tpl_message_build(const struct tpl_message *m, struct tpl_buf *out, bool *used_jis,
				  char **errstr)
{
	struct tpl_buf jt = {0}, jh = {0}, hm = {0}, hw = {0};
	const char *text = m->text ? m->text : "", *html = m->html ? m->html : "";
	size_t html_len = m->html_len;
	enum tpl_status st = TPL_EENCODING;
	bool jis = false, meta = false, flowed = false;
	char boundary[48];

	if (!valid_utf8(text, m->text_len) || !valid_utf8(html, m->html_len)) {
		tpl_seterr(errstr, "the message body is not valid UTF-8");
		goto done;
	}
	/* The HTML's <meta charset> is made to say what its part's charset says. */
	if (m->iso2022jp && jis_header_ok(m->subject) && jis_header_ok(m->from.name) &&
	    jis_header_ok(m->to.name) && jis_text(text, m->text_len, &jt, &flowed)) {
		meta = meta_charset_fix(html, html_len, "ISO-2022-JP", &hm);
		/* Its long lines broken between attributes, for the carriers */
		jis = tpl_html_wrap(meta ? hm.data : html, meta ? hm.len : html_len, &hw) &&
		      jis_body(hw.data != NULL ? hw.data : "", hw.len, &jh);
	}
	if (!jis) {
		tpl_buf_reset(&hm);
		meta = meta_charset_fix(html, html_len, "UTF-8", &hm);
	}
	if (meta) {
		if (hm.oom) {
			st = TPL_ENOMEM;
			goto done;
		}
		html = hm.data;
		html_len = hm.len;
	}
	st = put_headers(m, jis, out, errstr);
	if (st != TPL_OK)
		goto done;
	make_boundary(boundary, &jt, &jh);
	tpl_buf_appendf(out,
			"MIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n "
			"boundary=\"%s\"\r\n\r\n",
			boundary);
	put_part(out, boundary, "text/plain", jis, jis && flowed, jis ? jt.data : text,
		 jis ? jt.len : m->text_len);
	put_part(out, boundary, "text/html", jis, false, jis ? jh.data : html,
		 jis ? jh.len : html_len);
	tpl_buf_appendf(out, "--%s--\r\n", boundary);
	st = out->oom ? TPL_ENOMEM : TPL_OK;
	if (used_jis != NULL)
		*used_jis = jis;
done:
	tpl_buf_free(&jt);
	tpl_buf_free(&jh);
	tpl_buf_free(&hm);
	tpl_buf_free(&hw);
	return st;
}
