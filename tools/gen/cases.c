/*
 * cases.c - one enforcement case: court, list, status, listing and expiry
 * dates relative to --as-of, case number and restrictions.
 *
 * Distributions are rough shapes of the published lists (busy basic
 * courts, mostly active cases, most restrictions "all codes"), drawn with
 * integer arithmetic only so that a seed means the same case on every
 * host.  Case numbers are unique per court and year by a counter.
 */

#include "gen.h"

int pick_status(rng_t *r)
{
	unsigned v = rng_below(r, 100);
	return v < 90 ? ST_ACTIVE : v < 94 ? ST_SUSPENDED : v < 97 ? ST_REVOKED
	                                                          : ST_SHIELDED;
}

/* Days ago, skewed to the recent past (the minimum of two uniforms). */
static int32_t recent(rng_t *r, uint32_t span)
{
	uint32_t a = rng_below(r, span), b = rng_below(r, span);
	return (int32_t)(a < b ? a : b);
}

/* A listing with a term of `years`: in force today (listed within the
 * term) or, for a few, already expired. */
static void termed(gen_t *g, rng_t *r, case_t *c, int years)
{
	int32_t lo = add_years(g->asof, -years) + 1;
	if (rng_below(r, 100) < 8)
		c->listed = lo - 1 - (int32_t)rng_below(r, 365);
	else
		c->listed = lo + (int32_t)rng_below(r, (uint32_t)(g->asof - lo + 1));
	c->expires = add_years(c->listed, years) - 1;
}

static void case_dates(gen_t *g, rng_t *r, case_t *c)
{
	const uint32_t span = 6 * 365;
	c->expires = NO_DAY;
	if (c->list == LIST_SX) {
		/* 失信: two years as a rule, extended for serious cases, and some
		 * with no end until the debt is paid */
		if (rng_below(r, 100) < 10) {
			c->listed = g->asof - recent(r, span);
		} else {
			unsigned t = rng_below(r, 100);
			termed(g, r, c, t < 75 ? 2 : t < 87 ? 3 : t < 94 ? 4 : 5);
		}
	} else {
		/* 限制消费令: in force until lifted, as a rule */
		if (rng_below(r, 100) < 88)
			c->listed = g->asof - recent(r, span);
		else
			termed(g, r, c, rng_range(r, 1, 3));
	}
	if (rng_below(r, 1000) < 5) {
		/* published ahead of its first day in force */
		int32_t len = c->expires == NO_DAY ? 0 : c->expires - c->listed;
		c->listed = g->asof + 1 + (int32_t)rng_below(r, 30);
		if (c->expires != NO_DAY)
			c->expires = c->listed + len;
	}
}

/* （2023）闽0102执1234号: the filing year, province, court code, 执 (or 执恢
 * for a resumed enforcement) and a number unique per (court, year, kind). */
static void case_number(gen_t *g, rng_t *r, case_t *c)
{
	const court_t *ct = &COURTS[c->court];
	uint32_t lag = rng_below(r, 100);
	lag = lag < 70 ? (uint32_t)rng_range(r, 20, 365)
	    : lag < 90 ? (uint32_t)rng_range(r, 366, 1095)
	               : (uint32_t)rng_range(r, 1096, 3650);
	/* filed before listing, and before today for cases listed ahead */
	int32_t last = c->listed < g->asof ? c->listed : g->asof;
	int year = year_of(last - (int32_t)lag);
	if (year < 2015) {
		/* old cases show up as 2015-2017 ones, never after the listing */
		int ly = year_of(last);
		year = 2015 + (int)rng_below(r, 3);
		if (year > ly)
			year = ly;
	}
	int kind = rng_below(r, 100) < 8;
	uint32_t *next = &g->cno_next[c->court][year - CNO_Y0][kind];
	if (*next == 0)
		*next = 1 + rng_below(r, 300);
	uint32_t num = *next;
	*next += 1 + rng_below(r, 4);

	bool half = rng_below(r, 100) < 10;
	char *p = c->cno;
	p = half ? PUTS(p, "(") : PUTS(p, "（");
	p = put_uw(p, (uint64_t)year, 4);
	p = half ? PUTS(p, ")") : PUTS(p, "）");
	p = put_str(p, ct->abbr);
	p = put_str(p, ct->code);
	p = kind ? PUTS(p, "执恢") : PUTS(p, "执");
	p = put_u(p, num);
	p = PUTS(p, "号");
	c->cno_len = (uint8_t)(p - c->cno);
}

/* A random non-empty subset of the codes of `of`. */
uint32_t random_codes(rng_t *r, uint32_t of)
{
	uint32_t m = 0;
	while (!m)
		for (int i = 0; i < NCODES; i++)
			if ((of >> i & 1) && rng_below(r, 2))
				m |= 1u << i;
	return m;
}

size_t format_codes(char *out, uint32_t mask, bool lower)
{
	char *p = out;
	for (int i = 0; i < NCODES; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (p != out)
			*p++ = ';';
		for (const char *s = CODES[i]; *s; s++)
			*p++ = lower ? (char)(*s - 'A' + 'a') : *s;
	}
	return (size_t)(p - out);
}

/* Empty for most (every code for SX, the consumption codes for XG);
 * otherwise the usual sets or any subset.  An XG order names consumption
 * codes only; an SX listing narrowed by its court names some consumption
 * codes and, often, the measures the case calls for (so that a unit's
 * people, who carry only the consumption codes and STRAIT, APPOINT,
 * ASSET, always have something of the case to carry). */
static void case_restrictions(rng_t *r, case_t *c)
{
	if (rng_below(r, 100) < 70) {
		c->codes = c->list == LIST_XG ? CONS_CODES : ALL_CODES;
		c->restr_len = 0;
		return;
	}
	unsigned v = rng_below(r, 100);
	uint32_t m = v < 35 ? C_AIR | C_RAIL
	           : v < 60 ? C_AIR | C_RAIL | C_HOTEL
	           : v < 70 ? C_AIR | C_RAIL | C_SHIP
	           : v < 80 ? C_AIR | C_RAIL | C_HOTEL | C_VENUE | C_TRAVEL
	           : v < 82 ? CONS_CODES
	                    : random_codes(r, CONS_CODES);
	if (c->list == LIST_SX) {
		unsigned j = rng_below(r, 100);
		m |= j < 30 ? 0
		   : j < 55 ? C_PROCUREMENT | C_BIDDING | C_SUBSIDY
		   : j < 70 ? C_FINANCE | C_BOND | C_CREDIT | C_STOCK
		   : j < 80 ? C_APPOINT | C_ASSET | C_STRAIT
		   : j < 85 ? ALL_CODES & ~CONS_CODES
		            : random_codes(r, ALL_CODES & ~CONS_CODES);
	}
	c->codes = m;
	c->restr_lower = rng_below(r, 100) < 3;
	c->restr_len = (uint16_t)format_codes(c->restr, m, c->restr_lower);
}

void case_new(gen_t *g, case_t *c)
{
	rng_t *r = &g->rl;
	c->court = (uint16_t)wpick(&g->court_wt, r);
	c->list = rng_below(r, 100) < 70 ? LIST_SX : LIST_XG;
	c->status = (uint8_t)pick_status(r);
	case_dates(g, r, c);
	case_number(g, r, c);
	case_restrictions(r, c);
}
