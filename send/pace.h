/*
 * send/pace.h: pacing, warm-up and the circuit breaker (pace.c). Internal
 * to send/.
 */
#ifndef HATO_SEND_PACE_H
#define HATO_SEND_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

#define PACE_MAX_DOMAINS 256
#define PACE_WINDOW 200
#define PACE_MIN_SAMPLES 20

struct pace_domain {
	char name[256];
	long per_minute, per_connection;
	time_t minute_start;
	long in_minute;
};

struct pace {
	struct store *st;
	double rate, tokens;
	struct timespec last;
	long breaker_pct;
	struct pace_domain domains[PACE_MAX_DOMAINS];
	size_t ndomains;
	bool window[PACE_WINDOW];
	int wpos, wcount;
};

/*
 * Reads send.rate, send.breaker and every domain rule
 * (the carrier defaults and the pace.DOMAIN settings). A domain's per-minute
 * budget starts from what the store says went to it in the last minute, so a
 * worker restarted (or run again with --once) does not start a fresh minute.
 */
void pace_init(struct pace *p, struct store *st);
/* Empties the breaker's window: each campaign is judged on its own replies. */
void pace_breaker_reset(struct pace *p);
/* Refills the global token bucket; returns how many messages may go now. */
double pace_budget(struct pace *p);
/*
 * Takes one message to `domain` from the budgets. False, taking nothing, when
 * the global rate or the domain's per-minute rule says wait. *session_limit:
 * the domain's per-connection rule, how many of its messages one SMTP session
 * may carry (0: no limit); the transport counts them per session.
 */
bool pace_take(struct pace *p, const char *domain, time_t now, unsigned *session_limit);
/* The domains that are over their per-minute budget now. */
size_t pace_blocked(struct pace *p, time_t now, const char **out, size_t max);
/* Counts one SMTP verdict in the breaker's window. */
void pace_result(struct pace *p, bool was_5xx);
/* True, with the reason, when the 5xx share of the window passes the threshold. */
bool pace_breaker(const struct pace *p, char *why, size_t whylen);
/* Midnight UTC of the day holding now. */
time_t pace_day_start(time_t now);

#endif
