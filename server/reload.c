/*
 * reload.c - snapshot hot swap: RELOAD [path] [FORCE] and SIGHUP.
 *
 * The job thread maps and verifies the new file (sx_snap_open checks every
 * byte, ~100 ms for 10 M records), refuses it when its as-of is older than
 * the serving snapshot's unless FORCE, and publishes it (qsbr.h): workers
 * pick it up at their next loop iteration, and the old one is unmapped
 * once all of them have moved on.  A refused or damaged file changes
 * nothing but the status shown by INFO (last_reload_error) and the log.
 * Because there is one job thread, reloads never overlap.  The command
 * (cmd_admin.c) and SIGHUP (server.c) only make the job.  RELOAD TLS
 * rereads the certificate, key and CA the same way (tls.h): a bad file is
 * refused with its reason and the certificate in use keeps serving.
 *
 * Under systemd (notify.h) a snapshot swap is framed by RELOADING=1 when
 * the job begins and READY=1 when it has ended, swapped or refused, so
 * `systemctl reload` (SIGHUP) returns once the new generation serves and
 * `systemctl status` shows which one does.  RELOAD TLS says nothing: it
 * swaps no snapshot and takes milliseconds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "audit.h"
#include "live.h"
#include "log.h"
#include "notify.h"
#include "reload.h"
#include "server_int.h"
#include "tls.h"

typedef struct reload_job {
	sx_job job;                 /* first */
	sx_srv *srv;
	sx_origin origin;           /* who asked: the audit line */
	int force;
	int has_path;
	char path[];
} reload_job;

/* Record an attempt in st (err NULL: it worked). */
static void status(sx_srv *s, sx_reload_status *st, const char *err)
{
	pthread_mutex_lock(&s->status_lock);
	st->last = (int64_t)time(NULL);
	if (err) {
		st->failed++;
		snprintf(st->error, sizeof st->error, "%s", err);
	} else {
		st->ok++;
		st->error[0] = 0;
	}
	pthread_mutex_unlock(&s->status_lock);
}

/* The audit line of a reload (path NULL: RELOAD TLS); err NULL: it worked,
 * and gen is the new generation. */
static void audit(const reload_job *r, const char *path, const char *err, uint64_t gen)
{
	sx_audit a;
	sx_audit_begin(&a, path ? SX_AUDIT_RELOAD : SX_AUDIT_RELOAD_TLS, &r->origin);
	if (path) {
		sx_audit_cstr(&a, "path", path);
		if (r->force)
			sx_audit_cstr(&a, "force", "yes");
	}
	sx_audit_cstr(&a, "result", err ? "failed" : "ok");
	if (err)
		sx_audit_cstr(&a, "err", err);
	else if (path)
		sx_audit_u64(&a, "generation", gen);
	sx_audit_end(&a, !err);
}

static void fmt_as_of(int64_t t, char *buf)
{
	if (t == SX_AS_OF_NONE)
		strcpy(buf, "none");
	else
		sx_time_format(t, buf);
}

static void reload_run(sx_job *j)
{
	reload_job *r = (reload_job *)j;
	sx_srv *s = r->srv;
	const char *path = r->has_path ? r->path : s->snap_path;
	char why[512] = "", err[SX_JOB_TEXT - 8] = "";
	sx_snap *snap = NULL;

	sx_notify_reloading("reloading %s", path);
	uint64_t t0 = sx_mono_ms();
	int rc = sx_snap_open(path, &snap, why, sizeof why);
	uint32_t ms = (uint32_t)(sx_mono_ms() - t0);
	sx_served *cur = sx_qsbr_current(&s->qsbr), *next = NULL;
	if (rc) {
		if (why[0] && strstr(why, path))  /* the reason names it */
			snprintf(err, sizeof err, "reload failed: %s", why);
		else
			snprintf(err, sizeof err, "reload failed: %s: %s", path,
			         why[0] ? why : sx_strerror(rc));
	} else {
		int64_t new_as_of = sx_snap_get_info(snap)->as_of;
		int64_t cur_as_of = cur->info->as_of;
		if (!r->force && new_as_of < cur_as_of) {
			char a[40], b[40];
			fmt_as_of(new_as_of, a);
			fmt_as_of(cur_as_of, b);
			snprintf(err, sizeof err, "reload refused: %s: its as-of %s is older "
			         "than the serving snapshot's %s (RELOAD path FORCE overrides)",
			         path, a, b);
		} else if (!(next = sx_served_new(snap, path, cur->gen + 1,
		                                  cur->snap_gen + 1, ms))) {
			snprintf(err, sizeof err, "reload failed: %s: out of memory", path);
		}
		if (!next)
			sx_snap_close(snap);
	}
	if (!next) {
		status(s, &s->snap_reload, err);
		sx_log_warn("%s; generation %llu keeps serving", err,
		            (unsigned long long)cur->snap_gen);
		audit(r, path, err, 0);
		sx_notify_reloaded("%s; generation %llu of %s keeps serving", err,
		                   (unsigned long long)cur->snap_gen, cur->path);
		sx_job_result(j, SX_EINVAL, "ERR %s", err);
		return;
	}

	next = sx_live_rebase(s, next);
	if (!next) {
		status(s, &s->snap_reload, "reload failed: out of memory replaying the journal");
		audit(r, path, "out of memory replaying the journal", 0);
		sx_notify_reloaded("reload failed: out of memory replaying the journal; "
		                   "generation %llu keeps serving", (unsigned long long)cur->snap_gen);
		sx_job_result(j, -ENOMEM, "ERR reload failed: out of memory "
		              "replaying the journal");
		return;
	}
	sx_served *old = sx_qsbr_publish(&s->qsbr, next);
	sx_served_free(old);
	status(s, &s->snap_reload, NULL);
	char a[40];
	fmt_as_of(next->info->as_of, a);
	sx_log_info("reloaded %s: generation %llu, %llu records, as-of %s, verified in %u ms%s",
	            path, (unsigned long long)next->snap_gen, (unsigned long long)next->info->records,
	            a, ms, r->force ? " (FORCE)" : "");
	audit(r, path, NULL, next->snap_gen);
	sx_notify_reloaded("serving generation %llu of %s (%llu records, as-of %s)",
	                   (unsigned long long)next->snap_gen, path,
	                   (unsigned long long)next->info->records, a);
	sx_job_result(j, 0, "OK %llu", (unsigned long long)next->snap_gen);
}

static void reload_done(sx_job *j)
{
	free(j);
}

/* ---- RELOAD TLS: the certificate, key and CA again ------------------------ */

static void tls_run(sx_job *j)
{
	reload_job *r = (reload_job *)j;
	sx_srv *s = r->srv;
	char why[512];
	int rc = sx_tls_server_reload(s->tls, why, sizeof why);
	status(s, &s->tls_reload, rc ? why : NULL);
	if (rc) {
		sx_log_warn("TLS reload failed: %s; the certificate in use keeps serving", why);
		audit(r, NULL, why, 0);
		sx_job_result(j, rc, "ERR TLS reload failed: %s; the certificate in use keeps "
		              "serving", why);
		return;
	}
	char d[512];
	sx_tls_server_describe(s->tls, d, sizeof d);
	sx_log_info("TLS reloaded: %s; new connections use it", d);
	audit(r, NULL, NULL, 0);
	sx_job_result(j, 0, "OK");
}

sx_job *sx_reload_tls_job(sx_srv *s, const sx_origin *o, char *err, size_t cap)
{
	reload_job *r = calloc(1, sizeof *r + 1);
	if (!r)
		abort();
	if (o)
		r->origin = *o;
	if (!s->tls) {
		snprintf(err, cap, "ERR no TLS port: RELOAD TLS needs --tls-cert and a TLS port");
		audit(r, NULL, err + 4, 0);
		free(r);
		return NULL;
	}
	r->job.run = tls_run;
	r->job.done = reload_done;
	r->srv = s;
	return &r->job;
}

sx_job *sx_reload_job(sx_srv *s, const char *path, size_t pathlen, int force,
                      const sx_origin *o)
{
	reload_job *r = calloc(1, sizeof *r + (path ? pathlen : 0) + 1);
	if (!r)
		abort();
	if (o)
		r->origin = *o;
	r->job.run = reload_run;
	r->job.done = reload_done;
	r->srv = s;
	r->force = force;
	if (path) {
		r->has_path = 1;
		memcpy(r->path, path, pathlen);
	}
	return &r->job;
}
