/*
 * jobs.h - work that must not run on an I/O thread: mapping and verifying
 * a snapshot (RELOAD, SIGHUP: ~100 ms for 10 M records) and checking a
 * yescrypt hash (AUTH: tens of ms).
 *
 * One job thread takes jobs in order from a queue.  A job that answers a
 * connection names it by (worker, slot, serial); the connection is blocked
 * meanwhile (its later requests wait, so replies stay in order), and the
 * finished job is handed back to the worker's mailbox (worker.h), which
 * writes the reply, or drops it when the connection has gone.  One thread
 * also serialises reloads, which need exactly one writer (qsbr.h).
 */
#ifndef SX_JOBS_H
#define SX_JOBS_H

#include <stdint.h>

struct sx_worker;
struct sx_tenant;

typedef struct sx_job sx_job;
struct sx_job {
	sx_job *next;
	void (*run)(sx_job *job);       /* on the job thread: fills the result */
	void (*done)(sx_job *job);      /* after delivery (or instead of it, when
	                                   nobody waits): frees the job */
	/* Who waits: w == NULL for nobody (SIGHUP). */
	struct sx_worker *w;
	uint32_t slot, serial;
	/* Result. */
	const struct sx_tenant *tenant; /* AUTH succeeded as this tenant */
	char reply[512];                /* RESP reply line, no CRLF: "+OK 2",
	                                   "-ERR reload failed: ..." */
};

typedef struct sx_jobs sx_jobs;

/* Start the job thread.  Returns 0 or -errno. */
int sx_jobs_start(sx_jobs **out);
/* Queue a job (any thread).  Never fails. */
void sx_jobs_submit(sx_jobs *j, sx_job *job);
/* Run what is queued, then stop and join the thread; free. */
void sx_jobs_stop(sx_jobs *j);

#endif
