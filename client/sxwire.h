/*
 * sxwire.h - the byte layout of the binary protocol (docs/protocol.md),
 * shared by the client library and the server: the 12-byte frame header,
 * a bounds-checked cursor for reading bodies and the length-prefixed
 * string writers.
 *
 * The idea: both ends read the same untrusted bytes, so the checks live in
 * one place.  A reader never looks at a byte before checking that it is
 * inside the body; every sxw_rd_* call either consumes its field whole or
 * returns -1 and leaves the cursor where it was, so a caller can report
 * exactly which field ran past the end.  Writers do not check room: the
 * caller has reserved the bytes (it knows the sizes before it writes,
 * which is what lets a reply be built in place in an output buffer).
 *
 * Header only, all static inline: these are on the request path of both
 * sides and compile to a few loads.  The numbers (ops, limits) stay in
 * sxproto.h; the little-endian loads and stores are engine/sx.h's.
 */
#ifndef SX_WIRE_H
#define SX_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sx.h"
#include "sxproto.h"

/* ---- frame header ------------------------------------------------------ */

/* The header's fields (sxproto.h has the layout). */
typedef struct sxw_header {
	uint32_t len;      /* body bytes after the header */
	uint8_t op;        /* SXB_OP_* */
	uint8_t flags;     /* 0 when sent, ignored when received */
	uint16_t count;    /* items in the body */
	uint32_t req_id;   /* chosen by the client, echoed in the reply */
} sxw_header;

/* The body length of the frame starting at h; needs 4 bytes of it, so a
 * receiver can size or refuse a frame before its header is complete. */
static inline uint32_t sxw_header_len(const uint8_t *h)
{
	return sx_le_get32(h);
}

/* Decode the SXB_HEADER bytes at h into *out.  No check of the values:
 * the caller compares len with SXB_MAX_BODY and knows which ops it takes. */
static inline void sxw_header_decode(const uint8_t *h, sxw_header *out)
{
	out->len = sx_le_get32(h);
	out->op = h[4];
	out->flags = h[5];
	out->count = sx_le_get16(h + 6);
	out->req_id = sx_le_get32(h + 8);
}

/* Write a header with flags 0 into the SXB_HEADER bytes at h.  A sender
 * that learns the body length only after writing the body writes 0 and
 * patches it with sxw_header_set_len. */
static inline void sxw_header_encode(uint8_t *h, uint32_t len, unsigned op,
                                     unsigned count, uint32_t req_id)
{
	sx_le_put32(h, len);
	h[4] = (uint8_t)op;
	h[5] = 0;
	sx_le_put16(h + 6, (uint16_t)count);
	sx_le_put32(h + 8, req_id);
}

static inline void sxw_header_set_len(uint8_t *h, uint32_t len)
{
	sx_le_put32(h, len);
}

/* ---- reading a body ------------------------------------------------------ */

/* A cursor over body bytes [p, end).  The bytes belong to the caller and
 * must stay put while the cursor or any string read from it is used. */
typedef struct sxw_rd {
	const uint8_t *p, *end;
} sxw_rd;

static inline void sxw_rd_init(sxw_rd *r, const void *body, size_t len)
{
	r->p = (const uint8_t *)body;
	r->end = r->p + len;
}

/* Bytes not read yet; 0 when the body has been read exactly. */
static inline size_t sxw_rd_left(const sxw_rd *r)
{
	return (size_t)(r->end - r->p);
}

/* Each reader returns 0 and advances, or -1 (and does not move) when the
 * field would run past the end. */
static inline int sxw_rd_u8(sxw_rd *r, uint8_t *v)
{
	if (r->p >= r->end)
		return -1;
	*v = *r->p++;
	return 0;
}

static inline int sxw_rd_u16(sxw_rd *r, uint16_t *v)
{
	if (sxw_rd_left(r) < 2)
		return -1;
	*v = sx_le_get16(r->p);
	r->p += 2;
	return 0;
}

static inline int sxw_rd_u32(sxw_rd *r, uint32_t *v)
{
	if (sxw_rd_left(r) < 4)
		return -1;
	*v = sx_le_get32(r->p);
	r->p += 4;
	return 0;
}

/* n raw bytes; *p points at them in the body. */
static inline int sxw_rd_bytes(sxw_rd *r, size_t n, const uint8_t **p)
{
	if (sxw_rd_left(r) < n)
		return -1;
	*p = r->p;
	r->p += n;
	return 0;
}

/* A u8 length and that many bytes (query context, IDs, AUTH fields).  An
 * empty string gives s->p == NULL: "not given", as sx_str means it. */
static inline int sxw_rd_str8(sxw_rd *r, sx_str *s)
{
	if (r->p >= r->end)
		return -1;
	size_t n = r->p[0];
	if (sxw_rd_left(r) - 1 < n)
		return -1;
	s->p = n ? (const char *)r->p + 1 : NULL;
	s->n = n;
	r->p += 1 + n;
	return 0;
}

/* A u16 length and that many bytes (EXEC arguments, records, error
 * text).  s->p always points into the body, also when s->n is 0: an empty
 * argument is an argument. */
static inline int sxw_rd_str16(sxw_rd *r, sx_str *s)
{
	if (sxw_rd_left(r) < 2)
		return -1;
	size_t n = sx_le_get16(r->p);
	if (sxw_rd_left(r) - 2 < n)
		return -1;
	s->p = (const char *)r->p + 2;
	s->n = n;
	r->p += 2 + n;
	return 0;
}

/* ---- writing strings ------------------------------------------------------ */

/* Write n (at most 255) as a u8 and the n bytes of s at dst; s may be NULL
 * when n is 0.  The caller has reserved 1 + n bytes.  Returns 1 + n. */
static inline size_t sxw_put_str8(uint8_t *dst, const char *s, size_t n)
{
	dst[0] = (uint8_t)n;
	if (n)
		memcpy(dst + 1, s, n);
	return 1 + n;
}

/* Write n (at most 65535) as a u16 and the n bytes of s at dst; s may be
 * NULL when n is 0.  The caller has reserved 2 + n bytes.  Returns 2 + n. */
static inline size_t sxw_put_str16(uint8_t *dst, const char *s, size_t n)
{
	sx_le_put16(dst, (uint16_t)n);
	if (n)
		memcpy(dst + 2, s, n);
	return 2 + n;
}

#endif
