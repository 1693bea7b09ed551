/*
 * io_uring.c - the io_uring I/O backend: one ring per worker thread,
 * created on that thread (IORING_SETUP_SINGLE_ISSUER|DEFER_TASKRUN when
 * the kernel has them, else COOP_TASKRUN, else plain).
 *
 * Per worker: a multishot accept per listening socket, a multishot recv
 * per connection drawing from one provided-buffer ring (512 x 16 KiB), a
 * read on the doorbell eventfd, and at most one send in flight per
 * connection (the worker's flush gathers each connection's replies into
 * one send per loop iteration).  Completions are copied out of the CQ in
 * batches and the CQ is advanced once per batch, before they are handled,
 * so handlers may submit freely without the CQ filling up behind them.
 * Buffers go back to the buffer ring as soon as their bytes are consumed
 * and the ring tail is advanced once per batch.
 *
 * A multishot that ends (no IORING_CQE_F_MORE: ENOBUFS when the buffer
 * ring ran dry, CQ overflow, or the kernel's choice) is re-armed after
 * the batch, when buffers are back.  Closing shuts the socket down and
 * cancels its requests; the descriptor is closed and the connection freed
 * only when no request in flight refers to it (c->io.inflight == 0).
 *
 * user_data layout (64 bits):
 *   bits  0..7   operation (U_*)
 *   bits  8..31  connection slot, or the protocol for accepts
 *   bits 32..63  connection serial
 */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "server_int.h"
#include "worker.h"

#define RING_ENTRIES 1024
#define CQ_ENTRIES   8192
#define BR_ENTRIES   512             /* power of two */
#define BR_SIZE      (16 * 1024)
#define BGID         0
#define BATCH        256             /* CQEs handled per batch */

enum { U_ACCEPT = 1, U_RECV, U_SEND, U_BELL, U_CANCEL, U_UNLISTEN };


typedef struct ref { uint32_t slot, serial; } ref;

typedef struct uring {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	char *bufs;
	size_t br_bytes;
	int returned;                    /* buffers added since the last advance */
	uint64_t bell_val;
	int accepting[SX_NLISTEN];        /* multishot accept armed */
	int64_t accept_retry_at;         /* after an accept error; 0: none */
	ref *rearm;                      /* recvs to re-arm after the batch */
	uint32_t nrearm, rearm_cap;
} uring;

static struct io_uring_sqe *sqe_get(uring *u)
{
	struct io_uring_sqe *sqe;
	while (!(sqe = io_uring_get_sqe(&u->ring)))
		io_uring_submit(&u->ring);    /* SQ full: make room */
	return sqe;
}

/* ---- setup ------------------------------------------------------------- */

static const struct { unsigned flags; const char *name; } ring_modes[] = {
	{ IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, "SINGLE_ISSUER|DEFER_TASKRUN" },
	{ IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN" },
	{ 0, "plain" },
};

static int ring_init(struct io_uring *ring, unsigned entries, unsigned flags)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	p.flags = flags | IORING_SETUP_CQSIZE;
	p.cq_entries = entries * 8 > CQ_ENTRIES ? CQ_ENTRIES : entries * 8;
	return io_uring_queue_init_params(entries, ring, &p);
}

/* mmap a buffer ring of n entries with n buffers of size bytes behind it
 * and register it as group bgid. */
static int bufring_setup(struct io_uring *ring, unsigned n, size_t size,
                         struct io_uring_buf_ring **brp, char **bufs, size_t *bytes)
{
	size_t ring_bytes = n * sizeof(struct io_uring_buf);
	size_t total = ring_bytes + n * size;
	void *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	struct io_uring_buf_ring *br = m;
	io_uring_buf_ring_init(br);
	struct io_uring_buf_reg reg = {
		.ring_addr = (unsigned long)br,
		.ring_entries = n,
		.bgid = BGID,
	};
	int rc = io_uring_register_buf_ring(ring, &reg, 0);
	if (rc) {
		munmap(m, total);
		return rc;
	}
	char *b = (char *)m + ring_bytes;
	for (unsigned i = 0; i < n; i++)
		io_uring_buf_ring_add(br, b + i * size, (unsigned)size, (unsigned short)i,
		                      io_uring_buf_ring_mask(n), (int)i);
	io_uring_buf_ring_advance(br, (int)n);
	*brp = br;
	*bufs = b;
	*bytes = total;
	return 0;
}

int sx_uring_probe(unsigned *flags, char *desc, size_t desccap, char *why, size_t whycap)
{
	struct io_uring ring;
	int rc = -ENOSYS;
	size_t mode;
	for (mode = 0; mode < sizeof ring_modes / sizeof ring_modes[0]; mode++)
		if ((rc = ring_init(&ring, 8, ring_modes[mode].flags)) == 0)
			break;
	if (rc) {
		snprintf(why, whycap, "io_uring_setup: %s", strerror(-rc));
		return rc;
	}
	struct io_uring_buf_ring *br = NULL;
	char *bufs;
	size_t bytes = 0;
	int sv[2] = { -1, -1 };
	if ((rc = bufring_setup(&ring, 8, 64, &br, &bufs, &bytes))) {
		snprintf(why, whycap, "provided buffer rings: %s (Linux 5.19 or later is needed)",
		         strerror(-rc));
		goto out;
	}
	/* Multishot recv (Linux 6.0) cannot be probed by opcode: try it. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = -errno;
		snprintf(why, whycap, "socketpair: %s", strerror(errno));
		goto out;
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	io_uring_prep_recv_multishot(sqe, sv[0], NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	if (write(sv[1], "x", 1) != 1) {
		rc = -errno;
		snprintf(why, whycap, "socketpair write: %s", strerror(errno));
		goto out;
	}
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts = { .tv_sec = 1 };
	rc = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, NULL);
	if (rc < 0) {
		snprintf(why, whycap, "multishot recv: no completion (%s)", strerror(-rc));
		goto out;
	}
	if (cqe->res != 1) {
		rc = cqe->res < 0 ? cqe->res : -EIO;
		snprintf(why, whycap, "multishot recv: %s (Linux 6.0 or later is needed)",
		         strerror(-rc));
		goto out;
	}
	io_uring_cqe_seen(&ring, cqe);
	rc = 0;
	*flags = ring_modes[mode].flags;
	snprintf(desc, desccap, "io_uring (%s)", ring_modes[mode].name);
out:
	io_uring_queue_exit(&ring);   /* also cancels the probe's recv */
	if (sv[0] >= 0) {
		close(sv[0]);
		close(sv[1]);
	}
	if (br)
		munmap(br, bytes);
	return rc;
}

/* ---- arming ------------------------------------------------------------ */

static void arm_accept(sx_worker *w, uring *u, int proto)
{
	struct io_uring_sqe *sqe = sqe_get(u);
	io_uring_prep_multishot_accept(sqe, w->lfd[proto], NULL, NULL, SOCK_CLOEXEC);
	sqe->user_data = sx_ud_pack(U_ACCEPT, (uint32_t)proto, 0);
	u->accepting[proto] = 1;
}

static void arm_recv(uring *u, sx_conn *c)
{
	struct io_uring_sqe *sqe = sqe_get(u);
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	sqe->user_data = sx_ud_pack(U_RECV, c->slot, c->serial);
	c->io.recv_armed = 1;
	c->io.inflight++;
}

static void arm_bell(sx_worker *w, uring *u)
{
	struct io_uring_sqe *sqe = sqe_get(u);
	io_uring_prep_read(sqe, w->bell, &u->bell_val, sizeof u->bell_val, 0);
	sqe->user_data = sx_ud_pack(U_BELL, 0, 0);
}

static void rearm_later(uring *u, sx_conn *c)
{
	if (u->nrearm == u->rearm_cap) {
		uint32_t n = u->rearm_cap ? u->rearm_cap * 2 : 64;
		ref *r = realloc(u->rearm, n * sizeof *r);
		if (!r)
			abort();
		u->rearm = r;
		u->rearm_cap = n;
	}
	u->rearm[u->nrearm++] = (ref){ c->slot, c->serial };
}

/* ---- backend operations -------------------------------------------------- */

static void u_send(sx_worker *w, sx_conn *c)
{
	uring *u = w->io_state;
	sx_obuf *wire = sx_transport_wire(c);
	if (!wire->pending)
		return;                  /* TLS: nothing encrypted yet */
	int n = sx_obuf_iov(wire, c->io.iov, SX_CONN_IOV);
	struct io_uring_sqe *sqe = sqe_get(u);
	if (n == 1) {
		io_uring_prep_send(sqe, c->fd, c->io.iov[0].iov_base, c->io.iov[0].iov_len,
		                   MSG_NOSIGNAL);
	} else {
		memset(&c->io.msg, 0, sizeof c->io.msg);
		c->io.msg.msg_iov = c->io.iov;
		c->io.msg.msg_iovlen = (size_t)n;
		io_uring_prep_sendmsg(sqe, c->fd, &c->io.msg, MSG_NOSIGNAL);
	}
	sqe->user_data = sx_ud_pack(U_SEND, c->slot, c->serial);
	c->io.sending = 1;
	c->io.inflight++;
}

static void maybe_release(sx_worker *w, sx_conn *c)
{
	if ((c->flags & SX_CF_DEAD) && c->io.inflight == 0) {
		close(c->fd);
		sx_worker_release(w, c);
	}
}

static void u_close(sx_worker *w, sx_conn *c)
{
	uring *u = w->io_state;
	if (c->io.inflight) {
		/* Wake and cancel whatever refers to the socket; close when the
		 * last completion is in (maybe_release). */
		shutdown(c->fd, SHUT_RDWR);
		struct io_uring_sqe *sqe = sqe_get(u);
		io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
		sqe->user_data = sx_ud_pack(U_CANCEL, c->slot, c->serial);
		c->io.inflight++;
		return;
	}
	close(c->fd);
	sx_worker_release(w, c);
}

static void u_unlisten(sx_worker *w)
{
	uring *u = w->io_state;
	for (int p = 0; p < SX_NLISTEN; p++) {
		if (w->lfd[p] < 0)
			continue;
		if (u->accepting[p]) {
			struct io_uring_sqe *sqe = sqe_get(u);
			io_uring_prep_cancel64(sqe, sx_ud_pack(U_ACCEPT, (uint32_t)p, 0), 0);
			sqe->user_data = sx_ud_pack(U_UNLISTEN, 0, 0);
		} else {
			close(w->lfd[p]);      /* not armed: nothing refers to it */
			w->lfd[p] = -1;
		}
	}
}

static int accepting(const uring *u)
{
	for (int p = 0; p < SX_NLISTEN; p++)
		if (u->accepting[p])
			return 1;
	return 0;
}

/* ---- completions --------------------------------------------------------- */

typedef struct cqe_copy {
	uint64_t ud;
	int32_t res;
	uint32_t flags;
} cqe_copy;

static void recycle(uring *u, unsigned bid)
{
	io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * BR_SIZE, BR_SIZE,
	                      (unsigned short)bid, io_uring_buf_ring_mask(BR_ENTRIES),
	                      u->returned++);
}

static void on_accept(sx_worker *w, uring *u, const cqe_copy *e)
{
	int proto = (int)sx_ud_slot(e->ud);
	if (!(e->flags & IORING_CQE_F_MORE))
		u->accepting[proto] = 0;
	if (e->res >= 0) {
		sx_conn *c = sx_worker_accept(w, e->res, proto);
		if (c)
			arm_recv(u, c);
	} else if (e->res != -ECANCELED) {
		sx_stat_inc(w->x.stats.accept_errors);
		static __thread int64_t last_log;
		if (w->x.now != last_log) {
			last_log = w->x.now;
			sx_log_err("worker %d: accept: %s", w->id, strerror(-e->res));
		}
	}
	if (u->accepting[proto])
		return;
	if (w->stopping) {
		close(w->lfd[proto]);
		w->lfd[proto] = -1;
	} else if (e->res >= 0 || e->res == -ECANCELED) {
		arm_accept(w, u, proto);
	} else {
		u->accept_retry_at = w->x.now + 1;   /* EMFILE and friends: back off */
	}
}

static void on_recv(sx_worker *w, uring *u, const cqe_copy *e)
{
	sx_conn *c = sx_worker_conn(w, sx_ud_slot(e->ud), sx_ud_serial(e->ud));
	char *buf = NULL;
	unsigned bid = 0;
	if (e->flags & IORING_CQE_F_BUFFER) {
		bid = e->flags >> IORING_CQE_BUFFER_SHIFT;
		buf = u->bufs + (size_t)bid * BR_SIZE;
	}
	if (!c) {                        /* cannot happen: inflight pins c */
		if (buf)
			recycle(u, bid);
		return;
	}
	int more = (e->flags & IORING_CQE_F_MORE) != 0;
	if (!more) {
		c->io.recv_armed = 0;
		c->io.inflight--;
	}
	if (e->res > 0 && buf && !(c->flags & SX_CF_DEAD))
		sx_transport_input(w, c, buf, (size_t)e->res);
	if (buf)
		recycle(u, bid);
	if (c->flags & SX_CF_DEAD) {
		maybe_release(w, c);
	} else if (e->res == 0) {
		sx_worker_eof(w, c);
	} else if (e->res < 0 && e->res != -ENOBUFS) {
		sx_worker_kill(w, c);
	} else if (!more) {
		if (e->res == -ENOBUFS)
			sx_stat_inc(w->x.stats.recv_nobufs);
		rearm_later(u, c);           /* ENOBUFS, or the kernel ended it */
	}
}

static void on_send(sx_worker *w, const cqe_copy *e)
{
	sx_conn *c = sx_worker_conn(w, sx_ud_slot(e->ud), sx_ud_serial(e->ud));
	if (!c)
		return;
	c->io.inflight--;
	c->io.sending = 0;
	if (c->flags & SX_CF_DEAD) {
		maybe_release(w, c);
		return;
	}
	if (e->res < 0) {
		sx_worker_kill(w, c);        /* EPIPE, ECONNRESET */
		return;
	}
	sx_stat_add(w->x.stats.bytes_out, (uint64_t)e->res);
	sx_transport_sent(c, (size_t)e->res);     /* short send: rest goes next */
	if (sx_conn_unsent(c) || (c->flags & SX_CF_CLOSING))
		sx_worker_dirty(w, c);
}

static void on_cqe(sx_worker *w, uring *u, const cqe_copy *e)
{
	switch (sx_ud_op(e->ud)) {
	case U_ACCEPT:
		on_accept(w, u, e);
		break;
	case U_RECV:
		on_recv(w, u, e);
		break;
	case U_SEND:
		on_send(w, e);
		break;
	case U_BELL:
		sx_worker_bell(w);
		arm_bell(w, u);
		break;
	case U_CANCEL: {
		sx_conn *c = sx_worker_conn(w, sx_ud_slot(e->ud), sx_ud_serial(e->ud));
		if (c) {
			c->io.inflight--;
			maybe_release(w, c);
		}
		break;
	}
	default:
		break;                       /* U_UNLISTEN: the accept CQE says it */
	}
}

static void do_rearms(sx_worker *w, uring *u)
{
	for (uint32_t i = 0; i < u->nrearm; i++) {
		sx_conn *c = sx_worker_conn(w, u->rearm[i].slot, u->rearm[i].serial);
		if (c && !(c->flags & SX_CF_DEAD) && !c->io.recv_armed)
			arm_recv(u, c);
	}
	u->nrearm = 0;
}

static int u_run(sx_worker *w)
{
	uring u;
	memset(&u, 0, sizeof u);
	int rc = ring_init(&u.ring, RING_ENTRIES, w->srv->uring_flags);
	if (rc) {
		snprintf(w->setup_why, sizeof w->setup_why, "io_uring_setup: %s", strerror(-rc));
		return rc;
	}
	if ((rc = bufring_setup(&u.ring, BR_ENTRIES, BR_SIZE, &u.br, &u.bufs, &u.br_bytes))) {
		snprintf(w->setup_why, sizeof w->setup_why, "io_uring buffer ring: %s", strerror(-rc));
		io_uring_queue_exit(&u.ring);
		return rc;
	}
	w->io_state = &u;
	arm_bell(w, &u);
	for (int p = 0; p < SX_NLISTEN; p++)
		if (w->lfd[p] >= 0)
			arm_accept(w, &u, p);
	io_uring_submit(&u.ring);
	sx_worker_started(w, 0, NULL);

	cqe_copy batch[BATCH];
	for (;;) {
		sx_worker_online(w);
		unsigned head, n = 0;
		struct io_uring_cqe *cqe;
		io_uring_for_each_cqe(&u.ring, head, cqe) {
			batch[n].ud = cqe->user_data;
			batch[n].res = cqe->res;
			batch[n].flags = cqe->flags;
			if (++n == BATCH)
				break;
		}
		io_uring_cq_advance(&u.ring, n);
		for (unsigned i = 0; i < n; i++)
			on_cqe(w, &u, &batch[i]);
		if (u.returned) {
			io_uring_buf_ring_advance(u.br, u.returned);
			u.returned = 0;
		}
		do_rearms(w, &u);
		if (u.accept_retry_at && w->x.now >= u.accept_retry_at && !w->stopping) {
			u.accept_retry_at = 0;
			for (int p = 0; p < SX_NLISTEN; p++)
				if (w->lfd[p] >= 0 && !u.accepting[p])
					arm_accept(w, &u, p);
		}
		sx_worker_tick(w);
		sx_worker_flush(w);
		if (sx_worker_done(w) && !accepting(&u))
			break;
		sx_worker_offline(w);
		if (n == BATCH) {
			io_uring_submit(&u.ring);        /* more CQEs are waiting */
			continue;
		}
		int ms = sx_worker_wait_ms(w);
		struct __kernel_timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
		io_uring_submit_and_wait_timeout(&u.ring, &cqe, 1, &ts, NULL);
	}
	sx_worker_offline(w);
	io_uring_queue_exit(&u.ring);
	munmap(u.br, u.br_bytes);
	free(u.rearm);
	w->io_state = NULL;
	return 0;
}

const sx_io_ops sx_io_uring = {
	.name = "io_uring",
	.run = u_run,
	.send = u_send,
	.close = u_close,
	.unlisten = u_unlisten,
};
