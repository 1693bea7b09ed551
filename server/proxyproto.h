/*
 * proxyproto.h - the PROXY protocol header (HAProxy's proxy-protocol.txt,
 * version 1 text and version 2 binary) that a load balancer sends before
 * the client's first byte, to tell the server who the client is.
 *
 * This is the pure parser: bytes in, "need more", "this is the header and
 * it is this long", or "refused, because ...".  It knows no socket, no
 * connection and no listener; the transport (transport_proxy.c) feeds it
 * the first bytes of a connection, applies the address and hands the bytes
 * after the header, unchanged, to TLS or the protocol.
 *
 * The two forms, as the specification defines them:
 *
 *   v1  "PROXY TCP4 <src> <dst> <sport> <dport>\r\n" (TCP6 likewise, or
 *       "PROXY UNKNOWN ...\r\n"): one line of at most 107 bytes, CRLF
 *       included; single spaces; addresses as inet_pton reads them, ports
 *       0..65535 in decimal.
 *   v2  12 signature bytes 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A; a byte of
 *       version (high nibble, 2) and command (low nibble: 0 LOCAL, 1
 *       PROXY); a byte of family (0 UNSPEC, 1 INET, 2 INET6, 3 UNIX) and
 *       transport (0 UNSPEC, 1 STREAM, 2 DGRAM); a big-endian 16-bit length
 *       of what follows: the addresses (12 bytes for INET, 36 for INET6, 216
 *       for UNIX), then TLVs (type, 16-bit length, value).
 *
 * Decisions (the specification leaves some to the receiver):
 *   - Bounded: a v2 header may be at most SX_PP_MAX bytes (its length
 *     field is checked as soon as the 16 fixed bytes are in, so a length
 *     of 65535 is refused at once, not waited for); a v1 line that has no
 *     CRLF within 107 bytes is refused.  The caller bounds the time.
 *   - Early: the first bytes are compared with both signatures as they
 *     come, so a client that sends no header at all (a TLS ClientHello, a
 *     RESP command) is refused at its first differing byte.
 *   - The `need more` promise: every proper prefix of a valid header is
 *     SX_PP_MORE, never an error and never a shorter header, so a header
 *     split over any number of reads parses the same as one in one read.
 *   - LOCAL (v2; health checks of the proxy itself) and UNKNOWN (v1) carry
 *     no client: `local` is set and the caller keeps the connection's own
 *     peer address.  So do a v2 PROXY of family UNSPEC or UNIX (a client
 *     on a Unix socket of the proxy has no network address to limit).
 *   - v2 INET and INET6 must be STREAM (we serve TCP); other family or
 *     transport values, and versions or commands other than the above,
 *     are refused as the specification requires.
 *   - TLVs are skipped, but their framing is checked (each one must fit
 *     in the header, as HAProxy checks); their values, CRC32C included,
 *     are not interpreted.
 */
#ifndef SX_PROXYPROTO_H
#define SX_PROXYPROTO_H

#include <stddef.h>
#include <stdint.h>

#define SX_PP_V1_MAX 107          /* a v1 line, CRLF included (the spec's) */
#define SX_PP_V2_FIXED 16         /* signature, version/command, family, length */
#define SX_PP_MAX 4096            /* a v2 header, TLVs included (ours) */

enum {
	SX_PP_MORE = 0,           /* a valid prefix so far: read more */
	SX_PP_DONE = 1,           /* a whole header: see sx_pp_hdr */
	SX_PP_ERROR = -1,         /* not a valid header: see why */
};

typedef struct sx_pp_hdr {
	size_t len;               /* bytes of the header; what follows is the
	                             client's own */
	uint8_t version;          /* 1 or 2 */
	uint8_t local;            /* 1: no client address (v2 LOCAL, v1
	                             UNKNOWN, UNSPEC, UNIX): keep the peer's */
	uint8_t v6;               /* the addresses were IPv6 */
	uint8_t src[16], dst[16]; /* client and proxy-side server address; IPv4
	                             as v4-mapped IPv6 (::ffff:a.b.c.d) */
	uint16_t sport, dport;
	const char *why;          /* SX_PP_ERROR: what is wrong (static text) */
} sx_pp_hdr;

/*
 * Parse the start of a connection, p[0..n).  Returns SX_PP_DONE with the
 * header in *h (h->len bytes of p are the header), SX_PP_MORE when p is a
 * proper prefix of a header that may still be valid, or SX_PP_ERROR with
 * h->why.  Reads at most min(n, SX_PP_MAX) bytes of p and keeps no pointer
 * into it; never allocates.
 */
int sx_pp_parse(const uint8_t *p, size_t n, sx_pp_hdr *h);

#endif
