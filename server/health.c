/*
 * health.c - the one health decision (see health.h).
 */
#include <stdatomic.h>
#include <stdio.h>

#include "health.h"
#include "live.h"
#include "server_int.h"

int sx_srv_health(sx_srv *s, const sx_served *cur, char *why, size_t cap)
{
	if (!cur || !cur->snap) {
		snprintf(why, cap, "no snapshot loaded");
		return 0;
	}
	if (atomic_load(&s->stopping)) {
		snprintf(why, cap, "draining: shutting down");
		return 0;
	}
	return sx_live_healthy(s, why, cap);
}
