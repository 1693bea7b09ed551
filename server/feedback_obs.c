/*
 * feedback_obs.c - decisions to feedback records (see feedback_obs.h).
 * The records a refusal concerns are gathered into the context's scratch,
 * grown to the serving snapshot's largest query once.
 */
#include <stdlib.h>
#include <string.h>

#include "feedback.h"
#include "feedback_obs.h"

void sx_fbobs_decision(sx_ctx *x, const char *tenant, const sx_query *q,
                       const sx_decision *d)
{
	if (sx_likely(!x->feedback || !sx_reason_fed_back(d->reason)))
		return;
	const sx_snap *snap = x->cur->snap;
	size_t need = (size_t)x->cur->max_recs + 1;
	if (need > x->fb_cap) {
		uint32_t *r = realloc(x->fb_recs, need * sizeof *r);
		sx_feedback_case *cs = realloc(x->fb_cases, need * sizeof *cs);
		if (r)
			x->fb_recs = r;
		if (cs)
			x->fb_cases = cs;
		if (!r || !cs)
			return;
		x->fb_cap = need;
	}
	uint32_t n = sx_decide_concerned(snap, q, d, x->fb_recs);
	for (uint32_t i = 0; i < n; i++) {
		sx_recview v;
		sx_snap_record(snap, x->fb_recs[i], &v);
		x->fb_cases[i] = (sx_feedback_case){ { v.case_no, v.case_len },
		                                     { v.court, v.court_len } };
	}
	char cls[64];
	sx_class_format(sx_snap_rules(snap), q->chan, q->cls, cls, sizeof cls);
	sx_feedback_rec r = {
		.tenant = { tenant, tenant ? strlen(tenant) : 0 },
		.channel = q->chan, .cls = { cls, strlen(cls) },
		.id_type = q->type, .id = { q->id.norm, q->id.len },
		.reason = d->reason, .ncases = n, .cases = x->fb_cases,
	};
	sx_feedback_add(x->feedback, &r);    /* never blocks; drops are counted */
}
