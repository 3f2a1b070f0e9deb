/*
 * send/worker_private.h: what the two files of the worker share: worker.c
 * (the campaigns and the loop) and worker_cycle.c (the transaction that
 * records outcomes and claims, and handing messages to the transport).
 */
#ifndef HATO_SEND_WORKER_PRIVATE_H
#define HATO_SEND_WORKER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "send/pace.h"
#include "send/private.h"
#include "send/send.h"
#include "send/transport.h"
#include "store/store.h"

#define MAX_BLOCKED 32
/* The worker's nap between rounds when nothing was sent. */
#define WORKER_NAP_MS 2000

/*
 * A claimed message: composed, then handed to the transport, then its
 * outcome until it is recorded.
 */
struct inflight {
	int64_t subscriber;
	char message_id[128];
	char *data; /* the composed message, until it is handed over */
	size_t len;
	char *rcpt;
	/* the recipient, from the claim until the message is composed */
	char *name;
	char **attrs; /* key, value, key, value... */
	size_t nattrs;
	char *compose_err; /* why the message could not be composed */
	unsigned session_limit;
	enum store_rcpt_state state;
	char *reply;
	time_t next;
	int attempts; /* this one included */
};

struct run {
	struct store *st;
	const struct send_worker_opts *o;
	struct transport *t;
	struct pace pace;
	struct store_campaign *c;
	struct send_composer *comp;
	struct send_pool *pool; /* composes a batch on every core when it signs */
	int64_t list_rowid;
	long retry_base, retry_for;
	char *verp_domain;
	unsigned char verp_key[32];
	bool trip; /* the breaker tripped: pause the campaign */
	char trip_why[500];
	char unavailable[300]; /* the last TLS or AUTH failure that tripped it, or "" */
	int64_t claimed, done;
	struct inflight **pend; /* outcomes not yet recorded (at most the slots) */
	size_t npend, cappend;
	struct timespec first_pend; /* when the oldest of them came in */
	struct inflight **ready;    /* claimed and composed, to hand over once committed */
	size_t nready;
	size_t batch; /* outcomes worth a transaction: half the slots */
	enum send_status fatal;
	char *fatal_err;
	char *denied; /* why the user may no longer send (an admin's change), or NULL */
};

/* A line of the worker's log (opts->log), stamped with the UTC time. */
void worker_log(const struct send_worker_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The transport's report of a message: its outcome waits to be recorded. */
void worker_on_done(void *arg, void *msg_arg, const struct transport_result *r);
/* Records what came in and claims and hands over what may go now. */
enum send_status worker_feed(struct run *run, bool claim, long *warm_left, bool *more);
/* Is it time for a transaction (see worker_cycle.c)? */
bool worker_time_to_cycle(struct run *run, bool claiming);
/* The user may no longer send: takes why (allocated, or NULL). */
void worker_withdraw(struct run *run, char *why);
/* Microseconds since t (CLOCK_MONOTONIC). */
long worker_us_since(const struct timespec *t);

#endif
