/*
 * conn.h - one client connection: its input and output buffers, its
 * protocol and authentication, and the state of a request that waits for
 * a job.
 *
 * Layers, from the socket up: an I/O backend (io_uring.c, io_epoll.c) and
 * its worker (worker.h) own the socket and the loop; the connection owns
 * the buffers, limits, timeouts and closing; the protocol (proto.h) owns
 * the bytes' meaning.  A backend hands the connection received bytes
 * (sx_conn_input) and sends whatever its output buffer holds; it never
 * looks at the bytes.  The connection hands them to its protocol through
 * the protocol's ops table and knows no protocol's bytes itself.
 *
 * Buffers and who owns them: received bytes are parsed where they landed
 * (the backend's receive buffer, an io_uring provided buffer that goes
 * back to the kernel as soon as sx_conn_input returns) whenever no partial
 * request is pending, so the common case of whole requests per read copies
 * nothing.  So nothing may keep a pointer into the input after
 * sx_conn_input returns: a command that hands work to a job copies what
 * the job needs into the job (auth.c, reload.c, live.c do).  Only the tail
 * of a request cut by a read boundary is kept in the connection's own
 * input buffer, which grows up to SX_CONN_MAX_FRAME.
 *
 * Closing is a small state machine driven by flags:
 *   CLOSING  reply, then close (QUIT, protocol error, EOF, drain): input
 *            is ignored from now on;
 *   LINGER   output sent, write side shut down; input is read and dropped
 *            until the peer closes or a short timeout, so that the last
 *            reply is not destroyed by a reset (closing a socket with
 *            unread input sends RST);
 *   DEAD     torn down by the backend; freed once no I/O refers to it.
 */
#ifndef SX_CONN_H
#define SX_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "ctx.h"
#include "obuf.h"
#include "proto.h"
#include "tenant.h"

struct sx_worker;
struct sx_job;

#define SX_CONN_MAX_FRAME   (4u << 20)   /* one request, any protocol */
#define SX_CONN_MAX_PREAUTH (64u << 10)  /* unprocessed input before AUTH */
#define SX_CONN_MAX_BACKLOG (64u << 20)  /* input held while blocked */
#define SX_CONN_IOV         16           /* chunks per send */
#define SX_CONN_LINGER_S    2

enum {
	SX_CF_BLOCKED  = 1 << 0,   /* a request waits for a job; input is held */
	SX_CF_CLOSING  = 1 << 1,   /* close once the output is sent */
	SX_CF_LINGER   = 1 << 2,   /* write side shut; dropping input */
	SX_CF_DEAD     = 1 << 3,   /* torn down */
	SX_CF_DIRTY    = 1 << 4,   /* on the worker's flush list */
	SX_CF_EOF      = 1 << 5,   /* the peer shut its write side */
	SX_CF_RELEASED = 1 << 8,   /* gone from the table; free when unlisted */
	SX_CF_KILL     = 1 << 9,   /* cut off at the next flush (no reply) */
	SX_CF_CERT     = 1 << 10,  /* tenant bound by its client certificate */
	SX_CF_TLS_BYE  = 1 << 11,  /* TLS close_notify queued */
	SX_CF_PROXY    = 1 << 12,  /* a PROXY protocol header is still due
	                            * (transport_proxy.h) */
	SX_CF_METRICS_AUTH = 1 << 13, /* HTTP: /metrics needs credentials here */
	SX_CF_NO_API   = 1 << 14,  /* HTTP: plain off loopback without
	                            * --allow-plain: the API is refused here */
};

/* State of the I/O backend (both use the same fields where they can). */
typedef struct sx_conn_io {
	uint16_t inflight;      /* io_uring operations that refer to the conn */
	uint8_t sending;        /* a send is in flight / waiting for EPOLLOUT */
	uint8_t recv_armed;     /* io_uring multishot recv armed */
	uint8_t want_out;       /* epoll: EPOLLOUT registered */
	struct msghdr msg;      /* io_uring sendmsg (stable while in flight) */
	struct iovec iov[SX_CONN_IOV];
} sx_conn_io;

/* A protocol's own per-connection state (its file says what each means). */
typedef union sx_conn_pstate {
	struct {
		uint8_t hello;          /* 0 before HELLO, then the version agreed */
		uint8_t wait;           /* how the awaited job's reply is framed */
		uint32_t wait_req;      /* req_id of the request that waits */
	} bin;
	struct {
		uint8_t keep_alive;     /* the request being answered keeps it */
		uint8_t head;           /* ... and is a HEAD */
		uint8_t wait;           /* the awaited job: 0 a secret's check,
		                         * else the API route (api.h) it answers */
		uint8_t verdict;        /* a checked secret's outcome for the held
		                         * request that waited for it (proto_http.c) */
	} http;
} sx_conn_pstate;

typedef struct sx_conn {
	int fd;
	uint32_t slot, serial;       /* identity in the worker's table */
	uint16_t flags;
	const sx_proto *proto;
	sx_conn_pstate ps;
	sx_ctx *x;                   /* the thread's context */
	struct sx_worker *w;
	struct sx_job *job;          /* set by the protocol: submit after process */
	const sx_tenant *tenant;     /* authenticated as; NULL: not (yet) */
	sx_addr addr;                /* the client's: the peer's, or what its
	                              * proxy's PROXY header says */
	uint16_t port;               /* the client's port (the audit trail) */
	int64_t last_active;         /* worker clock, seconds */
	int64_t born;                /* worker clock when accepted */
	uint64_t req_since;          /* sx_mono_ns() when the oldest unprocessed
	                              * input arrived (meaningful while ilen > 0) */
	int64_t linger_until;
	char *ibuf;                  /* unprocessed input (a partial request) */
	size_t ilen, icap;
	size_t need;                 /* don't reparse before ilen reaches this */
	sx_obuf out;                 /* replies, as the protocol wrote them */
	sx_obuf *wire;               /* TLS: the ciphertext to send (tls.h); NULL:
	                              * plain, out goes on the wire as it is */
	struct sx_tls *tls;
	uint8_t *pp_held;            /* PROXY: the start of a header cut by a
	                              * read boundary (transport_proxy.h) */
	uint16_t pp_len;
	sx_conn_io io;
} sx_conn;

/* A connection for fd (already accepted).  Out of memory aborts. */
sx_conn *sx_conn_new(struct sx_worker *w, sx_ctx *x, int fd, const sx_proto *proto,
                     const sx_addr *addr);
/* Free buffers and the struct (the backend has closed fd). */
void sx_conn_free(sx_conn *c);

/*
 * Received bytes.  Runs every complete request, appends replies, marks
 * the connection for flushing.  data may be modified (inline unquoting)
 * and is not referred to after return.
 */
void sx_conn_input(sx_conn *c, char *data, size_t n);

/* The job is done: let the protocol write its reply, run held input. */
void sx_conn_finish(sx_conn *c, const struct sx_job *job);

/* An incomplete request was held longer than --request-timeout: drop the
 * held input, tell the client why in its protocol, then close. */
void sx_conn_request_timeout(sx_conn *c);

/* ---- for protocols ------------------------------------------------------ */

/* Is c authenticated, or is no AUTH needed? */
static inline int sx_conn_authed(const sx_conn *c)
{
	return c->tenant || !c->x->tenants;
}
/* Hand the request to job: input is held until it is done, and the
 * protocol's job_reply answers.  The connection submits it once the
 * protocol returns. */
static inline void sx_conn_wait(sx_conn *c, struct sx_job *job)
{
	c->job = job;
	c->flags |= SX_CF_BLOCKED;
}
/* Reply, then close (QUIT, HTTP without keep-alive). */
static inline void sx_conn_close_after_reply(sx_conn *c)
{
	c->flags |= SX_CF_CLOSING;
}
/* A protocol error (reply already written): count, then close. */
static inline void sx_conn_proto_error(sx_conn *c)
{
	sx_stat_inc(c->x->stats.proto_errors);
	c->flags |= SX_CF_CLOSING;
}
/* Bytes written and not yet sent, in either buffer. */
static inline size_t sx_conn_unsent(const sx_conn *c)
{
	return c->out.pending + (c->wire ? c->wire->pending : 0);
}
/* Stop processing input now (waiting, closing, or over the output cap)? */
static inline int sx_conn_stopped(const sx_conn *c)
{
	return (c->flags & (SX_CF_BLOCKED | SX_CF_CLOSING | SX_CF_DEAD | SX_CF_KILL)) ||
	       c->out.pending > c->x->cfg_max_output;
}

#endif
