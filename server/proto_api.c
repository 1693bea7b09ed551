/*
 * proto_api.c - the HTTP/JSON API's routes and JSON (see api.h and
 * docs/HTTP.md).
 *
 * A query is a GET with its words in the query string (percent-encoded,
 * UTF-8) or a POST of a JSON object.  A batch body of the plain shape
 * every client sends is read by idsbody.h's scanner, in place (Jansson's
 * tree of it was half the server's time for 256 IDs: docs/BENCHMARKS.md);
 * any other body, and every other POST, by Jansson, which also words the
 * errors.  Its words go through the same functions as RESP's: channel,
 * class, type and day once (sx_query_common), the tenant's channel
 * (sx_perm_channel), then each ID (sx_query_id), decided by batch.h and
 * counted and observed as RESP's decisions are.  So an answer here is
 * RESP's answer, field by field; the records are read from the snapshot
 * (sx_snap_record) rather than split out of RESP's "a|b|c|d" text.
 *
 * Updates and RELOAD are rarer still and must behave exactly as their
 * RESP commands (arity, permission, audit line, journal, the follower's
 * refusal), so they are run as those commands: the JSON object becomes the
 * command's words (sx_update_from_fields, the stream entries' mapping),
 * sx_cmd_run runs them, and the RESP error or the job's result becomes
 * the JSON answer.
 *
 * The body of a reply is written into the context's scratch (x->jbuf)
 * and then behind its head: its length must come first, and a reply is
 * short next to the cost of a request.  The scratch grows to the largest
 * reply a thread has written and is kept.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "batch.h"
#include "cmd.h"
#include "conn.h"
#include "idsbody.h"
#include "jobs.h"
#include "json.h"
#include "live.h"
#include "obuf.h"
#include "resp.h"
#include "tenant.h"

#define JSON_TYPE "application/json"

extern const char sx_openapi_json[];
extern const unsigned sx_openapi_json_len;

/* ---- the reply body in x->jbuf --------------------------------------------- */

static char *room(sx_ctx *x, size_t n)
{
	if (x->jlen + n > x->jcap) {
		size_t cap = x->jcap ? x->jcap : 4096;
		while (cap < x->jlen + n)
			cap *= 2;
		char *p = realloc(x->jbuf, cap);
		if (!p)
			abort();      /* as obuf.h: a server that cannot allocate cannot answer */
		x->jbuf = p;
		x->jcap = cap;
	}
	return x->jbuf + x->jlen;
}

static void put(sx_ctx *x, const char *s, size_t n)
{
	memcpy(room(x, n), s, n);
	x->jlen += n;
}

#define put_lit(x, s) put((x), (s), sizeof(s) - 1)

static void put_cstr(sx_ctx *x, const char *s)
{
	put(x, s, strlen(s));
}

/* s[0..n) as a JSON string, valid UTF-8 JSON whatever s holds.  A
 * message that a limit cut inside a UTF-8 character at its end loses
 * that character's bytes; any other byte that is not UTF-8 (a client's
 * key that "%.40s" cut in the middle of the message) becomes '?', the
 * rest of the message kept (up to 1024 bytes of it). */
static void put_jstr(sx_ctx *x, const char *s, size_t n)
{
	char tmp[1024];
	if (!sx_utf8_valid(s, n)) {
		size_t o = 0;
		for (size_t i = 0; i < n && o < sizeof tmp;) {
			unsigned char ch = (unsigned char)s[i];
			size_t len = ch < 0x80 ? 1 : ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : 2;
			if (i + len > n && ch >= 0xc2 && ch <= 0xf4)
				break;                      /* a character cut at the end */
			if (i + len <= n && o + len <= sizeof tmp && sx_utf8_valid(s + i, len)) {
				memcpy(tmp + o, s + i, len);
				o += len;
				i += len;
			} else {
				tmp[o++] = '?';
				i++;
			}
		}
		s = tmp;
		n = o;
	}
	x->jlen += sx_json_str(room(x, SX_JSON_STR_MAX(n)), s, n);
}

static void put_u64(sx_ctx *x, uint64_t v)
{
	x->jlen += sx_u64toa(v, room(x, 24));
}

/* The body in x->jbuf as the response, with status. */
static void send_json(sx_conn *c, int status, int keep_alive, int head, const char *extra)
{
	sx_http_response(&c->out, status, JSON_TYPE, c->x->jbuf, c->x->jlen, keep_alive,
	                 head, extra);
	c->x->jlen = 0;
}

void sx_api_error(sx_conn *c, int keep_alive, int head, int status, const char *msg,
                  const char *extra)
{
	sx_ctx *x = c->x;
	x->jlen = 0;
	put_lit(x, "{\"error\":");
	put_jstr(x, msg, strlen(msg));
	put_lit(x, "}");
	send_json(c, status, keep_alive, head, extra);
}

/* A RESP error's text ("ERR invalid id: ...") as the API says it: without
 * the "ERR " that only RESP needs (NOPERM and the others keep their word). */
static const char *unprefixed(const char *err)
{
	return strncmp(err, "ERR ", 4) ? err : err + 4;
}

/* ---- decisions as JSON ---------------------------------------------------- */

static void put_decision(sx_ctx *x, const sx_decision *d, const char *day)
{
	put_lit(x, "{\"decision\":\"");
	put_cstr(x, sx_reason_decision(d->reason));
	put_lit(x, "\",\"reason\":\"");
	put_cstr(x, sx_reason_name(d->reason));
	put_lit(x, "\",\"day\":\"");
	put(x, day, 10);
	put_lit(x, "\",\"records\":[");
	const sx_snap *s = x->cur->snap;
	for (uint32_t i = 0; i < d->nrec; i++) {
		sx_recview v;
		sx_snap_record(s, d->rec[i], &v);
		put_cstr(x, i ? ",{\"case_no\":" : "{\"case_no\":");
		put_jstr(x, v.case_no, v.case_len);
		put_lit(x, ",\"court\":");
		put_jstr(x, v.court, v.court_len);
		put_lit(x, ",\"role\":\"");
		put_cstr(x, sx_role_name(v.role));
		put_lit(x, "\",\"list\":\"");
		put_cstr(x, sx_list_name(v.list));
		put_lit(x, "\"}");
	}
	put_lit(x, "]}");
}

/* ---- who asks, as the permission checks want it ---------------------------- */

static sx_req make_req(sx_conn *c, const sx_tenant *t, sx_obuf *out)
{
	return (sx_req){ .x = c->x, .tenant = t, .addr = &c->addr, .port = c->port,
	                 .tls = c->tls != NULL, .proto = "http", .out = out,
	                 .bound = (c->flags & SX_CF_CERT) ? c->tenant : NULL };
}

/* ---- GET parameters ---------------------------------------------------------- */

enum { P_ID, P_CHANNEL, P_CLASS, P_TYPE, P_AT, NPARAMS };
static const char *const param_names[NPARAMS] = { "id", "channel", "class", "type", "at" };

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9') return ch - '0';
	if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
	return -1;
}

/*
 * The query string q as parameters: each of allowed (a bit per P_*) at
 * most once, percent-decoded ('+' is a space, as HTML forms send it) into
 * store (room for q.n bytes), each valid UTF-8.  An empty value is a
 * parameter not given.  Returns 0, or -1 with the error in err.
 */
static int get_params(sx_str q, unsigned allowed, sx_str *v, char *store, char *err,
                      size_t cap)
{
	for (int i = 0; i < NPARAMS; i++)
		v[i] = (sx_str){ 0 };
	size_t i = 0, o = 0;
	while (i < q.n) {
		size_t b = i;
		while (i < q.n && q.p[i] != '&')
			i++;
		sx_str pair = { q.p + b, i - b };
		i++;
		if (!pair.n)
			continue;
		const char *eq = memchr(pair.p, '=', pair.n);
		size_t kn = eq ? (size_t)(eq - pair.p) : pair.n;
		int k = 0;
		while (k < NPARAMS && !(strlen(param_names[k]) == kn &&
		                        !memcmp(param_names[k], pair.p, kn)))
			k++;
		if (k == NPARAMS || !(allowed & (1u << k))) {
			snprintf(err, cap, "unknown parameter '%.*s'", kn > 40 ? 40 : (int)kn,
			         pair.p);
			for (size_t z = 0; err[z]; z++)     /* echo printable ASCII only */
				if ((unsigned char)err[z] < 0x20 || (unsigned char)err[z] > 0x7e)
					err[z] = '?';
			return -1;
		}
		if (v[k].p) {
			snprintf(err, cap, "parameter '%s' given twice", param_names[k]);
			return -1;
		}
		const char *s = eq ? eq + 1 : pair.p + pair.n;
		size_t n = (size_t)(pair.p + pair.n - s), o0 = o;
		for (size_t j = 0; j < n; j++) {
			if (s[j] == '+') {
				store[o++] = ' ';
			} else if (s[j] != '%') {
				store[o++] = s[j];
			} else if (j + 2 < n && hexval(s[j + 1]) >= 0 && hexval(s[j + 2]) >= 0) {
				store[o++] = (char)(hexval(s[j + 1]) << 4 | hexval(s[j + 2]));
				j += 2;
			} else {
				snprintf(err, cap, "bad percent-escape in parameter '%s'",
				         param_names[k]);
				return -1;
			}
		}
		if (!sx_utf8_valid(store + o0, o - o0)) {
			if (k == P_ID)
				snprintf(err, cap, "invalid id: not valid UTF-8");
			else
				snprintf(err, cap, "parameter '%s' is not valid UTF-8", param_names[k]);
			return -1;
		}
		if (o > o0)
			v[k] = (sx_str){ store + o0, o - o0 };
	}
	if ((allowed & (1u << P_ID)) && !v[P_ID].p) {
		snprintf(err, cap, "missing parameter 'id'");
		return -1;
	}
	if ((allowed & (1u << P_CHANNEL)) && !v[P_CHANNEL].p) {
		snprintf(err, cap, "missing parameter 'channel'");
		return -1;
	}
	return 0;
}

/* ---- GET /v1/check, GET /v1/listed ------------------------------------------ */

/* A query's refusal: 403 for NOPERM, else 400; the counters as RESP's. */
static void query_refused(sx_conn *c, const sx_http_req *r, int head, const char *msg,
                          int counted)
{
	if (!counted)
		sx_stat_inc(c->x->stats.query_errors);
	sx_api_error(c, r->keep_alive, head, strncmp(msg, "NOPERM", 6) ? 400 : 403,
	             unprefixed(msg), NULL);
}

static void check_get(sx_conn *c, const sx_http_req *r, const sx_tenant *t, int head)
{
	sx_ctx *x = c->x;
	char store[SX_HTTP_MAX_HEAD], err[320];
	sx_str v[NPARAMS];
	unsigned allowed = 1u << P_ID | 1u << P_CHANNEL | 1u << P_CLASS | 1u << P_TYPE |
	                   1u << P_AT;
	if (get_params(r->query, allowed, v, store, err, sizeof err)) {
		query_refused(c, r, head, err, 0);
		return;
	}
	sx_query q;
	if (sx_query_common(&q, sx_snap_rules(x->cur->snap), v[P_CHANNEL], v[P_CLASS],
	                    v[P_TYPE], v[P_AT], err, sizeof err)) {
		query_refused(c, r, head, err, 0);
		return;
	}
	sx_req rq = make_req(c, t, NULL);
	if (sx_perm_channel(&rq, SX_CMD_CHECK, q.chan, err, sizeof err)) {
		query_refused(c, r, head, err, 1);
		return;
	}
	if (sx_query_id(&q, v[P_ID], err, sizeof err)) {
		query_refused(c, r, head, err, 0);
		return;
	}
	sx_decision d;
	char day[11];
	sx_day_format(q.day, day);
	sx_batch_one(x, &q, t ? t->name : NULL, &d);
	x->jlen = 0;
	put_decision(x, &d, day);
	send_json(c, 200, r->keep_alive, head, NULL);
}

static void listed_get(sx_conn *c, const sx_http_req *r, const sx_tenant *t, int head)
{
	sx_ctx *x = c->x;
	char store[SX_HTTP_MAX_HEAD], err[320];
	sx_str v[NPARAMS];
	sx_req rq = make_req(c, t, NULL);
	if (sx_perm_command(&rq, SX_CMD_LISTED, err, sizeof err)) {
		query_refused(c, r, head, err, 1);
		return;
	}
	if (get_params(r->query, 1u << P_ID | 1u << P_TYPE | 1u << P_AT, v, store, err,
	               sizeof err)) {
		query_refused(c, r, head, err, 0);
		return;
	}
	sx_query q = { .op = SX_Q_LISTED };
	if (sx_query_when(&q, v[P_TYPE], v[P_AT], err, sizeof err) ||
	    sx_query_id(&q, v[P_ID], err, sizeof err)) {
		query_refused(c, r, head, err, 0);
		return;
	}
	char day[11];
	sx_day_format(q.day, day);
	x->jlen = 0;
	put_cstr(x, sx_listed(x->cur->snap, &q) ? "{\"listed\":true,\"day\":\""
	                                        : "{\"listed\":false,\"day\":\"");
	put(x, day, 10);
	put_lit(x, "\"}");
	send_json(c, 200, r->keep_alive, head, NULL);
}

/* ---- POST bodies ----------------------------------------------------------- */

/* r's body as a JSON object, or NULL with a 400 answered. */
static json_t *body_object(sx_conn *c, const sx_http_req *r)
{
	char msg[320];
	if (!r->body.n) {
		sx_api_error(c, r->keep_alive, 0, 400, "the request needs a JSON object as "
		             "its body (Content-Length and the bytes)", NULL);
		return NULL;
	}
	json_error_t e;
	json_t *j = json_loadb(r->body.p, r->body.n, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		snprintf(msg, sizeof msg, "invalid JSON at line %d, column %d: %s", e.line,
		         e.column, e.text);
		sx_api_error(c, r->keep_alive, 0, 400, msg, NULL);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		sx_api_error(c, r->keep_alive, 0, 400, "the body must be a JSON object", NULL);
		return NULL;
	}
	return j;
}

/* An optional string member: 0 with *out ({0} when absent or null), or -1
 * with msg filled when it is of another type. */
static int opt_string(json_t *o, const char *key, sx_str *out, char *msg, size_t cap)
{
	json_t *m = json_object_get(o, key);
	*out = (sx_str){ 0 };
	if (!m || json_is_null(m))
		return 0;
	if (!json_is_string(m)) {
		snprintf(msg, cap, "'%s' must be a string or null", key);
		return -1;
	}
	*out = (sx_str){ json_string_value(m), json_string_length(m) };
	if (!out->n)
		*out = (sx_str){ 0 };
	return 0;
}

/* Results of a batch, each the JSON of a GET's answer or {"error": ...}. */
typedef struct json_sink {
	sx_batch_sink k;
	sx_ctx *x;
	const char *day;
	size_t n;              /* results written */
} json_sink;

static void json_sink_sep(json_sink *s)
{
	if (s->n++)
		put_lit(s->x, ",");
}

static void json_sink_decision(sx_batch_sink *k, const sx_decision *d)
{
	json_sink *s = (json_sink *)k;
	json_sink_sep(s);
	put_decision(s->x, d, s->day);
}

static void json_sink_error(sx_batch_sink *k, const char *err, size_t n)
{
	json_sink *s = (json_sink *)k;
	json_sink_sep(s);
	if (n >= 4 && !memcmp(err, "ERR ", 4)) {
		err += 4;
		n -= 4;
	}
	put_lit(s->x, "{\"error\":");
	put_jstr(s->x, err, n);
	put_lit(s->x, "}");
}

/* The context's room for a batch's IDs (SX_TENANT_MAX_BATCH). */
static sx_str *batch_ids(sx_ctx *x)
{
	if (!x->api_ids && !(x->api_ids = malloc(SX_TENANT_MAX_BATCH * sizeof *x->api_ids)))
		abort();
	return x->api_ids;
}

/*
 * Decide ids[0..n) as channel, class, type and day say, for t, and answer
 * the array.  An element whose p is NULL was not a string: its error
 * stands in its place.  Runs of strings are decided together.
 */
static void check_batch(sx_conn *c, const sx_http_req *r, const sx_tenant *t, sx_str chan,
                        sx_str cls, sx_str type, sx_str at, const sx_str *ids, size_t n)
{
	sx_ctx *x = c->x;
	char err[320];
	sx_query q;
	if (sx_query_common(&q, sx_snap_rules(x->cur->snap), chan, cls, type, at, err,
	                    sizeof err)) {
		sx_stat_inc(x->stats.query_errors);
		sx_api_error(c, r->keep_alive, 0, 400, err, NULL);
		return;
	}
	sx_req rq = make_req(c, t, NULL);
	if (sx_perm_channel(&rq, SX_CMD_MCHECK, q.chan, err, sizeof err)) {
		sx_api_error(c, r->keep_alive, 0, 403, err, NULL);
		return;
	}
	if (sx_perm_batch(x, t, n, err, sizeof err)) {
		sx_api_error(c, r->keep_alive, 0, 413, unprefixed(err), NULL);
		return;
	}
	sx_stat_add(x->stats.mcheck_ids, n);
	char day[11];
	sx_day_format(q.day, day);
	json_sink sink = { { json_sink_decision, json_sink_error }, x, day, 0 };
	x->jlen = 0;
	put_lit(x, "[");
	size_t run = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && ids[i].p && sx_utf8_valid(ids[i].p, ids[i].n))
			continue;
		if (i > run)
			sx_batch_decide(x, &q, ids + run, i - run, t ? t->name : NULL, &sink.k);
		run = i + 1;
		if (i < n) {
			snprintf(err, sizeof err, "ERR invalid id: element %zu of 'ids' is not %s",
			         i, ids[i].p ? "valid UTF-8" : "a string");
			sx_stat_inc(x->stats.query_errors);
			json_sink_error(&sink.k, err, strlen(err));
		}
	}
	put_lit(x, "]");
	send_json(c, 200, r->keep_alive, 0, NULL);
}

/* POST /v1/check: the plain shape by idsbody.h's scanner, anything else by
 * Jansson (which also words every error of a body). */
static void check_post(sx_conn *c, const sx_http_req *r, const sx_tenant *t)
{
	sx_ctx *x = c->x;
	sx_str *ids = batch_ids(x);
	sx_idsbody b;
	if (sx_idsbody_scan(r->body.p, r->body.n, &b, ids, SX_TENANT_MAX_BATCH) == 0) {
		check_batch(c, r, t, b.channel, b.cls, b.type, b.at, ids, b.n);
		return;
	}
	char err[320];
	json_t *o = body_object(c, r);
	if (!o)
		return;
	const char *key;
	json_t *m;
	json_object_foreach(o, key, m) {
		if (strcmp(key, "channel") && strcmp(key, "class") && strcmp(key, "type") &&
		    strcmp(key, "at") && strcmp(key, "ids")) {
			snprintf(err, sizeof err, "unknown field '%.40s' (channel, class, type, "
			         "at, ids)", key);
			goto bad;
		}
	}
	sx_str chan, cls, type, at;
	if (opt_string(o, "channel", &chan, err, sizeof err) ||
	    opt_string(o, "class", &cls, err, sizeof err) ||
	    opt_string(o, "type", &type, err, sizeof err) ||
	    opt_string(o, "at", &at, err, sizeof err))
		goto bad;
	json_t *arr = json_object_get(o, "ids");
	if (!chan.p) {
		snprintf(err, sizeof err, "missing field 'channel'");
		goto bad;
	}
	if (!json_is_array(arr)) {
		snprintf(err, sizeof err, "'ids' must be an array of ID strings");
		goto bad;
	}
	size_t n = json_array_size(arr);
	if (n > SX_TENANT_MAX_BATCH) {
		/* past any tenant's limit: counted and worded as such, IDs unread */
		sx_perm_batch(x, t, n, err, sizeof err);
		json_decref(o);
		sx_api_error(c, r->keep_alive, 0, 413, unprefixed(err), NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(arr, i);
		ids[i] = json_is_string(e) ? (sx_str){ json_string_value(e), json_string_length(e) }
		                           : (sx_str){ 0 };
	}
	check_batch(c, r, t, chan, cls, type, at, ids, n);
	json_decref(o);
	return;
bad:
	json_decref(o);
	sx_api_error(c, r->keep_alive, 0, 400, unprefixed(err), NULL);
}

/* ---- admin: run as the RESP command ---------------------------------------- */

/* argv run through the command table for t: waits for its job, or answers
 * the RESP error it wrote. */
static void run_admin(sx_conn *c, const sx_http_req *r, const sx_tenant *t, int route,
                      const sx_str *argv, size_t argc)
{
	sx_obuf out;
	sx_obuf_init(&out);
	sx_req rq = make_req(c, t, &out);
	sx_cmd_run(&rq, argv, argc);
	if (rq.job) {
		c->ps.http.keep_alive = (uint8_t)r->keep_alive;
		c->ps.http.head = 0;
		c->ps.http.wait = (uint8_t)route;
		sx_conn_wait(c, rq.job);
		sx_obuf_free(&out);
		return;
	}
	/* no job: a RESP error, "-ERR ...\r\n" or "-NOPERM ...\r\n" */
	char msg[600];
	size_t n = 0;
	for (sx_obuf_chunk *k = out.head; k && n < sizeof msg - 1; k = k->next) {
		size_t m = k->len - k->off < sizeof msg - 1 - n ? k->len - k->off
		                                               : sizeof msg - 1 - n;
		memcpy(msg + n, k->data + k->off, m);
		n += m;
	}
	sx_obuf_free(&out);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		n--;
	msg[n] = 0;
	const char *text = msg[0] == '-' || msg[0] == '+' ? msg + 1 : msg;
	int status = !strncmp(text, "NOPERM", 6) ? 403 :
	             route != SX_API_UPDATES ? 400 :
	             sx_live_follows(c->x->srv) ? 409 :          /* publish to the stream */
	             !sx_live_journaled(c->x->srv) ? 503 : 400;  /* cannot be made durable */
	sx_api_error(c, r->keep_alive, 0, status, unprefixed(text), NULL);
}

/* POST /v1/updates: {"op": "LIST.REMOVE", "case_no": ..., ...}, the fields
 * of a stream entry (SPEC section 10), each a string. */
static void updates_post(sx_conn *c, const sx_http_req *r, const sx_tenant *t)
{
	char err[320];
	json_t *o = body_object(c, r);
	if (!o)
		return;
	sx_str fields[80], argv[40];
	size_t nf = 0;
	const char *key;
	json_t *m;
	json_object_foreach(o, key, m) {
		if (!json_is_string(m)) {
			snprintf(err, sizeof err, "field '%.40s' must be a string", key);
			goto bad;
		}
		if (nf + 2 > sizeof fields / sizeof fields[0]) {
			snprintf(err, sizeof err, "too many fields");
			goto bad;
		}
		fields[nf++] = (sx_str){ key, strlen(key) };
		fields[nf++] = (sx_str){ json_string_value(m), json_string_length(m) };
	}
	int argc = sx_update_from_fields(fields, nf, argv, NULL, err, sizeof err);
	if (argc < 0)
		goto bad;
	run_admin(c, r, t, SX_API_UPDATES, argv, (size_t)argc);
	json_decref(o);
	return;
bad:
	json_decref(o);
	sx_api_error(c, r->keep_alive, 0, 400, err, NULL);
}

/* POST /v1/reload: no body, or {"path": "...", "force": true}. */
static void reload_post(sx_conn *c, const sx_http_req *r, const sx_tenant *t)
{
	char err[320];
	sx_str argv[3] = { { "RELOAD", 6 } };
	size_t argc = 1;
	json_t *o = NULL;
	if (r->body.n) {
		if (!(o = body_object(c, r)))
			return;
		const char *key;
		json_t *m;
		json_object_foreach(o, key, m) {
			if (strcmp(key, "path") && strcmp(key, "force")) {
				snprintf(err, sizeof err, "unknown field '%.40s' (path, force)", key);
				goto bad;
			}
		}
		sx_str path;
		if (opt_string(o, "path", &path, err, sizeof err))
			goto bad;
		json_t *f = json_object_get(o, "force");
		if (f && !json_is_boolean(f)) {
			snprintf(err, sizeof err, "'force' must be true or false");
			goto bad;
		}
		if (path.p)
			argv[argc++] = path;
		if (f && json_is_true(f))
			argv[argc++] = (sx_str){ "FORCE", 5 };
	}
	run_admin(c, r, t, SX_API_RELOAD, argv, argc);
	json_decref(o);
	return;
bad:
	json_decref(o);
	sx_api_error(c, r->keep_alive, 0, 400, err, NULL);
}

void sx_api_job_reply(sx_conn *c, const sx_job *job)
{
	sx_ctx *x = c->x;
	int ka = c->ps.http.keep_alive;
	if (job->rc == 0) {
		/* "OK <sequence>" of an update, "OK <generation>" of a reload */
		const char *num = strchr(job->text, ' ');
		x->jlen = 0;
		put_cstr(x, c->ps.http.wait == SX_API_RELOAD ? "{\"generation\":"
		                                              : "{\"sequence\":");
		put_u64(x, num ? strtoull(num + 1, NULL, 10) : 0);
		put_lit(x, "}");
		send_json(c, 200, ka, 0, NULL);
	} else {
		int status = job->rc == SX_ENOTFOUND ? 404 :
		             c->ps.http.wait == SX_API_RELOAD ? 409 :
		             job->rc == SX_EINVAL ? 400 : 503;
		sx_api_error(c, ka, 0, status, unprefixed(job->text), NULL);
	}
	if (!ka)
		sx_conn_close_after_reply(c);
}

/* ---- routing ---------------------------------------------------------------- */

static int path_is(const sx_http_req *r, const char *lit)
{
	size_t n = strlen(lit);
	return r->path.n == n && !memcmp(r->path.p, lit, n);
}

int sx_api_route(const sx_http_req *r)
{
	if (path_is(r, "/v1/check"))
		return SX_API_CHECK;
	if (path_is(r, "/v1/listed"))
		return SX_API_LISTED;
	if (path_is(r, "/v1/updates"))
		return SX_API_UPDATES;
	if (path_is(r, "/v1/reload"))
		return SX_API_RELOAD;
	if (path_is(r, "/openapi.json"))
		return SX_API_OPENAPI;
	if (path_is(r, "/v1/stats"))
		return SX_API_NONE;       /* the status page's JSON (status.h) */
	if (r->path.n >= 4 && !memcmp(r->path.p, "/v1/", 4))
		return SX_API_OTHER;
	return SX_API_NONE;
}

static int method_is(const sx_http_req *r, const char *lit)
{
	size_t n = strlen(lit);
	return r->method.n == n && !memcmp(r->method.p, lit, n);
}

void sx_api_serve(sx_conn *c, const sx_http_req *r, int route, const sx_tenant *t)
{
	int head = method_is(r, "HEAD");
	int get = head || method_is(r, "GET");
	int post = method_is(r, "POST");
	const char *allow = NULL;
	switch (route) {
	case SX_API_CHECK:
		if (get)
			check_get(c, r, t, head);
		else if (post)
			check_post(c, r, t);
		else
			allow = "Allow: GET, HEAD, POST\r\n";
		break;
	case SX_API_LISTED:
		if (get)
			listed_get(c, r, t, head);
		else
			allow = "Allow: GET, HEAD\r\n";
		break;
	case SX_API_UPDATES:
	case SX_API_RELOAD:
		if (post && route == SX_API_UPDATES)
			updates_post(c, r, t);
		else if (post)
			reload_post(c, r, t);
		else
			allow = "Allow: POST\r\n";
		break;
	case SX_API_OPENAPI:
		if (get)
			sx_http_response(&c->out, 200, JSON_TYPE, sx_openapi_json,
			                 sx_openapi_json_len, r->keep_alive, head, NULL);
		else
			allow = "Allow: GET, HEAD\r\n";
		break;
	default:
		sx_api_error(c, r->keep_alive, head, 404, "not found: the API's paths are "
		             "/v1/check, /v1/listed, /v1/updates, /v1/reload and "
		             "/openapi.json", NULL);
		break;
	}
	if (allow) {
		char msg[96];
		snprintf(msg, sizeof msg, "method not allowed: %.*s", (int)strlen(allow) - 9,
		         allow + 7);
		sx_api_error(c, r->keep_alive, head, 405, msg, allow);
	}
}
