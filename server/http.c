/*
 * http.c - HTTP/1.1 request parser and response writers (see http.h).
 *
 * One pass over the head, line by line.  Each complete line is checked
 * against the grammar (RFC 9110 5.6.2 tokens, 5.5 field values); the last,
 * incomplete line is checked as far as it goes, so that a line that can
 * no longer become valid is refused at once and a prefix of a valid
 * request is always MORE, never an error (a read may end anywhere).
 * Limits are checked on the bytes seen, so nothing waits for data that a
 * limit will refuse anyway.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"
#include "resp.h"      /* sx_u64toa */

/* tchar (RFC 9110 5.6.2): a header name or a method. */
static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte of a field value: VCHAR, obs-text, SP, HTAB (RFC 9110 5.5). */
static int is_fchar(unsigned char c)
{
	return (c >= 0x21 && c != 0x7f) || c == ' ' || c == '\t';
}

/* A byte of a request-target: VCHAR (RFC 9112 3.2; no spaces, no CTLs). */
static int is_vchar(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e;
}

static int fail(sx_http_req *r, int status, const char *why)
{
	r->status = status;
	r->why = why;
	return SX_HTTP_ERROR;
}

/*
 * The request line s[0..n) (without its line end); whole = 0 when it is
 * only the part received so far.  0 when valid (or a valid prefix), else
 * the status to answer, r->why set.
 */
static int request_line(const char *s, size_t n, int whole, sx_http_req *r)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	if (i == n)
		return whole ? (r->why = "request line without a target", 400) : 0;
	if (s[i] != ' ' || i == 0)
		return r->why = "malformed method in the request line", 400;
	r->method = (sx_str){ s, i };
	size_t t0 = ++i;
	while (i < n && is_vchar((unsigned char)s[i]))
		i++;
	if (i == n)
		return whole ? (r->why = "request line without an HTTP version", 400) : 0;
	if (s[i] != ' ' || i == t0)
		return r->why = "malformed request target", 400;
	r->target = (sx_str){ s + t0, i - t0 };
	const char *v = s + i + 1;
	size_t vn = n - i - 1;
	static const char pat[] = "HTTP/#.#";
	if (vn > sizeof pat - 1)
		return r->why = "malformed HTTP version", 400;
	for (size_t k = 0; k < vn; k++)
		if (pat[k] == '#' ? v[k] < '0' || v[k] > '9' : v[k] != pat[k])
			return r->why = "malformed HTTP version", 400;
	if (!whole)
		return 0;
	if (vn != sizeof pat - 1)
		return r->why = "malformed HTTP version", 400;
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return r->why = "only HTTP/1.0 and HTTP/1.1 are served", 505;
	r->minor = v[7] - '0';
	return 0;
}

/* One header line, as request_line; on a whole line *name and *value. */
static int header_line(const char *s, size_t n, int whole, sx_str *name,
                       sx_str *value, sx_http_req *r)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	if (i == n)
		return whole ? (r->why = "header line without a colon", 400) : 0;
	if (s[i] != ':' || i == 0)
		return r->why = s[0] == ' ' || s[0] == '\t' ?
		       "obsolete line folding in a header" : "malformed header name", 400;
	*name = (sx_str){ s, i };
	size_t v0 = ++i;
	for (; i < n; i++)
		if (!is_fchar((unsigned char)s[i]))
			return r->why = "control character in a header value", 400;
	if (!whole)
		return 0;
	size_t v1 = n;
	while (v0 < v1 && (s[v0] == ' ' || s[v0] == '\t'))
		v0++;
	while (v1 > v0 && (s[v1 - 1] == ' ' || s[v1 - 1] == '\t'))
		v1--;
	*value = (sx_str){ s + v0, v1 - v0 };
	return 0;
}

static int name_is(sx_str name, const char *lit)
{
	return name.n == strlen(lit) && !strncasecmp(name.p, lit, name.n);
}

/* Content-Length = 1*DIGIT, at most 2^64 - 1 (RFC 9110 8.6). */
static int parse_length(sx_str v, uint64_t *out)
{
	if (v.n == 0)
		return -1;
	uint64_t x = 0;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		unsigned d = (unsigned)(v.p[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}

/* The header line just read: remember it, interpret the ones we need. */
static int take_header(sx_http_req *r, sx_str name, sx_str value, int *nhost)
{
	if (r->nheaders == SX_HTTP_MAX_HEADERS)
		return fail(r, 431, "more than 64 header lines");
	r->headers[r->nheaders++] = (sx_http_header){ name, value };
	if (name_is(name, "Content-Length")) {
		uint64_t cl;
		if (parse_length(value, &cl))
			return fail(r, 400, "invalid Content-Length");
		if (r->has_content_length && cl != r->content_length)
			return fail(r, 400, "Content-Length given twice with different values");
		r->has_content_length = 1;
		r->content_length = cl;
	} else if (name_is(name, "Transfer-Encoding")) {
		return fail(r, 501, "Transfer-Encoding (chunked bodies) is not supported");
	} else if (name_is(name, "Host")) {
		if (++*nhost > 1)
			return fail(r, 400, "more than one Host header");
		r->host = value;
	} else if (name_is(name, "Connection")) {
		if (!r->connection.p)
			r->connection = value;
	} else if (name_is(name, "Authorization")) {
		/* one field, one value (RFC 9110 11.6.2): with two, a proxy in
		 * front and this server could each take another tenant's */
		if (r->authorization.p)
			return fail(r, 400, "more than one Authorization header");
		r->authorization = value;
	}
	return SX_HTTP_DONE;
}

/* Connection tokens over every Connection line (they form one list). */
static void decide_keep_alive(sx_http_req *r)
{
	int close = 0, keep = 0;
	for (size_t i = 0; i < r->nheaders; i++)
		if (name_is(r->headers[i].name, "Connection")) {
			close |= sx_http_has_token(r->headers[i].value, "close");
			keep |= sx_http_has_token(r->headers[i].value, "keep-alive");
		}
	r->keep_alive = close ? 0 : r->minor >= 1 ? 1 : keep;
}

/* path and query from the target; absolute-form "http://host/p?q" too. */
static void split_target(sx_http_req *r)
{
	const char *p = r->target.p;
	size_t n = r->target.n;
	const char *sep = memchr(p, ':', n);
	if (p[0] != '/' && sep && sep + 2 < p + n && sep[1] == '/' && sep[2] == '/') {
		const char *auth = sep + 3;
		const char *slash = memchr(auth, '/', (size_t)(p + n - auth));
		const char *q = memchr(auth, '?', (size_t)(p + n - auth));
		if (q && (!slash || q < slash))
			slash = NULL;                 /* "http://h?q": the path is "/" */
		if (!slash) {
			r->path = (sx_str){ "/", 1 };
			if (q) {
				r->has_query = 1;
				r->query = (sx_str){ q + 1, (size_t)(p + n - q - 1) };
			}
			return;
		}
		n -= (size_t)(slash - p);
		p = slash;
	}
	const char *q = memchr(p, '?', n);
	if (q) {
		r->has_query = 1;
		r->path = (sx_str){ p, (size_t)(q - p) };
		r->query = (sx_str){ q + 1, n - (size_t)(q - p) - 1 };
	} else {
		r->path = (sx_str){ p, n };
	}
}

int sx_http_parse(const char *buf, size_t len, size_t max_body, sx_http_req *r)
{
	memset(r, 0, offsetof(sx_http_req, headers));
	size_t lim = len < SX_HTTP_MAX_HEAD ? len : SX_HTTP_MAX_HEAD;
	size_t pos = 0;
	int first = 1, nhost = 0;

	for (;;) {
		const char *s = buf + pos;
		const char *nl = memchr(s, '\n', lim - pos);
		if (!nl) {
			/* The line so far, less a CR that may start its CRLF. */
			size_t n = lim - pos;
			if (n && s[n - 1] == '\r')
				n--;
			int st = 0;
			if (!first) {
				sx_str name, value;
				st = n ? header_line(s, n, 0, &name, &value, r) : 0;
			} else if (n) {
				st = request_line(s, n, 0, r);
			}
			if (st)
				return fail(r, st, r->why);
			if (memchr(s, '\r', n))
				return fail(r, 400, "CR without LF");
			if (len >= SX_HTTP_MAX_HEAD)
				return fail(r, 431, "request head over 8 KiB");
			r->need = len + 1;
			return SX_HTTP_MORE;
		}
		size_t n = (size_t)(nl - s);
		size_t next = pos + n + 1;
		if (n && s[n - 1] == '\r')
			n--;
		if (first) {
			if (n == 0) {               /* empty lines before the request */
				pos = next;
				continue;
			}
			int st = request_line(s, n, 1, r);
			if (st)
				return fail(r, st, r->why);
			split_target(r);        /* known to a refusal of a header too */
			first = 0;
			pos = next;
			continue;
		}
		if (n == 0) {                   /* the end of the head */
			r->head_len = next;
			break;
		}
		sx_str name = { 0 }, value = { 0 };
		int st = header_line(s, n, 1, &name, &value, r);
		if (st)
			return fail(r, st, r->why);
		if (take_header(r, name, value, &nhost) != SX_HTTP_DONE)
			return SX_HTTP_ERROR;
		pos = next;
	}

	if (r->minor == 1 && nhost == 0)
		return fail(r, 400, "HTTP/1.1 request without a Host header");
	if (r->content_length > max_body)
		return fail(r, 413, "request body over the limit");
	decide_keep_alive(r);
	size_t total = r->head_len + (size_t)r->content_length;
	if (len < total) {
		r->need = total;
		return SX_HTTP_MORE;
	}
	r->body = (sx_str){ buf + r->head_len, (size_t)r->content_length };
	r->used = total;
	return SX_HTTP_DONE;
}

const sx_str *sx_http_header_get(const sx_http_req *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (name_is(r->headers[i].name, name))
			return &r->headers[i].value;
	return NULL;
}

int sx_http_has_token(sx_str v, const char *token)
{
	size_t tl = strlen(token), i = 0;
	while (i < v.n) {
		while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
			i++;
		size_t b = i;
		while (i < v.n && v.p[i] != ',')
			i++;
		size_t e = i;
		while (e > b && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t'))
			e--;
		if (e - b == tl && !strncasecmp(v.p + b, token, tl))
			return 1;
	}
	return 0;
}

/* A base64 digit's value (RFC 4648 section 4), or -1. */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Decode s[0..n) into out[0..cap): the byte count, or -1 when it is not
 * base64 (a bad byte, padding anywhere but at the end, a lone sixth bit
 * group) or does not fit. */
static long b64_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t pad = 0;
	while (n && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (n % 4 == 1 || (pad && (n + pad) % 4))
		return -1;
	size_t k = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char)s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (k == cap)
				return -1;
			out[k++] = (char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (long)k;
}

int sx_http_credentials(sx_str v, char *buf, size_t cap, sx_str *user, sx_str *pass)
{
	size_t i = 0;
	while (i < v.n && v.p[i] != ' ' && v.p[i] != '\t')
		i++;
	sx_str scheme = { v.p, i };
	while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t'))
		i++;
	sx_str cred = { v.p + i, v.n - i };
	if (cred.n == 0)
		return -1;
	if (scheme.n == 5 && !strncasecmp(scheme.p, "Basic", 5)) {
		long n = b64_decode(cred.p, cred.n, buf, cap);
		if (n < 0)
			return -1;
		cred = (sx_str){ buf, (size_t)n };
	} else if (!(scheme.n == 6 && !strncasecmp(scheme.p, "Bearer", 6))) {
		return -1;
	}
	const char *colon = memchr(cred.p, ':', cred.n);
	if (!colon || colon == cred.p)
		return -1;
	*user = (sx_str){ cred.p, (size_t)(colon - cred.p) };
	*pass = (sx_str){ colon + 1, cred.n - user->n - 1 };
	return 0;
}

const char *sx_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default:  return "Unknown";
	}
}

#define put_lit(ob, s) sx_obuf_put((ob), (s), sizeof(s) - 1)

static void put_str(sx_obuf *ob, const char *s)
{
	sx_obuf_put(ob, s, strlen(s));
}

void sx_http_head(sx_obuf *ob, int status, const char *type, size_t length,
                  int keep_alive, const char *extra)
{
	char num[24];
	if (status < 100 || status > 999)
		status = 500;
	put_lit(ob, "HTTP/1.1 ");
	sx_obuf_put(ob, num, sx_u64toa((uint64_t)status, num));
	put_lit(ob, " ");
	put_str(ob, sx_http_reason(status));
	/* Date (RFC 9110 6.6.1): an origin server with a clock sends it. */
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	if (gmtime_r(&now, &tm) && strftime(date, sizeof date,
	                                     "\r\nDate: %a, %d %b %Y %H:%M:%S GMT", &tm))
		put_str(ob, date);
	if (type) {
		put_lit(ob, "\r\nContent-Type: ");
		put_str(ob, type);
	}
	put_lit(ob, "\r\nContent-Length: ");
	sx_obuf_put(ob, num, sx_u64toa(length, num));
	if (keep_alive)
		put_lit(ob, "\r\nConnection: keep-alive\r\n");
	else
		put_lit(ob, "\r\nConnection: close\r\n");
	if (extra)
		put_str(ob, extra);
	put_lit(ob, "\r\n");
}

void sx_http_response(sx_obuf *ob, int status, const char *type, const void *body,
                      size_t n, int keep_alive, int head_only, const char *extra)
{
	sx_http_head(ob, status, type, n, keep_alive, extra);
	if (!head_only && n)
		sx_obuf_put(ob, body, n);
}

void sx_http_error(sx_obuf *ob, const sx_http_req *r)
{
	char body[256];
	int n = snprintf(body, sizeof body, "%d %s: %s\n", r->status,
	                 sx_http_reason(r->status), r->why ? r->why : "bad request");
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof body)
		n = sizeof body - 1;
	sx_http_response(ob, r->status, "text/plain; charset=utf-8", body, (size_t)n, 0, 0, NULL);
}
