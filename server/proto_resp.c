/*
 * proto_resp.c - the RESP2 protocol driver (SPEC section 5): requests are
 * parsed by resp.c where they landed, each command is run through the
 * command table (cmd.h), and replies are RESP.  A command that hands its
 * work to a job makes the connection wait; the job's result {rc, text}
 * becomes "+text" or "-text".
 *
 * Pipelines: every complete command of a read is run in turn with one
 * batch (cmd.h sx_cmd_batch) lent to all of them, so consecutive CHECK,
 * LISTED and MCHECK commands only parse their queries, and are decided
 * together (prefetching, as MCHECK and binary frames are) when something
 * else must answer, when the batch is full, or when the read's complete
 * commands are done.  INFO's latency counts each command once, a batch's
 * commands with an equal share of the time the batch took.  The batch is
 * always answered before process returns: the read buffer (or the
 * connection's input buffer, whose incomplete tail conn.c keeps and
 * moves) is never referred to afterwards.
 */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "cmd.h"
#include "conn.h"
#include "jobs.h"
#include "proto.h"
#include "resp.h"

/* Run one parsed command for c. */
static void run(sx_conn *c, const sx_str *argv, size_t argc, sx_cmd_batch *b)
{
	sx_req r = { .x = c->x, .tenant = c->tenant, .addr = &c->addr, .port = c->port,
	             .tls = c->tls != NULL, .proto = c->proto->name, .out = &c->out,
	             .bound = c->flags & SX_CF_CERT ? c->tenant : NULL, .batch = b };
	sx_cmd_run(&r, argv, argc);
	c->tenant = r.tenant;
	if (r.job)
		sx_conn_wait(c, r.job);
	if (r.quit)
		sx_conn_close_after_reply(c);
}

static size_t resp_process(sx_conn *c, char *buf, size_t len)
{
	sx_ctx *x = c->x;
	size_t pos = 0;
	unsigned ran = 0;          /* commands run since the latency mark */
	char err[128];
	sx_cmd_batch b;
	b.x = x;
	b.out = &c->out;
	b.n = 0;
	b.hdr = 0;
	while (pos < len && !sx_conn_stopped(c)) {
		size_t argc = 0, used = 0, need = 0;
		int rc = sx_resp_parse(buf + pos, len - pos, x->argv, &argc,
		                       &used, &need, err, sizeof err);
		if (rc == SX_RESP_MORE) {
			c->need = need;
			break;
		}
		if (rc == SX_RESP_EPROTO) {
			sx_cmd_flush(&b);
			if (ran)
				sx_ctx_lat_mark_n(x, ran);
			sx_resp_errorf(&c->out, "ERR %s", err);
			sx_conn_proto_error(c);
			return len;
		}
		pos += used;
		if (argc) {
			run(c, x->argv, argc, &b);
			ran++;
			/* a gathered query is timed when it is answered */
			if (!b.n && !b.hdr) {
				sx_ctx_lat_mark_n(x, ran);
				ran = 0;
			}
		}
	}
	sx_cmd_flush(&b);
	if (ran)
		sx_ctx_lat_mark_n(x, ran);
	return pos;
}

static void resp_job_reply(sx_conn *c, const sx_job *job)
{
	char msg[160];
	if (job->tenant) {               /* AUTH verified on the job thread */
		if (sx_auth_take(c->x, c->tenant, job->tenant, msg, sizeof msg)) {
			sx_resp_error(&c->out, msg, strlen(msg));
			return;
		}
		c->tenant = job->tenant;
	}
	sx_resp_status(&c->out, job->rc == 0, job->text, strlen(job->text));
}

static void resp_deny(sx_conn *c, const char *msg)
{
	sx_resp_error(&c->out, msg, strlen(msg));
}

static void resp_error(sx_conn *c, int why, size_t limit)
{
	sx_resp_errorf(&c->out, "ERR Protocol error: request larger than %zu bytes%s",
	               limit, why == SX_PERR_PREAUTH_TOO_LARGE ? " before AUTH" : "");
}

static void resp_timeout(sx_conn *c, int secs)
{
	sx_resp_errorf(&c->out, "ERR request timeout: the request was not complete "
	               "within %d seconds", secs);
}

static size_t resp_refuse(char *buf, size_t cap)
{
	static const char msg[] = "-ERR max number of clients reached\r\n";
	size_t n = sizeof msg - 1 < cap ? sizeof msg - 1 : cap;
	memcpy(buf, msg, n);
	return n;
}

const sx_proto sx_proto_resp = {
	.name = "resp",
	.process = resp_process,
	.job_reply = resp_job_reply,
	.error = resp_error,
	.timeout = resp_timeout,
	.refuse = resp_refuse,
	.deny = resp_deny,
};
