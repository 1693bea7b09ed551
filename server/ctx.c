/*
 * ctx.c - a thread's context (see ctx.h): allocating its scratch and
 * growing it for a new snapshot.
 */
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "feedback.h"
#include "resp.h"
#include "server.h"

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p)
		abort();       /* see obuf.h: out of memory is fatal */
	return p;
}

void sx_ctx_init(sx_ctx *x, struct sx_srv *srv, const struct sx_srv_config *cfg,
                 struct sx_tenants *tenants, struct sx_feedback *feedback)
{
	memset(x, 0, sizeof *x);
	x->srv = srv;
	x->cfg = cfg;
	x->tenants = tenants;
	x->feedback = feedback;
	x->cfg_max_output = cfg->max_output;
	x->argv = xcalloc(SX_RESP_MAX_ARGS, sizeof *x->argv);
	x->qs = xcalloc(SX_BATCH, sizeof *x->qs);
	x->ds = xcalloc(SX_BATCH, sizeof *x->ds);
	x->okmap = xcalloc(SX_BATCH, 1);
	x->fmt = xcalloc(SX_FMT_MIN, 1);
	x->fmt_cap = SX_FMT_MIN;
}

void sx_ctx_fini(sx_ctx *x)
{
	free(x->argv);
	free(x->qs);
	free(x->ds);
	free(x->okmap);
	free(x->recs);
	free(x->fmt);
	free(x->jbuf);
	free(x->api_ids);
	free(x->fb_recs);
	free(x->fb_cases);
	memset(x, 0, sizeof *x);
}

void sx_ctx_serve(sx_ctx *x, const sx_served *cur, int64_t now)
{
	x->now = now;
	x->cur = cur;
	if (sx_likely(cur->gen == x->scratch_gen))
		return;
	size_t need = (size_t)cur->max_recs + 1;
	if (need < SX_BATCH * 8)
		need = SX_BATCH * 8;
	if (need > x->recs_cap) {
		uint32_t *r = realloc(x->recs, need * sizeof *r);
		if (!r)
			abort();
		x->recs = r;
		x->recs_cap = need;
	}
	x->scratch_gen = cur->gen;
}
