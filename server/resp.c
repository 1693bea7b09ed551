/*
 * resp.c - RESP2 request parser and reply writers (see resp.h).
 *
 * Limits follow Redis where Redis has one (a header or inline line of at
 * most 64 KiB) and are tighter where sxgate's commands need no more: one
 * argument is at most 1 MiB, one command at most 65536 arguments.  A
 * request over a limit is a protocol error, answered and then the
 * connection is closed, as Redis does.  "*0" is an empty command, as in
 * Redis; a negative count is a protocol error (no client sends one).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "resp.h"

/* Strict decimal: optional '-', 1..18 digits, nothing else. */
static int parse_ll(const char *s, size_t n, long long *out)
{
	int neg = 0;
	if (n && *s == '-') {
		neg = 1;
		s++;
		n--;
	}
	if (n == 0 || n > 18)
		return -1;
	long long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

/* One "<c><number>\r\n" header line at buf[pos]; returns the position after
 * it, 0 when incomplete, -1 on error (message in err).  A pipeline's
 * headers are short counts and lengths: 1 to 18 digits and CRLF are read
 * in one pass; anything else (a sign, a cut, garbage) takes the careful
 * path below, which alone decides errors and incompleteness. */
static long header_slow(const char *buf, size_t len, size_t pos, long long *v,
                        const char *what, char *err, size_t errcap);

static inline long header(const char *buf, size_t len, size_t pos, long long *v,
                          const char *what, char *err, size_t errcap)
{
	const char *s = buf + pos + 1, *end = buf + len;
	long long n = 0;
	const char *p = s;
	while (p < end && (unsigned char)(*p - '0') < 10 && p - s < 18)
		n = n * 10 + (*p++ - '0');
	if (sx_likely(p > s && end - p >= 2 && p[0] == '\r' && p[1] == '\n')) {
		*v = n;
		return (long)(p + 2 - buf);
	}
	return header_slow(buf, len, pos, v, what, err, errcap);
}

static long header_slow(const char *buf, size_t len, size_t pos, long long *v,
                        const char *what, char *err, size_t errcap)
{
	const char *s = buf + pos + 1;
	size_t avail = len - pos - 1;
	const char *cr = memchr(s, '\r', avail);
	if (!cr) {
		if (avail > SX_RESP_MAX_INLINE) {
			snprintf(err, errcap, "Protocol error: too big %s count string", what);
			return -1;
		}
		return 0;
	}
	if ((size_t)(cr - s) + 1 >= avail)
		return 0;                       /* '\r' is the last byte so far */
	if (cr[1] != '\n' || parse_ll(s, (size_t)(cr - s), v) < 0) {
		snprintf(err, errcap, "Protocol error: invalid %s length",
		         what[0] == 'm' ? "multibulk" : "bulk");
		return -1;
	}
	return (long)(cr + 2 - buf);
}

static int parse_multibulk(char *buf, size_t len, sx_str *argv, size_t *argc,
                           size_t *used, size_t *need, char *err, size_t errcap)
{
	long long n;
	long pos = header(buf, len, 0, &n, "mbulk", err, errcap);
	if (pos <= 0) {
		*need = len + 1;
		return pos < 0 ? SX_RESP_EPROTO : SX_RESP_MORE;
	}
	if (n < 0 || n > (long long)SX_RESP_MAX_ARGS) {
		snprintf(err, errcap, "Protocol error: invalid multibulk length");
		return SX_RESP_EPROTO;
	}
	for (long long i = 0; i < n; i++) {
		if ((size_t)pos >= len) {
			*need = (size_t)pos + 1;
			return SX_RESP_MORE;
		}
		if (buf[pos] != '$') {
			unsigned char ch = (unsigned char)buf[pos];
			snprintf(err, errcap, "Protocol error: expected '$', got '%c'",
			         ch >= 32 && ch < 127 ? ch : '?');
			return SX_RESP_EPROTO;
		}
		long long bl;
		long p = header(buf, len, (size_t)pos, &bl, "bulk", err, errcap);
		if (p <= 0) {
			*need = len + 1;
			return p < 0 ? SX_RESP_EPROTO : SX_RESP_MORE;
		}
		if (bl < 0 || bl > (long long)SX_RESP_MAX_BULK) {
			snprintf(err, errcap, "Protocol error: invalid bulk length");
			return SX_RESP_EPROTO;
		}
		size_t end = (size_t)p + (size_t)bl;
		if (end + 2 > len) {
			*need = end + 2;
			return SX_RESP_MORE;
		}
		if (buf[end] != '\r' || buf[end + 1] != '\n') {
			snprintf(err, errcap, "Protocol error: bulk string not terminated by CRLF");
			return SX_RESP_EPROTO;
		}
		argv[i].p = buf + p;
		argv[i].n = (size_t)bl;
		pos = (long)(end + 2);
	}
	*argc = (size_t)n;
	*used = (size_t)pos;
	return SX_RESP_DONE;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static int blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f' || c == '\0';
}

/* Split line[0..n) into words the way Redis's sdssplitargs does, unquoting
 * in place.  Returns the word count or -1 for unbalanced quotes. */
static long split_inline(char *line, size_t n, sx_str *argv)
{
	char *p = line, *end = line + n;
	long argc = 0;
	for (;;) {
		while (p < end && blank((unsigned char)*p))
			p++;
		if (p == end)
			return argc;
		if ((size_t)argc == SX_RESP_MAX_ARGS)
			return -2;
		char *w = p, *start = p;
		int inq = 0, insq = 0;
		for (;;) {
			if (inq) {
				if (p == end)
					return -1;
				if (*p == '\\' && end - p >= 4 && p[1] == 'x' &&
				    hexval(p[2]) >= 0 && hexval(p[3]) >= 0) {
					*w++ = (char)(hexval(p[2]) * 16 + hexval(p[3]));
					p += 4;
				} else if (*p == '\\' && end - p >= 2) {
					char c = p[1];
					switch (c) {
					case 'n': c = '\n'; break;
					case 'r': c = '\r'; break;
					case 't': c = '\t'; break;
					case 'b': c = '\b'; break;
					case 'a': c = '\a'; break;
					}
					*w++ = c;
					p += 2;
				} else if (*p == '"') {
					p++;
					if (p < end && !blank((unsigned char)*p))
						return -1;   /* closing quote must end the word */
					break;
				} else {
					*w++ = *p++;
				}
			} else if (insq) {
				if (p == end)
					return -1;
				if (*p == '\\' && end - p >= 2 && p[1] == '\'') {
					*w++ = '\'';
					p += 2;
				} else if (*p == '\'') {
					p++;
					if (p < end && !blank((unsigned char)*p))
						return -1;
					break;
				} else {
					*w++ = *p++;
				}
			} else {
				if (p == end || blank((unsigned char)*p))
					break;
				if (*p == '"') {
					inq = 1;
					p++;
				} else if (*p == '\'') {
					insq = 1;
					p++;
				} else {
					*w++ = *p++;
				}
			}
		}
		argv[argc].p = start;
		argv[argc].n = (size_t)(w - start);
		argc++;
	}
}

static int parse_inline(char *buf, size_t len, sx_str *argv, size_t *argc,
                        size_t *used, size_t *need, char *err, size_t errcap)
{
	char *nl = memchr(buf, '\n', len);
	if (!nl) {
		if (len > SX_RESP_MAX_INLINE) {
			snprintf(err, errcap, "Protocol error: too big inline request");
			return SX_RESP_EPROTO;
		}
		*need = len + 1;
		return SX_RESP_MORE;
	}
	size_t n = (size_t)(nl - buf);
	if (n > SX_RESP_MAX_INLINE) {
		snprintf(err, errcap, "Protocol error: too big inline request");
		return SX_RESP_EPROTO;
	}
	if (n && buf[n - 1] == '\r')
		n--;
	long k = split_inline(buf, n, argv);
	if (k < 0) {
		snprintf(err, errcap, k == -1 ?
		         "Protocol error: unbalanced quotes in request" :
		         "Protocol error: too many arguments in inline request");
		return SX_RESP_EPROTO;
	}
	*argc = (size_t)k;
	*used = (size_t)(nl - buf) + 1;
	return SX_RESP_DONE;
}

int sx_resp_parse(char *buf, size_t len, sx_str *argv, size_t *argc,
                  size_t *used, size_t *need, char *err, size_t errcap)
{
	if (len == 0) {
		*need = 1;
		return SX_RESP_MORE;
	}
	if (buf[0] == '*')
		return parse_multibulk(buf, len, argv, argc, used, need, err, errcap);
	return parse_inline(buf, len, argv, argc, used, need, err, errcap);
}

/* ---- writers ----------------------------------------------------------- */

size_t sx_u64toa(uint64_t v, char *buf)
{
	char tmp[20];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

/* "<c><number>\r\n" */
static void put_header(sx_obuf *ob, char c, int64_t v)
{
	char *p = sx_obuf_reserve(ob, 24);
	size_t n = 0;
	p[n++] = c;
	uint64_t u = (uint64_t)v;
	if (v < 0) {
		p[n++] = '-';
		u = -(uint64_t)v;
	}
	n += sx_u64toa(u, p + n);
	p[n++] = '\r';
	p[n++] = '\n';
	sx_obuf_commit(ob, n);
}

void sx_resp_simple(sx_obuf *ob, const char *s, size_t n)
{
	sx_obuf_put(ob, "+", 1);
	sx_obuf_put(ob, s, n);
	sx_obuf_put(ob, "\r\n", 2);
}

void sx_resp_status(sx_obuf *ob, int ok, const char *s, size_t n)
{
	char *p = sx_obuf_reserve(ob, n + 3);
	p[0] = ok ? '+' : '-';
	for (size_t i = 0; i < n; i++)
		p[1 + i] = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
	p[n + 1] = '\r';
	p[n + 2] = '\n';
	sx_obuf_commit(ob, n + 3);
}

void sx_resp_error(sx_obuf *ob, const char *s, size_t n)
{
	sx_resp_status(ob, 0, s, n);
}

void sx_resp_errorf(sx_obuf *ob, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	size_t n = sx_vfmt(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sx_resp_error(ob, msg, n);
}

void sx_resp_bulk(sx_obuf *ob, const void *p, size_t n)
{
	put_header(ob, '$', (int64_t)n);
	sx_obuf_put(ob, p, n);
	sx_obuf_put(ob, "\r\n", 2);
}

void sx_resp_array(sx_obuf *ob, size_t n)
{
	put_header(ob, '*', (int64_t)n);
}

void sx_resp_int(sx_obuf *ob, int64_t v)
{
	put_header(ob, ':', v);
}
