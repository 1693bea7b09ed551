/*
 * test_server_ratelimit.c - the AUTH rate limit holds under parallel
 * guessing (issue 14): 50 connections from one client address guess tenant
 * A's secret for 5 s, each sending its next wrong AUTH as soon as the last
 * is answered.  The server may verify at most burst + refill x time of them
 * (a token is reserved before the yescrypt verification, not taken after
 * it); meanwhile tenant B authenticates from the same address every time
 * (buckets are per address and tenant name), and A's right secret is
 * refused with the rate-limit message while A is limited (no oracle, not
 * even the cached secret's compare).
 *
 * The same attack behind a proxy (--proxy-protocol): every connection
 * comes from 127.0.0.1, each with a PROXY header naming its client; the
 * guessers are client X, and now A's right secret from another client Y of
 * the same proxy succeeds every time (25 times during the attack) while
 * from X it is refused: the attacked tenant's own clients keep logging in.
 */

#include "helpers/srvtest.h"

#define ATTACKERS   50
#define ATTACK_S    5.0
#define NAME_BURST  5      /* tenant.c RL_BURST */
#define NAME_RATE   1.0    /* tenant.c RL_RATE, tokens a second */

#define WRONGPASS   "-WRONGPASS invalid username-password pair or user is disabled."
#define LIMITED     "-WRONGPASS too many failed AUTH attempts from this address; " \
                    "try again later"

static char tenants_path[PATH_MAX + 64];

static void write_tenants(void)
{
	char ha[256], hb[256], text[1024];
	st_hash("a-secret", ha, sizeof ha);
	st_hash("b-secret", hb, sizeof hb);
	/* B is admin only to read the counters (INFO shows them admins only) */
	snprintf(text, sizeof text, "A:%s:rail:-\nB:%s:*:admin\n", ha, hb);
	snprintf(tenants_path, sizeof tenants_path, "%s/tenants.txt", tu_dir);
	tu_write_private(tenants_path, text);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One guessing connection: nonblocking, one AUTH in flight. */
typedef struct guesser {
	int fd;
	char buf[4096];
	size_t len;
} guesser;

static const char guess[] = "*3\r\n$4\r\nAUTH\r\n$1\r\nA\r\n$5\r\nwrong\r\n";

static void guess_send(guesser *g)
{
	ssize_t w = send(g->fd, guess, sizeof guess - 1, MSG_NOSIGNAL);
	cr_assert_eq(w, (ssize_t)(sizeof guess - 1), "send a guess: %s",
	             w < 0 ? strerror(errno) : "short write");
}

/* Read what g has; count each complete reply line; 1 when at least one
 * reply came (time to send the next guess). */
static int guess_read(guesser *g, long *failed, long *limited)
{
	ssize_t r = recv(g->fd, g->buf + g->len, sizeof g->buf - g->len, 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	cr_assert(r > 0, "a guessing connection was closed: %s", r ? strerror(errno) : "EOF");
	g->len += (size_t)r;
	int got = 0;
	char *e;
	while ((e = memmem(g->buf, g->len, "\r\n", 2))) {
		size_t n = (size_t)(e - g->buf);
		if (n == strlen(WRONGPASS) && !memcmp(g->buf, WRONGPASS, n))
			(*failed)++;
		else if (n == strlen(LIMITED) && !memcmp(g->buf, LIMITED, n))
			(*limited)++;
		else
			cr_assert_fail("unexpected answer to a guess: %.*s", (int)n, g->buf);
		memmove(g->buf, e + 2, g->len - n - 2);
		g->len -= n + 2;
		got = 1;
	}
	return got;
}

#define X "203.0.113.7"      /* behind a proxy: the attacker's address */
#define Y "198.51.100.9"     /* another client of the same proxy */

/* A connection from client (behind the proxy when proxied). */
static st_conn *connect_as(int port, int proxied, const char *client)
{
	return proxied ? st_connect_proxied(port, client) : st_connect(port);
}

static void attack(int proxied)
{
	write_tenants();
	st_server *s = proxied ? st_start(st_snap, "--tenants", tenants_path, "--proxy-protocol")
	                       : st_start(st_snap, "--tenants", tenants_path);

	/* B once before the attack, so that its secret is cached and later
	 * AUTHs need no job (the attack's queue of verifications would only
	 * delay them); the guesses are checked the same either way */
	st_conn *b = connect_as(s->resp_port, proxied, X);
	cr_assert_str_eq(st_ask(b, "AUTH B b-secret"), "+OK");

	guesser g[ATTACKERS];
	struct pollfd pf[ATTACKERS];
	for (int i = 0; i < ATTACKERS; i++) {
		st_conn *c = connect_as(s->resp_port, proxied, X);
		g[i].fd = c->fd;
		g[i].len = 0;
		free(c->buf);
		free(c);
		fcntl(g[i].fd, F_SETFL, fcntl(g[i].fd, F_GETFL) | O_NONBLOCK);
		pf[i] = (struct pollfd){ .fd = g[i].fd, .events = POLLIN };
	}
	long failed = 0, limited = 0;
	int b_ok = 0, a_probes = 0, a_refused = 0, ay_ok = 0;
	double t0 = now_s(), next_probe = t0 + 0.1;
	for (int i = 0; i < ATTACKERS; i++)
		guess_send(&g[i]);
	while (now_s() - t0 < ATTACK_S || b_ok < 25 || (proxied && ay_ok < 25)) {
		int n = poll(pf, ATTACKERS, 10);
		cr_assert(n >= 0, "poll: %s", strerror(errno));
		for (int i = 0; n > 0 && i < ATTACKERS; i++)
			if ((pf[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    guess_read(&g[i], &failed, &limited))
				guess_send(&g[i]);
		if (now_s() < next_probe)
			continue;
		next_probe += 0.2;
		/* every 0.2 s: B logs in on a new connection from the same
		 * address (25 in about 5 s), and after the first second, when A's
		 * burst is surely spent, A's right secret is refused */
		st_conn *c = connect_as(s->resp_port, proxied, X);
		const char *r = st_ask(c, "AUTH B b-secret");
		cr_assert_str_eq(r, "+OK", "B's AUTH %d during the attack: %s", b_ok + 1, r);
		b_ok++;
		st_close(c);
		if (now_s() - t0 > 1.0 && a_probes < 10) {
			c = connect_as(s->resp_port, proxied, X);
			r = st_ask(c, "AUTH A a-secret");
			a_probes++;
			cr_assert_str_eq(r, LIMITED, "A's right secret while A is limited: %s", r);
			a_refused++;
			cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " rail"),
			                 "-NOAUTH Authentication required.");
			st_close(c);
		}
		if (proxied && ay_ok < 25) {
			/* A's own client at another address, through the proxy */
			c = connect_as(s->resp_port, proxied, Y);
			r = st_ask(c, "AUTH A a-secret");
			cr_assert_str_eq(r, "+OK", "A's AUTH %d from client Y during the attack: %s",
			                 ay_ok + 1, r);
			ay_ok++;
			st_close(c);
		}
	}
	long verified_failures = st_info_num(b, "auth_failed");
	long server_limited = st_info_num(b, "auth_rate_limited");
	double elapsed = now_s() - t0;     /* to the counts' reading */
	for (int i = 0; i < ATTACKERS; i++)
		close(g[i].fd);

	/* The bucket allows burst + rate x elapsed verifications: it starts at
	 * the first guess, after t0, and elapsed runs until after INFO was
	 * read, so the bound is exact.  +1 slack: the fractional token a hair before a
	 * whole one, and clock reads on two sides of a socket. */
	long bound = NAME_BURST + (long)(NAME_RATE * elapsed) + 1;
	cr_log_info("%s%.2f s: %ld verified failures (bound %ld), %ld answered "
	            "rate-limited (server: %ld), B %d OK, A refused %d/%d, A from Y %d OK",
	            proxied ? "behind a proxy: " : "", elapsed, verified_failures, bound,
	            limited, server_limited, b_ok, a_refused, a_probes, ay_ok);
	cr_assert_geq(verified_failures, NAME_BURST, "the guesses were verified at all");
	cr_assert_leq(verified_failures, bound,
	              "%ld guesses verified in %.2f s: the limit allows %ld",
	              verified_failures, elapsed, bound);
	cr_assert_leq(failed, verified_failures, "the client saw more failures than the server counted");
	cr_assert_gt(limited, 100, "the guessers were refused at full speed (%ld)", limited);
	cr_assert_geq(a_probes, 5);
	if (proxied) {
		cr_assert_eq(ay_ok, 25);
		cr_assert_geq(st_info_num(b, "proxy_headers"), ATTACKERS + 25 + 25 + 5);
	}

	/* After the attack A gets a token back each second: its right secret
	 * works again */
	usleep(1200 * 1000);
	st_conn *a = connect_as(s->resp_port, proxied, X);
	cr_assert_str_eq(st_ask(a, "AUTH A a-secret"), "+OK", "A after a quiet second");
	st_close(a);
	st_close(b);
}

ST_TEST(ratelimit, parallel_guesses_are_bounded_other_tenants_unaffected)
{
	attack(0);
}

ST_TEST(ratelimit, behind_a_proxy_the_attacked_tenant_logs_in_from_its_own_clients)
{
	attack(1);
}

ST_TEST(ratelimit, a_pool_logging_in_at_once_is_not_refused)
{
	/* 12 connections of one booking system send the right secret at once,
	 * before it is cached: 5 hold tokens while being verified, the other 7
	 * wait for them (no failure has happened) instead of hearing "too many
	 * failed AUTH attempts" */
	write_tenants();
	st_server *s = st_start(st_snap, "--tenants", tenants_path);
	enum { POOL = 12 };
	st_conn *c[POOL];
	for (int i = 0; i < POOL; i++)
		c[i] = st_connect(s->resp_port);
	for (int i = 0; i < POOL; i++)
		st_cmd(c[i], "AUTH B b-secret");
	for (int i = 0; i < POOL; i++) {
		char *r = st_reply(c[i]);
		cr_assert_str_eq(r, "+OK", "connection %d of the pool: %s", i + 1, r);
		free(r);
	}
	cr_assert_eq(st_info_num(c[0], "auth_rate_limited"), 0);
	cr_assert_eq(st_info_num(c[0], "auth_failed"), 0);
	for (int i = 0; i < POOL; i++)
		st_close(c[i]);
}
