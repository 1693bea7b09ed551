/*
 * jobs.h - work that must not run on an I/O thread: mapping and verifying
 * a snapshot (RELOAD, SIGHUP: ~100 ms for 10 M records), checking a
 * yescrypt hash (AUTH: tens of ms), and live updates (an fsync each).
 *
 * One job thread takes jobs in order from a queue and runs them.  The
 * queue knows nothing of who waits: a job's result is {rc, text}, and
 * whoever submitted it sets `complete`, which the job thread calls after
 * `run` to hand the job back (the worker posts it to its mailbox and
 * writes the reply on its own thread, worker.h; the stream follower wakes
 * itself).  Without `complete` the job is simply freed (`done`).  One
 * thread also serialises reloads and updates, which need exactly one
 * writer of the serving state (qsbr.h).
 */
#ifndef SX_JOBS_H
#define SX_JOBS_H

#include <stdint.h>

struct sx_tenant;

#define SX_JOB_TEXT 512

typedef struct sx_job sx_job;
struct sx_job {
	sx_job *next;
	void (*run)(sx_job *job);       /* job thread: sets rc and text */
	void (*complete)(sx_job *job);  /* job thread, after run: hand it back */
	void (*done)(sx_job *job);      /* frees the job */
	/* The submitter's: who waits. */
	void *owner;
	uint32_t slot, serial;
	/* Result: rc 0 with text "OK 2", or rc < 0 with text "ERR reload
	 * failed: ..." (the error's first word is its code, as in RESP). */
	int rc;
	const struct sx_tenant *tenant; /* AUTH: authenticated as this tenant */
	char text[SX_JOB_TEXT];
};

/* Set a job's result (printf-style text). */
void sx_job_result(sx_job *job, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

typedef struct sx_jobs sx_jobs;

/* Start the job thread.  Returns 0 or -errno. */
int sx_jobs_start(sx_jobs **out);
/* Queue a job (any thread).  Never fails. */
void sx_jobs_submit(sx_jobs *j, sx_job *job);
/* Run what is queued, then stop and join the thread; free. */
void sx_jobs_stop(sx_jobs *j);

#endif
