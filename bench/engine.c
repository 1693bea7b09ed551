/*
 * engine.c - the engine benchmark (make bench-engine): in-process
 * lookups against a snapshot, side by side with the machine's random DRAM
 * read rate measured in the same run.
 *
 * usage: bench-engine SNAP QUERIES.tsv [SECONDS [MIX.tsv]]
 *        (BENCH_CPU_TIME=1 in the environment: seconds of CPU, not of wall)
 *
 * The DRAM figure is independent random 8-byte reads over a 2 GiB buffer
 * (several in flight, as the batched lookup has): what a cache-missing
 * lookup can at best approach.  Queries come from sxgate-gen's query file
 * and are parsed once up front; "decide" then runs the whole decision
 * (index, records, permits) on each.  MIX.tsv, when given, is a second
 * query file (the joint-punishment channels' share of sxgate-gen
 * --joint-rate): its parse and batched decision rates are reported beside
 * the first file's.
 */
#include "decide.h"
#include "id.h"
#include "overlay.h"
#include "snapshot.h"
#include "sx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Seconds on the monotonic clock, or with BENCH_CPU_TIME set in the
 * environment on the thread's CPU clock: on a machine shared with other
 * work, rates per CPU second leave out the time the scheduler gave away
 * (the caches and the memory bus are still shared). */
static double now(void)
{
	static int cpu = -1;
	if (cpu < 0)
		cpu = getenv("BENCH_CPU_TIME") != NULL;
	return (double)sx_clock_ns(cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC) / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static volatile uint64_t sink;
static inline uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random independent 8-byte reads per second over `bytes`. */
static double dram_rate(size_t bytes, double secs)
{
	size_t n = bytes / 8;
	uint64_t *a = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
	                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return 0;
	madvise(a, bytes, MADV_NOHUGEPAGE);   /* the snapshot map is not huge-paged either */
	for (size_t i = 0; i < n; i++)        /* every word: no shared zero page */
		a[i] = i * 0x9e3779b97f4a7c15ull;
	uint64_t sum = 0, reads = 0;
	double t0 = now(), t;
	do {
		for (int r = 0; r < 1 << 16; r++) {
			uint64_t x = next();
			sum += a[(x >> 20) % n];
		}
		reads += 1 << 16;
	} while ((t = now()) - t0 < secs);
	munmap(a, bytes);
	sink = sum;     /* keeps the loads: an unused sum lets them go */
	return (double)reads / (t - t0);
}

static char *field(char **p)
{
	char *s = *p, *e = strchr(s, '\t');
	if (e) {
		*e = 0;
		*p = e + 1;
	} else {
		s[strcspn(s, "\r\n")] = 0;
		*p = s + strlen(s);
	}
	return s;
}

/* The valid queries of path, parsed against s's rules; *tp the time the
 * parse took.  NULL after a message when none is valid. */
static sx_query *load_queries(const sx_snap *s, const char *path, size_t *n,
                              double *tp)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return NULL;
	}
	size_t nq = 0, cap = 1 << 20;
	sx_query *qs = malloc(cap * sizeof(*qs));
	char line[512], err[256];
	double t0 = now();
	while (qs && fgets(line, sizeof(line), f)) {
		char *p = line;
		char *id = field(&p), *type = field(&p), *chan = field(&p);
		char *cls = field(&p), *day = field(&p);
		sx_query *q = &qs[nq];
		if (sx_query_common(q, sx_snap_rules(s), (sx_str){ chan, strlen(chan) },
		                    strcmp(cls, "-") ? (sx_str){ cls, strlen(cls) } : (sx_str){ 0 },
		                    (sx_str){ type, strlen(type) },
		                    (sx_str){ day, strlen(day) }, err, sizeof(err)) ||
		    sx_query_id(q, (sx_str){ id, strlen(id) }, err, sizeof(err)))
			continue;
		if (++nq == cap)
			qs = realloc(qs, (cap *= 2) * sizeof(*qs));
	}
	fclose(f);
	*tp = now() - t0;
	if (!nq) {
		fprintf(stderr, "bench-engine: no valid queries in %s\n", path);
		free(qs);
		return NULL;
	}
	*n = nq;
	return qs;
}

/* Batched decisions over qs[0..nq) for secs; the rate. */
static double decide_batched(const sx_snap *s, const sx_query *qs, size_t nq,
                             sx_decision *ds, uint32_t *recs, size_t rcap,
                             double secs)
{
	uint64_t done = 0;
	double t0 = now(), t;
	do {
		for (size_t i = 0; i < nq; i += 64) {
			size_t m = nq - i < 64 ? nq - i : 64, k = 0;
			while (k < m)
				k += sx_decide_batch(s, qs + i + k, m - k, ds + k, recs, rcap);
		}
		done += nq;
	} while ((t = now()) - t0 < secs);
	return (double)done / (t - t0);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench-engine SNAP QUERIES.tsv [SECONDS]\n");
		return 1;
	}
	double secs = argc > 3 ? atof(argv[3]) : 3;
	sx_snap *s;
	char why[512];
	if (sx_snap_open(argv[1], &s, why, sizeof(why))) {
		fprintf(stderr, "bench-engine: %s\n", why);
		return 3;
	}
	double tp;
	size_t nq;
	sx_query *qs = load_queries(s, argv[2], &nq, &tp);
	if (!qs)
		return 1;

	const sx_snap_info *in = sx_snap_get_info(s);
	uint32_t need = sx_snap_max_query_records(s);
	size_t rcap = 64 * (size_t)need;
	uint32_t *recs = malloc(rcap * sizeof(uint32_t));
	sx_decision *ds = malloc(64 * sizeof(*ds));
	uint64_t denies = 0, reviews = 0, done = 0;

	double dram = dram_rate((size_t)2 << 30, secs);

	/* single: one sx_decide per query */
	double t0 = now(), t;
	do {
		for (size_t i = 0; i < nq; i++) {
			sx_decision d;
			sx_decide(s, &qs[i], &d, recs);
			denies += d.reason == SX_R_LISTED;
			reviews += d.reason == SX_R_REVIEW;
		}
		done += nq;
	} while ((t = now()) - t0 < secs);
	double single = (double)done / (t - t0);

	/* batched: sx_decide_batch 64 at a time */
	done = 0;
	t0 = now();
	do {
		for (size_t i = 0; i < nq; i += 64) {
			size_t m = nq - i < 64 ? nq - i : 64, k = 0;
			while (k < m)
				k += sx_decide_batch(s, qs + i + k, m - k, ds + k, recs, rcap);
			denies += ds[0].reason == SX_R_LISTED;
			reviews += ds[0].reason == SX_R_REVIEW;
		}
		done += nq;
	} while ((t = now()) - t0 < secs);
	double batched = (double)done / (t - t0);

	/* index only: the lookup of each query's first key */
	sx_key *keys = malloc(nq * sizeof(*keys));
	int64_t *kn = malloc(64 * sizeof(*kn));
	for (size_t i = 0; i < nq; i++)
		keys[i] = qs[i].id.key[0];
	done = 0;
	t0 = now();
	do {
		for (size_t i = 0; i < nq; i += 64)
			sx_snap_find_batch(s, keys + i, nq - i < 64 ? nq - i : 64, kn);
		done += nq;
	} while ((t = now()) - t0 < secs);
	double index = (double)done / (t - t0);

	/* the same batched run through an overlay of 1000 live additions:
	 * what live updates cost the miss path */
	sx_snap *live = NULL;
	sx_overlay *ov = NULL;
	for (int i = 0; i < 1000; i++) {
		char d17[18], id[19], casebuf[64], ewhy[256];
		snprintf(d17, sizeof d17, "11010519900101%03d", i % 1000);
		memcpy(id, d17, 17);
		id[17] = sx_ric_check(d17);
		id[18] = 0;
		snprintf(casebuf, sizeof casebuf, "（2026）京0105执%d号", i);
		const char *w[] = { "LIST.ADD", "case_no", casebuf, "court", "北京市朝阳区人民法院",
		                    "list", "SX", "role", "debtor", "id_type", "RIC", "id_no", id,
		                    "name", "某", "status", "active", "listed_on", "2026-01-01" };
		sx_str a[19];
		for (int k = 0; k < 19; k++)
			a[k] = (sx_str){ w[k], strlen(w[k]) };
		sx_overlay *next;
		if (sx_overlay_apply(s, ov, a, 19, &next, ewhy, sizeof ewhy)) {
			fprintf(stderr, "bench-engine: overlay: %s\n", ewhy);
			break;
		}
		sx_overlay_free(ov);
		ov = next;
	}
	double overlay_rate = 0;
	if (ov && sx_snap_derive(s, ov, &live) == 0) {
		uint32_t lneed = sx_snap_max_query_records(live);
		if ((size_t)lneed * 64 > rcap) {
			rcap = (size_t)lneed * 64;
			recs = realloc(recs, rcap * sizeof(uint32_t));
		}
		done = 0;
		t0 = now();
		do {
			for (size_t i = 0; i < nq; i += 64) {
				size_t m = nq - i < 64 ? nq - i : 64, k = 0;
				while (k < m)
					k += sx_decide_batch(live, qs + i + k, m - k, ds + k, recs, rcap);
			}
			done += nq;
		} while ((t = now()) - t0 < secs);
		overlay_rate = (double)done / (t - t0);
		sx_snap_close(live);
	}

	/* the same batched run on a second mix (joint-channel queries) */
	double mix_rate = 0, mix_tp = 0;
	size_t mix_n = 0;
	uint64_t mix_deny = 0, mix_review = 0;
	if (argc > 4) {
		sx_query *mq = load_queries(s, argv[4], &mix_n, &mix_tp);
		if (!mq)
			return 1;
		for (size_t i = 0; i < mix_n; i++) {
			sx_decision d;
			sx_decide(s, &mq[i], &d, recs);
			mix_deny += d.reason == SX_R_LISTED;
			mix_review += d.reason == SX_R_REVIEW;
		}
		mix_rate = decide_batched(s, mq, mix_n, ds, recs, rcap, secs);
		free(mq);
	}

	printf("snapshot           %s: %llu records, %llu IDs, %llu keys, %llu bytes\n",
	       argv[1], (unsigned long long)in->records, (unsigned long long)in->ids,
	       (unsigned long long)in->keys, (unsigned long long)in->file_bytes);
	printf("hot index          %llu bytes = %.2f bytes/ID (pilots + remap + fingerprints)\n",
	       (unsigned long long)in->index_bytes,
	       (double)in->index_bytes / (double)in->ids);
	printf("queries            %zu (parsed at %.2f M/s)\n", nq,
	       (double)nq / tp / 1e6);
	printf("DRAM random reads  %.1f M/s (8-byte reads over 2 GiB, same run)\n",
	       dram / 1e6);
	printf("decide, single     %.1f M/s  (%.0f%% of DRAM rate)\n", single / 1e6,
	       100 * single / dram);
	printf("decide, batched    %.1f M/s  (%.0f%% of DRAM rate)\n", batched / 1e6,
	       100 * batched / dram);
	printf("index, batched     %.1f M/s  (%.0f%% of DRAM rate)\n", index / 1e6,
	       100 * index / dram);
	printf("decide, batched, 1000 live additions in the overlay  %.1f M/s  (%.0f%% of "
	       "the rate without)\n", overlay_rate / 1e6, 100 * overlay_rate / batched);
	if (argc > 4)
		printf("decide, batched, mix of %s  %.1f M/s  (%.0f%% of the rate above; "
		       "%zu queries parsed at %.2f M/s, %llu DENY and %llu REVIEW once through)\n",
		       argv[4], mix_rate / 1e6, 100 * mix_rate / batched, mix_n,
		       (double)mix_n / mix_tp / 1e6, (unsigned long long)mix_deny,
		       (unsigned long long)mix_review);
	printf("{\"dram_reads_per_s\":%.0f,\"decide_single_per_s\":%.0f,"
	       "\"decide_batched_per_s\":%.0f,\"index_batched_per_s\":%.0f,"
	       "\"decide_batched_overlay_per_s\":%.0f,"
	       "\"index_bytes_per_id\":%.3f,\"denies\":%llu,\"reviews\":%llu,"
	       "\"decide_batched_mix_per_s\":%.0f}\n",
	       dram, single, batched, index, overlay_rate,
	       (double)in->index_bytes / (double)in->ids, (unsigned long long)denies,
	       (unsigned long long)reviews, mix_rate);
	free(keys);
	free(kn);
	free(recs);
	free(ds);
	free(qs);
	sx_snap_close(s);
	return 0;
}
