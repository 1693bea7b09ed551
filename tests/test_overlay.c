/*
 * test_overlay.c - live updates (engine/overlay.c) read through a derived
 * snapshot handle: every update command changes the decision the way SPEC
 * sections 4, 5 and 7 say, a failed update changes nothing, and an older
 * state stays readable while a newer one is built (copy on write).
 */
#include "testutil.h"
#include "overlay.h"

static const char *LIST =
	"case_no,court,list,role,id_type,id_no,name,status,listed_on,expires_on,restrictions\n"
	"（2023）闽05执1001号,泉州市中级人民法院,SX,debtor,RIC,350304197806263293,张,active,2025-01-10,,\n"
	"（2024）闽05执1002号,泉州市中级人民法院,XG,debtor,RIC,350304197806263293,张,active,2025-01-10,,AIR\n"
	"（2023）闽0302执1008号,莆田市城厢区人民法院,SX,debtor,USCC,91350100658106848R,某公司,active,2025-01-10,,\n"
	"（2023）闽0302执1008号,莆田市城厢区人民法院,SX,legal_rep,RIC,110101199405036676,吴,active,2025-01-10,,\n"
	"(2021)闽0102执1010号,福州市鼓楼区人民法院,SX,debtor,RIC,350203197604181976,陈,active,2025-01-10,,\n";
static const char *PERMITS =
	"id_type,id_no,case_no,codes,valid_from,valid_to,permit_ref\n"
	"RIC,350203197604181976,(2021)闽0102执1010号,AIR,2026-01-05,2026-01-20,P-0\n";

static sx_snap *base, *cur;

static void setup(void)
{
	tu_setup();
	base = tu_snap_from_csv(tu_dir, "ov", LIST, PERMITS);
	cur = base;
}

static void teardown(void)
{
	if (cur != base)
		sx_snap_close(cur);
	sx_snap_close(base);
	tu_teardown();
}

TestSuite(overlay, .init = setup, .fini = teardown);

/* Apply "WORD arg arg ..." (words split at '|' so values may hold spaces)
 * to the current state; on success the current handle moves on. */
static int update(const char *cmd, char *why, size_t cap)
{
	char copy[2048], *w[40], *save = NULL;
	sx_str a[40];
	int n = 0;
	snprintf(copy, sizeof copy, "%s", cmd);
	for (char *t = strtok_r(copy, "|", &save); t && n < 40;
	     t = strtok_r(NULL, "|", &save))
		w[n++] = t;
	for (int i = 0; i < n; i++)
		a[i] = tu_s(w[i]);
	sx_overlay *ov;
	int rc = sx_overlay_apply(cur, sx_snap_overlay(cur), a, (size_t)n, &ov,
	                          why, cap);
	if (rc)
		return rc;
	sx_snap *next;
	cr_assert_eq(sx_snap_derive(base, ov, &next), 0);
	if (cur != base)
		sx_snap_close(cur);
	cur = next;
	return 0;
}

#define UPDATE_OK(cmd)                                                      \
	do {                                                                \
		char why_[256] = "";                                        \
		int rc_ = update(cmd, why_, sizeof why_);                   \
		cr_assert_eq(rc_, 0, "%s: %d %s", cmd, rc_, why_);          \
	} while (0)

#define D " AT 2026-01-10"

Test(overlay, remove_lifts_every_role_of_that_case_only)
{
	TU_CHECK(cur, "350304197806263293 air" D,
	         "DENY LISTED （2023）闽05执1001号|泉州市中级人民法院|debtor|SX "
	         "（2024）闽05执1002号|泉州市中级人民法院|debtor|XG");
	/* half-width brackets name the same case */
	UPDATE_OK("LIST.REMOVE|(2023)闽05执1001号|RIC|350304197806263293");
	TU_CHECK(cur, "350304197806263293 air" D,
	         "DENY LISTED （2024）闽05执1002号|泉州市中级人民法院|debtor|XG");
	TU_CHECK(cur, "350304197806263293 rail G1:second" D, "ALLOW NOT_RESTRICTED");
	UPDATE_OK("LIST.REMOVE|（2024）闽05执1002号|RIC|350304197806263293");
	TU_CHECK(cur, "350304197806263293 air" D, "ALLOW NOT_LISTED");
}

Test(overlay, removing_twice_is_not_found_and_changes_nothing)
{
	char why[256];
	UPDATE_OK("LIST.REMOVE|（2023）闽05执1001号|RIC|350304197806263293");
	sx_snap *before = cur;
	cr_assert_eq(update("LIST.REMOVE|（2023）闽05执1001号|RIC|350304197806263293",
	                    why, sizeof why), SX_ENOTFOUND);
	cr_assert_str_eq(why, "not found");
	cr_assert_eq(cur, before, "a failed update must not move the state");
	cr_assert_eq(update("LIST.SUSPEND|（2099）无此案|RIC|350304197806263293",
	                    why, sizeof why), SX_ENOTFOUND);
}

Test(overlay, suspend_then_resume)
{
	UPDATE_OK("LIST.SUSPEND|（2023）闽0302执1008号|RIC|110101199405036676");
	TU_CHECK(cur, "110101199405036676 air" D, "ALLOW SUSPENDED");
	UPDATE_OK("LIST.RESUME|（2023）闽0302执1008号|RIC|110101199405036676");
	TU_CHECK(cur, "110101199405036676 air" D,
	         "DENY LISTED （2023）闽0302执1008号|莆田市城厢区人民法院|legal_rep|SX");
}

Test(overlay, add_lists_a_new_id_after_the_export_in_list_order)
{
	TU_CHECK(cur, "11010519491231002X air" D, "ALLOW NOT_LISTED");
	UPDATE_OK("LIST.ADD|case_no|（2026）闽0102执9号|court|福州市鼓楼区人民法院|list|SX|"
	          "role|debtor|id_type|RIC|id_no|11010519491231002x|name|张三|status|active|"
	          "listed_on|2026-01-01|restrictions|AIR;RAIL");
	TU_CHECK(cur, "11010519491231002X air" D,
	         "DENY LISTED （2026）闽0102执9号|福州市鼓楼区人民法院|debtor|SX");
	TU_CHECK(cur, "11010519491231002X hotel 5" D, "ALLOW NOT_RESTRICTED");
	TU_CHECK(cur, "11010519491231002X air AT 2025-12-31", "ALLOW NOT_LISTED");
	/* a second case for a listed person comes after the export's */
	UPDATE_OK("LIST.ADD|case_no|（2026）闽05执7号|court|泉州市中级人民法院|list|XG|"
	          "role|debtor|id_type|RIC|id_no|350304197806263293|name|张|status|active|"
	          "listed_on|2026-01-01");
	TU_CHECK(cur, "350304197806263293 air" D,
	         "DENY LISTED （2023）闽05执1001号|泉州市中级人民法院|debtor|SX "
	         "（2024）闽05执1002号|泉州市中级人民法院|debtor|XG "
	         "（2026）闽05执7号|泉州市中级人民法院|debtor|XG");
}

Test(overlay, add_replaces_the_same_case_id_and_role)
{
	/* the export's record becomes AIR only */
	UPDATE_OK("LIST.ADD|case_no|（2023）闽0302执1008号|court|莆田市城厢区人民法院|list|SX|"
	          "role|legal_rep|id_type|RIC|id_no|110101199405036676|name|吴|status|active|"
	          "listed_on|2025-01-10|restrictions|AIR");
	TU_CHECK(cur, "110101199405036676 rail G1:second" D, "ALLOW NOT_RESTRICTED");
	TU_CHECK(cur, "110101199405036676 air" D,
	         "DENY LISTED （2023）闽0302执1008号|莆田市城厢区人民法院|legal_rep|SX");
	/* and again: still one record */
	UPDATE_OK("LIST.ADD|case_no|（2023）闽0302执1008号|court|莆田市城厢区人民法院|list|SX|"
	          "role|legal_rep|id_type|RIC|id_no|110101199405036676|name|吴|status|active|"
	          "listed_on|2025-01-10|restrictions|RAIL");
	TU_CHECK(cur, "110101199405036676 air" D, "ALLOW NOT_RESTRICTED");
	TU_CHECK(cur, "110101199405036676 rail G1:second" D,
	         "DENY LISTED （2023）闽0302执1008号|莆田市城厢区人民法院|legal_rep|SX");
}

Test(overlay, live_uscc_listing_matches_org_query)
{
	UPDATE_OK("LIST.ADD|case_no|（2026）闽0102执10号|court|福州市鼓楼区人民法院|list|SX|"
	          "role|debtor|id_type|USCC|id_no|91350100MA2XYH1234|name|某公司|"
	          "status|active|listed_on|2026-01-01");
	/* the org code is chars 9..17 of the USCC */
	TU_CHECK(cur, "MA2XYH123 air TYPE ORG" D,
	         "DENY LISTED （2026）闽0102执10号|福州市鼓楼区人民法院|debtor|SX");
}

Test(overlay, permits_added_and_removed_live_lift_only_their_case)
{
	TU_CHECK(cur, "350203197604181976 air" D, "ALLOW EXEMPT");
	UPDATE_OK("PERMIT.REMOVE|P-0");
	TU_CHECK(cur, "350203197604181976 air" D,
	         "DENY LISTED (2021)闽0102执1010号|福州市鼓楼区人民法院|debtor|SX");
	/* a permit for one of two cases: the other still denies */
	UPDATE_OK("PERMIT.ADD|RIC|350304197806263293|(2023)闽05执1001号|AIR;RAIL|"
	          "2026-01-01|2026-01-31|P-1");
	TU_CHECK(cur, "350304197806263293 air" D,
	         "DENY LISTED （2024）闽05执1002号|泉州市中级人民法院|debtor|XG");
	TU_CHECK(cur, "350304197806263293 rail G1:second" D, "ALLOW EXEMPT");
	TU_CHECK(cur, "350304197806263293 rail G1:second AT 2026-02-01",
	         "DENY LISTED （2023）闽05执1001号|泉州市中级人民法院|debtor|SX");
	/* a known permit_ref is replaced */
	UPDATE_OK("PERMIT.ADD|RIC|350304197806263293|(2023)闽05执1001号|HOTEL|"
	          "2026-01-01|2026-01-31|P-1");
	TU_CHECK(cur, "350304197806263293 rail G1:second" D,
	         "DENY LISTED （2023）闽05执1001号|泉州市中级人民法院|debtor|SX");
	char why[256];
	UPDATE_OK("PERMIT.REMOVE|P-1");
	cr_assert_eq(update("PERMIT.REMOVE|P-1", why, sizeof why), SX_ENOTFOUND);
}

Test(overlay, permit_for_a_live_listing)
{
	UPDATE_OK("LIST.ADD|case_no|（2026）闽0102执9号|court|福州市鼓楼区人民法院|list|SX|"
	          "role|debtor|id_type|RIC|id_no|11010519491231002X|name|张三|status|active|"
	          "listed_on|2026-01-01");
	UPDATE_OK("PERMIT.ADD|RIC|11010519491231002X|(2026)闽0102执9号|AIR|"
	          "2026-01-01|2026-01-31|P-2");
	TU_CHECK(cur, "11010519491231002X air" D, "ALLOW EXEMPT");
}

Test(overlay, bad_fields_get_the_loaders_words)
{
	char why[256];
	cr_assert_eq(update("LIST.ADD|case_no|（2026）闽0102执9号|court|X|list|SX|role|debtor|"
	                    "id_type|RIC|id_no|11010519491231002Y|name|张三|status|active|"
	                    "listed_on|2026-01-01", why, sizeof why), SX_EINVAL);
	cr_assert(strstr(why, "malformed id_no"), "%s", why);
	cr_assert_eq(update("LIST.ADD|case_no|A|court|X|list|SX|role|debtor|id_type|RIC|"
	                    "id_no|11010519491231002X|name|张三|status|closed|listed_on|2026-01-01",
	                    why, sizeof why), SX_EINVAL);
	cr_assert(strstr(why, "unknown status"), "%s", why);
	cr_assert_eq(update("LIST.ADD|case_no|A|colour|red", why, sizeof why), SX_EINVAL);
	cr_assert(strstr(why, "unknown field 'colour'"), "%s", why);
	cr_assert_eq(update("LIST.ADD|case_no|A|court", why, sizeof why), SX_EINVAL);
	cr_assert_eq(update("PERMIT.ADD|RIC|11010519491231002X|A|AIR|2026-02-01|"
	                    "2026-01-01|P", why, sizeof why), SX_EINVAL);
	cr_assert(strstr(why, "valid_to is before"), "%s", why);
	cr_assert_eq(cur, base);
}

Test(overlay, an_older_state_still_answers_as_it_did)
{
	UPDATE_OK("LIST.REMOVE|（2023）闽0302执1008号|RIC|110101199405036676");
	sx_overlay *ov;
	char why[256];
	sx_str a[] = { tu_s("LIST.RESUME"), tu_s("（2023）闽0302执1008号"),
	               tu_s("USCC"), tu_s("91350100658106848R") };
	cr_assert_eq(sx_overlay_apply(cur, sx_snap_overlay(cur), a, 4, &ov, why,
	                              sizeof why), 0, "%s", why);
	sx_snap *next;
	cr_assert_eq(sx_snap_derive(base, ov, &next), 0);
	/* cur (older) still says what it said: the new state is separate */
	TU_CHECK(cur, "110101199405036676 air" D, "ALLOW NOT_LISTED");
	TU_CHECK(next, "110101199405036676 air" D, "ALLOW NOT_LISTED");
	TU_CHECK(next, "91350100658106848R air TYPE USCC" D,
	         "DENY LISTED （2023）闽0302执1008号|莆田市城厢区人民法院|debtor|SX");
	sx_snap_close(next);
}

Test(overlay, listed_sees_updates)
{
	sx_query q;
	char err[128];
	cr_assert_eq(sx_query_common(&q, sx_snap_rules(cur), tu_s("air"), (sx_str){0}, (sx_str){0},
	                             tu_s("2026-01-10"), err, sizeof err), 0);
	cr_assert_eq(sx_query_id(&q, tu_s("110101199405036676"), err, sizeof err), 0);
	cr_assert_eq(sx_listed(cur, &q), 1);
	UPDATE_OK("LIST.SUSPEND|（2023）闽0302执1008号|RIC|110101199405036676");
	cr_assert_eq(sx_listed(cur, &q), 0);
	UPDATE_OK("LIST.RESUME|（2023）闽0302执1008号|RIC|110101199405036676");
	cr_assert_eq(sx_listed(cur, &q), 1);
}

/* What the feedback to the courts names for each outcome. */
static uint32_t concerned(const char *id, const char *chan, uint32_t *recs,
                          int *reason)
{
	sx_query q;
	sx_decision d;
	char err[128];
	uint32_t buf[64];
	cr_assert_eq(sx_query_common(&q, sx_snap_rules(cur), tu_s(chan), (sx_str){0}, (sx_str){0},
	                             tu_s("2026-01-10"), err, sizeof err), 0);
	cr_assert_eq(sx_query_id(&q, tu_s(id), err, sizeof err), 0);
	sx_decide(cur, &q, &d, buf);
	*reason = d.reason;
	return sx_decide_concerned(cur, &q, &d, recs);
}

Test(overlay, concerned_records_name_the_cases_for_feedback)
{
	uint32_t recs[64];
	char line[512];
	int reason;
	/* EXEMPT: the neutralised record */
	cr_assert_eq(concerned("350203197604181976", "air", recs, &reason), 1);
	cr_assert_eq(reason, SX_R_EXEMPT);
	sx_record_format(cur, recs[0], line, sizeof line);
	cr_assert(strstr(line, "执1010号"), "%s", line);
	/* SUSPENDED: the suspended record */
	UPDATE_OK("LIST.SUSPEND|（2023）闽0302执1008号|RIC|110101199405036676");
	cr_assert_eq(concerned("110101199405036676", "air", recs, &reason), 1);
	cr_assert_eq(reason, SX_R_SUSPENDED);
	sx_record_format(cur, recs[0], line, sizeof line);
	cr_assert(strstr(line, "执1008号|莆田市城厢区人民法院|legal_rep"), "%s", line);
	/* DENY: the denying records; NOT_LISTED: none */
	cr_assert_eq(concerned("350304197806263293", "air", recs, &reason), 2);
	cr_assert_eq(reason, SX_R_LISTED);
	cr_assert_eq(concerned("11010519491231002X", "air", recs, &reason), 0);
	cr_assert_eq(reason, SX_R_NOT_LISTED);
}

/* SPEC section 10: stream entries carry op and named arguments. */
Test(overlay, stream_fields_become_update_words)
{
	sx_str f[] = { tu_s("op"), tu_s("LIST.REMOVE"), tu_s("id_no"),
	               tu_s("350304197806263293"), tu_s("case_no"),
	               tu_s("（2023）闽05执1001号"), tu_s("id_type"), tu_s("RIC") };
	sx_str argv[40];
	char why[128];
	int n = sx_update_from_fields(f, 8, argv, NULL, why, sizeof why);
	cr_assert_eq(n, 4, "%s", why);
	cr_assert_eq(strncmp(argv[0].p, "LIST.REMOVE", argv[0].n), 0);
	cr_assert_eq(strncmp(argv[1].p, "（2023）闽05执1001号", argv[1].n), 0);
	cr_assert_eq(strncmp(argv[2].p, "RIC", argv[2].n), 0);
	/* and it applies */
	sx_overlay *ov;
	cr_assert_eq(sx_overlay_apply(cur, NULL, argv, (size_t)n, &ov, why,
	                              sizeof why), 0, "%s", why);
	sx_overlay_free(ov);

	sx_str bad[] = { tu_s("op"), tu_s("LIST.REMOVE"), tu_s("case_no"), tu_s("x") };
	cr_assert_eq(sx_update_from_fields(bad, 4, argv, NULL, why, sizeof why), -1);
	cr_assert(strstr(why, "missing field 'id_type'"), "%s", why);
	sx_str extra[] = { tu_s("op"), tu_s("PERMIT.REMOVE"), tu_s("permit_ref"),
	                   tu_s("P"), tu_s("colour"), tu_s("red") };
	cr_assert_eq(sx_update_from_fields(extra, 6, argv, NULL, why, sizeof why), -1);
	cr_assert(strstr(why, "unknown field 'colour'"), "%s", why);
	sx_str noop[] = { tu_s("id_no"), tu_s("1") };
	cr_assert_eq(sx_update_from_fields(noop, 2, argv, NULL, why, sizeof why), -1);
	cr_assert(strstr(why, "missing field 'op'"), "%s", why);
	sx_str add[] = { tu_s("op"), tu_s("list.add"), tu_s("case_no"), tu_s("A"),
	                 tu_s("court"), tu_s("B") };
	cr_assert_eq(sx_update_from_fields(add, 6, argv, NULL, why, sizeof why), 5);
	cr_assert_eq(strncmp(argv[0].p, "LIST.ADD", argv[0].n), 0);
}

/* `by` names the publisher (sxgate publish --by): no word of the command,
 * for any op, and absent is {NULL, 0}. */
Test(overlay, stream_field_by_is_the_publisher_not_a_word)
{
	sx_str argv[40], by;
	char why[128];
	sx_str rm[] = { tu_s("op"), tu_s("LIST.REMOVE"), tu_s("by"), tu_s("ops 7"),
	                tu_s("id_no"), tu_s("350304197806263293"), tu_s("case_no"),
	                tu_s("（2023）闽05执1001号"), tu_s("id_type"), tu_s("RIC") };
	cr_assert_eq(sx_update_from_fields(rm, 10, argv, &by, why, sizeof why), 4, "%s", why);
	cr_assert_eq(by.n, 5);
	cr_assert_eq(strncmp(by.p, "ops 7", 5), 0);
	sx_str add[] = { tu_s("op"), tu_s("LIST.ADD"), tu_s("case_no"), tu_s("A"),
	                 tu_s("BY"), tu_s("x"), tu_s("court"), tu_s("B") };
	cr_assert_eq(sx_update_from_fields(add, 8, argv, &by, why, sizeof why), 5,
	             "LIST.ADD takes by as no field of the record");
	for (int i = 1; i < 5; i += 2)
		cr_assert_neq(argv[i].n, 2, "by became a field");
	cr_assert_eq(by.n, 1);
	sx_str none[] = { tu_s("op"), tu_s("PERMIT.REMOVE"), tu_s("permit_ref"), tu_s("P") };
	cr_assert_eq(sx_update_from_fields(none, 4, argv, &by, why, sizeof why), 2);
	cr_assert_null(by.p);
	cr_assert_eq(by.n, 0);
}
