/*
 * cmd.c - the command table's dispatcher and the query commands: CHECK,
 * MCHECK, LISTED, plus PING, QUIT and INFO.  AUTH lives in auth.c, RELOAD
 * in reload.c, the live updates in live.c.
 *
 * Dispatch follows Redis 7's order and wording, so that Redis clients
 * that probe (HELLO, CONFIG, CLIENT SETNAME) get the errors they expect:
 * unknown command, then arity, then authentication, then permission.
 * The table is small enough that a length-first linear scan beats
 * hashing; CHECK is first.
 *
 * Query syntax (SPEC section 5): the class is optional and is the word
 * after the channel unless that word is TYPE or AT; TYPE and AT each take
 * one value, at most once each, in any order; anything else is
 * "-ERR syntax error".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "batch.h"
#include "cmd.h"
#include "conn.h"
#include "live.h"
#include "report.h"
#include "resp.h"
#include "server_int.h"
#include "worker.h"

static const struct cmd_def {
	const char *name;
	uint8_t len;
	int8_t arity;
	uint8_t flags;
	sx_cmd_fn *fn;
} cmds[SX_NCMDS] = {
#define X(e, name, arity, flags, fn) { name, sizeof(name) - 1, arity, flags, fn },
	SX_COMMANDS(X)
#undef X
};

const char *sx_cmd_name(int cmd)
{
	return cmd >= 0 && cmd < SX_NCMDS ? cmds[cmd].name : "unknown";
}

static int lookup(sx_str s)
{
	for (int i = 0; i < SX_NCMDS; i++)
		if (cmds[i].len == s.n && !strncasecmp(cmds[i].name, s.p, s.n))
			return i;
	return -1;
}

static int eqi(sx_str s, const char *lit, size_t n)
{
	return s.n == n && !strncasecmp(s.p, lit, n);
}

static void upper(const char *s, char *buf, size_t cap)
{
	size_t i = 0;
	for (; s[i] && i + 1 < cap; i++)
		buf[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
	buf[i] = 0;
}

/* Redis 7: "unknown command 'FOO', with args beginning with: 'a' 'b' " */
static void unknown_command(sx_conn *c, const sx_str *argv, size_t argc)
{
	char args[160];
	size_t n = 0;
	for (size_t i = 1; i < argc && n < 128; i++) {
		int room = 128 - (int)n;
		int len = (int)(argv[i].n < (size_t)room ? argv[i].n : (size_t)room);
		n += (size_t)snprintf(args + n, sizeof args - n, "'%.*s' ", len, argv[i].p);
		if (n >= sizeof args)
			n = sizeof args - 1;
	}
	args[n] = 0;
	int nlen = argv[0].n < 128 ? (int)argv[0].n : 128;
	sx_resp_errorf(&c->out, "ERR unknown command '%.*s', with args beginning with: %s",
	               nlen, argv[0].p, args);
}

void sx_cmd_run(sx_conn *c, const sx_str *argv, size_t argc)
{
	sx_worker *w = c->w;
	if (!(c->flags & SX_CF_EXEC))
		sx_stat_inc(w->stats.commands);   /* an EXEC frame counted itself */
	int id = lookup(argv[0]);
	if (sx_unlikely(id < 0)) {
		sx_stat_inc(w->stats.per_cmd[SX_NCMDS]);
		unknown_command(c, argv, argc);
		return;
	}
	const struct cmd_def *d = &cmds[id];
	sx_stat_inc(w->stats.per_cmd[id]);
	if (sx_unlikely(d->arity > 0 ? argc != (size_t)d->arity
	                             : argc < (size_t)-d->arity)) {
		sx_resp_errorf(&c->out, "ERR wrong number of arguments for '%s' command", d->name);
		return;
	}
	if (sx_unlikely(!c->tenant && w->srv->tenants && !(d->flags & SX_CMDF_PREAUTH))) {
		sx_stat_inc(w->stats.noauth);
		sx_resp_lit(&c->out, "-NOAUTH Authentication required.\r\n");
		return;
	}
	if (sx_unlikely(c->tenant && (((d->flags & SX_CMDF_ADMIN) && !c->tenant->admin) ||
	                              ((d->flags & SX_CMDF_LISTED) && !c->tenant->listed)))) {
		char name[32];
		upper(d->name, name, sizeof name);
		sx_stat_inc(w->stats.noperm);
		sx_resp_errorf(&c->out, "NOPERM tenant '%s' may not use %s (%s)", c->tenant->name,
		               name, (d->flags & SX_CMDF_ADMIN) ? "admin tenants only"
		                                                : "needs the listed flag");
		return;
	}
	d->fn(c, argv, argc);
}

/* ---- replies shared by the query commands ------------------------------ */

/* "$4\r\nDENY\r\n$6\r\nLISTED\r\n" and so on, built once. */
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

static void reply_decision(sx_worker *w, sx_obuf *ob, const sx_decision *d)
{
	sx_resp_array(ob, 2 + (size_t)d->nrec);
	sx_obuf_put(ob, reason_resp[d->reason].s, reason_resp[d->reason].n);
	for (uint32_t i = 0; i < d->nrec; i++) {
		size_t n;
		const char *t = sx_batch_record(w, d->rec[i], &n);
		sx_resp_bulk(ob, t, n);
	}
}

static void query_error(sx_conn *c, const char *err)
{
	sx_stat_inc(c->w->stats.query_errors);
	sx_resp_errorf(&c->out, "ERR %s", err);
}

static void syntax_error(sx_conn *c)
{
	sx_stat_inc(c->w->stats.query_errors);
	sx_resp_lit(&c->out, "-ERR syntax error\r\n");
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

/* A tenant may ask about chan?  Replies NOPERM when not. */
static int may_ask(sx_conn *c, int chan)
{
	const sx_tenant *t = c->tenant;
	if (!t || (t->channels & (1u << chan)))
		return 1;
	sx_stat_inc(c->w->stats.noperm);
	sx_resp_errorf(&c->out, "NOPERM tenant '%s' may not ask about channel '%s'",
	               t->name, sx_channel_name(chan));
	return 0;
}

/* ---- CHECK id channel [class] [TYPE t] [AT d] --------------------------- */

void sx_cmd_check(sx_conn *c, const sx_str *a, size_t argc)
{
	sx_worker *w = c->w;
	sx_str cls = { 0 }, type = { 0 }, at = { 0 };
	size_t i = 3;
	if (i < argc && !is_keyword(a[i]))
		cls = a[i++];
	if (keywords(a, argc, &i, &type, &at, 0)) {
		syntax_error(c);
		return;
	}
	sx_query q;
	char err[256];
	if (sx_query_common(&q, a[2], cls, type, at, err, sizeof err)) {
		query_error(c, err);
		return;
	}
	if (!may_ask(c, q.chan))
		return;
	if (sx_query_id(&q, a[1], err, sizeof err)) {
		query_error(c, err);
		return;
	}
	sx_decision d;
	sx_decide(w->cur->snap, &q, &d, w->recs);
	sx_batch_count(w, q.chan, &d);
	sx_live_feedback(w, c->tenant ? c->tenant->name : NULL, &q, &d);
	reply_decision(w, &c->out, &d);
}

/* ---- MCHECK channel class-or-dash [TYPE t] [AT d] id [id ...] ---------- */

typedef struct resp_sink {
	sx_batch_sink k;
	sx_worker *w;
	sx_obuf *ob;
} resp_sink;

static void resp_sink_decision(sx_batch_sink *k, const sx_decision *d)
{
	resp_sink *r = (resp_sink *)k;
	reply_decision(r->w, r->ob, d);
}

static void resp_sink_error(sx_batch_sink *k, const char *err, size_t n)
{
	resp_sink *r = (resp_sink *)k;
	sx_resp_error(r->ob, err, n);
}

void sx_cmd_mcheck(sx_conn *c, const sx_str *a, size_t argc)
{
	sx_worker *w = c->w;
	sx_str cls = a[2], type = { 0 }, at = { 0 };
	if (cls.n == 1 && cls.p[0] == '-')
		cls = (sx_str){ 0 };
	size_t i = 3;
	if (keywords(a, argc, &i, &type, &at, 1)) {
		syntax_error(c);
		return;
	}
	if (i == argc) {
		sx_resp_lit(&c->out, "-ERR wrong number of arguments for 'mcheck' command\r\n");
		return;
	}
	sx_query q;
	char err[256];
	if (sx_query_common(&q, a[1], cls, type, at, err, sizeof err)) {
		query_error(c, err);
		return;
	}
	if (!may_ask(c, q.chan))
		return;
	sx_stat_add(w->stats.mcheck_ids, argc - i);
	sx_resp_array(&c->out, argc - i);
	resp_sink sink = { { resp_sink_decision, resp_sink_error }, w, &c->out };
	sx_batch_decide(w, &q, a + i, argc - i, c->tenant ? c->tenant->name : NULL,
	                &sink.k);
}

/* ---- LISTED id [TYPE t] [AT d] ----------------------------------------- */

void sx_cmd_listed(sx_conn *c, const sx_str *a, size_t argc)
{
	sx_str type = { 0 }, at = { 0 };
	size_t i = 2;
	if (keywords(a, argc, &i, &type, &at, 0)) {
		syntax_error(c);
		return;
	}
	/* LISTED asks about no channel; any channel without a class parses. */
	static const sx_str any_channel = { "air", 3 };
	sx_query q;
	char err[256];
	if (sx_query_common(&q, any_channel, (sx_str){ 0 }, type, at, err, sizeof err) ||
	    sx_query_id(&q, a[1], err, sizeof err)) {
		query_error(c, err);
		return;
	}
	sx_resp_int(&c->out, sx_listed(c->w->cur->snap, &q) ? 1 : 0);
}

/* ---- PING [message], QUIT, INFO [section ...] --------------------------- */

void sx_cmd_ping(sx_conn *c, const sx_str *a, size_t argc)
{
	if (argc == 1)
		sx_resp_lit(&c->out, "+PONG\r\n");
	else if (argc == 2)
		sx_resp_bulk(&c->out, a[1].p, a[1].n);
	else
		sx_resp_lit(&c->out, "-ERR wrong number of arguments for 'ping' command\r\n");
}

void sx_cmd_quit(sx_conn *c, const sx_str *a, size_t argc)
{
	(void)a;
	(void)argc;
	sx_resp_lit(&c->out, "+OK\r\n");
	sx_conn_close_after_reply(c);
}

void sx_cmd_info(sx_conn *c, const sx_str *a, size_t argc)
{
	size_t n = 0;
	char *text = sx_report_info(c->w->srv, c->w->cur, a + 1, argc - 1, &n);
	sx_resp_bulk(&c->out, text, n);
	free(text);
}

