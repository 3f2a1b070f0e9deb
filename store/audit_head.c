/*
 * store/audit_head.c: signed heads of the audit trail.
 *
 * The hash chain shows an edit in the middle of the trail, but whoever holds
 * the data key could write the chain anew from an edit on, or cut records
 * off its end. A head signed now and then and kept somewhere else (another
 * machine, paper) fixes what the trail held: a later check finds the same
 * record with the same hash, or says the trail was rewritten or cut.
 *
 * The retention (audit_prune.c) removes old records: a head whose record a
 * pruning removed is said to be so, not failed, and the anchor a pruning
 * keeps still has its hash to check.
 *
 * A head is seven lines of text:
 *
 *   hato audit head 1
 *   record 1234
 *   hash <64 hex digits: the record's chain hash>
 *   time 2026-11-30T03:20:00Z
 *   signer alice
 *   key <64 hex digits: the signer's Ed25519 public key>
 *   signature <128 hex digits: Ed25519 over the six lines above, each with its LF>
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/private.h"

#define HEAD_MAGIC "hato audit head 1"

/* The six lines the signature covers, each ending in LF, into out. */
static int signed_part(const struct store_audit_head *h, char *out, size_t n)
{
	char hash[65], key[65];

	sodium_bin2hex(hash, sizeof(hash), h->hash, sizeof(h->hash));
	sodium_bin2hex(key, sizeof(key), h->key, sizeof(h->key));
	return snprintf(out, n, HEAD_MAGIC "\nrecord %lld\nhash %s\ntime %s\nsigner %s\nkey %s\n",
			(long long)h->record, hash, h->time, h->signer, key);
}

enum store_status store_audit_head_sign(struct store *st, char **text, char **errstr)
{
	struct store_audit_head h = {0};
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char msg[512], sig[129], object[40];
	int n, rc;

	*text = NULL;
	s = store_require(st, STORE_PERM_AUDIT, "audit.sign", errstr);
	if (s == STORE_OK)
		s = store_prepare(st, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", &q,
				  errstr);
	if (s != STORE_OK)
		return s;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(q, 1) == (int)sizeof(h.hash)) {
		h.record = sqlite3_column_int64(q, 0);
		memcpy(h.hash, sqlite3_column_blob(q, 1), sizeof(h.hash));
	}
	sqlite3_finalize(q);
	if (h.record == 0)
		return rc == SQLITE_ROW || rc == SQLITE_DONE
			   ? store_fail(errstr, STORE_ECORRUPT,
					"the audit trail has no head to sign")
			   : store_sqlfail(st, errstr, "reading the audit trail");
	store_utc_now(h.time);
	snprintf(h.signer, sizeof(h.signer), "%s", store_user(st));
	s = store_user_pubkey(st, h.signer, h.key, errstr);
	if (s != STORE_OK)
		return s;
	n = signed_part(&h, msg, sizeof(msg));
	if (n < 0 || (size_t)n >= sizeof(msg))
		return store_fail(errstr, STORE_EINVAL, "the user name is too long for a head");
	if (store_sign(st, (const unsigned char *)msg, (size_t)n, h.sig) != STORE_OK)
		return store_fail(errstr, STORE_EDENIED,
				  "your signing key could not be opened; change your password "
				  "once (user passwd) to make one");
	sodium_bin2hex(sig, sizeof(sig), h.sig, sizeof(h.sig));
	snprintf(object, sizeof(object), "record %lld", (long long)h.record);
	s = store_audit(st, "audit.sign", object, "ok", "the head signed");
	if (s != STORE_OK)
		return s;
	if (asprintf(text, "%ssignature %s\n", msg, sig) < 0) {
		*text = NULL;
		return STORE_ENOMEM;
	}
	return STORE_OK;
}

/* Reads "NAME VALUE" at *p (up to LF) into value (at most n - 1 bytes); false when not. */
static bool field(const char **p, const char *end, const char *name, char *value, size_t n)
{
	size_t k = strlen(name), len;
	const char *lf = memchr(*p, '\n', (size_t)(end - *p));

	if (lf == NULL || (size_t)(lf - *p) <= k + 1 || memcmp(*p, name, k) != 0 || (*p)[k] != ' ')
		return false;
	len = (size_t)(lf - *p) - k - 1;
	if (len >= n || memchr(*p + k + 1, '\0', len) != NULL)
		return false;
	memcpy(value, *p + k + 1, len);
	value[len] = '\0';
	*p = lf + 1;
	return true;
}

static bool hex_field(const char **p, const char *end, const char *name, unsigned char *out,
		      size_t n)
{
	char hex[129];
	size_t got = 0;

	return n * 2 < sizeof(hex) && field(p, end, name, hex, sizeof(hex)) &&
	       strlen(hex) == n * 2 && sodium_hex2bin(out, n, hex, n * 2, NULL, &got, NULL) == 0 &&
	       got == n;
}

enum store_status store_audit_head_parse(const char *in, size_t in_len, struct store_audit_head *h,
					 char **errstr)
{
	char text[1024], record[24], msg[512], *rest = NULL;
	const char *p = text, *end, *sig_line;
	size_t len = 0, i;
	long long r;
	int n;

	memset(h, 0, sizeof(*h));
	/* A copy that went through mail or another system: CRLF, no last LF. */
	for (i = 0; i < in_len && len + 2 < sizeof(text); i++)
		if (!(in[i] == '\r' && i + 1 < in_len && in[i + 1] == '\n'))
			text[len++] = in[i];
	if (i < in_len)
		return store_fail(errstr, STORE_EINVAL,
				  "not a signed head of a hato audit trail: it is too long");
	if (len > 0 && text[len - 1] != '\n')
		text[len++] = '\n';
	text[len] = '\0';
	end = text + len;
	if (len < sizeof(HEAD_MAGIC) || memcmp(text, HEAD_MAGIC "\n", sizeof(HEAD_MAGIC)) != 0)
		return store_fail(
		    errstr, STORE_EINVAL,
		    "not a signed head of a hato audit trail (audit sign writes one)");
	p += sizeof(HEAD_MAGIC);
	if (!field(&p, end, "record", record, sizeof(record)) ||
	    (r = strtoll(record, &rest, 10)) <= 0 || *rest != '\0' ||
	    !hex_field(&p, end, "hash", h->hash, sizeof(h->hash)) ||
	    !field(&p, end, "time", h->time, sizeof(h->time)) ||
	    !field(&p, end, "signer", h->signer, sizeof(h->signer)) ||
	    !hex_field(&p, end, "key", h->key, sizeof(h->key)))
		return store_fail(errstr, STORE_EINVAL,
				  "the signed head is damaged: a line is missing or wrong");
	h->record = r;
	sig_line = p;
	if (!hex_field(&p, end, "signature", h->sig, sizeof(h->sig)) || p != end)
		return store_fail(errstr, STORE_EINVAL,
				  "the signed head is damaged: its signature line is missing or "
				  "wrong, or something follows it");
	n = signed_part(h, msg, sizeof(msg));
	/* The text signed is the text read: nothing was written another way. */
	if (n < 0 || (size_t)n != (size_t)(sig_line - text) || memcmp(msg, text, (size_t)n) != 0 ||
	    crypto_sign_verify_detached(h->sig, (const unsigned char *)msg, (size_t)n, h->key) != 0)
		return store_fail(errstr, STORE_EINVAL,
				  "the signed head's signature does not verify: it was changed");
	return STORE_OK;
}

/*
 * Was the head's record removed by the retention? It lies before the anchor,
 * and was signed before the cut-off of the pruning that removed it: the
 * record after it (the audit.sign record, or a later one) was written after
 * the head was signed, and the pruning removed it too, so it was older than
 * the cut-off. A head signed since then, whose record is gone, was cut.
 */
static bool pruned_away(const struct store_audit_head *h, const struct store_audit_prune *p)
{
	return p->record != 0 && h->record < p->anchor && strcmp(h->time, p->before) < 0;
}

enum store_status store_audit_head_check(struct store *st, const struct store_audit_head *h,
					 bool *other_key, struct store_audit_prune *pruned,
					 char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	unsigned char pk[32];
	int rc;

	memset(pruned, 0, sizeof(*pruned));
	s = store_require(st, STORE_PERM_AUDIT, "audit.verify", errstr);
	/* An admin's reset of the signer's password gives them a new key: said, not failed;
	 * the record's hash is what shows the trail unchanged. */
	*other_key = s == STORE_OK && (store_user_pubkey(st, h->signer, pk, NULL) != STORE_OK ||
				       sodium_memcmp(pk, h->key, sizeof(pk)) != 0);
	if (s == STORE_OK)
		s = store_audit_pruned(st, pruned, errstr);
	if (s == STORE_OK)
		s = audit_pruned_record(st, h->record, pruned, errstr);
	if (s == STORE_OK && pruned_away(h, pruned))
		return STORE_OK;
	if (s == STORE_OK)
		s = store_prepare(st, "SELECT hash FROM audit WHERE id = ?", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, h->record);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(q, 0) == (int)sizeof(h->hash) &&
	    sodium_memcmp(sqlite3_column_blob(q, 0), h->hash, sizeof(h->hash)) == 0)
		s = STORE_OK;
	else if (rc == SQLITE_ROW)
		s = store_fail(
		    errstr, STORE_ECORRUPT,
		    "record %lld is not the one %s signed on %s: the trail was rewritten, "
		    "or cut and written on, up to it",
		    (long long)h->record, h->signer, h->time);
	else if (rc == SQLITE_DONE)
		s = store_fail(errstr, STORE_ECORRUPT,
			       "there is no record %lld, which %s signed on %s: the trail was cut",
			       (long long)h->record, h->signer, h->time);
	else
		s = store_sqlfail(st, errstr, "reading the audit trail");
	sqlite3_finalize(q);
	return s;
}
