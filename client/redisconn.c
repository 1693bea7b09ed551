/*
 * redisconn.c - the Redis client of redisconn.h: the URL, the password
 * file, the connection (TCP or TLS), AUTH, and one command at a time.
 *
 * Commands are few and small (XREAD, XREVRANGE, XADD of one update), so
 * each is encoded into a fresh buffer and written at once; replies are
 * read into one buffer that grows to the largest reply (an XREAD of 256
 * entries) and is parsed by sx_client_resp_parse, which bounds and
 * validates every value before the caller reads it.  The socket is
 * nonblocking and every wait is a poll bounded by the timeout, the same
 * for the plain and the TLS transport (tlsconn reads like recv).
 */
#include "redisconn.h"
#include "sx.h"
#include "tlsconn.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define RX_FIRST  (16u << 10)
#define RX_LIMIT  (SX_CLIENT_MAX_RESP + SX_CLIENT_MAX_LINE + 64)

struct sx_redis {
	int fd;
	sx_tlsc *tls;            /* NULL: plain TCP */
	int timeout_ms;
	int broken;              /* sticky error code, 0 while usable */
	char *rx;                /* [rxoff, rxlen) received, not yet parsed */
	size_t rxcap, rxoff, rxlen, rxgive;
	char errmsg[512];
};

const char *sx_redis_strerror(int err)
{
	switch (err) {
#define X(name, val, msg) case name: return msg;
	SX_REDIS_ERRORS(X)
#undef X
	}
	return sx_client_strerror(err);
}

/* ---- the URL -------------------------------------------------------------- */

char *sx_redis_url_mask(const char *url, char *buf, size_t cap)
{
	const char *s = strstr(url, "://");
	s = s ? s + 3 : url;
	size_t alen = strcspn(s, "/");
	const char *at = NULL;
	for (const char *p = s; p < s + alen; p++)
		if (*p == '@')
			at = p;
	const char *colon = at ? memchr(s, ':', (size_t)(at - s)) : NULL;
	if (!colon)
		snprintf(buf, cap, "%s", url);
	else
		snprintf(buf, cap, "%.*s:***%s", (int)(colon - url), url, at);
	return buf;
}

/* Decode %XX escapes of s[0..n) into out; -1 on a bad escape or overflow. */
static int unescape(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return -1;
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			c = (char)strtol(hex, NULL, 16);
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = 0;
	return 0;
}

int sx_redis_url_parse(const char *flag, const char *url, sx_redis_url *u,
                       char *why, size_t cap)
{
	memset(u, 0, sizeof *u);
	sx_redis_url_mask(url, u->masked, sizeof u->masked);
	const char *want = "want redis[s]://[USER[:PASSWORD]@]HOST[:PORT]/STREAM";
	const char *p;
	if (!strncmp(url, "redis://", 8)) {
		p = url + 8;
	} else if (!strncmp(url, "rediss://", 9)) {
		p = url + 9;
		u->tls = 1;
	} else {
		snprintf(why, cap, "%s '%s': %s", flag, u->masked, want);
		return SX_EINVAL;
	}
	const char *slash = strchr(p, '/');
	if (!slash || !slash[1]) {
		snprintf(why, cap, "%s '%s': no stream name; %s", flag, u->masked, want);
		return SX_EINVAL;
	}
	/* user info: up to the last '@' before the path */
	const char *host = p;
	for (const char *q = p; q < slash; q++)
		if (*q == '@')
			host = q + 1;
	if (host > p) {
		const char *ui = p, *ue = host - 1;
		const char *colon = memchr(ui, ':', (size_t)(ue - ui));
		const char *uend = colon ? colon : ue;
		if (unescape(ui, (size_t)(uend - ui), u->user, sizeof u->user) ||
		    (colon && unescape(colon + 1, (size_t)(ue - colon - 1), u->password,
		                       sizeof u->password))) {
			snprintf(why, cap, "%s '%s': the user or password is too long or has "
			         "a bad %%XX escape", flag, u->masked);
			return SX_EINVAL;
		}
		u->password_in_url = u->password[0] != 0;
		if (colon && !u->password[0]) {
			snprintf(why, cap, "%s '%s': the password after ':' is empty", flag,
			         u->masked);
			return SX_EINVAL;
		}
	}
	/* host: a name, an IPv4 address, or [IPv6] */
	const char *hend, *port = NULL;
	if (*host == '[') {
		const char *rb = memchr(host, ']', (size_t)(slash - host));
		if (!rb || (rb[1] != ':' && rb + 1 != slash)) {
			snprintf(why, cap, "%s '%s': an IPv6 address is written [ADDR]:PORT",
			         flag, u->masked);
			return SX_EINVAL;
		}
		hend = rb;
		host++;
		port = rb[1] == ':' ? rb + 2 : NULL;
	} else {
		const char *colon = memchr(host, ':', (size_t)(slash - host));
		hend = colon ? colon : slash;
		port = colon ? colon + 1 : NULL;
	}
	if (hend == host || (size_t)(hend - host) >= sizeof u->host ||
	    strlen(slash + 1) >= sizeof u->stream) {
		snprintf(why, cap, "%s '%s': the host or stream name is empty or too long",
		         flag, u->masked);
		return SX_EINVAL;
	}
	memcpy(u->host, host, (size_t)(hend - host));
	u->port = 6379;
	if (port) {
		char *end;
		long v = strtol(port, &end, 10);
		if (end != slash || port == slash || v < 1 || v > 65535) {
			snprintf(why, cap, "%s '%s': the port is not a number in 1..65535", flag,
			         u->masked);
			return SX_EINVAL;
		}
		u->port = (int)v;
	}
	snprintf(u->stream, sizeof u->stream, "%s", slash + 1);
	return 0;
}

int sx_redis_url_password_file(sx_redis_url *u, const char *flag,
                               const char *path, char *why, size_t cap)
{
	if (u->password_in_url) {
		snprintf(why, cap, "%s %s: the URL '%s' has a password too; give one of "
		         "them (the file)", flag, path, u->masked);
		return SX_EINVAL;
	}
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		snprintf(why, cap, "%s %s: %s", flag, path, strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		snprintf(why, cap, "%s %s: group or others may read it (mode %04o); "
		         "chmod 600 %s", flag, path, (unsigned)(st.st_mode & 07777), path);
		fclose(f);
		return SX_EINVAL;
	}
	char line[sizeof u->password + 2];
	int rc = 0;
	if (!fgets(line, sizeof line, f))
		line[0] = 0;
	fclose(f);
	size_t n = strcspn(line, "\r\n");
	if (n == sizeof line - 1 || n >= sizeof u->password) {
		snprintf(why, cap, "%s %s: the first line is longer than %zu bytes", flag,
		         path, sizeof u->password - 1);
		rc = SX_EINVAL;
	} else if (n == 0) {
		snprintf(why, cap, "%s %s: the first line (the password) is empty", flag,
		         path);
		rc = SX_EINVAL;
	} else {
		memcpy(u->password, line, n);
		u->password[n] = 0;
	}
	explicit_bzero(line, sizeof line);
	return rc;
}

/* ---- the connection ------------------------------------------------------- */

SX_COLD __attribute__((format(printf, 3, 4)))
static int fatal(sx_redis *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
	va_end(ap);
	r->broken = code;
	return code;
}

/* Wait for ev until the deadline: 0, or -ETIMEDOUT / -errno. */
static int wait_fd(sx_redis *r, short ev, uint64_t deadline)
{
	for (;;) {
		uint64_t now = sx_mono_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = r->fd, .events = ev };
		int n = poll(&p, 1, (int)(deadline - now));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static ssize_t io_read(sx_redis *r, void *b, size_t n)
{
	return r->tls ? sx_tlsc_read(r->tls, b, n) : recv(r->fd, b, n, 0);
}

static ssize_t io_write(sx_redis *r, const void *b, size_t n)
{
	return r->tls ? sx_tlsc_write(r->tls, b, n) : send(r->fd, b, n, MSG_NOSIGNAL);
}

static int send_all(sx_redis *r, const char *b, size_t n, uint64_t deadline)
{
	while (n) {
		ssize_t w = io_write(r, b, n);
		if (w > 0) {
			b += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return fatal(r, -errno, "write to Redis: %s", strerror(errno));
		/* TLS may need to read to write (a key update): wait for either */
		int rc = wait_fd(r, r->tls ? POLLIN | POLLOUT : POLLOUT, deadline);
		if (rc)
			return fatal(r, rc, "write to Redis: %s", strerror(-rc));
	}
	return 0;
}

static int recv_reply(sx_redis *r, sx_client_resp *v, uint64_t deadline)
{
	r->rxoff += r->rxgive;
	r->rxgive = 0;
	for (;;) {
		const char *why = "";
		size_t used;
		int rc = sx_client_resp_parse(r->rx + r->rxoff, r->rxlen - r->rxoff, v,
		                              &used, &why);
		if (rc == 0) {
			r->rxgive = used;
			return 0;
		}
		if (rc != -EAGAIN)
			return fatal(r, rc, "reply from Redis: %s", why);
		if (r->rxoff) {             /* keep the partial value at the front */
			memmove(r->rx, r->rx + r->rxoff, r->rxlen - r->rxoff);
			r->rxlen -= r->rxoff;
			r->rxoff = 0;
		}
		if (r->rxlen == r->rxcap) {
			size_t cap = r->rxcap * 2 > RX_LIMIT ? RX_LIMIT : r->rxcap * 2;
			char *nb = cap > r->rxcap ? realloc(r->rx, cap) : NULL;
			if (!nb)
				return fatal(r, cap > r->rxcap ? -ENOMEM : SX_CLIENT_ETOOBIG,
				             "reply from Redis: over %zu bytes", r->rxcap);
			r->rx = nb;
			r->rxcap = cap;
		}
		ssize_t got = io_read(r, r->rx + r->rxlen, r->rxcap - r->rxlen);
		if (got > 0) {
			r->rxlen += (size_t)got;
			continue;
		}
		if (got == 0)
			return fatal(r, SX_CLIENT_ECLOSED, "Redis closed the connection");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return fatal(r, -errno, "read from Redis: %s", strerror(errno));
		if ((rc = wait_fd(r, POLLIN, deadline)))
			return fatal(r, rc, "read from Redis: %s", rc == -ETIMEDOUT ?
			             "no reply in time" : strerror(-rc));
	}
}

int sx_redis_call(sx_redis *r, int argc, const char *const *argv,
                  const size_t *lens, sx_client_resp *reply)
{
	if (r->broken)
		return r->broken;
	size_t need = 32;
	for (int i = 0; i < argc; i++)
		need += 32 + (lens ? lens[i] : strlen(argv[i]));
	char *b = malloc(need);
	if (!b)
		return fatal(r, -ENOMEM, "out of memory");
	size_t n = (size_t)snprintf(b, need, "*%d\r\n", argc);
	for (int i = 0; i < argc; i++) {
		size_t l = lens ? lens[i] : strlen(argv[i]);
		n += (size_t)snprintf(b + n, need - n, "$%zu\r\n", l);
		memcpy(b + n, argv[i], l);
		memcpy(b + n + l, "\r\n", 2);
		n += l + 2;
	}
	uint64_t deadline = sx_mono_ms() + (uint64_t)r->timeout_ms;
	int rc = send_all(r, b, n, deadline);
	explicit_bzero(b, n);      /* it may have held the password (AUTH) */
	free(b);
	return rc ? rc : recv_reply(r, reply, deadline);
}

/* "AUTH refused: WRONGPASS ..." from an error reply. */
static int auth_result(const sx_client_resp *v, int asked,
                       char *why, size_t cap)
{
	if (v->type != '-')
		return 0;
	int noauth = v->len >= 6 && !memcmp(v->str, "NOAUTH", 6);
	snprintf(why, cap, "%s%.*s", asked ? "AUTH refused: " : "",
	         (int)(v->len > 300 ? 300 : v->len), v->str);
	return asked ? SX_REDIS_EAUTH : noauth ? SX_REDIS_ENOAUTH : SX_CLIENT_ESERVER;
}

int sx_redis_connect(const sx_redis_url *u, const char *cafile, int timeout_ms,
                     sx_redis **out, char *why, size_t cap)
{
	*out = NULL;
	if (timeout_ms <= 0)
		timeout_ms = 5000;
	sx_client *c;
	int rc = sx_client_connect(u->host, u->port, SX_CLIENT_RESP, timeout_ms, &c,
	                           why, cap);
	if (rc)
		return rc;
	/* the socket outlives the client library's connection */
	int fd = fcntl(sx_client_fd(c), F_DUPFD_CLOEXEC, 0);
	rc = fd < 0 ? -errno : 0;
	sx_client_close(c);
	sx_redis *r = fd < 0 ? NULL : calloc(1, sizeof *r);
	if (!r) {
		snprintf(why, cap, "connect %s:%d: %s", u->host, u->port,
		         strerror(rc ? -rc : ENOMEM));
		if (fd >= 0)
			close(fd);
		return rc ? rc : -ENOMEM;
	}
	r->fd = fd;
	r->timeout_ms = timeout_ms;
	r->rxcap = RX_FIRST;
	if (!(r->rx = malloc(r->rxcap))) {
		snprintf(why, cap, "connect %s:%d: out of memory", u->host, u->port);
		rc = -ENOMEM;
		goto fail;
	}
	if (u->tls) {
		sx_tlsc_opts o = { .cafile = cafile, .timeout_ms = timeout_ms };
		char e[400];
		if (sx_tlsc_start(fd, u->host, &o, &r->tls, e, sizeof e)) {
			snprintf(why, cap, "%s", e);
			rc = SX_REDIS_ETLS;
			goto fail;
		}
	}
	sx_client_resp v;
	const char *argv[3] = { "AUTH" };
	int argc = 1;
	if (u->password[0]) {
		if (u->user[0])
			argv[argc++] = u->user;
		argv[argc++] = u->password;
	} else {
		argv[0] = "PING";
	}
	if ((rc = sx_redis_call(r, argc, argv, NULL, &v))) {
		snprintf(why, cap, "%s %s:%d: %s", u->password[0] ? "AUTH with" : "PING",
		         u->host, u->port, r->errmsg);
		goto fail;
	}
	if ((rc = auth_result(&v, u->password[0] != 0, why, cap)))
		goto fail;
	*out = r;
	return 0;
fail:
	sx_redis_close(r);
	return rc;
}

void sx_redis_set_timeout(sx_redis *r, int timeout_ms)
{
	r->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
}

const char *sx_redis_errmsg(const sx_redis *r)
{
	return r->errmsg;
}

void sx_redis_close(sx_redis *r)
{
	if (!r)
		return;
	sx_tlsc_close(r->tls);
	close(r->fd);
	free(r->rx);
	free(r);
}
