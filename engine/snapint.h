/*
 * snapint.h - the snapshot handle's insides, shared by the engine files
 * that read a snapshot (snapshot.c opens and verifies, decide.c decides,
 * ovview.c reads overlays, overlay.c builds them).
 * Nothing outside engine/ includes this.
 */
#ifndef SX_SNAPINT_H
#define SX_SNAPINT_H

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

static inline uint32_t sx_ov_filter_bit(const sx_key *k)
{
	uint64_t x = (k->lo ^ (k->hi * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
	return (uint32_t)(x >> 48);
}

#endif
