/*
 * rng.c - the generator's randomness: xoshiro256** (Blackman & Vigna)
 * streams seeded with splitmix64, and weighted choice through a table.
 *
 * One stream per concern (RS_* in gen.h) so that asking for permits or
 * queries does not change the list.  The per-draw functions are inline in
 * gen.h; here are the setup ones.  A weighted choice is one draw into a
 * 4096-slot table (O(1), weights resolved to 1/4096) rather than a search
 * over cumulative weights.
 */

#include "gen.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed(rng_t *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

void wtab_build(wtab_t *t, const unsigned *w, size_t n)
{
	uint64_t total = 0, cum = 0;
	size_t i = 0;
	for (size_t k = 0; k < n; k++)
		total += w[k];
	for (uint32_t s = 0; s < (1u << WT_BITS); s++) {
		/* the item whose cumulative range holds the slot's midpoint */
		uint64_t pos = ((2 * (uint64_t)s + 1) * total) >> (WT_BITS + 1);
		while (i < n && cum + w[i] <= pos)
			cum += w[i++];
		t->idx[s] = (uint16_t)(i < n ? i : n - 1);
	}
}
