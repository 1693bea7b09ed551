/*
 * queries.c - the query stream: one line per query, ID TAB type TAB
 * channel TAB class TAB day.
 *
 * A hit is an ID drawn from the list's reservoir (list.c), any status; a
 * miss is a valid ID drawn from the same counters as the list's IDs after
 * the list is written (ids.c), so it is on no row.  IDs are sometimes
 * written the ways people type them (lower case, legacy 15-digit RIC,
 * hyphenated ORG); channels and seat classes follow real traffic: the
 * booking systems' channels, and with --joint-rate the offices and
 * platforms that ask the joint-punishment channels (procurement and
 * bidding platforms and banks most, licensing and HR offices less).
 */
#include <inttypes.h>
#include <stdio.h>

#include "gen.h"

typedef struct { const char *word, *letter; } seat_t;
enum { SEAT_BUSINESS, SEAT_PREMIUM, SEAT_FIRST, SEAT_SECOND, SEAT_DELUXE,
       SEAT_SOFT_SLEEPER, SEAT_EMU_SLEEPER, SEAT_HARD_SLEEPER, SEAT_SOFT_SEAT,
       SEAT_HARD_SEAT, SEAT_STANDING };
static const seat_t SEATS[] = {
	{ "business", "9" }, { "premium", "P" }, { "first", "M" },
	{ "second", "O" }, { "deluxe_soft_sleeper", "6" },
	{ "soft_sleeper", "4" }, { "emu_sleeper", "F" },
	{ "hard_sleeper", "3" }, { "soft_seat", "2" }, { "hard_seat", "1" },
	{ "standing", NULL },
};

/* The seats sold on each kind of train, in percent. */
static int pick_seat(rng_t *r, char train)
{
	unsigned v = rng_below(r, 100);
	switch (train) {
	case 'G':
		return v < 75 ? SEAT_SECOND : v < 90 ? SEAT_FIRST : v < 95 ? SEAT_BUSINESS
		     : v < 97 ? SEAT_PREMIUM : SEAT_STANDING;
	case 'D':
		return v < 70 ? SEAT_SECOND : v < 85 ? SEAT_FIRST : v < 90 ? SEAT_EMU_SLEEPER
		     : v < 93 ? SEAT_BUSINESS : SEAT_STANDING;
	case 'C': case 'S':
		return v < 78 ? SEAT_SECOND : v < 92 ? SEAT_FIRST : v < 94 ? SEAT_BUSINESS
		     : SEAT_STANDING;
	default:
		return v < 40 ? SEAT_HARD_SEAT : v < 75 ? SEAT_HARD_SLEEPER
		     : v < 87 ? SEAT_SOFT_SLEEPER : v < 95 ? SEAT_STANDING
		     : v < 98 ? SEAT_SOFT_SEAT : SEAT_DELUXE;
	}
}

/* A joint-punishment channel and its class, weighted per mille by who
 * asks: the channel (class-less: "-"), or the classes with their weights. */
typedef struct { const char *name; unsigned w; } wname_t;
static const wname_t FINANCE[] = {
	{ "bank", 600 }, { "securities", 100 }, { "fund", 100 }, { "futures", 30 },
	{ "private_fund", 50 }, { "guarantee", 70 }, { "insurer", 50 }, { 0, 0 } };
static const wname_t BOND[] = { { "interbank", 600 }, { "corporate", 400 }, { 0, 0 } };
static const wname_t APPOINT[] = {
	{ "soe_executive", 300 }, { "civil_servant", 300 }, { "institution_rep", 100 },
	{ "financial_executive", 50 }, { "society_head", 50 }, { "deputy", 100 },
	{ "party", 70 }, { "military", 30 }, { 0, 0 } };
static const wname_t LICENSE[] = {
	{ "drug", 200 }, { "food", 400 }, { "tobacco", 150 }, { "fire", 100 },
	{ "hazchem", 70 }, { "fireworks", 50 }, { "mining", 30 }, { 0, 0 } };
static const struct { const char *chan; unsigned w; const wname_t *cls; } JOINT[] = {
	{ "procurement", 200, NULL }, { "bidding", 250, NULL }, { "credit", 200, NULL },
	{ "finance", 100, FINANCE }, { "subsidy", 50, NULL },
	{ "appointment", 40, APPOINT }, { "license", 40, LICENSE },
	{ "qualification", 30, NULL }, { "asset", 30, NULL }, { "bond", 10, BOND },
	{ "stock", 10, NULL }, { "customs", 10, NULL }, { "honor", 10, NULL },
	{ "policy", 5, NULL }, { "resource", 5, NULL }, { "society", 2, NULL },
	{ "incentive", 1, NULL }, { "strait", 1, NULL }, { "quota", 1, NULL },
};

static const wname_t *wpick_name(rng_t *r, const wname_t *t)
{
	unsigned total = 0;
	for (const wname_t *e = t; e->name; e++)
		total += e->w;
	unsigned v = rng_below(r, total);
	for (; v >= t->w; t++)
		v -= t->w;
	return t;
}

static char *put_joint_channel_class(rng_t *r, char *p)
{
	unsigned total = 0, i = 0;
	for (size_t k = 0; k < ARRLEN(JOINT); k++)
		total += JOINT[k].w;
	unsigned v = rng_below(r, total);
	for (; v >= JOINT[i].w; i++)
		v -= JOINT[i].w;
	p = put_str(p, JOINT[i].chan);
	*p++ = '\t';
	if (!JOINT[i].cls)
		return PUTS(p, "-");
	return put_str(p, wpick_name(r, JOINT[i].cls)->name);
}

/* Writes "channel\tclass" for one query, in the mix of real traffic: a
 * joint-punishment channel with probability joint_ppm (*joint set), else
 * a booking. */
static char *put_channel_class(rng_t *r, uint32_t joint_ppm, char *p,
                               bool *joint)
{
	*joint = joint_ppm && rng_ppm(r, joint_ppm);
	if (*joint)
		return put_joint_channel_class(r, p);
	unsigned v = rng_below(r, 1000);
	if (v < 500) {                                          /* rail */
		unsigned t = rng_below(r, 1000);
		char train = t < 450 ? 'G' : t < 700 ? 'D' : t < 750 ? 'C'
		           : t < 870 ? 'K' : t < 920 ? 'T' : t < 970 ? 'Z'
		           : t < 975 ? 'S' : 0;
		uint32_t num = train == 'T' || train == 'Z' ? (uint32_t)rng_range(r, 1, 399)
		             : train == 'S' ? (uint32_t)rng_range(r, 1, 999)
		             : train == 0 ? (uint32_t)rng_range(r, 1001, 8999)
		                          : (uint32_t)rng_range(r, 1, 9999);
		const seat_t *s = &SEATS[pick_seat(r, train)];
		p = PUTS(p, "rail\t");
		if (train)
			*p++ = train;
		p = put_u(p, num);
		*p++ = ':';
		if (s->letter && rng_below(r, 100) < 3)
			p = put_str(p, s->letter);          /* 12306 seat letter */
		else
			p = put_str(p, s->word);
		return p;
	}
	if (v < 750)
		return PUTS(p, "air\t-");
	if (v < 950) {                                          /* hotel stars */
		unsigned h = rng_below(r, 100);
		char star = h < 30 ? '0' : h < 35 ? '1' : h < 50 ? '2' : h < 75 ? '3'
		          : h < 92 ? '4' : '5';
		p = PUTS(p, "hotel\t");
		*p++ = star;
		return p;
	}
	if (v < 965) {
		static const char *const SHIP[] = { "special", "first", "second",
		                                    "third", "fourth" };
		unsigned s = rng_below(r, 100);
		unsigned k = s < 5 ? 0 : s < 25 ? 1 : s < 60 ? 2 : s < 90 ? 3 : 4;
		p = PUTS(p, "ship\t");
		if (rng_below(r, 100) < 10)
			*p++ = (char)('0' + k);
		else
			p = put_str(p, SHIP[k]);
		return p;
	}
	static const char *const OTHER[] = {
		"venue\t-", "venue\t-", "travel\t-", "travel\t-", "travel\t-",
		"property\t-", "vehicle\t-", "insurance\t-", "school\t-", "office\t-",
	};
	return put_str(p, OTHER[rng_below(r, ARRLEN(OTHER))]);
}

/* A fresh ID that is on no list row: drawn from the same counters the list
 * used, after it, so it cannot collide. */
static void fresh_id(gen_t *g, rng_t *r, doc_t *d)
{
	unsigned v = rng_below(r, 100);
	char org[9];
	if (v < 92) {
		ric_issue(g, r, rng_below(r, NAREAS_MAINLAND), BIRTH_Y1, false, d);
	} else if (v < 95) {
		org_issue(g, true, org);
		uscc_make("91", AREAS[rng_below(r, NAREAS_MAINLAND)].code, org, d);
	} else if (v < 96) {
		org_issue(g, false, org);
		memcpy(d->no, org, 9);
		d->no[9] = 0;
		d->len = 9;
		d->type = IDT_ORG;
	} else {
		passport_issue(g, r, d);
	}
}

/* How a listed ID is asked about: legacy RICs mostly by their 18-digit
 * upgrade, a unit sometimes by the organisation code inside its USCC (or a
 * USCC around its ORG), and now and then the way people type it. */
static char *put_query_id(rng_t *r, const doc_t *d, char *p, int *type)
{
	char buf[24];
	*type = d->type;
	switch (d->type) {
	case IDT_RIC:
		if (d->len == 15 && rng_below(r, 100) < 70) {
			ric_upgrade(d->no, buf);
			p = put(p, buf, 18);
		} else {
			p = put(p, d->no, d->len);
		}
		if (p[-1] == 'X' && rng_below(r, 100) < 2)
			p[-1] = 'x';
		return p;
	case IDT_USCC:
		if (rng_below(r, 100) < 10) {
			*type = IDT_ORG;
			return put(p, d->no + 8, 9);
		}
		return put(p, d->no, 18);
	case IDT_ORG:
		if (rng_below(r, 100) < 20) {
			doc_t u;
			uscc_make("91", AREAS[rng_below(r, NAREAS_MAINLAND)].code, d->no, &u);
			*type = IDT_USCC;
			return put(p, u.no, 18);
		}
		if (rng_below(r, 100) < 15) {
			p = put(p, d->no, 8);
			*p++ = '-';
			*p++ = d->no[8];
			return p;
		}
		return put(p, d->no, 9);
	default:
		return put(p, d->no, d->len);
	}
}

void write_queries(gen_t *g)
{
	rng_t *r = &g->rq;
	out_t *o = &g->queries_out;
	char day[10];
	put_date(day, g->asof);
	uint64_t hits_left = g->hits_n ? g->hits_wanted : 0;
	uint64_t next_report = g->queries >= 2000000 ? 1000000 : UINT64_MAX;

	for (uint64_t i = 0; i < g->queries; i++) {
		uint64_t left = g->queries - i;
		doc_t fresh;
		int type;
		char *p = out_ptr(o);
		/* exactly hits_wanted hits, at random positions */
		if (hits_left && rng_below64(r, left) < hits_left) {
			hits_left--;
			g->q_hits++;
			p = put_query_id(r, &g->hits[rng_below64(r, g->hits_n)], p, &type);
		} else {
			fresh_id(g, r, &fresh);
			type = fresh.type;
			p = put(p, fresh.no, fresh.len);
		}
		*p++ = '\t';
		p = put_str(p, IDT_NAME[type]);
		*p++ = '\t';
		bool joint;
		p = put_channel_class(r, g->joint_ppm, p, &joint);
		g->q_joint += joint;
		*p++ = '\t';
		p = put(p, day, 10);
		*p++ = '\n';
		out_commit(o, p);
		if (i + 1 >= next_report) {
			if (!g->quiet)
				fprintf(stderr, PROG ": %" PRIu64 " of %" PRIu64 " queries\n",
				        i + 1, g->queries);
			next_report += 1000000;
		}
	}
}
