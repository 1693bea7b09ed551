/*
 * tlsconn.c - client-side TLS over a connected socket (see tlsconn.h).
 *
 * One SSL_CTX per session: clients make few connections and the files
 * may differ per connection, so sharing one is not worth a cache.
 *
 * The socket BIO is OpenSSL's own except for its write, which is send()
 * with MSG_NOSIGNAL: OpenSSL writes with write(), and a server that has
 * closed would otherwise kill the calling program with SIGPIPE, where the
 * plain path of the client library gets EPIPE.  A library must not change
 * the program's signal dispositions to get that.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sx.h"
#include "tlsconn.h"

struct sx_tlsc {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	int dead;               /* a fatal error: no close_notify (OpenSSL forbids it) */
	char why[256];          /* OpenSSL's reason for the last EIO */
};

/* ---- a socket BIO that never raises SIGPIPE ---------------------------------- */

static BIO_METHOD *nosig_method;
static pthread_once_t nosig_once = PTHREAD_ONCE_INIT;

static int nosig_write(BIO *b, const char *in, int n)
{
	int fd = (int)BIO_get_fd(b, NULL);
	ssize_t r;
	do
		r = send(fd, in, (size_t)n, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	BIO_clear_retry_flags(b);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_write(b);
	return (int)r;
}

static void nosig_init(void)
{
	const BIO_METHOD *s = BIO_s_socket();
	BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOCKET, "socket, MSG_NOSIGNAL");
	if (!m)
		return;
	if (!BIO_meth_set_write(m, nosig_write) ||
	    !BIO_meth_set_read(m, BIO_meth_get_read(s)) ||
	    !BIO_meth_set_puts(m, BIO_meth_get_puts(s)) ||
	    !BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(s)) ||
	    !BIO_meth_set_create(m, BIO_meth_get_create(s)) ||
	    !BIO_meth_set_destroy(m, BIO_meth_get_destroy(s)) ||
	    !BIO_meth_set_callback_ctrl(m, BIO_meth_get_callback_ctrl(s))) {
		BIO_meth_free(m);
		return;
	}
	nosig_method = m;
}

/* The session's BIO over fd; 0 or -1. */
static int attach_fd(SSL *ssl, int fd)
{
	pthread_once(&nosig_once, nosig_init);
	if (!nosig_method)
		return SSL_set_fd(ssl, fd) == 1 ? 0 : -1;
	BIO *b = BIO_new(nosig_method);
	if (!b)
		return -1;
	BIO_set_fd(b, fd, BIO_NOCLOSE);
	SSL_set_bio(ssl, b, b);
	return 0;
}

static int fail(sx_tlsc *t, char *why, size_t cap, const char *what)
{
	char e[300] = "";       /* room for the hint after 256 */
	unsigned long code = ERR_peek_last_error();
	if (code)
		ERR_error_string_n(code, e, 256);
	if (ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_WRONG_VERSION_NUMBER)
		strcat(e, " (is this a TLS port?)");
	long v = t && t->ssl ? SSL_get_verify_result(t->ssl) : X509_V_OK;
	if (v != X509_V_OK)
		snprintf(why, cap, "%s: certificate verify failed: %s", what,
		         X509_verify_cert_error_string(v));
	else
		snprintf(why, cap, "%s%s%s", what, e[0] ? ": " : "", e);
	ERR_clear_error();
	if (t) {
		SSL_free(t->ssl);
		SSL_CTX_free(t->ctx);
		free(t);
	}
	return -1;
}

int sx_tlsc_start(int fd, const char *host, const sx_tlsc_opts *o, sx_tlsc **out,
                  char *why, size_t cap)
{
	sx_tlsc *t = calloc(1, sizeof *t);
	if (!t) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	t->fd = fd;
	if (!(t->ctx = SSL_CTX_new(TLS_client_method())))
		return fail(t, why, cap, "TLS");
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	char what[PATH_MAX + 32];
	if (o->cafile) {
		if (SSL_CTX_load_verify_locations(t->ctx, o->cafile, NULL) != 1) {
			snprintf(what, sizeof what, "CA file %s", o->cafile);
			return fail(t, why, cap, what);
		}
	} else if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
		return fail(t, why, cap, "the system's CA store");
	}
	if (o->cert) {
		snprintf(what, sizeof what, "client certificate %s", o->cert);
		if (SSL_CTX_use_certificate_chain_file(t->ctx, o->cert) != 1)
			return fail(t, why, cap, what);
		snprintf(what, sizeof what, "client key %s", o->key ? o->key : o->cert);
		if (SSL_CTX_use_PrivateKey_file(t->ctx, o->key ? o->key : o->cert,
		                                SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(t->ctx) != 1)
			return fail(t, why, cap, what);
	}
	SSL_CTX_set_verify(t->ctx, o->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	if (!(t->ssl = SSL_new(t->ctx)) || attach_fd(t->ssl, fd))
		return fail(t, why, cap, "TLS");
	const char *name = o->sni ? o->sni : host;
	unsigned char ip[16];
	int is_ip = inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
	if (!is_ip)
		SSL_set_tlsext_host_name(t->ssl, name);
	if (!o->insecure) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
		if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1
		          : X509_VERIFY_PARAM_set1_host(vp, name, 0) != 1)
			return fail(t, why, cap, "TLS: the name to verify");
	}
	int ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	uint64_t deadline = sx_mono_ms() + (uint64_t)ms;
	for (;;) {
		int r = SSL_connect(t->ssl);
		if (r == 1)
			break;
		int err = SSL_get_error(t->ssl, r);
		uint64_t now = sx_mono_ms();
		if ((err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) || now >= deadline) {
			snprintf(what, sizeof what, "TLS handshake with %s%s", name,
			         now >= deadline ? " timed out" : "");
			if (err == SSL_ERROR_SYSCALL && !ERR_peek_last_error())
				snprintf(what, sizeof what, "TLS handshake with %s: the connection "
				         "was closed (not a TLS port?)", name);
			return fail(t, why, cap, what);
		}
		struct pollfd p = { .fd = fd,
		                    .events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT };
		poll(&p, 1, (int)(deadline - now));
	}
	*out = t;
	return 0;
}

/* SSL_get_error reads the thread's error queue and errno: both are
 * cleared before each call, so that a stale entry (or a stale EAGAIN)
 * is never taken for this call's outcome. */
static ssize_t result(sx_tlsc *t, int r)
{
	if (r > 0)
		return r;
	int saved = errno;
	int err = SSL_get_error(t->ssl, r);
	if (err == SSL_ERROR_ZERO_RETURN) {
		ERR_clear_error();
		return 0;
	}
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		ERR_clear_error();
		errno = EAGAIN;
		return -1;
	}
	unsigned long code = ERR_peek_last_error();
	if (code)
		ERR_error_string_n(code, t->why, sizeof t->why);
	else
		snprintf(t->why, sizeof t->why, "%s", err == SSL_ERROR_SYSCALL && saved ?
		         strerror(saved) : "the connection was closed without close_notify");
	ERR_clear_error();
	t->dead = 1;
	errno = err == SSL_ERROR_SYSCALL && saved ? saved : EIO;
	return -1;
}

ssize_t sx_tlsc_read(sx_tlsc *t, void *buf, size_t n)
{
	ERR_clear_error();
	errno = 0;
	return result(t, SSL_read(t->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n));
}

ssize_t sx_tlsc_write(sx_tlsc *t, const void *buf, size_t n)
{
	ERR_clear_error();
	errno = 0;
	return result(t, SSL_write(t->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n));
}

const char *sx_tlsc_why(const sx_tlsc *t)
{
	return t->why[0] ? t->why : "no TLS error";
}

size_t sx_tlsc_pending(const sx_tlsc *t)
{
	return (size_t)SSL_pending(t->ssl);
}

void sx_tlsc_close(sx_tlsc *t)
{
	if (!t)
		return;
	if (!t->dead)
		SSL_shutdown(t->ssl);
	ERR_clear_error();
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	free(t);
}
