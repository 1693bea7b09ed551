/*
 * reload.h - snapshot hot swap as a job (reload.c says how).
 */
#ifndef SX_RELOAD_H
#define SX_RELOAD_H

#include <stddef.h>

#include "jobs.h"

struct sx_srv;
struct sx_origin;

/* A job that loads path[0..pathlen) (path NULL: the configured snapshot),
 * refusing an older as-of unless force; its result is "OK <generation>"
 * or "ERR reload ...".  o is who asked (a RELOAD's client, SIGHUP): the
 * outcome is an audit line (audit.h, event=reload) naming it.  Submit it
 * (jobs.h); out of memory aborts. */
sx_job *sx_reload_job(struct sx_srv *s, const char *path, size_t pathlen, int force,
                      const struct sx_origin *o);

/* A job that rereads the TLS certificate, key and CA (RELOAD TLS, SIGHUP);
 * "OK", or "ERR TLS reload failed: <why>" with nothing changed; audited
 * as event=reload.tls.  NULL with the error in err (and audited) when TLS
 * is off. */
sx_job *sx_reload_tls_job(struct sx_srv *s, const struct sx_origin *o, char *err,
                          size_t cap);

#endif
