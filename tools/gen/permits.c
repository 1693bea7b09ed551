/*
 * permits.c - the court permits CSV: about one per 10 000 rows (at least
 * one), each for a listed person's own case.
 *
 * The candidates are a reservoir sample taken while the list was written
 * (list.c), so permits cost no second pass; a fixed fallback candidate
 * guarantees a permit even for a list with no suitable row.
 */

#include "gen.h"

/* The same case number with the other kind of brackets. */
static size_t swap_brackets(const char *in, size_t n, char *out)
{
	char *p = out;
	for (size_t i = 0; i < n;) {
		if (in[i] == '(') {
			p = PUTS(p, "（"); i++;
		} else if (in[i] == ')') {
			p = PUTS(p, "）"); i++;
		} else if (i + 3 <= n && memcmp(in + i, "（", 3) == 0) {
			*p++ = '('; i += 3;
		} else if (i + 3 <= n && memcmp(in + i, "）", 3) == 0) {
			*p++ = ')'; i += 3;
		} else {
			*p++ = in[i++];
		}
	}
	return (size_t)(p - out);
}

/*
 * One permit per selected listed person's row: its own case, codes the
 * row restricts (mostly flights or trains: a trip for medical treatment;
 * now and then procurement, bidding or credit: a contract or a loan the
 * court lets go on),
 * a window of days to weeks around the as-of day - most cover it, some are
 * over, some still to come.
 */
void write_permits(gen_t *g)
{
	rng_t *r = &g->rp;
	out_t *o = &g->permits_out;
	char *p = out_ptr(o);
	p = PUTS(p, "id_type,id_no,case_no,codes,valid_from,valid_to,permit_ref\n");
	out_commit(o, p);
	if (!g->psrc_n && g->pfallback_set) {
		g->psrc[0] = g->pfallback;
		g->psrc_n = 1;
	}

	for (uint64_t i = 0; i < g->psrc_n; i++) {
		const permit_src_t *e = &g->psrc[i];
		char buf[128];
		unsigned v = rng_below(r, 100);
		uint32_t want = v < 40 ? C_AIR : v < 60 ? C_RAIL : v < 75 ? C_AIR | C_RAIL
		              : v < 85 ? C_HOTEL : v < 88 ? C_TRAVEL
		              : v < 92 ? C_PROCUREMENT | C_BIDDING : v < 94 ? C_CREDIT
		              : random_codes(r, ALL_CODES);
		uint32_t codes = want & e->codes;
		if (!codes)
			codes = e->codes & -e->codes;       /* lowest code */

		int32_t from, to;
		v = rng_below(r, 100);
		if (v < 75) {
			from = g->asof - (int32_t)rng_below(r, 15);
			to = g->asof + (int32_t)rng_below(r, 31);
		} else if (v < 90) {
			to = g->asof - 1 - (int32_t)rng_below(r, 30);
			from = to - 1 - (int32_t)rng_below(r, 20);
		} else {
			from = g->asof + 1 + (int32_t)rng_below(r, 20);
			to = from + 1 + (int32_t)rng_below(r, 30);
		}

		p = out_ptr(o);
		p = put_str(p, IDT_NAME[e->d.type]);
		*p++ = ',';
		if (e->d.type == IDT_RIC && e->d.len == 15 && rng_below(r, 2)) {
			ric_upgrade(e->d.no, buf);
			p = put(p, buf, 18);
		} else {
			p = put(p, e->d.no, e->d.len);
		}
		*p++ = ',';
		if (rng_below(r, 100) < 20)
			p = put(p, buf, swap_brackets(e->cno, e->cno_len, buf));
		else
			p = put(p, e->cno, e->cno_len);
		*p++ = ',';
		p = put(p, buf, format_codes(buf, codes, false));
		*p++ = ',';
		p = put_date(p, from);
		*p++ = ',';
		p = put_date(p, to);
		*p++ = ',';
		p = PUTS(p, "准许-");
		p = put_uw(p, (uint64_t)year_of(from), 4);
		*p++ = '-';
		p = put_uw(p, i + 1, 6);
		*p++ = '\n';
		out_commit(o, p);
	}
}
