/*
 * metrics.h - the metrics port: a tiny HTTP/1.0 server on its own thread
 * answering GET /metrics (Prometheus text) and GET /health (200 "ok" while
 * a snapshot is loaded and the server is not draining, else 503 with the
 * reason) for load balancers and scrapers.  One request per connection,
 * handled in turn with short socket timeouts: a scraper every few seconds
 * needs no more, and no I/O thread ever runs HTTP.
 */
#ifndef SX_METRICS_H
#define SX_METRICS_H

#include <stddef.h>

struct sx_srv;
typedef struct sx_metrics sx_metrics;

/* Take ownership of the listening socket lfd; reader is the qsbr slot the
 * thread uses to read the serving snapshot.  Returns 0 or -errno. */
int sx_metrics_start(struct sx_srv *s, int lfd, int reader, sx_metrics **out);
/* Stop the thread, close the socket, free. */
void sx_metrics_stop(sx_metrics *m);

#endif
