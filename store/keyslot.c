/*
 * store/keyslot.c: the keyslot file beside the database.
 *
 * Text, one record a line:
 *   hato-keyslots 1
 *   slot NAME OPS MEM SALT BOXPK SKNONCE SKWRAPPED SEALEDDK FAILS LASTFAIL LOCKED
 *   pending TIME NAME OSUSER REASON
 *
 * Binary fields are base64. A slot opens like this: Argon2id(password, SALT,
 * OPS, MEM) gives the KEK; the KEK opens SKWRAPPED (crypto_secretbox) to the
 * slot's X25519 secret key; that key opens SEALEDDK (crypto_box_seal) to the
 * 256-bit data key. Because the data key is sealed to a public key, key
 * rotation can rewrap every slot without any password.
 *
 * FAILS, LASTFAIL and LOCKED count failed logins: they must be readable before
 * the database can be opened. "pending" lines are failed logins (and logins
 * that found the store busy) waiting to be written to the audit trail at the
 * next successful open.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/private.h"

#define KEYFILE_MAX (1024 * 1024)
#define KEYFILE_MAGIC "hato-keyslots 1"

int keyfile_lock(const char *lock_path)
{
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void keyfile_unlock(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}

void keyfile_free(struct keyfile *kf)
{
	size_t i;

	if (kf->slots != NULL) {
		sodium_memzero(kf->slots, kf->n * sizeof(*kf->slots));
		free(kf->slots);
	}
	for (i = 0; i < kf->npending; i++)
		free(kf->pending[i]);
	free(kf->pending);
	memset(kf, 0, sizeof(*kf));
}

struct keyslot *keyfile_find(struct keyfile *kf, const char *name)
{
	size_t i;

	for (i = 0; i < kf->n; i++)
		if (strcmp(kf->slots[i].name, name) == 0)
			return &kf->slots[i];
	return NULL;
}

enum store_status keyfile_add(struct keyfile *kf, const struct keyslot *ks)
{
	struct keyslot *n = calloc(kf->n + 1, sizeof(*n));

	if (n == NULL)
		return STORE_ENOMEM;
	if (kf->n > 0) {
		memcpy(n, kf->slots, kf->n * sizeof(*n));
		sodium_memzero(kf->slots, kf->n * sizeof(*n));
	}
	free(kf->slots);
	n[kf->n] = *ks;
	kf->slots = n;
	kf->n++;
	return STORE_OK;
}

void keyfile_remove(struct keyfile *kf, const char *name)
{
	size_t i;

	for (i = 0; i < kf->n; i++) {
		if (strcmp(kf->slots[i].name, name) != 0)
			continue;
		memmove(&kf->slots[i], &kf->slots[i + 1], (kf->n - i - 1) * sizeof(*kf->slots));
		kf->n--;
		sodium_memzero(&kf->slots[kf->n], sizeof(*kf->slots));
		return;
	}
}

enum store_status keyfile_add_pending(struct keyfile *kf, const char *line)
{
	char **n = realloc(kf->pending, (kf->npending + 1) * sizeof(*n));

	if (n == NULL)
		return STORE_ENOMEM;
	kf->pending = n;
	n[kf->npending] = strdup(line);
	if (n[kf->npending] == NULL)
		return STORE_ENOMEM;
	kf->npending++;
	return STORE_OK;
}

static int b64_decode(const char *in, unsigned char *out, size_t want)
{
	size_t got = 0;

	if (sodium_base642bin(out, want, in, strlen(in), NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return got == want ? 0 : -1;
}

static int parse_ll(const char *s, long long min, long long max, long long *out)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Splits line in place on single spaces into at most max fields. */
static size_t split(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		f[n++] = p;
		p = strchr(p, ' ');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	return p == NULL ? n : max + 1;
}

static int parse_slot(char **f, struct keyslot *ks)
{
	long long v;

	if (store_name_check("user", f[1], NULL) != STORE_OK)
		return -1;
	memcpy(ks->name, f[1], strlen(f[1]) + 1);
	if (parse_ll(f[2], crypto_pwhash_OPSLIMIT_MIN, 64, &v) != 0)
		return -1;
	ks->ops = (unsigned long long)v;
	/* A tampered file must not make us allocate more than 4 GiB. */
	if (parse_ll(f[3], crypto_pwhash_MEMLIMIT_MIN, 4LL << 30, &v) != 0)
		return -1;
	ks->mem = (size_t)v;
	if (b64_decode(f[4], ks->salt, sizeof(ks->salt)) != 0 ||
	    b64_decode(f[5], ks->box_pk, sizeof(ks->box_pk)) != 0 ||
	    b64_decode(f[6], ks->sk_nonce, sizeof(ks->sk_nonce)) != 0 ||
	    b64_decode(f[7], ks->sk_wrapped, sizeof(ks->sk_wrapped)) != 0 ||
	    b64_decode(f[8], ks->sealed_dk, sizeof(ks->sealed_dk)) != 0)
		return -1;
	if (parse_ll(f[9], 0, INT_MAX, &v) != 0)
		return -1;
	ks->fails = (int)v;
	if (parse_ll(f[10], 0, LLONG_MAX, &v) != 0)
		return -1;
	ks->last_fail = v;
	if (parse_ll(f[11], 0, 1, &v) != 0)
		return -1;
	ks->locked = (int)v;
	return 0;
}

static enum store_status parse_keyfile(char *buf, const char *path, struct keyfile *kf,
				       char **errstr)
{
	char *line = buf, *next, *f[13];
	size_t lineno = 0, n;
	struct keyslot ks;

	while (line != NULL && *line != '\0') {
		lineno++;
		next = strchr(line, '\n');
		if (next == NULL)
			goto bad; /* every record ends in a newline; a truncated file does not */
		*next++ = '\0';
		/* A file edited by hand (an unlock, SECURITY.md) may come back with CRLF. */
		if (next - line >= 2 && next[-2] == '\r')
			next[-2] = '\0';
		if (lineno == 1) {
			if (strcmp(line, KEYFILE_MAGIC) != 0)
				goto bad;
		} else if (strncmp(line, "pending ", 8) == 0) {
			if (keyfile_add_pending(kf, line + 8) != STORE_OK)
				return STORE_ENOMEM;
		} else {
			n = split(line, f, 12);
			if (n != 12 || strcmp(f[0], "slot") != 0)
				goto bad;
			memset(&ks, 0, sizeof(ks));
			if (parse_slot(f, &ks) != 0 || keyfile_find(kf, ks.name) != NULL)
				goto bad;
			if (keyfile_add(kf, &ks) != STORE_OK)
				return STORE_ENOMEM;
			sodium_memzero(&ks, sizeof(ks));
		}
		line = next;
	}
	if (lineno == 0)
		return store_fail(errstr, STORE_ECORRUPT,
				  "the keyslot file %s is empty; restore it from a backup", path);
	return STORE_OK;
bad:
	return store_fail(errstr, STORE_ECORRUPT,
			  "the keyslot file %s is damaged at line %zu; restore it from a backup",
			  path, lineno);
}

enum store_status keyfile_load(const char *path, struct keyfile *kf, char **errstr)
{
	enum store_status s = STORE_OK;
	char *buf = NULL;
	ssize_t got;
	size_t len = 0;
	struct stat sb;
	int fd;

	memset(kf, 0, sizeof(*kf));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return store_fail(errstr, STORE_ENOTFOUND, "the keyslot file %s is missing",
					  path);
		return store_fail(errstr, STORE_EIO, "cannot open %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > KEYFILE_MAX) {
		s = store_fail(errstr, STORE_ECORRUPT,
			       "the keyslot file %s is not a regular file of sane size", path);
		goto done;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (buf == NULL) {
		s = STORE_ENOMEM;
		goto done;
	}
	while (len < (size_t)sb.st_size) {
		got = read(fd, buf + len, (size_t)sb.st_size - len);
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		s = store_fail(errstr, STORE_ECORRUPT, "the keyslot file %s is damaged", path);
		goto done;
	}
	s = parse_keyfile(buf, path, kf, errstr);
done:
	if (buf != NULL) {
		sodium_memzero(buf, len);
		free(buf);
	}
	close(fd);
	if (s != STORE_OK)
		keyfile_free(kf);
	return s;
}

static int put_b64(FILE *fp, const unsigned char *bin, size_t len)
{
	char out[256];

	sodium_bin2base64(out, sizeof(out), bin, len, sodium_base64_VARIANT_ORIGINAL);
	return fprintf(fp, " %s", out) < 0 ? -1 : 0;
}

static int write_slots(FILE *fp, const struct keyfile *kf)
{
	size_t i;

	if (fprintf(fp, "%s\n", KEYFILE_MAGIC) < 0)
		return -1;
	for (i = 0; i < kf->n; i++) {
		const struct keyslot *ks = &kf->slots[i];
		if (fprintf(fp, "slot %s %llu %zu", ks->name, ks->ops, ks->mem) < 0 ||
		    put_b64(fp, ks->salt, sizeof(ks->salt)) ||
		    put_b64(fp, ks->box_pk, sizeof(ks->box_pk)) ||
		    put_b64(fp, ks->sk_nonce, sizeof(ks->sk_nonce)) ||
		    put_b64(fp, ks->sk_wrapped, sizeof(ks->sk_wrapped)) ||
		    put_b64(fp, ks->sealed_dk, sizeof(ks->sealed_dk)) ||
		    fprintf(fp, " %d %lld %d\n", ks->fails, ks->last_fail, ks->locked) < 0)
			return -1;
	}
	for (i = 0; i < kf->npending; i++)
		if (fprintf(fp, "pending %s\n", kf->pending[i]) < 0)
			return -1;
	return 0;
}

enum store_status keyfile_save(const char *path, const struct keyfile *kf, char **errstr)
{
	enum store_status s = STORE_OK;
	size_t plen = strlen(path) + 8;
	char *tmp = malloc(plen);
	FILE *fp = NULL;
	int fd = -1;

	if (tmp == NULL)
		return STORE_ENOMEM;
	snprintf(tmp, plen, "%s.new", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
		s = store_fail(errstr, STORE_EIO, "cannot write %s: %s", tmp,
			       store_strerror(errno));
		if (fd >= 0)
			close(fd);
		goto done;
	}
	if (write_slots(fp, kf) != 0 || fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
		s = store_fail(errstr, STORE_EIO, "cannot write %s: %s", tmp,
			       store_strerror(errno));
		goto done;
	}
	if (rename(tmp, path) != 0)
		s = store_fail(errstr, STORE_EIO, "cannot replace %s: %s", path,
			       store_strerror(errno));
done:
	if (fp != NULL)
		fclose(fp);
	if (s != STORE_OK)
		unlink(tmp);
	free(tmp);
	return s;
}

void keyslot_kdf_params(enum store_kdf kdf, unsigned long long *ops, size_t *mem)
{
	switch (kdf) {
	case STORE_KDF_INTERACTIVE:
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		break;
	case STORE_KDF_SENSITIVE:
		*ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		*mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
		break;
	case STORE_KDF_MODERATE:
	default:
		*ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_MEMLIMIT_MODERATE;
		break;
	}
}

static enum store_status derive(const struct keyslot *ks, const char *password,
				unsigned char kek[STORE_KEY_LEN])
{
	if (crypto_pwhash(kek, STORE_KEY_LEN, password, strlen(password), ks->salt, ks->ops,
			  ks->mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return STORE_ENOMEM;
	return STORE_OK;
}

enum store_status keyslot_create(struct keyslot *ks, const char *name, const char *password,
				 unsigned long long ops, size_t mem,
				 const unsigned char dk[STORE_KEY_LEN], struct slot_keys *out)
{
	enum store_status s;

	memset(ks, 0, sizeof(*ks));
	snprintf(ks->name, sizeof(ks->name), "%s", name);
	ks->ops = ops;
	ks->mem = mem;
	randombytes_buf(ks->salt, sizeof(ks->salt));
	randombytes_buf(ks->sk_nonce, sizeof(ks->sk_nonce));
	crypto_box_keypair(ks->box_pk, out->box_sk);
	s = derive(ks, password, out->kek);
	if (s != STORE_OK)
		return s;
	crypto_secretbox_easy(ks->sk_wrapped, out->box_sk, sizeof(out->box_sk), ks->sk_nonce,
			      out->kek);
	return keyslot_reseal(ks, dk);
}

enum store_status keyslot_open(const struct keyslot *ks, const char *password,
			       unsigned char dk[STORE_KEY_LEN], struct slot_keys *out)
{
	enum store_status s;

	s = derive(ks, password, out->kek);
	if (s != STORE_OK)
		return s;
	if (crypto_secretbox_open_easy(out->box_sk, ks->sk_wrapped, sizeof(ks->sk_wrapped),
				       ks->sk_nonce, out->kek) != 0) {
		sodium_memzero(out, sizeof(*out));
		return STORE_EAUTH;
	}
	if (crypto_box_seal_open(dk, ks->sealed_dk, sizeof(ks->sealed_dk), ks->box_pk,
				 out->box_sk) != 0)
		return STORE_ECORRUPT;
	return STORE_OK;
}

enum store_status keyslot_rewrap(struct keyslot *ks, const char *password,
				 const unsigned char box_sk[32])
{
	unsigned char pk[32], kek[STORE_KEY_LEN];
	enum store_status s;

	crypto_scalarmult_base(pk, box_sk);
	if (sodium_memcmp(pk, ks->box_pk, sizeof(pk)) != 0)
		return STORE_EINVAL;
	randombytes_buf(ks->salt, sizeof(ks->salt));
	randombytes_buf(ks->sk_nonce, sizeof(ks->sk_nonce));
	s = derive(ks, password, kek);
	if (s == STORE_OK)
		crypto_secretbox_easy(ks->sk_wrapped, box_sk, 32, ks->sk_nonce, kek);
	sodium_memzero(kek, sizeof(kek));
	return s;
}

void keyslot_sign_key(const unsigned char box_sk[32], unsigned char key[STORE_KEY_LEN])
{
	crypto_kdf_derive_from_key(key, STORE_KEY_LEN, 1, "hatosign", box_sk);
}

enum store_status keyslot_reseal(struct keyslot *ks, const unsigned char dk[STORE_KEY_LEN])
{
	if (crypto_box_seal(ks->sealed_dk, dk, STORE_KEY_LEN, ks->box_pk) != 0)
		return STORE_EIO;
	return STORE_OK;
}

long keyslot_delay(int fails)
{
	if (fails <= 0)
		return 0;
	/* 2^(n-1) seconds, at most 5 minutes (hato(1)): 256 s after 9. */
	if (fails >= 10)
		return 300;
	return 1L << (fails - 1);
}
