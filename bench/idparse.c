/*
 * idparse.c - the ID parse on its own (make bench-idparse): nanoseconds
 * per sx_id_parse() of the IDs a gate asks about, query side.
 *
 * usage: bench-idparse [SECONDS]
 *
 * Four sets of 65536 IDs each, made here with a fixed seed: 18-digit RICs
 * with a correct check character (one in eleven ends in X), passport
 * numbers (a letter and 8 digits, as sxgate-gen makes them), the same RICs
 * written as a clerk might type them (lower-case x, a hyphen, surrounding
 * spaces: the general path), and USCCs.  Each set is parsed round after
 * round for SECONDS / 4 (default 2 s in all); every parse must succeed.
 * The sets are larger than L1 but fit L2, as a read buffer's IDs do.
 * Time is this thread's CPU time, so that on a shared machine the time
 * another process holds the core is not counted as parsing.
 */
#include "id.h"
#include "sx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 65536
#define W 24

static uint64_t rng = 0x2545f4914f6cdd1dull;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* A valid 18-digit RIC into out (19 bytes). */
static void make_ric(char *out)
{
	static const char *const areas[] = { "110101", "310104", "350304", "440305" };
	snprintf(out, 19, "%s%04u%02u%02u%03u", areas[rnd(4)], 1940 + rnd(80),
	         1 + rnd(12), 1 + rnd(28), rnd(1000));
	out[17] = sx_ric_check(out);
	out[18] = 0;
}

static void make_uscc(char *out)
{
	static const char alpha[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	for (int i = 0; i < 17; i++)
		out[i] = alpha[rnd(i < 2 ? 10 : 31)];
	out[17] = sx_uscc_check(out);
	out[18] = 0;
}

static volatile uint64_t sink;

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ns per parse of ids[0..N) as type, for secs. */
static double run(int type, char (*ids)[W], const size_t *lens, double secs)
{
	sx_id id;
	const char *why;
	uint64_t done = 0, acc = 0;
	uint64_t t0 = cpu_ns(), t;
	do {
		for (size_t i = 0; i < N; i++) {
			if (sx_id_parse(type, ids[i], lens[i], SX_SIDE_QUERY, &id, &why)) {
				fprintf(stderr, "bench-idparse: '%s' refused: %s\n", ids[i], why);
				exit(1);
			}
			acc += id.key[0].lo;
		}
		done += N;
	} while ((t = cpu_ns()) - t0 < (uint64_t)(secs * 1e9));
	sink = acc;
	return (double)(t - t0) / (double)done;
}

int main(int argc, char **argv)
{
	double secs = (argc > 1 ? atof(argv[1]) : 2) / 4;
	char (*ids)[W] = malloc(N * W);
	size_t *lens = malloc(N * sizeof *lens);
	if (!ids || !lens)
		return 1;

	for (size_t i = 0; i < N; i++) {
		make_ric(ids[i]);
		lens[i] = 18;
	}
	printf("RIC, 18 digits           %6.1f ns/ID\n", run(SX_IDT_RIC, ids, lens, secs));

	for (size_t i = 0; i < N; i++) {
		snprintf(ids[i], W, "E%08u", rnd(100000000));
		lens[i] = 9;
	}
	printf("passport                 %6.1f ns/ID\n", run(SX_IDT_PASSPORT, ids, lens, secs));

	for (size_t i = 0; i < N; i++) {
		char r[19];
		do
			make_ric(r);
		while (r[17] != 'X' && rnd(3));
		if (r[17] == 'X')
			r[17] = 'x';
		lens[i] = (size_t)snprintf(ids[i], W, " %.6s-%.12s ", r, r + 6);
	}
	printf("RIC, as typed (x, -, ' ') %5.1f ns/ID\n", run(SX_IDT_RIC, ids, lens, secs));

	for (size_t i = 0; i < N; i++) {
		make_uscc(ids[i]);
		lens[i] = 18;
	}
	printf("USCC                     %6.1f ns/ID\n", run(SX_IDT_USCC, ids, lens, secs));
	free(ids);
	free(lens);
	return 0;
}
