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
                         uint32_t verify_ms)
{
	size_t n = strlen(path);
	sx_served *s = malloc(sizeof *s + n + 1);
	if (!s)
		return NULL;
	s->snap = snap;
	s->info = sx_snap_get_info(snap);
	s->gen = gen;
	s->loaded_at = (int64_t)time(NULL);
	s->verify_ms = verify_ms;
	s->max_recs = sx_snap_max_query_records(snap);
	memcpy(s->path, path, n + 1);
	return s;
}

void sx_served_free(sx_served *s)
{
	if (!s)
		return;
	sx_snap_close(s->snap);
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
