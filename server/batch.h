/*
 * batch.h - deciding queries against the thread's serving snapshot: one
 * (CHECK), many IDs that share channel, class, type and day (MCHECK over
 * RESP and CHECK frames of the binary protocol), or many queries each of
 * its own kind (the CHECK, LISTED and MCHECK commands of a RESP pipeline).
 *
 * IDs are parsed and decided SX_BATCH at a time with sx_decide_batch()
 * (hash all keys, prefetch, resolve: the memory latency of one lookup
 * hides behind the others), into the context's scratch arrays, and the
 * results are handed to a sink one by one in request order; an invalid ID
 * yields an error in its place.  Every decision is counted in the
 * context's stats and shown to the feedback observer (feedback_obs.h).
 */
#ifndef SX_BATCH_H
#define SX_BATCH_H

#include <stddef.h>

#include "ctx.h"
#include "decide.h"

typedef struct sx_batch_sink sx_batch_sink;
struct sx_batch_sink {
	void (*decision)(sx_batch_sink *k, const sx_decision *d);
	void (*error)(sx_batch_sink *k, const char *err, size_t n);  /* "ERR ..." */
};

/* Decide ids[0..n) as tmpl (its chan, cls, type, day) for tenant (NULL:
 * none); results go to k in order. */
void sx_batch_decide(sx_ctx *x, const sx_query *tmpl, const sx_str *ids,
                     size_t n, const char *tenant, sx_batch_sink *k);

/* Decide qs[0..n), already parsed, each with its own op (SX_Q_DECIDE or
 * SX_Q_LISTED), channel, class, type and day; results go to k in order
 * (a LISTED query's as reason SX_R_LISTED or SX_R_NOT_LISTED).  CHECK
 * decisions are counted and observed as sx_batch_one's are; LISTED
 * answers are neither, as a single LISTED's are not.  qs may be x->qs. */
void sx_batch_run(sx_ctx *x, const sx_query *qs, size_t n, const char *tenant,
                  sx_batch_sink *k);

/* Decide one parsed query into *d (records in x's scratch, valid until
 * the next decision), counted and observed like a batch. */
void sx_batch_one(sx_ctx *x, const sx_query *q, const char *tenant, sx_decision *d);

/* Record rec as "case_no|court|role|list", formatted into the context's
 * scratch; valid until the next call. */
const char *sx_batch_record(sx_ctx *x, uint32_t rec, size_t *n);

#endif
