/*
 * sxproto.h - the wire constants of sxgate's binary protocol, versions 1
 * and 2 (docs/protocol.md is the byte-by-byte description; this file only
 * names its numbers so that no one types 0x90 twice).  Version 2 adds the
 * decision REVIEW (SXB_REVIEW); a version 1 connection never sees it: such
 * a result is an error item instead.
 *
 * Every frame is a 12-byte little-endian header and a body:
 *
 *   offset 0  u32 len      body bytes after the header (0 .. SXB_MAX_BODY)
 *   offset 4  u8  op       SXB_OP_*; replies have bit 7 (SXB_OP_REPLY) set
 *   offset 5  u8  flags    0, ignored by receivers
 *   offset 6  u16 count    items in the body (CHECK, LISTED, EXEC), else 0
 *   offset 8  u32 req_id   chosen by the client, echoed in the reply
 *
 * Header only, no code: the client library and the server may both include
 * it.  The names use the SXB_ prefix of docs/protocol.md.
 */
#ifndef SX_PROTO_H
#define SX_PROTO_H

#define SXB_MAGIC        "SXGB"
#define SXB_VERSION      2       /* the newest version spoken */
#define SXB_VERSION_MIN  1       /* the oldest version still served */
#define SXB_HEADER       12
#define SXB_MAX_BODY     1048576u
#define SXB_MAX_BATCH    4096u
#define SXB_MAX_PING     256u
#define SXB_MAX_ID       64u     /* bytes of one ID in a CHECK/LISTED body */
#define SXB_MAX_CTX      255u    /* bytes of one query-context string */

#define SXB_OP_REPLY     0x80u

/* name, op, reply op (0 when the server sends it unasked) */
#define SXB_OPS(X)                          \
	X(SXB_OP_HELLO,  0x01, 0x81)        \
	X(SXB_OP_AUTH,   0x02, 0x82)        \
	X(SXB_OP_PING,   0x03, 0x83)        \
	X(SXB_OP_CHECK,  0x10, 0x90)        \
	X(SXB_OP_LISTED, 0x11, 0x91)        \
	X(SXB_OP_EXEC,   0x40, 0xC0)

enum {
#define X(name, op, rep) name = op, name##_REPLY = rep,
	SXB_OPS(X)
#undef X
	SXB_OP_ERROR = 0xFF
};

/* HELLO reply flags */
#define SXB_HELLO_AUTH_REQUIRED 0x0001u

/* CHECK result: kind, decision */
#define SXB_KIND_DECISION 0
#define SXB_KIND_ERROR    1
#define SXB_ALLOW         0
#define SXB_DENY          1
#define SXB_REVIEW        2       /* version 2 on */

/* CHECK result reasons: wire code, decision, name.  The same numbering as
 * SX_REASONS in engine/decide.h (kept apart so that a client needs no
 * engine header), except that REVIEW has no reason of its own: it is
 * decision SXB_REVIEW with reason SXB_R_LISTED, as RESP says
 * "REVIEW" "LISTED".  The decision column is that of SXB_DENY / SXB_ALLOW. */
#define SXB_REASONS(X)                                   \
	X(SXB_R_LISTED,         0, "DENY",  "LISTED")         \
	X(SXB_R_SUSPENDED,      1, "ALLOW", "SUSPENDED")      \
	X(SXB_R_EXEMPT,         2, "ALLOW", "EXEMPT")         \
	X(SXB_R_NOT_RESTRICTED, 3, "ALLOW", "NOT_RESTRICTED") \
	X(SXB_R_NOT_LISTED,     4, "ALLOW", "NOT_LISTED")

enum {
#define X(e, code, d, r) e = code,
	SXB_REASONS(X)
#undef X
	SXB_NREASONS
};

/* LISTED result byte */
#define SXB_LISTED_NO     0
#define SXB_LISTED_YES    1
#define SXB_LISTED_ERROR  0xFF

#endif
