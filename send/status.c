/*
 * send/status.c: the status strings and small helpers every file of send/
 * shares.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "send/private.h"

/* ---- Status, errors and small helpers ----------------------------------- */

const char *send_org_domain(const char *d)
{
	static const char *const second[] = {"co", "ne", "or",	"ac",  "ad",  "ed",  "go",
					     "gr", "lg", "com", "net", "org", "gov", "edu"};
	const char *label[3] = {d, d, d}; /* where the last, second and third labels start */
	const char *p;
	size_t i, n, k = 0;

	for (p = d + strlen(d); p > d && k < 3; p--)
		if (p[-1] == '.')
			label[k++] = p;
	if (k < 2)
		return d;
	n = (size_t)(label[0] - label[1] - 1);
	if (strlen(label[0]) == 2)
		for (i = 0; i < sizeof(second) / sizeof(second[0]); i++)
			if (strlen(second[i]) == n && strncasecmp(label[1], second[i], n) == 0)
				return label[2];
	return label[1];
}

const char *send_rate_text(int64_t last_minute, char *buf, size_t size)
{
	if (last_minute >= 60)
		snprintf(buf, size, "%.1f/s", (double)last_minute / 60.0);
	else
		snprintf(buf, size, "%lld/min", (long long)last_minute);
	return buf;
}

const char *send_strstatus(enum send_status s)
{
	switch (s) {
	case SEND_OK:
		return "success";
	case SEND_EUSAGE:
		return "invalid use";
	case SEND_EINVAL:
		return "invalid data";
	case SEND_EDNS:
		return "DNS failure";
	case SEND_ECRYPTO:
		return "cryptographic library failure";
	case SEND_ENOMEM:
		return "out of memory";
	case SEND_EDENIED:
		return "refused";
	case SEND_ESTORE:
		return "store failure";
	case SEND_EBUSY:
		return "busy";
	case SEND_ECONFIG:
		return "configuration error";
	case SEND_ENOTFOUND:
		return "not found";
	case SEND_EUNAVAILABLE:
		return "mail server unavailable";
	}
	return "unknown status";
}

enum send_status send_err(char **errstr, enum send_status s, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (errstr == NULL || *errstr != NULL)
		return s;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	*errstr = msg;
	return s;
}

enum send_status send_from_store(enum store_status s, char *serr, char **errstr)
{
	enum send_status r;

	switch (s) {
	case STORE_OK:
		r = SEND_OK;
		break;
	case STORE_EUSAGE:
		r = SEND_EUSAGE;
		break;
	case STORE_EINVAL:
	case STORE_EEXIST:
		r = SEND_EINVAL;
		break;
	case STORE_ENOTFOUND:
		r = SEND_ENOTFOUND;
		break;
	case STORE_EAUTH:
	case STORE_ELOCKED:
	case STORE_EDENIED:
		r = SEND_EDENIED;
		break;
	case STORE_EDELAY:
	case STORE_EBUSY:
		r = SEND_EBUSY;
		break;
	case STORE_ENOMEM:
		r = SEND_ENOMEM;
		break;
	default:
		r = SEND_ESTORE;
		break;
	}
	if (r != SEND_OK)
		r = send_err(errstr, r, "%s", serr != NULL ? serr : store_strstatus(s));
	free(serr);
	return r;
}

void send_secret_free(char **p)
{
	if (p == NULL || *p == NULL)
		return;
	sodium_free(*p); /* sodium_free wipes before it frees */
	*p = NULL;
}

size_t send_strv_len(char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

void send_strv_free(char ***v)
{
	if (v == NULL || *v == NULL)
		return;
	for (size_t i = 0; (*v)[i] != NULL; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
}

enum send_status send_strv_push(char ***v, size_t *n, char *s)
{
	char **nv;

	if (s == NULL)
		return SEND_ENOMEM;
	nv = realloc(*v, (*n + 2) * sizeof(*nv));
	if (nv == NULL) {
		free(s);
		return SEND_ENOMEM;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return SEND_OK;
}

bool send_prefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

enum send_status send_name_check(const char *what, const char *name, char **errstr)
{
	size_t len, label = 0;
	enum send_status st = SEND_OK;

	if (what == NULL)
		what = "name";
	if (name == NULL || *name == '\0') {
		st = send_err(errstr, SEND_EINVAL, "%s is empty", what);
		goto done;
	}
	len = strlen(name);
	if (len > 253) {
		st = send_err(errstr, SEND_EINVAL, "%s is longer than 253 characters", what);
		goto done;
	}
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || name[i - 1] == '-') {
				st = send_err(errstr, SEND_EINVAL,
					      "%s \"%.253s\": empty label or label ending in '-'",
					      what, name);
				goto done;
			}
			label = 0;
			continue;
		}
		if (!(isascii(c) && (isalnum(c) || c == '-'))) {
			st =
			    send_err(errstr, SEND_EINVAL,
				     "%s \"%.253s\": only letters, digits, '-' and '.' are allowed "
				     "(use the xn-- form for international names)",
				     what, name);
			goto done;
		}
		if (label == 0 && c == '-') {
			st = send_err(errstr, SEND_EINVAL, "%s \"%.253s\": label starts with '-'",
				      what, name);
			goto done;
		}
		if (++label > 63) {
			st = send_err(errstr, SEND_EINVAL,
				      "%s \"%.253s\": label longer than 63 characters", what, name);
			goto done;
		}
	}
done:
	return st;
}
