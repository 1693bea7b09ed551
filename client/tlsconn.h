/*
 * tlsconn.h - the client side of TLS, for every program that connects to
 * something over TLS: the C client library (sxgate, sxgate-bench), the
 * update-feed follower and `sxgate publish` (Redis over rediss://).
 *
 * One connected socket in, one TLS session out: the handshake runs here
 * (with poll, so it works on blocking and nonblocking sockets alike, and
 * is bounded by a timeout), the server certificate is verified against
 * the given CA file (or the system's) and the host name or IP address it
 * was asked by, unless the caller explicitly asks for insecure (then a
 * warning is the caller's to print).  TLS 1.2 and 1.3 only.  Reads and
 * writes then behave like recv and send: on a nonblocking socket they
 * return -1 with errno EAGAIN when they would block, and a reader must
 * read until then, because OpenSSL may hold decrypted bytes the socket no
 * longer signals.
 */
#ifndef SX_TLSCONN_H
#define SX_TLSCONN_H

#include <stddef.h>
#include <sys/types.h>

typedef struct sx_tlsc_opts {
	const char *cafile;     /* PEM CAs to trust; NULL: the system's store */
	const char *cert;       /* PEM client certificate (mutual TLS); NULL: none */
	const char *key;        /* its PEM key */
	const char *sni;        /* name to send and verify; NULL: the host given */
	int insecure;           /* skip verifying the server (caller warns) */
	int timeout_ms;         /* handshake; 0: 5000 */
} sx_tlsc_opts;

typedef struct sx_tlsc sx_tlsc;

/*
 * TLS over the connected socket fd to host (a name or an address, as
 * connected to).  Returns 0 with *out, or -1 with a one-line reason in why
 * naming what failed (the file, "certificate verify failed: ...", the
 * name mismatch, the timeout).  fd stays the caller's.
 */
int sx_tlsc_start(int fd, const char *host, const sx_tlsc_opts *o, sx_tlsc **out,
                  char *why, size_t cap);
/* Like recv: > 0 bytes, 0 the peer closed, -1 with errno (EAGAIN, EIO). */
ssize_t sx_tlsc_read(sx_tlsc *t, void *buf, size_t n);
/* Like send: bytes taken (possibly fewer on a nonblocking socket), or -1
 * with errno (EAGAIN, EPIPE, EIO).  After EAGAIN, call again with the same
 * bytes. */
ssize_t sx_tlsc_write(sx_tlsc *t, const void *buf, size_t n);
/* OpenSSL's reason for the last read or write that failed with EIO (an
 * alert from the server, a bad record), e.g. "error:0A00045C:SSL
 * routines::tlsv13 alert certificate required".  Valid until the next
 * call on t. */
const char *sx_tlsc_why(const sx_tlsc *t);
/* Bytes decrypted and not yet read (no socket event will announce them). */
size_t sx_tlsc_pending(const sx_tlsc *t);
/* Send close_notify (best effort) and free; the socket is not closed. */
void sx_tlsc_close(sx_tlsc *t);

#endif
