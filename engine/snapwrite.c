/*
 * snapwrite.c - build the index and write a snapshot (layout in
 * snapfmt.h).
 *
 * Every record gives one (key, record) posting for its own ID, and a USCC
 * a second one for its embedded organisation code.  Postings are hashed
 * and radix-sorted by hash (LSD, four 16-bit passes: linear and stable, so
 * the postings of one key stay in list order).  Runs of equal hash are the
 * slots; the perfect hash is built over them.  A second stable sort, by
 * slot (two passes), puts the postings in slot order, and one pass over
 * them fixes key numbers, the postings section, each record's own key
 * number and the bitmaps (keys come out in ascending order, so each
 * bitmap is appended to, a few thousand key numbers at a time); the
 * records it touches are prefetched a few postings ahead, as they are in
 * list order.
 *
 * Strings are interned with a small open-addressing table of offsets into
 * a growing pool, keyed by XXH3.  Cases are numbered by their folded
 * spelling through a table of their own (see struct cases), whose slots
 * carry a hash tag so that a probe rarely touches the pool: at 10 M
 * records every probe is a cache miss, and the loader prefetches them.
 *
 * Memory is the build's main cost on the machines we run on: a page the
 * process touches for the first time costs about 2 s per GiB there
 * (make bench-memcost; docs/BENCHMARKS.md).  So the writer keeps one copy of each case
 * spelling (the strings section itself), drops its tables before the
 * index is built, builds the index from the records without a copy of
 * the keys, and writes the file with O_DIRECT through one staging buffer
 * (stage.c, over the wio layer: no page-cache copy of a file the server
 * maps later anyway).
 */
#include "snapwrite.h"
#include "mphf.h"
#include "snapfmt.h"
#include "snapint.h"
#include "snapshot.h"
#include "stage.h"
#include "wio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <roaring/roaring.h>
#include <roaring/roaring_version.h>

/* ---- growable arrays and interning -------------------------------------- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 1024;
	while (nc < need)
		nc *= 2;
	void *q = realloc(*p, nc * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = nc;
	return 0;
}

/* Strings stored as u16 length + bytes in pool; the table holds pool
 * offsets + 1 (0 = empty). */
struct intern {
	uint8_t *pool;
	size_t len, cap;
	uint32_t *tab;
	size_t tabsize, count;
};

/* Grow the table to at least `want` slots (a power of two). */
static int intern_rehash(struct intern *in, size_t want)
{
	size_t ns = in->tabsize ? in->tabsize * 2 : 4096;
	while (ns < want)
		ns *= 2;
	uint32_t *t = calloc(ns, sizeof(uint32_t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < in->tabsize; i++) {
		uint32_t v = in->tab[i];
		if (!v)
			continue;
		uint16_t l;
		memcpy(&l, in->pool + v - 1, 2);
		size_t j = XXH3_64bits(in->pool + v + 1, l) & (ns - 1);
		while (t[j])
			j = (j + 1) & (ns - 1);
		t[j] = v;
	}
	free(in->tab);
	in->tab = t;
	in->tabsize = ns;
	return 0;
}

/* Append a string to the pool without interning it; UINT32_MAX when out of
 * memory or past 4 GiB. */
static uint32_t pool_append(struct intern *in, const char *s, size_t len)
{
	if (len > 65535 || in->len + 2 + len >= UINT32_MAX - 1 ||
	    grow((void **)&in->pool, &in->cap, in->len + 2 + len, 1))
		return UINT32_MAX;
	uint32_t off = (uint32_t)in->len;
	uint16_t l = (uint16_t)len;
	memcpy(in->pool + off, &l, 2);
	memcpy(in->pool + off + 2, s, len);
	in->len += 2 + len;
	return off;
}

/* Offset of s in the pool (adding it), UINT32_MAX on failure; *added is
 * set when it was new. */
static uint32_t intern_get(struct intern *in, const char *s, size_t len,
                           int add, int *added)
{
	if (len > 65535)
		return UINT32_MAX;
	if (added)
		*added = 0;
	if (in->count * 2 >= in->tabsize && intern_rehash(in, 0))
		return UINT32_MAX;
	size_t j = XXH3_64bits(s, len) & (in->tabsize - 1);
	for (; in->tab[j]; j = (j + 1) & (in->tabsize - 1)) {
		uint32_t off = in->tab[j] - 1;
		uint16_t l;
		memcpy(&l, in->pool + off, 2);
		if (l == len && memcmp(in->pool + off + 2, s, len) == 0)
			return off;
	}
	if (!add)
		return UINT32_MAX;
	uint32_t off = pool_append(in, s, len);
	if (off == UINT32_MAX)
		return UINT32_MAX;
	in->tab[j] = off + 1;
	in->count++;
	if (added)
		*added = 1;
	return off;
}

static void intern_free(struct intern *in)
{
	free(in->pool);
	free(in->tab);
}

/* ---- the writer ---------------------------------------------------------- */

/*
 * A tagged table: open addressing with linear probing over u64 slots,
 * each (hash >> 32) << 32 | (value + 1), 0 empty.  The tag settles almost
 * every probe without a look at what the value names; the slot index uses
 * the hash's low bits, so tag and index never share bits while the table
 * has fewer than 2^32 slots.  Cases and repeated records use one each.
 */
struct tagtab {
	uint64_t *slot;
	size_t size, count;        /* size: a power of two, or 0 */
};

#define TAG(h) (((uint64_t)(h) >> 32) << 32)

/*
 * Cases: the folded spelling of a case number (sx_case_fold) -> case id,
 * ids in order of first sight.  first[id] is the offset in the strings
 * pool of the case's first spelling, which a probe with an equal tag folds
 * again to compare (folding is idempotent).
 */
struct cases {
	struct tagtab t;
	uint32_t *first;
	size_t first_cap;
};

struct sx_snapw {
	struct intern strings;     /* the strings section */
	struct cases cases;
	struct tagtab uniq;        /* records added with sx_snapw_add_unique,
	                              by (key, case id, role), read from the
	                              records on an equal tag: no copy */
	uint64_t ncourts;
	struct intern courts;      /* court spellings, for counting only */
	/* Records as the file has them (id_key filled in by the index), and
	 * their own keys beside them: 48 bytes a record in all. */
	struct sx_disk_rec *recs;
	sx_key *keys;
	size_t nrecs, recs_cap, keys_cap;
	sx_snapw_permit *permits;
	size_t npermits, permits_cap;
};

sx_snapw *sx_snapw_new(void)
{
	return calloc(1, sizeof(sx_snapw));
}

void sx_snapw_free(sx_snapw *w)
{
	if (!w)
		return;
	intern_free(&w->strings);
	intern_free(&w->courts);
	free(w->cases.t.slot);
	free(w->cases.first);
	free(w->uniq.slot);
	free(w->recs);
	free(w->keys);
	free(w->permits);
	free(w);
}

uint32_t sx_snapw_string(sx_snapw *w, const char *s, size_t len)
{
	return intern_get(&w->strings, s, len, 1, NULL);
}

uint32_t sx_snapw_court(sx_snapw *w, const char *s, size_t len)
{
	int added;
	if (intern_get(&w->courts, s, len, 1, &added) == UINT32_MAX)
		return UINT32_MAX;
	w->ncourts += added;
	return intern_get(&w->strings, s, len, 1, NULL);
}

/* Grow t to hold `want` values at most 3/4 full, re-hashing each value
 * with hash_of (growth is rare: the loader reserves). */
static int tagtab_grow(struct tagtab *t, size_t want, const sx_snapw *w,
                       uint64_t (*hash_of)(const sx_snapw *, uint32_t))
{
	size_t ns = t->size ? t->size : 1024;
	while (ns / 4 * 3 <= want)
		ns *= 2;
	if (ns <= t->size)
		return 0;
	uint64_t *n = calloc(ns, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < t->size; i++) {
		if (!t->slot[i])
			continue;
		uint64_t h = hash_of(w, (uint32_t)t->slot[i] - 1);
		size_t j = h & (ns - 1);
		while (n[j])
			j = (j + 1) & (ns - 1);
		n[j] = t->slot[i];
	}
	free(t->slot);
	t->slot = n;
	t->size = ns;
	return 0;
}

/* Room for one more value (a no-op while the table is under 3/4 full). */
static int tagtab_room(struct tagtab *t, const sx_snapw *w,
                       uint64_t (*hash_of)(const sx_snapw *, uint32_t))
{
	if ((t->count + 1) * 4 <= t->size * 3)
		return 0;
	return tagtab_grow(t, t->count + 1, w, hash_of);
}

static void tagtab_prefetch(const struct tagtab *t, uint64_t h)
{
	if (t->size)
		__builtin_prefetch(&t->slot[h & (t->size - 1)]);
}

/* Case id's first spelling, folded into buf; its length.  *spelled and
 * *len get the spelling itself. */
static size_t case_first_fold(const sx_snapw *w, uint32_t id, char *buf,
                              const uint8_t **spelled, uint16_t *len)
{
	const uint8_t *e = w->strings.pool + w->cases.first[id];
	memcpy(len, e, 2);
	*spelled = e + 2;
	return sx_case_fold((const char *)e + 2, *len, buf, SX_CASE_FOLD_MAX);
}

static uint64_t case_hash_of(const sx_snapw *w, uint32_t id)
{
	char buf[SX_CASE_FOLD_MAX];
	const uint8_t *sp;
	uint16_t l;
	return sx_case_hash(buf, case_first_fold(w, id, buf, &sp, &l));
}

void sx_snapw_case_prefetch(const sx_snapw *w, uint64_t h)
{
	tagtab_prefetch(&w->cases.t, h);
}

uint32_t sx_snapw_case_add(sx_snapw *w, const char *spelled, size_t len,
                           const char *fold, size_t fold_len, uint64_t h,
                           int add, uint32_t *off)
{
	struct cases *c = &w->cases;
	struct tagtab *t = &c->t;
	if (len > 65535 || fold_len > SX_CASE_FOLD_MAX)
		return UINT32_MAX;
	if (add && tagtab_room(t, w, case_hash_of))
		return UINT32_MAX;
	if (!t->size)
		return UINT32_MAX;
	size_t j = h & (t->size - 1);
	for (; t->slot[j]; j = (j + 1) & (t->size - 1)) {
		if (TAG(t->slot[j]) != TAG(h))
			continue;
		uint32_t id = (uint32_t)t->slot[j] - 1;
		char buf[SX_CASE_FOLD_MAX];
		const uint8_t *first;
		uint16_t l;
		size_t fl = case_first_fold(w, id, buf, &first, &l);
		if (fl != fold_len || memcmp(buf, fold, fl))
			continue;
		if (off) {       /* the first spelling, or this one interned */
			*off = l == len && memcmp(first, spelled, len) == 0 ?
			       c->first[id] : sx_snapw_string(w, spelled, len);
			if (*off == UINT32_MAX)
				return UINT32_MAX;
		}
		return id;
	}
	if (!add || t->count >= UINT32_MAX - 1 ||
	    grow((void **)&c->first, &c->first_cap, t->count + 1,
	         sizeof(*c->first)))
		return UINT32_MAX;
	uint32_t o = pool_append(&w->strings, spelled, len);
	if (o == UINT32_MAX)
		return UINT32_MAX;
	uint32_t id = (uint32_t)t->count++;
	c->first[id] = o;
	t->slot[j] = TAG(h) | (id + 1);
	if (off)
		*off = o;
	return id;
}

static uint32_t case_lookup(sx_snapw *w, const char *case_no, size_t len,
                            int add)
{
	char buf[SX_CASE_FOLD_MAX];
	size_t fl = sx_case_fold(case_no, len, buf, sizeof(buf));
	if (fl > sizeof(buf))
		return UINT32_MAX;
	return sx_snapw_case_add(w, case_no, len, buf, fl, sx_case_hash(buf, fl),
	                         add, NULL);
}

uint32_t sx_snapw_case(sx_snapw *w, const char *case_no, size_t len)
{
	return case_lookup(w, case_no, len, 1);
}

uint32_t sx_snapw_case_find(sx_snapw *w, const char *case_no, size_t len)
{
	return case_lookup(w, case_no, len, 0);
}

int sx_snapw_add_record(sx_snapw *w, const sx_snapw_rec *r)
{
	if (w->nrecs >= (1u << 31))
		return SX_EFULL;
	if (grow((void **)&w->recs, &w->recs_cap, w->nrecs + 1, sizeof(*w->recs)) ||
	    grow((void **)&w->keys, &w->keys_cap, w->nrecs + 1, sizeof(*w->keys)))
		return -ENOMEM;
	w->keys[w->nrecs] = r->key;
	w->recs[w->nrecs++] = (struct sx_disk_rec){
		.case_off = r->case_off, .court_off = r->court_off,
		.case_id = r->case_id,
		.listed_on = r->listed_on, .expires_on = r->expires_on,
		.codes = r->codes,
		.role_list = (uint8_t)(r->role | r->list << 4),
		.status_type = (uint8_t)(r->status | r->id_type << 4),
	};
	return 0;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return (a > b) - (a < b);
}

int sx_snapw_case_codes(const sx_snapw *w, const uint32_t *case_ids, size_t n,
                        sx_codes *out)
{
	uint32_t ncases = (uint32_t)w->cases.t.count;
	uint32_t *ids = malloc((n + 1) * sizeof(*ids));
	sx_codes *acc = calloc(n + 1, sizeof(*acc));
	uint64_t *seen = calloc((size_t)ncases / 64 + 1, sizeof(*seen));
	size_t m = 0;

	if (!ids || !acc || !seen) {
		free(ids);
		free(acc);
		free(seen);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (case_ids[i] < ncases) {
			ids[m++] = case_ids[i];
			seen[case_ids[i] >> 6] |= 1ull << (case_ids[i] & 63);
		}
	qsort(ids, m, sizeof(*ids), cmp_u32);
	/* one pass over the records; the bitmap of the cases asked about lets
	 * almost every record go without a search */
	for (size_t r = 0; r < w->nrecs; r++) {
		uint32_t c = w->recs[r].case_id;
		if (!(seen[c >> 6] >> (c & 63) & 1))
			continue;
		uint32_t *hit = bsearch(&c, ids, m, sizeof(*ids), cmp_u32);
		acc[hit - ids] |= w->recs[r].codes;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t *hit = case_ids[i] < ncases ?
		                bsearch(&case_ids[i], ids, m, sizeof(*ids), cmp_u32) : NULL;
		out[i] = hit ? acc[hit - ids] : 0;
	}
	free(ids);
	free(acc);
	free(seen);
	return 0;
}

uint64_t sx_snapw_rec_hash(const sx_key *key, uint32_t case_id, int role)
{
	return XXH3_64bits_withSeed(key, sizeof(*key),
	                            (uint64_t)case_id << 8 | (unsigned)role);
}

static uint64_t rec_hash_of(const sx_snapw *w, uint32_t rec)
{
	return sx_snapw_rec_hash(&w->keys[rec], w->recs[rec].case_id,
	                         w->recs[rec].role_list & 15);
}

void sx_snapw_unique_prefetch(const sx_snapw *w, uint64_t h)
{
	tagtab_prefetch(&w->uniq, h);
}

int sx_snapw_add_unique(sx_snapw *w, const sx_snapw_rec *r, uint64_t h)
{
	struct tagtab *t = &w->uniq;
	if (tagtab_room(t, w, rec_hash_of))
		return -ENOMEM;
	size_t j = h & (t->size - 1);
	for (; t->slot[j]; j = (j + 1) & (t->size - 1)) {
		if (TAG(t->slot[j]) != TAG(h))
			continue;
		uint32_t rec = (uint32_t)t->slot[j] - 1;
		if (sx_key_eq(&w->keys[rec], &r->key) &&
		    w->recs[rec].case_id == r->case_id &&
		    (w->recs[rec].role_list & 15) == r->role)
			return 1;
	}
	int rc = sx_snapw_add_record(w, r);
	if (rc)
		return rc;
	t->slot[j] = TAG(h) | w->nrecs;   /* record nrecs - 1, plus one */
	t->count++;
	return 0;
}

int sx_snapw_add_permit(sx_snapw *w, const sx_snapw_permit *p)
{
	if (w->npermits >= (1u << 31))
		return SX_EFULL;
	if (grow((void **)&w->permits, &w->permits_cap, w->npermits + 1,
	         sizeof(*p)))
		return -ENOMEM;
	w->permits[w->npermits++] = *p;
	return 0;
}

uint64_t sx_snapw_nrecords(const sx_snapw *w) { return w->nrecs; }

int sx_snapw_reserve(sx_snapw *w, size_t nrecs)
{
	/* at most one case and about 30 bytes of case spelling per record
	 * (virtual memory: pages are touched only as they fill) */
	if (grow((void **)&w->recs, &w->recs_cap, nrecs, sizeof(*w->recs)) ||
	    grow((void **)&w->keys, &w->keys_cap, nrecs, sizeof(*w->keys)) ||
	    grow((void **)&w->strings.pool, &w->strings.cap, nrecs * 32, 1) ||
	    grow((void **)&w->cases.first, &w->cases.first_cap, nrecs,
	         sizeof(*w->cases.first)) ||
	    tagtab_grow(&w->cases.t, nrecs, w, case_hash_of) ||
	    tagtab_grow(&w->uniq, nrecs, w, rec_hash_of))
		return -ENOMEM;
	return 0;
}

/* ---- index building ------------------------------------------------------ */

/* A posting is a (key, record) pair, named by the record's number and
 * which of its keys: rec << 1 | 1 for a USCC's EMB key.  The keys stay
 * with the records: no copy of 16 bytes per key. */
static inline sx_key posting_key(const sx_snapw *w, uint32_t i)
{
	return i & 1 ? sx_key_uscc_emb(&w->keys[i >> 1]) : w->keys[i >> 1];
}

static inline int has_emb(const sx_key *k)
{
	return sx_key_kind(k) == SX_KK_USCC;
}

/* A posting while the index is built: its key's hash, its name (above),
 * and the slot of its hash once the perfect hash is built. */
struct hi { uint64_t h; uint32_t i; uint32_t slot; };

/* Stable LSD radix sort of a[0..n), 16 bits a pass, by h (four passes) or
 * by slot (two); tmp is scratch and cnt 65536 counters.  An even number of
 * passes: the result ends up back in a. */
static void radix_sort(struct hi *a, struct hi *tmp, uint32_t *cnt, size_t n,
                       int by_slot)
{
	for (int pass = 0; pass < (by_slot ? 2 : 4); pass++) {
		int sh = pass * 16;
#define DIGIT(e) (((by_slot ? (e).slot : (e).h) >> sh) & 0xffff)
		memset(cnt, 0, 65536 * sizeof(*cnt));
		for (size_t i = 0; i < n; i++)
			cnt[DIGIT(a[i])]++;
		uint32_t sum = 0;
		for (int b = 0; b < 65536; b++) {
			uint32_t c = cnt[b];
			cnt[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[DIGIT(a[i])]++] = a[i];
#undef DIGIT
		struct hi *t = a;
		a = tmp;
		tmp = t;
	}
}

static int cmp_hi_key(const void *x, const void *y, void *arg)
{
	const struct hi *a = x, *b = y;
	const sx_snapw *w = arg;
	sx_key ka = posting_key(w, a->i), kb = posting_key(w, b->i);
	int c = sx_key_cmp(&ka, &kb);
	if (c)
		return c;
	return a->i < b->i ? -1 : a->i > b->i;
}

struct okey { sx_key key; uint32_t start, n; };   /* an overflow key */
static int cmp_okey(const void *x, const void *y)
{
	return sx_key_cmp(&((const struct okey *)x)->key,
	                  &((const struct okey *)y)->key);
}

static int cmp_permit(const void *x, const void *y)
{
	const sx_snapw_permit *a = x, *b = y;
	return a->case_id < b->case_id ? -1 : a->case_id > b->case_id;
}

/* Everything the sections are made of. */
struct image {
	sx_mphf_owned mphf;
	uint64_t seed;
	uint32_t n_slots, n_keys, n_postings, max_npost;
	uint32_t *fp;
	struct sx_bmfill *bmf;     /* the bitmaps being filled */
	struct sx_disk_key *keys;
	uint32_t *post;
	struct sx_disk_permit *permits;
	uint8_t *bitmaps;
	size_t bitmaps_len;
	uint64_t ids;
};

static void image_free(struct image *im)
{
	sx_mphf_free(&im->mphf);
	free(im->fp);
	sx_bmfill_free(im->bmf);
	free(im->keys);
	free(im->post);
	free(im->permits);
	free(im->bitmaps);
}

/* Emit one key (its postings are hi[start..start+n)) as key number kn;
 * keys are emitted in ascending kn. */
static void emit_key(struct image *im, sx_snapw *w,
                     const struct hi *hi, uint32_t start, uint32_t n,
                     uint32_t kn, uint32_t *npost)
{
	sx_key k = posting_key(w, hi[start].i);
	im->keys[kn] = (struct sx_disk_key){ .lo = k.lo, .hi = k.hi,
	                                     .post = *npost, .npost = n };
	sx_codes codes = 0;
	int live = 0;
	for (uint32_t j = 0; j < n; j++) {
		uint32_t rec = hi[start + j].i >> 1;
		struct sx_disk_rec *r = &w->recs[rec];
		int status = r->status_type & 15;
		im->post[(*npost)++] = rec;
		if (sx_key_kind(&k) != SX_KK_EMB)
			r->id_key = kn;
		if (status == SX_ST_ACTIVE || status == SX_ST_SUSPENDED) {
			live = 1;
			codes |= r->codes;
		}
	}
	sx_bmfill_key(im->bmf, kn, live, codes);
	if (n > im->max_npost)
		im->max_npost = n;
	if (sx_key_kind(&k) != SX_KK_EMB)
		im->ids++;
}

static int build_index(sx_snapw *w, int threads, struct image *im,
                       sx_snapw_stats *st, char *why, size_t cap)
{
	size_t np = 0;
	struct hi *hi = NULL, *tmp = NULL;
	uint32_t *cnt = NULL;
	uint64_t *uh;               /* distinct hashes: in tmp, after the sort */
	uint32_t *gstart;           /* where each one's postings start: ditto */
	struct okey *ok = NULL;     /* keys sharing a hash: rare */
	size_t nok = 0, okcap = 0;
	int rc = -ENOMEM;

	for (size_t i = 0; i < w->nrecs; i++)
		np += 1 + has_emb(&w->keys[i]);
	if (np >= UINT32_MAX / 2) {
		snprintf(why, cap, "too many keys (%zu)", np);
		return SX_EFULL;
	}
	/* 8 + 4 bytes per posting for uh and gstart fit in tmp's 16 */
	hi = malloc((np + 1) * sizeof(*hi));
	tmp = malloc((np + 2) * sizeof(*tmp));
	cnt = malloc(65536 * sizeof(*cnt));
	im->post = malloc((np + 1) * sizeof(uint32_t));
	if (!hi || !tmp || !cnt || !im->post)
		goto fail;
	uh = (uint64_t *)tmp;
	gstart = (uint32_t *)(uh + np + 1);

	uint32_t ng = 0;
	for (uint32_t attempt = 0;; attempt++) {
		if (attempt == 8) {
			snprintf(why, cap, "the perfect hash could not be built "
			         "with 8 seeds");
			rc = SX_EBUILD;
			goto fail;
		}
		im->seed = 0x5eed5eedull * (attempt + 1) ^ 0x9e3779b97f4a7c15ull;
		size_t n = 0;
		for (size_t i = 0; i < w->nrecs; i++) {
			const sx_key *k = &w->keys[i];
			hi[n++] = (struct hi){ sx_key_hash(k, im->seed),
			                       (uint32_t)i << 1, 0 };
			if (has_emb(k)) {
				sx_key e = sx_key_uscc_emb(k);
				hi[n++] = (struct hi){ sx_key_hash(&e, im->seed),
				                       (uint32_t)i << 1 | 1, 0 };
			}
		}
		radix_sort(hi, tmp, cnt, np, 0);
		ng = 0;
		for (size_t i = 0; i < np; i++)
			if (i == 0 || hi[i].h != hi[i - 1].h) {
				gstart[ng] = (uint32_t)i;
				uh[ng++] = hi[i].h;
			}
		gstart[ng] = (uint32_t)np;
		st->seeds_tried = attempt + 1;
		rc = sx_mphf_build(uh, ng, threads, &im->mphf);
		if (rc == 0)
			break;
		if (rc != SX_EBUILD) {
			snprintf(why, cap, "perfect hash: %s", sx_strerror(rc));
			goto fail;
		}
	}
	st->evictions = im->mphf.evictions;

	/* Postings in slot order: a stable sort by the slot of each hash keeps
	 * a key's postings in list order, and emission reads hi front to back
	 * (uh and gstart, in tmp, are done with). */
	for (size_t i = 0; i < np; i++)
		hi[i].slot = sx_mphf_slot(&im->mphf.f, hi[i].h);
	radix_sort(hi, tmp, cnt, np, 1);
	free(tmp);                  /* room for the sections */
	tmp = NULL;

	im->fp = malloc(((size_t)ng + 1) * sizeof(uint32_t));
	im->bmf = sx_bmfill_new();
	im->keys = malloc((np + 1) * sizeof(struct sx_disk_key));
	rc = -ENOMEM;
	if (!im->fp || !im->bmf || !im->keys)
		goto fail;

	/* The records are in list order, so each posting's record is a cache
	 * miss: fetch them PREFETCH postings ahead. */
	enum { PREFETCH = 16 };
	uint32_t npost = 0;
	for (uint32_t a = 0, slot = 0; a < np; slot++) {
		if (hi[a].slot != slot) {       /* not a bijection: a bug */
			snprintf(why, cap, "perfect hash: slot %u has no key", slot);
			rc = SX_EBUILD;
			goto fail;
		}
		uint32_t b = a + 1;
		while (b < np && hi[b].slot == slot)
			b++;
		for (uint32_t j = a; j < b && j + PREFETCH < np; j++) {
			uint32_t r = hi[j + PREFETCH].i >> 1;
			__builtin_prefetch(&w->keys[r]);
			__builtin_prefetch(&w->recs[r], 1);
		}
		im->fp[slot] = sx_fp(hi[a].h);
		/* usually one key; equal hashes of different keys are rare */
		sx_key ka = posting_key(w, hi[a].i), kj;
		int mixed = 0;
		for (uint32_t j = a + 1; j < b; j++)
			if (kj = posting_key(w, hi[j].i), !sx_key_eq(&kj, &ka))
				mixed = 1;
		if (mixed) {
			qsort_r(hi + a, b - a, sizeof(*hi), cmp_hi_key, w);
			ka = posting_key(w, hi[a].i);
		}
		uint32_t e = a + 1;
		while (e < b && (kj = posting_key(w, hi[e].i), sx_key_eq(&kj, &ka)))
			e++;
		emit_key(im, w, hi, a, e - a, slot, &npost);
		if (e < b)
			im->keys[slot].npost |= SX_KEY_MORE;
		while (e < b) {     /* the other keys of this hash: overflow */
			uint32_t s = e++;
			sx_key ks = posting_key(w, hi[s].i);
			while (e < b && (kj = posting_key(w, hi[e].i), sx_key_eq(&kj, &ks)))
				e++;
			if (grow((void **)&ok, &okcap, nok + 1, sizeof(*ok))) {
				rc = -ENOMEM;
				goto fail;
			}
			ok[nok++] = (struct okey){ ks, s, e - s };
		}
		a = b;
	}
	if (nok)
		qsort(ok, nok, sizeof(*ok), cmp_okey);
	for (size_t i = 0; i < nok; i++)
		emit_key(im, w, hi, ok[i].start, ok[i].n, ng + (uint32_t)i, &npost);
	im->n_slots = ng;
	im->n_keys = ng + (uint32_t)nok;
	im->n_postings = npost;
	rc = 0;
fail:
	free(hi);
	free(tmp);
	free(cnt);
	free(ok);
	return rc;
}

/* Records, permits and bitmaps once key numbers are known. */
static int build_tables(sx_snapw *w, struct image *im, uint64_t *per_code,
                        uint64_t *per_status)
{
	for (size_t i = 0; i < w->nrecs; i++) {
		const struct sx_disk_rec *r = &w->recs[i];
		per_status[r->status_type & 15]++;
		for (int c = 0; c < SX_NCODES; c++)
			if (r->codes & SX_CODE_BIT(c))
				per_code[c]++;
	}

	if (w->npermits)
		qsort(w->permits, w->npermits, sizeof(*w->permits), cmp_permit);
	im->permits = calloc(w->npermits + 1, sizeof(*im->permits));
	if (!im->permits)
		return -ENOMEM;
	for (size_t i = 0; i < w->npermits; i++) {
		const sx_snapw_permit *s = &w->permits[i];
		im->permits[i] = (struct sx_disk_permit){
			.lo = s->key.lo, .hi = s->key.hi, .case_id = s->case_id,
			.case_off = s->case_off, .ref_off = s->ref_off,
			.valid_from = s->valid_from, .valid_to = s->valid_to,
			.codes = s->codes };
	}

	roaring_bitmap_t **bm = im->bmf->bm;
	sx_bmfill_flush(im->bmf);
	size_t len = 8 + 16 * SX_NBITMAPS;
	uint64_t offs[SX_NBITMAPS], lens[SX_NBITMAPS];
	for (int i = 0; i < SX_NBITMAPS; i++) {
		roaring_bitmap_run_optimize(bm[i]);
		len = (len + 31) & ~(size_t)31;
		offs[i] = len;
		lens[i] = roaring_bitmap_frozen_size_in_bytes(bm[i]);
		len += lens[i];
	}
	im->bitmaps = aligned_alloc(32, (len + 31) & ~(size_t)31);
	if (!im->bitmaps)
		return -ENOMEM;          /* image_free frees the bitmaps */
	memset(im->bitmaps, 0, len);
	uint32_t nbm = SX_NBITMAPS;
	memcpy(im->bitmaps, &nbm, 4);
	for (int i = 0; i < SX_NBITMAPS; i++) {
		memcpy(im->bitmaps + 8 + 16 * i, &offs[i], 8);
		memcpy(im->bitmaps + 16 + 16 * i, &lens[i], 8);
		roaring_bitmap_frozen_serialize(bm[i], (char *)im->bitmaps + offs[i]);
	}
	sx_bmfill_free(im->bmf);
	im->bmf = NULL;
	im->bitmaps_len = len;
	return 0;
}

/* ---- the file ------------------------------------------------------------ */

/* The lookup tables are done with once the index is to be built: their
 * memory goes to the index arrays (jemalloc reuses it). */
static void drop_tables(sx_snapw *w)
{
	free(w->strings.tab);
	free(w->courts.tab);
	free(w->cases.t.slot);
	free(w->cases.first);
	free(w->uniq.slot);
	w->strings.tab = w->courts.tab = NULL;
	w->cases.t.slot = w->uniq.slot = NULL;
	w->cases.first = NULL;
	w->cases.first_cap = 0;
	w->strings.tabsize = w->courts.tabsize = w->cases.t.size = w->uniq.size = 0;
}

int sx_snapw_write(sx_snapw *w, const sx_snapw_meta *m, const char *path,
                   sx_snapw_stats *st, char *why, size_t cap)
{
	struct image im = {0};
	struct sx_disk_header h;
	sx_snapw_stats dummy;
	char tmp[4096];
	int rc;
	uint64_t t0 = sx_mono_ms();

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	memset(&h, 0, sizeof(h));
	if (cap)
		why[0] = 0;
	drop_tables(w);
	if ((rc = build_index(w, m->threads, &im, st, why, cap))) {
		if (!why[0])
			snprintf(why, cap, "out of memory building the index of "
			         "%zu records", w->nrecs);
		goto out;
	}
	if ((rc = build_tables(w, &im, h.per_code, h.per_status))) {
		snprintf(why, cap, "out of memory building tables");
		goto out;
	}
	st->index_ms = (uint32_t)(sx_mono_ms() - t0);

	struct { const void *p; uint64_t len; } sec[SX_NSECTIONS] = {
		[SX_SEC_PILOTS]   = { im.mphf.pilot, sx_mphf_npilots(&im.mphf.f) },
		[SX_SEC_REMAP]    = { im.mphf.remap, sx_mphf_nremap(&im.mphf.f) * 4 },
		[SX_SEC_FP]       = { im.fp, (uint64_t)im.n_slots * 4 },
		[SX_SEC_KEYS]     = { im.keys, (uint64_t)im.n_keys * sizeof(*im.keys) },
		[SX_SEC_POSTINGS] = { im.post, (uint64_t)im.n_postings * 4 },
		[SX_SEC_RECORDS]  = { w->recs, (uint64_t)w->nrecs * sizeof(*w->recs) },
		[SX_SEC_STRINGS]  = { w->strings.pool, w->strings.len },
		[SX_SEC_PERMITS]  = { im.permits, (uint64_t)w->npermits * sizeof(*im.permits) },
		[SX_SEC_RULES]    = { NULL, sizeof(struct sx_disk_rules) },
		[SX_SEC_BITMAPS]  = { im.bitmaps, im.bitmaps_len },
	};
	struct sx_disk_rules rules;
	memset(&rules, 0, sizeof(rules));
	memcpy(rules.rail, m->rules.rail, sizeof(rules.rail));
	rules.ship = m->rules.ship;
	rules.hotel = m->rules.hotel;
	memcpy(rules.effect, m->rules.effect, sizeof(m->rules.effect));
	rules.nclasses = m->rules.nclasses;
	memcpy(rules.cls, m->rules.cls, sizeof(rules.cls));
	sec[SX_SEC_RULES].p = &rules;

	memcpy(h.magic, SX_SNAP_MAGIC, 8);
	h.version = SX_SNAP_VERSION;
	h.header_size = SX_SNAP_HDR;
	snprintf(h.roaring, sizeof(h.roaring), "%d.%d.%d", ROARING_VERSION_MAJOR,
	         ROARING_VERSION_MINOR, ROARING_VERSION_REVISION);
	h.as_of = m->as_of;
	h.built_at = (int64_t)time(NULL);
	h.seed = im.seed;
	h.nsections = SX_NSECTIONS;
	h.n_slots = im.n_slots;
	h.n_keys = im.n_keys;
	h.nparts = im.mphf.f.nparts;
	h.part_buckets = im.mphf.f.part_buckets;
	h.part_slots = im.mphf.f.part_slots;
	h.n_records = (uint32_t)w->nrecs;
	h.n_postings = im.n_postings;
	h.n_permits = (uint32_t)w->npermits;
	h.n_cases = (uint32_t)w->cases.t.count;
	h.n_courts = (uint32_t)w->ncourts;
	h.max_query_records = 2 * im.max_npost + 1;
	h.n_bitmaps = SX_NBITMAPS;
	h.rows_read = m->rows_read;
	h.rows_loaded = m->rows_loaded;
	h.rows_rejected = m->rows_rejected;
	h.rows_warned = m->rows_warned;
	h.duplicates = m->duplicates;
	h.revoked = h.per_status[SX_ST_REVOKED];
	h.shielded = h.per_status[SX_ST_SHIELDED];
	h.ids = im.ids;
	if (m->source)
		snprintf(h.source, sizeof(h.source), "%s", m->source);

	uint64_t pos = SX_SNAP_HDR;
	static const uint8_t zeros[SX_SNAP_ALIGN];
	for (int i = 0; i < SX_NSECTIONS; i++) {
		uint64_t padded = (sec[i].len + SX_SNAP_ALIGN - 1) & ~(uint64_t)(SX_SNAP_ALIGN - 1);
		XXH3_state_t xs;
		XXH3_64bits_reset(&xs);
		XXH3_64bits_update(&xs, sec[i].p ? sec[i].p : zeros, sec[i].len);
		XXH3_64bits_update(&xs, zeros, padded - sec[i].len);
		h.sec[i] = (struct sx_disk_section){ .id = (uint32_t)i, .off = pos,
		                                     .len = sec[i].len,
		                                     .xxh3 = XXH3_64bits_digest(&xs) };
		pos += padded;
	}
	h.file_size = pos;
	h.build_ms = m->build_ms + (uint32_t)(sx_mono_ms() - t0);
	{
		uint8_t page[SX_SNAP_HDR] = {0};
		memcpy(page, &h, sizeof(h));
		h.header_xxh3 = XXH3_64bits(page, sizeof(page));
	}

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	sx_stage *o;
	if ((rc = sx_stage_open(tmp, &o))) {
		if (rc == -ENOMEM)
			snprintf(why, cap, "out of memory for the write buffer");
		else
			snprintf(why, cap, "cannot create %s: %s", tmp, strerror(-rc));
		goto out;
	}
	{
		uint8_t page[SX_SNAP_HDR] = {0};
		memcpy(page, &h, sizeof(h));
		sx_stage_put(o, page, sizeof(page));
	}
	for (int i = 0; i < SX_NSECTIONS; i++) {
		uint64_t padded = (sec[i].len + SX_SNAP_ALIGN - 1) & ~(uint64_t)(SX_SNAP_ALIGN - 1);
		sx_stage_put(o, sec[i].p, sec[i].len);
		sx_stage_put(o, NULL, padded - sec[i].len);
	}
	if ((rc = sx_stage_close(o))) {
		snprintf(why, cap, "cannot write %s: %s", tmp, strerror(-rc));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(why, cap, "cannot rename %s to %s: %s", tmp, path,
		         strerror(errno));
		unlink(tmp);
		goto out;
	}
	/* make the rename durable (best effort: either file is whole) */
	(void)sx_wio_fsync_dir(path);
	st->file_bytes = pos;
	st->index_bytes = sec[SX_SEC_PILOTS].len + sec[SX_SEC_REMAP].len +
	                  sec[SX_SEC_FP].len;
	st->ids = im.ids;
	st->keys = im.n_keys;
	st->records = w->nrecs;
	st->write_ms = (uint32_t)(sx_mono_ms() - t0) - st->index_ms;
out:
	image_free(&im);
	return rc;
}
