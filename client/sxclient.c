/*
 * sxclient.c - libsxgate client: one TCP connection to sxgated, speaking
 * the binary protocol (docs/protocol.md) or RESP2.
 *
 * The idea: two flat byte buffers per connection, like Redis' client
 * query/reply buffers.  Requests are encoded at the end of the send buffer
 * and written by flush; the unsent tail moves to the front only when the
 * buffer runs out of room.  Replies are parsed where they landed in the
 * receive buffer and handed out as views; the bytes of a reply are given
 * back at the next receive call, and what is left of a partial frame moves
 * to the front only when more room is needed.  Both buffers grow
 * (doubling, bounded) to the largest request or reply seen, then stay: the
 * pipelined path allocates nothing per request.
 *
 * Every reply is validated in full before it is handed out (frame length,
 * op, every item and record of the body, or the whole nested RESP value),
 * so the walkers (sx_client_item_next, ..._record_next, ..._resp_next) can
 * trust what they step over, and nothing a server sends can make them read
 * outside the frame.  The cost is one extra pass over each reply body,
 * which is small next to the system calls.
 *
 * The socket is always non-blocking; "blocking" mode means the client
 * poll()s with the connection's timeout when the kernel says EAGAIN.  A
 * timeout or any malformed reply leaves the stream at an unknown place,
 * so such errors are sticky: the connection must be closed.
 */
#include "sxclient.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sx.h"
#include "sxwire.h"

#define RX_INIT      (64u << 10)
#define TX_INIT      (64u << 10)
#define TX_MAX       (256u << 20)
#define RX_MAX_BIN   (SXB_HEADER + SXB_MAX_BODY)
#define RX_MAX_RESP  (SX_CLIENT_MAX_RESP + SX_CLIENT_MAX_LINE + 64)

struct sx_client {
	int fd;
	int proto;
	int timeout_ms;         /* -1: forever */
	int blocking;
	int broken;             /* sticky error, 0 while usable */
	unsigned version, flags, max_body, max_batch;
	uint32_t seq;           /* req_id of the last synchronous request */

	uint8_t *tx;            /* [txoff, txlen) appended, not yet written */
	size_t txcap, txoff, txlen;

	uint8_t *rx;            /* [rxoff, rxlen) received, not yet consumed */
	size_t rxcap, rxoff, rxlen;
	size_t rxgive;          /* bytes of the last reply handed out */
	int rx_short;           /* the last read() did not fill the buffer */

	char errmsg[512];
};

/* ---- errors ---------------------------------------------------------------- */

const char *sx_client_strerror(int err)
{
	switch (err) {
	case 0: return "success";
#define X(name, val, msg) case name: return msg;
	SX_CLIENT_ERRORS(X)
	SX_ERRORS(X)
#undef X
	default: break;
	}
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}

SX_COLD __attribute__((format(printf, 3, 4)))
static int fail(sx_client *cli, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cli->errmsg, sizeof cli->errmsg, fmt, ap);
	va_end(ap);
	return code;
}

/* An error after which the byte stream can no longer be trusted. */
SX_COLD __attribute__((format(printf, 3, 4)))
static int fatal(sx_client *cli, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cli->errmsg, sizeof cli->errmsg, fmt, ap);
	va_end(ap);
	cli->broken = code;
	return code;
}

const char *sx_client_errmsg(const sx_client *cli)
{
	return cli->errmsg;
}

/* ---- frame parser ------------------------------------------------------------ */

static int known_reply_op(unsigned op)
{
	switch (op) {
#define X(name, op_, rep) case rep:
	SXB_OPS(X)
#undef X
	case SXB_OP_ERROR:
		return 1;
	default:
		return 0;
	}
}

static int check_body_ok(const uint8_t *b, size_t len, unsigned count,
                         const char **why)
{
	sxw_rd r;
	sxw_rd_init(&r, b, len);
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *h, *skip;
		if (sxw_rd_bytes(&r, 6, &h)) {
			*why = "CHECK reply ends inside an item header";
			return 0;
		}
		unsigned kind = h[0], dec = h[1], reason = h[2];
		unsigned n = sx_le_get16(h + 4);
		if (kind == SXB_KIND_DECISION) {
			if (dec > SXB_DENY || reason >= SXB_NREASONS) {
				*why = "CHECK reply has an unknown decision or reason";
				return 0;
			}
			for (unsigned rec = 0; rec < n; rec++) {
				uint16_t rl;
				if (sxw_rd_u16(&r, &rl)) {
					*why = "CHECK reply ends inside a record length";
					return 0;
				}
				if (sxw_rd_bytes(&r, rl, &skip)) {
					*why = "CHECK reply record runs past the frame";
					return 0;
				}
			}
		} else if (kind == SXB_KIND_ERROR) {
			if (sxw_rd_bytes(&r, n, &skip)) {
				*why = "CHECK reply error text runs past the frame";
				return 0;
			}
		} else {
			*why = "CHECK reply item has an unknown kind";
			return 0;
		}
	}
	if (sxw_rd_left(&r)) {
		*why = "CHECK reply has bytes after its last item";
		return 0;
	}
	return 1;
}

static int listed_body_ok(const uint8_t *b, size_t len, unsigned count,
                          const char **why)
{
	sxw_rd r;
	sxw_rd_init(&r, b, len);
	for (unsigned i = 0; i < count; i++) {
		uint8_t v;
		if (sxw_rd_u8(&r, &v)) {
			*why = "LISTED reply has fewer items than its count";
			return 0;
		}
		if (v == SXB_LISTED_ERROR) {
			uint16_t n;
			const uint8_t *skip;
			if (sxw_rd_u16(&r, &n)) {
				*why = "LISTED reply ends inside an error length";
				return 0;
			}
			if (sxw_rd_bytes(&r, n, &skip)) {
				*why = "LISTED reply error text runs past the frame";
				return 0;
			}
		} else if (v > SXB_LISTED_YES) {
			*why = "LISTED reply item is not 0, 1 or 0xFF";
			return 0;
		}
	}
	if (sxw_rd_left(&r)) {
		*why = "LISTED reply has bytes after its last item";
		return 0;
	}
	return 1;
}

int sx_client_frame_parse(const uint8_t *buf, size_t len,
                          sx_client_reply *rep, size_t *used,
                          const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	/* Refuse what is already known to be wrong before waiting for more. */
	if (len >= 4 && sxw_header_len(buf) > SXB_MAX_BODY) {
		*why = "frame length over 1048576";
		return SX_CLIENT_ETOOBIG;
	}
	if (len >= 5 && !known_reply_op(buf[4])) {
		*why = "unknown reply op";
		return SX_CLIENT_EPROTO;
	}
	if (len < SXB_HEADER)
		return -EAGAIN;
	sxw_header h;
	sxw_header_decode(buf, &h);
	uint32_t blen = h.len;
	if (len - SXB_HEADER < blen)
		return -EAGAIN;

	memset(rep, 0, sizeof *rep);
	rep->len = blen;
	rep->op = h.op;
	rep->flags = h.flags;
	rep->count = h.count;
	rep->req_id = h.req_id;
	rep->body = buf + SXB_HEADER;
	const uint8_t *b = rep->body;

	switch (rep->op) {
	case SXB_OP_HELLO_REPLY:
		if (blen != 12) {
			*why = "HELLO reply body is not 12 bytes";
			return SX_CLIENT_EPROTO;
		}
		break;
	case SXB_OP_AUTH_REPLY:
		if (blen != 0) {
			*why = "AUTH reply body is not empty";
			return SX_CLIENT_EPROTO;
		}
		break;
	case SXB_OP_PING_REPLY:
		if (blen > SXB_MAX_PING) {
			*why = "PONG body over 256 bytes";
			return SX_CLIENT_EPROTO;
		}
		break;
	case SXB_OP_CHECK_REPLY:
		if (!check_body_ok(b, blen, rep->count, why))
			return SX_CLIENT_EPROTO;
		break;
	case SXB_OP_LISTED_REPLY:
		if (!listed_body_ok(b, blen, rep->count, why))
			return SX_CLIENT_EPROTO;
		break;
	case SXB_OP_EXEC_REPLY: {
		sx_client_resp v;
		size_t u;
		int rc = sx_client_resp_parse((const char *)b, blen, &v, &u, why);
		if (rc == -EAGAIN) {
			*why = "EXEC reply holds an incomplete RESP value";
			return SX_CLIENT_EPROTO;
		}
		if (rc)
			return SX_CLIENT_EPROTO;
		if (u != blen) {
			*why = "EXEC reply has bytes after its RESP value";
			return SX_CLIENT_EPROTO;
		}
		break;
	}
	case SXB_OP_ERROR:
		if (blen < 2 || sx_le_get16(b) != blen - 2) {
			*why = "ERROR frame length does not match its message";
			return SX_CLIENT_EPROTO;
		}
		rep->err = (const char *)b + 2;
		rep->errlen = blen - 2;
		break;
	default:
		*why = "unknown reply op";
		return SX_CLIENT_EPROTO;
	}
	*used = SXB_HEADER + (size_t)blen;
	return 0;
}

int sx_client_item_next(const sx_client_reply *rep, size_t *pos,
                        sx_client_item *it)
{
	if (rep->op != SXB_OP_CHECK_REPLY || *pos >= rep->len)
		return 0;
	const uint8_t *p = rep->body + *pos;
	it->kind = p[0];
	it->decision = p[1];
	it->reason = p[2];
	it->n = sx_le_get16(p + 4);
	it->data = p + 6;
	size_t off = 6;
	if (it->kind == SXB_KIND_DECISION) {
		for (unsigned r = 0; r < it->n; r++)
			off += 2 + (size_t)sx_le_get16(p + off);
	} else {
		off += it->n;
	}
	it->size = (uint32_t)(off - 6);
	*pos += off;
	return 1;
}

int sx_client_record_next(const sx_client_item *it, size_t *pos,
                          const char **s, size_t *n)
{
	if (it->kind != SXB_KIND_DECISION || *pos >= it->size)
		return 0;
	size_t rl = sx_le_get16(it->data + *pos);
	*s = (const char *)it->data + *pos + 2;
	*n = rl;
	*pos += 2 + rl;
	return 1;
}

int sx_client_listed_next(const sx_client_reply *rep, size_t *pos,
                          int *value, const char **err, size_t *errlen)
{
	if (rep->op != SXB_OP_LISTED_REPLY || *pos >= rep->len)
		return 0;
	const uint8_t *p = rep->body + *pos;
	*value = p[0];
	*err = NULL;
	*errlen = 0;
	if (p[0] == SXB_LISTED_ERROR) {
		*errlen = sx_le_get16(p + 1);
		*err = (const char *)p + 3;
		*pos += 3 + *errlen;
	} else {
		*pos += 1;
	}
	return 1;
}

/* ---- RESP parser ---------------------------------------------------------- */

/* Strict signed decimal of p[0..n): 1..19 digits, optional '-'. */
static int parse_i64(const char *p, size_t n, int64_t *out)
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
	if (parse_i64(b + 1, ll, &num)) {
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

/* ---- buffers and the socket -------------------------------------------------- */

static int wait_fd(sx_client *cli, short ev)
{
	struct pollfd p = { .fd = cli->fd, .events = ev };
	for (;;) {
		int r = poll(&p, 1, cli->timeout_ms);
		if (r > 0)
			return 0;
		if (r == 0)
			return fatal(cli, -ETIMEDOUT, "no %s within %d ms",
			             ev == POLLIN ? "reply" : "room to send",
			             cli->timeout_ms);
		if (errno != EINTR)
			return fatal(cli, -errno, "poll: %s", strerror(errno));
	}
}

/* Make room for `need` more bytes at the end of the send buffer. */
static int tx_reserve(sx_client *cli, size_t need)
{
	if (cli->txcap - cli->txlen >= need)
		return 0;
	if (cli->txoff) {
		memmove(cli->tx, cli->tx + cli->txoff, cli->txlen - cli->txoff);
		cli->txlen -= cli->txoff;
		cli->txoff = 0;
		if (cli->txcap - cli->txlen >= need)
			return 0;
	}
	size_t cap = cli->txcap;
	while (cap - cli->txlen < need) {
		if (cap >= TX_MAX)
			return fail(cli, SX_EFULL, "send buffer would exceed %u bytes",
			            TX_MAX);
		cap *= 2;
	}
	uint8_t *p = realloc(cli->tx, cap);
	if (!p)
		return fail(cli, -ENOMEM, "out of memory for the send buffer");
	cli->tx = p;
	cli->txcap = cap;
	return 0;
}

static int flush(sx_client *cli, int wait)
{
	if (cli->broken)
		return cli->broken;
	while (cli->txoff < cli->txlen) {
		ssize_t n = send(cli->fd, cli->tx + cli->txoff,
		                 cli->txlen - cli->txoff, MSG_NOSIGNAL);
		if (n > 0) {
			cli->txoff += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!wait)
				return -EAGAIN;
			int rc = wait_fd(cli, POLLOUT);
			if (rc)
				return rc;
			continue;
		}
		return fatal(cli, n < 0 ? -errno : -EIO, "send: %s",
		             n < 0 ? strerror(errno) : "wrote nothing");
	}
	cli->txoff = cli->txlen = 0;
	return 0;
}

int sx_client_flush(sx_client *cli)
{
	return flush(cli, cli->blocking);
}

size_t sx_client_unsent(const sx_client *cli)
{
	return cli->txlen - cli->txoff;
}

/*
 * Make room at the end of the receive buffer to read into.  need is the
 * total size of the value being assembled from rxoff (a binary frame's
 * header says it), or 0 when unknown (RESP: grow as it comes).  Reads are
 * at least 4 KiB where the limit allows, so a partial frame at the end of
 * the buffer does not shrink the next read to a few bytes.
 */
static int rx_room(sx_client *cli, size_t need, size_t max)
{
	size_t have = cli->rxlen - cli->rxoff;
	size_t missing = need > have ? need - have : 1;
	size_t want = missing < 4096 ? 4096 : missing;
	if (cli->rxcap - cli->rxlen >= want)
		return 0;
	if (cli->rxoff) {
		memmove(cli->rx, cli->rx + cli->rxoff, have);
		cli->rxoff = 0;
		cli->rxlen = have;
		if (cli->rxcap - cli->rxlen >= want)
			return 0;
	}
	size_t cap = cli->rxcap;
	while (cap - have < want && cap < max)
		cap *= 2;
	if (cap > max)
		cap = max;
	if (cap < have + missing)
		return fatal(cli, SX_CLIENT_ETOOBIG, "reply larger than %zu bytes",
		             max);
	if (cap == cli->rxcap)
		return 0;   /* less than 4 KiB free, but enough */
	uint8_t *p = realloc(cli->rx, cap);
	if (!p)
		return fatal(cli, -ENOMEM, "out of memory for the receive buffer");
	cli->rx = p;
	cli->rxcap = cap;
	return 0;
}

/* Receive the next frame (resp == 0) or RESP value into *out. */
static int rx_next(sx_client *cli, int wait, int resp, void *out)
{
	if (cli->broken)
		return cli->broken;
	cli->rxoff += cli->rxgive;
	cli->rxgive = 0;
	if (cli->rxoff == cli->rxlen)
		cli->rxoff = cli->rxlen = 0;
	size_t max = resp ? RX_MAX_RESP : RX_MAX_BIN;
	for (;;) {
		const uint8_t *p = cli->rx + cli->rxoff;
		size_t have = cli->rxlen - cli->rxoff, used = 0, need = 0;
		const char *why = NULL;
		int rc = resp ? sx_client_resp_parse((const char *)p, have, out,
		                                     &used, &why)
		              : sx_client_frame_parse(p, have, out, &used, &why);
		if (rc == 0) {
			cli->rxgive = used;
			return 0;
		}
		if (rc != -EAGAIN) {
			/* The usual cause of garbage: the other protocol's port. */
			const char *hint = "";
			if (!resp && have >= 1 && (p[0] == '-' || p[0] == '+'))
				hint = " (is this the RESP port?)";
			else if (resp && have >= 1 && !strchr("+-:$*", p[0]))
				hint = " (is this the binary port?)";
			return fatal(cli, rc, "%s: %s%s", sx_client_strerror(rc),
			             why ? why : "?", hint);
		}
		if (!resp && have >= 4)
			need = SXB_HEADER + (size_t)sxw_header_len(p);
		rc = rx_room(cli, need, max);
		if (rc)
			return rc;
		if (!wait && cli->rx_short) {
			cli->rx_short = 0;
			return -EAGAIN;
		}
		size_t space = cli->rxcap - cli->rxlen;
		ssize_t n = recv(cli->fd, cli->rx + cli->rxlen, space, 0);
		if (n > 0) {
			cli->rxlen += (size_t)n;
			cli->rx_short = (size_t)n < space;
			continue;
		}
		if (n == 0)
			return fatal(cli, SX_CLIENT_ECLOSED, "%s",
			             have ? "connection closed in the middle of a reply"
			                  : "connection closed by server");
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			cli->rx_short = 0;
			if (!wait)
				return -EAGAIN;
			rc = wait_fd(cli, POLLIN);
			if (rc)
				return rc;
			continue;
		}
		return fatal(cli, -errno, "recv: %s", strerror(errno));
	}
}

int sx_client_recv_reply(sx_client *cli, sx_client_reply *rep)
{
	if (cli->proto != SX_CLIENT_BINARY)
		return fail(cli, SX_CLIENT_EMODE, "recv_reply on a RESP connection");
	return rx_next(cli, cli->blocking, 0, rep);
}

int sx_client_recv_resp(sx_client *cli, sx_client_resp *v)
{
	if (cli->proto != SX_CLIENT_RESP)
		return fail(cli, SX_CLIENT_EMODE, "recv_resp on a binary connection");
	return rx_next(cli, cli->blocking, 1, v);
}

void sx_client_set_timeout(sx_client *cli, int timeout_ms)
{
	cli->timeout_ms = timeout_ms <= 0 ? -1 : timeout_ms;
}

void sx_client_set_blocking(sx_client *cli, int blocking)
{
	cli->blocking = blocking != 0;
}

int sx_client_fd(const sx_client *cli) { return cli->fd; }
int sx_client_proto(const sx_client *cli) { return cli->proto; }
unsigned sx_client_version(const sx_client *cli) { return cli->version; }
unsigned sx_client_max_batch(const sx_client *cli) { return cli->max_batch; }
int sx_client_auth_required(const sx_client *cli)
{
	return (cli->flags & SXB_HELLO_AUTH_REQUIRED) != 0;
}

/* ---- encoding requests ------------------------------------------------------- */

static inline size_t slen(const char *s)
{
	return s ? strlen(s) : 0;
}

/* Header at tx+txlen with len filled later by frame_end. */
static uint8_t *frame_begin(sx_client *cli, unsigned op, unsigned count,
                            uint32_t req_id)
{
	uint8_t *h = cli->tx + cli->txlen;
	sxw_header_encode(h, 0, op, count, req_id);
	cli->txlen += SXB_HEADER;
	return h;
}

static void frame_end(sx_client *cli, size_t start)
{
	sxw_header_set_len(cli->tx + start, (uint32_t)(cli->txlen - start - SXB_HEADER));
}

static inline void put_bytes(sx_client *cli, const void *p, size_t n)
{
	if (n)   /* p may be NULL for an empty context string */
		memcpy(cli->tx + cli->txlen, p, n);
	cli->txlen += n;
}

static inline void put_str8(sx_client *cli, const char *s, size_t n)
{
	cli->txlen += sxw_put_str8(cli->tx + cli->txlen, s, n);
}

static int send_query_batch(sx_client *cli, unsigned op, uint32_t req_id,
                            const sx_client_ctx *ctx,
                            const char *const *ids, const size_t *lens,
                            size_t n)
{
	if (cli->proto != SX_CLIENT_BINARY)
		return fail(cli, SX_CLIENT_EMODE, "CHECK/LISTED frames need the binary protocol");
	if (cli->broken)
		return cli->broken;
	if (n == 0 || n > cli->max_batch)
		return fail(cli, SX_EINVAL, "batch of %zu IDs (1..%u allowed)", n,
		            cli->max_batch);
	static const sx_client_ctx none;
	if (!ctx)
		ctx = &none;
	const char *cs[4] = { ctx->channel, ctx->cls, ctx->type, ctx->at };
	size_t cl[4], total = SXB_HEADER;
	for (int i = 0; i < 4; i++) {
		cl[i] = slen(cs[i]);
		if (cl[i] > SXB_MAX_CTX)
			return fail(cli, SX_EINVAL, "query context string of %zu bytes (255 allowed)",
			            cl[i]);
		total += 1 + cl[i];
	}
	for (size_t i = 0; i < n; i++) {
		size_t l = lens ? lens[i] : strlen(ids[i]);
		if (l == 0 || l > SXB_MAX_ID)
			return fail(cli, SX_EINVAL, "ID %zu of the batch has %zu bytes (1..64 allowed)",
			            i, l);
		total += 1 + l;
	}
	if (total - SXB_HEADER > SXB_MAX_BODY)
		return fail(cli, SX_EINVAL, "frame body of %zu bytes over 1048576",
		            total - SXB_HEADER);
	int rc = tx_reserve(cli, total);
	if (rc)
		return rc;
	size_t start = cli->txlen;
	frame_begin(cli, op, (unsigned)n, req_id);
	for (int i = 0; i < 4; i++)
		put_str8(cli, cs[i], cl[i]);
	for (size_t i = 0; i < n; i++)
		put_str8(cli, ids[i], lens ? lens[i] : strlen(ids[i]));
	frame_end(cli, start);
	return 0;
}

int sx_client_send_check_batch(sx_client *cli, uint32_t req_id,
                               const sx_client_ctx *ctx,
                               const char *const *ids, const size_t *lens,
                               size_t n)
{
	return send_query_batch(cli, SXB_OP_CHECK, req_id, ctx, ids, lens, n);
}

int sx_client_send_listed_batch(sx_client *cli, uint32_t req_id,
                                const sx_client_ctx *ctx,
                                const char *const *ids, const size_t *lens,
                                size_t n)
{
	return send_query_batch(cli, SXB_OP_LISTED, req_id, ctx, ids, lens, n);
}

int sx_client_send_exec(sx_client *cli, uint32_t req_id, int argc,
                        const char *const *argv, const size_t *lens)
{
	if (cli->proto != SX_CLIENT_BINARY)
		return fail(cli, SX_CLIENT_EMODE, "EXEC frames need the binary protocol");
	if (cli->broken)
		return cli->broken;
	if (argc < 1 || argc > 65535)
		return fail(cli, SX_EINVAL, "EXEC of %d arguments", argc);
	size_t total = SXB_HEADER;
	for (int i = 0; i < argc; i++) {
		size_t l = lens ? lens[i] : strlen(argv[i]);
		if (l > 65535)
			return fail(cli, SX_EINVAL, "EXEC argument %d has %zu bytes (65535 allowed)",
			            i, l);
		total += 2 + l;
	}
	if (total - SXB_HEADER > SXB_MAX_BODY)
		return fail(cli, SX_EINVAL, "EXEC body of %zu bytes over 1048576",
		            total - SXB_HEADER);
	int rc = tx_reserve(cli, total);
	if (rc)
		return rc;
	size_t start = cli->txlen;
	frame_begin(cli, SXB_OP_EXEC, (unsigned)argc, req_id);
	for (int i = 0; i < argc; i++) {
		size_t l = lens ? lens[i] : strlen(argv[i]);
		cli->txlen += sxw_put_str16(cli->tx + cli->txlen, argv[i], l);
	}
	frame_end(cli, start);
	return 0;
}

static size_t udec(char *p, size_t v)
{
	char t[24];
	size_t n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		p[i] = t[n - 1 - i];
	return n;
}

int sx_client_send_resp(sx_client *cli, int argc, const char *const *argv,
                        const size_t *lens)
{
	if (cli->proto != SX_CLIENT_RESP)
		return fail(cli, SX_CLIENT_EMODE, "RESP commands need a RESP connection");
	if (cli->broken)
		return cli->broken;
	if (argc < 1)
		return fail(cli, SX_EINVAL, "empty command");
	size_t total = 24;
	for (int i = 0; i < argc; i++)
		total += 28 + (lens ? lens[i] : strlen(argv[i]));
	int rc = tx_reserve(cli, total);
	if (rc)
		return rc;
	char *p = (char *)cli->tx + cli->txlen, *p0 = p;
	*p++ = '*';
	p += udec(p, (size_t)argc);
	*p++ = '\r';
	*p++ = '\n';
	for (int i = 0; i < argc; i++) {
		size_t l = lens ? lens[i] : strlen(argv[i]);
		*p++ = '$';
		p += udec(p, l);
		*p++ = '\r';
		*p++ = '\n';
		memcpy(p, argv[i], l);
		p += l;
		*p++ = '\r';
		*p++ = '\n';
	}
	cli->txlen += (size_t)(p - p0);
	return 0;
}

/* ---- connecting ---------------------------------------------------------------- */

static int hello(sx_client *cli)
{
	int rc = tx_reserve(cli, SXB_HEADER + 8);
	if (rc)
		return rc;
	size_t start = cli->txlen;
	frame_begin(cli, SXB_OP_HELLO, 0, ++cli->seq);
	put_bytes(cli, SXB_MAGIC, 4);
	sx_le_put16(cli->tx + cli->txlen, SXB_VERSION);
	sx_le_put16(cli->tx + cli->txlen + 2, SXB_VERSION);
	cli->txlen += 4;
	frame_end(cli, start);
	sx_client_reply rep;
	if ((rc = flush(cli, 1)) || (rc = rx_next(cli, 1, 0, &rep))) {
		if (rc == -ETIMEDOUT)   /* a RESP server waits for a line end */
			fatal(cli, rc, "no reply within %d ms (is this the RESP port?)",
			      cli->timeout_ms);
		return rc;
	}
	if (rep.op == SXB_OP_ERROR)
		return fatal(cli, SX_CLIENT_EVERSION, "refused: %.*s",
		             (int)rep.errlen, rep.err);
	if (rep.op != SXB_OP_HELLO_REPLY)
		return fatal(cli, SX_CLIENT_EPROTO, "answered with op 0x%02x",
		             rep.op);
	cli->version = sx_le_get16(rep.body);
	cli->flags = sx_le_get16(rep.body + 2);
	cli->max_body = sx_le_get32(rep.body + 4);
	cli->max_batch = sx_le_get32(rep.body + 8);
	if (cli->version != SXB_VERSION)
		return fatal(cli, SX_CLIENT_EVERSION, "server chose version %u, client speaks %u",
		             cli->version, SXB_VERSION);
	if (cli->max_batch == 0)
		return fatal(cli, SX_CLIENT_EPROTO, "HELLO reply has max_batch 0");
	if (cli->max_batch > 65535)
		cli->max_batch = 65535;   /* count is a u16 */
	return 0;
}

static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			int e = errno;
			close(fd);
			return -e;
		}
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int r;
		while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
			;
		if (r <= 0) {
			int e = r == 0 ? ETIMEDOUT : errno;
			close(fd);
			return -e;
		}
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr) {
			close(fd);
			return -soerr;
		}
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

int sx_client_connect(const char *host, int port, int proto, int timeout_ms,
                      sx_client **out, char *err, size_t errcap)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errcap = sizeof dummy;
	}
	*out = NULL;
	if (!host || port <= 0 || port > 65535 ||
	    (proto != SX_CLIENT_BINARY && proto != SX_CLIENT_RESP)) {
		snprintf(err, errcap, "connect: bad host, port %d or protocol %d",
		         port, proto);
		return SX_EINVAL;
	}
	if (timeout_ms <= 0)
		timeout_ms = -1;

	char ps[16];
	snprintf(ps, sizeof ps, "%d", port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int g = getaddrinfo(host, ps, &hints, &res);
	if (g) {
		snprintf(err, errcap, "connect %s:%d: %s", host, port, gai_strerror(g));
		return -EHOSTUNREACH;
	}
	int fd = -ECONNREFUSED;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = connect_one(ai, timeout_ms);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errcap, "connect %s:%d: %s", host, port, strerror(-fd));
		return fd;
	}

	int rc = -ENOMEM;
	sx_client *cli = calloc(1, sizeof *cli);
	if (!cli)
		goto fail;
	cli->fd = fd;
	cli->proto = proto;
	cli->timeout_ms = timeout_ms;
	cli->blocking = 1;
	cli->tx = malloc(TX_INIT);
	cli->rx = malloc(RX_INIT);
	if (!cli->tx || !cli->rx)
		goto fail;
	cli->txcap = TX_INIT;
	cli->rxcap = RX_INIT;
	if (proto == SX_CLIENT_BINARY) {
		cli->max_batch = SXB_MAX_BATCH;
		rc = hello(cli);
		if (rc) {
			snprintf(err, errcap, "connect %s:%d: HELLO: %s", host, port,
			         cli->errmsg);
			goto fail;
		}
	}
	*out = cli;
	return 0;
fail:
	if (rc == -ENOMEM)
		snprintf(err, errcap, "connect %s:%d: out of memory", host, port);
	if (cli) {
		free(cli->tx);
		free(cli->rx);
		free(cli);
	}
	close(fd);
	return rc;
}

void sx_client_close(sx_client *cli)
{
	if (!cli)
		return;
	close(cli->fd);
	free(cli->tx);
	free(cli->rx);
	free(cli);
}

/* ---- synchronous helpers ------------------------------------------------------ */

/* Flush and wait for the reply to request cli->seq, which must be of op
 * `want`; an ERROR frame becomes SX_CLIENT_ESERVER. */
static int bin_wait(sx_client *cli, unsigned want, sx_client_reply *rep)
{
	int rc = flush(cli, 1);
	if (rc)
		return rc;
	rc = rx_next(cli, 1, 0, rep);
	if (rc)
		return rc;
	if (rep->op == SXB_OP_ERROR && (rep->req_id == cli->seq || rep->req_id == 0))
		return fail(cli, SX_CLIENT_ESERVER, "%.*s", (int)rep->errlen, rep->err);
	if (rep->req_id != cli->seq)
		return fatal(cli, SX_CLIENT_EPROTO, "reply to request %u while waiting for %u",
		             rep->req_id, cli->seq);
	if (rep->op != want)
		return fatal(cli, SX_CLIENT_EPROTO, "reply op 0x%02x to a request expecting 0x%02x",
		             rep->op, want);
	return 0;
}

/* Send a command and receive its RESP reply (a view).  Binary: as EXEC. */
static int command(sx_client *cli, int argc, const char *const *argv,
                   const size_t *lens, sx_client_resp *v)
{
	int rc;
	if (cli->proto == SX_CLIENT_RESP) {
		if ((rc = sx_client_send_resp(cli, argc, argv, lens)) ||
		    (rc = flush(cli, 1)))
			return rc;
		return rx_next(cli, 1, 1, v);
	}
	sx_client_reply rep;
	if ((rc = sx_client_send_exec(cli, ++cli->seq, argc, argv, lens)) ||
	    (rc = bin_wait(cli, SXB_OP_EXEC_REPLY, &rep)))
		return rc;
	size_t u;
	return sx_client_resp_parse((const char *)rep.body, rep.len, v, &u, NULL);
}

/* A RESP error reply as SX_CLIENT_ESERVER with its text. */
static int resp_err(sx_client *cli, const sx_client_resp *v)
{
	return fail(cli, SX_CLIENT_ESERVER, "%.*s", (int)v->len, v->str);
}

static int resp_unexpected(sx_client *cli, const sx_client_resp *v,
                           const char *what)
{
	return fatal(cli, SX_CLIENT_EPROTO, "unexpected reply to %s: %.*s", what,
	             (int)(v->rawlen > 80 ? 80 : v->rawlen), v->raw);
}

static const char *const decision_names[2] = { "ALLOW", "DENY" };
static const char *const reason_names[SXB_NREASONS] = {
#define X(e, code, d, r) r,
	SXB_REASONS(X)
#undef X
};
static const char *const reason_decisions[SXB_NREASONS] = {
#define X(e, code, d, r) d,
	SXB_REASONS(X)
#undef X
};

void sx_client_result_free(sx_client_result *r)
{
	if (!r)
		return;
	free(r->mem_);
	memset(r, 0, sizeof *r);
}

/* One allocation for the record pointers, the records and the error. */
static int result_alloc(sx_client_result *r, size_t nrec, size_t bytes)
{
	if (nrec == 0 && bytes == 0)
		return 0;
	void *m = malloc(nrec * sizeof(char *) + bytes);
	if (!m)
		return -ENOMEM;
	r->mem_ = m;
	r->rec = nrec ? m : NULL;
	return 0;
}

static char *result_strings(sx_client_result *r)
{
	return (char *)r->mem_ + r->nrec * sizeof(char *);
}

static int result_error(sx_client_result *r, const char *s, size_t n)
{
	memset(r, 0, sizeof *r);
	r->reason_code = -1;
	if (result_alloc(r, 0, n + 1))
		return -ENOMEM;
	r->error = r->mem_;
	memcpy(r->error, s, n);
	r->error[n] = 0;
	return 0;
}

static int result_from_item(sx_client_result *r, const sx_client_item *it)
{
	if (it->kind == SXB_KIND_ERROR)
		return result_error(r, (const char *)it->data, it->n);
	memset(r, 0, sizeof *r);
	r->ok = 1;
	r->decision = decision_names[it->decision];
	r->reason = reason_names[it->reason];
	r->reason_code = it->reason;
	r->nrec = it->n;
	size_t pos = 0, bytes = 0, n;
	const char *s;
	while (sx_client_record_next(it, &pos, &s, &n))
		bytes += n + 1;
	if (result_alloc(r, r->nrec, bytes))
		return -ENOMEM;
	char *p = result_strings(r);
	size_t i = 0;
	pos = 0;
	while (sx_client_record_next(it, &pos, &s, &n)) {
		r->rec[i++] = p;
		memcpy(p, s, n);
		p[n] = 0;
		p += n + 1;
	}
	return 0;
}

/* A CHECK reply array (decision, reason, records...) into *r. */
static int result_from_resp(sx_client *cli, sx_client_result *r,
                            const sx_client_resp *v)
{
	memset(r, 0, sizeof *r);
	if (v->type != '*' || v->nil || v->num < 2)
		return resp_unexpected(cli, v, "CHECK");
	size_t pos = 0;
	sx_client_resp d, e;
	sx_client_resp_next(v, &pos, &d);
	sx_client_resp_next(v, &pos, &e);
	int reason = -1;
	for (int i = 0; i < SXB_NREASONS; i++)
		if (sx_client_resp_is(&e, reason_names[i]))
			reason = i;
	if (reason < 0 || !sx_client_resp_is(&d, reason_decisions[reason]))
		return resp_unexpected(cli, v, "CHECK");
	size_t p0 = pos, bytes = 0;
	while (sx_client_resp_next(v, &pos, &e)) {
		if (e.type != '$' || e.nil)
			return resp_unexpected(cli, v, "CHECK");
		bytes += e.len + 1;
	}
	r->nrec = (size_t)v->num - 2;
	if (result_alloc(r, r->nrec, bytes)) {
		r->nrec = 0;
		return -ENOMEM;
	}
	r->ok = 1;
	r->reason_code = reason;
	r->reason = reason_names[reason];
	r->decision = decision_names[reason == SXB_R_LISTED];
	char *p = result_strings(r);
	size_t i = 0;
	pos = p0;
	while (sx_client_resp_next(v, &pos, &e)) {
		r->rec[i++] = p;
		memcpy(p, e.str, e.len);
		p[e.len] = 0;
		p += e.len + 1;
	}
	return 0;
}

static int check_sizes(sx_client *cli, const char *const *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] && strlen(s[i]) > SXB_MAX_CTX)
			return fail(cli, SX_EINVAL, "argument of %zu bytes", strlen(s[i]));
	return 0;
}

/* "TYPE t" and "AT d" words of a RESP query, appended to argv. */
static int opt_words(const char **argv, int argc, const char *type,
                     const char *at)
{
	if (type && *type) {
		argv[argc++] = "TYPE";
		argv[argc++] = type;
	}
	if (at && *at) {
		argv[argc++] = "AT";
		argv[argc++] = at;
	}
	return argc;
}

int sx_client_check(sx_client *cli, const char *id, const char *channel,
                    const char *cls, const char *type, const char *at,
                    sx_client_result *r)
{
	memset(r, 0, sizeof *r);
	const char *words[] = { id, channel, cls, type, at };
	int rc = check_sizes(cli, words, 5);
	if (rc)
		return rc;
	if (cli->proto == SX_CLIENT_BINARY) {
		sx_client_ctx ctx = { channel, cls, type, at };
		sx_client_reply rep;
		sx_client_item it;
		size_t pos = 0;
		if ((rc = sx_client_send_check_batch(cli, ++cli->seq, &ctx, &id, NULL, 1)) ||
		    (rc = bin_wait(cli, SXB_OP_CHECK_REPLY, &rep)))
			return rc;
		if (rep.count != 1 || !sx_client_item_next(&rep, &pos, &it))
			return fatal(cli, SX_CLIENT_EPROTO, "CHECK reply with %u items for 1 ID",
			             rep.count);
		if (it.kind == SXB_KIND_ERROR)
			return fail(cli, SX_CLIENT_ESERVER, "%.*s", (int)it.n,
			            (const char *)it.data);
		return result_from_item(r, &it);
	}
	const char *argv[10];
	int argc = 0;
	argv[argc++] = "CHECK";
	argv[argc++] = id;
	argv[argc++] = channel;
	if (cls && *cls)
		argv[argc++] = cls;
	argc = opt_words(argv, argc, type, at);
	sx_client_resp v;
	if ((rc = command(cli, argc, argv, NULL, &v)))
		return rc;
	if (v.type == '-')
		return resp_err(cli, &v);
	return result_from_resp(cli, r, &v);
}

static void results_free(sx_client_result *rs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sx_client_result_free(&rs[i]);
}

int sx_client_mcheck(sx_client *cli, const char *channel, const char *cls,
                     const char *type, const char *at,
                     const char *const *ids, size_t n,
                     sx_client_result *results)
{
	memset(results, 0, n * sizeof *results);
	if (n == 0)
		return fail(cli, SX_EINVAL, "MCHECK of no IDs");
	const char *words[] = { channel, cls, type, at };
	int rc = check_sizes(cli, words, 4);
	if (rc)
		return rc;
	if (cls && strcmp(cls, "-") == 0)
		cls = NULL;
	if (cli->proto == SX_CLIENT_BINARY) {
		sx_client_ctx ctx = { channel, cls, type, at };
		size_t done = 0;
		while (done < n) {
			size_t k = n - done;
			if (k > cli->max_batch)
				k = cli->max_batch;
			sx_client_reply rep;
			sx_client_item it;
			size_t pos = 0, i = 0;
			if ((rc = sx_client_send_check_batch(cli, ++cli->seq, &ctx,
			                                      ids + done, NULL, k)) ||
			    (rc = bin_wait(cli, SXB_OP_CHECK_REPLY, &rep)))
				goto fail;
			if (rep.count != k) {
				rc = fatal(cli, SX_CLIENT_EPROTO,
				           "CHECK reply with %u items for %zu IDs",
				           rep.count, k);
				goto fail;
			}
			while (sx_client_item_next(&rep, &pos, &it))
				if ((rc = result_from_item(&results[done + i++], &it)))
					goto fail;
			done += k;
		}
		return 0;
	}
	if (n > 65536)
		return fail(cli, SX_EINVAL, "MCHECK of %zu IDs over RESP (65536 allowed)", n);
	const char **argv = malloc((n + 8) * sizeof *argv);
	if (!argv)
		return fail(cli, -ENOMEM, "out of memory");
	int argc = 0;
	argv[argc++] = "MCHECK";
	argv[argc++] = channel;
	argv[argc++] = cls && *cls ? cls : "-";
	argc = opt_words(argv, argc, type, at);
	for (size_t i = 0; i < n; i++)
		argv[argc++] = ids[i];
	sx_client_resp v, e;
	rc = command(cli, argc, argv, NULL, &v);
	free(argv);
	if (rc)
		return rc;
	if (v.type == '-')
		return resp_err(cli, &v);
	if (v.type != '*' || v.nil || (size_t)v.num != n)
		return resp_unexpected(cli, &v, "MCHECK");
	size_t pos = 0, i = 0;
	while (sx_client_resp_next(&v, &pos, &e)) {
		if (e.type == '-')
			rc = result_error(&results[i], e.str, e.len) ? -ENOMEM : 0;
		else
			rc = result_from_resp(cli, &results[i], &e);
		if (rc)
			goto fail;
		i++;
	}
	return 0;
fail:
	results_free(results, n);
	if (rc == -ENOMEM)
		fail(cli, rc, "out of memory");
	return rc;
}

int sx_client_listed(sx_client *cli, const char *id, const char *type,
                     const char *at, int *listed)
{
	const char *words[] = { id, type, at };
	int rc = check_sizes(cli, words, 3);
	if (rc)
		return rc;
	if (cli->proto == SX_CLIENT_BINARY) {
		sx_client_ctx ctx = { NULL, NULL, type, at };
		sx_client_reply rep;
		size_t pos = 0, errlen;
		const char *err;
		if ((rc = sx_client_send_listed_batch(cli, ++cli->seq, &ctx, &id, NULL, 1)) ||
		    (rc = bin_wait(cli, SXB_OP_LISTED_REPLY, &rep)))
			return rc;
		if (rep.count != 1 || !sx_client_listed_next(&rep, &pos, listed, &err, &errlen))
			return fatal(cli, SX_CLIENT_EPROTO, "LISTED reply with %u items for 1 ID",
			             rep.count);
		if (*listed == SXB_LISTED_ERROR)
			return fail(cli, SX_CLIENT_ESERVER, "%.*s", (int)errlen, err);
		return 0;
	}
	const char *argv[6];
	int argc = 0;
	argv[argc++] = "LISTED";
	argv[argc++] = id;
	argc = opt_words(argv, argc, type, at);
	sx_client_resp v;
	if ((rc = command(cli, argc, argv, NULL, &v)))
		return rc;
	if (v.type == '-')
		return resp_err(cli, &v);
	if (v.type != ':' || (v.num != 0 && v.num != 1))
		return resp_unexpected(cli, &v, "LISTED");
	*listed = (int)v.num;
	return 0;
}

int sx_client_exec(sx_client *cli, int argc, const char *const *argv,
                   const size_t *lens, char *buf, size_t cap, size_t *len)
{
	sx_client_resp v;
	int rc = command(cli, argc, argv, lens, &v);
	if (rc)
		return rc;
	*len = v.rawlen;
	if (v.rawlen > cap)
		return fail(cli, SX_EFULL, "reply of %zu bytes does not fit in %zu",
		            v.rawlen, cap);
	memcpy(buf, v.raw, v.rawlen);
	return 0;
}

int sx_client_info(sx_client *cli, const char *section, char **text)
{
	*text = NULL;
	const char *argv[2] = { "INFO", section };
	sx_client_resp v;
	int rc = command(cli, section ? 2 : 1, argv, NULL, &v);
	if (rc)
		return rc;
	if (v.type == '-')
		return resp_err(cli, &v);
	if (v.type != '$' || v.nil)
		return resp_unexpected(cli, &v, "INFO");
	char *t = malloc(v.len + 1);
	if (!t)
		return fail(cli, -ENOMEM, "out of memory");
	memcpy(t, v.str, v.len);
	t[v.len] = 0;
	*text = t;
	return 0;
}

int sx_client_reload(sx_client *cli, const char *path, int force,
                     uint64_t *generation)
{
	const char *argv[3];
	int argc = 0;
	argv[argc++] = "RELOAD";
	if (path)
		argv[argc++] = path;
	if (force)
		argv[argc++] = "FORCE";
	sx_client_resp v;
	int rc = command(cli, argc, argv, NULL, &v);
	if (rc)
		return rc;
	if (v.type == '-')
		return resp_err(cli, &v);
	if (v.type != '+' || v.len < 2 || memcmp(v.str, "OK", 2) != 0)
		return resp_unexpected(cli, &v, "RELOAD");
	int64_t g = 0;
	if (v.len > 3 && v.str[2] == ' ' && parse_i64(v.str + 3, v.len - 3, &g) == 0 &&
	    g >= 0)
		*generation = (uint64_t)g;
	else if (v.len == 2)
		*generation = 0;
	else
		return resp_unexpected(cli, &v, "RELOAD");
	return 0;
}

int sx_client_ping(sx_client *cli)
{
	static const char payload[] = "sxgate-ping";
	int rc;
	if (cli->proto == SX_CLIENT_BINARY) {
		if ((rc = tx_reserve(cli, SXB_HEADER + sizeof payload)))
			return rc;
		size_t start = cli->txlen;
		frame_begin(cli, SXB_OP_PING, 0, ++cli->seq);
		put_bytes(cli, payload, sizeof payload - 1);
		frame_end(cli, start);
		sx_client_reply rep;
		if ((rc = bin_wait(cli, SXB_OP_PING_REPLY, &rep)))
			return rc;
		if (rep.len != sizeof payload - 1 || memcmp(rep.body, payload, rep.len))
			return fatal(cli, SX_CLIENT_EPROTO, "PONG does not echo the PING payload");
		return 0;
	}
	const char *argv[1] = { "PING" };
	sx_client_resp v;
	if ((rc = command(cli, 1, argv, NULL, &v)))
		return rc;
	if (v.type == '-')
		return resp_err(cli, &v);
	if (!sx_client_resp_is(&v, "PONG"))
		return resp_unexpected(cli, &v, "PING");
	return 0;
}

int sx_client_auth(sx_client *cli, const char *tenant, const char *secret)
{
	size_t tl = strlen(tenant), sl = strlen(secret);
	int rc;
	if (tl > 255 || sl > 255)
		return fail(cli, SX_EINVAL, "tenant or secret longer than 255 bytes");
	if (cli->proto == SX_CLIENT_BINARY) {
		if ((rc = tx_reserve(cli, SXB_HEADER + 2 + tl + sl)))
			return rc;
		size_t start = cli->txlen;
		frame_begin(cli, SXB_OP_AUTH, 0, ++cli->seq);
		put_str8(cli, tenant, tl);
		put_str8(cli, secret, sl);
		frame_end(cli, start);
		sx_client_reply rep;
		return bin_wait(cli, SXB_OP_AUTH_REPLY, &rep);
	}
	const char *argv[3] = { "AUTH", tenant, secret };
	sx_client_resp v;
	if ((rc = command(cli, 3, argv, NULL, &v)))
		return rc;
	if (v.type == '-')
		return resp_err(cli, &v);
	if (!sx_client_resp_is(&v, "OK"))
		return resp_unexpected(cli, &v, "AUTH");
	return 0;
}
