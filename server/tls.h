/*
 * tls.h - TLS 1.2/1.3 in user space, as a transport below the connection
 * (OpenSSL 3; these kernels have no `tls` ULP, so no kernel TLS).
 *
 * Where it plugs in: an I/O backend hands received bytes to the
 * connection's transport (worker.h sx_transport_input).  For a plain
 * connection that is sx_conn_input itself; for a TLS connection the bytes
 * are ciphertext, given to OpenSSL through a BIO that reads them where they
 * landed, and the plaintext OpenSSL returns is handed to sx_conn_input in
 * turn.  The other way, the backend sends the connection's wire buffer:
 * for a TLS connection sx_tls_wire() first encrypts what the protocol
 * wrote to c->out into c->wire, through a BIO that appends to it.  So
 * OpenSSL never touches a socket, a handshake never blocks an event loop,
 * and no protocol or command knows TLS is there.
 *
 * Buffers: the ciphertext window is the backend's receive buffer (gone
 * when sx_tls_input returns: OpenSSL copies a partial record into its own
 * buffer); plaintext goes through one per-thread 16 KiB scratch buffer;
 * the wire buffer is an sx_obuf (its first chunk kept for the
 * connection's life), so a request costs no malloc.  A connection quiet
 * for a few seconds gives OpenSSL's record buffers back (sx_tls_idle).
 *
 * Rotation: the server's context (tlsctx.c: certificate, key, CA,
 * ciphers) is rebuilt from the files by sx_tls_server_reload and swapped in; new
 * connections use the new one, open ones keep theirs (OpenSSL counts the
 * references), so nothing is dropped.
 */
#ifndef SX_TLS_H
#define SX_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "obuf.h"

struct sx_conn;

enum { SX_TLS_CLIENT_NONE, SX_TLS_CLIENT_OPTIONAL, SX_TLS_CLIENT_REQUIRED };

typedef struct sx_tls_conf {
	const char *cert;          /* PEM: the certificate, then its chain */
	const char *key;           /* PEM private key */
	const char *ca;            /* PEM CAs for client certificates; NULL: none */
	const char *ciphers;       /* TLS 1.2 cipher list; NULL: OpenSSL's default */
	const char *ciphersuites;  /* TLS 1.3 suites; NULL: OpenSSL's default */
	int client_auth;           /* SX_TLS_CLIENT_* */
} sx_tls_conf;

typedef struct sx_tls_server sx_tls_server;

/* Load the files of conf (kept by pointer: they are reread on reload).
 * Returns 0, or a negative code with what is wrong, naming the file. */
int sx_tls_server_new(const sx_tls_conf *conf, sx_tls_server **out, char *why,
                      size_t cap);
/* Reread the files; on success new connections use them.  A failure
 * changes nothing (the old context keeps serving).  Any thread. */
int sx_tls_server_reload(sx_tls_server *ts, char *why, size_t cap);
void sx_tls_server_free(sx_tls_server *ts);
/* "subject, expires YYYY-MM-DD, SHA-256 fingerprint ..." of the serving
 * certificate, for the log and INFO. */
void sx_tls_server_describe(sx_tls_server *ts, char *buf, size_t cap);

/* A new server-side session with the current context (NULL: out of
 * memory). */
struct ssl_st *sx_tls_server_ssl(sx_tls_server *ts);
/* OpenSSL's reason for its last failure, in one line, into buf; clears
 * OpenSSL's error queue. */
const char *sx_tls_why(char *buf, size_t cap);

/* Per connection (tls.c). */
typedef struct sx_tls sx_tls;

/* A server-side TLS state for c, with its wire buffer; sets c->tls and
 * c->wire.  Out of memory aborts (see obuf.h). */
void sx_tls_attach(struct sx_conn *c, sx_tls_server *ts);
void sx_tls_detach(struct sx_conn *c);

/* Ciphertext data[0..n) from the peer: run the handshake, decrypt, hand
 * each piece of plaintext to plain (the transport passes sx_conn_input).
 * Returns 0, or -1 when the connection must be cut (a handshake failure, a
 * bad record, plain text on a TLS port): the reason is counted and,
 * rate-limited, logged. */
typedef void sx_tls_plain_fn(struct sx_conn *c, char *p, size_t n);
int sx_tls_input(struct sx_conn *c, const char *data, size_t n, sx_tls_plain_fn *plain);

/* Encrypt what c->out holds into c->wire; returns c->wire. */
sx_obuf *sx_tls_wire(struct sx_conn *c);

/* c has been quiet for SX_TLS_IDLE_S seconds: free OpenSSL's record
 * buffers (about 34 KiB), which it allocates again on the next record.
 * Kept while a connection is busy, since releasing them after every
 * record (SSL_MODE_RELEASE_BUFFERS) costs a malloc and free a request. */
#define SX_TLS_IDLE_S 2
void sx_tls_idle(struct sx_conn *c);

/* Queue a close_notify (once), before the connection's write side shuts. */
void sx_tls_bye(struct sx_conn *c);

/* Has the handshake finished? */
int sx_tls_ready(const struct sx_conn *c);

/* The client certificate's SHA-256 fingerprint (32 bytes) after the
 * handshake; 0, or -1 when the client sent none. */
int sx_tls_peer_sha256(const struct sx_conn *c, uint8_t out[32]);

#endif
