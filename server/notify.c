/*
 * notify.c - the Type=notify messages of notify.h through libsystemd's
 * sd_notify.
 *
 * Each message is one datagram, built here and sent with sd_notify (which
 * opens the socket, sends and closes: a few microseconds, at most a few
 * times per reload, never on a request path).  What was said last is kept
 * in one atomic, so a reload that ends after STOPPING=1 does not make the
 * service look ready again.  Errors are ignored: a manager that went away
 * cannot be told anything, and the server must serve anyway.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"

enum { ST_OFF = 0, ST_STARTING, ST_READY, ST_STOPPING };

static _Atomic int notify_state;          /* ST_*; OFF: nobody listens */
static uint64_t watchdog_usec;

int sx_notify_init(void)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0)
		watchdog_usec = usec;
	atomic_store(&notify_state, sock && *sock ? ST_STARTING : ST_OFF);
	return atomic_load(&notify_state) != ST_OFF;
}

uint64_t sx_notify_watchdog_usec(void)
{
	return atomic_load(&notify_state) == ST_OFF ? 0 : watchdog_usec;
}

/* head, then "STATUS=" and the formatted text with control characters
 * made '?', as one datagram. */
static void send_status(const char *head, const char *fmt, va_list ap)
{
	char msg[1024];
	int n = snprintf(msg, sizeof msg, "%sSTATUS=", head);
	if (n < 0 || (size_t)n >= sizeof msg)
		return;
	size_t at = (size_t)n;
	vsnprintf(msg + at, sizeof msg - at, fmt, ap);
	for (char *p = msg + at; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	sd_notify(0, msg);
}

void sx_notify_ready(const char *fmt, ...)
{
	int st = ST_STARTING;
	if (!atomic_compare_exchange_strong(&notify_state, &st, ST_READY))
		return;
	char head[64];
	snprintf(head, sizeof head, "READY=1\nMAINPID=%ld\n", (long)getpid());
	va_list ap;
	va_start(ap, fmt);
	send_status(head, fmt, ap);
	va_end(ap);
}

void sx_notify_reloading(const char *fmt, ...)
{
	if (atomic_load(&notify_state) != ST_READY)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	char head[96];
	snprintf(head, sizeof head, "RELOADING=1\nMONOTONIC_USEC=%llu\n",
	         (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000u);
	va_list ap;
	va_start(ap, fmt);
	send_status(head, fmt, ap);
	va_end(ap);
}

void sx_notify_reloaded(const char *fmt, ...)
{
	if (atomic_load(&notify_state) != ST_READY)
		return;
	va_list ap;
	va_start(ap, fmt);
	send_status("READY=1\n", fmt, ap);
	va_end(ap);
}

void sx_notify_stopping(const char *fmt, ...)
{
	int st = atomic_load(&notify_state);
	do
		if (st == ST_OFF || st == ST_STOPPING)
			return;
	while (!atomic_compare_exchange_weak(&notify_state, &st, ST_STOPPING));
	va_list ap;
	va_start(ap, fmt);
	send_status("STOPPING=1\n", fmt, ap);
	va_end(ap);
}

void sx_notify_status(const char *fmt, ...)
{
	if (atomic_load(&notify_state) == ST_OFF)
		return;
	va_list ap;
	va_start(ap, fmt);
	send_status("", fmt, ap);
	va_end(ap);
}

void sx_notify_watchdog(void)
{
	if (atomic_load(&notify_state) != ST_OFF)
		sd_notify(0, "WATCHDOG=1");
}
