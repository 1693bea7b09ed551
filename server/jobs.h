/*
 * jobs.h - work that must not run on an I/O thread: mapping and verifying
 * a snapshot (RELOAD, SIGHUP: ~100 ms for 10 M records), checking a
 * yescrypt hash (AUTH: tens of ms), and live updates (an fsync each).
 *
 * Jobs run in lanes, each a queue taken in order by its own threads; the
 * service that makes a job says which lane it needs (`lane`, 0 by
 * default).  The serial lane has exactly one thread: it runs reloads and
 * updates one after the other, which need exactly one writer of the
 * serving state (qsbr.h).  The verify lane has a small pool of its own
 * for AUTH's hash checks, which touch no serving state, so that an AUTH
 * never waits behind a reload or a journal fsync, however long they take
 * (a stuck disk).  The queue knows nothing of who waits: a job's result
 * is {rc, text}, and whoever submitted it sets `complete`, which the job
 * thread calls after `run` to hand the job back (the worker posts it to
 * its mailbox and writes the reply on its own thread, worker.h; the
 * stream follower wakes itself).  Without `complete` the job is simply
 * freed (`done`).
 *
 * Stopping has a deadline: a job stuck in a blocking call (a write to a
 * hung disk) cannot be interrupted, so sx_jobs_stop gives up on its
 * thread at the deadline and leaves it running for the process's exit.
 */
#ifndef SX_JOBS_H
#define SX_JOBS_H

#include <stdint.h>

struct sx_tenant;

#define SX_JOB_TEXT 512

/* Which threads run a job (sx_job.lane). */
typedef enum sx_job_lane {
	SX_LANE_SERIAL = 0,     /* reloads, updates: one thread, in order */
	SX_LANE_VERIFY,         /* AUTH's hash check: a pool of its own */
	SX_NLANES
} sx_job_lane;

typedef struct sx_job sx_job;
struct sx_job {
	sx_job *next;
	sx_job_lane lane;               /* set by the service that makes it */
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

/* Start the job threads (one serial, SX_JOBS_VERIFY_THREADS verifying).
 * Returns 0 or -errno, with nothing left running. */
int sx_jobs_start(sx_jobs **out);
/* Queue a job on its lane (any thread).  Never fails. */
void sx_jobs_submit(sx_jobs *j, sx_job *job);
/* Wait until no job is queued or running, or until deadline_ms
 * (sx_mono_ms()).  Returns 0 when idle, -ETIMEDOUT otherwise, with
 * why[0..cap) saying how many jobs of which lane are still running. */
int sx_jobs_idle_wait(sx_jobs *j, uint64_t deadline_ms, char *why, size_t cap);
/* Run what is queued, then stop and join the threads and free, all by
 * deadline_ms (sx_mono_ms()).  Returns 0, or -ETIMEDOUT when a thread was
 * still running a job at the deadline: then nothing is freed (the stuck
 * thread still uses it), the others are stopped, and why[0..cap) names
 * the lane and how many of its threads are left. */
int sx_jobs_stop(sx_jobs *j, uint64_t deadline_ms, char *why, size_t cap);

#define SX_JOBS_VERIFY_THREADS 2

#endif
