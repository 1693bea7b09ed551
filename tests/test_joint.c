/*
 * test_joint.c - the joint-punishment measures of SPEC section 4 (一处失信、
 * 处处受限) through the real loader and the query parser: every (channel,
 * class) of the catalogue with its effect, on an SX debtor and on an XG
 * one; classes that are missing, unknown or in another case; the
 * related-persons rule; the XG reject rule; permits on joint codes; the
 * warnings the loader writes; and the operator's rule table for the joint
 * channels (effects deny / review / none, added classes), stored in the
 * snapshot and deciding.
 *
 * The expected effects are written out here from SPEC's table, not taken
 * from the engine's catalogue (sx.h, decide.h): a wrong line there fails
 * here.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "snapshot.h"
#include "testutil.h"

TestSuite(catalogue, .init = tu_setup, .fini = tu_teardown);
TestSuite(related, .init = tu_setup, .fini = tu_teardown);
TestSuite(xgrows, .init = tu_setup, .fini = tu_teardown);
TestSuite(jpermits, .init = tu_setup, .fini = tu_teardown);
TestSuite(jrules, .init = tu_setup, .fini = tu_teardown);

#define P1 "110101198001011005"
#define P2 "110101197512121017"
#define P3 "110101199005151026"
#define P4 "110101196603031039"
#define P5 "11010120010709104X"
#define ORG_B  "123456788"
#define USCC_B "91350200123456788X"  /* embeds ORG_B */

#define FZ "福州市鼓楼区人民法院"
#define HDR "case_no,court,list,role,id_type,id_no,name,status,listed_on," \
            "expires_on,restrictions,region\n"
#define PHDR "id_type,id_no,case_no,codes,valid_from,valid_to,permit_ref\n"
#define AT " AT 2026-01-10"

#define REC(n, role, list) "（2024）闽0102执" #n "号|" FZ "|" role "|" list

/* SPEC section 4's table, written out: channel, class (NULL: none), 'D'
 * deny or 'R' review. */
static const struct { const char *chan, *cls; char eff; } TABLE[] = {
	{ "finance", "bank", 'R' }, { "finance", "securities", 'R' },
	{ "finance", "fund", 'R' }, { "finance", "futures", 'R' },
	{ "finance", "private_fund", 'R' }, { "finance", "guarantee", 'D' },
	{ "finance", "insurer", 'D' },
	{ "bond", "interbank", 'R' }, { "bond", "corporate", 'D' },
	{ "quota", NULL, 'R' }, { "incentive", NULL, 'D' }, { "stock", NULL, 'R' },
	{ "society", NULL, 'D' }, { "procurement", NULL, 'D' },
	{ "bidding", NULL, 'D' }, { "strait", NULL, 'D' }, { "subsidy", NULL, 'D' },
	{ "policy", NULL, 'R' },
	{ "appointment", "soe_executive", 'D' },
	{ "appointment", "institution_rep", 'D' },
	{ "appointment", "financial_executive", 'D' },
	{ "appointment", "society_head", 'D' },
	{ "appointment", "civil_servant", 'D' }, { "appointment", "deputy", 'D' },
	{ "appointment", "party", 'R' }, { "appointment", "military", 'R' },
	{ "customs", NULL, 'D' },
	{ "license", "drug", 'R' }, { "license", "food", 'R' },
	{ "license", "tobacco", 'D' }, { "license", "fire", 'D' },
	{ "license", "hazchem", 'D' }, { "license", "fireworks", 'D' },
	{ "license", "mining", 'D' },
	{ "qualification", NULL, 'D' }, { "honor", NULL, 'D' },
	{ "credit", NULL, 'R' }, { "asset", NULL, 'D' }, { "resource", NULL, 'D' },
};

static const char *ask(const sx_snap *s, const char *id, const char *chan,
                       const char *cls, const char *extra)
{
	char q[256];
	snprintf(q, sizeof q, "%s %s%s%s%s" AT, id, chan, cls ? " " : "",
	         cls ? cls : "", extra ? extra : "");
	return tu_ask(s, q);
}

/* ---- the catalogue ----------------------------------------------------------- */

Test(catalogue, every_channel_and_class_has_its_effect_on_sx_and_none_on_xg)
{
	sx_snap *s = tu_snap_from_csv(tu_dir, "cat", HDR
		"（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2024）闽0102执2号," FZ ",XG,debtor,RIC," P2 ",乙,active,2025-01-10,,,\n",
		NULL);
	const char *deny = "DENY LISTED " REC(1, "debtor", "SX");
	const char *review = "REVIEW LISTED " REC(1, "debtor", "SX");
	size_t nchan = 0;
	for (size_t i = 0; i < SX_ARRAY_LEN(TABLE); i++) {
		const char *got = ask(s, P1, TABLE[i].chan, TABLE[i].cls, NULL);
		cr_assert_str_eq(got, TABLE[i].eff == 'D' ? deny : review, "SX: %s %s",
		                 TABLE[i].chan, TABLE[i].cls ? TABLE[i].cls : "");
		got = ask(s, P2, TABLE[i].chan, TABLE[i].cls, NULL);
		cr_assert_str_eq(got, "ALLOW NOT_RESTRICTED", "XG: %s %s",
		                 TABLE[i].chan, TABLE[i].cls ? TABLE[i].cls : "");
		nchan += i == 0 || strcmp(TABLE[i].chan, TABLE[i - 1].chan);
	}
	cr_assert_eq(nchan, 19, "the 19 joint-punishment channels");
	/* the XG order still restricts consumption, and property is SX and XG
	 * alike, asset SX only */
	TU_CHECK(s, P2 " air" AT, "DENY LISTED " REC(2, "debtor", "XG"));
	TU_CHECK(s, P2 " property" AT, "DENY LISTED " REC(2, "debtor", "XG"));
	TU_CHECK(s, P1 " property" AT, deny);
	TU_CHECK(s, P2 " asset" AT, "ALLOW NOT_RESTRICTED");
	/* and nobody else is listed */
	TU_CHECK(s, P3 " procurement" AT, "ALLOW NOT_LISTED");
	TU_CHECK(s, P3 " finance bank" AT, "ALLOW NOT_LISTED");
	sx_snap_close(s);
}

Test(catalogue, classes_missing_unknown_ignored_and_in_any_case)
{
	sx_snap *s = tu_snap_from_csv(tu_dir, "cls", HDR
		"（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n",
		NULL);
	const char *deny = "DENY LISTED " REC(1, "debtor", "SX");
	const char *review = "REVIEW LISTED " REC(1, "debtor", "SX");
	static const char *const classed[] = { "finance", "bond", "appointment",
	                                       "license" };
	for (size_t i = 0; i < SX_ARRAY_LEN(classed); i++) {
		char q[128];
		snprintf(q, sizeof q, P1 " %s" AT, classed[i]);
		TU_CHECK_PREFIX(s, q, "ERR bad class: ");
		cr_assert(strstr(tu_ask(s, q), "needs a class"), "%s", tu_ask(s, q));
		snprintf(q, sizeof q, P1 " %s nosuch" AT, classed[i]);
		TU_CHECK_PREFIX(s, q, "ERR bad class 'nosuch' for ");
		/* a class of another channel is unknown here */
		snprintf(q, sizeof q, P1 " %s %s" AT, classed[i],
		         i == 0 ? "corporate" : "bank");
		TU_CHECK_PREFIX(s, q, "ERR bad class ");
	}
	/* the error lists the classes to choose from */
	cr_assert_str_eq(tu_ask(s, P1 " bond" AT), "ERR bad class: bond needs a "
	                 "class (want interbank or corporate)");
	/* case-insensitive: classes, channels */
	TU_CHECK(s, P1 " finance BANK" AT, review);
	TU_CHECK(s, P1 " Appointment Civil_Servant" AT, deny);
	TU_CHECK(s, P1 " LICENSE Drug" AT, review);
	TU_CHECK(s, P1 " PROCUREMENT" AT, deny);
	TU_CHECK(s, P1 " Qualification" AT, deny);
	/* the other joint channels ignore a class */
	TU_CHECK(s, P1 " procurement goods" AT, deny);
	TU_CHECK(s, P1 " credit mortgage" AT, review);
	/* the code is not the channel: APPOINT is asked as appointment */
	TU_CHECK_PREFIX(s, P1 " appoint deputy" AT, "ERR unknown channel 'appoint'");
	TU_CHECK_PREFIX(s, P1 " qualify" AT, "ERR unknown channel");
	sx_snap_close(s);
}

Test(catalogue, narrowed_restrictions_restrict_only_their_codes)
{
	sx_snap *s = tu_snap_from_csv(tu_dir, "narrow", HDR
		"（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,procurement; Credit,\n"
		"（2024）闽0102执2号," FZ ",SX,debtor,RIC," P2 ",乙,active,2025-01-10,,AIR;FINANCE,\n",
		NULL);
	TU_CHECK(s, P1 " procurement" AT, "DENY LISTED " REC(1, "debtor", "SX"));
	TU_CHECK(s, P1 " credit" AT, "REVIEW LISTED " REC(1, "debtor", "SX"));
	TU_CHECK(s, P1 " bidding" AT, "ALLOW NOT_RESTRICTED");
	TU_CHECK(s, P1 " air" AT, "ALLOW NOT_RESTRICTED");
	TU_CHECK(s, P2 " air" AT, "DENY LISTED " REC(2, "debtor", "SX"));
	TU_CHECK(s, P2 " finance insurer" AT, "DENY LISTED " REC(2, "debtor", "SX"));
	TU_CHECK(s, P2 " finance fund" AT, "REVIEW LISTED " REC(2, "debtor", "SX"));
	TU_CHECK(s, P2 " bond interbank" AT, "ALLOW NOT_RESTRICTED");
	sx_snap_close(s);
}

/* DENY and REVIEW from two cases of one person: each query names the
 * records that restrict it, in list order; a suspended record gives
 * SUSPENDED for a review channel as for a deny one. */
Test(catalogue, records_named_and_suspended_on_joint_channels)
{
	sx_snap *s = tu_snap_from_csv(tu_dir, "two", HDR
		"（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2024）闽0102执2号," FZ ",XG,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2024）闽0102执3号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,CREDIT,\n"
		"（2024）闽0102执4号," FZ ",SX,debtor,RIC," P2 ",乙,suspended,2025-01-10,,,\n"
		"（2024）闽0102执5号," FZ ",SX,debtor,RIC," P3 ",丙,suspended,2025-01-10,,,\n"
		"（2024）闽0102执6号," FZ ",SX,debtor,RIC," P3 ",丙,active,2025-01-10,,AIR,\n",
		NULL);
	TU_CHECK(s, P1 " credit" AT, "REVIEW LISTED " REC(1, "debtor", "SX") " "
	         REC(3, "debtor", "SX"));
	TU_CHECK(s, P1 " procurement" AT, "DENY LISTED " REC(1, "debtor", "SX"));
	TU_CHECK(s, P1 " air" AT, "DENY LISTED " REC(1, "debtor", "SX") " "
	         REC(2, "debtor", "XG"));
	TU_CHECK(s, P2 " credit" AT, "ALLOW SUSPENDED");
	TU_CHECK(s, P2 " procurement" AT, "ALLOW SUSPENDED");
	TU_CHECK(s, P3 " credit" AT, "ALLOW SUSPENDED");
	TU_CHECK(s, P3 " air" AT, "DENY LISTED " REC(6, "debtor", "SX"));
	/* the records a REVIEW concerns are the ones named */
	sx_query q;
	sx_decision d;
	char err[128];
	uint32_t recs[16], conc[16];
	cr_assert_eq(sx_query_common(&q, sx_snap_rules(s), tu_s("credit"), tu_s(NULL),
	                             tu_s(NULL), tu_s("2026-01-10"), err, sizeof err), 0);
	cr_assert_eq(sx_query_id(&q, tu_s(P1), err, sizeof err), 0);
	sx_decide(s, &q, &d, recs);
	cr_assert_eq(d.reason, SX_R_REVIEW);
	cr_assert_eq(sx_decide_concerned(s, &q, &d, conc), 2);
	cr_assert_eq(conc[0], d.rec[0]);
	cr_assert_eq(conc[1], d.rec[1]);
	sx_snap_close(s);
}

/* ---- related persons ------------------------------------------------------------ */

Test(related, a_units_people_get_only_consumption_strait_appoint_asset)
{
	sx_snap *s = tu_snap_from_csv(tu_dir, "rel", HDR
		"（2024）闽0102执1号," FZ ",SX,debtor,USCC," USCC_B ",某公司,active,2025-01-10,,,\n"
		"（2024）闽0102执1号," FZ ",SX,legal_rep,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2024）闽0102执1号," FZ ",SX,principal,RIC," P2 ",乙,active,2025-01-10,,,\n"
		"（2024）闽0102执1号," FZ ",SX,controller,RIC," P3 ",丙,active,2025-01-10,,,\n"
		"（2024）闽0102执1号," FZ ",SX,responsible,RIC," P4 ",丁,active,2025-01-10,,,\n",
		NULL);
	/* the unit itself, by USCC and by its embedded organisation code */
	TU_CHECK(s, USCC_B " bidding TYPE USCC" AT, "DENY LISTED " REC(1, "debtor", "SX"));
	TU_CHECK(s, USCC_B " credit TYPE USCC" AT, "REVIEW LISTED " REC(1, "debtor", "SX"));
	TU_CHECK(s, ORG_B " bidding TYPE ORG" AT, "DENY LISTED " REC(1, "debtor", "SX"));
	TU_CHECK(s, ORG_B " credit TYPE ORG" AT, "REVIEW LISTED " REC(1, "debtor", "SX"));
	static const char *const roles[] = { "legal_rep", "principal", "controller",
	                                     "responsible" };
	static const char *const ids[] = { P1, P2, P3, P4 };
	for (int i = 0; i < 4; i++) {
		char deny[256], review[256];
		snprintf(deny, sizeof deny, "DENY LISTED （2024）闽0102执1号|" FZ "|%s|SX",
		         roles[i]);
		snprintf(review, sizeof review, "REVIEW LISTED （2024）闽0102执1号|" FZ
		         "|%s|SX", roles[i]);
		/* what the opinions extend to these persons */
		cr_assert_str_eq(ask(s, ids[i], "asset", NULL, NULL), deny, "%s", roles[i]);
		cr_assert_str_eq(ask(s, ids[i], "strait", NULL, NULL), deny, "%s", roles[i]);
		cr_assert_str_eq(ask(s, ids[i], "appointment", "soe_executive", NULL), deny);
		cr_assert_str_eq(ask(s, ids[i], "appointment", "party", NULL), review);
		cr_assert_str_eq(ask(s, ids[i], "air", NULL, NULL), deny);
		cr_assert_str_eq(ask(s, ids[i], "property", NULL, NULL), deny);
		/* and what they do not */
		static const char *const not[] = { "procurement", "bidding", "credit",
		                                   "subsidy", "quota", "qualification" };
		for (size_t k = 0; k < SX_ARRAY_LEN(not); k++)
			cr_assert_str_eq(ask(s, ids[i], not[k], NULL, NULL),
			                 "ALLOW NOT_RESTRICTED", "%s %s", roles[i], not[k]);
		cr_assert_str_eq(ask(s, ids[i], "finance", "guarantee", NULL),
		                 "ALLOW NOT_RESTRICTED");
		cr_assert_str_eq(ask(s, ids[i], "license", "mining", NULL),
		                 "ALLOW NOT_RESTRICTED");
	}
	sx_snap_close(s);
}

Test(related, a_person_both_debtor_and_legal_rep_is_named_by_each_record_that_restricts)
{
	sx_snap *s = tu_snap_from_csv(tu_dir, "both", HDR
		"（2024）闽0102执1号," FZ ",SX,debtor,USCC," USCC_B ",某公司,active,2025-01-10,,,\n"
		"（2024）闽0102执1号," FZ ",SX,legal_rep,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2024）闽0102执2号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n",
		NULL);
	TU_CHECK(s, P1 " procurement" AT, "DENY LISTED " REC(2, "debtor", "SX"));
	TU_CHECK(s, P1 " asset" AT, "DENY LISTED " REC(1, "legal_rep", "SX") " "
	         REC(2, "debtor", "SX"));
	TU_CHECK(s, P1 " credit" AT, "REVIEW LISTED " REC(2, "debtor", "SX"));
	sx_snap_close(s);
}

/* A related person's row naming a code it cannot carry loads, with a
 * warning in the rejects file; what it can carry still restricts. */
Test(related, naming_a_debtor_only_code_loads_with_a_warning)
{
	tu_build b;
	const char *list = HDR
		"（2024）闽0102执1号," FZ ",SX,debtor,USCC," USCC_B ",某公司,active,2025-01-10,,,\n"
		"（2024）闽0102执1号," FZ ",SX,legal_rep,RIC," P1 ",甲,active,2025-01-10,,PROCUREMENT;ASSET;AIR,\n"
		"（2024）闽0102执1号," FZ ",SX,controller,RIC," P2 ",乙,active,2025-01-10,,credit,\n";
	cr_assert_eq(tu_build_csv(&b, tu_dir, "warn", list, NULL, 0), 0, "%s", b.why);
	cr_assert_eq(b.rep.rejected, 0);
	cr_assert_eq(b.rep.loaded, 3);
	cr_assert_eq(b.rep.warned, 2);
	cr_assert_eq(b.rep.code_warnings, 2);
	char *rej = tu_read(b.rejects, NULL);
	cr_assert(strstr(rej, "\n3,\"warning: a legal_rep restricts only the consumption "
	                 "codes and STRAIT,APPOINT,ASSET; PROCUREMENT named in "
	                 "restrictions restricts nothing for this row\","), "%s", rej);
	cr_assert(strstr(rej, "\n4,\"warning: a controller restricts only the "
	                 "consumption codes and STRAIT,APPOINT,ASSET; CREDIT named"), "%s", rej);
	free(rej);
	sx_snap *s = NULL;
	char why[512];
	cr_assert_eq(sx_snap_open(b.out, &s, why, sizeof why), 0, "%s", why);
	TU_CHECK(s, P1 " procurement" AT, "ALLOW NOT_RESTRICTED");
	TU_CHECK(s, P1 " asset" AT, "DENY LISTED " REC(1, "legal_rep", "SX"));
	TU_CHECK(s, P1 " air" AT, "DENY LISTED " REC(1, "legal_rep", "SX"));
	TU_CHECK(s, P1 " rail G1:first" AT, "ALLOW NOT_RESTRICTED");
	/* a record that restricts nothing still applies to its ID */
	TU_CHECK(s, P2 " credit" AT, "ALLOW NOT_RESTRICTED");
	TU_CHECK(s, P2 " air" AT, "ALLOW NOT_RESTRICTED");
	sx_snap_close(s);
}

/* ---- XG rows ----------------------------------------------------------------------- */

Test(xgrows, an_xg_row_naming_a_joint_code_is_rejected_with_its_line_and_reason)
{
	tu_build b;
	const char *list = HDR
		"（2024）闽0102执1号," FZ ",XG,debtor,RIC," P1 ",甲,active,2025-01-10,,AIR;BIDDING,\n"
		"（2024）闽0102执2号," FZ ",XG,debtor,RIC," P2 ",乙,active,2025-01-10,,hotel;credit,\n"
		"（2024）闽0102执3号," FZ ",SX,debtor,RIC," P3 ",丙,active,2025-01-10,,AIR;BIDDING,\n"
		"（2024）闽0102执4号," FZ ",xg,debtor,RIC," P4 ",丁,active,2025-01-10,,,\n";
	cr_assert_eq(tu_build_csv(&b, tu_dir, "xg", list, NULL, 10), 0, "%s", b.why);
	cr_assert_eq(b.rep.rows, 4);
	cr_assert_eq(b.rep.rejected, 2);
	cr_assert_eq(b.rep.loaded, 2);
	char *rej = tu_read(b.rejects, NULL);
	cr_assert(strstr(rej, "\n2,\"XG row names joint-punishment code 'BIDDING' in "
	                 "restrictions (a consumption-restriction order restricts "
	                 "consumption only)\",\"（2024）闽0102执1号,"), "%s", rej);
	cr_assert(strstr(rej, "\n3,\"XG row names joint-punishment code 'CREDIT'"), "%s", rej);
	free(rej);
	sx_snap *s = NULL;
	char why[512];
	cr_assert_eq(sx_snap_open(b.out, &s, why, sizeof why), 0, "%s", why);
	TU_CHECK(s, P1 " air" AT, "ALLOW NOT_LISTED");
	TU_CHECK(s, P3 " bidding" AT, "DENY LISTED " REC(3, "debtor", "SX"));
	TU_CHECK(s, P4 " hotel 1" AT, "DENY LISTED " REC(4, "debtor", "XG"));
	TU_CHECK(s, P4 " bidding" AT, "ALLOW NOT_RESTRICTED");
	sx_snap_close(s);
	/* over the limit, the build fails and writes nothing */
	cr_assert_neq(tu_build_csv(&b, tu_dir, "xg0", list, NULL, 1), 0);
	cr_assert(!tu_exists(b.out));
}

/* ---- permits ---------------------------------------------------------------------- */

Test(jpermits, a_permit_on_procurement_lifts_only_its_case_and_code)
{
	tu_build b;
	const char *list = HDR
		"（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"(2024)闽0102执2号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2024）闽0102执3号," FZ ",SX,debtor,RIC," P2 ",乙,active,2025-01-10,,,\n"
		"（2024）闽0102执4号," FZ ",XG,debtor,RIC," P3 ",丙,active,2025-01-10,,,\n";
	const char *permits = PHDR
		"RIC," P1 ",(2024)闽0102执1号,PROCUREMENT,2026-01-01,2026-01-31,准许-1\n"
		"RIC," P2 ",（2024）闽0102执3号,procurement;CREDIT,2026-01-01,2026-01-31,准许-2\n"
		"RIC," P3 ",（2024）闽0102执4号,AIR;BIDDING,2026-01-01,2026-01-31,准许-3\n";
	cr_assert_eq(tu_build_csv(&b, tu_dir, "perm", list, permits, 0), 0, "%s", b.why);
	cr_assert_eq(b.rep.permits_loaded, 3);
	/* a permit naming a code its case's records do not carry: a warning */
	cr_assert_eq(b.rep.code_warnings, 1);
	char *rej = tu_read(b.rejects, NULL);
	cr_assert(strstr(rej, "4,\"warning: "), "%s", rej);
	cr_assert(strstr(rej, "no record of the permit's case carries BIDDING; kept, "
	                 "lifts nothing for it"), "%s", rej);
	free(rej);
	sx_snap *s = NULL;
	char why[512];
	cr_assert_eq(sx_snap_open(b.out, &s, why, sizeof why), 0, "%s", why);
	/* case 1 is lifted for procurement only; case 2 still denies */
	TU_CHECK(s, P1 " procurement" AT, "DENY LISTED (2024)闽0102执2号|" FZ "|debtor|SX");
	TU_CHECK(s, P1 " bidding" AT, "DENY LISTED " REC(1, "debtor", "SX")
	         " (2024)闽0102执2号|" FZ "|debtor|SX");
	TU_CHECK(s, P1 " procurement AT 2026-02-01", "DENY LISTED " REC(1, "debtor", "SX")
	         " (2024)闽0102执2号|" FZ "|debtor|SX");
	/* one case, all lifted: EXEMPT, for review channels too */
	TU_CHECK(s, P2 " procurement" AT, "ALLOW EXEMPT");
	TU_CHECK(s, P2 " credit" AT, "ALLOW EXEMPT");
	TU_CHECK(s, P2 " bidding" AT, "DENY LISTED " REC(3, "debtor", "SX"));
	TU_CHECK(s, P3 " air" AT, "ALLOW EXEMPT");
	TU_CHECK(s, P3 " bidding" AT, "ALLOW NOT_RESTRICTED");
	sx_snap_close(s);
}

/* ---- the rule table ----------------------------------------------------------------- */

static const char RULES[] =
	"# a stricter procurement office, a bank that does not ask, a trust class\n"
	"procurement review\n"
	"credit none\n"
	"finance deny bank Securities\n"
	"finance review trust\n"
	"appointment none party\n"
	"license deny DRUG\n"
	"bond review leasing\n";

Test(jrules, effects_and_added_classes_parse_write_and_read_back)
{
	sx_rules r, back, def;
	char why[256] = "";
	cr_assert_eq(sx_rules_parse(RULES, strlen(RULES), &r, why, sizeof why), 0, "%s", why);
	sx_rules_default(&def);
	cr_assert_eq(sx_rules_effect(&r, SX_C_PROCUREMENT, SX_CLASS_NONE), SX_EFF_REVIEW);
	cr_assert_eq(sx_rules_effect(&r, SX_C_CREDIT, SX_CLASS_NONE), SX_EFF_NONE);
	cr_assert_eq(sx_rules_effect(&r, SX_C_BIDDING, SX_CLASS_NONE), SX_EFF_DENY);
	cr_assert_eq(r.nclasses, def.nclasses + 2);
	cr_assert_str_eq(r.cls[def.nclasses].name, "trust");
	cr_assert_eq(r.cls[def.nclasses].chan, SX_C_FINANCE);
	cr_assert_eq(r.cls[def.nclasses].effect, SX_EFF_REVIEW);
	cr_assert_str_eq(r.cls[def.nclasses + 1].name, "leasing");
	cr_assert_eq(r.cls[def.nclasses + 1].chan, SX_C_BOND);
	/* the same classes parse in any case against the table */
	sx_query q;
	char err[256];
	cr_assert_eq(sx_query_common(&q, &r, tu_s("finance"), tu_s("TRUST"), tu_s(NULL),
	                             tu_s("2026-01-10"), err, sizeof err), 0, "%s", err);
	cr_assert_eq(sx_rules_effect(&r, q.chan, q.cls), SX_EFF_REVIEW);
	char cls[64];
	sx_class_format(&r, q.chan, q.cls, cls, sizeof cls);
	cr_assert_str_eq(cls, "trust");
	cr_assert_eq(sx_query_common(&q, NULL, tu_s("finance"), tu_s("trust"), tu_s(NULL),
	                             tu_s("2026-01-10"), err, sizeof err), -1,
	             "the default table has no trust class");
	cr_assert_eq(sx_query_common(&q, &r, tu_s("finance"), tu_s("securities"), tu_s(NULL),
	                             tu_s("2026-01-10"), err, sizeof err), 0);
	cr_assert_eq(sx_rules_effect(&r, q.chan, q.cls), SX_EFF_DENY);
	cr_assert_eq(sx_query_common(&q, &r, tu_s("appointment"), tu_s("party"), tu_s(NULL),
	                             tu_s("2026-01-10"), err, sizeof err), 0);
	cr_assert_eq(sx_rules_effect(&r, q.chan, q.cls), SX_EFF_NONE);
	cr_assert_eq(sx_rules_check(&r, why, sizeof why), 0, "%s", why);

	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	sx_rules_write(&r, f);
	fclose(f);
	cr_assert(strstr(out, "procurement review\n") && strstr(out, "credit none\n") &&
	          strstr(out, "finance review trust\n") &&
	          strstr(out, "bond review leasing\n"), "%s", out);
	cr_assert_eq(sx_rules_parse(out, len, &back, why, sizeof why), 0, "%s", why);
	cr_assert_eq(memcmp(&back, &r, sizeof r), 0, "written and read back:\n%s", out);
	free(out);
	/* the default table, written, reads back as itself */
	f = open_memstream(&out, &len);
	sx_rules_write(&def, f);
	fclose(f);
	cr_assert_eq(sx_rules_parse(out, len, &back, why, sizeof why), 0, "%s", why);
	cr_assert_eq(memcmp(&back, &def, sizeof def), 0, "%s", out);
	free(out);
}

Test(jrules, bad_rules_name_their_line_and_what_is_wrong)
{
	static const struct { const char *text, *want; } bad[] = {
		{ "finance deny\n", "line 1: finance has classes: name those the effect "
		  "is for (bank, securities, fund, futures, private_fund, guarantee or insurer)" },
		{ "\nprocurement deny goods\n", "line 2: procurement takes no class" },
		{ "air none\n", "line 1: no rule for the consumption channel 'air'" },
		{ "bus deny\n", "line 1: unknown rule 'bus'" },
		{ "credit maybe\n", "line 1: credit wants an effect: deny, review or none (not 'maybe')" },
		{ "credit\n", "line 1: credit wants an effect" },
		{ "finance deny bad-name\n", "line 1: class 'bad-name' of finance: a class "
		  "name is 1-21 of a-z, 0-9 and _" },
		{ "finance deny abcdefghijklmnopqrstuvw\n", "line 1: class 'abcdefghijklmnopqrstuvw'" },
		{ "hotel 1\nfinance deny x\x01y\n", "line 2: class" },
	};
	sx_rules r;
	char why[300];
	for (size_t i = 0; i < SX_ARRAY_LEN(bad); i++) {
		cr_assert_eq(sx_rules_parse(bad[i].text, strlen(bad[i].text), &r, why,
		                            sizeof why), -1, "accepted: %s", bad[i].text);
		cr_assert(!strncmp(why, bad[i].want, strlen(bad[i].want)),
		          "%s\n  got  %s\n  want %s", bad[i].text, why, bad[i].want);
	}
	/* room for SX_RULES_MAX_CLASSES classes in all, and no more */
	sx_rules def;
	sx_rules_default(&def);
	char *text = malloc(65536);
	size_t n = 0;
	for (int i = def.nclasses; i < SX_RULES_MAX_CLASSES; i++)
		n += (size_t)sprintf(text + n, "license deny c%d\n", i);
	cr_assert_eq(sx_rules_parse(text, n, &r, why, sizeof why), 0, "%s", why);
	cr_assert_eq(r.nclasses, SX_RULES_MAX_CLASSES);
	n += (size_t)sprintf(text + n, "license deny one_more\n");
	cr_assert_eq(sx_rules_parse(text, n, &r, why, sizeof why), -1);
	cr_assert(strstr(why, "more than 128 classes in all"), "%s", why);
	free(text);
}

Test(jrules, the_check_refuses_a_table_no_parser_could_make)
{
	sx_rules r, def;
	char why[200];
	sx_rules_default(&def);
	cr_assert_eq(sx_rules_check(&def, why, sizeof why), 0, "%s", why);
	r = def;
	r.effect[SX_C_CREDIT] = 3;
	cr_assert_eq(sx_rules_check(&r, why, sizeof why), -1);
	r = def;
	r.effect[SX_C_AIR] = SX_EFF_REVIEW;        /* consumption: always deny */
	cr_assert_eq(sx_rules_check(&r, why, sizeof why), -1);
	r = def;
	r.cls[0].effect = 7;
	cr_assert_eq(sx_rules_check(&r, why, sizeof why), -1);
	r = def;
	strcpy(r.cls[0].name, "bonk");             /* a default class renamed */
	cr_assert_eq(sx_rules_check(&r, why, sizeof why), -1);
	r = def;                                   /* an added class twice */
	r.cls[r.nclasses++] = (sx_rule_class){ "trust", SX_C_FINANCE, SX_EFF_DENY };
	cr_assert_eq(sx_rules_check(&r, why, sizeof why), 0, "%s", why);
	r.cls[r.nclasses++] = (sx_rule_class){ "trust", SX_C_FINANCE, SX_EFF_DENY };
	cr_assert_eq(sx_rules_check(&r, why, sizeof why), -1);
	r = def;                                   /* a class of a class-less channel */
	r.cls[r.nclasses++] = (sx_rule_class){ "x", SX_C_CREDIT, SX_EFF_DENY };
	cr_assert_eq(sx_rules_check(&r, why, sizeof why), -1);
	r = def;                                   /* upper case */
	r.cls[r.nclasses++] = (sx_rule_class){ "Trust", SX_C_FINANCE, SX_EFF_DENY };
	cr_assert_eq(sx_rules_check(&r, why, sizeof why), -1);
	r = def;                                   /* bytes past the classes */
	r.cls[r.nclasses].chan = 1;
	cr_assert_eq(sx_rules_check(&r, why, sizeof why), -1);
}

Test(jrules, an_operators_table_is_stored_and_decides_the_joint_channels)
{
	sx_rules r;
	char why[256] = "";
	cr_assert_eq(sx_rules_parse(RULES, strlen(RULES), &r, why, sizeof why), 0, "%s", why);
	tu_build b;
	const char *list = HDR
		"（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n";
	tu_build_csv(&b, tu_dir, "rules", list, NULL, 0);
	b.o.rules = &r;
	cr_assert_eq(sx_build(&b.o, &b.rep, b.why, sizeof b.why), 0, "%s", b.why);
	sx_snap *s = NULL;
	cr_assert_eq(sx_snap_open(b.out, &s, why, sizeof why), 0, "%s", why);
	cr_assert_eq(memcmp(sx_snap_rules(s), &r, sizeof r), 0, "the table is stored");
	const char *deny = "DENY LISTED " REC(1, "debtor", "SX");
	const char *review = "REVIEW LISTED " REC(1, "debtor", "SX");
	TU_CHECK(s, P1 " procurement" AT, review);
	TU_CHECK(s, P1 " credit" AT, "ALLOW NOT_RESTRICTED");
	TU_CHECK(s, P1 " finance bank" AT, deny);
	TU_CHECK(s, P1 " finance securities" AT, deny);
	TU_CHECK(s, P1 " finance Trust" AT, review);
	TU_CHECK(s, P1 " finance fund" AT, review);      /* not named: default */
	TU_CHECK(s, P1 " appointment party" AT, "ALLOW NOT_RESTRICTED");
	TU_CHECK(s, P1 " appointment military" AT, review);
	TU_CHECK(s, P1 " license drug" AT, deny);
	TU_CHECK(s, P1 " bond leasing" AT, review);
	TU_CHECK(s, P1 " bidding" AT, deny);
	TU_CHECK(s, P1 " air" AT, deny);
	cr_assert_str_eq(tu_ask(s, P1 " bond" AT), "ERR bad class: bond needs a "
	                 "class (want interbank, corporate or leasing)");
	sx_snap_close(s);
}

/* ---- the offline CLI ------------------------------------------------------------------ */

TestSuite(jcli, .init = tu_setup, .fini = tu_teardown);

/* Run cmd through the shell; its stdout (malloc'd) and exit status. */
static char *run(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p, "%s", cmd);
	char *out = NULL;
	size_t n = 0, cap = 0;
	for (int ch; (ch = fgetc(p)) != EOF;) {
		if (n + 1 >= cap)
			out = realloc(out, cap = cap ? 2 * cap : 256);
		out[n++] = (char)ch;
	}
	if (!out)
		out = malloc(1);
	out[n] = 0;
	int st = pclose(p);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

Test(jcli, sxgate_check_offline_prints_review_and_exits_as_the_contract_says)
{
	tu_build b;
	const char *list = HDR
		"（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n";
	cr_assert_eq(tu_build_csv(&b, tu_dir, "cli", list, NULL, 0), 0, "%s", b.why);
	char exe[PATH_MAX], cmd[3 * PATH_MAX];
	tu_bin("sxgate", exe, sizeof exe);
	int st;
	snprintf(cmd, sizeof cmd, "%s check --snapshot %s " P1 " credit --at 2026-01-10",
	         exe, b.out);
	char *out = run(cmd, &st);
	cr_assert_eq(st, 0, "%s", cmd);
	cr_assert_str_eq(out, "REVIEW\nLISTED\n" REC(1, "debtor", "SX") "\n");
	free(out);
	snprintf(cmd, sizeof cmd, "%s check --snapshot %s " P1 " appointment DEPUTY "
	         "--at 2026-01-10", exe, b.out);
	out = run(cmd, &st);
	cr_assert_eq(st, 0, "%s", cmd);
	cr_assert_str_eq(out, "DENY\nLISTED\n" REC(1, "debtor", "SX") "\n");
	free(out);
	snprintf(cmd, sizeof cmd, "%s check --snapshot %s " P1 " license 2>&1", exe, b.out);
	out = run(cmd, &st);
	cr_assert_eq(st, 2, "%s", out);
	cr_assert(!strncmp(out, "ERR bad class: license needs a class", 36), "%s", out);
	free(out);
	char v1[PATH_MAX];
	cr_assert_not_null(tu_data_path("sample-v1.snap", v1, sizeof v1));
	snprintf(cmd, sizeof cmd, "%s check --snapshot %s " P1 " air 2>&1", exe, v1);
	out = run(cmd, &st);
	cr_assert_eq(st, 3, "%s", out);
	cr_assert(strstr(out, "rebuild it with sxgate-build"), "%s", out);
	free(out);
}
