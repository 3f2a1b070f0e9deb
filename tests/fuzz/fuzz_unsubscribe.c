/*
 * fuzz_unsubscribe.c: the unsubscribe link that `subscriber unsubscribe
 * --link` reads (send/unsubscribe.c), from whatever serves unsubscribe.url.
 * The input is read as a link; then its first 16 bytes give two ids whose
 * token, put in a link with the rest of the input around it, must read back
 * as those ids. Aborts when it does not; the sanitizers catch the rest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send/send.h"
#include "templates/templates.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[TPL_UNSUB_KEY_LEN] = "fuzzing key, 32 bytes long....";
	char token[TPL_UNSUB_TOKEN_LEN + 1], *link = malloc(size + 1), *url;
	uint64_t a = 0, b = 0, s = 0, l = 0;
	size_t rest;

	if (link == NULL)
		return 0;
	memcpy(link, data, size);
	link[size] = '\0';
	send_unsubscribe_parse(key, link, &s, &l, NULL);
	if (size >= 16) {
		memcpy(&a, data, 8);
		memcpy(&b, data + 8, 8);
		tpl_unsub_token(key, a, b, token);
		rest = strcspn(link + 16, "/?#");
		url = malloc(rest + sizeof(token) + 32);
		if (url != NULL) {
			/* A host and path of the input's, the token, and a query. */
			snprintf(url, rest + sizeof(token) + 32, "https://%.*s/u/%s/?q", (int)rest,
				 link + 16, token);
			if (send_unsubscribe_parse(key, url, &s, &l, NULL) != SEND_OK || s != a ||
			    l != b)
				abort();
			free(url);
		}
	}
	free(link);
	return 0;
}
