/*
 * status.c - the gate's state for the status page and /v1/stats (see
 * status.h): the one-a-second history of the decision counters, and what
 * is shown, gathered once as labelled rows plus the chart's series.
 *
 * Both the page and the JSON are made from one gathered `view`, so they
 * never disagree: each row has an id, a label, its text and a tone (ok,
 * warn, bad); the page renders the rows as tables (status_page.c), the
 * JSON carries them in "view" beside the machine-readable fields, and the
 * page's script only copies view texts into the elements of those ids and
 * redraws the chart.  Formatting lives here, in C, once.
 *
 * Building a view allocates (the caller frees): these are administrative
 * requests, one every few seconds per open page.
 */
#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctx.h"
#include "feedback.h"
#include "follow.h"
#include "health.h"
#include "json.h"
#include "qsbr.h"
#include "server_int.h"
#include "stats.h"
#include "status.h"
#include "status_int.h"
#include "tls.h"

#define RING (SX_STATUS_WINDOW + 1)

typedef struct sample {
	int64_t mono, unix_s;
	uint64_t c[SX_ST_NC];          /* decisions by reason, then query errors */
} sample;

struct sx_status_hist {
	pthread_mutex_t lock;
	int64_t last;                  /* monotonic second of the newest sample */
	size_t head, n;                /* next slot; samples held */
	sample ring[RING];
};

sx_status_hist *sx_status_hist_new(void)
{
	sx_status_hist *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	pthread_mutex_init(&h->lock, NULL);
	h->last = -1;
	return h;
}

void sx_status_hist_free(sx_status_hist *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* The counters summed over the workers (relaxed loads, stats.h). */
static void sum_counters(sx_srv *s, uint64_t *c)
{
	memset(c, 0, SX_ST_NC * sizeof *c);
	for (int i = 0; i < s->nworkers; i++) {
		if (!s->ctx || !s->ctx[i])
			continue;
		const sx_stats *st = &s->ctx[i]->stats;
		for (int r = 0; r < SX_NREASONS; r++)
			c[r] += __atomic_load_n(&st->decisions[r], __ATOMIC_RELAXED);
		c[SX_ST_ERRORS] += __atomic_load_n(&st->query_errors, __ATOMIC_RELAXED);
	}
}

static void offer(sx_srv *s, int64_t now, int wait)
{
	sx_status_hist *h = s->hist;
	if (!h)
		return;
	if (wait)
		pthread_mutex_lock(&h->lock);
	else if (pthread_mutex_trylock(&h->lock))
		return;
	if (now > h->last) {
		/* summed under the lock: samples are in order and never go back */
		sample *p = &h->ring[h->head];
		p->mono = now;
		p->unix_s = (int64_t)time(NULL);
		sum_counters(s, p->c);
		h->last = now;
		h->head = (h->head + 1) % RING;
		if (h->n < RING)
			h->n++;
	}
	pthread_mutex_unlock(&h->lock);
}

void sx_status_tick(sx_srv *s, int64_t now)
{
	offer(s, now, 0);
}

/* ---- the view ------------------------------------------------------------ */

static const char *const tone_names[] = { "", "ok", "warn", "bad" };

const char *sx_st_tone_name(int tone)
{
	return tone_names[tone & 3];
}

const char *sx_st_key(int k)
{
	return k == SX_ST_LOOKUPS ? "lookups" : k == SX_ST_K_ERRORS ? "errors" :
	       sx_reason_key(k - 1);
}

__attribute__((format(printf, 6, 7)))
static void row(sx_st_view *v, int sec, const char *id, const char *label, int tone,
                const char *fmt, ...)
{
	if (v->nrows >= SX_ST_MAX_ROWS)
		return;
	sx_st_row *r = &v->rows[v->nrows++];
	r->sec = sec;
	r->id = id;
	r->label = label;
	r->tone = tone;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof r->text, fmt, ap);
	va_end(ap);
}

static void fmt_time(int64_t t, char *buf)
{
	if (t == SX_AS_OF_NONE || t == 0)
		strcpy(buf, "none");
	else
		sx_time_format(t, buf);
}

/* 1, 2, 4, 5 or 8 times a power of ten, at least v (and at least 1):
 * the chart's top, whose half is a round number too. */
static double nice_ceil(double v)
{
	static const double steps[] = { 1, 2, 4, 5, 8 };
	if (v <= 1)
		return 1;
	double p = pow(10, floor(log10(v)));
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (p * steps[i] >= v)
			return p * steps[i];
	return 10 * p;
}

/* The chart's series from the history: rates between consecutive samples
 * of the last SX_STATUS_WINDOW seconds. */
static void series(sx_srv *s, sx_st_view *v)
{
	sx_status_hist *h = s->hist;
	if (!h)
		return;
	sample *cp = malloc(RING * sizeof *cp);
	if (!cp)
		return;
	pthread_mutex_lock(&h->lock);
	size_t n = h->n;
	for (size_t i = 0; i < n; i++)
		cp[i] = h->ring[(h->head + RING - n + i) % RING];
	pthread_mutex_unlock(&h->lock);
	size_t first = 0;
	while (first + 1 < n && cp[n - 1].mono - cp[first].mono > SX_STATUS_WINDOW)
		first++;
	double max = 0;
	uint64_t recent[SX_ST_NK] = { 0 };
	int64_t recent_dt = 0;
	for (size_t i = first + 1; i < n; i++) {
		const sample *a = &cp[i - 1], *b = &cp[i];
		double dt = (double)(b->mono - a->mono);
		size_t k = v->npoints++;
		uint64_t d[SX_ST_NK] = { 0 };
		for (int r = 0; r < SX_NREASONS; r++) {
			d[1 + r] = b->c[r] - a->c[r];
			d[SX_ST_LOOKUPS] += d[1 + r];
		}
		d[SX_ST_K_ERRORS] = b->c[SX_ST_ERRORS] - a->c[SX_ST_ERRORS];
		v->t[k] = b->unix_s;
		for (int j = 0; j < SX_ST_NK; j++) {
			v->rate[j][k] = (double)d[j] / dt;
			v->win[j] += d[j];
			if (cp[n - 1].mono - b->mono < 10)
				recent[j] += d[j];
		}
		if (cp[n - 1].mono - b->mono < 10)
			recent_dt += b->mono - a->mono;
		if (v->rate[SX_ST_LOOKUPS][k] > max)
			max = v->rate[SX_ST_LOOKUPS][k];
	}
	v->ymax = nice_ceil(max);
	for (int j = 0; j < SX_ST_NK; j++)
		v->now[j] = recent_dt ? (double)recent[j] / (double)recent_dt : 0;
	free(cp);
}

static void sec_server(sx_srv *s, const sx_served *cur, int full, sx_st_view *v)
{
	char why[384];
	int ok = sx_srv_health(s, cur, why, sizeof why);
	v->healthy = ok;
	if (ok)
		row(v, SX_ST_SEC_SERVER, "health", "health", 1, "serving");
	else
		row(v, SX_ST_SEC_SERVER, "health", "health", 3, "unavailable%s%s",
		    full ? ": " : " (the reason: the log, or this page as an admin)",
		    full ? why : "");
	long long up = (long long)(sx_mono_s() - s->started_mono);
	row(v, SX_ST_SEC_SERVER, "uptime", "up for", 0, "%lldd %02lld:%02lld:%02lld",
	    up / 86400, up / 3600 % 24, up / 60 % 60, up % 60);
	row(v, SX_ST_SEC_SERVER, "version", "sxgated", 0, "%s, %s, %d I/O threads",
	    SX_SRV_VERSION, s->io_name ? s->io_name : "?", s->nworkers);
	row(v, SX_ST_SEC_SERVER, "clients", "connected clients", 0, "%d of %d",
	    atomic_load(&s->nclients), s->cfg.max_clients);
	row(v, SX_ST_SEC_SERVER, "tls", "TLS", s->tls ? 1 : 0, "%s", !s->tls ? "off" :
	    s->cfg.tls_client_auth == SX_TLS_CLIENT_REQUIRED ? "on, client certificates required" :
	    s->cfg.tls_client_auth == SX_TLS_CLIENT_OPTIONAL ? "on, client certificates optional" :
	    "on");
	if (s->tenants)
		row(v, SX_ST_SEC_SERVER, "tenants", "tenants", 1, "on, %zu tenants",
		    sx_tenants_count(s->tenants));
	else
		row(v, SX_ST_SEC_SERVER, "tenants", "tenants", 2, "off (no --tenants: no AUTH)");
}

static void sec_snapshot(sx_srv *s, const sx_served *cur, int full, sx_st_view *v)
{
	const sx_snap_info *in = cur->info;
	char t[40];
	row(v, SX_ST_SEC_SNAPSHOT, "generation", "generation", 0, "%llu",
	    (unsigned long long)cur->snap_gen);
	fmt_time(in->as_of, t);
	row(v, SX_ST_SEC_SNAPSHOT, "as_of", "as of", 0, "%s", t);
	fmt_time(in->built_at, t);
	row(v, SX_ST_SEC_SNAPSHOT, "built", "built", 0, "%s", t);
	fmt_time(cur->loaded_at, t);
	row(v, SX_ST_SEC_SNAPSHOT, "loaded", "in service since", 0, "%s", t);
	row(v, SX_ST_SEC_SNAPSHOT, "records", "records", 0, "%llu",
	    (unsigned long long)in->records);
	row(v, SX_ST_SEC_SNAPSHOT, "ids", "IDs", 0, "%llu", (unsigned long long)in->ids);
	if (full)
		row(v, SX_ST_SEC_SNAPSHOT, "snapshot_path", "file", 0, "%s", cur->path);

	pthread_mutex_lock(&s->status_lock);
	sx_reload_status rs = s->snap_reload;
	pthread_mutex_unlock(&s->status_lock);
	fmt_time(rs.last, t);
	v->reload_last = rs.last;
	v->reloads_ok = rs.ok;
	v->reloads_failed = rs.failed;
	snprintf(v->reload_error, sizeof v->reload_error, "%s", full ? rs.error : "");
	int failed = rs.last && rs.error[0];
	v->reload_result = !rs.last ? "none" : failed ? "failed" : "ok";
	row(v, SX_ST_SEC_SNAPSHOT, "reload_last", "last reload", 0, "%s",
	    rs.last ? t : "none since start");
	row(v, SX_ST_SEC_SNAPSHOT, "reload_result", "its result", !rs.last ? 0 : failed ? 3 : 1,
	    "%s%s%s", v->reload_result, failed && full ? ": " : "",
	    failed && full ? rs.error : "");
	row(v, SX_ST_SEC_SNAPSHOT, "reload_counts", "reloads", rs.failed ? 2 : 0,
	    "%llu ok, %llu failed", (unsigned long long)rs.ok, (unsigned long long)rs.failed);
}

static void sec_live(sx_srv *s, const sx_served *cur, sx_st_view *v)
{
	sx_follow *f = atomic_load(&s->follow);
	v->live_mode = f ? "following" : s->journal ? "journal" : "off";
	row(v, SX_ST_SEC_LIVE, "live_mode", "live updates", 0, "%s",
	    f ? "on, following the update stream" : s->journal ? "on (journal)" :
	    "off (no --journal)");
	row(v, SX_ST_SEC_LIVE, "updates_in_force", "updates in force", 0, "%llu",
	    (unsigned long long)cur->updates);
	row(v, SX_ST_SEC_LIVE, "updates_counts", "updates since start", 0,
	    "%llu applied, %llu refused, %llu failed",
	    (unsigned long long)atomic_load(&s->updates_ok),
	    (unsigned long long)atomic_load(&s->updates_refused),
	    (unsigned long long)atomic_load(&s->updates_failed));
	v->following = f != NULL;
	if (!f) {
		row(v, SX_ST_SEC_LIVE, "feed", "update feed", 0, "none (no --updates-from)");
		return;
	}
	sx_follow_get_stats(f, &v->feed);
	const sx_follow_stats *fs = &v->feed;
	int late = fs->lag_seconds > s->cfg.max_lag && s->cfg.max_lag > 0;
	row(v, SX_ST_SEC_LIVE, "feed", "update feed", !fs->connected ? 3 : late ? 2 : 1, "%s",
	    !fs->connected ? "disconnected" : fs->caught_up ? "connected, caught up" :
	    "connected, catching up");
	row(v, SX_ST_SEC_LIVE, "feed_lag", "feed lag", late ? 2 : 0,
	    "%.1f s, %llu entries%s", fs->lag_seconds, (unsigned long long)fs->lag_entries,
	    fs->checked ? "" : " (not measured yet)");
	row(v, SX_ST_SEC_LIVE, "feed_applied", "entries applied", 0, "%llu (%llu skipped)",
	    (unsigned long long)fs->applied, (unsigned long long)fs->skipped);
}

static void sec_feedback(sx_srv *s, int full, sx_st_view *v)
{
	v->feedback_on = s->feedback != NULL;
	if (!s->feedback) {
		row(v, SX_ST_SEC_FEEDBACK, "feedback", "feedback log", 0, "off (no --feedback)");
		return;
	}
	sx_feedback_get_stats(s->feedback, &v->fb);
	const sx_feedback_stats *fs = &v->fb;
	uint64_t errors = fs->write_errors + fs->fsync_errors;
	row(v, SX_ST_SEC_FEEDBACK, "feedback", "feedback log", errors ? 3 : 1, "on%s%s",
	    full && s->cfg.feedback ? ": " : "", full && s->cfg.feedback ? s->cfg.feedback : "");
	row(v, SX_ST_SEC_FEEDBACK, "feedback_written", "records written", 0, "%llu",
	    (unsigned long long)fs->written);
	row(v, SX_ST_SEC_FEEDBACK, "feedback_buffered", "waiting to be written", 0, "%llu",
	    (unsigned long long)fs->buffered);
	row(v, SX_ST_SEC_FEEDBACK, "feedback_dropped", "dropped (buffers full)",
	    fs->dropped ? 2 : 0, "%llu", (unsigned long long)fs->dropped);
	row(v, SX_ST_SEC_FEEDBACK, "feedback_errors", "write errors", errors ? 3 : 0, "%llu%s%s",
	    (unsigned long long)errors, errors && full ? ": " : "",
	    errors && full ? fs->last_error_text : "");
	char t[40];
	fmt_time(fs->last_fsync_ms / 1000, t);
	row(v, SX_ST_SEC_FEEDBACK, "feedback_fsync", "last fsync", 0, "%s", t);
}

static void sec_traffic(sx_st_view *v)
{
	row(v, SX_ST_SEC_TRAFFIC, "rate_now", "lookups per second (last 10 s)", 0, "%.1f",
	    v->now[SX_ST_LOOKUPS]);
	row(v, SX_ST_SEC_TRAFFIC, "window_lookups", "lookups in the window", 0, "%llu",
	    (unsigned long long)v->win[SX_ST_LOOKUPS]);
	static const char *const ids[SX_NREASONS] = {
		"w_listed", "w_suspended", "w_exempt", "w_not_restricted", "w_not_listed",
		"w_review",
	};
	static const char *const labels[SX_NREASONS] = {
		"DENY (listed)", "ALLOW (suspended)", "ALLOW (exempt)",
		"ALLOW (not restricted)", "ALLOW (not listed)", "REVIEW",
	};
	double all = v->win[SX_ST_LOOKUPS] ? (double)v->win[SX_ST_LOOKUPS] : 1;
	for (int r = 0; r < SX_NREASONS; r++)
		row(v, SX_ST_SEC_TRAFFIC, ids[r], labels[r], 0, "%llu (%.1f%%), %.1f/s now",
		    (unsigned long long)v->win[1 + r], 100.0 * (double)v->win[1 + r] / all,
		    v->now[1 + r]);
	row(v, SX_ST_SEC_TRAFFIC, "w_errors", "query errors", v->win[SX_ST_K_ERRORS] ? 2 : 0,
	    "%llu, %.1f/s now", (unsigned long long)v->win[SX_ST_K_ERRORS],
	    v->now[SX_ST_K_ERRORS]);
}

sx_st_view *sx_st_gather(sx_srv *s, const sx_served *cur, int full)
{
	offer(s, sx_mono_s(), 1);
	sx_st_view *v = calloc(1, sizeof *v);
	if (!v)
		abort();              /* as obuf.h: no memory, no answer */
	v->generated = (int64_t)time(NULL);
	series(s, v);
	sec_server(s, cur, full, v);
	sec_snapshot(s, cur, full, v);
	sec_live(s, cur, v);
	sec_feedback(s, full, v);
	sec_traffic(v);
	return v;
}

/* ---- JSON ------------------------------------------------------------------ */

/* s as a JSON string; bytes that are not UTF-8 (a path, an OS message)
 * become '?' first, so the output always parses. */
void sx_st_json_str(FILE *f, const char *s)
{
	size_t n = strlen(s);
	char *b = malloc(SX_JSON_STR_MAX(n) + n + 1);
	if (!b)
		abort();
	char *src = b + SX_JSON_STR_MAX(n);
	memcpy(src, s, n + 1);
	if (!sx_utf8_valid(src, n))
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)src[i] >= 0x80)
				src[i] = '?';
	fwrite(b, 1, sx_json_str(b, src, n), f);
	free(b);
}

static void json_time(FILE *f, const char *key, int64_t t)
{
	char buf[40];
	fprintf(f, "\"%s\":", key);
	if (t == SX_AS_OF_NONE || t == 0) {
		fputs("null", f);
	} else {
		sx_time_format(t, buf);
		sx_st_json_str(f, buf);
	}
}

/* The series: times, then each key's per-second rates. */
static void json_series(FILE *f, const sx_st_view *v)
{
	fprintf(f, "{\"window\":%d,\"refresh\":%d,\"ymax\":%g,\"t\":[", SX_STATUS_WINDOW,
	        SX_STATUS_REFRESH, v->ymax);
	for (size_t i = 0; i < v->npoints; i++)
		fprintf(f, "%s%lld", i ? "," : "", (long long)v->t[i]);
	fputs("]", f);
	for (int k = 0; k < SX_ST_NK; k++) {
		fprintf(f, ",\"%s\":[", sx_st_key(k));
		for (size_t i = 0; i < v->npoints; i++)
			fprintf(f, "%s%.6g", i ? "," : "", v->rate[k][i]);
		fputs("]", f);
	}
	fputs(",\"total\":{", f);
	for (int k = 0; k < SX_ST_NK; k++)
		fprintf(f, "%s\"%s\":%llu", k ? "," : "", sx_st_key(k),
		        (unsigned long long)v->win[k]);
	fputs("}}", f);
}

char *sx_status_json(sx_srv *s, const sx_served *cur, int full, size_t *n)
{
	sx_st_view *v = sx_st_gather(s, cur, full);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		abort();
	const sx_snap_info *in = cur->info;
	fputc('{', f);
	json_time(f, "generated", v->generated);
	fprintf(f, ",\"healthy\":%s,\"generation\":%llu,", v->healthy ? "true" : "false",
	        (unsigned long long)cur->snap_gen);
	json_time(f, "as_of", in->as_of);
	fputc(',', f);
	json_time(f, "built", in->built_at);
	fputc(',', f);
	json_time(f, "loaded", cur->loaded_at);
	fprintf(f, ",\"records\":%llu,\"ids\":%llu,\"updates_in_force\":%llu,"
	        "\"live_updates\":\"%s\",\"feed\":", (unsigned long long)in->records,
	        (unsigned long long)in->ids, (unsigned long long)cur->updates, v->live_mode);
	if (v->following)
		fprintf(f, "{\"connected\":%s,\"caught_up\":%s,\"lag_seconds\":%.3f,"
		        "\"lag_entries\":%llu,\"applied\":%llu}", v->feed.connected ? "true" : "false",
		        v->feed.caught_up ? "true" : "false", v->feed.lag_seconds,
		        (unsigned long long)v->feed.lag_entries, (unsigned long long)v->feed.applied);
	else
		fputs("null", f);
	fputs(",\"reload\":{", f);
	json_time(f, "last", v->reload_last);
	fprintf(f, ",\"result\":\"%s\",\"ok\":%llu,\"failed\":%llu", v->reload_result,
	        (unsigned long long)v->reloads_ok, (unsigned long long)v->reloads_failed);
	if (full && v->reload_error[0]) {
		fputs(",\"error\":", f);
		sx_st_json_str(f, v->reload_error);
	}
	fprintf(f, "},\"tls\":%s,\"tenants\":%s,\"feedback\":", s->tls ? "true" : "false",
	        s->tenants ? "true" : "false");
	if (v->feedback_on)
		fprintf(f, "{\"written\":%llu,\"buffered\":%llu,\"dropped\":%llu,\"errors\":%llu}",
		        (unsigned long long)v->fb.written, (unsigned long long)v->fb.buffered,
		        (unsigned long long)v->fb.dropped,
		        (unsigned long long)(v->fb.write_errors + v->fb.fsync_errors));
	else
		fputs("null", f);
	fputs(",\"series\":", f);
	json_series(f, v);
	fputs(",\"view\":{", f);
	for (int i = 0; i < v->nrows; i++) {
		fprintf(f, "%s\"%s\":[", i ? "," : "", v->rows[i].id);
		sx_st_json_str(f, v->rows[i].text);
		fprintf(f, ",\"%s\"]", sx_st_tone_name(v->rows[i].tone));
	}
	fputs("}}\n", f);
	fclose(f);
	free(v);
	*n = len;
	return out;
}
