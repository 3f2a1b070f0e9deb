/*
 * send/transport.c: the front of the transports. Parses and checks the
 * configuration (URL, TLS policy, connections), keeps the password in
 * sodium_malloc'd memory, counts messages in flight and passes each
 * back end's reports to the worker's callback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "send/private.h"
#include "send/transport.h"

struct transport {
	const struct transport_ops *ops;
	void *state;
	struct transport_conf conf;
	transport_done_fn *done;
	void *done_arg;
	size_t in_flight;
	bool in_callback;
};

const char *transport_outcome_name(enum transport_outcome o)
{
	switch (o) {
	case TRANSPORT_SENT:
		return "sent";
	case TRANSPORT_DEFERRED:
		return "deferred";
	case TRANSPORT_FAILED:
		return "failed";
	case TRANSPORT_ERROR:
		return "error";
	}
	return "unknown";
}

bool transport_host_is_loopback(const char *host)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n;
	struct in_addr a4;
	struct in6_addr a6;

	if (host == NULL || *host == '\0')
		return false;
	if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	n = strlen(host);
	if (host[0] == '[' && n >= 2 && host[n - 1] == ']') {
		if (n - 2 >= sizeof(buf))
			return false;
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		host = buf;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
	}
	return false;
}

static void conf_clear(struct transport_conf *c)
{
	free(c->url);
	free(c->host);
	free(c->dir);
	free(c->user);
	free(c->ca_file);
	free(c->helo);
	if (c->password != NULL) {
		sodium_memzero(c->password, strlen(c->password));
		sodium_free(c->password);
	}
	memset(c, 0, sizeof(*c));
}

static bool has_ctl(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Splits the authority of smtp[s]://AUTHORITY[/...] into host and port. */
static enum send_status parse_authority(const char *url, const char *auth, size_t len,
					bool implicit_tls, struct transport_conf *c, char **errstr)
{
	const char *end = auth + len, *colon = NULL, *hs = auth, *he;
	long port = implicit_tls ? 465 : 587;

	if (memchr(auth, '@', len) != NULL)
		return send_err(errstr, SEND_EINVAL,
				"smtp: the URL must not hold a user or password; use smtp.user "
				"and smtp.password");
	if (len > 0 && auth[0] == '[') {
		he = memchr(auth, ']', len);
		if (he == NULL)
			return send_err(errstr, SEND_EINVAL, "smtp: bad IPv6 address in %s", url);
		hs = auth + 1;
		if (he + 1 < end) {
			if (he[1] != ':')
				return send_err(errstr, SEND_EINVAL, "smtp: bad URL %s", url);
			colon = he + 1;
		}
	} else {
		colon = memchr(auth, ':', len);
		he = colon != NULL ? colon : end;
	}
	if (he == hs)
		return send_err(errstr, SEND_EINVAL, "smtp: no host in %s", url);
	if (colon != NULL) {
		char pbuf[8], *pend;
		size_t pl = (size_t)(end - colon - 1);

		if (pl == 0 || pl >= sizeof(pbuf))
			return send_err(errstr, SEND_EINVAL, "smtp: bad port in %s", url);
		memcpy(pbuf, colon + 1, pl);
		pbuf[pl] = '\0';
		errno = 0;
		port = strtol(pbuf, &pend, 10);
		if (errno != 0 || *pend != '\0' || port < 1 || port > 65535)
			return send_err(errstr, SEND_EINVAL, "smtp: bad port in %s", url);
	}
	c->host = strndup(hs, (size_t)(he - hs));
	if (c->host == NULL)
		return SEND_ENOMEM;
	c->port = (int)port;
	return SEND_OK;
}

static enum send_status parse_url(const char *url, struct transport_conf *c,
				  const struct transport_ops **ops, char **errstr)
{
	const char *rest, *slash;

	if (url == NULL || *url == '\0')
		return send_err(errstr, SEND_EINVAL, "transport: no URL (smtp.url)");
	if (has_ctl(url))
		return send_err(errstr, SEND_EINVAL, "transport: control character in the URL");
	if (strncasecmp(url, "file:", 5) == 0) {
		rest = url + 5;
		if (strncmp(rest, "//", 2) == 0)
			rest += 2;
		if (*rest == '\0')
			return send_err(errstr, SEND_EINVAL, "file: no directory in %s", url);
		c->dir = strdup(rest);
		*ops = &transport_file_ops;
		return c->dir == NULL ? SEND_ENOMEM : SEND_OK;
	}
	if (strncasecmp(url, "smtps://", 8) == 0) {
		c->implicit_tls = true;
		rest = url + 8;
	} else if (strncasecmp(url, "smtp://", 7) == 0) {
		rest = url + 7;
	} else {
		return send_err(errstr, SEND_EINVAL,
				"transport: unknown URL %s (want smtp://HOST:587, smtps://HOST:465 "
				"or file:DIR)",
				url);
	}
	slash = strchr(rest, '/');
	if (slash != NULL && slash[1] != '\0')
		return send_err(errstr, SEND_EINVAL,
				"smtp: unexpected path in %s (the EHLO name is a separate setting)",
				url);
	*ops = &transport_smtp_ops;
	return parse_authority(url, rest, slash != NULL ? (size_t)(slash - rest) : strlen(rest),
			       c->implicit_tls, c, errstr);
}

static enum send_status dup_opt(char **dst, const char *src)
{
	if (src == NULL || *src == '\0')
		return SEND_OK;
	*dst = strdup(src);
	return *dst == NULL ? SEND_ENOMEM : SEND_OK;
}

static enum send_status conf_fill(const struct transport_config *cfg, struct transport_conf *c,
				  const struct transport_ops **ops, char **errstr)
{
	enum send_status st;

	st = parse_url(cfg->url, c, ops, errstr);
	if (st != SEND_OK)
		return st;
	if (*ops == &transport_smtp_ops) {
		if (cfg->tls == NULL || strcasecmp(cfg->tls, "required") == 0)
			c->cleartext = false;
		else if (strcasecmp(cfg->tls, "none") == 0)
			c->cleartext = true;
		else
			return send_err(
			    errstr, SEND_EINVAL,
			    "smtp: smtp.tls must be \"required\" or \"none\", not \"%s\"",
			    cfg->tls);
		if (c->cleartext && c->implicit_tls)
			return send_err(
			    errstr, SEND_EINVAL,
			    "smtp: smtp.tls = none contradicts smtps:// (implicit TLS)");
		if (c->cleartext && !transport_host_is_loopback(c->host))
			return send_err(errstr, SEND_EINVAL,
					"smtp: smtp.tls = none is allowed only to a loopback relay "
					"(127.0.0.0/8, ::1, localhost), not to %s",
					c->host);
	}
	if (cfg->ca_file != NULL && *cfg->ca_file != '\0' && access(cfg->ca_file, R_OK) != 0)
		return send_err(errstr, SEND_EINVAL, "smtp: cannot read smtp.ca_file %s: %s",
				cfg->ca_file, strerror(errno));
	if (has_ctl(cfg->user) || has_ctl(cfg->helo) || has_ctl(cfg->ca_file))
		return send_err(errstr, SEND_EINVAL, "smtp: control character in a setting");
	c->connections = cfg->connections != 0 ? cfg->connections : TRANSPORT_CONNECTIONS_DEFAULT;
	if (c->connections > TRANSPORT_CONNECTIONS_MAX)
		return send_err(errstr, SEND_EINVAL, "transport: smtp.connections is at most %d",
				TRANSPORT_CONNECTIONS_MAX);
	c->slots = 2 * c->connections;
	c->timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 300;
	if (dup_opt(&c->url, cfg->url) != SEND_OK || dup_opt(&c->user, cfg->user) != SEND_OK ||
	    dup_opt(&c->ca_file, cfg->ca_file) != SEND_OK ||
	    dup_opt(&c->helo, cfg->helo) != SEND_OK)
		return SEND_ENOMEM;
	if (cfg->password != NULL && *cfg->password != '\0') {
		size_t n = strlen(cfg->password);

		c->password = sodium_malloc(n + 1);
		if (c->password == NULL)
			return SEND_ENOMEM;
		memcpy(c->password, cfg->password, n + 1);
	}
	if (c->password != NULL && c->user == NULL)
		return send_err(errstr, SEND_EINVAL,
				"smtp: smtp.password is set but smtp.user is not");
	return SEND_OK;
}

enum send_status transport_open(const struct transport_config *cfg, transport_done_fn *done,
				void *done_arg, struct transport **out, char **errstr)
{
	struct transport *t = NULL;
	const struct transport_ops *ops = NULL;
	enum send_status st;

	if (cfg == NULL || done == NULL || out == NULL)
		return send_err(errstr, SEND_EUSAGE, "transport: missing argument");
	*out = NULL;
	if (sodium_init() < 0)
		return send_err(errstr, SEND_ECRYPTO, "transport: libsodium failed to start");
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return SEND_ENOMEM;
	t->done = done;
	t->done_arg = done_arg;
	st = conf_fill(cfg, &t->conf, &ops, errstr);
	if (st != SEND_OK)
		goto done;
	t->ops = ops;
	st = ops->open(&t->conf, t, &t->state, errstr);
	if (st != SEND_OK)
		goto done;
	*out = t;
	t = NULL;
done:
	if (t != NULL)
		transport_close(&t);
	if (st == SEND_ENOMEM)
		send_err(errstr, st, "transport: out of memory");
	return st;
}

size_t transport_free_slots(const struct transport *t)
{
	if (t == NULL || t->in_flight >= t->conf.slots)
		return 0;
	return t->conf.slots - t->in_flight;
}

size_t transport_in_flight(const struct transport *t)
{
	return t != NULL ? t->in_flight : 0;
}

const char *transport_name(const struct transport *t)
{
	return t != NULL && t->ops != NULL ? t->ops->name : "";
}

const char *transport_url(const struct transport *t)
{
	return t != NULL && t->conf.url != NULL ? t->conf.url : "";
}

enum send_status transport_submit(struct transport *t, const struct transport_message *m,
				  char **errstr)
{
	enum send_status st;

	if (t == NULL || m == NULL || m->from == NULL || m->rcpt == NULL ||
	    (m->data == NULL && m->len > 0))
		return send_err(errstr, SEND_EUSAGE, "transport: missing message argument");
	if (transport_free_slots(t) == 0)
		return send_err(errstr, SEND_EUSAGE, "transport: no free slot (%zu in flight)",
				t->in_flight);
	if (*m->rcpt == '\0' || has_ctl(m->rcpt) || has_ctl(m->from))
		return send_err(errstr, SEND_EUSAGE, "transport: malformed envelope address");
	st = t->ops->submit(t->state, m, errstr);
	if (st == SEND_OK)
		t->in_flight++;
	return st;
}

void transport_report(struct transport *t, void *msg_arg, const struct transport_result *r)
{
	if (t->in_flight > 0)
		t->in_flight--;
	t->in_callback = true;
	t->done(t->done_arg, msg_arg, r);
	t->in_callback = false;
}

enum send_status transport_run(struct transport *t, int timeout_ms, char **errstr)
{
	if (t == NULL || t->in_callback)
		return send_err(errstr, SEND_EUSAGE, "transport: run from a callback");
	return t->ops->run(t->state, timeout_ms < 0 ? 0 : timeout_ms, transport_report, errstr);
}

enum send_status transport_drain(struct transport *t, char **errstr)
{
	enum send_status st = SEND_OK;

	while (st == SEND_OK && transport_in_flight(t) > 0)
		st = transport_run(t, 1000, errstr);
	return st;
}

void transport_close(struct transport **tp)
{
	struct transport *t;

	if (tp == NULL || *tp == NULL)
		return;
	t = *tp;
	if (t->ops != NULL && t->state != NULL)
		t->ops->close(&t->state);
	conf_clear(&t->conf);
	free(t);
	*tp = NULL;
}
