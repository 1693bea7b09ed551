/*
 * batch.c - batched decisions for MCHECK and binary CHECK (see batch.h).
 *
 * The ok-map remembers which IDs of a batch parsed; the (rare) invalid
 * ones are parsed a second time when their turn comes to produce the error
 * text, which keeps the common path free of per-ID error buffers.
 * sx_decide_batch() may decide fewer than asked when the record buffer
 * fills; the loop then emits those and asks again for the rest.
 */
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "live.h"

static void emit_error(sx_worker *w, const sx_query *tmpl, sx_str id, sx_batch_sink *k)
{
	char err[320];
	sx_query q = *tmpl;
	err[0] = 'E';
	err[1] = 'R';
	err[2] = 'R';
	err[3] = ' ';
	if (sx_query_id(&q, id, err + 4, sizeof err - 4) == 0)
		return;   /* cannot happen: it failed a moment ago */
	sx_stat_inc(w->stats.query_errors);
	k->error(k, err, strnlen(err, sizeof err));
}

void sx_batch_decide(sx_worker *w, const sx_query *tmpl, const sx_str *ids,
                     size_t n, const char *tenant, sx_batch_sink *k)
{
	const sx_snap *s = w->cur->snap;
	char err[256];
	for (size_t base = 0; base < n; base += SX_BATCH) {
		size_t m = n - base < SX_BATCH ? n - base : SX_BATCH;
		size_t nv = 0;
		for (size_t i = 0; i < m; i++) {
			w->qs[nv] = *tmpl;
			int ok = sx_query_id(&w->qs[nv], ids[base + i], err, sizeof err) == 0;
			w->okmap[i] = (uint8_t)ok;
			nv += (size_t)ok;
		}
		size_t pos = 0, done = 0;
		while (done < nv) {
			size_t got = sx_decide_batch(s, w->qs + done, nv - done, w->ds,
			                             w->recs, w->recs_cap);
			if (sx_unlikely(got == 0)) {
				/* recs_cap >= max_query_records makes this impossible;
				 * stay correct anyway. */
				sx_decide(s, &w->qs[done], &w->ds[0], w->recs);
				got = 1;
			}
			for (size_t j = 0; j < got; pos++) {
				if (!w->okmap[pos]) {
					emit_error(w, tmpl, ids[base + pos], k);
					continue;
				}
				sx_batch_count(w, tmpl->chan, &w->ds[j]);
				sx_live_feedback(w, tenant, &w->qs[done + j], &w->ds[j]);
				k->decision(k, &w->ds[j]);
				j++;
			}
			done += got;
		}
		for (; pos < m; pos++)
			emit_error(w, tmpl, ids[base + pos], k);
	}
}

const char *sx_batch_record(sx_worker *w, uint32_t rec, size_t *n)
{
	const sx_snap *s = w->cur->snap;
	size_t len = sx_record_format(s, rec, w->fmt, w->fmt_cap);
	if (sx_unlikely(len >= w->fmt_cap)) {
		/* A record longer than any before: grow once, format again. */
		char *p = realloc(w->fmt, len + 1);
		if (!p)
			abort();
		w->fmt = p;
		w->fmt_cap = len + 1;
		sx_record_format(s, rec, w->fmt, w->fmt_cap);
	}
	*n = len;
	return w->fmt;
}
