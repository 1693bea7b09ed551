/*
 * log.h - the server's log: one line per event on stderr, each line
 * "2026-11-27T21:30:00.123+08:00 sxgated[pid]: message", written with one
 * write(2) so that lines from different threads never interleave.
 *
 * The log is for operators and for tests that wait for "ready"; it is not
 * on any request path (a line costs a localtime_r and a write).
 */
#ifndef SX_LOG_H
#define SX_LOG_H

/* Set the program name shown in every line (default "sxgated"). */
void sx_log_init(const char *prog);

/* Log one line (no trailing newline needed).  Never fails visibly. */
void sx_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
