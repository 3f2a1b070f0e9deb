/*
 * send/settings.c: the settings that sending reads from the store, and the
 * transport they describe.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "send/private.h"
#include "send/transport.h"
#include "store/store.h"

char *send_setting(struct store *st, const char *key)
{
	char *v = NULL;

	if (store_config_get(st, key, &v, NULL) != STORE_OK || v == NULL || *v == '\0') {
		free(v);
		return NULL;
	}
	return v;
}

long send_setting_long(struct store *st, const char *key, long dflt, long min)
{
	char *v = send_setting(st, key), *end = NULL;
	long n;

	if (v == NULL)
		return dflt;
	n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || n < min)
		n = dflt;
	free(v);
	return n;
}

/* Reads the smtp.* settings and opens the transport. */
enum send_status send_transport_from_config(struct store *st, transport_done_fn *done, void *arg,
					    struct transport **t, char **errstr)
{
	struct transport_config cfg = {0};
	char *url = send_setting(st, "smtp.url"), *user = send_setting(st, "smtp.user");
	char *pw = send_setting(st, "smtp.password"), *ca = send_setting(st, "smtp.ca_file");
	char *tls = send_setting(st, "smtp.tls"), *conns = send_setting(st, "smtp.connections");
	enum send_status s;

	if (url == NULL) {
		s = send_err(errstr, SEND_ECONFIG,
			     "no transport: set smtp.url (smtp://host:587, smtps://host:465 or "
			     "file:DIR)");
		goto done;
	}
	cfg.url = url;
	cfg.user = user;
	cfg.password = pw;
	cfg.ca_file = ca;
	cfg.tls = tls;
	cfg.connections = conns != NULL ? (unsigned)strtoul(conns, NULL, 10) : 0;
	s = transport_open(&cfg, done, arg, t, errstr);
	/* transport_open's bad data is the smtp.* settings: a configuration error. */
	if (s == SEND_EINVAL)
		s = SEND_ECONFIG;
done:
	if (pw != NULL) {
		sodium_memzero(pw, strlen(pw));
		free(pw);
	}
	free(url);
	free(user);
	free(ca);
	free(tls);
	free(conns);
	return s;
}
