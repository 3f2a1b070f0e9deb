/*
 * store/import_queue.c: the rows an import has read and checked, on its
 * reading thread, waiting for the database on the import's own thread.
 *
 * The queue holds at most IMPORT_QUEUE_ROWS rows and, beyond its first row,
 * IMPORT_QUEUE_BYTES of their data, so memory does not grow with the file.
 * The database side takes the rows in batches of a fixed size (the last
 * one, and rows too big for a batch to fit the queue, excepted), so that
 * how a file's rows are batched does not depend on timing. Each side sleeps
 * only when it must; the reader is woken when the queue is half empty, not
 * once per row.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/subscribers_private.h"

int import_queue_init(struct import_queue *q)
{
	memset(q, 0, sizeof(*q));
	if (pthread_mutex_init(&q->mu, NULL) != 0)
		return -1;
	if (pthread_cond_init(&q->can_put, NULL) != 0) {
		pthread_mutex_destroy(&q->mu);
		return -1;
	}
	if (pthread_cond_init(&q->can_take, NULL) != 0) {
		pthread_cond_destroy(&q->can_put);
		pthread_mutex_destroy(&q->mu);
		return -1;
	}
	return 0;
}

void import_queue_free(struct import_queue *q)
{
	size_t i;

	for (i = 0; i < IMPORT_QUEUE_ROWS; i++) {
		free(q->slot[i].buf);
		q->slot[i].buf = NULL;
	}
	pthread_cond_destroy(&q->can_take);
	pthread_cond_destroy(&q->can_put);
	pthread_mutex_destroy(&q->mu);
}

/* ---- The reading side --------------------------------------------------- */

struct import_ready *import_queue_slot(struct import_queue *q)
{
	struct import_ready *r = NULL;

	pthread_mutex_lock(&q->mu);
	while (!q->stopped &&
	       (q->count == IMPORT_QUEUE_ROWS || (q->count > 0 && q->bytes > IMPORT_QUEUE_BYTES))) {
		q->put_waiting = 1;
		/* The database side may be waiting for a whole batch: it gets what there is. */
		if (q->take_waiting)
			pthread_cond_signal(&q->can_take);
		pthread_cond_wait(&q->can_put, &q->mu);
		q->put_waiting = 0;
	}
	if (!q->stopped) {
		r = &q->slot[(q->head + q->count) % IMPORT_QUEUE_ROWS];
		r->n = 0;
	}
	pthread_mutex_unlock(&q->mu);
	return r;
}

void import_queue_put(struct import_queue *q, struct import_ready *r)
{
	pthread_mutex_lock(&q->mu);
	q->count++;
	q->bytes += r->n;
	if (q->take_waiting && q->count >= q->take_want)
		pthread_cond_signal(&q->can_take);
	pthread_mutex_unlock(&q->mu);
}

void import_queue_close(struct import_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = 1;
	pthread_cond_signal(&q->can_take);
	pthread_mutex_unlock(&q->mu);
}

/* ---- The database side ---------------------------------------------------- */

int import_queue_take(struct import_queue *q, int wait_ms, struct import_ready **out, size_t max)
{
	struct timespec until;
	size_t i, n;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)wait_ms * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&q->mu);
	q->take_want = max;
	while (q->count < max && !q->closed && !q->put_waiting && rc != ETIMEDOUT) {
		q->take_waiting = 1;
		rc = pthread_cond_timedwait(&q->can_take, &q->mu, &until);
		q->take_waiting = 0;
	}
	n = q->count < max ? q->count : max;
	if (n < max && !q->closed && !q->put_waiting)
		n = 0; /* the time ran out before a whole batch came */
	for (i = 0; i < n; i++)
		out[i] = &q->slot[(q->head + i) % IMPORT_QUEUE_ROWS];
	rc = n > 0 ? (int)n : q->closed ? -1 : 0;
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void import_queue_done(struct import_queue *q, size_t n)
{
	size_t i, bytes = 0;

	for (i = 0; i < n; i++) {
		struct import_ready *r = &q->slot[(q->head + i) % IMPORT_QUEUE_ROWS];
		bytes += r->n;
		/* A slot keeps a small buffer for its next row, not a big one: else
		 * every slot could come to hold a row of a megabyte. */
		if (r->cap > IMPORT_SLOT_KEEP) {
			free(r->buf);
			r->buf = NULL;
			r->cap = 0;
		}
	}
	pthread_mutex_lock(&q->mu);
	q->bytes -= bytes;
	q->head = (q->head + n) % IMPORT_QUEUE_ROWS;
	q->count -= n;
	if (q->put_waiting && (q->count == 0 || (q->count <= IMPORT_QUEUE_ROWS / 2 &&
						 q->bytes <= IMPORT_QUEUE_BYTES / 2)))
		pthread_cond_signal(&q->can_put);
	pthread_mutex_unlock(&q->mu);
}

void import_queue_stop(struct import_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->stopped = 1;
	pthread_cond_signal(&q->can_put);
	pthread_mutex_unlock(&q->mu);
}

/* ---- A row's data ----------------------------------------------------------- */

int import_ready_add(struct import_ready *r, const void *p, size_t n, size_t *off)
{
	if (store_reserve(&r->buf, &r->cap, r->n + n + 1, 256) != 0)
		return -1;
	*off = r->n;
	if (n > 0)
		memcpy(r->buf + r->n, p, n);
	r->buf[r->n + n] = '\0';
	r->n += n + 1;
	return 0;
}
