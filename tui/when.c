/*
 * tui/when.c: the dates and times that the command line and the screens
 * accept. A time is 2026-12-01T09:00, with an optional :SS, a space allowed
 * for the T, and a zone (Z, +09:00, +0900, -04:30) or none for local time.
 * Where a day will do, a date alone (2026-12-01) is its local midnight.
 */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "tui/cli.h"

/* The value of the two digits at s, or -1. */
static int two_digits(const char *s)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Parses a whole zone, "Z", "+09:00" or "+0900" (or '-'): *off east of UTC in seconds. */
static int parse_zone(const char *z, long *off)
{
	const char *p = z + 1;
	int hh, mm;

	if (strcmp(z, "Z") == 0) {
		*off = 0;
		return 0;
	}
	if (*z != '+' && *z != '-')
		return -1;
	hh = two_digits(p);
	if (hh < 0)
		return -1;
	p += 2;
	if (*p == ':')
		p++;
	mm = two_digits(p);
	if (mm < 0 || p[2] != '\0' || hh > 23 || mm > 59)
		return -1;
	*off = (*z == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
	return 0;
}

/* Is the date of tm a day of the calendar (not 2026-02-30, which C would
 * carry over into March)? */
static int real_day(const struct tm *tm)
{
	struct tm t = *tm;

	t.tm_hour = 12; /* clear of any daylight-saving gap */
	if (timegm(&t) == (time_t)-1)
		return 0;
	return t.tm_mday == tm->tm_mday && t.tm_mon == tm->tm_mon && t.tm_year == tm->tm_year;
}

static int local_time(struct tm *tm, time_t *out)
{
	tm->tm_isdst = -1;
	*out = mktime(tm);
	return *out == (time_t)-1 ? -1 : 0;
}

int cli_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *p;
	long off;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M", &tm);
	if (p == NULL)
		p = strptime(s, "%Y-%m-%d %H:%M", &tm);
	if (p != NULL && *p == ':')
		p = strptime(p, ":%S", &tm);
	if (p == NULL || !real_day(&tm))
		return -1;
	if (*p == '\0')
		return local_time(&tm, out);
	if (parse_zone(p, &off) != 0)
		return -1;
	*out = timegm(&tm) - off;
	return 0;
}

int cli_parse_day_or_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *p;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%d", &tm);
	if (p != NULL && *p == '\0')
		return real_day(&tm) ? local_time(&tm, out) : -1;
	return cli_parse_time(s, out);
}
