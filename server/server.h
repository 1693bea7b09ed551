/*
 * server.h - sxgated as a library: configure, start, reload, drain, free.
 * main.c is a thin shell around it (flags, signals); tests may use it too.
 *
 * The server maps one snapshot and answers RESP2 (SPEC section 5), the
 * binary protocol (docs/protocol.md) and HTTP (/health, /metrics) on one
 * listening socket per protocol per worker thread (SO_REUSEPORT: the
 * kernel spreads connections), with io_uring or epoll.  docs/SERVER.md
 * describes the design ("How the server is built") and operation.
 */
#ifndef SX_SERVER_H
#define SX_SERVER_H

#include <stddef.h>

#define SX_SRV_VERSION "0.1.0"

/* Who may send a PROXY protocol header when --proxy-from is not given:
 * this host only (a load balancer on the same machine). */
#define SX_PROXY_FROM_DEFAULT "127.0.0.0/8,::1/128"

typedef struct sx_srv sx_srv;

enum { SX_IO_AUTO = 0, SX_IO_URING, SX_IO_EPOLL };

/* Who must give credentials for GET /metrics (--metrics-auth). */
enum {
	SX_METRICS_AUTH_NON_LOOPBACK = 0,  /* on listeners not bound to loopback */
	SX_METRICS_AUTH_ALWAYS,            /* on every HTTP listener */
	SX_METRICS_AUTH_NONE,              /* never (a warning when non-loopback) */
};

typedef struct sx_srv_config {
	const char *snapshot;       /* required */
	const char *bind;           /* address to listen on; "127.0.0.1" */
	int resp_port;              /* 6380; 0: off */
	int bin_port;               /* 6381; 0: off */
	int http_port;              /* plain HTTP: /metrics, /health; 0: off */
	int threads;                /* I/O threads; 0: one per CPU */
	int io;                     /* SX_IO_* */
	const char *tenants;        /* tenants file, or NULL: no AUTH */
	const char *journal;        /* live-update journal; NULL: updates refused */
	const char *feedback;       /* feedback log to the courts, or NULL */
	const char *updates_from;   /* redis[s]://[USER[:PW]@]HOST[:PORT]/STREAM, or NULL */
	const char *updates_password_file;  /* the feed's password (first line) */
	const char *updates_ca;     /* CAs of a rediss:// feed; NULL: the system's */
	int max_lag;                /* seconds of feed lag /health tolerates (5) */
	int max_clients;            /* 10000 */
	int idle_timeout;           /* seconds; 0: none */
	int request_timeout;        /* seconds a request may stay incomplete (10); 0: none */
	int auth_timeout;           /* seconds to AUTH with --tenants (10); 0: none */
	size_t max_output;          /* bytes queued per client; 64 MiB */
	int insecure_no_auth;       /* allow a non-loopback bind without tenants */
	int metrics_auth;           /* SX_METRICS_AUTH_*: where /metrics needs a
	                               metrics tenant's credentials */
	/* TLS (tls.h): the same protocols on more ports; 0: off */
	int tls_resp_port, tls_bin_port, tls_http_port;
	const char *tls_cert, *tls_key;   /* PEM; needed by any TLS port */
	const char *tls_ca;               /* CAs of client certificates */
	const char *tls_ciphers;          /* TLS 1.2 list; NULL: OpenSSL's */
	const char *tls_ciphersuites;     /* TLS 1.3 suites; NULL: OpenSSL's */
	int tls_client_auth;              /* SX_TLS_CLIENT_NONE/OPTIONAL/REQUIRED */
	int allow_plain;            /* plain RESP/binary on a non-loopback bind */
	const char *http_bind;      /* the plain HTTP listener's address; NULL: bind */
	int proxy_protocol;         /* RESP and binary listeners (plain and TLS)
	                               expect a PROXY protocol header first */
	const char *proxy_from;     /* CIDR[,CIDR...] that may send one; NULL:
	                               SX_PROXY_FROM_DEFAULT (loopback) */
	unsigned file_mode;         /* of the journal and the feedback log (they
	                               hold ID numbers); 0: SX_FILE_MODE, 0600.
	                               Process-wide (wio.h sx_file_set_mode) */
} sx_srv_config;

void sx_srv_config_default(sx_srv_config *cfg);

/*
 * Check the configuration, map and verify the snapshot, load the tenants,
 * choose the I/O backend and bind every listening socket.  Nothing runs
 * yet.  Returns 0 and *out, or a negative code with a message in why.
 */
int sx_srv_create(const sx_srv_config *cfg, sx_srv **out, char *why, size_t whycap);

/* Start the worker and job threads (and the follower).  0, or -errno with why. */
int sx_srv_start(sx_srv *s, char *why, size_t whycap);

/* Reload the configured snapshot, and the TLS certificate, key and CA
 * when TLS is on, in the background (SIGHUP); each result is logged. */
void sx_srv_reload(sx_srv *s);

/* Begin draining: stop accepting, answer what was received, close. */
void sx_srv_stop(sx_srv *s);

/* Workers still running (main's signal loop polls it while draining). */
int sx_srv_running(const sx_srv *s);

/* The watchdog's question (main.c, systemd's WatchdogSec): 1 when every
 * started I/O worker began a loop iteration within the last stale_ms
 * milliseconds (an idle one wakes at least once a second), else 0 with
 * why[0..cap) naming the first that did not and how long ago it last did
 * (a worker wedged in a request, or one that exited). */
int sx_srv_alive(const sx_srv *s, unsigned stale_ms, char *why, size_t cap);

/* Wait until every worker has drained and exited, then stop the job
 * threads.  Returns 0; or -ETIMEDOUT (logged) when a job was still running
 * at the drain's deadline: its thread is left running, so the server must
 * not be freed; exit the process instead. */
int sx_srv_wait(sx_srv *s);

/* Free everything (after sx_srv_wait, or instead of starting). */
void sx_srv_destroy(sx_srv *s);

#endif
