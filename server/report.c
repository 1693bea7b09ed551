/*
 * report.c - INFO and /metrics text (see report.h).
 *
 * Both are built from one merged snapshot of the counters, so a report is
 * self-consistent up to the few requests that race with the reading; the
 * text goes into a growing buffer that the caller frees (reports are
 * administrative, so this path allocates freely).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "ctx.h"
#include "health.h"
#include "journal.h"
#include "live.h"
#include "report.h"
#include "server_int.h"
#include "stats.h"
#include "tls.h"

typedef struct sbuf {
	char *p;
	size_t n, cap;
} sbuf;

__attribute__((format(printf, 2, 3)))
static void sb_printf(sbuf *b, const char *fmt, ...)
{
	if (!b->p) {                 /* no NULL + 0 below: start with a buffer */
		if (!(b->p = malloc(4096)))
			abort();
		b->cap = 4096;
	}
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int m = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		if (m < 0)
			return;
		if ((size_t)m < b->cap - b->n) {
			b->n += (size_t)m;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap - b->n <= (size_t)m)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			abort();
		b->p = p;
		b->cap = cap;
	}
}

size_t sx_report_rss(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	unsigned long size = 0, rss = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * (size_t)sysconf(_SC_PAGESIZE);
}

static void fmt_time(int64_t t, char *buf)
{
	if (t == SX_AS_OF_NONE || t == 0)
		strcpy(buf, "none");
	else
		sx_time_format(t, buf);
}

static void human(uint64_t v, char *buf, size_t cap)
{
	const char *unit = "KMGT";
	double d = (double)v;
	if (d < 1024) {
		snprintf(buf, cap, "%lluB", (unsigned long long)v);
		return;
	}
	int u = -1;
	while (d >= 1024 && u < 3) {
		d /= 1024;
		u++;
	}
	snprintf(buf, cap, "%.2f%c", d, unit[u]);
}

typedef struct totals {
	sx_stats st;
	int clients;
	uint64_t auth_ok, auth_failed, auth_limited;
	int64_t last_reload;
	uint64_t reloads_ok, reloads_failed;
	char last_error[512];
} totals;

static totals *gather(sx_srv *s)
{
	totals *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	for (int i = 0; i < s->nworkers; i++)
		sx_stats_merge(&t->st, &s->ctx[i]->stats);
	t->clients = atomic_load(&s->nclients);
	if (s->tenants)
		sx_tenants_counts(s->tenants, &t->auth_ok, &t->auth_failed, &t->auth_limited);
	pthread_mutex_lock(&s->status_lock);
	t->last_reload = s->snap_reload.last;
	t->reloads_ok = s->snap_reload.ok;
	t->reloads_failed = s->snap_reload.failed;
	memcpy(t->last_error, s->snap_reload.error, sizeof t->last_error);
	pthread_mutex_unlock(&s->status_lock);
	return t;
}

/* Command names from the table's X-macro; [SX_NCMDS] counts unknown ones. */
static const char *const cmd_names[SX_NCMDS + 1] = {
#define X(e, name, arity, flags, fn) name,
	SX_COMMANDS(X)
#undef X
	"unknown"
};

static const char *const bin_op_names[SX_NBINOPS] = {
#define X(e, name) name,
	SX_BINOPS(X)
#undef X
};

/* ---- INFO --------------------------------------------------------------- */

static void sec_server(sbuf *b, sx_srv *s, totals *t)
{
	(void)t;
	sb_printf(b, "# Server\r\n"
	          "sxgated_version:%s\r\n"
	          "process_id:%ld\r\n"
	          "io_backend:%s\r\n"
	          "io_mode:%s\r\n"
	          "io_threads:%d\r\n"
	          "bind:%s\r\n"
	          "tcp_port_resp:%d\r\n"
	          "tcp_port_bin:%d\r\n"
	          "http_port:%d\r\n"
	          "metrics_port:%d\r\n"
	          "uptime_in_seconds:%lld\r\n"
	          "tenants:%zu\r\n"
	          "live_updates:%s\r\n"
	          "proxy_protocol:%s\r\n",
	          SX_SRV_VERSION, (long)getpid(), s->io_name, s->io_desc, s->nworkers,
	          s->cfg.bind, s->cfg.resp_port, s->cfg.bin_port, s->cfg.http_port,
	          s->cfg.http_port,
	          (long long)(sx_mono_s() - s->started_mono),
	          s->tenants ? sx_tenants_count(s->tenants) : 0,
	          s->follow ? "following the stream" :
	          s->journal ? "on (journal)" : "off (no --journal)",
	          s->cfg.proxy_protocol ? "on" : "off");
	if (!s->tls) {
		sb_printf(b, "tls:off\r\n\r\n");
		return;
	}
	char cert[512], last[40];
	sx_tls_server_describe(s->tls, cert, sizeof cert);
	pthread_mutex_lock(&s->status_lock);
	fmt_time(s->tls_reload.last, last);
	uint64_t ok = s->tls_reload.ok, failed = s->tls_reload.failed;
	char err[512];
	snprintf(err, sizeof err, "%s", s->tls_reload.error[0] ? s->tls_reload.error :
	         "none");
	pthread_mutex_unlock(&s->status_lock);
	sb_printf(b, "tls:on\r\ntls_port_resp:%d\r\ntls_port_bin:%d\r\ntls_port_http:%d\r\n"
	          "tls_certificate:%s\r\ntls_client_auth:%s\r\ntls_last_reload:%s\r\n"
	          "tls_last_reload_error:%s\r\ntls_reloads_ok:%llu\r\ntls_reloads_failed:%llu\r\n"
	          "\r\n", s->cfg.tls_resp_port, s->cfg.tls_bin_port, s->cfg.tls_http_port, cert,
	          s->cfg.tls_client_auth == SX_TLS_CLIENT_REQUIRED ? "required" :
	          s->cfg.tls_client_auth == SX_TLS_CLIENT_OPTIONAL ? "optional" : "none",
	          last, err, (unsigned long long)ok, (unsigned long long)failed);
}

/* The soft RLIMIT_NOFILE: every client is a descriptor (main.c raises it
 * for --max-clients as far as the hard limit allows). */
static long long open_files_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	return rl.rlim_cur == RLIM_INFINITY ? -1 : (long long)rl.rlim_cur;
}

static void sec_clients(sbuf *b, sx_srv *s, totals *t)
{
	sb_printf(b, "# Clients\r\n"
	          "connected_clients:%d\r\n"
	          "max_clients:%d\r\n"
	          "open_files_limit:%lld\r\n"
	          "total_connections_received:%llu\r\n"
	          "rejected_connections:%llu\r\n"
	          "idle_timeout:%d\r\n"
	          "request_timeout:%d\r\n"
	          "max_output_bytes:%zu\r\n"
	          "\r\n",
	          t->clients, s->cfg.max_clients, open_files_limit(),
	          (unsigned long long)t->st.accepted, (unsigned long long)t->st.rejected,
	          s->cfg.idle_timeout, s->cfg.request_timeout, s->cfg.max_output);
}

static void sec_snapshot(sbuf *b, sx_srv *s, const sx_served *cur, totals *t)
{
	(void)s;
	const sx_snap_info *in = cur->info;
	char asof[40], built[40], loaded[40], last[40];
	fmt_time(in->as_of, asof);
	fmt_time(in->built_at, built);
	fmt_time(cur->loaded_at, loaded);
	fmt_time(t->last_reload, last);
	sb_printf(b, "# Snapshot\r\n"
	          "snapshot_generation:%llu\r\n"
	          "snapshot_path:%s\r\n"
	          "snapshot_as_of:%s\r\n"
	          "snapshot_built_at:%s\r\n"
	          "snapshot_loaded_at:%s\r\n"
	          "snapshot_verify_ms:%u\r\n"
	          "snapshot_records:%llu\r\n"
	          "snapshot_ids:%llu\r\n"
	          "snapshot_keys:%llu\r\n"
	          "snapshot_permits:%llu\r\n"
	          "snapshot_cases:%llu\r\n"
	          "snapshot_file_bytes:%llu\r\n"
	          "last_reload:%s\r\n"
	          "last_reload_error:%s\r\n"
	          "reloads_ok:%llu\r\n"
	          "reloads_failed:%llu\r\n"
	          "\r\n",
	          (unsigned long long)cur->snap_gen, cur->path, asof, built, loaded, cur->verify_ms,
	          (unsigned long long)in->records, (unsigned long long)in->ids,
	          (unsigned long long)in->keys, (unsigned long long)in->permits,
	          (unsigned long long)in->cases, (unsigned long long)in->file_bytes,
	          last, t->last_error[0] ? t->last_error : "none",
	          (unsigned long long)t->reloads_ok, (unsigned long long)t->reloads_failed);
}

static void sec_stats(sbuf *b, totals *t)
{
	const sx_stats *st = &t->st;
	sb_printf(b, "# Stats\r\n"
	          "total_commands_processed:%llu\r\n",
	          (unsigned long long)st->commands);
	for (int i = 0; i <= SX_NCMDS; i++)
		sb_printf(b, "cmdstat_%s:calls=%llu\r\n", cmd_names[i],
		          (unsigned long long)st->per_cmd[i]);
	for (int i = 0; i < SX_NBINOPS; i++)
		sb_printf(b, "binstat_%s:frames=%llu\r\n", bin_op_names[i],
		          (unsigned long long)st->per_binop[i]);
	sb_printf(b, "tls_handshakes:%llu\r\ntls_errors:%llu\r\n",
	          (unsigned long long)st->tls_handshakes, (unsigned long long)st->tls_errors);
	sb_printf(b, "proxy_headers:%llu\r\nproxy_refused_untrusted:%llu\r\n"
	          "proxy_refused_malformed:%llu\r\nproxy_refused_timeout:%llu\r\n"
	          "proxy_refused_incomplete:%llu\r\n",
	          (unsigned long long)st->proxy_headers, (unsigned long long)st->proxy_untrusted,
	          (unsigned long long)st->proxy_malformed, (unsigned long long)st->proxy_timeout,
	          (unsigned long long)st->proxy_incomplete);
	sb_printf(b, "mcheck_ids:%llu\r\nbinary_ids:%llu\r\nhttp_requests:%llu\r\n",
	          (unsigned long long)st->mcheck_ids, (unsigned long long)st->bin_ids,
	          (unsigned long long)st->http_requests);
	for (int r = 0; r < SX_NREASONS; r++)
		sb_printf(b, "decisions_%s:%llu\r\n", sx_reason_key(r),
		          (unsigned long long)st->decisions[r]);
	for (int ch = 0; ch < SX_NCODES; ch++)
		sb_printf(b, "decisions_channel_%s:%llu\r\n", sx_channel_name(ch),
		          (unsigned long long)st->per_channel[ch]);
	sb_printf(b, "query_errors:%llu\r\n"
	          "protocol_errors:%llu\r\n"
	          "output_cap_disconnects:%llu\r\n"
	          "idle_disconnects:%llu\r\n"
	          "request_timeout_disconnects:%llu\r\n"
	          "auth_timeout_disconnects:%llu\r\n"
	          "accept_errors:%llu\r\n"
	          "noauth_errors:%llu\r\n"
	          "noperm_errors:%llu\r\n"
	          "max_batch_refusals:%llu\r\n"
	          "max_conns_refusals:%llu\r\n"
	          "metrics_unauthorized:%llu\r\n"
	          "metrics_forbidden:%llu\r\n"
	          "auth_ok:%llu\r\n"
	          "auth_failed:%llu\r\n"
	          "auth_rate_limited:%llu\r\n"
	          "total_net_input_bytes:%llu\r\n"
	          "total_net_output_bytes:%llu\r\n"
	          "io_recv_nobufs:%llu\r\n"
	          "\r\n",
	          (unsigned long long)st->query_errors, (unsigned long long)st->proto_errors,
	          (unsigned long long)st->outcap_kills, (unsigned long long)st->idle_kills,
	          (unsigned long long)st->reqtimeout_kills,
	          (unsigned long long)st->authtimeout_kills, (unsigned long long)st->accept_errors,
	          (unsigned long long)st->noauth, (unsigned long long)st->noperm,
	          (unsigned long long)st->batch_refused, (unsigned long long)st->conns_refused,
	          (unsigned long long)st->metrics_unauthorized,
	          (unsigned long long)st->metrics_forbidden,
	          (unsigned long long)t->auth_ok, (unsigned long long)t->auth_failed,
	          (unsigned long long)t->auth_limited,
	          (unsigned long long)st->bytes_in, (unsigned long long)st->bytes_out,
	          (unsigned long long)st->recv_nobufs);
}

static uint64_t lat_samples(const sx_stats *st)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < SX_LAT_NB; i++)
		n += st->lat[i];
	return n;
}

static void sec_latency(sbuf *b, totals *t)
{
	sb_printf(b, "# Latency\r\n"
	          "latency_samples:%llu\r\n"
	          "latency_p50_us:%.3f\r\n"
	          "latency_p99_us:%.3f\r\n"
	          "latency_p999_us:%.3f\r\n"
	          "\r\n",
	          (unsigned long long)lat_samples(&t->st),
	          (double)sx_stats_quantile(&t->st, 0.5) / 1000.0,
	          (double)sx_stats_quantile(&t->st, 0.99) / 1000.0,
	          (double)sx_stats_quantile(&t->st, 0.999) / 1000.0);
}

static void sec_memory(sbuf *b, const sx_served *cur)
{
	char h1[32], h2[32];
	size_t rss = sx_report_rss();
	human(rss, h1, sizeof h1);
	human(cur->info->file_bytes, h2, sizeof h2);
	sb_printf(b, "# Memory\r\n"
	          "used_memory_rss:%zu\r\n"
	          "used_memory_rss_human:%s\r\n"
	          "snapshot_mapped_bytes:%llu\r\n"
	          "snapshot_mapped_human:%s\r\n"
	          "\r\n",
	          rss, h1, (unsigned long long)cur->info->file_bytes, h2);
}

enum { SEC_SERVER = 1, SEC_CLIENTS = 2, SEC_SNAPSHOT = 4, SEC_STATS = 8,
       SEC_LATENCY = 16, SEC_MEMORY = 32, SEC_LIVE = 64, SEC_ALL = 127 };

static unsigned section_bit(sx_str s)
{
	static const struct { const char *name; unsigned bit; } secs[] = {
		{ "server", SEC_SERVER }, { "clients", SEC_CLIENTS },
		{ "snapshot", SEC_SNAPSHOT }, { "stats", SEC_STATS },
		{ "latency", SEC_LATENCY }, { "memory", SEC_MEMORY },
		{ "live", SEC_LIVE },
		{ "all", SEC_ALL }, { "default", SEC_ALL }, { "everything", SEC_ALL },
	};
	for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++)
		if (strlen(secs[i].name) == s.n && !strncasecmp(secs[i].name, s.p, s.n))
			return secs[i].bit;
	return 0;
}

/*
 * INFO for a tenant that is not admin: what a booking system needs to know
 * about the list it is answered from (its generation, as-of, build time
 * and size) and the memory, nothing else.  A list of what is shown, not of
 * what is hidden, so a line added to the full INFO stays an admin's until
 * someone adds it here on purpose: no path (snapshot, journal, feedback),
 * no PID, no address or port, no URL, no error text, no other tenant's
 * traffic (docs/SERVER.md, "What each tenant can see").
 */
static void info_tenant(sbuf *b, sx_srv *s, const sx_served *cur, unsigned want)
{
	if (want & SEC_SERVER)
		sb_printf(b, "# Server\r\n"
		          "info_view:tenant (admin tenants see more)\r\n"
		          "uptime_in_seconds:%lld\r\n"
		          "\r\n", (long long)(sx_mono_s() - s->started_mono));
	if (want & SEC_SNAPSHOT) {
		const sx_snap_info *in = cur->info;
		char asof[40], built[40], loaded[40];
		fmt_time(in->as_of, asof);
		fmt_time(in->built_at, built);
		fmt_time(cur->loaded_at, loaded);
		sb_printf(b, "# Snapshot\r\n"
		          "snapshot_generation:%llu\r\n"
		          "snapshot_as_of:%s\r\n"
		          "snapshot_built_at:%s\r\n"
		          "snapshot_loaded_at:%s\r\n"
		          "snapshot_records:%llu\r\n"
		          "snapshot_ids:%llu\r\n"
		          "snapshot_keys:%llu\r\n"
		          "snapshot_permits:%llu\r\n"
		          "snapshot_cases:%llu\r\n"
		          "updates_in_force:%llu\r\n"
		          "\r\n",
		          (unsigned long long)cur->snap_gen, asof, built, loaded,
		          (unsigned long long)in->records, (unsigned long long)in->ids,
		          (unsigned long long)in->keys, (unsigned long long)in->permits,
		          (unsigned long long)in->cases, (unsigned long long)cur->updates);
	}
	if (want & SEC_MEMORY)
		sec_memory(b, cur);
}

char *sx_report_info(sx_srv *s, const sx_served *cur, const sx_str *sections,
                     size_t nsec, int full, size_t *n)
{
	unsigned want = nsec ? 0 : SEC_ALL;
	for (size_t i = 0; i < nsec; i++)
		want |= section_bit(sections[i]);
	sbuf b = { 0 };
	sb_printf(&b, "%s", "");
	if (!full) {
		info_tenant(&b, s, cur, want);
		if (b.n >= 2)
			b.n -= 2;
		*n = b.n;
		return b.p;
	}
	totals *t = gather(s);
	if (want & SEC_SERVER) sec_server(&b, s, t);
	if (want & SEC_CLIENTS) sec_clients(&b, s, t);
	if (want & SEC_SNAPSHOT) sec_snapshot(&b, s, cur, t);
	if (want & SEC_STATS) sec_stats(&b, t);
	if (want & SEC_LATENCY) sec_latency(&b, t);
	if (want & SEC_MEMORY) sec_memory(&b, cur);
	if (want & SEC_LIVE) {
		char live[4096];
		sx_live_info(s, live, sizeof live);
		sb_printf(&b, "%s\r\n", live);
	}
	if (b.n >= 2)
		b.n -= 2;            /* no blank line after the last section */
	free(t);
	*n = b.n;
	return b.p;
}

/* ---- Prometheus ---------------------------------------------------------- */

static void metric(sbuf *b, const char *name, const char *type, const char *help)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * Command latency as a Prometheus histogram.  The bounds are fixed (1-2-5
 * per decade from 1 us to 10 s), so every scrape and every server has the
 * same series; each is summed from the log-linear buckets lying wholly
 * below it (stats.h sx_stats_cumulative).  Quantiles stay in INFO.
 */
static void latency_histogram(sbuf *b, const sx_stats *st)
{
	static const uint64_t le_ns[] = {
		1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000,
		1000000, 2000000, 5000000, 10000000, 20000000, 50000000,
		100000000, 200000000, 500000000, 1000000000, 2000000000,
		5000000000, 10000000000,
	};
	enum { NLE = sizeof le_ns / sizeof le_ns[0] };
	uint64_t cum[NLE];
	uint64_t count = sx_stats_cumulative(st, le_ns, NLE, cum);
	metric(b, "sxgate_command_latency_seconds", "histogram",
	       "Command handling time (RESP commands and binary frames)");
	for (size_t i = 0; i < NLE; i++)
		sb_printf(b, "sxgate_command_latency_seconds_bucket{le=\"%g\"} %llu\n",
		          (double)le_ns[i] / 1e9, (unsigned long long)cum[i]);
	sb_printf(b, "sxgate_command_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
	          "sxgate_command_latency_seconds_sum %.9f\n"
	          "sxgate_command_latency_seconds_count %llu\n",
	          (unsigned long long)count, (double)st->lat_sum_ns / 1e9,
	          (unsigned long long)count);
}

char *sx_report_metrics(sx_srv *s, const sx_served *cur, size_t *n)
{
	totals *t = gather(s);
	const sx_stats *st = &t->st;
	sbuf b = { 0 };

	char why[320];
	metric(&b, "sxgate_up", "gauge",
	       "1 when /health answers 200: a snapshot is served, the update feed (if any) "
	       "is connected within --max-lag and the server is not draining; else 0");
	sb_printf(&b, "sxgate_up %d\n", sx_srv_health(s, cur, why, sizeof why));
	metric(&b, "sxgate_uptime_seconds", "gauge", "Seconds since start");
	sb_printf(&b, "sxgate_uptime_seconds %lld\n", (long long)(sx_mono_s() - s->started_mono));
	metric(&b, "sxgate_snapshot_generation", "gauge", "Generation of the serving snapshot");
	sb_printf(&b, "sxgate_snapshot_generation %llu\n", (unsigned long long)cur->snap_gen);
	metric(&b, "sxgate_snapshot_records", "gauge", "Records in the serving snapshot");
	sb_printf(&b, "sxgate_snapshot_records %llu\n", (unsigned long long)cur->info->records);
	metric(&b, "sxgate_snapshot_ids", "gauge", "Distinct IDs in the serving snapshot");
	sb_printf(&b, "sxgate_snapshot_ids %llu\n", (unsigned long long)cur->info->ids);
	metric(&b, "sxgate_snapshot_built_timestamp_seconds", "gauge", "Build time of the serving snapshot");
	sb_printf(&b, "sxgate_snapshot_built_timestamp_seconds %lld\n", (long long)cur->info->built_at);
	if (cur->info->as_of != SX_AS_OF_NONE) {
		metric(&b, "sxgate_snapshot_as_of_timestamp_seconds", "gauge", "As-of time of the serving snapshot");
		sb_printf(&b, "sxgate_snapshot_as_of_timestamp_seconds %lld\n", (long long)cur->info->as_of);
	}
	metric(&b, "sxgate_snapshot_mapped_bytes", "gauge", "Bytes of the mapped snapshot");
	sb_printf(&b, "sxgate_snapshot_mapped_bytes %llu\n", (unsigned long long)cur->info->file_bytes);
	metric(&b, "sxgate_reloads_total", "counter", "Snapshot reloads by result");
	sb_printf(&b, "sxgate_reloads_total{result=\"ok\"} %llu\n", (unsigned long long)t->reloads_ok);
	sb_printf(&b, "sxgate_reloads_total{result=\"failed\"} %llu\n", (unsigned long long)t->reloads_failed);

	metric(&b, "sxgate_connected_clients", "gauge", "Open client connections");
	sb_printf(&b, "sxgate_connected_clients %d\n", t->clients);
	metric(&b, "sxgate_max_clients", "gauge", "Connection limit");
	sb_printf(&b, "sxgate_max_clients %d\n", s->cfg.max_clients);
	metric(&b, "sxgate_open_files_limit", "gauge", "Descriptor limit (RLIMIT_NOFILE); each client takes one");
	sb_printf(&b, "sxgate_open_files_limit %lld\n", open_files_limit());
	metric(&b, "sxgate_connections_total", "counter", "Connections accepted");
	sb_printf(&b, "sxgate_connections_total %llu\n", (unsigned long long)st->accepted);
	metric(&b, "sxgate_rejected_connections_total", "counter", "Connections refused over the limit");
	sb_printf(&b, "sxgate_rejected_connections_total %llu\n", (unsigned long long)st->rejected);

	metric(&b, "sxgate_commands_total", "counter", "RESP commands (and EXEC) by command");
	for (int i = 0; i <= SX_NCMDS; i++)
		sb_printf(&b, "sxgate_commands_total{command=\"%s\"} %llu\n", cmd_names[i],
		          (unsigned long long)st->per_cmd[i]);
	metric(&b, "sxgate_binary_frames_total", "counter", "Binary protocol frames by op");
	for (int i = 0; i < SX_NBINOPS; i++)
		sb_printf(&b, "sxgate_binary_frames_total{op=\"%s\"} %llu\n", bin_op_names[i],
		          (unsigned long long)st->per_binop[i]);
	metric(&b, "sxgate_decisions_total", "counter", "Decisions by outcome (decision and reason)");
	for (int r = 0; r < SX_NREASONS; r++)
		sb_printf(&b, "sxgate_decisions_total{decision=\"%s\",reason=\"%s\"} %llu\n",
		          sx_reason_decision(r), sx_reason_name(r),
		          (unsigned long long)st->decisions[r]);
	metric(&b, "sxgate_channel_decisions_total", "counter", "Decisions by channel");
	for (int ch = 0; ch < SX_NCODES; ch++)
		sb_printf(&b, "sxgate_channel_decisions_total{channel=\"%s\"} %llu\n",
		          sx_channel_name(ch), (unsigned long long)st->per_channel[ch]);

#define COUNTER(mname, help, v) do { \
		metric(&b, mname, "counter", help); \
		sb_printf(&b, mname " %llu\n", (unsigned long long)(v)); \
	} while (0)
	COUNTER("sxgate_query_errors_total", "Queries answered with an error", st->query_errors);
	COUNTER("sxgate_protocol_errors_total", "Connections closed for a protocol error", st->proto_errors);
	COUNTER("sxgate_output_cap_disconnects_total", "Clients cut off for not reading their replies", st->outcap_kills);
	COUNTER("sxgate_idle_disconnects_total", "Clients closed after the idle timeout", st->idle_kills);
	COUNTER("sxgate_request_timeout_disconnects_total",
	        "Clients closed for a request left incomplete past the request timeout",
	        st->reqtimeout_kills);
	COUNTER("sxgate_auth_timeout_disconnects_total",
	        "Clients closed for not authenticating within the AUTH timeout",
	        st->authtimeout_kills);
	COUNTER("sxgate_accept_errors_total",
	        "Failed accepts (out of descriptors or memory): clients left waiting", st->accept_errors);
	COUNTER("sxgate_noauth_errors_total", "Requests refused before AUTH", st->noauth);
	COUNTER("sxgate_noperm_errors_total", "Requests refused by tenant permissions", st->noperm);
	COUNTER("sxgate_net_input_bytes_total", "Bytes received", st->bytes_in);
	COUNTER("sxgate_net_output_bytes_total", "Bytes sent", st->bytes_out);
	COUNTER("sxgate_recv_nobufs_total", "io_uring receives that found the buffer ring empty", st->recv_nobufs);
	COUNTER("sxgate_http_requests_total", "HTTP requests answered (/health, /metrics)", st->http_requests);
	COUNTER("sxgate_tls_handshakes_total", "TLS handshakes completed", st->tls_handshakes);
	COUNTER("sxgate_tls_errors_total",
	        "TLS connections cut for a failed handshake or a bad record", st->tls_errors);
#undef COUNTER
	metric(&b, "sxgate_proxy_headers_total", "counter",
	       "PROXY protocol headers accepted (--proxy-protocol)");
	sb_printf(&b, "sxgate_proxy_headers_total %llu\n", (unsigned long long)st->proxy_headers);
	metric(&b, "sxgate_proxy_refused_total", "counter",
	       "Connections cut for their PROXY protocol header, by reason");
	sb_printf(&b, "sxgate_proxy_refused_total{reason=\"untrusted\"} %llu\n"
	          "sxgate_proxy_refused_total{reason=\"malformed\"} %llu\n"
	          "sxgate_proxy_refused_total{reason=\"timeout\"} %llu\n"
	          "sxgate_proxy_refused_total{reason=\"incomplete\"} %llu\n",
	          (unsigned long long)st->proxy_untrusted, (unsigned long long)st->proxy_malformed,
	          (unsigned long long)st->proxy_timeout, (unsigned long long)st->proxy_incomplete);
	metric(&b, "sxgate_tenant_limit_refusals_total", "counter",
	       "Requests refused by a tenant's limit: max_batch (IDs in one batch), "
	       "max_conns (AUTH or client certificate over its connections)");
	sb_printf(&b, "sxgate_tenant_limit_refusals_total{limit=\"max_batch\"} %llu\n",
	          (unsigned long long)st->batch_refused);
	sb_printf(&b, "sxgate_tenant_limit_refusals_total{limit=\"max_conns\"} %llu\n",
	          (unsigned long long)st->conns_refused);
	metric(&b, "sxgate_metrics_refusals_total", "counter",
	       "GET /metrics, / or /v1/stats refused: 401 no or wrong credentials, 403 a tenant not allowed");
	sb_printf(&b, "sxgate_metrics_refusals_total{status=\"401\"} %llu\n",
	          (unsigned long long)st->metrics_unauthorized);
	sb_printf(&b, "sxgate_metrics_refusals_total{status=\"403\"} %llu\n",
	          (unsigned long long)st->metrics_forbidden);
	metric(&b, "sxgate_auth_total", "counter", "AUTH attempts by result");
	sb_printf(&b, "sxgate_auth_total{result=\"ok\"} %llu\n", (unsigned long long)t->auth_ok);
	sb_printf(&b, "sxgate_auth_total{result=\"failed\"} %llu\n", (unsigned long long)t->auth_failed);
	sb_printf(&b, "sxgate_auth_total{result=\"rate_limited\"} %llu\n", (unsigned long long)t->auth_limited);

	/* For deploy/prometheus/alerts.yml: journal write errors (each an
	 * update refused as not durable) and the lag /health tolerates, so an
	 * alert compares the feed's lag with this replica's own --max-lag. */
	if (s->journal) {
		sx_journal_stats js;
		sx_journal_get_stats(s->journal, &js);
		metric(&b, "sxgate_journal_errors_total", "counter",
		       "Journal appends that failed (write or fdatasync): the update was refused");
		sb_printf(&b, "sxgate_journal_errors_total %llu\n", (unsigned long long)js.errors);
	}
	if (s->cfg.updates_from) {
		metric(&b, "sxgate_stream_max_lag_seconds", "gauge",
		       "Feed lag /health tolerates (--max-lag)");
		sb_printf(&b, "sxgate_stream_max_lag_seconds %d\n", s->cfg.max_lag);
	}

	latency_histogram(&b, st);
	metric(&b, "sxgate_resident_memory_bytes", "gauge", "Resident set size");
	sb_printf(&b, "sxgate_resident_memory_bytes %zu\n", sx_report_rss());
	{
		char live[8192];
		sx_live_metrics(s, live, sizeof live);
		sb_printf(&b, "%s", live);
	}
	free(t);
	*n = b.n;
	return b.p;
}
