/*
 * jobs.c - the job thread (see jobs.h): a mutex, a condition variable and
 * a FIFO list.  Jobs are rare (reloads, first AUTH of a tenant), so
 * nothing cleverer is needed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "jobs.h"

struct sx_jobs {
	pthread_t thr;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	sx_job *head, *tail;
	int stop;
};

static void *job_main(void *arg)
{
	sx_jobs *j = arg;
	pthread_mutex_lock(&j->lock);
	for (;;) {
		while (!j->head && !j->stop)
			pthread_cond_wait(&j->cond, &j->lock);
		sx_job *job = j->head;
		if (!job)
			break;          /* stopping and drained */
		j->head = job->next;
		if (!j->head)
			j->tail = NULL;
		pthread_mutex_unlock(&j->lock);

		job->run(job);
		if (job->complete)
			job->complete(job);
		else
			job->done(job);

		pthread_mutex_lock(&j->lock);
	}
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

int sx_jobs_start(sx_jobs **out)
{
	sx_jobs *j = calloc(1, sizeof *j);
	if (!j)
		return -ENOMEM;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	int rc = pthread_create(&j->thr, NULL, job_main, j);
	if (rc) {
		pthread_cond_destroy(&j->cond);
		pthread_mutex_destroy(&j->lock);
		free(j);
		return -rc;
	}
	pthread_setname_np(j->thr, "sxgated-jobs");
	*out = j;
	return 0;
}

void sx_jobs_submit(sx_jobs *j, sx_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&j->lock);
	if (j->tail)
		j->tail->next = job;
	else
		j->head = job;
	j->tail = job;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
}

void sx_jobs_stop(sx_jobs *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	j->stop = 1;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	pthread_join(j->thr, NULL);
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	free(j);
}
