/*
 * follow.c - the Redis Stream follower of follow.h.
 *
 * The loop: connect (backoff 100 ms doubling to 5 s), then XREAD COUNT 256
 * BLOCK block_ms from the last ID, apply each entry in order, and once a
 * second ask XREVRANGE for the newest ID to know the lag.
 *
 * It speaks RESP through the project's own small Redis client
 * (client/redisconn.h), not hiredis: Debian 12's hiredis is 0.14, which
 * has no TLS, and rediss:// is a requirement.  That client validates every
 * reply before anything is read out of it (a confused or hostile Redis
 * costs a reconnect, never a crash), does TLS with tlsconn.h, and AUTHs
 * right after connecting, so a wrong or missing password is known before
 * the first XREAD.
 *
 * Failures are said once, clearly: a refused password, a missing one, an
 * untrusted certificate or a refused connection each become the last
 * error (INFO stream_last_error, /health's 503) and one log line naming
 * the feed by its masked URL; the same line again is logged at most once
 * a minute, with the count of attempts in between.  The password is never
 * printed: the URL everywhere is sx_redis_url_mask()'s.
 */
#include "follow.h"
#include "log.h"
#include "overlay.h"
#include "redisconn.h"

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
	sx_redis_url url;
	const char *stream;            /* url.stream */
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t lock;          /* guards st */
	sx_follow_stats st;
	char last[48];                 /* thread-private: resume point */
	int64_t newest_ms;
	char said[512];                /* thread-private: the last failure logged */
	int64_t said_ms;
	unsigned unsaid;               /* the same failure since, not logged */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void logf_(sx_follow *f, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void logf_(sx_follow *f, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (f->cfg.log)
		f->cfg.log(f->cfg.arg, level, msg);
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

/*
 * A failure: the last error, and one log line unless the same line was
 * logged less than a minute ago (a wrong password fails every reconnect).
 */
static void failed(sx_follow *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void failed(sx_follow *f, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_error(f, msg);
	int64_t now = now_ms();
	if (!strcmp(msg, f->said) && now - f->said_ms < 60000) {
		f->unsaid++;
		return;
	}
	if (f->unsaid && !strcmp(msg, f->said))
		logf_(f, SX_LOG_WARN, "update feed %s: %s (%u more times since)",
		      f->url.masked, msg, f->unsaid);
	else
		logf_(f, SX_LOG_WARN, "update feed %s: %s", f->url.masked, msg);
	snprintf(f->said, sizeof(f->said), "%s", msg);
	f->said_ms = now;
	f->unsaid = 0;
}

/* A command's error reply: the last error and a log line.  Returns the
 * code that makes the loop reconnect without calling it a lost connection. */
static int refused(sx_follow *f, const char *cmd, const sx_client_resp *r)
{
	failed(f, "%s refused: %.*s", cmd, (int)(r->len > 300 ? 300 : r->len), r->str);
	return SX_CLIENT_ESERVER;
}

static int64_t id_ms(const char *id)
{
	return strtoll(id, NULL, 10);
}

/* Apply one entry (id, fields array).  Returns 0 to go on, -1 to retry
 * the same entry later (it was not made durable). */
static int apply_entry(sx_follow *f, const char *id, const sx_client_resp *fa)
{
	sx_str fields[80], argv[40], by;
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
	int argc = nf > 80 ? -1 : sx_update_from_fields(fields, nf, argv, &by, why,
	                                                sizeof(why));
	if (argc < 0) {
		if (nf > 80)
			snprintf(why, sizeof(why), "fields are not a list of strings");
		logf_(f, SX_LOG_WARN, "stream %s: entry %s skipped: %s", f->stream, id, why);
		pthread_mutex_lock(&f->lock);
		f->st.malformed++;
		pthread_mutex_unlock(&f->lock);
		return 0;
	}
	int rc = f->cfg.apply(f->cfg.arg, argv, (size_t)argc, id_ms(id), id, by, why,
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
		logf_(f, SX_LOG_WARN, "stream %s: entry %s refused: %s", f->stream, id, why);
	else if (rc) {
		logf_(f, SX_LOG_ERR, "stream %s: entry %s not made durable, will retry: %s",
		      f->stream, id, why);
		set_error(f, why);
		return -1;
	}
	return 0;
}

/* One XREAD round.  Returns entries seen, or a negative code (reconnect). */
static int read_round(sx_follow *f, sx_redis *c)
{
	char block[16], count[16];
	snprintf(block, sizeof(block), "%d", f->cfg.block_ms);
	snprintf(count, sizeof(count), "%d", COUNT);
	const char *argv[] = { "XREAD", "COUNT", count, "BLOCK", block,
	                       "STREAMS", f->stream, f->last };
	sx_client_resp r, s, entries, entry, idv, fa;
	int rc = sx_redis_call(c, 8, argv, NULL, &r);
	if (rc)
		return rc;
	if (r.type == '-')
		return refused(f, "XREAD", &r);
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
static int newest(sx_follow *f, sx_redis *c)
{
	const char *argv[] = { "XREVRANGE", f->stream, "+", "-", "COUNT", "1" };
	sx_client_resp r, e, id;
	size_t p = 0, q = 0;
	int rc = sx_redis_call(c, 6, argv, NULL, &r);
	if (rc)
		return rc;
	if (r.type == '-')
		return refused(f, "XREVRANGE", &r);
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

/* Why connecting failed, said for this feed's operator. */
static void connect_failed(sx_follow *f, int rc, const char *why)
{
	if (rc == SX_REDIS_ENOAUTH)
		failed(f, "the feed needs a password: --updates-password-file FILE "
		       "(Redis said: %s)", why);
	else if (rc == SX_REDIS_ETLS)
		failed(f, "%s (trusting %s)", why,
		       f->cfg.cafile ? f->cfg.cafile : "the system's CAs; --updates-ca FILE "
		       "names another");
	else
		failed(f, "%s", why);
}

static void backoff_sleep(sx_follow *f, int *backoff)
{
	for (int t = 0; t < *backoff && !atomic_load(&f->stop); t += 50)
		usleep(50 * 1000);
	*backoff = *backoff * 2 > 5000 ? 5000 : *backoff * 2;
}

static void *run(void *arg)
{
	sx_follow *f = arg;
	int backoff = 100;

	while (!atomic_load(&f->stop)) {
		sx_redis *c;
		char err[512];
		int rc = sx_redis_connect(&f->url, f->cfg.cafile, 2000, &c, err, sizeof(err));
		if (rc) {
			connect_failed(f, rc, err);
			pthread_mutex_lock(&f->lock);
			f->st.connected = 0;
			f->st.caught_up = 0;
			f->st.reconnects++;
			pthread_mutex_unlock(&f->lock);
			backoff_sleep(f, &backoff);
			continue;
		}
		sx_redis_set_timeout(c, f->cfg.block_ms + 5000);
		logf_(f, SX_LOG_INFO, "following %s after %s", f->url.masked, f->last);
		f->said[0] = 0;                /* a failure after this is news */
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
		/* a refused command has been said already */
		if (rc < 0 && rc != SX_CLIENT_ESERVER && !atomic_load(&f->stop))
			failed(f, "connection lost: %s; reconnecting", sx_redis_errmsg(c));
		pthread_mutex_lock(&f->lock);
		f->st.connected = 0;
		f->st.caught_up = 0;
		f->st.checked = 0;
		f->st.reconnects++;
		pthread_mutex_unlock(&f->lock);
		sx_redis_close(c);
		/* a peer that connects but does not speak Redis gets the same
		 * backoff as one that refuses */
		backoff_sleep(f, &backoff);
	}
	return NULL;
}

/* --updates-ca: only with rediss://, and a file that can be read now
 * (tlsconn would name it otherwise, on every reconnect). */
static int check_ca(sx_follow *f, char *why, size_t cap)
{
	const char *ca = f->cfg.cafile;
	if (!ca)
		return 0;
	if (!f->url.tls) {
		snprintf(why, cap, "--updates-ca %s: the feed %s is not TLS; use rediss://",
		         ca, f->url.masked);
		return SX_EINVAL;
	}
	FILE *fp = fopen(ca, "re");
	if (!fp) {
		int e = errno;
		snprintf(why, cap, "--updates-ca %s: %s", ca, strerror(e));
		return -e;
	}
	fclose(fp);
	return 0;
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
	if ((rc = sx_redis_url_parse("--updates-from", cfg->url, &f->url, why, cap)) ||
	    (cfg->password_file &&
	     (rc = sx_redis_url_password_file(&f->url, "--updates-password-file",
	                                      cfg->password_file, why, cap))) ||
	    (rc = check_ca(f, why, cap))) {
		explicit_bzero(&f->url, sizeof(f->url));
		free(f);
		return rc;
	}
	f->stream = f->url.stream;
	if (f->url.password_in_url)
		logf_(f, SX_LOG_WARN, "update feed %s: the password in --updates-from shows in "
		      "ps and in whatever records the command line (it is masked in INFO and "
		      "this log); --updates-password-file FILE keeps it out", f->url.masked);
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
	explicit_bzero(&f->url, sizeof(f->url));
	free(f);
}
