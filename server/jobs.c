/*
 * jobs.c - the job threads (see jobs.h): one mutex, a FIFO list and a
 * condition variable per lane, and one condition variable for "a job or a
 * thread finished", which idle waits and stopping sleep on.  Jobs are rare
 * (reloads, first AUTH of a tenant, updates), so one lock for every lane
 * is enough.
 *
 * A thread says it has exited (under the lock) just before it returns, so
 * stopping waits on a monotonic deadline and joins only the threads that
 * said so; pthread_join on a thread stuck in a job would wait forever.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "jobs.h"
#include "sx.h"

#define MAX_LANE_THREADS SX_JOBS_VERIFY_THREADS

typedef struct lane_thread {
	pthread_t thr;
	struct sx_jobs *jobs;
	sx_job_lane lane;
	int exited;                 /* under the lock: about to return */
	int joined;
} lane_thread;

typedef struct lane {
	const char *name;           /* for the log and thread names */
	int nthreads;
	lane_thread t[MAX_LANE_THREADS];
	pthread_cond_t work;        /* a job was queued, or stop */
	sx_job *head, *tail;
	int running;                /* jobs taken and not yet handed back */
} lane;

struct sx_jobs {
	pthread_mutex_t lock;
	pthread_cond_t finished;    /* a job or a thread finished */
	lane lanes[SX_NLANES];
	int stop;
};

static void *job_main(void *arg)
{
	lane_thread *me = arg;
	sx_jobs *j = me->jobs;
	lane *l = &j->lanes[me->lane];
	pthread_mutex_lock(&j->lock);
	for (;;) {
		while (!l->head && !j->stop)
			pthread_cond_wait(&l->work, &j->lock);
		sx_job *job = l->head;
		if (!job)
			break;          /* stopping and drained */
		l->head = job->next;
		if (!l->head)
			l->tail = NULL;
		l->running++;
		pthread_mutex_unlock(&j->lock);

		job->run(job);
		if (job->complete)
			job->complete(job);
		else
			job->done(job);

		pthread_mutex_lock(&j->lock);
		l->running--;
		pthread_cond_broadcast(&j->finished);
	}
	me->exited = 1;
	pthread_cond_broadcast(&j->finished);
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

void sx_job_result(sx_job *job, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(job->text, sizeof job->text, fmt, ap);
	va_end(ap);
	job->rc = rc;
}

/* Sleep on `finished` until deadline_ms; 0, or ETIMEDOUT.  Lock held. */
static int wait_until(sx_jobs *j, uint64_t deadline_ms)
{
	struct timespec ts = { (time_t)(deadline_ms / 1000),
	                       (long)(deadline_ms % 1000) * 1000000L };
	return pthread_cond_timedwait(&j->finished, &j->lock, &ts);
}

/* Join the threads that have exited; the number still running.  Lock not
 * held (a joined thread has released it). */
static int join_exited(sx_jobs *j, lane *l)
{
	int left = 0;
	for (int i = 0; i < l->nthreads; i++) {
		lane_thread *t = &l->t[i];
		if (t->joined)
			continue;
		pthread_mutex_lock(&j->lock);
		int exited = t->exited;
		pthread_mutex_unlock(&j->lock);
		if (exited) {
			pthread_join(t->thr, NULL);
			t->joined = 1;
		} else {
			left++;
		}
	}
	return left;
}

static void jobs_free(sx_jobs *j)
{
	for (int k = 0; k < SX_NLANES; k++)
		pthread_cond_destroy(&j->lanes[k].work);
	pthread_cond_destroy(&j->finished);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

int sx_jobs_start(sx_jobs **out)
{
	sx_jobs *j = calloc(1, sizeof *j);
	if (!j)
		return -ENOMEM;
	pthread_mutex_init(&j->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* sx_mono_ms deadlines */
	pthread_cond_init(&j->finished, &ca);
	pthread_condattr_destroy(&ca);
	static const int want[SX_NLANES] = {
		[SX_LANE_SERIAL] = 1,          /* one writer (qsbr.h) */
		[SX_LANE_VERIFY] = SX_JOBS_VERIFY_THREADS,
	};
	j->lanes[SX_LANE_SERIAL].name = "reload/update";
	j->lanes[SX_LANE_VERIFY].name = "AUTH verification";
	for (int k = 0; k < SX_NLANES; k++)
		pthread_cond_init(&j->lanes[k].work, NULL);
	int rc = 0;
	for (int k = 0; k < SX_NLANES && !rc; k++) {
		lane *l = &j->lanes[k];
		for (int i = 0; i < want[k] && !rc; i++) {
			lane_thread *t = &l->t[i];
			t->jobs = j;
			t->lane = (sx_job_lane)k;
			if ((rc = pthread_create(&t->thr, NULL, job_main, t)))
				break;
			l->nthreads++;
			char name[16];
			snprintf(name, sizeof name, k == SX_LANE_SERIAL ? "sxgated-jobs" :
			         "sxgated-auth-%d", i);
			pthread_setname_np(t->thr, name);
		}
	}
	if (rc) {
		sx_jobs_stop(j, sx_mono_ms() + 60000, NULL, 0);  /* idle: they return */
		return -rc;
	}
	*out = j;
	return 0;
}

void sx_jobs_submit(sx_jobs *j, sx_job *job)
{
	lane *l = &j->lanes[(unsigned)job->lane < SX_NLANES ? job->lane : SX_LANE_SERIAL];
	job->next = NULL;
	pthread_mutex_lock(&j->lock);
	if (l->tail)
		l->tail->next = job;
	else
		l->head = job;
	l->tail = job;
	pthread_cond_signal(&l->work);
	pthread_mutex_unlock(&j->lock);
}

static int busy(const sx_jobs *j)
{
	for (int k = 0; k < SX_NLANES; k++)
		if (j->lanes[k].head || j->lanes[k].running)
			return 1;
	return 0;
}

int sx_jobs_idle_wait(sx_jobs *j, uint64_t deadline_ms, char *why, size_t cap)
{
	if (!j)
		return 0;
	pthread_mutex_lock(&j->lock);
	int rc = 0;
	while (busy(j) && rc != ETIMEDOUT)
		rc = wait_until(j, deadline_ms);
	int still = busy(j);
	size_t n = 0;
	if (cap)
		why[0] = 0;
	for (int k = 0; still && k < SX_NLANES; k++) {
		const lane *l = &j->lanes[k];
		int queued = 0;
		for (const sx_job *q = l->head; q; q = q->next)
			queued++;
		if ((l->running || queued) && n < cap)
			n += (size_t)snprintf(why + n, cap - n, "%s%d job%s on the %s thread%s "
			                      "(%d queued behind)", n ? ", " : "", l->running,
			                      l->running == 1 ? "" : "s", l->name,
			                      l->nthreads == 1 ? "" : "s", queued);
	}
	pthread_mutex_unlock(&j->lock);
	return still ? -ETIMEDOUT : 0;
}

int sx_jobs_stop(sx_jobs *j, uint64_t deadline_ms, char *why, size_t cap)
{
	if (!j)
		return 0;
	pthread_mutex_lock(&j->lock);
	j->stop = 1;
	for (int k = 0; k < SX_NLANES; k++)
		pthread_cond_broadcast(&j->lanes[k].work);
	int rc = 0;
	for (;;) {
		int all = 1;
		for (int k = 0; k < SX_NLANES; k++)
			for (int i = 0; i < j->lanes[k].nthreads; i++)
				all &= j->lanes[k].t[i].exited;
		if (all || rc == ETIMEDOUT)
			break;
		rc = wait_until(j, deadline_ms);
	}
	pthread_mutex_unlock(&j->lock);

	size_t n = 0;
	int stuck = 0;
	if (cap)
		why[0] = 0;
	for (int k = 0; k < SX_NLANES; k++) {
		lane *l = &j->lanes[k];
		int left = join_exited(j, l);
		if (left && n < cap)
			n += (size_t)snprintf(why + n, cap - n, "%s%d %s thread%s", n ? ", " : "",
			                      left, l->name, left == 1 ? "" : "s");
		stuck += left;
	}
	if (stuck)
		return -ETIMEDOUT;
	jobs_free(j);
	return 0;
}
