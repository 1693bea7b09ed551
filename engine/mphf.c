/*
 * mphf.c - building the perfect hash of mphf.h.
 *
 * Hashes are counting-sorted by bucket (parts are runs of buckets), then
 * threads take parts one at a time.  Within a part, buckets are sorted by size (largest first) with a counting sort, and
 * each is placed by trying the 256 pilots in order.  When every pilot
 * collides, the pilot whose colliding buckets have the smallest sum of
 * squared sizes is taken, those buckets are evicted and go back on a stack
 * (PtrHash).  A short ring of recently placed buckets may not be evicted,
 * which breaks two-bucket ping-pong.  The total number of evictions is
 * bounded; past it the build reports SX_EBUILD and the caller re-seeds.
 *
 * The search for a free pilot reads a bit per slot (n/8 bytes: it stays
 * in cache); the owner table (4 bytes a slot) is read only to evict.
 * Memory during the build: 4.1 bytes a slot, 8 bytes a key for hashes
 * sorted by bucket, 4 bytes a bucket for bucket starts.
 */
#include "mphf.h"
#include "sx.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define LAMBDA      3.0     /* keys per bucket */
#define ALPHA       0.95    /* keys per slot drawn, on average */
#define PART_KEYS   131072  /* keys per part: its slots fit in L2 */
#define MAX_BUCKET  64      /* larger buckets are astronomically unlikely */
#define RECENT      16
#define NONE        UINT32_MAX

static void dims(uint32_t n, sx_mphf *m)
{
	uint32_t parts = n / PART_KEYS + 1;
	double per = (double)n / parts;
	m->n = n;
	m->nparts = parts;
	m->part_buckets = (uint32_t)(per / LAMBDA) + 1;
	/* a multiple of 64 so that parts own whole words of the used bitmap */
	m->part_slots = (((uint32_t)(per / ALPHA) + 1) + 63) & ~63u;
}

/* One part being placed: slots and buckets are part-local numbers. */
struct part {
	uint32_t nslots, nbuckets;
	const uint64_t *h;        /* the part's hashes, grouped by bucket */
	const uint32_t *start;    /* [nbuckets + 1] into h, part-relative */
	uint8_t *pilot;           /* [nbuckets], the global array's slice */
	uint32_t *owner;          /* [nslots]: bucket owning a slot, or NONE */
	uint64_t *taken;          /* [nslots bits]: owner != NONE */
	uint32_t recent[RECENT];
	unsigned nrecent;
	uint64_t evictions;
};

static inline uint32_t bsize(const struct part *b, uint32_t bk)
{
	return b->start[bk + 1] - b->start[bk];
}

static inline int is_taken(const struct part *b, uint32_t s)
{
	return (int)(b->taken[s >> 6] >> (s & 63)) & 1;
}

static inline void set_owner(struct part *b, uint32_t s, uint32_t bk)
{
	b->owner[s] = bk;
	if (bk == NONE)
		b->taken[s >> 6] &= ~(1ull << (s & 63));
	else
		b->taken[s >> 6] |= 1ull << (s & 63);
}

/* Slots of bucket bk under pilot p into out; 0 when two keys of the bucket
 * collide with each other. */
static int bucket_slots(const struct part *b, uint32_t bk, uint8_t p,
                        uint32_t *out)
{
	uint32_t k = bsize(b, bk);
	const uint64_t *h = b->h + b->start[bk];
	for (uint32_t i = 0; i < k; i++) {
		uint32_t s = sx_mphf_local_slot(h[i], p, b->nslots);
		for (uint32_t j = 0; j < i; j++)
			if (out[j] == s)
				return 0;
		out[i] = s;
	}
	return 1;
}

static int is_recent(const struct part *b, uint32_t bk)
{
	for (unsigned i = 0; i < RECENT; i++)
		if (b->recent[i] == bk)
			return 1;
	return 0;
}

/* Place bucket bk, evicting onto stack as needed.  Returns the number of
 * buckets evicted, or -1 when no pilot can be used at all. */
static int place(struct part *b, uint32_t bk, uint32_t *stack, uint32_t *sp)
{
	uint32_t slots[MAX_BUCKET], k = bsize(b, bk);
	uint64_t best_score = UINT64_MAX;
	int best = -1;

	/* first pass: a pilot landing only on free slots, from the bitmap */
	for (int p = 0; p < 256; p++) {
		if (!bucket_slots(b, bk, (uint8_t)p, slots))
			continue;
		uint32_t i = 0;
		while (i < k && !is_taken(b, slots[i]))
			i++;
		if (i == k) {
			best = p;
			goto found;
		}
	}
	/* second pass: the cheapest eviction */
	for (int p = 0; p < 256; p++) {
		if (!bucket_slots(b, bk, (uint8_t)p, slots))
			continue;
		uint64_t score = 0;
		for (uint32_t i = 0; i < k && score < best_score; i++) {
			uint32_t o = b->owner[slots[i]];
			if (o == NONE)
				continue;
			if (is_recent(b, o)) {
				score = UINT64_MAX;
				break;
			}
			/* a bucket owning two of our slots is counted twice:
			 * harmless for a heuristic */
			uint64_t sz = bsize(b, o);
			score += sz * sz;
		}
		if (score < best_score) {
			best_score = score;
			best = p;
		}
	}
	if (best < 0)
		return -1;
found:;
	int evicted = 0;
	bucket_slots(b, bk, (uint8_t)best, slots);
	for (uint32_t i = 0; i < k; i++) {
		uint32_t o = b->owner[slots[i]];
		if (o == NONE)
			continue;
		/* free every slot of o and push it back */
		uint32_t os[MAX_BUCKET];
		bucket_slots(b, o, b->pilot[o], os);
		for (uint32_t j = 0; j < bsize(b, o); j++)
			set_owner(b, os[j], NONE);
		stack[(*sp)++] = o;
		evicted++;
	}
	for (uint32_t i = 0; i < k; i++)
		set_owner(b, slots[i], bk);
	b->pilot[bk] = (uint8_t)best;
	b->recent[b->nrecent++ % RECENT] = bk;
	return evicted;
}

/* Place every bucket of a part.  owner, order and stack are scratch of
 * nslots and nbuckets entries.  Returns 0, SX_EBUILD or SX_EINVAL. */
static int build_part(struct part *b, uint32_t *order, uint32_t *stack)
{
	uint32_t bysize[MAX_BUCKET + 2] = {0};
	uint32_t nkeys = b->start[b->nbuckets];

	if (nkeys > b->nslots)
		return SX_EBUILD;
	memset(b->owner, 0xff, (size_t)b->nslots * sizeof(uint32_t));
	memset(b->recent, 0xff, sizeof(b->recent));
	b->nrecent = 0;
	b->evictions = 0;

	for (uint32_t i = 0; i < b->nbuckets; i++) {
		uint32_t k = bsize(b, i);
		const uint64_t *h = b->h + b->start[i];
		if (k > MAX_BUCKET)
			return SX_EBUILD;
		for (uint32_t x = 0; x < k; x++)
			for (uint32_t y = 0; y < x; y++)
				if (h[x] == h[y])
					return SX_EINVAL;
		bysize[MAX_BUCKET - k + 1]++;
	}
	/* buckets by size, largest first (counting sort) */
	for (int sz = 1; sz <= MAX_BUCKET + 1; sz++)
		bysize[sz] += bysize[sz - 1];
	for (uint32_t i = 0; i < b->nbuckets; i++)
		order[bysize[MAX_BUCKET - bsize(b, i)]++] = i;

	uint64_t limit = 20ull * nkeys + 10000;
	for (uint32_t oi = 0; oi < b->nbuckets && bsize(b, order[oi]); oi++) {
		uint32_t sp = 0;
		stack[sp++] = order[oi];
		while (sp) {
			int e = place(b, stack[--sp], stack, &sp);
			if (e < 0 || (b->evictions += (uint64_t)e) > limit)
				return SX_EBUILD;
		}
	}
	return 0;
}

struct job {
	const sx_mphf *m;
	const uint64_t *sorted;
	const uint32_t *start;    /* global bucket starts */
	uint8_t *pilot;
	uint64_t *used;           /* global bitmap of drawn slots */
	atomic_uint next_part;
	atomic_int rc;
	atomic_uint_fast64_t evictions;
};

static void *worker(void *arg)
{
	struct job *j = arg;
	const sx_mphf *m = j->m;
	uint32_t *owner = malloc((size_t)m->part_slots * sizeof(uint32_t));
	uint64_t *taken = malloc((size_t)m->part_slots / 8);
	uint32_t *order = malloc((size_t)m->part_buckets * sizeof(uint32_t));
	uint32_t *stack = malloc((size_t)m->part_buckets * sizeof(uint32_t));
	uint32_t *start = malloc(((size_t)m->part_buckets + 1) * sizeof(uint32_t));

	if (!owner || !taken || !order || !stack || !start) {
		atomic_store(&j->rc, -ENOMEM);
		goto out;
	}
	for (;;) {
		uint32_t p = atomic_fetch_add(&j->next_part, 1);
		if (p >= m->nparts || atomic_load(&j->rc))
			break;
		const uint32_t *gs = j->start + (size_t)p * m->part_buckets;
		for (uint32_t i = 0; i <= m->part_buckets; i++)
			start[i] = gs[i] - gs[0];
		memset(taken, 0, (size_t)m->part_slots / 8);
		struct part b = {
			.nslots = m->part_slots, .nbuckets = m->part_buckets,
			.h = j->sorted + gs[0], .start = start,
			.pilot = j->pilot + (size_t)p * m->part_buckets,
			.owner = owner, .taken = taken,
		};
		int rc = build_part(&b, order, stack);
		if (rc) {
			atomic_store(&j->rc, rc);
			break;
		}
		memcpy(j->used + (size_t)p * (m->part_slots / 64), taken,
		       (size_t)m->part_slots / 8);
		atomic_fetch_add(&j->evictions, b.evictions);
	}
out:
	free(owner);
	free(taken);
	free(order);
	free(stack);
	free(start);
	return NULL;
}

int sx_mphf_build(const uint64_t *hashes, uint32_t n, int threads,
                  sx_mphf_owned *out)
{
	sx_mphf m;
	uint64_t *sorted = NULL, *used = NULL;
	uint32_t *start = NULL, *remap = NULL;
	uint8_t *pilot = NULL;
	int rc = -ENOMEM;

	memset(out, 0, sizeof(*out));
	dims(n, &m);
	uint64_t nb = sx_mphf_npilots(&m), ns = (uint64_t)m.nparts * m.part_slots;
	start = calloc(nb + 1, sizeof(uint32_t));
	pilot = calloc(nb, 1);
	sorted = malloc((n ? n : 1) * sizeof(uint64_t));
	used = calloc(ns / 64 + 1, sizeof(uint64_t));
	remap = malloc((ns - n + 1) * sizeof(uint32_t));
	if (!start || !pilot || !sorted || !used || !remap)
		goto fail;

	/* counting sort of the hashes by global bucket */
	for (uint32_t i = 0; i < n; i++)
		start[sx_mphf_bucket(&m, hashes[i]) + 1]++;
	for (uint64_t i = 0; i < nb; i++)
		start[i + 1] += start[i];
	for (uint32_t i = 0; i < n; i++)
		sorted[start[sx_mphf_bucket(&m, hashes[i])]++] = hashes[i];
	for (uint64_t i = nb; i > 0; i--)    /* the cursors moved: shift back */
		start[i] = start[i - 1];
	start[0] = 0;

	struct job j = { .m = &m, .sorted = sorted, .start = start,
	                 .pilot = pilot, .used = used };
	atomic_init(&j.next_part, 0);
	atomic_init(&j.rc, 0);
	atomic_init(&j.evictions, 0);
	if (threads < 1)
		threads = 1;
	if ((uint32_t)threads > m.nparts)
		threads = (int)m.nparts;
	if (threads > 64)
		threads = 64;
	pthread_t tid[64];
	int started = 0;
	for (int t = 1; t < threads; t++)
		if (pthread_create(&tid[t], NULL, worker, &j) == 0)
			started = t;
		else
			break;
	worker(&j);
	for (int t = 1; t <= started; t++)
		pthread_join(tid[t], NULL);
	rc = atomic_load(&j.rc);
	if (rc)
		goto fail;

	/* send drawn slots >= n to the free slots below n */
	uint32_t fr = 0;
	for (uint64_t s = n; s < ns; s++) {
		remap[s - n] = 0;
		if (!((used[s >> 6] >> (s & 63)) & 1))
			continue;
		while ((used[fr >> 6] >> (fr & 63)) & 1)
			fr++;
		remap[s - n] = fr++;
	}

	m.pilot = pilot;
	m.remap = remap;
	out->f = m;
	out->pilot = pilot;
	out->remap = remap;
	out->evictions = atomic_load(&j.evictions);
	free(start);
	free(sorted);
	free(used);
	return 0;
fail:
	free(start);
	free(pilot);
	free(sorted);
	free(used);
	free(remap);
	return rc;
}

void sx_mphf_free(sx_mphf_owned *m)
{
	free(m->pilot);
	free(m->remap);
	memset(m, 0, sizeof(*m));
}
