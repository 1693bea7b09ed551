/*
 * fbsummary.c - the feedback log per court and case, for `sxgate feedback
 * summarize` and `sxgate feedback report` (contract in fbsummary.h).
 *
 * The idea: read the log through the engine's checked view
 * (sx_feedback_view_*, so the summary accepts and refuses exactly the
 * files the server and sx_feedback_read() do) and count every (record,
 * case) into its case, found by open addressing on XXH3 of the court and
 * case number (the strings stay in the mapped file).  Distinct IDs go
 * into a second table keyed by (case, ID type, ID).  At the end only the
 * cases and the distinct (case, ID) entries are sorted: by court, case
 * number, then ID and type, byte order.
 *
 * Trade-off: about 330 bytes per distinct case (a counter per channel)
 * and 32 per distinct (case, ID), instead of a record per (record, case)
 * sorted afterwards: a log of 10 M refusals names thousands of cases, not
 * millions, and a sort of every pair took over a minute there.  A log
 * where every record names a new case costs more memory than before.
 */
#include "fbsummary.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static int fs_cmp_n(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

int sx_feedback_filter_rec(const sx_feedback_filter *f,
                           const sx_feedback_rec *r)
{
	if (!f)
		return 1;
	if (r->time_ms < f->since_ms || (f->until_ms && r->time_ms >= f->until_ms))
		return 0;
	return !f->tenant || !fs_cmp_n(r->tenant.p, r->tenant.n, f->tenant,
	                               strlen(f->tenant));
}

int sx_feedback_filter_court(const sx_feedback_filter *f, sx_str court)
{
	return !f || !f->court ||
	       !fs_cmp_n(court.p, court.n, f->court, strlen(f->court));
}

/* One case: its counts; strings point into the mapped file. */
typedef struct fs_case {
	sx_str court, case_no;
	uint64_t hash;
	uint64_t deny, review, suspended, exempt;
	uint64_t by_channel[SX_NCODES];
	int64_t last_ms;
	uint32_t rank;            /* place in sorted order */
} fs_case;

/* One distinct (case, ID type, ID). */
typedef struct fs_id {
	const char *id;
	uint32_t id_len;
	uint32_t kase;            /* index into the cases; then its rank */
	uint64_t hash;
	uint8_t id_type;
} fs_id;

/* An open-addressing table of indices (+1; 0 empty) into an array. */
typedef struct fs_tab {
	uint32_t *slot;
	size_t nslots;            /* power of two */
} fs_tab;

typedef struct fs_acc {
	const sx_feedback_filter *f;
	fs_case *cases;
	size_t ncases, cases_cap;
	fs_id *ids;
	size_t nids, ids_cap;
	fs_tab ct, it;
} fs_acc;

static int fs_grow(void *vp, size_t *cap, size_t size)
{
	void **v = vp;
	size_t nc = *cap ? *cap * 2 : 256;
	if (nc > UINT32_MAX - 1)
		return -ENOMEM;
	void *n = realloc(*v, nc * size);
	if (!n)
		return -ENOMEM;
	*v = n;
	*cap = nc;
	return 0;
}

/* Rehash t (to twice the size) from the hashes at base + i * stride. */
static int fs_rehash(fs_tab *t, const void *base, size_t n, size_t stride,
                     size_t hash_off)
{
	size_t ns = t->nslots ? t->nslots * 2 : 1024;
	uint32_t *s = calloc(ns, sizeof *s);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint64_t h;
		memcpy(&h, (const char *)base + i * stride + hash_off, sizeof h);
		size_t k = (size_t)h & (ns - 1);
		while (s[k])
			k = (k + 1) & (ns - 1);
		s[k] = (uint32_t)i + 1;
	}
	free(t->slot);
	t->slot = s;
	t->nslots = ns;
	return 0;
}

static int fs_add(fs_acc *a, const sx_feedback_rec *r, sx_str court,
                  sx_str case_no)
{
	if (!sx_feedback_filter_court(a->f, court))
		return 0;
	if ((a->ncases + 1) * 2 > a->ct.nslots &&
	    fs_rehash(&a->ct, a->cases, a->ncases, sizeof *a->cases,
	              offsetof(fs_case, hash)))
		return -ENOMEM;
	uint64_t h = XXH3_64bits_withSeed(case_no.p, case_no.n,
	                                  XXH3_64bits(court.p, court.n));
	size_t k = (size_t)h & (a->ct.nslots - 1);
	fs_case *c = NULL;
	for (; a->ct.slot[k]; k = (k + 1) & (a->ct.nslots - 1)) {
		fs_case *x = &a->cases[a->ct.slot[k] - 1];
		if (x->hash == h && !fs_cmp_n(x->court.p, x->court.n, court.p, court.n) &&
		    !fs_cmp_n(x->case_no.p, x->case_no.n, case_no.p, case_no.n)) {
			c = x;
			break;
		}
	}
	if (!c) {
		if (a->ncases == a->cases_cap &&
		    fs_grow(&a->cases, &a->cases_cap, sizeof *a->cases))
			return -ENOMEM;
		c = &a->cases[a->ncases];
		memset(c, 0, sizeof *c);
		c->court = court;
		c->case_no = case_no;
		c->hash = h;
		c->last_ms = INT64_MIN;
		a->ct.slot[k] = (uint32_t)++a->ncases;
	}
	if (r->reason == SX_R_LISTED)
		c->deny++;
	else if (r->reason == SX_R_REVIEW)
		c->review++;
	else if (r->reason == SX_R_SUSPENDED)
		c->suspended++;
	else if (r->reason == SX_R_EXEMPT)
		c->exempt++;
	if (r->channel < SX_NCODES)
		c->by_channel[r->channel]++;
	if (r->time_ms > c->last_ms)
		c->last_ms = r->time_ms;

	/* the ID, once per case */
	uint32_t ci = (uint32_t)(c - a->cases);
	if ((a->nids + 1) * 2 > a->it.nslots &&
	    fs_rehash(&a->it, a->ids, a->nids, sizeof *a->ids,
	              offsetof(fs_id, hash)))
		return -ENOMEM;
	uint64_t ih = XXH3_64bits_withSeed(r->id.p, r->id.n,
	                                   (uint64_t)ci << 8 | r->id_type);
	for (k = (size_t)ih & (a->it.nslots - 1); a->it.slot[k];
	     k = (k + 1) & (a->it.nslots - 1)) {
		const fs_id *x = &a->ids[a->it.slot[k] - 1];
		if (x->hash == ih && x->kase == ci && x->id_type == r->id_type &&
		    !fs_cmp_n(x->id, x->id_len, r->id.p, r->id.n))
			return 0;
	}
	if (a->nids == a->ids_cap && fs_grow(&a->ids, &a->ids_cap, sizeof *a->ids))
		return -ENOMEM;
	a->ids[a->nids] = (fs_id){ .id = r->id.p, .id_len = (uint32_t)r->id.n,
	                           .kase = ci, .hash = ih, .id_type = r->id_type };
	a->it.slot[k] = (uint32_t)++a->nids;
	return 0;
}

static int fs_collect(fs_acc *a, const sx_feedback_rec *r)
{
	if (!sx_feedback_filter_rec(a->f, r))
		return 0;
	if (!r->ncases)
		return fs_add(a, r, (sx_str){ "-", 1 }, (sx_str){ "-", 1 });
	for (uint32_t i = 0; i < r->ncases; i++) {
		int rc = fs_add(a, r, r->cases[i].court, r->cases[i].case_no);
		if (rc)
			return rc;
	}
	return 0;
}

static int fs_case_cmp(const void *x, const void *y)
{
	const fs_case *a = *(fs_case *const *)x, *b = *(fs_case *const *)y;
	int c = fs_cmp_n(a->court.p, a->court.n, b->court.p, b->court.n);
	return c ? c : fs_cmp_n(a->case_no.p, a->case_no.n, b->case_no.p,
	                        b->case_no.n);
}

static int fs_id_cmp(const void *x, const void *y)
{
	const fs_id *a = x, *b = y;
	if (a->kase != b->kase)
		return a->kase < b->kase ? -1 : 1;
	int c = fs_cmp_n(a->id, a->id_len, b->id, b->id_len);
	return c ? c : (int)a->id_type - (int)b->id_type;
}

int sx_feedback_summarize(const char *path, const sx_feedback_filter *f,
                          sx_feedback_sum_cb cb, void *arg,
                          sx_feedback_report *rep, char *why, size_t cap)
{
	fs_acc a = { .f = f };
	sx_feedback_view s;
	fs_case **order = NULL;
	sx_str *ids = NULL;
	uint8_t *types = NULL;
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
		if ((rc = fs_collect(&a, &r)))
			goto oom;

	/* cases in order; each ID entry learns its case's rank */
	order = malloc((a.ncases + 1) * sizeof *order);
	ids = malloc((a.nids + 1) * sizeof *ids);
	types = malloc(a.nids + 1);
	if (!order || !ids || !types) {
		rc = -ENOMEM;
		goto oom;
	}
	for (size_t i = 0; i < a.ncases; i++)
		order[i] = &a.cases[i];
	if (a.ncases)
		qsort(order, a.ncases, sizeof *order, fs_case_cmp);
	for (size_t i = 0; i < a.ncases; i++)
		order[i]->rank = (uint32_t)i;
	for (size_t i = 0; i < a.nids; i++)
		a.ids[i].kase = a.cases[a.ids[i].kase].rank;
	if (a.nids)
		qsort(a.ids, a.nids, sizeof *a.ids, fs_id_cmp);

	for (size_t i = 0, k = 0; i < a.ncases; i++) {
		const fs_case *c = order[i];
		sx_feedback_case_sum cs = {
			.court = c->court, .case_no = c->case_no, .deny = c->deny,
			.review = c->review, .suspended = c->suspended,
			.exempt = c->exempt, .last_ms = c->last_ms,
			.ids = ids, .id_types = types,
		};
		memcpy(cs.by_channel, c->by_channel, sizeof cs.by_channel);
		for (; k < a.nids && a.ids[k].kase == i; k++) {
			ids[cs.nids] = (sx_str){ a.ids[k].id, a.ids[k].id_len };
			types[cs.nids++] = a.ids[k].id_type;
		}
		if (cb && (rc = cb(arg, &cs))) {
			sx_fail(why, cap, rc, "feedback log %s: summary stopped by its "
			        "callback", path);
			goto out;
		}
	}
	sx_feedback_view_report(&s, rep);
	goto out;
oom:
	if (rc == -ENOMEM)
		sx_fail(why, cap, rc, "feedback log %s: out of memory summarising",
		        path);
out:
	free(cases);
	free(order);
	free(ids);
	free(types);
	free(a.cases);
	free(a.ids);
	free(a.ct.slot);
	free(a.it.slot);
	sx_feedback_view_close(&s);
	return rc;
}
