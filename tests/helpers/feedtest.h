/*
 * feedtest.h - helpers for the tests of the update feed: a real
 * redis-server started by the test (any extra arguments: a password, TLS),
 * a throwaway CA and server certificate made with the openssl CLI, GET
 * /health, and running a program for its output.
 *
 * Include after srvtest.h.  Like it, everything here is `static`.  The
 * redis-server dies with the test process (PR_SET_PDEATHSIG) and writes
 * its log to tu_dir/redis-PORT.log; keys and certificates live in tu_dir,
 * which the teardown removes: nothing of it is ever committed.
 */
#ifndef SX_FEEDTEST_H
#define SX_FEEDTEST_H

#include "srvtest.h"

#define FT_MAX_REDIS 4
static pid_t ft_redis_pids[FT_MAX_REDIS];

/* 1 when redis-server is on PATH (the caller skips, saying so, if not). */
ST_UNUSED static int ft_have_redis(void)
{
	return system("command -v redis-server >/dev/null 2>&1") == 0;
}

/*
 * Start redis-server on 127.0.0.1 with its port arguments and any others
 * in the NULL-terminated extra (e.g. "--port", "0", "--tls-port", "P"),
 * and wait until port (the one to reach it on) accepts connections.
 */
ST_UNUSED static pid_t ft_redis_start_args(int port, const char **extra)
{
	char log[PATH_MAX + 64];
	const char *argv[48] = { "redis-server", "--bind", "127.0.0.1", "--save", "",
	                         "--appendonly", "no" };
	int argc = 7;
	for (int i = 0; extra && extra[i]; i++) {
		cr_assert(argc < 46);
		argv[argc++] = extra[i];
	}
	argv[argc] = NULL;
	snprintf(log, sizeof log, "%s/redis-%d.log", tu_dir, port);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execvp("redis-server", (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < FT_MAX_REDIS; i++)
		if (!ft_redis_pids[i]) {
			ft_redis_pids[i] = pid;
			break;
		}
	for (int t = 0; t < 500; t++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
		close(fd);
		if (ok)
			return pid;
		st_sleep_ms(10);
	}
	char *text = tu_read(log, &(size_t){ 0 });
	cr_assert_fail("redis-server on port %d did not come up; its log:\n%s", port,
	               text ? text : "(none)");
	return -1;
}

#define ft_redis_start(port, ...) \
	ft_redis_start_args((port), (const char *[]){ __VA_ARGS__ __VA_OPT__(,) NULL })

/* Kill every redis-server this test started (also from a teardown). */
ST_UNUSED static void ft_redis_stop_all(void)
{
	for (int i = 0; i < FT_MAX_REDIS; i++)
		if (ft_redis_pids[i] > 0) {
			kill(ft_redis_pids[i], SIGKILL);
			waitpid(ft_redis_pids[i], NULL, 0);
			ft_redis_pids[i] = 0;
		}
}

/*
 * A CA and a server certificate for 127.0.0.1 and localhost it signed
 * (EC P-256, valid a day) in dir: ca.crt, redis.crt, redis.key; and a
 * second CA that signed nothing, other-ca.crt.
 */
ST_UNUSED static void ft_make_certs(const char *dir)
{
	int st;
	char *out = tu_run(&st,
		"cd '%s' && exec 2>&1 && "
		"printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		"  -keyout ca.key -out ca.crt -subj /CN=feed-test-ca -days 1 && "
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		"  -keyout other-ca.key -out other-ca.crt -subj /CN=feed-test-other -days 1 && "
		"openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		"  -keyout redis.key -out redis.csr -subj /CN=localhost && "
		"openssl x509 -req -in redis.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
		"  -out redis.crt -days 1 -extfile san.ext && chmod 600 redis.key", dir);
	cr_assert_eq(st, 0, "making certificates with openssl failed:\n%s", out);
	free(out);
}

/* GET /health: the status code, and the body into body. */
ST_UNUSED static int ft_health(int port, char *body, size_t cap)
{
	st_conn *c = st_connect(port);
	st_send_str(c, "GET /health HTTP/1.0\r\n\r\n");
	while (st_fill(c) > 0)
		;
	char text[4096];
	snprintf(text, sizeof text, "%.*s", (int)c->len, c->buf);
	int code = 0;
	sscanf(text, "HTTP/%*s %d", &code);
	const char *b = strstr(text, "\r\n\r\n");
	snprintf(body, cap, "%s", b ? b + 4 : "");
	st_close(c);
	return code;
}

/* Poll /health until it answers want or timeout_ms passes; the last code. */
ST_UNUSED static int ft_wait_health(int port, int want, int timeout_ms, char *body,
                                    size_t cap)
{
	int code;
	for (int t = 0; (code = ft_health(port, body, cap)) != want && t < timeout_ms; t += 20)
		st_sleep_ms(20);
	return code;
}

#endif
