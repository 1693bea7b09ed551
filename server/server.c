/*
 * server.c - building, starting, draining and freeing the server (see
 * server.h): configuration checks, the first snapshot, the tenants, the
 * choice of I/O backend, the listening sockets and the threads.
 *
 * Every listening socket is bound here, before any thread starts, so that
 * "address in use" or a bad --bind is a clear startup error and "ready"
 * means every port is accepting.  Each worker has its own socket per
 * protocol with SO_REUSEPORT, so the kernel spreads connections over the
 * workers and no two workers ever contend for an accept queue.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "follow.h"
#include "live.h"
#include "log.h"
#include "proto.h"
#include "reload.h"
#include "server_int.h"
#include "status.h"
#include "tls.h"
#include "wio.h"
#include "worker.h"

#define MAX_THREADS 256

void sx_srv_config_default(sx_srv_config *c)
{
	memset(c, 0, sizeof *c);
	c->bind = "127.0.0.1";
	c->resp_port = 6380;
	c->bin_port = 6381;
	c->max_clients = 10000;
	c->request_timeout = 10;
	c->auth_timeout = 10;
	c->max_lag = 5;
	c->max_output = 64u << 20;
}

static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

static void set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

static int listen_on(const char *host, const struct sockaddr_storage *addr, socklen_t len,
                     int port, int reuseport, const char *what, char *why, size_t whycap)
{
	struct sockaddr_storage ss = *addr;
	set_port(&ss, port);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		int rc = -errno;
		snprintf(why, whycap, "cannot listen on %s:%d (%s): %s", host, port, what,
		         strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	return fd;
}

/* SO_REUSEPORT would let a second server (same user) share a port with
 * the first and silently take half its clients.  Bind once without it: a
 * port somebody listens on is then "in use", as it should be. */
static int port_taken(const struct sockaddr_storage *addr, socklen_t len, int port)
{
	struct sockaddr_storage ss = *addr;
	set_port(&ss, port);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0)
		return 0;      /* the real bind will say what is wrong */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	int taken = bind(fd, (struct sockaddr *)&ss, len) < 0 && errno == EADDRINUSE;
	close(fd);
	return taken;
}

static int check_config(const sx_srv_config *c, char *why, size_t whycap)
{
	if (!c->snapshot || !*c->snapshot)
		snprintf(why, whycap, "--snapshot is required");
	else if (c->resp_port < 0 || c->resp_port > 65535 || c->bin_port < 0 ||
	         c->bin_port > 65535 || c->http_port < 0 || c->http_port > 65535 ||
	         c->tls_resp_port < 0 || c->tls_resp_port > 65535 || c->tls_bin_port < 0 ||
	         c->tls_bin_port > 65535 || c->tls_http_port < 0 || c->tls_http_port > 65535)
		snprintf(why, whycap, "ports must be 0..65535");
	else if (c->resp_port == 0 && c->bin_port == 0 && c->tls_resp_port == 0 &&
	         c->tls_bin_port == 0 && c->http_port == 0 && c->tls_http_port == 0)
		snprintf(why, whycap, "--resp-port 0 and --bin-port 0 and no HTTP or TLS port: "
		         "nothing to listen on");
	else if ((c->tls_resp_port || c->tls_bin_port || c->tls_http_port) &&
	         (!c->tls_cert || !c->tls_key))
		snprintf(why, whycap, "a TLS port needs --tls-cert FILE and --tls-key FILE");
	else if (!(c->tls_resp_port || c->tls_bin_port || c->tls_http_port) &&
	         (c->tls_cert || c->tls_key || c->tls_ca))
		snprintf(why, whycap, "--tls-cert, --tls-key and --tls-ca need a TLS port "
		         "(--tls-resp-port, --tls-bin-port or --tls-http-port)");
	else if (c->threads < 0 || c->threads > MAX_THREADS)
		snprintf(why, whycap, "--threads must be 1..%d (0: one per CPU)", MAX_THREADS);
	else if (c->max_clients < 1 || c->max_clients > 10000000)
		snprintf(why, whycap, "--max-clients must be 1..10000000");
	else if (c->idle_timeout < 0)
		snprintf(why, whycap, "--idle-timeout must be >= 0");
	else if (c->auth_timeout < 0)
		snprintf(why, whycap, "--auth-timeout must be >= 0");
	else if (c->request_timeout < 0)
		snprintf(why, whycap, "--request-timeout must be >= 0");
	else if (c->max_output < 4096)
		snprintf(why, whycap, "--max-output must be at least 4096 bytes");
	else if (c->proxy_from && !c->proxy_protocol)
		snprintf(why, whycap, "--proxy-from needs --proxy-protocol (without it no "
		         "listener reads a PROXY header)");
	else
		return 0;
	return SX_EINVAL;
}

static int resolve(const char *host, struct sockaddr_storage *ss, socklen_t *len,
                   char *why, size_t whycap)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	                          .ai_flags = AI_PASSIVE }, *res;
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc) {
		snprintf(why, whycap, "--bind %s: %s", host, gai_strerror(rc));
		return SX_EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int choose_io(sx_srv *s, char *why, size_t whycap)
{
	if (s->cfg.io == SX_IO_EPOLL) {
		s->io = &sx_io_epoll;
		snprintf(s->io_desc, sizeof s->io_desc, "epoll (chosen by --io epoll)");
		return 0;
	}
	char reason[200];
	int rc = sx_uring_probe(&s->uring_flags, s->io_desc, sizeof s->io_desc,
	                        reason, sizeof reason);
	if (rc == 0) {
		s->io = &sx_io_uring;
		return 0;
	}
	if (s->cfg.io == SX_IO_URING) {
		snprintf(why, whycap, "--io uring: io_uring is unavailable: %s", reason);
		return rc;
	}
	s->io = &sx_io_epoll;
	snprintf(s->io_desc, sizeof s->io_desc, "epoll (io_uring unavailable: %s)", reason);
	return 0;
}

int sx_srv_create(const sx_srv_config *cfg, sx_srv **out, char *why, size_t whycap)
{
	int rc;
	char msg[512];
	sx_srv *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(why, whycap, "out of memory");
		return -ENOMEM;
	}
	s->cfg = *cfg;
	pthread_mutex_init(&s->status_lock, NULL);
	s->hist = sx_status_hist_new();      /* NULL: a page without its chart */
	pthread_mutex_init(&s->start_lock, NULL);
	pthread_cond_init(&s->start_cond, NULL);
	if (!s->cfg.bind)
		s->cfg.bind = "127.0.0.1";
	if ((rc = check_config(&s->cfg, why, whycap)))
		goto fail;
	/* Files of personal data: the mode they are created with, and the
	 * secrets file no one else may read (wio.h). */
	if ((rc = sx_file_set_mode(s->cfg.file_mode ? s->cfg.file_mode : SX_FILE_MODE,
	                           why, whycap)))
		goto fail;
	if (s->cfg.tenants &&
	    (rc = sx_file_private(s->cfg.tenants, "--tenants", why, whycap)))
		goto fail;
	if (s->cfg.threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		s->cfg.threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
	}

	struct sockaddr_storage addr;
	socklen_t alen;
	if ((rc = resolve(s->cfg.bind, &addr, &alen, why, whycap)))
		goto fail;
	int open_net = !is_loopback((struct sockaddr *)&addr);
	if (open_net && !s->cfg.tenants && !s->cfg.insecure_no_auth) {
		snprintf(why, whycap, "refusing --bind %s without --tenants: every client could "
		         "run every command, RELOAD included; give --tenants FILE, or add "
		         "--insecure-no-auth to accept that", s->cfg.bind);
		rc = SX_EINVAL;
		goto fail;
	}
	if (open_net && (s->cfg.resp_port || s->cfg.bin_port) && !s->cfg.allow_plain) {
		char ports[64] = "";
		if (s->cfg.resp_port)
			snprintf(ports, sizeof ports, "--resp-port %d", s->cfg.resp_port);
		if (s->cfg.bin_port)
			snprintf(ports + strlen(ports), sizeof ports - strlen(ports), "%s--bin-port %d",
			         ports[0] ? " and " : "", s->cfg.bin_port);
		snprintf(why, whycap, "refusing plain %s on --bind %s: ID numbers and secrets "
		         "would cross the network in clear text; serve TLS (--tls-resp-port, "
		         "--tls-bin-port) with --resp-port 0 --bin-port 0, or add --allow-plain "
		         "to accept that", ports, s->cfg.bind);
		rc = SX_EINVAL;
		goto fail;
	}
	if (open_net && (s->cfg.resp_port || s->cfg.bin_port))
		sx_log_warn("--allow-plain: plain %s%s%s on %s: requests and secrets cross "
		            "the network in clear text", s->cfg.resp_port ? "RESP" : "",
		            s->cfg.resp_port && s->cfg.bin_port ? " and " : "",
		            s->cfg.bin_port ? "binary" : "", s->cfg.bind);
	struct sockaddr_storage haddr = addr;
	socklen_t hlen = alen;
	if (s->cfg.http_bind && (rc = resolve(s->cfg.http_bind, &haddr, &hlen, why, whycap)))
		goto fail;
	if (s->cfg.proxy_protocol &&
	    (rc = sx_cidr_list_parse("--proxy-from", s->cfg.proxy_from ? s->cfg.proxy_from :
	                             SX_PROXY_FROM_DEFAULT, &s->proxy_from, why, whycap)))
		goto fail;
	/* Where /metrics needs a metrics tenant's credentials: the plain HTTP
	 * listener is on --http-bind (or --bind), the TLS one on --bind. */
	if (s->cfg.metrics_auth == SX_METRICS_AUTH_ALWAYS && !s->cfg.tenants) {
		snprintf(why, whycap, "--metrics-auth always needs --tenants (a tenant with the "
		         "metrics flag gives /metrics its credentials)");
		rc = SX_EINVAL;
		goto fail;
	}
	for (int tls = 0; tls < 2; tls++) {
		const struct sockaddr *la = (const struct sockaddr *)(tls ? &addr : &haddr);
		s->metrics_auth[tls * SX_NPROTO + SX_PROTO_HTTP] =
			s->cfg.metrics_auth == SX_METRICS_AUTH_ALWAYS ||
			(s->cfg.metrics_auth == SX_METRICS_AUTH_NON_LOOPBACK && !is_loopback(la));
	}
	s->http_plain_open = !is_loopback((const struct sockaddr *)&haddr);
	if (s->cfg.tls_cert || s->cfg.tls_key) {
		sx_tls_conf tc = { .cert = s->cfg.tls_cert, .key = s->cfg.tls_key,
		                   .ca = s->cfg.tls_ca, .ciphers = s->cfg.tls_ciphers,
		                   .ciphersuites = s->cfg.tls_ciphersuites,
		                   .client_auth = s->cfg.tls_client_auth };
		if ((rc = sx_tls_server_new(&tc, &s->tls, why, whycap)))
			goto fail;
	}

	/* The first snapshot: generation 1. */
	s->snap_path = strdup(s->cfg.snapshot);
	sx_snap *snap = NULL;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!s->snap_path || (rc = sx_snap_open(s->snap_path, &snap, msg, sizeof msg))) {
		if (!s->snap_path)
			rc = -ENOMEM;
		snprintf(why, whycap, "snapshot %s: %s", s->cfg.snapshot,
		         rc == -ENOMEM && !s->snap_path ? "out of memory" : msg);
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	uint32_t ms = (uint32_t)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	sx_served *first = sx_served_new(snap, s->snap_path, 1, 1, ms);
	if (!first) {
		sx_snap_close(snap);
		snprintf(why, whycap, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = sx_live_open(s, &first, why, whycap))) {
		sx_served_free(first);
		goto fail;
	}
	s->nworkers = s->cfg.threads;
	if ((rc = sx_qsbr_init(&s->qsbr, s->nworkers, first))) {
		sx_served_free(first);
		snprintf(why, whycap, "out of memory");
		goto fail;
	}
	s->nworkers = 0;    /* counts initialised workers from here on */

	if (s->cfg.tenants && (rc = sx_tenants_load(s->cfg.tenants, &s->tenants, why, whycap)))
		goto fail;
	if ((rc = choose_io(s, why, whycap)))
		goto fail;
	s->io_name = s->io->name;

	s->workers = calloc((size_t)s->cfg.threads, sizeof *s->workers);
	s->ctx = calloc((size_t)s->cfg.threads, sizeof *s->ctx);
	if (!s->workers || !s->ctx) {
		rc = -ENOMEM;
		snprintf(why, whycap, "out of memory");
		goto fail;
	}
	for (int i = 0; i < s->cfg.threads; i++) {
		sx_worker *w = &s->workers[i];
		if ((rc = sx_worker_init(w, s, i))) {
			snprintf(why, whycap, "worker %d: %s", i, strerror(-rc));
			goto fail;
		}
		s->ctx[i] = &w->x;
		s->nworkers++;
		int ports[SX_NLISTEN] = {
			[SX_PROTO_RESP] = s->cfg.resp_port,
			[SX_PROTO_BIN] = s->cfg.bin_port,
			[SX_PROTO_HTTP] = s->cfg.http_port,
			[SX_NPROTO + SX_PROTO_RESP] = s->cfg.tls_resp_port,
			[SX_NPROTO + SX_PROTO_BIN] = s->cfg.tls_bin_port,
			[SX_NPROTO + SX_PROTO_HTTP] = s->cfg.tls_http_port,
		};
		for (int l = 0; l < SX_NLISTEN; l++) {
			if (!ports[l])
				continue;
			int plain_http = l == SX_PROTO_HTTP;
			const struct sockaddr_storage *a = plain_http ? &haddr : &addr;
			socklen_t al = plain_http ? hlen : alen;
			const char *host = plain_http && s->cfg.http_bind ? s->cfg.http_bind : s->cfg.bind;
			char what[32];
			snprintf(what, sizeof what, "%s%s", sx_listen_tls(l) ? "tls " : "",
			         sx_protos[sx_listen_proto(l)]->name);
			if (i == 0 && port_taken(a, al, ports[l])) {
				snprintf(why, whycap, "cannot listen on %s:%d (%s): %s", host,
				         ports[l], what, strerror(EADDRINUSE));
				rc = -EADDRINUSE;
				goto fail;
			}
			if ((rc = listen_on(host, a, al, ports[l], 1, what, why, whycap)) < 0)
				goto fail;
			w->lfd[l] = rc;
		}
	}
	*out = s;
	return 0;
fail:
	sx_srv_destroy(s);
	return rc;
}

static void *worker_main(void *arg)
{
	sx_worker *w = arg;
	int rc = w->io->run(w);
	if (rc && w->io == &sx_io_uring && w->srv->cfg.io == SX_IO_AUTO) {
		/* The probe passed but this ring did not (a larger ring, the
		 * buffer ring: ENOMEM, a memlock limit): this worker uses epoll. */
		sx_log_warn("worker %d: %s; this worker uses epoll instead", w->id, w->setup_why);
		w->io = &sx_io_epoll;
		rc = w->io->run(w);
	}
	if (rc)
		sx_worker_started(w, rc, w->setup_why);
	atomic_fetch_sub(&w->srv->nrunning, 1);
	return NULL;
}

/* Who may read /metrics on each HTTP listener, and what is wrong with it. */
static void log_metrics_access(sx_srv *s)
{
	for (int tls = 0; tls < 2; tls++) {
		int port = tls ? s->cfg.tls_http_port : s->cfg.http_port;
		const char *host = !tls && s->cfg.http_bind ? s->cfg.http_bind : s->cfg.bind;
		if (!port)
			continue;
		if (!s->metrics_auth[tls * SX_NPROTO + SX_PROTO_HTTP]) {
			if (s->cfg.metrics_auth == SX_METRICS_AUTH_NONE)
				sx_log_warn("--metrics-auth none: /metrics on %s:%d (%s) is open "
				            "to whoever can connect", host, port, tls ? "tls http" : "http");
			continue;
		}
		if (!s->tenants)
			sx_log_warn("/metrics on %s:%d (%s) answers 403 to everyone: a "
			            "non-loopback address needs the credentials of a tenant with the "
			            "metrics flag (--tenants), or --metrics-auth none", host, port,
			            tls ? "tls http" : "http");
		else if (!sx_tenants_with_metrics(s->tenants))
			sx_log_warn("/metrics on %s:%d (%s) needs the credentials of a tenant "
			            "with the metrics flag, and %s has none: it answers 403 to everyone",
			            host, port, tls ? "tls http" : "http", s->cfg.tenants);
		else
			sx_log_info("/metrics on %s:%d (%s) needs the credentials of a tenant with the "
			            "metrics flag (HTTP Basic or Bearer tenant:secret)", host, port,
			            tls ? "tls http" : "http");
	}
}

/* Where the HTTP API answers, and where it is refused. */
static void log_api_access(sx_srv *s)
{
	if (!s->cfg.http_port || !s->http_plain_open)
		return;
	if (!s->cfg.allow_plain)
		sx_log_info("the HTTP API (/v1/...) is refused on plain HTTP %s:%d (off "
		            "loopback, no --allow-plain): IDs and secrets would cross the network "
		            "in clear text; it answers on --tls-http-port", s->cfg.http_bind ?
		            s->cfg.http_bind : s->cfg.bind, s->cfg.http_port);
	else
		sx_log_warn("--allow-plain: the HTTP API on plain HTTP %s:%d: requests and "
		            "secrets cross the network in clear text", s->cfg.http_bind ?
		            s->cfg.http_bind : s->cfg.bind, s->cfg.http_port);
}

static void log_startup(sx_srv *s)
{
	const sx_served *cur = sx_qsbr_current(&s->qsbr);
	const sx_snap_info *in = cur->info;
	char asof[40] = "none", built[40];
	if (in->as_of != SX_AS_OF_NONE)
		sx_time_format(in->as_of, asof);
	sx_time_format(in->built_at, built);
	sx_log_info("snapshot %s: generation 1, %llu records, %llu IDs, as-of %s, built %s, "
	            "verified in %u ms", cur->path, (unsigned long long)in->records,
	            (unsigned long long)in->ids, asof, built, cur->verify_ms);
	if (s->tenants)
		sx_log_info("tenants: %zu from %s; AUTH is required", sx_tenants_count(s->tenants),
		            s->cfg.tenants);
	else
		sx_log_warn("no --tenants: AUTH is off and every client may run every command");
	size_t bound = sx_tenants_with_cert(s->tenants);
	if (bound && (!s->tls || s->cfg.tls_client_auth == SX_TLS_CLIENT_NONE))
		sx_log_warn("%zu tenant%s of %s bind%s a client certificate (cert=), but "
		            "no client certificate is asked for (--tls-client-auth optional or "
		            "required, with --tls-ca): %s log in only by AUTH", bound,
		            bound == 1 ? "" : "s", s->cfg.tenants, bound == 1 ? "s" : "",
		            bound == 1 ? "it can" : "they can");
	sx_log_info("io: %s, %d worker thread%s", s->io_desc, s->nworkers,
	            s->nworkers == 1 ? "" : "s");
	const struct { int port; const char *what; int http; } ls[] = {
		{ s->cfg.resp_port, "resp", 0 }, { s->cfg.bin_port, "binary", 0 },
		{ s->cfg.http_port, "http", 1 }, { s->cfg.tls_resp_port, "tls resp", 0 },
		{ s->cfg.tls_bin_port, "tls binary", 0 }, { s->cfg.tls_http_port, "tls http", 0 },
	};
	char l[768];
	size_t n = 0;
	for (size_t i = 0; i < SX_ARRAY_LEN(ls); i++)
		if (ls[i].port && n < sizeof l)
			n += (size_t)snprintf(l + n, sizeof l - n, "%s%s:%d (%s)", n ? ", " : "",
			                      ls[i].http && s->cfg.http_bind ? s->cfg.http_bind :
			                      s->cfg.bind, ls[i].port, ls[i].what);
	sx_log_info("listening on %s", l);
	if (s->cfg.proxy_protocol) {
		char from[512];
		sx_log_info("PROXY protocol (v1, v2): every RESP and binary connection (plain and TLS) "
		            "must begin with a header, from %s only%s; the HTTP ports take none",
		            sx_cidr_list_text(&s->proxy_from, from, sizeof from),
		            s->cfg.proxy_from ? "" : " (the default without --proxy-from)");
	}
	log_metrics_access(s);
	log_api_access(s);
	if (s->tls) {
		char d[512];
		sx_tls_server_describe(s->tls, d, sizeof d);
		sx_log_info("TLS 1.2/1.3: %s; client certificates %s", d,
		            s->cfg.tls_client_auth == SX_TLS_CLIENT_REQUIRED ? "required" :
		            s->cfg.tls_client_auth == SX_TLS_CLIENT_OPTIONAL ? "optional" : "not asked");
	}
}

int sx_srv_start(sx_srv *s, char *why, size_t whycap)
{
	int rc;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->started_mono = ts.tv_sec;
	s->started_at = (int64_t)time(NULL);
	/* Before any thread runs: a reload could free the first snapshot. */
	log_startup(s);
	if ((rc = sx_jobs_start(&s->jobs))) {
		snprintf(why, whycap, "job thread: %s", strerror(-rc));
		return rc;
	}
	int created = 0;
	for (int i = 0; i < s->nworkers; i++) {
		atomic_fetch_add(&s->nrunning, 1);
		if ((rc = pthread_create(&s->workers[i].thr, NULL, worker_main, &s->workers[i]))) {
			atomic_fetch_sub(&s->nrunning, 1);
			pthread_mutex_lock(&s->start_lock);
			s->start_rc = -rc;
			snprintf(s->start_why, sizeof s->start_why, "worker thread: %s", strerror(rc));
			s->nstarted += s->nworkers - i;   /* nobody will report for them */
			pthread_mutex_unlock(&s->start_lock);
			break;
		}
		char name[16];
		snprintf(name, sizeof name, "sxgated-io-%u", (unsigned)i % 1000u);
		pthread_setname_np(s->workers[i].thr, name);
		created++;
	}
	pthread_mutex_lock(&s->start_lock);
	while (s->nstarted < s->nworkers)
		pthread_cond_wait(&s->start_cond, &s->start_lock);
	rc = s->start_rc;
	if (rc)
		snprintf(why, whycap, "%s", s->start_why);
	pthread_mutex_unlock(&s->start_lock);
	s->started = created;
	if (rc) {
		sx_srv_stop(s);
		(void)sx_srv_wait(s);
		return rc;
	}
	/* /health says "not started yet" until the follower runs */
	if ((rc = sx_live_start(s, why, whycap))) {
		sx_srv_stop(s);
		(void)sx_srv_wait(s);
		return rc;
	}
	return 0;
}

void sx_srv_reload(sx_srv *s)
{
	sx_origin o;                        /* SIGHUP: no tenant, no address */
	sx_origin_who(&o, NULL, 0);
	sx_origin_where(&o, NULL, "sighup");
	sx_jobs_submit(s->jobs, sx_reload_job(s, NULL, 0, 0, &o));
	if (s->tls)
		sx_jobs_submit(s->jobs, sx_reload_tls_job(s, &o, NULL, 0));
}

void sx_srv_stop(sx_srv *s)
{
	if (!s->drain_deadline_ms)
		s->drain_deadline_ms = sx_mono_ms() + SX_DRAIN_TIMEOUT_S * 1000u;
	atomic_store(&s->stopping, 1);
	for (int i = 0; i < s->nworkers; i++) {
		uint64_t one = 1;
		ssize_t r = write(s->workers[i].bell, &one, sizeof one);
		(void)r;
	}
}

int sx_srv_running(const sx_srv *s)
{
	return atomic_load(&s->nrunning);
}

int sx_srv_alive(const sx_srv *s, unsigned stale_ms, char *why, size_t cap)
{
	int64_t now = (int64_t)sx_mono_ms();
	for (int i = 0; i < s->started; i++) {
		int64_t beat = atomic_load_explicit(&s->workers[i].beat_ms, memory_order_relaxed);
		if (now - beat > (int64_t)stale_ms) {
			snprintf(why, cap, "I/O worker %d (thread sxgated-io-%d) last began a "
			         "loop iteration %lld ms ago", i, i, (long long)(now - beat));
			return 0;
		}
	}
	return 1;
}

int sx_srv_wait(sx_srv *s)
{
	for (int i = 0; i < s->started; i++)
		pthread_join(s->workers[i].thr, NULL);
	s->started = 0;
	/* Jobs get what is left of the drain (and at least a second, for a
	 * late SIGHUP's reload); a job still running then is stuck, and its
	 * thread is left to the process's exit: joining it could wait for
	 * ever.  The follower may be waiting for such a job: it is left too. */
	uint64_t now = sx_mono_ms(), deadline = s->drain_deadline_ms;
	if (deadline < now + 1000)
		deadline = now + 1000;
	char why[256] = "";
	int rc = sx_jobs_idle_wait(s->jobs, deadline, why, sizeof why);
	if (!rc) {
		sx_follow_stop(s->follow);  /* it submits jobs: stop it first */
		s->follow = NULL;
		rc = sx_jobs_stop(s->jobs, deadline, why, sizeof why);
	}
	if (rc) {
		sx_log_err("drain: %s still running after the %d s drain cap (stuck in a "
		           "blocking call?); not waiting for it", why, SX_DRAIN_TIMEOUT_S);
		return rc;
	}
	s->jobs = NULL;
	return 0;
}

void sx_srv_destroy(sx_srv *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nworkers; i++)
		sx_worker_fini(&s->workers[i]);
	free(s->workers);
	free(s->ctx);
	if (s->qsbr.readers)
		sx_qsbr_destroy(&s->qsbr);
	sx_tenants_free(s->tenants);
	sx_tls_server_free(s->tls);
	sx_cidr_list_free(&s->proxy_from);
	sx_live_close(s);
	free(s->snap_path);
	sx_status_hist_free(s->hist);
	pthread_mutex_destroy(&s->status_lock);
	pthread_mutex_destroy(&s->start_lock);
	pthread_cond_destroy(&s->start_cond);
	free(s);
}
