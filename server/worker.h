/*
 * worker.h - one I/O thread: its connections, its snapshot for the current
 * loop iteration, its statistics and scratch space, and the loop steps both
 * I/O backends share.
 *
 * A backend (io_uring.c, io_epoll.c) owns the loop and the sockets; per
 * iteration it calls, in this order:
 *
 *   sx_worker_online()    take the serving snapshot (qsbr.h) and the time
 *   ... its completions/events, feeding sx_conn_input(), sx_worker_accept()
 *       and, when the doorbell rang, sx_worker_bell() ...
 *   sx_worker_tick()      once a second: request and idle timeouts,
 *                         lingering closes, the drain deadline, a sample
 *                         of the counters for the status page (status.h)
 *   sx_worker_flush()     one send per connection with output (through
 *                         io->send), closes that are due (io->close)
 *   sx_worker_done()      stop when draining is finished
 *   sx_worker_offline()   then block in the kernel
 *
 * The doorbell is an eventfd that other threads write when they post a
 * finished job to the mailbox or ask the server to stop.
 *
 * The worker is the top of the request path: it owns the connections
 * (conn.h), lends its context (ctx.h: snapshot, counters, scratch) to the
 * code below, and is the only one that talks to the job thread on a
 * connection's behalf (sx_worker_submit): jobs come back through its
 * mailbox and are handed to the connection that waits, if it still exists.
 */
#ifndef SX_WORKER_H
#define SX_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "conn.h"
#include "ctx.h"
#include "jobs.h"
#include "qsbr.h"
#include "tls.h"

struct sx_srv;
struct sx_worker;

/* Listeners: each protocol in the clear (index SX_PROTO_*), then over TLS
 * (SX_NPROTO + SX_PROTO_*). */
#define SX_NLISTEN (2 * SX_NPROTO)
static inline int sx_listen_proto(int l) { return l % SX_NPROTO; }
static inline int sx_listen_tls(int l) { return l >= SX_NPROTO; }

/* What an I/O backend provides. */
typedef struct sx_io_ops {
	const char *name;
	/* Set up and run the loop on the calling (worker) thread until
	 * sx_worker_done(): sx_worker_started(w, 0, NULL) once set up.  A
	 * setup failure returns -errno with the reason in w->setup_why,
	 * without reporting (the caller may fall back to another backend). */
	int (*run)(struct sx_worker *w);
	/* Start sending c->out (nothing is in flight).  May finish at once. */
	void (*send)(struct sx_worker *w, sx_conn *c);
	/* Tear c down (DEAD is set); call sx_worker_release() once nothing in
	 * flight refers to it. */
	void (*close)(struct sx_worker *w, sx_conn *c);
	/* Stop accepting (drain). */
	void (*unlisten)(struct sx_worker *w);
} sx_io_ops;

extern const sx_io_ops sx_io_uring, sx_io_epoll;

/*
 * Can this kernel run the io_uring backend?  Tries ring flags from the
 * best down (SINGLE_ISSUER|DEFER_TASKRUN, COOP_TASKRUN, none), then a
 * provided-buffer ring and a multishot recv on a socket pair.  Returns 0
 * with the flags to use and their names in desc, or -errno with the
 * reason in why.
 */
int sx_uring_probe(unsigned *flags, char *desc, size_t desccap, char *why, size_t whycap);

typedef struct sx_worker {
	sx_ctx x;                    /* first: what the code below may use */
	struct sx_srv *srv;
	const sx_io_ops *io;
	void *io_state;
	int id;
	pthread_t thr;
	int lfd[SX_NLISTEN];         /* listening sockets by listener, -1: off */
	int bell;                    /* eventfd */

	sx_qsbr_reader *rd;

	/* Connections by slot; free slots on a stack. */
	sx_conn **conns;
	uint32_t nslots, nconns, nfree;
	uint32_t *freelist;
	uint32_t serial;
	/* Connections with output to send or a close to do. */
	sx_conn **dirty;
	uint32_t ndirty, dirty_cap;

	/* Finished jobs, posted by the job thread. */
	pthread_mutex_t mbx_lock;
	sx_job *mbx_head, *mbx_tail;
	uint32_t jobs_pending;       /* submitted, not yet delivered */

	int64_t next_tick;
	/* Monotonic milliseconds at the top of the last loop iteration: the
	 * heartbeat the watchdog checks (sx_srv_alive; main.c). */
	_Atomic int64_t beat_ms;
	int stopping;
	int64_t drain_deadline;
	char setup_why[160];         /* why the backend could not start */

} sx_worker;

/* Allocate scratch, the doorbell and the mailbox.  0 or -errno. */
int sx_worker_init(sx_worker *w, struct sx_srv *srv, int id);
/* Free everything, closing any connection still open. */
void sx_worker_fini(sx_worker *w);

/* The 64-bit tag both backends give the kernel (io_uring user_data,
 * epoll data): bits 0..7 what it is, 8..31 the connection's slot (or the
 * protocol of a listener), 32..63 its serial. */
static inline uint64_t sx_ud_pack(unsigned op, uint32_t slot, uint32_t serial)
{
	return (uint64_t)serial << 32 | (uint64_t)(slot & 0xffffffu) << 8 | op;
}
static inline unsigned sx_ud_op(uint64_t u) { return (unsigned)(u & 0xff); }
static inline uint32_t sx_ud_slot(uint64_t u) { return (uint32_t)(u >> 8) & 0xffffffu; }
static inline uint32_t sx_ud_serial(uint64_t u) { return (uint32_t)(u >> 32); }

/* Register a socket accepted on listener l; NULL when refused (too many
 * clients: the client is told and fd closed). */
sx_conn *sx_worker_accept(sx_worker *w, int fd, int l);
/* Cut c off now (DEAD) and let the backend tear it down. */
void sx_worker_kill(sx_worker *w, sx_conn *c);
/* Backend: c's fd is closed and nothing refers to it; forget it. */
void sx_worker_release(sx_worker *w, sx_conn *c);
/* c has output or a pending close: flush it this iteration. */
void sx_worker_dirty_slow(sx_worker *w, sx_conn *c);
static inline void sx_worker_dirty(sx_worker *w, sx_conn *c)
{
	if (!(c->flags & SX_CF_DIRTY))
		sx_worker_dirty_slow(w, c);
}
/* The connection (slot, serial), or NULL when it is gone. */
static inline sx_conn *sx_worker_conn(sx_worker *w, uint32_t slot, uint32_t serial)
{
	if (slot >= w->nslots)
		return NULL;
	sx_conn *c = w->conns[slot];
	return c && c->serial == serial ? c : NULL;
}

/* Submit a job that will answer c (counted as pending; c waits, see
 * sx_conn_wait): its result comes back through w's mailbox. */
void sx_worker_submit(sx_worker *w, sx_conn *c, sx_job *job);

/* Setup finished with rc (0 or -errno, reason in why); the server's
 * start waits for every worker to report once. */
void sx_worker_started(sx_worker *w, int rc, const char *why);
/* Backend: the peer closed its side (recv returned 0). */
void sx_worker_eof(sx_worker *w, sx_conn *c);

/* ---- the transport: what the backends call instead of the connection ---- */

/* Bytes received for c: plain ones go to the connection, TLS ones are
 * decrypted first (tls.h); a TLS failure cuts c off. */
void sx_transport_input(sx_worker *w, sx_conn *c, char *data, size_t n);
/* The buffer whose bytes go on the wire next: c->out, or for TLS the
 * ciphertext of it. */
static inline sx_obuf *sx_transport_wire(sx_conn *c)
{
	return c->tls ? sx_tls_wire(c) : &c->out;
}
/* n bytes of the wire buffer were sent. */
static inline void sx_transport_sent(sx_conn *c, size_t n)
{
	sx_obuf_consume(c->wire ? c->wire : &c->out, n);
}

/* Loop steps (see the file comment). */
void sx_worker_online(sx_worker *w);
void sx_worker_offline(sx_worker *w);
void sx_worker_bell(sx_worker *w);
void sx_worker_tick(sx_worker *w);
void sx_worker_flush(sx_worker *w);
int sx_worker_done(const sx_worker *w);
/* How long the backend may block, in milliseconds. */
int sx_worker_wait_ms(const sx_worker *w);

#endif
