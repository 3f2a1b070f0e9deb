/*
 * header.c: header fields. Values are cleaned of control characters first
 * (so no value can end a header or start another), then written as ASCII
 * folded at spaces or as RFC 2047 encoded-words (B encoding, whole characters,
 * at most 75 characters each), folded so that lines stay within 78 bytes.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "templates/private.h"

#define LINE_MAX_SOFT 78
#define EW_MAX 75

enum tpl_status tpl_header_clean(const char *s, struct tpl_buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k, start = out->len;
	uint32_t cp;

	while (i < n) {
		if (p[i] < 0x80) {
			/* A line break (CRLF as one) parts words as a tab does: a space. */
			if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
				i++;
			if (p[i] == '\t' || p[i] == '\r' || p[i] == '\n')
				tpl_buf_appendc(out, ' ');
			else if (p[i] >= 0x20 && p[i] != 0x7f)
				tpl_buf_appendc(out, (char)p[i]);
			i++;
			continue;
		}
		k = tpl_utf8_decode(p + i, n - i, &cp);
		if (k == 0) {
			tpl_buf_appends(out, "\xef\xbf\xbd");
			i++;
			continue;
		}
		if (cp == 0x2028 || cp == 0x2029 || cp == 0x85)
			tpl_buf_appendc(out, ' ');
		else if (!(cp >= 0x80 && cp <= 0x9f))
			tpl_buf_append(out, p + i, k);
		i += k;
	}
	/* trim spaces at both ends */
	while (out->len > start && out->data[out->len - 1] == ' ')
		out->data[--out->len] = '\0';
	k = start;
	while (k < out->len && out->data[k] == ' ')
		k++;
	if (k > start) {
		memmove(out->data + start, out->data + k, out->len - k + 1);
		out->len -= k - start;
	}
	return out->oom ? TPL_ENOMEM : TPL_OK;
}

static bool plain_ascii(const char *s, size_t n, size_t maxword, bool allow_ew)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e)
			return false;
		if (!allow_ew && c == '=' && i + 1 < n && s[i + 1] == '?')
			return false;
		w = c == ' ' ? 0 : w + 1;
		if (w > maxword)
			return false;
	}
	return true;
}

/* Writes s as words folded at spaces; *col tracks the line length. */
static void put_folded(struct tpl_buf *out, const char *s, size_t n, size_t *col)
{
	size_t i = 0, j;
	bool first = true;

	while (i <= n) {
		for (j = i; j < n && s[j] != ' '; j++)
			;
		if (j > i && !first && *col + 1 + (j - i) > LINE_MAX_SOFT) {
			tpl_buf_appends(out, "\r\n");
			*col = 0;
		}
		tpl_buf_appendc(out, ' ');
		tpl_buf_append(out, s + i, j - i);
		*col += 1 + j - i;
		first = first && j == i;
		i = j + 1;
	}
}

/* Appends one encoded-word for the bytes p[0..n) in charset. */
static void put_ew(struct tpl_buf *out, const char *charset, const unsigned char *p, size_t n,
		   size_t *col)
{
	size_t b64 = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);

	if (tpl_buf_reserve(out, b64 + 40) != TPL_OK)
		return;
	tpl_buf_appendf(out, " =?%s?B?", charset);
	sodium_bin2base64(out->data + out->len, b64, p, n, sodium_base64_VARIANT_ORIGINAL);
	out->len += b64 - 1;
	tpl_buf_appends(out, "?=");
	*col += strlen(charset) + 8 + b64 - 1;
}

/* Base64 length of n bytes. */
static size_t b64len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* Room for base64 text in the next encoded-word on this line (or a new one). */
static size_t room(struct tpl_buf *out, size_t *col, size_t overhead)
{
	size_t r;

	if (*col + 1 + overhead + 8 > LINE_MAX_SOFT && *col > 1) {
		tpl_buf_appends(out, "\r\n");
		*col = 0;
	}
	r = LINE_MAX_SOFT - *col - 1 - overhead;
	if (r > EW_MAX - overhead)
		r = EW_MAX - overhead;
	if (r < 8)
		r = 8;
	return r / 4 * 4;
}

/* Encodes s as UTF-8 or ISO-2022-JP encoded-words, whole characters each. */
static void put_encoded(struct tpl_buf *out, const char *s, size_t n, bool jis, size_t *col)
{
	const unsigned char *p = (const unsigned char *)s;
	struct tpl_buf conv = {0};
	size_t i = 0, j, k, r, ok_end;
	uint32_t cp;

	while (i < n) {
		if (jis) {
			r = room(out, col, 18 /* =?ISO-2022-JP?B? ?= */);
			ok_end = i;
			for (j = i; j < n;) {
				k = tpl_utf8_decode(p + j, n - j, &cp);
				j += k ? k : 1;
				tpl_buf_reset(&conv);
				if (!tpl_jis_convert(s + i, j - i, &conv) || b64len(conv.len) > r)
					break;
				ok_end = j;
			}
			if (ok_end > i) {
				tpl_buf_reset(&conv);
				tpl_jis_convert(s + i, ok_end - i, &conv);
				put_ew(out, "ISO-2022-JP", (const unsigned char *)conv.data,
				       conv.len, col);
				i = ok_end;
				continue;
			}
		}
		r = room(out, col, 12 /* =?UTF-8?B? ?= */);
		for (j = i; j < n;) {
			k = tpl_utf8_decode(p + j, n - j, &cp);
			k = k ? k : 1;
			if (b64len(j + k - i) > r)
				break;
			j += k;
		}
		if (j == i) /* cannot happen: r holds at least one character */
			j = i + 1;
		put_ew(out, "UTF-8", p + i, j - i, col);
		i = j;
	}
	tpl_buf_free(&conv);
}

/* structured: ASCII words up to 900 bytes stay as they are, "=?" included
 * (a URL in List-Unsubscribe must not become an encoded-word). */
static enum tpl_status put_value(struct tpl_buf *out, const char *v, size_t n, bool jis,
				 bool structured, size_t *col)
{
	if (n == 0)
		return TPL_OK;
	const char *sp = memchr(v, ' ', n);
	size_t first = sp != NULL ? (size_t)(sp - v) : n;

	/* unstructured: the first word must fit on the first line too */
	if (plain_ascii(v, n, structured ? 900 : LINE_MAX_SOFT - 2, structured) &&
	    (structured || *col + 1 + first <= LINE_MAX_SOFT))
		put_folded(out, v, n, col);
	else
		put_encoded(out, v, n, jis, col);
	return out->oom ? TPL_ENOMEM : TPL_OK;
}

static bool field_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 76)
		return false;
	for (i = 0; i < n; i++) {
		if (name[i] < 33 || name[i] > 126 || name[i] == ':')
			return false;
	}
	return true;
}

enum tpl_status tpl_header_unstructured(struct tpl_buf *out, const char *name, const char *value,
					bool jis)
{
	return tpl_header_field(out, name, value, jis, false);
}

enum tpl_status tpl_header_field(struct tpl_buf *out, const char *name, const char *value, bool jis,
				 bool structured)
{
	struct tpl_buf v = {0};
	enum tpl_status st = TPL_EINVAL;
	size_t col;

	if (!field_name_ok(name))
		goto done;
	st = tpl_header_clean(value != NULL ? value : "", &v);
	if (st != TPL_OK)
		goto done;
	tpl_buf_appends(out, name);
	tpl_buf_appendc(out, ':');
	col = strlen(name) + 1;
	st = put_value(out, v.data ? v.data : "", v.len, jis, structured, &col);
	tpl_buf_appends(out, "\r\n");
	if (out->oom)
		st = TPL_ENOMEM;
done:
	tpl_buf_free(&v);
	return st;
}

static bool atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool dot_atom(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '.' ? s[i + 1] == '.' : !atext(s[i]))
			return false;
	}
	return true;
}

static bool domain_ok(const char *d)
{
	size_t i, n = strlen(d), label = 0;

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		char c = d[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

/*
 * Is s[0..n) a quoted string of RFC 5321 (4.1.2): printable ASCII between
 * double quotes, a quote or a backslash inside only after a backslash? The
 * store keeps an address whose local part needs quoting in that form.
 */
static bool quoted_string(const char *s, size_t n)
{
	size_t i;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return false;
	for (i = 1; i < n - 1; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return false;
	}
	return i == n - 1;
}

/* Appends addr with its local part quoted when it is neither a dot-atom nor
 * quoted already. */
static enum tpl_status put_addr_spec(struct tpl_buf *out, const char *addr, char **errstr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
	size_t i, n;

	if (at == NULL || at == addr || !domain_ok(at + 1)) {
		tpl_seterr(errstr, "\"%s\" is not an address of the form local@domain",
			   addr != NULL ? addr : "(null)");
		return TPL_EINVAL;
	}
	n = (size_t)(at - addr);
	for (i = 0; i < n; i++) {
		if (addr[i] < 0x20 || addr[i] > 0x7e) {
			tpl_seterr(errstr, "the local part of an address may hold only printable "
					   "ASCII");
			return TPL_EINVAL;
		}
	}
	if (n > 64) {
		tpl_seterr(errstr, "the local part of an address is over 64 characters");
		return TPL_EINVAL;
	}
	if (dot_atom(addr, n) || quoted_string(addr, n)) {
		tpl_buf_appends(out, addr);
	} else {
		tpl_buf_appendc(out, '"');
		for (i = 0; i < n; i++) {
			if (addr[i] == '"' || addr[i] == '\\')
				tpl_buf_appendc(out, '\\');
			tpl_buf_appendc(out, addr[i]);
		}
		tpl_buf_appendc(out, '"');
		tpl_buf_appends(out, at);
	}
	return out->oom ? TPL_ENOMEM : TPL_OK;
}

enum tpl_status tpl_addr_spec(struct tpl_buf *out, const char *addr, char **errstr)
{
	return put_addr_spec(out, addr, errstr);
}

/* ---- Reading a mailbox (RFC 5322 3.4) ------------------------------------ */

/* The addr-spec s[0..n), blanks around it dropped: a dot-atom local part (at
 * most 64 characters) and a domain. */
static enum tpl_status mailbox_addr(const char *s, size_t n, char **addr, char **errstr)
{
	const char *at;
	size_t local;

	for (; n > 0 && (*s == ' ' || *s == '\t'); s++, n--)
		;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*addr = strndup(s, n);
	if (*addr == NULL)
		return TPL_ENOMEM;
	at = strrchr(*addr, '@');
	local = at != NULL ? (size_t)(at - *addr) : 0;
	if (at == NULL || local > 64 || !dot_atom(*addr, local) || !domain_ok(at + 1)) {
		tpl_seterr(errstr, "the From address \"%s\" is not an email address", *addr);
		return TPL_EINVAL;
	}
	return TPL_OK;
}

/* The display name s[0..n): atoms (UTF-8 allowed, RFC 6532; '.' as RFC 5322's
 * obs-phrase allows) and quoted-strings, unquoted and unescaped once, the
 * words joined by one space where blanks part them. */
static enum tpl_status mailbox_name(const char *s, size_t n, struct tpl_buf *out, char **errstr)
{
	const char *p = s, *end = s + n;
	bool blank = false;

	while (p < end) {
		if (*p == ' ' || *p == '\t') {
			blank = true;
			p++;
			continue;
		}
		if (blank && out->len > 0)
			tpl_buf_appendc(out, ' ');
		blank = false;
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			tpl_seterr(errstr, "the From's display name holds a control character");
			return TPL_EINVAL;
		}
		if (*p != '"' && strchr("()<>[]:;@\\,", *p) != NULL) {
			tpl_seterr(errstr,
				   "the From's display name holds '%c'; put the name in quotes: "
				   "\"Hato, Inc.\" <news@example.com>",
				   *p);
			return TPL_EINVAL;
		}
		if (*p != '"') {
			tpl_buf_appendc(out, *p++);
			continue;
		}
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			tpl_buf_appendc(out, *p);
		}
		if (p == end) {
			tpl_seterr(errstr,
				   "the From's display name has a quote that is not closed");
			return TPL_EINVAL;
		}
		p++;
	}
	return out->oom ? TPL_ENOMEM : TPL_OK;
}

enum tpl_status tpl_mailbox_parse(const char *s, char **name, char **addr, char **errstr)
{
	struct tpl_buf nm = {0};
	const char *lt = NULL, *gt = NULL, *p;
	enum tpl_status st = TPL_EINVAL;
	bool quoted = false, many = false;

	*name = *addr = NULL;
	/* The angle-addr's '<', and no comma (a second address) outside quotes. */
	for (p = s; *p != '\0' && lt == NULL && !many; p++) {
		if (quoted && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '<')
			lt = p;
		else if (!quoted && *p == ',')
			many = true;
	}
	if (lt != NULL) {
		gt = strchr(lt, '>');
		p = gt != NULL ? gt + 1 + strspn(gt + 1, " \t") : "";
		many = *p == ',';
	}
	if (lt == NULL && quoted) {
		tpl_seterr(errstr, "the From has a quote that is not closed");
	} else if (many) {
		tpl_seterr(errstr, "the From holds more than one address; give one (a name with a "
				   "comma goes in quotes: \"Hato, Inc.\" <news@example.com>)");
	} else if (lt == NULL) {
		st = mailbox_addr(s, strlen(s), addr, errstr);
	} else if (gt == NULL || *p != '\0') {
		tpl_seterr(errstr,
			   gt == NULL ? "the From address has no '>' to close it"
				      : "the From holds more after its address: \"%s\"",
			   p);
	} else {
		st = mailbox_name(s, (size_t)(lt - s), &nm, errstr);
		if (st == TPL_OK)
			st = mailbox_addr(lt + 1, (size_t)(gt - lt - 1), addr, errstr);
	}
	if (st == TPL_OK) {
		*name = tpl_buf_steal(&nm);
		st = *name != NULL ? TPL_OK : TPL_ENOMEM;
	}
	if (st != TPL_OK) {
		free(*addr);
		*addr = NULL;
	}
	tpl_buf_free(&nm);
	return st;
}

/* A short ASCII display name: as atoms, or as a quoted-string. */
static void put_phrase(struct tpl_buf *out, const char *s, size_t n, size_t *col)
{
	size_t i;
	bool atoms = true;

	for (i = 0; i < n; i++)
		atoms = atoms && (atext(s[i]) || s[i] == ' ');
	tpl_buf_appendc(out, ' ');
	if (!atoms)
		tpl_buf_appendc(out, '"');
	for (i = 0; i < n; i++) {
		if (!atoms && (s[i] == '"' || s[i] == '\\')) {
			tpl_buf_appendc(out, '\\');
			(*col)++;
		}
		tpl_buf_appendc(out, s[i]);
	}
	if (!atoms)
		tpl_buf_appendc(out, '"');
	*col += 1 + n + (atoms ? 0 : 2);
}

enum tpl_status tpl_header_address(struct tpl_buf *out, const char *name, const struct tpl_addr *a,
				   bool jis, char **errstr)
{
	struct tpl_buf v = {0}, spec = {0};
	enum tpl_status st = TPL_EINVAL;
	size_t col;

	if (!field_name_ok(name)) {
		tpl_seterr(errstr, "\"%s\" is not a header field name", name);
		goto done;
	}
	st = put_addr_spec(&spec, a->addr, errstr);
	if (st != TPL_OK)
		goto done;
	st = tpl_header_clean(a->name != NULL ? a->name : "", &v);
	if (st != TPL_OK)
		goto done;
	tpl_buf_appends(out, name);
	tpl_buf_appendc(out, ':');
	col = strlen(name) + 1;
	if (v.len == 0) {
		tpl_buf_appendc(out, ' ');
		tpl_buf_append(out, spec.data, spec.len);
	} else {
		if (v.len <= 60 && plain_ascii(v.data, v.len, 60, false))
			put_phrase(out, v.data, v.len, &col);
		else
			put_encoded(out, v.data, v.len, jis, &col);
		if (col + 3 + spec.len > LINE_MAX_SOFT)
			tpl_buf_appends(out, "\r\n");
		tpl_buf_appends(out, " <");
		tpl_buf_append(out, spec.data, spec.len);
		tpl_buf_appendc(out, '>');
	}
	tpl_buf_appends(out, "\r\n");
	st = out->oom ? TPL_ENOMEM : TPL_OK;
done:
	tpl_buf_free(&v);
	tpl_buf_free(&spec);
	return st;
}

/* Counts forks, so that a child never repeats its parent's random stream. */
static atomic_uint forks = 1;
static pthread_once_t forks_once = PTHREAD_ONCE_INIT;

static void forked(void)
{
	atomic_fetch_add(&forks, 1);
}

static void watch_forks(void)
{
	pthread_atfork(NULL, NULL, forked);
}

void tpl_random(void *buf, size_t n)
{
	static _Thread_local unsigned char seed[randombytes_SEEDBYTES];
	static _Thread_local unsigned seeded; /* the fork count when seeded; 0: never */
	unsigned char block[randombytes_SEEDBYTES + 64];
	unsigned now;

	if (n > 64) {
		randombytes_buf(buf, n);
		return;
	}
	pthread_once(&forks_once, watch_forks);
	now = atomic_load(&forks);
	if (seeded != now) { /* first use in this thread, or a forked child */
		randombytes_buf(seed, sizeof(seed));
		seeded = now;
	}
	randombytes_buf_deterministic(block, sizeof(seed) + n, seed);
	memcpy(seed, block, sizeof(seed));
	memcpy(buf, block + sizeof(seed), n);
	sodium_memzero(block, sizeof(block));
}

void tpl_date(time_t t, char out[40])
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	long off, h, m;

	if (localtime_r(&t, &tm) == NULL) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	off = tm.tm_gmtoff / 60;
	h = (off < 0 ? -off : off) / 60;
	m = (off < 0 ? -off : off) % 60;
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday % 7],
		 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, off < 0 ? '-' : '+', h % 100, m);
}

enum tpl_status tpl_message_id(const char *domain, char *out, size_t outsz)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char r[16];
	char id[27];
	size_t i, bits = 0, k = 0;
	unsigned acc = 0;
	int n;

	if (domain == NULL || !domain_ok(domain))
		return TPL_EINVAL;
	tpl_random(r, sizeof(r));
	for (i = 0; i < sizeof(r); i++) {
		acc = (acc << 8) | r[i];
		bits += 8;
		while (bits >= 5) {
			id[k++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		id[k++] = b32[(acc << (5 - bits)) & 31];
	id[k] = '\0';
	n = snprintf(out, outsz, "<%s@%s>", id, domain);
	if (n < 0 || (size_t)n >= outsz)
		return TPL_EINVAL;
	return TPL_OK;
}
