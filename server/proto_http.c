/*
 * proto_http.c - HTTP/1.1 on the worker event loops: GET /health and GET
 * /metrics for load balancers and scrapers (the HTTP/JSON API will join
 * them here).
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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "health.h"
#include "http.h"
#include "jobs.h"
#include "proto.h"
#include "report.h"

#define MAX_BODY (64u * 1024)    /* bodies are read and ignored for now */
#define TEXT "text/plain; charset=utf-8"

static void reply(sx_conn *c, const sx_http_req *r, int status, const char *type,
                  const char *body, size_t n, const char *extra)
{
	int head = r->method.n == 4 && !memcmp(r->method.p, "HEAD", 4);
	sx_http_response(&c->out, status, type, body, n, r->keep_alive, head, extra);
}

static void serve(sx_conn *c, const sx_http_req *r)
{
	sx_ctx *x = c->x;
	int get = (r->method.n == 3 && !memcmp(r->method.p, "GET", 3)) ||
	          (r->method.n == 4 && !memcmp(r->method.p, "HEAD", 4));
	int health = r->path.n == 7 && !memcmp(r->path.p, "/health", 7);
	int metrics = r->path.n == 8 && !memcmp(r->path.p, "/metrics", 8);
	if (!health && !metrics) {
		static const char msg[] = "not found: try /metrics or /health\n";
		reply(c, r, 404, TEXT, msg, sizeof msg - 1, NULL);
	} else if (!get) {
		static const char msg[] = "method not allowed: GET or HEAD\n";
		reply(c, r, 405, TEXT, msg, sizeof msg - 1, "Allow: GET, HEAD\r\n");
	} else if (health) {
		char why[384];
		if (sx_srv_health(x->srv, x->cur, why, sizeof why - 1)) {
			reply(c, r, 200, TEXT, "ok\n", 3, NULL);
		} else {
			strcat(why, "\n");
			reply(c, r, 503, TEXT, why, strlen(why), NULL);
		}
	} else {
		size_t n;
		char *text = sx_report_metrics(x->srv, x->cur, &n);
		reply(c, r, 200, "text/plain; version=0.0.4", text, n, NULL);
		free(text);
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

/* No HTTP request waits for a job yet. */
static void http_job_reply(sx_conn *c, const sx_job *job)
{
	(void)job;
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
