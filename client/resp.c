/*
 * resp.c - parsing RESP2 values (replies on the RESP port, and the body of
 * a binary EXEC reply) and walking the elements of a parsed array.
 *
 * The parser is strict and bounded: one line is at most
 * SX_CLIENT_MAX_LINE bytes, a value at most SX_CLIENT_MAX_RESP bytes,
 * arrays nest at most SX_CLIENT_MAX_DEPTH deep.  It returns -EAGAIN while
 * a value is incomplete, so the receive loop can call it again on the same
 * bytes after each read; a complete value is a view into the caller's
 * buffer, validated to the last nested element, so sx_client_resp_next
 * re-parses elements without checking again for errors.
 */
#include <errno.h>
#include <string.h>

#include "sxclient_int.h"

int sxc_parse_i64(const char *p, size_t n, int64_t *out)
{
	int neg = 0;
	if (n && p[0] == '-') {
		neg = 1;
		p++;
		n--;
	}
	if (n == 0 || n > 19)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

static int resp_parse(const char *b, size_t len, sx_client_resp *v,
                      size_t *used, const char **why, int depth)
{
	if (len < 1)
		return -EAGAIN;
	char t = b[0];
	if (t != '+' && t != '-' && t != ':' && t != '$' && t != '*') {
		*why = "unknown RESP type byte";
		return SX_CLIENT_EPROTO;
	}
	/* The line after the type byte, up to CRLF. */
	size_t lim = len - 1 < SX_CLIENT_MAX_LINE + 1 ? len - 1 : SX_CLIENT_MAX_LINE + 1;
	const char *cr = memchr(b + 1, '\r', lim);
	if (!cr) {
		if (len - 1 > SX_CLIENT_MAX_LINE) {
			*why = "RESP line longer than 65536 bytes";
			return SX_CLIENT_ETOOBIG;
		}
		return -EAGAIN;
	}
	size_t ll = (size_t)(cr - (b + 1));
	if (1 + ll + 1 >= len)
		return -EAGAIN;
	if (cr[1] != '\n') {
		*why = "RESP line has a CR without LF";
		return SX_CLIENT_EPROTO;
	}
	if (memchr(b + 1, '\n', ll)) {
		*why = "RESP line has a LF without CR";
		return SX_CLIENT_EPROTO;
	}
	size_t hdr = 1 + ll + 2;

	memset(v, 0, sizeof *v);
	v->type = t;
	v->raw = b;
	if (t == '+' || t == '-') {
		v->str = b + 1;
		v->len = ll;
		v->rawlen = *used = hdr;
		return 0;
	}
	int64_t num;
	if (sxc_parse_i64(b + 1, ll, &num)) {
		*why = "RESP number is malformed";
		return SX_CLIENT_EPROTO;
	}
	v->num = num;
	if (t == ':') {
		v->rawlen = *used = hdr;
		return 0;
	}
	if (num == -1) {
		v->nil = 1;
		v->num = 0;
		v->str = b + hdr;
		v->rawlen = *used = hdr;
		return 0;
	}
	if (num < 0) {
		*why = "RESP length is negative";
		return SX_CLIENT_EPROTO;
	}
	if (t == '$') {
		if ((uint64_t)num > SX_CLIENT_MAX_RESP) {
			*why = "RESP bulk string over the size limit";
			return SX_CLIENT_ETOOBIG;
		}
		size_t n = (size_t)num;
		if (len - hdr < n + 2)
			return -EAGAIN;
		if (b[hdr + n] != '\r' || b[hdr + n + 1] != '\n') {
			*why = "RESP bulk string not followed by CRLF";
			return SX_CLIENT_EPROTO;
		}
		v->str = b + hdr;
		v->len = n;
		v->rawlen = *used = hdr + n + 2;
		return 0;
	}
	/* '*' */
	if ((uint64_t)num > SX_CLIENT_MAX_ELEMS) {
		*why = "RESP array has too many elements";
		return SX_CLIENT_ETOOBIG;
	}
	if (depth >= SX_CLIENT_MAX_DEPTH) {
		*why = "RESP arrays nested too deeply";
		return SX_CLIENT_EPROTO;
	}
	size_t off = hdr;
	for (int64_t i = 0; i < num; i++) {
		sx_client_resp e;
		size_t u;
		int rc = resp_parse(b + off, len - off, &e, &u, why, depth + 1);
		if (rc)
			return rc;
		off += u;
		if (off > SX_CLIENT_MAX_RESP) {
			*why = "RESP reply over the size limit";
			return SX_CLIENT_ETOOBIG;
		}
	}
	v->str = b + hdr;
	v->len = off - hdr;
	v->rawlen = *used = off;
	return 0;
}

int sx_client_resp_parse(const char *buf, size_t len, sx_client_resp *v,
                         size_t *used, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	return resp_parse(buf, len, v, used, why, 0);
}

int sx_client_resp_next(const sx_client_resp *arr, size_t *pos,
                        sx_client_resp *elem)
{
	if (arr->type != '*' || arr->nil || *pos >= arr->len)
		return 0;
	size_t u;
	const char *why;
	if (resp_parse(arr->str + *pos, arr->len - *pos, elem, &u, &why, 1))
		return 0;   /* cannot happen on a validated array */
	*pos += u;
	return 1;
}

int sx_client_resp_is(const sx_client_resp *v, const char *s)
{
	size_t n = strlen(s);
	return (v->type == '+' || (v->type == '$' && !v->nil)) &&
	       v->len == n && memcmp(v->str, s, n) == 0;
}
