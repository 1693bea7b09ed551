/*
 * follow.c - the Redis Stream follower of follow.h.
 *
 * The loop: connect (backoff 100 ms doubling to 5 s), then XREAD COUNT 256
 * BLOCK block_ms from the last ID, apply each entry in order, and once a
 * second ask XREVRANGE for the newest ID to know the lag.  It speaks RESP
 * through the project's own client library; replies are validated before
 * anything is read out of them, so a confused or hostile Redis costs a
 * reconnect, never a crash.
 */
#include "follow.h"
#include "overlay.h"
#include "sxclient.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define COUNT 256

struct sx_follow {
	sx_follow_config cfg;
	char host[256], stream[256];
	int port;
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t lock;          /* guards st */
	sx_follow_stats st;
	char last[48];                 /* thread-private: resume point */
	int64_t newest_ms;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void logf_(sx_follow *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void logf_(sx_follow *f, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (f->cfg.log)
		f->cfg.log(f->cfg.arg, msg);
}

static void set_error(sx_follow *f, const char *msg)
{
	pthread_mutex_lock(&f->lock);
	snprintf(f->st.last_error, sizeof(f->st.last_error), "%s", msg);
	pthread_mutex_unlock(&f->lock);
}

int sx_follow_id_cmp(const char *a, const char *b)
{
	uint64_t am = 0, as = 0, bm = 0, bs = 0;
	sscanf(a, "%" SCNu64 "-%" SCNu64, &am, &as);
	sscanf(b, "%" SCNu64 "-%" SCNu64, &bm, &bs);
	if (am != bm)
		return am < bm ? -1 : 1;
	return as < bs ? -1 : as > bs;
}

static int parse_url(sx_follow *f, const char *url, char *why, size_t cap)
{
	const char *p = url;
	if (strncmp(p, "redis://", 8)) {
		snprintf(why, cap, "--updates-from '%s': want redis://HOST:PORT/STREAM",
		         url);
		return SX_EINVAL;
	}
	p += 8;
	const char *colon = strchr(p, ':'), *slash = strchr(p, '/');
	if (!slash || slash[1] == 0 || (colon && colon > slash)) {
		snprintf(why, cap, "--updates-from '%s': want redis://HOST:PORT/STREAM",
		         url);
		return SX_EINVAL;
	}
	const char *hend = colon ? colon : slash;
	if ((size_t)(hend - p) >= sizeof(f->host) || hend == p ||
	    strlen(slash + 1) >= sizeof(f->stream)) {
		snprintf(why, cap, "--updates-from '%s': host or stream name is bad", url);
		return SX_EINVAL;
	}
	memcpy(f->host, p, (size_t)(hend - p));
	f->host[hend - p] = 0;
	f->port = 6379;
	if (colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (end != slash || port < 1 || port > 65535) {
			snprintf(why, cap, "--updates-from '%s': bad port", url);
			return SX_EINVAL;
		}
		f->port = (int)port;
	}
	snprintf(f->stream, sizeof(f->stream), "%s", slash + 1);
	return 0;
}

/* Send a command and wait for its reply. */
static int call(sx_client *c, int argc, const char *const *argv,
                sx_client_resp *r)
{
	size_t lens[8];
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	int rc = sx_client_send_resp(c, argc, argv, lens);
	if (!rc)
		rc = sx_client_flush(c);
	if (!rc)
		rc = sx_client_recv_resp(c, r);
	return rc;
}

static int64_t id_ms(const char *id)
{
	return strtoll(id, NULL, 10);
}

/* Apply one entry (id, fields array).  Returns 0 to go on, -1 to retry
 * the same entry later (it was not made durable). */
static int apply_entry(sx_follow *f, const char *id, const sx_client_resp *fa)
{
	sx_str fields[80], argv[40];
	size_t nf = 0, pos = 0;
	sx_client_resp e;
	char why[512];

	while (nf < 80 && sx_client_resp_next(fa, &pos, &e) == 1) {
		if (e.type != '$' || e.nil) {
			nf = 81;
			break;
		}
		fields[nf++] = (sx_str){ e.str, e.len };
	}
	int argc = nf > 80 ? -1 : sx_update_from_fields(fields, nf, argv, why, sizeof(why));
	if (argc < 0) {
		if (nf > 80)
			snprintf(why, sizeof(why), "fields are not a list of strings");
		logf_(f, "stream %s: entry %s skipped: %s", f->stream, id, why);
		pthread_mutex_lock(&f->lock);
		f->st.malformed++;
		pthread_mutex_unlock(&f->lock);
		return 0;
	}
	int rc = f->cfg.apply(f->cfg.arg, argv, (size_t)argc, id_ms(id), id, why,
	                      sizeof(why));
	pthread_mutex_lock(&f->lock);
	if (rc == 0) {
		f->st.applied++;
		snprintf(f->st.last_id, sizeof(f->st.last_id), "%s", id);
	} else if (rc == SX_EINVAL || rc == SX_ENOTFOUND) {
		f->st.skipped++;
	} else {
		f->st.retries++;
	}
	pthread_mutex_unlock(&f->lock);
	if (rc == SX_EINVAL || rc == SX_ENOTFOUND)
		logf_(f, "stream %s: entry %s refused: %s", f->stream, id, why);
	else if (rc) {
		logf_(f, "stream %s: entry %s not made durable, will retry: %s",
		      f->stream, id, why);
		set_error(f, why);
		return -1;
	}
	return 0;
}

/* One XREAD round.  Returns entries seen, or a negative code (reconnect). */
static int read_round(sx_follow *f, sx_client *c)
{
	char block[16], count[16];
	snprintf(block, sizeof(block), "%d", f->cfg.block_ms);
	snprintf(count, sizeof(count), "%d", COUNT);
	const char *argv[] = { "XREAD", "COUNT", count, "BLOCK", block,
	                       "STREAMS", f->stream, f->last };
	sx_client_resp r, s, entries, entry, idv, fa;
	int rc = call(c, 8, argv, &r);
	if (rc)
		return rc;
	if (r.type == '-') {
		set_error(f, "XREAD refused");
		logf_(f, "stream %s: XREAD: %.*s", f->stream, (int)r.len, r.str);
		return SX_EINVAL;
	}
	if (r.nil)
		return 0;                          /* timed out: nothing new */
	size_t p0 = 0, p1, p2, p3;
	if (r.type != '*' || sx_client_resp_next(&r, &p0, &s) != 1 || s.type != '*')
		return SX_EINVAL;
	p1 = 0;
	sx_client_resp name;
	if (sx_client_resp_next(&s, &p1, &name) != 1 ||
	    sx_client_resp_next(&s, &p1, &entries) != 1 || entries.type != '*')
		return SX_EINVAL;
	int n = 0;
	p2 = 0;
	pthread_mutex_lock(&f->lock);
	f->st.lag_entries = (uint64_t)entries.num;
	pthread_mutex_unlock(&f->lock);
	while (!atomic_load(&f->stop) && sx_client_resp_next(&entries, &p2, &entry) == 1) {
		char id[48];
		p3 = 0;
		if (entry.type != '*' || sx_client_resp_next(&entry, &p3, &idv) != 1 ||
		    idv.type != '$' || idv.len == 0 || idv.len >= sizeof(id) ||
		    sx_client_resp_next(&entry, &p3, &fa) != 1 || fa.type != '*')
			return SX_EINVAL;
		memcpy(id, idv.str, idv.len);
		id[idv.len] = 0;
		if (sx_follow_id_cmp(id, f->last) <= 0)
			continue;                  /* applied before: idempotent */
		while (apply_entry(f, id, &fa) < 0) {
			if (atomic_load(&f->stop))
				return n;
			usleep(200 * 1000);
		}
		snprintf(f->last, sizeof(f->last), "%s", id);
		pthread_mutex_lock(&f->lock);
		if (f->st.lag_entries)
			f->st.lag_entries--;
		pthread_mutex_unlock(&f->lock);
		n++;
	}
	return n;
}

/* The newest entry's time, for the lag. */
static int newest(sx_follow *f, sx_client *c)
{
	const char *argv[] = { "XREVRANGE", f->stream, "+", "-", "COUNT", "1" };
	sx_client_resp r, e, id;
	size_t p = 0, q = 0;
	int rc = call(c, 6, argv, &r);
	if (rc)
		return rc;
	if (r.type != '*')
		return SX_EINVAL;
	if (sx_client_resp_next(&r, &p, &e) == 1 && e.type == '*' &&
	    sx_client_resp_next(&e, &q, &id) == 1 && id.type == '$') {
		char buf[48];
		snprintf(buf, sizeof(buf), "%.*s", (int)(id.len < 47 ? id.len : 47), id.str);
		f->newest_ms = id_ms(buf);
		pthread_mutex_lock(&f->lock);
		f->st.checked = 1;
		f->st.caught_up = sx_follow_id_cmp(buf, f->last) <= 0;
		f->st.lag_seconds = f->st.caught_up ? 0.0 :
		                    (double)(f->newest_ms - id_ms(f->last)) / 1000.0;
		pthread_mutex_unlock(&f->lock);
	} else {
		pthread_mutex_lock(&f->lock);
		f->st.checked = 1;
		f->st.caught_up = 1;           /* empty stream */
		f->st.lag_seconds = 0;
		pthread_mutex_unlock(&f->lock);
	}
	return 0;
}

static void *run(void *arg)
{
	sx_follow *f = arg;
	int backoff = 100;

	while (!atomic_load(&f->stop)) {
		sx_client *c;
		char err[256];
		int rc = sx_client_connect(f->host, f->port, SX_CLIENT_RESP, 2000, &c,
		                           err, sizeof(err));
		if (rc) {
			set_error(f, err);
			pthread_mutex_lock(&f->lock);
			f->st.connected = 0;
			f->st.caught_up = 0;
			f->st.reconnects++;
			pthread_mutex_unlock(&f->lock);
			for (int t = 0; t < backoff && !atomic_load(&f->stop); t += 50)
				usleep(50 * 1000);
			backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
			continue;
		}
		sx_client_set_timeout(c, f->cfg.block_ms + 5000);
		logf_(f, "following redis://%s:%d/%s after %s", f->host, f->port,
		      f->stream, f->last);
		pthread_mutex_lock(&f->lock);
		f->st.connected = 1;
		pthread_mutex_unlock(&f->lock);
		int64_t last_check = 0;
		while (!atomic_load(&f->stop)) {
			if (now_ms() - last_check >= 1000) {
				if ((rc = newest(f, c)))
					break;
				last_check = now_ms();
			}
			if ((rc = read_round(f, c)) < 0)
				break;
			backoff = 100;          /* a good round: the peer is Redis */
		}
		if (rc < 0 && !atomic_load(&f->stop)) {
			snprintf(err, sizeof(err), "redis connection lost: %s",
			         sx_client_strerror(rc));
			set_error(f, err);
			logf_(f, "stream %s: %s; reconnecting", f->stream, err);
		}
		pthread_mutex_lock(&f->lock);
		f->st.connected = 0;
		f->st.caught_up = 0;
		f->st.checked = 0;
		f->st.reconnects++;
		pthread_mutex_unlock(&f->lock);
		sx_client_close(c);
		/* a peer that connects but does not speak Redis gets the same
		 * backoff as one that refuses */
		for (int t = 0; t < backoff && !atomic_load(&f->stop); t += 50)
			usleep(50 * 1000);
		backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
	}
	return NULL;
}

int sx_follow_start(const sx_follow_config *cfg, sx_follow **out, char *why,
                    size_t cap)
{
	sx_follow *f = calloc(1, sizeof(*f));
	int rc;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->cfg = *cfg;
	if (f->cfg.block_ms <= 0)
		f->cfg.block_ms = 1000;
	if ((rc = parse_url(f, cfg->url, why, cap))) {
		free(f);
		return rc;
	}
	snprintf(f->last, sizeof(f->last), "%s",
	         cfg->resume_after && cfg->resume_after[0] ? cfg->resume_after : "0-0");
	snprintf(f->st.last_id, sizeof(f->st.last_id), "%s", f->last);
	pthread_mutex_init(&f->lock, NULL);
	atomic_init(&f->stop, 0);
	if ((rc = pthread_create(&f->thread, NULL, run, f))) {
		snprintf(why, cap, "cannot start the stream follower: %s", strerror(rc));
		pthread_mutex_destroy(&f->lock);
		free(f);
		return -rc;
	}
	*out = f;
	return 0;
}

void sx_follow_get_stats(sx_follow *f, sx_follow_stats *st)
{
	pthread_mutex_lock(&f->lock);
	*st = f->st;
	pthread_mutex_unlock(&f->lock);
}

void sx_follow_stop(sx_follow *f)
{
	if (!f)
		return;
	atomic_store(&f->stop, 1);
	pthread_join(f->thread, NULL);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
