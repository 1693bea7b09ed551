/*
 * api.h - the HTTP/JSON API (docs/HTTP.md, docs/openapi.json): the same
 * questions as RESP's CHECK, MCHECK and LISTED, the live updates and
 * RELOAD, asked as HTTP requests and answered in JSON, on the HTTP
 * listeners beside /health and /metrics.
 *
 * proto_http.c owns the connection's side: parsing, keep-alive, and who
 * asks (the credentials of each request, checked by AUTH's service, or
 * the tenant of the client certificate).  This file owns the routes and
 * their JSON: it is handed a parsed request and the tenant it proved, and
 * answers, or hands an admin request to a job and answers when the job
 * is done.  Queries are decided as RESP decides them (batch.h, the same
 * parse of channel, class, type and day, the same permission checks in
 * cmd_perm.c, the same counters and feedback); updates and RELOAD run
 * through the command table itself (cmd.h), so their checks, audit lines
 * and journal are RESP's.
 *
 * Every answer of a route here is JSON: {"error": "..."} with the status
 * of docs/HTTP.md's table for a refusal, never a 500 for bad input.
 */
#ifndef SX_API_H
#define SX_API_H

#include "http.h"

struct sx_conn;
struct sx_job;
struct sx_tenant;

/* Routes (0: not the API's). */
enum {
	SX_API_NONE = 0,
	SX_API_CHECK,       /* GET, HEAD, POST /v1/check */
	SX_API_LISTED,      /* GET, HEAD /v1/listed */
	SX_API_UPDATES,     /* POST /v1/updates */
	SX_API_RELOAD,      /* POST /v1/reload */
	SX_API_OPENAPI,     /* GET, HEAD /openapi.json: open, like /health */
	SX_API_OTHER,       /* any other /v1/... path: a JSON 404 */
};

/* The route of r's path (SX_API_NONE when not the API's). */
int sx_api_route(const sx_http_req *r);

/* The largest request body the API takes (a batch of SX_TENANT_MAX_BATCH
 * IDs with room for escapes); a larger one is the parser's 413. */
#define SX_API_MAX_BODY (1u << 20)

/*
 * Answer r (route from sx_api_route) for tenant t (NULL: no tenants are
 * configured).  Writes the response to c's output, or makes c wait for a
 * job (an update, a reload) whose result sx_api_job_reply answers.
 */
void sx_api_serve(struct sx_conn *c, const sx_http_req *r, int route,
                  const struct sx_tenant *t);

/* The job of an update or reload c waited for is done: answer it. */
void sx_api_job_reply(struct sx_conn *c, const struct sx_job *job);

/* A JSON error response {"error": msg} with status; extra as in
 * sx_http_head (NULL, or whole header lines). */
void sx_api_error(struct sx_conn *c, int keep_alive, int head, int status,
                  const char *msg, const char *extra);

#endif
