/*
 * snapint.h - the snapshot handle's insides, shared by the engine files
 * that read a snapshot (snapshot.c opens and verifies, decide.c decides).
 * Nothing outside engine/ includes this.
 */
#ifndef SX_SNAPINT_H
#define SX_SNAPINT_H

#include <roaring/roaring.h>
#include "decide.h"
#include "mphf.h"
#include "snapfmt.h"
#include "snapshot.h"

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
};

#endif
