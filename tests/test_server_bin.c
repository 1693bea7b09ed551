/*
 * test_server_bin.c - the binary protocol (docs/protocol.md) byte by byte
 * against the real sxgated: handshake, PING, batched CHECK, LISTED, EXEC,
 * many requests in flight answered in order, per-request errors that keep
 * the connection, and framing errors that close it.  Frames are built and
 * read here by hand, independently of the client library.
 */
#include "helpers/srvtest.h"

static st_out out;

static void send_out(st_conn *c)
{
	st_send(c, out.b, out.n);
	out.n = 0;
}

static char *check(st_conn *c, uint32_t req, const char *chan, const char *cls,
                   const char *type, const char *at, const char *const *ids, unsigned n)
{
	st_bin_query(&out, SXB_OP_CHECK, req, chan, cls, type, at, ids, n);
	send_out(c);
	st_frame f;
	cr_assert_eq(st_frame_read(c, &f), 0, "no reply to CHECK %u", req);
	cr_assert_eq(f.req, req);
	if (f.op == SXB_OP_ERROR) {
		char *e = malloc(strlen(st_bin_error_text(&f)) + 2);
		sprintf(e, "!%s", st_bin_error_text(&f));
		return e;
	}
	cr_assert_eq(f.op, SXB_OP_CHECK_REPLY);
	cr_assert_eq(f.count, n);
	return st_bin_check_text(&f);
}

static const char *exec(st_conn *c, uint32_t req, const char *line)
{
	static char buf[1 << 16];
	char words[1024];
	snprintf(words, sizeof words, "%s", line);
	char *w[64];
	unsigned n = 0;
	for (char *save = NULL, *t = strtok_r(words, " ", &save); t; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	size_t h = st_frame_begin(&out, SXB_OP_EXEC, n, req);
	for (unsigned i = 0; i < n; i++) {
		st_put16(&out, (unsigned)strlen(w[i]));
		memcpy(out.b + out.n, w[i], strlen(w[i]));
		out.n += strlen(w[i]);
	}
	st_frame_end(&out, h);
	send_out(c);
	st_frame f;
	cr_assert_eq(st_frame_read(c, &f), 0, "no reply to EXEC %s", line);
	cr_assert_eq(f.req, req);
	if (f.op == SXB_OP_ERROR) {
		snprintf(buf, sizeof buf, "!%s", st_bin_error_text(&f));
		return buf;
	}
	cr_assert_eq(f.op, SXB_OP_EXEC_REPLY);
	cr_assert_eq(f.count, 1);
	snprintf(buf, sizeof buf, "%.*s", (int)f.len, (const char *)f.body);
	return buf;
}

ST_TEST(bin, hello_ping_check_listed_exec)
{
	st_server *s = st_start(st_snap);
	st_conn *c = st_connect(s->bin_port);
	st_bin_hello(c, 0);

	size_t h = st_frame_begin(&out, SXB_OP_PING, 0, 77);
	memcpy(out.b + out.n, "hello", 5);
	out.n += 5;
	st_frame_end(&out, h);
	send_out(c);
	st_frame f;
	cr_assert_eq(st_frame_read(c, &f), 0);
	cr_assert_eq(f.op, SXB_OP_PING_REPLY);
	cr_assert_eq(f.req, 77);
	cr_assert_eq(f.len, 5);
	cr_assert_eq(memcmp(f.body, "hello", 5), 0);

	/* The example of docs/protocol.md, byte for byte. */
	static const uint8_t example[] = {
		0x24, 0, 0, 0, 0x10, 0, 1, 0, 7, 0, 0, 0,
		3, 'a', 'i', 'r', 0, 0, 10, '2', '0', '2', '6', '-', '0', '1', '-', '1', '0',
		18, '3', '5', '0', '3', '0', '4', '1', '9', '7', '8', '0', '6', '2', '6', '3', '2', '9', '3',
	};
	st_send(c, example, sizeof example);
	cr_assert_eq(st_frame_read(c, &f), 0);
	cr_assert_eq(f.op, 0x90);
	cr_assert_eq(f.count, 1);
	cr_assert_eq(f.req, 7);
	static const uint8_t head[] = { 0, 1, 0, 0, 1, 0 };
	cr_assert_eq(memcmp(f.body, head, 6), 0, "decision header");
	cr_assert_eq(st_get16(f.body + 6), strlen(ST_DENY_REC));
	cr_assert_eq(memcmp(f.body + 8, ST_DENY_REC, strlen(ST_DENY_REC)), 0);
	cr_assert_eq(f.len, 8 + strlen(ST_DENY_REC));

	const char *ids[] = { ST_DENY_ID, "11010519491231002Y", ST_FREE_ID, "350602196503281979",
	                      "350203197604181976" };
	char *t = check(c, 8, "air", "", "", "2026-01-10", ids, 5);
	cr_assert_str_eq(t, "[DENY, LISTED, " ST_DENY_REC "] ; -ERR invalid id: RIC check character "
	                 "must be a digit or X ; [ALLOW, NOT_LISTED] ; [ALLOW, SUSPENDED] ; "
	                 "[ALLOW, EXEMPT]");
	free(t);
	t = check(c, 9, "rail", "D1:second", "RIC", "2026-01-10", ids, 1);
	cr_assert_str_eq(t, "[ALLOW, NOT_RESTRICTED]");
	free(t);
	t = check(c, 10, "air", "", "", "", ids, 0);
	cr_assert_str_eq(t, "");
	free(t);

	/* Whole-request errors are one ERROR frame; the connection stays. */
	t = check(c, 11, "bus", "", "", "", ids, 1);
	cr_assert(!strncmp(t, "!ERR unknown channel", 20), "%s", t);
	free(t);
	t = check(c, 12, "rail", "", "", "", ids, 1);
	cr_assert(!strncmp(t, "!ERR bad class", 14), "%s", t);
	free(t);
	t = check(c, 13, "air", "", "XX", "", ids, 1);
	cr_assert(!strncmp(t, "!ERR unknown type", 17), "%s", t);
	free(t);
	t = check(c, 14, "air", "", "", "2026-13-01", ids, 1);
	cr_assert(!strncmp(t, "!ERR bad date", 13), "%s", t);
	free(t);

	/* LISTED: 1, 0, or an error item. */
	const char *lids[] = { ST_DENY_ID, ST_FREE_ID, "bad" };
	st_bin_query(&out, SXB_OP_LISTED, 15, "", "", "", "2026-01-10", lids, 3);
	send_out(c);
	cr_assert_eq(st_frame_read(c, &f), 0);
	cr_assert_eq(f.op, SXB_OP_LISTED_REPLY);
	cr_assert_eq(f.count, 3);
	cr_assert_eq(f.body[0], 1);
	cr_assert_eq(f.body[1], 0);
	cr_assert_eq(f.body[2], 0xFF);
	size_t el = st_get16(f.body + 3);
	cr_assert_eq(f.len, 5 + el);
	cr_assert(!strncmp((const char *)f.body + 5, "ERR invalid id", 14));

	/* EXEC runs the RESP command table and returns its RESP bytes. */
	cr_assert_str_eq(exec(c, 16, "PING"), "+PONG\r\n");
	cr_assert_str_eq(exec(c, 17, "CHECK " ST_DENY_ID " air AT 2026-01-10"),
	                 "*3\r\n$4\r\nDENY\r\n$6\r\nLISTED\r\n$63\r\n" ST_DENY_REC "\r\n");
	cr_assert_str_eq(exec(c, 18, "NOSUCH x"),
	                 "-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n");
	cr_assert_str_eq(exec(c, 19, "RELOAD"), "+OK 2\r\n");
	cr_assert(strstr(exec(c, 20, "INFO snapshot"), "snapshot_generation:2\r\n"));
	cr_assert_str_eq(exec(c, 21, ""), "-ERR empty command\r\n");
	cr_assert_str_eq(exec(c, 22, "QUIT"), "+OK\r\n");
	cr_assert(st_closed_by_server(c, 3000));
	st_close(c);
}

/* Thousands of requests in flight on one connection, replies in request
 * order with their IDs, the same answers as RESP's MCHECK. */
ST_TEST(bin, many_in_flight_in_order)
{
	st_server *s = st_start(st_snap);
	st_conn *b = st_connect(s->bin_port), *r = st_connect(s->resp_port);
	st_bin_hello(b, 0);
	const char *ids[] = { ST_DENY_ID, ST_FREE_ID, "350203620915548", "91350100658106848R",
	                      "350602196503281979", "110101199405036676", "nonsense" };
	unsigned nids = sizeof ids / sizeof ids[0];
	enum { N = 3000 };
	for (uint32_t i = 0; i < N; i++) {
		const char *chan = i % 3 == 0 ? "air" : i % 3 == 1 ? "rail" : "hotel";
		const char *cls = i % 3 == 0 ? "" : i % 3 == 1 ? "G1:second" : "2";
		st_bin_query(&out, i % 5 == 4 ? SXB_OP_PING : SXB_OP_CHECK, 1000 + i, chan, cls, "",
		             "2026-01-10", ids, 1 + i % nids);
		if (out.n > sizeof out.b - 4096)
			send_out(b);
	}
	send_out(b);
	/* The answer to each ID over RESP, per channel and class. */
	char *one[3][8];
	for (int k = 0; k < 3; k++) {
		for (unsigned j = 0; j < nids; j++) {
			char line[256];
			snprintf(line, sizeof line, "CHECK %s %s AT 2026-01-10", ids[j],
			         k == 0 ? "air" : k == 1 ? "rail G1:second" : "hotel 2");
			one[k][j] = strdup(st_ask(r, line));
		}
	}
	for (uint32_t i = 0; i < N; i++) {
		st_frame f;
		cr_assert_eq(st_frame_read(b, &f), 0, "reply %u missing", i);
		cr_assert_eq(f.req, 1000 + i, "reply %u has req_id %u", i, f.req);
		if (i % 5 == 4) {
			cr_assert_eq(f.op, SXB_OP_PING_REPLY);
			continue;
		}
		cr_assert_eq(f.op, SXB_OP_CHECK_REPLY, "reply %u: op 0x%02x", i, f.op);
		char *t = st_bin_check_text(&f);
		st_sb want = { 0 };
		st_sb_put(&want, "", 0);
		for (unsigned j = 0; j < 1 + i % nids; j++) {
			if (j)
				st_sb_put(&want, " ; ", 3);
			st_sb_put(&want, one[i % 3][j], strlen(one[i % 3][j]));
		}
		cr_assert_str_eq(t, want.p, "reply %u", i);
		free(want.p);
		free(t);
	}
	for (int k = 0; k < 3; k++)
		for (unsigned j = 0; j < nids; j++)
			free(one[k][j]);
	st_close(b);
	st_close(r);
}

/* Framing errors: one ERROR frame, then the server closes; nothing else is
 * affected. */
ST_TEST(bin, framing_errors_close_only_that_connection)
{
	st_server *s = st_start(st_snap);
	st_conn *bystander = st_connect(s->bin_port);
	st_bin_hello(bystander, 0);
	struct { const char *what; int hello; uint8_t bytes[64]; size_t n; const char *msg; } cases[] = {
		{ "no HELLO first", 0, { 0, 0, 0, 0, 0x03, 0, 0, 0, 5, 0, 0, 0 }, 12,
		  "ERR Protocol error: the first frame must be HELLO" },
		{ "bad magic", 0, { 8, 0, 0, 0, 0x01, 0, 0, 0, 5, 0, 0, 0, 'S', 'X', 'G', 'X', 1, 0, 1, 0 }, 20,
		  "ERR Protocol error: HELLO body" },
		{ "no common version", 0, { 8, 0, 0, 0, 0x01, 0, 0, 0, 5, 0, 0, 0, 'S', 'X', 'G', 'B', 3, 0, 4, 0 }, 20,
		  "ERR no common protocol version" },
		{ "oversized length", 1, { 0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0, 5, 0, 0, 0 }, 12,
		  "ERR Protocol error: frame body of 4294967295 bytes" },
		{ "unknown op", 1, { 0, 0, 0, 0, 0x55, 0, 0, 0, 5, 0, 0, 0 }, 12,
		  "ERR Protocol error: unknown op 0x55" },
		{ "reply op from a client", 1, { 0, 0, 0, 0, 0x90, 0, 0, 0, 5, 0, 0, 0 }, 12,
		  "ERR Protocol error: unknown op 0x90" },
		{ "context runs past the body", 1, { 2, 0, 0, 0, 0x10, 0, 1, 0, 5, 0, 0, 0, 9, 'a' }, 14,
		  "ERR Protocol error: query context runs past the frame" },
		{ "bytes after the last ID", 1, { 8, 0, 0, 0, 0x10, 0, 0, 0, 5, 0, 0, 0, 3, 'a', 'i', 'r', 0, 0, 0, 'x' }, 20,
		  "ERR Protocol error: bytes after the last ID" },
		{ "empty ID", 1, { 6, 0, 0, 0, 0x10, 0, 1, 0, 5, 0, 0, 0, 1, 'x', 0, 0, 0, 0 }, 18,
		  "ERR Protocol error: ID length must be 1..64" },
		{ "PING over 256", 1, { 1, 1, 0, 0, 0x03, 0, 0, 0, 5, 0, 0, 0 }, 12, NULL },
		{ "EXEC argument past the end", 1, { 3, 0, 0, 0, 0x40, 0, 1, 0, 5, 0, 0, 0, 9, 0, 'x' }, 15,
		  "ERR Protocol error: EXEC argument runs past the frame" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		st_conn *c = st_connect(s->bin_port);
		if (cases[i].hello)
			st_bin_hello(c, 0);
		st_send(c, cases[i].bytes, cases[i].n);
		if (!strcmp(cases[i].what, "PING over 256")) {
			uint8_t zeros[257] = { 0 };
			st_send(c, zeros, sizeof zeros);
			cases[i].msg = "ERR Protocol error: PING body over 256 bytes";
		}
		st_frame f;
		cr_assert_eq(st_frame_read(c, &f), 0, "%s: no ERROR frame", cases[i].what);
		const char *m = st_bin_error_text(&f);
		cr_assert(!strncmp(m, cases[i].msg, strlen(cases[i].msg)), "%s: got '%s'", cases[i].what, m);
		cr_assert_eq(f.req, 5, "%s: ERROR carries req_id %u", cases[i].what, f.req);
		cr_assert(st_closed_by_server(c, 3000), "%s: connection not closed", cases[i].what);
		st_close(c);
	}
	/* Over the batch limit: 4097 IDs. */
	st_conn *c = st_connect(s->bin_port);
	st_bin_hello(c, 0);
	static const char *many[4097];
	for (int i = 0; i < 4097; i++)
		many[i] = ST_DENY_ID;
	st_bin_query(&out, SXB_OP_CHECK, 6, "air", "", "", "", many, 4097);
	send_out(c);
	st_frame f;
	cr_assert_eq(st_frame_read(c, &f), 0);
	cr_assert(strstr(st_bin_error_text(&f), "max_batch"), "%s", st_bin_error_text(&f));
	cr_assert(st_closed_by_server(c, 3000));
	st_close(c);
	/* The full batch of 4096 is fine. */
	c = st_connect(s->bin_port);
	st_bin_hello(c, 0);
	char *t = check(c, 7, "air", "", "", "2026-01-10", many, 4096);
	cr_assert_eq(strlen(t), 4096 * strlen("[DENY, LISTED, " ST_DENY_REC "]") + 4095 * 3);
	free(t);
	st_close(c);

	/* The bystander never noticed. */
	const char *ids[] = { ST_DENY_ID };
	t = check(bystander, 99, "air", "", "", "2026-01-10", ids, 1);
	cr_assert_str_eq(t, "[DENY, LISTED, " ST_DENY_REC "]");
	free(t);
	st_close(bystander);
}

/* EXEC answers every command exactly as the RESP port does. */
ST_TEST(bin, exec_answers_as_resp_does)
{
	st_server *s = st_start(st_snap);
	st_conn *b = st_connect(s->bin_port), *r = st_connect(s->resp_port);
	st_bin_hello(b, 0);
	static const char *const cmds[] = {
		"PING", "PING hi", "PING a b",
		"CHECK " ST_DENY_ID " air AT 2026-01-10", "CHECK " ST_DENY_ID " rail",
		"check " ST_FREE_ID " hotel 3 type ric at 2026-01-10", "CHECK x",
		"MCHECK air - AT 2026-01-10 " ST_DENY_ID " bad " ST_FREE_ID, "MCHECK air -",
		"LISTED " ST_DENY_ID, "LISTED " ST_DENY_ID " TYPE RIC AT 2026-01-10", "LISTED x y",
		"AUTH a b", "AUTH", "RELOAD a b c",
		"LIST.ADD case_no x", "LIST.REMOVE a b c", "LIST.SUSPEND a b c", "LIST.RESUME a b c",
		"PERMIT.ADD a b c d e f g", "PERMIT.REMOVE p", "PERMIT.REMOVE",
		"HELLO 3", "CONFIG GET save", "INFO nosuchsection",
	};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		const char *body = exec(b, (uint32_t)(100 + i), cmds[i]);
		char *via_exec = st_reply_from(body, strlen(body));
		cr_assert_not_null(via_exec, "EXEC %s: not one RESP reply", cmds[i]);
		cr_assert_str_eq(via_exec, st_ask(r, cmds[i]), "%s", cmds[i]);
		free(via_exec);
	}
	st_close(b);
	st_close(r);
}
