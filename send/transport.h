/*
 * send/transport.h: the sending transports, internal to send/ (include it
 * only from the files in send/ and white-box tests).
 *
 * A transport hands messages to the world and reports, per message, what
 * happened. Two back ends fill one struct transport_ops:
 *   transport_smtp.c  smtp://HOST[:PORT] (STARTTLS required) and
 *                     smtps://HOST[:PORT] (implicit TLS), with `connections`
 *                     parallel, reused sessions that libcurl opens (each on
 *                     a multi handle) and smtp_dialog.c carries mail over;
 *                     it runs on a thread of its own (transport.c)
 *   transport_file.c  file:DIR, one DIR/<unique>.eml per message (0600)
 *   transport.c       the common front: parses the configuration, chooses
 *                     the back end, keeps the secret, runs the callbacks
 *
 * Use:
 *   struct transport *t;
 *   transport_open(&cfg, on_done, worker, &t, &err);
 *   while (work left) {
 *       while (transport_free_slots(t) > 0 && have a message)
 *           transport_submit(t, &msg, &err);      (copies the message)
 *       transport_run(t, 1000, &err);             (waits, calls on_done)
 *   }
 *   transport_drain(t, &err);                     (until nothing in flight)
 *   transport_close(&t);
 *
 * The done callback runs from inside transport_run/transport_drain (never
 * from submit), once per submitted message, in the worker's thread. It may
 * call transport_submit again; it must not call transport_run or close.
 *
 * TLS: smtp:// uses CURLUSESSL_ALL (a server without STARTTLS is a TLS
 * failure; never a fallback to cleartext), the peer and host name are always
 * verified, TLS 1.2 minimum. ca_file, when set, is the CA bundle libcurl
 * verifies against (CURLOPT_CAINFO: it REPLACES the system bundle for this
 * transport; to add a private CA to the public ones, give a file holding
 * both). tls = "none" sends in cleartext and is accepted only when the host
 * is a loopback address (127.0.0.0/8, ::1, localhost); anything else is a
 * configuration error at open.
 *
 * Errors: functions return enum send_status (send/send.h) and fill *errstr
 * (malloc'd, caller frees; may be NULL). The password never appears in an
 * error string, a reply or a log; it is kept in sodium_malloc'd memory and
 * wiped at close.
 */
#ifndef HATO_SEND_TRANSPORT_H
#define HATO_SEND_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "send/send.h"

#define TRANSPORT_CONNECTIONS_DEFAULT 4
#define TRANSPORT_CONNECTIONS_MAX 64
/* Messages in flight per connection: one being sent, the rest waiting. */
#define TRANSPORT_SLOTS_PER_CONNECTION 8

/* The configuration. All strings are borrowed for the duration of
 * transport_open (which copies what it keeps); NULL means unset. */
struct transport_config {
	const char *url;      /* smtp://host[:port], smtps://host[:port] or file:DIR */
	const char *user;     /* smtp.user: AUTH when set */
	const char *password; /* smtp.password: a secret; the caller wipes its copy */
	const char *ca_file;  /* smtp.ca_file: the CA bundle to verify against */
	const char *tls;      /* smtp.tls: "required" (default) or "none" */
	unsigned connections; /* smtp.connections: 0 means 4; at most 64 */
	long timeout_s;	      /* per-message limit in seconds; 0 means 300 */
	const char *helo;     /* name for EHLO; NULL lets libcurl choose */
};

/* What happened to one message. */
enum transport_outcome {
	TRANSPORT_SENT,	    /* accepted by the server (2xx after the data) */
	TRANSPORT_DEFERRED, /* the server answered 4xx: retry later */
	TRANSPORT_FAILED,   /* the server answered 5xx: do not retry */
	TRANSPORT_ERROR,    /* no SMTP verdict: connection, TLS or auth trouble, or the
			     * connection dropped; the message may or may not have been
			     * delivered when the drop came after the data */
	TRANSPORT_UNSENT,   /* withdrawn (transport_withdraw) before any of it went out,
			     * with the error TRANSPORT_UNSENT_WHY */
};
#define TRANSPORT_UNSENT_WHY "withdrawn before it was sent"

/* "sent", "deferred", "failed", "error" or "unsent". */
const char *transport_outcome_name(enum transport_outcome o);

/* The report of one message. Strings belong to the transport and stay
 * valid only during the callback; copy what you keep. */
struct transport_result {
	enum transport_outcome outcome;
	int code;	   /* the server's last SMTP reply code, or 0 when none */
	const char *reply; /* the server's last reply ("250 2.0.0 Ok: queued as X",
			    * "550 5.1.1 no such user"), or for file: "file: wrote
			    * DIR/x.eml"; "" when there was none. Never NULL. */
	const char *error; /* for TRANSPORT_ERROR (and also set on a 4xx/5xx): a
			    * sentence with context, "smtp: STARTTLS refused by
			    * 127.0.0.1:2587"; NULL when sent */
	bool tls_failure;  /* TLS could not be set up or verified */
	bool auth_failure; /* the server refused our AUTH, or demanded AUTH */
	bool after_data;   /* the data was sent (so an ERROR may still have
			    * been delivered: the worker calls it uncertain
			    * or deferred) */
};

/* One message: an envelope sender, one recipient, the complete RFC 5322
 * message with CRLF line endings (libcurl dot-stuffs; it does not fix bare
 * LF). transport_submit copies everything. `arg` comes back in the callback. */
struct transport_message {
	const char *from; /* envelope sender (MAIL FROM), may be "" for <> */
	const char *rcpt; /* the recipient (RCPT TO) */
	const char *data;
	size_t len;
	void *arg;
	/* At most this many messages to the recipient's domain in one SMTP
	 * session (pace.DOMAIN's PER_CONNECTION): the session that carries the
	 * last one ends after it. 0: no limit. */
	unsigned session_limit;
};

typedef void transport_done_fn(void *done_arg, void *msg_arg, const struct transport_result *r);

/* ---- The front: what the worker calls ----------------------------------- */

struct transport;

/*
 * Checks cfg, opens the back end and sets *out. Nothing is connected yet.
 * SEND_EINVAL for a bad configuration (unknown scheme, tls=none to a
 * non-loopback host, connections over 64, unreadable ca_file); SEND_ENOMEM.
 * done(done_arg, msg_arg, result) is called once per submitted message.
 * Free with transport_close().
 */
enum send_status transport_open(const struct transport_config *cfg, transport_done_fn *done,
				void *done_arg, struct transport **out, char **errstr);

/* How many more messages may be submitted now: TRANSPORT_SLOTS_PER_CONNECTION
 * x connections minus those in flight. Each connection carries one message
 * and has up to seven more waiting, so it never idles while the worker
 * records outcomes and claims the next recipients (make bench, to smtp-sink:
 * with 2 x, the worker sent about a quarter fewer messages a second than
 * with 4 x; with 4 x, about 7% fewer than with 8 x, in 8 alternating runs). */
size_t transport_free_slots(const struct transport *t);

/* How many messages are submitted and not yet reported. */
size_t transport_in_flight(const struct transport *t);

/* The back end's name, "smtp" or "file", and the URL without any password. */
const char *transport_name(const struct transport *t);
const char *transport_url(const struct transport *t);

/*
 * Queues one message (copied). SEND_EUSAGE when no slot is free or the
 * message is malformed (NULL, a CR or LF in an address); SEND_ENOMEM. Its
 * outcome comes later through the callback, never from this call.
 */
enum send_status transport_submit(struct transport *t, const struct transport_message *m,
				  char **errstr);

/*
 * Moves the transfers on: waits at most timeout_ms for activity (0: does not
 * wait), then calls the callback for every message that finished. Returns
 * SEND_OK unless the transport itself broke (SEND_ENOMEM, or a libcurl multi
 * failure as SEND_EINVAL); per-message trouble is reported in callbacks.
 */
enum send_status transport_run(struct transport *t, int timeout_ms, char **errstr);

/* Runs until nothing is in flight. */
enum send_status transport_drain(struct transport *t, char **errstr);

/*
 * Takes back every message that is still waiting for a connection: each is
 * reported TRANSPORT_UNSENT by a later transport_run (or at once, for a back
 * end without a thread). The messages already on a connection go on and
 * are reported as usual. For stopping soon: the circuit breaker, a pause.
 */
void transport_withdraw(struct transport *t);

/* Abandons whatever is in flight (no callbacks), closes the connections,
 * wipes the password, frees the transport and sets *t to NULL. Accepts NULL. */
void transport_close(struct transport **t);

/* ---- The back ends --------------------------------------------------------- */

/* The parsed configuration that transport.c hands to a back end. Owned by
 * the front; password is sodium_malloc'd. */
struct transport_conf {
	char *url;	   /* as given */
	char *host;	   /* smtp: host name or address, without brackets */
	int port;	   /* smtp: 587 for smtp://, 465 for smtps:// unless given */
	char *dir;	   /* file: the directory */
	bool implicit_tls; /* smtps:// */
	bool cleartext;	   /* tls = none (loopback only, checked) */
	char *user, *password, *ca_file, *helo;
	unsigned connections;
	unsigned slots; /* in flight at most: TRANSPORT_SLOTS_PER_CONNECTION x connections */
	long timeout_s;
	int wake_fd; /* threaded back ends: readable when the front has work for
		      * run; run polls it with its sockets and returns when it
		      * fires. -1 otherwise. */
};

/* A completed message, as a back end reports it to the front. */
typedef void transport_report_fn(struct transport *t, void *msg_arg,
				 const struct transport_result *r);

struct transport_ops {
	const char *name;
	/* Runs on a sending thread of its own (transport.c): only that thread
	 * calls submit and run, and run waits on conf->wake_fd too. */
	bool threaded;
	/* Allocates the back end's state. */
	enum send_status (*open)(const struct transport_conf *c, struct transport *t, void **state,
				 char **errstr);
	/* Starts one message; the back end owns the copy it makes. A back end
	 * may complete it (report) at once, as the file back end does. */
	enum send_status (*submit)(void *state, const struct transport_message *m, char **errstr);
	/* Waits at most timeout_ms and reports finished messages with report(). */
	enum send_status (*run)(void *state, int timeout_ms, transport_report_fn *report,
				char **errstr);
	/* Reports TRANSPORT_UNSENT, with report(), every message that no
	 * connection has taken yet. NULL: the back end keeps no such messages. */
	void (*withdraw)(void *state, transport_report_fn *report);
	/* Frees the state (in-flight messages are dropped unreported); sets *state to NULL. */
	void (*close)(void **state);
};

/* Checks an smtp.url as transport_open reads it: SEND_EINVAL, saying why, when
 * it is not smtp://HOST[:PORT], smtps://HOST[:PORT] or file:DIR. */
enum send_status transport_url_check(const char *url, char **errstr);

/* Reads smtp.tls: NULL or "required" (any case) is TLS, "none" cleartext;
 * anything else is SEND_EINVAL. */
enum send_status transport_tls_parse(const char *tls, bool *cleartext, char **errstr);
/* Checks smtp.url and smtp.tls together, as transport_open reads them: none
 * (cleartext) only to a loopback relay, never with smtps://. */
enum send_status transport_tls_check(const char *url, const char *tls, char **errstr);

/* Opens the transport the store's smtp.* settings describe (worker.c); a bad or
 * missing setting is SEND_ECONFIG. */
struct store;
enum send_status send_transport_from_config(struct store *st, transport_done_fn *done, void *arg,
					    struct transport **t, char **errstr);

extern const struct transport_ops transport_smtp_ops;
extern const struct transport_ops transport_file_ops;

/* True when host is 127.0.0.0/8, ::1 (with or without brackets) or "localhost". */
bool transport_host_is_loopback(const char *host);

/* Reports one finished message to the worker (used by the back ends). */
void transport_report(struct transport *t, void *msg_arg, const struct transport_result *r);

/* The report of a message withdrawn before any of it went (TRANSPORT_UNSENT). */
extern const struct transport_result transport_unsent;

#endif
