/*
 * bench.c - sxgate-bench, the load generator: drives sxgated (or, with
 * --redis-sismember, a redis-server) over many connections with many
 * requests in flight, checks every reply, and reports throughput and
 * latency percentiles.
 *
 * The idea: T threads, each owning connections/T connections and its own
 * epoll loop; every connection keeps up to --depth requests in flight and
 * remembers them in a ring (send time, request ID, IDs asked), so each
 * reply is matched in order against what was asked.  Requests come from a
 * query file prepared once into batches; sending a request only encodes
 * into the connection's buffer (libsxgate client's pipelined API), so the
 * request path allocates nothing.
 *
 * Closed loop (default): a connection sends its next request as soon as a
 * reply frees a slot; latency is reply time minus send time.  Open loop
 * (--rate R): requests are due at a fixed total rate, spread evenly over
 * the connections, and latency is measured from the time a request was
 * due, not when it could be sent: when the server falls behind, the
 * waiting shows up in the percentiles instead of silently slowing the
 * load (the coordinated-omission correction of wrk2 and HdrHistogram).
 *
 * Batching: one binary CHECK frame carries IDs that share channel, class,
 * type and day.  With --batch B > 1, a frame holds B consecutive queries of
 * the same ID type and takes channel, class and day from its first query;
 * over RESP the same batch is one MCHECK.  With B = 1 every query is sent
 * exactly as written.  Throughput counts IDs answered (lookups); latency is
 * per request (one frame or one command).
 *
 * Trade-off: the timestamp of a reply is taken once per read of a
 * connection, not per frame; parsing a buffer of frames takes
 * microseconds, far below the network round trip being measured.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

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
} worker;

static struct {
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
	/* time, ns on CLOCK_MONOTONIC */
	double t_start, t_meas, t_end;
	double interval;        /* open loop: ns between requests of one conn */
	pthread_barrier_t go;
	int quiet_errors;       /* error messages printed so far */
} g;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

__attribute__((format(printf, 1, 2)))
static void warn(const char *fmt, ...)
{
	/* The first few problems are worth reading; thousands are not. */
	if (__atomic_fetch_add(&g.quiet_errors, 1, __ATOMIC_RELAXED) >= 10)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("sxgate-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- the query file ------------------------------------------------------ */

static const char *field(char *s)
{
	return (*s == 0 || (s[0] == '-' && s[1] == 0)) ? NULL : s;
}

/* Read FILE: lines "id TAB type TAB channel TAB class TAB day" (class,
 * type, day "-" for none), '#' comments and blank lines skipped. */
static int load_queries(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "sxgate-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (!buf)
			goto nomem;
		len += fread(buf + len, 1, cap - len, f);
		if (len < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap + 1);
	}
	if (ferror(f)) {
		fprintf(stderr, "sxgate-bench: %s: read error\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[len] = 0;
	g.text = buf;

	size_t qcap = 1024;
	g.q = malloc(qcap * sizeof *g.q);
	if (!g.q)
		goto nomem;
	unsigned line = 0;
	for (char *p = buf; p < buf + len;) {
		char *nl = memchr(p, '\n', (size_t)(buf + len - p));
		char *end = nl ? nl : buf + len;
		line++;
		*end = 0;
		if (end > p && end[-1] == '\r')
			end[-1] = 0;
		char *ln = p;
		p = end + 1;
		if (*ln == 0 || *ln == '#')
			continue;
		char *fs[5];
		int nf = 0;
		for (char *s = ln; nf < 5;) {
			fs[nf++] = s;
			char *t = strchr(s, '\t');
			if (!t)
				break;
			*t = 0;
			s = t + 1;
		}
		if (nf < 5) {
			fprintf(stderr, "sxgate-bench: %s:%u: %d fields, expected 5 "
			        "(id, type, channel, class, day; tab-separated)\n",
			        path, line, nf);
			return -1;
		}
		size_t il = strlen(fs[0]);
		if (il == 0 || il > SXB_MAX_ID) {
			fprintf(stderr, "sxgate-bench: %s:%u: ID of %zu bytes (1..64 allowed)\n",
			        path, line, il);
			return -1;
		}
		for (int i = 1; i < 5; i++)
			if (strlen(fs[i]) > SXB_MAX_CTX) {
				fprintf(stderr, "sxgate-bench: %s:%u: field %d longer than 255 bytes\n",
				        path, line, i + 1);
				return -1;
			}
		if (!field(fs[2]) && g.cmd == CMD_CHECK) {
			fprintf(stderr, "sxgate-bench: %s:%u: no channel\n", path, line);
			return -1;
		}
		if (g.nq == qcap) {
			qcap *= 2;
			query *nq = realloc(g.q, qcap * sizeof *g.q);
			if (!nq)
				goto nomem;
			g.q = nq;
		}
		g.q[g.nq++] = (query){ .id = fs[0], .idlen = il, .type = field(fs[1]),
		                       .chan = field(fs[2]), .cls = field(fs[3]),
		                       .day = field(fs[4]), .line = line };
	}
	if (!g.nq) {
		fprintf(stderr, "sxgate-bench: %s: no queries\n", path);
		return -1;
	}
	return 0;
nomem:
	fprintf(stderr, "sxgate-bench: out of memory reading %s\n", path);
	return -1;
}

static int same_type(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcasecmp(a, b) == 0;
}

/*
 * Cut the queries into batches of up to B IDs of one type, keeping file
 * order within a type.  A small table of open batches, one per type seen
 * (there are seven ID types; more distinct spellings just open more).
 */
static int make_batches(void)
{
	size_t B = (size_t)g.batch;
	g.ids = malloc(g.nq * sizeof *g.ids);
	g.idlens = malloc(g.nq * sizeof *g.idlens);
	g.batches = malloc((g.nq + 64) * sizeof *g.batches);
	/* per open type: the queries of its current batch */
	enum { NOPEN = 64 };
	size_t *open_q[NOPEN] = { 0 };
	size_t open_n[NOPEN] = { 0 };
	const char *open_type[NOPEN];
	int nopen = 0;
	if (!g.ids || !g.idlens || !g.batches)
		return -1;
	size_t nid = 0;

#define EMIT(k)                                                                \
	do {                                                                   \
		const query *f0 = &g.q[open_q[k][0]];                              \
		batch *b = &g.batches[g.nbatches++];                               \
		b->ctx = (sx_client_ctx){ f0->chan, f0->cls, f0->type, f0->day };  \
		b->first = (uint32_t)nid;                                          \
		b->n = (uint32_t)open_n[k];                                        \
		for (size_t j = 0; j < open_n[k]; j++) {                           \
			g.ids[nid] = g.q[open_q[k][j]].id;                             \
			g.idlens[nid++] = g.q[open_q[k][j]].idlen;                     \
		}                                                                  \
		open_n[k] = 0;                                                     \
	} while (0)

	for (size_t i = 0; i < g.nq; i++) {
		int k;
		for (k = 0; k < nopen; k++)
			if (same_type(open_type[k], g.q[i].type))
				break;
		if (k == nopen) {
			if (nopen == NOPEN) {
				fprintf(stderr, "sxgate-bench: %s: more than %d ID types "
				        "(line %u)\n", g.queries, NOPEN, g.q[i].line);
				return -1;
			}
			open_type[k] = g.q[i].type;
			open_q[k] = malloc(B * sizeof(size_t));
			if (!open_q[k])
				return -1;
			nopen++;
		}
		open_q[k][open_n[k]++] = i;
		if (open_n[k] == B)
			EMIT(k);
	}
	for (int k = 0; k < nopen; k++) {
		if (open_n[k])
			EMIT(k);
		free(open_q[k]);
	}
#undef EMIT
	return 0;
}

/* ---- requests -------------------------------------------------------------- */

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
	const batch *b = &g.batches[c->next_batch];
	if (++c->next_batch == g.nbatches)
		c->next_batch = 0;
	uint32_t req_id = c->next_req++;
	int rc;
	if (g.proto == SX_CLIENT_BINARY) {
		rc = g.cmd == CMD_CHECK
		   ? sx_client_send_check_batch(c->cli, req_id, &b->ctx,
		                                g.ids + b->first, g.idlens + b->first, b->n)
		   : sx_client_send_listed_batch(c->cli, req_id, &b->ctx,
		                                 g.ids + b->first, g.idlens + b->first, b->n);
	} else {
		const char **a = c->argv;
		int n = 0;
		if (g.cmd == CMD_SISMEMBER) {
			a[n++] = "SISMEMBER";
			a[n++] = g.redis_key;
			a[n++] = g.ids[b->first];
		} else {
			if (g.cmd == CMD_LISTED) {
				a[n++] = "LISTED";
				a[n++] = g.ids[b->first];
			} else if (g.batch == 1) {
				a[n++] = "CHECK";
				a[n++] = g.ids[b->first];
				a[n++] = b->ctx.channel;
				if (b->ctx.cls)
					a[n++] = b->ctx.cls;
			} else {
				a[n++] = "MCHECK";
				a[n++] = b->ctx.channel;
				a[n++] = b->ctx.cls ? b->ctx.cls : "-";
			}
			if (b->ctx.type) {
				a[n++] = "TYPE";
				a[n++] = b->ctx.type;
			}
			if (b->ctx.at) {
				a[n++] = "AT";
				a[n++] = b->ctx.at;
			}
			if (g.cmd == CMD_CHECK && g.batch > 1)
				for (uint32_t i = 0; i < b->n; i++)
					a[n++] = g.ids[b->first + i];
		}
		for (int i = 0; i < n; i++)
			c->alens[i] = strlen(a[i]);
		rc = sx_client_send_resp(c->cli, n, a, c->alens);
	}
	if (rc) {
		conn_fail(w, c, sx_client_errmsg(c->cli));
		return -1;
	}
	slot *s = &c->ring[(c->head + c->count++) % (unsigned)g.depth];
	s->t0 = t0;
	s->req_id = req_id;
	s->n = b->n;
	return 0;
}

/* Fill the pipeline of c: to --depth (closed loop), or every request that
 * is due and has a free slot (open loop). */
static void issue(worker *w, conn *c, double now)
{
	if (g.rate > 0) {
		while (c->alive && c->count < (unsigned)g.depth && c->next_due <= now) {
			send_one(w, c, c->next_due);
			c->next_due += g.interval;
		}
	} else {
		while (c->alive && c->count < (unsigned)g.depth)
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

/* ---- checking replies ---------------------------------------------------------- */

static const char *const reason_names[] = {
#define X(e, code, d, r) r,
	SXB_REASONS(X)
#undef X
};

/* One CHECK reply over RESP: [decision, reason, records...]. */
static int resp_check_ok(const sx_client_resp *v)
{
	if (v->type != '*' || v->nil || v->num < 2)
		return 0;
	sx_client_resp d, r, e;
	size_t pos = 0;
	sx_client_resp_next(v, &pos, &d);
	sx_client_resp_next(v, &pos, &r);
	int reason = -1;
	for (int i = 0; i < SXB_NREASONS; i++)
		if (sx_client_resp_is(&r, reason_names[i]))
			reason = i;
	if (reason < 0)
		return 0;
	int deny = sx_client_resp_is(&d, "DENY");
	if (!deny && !sx_client_resp_is(&d, "ALLOW"))
		return 0;
	if (deny != (reason == SXB_R_LISTED) || (deny ? v->num < 3 : v->num != 2))
		return 0;
	while (sx_client_resp_next(v, &pos, &e))
		if (e.type != '$' || e.nil || e.len == 0)
			return 0;
	return 1;
}

static int bin_item_ok(const sx_client_item *it)
{
	if (it->kind != SXB_KIND_DECISION)
		return 0;
	int deny = it->decision == SXB_DENY;
	return deny == (it->reason == SXB_R_LISTED) && (deny ? it->n > 0 : it->n == 0);
}

/* Account for one answered request: errors, lookups, latency. */
static void account(worker *w, const slot *s, double now, uint64_t good,
                    uint64_t bad)
{
	w->errors += bad;
	if (now < g.t_meas || now >= g.t_end)
		return;
	w->requests++;
	w->lookups += good;
	double lat = now - s->t0;
	sx_hist_record(w->hist, lat > 0 ? (uint64_t)lat : 0);
}

static void drain_binary(worker *w, conn *c, double now)
{
	unsigned want = g.cmd == CMD_CHECK ? SXB_OP_CHECK_REPLY : SXB_OP_LISTED_REPLY;
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
		c->head = (c->head + 1) % (unsigned)g.depth;
		c->count--;
		uint64_t good = 0, bad = 0;
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
				if (bin_item_ok(&it))
					good++;
				else {
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
		account(w, s, now, good, bad);
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
		c->head = (c->head + 1) % (unsigned)g.depth;
		c->count--;
		uint64_t good = 0, bad = 0;
		if (v.type == '-') {
			warn("server error: %.*s", (int)v.len, v.str);
			bad = 1;
		} else if (g.cmd != CMD_CHECK) {
			if (v.type == ':' && (v.num == 0 || v.num == 1))
				good = 1;
			else
				bad = 1;
		} else if (g.batch == 1) {
			if (resp_check_ok(&v))
				good = 1;
			else
				bad = 1;
		} else if (v.type != '*' || v.nil || (uint64_t)v.num != s->n) {
			bad = 1;
		} else {
			sx_client_resp e;
			size_t pos = 0;
			while (sx_client_resp_next(&v, &pos, &e)) {
				if (resp_check_ok(&e))
					good++;
				else {
					bad++;
					if (e.type == '-')
						warn("ID error: %.*s", (int)e.len, e.str);
				}
			}
		}
		if (bad && v.type != '-' && good == 0)
			warn("unexpected reply: %.*s", (int)(v.rawlen > 120 ? 120 : v.rawlen),
			     v.raw);
		account(w, s, now, good, bad);
	}
}

/* ---- the loop ------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
	worker *w = arg;
	/* Timers as precise as the kernel allows: open-loop sends are due at
	 * fixed times, and the default 50 us slack would shift them. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	enum { MAXEV = 256 };
	struct epoll_event evs[MAXEV];
	int have_pwait2 = 1;

	pthread_barrier_wait(&g.go);
	double now = now_ns();
	for (int i = 0; i < w->nconn; i++) {
		conn *c = &w->conns[i];
		issue(w, c, now);
		flush_conn(w, c);
	}
	for (;;) {
		now = now_ns();
		if (now >= g.t_end)
			break;
		double wake = g.t_end;
		int alive = 0;
		for (int i = 0; i < w->nconn; i++) {
			conn *c = &w->conns[i];
			if (!c->alive)
				continue;
			alive++;
			if (g.rate > 0) {
				issue(w, c, now);
				flush_conn(w, c);
				if (c->alive && c->count < (unsigned)g.depth && c->next_due < wake)
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
				if (g.proto == SX_CLIENT_BINARY)
					drain_binary(w, c, t);
				else
					drain_resp(w, c, t);
			}
			if (!c->alive)
				continue;
			if (t < g.t_end)
				issue(w, c, t);
			flush_conn(w, c);
		}
	}
	return NULL;
}

/* ---- setup and report ------------------------------------------------------------ */

static void usage(FILE *f)
{
	fputs(
"usage: sxgate-bench --queries FILE [options]\n"
"  --host H             server address (default 127.0.0.1)\n"
"  --port P             default 6381 (binary), 6380 (resp), 6379 (--redis-sismember)\n"
"  --protocol binary|resp   (default binary)\n"
"  --connections N      TCP connections (default 1)\n"
"  --depth D            requests in flight per connection (default 1)\n"
"  --batch B            IDs per request: binary frame, or RESP MCHECK (default 1)\n"
"  --duration S         measured seconds (default 10)\n"
"  --warmup S           seconds run before measuring (default 0)\n"
"  --rate R             open loop: R requests/s in total, latency from the\n"
"                       intended send time (default: closed loop)\n"
"  --threads T          threads, each with its own epoll loop (default 1)\n"
"  --queries FILE       lines: id TAB type TAB channel TAB class TAB day\n"
"                       (type, class, day '-' for none), as sxgate-gen writes\n"
"  --command check|listed   (default check)\n"
"  --redis-sismember KEY    send SISMEMBER KEY id over RESP (drive redis-server)\n"
"  --tenant T --secret S    AUTH on every connection\n"
"  --timeout MS         connect and handshake timeout (default 5000)\n"
"  --json               print one JSON line of results on stdout (the summary\n"
"                       goes to stderr)\n"
"exit: 0 run completed without errors, 2 completed with errors (every reply\n"
"is checked), 1 usage error, 3 cannot connect or set up.\n", f);
}

static int parse_num(const char *opt, const char *s, double lo, double hi,
                     double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi)) {
		fprintf(stderr, "sxgate-bench: %s '%s': expected a number from %g to %g\n",
		        opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", 1, 0, 'h' }, { "port", 1, 0, 'p' }, { "protocol", 1, 0, 'P' },
		{ "connections", 1, 0, 'c' }, { "depth", 1, 0, 'd' },
		{ "batch", 1, 0, 'b' }, { "duration", 1, 0, 'D' },
		{ "warmup", 1, 0, 'w' }, { "rate", 1, 0, 'r' },
		{ "threads", 1, 0, 't' }, { "queries", 1, 0, 'q' },
		{ "command", 1, 0, 'C' }, { "redis-sismember", 1, 0, 'R' },
		{ "tenant", 1, 0, 'T' }, { "secret", 1, 0, 'S' },
		{ "timeout", 1, 0, 'o' }, { "json", 0, 0, 'j' }, { "help", 0, 0, 'H' },
		{ 0, 0, 0, 0 }
	};
	g.host = "127.0.0.1";
	g.proto = SX_CLIENT_BINARY;
	g.conns = g.depth = g.batch = g.threads = 1;
	g.duration = 10;
	g.timeout_ms = 5000;
	g.cmd = CMD_CHECK;
	int proto_set = 0, cmd_set = 0;
	double v;
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'h': g.host = optarg; break;
		case 'p':
			if (parse_num("--port", optarg, 1, 65535, &v)) return -1;
			g.port = (int)v;
			break;
		case 'P':
			proto_set = 1;
			if (!strcmp(optarg, "binary"))
				g.proto = SX_CLIENT_BINARY;
			else if (!strcmp(optarg, "resp"))
				g.proto = SX_CLIENT_RESP;
			else {
				fprintf(stderr, "sxgate-bench: --protocol '%s': expected binary or resp\n",
				        optarg);
				return -1;
			}
			break;
		case 'c':
			if (parse_num("--connections", optarg, 1, 100000, &v)) return -1;
			g.conns = (int)v;
			break;
		case 'd':
			if (parse_num("--depth", optarg, 1, 1000000, &v)) return -1;
			g.depth = (int)v;
			break;
		case 'b':
			if (parse_num("--batch", optarg, 1, 65535, &v)) return -1;
			g.batch = (int)v;
			break;
		case 'D':
			if (parse_num("--duration", optarg, 0.001, 1e7, &g.duration)) return -1;
			break;
		case 'w':
			if (parse_num("--warmup", optarg, 0, 1e7, &g.warmup)) return -1;
			break;
		case 'r':
			if (parse_num("--rate", optarg, 0.001, 1e10, &g.rate)) return -1;
			break;
		case 't':
			if (parse_num("--threads", optarg, 1, 1024, &v)) return -1;
			g.threads = (int)v;
			break;
		case 'q': g.queries = optarg; break;
		case 'C':
			cmd_set = 1;
			if (!strcmp(optarg, "check"))
				g.cmd = CMD_CHECK;
			else if (!strcmp(optarg, "listed"))
				g.cmd = CMD_LISTED;
			else {
				fprintf(stderr, "sxgate-bench: --command '%s': expected check or listed\n",
				        optarg);
				return -1;
			}
			break;
		case 'R': g.redis_key = optarg; break;
		case 'T': g.tenant = optarg; break;
		case 'S': g.secret = optarg; break;
		case 'o':
			if (parse_num("--timeout", optarg, 1, 3600000, &v)) return -1;
			g.timeout_ms = (int)v;
			break;
		case 'j': g.json = 1; break;
		case 'H': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sxgate-bench: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!g.queries) {
		fprintf(stderr, "sxgate-bench: --queries FILE is required\n");
		return -1;
	}
	if (g.redis_key) {
		if (cmd_set || (proto_set && g.proto != SX_CLIENT_RESP)) {
			fprintf(stderr, "sxgate-bench: --redis-sismember speaks RESP SISMEMBER; "
			        "it takes no --command and no --protocol binary\n");
			return -1;
		}
		g.proto = SX_CLIENT_RESP;
		g.cmd = CMD_SISMEMBER;
	}
	if (g.proto == SX_CLIENT_RESP && g.cmd != CMD_CHECK && g.batch > 1) {
		fprintf(stderr, "sxgate-bench: --batch %d: over RESP only CHECK batches "
		        "(as MCHECK); LISTED and SISMEMBER take one ID\n", g.batch);
		return -1;
	}
	if ((g.tenant != NULL) != (g.secret != NULL)) {
		fprintf(stderr, "sxgate-bench: --tenant and --secret go together\n");
		return -1;
	}
	if (!g.port)
		g.port = g.redis_key ? 6379 : g.proto == SX_CLIENT_RESP ? 6380 : 6381;
	if (g.threads > g.conns)
		g.threads = g.conns;
	return 0;
}

static const char *cmd_name(void)
{
	return g.cmd == CMD_CHECK ? (g.proto == SX_CLIENT_RESP && g.batch > 1 ? "mcheck" : "check")
	     : g.cmd == CMD_LISTED ? "listed" : "sismember";
}

int main(int argc, char **argv)
{
	if (parse_args(argc, argv))
		return 1;
	signal(SIGPIPE, SIG_IGN);
	if (load_queries(g.queries) || make_batches())
		return 3;

	worker *ws = calloc((size_t)g.threads, sizeof *ws);
	conn *cs = calloc((size_t)g.conns, sizeof *cs);
	if (!ws || !cs) {
		fprintf(stderr, "sxgate-bench: out of memory\n");
		return 3;
	}
	/* Connect everything before the clock starts. */
	for (int i = 0; i < g.conns; i++) {
		conn *c = &cs[i];
		char err[256];
		int rc = sx_client_connect(g.host, g.port, g.proto, g.timeout_ms,
		                           &c->cli, err, sizeof err);
		if (rc) {
			fprintf(stderr, "sxgate-bench: connection %d: %s\n", i, err);
			return 3;
		}
		if (!g.tenant && g.proto == SX_CLIENT_BINARY && sx_client_auth_required(c->cli)) {
			fprintf(stderr, "sxgate-bench: %s:%d requires AUTH: give --tenant and --secret\n",
			        g.host, g.port);
			return 3;
		}
		if (g.tenant && (rc = sx_client_auth(c->cli, g.tenant, g.secret))) {
			fprintf(stderr, "sxgate-bench: AUTH %s: %s\n", g.tenant,
			        sx_client_errmsg(c->cli));
			return 3;
		}
		if (g.proto == SX_CLIENT_BINARY && (unsigned)g.batch > sx_client_max_batch(c->cli)) {
			fprintf(stderr, "sxgate-bench: --batch %d exceeds the server's max_batch %u\n",
			        g.batch, sx_client_max_batch(c->cli));
			return 1;
		}
		sx_client_set_blocking(c->cli, 0);
		c->alive = 1;
		c->ring = calloc((size_t)g.depth, sizeof *c->ring);
		c->argv = malloc(((size_t)g.batch + 10) * sizeof *c->argv);
		c->alens = malloc(((size_t)g.batch + 10) * sizeof *c->alens);
		if (!c->ring || !c->argv || !c->alens) {
			fprintf(stderr, "sxgate-bench: out of memory\n");
			return 3;
		}
		/* Spread the connections over the query list. */
		c->next_batch = (size_t)((double)i * (double)g.nbatches / g.conns);
	}

	pthread_barrier_init(&g.go, NULL, (unsigned)g.threads + 1);
	int per = g.conns / g.threads, extra = g.conns % g.threads, at = 0;
	for (int t = 0; t < g.threads; t++) {
		worker *w = &ws[t];
		w->idx = t;
		w->conns = cs + at;
		w->nconn = per + (t < extra);
		at += w->nconn;
		w->hist = sx_hist_new();
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (!w->hist || w->epfd < 0) {
			fprintf(stderr, "sxgate-bench: cannot set up thread %d: %s\n", t,
			        strerror(errno));
			return 3;
		}
		for (int i = 0; i < w->nconn; i++) {
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->conns[i] };
			if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, sx_client_fd(w->conns[i].cli), &ev)) {
				fprintf(stderr, "sxgate-bench: epoll_ctl: %s\n", strerror(errno));
				return 3;
			}
		}
		if (pthread_create(&w->th, NULL, worker_main, w)) {
			fprintf(stderr, "sxgate-bench: cannot start thread %d\n", t);
			return 3;
		}
	}
	g.t_start = now_ns();
	g.t_meas = g.t_start + g.warmup * 1e9;
	g.t_end = g.t_meas + g.duration * 1e9;
	if (g.rate > 0) {
		g.interval = 1e9 * g.conns / g.rate;
		for (int i = 0; i < g.conns; i++)
			cs[i].next_due = g.t_start + g.interval * i / g.conns;
	}
	pthread_barrier_wait(&g.go);

	sx_hist *h = sx_hist_new();
	uint64_t requests = 0, lookups = 0, errors = 0, failed = 0;
	for (int t = 0; t < g.threads; t++) {
		pthread_join(ws[t].th, NULL);
		sx_hist_merge(h, ws[t].hist);
		requests += ws[t].requests;
		lookups += ws[t].lookups;
		errors += ws[t].errors;
		failed += ws[t].failed_conns;
	}
	double t_done = now_ns();
	double secs = ((t_done < g.t_end ? t_done : g.t_end) - g.t_meas) / 1e9;
	if (secs <= 0)
		secs = 0;
	for (int i = 0; i < g.conns; i++) {
		sx_client_close(cs[i].cli);
		free(cs[i].ring);
		free(cs[i].argv);
		free(cs[i].alens);
	}
	for (int t = 0; t < g.threads; t++) {
		sx_hist_free(ws[t].hist);
		close(ws[t].epfd);
	}
	free(cs);
	free(ws);

	double us = 1e-3;
	double p50 = (double)sx_hist_percentile(h, 50) * us;
	double p90 = (double)sx_hist_percentile(h, 90) * us;
	double p99 = (double)sx_hist_percentile(h, 99) * us;
	double p999 = (double)sx_hist_percentile(h, 99.9) * us;
	double pmax = (double)sx_hist_max(h) * us;
	double mean = sx_hist_mean(h) * us;
	double lps = secs > 0 ? (double)lookups / secs : 0;
	double rps = secs > 0 ? (double)requests / secs : 0;
	const char *proto = g.proto == SX_CLIENT_BINARY ? "binary" : "resp";

	FILE *out = g.json ? stderr : stdout;
	fprintf(out, "sxgate-bench: %s %s to %s:%d, %d connections x depth %d, batch %d, "
	        "%d threads, %s, %.1f s measured after %.1f s warmup\n",
	        proto, cmd_name(), g.host, g.port, g.conns, g.depth, g.batch, g.threads,
	        g.rate > 0 ? "open loop" : "closed loop", secs, g.warmup);
	if (g.rate > 0)
		fprintf(out, "  target rate  %.0f requests/s (latency from intended send time)\n",
		        g.rate);
	fprintf(out, "  lookups      %llu (%.0f/s)\n", (unsigned long long)lookups, lps);
	fprintf(out, "  requests     %llu (%.0f/s)\n", (unsigned long long)requests, rps);
	fprintf(out, "  errors       %llu%s\n", (unsigned long long)errors,
	        failed ? " (connections lost, see above)" : "");
	fprintf(out, "  latency us   p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  "
	        "mean %.1f\n", p50, p90, p99, p999, pmax, mean);
	if (g.json) {
		printf("{\"lookups_per_s\":%.1f,\"requests_per_s\":%.1f,"
		       "\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
		       "\"max_us\":%.1f,\"mean_us\":%.1f,\"errors\":%llu,\"requests\":%llu,"
		       "\"lookups\":%llu,\"protocol\":\"%s\",\"command\":\"%s\","
		       "\"connections\":%d,\"depth\":%d,\"batch\":%d,\"threads\":%d,"
		       "\"duration_s\":%.3f,\"warmup_s\":%.3f,\"mode\":\"%s\",\"rate\":%.1f,"
		       "\"failed_connections\":%llu}\n",
		       lps, rps, p50, p90, p99, p999, pmax, mean,
		       (unsigned long long)errors, (unsigned long long)requests,
		       (unsigned long long)lookups, proto, cmd_name(), g.conns, g.depth,
		       g.batch, g.threads, secs, g.warmup, g.rate > 0 ? "open" : "closed",
		       g.rate, (unsigned long long)failed);
		fflush(stdout);
	}
	sx_hist_free(h);
	free(g.batches);
	free(g.ids);
	free(g.idlens);
	free(g.q);
	free(g.text);
	return errors ? 2 : 0;
}
