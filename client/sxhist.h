/*
 * sxhist.h - a latency histogram in the manner of HdrHistogram: log-linear
 * buckets, fixed memory, constant-time recording, about 1% precision.
 *
 * Values are nanoseconds from 1 ns to about 137 s (2^37 ns); larger values
 * are counted in the top bucket (max still reports them exactly).  Below
 * 256 ns every value has its own bucket; above, each power-of-two range is
 * cut into 128 equal buckets, so a bucket is never wider than 1/128
 * (0.78%) of the values in it.  3968 buckets of 8 bytes: 31 KiB.
 *
 * One histogram per thread, recorded without locks, merged at the end
 * (bucket-wise sums are exact, so merging loses nothing).
 */
#ifndef SX_HIST_H
#define SX_HIST_H

#include <stdint.h>

typedef struct sx_hist sx_hist;

/* A new, empty histogram, or NULL when out of memory.  Free with
 * sx_hist_free (NULL is ok). */
sx_hist *sx_hist_new(void);
void sx_hist_free(sx_hist *h);
void sx_hist_reset(sx_hist *h);

/* Count value ns once, or n times. */
void sx_hist_record(sx_hist *h, uint64_t ns);
void sx_hist_record_n(sx_hist *h, uint64_t ns, uint64_t n);
/* Add every count of src to dst. */
void sx_hist_merge(sx_hist *dst, const sx_hist *src);

uint64_t sx_hist_count(const sx_hist *h);
/* Exact smallest and largest values recorded (0 when empty). */
uint64_t sx_hist_min(const sx_hist *h);
uint64_t sx_hist_max(const sx_hist *h);
/* Exact mean of the values recorded (0 when empty). */
double sx_hist_mean(const sx_hist *h);
/*
 * The value at percentile p (0 < p <= 100): the smallest recorded bucket
 * that holds at least p% of the counts at or below it, reported as the
 * highest value that bucket can hold (as HdrHistogram does), clamped to
 * the exact min and max.  So it is never below the true percentile and at
 * most 0.78% above it.  0 when empty; p >= 100 gives the max.
 */
uint64_t sx_hist_percentile(const sx_hist *h, double p);

#endif
