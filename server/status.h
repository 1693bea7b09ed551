/*
 * status.h - the operators' status page (GET /) and its JSON (GET
 * /v1/stats): the gate's state on one page, and lookups per second over
 * the last minutes.
 *
 * The counters (stats.h) only ever grow, so a rate needs a history.  The
 * history is a ring of SX_STATUS_WINDOW + 1 samples, one a second, of the
 * summed decision counters (lookups by outcome, query errors): the workers
 * offer a sample from their once-a-second tick (sx_status_tick, a
 * trylock, so a worker never waits for it), and every page or JSON asked
 * for offers one first, so what is shown is at most a second old.  A
 * sample sums a few dozen counters over the workers with relaxed loads:
 * nothing is added to the lookup path.  Rates are the differences of
 * consecutive samples over their spacing, so a missed tick (a loop busy
 * for two seconds) makes one wider step, not a wrong rate.
 *
 * Who may see what is proto_http.c's: full (an admin tenant, or a loopback
 * server without tenants) adds the reload's error text and the feedback
 * log's path; a metrics tenant sees the numbers and states only.  Never a
 * secret (the feed's URL in an unhealthy server's reason has its password
 * masked, as in INFO) or a tenant's name.
 */
#ifndef SX_STATUS_H
#define SX_STATUS_H
#include <stddef.h>
#include <stdint.h>

struct sx_srv;
struct sx_served;

#define SX_STATUS_WINDOW  300   /* seconds of history in the chart */
#define SX_STATUS_REFRESH 2     /* seconds between the page's refreshes */

typedef struct sx_status_hist sx_status_hist;

/* The history (NULL when out of memory: the page then has no chart). */
sx_status_hist *sx_status_hist_new(void);
void sx_status_hist_free(sx_status_hist *h);

/* Offer a sample at monotonic second now (a worker's tick): taken when
 * none was this second and nobody else is taking one.  Thread-safe. */
void sx_status_tick(struct sx_srv *s, int64_t now);

/* GET /v1/stats: the JSON text, malloc'd, its length in *n. */
char *sx_status_json(struct sx_srv *s, const struct sx_served *cur, int full, size_t *n);

/* GET /: the HTML page, malloc'd, its length in *n.  It needs the header
 * lines of sx_status_page_headers(). */
char *sx_status_html(struct sx_srv *s, const struct sx_served *cur, int full, size_t *n);

/* "Content-Security-Policy: ...\r\n" and the other header lines the page
 * is sent with (its inline script and style allowed by their SHA-256,
 * nothing else loaded but /v1/stats). */
const char *sx_status_page_headers(void);

#endif
