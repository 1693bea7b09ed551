/*
 * test_server_metrics_auth.c - who may read /metrics (issue 14):
 *
 *   - where credentials are needed (an HTTP listener not on loopback, or
 *     --metrics-auth always), no or wrong credentials are 401 with
 *     `WWW-Authenticate: Basic realm="sxgated"`, a tenant without the
 *     metrics flag (an admin too) is 403, a metrics tenant is 200, by HTTP
 *     Basic or Bearer tenant:secret, and /health stays open;
 *   - guessing a secret through /metrics spends AUTH's tokens: after the
 *     burst even the right secret is 429, and so is AUTH over RESP;
 *   - hostile headers (no colon, base64 garbage, 10 KB, a name with a
 *     colon, an endless Basic) are refused without a hash being checked;
 *   - a listener on a real non-loopback address of this machine needs
 *     credentials with the default --metrics-auth (skipped, and said so,
 *     where the machine has none), one on loopback does not;
 *   - over TLS, a client certificate bound to a metrics tenant is enough;
 *   - without --tenants, --metrics-auth always is refused at start;
 *   - refusals are counted (INFO, /metrics) and the text passes promtool.
 */
#include <ifaddrs.h>
#include <net/if.h>

#include "helpers/httptest.h"
#include "helpers/tlstest.h"

#define CHALLENGE "WWW-Authenticate: Basic realm=\"sxgated\"\r\n"

static char tenants_path[PATH_MAX + 64];

static void write_tenants(void)
{
	char h1[256], h2[256], h3[256], h4[256], text[4096];
	st_hash("prom-secret", h1, sizeof h1);
	st_hash("ops secret", h2, sizeof h2);
	st_hash("hotel-secret", h3, sizeof h3);
	st_hash("prom2-secret", h4, sizeof h4);
	snprintf(text, sizeof text,
	         "prom:%s:*:metrics\n"
	         "ops:%s:*:admin,listed\n"
	         "hotel:%s:hotel:-\n"
	         "prom2:%s:air:metrics\n", h1, h2, h3, h4);
	snprintf(tenants_path, sizeof tenants_path, "%s/tenants.txt", tu_dir);
	tu_write_private(tenants_path, text);
}

static char *b64(const char *s)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), k = 0;
	char *o = malloc(4 * (n / 3 + 1) + 1);
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n) v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n) v |= (unsigned char)s[i + 2];
		o[k++] = a[v >> 18 & 63];
		o[k++] = a[v >> 12 & 63];
		o[k++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		o[k++] = i + 2 < n ? a[v & 63] : '=';
	}
	o[k] = 0;
	return o;
}

/* GET (or HEAD) /metrics with an Authorization value (NULL: none). */
static ht_resp get_auth(int port, const char *method, const char *authz)
{
	size_t cap = 1024 + (authz ? strlen(authz) : 0);
	char *req = malloc(cap);
	snprintf(req, cap, "%s /metrics HTTP/1.1\r\nHost: x\r\n%s%s%sConnection: close\r\n\r\n",
	         method, authz ? "Authorization: " : "", authz ? authz : "", authz ? "\r\n" : "");
	ht_resp r = ht_ask(port, req);
	free(req);
	return r;
}

static ht_resp get_basic(int port, const char *user_pass)
{
	char *e = b64(user_pass), v[512];
	snprintf(v, sizeof v, "Basic %s", e);
	free(e);
	return get_auth(port, "GET", v);
}

static void assert_401(ht_resp r, const char *how)
{
	cr_assert_eq(r.status, 401, "%s: %d\n%s%s", how, r.status, r.head ? r.head : "",
	             r.body ? r.body : "");
	cr_assert_not_null(strstr(r.head, CHALLENGE), "%s: no challenge:\n%s", how, r.head);
	cr_assert_null(strstr(r.body, "sxgate_"), "%s: metrics in a refusal", how);
}

static int have(const char *prog)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

static void promtool_ok(const char *text)
{
	if (!have("promtool")) {
		printf("test_server_metrics_auth: promtool is not installed: its check is skipped\n");
		return;
	}
	char path[PATH_MAX + 64], cmd[3 * PATH_MAX + 128];
	snprintf(path, sizeof path, "%s/metrics.txt", tu_dir);
	tu_write_str(path, text);
	snprintf(cmd, sizeof cmd, "promtool check metrics <%s >%s.out 2>&1", path, path);
	int st = system(cmd);
	snprintf(cmd, sizeof cmd, "%s.out", path);
	size_t n;
	char *msg = tu_read(cmd, &n);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "promtool: %s", msg ? msg : "");
	free(msg);
}

ST_TEST(metrics_auth, metrics_needs_a_metrics_tenant_health_stays_open)
{
	write_tenants();
	int hp;
	st_server *s = ht_start(&hp, "--tenants", tenants_path, "--metrics-auth", "always");
	cr_assert(st_log_wait(s, "needs the credentials of a tenant with the metrics flag", 1000));

	ht_resp r = get_auth(hp, "GET", NULL);
	assert_401(r, "no credentials");
	ht_free(&r);
	r = get_auth(hp, "HEAD", NULL);
	cr_assert_eq(r.status, 401);
	ht_free(&r);
	assert_401(r = get_basic(hp, "prom:wrong"), "a wrong secret");
	ht_free(&r);
	assert_401(r = get_basic(hp, "nobody:prom-secret"), "an unknown tenant");
	ht_free(&r);
	assert_401(r = get_auth(hp, "GET", "Bearer prom:wrong"), "a wrong Bearer secret");
	ht_free(&r);

	/* right secrets of tenants without the flag, an admin's included */
	r = get_basic(hp, "ops:ops secret");
	cr_assert_eq(r.status, 403, "%d %s", r.status, r.body);
	cr_assert_str_eq(r.body, "tenant 'ops' may not read /metrics (needs the metrics flag)\n");
	ht_free(&r);
	r = get_auth(hp, "GET", "Bearer hotel:hotel-secret");
	cr_assert_eq(r.status, 403);
	ht_free(&r);

	/* a metrics tenant, by Basic and by Bearer */
	r = get_basic(hp, "prom:prom-secret");
	cr_assert_eq(r.status, 200, "%d %s", r.status, r.body);
	cr_assert_eq(ht_series(r.body, "sxgate_up"), 1, "%s", r.body);
	promtool_ok(r.body);
	ht_free(&r);
	r = get_auth(hp, "GET", "Bearer prom:prom-secret");
	cr_assert_eq(r.status, 200);
	ht_free(&r);
	r = get_auth(hp, "GET", "bearer   prom:prom-secret");
	cr_assert_eq(r.status, 200, "the scheme in any case");
	ht_free(&r);

	r = get_auth(hp, "HEAD", "Bearer prom:prom-secret");
	cr_assert_eq(r.status, 200, "HEAD");
	cr_assert(strstr(r.head, "Content-Length: ") && !strstr(r.head, "Content-Length: 0\r"),
	          "HEAD says the length of the GET: %s", r.head);
	cr_assert_str_eq(r.body, "", "and sends no body");
	ht_free(&r);

	/* /health needs nothing */
	r = ht_get(hp, "/health");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "ok\n");
	ht_free(&r);

	/* keep-alive: credentials are per request, not per connection; a
	 * request whose hash is checked on a verify thread (prom2, not yet
	 * cached) holds the ones after it, which are answered in order */
	char *e = b64("prom2:prom2-secret");
	char req[2048];
	snprintf(req, sizeof req,
	         "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n\r\n"
	         "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
	         "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
	         "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer prom2:prom2-secret\r\n\r\n"
	         "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	         "Authorization: Basic %s\r\n\r\n", e, e);
	free(e);
	st_conn *c = st_connect(hp);
	st_send_str(c, req);
	static const int want[] = { 200, 200, 401, 200, 200 };
	for (int i = 0; i < 5; i++) {
		r = ht_read(c);
		cr_assert_eq(r.status, want[i], "response %d: %d\n%s", i + 1, r.status,
		             r.head ? r.head : "(none)");
		if (i == 1)
			cr_assert_str_eq(r.body, "ok\n");
		if (i == 0 || i == 4)
			cr_assert(ht_series(r.body, "sxgate_up") == 1, "response %d", i + 1);
		if (i == 3)
			cr_assert(ht_series(r.body, "sxgate_up") == 1, "Bearer, cached now");
		ht_free(&r);
	}
	cr_assert(st_closed_by_server(c, 3000), "Connection: close");
	st_close(c);

	/* counted */
	st_conn *ops = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask_inline(ops, "AUTH ops \"ops secret\""), "+OK");
	long long unauth = st_info_num(ops, "metrics_unauthorized");
	long long forb = st_info_num(ops, "metrics_forbidden");
	cr_assert_eq(unauth, 6, "401s: %lld", unauth);
	cr_assert_eq(forb, 2, "403s: %lld", forb);
	r = get_basic(hp, "prom:prom-secret");
	cr_assert_eq(ht_series(r.body, "sxgate_metrics_refusals_total{status=\"401\"}"), 6);
	cr_assert_eq(ht_series(r.body, "sxgate_metrics_refusals_total{status=\"403\"}"), 2);
	ht_free(&r);
	st_close(ops);
}

/* What an attacker might send: nothing is taken for credentials that are
 * not, no hash is checked for them, the server stays up. */
ST_TEST(metrics_auth, hostile_authorization_headers)
{
	write_tenants();
	int hp;
	st_server *s = ht_start(&hp, "--tenants", tenants_path, "--metrics-auth", "always");
	ht_resp r;
	static const char *const junk[] = {
		"Basic", "Basic ", "Basic cHJvbQ==" /* "prom", no colon */,
		"Basic !!!garbage!!!", "Basic cHJvbTpwcm9tLXNlY3JldA===", "Basic ====",
		"Basic \xff\xfe", "Bearer", "Bearer prom", "Bearer :prom-secret",
		"Digest username=\"prom\"", "prom:prom-secret", "Basic OnByb20tc2VjcmV0",
	};
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		assert_401(r = get_auth(hp, "GET", junk[i]), junk[i]);
		ht_free(&r);
	}
	/* a Basic far longer than any tenant:secret: refused unread */
	char *big = malloc(7000);
	memset(big, 'A', 6999);
	big[6999] = 0;
	char *v = malloc(7100);
	snprintf(v, 7100, "Basic %s", big);
	assert_401(r = get_auth(hp, "GET", v), "a 7 KB Basic");
	ht_free(&r);
	/* a 10 KB header: over the head limit, 431 and closed */
	char *ten = malloc(10300);
	memset(big, 'A', 6999);
	snprintf(ten, 10300, "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s%s\r\n\r\n",
	         big, big + 3000);
	r = ht_ask(hp, ten);
	cr_assert_eq(r.status, 431, "%d", r.status);
	ht_free(&r);
	free(ten);
	free(big);
	free(v);
	/* a tenant name with a colon: the user is what precedes the first
	 * colon ("pr"), a tenant that does not exist */
	assert_401(r = get_basic(hp, "pr:om:prom-secret"), "a name with a colon");
	ht_free(&r);
	/* the secret may hold colons: it is all that follows the first */
	assert_401(r = get_basic(hp, "prom:prom-secret:"), "a colon more in the secret");
	ht_free(&r);

	/* none of the malformed ones was checked against a hash: the only
	 * verified failures are the two well-formed ones above */
	st_conn *ops = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask_inline(ops, "AUTH ops \"ops secret\""), "+OK");
	cr_assert_eq(st_info_num(ops, "auth_failed"), 2);
	cr_assert_eq(st_info_num(ops, "auth_rate_limited"), 0);
	r = get_basic(hp, "prom:prom-secret");
	cr_assert_eq(r.status, 200, "still serving");
	ht_free(&r);
	st_close(ops);
}

/* Guessing through /metrics is guessing AUTH: the same tokens per address
 * and tenant; after the burst even the right secret is 429 (no answer
 * about the secret), over RESP too; other tenants go on. */
ST_TEST(metrics_auth, guessing_through_metrics_is_rate_limited)
{
	write_tenants();
	int hp;
	st_server *s = ht_start(&hp, "--tenants", tenants_path, "--metrics-auth", "always");
	ht_resp r;
	for (int i = 0; i < 5; i++) {
		assert_401(r = get_basic(hp, "prom:guess"), "a guess");
		ht_free(&r);
	}
	r = get_basic(hp, "prom:prom-secret");
	cr_assert_eq(r.status, 429, "the right secret after 5 failures: %d", r.status);
	cr_assert_not_null(strstr(r.head, "Retry-After: 1\r\n"), "%s", r.head);
	cr_assert_null(strstr(r.body, "sxgate_"));
	ht_free(&r);
	r = get_auth(hp, "GET", "Bearer prom:prom-secret");
	cr_assert_eq(r.status, 429);
	ht_free(&r);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "AUTH prom prom-secret"),
	                 "-WRONGPASS too many failed AUTH attempts from this address; try again later");
	/* another tenant from the same address is not limited */
	r = get_basic(hp, "prom2:prom2-secret");
	cr_assert_eq(r.status, 200);
	ht_free(&r);
	st_conn *ops = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask_inline(ops, "AUTH ops \"ops secret\""), "+OK");
	cr_assert_eq(st_info_num(ops, "auth_failed"), 5, "only the burst was verified");
	cr_assert_eq(st_info_num(ops, "auth_rate_limited"), 3);
	/* a token back after a second */
	st_sleep_ms(1200);
	r = get_basic(hp, "prom:prom-secret");
	cr_assert_eq(r.status, 200);
	ht_free(&r);
	st_close(ops);
	st_close(c);
}

/* A non-loopback IPv4 address of this machine, or NULL. */
static const char *local_non_loopback(char *buf, size_t cap)
{
	struct ifaddrs *ifs, *i;
	if (getifaddrs(&ifs))
		return NULL;
	const char *found = NULL;
	for (i = ifs; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
		    !(i->ifa_flags & IFF_UP))
			continue;
		const struct sockaddr_in *a = (const struct sockaddr_in *)i->ifa_addr;
		if ((ntohl(a->sin_addr.s_addr) >> 24) == 127)
			continue;
		found = inet_ntop(AF_INET, &a->sin_addr, buf, (socklen_t)cap);
	}
	freeifaddrs(ifs);
	return found;
}

/* GET path from addr:port, one request. */
static ht_resp get_at(const char *addr, int port, const char *path, const char *authz)
{
	st_conn *c = calloc(1, sizeof *c);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, addr, &a.sin_addr);
	cr_assert(connect(c->fd, (struct sockaddr *)&a, sizeof a) == 0, "connect %s:%d: %s",
	          addr, port, strerror(errno));
	struct timeval tv = { .tv_sec = ST_TIMEOUT_S };
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	c->cap = 1 << 16;
	c->buf = malloc(c->cap);
	char req[512];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n%s%s%sConnection: close\r\n\r\n",
	         path, authz ? "Authorization: " : "", authz ? authz : "", authz ? "\r\n" : "");
	st_send_str(c, req);
	ht_resp r = ht_read(c);
	st_close(c);
	return r;
}

/* The default, --metrics-auth non-loopback, on a real address of this
 * machine: credentials needed there, and not on loopback. */
ST_TEST(metrics_auth, a_non_loopback_listener_needs_credentials_loopback_does_not)
{
	char ip[64];
	if (!local_non_loopback(ip, sizeof ip))
		cr_skip_test("this machine has no non-loopback IPv4 address: the non-loopback "
		             "listener is tested with --metrics-auth always only");
	write_tenants();
	int hp = st_free_port();
	char hps[16];
	snprintf(hps, sizeof hps, "%d", hp);
	st_server *s = st_start(st_snap, "--tenants", tenants_path, "--http-bind", ip,
	                        "--http-port", hps);
	char want[128];
	snprintf(want, sizeof want, "/metrics on %s:%d (http) needs the credentials", ip, hp);
	cr_assert(st_log_wait(s, want, 1000), "the log does not say: %s", want);
	ht_resp r = get_at(ip, hp, "/metrics", NULL);
	assert_401(r, "no credentials on a non-loopback address");
	ht_free(&r);
	r = get_at(ip, hp, "/health", NULL);
	cr_assert_eq(r.status, 200);
	ht_free(&r);
	r = get_at(ip, hp, "/metrics", "Bearer prom:prom-secret");
	cr_assert_eq(r.status, 200);
	ht_free(&r);
	st_stop(s, SIGTERM);

	/* the same server on loopback: open (Prometheus on this host) */
	int lp;
	s = ht_start(&lp, "--tenants", tenants_path);
	r = ht_get(lp, "/metrics");
	cr_assert_eq(r.status, 200, "loopback /metrics: %d", r.status);
	ht_free(&r);
	st_stop(s, SIGTERM);

	/* without --tenants, a non-loopback /metrics is 403 and says how */
	s = st_start(st_snap, "--http-bind", ip, "--http-port", hps);
	cr_assert(st_log_wait(s, "answers 403 to everyone", 1000));
	r = get_at(ip, hp, "/metrics", NULL);
	cr_assert_eq(r.status, 403, "%d", r.status);
	cr_assert_not_null(strstr(r.body, "--metrics-auth none"), "%s", r.body);
	ht_free(&r);
	r = get_at(ip, hp, "/health", NULL);
	cr_assert_eq(r.status, 200);
	ht_free(&r);
	st_stop(s, SIGTERM);
	/* ... unless the operator says so, warned */
	s = st_start(st_snap, "--http-bind", ip, "--http-port", hps, "--metrics-auth", "none");
	cr_assert(st_log_wait(s, "warning: --metrics-auth none", 1000));
	r = get_at(ip, hp, "/metrics", NULL);
	cr_assert_eq(r.status, 200);
	ht_free(&r);
}

ST_TEST(metrics_auth, flags_and_the_secure_default_without_tenants)
{
	/* always without tenants: refused at start, saying why */
	int hp = st_free_port();
	char hps[16];
	snprintf(hps, sizeof hps, "%d", hp);
	st_server *s = st_start_args(st_snap, 1, (const char *[]){ "--http-port", hps,
	                             "--metrics-auth", "always", NULL });
	cr_assert(s->reaped && WIFEXITED(s->status) && WEXITSTATUS(s->status) == 1);
	char *log = st_log_text(s);
	cr_assert(strstr(log, "--metrics-auth always needs --tenants"), "%s", log);
	free(log);
	s = st_start_args(st_snap, 1, (const char *[]){ "--metrics-auth", "sometimes", NULL });
	cr_assert(s->reaped && WIFEXITED(s->status) && WEXITSTATUS(s->status) == 1);
	log = st_log_text(s);
	cr_assert(strstr(log, "--metrics-auth: 'sometimes' is not non-loopback, always or none"),
	          "%s", log);
	free(log);
	/* without tenants on loopback: open, as before */
	s = ht_start(&hp);
	ht_resp r = ht_get(hp, "/metrics");
	cr_assert_eq(r.status, 200);
	ht_free(&r);
}

/* /health is open everywhere; where /metrics needs credentials it says
 * only that the server is unavailable, not the feed's URL or its error. */
ST_TEST(metrics_auth, health_on_a_guarded_listener_names_no_url)
{
	write_tenants();
	char j[PATH_MAX + 64], url[128];
	snprintf(j, sizeof j, "%s/journal", tu_dir);
	int dead = st_free_port();
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/sxgate:updates", dead);
	int hp;
	ht_start(&hp, "--tenants", tenants_path, "--metrics-auth", "always", "--journal", j,
	         "--updates-from", url);
	ht_resp r = ht_get(hp, "/health");
	cr_assert_eq(r.status, 503);
	cr_assert_null(strstr(r.body, "redis:"), "%s", r.body);
	cr_assert_null(strstr(r.body, "127.0.0.1"), "%s", r.body);
	cr_assert_str_eq(r.body, "unavailable (why: the server's log, or INFO as an admin tenant)\n");
	ht_free(&r);
	/* on an open (loopback) listener the reason is still given */
	int hp2;
	snprintf(j, sizeof j, "%s/journal2", tu_dir);
	ht_start(&hp2, "--journal", j, "--updates-from", url);
	r = ht_get(hp2, "/health");
	cr_assert_eq(r.status, 503);
	cr_assert_not_null(strstr(r.body, "redis:"), "%s", r.body);
	ht_free(&r);
}

/* Over a TLS HTTP port a client certificate bound to a tenant is its
 * credentials: a metrics tenant's gets 200, another tenant's 403, none
 * 401 (and Basic still works there). */
ST_TEST(metrics_auth, a_client_certificate_of_a_metrics_tenant_is_enough)
{
	tt_pki();
	char cert[PATH_MAX + 16], key[PATH_MAX + 16], ca[PATH_MAX + 16], text[2048], h[256];
	snprintf(cert, sizeof cert, "%s/srv.pem", tu_dir);
	snprintf(key, sizeof key, "%s/srv.key", tu_dir);
	snprintf(ca, sizeof ca, "%s/ca.pem", tu_dir);
	char fa[128];
	snprintf(fa, sizeof fa, "%s", tt_fingerprint(tu_dir, "cli_a"));
	st_hash("prom-secret", h, sizeof h);
	snprintf(text, sizeof text, "certprom:!:*:metrics:cert=%s\ncerthotel:!:hotel:-:cert=%s\n"
	         "prom:%s:*:metrics\n", fa, tt_fingerprint(tu_dir, "cli_b"), h);
	snprintf(tenants_path, sizeof tenants_path, "%s/tenants.txt", tu_dir);
	tu_write_private(tenants_path, text);
	int tp = st_free_port();
	char tps[16];
	snprintf(tps, sizeof tps, "%d", tp);
	st_start(st_snap, "--tenants", tenants_path, "--tls-http-port", tps, "--tls-cert", cert,
	         "--tls-key", key, "--tls-ca", ca, "--tls-client-auth", "optional",
	         "--metrics-auth", "always");
	int rc;
	const char *t = tt_sh(&rc, "curl -sS -o /dev/null -w '%%{http_code}' --cacert %s "
	                      "--cert %s/cli_a.pem --key %s/cli_a.key https://localhost:%d/metrics",
	                      ca, tu_dir, tu_dir, tp);
	cr_assert_str_eq(t, "200", "a metrics tenant's certificate: %s", t);
	t = tt_sh(&rc, "curl -sS -o /dev/null -w '%%{http_code}' --cacert %s --cert %s/cli_b.pem "
	          "--key %s/cli_b.key https://localhost:%d/metrics", ca, tu_dir, tu_dir, tp);
	cr_assert_str_eq(t, "403", "another tenant's certificate: %s", t);
	t = tt_sh(&rc, "curl -sS -o /dev/null -w '%%{http_code}' --cacert %s "
	          "https://localhost:%d/metrics", ca, tp);
	cr_assert_str_eq(t, "401", "no certificate: %s", t);
	t = tt_sh(&rc, "curl -sS -o /dev/null -w '%%{http_code}' --cacert %s -u prom:prom-secret "
	          "https://localhost:%d/metrics", ca, tp);
	cr_assert_str_eq(t, "200", "Basic over TLS: %s", t);
}
