/*
 * test_server_life.c - the server's life: flags and usage, startup errors,
 * the metrics port, and SIGTERM draining (stop accepting, answer what was
 * received, exit 0).
 */
#include "helpers/srvtest.h"

/* Run sxgated with args; its exit code, stdout+stderr into out. */
static int run(const char *args, char *out, size_t cap)
{
	char exe[PATH_MAX];
	int st;
	tu_bin("sxgated", exe, sizeof exe);
	char *text = tu_run(&st, "%s %s 2>&1", exe, args);
	snprintf(out, cap, "%s", text);
	free(text);
	return st;
}

ST_TEST(life, flags_usage_and_startup_errors)
{
	char out[8192], args[PATH_MAX + 128];
	cr_assert_eq(run("--help", out, sizeof out), 0);
	cr_assert(strstr(out, "usage: sxgated --snapshot SNAP") && strstr(out, "--io uring|epoll"), "%s", out);
	cr_assert_eq(run("--version", out, sizeof out), 0);
	cr_assert(!strncmp(out, "sxgated ", 8));

	cr_assert_eq(run("--bogus", out, sizeof out), 1);
	cr_assert(strstr(out, "unknown option '--bogus'") && strstr(out, "usage:"), "%s", out);
	cr_assert_eq(run("", out, sizeof out), 1);
	cr_assert(strstr(out, "--snapshot is required"), "%s", out);
	snprintf(args, sizeof args, "--snapshot %s --io kqueue", st_snap);
	cr_assert_eq(run(args, out, sizeof out), 1);
	cr_assert(strstr(out, "--io: 'kqueue' is not uring or epoll"), "%s", out);
	snprintf(args, sizeof args, "--snapshot %s --resp-port 70000", st_snap);
	cr_assert_eq(run(args, out, sizeof out), 1);
	cr_assert(strstr(out, "--resp-port: '70000' is not a number in 0..65535"), "%s", out);
	snprintf(args, sizeof args, "--snapshot %s --threads", st_snap);
	cr_assert_eq(run(args, out, sizeof out), 1);
	cr_assert(strstr(out, "--threads needs a value"), "%s", out);
	cr_assert_eq(run("--snapshot /nonexistent/x.snap --resp-port 0 --bin-port 0", out, sizeof out), 1);
	cr_assert(strstr(out, "nothing to listen on"), "%s", out);

	st_server *s = st_start_args("/nonexistent/x.snap", 1, NULL);
	cr_assert(s->reaped && WIFEXITED(s->status) && WEXITSTATUS(s->status) == 1);
	char *log = st_log_text(s);
	cr_assert(strstr(log, "cannot start: snapshot /nonexistent/x.snap:"), "%s", log);
	free(log);

	/* A port another server listens on is in use, SO_REUSEPORT or not. */
	st_server *first = st_start(st_snap);
	char port[16];
	snprintf(port, sizeof port, "%d", first->resp_port);
	st_server *second = st_start_args(st_snap, 1, (const char *[]){ "--resp-port", port, NULL });
	cr_assert(second->reaped && WEXITSTATUS(second->status) == 1, "a second server shared port %s", port);
	log = st_log_text(second);
	cr_assert(strstr(log, "Address already in use"), "%s", log);
	free(log);
}

ST_TEST(life, journal_and_feedback_are_opened_and_reported)
{
	char j[PATH_MAX + 64], f[PATH_MAX + 64];
	snprintf(j, sizeof j, "%s/journal", tu_dir);
	snprintf(f, sizeof f, "%s/feedback", tu_dir);
	st_server *s = st_start(st_snap, "--journal", j, "--feedback", f);
	cr_assert(st_log_wait(s, "0 updates in force", 1000));
	st_conn *c = st_connect(s->resp_port);
	char v[PATH_MAX + 64];
	const char *info = st_ask(c, "INFO live");
	cr_assert_str_eq(st_info_get(info, "journal", v, sizeof v), j);
	cr_assert_str_eq(st_info_get(info, "feedback", v, sizeof v), f);
	cr_assert_str_eq(st_info_get(st_ask(c, "INFO server"), "live_updates", v, sizeof v),
	                 "on (journal)");
	cr_assert(tu_exists(j) && tu_exists(f), "journal and feedback files are created");
	st_close(c);
}

static char *http(int port, const char *req)
{
	st_conn *c = st_connect(port);
	st_send_str(c, req);
	while (st_fill(c) > 0)
		;
	char *text = strndup(c->buf, c->len);
	st_close(c);
	return text;
}

ST_TEST(life, metrics_and_health)
{
	int mport = st_free_port();
	char mp[16];
	snprintf(mp, sizeof mp, "%d", mport);
	st_server *s = st_start(st_snap, "--metrics-port", mp);
	st_conn *c = st_connect(s->resp_port);
	cr_assert(!strncmp(st_ask(c, "CHECK " ST_DENY_ID " air " ST_AT), "[DENY", 5));
	st_close(c);

	char *r = http(mport, "GET /health HTTP/1.0\r\n\r\n");
	cr_assert(!strncmp(r, "HTTP/1.1 200 OK\r\n", 17), "%s", r);
	cr_assert(strstr(r, "\r\n\r\nok\n"), "%s", r);
	free(r);
	r = http(mport, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	cr_assert(!strncmp(r, "HTTP/1.1 200 OK\r\n", 17), "%s", r);
	cr_assert(strstr(r, "Content-Type: text/plain; version=0.0.4"), "%s", r);
	cr_assert(strstr(r, "\nsxgate_snapshot_generation 1\n"), "%s", r);
	cr_assert(strstr(r, "\nsxgate_commands_total{command=\"check\"} 1\n"), "%s", r);
	cr_assert(strstr(r, "\nsxgate_decisions_total{decision=\"DENY\",reason=\"LISTED\"} 1\n"), "%s", r);
	cr_assert(strstr(r, "# TYPE sxgate_output_cap_disconnects_total counter"), "%s", r);
	free(r);
	r = http(mport, "GET /nope HTTP/1.0\r\n\r\n");
	cr_assert(!strncmp(r, "HTTP/1.1 404", 12), "%s", r);
	free(r);
	r = http(mport, "POST /metrics HTTP/1.0\r\n\r\n");
	cr_assert(!strncmp(r, "HTTP/1.1 405", 12), "%s", r);
	free(r);
}

/* SIGTERM: every request received before it is answered and flushed, idle
 * clients are closed, and the exit status is 0. */
ST_TEST(life, sigterm_drains_and_exits_zero)
{
	st_server *s = st_start(st_snap);
	st_conn *idle = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(idle, "PING"), "+PONG");
	st_conn *c = st_connect(s->resp_port);
	enum { N = 300, IDS = 100 };
	char cmd[8192];
	int len = snprintf(cmd, sizeof cmd, "MCHECK air - " ST_AT);
	for (int i = 0; i < IDS; i++)
		len += snprintf(cmd + len, sizeof cmd - (size_t)len, " " ST_DENY_ID);
	char wire[16384];
	size_t n = st_resp_encode(cmd, wire, sizeof wire);
	/* ~3 MiB of replies: far more than the socket buffers hold, so most
	 * of it is still queued in the server when SIGTERM comes. */
	for (int i = 0; i < N; i++)
		st_send(c, wire, n);
	usleep(300 * 1000);
	kill(s->pid, SIGTERM);
	for (int i = 0; i < N; i++) {
		char *r = st_reply(c);
		cr_assert_not_null(r, "reply %d of %d lost in the drain", i, N);
		cr_assert(!strncmp(r, "[[DENY, LISTED, ", 16), "reply %d: %.80s", i, r);
		free(r);
	}
	cr_assert(st_closed_by_server(c, 5000));
	cr_assert(st_closed_by_server(idle, 5000));
	int status = st_stop(s, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
	cr_assert(st_log_wait(s, "SIGTERM: draining", 0));
	cr_assert(st_log_wait(s, "drained; bye", 0));
	st_close(c);
	st_close(idle);
}
