/*
 * send/retry.c: when a deferred recipient (a 4xx reply, or a server that
 * could not be reached) is tried again, and when hato gives up on it.
 *
 * The wait doubles with each attempt from send.retry_base (60 s), up to an
 * hour, as mail servers do. A recipient is given up, and marked failed with
 * the server's last reply, once its next try would come more than
 * send.retry_for (5 days, the give-up time RFC 5321 4.5.4.1 recommends
 * "at least 4-5 days") after its first attempt. The time is counted from
 * the waits themselves, not the clock, so a worker that was stopped for a
 * while does not give up on everybody at once when it starts again.
 *
 * Also what a reply's enhanced code says of the sender, where Gmail and
 * Outlook.com give one (send_reply_cause).
 */
#include <stdio.h>
#include <stdlib.h>

#include "send/private.h"

long send_retry_delay(long base, int attempts)
{
	long cap = base > SEND_RETRY_CAP ? base : SEND_RETRY_CAP, d = base > 0 ? base : 1;
	int i;

	for (i = 1; i < attempts && d < cap; i++)
		d *= 2;
	return d < cap ? d : cap;
}

bool send_retry_next(long base, long limit, int attempts, time_t now, time_t *next)
{
	long waited = 0;
	int k;

	/* The waits after attempts 1..n: when the next try would be, from the first. */
	for (k = 1; k <= attempts && waited <= limit; k++)
		waited += send_retry_delay(base, k);
	*next = now + send_retry_delay(base, attempts > 0 ? attempts : 1);
	return attempts > 0 && waited > limit;
}

char *send_retry_gave_up(const char *reply, int attempts)
{
	char *s = NULL;

	if (asprintf(&s, "%s (gave up after %d attempts)", reply, attempts) < 0)
		return NULL;
	return s;
}

/* The enhanced status code in a reply ("550 5.7.26 ..."): its class, subject
 * and detail; false when there is none. */
static bool enhanced_code(const char *reply, int *cls, int *subject, int *detail)
{
	const char *p;
	int n = 0;

	for (p = reply; *p != '\0'; p++)
		if ((*p == '2' || *p == '4' || *p == '5') && p[1] == '.' &&
		    (p == reply || p[-1] == ' ' || p[-1] == '-') &&
		    sscanf(p, "%d.%3d.%3d%n", cls, subject, detail, &n) == 3 && n > 0 &&
		    (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

const char *send_reply_cause(const char *reply)
{
	static const struct {
		int subject, detail;
		const char *cause;
	} causes[] = {
	    {7, 23,
	     "the sending IP's reverse DNS (PTR) is missing or does not resolve back "
	     "(Gmail); see hato domain check --ip"},
	    {7, 27, "SPF does not pass for the sending IP (Gmail); see hato domain check --ip"},
	    {7, 29, "the message did not come over TLS (Gmail)"},
	    {7, 30, "DKIM does not pass (Gmail); see hato domain check"},
	    {7, 31, "DMARC does not pass (Gmail); see hato domain check"},
	    {7, 40, "DMARC does not pass (Gmail); see hato domain check"},
	    {7, 32, "the From domain aligns with neither SPF nor DKIM (Gmail)"},
	    {7, 26, "unauthenticated: neither SPF nor DKIM passes for the From domain"},
	    {7, 515,
	     "the From domain does not meet Outlook.com's rules for bulk senders (SPF, "
	     "DKIM and DMARC); see hato domain check"},
	};
	int cls, subject, detail;

	if (reply == NULL || !enhanced_code(reply, &cls, &subject, &detail) || cls == 2)
		return NULL;
	for (size_t i = 0; i < sizeof(causes) / sizeof(causes[0]); i++)
		if (causes[i].subject == subject && causes[i].detail == detail)
			return causes[i].cause;
	return NULL;
}
