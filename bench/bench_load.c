/*
 * bench_load.c - the load loop of sxgate-bench: each worker thread owns
 * its connections and an epoll loop, keeps --depth requests in flight per
 * connection and checks every reply against what was asked.
 *
 * Every connection remembers its requests in a ring (send or due time,
 * request ID, IDs asked), so each reply is matched in order.  Closed loop:
 * a connection sends its next request as soon as a reply frees a slot.
 * Open loop (--rate): requests are due at fixed times and latency counts
 * from the due time (the coordinated-omission correction).  The timestamp
 * of a reply is taken once per read of a connection, not per frame:
 * parsing a buffer of frames takes microseconds, far below the round trip
 * being measured.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>

#include "bench.h"


__attribute__((format(printf, 1, 2)))
static void warn(const char *fmt, ...)
{
	/* The first few problems are worth reading; thousands are not. */
	if (__atomic_fetch_add(&bench.quiet_errors, 1, __ATOMIC_RELAXED) >= 10)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("sxgate-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void conn_fail(worker *w, conn *c, const char *what)
{
	warn("connection %d: %s", (int)(c - w->conns), what);
	w->errors += c->count ? c->count : 1;
	w->failed_conns++;
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, sx_client_fd(c->cli), NULL);
	sx_client_close(c->cli);
	c->cli = NULL;
	c->alive = 0;
	c->count = 0;
}

static int send_one(worker *w, conn *c, double t0)
{
	const batch *b = &bench.batches[c->next_batch];
	if (++c->next_batch == bench.nbatches)
		c->next_batch = 0;
	uint32_t req_id = c->next_req++;
	int rc;
	if (bench.proto == SX_CLIENT_BINARY) {
		rc = bench.cmd == CMD_CHECK
		   ? sx_client_send_check_batch(c->cli, req_id, &b->ctx,
		                                bench.ids + b->first, bench.idlens + b->first, b->n)
		   : sx_client_send_listed_batch(c->cli, req_id, &b->ctx,
		                                 bench.ids + b->first, bench.idlens + b->first, b->n);
	} else if (bench.wire) {
		size_t i = (size_t)(b - bench.batches);
		rc = sx_client_send_resp_raw(c->cli, bench.wire + bench.wire_off[i],
		                             bench.wire_off[i + 1] - bench.wire_off[i]);
	} else {
		const char **a = c->argv;
		int n = resp_argv(b, a);
		for (int i = 0; i < n; i++)
			c->alens[i] = strlen(a[i]);
		rc = sx_client_send_resp(c->cli, n, a, c->alens);
	}
	if (rc) {
		conn_fail(w, c, sx_client_errmsg(c->cli));
		return -1;
	}
	slot *s = &c->ring[(c->head + c->count++) % (unsigned)bench.depth];
	s->t0 = t0;
	s->req_id = req_id;
	s->n = b->n;
	return 0;
}

/* Fill the pipeline of c: to --depth (closed loop), or every request that
 * is due and has a free slot (open loop). */
static void issue(worker *w, conn *c, double now)
{
	if (bench.rate > 0) {
		while (c->alive && c->count < (unsigned)bench.depth && c->next_due <= now) {
			send_one(w, c, c->next_due);
			c->next_due += bench.interval;
		}
	} else {
		while (c->alive && c->count < (unsigned)bench.depth)
			send_one(w, c, now);
	}
}

static void set_out(worker *w, conn *c, int on)
{
	if (c->want_out == on)
		return;
	c->want_out = on;
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0),
	                          .data.ptr = c };
	epoll_ctl(w->epfd, EPOLL_CTL_MOD, sx_client_fd(c->cli), &ev);
}

static void flush_conn(worker *w, conn *c)
{
	if (!c->alive || !sx_client_unsent(c->cli)) {
		if (c->alive)
			set_out(w, c, 0);
		return;
	}
	int rc = sx_client_flush(c->cli);
	if (rc == -EAGAIN)
		set_out(w, c, 1);
	else if (rc)
		conn_fail(w, c, sx_client_errmsg(c->cli));
	else
		set_out(w, c, 0);
}

static const char *const reason_names[] = {
#define X(e, code, d, r) r,
	SXB_REASONS(X)
#undef X
};

/* Is v the bulk or simple string s of n bytes?  (sx_client_resp_is
 * without its strlen: a reply is checked against every reason name.) */
static int resp_is_n(const sx_client_resp *v, const char *s, size_t n)
{
	return (v->type == '+' || (v->type == '$' && !v->nil)) && v->len == n &&
	       memcmp(v->str, s, n) == 0;
}
#define RESP_IS(v, lit) resp_is_n(v, lit, sizeof lit - 1)

/* One CHECK reply over RESP: [decision, reason, records...].  Its
 * decision (SXB_ALLOW, SXB_DENY or SXB_REVIEW), or -1 when malformed. */
static int resp_check_ok(const sx_client_resp *v)
{
	static size_t reason_lens[SXB_NREASONS];
	if (!reason_lens[0])            /* every thread writes the same values */
		for (int i = 0; i < SXB_NREASONS; i++)
			__atomic_store_n(&reason_lens[i], strlen(reason_names[i]), __ATOMIC_RELAXED);
	if (v->type != '*' || v->nil || v->num < 2)
		return 0;
	sx_client_resp d, r, e;
	size_t pos = 0;
	sx_client_resp_next(v, &pos, &d);
	sx_client_resp_next(v, &pos, &r);
	int reason = -1;
	for (int i = 0; i < SXB_NREASONS && reason < 0; i++)
		if (resp_is_n(&r, reason_names[i],
		              __atomic_load_n(&reason_lens[i], __ATOMIC_RELAXED)))
			reason = i;
	if (reason < 0)
		return 0;
	int dec = RESP_IS(&d, "DENY") ? SXB_DENY :
	          RESP_IS(&d, "REVIEW") ? SXB_REVIEW :
	          RESP_IS(&d, "ALLOW") ? SXB_ALLOW : -1;
	int named = dec == SXB_DENY || dec == SXB_REVIEW;
	if (dec < 0 || named != (reason == SXB_R_LISTED) ||
	    (named ? v->num < 3 : v->num != 2))
		return -1;
	while (sx_client_resp_next(v, &pos, &e))
		if (e.type != '$' || e.nil || e.len == 0)
			return -1;
	return dec;
}

/* A CHECK reply item's decision, or -1 when it is an error or
 * inconsistent (DENY and REVIEW come with records, ALLOW without). */
static int bin_item_ok(const sx_client_item *it)
{
	if (it->kind != SXB_KIND_DECISION || it->decision > SXB_REVIEW)
		return -1;
	int named = it->decision != SXB_ALLOW;
	return named == (it->reason == SXB_R_LISTED) && (named ? it->n > 0 : it->n == 0) ?
	       it->decision : -1;
}

/* Account for one answered request: errors, lookups, latency, decisions
 * (dec: its CHECK answers by decision, or NULL). */
static void account(worker *w, const slot *s, double now, uint64_t good,
                    uint64_t bad, const uint64_t *dec)
{
	w->errors += bad;
	if (now < bench.t_meas || now >= bench.t_end)
		return;
	w->requests++;
	w->lookups += good;
	for (int i = 0; dec && i < 3; i++)
		w->decided[i] += dec[i];
	double lat = now - s->t0;
	sx_hist_record(w->hist, lat > 0 ? (uint64_t)lat : 0);
}

static void drain_binary(worker *w, conn *c, double now)
{
	unsigned want = bench.cmd == CMD_CHECK ? SXB_OP_CHECK_REPLY : SXB_OP_LISTED_REPLY;
	for (;;) {
		sx_client_reply rep;
		int rc = sx_client_recv_reply(c->cli, &rep);
		if (rc == -EAGAIN)
			return;
		if (rc) {
			conn_fail(w, c, sx_client_errmsg(c->cli));
			return;
		}
		if (!c->count) {
			conn_fail(w, c, "reply with no request outstanding");
			return;
		}
		slot *s = &c->ring[c->head];
		if (rep.req_id != s->req_id) {
			char m[200];
			if (rep.op == SXB_OP_ERROR)   /* a protocol error: req_id 0 */
				snprintf(m, sizeof m, "server error: %.*s",
				         (int)(rep.errlen > 150 ? 150 : rep.errlen), rep.err);
			else
				snprintf(m, sizeof m, "reply to request %u, expected %u",
				         rep.req_id, s->req_id);
			conn_fail(w, c, m);
			return;
		}
		c->head = (c->head + 1) % (unsigned)bench.depth;
		c->count--;
		uint64_t good = 0, bad = 0, dec[3] = { 0 };
		if (rep.op == SXB_OP_ERROR) {
			warn("server error: %.*s", (int)rep.errlen, rep.err);
			bad = 1;
		} else if (rep.op != want || rep.count != s->n) {
			warn("reply op 0x%02x with %u items to a request of %u IDs",
			     rep.op, rep.count, s->n);
			bad = 1;
		} else if (want == SXB_OP_CHECK_REPLY) {
			sx_client_item it;
			size_t pos = 0;
			while (sx_client_item_next(&rep, &pos, &it)) {
				int d = bin_item_ok(&it);
				if (d >= 0) {
					good++;
					dec[d]++;
				} else {
					bad++;
					if (it.kind == SXB_KIND_ERROR)
						warn("ID error: %.*s", (int)it.n, (const char *)it.data);
					else
						warn("inconsistent decision %u/%u with %u records",
						     it.decision, it.reason, it.n);
				}
			}
		} else {
			int val;
			const char *err;
			size_t errlen;
			size_t pos = 0;
			while (sx_client_listed_next(&rep, &pos, &val, &err, &errlen)) {
				if (val == SXB_LISTED_NO || val == SXB_LISTED_YES)
					good++;
				else {
					bad++;
					warn("ID error: %.*s", (int)errlen, err);
				}
			}
		}
		account(w, s, now, good, bad, dec);
	}
}

static void drain_resp(worker *w, conn *c, double now)
{
	for (;;) {
		sx_client_resp v;
		int rc = sx_client_recv_resp(c->cli, &v);
		if (rc == -EAGAIN)
			return;
		if (rc) {
			conn_fail(w, c, sx_client_errmsg(c->cli));
			return;
		}
		if (!c->count) {
			conn_fail(w, c, "reply with no request outstanding");
			return;
		}
		slot *s = &c->ring[c->head];
		c->head = (c->head + 1) % (unsigned)bench.depth;
		c->count--;
		uint64_t good = 0, bad = 0, dec[3] = { 0 };
		int d;
		if (v.type == '-') {
			warn("server error: %.*s", (int)v.len, v.str);
			bad = 1;
		} else if (bench.cmd != CMD_CHECK) {
			if (v.type == ':' && (v.num == 0 || v.num == 1))
				good = 1;
			else
				bad = 1;
		} else if (bench.batch == 1) {
			if ((d = resp_check_ok(&v)) >= 0) {
				good = 1;
				dec[d]++;
			} else {
				bad = 1;
			}
		} else if (v.type != '*' || v.nil || (uint64_t)v.num != s->n) {
			bad = 1;
		} else {
			sx_client_resp e;
			size_t pos = 0;
			while (sx_client_resp_next(&v, &pos, &e)) {
				if ((d = resp_check_ok(&e)) >= 0) {
					good++;
					dec[d]++;
				} else {
					bad++;
					if (e.type == '-')
						warn("ID error: %.*s", (int)e.len, e.str);
				}
			}
		}
		if (bad && v.type != '-' && good == 0)
			warn("unexpected reply: %.*s", (int)(v.rawlen > 120 ? 120 : v.rawlen),
			     v.raw);
		account(w, s, now, good, bad, dec);
	}
}

void *worker_main(void *arg)
{
	worker *w = arg;
	/* Timers as precise as the kernel allows: open-loop sends are due at
	 * fixed times, and the default 50 us slack would shift them. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	enum { MAXEV = 256 };
	struct epoll_event evs[MAXEV];
	int have_pwait2 = 1;

	pthread_barrier_wait(&bench.go);
	double now = now_ns();
	for (int i = 0; i < w->nconn; i++) {
		conn *c = &w->conns[i];
		issue(w, c, now);
		flush_conn(w, c);
	}
	for (;;) {
		now = now_ns();
		if (now >= bench.t_end)
			break;
		double wake = bench.t_end;
		int alive = 0;
		for (int i = 0; i < w->nconn; i++) {
			conn *c = &w->conns[i];
			if (!c->alive)
				continue;
			alive++;
			if (bench.rate > 0) {
				issue(w, c, now);
				flush_conn(w, c);
				if (c->alive && c->count < (unsigned)bench.depth && c->next_due < wake)
					wake = c->next_due;
			}
		}
		if (!alive)
			break;
		double dt = wake - now;
		if (dt < 0)
			dt = 0;
		int nev;
		if (have_pwait2) {
			struct timespec ts = { .tv_sec = (time_t)(dt / 1e9),
			                       .tv_nsec = (long)fmod(dt, 1e9) };
			nev = epoll_pwait2(w->epfd, evs, MAXEV, &ts, NULL);
			if (nev < 0 && errno == ENOSYS) {
				have_pwait2 = 0;
				continue;
			}
		} else {
			nev = epoll_wait(w->epfd, evs, MAXEV, (int)(dt / 1e6));
		}
		if (nev < 0) {
			if (errno == EINTR)
				continue;
			warn("epoll: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < nev; i++) {
			conn *c = evs[i].data.ptr;
			if (!c->alive)
				continue;
			double t = now_ns();
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
				if (bench.proto == SX_CLIENT_BINARY)
					drain_binary(w, c, t);
				else
					drain_resp(w, c, t);
			}
			if (!c->alive)
				continue;
			if (t < bench.t_end)
				issue(w, c, t);
			flush_conn(w, c);
		}
	}
	return NULL;
}
