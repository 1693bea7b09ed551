/*
 * audit.c - the audit trail's lines (audit.h): quoting, masking, and the
 * rate limit per event.
 *
 * The idea: the line is built by the code that knows the event (auth.c,
 * cmd_perm.c, live.c, reload.c, cmd_admin.c) from fixed keys and values
 * it does not trust, so all the care is here: a value is bare only when
 * nothing in it could be read as syntax, else quoted with escapes.  The
 * rate limit is a token bucket per event, checked before anything is
 * formatted, so a flood of refusals costs a mutex and a counter each.
 * Trade-off: one mutex for every event's bucket; audit events are rare
 * next to requests (a refusal, an admin command), and a flood of them
 * only slows its own senders.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "log.h"

static const struct ev_def {
	const char *name;
	int admin;
} evs[SX_AUDIT_NEVENTS] = {
#define X(e, name, admin) { name, admin },
	SX_AUDIT_EVENTS(X)
#undef X
};

/* ---- the rate limit ------------------------------------------------------ */

typedef struct bucket {
	int used;
	double tokens;
	int64_t last_ms;
	uint64_t suppressed;       /* lines left out since the last summary */
	int64_t since_ms;          /* the first of them */
	int64_t summary_ms;        /* the last summary written */
} bucket;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static bucket buckets[SX_AUDIT_NEVENTS];
static int64_t (*clock_fn)(void);

static int64_t now_ms(void)
{
	if (clock_fn)
		return clock_fn();
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sx_audit_test_clock(int64_t (*fn)(void))
{
	clock_fn = fn;
}

void sx_audit_test_reset(void)
{
	pthread_mutex_lock(&mu);
	memset(buckets, 0, sizeof buckets);
	pthread_mutex_unlock(&mu);
}

/* A token of ev's bucket: 1, or 0 and the line is counted as left out. */
static int take(int ev)
{
	double burst = evs[ev].admin ? SX_AUDIT_ADMIN_BURST : SX_AUDIT_REFUSAL_BURST;
	double rate = evs[ev].admin ? SX_AUDIT_ADMIN_RATE : SX_AUDIT_REFUSAL_RATE;
	int64_t now = now_ms();
	int ok;

	pthread_mutex_lock(&mu);
	bucket *b = &buckets[ev];
	if (!b->used) {
		b->used = 1;
		b->tokens = burst;
		b->last_ms = now;
	}
	if (now > b->last_ms) {
		b->tokens += (double)(now - b->last_ms) / 1000.0 * rate;
		if (b->tokens > burst)
			b->tokens = burst;
		b->last_ms = now;
	}
	ok = b->tokens >= 1.0;
	if (ok) {
		b->tokens -= 1.0;
	} else if (!b->suppressed++) {
		b->since_ms = now;
	}
	pthread_mutex_unlock(&mu);
	return ok;
}

void sx_audit_tick(int force)
{
	int64_t now = now_ms();
	for (int ev = 0; ev < SX_AUDIT_NEVENTS; ev++) {
		uint64_t n = 0;
		int64_t since = 0;
		pthread_mutex_lock(&mu);
		bucket *b = &buckets[ev];
		if (b->suppressed && (force || !b->summary_ms ||
		                      now - b->summary_ms >= SX_AUDIT_SUMMARY_MS)) {
			n = b->suppressed;
			since = b->since_ms;
			b->suppressed = 0;
			b->summary_ms = now;
		}
		pthread_mutex_unlock(&mu);
		if (!n)
			continue;
		char line[160];
		int len = snprintf(line, sizeof line, "audit event=suppressed kind=%s lines=%llu "
		                   "seconds=%lld", evs[ev].name, (unsigned long long)n,
		                   (long long)((now - since + 999) / 1000));
		sx_log_write(evs[ev].admin ? SX_LOG_INFO : SX_LOG_WARN, 1, line, (size_t)len);
	}
}

/* ---- origins ------------------------------------------------------------- */

void sx_origin_who(sx_origin *o, const char *who, size_t n)
{
	if (!who)
		n = 0;
	if (n > SX_ORIGIN_WHO)
		n = SX_ORIGIN_WHO;
	if (n)
		memcpy(o->who, who, n);
	o->who[n] = 0;
	o->who_len = (uint8_t)n;
}

void sx_origin_where(sx_origin *o, const char *where, const char *proto)
{
	snprintf(o->where, sizeof o->where, "%s", where ? where : "");
	snprintf(o->proto, sizeof o->proto, "%s", proto ? proto : "");
}

void sx_origin_peer(sx_origin *o, const sx_addr *addr, uint16_t port,
                    const char *proto, int tls)
{
	static const uint8_t zero[16], v4[12] = { [10] = 0xff, [11] = 0xff };
	char ip[INET6_ADDRSTRLEN];

	o->where[0] = 0;
	if (addr && memcmp(addr->b, zero, 16)) {
		if (!memcmp(addr->b, v4, 12)) {
			inet_ntop(AF_INET, addr->b + 12, ip, sizeof ip);
			snprintf(o->where, sizeof o->where, "%s:%u", ip, (unsigned)port);
		} else {
			inet_ntop(AF_INET6, addr->b, ip, sizeof ip);
			snprintf(o->where, sizeof o->where, "[%s]:%u", ip, (unsigned)port);
		}
	}
	snprintf(o->proto, sizeof o->proto, "%s%s", proto ? proto : "",
	         proto && tls ? "+tls" : "");
}

/* ---- values -------------------------------------------------------------- */

static int bare_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("._:/@+,;-[]*", c) != NULL;
}

/* The length of the UTF-8 character at s[0..n) and its code point, or 0
 * when it is not one (a lone or overlong byte, a surrogate, past the end). */
static size_t utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Characters that would make a line read differently than it parses:
 * C1 controls, zero-width and direction marks and overrides, the line
 * and paragraph separators, the BOM. */
static int invisible(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || (c >= 0x200b && c <= 0x200f) ||
	       (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) ||
	       c == 0xfeff;
}

/* Room for one more pair of a value of n bytes at its worst (every byte
 * escaped as \xNN, or a character as \uNNNN), or the line is full. */
static int room(sx_audit *a, const char *key, size_t n)
{
	if (n > SX_AUDIT_VALUE_MAX)
		n = SX_AUDIT_VALUE_MAX;
	return a->n + strlen(key) + 4 * n + 16 < sizeof a->buf;
}

static void put(sx_audit *a, const char *s, size_t n)
{
	memcpy(a->buf + a->n, s, n);
	a->n += n;
}

static void put_value(sx_audit *a, const char *v, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (!v) {
		put(a, "-", 1);
		return;
	}
	int bare = n > 0 && n <= SX_AUDIT_VALUE_MAX && !(n == 1 && v[0] == '-');
	for (size_t i = 0; i < n && bare; i++)
		bare = bare_byte((unsigned char)v[i]);
	if (bare) {
		put(a, v, n);
		return;
	}
	const unsigned char *s = (const unsigned char *)v;
	size_t lim = n > SX_AUDIT_VALUE_MAX ? SX_AUDIT_VALUE_MAX : n;
	put(a, "\"", 1);
	size_t i = 0;
	while (i < lim) {
		unsigned char c = s[i];
		uint32_t cp = 0;
		size_t len = utf8(s + i, lim - i, &cp);
		char e[16];
		if (c == '"' || c == '\\') {
			e[0] = '\\', e[1] = (char)c;
			put(a, e, 2);
		} else if (c == '\n' || c == '\r' || c == '\t') {
			e[0] = '\\', e[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			put(a, e, 2);
		} else if (len == 0 || c < 0x20 || c == 0x7f) {
			e[0] = '\\', e[1] = 'x', e[2] = hex[c >> 4], e[3] = hex[c & 15];
			put(a, e, 4);
			len = 1;
		} else if (invisible(cp)) {
			snprintf(e, sizeof e, "\\u%04x", (unsigned)cp);
			put(a, e, 6);
		} else {
			put(a, v + i, len);
		}
		i += len ? len : 1;
	}
	if (n > lim)
		put(a, "\xe2\x80\xa6", 3);          /* "…": cut */
	put(a, "\"", 1);
}

/* ---- lines --------------------------------------------------------------- */

static void pair(sx_audit *a, const char *key, const char *v, size_t n)
{
	if (!room(a, key, v ? n : 1))
		return;
	put(a, " ", 1);
	put(a, key, strlen(key));
	put(a, "=", 1);
	put_value(a, v, n);
}

void sx_audit_begin(sx_audit *a, int ev, const sx_origin *o)
{
	a->ev = ev;
	a->n = 0;
	a->on = take(ev);
	if (!a->on)
		return;
	put(a, "audit", 5);
	pair(a, "event", evs[ev].name, strlen(evs[ev].name));
	pair(a, "tenant", o && o->who_len ? o->who : NULL, o ? o->who_len : 0);
	pair(a, "addr", o && o->where[0] ? o->where : NULL, o ? strlen(o->where) : 0);
	pair(a, "proto", o && o->proto[0] ? o->proto : NULL, o ? strlen(o->proto) : 0);
}

void sx_audit_str(sx_audit *a, const char *key, const char *v, size_t n)
{
	if (a->on)
		pair(a, key, v, n);
}

void sx_audit_cstr(sx_audit *a, const char *key, const char *v)
{
	if (a->on)
		pair(a, key, v, v ? strlen(v) : 0);
}

size_t sx_audit_mask_id(const char *id, size_t n, char *out, size_t cap)
{
	size_t head = n >= 15 ? 6 : n >= 10 ? 3 : n >= 5 ? 1 : 0;
	size_t tail = n >= 15 ? 4 : n >= 10 ? 2 : n >= 5 ? 1 : 0;
	if (n + 1 > cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = i < head || i + tail >= n ? id[i] : '*';
	out[n] = 0;
	return n;
}

void sx_audit_id(sx_audit *a, const char *key, const char *v, size_t n)
{
	if (!a->on)
		return;
	if (!v) {
		pair(a, key, NULL, 0);
		return;
	}
	char m[SX_AUDIT_VALUE_MAX + 1];
	if (n > SX_AUDIT_VALUE_MAX)
		n = SX_AUDIT_VALUE_MAX;
	pair(a, key, m, sx_audit_mask_id(v, n, m, sizeof m));
}

void sx_audit_u64(sx_audit *a, const char *key, uint64_t v)
{
	char b[24];
	if (a->on)
		pair(a, key, b, (size_t)snprintf(b, sizeof b, "%llu", (unsigned long long)v));
}

void sx_audit_end(sx_audit *a, int ok)
{
	if (!a->on)
		return;
	sx_log_write(ok ? SX_LOG_INFO : SX_LOG_WARN, 1, a->buf, a->n);
	a->on = 0;
}
