/*
 * send/unsubscribe.c: the unsubscribe link of a message, followed. Every
 * message carries unsubscribe.url with a token that names the person and
 * the list (templates/token.c) under a key of the store; what serves that
 * URL hands the token, or the whole URL, to `hato subscriber unsubscribe
 * --link`, which unsubscribes the person from that list (RFC 8058: with no
 * further question).
 */
#include <sodium.h>
#include <string.h>

#include "send/private.h"
#include "store/store.h"
#include "templates/templates.h"

/* The token of link: the last segment of its path, without a query. */
static size_t token_of(const char *link, const char **tok)
{
	size_t n = strcspn(link, "?#");

	while (n > 0 && link[n - 1] == '/')
		n--;
	*tok = link;
	for (size_t i = 0; i < n; i++)
		if (link[i] == '/')
			*tok = link + i + 1;
	return n - (size_t)(*tok - link);
}

enum send_status send_unsubscribe_parse(const unsigned char key[TPL_UNSUB_KEY_LEN],
					const char *link, uint64_t *subscriber, uint64_t *list_num,
					char **errstr)
{
	char token[TPL_UNSUB_TOKEN_LEN + 1];
	const char *tok;
	size_t n = token_of(link, &tok);

	if (n != TPL_UNSUB_TOKEN_LEN)
		return send_err(errstr, SEND_EINVAL,
				"not an unsubscribe link of hato: its path does not end in a token "
				"of %d characters",
				TPL_UNSUB_TOKEN_LEN);
	memcpy(token, tok, n);
	token[n] = '\0';
	if (tpl_unsub_token_verify(key, token, subscriber, list_num) != TPL_OK)
		return send_err(errstr, SEND_EINVAL,
				"not an unsubscribe link of this store: its token does not verify");
	return SEND_OK;
}

enum send_status send_unsubscribe_link(struct store *st, const char *link, const char *how,
				       char list[65], bool *already, char **errstr)
{
	unsigned char key[TPL_UNSUB_KEY_LEN];
	uint64_t subscriber = 0, list_num = 0;
	enum store_status ss;
	enum send_status s;
	char *serr = NULL;

	list[0] = '\0';
	*already = false;
	if (store_unsubscribe_key(st, key) != STORE_OK)
		return send_err(errstr, SEND_EINVAL, "the store's unsubscribe key is missing");
	s = send_unsubscribe_parse(key, link, &subscriber, &list_num, errstr);
	sodium_memzero(key, sizeof(key));
	if (s != SEND_OK)
		return s;
	ss = store_subscriber_unsubscribe_link(st, (int64_t)subscriber, (int64_t)list_num, how,
					       list, already, &serr);
	return ss == STORE_OK ? SEND_OK : send_from_store(ss, serr, errstr);
}
