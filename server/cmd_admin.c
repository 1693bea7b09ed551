/*
 * cmd_admin.c - the administrative commands: RELOAD, the live updates
 * (LIST.ADD, LIST.REMOVE, LIST.SUSPEND, LIST.RESUME, PERMIT.ADD,
 * PERMIT.REMOVE) and JOURNAL.COMPACT.  Each checks its words and hands a
 * job made by its service (reload.h, live.h) to the protocol, which makes
 * the client wait for the job's result.
 *
 * Every admin command is one audit line (audit.h) naming who asked, from
 * where, and how it ended: the services write it when their job is done
 * or when they refuse it at once; a RELOAD refused here for its words (a
 * syntax error, a bad path) is written here.
 */
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "cmd.h"
#include "ctx.h"
#include "live.h"
#include "reload.h"
#include "resp.h"

static int is_force(sx_str s)
{
	return s.n == 5 && !strncasecmp(s.p, "FORCE", 5);
}

/* Refuse a RELOAD for its words: the error and its audit line. */
static void reload_refused(sx_req *r, const sx_origin *o, const char *err)
{
	sx_audit a;
	sx_audit_begin(&a, SX_AUDIT_RELOAD, o);
	sx_audit_cstr(&a, "result", "refused");
	sx_audit_cstr(&a, "err", err);
	sx_audit_end(&a, 0);
	sx_resp_errorf(r->out, "ERR %s", err);
}

/* RELOAD, RELOAD FORCE, RELOAD path, RELOAD path FORCE; RELOAD TLS (a
 * snapshot file called TLS is ./TLS). */
void sx_cmd_reload(sx_req *r, const sx_str *a, size_t argc)
{
	const sx_str *path = NULL;
	int force = 0;
	sx_origin o;
	sx_req_origin(r, &o);
	if (argc == 2 && a[1].n == 3 && !strncasecmp(a[1].p, "TLS", 3)) {
		char err[128];
		r->job = sx_reload_tls_job(r->x->srv, &o, err, sizeof err);
		if (!r->job)
			sx_resp_error(r->out, err, strlen(err));
		return;
	}
	if (argc == 2 && is_force(a[1])) {
		force = 1;
	} else if (argc == 2) {
		path = &a[1];
	} else if (argc == 3 && is_force(a[2])) {
		path = &a[1];
		force = 1;
	} else if (argc != 1) {
		reload_refused(r, &o, "syntax error");
		return;
	}
	int ctl = 0;
	for (size_t i = 0; path && i < path->n; i++)
		ctl |= (unsigned char)path->p[i] < 0x20 || path->p[i] == 0x7f;
	if (path && (path->n == 0 || ctl)) {
		reload_refused(r, &o, "reload failed: bad path");
		return;
	}
	r->job = sx_reload_job(r->x->srv, path ? path->p : NULL, path ? path->n : 0, force,
	                       &o);
}

static void update(sx_req *r, const sx_str *a, size_t argc, int compact)
{
	char err[256];
	sx_origin o;
	sx_req_origin(r, &o);
	r->job = sx_live_update_job(r->x->srv, a, argc, compact, &o, err, sizeof err);
	if (!r->job)
		sx_resp_error(r->out, err, strlen(err));
}

/* One handler for every update: the overlay tells them apart. */
void sx_cmd_update(sx_req *r, const sx_str *a, size_t argc)
{
	update(r, a, argc, 0);
}

/* JOURNAL.COMPACT: drop the entries the serving snapshot supersedes. */
void sx_cmd_journal_compact(sx_req *r, const sx_str *a, size_t argc)
{
	update(r, a, argc, 1);
}
