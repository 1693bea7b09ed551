/*
 * tenant.c - tenants file, crypt(3) verification, AUTH rate limiting
 * (see tenant.h for the format and the policy).
 *
 * The rate-limit table is a small fixed array searched linearly under a
 * mutex: it is touched only by AUTH, never by lookups.  A slot is a token
 * bucket for one (address, key): the key is a tenant's index, RL_UNKNOWN
 * for every name the file does not have, or RL_ADDR for the address's cap
 * over all names, so one address holds at most tenants + 2 slots however
 * many names it invents.  A full bucket with nothing reserved is the same
 * as no bucket, so its slot is free for reuse; only when every slot holds
 * state does a new bucket evict the one refilling longest (the least likely
 * to be limited).  The memory is RL_SLOTS slots, always.
 */
#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sx.h"
#include "tenant.h"

#define RL_SLOTS       2048
#define RL_BURST       5.0     /* per (address, name): failures in a burst */
#define RL_RATE        1.0     /* and tokens per second */
#define RL_ADDR_BURST  20.0    /* per address, all names together */
#define RL_ADDR_RATE   4.0
#define RL_UNKNOWN     0xfffffffeu   /* key: any name not in the file */
#define RL_ADDR        0xffffffffu   /* key: the address's cap */

typedef struct rl_slot {
	sx_addr addr;
	uint32_t key;          /* tenant index, RL_UNKNOWN or RL_ADDR */
	uint32_t held;         /* tokens reserved by AUTHs not yet settled */
	double tokens;
	double last;           /* monotonic seconds */
	uint8_t failed;        /* a failure since the bucket was last full */
	uint8_t used;
} rl_slot;                 /* 48 bytes: the table is 96 KiB */

typedef struct secret_cache {
	size_t len;
	int valid;
	char s[SX_TENANT_SECRET_MAX];
} secret_cache;

struct sx_tenants {
	sx_tenant *v;
	size_t n;
	char dummy[CRYPT_GENSALT_OUTPUT_SIZE];  /* setting hashed for unknown names */
	pthread_mutex_t lock;
	secret_cache *cache;                    /* one per tenant */
	_Atomic uint32_t *conns;                /* connections, one per tenant */
	uint64_t n_ok, n_failed, n_limited;     /* under lock */
	rl_slot rl[RL_SLOTS];
};

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int ct_equal(const char *a, size_t an, const char *b, size_t bn)
{
	unsigned char d = an != bn;
	size_t n = an < bn ? an : bn;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static int name_ok(const char *s, size_t n)
{
	if (n == 0 || n > SX_TENANT_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* Comma-separated items of s[0..n): call fn(item) for each; stop at the
 * first failure and return it. */
static int each_item(const char *s, size_t n,
                     int (*fn)(const char *, size_t, void *), void *arg)
{
	size_t i = 0;
	while (i <= n) {
		size_t j = i;
		while (j < n && s[j] != ',')
			j++;
		int rc = fn(s + i, j - i, arg);
		if (rc)
			return rc;
		i = j + 1;
	}
	return 0;
}

struct item_ctx { sx_codes mask; sx_tenant *t; const char *bad; size_t badlen; };

static int add_channel(const char *s, size_t n, void *arg)
{
	struct item_ctx *c = arg;
	int ch = sx_channel_parse(s, n);
	if (ch < 0) {
		c->bad = s;
		c->badlen = n;
		return -1;
	}
	c->mask |= SX_CODE_BIT(ch);
	return 0;
}

static int add_flag(const char *s, size_t n, void *arg)
{
	struct item_ctx *c = arg;
	if (n == 5 && !strncasecmp(s, "admin", 5))
		c->t->admin = 1;
	else if (n == 6 && !strncasecmp(s, "listed", 6))
		c->t->listed = 1;
	else if (n == 7 && !strncasecmp(s, "metrics", 7))
		c->t->metrics = 1;
	else {
		c->bad = s;
		c->badlen = n;
		return -1;
	}
	return 0;
}

/* A SHA-256 fingerprint: 64 hex digits, any case, colons anywhere
 * (openssl x509 -fingerprint -sha256 prints AB:CD:...). */
static int parse_fingerprint(const char *s, size_t n, uint8_t out[32])
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
		        ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : ch == ':' ? -2 : -1;
		if (v == -2)
			continue;
		if (v < 0 || k == 64)
			return -1;
		out[k / 2] = (uint8_t)(k % 2 ? out[k / 2] | v : v << 4);
		k++;
	}
	return k == 64 ? 0 : -1;
}

/* A decimal in lo..hi, all of s[0..n): 0, or -1. */
static int parse_u32(const char *s, size_t n, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* The options a tenant line may carry, each at most once. */
enum { OPT_CERT = 1, OPT_MAX_BATCH = 2, OPT_MAX_CONNS = 4 };

static int option_key(const char *k, size_t n)
{
	if (n == 4 && !memcmp(k, "cert", 4))
		return OPT_CERT;
	if (n == 9 && !memcmp(k, "max-batch", 9))
		return OPT_MAX_BATCH;
	if (n == 9 && !memcmp(k, "max-conns", 9))
		return OPT_MAX_CONNS;
	return 0;
}

/* The fifth field: space-separated key=value options. */
static int parse_options(char *p, size_t n, sx_tenant *t, char *why, size_t whycap)
{
	size_t i = 0;
	unsigned seen = 0;
	while (i < n) {
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		size_t j = i;
		while (j < n && p[j] != ' ' && p[j] != '\t')
			j++;
		if (j == i)
			break;
		const char *eq = memchr(p + i, '=', j - i);
		int key = eq ? option_key(p + i, (size_t)(eq - (p + i))) : 0;
		const char *v = eq ? eq + 1 : NULL;
		size_t vn = eq ? (size_t)(p + j - v) : 0;
		if (!key) {
			snprintf(why, whycap, "tenant '%s': unknown option '%.*s' (options after "
			         "the fourth ':' are key=value: cert=SHA256-FINGERPRINT, "
			         "max-batch=N, max-conns=N)", t->name, (int)(j - i), p + i);
			return -1;
		}
		if (seen & (unsigned)key) {
			snprintf(why, whycap, "tenant '%s': option '%.*s' is given twice", t->name,
			         (int)(eq - (p + i)), p + i);
			return -1;
		}
		seen |= (unsigned)key;
		if (key == OPT_CERT) {
			if (parse_fingerprint(v, vn, t->cert)) {
				snprintf(why, whycap, "tenant '%s': cert=%.*s is not a SHA-256 "
				         "fingerprint (64 hex digits, colons optional, as `openssl "
				         "x509 -noout -fingerprint -sha256` prints it)", t->name,
				         (int)vn, v);
				return -1;
			}
			t->has_cert = 1;
		} else if (key == OPT_MAX_BATCH) {
			if (parse_u32(v, vn, 1, SX_TENANT_MAX_BATCH, &t->max_batch)) {
				snprintf(why, whycap, "tenant '%s': max-batch=%.*s is not a number "
				         "in 1..%u (IDs in one MCHECK or binary frame; %u, the "
				         "server's cap, when not given)", t->name, (int)vn, v,
				         SX_TENANT_MAX_BATCH, SX_TENANT_MAX_BATCH);
				return -1;
			}
		} else {
			if (parse_u32(v, vn, 1, SX_TENANT_MAX_CONNS, &t->max_conns)) {
				snprintf(why, whycap, "tenant '%s': max-conns=%.*s is not a number "
				         "in 1..%u (connections at once; leave it out for no limit "
				         "but --max-clients)", t->name, (int)vn, v, SX_TENANT_MAX_CONNS);
				return -1;
			}
		}
		i = j;
	}
	return 0;
}

/* Parse one non-comment line into t: split at the first four colons. */
static int parse_line(char *line, size_t len, sx_tenant *t, char *why, size_t whycap)
{
	char *c[4];
	size_t nc = 0;
	for (char *p = line; nc < 4 && (p = memchr(p, ':', (size_t)(line + len - p))); p++)
		c[nc++] = p;
	if (nc < 3) {
		snprintf(why, whycap, "expected name:hash:channels:flags[:options] (4 fields "
		         "separated by ':')");
		return -1;
	}
	char *c1 = c[0], *c2 = c[1], *c3 = c[2];
	char *end = nc == 4 ? c[3] : line + len;
	size_t nlen = (size_t)(c1 - line);
	if (!name_ok(line, nlen)) {
		snprintf(why, whycap, "bad tenant name '%.*s' (1-%d of A-Z a-z 0-9 _ - .)",
		         (int)nlen, line, SX_TENANT_NAME_MAX);
		return -1;
	}
	memcpy(t->name, line, nlen);
	t->name[nlen] = 0;
	t->max_batch = SX_TENANT_MAX_BATCH;

	if (nc == 4 && parse_options(c[3] + 1, (size_t)(line + len - c[3] - 1), t, why, whycap))
		return -1;

	char *hash = c1 + 1;
	size_t hlen = (size_t)(c2 - hash);
	if (hlen == 1 && hash[0] == '!') {
		if (!t->has_cert) {
			snprintf(why, whycap, "tenant '%s': hash '!' (certificate only) needs "
			         "cert=FINGERPRINT after the fourth ':'", t->name);
			return -1;
		}
		t->hash = NULL;       /* no secret: only its certificate logs it in */
	} else if (hlen == 0 || hash[0] != '$') {
		snprintf(why, whycap, "tenant '%s': the secret must be a crypt(3) hash "
		         "starting with '$' (make one with `sxgate tenant-hash`)", t->name);
		return -1;
	}
	if (hlen != 1 || hash[0] != '!') {
		t->hash = strndup(hash, hlen);
		if (!t->hash) {
			snprintf(why, whycap, "out of memory");
			return -ENOMEM;
		}
	}
	int salt = t->hash ? crypt_checksalt(t->hash) : CRYPT_SALT_OK;
	if (salt == CRYPT_SALT_METHOD_LEGACY) {
		snprintf(why, whycap, "tenant '%s': hash '%.20s...' uses a method libcrypt "
		         "rates legacy (cheap to guess); make a new one with `sxgate "
		         "tenant-hash` (yescrypt)", t->name, t->hash);
		return -1;
	}
	if (salt != CRYPT_SALT_OK) {
		snprintf(why, whycap, "tenant '%s': hash '%.20s...' is not a hash this "
		         "libcrypt can verify", t->name, t->hash);
		return -1;
	}

	char *chans = c2 + 1;
	size_t clen = (size_t)(c3 - chans);
	struct item_ctx ic = { .t = t };
	if (clen == 1 && chans[0] == '*') {
		ic.mask = SX_CODES_ALL;
	} else if (clen == 0 || each_item(chans, clen, add_channel, &ic)) {
		snprintf(why, whycap, "tenant '%s': unknown channel '%.*s' (channels: `*` "
		         "or a comma-separated list such as rail,air)",
		         t->name, (int)ic.badlen, ic.bad ? ic.bad : "");
		return -1;
	}
	t->channels = ic.mask;

	char *flags = c3 + 1;
	size_t flen = (size_t)(end - flags);
	if (!(flen == 1 && flags[0] == '-') &&
	    (flen == 0 || each_item(flags, flen, add_flag, &ic))) {
		snprintf(why, whycap, "tenant '%s': unknown flag '%.*s' (flags: `-` or a "
		         "comma-separated list of admin, listed, metrics)",
		         t->name, (int)ic.badlen, ic.bad ? ic.bad : "");
		return -1;
	}
	return 0;
}

int sx_tenants_load(const char *path, sx_tenants **out, char *why, size_t whycap)
{
	char msg[512];
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	sx_tenants *ts = calloc(1, sizeof *ts);
	FILE *f = fopen(path, "re");
	if (!ts || !f) {
		rc = ts ? -errno : -ENOMEM;
		snprintf(why, whycap, "%s: %s", path, strerror(-rc));
		goto fail;
	}
	pthread_mutex_init(&ts->lock, NULL);

	ssize_t got;
	size_t lineno = 0, alloc = 0;
	while ((got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		size_t len = (size_t)got;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
		               line[len - 1] == ' ' || line[len - 1] == '\t'))
			len--;
		size_t i = 0;
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len || line[i] == '#')
			continue;
		if (ts->n == alloc) {
			alloc = alloc ? alloc * 2 : 8;
			sx_tenant *v = realloc(ts->v, alloc * sizeof *v);
			if (!v) {
				rc = -ENOMEM;
				snprintf(why, whycap, "%s: out of memory", path);
				goto fail;
			}
			ts->v = v;
		}
		sx_tenant *t = &ts->v[ts->n];
		memset(t, 0, sizeof *t);
		ts->n++;
		if ((rc = parse_line(line + i, len - i, t, msg, sizeof msg))) {
			snprintf(why, whycap, "%s:%zu: %s", path, lineno, msg);
			if (rc == -1)
				rc = SX_EINVAL;
			goto fail;
		}
		for (size_t k = 0; k + 1 < ts->n; k++) {
			if (!strcmp(ts->v[k].name, t->name)) {
				snprintf(why, whycap, "%s:%zu: tenant '%s' is defined twice",
				         path, lineno, t->name);
				rc = SX_EINVAL;
				goto fail;
			}
		}
	}
	if (ferror(f)) {
		rc = -EIO;
		snprintf(why, whycap, "%s: read error", path);
		goto fail;
	}
	if (ts->n == 0) {
		rc = SX_EINVAL;
		snprintf(why, whycap, "%s: no tenants defined", path);
		goto fail;
	}
	ts->cache = calloc(ts->n, sizeof *ts->cache);
	ts->conns = calloc(ts->n, sizeof *ts->conns);
	if (!ts->cache || !ts->conns ||
	    !crypt_gensalt_rn("$y$", 0, NULL, 0, ts->dummy, sizeof ts->dummy)) {
		rc = -ENOMEM;
		snprintf(why, whycap, "%s: cannot set up verification: %s", path,
		         strerror(errno ? errno : ENOMEM));
		goto fail;
	}
	free(line);
	fclose(f);
	*out = ts;
	return 0;
fail:
	free(line);
	if (f)
		fclose(f);
	sx_tenants_free(ts);
	return rc;
}

void sx_tenants_free(sx_tenants *ts)
{
	if (!ts)
		return;
	for (size_t i = 0; i < ts->n; i++)
		free(ts->v[i].hash);
	free(ts->v);
	if (ts->cache)
		explicit_bzero(ts->cache, ts->n * sizeof *ts->cache);
	free(ts->cache);
	free(ts->conns);
	pthread_mutex_destroy(&ts->lock);
	free(ts);
}

size_t sx_tenants_count(const sx_tenants *ts)
{
	return ts->n;
}

const sx_tenant *sx_tenants_find(const sx_tenants *ts, const char *name, size_t n)
{
	for (size_t i = 0; i < ts->n; i++)
		if (strlen(ts->v[i].name) == n && !memcmp(ts->v[i].name, name, n))
			return &ts->v[i];
	return NULL;
}

static double rl_burst(uint32_t key)
{
	return key == RL_ADDR ? RL_ADDR_BURST : RL_BURST;
}

static void rl_refill(rl_slot *s, double now)
{
	double burst = rl_burst(s->key);
	s->tokens += (now - s->last) * (s->key == RL_ADDR ? RL_ADDR_RATE : RL_RATE);
	if (s->tokens >= burst) {
		s->tokens = burst;
		s->failed = 0;
	}
	s->last = now;
}

/* The address a bucket counts: an IPv4 (v4-mapped) address as it is, an
 * IPv6 one by its /64, the least a site or a single host is given (one
 * host may use every address of it, e.g. through PROXY protocol). */
static sx_addr rl_addr(const sx_addr *a)
{
	static const uint8_t mapped[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };
	sx_addr k = *a;
	if (memcmp(k.b, mapped, sizeof mapped))
		memset(k.b + 8, 0, 8);
	return k;
}

static uint32_t rl_key(const sx_tenants *ts, const sx_tenant *t)
{
	return t ? (uint32_t)(t - ts->v) : RL_UNKNOWN;
}

/* The buckets of (addr, key) and of addr's cap, refilled to now, or NULL:
 * one pass over the table.  Lock held. */
static void rl_find(sx_tenants *ts, const sx_addr *addr, uint32_t key, double now,
                    rl_slot **name, rl_slot **all)
{
	*name = *all = NULL;
	for (size_t i = 0; i < RL_SLOTS && !(*name && *all); i++) {
		rl_slot *s = &ts->rl[i];
		if (!s->used || (s->key != key && s->key != RL_ADDR) ||
		    memcmp(&s->addr, addr, sizeof *addr))
			continue;
		rl_refill(s, now);
		*(s->key == key ? name : all) = s;
	}
}

/* How little state a slot holds, for eviction: its bucket's fill (0..1),
 * and below any free bucket's while AUTHs hold tokens of it.  (Not its
 * last refill: every scan refills every slot, so all are equally old.) */
static double rl_fill(const rl_slot *s)
{
	return s->tokens / rl_burst(s->key) - (s->held ? 1.0 : 0.0);
}

/* A new, full bucket for (addr, key), never the slot keep; when every slot
 * holds state, the fullest is evicted (the closest to forgetting anyway),
 * never a limited one while a fuller one exists, so a flood of fresh
 * addresses cannot reset an attacker's empty bucket.  Lock held. */
static rl_slot *rl_new(sx_tenants *ts, const sx_addr *addr, uint32_t key, double now,
                       const rl_slot *keep)
{
	rl_slot *s = NULL, *fullest = NULL;
	for (size_t i = 0; i < RL_SLOTS && !s; i++) {
		rl_slot *c = &ts->rl[i];
		if (c == keep)
			continue;
		if (c->used)
			rl_refill(c, now);
		if (!c->used || (!c->held && c->tokens >= rl_burst(c->key)))
			s = c;          /* free, or full: no state to lose */
		else if (!fullest || rl_fill(c) > rl_fill(fullest))
			fullest = c;
	}
	if (!s)
		s = fullest;
	*s = (rl_slot){ .addr = *addr, .key = key, .tokens = rl_burst(key),
	                .last = now, .used = 1 };
	return s;
}

int sx_tenants_admit(sx_tenants *ts, const sx_addr *client, const sx_tenant *t,
                     int may_wait)
{
	sx_addr k = rl_addr(client);
	const sx_addr *addr = &k;
	uint32_t key = rl_key(ts, t);
	double now = mono_now();
	pthread_mutex_lock(&ts->lock);
	rl_slot *name, *all;
	rl_find(ts, addr, key, now, &name, &all);
	int name_ok = !name || name->tokens >= 1.0;
	int all_ok = !all || all->tokens >= 1.0;
	int rc;
	if (name_ok && all_ok) {
		if (!name)
			name = rl_new(ts, addr, key, now, all);
		if (!all)
			all = rl_new(ts, addr, RL_ADDR, now, name);
		name->tokens -= 1.0;
		name->held++;
		all->tokens -= 1.0;
		all->held++;
		rc = SX_ADMIT_OK;
	} else if (may_wait && (name_ok || (name->held && !name->failed)) &&
	           (all_ok || (all->held && !all->failed))) {
		/* emptied by AUTHs still being verified, none failed yet (a
		 * pool of connections logging in at once): their outcome
		 * decides, and the caller asks again after them */
		rc = SX_ADMIT_WAIT;
	} else {
		ts->n_limited++;
		rc = SX_ADMIT_LIMITED;
	}
	pthread_mutex_unlock(&ts->lock);
	return rc;
}

void sx_tenants_settle(sx_tenants *ts, const sx_addr *client, const sx_tenant *t, int ok)
{
	sx_addr k = rl_addr(client);
	const sx_addr *addr = &k;
	double now = mono_now();
	pthread_mutex_lock(&ts->lock);
	rl_slot *b[2];
	rl_find(ts, addr, rl_key(ts, t), now, &b[0], &b[1]);
	for (int i = 0; i < 2; i++) {
		if (!b[i])
			continue;     /* evicted meanwhile: nothing to settle */
		if (b[i]->held)
			b[i]->held--;
		if (!ok)
			b[i]->failed = 1;
		if (ok) {
			b[i]->tokens += 1.0;
			if (b[i]->tokens > rl_burst(b[i]->key))
				b[i]->tokens = rl_burst(b[i]->key);
		}
	}
	pthread_mutex_unlock(&ts->lock);
}

const sx_tenant *sx_tenants_find_cert(const sx_tenants *ts, const uint8_t sha256[32])
{
	for (size_t i = 0; ts && i < ts->n; i++)
		if (ts->v[i].has_cert && !memcmp(ts->v[i].cert, sha256, 32))
			return &ts->v[i];
	return NULL;
}

size_t sx_tenants_with_cert(const sx_tenants *ts)
{
	size_t n = 0;
	for (size_t i = 0; ts && i < ts->n; i++)
		n += ts->v[i].has_cert;
	return n;
}

size_t sx_tenants_with_metrics(const sx_tenants *ts)
{
	size_t n = 0;
	for (size_t i = 0; ts && i < ts->n; i++)
		n += ts->v[i].metrics;
	return n;
}

int sx_tenants_cached(sx_tenants *ts, const sx_tenant *t, const char *secret, size_t n)
{
	if (!t || !t->hash || n > SX_TENANT_SECRET_MAX)
		return 0;
	secret_cache *c = &ts->cache[t - ts->v];
	pthread_mutex_lock(&ts->lock);
	int ok = c->valid && ct_equal(c->s, c->len, secret, n);
	if (ok)
		ts->n_ok++;
	pthread_mutex_unlock(&ts->lock);
	return ok;
}

int sx_tenants_verify(sx_tenants *ts, const sx_tenant *t, const sx_addr *addr,
                      const char *secret, size_t n)
{
	int ok = 0;
	struct crypt_data *cd = calloc(1, sizeof *cd);
	char pw[SX_TENANT_SECRET_MAX + 1];
	/* crypt(3) takes a C string: a secret with a NUL byte never matches. */
	if (cd && n <= SX_TENANT_SECRET_MAX && !memchr(secret, 0, n)) {
		memcpy(pw, secret, n);
		pw[n] = 0;
		/* unknown tenant, or a certificate-only one: a dummy hash, so
		 * that the answer takes as long */
		const char *setting = t && t->hash ? t->hash : ts->dummy;
		const char *h = crypt_r(pw, setting, cd);
		ok = t && t->hash && h && h[0] != '*' &&
		     ct_equal(h, strlen(h), t->hash, strlen(t->hash));
		explicit_bzero(pw, sizeof pw);
	}
	free(cd);

	pthread_mutex_lock(&ts->lock);
	if (ok) {
		secret_cache *c = &ts->cache[t - ts->v];
		memcpy(c->s, secret, n);
		c->len = n;
		c->valid = 1;
		ts->n_ok++;
	} else {
		ts->n_failed++;
	}
	pthread_mutex_unlock(&ts->lock);
	sx_tenants_settle(ts, addr, t, ok);
	return ok;
}

int sx_tenants_conn_move(sx_tenants *ts, const sx_tenant *from, const sx_tenant *to)
{
	if (from == to)
		return 0;
	if (to) {
		_Atomic uint32_t *n = &ts->conns[to - ts->v];
		uint32_t cur = atomic_load_explicit(n, memory_order_relaxed);
		do {
			if (to->max_conns && cur >= to->max_conns)
				return SX_EFULL;
		} while (!atomic_compare_exchange_weak_explicit(n, &cur, cur + 1,
		                                                memory_order_relaxed,
		                                                memory_order_relaxed));
	}
	if (from)
		atomic_fetch_sub_explicit(&ts->conns[from - ts->v], 1, memory_order_relaxed);
	return 0;
}

uint32_t sx_tenants_conns(const sx_tenants *ts, const sx_tenant *t)
{
	return atomic_load_explicit(&ts->conns[t - ts->v], memory_order_relaxed);
}

void sx_tenants_counts(sx_tenants *ts, uint64_t *ok, uint64_t *failed,
                       uint64_t *limited)
{
	pthread_mutex_lock(&ts->lock);
	*ok = ts->n_ok;
	*failed = ts->n_failed;
	*limited = ts->n_limited;
	pthread_mutex_unlock(&ts->lock);
}
