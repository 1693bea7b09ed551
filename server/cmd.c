/*
 * cmd.c - the command table's dispatcher and the permission checks (see
 * cmd.h).
 *
 * Dispatch follows Redis 7's order and wording, so that Redis clients
 * that probe (HELLO, CONFIG, CLIENT SETNAME) get the errors they expect:
 * unknown command, then arity, then authentication, then permission.
 * The table is small enough that a length-first linear scan beats
 * hashing; CHECK is first.  The permission checks themselves are in
 * cmd_perm.c, which the protocols use too.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "ctx.h"
#include "resp.h"
#include "tenant.h"

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

static int lookup(sx_str s)
{
	for (int i = 0; i < SX_NCMDS; i++)
		if (sx_ascii_ieq(s.p, s.n, cmds[i].name, cmds[i].len))
			return i;
	return -1;
}

/* Redis 7: "unknown command 'FOO', with args beginning with: 'a' 'b' " */
static void unknown_command(sx_req *r, const sx_str *argv, size_t argc)
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
	sx_resp_errorf(r->out, "ERR unknown command '%.*s', with args beginning with: %s",
	               nlen, argv[0].p, args);
}

void sx_cmd_run(sx_req *r, const sx_str *argv, size_t argc)
{
	sx_ctx *x = r->x;
	if (!r->counted)
		sx_stat_inc(x->stats.commands);   /* an EXEC frame counted itself */
	int id = lookup(argv[0]);
	if (sx_unlikely(id < 0)) {
		sx_stat_inc(x->stats.per_cmd[SX_NCMDS]);
		sx_req_out(r);
		unknown_command(r, argv, argc);
		return;
	}
	const struct cmd_def *d = &cmds[id];
	sx_stat_inc(x->stats.per_cmd[id]);
	if (!(d->flags & SX_CMDF_BATCH))
		sx_req_out(r);          /* the gathered queries answer first */
	if (sx_unlikely(d->arity > 0 ? argc != (size_t)d->arity
	                             : argc < (size_t)-d->arity)) {
		sx_resp_errorf(sx_req_out(r), "ERR wrong number of arguments for '%s' command",
		               d->name);
		return;
	}
	if (sx_unlikely(!r->tenant && x->tenants && !(d->flags & SX_CMDF_PREAUTH))) {
		sx_stat_inc(x->stats.noauth);
		sx_resp_lit(sx_req_out(r), "-" SX_NOAUTH_MSG "\r\n");
		return;
	}
	char msg[256];
	size_t n = sx_perm_command(r, id, msg, sizeof msg);
	if (sx_unlikely(n)) {
		sx_resp_error(sx_req_out(r), msg, n);
		return;
	}
	d->fn(r, argv, argc);
}
