/*
 * mphf.h - a minimal perfect hash function over 64-bit hashes, in the
 * style of PTHash/PtrHash: keys are split into buckets of about LAMBDA
 * keys; each bucket gets an 8-bit pilot such that its keys land, after
 * mixing the hash with the pilot, on slots no other key took.  Slots are
 * drawn from [0, nprime) with nprime = n / ALPHA a little above n; the
 * few keys that land at or above n are sent to the free slots below n
 * through a small remap table.
 *
 * Querying costs one hash mix, one byte read from the pilot array (about
 * n/3 bytes: mostly cache resident) and, rarely, one remap read.  Pilots
 * take 8 bits per bucket: about 2.7 bits a key.
 *
 * As in PtrHash, the hash's high bits first pick a part of about 2^17
 * keys; the part's buckets only use the part's own slots.  The build then
 * works part by part inside the cache (and parts are built by several
 * threads), and a lookup costs the same.
 *
 * Building places large buckets first and, when no pilot fits, takes the
 * pilot whose collisions are cheapest and evicts the buckets in the way
 * (PtrHash's displacement), so 8-bit pilots suffice.
 *
 * The function is over hashes, not keys: the caller hashes keys (with a
 * seed it stores) and passes distinct hashes.  A non-member hash maps to
 * some slot in [0, n): the caller must confirm hits.
 */
#ifndef SX_MPHF_H
#define SX_MPHF_H

#include <stdint.h>
#include <stddef.h>

typedef struct sx_mphf {
	uint32_t n;          /* keys, and slots [0, n) */
	uint32_t nparts;
	uint32_t part_buckets;    /* buckets of a part */
	uint32_t part_slots;      /* slots of a part */
	const uint8_t *pilot;     /* [nparts * part_buckets] */
	const uint32_t *remap;    /* [nparts * part_slots - n] */
} sx_mphf;

#define SX_MPHF_C1 0x517cc1b727220a95ull
#define SX_MPHF_C2 0x9e3779b97f4a7c15ull

/* Part of h, and h's bucket inside it: the high 32 bits scaled by nparts
 * give the part, the fraction left over scaled by part_buckets the bucket
 * (two multiply-shift range reductions on the same bits). */
static inline uint32_t sx_mphf_part(uint64_t h, uint32_t nparts)
{
	return (uint32_t)(((h >> 32) * (uint64_t)nparts) >> 32);
}
static inline uint32_t sx_mphf_local_bucket(uint64_t h, uint32_t nparts,
                                            uint32_t part_buckets)
{
	uint32_t frac = (uint32_t)((h >> 32) * (uint64_t)nparts);
	return (uint32_t)(((uint64_t)frac * part_buckets) >> 32);
}

/* Slot inside a part of part_slots slots for hash h under pilot p. */
static inline uint32_t sx_mphf_local_slot(uint64_t h, uint8_t p,
                                          uint32_t part_slots)
{
	uint64_t x = (h ^ ((uint64_t)p * SX_MPHF_C1)) * SX_MPHF_C2;
	return (uint32_t)(((x >> 32) * (uint64_t)part_slots) >> 32);
}

static inline uint32_t sx_mphf_bucket(const sx_mphf *m, uint64_t h)
{
	uint32_t part = sx_mphf_part(h, m->nparts);
	return part * m->part_buckets +
	       sx_mphf_local_bucket(h, m->nparts, m->part_buckets);
}

/* The slot of h in [0, n). */
static inline uint32_t sx_mphf_slot(const sx_mphf *m, uint64_t h)
{
	uint32_t part = sx_mphf_part(h, m->nparts);
	uint32_t b = part * m->part_buckets +
	             sx_mphf_local_bucket(h, m->nparts, m->part_buckets);
	uint32_t s = part * m->part_slots +
	             sx_mphf_local_slot(h, m->pilot[b], m->part_slots);
	if (__builtin_expect(s >= m->n, 0))
		s = m->remap[s - m->n];
	return s;
}

/* Prefetch what sx_mphf_slot(m, h) will read. */
static inline void sx_mphf_prefetch(const sx_mphf *m, uint64_t h)
{
	__builtin_prefetch(&m->pilot[sx_mphf_bucket(m, h)]);
}

/* A built function owning its arrays. */
typedef struct sx_mphf_owned {
	sx_mphf f;
	uint8_t *pilot;
	uint32_t *remap;
	uint64_t evictions;  /* build statistics */
} sx_mphf_owned;

/*
 * Build over n distinct hashes with up to `threads` threads.  Returns 0,
 * -ENOMEM, SX_EBUILD when no placement was found (the caller re-hashes
 * with another seed), or SX_EINVAL for equal hashes.  Free with
 * sx_mphf_free().
 */
int sx_mphf_build(const uint64_t *hashes, uint32_t n, int threads,
                  sx_mphf_owned *out);
void sx_mphf_free(sx_mphf_owned *m);

/* Array sizes of the function for n keys. */
static inline uint64_t sx_mphf_npilots(const sx_mphf *m)
{
	return (uint64_t)m->nparts * m->part_buckets;
}
static inline uint64_t sx_mphf_nremap(const sx_mphf *m)
{
	return (uint64_t)m->nparts * m->part_slots - m->n;
}

#endif
