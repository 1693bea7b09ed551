/*
 * auth.c - AUTH (see auth.h).
 *
 * Every path that compares a secret holds a token reserved by
 * sx_tenants_admit() and settles it: the cached compare here, the hash in
 * the job (which tries the cache first: a pool's first login may have
 * filled it while the others were queued).  An AUTH that finds its buckets empty only because of AUTHs
 * still being verified (a pool of connections logging in at once) is not
 * refused: it becomes a job too, and since jobs run in order it asks again
 * after those verifications have settled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "ctx.h"

typedef struct auth_job {
	sx_job job;                 /* first: a job pointer is an auth_job */
	sx_tenants *tenants;
	const sx_tenant *tenant;    /* NULL: unknown name */
	int reserved;               /* 0: admit again first (SX_ADMIT_WAIT) */
	sx_addr addr;
	sx_origin origin;           /* who: the name tried */
	size_t n;
	char secret[SX_TENANT_SECRET_MAX];
} auth_job;

/* The audit line of a failure or a refusal (o's who: the name tried). */
SX_COLD static void audit(const sx_origin *o, int ev, const char *result)
{
	sx_audit a;
	sx_audit_begin(&a, ev, o);
	sx_audit_cstr(&a, "result", result);
	sx_audit_end(&a, 0);
}

/* Why a secret did not verify, in the audit's words. */
static const char *failure(const sx_tenant *t)
{
	return !t ? "unknown-tenant" : !t->hash ? "no-secret" : "wrong-secret";
}

static void auth_run(sx_job *j)
{
	auth_job *a = (auth_job *)j;
	if (!a->reserved &&
	    sx_tenants_admit(a->tenants, &a->addr, a->tenant, 0) != SX_ADMIT_OK) {
		audit(&a->origin, SX_AUDIT_AUTH_LIMITED, "rate-limited");
		sx_job_result(j, SX_EINVAL, "%s", SX_AUTH_LIMITED);
	} else if (a->tenant && a->n <= sizeof a->secret &&
	           sx_tenants_cached(a->tenants, a->tenant, a->secret, a->n)) {
		sx_tenants_settle(a->tenants, &a->addr, a->tenant, 1);
		j->tenant = a->tenant;
		sx_job_result(j, 0, "OK");
	} else if (sx_tenants_verify(a->tenants, a->tenant, &a->addr, a->secret, a->n)) {
		j->tenant = a->tenant;
		sx_job_result(j, 0, "OK");
	} else {
		audit(&a->origin, SX_AUDIT_AUTH_FAIL, failure(a->tenant));
		sx_job_result(j, SX_EINVAL, "%s", SX_AUTH_WRONGPASS);
	}
	explicit_bzero(a->secret, sizeof a->secret);
}

static void auth_done(sx_job *j)
{
	free(j);
}

static sx_job *answer(sx_auth_answer *a, int rc, const sx_tenant *t, const char *text)
{
	a->rc = rc;
	a->tenant = t;
	snprintf(a->text, sizeof a->text, "%s", text);
	return NULL;
}

sx_job *sx_auth_begin(sx_tenants *ts, const sx_tenant *bound, const sx_addr *addr,
                      const sx_origin *o, sx_str name, sx_str secret,
                      sx_auth_answer *a)
{
	if (!ts)
		return answer(a, SX_EINVAL, NULL, "ERR no tenants configured");
	sx_origin tried = *o;
	sx_origin_who(&tried, name.p, name.n);
	if (bound) {
		if (name.n == strlen(bound->name) && !memcmp(name.p, bound->name, name.n))
			return answer(a, 0, bound, "OK");
		audit(&tried, SX_AUDIT_AUTH_FAIL, "cert-mismatch");
		char msg[sizeof a->text];
		snprintf(msg, sizeof msg, "NOPERM this connection is tenant '%s' by its "
		         "client certificate", bound->name);
		return answer(a, SX_EINVAL, NULL, msg);
	}
	const sx_tenant *t = sx_tenants_find(ts, name.p ? name.p : "", name.n);
	int adm = sx_tenants_admit(ts, addr, t, 1);
	if (adm == SX_ADMIT_LIMITED) {
		audit(&tried, SX_AUDIT_AUTH_LIMITED, "rate-limited");
		return answer(a, SX_EINVAL, NULL, SX_AUTH_LIMITED);
	}
	if (adm == SX_ADMIT_OK && t &&
	    sx_tenants_cached(ts, t, secret.p ? secret.p : "", secret.n)) {
		sx_tenants_settle(ts, addr, t, 1);
		return answer(a, 0, t, "OK");
	}
	auth_job *j = calloc(1, sizeof *j);
	if (!j)
		abort();
	j->job.lane = SX_LANE_VERIFY;    /* never behind a reload or an fsync */
	j->job.run = auth_run;
	j->job.done = auth_done;
	j->tenants = ts;
	j->tenant = t;
	j->reserved = adm == SX_ADMIT_OK;
	j->addr = *addr;
	j->origin = tried;
	/* a secret too long to be anyone's keeps its length, not its bytes:
	 * sx_tenants_verify fails it without reading them */
	if (secret.n && secret.n <= sizeof j->secret)
		memcpy(j->secret, secret.p, secret.n);
	j->n = secret.n;
	return &j->job;
}

int sx_auth_take(sx_ctx *x, const sx_tenant *cur, const sx_tenant *t, char *msg, size_t cap)
{
	if (!x->tenants || sx_tenants_conn_move(x->tenants, cur, t) == 0)
		return 0;
	sx_stat_inc(x->stats.conns_refused);
	snprintf(msg, cap, "ERR max-conns reached: tenant '%s' may have at most %u "
	         "connections at once", t->name, t->max_conns);
	return SX_EFULL;
}
