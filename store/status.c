/*
 * store/status.c: status strings and the helpers every store file shares.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uninorm.h>

#include "store/private.h"

int store_reserve(void *bufp, size_t *cap, size_t need, size_t first)
{
	size_t c = *cap ? *cap : first;
	void *old, *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	memcpy(&old, bufp, sizeof(old));
	p = realloc(old, c);
	if (p == NULL)
		return -1;
	memcpy(bufp, &p, sizeof(p));
	*cap = c;
	return 0;
}

const char *store_strstatus(enum store_status s)
{
	switch (s) {
	case STORE_OK:
		return "success";
	case STORE_EUSAGE:
		return "bad usage";
	case STORE_EINVAL:
		return "invalid data";
	case STORE_EEXIST:
		return "already exists";
	case STORE_ENOTFOUND:
		return "not found";
	case STORE_EAUTH:
		return "authentication failed";
	case STORE_ELOCKED:
		return "account locked";
	case STORE_EDELAY:
		return "login delayed after failures";
	case STORE_EDENIED:
		return "permission denied";
	case STORE_EBUSY:
		return "another hato is writing to the store; try again when it is done";
	case STORE_EUNSAFE:
		return "unsafe file permissions";
	case STORE_ECORRUPT:
		return "store damaged";
	case STORE_EIO:
		return "input/output error";
	case STORE_ENOMEM:
		return "out of memory";
	case STORE_EINTR:
		return "interrupted";
	}
	return "unknown status";
}

enum store_status store_fail(char **errstr, enum store_status s, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *buf;

	if (errstr == NULL)
		return s;
	free(*errstr);
	*errstr = NULL;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return s;
	buf = malloc((size_t)n + 1);
	if (buf == NULL)
		return s;
	va_start(ap, fmt);
	vsnprintf(buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*errstr = buf;
	return s;
}

const char *store_strerror(int err)
{
	if (err == ENOSPC)
		return "the disk is full";
	if (err == EDQUOT)
		return "the disk quota is used up";
	return strerror(err);
}

/* Did db fail for want of room? *err is ENOSPC or EDQUOT when it did. */
static bool sql_full(sqlite3 *db, int *err)
{
	int code = sqlite3_extended_errcode(db) & 0xff, sys = sqlite3_system_errno(db);

	*err = sys == EDQUOT ? EDQUOT : ENOSPC;
	return code == SQLITE_FULL || ((code == SQLITE_IOERR || code == SQLITE_CANTOPEN) &&
				       (sys == ENOSPC || sys == EDQUOT));
}

const char *store_sql_why(sqlite3 *db)
{
	static _Thread_local char buf[300];
	int err, code = sqlite3_extended_errcode(db) & 0xff, sys = sqlite3_system_errno(db);

	if (sql_full(db, &err))
		return store_strerror(err);
	/* A file that can't be opened or written: the system's reason says why. */
	if ((code == SQLITE_CANTOPEN || code == SQLITE_IOERR || code == SQLITE_READONLY) &&
	    sys != 0) {
		snprintf(buf, sizeof(buf), "%s (%s)", sqlite3_errmsg(db), strerror(sys));
		return buf;
	}
	return sqlite3_errmsg(db);
}

enum store_status store_sqlfail(struct store *st, char **errstr, const char *what)
{
	int code = sqlite3_extended_errcode(st->db) & 0xff, err;
	const char *msg = sqlite3_errmsg(st->db);

	if (sql_full(st->db, &err))
		return store_fail(errstr, STORE_EIO, "%s: %s, where the store is (%s)", what,
				  store_strerror(err), st->path);

	switch (code) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return store_fail(errstr, STORE_EBUSY,
				  "%s: the store is busy: another hato is writing to it (an "
				  "import, the worker or the terminal UI); try again when it "
				  "has finished",
				  what);
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return store_fail(errstr, STORE_ECORRUPT, "%s: the store is damaged: %s", what,
				  msg);
	case SQLITE_ERROR:
		/*
		 * SQLCipher fails a page whose HMAC does not check out with the
		 * bare SQLITE_ERROR, no message of its own: every other error of
		 * this code names what is wrong. sqlcipher_export passes on the
		 * error of what it read as SQLITE_ERROR with that error's text.
		 */
		if (strcmp(msg, sqlite3_errstr(SQLITE_ERROR)) == 0)
			return store_fail(
			    errstr, STORE_ECORRUPT,
			    "%s: the store is damaged: a page of %s " STORE_PAGE_DAMAGED, what,
			    st->path);
		if (strcmp(msg, sqlite3_errstr(SQLITE_CORRUPT)) == 0 ||
		    strcmp(msg, sqlite3_errstr(SQLITE_NOTADB)) == 0)
			return store_fail(errstr, STORE_ECORRUPT, "%s: the store is damaged: %s",
					  what, msg);
		return store_fail(errstr, STORE_EIO, "%s: %s", what, msg);
	case SQLITE_NOMEM:
		return store_fail(errstr, STORE_ENOMEM, "%s: out of memory", what);
	case SQLITE_CONSTRAINT:
		return store_fail(errstr, STORE_EEXIST, "%s: %s", what, msg);
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	default:
		return store_fail(errstr, STORE_EIO, "%s: %s", what, msg);
	}
}

enum store_status store_prepare(struct store *st, const char *sql, sqlite3_stmt **stmt,
				char **errstr)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) != SQLITE_OK) {
		*stmt = NULL;
		return store_sqlfail(st, errstr, "store");
	}
	return STORE_OK;
}

enum store_status store_exec(struct store *st, const char *sql, char **errstr)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_sqlfail(st, errstr, "store");
	return STORE_OK;
}

void store_utc_time(time_t t, char out[21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void store_utc_now(char out[21])
{
	store_utc_time(time(NULL), out);
}

enum store_status store_name_check(const char *what, const char *name, char **errstr)
{
	char noun[64];

	snprintf(noun, sizeof(noun), "%s name", what);
	return store_word_check(noun, name, errstr);
}

enum store_status store_word_check(const char *what, const char *name, char **errstr)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > STORE_NAME_MAX)
		return store_fail(errstr, STORE_EINVAL, "%s must be 1 to %d characters long", what,
				  STORE_NAME_MAX);
	for (i = 0; i < n; i++) {
		char c = name[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || (i > 0 && (c == '.' || c == '_' || c == '-'));
		if (!ok)
			return store_fail(errstr, STORE_EINVAL,
					  "%s may hold only letters, digits, '.', '_' and '-', "
					  "and must start with a letter or digit",
					  what);
	}
	return STORE_OK;
}

size_t store_utf8_char(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k, j;

	if (n == 0)
		return 0;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		k = 1, *cp = u[0] & 0x1f;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		k = 2, *cp = u[0] & 0x0f;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		k = 3, *cp = u[0] & 0x07;
	else
		return 0;
	if (n <= k)
		return 0;
	for (j = 1; j <= k; j++) {
		if ((u[j] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (u[j] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
	if ((k == 2 && (*cp < 0x800 || (*cp >= 0xd800 && *cp <= 0xdfff))) ||
	    (k == 3 && (*cp < 0x10000 || *cp > 0x10ffff)))
		return 0;
	return k + 1;
}

bool store_char_is_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

bool store_char_is_invisible(uint32_t cp)
{
	static const uint32_t ranges[][2] = {
	    {0xad, 0xad},	{0x34f, 0x34f},	  {0x61c, 0x61c},     {0x115f, 0x1160},
	    {0x17b4, 0x17b5},	{0x180b, 0x180f}, {0x200b, 0x200f},   {0x202a, 0x202e},
	    {0x2060, 0x206f},	{0x3164, 0x3164}, {0xfe00, 0xfe0f},   {0xfeff, 0xfeff},
	    {0xffa0, 0xffa0},	{0xfff0, 0xfff8}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a},
	    {0xe0000, 0xe0fff},
	};
	size_t i;

	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (cp >= ranges[i][0] && cp <= ranges[i][1])
			return true;
	return false;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

enum store_status store_password_check(const char *user, const char *password, char **errstr)
{
	if (utf8_chars(password) < 12)
		return store_fail(errstr, STORE_EINVAL,
				  "the password is too short: use at least 12 characters");
	if (user != NULL && strcasecmp(user, password) == 0)
		return store_fail(errstr, STORE_EINVAL,
				  "the password must differ from the user name");
	return STORE_OK;
}

enum store_status store_kdf_parse(const char *s, enum store_kdf *out)
{
	if (strcmp(s, "interactive") == 0)
		*out = STORE_KDF_INTERACTIVE;
	else if (strcmp(s, "moderate") == 0)
		*out = STORE_KDF_MODERATE;
	else if (strcmp(s, "sensitive") == 0)
		*out = STORE_KDF_SENSITIVE;
	else
		return STORE_EUSAGE;
	return STORE_OK;
}

/*
 * Characters that are in NFC whatever comes before or after them: NFC's
 * quick check says Yes, they combine with nothing before them and are not
 * combining marks (tests/store/test_nfc.c checks them against libunistring). All
 * below U+0300, and the kana, CJK and Hangul syllables and full-width forms
 * but their combining marks. Text made only of them needs no normalising,
 * which is most Japanese names and attributes.
 */
bool store_nfc_stable(uint32_t cp)
{
	return cp < 0x300 ||
	       (cp >= 0x3000 && cp <= 0x30ff && !(cp >= 0x302a && cp <= 0x302f) && cp != 0x3099 &&
		cp != 0x309a) ||
	       (cp >= 0x3400 && cp <= 0x9fff) || (cp >= 0xac00 && cp <= 0xd7a3) ||
	       (cp >= 0xff00 && cp <= 0xffef);
}

/*
 * libunistring's normaliser (GNU, already loaded for libidn2's IDNA) has
 * the Unicode tables, which are too large to keep here by hand.
 */
int store_nfc(const char *s, size_t n, char **out, size_t *outn)
{
	uint8_t buf[512], *r;
	size_t i, k, len = sizeof(buf);
	bool stable = true;
	uint32_t cp;
	int rc = 0;

	*out = NULL;
	for (i = 0; i < n; i += k) {
		if ((unsigned char)s[i] < 0x80) {
			k = 1;
			continue;
		}
		k = store_utf8_char(s + i, n - i, &cp);
		if (k == 0)
			return 0; /* not UTF-8: left for the checks to refuse */
		stable = stable && store_nfc_stable(cp);
	}
	if (stable)
		return 0;
	r = u8_normalize(UNINORM_NFC, (const uint8_t *)s, n, buf, &len);
	if (r == NULL)
		return -1;
	if (len != n || memcmp(r, s, n) != 0) {
		*out = malloc(len + 1);
		if (*out == NULL) {
			rc = -1;
		} else {
			memcpy(*out, r, len);
			(*out)[len] = '\0';
			*outn = len;
		}
	}
	if (r != buf)
		free(r);
	return rc;
}

char *store_nfc_dup(const char *s)
{
	char *t = NULL;
	size_t n;

	if (store_nfc(s, strlen(s), &t, &n) != 0)
		return NULL;
	return t != NULL ? t : strdup(s);
}

enum store_status store_case_twin(struct store *st, const char *table, const char *column,
				  const char *what, const char *names, const char *value,
				  char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	char sql[160];
	int rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE %s = ?1 COLLATE NOCASE AND %s != ?1",
		 column, table, column, column);
	s = store_prepare(st, sql, &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		s = store_fail(errstr, STORE_EEXIST,
			       "a %s named %s exists already; %s may not differ only in case", what,
			       (const char *)sqlite3_column_text(q, 0), names);
	else if (rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "reading the names");
	sqlite3_finalize(q);
	return s;
}
