/*
 * send/pace.c: how fast the worker may send.
 *
 *   - a global rate, send.rate messages a second (0: unlimited), as a token
 *     bucket;
 *   - rules per recipient domain, "pace.DOMAIN = PER_MINUTE/PER_CONNECTION"
 *     (either may be 0 for no limit): at most PER_MINUTE messages in any 60
 *     seconds to the domain, spread out evenly, one every 60 / PER_MINUTE
 *     seconds (a token bucket refilled at PER_MINUTE / 60 a second that
 *     holds one token: no bursts), and at most PER_CONNECTION of them in one
 *     SMTP session (the transport counts them per session); the Japanese
 *     carrier domains default to 100 messages per SMTP session; all rules
 *     are read once, at start, and a domain's next message waits for what
 *     the store sent it in the last minute;
 *   - the warm-up cap: with warmup.start set, a day's cap is warmup.volume
 *     (default 50) growing 40% a day, or the day's entry in warmup.schedule
 *     ("50,80,120,..."); after the table's last day there is no cap. After
 *     WARMUP_IDLE without a message sent, mailbox providers see the
 *     sender as new again: the first day that sends is day 0 once more;
 *   - the circuit breaker: over the last PACE_WINDOW outcomes, 5xx replies
 *     above send.breaker percent (default 5) pause the campaign, judged over
 *     at least PACE_MIN_SAMPLES replies (see pace_breaker).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "send/pace.h"
#include "send/private.h"
#include "send/send.h"
#include "store/store.h"

static const char *const carriers[] = {"docomo.ne.jp", "ezweb.ne.jp", "au.com", "softbank.ne.jp",
				       "i.softbank.jp"};

time_t pace_day_parse(const char *s)
{
	struct tm tm, back;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	end = s != NULL ? strptime(s, "%Y-%m-%d", &tm) : NULL;
	if (end == NULL || *end != '\0')
		return (time_t)-1;
	back = tm;
	t = timegm(&back);
	/* timegm makes 2026-02-30 into March 2nd: not a date. */
	if (back.tm_mday != tm.tm_mday || back.tm_mon != tm.tm_mon)
		return (time_t)-1;
	return t;
}

time_t pace_day_start(time_t now)
{
	return now - now % 86400;
}

enum send_status pace_table_parse(const char *table, int day, long *cap, long *next, char **errstr)
{
	const char *p = table;
	long v;

	*cap = *next = -1;
	for (int i = 0;; i++) {
		p += strspn(p, " ");
		if (!send_parse_number(p, 0, PACE_CAP_MAX, &v, &p))
			break;
		if (i == day)
			*cap = v;
		else if (i == day + 1)
			*next = v;
		p += strspn(p, " ");
		if (*p == '\0')
			return SEND_OK;
		if (*p != ',')
			break;
		p++;
	}
	return send_err(errstr, SEND_EINVAL,
			"warmup.schedule is \"ramp\" or a cap a day, whole numbers separated by "
			"commas (\"50,80,120\"); \"%s\" is not",
			table);
}

#define WARMUP_IDLE ((time_t)30 * 86400)

/*
 * The day the ramp counts from: warmup.start, or the day it started again
 * after an idle spell. *idle_days: more than 30 days without a message
 * sent (or since that day, when nothing went since) before today, which
 * makes today day 0 again; else 0.
 */
static time_t ramp_day0(struct store *st, time_t now, time_t start, long *idle_days)
{
	time_t today = pace_day_start(now), restarted = 0, last = 0, since;

	*idle_days = 0;
	/* A restart recorded with the clock ahead counts from today, not from then. */
	if (store_warmup_restart_get(st, &restarted, NULL) == STORE_OK && restarted > start)
		start = restarted < today ? restarted : today;
	if (start >= today || store_last_sent_before(st, today, &last, NULL) != STORE_OK)
		return start;
	since = last > start ? last : start;
	if (today - since < WARMUP_IDLE)
		return start;
	*idle_days = (long)((today - since) / 86400);
	return today;
}

void send_warmup_restart(struct store *st, time_t now)
{
	char *start = send_setting(st, "warmup.start"), why[120];
	time_t day0 = pace_day_parse(start);
	long idle;

	free(start);
	if (day0 == (time_t)-1 || now < day0)
		return;
	day0 = ramp_day0(st, now, day0, &idle);
	if (idle == 0)
		return;
	snprintf(why, sizeof(why), "%ld days without a message sent: day 0 again", idle);
	store_warmup_restart_set(st, day0, why, NULL);
}

void send_warmup_status(struct store *st, time_t now, struct send_warmup *w)
{
	char *start = send_setting(st, "warmup.start"), *table = NULL;
	time_t day0;
	long volume;

	memset(w, 0, sizeof(w[0]));
	w->cap = -1;
	day0 = pace_day_parse(start);
	if (day0 == (time_t)-1 || now < day0)
		goto done;
	day0 = ramp_day0(st, now, day0, &w->idle_days);
	w->restarted = day0 != pace_day_parse(start);
	w->active = true;
	w->day = (int)((pace_day_start(now) - day0) / 86400);
	volume = send_setting_number(st, "warmup.volume");
	table = send_setting(st, "warmup.schedule");
	if (table != NULL && strcmp(table, "ramp") != 0) {
		w->plan = "custom table";
		if (pace_table_parse(table, w->day, &w->cap, &w->next_cap, NULL) != SEND_OK) {
			/* A table that does not parse is not "no cap": nothing goes. */
			w->cap = w->next_cap = 0;
			w->plan = "custom table (it does not parse: nothing goes until "
				  "warmup.schedule is fixed)";
		}
	} else {
		w->cap = (long)ceil((double)volume * pow(1.4, w->day));
		w->next_cap = (long)ceil((double)volume * pow(1.4, w->day + 1));
		w->plan = "built-in ramp, +40% a day";
	}
	if (w->cap < 0)
		w->active = false;
	if (w->active &&
	    store_sent_since(st, pace_day_start(now), &w->sent_today, NULL) != STORE_OK)
		w->sent_today = 0;
done:
	free(start);
	free(table);
}

/* Adds (or updates) the rule for a domain. */
static struct pace_domain *rule_add(struct pace *p, const char *domain)
{
	struct pace_domain *d;
	size_t i;

	for (i = 0; i < p->ndomains; i++)
		if (strcasecmp(p->domains[i].name, domain) == 0)
			return &p->domains[i];
	if (p->ndomains == PACE_MAX_DOMAINS || strlen(domain) >= sizeof(d->name))
		return NULL;
	d = &p->domains[p->ndomains++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", domain);
	return d;
}

enum send_status pace_rule_parse(const char *key, const char *value, long *per_minute,
				 long *per_connection, char **errstr)
{
	const char *p;

	*per_connection = -1;
	if (!send_parse_number(value, 0, PACE_RULE_MAX, per_minute, &p) ||
	    (*p == '/' && !send_parse_number(p + 1, 0, PACE_RULE_MAX, per_connection, &p)) ||
	    *p != '\0')
		return send_err(errstr, SEND_EINVAL,
				"%s is PER_MINUTE[/PER_CONNECTION], whole numbers up to %d (0: no "
				"limit), such as \"60/100\"; \"%s\" is not",
				key, PACE_RULE_MAX, value);
	return SEND_OK;
}

/* pace.DOMAIN = "PER_MINUTE[/PER_CONNECTION]"; one that does not parse is no rule. */
static int rule_from_config(const char *key, const char *value, bool secret, void *arg)
{
	struct pace *p = arg;
	struct pace_domain *d;
	long pm, pc;

	if (secret || strncmp(key, "pace.", 5) != 0 || key[5] == '\0' ||
	    pace_rule_parse(key, value, &pm, &pc, NULL) != SEND_OK)
		return 0;
	d = rule_add(p, key + 5);
	if (d == NULL)
		return 0;
	d->per_minute = pm;
	if (pc >= 0) /* without one, a carrier keeps its 100 a session */
		d->per_connection = pc;
	return 0;
}

int64_t pace_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The time between two messages to a domain: 60 s / per_minute, rounded up,
 * so that per_minute + 1 of them never fit in 60 seconds. */
static int64_t domain_gap_us(const struct pace_domain *d)
{
	return (60000000 + d->per_minute - 1) / d->per_minute;
}

void pace_init(struct pace *p, struct store *st)
{
	int64_t now = pace_clock_us(), n;
	time_t first, last;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->st = st;
	p->rate = (double)send_setting_number(st, "send.rate");
	p->tokens = p->rate > 0 ? 1 : 0;
	p->breaker_pct = send_setting_number(st, "send.breaker");
	clock_gettime(CLOCK_MONOTONIC, &p->last);
	for (i = 0; i < sizeof(carriers) / sizeof(carriers[0]); i++) {
		struct pace_domain *d = rule_add(p, carriers[i]);
		if (d != NULL)
			d->per_connection = 100;
	}
	store_config_list(st, rule_from_config, p, NULL);
	for (i = 0; i < p->ndomains; i++) {
		struct pace_domain *d = &p->domains[i];
		if (d->per_minute <= 0)
			continue;
		/*
		 * The next one goes a gap after the last one sent there (its
		 * second known, taken at its end); and when the last minute
		 * holds per_minute already (sent under a faster rule), once the
		 * first of them is a minute old. Unknown: a minute from now.
		 */
		d->next_us = now;
		if (store_sent_to_domain_since(st, d->name, (time_t)(now / 1000000) - 60, &n,
					       &first, &last, NULL) != STORE_OK)
			d->next_us = now + 60000000;
		else if (n > 0)
			d->next_us = ((int64_t)last + 1) * 1000000 + domain_gap_us(d);
		if (n >= d->per_minute && ((int64_t)first + 61) * 1000000 > d->next_us)
			d->next_us = ((int64_t)first + 61) * 1000000;
	}
}

void pace_breaker_reset(struct pace *p)
{
	memset(p->window, 0, sizeof(p->window));
	p->wpos = 0;
	p->wcount = 0;
}

/* The rule for a domain, or NULL when it has none. */
static struct pace_domain *domain_rule(struct pace *p, const char *domain)
{
	size_t i;

	for (i = 0; domain != NULL && i < p->ndomains; i++)
		if (strcasecmp(p->domains[i].name, domain) == 0)
			return &p->domains[i];
	return NULL;
}

double pace_budget(struct pace *p)
{
	struct timespec now;
	double dt;

	if (p->rate <= 0)
		return 1e9;
	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = (double)(now.tv_sec - p->last.tv_sec) + (double)(now.tv_nsec - p->last.tv_nsec) / 1e9;
	p->last = now;
	p->tokens += dt * p->rate;
	/* A burst of at most one second's worth. */
	if (p->tokens > p->rate)
		p->tokens = p->rate;
	return p->tokens;
}

/* Is the domain's next message not due yet? A clock stepped back leaves it
 * at most a minute to wait (per_minute gaps, what pace_init may set). */
static bool domain_waits(struct pace_domain *d, int64_t now)
{
	int64_t most;

	if (d->per_minute <= 0)
		return false;
	most = d->per_minute * domain_gap_us(d);
	if (d->next_us - now > most)
		d->next_us = now + most;
	return now < d->next_us;
}

bool pace_take(struct pace *p, const char *domain, int64_t now, unsigned *session_limit)
{
	struct pace_domain *d = domain_rule(p, domain);

	*session_limit = 0;
	if (p->rate > 0) {
		if (p->tokens < 1)
			return false;
	}
	if (d != NULL && d->per_minute > 0) {
		if (domain_waits(d, now))
			return false;
		/* From now, not from when it was due: never two within a gap. */
		d->next_us = now + domain_gap_us(d);
	}
	if (p->rate > 0)
		p->tokens -= 1;
	if (d != NULL)
		*session_limit = (unsigned)d->per_connection;
	return true;
}

/* Domains whose next message is not due yet (for claiming around them). */
size_t pace_blocked(struct pace *p, int64_t now, const char **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < p->ndomains && n < max; i++)
		if (domain_waits(&p->domains[i], now))
			out[n++] = p->domains[i].name;
	return n;
}

int64_t pace_wait_us(struct pace *p, int64_t now)
{
	int64_t wait = 0;
	size_t i;

	for (i = 0; i < p->ndomains; i++) {
		struct pace_domain *d = &p->domains[i];
		if (domain_waits(d, now) && (wait == 0 || d->next_us - now < wait))
			wait = d->next_us - now;
	}
	return wait;
}

void pace_result(struct pace *p, bool was_5xx)
{
	p->window[p->wpos] = was_5xx;
	p->wpos = (p->wpos + 1) % PACE_WINDOW;
	if (p->wcount < PACE_WINDOW)
		p->wcount++;
}

/*
 * The share is judged over at least PACE_MIN_SAMPLES replies, so that one
 * bad address among the first few does not pause a campaign. Before that
 * many are in, the 5xx alone are weighed against PACE_MIN_SAMPLES: once
 * they pass the threshold of it, no reply to come can bring the share back
 * under it, so the breaker trips at once (at 5%, on the second 5xx) instead
 * of sending on to the 20th reply, and a campaign of fewer recipients than
 * that is judged too.
 */
bool pace_breaker(const struct pace *p, char *why, size_t whylen)
{
	int i, bad = 0, judged = p->wcount < PACE_MIN_SAMPLES ? PACE_MIN_SAMPLES : p->wcount;

	for (i = 0; i < p->wcount; i++)
		bad += p->window[i];
	if (bad * 100 <= p->breaker_pct * judged)
		return false;
	if (p->wcount < PACE_MIN_SAMPLES)
		snprintf(why, whylen,
			 "circuit breaker: %d of the last %d replies were 5xx, over the threshold "
			 "of %ld%% of %d replies already",
			 bad, p->wcount, p->breaker_pct, PACE_MIN_SAMPLES);
	else
		snprintf(why, whylen,
			 "circuit breaker: %d of the last %d replies were 5xx (%d%%, threshold "
			 "%ld%%)",
			 bad, p->wcount, bad * 100 / p->wcount, p->breaker_pct);
	return true;
}
