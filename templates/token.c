/*
 * token.c: unsubscribe tokens.
 *
 * A token is the unpadded URL-safe base64 of 49 bytes:
 *   0x01                      format version
 *   subscriber_id             8 bytes, big-endian
 *   list_id                   8 bytes, big-endian
 *   crypto_auth(first 17)     32 bytes, HMAC-SHA-512-256 under the key
 * so it names the subscriber and the list, and nobody without the key can
 * make one. It carries no expiry: an unsubscribe link must keep working.
 */
#include <sodium.h>
#include <string.h>

#include "templates/private.h"

#define TOKEN_VERSION 0x01
#define PAYLOAD 17
#define RAW (PAYLOAD + crypto_auth_BYTES)

static void put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

struct tpl_unsub_mac {
	crypto_auth_hmacsha512256_state keyed; /* the state after the key */
};

static void payload(unsigned char raw[RAW], uint64_t subscriber_id, uint64_t list_id)
{
	raw[0] = TOKEN_VERSION;
	put_be64(raw + 1, subscriber_id);
	put_be64(raw + 9, list_id);
}

static void encode(const unsigned char raw[RAW], char out[TPL_UNSUB_TOKEN_LEN + 1])
{
	sodium_bin2base64(out, TPL_UNSUB_TOKEN_LEN + 1, raw, RAW,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void tpl_unsub_token(const unsigned char key[TPL_UNSUB_KEY_LEN], uint64_t subscriber_id,
		     uint64_t list_id, char out[TPL_UNSUB_TOKEN_LEN + 1])
{
	unsigned char raw[RAW];

	payload(raw, subscriber_id, list_id);
	crypto_auth(raw + PAYLOAD, raw, PAYLOAD, key);
	encode(raw, out);
}

enum tpl_status tpl_unsub_mac_new(const unsigned char key[TPL_UNSUB_KEY_LEN],
				  struct tpl_unsub_mac **out)
{
	struct tpl_unsub_mac *m;

	*out = NULL;
	if (sodium_init() < 0 || (m = sodium_malloc(sizeof(*m))) == NULL)
		return TPL_ENOMEM;
	crypto_auth_hmacsha512256_init(&m->keyed, key, TPL_UNSUB_KEY_LEN);
	*out = m;
	return TPL_OK;
}

void tpl_unsub_mac_free(struct tpl_unsub_mac **m)
{
	if (m == NULL || *m == NULL)
		return;
	sodium_free(*m); /* sodium_free wipes it */
	*m = NULL;
}

void tpl_unsub_mac_token(const struct tpl_unsub_mac *m, uint64_t subscriber_id, uint64_t list_id,
			 char out[TPL_UNSUB_TOKEN_LEN + 1])
{
	crypto_auth_hmacsha512256_state st = m->keyed;
	unsigned char raw[RAW];

	payload(raw, subscriber_id, list_id);
	crypto_auth_hmacsha512256_update(&st, raw, PAYLOAD);
	crypto_auth_hmacsha512256_final(&st, raw + PAYLOAD);
	sodium_memzero(&st, sizeof(st));
	encode(raw, out);
}

enum tpl_status tpl_unsub_token_verify(const unsigned char key[TPL_UNSUB_KEY_LEN],
				       const char *token, uint64_t *subscriber_id,
				       uint64_t *list_id)
{
	unsigned char raw[RAW];
	char again[TPL_UNSUB_TOKEN_LEN + 1];
	size_t len = 0;
	const char *end = NULL;

	if (token == NULL || strlen(token) != TPL_UNSUB_TOKEN_LEN)
		return TPL_EINVAL;
	if (sodium_base642bin(raw, sizeof(raw), token, TPL_UNSUB_TOKEN_LEN, NULL, &len, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len != RAW || end != token + TPL_UNSUB_TOKEN_LEN || raw[0] != TOKEN_VERSION)
		return TPL_EINVAL;
	/* only the canonical spelling: the last character's spare bits are 0 */
	encode(raw, again);
	if (strcmp(again, token) != 0)
		return TPL_EINVAL;
	if (crypto_auth_verify(raw + PAYLOAD, raw, PAYLOAD, key) != 0)
		return TPL_EINVAL;
	if (subscriber_id != NULL)
		*subscriber_id = get_be64(raw + 1);
	if (list_id != NULL)
		*list_id = get_be64(raw + 9);
	return TPL_OK;
}
