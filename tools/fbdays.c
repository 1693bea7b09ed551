/*
 * fbdays.c - the feedback log per day (contract in fbdays.h).
 *
 * The idea: one pass over the engine's checked view; court and tenant
 * names are interned (open addressing on XXH3 of their bytes, the strings
 * left in the mapped file) and the counts go into cells found by a second
 * open-addressing table keyed by (name index, day).  Afterwards the names
 * are sorted and the cells renumbered and sorted, and the whole-log counts
 * laid out as dense per-day arrays for the charts.
 *
 * Trade-off: a cell is about 280 bytes (a counter per channel); a log has
 * one per (court, day) that occurs, thousands, not one per record, so 10 M
 * records cost a pass over the file and a few hash look-ups each.
 */
#include "fbdays.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

const char *const sx_fbd_names[SX_FBD_N] = {
	"DENY", "REVIEW", "SUSPENDED", "EXEMPT",
};

int sx_fbd_of_reason(unsigned reason)
{
	switch (reason) {
	case SX_R_LISTED:    return SX_FBD_DENY;
	case SX_R_REVIEW:    return SX_FBD_REVIEW;
	case SX_R_SUSPENDED: return SX_FBD_SUSPENDED;
	case SX_R_EXEMPT:    return SX_FBD_EXEMPT;
	default:             return -1;
	}
}

int32_t sx_fbdays_day_of(int64_t ms)
{
	/* the day of ms and the 8 hours to UTC+8 apart: ms near INT64_MAX
	 * (a hostile log's) must not overflow */
	int64_t d = ms / 86400000LL, r = ms % 86400000LL + 8 * 3600 * 1000LL;
	if (r < 0)
		d--;
	else if (r >= 86400000LL)
		d++;
	return d < INT32_MIN ? INT32_MIN : d > INT32_MAX ? INT32_MAX : (int32_t)d;
}

static int cmp_bytes(const sx_str *a, const sx_str *b)
{
	int c = memcmp(a->p, b->p, a->n < b->n ? a->n : b->n);
	if (c)
		return c;
	return a->n < b->n ? -1 : a->n > b->n;
}

/* ---- interned names ----------------------------------------------------- */

typedef struct names {
	sx_str *v;                /* by index */
	uint32_t n, cap;
	uint32_t *slot;           /* index + 1; 0 empty */
	size_t nslots;            /* power of two */
} names;

static int names_grow(names *t)
{
	size_t ns = t->nslots ? t->nslots * 2 : 64;
	uint32_t *s = calloc(ns, sizeof *s);
	if (!s)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->n; i++) {
		size_t h = XXH3_64bits(t->v[i].p, t->v[i].n) & (ns - 1);
		while (s[h])
			h = (h + 1) & (ns - 1);
		s[h] = i + 1;
	}
	free(t->slot);
	t->slot = s;
	t->nslots = ns;
	return 0;
}

/* The index of name, added when new; -1: out of memory. */
static int64_t names_get(names *t, sx_str name)
{
	if ((size_t)(t->n + 1) * 2 > t->nslots && names_grow(t))
		return -1;
	size_t h = XXH3_64bits(name.p, name.n) & (t->nslots - 1);
	for (; t->slot[h]; h = (h + 1) & (t->nslots - 1)) {
		const sx_str *s = &t->v[t->slot[h] - 1];
		if (s->n == name.n && !memcmp(s->p, name.p, name.n))
			return t->slot[h] - 1;
	}
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 64;
		sx_str *v = realloc(t->v, cap * sizeof *v);
		if (!v)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n] = name;
	t->slot[h] = t->n + 1;
	return t->n++;
}

/* ---- cells keyed by (index, day) ---------------------------------------- */

typedef struct cells {
	sx_fbday_cell *v;
	size_t n, cap;
	uint32_t *slot;           /* cell + 1; 0 empty */
	size_t nslots;
} cells;

static size_t cell_hash(uint32_t key, int32_t day, size_t mask)
{
	uint64_t x = (uint64_t)key << 32 | (uint32_t)day;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x & mask;
}

static int cells_grow(cells *t)
{
	size_t ns = t->nslots ? t->nslots * 2 : 256;
	uint32_t *s = calloc(ns, sizeof *s);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		size_t h = cell_hash(t->v[i].court, t->v[i].day, ns - 1);
		while (s[h])
			h = (h + 1) & (ns - 1);
		s[h] = (uint32_t)i + 1;
	}
	free(t->slot);
	t->slot = s;
	t->nslots = ns;
	return 0;
}

static sx_fbday_cell *cells_get(cells *t, uint32_t key, int32_t day)
{
	if ((t->n + 1) * 2 > t->nslots && cells_grow(t))
		return NULL;
	size_t h = cell_hash(key, day, t->nslots - 1);
	for (; t->slot[h]; h = (h + 1) & (t->nslots - 1)) {
		sx_fbday_cell *c = &t->v[t->slot[h] - 1];
		if (c->court == key && c->day == day)
			return c;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		sx_fbday_cell *v = realloc(t->v, cap * sizeof *v);
		if (!v)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	sx_fbday_cell *c = &t->v[t->n];
	memset(c, 0, sizeof *c);
	c->court = key;
	c->day = day;
	t->slot[h] = (uint32_t)++t->n;
	return c;
}

/* ---- the pass ------------------------------------------------------------ */

typedef struct pass {
	const sx_feedback_filter *f;
	names courts, tenants;
	cells court_days;         /* key: court index */
	cells log_days;           /* key 0: the whole log (records) */
	cells tenant_days;        /* key: tenant index; by_decision[0] counts */
	uint64_t records, pairs;
} pass;

static int count_case(pass *a, const sx_feedback_rec *r, int dec, int32_t day,
                      sx_str court)
{
	if (!sx_feedback_filter_court(a->f, court))
		return 0;
	int64_t ci = names_get(&a->courts, court);
	sx_fbday_cell *c = ci < 0 ? NULL : cells_get(&a->court_days,
	                                             (uint32_t)ci, day);
	if (!c)
		return -ENOMEM;
	c->by_decision[dec]++;
	c->by_channel[r->channel]++;
	a->pairs++;
	return 1;
}

static int count_rec(pass *a, const sx_feedback_rec *r)
{
	if (!sx_feedback_filter_rec(a->f, r))
		return 0;
	int dec = sx_fbd_of_reason(r->reason);
	if (dec < 0 || r->channel >= SX_NCODES)
		return 0;              /* the reader refuses these already */
	int32_t day = sx_fbdays_day_of(r->time_ms);
	int any = 0, rc;
	if (!r->ncases)
		any = count_case(a, r, dec, day, (sx_str){ "-", 1 });
	for (uint32_t i = 0; i < r->ncases && any >= 0; i++)
		if ((rc = count_case(a, r, dec, day, r->cases[i].court)))
			any = rc < 0 ? rc : 1;
	if (any <= 0)
		return any;
	int64_t ti = names_get(&a->tenants, r->tenant);
	sx_fbday_cell *l = cells_get(&a->log_days, 0, day);
	sx_fbday_cell *t = ti < 0 ? NULL : cells_get(&a->tenant_days,
	                                             (uint32_t)ti, day);
	if (!l || !t)
		return -ENOMEM;
	l->by_decision[dec]++;
	l->by_channel[r->channel]++;
	t->by_decision[0]++;
	a->records++;
	return 0;
}

/* A name and its index before sorting. */
typedef struct ix {
	sx_str s;
	uint32_t old;
} ix;

static int ix_cmp(const void *x, const void *y)
{
	return cmp_bytes(&((const ix *)x)->s, &((const ix *)y)->s);
}

/* Sort t's names by their bytes; (*map)[old index] = new index. */
static int sort_names(names *t, uint32_t **map)
{
	ix *x = malloc(((size_t)t->n + 1) * sizeof *x);
	*map = malloc(((size_t)t->n + 1) * sizeof **map);
	if (!x || !*map) {
		free(x);
		free(*map);
		*map = NULL;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < t->n; i++)
		x[i] = (ix){ t->v[i], i };
	qsort(x, t->n, sizeof *x, ix_cmp);
	for (uint32_t i = 0; i < t->n; i++) {
		t->v[i] = x[i].s;
		(*map)[x[i].old] = i;
	}
	free(x);
	return 0;
}

static int cell_cmp(const void *x, const void *y)
{
	const sx_fbday_cell *a = x, *b = y;
	if (a->court != b->court)
		return a->court < b->court ? -1 : 1;
	return (a->day > b->day) - (a->day < b->day);
}

static void pass_free(pass *a)
{
	free(a->courts.v);
	free(a->courts.slot);
	free(a->tenants.v);
	free(a->tenants.slot);
	free(a->court_days.v);
	free(a->court_days.slot);
	free(a->log_days.v);
	free(a->log_days.slot);
	free(a->tenant_days.v);
	free(a->tenant_days.slot);
}

/* Lay the pass out in d (takes the courts' cells and both name arrays). */
static int lay_out(pass *a, sx_fbdays *d)
{
	uint32_t *cmap = NULL, *tmap = NULL;
	if (sort_names(&a->courts, &cmap) || sort_names(&a->tenants, &tmap)) {
		free(cmap);
		return -ENOMEM;
	}
	d->records = a->records;
	d->pairs = a->pairs;
	d->ndays = 0;
	d->first_day = d->last_day = 0;
	for (size_t i = 0; i < a->log_days.n; i++) {
		int32_t day = a->log_days.v[i].day;
		if (!i || day < d->first_day)
			d->first_day = day;
		if (!i || day > d->last_day)
			d->last_day = day;
	}
	if (a->log_days.n) {
		int64_t span = (int64_t)d->last_day - d->first_day + 1;
		if (span > SX_FBDAYS_MAX_SPAN) {
			free(cmap);
			free(tmap);
			return SX_EINVAL;
		}
		d->ndays = (uint32_t)span;
	}
	d->ncourts = a->courts.n;
	d->ntenants = a->tenants.n;
	size_t nd = d->ndays ? d->ndays : 1;
	d->day_decision = calloc(nd, sizeof *d->day_decision);
	d->day_channel = calloc(nd * SX_NCODES, sizeof *d->day_channel);
	d->day_tenant = calloc(nd * (d->ntenants ? d->ntenants : 1),
	                       sizeof *d->day_tenant);
	d->court_first = calloc((size_t)d->ncourts + 1, sizeof *d->court_first);
	if (!d->day_decision || !d->day_channel || !d->day_tenant ||
	    !d->court_first) {
		free(cmap);
		free(tmap);
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->log_days.n; i++) {
		const sx_fbday_cell *c = &a->log_days.v[i];
		size_t k = (size_t)((int64_t)c->day - d->first_day);
		memcpy(d->day_decision[k], c->by_decision, sizeof c->by_decision);
		memcpy(&d->day_channel[k * SX_NCODES], c->by_channel,
		       sizeof c->by_channel);
	}
	for (size_t i = 0; i < a->tenant_days.n; i++) {
		const sx_fbday_cell *c = &a->tenant_days.v[i];
		size_t k = (size_t)((int64_t)c->day - d->first_day);
		d->day_tenant[k * d->ntenants + tmap[c->court]] = c->by_decision[0];
	}
	for (size_t i = 0; i < a->court_days.n; i++)
		a->court_days.v[i].court = cmap[a->court_days.v[i].court];
	if (a->court_days.n)
		qsort(a->court_days.v, a->court_days.n, sizeof *a->court_days.v,
		      cell_cmp);
	for (size_t i = 0, c = 0; c <= d->ncourts; c++) {
		while (i < a->court_days.n && a->court_days.v[i].court < c)
			i++;
		d->court_first[c] = i;
	}
	d->cells = a->court_days.v;
	d->ncells = a->court_days.n;
	a->court_days.v = NULL;
	d->courts = a->courts.v;
	a->courts.v = NULL;
	d->tenants = a->tenants.v;
	a->tenants.v = NULL;
	free(cmap);
	free(tmap);
	return 0;
}

int sx_fbdays_read(const char *path, const sx_feedback_filter *f,
                   sx_fbdays_progress progress, void *parg, sx_fbdays *d,
                   char *why, size_t cap)
{
	pass a;
	int rc;
	memset(&a, 0, sizeof a);
	memset(d, 0, sizeof *d);
	a.f = f;
	if ((rc = sx_feedback_view_open(path, &d->view, why, cap)))
		return rc;
	d->view_open = 1;
	struct stat st;
	uint64_t total = stat(path, &st) ? 0 : (uint64_t)st.st_size;
	sx_feedback_case *cs = malloc(65536 * sizeof *cs);
	if (!cs) {
		rc = -ENOMEM;
		goto fail;
	}
	sx_feedback_rec r;
	size_t at = 0;
	uint64_t n = 0;
	while (sx_feedback_view_next(&d->view, &r, cs, &at)) {
		if ((rc = count_rec(&a, &r)))
			goto fail;
		if (progress && !(++n & ((1u << 20) - 1)))
			progress(parg, at, total);
	}
	if (progress)
		progress(parg, total, total);
	if ((rc = lay_out(&a, d))) {
		if (rc == SX_EINVAL) {
			char d0[12] = "?", d1[12] = "?";
			int32_t lo = INT32_MAX, hi = INT32_MIN;
			for (size_t i = 0; i < a.log_days.n; i++) {
				lo = a.log_days.v[i].day < lo ? a.log_days.v[i].day : lo;
				hi = a.log_days.v[i].day > hi ? a.log_days.v[i].day : hi;
			}
			if (lo >= 0 && lo < 0xffff)
				sx_day_format((uint16_t)lo, d0);
			if (hi >= 0 && hi < 0xffff)
				sx_day_format((uint16_t)hi, d1);
			sx_fail(why, cap, rc, "feedback log %s: records span %lld days "
			        "(%s to %s; more than %d: a wrong clock?); choose days "
			        "with --from and --to", path,
			        (long long)hi - lo + 1, d0, d1, SX_FBDAYS_MAX_SPAN);
		}
		goto fail;
	}
	sx_feedback_view_report(&d->view, &d->rep);
	free(cs);
	pass_free(&a);
	return 0;
fail:
	if (rc == -ENOMEM)
		sx_fail(why, cap, rc, "feedback log %s: out of memory counting per "
		        "day", path);
	free(cs);
	pass_free(&a);
	sx_fbdays_free(d);
	return rc;
}

void sx_fbdays_free(sx_fbdays *d)
{
	free(d->day_decision);
	free(d->day_channel);
	free(d->day_tenant);
	free(d->courts);
	free(d->tenants);
	free(d->cells);
	free(d->court_first);
	if (d->view_open)
		sx_feedback_view_close(&d->view);
	memset(d, 0, sizeof *d);
}

int sx_fbdays_court(const sx_fbdays *d, sx_str court)
{
	size_t lo = 0, hi = d->ncourts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_bytes(&d->courts[mid], &court);
		if (!c)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}
