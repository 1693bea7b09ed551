/*
 * stats.c - merging per-thread counters and reading quantiles (stats.h).
 */
#include <string.h>

#include "stats.h"

void sx_stats_merge(sx_stats *into, const sx_stats *from)
{
	/* sx_stats is all uint64_t: sum it as an array. */
	const uint64_t *src = (const uint64_t *)from;
	uint64_t *dst = (uint64_t *)into;
	for (size_t i = 0; i < sizeof *from / sizeof(uint64_t); i++)
		dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

static uint64_t bucket_upper(unsigned b)
{
	if (b < (1u << SX_LAT_SUB_BITS))
		return b + 1;
	unsigned e = (b >> SX_LAT_SUB_BITS) + 3;
	uint64_t sub = b & ((1u << SX_LAT_SUB_BITS) - 1);
	uint64_t width = 1ull << (e - SX_LAT_SUB_BITS);
	return (((1ull << SX_LAT_SUB_BITS) + sub) << (e - SX_LAT_SUB_BITS)) + width;
}

uint64_t sx_stats_quantile(const sx_stats *s, double q)
{
	uint64_t total = 0;
	for (unsigned b = 0; b < SX_LAT_NB; b++)
		total += s->lat[b];
	if (total == 0)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)total + 0.5);
	if (rank < 1)
		rank = 1;
	if (rank > total)
		rank = total;
	uint64_t seen = 0;
	for (unsigned b = 0; b < SX_LAT_NB; b++) {
		seen += s->lat[b];
		if (seen >= rank)
			return bucket_upper(b);
	}
	return bucket_upper(SX_LAT_NB - 1);
}

uint64_t sx_lat_bucket_upper(unsigned b)
{
	return b >= SX_LAT_NB - 1 ? UINT64_MAX : bucket_upper(b);
}

uint64_t sx_stats_cumulative(const sx_stats *s, const uint64_t *le_ns, size_t n,
                             uint64_t *cum)
{
	uint64_t total = 0;
	size_t i = 0;
	for (unsigned b = 0; b < SX_LAT_NB; b++) {
		/* Bucket upper edges ascend: close every bound it passes. */
		uint64_t up = sx_lat_bucket_upper(b);
		for (; i < n && le_ns[i] < up; i++)
			cum[i] = total;
		total += s->lat[b];
	}
	for (; i < n; i++)
		cum[i] = total;
	return total;
}
