/*
 * frame.c - validating binary reply frames (docs/protocol.md) and walking
 * the items of a validated one.
 *
 * Every reply is validated in full before it is handed out (frame length,
 * op, every item and record of the body, or the whole nested RESP value of
 * an EXEC reply), so the walkers (sx_client_item_next, ..._record_next,
 * ..._listed_next) can trust what they step over and use plain loads, and
 * nothing a server sends can make them read outside the frame.  The cost
 * is one extra pass over each reply body, which is small next to the
 * system calls.  The validator reads through sxwire.h's bounds-checked
 * cursor; each way a body can be wrong has its own message.
 */
#include <errno.h>
#include <string.h>

#include "sxclient_int.h"

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

/* Step over a u16-length string; when it runs past the body, say whether
 * its length or its bytes did. */
static int str16_ok(sxw_rd *r, const char **why, const char *short_len,
                    const char *short_bytes)
{
	sx_str s;
	if (sxw_rd_str16(r, &s) == 0)
		return 1;
	*why = sxw_rd_left(r) < 2 ? short_len : short_bytes;
	return 0;
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
			if (dec > SXB_REVIEW || reason >= SXB_NREASONS) {
				*why = "CHECK reply has an unknown decision or reason";
				return 0;
			}
			if ((dec != SXB_ALLOW) != (reason == SXB_R_LISTED)) {
				*why = "CHECK reply pairs decision and reason wrongly";
				return 0;
			}
			for (unsigned rec = 0; rec < n; rec++)
				if (!str16_ok(&r, why, "CHECK reply ends inside a record length",
				              "CHECK reply record runs past the frame"))
					return 0;
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
			if (!str16_ok(&r, why, "LISTED reply ends inside an error length",
			              "LISTED reply error text runs past the frame"))
				return 0;
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
