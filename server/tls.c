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
 * The server context is shared by all workers and swapped under a mutex on
 * rotation; SSL_new takes its own reference, so the old context lives as
 * long as a connection uses it.
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

#include "conn.h"
#include "log.h"
#include "tls.h"

struct sx_tls_server {
	sx_tls_conf conf;
	pthread_mutex_t lock;        /* guards ctx against a swap */
	SSL_CTX *ctx;
};

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

/* ---- the server context ---------------------------------------------------- */

/* OpenSSL's reason for the last failure, in one line. */
static const char *ssl_why(char *buf, size_t cap)
{
	unsigned long e = ERR_peek_last_error();
	if (!e) {
		snprintf(buf, cap, "%s", "unknown error");
		return buf;
	}
	ERR_error_string_n(e, buf, cap);
	ERR_clear_error();
	return buf;
}

static SSL_CTX *ctx_build(const sx_tls_conf *c, char *why, size_t cap)
{
	char e[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(why, cap, "TLS: %s", ssl_why(e, sizeof e));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1) {
		snprintf(why, cap, "--tls-cert %s: %s", c->cert, ssl_why(e, sizeof e));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1) {
		snprintf(why, cap, "--tls-key %s: %s", c->key, ssl_why(e, sizeof e));
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(why, cap, "--tls-key %s does not belong to --tls-cert %s: %s",
		         c->key, c->cert, ssl_why(e, sizeof e));
		goto fail;
	}
	if (c->ciphers && SSL_CTX_set_cipher_list(ctx, c->ciphers) != 1) {
		snprintf(why, cap, "--tls-ciphers '%s': %s", c->ciphers, ssl_why(e, sizeof e));
		goto fail;
	}
	if (c->ciphersuites && SSL_CTX_set_ciphersuites(ctx, c->ciphersuites) != 1) {
		snprintf(why, cap, "--tls-ciphersuites '%s': %s", c->ciphersuites,
		         ssl_why(e, sizeof e));
		goto fail;
	}
	if (c->ca && SSL_CTX_load_verify_locations(ctx, c->ca, NULL) != 1) {
		snprintf(why, cap, "--tls-ca %s: %s", c->ca, ssl_why(e, sizeof e));
		goto fail;
	}
	if (c->client_auth != SX_TLS_CLIENT_NONE) {
		if (!c->ca) {
			snprintf(why, cap, "--tls-client-auth %s needs --tls-ca FILE: the CAs "
			         "client certificates must chain to",
			         c->client_auth == SX_TLS_CLIENT_REQUIRED ? "required" : "optional");
			goto fail;
		}
		int mode = SSL_VERIFY_PEER;
		if (c->client_auth == SX_TLS_CLIENT_REQUIRED)
			mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
		SSL_CTX_set_verify(ctx, mode, NULL);
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(c->ca);
		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int sx_tls_server_new(const sx_tls_conf *conf, sx_tls_server **out, char *why, size_t cap)
{
	pthread_once(&bio_once, bio_setup);
	if (!conf->cert || !conf->key) {
		snprintf(why, cap, "TLS needs --tls-cert FILE and --tls-key FILE");
		return SX_EINVAL;
	}
	SSL_CTX *ctx = ctx_build(conf, why, cap);
	if (!ctx)
		return SX_EINVAL;
	sx_tls_server *ts = calloc(1, sizeof *ts);
	if (!ts) {
		SSL_CTX_free(ctx);
		snprintf(why, cap, "out of memory");
		return -ENOMEM;
	}
	ts->conf = *conf;
	ts->ctx = ctx;
	pthread_mutex_init(&ts->lock, NULL);
	*out = ts;
	return 0;
}

int sx_tls_server_reload(sx_tls_server *ts, char *why, size_t cap)
{
	SSL_CTX *ctx = ctx_build(&ts->conf, why, cap);
	if (!ctx)
		return SX_EINVAL;
	pthread_mutex_lock(&ts->lock);
	SSL_CTX *old = ts->ctx;
	ts->ctx = ctx;
	pthread_mutex_unlock(&ts->lock);
	SSL_CTX_free(old);           /* open connections hold their own reference */
	return 0;
}

void sx_tls_server_free(sx_tls_server *ts)
{
	if (!ts)
		return;
	SSL_CTX_free(ts->ctx);
	pthread_mutex_destroy(&ts->lock);
	free(ts);
}

void sx_tls_server_describe(sx_tls_server *ts, char *buf, size_t cap)
{
	pthread_mutex_lock(&ts->lock);
	X509 *x = SSL_CTX_get0_certificate(ts->ctx);
	char subj[256] = "?", when[32] = "?", fp[3 * 32 + 1] = "";
	if (x) {
		X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof subj);
		const ASN1_TIME *na = X509_get0_notAfter(x);
		struct tm tm;
		if (na && ASN1_TIME_to_tm(na, &tm))
			strftime(when, sizeof when, "%Y-%m-%d", &tm);
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int n = 0;
		if (X509_digest(x, EVP_sha256(), md, &n))
			for (unsigned i = 0; i < n; i++)
				snprintf(fp + 3 * i, sizeof fp - 3 * i, "%02X%s", md[i],
				         i + 1 < n ? ":" : "");
	}
	pthread_mutex_unlock(&ts->lock);
	snprintf(buf, cap, "%s, expires %s, SHA-256 %s", subj, when, fp);
}

/* ---- connections ------------------------------------------------------------- */

void sx_tls_attach(sx_conn *c, sx_tls_server *ts)
{
	sx_tls *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	sx_obuf_init(&t->wire);
	pthread_mutex_lock(&ts->lock);
	t->ssl = SSL_new(ts->ctx);
	pthread_mutex_unlock(&ts->lock);
	BIO *b = t->ssl ? BIO_new(bio_method) : NULL;
	if (!b)
		abort();
	BIO_set_data(b, t);
	BIO_up_ref(b);                    /* one reference each for rbio and wbio */
	SSL_set_bio(t->ssl, b, b);
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
	char e[256];
	sx_log("TLS: connection refused (%s): %s", what, ssl_why(e, sizeof e));
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
		if (t) {
			c->tenant = t;
			c->flags |= SX_CF_CERT;
		}
	}
}

int sx_tls_input(sx_conn *c, const char *data, size_t n)
{
	static __thread char plain[16 * 1024];
	sx_tls *t = c->tls;
	t->rd = data;
	t->rd_n = n;
	int rc = 0;
	for (;;) {
		if (c->flags & (SX_CF_CLOSING | SX_CF_DEAD | SX_CF_KILL))
			break;              /* the protocol is done with this client */
		int r = SSL_read(t->ssl, plain, sizeof plain);
		if (!t->ready && SSL_is_init_finished(t->ssl))
			handshake_done(c);
		if (r > 0) {
			sx_conn_input(c, plain, (size_t)r);
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
