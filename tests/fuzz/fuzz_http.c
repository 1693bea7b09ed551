/*
 * fuzz_http.c - libFuzzer target: the HTTP/1.1 request parser of the
 * server (server/http.h sx_http_parse), which is pure: bytes in, one
 * request or "need more" or an error with its status out.
 *
 * Input: the first byte chooses the body limit (0, 16, 1024 or 64 KiB
 * bytes), the rest is what a client sent.  Requests are parsed one after
 * another, as a connection does, from a private copy of exactly the
 * remaining length, so a read past the received bytes is an ASan report.
 *
 * Checked beyond the sanitizers, per parsed request:
 *   - DONE consumes at least one byte and at most what is there; the head
 *     is at most SX_HTTP_MAX_HEAD bytes; every string (method, target,
 *     path, query, headers, body) lies inside the request; the version
 *     is 1.0 or 1.1; the body is content_length bytes, within the limit;
 *     keep-alive follows the version and Connection rules; the
 *     credentials of an Authorization header (sx_http_credentials) lie
 *     in the header or the decoded buffer, split at the first colon;
 *   - MORE asks for more than there is (need > len); an error carries
 *     one of the statuses the header names and a reason;
 *   - the `need` promise: any shorter prefix of a request is MORE (never
 *     a different request, never an error: a read may end anywhere), and
 *     asks for at most the request's real length, or a connection would
 *     wait for bytes that never come.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_http: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                           \
	} while (0)

static sx_http_req R;

static void inside(sx_str s, const char *buf, size_t used, const char *what)
{
	CHECK(s.n == 0 || (s.p >= buf && s.p + s.n <= buf + used) ||
	      (s.n == 1 && s.p[0] == '/'), "%s outside the request", what);
}

/* sx_http_credentials on an Authorization value: user and password lie
 * in the decoded buffer or in the value, the user is not empty and holds
 * no colon, and nothing is written past the buffer. */
static void credentials(sx_str v)
{
	char dec[40];
	sx_str u, p;
	if (sx_http_credentials(v, dec, sizeof dec, &u, &p))
		return;
	int in_dec = u.p >= dec && u.p + u.n <= dec + sizeof dec;
	int in_v = u.p >= v.p && u.p + u.n <= v.p + v.n;
	CHECK(in_dec || in_v, "user outside the value and the buffer");
	CHECK(in_dec ? p.p >= dec && p.p + p.n <= dec + sizeof dec
	             : p.p >= v.p && p.p + p.n <= v.p + v.n, "password outside");
	CHECK(u.n > 0 && !memchr(u.p, ':', u.n), "user '%.*s'", (int)u.n, u.p);
	CHECK(p.p == u.p + u.n + 1 && p.p[-1] == ':', "not split at the first colon");
}

static int parse(const uint8_t *src, size_t len, size_t max_body)
{
	char *buf = malloc(len ? len : 1);
	CHECK(buf != NULL, "out of memory");
	if (len)
		memcpy(buf, src, len);
	int rc = sx_http_parse(buf, len, max_body, &R);
	if (rc == SX_HTTP_DONE) {
		inside(R.method, buf, R.used, "method");
		inside(R.target, buf, R.used, "target");
		inside(R.path, buf, R.used, "path");
		inside(R.query, buf, R.used, "query");
		inside(R.host, buf, R.used, "host");
		inside(R.body, buf, R.used, "body");
		CHECK(R.nheaders <= SX_HTTP_MAX_HEADERS, "%zu headers", R.nheaders);
		for (size_t i = 0; i < R.nheaders; i++) {
			inside(R.headers[i].name, buf, R.head_len, "header name");
			inside(R.headers[i].value, buf, R.head_len, "header value");
		}
		CHECK(R.method.n > 0 && R.target.n > 0, "empty method or target");
		CHECK(R.minor == 0 || R.minor == 1, "HTTP/1.%d", R.minor);
		CHECK(R.minor == 0 || R.host.p != NULL, "HTTP/1.1 without Host");
		CHECK(R.head_len <= SX_HTTP_MAX_HEAD, "head of %zu bytes", R.head_len);
		CHECK(R.body.n == R.content_length && R.content_length <= max_body &&
		      R.used == R.head_len + R.body.n, "body %zu, length %llu, used %zu",
		      R.body.n, (unsigned long long)R.content_length, R.used);
		int close = 0, keep = 0;
		for (size_t i = 0; i < R.nheaders; i++)
			if (R.headers[i].name.n == 10 && !strncasecmp(R.headers[i].name.p, "Connection", 10)) {
				close |= sx_http_has_token(R.headers[i].value, "close");
				keep |= sx_http_has_token(R.headers[i].value, "keep-alive");
			}
		CHECK(R.keep_alive == (close ? 0 : R.minor ? 1 : keep), "keep-alive %d", R.keep_alive);
		inside(R.authorization, buf, R.head_len, "authorization");
		if (R.authorization.n)
			credentials(R.authorization);
	} else if (rc == SX_HTTP_ERROR) {
		CHECK(R.why != NULL, "error without a reason");
		CHECK(R.status == 400 || R.status == 413 || R.status == 431 ||
		      R.status == 501 || R.status == 505, "status %d", R.status);
	} else {
		CHECK(rc == SX_HTTP_MORE, "rc %d", rc);
	}
	free(buf);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[4] = { 0, 16, 1024, 65536 };
	if (size == 0)
		return 0;
	size_t max_body = limits[data[0] & 3];
	data++;
	size--;

	size_t pos = 0;
	for (int reqs = 0; reqs < 64 && pos < size; reqs++) {
		size_t len = size - pos;
		int rc = parse(data + pos, len, max_body);
		if (rc == SX_HTTP_MORE) {
			CHECK(R.need > len, "MORE with need %zu <= len %zu", R.need, len);
			break;
		}
		if (rc == SX_HTTP_ERROR)
			break;
		size_t used = R.used;
		CHECK(used >= 1 && used <= len, "used %zu of %zu", used, len);

		/* One byte short, and one shorter prefix chosen by the data. */
		size_t cuts[2] = { used - 1, used > 1 ? data[pos] % used : 0 };
		for (int c = 0; c < 2; c++) {
			size_t k = cuts[c];
			int r2 = parse(data + pos, k, max_body);
			CHECK(r2 == SX_HTTP_MORE, "a %zu-byte prefix of a %zu-byte request "
			      "is not MORE but %d (%s)", k, used, r2,
			      r2 == SX_HTTP_ERROR ? R.why : "a request");
			CHECK(R.need > k && R.need <= used, "prefix %zu of a %zu-byte request "
			      "asks for %zu bytes", k, used, R.need);
		}
		pos += used;
	}
	return 0;
}
