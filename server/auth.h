/*
 * auth.h - AUTH for both protocols (SPEC section 9), as a service: it
 * knows tenants and addresses, not connections.
 *
 * The order of checks: no tenants configured; a token reserved for this
 * address and tenant name, or the rate-limit refusal and no word about the
 * secret (tenant.h); the tenant's cached secret (answered at once, on the
 * I/O thread); otherwise the yescrypt verification is a job (jobs.h) for
 * the job thread, and the caller makes its client wait for it.  Failures always look the same to
 * the client (Redis's WRONGPASS text), whether the tenant is unknown or
 * the secret wrong; the audit trail (audit.h) tells them apart for the
 * operator: every failure is one line, event=auth.fail with
 * result=wrong-secret, unknown-tenant, no-secret (a certificate-only
 * tenant) or cert-mismatch, and every refusal by the rate limit one
 * line, event=auth.limited, each naming the tenant that was tried.  The secret is copied into the job (the request's
 * bytes do not outlive the read) and wiped when the job has run.
 */
#ifndef SX_AUTH_H
#define SX_AUTH_H

#include <stddef.h>

#include "audit.h"
#include "jobs.h"
#include "sx.h"
#include "tenant.h"

#define SX_AUTH_WRONGPASS "WRONGPASS invalid username-password pair or user is disabled."
#define SX_AUTH_LIMITED   "WRONGPASS too many failed AUTH attempts from this address; " \
                          "try again later"

/* The answer when no job is needed. */
typedef struct sx_auth_answer {
	int rc;                     /* 0: authenticated as tenant */
	const sx_tenant *tenant;
	char text[128];             /* "OK", or "WRONGPASS ...", "ERR ..." */
} sx_auth_answer;

/*
 * Authenticate a client at addr as tenant name with secret against ts
 * (NULL: no tenants configured).  bound is the tenant the client's TLS
 * certificate made it (NULL: none): AUTH as that tenant is answered OK,
 * as any other NOPERM.  o is where the client is, for the audit line of
 * a failure (its who is ignored: the line names the tenant tried).
 * Returns NULL with *a filled when answered at once, or a job to submit
 * whose result is the answer (rc 0 with job->tenant set, or rc < 0 with
 * the error text).
 */
sx_job *sx_auth_begin(sx_tenants *ts, const sx_tenant *bound, const sx_addr *addr,
                      const sx_origin *o, sx_str name, sx_str secret,
                      sx_auth_answer *a);

struct sx_ctx;

/*
 * A connection that is tenant cur (NULL: none) has authenticated as t (an
 * AUTH that succeeded, a client certificate): count it as t's and no
 * longer cur's (tenant.h sx_tenants_conn_move).  Returns 0, and the caller
 * makes the connection t; or SX_EFULL when t has max-conns connections
 * already: the refusal is counted in x, msg holds the error ("ERR
 * max-conns reached: ...") and the connection stays cur.  Every change of
 * a connection's tenant goes through here, and its close through
 * sx_tenants_conn_move(ts, t, NULL).
 */
int sx_auth_take(struct sx_ctx *x, const sx_tenant *cur, const sx_tenant *t,
                 char *msg, size_t cap);

#endif
