/*
 * snapshot.c - open, verify and read a snapshot (layout in snapfmt.h).
 *
 * Verification happens once, at open, in three layers: (1) the header:
 * magic, version, CRoaring version, checksum, sizes; (2) the sections:
 * they tile the file and each checksum matches; (3) structure: every
 * offset a lookup can follow (postings, record string offsets, key
 * numbers, remap targets, bitmap bounds) is checked against its array.
 * After that the read path trusts the map and does no bounds checks of
 * its own: that is what makes it short.
 *
 * The first failure is reported with the section and the position, e.g.
 * "section records: record 12: court offset 9000 is outside strings".
 */
#include "snapshot.h"
#include "decide.h"
#include "mphf.h"
#include "ovview.h"
#include "snapfmt.h"
#include "snapint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <roaring/roaring.h>
#include <roaring/roaring_version.h>

static const char *const sec_names[] = {
#define X(e, name) name,
	SX_SECTIONS(X)
#undef X
};

/* The string at off: 1 when it lies inside the strings section. */
static int string_ok(const sx_snap *s, uint32_t off)
{
	if ((uint64_t)off + 2 > s->strings_len)
		return 0;
	uint16_t len;
	memcpy(&len, s->strings + off, 2);
	return (uint64_t)off + 2 + len <= s->strings_len;
}

static int check_header(sx_snap *s, char *why, size_t cap)
{
	const struct sx_disk_header *h = s->hdr;
	char vers[16];

	if (s->size < 16 || memcmp(h->magic, SX_SNAP_MAGIC, 8) != 0)
		return sx_fail(why, cap, SX_EBADMAGIC,
		               "not an sxgate snapshot: bad magic at offset 0");
	if (h->version == 1)
		return sx_fail(why, cap, SX_EVERSION,
		               "snapshot format version 1 predates the joint-punishment "
		               "measures (this program reads version %u): rebuild it "
		               "with sxgate-build from the list export", SX_SNAP_VERSION);
	if (h->version != SX_SNAP_VERSION)
		return sx_fail(why, cap, SX_EVERSION,
		               "snapshot format version %u, this program reads %u",
		               h->version, SX_SNAP_VERSION);
	if (s->size < SX_SNAP_HDR)
		return sx_fail(why, cap, SX_ETRUNC,
		               "snapshot is truncated: %zu bytes, the header alone is %d",
		               s->size, SX_SNAP_HDR);
	struct sx_disk_header copy;
	memcpy(&copy, h, sizeof(copy));
	copy.header_xxh3 = 0;
	XXH3_state_t st;
	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, &copy, sizeof(copy));
	XXH3_64bits_update(&st, (const char *)h + sizeof(copy),
	                   SX_SNAP_HDR - sizeof(copy));
	if (XXH3_64bits_digest(&st) != h->header_xxh3)
		return sx_fail(why, cap, SX_ECORRUPT,
		               "snapshot header is damaged (checksum mismatch)");
	if (h->file_size != s->size)
		return sx_fail(why, cap, h->file_size > s->size ? SX_ETRUNC : SX_ECORRUPT,
		               "snapshot is %zu bytes but its header says %llu%s",
		               s->size, (unsigned long long)h->file_size,
		               h->file_size > s->size ? " (truncated)" : "");
	snprintf(vers, sizeof(vers), "%d.%d.%d", ROARING_VERSION_MAJOR,
	         ROARING_VERSION_MINOR, ROARING_VERSION_REVISION);
	if (strncmp(h->roaring, vers, sizeof(h->roaring)) != 0)
		return sx_fail(why, cap, SX_EROARING,
		               "snapshot bitmaps were written by CRoaring %.16s, this "
		               "program has %s: rebuild the snapshot", h->roaring, vers);
	if (h->nsections != SX_NSECTIONS)
		return sx_fail(why, cap, SX_ECORRUPT,
		               "snapshot has %u sections, expected %d",
		               h->nsections, SX_NSECTIONS);
	return 0;
}

static int check_sections(sx_snap *s, char *why, size_t cap)
{
	const struct sx_disk_header *h = s->hdr;
	uint64_t pos = SX_SNAP_HDR;

	for (int i = 0; i < SX_NSECTIONS; i++) {
		const struct sx_disk_section *sec = &h->sec[i];
		uint64_t end = i + 1 < SX_NSECTIONS ? h->sec[i + 1].off : s->size;
		if (sec->id != (uint32_t)i || sec->off != pos || end < sec->off ||
		    sec->len > end - sec->off || end > s->size ||
		    sec->off % SX_SNAP_ALIGN)
			return sx_fail(why, cap, SX_ECORRUPT,
			               "section %s: bad placement (offset %llu, length %llu)",
			               sec_names[i], (unsigned long long)sec->off,
			               (unsigned long long)sec->len);
		if (XXH3_64bits(s->base + sec->off, end - sec->off) != sec->xxh3)
			return sx_fail(why, cap, SX_ECORRUPT,
			               "section %s is damaged (checksum mismatch over "
			               "bytes %llu..%llu)", sec_names[i],
			               (unsigned long long)sec->off,
			               (unsigned long long)end);
		pos = end;
	}
	return 0;
}

static const void *sec_ptr(const sx_snap *s, int id, uint64_t *len)
{
	*len = s->hdr->sec[id].len;
	return s->base + s->hdr->sec[id].off;
}

#define EXPECT_LEN(id, want)                                                  \
	do {                                                                  \
		uint64_t l_;                                                  \
		(void)sec_ptr(s, id, &l_);                                    \
		if (l_ != (uint64_t)(want))                                   \
			return sx_fail(why, cap, SX_ECORRUPT,                    \
			               "section %s: %llu bytes, expected %llu",  \
			               sec_names[id], (unsigned long long)l_,    \
			               (unsigned long long)(want));              \
	} while (0)

/* The bitmaps must say what the records say: rebuild them from the
 * records (in key order, so every add is an append) and compare.  A
 * bitmap that lied would skip records, and skipping a record can let a
 * listed person through. */
static int check_bitmaps(sx_snap *s, char *why, size_t cap)
{
	uint32_t nrec = s->hdr->n_records;
	int rc = 0;

	/* what each record adds to its keys' bitmaps: the top bit live, low
	 * bits its codes.  The keys read it at random, so it is a dense array,
	 * in the narrowest word that holds it (adds_t): 4 bytes a record, not
	 * the 32 of the records or the 8 of sx_codes, while the catalogue has
	 * fewer than 32 codes; 8 bytes after, by itself. */
	typedef __typeof__(_Generic((char (*)[SX_NCODES < 32 ? 1 : 2])0,
	                            char (*)[1]: (uint32_t)0,
	                            default: (uint64_t)0)) adds_t;
	const adds_t live = (adds_t)1 << (sizeof(adds_t) * 8 - 1);
	adds_t *adds = malloc(((size_t)nrec + 1) * sizeof(*adds));
	if (!adds)
		return sx_fail(why, cap, -ENOMEM, "out of memory checking bitmaps");
	for (uint32_t i = 0; i < nrec; i++) {
		int st = s->recs[i].status_type & 15;
		adds[i] = st == SX_ST_ACTIVE || st == SX_ST_SUSPENDED ?
		          live | (adds_t)s->recs[i].codes : 0;
	}
	struct sx_bmfill *want = sx_bmfill_new();
	if (!want) {
		free(adds);
		return sx_fail(why, cap, -ENOMEM, "out of memory checking bitmaps");
	}
	for (uint32_t k = 0; k < s->hdr->n_keys; k++) {
		const struct sx_disk_key *e = &s->keys[k];
		adds_t acc = 0;
		if ((k & 63) == 0)     /* the reads below are random: overlap them */
			for (uint32_t x = k; x < k + 64 && x < s->hdr->n_keys; x++)
				__builtin_prefetch(&adds[s->post[s->keys[x].post]]);
		for (uint32_t j = 0; j < (e->npost & SX_KEY_NMASK); j++)
			acc |= adds[s->post[e->post + j]];
		if (acc)
			sx_bmfill_key(want, k, 1, acc & ~live);
	}
	free(adds);
	sx_bmfill_flush(want);
	for (int i = 0; i < SX_NBITMAPS && !rc; i++)
		if (!roaring_bitmap_equals(want->bm[i], s->bm[i]))
			rc = sx_fail(why, cap, SX_ECORRUPT, "section bitmaps: bitmap %d "
			             "disagrees with the records", i);
	sx_bmfill_free(want);
	return rc;
}

static int check_structure(sx_snap *s, char *why, size_t cap)
{
	const struct sx_disk_header *h = s->hdr;
	uint64_t len;

	if (h->nparts == 0 || h->part_buckets == 0 || h->part_slots == 0 ||
	    (uint64_t)h->nparts * h->part_slots < h->n_slots ||
	    (uint64_t)h->nparts * h->part_slots > UINT32_MAX ||
	    h->n_keys < h->n_slots)
		return sx_fail(why, cap, SX_ECORRUPT, "index dimensions are inconsistent");
	uint64_t nremap = (uint64_t)h->nparts * h->part_slots - h->n_slots;
	EXPECT_LEN(SX_SEC_PILOTS, (uint64_t)h->nparts * h->part_buckets);
	EXPECT_LEN(SX_SEC_REMAP, nremap * 4);
	EXPECT_LEN(SX_SEC_FP, (uint64_t)h->n_slots * 4);
	EXPECT_LEN(SX_SEC_KEYS, (uint64_t)h->n_keys * sizeof(struct sx_disk_key));
	EXPECT_LEN(SX_SEC_POSTINGS, (uint64_t)h->n_postings * 4);
	EXPECT_LEN(SX_SEC_RECORDS, (uint64_t)h->n_records * sizeof(struct sx_disk_rec));
	EXPECT_LEN(SX_SEC_PERMITS, (uint64_t)h->n_permits * sizeof(struct sx_disk_permit));
	EXPECT_LEN(SX_SEC_RULES, sizeof(struct sx_disk_rules));

	s->mphf = (sx_mphf){ .n = h->n_slots, .nparts = h->nparts,
	                     .part_buckets = h->part_buckets,
	                     .part_slots = h->part_slots };
	s->mphf.pilot = sec_ptr(s, SX_SEC_PILOTS, &len);
	s->mphf.remap = sec_ptr(s, SX_SEC_REMAP, &len);
	s->fp = sec_ptr(s, SX_SEC_FP, &len);
	s->keys = sec_ptr(s, SX_SEC_KEYS, &len);
	s->post = sec_ptr(s, SX_SEC_POSTINGS, &len);
	s->recs = sec_ptr(s, SX_SEC_RECORDS, &len);
	s->strings = sec_ptr(s, SX_SEC_STRINGS, &s->strings_len);
	s->permits = sec_ptr(s, SX_SEC_PERMITS, &len);
	s->seed = h->seed;

	for (uint64_t i = 0; i < nremap; i++)
		if (s->mphf.remap[i] >= h->n_slots && h->n_slots)
			return sx_fail(why, cap, SX_ECORRUPT,
			               "section remap: entry %llu points outside the index",
			               (unsigned long long)i);
	uint32_t max_npost = 0;
	for (uint32_t i = 0; i < h->n_keys; i++) {
		const struct sx_disk_key *k = &s->keys[i];
		uint32_t n = k->npost & SX_KEY_NMASK;
		if (n > max_npost)
			max_npost = n;
		if ((uint64_t)k->post + n > h->n_postings || n == 0)
			return sx_fail(why, cap, SX_ECORRUPT,
			               "section keys: key %u has postings %u+%u outside "
			               "the %u postings", i, k->post, n, h->n_postings);
		if (i > h->n_slots &&
		    sx_key_cmp((const sx_key *)&s->keys[i - 1], (const sx_key *)k) >= 0)
			return sx_fail(why, cap, SX_ECORRUPT,
			               "section keys: overflow key %u is out of order", i);
	}
	/* callers size their record buffers by it: exactly what the writer
	 * writes, neither less (an overrun) nor more (a huge allocation) */
	if ((uint64_t)h->max_query_records < 2ull * max_npost ||
	    (uint64_t)h->max_query_records > 2ull * max_npost + 1)
		return sx_fail(why, cap, SX_ECORRUPT,
		               "header: max_query_records %u does not fit the "
		               "longest posting list (%u)", h->max_query_records,
		               max_npost);
	for (uint32_t i = 0; i < h->n_postings; i++)
		if (s->post[i] >= h->n_records)
			return sx_fail(why, cap, SX_ECORRUPT,
			               "section postings: entry %u names record %u of %u",
			               i, s->post[i], h->n_records);
	/* a key's records ascend: replies name each record once, in list
	 * order */
	for (uint32_t i = 0; i < h->n_keys; i++) {
		const uint32_t *p = s->post + s->keys[i].post;
		for (uint32_t j = 1; j < (s->keys[i].npost & SX_KEY_NMASK); j++)
			if (p[j] <= p[j - 1])
				return sx_fail(why, cap, SX_ECORRUPT,
				               "section postings: the records of key %u are "
				               "not in ascending order", i);
	}
	for (uint32_t i = 0; i < h->n_records; i++) {
		const struct sx_disk_rec *r = &s->recs[i];
		const char *bad = NULL;
		if (!string_ok(s, r->case_off))
			bad = "case number offset is outside strings";
		else if (!string_ok(s, r->court_off))
			bad = "court offset is outside strings";
		else if (r->case_id >= h->n_cases)
			bad = "case id is out of range";
		else if (r->id_key >= h->n_keys)
			bad = "key number is out of range";
		else if ((r->role_list & 15) >= SX_NROLES ||
		         (r->role_list >> 4) >= SX_NLISTS ||
		         (r->status_type & 15) >= SX_NSTATUSES ||
		         (r->status_type >> 4) >= SX_NIDTYPES)
			bad = "role, list, status or ID type is out of range";
		else if (r->codes & ~SX_CODES_ALL || r->reserved)
			bad = "unknown restriction code bits";
		else if ((r->role_list >> 4) == SX_LIST_XG && (r->codes & ~SX_CODES_CONS))
			bad = "an XG record carries a joint-punishment code";
		else if ((r->role_list & 15) != SX_ROLE_DEBTOR &&
		         (r->codes & ~SX_CODES_RELATED))
			bad = "a related person's record carries a code only a "
			      "debtor carries";
		if (bad)
			return sx_fail(why, cap, SX_ECORRUPT,
			               "section records: record %u: %s", i, bad);
	}
	for (uint32_t i = 0; i < h->n_permits; i++) {
		const struct sx_disk_permit *p = &s->permits[i];
		if (!string_ok(s, p->case_off) || !string_ok(s, p->ref_off) ||
		    !p->codes || (p->codes & ~SX_CODES_ALL) ||
		    (p->case_id >= h->n_cases && p->case_id != UINT32_MAX) ||
		    (i && p->case_id < s->permits[i - 1].case_id))
			return sx_fail(why, cap, SX_ECORRUPT,
			               "section permits: permit %u is malformed", i);
	}
	const struct sx_disk_rules *ru = sec_ptr(s, SX_SEC_RULES, &len);
	char rwhy[200];
	memset(&s->rules, 0, sizeof(s->rules));
	memcpy(s->rules.rail, ru->rail, sizeof(ru->rail));
	s->rules.ship = ru->ship;
	s->rules.hotel = ru->hotel;
	memcpy(s->rules.effect, ru->effect, sizeof(s->rules.effect));
	s->rules.nclasses = ru->nclasses;
	memcpy(s->rules.cls, ru->cls, sizeof(s->rules.cls));
	for (int c = SX_NCODES; c < 64; c++)
		if (ru->effect[c])
			return sx_fail(why, cap, SX_ECORRUPT, "section rules: an effect "
			               "for code %d, which this program does not know", c);
	if (ru->reserved[0] || ru->reserved[1] || ru->reserved[2] ||
	    sx_rules_check(&s->rules, rwhy, sizeof(rwhy)))
		return sx_fail(why, cap, SX_ECORRUPT, "section rules: %s",
		               ru->reserved[0] || ru->reserved[1] || ru->reserved[2] ?
		               "reserved bytes are not zero" : rwhy);

	/* bitmaps: directory, then frozen views */
	const uint8_t *bm = sec_ptr(s, SX_SEC_BITMAPS, &len);
	uint32_t nbm;
	if (len < 8 || (memcpy(&nbm, bm, 4), nbm != SX_NBITMAPS) ||
	    8 + (uint64_t)nbm * 16 > len)
		return sx_fail(why, cap, SX_ECORRUPT,
		               "section bitmaps: bad directory");
	for (uint32_t i = 0; i < nbm; i++) {
		uint64_t off, blen;
		memcpy(&off, bm + 8 + 16 * i, 8);
		memcpy(&blen, bm + 16 + 16 * i, 8);
		if (off > len || blen > len - off ||
		    ((uintptr_t)(bm + off) & 31))
			return sx_fail(why, cap, SX_ECORRUPT,
			               "section bitmaps: bitmap %u is out of bounds", i);
		s->bm[i] = roaring_bitmap_frozen_view((const char *)bm + off, blen);
		if (!s->bm[i])
			return sx_fail(why, cap, SX_ECORRUPT,
			               "section bitmaps: bitmap %u does not parse", i);
	}
	return check_bitmaps(s, why, cap);
}

static void fill_info(sx_snap *s)
{
	const struct sx_disk_header *h = s->hdr;
	sx_snap_info *in = &s->info;

	memset(in, 0, sizeof(*in));
	in->version = h->version;
	memcpy(in->roaring, h->roaring, sizeof(in->roaring));
	in->roaring[sizeof(in->roaring) - 1] = 0;
	in->as_of = h->as_of;
	in->built_at = h->built_at;
	in->build_ms = h->build_ms;
	in->file_bytes = h->file_size;
	in->index_bytes = h->sec[SX_SEC_PILOTS].len + h->sec[SX_SEC_REMAP].len +
	                  h->sec[SX_SEC_FP].len;
	in->rows_read = h->rows_read;
	in->rows_loaded = h->rows_loaded;
	in->rows_rejected = h->rows_rejected;
	in->rows_warned = h->rows_warned;
	in->revoked = h->revoked;
	in->shielded = h->shielded;
	in->duplicates = h->duplicates;
	in->records = h->n_records;
	in->ids = h->ids;
	in->keys = h->n_keys;
	in->permits = h->n_permits;
	in->cases = h->n_cases;
	in->courts = h->n_courts;
	for (int c = 0; c < SX_NCODES; c++)
		in->per_code[c] = h->per_code[c];
	for (int i = 0; i < SX_NSTATUSES; i++)
		in->per_status[i] = h->per_status[i];
	memcpy(in->source, h->source, sizeof(in->source));
	in->source[sizeof(in->source) - 1] = 0;
}

/* What a file that is not a regular one is, for the error message. */
static const char *file_kind(mode_t m)
{
	return S_ISDIR(m) ? "is a directory" : S_ISFIFO(m) ? "is a FIFO" :
	       S_ISCHR(m) ? "is a character device" : S_ISBLK(m) ? "is a block device" :
	       S_ISSOCK(m) ? "is a socket" : "is not a regular file";
}

int sx_snap_open(const char *path, sx_snap **out, char *why, size_t cap)
{
	struct stat st;
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer
	 * (forever, on the job thread); it is refused just below anyway.  It
	 * changes nothing for a regular file, which is all we map. */
	int rc, fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	sx_snap *s;

	*out = NULL;
	if (fd < 0)
		return sx_fail(why, cap, -errno, "cannot open snapshot %s: %s",
		               path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return sx_fail(why, cap, rc, "cannot stat snapshot %s: %s", path,
		               strerror(-rc));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return sx_fail(why, cap, SX_EINVAL, "%s: %s, not a regular file; a snapshot "
		               "is a file written by sxgate-build", path, file_kind(st.st_mode));
	}
	if (st.st_size < (off_t)SX_SNAP_HDR) {
		close(fd);
		return sx_fail(why, cap, SX_ETRUNC,
		               "%s: snapshot is truncated (%lld bytes, too small for "
		               "its %u-byte header)", path, (long long)st.st_size,
		               (unsigned)SX_SNAP_HDR);
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return sx_fail(why, cap, -ENOMEM, "out of memory");
	}
	s->size = (size_t)st.st_size;
	s->base = mmap(NULL, s->size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	close(fd);
	if (s->base == MAP_FAILED) {
		rc = -errno;
		free(s);
		return sx_fail(why, cap, rc, "cannot map snapshot %s: %s", path,
		               strerror(-rc));
	}
	s->hdr = (const struct sx_disk_header *)s->base;

	char inner[400];
	if ((rc = check_header(s, inner, sizeof(inner))) ||
	    (rc = check_sections(s, inner, sizeof(inner))) ||
	    (rc = check_structure(s, inner, sizeof(inner)))) {
		sx_fail(why, cap, rc, "%s: %s", path, inner);
		sx_snap_close(s);
		return rc;
	}
	fill_info(s);
	s->origin = s;
	*out = s;
	return 0;
}

void sx_snap_close(sx_snap *s)
{
	if (!s)
		return;
	if (s->derived) {
		sx_overlay_free((sx_overlay *)s->ov);
		free(s);
		return;
	}
	for (int i = 0; i < SX_NBITMAPS; i++)
		if (s->bm[i])
			roaring_bitmap_free(s->bm[i]);
	if (s->base && s->base != MAP_FAILED)
		munmap((void *)s->base, s->size);
	free(s);
}

const sx_snap_info *sx_snap_get_info(const sx_snap *s) { return &s->info; }
const sx_rules *sx_snap_rules(const sx_snap *s) { return &s->rules; }

uint32_t sx_snap_max_query_records(const sx_snap *s)
{
	return s->hdr->max_query_records + (s->ov ? 2 * s->ov->max_per_key : 0);
}

void sx_snap_record(const sx_snap *s, uint32_t rec, sx_recview *v)
{
	if (rec >= s->hdr->n_records) {
		sx_ov_record(s->ov, rec - s->hdr->n_records, v);
		return;
	}
	const struct sx_disk_rec *r = &s->recs[rec];
	uint16_t len;

	memcpy(&len, s->strings + r->case_off, 2);
	v->case_no = (const char *)s->strings + r->case_off + 2;
	v->case_len = len;
	memcpy(&len, s->strings + r->court_off, 2);
	v->court = (const char *)s->strings + r->court_off + 2;
	v->court_len = len;
	v->case_id = r->case_id;
	v->id_key = r->id_key;
	v->listed_on = r->listed_on;
	v->expires_on = r->expires_on;
	v->codes = r->codes;
	v->role = r->role_list & 15;
	v->list = r->role_list >> 4;
	v->status = r->status_type & 15;
	v->id_type = r->status_type >> 4;
	if (s->ov)
		v->status = (uint8_t)sx_ov_status(s->ov, rec, v->status);
}

/* Keys past the slots share a hash with a slot's key: binary search. */
SX_COLD static int64_t find_overflow(const sx_snap *s, const sx_key *k)
{
	uint32_t lo = s->hdr->n_slots, hi = s->hdr->n_keys;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = sx_key_cmp((const sx_key *)&s->keys[mid], k);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The key at slot, whose fingerprint matched: k's number, or -1. */
static inline int64_t resolve_key(const sx_snap *s, const sx_key *k, uint32_t slot)
{
	const struct sx_disk_key *e = &s->keys[slot];
	if (e->lo == k->lo && e->hi == k->hi)
		return slot;
	if (sx_unlikely(e->npost & SX_KEY_MORE))
		return find_overflow(s, k);
	return -1;
}

static inline int64_t resolve(const sx_snap *s, const sx_key *k, uint64_t h,
                              uint32_t slot)
{
	if (s->fp[slot] != sx_fp(h))
		return -1;
	return resolve_key(s, k, slot);
}

int64_t sx_snap_find(const sx_snap *s, const sx_key *k)
{
	if (sx_unlikely(s->hdr->n_slots == 0))
		return -1;
	uint64_t h = sx_key_hash(k, s->seed);
	return resolve(s, k, h, sx_mphf_slot(&s->mphf, h));
}

#define BATCH 32

size_t sx_snap_find_batch(const sx_snap *s, const sx_key *keys, size_t n,
                          int64_t *out)
{
	size_t found = 0;
	uint64_t h[BATCH];
	uint32_t slot[BATCH];
	uint8_t match[BATCH];

	if (sx_unlikely(s->hdr->n_slots == 0)) {
		for (size_t i = 0; i < n; i++)
			out[i] = -1;
		return 0;
	}
	for (size_t base = 0; base < n; base += BATCH) {
		size_t m = n - base < BATCH ? n - base : BATCH;
		for (size_t i = 0; i < m; i++) {
			h[i] = sx_key_hash(&keys[base + i], s->seed);
			sx_mphf_prefetch(&s->mphf, h[i]);
		}
		for (size_t i = 0; i < m; i++) {
			slot[i] = sx_mphf_slot(&s->mphf, h[i]);
			__builtin_prefetch(&s->fp[slot[i]]);
		}
		/* a fingerprint that matches is most likely a hit: its key
		 * entry is fetched for all of them before any is compared;
		 * a miss ends here */
		for (size_t i = 0; i < m; i++) {
			match[i] = s->fp[slot[i]] == sx_fp(h[i]);
			if (match[i])
				__builtin_prefetch(&s->keys[slot[i]]);
		}
		for (size_t i = 0; i < m; i++) {
			out[base + i] = match[i] ? resolve_key(s, &keys[base + i], slot[i]) : -1;
			found += out[base + i] >= 0;
		}
	}
	return found;
}

const sx_key *sx_snap_key(const sx_snap *s, uint32_t keyno)
{
	return (const sx_key *)&s->keys[keyno];
}

const uint32_t *sx_snap_key_records(const sx_snap *s, uint32_t keyno,
                                    uint32_t *n)
{
	*n = s->keys[keyno].npost & SX_KEY_NMASK;
	return s->post + s->keys[keyno].post;
}
