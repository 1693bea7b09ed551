/*
 * cmd_session.c - the commands about the session and the server: AUTH,
 * PING, QUIT and INFO.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cmd.h"
#include "ctx.h"
#include "report.h"
#include "resp.h"
#include "tenant.h"

/* AUTH tenant secret: answered at once (cached secret, rate limit), or by
 * a job that checks the yescrypt hash. */
void sx_cmd_auth(sx_req *r, const sx_str *a, size_t argc)
{
	(void)argc;
	sx_auth_answer ans;
	sx_origin o;
	sx_req_origin(r, &o);
	sx_job *job = sx_auth_begin(r->x->tenants, r->bound, r->addr, &o, a[1], a[2], &ans);
	if (job) {
		r->job = job;
		return;
	}
	char msg[160];
	if (ans.rc == 0 && sx_auth_take(r->x, r->tenant, ans.tenant, msg, sizeof msg)) {
		sx_resp_error(r->out, msg, strlen(msg));
	} else if (ans.rc == 0) {
		r->tenant = ans.tenant;
		sx_resp_lit(r->out, "+OK\r\n");
	} else {
		sx_resp_error(r->out, ans.text, strlen(ans.text));
	}
}

void sx_cmd_ping(sx_req *r, const sx_str *a, size_t argc)
{
	if (argc == 1)
		sx_resp_lit(r->out, "+PONG\r\n");
	else if (argc == 2)
		sx_resp_bulk(r->out, a[1].p, a[1].n);
	else
		sx_resp_lit(r->out, "-ERR wrong number of arguments for 'ping' command\r\n");
}

void sx_cmd_quit(sx_req *r, const sx_str *a, size_t argc)
{
	(void)a;
	(void)argc;
	sx_resp_lit(r->out, "+OK\r\n");
	r->quit = 1;
}

void sx_cmd_info(sx_req *r, const sx_str *a, size_t argc)
{
	size_t n = 0;
	/* no tenants: every client may do everything (RELOAD too), so it sees
	 * everything; that is why such a server binds only loopback */
	int full = !r->x->tenants || (r->tenant && r->tenant->admin);
	char *text = sx_report_info(r->x->srv, r->x->cur, a + 1, argc - 1, full, &n);
	sx_resp_bulk(r->out, text, n);
	free(text);
}
