/*
 * snapfmt.h - the snapshot file's bytes (internal to the engine; the
 * public views are snapshot.h and snapwrite.h).  docs/SNAPSHOT.md has the
 * same layout in prose.
 *
 * Layout: a 4096-byte header, then sections in a fixed order, each
 * starting on a 64-byte boundary.  The sections tile the file: section i
 * ends (payload plus zero padding) exactly where section i+1 starts, and
 * the last one ends at file_size.  Each section's XXH3-64 covers its
 * payload and its padding, and the header's covers the header with the
 * checksum field zeroed, so every byte of the file is under a checksum.
 * All integers are little-endian (the engine refuses to build elsewhere).
 *
 * The index: key k hashes (XXH3-64 of its 16 bytes, with the header's seed)
 * to h; the perfect hash sends h to a slot s < n_slots; fp[s] holds a
 * 32-bit fingerprint of the slot's hash and keys[s] the key itself, so a
 * miss usually stops at fp[] and a hit is confirmed by comparing keys.
 * Keys whose 64-bit hashes are equal share a slot: the first sits in
 * keys[s] with SX_KEY_MORE set, the others follow n_slots in the key
 * table, sorted, and are found by binary search.
 */
#ifndef SX_SNAPFMT_H
#define SX_SNAPFMT_H

#include <assert.h>
#include <stdint.h>
#define XXH_INLINE_ALL      /* the 16-byte key hash is on the hot path */
#include <xxhash.h>
#include "sx.h"
#include "rules.h"
#include "id.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the snapshot format is little-endian; port the reader first"
#endif

#define SX_SNAP_MAGIC   "SXGSNAP\x1a"
/* Version 2 (the joint-punishment measures): 64-bit code masks in
 * records and permits, the effects and classes of the joint channels in
 * the rules section.  A version 1 file is refused (SX_EVERSION) with a
 * word to rebuild it: read as version 2 it would be wrong, and read as
 * itself its SX rows would lack the measures an empty `restrictions` now
 * carries. */
#define SX_SNAP_VERSION 2
#define SX_SNAP_HDR     4096
#define SX_SNAP_ALIGN   64

#define SX_SECTIONS(X)                                             \
	X(SX_SEC_PILOTS,   "pilots")   /* u8 [nparts*part_buckets] */ \
	X(SX_SEC_REMAP,    "remap")    /* u32 [nparts*part_slots - n_slots] */ \
	X(SX_SEC_FP,       "fingerprints") /* u32 [n_slots] */         \
	X(SX_SEC_KEYS,     "keys")     /* sx_disk_key [n_keys] */     \
	X(SX_SEC_POSTINGS, "postings") /* u32 record numbers */        \
	X(SX_SEC_RECORDS,  "records")  /* sx_disk_rec [n_records] */  \
	X(SX_SEC_STRINGS,  "strings")  /* u16 len + bytes, repeated */ \
	X(SX_SEC_PERMITS,  "permits")  /* sx_disk_permit, by case_id */ \
	X(SX_SEC_RULES,    "rules")    /* sx_disk_rules */            \
	X(SX_SEC_BITMAPS,  "bitmaps")  /* directory + frozen roaring */

enum {
#define X(e, name) e,
	SX_SECTIONS(X)
#undef X
	SX_NSECTIONS
};

struct sx_disk_section {
	uint32_t id;
	uint32_t reserved;
	uint64_t off;      /* from the start of the file */
	uint64_t len;      /* payload bytes; padding follows up to the next */
	uint64_t xxh3;     /* over [off, next section's off) */
};

struct sx_disk_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;          /* SX_SNAP_HDR */
	uint64_t file_size;
	uint64_t header_xxh3;          /* over the header, this field zero */
	char roaring[16];              /* CRoaring version, NUL-padded */
	int64_t as_of;                 /* unix seconds or INT64_MIN */
	int64_t built_at;
	uint64_t seed;                 /* key hash seed */
	uint32_t build_ms;
	uint32_t nsections;
	/* index */
	uint32_t n_slots, n_keys;
	uint32_t nparts, part_buckets, part_slots;
	uint32_t n_records, n_postings, n_permits;
	uint32_t n_cases, n_courts;
	uint32_t max_query_records;
	uint32_t n_bitmaps;
	/* the build's account */
	uint64_t rows_read, rows_loaded, rows_rejected, rows_warned;
	uint64_t revoked, shielded, duplicates, ids;
	uint64_t per_code[64];         /* records carrying each code */
	uint64_t per_status[4];
	char source[256];
	struct sx_disk_section sec[16];
};
static_assert(sizeof(struct sx_disk_header) <= SX_SNAP_HDR, "header fits");

#define SX_KEY_MORE  0x80000000u   /* npost flag: more keys share the hash */
#define SX_KEY_NMASK 0x7fffffffu

struct sx_disk_key {
	uint64_t lo, hi;       /* sx_key */
	uint32_t post;         /* first posting */
	uint32_t npost;        /* postings, | SX_KEY_MORE */
};
static_assert(sizeof(struct sx_disk_key) == 24, "key entry is 24 bytes");

/* 32 bytes: a record never straddles a cache line. */
struct sx_disk_rec {
	uint32_t case_off;     /* strings: the case number as spelled */
	uint32_t court_off;    /* strings */
	uint32_t case_id;      /* < n_cases: equal after bracket folding */
	uint32_t id_key;       /* < n_keys: the record's own ID */
	uint16_t listed_on, expires_on;   /* days; SX_DAY_NONE */
	uint8_t role_list;     /* role | list << 4 */
	uint8_t status_type;   /* status | id_type << 4 */
	uint16_t reserved;     /* 0 */
	uint64_t codes;        /* sx_codes, the related-persons rule applied */
};
static_assert(sizeof(struct sx_disk_rec) == 32, "record is 32 bytes");

struct sx_disk_permit {
	uint64_t lo, hi;       /* own key of the permit's ID */
	uint32_t case_id;      /* UINT32_MAX: its case is not on the list */
	uint32_t case_off;     /* strings */
	uint32_t ref_off;      /* strings */
	uint16_t valid_from, valid_to;
	uint64_t codes;        /* sx_codes */
};
static_assert(sizeof(struct sx_disk_permit) == 40, "permit is 40 bytes");

/* The rule table (rules.h sx_rules), fixed size: effect[] per code (64
 * entries, those past SX_NCODES zero), then every class slot, unused ones
 * zero.  sx_rules_check() is the reader's test of it. */
struct sx_disk_class {
	char name[22];         /* NUL-padded */
	uint8_t chan, effect;
};
struct sx_disk_rules {
	uint16_t rail[3];
	uint8_t ship, hotel;
	uint8_t effect[64];
	uint16_t nclasses;
	uint16_t reserved[3];  /* 0 */
	struct sx_disk_class cls[SX_RULES_MAX_CLASSES];
};
static_assert(sizeof(struct sx_disk_class) == sizeof(sx_rule_class),
              "a class on disk is a class in memory");
static_assert(sizeof(struct sx_disk_rules) == 80 + 24 * SX_RULES_MAX_CLASSES,
              "rules section layout");

/* Bitmaps section: u32 count, u32 0, then count x {u64 off, u64 len}
 * (offsets from the section start, 32-byte aligned), then the frozen
 * bitmaps.  Bitmap 0: keys with an active or suspended record; bitmap
 * 1 + c: keys with an active or suspended record restricting code c. */
#define SX_BM_LIVE 0
#define SX_BM_CODE(c) (1 + (c))
#define SX_NBITMAPS (1 + SX_NCODES)

static inline uint64_t sx_key_hash(const sx_key *k, uint64_t seed)
{
	return XXH3_64bits_withSeed(k, sizeof(*k), seed);
}

/* Fingerprint of a hash: bits the slot choice does not see (a bijective
 * mix, so keys sharing a hash share a fingerprint). */
static inline uint32_t sx_fp(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h;
}

#endif
