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
 *                         lingering closes, the drain deadline
 *   sx_worker_flush()     one send per connection with output (through
 *                         io->send), closes that are due (io->close)
 *   sx_worker_done()      stop when draining is finished
 *   sx_worker_offline()   then block in the kernel
 *
 * The doorbell is an eventfd that other threads write when they post a
 * finished job to the mailbox or ask the server to stop.
 */
#ifndef SX_WORKER_H
#define SX_WORKER_H

#include <pthread.h>
#include <stdint.h>

#include "conn.h"
#include "decide.h"
#include "jobs.h"
#include "qsbr.h"
#include "stats.h"

struct sx_srv;
struct sx_worker;

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

#define SX_BATCH 256   /* IDs decided per sx_decide_batch call */
#define SX_FMT_MIN 4096   /* initial record formatting buffer */

typedef struct sx_worker {
	struct sx_srv *srv;
	const sx_io_ops *io;
	void *io_state;
	int id;
	pthread_t thr;
	int lfd[SX_NPROTO];          /* listening sockets, -1 when off */
	int bell;                    /* eventfd */

	const sx_served *cur;        /* snapshot of this iteration */
	uint64_t scratch_gen;        /* scratch sized for this generation */
	sx_qsbr_reader *rd;
	sx_stats stats;

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

	int64_t now;                 /* monotonic seconds, per iteration */
	int64_t next_tick;
	uint64_t lat_t0;             /* latency: end of the previous command */
	int stopping;
	int64_t drain_deadline;
	char setup_why[160];         /* why the backend could not start */

	/* Scratch: no allocation per request. */
	sx_str *argv;                /* SX_RESP_MAX_ARGS */
	sx_query *qs;                /* SX_BATCH */
	sx_decision *ds;             /* SX_BATCH */
	uint8_t *okmap;              /* SX_BATCH */
	uint32_t *recs;
	size_t recs_cap;
	char *fmt;                   /* one formatted record */
	size_t fmt_cap;
	uint32_t *fb_recs;           /* feedback: records a refusal concerns */
	struct sx_feedback_case *fb_cases;
	size_t fb_cap;
} sx_worker;

/* Allocate scratch, the doorbell and the mailbox.  0 or -errno. */
int sx_worker_init(sx_worker *w, struct sx_srv *srv, int id);
/* Free everything, closing any connection still open. */
void sx_worker_fini(sx_worker *w);

/* Monotonic nanoseconds. */
uint64_t sx_now_ns(void);

/* Register an accepted socket; NULL when refused (too many clients: the
 * client is told and fd closed). */
sx_conn *sx_worker_accept(sx_worker *w, int fd, int proto);
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

/* Any thread: hand a finished job to w and ring its doorbell. */
void sx_worker_post(sx_worker *w, sx_job *job);
/* Submit a job that will answer c (counts it as pending, blocks c). */
void sx_worker_submit(sx_worker *w, sx_conn *c, sx_job *job);

/* Setup finished with rc (0 or -errno, reason in why); the server's
 * start waits for every worker to report once. */
void sx_worker_started(sx_worker *w, int rc, const char *why);
/* Backend: the peer closed its side (recv returned 0). */
void sx_worker_eof(sx_worker *w, sx_conn *c);

/* Loop steps (see the file comment). */
void sx_worker_online(sx_worker *w);
void sx_worker_offline(sx_worker *w);
void sx_worker_bell(sx_worker *w);
void sx_worker_tick(sx_worker *w);
void sx_worker_flush(sx_worker *w);
int sx_worker_done(const sx_worker *w);
/* How long the backend may block, in milliseconds. */
int sx_worker_wait_ms(const sx_worker *w);

/* Latency accounting around commands (conn.c, bin.c). */
static inline void sx_worker_lat_start(sx_worker *w)
{
	w->lat_t0 = sx_now_ns();
}
static inline void sx_worker_lat_mark(sx_worker *w)
{
	uint64_t t = sx_now_ns();
	sx_stats_lat(&w->stats, t - w->lat_t0);
	w->lat_t0 = t;
}

#endif
