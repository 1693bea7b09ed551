/*
 * test_server_notify.c - sxgated under systemd's Type=notify, without
 * systemd: the test plays the manager.  It binds a unix datagram socket,
 * starts the real server with NOTIFY_SOCKET (and WATCHDOG_USEC,
 * WATCHDOG_PID) pointing at it, and reads what the server says:
 *
 *   - READY=1 (with MAINPID and STATUS) comes only once the port accepts,
 *     and never from a start that fails;
 *   - RELOADING=1 (with MONOTONIC_USEC) then READY=1 frame every snapshot
 *     swap, by RELOAD or SIGHUP, refused or not, and both are said before
 *     RELOAD's reply; a path with newlines injects no field;
 *   - STOPPING=1 on SIGTERM, before the exit;
 *   - WATCHDOG=1 every half WATCHDOG_USEC, only for the process
 *     WATCHDOG_PID names, and only while every I/O worker's event loop
 *     turns: a worker stopped with ptrace stops the pings, and they resume
 *     when it runs again.
 */
#include <sys/ptrace.h>
#include <sys/un.h>
#include <dirent.h>

#include "helpers/srvtest.h"

/* ---- the manager's side --------------------------------------------------- */

typedef struct nt_msg {
	char text[1024];
	uint64_t at_ms;       /* test's monotonic clock when read */
} nt_msg;

static int nt_fd = -1;
static pid_t nt_traced;                /* a worker thread the test stopped */
static char nt_env[PATH_MAX + 32];    /* "NOTIFY_SOCKET=<path>" */

static uint64_t nt_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Bind the notify socket in the test's directory. */
static void nt_listen(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int n = snprintf(a.sun_path, sizeof a.sun_path, "%s/notify.sock", tu_dir);
	cr_assert(n > 0 && (size_t)n < sizeof a.sun_path, "socket path too long: %s", tu_dir);
	nt_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert(nt_fd >= 0 && bind(nt_fd, (struct sockaddr *)&a, sizeof a) == 0,
	          "notify socket %s: %s", a.sun_path, strerror(errno));
	snprintf(nt_env, sizeof nt_env, "NOTIFY_SOCKET=%s", a.sun_path);
}

/* One message within timeout_ms (0: only one already queued); 1 when read. */
static int nt_recv(nt_msg *m, int timeout_ms)
{
	struct pollfd p = { .fd = nt_fd, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	ssize_t r = recv(nt_fd, m->text, sizeof m->text - 1, MSG_DONTWAIT);
	if (r < 0)
		return 0;
	m->text[r] = 0;
	m->at_ms = nt_now_ms();
	return 1;
}

/* Does msg hold the line field ("READY=1"), or a line starting with it
 * when field ends in '=' ("STATUS=")?  The line's value into val. */
static int nt_field(const char *msg, const char *field, char *val, size_t cap)
{
	size_t fl = strlen(field);
	int prefix = fl && field[fl - 1] == '=';
	for (const char *p = msg; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		size_t ll = strcspn(p, "\n");
		if (ll >= fl && !strncmp(p, field, fl) && (prefix || ll == fl)) {
			if (val)
				snprintf(val, cap, "%.*s", (int)(ll - fl), p + fl);
			return 1;
		}
	}
	return 0;
}

/* Read until a message with field arrives (within timeout_ms); the
 * messages read before it go to before[0..*nbefore) when given. */
static int nt_until(const char *field, nt_msg *out, int timeout_ms, nt_msg *before, int *nbefore,
                    int maxbefore)
{
	uint64_t end = nt_now_ms() + (uint64_t)timeout_ms;
	if (nbefore)
		*nbefore = 0;
	for (;;) {
		uint64_t now = nt_now_ms();
		if (now >= end)
			return 0;
		nt_msg m;
		if (!nt_recv(&m, (int)(end - now)))
			return 0;
		if (nt_field(m.text, field, NULL, 0)) {
			*out = m;
			return 1;
		}
		if (before && *nbefore < maxbefore)
			before[(*nbefore)++] = m;
	}
}

static void nt_setup(void)
{
	nt_listen();
}

static void nt_teardown(void)
{
	if (nt_traced > 0 && ptrace(PTRACE_DETACH, nt_traced, NULL, NULL) != 0) {
		/* not stopped any more: a traced thread must be reaped by us */
		int st;
		for (int i = 0; i < st_nservers; i++)
			kill(st_servers[i].pid, SIGKILL);
		waitpid(nt_traced, &st, __WALL);
	}
	nt_traced = 0;
	st_env = NULL;
	if (nt_fd >= 0)
		close(nt_fd);
	nt_fd = -1;
}

static void nt_setup_uring(void) { st_setup_uring(); nt_setup(); }
static void nt_setup_epoll(void) { st_setup_epoll(); nt_setup(); }
static void nt_fini(void) { nt_teardown(); st_teardown(); }

/* ST_TEST with the notify socket bound first. */
#define NT_TEST(name)                                                               \
	static void notify_##name##_body(void);                                     \
	Test(notify_uring, name, .init = nt_setup_uring, .fini = nt_fini, .timeout = 120) \
	{                                                                           \
		st_require_io();                                                    \
		notify_##name##_body();                                             \
	}                                                                           \
	Test(notify_epoll, name, .init = nt_setup_epoll, .fini = nt_fini, .timeout = 120) \
	{                                                                           \
		notify_##name##_body();                                             \
	}                                                                           \
	static void notify_##name##_body(void)

/* ---- readiness ------------------------------------------------------------ */

NT_TEST(ready_only_once_the_port_accepts)
{
	/* The --snapshot path goes into STATUS: one with newlines stays in it
	 * (no second MAINPID= or READY=1 line). */
	char snap[PATH_MAX + 64];
	snprintf(snap, sizeof snap, "%s/x\nMAINPID=1\nREADY=1.snap", tu_dir);
	cr_assert_eq(rename(st_snap, snap), 0, "rename: %s", strerror(errno));
	const char *env[] = { nt_env, NULL };
	st_env = env;
	st_server *s = st_spawn_args(snap, NULL);

	nt_msg ready, before[16];
	int nbefore;
	cr_assert(nt_until("READY=1", &ready, ST_TIMEOUT_S * 1000, before, &nbefore, 16),
	          "no READY=1 within %d s", ST_TIMEOUT_S);
	/* At READY=1 the server has logged that every listener accepts, and a
	 * client connecting now is answered at once. */
	char *log = st_log_text(s);
	cr_assert(strstr(log, "listening on") && strstr(log, "ready to accept connections"),
	          "READY=1 came before the log said ready:\n%s", log);
	free(log);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "PING"), "+PONG");
	st_close(c);

	char v[1024];
	cr_assert(nt_field(ready.text, "MAINPID=", v, sizeof v), "no MAINPID in %s", ready.text);
	cr_assert_eq(atol(v), (long)s->pid, "MAINPID=%s, the server is %d", v, (int)s->pid);
	cr_assert(nt_field(ready.text, "STATUS=", v, sizeof v) && strstr(v, "ready") &&
	          strstr(v, "/x?MAINPID=1?READY=1.snap"), "READY's status: %s", ready.text);
	int lines = 0;
	for (const char *p = ready.text; p; p = strchr(p + 1, '\n'))
		lines++;
	cr_assert_eq(lines, 3, "READY=1, MAINPID, STATUS and nothing else: %s", ready.text);
	for (int i = 0; i < nbefore; i++)
		cr_assert(!nt_field(before[i].text, "READY=1", NULL, 0) &&
		          !nt_field(before[i].text, "WATCHDOG=1", NULL, 0),
		          "before READY=1: %s", before[i].text);

	/* Nothing else unasked: no watchdog without WATCHDOG_USEC. */
	nt_msg m;
	cr_assert(!nt_recv(&m, 700), "unexpected message: %s", m.text);
	cr_assert(WIFEXITED(st_stop(s, SIGTERM)));
}

NT_TEST(a_start_that_fails_never_says_ready)
{
	const char *env[] = { nt_env, NULL };
	st_env = env;
	/* a port another server listens on */
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	cr_assert(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 &&
	          listen(lfd, 1) == 0 && getsockname(lfd, (struct sockaddr *)&a, &len) == 0);
	char port[16];
	snprintf(port, sizeof port, "%d", ntohs(a.sin_port));
	st_server *s = st_start_args(st_snap, 1, (const char *[]){ "--resp-port", port, NULL });
	close(lfd);
	cr_assert(s->reaped && WIFEXITED(s->status) && WEXITSTATUS(s->status) == 1);

	nt_msg m;
	int status = 0;
	while (nt_recv(&m, 0)) {
		cr_assert(!nt_field(m.text, "READY=1", NULL, 0), "a failed start said %s", m.text);
		char v[1024];
		if (nt_field(m.text, "STATUS=", v, sizeof v) && strstr(v, "cannot start") &&
		    strstr(v, "Address already in use"))
			status = 1;
	}
	cr_assert(status, "no STATUS=cannot start: ... from the failed start");
}

/* ---- reloads -------------------------------------------------------------- */

/* The two messages that frame one swap, both queued by now: RELOADING=1
 * (its MONOTONIC_USEC between t0 and t1, the test's clock in µs) then
 * READY=1; READY's status into status. */
static void expect_reload_frame(uint64_t t0_us, uint64_t t1_us, char *status, size_t cap)
{
	nt_msg a, b;
	cr_assert(nt_recv(&a, 2000), "no RELOADING=1");
	cr_assert(nt_field(a.text, "RELOADING=1", NULL, 0), "expected RELOADING=1, got %s", a.text);
	char v[1024];
	cr_assert(nt_field(a.text, "MONOTONIC_USEC=", v, sizeof v), "no MONOTONIC_USEC: %s", a.text);
	uint64_t us = strtoull(v, NULL, 10);
	cr_assert(us >= t0_us && us <= t1_us, "MONOTONIC_USEC=%s outside %llu..%llu", v,
	          (unsigned long long)t0_us, (unsigned long long)t1_us);
	cr_assert(nt_recv(&b, 2000), "no READY=1 after RELOADING=1");
	cr_assert(nt_field(b.text, "READY=1", NULL, 0), "expected READY=1, got %s", b.text);
	cr_assert(!nt_field(b.text, "MAINPID=", NULL, 0) && !nt_field(b.text, "RELOADING=1", NULL, 0),
	          "READY after a reload: %s", b.text);
	cr_assert(nt_field(b.text, "STATUS=", status, cap), "no STATUS with READY: %s", b.text);
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

NT_TEST(reloading_then_ready_around_each_swap)
{
	const char *env[] = { nt_env, NULL };
	st_env = env;
	st_server *s = st_start(st_snap);
	nt_msg m;
	cr_assert(nt_until("READY=1", &m, ST_TIMEOUT_S * 1000, NULL, NULL, 0));
	st_conn *c = st_connect(s->resp_port);
	char status[1024];

	/* RELOAD: both messages are queued before the reply is sent */
	uint64_t t0 = mono_us();
	cr_assert_str_eq(st_ask(c, "RELOAD"), "+OK 2");
	uint64_t t1 = mono_us();
	expect_reload_frame(t0, t1, status, sizeof status);
	cr_assert(strstr(status, "serving generation 2"), "status %s", status);

	/* refused: framed too, the old generation named */
	t0 = mono_us();
	const char *r = st_ask(c, "RELOAD /nonexistent/x.snap");
	cr_assert(!strncmp(r, "-ERR reload failed", 18), "%s", r);
	t1 = mono_us();
	expect_reload_frame(t0, t1, status, sizeof status);
	cr_assert(strstr(status, "reload failed: ") && strstr(status, "/nonexistent/x.snap") &&
	          strstr(status, "generation 2") && strstr(status, "keeps serving"),
	          "status %s", status);

	/* refused before any job (a path with control characters): nothing */
	r = st_ask(c, "RELOAD /tmp/x\nMAINPID=1");
	cr_assert(!strncmp(r, "-ERR reload failed: bad path", 28), "%s", r);

	/* SIGHUP: the same frame (no reply to wait for: the log says when) */
	t0 = mono_us();
	kill(s->pid, SIGHUP);
	cr_assert(st_log_wait(s, "generation 3", 5000), "SIGHUP did not reload");
	expect_reload_frame(t0, mono_us(), status, sizeof status);
	cr_assert(strstr(status, "serving generation 3"), "status %s", status);
	cr_assert_eq(st_info_num(c, "snapshot_generation"), 3);

	cr_assert(!nt_recv(&m, 300), "unexpected message: %s", m.text);
	st_close(c);
}

/* ---- stopping ------------------------------------------------------------- */

NT_TEST(stopping_on_sigterm)
{
	const char *env[] = { nt_env, NULL };
	st_env = env;
	st_server *s = st_start(st_snap);
	nt_msg m;
	cr_assert(nt_until("READY=1", &m, ST_TIMEOUT_S * 1000, NULL, NULL, 0));
	kill(s->pid, SIGTERM);
	cr_assert(nt_until("STOPPING=1", &m, ST_TIMEOUT_S * 1000, NULL, NULL, 0), "no STOPPING=1");
	char v[1024];
	cr_assert(nt_field(m.text, "STATUS=", v, sizeof v) && strstr(v, "draining"), "%s", m.text);
	int st = st_stop(s, 0);   /* SIGTERM was sent: signal 0 only waits */
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
	while (nt_recv(&m, 0))
		cr_assert(!nt_field(m.text, "READY=1", NULL, 0), "after STOPPING=1: %s", m.text);
}

/* ---- the watchdog --------------------------------------------------------- */

#define WD_USEC 600000       /* pings every 300 ms */

/* The WATCHDOG=1 messages read in ms milliseconds: their count, and the
 * longest gap between two of them (or from the start) into *gap. */
static int count_pings(int ms, uint64_t *gap)
{
	uint64_t start = nt_now_ms(), end = start + (uint64_t)ms, last = start;
	int n = 0;
	*gap = 0;
	nt_msg m;
	for (uint64_t now; (now = nt_now_ms()) < end;) {
		if (!nt_recv(&m, (int)(end - now)))
			break;
		cr_assert(nt_field(m.text, "WATCHDOG=1", NULL, 0) || nt_field(m.text, "STATUS=", NULL, 0),
		          "unexpected message: %s", m.text);
		if (!nt_field(m.text, "WATCHDOG=1", NULL, 0))
			continue;
		if (m.at_ms - last > *gap)
			*gap = m.at_ms - last;
		last = m.at_ms;
		n++;
	}
	if (end - last > *gap)
		*gap = end - last;
	return n;
}

NT_TEST(watchdog_every_half_interval)
{
	char usec[64];
	snprintf(usec, sizeof usec, "WATCHDOG_USEC=%d", WD_USEC);
	const char *env[] = { nt_env, usec, "WATCHDOG_PID=$PID", NULL };
	st_env = env;
	st_server *s = st_start(st_snap);
	nt_msg m;
	cr_assert(nt_until("READY=1", &m, ST_TIMEOUT_S * 1000, NULL, NULL, 0));
	uint64_t gap;
	int n = count_pings(3000, &gap);
	/* 10 expected; a ping must come within the interval, always */
	cr_assert(n >= 6 && gap < WD_USEC / 1000, "%d pings in 3 s, longest gap %llu ms", n,
	          (unsigned long long)gap);
	char *log = st_log_text(s);
	cr_assert(strstr(log, "watchdog: WATCHDOG=1 to systemd every 300 ms"), "%s", log);
	free(log);

	/* WATCHDOG_PID names another process (the manager watches that one) */
	kill(s->pid, SIGKILL);
	st_reap(s, 1);
	while (nt_recv(&m, 0))
		;
	const char *env2[] = { nt_env, usec, "WATCHDOG_PID=1", NULL };
	st_env = env2;
	st_server *other = st_start(st_snap);
	cr_assert(nt_until("READY=1", &m, ST_TIMEOUT_S * 1000, NULL, NULL, 0));
	cr_assert(!nt_until("WATCHDOG=1", &m, 1200, NULL, NULL, 0),
	          "WATCHDOG=1 sent though WATCHDOG_PID is another process");
	log = st_log_text(other);
	cr_assert(!strstr(log, "watchdog:"), "%s", log);
	free(log);
}

/* The thread id of the server's thread named name, or 0. */
static pid_t thread_named(pid_t pid, const char *name)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	pid_t found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[PATH_MAX], comm[64] = "";
		snprintf(p, sizeof p, "%s/%s/comm", dir, e->d_name);
		FILE *f = fopen(p, "r");
		if (f) {
			if (fgets(comm, sizeof comm, f))
				comm[strcspn(comm, "\n")] = 0;
			fclose(f);
		}
		if (!strcmp(comm, name))
			found = (pid_t)atoi(e->d_name);
	}
	closedir(d);
	return found;
}

NT_TEST(watchdog_stops_while_an_event_loop_is_wedged)
{
	char usec[64];
	snprintf(usec, sizeof usec, "WATCHDOG_USEC=%d", WD_USEC);
	const char *env[] = { nt_env, usec, "WATCHDOG_PID=$PID", NULL };
	st_env = env;
	st_server *s = st_start(st_snap);
	nt_msg m;
	cr_assert(nt_until("READY=1", &m, ST_TIMEOUT_S * 1000, NULL, NULL, 0));
	uint64_t gap;
	cr_assert(count_pings(1000, &gap) >= 2);

	/* Wedge worker 1's event loop: stop that one thread (ptrace), the rest
	 * of the process, the main thread that pings included, runs on. */
	pid_t tid = thread_named(s->pid, "sxgated-io-1");
	cr_assert(tid > 0, "no thread sxgated-io-1 in /proc/%d/task", (int)s->pid);
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0)
		cr_skip_test("cannot ptrace the server's worker thread here (%s): a wedged "
		             "event loop cannot be made", strerror(errno));
	nt_traced = tid;
	cr_assert_eq(ptrace(PTRACE_INTERRUPT, tid, NULL, NULL), 0, "PTRACE_INTERRUPT: %s",
	             strerror(errno));
	int wst;
	cr_assert_eq(waitpid(tid, &wst, __WALL), tid, "waitpid(thread): %s", strerror(errno));
	cr_assert(WIFSTOPPED(wst));
	uint64_t t0 = nt_now_ms();

	/* Pings stop once the worker is 3 s (SX_WATCHDOG_STALE_MS) behind,
	 * plus a check interval; then none at all. */
	uint64_t last = t0;
	while (nt_now_ms() - t0 < 8000 && nt_recv(&m, 1500))
		if (nt_field(m.text, "WATCHDOG=1", NULL, 0))
			last = m.at_ms;
	uint64_t quiet_from = nt_now_ms();
	cr_assert(last - t0 <= 3000 + 1000, "pings went on %llu ms after the worker stopped",
	          (unsigned long long)(last - t0));
	cr_assert(quiet_from - t0 <= 3000 + 1000 + 1500 + 500,
	          "the pings never stopped (%llu ms)", (unsigned long long)(quiet_from - t0));
	char *log = st_log_text(s);
	cr_assert(strstr(log, "watchdog: I/O worker 1 (thread sxgated-io-1) last began a loop "
	                      "iteration") && strstr(log, "no WATCHDOG=1 to systemd"), "%s", log);
	free(log);

	/* It runs again: the pings resume at once. */
	cr_assert_eq(ptrace(PTRACE_DETACH, tid, NULL, NULL), 0, "PTRACE_DETACH: %s", strerror(errno));
	nt_traced = 0;
	cr_assert(nt_until("WATCHDOG=1", &m, 1500, NULL, NULL, 0), "no ping after the worker resumed");
	cr_assert(count_pings(1500, &gap) >= 3 && gap < WD_USEC / 1000, "gap %llu ms",
	          (unsigned long long)gap);
	cr_assert(st_log_wait(s, "every I/O worker turns again", 1000));
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "PING"), "+PONG");
	st_close(c);
	int st = st_stop(s, SIGTERM);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
