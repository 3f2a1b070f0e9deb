/*
 * pool.c: a few helper threads that share a loop with the calling thread.
 * The worker uses it to compose and sign a claimed batch on every core:
 * RSA signing is most of a signed message's cost.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "send/private.h"

struct send_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake, idle;
	pthread_t *threads;
	size_t nthreads;
	/* the current loop, valid while busy > 0 */
	void (*fn)(size_t i, void *arg);
	void *arg;
	size_t n;
	atomic_size_t next;
	unsigned long round; /* counts loops, so a helper takes each one once */
	size_t busy;	     /* helpers still inside the current loop */
	bool stop;
};

/* Takes indexes until none is left. */
static void drain(struct send_pool *p)
{
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->n)
		p->fn(i, p->arg);
}

static void *helper(void *arg)
{
	struct send_pool *p = arg;
	unsigned long seen = 0;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stop && p->round == seen)
			pthread_cond_wait(&p->wake, &p->lock);
		if (p->stop)
			break;
		seen = p->round;
		pthread_mutex_unlock(&p->lock);
		drain(p);
		pthread_mutex_lock(&p->lock);
		if (--p->busy == 0)
			pthread_cond_signal(&p->idle);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

enum send_status send_pool_new(size_t nthreads, struct send_pool **out)
{
	struct send_pool *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p == NULL)
		return SEND_ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	pthread_cond_init(&p->idle, NULL);
	atomic_init(&p->next, 0);
	if (nthreads > 0 && (p->threads = calloc(nthreads, sizeof(*p->threads))) == NULL) {
		send_pool_free(&p);
		return SEND_ENOMEM;
	}
	for (; p->nthreads < nthreads; p->nthreads++) {
		if (pthread_create(&p->threads[p->nthreads], NULL, helper, p) != 0)
			break; /* fewer helpers: the loop still runs, on fewer threads */
	}
	*out = p;
	return SEND_OK;
}

void send_pool_run(struct send_pool *p, size_t n, void (*fn)(size_t i, void *arg), void *arg)
{
	if (n == 0)
		return;
	if (p == NULL || p->nthreads == 0 || n == 1) {
		for (size_t i = 0; i < n; i++)
			fn(i, arg);
		return;
	}
	pthread_mutex_lock(&p->lock);
	p->fn = fn;
	p->arg = arg;
	p->n = n;
	atomic_store(&p->next, 0);
	p->busy = p->nthreads;
	p->round++;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	drain(p);
	pthread_mutex_lock(&p->lock);
	while (p->busy > 0)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

size_t send_pool_threads(const struct send_pool *p)
{
	return p != NULL ? p->nthreads + 1 : 1;
}

void send_pool_free(struct send_pool **pp)
{
	struct send_pool *p;

	if (pp == NULL || *pp == NULL)
		return;
	p = *pp;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	pthread_cond_destroy(&p->wake);
	pthread_cond_destroy(&p->idle);
	pthread_mutex_destroy(&p->lock);
	free(p);
	*pp = NULL;
}
