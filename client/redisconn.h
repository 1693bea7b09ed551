/*
 * redisconn.h - one small Redis client for the two programs that talk to
 * the update feed: the follower inside sxgated (server/follow.c) and
 * `sxgate publish` (tools/cli_publish.c).
 *
 * The URL, the same for both:
 *
 *     redis://[USER[:PASSWORD]@]HOST[:PORT]/STREAM      plain TCP
 *     rediss://[USER[:PASSWORD]@]HOST[:PORT]/STREAM     TLS
 *
 * HOST is a name, an IPv4 address or an [IPv6] address in brackets; PORT
 * defaults to 6379; USER and PASSWORD may use %XX escapes (an '@', ':' or
 * '/' in a password).  "redis://:PASSWORD@HOST..." is the password alone
 * (Redis's requirepass, `AUTH PASSWORD`); with a user it is `AUTH USER
 * PASSWORD` (Redis 6 ACLs).  A password in a URL shows in ps, shell
 * history and unit files, so a password file is the better way; every
 * place a URL is printed prints sx_redis_url_mask()'s form instead,
 * "redis://user:***@host:port/stream".
 *
 * Why not hiredis: Debian 12's hiredis is 0.14, without TLS (hiredis_ssl
 * came with 1.0).  Speaking RESP needs little: commands are arrays of bulk
 * strings, and the client library already has a strict, bounded parser for
 * replies (sx_client_resp_parse); TLS is tlsconn.h's.  The TCP connect is
 * the client library's too (sx_client_connect, whose socket is taken
 * over), so name resolution, every address and the timeout are one copy.
 *
 * A connection is blocking from the caller's view and every wait is
 * bounded by its timeout; it is meant for one thread at a time.
 */
#ifndef SX_REDISCONN_H
#define SX_REDISCONN_H

#include <stddef.h>

#include "sxclient.h"

/* Errors of the connection (with the SX_E* and SX_CLIENT_E* codes). */
#define SX_REDIS_ERRORS(X)                                                   \
	X(SX_REDIS_EAUTH,   -30201, "Redis refused the password (AUTH)")     \
	X(SX_REDIS_ENOAUTH, -30202, "Redis wants a password (NOAUTH)")       \
	X(SX_REDIS_ETLS,    -30203, "TLS with Redis failed")
enum {
#define X(name, val, msg) name = val,
	SX_REDIS_ERRORS(X)
#undef X
};

typedef struct sx_redis_url {
	int tls;                 /* rediss:// */
	char host[256];          /* without the brackets of an IPv6 address */
	int port;
	char user[128];          /* "" : the default user */
	char password[512];      /* "" : none (decoded) */
	int password_in_url;     /* it came from the URL, not a file */
	char stream[256];
	char masked[1024];       /* the URL to print: password as *** */
} sx_redis_url;

/*
 * Parse url into *u.  Returns 0, or SX_EINVAL with a reason in why that
 * names the URL masked (never the password) and the grammar.  flag is how
 * the caller names the URL ("--updates-from", "sxgate publish").
 */
int sx_redis_url_parse(const char *flag, const char *url, sx_redis_url *u,
                       char *why, size_t cap);

/* url with the password of its user part replaced by "***" (as much as
 * fits in cap, NUL-terminated); works on malformed URLs too.  Returns buf. */
char *sx_redis_url_mask(const char *url, char *buf, size_t cap);

/*
 * The password from the first line of path (flag names it in messages,
 * e.g. "--updates-password-file"), into u->password.  Refused, with the
 * file and the reason in why (SX_EINVAL or -errno): a file group or others
 * may read or write (its mode named), an empty first line, one that is
 * too long, and a URL that has a password already (two sources).
 */
int sx_redis_url_password_file(sx_redis_url *u, const char *flag,
                               const char *path, char *why, size_t cap);

typedef struct sx_redis sx_redis;

/*
 * Connect to u (TLS for rediss://, verified against cafile, NULL: the
 * system's CAs, and the host), then authenticate: AUTH [USER] PASSWORD
 * when u has a password, else PING, so that a Redis that wants one says
 * so now.  timeout_ms (> 0) bounds the connect, the handshake and every
 * later wait.  Returns 0 with *out (sx_redis_close frees it), or:
 *   SX_REDIS_EAUTH    why "AUTH refused: WRONGPASS ..." (Redis's words)
 *   SX_REDIS_ENOAUTH  why "NOAUTH ..." (no password given)
 *   SX_REDIS_ETLS     why from tlsconn: "certificate verify failed: ..."
 *   -errno            why "connect HOST:PORT: ..." (or a timeout)
 *   SX_CLIENT_E*      a reply that is not RESP (not a Redis?)
 * why never holds the password.
 */
int sx_redis_connect(const sx_redis_url *u, const char *cafile, int timeout_ms,
                     sx_redis **out, char *why, size_t cap);

/* Bound every later wait by timeout_ms (> 0). */
void sx_redis_set_timeout(sx_redis *r, int timeout_ms);

/*
 * Send argv[0..argc) (lens NULL: strlen) as one command and wait for its
 * reply.  Returns 0 with *reply, a view valid until the next call or
 * sx_redis_close; an error reply ("-ERR ...") is a reply (type '-').
 * Else a negative code (-ETIMEDOUT, SX_CLIENT_ECLOSED, SX_CLIENT_EPROTO,
 * ...) with the detail in sx_redis_errmsg; the connection is then unusable.
 */
int sx_redis_call(sx_redis *r, int argc, const char *const *argv,
                  const size_t *lens, sx_client_resp *reply);

/* Detail of the last error on r; valid until the next call on r. */
const char *sx_redis_errmsg(const sx_redis *r);

/* A static string for any code sx_redis_* returns. */
const char *sx_redis_strerror(int err);

/* Close (TLS close_notify, best effort) and free.  NULL is ok. */
void sx_redis_close(sx_redis *r);

#endif
