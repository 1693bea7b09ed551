/*
 * worker.c - the backend-independent part of an I/O thread (see worker.h):
 * the connection table, the flush list, the mailbox of finished jobs,
 * timeouts and draining.
 *
 * Connections are named by (slot, serial) wherever a reference can outlive
 * them (io_uring user_data, jobs): a slot is reused, a serial never is.  A
 * connection released while it is on the flush list is only marked and is
 * freed when the flush reaches it, so the list never holds a dangling
 * pointer.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "server_int.h"
#include "status.h"
#include "transport_proxy.h"
#include "worker.h"

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p)
		abort();       /* see obuf.h: out of memory is fatal */
	return p;
}

static void conn_free(sx_conn *c);

const sx_proto *const sx_protos[SX_NPROTO] = {
	[SX_PROTO_RESP] = &sx_proto_resp,
	[SX_PROTO_BIN] = &sx_proto_bin,
	[SX_PROTO_HTTP] = &sx_proto_http,
};

int sx_worker_init(sx_worker *w, sx_srv *srv, int id)
{
	w->srv = srv;
	w->io = srv->io;
	w->id = id;
	for (int p = 0; p < SX_NLISTEN; p++)
		w->lfd[p] = -1;
	w->bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->bell < 0)
		return -errno;
	pthread_mutex_init(&w->mbx_lock, NULL);
	atomic_store_explicit(&w->beat_ms, (int64_t)sx_mono_ms(), memory_order_relaxed);
	w->rd = sx_qsbr_reader_get(&srv->qsbr, id);
	sx_ctx_init(&w->x, srv, &srv->cfg, srv->tenants, srv->feedback);
	w->nslots = 256;
	w->conns = xcalloc(w->nslots, sizeof *w->conns);
	w->freelist = xcalloc(w->nslots, sizeof *w->freelist);
	for (uint32_t i = 0; i < w->nslots; i++)
		w->freelist[i] = w->nslots - 1 - i;
	w->nfree = w->nslots;
	w->dirty_cap = 256;
	w->dirty = xcalloc(w->dirty_cap, sizeof *w->dirty);
	return 0;
}

void sx_worker_fini(sx_worker *w)
{
	for (uint32_t i = 0; w->conns && i < w->nslots; i++) {
		sx_conn *c = w->conns[i];
		if (!c)
			continue;
		close(c->fd);
		atomic_fetch_sub(&w->srv->nclients, 1);
		if (!(c->flags & SX_CF_DIRTY))
			conn_free(c);
	}
	for (uint32_t i = 0; i < w->ndirty; i++)
		conn_free(w->dirty[i]);
	for (sx_job *j = w->mbx_head, *next; j; j = next) {
		next = j->next;
		j->done(j);
	}
	for (int p = 0; p < SX_NLISTEN; p++)
		if (w->lfd[p] >= 0)
			close(w->lfd[p]);
	if (w->bell >= 0)
		close(w->bell);
	pthread_mutex_destroy(&w->mbx_lock);
	free(w->conns);
	free(w->freelist);
	free(w->dirty);
	sx_ctx_fini(&w->x);
	memset(w, 0, sizeof *w);
	w->bell = -1;
}

void sx_worker_started(sx_worker *w, int rc, const char *why)
{
	sx_srv *s = w->srv;
	pthread_mutex_lock(&s->start_lock);
	s->nstarted++;
	if (rc && !s->start_rc) {
		s->start_rc = rc;
		snprintf(s->start_why, sizeof s->start_why, "worker %d: %s", w->id, why);
	}
	pthread_cond_broadcast(&s->start_cond);
	pthread_mutex_unlock(&s->start_lock);
}

/* ---- connections -------------------------------------------------------- */

static void conn_free(sx_conn *c)
{
	sx_tls_detach(c);
	sx_proxy_drop(c);
	sx_conn_free(c);
}

static uint32_t slot_alloc(sx_worker *w)
{
	if (w->nfree == 0) {
		uint32_t n = w->nslots * 2;
		sx_conn **conns = realloc(w->conns, n * sizeof *conns);
		uint32_t *fl = realloc(w->freelist, n * sizeof *fl);
		if (!conns || !fl)
			abort();
		memset(conns + w->nslots, 0, (n - w->nslots) * sizeof *conns);
		for (uint32_t i = n; i > w->nslots; i--)
			fl[w->nfree++] = i - 1;
		w->conns = conns;
		w->freelist = fl;
		w->nslots = n;
	}
	return w->freelist[--w->nfree];
}

static void peer_addr(int fd, sx_addr *a, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	memset(a, 0, sizeof *a);
	*port = 0;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
		a->b[10] = a->b[11] = 0xff;
		memcpy(a->b + 12, &in->sin_addr, 4);
		*port = ntohs(in->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
		memcpy(a->b, &in6->sin6_addr, 16);
		*port = ntohs(in6->sin6_port);
	}
}

/* Tell a client over the limit, in its protocol, and hang up. */
static void reject(int fd, int proto)
{
	char msg[256];
	size_t n = sx_protos[proto]->refuse(msg, sizeof msg);
	ssize_t r = send(fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)r;
	close(fd);
}

sx_conn *sx_worker_accept(sx_worker *w, int fd, int l)
{
	sx_srv *s = w->srv;
	if (w->stopping) {
		close(fd);
		return NULL;
	}
	if (atomic_fetch_add(&s->nclients, 1) >= s->cfg.max_clients) {
		atomic_fetch_sub(&s->nclients, 1);
		sx_stat_inc(w->x.stats.rejected);
		if (sx_listen_tls(l))
			close(fd);        /* it expects a handshake, not our words */
		else
			reject(fd, sx_listen_proto(l));
		return NULL;
	}
	sx_stat_inc(w->x.stats.accepted);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	sx_addr addr;
	uint16_t port;
	peer_addr(fd, &addr, &port);
	/* --proxy-protocol: the client ports (not HTTP's: load balancers'
	 * checks and scrapers come straight) take a header, from --proxy-from
	 * only; anyone else is cut off before a byte is read */
	int proxied = s->cfg.proxy_protocol && sx_listen_proto(l) != SX_PROTO_HTTP;
	if (sx_unlikely(proxied) && sx_proxy_admit(&w->x, &addr)) {
		atomic_fetch_sub(&s->nclients, 1);
		close(fd);
		return NULL;
	}
	sx_conn *c = sx_conn_new(w, &w->x, fd, sx_protos[sx_listen_proto(l)], &addr);
	c->port = port;
	if (s->metrics_auth[l])
		c->flags |= SX_CF_METRICS_AUTH;
	if (l == SX_PROTO_HTTP && s->http_plain_open && !s->cfg.allow_plain)
		c->flags |= SX_CF_NO_API;         /* the plain HTTP listener */
	if (sx_listen_tls(l)) {
		sx_tls_attach(c, w->srv->tls);
		c->req_since = sx_mono_ns();     /* the handshake is timed like a request */
	}
	if (sx_unlikely(proxied))
		sx_proxy_expect(c);               /* before TLS: the header is in the clear */
	c->slot = slot_alloc(w);
	if (++w->serial == 0)
		w->serial = 1;
	c->serial = w->serial;
	w->conns[c->slot] = c;
	w->nconns++;
	return c;
}

void sx_worker_release(sx_worker *w, sx_conn *c)
{
	atomic_fetch_sub(&w->srv->nclients, 1);
	w->conns[c->slot] = NULL;
	w->freelist[w->nfree++] = c->slot;
	w->nconns--;
	if (c->flags & SX_CF_DIRTY)
		c->flags |= SX_CF_RELEASED;   /* sx_worker_flush frees it */
	else
		conn_free(c);
}

void sx_worker_kill(sx_worker *w, sx_conn *c)
{
	if (c->flags & SX_CF_DEAD)
		return;
	c->flags |= SX_CF_DEAD;
	w->io->close(w, c);
}

void sx_worker_dirty_slow(sx_worker *w, sx_conn *c)
{
	if (w->ndirty == w->dirty_cap) {
		uint32_t n = w->dirty_cap * 2;
		sx_conn **d = realloc(w->dirty, n * sizeof *d);
		if (!d)
			abort();
		w->dirty = d;
		w->dirty_cap = n;
	}
	c->flags |= SX_CF_DIRTY;
	w->dirty[w->ndirty++] = c;
}

void sx_worker_eof(sx_worker *w, sx_conn *c)
{
	if (c->flags & SX_CF_LINGER) {
		sx_worker_kill(w, c);     /* the lingering close is complete */
		return;
	}
	if (sx_unlikely(c->flags & SX_CF_PROXY))
		sx_proxy_eof(c);          /* no header, nothing to answer: the flush closes */
	/* Answer what came before the EOF, then close; a request waiting for
	 * a job (and the input held behind it) finishes first (conn.c). */
	c->flags |= SX_CF_EOF;
	if (!(c->flags & SX_CF_BLOCKED))
		c->flags |= SX_CF_CLOSING;
	sx_worker_dirty(w, c);
}

/* ---- the transport ------------------------------------------------------ */

void sx_transport_input(sx_worker *w, sx_conn *c, char *data, size_t n)
{
	if (sx_unlikely(c->flags & SX_CF_PROXY)) {
		/* the PROXY header comes first, before TLS (transport_proxy.h) */
		int r = sx_proxy_input(c, &data, &n);
		if (r == SX_PROXY_FAIL)
			sx_worker_kill(w, c);
		if (r != SX_PROXY_PASS || n == 0)
			return;
	}
	if (!c->tls) {
		sx_conn_input(c, data, n);
		return;
	}
	if (sx_tls_input(c, data, n, sx_conn_input)) {
		/* Send the alert OpenSSL wrote (a client without a required
		 * certificate learns why), then close; never a close_notify
		 * after a fatal error. */
		if (c->wire->pending) {
			c->flags |= SX_CF_CLOSING | SX_CF_TLS_BYE;
			sx_worker_dirty(w, c);
		} else {
			sx_worker_kill(w, c);
		}
		return;
	}
	if ((c->flags & SX_CF_EOF) && !(c->flags & SX_CF_BLOCKED))
		c->flags |= SX_CF_CLOSING;      /* close_notify: answer, then close */
	if (sx_conn_unsent(c) || (c->flags & (SX_CF_CLOSING | SX_CF_KILL)))
		sx_worker_dirty(w, c);
}

/* ---- jobs --------------------------------------------------------------- */

/* Job thread: a job a connection waits for is done; hand it to the
 * worker's mailbox and ring its doorbell. */
static void post(sx_job *job)
{
	sx_worker *w = job->owner;
	job->next = NULL;
	pthread_mutex_lock(&w->mbx_lock);
	if (w->mbx_tail)
		w->mbx_tail->next = job;
	else
		w->mbx_head = job;
	w->mbx_tail = job;
	pthread_mutex_unlock(&w->mbx_lock);
	uint64_t one = 1;
	ssize_t r = write(w->bell, &one, sizeof one);
	(void)r;   /* EAGAIN: the counter is already non-zero, the bell rings */
}

void sx_worker_submit(sx_worker *w, sx_conn *c, sx_job *job)
{
	job->owner = w;
	job->complete = post;
	job->slot = c->slot;
	job->serial = c->serial;
	w->jobs_pending++;
	sx_jobs_submit(w->srv->jobs, job);
}

static void begin_drain(sx_worker *w)
{
	w->stopping = 1;
	w->drain_deadline = w->x.now + SX_DRAIN_TIMEOUT_S;
	w->io->unlisten(w);
	for (uint32_t i = 0; i < w->nslots; i++) {
		sx_conn *c = w->conns[i];
		if (!c || (c->flags & SX_CF_DEAD))
			continue;
		if (!(c->flags & SX_CF_BLOCKED))
			c->flags |= SX_CF_CLOSING;   /* a blocked one closes when answered */
		sx_worker_dirty(w, c);
	}
}

void sx_worker_bell(sx_worker *w)
{
	pthread_mutex_lock(&w->mbx_lock);
	sx_job *job = w->mbx_head;
	w->mbx_head = w->mbx_tail = NULL;
	pthread_mutex_unlock(&w->mbx_lock);
	while (job) {
		sx_job *next = job->next;
		w->jobs_pending--;
		sx_conn *c = sx_worker_conn(w, job->slot, job->serial);
		if (c && !(c->flags & SX_CF_DEAD))
			sx_conn_finish(c, job);
		job->done(job);
		job = next;
	}
	if (!w->stopping && atomic_load(&w->srv->stopping))
		begin_drain(w);
}

/* ---- loop steps --------------------------------------------------------- */

void sx_worker_online(sx_worker *w)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	atomic_store_explicit(&w->beat_ms, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
	                      memory_order_relaxed);
	sx_ctx_serve(&w->x, sx_qsbr_online(&w->srv->qsbr, w->rd), ts.tv_sec);
}

void sx_worker_offline(sx_worker *w)
{
	sx_qsbr_offline(w->rd);
}

void sx_worker_tick(sx_worker *w)
{
	if (w->x.now < w->next_tick)
		return;
	w->next_tick = w->x.now + 1;
	sx_status_tick(w->srv, w->x.now);    /* the status page's history */
	int idle = w->srv->cfg.idle_timeout;
	int authto = w->srv->tenants ? w->srv->cfg.auth_timeout : 0;
	uint64_t reqto_ns = (uint64_t)w->srv->cfg.request_timeout * 1000000000u;
	uint64_t now_ns = sx_mono_ns();
	int drain_over = w->stopping && w->x.now >= w->drain_deadline;
	for (uint32_t i = 0; i < w->nslots; i++) {
		sx_conn *c = w->conns[i];
		if (!c || (c->flags & SX_CF_DEAD))
			continue;
		if (drain_over) {
			sx_worker_kill(w, c);
		} else if (c->flags & SX_CF_LINGER) {
			if (w->x.now >= c->linger_until)
				sx_worker_kill(w, c);
		} else if (c->flags & SX_CF_PROXY) {
			/* its PROXY header is still due: nothing else applies yet */
			if (sx_proxy_late(c, now_ns))
				sx_worker_kill(w, c);
		} else if (reqto_ns && c->tls && !sx_tls_ready(c) &&
		           now_ns - c->req_since >= reqto_ns) {
			/* A TLS handshake left half-way (or never begun). */
			sx_stat_inc(w->x.stats.reqtimeout_kills);
			sx_worker_kill(w, c);
		} else if (reqto_ns && c->ilen &&
		           !(c->flags & (SX_CF_BLOCKED | SX_CF_CLOSING | SX_CF_KILL)) &&
		           now_ns - c->req_since >= reqto_ns) {
			/* Slowloris: a request trickled or stalled half-way. */
			sx_stat_inc(w->x.stats.reqtimeout_kills);
			sx_conn_request_timeout(c);
		} else if (authto > 0 && !c->tenant && c->proto != &sx_proto_http &&
		           !(c->flags & (SX_CF_BLOCKED | SX_CF_CLOSING)) &&
		           w->x.now - c->born >= authto) {
			/* Before AUTH: a silent socket must not hold a slot forever
			 * (HTTP has no AUTH: its checks come from load balancers). */
			sx_stat_inc(w->x.stats.authtimeout_kills);
			sx_worker_kill(w, c);
		} else if (idle > 0 && !(c->flags & SX_CF_BLOCKED) && !c->io.sending &&
		           w->x.now - c->last_active >= idle) {
			sx_stat_inc(w->x.stats.idle_kills);
			sx_worker_kill(w, c);
		} else if (c->tls && w->x.now - c->last_active >= SX_TLS_IDLE_S) {
			sx_tls_idle(c);        /* give OpenSSL's record buffers back */
		}
	}
}

/* Send what c has, unless a send is in flight.  0, or -1 when c died. */
static int send_some(sx_worker *w, sx_conn *c)
{
	if (sx_conn_unsent(c) && !c->io.sending) {
		w->io->send(w, c);
		if (c->flags & SX_CF_DEAD)
			return -1;
	}
	return 0;
}

static void flush_one(sx_worker *w, sx_conn *c)
{
	if (c->flags & SX_CF_DEAD)
		return;
	if ((c->flags & SX_CF_KILL) || sx_conn_unsent(c) > w->srv->cfg.max_output) {
		if (!(c->flags & SX_CF_KILL))
			sx_stat_inc(w->x.stats.outcap_kills);
		sx_worker_kill(w, c);
		return;
	}
	if (send_some(w, c))
		return;
	if (sx_conn_unsent(c) || c->io.sending)
		return;
	if (!(c->flags & SX_CF_CLOSING) || (c->flags & (SX_CF_BLOCKED | SX_CF_LINGER)))
		return;
	if (c->tls && !(c->flags & SX_CF_EOF) && !(c->flags & SX_CF_TLS_BYE)) {
		/* TLS: say close_notify first (it goes out with the next send) */
		c->flags |= SX_CF_TLS_BYE;
		sx_tls_bye(c);
		if (send_some(w, c) || sx_conn_unsent(c) || c->io.sending)
			return;
	}
	/* Everything is sent: close.  Unless the peer has closed already, shut
	 * the write side and wait for its close (LINGER), also when draining:
	 * closing with unread input would reset the connection and could
	 * destroy replies the client has not read yet. */
	if (c->flags & SX_CF_EOF) {
		sx_worker_kill(w, c);
		return;
	}
	shutdown(c->fd, SHUT_WR);
	c->flags |= SX_CF_LINGER;
	c->linger_until = w->x.now + SX_CONN_LINGER_S;
}

void sx_worker_flush(sx_worker *w)
{
	/* The list may grow while it is walked (index, not pointer). */
	for (uint32_t i = 0; i < w->ndirty; i++) {
		sx_conn *c = w->dirty[i];
		if (!(c->flags & SX_CF_RELEASED))
			flush_one(w, c);
		if (c->flags & SX_CF_RELEASED)
			conn_free(c);
		else
			c->flags &= (uint16_t)~SX_CF_DIRTY;
	}
	w->ndirty = 0;
}

int sx_worker_done(const sx_worker *w)
{
	/* Past the deadline a job still pending does not keep the worker:
	 * it may never return (stuck in a blocking call), and its connection
	 * is closed by now.  If it does return, its job waits in the mailbox
	 * for sx_worker_fini. */
	return w->stopping && w->nconns == 0 &&
	       (w->jobs_pending == 0 || w->x.now >= w->drain_deadline);
}

int sx_worker_wait_ms(const sx_worker *w)
{
	return w->stopping ? 100 : 1000;
}
