/*
 * test_server_http_loop.c - HTTP as served on the worker event loops:
 * /health stays fast while a thousand idle and ten trickling HTTP
 * clients are connected, and every refusal has its status (404, 405 with
 * Allow, 505, 431, 400), and keep-alive serves two requests on one
 * connection.
 *
 * These describe the HTTP protocol on the event loops.  The metrics
 * thread they replace (server/metrics.c: one connection at a time, a
 * blocking read with a 2 s timeout, HTTP/1.0 and Connection: close
 * always) fails most of them, on purpose: they pass once HTTP moves.
 */
#include <sys/resource.h>

#include "helpers/httptest.h"

static int status_of(const char *req, int port, char **head)
{
	ht_resp r = ht_ask(port, req);
	int st = r.status;
	if (head)
		*head = r.head ? strdup(r.head) : strdup("(no response)");
	ht_free(&r);
	return st;
}

ST_TEST(http_loop, status_codes)
{
	int p;
	ht_start(&p);
	char *h;
	cr_assert_eq(status_of("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", p, &h), 404, "%s", h);
	free(h);
	cr_assert_eq(status_of("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
	                       p, &h), 405, "%s", h);
	cr_assert(strcasestr(h, "\r\nAllow: GET, HEAD\r\n"), "405 without Allow: %s", h);
	free(h);
	cr_assert_eq(status_of("GET /health HTTP/9.9\r\nHost: x\r\n\r\n", p, &h), 505, "%s", h);
	free(h);
	cr_assert_eq(status_of("garbage\r\n\r\n", p, &h), 400, "%s", h);
	free(h);

	/* A 100 KB header: 431, and the server does not wait for all of it. */
	size_t n = 100 * 1024;
	char *big = malloc(n + 64);
	int k = snprintf(big, n, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(big + k, 'a', n - (size_t)k);
	memcpy(big + n, "\r\n\r\n", 5);
	st_conn *c = st_connect(p);
	int rc = st_send_raw(c, big, n + 4);   /* may be cut short by the answer */
	(void)rc;
	ht_resp r = ht_read(c);
	cr_assert_eq(r.status, 431, "%s", r.head ? r.head : "(no response)");
	ht_free(&r);
	st_close(c);
	free(big);

	/* HEAD: the head of the GET, no body. */
	c = st_connect(p);
	st_send_str(c, "HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	while (st_fill(c) > 0)
		;
	char *all = strndup(c->buf, c->len);
	cr_assert(!strncmp(all, "HTTP/1.1 200 ", 13), "%s", all);
	cr_assert(strstr(all, "\r\nContent-Length: 3\r\n"), "%s", all);
	cr_assert_eq(strstr(all, "\r\n\r\n")[4], 0, "a body after HEAD: %s", all);
	free(all);
	st_close(c);
}

ST_TEST(http_loop, body_limits_chunked_and_request_timeout)
{
	int p;
	ht_start(&p, "--request-timeout", "1");
	char *h;
	/* a body over the limit (64 KiB) is refused as soon as the head is in */
	cr_assert_eq(status_of("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n",
	                       p, &h), 413, "%s", h);
	free(h);
	cr_assert_eq(status_of("POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
	                       "\r\n\r\n0\r\n\r\n", p, &h), 501, "%s", h);
	free(h);
	/* a head left half-way: 408 after --request-timeout, then closed */
	st_conn *c = st_connect(p);
	st_send_str(c, "GET /health HTTP/1.1\r\nHost: x\r\n");
	ht_resp r = ht_read(c);
	cr_assert_eq(r.status, 408, "%s", r.head ? r.head : "(no response)");
	cr_assert(strstr(r.head, "\r\nConnection: close\r\n"), "%s", r.head);
	ht_free(&r);
	cr_assert(st_closed_by_server(c, 2000), "the connection stays open after 408");
	st_close(c);
}

ST_TEST(http_loop, keep_alive_answers_two_requests_on_one_connection)
{
	int p;
	ht_start(&p);
	st_conn *c = st_connect(p);
	st_send_str(c, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
	ht_resp a = ht_read(c);
	cr_assert_eq(a.status, 200, "%s", a.head ? a.head : "(no response)");
	cr_assert_str_eq(a.body, "ok\n");
	cr_assert(!strcasestr(a.head, "Connection: close"), "HTTP/1.1 closed: %s", a.head);
	st_send_str(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	ht_resp b = ht_read(c);
	cr_assert_eq(b.status, 200, "the second request on the connection: %s",
	             b.head ? b.head : "(closed)");
	cr_assert(ht_series(b.body, "sxgate_up") == 1, "%s", b.body);
	ht_free(&a);
	ht_free(&b);

	/* Pipelined, the last asking to close: both answered, then closed. */
	st_send_str(c, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
	               "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	a = ht_read(c);
	b = ht_read(c);
	cr_assert_eq(a.status, 200);
	cr_assert_eq(b.status, 200);
	cr_assert(strcasestr(b.head, "Connection: close"), "%s", b.head);
	cr_assert(st_closed_by_server(c, 2000), "not closed after Connection: close");
	ht_free(&a);
	ht_free(&b);
	st_close(c);
}

/* A non-blocking connect to the port; -1 on failure. */
static int open_nb(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* GET /health within budget_ms from connect to the whole answer: its
 * status, or 0 on a timeout. */
static int health_within(int port, int budget_ms, int *took)
{
	int64_t t0 = now_ms(), deadline = t0 + budget_ms;
	int fd = open_nb(port), status = 0;
	const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	size_t sent = 0, got = 0;
	char buf[4096];
	while (fd >= 0 && now_ms() < deadline) {
		struct pollfd pf = { .fd = fd, .events = sent < sizeof req - 1 ? POLLOUT : POLLIN };
		if (poll(&pf, 1, (int)(deadline - now_ms())) <= 0)
			break;
		if (sent < sizeof req - 1) {
			ssize_t w = send(fd, req + sent, sizeof req - 1 - sent, MSG_NOSIGNAL);
			if (w < 0 && errno != EAGAIN)
				break;
			if (w > 0)
				sent += (size_t)w;
			continue;
		}
		ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
		if (r < 0 && errno == EAGAIN)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		buf[got] = 0;
		const char *end = strstr(buf, "\r\n\r\n");
		const char *cl = strcasestr(buf, "\r\nContent-Length:");
		if (end && cl && got >= (size_t)(end + 4 - buf) + strtoull(cl + 17, NULL, 10)) {
			if (!strncmp(buf, "HTTP/1.", 7))
				status = atoi(buf + 9);
			break;
		}
	}
	*took = (int)(now_ms() - t0);
	if (fd >= 0)
		close(fd);
	return *took < budget_ms ? status : 0;
}

/* (e) 1000 idle connections and 10 clients trickling a header byte every
 * 1.5 s do not slow /health: 20 asks, each answered 200 within 1 s. */
ST_TEST(http_loop, health_stays_fast_with_idle_and_trickling_clients)
{
	enum { IDLE = 1000, SLOW = 10, ASKS = 20 };
	struct rlimit rl;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < IDLE + SLOW + 64) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > IDLE + SLOW + 256 ?
		              IDLE + SLOW + 256 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < IDLE + SLOW + 64)
		cr_skip_test("the open files limit (%llu) is below the %d connections this needs",
		             (unsigned long long)rl.rlim_cur, IDLE + SLOW + 64);
	int p;
	ht_start(&p, "--max-clients", "5000");
	static int idle[IDLE], slow[SLOW];
	for (int i = 0; i < IDLE; i++)
		cr_assert((idle[i] = open_nb(p)) >= 0, "idle connection %d: %s", i, strerror(errno));
	for (int i = 0; i < SLOW; i++)
		cr_assert((slow[i] = open_nb(p)) >= 0);
	static const char trickle[] = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaa";
	size_t tpos = 0;
	int64_t next_trickle = now_ms();
	for (int a = 0; a < ASKS; a++) {
		if (now_ms() >= next_trickle) {
			for (int i = 0; i < SLOW; i++) {
				ssize_t w = send(slow[i], trickle + tpos, 1, MSG_NOSIGNAL);
				(void)w;
			}
			tpos = (tpos + 1) % (sizeof trickle - 1);
			next_trickle += 1500;
		}
		int took;
		int st = health_within(p, 1000, &took);
		cr_assert_eq(st, 200, "ask %d of %d with %d idle and %d trickling clients: %s after %d ms",
		             a + 1, ASKS, IDLE, SLOW, st ? "status" : "no answer", took);
		st_sleep_ms(250);
	}
	for (int i = 0; i < IDLE; i++)
		close(idle[i]);
	for (int i = 0; i < SLOW; i++)
		close(slow[i]);
}
