/*
 * test_server_proxy.c - sxgated behind a load balancer (--proxy-protocol,
 * --proxy-from; server/transport_proxy.c), on both I/O backends, over the
 * wire: the test is the proxy, sending PROXY protocol headers itself.
 *
 * What is checked:
 *   - a header from an allowed address makes the address it names the
 *     connection's client address, as the AUTH rate limit sees it: tenant
 *     A's bucket exhausted as client X is refused even A's right secret
 *     from X, while A's right secret from client Y succeeds (v2 IPv4 and
 *     IPv6, v1 TCP4); a LOCAL header (the proxy's own checks) keeps the
 *     peer's address; the binary protocol and TLS work behind it, the
 *     header before the TLS handshake;
 *   - from an address not in --proxy-from, the connection is cut before a
 *     byte is read, counted and logged; the HTTP port takes no header;
 *   - as an attacker: no header, a TLS ClientHello, a v2 length of 65535,
 *     a v1 line without CRLF, a header in 1-byte writes (accepted), a
 *     header cut by a close, a header never finished (cut after the
 *     timeout); each refusal counted in /metrics and INFO;
 *   - without --proxy-protocol a header is not honoured: it is an unknown
 *     command as before, and the address stays the peer's.
 */
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "helpers/httptest.h"
#include "helpers/srvtest.h"
#include "helpers/tlstest.h"

#define WRONGPASS "-WRONGPASS invalid username-password pair or user is disabled."
#define LIMITED   "-WRONGPASS too many failed AUTH attempts from this address; " \
                  "try again later"

#define X  "203.0.113.7"          /* the attacker, behind the proxy */
#define Y  "198.51.100.9"         /* another client of the same proxy */
#define X6 "2001:db8::66"
#define Y6 "2001:db8:0:1::77"   /* another /64: another client */

static char tenants_path[PATH_MAX + 64];

static void write_tenants(void)
{
	char ha[256], hb[256], text[1024];
	st_hash("a-secret", ha, sizeof ha);
	st_hash("b-secret", hb, sizeof hb);
	snprintf(text, sizeof text, "A:%s:rail:-\nB:%s:*:admin\n", ha, hb);
	snprintf(tenants_path, sizeof tenants_path, "%s/tenants.txt", tu_dir);
	tu_write_private(tenants_path, text);
}

/* The value of a /metrics series (-1: absent). */
static double metric(int hport, const char *series)
{
	ht_resp r = ht_get(hport, "/metrics");
	cr_assert_eq(r.status, 200, "/metrics: %d", r.status);
	double v = ht_series(r.body, series);
	ht_free(&r);
	return v;
}

#define RESP_AUTH_WRONG "*3\r\n$4\r\nAUTH\r\n$1\r\nA\r\n$5\r\nwrong\r\n"
#define RESP_AUTH_RIGHT "*3\r\n$4\r\nAUTH\r\n$1\r\nA\r\n$8\r\na-secret\r\n"
#define GUESSES 10

/* Ten wrong AUTHs as tenant A, then the right one, in one write: the
 * bucket (5, 1/s) is empty well before the right one, which is refused
 * like the last guesses.  Returns how many guesses were verified. */
static int exhaust(st_conn *c)
{
	char req[GUESSES * sizeof RESP_AUTH_WRONG + sizeof RESP_AUTH_RIGHT] = "";
	for (int i = 0; i < GUESSES; i++)
		strcat(req, RESP_AUTH_WRONG);
	strcat(req, RESP_AUTH_RIGHT);
	st_send_str(c, req);
	int verified = 0;
	for (int i = 0; i <= GUESSES; i++) {
		char *r = st_reply(c);
		cr_assert_not_null(r, "reply %d: the connection closed", i + 1);
		if (i == GUESSES)
			cr_assert_str_eq(r, LIMITED, "A's right secret while A is limited: %s", r);
		else if (!strcmp(r, WRONGPASS))
			verified++;
		else
			cr_assert_str_eq(r, LIMITED, "guess %d: %s", i + 1, r);
		free(r);
	}
	cr_assert_geq(verified, 5, "the burst was verified");
	cr_assert_lt(verified, GUESSES, "the limit held");
	return verified;
}

static void assert_auth(st_conn *c, const char *want, const char *who)
{
	const char *r = st_ask(c, "AUTH A a-secret");
	cr_assert_str_eq(r, want, "A's right secret from %s: %s", who, r);
}

ST_TEST(proxy, the_header_names_the_client_the_rate_limit_counts)
{
	write_tenants();
	int hport;
	st_server *s = ht_start(&hport, "--tenants", tenants_path, "--proxy-protocol");
	(void)s;

	/* v2 IPv4: X guesses A's secret until A is limited for X */
	st_conn *x = st_connect_proxied(s->resp_port, X);
	exhaust(x);
	/* Y, through the same proxy (the same peer, 127.0.0.1): A's right
	 * secret works (v2, then v1) */
	st_conn *y = st_connect_proxied(s->resp_port, Y);
	assert_auth(y, "+OK", "Y (v2)");
	st_conn *y1 = st_connect(s->resp_port);
	st_send_str(y1, "PROXY TCP4 " Y " 127.0.0.1 40001 6380\r\n");
	assert_auth(y1, "+OK", "Y (v1)");
	/* X again, on a new connection: still limited */
	st_conn *x2 = st_connect_proxied(s->resp_port, X);
	assert_auth(x2, LIMITED, "X");
	/* the audit trail names the client and its port, not the proxy */
	cr_assert(st_log_wait(s, "event=auth.fail tenant=A addr=" X ":40000 proto=resp", 2000));
	cr_assert(st_log_wait(s, "event=auth.limited tenant=A addr=" X ":40000", 2000));
	/* the proxy's own address, by a LOCAL header (its checks): not X */
	st_conn *local = st_connect_proxied(s->resp_port, NULL);
	assert_auth(local, "+OK", "the proxy itself (LOCAL)");
	/* and B from X: the limit is per (address, tenant) */
	cr_assert_str_eq(st_ask(x2, "AUTH B b-secret"), "+OK");

	/* IPv6 clients, over v1 TCP6 and v2 */
	st_conn *x6 = st_connect(s->resp_port);
	st_send_str(x6, "PROXY TCP6 " X6 " ::1 40002 6380\r\n");
	exhaust(x6);
	st_conn *y6 = st_connect_proxied(s->resp_port, Y6);
	assert_auth(y6, "+OK", "Y6");
	st_conn *x6b = st_connect_proxied(s->resp_port, X6);
	assert_auth(x6b, LIMITED, "X6");
	/* an IPv6 client counts by its /64: a new address of X6's is X6 */
	st_conn *x6c = st_connect_proxied(s->resp_port, "2001:db8::99");
	assert_auth(x6c, LIMITED, "another address of X6's /64");

	/* after the header a connection is like any other: many commands */
	for (int i = 0; i < 50; i++)
		cr_assert_str_eq(st_ask(y, "PING"), "+PONG");
	char v[64];
	const char *info = st_ask(x2, "INFO");  /* B: an admin sees them */
	cr_assert_str_eq(st_info_get(info, "proxy_protocol", v, sizeof v), "on");
	cr_assert_eq(atoi(st_info_get(info, "proxy_headers", v, sizeof v)), 9, "%s", v);
	cr_assert_eq(atoi(st_info_get(info, "proxy_refused_malformed", v, sizeof v)), 0);
	cr_assert_eq(metric(hport, "sxgate_proxy_headers_total"), 9);
	st_close(x);
	st_close(y);
	st_close(y1);
	st_close(x2);
	st_close(local);
	st_close(x6);
	st_close(x6c);
	st_close(y6);
	st_close(x6b);
}

ST_TEST(proxy, the_binary_protocol_behind_a_proxy)
{
	write_tenants();
	st_server *s = st_start(st_snap, "--tenants", tenants_path, "--proxy-protocol");
	/* the header and HELLO in one write: the bytes after the header in
	 * the same read go to the protocol unchanged */
	st_conn *c = st_connect(s->bin_port);
	st_out *o = calloc(1, sizeof *o);
	o->n = st_proxy_v2(o->b, Y, s->bin_port);
	size_t at = st_frame_begin(o, SXB_OP_HELLO, 0, 1);
	memcpy(o->b + o->n, "SXGB", 4);
	o->n += 4;
	st_put16(o, 1);
	st_put16(o, 1);
	st_frame_end(o, at);
	st_send(c, o->b, o->n);
	st_frame f;
	cr_assert_eq(st_frame_read(c, &f), 0, "no HELLO reply");
	cr_assert_eq(f.op, SXB_OP_HELLO_REPLY, "op 0x%02x", f.op);
	st_close(c);
	/* a header alone, then HELLO in a later write */
	c = st_connect_proxied(s->bin_port, X);
	st_bin_hello(c, 1);
	st_close(c);
	/* no header: cut */
	c = st_connect(s->bin_port);
	o->n = 0;
	at = st_frame_begin(o, SXB_OP_HELLO, 0, 1);
	st_frame_end(o, at);
	st_send_raw(c, o->b, o->n);
	cr_assert(st_closed_by_server(c, 3000));
	st_close(c);
	free(o);
}

ST_TEST(proxy, peers_not_in_proxy_from_are_cut_off)
{
	int hport;
	st_server *s = ht_start(&hport, "--proxy-protocol", "--proxy-from", "127.0.0.2/32");
	cr_assert(st_log_wait(s, "from 127.0.0.2/32 only", 1000));
	/* 127.0.0.1 is not the proxy: a valid header does not help */
	for (int port = 0; port < 2; port++) {
		st_conn *c = st_connect_proxied(port ? s->bin_port : s->resp_port, Y);
		st_send_raw(c, "PING\r\n", 6);
		cr_assert(st_closed_by_server(c, 3000), "an untrusted peer was served");
		cr_assert_eq(c->len, 0, "an untrusted peer got an answer: %.*s", (int)c->len, c->buf);
		st_close(c);
	}
	cr_assert(st_log_wait(s, "PROXY protocol: connection from 127.0.0.1 refused: not in "
	                      "--proxy-from (127.0.0.2/32)", 2000));
	/* 127.0.0.2 is */
	st_conn *c = st_connect_from(s->resp_port, "127.0.0.2");
	uint8_t h[64];
	size_t n = st_proxy_v2(h, Y, s->resp_port);
	st_send(c, h, n);
	cr_assert_str_eq(st_ask(c, "PING"), "+PONG");
	/* the HTTP port takes no header: load balancers' checks come direct */
	ht_resp r = ht_get(hport, "/health");
	cr_assert_eq(r.status, 200);
	ht_free(&r);
	cr_assert_eq(metric(hport, "sxgate_proxy_refused_total{reason=\"untrusted\"}"), 2);
	char v[64];
	cr_assert_eq(atoi(st_info_get(st_ask(c, "INFO stats"), "proxy_refused_untrusted", v,
	                              sizeof v)), 2);
	st_close(c);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* c is cut, without a word, within ms milliseconds. */
static void cut(st_conn *c, int ms, const char *what)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert(st_closed_by_server(c, ms + 2000), "%s: still open", what);
	cr_assert_eq(c->len, 0, "%s: answered %.*s", what, (int)c->len, c->buf);
	cr_assert_leq(ms_since(&t0), ms, "%s: cut after %.0f ms", what, ms_since(&t0));
	st_close(c);
}

ST_TEST(proxy, bad_headers_are_protocol_errors)
{
	int hport;
	st_server *s = ht_start(&hport, "--proxy-protocol", "--request-timeout", "1");
	st_conn *c;
	/* no header at all: a RESP command, a TLS ClientHello */
	c = st_connect(s->resp_port);
	st_send_str(c, "PING\r\n");
	cut(c, 1000, "PING without a header");
	c = st_connect(s->resp_port);
	st_send(c, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
	cut(c, 1000, "a ClientHello without a header");
	/* v2 with a length of 65535: refused at once, not waited for */
	c = st_connect(s->resp_port);
	uint8_t h[64];
	st_proxy_v2(h, Y, s->resp_port);
	h[14] = h[15] = 0xff;
	st_send(c, h, 16);
	cut(c, 500, "a v2 length of 65535");
	/* a v1 line without CRLF: refused at 107 bytes */
	c = st_connect(s->resp_port);
	char line[300];
	memset(line, '1', sizeof line);
	memcpy(line, "PROXY TCP4 ", 11);
	st_send_raw(c, line, sizeof line);
	cut(c, 500, "a v1 line without CRLF");
	double malformed = metric(hport, "sxgate_proxy_refused_total{reason=\"malformed\"}");
	cr_assert_eq(malformed, 4);

	/* a header split over 1-byte writes is a header */
	c = st_connect(s->resp_port);
	size_t n = st_proxy_v2(h, X6, s->resp_port);
	for (size_t i = 0; i < n; i++) {
		st_send(c, h + i, 1);
		st_sleep_ms(2);
	}
	cr_assert_str_eq(st_ask(c, "PING"), "+PONG");
	st_close(c);
	c = st_connect(s->resp_port);
	const char *v1 = "PROXY TCP4 " X " 127.0.0.1 40000 6380\r\n*1\r\n$4\r\nPING\r\n";
	for (const char *p = v1; *p; p++)
		st_send(c, p, 1);
	char *r = st_reply(c);
	cr_assert_str_eq(r, "+PONG");
	free(r);
	st_close(c);

	/* half a header, then a close: counted as incomplete */
	c = st_connect(s->resp_port);
	st_send(c, h, 10);
	st_sleep_ms(50);
	st_close(c);
	/* half a header, then nothing: cut after the timeout (--request-
	 * timeout 1, checked once a second) */
	c = st_connect(s->resp_port);
	st_send(c, h, 20);
	cut(c, 2600, "a header never finished");
	/* nothing at all, then nothing: cut too */
	c = st_connect(s->resp_port);
	cut(c, 2600, "a silent connection");
	for (int t = 0; t < 100 &&
	     metric(hport, "sxgate_proxy_refused_total{reason=\"incomplete\"}") < 1; t++)
		st_sleep_ms(20);
	cr_assert_eq(metric(hport, "sxgate_proxy_refused_total{reason=\"incomplete\"}"), 1);
	cr_assert_eq(metric(hport, "sxgate_proxy_refused_total{reason=\"timeout\"}"), 2);
	cr_assert_eq(metric(hport, "sxgate_proxy_refused_total{reason=\"malformed\"}"), 4);
	cr_assert_eq(metric(hport, "sxgate_proxy_headers_total"), 2);
	/* none of it was a protocol error of RESP's, and the server still
	 * serves: INFO shows the same counts */
	c = st_connect_proxied(s->resp_port, NULL);
	char v[64];
	const char *info = st_ask(c, "INFO stats");
	cr_assert_eq(atoi(st_info_get(info, "proxy_refused_malformed", v, sizeof v)), 4);
	cr_assert_eq(atoi(st_info_get(info, "proxy_refused_timeout", v, sizeof v)), 2);
	cr_assert_eq(atoi(st_info_get(info, "proxy_refused_incomplete", v, sizeof v)), 1);
	st_close(c);
	cr_assert(st_log_wait(s, "PROXY protocol: connection from 127.0.0.1 refused: no PROXY "
	                      "protocol header", 1000));
}

ST_TEST(proxy, without_the_flag_a_header_is_not_honoured)
{
	/* exactly as before: "PROXY ..." is an unknown command, and the
	 * address stays the peer's */
	write_tenants();
	st_server *s = st_start(st_snap, "--tenants", tenants_path);
	st_conn *c = st_connect(s->resp_port);
	st_send_str(c, "PROXY TCP4 " X " 127.0.0.1 40000 6380\r\n");
	char *r = st_reply(c);
	cr_assert(r && !strncmp(r, "-ERR unknown command 'PROXY'", 28), "%s", r);
	free(r);
	exhaust(c);
	st_close(c);
	/* the limit was 127.0.0.1's, not X's: a plain connection is limited */
	c = st_connect(s->resp_port);
	assert_auth(c, LIMITED, "127.0.0.1");
	cr_assert_str_eq(st_ask(c, "AUTH B b-secret"), "+OK");
	cr_assert_eq(st_info_num(c, "proxy_headers"), 0);
	char v[64];
	cr_assert_str_eq(st_info_get(st_ask(c, "INFO server"), "proxy_protocol", v, sizeof v),
	                 "off");
	st_close(c);
	/* a v2 header: its signature ends in "QUIT\n", which RESP obeys */
	c = st_connect(s->resp_port);
	uint8_t h[64];
	size_t n = st_proxy_v2(h, Y, s->resp_port);
	st_send(c, h, n);
	cr_assert(st_closed_by_server(c, 3000));
	st_close(c);
}

/* ---- over TLS ------------------------------------------------------------ */

typedef struct tconn {
	st_conn *c;
	SSL *ssl;
	char buf[4096];
	size_t len;
} tconn;

static SSL_CTX *client_ctx(void)
{
	SSL_CTX *x = SSL_CTX_new(TLS_client_method());
	char ca[PATH_MAX + 16];
	snprintf(ca, sizeof ca, "%s/ca.pem", tu_dir);
	cr_assert(x && SSL_CTX_load_verify_locations(x, ca, NULL) == 1);
	SSL_CTX_set_verify(x, SSL_VERIFY_PEER, NULL);
	return x;
}

/* A TLS connection to port through a "proxy": the v2 header for client
 * first (bytewise: a byte a write; else with MSG_MORE, so that it shares a
 * segment with the ClientHello), then the handshake. */
static tconn *tls_open(SSL_CTX *x, int port, const char *client, int bytewise)
{
	tconn *t = calloc(1, sizeof *t);
	t->c = st_connect(port);
	uint8_t h[64];
	size_t n = st_proxy_v2(h, client, port);
	for (size_t i = 0; bytewise && i < n; i++) {
		cr_assert_eq(send(t->c->fd, h + i, 1, MSG_NOSIGNAL), 1);
		st_sleep_ms(2);
	}
	if (!bytewise)
		cr_assert_eq(send(t->c->fd, h, n, MSG_NOSIGNAL | MSG_MORE), (ssize_t)n);
	t->ssl = SSL_new(x);
	SSL_set_fd(t->ssl, t->c->fd);
	SSL_set_tlsext_host_name(t->ssl, "localhost");
	SSL_set1_host(t->ssl, "localhost");
	int rc = SSL_connect(t->ssl);
	char e[256] = "";
	if (rc != 1)
		ERR_error_string_n(ERR_get_error(), e, sizeof e);
	cr_assert_eq(rc, 1, "TLS handshake after a PROXY header: %s", e);
	return t;
}

static void tls_close(tconn *t)
{
	SSL_free(t->ssl);
	st_close(t->c);
	free(t);
}

/* Send raw RESP, read one reply line (static). */
static const char *tls_line(tconn *t)
{
	static char line[4096];
	for (;;) {
		char *e = memmem(t->buf, t->len, "\r\n", 2);
		if (e) {
			size_t n = (size_t)(e - t->buf);
			snprintf(line, sizeof line, "%.*s", (int)n, t->buf);
			memmove(t->buf, e + 2, t->len - n - 2);
			t->len -= n + 2;
			return line;
		}
		int r = SSL_read(t->ssl, t->buf + t->len, (int)(sizeof t->buf - t->len));
		cr_assert(r > 0, "TLS connection closed");
		t->len += (size_t)r;
	}
}

static const char *tls_ask(tconn *t, const char *resp)
{
	cr_assert_eq(SSL_write(t->ssl, resp, (int)strlen(resp)), (int)strlen(resp));
	return tls_line(t);
}

ST_TEST(proxy, tls_after_the_header)
{
	write_tenants();
	tt_ca(tu_dir, "ca");
	tt_cert(tu_dir, "ca", "srv", "localhost", "DNS:localhost,IP:127.0.0.1", NULL, NULL);
	char cert[PATH_MAX + 16], key[PATH_MAX + 16], tp[16];
	snprintf(cert, sizeof cert, "%s/srv.pem", tu_dir);
	snprintf(key, sizeof key, "%s/srv.key", tu_dir);
	int tport = st_free_port();
	snprintf(tp, sizeof tp, "%d", tport);
	int hport;
	st_server *s = ht_start(&hport, "--tenants", tenants_path, "--proxy-protocol",
	                        "--tls-resp-port", tp, "--tls-cert", cert, "--tls-key", key);
	(void)s;
	SSL_CTX *x = client_ctx();

	/* X exhausts A over TLS; Y over TLS logs in as A; X cannot */
	tconn *tx = tls_open(x, tport, X, 0);
	char req[GUESSES * sizeof RESP_AUTH_WRONG + sizeof RESP_AUTH_RIGHT] = "";
	for (int i = 0; i < GUESSES; i++)
		strcat(req, RESP_AUTH_WRONG);
	strcat(req, RESP_AUTH_RIGHT);
	cr_assert_eq(SSL_write(tx->ssl, req, (int)strlen(req)), (int)strlen(req));
	int verified = 0;
	for (int i = 0; i <= GUESSES; i++) {
		const char *r = tls_line(tx);
		if (i == GUESSES)
			cr_assert_str_eq(r, LIMITED, "A's right secret from X over TLS: %s", r);
		else if (!strcmp(r, WRONGPASS))
			verified++;
		else
			cr_assert_str_eq(r, LIMITED);
	}
	cr_assert(verified >= 5 && verified < GUESSES, "%d verified", verified);
	tconn *ty = tls_open(x, tport, Y, 1);          /* its header a byte a write */
	cr_assert_str_eq(tls_ask(ty, RESP_AUTH_RIGHT), "+OK", "A from Y over TLS");
	tconn *tx2 = tls_open(x, tport, X, 0);
	cr_assert_str_eq(tls_ask(tx2, RESP_AUTH_RIGHT), LIMITED, "A from X over TLS");
	cr_assert_str_eq(tls_ask(tx2, "*1\r\n$4\r\nPING\r\n"), "+PONG");
	tls_close(tx);
	tls_close(ty);
	tls_close(tx2);

	/* a ClientHello without a header: a PROXY refusal, not a TLS one */
	double tls_errors = metric(hport, "sxgate_tls_errors_total");
	st_conn *c = st_connect(tport);
	SSL *ssl = SSL_new(x);
	SSL_set_fd(ssl, c->fd);
	cr_assert_neq(SSL_connect(ssl), 1, "a handshake without a header succeeded");
	SSL_free(ssl);
	st_close(c);
	ERR_clear_error();
	cr_assert_eq(metric(hport, "sxgate_proxy_refused_total{reason=\"malformed\"}"), 1);
	cr_assert_eq(metric(hport, "sxgate_tls_errors_total"), tls_errors);
	cr_assert_eq(metric(hport, "sxgate_proxy_headers_total"), 3);
	SSL_CTX_free(x);
}
