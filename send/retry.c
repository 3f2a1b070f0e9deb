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
