/*
 * conn.c - one connection of libsxgate: connecting and the HELLO
 * exchange, the send and receive buffers, the socket, and errors.
 *
 * The idea: two flat byte buffers per connection, like Redis' client
 * query/reply buffers.  Requests are encoded at the end of the send buffer
 * (request.c) and written by flush; the unsent tail moves to the front
 * only when the buffer runs out of room.  Replies are parsed where they
 * landed in the receive buffer (frame.c, resp.c) and handed out as views;
 * the bytes of a reply are given back at the next receive call, and what
 * is left of a partial frame moves to the front only when more room is
 * needed.  Both buffers grow (doubling, bounded) to the largest request or
 * reply seen, then stay: the pipelined path allocates nothing per request.
 *
 * TLS (client/tlsconn.c) sits between the buffers and the socket: two
 * small wrappers, send_some and recv_some, are the only places that know
 * which transport a connection has.  OpenSSL may hold decrypted bytes the
 * socket no longer announces, so over TLS a short read counts as "the
 * kernel is drained" only when OpenSSL holds nothing more either.
 *
 * The socket is always non-blocking; "blocking" mode means the client
 * poll()s with the connection's timeout when the kernel says EAGAIN.  A
 * timeout or any malformed reply leaves the stream at an unknown place,
 * so such errors are sticky (sxc_fatal): the connection must be closed.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sxclient_int.h"
#include "tlsconn.h"

/* ---- errors ---------------------------------------------------------------- */

const char *sx_client_strerror(int err)
{
	switch (err) {
	case 0: return "success";
#define X(name, val, msg) case name: return msg;
	SX_CLIENT_ERRORS(X)
	SX_ERRORS(X)
#undef X
	default: break;
	}
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}

int sxc_fail(sx_client *cli, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cli->errmsg, sizeof cli->errmsg, fmt, ap);
	va_end(ap);
	return code;
}

/* An error after which the byte stream can no longer be trusted. */
int sxc_fatal(sx_client *cli, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cli->errmsg, sizeof cli->errmsg, fmt, ap);
	va_end(ap);
	cli->broken = code;
	return code;
}

const char *sx_client_errmsg(const sx_client *cli)
{
	return cli->errmsg;
}

/* ---- buffers and the socket -------------------------------------------------- */

static int wait_fd(sx_client *cli, short ev)
{
	struct pollfd p = { .fd = cli->fd, .events = ev };
	for (;;) {
		int r = poll(&p, 1, cli->timeout_ms);
		if (r > 0)
			return 0;
		if (r == 0)
			return sxc_fatal(cli, -ETIMEDOUT, "no %s within %d ms",
			             ev == POLLIN ? "reply" : "room to send",
			             cli->timeout_ms);
		if (errno != EINTR)
			return sxc_fatal(cli, -errno, "poll: %s", strerror(errno));
	}
}

int sxc_tx_reserve(sx_client *cli, size_t need)
{
	if (cli->txcap - cli->txlen >= need)
		return 0;
	if (cli->txoff) {
		memmove(cli->tx, cli->tx + cli->txoff, cli->txlen - cli->txoff);
		cli->txlen -= cli->txoff;
		cli->txoff = 0;
		if (cli->txcap - cli->txlen >= need)
			return 0;
	}
	size_t cap = cli->txcap;
	while (cap - cli->txlen < need) {
		if (cap >= TX_MAX)
			return sxc_fail(cli, SX_EFULL, "send buffer would exceed %u bytes",
			            TX_MAX);
		cap *= 2;
	}
	uint8_t *p = realloc(cli->tx, cap);
	if (!p)
		return sxc_fail(cli, -ENOMEM, "out of memory for the send buffer");
	cli->tx = p;
	cli->txcap = cap;
	return 0;
}

/* send() or its TLS equivalent: bytes taken, or -1 with errno. */
static ssize_t send_some(sx_client *cli, const void *p, size_t n)
{
	return cli->tls ? sx_tlsc_write(cli->tls, p, n) : send(cli->fd, p, n, MSG_NOSIGNAL);
}

/* recv() or its TLS equivalent; *more is set when bytes are known to be
 * waiting beyond what was read (decrypted and held by OpenSSL). */
static ssize_t recv_some(sx_client *cli, void *p, size_t n, int *more)
{
	if (!cli->tls) {
		*more = 0;
		return recv(cli->fd, p, n, 0);
	}
	ssize_t r = sx_tlsc_read(cli->tls, p, n);
	*more = r > 0 && sx_tlsc_pending(cli->tls) > 0;
	return r;
}

/* The message for a failed send or recv: OpenSSL's reason for a TLS
 * error (an alert from the server says more than EIO). */
static int io_fail(sx_client *cli, const char *what, ssize_t n)
{
	int e = n < 0 ? errno : 0;
	if (cli->tls && e == EIO)
		return sxc_fatal(cli, SX_CLIENT_ETLS, "%s: TLS: %s", what,
		                 sx_tlsc_why(cli->tls));
	return sxc_fatal(cli, e ? -e : -EIO, "%s: %s", what,
	                 e ? strerror(e) : "wrote nothing");
}

int sxc_flush(sx_client *cli, int wait)
{
	if (cli->broken)
		return cli->broken;
	while (cli->txoff < cli->txlen) {
		ssize_t n = send_some(cli, cli->tx + cli->txoff, cli->txlen - cli->txoff);
		if (n > 0) {
			cli->txoff += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!wait)
				return -EAGAIN;
			int rc = wait_fd(cli, POLLOUT);
			if (rc)
				return rc;
			continue;
		}
		return io_fail(cli, "send", n);
	}
	cli->txoff = cli->txlen = 0;
	return 0;
}

int sx_client_flush(sx_client *cli)
{
	return sxc_flush(cli, cli->blocking);
}

size_t sx_client_unsent(const sx_client *cli)
{
	return cli->txlen - cli->txoff;
}

/*
 * Make room at the end of the receive buffer to read into.  need is the
 * total size of the value being assembled from rxoff (a binary frame's
 * header says it), or 0 when unknown (RESP: grow as it comes).  Reads are
 * at least 4 KiB where the limit allows, so a partial frame at the end of
 * the buffer does not shrink the next read to a few bytes.
 */
static int rx_room(sx_client *cli, size_t need, size_t max)
{
	size_t have = cli->rxlen - cli->rxoff;
	size_t missing = need > have ? need - have : 1;
	size_t want = missing < 4096 ? 4096 : missing;
	if (cli->rxcap - cli->rxlen >= want)
		return 0;
	if (cli->rxoff) {
		memmove(cli->rx, cli->rx + cli->rxoff, have);
		cli->rxoff = 0;
		cli->rxlen = have;
		if (cli->rxcap - cli->rxlen >= want)
			return 0;
	}
	size_t cap = cli->rxcap;
	while (cap - have < want && cap < max)
		cap *= 2;
	if (cap > max)
		cap = max;
	if (cap < have + missing)
		return sxc_fatal(cli, SX_CLIENT_ETOOBIG, "reply larger than %zu bytes",
		             max);
	if (cap == cli->rxcap)
		return 0;   /* less than 4 KiB free, but enough */
	uint8_t *p = realloc(cli->rx, cap);
	if (!p)
		return sxc_fatal(cli, -ENOMEM, "out of memory for the receive buffer");
	cli->rx = p;
	cli->rxcap = cap;
	return 0;
}

int sxc_rx_next(sx_client *cli, int wait, int resp, void *out)
{
	if (cli->broken)
		return cli->broken;
	cli->rxoff += cli->rxgive;
	cli->rxgive = 0;
	if (cli->rxoff == cli->rxlen)
		cli->rxoff = cli->rxlen = 0;
	size_t max = resp ? RX_MAX_RESP : RX_MAX_BIN;
	for (;;) {
		const uint8_t *p = cli->rx + cli->rxoff;
		size_t have = cli->rxlen - cli->rxoff, used = 0, need = 0;
		const char *why = NULL;
		int rc = resp ? sx_client_resp_parse((const char *)p, have, out,
		                                     &used, &why)
		              : sx_client_frame_parse(p, have, out, &used, &why);
		if (rc == 0) {
			cli->rxgive = used;
			return 0;
		}
		if (rc != -EAGAIN) {
			/* The usual cause of garbage: the other protocol's port. */
			const char *hint = "";
			if (!resp && have >= 1 && (p[0] == '-' || p[0] == '+'))
				hint = " (is this the RESP port?)";
			else if (resp && have >= 1 && !strchr("+-:$*", p[0]))
				hint = " (is this the binary port?)";
			return sxc_fatal(cli, rc, "%s: %s%s", sx_client_strerror(rc),
			             why ? why : "?", hint);
		}
		if (!resp && have >= 4)
			need = SXB_HEADER + (size_t)sxw_header_len(p);
		rc = rx_room(cli, need, max);
		if (rc)
			return rc;
		if (!wait && cli->rx_short) {
			cli->rx_short = 0;
			return -EAGAIN;
		}
		size_t space = cli->rxcap - cli->rxlen;
		int more;
		ssize_t n = recv_some(cli, cli->rx + cli->rxlen, space, &more);
		if (n > 0) {
			cli->rxlen += (size_t)n;
			cli->rx_short = (size_t)n < space && !more;
			continue;
		}
		if (n == 0)
			return sxc_fatal(cli, SX_CLIENT_ECLOSED, "%s",
			             have ? "connection closed in the middle of a reply"
			                  : "connection closed by server");
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			cli->rx_short = 0;
			if (!wait)
				return -EAGAIN;
			rc = wait_fd(cli, POLLIN);
			if (rc)
				return rc;
			continue;
		}
		return io_fail(cli, "recv", n);
	}
}

int sx_client_recv_reply(sx_client *cli, sx_client_reply *rep)
{
	if (cli->proto != SX_CLIENT_BINARY)
		return sxc_fail(cli, SX_CLIENT_EMODE, "recv_reply on a RESP connection");
	return sxc_rx_next(cli, cli->blocking, 0, rep);
}

int sx_client_recv_resp(sx_client *cli, sx_client_resp *v)
{
	if (cli->proto != SX_CLIENT_RESP)
		return sxc_fail(cli, SX_CLIENT_EMODE, "recv_resp on a binary connection");
	return sxc_rx_next(cli, cli->blocking, 1, v);
}

void sx_client_set_timeout(sx_client *cli, int timeout_ms)
{
	cli->timeout_ms = timeout_ms <= 0 ? -1 : timeout_ms;
}

void sx_client_set_blocking(sx_client *cli, int blocking)
{
	cli->blocking = blocking != 0;
}

int sx_client_fd(const sx_client *cli) { return cli->fd; }
int sx_client_proto(const sx_client *cli) { return cli->proto; }
int sx_client_is_tls(const sx_client *cli) { return cli->tls != NULL; }
unsigned sx_client_version(const sx_client *cli) { return cli->version; }
unsigned sx_client_max_batch(const sx_client *cli) { return cli->max_batch; }
int sx_client_auth_required(const sx_client *cli)
{
	return (cli->flags & SXB_HELLO_AUTH_REQUIRED) != 0;
}

/* ---- connecting ---------------------------------------------------------------- */

static int hello(sx_client *cli)
{
	int rc = sxc_tx_reserve(cli, SXB_HEADER + 8);
	if (rc)
		return rc;
	size_t start = cli->txlen;
	sxc_frame_begin(cli, SXB_OP_HELLO, 0, ++cli->seq);
	sxc_put_bytes(cli, SXB_MAGIC, 4);
	sx_le_put16(cli->tx + cli->txlen, SXB_VERSION_MIN);
	sx_le_put16(cli->tx + cli->txlen + 2, SXB_VERSION);
	cli->txlen += 4;
	sxc_frame_end(cli, start);
	sx_client_reply rep;
	if ((rc = sxc_flush(cli, 1)) || (rc = sxc_rx_next(cli, 1, 0, &rep))) {
		if (rc == -ETIMEDOUT)   /* a RESP server waits for a line end */
			sxc_fatal(cli, rc, "no reply within %d ms (is this the RESP port?)",
			      cli->timeout_ms);
		else if (rc == SX_CLIENT_ECLOSED && !cli->tls)
			sxc_fatal(cli, rc, "connection closed by server (is this a TLS port?)");
		return rc;
	}
	if (rep.op == SXB_OP_ERROR)
		return sxc_fatal(cli, SX_CLIENT_EVERSION, "refused: %.*s",
		             (int)rep.errlen, rep.err);
	if (rep.op != SXB_OP_HELLO_REPLY)
		return sxc_fatal(cli, SX_CLIENT_EPROTO, "answered with op 0x%02x",
		             rep.op);
	cli->version = sx_le_get16(rep.body);
	cli->flags = sx_le_get16(rep.body + 2);
	cli->max_body = sx_le_get32(rep.body + 4);
	cli->max_batch = sx_le_get32(rep.body + 8);
	if (cli->version < SXB_VERSION_MIN || cli->version > SXB_VERSION)
		return sxc_fatal(cli, SX_CLIENT_EVERSION, "server chose version %u, "
		                 "client speaks %u..%u", cli->version, SXB_VERSION_MIN,
		                 SXB_VERSION);
	if (cli->max_batch == 0)
		return sxc_fatal(cli, SX_CLIENT_EPROTO, "HELLO reply has max_batch 0");
	if (cli->max_batch > 65535)
		cli->max_batch = 65535;   /* count is a u16 */
	return 0;
}

static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			int e = errno;
			close(fd);
			return -e;
		}
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int r;
		while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
			;
		if (r <= 0) {
			int e = r == 0 ? ETIMEDOUT : errno;
			close(fd);
			return -e;
		}
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr) {
			close(fd);
			return -soerr;
		}
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

int sx_client_connect(const char *host, int port, int proto, int timeout_ms,
                      sx_client **out, char *err, size_t errcap)
{
	sx_client_opts o = { .host = host, .port = port, .proto = proto,
	                     .timeout_ms = timeout_ms };
	return sx_client_open(&o, out, err, errcap);
}

int sx_client_open(const sx_client_opts *o, sx_client **out, char *err,
                   size_t errcap)
{
	const char *host = o->host;
	int port = o->port, proto = o->proto, timeout_ms = o->timeout_ms;
	char dummy[8];
	if (!err) {
		err = dummy;
		errcap = sizeof dummy;
	}
	*out = NULL;
	if (!host || port <= 0 || port > 65535 ||
	    (proto != SX_CLIENT_BINARY && proto != SX_CLIENT_RESP)) {
		snprintf(err, errcap, "connect: bad host, port %d or protocol %d",
		         port, proto);
		return SX_EINVAL;
	}
	if (timeout_ms <= 0)
		timeout_ms = -1;

	char ps[16];
	snprintf(ps, sizeof ps, "%d", port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int g = getaddrinfo(host, ps, &hints, &res);
	if (g) {
		snprintf(err, errcap, "connect %s:%d: %s", host, port, gai_strerror(g));
		return -EHOSTUNREACH;
	}
	int fd = -ECONNREFUSED;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = connect_one(ai, timeout_ms);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errcap, "connect %s:%d: %s", host, port, strerror(-fd));
		return fd;
	}

	int rc = -ENOMEM;
	sx_client *cli = calloc(1, sizeof *cli);
	if (!cli)
		goto fail;
	cli->fd = fd;
	cli->proto = proto;
	cli->timeout_ms = timeout_ms;
	cli->blocking = 1;
	cli->tx = malloc(TX_INIT);
	cli->rx = malloc(RX_INIT);
	if (!cli->tx || !cli->rx)
		goto fail;
	cli->txcap = TX_INIT;
	cli->rxcap = RX_INIT;
	if (o->tls) {
		sx_tlsc_opts to = { .cafile = o->cacert, .cert = o->cert, .key = o->key,
		                    .sni = o->sni, .insecure = o->insecure,
		                    .timeout_ms = timeout_ms };
		char why[400];
		if (sx_tlsc_start(fd, host, &to, &cli->tls, why, sizeof why)) {
			snprintf(err, errcap, "connect %s:%d: %s", host, port, why);
			rc = SX_CLIENT_ETLS;
			goto fail;
		}
	}
	if (proto == SX_CLIENT_BINARY) {
		cli->max_batch = SXB_MAX_BATCH;
		rc = hello(cli);
		if (rc) {
			snprintf(err, errcap, "connect %s:%d: HELLO: %s", host, port,
			         cli->errmsg);
			goto fail;
		}
	}
	*out = cli;
	return 0;
fail:
	if (rc == -ENOMEM)
		snprintf(err, errcap, "connect %s:%d: out of memory", host, port);
	if (cli) {
		sx_tlsc_close(cli->tls);
		free(cli->tx);
		free(cli->rx);
		free(cli);
	}
	close(fd);
	return rc;
}

void sx_client_close(sx_client *cli)
{
	if (!cli)
		return;
	sx_tlsc_close(cli->tls);
	close(cli->fd);
	free(cli->tx);
	free(cli->rx);
	free(cli);
}
