/*
 * batch.c - decisions for CHECK, MCHECK and binary CHECK (see batch.h).
 *
 * The ok-map remembers which IDs of a batch parsed; the (rare) invalid
 * ones are parsed a second time when their turn comes to produce the error
 * text, which keeps the common path free of per-ID error buffers.
 * sx_decide_batch() may decide fewer than asked when the record buffer
 * fills; the loop then emits those and asks again for the rest.  One loop
 * serves both forms of batch: IDs sharing a template (MCHECK, binary
 * CHECK frames) and queries parsed one by one (a RESP pipeline).
 */
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "feedback_obs.h"

static inline void count(sx_ctx *x, int chan, const sx_decision *d)
{
	sx_stat_inc(x->stats.decisions[d->reason]);
	sx_stat_inc(x->stats.per_channel[chan]);
}

static void emit_error(sx_ctx *x, const sx_query *tmpl, sx_str id, sx_batch_sink *k)
{
	char err[320];
	sx_query q = *tmpl;
	memcpy(err, "ERR ", 4);
	if (sx_query_id(&q, id, err + 4, sizeof err - 4) == 0)
		return;   /* cannot happen: it failed a moment ago */
	sx_stat_inc(x->stats.query_errors);
	k->error(k, err, strnlen(err, sizeof err));
}

void sx_batch_one(sx_ctx *x, const sx_query *q, const char *tenant, sx_decision *d)
{
	sx_decide(x->cur->snap, q, d, x->recs);
	count(x, q->chan, d);
	sx_fbobs_decision(x, tenant, q, d);
}

/* Decide qs[0..nv), all parsed, and hand the results to k in order.  With
 * okmap, the nv queries are the valid ones among ids[0..m) (okmap[i] says
 * which), and the others get their error in their place. */
static void decide(sx_ctx *x, const sx_query *qs, size_t nv, const char *tenant,
                   sx_batch_sink *k, const uint8_t *okmap, const sx_query *tmpl,
                   const sx_str *ids, size_t m)
{
	const sx_snap *s = x->cur->snap;
	size_t pos = 0, done = 0;
	while (done < nv) {
		size_t got = sx_decide_batch(s, qs + done, nv - done, x->ds,
		                             x->recs, x->recs_cap);
		if (sx_unlikely(got == 0)) {
			/* recs_cap >= max_query_records makes this impossible;
			 * stay correct anyway. */
			if (qs[done].op == SX_Q_LISTED)
				x->ds[0] = (sx_decision){ .reason = sx_listed(s, &qs[done]) ?
				                          SX_R_LISTED : SX_R_NOT_LISTED };
			else
				sx_decide(s, &qs[done], &x->ds[0], x->recs);
			got = 1;
		}
		for (size_t j = 0; j < got; pos++) {
			if (okmap && !okmap[pos]) {
				emit_error(x, tmpl, ids[pos], k);
				continue;
			}
			const sx_query *q = &qs[done + j];
			if (q->op == SX_Q_DECIDE) {
				count(x, q->chan, &x->ds[j]);
				sx_fbobs_decision(x, tenant, q, &x->ds[j]);
			}
			k->decision(k, &x->ds[j]);
			j++;
		}
		done += got;
	}
	for (; okmap && pos < m; pos++)
		emit_error(x, tmpl, ids[pos], k);
}

void sx_batch_decide(sx_ctx *x, const sx_query *tmpl, const sx_str *ids,
                     size_t n, const char *tenant, sx_batch_sink *k)
{
	char err[256];
	for (size_t base = 0; base < n; base += SX_BATCH) {
		size_t m = n - base < SX_BATCH ? n - base : SX_BATCH;
		size_t nv = 0;
		for (size_t i = 0; i < m; i++) {
			x->qs[nv] = *tmpl;
			int ok = sx_query_id(&x->qs[nv], ids[base + i], err, sizeof err) == 0;
			x->okmap[i] = (uint8_t)ok;
			nv += (size_t)ok;
		}
		decide(x, x->qs, nv, tenant, k, x->okmap, tmpl, ids + base, m);
	}
}

void sx_batch_run(sx_ctx *x, const sx_query *qs, size_t n, const char *tenant,
                  sx_batch_sink *k)
{
	decide(x, qs, n, tenant, k, NULL, NULL, NULL, 0);
}

const char *sx_batch_record(sx_ctx *x, uint32_t rec, size_t *n)
{
	const sx_snap *s = x->cur->snap;
	size_t len = sx_record_format(s, rec, x->fmt, x->fmt_cap);
	if (sx_unlikely(len >= x->fmt_cap)) {
		/* A record longer than any before: grow once, format again. */
		char *p = realloc(x->fmt, len + 1);
		if (!p)
			abort();
		x->fmt = p;
		x->fmt_cap = len + 1;
		sx_record_format(s, rec, x->fmt, x->fmt_cap);
	}
	*n = len;
	return x->fmt;
}
