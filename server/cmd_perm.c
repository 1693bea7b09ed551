/*
 * cmd_perm.c - who may ask what: the permission checks of the command
 * table and of the binary protocol's operations, and the tenant's batch
 * limit, in one place (cmd.h).
 * A tenant's flags and channels come from the tenants file (tenant.h); no
 * tenants at all means everything is allowed.  The messages are the ones
 * clients see after NOPERM, the same on every protocol.  Every refusal is
 * also one audit line (audit.h), written here so that no protocol can
 * refuse without it.
 */
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "cmd.h"
#include "ctx.h"
#include "tenant.h"

/* The table's names and flags, from its X-macro. */
static const char *const names[SX_NCMDS] = {
#define X(e, name, arity, fl, fn) name,
	SX_COMMANDS(X)
#undef X
};
static const unsigned char flags[SX_NCMDS] = {
#define X(e, name, arity, fl, fn) fl,
	SX_COMMANDS(X)
#undef X
};

static void upper(const char *s, char *buf, size_t cap)
{
	size_t i = 0;
	for (; s[i] && i + 1 < cap; i++)
		buf[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
	buf[i] = 0;
}

static size_t clamp(int n, size_t cap)
{
	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

void sx_req_origin(const sx_req *r, sx_origin *o)
{
	const char *who = r->tenant ? r->tenant->name : NULL;
	sx_origin_who(o, who, who ? strlen(who) : 0);
	sx_origin_peer(o, r->addr, r->port, r->proto, r->tls);
}

/* The audit line of a refusal: who, what, and what it lacked. */
SX_COLD static void audit_refusal(const sx_req *r, int cmd, int chan, const char *need)
{
	char name[32];
	sx_origin o;
	sx_audit a;
	upper(names[cmd], name, sizeof name);
	sx_req_origin(r, &o);
	sx_audit_begin(&a, SX_AUDIT_NOPERM, &o);
	sx_audit_cstr(&a, "cmd", name);
	if (chan >= 0)
		sx_audit_cstr(&a, "channel", sx_channel_name(chan));
	sx_audit_cstr(&a, "need", need);
	sx_audit_cstr(&a, "result", "refused");
	sx_audit_end(&a, 0);
}

size_t sx_perm_channel(const sx_req *r, int cmd, int chan, char *msg, size_t cap)
{
	const sx_tenant *t = r->tenant;
	if (!t || (t->channels & SX_CODE_BIT(chan)))
		return 0;
	sx_stat_inc(r->x->stats.noperm);
	audit_refusal(r, cmd, chan, "channel");
	return clamp(snprintf(msg, cap, "NOPERM tenant '%s' may not ask about channel '%s'",
	                      t->name, sx_channel_name(chan)), cap);
}

size_t sx_perm_command(const sx_req *r, int cmd, char *msg, size_t cap)
{
	const sx_tenant *t = r->tenant;
	if (!t || !(((flags[cmd] & SX_CMDF_ADMIN) && !t->admin) ||
	            ((flags[cmd] & SX_CMDF_LISTED) && !t->listed)))
		return 0;
	char name[32];
	int admin = (flags[cmd] & SX_CMDF_ADMIN) != 0;
	upper(names[cmd], name, sizeof name);
	sx_stat_inc(r->x->stats.noperm);
	audit_refusal(r, cmd, -1, admin ? "admin" : "listed");
	return clamp(snprintf(msg, cap, "NOPERM tenant '%s' may not use %s (%s)", t->name,
	                      name, admin ? "admin tenants only" : "needs the listed flag"),
	             cap);
}


size_t sx_perm_batch(sx_ctx *x, const sx_tenant *t, size_t n, char *msg, size_t cap)
{
	size_t max = t ? t->max_batch : SX_TENANT_MAX_BATCH;
	if (sx_likely(n <= max))
		return 0;
	sx_stat_inc(x->stats.batch_refused);
	if (t)
		return clamp(snprintf(msg, cap, "ERR max-batch exceeded: %zu IDs in one batch; "
		                      "tenant '%s' may send at most %zu", n, t->name, max), cap);
	return clamp(snprintf(msg, cap, "ERR max-batch exceeded: %zu IDs in one batch; "
	                      "at most %zu", n, max), cap);
}
