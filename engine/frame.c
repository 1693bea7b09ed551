/*
 * frame.c - the framed-log core (frame.h): checking a log's frames, and
 * opening, mapping and settling the file.  The one place that knows the
 * torn-tail rule, that a log is locked against a second writer, and how
 * a torn tail is cut durably.
 *
 * The idea of the check: walk intact frames from the start; at the first
 * frame that is not intact, search the rest of the file for the log's
 * magic followed by an intact frame.  Finding one means acknowledged
 * records follow the damage (refuse); finding none means the bad bytes
 * are what a crash leaves behind (cut).  The search costs a memmem over
 * the tail and a checksum per magic hit, paid only on a file that did not
 * end cleanly.
 */
#include "frame.h"
#include "wio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Is there a whole, intact frame at p[off..size)?  1 with *plen. */
static int frame_ok(const sx_frame_kind *k, const uint8_t *p, size_t size,
                    size_t off, uint32_t *plen)
{
	if (size - off < SX_FRAME_HDR || sx_le_get32(p + off) != k->magic)
		return 0;
	uint32_t len = sx_le_get32(p + off + 4);
	if (len > k->max_payload || size - off - SX_FRAME_HDR < len)
		return 0;
	if (XXH3_64bits(p + off + SX_FRAME_HDR, len) != sx_le_get64(p + off + 8))
		return 0;
	*plen = len;
	return 1;
}

/* Could the bytes at off start a frame: a prefix of the magic, or zeros? */
static int could_start(const sx_frame_kind *k, const uint8_t *p, size_t size,
                       size_t off)
{
	uint8_t m[4];
	sx_le_put32(m, k->magic);
	size_t n = size - off < 4 ? size - off : 4;
	if (!memcmp(p + off, m, n))
		return 1;
	for (size_t i = 0; i < n; i++)
		if (p[off + i])
			return 0;
	return 1;
}

/* The first intact frame strictly after off, or SIZE_MAX. */
static size_t next_valid(const sx_frame_kind *k, const uint8_t *p,
                         size_t size, size_t off)
{
	uint8_t m[4];
	sx_le_put32(m, k->magic);
	size_t at = off + 1;
	while (at + SX_FRAME_HDR <= size) {
		const uint8_t *hit = memmem(p + at, size - at, m, 4);
		if (!hit)
			break;
		at = (size_t)(hit - p);
		uint32_t len;
		if (frame_ok(k, p, size, at, &len))
			return at;
		at++;
	}
	return SIZE_MAX;
}

int sx_frame_scan(const sx_frame_kind *k, const uint8_t *p, size_t size,
                  sx_frame_cb cb, void *arg, sx_frame_report *rep)
{
	size_t off = 0;
	uint32_t len;

	memset(rep, 0, sizeof *rep);
	rep->next_valid = SIZE_MAX;
	while (off < size && frame_ok(k, p, size, off, &len)) {
		int rc = cb ? cb(arg, p + off + SX_FRAME_HDR, len, off) : 0;
		if (rc) {
			rep->end = off;
			rep->verdict = SX_FRAME_STOPPED;
			return rc;
		}
		rep->frames++;
		rep->last_off = off;
		off += SX_FRAME_HDR + len;
	}
	rep->end = off;
	if (off == size) {
		rep->verdict = SX_FRAME_CLEAN;
		return 0;
	}
	if (off == 0 && !could_start(k, p, size, 0)) {
		rep->verdict = SX_FRAME_FOREIGN;
		return SX_EBADMAGIC;
	}
	rep->next_valid = next_valid(k, p, size, off);
	if (rep->next_valid != SIZE_MAX) {
		rep->verdict = SX_FRAME_DAMAGED;
		return SX_ECORRUPT;
	}
	rep->verdict = SX_FRAME_TORN;
	rep->torn_off = off;
	rep->torn_bytes = size - off;
	return 0;
}

int sx_frame_foreign(const sx_frame_kind *k, const char *what,
                     const char *path, char *why, size_t cap)
{
	uint8_t m[4];
	sx_le_put32(m, k->magic);
	return sx_fail(why, cap, SX_EBADMAGIC, "%s %s: not an sxgate %s (no "
	               "\"%.4s\" magic at offset 0); refusing to touch it", what,
	               path, what, (const char *)m);
}

int sx_frame_open_log(const char *what, const char *path, int *fd,
                      size_t *size, int *mode_was, char *why, size_t cap)
{
	struct stat st;
	char msg[512];
	int rc;

	*fd = sx_file_open(path, O_RDWR | O_APPEND, mode_was, msg, sizeof msg);
	if (*fd < 0) {
		rc = *fd;
		*fd = -1;
		return sx_fail(why, cap, rc, "%s %s", what, msg);
	}
	if (flock(*fd, LOCK_EX | LOCK_NB)) {
		rc = -errno;
		if (errno == EWOULDBLOCK)
			snprintf(why, cap, "%s %s is in use by another process (it "
			         "holds the lock)", what, path);
		else
			snprintf(why, cap, "%s %s: lock: %s", what, path, strerror(errno));
		goto fail;
	}
	if (fstat(*fd, &st)) {
		rc = -errno;
		snprintf(why, cap, "%s %s: stat: %s", what, path, strerror(errno));
		goto fail;
	}
	*size = (size_t)st.st_size;
	return 0;
fail:
	close(*fd);
	*fd = -1;
	return rc;
}

int sx_frame_map(int fd, size_t size, const uint8_t **p)
{
	*p = NULL;
	if (!size)
		return 0;
	void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	*p = m;
	return 0;
}

void sx_frame_unmap(const uint8_t *p, size_t size)
{
	if (p)
		munmap((void *)p, size);
}

int sx_frame_map_file(const char *what, const char *path, const uint8_t **p,
                      size_t *size, char *why, size_t cap)
{
	struct stat st;
	int rc;

	*p = NULL;
	*size = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sx_fail(why, cap, -errno, "%s %s: %s", what, path,
		               strerror(errno));
	if (fstat(fd, &st)) {
		rc = sx_fail(why, cap, -errno, "%s %s: stat: %s", what, path,
		             strerror(errno));
		goto out;
	}
	*size = (size_t)st.st_size;
	if ((rc = sx_frame_map(fd, *size, p)))
		sx_fail(why, cap, rc, "%s %s: mmap: %s", what, path, strerror(-rc));
out:
	close(fd);
	return rc;
}

int sx_frame_settle_log(const char *what, const char *path, int fd, int torn,
                        size_t end, char *why, size_t cap)
{
	int rc;
	if (torn && sx_wio_ftruncate(fd, (off_t)end)) {
		rc = -errno;
		snprintf(why, cap, "%s %s: cannot cut the torn tail at offset %zu: %s",
		         what, path, end, strerror(errno));
		return rc;
	}
	if (sx_wio_fdatasync(fd)) {
		rc = -errno;
		snprintf(why, cap, "%s %s: fdatasync: %s", what, path, strerror(errno));
		return rc;
	}
	if ((rc = sx_wio_fsync_dir(path))) {
		snprintf(why, cap, "%s %s: fsync of its directory: %s", what, path,
		         strerror(-rc));
		return rc;
	}
	return 0;
}
