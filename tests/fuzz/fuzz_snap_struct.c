/*
 * fuzz_snap_struct.c - libFuzzer target: the structural checks of
 * sx_snap_open, behind the checksums.
 *
 * A small valid snapshot is built once at startup with sx_build from a
 * CSV that has every ID type, every status, a 15-digit RIC, a check-digit
 * typo, one ID in several cases, a USCC and the ORG it embeds, and
 * permits (one for a case not on the list).  Each input is a list of
 * 5-byte mutations applied to a copy of it:
 *
 *   byte 0  op: bits 0..2 the kind (below); bit 7: the offset is taken
 *           modulo the header struct (so most hit a count or a section
 *           entry) instead of modulo the file
 *   1..3    offset, 24 bits little-endian
 *   4       v
 *   kinds:  0 set byte = v; 1 xor byte with v (0 means 1); 2 add (int8)v to
 *           the u32 at offset; 3 the same to the u64; 4 resize the file by
 *           (int8)v * 64 bytes (zeros appended; at least the header);
 *           5 set the u32 to v; 6 set the u32 to 0xffffffff - v;
 *           7 set the u16 to v * 257
 *
 * Then the file is re-signed as sxgate-build would sign it: file_size is
 * the new size, every section whose placement is sane gets the XXH3 of its
 * bytes up to the next section (or the end), and the header gets the XXH3
 * of its 4096-byte page with header_xxh3 zeroed (snapfmt.h).  So what is
 * exercised is the structure check, not the checksums.
 *
 * When sx_snap_open accepts the result, the file is served as a server
 * would: every record read and formatted, every key's records walked and
 * the key looked up, and decisions on every key (with the second key a
 * real query adds: a USCC's ORG, an ORG's EMB), on every channel and three
 * days, with sx_decide, sx_decide_batch and sx_listed.  The record
 * buffer is exactly sx_snap_max_query_records() entries on the heap, as
 * decide.h says is enough, so an overrun is an ASan report.  Any crash
 * there is a structural check that is missing.
 */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "decide.h"
#include "snapfmt.h"
#include "snapshot.h"

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_snap_struct: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                           \
	} while (0)

#include "fuzz_snapshot.h"

/* ---- mutating and re-signing ------------------------------------------- */

#define GROW_MAX (64u * 1024)

static uint8_t *orig, *work;
static size_t orig_len, work_cap;
static int memfd = -1;
static char path[64];

static void add_le(uint8_t *p, int bytes, int64_t delta)
{
	uint64_t v = 0;
	memcpy(&v, p, (size_t)bytes);
	v += (uint64_t)delta;
	memcpy(p, &v, (size_t)bytes);
}

static size_t mutate(const uint8_t *m, size_t len)
{
	const size_t hdr_struct = sizeof(struct sx_disk_header);
	size_t size = orig_len;

	memcpy(work, orig, orig_len);
	for (size_t i = 0; i + 5 <= len; i += 5) {
		unsigned op = m[i];
		size_t off = (size_t)m[i + 1] | (size_t)m[i + 2] << 8 | (size_t)m[i + 3] << 16;
		uint8_t v = m[i + 4];
		off %= (op & 0x80) ? hdr_struct : size;
		switch (op & 7) {
		case 0: work[off] = v; break;
		case 1: work[off] ^= v ? v : 1; break;
		case 2: if (off + 4 <= size) add_le(work + off, 4, (int8_t)v); break;
		case 3: if (off + 8 <= size) add_le(work + off, 8, (int8_t)v); break;
		case 4: {
			int64_t ns = (int64_t)size + (int8_t)v * 64;
			if (ns < SX_SNAP_HDR)
				ns = SX_SNAP_HDR;
			if ((size_t)ns > work_cap)
				ns = (int64_t)work_cap;
			if ((size_t)ns > size)
				memset(work + size, 0, (size_t)ns - size);
			size = (size_t)ns;
			break;
		}
		case 5: if (off + 4 <= size) { uint32_t x = v; memcpy(work + off, &x, 4); } break;
		case 6: if (off + 4 <= size) { uint32_t x = 0xffffffffu - v; memcpy(work + off, &x, 4); } break;
		case 7: if (off + 2 <= size) { uint16_t x = (uint16_t)(v * 257u); memcpy(work + off, &x, 2); } break;
		}
	}

	/* Re-sign, as the writer would. */
	struct sx_disk_header h;
	memcpy(&h, work, sizeof h);
#ifdef SX_FUZZ_KNOWN
	/* F3 (docs/RELIABILITY.md): the reader does not check this field;
	 * keep it as written so the fuzzer looks elsewhere. */
	h.max_query_records = ((const struct sx_disk_header *)orig)->max_query_records;
#endif
	h.file_size = size;
	uint32_t ns = h.nsections < 16 ? h.nsections : 16;
	for (uint32_t i = 0; i < ns; i++) {
		uint64_t start = h.sec[i].off;
		uint64_t end = i + 1 < ns ? h.sec[i + 1].off : size;
		if (start <= end && end <= size)
			h.sec[i].xxh3 = XXH3_64bits(work + start, (size_t)(end - start));
	}
	h.header_xxh3 = 0;
	memcpy(work, &h, sizeof h);
	XXH3_state_t st;
	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, work, SX_SNAP_HDR);
	h.header_xxh3 = XXH3_64bits_digest(&st);
	memcpy(work, &h, sizeof h);
	return size;
}

/* ---- serving what opened --------------------------------------------------- */

static const uint16_t days[3] = { 20463, 20100, 19500 };  /* 2026-01-10 ... */

/* A query class for channel c: seat or star (k & 1) for rail, ship and
 * hotel; the k-th class (wrapping) of a joint channel with classes under
 * s's rule table; none for the others. */
static uint16_t class_of(const sx_snap *s, int c, unsigned k)
{
	if (c == SX_C_RAIL || c == SX_C_SHIP || c == SX_C_HOTEL)
		return (uint16_t)(k & 1);
	if (!(SX_CODES_CLASSED >> c & 1))
		return SX_CLASS_NONE;
	const sx_rules *r = sx_snap_rules(s);
	unsigned n = 0;
	for (int i = 0; i < r->nclasses; i++)
		n += r->cls[i].chan == c;
	if (!n)
		return SX_CLASS_NONE;
	for (int i = 0, j = 0; i < r->nclasses; i++)
		if (r->cls[i].chan == c && (unsigned)j++ == k % n)
			return (uint16_t)i;
	return SX_CLASS_NONE;
}

static void decide_all(const sx_snap *s, sx_query *qs, size_t n, uint32_t max)
{
	/* exactly the documented room, on the heap: an overrun is a report
	 * (serve() has made sure max is not absurdly large) */
	uint32_t *recs = malloc(((size_t)max ? max : 1) * sizeof *recs);
	uint32_t *brecs = malloc(((size_t)max ? max : 1) * sizeof *brecs);
	sx_decision d, bd;
	CHECK(recs && brecs, "out of memory");
	for (size_t i = 0; i < n; i++) {
		sx_decide(s, &qs[i], &d, recs);
		CHECK(d.nrec <= max, "%u records, max %u", d.nrec, max);
		CHECK(sx_reason_names_records(d.reason) == (d.nrec > 0),
		      "DENY or REVIEW iff records");
		for (uint32_t j = 1; j < d.nrec; j++)
			CHECK(d.rec[j - 1] < d.rec[j], "records in list order, once each");
		for (uint32_t j = 0; j < d.nrec; j++) {
			char buf[600];
			sx_record_format(s, d.rec[j], buf, sizeof buf);
		}
		CHECK(sx_decide_batch(s, &qs[i], 1, &bd, brecs, max) == 1, "batch");
		CHECK(bd.reason == d.reason && bd.nrec == d.nrec &&
		      (d.nrec == 0 || !memcmp(bd.rec, d.rec, d.nrec * sizeof *d.rec)),
		      "batch and single disagree");
		int listed = sx_listed(s, &qs[i]);
		if (sx_reason_names_records(d.reason))
			CHECK(listed, "DENY or REVIEW but not LISTED");
	}
	free(recs);
	free(brecs);
}

/* The second key a real query has (id.h): a USCC also looks up its
 * organisation code as ORG, an ORG also looks up USCCs embedding it. */
static int second_key(const sx_key *k, sx_key *out)
{
	char buf[SX_ID_MAX + 1];
	int kind;
	size_t n = sx_key_unpack(k, &kind, buf);
	if (kind == SX_KK_USCC && n == 18)
		return sx_key_pack(SX_KK_ORG, buf + 8, 9, out);
	if (kind == SX_KK_ORG && n == 9)
		return sx_key_pack(SX_KK_EMB, buf, 9, out);
	return -1;
}

static void serve(const sx_snap *s)
{
	const sx_snap_info *in = sx_snap_get_info(s);
	uint32_t max = sx_snap_max_query_records(s);
	char buf[600];

	for (uint64_t r = 0; r < in->records; r++) {
		sx_recview v;
		sx_snap_record(s, (uint32_t)r, &v);
		sx_record_format(s, (uint32_t)r, buf, sizeof buf);
	}
	/* A query gathers the records of at most two keys (the writer
	 * stores 2 * longest + 1, the reader refuses less).  A server sizes
	 * its record buffer by max_query_records (worker.c: max + 1 entries
	 * per worker, abort() when that allocation fails), so a header that
	 * claims far more than any query can gather is a damaged file that
	 * was let through. */
	uint64_t maxpost = 0;
	for (uint64_t k = 0; k < in->keys; k++) {
		uint32_t n;
		const uint32_t *post = sx_snap_key_records(s, (uint32_t)k, &n);
		if (n > maxpost)
			maxpost = n;
#ifdef SX_FUZZ_KNOWN
		/* F5 (docs/RELIABILITY.md): posting lists that are not
		 * ascending are let through; skip such files. */
		for (uint32_t j = 1; j < n; j++)
			if (post[j - 1] >= post[j])
				return;
#else
		(void)post;
#endif
	}
	CHECK(max <= 2 * maxpost + 1, "the header's max_query_records is %u, but "
	      "no query can gather more than %llu records: a server would allocate "
	      "%llu bytes per worker for it", max, (unsigned long long)(2 * maxpost),
	      (unsigned long long)(((uint64_t)max + 1) * 4));
	uint32_t nk = in->keys < 256 ? (uint32_t)in->keys : 256;
	sx_key *keys = malloc(((size_t)nk + 1) * sizeof *keys);
	int64_t *found = malloc(((size_t)nk + 1) * sizeof *found);
	sx_query *qs = malloc(((size_t)nk * 2 + 1) * SX_NCODES * 3 * sizeof *qs);
	size_t nq = 0;
	CHECK(keys && found && qs, "out of memory");
	for (uint32_t k = 0; k < nk; k++) {
		uint32_t n;
		keys[k] = *sx_snap_key(s, k);
		const uint32_t *post = sx_snap_key_records(s, k, &n);
		for (uint32_t j = 0; j < n; j++) {
			sx_recview v;
			sx_snap_record(s, post[j], &v);
		}
		(void)sx_snap_find(s, &keys[k]);
	}
	sx_snap_find_batch(s, keys, nk, found);
	for (uint32_t k = 0; k < nk; k++)
		for (int c = 0; c < SX_NCODES; c++)
			for (int d = 0; d < 3; d++)
				for (int two = 0; two < 2; two++) {
					sx_query *q = &qs[nq++];
					memset(q, 0, sizeof *q);
					q->chan = (uint8_t)c;
					q->cls = class_of(s, c, (unsigned)d);
					q->day = days[d];
					q->id.key[0] = keys[k];
					q->id.nkeys = 1;
					if (two && !second_key(&keys[k], &q->id.key[1]))
						q->id.nkeys = 2;
				}
	decide_all(s, qs, nq, max);
	free(keys);
	free(found);
	free(qs);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	build_snapshot();
	FILE *f = fopen(snap_path, "rb");
	CHECK(f != NULL, "open %s", snap_path);
	CHECK(fseek(f, 0, SEEK_END) == 0, "seek");
	long n0 = ftell(f);
	CHECK(n0 >= SX_SNAP_HDR, "size %ld", n0);
	rewind(f);
	orig_len = (size_t)n0;
	orig = malloc(orig_len);
	CHECK(orig && fread(orig, 1, orig_len, f) == orig_len, "read %s", snap_path);
	fclose(f);
	remove_snapshot_dir();
	work_cap = orig_len + GROW_MAX;
	work = malloc(work_cap);
	memfd = memfd_create("fuzz_snap_struct", MFD_CLOEXEC);
	CHECK(work && memfd >= 0, "setup: %s", strerror(errno));
	snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
	/* the unmutated file must open: else the re-signing is wrong */
	size_t n = mutate(NULL, 0);
	CHECK(n == orig_len && memcmp(work, orig, n) == 0,
	      "re-signing the untouched snapshot changed it");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sx_snap *s = NULL;
	char why[400];

	size_t n = mutate(data, size);
	CHECK(ftruncate(memfd, 0) == 0 && pwrite(memfd, work, n, 0) == (ssize_t)n,
	      "write memfd: %s", strerror(errno));
	memset(why, 0x55, sizeof why);
	int rc = sx_snap_open(path, &s, why, sizeof why);
	if (rc) {
		CHECK(s == NULL, "refused, with a handle");
		CHECK(memchr(why, 0, sizeof why) != NULL && why[0], "reason");
		return 0;
	}
	serve(s);
	sx_snap_close(s);
	return 0;
}
