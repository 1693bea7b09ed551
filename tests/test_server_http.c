/*
 * test_server_http.c - /metrics as Prometheus sees it: the text passes
 * `promtool check metrics`, sxgate_up is the /health decision, the
 * latency histogram counts every command (cumulative buckets, +Inf =
 * _count, monotone), and a real Prometheus server scrapes it.
 *
 * promtool and prometheus come from Debian's `prometheus` package (make
 * deps, CI); where they are missing the tests that need them say
 * "skipped" and are reported as skipped.
 */
#include <dirent.h>
#include <sys/resource.h>

#include "helpers/httptest.h"

static int have(const char *prog)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

static char *metrics(int port)
{
	ht_resp r = ht_get(port, "/metrics");
	cr_assert_eq(r.status, 200, "GET /metrics: %d %s", r.status, r.head ? r.head : "(none)");
	free(r.head);
	return r.body;
}

static void check_with_promtool(const char *text, const char *what)
{
	char path[PATH_MAX + 64], out[PATH_MAX + 64], cmd[3 * PATH_MAX];
	snprintf(path, sizeof path, "%s/metrics-%s.txt", tu_dir, what);
	snprintf(out, sizeof out, "%s/promtool-%s.txt", tu_dir, what);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "promtool check metrics <%s >%s 2>&1", path, out);
	int st = system(cmd);
	size_t n;
	char *msg = tu_read(out, &n);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	          "promtool check metrics (%s) failed:\n%s\n--- the text:\n%s", what,
	          msg ? msg : "", text);
	free(msg);
}

/* (a) every series, the live ones included, passes promtool; (b) with a
 * feed that cannot connect, /health is 503 and sxgate_up 0. */
ST_TEST(http, metrics_pass_promtool_and_up_follows_health)
{
	int mport, dport = st_free_port();
	char j[PATH_MAX + 64], f[PATH_MAX + 64], url[128];
	snprintf(j, sizeof j, "%s/journal", tu_dir);
	snprintf(f, sizeof f, "%s/feedback", tu_dir);
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/sxgate:updates", dport); /* nobody */

	/* A plain server: up. */
	st_server *s = ht_start(&mport, "--journal", j, "--feedback", f);
	st_conn *c = st_connect(s->resp_port);
	cr_assert(!strncmp(st_ask(c, "CHECK " ST_DENY_ID " air " ST_AT), "[DENY", 5));
	st_close(c);
	ht_resp h = ht_get(mport, "/health");
	cr_assert_eq(h.status, 200, "%s%s", h.head, h.body);
	ht_free(&h);
	char *m = metrics(mport);
	cr_assert_eq(ht_series(m, "sxgate_up"), 1, "%s", m);
	cr_assert(ht_series(m, "sxgate_feedback_written_total") >= 0, "%s", m);
	cr_assert_eq(ht_series(m, "sxgate_journal_errors_total"), 0, "%s", m);
	cr_assert_eq(ht_series(m, "sxgate_stream_max_lag_seconds"), -1, "no feed, no max lag:\n%s", m);
	cr_assert(strstr(m, "# TYPE sxgate_command_latency_seconds histogram\n"), "%s", m);
	if (have("promtool"))
		check_with_promtool(m, "plain");
	free(m);
	cr_assert_eq(st_stop(s, SIGTERM), 0);

	/* Following a feed that is not there: down, and /health says why. */
	s = ht_start(&mport, "--journal", j, "--feedback", f, "--updates-from", url,
	             "--max-lag", "7");
	h = ht_get(mport, "/health");
	cr_assert_eq(h.status, 503, "health %d with the feed down: %s", h.status, h.body);
	cr_assert(strstr(h.body, "not connected") || strstr(h.body, "not started"), "%s", h.body);
	ht_free(&h);
	m = metrics(mport);
	cr_assert_eq(ht_series(m, "sxgate_up"), 0, "sxgate_up with /health 503:\n%s", m);
	cr_assert_eq(ht_series(m, "sxgate_stream_connected"), 0, "%s", m);
	cr_assert_eq(ht_series(m, "sxgate_stream_max_lag_seconds"), 7, "--max-lag 7:\n%s", m);
	if (have("promtool"))
		check_with_promtool(m, "follower");
	else
		printf("test_server_http: promtool is not installed: the promtool check is skipped\n");
	free(m);
}

/* Buckets of the histogram, in order, and the +Inf, _sum and _count. */
typedef struct hist { int n; double le[64], cum[64], inf, sum, count; } hist;

static void parse_hist(const char *text, hist *h)
{
	memset(h, 0, sizeof *h);
	static const char pre[] = "sxgate_command_latency_seconds_bucket{le=\"";
	for (const char *p = strstr(text, pre); p; p = strstr(p + 1, pre)) {
		const char *le = p + sizeof pre - 1;
		const char *v = strstr(le, "} ");
		cr_assert_not_null(v);
		if (!strncmp(le, "+Inf\"", 5)) {
			h->inf = strtod(v + 2, NULL);
			continue;
		}
		cr_assert(h->n < 64);
		h->le[h->n] = strtod(le, NULL);
		h->cum[h->n++] = strtod(v + 2, NULL);
	}
	h->sum = ht_series(text, "sxgate_command_latency_seconds_sum");
	h->count = ht_series(text, "sxgate_command_latency_seconds_count");
}

/* (c) the histogram counts every command, buckets are cumulative, +Inf is
 * _count, and it only grows. */
ST_TEST(http, latency_histogram_counts_every_command)
{
	int mport;
	st_server *s = ht_start(&mport);
	hist h0, h1;
	char *m = metrics(mport);
	parse_hist(m, &h0);
	free(m);
	cr_assert_eq(h0.n, 22, "1-2-5 bounds from 1 us to 10 s");
	cr_assert_float_eq(h0.le[0], 1e-6, 1e-12);
	cr_assert_float_eq(h0.le[h0.n - 1], 10.0, 1e-9);
	cr_assert_eq(h0.count, 0);

	enum { N = 137 };
	st_conn *c = st_connect(s->resp_port);
	for (int i = 0; i < N; i++) {
		const char *r = i % 2 ? st_ask(c, "PING")
		                      : st_ask(c, "CHECK " ST_DENY_ID " air " ST_AT);
		cr_assert(r[0] == '+' || r[0] == '[', "%s", r);
	}
	m = metrics(mport);
	parse_hist(m, &h1);
	cr_assert_eq(h1.count, N, "_count %g after %d commands:\n%s", h1.count, N, m);
	cr_assert_eq(h1.inf, h1.count, "+Inf %g, _count %g", h1.inf, h1.count);
	cr_assert(h1.sum > 0 && h1.sum < N * 1.0, "_sum %g", h1.sum);
	for (int i = 0; i < h1.n; i++) {
		cr_assert(i == 0 || (h1.le[i] > h1.le[i - 1] && h1.cum[i] >= h1.cum[i - 1]),
		          "bucket %d (le %g) not cumulative:\n%s", i, h1.le[i], m);
		cr_assert(h1.cum[i] <= h1.inf);
		cr_assert(h1.cum[i] >= h0.cum[i]);
	}
	cr_assert_eq(h1.cum[h1.n - 1], N, "every command took less than 10 s:\n%s", m);
	free(m);

	/* More commands: nothing goes down. */
	for (int i = 0; i < 10; i++)
		st_ask(c, "PING");
	hist h2;
	m = metrics(mport);
	parse_hist(m, &h2);
	free(m);
	cr_assert_eq(h2.count, N + 10);
	cr_assert(h2.sum >= h1.sum);
	for (int i = 0; i < h2.n; i++)
		cr_assert(h2.cum[i] >= h1.cum[i]);
	st_close(c);
}

/* ---- a real Prometheus ---------------------------------------------------- */

static pid_t prom_pid;

static void prom_kill(void)
{
	if (prom_pid > 0) {
		kill(prom_pid, SIGTERM);
		for (int i = 0; i < 500 && waitpid(prom_pid, NULL, WNOHANG) == 0; i++)
			usleep(10 * 1000);
		kill(prom_pid, SIGKILL);
		waitpid(prom_pid, NULL, 0);
		prom_pid = 0;
	}
}

static void prom_teardown(void)
{
	prom_kill();
	st_teardown();
}

/* The value of an instant query's first sample ("value":[ts,"v"]); -1
 * when Prometheus has no sample (yet) or does not answer. */
static double prom_query(int port, const char *query)
{
	char req[512];
	snprintf(req, sizeof req, "GET /api/v1/query?query=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	         "Connection: close\r\n\r\n", query, port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	ht_resp r = ht_ask(port, req);
	double v = -1;
	const char *p = r.body ? strstr(r.body, "\"value\":[") : NULL;
	if (r.status == 200 && p && (p = strchr(p, ',')) && p[1] == '"')
		v = strtod(p + 2, NULL);
	ht_free(&r);
	return v;
}

static double prom_wait(int port, const char *query, double above, int timeout_ms)
{
	double v = -1;
	for (int t = 0; t < timeout_ms; t += 250) {
		if ((v = prom_query(port, query)) > above)
			return v;
		st_sleep_ms(250);
	}
	return v;
}

/* (d) Prometheus scrapes /metrics every second: sxgate_up reaches it as 1,
 * and the latency histogram's _count grows there after some lookups. */
Test(http_epoll, a_real_prometheus_scrapes_it, .init = st_setup_epoll, .fini = prom_teardown,
     .timeout = 120)
{
	if (!have("prometheus")) {
		printf("test_server_http: prometheus is not installed: the scrape test is skipped\n");
		st_teardown();
		cr_skip_test("prometheus is not installed (Debian package prometheus)");
	}
	int mport;
	st_server *s = ht_start(&mport);
	int pport = st_free_port();
	char cfg[PATH_MAX + 64], data[PATH_MAX + 64], log[PATH_MAX + 64], listen[64];
	snprintf(cfg, sizeof cfg, "%s/prometheus.yml", tu_dir);
	snprintf(data, sizeof data, "%s/tsdb", tu_dir);
	snprintf(log, sizeof log, "%s/prometheus.log", tu_dir);
	snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", pport);
	FILE *f = fopen(cfg, "w");
	cr_assert_not_null(f);
	fprintf(f, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
	        "scrape_configs:\n  - job_name: sxgated\n    static_configs:\n"
	        "      - targets: ['127.0.0.1:%d']\n", mport);
	fclose(f);
	char cfgarg[PATH_MAX + 128], dataarg[PATH_MAX + 128];
	snprintf(cfgarg, sizeof cfgarg, "--config.file=%s", cfg);
	snprintf(dataarg, sizeof dataarg, "--storage.tsdb.path=%s", data);

	fflush(NULL);
	prom_pid = fork();
	cr_assert(prom_pid >= 0);
	if (prom_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execlp("prometheus", "prometheus", cfgarg, dataarg, listen, (char *)NULL);
		_exit(127);
	}

	double up = prom_wait(pport, "sxgate_up", 0.5, 20000);
	if (up != 1) {
		size_t n;
		char *text = tu_read(log, &n);
		cr_assert_fail("Prometheus never saw sxgate_up 1 within 20 s (last %g); its log:\n%s",
		               up, text ? text : "");
	}
	double before = prom_query(pport, "sxgate_command_latency_seconds_count");
	cr_assert(before >= 0, "no sxgate_command_latency_seconds_count in Prometheus");
	st_conn *c = st_connect(s->resp_port);
	for (int i = 0; i < 25; i++)
		cr_assert(!strncmp(st_ask(c, "CHECK " ST_DENY_ID " air " ST_AT), "[DENY", 5));
	st_close(c);
	double after = prom_wait(pport, "sxgate_command_latency_seconds_count", before + 24, 20000);
	cr_assert(after >= before + 25, "_count in Prometheus went from %g to %g after 25 lookups",
	          before, after);
	double bucket = prom_query(pport, "sxgate_command_latency_seconds_bucket%7Ble%3D%22%2BInf%22%7D");
	cr_assert(bucket >= before + 25, "+Inf bucket %g in Prometheus", bucket);
	prom_kill();
	cr_assert_eq(st_stop(s, SIGTERM), 0);
}
