/*
 * snapint.h - the snapshot handle's insides, shared by the engine files
 * that read a snapshot (snapshot.c opens and verifies, decide.c decides,
 * ovview.c reads overlays, overlay.c builds them).
 * Nothing outside engine/ includes this.
 */
#ifndef SX_SNAPINT_H
#define SX_SNAPINT_H

#include <stdlib.h>
#include <string.h>
#include <roaring/roaring.h>
#include "decide.h"
#include "mphf.h"
#include "ovview.h"
#include "snapfmt.h"
#include "snapshot.h"

/* A live-added record; strings point into its overlay's arena. */
struct sx_ov_rec {
	sx_key key, emb;
	uint8_t has_emb, role, list, status, id_type;
	uint16_t listed_on, expires_on;
	sx_codes codes;
	const char *case_no, *fold, *court;
	uint32_t case_len, fold_len, court_len;
};

struct sx_ov_permit {
	sx_key key;
	const char *fold, *case_no, *ref;
	uint32_t fold_len, case_len, ref_len;
	uint16_t valid_from, valid_to;
	sx_codes codes;
};

/* A snapshot record's fate: removed, or a new status. */
#define SX_OV_REMOVED 0xff
struct sx_ov_mask { uint32_t rec; uint8_t status; };

/* Keys of the overlay records, sorted, with their record lists. */
struct sx_ov_key { sx_key key; uint32_t first, n; };

struct sx_overlay {
	struct sx_ov_rec *recs;       uint32_t nrecs;
	struct sx_ov_mask *masks;     uint32_t nmasks;    /* by rec */
	struct sx_ov_permit *permits; uint32_t npermits;
	uint32_t *permit_removed;     uint32_t nremoved;  /* snapshot permit
	                                                      numbers, sorted */
	struct sx_ov_key *keys;       uint32_t nkeys;
	uint32_t *post;               /* overlay record numbers per key */
	uint32_t max_per_key;
	uint64_t updates;
	uint64_t filter[1024];        /* 2^16 bits, one per key hash: a miss
	                                 almost never reaches the search */
	char *arena;                  /* every string of the overlay */
};

struct sx_snap {
	const uint8_t *base;                 /* the map */
	size_t size;
	const struct sx_disk_header *hdr;
	uint64_t seed;
	sx_mphf mphf;
	const uint32_t *fp;                  /* [n_slots] */
	const struct sx_disk_key *keys;      /* [n_keys] */
	const uint32_t *post;                /* [n_postings] */
	const struct sx_disk_rec *recs;      /* [n_records] */
	const uint8_t *strings;
	uint64_t strings_len;
	const struct sx_disk_permit *permits;  /* [n_permits], by case_id */
	sx_rules rules;
	const roaring_bitmap_t *bm[SX_NBITMAPS];
	sx_snap_info info;
	/* a derived handle (overlay.h) shares its base's map */
	const sx_overlay *ov;
	const sx_snap *origin;        /* the plain snapshot: self, or the base */
	int derived;
};

/*
 * Filling the bitmaps of snapfmt.h from keys in ascending order (the
 * writer's index, the reader's check of it).  A key sets its bits in
 * plain bitsets of the 65536 keys that make one roaring container (8 KiB
 * a bitmap, 248 KiB in all: cache-resident), and each finished block goes
 * into the roaring bitmaps with one roaring_bitmap_add_many per bitmap,
 * which keeps its place in the bitmap.  A roaring add per key and code
 * would look the container up again up to 31 times a key.  The bitsets
 * are interleaved, word w of every bitmap side by side: a key touches 4
 * cache lines, not 31 lines 8 KiB apart (which share one L1 set).  About
 * 512 KiB, on the heap.
 */
#define SX_BM_BLOCK 65536
struct sx_bmfill {
	roaring_bitmap_t *bm[SX_NBITMAPS];
	uint32_t block;                          /* key >> 16 of the bits */
	int dirty;
	uint64_t bits[SX_BM_BLOCK / 64][SX_NBITMAPS];
	uint32_t vals[SX_BM_BLOCK];
};

/* A fill with empty bitmaps, or NULL when out of memory. */
static inline struct sx_bmfill *sx_bmfill_new(void)
{
	struct sx_bmfill *f = calloc(1, sizeof(*f));
	for (int i = 0; f && i < SX_NBITMAPS; i++)
		if (!(f->bm[i] = roaring_bitmap_create())) {
			for (int j = 0; j < i; j++)
				roaring_bitmap_free(f->bm[j]);
			free(f);
			f = NULL;
		}
	return f;
}

/* Add the block's bits to the bitmaps and clear them. */
static inline void sx_bmfill_flush(struct sx_bmfill *f)
{
	if (!f->dirty)
		return;
	uint32_t base = f->block << 16;
	for (int i = 0; i < SX_NBITMAPS; i++) {
		uint32_t n = 0;
		for (uint32_t w = 0; w < SX_BM_BLOCK / 64; w++)
			for (uint64_t x = f->bits[w][i]; x; x &= x - 1)
				f->vals[n++] = base | w << 6 | (uint32_t)__builtin_ctzll(x);
		if (n)
			roaring_bitmap_add_many(f->bm[i], n, f->vals);
	}
	memset(f->bits, 0, sizeof(f->bits));
	f->dirty = 0;
}

/* Key k (ascending from call to call): live (an active or suspended
 * record), and the codes of those. */
static inline void sx_bmfill_key(struct sx_bmfill *f, uint32_t k, int live,
                                 sx_codes codes)
{
	if (!live)
		return;
	if (k >> 16 != f->block) {
		sx_bmfill_flush(f);
		f->block = k >> 16;
	}
	uint32_t w = (k & (SX_BM_BLOCK - 1)) >> 6;
	uint64_t b = 1ull << (k & 63);
	f->dirty = 1;
	uint64_t *row = f->bits[w];
	row[SX_BM_LIVE] |= b;
	for (; codes; codes &= codes - 1)
		row[SX_BM_CODE(__builtin_ctzll(codes))] |= b;
}

/* Free f and the bitmaps it still holds (NULL ones are skipped). */
static inline void sx_bmfill_free(struct sx_bmfill *f)
{
	for (int i = 0; f && i < SX_NBITMAPS; i++)
		if (f->bm[i])
			roaring_bitmap_free(f->bm[i]);
	free(f);
}

static inline uint32_t sx_ov_filter_bit(const sx_key *k)
{
	uint64_t x = (k->lo ^ (k->hi * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
	return (uint32_t)(x >> 48);
}

#endif
