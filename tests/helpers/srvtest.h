/*
 * srvtest.h - helpers for the server's integration tests: start the real
 * bin/sxgated on free loopback ports, wait for "ready", talk RESP and the
 * binary protocol over the wire, and always kill the server at the end.
 *
 * Like testutil.h, everything is `static` in this header (the Makefile
 * links each tests/test_*.c on its own), unused ones cost nothing.
 *
 * Every scenario runs on both I/O backends: ST_TEST(suite, name) defines
 * suite_uring::name and suite_epoll::name with one body.  The io_uring
 * variant asks the server's own probe (sx_uring_probe) and is reported as
 * skipped, with the reason, where io_uring is unusable; it never passes
 * silently.  Each variant gets a scratch directory and a teardown that
 * SIGKILLs every server the test started (also after a failed assertion),
 * and a started server also dies with the test process (PR_SET_PDEATHSIG),
 * so a crash never leaves one behind.
 *
 * SXGATED_BIN=/path/to/sxgated runs the suite against another build of
 * the server (a sanitizer build, say) instead of bin/sxgated;
 * SXGATE_BIN_DIR=DIR takes every program from DIR (tests/sanitize.sh).
 *
 * Ports: bind port 0, read the port the kernel chose, close, pass it on
 * (another process could take it in between; on a test box that does not
 * happen in practice, and the server would then fail loudly).
 */
#ifndef SX_SRVTEST_H
#define SX_SRVTEST_H

#include <arpa/inet.h>
#include <crypt.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../testutil.h"
#include "build.h"
#include "sxproto.h"
#include "worker.h"     /* sx_uring_probe */

#define ST_UNUSED __attribute__((unused))
#define ST_TIMEOUT_S 10

/* ---- the server under test -------------------------------------------- */

typedef struct st_server {
	pid_t pid;
	int resp_port, bin_port, metrics_port;
	char log[PATH_MAX + 64];
	int status;          /* wait status once reaped */
	int reaped;
} st_server;

#define ST_MAX_SERVERS 4
static st_server st_servers[ST_MAX_SERVERS];
static int st_nservers;
static const char *st_io = "epoll";      /* backend of the running variant */
/* What st_start waits for in the log; NULL: for the RESP port to accept
 * (a --log-level that drops the "ready" line).  st_setup resets it. */
static const char *st_ready_line = "ready to accept connections";
static char st_snap[PATH_MAX + 64];         /* the sample snapshot, built per test */

ST_UNUSED static int st_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	          getsockname(fd, (struct sockaddr *)&a, &len) == 0, "free port: %s", strerror(errno));
	close(fd);
	return ntohs(a.sin_port);
}

/* Build a snapshot from list (and permits) CSV files with the loader
 * library; as_of is an ISO time or NULL. */
ST_UNUSED static void st_build(const char *list, const char *permits,
                               const char *out, const char *as_of)
{
	sx_build_opts o = { .input = list, .permits = permits, .output = out,
	                    .as_of = SX_AS_OF_NONE, .max_rejects = -1, .threads = 1 };
	if (as_of)
		cr_assert_eq(sx_time_parse(as_of, &o.as_of), 0, "bad as-of %s", as_of);
	sx_build_report r;
	char why[1024] = "";
	int rc = sx_build(&o, &r, why, sizeof why);
	cr_assert_eq(rc, 0, "build %s: %s", out, why);
}

/* The sample snapshot (../shared/data) into dir/sample.snap. */
ST_UNUSED static const char *st_sample_snap(const char *dir, char *buf, size_t cap)
{
	char list[PATH_MAX], permits[PATH_MAX];
	cr_assert_not_null(tu_data_path("sample-list.csv", list, sizeof list),
	                   "../shared/data/sample-list.csv is missing");
	const char *p = tu_data_path("sample-permits.csv", permits, sizeof permits);
	snprintf(buf, cap, "%s/sample.snap", dir);
	st_build(list, p, buf, NULL);
	return buf;
}

ST_UNUSED static char *st_log_text(const st_server *s)
{
	size_t n;
	char *t = tu_read(s->log, &n);
	return t ? t : strdup("");
}

ST_UNUSED static int st_reap(st_server *s, int block)
{
	if (s->reaped)
		return 1;
	pid_t r = waitpid(s->pid, &s->status, block ? 0 : WNOHANG);
	if (r == s->pid) {
		s->reaped = 1;
		return 1;
	}
	return 0;
}

/* Poll the log for needle until timeout_ms; 1 when found. */
ST_UNUSED static int st_log_wait(st_server *s, const char *needle, int timeout_ms)
{
	for (int t = 0; t <= timeout_ms; t += 10) {
		char *text = st_log_text(s);
		int found = strstr(text, needle) != NULL;
		free(text);
		if (found)
			return 1;
		if (st_reap(s, 0))
			return 0;
		usleep(10 * 1000);
	}
	return 0;
}

/*
 * More environment for the servers started next: NULL-terminated
 * "NAME=VALUE" entries added to the test's own (NULL: none).  The value
 * "$PID" becomes the server's own PID (as systemd sets WATCHDOG_PID).
 */
ST_UNUSED static const char *const *st_env;

/* v as decimal into out (async-signal-safe: for the child after fork). */
ST_UNUSED static void st_utoa(unsigned long v, char *out)
{
	char d[24];
	int n = 0;
	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*out++ = d[--n];
	*out = 0;
}

/*
 * Start bin/sxgated with snap on free ports and the running variant's
 * backend, plus the NULL-terminated extra arguments, with st_env; return
 * at once (st_start_args waits for "ready").
 */
ST_UNUSED static st_server *st_spawn_args(const char *snap, const char **extra)
{
	cr_assert(st_nservers < ST_MAX_SERVERS);
	st_server *s = &st_servers[st_nservers++];
	memset(s, 0, sizeof *s);
	s->resp_port = st_free_port();
	do
		s->bin_port = st_free_port();
	while (s->bin_port == s->resp_port);
	snprintf(s->log, sizeof s->log, "%s/sxgated-%d.log", tu_dir, st_nservers);

	char exe[PATH_MAX], rp[16], bp[16];
	const char *alt = getenv("SXGATED_BIN");   /* e.g. a sanitizer build */
	if (alt && *alt)
		snprintf(exe, sizeof exe, "%s", alt);
	else
		tu_bin("sxgated", exe, sizeof exe);
	snprintf(rp, sizeof rp, "%d", s->resp_port);
	snprintf(bp, sizeof bp, "%d", s->bin_port);
	const char *argv[64] = { exe, "--snapshot", snap, "--resp-port", rp, "--bin-port", bp,
	                         "--io", st_io, "--threads", "2" };
	int argc = 11;
	for (int i = 0; extra && extra[i]; i++) {
		cr_assert(argc < 62);
		argv[argc++] = extra[i];
	}
	argv[argc] = NULL;

	/* The environment, built before the fork: the test's own less the
	 * names st_env sets, then st_env; a "$PID" value is filled in by the
	 * child. */
	extern char **environ;
	size_t nenv = 0, nextra = 0, total = 0;
	while (environ[total])
		total++;
	while (st_env && st_env[nextra])
		nextra++;
	char **envp = calloc(total + nextra + 1, sizeof *envp);
	char *pid_slot[8] = { 0 }, *pid_entry[8] = { 0 };
	int npid = 0;
	for (size_t i = 0; i < total; i++) {
		size_t kl = strcspn(environ[i], "=");
		int shadowed = 0;
		for (size_t k = 0; k < nextra && !shadowed; k++)
			shadowed = !strncmp(st_env[k], environ[i], kl) && st_env[k][kl] == '=';
		if (!shadowed)
			envp[nenv++] = environ[i];
	}
	for (size_t i = 0; i < nextra; i++) {
		const char *eq = strchr(st_env[i], '=');
		cr_assert_not_null(eq, "st_env entry '%s' has no '='", st_env[i]);
		if (!strcmp(eq + 1, "$PID")) {
			cr_assert(npid < 8);
			char *e = calloc(1, (size_t)(eq - st_env[i]) + 1 + 24);
			memcpy(e, st_env[i], (size_t)(eq - st_env[i]) + 1);
			pid_entry[npid] = e;
			pid_slot[npid++] = e + (eq - st_env[i]) + 1;
			envp[nenv + i] = e;
		} else {
			envp[nenv + i] = (char *)st_env[i];
		}
	}

	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		/* Only async-signal-safe calls between fork and exec. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
			_exit(126);
		for (int i = 0; i < npid; i++)
			st_utoa((unsigned long)getpid(), pid_slot[i]);
		execve(exe, (char *const *)argv, envp);
		static const char msg[] = "srvtest: exec of sxgated failed\n";
		ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
		(void)w;
		_exit(127);
	}
	s->pid = pid;
	for (int i = 0; i < npid; i++)
		free(pid_entry[i]);
	free(envp);
	return s;
}

/*
 * Start bin/sxgated with snap on free ports and the running variant's
 * backend, plus the NULL-terminated extra arguments; wait for "ready".
 * With expect_fail, return as soon as the server exits (not ready).
 */
ST_UNUSED static st_server *st_start_args(const char *snap, int expect_fail, const char **extra)
{
	st_server *s = st_spawn_args(snap, extra);
	if (expect_fail) {
		for (int t = 0; t < ST_TIMEOUT_S * 100 && !st_reap(s, 0); t++)
			usleep(10 * 1000);
		return s;
	}
	int ready = 0;
	if (st_ready_line) {
		ready = st_log_wait(s, st_ready_line, ST_TIMEOUT_S * 1000);
	} else {
		for (int t = 0; t < ST_TIMEOUT_S * 100 && !ready && !st_reap(s, 0); t++) {
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			struct sockaddr_in a = { .sin_family = AF_INET,
			                         .sin_port = htons((uint16_t)s->resp_port),
			                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
			ready = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
			close(fd);
			if (!ready)
				usleep(10 * 1000);
		}
	}
	if (!ready) {
		char *text = st_log_text(s);
		cr_assert_fail("sxgated did not become ready (%s %d); its log:\n%s",
		               !s->reaped ? "still running, pid" : WIFSIGNALED(s->status) ?
		               "killed by signal" : "exit status",
		               !s->reaped ? (int)s->pid : WIFSIGNALED(s->status) ?
		               WTERMSIG(s->status) : WEXITSTATUS(s->status), text);
	}
	return s;
}

#define st_start(snap, ...) st_start_args((snap), 0, (const char *[]){ __VA_ARGS__ __VA_OPT__(,) NULL })

/* Send a signal and wait for the exit; returns the wait status. */
ST_UNUSED static int st_stop(st_server *s, int sig)
{
	if (!s->reaped)
		kill(s->pid, sig);
	for (int t = 0; t < ST_TIMEOUT_S * 100 && !st_reap(s, 0); t++)
		usleep(10 * 1000);
	cr_assert(s->reaped, "sxgated %d did not exit after signal %d", (int)s->pid, sig);
	return s->status;
}

ST_UNUSED static void st_require_io(void)
{
	if (!strcmp(st_io, "uring")) {
		unsigned flags;
		char desc[256], why[256];
		if (sx_uring_probe(&flags, desc, sizeof desc, why, sizeof why))
			cr_skip_test("io_uring is unavailable here (%s): the uring variant is skipped", why);
	}
}

ST_UNUSED static void st_setup(void)
{
	tu_setup();
	st_nservers = 0;
	st_ready_line = "ready to accept connections";
	st_sample_snap(tu_dir, st_snap, sizeof st_snap);
}

ST_UNUSED static void st_setup_uring(void)
{
	st_io = "uring";
	st_setup();
}

ST_UNUSED static void st_setup_epoll(void)
{
	st_io = "epoll";
	st_setup();
}

ST_UNUSED static void st_teardown(void)
{
	for (int i = 0; i < st_nservers; i++) {
		st_server *s = &st_servers[i];
		if (!s->reaped) {
			kill(s->pid, SIGKILL);
			st_reap(s, 1);
		}
	}
	st_nservers = 0;
	tu_teardown();
}

/* One body, both backends. */
#define ST_TEST(suite, name, ...)                                                   \
	static void suite##_##name##_body(void);                                    \
	Test(suite##_uring, name, .init = st_setup_uring, .fini = st_teardown,       \
	     .timeout = 120, ##__VA_ARGS__)                                         \
	{                                                                           \
		st_require_io();                                                    \
		suite##_##name##_body();                                            \
	}                                                                           \
	Test(suite##_epoll, name, .init = st_setup_epoll, .fini = st_teardown,       \
	     .timeout = 120, ##__VA_ARGS__)                                         \
	{                                                                           \
		suite##_##name##_body();                                            \
	}                                                                           \
	static void suite##_##name##_body(void)

/* A yescrypt hash of secret for a tenants file (crypt(3), as `sxgate
 * tenant-hash` makes it). */
ST_UNUSED static void st_hash(const char *secret, char *out, size_t cap)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	cr_assert_not_null(crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt));
	cr_assert(!strncmp(salt, "$y$j9T$", 7), "salt %s", salt);
	struct crypt_data *cd = calloc(1, sizeof *cd);
	const char *h = crypt_r(secret, salt, cd);
	cr_assert(h && h[0] == '$', "crypt_r failed");
	snprintf(out, cap, "%s", h);
	free(cd);
}

/* ---- a client connection ------------------------------------------------ */

typedef struct st_conn {
	int fd;
	char *buf;
	size_t len, off, cap;
	int eof;
} st_conn;

ST_UNUSED static st_conn *st_connect_from(int port, const char *src);
ST_UNUSED static st_conn *st_connect(int port)
{
	return st_connect_from(port, NULL);
}

/* A connection to port from the local address src ("127.0.0.2": Linux
 * answers the whole of 127.0.0.0/8 on the loopback), to be a client the
 * server sees at another address; NULL: any (the kernel picks). */
ST_UNUSED static st_conn *st_connect_from(int port, const char *src)
{
	st_conn *c = calloc(1, sizeof *c);
	cr_assert_not_null(c);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in b = { .sin_family = AF_INET };
	if (src)
		cr_assert_eq(inet_pton(AF_INET, src, &b.sin_addr), 1, "source %s", src);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert(c->fd >= 0 && (!src || bind(c->fd, (struct sockaddr *)&b, sizeof b) == 0) &&
	          connect(c->fd, (struct sockaddr *)&a, sizeof a) == 0,
	          "connect to port %d from %s: %s", port, src ? src : "any", strerror(errno));
	struct timeval tv = { .tv_sec = ST_TIMEOUT_S };
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->cap = 1 << 16;
	c->buf = malloc(c->cap);
	return c;
}

/* A PROXY protocol v2 header (server/proxyproto.h) into out (at least 52
 * bytes): a PROXY command naming client (IPv4 or IPv6 text) as the source,
 * port 40000, to 127.0.0.1 or ::1 port dport; client NULL: a LOCAL header
 * (a proxy's own health check).  Returns its length. */
ST_UNUSED static size_t st_proxy_v2(uint8_t *out, const char *client, int dport)
{
	static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
	                                 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
	memcpy(out, sig, 12);
	if (!client) {
		out[12] = 0x20;
		out[13] = out[14] = out[15] = 0;
		return 16;
	}
	int v6 = strchr(client, ':') != NULL;
	size_t al = v6 ? 16 : 4, n = 16;
	out[12] = 0x21;
	out[13] = v6 ? 0x21 : 0x11;
	out[14] = 0;
	out[15] = (uint8_t)(2 * al + 4);
	cr_assert_eq(inet_pton(v6 ? AF_INET6 : AF_INET, client, out + n), 1, "client %s", client);
	n += al;
	cr_assert_eq(inet_pton(v6 ? AF_INET6 : AF_INET, v6 ? "::1" : "127.0.0.1", out + n), 1);
	n += al;
	out[n++] = 40000 >> 8;
	out[n++] = 40000 & 0xff;
	out[n++] = (uint8_t)(dport >> 8);
	out[n++] = (uint8_t)dport;
	return n;
}

/* Connect to port as a proxy would for client (NULL: LOCAL): the v2
 * header is sent first, alone. */
ST_UNUSED static st_conn *st_connect_proxied(int port, const char *client)
{
	st_conn *c = st_connect(port);
	uint8_t h[64];
	size_t n = st_proxy_v2(h, client, port);
	ssize_t w = send(c->fd, h, n, MSG_NOSIGNAL);
	cr_assert_eq(w, (ssize_t)n, "send the PROXY header: %s", strerror(errno));
	return c;
}

ST_UNUSED static void st_close(st_conn *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

/* Send everything; 0, or -errno when the server has closed. */
ST_UNUSED static int st_send_raw(st_conn *c, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

ST_UNUSED static void st_send(st_conn *c, const void *p, size_t n)
{
	int rc = st_send_raw(c, p, n);
	cr_assert_eq(rc, 0, "send: %s", strerror(-rc));
}

ST_UNUSED static void st_send_str(st_conn *c, const char *s)
{
	st_send(c, s, strlen(s));
}

/* Read more bytes into the buffer; 0 at EOF (or reset), -1 on timeout. */
ST_UNUSED static int st_fill(st_conn *c)
{
	if (c->off > 0 && c->off == c->len)
		c->off = c->len = 0;
	if (c->cap - c->len < 4096) {
		if (c->off) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->cap - c->len < 4096) {
			c->cap *= 2;
			c->buf = realloc(c->buf, c->cap);
		}
	}
	ssize_t r;
	do
		r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		c->len += (size_t)r;
		return 1;
	}
	if (r == 0 || errno == ECONNRESET) {
		c->eof = 1;
		return 0;
	}
	return -1;
}

/* 1 when the server closed the connection (after any unread data), 0 when
 * it is still open after timeout_ms. */
ST_UNUSED static int st_closed_by_server(st_conn *c, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	int rc;
	while ((rc = st_fill(c)) > 0)
		c->off = c->len;      /* drop data */
	tv.tv_sec = ST_TIMEOUT_S;
	tv.tv_usec = 0;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return rc == 0;
}

/* ---- RESP -------------------------------------------------------------- */

/* Multibulk for the words of line (split at single spaces). */
ST_UNUSED static size_t st_resp_encode(const char *line, char *out, size_t cap)
{
	enum { MAXW = 4096 };
	const char **w = malloc(MAXW * sizeof *w);
	size_t *wl = malloc(MAXW * sizeof *wl), n = 0;
	for (const char *p = line; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, ' ');
		if (!e)
			e = p + strlen(p);
		cr_assert(n < MAXW);
		w[n] = p;
		wl[n++] = (size_t)(e - p);
		p = e;
	}
	size_t len = (size_t)snprintf(out, cap, "*%zu\r\n", n);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, cap - len, "$%zu\r\n%.*s\r\n", wl[i], (int)wl[i], w[i]);
	free(w);
	free(wl);
	cr_assert(len < cap);
	return len;
}

ST_UNUSED static void st_cmd(st_conn *c, const char *line)
{
	char buf[8192];
	size_t n = st_resp_encode(line, buf, sizeof buf);
	st_send(c, buf, n);
}

/* One RESP reply rendered as text: +s and -s as they are, :n, bulk as its
 * bytes, nil as (nil), arrays as [a, b, ...].  NULL when the connection
 * closed first.  malloc'd. */
typedef struct st_sb { char *p; size_t n, cap; } st_sb;

ST_UNUSED static void st_sb_put(st_sb *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
}

/* A line at the read position (without CRLF); -1 when closed. */
ST_UNUSED static int st_line(st_conn *c, char **line, size_t *n)
{
	for (;;) {
		char *start = c->buf + c->off;
		char *nl = memmem(start, c->len - c->off, "\r\n", 2);
		if (nl) {
			*line = start;
			*n = (size_t)(nl - start);
			c->off += *n + 2;
			return 0;
		}
		int r = st_fill(c);
		if (r <= 0)
			return -1;
	}
}

ST_UNUSED static int st_reply_into(st_conn *c, st_sb *b)
{
	char *l;
	size_t n;
	if (st_line(c, &l, &n))
		return -1;
	char type = l[0];
	char num[32];                /* the line is not NUL-terminated */
	size_t k = n == 0 ? 0 : n - 1 < sizeof num - 1 ? n - 1 : sizeof num - 1;
	memcpy(num, l + 1, k);
	num[k] = 0;
	long long v = strtoll(num, NULL, 10);
	switch (type) {
	case '+':
	case '-':
		st_sb_put(b, l, n);
		return 0;
	case ':':
		st_sb_put(b, l, n);
		return 0;
	case '$':
		if (v < 0) {
			st_sb_put(b, "(nil)", 5);
			return 0;
		}
		while (c->len - c->off < (size_t)v + 2)
			if (st_fill(c) <= 0)
				return -1;
		st_sb_put(b, c->buf + c->off, (size_t)v);
		c->off += (size_t)v + 2;
		return 0;
	case '*':
		st_sb_put(b, "[", 1);
		for (long long i = 0; i < v; i++) {
			if (i)
				st_sb_put(b, ", ", 2);
			if (st_reply_into(c, b))
				return -1;
		}
		st_sb_put(b, "]", 1);
		return 0;
	default:
		cr_assert_fail("not a RESP reply: '%.*s'", (int)n, l);
		return -1;
	}
}

ST_UNUSED static char *st_reply(st_conn *c)
{
	st_sb b = { 0 };
	st_sb_put(&b, "", 0);
	if (st_reply_into(c, &b)) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* A RESP reply held in memory (an EXEC reply body) rendered as st_reply
 * does; NULL when it is not one whole reply. */
ST_UNUSED static char *st_reply_from(const void *p, size_t n)
{
	st_conn c = { .fd = -1, .buf = malloc(n + 1), .len = n, .cap = n + 1 };
	memcpy(c.buf, p, n);
	st_sb b = { 0 };
	st_sb_put(&b, "", 0);
	int rc = st_reply_into(&c, &b);
	int whole = rc == 0 && c.off == n;
	free(c.buf);
	if (!whole) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* Send line as multibulk, return the reply text (static buffer reused). */
ST_UNUSED static const char *st_ask(st_conn *c, const char *line)
{
	static __thread char *last;
	free(last);
	st_cmd(c, line);
	last = st_reply(c);
	cr_assert_not_null(last, "no reply to '%s': connection closed", line);
	return last;
}

/* st_ask with a printf-formatted command line. */
__attribute__((format(printf, 2, 3)))
ST_UNUSED static const char *st_askf(st_conn *c, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	cr_assert(n > 0 && (size_t)n < sizeof line);
	return st_ask(c, line);
}

ST_UNUSED static void st_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Same, sent as an inline command. */
ST_UNUSED static const char *st_ask_inline(st_conn *c, const char *line)
{
	static __thread char *last;
	free(last);
	st_send_str(c, line);
	st_send_str(c, "\r\n");
	last = st_reply(c);
	cr_assert_not_null(last, "no reply to inline '%s': connection closed", line);
	return last;
}

/* The value of key in an INFO text ("key:value\r\n"), into buf. */
ST_UNUSED static const char *st_info_get(const char *info, const char *key, char *buf, size_t cap)
{
	size_t kl = strlen(key);
	for (const char *p = info; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == ':') {
			const char *v = p + kl + 1;
			size_t n = strcspn(v, "\r\n");
			snprintf(buf, cap, "%.*s", (int)n, v);
			return buf;
		}
	}
	buf[0] = 0;
	return NULL;
}

ST_UNUSED static long long st_info_num(st_conn *c, const char *key)
{
	char v[64];
	const char *info = st_ask(c, "INFO");
	cr_assert_not_null(st_info_get(info, key, v, sizeof v), "INFO has no %s", key);
	return strtoll(v, NULL, 10);
}

/* ---- the binary protocol ------------------------------------------------ */

typedef struct st_frame {
	uint32_t len;
	uint8_t op, flags;
	uint16_t count;
	uint32_t req;
	uint8_t *body;       /* points into a static buffer, valid until the next read */
} st_frame;

typedef struct st_out { uint8_t b[1 << 20]; size_t n; } st_out;

ST_UNUSED static void st_put8(st_out *o, unsigned v) { o->b[o->n++] = (uint8_t)v; }
ST_UNUSED static void st_put16(st_out *o, unsigned v) { st_put8(o, v & 0xff); st_put8(o, v >> 8); }
ST_UNUSED static void st_put32(st_out *o, uint32_t v) { st_put16(o, v & 0xffff); st_put16(o, v >> 16); }
ST_UNUSED static void st_putstr8(st_out *o, const char *s)
{
	size_t n = strlen(s);
	st_put8(o, (unsigned)n);
	memcpy(o->b + o->n, s, n);
	o->n += n;
}
ST_UNUSED static uint16_t st_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
ST_UNUSED static uint32_t st_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Start a frame in o (header patched by st_frame_end). */
ST_UNUSED static size_t st_frame_begin(st_out *o, unsigned op, unsigned count, uint32_t req)
{
	size_t at = o->n;
	st_put32(o, 0);
	st_put8(o, op);
	st_put8(o, 0);
	st_put16(o, count);
	st_put32(o, req);
	return at;
}

ST_UNUSED static void st_frame_end(st_out *o, size_t at)
{
	uint32_t len = (uint32_t)(o->n - at - SXB_HEADER);
	o->b[at] = (uint8_t)len;
	o->b[at + 1] = (uint8_t)(len >> 8);
	o->b[at + 2] = (uint8_t)(len >> 16);
	o->b[at + 3] = (uint8_t)(len >> 24);
}

/* Read one frame; 0, or -1 when the connection closed first. */
ST_UNUSED static int st_frame_read(st_conn *c, st_frame *f)
{
	while (c->len - c->off < SXB_HEADER)
		if (st_fill(c) <= 0)
			return -1;
	const uint8_t *h = (const uint8_t *)c->buf + c->off;
	f->len = st_get32(h);
	f->op = h[4];
	f->flags = h[5];
	f->count = st_get16(h + 6);
	f->req = st_get32(h + 8);
	cr_assert(f->len <= SXB_MAX_BODY, "reply frame of %u bytes", f->len);
	while (c->len - c->off < SXB_HEADER + (size_t)f->len)
		if (st_fill(c) <= 0)
			return -1;
	static __thread uint8_t body[SXB_MAX_BODY + 1];   /* per thread: tests read from several */
	memcpy(body, c->buf + c->off + SXB_HEADER, f->len);
	body[f->len] = 0;
	f->body = body;
	c->off += SXB_HEADER + f->len;
	return 0;
}

/* HELLO speaking versions lo..hi; the server must choose hi. */
ST_UNUSED static void st_bin_hello_v(st_conn *c, int auth_required, unsigned lo,
                                     unsigned hi)
{
	st_out *o = calloc(1, sizeof *o);
	size_t at = st_frame_begin(o, SXB_OP_HELLO, 0, 1);
	memcpy(o->b + o->n, "SXGB", 4);
	o->n += 4;
	st_put16(o, lo);
	st_put16(o, hi);
	st_frame_end(o, at);
	st_send(c, o->b, o->n);
	free(o);
	st_frame f;
	cr_assert_eq(st_frame_read(c, &f), 0, "no HELLO reply");
	cr_assert_eq(f.op, SXB_OP_HELLO_REPLY, "HELLO answered with op 0x%02x: %.*s", f.op,
	             (int)f.len, f.body);
	cr_assert_eq(f.len, 12);
	cr_assert_eq(st_get16(f.body), hi);
	cr_assert_eq(st_get16(f.body + 2) & 1, (unsigned)auth_required);
	cr_assert_eq(st_get32(f.body + 4), SXB_MAX_BODY);
	cr_assert_eq(st_get32(f.body + 8), SXB_MAX_BATCH);
}

/* HELLO as the client library sends it: every version it speaks. */
ST_UNUSED static void st_bin_hello(st_conn *c, int auth_required)
{
	st_bin_hello_v(c, auth_required, SXB_VERSION_MIN, SXB_VERSION);
}

/* A CHECK (or LISTED) frame: context words, then IDs. */
ST_UNUSED static void st_bin_query(st_out *o, unsigned op, uint32_t req, const char *chan,
                                   const char *cls, const char *type, const char *at,
                                   const char *const *ids, unsigned n)
{
	size_t h = st_frame_begin(o, op, n, req);
	st_putstr8(o, chan);
	st_putstr8(o, cls);
	st_putstr8(o, type);
	st_putstr8(o, at);
	for (unsigned i = 0; i < n; i++)
		st_putstr8(o, ids[i]);
	st_frame_end(o, h);
}

/* The items of a CHECK reply rendered like RESP replies: "[DENY, LISTED,
 * rec]" for a decision, "-ERR ..." for an error; joined with " ; ". */
ST_UNUSED static char *st_bin_check_text(const st_frame *f)
{
	static const char *const reasons[] = { "LISTED", "SUSPENDED", "EXEMPT",
	                                       "NOT_RESTRICTED", "NOT_LISTED" };
	st_sb b = { 0 };
	st_sb_put(&b, "", 0);
	const uint8_t *p = f->body, *end = f->body + f->len;
	for (unsigned i = 0; i < f->count; i++) {
		cr_assert(end - p >= 6, "CHECK reply item %u truncated", i);
		unsigned kind = p[0], dec = p[1], reason = p[2], n = st_get16(p + 4);
		p += 6;
		if (i)
			st_sb_put(&b, " ; ", 3);
		if (kind == 1) {
			st_sb_put(&b, "-", 1);
			st_sb_put(&b, (const char *)p, n);
			p += n;
			continue;
		}
		cr_assert_eq(kind, 0);
		cr_assert(reason < 5);
		cr_assert(reason == 0 ? dec == 1 || dec == 2 : dec == 0,
		          "decision byte %u for reason %u", dec, reason);
		const char *dn = dec == 2 ? "REVIEW" : dec ? "DENY" : "ALLOW";
		st_sb_put(&b, "[", 1);
		st_sb_put(&b, dn, strlen(dn));
		st_sb_put(&b, ", ", 2);
		st_sb_put(&b, reasons[reason], strlen(reasons[reason]));
		for (unsigned r = 0; r < n; r++) {
			unsigned rl = st_get16(p);
			p += 2;
			st_sb_put(&b, ", ", 2);
			st_sb_put(&b, (const char *)p, rl);
			p += rl;
		}
		st_sb_put(&b, "]", 1);
	}
	cr_assert(p == end, "CHECK reply has %td bytes after its items", end - p);
	return b.p;
}

/* The message of an ERROR frame (static). */
ST_UNUSED static const char *st_bin_error_text(const st_frame *f)
{
	static char msg[1024];
	cr_assert_eq(f->op, SXB_OP_ERROR, "expected ERROR, got op 0x%02x", f->op);
	cr_assert(f->len >= 2 && st_get16(f->body) == f->len - 2, "ERROR frame length");
	snprintf(msg, sizeof msg, "%.*s", (int)(f->len - 2), (const char *)f->body + 2);
	return msg;
}

/* ---- the sample data ------------------------------------------------------ */

#define ST_DENY_ID   "350304197806263293"   /* active, all codes */
#define ST_DENY_REC  "（2023）闽05执1001号|泉州市中级人民法院|debtor|SX"
#define ST_FREE_ID   "350304199509279511"   /* revoked: NOT_LISTED */
#define ST_AT        "AT 2026-01-10"

#endif
