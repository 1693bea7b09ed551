/*
 * snapshot.h - the read side of a snapshot file: map it, verify every byte
 * of it, and read records out of it.
 *
 * A snapshot is one file written by sxgate-build (see snapwrite.h and
 * docs/SNAPSHOT.md for the byte layout).  Opening it maps it read-only,
 * checks magic, version and the CRoaring version, checks the XXH3 checksum
 * of the header and of every section (sections tile the file, so every byte
 * is covered), and then walks the structures so that no offset read later
 * can point outside the map.  Only then is a handle returned: a damaged
 * file never serves.
 *
 * The handle is immutable and may be shared by any number of threads.
 * Pointers handed out (strings of records, the info block) stay valid until
 * sx_snap_close().
 */
#ifndef SX_SNAPSHOT_H
#define SX_SNAPSHOT_H

#include <stdint.h>
#include <stddef.h>
#include "sx.h"
#include "id.h"

typedef struct sx_snap sx_snap;

#define SX_AS_OF_NONE INT64_MIN

typedef struct sx_snap_info {
	uint32_t version;          /* format version */
	char roaring[16];          /* CRoaring version that wrote the bitmaps */
	int64_t as_of;             /* unix seconds, or SX_AS_OF_NONE */
	int64_t built_at;          /* unix seconds */
	uint32_t build_ms;         /* how long the build took */
	uint64_t file_bytes;
	uint64_t index_bytes;      /* pilots + remap + fingerprints: the hot part */
	uint64_t rows_read, rows_loaded, rows_rejected, rows_warned;
	uint64_t revoked, shielded, duplicates;
	uint64_t records;          /* distinct records */
	uint64_t ids;              /* distinct own keys (IDs) */
	uint64_t keys;             /* index keys (IDs + embedded org codes) */
	uint64_t permits, cases, courts;
	uint64_t per_code[SX_NCODES];   /* records restricting each code */
	uint64_t per_status[SX_NSTATUSES];
	char source[256];          /* input file name given to the build */
} sx_snap_info;

/* A record as stored.  Records are numbered in list order (the order of
 * their rows), so "in the order of the list" is "by record number".
 * Strings are not NUL-terminated; they point into the map. */
typedef struct sx_recview {
	const char *case_no; uint32_t case_len;   /* as spelled in its row */
	const char *court;   uint32_t court_len;
	uint32_t case_id;          /* same case after bracket folding */
	uint32_t id_key;           /* key number of the record's own ID */
	uint16_t listed_on, expires_on;   /* days; expires SX_DAY_NONE */
	sx_codes codes;            /* restriction codes, the related-persons
	                              rule applied */
	uint8_t role, list, status, id_type;
} sx_recview;

/*
 * Map and verify the snapshot at path.  Returns 0 and *out, or a negative
 * code (-errno, SX_EBADMAGIC, SX_EVERSION, SX_ECORRUPT, SX_ETRUNC,
 * SX_EROARING) with a sentence in why[0..whycap) naming what is wrong and
 * where (section, offset, record).  Free with sx_snap_close().
 */
int sx_snap_open(const char *path, sx_snap **out, char *why, size_t whycap);
void sx_snap_close(sx_snap *s);

const sx_snap_info *sx_snap_get_info(const sx_snap *s);

/* The rule table stored in the snapshot (the type is rules.h's), valid
 * while s is open. */
typedef struct sx_rules sx_rules;
const sx_rules *sx_snap_rules(const sx_snap *s);

/* Record number rec (< info->records) into *v. */
void sx_snap_record(const sx_snap *s, uint32_t rec, sx_recview *v);

/* Look a key up.  Returns the key number, or -1.  A hit is confirmed
 * against the stored key: a hash collision never answers. */
int64_t sx_snap_find(const sx_snap *s, const sx_key *k);

/* Batched lookup: hash all n keys, prefetch their slots, then resolve.
 * out[i] = key number or -1.  Same answers as n calls to sx_snap_find.
 * Returns how many were found (a caller can skip work for misses). */
size_t sx_snap_find_batch(const sx_snap *s, const sx_key *keys, size_t n,
                          int64_t *out);

/* The key number's key, and the numbers of its records (ascending). */
const sx_key *sx_snap_key(const sx_snap *s, uint32_t keyno);
const uint32_t *sx_snap_key_records(const sx_snap *s, uint32_t keyno,
                                    uint32_t *n);

/* Largest number of records any one query can gather (two keys). */
uint32_t sx_snap_max_query_records(const sx_snap *s);

#endif
