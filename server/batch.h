/*
 * batch.h - deciding many IDs that share channel, class, type and day:
 * MCHECK over RESP and CHECK frames of the binary protocol.
 *
 * IDs are parsed and decided SX_BATCH at a time with sx_decide_batch()
 * (hash all keys, prefetch, resolve: the memory latency of one lookup
 * hides behind the others), into the worker's scratch arrays, and the
 * results are handed to a sink one by one in request order; an invalid ID
 * yields an error in its place.
 */
#ifndef SX_BATCH_H
#define SX_BATCH_H

#include <stddef.h>

#include "decide.h"
#include "worker.h"

typedef struct sx_batch_sink sx_batch_sink;
struct sx_batch_sink {
	void (*decision)(sx_batch_sink *k, const sx_decision *d);
	void (*error)(sx_batch_sink *k, const char *err, size_t n);  /* "ERR ..." */
};

/* Decide ids[0..n) as tmpl (its chan, cls, type, day) against the
 * worker's current snapshot, counting decisions in the worker's stats and
 * sending refusals to the feedback log as asked by tenant (NULL: none). */
void sx_batch_decide(sx_worker *w, const sx_query *tmpl, const sx_str *ids,
                     size_t n, const char *tenant, sx_batch_sink *k);

/* Record rec as "case_no|court|role|list", formatted into the worker's
 * scratch; valid until the next call. */
const char *sx_batch_record(sx_worker *w, uint32_t rec, size_t *n);

/* Count one decision of channel chan in the worker's stats. */
static inline void sx_batch_count(sx_worker *w, int chan, const sx_decision *d)
{
	sx_stat_inc(w->stats.decisions[d->reason]);
	sx_stat_inc(w->stats.per_channel[chan]);
}

#endif
