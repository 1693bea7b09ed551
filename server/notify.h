/*
 * notify.h - tell the service manager how the server is doing: systemd's
 * Type=notify protocol (sd_notify(3), libsystemd).
 *
 *   READY=1, MAINPID=, STATUS=   once every listener accepts (main.c)
 *   RELOADING=1, MONOTONIC_USEC= when a snapshot swap begins, READY=1 when
 *                                it has ended, swapped or refused (reload.c,
 *                                on the job thread; RELOAD and SIGHUP)
 *   STOPPING=1                   when the drain begins (main.c)
 *   WATCHDOG=1                   every half WatchdogSec while every event
 *                                loop turns (main.c asks sx_srv_alive)
 *   STATUS=                      one line for `systemctl status`
 *
 * Without NOTIFY_SOCKET (not under systemd, Type=simple) or before
 * sx_notify_init every call returns at once: the server library used in a
 * test process says nothing.  The messages are process-wide, like the log:
 * any thread may send, and the manager sees the process's PID (its
 * threads share it), so NotifyAccess=main accepts them all.
 *
 * A status is one line: control characters in it (a RELOAD path may carry
 * a newline) become '?', so no text reaches the manager as a field of its
 * own ("MAINPID=1" in a path is not a new main PID).
 *
 * Layer: base (2), beside log.c.  A service (reload.c) says when a swap
 * begins and ends; whether the process is ready, stopping or alive is
 * decided above it (main.c, server.c).
 */
#ifndef SX_NOTIFY_H
#define SX_NOTIFY_H

#include <stdint.h>

/* Read NOTIFY_SOCKET and the watchdog (WATCHDOG_USEC, WATCHDOG_PID) once;
 * main, before any thread starts.  1 when a manager listens, else 0. */
int sx_notify_init(void);

/* The manager's watchdog interval in microseconds (WatchdogSec), 0 when
 * there is none for this process.  Valid after sx_notify_init. */
uint64_t sx_notify_watchdog_usec(void);

/* READY=1 with MAINPID and the status (printf-style); the first one makes
 * the service active, sent once every listener accepts. */
void sx_notify_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* RELOADING=1 with MONOTONIC_USEC (systemd >= 253 wants it; older ones
 * ignore it) and the status; sx_notify_reloaded sends READY=1 with the
 * status when the swap has ended, whatever its outcome.  Both only between
 * READY and STOPPING (a reload queued before SIGTERM says nothing). */
void sx_notify_reloading(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sx_notify_reloaded(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* STOPPING=1 with the status: the drain has begun. */
void sx_notify_stopping(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* STATUS= alone. */
void sx_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* WATCHDOG=1: the process is alive (only main's loop sends it, after
 * checking that the event loops turn). */
void sx_notify_watchdog(void);

#endif
