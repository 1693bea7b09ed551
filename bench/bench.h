/*
 * bench.h - what the files of sxgate-bench share: the prepared load
 * (queries cut into batches), the connections with their rings of
 * requests in flight, the worker threads, and the run's settings.
 *
 * bench.c is the command line, setup and report; bench_queries.c reads
 * the query file, cuts it into batches and, over RESP, encodes each
 * batch's command once; bench_load.c is the load
 * itself, one epoll loop per worker thread.  The run's settings and
 * prepared load are one global (`bench`), written before the workers
 * start and only read while they run.
 */
#ifndef SX_BENCH_H
#define SX_BENCH_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "sx.h"
#include "sxclient.h"
#include "sxhist.h"

enum { CMD_CHECK, CMD_LISTED, CMD_SISMEMBER };

typedef struct query {
	const char *id, *type, *chan, *cls, *day;  /* NULL: not given */
	size_t idlen;
	unsigned line;
} query;

typedef struct batch {
	sx_client_ctx ctx;      /* of its first query */
	uint32_t first, n;      /* into the flat ids/idlens arrays */
} batch;

typedef struct slot {
	double t0;              /* ns: send time, or due time (open loop) */
	uint32_t req_id;
	uint32_t n;             /* IDs asked */
} slot;

typedef struct conn {
	sx_client *cli;
	int alive, want_out;
	uint32_t next_req;
	size_t next_batch;
	double next_due;        /* open loop: ns */
	slot *ring;
	unsigned head, count;
	const char **argv;      /* RESP: scratch for one command */
	size_t *alens;
} conn;

typedef struct worker {
	pthread_t th;
	int idx, epfd;
	conn *conns;
	int nconn;
	sx_hist *hist;
	uint64_t requests, lookups, errors, failed_conns;
	uint64_t decided[3];    /* CHECK answers by SXB_ALLOW / DENY / REVIEW */
} worker;

struct bench {
	const char *host, *queries, *tenant, *secret, *redis_key;
	int port, proto, conns, depth, batch, threads, cmd, json, timeout_ms;
	double duration, warmup, rate;
	/* prepared load */
	char *text;             /* the query file; queries point into it */
	query *q;
	size_t nq;
	const char **ids;
	size_t *idlens;
	batch *batches;
	size_t nbatches;
	char *wire;             /* RESP: every batch's command, encoded once */
	size_t *wire_off;       /* batch i is wire[wire_off[i], wire_off[i+1]) */
	/* time, ns on CLOCK_MONOTONIC */
	double t_start, t_meas, t_end;
	double interval;        /* open loop: ns between requests of one conn */
	sx_client_opts net;     /* how to connect: TLS options (sxargs.h), host... */
	char secret_buf[1024];  /* a secret read from --secret-file */
	pthread_barrier_t go;
	int quiet_errors;       /* error messages printed so far */
};
extern struct bench bench;

/* Monotonic time in ns, as a double: latencies are differences of these. */
static inline double now_ns(void)
{
	return (double)sx_mono_ns();
}

/* bench_queries.c: read bench.queries into bench.q, then cut it into
 * bench.batches of up to bench.batch IDs.  0, or -1 after a message. */
int load_queries(const char *path);
int make_batches(void);
/* The RESP command of batch b as argv (a[] has room for bench.batch + 10
 * strings); its number of strings. */
int resp_argv(const batch *b, const char **a);
/* RESP: encode every batch's command once into bench.wire, so that
 * sending one in the timed loop is a copy.  Leaves bench.wire NULL (each
 * command is then encoded as it is sent) when they would take more than
 * 512 MiB or memory is short. */
void encode_resp(void);

/* bench_load.c: one worker thread's loop (arg is its worker). */
void *worker_main(void *arg);

#endif
