/*
 * fuzz_server.h - a real server for the fuzz targets that play bytes into
 * a connection (fuzz_conn, fuzz_resp): sx_srv_create() on the small
 * snapshot of fuzz_snapshot.h (epoll, one worker whose thread is never
 * started; the job thread is, for RELOAD and AUTH), a sink for what a
 * connection writes, and answering a job as the worker's loop would.
 * The including file defines CHECK(cond, ...) and includes
 * fuzz_snapshot.h first.
 */
#ifndef SX_FUZZ_SERVER_H
#define SX_FUZZ_SERVER_H

/* ---- what a connection wrote --------------------------------------------- */

typedef struct sink {
	uint8_t *b;
	size_t n, cap;
} sink;

static void drain_obuf(sx_obuf *ob, sink *k)
{
	struct iovec iov[64];
	while (ob->pending) {
		int n = sx_obuf_iov(ob, iov, 64);
		size_t total = 0;
		CHECK(n > 0, "pending %zu bytes but no iovec", ob->pending);
		for (int i = 0; i < n; i++) {
			if (k->n + iov[i].iov_len > k->cap) {
				while (k->n + iov[i].iov_len > k->cap)
					k->cap = k->cap ? k->cap * 2 : 65536;
				k->b = realloc(k->b, k->cap);
				CHECK(k->b != NULL, "out of memory");
			}
			memcpy(k->b + k->n, iov[i].iov_base, iov[i].iov_len);
			k->n += iov[i].iov_len;
			total += iov[i].iov_len;
		}
		sx_obuf_consume(ob, total);
	}
}

static void drain(sx_conn *c, sink *k)
{
	drain_obuf(&c->out, k);
}

/* ---- the server --------------------------------------------------------- */

static sx_srv *srv;

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	      getsockname(fd, (struct sockaddr *)&a, &len) == 0, "free port: %s",
	      strerror(errno));
	close(fd);
	return ntohs(a.sin_port);
}

/* Build the snapshot and start the server (from LLVMFuzzerInitialize). */
static void fuzz_server_start(void)
{
	sx_srv_config cfg;
	char why[512] = "";
	build_snapshot();
	atexit(remove_snapshot_dir);
	sx_srv_config_default(&cfg);
	cfg.snapshot = snap_path;
	cfg.resp_port = free_port();
	cfg.bin_port = 0;
	cfg.threads = 1;
	cfg.io = SX_IO_EPOLL;
	CHECK(sx_srv_create(&cfg, &srv, why, sizeof why) == 0, "server: %s", why);
	CHECK(sx_jobs_start(&srv->jobs) == 0, "job thread");
}

/* A request waits for a job: answer it as the loop would. */
__attribute__((unused)) static void wait_job(sx_worker *w, sx_conn *c)
{
	for (int tries = 0; (c->flags & SX_CF_BLOCKED) && tries < 100; tries++) {
		struct pollfd p = { .fd = w->bell, .events = POLLIN };
		uint64_t v;
		sx_worker_offline(w);
		CHECK(poll(&p, 1, 100) >= 0 || errno == EINTR, "poll: %s",
		      strerror(errno));
		if (p.revents & POLLIN)
			CHECK(read(w->bell, &v, sizeof v) == (ssize_t)sizeof v, "bell");
		sx_worker_online(w);
		sx_worker_bell(w);
	}
	CHECK(!(c->flags & SX_CF_BLOCKED), "a job never answered");
}

#endif
