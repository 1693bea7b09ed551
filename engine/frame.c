/*
 * frame.c - opening an append-only framed log (frame.h): the one place
 * that knows a log file is locked against a second writer process.
 */
#include "frame.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
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
