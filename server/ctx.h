/*
 * ctx.h - what one I/O thread lends the code it runs: the serving
 * snapshot of this loop iteration, the thread's counters, and scratch
 * space, so that no request allocates.
 *
 * The worker (worker.h) embeds one sx_ctx and refreshes it every loop
 * iteration; connections point at it, and protocols, commands and services
 * take it instead of the worker, so none of them knows the event loop.
 * Only the owning thread touches a context, except its counters, which
 * INFO and /metrics read (stats.h says how).
 */
#ifndef SX_CTX_H
#define SX_CTX_H

#include <stddef.h>
#include <stdint.h>

#include "decide.h"
#include "qsbr.h"
#include "stats.h"

struct sx_srv;
struct sx_srv_config;
struct sx_tenants;
struct sx_feedback;
struct sx_feedback_case;

#define SX_BATCH   256    /* IDs decided per sx_decide_batch call */
#define SX_FMT_MIN 4096   /* initial record formatting buffer */

typedef struct sx_ctx {
	struct sx_srv *srv;                 /* for the services' shared state */
	const struct sx_srv_config *cfg;
	struct sx_tenants *tenants;         /* NULL: no AUTH */
	struct sx_feedback *feedback;       /* NULL: no feedback log */
	size_t cfg_max_output;              /* --max-output, bytes queued per client */
	const sx_served *cur;               /* snapshot of this iteration */
	uint64_t scratch_gen;               /* scratch sized for this generation */
	int64_t now;                        /* monotonic seconds, per iteration */
	uint64_t lat_t0;                    /* latency: end of the previous command */
	sx_stats stats;

	/* Scratch: no allocation per request. */
	sx_str *argv;                       /* SX_RESP_MAX_ARGS */
	sx_query *qs;                       /* SX_BATCH */
	sx_decision *ds;                    /* SX_BATCH */
	uint8_t *okmap;                     /* SX_BATCH */
	uint32_t *recs;
	size_t recs_cap;
	char *fmt;                          /* one formatted record */
	size_t fmt_cap;
	char *jbuf;                         /* an HTTP API reply's JSON body */
	size_t jlen, jcap;
	sx_str *api_ids;                    /* a batch POST's IDs: SX_TENANT_MAX_BATCH,
	                                       made on the first */
	uint32_t *fb_recs;                  /* feedback: records a refusal concerns */
	struct sx_feedback_case *fb_cases;
	size_t fb_cap;
} sx_ctx;

/* Allocate the scratch (out of memory aborts, see obuf.h). */
void sx_ctx_init(sx_ctx *x, struct sx_srv *srv, const struct sx_srv_config *cfg,
                 struct sx_tenants *tenants, struct sx_feedback *feedback);
void sx_ctx_fini(sx_ctx *x);
/* A new loop iteration serves cur: grow the record scratch when a new
 * snapshot may gather more records per query. */
void sx_ctx_serve(sx_ctx *x, const sx_served *cur, int64_t now);

/* Latency accounting around commands (protocols). */
static inline void sx_ctx_lat_start(sx_ctx *x)
{
	x->lat_t0 = sx_mono_ns();
}
static inline void sx_ctx_lat_mark(sx_ctx *x)
{
	uint64_t t = sx_mono_ns();
	sx_stats_lat(&x->stats, t - x->lat_t0);
	x->lat_t0 = t;
}
/* n commands were answered together since the last mark (a pipeline's
 * batch): each is counted once, with an equal share of the time. */
static inline void sx_ctx_lat_mark_n(sx_ctx *x, unsigned n)
{
	uint64_t t = sx_mono_ns();
	sx_stats_lat_n(&x->stats, t - x->lat_t0, n);
	x->lat_t0 = t;
}

#endif
