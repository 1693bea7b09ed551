/*
 * test_server_status.c - the operators' status page, GET / and GET
 * /v1/stats (issue 18), from a running server:
 *
 *   - the page is HTML with the snapshot's generation and record count,
 *     a chart, its inline script and style allowed by the CSP's SHA-256
 *     hashes (checked against the body), nothing loaded from elsewhere;
 *     /v1/stats is JSON that parses, with the same numbers;
 *   - lookups show in the series: exactly the CHECKs made, by outcome;
 *   - a value with HTML in it (a failed RELOAD's path) is escaped;
 *   - a replica following a Redis stream shows the feed connected, the
 *     update it applied in force, then the feed disconnected when Redis
 *     stops; the feed's password is never on the page;
 *   - who may look: with tenants, no credentials 401, a tenant with
 *     neither flag 403, an admin 200 with paths and error texts, a
 *     metrics tenant 200 without them;
 *   - in a real browser (headless Chromium, tests/helpers/browser.py):
 *     the DOM has the generation and the record count, the script
 *     refreshed from /v1/stats, and after a burst of lookups the chart's
 *     data has grown; no JavaScript error; a screenshot is not blank; with
 *     tenants, an admin's page (credentials in the URL) refreshes too.
 *     Skipped, saying so, where Chromium is not installed.
 */
#include <openssl/evp.h>

#include "helpers/srvtest.h"     /* (also: make test-tsan picks tests by it) */
#include "helpers/httptest.h"
#include "helpers/feedtest.h"

static long long snap_records(st_server *s)
{
	st_conn *c = st_connect(s->resp_port);
	long long n = st_info_num(c, "snapshot_records");
	st_close(c);
	return n;
}

/* The value of a header (static buffer), or NULL. */
static const char *header(const char *head, const char *name)
{
	static char v[1024];
	char pat[128];
	snprintf(pat, sizeof pat, "\r\n%s:", name);
	const char *p = strcasestr(head, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	snprintf(v, sizeof v, "%.*s", (int)strcspn(p, "\r\n"), p);
	return v;
}

/* 'sha256-BASE64' of the text between open and close in body. */
static void inline_hash(const char *body, const char *open, const char *close,
                        char *out, size_t cap)
{
	const char *a = strstr(body, open);
	cr_assert_not_null(a, "no %s in the page", open);
	a += strlen(open);
	const char *b = strstr(a, close);
	cr_assert_not_null(b, "no %s in the page", close);
	unsigned char md[EVP_MAX_MD_SIZE], enc[64];
	unsigned len = 0;
	cr_assert(EVP_Digest(a, (size_t)(b - a), md, &len, EVP_sha256(), NULL));
	EVP_EncodeBlock(enc, md, (int)len);
	snprintf(out, cap, "'sha256-%s'", enc);
}

/* body parses as JSON (python3's json module). */
static void assert_json(const char *body)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/stats.json", tu_dir);
	tu_write_str(path, body);
	int st;
	char *out = tu_run(&st, "/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "
	                   "%s 2>&1", path);
	cr_assert_eq(st, 0, "/v1/stats is not JSON: %s\n%s", out, body);
	free(out);
}

/* The number after "key": in JSON text at or after from; -1 if absent. */
static long long json_num(const char *text, const char *key)
{
	char pat[128];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(text, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* The totals of the series ("total":{...}) of a /v1/stats body. */
static long long total_of(const char *json, const char *key)
{
	const char *t = strstr(json, "\"total\":{");
	cr_assert_not_null(t, "no totals in %s", json);
	return json_num(t, key);
}

ST_TEST(status, page_and_json_show_the_snapshot)
{
	int hp;
	st_server *s = ht_start(&hp);
	long long records = snap_records(s);
	cr_assert_gt(records, 0);

	ht_resp r = ht_get(hp, "/");
	cr_assert_eq(r.status, 200, "%d %s", r.status, r.body);
	cr_assert_str_eq(header(r.head, "Content-Type"), "text/html; charset=utf-8");
	char want[128], hs[128], hc[128];
	snprintf(want, sizeof want, "id=\"records\" class=\"\">%lld</td>", records);
	cr_assert_not_null(strstr(r.body, want), "no %s in the page:\n%s", want, r.body);
	cr_assert_not_null(strstr(r.body, "id=\"generation\" class=\"\">1</td>"));
	cr_assert_not_null(strstr(r.body, "<svg id=\"chart\""));
	cr_assert_not_null(strstr(r.body, "id=\"line-lookups\""));
	cr_assert_not_null(strstr(r.body, "Noto Sans CJK SC"), "no CJK font in the stack");
	/* nothing from elsewhere: no src=, no external href */
	cr_assert_null(strstr(r.body, "src="), "the page loads something");
	cr_assert_null(strstr(r.body, "http://"));
	cr_assert_null(strstr(r.body, "https://"));
	const char *csp = header(r.head, "Content-Security-Policy");
	cr_assert_not_null(csp, "no CSP:\n%s", r.head);
	cr_assert_not_null(strstr(csp, "default-src 'none'"), "%s", csp);
	cr_assert_not_null(strstr(csp, "connect-src 'self'"), "%s", csp);
	cr_assert_null(strstr(csp, "unsafe"), "%s", csp);
	inline_hash(r.body, "<script>", "</script>", hs, sizeof hs);
	inline_hash(r.body, "<style>", "</style>", hc, sizeof hc);
	cr_assert_not_null(strstr(csp, hs), "the script's hash %s is not in %s", hs, csp);
	cr_assert_not_null(strstr(csp, hc), "the style's hash %s is not in %s", hc, csp);
	ht_free(&r);

	r = ht_get(hp, "/v1/stats");
	cr_assert_eq(r.status, 200, "%d %s", r.status, r.body);
	cr_assert_str_eq(header(r.head, "Content-Type"), "application/json");
	assert_json(r.body);
	cr_assert_eq(json_num(r.body, "generation"), 1);
	cr_assert_eq(json_num(r.body, "records"), records);
	cr_assert_not_null(strstr(r.body, "\"tls\":false,\"tenants\":false,\"feedback\":null"),
	                   "%s", r.body);
	cr_assert_not_null(strstr(r.body, "\"live_updates\":\"off\""), "%s", r.body);
	ht_free(&r);

	/* HEAD: the headers only; other methods: 405; other paths: 404 */
	r = ht_ask(hp, "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	cr_assert_eq(r.status, 200);
	cr_assert_gt(strtoll(header(r.head, "Content-Length"), NULL, 10), 1000);
	ht_free(&r);
	r = ht_ask(hp, "POST /v1/stats HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
	           "Connection: close\r\n\r\n");
	cr_assert_eq(r.status, 405);
	ht_free(&r);
	r = ht_get(hp, "/v1/nothing");
	cr_assert_eq(r.status, 404);
	ht_free(&r);
}

ST_TEST(status, lookups_show_in_the_series_by_outcome)
{
	int hp;
	st_server *s = ht_start(&hp);
	ht_resp r = ht_get(hp, "/v1/stats");      /* a sample now: the baseline */
	cr_assert_eq(r.status, 200);
	long long l0 = total_of(r.body, "lookups"), d0 = total_of(r.body, "listed");
	long long n0 = total_of(r.body, "not_listed"), e0 = total_of(r.body, "errors");
	ht_free(&r);

	st_conn *c = st_connect(s->resp_port);
	for (int i = 0; i < 50; i++)
		st_cmd(c, "CHECK " ST_DENY_ID " air " ST_AT);
	for (int i = 0; i < 30; i++)
		st_cmd(c, "CHECK " ST_FREE_ID " air " ST_AT);
	for (int i = 0; i < 7; i++)
		st_cmd(c, "CHECK 12345 air " ST_AT);
	for (int i = 0; i < 87; i++)
		free(st_reply(c));
	st_close(c);
	st_sleep_ms(1100);                         /* the next second's sample */

	r = ht_get(hp, "/v1/stats");
	assert_json(r.body);
	cr_assert_eq(total_of(r.body, "lookups") - l0, 80, "%s", r.body);
	cr_assert_eq(total_of(r.body, "listed") - d0, 50, "%s", r.body);
	cr_assert_eq(total_of(r.body, "not_listed") - n0, 30, "%s", r.body);
	cr_assert_eq(total_of(r.body, "errors") - e0, 7, "%s", r.body);
	const char *t = strstr(r.body, "\"t\":[");
	cr_assert(t && t[5] != ']', "no points in the series: %s", r.body);
	ht_free(&r);

	r = ht_get(hp, "/");
	long long w = 0;
	const char *p = strstr(r.body, "id=\"window_lookups\" class=\"\">");
	cr_assert_not_null(p, "%s", r.body);
	w = strtoll(strchr(p, '>') + 1, NULL, 10);
	cr_assert_geq(w, 80);
	ht_free(&r);
}

ST_TEST(status, values_are_escaped)
{
	int hp;
	st_server *s = ht_start(&hp);
	st_conn *c = st_connect(s->resp_port);
	const char *rep = st_ask(c, "RELOAD /nonexistent/<script>alert(1)</script>&'\".snap");
	cr_assert_eq(rep[0], '-', "RELOAD of a missing file: %s", rep);
	st_close(c);

	ht_resp r = ht_get(hp, "/");
	cr_assert_eq(r.status, 200);
	cr_assert_null(strstr(r.body, "<script>alert"), "not escaped:\n%s", r.body);
	cr_assert_not_null(strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;&quot;"),
	                   "the failed reload is not shown escaped:\n%s", r.body);
	cr_assert_not_null(strstr(r.body, "id=\"reload_result\" class=\"bad\">failed: "));
	ht_free(&r);
	r = ht_get(hp, "/v1/stats");
	assert_json(r.body);
	cr_assert_not_null(strstr(r.body, "\"result\":\"failed\""), "%s", r.body);
	cr_assert_not_null(strstr(r.body, "<script>alert(1)</script>&'\\\".snap"), "%s", r.body);
	ht_free(&r);
}

/* The text of the element with id in a page (static buffer). */
static const char *cell(const char *page, const char *id)
{
	static char v[1024];
	char pat[96];
	snprintf(pat, sizeof pat, "id=\"%s\"", id);
	const char *p = strstr(page, pat);
	cr_assert_not_null(p, "no %s on the page:\n%s", id, page);
	p = strchr(p + strlen(pat), '>') + 1;
	snprintf(v, sizeof v, "%.*s", (int)strcspn(p, "<"), p);
	return v;
}

ST_TEST(status, a_replica_shows_its_feed)
{
	if (!ft_have_redis()) {
		st_teardown();
		cr_skip_test("skipped: redis-server not installed: the feed on the page is not tested");
	}
	int rport = st_free_port(), hp;
	char rp[16], url[128], jrn[PATH_MAX + 64];
	snprintf(rp, sizeof rp, "%d", rport);
	ft_redis_start(rport, "--port", rp, "--requirepass", "hunter2-secret");
	snprintf(url, sizeof url, "redis://:hunter2-secret@127.0.0.1:%d/sxgate:updates", rport);
	snprintf(jrn, sizeof jrn, "%s/replica.jrn", tu_dir);
	ht_start(&hp, "--journal", jrn, "--updates-from", url, "--max-lag", "5");
	char body[1024];
	cr_assert_eq(ft_wait_health(hp, 200, 5000, body, sizeof body), 200, "%s", body);

	st_conn *rc = st_connect(rport);
	cr_assert_str_eq(st_ask(rc, "AUTH hunter2-secret"), "+OK");
	const char *id = st_ask(rc, "XADD sxgate:updates * op LIST.REMOVE case_no "
	                        "（2023）闽05执1001号 id_type RIC id_no " ST_DENY_ID);
	cr_assert(strchr(id, '-') && id[0] != '-', "XADD: %s", id);
	st_close(rc);
	ht_resp r = { 0 };
	for (int t = 0; t < 300; t++) {       /* applied within 3 s */
		ht_free(&r);
		r = ht_get(hp, "/v1/stats");
		if (json_num(r.body, "updates_in_force") == 1)
			break;
		st_sleep_ms(10);
	}
	assert_json(r.body);
	cr_assert_eq(json_num(r.body, "updates_in_force"), 1, "%s", r.body);
	cr_assert_not_null(strstr(r.body, "\"live_updates\":\"following\""), "%s", r.body);
	cr_assert_not_null(strstr(r.body, "\"feed\":{\"connected\":true"), "%s", r.body);
	cr_assert_eq(json_num(r.body, "applied"), 1, "%s", r.body);
	ht_free(&r);
	r = ht_get(hp, "/");
	cr_assert_str_eq(cell(r.body, "updates_in_force"), "1");
	cr_assert_str_eq(cell(r.body, "live_mode"), "on, following the update stream");
	cr_assert_not_null(strstr(r.body, "id=\"feed\" class=\"ok\">connected"), "%s", r.body);
	cr_assert_null(strstr(r.body, "hunter2"), "the feed's password is on the page");
	ht_free(&r);

	ft_redis_stop_all();
	for (int t = 0; t < 500; t++) {        /* noticed within 5 s */
		ht_free(&r);
		r = ht_get(hp, "/");
		if (strstr(r.body, "id=\"feed\" class=\"bad\">disconnected"))
			break;
		st_sleep_ms(10);
	}
	cr_assert_not_null(strstr(r.body, "id=\"feed\" class=\"bad\">disconnected"), "%s", r.body);
	cr_assert_not_null(strstr(r.body, "id=\"health\" class=\"bad\">unavailable: "), "%s",
	                   r.body);
	ht_free(&r);
	r = ht_get(hp, "/v1/stats");
	cr_assert_not_null(strstr(r.body, "\"healthy\":false"), "%s", r.body);
	cr_assert_null(strstr(r.body, "hunter2"), "the feed's password is in /v1/stats");
	ht_free(&r);
}

/* ---- who may look ----------------------------------------------------------- */

static char tenants_path[PATH_MAX + 64];

static void write_tenants(void)
{
	char h1[256], h2[256], h3[256], text[2048];
	st_hash("prom-secret", h1, sizeof h1);
	st_hash("ops-secret", h2, sizeof h2);
	st_hash("hotel-secret", h3, sizeof h3);
	snprintf(text, sizeof text, "prom:%s:*:metrics\nops:%s:*:admin,listed\n"
	         "hotel:%s:hotel:-\n", h1, h2, h3);
	snprintf(tenants_path, sizeof tenants_path, "%s/tenants.txt", tu_dir);
	tu_write_private(tenants_path, text);
}

static ht_resp get_as(int port, const char *path, const char *bearer)
{
	char req[1024];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n%s%s%sConnection: close\r\n\r\n",
	         path, bearer ? "Authorization: Bearer " : "", bearer ? bearer : "",
	         bearer ? "\r\n" : "");
	return ht_ask(port, req);
}

ST_TEST(status, admin_or_metrics_tenants_only)
{
	write_tenants();
	int hp;
	ht_start(&hp, "--tenants", tenants_path);      /* loopback: /metrics is open */
	static const char *const paths[] = { "/", "/v1/stats" };
	for (int i = 0; i < 2; i++) {
		const char *p = paths[i];
		ht_resp r = get_as(hp, p, NULL);
		cr_assert_eq(r.status, 401, "%s anonymous: %d %s", p, r.status, r.body);
		cr_assert_not_null(strstr(r.head, "WWW-Authenticate: Basic realm=\"sxgated\""));
		cr_assert_null(strstr(r.body, "generation"), "%s", r.body);
		ht_free(&r);
		r = get_as(hp, p, "prom:wrong");
		cr_assert_eq(r.status, 401, "%s wrong secret: %d", p, r.status);
		ht_free(&r);
		r = get_as(hp, p, "hotel:hotel-secret");
		cr_assert_eq(r.status, 403, "%s hotel: %d %s", p, r.status, r.body);
		char want[160];
		snprintf(want, sizeof want, "tenant 'hotel' may not read %s (needs the metrics "
		         "flag or admin)\n", p);
		cr_assert_str_eq(r.body, want);
		ht_free(&r);
		r = get_as(hp, p, "ops:ops-secret");
		cr_assert_eq(r.status, 200, "%s admin: %d %s", p, r.status, r.body);
		cr_assert_not_null(strstr(r.body, "snapshot_path"), "the admin sees the path");
		cr_assert_not_null(strstr(r.body, "sample.snap"), "the admin sees the path");
		ht_free(&r);
		r = get_as(hp, p, "prom:prom-secret");
		cr_assert_eq(r.status, 200, "%s metrics: %d %s", p, r.status, r.body);
		cr_assert_null(strstr(r.body, "snapshot_path"), "a metrics tenant sees a path");
		cr_assert_null(strstr(r.body, "sample.snap"), "a metrics tenant sees a path");
		cr_assert_not_null(strstr(r.body, "generation"));
		ht_free(&r);
	}
	/* /metrics keeps its own rule (open on loopback), /health stays open */
	ht_resp r = get_as(hp, "/metrics", NULL);
	cr_assert_eq(r.status, 200);
	ht_free(&r);
	r = get_as(hp, "/health", NULL);
	cr_assert_eq(r.status, 200);
	ht_free(&r);
}

/* ---- in a real browser -------------------------------------------------------- */

/* browser.py CMD ARGS; its stdout (malloc'd), *rc its exit status; 77
 * (no Chromium) skips the test, 3 (JavaScript errors) fails it. */
static char *browser(int *rc, const char *args)
{
	char *out = tu_run(rc, "/usr/bin/python3 %s/tests/helpers/browser.py %s 2>%s/browser.err",
	                   tu_repo_root(), args, tu_dir);
	char errp[PATH_MAX + 32];
	static char err[8192];
	snprintf(errp, sizeof errp, "%s/browser.err", tu_dir);
	size_t n;
	char *e = tu_read(errp, &n);
	snprintf(err, sizeof err, "%s", e ? e : "");
	free(e);
	if (*rc != 0)
		free(out);            /* the assertions below do not return */
	if (*rc == 77)
		cr_skip_test("skipped: chromium not installed (Debian package chromium)");
	cr_assert_neq(*rc, 3, "JavaScript errors in the status page:\n%s", err);
	cr_assert_eq(*rc, 0, "browser.py %s: exit %d\n%s", args, *rc, err);
	return out;
}

static long long dom_attr(const char *dom, const char *attr)
{
	const char *svg = strstr(dom, "<svg id=\"chart\"");
	cr_assert_not_null(svg, "no chart in the DOM:\n%s", dom);
	char pat[64];
	snprintf(pat, sizeof pat, "%s=\"", attr);
	const char *p = strstr(svg, pat);
	cr_assert(p && p < strchr(svg, '>'), "no %s on the chart", attr);
	return strtoll(p + strlen(pat), NULL, 10);
}

Test(status_browser, page_in_chromium_refreshes_and_grows, .init = st_setup_epoll,
     .fini = st_teardown, .timeout = 240)
{
	int hp, rc;
	st_server *s = ht_start(&hp);
	long long records = snap_records(s);
	char args[PATH_MAX + 128], want[128];

	snprintf(args, sizeof args, "dom http://127.0.0.1:%d/ --wait 3000", hp);
	char *dom = browser(&rc, args);
	snprintf(want, sizeof want, "id=\"records\" class=\"\">%lld<", records);
	cr_assert_not_null(strstr(dom, want), "no record count %lld in the DOM:\n%s", records, dom);
	cr_assert_not_null(strstr(dom, "id=\"generation\" class=\"\">1<"), "%s", dom);
	cr_assert_geq(dom_attr(dom, "data-refreshes"), 1, "the script never refreshed");
	long long before = dom_attr(dom, "data-lookups");
	free(dom);

	/* a burst of lookups, pipelined */
	st_conn *c = st_connect(s->resp_port);
	enum { BURST = 2000 };
	for (int i = 0; i < BURST; i++)
		st_cmd(c, i % 3 ? "CHECK " ST_FREE_ID " rail G1234:second " ST_AT :
		       "CHECK " ST_DENY_ID " rail G1234:second " ST_AT);
	for (int i = 0; i < BURST; i++)
		free(st_reply(c));
	st_close(c);
	st_sleep_ms(1100);

	dom = browser(&rc, args);
	cr_assert_geq(dom_attr(dom, "data-refreshes"), 1, "the script never refreshed");
	long long after = dom_attr(dom, "data-lookups");
	cr_assert_geq(after, before + BURST, "the chart's lookups went from %lld to %lld "
	              "after %d lookups", before, after, BURST);
	cr_assert_gt(dom_attr(dom, "data-points"), 0);
	const char *line = strstr(dom, "id=\"line-lookups\"");
	cr_assert_not_null(line);
	free(dom);

	char png[PATH_MAX + 32];
	snprintf(png, sizeof png, "%s/status.png", tu_dir);
	snprintf(args, sizeof args, "shot http://127.0.0.1:%d/ %s --wait 3000", hp, png);
	free(browser(&rc, args));
	snprintf(args, sizeof args, "png-stats %s", png);
	char *stats = browser(&rc, args);
	const char *d = strstr(stats, "dominant=");
	cr_assert_not_null(d, "%s", stats);
	cr_assert_lt(strtod(d + 9, NULL), 0.95, "the screenshot is nearly blank: %s", stats);
	free(stats);
}

/* With tenants the browser logs in (here by credentials in the URL, which
 * the page's script must leave out of its fetch) and keeps refreshing. */
Test(status_browser, page_in_chromium_with_an_admin_tenant, .init = st_setup_epoll,
     .fini = st_teardown, .timeout = 240)
{
	write_tenants();
	int hp, rc;
	ht_start(&hp, "--tenants", tenants_path);
	char args[256];
	snprintf(args, sizeof args, "dom http://ops:ops-secret@127.0.0.1:%d/ --wait 3000", hp);
	char *dom = browser(&rc, args);
	cr_assert_str_eq(cell(dom, "generation"), "1");
	cr_assert_geq(dom_attr(dom, "data-refreshes"), 1, "the script did not refresh:\n%s", dom);
	cr_assert_str_eq(cell(dom, "err"), "", "%s", dom);
	free(dom);
}
