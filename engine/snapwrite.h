/*
 * snapwrite.h - writing a snapshot: collect records and permits, then
 * build the index and write the file atomically.
 *
 * The writer owns everything it is given: strings are interned into the
 * strings section as they arrive (one copy per distinct spelling, and a
 * case's spelling once per case), cases are numbered by their
 * bracket-folded spelling.  sx_snapw_write() hashes
 * every key, builds the perfect hash (re-seeding on the rare failure),
 * lays out the sections of snapfmt.h, and writes PATH.tmp.PID, fsyncs it
 * and renames it over PATH, so an existing snapshot is replaced whole or
 * not at all.
 */
#ifndef SX_SNAPWRITE_H
#define SX_SNAPWRITE_H

#include <stdint.h>
#include <stddef.h>
#include "casefold.h"   /* sx_case_fold, sx_case_hash, SX_CASE_FOLD_MAX */
#include "decide.h"
#include "id.h"

typedef struct sx_snapw sx_snapw;

/* A record.  A USCC is indexed under its own key and its EMB key, which
 * the writer derives (sx_key_uscc_emb). */
typedef struct sx_snapw_rec {
	sx_key key;            /* the ID's own key (sx_id.key[0]) */
	uint8_t role, list, status, id_type;
	uint32_t case_off, court_off;  /* from sx_snapw_string */
	uint32_t case_id;              /* from sx_snapw_case */
	uint16_t listed_on, expires_on;
	sx_codes codes;                /* as sx_listrow_parse leaves them */
} sx_snapw_rec;

typedef struct sx_snapw_permit {
	sx_key key;
	uint32_t case_id;      /* sx_snapw_case_find(); UINT32_MAX: not listed */
	uint32_t case_off, ref_off;
	uint16_t valid_from, valid_to;
	sx_codes codes;
} sx_snapw_permit;

typedef struct sx_snapw_meta {
	int64_t as_of;         /* SX_AS_OF_NONE when not given */
	uint64_t rows_read, rows_loaded, rows_rejected, rows_warned, duplicates;
	const char *source;
	sx_rules rules;
	int threads;           /* for the perfect-hash build */
	uint32_t build_ms;     /* time spent before the write (parsing) */
} sx_snapw_meta;

typedef struct sx_snapw_stats {
	uint64_t file_bytes, index_bytes;
	uint64_t ids, keys, records;
	uint32_t seeds_tried;
	uint64_t evictions;
	uint32_t index_ms, write_ms;
} sx_snapw_stats;

/* Returns NULL when out of memory. */
sx_snapw *sx_snapw_new(void);
void sx_snapw_free(sx_snapw *w);

/* Intern s; returns its offset in the strings section, or UINT32_MAX when
 * out of memory or the section would pass 4 GiB.  len <= 65535. */
uint32_t sx_snapw_string(sx_snapw *w, const char *s, size_t len);
/* The same, for a court name: also counts distinct courts. */
uint32_t sx_snapw_court(sx_snapw *w, const char *s, size_t len);
/* The case id of a case number (brackets folded), adding it when new;
 * UINT32_MAX when out of memory. */
uint32_t sx_snapw_case(sx_snapw *w, const char *case_no, size_t len);
/* The case id of a known case number, or UINT32_MAX. */
uint32_t sx_snapw_case_find(sx_snapw *w, const char *case_no, size_t len);

/* The two above in the form a bulk loader wants.  fold/fold_len is the
 * folded spelling (sx_case_fold, at most SX_CASE_FOLD_MAX bytes) and h its
 * sx_case_hash(), computed by the caller so that another thread can do it
 * and sx_snapw_case_prefetch() can fetch the table slot ahead of the call.
 * Returns the case id, adding the case when new and add is set; else, or
 * when out of memory, UINT32_MAX.  When off is not NULL, *off is the
 * offset in the strings section of this spelling (the case's first
 * spelling when equal: one copy per case, not per record). */
void sx_snapw_case_prefetch(const sx_snapw *w, uint64_t h);
uint32_t sx_snapw_case_add(sx_snapw *w, const char *spelled, size_t len,
                           const char *fold, size_t fold_len, uint64_t h,
                           int add, uint32_t *off);

/* Add a record (record numbers follow the calls: list order) or a permit.
 * Returns 0, -ENOMEM or SX_EFULL (more than 2^31 records). */
int sx_snapw_add_record(sx_snapw *w, const sx_snapw_rec *r);
int sx_snapw_add_permit(sx_snapw *w, const sx_snapw_permit *p);
uint64_t sx_snapw_nrecords(const sx_snapw *w);

/* The codes the records added so far carry, per case: out[i] is the union
 * of the codes of every record (any status) of case_ids[i], 0 for a case
 * with none (or UINT32_MAX).  One pass over the records, for the loader's
 * check of permits.  Returns 0 or -ENOMEM. */
int sx_snapw_case_codes(const sx_snapw *w, const uint32_t *case_ids, size_t n,
                        sx_codes *out);

/* Add r unless it repeats a record added before this way: the same own
 * key, case id and role (a list row given twice).  h is
 * sx_snapw_rec_hash() of those three, computed by the caller so that
 * sx_snapw_unique_prefetch() can fetch the table slot ahead of the call.
 * Returns 0 (added), 1 (a repeat: not added), -ENOMEM or SX_EFULL.  The
 * check looks only at records added with sx_snapw_add_unique(). */
uint64_t sx_snapw_rec_hash(const sx_key *key, uint32_t case_id, int role);
void sx_snapw_unique_prefetch(const sx_snapw *w, uint64_t h);
int sx_snapw_add_unique(sx_snapw *w, const sx_snapw_rec *r, uint64_t h);
/* Make room for about nrecs records up front (a hint: no limit). */
int sx_snapw_reserve(sx_snapw *w, size_t nrecs);

/* Build and write.  Returns 0, or a negative code with a sentence in why.
 * On failure nothing is left at path (an older file there is untouched).
 * The file (written as PATH.tmp.PID, then renamed) has the process's file
 * mode (wio.h: 0600 unless set), whatever the umask: it holds ID numbers.
 * The writer drops its lookup tables first, to make room for the index:
 * afterwards it can only be freed. */
int sx_snapw_write(sx_snapw *w, const sx_snapw_meta *m, const char *path,
                   sx_snapw_stats *st, char *why, size_t whycap);

#endif
