/*
 * send/dkim.c: DKIM keys, TXT records and signing with libopendkim.
 *
 * Key format: libopendkim 2.11 loads the key string given to dkim_sign()
 * with PEM_read_bio_PrivateKey() when it starts with "-----", else with
 * d2i_PrivateKey_bio() on the raw bytes (which a C string cannot carry).
 * So both RSA and Ed25519 keys are kept as PEM PKCS#8.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dkim.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "send/private.h"

#define DKIM_MAX_KEYS 4
#define HDR_PREFIX "DKIM-Signature: "

/* ---- Algorithms ----------------------------------------------------------- */

const char *send_dkim_alg_name(enum send_dkim_alg alg)
{
	return alg == SEND_DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

enum send_status send_dkim_alg_parse(const char *s, enum send_dkim_alg *out, char **errstr)
{
	enum send_status st = SEND_OK;

	if (s == NULL || out == NULL) {
		st = send_err(errstr, SEND_EUSAGE, "dkim: no algorithm given");
		goto done;
	}
	if (strcasecmp(s, "rsa") == 0 || strcasecmp(s, "rsa-sha256") == 0) {
		*out = SEND_DKIM_RSA_SHA256;
	} else if (strcasecmp(s, "ed25519") == 0 || strcasecmp(s, "ed25519-sha256") == 0) {
		*out = SEND_DKIM_ED25519_SHA256;
	} else {
		st = send_err(errstr, SEND_EINVAL,
			      "dkim: unknown algorithm \"%.40s\" (use rsa or ed25519)", s);
	}
done:
	return st;
}

/* ---- Keys ------------------------------------------------------------------ */

/* malloc'd base64 (no line breaks) of n bytes. */
static char *b64(const unsigned char *in, size_t n)
{
	char *out;

	if (n > INT32_MAX / 2)
		return NULL;
	out = malloc(4 * ((n + 2) / 3) + 1);
	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

/* Refuses encrypted PEM instead of prompting on the terminal. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static enum send_status load_private(const char *pem, EVP_PKEY **pkey, char **errstr)
{
	BIO *bio = NULL;
	enum send_status st = SEND_OK;

	*pkey = NULL;
	if (pem == NULL || strncmp(pem, "-----BEGIN ", 11) != 0) {
		st = send_err(errstr, SEND_EINVAL, "dkim: the private key is not in PEM form");
		goto done;
	}
	bio = BIO_new_mem_buf(pem, -1);
	if (bio == NULL) {
		st = SEND_ENOMEM;
		goto done;
	}
	*pkey = PEM_read_bio_PrivateKey_ex(bio, NULL, no_password, NULL, NULL, NULL);
	ERR_clear_error();
	if (*pkey == NULL)
		st = send_err(errstr, SEND_EINVAL,
			      "dkim: the private key could not be read (damaged or encrypted PEM)");
done:
	BIO_free(bio);
	return st;
}

static enum send_status public_txt_of(EVP_PKEY *pkey, enum send_dkim_alg *alg, char **txt,
				      char **errstr)
{
	unsigned char raw[32], *der = NULL;
	size_t rawlen = sizeof(raw);
	char *p = NULL;
	int derlen, bits;
	enum send_status st = SEND_OK;

	*txt = NULL;
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		bits = EVP_PKEY_get_bits(pkey);
		if (bits < SEND_DKIM_RSA_BITS_MIN) {
			st = send_err(errstr, SEND_EINVAL,
				      "dkim: RSA key of %d bits; at least %d are required", bits,
				      SEND_DKIM_RSA_BITS_MIN);
			goto done;
		}
		derlen = i2d_PUBKEY(pkey, &der);
		if (derlen <= 0) {
			st = send_err(errstr, SEND_ECRYPTO, "dkim: cannot encode the public key");
			goto done;
		}
		p = b64(der, (size_t)derlen);
		if (alg != NULL)
			*alg = SEND_DKIM_RSA_SHA256;
	} else if (EVP_PKEY_is_a(pkey, "ED25519")) {
		if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1 || rawlen != 32) {
			st = send_err(errstr, SEND_ECRYPTO, "dkim: cannot read the Ed25519 key");
			goto done;
		}
		p = b64(raw, rawlen);
		if (alg != NULL)
			*alg = SEND_DKIM_ED25519_SHA256;
	} else {
		st = send_err(errstr, SEND_EINVAL, "dkim: the key is neither RSA nor Ed25519");
		goto done;
	}
	if (p == NULL || asprintf(txt, "v=DKIM1; k=%s; p=%s",
				  EVP_PKEY_is_a(pkey, "RSA") ? "rsa" : "ed25519", p) < 0) {
		*txt = NULL;
		st = SEND_ENOMEM;
	}
done:
	OPENSSL_free(der);
	free(p);
	return st;
}

/* Copies a PEM held in a BIO into sodium_malloc'd memory. */
static enum send_status bio_to_secret(BIO *bio, char **out)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);

	*out = NULL;
	if (n <= 0 || data == NULL)
		return SEND_ECRYPTO;
	*out = sodium_malloc((size_t)n + 1);
	if (*out == NULL)
		return SEND_ENOMEM;
	memcpy(*out, data, (size_t)n);
	(*out)[n] = '\0';
	return SEND_OK;
}

enum send_status send_dkim_keygen(enum send_dkim_alg alg, unsigned bits, char **private_pem,
				  char **public_txt, char **errstr)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	enum send_status st = SEND_OK;

	if (private_pem == NULL || public_txt == NULL) {
		st = send_err(errstr, SEND_EUSAGE, "dkim: keygen needs two output pointers");
		goto done;
	}
	*private_pem = NULL;
	*public_txt = NULL;
	if (sodium_init() < 0) {
		st = send_err(errstr, SEND_ECRYPTO, "dkim: libsodium failed to start");
		goto done;
	}
	if (alg == SEND_DKIM_RSA_SHA256) {
		if (bits == 0)
			bits = SEND_DKIM_RSA_BITS_DEFAULT;
		if (bits < SEND_DKIM_RSA_BITS_MIN || bits > SEND_DKIM_RSA_BITS_MAX) {
			st = send_err(errstr, SEND_EINVAL,
				      "dkim: RSA keys must have %d to %d bits (2048 recommended), "
				      "not %u",
				      SEND_DKIM_RSA_BITS_MIN, SEND_DKIM_RSA_BITS_MAX, bits);
			goto done;
		}
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	} else if (alg == SEND_DKIM_ED25519_SHA256) {
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	} else {
		st = send_err(errstr, SEND_EUSAGE, "dkim: unknown algorithm %d", (int)alg);
		goto done;
	}
	if (pkey == NULL) {
		st = send_err(errstr, SEND_ECRYPTO, "dkim: key generation failed");
		goto done;
	}
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		st = send_err(errstr, SEND_ECRYPTO, "dkim: cannot write the private key");
		goto done;
	}
	st = bio_to_secret(bio, private_pem);
	if (st != SEND_OK)
		goto done;
	st = public_txt_of(pkey, NULL, public_txt, errstr);
done:
	if (st != SEND_OK && private_pem != NULL)
		send_secret_free(private_pem);
	BIO_free(bio); /* a secmem BIO clears its buffer */
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return st;
}

enum send_status send_dkim_public_txt(const char *private_pem, enum send_dkim_alg *alg,
				      char **public_txt, char **errstr)
{
	EVP_PKEY *pkey = NULL;
	enum send_status st;

	if (public_txt == NULL)
		return send_err(errstr, SEND_EUSAGE, "dkim: no output pointer");
	*public_txt = NULL;
	st = load_private(private_pem, &pkey, errstr);
	if (st != SEND_OK)
		goto done;
	st = public_txt_of(pkey, alg, public_txt, errstr);
done:
	EVP_PKEY_free(pkey);
	return st;
}

unsigned send_dkim_public_bits(const char *public_txt)
{
	char *k = NULL, *p = NULL;
	unsigned char *der = NULL;
	const unsigned char *at;
	size_t len = 0, n;
	EVP_PKEY *pkey = NULL;
	unsigned bits = 0;

	if (send_dkim_record_parse(public_txt, &k, &p, NULL) != SEND_OK)
		return 0;
	n = strlen(p);
	der = malloc(n + 1);
	if (der != NULL && sodium_base642bin(der, n + 1, p, n, NULL, &len, NULL,
					     sodium_base64_VARIANT_ORIGINAL) == 0) {
		at = der;
		pkey = d2i_PUBKEY(NULL, &at, (long)len);
	}
	if (pkey != NULL)
		bits = (unsigned)EVP_PKEY_get_bits(pkey);
	EVP_PKEY_free(pkey);
	free(der);
	free(k);
	free(p);
	return bits;
}

/* ---- Signing ------------------------------------------------------------------ */

/*
 * DELIVERABILITY.md: sign these, and oversign the second list (one more
 * instance in h= than the message has). Return-Path and Received are never
 * in either list, so they are never signed.
 */
static const char *sign_hdrs[] = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-id",
    "feedback-id",
    "x-hato-test", /* a test send: the mark can't be taken off */
    NULL,
};
static const char *oversign_hdrs[] = {
    "from",
    "subject",
    "date",
    "to",
    "reply-to",
    "message-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "content-type",
    "x-hato-test",
    NULL,
};

struct dkim_key {
	char *domain;
	char *selector;
	enum send_dkim_alg alg;
	char *pem; /* sodium_malloc'd */
	size_t pemlen;
	EVP_PKEY *pkey;	       /* the key loaded once, shared through the key cache */
	struct dkim_key *next; /* in the key cache */
};

struct send_dkim {
	DKIM_LIB *lib;
	struct dkim_key keys[DKIM_MAX_KEYS];
	size_t nkeys;
};

/*
 * The key cache.
 *
 * libopendkim has no call that takes a loaded key: at dkim_eom() every
 * signing handle runs PEM_read_bio_PrivateKey() on the key string again and,
 * for RSA, builds a fresh RSA object. With OpenSSL 3 that costs about 0.45 ms
 * for the decode plus 0.4 ms of first-use setup (Montgomery contexts,
 * blinding), twice the RSA-2048 signature itself. libopendkim 2.11.0~beta2
 * also never frees the Ed25519 key in dkim_free(): each Ed25519 signature
 * would leak the decoded EVP_PKEY, private key included.
 *
 * So this file defines PEM_read_bio_PrivateKey() itself. The dynamic linker
 * binds libopendkim's call to the executable's definition first. When the
 * BIO is a memory BIO holding, byte for byte, the PEM of a key that a live
 * struct send_dkim registered, it returns that key loaded once (with its
 * reference count raised, as a fresh key would have one); anything else goes
 * to OpenSSL's PEM_read_bio_PrivateKey_ex(), which is what the original
 * does. The thread-local `handed_out` records the last key returned, so that
 * sign_one() can drop the reference libopendkim forgets (see there).
 */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dkim_key *cache_head;
static _Thread_local EVP_PKEY *handed_out;

EVP_PKEY *PEM_read_bio_PrivateKey(BIO *bp, EVP_PKEY **x, pem_password_cb *cb, void *u)
{
	char *data = NULL;
	long n = 0;
	EVP_PKEY *hit = NULL;

	if (x == NULL && bp != NULL && BIO_method_type(bp) == BIO_TYPE_MEM)
		n = BIO_get_mem_data(bp, &data);
	if (n > 0 && data != NULL) {
		pthread_mutex_lock(&cache_lock);
		for (struct dkim_key *k = cache_head; k != NULL && hit == NULL; k = k->next) {
			if ((size_t)n >= k->pemlen && (size_t)n <= k->pemlen + 1 &&
			    ((size_t)n == k->pemlen || data[k->pemlen] == '\0') &&
			    CRYPTO_memcmp(data, k->pem, k->pemlen) == 0 &&
			    EVP_PKEY_up_ref(k->pkey) == 1)
				hit = k->pkey;
		}
		pthread_mutex_unlock(&cache_lock);
	}
	if (hit != NULL) {
		handed_out = hit;
		return hit;
	}
	return PEM_read_bio_PrivateKey_ex(bp, x, cb, u, NULL, NULL);
}

static void cache_add(struct dkim_key *k)
{
	pthread_mutex_lock(&cache_lock);
	k->next = cache_head;
	cache_head = k;
	pthread_mutex_unlock(&cache_lock);
}

static void cache_remove(struct dkim_key *k)
{
	pthread_mutex_lock(&cache_lock);
	for (struct dkim_key **pp = &cache_head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	}
	pthread_mutex_unlock(&cache_lock);
}

/*
 * libopendkim's allocator. Every block is wiped when freed, so the copy of
 * the private key that dkim_sign() makes never lingers in the heap. Blocks a
 * signing handle allocates (closure = its struct ztrack) are kept on a list,
 * so that what dkim_free() forgets can be found and released.
 */
struct zblock {
	size_t size;
	struct zblock *prev, *next;
	struct ztrack *owner;
};

struct ztrack {
	struct zblock *live;
};

#define ZHDR ((sizeof(struct zblock) + 15) & ~(size_t)15)

static void *zalloc(void *closure, size_t n)
{
	struct ztrack *t = closure;
	struct zblock *b;

	if (n > SIZE_MAX - ZHDR)
		return NULL;
	b = malloc(ZHDR + n);
	if (b == NULL)
		return NULL;
	b->size = n;
	b->owner = t;
	b->prev = NULL;
	b->next = NULL;
	if (t != NULL) {
		b->next = t->live;
		if (t->live != NULL)
			t->live->prev = b;
		t->live = b;
	}
	return (unsigned char *)b + ZHDR;
}

static void zfree(void *closure, void *ptr)
{
	struct zblock *b;

	(void)closure;
	if (ptr == NULL)
		return;
	b = (struct zblock *)(void *)((unsigned char *)ptr - ZHDR);
	if (b->owner != NULL) {
		if (b->prev != NULL)
			b->prev->next = b->next;
		else
			b->owner->live = b->next;
		if (b->next != NULL)
			b->next->prev = b->prev;
	}
	sodium_memzero(b, ZHDR + b->size);
	free(b);
}

void send_dkim_free(struct send_dkim **d)
{
	if (d == NULL || *d == NULL)
		return;
	for (size_t i = 0; i < (*d)->nkeys; i++) {
		struct dkim_key *k = &(*d)->keys[i];

		if (k->pkey != NULL) {
			cache_remove(k);
			EVP_PKEY_free(k->pkey);
		}
		free(k->domain);
		free(k->selector);
		send_secret_free(&k->pem);
	}
	if ((*d)->lib != NULL)
		dkim_close((*d)->lib);
	free(*d);
	*d = NULL;
}

static enum send_status key_add(struct send_dkim *d, const struct send_dkim_key *k, char **errstr)
{
	struct dkim_key *dk = &d->keys[d->nkeys];
	enum send_dkim_alg alg;
	char *txt = NULL;
	EVP_PKEY *pkey = NULL;
	enum send_status st;

	st = send_name_check("domain", k->domain, errstr);
	if (st == SEND_OK)
		st = send_name_check("selector", k->selector, errstr);
	if (st == SEND_OK)
		st = load_private(k->private_pem, &pkey, errstr);
	if (st == SEND_OK)
		st = public_txt_of(pkey, &alg, &txt, errstr);
	if (st != SEND_OK)
		goto done;
	if (alg != k->alg) {
		st = send_err(errstr, SEND_EINVAL, "dkim: key %s._domainkey.%s is %s, not %s",
			      k->selector, k->domain, send_dkim_alg_name(alg),
			      send_dkim_alg_name(k->alg));
		goto done;
	}
	dk->alg = alg;
	dk->domain = strdup(k->domain);
	dk->selector = strdup(k->selector);
	dk->pemlen = strlen(k->private_pem);
	dk->pem = sodium_malloc(dk->pemlen + 1);
	d->nkeys++; /* from here send_dkim_free releases it */
	if (dk->domain == NULL || dk->selector == NULL || dk->pem == NULL) {
		st = SEND_ENOMEM;
		goto done;
	}
	memcpy(dk->pem, k->private_pem, dk->pemlen + 1);
	dk->pkey = pkey;
	pkey = NULL;
	cache_add(dk);
done:
	EVP_PKEY_free(pkey);
	free(txt);
	return st;
}

enum send_status send_dkim_new(const struct send_dkim_key *keys, size_t nkeys,
			       struct send_dkim **out, char **errstr)
{
	struct send_dkim *d = NULL;
	enum send_status st = SEND_OK;

	if (out == NULL || nkeys > DKIM_MAX_KEYS || (nkeys > 0 && keys == NULL)) {
		st = send_err(errstr, SEND_EUSAGE, "dkim: between 0 and %d keys", DKIM_MAX_KEYS);
		goto done;
	}
	*out = NULL;
	if (sodium_init() < 0) {
		st = send_err(errstr, SEND_ECRYPTO, "dkim: libsodium failed to start");
		goto done;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		st = SEND_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < nkeys && st == SEND_OK; i++)
		st = key_add(d, &keys[i], errstr);
	if (st != SEND_OK)
		goto done;
	d->lib = dkim_init(zalloc, zfree);
	if (d->lib == NULL) {
		st = send_err(errstr, SEND_ECRYPTO, "dkim: libopendkim failed to start");
		goto done;
	}
	if (dkim_options(d->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, sign_hdrs, sizeof(char **)) !=
		DKIM_STAT_OK ||
	    dkim_options(d->lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, oversign_hdrs,
			 sizeof(char **)) != DKIM_STAT_OK) {
		st = send_err(errstr, SEND_ECRYPTO, "dkim: libopendkim refused the header lists");
		goto done;
	}
	*out = d;
	d = NULL;
done:
	send_dkim_free(&d);
	return st;
}

/* A message with CRLF line endings and where its parts are. */
struct msgview {
	char *buf;  /* normalized copy, NUL-terminated */
	size_t off; /* the message starts at buf + off (0 today) */
	size_t len;
	size_t hdrlen; /* header block, including the CRLF of its last field */
	size_t body;   /* offset of the body (after the blank line) */
};

static enum send_status normalize(const char *msg, size_t len, struct msgview *m, char **errstr)
{
	size_t extra = 0, j = 0, i = 0;
	const char *nl;
	char *p;

	/*
	 * The composer's messages are already CRLF throughout: scan with
	 * memchr() and copy whole lines, not byte by byte (a per-byte loop cost
	 * several microseconds per message).
	 */
	if (memchr(msg, '\0', len) != NULL)
		return send_err(errstr, SEND_EINVAL, "dkim: the message holds a NUL byte");
	for (nl = memchr(msg, '\n', len); nl != NULL;
	     nl = memchr(nl + 1, '\n', len - (size_t)(nl + 1 - msg)))
		if (nl == msg || nl[-1] != '\r')
			extra++;
	if (len > SIZE_MAX / 2)
		return send_err(errstr, SEND_EINVAL, "dkim: the message is too large");
	m->buf = malloc(len + extra + 3);
	if (m->buf == NULL)
		return SEND_ENOMEM;
	m->off = 0;
	p = m->buf;
	if (extra == 0) {
		memcpy(p, msg, len);
		j = len;
	} else {
		while (i < len) {
			const char *q = memchr(msg + i, '\n', len - i);
			size_t n = q != NULL ? (size_t)(q - (msg + i)) : len - i;

			memcpy(p + j, msg + i, n);
			j += n;
			i += n;
			if (q == NULL)
				break;
			if (q == msg || q[-1] != '\r')
				p[j++] = '\r';
			p[j++] = '\n';
			i++;
		}
	}
	if (j < 2 || p[j - 2] != '\r' || p[j - 1] != '\n') {
		p[j++] = '\r';
		p[j++] = '\n';
	}
	p[j] = '\0';
	m->len = j;
	if (p[0] == '\r')
		return send_err(errstr, SEND_EINVAL, "dkim: the message has no header");
	p = memmem(m->buf, m->len, "\r\n\r\n", 4);
	m->hdrlen = p != NULL ? (size_t)(p - m->buf) + 2 : m->len;
	m->body = p != NULL ? m->hdrlen + 2 : m->len;
	return SEND_OK;
}

/* Length of the header field at s (up to hdr end), without its final CRLF. */
static size_t field_len(const char *s, const char *end)
{
	const char *p = s;

	for (;;) {
		const char *crlf = strstr(p, "\r\n");

		if (crlf == NULL || crlf + 2 >= end)
			return (size_t)((crlf != NULL ? crlf : end) - s);
		if (crlf[2] != ' ' && crlf[2] != '\t')
			return (size_t)(crlf - s);
		p = crlf + 2;
	}
}

static enum send_status check_headers(const struct msgview *m, char **errstr)
{
	const char *s = m->buf + m->off, *end = s + m->hdrlen;
	bool from = false;

	while (s < end) {
		size_t flen = field_len(s, end), nlen = 0;

		while (nlen < flen && s[nlen] > 0x20 && s[nlen] < 0x7f && s[nlen] != ':')
			nlen++;
		if (nlen == 0 || nlen >= flen || s[nlen] != ':')
			return send_err(errstr, SEND_EINVAL,
					"dkim: malformed header line at offset %zu",
					(size_t)(s - (m->buf + m->off)));
		if (nlen == 4 && strncasecmp(s, "from", 4) == 0)
			from = true;
		s += flen + 2;
	}
	if (!from)
		return send_err(errstr, SEND_EINVAL, "dkim: the message has no From field");
	return SEND_OK;
}

/* Signs with one key; appends "DKIM-Signature: ...CRLF" to *sig (malloc'd, grows). */
static enum send_status sign_one(const struct send_dkim *d, const struct dkim_key *k,
				 const struct msgview *m, char **sig, size_t *siglen, char **errstr)
{
	DKIM *h = NULL;
	DKIM_STAT ds = DKIM_STAT_OK;
	struct ztrack track = {NULL};
	unsigned char *hdr = NULL;
	size_t hlen = 0;
	char *nsig;
	unsigned char *s = (unsigned char *)m->buf + m->off;
	const unsigned char *end = s + m->hdrlen;
	enum send_status st = SEND_OK;

	handed_out = NULL;
	h = dkim_sign(d->lib, (const unsigned char *)"hato", &track, (unsigned char *)k->pem,
		      (unsigned char *)k->selector, (unsigned char *)k->domain, DKIM_CANON_RELAXED,
		      DKIM_CANON_RELAXED,
		      k->alg == SEND_DKIM_ED25519_SHA256 ? DKIM_SIGN_ED25519SHA256
							 : DKIM_SIGN_RSASHA256,
		      -1, &ds);
	if (h == NULL || ds != DKIM_STAT_OK) {
		st = send_err(errstr, SEND_ECRYPTO, "dkim: dkim_sign: %s", dkim_getresultstr(ds));
		goto done;
	}
	while (s < end && ds == DKIM_STAT_OK) {
		size_t flen = field_len((const char *)s, (const char *)end);

		ds = dkim_header(h, s, flen);
		s += flen + 2;
	}
	if (ds == DKIM_STAT_OK)
		ds = dkim_eoh(h);
	if (ds == DKIM_STAT_OK && m->body < m->len)
		ds = dkim_body(h, (unsigned char *)m->buf + m->off + m->body, m->len - m->body);
	if (ds == DKIM_STAT_OK)
		ds = dkim_eom(h, NULL);
	if (ds == DKIM_STAT_OK)
		ds = dkim_getsighdr_d(h, strlen(HDR_PREFIX), &hdr, &hlen);
	if (ds != DKIM_STAT_OK || hdr == NULL) {
		const char *why = dkim_geterror(h);

		st = send_err(errstr, SEND_ECRYPTO, "dkim: signing as %s._domainkey.%s failed: %s",
			      k->selector, k->domain, why != NULL ? why : dkim_getresultstr(ds));
		goto done;
	}
	/* worst case every LF becomes CRLF */
	nsig = realloc(*sig, *siglen + strlen(HDR_PREFIX) + 2 * hlen + 3);
	if (nsig == NULL) {
		st = SEND_ENOMEM;
		goto done;
	}
	*sig = nsig;
	memcpy(nsig + *siglen, HDR_PREFIX, strlen(HDR_PREFIX));
	*siglen += strlen(HDR_PREFIX);
	for (size_t i = 0; i < hlen; i++) {
		if (hdr[i] == '\n' && (i == 0 || hdr[i - 1] != '\r'))
			nsig[(*siglen)++] = '\r';
		nsig[(*siglen)++] = (char)hdr[i];
	}
	nsig[(*siglen)++] = '\r';
	nsig[(*siglen)++] = '\n';
done:
	if (h != NULL)
		dkim_free(h);
	/*
	 * Blocks still live after dkim_free() were forgotten by libopendkim.
	 * 2.11.0~beta2 forgets its whole key state for Ed25519, the key
	 * reference included; it frees everything for RSA. A library that
	 * frees Ed25519 keys leaves no block behind, and nothing more is done.
	 */
	if (track.live != NULL && k->alg == SEND_DKIM_ED25519_SHA256 && handed_out == k->pkey)
		EVP_PKEY_free(handed_out);
	while (track.live != NULL)
		zfree(&track, (unsigned char *)track.live + ZHDR);
	handed_out = NULL;
	return st;
}

enum send_status send_dkim_sign(const struct send_dkim *d, const char *msg, size_t len, char **out,
				size_t *outlen, char **errstr)
{
	struct msgview m = {0};
	char *sig = NULL;
	size_t siglen = 0;
	enum send_status st = SEND_OK;

	if (d == NULL || msg == NULL || out == NULL || outlen == NULL) {
		st = send_err(errstr, SEND_EUSAGE, "dkim: bad arguments to send_dkim_sign");
		goto done;
	}
	*out = NULL;
	*outlen = 0;
	st = normalize(msg, len, &m, errstr);
	if (st == SEND_OK)
		st = check_headers(&m, errstr);
	for (size_t i = 0; i < d->nkeys && st == SEND_OK; i++)
		st = sign_one(d, &d->keys[i], &m, &sig, &siglen, errstr);
	if (st != SEND_OK)
		goto done;
	if (siglen == 0) {
		*out = m.buf;
		*outlen = m.len;
		m.buf = NULL;
		goto done;
	}
	*out = malloc(siglen + m.len + 1);
	if (*out == NULL) {
		st = SEND_ENOMEM;
		goto done;
	}
	memcpy(*out, sig, siglen);
	memcpy(*out + siglen, m.buf + m.off, m.len + 1);
	*outlen = siglen + m.len;
done:
	free(m.buf);
	free(sig);
	return st;
}
