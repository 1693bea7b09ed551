/*
 * transport_proxy.h - the PROXY protocol as the first step of the
 * transport (--proxy-protocol, docs/SERVER.md "PROXY protocol").
 *
 * A load balancer in front of sxgated (HAProxy's send-proxy-v2) opens each
 * connection with a header that names the client (proxyproto.h parses
 * it).  On a listener that takes it, a connection is admitted only from a
 * peer in --proxy-from (sx_proxy_admit, at accept) and is then marked
 * SX_CF_PROXY: the worker's transport (sx_transport_input) hands its
 * first bytes here before anything else sees them - before TLS on a TLS
 * listener, since the proxy sends the header in the clear ahead of the
 * client's ClientHello.  Once the header is whole, the connection's
 * address (c->addr, what the AUTH rate limit counts by) becomes the
 * client's, the flag is cleared, and the bytes after the header in that
 * same read go on, unchanged and in place, to TLS or the protocol.  From
 * then on the connection costs nothing more: the transport tests one flag.
 *
 * Buffers: the header is parsed where it landed (the backend's receive
 * buffer).  Only a header cut by a read boundary is copied, into a buffer
 * of SX_PP_MAX bytes allocated for that connection and freed as soon as
 * the header is whole; so a client can make the server hold at most 4 KiB
 * this way, and for at most the header timeout.
 *
 * Refusals (a peer not in --proxy-from, no header, a malformed, oversized
 * or late header, a close before it was whole) are counted (INFO
 * proxy_refused_*, /metrics sxgate_proxy_refused_total{reason}) and logged,
 * one line a second per thread at most; the connection is cut without a
 * word (it may be a TLS client: there is no language to answer it in).
 */
#ifndef SX_TRANSPORT_PROXY_H
#define SX_TRANSPORT_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"

/* The header must be whole within this many seconds of the connect (or
 * --request-timeout, when that is shorter and not 0); the worker's tick
 * checks once a second. */
#define SX_PROXY_TIMEOUT_S 5

/* A connection from peer on a listener that takes PROXY headers: 0 when
 * peer is in --proxy-from, else -1 (counted and logged; close it). */
int sx_proxy_admit(sx_ctx *x, const sx_addr *peer);

/* c came in on such a listener and was admitted: expect its header. */
void sx_proxy_expect(sx_conn *c);

enum {
	SX_PROXY_PASS,      /* the header is whole: go on with *data, *n (may be 0) */
	SX_PROXY_WAIT,      /* a valid prefix so far: held, nothing to pass on */
	SX_PROXY_FAIL,      /* refused (counted, logged): cut c off */
};

/* Bytes received while c expects its header (SX_CF_PROXY).  On PASS,
 * *data and *n are moved past the header (they point into the caller's
 * buffer, never into held bytes). */
int sx_proxy_input(sx_conn *c, char **data, size_t *n);

/* The worker's tick: has c waited longer than it may for its header?
 * 1 when it has (counted, logged; cut c off). */
int sx_proxy_late(sx_conn *c, uint64_t now_ns);

/* The peer closed before its header was whole: counted and logged when it
 * sent part of one (a connect-and-close port check is not an error). */
void sx_proxy_eof(sx_conn *c);

/* Free what c holds of a header (when c is freed). */
void sx_proxy_drop(sx_conn *c);

#endif
