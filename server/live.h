/*
 * live.h - live updates in the server (SPEC sections 7, 8, 10): the admin
 * commands, the journal and its replay, the feedback log to the courts,
 * and the Redis Stream follower.
 *
 * Every update runs on the job thread, one at a time: apply it to the
 * serving state (a new overlay, overlay.h), append it to the journal and
 * fsync, then publish the new state (qsbr.h) and only then answer
 * "+OK <sequence>".  A failed append publishes nothing and answers an
 * error: an update is acknowledged only once durable.  Reloads run on the
 * same thread, so an update never races a swap; a reload replays the
 * journal entries at or after the new snapshot's as-of on top of it.
 */
#ifndef SX_LIVE_H
#define SX_LIVE_H

#include <stddef.h>
#include "decide.h"
#include "jobs.h"
#include "qsbr.h"

struct sx_srv;
struct sx_origin;

/* At startup: open the journal (replaying it onto *first, which may be
 * replaced by a state with the updates) and the feedback log.  Returns 0,
 * or a negative code with why (a corrupt journal refuses to start). */
int sx_live_open(struct sx_srv *s, sx_served **first, char *why, size_t cap);
/* Start the stream follower, if configured. */
int sx_live_start(struct sx_srv *s, char *why, size_t cap);
/* Stop the follower, flush and close the feedback log and the journal. */
void sx_live_close(struct sx_srv *s);

/* On a reload (job thread): replay the journal onto the new snapshot.
 * Returns next, or a replacement state carrying the updates (next is then
 * freed); NULL only when out of memory. */
sx_served *sx_live_rebase(struct sx_srv *s, sx_served *next);

/* A job that applies one update (argv: LIST.ADD ... as the command's
 * words; the overlay tells them apart) or, with compact, JOURNAL.COMPACT;
 * its result is "OK <sequence>" or the error.  NULL with the RESP error
 * text ("ERR ...") in err when refused at once (a follower, no journal).
 * o is who asked and from where: the journal records it with the update,
 * and the update's audit line (audit.h) names it, whatever the outcome. */
sx_job *sx_live_update_job(struct sx_srv *s, const sx_str *argv, size_t argc,
                           int compact, const struct sx_origin *o, char *err,
                           size_t cap);

/* 1 when this replica follows a stream (--updates-from), whose updates
 * then come only from there: an update asked of it is refused. */
int sx_live_follows(struct sx_srv *s);
/* 1 when live updates have a journal (--journal) to be made durable in;
 * without one they are refused. */
int sx_live_journaled(struct sx_srv *s);

/* INFO's "# Live" section into buf; returns the length. */
size_t sx_live_info(struct sx_srv *s, char *buf, size_t cap);
/* Prometheus lines into buf; returns the length. */
size_t sx_live_metrics(struct sx_srv *s, char *buf, size_t cap);
/* Ready to serve (GET /health)?  1, or 0 with the reason in why. */
int sx_live_healthy(struct sx_srv *s, char *why, size_t cap);

#endif
