/*
 * cmd_query.c - the query commands: CHECK, MCHECK, LISTED (SPEC section
 * 5), and the RESP form of a decision.
 *
 * Query syntax: the class is optional and is the word after the channel
 * unless that word is TYPE or AT; TYPE and AT each take one value, at most
 * once each, in any order; anything else is "-ERR syntax error".
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "batch.h"
#include "cmd.h"
#include "ctx.h"
#include "resp.h"
#include "tenant.h"

static int eqi(sx_str s, const char *lit, size_t n)
{
	return s.n == n && !strncasecmp(s.p, lit, n);
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
	sx_resp_errorf(r->out, "ERR %s", err);
}

static void syntax_error(sx_req *r)
{
	sx_stat_inc(r->x->stats.query_errors);
	sx_resp_lit(r->out, "-ERR syntax error\r\n");
}

static int is_keyword(sx_str s)
{
	return eqi(s, "TYPE", 4) || eqi(s, "AT", 2);
}

/* TYPE/AT pairs from argv[*i].  With ids_follow, stop at the first word
 * that is not a keyword (MCHECK's IDs); otherwise such a word is an error.
 * Returns 0, or -1 for a syntax error. */
static int keywords(const sx_str *a, size_t argc, size_t *i, sx_str *type,
                    sx_str *at, int ids_follow)
{
	while (*i < argc) {
		sx_str *slot = eqi(a[*i], "TYPE", 4) ? type : eqi(a[*i], "AT", 2) ? at : NULL;
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
		sx_resp_error(r->out, msg, n);
	return n == 0;
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
	sx_query q;
	char err[256];
	if (sx_query_common(&q, sx_snap_rules(r->x->cur->snap), a[2], cls, type,
	                    at, err, sizeof err)) {
		query_error(r, err);
		return;
	}
	if (!may_ask(r, SX_CMD_CHECK, q.chan))
		return;
	if (sx_query_id(&q, a[1], err, sizeof err)) {
		query_error(r, err);
		return;
	}
	sx_decision d;
	sx_batch_one(r->x, &q, tenant_name(r), &d);
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
	sx_query q = { 0 };
	char err[256];
	if (sx_query_when(&q, type, at, err, sizeof err) ||
	    sx_query_id(&q, a[1], err, sizeof err)) {
		query_error(r, err);
		return;
	}
	sx_resp_int(r->out, sx_listed(r->x->cur->snap, &q) ? 1 : 0);
}
