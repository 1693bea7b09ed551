/*
 * list.c - the list CSV (SPEC section 2): cases one after another, each
 * writing its rows, with the defects --bad-rate and --typo-rate ask for.
 *
 * --records counts data rows, and the last rows are one-row person cases
 * so no unit case is cut in half.  About one debtor in ten is kept in a
 * small pool and comes back in later cases.  While writing, the listed IDs
 * feed a bounded uniform reservoir (at most 4 M) that the queries draw
 * their hits from, and listed persons' cases feed the permits' reservoir.
 * Defects come from their own random stream, so the rows around a broken
 * one are the rows of the clean list.
 */
#include <inttypes.h>
#include <stdio.h>

#include "gen.h"

enum { BAD_NONE, BAD_STATUS, BAD_DATE, BAD_ID, BAD_LIST, BAD_CODE,
       BAD_ORDER, BAD_EMPTY, BAD_PIPE, BAD_ROLE, BAD_N };

static void hits_add(gen_t *g, const doc_t *d)
{
	if (!g->hits_cap)
		return;
	uint64_t i = g->hits_seen++;
	if (i < g->hits_cap) {
		g->hits[g->hits_n++] = *d;
	} else {
		uint64_t j = rng_below64(&g->rh, i + 1);
		if (j < g->hits_cap)
			g->hits[j] = *d;
	}
}

/* Rows a permit can be given for: a person's, applying on the as-of day;
 * codes are what the row restricts. */
static void permit_candidate(gen_t *g, const case_t *c, const doc_t *d,
                             uint32_t codes, int status)
{
	permit_src_t *e;
	if (!g->psrc_cap || d->type == IDT_USCC || d->type == IDT_ORG)
		return;
	if (!g->pfallback_set) {
		/* the first person row of all, for a list where none applies */
		e = &g->pfallback;
		g->pfallback_set = true;
		goto store;
	}
	if (status != ST_ACTIVE && status != ST_SUSPENDED)
		return;
	if (c->listed > g->asof || (c->expires != NO_DAY && c->expires < g->asof))
		return;
	uint64_t i = g->psrc_seen++, j = i;
	if (i >= g->psrc_cap) {
		j = rng_below64(&g->rp, i + 1);
		if (j >= g->psrc_cap)
			return;
	} else {
		g->psrc_n++;
	}
	e = &g->psrc[j];
store:
	e->d = *d;
	e->codes = codes;
	e->cno_len = c->cno_len;
	memcpy(e->cno, c->cno, c->cno_len);
}

/* A malformed version of an ID, for --bad-rate. */
static size_t corrupt_id(rng_t *r, const doc_t *d, char *out)
{
	memcpy(out, d->no, d->len);
	size_t n = d->len;
	switch (d->type) {
	case IDT_RIC:
		switch (rng_below(r, 3)) {
		case 0: return n - 1;                             /* a digit short */
		case 1: out[n - 4] = 'A'; return n;               /* a letter */
		default:                                          /* month 13 */
			out[n == 18 ? 10 : 8] = '1';
			out[n == 18 ? 11 : 9] = '3';
			return n;
		}
	case IDT_USCC:
		out[5] = 'I';                    /* outside the USCC alphabet */
		return n;
	case IDT_ORG:
		return 7;                        /* too short */
	default:
		out[n - 1] = '#';
		return n;
	}
}

/*
 * Write one row of case c.  With --bad-rate a row may be broken on purpose
 * (it must be rejected), with --typo-rate an 18-digit RIC gets a wrong
 * check character (loaded with a warning, and still matched).  Defect
 * draws use their own stream, so the list around them stays the same.
 */
static void emit_row(gen_t *g, const case_t *c, int role, const doc_t *d,
                     bool org_hyphen, const char *name, size_t name_len,
                     int status)
{
	rng_t *rd = &g->rd;
	const court_t *ct = &COURTS[c->court];
	int bad = BAD_NONE;
	bool typo = false;
	char idbuf[32];
	const char *id = d->no;
	size_t id_len = d->len;

	if (g->bad_ppm && rng_ppm(rd, g->bad_ppm))
		bad = 1 + (int)rng_below(rd, BAD_N - 1);
	else if (g->typo_ppm && d->type == IDT_RIC && d->len == 18 &&
	         rng_ppm(rd, g->typo_ppm))
		typo = true;

	if (d->type == IDT_ORG && org_hyphen) {
		memcpy(idbuf, d->no, 8);
		idbuf[8] = '-';
		idbuf[9] = d->no[8];
		id = idbuf;
		id_len = 10;
	}
	if (typo) {
		memcpy(idbuf, d->no, 18);
		const char *q = strchr(RIC_CHECKS, d->no[17]);
		idbuf[17] = RIC_CHECKS[((size_t)(q - RIC_CHECKS) + 1 + rng_below(rd, 10)) % 11];
		id = idbuf;
		g->typo_rows++;
	}
	if (bad == BAD_ID) {
		id_len = corrupt_id(rd, d, idbuf);
		id = idbuf;
	}

	char *p = out_ptr(&g->list_out);
	p = put(p, c->cno, c->cno_len);
	*p++ = ',';
	if (bad == BAD_PIPE) {
		/* "XX市XX区|人民法院": split before the last five characters */
		size_t n = strlen(ct->name);
		p = put(p, ct->name, n - 15);
		*p++ = '|';
		p = put(p, ct->name + n - 15, 15);
	} else {
		p = put_str(p, ct->name);
	}
	*p++ = ',';
	p = bad == BAD_LIST ? PUTS(p, "ZX") : put(p, LIST_NAME[c->list], 2);
	*p++ = ',';
	p = put_str(p, bad == BAD_ROLE ? "guarantor" : ROLE_NAME[role]);
	*p++ = ',';
	p = put_str(p, IDT_NAME[d->type]);
	*p++ = ',';
	p = put(p, id, id_len);
	*p++ = ',';
	if (bad != BAD_EMPTY)
		p = put(p, name, name_len);
	*p++ = ',';
	p = put_str(p, bad == BAD_STATUS ? "pending" : STATUS_NAME[status]);
	*p++ = ',';
	if (bad == BAD_DATE) {
		int y, m, dd;
		civil_from_days(c->listed, &y, &m, &dd);
		p = put_uw(p, (uint64_t)y, 4);
		p = rng_below(rd, 2) ? PUTS(p, "-02-30") : PUTS(p, "-13-01");
	} else {
		p = put_date(p, c->listed);
	}
	*p++ = ',';
	if (bad == BAD_ORDER)
		p = put_date(p, c->listed - 1 - (int32_t)rng_below(rd, 60));
	else if (c->expires != NO_DAY)
		p = put_date(p, c->expires);
	*p++ = ',';
	/* a unit's people carry only the consumption codes and STRAIT,
	 * APPOINT, ASSET: a narrowed case names just those on their rows */
	uint32_t codes = role == ROLE_DEBTOR ? c->codes : c->codes & RELATED_CODES;
	if (bad == BAD_CODE)
		p = PUTS(p, "AIR;YACHT");
	else if (role == ROLE_DEBTOR || !c->restr_len)
		p = put(p, c->restr, c->restr_len);
	else
		p += format_codes(p, codes, c->restr_lower);
	*p++ = ',';
	p = put(p, ct->region, 6);
	*p++ = '\n';
	out_commit(&g->list_out, p);
	g->rows++;

	if (bad) {
		g->bad_rows++;
		return;
	}
	hits_add(g, d);
	permit_candidate(g, c, d, codes, status);
}

/* Within a unit's case a row now and then has its own status (one person
 * shielded while the unit stays listed, and so on). */
static int row_status(gen_t *g, const case_t *c)
{
	return rng_below(&g->rl, 100) < 2 ? pick_status(&g->rl) : c->status;
}

static void emit_person(gen_t *g, const case_t *c, int role, const person_t *pp,
                        int status)
{
	for (unsigned i = 0; i < pp->ndocs; i++)
		emit_row(g, c, role, &pp->doc[i], false, pp->name, pp->name_len, status);
}

static void emit_unit_case(gen_t *g, const case_t *c, const unit_t *u, int ymax)
{
	rng_t *r = &g->rl;
	person_t extra;
	emit_row(g, c, ROLE_DEBTOR, &u->id, u->org_hyphen, u->name, u->name_len,
	         c->status);
	emit_person(g, c, ROLE_LEGAL_REP, &u->rep, row_status(g, c));
	if (rng_below(r, 100) < 10) {
		person_new(g, r, c->court, ymax, &extra);
		emit_person(g, c, ROLE_PRINCIPAL, &extra, row_status(g, c));
	}
	if (rng_below(r, 100) < 25) {
		/* often the legal representative controls the unit too: the
		 * same ID in two roles of one case, two records */
		if (rng_below(r, 100) < 40) {
			emit_person(g, c, ROLE_CONTROLLER, &u->rep, row_status(g, c));
		} else {
			person_new(g, r, c->court, ymax, &extra);
			emit_person(g, c, ROLE_CONTROLLER, &extra, row_status(g, c));
		}
	}
	if (rng_below(r, 100) < 15) {
		int n = rng_below(r, 100) < 30 ? 2 : 1;
		for (int i = 0; i < n; i++) {
			person_new(g, r, c->court, ymax, &extra);
			emit_person(g, c, ROLE_RESPONSIBLE, &extra, row_status(g, c));
		}
	}
}

/* Keep a new debtor for 1-3 more cases later on (~10% of debtors). */
static void pool_maybe_add(gen_t *g, bool is_unit, const person_t *pp,
                           const unit_t *u)
{
	rng_t *r = &g->rl;
	if (rng_below(r, 100) >= 10 || g->pool_n >= POOL_CAP)
		return;
	pooled_t *e = &g->pool[g->pool_n++];
	e->is_unit = is_unit;
	e->left = (uint8_t)rng_range(r, 1, 3);
	if (is_unit)
		e->u = *u;
	else
		e->p = *pp;
}

static void progress(gen_t *g, uint64_t *next_report)
{
	if (g->rows < *next_report)
		return;
	if (!g->quiet)
		fprintf(stderr, PROG ": %" PRIu64 " of %" PRIu64 " rows (%u%%)\n",
		        g->rows, g->records, (unsigned)(g->rows * 100 / g->records));
	*next_report += 1000000;
}

void generate_list(gen_t *g)
{
	rng_t *r = &g->rl;
	uint64_t next_report = g->records >= 2000000 ? 1000000 : UINT64_MAX;
	char *p = out_ptr(&g->list_out);
	p = PUTS(p, "case_no,court,list,role,id_type,id_no,name,status,listed_on,"
	            "expires_on,restrictions,region\n");
	out_commit(&g->list_out, p);

	while (g->rows < g->records) {
		case_t c;
		case_new(g, &c);
		g->cases++;
		int ymax = year_of(c.listed) - 18;
		if (ymax > BIRTH_Y1)
			ymax = BIRTH_Y1;

		if (g->records - g->rows < TAIL_ROWS) {
			person_t pp;
			person_plain(g, r, c.court, ymax, &pp);
			emit_person(g, &c, ROLE_DEBTOR, &pp, c.status);
		} else if (rng_below(r, POOL_CAP) < g->pool_n) {
			/* a debtor we met before, in another case.  Drawing with
			 * probability pool_n / POOL_CAP settles the pool at ~1/6
			 * full, so a debtor's cases are spread over thousands of
			 * other cases, and a full pool always gives one back. */
			unsigned k = rng_below(r, g->pool_n);
			pooled_t *e = &g->pool[k];
			g->repeat_cases++;
			if (e->is_unit) {
				g->unit_cases++;
				emit_unit_case(g, &c, &e->u, ymax);
			} else {
				emit_person(g, &c, ROLE_DEBTOR, &e->p, c.status);
			}
			if (--e->left == 0)
				*e = g->pool[--g->pool_n];
		} else if (rng_below(r, 100) < 15) {
			unit_t u;
			unit_new(g, r, c.court, ymax, &u);
			g->unit_cases++;
			emit_unit_case(g, &c, &u, ymax);
			pool_maybe_add(g, true, NULL, &u);
		} else {
			person_t pp;
			person_new(g, r, c.court, ymax, &pp);
			emit_person(g, &c, ROLE_DEBTOR, &pp, c.status);
			pool_maybe_add(g, false, &pp, NULL);
		}
		progress(g, &next_report);
	}
}
