/*
 * proto_http.c - HTTP/1.1 on the worker event loops: GET /health and GET
 * /metrics for load balancers and scrapers, GET / and /v1/stats for
 * operators (the status page, status.h); the HTTP/JSON API will join them
 * here.
 *
 * HTTP is a protocol like RESP and the binary one: the same transports,
 * the same connection limits and timeouts, many connections per worker,
 * never a blocking call.  So one slow or idle client costs one connection
 * slot, and /health answers within a loop iteration however many others
 * are connected (the old metrics thread served one connection at a time).
 * Requests are parsed by http.c where they landed; keep-alive follows the
 * request (HTTP/1.1 unless "Connection: close", HTTP/1.0 only with
 * "Connection: keep-alive").  A request the parser refuses gets its status
 * (400, 413, 431, 501, 505) and the connection closes; one left incomplete
 * past --request-timeout gets 408.
 *
 * /metrics may need credentials (the listener's SX_CF_METRICS_AUTH, from
 * --metrics-auth): a tenant with the metrics flag, by HTTP Basic or Bearer
 * tenant:secret, or by its client certificate.  Checking a secret is
 * AUTH's (auth.h): its rate limit, its cache, and its yescrypt on a verify
 * thread, so such a request may wait for a job like an AUTH does.
 * /health is open everywhere: load balancers send no credentials.
 *
 * GET / (the operators' status page) and GET /v1/stats (its JSON,
 * status.h) share that guard, and admit admin tenants as well as metrics
 * ones; on a server with tenants they need credentials on every listener,
 * loopback too.  Open (a loopback listener of a server without tenants),
 * or asked by an admin, they show everything; to a metrics tenant, and
 * with --metrics-auth none, no error text or path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define MAX_BODY (64u * 1024)    /* bodies are read and ignored for now */
#define TEXT "text/plain; charset=utf-8"

static void reply(sx_conn *c, int keep_alive, int head, int status, const char *type,
                  const char *body, size_t n, const char *extra)
{
	sx_http_response(&c->out, status, type, body, n, keep_alive, head, extra);
}

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
 * The answer to a guarded GET (ask) once who asks is known: rc 0 and t,
 * the tenant its credentials (or its client certificate) proved; otherwise
 * text says why not (a wrong secret, or the rate limit: 429, which says
 * nothing about the secret).
 */
static void metrics_answer(sx_conn *c, int keep_alive, int head, int ask, int rc,
                           const sx_tenant *t, const char *text)
{
	int admin = ask != ASK_METRICS && t && t->admin;
	if (rc == 0 && t && (t->metrics || admin)) {
		answer(c, keep_alive, head, ask, admin);
	} else if (rc == 0 && t) {
		char msg[224];
		int n = snprintf(msg, sizeof msg, "tenant '%s' may not read %s (needs the "
		                 "metrics flag%s)\n", t->name, ask_path[ask],
		                 ask == ASK_METRICS ? "" : " or admin");
		sx_stat_inc(c->x->stats.metrics_forbidden);
		reply(c, keep_alive, head, 403, TEXT, msg, (size_t)n, NULL);
	} else if (!strcmp(text, SX_AUTH_LIMITED)) {
		static const char msg[] = "too many failed attempts from this address; try "
		                          "again later\n";
		reply(c, keep_alive, head, 429, TEXT, msg, sizeof msg - 1, "Retry-After: 1\r\n");
	} else {
		unauthorized(c, keep_alive, head, ask);
	}
}

/*
 * GET /metrics on a listener where it needs credentials (--metrics-auth):
 * those of the Authorization header, checked by AUTH's service (auth.h:
 * the same rate limit per address and tenant, the cached secret, and the
 * yescrypt hash on the verify threads, never here), or else the tenant of
 * the client certificate.
 */
static void metrics_guarded(sx_conn *c, const sx_http_req *r, int head, int ask)
{
	sx_ctx *x = c->x;
	if (!x->tenants) {
		char msg[224];
		int n = snprintf(msg, sizeof msg, "%s on a non-loopback address needs %s "
		                 "(--tenants), or --metrics-auth none\n", ask_path[ask],
		                 ask_who[ask]);
		sx_stat_inc(x->stats.metrics_forbidden);
		reply(c, r->keep_alive, head, 403, TEXT, msg, (size_t)n, NULL);
		return;
	}
	if (!r->authorization.n) {
		if (c->flags & SX_CF_CERT)
			metrics_answer(c, r->keep_alive, head, ask, 0, c->tenant, "");
		else
			unauthorized(c, r->keep_alive, head, ask);
		return;
	}
	char buf[SX_TENANT_NAME_MAX + 1 + SX_TENANT_SECRET_MAX];
	sx_str name, secret;
	if (sx_http_credentials(r->authorization, buf, sizeof buf, &name, &secret)) {
		unauthorized(c, r->keep_alive, head, ask);
		return;
	}
	sx_auth_answer ans;
	sx_origin o;
	sx_origin_who(&o, NULL, 0);
	sx_origin_peer(&o, &c->addr, c->port, "http", c->tls != NULL);
	sx_job *job = sx_auth_begin(x->tenants, NULL, &c->addr, &o, name, secret, &ans);
	explicit_bzero(buf, sizeof buf);
	if (job) {
		/* the hash is checked on a verify thread: this request waits,
		 * and what came after it too (replies stay in order) */
		c->ps.http.keep_alive = (uint8_t)r->keep_alive;
		c->ps.http.head = (uint8_t)head;
		c->ps.http.ask = (uint8_t)ask;
		sx_conn_wait(c, job);
		return;
	}
	metrics_answer(c, r->keep_alive, head, ask, ans.rc, ans.tenant, ans.text);
}

static void serve(sx_conn *c, const sx_http_req *r)
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
		static const char msg[] = "not found: try /, /v1/stats, /metrics or /health\n";
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
		metrics_guarded(c, r, head, ask);
	} else {
		answer(c, r->keep_alive, head, ask, x->cfg->metrics_auth != SX_METRICS_AUTH_NONE);
	}
	if (!r->keep_alive)
		sx_conn_close_after_reply(c);
}

static size_t http_process(sx_conn *c, char *buf, size_t len)
{
	size_t pos = 0;
	while (pos < len && !sx_conn_stopped(c)) {
		sx_http_req r;
		int rc = sx_http_parse(buf + pos, len - pos, MAX_BODY, &r);
		if (rc == SX_HTTP_MORE) {
			c->need = r.need;
			break;
		}
		if (rc == SX_HTTP_ERROR) {
			sx_http_error(&c->out, &r);
			sx_conn_proto_error(c);
			return len;
		}
		pos += r.used;
		sx_stat_inc(c->x->stats.http_requests);
		serve(c, &r);
	}
	return pos;
}

/* A /metrics request's credentials were checked on a verify thread. */
static void http_job_reply(sx_conn *c, const sx_job *job)
{
	metrics_answer(c, c->ps.http.keep_alive, c->ps.http.head, c->ps.http.ask, job->rc,
	               job->tenant, job->text);
	if (!c->ps.http.keep_alive)
		sx_conn_close_after_reply(c);
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
};
