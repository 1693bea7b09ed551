/*
 * log.c - timestamped log lines on stderr.
 *
 * The timestamp is local time with its UTC offset (ISO 8601 with
 * milliseconds) so that an operator can line the log up with other logs of
 * the host; decisions themselves always use UTC+8 (SPEC section 4), which is
 * the engine's business, not the log's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_prog = "sxgated";

void sx_log_init(const char *prog)
{
	if (prog)
		log_prog = prog;
}

void sx_log(const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	long off = tm.tm_gmtoff / 60;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof line - n, ".%03ld%c%02ld:%02ld %s[%ld]: ",
	                      ts.tv_nsec / 1000000, sign, off / 60, off % 60,
	                      log_prog, (long)getpid());

	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof line - n, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += (size_t)m;
	if (n > sizeof line - 2)
		n = sizeof line - 2;   /* truncated: still one line */
	line[n++] = '\n';

	const char *p = line;
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}
