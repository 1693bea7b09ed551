/*
 * conn.h - one client connection: its input and output buffers, its
 * protocol (RESP or binary) and authentication, and the state of a request
 * that waits for a job.
 *
 * The connection is the seam between the I/O backends and the protocols.
 * A backend hands it received bytes (sx_conn_input) and sends whatever its
 * output buffer holds; it never looks at the bytes.  The protocol code
 * parses, runs commands and appends replies, and never touches a socket.
 * Received bytes are parsed where they landed (the backend's receive
 * buffer) whenever no partial request is pending, so the common case of
 * whole requests per read copies nothing; only the tail of a request cut
 * by a read boundary is kept in the connection's own input buffer, which
 * grows up to SX_CONN_MAX_FRAME (then it is a protocol error).
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

#include "obuf.h"
#include "tenant.h"

struct sx_worker;
struct sx_job;

enum { SX_PROTO_RESP = 0, SX_PROTO_BIN = 1, SX_NPROTO };

#define SX_CONN_MAX_FRAME   (4u << 20)   /* one request, either protocol */
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
	SX_CF_HELLO    = 1 << 6,   /* binary: HELLO done */
	SX_CF_EXEC     = 1 << 7,   /* binary: a command runs inside EXEC */
	SX_CF_RELEASED = 1 << 8,   /* gone from the table; free when unlisted */
	SX_CF_KILL     = 1 << 9,   /* cut off at the next flush (no reply) */
};

/* How the reply of a blocked request is framed. */
enum { SX_WAIT_RESP, SX_WAIT_EXEC, SX_WAIT_BIN_AUTH };

/* State of the I/O backend (both use the same fields where they can). */
typedef struct sx_conn_io {
	uint16_t inflight;      /* io_uring operations that refer to the conn */
	uint8_t sending;        /* a send is in flight / waiting for EPOLLOUT */
	uint8_t recv_armed;     /* io_uring multishot recv armed */
	uint8_t want_out;       /* epoll: EPOLLOUT registered */
	struct msghdr msg;      /* io_uring sendmsg (stable while in flight) */
	struct iovec iov[SX_CONN_IOV];
} sx_conn_io;

typedef struct sx_conn {
	int fd;
	uint32_t slot, serial;       /* identity in the worker's table */
	uint16_t flags;
	uint8_t proto;
	uint8_t wait;                /* SX_WAIT_* while BLOCKED */
	uint32_t wait_req;           /* binary req_id of the blocked request */
	uint32_t exec_req;           /* binary req_id while EXEC runs */
	struct sx_worker *w;
	const sx_tenant *tenant;     /* authenticated as; NULL: not (yet) */
	sx_addr addr;
	int64_t last_active;         /* worker clock, seconds */
	uint64_t req_since;          /* sx_now_ns() when the oldest unprocessed
	                              * input arrived (meaningful while ilen > 0) */
	int64_t linger_until;
	char *ibuf;                  /* unprocessed input (a partial request) */
	size_t ilen, icap;
	size_t need;                 /* don't reparse before ilen reaches this */
	sx_obuf out;
	sx_conn_io io;
} sx_conn;

/* A connection for fd (already accepted).  Out of memory aborts. */
sx_conn *sx_conn_new(struct sx_worker *w, int fd, int proto, const sx_addr *addr);
/* Free buffers and the struct (the backend has closed fd). */
void sx_conn_free(sx_conn *c);

/*
 * Received bytes.  Runs every complete request, appends replies, marks
 * the connection for flushing.  data may be modified (inline unquoting)
 * and is not referred to after return.
 */
void sx_conn_input(sx_conn *c, char *data, size_t n);

/* A handler hands its request to a job: hold input until sx_conn_finish. */
void sx_conn_block(sx_conn *c);
/* The job is done: write its reply, run held input. */
void sx_conn_finish(sx_conn *c, const struct sx_job *job);

/* An incomplete request was held longer than --request-timeout: drop the
 * held input, tell the client why in its protocol, then close. */
void sx_conn_request_timeout(sx_conn *c);

/* Reply, then close (QUIT). */
void sx_conn_close_after_reply(sx_conn *c);
/* A protocol error (reply already written): count, then close. */
void sx_conn_proto_error(sx_conn *c);

#endif
