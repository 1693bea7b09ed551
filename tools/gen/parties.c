/*
 * parties.c - the people and units on a list: names, and the debtors of
 * a case with the documents and representatives linked to them.
 *
 * A person debtor is mostly a mainland resident with a RIC from an area
 * near the court, sometimes someone from Hong Kong, Macao or Taiwan, or a
 * foreigner with an FRP (and then often a passport).  A unit is a company,
 * cooperative or school with a USCC (or, when old, only an organisation
 * code) and a legal representative who is listed with it.  Names can be
 * masked as published lists do (--mask-names).
 */

#include "gen.h"

static char *put_cjk(char *p, const char *chars, size_t nchars, rng_t *r)
{
	return put(p, chars + 3 * rng_below(r, (uint32_t)nchars), 3);
}

static void person_name(gen_t *g, rng_t *r, person_t *pp)
{
	char *p = put_str(pp->name, SURNAMES[wpick(&g->surname_wt, r)]);
	int n = rng_below(r, 100) < 35 ? 1 : 2;
	for (int i = 0; i < n; i++)
		p = g->mask ? PUTS(p, "某") : put_cjk(p, GIVEN_CHARS, g->ngiven, r);
	pp->name_len = (uint8_t)(p - pp->name);
}

static void foreign_name(gen_t *g, rng_t *r, person_t *pp)
{
	char *p = put_str(pp->name, FOREIGN_FIRST[rng_below(r, n_foreign_first)]);
	p = PUTS(p, "·");
	p = g->mask ? PUTS(p, "某某")
	            : put_str(p, FOREIGN_LAST[rng_below(r, n_foreign_last)]);
	pp->name_len = (uint8_t)(p - pp->name);
}

static char *put_firm(gen_t *g, rng_t *r, char *p)
{
	if (g->mask)
		return PUTS(p, "某某");
	p = put_cjk(p, FIRM_CHARS, g->nfirm, r);
	return put_cjk(p, FIRM_CHARS, g->nfirm, r);
}


/* A mainland area: mostly in the court's province, else anywhere. */
static unsigned area_near(gen_t *g, rng_t *r, unsigned court)
{
	unsigned prov = (unsigned)(COURTS[court].region[0] - '0') * 10 +
	                (unsigned)(COURTS[court].region[1] - '0');
	if (g->prov_n[prov] && rng_below(r, 100) < 60)
		return g->prov_areas[prov][rng_below(r, g->prov_n[prov])];
	return rng_below(r, NAREAS_MAINLAND);
}

/*
 * A new person: mainland resident (RIC, ~3% of them legacy 15-digit numbers
 * of people born before 2000, 5% with a passport), Hong Kong / Macao resident (RIC
 * of a residence permit + HKMO pass), Taiwan resident (RIC + TW pass), or
 * foreigner (FRP, half of them with a passport).
 */
void person_new(gen_t *g, rng_t *r, unsigned court, int ymax, person_t *pp)
{
	unsigned kind = rng_below(r, 10000);
	pp->ndocs = 1;
	if (kind < 100) {                                   /* HK / Macao */
		bool hk = rng_below(r, 4) != 0;
		ric_issue(g, r, hk ? AREA_HK : AREA_MO, ymax, false, &pp->doc[0]);
		digits_doc(r, IDT_HKMO, hk ? "H" : "M", 8, &pp->doc[pp->ndocs++]);
		person_name(g, r, pp);
	} else if (kind < 150) {                            /* Taiwan */
		ric_issue(g, r, AREA_TW, ymax, false, &pp->doc[0]);
		digits_doc(r, IDT_TW, "", 8, &pp->doc[pp->ndocs++]);
		person_name(g, r, pp);
	} else if (kind < 180) {                            /* foreigner */
		/* old-format permanent residence card: nationality, 4-digit
		 * area, YYMMDD of birth, 2 digits */
		doc_t *d = &pp->doc[0];
		char *p = put_str(d->no, FRP_NATIONS[rng_below(r, n_frp_nations)]);
		p = put(p, COURTS[court].region, 4);
		p = put_uw(p, (uint64_t)(birth_year(r, ymax) % 100), 2);
		p = put_uw(p, (uint64_t)rng_range(r, 1, 12), 2);
		p = put_uw(p, (uint64_t)rng_range(r, 1, 28), 2);
		p = put_uw(p, rng_below(r, 100), 2);
		*p = 0;
		d->type = IDT_FRP;
		d->len = (uint8_t)(p - d->no);
		if (rng_below(r, 2)) {
			/* a foreign passport: a letter other than E, 8 digits */
			static const char L[] = "ABCGKLNPSTXY";
			char pre[2] = { L[rng_below(r, sizeof(L) - 1)], 0 };
			digits_doc(r, IDT_PASSPORT, pre, 8, &pp->doc[pp->ndocs++]);
		}
		foreign_name(g, r, pp);
	} else {                                            /* mainland */
		bool legacy = rng_below(r, 1000) < 32;
		ric_issue(g, r, area_near(g, r, court), ymax, legacy, &pp->doc[0]);
		if (rng_below(r, 100) < 5)
			passport_issue(g, r, &pp->doc[pp->ndocs++]);
		person_name(g, r, pp);
	}
}

/* A plain mainland person with one RIC row (the tail of the file). */
void person_plain(gen_t *g, rng_t *r, unsigned court, int ymax, person_t *pp)
{
	pp->ndocs = 1;
	ric_issue(g, r, area_near(g, r, court), ymax, false, &pp->doc[0]);
	person_name(g, r, pp);
}

/*
 * A new unit: an enterprise with a USCC (91 + area + organisation code),
 * now and then a farmers' cooperative (93) or a private school (52), or an
 * older unit known only by its 9-character organisation code.
 */
void unit_new(gen_t *g, rng_t *r, unsigned court, int ymax, unit_t *u)
{
	int ca = g->court_area[court];
	unsigned area = ca >= 0 && rng_below(r, 100) < 75 ? (unsigned)ca
	                                                  : area_near(g, r, court);
	const char *place = AREAS[area].place;
	char org[9];
	char *p = u->name;
	unsigned form = rng_below(r, 100);

	if (rng_below(r, 100) < 85) {
		char a6[6];
		memcpy(a6, AREAS[area].code, 6);
		if (rng_below(r, 2))
			memcpy(a6 + 4, "00", 2);       /* registered at city level */
		org_issue(g, rng_below(r, 100) < 65, org);
		const char *kind = form < 94 ? "91" : form < 97 ? "93" : "52";
		uscc_make(kind, a6, org, &u->id);
		u->org_hyphen = false;
	} else {
		org_issue(g, false, org);
		memcpy(u->id.no, org, 9);
		u->id.no[9] = 0;
		u->id.len = 9;
		u->id.type = IDT_ORG;
		u->org_hyphen = rng_below(r, 100) < 30;
		form = rng_below(r, 94);               /* enterprises only */
	}

	if (form >= 97) {
		p = put_str(p, place);
		p = put_firm(g, r, p);
		p = put_str(p, SCHOOL_KINDS[rng_below(r, n_school_kinds)]);
	} else if (form >= 94) {
		p = put_str(p, place);
		p = PUTS(p, "市");
		p = put_firm(g, r, p);
		p = put_str(p, COOP_KINDS[rng_below(r, n_coop_kinds)]);
		p = PUTS(p, "专业合作社");
	} else {
		const char *ind = INDUSTRIES[rng_below(r, NINDUSTRIES)];
		unsigned style = rng_below(r, 100);
		if (style < 8) {                         /* 鑫隆（福州）贸易有限公司 */
			p = put_firm(g, r, p);
			p = PUTS(p, "（");
			p = put_str(p, place);
			p = PUTS(p, "）");
		} else {
			p = put_str(p, place);
			if (style < 25)
				p = PUTS(p, "市");
			p = put_firm(g, r, p);
		}
		p = put_str(p, ind);
		if (style >= 95)
			p = PUTS(p, "股份有限公司");
		else if (style >= 92)
			p = PUTS(p, "合伙企业（有限合伙）");
		else if (style >= 80)
			p = PUTS(p, "有限责任公司");
		else
			p = PUTS(p, "有限公司");
	}
	u->name_len = (uint8_t)(p - u->name);
	person_new(g, r, court, ymax, &u->rep);
}
