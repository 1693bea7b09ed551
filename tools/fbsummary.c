/*
 * fbsummary.c - the feedback log per court and case, for `sxgate feedback
 * summarize` (contract in fbsummary.h).
 *
 * The idea: read the log through the engine's checked view
 * (sx_feedback_view_*, so the summary accepts and refuses exactly the
 * files the server and sx_feedback_read() do), turn every (record, case)
 * into a pair whose strings point into the mapped file, sort the pairs by
 * court, case, ID and ID type, and count runs: one row per case, its
 * distinct IDs where the sorted IDs change.
 *
 * Trade-off: about 56 bytes per pair and a sort, instead of a hash table
 * per court and case; the log is read offline, and sorted output is what
 * the courts want anyway.
 */
#include "fbsummary.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One (record, case) pair; strings point into the mapped file. */
typedef struct fpair {
	const char *court, *case_no, *id;
	uint16_t court_len, case_len, id_len;
	uint8_t id_type, reason, channel;
	int64_t time_ms;
} fpair;

static int strcmp_n(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

static int pair_cmp(const void *x, const void *y)
{
	const fpair *a = x, *b = y;
	int c = strcmp_n(a->court, a->court_len, b->court, b->court_len);
	if (!c)
		c = strcmp_n(a->case_no, a->case_len, b->case_no, b->case_len);
	if (!c)
		c = strcmp_n(a->id, a->id_len, b->id, b->id_len);
	if (!c)
		c = (int)a->id_type - (int)b->id_type;
	return c;
}

typedef struct fsum {
	const sx_feedback_filter *f;
	size_t court_len;
	fpair *v;
	size_t n, cap;
	int oom;
} fsum;

int sx_feedback_filter_rec(const sx_feedback_filter *f,
                           const sx_feedback_rec *r)
{
	if (!f)
		return 1;
	if (r->time_ms < f->since_ms || (f->until_ms && r->time_ms >= f->until_ms))
		return 0;
	return !f->tenant || !strcmp_n(r->tenant.p, r->tenant.n, f->tenant,
	                               strlen(f->tenant));
}

int sx_feedback_filter_court(const sx_feedback_filter *f, sx_str court)
{
	return !f || !f->court ||
	       !strcmp_n(court.p, court.n, f->court, strlen(f->court));
}

static int push_pair(fsum *a, const sx_feedback_rec *r, sx_str court,
                     sx_str case_no)
{
	if (a->f && a->f->court &&
	    strcmp_n(court.p, court.n, a->f->court, a->court_len))
		return 0;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 1024;
		fpair *v = realloc(a->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = (fpair){
		.court = court.p, .court_len = (uint16_t)court.n,
		.case_no = case_no.p, .case_len = (uint16_t)case_no.n,
		.id = r->id.p, .id_len = (uint16_t)r->id.n,
		.id_type = r->id_type, .reason = r->reason,
		.channel = r->channel, .time_ms = r->time_ms,
	};
	return 0;
}

static int collect_pairs(void *arg, const sx_feedback_rec *r)
{
	fsum *a = arg;
	if (!sx_feedback_filter_rec(a->f, r))
		return 0;
	if (!r->ncases)
		return push_pair(a, r, (sx_str){ "-", 1 }, (sx_str){ "-", 1 });
	for (uint32_t i = 0; i < r->ncases; i++) {
		int rc = push_pair(a, r, r->cases[i].court, r->cases[i].case_no);
		if (rc)
			return rc;
	}
	return 0;
}

int sx_feedback_summarize(const char *path, const sx_feedback_filter *f,
                          sx_feedback_sum_cb cb, void *arg,
                          sx_feedback_report *rep, char *why, size_t cap)
{
	fsum a = { .f = f, .court_len = f && f->court ? strlen(f->court) : 0 };
	sx_feedback_view s;
	sx_str *ids = NULL;
	uint8_t *types = NULL;
	size_t idcap = 0;
	int rc;

	if (rep)
		memset(rep, 0, sizeof *rep);
	if ((rc = sx_feedback_view_open(path, &s, why, cap)))
		return rc;
	sx_feedback_case *cases = malloc(65536 * sizeof *cases);
	if (!cases) {
		rc = -ENOMEM;
		goto oom;
	}
	sx_feedback_rec r;
	while (sx_feedback_view_next(&s, &r, cases, NULL))
		if ((rc = collect_pairs(&a, &r)))
			goto oom;
	if (a.n)
		qsort(a.v, a.n, sizeof *a.v, pair_cmp);

	for (size_t i = 0; i < a.n;) {
		size_t k = i;
		sx_feedback_case_sum cs;
		memset(&cs, 0, sizeof cs);
		cs.court = (sx_str){ a.v[i].court, a.v[i].court_len };
		cs.case_no = (sx_str){ a.v[i].case_no, a.v[i].case_len };
		cs.last_ms = INT64_MIN;
		while (k < a.n && !strcmp_n(a.v[k].court, a.v[k].court_len,
		                            cs.court.p, cs.court.n) &&
		       !strcmp_n(a.v[k].case_no, a.v[k].case_len, cs.case_no.p,
		                 cs.case_no.n)) {
			const fpair *p = &a.v[k];
			if (p->reason == SX_R_LISTED)
				cs.deny++;
			else if (p->reason == SX_R_REVIEW)
				cs.review++;
			else if (p->reason == SX_R_SUSPENDED)
				cs.suspended++;
			else if (p->reason == SX_R_EXEMPT)
				cs.exempt++;
			if (p->channel < SX_NCODES)
				cs.by_channel[p->channel]++;
			if (p->time_ms > cs.last_ms)
				cs.last_ms = p->time_ms;
			/* pairs of a case are sorted by ID: count the changes */
			if (k == i || pair_cmp(&a.v[k - 1], p)) {
				if (cs.nids == idcap) {
					idcap = idcap ? idcap * 2 : 64;
					sx_str *ni = realloc(ids, idcap * sizeof *ni);
					if (ni)
						ids = ni;
					uint8_t *nt = realloc(types, idcap);
					if (nt)
						types = nt;
					if (!ni || !nt) {
						rc = -ENOMEM;
						goto oom;
					}
				}
				ids[cs.nids] = (sx_str){ p->id, p->id_len };
				types[cs.nids] = p->id_type;
				cs.nids++;
			}
			k++;
		}
		cs.ids = ids;
		cs.id_types = types;
		if (cb && (rc = cb(arg, &cs))) {
			sx_fail(why, cap, rc, "feedback log %s: summary stopped by its "
			        "callback", path);
			goto out;
		}
		i = k;
	}
	sx_feedback_view_report(&s, rep);
	goto out;
oom:
	if (rc == -ENOMEM)
		sx_fail(why, cap, rc, "feedback log %s: out of memory summarising",
		        path);
out:
	free(cases);
	free(ids);
	free(types);
	free(a.v);
	sx_feedback_view_close(&s);
	return rc;
}
