/*
 * test_server_privilege.c - least privilege between tenants (issue 14):
 *
 *   - INFO as a tenant that is not admin, over RESP and over the binary
 *     protocol's EXEC, shows the snapshot's generation, as-of, build time
 *     and counts, and the memory, and none of: the snapshot, journal and
 *     feedback paths, the PID, the ports, the --updates-from URL, the last
 *     reload's error text; an admin tenant still sees every one of them;
 *   - max-batch: a tenant's MCHECK and binary CHECK/LISTED frames over its
 *     max-batch are refused with a clear error, the connection stays open,
 *     and the default (10 000) holds with and without tenants;
 *   - max-conns: AUTH beyond it (answered at once or after the hash check)
 *     is refused and leaves the connection as it was; a close, or an AUTH
 *     as another tenant, gives the place back; a client certificate beyond
 *     it is told and closed;
 *   - every refusal is counted in INFO and /metrics.
 */
#include "helpers/httptest.h"
#include "helpers/tlstest.h"

#define MAXCONNS_MSG "ERR max-conns reached: tenant 'pool' may have at most 2 " \
                     "connections at once"

static char tenants_path[PATH_MAX + 64];

/* hotel (not admin) and ops (admin), and with limits the tenants of the
 * max-batch and max-conns tests (an older server refuses their options,
 * so the INFO test does without them). */
static void write_tenants(int limits)
{
	char h1[256], h2[256], h3[256], h4[256], h5[256], text[4096];
	st_hash("hotel-secret", h1, sizeof h1);
	st_hash("ops secret", h2, sizeof h2);
	int n = snprintf(text, sizeof text,
	                 "hotel:%s:hotel,air:listed\n"
	                 "ops:%s:*:admin,listed\n", h1, h2);
	if (limits) {
		st_hash("small-secret", h3, sizeof h3);
		st_hash("pool-secret", h4, sizeof h4);
		st_hash("other-secret", h5, sizeof h5);
		snprintf(text + n, sizeof text - (size_t)n,
		         "small:%s:air:listed:max-batch=3\n"
		         "pool:%s:air:-:max-conns=2\n"
		         "other:%s:air:-\n", h3, h4, h5);
	}
	snprintf(tenants_path, sizeof tenants_path, "%s/tenants.txt", tu_dir);
	tu_write_private(tenants_path, text);
}

/* Does text hold v as a whole number (not part of a longer one)? */
static int has_number(const char *text, long long v)
{
	for (const char *p = text; *p;) {
		if (*p < '0' || *p > '9') {
			p++;
			continue;
		}
		char *end;
		long long n = strtoll(p, &end, 10);
		if (n == v)
			return 1;
		p = end;
	}
	return 0;
}

/* Nothing in a tenant's INFO text names a file, the process, an address
 * or an error. */
static void assert_no_leak(const char *info, const st_server *s, int http_port,
                           int feed_port, const char *how)
{
	cr_assert_null(strchr(info, '/'), "%s: a '/' (a path or URL) in a tenant's INFO:\n%s",
	               how, info);
	cr_assert_null(strstr(info, st_snap), "%s: the snapshot path:\n%s", how, info);
	cr_assert_null(strstr(info, tu_dir), "%s: the journal or feedback path:\n%s", how, info);
	cr_assert_null(strstr(info, "process_id"), "%s:\n%s", how, info);
	cr_assert(!has_number(info, s->pid), "%s: the PID %d:\n%s", how, (int)s->pid, info);
	cr_assert(!has_number(info, s->resp_port) && !has_number(info, s->bin_port) &&
	          !has_number(info, http_port), "%s: a port:\n%s", how, info);
	cr_assert(!has_number(info, feed_port), "%s: the feed's port:\n%s", how, info);
	cr_assert_null(strstr(info, "redis:"), "%s: the --updates-from URL:\n%s", how, info);
	cr_assert_null(strstr(info, "127.0.0.1"), "%s: an address:\n%s", how, info);
	cr_assert_null(strstr(info, "error"), "%s: an error field:\n%s", how, info);
	cr_assert_null(strstr(info, "not-a-snapshot"), "%s: the reload's error text:\n%s",
	               how, info);
	cr_assert_null(strstr(info, "journal"), "%s:\n%s", how, info);
	cr_assert_null(strstr(info, "feedback"), "%s:\n%s", how, info);
	cr_assert_null(strstr(info, "cmdstat_"), "%s: other tenants' traffic:\n%s", how, info);
	cr_assert_null(strstr(info, "connected_clients"), "%s:\n%s", how, info);
}

/* The whole INFO a tenant that is not admin gets: what it may see is there,
 * and nothing else. */
static void assert_tenant_view(const char *info, const st_server *s, int http_port,
                               int feed_port, const char *how)
{
	char v[256];
	assert_no_leak(info, s, http_port, feed_port, how);
	cr_assert_str_eq(st_info_get(info, "snapshot_generation", v, sizeof v), "1", "%s", how);
	cr_assert_not_null(st_info_get(info, "snapshot_as_of", v, sizeof v), "%s", how);
	cr_assert_not_null(st_info_get(info, "snapshot_built_at", v, sizeof v), "%s", how);
	cr_assert(atoll(st_info_get(info, "snapshot_records", v, sizeof v)) > 0, "%s", how);
	cr_assert(atoll(st_info_get(info, "snapshot_ids", v, sizeof v)) > 0, "%s", how);
	cr_assert(atoll(st_info_get(info, "used_memory_rss", v, sizeof v)) > 0, "%s", how);
	cr_assert(atoll(st_info_get(info, "snapshot_mapped_bytes", v, sizeof v)) > 0, "%s", how);
	cr_assert_not_null(strstr(info, "info_view:tenant"), "%s:\n%s", how, info);
}

static st_out out;

static st_frame bin_send(st_conn *c)
{
	st_send(c, out.b, out.n);
	out.n = 0;
	st_frame f;
	cr_assert_eq(st_frame_read(c, &f), 0, "the connection closed");
	return f;
}

static st_frame bin_auth(st_conn *c, uint32_t req, const char *tenant, const char *secret)
{
	size_t h = st_frame_begin(&out, SXB_OP_AUTH, 0, req);
	st_putstr8(&out, tenant);
	st_putstr8(&out, secret);
	st_frame_end(&out, h);
	st_frame f = bin_send(c);
	cr_assert_eq(f.req, req);
	return f;
}

/* One RESP command over EXEC; the RESP reply body as text (malloc'd). */
static char *bin_exec(st_conn *c, uint32_t req, const char *const *words, unsigned n)
{
	size_t h = st_frame_begin(&out, SXB_OP_EXEC, n, req);
	for (unsigned i = 0; i < n; i++) {
		size_t len = strlen(words[i]);
		st_put16(&out, (unsigned)len);
		memcpy(out.b + out.n, words[i], len);
		out.n += len;
	}
	st_frame_end(&out, h);
	st_frame f = bin_send(c);
	cr_assert_eq(f.op, SXB_OP_EXEC_REPLY, "EXEC answered with op 0x%02x", f.op);
	char *r = st_reply_from(f.body, f.len);
	cr_assert_not_null(r);
	return r;
}

ST_TEST(privilege, info_shows_a_tenant_no_paths_pid_ports_urls_or_errors)
{
	write_tenants(0);
	char journal[PATH_MAX + 64], feedback[PATH_MAX + 64], url[128], bad[PATH_MAX + 64];
	snprintf(journal, sizeof journal, "%s/journal", tu_dir);
	snprintf(feedback, sizeof feedback, "%s/feedback", tu_dir);
	int feed_port = st_free_port();      /* nobody listens: the follower retries */
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/sxgate:updates", feed_port);
	snprintf(bad, sizeof bad, "%s/not-a-snapshot", tu_dir);
	tu_write_str(bad, "this is not a snapshot\n");
	int hp;
	st_server *s = ht_start(&hp, "--tenants", tenants_path, "--journal", journal,
	                        "--feedback", feedback, "--updates-from", url);

	/* an admin's failed RELOAD leaves an error text (with its path) */
	st_conn *ops = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask_inline(ops, "AUTH ops \"ops secret\""), "+OK");
	const char *r = st_askf(ops, "RELOAD %s", bad);
	cr_assert(!strncmp(r, "-ERR reload failed", 18), "%s", r);

	/* the admin sees everything */
	char v[PATH_MAX + 64];
	const char *info = st_ask(ops, "INFO");
	cr_assert_eq(atoll(st_info_get(info, "process_id", v, sizeof v)), s->pid, "%s", info);
	cr_assert_str_eq(st_info_get(info, "snapshot_path", v, sizeof v), st_snap);
	cr_assert_str_eq(st_info_get(info, "journal", v, sizeof v), journal);
	cr_assert_str_eq(st_info_get(info, "feedback", v, sizeof v), feedback);
	cr_assert_str_eq(st_info_get(info, "updates_from", v, sizeof v), url);
	cr_assert_eq(atoi(st_info_get(info, "tcp_port_resp", v, sizeof v)), s->resp_port);
	cr_assert_eq(atoi(st_info_get(info, "http_port", v, sizeof v)), hp);
	cr_assert(strstr(st_info_get(info, "last_reload_error", v, sizeof v), bad), "%s", v);
	cr_assert_not_null(strstr(info, "cmdstat_reload:calls=1"), "%s", info);

	/* a tenant that is not admin, over RESP */
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "AUTH hotel hotel-secret"), "+OK");
	info = st_ask(c, "INFO");
	assert_tenant_view(info, s, hp, feed_port, "RESP INFO");
	for (const char *sec = "all\0everything\0default\0server\0snapshot\0memory\0"
	                       "server snapshot memory stats clients latency live\0"; *sec;
	     sec += strlen(sec) + 1) {
		info = st_askf(c, "INFO %s", sec);
		cr_assert(info[0], "INFO %s gave nothing", sec);
		assert_no_leak(info, s, hp, feed_port, sec);
	}
	cr_assert_not_null(strstr(st_ask(c, "INFO server"), "uptime_in_seconds:"));
	/* an admin's sections give a tenant nothing, as an unknown one does */
	cr_assert_str_eq(st_ask(c, "INFO stats"), "");
	cr_assert_str_eq(st_ask(c, "INFO live"), "");
	cr_assert_str_eq(st_ask(c, "INFO clients latency"), "");

	/* the same tenant over the binary protocol's EXEC */
	st_conn *b = st_connect(s->bin_port);
	st_bin_hello(b, 1);
	st_frame f = bin_auth(b, 2, "hotel", "hotel-secret");
	cr_assert_eq(f.op, SXB_OP_AUTH_REPLY);
	char *bi = bin_exec(b, 3, (const char *[]){ "INFO" }, 1);
	assert_tenant_view(bi, s, hp, feed_port, "binary EXEC INFO");
	free(bi);
	/* and an admin over EXEC sees the PID */
	f = bin_auth(b, 4, "ops", "ops secret");
	cr_assert_eq(f.op, SXB_OP_AUTH_REPLY);
	bi = bin_exec(b, 5, (const char *[]){ "INFO", "server" }, 2);
	cr_assert_eq(atoll(st_info_get(bi, "process_id", v, sizeof v)), s->pid, "%s", bi);
	free(bi);
	st_close(b);
	st_close(c);
	st_close(ops);
}

/* An MCHECK of n IDs (ST_FREE_ID: small replies) as one RESP request. */
static void mcheck_n(st_conn *c, unsigned n)
{
	size_t cap = 64 + (size_t)n * 32, len = 0;
	char *w = malloc(cap);
	len += (size_t)snprintf(w, cap, "*%u\r\n$6\r\nMCHECK\r\n$3\r\nair\r\n$1\r\n-\r\n", n + 3);
	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(w + len, cap - len, "$%zu\r\n%s\r\n", strlen(ST_FREE_ID),
		                        ST_FREE_ID);
	st_send(c, w, len);
	free(w);
}

/* The reply to mcheck_n: the number of elements, or -1 with the error in
 * err. */
static long mcheck_reply(st_conn *c, char *err, size_t cap)
{
	char *r = st_reply(c);
	cr_assert_not_null(r, "the connection closed");
	long n = -1;
	if (r[0] == '[') {
		n = 1;
		for (const char *p = r; (p = strstr(p, "], [")); p++)
			n++;
	} else {
		snprintf(err, cap, "%s", r);
	}
	free(r);
	return n;
}

static void bin_check_n(const char *const *ids, unsigned n, unsigned op, uint32_t req)
{
	st_bin_query(&out, op, req, "air", "", "", "2026-01-10", ids, n);
}

ST_TEST(privilege, a_batch_over_the_tenants_max_batch_is_refused)
{
	write_tenants(1);
	int hp;
	st_server *s = ht_start(&hp, "--tenants", tenants_path);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "AUTH small small-secret"), "+OK");
	char err[256] = "";
	mcheck_n(c, 3);
	cr_assert_eq(mcheck_reply(c, err, sizeof err), 3, "%s", err);
	mcheck_n(c, 4);
	cr_assert_eq(mcheck_reply(c, err, sizeof err), -1);
	cr_assert_str_eq(err, "-ERR max-batch exceeded: 4 IDs in one batch; tenant 'small' "
	                 "may send at most 3");
	cr_assert_str_eq(st_ask(c, "PING"), "+PONG", "the connection stays open");
	cr_assert(!strncmp(st_ask(c, "MCHECK air - " ST_AT " " ST_DENY_ID), "[[DENY", 6));

	/* binary: CHECK and LISTED frames, ERROR for that request only */
	st_conn *b = st_connect(s->bin_port);
	st_bin_hello(b, 1);
	cr_assert_eq(bin_auth(b, 1, "small", "small-secret").op, SXB_OP_AUTH_REPLY);
	const char *ids[4] = { ST_DENY_ID, ST_FREE_ID, ST_DENY_ID, ST_FREE_ID };
	bin_check_n(ids, 3, SXB_OP_CHECK, 2);
	st_frame f = bin_send(b);
	cr_assert_eq(f.op, SXB_OP_CHECK_REPLY, "%s", f.op == SXB_OP_ERROR ? st_bin_error_text(&f) : "");
	cr_assert_eq(f.count, 3);
	bin_check_n(ids, 4, SXB_OP_CHECK, 3);
	f = bin_send(b);
	cr_assert_eq(f.req, 3);
	cr_assert_str_eq(st_bin_error_text(&f), "ERR max-batch exceeded: 4 IDs in one batch; "
	                 "tenant 'small' may send at most 3");
	bin_check_n(ids, 4, SXB_OP_LISTED, 4);
	f = bin_send(b);
	cr_assert_str_eq(st_bin_error_text(&f), "ERR max-batch exceeded: 4 IDs in one batch; "
	                 "tenant 'small' may send at most 3");
	bin_check_n(ids, 1, SXB_OP_CHECK, 5);
	f = bin_send(b);
	cr_assert_eq(f.op, SXB_OP_CHECK_REPLY, "the connection stays open");
	st_close(b);

	/* a tenant without max-batch: the default, 10 000 */
	cr_assert_str_eq(st_ask(c, "AUTH hotel hotel-secret"), "+OK");
	mcheck_n(c, 10000);
	cr_assert_eq(mcheck_reply(c, err, sizeof err), 10000, "%s", err);
	mcheck_n(c, 10001);
	cr_assert_eq(mcheck_reply(c, err, sizeof err), -1);
	cr_assert_str_eq(err, "-ERR max-batch exceeded: 10001 IDs in one batch; tenant "
	                 "'hotel' may send at most 10000");

	/* counted, in INFO and /metrics */
	st_conn *ops = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask_inline(ops, "AUTH ops \"ops secret\""), "+OK");
	cr_assert_eq(st_info_num(ops, "max_batch_refusals"), 4);
	ht_resp m = ht_get(hp, "/metrics");
	cr_assert_eq(m.status, 200);
	cr_assert_eq(ht_series(m.body, "sxgate_tenant_limit_refusals_total{limit=\"max_batch\"}"),
	             4, "%s", m.body);
	ht_free(&m);
	st_close(ops);
	st_close(c);
}

ST_TEST(privilege, without_tenants_the_default_max_batch_holds)
{
	st_server *s = st_start(st_snap);
	st_conn *c = st_connect(s->resp_port);
	char err[256] = "";
	mcheck_n(c, 10000);
	cr_assert_eq(mcheck_reply(c, err, sizeof err), 10000, "%s", err);
	mcheck_n(c, 10001);
	cr_assert_eq(mcheck_reply(c, err, sizeof err), -1);
	cr_assert_str_eq(err, "-ERR max-batch exceeded: 10001 IDs in one batch; at most 10000");
	cr_assert_eq(st_info_num(c, "max_batch_refusals"), 1);
	st_close(c);
}

/* AUTH as pool on c (RESP); the reply. */
static const char *auth_pool(st_conn *c)
{
	return st_ask(c, "AUTH pool pool-secret");
}

ST_TEST(privilege, max_conns_is_enforced_and_released_on_close)
{
	write_tenants(1);
	int hp;
	st_server *s = ht_start(&hp, "--tenants", tenants_path);

	/* three connections AUTH at once, before the secret is cached: the
	 * hash checks run on the verify threads and the third is refused
	 * when its answer comes back */
	st_conn *c[3];
	for (int i = 0; i < 3; i++)
		c[i] = st_connect(s->resp_port);
	for (int i = 0; i < 3; i++)
		st_cmd(c[i], "AUTH pool pool-secret");
	int ok = 0, refused = -1;
	for (int i = 0; i < 3; i++) {
		char *r = st_reply(c[i]);
		cr_assert_not_null(r);
		if (!strcmp(r, "+OK"))
			ok++;
		else {
			cr_assert_str_eq(r, "-" MAXCONNS_MSG);
			refused = i;
		}
		free(r);
	}
	cr_assert_eq(ok, 2);
	cr_assert_geq(refused, 0);
	st_conn *out3 = c[refused];
	/* refused: still not authenticated, and open */
	cr_assert_str_eq(st_ask(out3, "CHECK " ST_DENY_ID " air"), "-NOAUTH Authentication required.");
	/* now cached: answered at once, refused the same */
	cr_assert_str_eq(auth_pool(out3), "-" MAXCONNS_MSG);
	/* binary too */
	st_conn *b = st_connect(s->bin_port);
	st_bin_hello(b, 1);
	st_frame f = bin_auth(b, 1, "pool", "pool-secret");
	cr_assert_str_eq(st_bin_error_text(&f), MAXCONNS_MSG);
	/* a refused AUTH keeps the tenant the connection had */
	cr_assert_str_eq(st_ask(out3, "AUTH other other-secret"), "+OK");
	cr_assert_str_eq(auth_pool(out3), "-" MAXCONNS_MSG);
	cr_assert(!strncmp(st_ask(out3, "CHECK " ST_DENY_ID " air " ST_AT), "[DENY", 5),
	          "still tenant other");
	/* AUTH again as pool on a pool connection: no new place needed */
	st_conn *in = c[refused == 0 ? 1 : 0], *in2 = c[refused == 2 ? 1 : 2];
	cr_assert_str_eq(auth_pool(in), "+OK");

	/* a close gives the place back (once the server has seen it) */
	st_close(in);
	const char *r = NULL;
	for (int t = 0; t < 100; t++) {
		f = bin_auth(b, 2, "pool", "pool-secret");
		if (f.op == SXB_OP_AUTH_REPLY)
			break;
		cr_assert_str_eq(st_bin_error_text(&f), MAXCONNS_MSG);
		st_sleep_ms(20);
	}
	cr_assert_eq(f.op, SXB_OP_AUTH_REPLY, "the closed connection's place was not freed");
	cr_assert_str_eq(auth_pool(out3), "-" MAXCONNS_MSG, "b and in2 hold both places");
	/* AUTH as another tenant gives the place back too */
	cr_assert_str_eq(st_ask(in2, "AUTH other other-secret"), "+OK");
	cr_assert_str_eq(auth_pool(out3), "+OK");
	/* QUIT closes and frees */
	cr_assert_str_eq(st_ask(out3, "QUIT"), "+OK");
	st_close(out3);
	for (int t = 0; t < 100 && strcmp((r = auth_pool(in2)), "+OK"); t++)
		st_sleep_ms(20);
	cr_assert_str_eq(r, "+OK", "after QUIT");

	st_conn *ops = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask_inline(ops, "AUTH ops \"ops secret\""), "+OK");
	long long n = st_info_num(ops, "max_conns_refusals");
	cr_assert_geq(n, 5, "refusals counted: %lld", n);
	ht_resp m = ht_get(hp, "/metrics");
	cr_assert_eq(ht_series(m.body, "sxgate_tenant_limit_refusals_total{limit=\"max_conns\"}"),
	             (double)n, "%s", m.body);
	ht_free(&m);
	st_close(ops);
	st_close(b);
	st_close(in2);
}

/* A client certificate bound to a tenant counts against its max-conns: the
 * one over it is told and closed; the place is back after a close. */
ST_TEST(privilege, a_client_certificate_over_max_conns_is_told_and_closed)
{
	tt_pki();
	char cert[PATH_MAX + 16], key[PATH_MAX + 16], ca[PATH_MAX + 16], text[1024];
	snprintf(cert, sizeof cert, "%s/srv.pem", tu_dir);
	snprintf(key, sizeof key, "%s/srv.key", tu_dir);
	snprintf(ca, sizeof ca, "%s/ca.pem", tu_dir);
	snprintf(text, sizeof text, "one:!:air:-:cert=%s max-conns=1\n",
	         tt_fingerprint(tu_dir, "cli_a"));
	snprintf(tenants_path, sizeof tenants_path, "%s/tenants.txt", tu_dir);
	tu_write_private(tenants_path, text);
	int tp = st_free_port();
	char tps[16];
	snprintf(tps, sizeof tps, "%d", tp);
	st_start(st_snap, "--tenants", tenants_path, "--tls-resp-port", tps, "--tls-cert", cert,
	         "--tls-key", key, "--tls-ca", ca, "--tls-client-auth", "optional");
	int rc;
	char certs[2 * PATH_MAX + 64];
	snprintf(certs, sizeof certs, "--cert %s/cli_a.pem --key %s/cli_a.key", tu_dir, tu_dir);
	/* one connection alone: tenant one */
	const char *t = tt_sh(&rc, "redis-cli --tls --cacert %s -p %d %s CHECK " ST_DENY_ID
	                      " air " ST_AT, ca, tp, certs);
	cr_assert(strstr(t, "DENY"), "%s", t);
	/* while one is held open, a second is told and closed */
	t = tt_sh(&rc, "( sleep 10 | timeout 3 openssl s_client -quiet -connect 127.0.0.1:%d -CAfile %s "
	          "-cert %s/cli_a.pem -key %s/cli_a.key >/dev/null 2>&1 & ) ; sleep 1; "
	          "redis-cli --tls --cacert %s -p %d %s PING", tp, ca, tu_dir, tu_dir, ca, tp,
	          certs);
	cr_assert(strstr(t, "ERR max-conns reached: tenant 'one' may have at most 1 "
	                 "connections at once"), "%s", t);
	/* once the first is gone, a new one gets in */
	st_sleep_ms(2500);
	t = tt_sh(&rc, "redis-cli --tls --cacert %s -p %d %s PING", ca, tp, certs);
	cr_assert(strstr(t, "PONG"), "%s", t);
}
