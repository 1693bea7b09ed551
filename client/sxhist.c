/*
 * sxhist.c - log-linear latency histogram (see sxhist.h for the layout).
 *
 * Bucket of v: with m the position of v's highest set bit, values below
 * 256 (m < 8) index themselves; otherwise the top 8 bits of v, v >> (m-7),
 * lie in 128..255 and pick one of 128 sub-buckets of the range [2^m,
 * 2^(m+1)).  Index = 256 + (m - 8) * 128 + (top - 128).  This is
 * HdrHistogram's scheme with 128 sub-buckets per octave and a unit of 1 ns,
 * written out for this one configuration: one clz and a shift per record.
 */
#include "sxhist.h"

#include <stdlib.h>
#include <string.h>

#define SUB_BITS  7
#define SUB       (1u << SUB_BITS)          /* sub-buckets per octave */
#define LINEAR    (2u * SUB)                /* exact buckets 0..255 */
#define MAX_BIT   37                        /* values < 2^37 ns */
#define NBUCKETS  (LINEAR + (MAX_BIT - SUB_BITS - 1) * SUB)
#define MAX_VALUE ((UINT64_C(1) << MAX_BIT) - 1)

struct sx_hist {
	uint64_t total, min, max, sum;
	uint64_t counts[NBUCKETS];
};

static inline unsigned bucket_of(uint64_t v)
{
	if (v > MAX_VALUE)
		v = MAX_VALUE;
	if (v < LINEAR)
		return (unsigned)v;
	unsigned m = 63u - (unsigned)__builtin_clzll(v);
	unsigned top = (unsigned)(v >> (m - SUB_BITS));
	return LINEAR + (m - SUB_BITS - 1) * SUB + (top - SUB);
}

/* The highest value that falls in bucket i. */
static uint64_t bucket_high(unsigned i)
{
	if (i < LINEAR)
		return i;
	unsigned k = (i - LINEAR) / SUB, top = SUB + (i - LINEAR) % SUB;
	unsigned shift = k + 1;
	return ((uint64_t)top << shift) + ((UINT64_C(1) << shift) - 1);
}

sx_hist *sx_hist_new(void)
{
	sx_hist *h = malloc(sizeof *h);
	if (h)
		sx_hist_reset(h);
	return h;
}

void sx_hist_free(sx_hist *h)
{
	free(h);
}

void sx_hist_reset(sx_hist *h)
{
	memset(h, 0, sizeof *h);
	h->min = UINT64_MAX;
}

void sx_hist_record_n(sx_hist *h, uint64_t ns, uint64_t n)
{
	if (!n)
		return;
	h->counts[bucket_of(ns)] += n;
	h->total += n;
	h->sum += ns * n;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

void sx_hist_record(sx_hist *h, uint64_t ns)
{
	sx_hist_record_n(h, ns, 1);
}

void sx_hist_merge(sx_hist *dst, const sx_hist *src)
{
	if (!src->total)
		return;
	for (unsigned i = 0; i < NBUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->total += src->total;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t sx_hist_count(const sx_hist *h) { return h->total; }
uint64_t sx_hist_min(const sx_hist *h) { return h->total ? h->min : 0; }
uint64_t sx_hist_max(const sx_hist *h) { return h->max; }

double sx_hist_mean(const sx_hist *h)
{
	return h->total ? (double)h->sum / (double)h->total : 0.0;
}

uint64_t sx_hist_percentile(const sx_hist *h, double p)
{
	if (!h->total)
		return 0;
	if (p >= 100.0)
		return h->max;
	if (p < 0.0)
		p = 0.0;
	/* The rank of the percentile, 1-based: ceil(p/100 * total). */
	double r = p / 100.0 * (double)h->total;
	uint64_t rank = (uint64_t)r;
	if ((double)rank < r)
		rank++;
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < NBUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			uint64_t v = bucket_high(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}
