/*
 * qsbr.c - snapshot publication and grace periods (see qsbr.h).
 *
 * The writer polls the reader slots with short sleeps: a grace period
 * lasts one loop iteration of the slowest busy worker (microseconds to a
 * millisecond), and workers that are blocked have announced 0, so a
 * condition variable would buy nothing but coupling.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qsbr.h"

sx_served *sx_served_new(sx_snap *snap, const char *path, uint64_t gen,
                         uint64_t snap_gen, uint32_t verify_ms)
{
	size_t n = strlen(path);
	sx_served *s = malloc(sizeof *s + n + 1);
	sx_base *b = malloc(sizeof *b);
	if (!s || !b) {
		free(s);
		free(b);
		return NULL;
	}
	b->snap = snap;
	atomic_init(&b->refs, 1);
	s->snap = snap;
	s->base = b;
	s->info = sx_snap_get_info(snap);
	s->gen = gen;
	s->snap_gen = snap_gen;
	s->updates = 0;
	s->loaded_at = (int64_t)time(NULL);
	s->verify_ms = verify_ms;
	s->max_recs = sx_snap_max_query_records(snap);
	memcpy(s->path, path, n + 1);
	return s;
}

sx_served *sx_served_derive(const sx_served *cur, sx_overlay *ov)
{
	size_t n = strlen(cur->path);
	sx_served *s = malloc(sizeof *s + n + 1);
	sx_snap *d;
	if (!s) {
		sx_overlay_free(ov);
		return NULL;
	}
	if (sx_snap_derive(cur->base->snap, ov, &d)) {
		free(s);
		return NULL;
	}
	memcpy(s, cur, sizeof *s + n + 1);
	atomic_fetch_add(&cur->base->refs, 1);
	s->snap = d;
	s->gen = cur->gen + 1;
	s->max_recs = sx_snap_max_query_records(d);
	return s;
}

void sx_served_free(sx_served *s)
{
	if (!s)
		return;
	if (s->snap != s->base->snap)
		sx_snap_close(s->snap);          /* a derived handle: not the map */
	if (atomic_fetch_sub(&s->base->refs, 1) == 1) {
		sx_snap_close(s->base->snap);
		free(s->base);
	}
	free(s);
}

int sx_qsbr_init(sx_qsbr *q, int nreaders, sx_served *first)
{
	q->readers = aligned_alloc(64, sizeof *q->readers * (size_t)(nreaders > 0 ? nreaders : 1));
	if (!q->readers)
		return -ENOMEM;
	for (int i = 0; i < nreaders; i++)
		atomic_init(&q->readers[i].seen, 0);
	q->nreaders = nreaders;
	atomic_init(&q->cur, first);
	atomic_init(&q->gen, first->gen);
	return 0;
}

void sx_qsbr_destroy(sx_qsbr *q)
{
	sx_served_free(atomic_load(&q->cur));
	free(q->readers);
	q->readers = NULL;
}

sx_served *sx_qsbr_publish(sx_qsbr *q, sx_served *next)
{
	sx_served *old = atomic_exchange(&q->cur, next);
	atomic_store(&q->gen, next->gen);
	struct timespec nap = { 0, 100 * 1000 };   /* 100 us */
	for (int i = 0; i < q->nreaders; i++) {
		for (;;) {
			uint64_t seen = atomic_load(&q->readers[i].seen);
			if (seen == 0 || seen >= next->gen)
				break;
			nanosleep(&nap, NULL);
		}
	}
	return old;
}
