/*
 * test_mphf.c - the minimal perfect hash (engine/mphf.h).
 *
 * What a minimal perfect hash promises is checked directly, with nothing
 * of the snapshot around it: over n distinct 64-bit hashes, sx_mphf_slot()
 * is a bijection onto [0, n) (every slot below n is taken exactly once, so
 * "injective" and "onto" are the same check), and a hash it was not built
 * on still lands inside [0, n).  Hashes come from splitmix64 of a counter,
 * which is a bijection, so the inputs are distinct by construction and the
 * tests are reproducible.
 *
 * Sizes: one million (eight parts, built by two threads), and the small
 * and boundary cases where off-by-ones live: 0, 1, 2, 3, 64, 100, and
 * around the part size of 131072 keys (one part, exactly one part's worth,
 * and the first n that needs two parts).  Failure modes: equal hashes
 * (SX_EINVAL, wherever the pair sits), and hashes whose high bits all
 * agree, which crowd one part or one bucket: the build must answer
 * SX_EBUILD (so the caller re-seeds) instead of hanging or writing out of
 * bounds.  The eviction count is build statistics, but it is reported, so
 * it must be plausible: zero for a single key, non-zero for large builds,
 * and, since parts are independent, the same whatever the thread count,
 * as must be the function itself.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mphf.h"
#include "sx.h"
#include "testutil.h"

/* n distinct pseudo-random hashes, stream `salt`. */
static uint64_t *hashes(uint32_t n, uint64_t salt)
{
	uint64_t *h = malloc((n ? n : 1) * sizeof *h);
	cr_assert_not_null(h);
	for (uint32_t i = 0; i < n; i++)
		h[i] = tu_mix(salt << 40 | i);
	return h;
}

/* Every hash on its own slot below n, and every slot used: a bijection. */
static void assert_bijective(const sx_mphf *f, const uint64_t *h, uint32_t n)
{
	uint8_t *seen = calloc(n ? n : 1, 1);
	cr_assert_not_null(seen);
	cr_assert_eq(f->n, n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t s = sx_mphf_slot(f, h[i]);
		cr_assert_lt(s, n, "n=%u: hash %u (%016llx) -> slot %u", n, i,
		             (unsigned long long)h[i], s);
		cr_assert_eq(seen[s], 0, "n=%u: slot %u taken twice (hash %u)",
		             n, s, i);
		seen[s] = 1;
	}
	for (uint32_t s = 0; s < n; s++)
		cr_assert_eq(seen[s], 1, "n=%u: slot %u is not taken", n, s);
	free(seen);
}

/* Hashes the function was not built on still land in [0, n). */
static void assert_nonmembers_in_range(const sx_mphf *f, uint32_t n,
                                       uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		uint64_t h = tu_mix(0xfeedull << 40 | i);
		cr_assert_lt(sx_mphf_slot(f, h), n, "n=%u: non-member lands "
		             "outside the slots", n);
	}
}

static void build_ok(const uint64_t *h, uint32_t n, int threads,
                     sx_mphf_owned *m)
{
	int rc = sx_mphf_build(h, n, threads, m);
	cr_assert_eq(rc, 0, "sx_mphf_build(n=%u, threads=%d) = %d (%s)", n,
	             threads, rc, sx_strerror(rc));
}

Test(mphf, million_random_hashes_map_bijectively_onto_n_with_two_threads,
     .timeout = 60)
{
	const uint32_t n = 1000000;
	uint64_t *h = hashes(n, 1);
	sx_mphf_owned m;

	build_ok(h, n, 2, &m);
	/* several parts, so two threads really shared the work */
	cr_assert_gt(m.f.nparts, 2);
	assert_bijective(&m.f, h, n);
	assert_nonmembers_in_range(&m.f, n, 100000);
	/* the remap table covers exactly the drawn slots past n */
	cr_assert_eq(sx_mphf_nremap(&m.f),
	             (uint64_t)m.f.nparts * m.f.part_slots - n);
	/* the header's promise: about 2.7 bits of pilots a key */
	double bits = 8.0 * (double)sx_mphf_npilots(&m.f) / n;
	cr_assert_lt(bits, 3.2, "pilots take %.2f bits a key", bits);
	cr_assert_gt(m.evictions, 0,
	             "a million keys with 8-bit pilots needs evictions; the "
	             "count reported is 0");
	sx_mphf_free(&m);
	cr_assert_null(m.pilot, "sx_mphf_free leaves the handle cleared");
	free(h);
}

Test(mphf, small_and_part_boundary_sizes_are_bijective)
{
	static const uint32_t sizes[] = {
		1, 2, 3, 63, 64, 65, 100, 1000, 131071, 131072, 131073, 262145,
	};
	for (size_t i = 0; i < SX_ARRAY_LEN(sizes); i++) {
		uint32_t n = sizes[i];
		uint64_t *h = hashes(n, 2 + i);
		sx_mphf_owned m;

		build_ok(h, n, 2, &m);
		assert_bijective(&m.f, h, n);
		assert_nonmembers_in_range(&m.f, n, 2000);
		/* the first n that needs a second part gets one */
		if (n <= 131071)
			cr_assert_eq(m.f.nparts, 1, "n=%u", n);
		if (n >= 131073)
			cr_assert_geq(m.f.nparts, 2, "n=%u", n);
		sx_mphf_free(&m);
		free(h);
	}
}

Test(mphf, zero_keys_build_an_empty_function)
{
	sx_mphf_owned m;
	uint64_t dummy = 0;
	int rc = sx_mphf_build(&dummy, 0, 2, &m);

	cr_assert_eq(rc, 0, "an empty key set is a valid (empty) snapshot "
	             "index; sx_mphf_build(n=0) = %d (%s)", rc, sx_strerror(rc));
	cr_assert_eq(m.f.n, 0);
	cr_assert_eq(m.evictions, 0);
	sx_mphf_free(&m);
}

Test(mphf, one_key_needs_no_eviction)
{
	uint64_t h = tu_mix(77);
	sx_mphf_owned m;

	build_ok(&h, 1, 1, &m);
	cr_assert_eq(sx_mphf_slot(&m.f, h), 0);
	cr_assert_eq(m.evictions, 0, "one key, %llu evictions reported",
	             (unsigned long long)m.evictions);
	sx_mphf_free(&m);
}

Test(mphf, same_function_and_eviction_count_whatever_the_thread_count,
     .timeout = 60)
{
	const uint32_t n = 400000;
	uint64_t *h = hashes(n, 3);
	sx_mphf_owned a, b;

	build_ok(h, n, 1, &a);
	build_ok(h, n, 2, &b);
	cr_assert_eq(a.f.nparts, b.f.nparts);
	cr_assert_eq(a.f.part_buckets, b.f.part_buckets);
	cr_assert_eq(a.f.part_slots, b.f.part_slots);
	cr_assert_eq(memcmp(a.pilot, b.pilot, sx_mphf_npilots(&a.f)), 0,
	             "pilots differ between 1 and 2 threads");
	cr_assert_eq(memcmp(a.remap, b.remap, sx_mphf_nremap(&a.f) * 4), 0,
	             "remap differs between 1 and 2 threads");
	cr_assert_eq(a.evictions, b.evictions,
	             "evictions: %llu with 1 thread, %llu with 2",
	             (unsigned long long)a.evictions,
	             (unsigned long long)b.evictions);
	cr_assert_gt(a.evictions, 0);
	assert_bijective(&b.f, h, n);
	sx_mphf_free(&a);
	sx_mphf_free(&b);
	free(h);
}

Test(mphf, two_equal_hashes_are_rejected_with_einval)
{
	uint64_t h[2] = { 0x0123456789abcdefull, 0x0123456789abcdefull };
	sx_mphf_owned m;
	int rc = sx_mphf_build(h, 2, 1, &m);

	cr_assert_eq(rc, SX_EINVAL, "got %d (%s)", rc, sx_strerror(rc));
	cr_assert_null(m.pilot, "a failed build owns nothing");
	cr_assert_null(m.remap, "a failed build owns nothing");
	sx_mphf_free(&m);     /* and freeing it is harmless */
}

Test(mphf, a_duplicate_anywhere_is_rejected_with_einval)
{
	/* small: first and last; large: in the last part, built by 2 threads */
	struct { uint32_t n, from, to; } cases[] = {
		{ 1000, 0, 999 }, { 1000, 500, 501 }, { 300000, 10, 299999 },
		{ 300000, 299998, 299999 },
	};
	for (size_t i = 0; i < SX_ARRAY_LEN(cases); i++) {
		uint64_t *h = hashes(cases[i].n, 10 + i);
		sx_mphf_owned m;

		h[cases[i].to] = h[cases[i].from];
		int rc = sx_mphf_build(h, cases[i].n, 2, &m);
		cr_assert_eq(rc, SX_EINVAL, "n=%u, hash %u repeated at %u: got "
		             "%d (%s)", cases[i].n, cases[i].from, cases[i].to,
		             rc, sx_strerror(rc));
		sx_mphf_free(&m);
		free(h);
	}
}

Test(mphf, hashes_crowding_one_part_or_bucket_fail_with_ebuild,
     .timeout = 30)
{
	/* The function is over hashes, so its caller must pass hashes:
	 * 200000 values whose high bits all lie in the lower half fall in
	 * part 0 of two parts (spread over its buckets), which cannot hold
	 * them; 100 values differing only in their low bits all fall in one
	 * bucket.  Either way: SX_EBUILD. */
	const uint32_t n = 200000;
	uint64_t *h = malloc(n * sizeof *h);
	sx_mphf_owned m;
	int rc;

	cr_assert_not_null(h);
	for (uint32_t i = 0; i < n; i++)
		h[i] = (uint64_t)(i * (0x80000000u / n)) << 32 | (tu_mix(i) >> 32);
	rc = sx_mphf_build(h, n, 2, &m);
	cr_assert_eq(rc, SX_EBUILD, "crowded part: got %d (%s)", rc,
	             sx_strerror(rc));
	sx_mphf_free(&m);
	for (uint32_t i = 0; i < 100; i++)
		h[i] = i + 1;
	rc = sx_mphf_build(h, 100, 1, &m);
	cr_assert_eq(rc, SX_EBUILD, "crowded bucket: got %d (%s)", rc,
	             sx_strerror(rc));
	sx_mphf_free(&m);
	free(h);
}
