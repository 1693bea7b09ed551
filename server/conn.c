/*
 * conn.c - a connection's input path and its blocking and closing (see
 * conn.h).
 *
 * sx_conn_input() parses in place from the backend's buffer when nothing
 * is pending, and only copies what is left over: the tail of a request
 * that continues in the next read, or the input that arrives while a
 * request waits for a job.  `need` is the size the pending request is
 * known to need, so a large request arriving in many reads is parsed once
 * it is complete rather than after every read.
 *
 * `req_since` is when the pending request began: when its first held byte
 * arrived, or when the request before it was run.  The worker's tick
 * closes a connection whose request stays incomplete for longer than
 * --request-timeout (a slowloris client trickling a request keeps
 * resetting the idle timer, never this one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bin.h"
#include "cmd.h"
#include "conn.h"
#include "resp.h"
#include "server_int.h"
#include "worker.h"

#define IBUF_MIN (16u * 1024)

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q)
		abort();      /* out of memory: see obuf.h */
	return q;
}

sx_conn *sx_conn_new(sx_worker *w, int fd, int proto, const sx_addr *addr)
{
	sx_conn *c = calloc(1, sizeof *c);
	if (!c)
		abort();
	c->fd = fd;
	c->proto = (uint8_t)proto;
	c->w = w;
	c->addr = *addr;
	c->last_active = w->now;
	sx_obuf_init(&c->out);
	return c;
}

void sx_conn_free(sx_conn *c)
{
	free(c->ibuf);
	sx_obuf_free(&c->out);
	free(c);
}

static int over_output_cap(const sx_conn *c)
{
	return c->out.pending > c->w->srv->cfg.max_output;
}

/* RESP: run complete commands from buf; returns bytes consumed. */
static size_t resp_process(sx_conn *c, char *buf, size_t len)
{
	sx_worker *w = c->w;
	size_t pos = 0;
	char err[128];
	while (pos < len && !(c->flags & (SX_CF_BLOCKED | SX_CF_CLOSING | SX_CF_DEAD))) {
		size_t argc = 0, used = 0, need = 0;
		int rc = sx_resp_parse(buf + pos, len - pos, w->argv, &argc,
		                       &used, &need, err, sizeof err);
		if (rc == SX_RESP_MORE) {
			c->need = need;
			break;
		}
		if (rc == SX_RESP_EPROTO) {
			sx_resp_errorf(&c->out, "ERR %s", err);
			sx_conn_proto_error(c);
			return len;
		}
		pos += used;
		if (argc) {
			sx_cmd_run(c, w->argv, argc);
			sx_worker_lat_mark(w);
		}
		if (sx_unlikely(over_output_cap(c)))
			break;
	}
	return pos;
}

static size_t process(sx_conn *c, char *buf, size_t len)
{
	c->need = 0;
	return c->proto == SX_PROTO_RESP ? resp_process(c, buf, len)
	                                 : sx_bin_process(c, buf, len);
}

/* How much unprocessed input c may hold: one request, or what arrives
 * while a request waits for a job; much less before AUTH, so that clients
 * that have not authenticated cannot make the server hold megabytes each
 * (Redis limits unauthenticated requests the same way). */
static size_t input_limit(const sx_conn *c)
{
	if (!c->tenant && c->w->srv->tenants)
		return SX_CONN_MAX_PREAUTH;
	return (c->flags & SX_CF_BLOCKED) ? SX_CONN_MAX_BACKLOG : SX_CONN_MAX_FRAME;
}

/* Keep n bytes of unprocessed input. */
static void keep(sx_conn *c, const char *p, size_t n)
{
	size_t limit = input_limit(c);
	if (sx_unlikely(c->ilen + n > limit)) {
		if (c->flags & SX_CF_BLOCKED) {
			/* Flooding while a reload runs: not a protocol error the
			 * client can be told about in order; cut it off. */
			c->flags |= SX_CF_KILL;
			sx_stat_inc(c->w->stats.proto_errors);
		} else if (c->proto == SX_PROTO_RESP) {
			sx_resp_errorf(&c->out, "ERR Protocol error: request larger than %zu bytes%s",
			               limit, c->tenant || !c->w->srv->tenants ? "" : " before AUTH");
			sx_conn_proto_error(c);
		} else {
			sx_bin_protocol_error(c, 0, c->tenant || !c->w->srv->tenants ?
			                      "request larger than the frame limit" :
			                      "request larger than 65536 bytes before AUTH");
		}
		return;
	}
	if (c->ilen == 0)
		c->req_since = sx_now_ns();  /* partial requests only: not the fast path */
	if (c->ilen + n > c->icap) {
		size_t cap = c->icap ? c->icap : IBUF_MIN;
		while (cap < c->ilen + n)
			cap *= 2;
		c->ibuf = xrealloc(c->ibuf, cap);
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
		c->req_since = sx_now_ns();  /* what is left is a newer request */
	}
	if (c->ilen == 0 && c->icap > 4 * IBUF_MIN) {
		free(c->ibuf);       /* a large request passed: give it back */
		c->ibuf = NULL;
		c->icap = 0;
	}
}

void sx_conn_input(sx_conn *c, char *data, size_t n)
{
	sx_worker *w = c->w;
	c->last_active = w->now;
	sx_stat_add(w->stats.bytes_in, n);
	if (c->flags & (SX_CF_CLOSING | SX_CF_LINGER | SX_CF_DEAD | SX_CF_KILL))
		return;                 /* closing: input is dropped */
	sx_worker_lat_start(w);
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
		sx_worker_dirty(w, c);
}

void sx_conn_block(sx_conn *c)
{
	c->flags |= SX_CF_BLOCKED;
	if (c->flags & SX_CF_EXEC) {
		c->wait = SX_WAIT_EXEC;
		c->wait_req = c->exec_req;
	} else {
		c->wait = SX_WAIT_RESP;
	}
}

void sx_conn_finish(sx_conn *c, const sx_job *job)
{
	sx_worker *w = c->w;
	c->flags &= (uint16_t)~SX_CF_BLOCKED;
	if (job->tenant)
		c->tenant = job->tenant;
	const char *r = job->reply;
	size_t n = strlen(r);
	switch (c->wait) {
	case SX_WAIT_RESP:
		sx_obuf_put(&c->out, r, n);
		sx_obuf_put(&c->out, "\r\n", 2);
		break;
	case SX_WAIT_EXEC:
		sx_bin_exec_reply(c, c->wait_req, r, n);
		break;
	case SX_WAIT_BIN_AUTH:
		if (r[0] == '+')
			sx_bin_auth_reply(c, c->wait_req);
		else
			sx_bin_error(c, c->wait_req, r + 1, n - 1);
		break;
	}
	if (c->ilen && !(c->flags & (SX_CF_CLOSING | SX_CF_DEAD | SX_CF_KILL))) {
		sx_worker_lat_start(w);
		run_held(c);
	}
	if ((w->stopping || (c->flags & SX_CF_EOF)) && !(c->flags & SX_CF_BLOCKED))
		c->flags |= SX_CF_CLOSING;
	sx_worker_dirty(w, c);
}

void sx_conn_request_timeout(sx_conn *c)
{
	int secs = c->w->srv->cfg.request_timeout;
	free(c->ibuf);               /* give the held bytes back now */
	c->ibuf = NULL;
	c->ilen = c->icap = c->need = 0;
	if (c->proto == SX_PROTO_RESP) {
		sx_resp_errorf(&c->out, "ERR request timeout: the request was not complete "
		               "within %d seconds", secs);
	} else {
		char msg[96];
		int n = snprintf(msg, sizeof msg, "ERR request timeout: the frame was not "
		                 "complete within %d seconds", secs);
		sx_bin_error(c, 0, msg, (size_t)n);
	}
	c->flags |= SX_CF_CLOSING;
	sx_worker_dirty(c->w, c);
}

void sx_conn_close_after_reply(sx_conn *c)
{
	c->flags |= SX_CF_CLOSING;
}

void sx_conn_proto_error(sx_conn *c)
{
	sx_stat_inc(c->w->stats.proto_errors);
	c->flags |= SX_CF_CLOSING;
}
