/*
 * test_snapshot.c - the snapshot file: written by engine/snapwrite.c, read
 * and verified by engine/snapshot.c, bytes as in engine/snapfmt.h.
 *
 * Three kinds of proof.
 *
 * Lookups: a snapshot of one million random passport keys, written in
 * process with sx_snapw_*, finds every member at a key number that holds
 * that very key and its record, by sx_snap_find and sx_snap_find_batch
 * alike, and refuses a million non-members, plus keys that differ from a
 * member only in kind or length.  The overflow path (keys sharing a hash
 * share a slot; the first sits in the slot flagged SX_KEY_MORE, the rest
 * follow n_slots, sorted) cannot be reached through the writer, because a
 * real 64-bit XXH3 collision cannot be found.  So a file is assembled by
 * hand from snapfmt.h: one slot (every hash lands on it), a seed of our
 * choosing, and three passport numbers whose hashes under that seed share
 * their 32-bit fingerprint (a birthday search over 2^23 candidates found
 * them; the test re-checks the claim).  Such a file passes every check of
 * the reader, so the reader must tell the keys apart by comparing them.
 *
 * Damage: a ~200-record snapshot (all sections non-empty) with one bit
 * flipped at every 7th byte of the header page, at the first and last 64
 * bytes of every section (payload ends and padding) and at 3000 random
 * bytes, cut at every 64th length and the edge cases, and with bytes
 * appended, must each be refused by
 * sx_snap_open() with a snapshot error code and a reason (naming the
 * damaged section where there is one); Criterion reports a crash as a
 * failure.  Header fields changed with the header checksum recomputed
 * (format version, CRoaring version, magic) get their own codes, and
 * structural lies with every checksum recomputed (postings, string
 * offsets, remap targets, key ranges, section placement, and the
 * max_query_records bound callers size their buffers by) are refused by
 * the structure walk, which is what stands between a hostile file and the
 * unchecked read path.
 *
 * Round trip: what the writer was told (counts, as-of, source, records
 * field by field, cases folded across bracket widths, courts, permits)
 * comes back out of sx_snap_get_info() and sx_snap_record(); an empty
 * snapshot is valid; a failed write leaves no file and no temporary; two
 * writers used by two threads at once each write their own snapshot
 * (nothing in snapwrite.h says a writer shares state with another).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <roaring/roaring_version.h>

#include "decide.h"
#include "id.h"
#include "snapfmt.h"
#include "snapshot.h"
#include "snapwrite.h"
#include "testutil.h"

static const char *const sec_names[] = {
#define X(e, name) name,
	SX_SECTIONS(X)
#undef X
};

TestSuite(lookup, .init = tu_setup, .fini = tu_teardown);
TestSuite(overflow, .init = tu_setup, .fini = tu_teardown);
TestSuite(damage, .init = tu_setup, .fini = tu_teardown);
TestSuite(roundtrip, .init = tu_setup, .fini = tu_teardown);

/* ---- writing snapshots in process ----------------------------------------- */

/* 13 base-36 digits hold any 64-bit value, so this is injective. */
static sx_key passport_key(uint64_t v)
{
	static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	char s[14];
	sx_key k;

	for (int i = 12; i >= 0; i--) {
		s[i] = digits[v % 36];
		v /= 36;
	}
	cr_assert_eq(sx_key_pack(SX_KK_PASSPORT, s, 13, &k), 0);
	return k;
}

static sx_key key_of(int kind, const char *s)
{
	sx_key k;
	cr_assert_eq(sx_key_pack(kind, s, strlen(s), &k), 0, "pack %s", s);
	return k;
}

static sx_snapw_meta meta(void)
{
	sx_snapw_meta m = { .as_of = SX_AS_OF_NONE, .threads = 2,
	                    .source = "test" };
	sx_rules_default(&m.rules);
	return m;
}

/* A writer holding one passport record per key, all in one case. */
static sx_snapw *writer_of_keys(const sx_key *keys, size_t n)
{
	sx_snapw *w = sx_snapw_new();
	cr_assert_not_null(w);
	const char *case_no = "（2024）闽0102执1号", *court = "福州市鼓楼区人民法院";
	uint32_t co = sx_snapw_string(w, case_no, strlen(case_no));
	uint32_t ct = sx_snapw_court(w, court, strlen(court));
	uint32_t cid = sx_snapw_case(w, case_no, strlen(case_no));
	for (size_t i = 0; i < n; i++) {
		sx_snapw_rec r = {
			.key = keys[i], .role = SX_ROLE_DEBTOR, .list = SX_LIST_SX,
			.status = SX_ST_ACTIVE, .id_type = SX_IDT_PASSPORT,
			.case_off = co, .court_off = ct, .case_id = cid,
			.listed_on = 0, .expires_on = SX_DAY_NONE,
			.codes = SX_CODES_ALL,
		};
		cr_assert_eq(sx_snapw_add_record(w, &r), 0);
	}
	return w;
}

static sx_snap *open_ok(const char *path)
{
	sx_snap *s = NULL;
	char why[512] = "";
	int rc = sx_snap_open(path, &s, why, sizeof why);
	cr_assert_eq(rc, 0, "open %s: %d %s", path, rc, why);
	cr_assert_not_null(s);
	return s;
}

static void write_ok(sx_snapw *w, const sx_snapw_meta *m, const char *path,
                     sx_snapw_stats *st)
{
	char why[512] = "";
	int rc = sx_snapw_write(w, m, path, st, why, sizeof why);
	cr_assert_eq(rc, 0, "write %s: %d %s", path, rc, why);
}

/* ---- one million keys ------------------------------------------------------ */

Test(lookup, million_members_found_by_find_and_batch_and_million_others_refused,
     .timeout = 120)
{
	const size_t n = 1000000;
	char path[PATH_MAX + 32];
	sx_key *keys = malloc(2 * n * sizeof *keys);
	int64_t *out = malloc(2 * n * sizeof *out);

	cr_assert_not_null(keys);
	cr_assert_not_null(out);
	for (size_t i = 0; i < 2 * n; i++)
		keys[i] = passport_key(tu_mix(i));   /* [n, 2n): non-members */
	const char *dir = tu_dir;
	tu_path(path, sizeof path, dir, "million.snap");
	sx_snapw *w = writer_of_keys(keys, n);
	sx_snapw_meta m = meta();
	sx_snapw_stats st;
	write_ok(w, &m, path, &st);
	sx_snapw_free(w);
	cr_assert_eq(st.keys, n);
	cr_assert_eq(st.ids, n);

	sx_snap *s = open_ok(path);
	cr_assert_eq(sx_snap_get_info(s)->keys, n);
	cr_assert_eq(sx_snap_get_info(s)->records, n);

	/* members, one at a time: the key number holds that key and record i
	 * (records are numbered in the order they were added).  Plain ifs in
	 * the loops: a million cr_asserts would cost more than the lookups. */
	uint8_t *used = calloc(n, 1);
	cr_assert_not_null(used);
	for (size_t i = 0; i < n; i++) {
		int64_t k = sx_snap_find(s, &keys[i]);
		if (k < 0 || (uint64_t)k >= n)
			cr_assert_fail("member %zu not found (%lld)", i, (long long)k);
		if (!sx_key_eq(sx_snap_key(s, (uint32_t)k), &keys[i]))
			cr_assert_fail("member %zu: key number %lld holds another key",
			               i, (long long)k);
		if (used[k])
			cr_assert_fail("two members share key number %lld", (long long)k);
		used[k] = 1;
		uint32_t nr;
		const uint32_t *recs = sx_snap_key_records(s, (uint32_t)k, &nr);
		if (nr != 1 || recs[0] != i)
			cr_assert_fail("member %zu: %u records, first %u", i, nr, recs[0]);
		out[i] = k;
	}
	free(used);
	/* non-members */
	for (size_t i = n; i < 2 * n; i++)
		if (sx_snap_find(s, &keys[i]) != -1)
			cr_assert_fail("non-member %zu found", i - n);

	/* the batch gives the same answers, in one call (crossing its
	 * internal chunks) and in odd-sized calls */
	int64_t *bo = malloc(2 * n * sizeof *bo);
	cr_assert_not_null(bo);
	sx_snap_find_batch(s, keys, 2 * n, bo);
	for (size_t i = 0; i < 2 * n; i++)
		if (bo[i] != (i < n ? out[i] : -1))
			cr_assert_fail("batch: key %zu gives %lld, find gave %lld", i,
			               (long long)bo[i], (long long)(i < n ? out[i] : -1));
	memset(bo, 0x55, 2 * n * sizeof *bo);
	for (size_t i = 0; i < 2 * n;) {
		size_t len = 1 + (i * 7919) % 97;
		if (len > 2 * n - i)
			len = 2 * n - i;
		sx_snap_find_batch(s, keys + i, len, bo + i);
		i += len;
	}
	for (size_t i = 0; i < 2 * n; i++)
		if (bo[i] != (i < n ? out[i] : -1))
			cr_assert_fail("odd batches: key %zu gives %lld", i,
			               (long long)bo[i]);

	/* a member's characters under another kind, or one character short,
	 * are other keys */
	for (size_t i = 0; i < 1000; i++) {
		sx_key k = keys[i];
		k.lo = (k.lo & ~7ull) | SX_KK_HKMO;
		cr_assert_eq(sx_snap_find(s, &k), -1, "kind changed: found");
		char chars[SX_ID_MAX + 1];
		int kind;
		size_t len = sx_key_unpack(&keys[i], &kind, chars);
		sx_key shorter = key_of(kind, (chars[len - 1] = 0, chars));
		cr_assert_eq(sx_snap_find(s, &shorter), -1, "prefix found");
	}
	sx_snap_close(s);
	free(bo);
	free(keys);
	free(out);
}

/* ---- hand-made files --------------------------------------------------------- */

/* A snapshot file as a header and section payloads. */
struct image {
	struct sx_disk_header h;
	const void *p[SX_NSECTIONS];
	uint64_t len[SX_NSECTIONS];
};

static const struct sx_disk_header *hdr_of(const uint8_t *file)
{
	return (const struct sx_disk_header *)file;
}

/* Recompute the header checksum of the file image in place. */
static void reseal_header(uint8_t *file)
{
	struct sx_disk_header *h = (struct sx_disk_header *)file;
	h->header_xxh3 = 0;
	h->header_xxh3 = XXH3_64bits(file, SX_SNAP_HDR);
}

/* Recompute section i's checksum (over its payload and padding), then the
 * header's. */
static void reseal_section(uint8_t *file, int i)
{
	struct sx_disk_header *h = (struct sx_disk_header *)file;
	uint64_t end = i + 1 < SX_NSECTIONS ? h->sec[i + 1].off : h->file_size;
	h->sec[i].xxh3 = XXH3_64bits(file + h->sec[i].off, end - h->sec[i].off);
	reseal_header(file);
}

/* Lay an image out as snapfmt.h says: header page, then the sections on
 * 64-byte boundaries, each checksummed with its padding, then the header
 * checksum.  Returns the file (malloc'd); *size its length. */
static uint8_t *lay_out(struct image *im, size_t *size)
{
	uint64_t pos = SX_SNAP_HDR;
	for (int i = 0; i < SX_NSECTIONS; i++) {
		im->h.sec[i].id = (uint32_t)i;
		im->h.sec[i].off = pos;
		im->h.sec[i].len = im->len[i];
		pos += (im->len[i] + SX_SNAP_ALIGN - 1) & ~(uint64_t)(SX_SNAP_ALIGN - 1);
	}
	im->h.file_size = pos;
	im->h.nsections = SX_NSECTIONS;
	uint8_t *f = calloc(1, pos);
	cr_assert_not_null(f);
	memcpy(f, &im->h, sizeof im->h);
	for (int i = 0; i < SX_NSECTIONS; i++)
		if (im->len[i])
			memcpy(f + im->h.sec[i].off, im->p[i], im->len[i]);
	for (int i = 0; i < SX_NSECTIONS; i++)
		reseal_section(f, i);
	*size = pos;
	return f;
}

/* An image whose sections point into an existing file's bytes. */
static void image_of(const uint8_t *file, struct image *im)
{
	memcpy(&im->h, file, sizeof im->h);
	for (int i = 0; i < SX_NSECTIONS; i++) {
		im->p[i] = file + im->h.sec[i].off;
		im->len[i] = im->h.sec[i].len;
	}
}

/* Three passport numbers whose XXH3 hashes under OV_SEED share the 32-bit
 * fingerprint (found by a birthday search over FP00000000..FP007FFFFF). */
#define OV_SEED 0x0123456789abcdefull
static const char *const ov_ids[3] = { "FP00015686", "FP00210797", "FP006C0301" };

/*
 * Assemble a one-slot snapshot whose slot holds slotkey (flagged
 * SX_KEY_MORE) and whose overflow holds ovkeys[0..nov) (sorted here).
 * Each key has one record of its own (same case, codes, status), so the
 * bitmaps of a writer-made file with the same number of keys fit as they
 * are.  Written to path.
 */
static void write_one_slot_file(const char *dir, const char *path,
                                const sx_key *slotkey, const sx_key *ovkeys,
                                size_t nov)
{
	size_t nk = 1 + nov;
	sx_key all[8], sorted[8];
	char tmp[PATH_MAX + 32];

	cr_assert_leq(nk, 8);
	all[0] = *slotkey;
	for (size_t i = 0; i < nov; i++)
		sorted[i] = ovkeys[i];
	/* insertion sort of the overflow keys */
	for (size_t i = 1; i < nov; i++)
		for (size_t j = i; j > 0 && sx_key_cmp(&sorted[j - 1], &sorted[j]) > 0; j--) {
			sx_key t = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	for (size_t i = 0; i < nov; i++)
		all[1 + i] = sorted[i];

	/* a writer-made file with the same keys gives records, strings,
	 * rules and bitmaps (every key live, every code) */
	tu_path(tmp, sizeof tmp, dir, "donor.snap");
	sx_snapw *w = writer_of_keys(all, nk);
	sx_snapw_meta m = meta();
	write_ok(w, &m, tmp, NULL);
	sx_snapw_free(w);
	size_t dlen;
	uint8_t *donor = (uint8_t *)tu_read(tmp, &dlen);
	cr_assert_not_null(donor);
	cr_assert_eq(hdr_of(donor)->n_keys, nk);

	struct image im;
	image_of(donor, &im);
	/* index: one part, one bucket, 64 slots drawn of which slot 0 is the
	 * only real one: every hash lands on slot 0 (the remap sends all
	 * drawn slots past n_slots = 1 to slot 0) */
	uint8_t pilot = 0;
	uint32_t remap[63] = {0};
	uint32_t fp = sx_fp(sx_key_hash(slotkey, OV_SEED));
	struct sx_disk_key keys[8];
	uint32_t post[8];
	struct sx_disk_rec recs[8];
	const struct sx_disk_rec *drecs = (const void *)(donor + hdr_of(donor)->sec[SX_SEC_RECORDS].off);
	for (size_t i = 0; i < nk; i++) {
		keys[i] = (struct sx_disk_key){ .lo = all[i].lo, .hi = all[i].hi,
		                                .post = (uint32_t)i, .npost = 1 };
		post[i] = (uint32_t)i;
		recs[i] = drecs[i];
		recs[i].id_key = (uint32_t)i;
	}
	keys[0].npost |= SX_KEY_MORE;
	im.h.seed = OV_SEED;
	im.h.n_slots = 1;
	im.h.n_keys = (uint32_t)nk;
	im.h.nparts = 1;
	im.h.part_buckets = 1;
	im.h.part_slots = 64;
	im.h.n_postings = (uint32_t)nk;
	im.h.n_records = (uint32_t)nk;
	im.h.max_query_records = 3;
	im.p[SX_SEC_PILOTS] = &pilot;   im.len[SX_SEC_PILOTS] = 1;
	im.p[SX_SEC_REMAP] = remap;     im.len[SX_SEC_REMAP] = sizeof remap;
	im.p[SX_SEC_FP] = &fp;          im.len[SX_SEC_FP] = 4;
	im.p[SX_SEC_KEYS] = keys;       im.len[SX_SEC_KEYS] = nk * sizeof keys[0];
	im.p[SX_SEC_POSTINGS] = post;   im.len[SX_SEC_POSTINGS] = nk * 4;
	im.p[SX_SEC_RECORDS] = recs;    im.len[SX_SEC_RECORDS] = nk * sizeof recs[0];
	size_t size;
	uint8_t *file = lay_out(&im, &size);
	tu_write(path, file, size);
	free(file);
	free(donor);
}

static sx_key ov_key(int i)
{
	return key_of(SX_KK_PASSPORT, ov_ids[i]);
}

/* A PASSPORT query for id on 2026-01-10 against s: the answer line. */
static const char *ask_passport(const sx_snap *s, const char *id)
{
	char q[128];
	snprintf(q, sizeof q, "%s air TYPE PASSPORT AT 2026-01-10", id);
	return tu_ask(s, q);
}

Test(overflow, the_three_crafted_keys_really_share_a_fingerprint)
{
	sx_key k0 = ov_key(0), k1 = ov_key(1), k2 = ov_key(2);
	uint64_t h0 = sx_key_hash(&k0, OV_SEED), h1 = sx_key_hash(&k1, OV_SEED);
	uint64_t h2 = sx_key_hash(&k2, OV_SEED);
	cr_assert_neq(h0, h1);
	cr_assert_eq(sx_fp(h0), sx_fp(h1), "precondition of the overflow tests");
	cr_assert_eq(sx_fp(h0), sx_fp(h2), "precondition of the overflow tests");
}

Test(overflow, slot_key_and_overflow_key_both_found_third_same_fingerprint_key_not)
{
	char path[PATH_MAX + 32];
	const char *dir = tu_dir;
	tu_path(path, sizeof path, dir, "overflow.snap");
	sx_key a = ov_key(0), b = ov_key(1), c = ov_key(2);
	write_one_slot_file(dir, path, &a, &b, 1);

	sx_snap *s = open_ok(path);
	cr_assert_eq(sx_snap_get_info(s)->keys, 2, "n_keys = n_slots + 1");
	cr_assert_eq(sx_snap_find(s, &a), 0, "the slot's own key");
	cr_assert_eq(sx_snap_find(s, &b), 1, "the overflow key");
	cr_assert_eq(sx_snap_find(s, &c), -1,
	             "same slot, same fingerprint, but not in the file");
	sx_key q[3] = { a, b, c };
	int64_t out[3];
	sx_snap_find_batch(s, q, 3, out);
	cr_assert_eq(out[0], 0);
	cr_assert_eq(out[1], 1);
	cr_assert_eq(out[2], -1);
	/* and through the decision, each ID gets its own record only */
	cr_assert_str_eq(ask_passport(s, ov_ids[0]),
	                 "DENY LISTED （2024）闽0102执1号|福州市鼓楼区人民法院|debtor|SX");
	cr_assert_str_eq(ask_passport(s, ov_ids[1]),
	                 "DENY LISTED （2024）闽0102执1号|福州市鼓楼区人民法院|debtor|SX");
	cr_assert_str_eq(ask_passport(s, ov_ids[2]), "ALLOW NOT_LISTED");
	sx_snap_close(s);
}

Test(overflow, several_overflow_keys_are_found_by_binary_search)
{
	char path[PATH_MAX + 32];
	const char *dir = tu_dir;
	tu_path(path, sizeof path, dir, "overflow2.snap");
	/* slot: the third key; overflow: the other two and four keys that
	 * share nothing with them (they widen the sorted run searched) */
	sx_key a = ov_key(2);
	sx_key ov[6] = { ov_key(0), ov_key(1),
	                 key_of(SX_KK_PASSPORT, "AAAAA1"),
	                 key_of(SX_KK_PASSPORT, "ZZZZZZZZ9"),
	                 key_of(SX_KK_PASSPORT, "M00000"),
	                 key_of(SX_KK_RIC, "11010119800101100") };
	write_one_slot_file(dir, path, &a, ov, 6);

	sx_snap *s = open_ok(path);
	cr_assert_eq(sx_snap_get_info(s)->keys, 7);
	for (int i = 0; i < 3; i++) {
		sx_key k = ov_key(i);
		int64_t kn = sx_snap_find(s, &k);
		cr_assert_geq(kn, 0, "%s not found", ov_ids[i]);
		cr_assert(sx_key_eq(sx_snap_key(s, (uint32_t)kn), &k));
		int64_t bo;
		sx_snap_find_batch(s, &k, 1, &bo);
		cr_assert_eq(bo, kn);
	}
	/* a key whose fingerprint differs is stopped at the fingerprint,
	 * even though it is stored in the overflow run */
	cr_assert_eq(sx_snap_find(s, &ov[2]), -1);
	sx_snap_close(s);
}

/* ---- a ~200-record snapshot for damage -------------------------------------- */

/* Build it from a generated list with permits; returns the file bytes. */
static uint8_t *small_snapshot(const char *dir, char *path, size_t cap,
                               size_t *size)
{
	char *permits = NULL;
	char *list = tu_gen_list(200, 7, NULL, &permits);
	tu_build b;
	int rc = tu_build_csv(&b, dir, "small", list, permits, 0);
	cr_assert_eq(rc, 0, "build: %s", b.why);
	cr_assert_eq(b.rep.rejected, 0);
	snprintf(path, cap, "%s", b.out);
	uint8_t *f = (uint8_t *)tu_read(path, size);
	cr_assert_not_null(f);
	for (int i = 0; i < SX_NSECTIONS; i++)
		if (i != SX_SEC_REMAP)   /* may legitimately be empty */
			cr_assert_gt(hdr_of(f)->sec[i].len, 0,
			             "section %s is empty: damage there goes untested",
			             sec_names[i]);
	free(list);
	free(permits);
	return f;
}

static int is_snapshot_error(int rc)
{
	return rc == SX_EBADMAGIC || rc == SX_EVERSION || rc == SX_ECORRUPT ||
	       rc == SX_ETRUNC || rc == SX_EROARING;
}

/* Open path expecting a refusal; returns the code; why gets the reason. */
static int refused(const char *path, char *why, size_t cap, const char *what)
{
	sx_snap *s = NULL;
	why[0] = 0;
	int rc = sx_snap_open(path, &s, why, cap);
	if (rc == 0) {
		sx_snap_close(s);
		cr_assert_fail("%s: the damaged snapshot was accepted", what);
	}
	cr_assert_null(s, "%s: a refused open hands out a handle", what);
	cr_assert(is_snapshot_error(rc), "%s: code %d (%s) is not a snapshot "
	          "error", what, rc, sx_strerror(rc));
	cr_assert_neq(why[0], 0, "%s: refused without a reason", what);
	return rc;
}

/* The section holding file offset off, or -1 for the header page. */
static int section_at(const uint8_t *f, uint64_t off)
{
	const struct sx_disk_header *h = hdr_of(f);
	if (off < SX_SNAP_HDR)
		return -1;
	for (int i = SX_NSECTIONS - 1; i >= 0; i--)
		if (off >= h->sec[i].off)
			return i;
	return -1;
}

/* Flip one bit of byte off in the file open as fd (whose pristine bytes
 * are f), check the open is refused, and restore the byte. */
static void flip_and_open(int fd, const char *path, const uint8_t *f,
                          uint64_t off)
{
	char what[64], why[512];
	uint8_t bad = f[off] ^ (uint8_t)(1u << (off % 8));

	cr_assert_eq(pwrite(fd, &bad, 1, (off_t)off), 1);
	snprintf(what, sizeof what, "bit %u of byte %llu flipped",
	         (unsigned)(off % 8), (unsigned long long)off);
	int rc = refused(path, why, sizeof why, what);
	int sec = section_at(f, off);
	if (sec >= 0) {
		char want[64];
		snprintf(want, sizeof want, "section %s", sec_names[sec]);
		cr_assert_eq(rc, SX_ECORRUPT, "%s: %s", what, why);
		cr_assert_not_null(strstr(why, want),
		                   "%s (in %s): reason '%s' does not name it",
		                   what, want, why);
	}
	cr_assert_eq(pwrite(fd, &f[off], 1, (off_t)off), 1);
}

/* Every 7th byte of the header page (each bit position in turn), the first
 * and last 64 bytes of every section (where off-by-ones and padding are),
 * and 3000 random bytes elsewhere.  (Every byte would be ~20k opens; on a
 * VM each munmap's TLB flush costs ~0.2 ms, so the sample keeps the test
 * around a second.) */
Test(damage, one_flipped_bit_anywhere_is_refused_naming_the_section,
     .timeout = 120)
{
	char path[PATH_MAX + 64];
	size_t size;
	const char *dir = tu_dir;
	uint8_t *f = small_snapshot(dir, path, sizeof path, &size);
	const struct sx_disk_header *h = hdr_of(f);
	sx_snap_close(open_ok(path));   /* undamaged, it opens */

	int fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	size_t tried = 0;
	for (uint64_t off = 0; off < SX_SNAP_HDR; off += 7, tried++)
		flip_and_open(fd, path, f, off);
	for (int i = 0; i < SX_NSECTIONS; i++) {
		uint64_t a = h->sec[i].off;
		uint64_t e = i + 1 < SX_NSECTIONS ? h->sec[i + 1].off : size;
		for (uint64_t off = a; off < e; off++, tried++) {
			if (off - a >= 64 && e - off > 64) {
				off = e - 65;    /* jump to the last 64 */
				continue;
			}
			flip_and_open(fd, path, f, off);
		}
	}
	tu_rng r = { 99 };
	for (int i = 0; i < 3000; i++, tried++)
		flip_and_open(fd, path, f, SX_SNAP_HDR +
		              tu_below(&r, (uint32_t)(size - SX_SNAP_HDR)));
	close(fd);
	cr_assert_gt(tried, 4000);
	sx_snap_close(open_ok(path));   /* restored, it opens again */
	free(f);
}

Test(damage, every_truncation_is_refused_as_truncated, .timeout = 60)
{
	char path[PATH_MAX + 64], cut[PATH_MAX + 64], why[512];
	size_t size;
	const char *dir = tu_dir;
	uint8_t *f = small_snapshot(dir, path, sizeof path, &size);
	tu_path(cut, sizeof cut, dir, "cut.snap");

	size_t lens[4096], n = 0;
	static const size_t fixed[] = { 0, 1, 8, 15, 16, 100, 4095, 4096, 4097 };
	for (size_t i = 0; i < SX_ARRAY_LEN(fixed); i++)
		lens[n++] = fixed[i];
	for (size_t l = 64; l < size && n < SX_ARRAY_LEN(lens) - 1; l += 64)
		lens[n++] = l;
	lens[n++] = size - 1;
	for (size_t i = 0; i < n; i++) {
		char what[64];
		cr_assert_lt(lens[i], size);
		tu_write(cut, f, lens[i]);
		snprintf(what, sizeof what, "cut to %zu of %zu bytes", lens[i], size);
		int rc = refused(cut, why, sizeof why, what);
		cr_assert_eq(rc, SX_ETRUNC, "%s: %d %s", what, rc, why);
	}
	free(f);
}

Test(damage, appended_bytes_are_refused)
{
	char path[PATH_MAX + 64], why[512];
	size_t size;
	const char *dir = tu_dir;
	uint8_t *f = small_snapshot(dir, path, sizeof path, &size);
	static const size_t extra[] = { 1, 63, 64, 4096 };
	for (size_t i = 0; i < SX_ARRAY_LEN(extra); i++) {
		uint8_t *g = calloc(1, size + extra[i]);
		memcpy(g, f, size);
		memset(g + size, i & 1 ? 0 : 0xA5, extra[i]);
		tu_write(path, g, size + extra[i]);
		char what[64];
		snprintf(what, sizeof what, "%zu bytes appended", extra[i]);
		int rc = refused(path, why, sizeof why, what);
		cr_assert_eq(rc, SX_ECORRUPT, "%s: %d %s", what, rc, why);
		free(g);
	}
	free(f);
}

/* f with a change applied and the header checksum recomputed, written to
 * path; returns sx_snap_open's code, why the reason. */
static int open_resealed(const uint8_t *f, size_t size, const char *path,
                         void (*change)(uint8_t *), char *why, size_t cap,
                         const char *what)
{
	uint8_t *g = malloc(size);
	memcpy(g, f, size);
	change(g);
	tu_write(path, g, size);
	free(g);
	return refused(path, why, cap, what);
}

static void set_version_2(uint8_t *g)
{
	((struct sx_disk_header *)g)->version = SX_SNAP_VERSION + 1;
	reseal_header(g);
}
static void set_version_1(uint8_t *g)
{
	((struct sx_disk_header *)g)->version = 1;
	reseal_header(g);
}
static void set_version_0(uint8_t *g)
{
	((struct sx_disk_header *)g)->version = 0;
	reseal_header(g);
}
static void set_roaring(uint8_t *g)
{
	struct sx_disk_header *h = (struct sx_disk_header *)g;
	memset(h->roaring, 0, sizeof h->roaring);
	snprintf(h->roaring, sizeof h->roaring, "%d.%d.%d", ROARING_VERSION_MAJOR,
	         ROARING_VERSION_MINOR, ROARING_VERSION_REVISION + 1);
	reseal_header(g);
}
static void set_magic(uint8_t *g)
{
	memcpy(g, "SXGSNAQ\x1a", 8);
	reseal_header(g);
}
static void set_magic_unsealed(uint8_t *g)
{
	g[0] = 'Z';
}
static void set_nsections(uint8_t *g)
{
	((struct sx_disk_header *)g)->nsections = SX_NSECTIONS + 1;
	reseal_header(g);
}

Test(damage, header_fields_with_checksum_recomputed_get_their_own_codes)
{
	char path[PATH_MAX + 64], bad[PATH_MAX + 64], why[512];
	size_t size;
	const char *dir = tu_dir;
	uint8_t *f = small_snapshot(dir, path, sizeof path, &size);
	tu_path(bad, sizeof bad, dir, "bad.snap");

	cr_assert_eq(open_resealed(f, size, bad, set_version_2, why, sizeof why,
	                           "version+1"), SX_EVERSION, "%s", why);
	cr_assert_eq(open_resealed(f, size, bad, set_version_0, why, sizeof why,
	                           "version 0"), SX_EVERSION, "%s", why);
	cr_assert_eq(open_resealed(f, size, bad, set_version_1, why, sizeof why,
	                           "version 1"), SX_EVERSION, "%s", why);
	cr_assert_not_null(strstr(why, "rebuild it with sxgate-build"), "%s", why);
	cr_assert_eq(open_resealed(f, size, bad, set_roaring, why, sizeof why,
	                           "roaring"), SX_EROARING, "%s", why);
	cr_assert_not_null(strstr(why, "CRoaring"), "%s", why);
	cr_assert_eq(open_resealed(f, size, bad, set_magic, why, sizeof why,
	                           "magic"), SX_EBADMAGIC, "%s", why);
	cr_assert_eq(open_resealed(f, size, bad, set_magic_unsealed, why,
	                           sizeof why, "magic, unsealed"), SX_EBADMAGIC,
	             "%s", why);
	cr_assert_eq(open_resealed(f, size, bad, set_nsections, why, sizeof why,
	                           "nsections"), SX_ECORRUPT, "%s", why);

	/* a file that is not a snapshot at all */
	char text[8192];
	memset(text, 'x', sizeof text);
	memcpy(text, "case_no,court\n", 14);
	tu_write(bad, text, sizeof text);
	cr_assert_eq(refused(bad, why, sizeof why, "a text file"), SX_EBADMAGIC,
	             "%s", why);
	/* and a file that is not there */
	sx_snap *s = NULL;
	tu_path(bad, sizeof bad, dir, "absent.snap");
	cr_assert_eq(sx_snap_open(bad, &s, why, sizeof why), -ENOENT);
	cr_assert_null(s);
	cr_assert_not_null(strstr(why, "absent.snap"), "%s", why);
	free(f);
}

/* Structural lies: a value changed inside a section and every checksum
 * recomputed, so only the structure walk can catch it. */
static uint8_t *section_bytes(uint8_t *g, int sec)
{
	return g + hdr_of(g)->sec[sec].off;
}
static void lie_posting(uint8_t *g)
{
	uint32_t *post = (uint32_t *)section_bytes(g, SX_SEC_POSTINGS);
	post[hdr_of(g)->n_postings - 1] = hdr_of(g)->n_records;
	reseal_section(g, SX_SEC_POSTINGS);
}
static void lie_court_offset(uint8_t *g)
{
	struct sx_disk_rec *r = (void *)section_bytes(g, SX_SEC_RECORDS);
	r[5].court_off = (uint32_t)hdr_of(g)->sec[SX_SEC_STRINGS].len - 1;
	reseal_section(g, SX_SEC_RECORDS);
}
static void lie_case_offset(uint8_t *g)
{
	struct sx_disk_rec *r = (void *)section_bytes(g, SX_SEC_RECORDS);
	r[0].case_off = 0xfffffff0u;
	reseal_section(g, SX_SEC_RECORDS);
}
static void lie_record_key(uint8_t *g)
{
	struct sx_disk_rec *r = (void *)section_bytes(g, SX_SEC_RECORDS);
	r[1].id_key = hdr_of(g)->n_keys;
	reseal_section(g, SX_SEC_RECORDS);
}
static void lie_record_status(uint8_t *g)
{
	struct sx_disk_rec *r = (void *)section_bytes(g, SX_SEC_RECORDS);
	r[2].status_type = (uint8_t)((r[2].status_type & 0xf0) | 9);
	reseal_section(g, SX_SEC_RECORDS);
}
static void lie_key_postings(uint8_t *g)
{
	struct sx_disk_key *k = (void *)section_bytes(g, SX_SEC_KEYS);
	k[3].post = hdr_of(g)->n_postings;
	reseal_section(g, SX_SEC_KEYS);
}
static void lie_key_no_postings(uint8_t *g)
{
	struct sx_disk_key *k = (void *)section_bytes(g, SX_SEC_KEYS);
	k[4].npost = 0;
	reseal_section(g, SX_SEC_KEYS);
}
static void lie_remap(uint8_t *g)
{
	uint32_t *r = (uint32_t *)section_bytes(g, SX_SEC_REMAP);
	r[0] = hdr_of(g)->n_slots;
	reseal_section(g, SX_SEC_REMAP);
}
static void lie_permit_case(uint8_t *g)
{
	struct sx_disk_permit *p = (void *)section_bytes(g, SX_SEC_PERMITS);
	p[0].case_id = hdr_of(g)->n_cases + 5;
	reseal_section(g, SX_SEC_PERMITS);
}
static void lie_n_records(uint8_t *g)
{
	((struct sx_disk_header *)g)->n_records -= 1;
	reseal_header(g);
}
static void lie_placement(uint8_t *g)
{
	struct sx_disk_header *h = (struct sx_disk_header *)g;
	h->sec[SX_SEC_PILOTS].off += 64;    /* a gap after the header */
	reseal_header(g);
}
static void lie_bitmap_dir(uint8_t *g)
{
	uint8_t *bm = section_bytes(g, SX_SEC_BITMAPS);
	uint64_t off = hdr_of(g)->sec[SX_SEC_BITMAPS].len + 64;
	memcpy(bm + 8 + 16 * 3, &off, 8);
	reseal_section(g, SX_SEC_BITMAPS);
}

Test(damage, structural_lies_behind_valid_checksums_are_refused)
{
	static const struct {
		const char *what;
		void (*change)(uint8_t *);
		const char *want;   /* in the reason */
	} lies[] = {
		{ "posting past the records", lie_posting, "postings" },
		{ "court offset at the end of strings", lie_court_offset, "records" },
		{ "case offset far outside strings", lie_case_offset, "records" },
		{ "record's key number past the keys", lie_record_key, "records" },
		{ "record status 9", lie_record_status, "records" },
		{ "key's postings past the postings", lie_key_postings, "keys" },
		{ "key with no postings", lie_key_no_postings, "keys" },
		{ "remap past the slots", lie_remap, "remap" },
		{ "permit of an unknown case", lie_permit_case, "permits" },
		{ "record count disagrees with the section", lie_n_records, "records" },
		{ "section moved off its place", lie_placement, "pilots: bad placement" },
		{ "bitmap directory points outside", lie_bitmap_dir, "bitmaps" },
	};
	char path[PATH_MAX + 64], bad[PATH_MAX + 64], why[512];
	size_t size;
	const char *dir = tu_dir;
	uint8_t *f = small_snapshot(dir, path, sizeof path, &size);
	tu_path(bad, sizeof bad, dir, "lie.snap");
	cr_assert_gt(hdr_of(f)->sec[SX_SEC_REMAP].len, 0);
	cr_assert_gt(hdr_of(f)->n_permits, 0);
	for (size_t i = 0; i < SX_ARRAY_LEN(lies); i++) {
		int rc = open_resealed(f, size, bad, lies[i].change, why, sizeof why,
		                       lies[i].what);
		cr_assert_eq(rc, SX_ECORRUPT, "%s: %d %s", lies[i].what, rc, why);
		cr_assert_not_null(strstr(why, lies[i].want),
		                   "%s: reason '%s' does not say '%s'", lies[i].what,
		                   why, lies[i].want);
	}
	free(f);
}

/* The header's max_query_records is what callers size their record
 * buffers by (decide.h: "sx_snap_max_query_records() entries are always
 * enough"), so it is a bound like any offset: a file understating it must
 * be refused, or a query overruns the caller's buffer. */
static void lie_max_query_records(uint8_t *g)
{
	((struct sx_disk_header *)g)->max_query_records = 1;
	reseal_header(g);
}

Test(damage, a_header_understating_max_query_records_is_refused)
{
	char bad[PATH_MAX + 64], why[512];
	tu_build b;
	int rc = tu_build_csv(&b, tu_dir, "mqr",
		"case_no,court,list,role,id_type,id_no,name,status,listed_on\n"
		"（2024）闽0102执1号,福州市鼓楼区人民法院,SX,debtor,RIC,110101198001011005,甲,active,2025-01-10\n"
		"（2024）闽0102执2号,福州市鼓楼区人民法院,SX,debtor,RIC,110101198001011005,甲,active,2025-01-10\n"
		"（2024）闽0102执3号,福州市鼓楼区人民法院,SX,debtor,RIC,110101198001011005,甲,active,2025-01-10\n",
		NULL, 0);
	cr_assert_eq(rc, 0, "%s", b.why);
	size_t size;
	uint8_t *f = (uint8_t *)tu_read(b.out, &size);
	cr_assert_geq(hdr_of(f)->max_query_records, 3);
	tu_path(bad, sizeof bad, tu_dir, "mqr-lie.snap");
	uint8_t *g = malloc(size);
	memcpy(g, f, size);
	lie_max_query_records(g);
	tu_write(bad, g, size);
	sx_snap *s = NULL;
	rc = sx_snap_open(bad, &s, why, sizeof why);
	if (rc == 0) {
		/* accepted: show what it costs (tu_ask sizes the buffer by the
		 * header and checks the canary after it) */
		const char *got = tu_ask(s, "110101198001011005 air AT 2026-01-10");
		sx_snap_close(s);
		cr_assert_fail("a header claiming max_query_records = 1 for a key "
		               "with 3 records was accepted (answer: %s)", got);
	}
	cr_assert_eq(rc, SX_ECORRUPT, "%d %s", rc, why);
	free(g);
	free(f);
}

/* ---- round trip ------------------------------------------------------------ */

Test(roundtrip, info_and_records_come_back_as_written)
{
	char path[PATH_MAX + 32];
	const char *dir = tu_dir;
	tu_path(path, sizeof path, dir, "rt.snap");
	sx_snapw *w = sx_snapw_new();
	cr_assert_not_null(w);

	/* keys from the ID rules, as the loader makes them */
	sx_id ric, uscc, pass, org;
	const char *why;
	cr_assert_eq(sx_id_parse(SX_IDT_RIC, "110101198001011005", 18,
	                         SX_SIDE_LIST, &ric, &why), 0);
	cr_assert_eq(sx_id_parse(SX_IDT_USCC, "91350100MA2B3C4D1J", 18,
	                         SX_SIDE_LIST, &uscc, &why), 0);
	cr_assert_eq(sx_id_parse(SX_IDT_PASSPORT, "E12345678", 9,
	                         SX_SIDE_LIST, &pass, &why), 0);
	cr_assert_eq(sx_id_parse(SX_IDT_ORG, "123456788", 9, SX_SIDE_LIST,
	                         &org, &why), 0);
	struct {
		const char *case_no, *court;
		const sx_id *id;
		uint8_t role, list, status;
		uint16_t listed, expires;
		sx_codes codes;
	} in[] = {
		{ "(2021)闽0102执1号", "福州市鼓楼区人民法院", &ric, SX_ROLE_DEBTOR,
		  SX_LIST_SX, SX_ST_ACTIVE, 18000, SX_DAY_NONE,
		  SX_CODE_BIT(SX_C_AIR) | SX_CODE_BIT(SX_C_RAIL) },
		{ "（2021）闽0102执1号", "福州市鼓楼区人民法院", &uscc, SX_ROLE_DEBTOR,
		  SX_LIST_SX, SX_ST_SUSPENDED, 18001, 19000, SX_CODES_ALL },
		{ "（2022）闽0203执2号", "厦门市思明区人民法院", &ric, SX_ROLE_LEGAL_REP,
		  SX_LIST_XG, SX_ST_REVOKED, 18002, 18500, SX_CODE_BIT(SX_C_HOTEL) },
		{ "（2022）闽0203执2号", "厦门市思明区人民法院", &pass, SX_ROLE_PRINCIPAL,
		  SX_LIST_XG, SX_ST_SHIELDED, 18003, SX_DAY_NONE, SX_CODE_BIT(SX_C_HOTEL) },
		{ "（2023）闽05执3号", "泉州市中级人民法院", &org, SX_ROLE_CONTROLLER,
		  SX_LIST_SX, SX_ST_ACTIVE, 18004, SX_DAY_NONE, SX_CODES_RELATED },
	};
	for (size_t i = 0; i < SX_ARRAY_LEN(in); i++) {
		sx_snapw_rec r = {
			.key = in[i].id->key[0],
			.role = in[i].role, .list = in[i].list, .status = in[i].status,
			.id_type = in[i].id->type,
			.case_off = sx_snapw_string(w, in[i].case_no, strlen(in[i].case_no)),
			.court_off = sx_snapw_court(w, in[i].court, strlen(in[i].court)),
			.case_id = sx_snapw_case(w, in[i].case_no, strlen(in[i].case_no)),
			.listed_on = in[i].listed, .expires_on = in[i].expires,
			.codes = in[i].codes,
		};
		cr_assert_eq(sx_snapw_add_record(w, &r), 0);
	}
	cr_assert_eq(sx_snapw_nrecords(w), 5);
	/* brackets fold: records 0 and 1 are one case */
	cr_assert_eq(sx_snapw_case_find(w, "(2021)闽0102执1号",
	                                strlen("(2021)闽0102执1号")),
	             sx_snapw_case_find(w, "（2021）闽0102执1号",
	                                strlen("（2021）闽0102执1号")));
	cr_assert_eq(sx_snapw_case_find(w, "（2099）x", strlen("（2099）x")),
	             UINT32_MAX);
	const char *pref = "准许-1";
	sx_snapw_permit p1 = { .key = ric.key[0],
	                       .case_id = sx_snapw_case_find(w, in[0].case_no,
	                                                     strlen(in[0].case_no)),
	                       .case_off = sx_snapw_string(w, in[0].case_no,
	                                                   strlen(in[0].case_no)),
	                       .ref_off = sx_snapw_string(w, pref, strlen(pref)),
	                       .valid_from = 18000, .valid_to = 18010,
	                       .codes = SX_CODE_BIT(SX_C_AIR) };
	sx_snapw_permit p2 = p1;
	p2.case_id = UINT32_MAX;
	cr_assert_eq(sx_snapw_add_permit(w, &p1), 0);
	cr_assert_eq(sx_snapw_add_permit(w, &p2), 0);

	sx_snapw_meta m = meta();
	m.as_of = 1767225600;   /* 2026-01-01T08:00:00+08:00 */
	m.rows_read = 9;
	m.rows_loaded = 5;
	m.rows_rejected = 1;
	m.rows_warned = 2;
	m.duplicates = 1;
	m.source = "/data/list-2026-01-01.csv";
	sx_snapw_stats st;
	int64_t t0 = (int64_t)time(NULL);
	write_ok(w, &m, path, &st);
	int64_t t1 = (int64_t)time(NULL);
	sx_snapw_free(w);

	struct stat sb;
	cr_assert_eq(stat(path, &sb), 0);
	sx_snap *s = open_ok(path);
	const sx_snap_info *in_ = sx_snap_get_info(s);
	char roaring[16];
	snprintf(roaring, sizeof roaring, "%d.%d.%d", ROARING_VERSION_MAJOR,
	         ROARING_VERSION_MINOR, ROARING_VERSION_REVISION);
	cr_assert_eq(in_->version, SX_SNAP_VERSION);
	cr_assert_str_eq(in_->roaring, roaring);
	cr_assert_eq(in_->as_of, 1767225600);
	cr_assert(in_->built_at >= t0 && in_->built_at <= t1);
	cr_assert_eq(in_->file_bytes, (uint64_t)sb.st_size);
	cr_assert_eq(st.file_bytes, (uint64_t)sb.st_size);
	cr_assert_gt(in_->index_bytes, 0);
	cr_assert_eq(in_->index_bytes, st.index_bytes);
	cr_assert_eq(in_->rows_read, 9);
	cr_assert_eq(in_->rows_loaded, 5);
	cr_assert_eq(in_->rows_rejected, 1);
	cr_assert_eq(in_->rows_warned, 2);
	cr_assert_eq(in_->duplicates, 1);
	cr_assert_eq(in_->revoked, 1);
	cr_assert_eq(in_->shielded, 1);
	cr_assert_eq(in_->records, 5);
	cr_assert_eq(in_->ids, 4, "RIC (twice), USCC, passport, ORG");
	cr_assert_eq(in_->keys, 5, "the IDs and the USCC's organisation code");
	cr_assert_eq(st.records, 5);
	cr_assert_eq(st.ids, 4);
	cr_assert_eq(st.keys, 5);
	cr_assert_eq(in_->permits, 2);
	cr_assert_eq(in_->cases, 3, "half- and full-width brackets are one case");
	cr_assert_eq(in_->courts, 3);
	cr_assert_eq(in_->per_status[SX_ST_ACTIVE], 2);
	cr_assert_eq(in_->per_status[SX_ST_SUSPENDED], 1);
	cr_assert_eq(in_->per_status[SX_ST_REVOKED], 1);
	cr_assert_eq(in_->per_status[SX_ST_SHIELDED], 1);
	cr_assert_eq(in_->per_code[SX_C_AIR], 3);
	cr_assert_eq(in_->per_code[SX_C_RAIL], 3);
	cr_assert_eq(in_->per_code[SX_C_VENUE], 2);
	cr_assert_str_eq(in_->source, "/data/list-2026-01-01.csv");

	for (uint32_t i = 0; i < 5; i++) {
		sx_recview v;
		sx_snap_record(s, i, &v);
		cr_assert_eq(v.case_len, strlen(in[i].case_no));
		cr_assert_eq(memcmp(v.case_no, in[i].case_no, v.case_len), 0,
		             "record %u: case number not as spelled", i);
		cr_assert_eq(v.court_len, strlen(in[i].court));
		cr_assert_eq(memcmp(v.court, in[i].court, v.court_len), 0);
		cr_assert_eq(v.role, in[i].role);
		cr_assert_eq(v.list, in[i].list);
		cr_assert_eq(v.status, in[i].status);
		cr_assert_eq(v.id_type, in[i].id->type);
		cr_assert_eq(v.listed_on, in[i].listed);
		cr_assert_eq(v.expires_on, in[i].expires);
		cr_assert_eq(v.codes, in[i].codes);
		cr_assert(sx_key_eq(sx_snap_key(s, v.id_key), &in[i].id->key[0]),
		          "record %u: id_key is not its ID's key", i);
	}
	sx_recview v0, v1, v2;
	sx_snap_record(s, 0, &v0);
	sx_snap_record(s, 1, &v1);
	sx_snap_record(s, 2, &v2);
	cr_assert_eq(v0.case_id, v1.case_id);
	cr_assert_neq(v0.case_id, v2.case_id);
	cr_assert_eq(v0.id_key, v2.id_key, "one person, one key");

	/* the person's key lists both records, ascending; the USCC's
	 * organisation code lists the USCC record */
	int64_t k = sx_snap_find(s, &ric.key[0]);
	cr_assert_geq(k, 0);
	uint32_t nr;
	const uint32_t *rr = sx_snap_key_records(s, (uint32_t)k, &nr);
	cr_assert_eq(nr, 2);
	cr_assert_eq(rr[0], 0);
	cr_assert_eq(rr[1], 2);
	k = sx_snap_find(s, &uscc.key[1]);
	cr_assert_geq(k, 0, "EMB key of the USCC is indexed");
	rr = sx_snap_key_records(s, (uint32_t)k, &nr);
	cr_assert_eq(nr, 1);
	cr_assert_eq(rr[0], 1);
	cr_assert_geq(sx_snap_max_query_records(s), 2 * 2);
	sx_snap_close(s);
}

Test(roundtrip, no_as_of_reads_back_as_none)
{
	char path[PATH_MAX + 32];
	const char *dir = tu_dir;
	tu_path(path, sizeof path, dir, "noasof.snap");
	sx_key k = key_of(SX_KK_PASSPORT, "E99999999");
	sx_snapw *w = writer_of_keys(&k, 1);
	sx_snapw_meta m = meta();
	write_ok(w, &m, path, NULL);
	sx_snapw_free(w);
	sx_snap *s = open_ok(path);
	cr_assert_eq(sx_snap_get_info(s)->as_of, SX_AS_OF_NONE);
	sx_snap_close(s);
}

Test(roundtrip, an_empty_snapshot_is_valid_and_lists_nobody)
{
	char path[PATH_MAX + 32];
	const char *dir = tu_dir;
	tu_path(path, sizeof path, dir, "empty.snap");
	sx_snapw *w = sx_snapw_new();
	sx_snapw_meta m = meta();
	write_ok(w, &m, path, NULL);
	sx_snapw_free(w);
	sx_snap *s = open_ok(path);
	cr_assert_eq(sx_snap_get_info(s)->records, 0);
	cr_assert_eq(sx_snap_get_info(s)->keys, 0);
	sx_key k = key_of(SX_KK_RIC, "11010119800101100");
	cr_assert_eq(sx_snap_find(s, &k), -1);
	int64_t out = 7;
	sx_snap_find_batch(s, &k, 1, &out);
	cr_assert_eq(out, -1);
	TU_CHECK(s, "110101198001011005 air AT 2026-01-10", "ALLOW NOT_LISTED");
	sx_snap_close(s);
}

Test(roundtrip, rewriting_replaces_whole_and_a_failed_write_leaves_nothing)
{
	char path[PATH_MAX + 32], sub[PATH_MAX + 32], why[512];
	const char *dir = tu_dir;
	tu_path(path, sizeof path, dir, "x.snap");
	sx_key keys[3] = { key_of(SX_KK_PASSPORT, "E00000001"),
	                   key_of(SX_KK_PASSPORT, "E00000002"),
	                   key_of(SX_KK_PASSPORT, "E00000003") };
	sx_snapw_meta m = meta();
	sx_snapw *w = writer_of_keys(keys, 1);
	write_ok(w, &m, path, NULL);
	sx_snapw_free(w);
	w = writer_of_keys(keys, 3);
	write_ok(w, &m, path, NULL);
	sx_snap *s = open_ok(path);
	cr_assert_eq(sx_snap_get_info(s)->records, 3, "the second write replaced the first");
	sx_snap_close(s);

	/* the target is a directory: the write fails, says so, and leaves no
	 * temporary file behind */
	tu_path(sub, sizeof sub, dir, "adir");
	cr_assert_eq(mkdir(sub, 0755), 0);
	why[0] = 0;
	int rc = sx_snapw_write(w, &m, sub, NULL, why, sizeof why);
	cr_assert_neq(rc, 0);
	cr_assert_neq(why[0], 0);
	cr_assert_eq(tu_count_named(dir, ".tmp."), 0, "a temporary file was left");
	/* a directory that does not exist */
	tu_path(sub, sizeof sub, dir, "nodir/y.snap");
	why[0] = 0;
	rc = sx_snapw_write(w, &m, sub, NULL, why, sizeof why);
	cr_assert_neq(rc, 0);
	cr_assert_not_null(strstr(why, "nodir"), "%s", why);
	sx_snapw_free(w);
	s = open_ok(path);
	cr_assert_eq(sx_snap_get_info(s)->records, 3);
	sx_snap_close(s);
}

/* ---- two writers at once --------------------------------------------------- */

struct wjob {
	int t;
	char path[PATH_MAX + 32];
	int bad;
	char what[256];
};

static void *writer_thread(void *arg)
{
	struct wjob *j = arg;
	const int n = 20000 + 7 * j->t;
	sx_key *keys = malloc((size_t)n * sizeof *keys);
	for (int i = 0; i < n; i++)
		keys[i] = passport_key(tu_mix((uint64_t)j->t << 32 | (uint64_t)i));
	for (int it = 0; it < 30 && !j->bad; it++) {
		sx_snapw *w = sx_snapw_new();
		const char *c = "（2024）闽0102执1号";
		uint32_t co = sx_snapw_string(w, c, strlen(c));
		uint32_t ct = sx_snapw_court(w, "court", 5);
		uint32_t cid = sx_snapw_case(w, c, strlen(c));
		for (int i = 0; i < n; i++) {
			sx_snapw_rec r = { .key = keys[i], .id_type = SX_IDT_PASSPORT,
			                   .case_off = co, .court_off = ct,
			                   .case_id = cid, .expires_on = SX_DAY_NONE,
			                   .codes = SX_CODES_ALL };
			sx_snapw_add_record(w, &r);
		}
		sx_snapw_meta m = meta();
		m.threads = 1;
		char why[256] = "";
		sx_snap *s = NULL;
		if (sx_snapw_write(w, &m, j->path, NULL, why, sizeof why)) {
			snprintf(j->what, sizeof j->what, "write %d: %s", it, why);
			j->bad = 1;
		} else if (sx_snap_open(j->path, &s, why, sizeof why)) {
			snprintf(j->what, sizeof j->what, "round %d: its snapshot "
			         "does not open: %s", it, why);
			j->bad = 1;
		} else {
			if (sx_snap_get_info(s)->records != (uint64_t)n) {
				snprintf(j->what, sizeof j->what, "round %d: %llu records, "
				         "wrote %d", it,
				         (unsigned long long)sx_snap_get_info(s)->records, n);
				j->bad = 1;
			}
			for (int i = 0; i < n && !j->bad; i++)
				if (sx_snap_find(s, &keys[i]) < 0) {
					snprintf(j->what, sizeof j->what, "round %d: key %d "
					         "missing", it, i);
					j->bad = 1;
				}
			sx_snap_close(s);
		}
		sx_snapw_free(w);
	}
	free(keys);
	return NULL;
}

/* Two independent writers, one per thread, writing different files.
 * Shared state in the writer shows up as a wrong or unreadable snapshot
 * written without an error, or as heap corruption; the threads run in a
 * child process so that a crash is reported with its signal and the
 * scratch directory is still cleaned up. */
Test(roundtrip, two_writers_on_two_threads_each_write_their_own_snapshot,
     .timeout = 60)
{
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct wjob j[2];
		pthread_t tid[2];
		close(fds[0]);
		for (int t = 0; t < 2; t++) {
			memset(&j[t], 0, sizeof j[t]);
			j[t].t = t;
			snprintf(j[t].path, sizeof j[t].path, "%s/thread%d.snap",
			         tu_dir, t);
			pthread_create(&tid[t], NULL, writer_thread, &j[t]);
		}
		for (int t = 0; t < 2; t++)
			pthread_join(tid[t], NULL);
		char msg[600];
		int n = snprintf(msg, sizeof msg, "%s%s%s", j[0].bad ? j[0].what : "",
		                 j[0].bad && j[1].bad ? "; " : "",
		                 j[1].bad ? j[1].what : "");
		if (write(fds[1], msg, (size_t)n) < 0)
			_exit(3);
		_exit(j[0].bad || j[1].bad ? 1 : 0);
	}
	close(fds[1]);
	char msg[600] = "";
	ssize_t got = 0, r;
	while ((r = read(fds[0], msg + got, sizeof msg - 1 - (size_t)got)) > 0)
		got += r;
	msg[got] = 0;
	close(fds[0]);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(!WIFSIGNALED(status), "two snapshot writers on two threads: "
	          "the process died of signal %d (%s)", WTERMSIG(status),
	          strsignal(WTERMSIG(status)));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "two snapshot writers on two threads: %s", msg);
}

/* A real file of format version 1 (tests/data/sample-v1.snap, written by
 * the sxgate-build before the joint-punishment measures) is refused with
 * its own code and a word to rebuild, before anything else is read. */
Test(damage, a_format_1_snapshot_is_refused_with_a_word_to_rebuild)
{
	char path[PATH_MAX + 64], why[512] = "";
	sx_snap *s = NULL;
	cr_assert_not_null(tu_data_path("sample-v1.snap", path, sizeof path),
	                   "tests/data/sample-v1.snap is missing");
	cr_assert_eq(sx_snap_open(path, &s, why, sizeof why), SX_EVERSION, "%s", why);
	cr_assert_null(s);
	cr_assert_not_null(strstr(why, "snapshot format version 1 predates the "
	                          "joint-punishment measures"), "%s", why);
	cr_assert_not_null(strstr(why, "rebuild it with sxgate-build"), "%s", why);
}
