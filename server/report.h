/*
 * report.h - the server's counters as text: the INFO reply (Redis style
 * "# Section" / "key:value" lines) and the Prometheus text exposition of
 * /metrics.  Both sum the per-worker counters at the time of the call.
 */
#ifndef SX_REPORT_H
#define SX_REPORT_H

#include <stddef.h>

#include "decide.h"
#include "qsbr.h"

struct sx_srv;

/* INFO [section ...]: no section, "all", "default" or "everything" give
 * every section; an unknown name gives nothing for it (as Redis).  full:
 * everything (an admin tenant, or no tenants at all); 0: a tenant's view,
 * the snapshot's generation, as-of, build time and counts, the uptime and
 * the memory, and no path, PID, address, port, URL or error text.
 * Returns a malloc'd text of *n bytes (aborts when out of memory). */
char *sx_report_info(struct sx_srv *s, const sx_served *cur,
                     const sx_str *sections, size_t nsec, int full, size_t *n);

/* Prometheus text format 0.0.4.  malloc'd, *n bytes. */
char *sx_report_metrics(struct sx_srv *s, const sx_served *cur, size_t *n);

/* Resident set size in bytes (/proc/self/statm), 0 when unknown. */
size_t sx_report_rss(void);

#endif
