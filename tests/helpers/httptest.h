/*
 * httptest.h - HTTP helpers for the server tests (with srvtest.h): send a
 * raw request to the HTTP port, read one response (by Content-Length, or
 * to the close), pick a series out of /metrics text.
 *
 * Everything is `static`, like srvtest.h.
 */
#ifndef SX_HTTPTEST_H
#define SX_HTTPTEST_H

#include "srvtest.h"

typedef struct ht_resp {
	int status;          /* 0: no (parsable) response */
	char *head;          /* status line and headers, NUL-terminated */
	char *body;          /* NUL-terminated */
	size_t body_len;
} ht_resp;

ST_UNUSED static void ht_free(ht_resp *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof *r);
}

/* s[0..n) as a NUL-terminated copy.  Not strndup: the received bytes have
 * no NUL after them, and ASan's strndup looks for one past n (it reported
 * a read past a full buffer under a 10 000-ID reply). */
ST_UNUSED static char *ht_dup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	cr_assert_not_null(d);
	memcpy(d, s, n);
	d[n] = 0;
	return d;
}

/* One response from c: the head, then Content-Length bytes (or to the
 * close when there is none).  status 0 when the connection closed or
 * timed out first. */
ST_UNUSED static ht_resp ht_read(st_conn *c)
{
	ht_resp r = { 0 };
	char *end;
	while (!(end = memmem(c->buf + c->off, c->len - c->off, "\r\n\r\n", 4)))
		if (st_fill(c) <= 0)
			return r;
	size_t hl = (size_t)(end - (c->buf + c->off)) + 4;
	r.head = ht_dup(c->buf + c->off, hl);
	c->off += hl;
	if (strncmp(r.head, "HTTP/1.", 7) == 0)
		r.status = atoi(r.head + 9);
	const char *cl = strcasestr(r.head, "\r\nContent-Length:");
	if (cl) {
		size_t n = strtoull(cl + 17, NULL, 10);
		while (c->len - c->off < n)
			if (st_fill(c) <= 0)
				break;
		if (c->len - c->off < n)
			n = c->len - c->off;
		r.body = ht_dup(c->buf + c->off, n);
		r.body_len = n;
		c->off += n;
	} else {
		while (st_fill(c) > 0)
			;
		r.body_len = c->len - c->off;
		r.body = ht_dup(c->buf + c->off, r.body_len);
		c->off = c->len;
	}
	return r;
}

/* Send req on a new connection, read one response, close. */
ST_UNUSED static ht_resp ht_ask(int port, const char *req)
{
	st_conn *c = st_connect(port);
	st_send_str(c, req);
	ht_resp r = ht_read(c);
	st_close(c);
	return r;
}

ST_UNUSED static ht_resp ht_get(int port, const char *path)
{
	char req[512];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	         "Connection: close\r\n\r\n", path, port);
	return ht_ask(port, req);
}

/* The value of the series line that starts with `series ` (the name with
 * its labels, exactly as written) in metrics text; -1 when absent. */
ST_UNUSED static double ht_series(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, series, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

/* A started server with an HTTP port; *port gets it. */
#define ht_start(port, ...) \
	(*(port) = st_free_port(), \
	 st_start_args(st_snap, 0, (const char *[]){ "--http-port", ht_port_str(*(port)) \
	                                             __VA_OPT__(,) __VA_ARGS__, NULL }))

ST_UNUSED static const char *ht_port_str(int port)
{
	static __thread char buf[4][16];
	static __thread int i;
	char *b = buf[i++ & 3];
	snprintf(b, 16, "%d", port);
	return b;
}

#endif
