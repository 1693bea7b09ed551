/*
 * test_resp.c - the RESP2 parser and writers (server/resp.h) on their own,
 * without a server: whole commands in both request forms, partial input
 * answered MORE with a `need` that is really enough, the protocol errors
 * in Redis's words, inline quoting as redis-cli quotes, and the exact
 * bytes every writer appends.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "obuf.h"
#include "resp.h"

static sx_str argv_[SX_RESP_MAX_ARGS];

typedef struct parsed {
	int rc;
	size_t argc, used, need;
	char err[256];
	char *buf;            /* the copy parsed (argv points into it) */
} parsed;

/* Parse the first n bytes of s from a heap copy of exactly n bytes, so a
 * read past the end is a real overrun (and ASan's business). */
static parsed parse_n(const char *s, size_t n)
{
	parsed r = { 0 };
	r.buf = malloc(n ? n : 1);
	cr_assert_not_null(r.buf);
	memcpy(r.buf, s, n);
	r.argc = r.used = r.need = (size_t)-7;   /* untouched marker */
	r.rc = sx_resp_parse(r.buf, n, argv_, &r.argc, &r.used, &r.need, r.err,
	                     sizeof r.err);
	return r;
}

static parsed parse(const char *s)
{
	return parse_n(s, strlen(s));
}

static void expect_arg(size_t i, const char *want, size_t n)
{
	cr_assert_eq(argv_[i].n, n, "argv[%zu] length %zu, want %zu", i,
	             argv_[i].n, n);
	cr_assert(memcmp(argv_[i].p, want, n) == 0, "argv[%zu] = '%.*s', want '%.*s'",
	          i, (int)argv_[i].n, argv_[i].p, (int)n, want);
}
#define ARG(i, lit) expect_arg((i), (lit), sizeof(lit) - 1)

static void expect_err(const char *in, size_t n, const char *msg)
{
	parsed r = parse_n(in, n);
	cr_assert_eq(r.rc, SX_RESP_EPROTO, "'%.*s': rc %d, want EPROTO", (int)(n > 60 ? 60 : n),
	             in, r.rc);
	cr_assert_str_eq(r.err, msg, "'%.*s'", (int)(n > 60 ? 60 : n), in);
	free(r.buf);
}
#define ERR(lit, msg) expect_err((lit), sizeof(lit) - 1, (msg))

/* ---- multibulk ---------------------------------------------------------- */

Test(resp, multibulk_whole_command)
{
	static const char in[] = "*3\r\n$5\r\nCHECK\r\n$0\r\n\r\n$4\r\nr\na\0\r\nrest";
	parsed r = parse_n(in, sizeof in - 1);
	cr_assert_eq(r.rc, SX_RESP_DONE, "%s", r.err);
	cr_assert_eq(r.argc, 3);
	cr_assert_eq(r.used, sizeof in - 1 - 4);
	ARG(0, "CHECK");
	ARG(1, "");
	expect_arg(2, "r\na\0", 4);     /* binary-safe: LF and NUL inside a bulk */
	cr_assert(argv_[0].p >= r.buf && argv_[0].p < r.buf + r.used,
	          "argv points into the buffer given");
	free(r.buf);
}

Test(resp, multibulk_binary_bytes_and_pipeline)
{
	static const char in[] = "*1\r\n$3\r\na\0b\r\n*1\r\n$4\r\nPING\r\n";
	size_t n = sizeof in - 1;
	parsed r = parse_n(in, n);
	cr_assert_eq(r.rc, SX_RESP_DONE);
	cr_assert_eq(r.argc, 1);
	expect_arg(0, "a\0b", 3);
	cr_assert_eq(r.used, 13);
	/* the next command of the pipeline from where the first ended */
	size_t argc, used, need;
	char err[128];
	int rc = sx_resp_parse(r.buf + r.used, n - r.used, argv_, &argc, &used,
	                       &need, err, sizeof err);
	cr_assert_eq(rc, SX_RESP_DONE);
	cr_assert_eq(argc, 1);
	ARG(0, "PING");
	cr_assert_eq(used, n - r.used);
	free(r.buf);
}

Test(resp, empty_multibulk_is_an_empty_command)
{
	parsed r = parse("*0\r\n");
	cr_assert_eq(r.rc, SX_RESP_DONE);
	cr_assert_eq(r.argc, 0);
	cr_assert_eq(r.used, 4);
	free(r.buf);
}

/* Every proper prefix of a command is MORE with len < need, and feeding
 * need bytes (or more) never ends in MORE with the same need: the parser
 * makes progress, and the need it names is never beyond the command. */
static void prefixes(const char *cmd, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		parsed r = parse_n(cmd, k);
		cr_assert_eq(r.rc, SX_RESP_MORE, "prefix of %zu of %zu bytes: rc %d (%s)",
		             k, n, r.rc, r.err);
		cr_assert_gt(r.need, k, "prefix %zu: need %zu is not more than len", k, r.need);
		cr_assert_leq(r.need, n, "prefix %zu: need %zu beyond the %zu-byte command",
		              k, r.need, n);
		free(r.buf);
	}
	parsed r = parse_n(cmd, n);
	cr_assert_eq(r.rc, SX_RESP_DONE, "%zu bytes: rc %d (%s)", n, r.rc, r.err);
	cr_assert_eq(r.used, n);
	free(r.buf);
}

Test(resp, every_prefix_is_more_with_a_sound_need)
{
	static const char mb[] = "*3\r\n$5\r\nMSETX\r\n$10\r\n0123456789\r\n$0\r\n\r\n";
	prefixes(mb, sizeof mb - 1);
	static const char il[] = "CHECK 110101 rail \"a b\"\r\n";
	prefixes(il, sizeof il - 1);
}

Test(resp, big_bulk_need_names_the_whole_argument)
{
	/* a 1 MiB bulk arriving in small reads is parsed once: as soon as its
	 * header is there, need names the end of the bulk and its CRLF */
	char hdr[64];
	int h = snprintf(hdr, sizeof hdr, "*2\r\n$3\r\nSET\r\n$%u\r\nxyz", SX_RESP_MAX_BULK);
	parsed r = parse_n(hdr, (size_t)h);
	cr_assert_eq(r.rc, SX_RESP_MORE);
	cr_assert_eq(r.need, (size_t)h - 3 + SX_RESP_MAX_BULK + 2);
	free(r.buf);

	/* and the maximum itself parses */
	size_t n = (size_t)h - 3 + SX_RESP_MAX_BULK + 2;
	char *big = malloc(n);
	memcpy(big, hdr, (size_t)h - 3);
	memset(big + h - 3, 'x', SX_RESP_MAX_BULK);
	memcpy(big + n - 2, "\r\n", 2);
	r = parse_n(big, n);
	cr_assert_eq(r.rc, SX_RESP_DONE, "%s", r.err);
	cr_assert_eq(argv_[1].n, SX_RESP_MAX_BULK);
	free(r.buf);
	free(big);
}

Test(resp, multibulk_protocol_errors)
{
	ERR("*x\r\n", "Protocol error: invalid multibulk length");
	ERR("*\r\n", "Protocol error: invalid multibulk length");
	ERR("*-1\r\n", "Protocol error: invalid multibulk length");
	ERR("*1x\r\n", "Protocol error: invalid multibulk length");
	ERR("*1\rx", "Protocol error: invalid multibulk length");
	ERR("*1234567890123456789\r\n", "Protocol error: invalid multibulk length");
	ERR("*65537\r\n", "Protocol error: invalid multibulk length");
	ERR("*1\r\n+PING\r\n", "Protocol error: expected '$', got '+'");
	ERR("*1\r\n\x01", "Protocol error: expected '$', got '?'");
	ERR("*1\r\n$x\r\n", "Protocol error: invalid bulk length");
	ERR("*1\r\n$-1\r\n", "Protocol error: invalid bulk length");
	ERR("*1\r\n$1048577\r\n", "Protocol error: invalid bulk length");
	ERR("*1\r\n$3\r\nabcXY", "Protocol error: bulk string not terminated by CRLF");
	ERR("*1\r\n$3\r\nabc\rX", "Protocol error: bulk string not terminated by CRLF");
}

Test(resp, too_many_args_is_an_error_and_the_maximum_is_not)
{
	parsed r = parse("*65536\r\n");
	cr_assert_eq(r.rc, SX_RESP_MORE, "65536 arguments are allowed (%s)", r.err);
	free(r.buf);
	/* 65536 empty arguments: a whole command of the maximum size */
	size_t n = 8 + 65536 * 6;
	char *b = malloc(n);
	memcpy(b, "*65536\r\n", 8);
	for (size_t i = 0; i < 65536; i++)
		memcpy(b + 8 + i * 6, "$0\r\n\r\n", 6);
	r = parse_n(b, n);
	cr_assert_eq(r.rc, SX_RESP_DONE, "%s", r.err);
	cr_assert_eq(r.argc, 65536);
	free(r.buf);
	free(b);
}

Test(resp, oversized_header_line_is_an_error_not_more)
{
	/* a header with no CR after 64 KiB: stop waiting, refuse */
	size_t n = SX_RESP_MAX_INLINE + 16;
	char *b = malloc(n);
	b[0] = '*';
	memset(b + 1, '1', n - 1);
	parsed r = parse_n(b, n);
	cr_assert_eq(r.rc, SX_RESP_EPROTO);
	cr_assert_str_eq(r.err, "Protocol error: too big mbulk count string");
	free(r.buf);
	memcpy(b, "*1\r\n$", 5);
	memset(b + 5, '1', n - 5);
	r = parse_n(b, n);
	cr_assert_eq(r.rc, SX_RESP_EPROTO);
	cr_assert_str_eq(r.err, "Protocol error: too big bulk count string");
	free(r.buf);
	free(b);
}

/* ---- inline ---------------------------------------------------------------- */

Test(resp, inline_words)
{
	parsed r = parse("  CHECK\t110101  rail \r\nnext");
	cr_assert_eq(r.rc, SX_RESP_DONE);
	cr_assert_eq(r.argc, 3);
	ARG(0, "CHECK");
	ARG(1, "110101");
	ARG(2, "rail");
	cr_assert_eq(r.used, strlen("  CHECK\t110101  rail \r\n"));
	free(r.buf);

	r = parse("PING\n");          /* LF alone ends a line too */
	cr_assert_eq(r.rc, SX_RESP_DONE);
	cr_assert_eq(r.argc, 1);
	cr_assert_eq(r.used, 5);
	free(r.buf);

	r = parse("\r\n");            /* an empty line: nothing to run */
	cr_assert_eq(r.rc, SX_RESP_DONE);
	cr_assert_eq(r.argc, 0);
	cr_assert_eq(r.used, 2);
	free(r.buf);
}

Test(resp, inline_quoting_as_redis_cli)
{
	parsed r = parse("SET \"a b\" 'c d' \"q\\\"x\" 'it\\'s' \"\\x41\\x7a\\n\\t\\r\\b\\a\\\\\" \"\" ''\r\n");
	cr_assert_eq(r.rc, SX_RESP_DONE, "%s", r.err);
	cr_assert_eq(r.argc, 8);
	ARG(0, "SET");
	ARG(1, "a b");
	ARG(2, "c d");
	ARG(3, "q\"x");
	ARG(4, "it's");
	ARG(5, "Az\n\t\r\b\a\\");
	ARG(6, "");
	ARG(7, "");
	free(r.buf);

	/* single quotes keep backslashes other than \' */
	r = parse("'a\\nb'\n");
	cr_assert_eq(r.rc, SX_RESP_DONE);
	ARG(0, "a\\nb");
	free(r.buf);

	/* \x with non-hex digits is an escaped 'x' followed by the rest */
	r = parse("\"\\xZZ\"\n");
	cr_assert_eq(r.rc, SX_RESP_DONE);
	ARG(0, "xZZ");
	free(r.buf);

	/* a quote inside a word opens quoting, as sdssplitargs does */
	r = parse("ab\"c d\"\n");
	cr_assert_eq(r.rc, SX_RESP_DONE);
	cr_assert_eq(r.argc, 1);
	ARG(0, "abc d");
	free(r.buf);
}

Test(resp, inline_quoting_errors)
{
	ERR("SET \"abc\n", "Protocol error: unbalanced quotes in request");
	ERR("SET 'abc\n", "Protocol error: unbalanced quotes in request");
	ERR("SET \"a\"b\n", "Protocol error: unbalanced quotes in request");
	ERR("SET 'a'b\n", "Protocol error: unbalanced quotes in request");
	ERR("SET \"abc\\\"\n", "Protocol error: unbalanced quotes in request");
}

Test(resp, inline_too_big)
{
	size_t n = SX_RESP_MAX_INLINE + 2;
	char *b = malloc(n);
	memset(b, 'a', n);
	parsed r = parse_n(b, SX_RESP_MAX_INLINE);   /* at the limit: wait */
	cr_assert_eq(r.rc, SX_RESP_MORE);
	cr_assert_eq(r.need, SX_RESP_MAX_INLINE + 1);
	free(r.buf);
	r = parse_n(b, SX_RESP_MAX_INLINE + 1);      /* past it, no newline */
	cr_assert_eq(r.rc, SX_RESP_EPROTO);
	cr_assert_str_eq(r.err, "Protocol error: too big inline request");
	free(r.buf);
	b[n - 1] = '\n';                             /* a line one too long */
	r = parse_n(b, n);
	cr_assert_eq(r.rc, SX_RESP_EPROTO);
	cr_assert_str_eq(r.err, "Protocol error: too big inline request");
	free(r.buf);
	b[SX_RESP_MAX_INLINE] = '\n';                /* the longest line */
	r = parse_n(b, SX_RESP_MAX_INLINE + 1);
	cr_assert_eq(r.rc, SX_RESP_DONE, "%s", r.err);
	cr_assert_eq(r.argc, 1);
	cr_assert_eq(argv_[0].n, SX_RESP_MAX_INLINE);
	free(r.buf);
	free(b);
}

Test(resp, empty_input_needs_one_byte)
{
	parsed r = parse_n("", 0);
	cr_assert_eq(r.rc, SX_RESP_MORE);
	cr_assert_eq(r.need, 1);
	free(r.buf);
}

/* ---- writers ------------------------------------------------------------- */

/* Everything pending in ob as one string (malloc'd), *n its length. */
static char *drain(sx_obuf *ob, size_t *n)
{
	struct iovec iov[64];
	int k = sx_obuf_iov(ob, iov, 64);
	size_t total = 0;
	for (int i = 0; i < k; i++)
		total += iov[i].iov_len;
	cr_assert_eq(total, ob->pending);
	char *s = malloc(total + 1);
	size_t o = 0;
	for (int i = 0; i < k; i++) {
		memcpy(s + o, iov[i].iov_base, iov[i].iov_len);
		o += iov[i].iov_len;
	}
	s[o] = 0;
	*n = o;
	sx_obuf_consume(ob, total);
	return s;
}

static void expect_out(sx_obuf *ob, const char *want, size_t wn)
{
	size_t n;
	char *got = drain(ob, &n);
	cr_assert(n == wn && memcmp(got, want, n) == 0, "wrote '%s' (%zu bytes), want '%s'",
	          got, n, want);
	free(got);
}
#define OUT(ob, lit) expect_out((ob), (lit), sizeof(lit) - 1)

Test(resp, writers_exact_bytes)
{
	sx_obuf ob;
	sx_obuf_init(&ob);
	sx_resp_simple(&ob, "OK", 2);
	OUT(&ob, "+OK\r\n");
	sx_resp_error(&ob, "ERR bad\r\nthing\n", 15);
	OUT(&ob, "-ERR bad  thing \r\n");
	sx_resp_errorf(&ob, "ERR line %d\rcol %s", 3, "x\ny");
	OUT(&ob, "-ERR line 3 col x y\r\n");
	sx_resp_bulk(&ob, "a\0b", 3);
	OUT(&ob, "$3\r\na\0b\r\n");
	sx_resp_bulk(&ob, "", 0);
	OUT(&ob, "$0\r\n\r\n");
	sx_resp_array(&ob, 0);
	sx_resp_array(&ob, 12);
	OUT(&ob, "*0\r\n*12\r\n");
	sx_resp_int(&ob, 0);
	sx_resp_int(&ob, -1);
	sx_resp_int(&ob, 1234567890123LL);
	OUT(&ob, ":0\r\n:-1\r\n:1234567890123\r\n");
	sx_resp_int(&ob, INT64_MAX);
	sx_resp_int(&ob, INT64_MIN);
	OUT(&ob, ":9223372036854775807\r\n:-9223372036854775808\r\n");
	sx_resp_lit(&ob, "+PONG\r\n");
	OUT(&ob, "+PONG\r\n");
	sx_obuf_free(&ob);
}

Test(resp, errorf_truncates_long_messages)
{
	sx_obuf ob;
	sx_obuf_init(&ob);
	char longmsg[3000];
	memset(longmsg, 'e', sizeof longmsg - 1);
	longmsg[sizeof longmsg - 1] = 0;
	sx_resp_errorf(&ob, "ERR %s", longmsg);
	size_t n;
	char *got = drain(&ob, &n);
	cr_assert_eq(n, 1 + 1023 + 2, "one '-', 1023 bytes of message, CRLF: got %zu", n);
	cr_assert(got[0] == '-' && got[n - 2] == '\r' && got[n - 1] == '\n');
	free(got);
	sx_obuf_free(&ob);
}

Test(resp, writers_spill_across_chunks)
{
	/* replies that do not fit the first chunk are still whole and in order */
	sx_obuf ob;
	sx_obuf_init(&ob);
	static char blob[40000];
	memset(blob, 'z', sizeof blob);
	for (int i = 0; i < 3; i++) {
		sx_resp_int(&ob, i);
		sx_resp_bulk(&ob, blob, sizeof blob);
		sx_resp_error(&ob, blob, 9000);
	}
	size_t n;
	char *got = drain(&ob, &n);
	size_t one = 4 + 8 + sizeof blob + 2 + 1 + 9000 + 2;
	cr_assert_eq(n, 3 * one);
	for (int i = 0; i < 3; i++) {
		const char *p = got + i * one;
		char want[16];
		snprintf(want, sizeof want, ":%d\r\n$40000\r\n", i);
		cr_assert(memcmp(p, want, 12) == 0, "reply %d header", i);
		cr_assert_eq(p[12 + sizeof blob], '\r');
		cr_assert_eq(p[12 + sizeof blob + 2], '-');
	}
	free(got);
	sx_obuf_free(&ob);
}

Test(resp, u64toa)
{
	char b[24];
	cr_assert_eq(sx_u64toa(0, b), 1);
	cr_assert(memcmp(b, "0", 1) == 0);
	cr_assert_eq(sx_u64toa(UINT64_MAX, b), 20);
	cr_assert(memcmp(b, "18446744073709551615", 20) == 0);
	cr_assert_eq(sx_u64toa(1000, b), 4);
	cr_assert(memcmp(b, "1000", 4) == 0);
}
