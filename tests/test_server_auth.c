/*
 * test_server_auth.c - tenants (SPEC section 9): AUTH before anything but
 * AUTH, PING and QUIT; channel, LISTED and admin permissions; the same over
 * the binary protocol; failed AUTH rate-limited per address; no tenants
 * means no AUTH and no non-loopback bind without --insecure-no-auth.
 */
#include <sys/resource.h>

#include "helpers/srvtest.h"

static char tenants_path[PATH_MAX + 64];

static void write_tenants(void)
{
	char h1[256], h2[256], h3[256], text[2048];
	st_hash("hotel-secret", h1, sizeof h1);
	st_hash("rail-secret", h2, sizeof h2);
	st_hash("ops secret", h3, sizeof h3);
	snprintf(text, sizeof text,
	         "# tenants of the test\n"
	         "\n"
	         "hotelsys:%s:hotel:-\n"
	         "  rail12306:%s:rail,air:listed\n"
	         "ops:%s:*:admin,listed\n", h1, h2, h3);
	snprintf(tenants_path, sizeof tenants_path, "%s/tenants.txt", tu_dir);
	tu_write_private(tenants_path, text);
}

ST_TEST(auth, resp_tenants_and_permissions)
{
	write_tenants();
	st_server *s = st_start(st_snap, "--tenants", tenants_path);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "PING"), "+PONG");
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " air"), "-NOAUTH Authentication required.");
	cr_assert_str_eq(st_ask(c, "INFO"), "-NOAUTH Authentication required.");
	cr_assert_str_eq(st_ask(c, "FOO"), "-ERR unknown command 'FOO', with args beginning with: ");
	cr_assert_str_eq(st_ask(c, "AUTH hotelsys wrong"),
	                 "-WRONGPASS invalid username-password pair or user is disabled.");
	cr_assert_str_eq(st_ask(c, "AUTH nobody hotel-secret"),
	                 "-WRONGPASS invalid username-password pair or user is disabled.");
	cr_assert_str_eq(st_ask(c, "AUTH onlyone"), "-ERR wrong number of arguments for 'auth' command");
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " air"), "-NOAUTH Authentication required.");

	cr_assert_str_eq(st_ask(c, "AUTH hotelsys hotel-secret"), "+OK");
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " hotel 3 " ST_AT), "[DENY, LISTED, " ST_DENY_REC "]");
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " air"),
	                 "-NOPERM tenant 'hotelsys' may not ask about channel 'air'");
	cr_assert_str_eq(st_ask(c, "MCHECK air - " ST_DENY_ID),
	                 "-NOPERM tenant 'hotelsys' may not ask about channel 'air'");
	cr_assert_str_eq(st_ask(c, "LISTED " ST_DENY_ID),
	                 "-NOPERM tenant 'hotelsys' may not use LISTED (needs the listed flag)");
	cr_assert_str_eq(st_ask(c, "RELOAD"), "-NOPERM tenant 'hotelsys' may not use RELOAD (admin tenants only)");
	cr_assert_str_eq(st_ask(c, "LIST.REMOVE a RIC 1"),
	                 "-NOPERM tenant 'hotelsys' may not use LIST.REMOVE (admin tenants only)");
	cr_assert(strstr(st_ask(c, "INFO"), "# Snapshot"));

	/* A failed AUTH keeps the tenant it had. */
	cr_assert_str_eq(st_ask(c, "AUTH rail12306 nope"),
	                 "-WRONGPASS invalid username-password pair or user is disabled.");
	cr_assert(!strncmp(st_ask(c, "CHECK " ST_DENY_ID " hotel 3"), "[DENY", 5));

	cr_assert_str_eq(st_ask(c, "AUTH rail12306 rail-secret"), "+OK");
	cr_assert_str_eq(st_ask(c, "LISTED " ST_DENY_ID), ":1");
	cr_assert(!strncmp(st_ask(c, "CHECK " ST_DENY_ID " air"), "[DENY", 5));
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " hotel 3"),
	                 "-NOPERM tenant 'rail12306' may not ask about channel 'hotel'");

	/* Secrets may hold spaces (inline quoting or multibulk). */
	cr_assert_str_eq(st_ask_inline(c, "AUTH ops \"ops secret\""), "+OK");
	cr_assert_str_eq(st_ask(c, "RELOAD"), "+OK 2");
	st_close(c);

	/* A second connection of the same tenant (the verified secret is
	 * remembered) and QUIT before AUTH. */
	c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "AUTH hotelsys hotel-secret"), "+OK");
	cr_assert_str_eq(st_ask(c, "INFO nosuchsection"), "");
	/* the counters are an admin's (test_server_privilege) */
	cr_assert_str_eq(st_ask(c, "INFO stats"), "");
	st_conn *adm = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask_inline(adm, "AUTH ops \"ops secret\""), "+OK");
	char v[64];
	const char *info = st_ask(adm, "INFO stats");
	cr_assert_str_eq(st_info_get(info, "auth_ok", v, sizeof v), "5");
	cr_assert_str_eq(st_info_get(info, "auth_failed", v, sizeof v), "3");
	st_close(adm);
	st_close(c);
	c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "QUIT"), "+OK");
	st_close(c);
}

static st_out out;

static st_frame bin_auth(st_conn *c, uint32_t req, const char *tenant, const char *secret)
{
	size_t h = st_frame_begin(&out, SXB_OP_AUTH, 0, req);
	st_putstr8(&out, tenant);
	st_putstr8(&out, secret);
	st_frame_end(&out, h);
	st_send(c, out.b, out.n);
	out.n = 0;
	st_frame f;
	cr_assert_eq(st_frame_read(c, &f), 0);
	cr_assert_eq(f.req, req);
	return f;
}

ST_TEST(auth, binary_tenants_and_permissions)
{
	write_tenants();
	st_server *s = st_start(st_snap, "--tenants", tenants_path);
	st_conn *c = st_connect(s->bin_port);
	st_bin_hello(c, 1);
	const char *ids[] = { ST_DENY_ID };
	st_bin_query(&out, SXB_OP_CHECK, 2, "hotel", "3", "", "", ids, 1);
	st_send(c, out.b, out.n);
	out.n = 0;
	st_frame f;
	cr_assert_eq(st_frame_read(c, &f), 0);
	cr_assert_str_eq(st_bin_error_text(&f), "NOAUTH Authentication required.");
	cr_assert_eq(f.req, 2);

	f = bin_auth(c, 3, "hotelsys", "wrong");
	cr_assert_str_eq(st_bin_error_text(&f), "WRONGPASS invalid username-password pair or user is disabled.");
	f = bin_auth(c, 4, "hotelsys", "hotel-secret");
	cr_assert_eq(f.op, SXB_OP_AUTH_REPLY);
	cr_assert_eq(f.len, 0);

	st_bin_query(&out, SXB_OP_CHECK, 5, "hotel", "3", "", "2026-01-10", ids, 1);
	st_bin_query(&out, SXB_OP_CHECK, 6, "air", "", "", "", ids, 1);
	st_bin_query(&out, SXB_OP_LISTED, 7, "", "", "", "", ids, 1);
	size_t h = st_frame_begin(&out, SXB_OP_EXEC, 1, 8);
	st_put16(&out, 6);
	memcpy(out.b + out.n, "RELOAD", 6);
	out.n += 6;
	st_frame_end(&out, h);
	st_send(c, out.b, out.n);
	out.n = 0;
	cr_assert_eq(st_frame_read(c, &f), 0);
	cr_assert_eq(f.op, SXB_OP_CHECK_REPLY);
	char *t = st_bin_check_text(&f);
	cr_assert_str_eq(t, "[DENY, LISTED, " ST_DENY_REC "]");
	free(t);
	cr_assert_eq(st_frame_read(c, &f), 0);
	cr_assert_str_eq(st_bin_error_text(&f), "NOPERM tenant 'hotelsys' may not ask about channel 'air'");
	cr_assert_eq(st_frame_read(c, &f), 0);
	cr_assert_str_eq(st_bin_error_text(&f), "NOPERM tenant 'hotelsys' may not use LISTED (needs the listed flag)");
	cr_assert_eq(st_frame_read(c, &f), 0);
	cr_assert_eq(f.op, SXB_OP_EXEC_REPLY);
	cr_assert_eq(f.req, 8);
	cr_assert(!strncmp((const char *)f.body, "-NOPERM tenant 'hotelsys' may not use RELOAD", 44));

	f = bin_auth(c, 9, "ops", "ops secret");
	cr_assert_eq(f.op, SXB_OP_AUTH_REPLY);
	h = st_frame_begin(&out, SXB_OP_EXEC, 1, 10);
	st_put16(&out, 6);
	memcpy(out.b + out.n, "RELOAD", 6);
	out.n += 6;
	st_frame_end(&out, h);
	st_send(c, out.b, out.n);
	out.n = 0;
	cr_assert_eq(st_frame_read(c, &f), 0);
	cr_assert_eq(f.op, SXB_OP_EXEC_REPLY);
	cr_assert_str_eq((const char *)f.body, "+OK 2\r\n");
	st_close(c);
}

ST_TEST(auth, failed_auth_is_rate_limited_per_address)
{
	write_tenants();
	st_server *s = st_start(st_snap, "--tenants", tenants_path);
	st_conn *c = st_connect(s->resp_port);
	for (int i = 0; i < 5; i++)
		cr_assert_str_eq(st_ask(c, "AUTH hotelsys guess"),
		                 "-WRONGPASS invalid username-password pair or user is disabled.", "try %d", i);
	/* The bucket of this tenant and address is empty: even the right
	 * secret is refused now, from any connection of this address (other
	 * tenants from it are not: test_server_ratelimit). */
	st_conn *c2 = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c2, "AUTH hotelsys hotel-secret"),
	                 "-WRONGPASS too many failed AUTH attempts from this address; try again later");
	cr_assert_str_eq(st_ask(c2, "CHECK " ST_DENY_ID " hotel 3"), "-NOAUTH Authentication required.");
	/* Before AUTH a request may not exceed 64 KiB. */
	st_conn *big = st_connect(s->resp_port);
	char *blob = malloc(100000);
	memset(blob, 'x', 100000);
	st_send_str(big, "*3\r\n$4\r\nAUTH\r\n$3\r\nops\r\n$100000\r\n");
	st_send_raw(big, blob, 100000);
	char *r = st_reply(big);
	cr_assert_str_eq(r, "-ERR Protocol error: request larger than 65536 bytes before AUTH");
	free(r);
	free(blob);
	cr_assert(st_closed_by_server(big, 3000));
	st_close(big);

	/* One token back per second. */
	usleep(1200 * 1000);
	cr_assert_str_eq(st_ask(c2, "AUTH hotelsys hotel-secret"), "+OK");
	cr_assert_str_eq(st_ask_inline(c, "AUTH ops \"ops secret\""), "+OK");
	cr_assert(st_info_num(c, "auth_rate_limited") >= 1);
	st_close(c);
	st_close(c2);
}

ST_TEST(auth, without_tenants)
{
	st_server *s = st_start(st_snap);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "AUTH a b"), "-ERR no tenants configured");
	cr_assert(!strncmp(st_ask(c, "CHECK " ST_DENY_ID " air"), "[DENY", 5));
	st_close(c);
	c = st_connect(s->bin_port);
	st_bin_hello(c, 0);
	st_frame f = bin_auth(c, 2, "a", "b");
	cr_assert_str_eq(st_bin_error_text(&f), "ERR no tenants configured");
	st_close(c);

	/* A non-loopback address without tenants is refused, and says how. */
	st_server *open = st_start_args(st_snap, 1, (const char *[]){ "--bind", "0.0.0.0", NULL });
	cr_assert(open->reaped && WIFEXITED(open->status) && WEXITSTATUS(open->status) == 1,
	          "sxgated --bind 0.0.0.0 without --tenants did not exit 1");
	char *log = st_log_text(open);
	cr_assert(strstr(log, "--insecure-no-auth") && strstr(log, "--tenants"), "log: %s", log);
	free(log);
	/* plain ports off loopback need --allow-plain too (test_server_tls) */
	st_server *insecure = st_start(st_snap, "--bind", "0.0.0.0", "--insecure-no-auth",
	                               "--allow-plain");
	c = st_connect(insecure->resp_port);
	cr_assert_str_eq(st_ask(c, "PING"), "+PONG");
	st_close(c);
}

ST_TEST(auth, a_bad_tenants_file_stops_startup)
{
	char p[PATH_MAX + 64], h[256], text[1024];
	st_hash("x", h, sizeof h);
	snprintf(p, sizeof p, "%s/bad.txt", tu_dir);
	snprintf(text, sizeof text, "# fine\nok:%s:air:-\nbus:%s:air,bus:-\n", h, h);
	tu_write_private(p, text);
	st_server *s = st_start_args(st_snap, 1, (const char *[]){ "--tenants", p, NULL });
	cr_assert(s->reaped && WIFEXITED(s->status) && WEXITSTATUS(s->status) == 1);
	char *log = st_log_text(s);
	char want[PATH_MAX + 128];
	snprintf(want, sizeof want, "%s:3: tenant 'bus': unknown channel 'bus'", p);
	cr_assert(strstr(log, want), "log: %s", log);
	free(log);
}

/* With --tenants, a connection that never authenticates is closed after
 * --auth-timeout and counted; an authenticated one and HTTP stay. */
ST_TEST(auth, connections_that_never_authenticate_are_closed)
{
	const char *slow = getenv("SXGATE_TEST_SLOWDOWN");
	int n = slow && atoi(slow) > 1 ? 200 : 2000;
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)n + 256) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)n + 256 ? rl.rlim_max : (rlim_t)n + 256;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	write_tenants();
	int hp = st_free_port();
	char hps[16];
	snprintf(hps, sizeof hps, "%d", hp);
	st_server *s = st_start(st_snap, "--tenants", tenants_path, "--auth-timeout", "1",
	                        "--http-port", hps);
	st_conn *ops = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask_inline(ops, "AUTH ops \"ops secret\""), "+OK");
	st_conn *http = st_connect(hp);
	int *fds = calloc((size_t)n, sizeof *fds);
	cr_assert_not_null(fds);
	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = { .sin_family = AF_INET,
		                         .sin_port = htons((uint16_t)(i % 2 ? s->resp_port : s->bin_port)),
		                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		cr_assert(fds[i] >= 0 && connect(fds[i], (struct sockaddr *)&a, sizeof a) == 0,
		          "connect %d: %s", i, strerror(errno));
	}
	/* within timeout + the once-a-second tick (+ slack) every one is closed */
	int closed = 0;
	for (int tries = 0; tries < 80 && closed < n; tries++) {
		usleep(100 * 1000);
		closed = 0;
		for (int i = 0; i < n; i++) {
			char b;
			struct pollfd p = { .fd = fds[i], .events = POLLIN };
			closed += poll(&p, 1, 0) == 1 && read(fds[i], &b, 1) <= 0;
		}
	}
	cr_assert_eq(closed, n, "%d of %d unauthenticated connections were closed", closed, n);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	/* the authenticated client and the HTTP client are still served */
	char v[64];
	const char *info = st_ask(ops, "INFO stats");
	cr_assert(atoi(st_info_get(info, "auth_timeout_disconnects", v, sizeof v)) >= n, "%s", info);
	st_send_str(http, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_gt(st_fill(http), 0, "the HTTP connection was closed before AUTH timeout");
	cr_assert(strstr(http->buf, " 200 "), "%.*s", (int)http->len, http->buf);
	st_close(http);
	st_close(ops);
}
