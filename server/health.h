/*
 * health.h - is this server fit to serve?  One answer for every place
 * that asks: GET /health (200 or 503 with the reason) and the sxgate_up
 * series of /metrics, so that a load balancer and a dashboard never
 * disagree.
 *
 * Healthy means: a snapshot is served, the server is not draining, and
 * the update feed (--updates-from, when there is one) is connected, its
 * lag measured and not past --max-lag (live.c sx_live_healthy).
 */
#ifndef SX_HEALTH_H
#define SX_HEALTH_H

#include <stddef.h>

struct sx_srv;
struct sx_served;

/*
 * 1 when healthy; 0 with the reason (one line, no newline) in why[0..cap).
 * cur is the snapshot the caller holds through its qsbr reader slot
 * (sx_qsbr_online; NULL: none), so the answer is about the snapshot the
 * caller would serve.  Thread-safe; takes no lock a worker holds.
 */
int sx_srv_health(struct sx_srv *s, const struct sx_served *cur, char *why, size_t cap);

#endif
