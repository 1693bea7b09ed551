/*
 * snapwrite.c - build the index and write a snapshot (layout in
 * snapfmt.h).
 *
 * Every record gives one (key, record) posting for its own ID, and a USCC
 * a second one for its embedded organisation code.  Postings are hashed
 * and radix-sorted by hash (LSD, four 16-bit passes: linear and stable, so
 * the postings of one key stay in list order).  Runs of equal hash are the
 * slots; the perfect hash is built over them; then slots are emitted in
 * slot order, which fixes key numbers, the postings section and each
 * record's own key number in one pass.
 *
 * Interning (strings, folded case numbers) uses a small open-addressing
 * table of offsets into a growing pool, keyed by XXH3.
 */
#include "snapwrite.h"
#include "mphf.h"
#include "snapfmt.h"
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
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
	if (in->len + 2 + len >= UINT32_MAX - 1 ||
	    grow((void **)&in->pool, &in->cap, in->len + 2 + len, 1))
		return UINT32_MAX;
	uint32_t off = (uint32_t)in->len;
	uint16_t l = (uint16_t)len;
	memcpy(in->pool + off, &l, 2);
	memcpy(in->pool + off + 2, s, len);
	in->len += 2 + len;
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

struct sx_snapw {
	struct intern strings;     /* the strings section */
	struct intern cases;       /* folded case numbers, for identity */
	uint32_t *case_ids;        /* [case id] = offset in the cases pool */
	size_t case_ids_cap;
	uint64_t ncourts;
	struct intern courts;      /* court spellings, for counting only */
	sx_snapw_rec *recs;
	size_t nrecs, recs_cap;
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
	intern_free(&w->cases);
	intern_free(&w->courts);
	free(w->case_ids);
	free(w->recs);
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

size_t sx_case_fold(const char *s, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		const char *rep = s[i] == '(' ? "\xef\xbc\x88" :
		                  s[i] == ')' ? "\xef\xbc\x89" : NULL;
		if (rep) {
			for (int k = 0; k < 3; k++, o++)
				if (o < cap)
					out[o] = rep[k];
		} else {
			if (o < cap)
				out[o] = s[i];
			o++;
		}
	}
	return o;
}

/* Case ids number folded spellings in order of first sight.  The pool
 * only grows, so pool offsets rise with ids: case_ids[id] is the offset,
 * and an offset's id is found by binary search. */
static uint32_t case_lookup(sx_snapw *w, const char *case_no, size_t len,
                            int add)
{
	char buf[1024];
	size_t fl = sx_case_fold(case_no, len, buf, sizeof(buf) - 4);
	if (fl > sizeof(buf) - 4)
		return UINT32_MAX;
	int added;
	uint32_t off = intern_get(&w->cases, buf, fl, add, &added);
	if (off == UINT32_MAX)
		return UINT32_MAX;
	if (added) {
		size_t id = w->cases.count - 1;
		if (grow((void **)&w->case_ids, &w->case_ids_cap, id + 1,
		         sizeof(uint32_t)))
			return UINT32_MAX;
		w->case_ids[id] = off;
		return (uint32_t)id;
	}
	size_t lo = 0, hi = w->cases.count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (w->case_ids[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (uint32_t)lo;
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
	if (grow((void **)&w->recs, &w->recs_cap, w->nrecs + 1, sizeof(*r)))
		return -ENOMEM;
	w->recs[w->nrecs++] = *r;
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
	/* about one case and 30 bytes of case spelling per record */
	if (grow((void **)&w->recs, &w->recs_cap, nrecs, sizeof(*w->recs)) ||
	    grow((void **)&w->strings.pool, &w->strings.cap, nrecs * 32, 1) ||
	    grow((void **)&w->cases.pool, &w->cases.cap, nrecs * 32, 1) ||
	    (w->strings.tabsize < 2 * nrecs && intern_rehash(&w->strings, 2 * nrecs)) ||
	    (w->cases.tabsize < 2 * nrecs && intern_rehash(&w->cases, 2 * nrecs)))
		return -ENOMEM;
	return 0;
}

/* ---- index building ------------------------------------------------------ */

struct posting {
	sx_key key;
	uint32_t rec;
};

struct hi { uint64_t h; uint32_t i; uint32_t pad; };

/* Stable LSD radix sort of a[0..n) by h, 16 bits a pass; tmp is scratch
 * and cnt 65536 counters.  Four passes: the result ends up back in a. */
static void radix_sort(struct hi *a, struct hi *tmp, uint32_t *cnt, size_t n)
{
	for (int pass = 0; pass < 4; pass++) {
		int sh = pass * 16;
		memset(cnt, 0, 65536 * sizeof(*cnt));
		for (size_t i = 0; i < n; i++)
			cnt[(a[i].h >> sh) & 0xffff]++;
		uint32_t sum = 0;
		for (int b = 0; b < 65536; b++) {
			uint32_t c = cnt[b];
			cnt[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(a[i].h >> sh) & 0xffff]++] = a[i];
		struct hi *t = a;
		a = tmp;
		tmp = t;
	}
}

static int cmp_hi_key(const void *x, const void *y, void *arg)
{
	const struct hi *a = x, *b = y;
	const struct posting *p = arg;
	int c = sx_key_cmp(&p[a->i].key, &p[b->i].key);
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
	struct sx_disk_key *keys;
	uint32_t *post;
	struct sx_disk_rec *recs;
	struct sx_disk_permit *permits;
	uint8_t *bitmaps;
	size_t bitmaps_len;
	uint64_t ids;
};

static void image_free(struct image *im)
{
	sx_mphf_free(&im->mphf);
	free(im->fp);
	free(im->keys);
	free(im->post);
	free(im->recs);
	free(im->permits);
	free(im->bitmaps);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Emit one key (its postings are hi[start..start+n)) as key number kn. */
static void emit_key(struct image *im, const struct posting *p,
                     const struct hi *hi, uint32_t start, uint32_t n,
                     uint32_t kn, uint32_t *npost)
{
	const sx_key *k = &p[hi[start].i].key;
	im->keys[kn] = (struct sx_disk_key){ .lo = k->lo, .hi = k->hi,
	                                     .post = *npost, .npost = n };
	for (uint32_t j = 0; j < n; j++) {
		uint32_t rec = p[hi[start + j].i].rec;
		im->post[(*npost)++] = rec;
		if (sx_key_kind(k) != SX_KK_EMB)
			im->recs[rec].id_key = kn;
	}
	if (n > im->max_npost)
		im->max_npost = n;
	if (sx_key_kind(k) != SX_KK_EMB)
		im->ids++;
}

static int build_index(sx_snapw *w, int threads, struct image *im,
                       sx_snapw_stats *st, char *why, size_t cap)
{
	size_t np = 0;
	struct posting *p = NULL;
	struct hi *hi = NULL, *tmp = NULL;
	uint32_t *cnt = NULL;
	uint64_t *uh = NULL;
	uint32_t *gstart = NULL, *inv = NULL;
	struct okey *ok = NULL;     /* keys sharing a hash: rare */
	size_t nok = 0, okcap = 0;
	int rc = -ENOMEM;

	for (size_t i = 0; i < w->nrecs; i++)
		np += 1 + w->recs[i].has_emb;
	if (np >= UINT32_MAX / 2) {
		snprintf(why, cap, "too many keys (%zu)", np);
		return SX_EFULL;
	}
	p = malloc((np + 1) * sizeof(*p));
	hi = malloc((np + 1) * sizeof(*hi));
	tmp = malloc((np + 1) * sizeof(*tmp));
	uh = malloc((np + 1) * sizeof(*uh));
	gstart = malloc((np + 2) * sizeof(*gstart));
	cnt = malloc(65536 * sizeof(*cnt));
	im->post = malloc((np + 1) * sizeof(uint32_t));
	if (!p || !hi || !tmp || !uh || !gstart || !cnt || !im->post)
		goto fail;
	np = 0;
	for (size_t i = 0; i < w->nrecs; i++) {
		p[np++] = (struct posting){ w->recs[i].key, (uint32_t)i };
		if (w->recs[i].has_emb)
			p[np++] = (struct posting){ w->recs[i].emb, (uint32_t)i };
	}

	uint32_t ng = 0;
	for (uint32_t attempt = 0;; attempt++) {
		if (attempt == 8) {
			snprintf(why, cap, "the perfect hash could not be built "
			         "with 8 seeds");
			rc = SX_EBUILD;
			goto fail;
		}
		im->seed = 0x5eed5eedull * (attempt + 1) ^ 0x9e3779b97f4a7c15ull;
		for (size_t i = 0; i < np; i++)
			hi[i] = (struct hi){ sx_key_hash(&p[i].key, im->seed),
			                     (uint32_t)i, 0 };
		radix_sort(hi, tmp, cnt, np);
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

	/* slot -> group */
	inv = malloc(((size_t)ng + 1) * sizeof(uint32_t));
	im->fp = malloc(((size_t)ng + 1) * sizeof(uint32_t));
	im->keys = malloc((np + 1) * sizeof(struct sx_disk_key));
	im->recs = calloc(w->nrecs + 1, sizeof(struct sx_disk_rec));
	rc = -ENOMEM;
	if (!inv || !im->fp || !im->keys || !im->recs)
		goto fail;
	for (uint32_t g = 0; g < ng; g++)
		inv[sx_mphf_slot(&im->mphf.f, uh[g])] = g;

	uint32_t npost = 0;
	for (uint32_t slot = 0; slot < ng; slot++) {
		uint32_t g = inv[slot], a = gstart[g], b = gstart[g + 1];
		im->fp[slot] = sx_fp(uh[g]);
		/* usually one key; equal hashes of different keys are rare */
		int mixed = 0;
		for (uint32_t j = a + 1; j < b; j++)
			if (!sx_key_eq(&p[hi[j].i].key, &p[hi[a].i].key))
				mixed = 1;
		if (mixed)
			qsort_r(hi + a, b - a, sizeof(*hi), cmp_hi_key, p);
		uint32_t e = a + 1;
		while (e < b && sx_key_eq(&p[hi[e].i].key, &p[hi[a].i].key))
			e++;
		emit_key(im, p, hi, a, e - a, slot, &npost);
		if (e < b)
			im->keys[slot].npost |= SX_KEY_MORE;
		while (e < b) {     /* the other keys of this hash: overflow */
			uint32_t s = e++;
			while (e < b && sx_key_eq(&p[hi[e].i].key, &p[hi[s].i].key))
				e++;
			if (grow((void **)&ok, &okcap, nok + 1, sizeof(*ok))) {
				rc = -ENOMEM;
				goto fail;
			}
			ok[nok++] = (struct okey){ p[hi[s].i].key, s, e - s };
		}
	}
	if (nok)
		qsort(ok, nok, sizeof(*ok), cmp_okey);
	for (size_t i = 0; i < nok; i++)
		emit_key(im, p, hi, ok[i].start, ok[i].n, ng + (uint32_t)i, &npost);
	im->n_slots = ng;
	im->n_keys = ng + (uint32_t)nok;
	im->n_postings = npost;
	rc = 0;
fail:
	free(p);
	free(hi);
	free(tmp);
	free(uh);
	free(gstart);
	free(cnt);
	free(inv);
	free(ok);
	return rc;
}

/* Records, permits and bitmaps once key numbers are known. */
static int build_tables(sx_snapw *w, struct image *im, uint64_t *per_code,
                        uint64_t *per_status)
{
	for (size_t i = 0; i < w->nrecs; i++) {
		const sx_snapw_rec *r = &w->recs[i];
		struct sx_disk_rec *d = &im->recs[i];
		d->case_off = r->case_off;
		d->court_off = r->court_off;
		d->case_id = r->case_id;
		d->listed_on = r->listed_on;
		d->expires_on = r->expires_on;
		d->codes = r->codes;
		d->role_list = (uint8_t)(r->role | r->list << 4);
		d->status_type = (uint8_t)(r->status | r->id_type << 4);
		per_status[r->status]++;
		for (int c = 0; c < SX_NCODES; c++)
			if (r->codes & (1u << c))
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

	roaring_bitmap_t *bm[SX_NBITMAPS];
	for (int i = 0; i < SX_NBITMAPS; i++)
		bm[i] = roaring_bitmap_create();
	for (uint32_t k = 0; k < im->n_keys; k++) {
		uint16_t codes = 0;
		int live = 0;
		const struct sx_disk_key *e = &im->keys[k];
		for (uint32_t j = 0; j < (e->npost & SX_KEY_NMASK); j++) {
			const struct sx_disk_rec *r = &im->recs[im->post[e->post + j]];
			int stt = r->status_type & 15;
			if (stt == SX_ST_ACTIVE || stt == SX_ST_SUSPENDED) {
				live = 1;
				codes |= r->codes;
			}
		}
		if (live)
			roaring_bitmap_add(bm[SX_BM_LIVE], k);
		for (int c = 0; c < SX_NCODES; c++)
			if (codes & (1u << c))
				roaring_bitmap_add(bm[SX_BM_CODE(c)], k);
	}
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
	if (!im->bitmaps) {
		for (int i = 0; i < SX_NBITMAPS; i++)
			roaring_bitmap_free(bm[i]);
		return -ENOMEM;
	}
	memset(im->bitmaps, 0, len);
	uint32_t nbm = SX_NBITMAPS;
	memcpy(im->bitmaps, &nbm, 4);
	for (int i = 0; i < SX_NBITMAPS; i++) {
		memcpy(im->bitmaps + 8 + 16 * i, &offs[i], 8);
		memcpy(im->bitmaps + 16 + 16 * i, &lens[i], 8);
		roaring_bitmap_frozen_serialize(bm[i], (char *)im->bitmaps + offs[i]);
		roaring_bitmap_free(bm[i]);
	}
	im->bitmaps_len = len;
	return 0;
}

/* ---- the file ------------------------------------------------------------ */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sx_snapw_write(sx_snapw *w, const sx_snapw_meta *m, const char *path,
                   sx_snapw_stats *st, char *why, size_t cap)
{
	struct image im = {0};
	struct sx_disk_header h;
	sx_snapw_stats dummy;
	char tmp[4096];
	int rc, fd = -1;
	uint64_t t0 = now_ms();

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	memset(&h, 0, sizeof(h));
	if ((rc = build_index(w, m->threads, &im, st, why, cap)))
		goto out;
	if ((rc = build_tables(w, &im, h.per_code, h.per_status))) {
		snprintf(why, cap, "out of memory building tables");
		goto out;
	}
	st->index_ms = (uint32_t)(now_ms() - t0);

	struct { const void *p; uint64_t len; } sec[SX_NSECTIONS] = {
		[SX_SEC_PILOTS]   = { im.mphf.pilot, sx_mphf_npilots(&im.mphf.f) },
		[SX_SEC_REMAP]    = { im.mphf.remap, sx_mphf_nremap(&im.mphf.f) * 4 },
		[SX_SEC_FP]       = { im.fp, (uint64_t)im.n_slots * 4 },
		[SX_SEC_KEYS]     = { im.keys, (uint64_t)im.n_keys * sizeof(*im.keys) },
		[SX_SEC_POSTINGS] = { im.post, (uint64_t)im.n_postings * 4 },
		[SX_SEC_RECORDS]  = { im.recs, (uint64_t)w->nrecs * sizeof(*im.recs) },
		[SX_SEC_STRINGS]  = { w->strings.pool, w->strings.len },
		[SX_SEC_PERMITS]  = { im.permits, (uint64_t)w->npermits * sizeof(*im.permits) },
		[SX_SEC_RULES]    = { NULL, sizeof(struct sx_disk_rules) },
		[SX_SEC_BITMAPS]  = { im.bitmaps, im.bitmaps_len },
	};
	struct sx_disk_rules rules = {
		.rail = { m->rules.rail[0], m->rules.rail[1], m->rules.rail[2] },
		.ship = m->rules.ship, .hotel = m->rules.hotel };
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
	h.n_cases = (uint32_t)w->cases.count;
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
	h.build_ms = m->build_ms + (uint32_t)(now_ms() - t0);
	{
		uint8_t page[SX_SNAP_HDR] = {0};
		memcpy(page, &h, sizeof(h));
		h.header_xxh3 = XXH3_64bits(page, sizeof(page));
	}

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, cap, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	{
		uint8_t page[SX_SNAP_HDR] = {0};
		memcpy(page, &h, sizeof(h));
		rc = write_all(fd, page, sizeof(page));
	}
	for (int i = 0; i < SX_NSECTIONS && !rc; i++) {
		uint64_t padded = (sec[i].len + SX_SNAP_ALIGN - 1) & ~(uint64_t)(SX_SNAP_ALIGN - 1);
		if (sec[i].len)
			rc = write_all(fd, sec[i].p, sec[i].len);
		if (!rc && padded > sec[i].len)
			rc = write_all(fd, zeros, padded - sec[i].len);
	}
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	fd = -1;
	if (rc) {
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
	{   /* make the rename durable */
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s", path);
		int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	st->file_bytes = pos;
	st->index_bytes = sec[SX_SEC_PILOTS].len + sec[SX_SEC_REMAP].len +
	                  sec[SX_SEC_FP].len;
	st->ids = im.ids;
	st->keys = im.n_keys;
	st->records = w->nrecs;
	st->write_ms = (uint32_t)(now_ms() - t0) - st->index_ms;
out:
	image_free(&im);
	return rc;
}
