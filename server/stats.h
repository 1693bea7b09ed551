/*
 * stats.h - per-thread counters and a latency histogram, summed on demand.
 *
 * Each worker owns one sx_stats and is its only writer, so counting is a
 * plain add on memory no other core writes: no shared cache line, no
 * locked instruction on the request path.  Readers (INFO, /metrics) sum
 * all workers' copies with relaxed atomic loads; the owner stores with
 * relaxed atomic stores (an ordinary load, add and store on x86), so a
 * reader sees each counter torn-free and at most a few requests old.
 *
 * Latency is kept in a log-linear histogram of nanoseconds: 16 linear
 * sub-buckets per power of two (relative error under 6.25%), 528 buckets
 * up to 2^36 ns.  Merging is adding bucket by bucket; quantiles come from
 * the merged counts.  The sum of all latencies is kept beside it, so that
 * /metrics can publish a Prometheus histogram (_bucket, _sum, _count): its
 * fixed `le` bounds are summed from the log-linear buckets that lie wholly
 * below each bound (sx_stats_cumulative).
 */
#ifndef SX_STATS_H
#define SX_STATS_H

#include <stdint.h>

#include "sx.h"
#include "decide.h"
#include "cmd.h"

#define SX_LAT_SUB_BITS 4
#define SX_LAT_MAX_EXP  35                                   /* 2^36 ns cap */
#define SX_LAT_NB       (((SX_LAT_MAX_EXP - 3) << SX_LAT_SUB_BITS) + (1 << SX_LAT_SUB_BITS))

/* Binary protocol operations counted (bin.c). */
#define SX_BINOPS(X) \
	X(SX_BINOP_HELLO,  "hello")  \
	X(SX_BINOP_AUTH,   "auth")   \
	X(SX_BINOP_PING,   "ping")   \
	X(SX_BINOP_CHECK,  "check")  \
	X(SX_BINOP_LISTED, "listed") \
	X(SX_BINOP_EXEC,   "exec")

enum {
#define X(e, name) e,
	SX_BINOPS(X)
#undef X
	SX_NBINOPS
};

typedef struct sx_stats {
	uint64_t commands;                   /* RESP commands + binary frames */
	uint64_t per_cmd[SX_NCMDS + 1];      /* [SX_NCMDS]: unknown commands */
	uint64_t per_binop[SX_NBINOPS];
	uint64_t bin_ids;                    /* IDs in binary CHECK/LISTED frames */
	uint64_t mcheck_ids;                 /* IDs in MCHECK commands */
	uint64_t http_requests;              /* HTTP requests answered */
	uint64_t tls_handshakes, tls_errors; /* TLS: finished, refused or broken */
	uint64_t proxy_headers;              /* PROXY headers accepted */
	uint64_t proxy_untrusted;            /* peer not in --proxy-from */
	uint64_t proxy_malformed;            /* no header, or a bad one */
	uint64_t proxy_timeout;              /* header not whole in time */
	uint64_t proxy_incomplete;           /* closed half-way through it */
	uint64_t decisions[SX_NREASONS];
	uint64_t per_channel[SX_NCODES];
	uint64_t query_errors;               /* invalid ID, bad channel, ... */
	uint64_t proto_errors;
	uint64_t outcap_kills;               /* output over --max-output */
	uint64_t idle_kills;
	uint64_t reqtimeout_kills;           /* incomplete over --request-timeout */
	uint64_t authtimeout_kills;          /* no AUTH within --auth-timeout */
	uint64_t accept_errors;              /* accept failed (EMFILE, ENOBUFS, ...) */
	uint64_t accepted;
	uint64_t rejected;                   /* over --max-clients */
	uint64_t noauth, noperm;
	uint64_t batch_refused;              /* over the tenant's max-batch */
	uint64_t conns_refused;              /* AUTH or certificate over max-conns */
	uint64_t metrics_unauthorized;       /* /metrics, /, /v1/stats: 401 */
	uint64_t metrics_forbidden;          /* ... 403, a tenant not allowed */
	uint64_t bytes_in, bytes_out;
	uint64_t recv_nobufs;                /* io_uring: buffer ring ran dry */
	uint64_t lat_sum_ns;                 /* sum of the latencies in lat[] */
	uint64_t lat[SX_LAT_NB];             /* command handling, ns */
} sx_stats;

/* Owner-side increment (see the file comment). */
#define sx_stat_add(field, n) \
	__atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define sx_stat_inc(field) sx_stat_add(field, 1)

static inline unsigned sx_lat_bucket(uint64_t ns)
{
	if (ns < (1u << SX_LAT_SUB_BITS))
		return (unsigned)ns;
	if (ns >= (2ull << SX_LAT_MAX_EXP))
		return SX_LAT_NB - 1;
	unsigned e = 63u - (unsigned)__builtin_clzll(ns);
	return ((e - 3) << SX_LAT_SUB_BITS) |
	       (unsigned)((ns >> (e - SX_LAT_SUB_BITS)) & ((1u << SX_LAT_SUB_BITS) - 1));
}

static inline void sx_stats_lat(sx_stats *s, uint64_t ns)
{
	sx_stat_inc(s->lat[sx_lat_bucket(ns)]);
	sx_stat_add(s->lat_sum_ns, ns);
}

/* n samples sharing total_ns equally (commands answered together). */
static inline void sx_stats_lat_n(sx_stats *s, uint64_t total_ns, unsigned n)
{
	sx_stat_add(s->lat[sx_lat_bucket(total_ns / n)], n);
	sx_stat_add(s->lat_sum_ns, total_ns);
}

/* Add from (read with relaxed loads) into into. */
void sx_stats_merge(sx_stats *into, const sx_stats *from);

/* The q-quantile (0 < q <= 1) of the latency histogram in nanoseconds:
 * the upper bound of the bucket holding it; 0 when empty. */
uint64_t sx_stats_quantile(const sx_stats *s, double q);

/* The exclusive upper edge of log-linear bucket b in nanoseconds (every
 * sample in it is below); UINT64_MAX for the last, open-ended bucket. */
uint64_t sx_lat_bucket_upper(unsigned b);

/*
 * Cumulative counts for the n ascending bounds le_ns[]: cum[i] is the
 * number of samples in the buckets whose upper edge is at most le_ns[i],
 * so a bucket that straddles a bound is counted only under the next bound
 * it fits below (a count is never attributed to a bound some of its
 * samples exceed; a bound undercounts by at most one bucket, < 6.25%).
 * Returns the number of samples (the +Inf bucket).
 */
uint64_t sx_stats_cumulative(const sx_stats *s, const uint64_t *le_ns, size_t n,
                             uint64_t *cum);

#endif
