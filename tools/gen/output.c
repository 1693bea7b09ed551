/*
 * output.c - the generator's output files: one 8 MB buffer per file,
 * flushed with write(2), and dying cleanly.
 *
 * Rows are formatted by hand straight into the buffer (out_ptr and
 * out_commit in gen.h); no stdio per field.  On any error the program
 * prints what failed and where, removes the regular files it created (a
 * half-written list must not be mistaken for a whole one) and exits 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen.h"

static out_t *open_outs[3];
static int n_open_outs;

static void cleanup_outputs(void)
{
	for (int i = 0; i < n_open_outs; i++)
		if (open_outs[i]->created)
			unlink(open_outs[i]->path);
}

__attribute__((cold, noreturn, format(printf, 1, 2)))
void die_io(const char *fmt, ...)
{
	va_list ap;
	int e = errno;
	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(e));
	cleanup_outputs();
	exit(2);
}

__attribute__((cold))
void out_open(out_t *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	o->path = path;
	if (strcmp(path, "-") == 0) {
		o->fd = STDOUT_FILENO;
	} else {
		struct stat st;
		o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (o->fd < 0)
			die_io("cannot create %s", path);
		/* a regular file's old contents are gone with O_TRUNC anyway,
		 * so a half-written one is removed on failure */
		o->created = fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode);
	}
	o->buf = malloc(OUT_CAP);
	if (!o->buf)
		die_io("cannot allocate the output buffer for %s", path);
	open_outs[n_open_outs++] = o;
}

void out_flush(out_t *o)
{
	size_t off = 0;
	while (off < o->len) {
		ssize_t w = write(o->fd, o->buf + off, o->len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die_io("write to %s failed", o->path);
		}
		off += (size_t)w;
	}
	o->bytes += o->len;
	o->len = 0;
}


void out_close(out_t *o)
{
	out_flush(o);
	if (o->fd != STDOUT_FILENO && close(o->fd) != 0)
		die_io("closing %s failed", o->path);
	o->fd = -1;
	free(o->buf);
	o->buf = NULL;
}
