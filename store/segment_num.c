/*
 * store/segment_num.c: numbers in the segment language, read and compared
 * as decimal text.
 *
 * strtod would read "1.5" as 1 under a locale whose decimal separator is a
 * comma, take 0x10, inf and nan for numbers, and round 17-digit ids to the
 * same double. Here a number is only a plain decimal, read the same way
 * whatever the locale, and two numbers compare exactly, digit by digit.
 */
#include <stdlib.h>
#include <string.h>

#include "store/segment_private.h"

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static size_t digits(const char *s, size_t i, size_t n)
{
	while (i < n && is_digit(s[i]))
		i++;
	return i;
}

int seg_decimal_parse(const char *s, size_t n, struct seg_decimal *d)
{
	size_t i = 0, w, f = 0, fe = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	d->neg = i < n && s[i] == '-';
	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	w = i;
	i = digits(s, i, n);
	if (i == w)
		return 0;
	d->whole = s + w;
	d->wl = i - w;
	if (i < n && s[i] == '.') {
		f = i + 1;
		fe = digits(s, f, n);
		if (fe == f)
			return 0;
		i = fe;
	}
	if (i != n)
		return 0;
	while (d->wl > 0 && d->whole[0] == '0') {
		d->whole++;
		d->wl--;
	}
	while (fe > f && s[fe - 1] == '0')
		fe--;
	d->frac = s + f;
	d->fl = fe - f;
	if (d->wl == 0 && d->fl == 0)
		d->neg = false; /* -0 is 0 */
	return 1;
}

/* Compares the sizes of a and b, signs aside. */
static int magnitude_cmp(const struct seg_decimal *a, const struct seg_decimal *b)
{
	size_t n = a->fl < b->fl ? a->fl : b->fl;
	int c;

	if (a->wl != b->wl)
		return a->wl < b->wl ? -1 : 1;
	c = memcmp(a->whole, b->whole, a->wl);
	if (c == 0)
		c = memcmp(a->frac, b->frac, n);
	if (c == 0 && a->fl != b->fl)
		c = a->fl < b->fl ? -1 : 1; /* no trailing zeros: the longer fraction is larger */
	return c < 0 ? -1 : c > 0;
}

int seg_decimal_cmp(const struct seg_decimal *a, const struct seg_decimal *b)
{
	if (a->neg != b->neg)
		return a->neg ? -1 : 1;
	return a->neg ? -magnitude_cmp(a, b) : magnitude_cmp(a, b);
}

/* Reads argv[k] as a number: 1 when it is one. */
static int arg_decimal(sqlite3_value **argv, int k, struct seg_decimal *d)
{
	const char *t = (const char *)sqlite3_value_text(argv[k]);

	return t != NULL && seg_decimal_parse(t, (size_t)sqlite3_value_bytes(argv[k]), d);
}

void seg_fn_numcmp(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	struct seg_decimal v, x;

	(void)argc;
	if (arg_decimal(argv, 0, &v) && arg_decimal(argv, 1, &x))
		sqlite3_result_int(cx, seg_decimal_cmp(&v, &x));
}

/* The numbers of an in list, read once for a statement (sqlite3_set_auxdata). */
struct numlist {
	size_t n;
	struct seg_decimal *d; /* into text */
	char text[];
};

static void numlist_free(void *p)
{
	struct numlist *l = p;

	if (l != NULL)
		free(l->d);
	free(l);
}

/* The numbers in list, separated by spaces; what is not one is left out. */
static struct numlist *numlist_make(const char *list, size_t len)
{
	size_t most = 1, i;
	struct numlist *l = malloc(sizeof(*l) + len + 1);
	const char *p, *end;

	if (l == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		most += list[i] == ' ';
	l->d = malloc(most * sizeof(*l->d));
	if (l->d == NULL) {
		free(l);
		return NULL;
	}
	memcpy(l->text, list, len);
	l->text[len] = '\0';
	l->n = 0;
	for (p = l->text; *p != '\0'; p = end + (*end == ' ')) {
		end = strchr(p, ' ');
		if (end == NULL)
			end = p + strlen(p);
		if (seg_decimal_parse(p, (size_t)(end - p), &l->d[l->n]))
			l->n++;
	}
	return l;
}

void seg_fn_numin(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	struct numlist *l = sqlite3_get_auxdata(cx, 1);
	const char *list = (const char *)sqlite3_value_text(argv[1]);
	struct seg_decimal v;
	bool fresh = false;
	size_t i;
	int r = 0;

	(void)argc;
	if (l == NULL && list != NULL) {
		l = numlist_make(list, (size_t)sqlite3_value_bytes(argv[1]));
		if (l == NULL) {
			sqlite3_result_error_nomem(cx);
			return;
		}
		fresh = true;
	}
	if (l != NULL && arg_decimal(argv, 0, &v))
		for (i = 0; r == 0 && i < l->n; i++)
			r = seg_decimal_cmp(&v, &l->d[i]) == 0;
	sqlite3_result_int(cx, r);
	/* Kept for the next rows; SQLite frees it at once when it can't keep it. */
	if (fresh)
		sqlite3_set_auxdata(cx, 1, l, numlist_free);
}
