/*
 * auth.c - AUTH (see auth.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

typedef struct auth_job {
	sx_job job;                 /* first: a job pointer is an auth_job */
	sx_tenants *tenants;
	const sx_tenant *tenant;    /* NULL: unknown name */
	sx_addr addr;
	size_t n;
	char secret[SX_TENANT_SECRET_MAX];
} auth_job;

static void auth_run(sx_job *j)
{
	auth_job *a = (auth_job *)j;
	if (sx_tenants_verify(a->tenants, a->tenant, &a->addr, a->secret, a->n)) {
		j->tenant = a->tenant;
		sx_job_result(j, 0, "OK");
	} else {
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
                      sx_str name, sx_str secret, sx_auth_answer *a)
{
	if (!ts)
		return answer(a, SX_EINVAL, NULL, "ERR no tenants configured");
	if (bound) {
		if (name.n == strlen(bound->name) && !memcmp(name.p, bound->name, name.n))
			return answer(a, 0, bound, "OK");
		char msg[sizeof a->text];
		snprintf(msg, sizeof msg, "NOPERM this connection is tenant '%s' by its "
		         "client certificate", bound->name);
		return answer(a, SX_EINVAL, NULL, msg);
	}
	if (!sx_tenants_admit(ts, addr))
		return answer(a, SX_EINVAL, NULL, "WRONGPASS too many failed AUTH attempts "
		              "from this address; try again later");
	const sx_tenant *t = sx_tenants_find(ts, name.p ? name.p : "", name.n);
	if (t && sx_tenants_cached(ts, t, secret.p ? secret.p : "", secret.n))
		return answer(a, 0, t, "OK");
	auth_job *j = calloc(1, sizeof *j);
	if (!j)
		abort();
	j->job.lane = SX_LANE_VERIFY;    /* never behind a reload or an fsync */
	j->job.run = auth_run;
	j->job.done = auth_done;
	j->tenants = ts;
	j->tenant = t;
	j->addr = *addr;
	if (secret.n <= sizeof j->secret) {
		if (secret.n)
			memcpy(j->secret, secret.p, secret.n);
		j->n = secret.n;
	} else {
		j->tenant = NULL;    /* too long to be anyone's secret: fails */
	}
	return &j->job;
}
