/*
 * proto_http.c - HTTP/1.1 on the worker event loops: GET /health and GET
 * /metrics for load balancers and scrapers, GET / and /v1/stats for
 * operators (the status page, status.h), and the HTTP/JSON API (api.h:
 * /v1/check, /v1/listed, /v1/updates, /v1/reload, /openapi.json).
 *
 * HTTP is a protocol like RESP and the binary one: the same transports,
 * the same connection limits and timeouts, many connections per worker,
 * never a blocking call.  So one slow or idle client costs one connection
 * slot, and /health answers within a loop iteration however many others
 * are connected (the old metrics thread served one connection at a time).
 * Requests are parsed by http.c where they landed; keep-alive follows the
 * request (HTTP/1.1 unless "Connection: close", HTTP/1.0 only with
 * "Connection: keep-alive"); pipelined requests are answered in order.  A
 * request the parser refuses gets its status (400, 413, 431, 501, 505) and
 * the connection closes; one left incomplete past --request-timeout gets
 * 408.
 *
 * Who asks.  Each API request (and /metrics, where --metrics-auth wants
 * credentials) carries a tenant's name and secret (HTTP Basic, or Bearer
 * tenant:secret), or comes over TLS with a client certificate bound to a
 * tenant.  A secret is checked by AUTH's service (auth.h): its rate limit,
 * its cache (answered at once), and otherwise its yescrypt on a verify
 * thread.  Then the request is left unconsumed, the connection waits, and
 * when the job is done its verdict is kept (ps.http.verdict) and the held
 * request runs again and takes it: nothing of the request has to be copied
 * or remembered across the wait, and replies stay in order.  The first
 * tenant a connection proves is its tenant for max-conns and for conn.c's
 * input limits; each later request still needs its own credentials.
 *
 * The API is refused (403) on the plain HTTP listener when it is off
 * loopback and --allow-plain was not given (SX_CF_NO_API): IDs and secrets
 * do not cross a network in clear text by default.  /health, /metrics and
 * /openapi.json are served there all the same.
 *
 * GET / (the operators' status page) and GET /v1/stats (its JSON,
 * status.h) share /metrics' guard, and admit admin tenants as well as
 * metrics ones; on a server with tenants they need credentials on every
 * listener, loopback too.  Open (a loopback listener of a server without
 * tenants), or asked by an admin, they show everything; to a metrics
 * tenant, and with --metrics-auth none, no error text or path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "audit.h"
#include "auth.h"
#include "conn.h"
#include "health.h"
#include "http.h"
#include "jobs.h"
#include "proto.h"
#include "report.h"
#include "server.h"
#include "status.h"

#define TEXT "text/plain; charset=utf-8"
#define CHALLENGE "WWW-Authenticate: Basic realm=\"sxgated\", Bearer realm=\"sxgated\"\r\n"

static void reply(sx_conn *c, int keep_alive, int head, int status, const char *type,
                  const char *body, size_t n, const char *extra)
{
	sx_http_response(&c->out, status, type, body, n, keep_alive, head, extra);
}

/* ---- who asks ------------------------------------------------------------ */

/* How a request's credentials ended (ps.http.verdict holds one plus 1). */
enum { WHO_OK, WHO_WAIT, WHO_MISSING, WHO_WRONG, WHO_LIMITED, WHO_NOPERM, WHO_FULL };

/* c proved tenant t: the connection is t's from now on (max-conns counts
 * it, and it may hold a request's body: conn.c's input limit). */
static int adopt(sx_conn *c, const sx_tenant *t, char *msg, size_t cap)
{
	if (t == c->tenant)
		return WHO_OK;
	if (sx_auth_take(c->x, c->tenant, t, msg, cap))
		return WHO_FULL;
	c->tenant = t;
	return WHO_OK;
}

/*
 * Who sends r: *t (NULL when no tenants are configured), WHO_OK; or why
 * not, with msg[0..cap) for WHO_NOPERM and WHO_FULL; or WHO_WAIT: the
 * secret is checked on a verify thread and the request must stay
 * unconsumed, to run again when the job is done and take its verdict.
 * Every request carries its credentials (HTTP has no session); a client
 * certificate bound to a tenant needs none.  Checking is AUTH's service:
 * the rate limit per address, the cached secret, the audit lines.
 */
static int who(sx_conn *c, const sx_http_req *r, const sx_tenant **t, char *msg, size_t cap)
{
	sx_ctx *x = c->x;
	*t = NULL;
	if (!x->tenants)
		return WHO_OK;
	msg[0] = 0;
	if (c->ps.http.verdict) {
		int v = c->ps.http.verdict - 1;
		c->ps.http.verdict = 0;
		if (v == WHO_OK)
			*t = c->tenant;
		else if (v == WHO_FULL)
			snprintf(msg, cap, "ERR max-conns reached: the tenant has as many "
			         "connections as it may");
		return v;
	}
	const sx_tenant *bound = (c->flags & SX_CF_CERT) ? c->tenant : NULL;
	if (!r->authorization.n) {
		*t = bound;
		return bound ? WHO_OK : WHO_MISSING;
	}
	char buf[SX_TENANT_NAME_MAX + 1 + SX_TENANT_SECRET_MAX];
	sx_str name, secret;
	if (sx_http_credentials(r->authorization, buf, sizeof buf, &name, &secret))
		return WHO_MISSING;
	sx_auth_answer ans;
	sx_origin o;
	sx_origin_who(&o, NULL, 0);
	sx_origin_peer(&o, &c->addr, c->port, "http", c->tls != NULL);
	sx_job *job = sx_auth_begin(x->tenants, bound, &c->addr, &o, name, secret, &ans);
	explicit_bzero(buf, sizeof buf);
	if (job) {
		c->ps.http.wait = 0;
		sx_conn_wait(c, job);
		return WHO_WAIT;
	}
	if (ans.rc == 0) {
		*t = ans.tenant;
		return adopt(c, ans.tenant, msg, cap);
	}
	if (!strncmp(ans.text, "NOPERM", 6)) {
		snprintf(msg, cap, "%s", ans.text);
		return WHO_NOPERM;
	}
	return strcmp(ans.text, SX_AUTH_LIMITED) ? WHO_WRONG : WHO_LIMITED;
}

/* An API request that who() refused (v), in JSON. */
static void api_refused(sx_conn *c, const sx_http_req *r, int head, int v, const char *msg)
{
	switch (v) {
	case WHO_MISSING:
		sx_api_error(c, r->keep_alive, head, 401, "authentication required: "
		             "Authorization: Bearer tenant:secret (or Basic with the same "
		             "pair), or a client certificate bound to a tenant", CHALLENGE);
		break;
	case WHO_WRONG:
		sx_api_error(c, r->keep_alive, head, 401, SX_AUTH_WRONGPASS, CHALLENGE);
		break;
	case WHO_LIMITED:
		sx_api_error(c, r->keep_alive, head, 429, "too many failed attempts from this "
		             "address; try again later", "Retry-After: 1\r\n");
		break;
	case WHO_FULL:
		sx_api_error(c, r->keep_alive, head, 429, msg + (strncmp(msg, "ERR ", 4) ? 0 : 4),
		             NULL);
		break;
	default:
		sx_api_error(c, r->keep_alive, head, 403, msg, NULL);
		break;
	}
}

/* ---- /metrics, /health ------------------------------------------------------ */

/* What a guarded GET asks for: the same guard, who is admitted differs. */
enum { ASK_METRICS, ASK_PAGE, ASK_STATS };
static const char *const ask_path[] = { "/metrics", "/", "/v1/stats" };
static const char *const ask_who[] = { "a tenant with the metrics flag",
                                       "an admin tenant or one with the metrics flag",
                                       "an admin tenant or one with the metrics flag" };

/* The answer once it is allowed; full: the status page's admin view. */
static void answer(sx_conn *c, int keep_alive, int head, int ask, int full)
{
	size_t n;
	char *text;
	if (ask == ASK_METRICS) {
		text = sx_report_metrics(c->x->srv, c->x->cur, &n);
		reply(c, keep_alive, head, 200, "text/plain; version=0.0.4", text, n, NULL);
	} else if (ask == ASK_PAGE) {
		text = sx_status_html(c->x->srv, c->x->cur, full, &n);
		reply(c, keep_alive, head, 200, "text/html; charset=utf-8", text, n,
		      sx_status_page_headers());
	} else {
		text = sx_status_json(c->x->srv, c->x->cur, full, &n);
		reply(c, keep_alive, head, 200, "application/json", text, n,
		      "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
	}
	free(text);
}

static void unauthorized(sx_conn *c, int keep_alive, int head, int ask)
{
	char msg[256];
	int n = snprintf(msg, sizeof msg, "%s here needs the credentials of %s: "
	                 "Authorization: Basic base64(tenant:secret), or Bearer "
	                 "tenant:secret\n", ask_path[ask], ask_who[ask]);
	sx_stat_inc(c->x->stats.metrics_unauthorized);
	reply(c, keep_alive, head, 401, TEXT, msg, (size_t)n,
	      "WWW-Authenticate: Basic realm=\"sxgated\"\r\n");
}

/*
 * A guarded GET (ask: /metrics where --metrics-auth wants credentials, the
 * status page and its JSON wherever there are tenants): the credentials
 * of the Authorization header, or else the tenant of the client
 * certificate (who()).  /metrics admits a tenant with the metrics flag,
 * the status page an admin too (who sees the full view).  Returns 1 when
 * the request waits for its secret's check (it is not consumed), else 0.
 */
static int metrics_guarded(sx_conn *c, const sx_http_req *r, int head, int ask)
{
	sx_ctx *x = c->x;
	if (!x->tenants) {
		char msg[224];
		int n = snprintf(msg, sizeof msg, "%s on a non-loopback address needs %s "
		                 "(--tenants), or --metrics-auth none\n", ask_path[ask],
		                 ask_who[ask]);
		sx_stat_inc(x->stats.metrics_forbidden);
		reply(c, r->keep_alive, head, 403, TEXT, msg, (size_t)n, NULL);
		return 0;
	}
	const sx_tenant *t;
	char msg[256];
	int v = who(c, r, &t, msg, sizeof msg);
	if (v == WHO_WAIT)
		return 1;
	int admin = v == WHO_OK && ask != ASK_METRICS && t->admin;
	if (v == WHO_OK && (t->metrics || admin)) {
		answer(c, r->keep_alive, head, ask, admin);
	} else if (v == WHO_OK || v == WHO_NOPERM || v == WHO_FULL) {
		if (v == WHO_OK)
			snprintf(msg, sizeof msg, "tenant '%s' may not read %s (needs the "
			         "metrics flag%s)", t->name, ask_path[ask],
			         ask == ASK_METRICS ? "" : " or admin");
		strcat(msg, "\n");
		sx_stat_inc(x->stats.metrics_forbidden);
		reply(c, r->keep_alive, head, 403, TEXT, msg, strlen(msg), NULL);
	} else if (v == WHO_LIMITED) {
		static const char lim[] = "too many failed attempts from this address; try "
		                          "again later\n";
		reply(c, r->keep_alive, head, 429, TEXT, lim, sizeof lim - 1, "Retry-After: 1\r\n");
	} else {
		unauthorized(c, r->keep_alive, head, ask);
	}
	return 0;
}

/* /health, /metrics, / and /v1/stats; returns 1 when the request waits
 * (metrics_guarded). */
static int serve_ops(sx_conn *c, const sx_http_req *r)
{
	sx_ctx *x = c->x;
	int head = r->method.n == 4 && !memcmp(r->method.p, "HEAD", 4);
	int get = head || (r->method.n == 3 && !memcmp(r->method.p, "GET", 3));
	int health = r->path.n == 7 && !memcmp(r->path.p, "/health", 7);
	int ask = -1;
	for (int a = ASK_METRICS; a <= ASK_STATS; a++)
		if (r->path.n == strlen(ask_path[a]) && !memcmp(r->path.p, ask_path[a], r->path.n))
			ask = a;
	if (!health && ask < 0) {
		static const char msg[] = "not found: try /, /v1/stats, /metrics, /health, "
		                          "/v1/check or /openapi.json\n";
		reply(c, r->keep_alive, head, 404, TEXT, msg, sizeof msg - 1, NULL);
	} else if (!get) {
		static const char msg[] = "method not allowed: GET or HEAD\n";
		reply(c, r->keep_alive, head, 405, TEXT, msg, sizeof msg - 1,
		      "Allow: GET, HEAD\r\n");
	} else if (health) {
		char why[384];
		if (sx_srv_health(x->srv, x->cur, why, sizeof why - 1)) {
			reply(c, r->keep_alive, head, 200, TEXT, "ok\n", 3, NULL);
		} else if (c->flags & SX_CF_METRICS_AUTH) {
			/* open to anyone here: the status, not the feed's URL or
			 * its errors (the log and an admin's INFO have them) */
			static const char msg[] = "unavailable (why: the server's log, or "
			                          "INFO as an admin tenant)\n";
			reply(c, r->keep_alive, head, 503, TEXT, msg, sizeof msg - 1, NULL);
		} else {
			strcat(why, "\n");
			reply(c, r->keep_alive, head, 503, TEXT, why, strlen(why), NULL);
		}
	} else if ((c->flags & SX_CF_METRICS_AUTH) || (ask != ASK_METRICS && x->tenants)) {
		return metrics_guarded(c, r, head, ask);
	} else {
		answer(c, r->keep_alive, head, ask, x->cfg->metrics_auth != SX_METRICS_AUTH_NONE);
	}
	return 0;
}

/* ---- the API ----------------------------------------------------------------- */

static const char no_api_msg[] = "the HTTP API is not served on plain HTTP off loopback "
                                 "(IDs and secrets would cross the network in clear "
                                 "text): use the TLS HTTP port, or start sxgated with "
                                 "--allow-plain";

/* An API request; returns 1 when it waits for its secret's check. */
static int serve_api(sx_conn *c, const sx_http_req *r, int route)
{
	int head = r->method.n == 4 && !memcmp(r->method.p, "HEAD", 4);
	if (route == SX_API_OPENAPI || route == SX_API_OTHER) {
		sx_api_serve(c, r, route, NULL);         /* open: the description, a 404 */
		return 0;
	}
	if (c->flags & SX_CF_NO_API) {
		sx_api_error(c, r->keep_alive, head, 403, no_api_msg, NULL);
		return 0;
	}
	const sx_tenant *t;
	char msg[256];
	int v = who(c, r, &t, msg, sizeof msg);
	if (v == WHO_WAIT)
		return 1;
	if (v != WHO_OK)
		api_refused(c, r, head, v, msg);
	else
		sx_api_serve(c, r, route, t);
	return 0;
}

/*
 * A request whose head is here and whose body is not: an API request on a
 * connection that has not proved a tenant is checked now, so that a
 * client without credentials is answered (and cut off) before it sends a
 * megabyte, and one with them may (conn.c holds more input for a
 * connection that has authenticated).  Returns 1 to wait for the body,
 * 0 when answered (the connection closes: its body is not read).  After
 * a secret's check on a verify thread this runs again: a success made the
 * connection the tenant's (authed), a failure is answered here.
 */
static int early(sx_conn *c, const sx_http_req *r)
{
	int route = sx_api_route(r);
	if (!c->x->tenants || sx_conn_authed(c) || route == SX_API_NONE ||
	    route == SX_API_OPENAPI || route == SX_API_OTHER)
		return 1;
	if (c->flags & SX_CF_NO_API) {
		sx_api_error(c, 0, 0, 403, no_api_msg, NULL);
		return 0;
	}
	const sx_tenant *t;
	char msg[256];
	int v = who(c, r, &t, msg, sizeof msg);
	if (v == WHO_WAIT || v == WHO_OK)
		return 1;
	api_refused(c, &(sx_http_req){ .keep_alive = 0 }, 0, v, msg);
	return 0;
}

/* /health and /metrics read no body: more than this is refused (413). */
#define OPS_MAX_BODY (64u * 1024)

static size_t http_process(sx_conn *c, char *buf, size_t len)
{
	size_t pos = 0;
	while (pos < len && !sx_conn_stopped(c)) {
		sx_http_req r;
		int rc = sx_http_parse(buf + pos, len - pos, SX_API_MAX_BODY, &r);
		if (rc != SX_HTTP_ERROR && r.head_len && r.content_length > OPS_MAX_BODY &&
		    sx_api_route(&r) == SX_API_NONE) {
			/* the parser took the API's limit; the others have their own */
			r.status = 413;
			r.why = "request body over the limit";
			rc = SX_HTTP_ERROR;
		}
		if (rc == SX_HTTP_MORE) {
			c->need = r.need;
			if (r.head_len && !early(c, &r)) {
				sx_conn_close_after_reply(c);
				return len;
			}
			break;
		}
		if (rc == SX_HTTP_ERROR) {
			/* an API request is refused in JSON, as every API answer
			 * is, once its request line named an API path */
			if (sx_api_route(&r) != SX_API_NONE)
				sx_api_error(c, 0, 0, r.status, r.why ? r.why : "bad request", NULL);
			else
				sx_http_error(&c->out, &r);
			sx_conn_proto_error(c);
			return len;
		}
		int route = sx_api_route(&r);
		if (route ? serve_api(c, &r, route) : serve_ops(c, &r))
			break;             /* waits for its secret's check: run again then */
		pos += r.used;
		sx_stat_inc(c->x->stats.http_requests);
		if (!r.keep_alive)
			sx_conn_close_after_reply(c);
	}
	return pos;
}

/*
 * A job c waited for is done: a secret's check (wait 0), whose verdict the
 * held request takes when conn.c runs it again; or an API update or
 * reload, answered here.
 */
static void http_job_reply(sx_conn *c, const sx_job *job)
{
	if (c->ps.http.wait) {
		sx_api_job_reply(c, job);
		return;
	}
	int v;
	char msg[160];
	if (job->rc == 0 && job->tenant)
		v = adopt(c, job->tenant, msg, sizeof msg);
	else
		v = strcmp(job->text, SX_AUTH_LIMITED) ? WHO_WRONG : WHO_LIMITED;
	c->ps.http.verdict = (uint8_t)(v + 1);
}

static void http_error(sx_conn *c, int why, size_t limit)
{
	char msg[96];
	(void)why;
	int n = snprintf(msg, sizeof msg, "request larger than %zu bytes\n", limit);
	sx_http_response(&c->out, 413, TEXT, msg, (size_t)n, 0, 0, NULL);
}

static void http_timeout(sx_conn *c, int secs)
{
	char msg[96];
	int n = snprintf(msg, sizeof msg, "the request was not complete within %d seconds\n",
	                 secs);
	sx_http_response(&c->out, 408, TEXT, msg, (size_t)n, 0, 0, NULL);
}

static size_t http_refuse(char *buf, size_t cap)
{
	static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\n"
	                          "Content-Type: text/plain\r\nContent-Length: 30\r\n"
	                          "Connection: close\r\n\r\nmax number of clients reached\n";
	size_t n = sizeof msg - 1 < cap ? sizeof msg - 1 : cap;
	memcpy(buf, msg, n);
	return n;
}

static void http_deny(sx_conn *c, const char *msg)
{
	char body[256];
	int n = snprintf(body, sizeof body, "%s\n", msg);
	if (n < 0 || (size_t)n >= sizeof body)
		n = (int)sizeof body - 1;
	sx_http_response(&c->out, 503, TEXT, body, (size_t)n, 0, 0, NULL);
}

const sx_proto sx_proto_http = {
	.name = "http",
	.process = http_process,
	.job_reply = http_job_reply,
	.error = http_error,
	.timeout = http_timeout,
	.refuse = http_refuse,
	.deny = http_deny,
	.preauth_input = SX_HTTP_MAX_HEAD + SX_API_MAX_BODY,
};
