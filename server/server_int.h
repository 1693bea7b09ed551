/*
 * server_int.h - the server's shared state, for the server's own files
 * (the public API is server.h).  server.c builds and frees it; services
 * read their part (the journal, the feedback log, the follower, the reload
 * status); nothing here knows connections or commands.
 */
#ifndef SX_SERVER_INT_H
#define SX_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "addr.h"
#include "jobs.h"
#include "proto.h"
#include "qsbr.h"
#include "server.h"
#include "tenant.h"

/* The drain's hard cap: SIGTERM exits this long after it came (plus the
 * workers' 1 s tick), whatever a job does (worker.c, sx_srv_wait). */
#define SX_DRAIN_TIMEOUT_S 10

struct sx_ctx;
struct sx_io_ops;
struct sx_status_hist;
struct sx_tls_server;
struct sx_worker;

/* What the last reloads of one kind did (guarded by status_lock). */
typedef struct sx_reload_status {
	int64_t last;                /* unix seconds of the last attempt; 0: none */
	uint64_t ok, failed;
	char error[512];             /* the last failure's reason; "" after a success */
} sx_reload_status;

struct sx_srv {
	sx_srv_config cfg;
	char *snap_path;             /* --snapshot, what RELOAD loads by default */
	sx_qsbr qsbr;                /* readers: the workers */
	sx_tenants *tenants;         /* NULL: no AUTH */
	struct sx_tls_server *tls;   /* NULL: no TLS port */
	sx_cidr_list proxy_from;     /* --proxy-from, parsed (with --proxy-protocol) */
	/* by listener (worker.h): GET /metrics there needs the credentials of
	 * a tenant with the metrics flag (--metrics-auth) */
	uint8_t metrics_auth[2 * SX_NPROTO];
	/* the plain HTTP listener is off loopback; without --allow-plain the
	 * API (IDs, secrets) is refused there, /health and /metrics serve */
	uint8_t http_plain_open;
	sx_jobs *jobs;
	int nworkers;
	struct sx_worker *workers;
	struct sx_ctx **ctx;         /* each worker's context, for the counters */
	const struct sx_io_ops *io;
	const char *io_name;         /* "io_uring", "epoll" */
	unsigned uring_flags;        /* IORING_SETUP_* that worked in the probe */
	char io_desc[256];           /* "io_uring (SINGLE_ISSUER|DEFER_TASKRUN)" */

	pthread_mutex_t start_lock;  /* workers report their setup */
	pthread_cond_t start_cond;
	int nstarted, start_rc;
	char start_why[256];

	_Atomic int nclients;
	_Atomic int nrunning;        /* workers not yet exited */
	_Atomic int stopping;
	uint64_t drain_deadline_ms;  /* sx_mono_ms(); set by sx_srv_stop */
	int started;
	int64_t started_at;          /* unix seconds */
	int64_t started_mono;        /* monotonic seconds */

	pthread_mutex_t status_lock; /* guards the reload status below */
	sx_reload_status snap_reload;  /* RELOAD [path], SIGHUP */
	sx_reload_status tls_reload;   /* RELOAD TLS, SIGHUP */
	/* live updates (live.c) */
	struct sx_journal *journal;  /* NULL: no --journal, updates refused */
	struct sx_feedback *feedback;
	/* --updates-from; set by sx_live_start after the workers run, which
	 * read it (/health, INFO): atomic (RELIABILITY.md F12) */
	struct sx_follow *_Atomic follow;
	uint64_t replayed;           /* journal updates in force at start */
	_Atomic uint64_t updates_ok, updates_refused, updates_failed;
	/* the status page's history of the counters (status.h); NULL: none */
	struct sx_status_hist *hist;
};


#endif
