/*
 * conn.c - a connection's input path, its waiting for jobs and its
 * closing (see conn.h).
 *
 * sx_conn_input() hands the protocol the bytes where they landed when
 * nothing is pending, and only copies what is left over: the tail of a
 * request that continues in the next read, or the input that arrives
 * while a request waits for a job.  `need` is the size the pending request
 * is known to need, so a large request arriving in many reads is parsed
 * once it is complete rather than after every read.
 *
 * `req_since` is when the pending request began: when its first held byte
 * arrived, or when the request before it was run.  The worker's tick
 * closes a connection whose request stays incomplete for longer than
 * --request-timeout (a slowloris client trickling a request keeps
 * resetting the idle timer, never this one).
 */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "jobs.h"
#include "server.h"
#include "worker.h"

#define IBUF_MIN (16u * 1024)

sx_conn *sx_conn_new(sx_worker *w, sx_ctx *x, int fd, const sx_proto *proto,
                     const sx_addr *addr)
{
	sx_conn *c = calloc(1, sizeof *c);
	if (!c)
		abort();      /* out of memory: see obuf.h */
	c->fd = fd;
	c->proto = proto;
	c->w = w;
	c->x = x;
	c->addr = *addr;
	c->last_active = c->born = x->now;
	sx_obuf_init(&c->out);
	return c;
}

void sx_conn_free(sx_conn *c)
{
	if (c->tenant)
		sx_tenants_conn_move(c->x->tenants, c->tenant, NULL);   /* max-conns */
	free(c->ibuf);
	sx_obuf_free(&c->out);
	free(c);
}

/* Let the protocol run what it can of buf; submit the job it waits for. */
static size_t process(sx_conn *c, char *buf, size_t len)
{
	c->need = 0;
	size_t used = c->proto->process(c, buf, len);
	if (c->job) {
		struct sx_job *job = c->job;
		c->job = NULL;
		sx_worker_submit(c->w, c, job);
	}
	return used;
}

/* How much unprocessed input c may hold: one request, or what arrives
 * while a request waits for a job; much less before AUTH, so that clients
 * that have not authenticated cannot make the server hold megabytes each
 * (Redis limits unauthenticated requests the same way). */
static size_t input_limit(const sx_conn *c)
{
	if (!sx_conn_authed(c))
		return c->proto->preauth_input ? c->proto->preauth_input : SX_CONN_MAX_PREAUTH;
	return (c->flags & SX_CF_BLOCKED) ? SX_CONN_MAX_BACKLOG : SX_CONN_MAX_FRAME;
}

/* Keep n bytes of unprocessed input. */
static void keep(sx_conn *c, const char *p, size_t n)
{
	size_t limit = input_limit(c);
	if (sx_unlikely(c->ilen + n > limit)) {
		if (c->flags & SX_CF_BLOCKED) {
			/* Flooding while a job runs: not a protocol error the
			 * client can be told about in order; cut it off. */
			c->flags |= SX_CF_KILL;
			sx_stat_inc(c->x->stats.proto_errors);
		} else {
			c->proto->error(c, sx_conn_authed(c) ? SX_PERR_TOO_LARGE
			                                     : SX_PERR_PREAUTH_TOO_LARGE, limit);
			sx_conn_proto_error(c);
		}
		return;
	}
	if (c->ilen == 0)
		c->req_since = sx_mono_ns();  /* partial requests only: not the fast path */
	if (c->ilen + n > c->icap) {
		size_t cap = c->icap ? c->icap : IBUF_MIN;
		while (cap < c->ilen + n)
			cap *= 2;
		char *b = realloc(c->ibuf, cap);
		if (!b)
			abort();
		c->ibuf = b;
		c->icap = cap;
	}
	memcpy(c->ibuf + c->ilen, p, n);
	c->ilen += n;
}

/* Run what is held in ibuf. */
static void run_held(sx_conn *c)
{
	size_t used = process(c, c->ibuf, c->ilen);
	if (c->flags & (SX_CF_CLOSING | SX_CF_DEAD | SX_CF_KILL))
		used = c->ilen;
	if (used) {
		memmove(c->ibuf, c->ibuf + used, c->ilen - used);
		c->ilen -= used;
		c->req_since = sx_mono_ns();  /* what is left is a newer request */
	}
	if (c->ilen == 0 && c->icap > 4 * IBUF_MIN) {
		free(c->ibuf);       /* a large request passed: give it back */
		c->ibuf = NULL;
		c->icap = 0;
	}
}

void sx_conn_input(sx_conn *c, char *data, size_t n)
{
	sx_ctx *x = c->x;
	c->last_active = x->now;
	sx_stat_add(x->stats.bytes_in, n);
	if (c->flags & (SX_CF_CLOSING | SX_CF_LINGER | SX_CF_DEAD | SX_CF_KILL))
		return;                 /* closing: input is dropped */
	sx_ctx_lat_start(x);
	if (c->ilen == 0 && !(c->flags & SX_CF_BLOCKED)) {
		size_t used = process(c, data, n);
		if (used < n && !(c->flags & (SX_CF_CLOSING | SX_CF_DEAD | SX_CF_KILL)))
			keep(c, data + used, n - used);
	} else {
		keep(c, data, n);
		if (!(c->flags & (SX_CF_BLOCKED | SX_CF_CLOSING | SX_CF_KILL)) &&
		    c->ilen >= c->need)
			run_held(c);
	}
	if (c->out.pending || (c->flags & (SX_CF_CLOSING | SX_CF_KILL)))
		sx_worker_dirty(c->w, c);
}

void sx_conn_finish(sx_conn *c, const struct sx_job *job)
{
	c->flags &= (uint16_t)~SX_CF_BLOCKED;
	c->proto->job_reply(c, job);     /* an AUTH's tenant too (max-conns) */
	if (c->ilen && !(c->flags & (SX_CF_CLOSING | SX_CF_DEAD | SX_CF_KILL))) {
		sx_ctx_lat_start(c->x);
		run_held(c);
	}
	if ((c->w->stopping || (c->flags & SX_CF_EOF)) && !(c->flags & SX_CF_BLOCKED))
		c->flags |= SX_CF_CLOSING;
	sx_worker_dirty(c->w, c);
}

void sx_conn_request_timeout(sx_conn *c)
{
	free(c->ibuf);               /* give the held bytes back now */
	c->ibuf = NULL;
	c->ilen = c->icap = c->need = 0;
	c->proto->timeout(c, c->x->cfg->request_timeout);
	c->flags |= SX_CF_CLOSING;
	sx_worker_dirty(c->w, c);
}
