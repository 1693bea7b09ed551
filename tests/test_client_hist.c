/*
 * test_client_hist.c - the benchmark's latency histogram reports the
 * percentiles of known data within its promised precision (never below the
 * true value, at most 1/128 above it), keeps min and max exact, and merges
 * per-thread histograms without loss.
 */
#include <criterion/criterion.h>

#include <stdint.h>

#include "sxhist.h"

/* True percentile of 1..n (each once): the ceil(p/100*n)-th value. */
static uint64_t true_pct(uint64_t n, double p)
{
	double r = p / 100.0 * (double)n;
	uint64_t k = (uint64_t)r;
	if ((double)k < r)
		k++;
	return k ? k : 1;
}

static void assert_close(uint64_t got, uint64_t want, const char *what)
{
	cr_assert_geq(got, want, "%s: %llu below the true %llu", what,
	              (unsigned long long)got, (unsigned long long)want);
	cr_assert_leq((double)got, (double)want * (1.0 + 1.0 / 128) + 1,
	              "%s: %llu more than 0.78%% above %llu", what,
	              (unsigned long long)got, (unsigned long long)want);
}

Test(hist, percentiles_of_a_uniform_range)
{
	sx_hist *h = sx_hist_new();
	const uint64_t n = 1000000;       /* 1 ns .. 1 ms */
	for (uint64_t v = 1; v <= n; v++)
		sx_hist_record(h, v);
	cr_assert_eq(sx_hist_count(h), n);
	cr_assert_eq(sx_hist_min(h), 1);
	cr_assert_eq(sx_hist_max(h), n);
	static const double ps[] = { 1, 10, 50, 90, 99, 99.9, 99.99 };
	for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
		assert_close(sx_hist_percentile(h, ps[i]), true_pct(n, ps[i]), "pct");
	cr_assert_eq(sx_hist_percentile(h, 100), n);
	cr_assert_float_eq(sx_hist_mean(h), (n + 1) / 2.0, 1e-6);
	sx_hist_free(h);
}

Test(hist, small_values_are_exact)
{
	sx_hist *h = sx_hist_new();
	for (uint64_t v = 0; v < 200; v++)
		sx_hist_record(h, v);
	/* 0..199: the 50th percentile is the 100th value, 99 */
	cr_assert_eq(sx_hist_percentile(h, 50), 99);
	cr_assert_eq(sx_hist_percentile(h, 0.5), 0);
	sx_hist_free(h);
}

Test(hist, a_long_tail_is_seen)
{
	/* 9990 fast requests of 50 us and 10 slow ones of 2 s: p99 is fast,
	 * p99.9 and above are the slow ones. */
	sx_hist *h = sx_hist_new();
	sx_hist_record_n(h, 50000, 9990);
	sx_hist_record_n(h, 2000000000ull, 10);
	assert_close(sx_hist_percentile(h, 50), 50000, "p50");
	assert_close(sx_hist_percentile(h, 99), 50000, "p99");
	assert_close(sx_hist_percentile(h, 99.95), 2000000000ull, "p99.95");
	cr_assert_eq(sx_hist_max(h), 2000000000ull);
	sx_hist_free(h);
}

Test(hist, values_beyond_the_range_keep_an_exact_max)
{
	sx_hist *h = sx_hist_new();
	sx_hist_record(h, 1000);
	sx_hist_record(h, 500ull * 1000000000ull);   /* 500 s */
	cr_assert_eq(sx_hist_max(h), 500ull * 1000000000ull);
	cr_assert_eq(sx_hist_percentile(h, 100), 500ull * 1000000000ull);
	cr_assert_geq(sx_hist_percentile(h, 99), 100ull * 1000000000ull);
	sx_hist_free(h);
}

Test(hist, merging_equals_recording_in_one)
{
	sx_hist *a = sx_hist_new(), *b = sx_hist_new(), *all = sx_hist_new();
	uint64_t x = 12345;
	for (int i = 0; i < 100000; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t v = (x >> 33) % 10000000;   /* up to 10 ms */
		sx_hist_record(i & 1 ? a : b, v);
		sx_hist_record(all, v);
	}
	sx_hist_merge(a, b);
	cr_assert_eq(sx_hist_count(a), sx_hist_count(all));
	cr_assert_eq(sx_hist_min(a), sx_hist_min(all));
	cr_assert_eq(sx_hist_max(a), sx_hist_max(all));
	static const double ps[] = { 50, 90, 99, 99.9 };
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(sx_hist_percentile(a, ps[i]), sx_hist_percentile(all, ps[i]));
	sx_hist_free(a);
	sx_hist_free(b);
	sx_hist_free(all);
}

Test(hist, empty_histogram_reports_zero)
{
	sx_hist *h = sx_hist_new();
	cr_assert_eq(sx_hist_count(h), 0);
	cr_assert_eq(sx_hist_percentile(h, 99), 0);
	cr_assert_eq(sx_hist_max(h), 0);
	cr_assert_eq(sx_hist_min(h), 0);
	sx_hist_free(h);
}
