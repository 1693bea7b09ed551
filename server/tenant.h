/*
 * tenant.h - who may ask what (SPEC section 9): the tenants file, secret
 * verification, and rate limiting of failed AUTH attempts per address.
 *
 * File format (docs/SERVER.md), one tenant per line, '#' starts a comment:
 *
 *     name:hash:channels:flags[:options]
 *     rail12306:$y$j9T$...$...:rail:listed
 *     ops:$y$j9T$...$...:*:admin,listed
 *     air01:!:air:-:cert=4F:2A:...:9C
 *     prom:$y$j9T$...$...:*:metrics:max-conns=2
 *
 * A line is split at its first four colons; what follows a fourth is
 * space-separated key=value options, each at most once:
 *   cert=FINGERPRINT binds the tenant to a TLS client certificate (the
 *     SHA-256 of its DER, as `openssl x509 -noout -fingerprint -sha256`
 *     prints it, colons and case optional), so a connection presenting it
 *     is that tenant without AUTH.  A hash of `!` makes a certificate-only
 *     tenant (AUTH as it always fails).
 *   max-batch=N: at most N IDs in one batch request (MCHECK, a binary
 *     CHECK or LISTED frame), 1..SX_TENANT_MAX_BATCH (the default).
 *   max-conns=N: at most N connections authenticated as the tenant at
 *     once (AUTH or its certificate), 1..SX_TENANT_MAX_CONNS; default none.
 *
 * hash is a crypt(3) hash (yescrypt "$y$..." as `sxgate tenant-hash`
 * prints it; any method libcrypt rates current: yescrypt, gost-yescrypt,
 * scrypt, bcrypt, sha512-crypt; methods it rates legacy - md5-crypt $1$,
 * sha256-crypt $5$, sha1 - are refused, being cheap to guess); channels is `*`
 * or a comma-separated list of channel names; flags is `-` or a
 * comma-separated subset of `admin` (RELOAD, updates, the whole INFO),
 * `listed` (LISTED) and `metrics` (GET /metrics where it needs
 * credentials; admin does not imply it).
 *
 * Verifying a yescrypt hash costs tens of milliseconds on purpose, too long
 * for an I/O thread; the server runs sx_tenants_verify() on its job thread
 * and keeps, per tenant, the last secret that verified so that the many
 * connections of one booking system authenticate without a hash each
 * (sx_tenants_cached).  The cache lives only in memory, compares in
 * constant time, and is consulted only with a token reserved, so it is no
 * faster an oracle than the hash.
 *
 * Rate limit (docs/SERVER.md, Tenants): token buckets per (client address,
 * an IPv6 one by its /64, tenant name), 5 tokens refilled at 1 a second, and a cap per address over
 * all names, 20 tokens refilled at 4 a second; names not in the file share
 * one "unknown" bucket per address.  Every AUTH reserves a token from both
 * of its buckets before anything is compared (sx_tenants_admit) and gives
 * them back when the secret is right (sx_tenants_settle): only failures
 * spend tokens, and parallel guesses cannot outrun the bucket, because the
 * token is gone before the slow verification starts, not after it ends.
 * Guessing one tenant's secret limits that tenant from that address; other
 * tenants from the same address (all clients behind one proxy) go on,
 * until failures across names reach the address's cap.
 */
#ifndef SX_TENANT_H
#define SX_TENANT_H

#include <stddef.h>
#include <stdint.h>
#include "sx.h"

#define SX_TENANT_NAME_MAX   64
#define SX_TENANT_SECRET_MAX 255
/* IDs in one batch request (MCHECK, a binary frame): the server's cap and
 * the default of max-batch; a tenant may only be given less.  (A binary
 * frame has its own smaller cap, the max_batch HELLO advertises.) */
#define SX_TENANT_MAX_BATCH  10000u
#define SX_TENANT_MAX_CONNS  10000000u   /* max-conns's range, as --max-clients */

typedef struct sx_tenant {
	char name[SX_TENANT_NAME_MAX + 1];
	sx_codes channels;        /* mask of SX_CODE_BIT(SX_C_*) */
	uint8_t admin, listed, metrics;
	char *hash;               /* crypt(3) hash; NULL: certificate only */
	uint8_t has_cert;
	uint8_t cert[32];         /* SHA-256 of its client certificate */
	uint32_t max_batch;       /* IDs per batch request (default SX_TENANT_MAX_BATCH) */
	uint32_t max_conns;       /* connections at once; 0: no limit of its own */
} sx_tenant;

/* A client address for rate limiting: IPv4 is stored v4-mapped. */
typedef struct sx_addr { uint8_t b[16]; } sx_addr;

typedef struct sx_tenants sx_tenants;

/*
 * Load the tenants file at path.  Returns 0 and *out, or -errno / SX_EINVAL
 * with a message naming the file, line and what is wrong in why.
 * Free with sx_tenants_free().
 */
int sx_tenants_load(const char *path, sx_tenants **out, char *why, size_t whycap);
void sx_tenants_free(sx_tenants *ts);
size_t sx_tenants_count(const sx_tenants *ts);

/* The tenant called name, or NULL.  Valid until sx_tenants_free(). */
const sx_tenant *sx_tenants_find(const sx_tenants *ts, const char *name, size_t n);

/* The tenant bound to the client certificate with this SHA-256 (of its
 * DER), or NULL. */
const sx_tenant *sx_tenants_find_cert(const sx_tenants *ts, const uint8_t sha256[32]);

/* How many tenants a client certificate binds (cert=). */
size_t sx_tenants_with_cert(const sx_tenants *ts);

/* How many tenants have the metrics flag (ts may be NULL: 0). */
size_t sx_tenants_with_metrics(const sx_tenants *ts);

enum {
	SX_ADMIT_LIMITED = 0,   /* refused: failures emptied a bucket */
	SX_ADMIT_OK      = 1,   /* a token of each bucket is reserved */
	SX_ADMIT_WAIT    = 2,   /* empty only for AUTHs still being verified */
};

/*
 * May addr try to authenticate as t (NULL: a name not in the file) now?
 * SX_ADMIT_OK reserves a token from (addr, t)'s bucket and from addr's
 * cap; the caller must settle it (sx_tenants_settle, which
 * sx_tenants_verify does) once the secret is judged.  SX_ADMIT_WAIT (only
 * with may_wait) means an empty bucket was emptied by AUTHs still being
 * verified and has seen no failure since it was last full: ask again
 * after those (the job queue runs in order), with may_wait 0.  SX_ADMIT_LIMITED is counted as rate-limited;
 * the caller must refuse without comparing the secret at all.
 * Thread-safe.
 */
int sx_tenants_admit(sx_tenants *ts, const sx_addr *addr, const sx_tenant *t,
                     int may_wait);

/* Settle what sx_tenants_admit reserved for (addr, t): ok gives the tokens
 * back, a failure keeps them spent.  Thread-safe. */
void sx_tenants_settle(sx_tenants *ts, const sx_addr *addr, const sx_tenant *t, int ok);

/* 1 when secret is the last secret that verified for t (fast, no hash).
 * Call only with a token reserved (sx_tenants_admit), and settle it. */
int sx_tenants_cached(sx_tenants *ts, const sx_tenant *t, const char *secret, size_t n);

/*
 * Verify secret against t's hash (slow: crypt_r).  t may be NULL (unknown
 * tenant: a dummy hash is computed so that the answer takes as long).
 * Returns 1 for a match (and caches it), 0 otherwise, and settles the
 * token sx_tenants_admit reserved for (addr, t).  Thread-safe.
 */
int sx_tenants_verify(sx_tenants *ts, const sx_tenant *t, const sx_addr *addr,
                      const char *secret, size_t n);

/*
 * Connections authenticated as each tenant (max-conns).  A connection
 * that was tenant from (NULL: none) becomes tenant to (NULL: none, it
 * closes): to's count goes up unless it is at its max_conns, and from's
 * down.  Returns 0, or SX_EFULL when to is at its limit (nothing
 * changed).  Every connection's tenant must change through here, so the
 * counts stay exact.  Thread-safe (atomic counts).
 */
int sx_tenants_conn_move(sx_tenants *ts, const sx_tenant *from, const sx_tenant *to);

/* Connections now authenticated as t. */
uint32_t sx_tenants_conns(const sx_tenants *ts, const sx_tenant *t);

/* AUTH outcomes so far (verified or cached successes, failures, attempts
 * refused by the rate limit). */
void sx_tenants_counts(sx_tenants *ts, uint64_t *ok, uint64_t *failed,
                       uint64_t *limited);

#endif
