/*
 * proto_bin.c - the binary protocol, server side (docs/protocol.md is the
 * contract; client/sxproto.h names its numbers).
 *
 * Frames are parsed where they landed, like RESP requests.  CHECK frames
 * are decided in batches (batch.h); EXEC runs a RESP command through the
 * command table (cmd.h) and wraps its RESP reply in an EXEC reply frame.
 * Reply frames are written straight into the connection's output: the
 * header is reserved first and its length patched once the body is
 * written (the output buffer never moves written bytes), and a reply that
 * would exceed SXB_MAX_BODY is taken back and replaced by an ERROR frame.
 * A request that waits for a job (AUTH's hash check, an EXEC'd RELOAD or
 * update) writes nothing until the job's result comes back (job_reply):
 * an AUTH reply or ERROR frame for AUTH, an EXEC reply for EXEC.
 *
 * Every body is validated completely before anything is decided or
 * written, so a malformed frame is one ERROR and a close, never half a
 * reply.  Query-context errors (bad channel, class, type, day) and
 * authorisation errors are ERROR frames for that request only; the
 * connection stays open, as MCHECK's whole-command errors do over RESP.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "batch.h"
#include "cmd.h"
#include "conn.h"
#include "jobs.h"
#include "proto.h"
#include "resp.h"
#include "sxproto.h"
#include "sxwire.h"


/* How the reply of a request that waits for a job is framed. */
enum { WAIT_EXEC = 1, WAIT_AUTH };

static void bin_error(sx_conn *c, uint32_t req, const char *msg, size_t n);

/* ---- writing frames ----------------------------------------------------- */

typedef struct frame {
	sx_obuf_mark mark;
	uint8_t *hdr;
} frame;

static void frame_begin(sx_conn *c, frame *f)
{
	sx_obuf_mark_get(&c->out, &f->mark);
	f->hdr = (uint8_t *)sx_obuf_reserve(&c->out, SXB_HEADER);
	sx_obuf_commit(&c->out, SXB_HEADER);
}

/* Patch the header; a body over the limit becomes an ERROR frame. */
static void frame_end(sx_conn *c, frame *f, unsigned op, unsigned count, uint32_t req)
{
	uint64_t blen = c->out.total - f->mark.total - SXB_HEADER;
	if (sx_unlikely(blen > SXB_MAX_BODY)) {
		char msg[128];
		sx_obuf_rollback(&c->out, &f->mark);
		int n = snprintf(msg, sizeof msg, "ERR reply of %llu bytes exceeds the frame "
		                 "limit; send fewer IDs per frame", (unsigned long long)blen);
		bin_error(c, req, msg, (size_t)n);
		return;
	}
	sxw_header_encode(f->hdr, (uint32_t)blen, op, count, req);
}

static void put_u16_str(sx_obuf *ob, const char *s, size_t n)
{
	if (n > 0xffff)
		n = 0xffff;   /* cannot happen for records and messages we make */
	sx_obuf_commit(ob, sxw_put_str16((uint8_t *)sx_obuf_reserve(ob, 2 + n), s, n));
}

static void bin_error(sx_conn *c, uint32_t req, const char *msg, size_t n)
{
	frame f;
	if (n > SXB_MAX_BODY - 2)
		n = SXB_MAX_BODY - 2;
	frame_begin(c, &f);
	put_u16_str(&c->out, msg, n);
	frame_end(c, &f, SXB_OP_ERROR, 0, req);
}

static void errorf(sx_conn *c, uint32_t req, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void errorf(sx_conn *c, uint32_t req, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	size_t n = sx_vfmt(msg, sizeof msg, fmt, ap);
	va_end(ap);
	bin_error(c, req, msg, n);
}

static void protocol_error(sx_conn *c, uint32_t req, const char *why)
{
	errorf(c, req, "ERR Protocol error: %s", why);
	sx_conn_proto_error(c);
}

static void auth_reply(sx_conn *c, uint32_t req)
{
	frame f;
	frame_begin(c, &f);
	frame_end(c, &f, SXB_OP_AUTH_REPLY, 0, req);
}

/* ---- reading bodies ----------------------------------------------------- */

typedef sxw_rd rd;

/* Query context, then count IDs into x->argv.  Returns NULL or what is
 * wrong with the body. */
static const char *rd_query(sx_ctx *x, rd *r, unsigned count, sx_str ctx[4])
{
	for (int i = 0; i < 4; i++)
		if (sxw_rd_str8(r, &ctx[i]))
			return "query context runs past the frame";
	if (count > SXB_MAX_BATCH)
		return "more IDs in one frame than max_batch (4096)";
	for (unsigned i = 0; i < count; i++) {
		if (sxw_rd_str8(r, &x->argv[i]))
			return "ID runs past the frame";
		if (x->argv[i].n == 0 || x->argv[i].n > SXB_MAX_ID)
			return "ID length must be 1..64";
	}
	if (sxw_rd_left(r))
		return "bytes after the last ID";
	return NULL;
}

static int need_auth(sx_conn *c, uint32_t req)
{
	if (sx_conn_authed(c))
		return 0;
	sx_stat_inc(c->x->stats.noauth);
	errorf(c, req, SX_NOAUTH_MSG);
	return 1;
}

/* Make c wait for job; its result is framed as kind says. */
static void wait_job(sx_conn *c, sx_job *job, int kind, uint32_t req)
{
	c->ps.bin.wait = (uint8_t)kind;
	c->ps.bin.wait_req = req;
	sx_conn_wait(c, job);
}

/* ---- operations --------------------------------------------------------- */

static void op_hello(sx_conn *c, uint32_t req, rd *r)
{
	if (sxw_rd_left(r) != 8 || memcmp(r->p, SXB_MAGIC, 4)) {
		protocol_error(c, req, "HELLO body must be \"SXGB\", min_version, max_version");
		return;
	}
	unsigned lo = sx_le_get16(r->p + 4), hi = sx_le_get16(r->p + 6);
	if (lo > SXB_VERSION || hi < SXB_VERSION_MIN || lo > hi) {
		errorf(c, req, "ERR no common protocol version: client speaks %u..%u, "
		       "server speaks %u..%u", lo, hi, SXB_VERSION_MIN, SXB_VERSION);
		sx_conn_proto_error(c);
		return;
	}
	unsigned v = hi < SXB_VERSION ? hi : SXB_VERSION;
	c->ps.bin.hello = (uint8_t)v;
	frame f;
	frame_begin(c, &f);
	uint8_t *b = (uint8_t *)sx_obuf_reserve(&c->out, 12);
	sx_le_put16(b, (uint16_t)v);
	sx_le_put16(b + 2, c->x->tenants ? SXB_HELLO_AUTH_REQUIRED : 0);
	sx_le_put32(b + 4, SXB_MAX_BODY);
	sx_le_put32(b + 8, SXB_MAX_BATCH);
	sx_obuf_commit(&c->out, 12);
	frame_end(c, &f, SXB_OP_HELLO_REPLY, 0, req);
}

/* The request c's frame makes, for the command table and the permission
 * checks (cmd.h). */
static sx_req req_of(sx_conn *c)
{
	return (sx_req){ .x = c->x, .tenant = c->tenant, .addr = &c->addr, .port = c->port,
	                 .tls = c->tls != NULL, .proto = c->proto->name, .out = &c->out,
	                 .bound = c->flags & SX_CF_CERT ? c->tenant : NULL };
}

static void op_auth(sx_conn *c, uint32_t req, rd *r)
{
	sx_str name, secret;
	if (sxw_rd_str8(r, &name) || sxw_rd_str8(r, &secret) || sxw_rd_left(r)) {
		protocol_error(c, req, "AUTH body must be tenant and secret, each a u8 length and bytes");
		return;
	}
	sx_auth_answer ans;
	sx_origin o;
	sx_req pr = req_of(c);
	sx_req_origin(&pr, &o);
	sx_job *job = sx_auth_begin(c->x->tenants, c->flags & SX_CF_CERT ? c->tenant : NULL,
	                            &c->addr, &o, name, secret, &ans);
	if (job) {
		wait_job(c, job, WAIT_AUTH, req);
		return;
	}
	char msg[160];
	if (ans.rc == 0 && sx_auth_take(c->x, c->tenant, ans.tenant, msg, sizeof msg)) {
		bin_error(c, req, msg, strlen(msg));
	} else if (ans.rc == 0) {
		c->tenant = ans.tenant;
		auth_reply(c, req);
	} else {
		bin_error(c, req, ans.text, strlen(ans.text));
	}
}

static void op_ping(sx_conn *c, uint32_t req, rd *r)
{
	size_t n = sxw_rd_left(r);
	if (n > SXB_MAX_PING) {
		protocol_error(c, req, "PING body over 256 bytes");
		return;
	}
	frame f;
	frame_begin(c, &f);
	sx_obuf_put(&c->out, r->p, n);
	frame_end(c, &f, SXB_OP_PING_REPLY, 0, req);
}

typedef struct bin_sink {
	sx_batch_sink k;
	sx_ctx *x;
	sx_obuf *ob;
	unsigned version;        /* agreed in HELLO */
} bin_sink;

static void bin_error_item(sx_batch_sink *k, const char *err, size_t n);

static void bin_decision(sx_batch_sink *k, const sx_decision *d)
{
	static const char v1_review[] = "ERR REVIEW decision: binary protocol "
		"version 1 cannot carry it; speak version 2 (docs/protocol.md)";
	bin_sink *s = (bin_sink *)k;
	if (sx_unlikely(d->reason == SX_R_REVIEW) && s->version < 2) {
		bin_error_item(k, v1_review, sizeof v1_review - 1);
		return;
	}
	uint8_t *p = (uint8_t *)sx_obuf_reserve(s->ob, 6);
	p[0] = SXB_KIND_DECISION;
	p[1] = d->reason == SX_R_LISTED ? SXB_DENY :
	       d->reason == SX_R_REVIEW ? SXB_REVIEW : SXB_ALLOW;
	p[2] = d->reason == SX_R_REVIEW ? SXB_R_LISTED : d->reason;
	p[3] = 0;
	sx_le_put16(p + 4, (uint16_t)(d->nrec > 0xffff ? 0xffff : d->nrec));
	sx_obuf_commit(s->ob, 6);
	for (uint32_t i = 0; i < d->nrec && i < 0xffff; i++) {
		size_t n;
		const char *t = sx_batch_record(s->x, d->rec[i], &n);
		put_u16_str(s->ob, t, n);
	}
}

static void bin_error_item(sx_batch_sink *k, const char *err, size_t n)
{
	bin_sink *s = (bin_sink *)k;
	uint8_t *p = (uint8_t *)sx_obuf_reserve(s->ob, 4);
	p[0] = SXB_KIND_ERROR;
	p[1] = p[2] = p[3] = 0;
	sx_obuf_commit(s->ob, 4);
	put_u16_str(s->ob, err, n);
}

/* A NOPERM when c's tenant may not ask about chan (or run LISTED). */
static int noperm(sx_conn *c, uint32_t req, size_t n, const char *msg)
{
	if (n)
		bin_error(c, req, msg, n);
	return n != 0;
}

/* A CHECK or LISTED body read into ctx and x->argv, from an authenticated
 * client, within its tenant's max-batch?  Else the error is written: 0. */
static int query_frame(sx_conn *c, unsigned count, uint32_t req, rd *r, sx_str ctx[4])
{
	const char *bad = rd_query(c->x, r, count, ctx);
	if (bad) {
		protocol_error(c, req, bad);
		return 0;
	}
	if (need_auth(c, req))
		return 0;
	char msg[256];
	return !noperm(c, req, sx_perm_batch(c->x, c->tenant, count, msg, sizeof msg), msg);
}

static void op_check(sx_conn *c, unsigned count, uint32_t req, rd *r)
{
	sx_ctx *x = c->x;
	sx_str ctx[4];
	if (!query_frame(c, count, req, r, ctx))
		return;
	sx_query q;
	char err[256];
	if (sx_query_common(&q, sx_snap_rules(x->cur->snap), ctx[0], ctx[1], ctx[2],
	                    ctx[3], err, sizeof err)) {
		sx_stat_inc(x->stats.query_errors);
		errorf(c, req, "ERR %s", err);
		return;
	}
	char msg[256];
	sx_req pr = req_of(c);
	if (noperm(c, req, sx_perm_channel(&pr, count > 1 ? SX_CMD_MCHECK : SX_CMD_CHECK,
	                                   q.chan, msg, sizeof msg), msg))
		return;
	sx_stat_add(x->stats.bin_ids, count);
	frame f;
	frame_begin(c, &f);
	bin_sink sink = { { bin_decision, bin_error_item }, x, &c->out,
	                  c->ps.bin.hello };
	sx_batch_decide(x, &q, x->argv, count, c->tenant ? c->tenant->name : NULL,
	                &sink.k);
	frame_end(c, &f, SXB_OP_CHECK_REPLY, count, req);
}

static void op_listed(sx_conn *c, unsigned count, uint32_t req, rd *r)
{
	sx_ctx *x = c->x;
	sx_str ctx[4];
	if (!query_frame(c, count, req, r, ctx))
		return;
	char err[256];
	sx_req pr = req_of(c);
	if (noperm(c, req, sx_perm_command(&pr, SX_CMD_LISTED, err, sizeof err), err))
		return;
	sx_query q = { 0 };
	if (sx_query_when(&q, ctx[2], ctx[3], err, sizeof err)) {
		sx_stat_inc(x->stats.query_errors);
		errorf(c, req, "ERR %s", err);
		return;
	}
	sx_stat_add(x->stats.bin_ids, count);
	const sx_snap *s = x->cur->snap;
	frame f;
	frame_begin(c, &f);
	for (unsigned i = 0; i < count; i++) {
		sx_query qi = q;
		if (sx_query_id(&qi, x->argv[i], err + 4, sizeof err - 4)) {
			memcpy(err, "ERR ", 4);
			sx_stat_inc(x->stats.query_errors);
			uint8_t *p = (uint8_t *)sx_obuf_reserve(&c->out, 1);
			*p = SXB_LISTED_ERROR;
			sx_obuf_commit(&c->out, 1);
			put_u16_str(&c->out, err, strlen(err));
			continue;
		}
		uint8_t *p = (uint8_t *)sx_obuf_reserve(&c->out, 1);
		*p = sx_listed(s, &qi) ? SXB_LISTED_YES : SXB_LISTED_NO;
		sx_obuf_commit(&c->out, 1);
	}
	frame_end(c, &f, SXB_OP_LISTED_REPLY, count, req);
}

static void op_exec(sx_conn *c, unsigned count, uint32_t req, rd *r)
{
	sx_ctx *x = c->x;
	for (unsigned i = 0; i < count; i++) {
		if (sxw_rd_left(r) < 2) {
			protocol_error(c, req, "EXEC argument length runs past the frame");
			return;
		}
		if (sxw_rd_str16(r, &x->argv[i])) {
			protocol_error(c, req, "EXEC argument runs past the frame");
			return;
		}
	}
	if (sxw_rd_left(r)) {
		protocol_error(c, req, "bytes after the last EXEC argument");
		return;
	}
	if (need_auth(c, req))
		return;
	frame f;
	frame_begin(c, &f);
	if (count == 0) {
		sx_resp_lit(&c->out, "-ERR empty command\r\n");
	} else {
		sx_req q = req_of(c);
		q.counted = 1;
		sx_cmd_run(&q, x->argv, count);
		c->tenant = q.tenant;
		if (q.quit)
			sx_conn_close_after_reply(c);
		if (q.job) {
			/* Nothing was written but the header: a job answers. */
			sx_obuf_rollback(&c->out, &f.mark);
			wait_job(c, q.job, WAIT_EXEC, req);
			return;
		}
	}
	frame_end(c, &f, SXB_OP_EXEC_REPLY, 1, req);
}

static void run_frame(sx_conn *c, unsigned op, unsigned count, uint32_t req,
                      const uint8_t *body, size_t n)
{
	sx_ctx *x = c->x;
	rd r;
	sxw_rd_init(&r, body, n);
	sx_stat_inc(x->stats.commands);
	if (sx_unlikely(!c->ps.bin.hello) && op != SXB_OP_HELLO) {
		protocol_error(c, req, "the first frame must be HELLO");
		return;
	}
	switch (op) {
	case SXB_OP_HELLO:
		sx_stat_inc(x->stats.per_binop[SX_BINOP_HELLO]);
		op_hello(c, req, &r);
		break;
	case SXB_OP_AUTH:
		sx_stat_inc(x->stats.per_binop[SX_BINOP_AUTH]);
		op_auth(c, req, &r);
		break;
	case SXB_OP_PING:
		sx_stat_inc(x->stats.per_binop[SX_BINOP_PING]);
		op_ping(c, req, &r);
		break;
	case SXB_OP_CHECK:
		sx_stat_inc(x->stats.per_binop[SX_BINOP_CHECK]);
		op_check(c, count, req, &r);
		break;
	case SXB_OP_LISTED:
		sx_stat_inc(x->stats.per_binop[SX_BINOP_LISTED]);
		op_listed(c, count, req, &r);
		break;
	case SXB_OP_EXEC:
		sx_stat_inc(x->stats.per_binop[SX_BINOP_EXEC]);
		op_exec(c, count, req, &r);
		break;
	default: {
		char why[48];
		snprintf(why, sizeof why, "unknown op 0x%02x", op);
		protocol_error(c, req, why);
	}
	}
}

static size_t bin_process(sx_conn *c, char *buf, size_t len)
{
	sx_ctx *x = c->x;
	size_t pos = 0;
	while (!sx_conn_stopped(c)) {
		const uint8_t *h = (const uint8_t *)buf + pos;
		size_t avail = len - pos;
		if (avail < SXB_HEADER) {
			c->need = SXB_HEADER;
			break;
		}
		sxw_header hd;
		sxw_header_decode(h, &hd);
		uint32_t blen = hd.len, req = hd.req_id;
		if (blen > SXB_MAX_BODY) {
			char why[64];
			snprintf(why, sizeof why, "frame body of %u bytes is over 1048576", blen);
			protocol_error(c, req, why);
			return len;
		}
		if (avail - SXB_HEADER < blen) {
			c->need = SXB_HEADER + blen;
			break;
		}
		run_frame(c, hd.op, hd.count, req, h + SXB_HEADER, blen);
		pos += SXB_HEADER + blen;
		sx_ctx_lat_mark(x);
		if (c->flags & SX_CF_CLOSING)
			return len;
	}
	return pos;
}

static void bin_job_reply(sx_conn *c, const sx_job *job)
{
	uint32_t req = c->ps.bin.wait_req;
	char msg[160];
	int rc = job->rc;
	const char *text = job->text;
	if (job->tenant) {               /* AUTH verified on the job thread */
		if (sx_auth_take(c->x, c->tenant, job->tenant, msg, sizeof msg)) {
			rc = SX_EFULL;
			text = msg;
		} else {
			c->tenant = job->tenant;
		}
	}
	size_t n = strlen(text);
	if (c->ps.bin.wait == WAIT_AUTH) {
		if (rc == 0)
			auth_reply(c, req);
		else
			bin_error(c, req, text, n);
		return;
	}
	frame f;                          /* WAIT_EXEC: the RESP line, framed */
	frame_begin(c, &f);
	sx_resp_status(&c->out, rc == 0, text, n);
	frame_end(c, &f, SXB_OP_EXEC_REPLY, 1, req);
}

static void bin_input_error(sx_conn *c, int why, size_t limit)
{
	(void)limit;
	errorf(c, 0, "ERR Protocol error: %s", why == SX_PERR_PREAUTH_TOO_LARGE ?
	       "request larger than 65536 bytes before AUTH" :
	       "request larger than the frame limit");
}

static void bin_timeout(sx_conn *c, int secs)
{
	errorf(c, 0, "ERR request timeout: the frame was not complete within %d seconds", secs);
}

static size_t bin_refuse(char *buf, size_t cap)
{
	static const char msg[] = "ERR max number of clients reached";
	size_t body = 2 + sizeof msg - 1, n = SXB_HEADER + body;
	if (cap < n)
		return 0;
	sxw_header_encode((uint8_t *)buf, (uint32_t)body, SXB_OP_ERROR, 0, 0);
	sxw_put_str16((uint8_t *)buf + SXB_HEADER, msg, sizeof msg - 1);
	return n;
}

static void bin_deny(sx_conn *c, const char *msg)
{
	bin_error(c, 0, msg, strlen(msg));
}

const sx_proto sx_proto_bin = {
	.name = "binary",
	.process = bin_process,
	.job_reply = bin_job_reply,
	.error = bin_input_error,
	.timeout = bin_timeout,
	.refuse = bin_refuse,
	.deny = bin_deny,
};
