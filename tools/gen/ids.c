/*
 * ids.c - identity numbers (SPEC section 3): RICs, organisation codes,
 * USCCs, passports and travel permits, with their check characters.
 *
 * Unique by construction, not by lookup.  A RIC is an (area, birth day)
 * slot plus a per-slot counter permuted into the 3-digit sequence;
 * organisation codes and passports come from counters through affine
 * bijections (mod 10^8, 31^6).  Query misses draw from the same counters
 * after the list is written, so a "fresh" ID is guaranteed absent from
 * the list without a hash set.  Check characters are computed here,
 * independently of engine/id.c, so the generator doubles as a cross-check
 * of the engine's ID rules.
 */

#include "gen.h"

const char RIC_CHECKS[] = "10X98765432";
static const int RIC_W[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
static const char USCC_ALPHA[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";   /* 31 */
static const int USCC_W[17] = { 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8,
                                24, 10, 30, 28 };
static const int ORG_W[8] = { 3, 7, 9, 10, 5, 8, 4, 2 };
static int8_t uscc_val[256];   /* -1 outside the USCC alphabet */

static char ric_check(const char *d17)
{
	int s = 0;
	for (int i = 0; i < 17; i++)
		s += (d17[i] - '0') * RIC_W[i];
	return RIC_CHECKS[s % 11];
}

static char uscc_check(const char *c17)
{
	int s = 0;
	for (int i = 0; i < 17; i++)
		s += uscc_val[(unsigned char)c17[i]] * USCC_W[i];
	int v = 31 - s % 31;
	return USCC_ALPHA[v == 31 ? 0 : v];
}

static char org_check(const char *c8)
{
	int s = 0;
	for (int i = 0; i < 8; i++) {
		char c = c8[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c - 'A' + 10;
		s += v * ORG_W[i];
	}
	int v = 11 - s % 11;
	return v == 10 ? 'X' : v == 11 ? '0' : (char)('0' + v);
}

/* The USCC alphabet's values; before any USCC is made. */
__attribute__((cold))
void ids_init(void)
{
	memset(uscc_val, -1, sizeof(uscc_val));
	for (int i = 0; USCC_ALPHA[i]; i++)
		uscc_val[(unsigned char)USCC_ALPHA[i]] = (int8_t)i;
}

int birth_year(rng_t *r, int ymax)
{
	/* triangular over 1940..2004, mode 1972: debtors are mostly 30-60 */
	int y = BIRTH_Y0 + (int)rng_below(r, 33) + (int)rng_below(r, 33);
	if (y > ymax)
		y = ymax - (int)rng_below(r, 8);
	if (y < BIRTH_Y0)
		y = BIRTH_Y0;
	return y;
}

/*
 * Issue a RIC in area `area` for someone born no later than ymax.  Each
 * (area, birth day) slot hands out up to 999 sequence numbers, counter k
 * mapped to 1 + (337k + salt) mod 999 (337 is prime to 999, so the map is
 * a bijection): distinct people never share the first 17 digits, and a
 * legacy 15-digit number is distinct from every 18-digit one too.
 */
void ric_issue(gen_t *g, rng_t *r, unsigned area, int ymax, bool legacy,
                      doc_t *d)
{
	unsigned tries = 0;
	for (;;) {
		int y = birth_year(r, ymax);
		int32_t day = days_from_civil(y, 1, 1) +
		              (int32_t)rng_below(r, is_leap(y) ? 366 : 365);
		size_t slot = (size_t)area * g->ndays + (size_t)(day - g->day0);
		if (g->slot[slot] >= 999) {
			if (++tries > 16 && area < NAREAS_MAINLAND)
				area = rng_below(r, NAREAS_MAINLAND);
			continue;
		}
		unsigned k = g->slot[slot]++;
		unsigned salt = (unsigned)((slot * 2654435761u) ^ g->seq_salt) % 999;
		unsigned seq = 1 + (k * 337 + salt) % 999;
		int yy, mm, dd;
		civil_from_days(day, &yy, &mm, &dd);
		char *p = d->no;
		p = put(p, AREAS[area].code, 6);
		if (legacy && yy < 2000) {
			p = put_uw(p, (uint64_t)(yy % 100), 2);
		} else {
			p = put_uw(p, (uint64_t)yy, 4);
			legacy = false;
		}
		p = put_uw(p, (uint64_t)mm, 2);
		p = put_uw(p, (uint64_t)dd, 2);
		p = put_uw(p, seq, 3);
		if (!legacy) {
			*p = ric_check(d->no);
			p++;
		}
		*p = 0;
		d->type = IDT_RIC;
		d->len = (uint8_t)(p - d->no);
		return;
	}
}

/* The 18-digit form of a legacy 15-digit RIC. */
void ric_upgrade(const char *r15, char *out19)
{
	memcpy(out19, r15, 6);
	memcpy(out19 + 6, "19", 2);
	memcpy(out19 + 8, r15 + 6, 9);
	out19[17] = ric_check(out19);
	out19[18] = 0;
}

/*
 * A fresh 9-character organisation code.  Old-style bodies are 8 digits,
 * (48271k + b) mod 10^8; new-style bodies (units registered since the 2015
 * reform) are "MA" + 6 USCC characters, (1000003k + b) mod 31^6.  Both maps
 * are bijections, so codes never repeat, and the two styles never collide
 * (digits vs. letters in position 1).
 */
void org_issue(gen_t *g, bool new_style, char *out9)
{
	if (new_style) {
		const uint64_t m = 887503681ULL;   /* 31^6 */
		uint64_t v = (g->org_new_k++ * 1000003ULL + g->org_new_b) % m;
		out9[0] = 'M';
		out9[1] = 'A';
		for (int i = 7; i >= 2; i--) {
			out9[i] = USCC_ALPHA[v % 31];
			v /= 31;
		}
	} else {
		uint64_t v = (g->org_old_k++ * 48271ULL + g->org_old_b) % 100000000ULL;
		put_uw(out9, v, 8);
	}
	out9[8] = org_check(out9);
}

/* A USCC around an organisation code: registration authority and unit
 * kind (e.g. "91" enterprise), the registering area, the code, check. */
void uscc_make(const char *kind2, const char *area6, const char *org9,
                      doc_t *d)
{
	memcpy(d->no, kind2, 2);
	memcpy(d->no + 2, area6, 6);
	memcpy(d->no + 8, org9, 9);
	d->no[17] = uscc_check(d->no);
	d->no[18] = 0;
	d->len = 18;
	d->type = IDT_USCC;
}

/* Chinese passport: E + 8 digits, or (newer series) E + letter + 7
 * digits; both from counters through bijections, so never repeated. */
void passport_issue(gen_t *g, rng_t *r, doc_t *d)
{
	static const char L[] = "ABCDEFGHJKLMNPQRSTUVWXYZ";   /* 24 */
	char *p = d->no;
	*p++ = 'E';
	if (rng_below(r, 100) < 85) {
		uint64_t v = (g->pass_k++ * 16807ULL + g->pass_b) % 100000000ULL;
		p = put_uw(p, v, 8);
	} else {
		uint64_t v = (g->pass2_k++ * 69069ULL + g->pass2_b) % 240000000ULL;
		*p++ = L[v / 10000000];
		p = put_uw(p, v % 10000000, 7);
	}
	*p = 0;
	d->type = IDT_PASSPORT;
	d->len = (uint8_t)(p - d->no);
}

void digits_doc(rng_t *r, int type, const char *prefix, int ndig, doc_t *d)
{
	char *p = put_str(d->no, prefix);
	for (int i = 0; i < ndig; i++)
		*p++ = (char)('0' + rng_below(r, 10));
	*p = 0;
	d->type = (uint8_t)type;
	d->len = (uint8_t)(p - d->no);
}
