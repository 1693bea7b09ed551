/*
 * test_qsbr.c - publication of the serving state (server/qsbr.h) with
 * real threads: a reader online holds the state it loaded, a publish
 * waits for every reader that may hold the old state to go offline or
 * come online again, offline readers never hold a publish up, and under
 * churn no reader ever sees a state after the writer was told it could
 * free it.
 *
 * The states here are bare sx_served structs (only gen is read by
 * publication); "freeing" one poisons it and keeps the memory, so a
 * reader that still holds it sees the poison instead of undefined
 * behaviour.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "qsbr.h"
#include "sx.h"

#define LIVE 0x11fe
#define DEAD 0xdead

static sx_served *state(uint64_t gen)
{
	sx_served *s = calloc(1, sizeof *s + 1);
	cr_assert_not_null(s);
	s->gen = gen;
	s->updates = LIVE;          /* the canary readers check */
	return s;
}

static void msleep(int ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

typedef struct pub {
	sx_qsbr *q;
	sx_served *next, *old;
	_Atomic int done;
	pthread_t thr;
} pub;

static void *publisher(void *arg)
{
	pub *p = arg;
	p->old = sx_qsbr_publish(p->q, p->next);
	atomic_store(&p->done, 1);
	return NULL;
}

static void publish_async(pub *p, sx_qsbr *q, sx_served *next)
{
	p->q = q;
	p->next = next;
	p->old = NULL;
	atomic_init(&p->done, 0);
	cr_assert_eq(pthread_create(&p->thr, NULL, publisher, p), 0);
}

Test(qsbr, init_and_online_offline)
{
	sx_qsbr q;
	sx_served *a = state(1);
	cr_assert_eq(sx_qsbr_init(&q, 3, a), 0);
	cr_assert_eq(sx_qsbr_current(&q), a);
	sx_qsbr_reader *r = sx_qsbr_reader_get(&q, 2);
	cr_assert_eq(atomic_load(&r->seen), 0, "a reader starts holding nothing");
	cr_assert_eq(sx_qsbr_online(&q, r), a);
	cr_assert_eq(atomic_load(&r->seen), 1);
	sx_qsbr_offline(r);
	cr_assert_eq(atomic_load(&r->seen), 0);
	cr_assert_eq((uintptr_t)sx_qsbr_reader_get(&q, 1) % 64, 0,
	             "each slot on its own cache line");
	free(q.readers);
	free(a);
}

Test(qsbr, publish_with_every_reader_offline_does_not_wait)
{
	sx_qsbr q;
	sx_served *a = state(1), *b = state(2);
	cr_assert_eq(sx_qsbr_init(&q, 4, a), 0);
	sx_qsbr_offline(sx_qsbr_reader_get(&q, 0));
	uint64_t t0 = sx_mono_ns();
	cr_assert_eq(sx_qsbr_publish(&q, b), a, "publish returns the old state");
	cr_assert_lt(sx_mono_ns() - t0, 100000000ull, "an idle server publishes at once");
	cr_assert_eq(sx_qsbr_current(&q), b);
	cr_assert_eq(sx_qsbr_online(&q, sx_qsbr_reader_get(&q, 3)), b);
	free(q.readers);
	free(a);
	free(b);
}

Test(qsbr, old_state_is_released_only_after_every_reader_passed)
{
	sx_qsbr q;
	sx_served *a = state(1), *b = state(2);
	cr_assert_eq(sx_qsbr_init(&q, 3, a), 0);
	sx_qsbr_reader *r0 = sx_qsbr_reader_get(&q, 0);
	sx_qsbr_reader *r1 = sx_qsbr_reader_get(&q, 1);
	sx_qsbr_reader *r2 = sx_qsbr_reader_get(&q, 2);
	cr_assert_eq(sx_qsbr_online(&q, r0), a);
	cr_assert_eq(sx_qsbr_online(&q, r1), a);
	/* r2 stays offline: it must not hold anything up */

	pub p;
	publish_async(&p, &q, b);
	msleep(50);
	cr_assert_eq(atomic_load(&p.done), 0, "publish returned while two readers "
	             "were online with the old state");
	cr_assert_eq(sx_qsbr_current(&q), b, "new readers get the new state at once");

	sx_qsbr_offline(r0);
	msleep(50);
	cr_assert_eq(atomic_load(&p.done), 0, "publish returned while r1 still "
	             "holds the old state");

	/* r1 passes by going online again: it now holds b, not a */
	cr_assert_eq(sx_qsbr_online(&q, r1), b);
	pthread_join(p.thr, NULL);
	cr_assert_eq(p.old, a);
	(void)r2;
	free(q.readers);
	free(a);
	free(b);
}

/* ---- churn: readers never see a released state ------------------------- */

typedef struct churn {
	sx_qsbr *q;
	int idx;
	_Atomic int *stop;
	_Atomic uint64_t iters;
	uint64_t bad, went_back;
} churn;

static void *reader(void *arg)
{
	churn *c = arg;
	sx_qsbr_reader *r = sx_qsbr_reader_get(c->q, c->idx);
	uint64_t last = 0;
	while (!atomic_load(c->stop)) {
		const sx_served *s = sx_qsbr_online(c->q, r);
		for (int k = 0; k < 50; k++) {          /* "serve requests" */
			if (((volatile const sx_served *)s)->updates != LIVE)
				c->bad++;
		}
		if (s->gen < last)
			c->went_back++;
		last = s->gen;
		uint64_t it = atomic_fetch_add(&c->iters, 1) + 1;
		if (it % 8 == 0)
			sx_qsbr_offline(r);             /* "block in epoll_wait" */
	}
	sx_qsbr_offline(r);
	return NULL;
}

Test(qsbr, readers_never_see_a_released_state, .timeout = 60)
{
	enum { R = 3, PUBS = 2000 };
	sx_qsbr q;
	sx_served **all = calloc(PUBS + 1, sizeof *all);
	all[0] = state(1);
	cr_assert_eq(sx_qsbr_init(&q, R, all[0]), 0);
	_Atomic int stop = 0;
	churn c[R];
	pthread_t t[R];
	for (int i = 0; i < R; i++) {
		c[i] = (churn){ .q = &q, .idx = i, .stop = &stop };
		cr_assert_eq(pthread_create(&t[i], NULL, reader, &c[i]), 0);
	}
	for (int i = 0; i < R; i++)                 /* every reader running */
		while (atomic_load(&c[i].iters) < 100)
			sched_yield();
	for (int i = 1; i <= PUBS; i++) {
		all[i] = state((uint64_t)i + 1);
		sx_served *old = sx_qsbr_publish(&q, all[i]);
		cr_assert_eq(old, all[i - 1]);
		old->updates = DEAD;                    /* "free" it */
	}
	atomic_store(&stop, 1);
	uint64_t iters = 0;
	for (int i = 0; i < R; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(c[i].bad, 0, "reader %d used a released state %llu times",
		             i, (unsigned long long)c[i].bad);
		cr_assert_eq(c[i].went_back, 0, "reader %d saw an older state after a "
		             "newer one", i);
		iters += atomic_load(&c[i].iters);
	}
	cr_assert_gt(iters, (uint64_t)R * 100);
	free(q.readers);
	for (int i = 0; i <= PUBS; i++)
		free(all[i]);
	free(all);
}
