/*
 * cmd_query.c - the query commands: CHECK, MCHECK, LISTED (SPEC section
 * 5), and the RESP form of a decision.
 *
 * Query syntax: the class is optional and is the word after the channel
 * unless that word is TYPE or AT; TYPE and AT each take one value, at most
 * once each, in any order; anything else is "-ERR syntax error".
 *
 * In a pipeline (r->batch, cmd.h) the handlers only parse: a valid query
 * joins the batch in x->qs and its reply is written by sx_cmd_flush(),
 * an MCHECK's array header before its first ID's reply.  Every error is
 * written through sx_req_out(), which answers the batch first.  Counters
 * move exactly as they do one command at a time: parse errors, NOPERM and
 * mcheck_ids when the command is read, decisions when it is decided.
 */
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "cmd.h"
#include "ctx.h"
#include "resp.h"
#include "tenant.h"

static int eqi(sx_str s, const char *lit, size_t n)
{
	return sx_ascii_ieq(s.p, s.n, lit, n);
}

static const char *tenant_name(const sx_req *r)
{
	return r->tenant ? r->tenant->name : NULL;
}

/* ---- replies shared by the query commands ------------------------------ */

/* "$4\r\nDENY\r\n$6\r\nLISTED\r\n", "$6\r\nREVIEW\r\n..." and so on,
 * built once. */
static struct { char s[48]; uint8_t n; } reason_resp[SX_NREASONS];

__attribute__((constructor)) static void reason_resp_init(void)
{
	for (int r = 0; r < SX_NREASONS; r++) {
		const char *d = sx_reason_decision(r), *why = sx_reason_name(r);
		reason_resp[r].n = (uint8_t)snprintf(reason_resp[r].s, sizeof reason_resp[r].s,
		                                     "$%zu\r\n%s\r\n$%zu\r\n%s\r\n",
		                                     strlen(d), d, strlen(why), why);
	}
}

static void reply_decision(sx_ctx *x, sx_obuf *ob, const sx_decision *d)
{
	sx_resp_array(ob, 2 + (size_t)d->nrec);
	sx_obuf_put(ob, reason_resp[d->reason].s, reason_resp[d->reason].n);
	for (uint32_t i = 0; i < d->nrec; i++) {
		size_t n;
		const char *t = sx_batch_record(x, d->rec[i], &n);
		sx_resp_bulk(ob, t, n);
	}
}

static void query_error(sx_req *r, const char *err)
{
	sx_stat_inc(r->x->stats.query_errors);
	sx_resp_errorf(sx_req_out(r), "ERR %s", err);
}

static void syntax_error(sx_req *r)
{
	sx_stat_inc(r->x->stats.query_errors);
	sx_resp_lit(sx_req_out(r), "-ERR syntax error\r\n");
}

static int is_keyword(sx_str s)
{
	return eqi(s, "type", 4) || eqi(s, "at", 2);
}

/* TYPE/AT pairs from argv[*i].  With ids_follow, stop at the first word
 * that is not a keyword (MCHECK's IDs); otherwise such a word is an error.
 * Returns 0, or -1 for a syntax error. */
static int keywords(const sx_str *a, size_t argc, size_t *i, sx_str *type,
                    sx_str *at, int ids_follow)
{
	while (*i < argc) {
		sx_str *slot = eqi(a[*i], "type", 4) ? type : eqi(a[*i], "at", 2) ? at : NULL;
		if (!slot)
			return ids_follow ? 0 : -1;
		if (slot->p || *i + 1 >= argc)
			return -1;
		*slot = a[*i + 1];
		*i += 2;
	}
	return 0;
}

/* May the tenant ask about chan?  Replies NOPERM when not. */
static int may_ask(sx_req *r, int cmd, int chan)
{
	char msg[256];
	size_t n = sx_perm_channel(r, cmd, chan, msg, sizeof msg);
	if (n)
		sx_resp_error(sx_req_out(r), msg, n);
	return n == 0;
}

/* ---- a pipeline's batch (cmd.h) ---------------------------------------- */

_Static_assert(SX_CMD_BATCH <= SX_BATCH, "a batch's queries live in x->qs");

/* The next query slot of r's batch, flushing a full one. */
static sx_query *gather(sx_req *r)
{
	sx_cmd_batch *b = r->batch;
	if (b->n == SX_CMD_BATCH)
		sx_cmd_flush(b);
	b->tenant = tenant_name(r);
	return &r->x->qs[b->n];
}

/* The query in the slot gather() gave is parsed: it joins the batch. */
static void gathered(sx_req *r)
{
	sx_cmd_batch *b = r->batch;
	b->pre[b->n++] = b->hdr;
	b->hdr = 0;
}

typedef struct pipe_sink {
	sx_batch_sink k;
	sx_cmd_batch *b;
	size_t i;
} pipe_sink;

static void pipe_sink_decision(sx_batch_sink *k, const sx_decision *d)
{
	pipe_sink *s = (pipe_sink *)k;
	sx_cmd_batch *b = s->b;
	size_t i = s->i++;
	if (b->pre[i])
		sx_resp_array(b->out, b->pre[i]);
	if (b->x->qs[i].op == SX_Q_LISTED)
		sx_obuf_put(b->out, d->reason == SX_R_LISTED ? ":1\r\n" : ":0\r\n", 4);
	else
		reply_decision(b->x, b->out, d);
}

void sx_cmd_flush(sx_cmd_batch *b)
{
	if (b->n) {
		pipe_sink sink = { { pipe_sink_decision, NULL }, b, 0 };
		sx_batch_run(b->x, b->x->qs, b->n, b->tenant, &sink.k);
		b->n = 0;
	}
	if (b->hdr) {
		sx_resp_array(b->out, b->hdr);
		b->hdr = 0;
	}
}

/* ---- CHECK id channel [class] [TYPE t] [AT d] --------------------------- */

void sx_cmd_check(sx_req *r, const sx_str *a, size_t argc)
{
	sx_str cls = { 0 }, type = { 0 }, at = { 0 };
	size_t i = 3;
	if (i < argc && !is_keyword(a[i]))
		cls = a[i++];
	if (keywords(a, argc, &i, &type, &at, 0)) {
		syntax_error(r);
		return;
	}
	sx_query one, *q = r->batch ? gather(r) : &one;
	char err[256];
	if (sx_query_common(q, sx_snap_rules(r->x->cur->snap), a[2], cls, type,
	                    at, err, sizeof err)) {
		query_error(r, err);
		return;
	}
	if (!may_ask(r, SX_CMD_CHECK, q->chan))
		return;
	if (sx_query_id(q, a[1], err, sizeof err)) {
		query_error(r, err);
		return;
	}
	if (r->batch) {
		gathered(r);
		return;
	}
	sx_decision d;
	sx_batch_one(r->x, q, tenant_name(r), &d);
	reply_decision(r->x, r->out, &d);
}

/* ---- MCHECK channel class-or-dash [TYPE t] [AT d] id [id ...] ---------- */

typedef struct resp_sink {
	sx_batch_sink k;
	sx_ctx *x;
	sx_obuf *ob;
} resp_sink;

static void resp_sink_decision(sx_batch_sink *k, const sx_decision *d)
{
	resp_sink *s = (resp_sink *)k;
	reply_decision(s->x, s->ob, d);
}

static void resp_sink_error(sx_batch_sink *k, const char *err, size_t n)
{
	resp_sink *s = (resp_sink *)k;
	sx_resp_error(s->ob, err, n);
}

void sx_cmd_mcheck(sx_req *r, const sx_str *a, size_t argc)
{
	sx_str cls = a[2], type = { 0 }, at = { 0 };
	if (cls.n == 1 && cls.p[0] == '-')
		cls = (sx_str){ 0 };
	size_t i = 3;
	if (keywords(a, argc, &i, &type, &at, 1)) {
		syntax_error(r);
		return;
	}
	if (i == argc) {
		sx_resp_lit(r->out, "-ERR wrong number of arguments for 'mcheck' command\r\n");
		return;
	}
	sx_query q;
	char err[256];
	if (sx_query_common(&q, sx_snap_rules(r->x->cur->snap), a[1], cls, type,
	                    at, err, sizeof err)) {
		query_error(r, err);
		return;
	}
	if (!may_ask(r, SX_CMD_MCHECK, q.chan))
		return;
	size_t n = sx_perm_batch(r->x, r->tenant, argc - i, err, sizeof err);
	if (n) {
		sx_resp_error(r->out, err, n);
		return;
	}
	sx_stat_add(r->x->stats.mcheck_ids, argc - i);
	if (r->batch) {
		/* each ID joins the pipeline's batch; an invalid one answers
		 * in its place, after what was gathered before it */
		r->batch->hdr = (uint32_t)(argc - i);
		for (; i < argc; i++) {
			sx_query *qi = gather(r);
			*qi = q;
			if (sx_query_id(qi, a[i], err, sizeof err)) {
				query_error(r, err);
				continue;
			}
			gathered(r);
		}
		return;
	}
	sx_resp_array(r->out, argc - i);
	resp_sink sink = { { resp_sink_decision, resp_sink_error }, r->x, r->out };
	sx_batch_decide(r->x, &q, a + i, argc - i, tenant_name(r), &sink.k);
}

/* ---- LISTED id [TYPE t] [AT d] ----------------------------------------- */

void sx_cmd_listed(sx_req *r, const sx_str *a, size_t argc)
{
	sx_str type = { 0 }, at = { 0 };
	size_t i = 2;
	if (keywords(a, argc, &i, &type, &at, 0)) {
		syntax_error(r);
		return;
	}
	sx_query one, *q = r->batch ? gather(r) : &one;
	*q = (sx_query){ .op = SX_Q_LISTED };
	char err[256];
	if (sx_query_when(q, type, at, err, sizeof err) ||
	    sx_query_id(q, a[1], err, sizeof err)) {
		query_error(r, err);
		return;
	}
	if (r->batch) {
		gathered(r);
		return;
	}
	sx_resp_int(r->out, sx_listed(r->x->cur->snap, q) ? 1 : 0);
}
