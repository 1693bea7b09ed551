/*
 * io_epoll.c - the epoll I/O backend, for kernels or sandboxes without a
 * usable io_uring (or --io epoll).  Same worker, same connections and
 * protocol code; only the readiness model differs.
 *
 * Level-triggered, nonblocking sockets.  A readable connection gets one
 * recv of up to 64 KiB per loop iteration, so one flooding client cannot
 * starve the others.  Output is written at flush time with writev; only
 * when the socket buffer is full does the connection register EPOLLOUT,
 * and it drops it again once drained, so a normal request costs no
 * epoll_ctl.  After EOF the connection stops asking for EPOLLIN (a
 * half-closed socket is always readable).  A listener whose accept fails
 * for lack of descriptors is taken out of the set for a second instead of
 * spinning.
 *
 * epoll_event.data.u64 is the tag of worker.h (sx_ud_pack): bits 0..7
 * kind, 8..31 slot (or protocol), 32..63 serial.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "server_int.h"
#include "worker.h"

#define RBUF_SIZE (64 * 1024)
#define NEVENTS   256
#define ACCEPTS_PER_WAKE 64

enum { K_LISTEN = 1, K_CONN, K_BELL };


typedef struct ep {
	int fd;
	char *rbuf;
	int paused[SX_NLISTEN];
	int64_t resume_at;
} ep;

static int interest(const sx_conn *c)
{
	int ev = 0;
	if (!(c->flags & SX_CF_EOF))
		ev |= EPOLLIN | EPOLLRDHUP;
	if (c->io.want_out)
		ev |= EPOLLOUT;
	return ev;
}

static void set_interest(ep *e, sx_conn *c)
{
	struct epoll_event ev = { .events = (uint32_t)interest(c),
	                          .data.u64 = sx_ud_pack(K_CONN, c->slot, c->serial) };
	epoll_ctl(e->fd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void e_send(sx_worker *w, sx_conn *c)
{
	ep *e = w->io_state;
	sx_obuf *wire;
	while ((wire = sx_transport_wire(c))->pending) {
		struct iovec iov[SX_CONN_IOV];
		int n = sx_obuf_iov(wire, iov, SX_CONN_IOV);
		ssize_t r = writev(c->fd, iov, n);
		if (r > 0) {
			sx_stat_add(w->x.stats.bytes_out, (uint64_t)r);
			sx_transport_sent(c, (size_t)r);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->io.sending = 1;          /* wait for EPOLLOUT */
			if (!c->io.want_out) {
				c->io.want_out = 1;
				set_interest(e, c);
			}
			return;
		}
		sx_worker_kill(w, c);           /* EPIPE, ECONNRESET */
		return;
	}
	if (c->io.want_out) {
		c->io.want_out = 0;
		set_interest(e, c);
	}
}

static void e_close(sx_worker *w, sx_conn *c)
{
	close(c->fd);                       /* also leaves the epoll set */
	sx_worker_release(w, c);
}

static void e_unlisten(sx_worker *w)
{
	for (int p = 0; p < SX_NLISTEN; p++) {
		if (w->lfd[p] >= 0) {
			close(w->lfd[p]);
			w->lfd[p] = -1;
		}
	}
}

static int add(ep *e, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	return epoll_ctl(e->fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void on_listen(sx_worker *w, ep *e, int proto)
{
	for (int i = 0; i < ACCEPTS_PER_WAKE && w->lfd[proto] >= 0; i++) {
		int fd = accept4(w->lfd[proto], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* EMFILE, ENFILE, ENOBUFS, ENOMEM: pause this listener. */
			sx_stat_inc(w->x.stats.accept_errors);
			sx_log_err("worker %d: accept: %s; pausing the listener for a second",
			           w->id, strerror(errno));
			epoll_ctl(e->fd, EPOLL_CTL_DEL, w->lfd[proto], NULL);
			e->paused[proto] = 1;
			e->resume_at = w->x.now + 1;
			return;
		}
		sx_conn *c = sx_worker_accept(w, fd, proto);
		if (c && add(e, fd, EPOLLIN | EPOLLRDHUP, sx_ud_pack(K_CONN, c->slot, c->serial))) {
			c->flags |= SX_CF_DEAD;
			e_close(w, c);
		}
	}
}

static void on_conn(sx_worker *w, ep *e, uint64_t data, uint32_t events)
{
	sx_conn *c = sx_worker_conn(w, sx_ud_slot(data), sx_ud_serial(data));
	if (!c || (c->flags & SX_CF_DEAD))
		return;
	if (events & EPOLLOUT) {
		c->io.sending = 0;
		sx_worker_dirty(w, c);
	}
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) || (c->flags & SX_CF_EOF))
		return;
	ssize_t r = recv(c->fd, e->rbuf, RBUF_SIZE, 0);
	if (r > 0) {
		sx_transport_input(w, c, e->rbuf, (size_t)r);
	} else if (r == 0) {
		if (c->flags & SX_CF_LINGER) {
			sx_worker_kill(w, c);   /* the lingering close is complete */
			return;
		}
		sx_worker_eof(w, c);
		set_interest(e, c);         /* no more EPOLLIN */
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		sx_worker_kill(w, c);
	}
}

static int e_run(sx_worker *w)
{
	ep e = { .fd = -1 };
	int rc = 0;
	e.fd = epoll_create1(EPOLL_CLOEXEC);
	e.rbuf = malloc(RBUF_SIZE);
	if (e.fd < 0 || !e.rbuf) {
		rc = e.fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	if ((rc = add(&e, w->bell, EPOLLIN, sx_ud_pack(K_BELL, 0, 0))))
		goto fail;
	for (int p = 0; p < SX_NLISTEN; p++)
		if (w->lfd[p] >= 0 && (rc = add(&e, w->lfd[p], EPOLLIN, sx_ud_pack(K_LISTEN, (uint32_t)p, 0))))
			goto fail;
	w->io_state = &e;
	sx_worker_started(w, 0, NULL);

	struct epoll_event evs[NEVENTS];
	int n = 0;
	for (;;) {
		sx_worker_online(w);
		for (int i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;
			switch (sx_ud_op(d)) {
			case K_LISTEN:
				on_listen(w, &e, (int)sx_ud_slot(d));
				break;
			case K_BELL: {
				uint64_t v;
				ssize_t r = read(w->bell, &v, sizeof v);
				(void)r;
				sx_worker_bell(w);
				break;
			}
			case K_CONN:
				on_conn(w, &e, d, evs[i].events);
				break;
			}
		}
		if (e.resume_at && w->x.now >= e.resume_at) {
			e.resume_at = 0;
			for (int p = 0; p < SX_NLISTEN; p++) {
				if (e.paused[p] && w->lfd[p] >= 0)
					add(&e, w->lfd[p], EPOLLIN, sx_ud_pack(K_LISTEN, (uint32_t)p, 0));
				e.paused[p] = 0;
			}
		}
		sx_worker_tick(w);
		sx_worker_flush(w);
		if (sx_worker_done(w))
			break;
		sx_worker_offline(w);
		n = epoll_wait(e.fd, evs, NEVENTS, sx_worker_wait_ms(w));
		if (n < 0)
			n = 0;                  /* EINTR */
	}
	sx_worker_offline(w);
	close(e.fd);
	free(e.rbuf);
	w->io_state = NULL;
	return 0;
fail:
	snprintf(w->setup_why, sizeof w->setup_why, "epoll setup: %s", strerror(-rc));
	if (e.fd >= 0)
		close(e.fd);
	free(e.rbuf);
	return rc;
}

const sx_io_ops sx_io_epoll = {
	.name = "epoll",
	.run = e_run,
	.send = e_send,
	.close = e_close,
	.unlisten = e_unlisten,
};
