/*
 * test_client_live.c - the client library, the online `sxgate` subcommands
 * and sxgate-bench against the real bin/sxgated, over the wire as users
 * run them: the contract's sample answers through sx_client_check over
 * both protocols, MCHECK and LISTED with per-ID errors, the admin helpers,
 * AUTH, many pipelined requests matched in order, the CLI's exit codes,
 * and a benchmark run whose every reply checks out.
 *
 * Servers are started by helpers/srvtest.h (free loopback ports, killed at
 * teardown); each scenario runs on both I/O backends.
 */
#include "helpers/srvtest.h"

#include <crypt.h>

#include "casefold.h"   /* sx_case_fold */
#include "sxclient.h"

static sx_client *open_cli(const st_server *s, int proto)
{
	sx_client *cli;
	char err[256];
	int port = proto == SX_CLIENT_BINARY ? s->bin_port : s->resp_port;
	int rc = sx_client_connect("127.0.0.1", port, proto, 5000, &cli, err, sizeof err);
	cr_assert_eq(rc, 0, "connect: %s", err);
	return cli;
}

/* Case number of a record (before the first '|'), brackets folded. */
static void case_of(const char *s, size_t n, char *out, size_t cap)
{
	const char *bar = memchr(s, '|', n);
	size_t l = sx_case_fold(s, bar ? (size_t)(bar - s) : n, out, cap - 1);
	out[l < cap ? l : cap - 1] = 0;
}

/* Every line of the contract's sample file name (sample-queries.tsv,
 * sample-queries-joint.tsv), through sx_client_check; at least min. */
static void sample_answers(const st_server *s, int proto, const char *name, int min)
{
	char path[PATH_MAX];
	cr_assert_not_null(tu_data_path(name, path, sizeof path),
	                   "../shared/data/%s is missing", name);
	size_t len;
	char *text = tu_read(path, &len);
	sx_client *cli = open_cli(s, proto);
	int asked = 0;
	for (char *save = NULL, *ln = strtok_r(text, "\n", &save); ln;
	     ln = strtok_r(NULL, "\n", &save)) {
		if (*ln == '#' || !*ln)
			continue;
		char *f[64];
		int nf = 0;
		for (char *s2 = NULL, *t = strtok_r(ln, "\t", &s2); t && nf < 64;
		     t = strtok_r(NULL, "\t", &s2))
			f[nf++] = t;
		char q[512], *w[16];
		snprintf(q, sizeof q, "%s", f[0]);
		tu_check_args a;
		cr_assert_eq(tu_parse_check(w, tu_words(q, w, 16), &a), 0, "%s", f[0]);
		sx_client_result r;
		int rc = sx_client_check(cli, a.id, a.chan, a.cls, a.type, a.at, &r);
		if (!strcmp(f[1], "ERR")) {
			cr_assert_eq(rc, SX_CLIENT_ESERVER, "%s: rc %d", f[0], rc);
			char want[128];
			snprintf(want, sizeof want, "ERR %s", f[2]);
			cr_assert(!strncmp(sx_client_errmsg(cli), want, strlen(want)),
			          "%s: got '%s', want '%s...'", f[0], sx_client_errmsg(cli), want);
		} else {
			cr_assert_eq(rc, 0, "%s: %s", f[0], sx_client_errmsg(cli));
			cr_assert_str_eq(r.decision, f[1], "%s", f[0]);
			cr_assert_str_eq(r.reason, f[2], "%s", f[0]);
			cr_assert_eq(r.nrec, (size_t)(nf - 3), "%s: %zu records", f[0], r.nrec);
			for (size_t i = 0; i < r.nrec; i++) {
				char got[256], want[256];
				case_of(r.rec[i], strlen(r.rec[i]), got, sizeof got);
				case_of(f[3 + i], strlen(f[3 + i]), want, sizeof want);
				cr_assert_str_eq(got, want, "%s: record %zu", f[0], i);
			}
			sx_client_result_free(&r);
		}
		asked++;
	}
	cr_assert_geq(asked, min);
	sx_client_close(cli);
	free(text);
}

ST_TEST(client_live, sample_answers_over_binary)
{
	sample_answers(st_start(st_snap), SX_CLIENT_BINARY, "sample-queries.tsv", 90);
}

ST_TEST(client_live, sample_answers_over_resp)
{
	sample_answers(st_start(st_snap), SX_CLIENT_RESP, "sample-queries.tsv", 90);
}

ST_TEST(client_live, joint_sample_answers_over_binary)
{
	sample_answers(st_start(st_snap), SX_CLIENT_BINARY, "sample-queries-joint.tsv", 19);
}

ST_TEST(client_live, joint_sample_answers_over_resp)
{
	sample_answers(st_start(st_snap), SX_CLIENT_RESP, "sample-queries-joint.tsv", 19);
}

#define LISTED_ID "350304197806263293"   /* （2023）闽05执1001号, active */
#define CLEAN_ID  "11010519491231002X"   /* valid, on no row */

static void mcheck_listed(const st_server *s, int proto)
{
	sx_client *cli = open_cli(s, proto);
	const char *ids[] = { LISTED_ID, "11010519491231002Y", CLEAN_ID };
	sx_client_result r[3];
	int rc = sx_client_mcheck(cli, "air", NULL, NULL, "2026-01-10", ids, 3, r);
	cr_assert_eq(rc, 0, "%s", sx_client_errmsg(cli));
	cr_assert(r[0].ok);
	cr_assert_str_eq(r[0].decision, "DENY");
	cr_assert_eq(r[0].nrec, 1);
	cr_assert_not(r[1].ok);
	cr_assert(!strncmp(r[1].error, "ERR invalid id", 14), "%s", r[1].error);
	cr_assert(r[2].ok);
	cr_assert_str_eq(r[2].reason, "NOT_LISTED");
	for (int i = 0; i < 3; i++)
		sx_client_result_free(&r[i]);

	/* a bad channel refuses the whole command; the connection goes on */
	rc = sx_client_mcheck(cli, "bus", "-", NULL, NULL, ids, 3, r);
	cr_assert_eq(rc, SX_CLIENT_ESERVER);
	cr_assert(strstr(sx_client_errmsg(cli), "unknown channel"), "%s", sx_client_errmsg(cli));

	int listed = -1;
	cr_assert_eq(sx_client_listed(cli, LISTED_ID, NULL, "2026-01-10", &listed), 0);
	cr_assert_eq(listed, 1);
	cr_assert_eq(sx_client_listed(cli, CLEAN_ID, "RIC", NULL, &listed), 0);
	cr_assert_eq(listed, 0);
	cr_assert_eq(sx_client_listed(cli, "123", NULL, NULL, &listed), SX_CLIENT_ESERVER);
	cr_assert_eq(sx_client_ping(cli), 0);
	sx_client_close(cli);
}

ST_TEST(client_live, mcheck_and_listed_over_binary)
{
	mcheck_listed(st_start(st_snap), SX_CLIENT_BINARY);
}

ST_TEST(client_live, mcheck_and_listed_over_resp)
{
	mcheck_listed(st_start(st_snap), SX_CLIENT_RESP);
}

static void admin(const st_server *s, int proto)
{
	sx_client *cli = open_cli(s, proto);
	char *info;
	cr_assert_eq(sx_client_info(cli, NULL, &info), 0, "%s", sx_client_errmsg(cli));
	cr_assert(strstr(info, "# "), "%s", info);
	free(info);
	uint64_t g1, g2;
	cr_assert_eq(sx_client_reload(cli, NULL, 0, &g1), 0, "%s", sx_client_errmsg(cli));
	cr_assert_eq(sx_client_reload(cli, st_snap, 1, &g2), 0, "%s", sx_client_errmsg(cli));
	cr_assert_eq(g2, g1 + 1);
	cr_assert_eq(sx_client_reload(cli, "/nonexistent.snap", 0, &g2), SX_CLIENT_ESERVER);

	char buf[256];
	size_t n;
	const char *ping[] = { "PING" };
	cr_assert_eq(sx_client_exec(cli, 1, ping, NULL, buf, sizeof buf, &n), 0);
	cr_assert_eq(n, 7);
	cr_assert(!memcmp(buf, "+PONG\r\n", 7));
	const char *bad[] = { "NOSUCH", "x" };
	cr_assert_eq(sx_client_exec(cli, 2, bad, NULL, buf, sizeof buf, &n), 0);
	cr_assert_eq(buf[0], '-', "a RESP error is still a reply");
	cr_assert_eq(sx_client_exec(cli, 1, ping, NULL, buf, 3, &n), SX_EFULL);
	cr_assert_eq(n, 7);
	cr_assert_eq(sx_client_ping(cli), 0, "the connection survives a short buffer");
	sx_client_close(cli);
}

ST_TEST(client_live, admin_helpers_over_binary)
{
	admin(st_start(st_snap), SX_CLIENT_BINARY);
}

ST_TEST(client_live, admin_helpers_over_resp)
{
	admin(st_start(st_snap), SX_CLIENT_RESP);
}

ST_TEST(client_live, auth_when_the_server_has_tenants)
{
	char path[PATH_MAX + 64], line[512];
	char *hash = crypt("s3cret", crypt_gensalt("$y$", 0, NULL, 0));
	cr_assert(hash && hash[0] == '$', "crypt failed");
	snprintf(line, sizeof line, "hotel:%s:hotel:-\n", hash);
	tu_write_private(tu_path(path, sizeof path, tu_dir, "tenants"), line);
	st_server *s = st_start(st_snap, "--tenants", path);
	for (int proto = SX_CLIENT_BINARY; proto <= SX_CLIENT_RESP; proto++) {
		sx_client *cli = open_cli(s, proto);
		if (proto == SX_CLIENT_BINARY)
			cr_assert(sx_client_auth_required(cli));
		sx_client_result r;
		cr_assert_eq(sx_client_check(cli, LISTED_ID, "hotel", "3", NULL, NULL, &r),
		             SX_CLIENT_ESERVER);
		cr_assert(strstr(sx_client_errmsg(cli), "NOAUTH"), "%s", sx_client_errmsg(cli));
		cr_assert_eq(sx_client_auth(cli, "hotel", "wrong"), SX_CLIENT_ESERVER);
		cr_assert(strstr(sx_client_errmsg(cli), "WRONGPASS"), "%s", sx_client_errmsg(cli));
		cr_assert_eq(sx_client_auth(cli, "hotel", "s3cret"), 0, "%s", sx_client_errmsg(cli));
		cr_assert_eq(sx_client_check(cli, LISTED_ID, "hotel", "3", NULL, "2026-01-10", &r), 0);
		cr_assert_str_eq(r.decision, "DENY");
		sx_client_result_free(&r);
		cr_assert_eq(sx_client_check(cli, LISTED_ID, "air", NULL, NULL, NULL, &r),
		             SX_CLIENT_ESERVER, "a hotel tenant may not ask about flights");
		sx_client_close(cli);
	}
}

/* Hundreds of frames in flight, sent without waiting, answered in order. */
ST_TEST(client_live, pipelined_binary_requests_come_back_in_order)
{
	st_server *s = st_start(st_snap);
	sx_client *cli = open_cli(s, SX_CLIENT_BINARY);
	sx_client_set_blocking(cli, 0);
	const char *ids[64];
	for (int i = 0; i < 64; i++)
		ids[i] = i % 3 ? CLEAN_ID : LISTED_ID;
	sx_client_ctx ctx = { "rail", "G1:second", NULL, "2026-01-10" };
	enum { N = 500 };
	int sent = 0, got = 0, rc;
	while (got < N) {
		while (sent < N && sent - got < 128) {
			uint32_t req = 1000 + (uint32_t)sent * 7;
			size_t n = 1 + (size_t)sent % 64;
			rc = sent % 5 == 4
			   ? sx_client_send_listed_batch(cli, req, &ctx, ids, NULL, n)
			   : sx_client_send_check_batch(cli, req, &ctx, ids, NULL, n);
			cr_assert_eq(rc, 0, "%s", sx_client_errmsg(cli));
			sent++;
		}
		rc = sx_client_flush(cli);
		cr_assert(rc == 0 || rc == -EAGAIN, "flush: %s", sx_client_errmsg(cli));
		struct pollfd p = { .fd = sx_client_fd(cli),
		                    .events = POLLIN | (rc ? POLLOUT : 0) };
		cr_assert_gt(poll(&p, 1, 5000), 0, "no progress after %d replies", got);
		sx_client_reply rep;
		while ((rc = sx_client_recv_reply(cli, &rep)) == 0) {
			size_t n = 1 + (size_t)got % 64, pos = 0, items = 0;
			cr_assert_eq(rep.req_id, 1000 + (uint32_t)got * 7);
			cr_assert_eq(rep.count, n);
			if (got % 5 == 4) {
				cr_assert_eq(rep.op, SXB_OP_LISTED_REPLY);
				int v;
				const char *e;
				size_t el;
				while (sx_client_listed_next(&rep, &pos, &v, &e, &el)) {
					cr_assert_eq(v, items % 3 ? 0 : 1);
					items++;
				}
			} else {
				cr_assert_eq(rep.op, SXB_OP_CHECK_REPLY);
				sx_client_item it;
				while (sx_client_item_next(&rep, &pos, &it)) {
					cr_assert_eq(it.kind, SXB_KIND_DECISION);
					cr_assert_eq(it.decision, items % 3 ? SXB_ALLOW : SXB_DENY);
					items++;
				}
			}
			cr_assert_eq(items, n);
			got++;
		}
		cr_assert_eq(rc, -EAGAIN, "recv: %s", sx_client_errmsg(cli));
	}
	sx_client_close(cli);
}

ST_TEST(client_live, pipelined_resp_commands_come_back_in_order)
{
	st_server *s = st_start(st_snap);
	sx_client *cli = open_cli(s, SX_CLIENT_RESP);
	enum { N = 300 };
	for (int i = 0; i < N; i++) {
		const char *chk[] = { "CHECK", i % 2 ? CLEAN_ID : LISTED_ID, "air", "AT", "2026-01-10" };
		const char *lst[] = { "LISTED", i % 2 ? CLEAN_ID : LISTED_ID };
		int rc = i % 3 == 2 ? sx_client_send_resp(cli, 2, lst, NULL)
		                    : sx_client_send_resp(cli, 5, chk, NULL);
		cr_assert_eq(rc, 0);
	}
	cr_assert_eq(sx_client_flush(cli), 0);
	for (int i = 0; i < N; i++) {
		sx_client_resp v, e;
		cr_assert_eq(sx_client_recv_resp(cli, &v), 0, "%s", sx_client_errmsg(cli));
		if (i % 3 == 2) {
			cr_assert_eq(v.type, ':');
			cr_assert_eq(v.num, i % 2 ? 0 : 1);
		} else {
			size_t pos = 0;
			cr_assert_eq(v.type, '*');
			cr_assert(sx_client_resp_next(&v, &pos, &e));
			cr_assert(sx_client_resp_is(&e, i % 2 ? "ALLOW" : "DENY"), "reply %d", i);
		}
	}
	sx_client_close(cli);
}

ST_TEST(client_live, resp_commands_encoded_beforehand_are_sent_as_they_are)
{
	st_server *s = st_start(st_snap);
	sx_client *cli = open_cli(s, SX_CLIENT_RESP);
	char wire[512];
	/* two commands in one append, then one more: three replies in order */
	int n = snprintf(wire, sizeof wire,
	                 "*2\r\n$6\r\nLISTED\r\n$%zu\r\n%s\r\n*1\r\n$4\r\nPING\r\n",
	                 strlen(LISTED_ID), LISTED_ID);
	cr_assert_eq(sx_client_send_resp_raw(cli, wire, (size_t)n), 0, "%s", sx_client_errmsg(cli));
	n = snprintf(wire, sizeof wire, "*2\r\n$6\r\nLISTED\r\n$%zu\r\n%s\r\n",
	             strlen(CLEAN_ID), CLEAN_ID);
	cr_assert_eq(sx_client_send_resp_raw(cli, wire, (size_t)n), 0);
	cr_assert_eq(sx_client_send_resp_raw(cli, wire, 0), SX_EINVAL);
	cr_assert_eq(sx_client_flush(cli), 0);
	sx_client_resp v;
	cr_assert_eq(sx_client_recv_resp(cli, &v), 0, "%s", sx_client_errmsg(cli));
	cr_assert(v.type == ':' && v.num == 1);
	cr_assert_eq(sx_client_recv_resp(cli, &v), 0);
	cr_assert(sx_client_resp_is(&v, "PONG"));
	cr_assert_eq(sx_client_recv_resp(cli, &v), 0);
	cr_assert(v.type == ':' && v.num == 0);
	sx_client_close(cli);
	/* a binary connection refuses RESP bytes */
	cli = open_cli(s, SX_CLIENT_BINARY);
	cr_assert_eq(sx_client_send_resp_raw(cli, "*1\r\n$4\r\nPING\r\n", 14), SX_CLIENT_EMODE);
	cr_assert_eq(sx_client_unsent(cli), 0);
	sx_client_close(cli);
}

/* ---- the programs ------------------------------------------------------------ */

/* Run a shell command; its stdout (malloc'd) and exit status. */
static char *run(const char *cmd, int *status)
{
	return tu_run(status, "%s", cmd);
}

ST_TEST(client_live, cli_prints_replies_and_exits_as_the_contract_says)
{
	st_server *s = st_start(st_snap);
	char exe[PATH_MAX], cmd[PATH_MAX + 512];
	tu_bin("sxgate", exe, sizeof exe);
	int st;
	char *out;

	snprintf(cmd, sizeof cmd, "%s check " LISTED_ID " rail G1:second --at 2026-01-10 "
	         "--port %d", exe, s->bin_port);
	out = run(cmd, &st);
	cr_assert_eq(st, 0, "%s", cmd);
	cr_assert(!strncmp(out, "DENY\nLISTED\n", 12), "%s", out);
	cr_assert(strstr(out, "|debtor|SX\n"), "%s", out);
	free(out);

	snprintf(cmd, sizeof cmd, "%s check " LISTED_ID " rail G1:second --at 2026-01-10 "
	         "--resp --port %d", exe, s->resp_port);
	out = run(cmd, &st);
	cr_assert_eq(st, 0, "%s", cmd);
	cr_assert(!strncmp(out, "DENY\nLISTED\n", 12), "%s", out);
	free(out);

	/* REVIEW: decision, reason and the records, exit 0, both protocols */
	for (int resp = 0; resp < 2; resp++) {
		snprintf(cmd, sizeof cmd, "%s check " LISTED_ID " finance bank --at 2026-01-10 "
		         "%s--port %d", exe, resp ? "--resp " : "",
		         resp ? s->resp_port : s->bin_port);
		out = run(cmd, &st);
		cr_assert_eq(st, 0, "%s", cmd);
		cr_assert_str_eq(out, "REVIEW\nLISTED\n（2023）闽05执1001号|泉州市中级人民法院|"
		                 "debtor|SX\n", "%s", cmd);
		free(out);
	}
	snprintf(cmd, sizeof cmd, "%s mcheck credit -- " LISTED_ID " " CLEAN_ID
	         " --at 2026-01-10 --port %d", exe, s->bin_port);
	out = run(cmd, &st);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, LISTED_ID "\tREVIEW\tLISTED\t"), "%s", out);
	cr_assert(strstr(out, CLEAN_ID "\tALLOW\tNOT_LISTED\n"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s check " LISTED_ID " finance --port %d 2>&1", exe,
	         s->bin_port);
	out = run(cmd, &st);
	cr_assert_eq(st, 2, "missing finance class: %s", out);
	cr_assert(!strncmp(out, "ERR bad class: finance needs a class", 36), "%s", out);
	free(out);

	snprintf(cmd, sizeof cmd, "%s check 11010519491231002Y air --port %d 2>&1",
	         exe, s->bin_port);
	out = run(cmd, &st);
	cr_assert_eq(st, 2, "%s", cmd);
	cr_assert(!strncmp(out, "ERR invalid id", 14), "%s", out);
	free(out);

	snprintf(cmd, sizeof cmd, "%s check " LISTED_ID " rail --port %d 2>&1", exe, s->bin_port);
	out = run(cmd, &st);
	cr_assert_eq(st, 2, "missing rail class: %s", out);
	free(out);

	snprintf(cmd, sizeof cmd, "%s mcheck air -- " LISTED_ID " " CLEAN_ID
	         " --at 2026-01-10 --port %d", exe, s->bin_port);
	out = run(cmd, &st);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, LISTED_ID "\tDENY\tLISTED\t"), "%s", out);
	cr_assert(strstr(out, CLEAN_ID "\tALLOW\tNOT_LISTED\n"), "%s", out);
	free(out);

	snprintf(cmd, sizeof cmd, "%s ping --port %d", exe, s->bin_port);
	out = run(cmd, &st);
	cr_assert_eq(st, 0);
	cr_assert_str_eq(out, "PONG\n");
	free(out);

	snprintf(cmd, sizeof cmd, "%s reload --resp --port %d", exe, s->resp_port);
	out = run(cmd, &st);
	cr_assert_eq(st, 0);
	cr_assert_str_eq(out, "OK 2\n");
	free(out);

	snprintf(cmd, sizeof cmd, "%s ping --port %d 2>/dev/null", exe, st_free_port());
	free(run(cmd, &st));
	cr_assert_eq(st, 3, "nothing listens there");

	snprintf(cmd, sizeof cmd, "%s check " LISTED_ID " 2>/dev/null", exe);
	free(run(cmd, &st));
	cr_assert_eq(st, 1, "usage error");
}

/* The sample queries of file name that have answers, as bench lines. */
static int bench_lines(FILE *f, const char *name)
{
	char src[PATH_MAX];
	cr_assert_not_null(tu_data_path(name, src, sizeof src));
	size_t len;
	char *text = tu_read(src, &len);
	int n = 0;
	for (char *save = NULL, *ln = strtok_r(text, "\n", &save); ln;
	     ln = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(ln, '\t');
		if (*ln == '#' || !tab || !strncmp(tab, "\tERR", 4))
			continue;
		*tab = 0;
		char *w[16];
		tu_check_args a;
		if (tu_parse_check(w, tu_words(ln, w, 16), &a))
			continue;
		fprintf(f, "%s\t%s\t%s\t%s\t%s\n", a.id, a.type ? a.type : "-", a.chan,
		        a.cls ? a.cls : "-", a.at ? a.at : "-");
		n++;
	}
	free(text);
	return n;
}

/* A query file for the bench from both sample files: DENY, REVIEW and
 * ALLOW come back. */
static void bench_queries(char *path, size_t cap)
{
	tu_path(path, cap, tu_dir, "bench.tsv");
	FILE *f = fopen(path, "w");
	int n = bench_lines(f, "sample-queries.tsv");
	n += bench_lines(f, "sample-queries-joint.tsv");
	fclose(f);
	cr_assert_gt(n, 50);
}

static long long json_num(const char *json, const char *key)
{
	char k[64];
	snprintf(k, sizeof k, "\"%s\":", key);
	const char *p = strstr(json, k);
	cr_assert_not_null(p, "no %s in %s", key, json);
	return strtoll(p + strlen(k), NULL, 10);
}

ST_TEST(client_live, bench_checks_every_reply_and_reports_json)
{
	st_server *s = st_start(st_snap);
	char exe[PATH_MAX], q[PATH_MAX + 64], cmd[3 * PATH_MAX + 256];
	tu_bin("sxgate-bench", exe, sizeof exe);
	bench_queries(q, sizeof q);
	static const char *modes[] = {
		"--protocol binary --batch 1 --depth 4",
		"--protocol binary --batch 16 --depth 4 --threads 2",
		"--protocol binary --batch 8 --command listed",
		"--protocol resp --depth 8",
		"--protocol resp --batch 8 --depth 2 --threads 2",
		"--protocol resp --command listed",
		"--protocol binary --batch 4 --rate 2000",
		"--protocol resp --depth 4 --rate 2000",
	};
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		int port = strstr(modes[i], "resp") ? s->resp_port : s->bin_port;
		snprintf(cmd, sizeof cmd, "%s --queries %s --port %d --connections 2 "
		         "--duration 0.4 --json %s 2>/dev/null", exe, q, port, modes[i]);
		int st;
		char *out = run(cmd, &st);
		cr_assert_eq(st, 0, "%s: exit %d\n%s", cmd, st, out);
		cr_assert_eq(json_num(out, "errors"), 0, "%s\n%s", cmd, out);
		cr_assert_gt(json_num(out, "lookups"), 0, "%s\n%s", cmd, out);
		cr_assert_geq(json_num(out, "lookups"), json_num(out, "requests"));
		cr_assert_geq(json_num(out, "p999_us"), json_num(out, "p50_us"));
		cr_assert(strchr(out, '{') && out[strlen(out) - 1] == '\n');
		/* batch 1 asks every query as it is: all three decisions */
		if (strstr(modes[i], "--batch 1 ") || (!strstr(modes[i], "--batch") &&
		                                       !strstr(modes[i], "listed"))) {
			cr_assert_gt(json_num(out, "deny"), 0, "%s\n%s", cmd, out);
			cr_assert_gt(json_num(out, "review"), 0, "%s\n%s", cmd, out);
			cr_assert_gt(json_num(out, "allow"), 0, "%s\n%s", cmd, out);
		}
		free(out);
	}

	/* an invalid ID in the file is an error the bench reports */
	char bad[PATH_MAX + 64];
	tu_write_str(tu_path(bad, sizeof bad, tu_dir, "bad.tsv"),
	             "11010519491231002Y\tRIC\tair\t-\t-\n");
	snprintf(cmd, sizeof cmd, "%s --queries %s --port %d --duration 0.2 --json 2>/dev/null",
	         exe, bad, s->bin_port);
	int st;
	char *out = run(cmd, &st);
	cr_assert_eq(st, 2, "%s", out);
	cr_assert_gt(json_num(out, "errors"), 0);
	free(out);
}
