/*
 * test_http.c - the HTTP/1.1 request parser and response writers
 * (server/http.h): whole requests, requests arriving a byte at a time,
 * pipelined requests, keep-alive rules, every refusal with its status,
 * and the response head.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define MAXBODY 1024

static sx_http_req R;

static int parse(const char *s)
{
	return sx_http_parse(s, strlen(s), MAXBODY, &R);
}

static int str_eq(sx_str s, const char *lit)
{
	return s.n == strlen(lit) && !memcmp(s.p, lit, s.n);
}

#define assert_str(s, lit) \
	cr_assert(str_eq((s), (lit)), "'%.*s' != '%s'", (int)(s).n, (s).p ? (s).p : "", (lit))

/* Expect an error with status for the whole of s. */
static void refused(const char *s, int status)
{
	int rc = parse(s);
	cr_assert_eq(rc, SX_HTTP_ERROR, "'%s': rc %d, not an error", s, rc);
	cr_assert_eq(R.status, status, "'%s': status %d (%s), expected %d", s, R.status,
	             R.why, status);
	cr_assert_not_null(R.why);
}

/* ---- whole requests ------------------------------------------------------ */

Test(http_parse, simple_get)
{
	const char *s = "GET /metrics HTTP/1.1\r\nHost: localhost:9100\r\n"
	                "User-Agent: Prometheus/2.42\r\nAccept: text/plain\r\n\r\n";
	cr_assert_eq(parse(s), SX_HTTP_DONE);
	assert_str(R.method, "GET");
	assert_str(R.target, "/metrics");
	assert_str(R.path, "/metrics");
	cr_assert_eq(R.has_query, 0);
	cr_assert_eq(R.query.n, 0);
	cr_assert_eq(R.minor, 1);
	cr_assert_eq(R.keep_alive, 1);
	assert_str(R.host, "localhost:9100");
	cr_assert_eq(R.connection.n, 0);
	cr_assert_eq(R.authorization.n, 0);
	cr_assert_eq(R.has_content_length, 0);
	cr_assert_eq(R.body.n, 0);
	cr_assert_eq(R.used, strlen(s));
	cr_assert_eq(R.head_len, strlen(s));
	cr_assert_eq(R.nheaders, 3);
	const sx_str *ua = sx_http_header_get(&R, "user-agent");
	cr_assert_not_null(ua);
	assert_str(*ua, "Prometheus/2.42");
	cr_assert_null(sx_http_header_get(&R, "X-Missing"));
}

Test(http_parse, query_string_split)
{
	cr_assert_eq(parse("GET /health?verbose=1&x=%20 HTTP/1.0\r\n\r\n"), SX_HTTP_DONE);
	assert_str(R.path, "/health");
	assert_str(R.query, "verbose=1&x=%20");
	cr_assert_eq(R.has_query, 1);
	assert_str(R.target, "/health?verbose=1&x=%20");
	cr_assert_eq(parse("GET /a? HTTP/1.0\r\n\r\n"), SX_HTTP_DONE);
	assert_str(R.path, "/a");
	cr_assert_eq(R.has_query, 1);
	cr_assert_eq(R.query.n, 0);
}

Test(http_parse, absolute_form_and_asterisk)
{
	cr_assert_eq(parse("GET http://h:1/metrics?q=1 HTTP/1.1\r\nHost: h:1\r\n\r\n"), SX_HTTP_DONE);
	assert_str(R.path, "/metrics");
	assert_str(R.query, "q=1");
	cr_assert_eq(parse("GET http://h:1 HTTP/1.1\r\nHost: h:1\r\n\r\n"), SX_HTTP_DONE);
	assert_str(R.path, "/");
	cr_assert_eq(parse("GET http://h:1?z HTTP/1.1\r\nHost: h:1\r\n\r\n"), SX_HTTP_DONE);
	assert_str(R.path, "/");
	assert_str(R.query, "z");
	cr_assert_eq(parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), SX_HTTP_DONE);
	assert_str(R.method, "OPTIONS");
	assert_str(R.path, "*");
}

Test(http_parse, header_values_are_trimmed_and_names_case_insensitive)
{
	cr_assert_eq(parse("GET / HTTP/1.1\r\nhOsT:\t  example  \t\r\n"
	                   "AUTHORIZATION: Bearer abc def\r\nX-Empty:\r\n\r\n"), SX_HTTP_DONE);
	assert_str(R.host, "example");
	assert_str(R.authorization, "Bearer abc def");
	const sx_str *e = sx_http_header_get(&R, "x-empty");
	cr_assert_not_null(e);
	cr_assert_eq(e->n, 0);
}

Test(http_parse, bare_lf_and_leading_empty_lines)
{
	cr_assert_eq(parse("GET /x HTTP/1.0\nA: b\n\n"), SX_HTTP_DONE);
	assert_str(R.path, "/x");
	cr_assert_eq(R.used, strlen("GET /x HTTP/1.0\nA: b\n\n"));
	const char *s = "\r\n\r\nGET /y HTTP/1.0\r\n\r\n";
	cr_assert_eq(parse(s), SX_HTTP_DONE);
	assert_str(R.path, "/y");
	cr_assert_eq(R.used, strlen(s));
}

Test(http_parse, body_by_content_length)
{
	const char *s = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET";
	cr_assert_eq(parse(s), SX_HTTP_DONE);
	cr_assert_eq(R.has_content_length, 1);
	cr_assert_eq(R.content_length, 5);
	assert_str(R.body, "hello");
	cr_assert_eq(R.used, strlen(s) - 3);
	/* The same length twice is one length (RFC 9112 6.3). */
	cr_assert_eq(parse("POST /x HTTP/1.0\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab"),
	             SX_HTTP_DONE);
	assert_str(R.body, "ab");
	/* Body incomplete: need the whole of it. */
	s = "POST /x HTTP/1.0\r\nContent-Length: 10\r\n\r\nabc";
	cr_assert_eq(parse(s), SX_HTTP_MORE);
	cr_assert_eq(R.need, strlen(s) + 7);
	/* Exactly max_body is allowed. */
	char big[2048];
	int n = snprintf(big, sizeof big, "PUT / HTTP/1.0\r\nContent-Length: %d\r\n\r\n", MAXBODY);
	memset(big + n, 'x', MAXBODY);
	cr_assert_eq(sx_http_parse(big, (size_t)n + MAXBODY, MAXBODY, &R), SX_HTTP_DONE);
	cr_assert_eq(R.body.n, MAXBODY);
}

/* ---- keep-alive ------------------------------------------------------------ */

Test(http_parse, keep_alive_rules)
{
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), SX_HTTP_DONE);
	cr_assert_eq(R.keep_alive, 1);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"), SX_HTTP_DONE);
	cr_assert_eq(R.keep_alive, 0);
	assert_str(R.connection, "close");
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n"), SX_HTTP_DONE);
	cr_assert_eq(R.keep_alive, 0);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n"
	                   "Connection: close\r\n\r\n"), SX_HTTP_DONE);
	cr_assert_eq(R.keep_alive, 0, "close in any Connection line wins");
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n"), SX_HTTP_DONE);
	cr_assert_eq(R.keep_alive, 1, "'closed' is not 'close'");
	cr_assert_eq(parse("GET / HTTP/1.0\r\n\r\n"), SX_HTTP_DONE);
	cr_assert_eq(R.keep_alive, 0);
	cr_assert_eq(R.minor, 0);
	cr_assert_eq(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), SX_HTTP_DONE);
	cr_assert_eq(R.keep_alive, 1);
	cr_assert_eq(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"), SX_HTTP_DONE);
	cr_assert_eq(R.keep_alive, 0);
}

Test(http_parse, has_token)
{
	cr_assert(sx_http_has_token((sx_str){ "a, b ,c", 7 }, "b"));
	cr_assert(sx_http_has_token((sx_str){ "a, b ,c", 7 }, "c"));
	cr_assert(!sx_http_has_token((sx_str){ "a, b ,c", 7 }, "d"));
	cr_assert(!sx_http_has_token((sx_str){ "ab", 2 }, "a"));
	cr_assert(!sx_http_has_token((sx_str){ "", 0 }, "a"));
}

/* ---- arrival in pieces, pipelining ---------------------------------------- */

Test(http_parse, byte_by_byte_is_more_until_the_last_byte)
{
	static const char *const reqs[] = {
		"GET /metrics HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world",
		"GET / HTTP/1.0\n\n",
		"\r\nHEAD /health?x HTTP/1.0\r\nA:\r\n\r\n",
	};
	for (size_t k = 0; k < sizeof reqs / sizeof reqs[0]; k++) {
		const char *s = reqs[k];
		size_t n = strlen(s);
		char *buf = malloc(n);       /* exactly the bytes: ASan sees overreads */
		memcpy(buf, s, n);
		for (size_t i = 0; i < n; i++) {
			int rc = sx_http_parse(buf, i, MAXBODY, &R);
			cr_assert_eq(rc, SX_HTTP_MORE, "request %zu, %zu bytes: rc %d (%s)", k, i, rc,
			             rc == SX_HTTP_ERROR ? R.why : "done");
			cr_assert(R.need > i && R.need <= n, "request %zu, %zu bytes: need %zu of %zu",
			          k, i, R.need, n);
		}
		cr_assert_eq(sx_http_parse(buf, n, MAXBODY, &R), SX_HTTP_DONE, "request %zu", k);
		cr_assert_eq(R.used, n);
		free(buf);
	}
}

Test(http_parse, pipelined_requests_one_after_another)
{
	const char *s = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
	                "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
	                "GET /c?q HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
	                "GET /d HT";
	const char *want[] = { "/a", "/b", "/c" };
	size_t pos = 0, len = strlen(s);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(sx_http_parse(s + pos, len - pos, MAXBODY, &R), SX_HTTP_DONE, "request %d", i);
		assert_str(R.path, want[i]);
		cr_assert_eq(R.keep_alive, i < 2);
		pos += R.used;
	}
	assert_str(R.query, "q");
	cr_assert_eq(sx_http_parse(s + pos, len - pos, MAXBODY, &R), SX_HTTP_MORE);
}

/* ---- refusals ------------------------------------------------------------- */

Test(http_parse, malformed_request_line_is_400)
{
	refused("garbage\r\n\r\n", 400);
	refused("GET\r\n\r\n", 400);
	refused("GET /\r\n\r\n", 400);
	refused("GET  / HTTP/1.1\r\n\r\n", 400);
	refused("GET / HTTP/1.1 \r\n\r\n", 400);
	refused(" GET / HTTP/1.1\r\n\r\n", 400);
	refused("GET / http/1.1\r\n\r\n", 400);
	refused("GET / HTTP/1\r\n\r\n", 400);
	refused("GET / HTTP/1.10\r\n\r\n", 400);
	refused("GET / HTTP/a.b\r\n\r\n", 400);
	refused("G(T / HTTP/1.1\r\n\r\n", 400);
	refused("GET /a\x01 HTTP/1.1\r\n\r\n", 400);
	refused("GET /\rx HTTP/1.1\r\n\r\n", 400);
	refused("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400);  /* TLS hello */
	refused("*1\r\n$4\r\nPING\r\n", 400);                          /* RESP */
}

Test(http_parse, errors_are_found_before_the_line_ends)
{
	refused("GE\x01", 400);
	refused("GET /x\x7f", 400);
	refused("GET / XTTP", 400);
	refused("GET / HTTP/1.1\r\nHost: h\r\nBad Name", 400);
	refused("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01", 400);
	refused("GET / HTTP/1.1\r\r", 400);
}

Test(http_parse, malformed_header_is_400)
{
	refused("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400);
	refused("GET / HTTP/1.1\r\nHost: h\r\nName : v\r\n\r\n", 400);
	refused("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400);
	refused("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n", 400);
	cr_assert_eq(sx_http_parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 33, MAXBODY, &R),
	             SX_HTTP_ERROR);
	cr_assert_eq(R.status, 400);
	refused("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400);
}

Test(http_parse, host_rules_are_400)
{
	refused("GET / HTTP/1.1\r\n\r\n", 400);
	refused("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
	/* Authorization is a singleton (RFC 9110 11.6.2): two of them are one
	 * request that a proxy and sxgated may read as different tenants */
	refused("GET /v1/listed?id=1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer a:1\r\n"
	        "authorization: Bearer b:2\r\n\r\n", 400);
	cr_assert_eq(parse("GET / HTTP/1.0\r\n\r\n"), SX_HTTP_DONE);
}

Test(http_parse, unknown_version_is_505)
{
	refused("GET / HTTP/9.9\r\nHost: h\r\n\r\n", 505);
	refused("GET / HTTP/2.0\r\n\r\n", 505);
	refused("GET / HTTP/1.2\r\n\r\n", 505);
	refused("GET / HTTP/0.9\r\n\r\n", 505);
	/* Until the line is complete it may still become HTTP/1.1. */
	cr_assert_eq(parse("GET / HTTP/9.9"), SX_HTTP_MORE);
}

Test(http_parse, head_over_8k_is_431)
{
	size_t n = 100 * 1024;
	char *s = malloc(n + 1);
	int h = snprintf(s, n, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
	memset(s + h, 'a', n - (size_t)h);
	s[n] = 0;
	refused(s, 431);
	/* Refused as soon as 8 KiB are here without the end of the head. */
	cr_assert_eq(sx_http_parse(s, SX_HTTP_MAX_HEAD, MAXBODY, &R), SX_HTTP_ERROR);
	cr_assert_eq(R.status, 431);
	cr_assert_eq(sx_http_parse(s, SX_HTTP_MAX_HEAD - 1, MAXBODY, &R), SX_HTTP_MORE);
	/* A long request line is the same. */
	memcpy(s, "GET /", 5);
	memset(s + 5, 'a', n - 5);
	refused(s, 431);
	/* A head of exactly 8 KiB is accepted. */
	h = snprintf(s, n, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
	size_t pad = SX_HTTP_MAX_HEAD - (size_t)h - 4;
	memset(s + h, 'a', pad);
	memcpy(s + h + pad, "\r\n\r\n", 5);
	cr_assert_eq(strlen(s), SX_HTTP_MAX_HEAD);
	cr_assert_eq(parse(s), SX_HTTP_DONE, "%s", R.why);
	s[h + pad - 1] = 'a';
	memcpy(s + h + pad, "a\r\n\r\n", 6);
	refused(s, 431);
	free(s);
}

Test(http_parse, too_many_header_lines_is_431)
{
	char s[4096];
	size_t n = (size_t)snprintf(s, sizeof s, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (unsigned i = 0; i < SX_HTTP_MAX_HEADERS; i++)
		n += (size_t)snprintf(s + n, sizeof s - n, "X%u: v\r\n", i);
	snprintf(s + n, sizeof s - n, "\r\n");
	refused(s, 431);
}

Test(http_parse, body_over_the_limit_is_413_without_waiting_for_it)
{
	refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1025\r\n\r\n", 413);
	refused("POST / HTTP/1.0\r\nContent-Length: 99999999999\r\n\r\n", 413);
}

Test(http_parse, transfer_encoding_is_501)
{
	refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501);
	refused("POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: gzip, chunked\r\n\r\n", 501);
}

Test(http_parse, invalid_content_length_is_400)
{
	refused("POST / HTTP/1.0\r\nContent-Length: abc\r\n\r\n", 400);
	refused("POST / HTTP/1.0\r\nContent-Length: -1\r\n\r\n", 400);
	refused("POST / HTTP/1.0\r\nContent-Length: +5\r\n\r\n", 400);
	refused("POST / HTTP/1.0\r\nContent-Length: 5 5\r\n\r\n", 400);
	refused("POST / HTTP/1.0\r\nContent-Length: 5, 5\r\n\r\n", 400);
	refused("POST / HTTP/1.0\r\nContent-Length:\r\n\r\n", 400);
	refused("POST / HTTP/1.0\r\nContent-Length: 0x10\r\n\r\n", 400);
	refused("POST / HTTP/1.0\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400);
	refused("POST / HTTP/1.0\r\nContent-Length: 18446744073709551616\r\n\r\n", 400);
	refused("POST / HTTP/1.0\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400);
	/* 2^64 - 1 fits (and is then too large for the body limit). */
	refused("POST / HTTP/1.0\r\nContent-Length: 18446744073709551615\r\n\r\n", 413);
}

Test(http_parse, parser_never_reads_past_len)
{
	/* A request cut inside its CRLF, in an exact-size buffer. */
	const char *s = "GET / HTTP/1.0\r\n\r";
	size_t n = strlen(s);
	char *buf = malloc(n);
	memcpy(buf, s, n);
	cr_assert_eq(sx_http_parse(buf, n, MAXBODY, &R), SX_HTTP_MORE);
	cr_assert_eq(sx_http_parse(buf, 0, MAXBODY, &R), SX_HTTP_MORE);
	cr_assert_eq(R.need, 1);
	free(buf);
}

/* ---- writers --------------------------------------------------------------- */

static char *obuf_text(sx_obuf *ob)
{
	struct iovec iov[16];
	int n = sx_obuf_iov(ob, iov, 16);
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	char *t = malloc(len + 1), *p = t;
	for (int i = 0; i < n; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	*p = 0;
	return t;
}

Test(http_write, response_head_and_body)
{
	sx_obuf ob;
	sx_obuf_init(&ob);
	sx_http_response(&ob, 405, "text/plain", "GET or HEAD\n", 12, 1, 0, "Allow: GET, HEAD\r\n");
	char *t = obuf_text(&ob);
	cr_assert(!strncmp(t, "HTTP/1.1 405 Method Not Allowed\r\n", 33), "%s", t);
	cr_assert(strstr(t, "\r\nDate: ") && strstr(t, " GMT\r\n"), "%s", t);
	cr_assert(strstr(t, "\r\nContent-Type: text/plain\r\n"), "%s", t);
	cr_assert(strstr(t, "\r\nContent-Length: 12\r\n"), "%s", t);
	cr_assert(strstr(t, "\r\nConnection: keep-alive\r\n"), "%s", t);
	cr_assert(strstr(t, "\r\nAllow: GET, HEAD\r\n\r\nGET or HEAD\n"), "%s", t);
	const char *end = strstr(t, "\r\n\r\n");
	cr_assert_str_eq(end + 4, "GET or HEAD\n");
	free(t);
	sx_obuf_free(&ob);

	/* HEAD: the length of the GET, no body. */
	sx_obuf_init(&ob);
	sx_http_response(&ob, 200, "text/plain", "ok\n", 3, 0, 1, NULL);
	t = obuf_text(&ob);
	cr_assert(!strncmp(t, "HTTP/1.1 200 OK\r\n", 17), "%s", t);
	cr_assert(strstr(t, "\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"), "%s", t);
	cr_assert_eq(strstr(t, "\r\n\r\n")[4], 0, "a HEAD answer has no body: %s", t);
	free(t);
	sx_obuf_free(&ob);
}

Test(http_write, reason_phrases)
{
	static const struct { int code; const char *reason; } want[] = {
		{ 200, "OK" }, { 400, "Bad Request" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 413, "Content Too Large" },
		{ 431, "Request Header Fields Too Large" }, { 501, "Not Implemented" },
		{ 503, "Service Unavailable" }, { 505, "HTTP Version Not Supported" },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		cr_assert_str_eq(sx_http_reason(want[i].code), want[i].reason);
	cr_assert_str_eq(sx_http_reason(299), "Unknown");
}

Test(http_write, error_answer_closes)
{
	cr_assert_eq(parse("GET / HTTP/9.9\r\n\r\n"), SX_HTTP_ERROR);
	sx_obuf ob;
	sx_obuf_init(&ob);
	sx_http_error(&ob, &R);
	char *t = obuf_text(&ob);
	cr_assert(!strncmp(t, "HTTP/1.1 505 HTTP Version Not Supported\r\n", 41), "%s", t);
	cr_assert(strstr(t, "Connection: close\r\n"), "%s", t);
	cr_assert(strstr(t, "\r\n\r\n505 HTTP Version Not Supported: only HTTP/1.0 and HTTP/1.1"), "%s", t);
	char cl[64];
	const char *body = strstr(t, "\r\n\r\n") + 4;
	snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", strlen(body));
	cr_assert(strstr(t, cl), "%s", t);
	free(t);
	sx_obuf_free(&ob);
}

/* Credentials of an Authorization value (sx_http_credentials): Basic
 * (RFC 7617) and Bearer tenant:secret; what is not one of them is refused
 * before any secret is looked at. */
static int creds(const char *v, char *user, char *pass)
{
	char buf[64];
	sx_str u, p;
	int rc = sx_http_credentials((sx_str){ v, strlen(v) }, buf, sizeof buf, &u, &p);
	if (rc == 0) {
		snprintf(user, 80, "%.*s", (int)u.n, u.p);
		snprintf(pass, 80, "%.*s", (int)p.n, p.p);
	}
	return rc;
}

Test(http_parse, authorization_credentials)
{
	char u[80], p[80];
	/* "prom:s3cret" */
	cr_assert_eq(creds("Basic cHJvbTpzM2NyZXQ=", u, p), 0);
	cr_assert_str_eq(u, "prom");
	cr_assert_str_eq(p, "s3cret");
	cr_assert_eq(creds("basic   cHJvbTpzM2NyZXQ", u, p), 0, "scheme in any case, no padding");
	cr_assert_str_eq(p, "s3cret");
	/* "a:b:c": split at the first colon, the secret keeps the rest */
	cr_assert_eq(creds("Basic YTpiOmM=", u, p), 0);
	cr_assert_str_eq(u, "a");
	cr_assert_str_eq(p, "b:c");
	/* "u:" an empty secret is a (wrong) secret, not malformed */
	cr_assert_eq(creds("Basic dTo=", u, p), 0);
	cr_assert_str_eq(u, "u");
	cr_assert_str_eq(p, "");
	cr_assert_eq(creds("Bearer prom:s3 cret", u, p), 0);
	cr_assert_str_eq(u, "prom");
	cr_assert_str_eq(p, "s3 cret");
	cr_assert_eq(creds("BEARER x:y", u, p), 0);

	static const char *const bad[] = {
		"", "Basic", "Basic ", "Bearer", "Bearer ",
		"Basic cHJvbQ==",           /* "prom": no colon */
		"Basic OnNlY3JldA==",       /* ":secret": no user */
		"Bearer :secret", "Bearer prom",
		"Basic !!!!", "Basic cHJv bTpz", "Basic cHJvbTpzM2NyZXQ===",
		"Basic =cHJvbTpzM2NyZXQ", "Basic cHJvbTpz=M2NyZXQ", "Basic c",
		"Basic cHJvbTpzM2NyZXQ=x",
		"Digest username=prom", "Token prom:s3cret", "prom:s3cret",
		"Basicx cHJvbTpzM2NyZXQ=",
		/* 48 bytes decoded and more: over the 64-byte buffer */
		"Basic QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBOmI=",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(creds(bad[i], u, p), -1, "'%s' was taken for credentials", bad[i]);
}
