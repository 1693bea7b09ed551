/*
 * proto.h - what a connection needs of its protocol: one ops table per
 * protocol (RESP, binary, HTTP), chosen by the listener a client came in
 * on.
 *
 * The connection (conn.c) owns the bytes: it hands the protocol whatever
 * unprocessed input it has, keeps what the protocol did not consume, and
 * tells the protocol about the events that need words in its language (a
 * job finished, input over the limit, a request that took too long).  The
 * protocol parses, runs commands (cmd.h) and writes replies to c->out; it
 * never touches a socket, a timer or the connection table.
 *
 * A TLS transport plugs in below the connection (it decrypts into the
 * bytes handed to sx_conn_input and encrypts what c->out holds), so no
 * protocol or command changes for it.
 */
#ifndef SX_SRV_PROTO_H
#define SX_SRV_PROTO_H

#include <stddef.h>

struct sx_conn;
struct sx_job;

/* Why input is refused (error op). */
enum { SX_PERR_TOO_LARGE, SX_PERR_PREAUTH_TOO_LARGE };

typedef struct sx_proto {
	const char *name;                    /* "resp", "binary", "http" */
	/* Run the complete requests of buf[0..len); return the bytes consumed
	 * and set c->need when a request is incomplete.  buf may be modified
	 * and is not referred to after return.  Stops early when the
	 * connection waits for a job, closes, or its output is over the cap. */
	size_t (*process)(struct sx_conn *c, char *buf, size_t len);
	/* The job c waited for is done: write its reply. */
	void (*job_reply)(struct sx_conn *c, const struct sx_job *job);
	/* Input refused (SX_PERR_*, limit in bytes): say why; the connection
	 * closes after the reply. */
	void (*error)(struct sx_conn *c, int why, size_t limit);
	/* A request stayed incomplete for secs seconds: say so; the
	 * connection closes after the reply. */
	void (*timeout)(struct sx_conn *c, int secs);
	/* Bytes telling a client over --max-clients so, written to the socket
	 * before any connection exists; returns their length. */
	size_t (*refuse)(char *buf, size_t cap);
	/* The connection may not go on (its client certificate's tenant is at
	 * its max-conns): say msg ("ERR ...") unasked; it closes after it. */
	void (*deny)(struct sx_conn *c, const char *msg);
	/* Unprocessed input a connection may hold before it authenticates
	 * (0: SX_CONN_MAX_PREAUTH).  HTTP has no AUTH before a request: its
	 * credentials come with each request, body and all. */
	size_t preauth_input;
} sx_proto;

enum { SX_PROTO_RESP = 0, SX_PROTO_BIN = 1, SX_PROTO_HTTP = 2, SX_NPROTO };

/* By listener index (SX_PROTO_*). */
extern const sx_proto *const sx_protos[SX_NPROTO];
extern const sx_proto sx_proto_resp, sx_proto_bin, sx_proto_http;

#endif
