/*
 * test_server_malformed.c - what hostile or broken clients send: random
 * bytes, huge and negative lengths, unterminated and oversized requests,
 * and half requests held open while others are served.  Each bad client
 * gets its protocol error and is closed; nobody else notices, and the
 * server keeps answering correctly.
 */
#include "helpers/srvtest.h"

static void assert_serving(const st_server *s)
{
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " air " ST_AT), "[DENY, LISTED, " ST_DENY_REC "]");
	st_close(c);
}

/* Each RESP request gets "-ERR Protocol error: ..." and a close. */
ST_TEST(malformed, resp_lengths_and_framing)
{
	st_server *s = st_start(st_snap);
	static const struct { const char *send; const char *want; } cases[] = {
		{ "*-5\r\n", "-ERR Protocol error: invalid multibulk length" },
		{ "*99999999\r\n", "-ERR Protocol error: invalid multibulk length" },
		{ "*99999999999999999999\r\n", "-ERR Protocol error: invalid multibulk length" },
		{ "*x\r\n", "-ERR Protocol error: invalid multibulk length" },
		{ "*1\r\n$-3\r\n", "-ERR Protocol error: invalid bulk length" },
		{ "*1\r\n$2000000\r\n", "-ERR Protocol error: invalid bulk length" },
		{ "*1\r\n$99999999999999999999999\r\n", "-ERR Protocol error: invalid bulk length" },
		{ "*2\r\n$4\r\nPING\r\n:1\r\n", "-ERR Protocol error: expected '$', got ':'" },
		{ "*1\r\n$4\r\nPINGxx", "-ERR Protocol error: bulk string not terminated by CRLF" },
		{ "PING \"unbalanced\r\n", "-ERR Protocol error: unbalanced quotes in request" },
		{ "PING 'a'b\r\n", "-ERR Protocol error: unbalanced quotes in request" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		st_conn *c = st_connect(s->resp_port);
		/* A good command first: errors close only after what came before. */
		st_send_str(c, "PING\r\n");
		st_send_str(c, cases[i].send);
		char *r1 = st_reply(c), *r2 = st_reply(c);
		cr_assert_str_eq(r1, "+PONG", "case %zu", i);
		cr_assert_not_null(r2, "no reply to %s", cases[i].send);
		cr_assert_str_eq(r2, cases[i].want, "sent %s", cases[i].send);
		cr_assert(st_closed_by_server(c, 3000), "still open after %s", cases[i].send);
		free(r1);
		free(r2);
		st_close(c);
	}
	/* An inline line or a header line over 64 KiB. */
	char *big = malloc(70000);
	memset(big, 'A', 70000);
	st_conn *c = st_connect(s->resp_port);
	st_send(c, big, 70000);
	char *r = st_reply(c);
	cr_assert_str_eq(r, "-ERR Protocol error: too big inline request");
	free(r);
	cr_assert(st_closed_by_server(c, 3000));
	st_close(c);
	c = st_connect(s->resp_port);
	big[0] = '*';
	st_send(c, big, 70000);
	r = st_reply(c);
	cr_assert_str_eq(r, "-ERR Protocol error: too big mbulk count string");
	free(r);
	st_close(c);
	free(big);

	/* A request larger than the frame limit (4 MiB of 1 MiB arguments). */
	c = st_connect(s->resp_port);
	size_t blen = 1 << 20;
	char *arg = malloc(blen);
	memset(arg, 'x', blen);
	st_send_str(c, "*6\r\n$6\r\nMCHECK");
	int sent_ok = 0;
	for (int i = 0; i < 5; i++) {
		char hdr[32];
		snprintf(hdr, sizeof hdr, "\r\n$%zu\r\n", blen);
		if (st_send_raw(c, hdr, strlen(hdr)) || st_send_raw(c, arg, blen))
			break;
		sent_ok++;
	}
	r = st_reply(c);
	cr_assert_not_null(r, "no reply to an oversized request (%d args sent)", sent_ok);
	cr_assert(!strncmp(r, "-ERR Protocol error: request larger than", 40), "%s", r);
	free(r);
	free(arg);
	st_close(c);

	char v[64];
	st_conn *i = st_connect(s->resp_port);
	cr_assert(atoi(st_info_get(st_ask(i, "INFO stats"), "protocol_errors", v, sizeof v)) >= 14);
	st_close(i);
	assert_serving(s);
}

/* Random bytes on both ports from many clients at once. */
ST_TEST(malformed, random_bytes_never_hurt)
{
	st_server *s = st_start(st_snap);
	tu_rng rng = { 42 };
	enum { CLIENTS = 40 };
	st_conn *cs[CLIENTS];
	for (int i = 0; i < CLIENTS; i++) {
		cs[i] = st_connect(i % 2 ? s->bin_port : s->resp_port);
		uint8_t junk[8192];
		size_t n = 1 + tu_below(&rng, sizeof junk);
		for (size_t k = 0; k < n; k++)
			junk[k] = (uint8_t)tu_next(&rng);
		if (i % 4 == 1) {
			/* A valid HELLO first, then garbage frames. */
			static const uint8_t hello[] = { 8, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
			                                 'S', 'X', 'G', 'B', 1, 0, 1, 0 };
			st_send(cs[i], hello, sizeof hello);
		}
		st_send_raw(cs[i], junk, n);
	}
	assert_serving(s);
	for (int i = 0; i < CLIENTS; i++) {
		/* Whatever came back, the server must not hang on to a client that
		 * sent a broken binary frame; RESP garbage may be "commands". */
		st_send_raw(cs[i], "\r\n", 2);
		st_close(cs[i]);
	}
	assert_serving(s);
	cr_assert_eq(kill(s->pid, 0), 0, "sxgated died");
}

/* Half a request held open does not stop anyone else; finishing it later
 * gets it answered. */
ST_TEST(malformed, half_frames_held_open)
{
	st_server *s = st_start(st_snap);
	st_conn *half_resp = st_connect(s->resp_port);
	st_conn *half_bin = st_connect(s->bin_port);
	st_bin_hello(half_bin, 0);

	char req[256];
	size_t n = st_resp_encode("CHECK " ST_DENY_ID " air " ST_AT, req, sizeof req);
	st_send(half_resp, req, n / 2);
	st_out *o = calloc(1, sizeof *o);
	const char *ids[] = { ST_DENY_ID };
	st_bin_query(o, SXB_OP_CHECK, 42, "air", "", "", "2026-01-10", ids, 1);
	st_send(half_bin, o->b, 7);             /* not even a whole header */

	for (int i = 0; i < 50; i++)
		assert_serving(s);
	st_conn *b = st_connect(s->bin_port);
	st_bin_hello(b, 0);
	st_close(b);

	st_send(half_resp, req + n / 2, n - n / 2);
	char *got = st_reply(half_resp);
	cr_assert_str_eq(got, "[DENY, LISTED, " ST_DENY_REC "]");
	free(got);
	st_send(half_bin, o->b + 7, o->n - 7);
	st_frame f;
	cr_assert_eq(st_frame_read(half_bin, &f), 0);
	cr_assert_eq(f.op, SXB_OP_CHECK_REPLY);
	cr_assert_eq(f.req, 42);

	/* Byte by byte works too. */
	for (size_t i = 0; i < n; i++) {
		st_send(half_resp, req + i, 1);
		if (i % 7 == 0)
			usleep(1000);
	}
	got = st_reply(half_resp);
	cr_assert_str_eq(got, "[DENY, LISTED, " ST_DENY_REC "]");
	free(got);
	free(o);
	st_close(half_resp);
	st_close(half_bin);
}
