/*
 * log.h - the server's log: one line per event on stderr, each with its
 * level, written with one write(2) so that lines from different threads
 * never interleave:
 *
 *     2026-11-27T21:30:00.123+08:00 sxgated[4242]: warning: the open files limit ...
 *
 * When stderr is the systemd journal (systemd sets JOURNAL_STREAM to the
 * "device:inode" of the stream it connects to a service's stderr; it is
 * the journal exactly when that matches fstat(2) of our stderr, so a
 * shell or a redirect that inherited the variable is not fooled), each
 * line starts with the sd-daemon priority prefix instead of the time and
 * the name, which journald records itself:
 *
 *     <4>warning: the open files limit ...
 *
 * and journald files it under that priority (`journalctl -p warning`).
 *
 * Levels are syslog's, so the number is the prefix: error 3, warning 4,
 * info 6, debug 7.  --log-level drops the lines below it (default info).
 * The audit trail (audit.h) writes through sx_log_write(..., always = 1):
 * its lines keep their level and prefix but are never dropped by
 * --log-level; they have a rate limit of their own instead.
 *
 * The log is for operators and for tests that wait for "ready"; it is not
 * on any request path (a line costs a localtime_r and a write).
 */
#ifndef SX_LOG_H
#define SX_LOG_H

#include <stddef.h>

enum {
	SX_LOG_ERR   = 3,    /* the server cannot do what it should */
	SX_LOG_WARN  = 4,    /* it can, but an operator should look */
	SX_LOG_INFO  = 6,    /* what it does: start, reload, drain, audit */
	SX_LOG_DEBUG = 7,    /* details for whoever debugs it */
};

/* Set the program name shown in every line (default "sxgated"), and look
 * whether stderr is the journal (JOURNAL_STREAM).  Call before threads
 * start; again to look again. */
void sx_log_init(const char *prog);

/* Drop lines above this level (SX_LOG_*; default SX_LOG_INFO). */
void sx_log_set_level(int level);

/* "error", "warning", "info", "debug" (also "err", "warn") and their
 * numbers 3, 4, 6, 7 to SX_LOG_*; -1 for anything else. */
int sx_log_level_parse(const char *s);

/* The level's name as lines show it ("warning"). */
const char *sx_log_level_name(int level);

/* Would a line at level be written? */
int sx_log_enabled(int level);

/* 1 when lines carry journald's priority prefix instead of a time. */
int sx_log_journald(void);

/* Log one line at level (no trailing newline needed).  A message longer
 * than the line buffer (4 KiB) is cut, still one line.  Never fails
 * visibly.  The message should not hold a newline: one is printed as the
 * two characters "\n", so that no message makes a second line. */
void sx_logl(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define sx_log_err(...)   sx_logl(SX_LOG_ERR, __VA_ARGS__)
#define sx_log_warn(...)  sx_logl(SX_LOG_WARN, __VA_ARGS__)
#define sx_log_info(...)  sx_logl(SX_LOG_INFO, __VA_ARGS__)
#define sx_log_debug(...) sx_logl(SX_LOG_DEBUG, __VA_ARGS__)

/* Write msg[0..n) as one line at level; always: whatever --log-level
 * says (the audit trail).  Control characters in msg are escaped as in
 * sx_logl. */
void sx_log_write(int level, int always, const char *msg, size_t n);

/* Tests: write the lines to fd instead of stderr (-1: stderr again); the
 * journald check then looks at fd.  Call sx_log_init after it. */
void sx_log_set_fd(int fd);

#endif
