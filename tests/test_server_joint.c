/*
 * test_server_joint.c - the joint-punishment measures through the running
 * server, as a procurement platform, a bidding platform, an HR office and
 * a bank would meet them: REVIEW over RESP (CHECK, MCHECK, inline), the
 * binary protocol (version 2 carries REVIEW; a version 1 client gets an
 * error item in its place, never a decision byte it cannot read), INFO and
 * /metrics counting REVIEW as an outcome of its own, a tenant whose
 * channels are `procurement,bidding`, and live LIST.ADD / PERMIT.ADD with
 * joint codes (the reject rule and the related-persons rule apply to live
 * rows as to the export).
 */
#include "helpers/httptest.h"

#define X_ID   ST_DENY_ID                  /* sample: SX debtor, all codes */
#define X_REC  ST_DENY_REC
#define XG_ID  "310104199609222493"        /* sample: XG, AIR;RAIL;HOTEL */
#define REP_ID "110101199405036676"        /* sample: legal_rep of a unit */
#define REP_REC "（2023）闽0302执1008号|莆田市城厢区人民法院|legal_rep|SX"
#define UNIT_REC "（2023）闽0302执1008号|莆田市城厢区人民法院|debtor|SX"
#define NEW_ID "110101198001011005"        /* on no row of the sample */

ST_TEST(joint, review_over_resp_check_mcheck_and_info)
{
	st_server *s = st_start(st_snap);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "CHECK " X_ID " credit " ST_AT), "[REVIEW, LISTED, " X_REC "]");
	cr_assert_str_eq(st_ask(c, "check " X_ID " Finance Bank " ST_AT),
	                 "[REVIEW, LISTED, " X_REC "]");
	cr_assert_str_eq(st_ask(c, "CHECK " X_ID " finance insurer " ST_AT),
	                 "[DENY, LISTED, " X_REC "]");
	cr_assert_str_eq(st_ask_inline(c, "CHECK " X_ID " appointment party " ST_AT),
	                 "[REVIEW, LISTED, " X_REC "]");
	cr_assert(!strncmp(st_ask(c, "CHECK " X_ID " finance " ST_AT),
	                   "-ERR bad class: finance needs a class (want bank, ", 49),
	          "%s", st_ask(c, "CHECK " X_ID " finance " ST_AT));
	cr_assert_str_eq(st_ask(c, "CHECK " X_ID " license opium " ST_AT),
	                 "-ERR bad class 'opium' for license: want drug, food, tobacco, "
	                 "fire, hazchem, fireworks or mining");
	/* TYPE and AT are keywords, never a class */
	cr_assert_str_eq(st_ask(c, "CHECK 658106848 credit TYPE ORG " ST_AT),
	                 "[REVIEW, LISTED, " UNIT_REC "]");
	cr_assert(!strncmp(st_ask(c, "CHECK " X_ID " bond TYPE RIC " ST_AT), "-ERR bad class", 14));

	/* MCHECK: one class for all IDs, each its own answer */
	static const char mwant[] = "[[REVIEW, LISTED, " X_REC "], [ALLOW, NOT_RESTRICTED], "
	                            "[ALLOW, NOT_RESTRICTED], [ALLOW, SUSPENDED], "
	                            "-ERR invalid id: ";
	const char *m = st_ask(c, "MCHECK finance bank " ST_AT " " X_ID " " XG_ID " "
	                       REP_ID " 350602196503281979 11010519491231002Y");
	cr_assert(!strncmp(m, mwant, sizeof mwant - 1), "%s", m);
	cr_assert_str_eq(st_ask(c, "MCHECK asset - " ST_AT " " X_ID " " REP_ID),
	                 "[[DENY, LISTED, " X_REC "], [DENY, LISTED, " REP_REC "]]");
	cr_assert(!strncmp(st_ask(c, "MCHECK bond - " ST_AT " " X_ID), "-ERR bad class", 14));

	/* INFO: REVIEW is an outcome of its own, and the channels are counted */
	const char *info = st_ask(c, "INFO stats");
	char v[64];
	cr_assert_str_eq(st_info_get(info, "decisions_review", v, sizeof v), "5", "%s", info);
	cr_assert_str_eq(st_info_get(info, "decisions_listed", v, sizeof v), "3", "%s", info);
	cr_assert_str_eq(st_info_get(info, "decisions_channel_finance", v, sizeof v), "6");
	cr_assert_str_eq(st_info_get(info, "decisions_channel_credit", v, sizeof v), "2");
	cr_assert_str_eq(st_info_get(info, "decisions_channel_asset", v, sizeof v), "2");
	st_close(c);
}

ST_TEST(joint, metrics_count_review_by_decision_and_reason)
{
	int mport;
	st_server *s = ht_start(&mport);
	st_conn *c = st_connect(s->resp_port);
	for (int i = 0; i < 3; i++)
		cr_assert(!strncmp(st_ask(c, "CHECK " X_ID " credit " ST_AT), "[REVIEW", 7));
	cr_assert(!strncmp(st_ask(c, "CHECK " X_ID " bidding " ST_AT), "[DENY", 5));
	st_close(c);
	ht_resp r = ht_get(mport, "/metrics");
	cr_assert_eq(r.status, 200);
	cr_assert_eq(ht_series(r.body, "sxgate_decisions_total{decision=\"REVIEW\",reason=\"LISTED\"}"),
	             3, "%s", r.body);
	cr_assert_eq(ht_series(r.body, "sxgate_decisions_total{decision=\"DENY\",reason=\"LISTED\"}"),
	             1, "%s", r.body);
	cr_assert_eq(ht_series(r.body, "sxgate_channel_decisions_total{channel=\"credit\"}"), 3);
	cr_assert_eq(ht_series(r.body, "sxgate_channel_decisions_total{channel=\"bidding\"}"), 1);
	ht_free(&r);
}

/* One binary CHECK of ids on chan/cls; the reply frame's items as text. */
static char *bin_ask(st_conn *c, uint32_t req, const char *chan, const char *cls,
                     const char *const *ids, unsigned n)
{
	static st_out o;
	o.n = 0;
	st_bin_query(&o, SXB_OP_CHECK, req, chan, cls, "", "2026-01-10", ids, n);
	st_send(c, o.b, o.n);
	st_frame f;
	cr_assert_eq(st_frame_read(c, &f), 0, "no CHECK reply");
	cr_assert_eq(f.op, SXB_OP_CHECK_REPLY, "op 0x%02x", f.op);
	cr_assert_eq(f.req, req);
	return st_bin_check_text(&f);
}

ST_TEST(joint, binary_version_2_carries_review_and_version_1_gets_an_error_item)
{
	st_server *s = st_start(st_snap);
	st_conn *v2 = st_connect(s->bin_port), *v1 = st_connect(s->bin_port);
	st_bin_hello_v(v2, 0, 1, 2);
	st_bin_hello_v(v1, 0, 1, 1);
	const char *ids[] = { X_ID, XG_ID, "11010519491231002Y" };

	static const char w2[] = "[REVIEW, LISTED, " X_REC "] ; [ALLOW, NOT_RESTRICTED] ; "
	                         "-ERR invalid id: ";
	static const char w1[] = "-ERR REVIEW decision: binary protocol version 1 cannot "
	                         "carry it; speak version 2 (docs/protocol.md) ; "
	                         "[ALLOW, NOT_RESTRICTED] ; -ERR invalid id: ";
	char *t = bin_ask(v2, 1, "credit", "", ids, 3);
	cr_assert(!strncmp(t, w2, sizeof w2 - 1), "%s", t);
	free(t);
	t = bin_ask(v1, 1, "credit", "", ids, 3);
	cr_assert(!strncmp(t, w1, sizeof w1 - 1), "%s", t);
	free(t);
	/* everything else is the same bytes on both versions */
	for (int v = 0; v < 2; v++) {
		t = bin_ask(v ? v1 : v2, 2, "bidding", "", ids, 2);
		cr_assert_str_eq(t, "[DENY, LISTED, " X_REC "] ; [ALLOW, NOT_RESTRICTED]");
		free(t);
		t = bin_ask(v ? v1 : v2, 3, "appointment", "Civil_Servant", ids, 1);
		cr_assert_str_eq(t, "[DENY, LISTED, " X_REC "]");
		free(t);
	}
	/* a bad class is one ERROR frame for the request, as before */
	static st_out o;
	o.n = 0;
	st_bin_query(&o, SXB_OP_CHECK, 4, "finance", "", "", "2026-01-10", ids, 1);
	st_send(v2, o.b, o.n);
	st_frame f;
	cr_assert_eq(st_frame_read(v2, &f), 0);
	cr_assert(!strncmp(st_bin_error_text(&f), "ERR bad class: finance needs a class", 36));
	/* and versions the server does not speak are refused */
	st_conn *v3 = st_connect(s->bin_port);
	o.n = 0;
	size_t at = st_frame_begin(&o, SXB_OP_HELLO, 0, 1);
	memcpy(o.b + o.n, "SXGB", 4);
	o.n += 4;
	st_put16(&o, 3);
	st_put16(&o, 9);
	st_frame_end(&o, at);
	st_send(v3, o.b, o.n);
	cr_assert_eq(st_frame_read(v3, &f), 0);
	cr_assert_str_eq(st_bin_error_text(&f), "ERR no common protocol version: client "
	                 "speaks 3..9, server speaks 1..2");
	st_close(v1);
	st_close(v2);
	st_close(v3);
}

/* A procurement platform's tenant: `procurement,bidding` and nothing else. */
ST_TEST(joint, a_procurement_platform_tenant_asks_procurement_and_bidding_only)
{
	char h[256], text[1024], path[PATH_MAX + 64];
	st_hash("ggzy-secret", h, sizeof h);
	snprintf(text, sizeof text, "ggzy:%s:procurement,bidding:-\n"
	         "bank01:%s:credit,finance,bond:-\n", h, h);
	snprintf(path, sizeof path, "%s/tenants.txt", tu_dir);
	tu_write_private(path, text);
	st_server *s = st_start(st_snap, "--tenants", path);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "AUTH ggzy ggzy-secret"), "+OK");
	cr_assert_str_eq(st_ask(c, "CHECK " X_ID " procurement " ST_AT), "[DENY, LISTED, " X_REC "]");
	cr_assert_str_eq(st_ask(c, "CHECK " X_ID " bidding " ST_AT), "[DENY, LISTED, " X_REC "]");
	cr_assert_str_eq(st_ask(c, "CHECK " X_ID " credit " ST_AT),
	                 "-NOPERM tenant 'ggzy' may not ask about channel 'credit'");
	cr_assert_str_eq(st_ask(c, "CHECK " X_ID " air " ST_AT),
	                 "-NOPERM tenant 'ggzy' may not ask about channel 'air'");
	cr_assert_str_eq(st_ask(c, "MCHECK qualification - " X_ID),
	                 "-NOPERM tenant 'ggzy' may not ask about channel 'qualification'");
	cr_assert_str_eq(st_ask(c, "AUTH bank01 ggzy-secret"), "+OK");
	cr_assert_str_eq(st_ask(c, "CHECK " X_ID " finance bank " ST_AT),
	                 "[REVIEW, LISTED, " X_REC "]");
	cr_assert_str_eq(st_ask(c, "CHECK " X_ID " bidding " ST_AT),
	                 "-NOPERM tenant 'bank01' may not ask about channel 'bidding'");
	st_close(c);
	/* the same over the binary protocol */
	st_conn *b = st_connect(s->bin_port);
	st_bin_hello(b, 1);
	static st_out o;
	o.n = 0;
	size_t at = st_frame_begin(&o, SXB_OP_AUTH, 0, 2);
	st_putstr8(&o, "ggzy");
	st_putstr8(&o, "ggzy-secret");
	st_frame_end(&o, at);
	st_send(b, o.b, o.n);
	st_frame f;
	cr_assert_eq(st_frame_read(b, &f), 0);
	cr_assert_eq(f.op, SXB_OP_AUTH_REPLY, "%s", st_bin_error_text(&f));
	const char *ids[] = { X_ID };
	char *t = bin_ask(b, 3, "bidding", "", ids, 1);
	cr_assert_str_eq(t, "[DENY, LISTED, " X_REC "]");
	free(t);
	o.n = 0;
	st_bin_query(&o, SXB_OP_CHECK, 4, "subsidy", "", "", "2026-01-10", ids, 1);
	st_send(b, o.b, o.n);
	cr_assert_eq(st_frame_read(b, &f), 0);
	cr_assert_str_eq(st_bin_error_text(&f),
	                 "NOPERM tenant 'ggzy' may not ask about channel 'subsidy'");
	st_close(b);
}

ST_TEST(joint, live_updates_carry_joint_codes_under_the_row_rules)
{
	char jrn[PATH_MAX + 64];
	snprintf(jrn, sizeof jrn, "%s/journal", tu_dir);
	st_server *s = st_start(st_snap, "--journal", jrn);
	st_conn *c = st_connect(s->resp_port);
	const char *rec = "（2026）闽0102执9号|福州市鼓楼区人民法院|debtor|SX";
	cr_assert(!strncmp(st_ask(c, "LIST.ADD case_no （2026）闽0102执9号 court "
	                          "福州市鼓楼区人民法院 list SX role debtor id_type RIC id_no "
	                          NEW_ID " name 甲 status active listed_on 2026-01-01 "
	                          "restrictions bidding;CREDIT"), "+OK ", 4));
	char want[512];
	snprintf(want, sizeof want, "[DENY, LISTED, %s]", rec);
	cr_assert_str_eq(st_ask(c, "CHECK " NEW_ID " bidding " ST_AT), want);
	snprintf(want, sizeof want, "[REVIEW, LISTED, %s]", rec);
	cr_assert_str_eq(st_ask(c, "CHECK " NEW_ID " credit " ST_AT), want);
	cr_assert_str_eq(st_ask(c, "CHECK " NEW_ID " procurement " ST_AT), "[ALLOW, NOT_RESTRICTED]");
	cr_assert_str_eq(st_ask(c, "CHECK " NEW_ID " air " ST_AT), "[ALLOW, NOT_RESTRICTED]");

	/* an XG row naming a joint code is refused, with the loader's words */
	cr_assert_str_eq(st_ask(c, "LIST.ADD case_no （2026）闽0102执10号 court "
	                        "福州市鼓楼区人民法院 list XG role debtor id_type RIC id_no "
	                        "110101197512121017 name 乙 status active listed_on 2026-01-01 "
	                        "restrictions AIR;BIDDING"),
	                 "-ERR XG row names joint-punishment code 'BIDDING' in restrictions "
	                 "(a consumption-restriction order restricts consumption only)");
	/* an SX row with empty restrictions: every measure */
	cr_assert(!strncmp(st_ask(c, "LIST.ADD case_no （2026）闽0102执11号 court "
	                          "福州市鼓楼区人民法院 list SX role debtor id_type RIC id_no "
	                          "110101199005151026 name 丙 status active listed_on 2026-01-01"),
	                   "+OK ", 4));
	cr_assert(!strncmp(st_ask(c, "CHECK 110101199005151026 resource " ST_AT), "[DENY", 5));
	cr_assert(!strncmp(st_ask(c, "CHECK 110101199005151026 stock " ST_AT), "[REVIEW", 7));
	/* a legal representative named for procurement: loaded, restricts
	 * only what the opinions extend to such persons */
	cr_assert(!strncmp(st_ask(c, "LIST.ADD case_no （2026）闽0102执11号 court "
	                          "福州市鼓楼区人民法院 list SX role legal_rep id_type RIC id_no "
	                          "110101196603031039 name 丁 status active listed_on 2026-01-01 "
	                          "restrictions PROCUREMENT;ASSET"), "+OK ", 4));
	cr_assert_str_eq(st_ask(c, "CHECK 110101196603031039 procurement " ST_AT),
	                 "[ALLOW, NOT_RESTRICTED]");
	cr_assert(!strncmp(st_ask(c, "CHECK 110101196603031039 asset " ST_AT), "[DENY", 5));
	/* nothing dropped silently: the log says what the row named in vain */
	cr_assert(st_log_wait(s, "a legal_rep restricts only the consumption "
	                      "codes and STRAIT,APPOINT,ASSET; PROCUREMENT named", 2000));
	/* a live permit on a joint code lifts its case for that code */
	cr_assert(!strncmp(st_ask(c, "PERMIT.ADD RIC " NEW_ID " （2026）闽0102执9号 credit "
	                          "2026-01-01 2026-01-31 准许-7"), "+OK ", 4));
	cr_assert_str_eq(st_ask(c, "CHECK " NEW_ID " credit " ST_AT), "[ALLOW, EXEMPT]");
	snprintf(want, sizeof want, "[DENY, LISTED, %s]", rec);
	cr_assert_str_eq(st_ask(c, "CHECK " NEW_ID " bidding " ST_AT), want);
	st_close(c);

	/* the journal replays them the same way */
	cr_assert_eq(st_stop(s, SIGTERM), 0);
	s = st_start(st_snap, "--journal", jrn);
	c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "CHECK " NEW_ID " credit " ST_AT), "[ALLOW, EXEMPT]");
	cr_assert_str_eq(st_ask(c, "CHECK " NEW_ID " bidding " ST_AT), want);
	cr_assert_str_eq(st_ask(c, "CHECK 110101196603031039 procurement " ST_AT),
	                 "[ALLOW, NOT_RESTRICTED]");
	st_close(c);
}
