/*
 * test_server_tls.c - sxgated over TLS (server/tls.c), on both I/O
 * backends, driven by real TLS clients: redis-cli --tls, redis-benchmark
 * --tls, curl, openssl s_client.  Certificates are made per test
 * (helpers/tlstest.h).
 *
 * What is checked: the same answers over TLS as in the clear on every
 * protocol; plain bytes to a TLS port close that connection only; mutual
 * TLS (a required client certificate; a certificate bound to a tenant is
 * that tenant without AUTH, with that tenant's rights and no other's);
 * rotation by SIGHUP under load with no failed request, new connections
 * seeing the new certificate, a bad one refused with the old still
 * serving; 1000 half-open handshakes cut by --request-timeout without
 * slowing anyone else or holding memory; the secure default (no plain
 * RESP/binary on a non-loopback address without --allow-plain).
 */

#include "helpers/srvtest.h"
#include "helpers/tlstest.h"

static char cert[PATH_MAX + 16], key[PATH_MAX + 16], cafile[PATH_MAX + 16];

/* Sanitizer builds run 2-20 times slower and use much more memory
 * (tests/sanitize.sh sets SXGATE_TEST_SLOWDOWN): lighter loads, and memory
 * reported rather than asserted there. */
static int slowdown(void)
{
	const char *s = getenv("SXGATE_TEST_SLOWDOWN");
	return s && atoi(s) > 1 ? atoi(s) : 1;
}

static void paths(void)
{
	tt_pki();
	snprintf(cert, sizeof cert, "%s/srv.pem", tu_dir);
	snprintf(key, sizeof key, "%s/srv.key", tu_dir);
	snprintf(cafile, sizeof cafile, "%s/ca.pem", tu_dir);
}

typedef struct tls_ports { int resp, bin, http; char r[16], b[16], h[16]; } tls_ports;

static void ports(tls_ports *p)
{
	p->resp = st_free_port();
	do p->bin = st_free_port(); while (p->bin == p->resp);
	do p->http = st_free_port(); while (p->http == p->resp || p->http == p->bin);
	snprintf(p->r, sizeof p->r, "%d", p->resp);
	snprintf(p->b, sizeof p->b, "%d", p->bin);
	snprintf(p->h, sizeof p->h, "%d", p->http);
}

/* redis-cli over TLS to port, trusting our CA; extra: more redis-cli flags. */
static const char *cli(int port, const char *extra, const char *cmd, int *rc)
{
	return tt_sh(rc, "redis-cli --tls --cacert %s -p %d %s %s", cafile, port,
	             extra ? extra : "", cmd);
}

ST_TEST(tls, every_protocol_answers_as_in_the_clear)
{
	paths();
	tls_ports p;
	ports(&p);
	st_server *s = st_start(st_snap, "--tls-resp-port", p.r, "--tls-bin-port", p.b,
	                        "--tls-http-port", p.h, "--tls-cert", cert, "--tls-key", key);
	cr_assert(st_log_wait(s, "TLS 1.2/1.3: /CN=localhost", 1000));
	int rc;
	char plain[4096];
	snprintf(plain, sizeof plain, "%s", tt_sh(&rc, "redis-cli -p %d CHECK " ST_DENY_ID
	                                          " air " ST_AT, s->resp_port));
	cr_assert(strstr(plain, "DENY") && strstr(plain, "闽05执1001号"), "%s", plain);
	const char *t = cli(p.resp, NULL, "CHECK " ST_DENY_ID " air " ST_AT, &rc);
	cr_assert_eq(rc, 0);
	cr_assert_str_eq(t, plain, "over TLS:\n%s\nin the clear:\n%s", t, plain);
	t = cli(p.resp, NULL, "MCHECK air - " ST_AT " " ST_DENY_ID " " ST_FREE_ID " bad", &rc);
	cr_assert(strstr(t, "DENY") && strstr(t, "ALLOW") && strstr(t, "invalid id"), "%s", t);
	t = cli(p.resp, NULL, "LISTED " ST_DENY_ID, &rc);
	cr_assert(strstr(t, "1"), "%s", t);
	t = cli(p.resp, NULL, "INFO stats", &rc);
	cr_assert(strstr(t, "tls_handshakes:") , "%s", t);
	/* a pipelining client: redis-benchmark over TLS */
	t = tt_sh(&rc, "redis-benchmark --tls --cacert %s -p %d -n 4000 -c 4 -P 16 -q PING",
	          cafile, p.resp);
	cr_assert(rc == 0 && strstr(t, "requests per second") && !strstr(t, "rror"), "%s", t);
	/* redis-py with ssl=True (Debian's python3-redis, under Debian's python) */
	t = tt_sh(&rc, "/usr/bin/python3 -c 'import redis' && /usr/bin/python3 -c \""
	          "import redis; r = redis.Redis(port=%d, ssl=True, ssl_ca_certs=\\\"%s\\\"); "
	          "print(r.execute_command(\\\"CHECK\\\", \\\"" ST_DENY_ID "\\\", \\\"air\\\", "
	          "\\\"AT\\\", \\\"2026-01-10\\\"))\"", p.resp, cafile);
	if (rc)
		cr_log_warn("redis-py over TLS skipped: python3-redis is not installed (%s)", t);
	else
		cr_assert(strstr(t, "DENY") && strstr(t, "LISTED"), "redis-py: %s", t);
	/* HTTP over TLS */
	t = tt_sh(&rc, "curl -sS --cacert %s https://localhost:%d/health", cafile, p.http);
	cr_assert(rc == 0 && !strcmp(t, "ok\n"), "%s", t);
	t = tt_sh(&rc, "curl -sS --cacert %s https://127.0.0.1:%d/metrics", cafile, p.http);
	cr_assert(rc == 0 && strstr(t, "\nsxgate_tls_handshakes_total "), "%s", t);
	/* the binary protocol over TLS: a frame other than HELLO first is
	 * answered with an ERROR frame naming that (the client library's TLS
	 * has its own tests) */
	t = tt_sh(&rc, "printf '\\000\\000\\000\\000\\102\\000\\000\\000\\001\\000\\000\\000' | "
	          "openssl s_client -quiet -CAfile %s -verify_return_error -connect 127.0.0.1:%d "
	          "-servername localhost 2>/dev/null | tr -d '\\000-\\037'", cafile, p.bin);
	cr_assert(strstr(t, "ERR Protocol error: the first frame must be HELLO"),
	          "binary port over TLS: %s", t);
}

/* Clients refuse a server whose certificate expired, comes from a CA
 * they do not trust, or names another host. */
ST_TEST(tls, clients_refuse_bad_server_certificates)
{
	paths();
	int rc;
	static const char *const bad[][1] = { { "old" }, { "rogue" } };   /* expired, untrusted */
	for (size_t i = 0; i < 2; i++) {
		tls_ports p;
		ports(&p);
		char c[PATH_MAX + 32], k[PATH_MAX + 32];
		snprintf(c, sizeof c, "%s/%s.pem", tu_dir, bad[i][0]);
		snprintf(k, sizeof k, "%s/%s.key", tu_dir, bad[i][0]);
		st_server *s = st_start(st_snap, "--tls-http-port", p.h, "--tls-resp-port", p.r,
		                        "--tls-cert", c, "--tls-key", k);
		const char *t = tt_sh(&rc, "curl -sS --cacert %s https://localhost:%d/health",
		                      cafile, p.http);
		cr_assert(rc != 0 && !strstr(t, "ok"), "curl accepted the %s certificate: %s",
		          bad[i][0], t);
		t = cli(p.resp, NULL, "PING", &rc);
		cr_assert(!strstr(t, "PONG"), "redis-cli accepted the %s certificate: %s",
		          bad[i][0], t);
		st_stop(s, SIGTERM);
	}
	tls_ports p;
	ports(&p);
	st_start(st_snap, "--tls-http-port", p.h, "--tls-cert", cert, "--tls-key", key);
	const char *t = tt_sh(&rc, "curl -sS --cacert %s --resolve wrong.example:%d:127.0.0.1 "
	                      "https://wrong.example:%d/health", cafile, p.http, p.http);
	cr_assert(rc != 0 && strstr(t, "wrong.example"), "a wrong host name: %s", t);
	t = tt_sh(&rc, "curl -sS --cacert %s https://localhost:%d/health", cafile, p.http);
	cr_assert(rc == 0 && !strcmp(t, "ok\n"), "%s", t);
}

ST_TEST(tls, plain_bytes_to_a_tls_port_close_only_that_connection)
{
	paths();
	tls_ports p;
	ports(&p);
	st_server *s = st_start(st_snap, "--tls-resp-port", p.r, "--tls-cert", cert,
	                        "--tls-key", key);
	for (int i = 0; i < 20; i++) {
		st_conn *c = st_connect(p.resp);
		st_send_str(c, i % 2 ? "PING\r\n" : "*1\r\n$4\r\nPING\r\n");
		while (st_fill(c) > 0)
			;
		cr_assert(c->eof, "the server closed the plain-text client");
		st_close(c);
	}
	int rc;
	const char *t = cli(p.resp, NULL, "PING", &rc);
	cr_assert_str_eq(t, "PONG\n");
	st_conn *c = st_connect(s->resp_port);
	char v[64];
	cr_assert(atoi(st_info_get(st_ask(c, "INFO stats"), "tls_errors", v, sizeof v)) >= 20);
	st_close(c);
	cr_assert(st_log_wait(s, "TLS: connection refused (handshake)", 1000));
}

ST_TEST(tls, client_certificates_bind_tenants)
{
	paths();
	tls_ports p;
	ports(&p);
	char tenants[PATH_MAX + 32], text[1024], hb[256], hops[256];
	st_hash("b-secret", hb, sizeof hb);
	st_hash("ops-secret", hops, sizeof hops);
	snprintf(text, sizeof text,
	         "a:!:air:-:cert=%s\n"
	         "b:%s:hotel:-\n"
	         "ops:%s:*:admin,listed\n", tt_fingerprint(tu_dir, "cli_a"), hb, hops);
	snprintf(tenants, sizeof tenants, "%s/tenants", tu_dir);
	tu_write_str(tenants, text);
	chmod(tenants, 0600);
	st_start(st_snap, "--tenants", tenants, "--tls-resp-port", p.r, "--tls-cert", cert,
	         "--tls-key", key, "--tls-ca", cafile, "--tls-client-auth", "required");
	int rc;
	char a[2 * PATH_MAX + 64], b[2 * PATH_MAX + 64], rogue[2 * PATH_MAX + 64];
	snprintf(a, sizeof a, "--cert %s/cli_a.pem --key %s/cli_a.key", tu_dir, tu_dir);
	snprintf(b, sizeof b, "--cert %s/cli_b.pem --key %s/cli_b.key", tu_dir, tu_dir);
	snprintf(rogue, sizeof rogue, "--cert %s/rogue.pem --key %s/rogue.key", tu_dir, tu_dir);
	/* required: no certificate, no session */
	const char *t = cli(p.resp, NULL, "PING", &rc);
	cr_assert(!strstr(t, "PONG"), "a client without a certificate got in: %s", t);
	/* a certificate of another CA: no session */
	t = cli(p.resp, rogue, "PING", &rc);
	cr_assert(!strstr(t, "PONG"), "an untrusted client certificate got in: %s", t);
	/* a's certificate: tenant a without AUTH, a's channels only */
	t = cli(p.resp, a, "CHECK " ST_DENY_ID " air " ST_AT, &rc);
	cr_assert(strstr(t, "DENY"), "%s", t);
	t = cli(p.resp, a, "CHECK " ST_DENY_ID " hotel 5 " ST_AT, &rc);
	cr_assert(strstr(t, "NOPERM tenant 'a' may not ask about channel 'hotel'"), "%s", t);
	t = cli(p.resp, a, "RELOAD", &rc);
	cr_assert(strstr(t, "NOPERM"), "%s", t);
	t = cli(p.resp, a, "AUTH ops ops-secret", &rc);
	cr_assert(strstr(t, "NOPERM this connection is tenant 'a' by its client certificate"),
	          "AUTH as another tenant on a bound connection: %s", t);
	t = cli(p.resp, a, "AUTH a whatever", &rc);
	cr_assert(strstr(t, "OK"), "%s", t);
	/* a resumed session (a ticket from the first) is still tenant a */
	char sess[PATH_MAX + 32];
	snprintf(sess, sizeof sess, "%s/a.sess", tu_dir);
	for (int i = 0; i < 2; i++) {
		t = tt_sh(&rc, "printf 'CHECK " ST_DENY_ID " hotel 5 " ST_AT "\\r\\n' | timeout 10 "
		          "openssl s_client -connect 127.0.0.1:%d -CAfile %s -cert %s/cli_a.pem "
		          "-key %s/cli_a.key -%s %s -ign_eof", p.resp, cafile, tu_dir, tu_dir,
		          i ? "sess_in" : "sess_out", sess);
		cr_assert(strstr(t, i ? "Reused, TLS" : "New, TLS"), "session %d: %s", i, t);
		cr_assert(strstr(t, "NOPERM tenant 'a' may not ask about channel 'hotel'"),
		          "session %d: %s", i, t);
	}
	/* b's certificate is trusted but bound to nobody: AUTH as usual */
	t = cli(p.resp, b, "CHECK " ST_DENY_ID " hotel 5 " ST_AT, &rc);
	cr_assert(strstr(t, "NOAUTH"), "%s", t);
	t = tt_sh(&rc, "printf 'AUTH b b-secret\\nCHECK " ST_DENY_ID " hotel 5 " ST_AT "\\n' | "
	          "redis-cli --tls --cacert %s -p %d %s", cafile, p.resp, b);
	cr_assert(strstr(t, "OK") && strstr(t, "DENY"), "%s", t);
}

/* The SHA-256 fingerprint of the certificate a new connection to port sees. */
static const char *served_fingerprint(int port)
{
	static char fp[128];
	int rc;
	const char *o = tt_sh(&rc, "openssl s_client -connect 127.0.0.1:%d -servername "
	                      "localhost </dev/null 2>/dev/null | openssl x509 -noout "
	                      "-fingerprint -sha256", port);
	const char *eq = strchr(o, '=');
	cr_assert(eq, "no certificate from port %d: %s", port, o);
	snprintf(fp, sizeof fp, "%.*s", (int)strcspn(eq + 1, "\n"), eq + 1);
	return fp;
}

ST_TEST(tls, sighup_rotates_the_certificate_under_load)
{
	paths();
	tls_ports p;
	ports(&p);
	char live_cert[PATH_MAX + 32], live_key[PATH_MAX + 32];
	snprintf(live_cert, sizeof live_cert, "%s/live.pem", tu_dir);
	snprintf(live_key, sizeof live_key, "%s/live.key", tu_dir);
	int rc;
	tt_sh(&rc, "cp %s %s && cp %s %s", cert, live_cert, key, live_key);
	st_server *s = st_start(st_snap, "--tls-resp-port", p.r, "--tls-cert", live_cert,
	                        "--tls-key", live_key);
	char srv1[128], srv2[128];
	snprintf(srv1, sizeof srv1, "%s", tt_fingerprint(tu_dir, "srv"));
	snprintf(srv2, sizeof srv2, "%s", tt_fingerprint(tu_dir, "srv2"));
	cr_assert_str_eq(served_fingerprint(p.resp), srv1);

	/* load: new connections all the time (-k 0) and pipelines, for 3 s */
	char out[PATH_MAX + 32];
	snprintf(out, sizeof out, "%s/bench.out", tu_dir);
	tt_sh(&rc, "(timeout 20 redis-benchmark --tls --cacert %s -p %d -n %d -c 4 -k 0 "
	      "-q PING > %s 2>&1; echo rc=$? >> %s) & echo started", cafile, p.resp,
	      2500 / slowdown(), out, out);
	usleep(500 * 1000);
	tt_sh(&rc, "cp %s/srv2.pem %s && cp %s/srv2.key %s", tu_dir, live_cert, tu_dir, live_key);
	kill(s->pid, SIGHUP);
	cr_assert(st_log_wait(s, "TLS reloaded", 3000), "no TLS reload in the log");
	cr_assert_str_eq(served_fingerprint(p.resp), srv2, "new connections see the new one");
	char *text = NULL;
	for (int i = 0; i < 200; i++) {
		free(text);
		size_t n;
		text = tu_read(out, &n);
		if (text && strstr(text, "rc="))
			break;
		usleep(100 * 1000);
	}
	cr_assert(text && strstr(text, "rc=0") && strstr(text, "requests per second") &&
	          !strstr(text, "rror"), "the benchmark across the rotation: %s", text);
	free(text);

	/* a bad certificate is refused with its reason; srv2 keeps serving */
	tu_write_str(live_cert, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
	const char *t = cli(p.resp, NULL, "RELOAD TLS", &rc);
	cr_assert(strstr(t, "ERR TLS reload failed: --tls-cert ") &&
	          strstr(t, "the certificate in use keeps serving"), "%s", t);
	cr_assert_str_eq(served_fingerprint(p.resp), srv2);
	t = cli(p.resp, NULL, "PING", &rc);
	cr_assert_str_eq(t, "PONG\n");
}

ST_TEST(tls, half_open_handshakes_are_cut_and_block_nobody)
{
	paths();
	tls_ports p;
	ports(&p);
	st_server *s = st_start(st_snap, "--tls-resp-port", p.r, "--tls-cert", cert,
	                        "--tls-key", key, "--request-timeout", "2");
	st_conn *info = st_connect(s->resp_port);
	char v[64];
	long rss0 = atol(st_info_get(st_ask(info, "INFO memory"), "used_memory_rss", v, sizeof v));
	enum { N = 1000 };
	static int fds[N];
	for (int i = 0; i < N; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p.resp),
		                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		cr_assert(connect(fds[i], (struct sockaddr *)&sa, sizeof sa) == 0, "connect %d", i);
		if (i % 2)   /* the start of a ClientHello record, never finished */
			cr_assert(write(fds[i], "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) == 11);
	}
	uint64_t t0 = sx_mono_ns();
	int rc;
	const char *t = cli(p.resp, NULL, "PING", &rc);
	uint64_t ms = (sx_mono_ns() - t0) / 1000000;
	cr_assert_str_eq(t, "PONG\n");
	cr_assert(ms < 1000, "a TLS client waited %llu ms behind 1000 half-open handshakes",
	          (unsigned long long)ms);
	long rss1 = atol(st_info_get(st_ask(info, "INFO memory"), "used_memory_rss", v, sizeof v));
	if (slowdown() > 1)
		cr_log_info("1000 half-open handshakes took %ld bytes (sanitizer build: not "
		            "asserted)", rss1 - rss0);
	else
		cr_assert(rss1 - rss0 < 64L << 20, "1000 half-open handshakes took %ld bytes",
		          rss1 - rss0);
	/* --request-timeout 2: all cut within 2..3 s of their start */
	int cut = 0;
	for (int tries = 0; tries < 60 && cut < N; tries++) {
		usleep(100 * 1000);
		cut = 0;
		for (int i = 0; i < N; i++) {
			char b;
			struct pollfd pf = { .fd = fds[i], .events = POLLIN };
			cut += poll(&pf, 1, 0) == 1 && read(fds[i], &b, 1) <= 0;
		}
	}
	cr_assert_eq(cut, N, "%d of %d half-open handshakes were closed", cut, N);
	for (int i = 0; i < N; i++)
		close(fds[i]);
	const char *st = st_ask(info, "INFO stats");
	cr_assert(atoi(st_info_get(st, "request_timeout_disconnects", v, sizeof v)) >= N, "%s", st);
	st_close(info);
}

ST_TEST(tls, plain_ports_off_loopback_need_allow_plain)
{
	char tenants[PATH_MAX + 32], text[512], h[256];
	st_hash("x", h, sizeof h);
	snprintf(text, sizeof text, "ops:%s:*:admin\n", h);
	snprintf(tenants, sizeof tenants, "%s/tenants", tu_dir);
	tu_write_str(tenants, text);
	chmod(tenants, 0600);
	st_server *s = st_start_args(st_snap, 1, (const char *[]){ "--bind", "0.0.0.0",
	                             "--tenants", tenants, NULL });
	cr_assert(s->reaped && WIFEXITED(s->status) && WEXITSTATUS(s->status) != 0);
	char *log = st_log_text(s);
	cr_assert(strstr(log, "refusing plain --resp-port") && strstr(log, "--allow-plain"),
	          "%s", log);
	free(log);
	s = st_start(st_snap, "--bind", "0.0.0.0", "--tenants", tenants, "--allow-plain");
	cr_assert(st_log_wait(s, "warning: --allow-plain: plain RESP and binary on 0.0.0.0", 1000));
	st_stop(s, SIGTERM);
}

ST_TEST(tls, bad_tls_files_stop_startup_naming_them)
{
	paths();
	tls_ports p;
	ports(&p);
	char other_key[PATH_MAX + 32];
	snprintf(other_key, sizeof other_key, "%s/srv2.key", tu_dir);
	st_server *s = st_start_args(st_snap, 1, (const char *[]){ "--tls-resp-port", p.r,
	                             "--tls-cert", "/nonexistent/cert.pem", "--tls-key", key,
	                             NULL });
	char *log = st_log_text(s);
	cr_assert(s->reaped && strstr(log, "--tls-cert /nonexistent/cert.pem"), "%s", log);
	free(log);
	s = st_start_args(st_snap, 1, (const char *[]){ "--tls-resp-port", p.r, "--tls-cert",
	                  cert, "--tls-key", other_key, NULL });
	log = st_log_text(s);
	cr_assert(s->reaped && strstr(log, "does not belong to --tls-cert"), "%s", log);
	free(log);
	/* a key others may read is refused, naming it and its mode, as ssh does */
	char open_key[PATH_MAX + 32];
	snprintf(open_key, sizeof open_key, "%s/open.key", tu_dir);
	int rc;
	tt_sh(&rc, "cp %s %s && chmod 644 %s", key, open_key, open_key);
	s = st_start_args(st_snap, 1, (const char *[]){ "--tls-resp-port", p.r, "--tls-cert",
	                  cert, "--tls-key", open_key, NULL });
	log = st_log_text(s);
	cr_assert(s->reaped && strstr(log, "--tls-key") && strstr(log, "open.key") &&
	          strstr(log, "0644"), "%s", log);
	free(log);
	s = st_start_args(st_snap, 1, (const char *[]){ "--tls-resp-port", p.r, NULL });
	log = st_log_text(s);
	cr_assert(s->reaped && strstr(log, "needs --tls-cert FILE and --tls-key FILE"), "%s", log);
	free(log);
}
