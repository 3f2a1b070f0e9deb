/*
 * fuzz_report.c: the reader of bounce and complaint reports (send/report.c),
 * and of the token of an unsubscribe request by mail (send/bounce.c, its
 * Subject's RFC 2047 encoded-words decoded), with
 * fuzzed messages. Aborts when a report it accepts holds a recipient or
 * VERP candidate that is not a NUL-terminated string within the message's
 * size, or more of them than SEND_REPORT_MAX_ADDRS; the sanitizers catch the
 * rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "send/send.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *s, size_t size)
{
	if (s != NULL && strlen(s) > size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct send_report *r = NULL;
	char *err = NULL, token[67];
	size_t i;

	/* An unsubscribe request's token: 66 characters of base64url (the subject
	 * may be encoded, RFC 2047: the token need not be in the input as it is). */
	if (send_request_token((const char *)data, size, token) &&
	    (strlen(token) != 66 ||
	     strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
		 66))
		abort();
	if (send_report_parse((const char *)data, size, &r, &err) != SEND_OK) {
		if (r != NULL || err == NULL)
			abort();
		free(err);
		return 0;
	}
	if (r->nrcpts > SEND_REPORT_MAX_ADDRS || r->nverp > SEND_REPORT_MAX_ADDRS)
		abort();
	for (i = 0; i < r->nverp; i++)
		check(r->verp[i], size);
	for (i = 0; i < r->nrcpts; i++) {
		check(r->rcpts[i].final_recipient, size);
		check(r->rcpts[i].original_recipient, size);
		check(r->rcpts[i].action, size);
		check(r->rcpts[i].status, size);
		(void)send_report_bad_address(r->rcpts[i].status);
	}
	check(r->feedback_type, size);
	check(r->arf_rcpt, size);
	check(r->returned_to, size);
	send_report_free(&r);
	return 0;
}
