/*
 * auth.h - AUTH for both protocols (SPEC section 9).
 *
 * The order of checks: no tenants configured; address rate-limited; the
 * tenant's cached secret (answered on the I/O thread); otherwise the
 * yescrypt verification runs on the job thread and the connection waits.
 * Failures always look the same to the client (Redis's WRONGPASS text),
 * whether the tenant is unknown or the secret wrong.
 */
#ifndef SX_AUTH_H
#define SX_AUTH_H

#include <stddef.h>

#include "conn.h"

#define SX_AUTH_WRONGPASS "-WRONGPASS invalid username-password pair or user is disabled."

/*
 * Authenticate c as tenant name with secret.  Returns 1 when answered at
 * once, with the RESP reply line ("+OK", "-WRONGPASS ...", "-ERR ...", no
 * CRLF) in reply; 0 when a job will answer (c is blocked, see conn.h).
 */
int sx_auth_begin(sx_conn *c, const char *name, size_t nlen,
                  const char *secret, size_t slen, char *reply, size_t cap);

#endif
