/*
 * follow.h - following a Redis Stream of live updates (SPEC section 10).
 *
 * One thread per server reads `redis://HOST:PORT/STREAM` (or rediss://,
 * TLS; with a password: redisconn.h has the URL) with XREAD from
 * the last entry it applied and hands each entry, turned into update
 * words (sx_update_from_fields), to the server's update path with the
 * entry's ID as the source tag and its millisecond part as the time.  The
 * journal records the source tag, so a restart resumes after the last
 * entry that was made durable, and applying is idempotent by entry ID.
 *
 * An entry that is malformed, or that the update path refuses (a bad
 * field, "not found"), is logged, counted and skipped.  An entry the
 * update path could not make durable (journal write failed) is retried:
 * skipping it would lose it.  When Redis is down the thread reconnects
 * with backoff and the server keeps serving the last state; the lag it
 * reports grows.
 */
#ifndef SX_FOLLOW_H
#define SX_FOLLOW_H

#include <stddef.h>
#include <stdint.h>
#include "decide.h"

typedef struct sx_follow sx_follow;

/* Apply one update; by is the entry's `by` field, who published it
 * ({NULL, 0}: none).  Returns 0 when applied and durable; SX_EINVAL or
 * SX_ENOTFOUND when refused (skip it); another negative code when it
 * could not be made durable (retry it). */
typedef int sx_follow_apply_fn(void *arg, const sx_str *argv, size_t argc,
                               int64_t time_ms, const char *source, sx_str by,
                               char *why, size_t cap);
/* Log a line at level (SX_LOG_* of log.h; the server's logger). */
typedef void sx_follow_log_fn(void *arg, int level, const char *msg);

typedef struct sx_follow_config {
	const char *url;              /* redis[s]://[USER[:PASSWORD]@]HOST[:PORT]/STREAM
	                                 (redisconn.h) */
	const char *password_file;    /* first line: the password; NULL: none */
	const char *cafile;           /* rediss:// CAs; NULL: the system's */
	const char *resume_after;     /* last applied entry ID, "" or NULL: 0-0 */
	sx_follow_apply_fn *apply;
	sx_follow_log_fn *log;
	void *arg;
	int block_ms;                 /* XREAD BLOCK (default 1000) */
} sx_follow_config;

typedef struct sx_follow_stats {
	int connected;
	int caught_up;                /* the last read reached the stream's end */
	int checked;                  /* the lag was measured since connecting */
	uint64_t applied, skipped, malformed, retries, reconnects;
	uint64_t lag_entries;         /* fetched but not yet applied */
	double lag_seconds;           /* newest entry's time - last applied's */
	char last_id[48];
	char last_error[512];
} sx_follow_stats;

/* Parse the URL, read the password file and start the thread.  Returns
 * 0, or SX_EINVAL or -errno with the reason in why (a bad URL, a password
 * file group or others may read, --updates-ca without rediss:// or not
 * readable); why never holds the password.  The strings of cfg must stay
 * valid until sx_follow_stop. */
int sx_follow_start(const sx_follow_config *cfg, sx_follow **out, char *why,
                    size_t cap);
void sx_follow_get_stats(sx_follow *f, sx_follow_stats *st);
/* Stop the thread (within about block_ms) and free. */
void sx_follow_stop(sx_follow *f);

/* Compare two stream entry IDs "ms-seq": <0, 0, >0. */
int sx_follow_id_cmp(const char *a, const char *b);

#endif
