/*
 * send/pace.c: how fast the worker may send.
 *
 *   - a global rate, send.rate messages a second (0: unlimited), as a token
 *     bucket;
 *   - rules per recipient domain, "pace.DOMAIN = PER_MINUTE/PER_CONNECTION"
 *     (either may be 0 for no limit): at most PER_MINUTE messages a minute
 *     to the domain, and at most PER_CONNECTION of them in one SMTP session
 *     (the transport counts them per session); the Japanese carrier domains
 *     default to 100 messages per SMTP session; all rules are read once, at start,
 *     and a domain's minute starts from what the store sent it lately;
 *   - the warm-up cap: with warmup.start set, a day's cap is warmup.volume
 *     (default 50) growing 40% a day, or the day's entry in warmup.schedule
 *     ("50,80,120,..."); after the table's last day there is no cap;
 *   - the circuit breaker: over the last PACE_WINDOW outcomes, 5xx replies
 *     above send.breaker percent (default 5) pause the campaign.
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

static time_t parse_day(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strptime(s, "%Y-%m-%d", &tm) == NULL)
		return (time_t)-1;
	return timegm(&tm);
}

time_t pace_day_start(time_t now)
{
	return now - now % 86400;
}

void send_warmup_status(struct store *st, time_t now, struct send_warmup *w)
{
	char *start = NULL, *table = NULL;
	time_t day0;
	long volume;

	memset(w, 0, sizeof(w[0]));
	w->cap = -1;
	if (store_config_get(st, "warmup.start", &start, NULL) != STORE_OK)
		goto done;
	day0 = parse_day(start);
	if (day0 == (time_t)-1 || now < day0)
		goto done;
	w->active = true;
	w->day = (int)((pace_day_start(now) - day0) / 86400);
	volume = send_setting_long(st, "warmup.volume", 50, 0);
	if (store_config_get(st, "warmup.schedule", &table, NULL) == STORE_OK && table != NULL &&
	    strcmp(table, "ramp") != 0) {
		char *p = table, *end;
		int i;

		w->next_cap = -1; /* past the table's end: no cap */
		for (i = 0; i <= w->day && p != NULL && *p != '\0'; i++) {
			long v = strtol(p, &end, 10);
			if (end == p)
				break;
			if (i == w->day)
				w->cap = v;
			if (i == w->day + 1)
				w->next_cap = v;
			p = *end == ',' ? end + 1 : NULL;
		}
		if (p != NULL && *p != '\0')
			w->next_cap = strtol(p, NULL, 10);
		w->plan = "custom table";
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

/* pace.DOMAIN = "PER_MINUTE[/PER_CONNECTION]". */
static int rule_from_config(const char *key, const char *value, bool secret, void *arg)
{
	struct pace *p = arg;
	struct pace_domain *d;
	const char *slash;
	char *end = NULL;
	long pm, pc;

	if (secret || strncmp(key, "pace.", 5) != 0 || key[5] == '\0')
		return 0;
	pm = strtol(value, &end, 10);
	if (end == value || pm < 0 || (*end != '\0' && *end != '/'))
		return 0;
	slash = strchr(value, '/');
	d = rule_add(p, key + 5);
	if (d == NULL)
		return 0;
	d->per_minute = pm;
	if (slash != NULL) {
		pc = strtol(slash + 1, &end, 10);
		if (end != slash + 1 && *end == '\0' && pc >= 0 && pc <= 1000000)
			d->per_connection = pc;
	}
	return 0;
}

void pace_init(struct pace *p, struct store *st)
{
	time_t now = time(NULL);
	int64_t n;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->st = st;
	p->rate = (double)send_setting_long(st, "send.rate", 0, 0);
	p->tokens = p->rate > 0 ? 1 : 0;
	p->breaker_pct = send_setting_long(st, "send.breaker", 5, 0);
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
		d->minute_start = now;
		if (store_sent_to_domain_since(st, d->name, now - 60, &n, NULL) == STORE_OK)
			d->in_minute = (long)n;
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

bool pace_take(struct pace *p, const char *domain, time_t now, unsigned *session_limit)
{
	struct pace_domain *d = domain_rule(p, domain);

	*session_limit = 0;
	if (p->rate > 0) {
		if (p->tokens < 1)
			return false;
	}
	if (d != NULL && d->per_minute > 0) {
		if (now - d->minute_start >= 60) {
			d->minute_start = now;
			d->in_minute = 0;
		}
		if (d->in_minute >= d->per_minute)
			return false;
		d->in_minute++;
	}
	if (p->rate > 0)
		p->tokens -= 1;
	if (d != NULL)
		*session_limit = (unsigned)d->per_connection;
	return true;
}

/* Domains that are over their per-minute budget now (for claiming around them). */
size_t pace_blocked(struct pace *p, time_t now, const char **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < p->ndomains && n < max; i++) {
		struct pace_domain *d = &p->domains[i];
		if (d->per_minute > 0 && now - d->minute_start < 60 &&
		    d->in_minute >= d->per_minute)
			out[n++] = d->name;
	}
	return n;
}

void pace_result(struct pace *p, bool was_5xx)
{
	p->window[p->wpos] = was_5xx;
	p->wpos = (p->wpos + 1) % PACE_WINDOW;
	if (p->wcount < PACE_WINDOW)
		p->wcount++;
}

bool pace_breaker(const struct pace *p, char *why, size_t whylen)
{
	int i, bad = 0;

	if (p->wcount < PACE_MIN_SAMPLES)
		return false;
	for (i = 0; i < p->wcount; i++)
		bad += p->window[i];
	if (bad * 100 > p->breaker_pct * p->wcount) {
		snprintf(why, whylen,
			 "circuit breaker: %d of the last %d replies were 5xx (%d%%, threshold "
			 "%ld%%)",
			 bad, p->wcount, bad * 100 / p->wcount, p->breaker_pct);
		return true;
	}
	return false;
}
