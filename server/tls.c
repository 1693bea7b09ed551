/*
 * tls.c - TLS as a transport (see tls.h).
 *
 * Two BIOs of our own stand between OpenSSL and the connection: the read
 * BIO serves a window over the ciphertext the backend just received (set
 * for the length of one sx_tls_input call, empty otherwise: "retry"), the
 * write BIO appends to the connection's wire buffer and never fails.  So a
 * TLS connection is driven exactly like a plain one, from the same loop,
 * with the same buffers, and OpenSSL decides nothing about I/O.
 *
 * The server context (certificate, key, CA) is tlsctx.c's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "addr.h"
#include "auth.h"
#include "conn.h"
#include "log.h"
#include "tls.h"

struct sx_tls {
	SSL *ssl;
	const char *rd;              /* ciphertext window of the current input */
	size_t rd_n;
	sx_obuf wire;                /* ciphertext to send */
	uint8_t ready, bye;
};

/* ---- the BIOs ------------------------------------------------------------ */

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int bio_read(BIO *b, char *buf, int len)
{
	sx_tls *t = BIO_get_data(b);
	BIO_clear_retry_flags(b);
	if (t->rd_n == 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	size_t n = (size_t)len < t->rd_n ? (size_t)len : t->rd_n;
	memcpy(buf, t->rd, n);
	t->rd += n;
	t->rd_n -= n;
	return (int)n;
}

static int bio_write(BIO *b, const char *buf, int len)
{
	sx_tls *t = BIO_get_data(b);
	BIO_clear_retry_flags(b);
	sx_obuf_put(&t->wire, buf, (size_t)len);
	return len;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void bio_setup(void)
{
	bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sxgate");
	if (!bio_method || !BIO_meth_set_read(bio_method, bio_read) ||
	    !BIO_meth_set_write(bio_method, bio_write) ||
	    !BIO_meth_set_ctrl(bio_method, bio_ctrl) ||
	    !BIO_meth_set_create(bio_method, bio_create))
		abort();
}

/* ---- connections ------------------------------------------------------------- */

void sx_tls_attach(sx_conn *c, sx_tls_server *ts)
{
	sx_tls *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	sx_obuf_init(&t->wire);
	pthread_once(&bio_once, bio_setup);
	t->ssl = sx_tls_server_ssl(ts);
	BIO *b = t->ssl ? BIO_new(bio_method) : NULL;
	if (!b)
		abort();
	BIO_set_data(b, t);
	SSL_set_bio(t->ssl, b, b);        /* the same BIO both ways: one reference */
	SSL_set_accept_state(t->ssl);
	c->tls = t;
	c->wire = &t->wire;
}

void sx_tls_detach(sx_conn *c)
{
	sx_tls *t = c->tls;
	if (!t)
		return;
	SSL_free(t->ssl);
	sx_obuf_free(&t->wire);
	free(t);
	c->tls = NULL;
	c->wire = NULL;
}

int sx_tls_ready(const sx_conn *c)
{
	return c->tls && c->tls->ready;
}

static void log_refusal(sx_conn *c, const char *what)
{
	static __thread int64_t last;
	if (c->x->now == last)
		return;
	last = c->x->now;
	char e[256], a[SX_ADDR_TEXT];
	sx_log_warn("TLS: connection refused (%s): client %s: %s", what,
	            sx_addr_text(c->addr.b, a, sizeof a), sx_tls_why(e, sizeof e));
}

/* The handshake finished: a client certificate bound to a tenant makes
 * the connection that tenant, without AUTH (tenant.h cert=). */
static void handshake_done(sx_conn *c)
{
	uint8_t fp[32];
	c->tls->ready = 1;
	sx_stat_inc(c->x->stats.tls_handshakes);
	if (c->x->tenants && sx_tls_peer_sha256(c, fp) == 0) {
		const sx_tenant *t = sx_tenants_find_cert(c->x->tenants, fp);
		char msg[160];
		if (t && sx_auth_take(c->x, c->tenant, t, msg, sizeof msg)) {
			/* its tenant is at max-conns: say so and close */
			c->proto->deny(c, msg);
			c->flags |= SX_CF_CLOSING;
		} else if (t) {
			c->tenant = t;
			c->flags |= SX_CF_CERT;
		}
	}
}

int sx_tls_input(sx_conn *c, const char *data, size_t n, sx_tls_plain_fn *plain)
{
	static __thread char buf[16 * 1024];
	sx_tls *t = c->tls;
	t->rd = data;
	t->rd_n = n;
	int rc = 0;
	for (;;) {
		if (c->flags & (SX_CF_CLOSING | SX_CF_DEAD | SX_CF_KILL))
			break;              /* the protocol is done with this client */
		int r = SSL_read(t->ssl, buf, sizeof buf);
		if (!t->ready && SSL_is_init_finished(t->ssl))
			handshake_done(c);
		if (r > 0) {
			plain(c, buf, (size_t)r);
			continue;
		}
		int err = SSL_get_error(t->ssl, r);
		if (err == SSL_ERROR_WANT_READ)
			break;
		if (err == SSL_ERROR_ZERO_RETURN) {
			c->flags |= SX_CF_EOF;    /* close_notify: the peer is done */
			break;
		}
		sx_stat_inc(c->x->stats.tls_errors);
		log_refusal(c, t->ready ? "bad record" : "handshake");
		rc = -1;
		break;
	}
	t->rd = NULL;
	t->rd_n = 0;
	ERR_clear_error();
	return rc;
}

sx_obuf *sx_tls_wire(sx_conn *c)
{
	sx_tls *t = c->tls;
	while (c->out.pending && t->ready) {
		struct iovec iov[SX_CONN_IOV];
		int k = sx_obuf_iov(&c->out, iov, SX_CONN_IOV);
		size_t sent = 0;
		for (int i = 0; i < k; i++) {
			int w = SSL_write(t->ssl, iov[i].iov_base, (int)iov[i].iov_len);
			if (w <= 0)
				break;        /* cannot happen: the write BIO takes all */
			sent += (size_t)w;
			if ((size_t)w < iov[i].iov_len)
				break;
		}
		if (!sent)
			break;
		sx_obuf_consume(&c->out, sent);
	}
	ERR_clear_error();
	return &t->wire;
}

void sx_tls_idle(sx_conn *c)
{
	if (c->tls->ready && !SSL_has_pending(c->tls->ssl))
		(void)SSL_free_buffers(c->tls->ssl);   /* 0: data in them; keep */
	ERR_clear_error();
}

void sx_tls_bye(sx_conn *c)
{
	sx_tls *t = c->tls;
	if (!t || t->bye)
		return;
	t->bye = 1;
	if (t->ready)
		SSL_shutdown(t->ssl);    /* writes close_notify to the wire */
	ERR_clear_error();
}

int sx_tls_peer_sha256(const sx_conn *c, uint8_t out[32])
{
	if (!c->tls)
		return -1;
	X509 *x = SSL_get0_peer_certificate(c->tls->ssl);
	unsigned int n = 0;
	if (!x || !X509_digest(x, EVP_sha256(), out, &n) || n != 32)
		return -1;
	return 0;
}
