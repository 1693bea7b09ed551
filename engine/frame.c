/*
 * frame.c - opening and settling an append-only framed log (frame.h):
 * the one place that knows a log is locked against a second writer and
 * how a torn tail is cut durably.
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

int sx_frame_open_log(const char *what, const char *path, int *fd,
                      size_t *size, char *why, size_t cap)
{
	struct stat st;
	int rc;

	*fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (*fd < 0) {
		rc = -errno;
		snprintf(why, cap, "%s %s: cannot open: %s", what, path, strerror(errno));
		return rc;
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
