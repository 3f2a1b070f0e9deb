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

#include "send/send.h"

struct store;

#define PACE_MAX_DOMAINS 256
#define PACE_WINDOW 200
#define PACE_MIN_SAMPLES 20

struct pace_domain {
	char name[256];
	long per_minute, per_connection;
	int64_t next_us; /* when its next message may go (pace_clock_us) */
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

/* The wall clock in microseconds: the time the domain rules go by. */
int64_t pace_clock_us(void);
/*
 * Reads send.rate, send.breaker and every domain rule
 * (the carrier defaults and the pace.DOMAIN settings). A domain's next
 * message waits for what the store says went to it in the last minute, so a
 * worker restarted (or run again with --once) does not start a fresh minute.
 */
void pace_init(struct pace *p, struct store *st);
/* Empties the breaker's window: each campaign is judged on its own replies. */
void pace_breaker_reset(struct pace *p);
/* Refills the global token bucket; returns how many messages may go now. */
double pace_budget(struct pace *p);
/*
 * Takes one message to `domain` from the budgets at `now` (pace_clock_us).
 * False, taking nothing, when the global rate or the domain's per-minute
 * rule says wait: a domain of PER_MINUTE n gets one message every 60 / n
 * seconds, so never more than n in any 60 seconds. *session_limit:
 * the domain's per-connection rule, how many of its messages one SMTP session
 * may carry (0: no limit); the transport counts them per session.
 */
bool pace_take(struct pace *p, const char *domain, int64_t now, unsigned *session_limit);
/* The domains whose next message is not due yet at `now`. */
size_t pace_blocked(struct pace *p, int64_t now, const char **out, size_t max);
/* Microseconds from `now` until the first of those may send; 0 when none waits. */
int64_t pace_wait_us(struct pace *p, int64_t now);
/* Counts one SMTP verdict in the breaker's window. */
void pace_result(struct pace *p, bool was_5xx);
/* True, with the reason, when the 5xx share of the window passes the threshold,
 * the share taken over at least PACE_MIN_SAMPLES replies. */
bool pace_breaker(const struct pace *p, char *why, size_t whylen);
/* Midnight UTC of the day holding now. */
time_t pace_day_start(time_t now);

/* The parsers of the pacing settings, which `config set` runs too
 * (send_setting_check). Each refuses, saying why, what it can't read whole. */

#define PACE_CAP_MAX 100000000L /* a warm-up day's cap at most */
#define PACE_RULE_MAX 1000000	/* either number of a pace rule at most */

/* warmup.start, "YYYY-MM-DD": its midnight UTC, or -1 when it is not a date. */
time_t pace_day_parse(const char *s);
/*
 * warmup.schedule other than "ramp": a day's cap, whole numbers separated by
 * commas ("50,80,120"; blanks around them are allowed). *cap is day's entry
 * and *next the one after, -1 past the table's end.
 */
enum send_status pace_table_parse(const char *table, int day, long *cap, long *next, char **errstr);
/* A rule "PER_MINUTE[/PER_CONNECTION]" of the setting `key`; *per_connection
 * is -1 when it is not given. */
enum send_status pace_rule_parse(const char *key, const char *value, long *per_minute,
				 long *per_connection, char **errstr);

#endif
