/*
 * test_server_api.c - the HTTP/JSON API (issue 17, docs/HTTP.md), against
 * the real server on free loopback ports:
 *
 *   - every request/response example of docs/openapi.json is replayed
 *     (the names pair them, as the document says) and answered exactly,
 *     and GET /openapi.json serves that file byte for byte;
 *   - every documented query of the sample list (sample-queries.tsv and
 *     the joint-punishment one) gets the documented answer, and the same
 *     decision, reason and records as RESP CHECK;
 *   - every error status: 400 (bad ID, invalid UTF-8, bad JSON, unknown
 *     parameter), 401 with WWW-Authenticate, 403 (channel, listed flag,
 *     admin, plain HTTP off loopback), 404, 405, 409 (a stream follower),
 *     413 (max-batch, a body over the limit), 429 (the AUTH rate limit),
 *     503 (an update with no journal);
 *   - a batch body read by the plain-shape scanner and the same body with
 *     an escape (Jansson's path) answer alike;
 *   - keep-alive and pipelined requests are answered in order;
 *   - a 10 000-ID POST on a server with tenants, the secret's first
 *     check on a verify thread while the body streams in;
 *   - curl and Python's http.client and urllib over plain HTTP and TLS;
 *   - over TLS, a client certificate bound to a tenant needs no header;
 *   - docs/openapi.json passes a real validator (@redocly/cli lint), when
 *     npx can fetch it (skipped, and said so, when it cannot).
 */
#include <jansson.h>

#include "json.h"

#include "helpers/feedtest.h"
#include "helpers/httptest.h"
#include "helpers/srvtest.h"     /* (via httptest.h too; named so make test-tsan picks this up) */
#include "helpers/tlstest.h"

#define DENY_ID "350304197806263293"
#define FREE_ID "350304199509279511"

static char tenants_path[PATH_MAX + 64];

/* ops: admin and listed, every channel; air01: air only, 2 IDs a batch;
 * big: air, the server's batch cap. */
static void write_tenants(void)
{
	char h1[256], h2[256], h3[256], text[2048];
	st_hash("ops-secret", h1, sizeof h1);
	st_hash("air-secret", h2, sizeof h2);
	st_hash("big-secret", h3, sizeof h3);
	snprintf(text, sizeof text, "ops:%s:*:admin,listed\nair01:%s:air:-:max-batch=2\n"
	         "big:%s:air:-\n", h1, h2, h3);
	snprintf(tenants_path, sizeof tenants_path, "%s/tenants.txt", tu_dir);
	tu_write_private(tenants_path, text);
}

/* One request on c: method, target, "Authorization: Bearer auth" (NULL:
 * none), a body (NULL: none), keep-alive. */
static void send_req(st_conn *c, const char *method, const char *target, const char *auth,
                     const char *body, size_t body_len)
{
	size_t cap = 1024 + strlen(target) + (auth ? strlen(auth) : 0);
	char *head = malloc(cap);
	int n = snprintf(head, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s"
	                 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	                 method, target, auth ? "Authorization: Bearer " : "", auth ? auth : "",
	                 auth ? "\r\n" : "", body ? body_len : 0);
	st_send(c, head, (size_t)n);
	if (body && body_len)
		st_send(c, body, body_len);
	free(head);
}

static ht_resp req(int port, const char *method, const char *target, const char *auth,
                   const char *body)
{
	st_conn *c = st_connect(port);
	send_req(c, method, target, auth, body, body ? strlen(body) : 0);
	ht_resp r = ht_read(c);
	st_close(c);
	return r;
}

static json_t *parse(const ht_resp *r)
{
	json_error_t e;
	json_t *j = json_loadb(r->body, r->body_len, 0, &e);
	cr_assert_not_null(j, "not JSON (%s): %s\n%s", e.text, r->head, r->body);
	return j;
}

/* The response is status with {"error": want} (want NULL: any message). */
static void assert_error(ht_resp r, int status, const char *want, const char *what)
{
	cr_assert_eq(r.status, status, "%s: %d, not %d\n%s%s", what, r.status, status,
	             r.head ? r.head : "", r.body ? r.body : "");
	cr_assert(strstr(r.head, "Content-Type: application/json"), "%s: %s", what, r.head);
	json_t *j = parse(&r);
	const char *e = json_string_value(json_object_get(j, "error"));
	cr_assert_not_null(e, "%s: no error member: %s", what, r.body);
	if (want)
		cr_assert_str_eq(e, want, "%s", what);
	json_decref(j);
	ht_free(&r);
}

static void pct(st_sb *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch)) {
			st_sb_put(b, s, 1);
		} else {
			char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };
			st_sb_put(b, e, 3);
		}
	}
}

/* The source tree: the first directory holding docs/openapi.json, going up
 * from the test binary (build/tests/, build/asan/tests/), else from the
 * working directory.  (tu_repo_root finds where ../shared is, which a
 * sanitizer build links beside its own directory.) */
static const char *source_root(void)
{
	static char root[PATH_MAX];
	char d[PATH_MAX], f[PATH_MAX + 32];
	if (root[0])
		return root;
	for (int from = 0; from < 2; from++) {
		ssize_t n = from ? (getcwd(d, sizeof d) ? (ssize_t)strlen(d) : -1)
		                 : readlink("/proc/self/exe", d, sizeof d - 1);
		if (n <= 0)
			continue;
		d[n] = 0;
		for (char *slash; d[0]; *slash = 0) {
			snprintf(f, sizeof f, "%s/docs/openapi.json", d);
			if (access(f, R_OK) == 0) {
				snprintf(root, sizeof root, "%s", d);
				return root;
			}
			if (!(slash = strrchr(d, '/')))
				break;
		}
	}
	cr_assert_fail("docs/openapi.json not found above the test binary or the working "
	               "directory");
	return NULL;
}

static char *docs_path(const char *name)
{
	static char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/docs/%s", source_root(), name);
	return p;
}

/* ---- the OpenAPI document's examples -------------------------------------- */

ST_TEST(api, every_example_of_the_openapi_document_is_answered_as_written)
{
	write_tenants();
	char journal[PATH_MAX + 64];
	snprintf(journal, sizeof journal, "%s/journal", tu_dir);
	int hp;
	ht_start(&hp, "--tenants", tenants_path, "--journal", journal);

	json_error_t e;
	json_t *doc = json_load_file(docs_path("openapi.json"), 0, &e);
	cr_assert_not_null(doc, "docs/openapi.json: %s (line %d)", e.text, e.line);
	int replayed = 0, kept = 0, statuses[600] = { 0 };
	const char *path;
	json_t *item;
	json_object_foreach(json_object_get(doc, "paths"), path, item) {
		const char *method;
		json_t *op;
		json_object_foreach(item, method, op) {
			const char *code;
			json_t *resp;
			json_object_foreach(json_object_get(op, "responses"), code, resp) {
				json_t *exs = json_object_get(json_object_get(json_object_get(
					resp, "content"), "application/json"), "examples");
				const char *name;
				json_t *ex;
				json_object_foreach(exs, name, ex) {
					if (json_is_false(json_object_get(ex, "x-sxgate-replay"))) {
						kept++;
						continue;
					}
					st_sb t = { 0 };
					st_sb_put(&t, path, strlen(path));
					size_t i;
					json_t *p;
					char sep = '?';
					json_array_foreach(json_object_get(op, "parameters"), i, p) {
						json_t *v = json_object_get(json_object_get(json_object_get(
							p, "examples"), name), "value");
						if (!v)
							continue;
						st_sb_put(&t, &sep, 1);
						sep = '&';
						pct(&t, json_string_value(json_object_get(p, "name")));
						st_sb_put(&t, "=", 1);
						pct(&t, json_string_value(v));
					}
					st_sb_put(&t, "", 1);
					json_t *bv = json_object_get(json_object_get(json_object_get(
						json_object_get(json_object_get(json_object_get(op,
						"requestBody"), "content"), "application/json"), "examples"),
						name), "value");
					char *body = bv ? json_dumps(bv, JSON_ENCODE_ANY) : NULL;
					char m[8];
					snprintf(m, sizeof m, "%s", method);
					for (char *q = m; *q; q++)
						*q = (char)(*q - 32);
					ht_resp r = req(hp, m, t.p,
					                json_string_value(json_object_get(ex, "x-sxgate-auth")),
					                body);
					cr_assert_eq(r.status, atoi(code), "%s %s (example %s): %d, not %s\n%s",
					             m, t.p, name, r.status, code, r.body ? r.body : "");
					json_t *got = parse(&r);
					json_t *want = json_object_get(ex, "value");
					char *gs = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);
					char *ws = json_dumps(want, JSON_SORT_KEYS | JSON_ENCODE_ANY);
					cr_assert(json_equal(got, want), "%s %s (example %s):\n got  %s\n want %s",
					          m, t.p, name, gs, ws);
					statuses[atoi(code)]++;
					replayed++;
					free(gs);
					free(ws);
					free(body);
					free(t.p);
					json_decref(got);
					ht_free(&r);
				}
			}
		}
	}
	json_decref(doc);
	int kinds = 0;
	for (int s = 0; s < 600; s++)
		kinds += statuses[s] > 0;
	cr_assert_geq(replayed, 20, "only %d examples replayed", replayed);
	cr_assert_geq(kinds, 6, "examples of only %d statuses replayed", kinds);
	printf("test_server_api: %d examples of docs/openapi.json replayed (%d statuses), %d "
	       "documented only (x-sxgate-replay: false)\n", replayed, kinds, kept);

	/* GET /openapi.json is that file */
	size_t n;
	char *file = tu_read(docs_path("openapi.json"), &n);
	ht_resp r = req(hp, "GET", "/openapi.json", NULL, NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body_len, n, "served %zu bytes, the file has %zu", r.body_len, n);
	cr_assert(!memcmp(r.body, file, n), "GET /openapi.json is not docs/openapi.json");
	free(file);
	ht_free(&r);
}

/* ---- the same answers as RESP and as documented ----------------------------- */

/* "（2023）..." and "(2023)..." are one case: fold for comparing. */
static void fold(const char *s, char *out, size_t cap)
{
	size_t o = 0;
	for (; *s && o + 4 < cap; s++) {
		if (*s == '(' || *s == ')') {
			memcpy(out + o, *s == '(' ? "（" : "）", 3);
			o += 3;
		} else {
			out[o++] = *s;
		}
	}
	out[o] = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The documented queries of one file: HTTP == documented, HTTP == RESP. */
static int documented(const char *file, int hp, int rp)
{
	char path[PATH_MAX];
	if (!tu_data_path(file, path, sizeof path))
		return -1;
	FILE *in = fopen(path, "r");
	cr_assert_not_null(in, "%s", path);
	st_conn *resp = st_connect(rp);
	char line[2048];
	int n = 0;
	while (fgets(line, sizeof line, in)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = 0;
		char *want[32];
		int nw = 0;
		char *q = strtok(line, "\t");
		for (char *w; (w = strtok(NULL, "\t")) && nw < 32;)
			want[nw++] = w;
		/* the query: ID CHANNEL [CLASS] [TYPE t] [AT d] */
		char qcopy[512], *words[16] = { 0 };
		int nq = 0;
		snprintf(qcopy, sizeof qcopy, "%s", q);
		for (char *w = strtok(qcopy, " "); w && nq < 16; w = strtok(NULL, " "))
			words[nq++] = w;
		cr_assert_geq(nq, 2, "%s: a query is ID CHANNEL ...", q);
		st_sb t = { 0 };
		st_sb_put(&t, "/v1/check?id=", 13);
		pct(&t, words[0]);
		st_sb_put(&t, "&channel=", 9);
		pct(&t, words[1]);
		for (int i = 2; i < nq; i++) {
			const char *k = !strcmp(words[i], "TYPE") ? "&type=" :
			                !strcmp(words[i], "AT") ? "&at=" : "&class=";
			st_sb_put(&t, k, strlen(k));
			if (strcmp(k, "&class="))
				i++;
			pct(&t, words[i]);
		}
		st_sb_put(&t, "", 1);
		ht_resp r = req(hp, "GET", t.p, NULL, NULL);
		char rq[600];
		snprintf(rq, sizeof rq, "CHECK %s", q);
		const char *rr = st_ask(resp, rq);
		if (!strcmp(want[0], "ERR")) {
			cr_assert_eq(r.status, 400, "%s: %d %s", q, r.status, r.body);
			cr_assert(rr[0] == '-', "RESP %s: %s", q, rr);
			json_t *j = parse(&r);
			cr_assert_str_eq(json_string_value(json_object_get(j, "error")), rr + 5,
			                 "%s: not RESP's message", q);
			json_decref(j);
		} else {
			cr_assert_eq(r.status, 200, "%s: %d %s", q, r.status, r.body);
			json_t *j = parse(&r);
			const char *d = json_string_value(json_object_get(j, "decision"));
			const char *why = json_string_value(json_object_get(j, "reason"));
			cr_assert_str_eq(d, want[0], "%s", q);
			cr_assert_str_eq(why, want[1], "%s", q);
			/* RESP's reply rendered as st_reply does, from the JSON */
			st_sb b = { 0 };
			st_sb_put(&b, "[", 1);
			st_sb_put(&b, d, strlen(d));
			st_sb_put(&b, ", ", 2);
			st_sb_put(&b, why, strlen(why));
			json_t *recs = json_object_get(j, "records");
			size_t i;
			json_t *rec;
			char *got[32];
			int ng = 0;
			json_array_foreach(recs, i, rec) {
				char one[1024], f[1024];
				snprintf(one, sizeof one, "%s|%s|%s|%s",
				         json_string_value(json_object_get(rec, "case_no")),
				         json_string_value(json_object_get(rec, "court")),
				         json_string_value(json_object_get(rec, "role")),
				         json_string_value(json_object_get(rec, "list")));
				st_sb_put(&b, ", ", 2);
				st_sb_put(&b, one, strlen(one));
				fold(json_string_value(json_object_get(rec, "case_no")), f, sizeof f);
				if (ng < 32)
					got[ng++] = strdup(f);
			}
			st_sb_put(&b, "]", 2);
			cr_assert_str_eq(b.p, rr, "%s: HTTP and RESP differ", q);
			/* the documented case numbers, as a set */
			char *exp[32];
			int ne = 0;
			for (int k = 2; k < nw; k++) {
				char f[1024];
				fold(want[k], f, sizeof f);
				exp[ne++] = strdup(f);
			}
			cr_assert_eq(ng, ne, "%s: %d records, documented %d", q, ng, ne);
			qsort(got, (size_t)ng, sizeof *got, cmp_str);
			qsort(exp, (size_t)ne, sizeof *exp, cmp_str);
			for (int k = 0; k < ng; k++) {
				cr_assert_str_eq(got[k], exp[k], "%s", q);
				free(got[k]);
				free(exp[k]);
			}
			free(b.p);
			json_decref(j);
		}
		free(t.p);
		ht_free(&r);
		n++;
	}
	fclose(in);
	st_close(resp);
	return n;
}

ST_TEST(api, the_documented_queries_get_the_documented_answers_as_over_resp)
{
	int hp;
	st_server *s = ht_start(&hp);
	int a = documented("sample-queries.tsv", hp, s->resp_port);
	int b = documented("sample-queries-joint.tsv", hp, s->resp_port);
	if (a < 0)
		cr_skip_test("skipped: ../shared/data/sample-queries.tsv is missing");
	cr_assert_gt(a, 10, "%d queries", a);
	printf("test_server_api: %d + %d documented queries, HTTP == documented == RESP\n", a,
	       b < 0 ? 0 : b);
}

/* ---- errors --------------------------------------------------------------- */

ST_TEST(api, every_error_status)
{
	write_tenants();
	char journal[PATH_MAX + 64];
	snprintf(journal, sizeof journal, "%s/journal", tu_dir);
	int hp;
	ht_start(&hp, "--tenants", tenants_path, "--journal", journal);
	const char *ops = "ops:ops-secret", *air = "air01:air-secret";

	/* 400 */
	assert_error(req(hp, "GET", "/v1/check?id=350304197806263290&channel=air", ops, NULL),
	             400, "invalid id: RIC check character is wrong", "a wrong check char");
	assert_error(req(hp, "GET", "/v1/check?id=%FF%FE&channel=air", ops, NULL), 400,
	             "invalid id: not valid UTF-8", "an ID of invalid UTF-8");
	assert_error(req(hp, "GET", "/v1/check?id=1&chanel=air", ops, NULL), 400,
	             "unknown parameter 'chanel'", "a misspelt parameter");
	assert_error(req(hp, "GET", "/v1/check?id=1&id=2&channel=air", ops, NULL), 400,
	             "parameter 'id' given twice", "a repeated parameter");
	assert_error(req(hp, "GET", "/v1/check?id=%zz&channel=air", ops, NULL), 400,
	             "bad percent-escape in parameter 'id'", "a bad escape");
	assert_error(req(hp, "GET", "/v1/check?channel=air", ops, NULL), 400,
	             "missing parameter 'id'", "no id");
	assert_error(req(hp, "GET", "/v1/check?id=" DENY_ID "&channel=air&at=2026-02-30", ops,
	                 NULL), 400, "bad date '2026-02-30' (want YYYY-MM-DD)", "a bad day");
	assert_error(req(hp, "POST", "/v1/check", ops, "{\"channel\":\"air\",\"ids\":["), 400,
	             NULL, "a body cut short");
	assert_error(req(hp, "POST", "/v1/check", ops, "[1,2]"), 400,
	             "the body must be a JSON object", "an array body");
	assert_error(req(hp, "POST", "/v1/check", ops, "{\"channel\":\"air\",\"ids\":\"x\"}"),
	             400, "'ids' must be an array of ID strings", "ids not an array");
	assert_error(req(hp, "POST", "/v1/check", ops, "{\"channel\":\"air\",\"idz\":[]}"), 400,
	             "unknown field 'idz' (channel, class, type, at, ids)", "a misspelt field");
	/* raw invalid UTF-8 outside an ID is not JSON: one 400 */
	assert_error(req(hp, "POST", "/v1/check", ops, "{\"channel\":\"air\xff\",\"ids\":[]}"),
	             400, NULL, "raw invalid UTF-8 in the channel (not JSON)");
	/* a long unknown key that "%.40s" cuts inside a character: the message
	 * stays (the cut character a '?'), not an empty error */
	assert_error(req(hp, "POST", "/v1/check", ops, "{\"channel\":\"air\",\"ids\":[],"
	                 "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\u00e9\u00e9\":1}"), 400,
	             "unknown field 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?' (channel, class, "
	             "type, at, ids)", "a long key cut inside a character");
	assert_error(req(hp, "POST", "/v1/check", ops, NULL), 400, NULL, "no body");
	/* what the HTTP parser refuses on an API path is JSON too */
	assert_error(ht_ask(hp, "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 2x\r\n\r\n"),
	             400, NULL, "a malformed Content-Length");
	assert_error(ht_ask(hp, "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: "
	                    "99999999\r\n\r\n"), 413, NULL, "a body over the API's limit");
	assert_error(ht_ask(hp, "GET /v1/check HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
	                    "chunked\r\n\r\n"), 501, NULL, "a chunked body");
	{
		ht_resp plain = ht_ask(hp, "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 2x"
		                       "\r\n\r\n");
		cr_assert_eq(plain.status, 400);
		cr_assert(strstr(plain.head, "text/plain"), "%s", plain.head);
		ht_free(&plain);
	}
	assert_error(req(hp, "POST", "/v1/updates", ops, "{\"op\":\"LIST.REMOVE\"}"), 400, NULL,
	             "an update without its fields");
	assert_error(req(hp, "POST", "/v1/reload", ops, "{\"force\":1}"), 400,
	             "'force' must be true or false", "force not a boolean");
	/* inside a batch, each bad ID in its place */
	ht_resp r = req(hp, "POST", "/v1/check", ops,
	                "{\"channel\":\"air\",\"at\":\"2026-01-10\",\"ids\":[\"" DENY_ID "\",7,"
	                "\"\\u00e9\",null,\"" FREE_ID "\"]}");
	cr_assert_eq(r.status, 200, "%s", r.body);
	json_t *j = parse(&r);
	cr_assert_eq(json_array_size(j), 5);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 0), "decision")),
	                 "DENY");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 1), "error")),
	                 "invalid id: element 1 of 'ids' is not a string");
	cr_assert_not_null(json_object_get(json_array_get(j, 2), "error"), "%s", r.body);
	cr_assert_not_null(json_object_get(json_array_get(j, 3), "error"), "%s", r.body);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 4), "reason")),
	                 "NOT_LISTED");
	json_decref(j);
	ht_free(&r);
	/* an ID of raw bytes that are not UTF-8 is an invalid ID in its place,
	 * and its neighbours are answered (the issue: "invalid UTF-8 included") */
	r = req(hp, "POST", "/v1/check", ops, "{\"channel\":\"air\",\"at\":\"2026-01-10\","
	        "\"ids\":[\"" DENY_ID "\",\"\xff\xfe\",\"\xe9\x97\",\"" FREE_ID "\"]}");
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert(sx_utf8_valid(r.body, strlen(r.body)), "the reply is not UTF-8");
	j = parse(&r);
	cr_assert_eq(json_array_size(j), 4, "%s", r.body);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 0), "decision")),
	                 "DENY");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 1), "error")),
	                 "invalid id: element 1 of 'ids' is not valid UTF-8");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 2), "error")),
	                 "invalid id: element 2 of 'ids' is not valid UTF-8");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 3), "reason")),
	                 "NOT_LISTED");
	json_decref(j);
	ht_free(&r);
	/* the scanner's shape and Jansson's (an escape) answer the same bytes */
	ht_resp fast = req(hp, "POST", "/v1/check", ops, "{\"channel\":\"air\",\"at\":"
	                   "\"2026-01-10\",\"ids\":[\"" DENY_ID "\",\"x\",\"" FREE_ID "\"]}");
	ht_resp slow = req(hp, "POST", "/v1/check", ops, "{\"channel\":\"\\u0061ir\",\"at\":"
	                   "\"2026-01-10\",\"ids\":[\"" DENY_ID "\",\"x\",\"" FREE_ID "\"]}");
	cr_assert_eq(fast.status, 200, "%s", fast.body);
	cr_assert_str_eq(fast.body, slow.body, "the two readers differ");
	ht_free(&fast);
	ht_free(&slow);

	/* 401, with the challenge */
	r = req(hp, "GET", "/v1/check?id=" DENY_ID "&channel=air", NULL, NULL);
	cr_assert(strstr(r.head, "WWW-Authenticate: Basic realm=\"sxgated\""), "%s", r.head);
	assert_error(r, 401, NULL, "no credentials");
	r = req(hp, "GET", "/v1/check?id=" DENY_ID "&channel=air", "ops:wrong", NULL);
	cr_assert(strstr(r.head, "WWW-Authenticate:"), "%s", r.head);
	assert_error(r, 401, "WRONGPASS invalid username-password pair or user is disabled.",
	             "a wrong secret");
	assert_error(req(hp, "GET", "/v1/check?id=" DENY_ID "&channel=air", "nobody:x", NULL),
	             401, "WRONGPASS invalid username-password pair or user is disabled.",
	             "an unknown tenant");
	assert_error(req(hp, "GET", "/v1/check?id=" DENY_ID "&channel=air", "no-colon", NULL),
	             401, NULL, "a token without a colon");
	/* a wrong secret before a large body: answered once the secret is
	 * checked, without waiting for the body, and the connection closes */
	st_conn *w = st_connect(hp);
	st_send_str(w, "POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nobody:x2\r\n"
	            "Content-Length: 900000\r\n\r\n{\"channel\":\"air\",\"ids\":[");
	r = ht_read(w);
	cr_assert_eq(r.status, 401, "a wrong secret, the body not sent: %d", r.status);
	ht_free(&r);
	cr_assert(st_closed_by_server(w, 3000), "the connection waits for the body");
	st_close(w);
	/* no credentials before a large body: the same, at once */
	w = st_connect(hp);
	st_send_str(w, "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 900000\r\n\r\n{");
	r = ht_read(w);
	cr_assert_eq(r.status, 401, "no credentials, the body not sent: %d", r.status);
	ht_free(&r);
	cr_assert(st_closed_by_server(w, 3000), "the connection waits for the body");
	st_close(w);
	/* HTTP Basic works as Bearer does */
	st_conn *c = st_connect(hp);
	st_send_str(c, "GET /v1/listed?id=" DENY_ID "&at=2026-01-10 HTTP/1.1\r\nHost: x\r\n"
	            "Authorization: Basic b3BzOm9wcy1zZWNyZXQ=\r\n\r\n");   /* ops:ops-secret */
	r = ht_read(c);
	st_close(c);
	cr_assert_eq(r.status, 200, "Basic: %s", r.body);
	cr_assert_str_eq(r.body, "{\"listed\":true,\"day\":\"2026-01-10\"}");
	ht_free(&r);

	/* 403 */
	assert_error(req(hp, "GET", "/v1/check?id=" DENY_ID "&channel=rail&class=G1:first", air,
	                 NULL), 403, "NOPERM tenant 'air01' may not ask about channel 'rail'",
	             "another channel");
	assert_error(req(hp, "POST", "/v1/check", air, "{\"channel\":\"hotel\",\"class\":\"3\","
	                 "\"ids\":[]}"), 403,
	             "NOPERM tenant 'air01' may not ask about channel 'hotel'", "a batch, another "
	             "channel");
	assert_error(req(hp, "GET", "/v1/listed?id=" DENY_ID, air, NULL), 403,
	             "NOPERM tenant 'air01' may not use LISTED (needs the listed flag)",
	             "no listed flag");
	assert_error(req(hp, "POST", "/v1/reload", air, NULL), 403,
	             "NOPERM tenant 'air01' may not use RELOAD (admin tenants only)", "not admin");

	/* 404, 405 */
	assert_error(req(hp, "GET", "/v1/decide", ops, NULL), 404, NULL, "an unknown path");
	r = req(hp, "DELETE", "/v1/check", ops, NULL);
	cr_assert(strstr(r.head, "Allow: GET, HEAD, POST\r\n"), "%s", r.head);
	assert_error(r, 405, NULL, "DELETE");
	r = req(hp, "GET", "/v1/updates", ops, NULL);
	cr_assert(strstr(r.head, "Allow: POST\r\n"), "%s", r.head);
	assert_error(r, 405, NULL, "GET of updates");

	/* 404 of an update that matches nothing; 200 of a good one */
	assert_error(req(hp, "POST", "/v1/updates", ops, "{\"op\":\"LIST.SUSPEND\",\"case_no\":"
	                 "\"(2099)x\",\"id_type\":\"RIC\",\"id_no\":\"" FREE_ID "\"}"), 404,
	             "not found", "nothing to suspend");

	/* 413: past the tenant's batch limit, and a body over 1 MiB */
	assert_error(req(hp, "POST", "/v1/check", air, "{\"channel\":\"air\",\"ids\":[\"" DENY_ID
	                 "\",\"" DENY_ID "\",\"" DENY_ID "\"]}"), 413,
	             "max-batch exceeded: 3 IDs in one batch; tenant 'air01' may send at most 2",
	             "past max-batch");
	c = st_connect(hp);
	st_send_str(c, "POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ops:ops-secret"
	            "\r\nContent-Length: 2000000\r\n\r\n");
	r = ht_read(c);
	cr_assert_eq(r.status, 413, "a 2 MB body: %d", r.status);
	ht_free(&r);
	st_close(c);

	/* 429: guesses spend AUTH's tokens; then even the right secret waits */
	int limited = 0;
	for (int i = 0; i < 12 && !limited; i++) {
		r = req(hp, "GET", "/v1/check?id=" DENY_ID "&channel=air", "air01:guess", NULL);
		limited = r.status == 429;
		cr_assert(r.status == 401 || r.status == 429, "guess %d: %d", i, r.status);
		if (limited)
			cr_assert(strstr(r.head, "Retry-After: 1\r\n"), "%s", r.head);
		ht_free(&r);
	}
	cr_assert(limited, "12 wrong secrets were never rate-limited");
	assert_error(req(hp, "GET", "/v1/check?id=" DENY_ID "&channel=air", air, NULL), 429,
	             "too many failed attempts from this address; try again later",
	             "the right secret while limited");
	/* ... while another tenant from the same address goes on */
	r = req(hp, "GET", "/v1/check?id=" DENY_ID "&channel=air&at=2026-01-10", ops, NULL);
	cr_assert_eq(r.status, 200, "ops while air01 is limited: %d %s", r.status, r.body);
	ht_free(&r);
}

/* A plain HTTP port off loopback serves the API only with --allow-plain. */
ST_TEST(api, plain_http_off_loopback_refuses_the_api_unless_allow_plain)
{
	write_tenants();
	int hp = st_free_port();
	st_start(st_snap, "--tenants", tenants_path, "--http-port", ht_port_str(hp),
	         "--http-bind", "0.0.0.0");
	assert_error(req(hp, "GET", "/v1/check?id=" DENY_ID "&channel=air", "ops:ops-secret",
	                 NULL), 403, NULL, "plain, 0.0.0.0");
	/* a body is not waited for */
	st_conn *c = st_connect(hp);
	st_send_str(c, "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n{");
	ht_resp r = ht_read(c);
	cr_assert_eq(r.status, 403, "%d", r.status);
	cr_assert(st_closed_by_server(c, 3000), "the connection stays open");
	ht_free(&r);
	st_close(c);
	r = req(hp, "GET", "/health", NULL, NULL);
	cr_assert_eq(r.status, 200, "health: %d", r.status);
	ht_free(&r);
	r = req(hp, "GET", "/openapi.json", NULL, NULL);
	cr_assert_eq(r.status, 200, "openapi.json: %d", r.status);
	ht_free(&r);
	st_stop(&st_servers[st_nservers - 1], SIGTERM);

	int hp2 = st_free_port();
	st_start(st_snap, "--tenants", tenants_path, "--http-port", ht_port_str(hp2),
	         "--http-bind", "0.0.0.0", "--allow-plain");
	r = req(hp2, "GET", "/v1/check?id=" DENY_ID "&channel=air&at=2026-01-10",
	        "ops:ops-secret", NULL);
	cr_assert_eq(r.status, 200, "--allow-plain: %d %s", r.status, r.body);
	ht_free(&r);
}

/* 409: a replica that follows a stream takes no update of its own. */
ST_TEST(api, a_follower_refuses_updates_with_409)
{
	if (!ft_have_redis())
		cr_skip_test("skipped: redis-server is not installed");
	int rport = st_free_port();
	ft_redis_start(rport, "--port", ht_port_str(rport));
	char url[128], journal[PATH_MAX + 64];
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/sxgate:updates", rport);
	snprintf(journal, sizeof journal, "%s/journal", tu_dir);
	int hp;
	ht_start(&hp, "--journal", journal, "--updates-from", url);
	ht_resp r = req(hp, "POST", "/v1/updates", NULL, "{\"op\":\"LIST.REMOVE\",\"case_no\":"
	                "\"x\",\"id_type\":\"RIC\",\"id_no\":\"" DENY_ID "\"}");
	char want[256];
	snprintf(want, sizeof want, "this replica follows %s: publish updates to the stream, "
	         "not to a replica", url);
	assert_error(r, 409, want, "an update to a follower");
	ft_redis_stop_all();
}

/* ---- keep-alive, pipelining, a 10 000-ID batch ------------------------------- */

ST_TEST(api, keep_alive_and_pipelined_requests_are_answered_in_order)
{
	int hp;
	ht_start(&hp);
	st_conn *c = st_connect(hp);
	const char *post = "{\"channel\":\"air\",\"at\":\"2026-01-10\",\"ids\":[\"" FREE_ID "\"]}";
	char all[2048];
	int n = snprintf(all, sizeof all,
	                 "GET /v1/check?id=" DENY_ID "&channel=air&at=2026-01-10 HTTP/1.1\r\n"
	                 "Host: x\r\n\r\n"
	                 "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n%s"
	                 "GET /v1/nope HTTP/1.1\r\nHost: x\r\n\r\n"
	                 "HEAD /v1/check?id=" DENY_ID "&channel=air HTTP/1.1\r\nHost: x\r\n\r\n"
	                 "GET /v1/listed?id=" FREE_ID "&at=2026-01-10 HTTP/1.1\r\nHost: x\r\n"
	                 "Connection: close\r\n\r\n", strlen(post), post);
	st_send(c, all, (size_t)n);    /* one write: the server reads them together */
	ht_resp r = ht_read(c);
	cr_assert_eq(r.status, 200);
	cr_assert(strstr(r.head, "Connection: keep-alive"), "%s", r.head);
	cr_assert(strstr(r.body, "\"decision\":\"DENY\""), "1st: %s", r.body);
	ht_free(&r);
	r = ht_read(c);
	cr_assert_eq(r.status, 200);
	cr_assert(strstr(r.body, "\"NOT_LISTED\""), "2nd: %s", r.body);
	ht_free(&r);
	r = ht_read(c);
	cr_assert_eq(r.status, 404, "3rd: %d", r.status);
	ht_free(&r);
	/* HEAD: the GET's length, no body (ht_read would wait for it) */
	char *end;
	while (!(end = memmem(c->buf + c->off, c->len - c->off, "\r\n\r\n", 4)))
		cr_assert_gt(st_fill(c), 0, "HEAD: no response");
	cr_assert(!strncmp(c->buf + c->off, "HTTP/1.1 200", 12), "HEAD: %.40s", c->buf + c->off);
	cr_assert(memmem(c->buf + c->off, (size_t)(end - c->buf - c->off), "Content-Length: 1",
	                 17), "HEAD: no length");
	c->off = (size_t)(end - c->buf) + 4;
	r = ht_read(c);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "{\"listed\":false,\"day\":\"2026-01-10\"}");
	cr_assert(strstr(r.head, "Connection: close"), "%s", r.head);
	ht_free(&r);
	cr_assert(st_closed_by_server(c, 3000), "Connection: close was not honoured");
	st_close(c);
	/* 503: no --journal here, so no update can be made durable */
	assert_error(req(hp, "POST", "/v1/updates", NULL, "{\"op\":\"PERMIT.REMOVE\","
	                 "\"permit_ref\":\"P1\"}"), 503, "live updates need --journal FILE: an "
	             "update is acknowledged only once it is durable", "an update without a journal");
}

/* 10 000 IDs in one POST, on a server with tenants: the secret's first
 * check runs on a verify thread while the 200 KB body arrives. */
ST_TEST(api, a_batch_of_ten_thousand_ids)
{
	write_tenants();
	int hp;
	ht_start(&hp, "--tenants", tenants_path);
	st_sb b = { 0 };
	const char *head = "{\"channel\":\"air\",\"at\":\"2026-01-10\",\"ids\":[";
	st_sb_put(&b, head, strlen(head));
	for (int i = 0; i < 10000; i++) {
		const char *id = i % 3 == 0 ? DENY_ID : i % 3 == 1 ? FREE_ID : "35030419780626329X";
		char one[40];
		int n = snprintf(one, sizeof one, "%s\"%s\"", i ? "," : "", id);
		st_sb_put(&b, one, (size_t)n);
	}
	st_sb_put(&b, "]}", 3);
	ht_resp r = req(hp, "POST", "/v1/check", "big:big-secret", b.p);
	cr_assert_eq(r.status, 200, "%d %.300s", r.status, r.body ? r.body : "");
	json_t *j = parse(&r);
	cr_assert_eq(json_array_size(j), 10000);
	for (size_t i = 0; i < 10000; i++) {
		json_t *e = json_array_get(j, i);
		if (i % 3 == 0)
			cr_assert_str_eq(json_string_value(json_object_get(e, "decision")), "DENY",
			                 "%zu", i);
		else if (i % 3 == 1)
			cr_assert_str_eq(json_string_value(json_object_get(e, "reason")), "NOT_LISTED",
			                 "%zu", i);
		else
			cr_assert_not_null(json_object_get(e, "error"), "%zu", i);
	}
	json_decref(j);
	ht_free(&r);
	/* one more ID than the server's cap is 413 */
	b.n--;                     /* the NUL */
	b.n -= 2;                  /* "]}" */
	st_sb_put(&b, ",\"1\"]}", 7);
	assert_error(req(hp, "POST", "/v1/check", "big:big-secret", b.p), 413,
	             "max-batch exceeded: 10001 IDs in one batch; tenant 'big' may send at most "
	             "10000", "10 001 IDs");
	free(b.p);
}

/* ---- real clients: curl and Python, plain and TLS ----------------------------- */

static const char py_client[] =
	"import base64, http.client, json, ssl, sys, urllib.request\n"
	"port, tls, ca = int(sys.argv[1]), sys.argv[2] == 'tls', sys.argv[3]\n"
	"ctx = ssl.create_default_context(cafile=ca) if tls else None\n"
	"auth = {'Authorization': 'Bearer ops:ops-secret'}\n"
	"c = http.client.HTTPSConnection('localhost', port, context=ctx) if tls else "
	"http.client.HTTPConnection('127.0.0.1', port)\n"
	"c.request('GET', '/v1/check?id=" DENY_ID "&channel=air&at=2026-01-10', headers=auth)\n"
	"r = c.getresponse(); a = json.loads(r.read())\n"
	"assert r.status == 200 and a['decision'] == 'DENY', a\n"
	"c.request('POST', '/v1/check', body=json.dumps({'channel': 'air', 'at': '2026-01-10', "
	"'ids': ['" DENY_ID "', '" FREE_ID "']}), headers=dict(auth, **{'Content-Type': "
	"'application/json'}))\n"
	"r = c.getresponse(); b = json.loads(r.read())\n"
	"assert r.status == 200 and [x['reason'] for x in b] == ['LISTED', 'NOT_LISTED'], b\n"
	"c.request('GET', '/v1/check?id=1&channel=air', headers=auth)\n"
	"r = c.getresponse(); e = json.loads(r.read())\n"
	"assert r.status == 400 and e['error'].startswith('invalid id'), e\n"
	"scheme = 'https://localhost' if tls else 'http://127.0.0.1'\n"
	"q = urllib.request.Request(scheme + ':%d/v1/listed?id=" DENY_ID "&at=2026-01-10' % port,"
	" headers={'Authorization': 'Basic ' + base64.b64encode(b'ops:ops-secret').decode()})\n"
	"d = json.loads(urllib.request.urlopen(q, context=ctx).read())\n"
	"assert d == {'listed': True, 'day': '2026-01-10'}, d\n"
	"print('python ok', a['records'][0]['case_no'])\n";

ST_TEST(api, curl_and_python_over_plain_http_and_tls)
{
	write_tenants();
	tt_pki();
	char cert[PATH_MAX + 16], key[PATH_MAX + 16], ca[PATH_MAX + 16], py[PATH_MAX + 16];
	snprintf(cert, sizeof cert, "%s/srv.pem", tu_dir);
	snprintf(key, sizeof key, "%s/srv.key", tu_dir);
	snprintf(ca, sizeof ca, "%s/ca.pem", tu_dir);
	snprintf(py, sizeof py, "%s/client.py", tu_dir);
	tu_write_str(py, py_client);
	int hp = st_free_port(), tp = st_free_port();
	st_start(st_snap, "--tenants", tenants_path, "--http-port", ht_port_str(hp),
	         "--tls-http-port", ht_port_str(tp), "--tls-cert", cert, "--tls-key", key);
	int rc;
	const char *o = tt_sh(&rc, "curl -sS -u ops:ops-secret 'http://127.0.0.1:%d/v1/check?"
	                      "id=" DENY_ID "&channel=rail&class=G1234:second&at=2026-01-10'", hp);
	cr_assert_eq(rc, 0, "curl: %s", o);
	cr_assert(strstr(o, "\"case_no\":\"（2023）闽05执1001号\""), "curl plain: %s", o);
	o = tt_sh(&rc, "curl -sS --cacert %s -H 'Authorization: Bearer ops:ops-secret' "
	          "-H 'Content-Type: application/json' -d '{\"channel\":\"air\",\"at\":"
	          "\"2026-01-10\",\"ids\":[\"" DENY_ID "\"]}' https://localhost:%d/v1/check", ca, tp);
	cr_assert_eq(rc, 0, "curl tls: %s", o);
	cr_assert(!strncmp(o, "[{\"decision\":\"DENY\"", 19), "curl tls: %s", o);
	o = tt_sh(&rc, "curl -sS -o /dev/null -w '%%{http_code}' --cacert %s "
	          "'https://localhost:%d/v1/check?id=" DENY_ID "&channel=air'", ca, tp);
	cr_assert_str_eq(o, "401", "curl tls without credentials: %s", o);
	o = tt_sh(&rc, "/usr/bin/python3 %s %d plain %s", py, hp, ca);
	cr_assert_eq(rc, 0, "python plain: %s", o);
	cr_assert(strstr(o, "python ok （2023）闽05执1001号"), "python plain: %s", o);
	o = tt_sh(&rc, "/usr/bin/python3 %s %d tls %s", py, tp, ca);
	cr_assert_eq(rc, 0, "python tls: %s", o);
	cr_assert(strstr(o, "python ok"), "python tls: %s", o);
}

/* ---- the document passes a real validator ------------------------------------- */

Test(api, the_openapi_document_passes_redocly_lint, .timeout = 600)
{
	int rc;
	if (system("command -v npx >/dev/null 2>&1"))
		cr_skip_test("skipped: npx (npm) is not installed");
	const char *o = tt_sh(&rc, "cd %s && timeout 500 npx -y @redocly/cli@2.77.0 lint "
	                      "--config docs/redocly.yaml docs/openapi.json", source_root());
	if (rc && !strstr(o, "validating "))     /* the validator never ran: no registry */
		cr_skip_test("skipped: npx could not fetch and run @redocly/cli 2.77.0 here "
		             "(exit %d): %.300s", rc, o);
	cr_assert_eq(rc, 0, "redocly lint:\n%s", o);
	cr_assert(strstr(o, "Your API description is valid"), "%s", o);
	cr_assert_null(strstr(o, "You have "), "warnings or errors:\n%s", o);   /* "You have 2 warnings." */
	printf("test_server_api: docs/openapi.json passes @redocly/cli 2.77.0 lint\n");
}

/* Over TLS, a client certificate bound to a tenant is its credentials: no
 * header needed; that tenant's channels apply; naming another tenant in a
 * header on that connection is 403. */
ST_TEST(api, a_client_certificate_bound_to_a_tenant_needs_no_header)
{
	tt_pki();
	char cert[PATH_MAX + 16], key[PATH_MAX + 16], ca[PATH_MAX + 16], text[2048], h[256];
	snprintf(cert, sizeof cert, "%s/srv.pem", tu_dir);
	snprintf(key, sizeof key, "%s/srv.key", tu_dir);
	snprintf(ca, sizeof ca, "%s/ca.pem", tu_dir);
	st_hash("ops-secret", h, sizeof h);
	snprintf(text, sizeof text, "certair:!:air:-:cert=%s\nops:%s:*:admin,listed\n",
	         tt_fingerprint(tu_dir, "cli_a"), h);
	snprintf(tenants_path, sizeof tenants_path, "%s/tenants.txt", tu_dir);
	tu_write_private(tenants_path, text);
	int tp = st_free_port();
	st_start(st_snap, "--tenants", tenants_path, "--tls-http-port", ht_port_str(tp),
	         "--tls-cert", cert, "--tls-key", key, "--tls-ca", ca, "--tls-client-auth",
	         "optional");
	int rc;
	const char *o = tt_sh(&rc, "curl -sS --cacert %s --cert %s/cli_a.pem --key %s/cli_a.key "
	                      "'https://localhost:%d/v1/check?id=" DENY_ID "&channel=air&"
	                      "at=2026-01-10'", ca, tu_dir, tu_dir, tp);
	cr_assert(!strncmp(o, "{\"decision\":\"DENY\"", 18), "the certificate's tenant: %s", o);
	o = tt_sh(&rc, "curl -sS --cacert %s --cert %s/cli_a.pem --key %s/cli_a.key "
	          "'https://localhost:%d/v1/check?id=" DENY_ID "&channel=hotel&class=3'", ca,
	          tu_dir, tu_dir, tp);
	cr_assert_str_eq(o, "{\"error\":\"NOPERM tenant 'certair' may not ask about channel "
	                 "'hotel'\"}", "its channels apply");
	o = tt_sh(&rc, "curl -sS -o /dev/null -w '%%{http_code}' --cacert %s --cert %s/cli_a.pem "
	          "--key %s/cli_a.key -u ops:ops-secret 'https://localhost:%d/v1/listed?id="
	          DENY_ID "'", ca, tu_dir, tu_dir, tp);
	cr_assert_str_eq(o, "403", "another tenant on a certificate's connection: %s", o);
	o = tt_sh(&rc, "curl -sS -o /dev/null -w '%%{http_code}' --cacert %s "
	          "'https://localhost:%d/v1/check?id=" DENY_ID "&channel=air'", ca, tp);
	cr_assert_str_eq(o, "401", "no certificate, no header: %s", o);
}
