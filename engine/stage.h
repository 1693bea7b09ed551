/*
 * stage.h - writing a new file fast: one aligned staging buffer, O_DIRECT
 * where the file system takes it, every write through the wio layer.
 *
 * For big files written once and read later by mmap (snapshots): the
 * page cache would only hold a second copy of bytes the reader maps
 * anyway, and on the machines we run on fresh page-cache pages cost
 * about 2 s per GiB (make bench-memcost).  Writes go through sx_wio_*, so
 * a test's fault plan (wio.h) reaches them like the journal's.
 */
#ifndef SX_STAGE_H
#define SX_STAGE_H

#include <stddef.h>

typedef struct sx_stage sx_stage;

/* Create (truncate) path with sx_file_open() (a snapshot holds ID
 * numbers: the process's file mode, wio.h, whatever the umask), O_DIRECT
 * when the file system allows it.  Returns 0 with *out, -ENOMEM (no
 * staging buffer) or -errno of the open or the fchmod. */
int sx_stage_open(const char *path, sx_stage **out);

/* Append p[0..n) (p NULL: n zero bytes).  A write error is kept and
 * returned by sx_stage_close(); later puts do nothing. */
void sx_stage_put(sx_stage *o, const void *p, size_t n);

/* Write what is staged, fsync, close and free o.  Returns 0 or the first
 * -errno (of a write, the fsync or close); the file stays either way, for
 * the caller to unlink. */
int sx_stage_close(sx_stage *o);

#endif
