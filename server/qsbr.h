/*
 * qsbr.h - the serving snapshot, published to the I/O threads without a
 * lock or a reference count on the read side (quiescent-state-based
 * reclamation, as in userspace RCU's QSBR flavour).
 *
 * One global pointer names the sx_served in force, and a global counter
 * holds its generation (1 at start, +1 per swap).  Each reader thread owns
 * a slot on its own cache line.  At the top of every loop iteration a
 * reader stores the generation it sees into its slot and then loads the
 * pointer; it uses that one pointer for the whole iteration, so no reply
 * ever mixes two snapshots.  Before it blocks (epoll_wait, io_uring wait)
 * it stores 0, "holding nothing".
 *
 * The single writer (the job thread) stores the new pointer, then the new
 * generation, and waits until every slot is 0 or at least the new
 * generation: from then on no reader can hold the old pointer, and it is
 * freed.  All these accesses are sequentially consistent; they happen once
 * per loop iteration, not per request.  A reader that announced an old
 * generation but loaded the new pointer only makes the writer wait a
 * little longer, never free too early.
 */
#ifndef SX_QSBR_H
#define SX_QSBR_H

#include <stdatomic.h>
#include <stdint.h>

#include "overlay.h"
#include "snapshot.h"

/* The mapped export behind one or more served states: live updates
 * publish a new sx_served on the same map (an overlay, overlay.h), and the
 * map goes when the last of them does. */
typedef struct sx_base {
	sx_snap *snap;
	_Atomic int refs;
} sx_base;

/* A snapshot in service and what INFO says about it. */
typedef struct sx_served {
	sx_snap *snap;            /* what requests read: the export, or the
	                             export through an overlay of live updates */
	sx_base *base;
	const sx_snap_info *info;
	uint64_t gen;             /* publication epoch: +1 per publish */
	uint64_t snap_gen;        /* snapshot generation: 1 at start, +1 per
	                             swap (RELOAD); live updates keep it */
	uint64_t updates;         /* live updates applied on this snapshot */
	int64_t loaded_at;        /* unix seconds it went into service */
	uint32_t verify_ms;       /* sx_snap_open time */
	uint32_t max_recs;        /* sx_snap_max_query_records() */
	char path[];
} sx_served;

/* Wrap an opened snapshot (takes ownership of snap) as snapshot
 * generation snap_gen, publication epoch gen.  NULL on ENOMEM. */
sx_served *sx_served_new(sx_snap *snap, const char *path, uint64_t gen,
                         uint64_t snap_gen, uint32_t verify_ms);
/* The same export read through overlay ov (taken over; NULL: none), as
 * the next publication after cur.  NULL on ENOMEM (ov freed). */
sx_served *sx_served_derive(const sx_served *cur, struct sx_overlay *ov);
/* Free; the export is unmapped with its last served state. */
void sx_served_free(sx_served *s);

typedef struct sx_qsbr_reader {
	_Atomic uint64_t seen;    /* generation in use, 0 = none */
	char pad[64 - sizeof(uint64_t)];
} __attribute__((aligned(64))) sx_qsbr_reader;

typedef struct sx_qsbr {
	_Atomic(sx_served *) cur;
	_Atomic uint64_t gen;
	int nreaders;
	sx_qsbr_reader *readers;
} sx_qsbr;

/* nreaders slots; first is the snapshot in service (generation first->gen). */
int sx_qsbr_init(sx_qsbr *q, int nreaders, sx_served *first);
/* Free the slots and the served snapshot (no reader may be running). */
void sx_qsbr_destroy(sx_qsbr *q);

static inline sx_qsbr_reader *sx_qsbr_reader_get(sx_qsbr *q, int i)
{
	return &q->readers[i];
}

/* Reader: announce, then take the pointer for this iteration. */
static inline const sx_served *sx_qsbr_online(sx_qsbr *q, sx_qsbr_reader *r)
{
	atomic_store(&r->seen, atomic_load(&q->gen));
	return atomic_load(&q->cur);
}

/* Reader: about to block; holds no pointer until the next online. */
static inline void sx_qsbr_offline(sx_qsbr_reader *r)
{
	atomic_store(&r->seen, 0);
}

/* Writer side (one writer at a time): the snapshot in service. */
static inline sx_served *sx_qsbr_current(sx_qsbr *q)
{
	return atomic_load(&q->cur);
}

/* Writer: put next in service (next->gen must be current gen + 1), wait
 * for every reader to pass, and return the old one, now unreferenced. */
sx_served *sx_qsbr_publish(sx_qsbr *q, sx_served *next);

#endif
