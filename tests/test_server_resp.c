/*
 * test_server_resp.c - every RESP command over the wire, as multibulk and
 * inline, against the real sxgated serving the sample list; long
 * pipelines answered in order; MCHECK agreeing with CHECK; the sample
 * queries file answered as the contract says; redis-cli.
 */
#include "helpers/srvtest.h"

ST_TEST(resp, ping_quit_and_case)
{
	st_server *s = st_start(st_snap);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "PING"), "+PONG");
	cr_assert_str_eq(st_ask(c, "ping hello"), "hello");
	cr_assert_str_eq(st_ask(c, "PING a b"), "-ERR wrong number of arguments for 'ping' command");
	cr_assert_str_eq(st_ask_inline(c, "PING"), "+PONG");
	cr_assert_str_eq(st_ask_inline(c, "  pInG   \"two words\"  "), "two words");
	cr_assert_str_eq(st_ask(c, "QUIT"), "+OK");
	cr_assert(st_closed_by_server(c, 3000), "QUIT did not close the connection");
	st_close(c);

	/* QUIT stops the pipeline: nothing after it is answered. */
	c = st_connect(s->resp_port);
	st_send_str(c, "PING\r\nQUIT\r\nPING\r\n");
	char *r1 = st_reply(c), *r2 = st_reply(c);
	cr_assert_str_eq(r1, "+PONG");
	cr_assert_str_eq(r2, "+OK");
	cr_assert_null(st_reply(c), "a command after QUIT was answered");
	free(r1);
	free(r2);
	st_close(c);
}

ST_TEST(resp, check_answers_and_errors)
{
	st_server *s = st_start(st_snap);
	st_conn *c = st_connect(s->resp_port);
	const char *deny = "[DENY, LISTED, " ST_DENY_REC "]";

	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " air " ST_AT), deny);
	cr_assert_str_eq(st_ask_inline(c, "CHECK " ST_DENY_ID " air " ST_AT), deny);
	cr_assert_str_eq(st_ask(c, "check " ST_DENY_ID " AIR at 2026-01-10"), deny);
	cr_assert_str_eq(st_ask(c, "CHECK " ST_FREE_ID " air " ST_AT), "[ALLOW, NOT_LISTED]");
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " rail G1:second " ST_AT), deny);
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " rail D1:second " ST_AT),
	                 "[ALLOW, NOT_RESTRICTED]");
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " hotel 0 " ST_AT), "[ALLOW, NOT_RESTRICTED]");
	/* TYPE and AT in either order, after the class or without one. */
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " rail G1:second TYPE RIC " ST_AT), deny);
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " rail G1:second " ST_AT " type ric"), deny);
	cr_assert_str_eq(st_ask(c, "CHECK 91350100658106848R air TYPE USCC " ST_AT),
	                 "[DENY, LISTED, （2023）闽0302执1008号|莆田市城厢区人民法院|debtor|SX]");
	cr_assert_str_eq(st_ask(c, "CHECK 350602196503281979 air " ST_AT), "[ALLOW, SUSPENDED]");
	cr_assert_str_eq(st_ask(c, "CHECK 350203197604181976 air " ST_AT), "[ALLOW, EXEMPT]");

	/* Syntax: each keyword once, with a value, nothing else. */
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " air " ST_AT " " ST_AT), "-ERR syntax error");
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " air TYPE"), "-ERR syntax error");
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " rail G1:second extra"), "-ERR syntax error");
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " air TYPE RIC TYPE RIC"), "-ERR syntax error");
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID), "-ERR wrong number of arguments for 'check' command");
	cr_assert_str_eq(st_ask(c, "CHECK"), "-ERR wrong number of arguments for 'check' command");

	/* The engine's errors, prefixed with ERR. */
	cr_assert(!strncmp(st_ask(c, "CHECK 11010519491231002Y air " ST_AT), "-ERR invalid id", 15));
	cr_assert(!strncmp(st_ask(c, "CHECK " ST_DENY_ID " rail K1 " ST_AT), "-ERR bad class", 14));
	cr_assert(!strncmp(st_ask(c, "CHECK " ST_DENY_ID " rail " ST_AT), "-ERR bad class", 14));
	cr_assert(!strncmp(st_ask(c, "CHECK " ST_DENY_ID " bus"), "-ERR unknown channel", 20));
	cr_assert(!strncmp(st_ask(c, "CHECK " ST_DENY_ID " air TYPE XX"), "-ERR unknown type", 17));
	cr_assert(!strncmp(st_ask(c, "CHECK " ST_DENY_ID " air AT 2026-02-30"), "-ERR bad date", 13));

	/* Redis 7's words for unknown commands (HELLO, CONFIG probes). */
	cr_assert_str_eq(st_ask(c, "FOO"), "-ERR unknown command 'FOO', with args beginning with: ");
	cr_assert_str_eq(st_ask(c, "HELLO 3"), "-ERR unknown command 'HELLO', with args beginning with: '3' ");
	cr_assert_str_eq(st_ask(c, "CONFIG GET save"),
	                 "-ERR unknown command 'CONFIG', with args beginning with: 'GET' 'save' ");
	/* The connection survived every error. */
	cr_assert_str_eq(st_ask(c, "PING"), "+PONG");
	st_close(c);
}

ST_TEST(resp, mcheck_listed_info_and_stubs)
{
	st_server *s = st_start(st_snap);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "MCHECK air - " ST_AT " " ST_DENY_ID " 11010519491231002Y " ST_FREE_ID),
	                 "[[DENY, LISTED, " ST_DENY_REC "], -ERR invalid id: RIC check character "
	                 "must be a digit or X, [ALLOW, NOT_LISTED]]");
	cr_assert_str_eq(st_ask(c, "mcheck rail G1:second type ric at 2026-01-10 " ST_DENY_ID),
	                 "[[DENY, LISTED, " ST_DENY_REC "]]");
	cr_assert(!strncmp(st_ask(c, "MCHECK bus - " ST_DENY_ID), "-ERR unknown channel", 20));
	cr_assert(!strncmp(st_ask(c, "MCHECK rail - " ST_DENY_ID), "-ERR bad class", 14));
	cr_assert_str_eq(st_ask(c, "MCHECK air - AT"), "-ERR syntax error");
	cr_assert_str_eq(st_ask(c, "MCHECK air - AT 2026-01-10 AT 2026-01-10 " ST_DENY_ID),
	                 "-ERR syntax error");
	cr_assert_str_eq(st_ask(c, "MCHECK air - AT 2026-01-10"),
	                 "-ERR wrong number of arguments for 'mcheck' command");
	cr_assert_str_eq(st_ask(c, "MCHECK air -"), "-ERR wrong number of arguments for 'mcheck' command");

	cr_assert_str_eq(st_ask(c, "LISTED " ST_DENY_ID), ":1");
	cr_assert_str_eq(st_ask(c, "LISTED " ST_FREE_ID " " ST_AT), ":0");
	cr_assert_str_eq(st_ask(c, "LISTED 350602196503281979 " ST_AT), ":0");  /* suspended */
	cr_assert_str_eq(st_ask(c, "LISTED E65994900 TYPE PASSPORT " ST_AT), ":1");
	cr_assert_str_eq(st_ask_inline(c, "listed " ST_DENY_ID " at 2026-01-10"), ":1");
	cr_assert(!strncmp(st_ask(c, "LISTED 11010519491231002Y"), "-ERR invalid id", 15));
	cr_assert_str_eq(st_ask(c, "LISTED " ST_DENY_ID " air"), "-ERR syntax error");

	const char *info = st_ask(c, "INFO");
	char v[256];
	static const char *const sections[] = { "# Server", "# Clients", "# Snapshot",
	                                        "# Stats", "# Latency", "# Memory" };
	for (size_t i = 0; i < 6; i++)
		cr_assert_not_null(strstr(info, sections[i]), "INFO lacks %s", sections[i]);
	cr_assert_str_eq(st_info_get(info, "snapshot_generation", v, sizeof v), "1");
	cr_assert_str_eq(st_info_get(info, "snapshot_records", v, sizeof v), "25");
	cr_assert_str_eq(st_info_get(info, "live_updates", v, sizeof v), "off (no --journal)");
	cr_assert_str_eq(st_info_get(info, "io_backend", v, sizeof v),
	                 !strcmp(st_io, "uring") ? "io_uring" : "epoll");
	cr_assert_str_eq(st_info_get(info, "last_reload_error", v, sizeof v), "none");
	cr_assert_str_eq(st_info_get(info, "cmdstat_mcheck", v, sizeof v), "calls=8");
	cr_assert_str_eq(st_info_get(info, "cmdstat_listed", v, sizeof v), "calls=7");
	cr_assert_str_eq(st_info_get(info, "decisions_listed", v, sizeof v), "2");
	cr_assert_str_eq(st_info_get(info, "decisions_channel_rail", v, sizeof v), "1");
	cr_assert_str_eq(st_info_get(info, "connected_clients", v, sizeof v), "1");
	cr_assert(atoll(st_info_get(info, "used_memory_rss", v, sizeof v)) > 0);
	cr_assert(atof(st_info_get(info, "latency_p99_us", v, sizeof v)) > 0);

	const char *snap_only = st_ask(c, "info SNAPSHOT");
	cr_assert_not_null(strstr(snap_only, "# Snapshot"));
	cr_assert_null(strstr(snap_only, "# Server"));
	cr_assert_str_eq(st_ask(c, "INFO nosuchsection"), "");

	/* Without --journal, live updates are refused: an update is
	 * acknowledged only once durable. */
	static const char *const stubs[] = {
		"LIST.ADD case_no x id_type RIC",
		"LIST.REMOVE c RIC " ST_DENY_ID, "LIST.SUSPEND c RIC " ST_DENY_ID,
		"LIST.RESUME c RIC " ST_DENY_ID, "PERMIT.ADD RIC 1 c AIR 2026-01-01 2026-01-02 p",
		"PERMIT.REMOVE p",
	};
	for (size_t i = 0; i < sizeof stubs / sizeof stubs[0]; i++)
		cr_assert_str_eq(st_ask(c, stubs[i]), "-ERR live updates need --journal FILE: an update is acknowledged only once it is durable",
		                 "%s", stubs[i]);
	cr_assert_str_eq(st_ask(c, "LIST.REMOVE x"),
	                 "-ERR wrong number of arguments for 'list.remove' command");
	st_close(c);
}

/* Thousands of commands in one write, of every kind, answered in order. */
ST_TEST(resp, pipeline_of_thousands_in_order)
{
	st_server *s = st_start(st_snap);
	st_conn *c = st_connect(s->resp_port);
	enum { N = 6000 };
	static const char *const cmds[] = {
		"CHECK " ST_DENY_ID " air " ST_AT,
		"CHECK " ST_FREE_ID " air " ST_AT,
		"PING",
		"CHECK 11010519491231002Y air",
		"LISTED " ST_DENY_ID,
		"NOSUCH",
		"MCHECK air - " ST_AT " " ST_FREE_ID " " ST_DENY_ID,
	};
	static const char *const want[] = {
		"[DENY, LISTED, " ST_DENY_REC "]",
		"[ALLOW, NOT_LISTED]",
		"+PONG",
		"-ERR invalid id: RIC check character must be a digit or X",
		":1",
		"-ERR unknown command 'NOSUCH', with args beginning with: ",
		"[[ALLOW, NOT_LISTED], [DENY, LISTED, " ST_DENY_REC "]]",
	};
	size_t k = sizeof cmds / sizeof cmds[0];
	char *buf = malloc((size_t)N * 256), *p = buf;
	for (int i = 0; i < N; i++) {
		const char *cmd = cmds[i % k];
		if (i % 3 == 0) {                       /* mix inline and multibulk */
			p += sprintf(p, "%s\r\n", cmd);
		} else {
			p += st_resp_encode(cmd, p, 1024);
		}
	}
	st_send(c, buf, (size_t)(p - buf));
	for (int i = 0; i < N; i++) {
		char *r = st_reply(c);
		cr_assert_not_null(r, "reply %d missing", i);
		cr_assert_str_eq(r, want[i % k], "reply %d to '%s'", i, cmds[i % k]);
		free(r);
	}
	cr_assert_str_eq(st_ask(c, "PING"), "+PONG");
	free(buf);
	st_close(c);
}

/* Every ID of the sample list on every channel: MCHECK's elements are the
 * CHECK replies. */
ST_TEST(resp, mcheck_agrees_with_check)
{
	st_server *s = st_start(st_snap);
	st_conn *c = st_connect(s->resp_port);
	char path[PATH_MAX];
	size_t n;
	char *csv = tu_read(tu_data_path("sample-list.csv", path, sizeof path), &n);
	cr_assert_not_null(csv);
	char ids[64][32];
	int nid = 0;
	char *save = NULL;
	for (char *line = strtok_r(csv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[12];
		int nf = 0;
		for (char *q = line; nf < 12; q = strchr(q, ',') + 1) {
			f[nf++] = q;
			if (!strchr(q, ','))
				break;
		}
		if (nf < 6 || !strncmp(f[0], "case_no", 7))
			continue;
		snprintf(ids[nid], sizeof ids[nid], "%.*s", (int)(strchr(f[5], ',') - f[5]), f[5]);
		nid++;
	}
	free(csv);
	cr_assert(nid >= 20);
	static const char *const chans[][2] = {
		{ "air", "-" }, { "rail", "G1:second" }, { "rail", "D1:second" }, { "hotel", "0" },
		{ "hotel", "3" }, { "ship", "first" }, { "property", "-" },
	};
	static const char *const days[] = { "2026-01-10", "2025-02-01", "2026-01-15" };
	for (size_t ch = 0; ch < sizeof chans / sizeof chans[0]; ch++) {
		for (size_t d = 0; d < 3; d++) {
			static const char *const typel[] = { "RIC", "USCC", "PASSPORT" };
			for (size_t t = 0; t < 3; t++) {
				/* Every ID under every type: mismatches are error elements. */
				const char *type = typel[t];
				char line[4096];
				int len = snprintf(line, sizeof line, "MCHECK %s %s TYPE %s AT %s", chans[ch][0],
				                   chans[ch][1], type, days[d]);
				for (int i = 0; i < nid; i++)
					len += snprintf(line + len, sizeof line - (size_t)len, " %s", ids[i]);
				char *m = strdup(st_ask(c, line));
				st_sb joined = { 0 };
				st_sb_put(&joined, "[", 1);
				for (int i = 0; i < nid; i++) {
					char q[256];
					snprintf(q, sizeof q, "CHECK %s %s%s%s TYPE %s AT %s", ids[i], chans[ch][0],
					         strcmp(chans[ch][1], "-") ? " " : "",
					         strcmp(chans[ch][1], "-") ? chans[ch][1] : "", type, days[d]);
					const char *one = st_ask(c, q);
					if (i)
						st_sb_put(&joined, ", ", 2);
					st_sb_put(&joined, one, strlen(one));
				}
				st_sb_put(&joined, "]", 1);
				cr_assert_str_eq(m, joined.p, "%s", line);
				free(m);
				free(joined.p);
			}
		}
	}
	st_close(c);
}

/* Fold full-width brackets to half-width: case numbers compare so. */
static void fold(char *s)
{
	char *w = s;
	for (char *r = s; *r;) {
		if (!strncmp(r, "（", 3)) {
			*w++ = '(';
			r += 3;
		} else if (!strncmp(r, "）", 3)) {
			*w++ = ')';
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = 0;
}

/* ../shared/data/sample-queries.tsv: the contract's answers, over the wire. */
/* Every query of the contract's sample file name over RESP; at least min. */
static void sample_over_resp(const char *name, int min)
{
	char path[PATH_MAX];
	if (!tu_data_path(name, path, sizeof path))
		cr_skip_test("../shared/data/%s is absent", name);
	st_server *s = st_start(st_snap);
	st_conn *c = st_connect(s->resp_port);
	size_t n;
	char *tsv = tu_read(path, &n);
	int asked = 0;
	char *save = NULL;
	for (char *line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || !line[0])
			continue;
		char *f[16];
		int nf = 0;
		for (char *t = line; t && nf < 16;) {
			f[nf++] = t;
			t = strchr(t, '\t');
			if (t)
				*t++ = 0;
		}
		char q[512];
		snprintf(q, sizeof q, "CHECK %s", f[0]);
		char *r = strdup(st_ask(c, q));
		if (!strcmp(f[1], "ERR")) {
			char want[256];
			snprintf(want, sizeof want, "-ERR %s", f[2]);
			cr_assert(!strncmp(r, want, strlen(want)), "%s: got %s, want %s...", q, r, want);
		} else {
			/* [DECISION, REASON, case|court|role|list, ...] */
			char want[2048];
			int len = snprintf(want, sizeof want, "[%s, %s", f[1], f[2]);
			for (int i = 3; i < nf; i++)
				len += snprintf(want + len, sizeof want - (size_t)len, ", %s|", f[i]);
			snprintf(want + len, sizeof want - (size_t)len, "]");
			/* Reduce the reply's records to their case numbers. */
			char got[2048];
			size_t g = 0;
			for (char *p = r; *p && g < sizeof got - 1;) {
				if (*p == '|') {
					got[g++] = '|';
					p += strcspn(p, ",]");
					continue;
				}
				got[g++] = *p++;
			}
			got[g] = 0;
			fold(got);
			fold(want);
			cr_assert_str_eq(got, want, "%s: reply %s", q, r);
		}
		free(r);
		asked++;
	}
	cr_assert(asked >= min, "only %d queries in %s", asked, path);
	free(tsv);
	st_close(c);
}

ST_TEST(resp, sample_queries_answered_as_the_contract_says)
{
	sample_over_resp("sample-queries.tsv", 100);
}

ST_TEST(resp, joint_sample_queries_answered_as_the_contract_says)
{
	sample_over_resp("sample-queries-joint.tsv", 19);
}

/* redis-cli, the tool operators will reach for, works unchanged. */
ST_TEST(resp, redis_cli_works)
{
	if (system("command -v redis-cli >/dev/null 2>&1") != 0)
		cr_skip_test("redis-cli is not installed");
	st_server *s = st_start(st_snap);
	char cmd[512], out[4096];
	snprintf(cmd, sizeof cmd, "redis-cli -p %d CHECK " ST_DENY_ID " air AT 2026-01-10 2>&1",
	         s->resp_port);
	FILE *p = popen(cmd, "r");
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = 0;
	cr_assert_eq(pclose(p), 0, "%s: %s", cmd, out);
	cr_assert_str_eq(out, "DENY\nLISTED\n" ST_DENY_REC "\n");

	snprintf(cmd, sizeof cmd, "redis-cli -p %d PING 2>&1", s->resp_port);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof out - 1, p);
	out[n] = 0;
	pclose(p);
	cr_assert_str_eq(out, "PONG\n");
}
