/*
 * test_decide.c - the decision (SPEC section 4) end to end: list and
 * permit CSV text goes through the real loader (sx_build) into a snapshot
 * file, and questions go through the query parser (sx_query_common,
 * sx_query_id) into sx_decide.  Expected answers are worked out by hand
 * from the contract and written as the whole reply line, "DECISION REASON"
 * then each denying record as case_no|court|role|list, so an answer that
 * names one record too many, too few, or in another order fails.
 *
 * Each test builds the smallest list that shows one rule: the six
 * outcomes; their precedence (active beats suspended, permits neutralise
 * record by record and case by case, for their own codes and days only);
 * revoked and shielded records never applying; the inclusive ends of a
 * listing period; restriction subsets; the rail, ship and hotel class
 * tables (every seat name and 12306 letter, under each train kind);
 * channels without classes; every query error; roles; the identity rules
 * as they reach decisions (USCC <-> ORG through the embedded organisation
 * code, never USCC <-> USCC; 15 <-> 18-digit RIC; a clerk's check-digit
 * typo on the list; full-width and separated spellings in a query); the
 * order and uniqueness of named records across cases and across a USCC's
 * two keys; bracket folding for permits; sx_listed.
 *
 * tu_ask (testutil.h) also checks every answer against the contract's
 * invariants (DENY or REVIEW iff records, list order, no record twice, the record
 * buffer bound, sx_decide_batch on the single query).  The batch test
 * then compares sx_decide_batch with sx_decide over a few thousand mixed
 * queries on a generated list, including when a small record buffer makes
 * the batch stop early and resume.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "snapshot.h"
#include "testutil.h"

TestSuite(outcome, .init = tu_setup, .fini = tu_teardown);
TestSuite(precedence, .init = tu_setup, .fini = tu_teardown);
TestSuite(period, .init = tu_setup, .fini = tu_teardown);
TestSuite(classes, .init = tu_setup, .fini = tu_teardown);
TestSuite(errors, .init = tu_setup, .fini = tu_teardown);
TestSuite(identity, .init = tu_setup, .fini = tu_teardown);
TestSuite(reply, .init = tu_setup, .fini = tu_teardown);
TestSuite(batch, .init = tu_setup, .fini = tu_teardown);
TestSuite(listed, .init = tu_setup, .fini = tu_teardown);

/* Valid IDs (check characters computed from SPEC section 3). */
#define P1 "110101198001011005"
#define P2 "110101197512121017"
#define P3 "110101199005151026"
#define P4 "110101196603031039"
#define P5 "11010120010709104X"
#define P6 "110101198802291051"
#define P7 "110101195506201062"
#define P8 "110101199309301070"
#define P9 "11010119821111108X"
#define L15   "350203620915548"      /* legacy 15-digit form of ... */
#define L15UP "350203196209155482"   /* ... this */
#define M18   "11010519491231002X"
#define M15   "110105491231002"
#define ORG_A  "MA2B3C4D1"
#define USCC_A1 "91350100MA2B3C4D1J"  /* embeds ORG_A */
#define USCC_A2 "91110000MA2B3C4D1F"  /* embeds ORG_A too */
#define ORG_B  "123456788"
#define USCC_B "91350200123456788X"  /* embeds ORG_B */
#define ORG_C  "7A6B5C4D0"
#define USCC_C1 "924403007A6B5C4D0J" /* embeds ORG_C */
#define USCC_C2 "914403007A6B5C4D0M" /* embeds ORG_C too */

#define FZ "福州市鼓楼区人民法院"
#define XM "厦门市思明区人民法院"
#define QZ "泉州市中级人民法院"

#define HDR "case_no,court,list,role,id_type,id_no,name,status,listed_on," \
            "expires_on,restrictions,region\n"
#define PHDR "id_type,id_no,case_no,codes,valid_from,valid_to,permit_ref\n"

#define AT " AT 2026-01-10"

static sx_snap *snap(const char *name, const char *list, const char *permits)
{
	return tu_snap_from_csv(tu_dir, name, list, permits);
}

Test(outcome, the_test_ids_are_valid_query_ids)
{
	static const struct { int type; const char *id; } ids[] = {
		{ SX_IDT_RIC, P1 }, { SX_IDT_RIC, P2 }, { SX_IDT_RIC, P3 },
		{ SX_IDT_RIC, P4 }, { SX_IDT_RIC, P5 }, { SX_IDT_RIC, P6 },
		{ SX_IDT_RIC, P7 }, { SX_IDT_RIC, P8 }, { SX_IDT_RIC, P9 },
		{ SX_IDT_RIC, L15 }, { SX_IDT_RIC, L15UP }, { SX_IDT_RIC, M18 },
		{ SX_IDT_RIC, M15 }, { SX_IDT_ORG, ORG_A }, { SX_IDT_ORG, ORG_B },
		{ SX_IDT_ORG, ORG_C }, { SX_IDT_USCC, USCC_A1 },
		{ SX_IDT_USCC, USCC_A2 }, { SX_IDT_USCC, USCC_B },
		{ SX_IDT_USCC, USCC_C1 }, { SX_IDT_USCC, USCC_C2 },
	};
	for (size_t i = 0; i < SX_ARRAY_LEN(ids); i++) {
		sx_id id;
		const char *why = NULL;
		cr_assert_eq(sx_id_parse(ids[i].type, ids[i].id, strlen(ids[i].id),
		                         SX_SIDE_QUERY, &id, &why), 0, "%s: %s",
		             ids[i].id, why);
		cr_assert_eq(id.warn, SX_IDW_NONE, "%s: check character", ids[i].id);
	}
}

/* ---- the five outcomes ------------------------------------------------------ */

Test(outcome, each_of_the_five_outcomes)
{
	sx_snap *s = snap("five",
		HDR
		"（2023）闽05执1号," QZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2023）闽05执2号," QZ ",SX,debtor,RIC," P2 ",乙,suspended,2025-01-10,,,\n"
		"（2023）闽05执3号," QZ ",SX,debtor,RIC," P3 ",丙,active,2025-01-10,,,\n",
		PHDR
		"RIC," P3 ",（2023）闽05执3号,AIR,2026-01-01,2026-01-31,准许-1\n");

	TU_CHECK(s, P1 " air" AT,
	         "DENY LISTED （2023）闽05执1号|" QZ "|debtor|SX");
	TU_CHECK(s, P2 " air" AT, "ALLOW SUSPENDED");
	TU_CHECK(s, P3 " air" AT, "ALLOW EXEMPT");
	TU_CHECK(s, P1 " rail D1:second" AT, "ALLOW NOT_RESTRICTED");
	TU_CHECK(s, P1 " hotel 0" AT, "ALLOW NOT_RESTRICTED");
	TU_CHECK(s, P4 " air" AT, "ALLOW NOT_LISTED");
	/* a suspended record that does not restrict is NOT_RESTRICTED too */
	TU_CHECK(s, P2 " hotel 0" AT, "ALLOW NOT_RESTRICTED");
	/* the permit is for AIR only */
	TU_CHECK(s, P3 " rail G1:second" AT,
	         "DENY LISTED （2023）闽05执3号|" QZ "|debtor|SX");
	sx_snap_close(s);
}

/* ---- precedence ---------------------------------------------------------------- */

Test(precedence, active_and_suspended_denies_naming_only_the_active)
{
	sx_snap *s = snap("actsusp",
		HDR
		"（2024）闽0102执10号," FZ ",SX,debtor,RIC," P1 ",甲,suspended,2025-01-10,,,\n"
		"（2024）闽0102执11号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2024）闽0102执12号," FZ ",XG,debtor,RIC," P1 ",甲,suspended,2025-01-10,,,\n"
		"（2024）闽0102执13号," FZ ",SX,debtor,RIC," P2 ",乙,suspended,2025-01-10,,,\n"
		"（2024）闽0102执14号," FZ ",XG,debtor,RIC," P2 ",乙,suspended,2025-01-10,,,\n",
		NULL);
	TU_CHECK(s, P1 " air" AT,
	         "DENY LISTED （2024）闽0102执11号|" FZ "|debtor|SX");
	TU_CHECK(s, P2 " air" AT, "ALLOW SUSPENDED");
	sx_snap_close(s);
}

Test(precedence, permits_neutralise_record_by_record_and_case_by_case)
{
	sx_snap *s = snap("permits",
		HDR
		/* P3: two active cases, a permit for the first */
		"（2024）闽0102执20号," FZ ",SX,debtor,RIC," P3 ",丙,active,2025-01-10,,,\n"
		"（2024）闽0102执21号," XM ",SX,debtor,RIC," P3 ",丙,active,2025-01-10,,,\n"
		/* P4: an active case with a permit and a suspended one */
		"（2024）闽0102执22号," FZ ",SX,debtor,RIC," P4 ",丁,active,2025-01-10,,,\n"
		"（2024）闽0102执23号," FZ ",SX,debtor,RIC," P4 ",丁,suspended,2025-01-10,,,\n"
		/* P5: suspended, with a permit: EXEMPT, not SUSPENDED */
		"（2024）闽0102执24号," FZ ",SX,debtor,RIC," P5 ",戊,suspended,2025-01-10,,,\n"
		/* a unit case: P6 debtor's representative P7; the permit is P7's */
		"（2024）闽0102执25号," FZ ",SX,debtor,RIC," P6 ",己,active,2025-01-10,,,\n"
		"（2024）闽0102执25号," FZ ",SX,legal_rep,RIC," P7 ",庚,active,2025-01-10,,,\n"
		/* P8: a permit for RAIL only */
		"（2024）闽0102执26号," FZ ",SX,debtor,RIC," P8 ",辛,active,2025-01-10,,,\n"
		/* P9: a permit from the 5th to the 20th */
		"（2024）闽0102执27号," FZ ",SX,debtor,RIC," P9 ",壬,active,2025-01-10,,,\n"
		/* P1: a permit naming a case that is not on the list */
		"（2024）闽0102执28号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n",
		PHDR
		"RIC," P3 ",（2024）闽0102执20号,AIR,2026-01-01,2026-12-31,A1\n"
		"RIC," P4 ",（2024）闽0102执22号,AIR;RAIL,2026-01-01,2026-12-31,A2\n"
		"RIC," P5 ",（2024）闽0102执24号,AIR,2026-01-01,2026-12-31,A3\n"
		"RIC," P7 ",（2024）闽0102执25号,AIR,2026-01-01,2026-12-31,A4\n"
		"RIC," P8 ",（2024）闽0102执26号,RAIL,2026-01-01,2026-12-31,A5\n"
		"RIC," P9 ",（2024）闽0102执27号,AIR,2026-01-05,2026-01-20,A6\n"
		"RIC," P1 ",（2024）闽0102执99号,AIR,2026-01-01,2026-12-31,A7\n");

	/* a permit neutralising one of two cases: DENY naming the other */
	TU_CHECK(s, P3 " air" AT,
	         "DENY LISTED （2024）闽0102执21号|" XM "|debtor|SX");
	/* and only for its codes: rail names both */
	TU_CHECK(s, P3 " rail G1:second" AT,
	         "DENY LISTED （2024）闽0102执20号|" FZ "|debtor|SX "
	         "（2024）闽0102执21号|" XM "|debtor|SX");
	/* active neutralised, suspended left: SUSPENDED */
	TU_CHECK(s, P4 " air" AT, "ALLOW SUSPENDED");
	TU_CHECK(s, P5 " air" AT, "ALLOW EXEMPT");
	/* the representative's permit lifts the representative only */
	TU_CHECK(s, P7 " air" AT, "ALLOW EXEMPT");
	TU_CHECK(s, P6 " air" AT,
	         "DENY LISTED （2024）闽0102执25号|" FZ "|debtor|SX");
	/* a permit for another code has no effect */
	TU_CHECK(s, P8 " air" AT,
	         "DENY LISTED （2024）闽0102执26号|" FZ "|debtor|SX");
	TU_CHECK(s, P8 " rail G1:second" AT, "ALLOW EXEMPT");
	/* a permit's days are inclusive, and outside them it does nothing */
	TU_CHECK(s, P9 " air AT 2026-01-04",
	         "DENY LISTED （2024）闽0102执27号|" FZ "|debtor|SX");
	TU_CHECK(s, P9 " air AT 2026-01-05", "ALLOW EXEMPT");
	TU_CHECK(s, P9 " air AT 2026-01-20", "ALLOW EXEMPT");
	TU_CHECK(s, P9 " air AT 2026-01-21",
	         "DENY LISTED （2024）闽0102执27号|" FZ "|debtor|SX");
	/* a permit for another case lifts nothing */
	TU_CHECK(s, P1 " air" AT,
	         "DENY LISTED （2024）闽0102执28号|" FZ "|debtor|SX");
	sx_snap_close(s);
}

Test(precedence, a_permit_matches_its_record_under_the_identity_rules)
{
	sx_snap *s = snap("permitids",
		HDR
		"（2024）闽0102执1号," FZ ",SX,debtor,ORG," ORG_A ",甲公司,active,2025-01-10,,,\n"
		"（2024）闽0102执2号," FZ ",SX,debtor,USCC," USCC_B ",乙公司,active,2025-01-10,,,\n"
		"（2024）闽0102执3号," FZ ",SX,debtor,RIC," L15 ",李某,active,2025-01-10,,,\n"
		"（2024）闽0102执4号," FZ ",SX,debtor,RIC,110101198001011006,甲,active,2025-01-10,,,\n"
		"（2024）闽0102执5号," FZ ",SX,debtor,USCC," USCC_C1 ",丙公司,active,2025-01-10,,,\n",
		PHDR
		"USCC," USCC_A1 ",（2024）闽0102执1号,AIR,2026-01-01,2026-01-31,D1\n"
		"ORG,12345678-8,（2024）闽0102执2号,AIR,2026-01-01,2026-01-31,D2\n"
		"RIC," L15UP ",（2024）闽0102执3号,AIR,2026-01-01,2026-01-31,D3\n"
		"RIC," P1 ",（2024）闽0102执4号,AIR,2026-01-01,2026-01-31,D4\n"
		"USCC," USCC_C2 ",（2024）闽0102执5号,AIR,2026-01-01,2026-01-31,D5\n");
	/* a USCC permit lifts the ORG listing of its organisation code */
	TU_CHECK(s, USCC_A1 " air TYPE USCC" AT, "ALLOW EXEMPT");
	TU_CHECK(s, ORG_A " air TYPE ORG" AT, "ALLOW EXEMPT");
	/* an ORG permit lifts the USCC listing that embeds it */
	TU_CHECK(s, USCC_B " air TYPE USCC" AT, "ALLOW EXEMPT");
	/* 18 digits lift the 15-digit listing; the right digit the typo */
	TU_CHECK(s, L15 " air" AT, "ALLOW EXEMPT");
	TU_CHECK(s, P1 " air" AT, "ALLOW EXEMPT");
	/* another USCC with the same organisation code is another unit */
	TU_CHECK(s, USCC_C1 " air TYPE USCC" AT,
	         "DENY LISTED （2024）闽0102执5号|" FZ "|debtor|SX");
	sx_snap_close(s);
}

Test(precedence, revoked_and_shielded_records_never_apply)
{
	sx_snap *s = snap("revoked",
		HDR
		"（2024）闽0102执30号," FZ ",SX,debtor,RIC," P1 ",甲,revoked,2025-01-10,,,\n"
		"（2024）闽0102执31号," FZ ",SX,debtor,RIC," P2 ",乙,shielded,2025-01-10,,,\n"
		"（2024）闽0102执32号," FZ ",SX,debtor,RIC," P3 ",丙,revoked,2025-01-10,,,\n"
		"（2024）闽0102执33号," FZ ",SX,debtor,RIC," P3 ",丙,active,2025-01-10,,,\n"
		"（2024）闽0102执34号," FZ ",SX,debtor,RIC," P3 ",丙,shielded,2025-01-10,,,\n",
		NULL);
	/* not even NOT_RESTRICTED: nothing applies */
	TU_CHECK(s, P1 " air" AT, "ALLOW NOT_LISTED");
	TU_CHECK(s, P1 " rail D1:second" AT, "ALLOW NOT_LISTED");
	TU_CHECK(s, P2 " air" AT, "ALLOW NOT_LISTED");
	TU_CHECK(s, P2 " hotel 0" AT, "ALLOW NOT_LISTED");
	TU_CHECK(s, P3 " air" AT,
	         "DENY LISTED （2024）闽0102执33号|" FZ "|debtor|SX");
	sx_snap_close(s);
}

/* ---- listing periods ------------------------------------------------------------ */

Test(period, listed_on_and_expires_on_days_apply_and_the_days_outside_do_not)
{
	sx_snap *s = snap("period",
		HDR
		"（2024）闽0102执40号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-03-01,2025-06-30,,\n"
		"（2024）闽0102执41号," FZ ",SX,debtor,RIC," P2 ",乙,active,2025-03-01,,,\n"
		"（2024）闽0102执42号," FZ ",SX,debtor,RIC," P3 ",丙,active,2024-02-29,2024-02-29,,\n",
		NULL);
	const char *d1 = "DENY LISTED （2024）闽0102执40号|" FZ "|debtor|SX";
	TU_CHECK(s, P1 " air AT 2025-02-28", "ALLOW NOT_LISTED");
	TU_CHECK(s, P1 " air AT 2025-03-01", d1);
	TU_CHECK(s, P1 " air AT 2025-06-30", d1);
	TU_CHECK(s, P1 " air AT 2025-07-01", "ALLOW NOT_LISTED");
	/* applying is about the day, whatever the class */
	TU_CHECK(s, P1 " rail D1:second AT 2025-02-28", "ALLOW NOT_LISTED");
	TU_CHECK(s, P1 " rail D1:second AT 2025-03-01", "ALLOW NOT_RESTRICTED");
	/* no end date: until removed */
	TU_CHECK(s, P2 " air AT 2025-02-28", "ALLOW NOT_LISTED");
	TU_CHECK(s, P2 " air AT 2148-12-31",
	         "DENY LISTED （2024）闽0102执41号|" FZ "|debtor|SX");
	/* a one-day listing */
	TU_CHECK(s, P3 " air AT 2024-02-28", "ALLOW NOT_LISTED");
	TU_CHECK(s, P3 " air AT 2024-02-29",
	         "DENY LISTED （2024）闽0102执42号|" FZ "|debtor|SX");
	TU_CHECK(s, P3 " air AT 2024-03-01", "ALLOW NOT_LISTED");
	sx_snap_close(s);
}

/* ---- restriction codes and classes ---------------------------------------------- */

Test(classes, restriction_subsets_restrict_only_their_codes)
{
	sx_snap *s = snap("subsets",
		HDR
		"（2024）闽0102执50号," FZ ",XG,debtor,RIC," P1 ",甲,active,2025-01-10,,AIR,\n"
		"（2024）闽0102执51号," FZ ",XG,debtor,RIC," P2 ",乙,active,2025-01-10,,hotel; Venue ,\n"
		"（2024）闽0102执52号," FZ ",SX,debtor,RIC," P3 ",丙,active,2025-01-10,,,\n",
		NULL);
	const char *d1 = "DENY LISTED （2024）闽0102执50号|" FZ "|debtor|XG";
	TU_CHECK(s, P1 " air" AT, d1);
	TU_CHECK(s, P1 " rail G1:second" AT, "ALLOW NOT_RESTRICTED");
	TU_CHECK(s, P1 " hotel 5" AT, "ALLOW NOT_RESTRICTED");
	TU_CHECK(s, P1 " venue" AT, "ALLOW NOT_RESTRICTED");
	const char *d2 = "DENY LISTED （2024）闽0102执51号|" FZ "|debtor|XG";
	TU_CHECK(s, P2 " hotel 1" AT, d2);
	TU_CHECK(s, P2 " venue" AT, d2);
	TU_CHECK(s, P2 " air" AT, "ALLOW NOT_RESTRICTED");
	/* empty restrictions on an SX row: every code of SPEC section 4, the
	 * joint-punishment measures with their effects */
	const char *d3 = "DENY LISTED （2024）闽0102执52号|" FZ "|debtor|SX";
	const char *r3 = "REVIEW LISTED （2024）闽0102执52号|" FZ "|debtor|SX";
	static const struct { const char *q; int review; } every[] = {
		{ " air", 0 }, { " rail G1:second", 0 }, { " ship first", 0 },
		{ " hotel 3", 0 }, { " venue", 0 }, { " travel", 0 },
		{ " school", 0 }, { " insurance", 0 }, { " property", 0 },
		{ " vehicle", 0 }, { " office", 0 },
		{ " finance bank", 1 }, { " bond corporate", 0 }, { " quota", 1 },
		{ " incentive", 0 }, { " stock", 1 }, { " society", 0 },
		{ " procurement", 0 }, { " bidding", 0 }, { " strait", 0 },
		{ " subsidy", 0 }, { " policy", 1 }, { " appointment deputy", 0 },
		{ " customs", 0 }, { " license fire", 0 }, { " qualification", 0 },
		{ " honor", 0 }, { " credit", 1 }, { " asset", 0 }, { " resource", 0 },
	};
	cr_assert_eq(SX_ARRAY_LEN(every), SX_NCODES, "a channel is missing here");
	for (size_t i = 0; i < SX_ARRAY_LEN(every); i++) {
		char q[128];
		snprintf(q, sizeof q, "%s%s%s", P3, every[i].q, AT);
		TU_CHECK(s, q, every[i].review ? r3 : d3);
	}
	/* an XG row's empty restrictions: the consumption codes only */
	TU_CHECK(s, P1 " procurement" AT, "ALLOW NOT_RESTRICTED");
	sx_snap_close(s);
}

static const char *const LIST_ALL =
	HDR "（2024）闽0102执60号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n";
#define DENY60 "DENY LISTED （2024）闽0102执60号|" FZ "|debtor|SX"

static void check_rail(const sx_snap *s, const char *train, const char *seat,
                       int restricted)
{
	char q[128];
	snprintf(q, sizeof q, P1 " rail %s:%s" AT, train, seat);
	TU_CHECK(s, q, restricted ? DENY60 : "ALLOW NOT_RESTRICTED");
}

Test(classes, rail_table_by_train_kind_and_seat)
{
	static const struct {
		const char *name, *letter;
		int dcs, other;     /* restricted on D/C/S, on other trains */
	} seats[] = {
		{ "business", "9", 1, 0 },
		{ "premium", "P", 1, 0 },
		{ "first", "M", 1, 0 },
		{ "second", "O", 0, 0 },
		{ "deluxe_soft_sleeper", "6", 1, 1 },
		{ "soft_sleeper", "4", 1, 1 },
		{ "emu_sleeper", "F", 1, 0 },
		{ "hard_sleeper", "3", 0, 0 },
		{ "soft_seat", "2", 0, 0 },
		{ "hard_seat", "1", 0, 0 },
		{ "standing", NULL, 0, 0 },
	};
	static const char *const g[] = { "G1", "G1234", "g7" };
	static const char *const dcs[] = { "D3125", "C1", "S5", "d12", "c9999" };
	static const char *const other[] = { "K1", "T12", "Z99", "1234", "7",
	                                     "Y501", "L3" };
	sx_snap *s = snap("rail", LIST_ALL, NULL);

	for (size_t i = 0; i < SX_ARRAY_LEN(seats); i++) {
		const char *spell[4] = { seats[i].name, NULL, NULL, NULL };
		char upper[32], lower[4];
		size_t n = 1;
		for (size_t k = 0; seats[i].name[k]; k++)
			upper[k] = (char)(seats[i].name[k] >= 'a' && seats[i].name[k] <= 'z'
			                  ? seats[i].name[k] - 32 : seats[i].name[k]);
		upper[strlen(seats[i].name)] = 0;
		spell[n++] = upper;
		if (seats[i].letter) {
			spell[n++] = seats[i].letter;
			lower[0] = (char)(seats[i].letter[0] | 0x20);
			lower[1] = 0;
			spell[n++] = lower;
		}
		for (size_t k = 0; k < n; k++) {
			for (size_t t = 0; t < SX_ARRAY_LEN(g); t++)
				check_rail(s, g[t], spell[k], 1);
			for (size_t t = 0; t < SX_ARRAY_LEN(dcs); t++)
				check_rail(s, dcs[t], spell[k], seats[i].dcs);
			for (size_t t = 0; t < SX_ARRAY_LEN(other); t++)
				check_rail(s, other[t], spell[k], seats[i].other);
		}
	}
	sx_snap_close(s);
}

Test(classes, ship_classes_special_first_second_restricted)
{
	sx_snap *s = snap("ship", LIST_ALL, NULL);
	static const char *const yes[] = { "special", "first", "second", "0",
	                                   "1", "2", "SPECIAL", "First" };
	static const char *const no[] = { "third", "fourth", "3", "4", "THIRD" };
	char q[128];
	for (size_t i = 0; i < SX_ARRAY_LEN(yes); i++) {
		snprintf(q, sizeof q, P1 " ship %s" AT, yes[i]);
		TU_CHECK(s, q, DENY60);
	}
	for (size_t i = 0; i < SX_ARRAY_LEN(no); i++) {
		snprintf(q, sizeof q, P1 " ship %s" AT, no[i]);
		TU_CHECK(s, q, "ALLOW NOT_RESTRICTED");
	}
	sx_snap_close(s);
}

Test(classes, hotel_unrated_allowed_one_to_five_stars_restricted)
{
	sx_snap *s = snap("hotel", LIST_ALL, NULL);
	char q[128];
	TU_CHECK(s, P1 " hotel 0" AT, "ALLOW NOT_RESTRICTED");
	for (int st = 1; st <= 5; st++) {
		snprintf(q, sizeof q, P1 " hotel %d" AT, st);
		TU_CHECK(s, q, DENY60);
	}
	sx_snap_close(s);
}

Test(classes, other_channels_need_no_class_and_ignore_one)
{
	sx_snap *s = snap("other", LIST_ALL, NULL);
	static const char *const chans[] = { "air", "venue", "travel", "school",
	                                     "insurance", "property", "vehicle",
	                                     "office", "AIR", "Travel" };
	char q[128];
	for (size_t i = 0; i < SX_ARRAY_LEN(chans); i++) {
		snprintf(q, sizeof q, P1 " %s" AT, chans[i]);
		TU_CHECK(s, q, DENY60);
		snprintf(q, sizeof q, P1 " %s economy" AT, chans[i]);
		TU_CHECK(s, q, DENY60);
	}
	sx_snap_close(s);
}

/* ---- errors ------------------------------------------------------------------------ */

Test(errors, every_bad_query_gets_its_error)
{
	sx_snap *s = snap("errors", LIST_ALL, NULL);
	static const struct { const char *q, *err; } cases[] = {
		/* class */
		{ P1 " rail" AT, "ERR bad class" },
		{ P1 " rail K1" AT, "ERR bad class" },
		{ P1 " rail G1:" AT, "ERR bad class" },
		{ P1 " rail G1:bogus" AT, "ERR bad class" },
		{ P1 " rail G1:0" AT, "ERR bad class" },
		{ P1 " rail G12345:second" AT, "ERR bad class" },
		{ P1 " rail GG1:second" AT, "ERR bad class" },
		{ P1 " rail :second" AT, "ERR bad class" },
		{ P1 " rail G:second" AT, "ERR bad class" },
		{ P1 " rail G1-second" AT, "ERR bad class" },
		{ P1 " ship" AT, "ERR bad class" },
		{ P1 " ship fifth" AT, "ERR bad class" },
		{ P1 " ship 5" AT, "ERR bad class" },
		{ P1 " hotel" AT, "ERR bad class" },
		{ P1 " hotel 6" AT, "ERR bad class" },
		{ P1 " hotel 05" AT, "ERR bad class" },
		{ P1 " hotel five" AT, "ERR bad class" },
		/* channel, type, date */
		{ P1 " bus" AT, "ERR unknown channel" },
		{ P1 " airline" AT, "ERR unknown channel" },
		{ P1 " air TYPE DRIVER" AT, "ERR unknown type" },
		{ P1 " air TYPE" " AT 2026-01-10", NULL },   /* placeholder, skipped */
		{ P1 " air AT 2026-02-30", "ERR bad date" },
		{ P1 " air AT 2026-1-5", "ERR bad date" },
		{ P1 " air AT 20260105", "ERR bad date" },
		{ P1 " air AT 1969-12-31", "ERR bad date" },
		{ P1 " air AT 2026-13-01", "ERR bad date" },
		{ P1 " air AT tomorrow", "ERR bad date" },
		/* IDs */
		{ "110101198001011006 air" AT, "ERR invalid id" },   /* check char */
		{ "11010119800101100 air" AT, "ERR invalid id" },    /* 17 digits */
		{ "110101198002301005 air" AT, "ERR invalid id" },   /* Feb 30 */
		{ "E65994900 air" AT, "ERR invalid id" },            /* RIC by default */
		{ "ABC air TYPE PASSPORT" AT, "ERR invalid id" },
		{ "91350100MA2B3C4D1I air TYPE USCC" AT, "ERR invalid id" },
		{ "MA2B3C4D air TYPE ORG" AT, "ERR invalid id" },
	};
	for (size_t i = 0; i < SX_ARRAY_LEN(cases); i++) {
		if (!cases[i].err)
			continue;
		TU_CHECK_PREFIX(s, cases[i].q, cases[i].err);
	}
	/* the missing-class error says which channel and what it wants */
	const char *got = tu_ask(s, P1 " hotel" AT);
	cr_assert_not_null(strstr(got, "hotel"), "%s", got);
	sx_snap_close(s);
}

Test(errors, query_parts_missing_or_defaulted)
{
	sx_query q;
	char err[256];
	sx_str none = { NULL, 0 };
	sx_str air = { "air", 3 };

	memset(&q, 0, sizeof q);
	cr_assert_eq(sx_query_common(&q, NULL, none, none, none, none, err, sizeof err), -1);
	cr_assert(strncmp(err, "unknown channel", 15) == 0, "%s", err);
	/* no TYPE: RIC; no AT: today in UTC+8 */
	uint16_t t0 = sx_today();
	cr_assert_eq(sx_query_common(&q, NULL, air, none, none, none, err, sizeof err), 0, "%s", err);
	uint16_t t1 = sx_today();
	cr_assert_eq(q.type, SX_IDT_RIC);
	cr_assert(q.day >= t0 && q.day <= t1, "day %u, today %u", q.day, t1);
	cr_assert_eq(q.cls, SX_CLASS_NONE);
	cr_assert_eq(sx_query_id(&q, none, err, sizeof err), -1);
	cr_assert(strncmp(err, "invalid id", 10) == 0, "%s", err);
	sx_str empty = { "", 0 };
	cr_assert_eq(sx_query_id(&q, empty, err, sizeof err), -1);
	cr_assert(strncmp(err, "invalid id", 10) == 0, "%s", err);
}

/* ---- roles and identity -------------------------------------------------------------- */

Test(identity, every_role_of_a_unit_case_is_denied_under_its_role)
{
	sx_snap *s = snap("roles",
		HDR
		"（2023）闽0302执1008号," FZ ",SX,debtor,USCC," USCC_B ",某公司,active,2025-01-10,,,\n"
		"（2023）闽0302执1008号," FZ ",SX,legal_rep,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2023）闽0302执1008号," FZ ",SX,principal,RIC," P2 ",乙,active,2025-01-10,,,\n"
		"（2023）闽0302执1008号," FZ ",SX,controller,RIC," P3 ",丙,active,2025-01-10,,,\n"
		"（2023）闽0302执1008号," FZ ",SX,responsible,RIC," P4 ",丁,active,2025-01-10,,,\n"
		"（2023）闽0302执1008号," FZ ",SX,legal_rep,PASSPORT,E12345678,丁,active,2025-01-10,,,\n",
		NULL);
	const char *c = "（2023）闽0302执1008号|" FZ;
	char want[256];
	snprintf(want, sizeof want, "DENY LISTED %s|debtor|SX", c);
	TU_CHECK(s, USCC_B " air TYPE USCC" AT, want);
	snprintf(want, sizeof want, "DENY LISTED %s|legal_rep|SX", c);
	TU_CHECK(s, P1 " air" AT, want);
	TU_CHECK(s, "E12345678 air TYPE passport" AT, want);
	snprintf(want, sizeof want, "DENY LISTED %s|principal|SX", c);
	TU_CHECK(s, P2 " air" AT, want);
	snprintf(want, sizeof want, "DENY LISTED %s|controller|SX", c);
	TU_CHECK(s, P3 " air" AT, want);
	snprintf(want, sizeof want, "DENY LISTED %s|responsible|SX", c);
	TU_CHECK(s, P4 " air" AT, want);
	/* the passport is not another type's ID */
	TU_CHECK(s, "E12345678 air TYPE HKMO" AT, "ALLOW NOT_LISTED");
	sx_snap_close(s);
}

Test(identity, uscc_and_org_match_through_the_embedded_code_never_uscc_to_uscc)
{
	sx_snap *s = snap("uscc",
		HDR
		"（2024）闽0102执70号," FZ ",SX,debtor,ORG,MA2B3C4D-1,甲公司,active,2025-01-10,,,\n"
		"（2024）闽0102执71号," FZ ",SX,debtor,USCC," USCC_B ",乙公司,active,2025-01-10,,,\n"
		"（2024）闽0102执72号," FZ ",SX,debtor,USCC," USCC_C1 ",丙公司,active,2025-01-10,,,\n",
		NULL);
	const char *d70 = "DENY LISTED （2024）闽0102执70号|" FZ "|debtor|SX";
	const char *d71 = "DENY LISTED （2024）闽0102执71号|" FZ "|debtor|SX";
	const char *d72 = "DENY LISTED （2024）闽0102执72号|" FZ "|debtor|SX";
	/* a USCC query finds the ORG listing of its organisation code */
	TU_CHECK(s, USCC_A1 " air TYPE USCC" AT, d70);
	TU_CHECK(s, USCC_A2 " air TYPE USCC" AT, d70);
	TU_CHECK(s, ORG_A " air TYPE ORG" AT, d70);
	/* an ORG query finds the USCC listing that embeds it */
	TU_CHECK(s, ORG_B " air TYPE ORG" AT, d71);
	TU_CHECK(s, "12345678-8 air TYPE org" AT, d71);
	TU_CHECK(s, USCC_B " air TYPE USCC" AT, d71);
	/* two USCCs with the same organisation code never match */
	TU_CHECK(s, USCC_C1 " air TYPE USCC" AT, d72);
	TU_CHECK(s, USCC_C2 " air TYPE USCC" AT, "ALLOW NOT_LISTED");
	TU_CHECK(s, ORG_C " air TYPE ORG" AT, d72);
	/* an organisation code is not a RIC or passport */
	TU_CHECK(s, ORG_B " air TYPE PASSPORT" AT, "ALLOW NOT_LISTED");
	sx_snap_close(s);
}

Test(identity, legacy_15_digit_and_18_digit_forms_are_one_person)
{
	sx_snap *s = snap("legacy",
		HDR
		"（2025）闽0203执1002号," XM ",SX,debtor,RIC," L15 ",李某,active,2025-01-10,,,\n"
		"（2025）闽0203执1003号," XM ",SX,debtor,RIC," M18 ",王某,active,2025-01-10,,,\n",
		NULL);
	const char *d2 = "DENY LISTED （2025）闽0203执1002号|" XM "|debtor|SX";
	const char *d3 = "DENY LISTED （2025）闽0203执1003号|" XM "|debtor|SX";
	TU_CHECK(s, L15 " air" AT, d2);
	TU_CHECK(s, L15UP " air" AT, d2);
	TU_CHECK(s, M18 " air" AT, d3);
	TU_CHECK(s, M15 " air" AT, d3);
	TU_CHECK(s, "11010519491231002x air" AT, d3);
	sx_snap_close(s);
}

Test(identity, list_side_check_digit_typo_is_matched_by_the_correct_id)
{
	/* P1 is 110101198001011005; the clerk typed ...1006 */
	sx_snap *s = snap("typo",
		HDR
		"（2024）闽0102执80号," FZ ",SX,debtor,RIC,110101198001011006,甲,active,2025-01-10,,,\n",
		NULL);
	TU_CHECK(s, P1 " air" AT,
	         "DENY LISTED （2024）闽0102执80号|" FZ "|debtor|SX");
	TU_CHECK_PREFIX(s, "110101198001011006 air" AT, "ERR invalid id");
	sx_snap_close(s);
}

Test(identity, query_ids_are_normalised_before_lookup)
{
	sx_snap *s = snap("norm",
		HDR
		"（2024）闽0102执81号," FZ ",SX,debtor,RIC," P5 ",戊,active,2025-01-10,,,\n"
		"（2024）闽0102执82号," FZ ",SX,debtor,PASSPORT,e1234567,己,active,2025-01-10,,,\n",
		NULL);
	const char *d81 = "DENY LISTED （2024）闽0102执81号|" FZ "|debtor|SX";
	TU_CHECK(s, "11010120010709104x air" AT, d81);
	TU_CHECK(s, "110101-20010709-104X air" AT, d81);
	/* full-width digits and letter */
	TU_CHECK(s, "１１０１０１２００１０７０９１０４Ｘ air" AT, d81);
	TU_CHECK(s, "E1234567 air TYPE PASSPORT" AT,
	         "DENY LISTED （2024）闽0102执82号|" FZ "|debtor|SX");
	sx_snap_close(s);
}

/* ---- the reply ------------------------------------------------------------------------ */

Test(reply, every_denying_record_once_in_list_order_across_cases_and_keys)
{
	sx_snap *s = snap("order",
		HDR
		"（2024）闽0102执90号," FZ ",SX,debtor,ORG," ORG_B ",乙公司,active,2025-01-10,,,\n"
		"（2024）闽0102执91号," XM ",XG,debtor,USCC," USCC_B ",乙公司,active,2025-01-10,,,\n"
		"（2024）闽0102执92号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2024）闽0102执93号," QZ ",SX,debtor,ORG," ORG_B ",乙公司,active,2025-01-10,,,\n"
		"（2024）闽0102执94号," FZ ",SX,debtor,USCC," USCC_B ",乙公司,suspended,2025-01-10,,,\n"
		"（2024）闽0102执95号," FZ ",SX,debtor,USCC," USCC_B ",乙公司,active,2025-01-10,,,\n"
		"（2024）闽0102执96号," FZ ",SX,debtor,RIC," P2 ",乙,active,2025-01-10,,,\n"
		"（2024）闽0102执97号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2024）闽0102执92号," FZ ",SX,responsible,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2024）闽0102执98号," FZ ",SX,debtor,USCC," USCC_B ",乙公司,revoked,2025-01-10,,,\n"
		"（2024）闽0102执99号," XM ",SX,debtor,ORG," ORG_B ",乙公司,active,2025-01-10,,,\n",
		NULL);
	const char *unit =
		"DENY LISTED （2024）闽0102执90号|" FZ "|debtor|SX "
		"（2024）闽0102执91号|" XM "|debtor|XG "
		"（2024）闽0102执93号|" QZ "|debtor|SX "
		"（2024）闽0102执95号|" FZ "|debtor|SX "
		"（2024）闽0102执99号|" XM "|debtor|SX";
	TU_CHECK(s, USCC_B " air TYPE USCC" AT, unit);
	TU_CHECK(s, ORG_B " air TYPE ORG" AT, unit);
	TU_CHECK(s, P1 " air" AT,
	         "DENY LISTED （2024）闽0102执92号|" FZ "|debtor|SX "
	         "（2024）闽0102执97号|" FZ "|debtor|SX "
	         "（2024）闽0102执92号|" FZ "|responsible|SX");
	sx_snap_close(s);
}

Test(reply, case_number_as_spelled_and_court_as_written)
{
	sx_snap *s = snap("spelled",
		HDR
		"(2021)闽0102执1010号,\"福州市鼓楼区人民法院,第二执行庭\",XG,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2021）闽0102执1011号," FZ ",sx,Legal_Rep,ric," P1 ",甲,ACTIVE,2025-01-10,,air,\n",
		NULL);
	TU_CHECK(s, P1 " air" AT,
	         "DENY LISTED (2021)闽0102执1010号|福州市鼓楼区人民法院,第二执行庭|debtor|XG "
	         "（2021）闽0102执1011号|" FZ "|legal_rep|SX");
	sx_snap_close(s);
}

Test(reply, half_and_full_width_brackets_are_one_case_for_permits)
{
	sx_snap *s = snap("brackets",
		HDR
		"(2021)闽0102执50号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2021）闽0102执51号," FZ ",SX,debtor,RIC," P2 ",乙,active,2025-01-10,,,\n"
		"(2021)闽0102执52号," FZ ",SX,debtor,RIC," P3 ",丙,active,2025-01-10,,,\n"
		"（2021）闽0102执52号," FZ ",SX,legal_rep,RIC," P4 ",丁,active,2025-01-10,,,\n"
		"(2021）闽0102执53号," FZ ",SX,debtor,RIC," P5 ",戊,active,2025-01-10,,,\n",
		PHDR
		"RIC," P1 ",（2021）闽0102执50号,AIR,2026-01-01,2026-01-31,B1\n"
		"RIC," P2 ",(2021)闽0102执51号,AIR,2026-01-01,2026-01-31,B2\n"
		"RIC," P4 ",(2021)闽0102执52号,AIR,2026-01-01,2026-01-31,B3\n"
		"RIC," P5 ",（2021)闽0102执53号,AIR,2026-01-01,2026-01-31,B4\n");
	TU_CHECK(s, P1 " air" AT, "ALLOW EXEMPT");
	TU_CHECK(s, P2 " air" AT, "ALLOW EXEMPT");
	TU_CHECK(s, P4 " air" AT, "ALLOW EXEMPT");
	TU_CHECK(s, P3 " air" AT,
	         "DENY LISTED (2021)闽0102执52号|" FZ "|debtor|SX");
	TU_CHECK(s, P5 " air" AT, "ALLOW EXEMPT");
	/* one case, two spellings */
	cr_assert_eq(sx_snap_get_info(s)->cases, 4);
	sx_snap_close(s);
}

/* ---- LISTED -------------------------------------------------------------------------- */

static int listed(const sx_snap *s, const char *id, const char *type,
                  const char *at)
{
	sx_query q;
	char err[256];
	memset(&q, 0, sizeof q);
	cr_assert_eq(sx_query_common(&q, sx_snap_rules(s), (sx_str){ "air", 3 }, (sx_str){ NULL, 0 },
	                             (sx_str){ type, type ? strlen(type) : 0 },
	                             (sx_str){ at, strlen(at) }, err, sizeof err),
	             0, "%s", err);
	cr_assert_eq(sx_query_id(&q, (sx_str){ id, strlen(id) }, err, sizeof err),
	             0, "%s", err);
	return sx_listed(s, &q);
}

Test(listed, only_an_applying_active_record_is_listed_whatever_its_codes)
{
	sx_snap *s = snap("listed",
		HDR
		"（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2024）闽0102执2号," FZ ",SX,debtor,RIC," P2 ",乙,suspended,2025-01-10,,,\n"
		"（2024）闽0102执3号," FZ ",SX,debtor,RIC," P3 ",丙,revoked,2025-01-10,,,\n"
		"（2024）闽0102执4号," FZ ",SX,debtor,RIC," P4 ",丁,shielded,2025-01-10,,,\n"
		"（2024）闽0102执5号," FZ ",SX,debtor,RIC," P5 ",戊,active,2025-01-10,2025-12-31,,\n"
		"（2024）闽0102执6号," FZ ",XG,debtor,RIC," P6 ",己,active,2025-01-10,,HOTEL,\n"
		"（2024）闽0102执7号," FZ ",SX,debtor,ORG," ORG_A ",庚,active,2025-01-10,,,\n"
		"（2024）闽0102执8号," FZ ",SX,debtor,RIC," P7 ",辛,revoked,2025-01-10,,,\n"
		"（2024）闽0102执9号," FZ ",SX,debtor,RIC," P7 ",辛,active,2025-01-10,,,\n",
		PHDR
		"RIC," P1 ",（2024）闽0102执1号,AIR,2026-01-01,2026-01-31,C1\n");
	const char *d = "2026-01-10";
	cr_assert_eq(listed(s, P1, NULL, d), 1, "active (a permit does not unlist)");
	cr_assert_eq(listed(s, P1, NULL, "2025-01-09"), 0, "before listed_on");
	cr_assert_eq(listed(s, P2, NULL, d), 0, "suspended");
	cr_assert_eq(listed(s, P3, NULL, d), 0, "revoked");
	cr_assert_eq(listed(s, P4, NULL, d), 0, "shielded");
	cr_assert_eq(listed(s, P5, NULL, "2025-12-31"), 1, "last day");
	cr_assert_eq(listed(s, P5, NULL, d), 0, "expired");
	cr_assert_eq(listed(s, P6, NULL, d), 1, "HOTEL only, asked as air");
	cr_assert_eq(listed(s, USCC_A1, "USCC", d), 1, "USCC of a listed ORG");
	cr_assert_eq(listed(s, P7, NULL, d), 1, "revoked and active");
	cr_assert_eq(listed(s, P8, NULL, d), 0, "not on the list");
	sx_snap_close(s);
}

/* ---- batches ------------------------------------------------------------------------- */

Test(batch, decide_batch_equals_decide_one_by_one_including_partial_batches,
     .timeout = 60)
{
	enum { NROWS = 3000, NQ = 4000 };
	tu_gen_row *rows = calloc(NROWS, sizeof *rows);
	char *permits = NULL;
	char *list = tu_gen_list(NROWS, 11, rows, &permits);
	sx_snap *s = snap("batch", list, permits);
	static const char *const rail[] = { "G1:second", "D5:first", "K3:soft_sleeper",
	                                    "C7:2", "T1:hard_seat", "S9:F" };
	static const char *const ship[] = { "first", "3", "special" };
	sx_query *qs = calloc(NQ, sizeof *qs);
	tu_rng r = { 1234 };
	char err[256];

	for (size_t i = 0; i < NQ; i++) {
		char idbuf[32], day[11];
		const char *type = "RIC", *id = idbuf;
		uint32_t pick = tu_below(&r, 10);
		const tu_gen_row *row = &rows[tu_below(&r, NROWS)];
		if (pick < 7) {           /* someone on the list */
			type = row->id_type;
			id = row->id_no;
		} else if (pick < 9) {    /* someone not on it */
			tu_gen_ric(&r, idbuf);
		} else if (!strcmp(row->id_type, "USCC")) {   /* its org code */
			type = "ORG";
			snprintf(idbuf, sizeof idbuf, "%.9s", row->id_no + 8);
		} else {
			type = row->id_type;
			id = row->id_no;
		}
		/* a third on the codes the permits lift, a third on the
		 * consumption channels, a third on any: every outcome comes up */
		static const int lifted[] = { SX_C_AIR, SX_C_RAIL, SX_C_HOTEL };
		uint32_t mix = tu_below(&r, 3);
		int chan = mix == 0 ? lifted[tu_below(&r, 3)] :
		           (int)tu_below(&r, mix == 1 ? SX_C_OFFICE + 1 : SX_NCODES);
		const char *cls = chan == SX_C_RAIL ? rail[tu_below(&r, 6)]
		                : chan == SX_C_SHIP ? ship[tu_below(&r, 3)]
		                : chan == SX_C_HOTEL ? (tu_below(&r, 2) ? "0" : "4")
		                : NULL;
		const sx_rules *ru = sx_snap_rules(s);
		if (SX_CODES_CLASSED >> chan & 1 && !cls) {    /* a joint class */
			const char *of[SX_RULES_MAX_CLASSES];
			uint32_t n = 0;
			for (int k = 0; k < ru->nclasses; k++)
				if (ru->cls[k].chan == chan)
					of[n++] = ru->cls[k].name;
			cls = of[tu_below(&r, n)];
		}
		sx_day_format((uint16_t)(17897 + tu_below(&r, 3000)), day);
		const char *cn = sx_channel_name(chan);
		cr_assert_eq(sx_query_common(&qs[i], ru, (sx_str){ cn, strlen(cn) },
		                             (sx_str){ cls, cls ? strlen(cls) : 0 },
		                             (sx_str){ type, strlen(type) },
		                             (sx_str){ day, 10 }, err, sizeof err), 0,
		             "%s", err);
		cr_assert_eq(sx_query_id(&qs[i], (sx_str){ id, strlen(id) }, err,
		                         sizeof err), 0, "%s %s: %s", type, id, err);
		/* a RESP pipeline mixes LISTED into the same batch */
		if (i % 5 == 4)
			qs[i].op = SX_Q_LISTED;
	}

	/* one by one */
	uint32_t max = sx_snap_max_query_records(s);
	sx_decision *one = calloc(NQ, sizeof *one);
	uint32_t *onerecs = calloc((size_t)NQ * max, sizeof *onerecs);
	int reasons[SX_NREASONS] = {0}, listed[2] = {0};
	for (size_t i = 0; i < NQ; i++) {
		if (qs[i].op == SX_Q_LISTED) {
			int l = sx_listed(s, &qs[i]);
			one[i] = (sx_decision){ .reason = l ? SX_R_LISTED : SX_R_NOT_LISTED };
			listed[l]++;
			continue;
		}
		sx_decide(s, &qs[i], &one[i], onerecs + i * max);
		reasons[one[i].reason]++;
	}
	for (int k = 0; k < SX_NREASONS; k++)
		cr_assert_gt(reasons[k], 0, "the mix never gave %s: a weak test",
		             sx_reason_name(k));
	cr_assert(listed[0] && listed[1], "LISTED answered %d yes, %d no: a weak test",
	          listed[1], listed[0]);

	/* a roomy buffer: all at once; then the smallest allowed buffer, so
	 * the batch keeps stopping early and is resumed */
	size_t caps[2] = { (size_t)NQ * max, max };
	for (int c = 0; c < 2; c++) {
		sx_decision *ds = calloc(NQ, sizeof *ds);
		uint32_t *recs = calloc(caps[c], sizeof *recs);
		size_t done = 0, calls = 0, partial = 0;
		while (done < NQ) {
			size_t got = sx_decide_batch(s, qs + done, NQ - done, ds + done,
			                             recs, caps[c]);
			cr_assert_geq(got, 1, "cap %zu >= max %u must decide one",
			              caps[c], max);
			/* check now: the next call reuses recs */
			for (size_t i = done; i < done + got; i++) {
				if (ds[i].reason != one[i].reason || ds[i].nrec != one[i].nrec)
					cr_assert_fail("cap %zu, query %zu: batch %s/%u, single "
					               "%s/%u", caps[c], i,
					               sx_reason_name(ds[i].reason), ds[i].nrec,
					               sx_reason_name(one[i].reason), one[i].nrec);
				for (uint32_t k = 0; k < one[i].nrec; k++)
					if (ds[i].rec[k] != one[i].rec[k])
						cr_assert_fail("cap %zu, query %zu: record %u "
						               "differs", caps[c], i, k);
			}
			partial += got < NQ - done;
			done += got;
			calls++;
		}
		if (c == 0)
			cr_assert_eq(calls, 1, "a roomy buffer decides all at once");
		else
			cr_assert_gt(partial, 0, "the small buffer never cut a batch");
		free(ds);
		free(recs);
	}
	free(one);
	free(onerecs);
	free(qs);
	free(rows);
	free(list);
	free(permits);
	sx_snap_close(s);
}
