/*
 * memcost.c - what fresh memory and a new file cost on this machine
 * (make bench-memcost), the figures behind sxgate-build's design: how long
 * a first touch of anonymous memory takes (huge pages and 4 KiB pages),
 * how long the same pages take touched again, and how long writing a new
 * file takes buffered and with O_DIRECT.
 *
 * usage: bench-memcost DIR [MIB]   (a scratch file in DIR; MIB 1024)
 *
 * On the VMs we run on a page the process touches for the first time is
 * expensive (the host backs it on demand), so the loader keeps its memory
 * small, reuses what it freed, and writes the snapshot with O_DIRECT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sx.h"

static double now(void)
{
	return (double)sx_mono_ns() / 1e9;
}

static char *map(size_t n, int advice)
{
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	madvise(p, n, advice);
	return p;
}

static double write_file(const char *path, const char *buf, size_t n,
                         int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | flags, 0644);
	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		return -1;
	}
	double t = now();
	for (size_t off = 0; off < n; off += 8u << 20) {
		size_t k = n - off < (8u << 20) ? n - off : 8u << 20;
		if (write(fd, buf + off, k) != (ssize_t)k) {
			fprintf(stderr, "write %s: %s\n", path, strerror(errno));
			close(fd);
			unlink(path);
			return -1;
		}
	}
	fsync(fd);
	t = now() - t;
	close(fd);
	unlink(path);
	return t;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR [MIB]\n", argv[0]);
		return 1;
	}
	size_t mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 1024;
	size_t n = mib << 20;
	char path[4096];
	snprintf(path, sizeof path, "%s/memcost.%d", argv[1], (int)getpid());

	char *huge = map(n, MADV_HUGEPAGE);
	double t = now();
	memset(huge, 1, n);
	double first_huge = now() - t;
	t = now();
	memset(huge, 2, n);
	double again = now() - t;
	char *small = map(n, MADV_NOHUGEPAGE);
	t = now();
	memset(small, 1, n);
	double first_small = now() - t;
	munmap(small, n);

	double buffered = write_file(path, huge, n, 0);
	double direct = write_file(path, huge, n, O_DIRECT);
	printf("first touch, huge pages   %6.2f s/GiB\n", first_huge * 1024 / mib);
	printf("first touch, 4 KiB pages  %6.2f s/GiB\n", first_small * 1024 / mib);
	printf("touched again             %6.2f s/GiB\n", again * 1024 / mib);
	printf("new file, buffered+fsync  %6.2f s/GiB\n", buffered * 1024 / mib);
	if (direct >= 0)
		printf("new file, O_DIRECT+fsync  %6.2f s/GiB\n", direct * 1024 / mib);
	else
		printf("new file, O_DIRECT        refused by the file system\n");
	return 0;
}
