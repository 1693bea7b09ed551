/*
 * test_client.c - the client library's parsers take whatever a server
 * sends: well-formed replies are read exactly, truncated ones wait for
 * more, and oversized, garbled or inconsistent ones are errors, never
 * crashes or reads outside the buffer.
 *
 * The parsers are pure functions over (buffer, length), so most cases are
 * fed directly, each copied into a heap block of exactly its length (so an
 * over-read would be caught by ASan or valgrind).  The last cases run a
 * scripted fake server on an ephemeral loopback port to check that the
 * connection-level code turns bad frames into errors too.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sx.h"
#include "sxclient.h"

/* ---- building frames ------------------------------------------------------- */

typedef struct buf { uint8_t b[4096]; size_t n; } buf;

static void u8(buf *f, unsigned v) { f->b[f->n++] = (uint8_t)v; }
static void u16(buf *f, unsigned v) { u8(f, v & 0xff); u8(f, v >> 8); }
static void u32(buf *f, uint32_t v) { u16(f, v & 0xffff); u16(f, v >> 16); }
static void bytes(buf *f, const void *p, size_t n) { memcpy(f->b + f->n, p, n); f->n += n; }

static void header(buf *f, uint32_t len, unsigned op, unsigned count, uint32_t id)
{
	f->n = 0;
	u32(f, len);
	u8(f, op);
	u8(f, 0);
	u16(f, count);
	u32(f, id);
}

static void fix_len(buf *f)
{
	uint32_t len = (uint32_t)(f->n - SXB_HEADER);
	memcpy(f->b, &len, 4);
}

#define REC "（2023）闽05执1001号|泉州市中级人民法院|debtor|SX"

/* CHECK reply, req 7: DENY/LISTED with one record, an error item, ALLOW. */
static void check_reply(buf *f)
{
	header(f, 0, 0x90, 3, 7);
	u8(f, 0); u8(f, 1); u8(f, 0); u8(f, 0); u16(f, 1);
	u16(f, strlen(REC)); bytes(f, REC, strlen(REC));
	u8(f, 1); u8(f, 0); u8(f, 0); u8(f, 0); u16(f, 19);
	bytes(f, "ERR invalid id: bad", 19);
	u8(f, 0); u8(f, 0); u8(f, 4); u8(f, 0); u16(f, 0);
	fix_len(f);
}

/* Parse from an exactly-sized heap copy. */
static int parse(const void *p, size_t n, sx_client_reply *r, size_t *used)
{
	uint8_t *c = malloc(n ? n : 1);
	memcpy(c, p, n);
	const char *why;
	int rc = sx_client_frame_parse(c, n, r, used, &why);
	if (rc == 0)
		r->body = (const uint8_t *)p + (r->body - c);
	if (rc == 0 && r->err)
		r->err = (const char *)p + ((const uint8_t *)r->err - c);
	free(c);
	return rc;
}

Test(frame, check_reply_walks_items_and_records)
{
	buf f;
	check_reply(&f);
	sx_client_reply r;
	size_t used;
	cr_assert_eq(parse(f.b, f.n, &r, &used), 0);
	cr_assert_eq(used, f.n);
	cr_assert_eq(r.op, 0x90);
	cr_assert_eq(r.req_id, 7);
	cr_assert_eq(r.count, 3);

	sx_client_item it;
	size_t pos = 0, rpos = 0, n;
	const char *s;
	cr_assert_eq(sx_client_item_next(&r, &pos, &it), 1);
	cr_assert_eq(it.kind, 0);
	cr_assert_eq(it.decision, SXB_DENY);
	cr_assert_eq(it.reason, SXB_R_LISTED);
	cr_assert_eq(it.n, 1);
	cr_assert_eq(sx_client_record_next(&it, &rpos, &s, &n), 1);
	cr_assert_eq(n, strlen(REC));
	cr_assert(memcmp(s, REC, n) == 0);
	cr_assert_eq(sx_client_record_next(&it, &rpos, &s, &n), 0);

	cr_assert_eq(sx_client_item_next(&r, &pos, &it), 1);
	cr_assert_eq(it.kind, SXB_KIND_ERROR);
	cr_assert_eq(it.n, 19);
	cr_assert(memcmp(it.data, "ERR invalid id: bad", 19) == 0);

	cr_assert_eq(sx_client_item_next(&r, &pos, &it), 1);
	cr_assert_eq(it.decision, SXB_ALLOW);
	cr_assert_eq(it.reason, SXB_R_NOT_LISTED);
	cr_assert_eq(it.n, 0);
	cr_assert_eq(sx_client_item_next(&r, &pos, &it), 0);
}

Test(frame, every_truncation_waits_for_more)
{
	buf f;
	check_reply(&f);
	sx_client_reply r;
	size_t used;
	for (size_t n = 0; n < f.n; n++)
		cr_assert_eq(parse(f.b, n, &r, &used), -EAGAIN, "prefix of %zu bytes", n);
}

Test(frame, two_frames_in_one_buffer_parse_one_at_a_time)
{
	buf f, g2;
	check_reply(&f);
	header(&g2, 0, 0x83, 0, 9);
	bytes(&g2, "hi", 2);
	fix_len(&g2);
	memcpy(f.b + f.n, g2.b, g2.n);
	sx_client_reply r;
	size_t used, first = f.n;
	cr_assert_eq(parse(f.b, f.n + g2.n, &r, &used), 0);
	cr_assert_eq(used, first);
	cr_assert_eq(parse(f.b + used, g2.n, &r, &used), 0);
	cr_assert_eq(r.op, 0x83);
	cr_assert_eq(r.req_id, 9);
	cr_assert_eq(r.len, 2);
}

Test(frame, oversized_length_is_refused_from_the_first_four_bytes)
{
	uint8_t h[4] = { 0x01, 0x00, 0x10, 0x00 };   /* 1048577 */
	sx_client_reply r;
	size_t used;
	cr_assert_eq(parse(h, 4, &r, &used), SX_CLIENT_ETOOBIG);
	uint8_t big[12] = { 0xff, 0xff, 0xff, 0xff, 0x90 };
	cr_assert_eq(parse(big, 12, &r, &used), SX_CLIENT_ETOOBIG);
	/* exactly the limit is allowed (and incomplete here) */
	uint8_t lim[12] = { 0x00, 0x00, 0x10, 0x00, 0xC0 };
	cr_assert_eq(parse(lim, 12, &r, &used), -EAGAIN);
}

Test(frame, unknown_or_request_ops_are_refused)
{
	static const uint8_t ops[] = { 0x00, 0x01, 0x10, 0x40, 0x84, 0x92, 0xFE, 0x7f };
	for (size_t i = 0; i < sizeof ops; i++) {
		buf f;
		header(&f, 0, ops[i], 0, 1);
		sx_client_reply r;
		size_t used;
		cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO, "op 0x%02x", ops[i]);
		cr_assert_eq(parse(f.b, 5, &r, &used), SX_CLIENT_EPROTO, "op 0x%02x early", ops[i]);
	}
}

Test(frame, check_bodies_that_do_not_add_up_are_refused)
{
	sx_client_reply r;
	size_t used;
	buf f;

	check_reply(&f);                    /* count says 4, body has 3 */
	f.b[6] = 4;
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);

	check_reply(&f);                    /* count says 2: bytes left over */
	f.b[6] = 2;
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);

	check_reply(&f);                    /* record length runs past the end */
	f.b[SXB_HEADER + 6] = 0xff;
	f.b[SXB_HEADER + 7] = 0x7f;
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);

	check_reply(&f);                    /* unknown kind */
	f.b[SXB_HEADER] = 2;
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);

	check_reply(&f);                    /* reason 5 */
	f.b[SXB_HEADER + 2] = 5;
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);

	check_reply(&f);                    /* decision 3 */
	f.b[SXB_HEADER + 1] = 3;
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);

	check_reply(&f);                    /* ALLOW with reason LISTED */
	f.b[SXB_HEADER + 1] = SXB_ALLOW;
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);

	check_reply(&f);                    /* REVIEW with another reason */
	f.b[SXB_HEADER + 1] = SXB_REVIEW;
	f.b[SXB_HEADER + 2] = SXB_R_SUSPENDED;
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);

	check_reply(&f);                    /* REVIEW LISTED: well formed */
	f.b[SXB_HEADER + 1] = SXB_REVIEW;
	cr_assert_eq(parse(f.b, f.n, &r, &used), 0);

	header(&f, 0, 0x90, 1, 1);          /* item header cut short */
	u8(&f, 0); u8(&f, 0); u8(&f, 4);
	fix_len(&f);
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);
}

Test(frame, other_reply_bodies_are_checked)
{
	sx_client_reply r;
	size_t used;
	buf f;

	header(&f, 0, 0x81, 0, 1);          /* HELLO reply must be 12 bytes */
	u16(&f, 1); u16(&f, 0); u32(&f, SXB_MAX_BODY);
	fix_len(&f);
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);
	u32(&f, 4096);
	fix_len(&f);
	cr_assert_eq(parse(f.b, f.n, &r, &used), 0);

	header(&f, 0, 0x82, 0, 1);          /* AUTH reply is empty */
	u8(&f, 0);
	fix_len(&f);
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);

	header(&f, 0, 0x83, 0, 1);          /* PONG over 256 bytes */
	for (int i = 0; i < 257; i++)
		u8(&f, 'x');
	fix_len(&f);
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);

	header(&f, 0, 0x91, 3, 1);          /* LISTED: 1, 0, error */
	u8(&f, 1); u8(&f, 0); u8(&f, 0xff); u16(&f, 3); bytes(&f, "ERR", 3);
	fix_len(&f);
	cr_assert_eq(parse(f.b, f.n, &r, &used), 0);
	size_t pos = 0, el;
	int v;
	const char *e;
	cr_assert_eq(sx_client_listed_next(&r, &pos, &v, &e, &el), 1);
	cr_assert_eq(v, 1);
	cr_assert_eq(sx_client_listed_next(&r, &pos, &v, &e, &el), 1);
	cr_assert_eq(v, 0);
	cr_assert_eq(sx_client_listed_next(&r, &pos, &v, &e, &el), 1);
	cr_assert_eq(v, 0xff);
	cr_assert_eq(el, 3);
	cr_assert(memcmp(e, "ERR", 3) == 0);
	cr_assert_eq(sx_client_listed_next(&r, &pos, &v, &e, &el), 0);
	f.b[SXB_HEADER] = 2;                /* not 0, 1 or 0xFF */
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);

	header(&f, 0, 0xFF, 0, 5);          /* ERROR: u16 len must match */
	u16(&f, 5); bytes(&f, "ERR x", 5);
	fix_len(&f);
	cr_assert_eq(parse(f.b, f.n, &r, &used), 0);
	cr_assert_eq(r.errlen, 5);
	cr_assert(memcmp(r.err, "ERR x", 5) == 0);
	f.b[SXB_HEADER] = 6;
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);

	header(&f, 0, 0xC0, 0, 1);          /* EXEC: exactly one RESP value */
	bytes(&f, "+OK 2\r\n", 7);
	fix_len(&f);
	cr_assert_eq(parse(f.b, f.n, &r, &used), 0);
	bytes(&f, "+", 1);
	fix_len(&f);
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);
	header(&f, 0, 0xC0, 0, 1);
	bytes(&f, "$10\r\nabc\r\n", 10);
	fix_len(&f);
	cr_assert_eq(parse(f.b, f.n, &r, &used), SX_CLIENT_EPROTO);
}

Test(frame, random_garbage_never_crashes)
{
	/* xorshift: reproducible garbage, some of it with plausible headers */
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint8_t b[600];
	int ok = 0, again = 0, bad = 0;
	for (int round = 0; round < 200000; round++) {
		size_t n = 0;
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		n = x % sizeof b;
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			b[i] = (uint8_t)(x >> 24);
		}
		if (n >= 12 && (round & 1)) {     /* make the header believable */
			/* the exact body length, or one byte more (incomplete) */
			uint32_t len = (uint32_t)(n - 12) + (uint32_t)((x >> 4) & 1);
			memcpy(b, &len, 4);
			static const uint8_t ops[] = { 0x81, 0x82, 0x83, 0x90, 0x91, 0xC0, 0xFF };
			b[4] = ops[(x >> 8) % sizeof ops];
			b[6] = (uint8_t)((x >> 16) % 4);
			b[7] = 0;
		}
		sx_client_reply r;
		size_t used = 0;
		int rc = parse(b, n, &r, &used);
		if (rc == 0) {
			ok++;
			cr_assert_leq(used, n);
			sx_client_item it;
			size_t pos = 0;
			while (sx_client_item_next(&r, &pos, &it)) {
				size_t rp = 0, rn;
				const char *s;
				while (sx_client_record_next(&it, &rp, &s, &rn))
					cr_assert_leq((const uint8_t *)s + rn, b + n);
			}
			cr_assert_leq(pos, r.len);
		} else if (rc == -EAGAIN) {
			again++;
		} else {
			cr_assert(rc == SX_CLIENT_EPROTO || rc == SX_CLIENT_ETOOBIG, "rc %d", rc);
			bad++;
		}
	}
	cr_assert_gt(ok, 0);
	cr_assert_gt(bad, 0);
	cr_assert_gt(again, 0);
}

/* ---- RESP parser ------------------------------------------------------------ */

/* Parse from an exactly-sized heap copy that lives until the next call,
 * so the views in *v stay valid meanwhile. */
static int rparse(const char *s, size_t n, sx_client_resp *v, size_t *used)
{
	static char *last;
	free(last);
	last = malloc(n ? n : 1);
	memcpy(last, s, n);
	return sx_client_resp_parse(last, n, v, used, NULL);
}

#define RP(lit, v, u) rparse(lit, sizeof(lit) - 1, v, u)

Test(resp, scalars)
{
	sx_client_resp v;
	size_t u;
	cr_assert_eq(RP("+PONG\r\n", &v, &u), 0);
	cr_assert_eq(v.type, '+');
	cr_assert_eq(v.len, 4);
	cr_assert_eq(u, 7);
	cr_assert_eq(RP("-ERR bad date '2026-13-01'\r\n", &v, &u), 0);
	cr_assert_eq(v.type, '-');
	cr_assert_eq(RP(":1\r\n", &v, &u), 0);
	cr_assert_eq(v.num, 1);
	cr_assert_eq(RP(":-9223372036854775807\r\n", &v, &u), 0);
	cr_assert_eq(v.num, -9223372036854775807LL);
	cr_assert_eq(RP("$5\r\nhe\r\no\r\n", &v, &u), 0);   /* bulk is binary-safe */
	cr_assert_eq(v.len, 5);
	cr_assert_eq(u, 11);
	cr_assert_eq(RP("$0\r\n\r\n", &v, &u), 0);
	cr_assert_eq(v.len, 0);
	cr_assert_eq(RP("$-1\r\n", &v, &u), 0);
	cr_assert(v.nil);
	cr_assert_eq(RP("*-1\r\n", &v, &u), 0);
	cr_assert(v.nil);
}

Test(resp, check_and_mcheck_replies)
{
	static const char check[] = "*3\r\n$4\r\nDENY\r\n$6\r\nLISTED\r\n$8\r\nA|B|C|SX\r\n";
	sx_client_resp v, e;
	size_t u, pos = 0;
	cr_assert_eq(RP(check, &v, &u), 0);
	cr_assert_eq(u, sizeof check - 1);
	cr_assert_eq(v.type, '*');
	cr_assert_eq(v.num, 3);
	cr_assert_eq(sx_client_resp_next(&v, &pos, &e), 1);
	cr_assert(sx_client_resp_is(&e, "DENY"));
	cr_assert_eq(sx_client_resp_next(&v, &pos, &e), 1);
	cr_assert(sx_client_resp_is(&e, "LISTED"));
	cr_assert_eq(sx_client_resp_next(&v, &pos, &e), 1);
	cr_assert_eq(e.len, 8);
	cr_assert_eq(sx_client_resp_next(&v, &pos, &e), 0);

	static const char mcheck[] =
		"*2\r\n*2\r\n$5\r\nALLOW\r\n$10\r\nNOT_LISTED\r\n-ERR invalid id: x\r\n";
	cr_assert_eq(RP(mcheck, &v, &u), 0);
	pos = 0;
	cr_assert_eq(sx_client_resp_next(&v, &pos, &e), 1);
	cr_assert_eq(e.type, '*');
	cr_assert_eq(e.num, 2);
	cr_assert_eq(sx_client_resp_next(&v, &pos, &e), 1);
	cr_assert_eq(e.type, '-');
	cr_assert_eq(sx_client_resp_next(&v, &pos, &e), 0);

	/* every prefix of a valid reply is incomplete, never an error */
	for (size_t n = 0; n < sizeof mcheck - 1; n++)
		cr_assert_eq(rparse(mcheck, n, &v, &u), -EAGAIN, "prefix %zu", n);
}

Test(resp, malformed_replies_are_refused)
{
	sx_client_resp v;
	size_t u;
	cr_assert_eq(RP("%1\r\n", &v, &u), SX_CLIENT_EPROTO);          /* RESP3 map */
	cr_assert_eq(RP("_\r\n", &v, &u), SX_CLIENT_EPROTO);
	cr_assert_eq(RP("hello\r\n", &v, &u), SX_CLIENT_EPROTO);
	cr_assert_eq(RP(":\r\n", &v, &u), SX_CLIENT_EPROTO);
	cr_assert_eq(RP(":12a\r\n", &v, &u), SX_CLIENT_EPROTO);
	cr_assert_eq(RP(":99999999999999999999\r\n", &v, &u), SX_CLIENT_EPROTO);
	cr_assert_eq(RP("$-2\r\n", &v, &u), SX_CLIENT_EPROTO);
	cr_assert_eq(RP("$3\r\nabcd\r\n", &v, &u), SX_CLIENT_EPROTO);  /* no CRLF after 3 */
	cr_assert_eq(RP("+OK\rX\n", &v, &u), SX_CLIENT_EPROTO);
	cr_assert_eq(RP("+O\nK\r\n", &v, &u), SX_CLIENT_EPROTO);
	cr_assert_eq(RP("*2\r\n:1\r\n?\r\n", &v, &u), SX_CLIENT_EPROTO);
	/* nesting deeper than the limit */
	char deep[64] = "";
	for (int i = 0; i <= SX_CLIENT_MAX_DEPTH; i++)
		strcat(deep, "*1\r\n");
	strcat(deep, ":1\r\n");
	cr_assert_eq(rparse(deep, strlen(deep), &v, &u), SX_CLIENT_EPROTO);
}

Test(resp, oversized_replies_are_refused_before_they_arrive)
{
	sx_client_resp v;
	size_t u;
	cr_assert_eq(RP("$999999999999\r\n", &v, &u), SX_CLIENT_ETOOBIG);
	cr_assert_eq(RP("*999999999999\r\n", &v, &u), SX_CLIENT_ETOOBIG);
	size_t n = SX_CLIENT_MAX_LINE + 10;
	char *line = malloc(n);
	line[0] = '+';
	memset(line + 1, 'a', n - 1);
	cr_assert_eq(rparse(line, n, &v, &u), SX_CLIENT_ETOOBIG);
	free(line);
}

Test(resp, random_garbage_never_crashes)
{
	static const char alphabet[] = "+-:$*\r\n0123456789-abc";
	uint64_t x = 88172645463325252ull;
	char b[200];
	for (int round = 0; round < 200000; round++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		size_t n = x % sizeof b;
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			b[i] = alphabet[(x >> 20) % (sizeof alphabet - 1)];
		}
		sx_client_resp v;
		size_t u = 0;
		int rc = rparse(b, n, &v, &u);
		cr_assert(rc == 0 || rc == -EAGAIN || rc == SX_CLIENT_EPROTO ||
		          rc == SX_CLIENT_ETOOBIG, "rc %d", rc);
		if (rc == 0)
			cr_assert_leq(u, n);
	}
}

/* ---- against a scripted server ---------------------------------------------- */

typedef struct script {
	int lfd, port;
	const void *reply;       /* sent after the HELLO reply and one request */
	size_t replylen;
	int close_after;
} script;

static void send_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

static void *serve(void *arg)
{
	script *s = arg;
	int fd = accept(s->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	uint8_t in[256];
	recv(fd, in, sizeof in, 0);          /* HELLO */
	buf h;
	header(&h, 12, 0x81, 0, in[8] | in[9] << 8);
	u16(&h, 1); u16(&h, 0); u32(&h, SXB_MAX_BODY); u32(&h, 4096);
	send_all(fd, h.b, h.n);
	recv(fd, in, sizeof in, 0);          /* the request */
	send_all(fd, s->reply, s->replylen);
	if (!s->close_after)
		recv(fd, in, sizeof in, 0);      /* until the client closes */
	close(fd);
	return NULL;
}

static void start(script *s, pthread_t *th)
{
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	cr_assert_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
	cr_assert_eq(listen(s->lfd, 1), 0);
	getsockname(s->lfd, (struct sockaddr *)&a, &al);
	s->port = ntohs(a.sin_port);
	pthread_create(th, NULL, serve, s);
}

static int check_against(const void *reply, size_t n, int close_after,
                         char *msg, size_t cap)
{
	script s = { .reply = reply, .replylen = n, .close_after = close_after };
	pthread_t th;
	start(&s, &th);
	sx_client *cli;
	char err[256];
	int rc = sx_client_connect("127.0.0.1", s.port, SX_CLIENT_BINARY, 2000, &cli,
	                           err, sizeof err);
	cr_assert_eq(rc, 0, "connect: %s", err);
	cr_assert_eq(sx_client_version(cli), 1);
	cr_assert_eq(sx_client_max_batch(cli), 4096);
	sx_client_result r;
	rc = sx_client_check(cli, "350304197806263293", "air", NULL, NULL, "2026-01-10", &r);
	if (rc == 0)
		sx_client_result_free(&r);
	snprintf(msg, cap, "%s", sx_client_errmsg(cli));
	/* a broken connection stays broken */
	if (rc && rc != SX_CLIENT_ESERVER)
		cr_assert_eq(sx_client_ping(cli), rc);
	sx_client_close(cli);
	pthread_join(th, NULL);
	close(s.lfd);
	return rc;
}

Test(live, a_good_reply_is_read)
{
	buf f;
	header(&f, 0, 0x90, 1, 2);   /* req 1 was HELLO, the CHECK is 2 */
	u8(&f, 0); u8(&f, 1); u8(&f, 0); u8(&f, 0); u16(&f, 1);
	u16(&f, strlen(REC)); bytes(&f, REC, strlen(REC));
	fix_len(&f);
	char msg[256];
	cr_assert_eq(check_against(f.b, f.n, 0, msg, sizeof msg), 0, "%s", msg);
}

Test(live, an_oversized_frame_is_an_error)
{
	static const uint8_t f[12] = { 0xff, 0xff, 0xff, 0x7f, 0x90, 0, 1, 0, 2, 0, 0, 0 };
	char msg[256];
	cr_assert_eq(check_against(f, sizeof f, 0, msg, sizeof msg), SX_CLIENT_ETOOBIG);
}

Test(live, a_garbled_body_is_an_error)
{
	buf f;
	header(&f, 0, 0x90, 1, 2);
	u8(&f, 9); u8(&f, 1); u8(&f, 0); u8(&f, 0); u16(&f, 0);
	fix_len(&f);
	char msg[256];
	cr_assert_eq(check_against(f.b, f.n, 0, msg, sizeof msg), SX_CLIENT_EPROTO);
	cr_assert(strstr(msg, "unknown kind"), "%s", msg);
}

Test(live, a_reply_to_another_request_is_an_error)
{
	buf f;
	header(&f, 0, 0x90, 1, 99);
	u8(&f, 0); u8(&f, 0); u8(&f, 4); u8(&f, 0); u16(&f, 0);
	fix_len(&f);
	char msg[256];
	cr_assert_eq(check_against(f.b, f.n, 0, msg, sizeof msg), SX_CLIENT_EPROTO);
}

Test(live, a_close_in_the_middle_of_a_frame_is_an_error)
{
	buf f;
	check_reply(&f);
	char msg[256];
	cr_assert_eq(check_against(f.b, f.n - 5, 1, msg, sizeof msg), SX_CLIENT_ECLOSED);
	cr_assert(strstr(msg, "middle"), "%s", msg);
}

Test(live, an_error_frame_is_the_servers_refusal)
{
	buf f;
	header(&f, 0, 0xFF, 0, 2);
	u16(&f, 25); bytes(&f, "ERR unknown channel 'bus'", 25);
	fix_len(&f);
	char msg[256];
	cr_assert_eq(check_against(f.b, f.n, 0, msg, sizeof msg), SX_CLIENT_ESERVER);
	cr_assert_str_eq(msg, "ERR unknown channel 'bus'");
}
