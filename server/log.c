/*
 * log.c - leveled log lines on stderr, or on the journal's stream (log.h).
 *
 * The timestamp is local time with its UTC offset (ISO 8601 with
 * milliseconds) so that an operator can line the log up with other logs of
 * the host; decisions themselves always use UTC+8 (SPEC section 4), which is
 * the engine's business, not the log's.  Under journald the time and the
 * name are left out (the journal stamps both, more precisely) and the line
 * starts with "<N>", the priority journald reads off a stream line.
 *
 * Every message is one line whatever it holds: a control character in it
 * (a newline in a Redis error, a path, a peer's words) is written as an
 * escape, so nothing logged can start a line of its own and pass for the
 * server's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LINE_MAX_ 4096

static const char *log_prog = "sxgated";
static int log_level = SX_LOG_INFO;
static int log_fd = STDERR_FILENO;
static int log_journald;

/* JOURNAL_STREAM=DEV:INO names the stream systemd gave the service; it is
 * ours only when our log descriptor is that very file. */
static int is_journal(int fd)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	char tail;
	struct stat st;
	if (!e || sscanf(e, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return 0;
	if (fstat(fd, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void sx_log_init(const char *prog)
{
	if (prog)
		log_prog = prog;
	log_journald = is_journal(log_fd);
}

void sx_log_set_fd(int fd)
{
	log_fd = fd < 0 ? STDERR_FILENO : fd;
}

void sx_log_set_level(int level)
{
	log_level = level;
}

int sx_log_enabled(int level)
{
	return level <= log_level;
}

int sx_log_journald(void)
{
	return log_journald;
}

static const struct { const char *name; int level; } names[] = {
	{ "error", SX_LOG_ERR }, { "warning", SX_LOG_WARN }, { "info", SX_LOG_INFO },
	{ "debug", SX_LOG_DEBUG }, { "err", SX_LOG_ERR }, { "warn", SX_LOG_WARN },
	{ "3", SX_LOG_ERR }, { "4", SX_LOG_WARN }, { "6", SX_LOG_INFO },
	{ "7", SX_LOG_DEBUG },
};

int sx_log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(s, names[i].name))
			return names[i].level;
	return -1;
}

const char *sx_log_level_name(int level)
{
	for (size_t i = 0; i < 4; i++)
		if (names[i].level == level)
			return names[i].name;
	return level < SX_LOG_ERR ? "error" : "debug";
}

/* Append msg[0..n) to line at *at (room up to cap - 1, for the newline),
 * control characters escaped. */
static void put_escaped(char *line, size_t cap, size_t *at, const char *msg, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = *at;
	for (size_t i = 0; i < n && o < cap - 1; i++) {
		unsigned char c = (unsigned char)msg[i];
		if (c >= 0x20 && c != 0x7f) {
			line[o++] = (char)c;
		} else if (c == '\n' && o + 2 < cap) {
			line[o++] = '\\';
			line[o++] = 'n';
		} else if (o + 4 < cap) {
			line[o++] = '\\';
			line[o++] = 'x';
			line[o++] = hex[c >> 4];
			line[o++] = hex[c & 15];
		} else {
			break;
		}
	}
	*at = o;
}

void sx_log_write(int level, int always, const char *msg, size_t n)
{
	char line[LINE_MAX_];
	size_t at;

	if (!always && !sx_log_enabled(level))
		return;
	if (log_journald) {
		at = (size_t)snprintf(line, sizeof line, "<%d>%s: ", level,
		                      sx_log_level_name(level));
	} else {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		long off = tm.tm_gmtoff / 60;
		char sign = off < 0 ? '-' : '+';
		if (off < 0)
			off = -off;
		at = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
		at += (size_t)snprintf(line + at, sizeof line - at,
		                       ".%03ld%c%02ld:%02ld %s[%ld]: %s: ",
		                       ts.tv_nsec / 1000000, sign, off / 60, off % 60,
		                       log_prog, (long)getpid(), sx_log_level_name(level));
	}
	if (at > sizeof line - 2)
		at = sizeof line - 2;
	put_escaped(line, sizeof line, &at, msg, n);
	line[at++] = '\n';

	const char *p = line;
	while (at > 0) {
		ssize_t w = write(log_fd, p, at);
		if (w <= 0)
			return;
		p += w;
		at -= (size_t)w;
	}
}

void sx_logl(int level, const char *fmt, ...)
{
	char msg[LINE_MAX_];
	if (!sx_log_enabled(level))
		return;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	if ((size_t)m >= sizeof msg)
		m = sizeof msg - 1;           /* cut: still one line */
	sx_log_write(level, 0, msg, (size_t)m);
}
