/*
 * auth.c - AUTH (see auth.h).  The secret is copied into the job (it must
 * outlive the request buffer) and wiped when the job is done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "resp.h"
#include "server_int.h"
#include "worker.h"

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
		snprintf(j->reply, sizeof j->reply, "+OK");
	} else {
		snprintf(j->reply, sizeof j->reply, "%s", SX_AUTH_WRONGPASS);
	}
	explicit_bzero(a->secret, sizeof a->secret);
}

static void auth_done(sx_job *j)
{
	free(j);
}

int sx_auth_begin(sx_conn *c, const char *name, size_t nlen,
                  const char *secret, size_t slen, char *reply, size_t cap)
{
	sx_worker *w = c->w;
	sx_tenants *ts = w->srv->tenants;
	if (!ts) {
		snprintf(reply, cap, "-ERR no tenants configured");
		return 1;
	}
	if (!sx_tenants_admit(ts, &c->addr)) {
		snprintf(reply, cap, "-WRONGPASS too many failed AUTH attempts from this "
		         "address; try again later");
		return 1;
	}
	const sx_tenant *t = sx_tenants_find(ts, name, nlen);
	if (t && sx_tenants_cached(ts, t, secret, slen)) {
		c->tenant = t;
		snprintf(reply, cap, "+OK");
		return 1;
	}
	auth_job *a = calloc(1, sizeof *a);
	if (!a)
		abort();
	a->job.run = auth_run;
	a->job.done = auth_done;
	a->tenants = ts;
	a->tenant = t;
	a->addr = c->addr;
	if (slen <= sizeof a->secret) {
		memcpy(a->secret, secret, slen);
		a->n = slen;
	} else {
		a->tenant = NULL;    /* too long to be anyone's secret: fails */
	}
	sx_worker_submit(w, c, &a->job);
	return 0;
}

void sx_cmd_auth(sx_conn *c, const sx_str *a, size_t argc)
{
	(void)argc;
	char reply[256];
	if (!sx_auth_begin(c, a[1].p, a[1].n, a[2].p, a[2].n, reply, sizeof reply))
		return;
	sx_obuf_put(&c->out, reply, strlen(reply));
	sx_obuf_put(&c->out, "\r\n", 2);
}
