/*
 * wio.c - write(2), fdatasync(2) and ftruncate(2) with optional fault
 * injection (the contract is in wio.h).
 *
 * The idea: one atomic flag, `armed`, read on every call.  Unarmed (always,
 * outside tests), a call is the system call behind one well-predicted
 * branch.  Armed, the call goes to a cold path that counts it and decides
 * from the plan whether it fails.  The plan is a set of atomics rather than
 * a struct behind a lock so that no I/O thread ever waits on a test's
 * installation; the price is that a call racing with sx_wio_inject() may
 * see a mix of the old and new plan, which wio.h tells tests to avoid.
 *
 * Then sx_wio_parse_fault() reads a plan from text: the syntax of
 * sxgated's SXGATE_WIO_FAULT testing hook (wio.h).  It only fills a
 * struct; installing stays sx_wio_inject()'s job.
 *
 * Last, the files that hold personal data: the one place they are created
 * (sx_file_open: the process's mode, applied with fchmod so that the
 * umask has no say) and the check that refuses a secret file others can
 * read (sx_file_private).
 */
#include "wio.h"
#include "sx.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static atomic_int armed;

static struct {
	atomic_int fd;
	atomic_int write_nth, write_times, write_errno, write_delay_ms;
	atomic_size_t write_short;
	atomic_int fsync_nth, fsync_times, fsync_errno;
	atomic_int trunc_nth, trunc_times, trunc_errno;
} plan;

static atomic_uint n_write, n_fsync, n_trunc, n_fired;

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define ST(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

void sx_wio_inject(const sx_wio_fault *f)
{
	atomic_store_explicit(&armed, 0, memory_order_release);
	ST(n_write, 0);
	ST(n_fsync, 0);
	ST(n_trunc, 0);
	ST(n_fired, 0);
	if (!f)
		return;
	ST(plan.fd, f->fd);
	ST(plan.write_nth, f->write_nth);
	ST(plan.write_times, f->write_times);
	ST(plan.write_errno, f->write_errno);
	ST(plan.write_short, f->write_short);
	ST(plan.write_delay_ms, f->write_delay_ms);
	ST(plan.fsync_nth, f->fsync_nth);
	ST(plan.fsync_times, f->fsync_times);
	ST(plan.fsync_errno, f->fsync_errno);
	ST(plan.trunc_nth, f->ftruncate_nth);
	ST(plan.trunc_times, f->ftruncate_times);
	ST(plan.trunc_errno, f->ftruncate_errno);
	atomic_store_explicit(&armed, 1, memory_order_release);
}

unsigned sx_wio_faults_fired(void)
{
	return atomic_load(&n_fired);
}

static inline int is_armed(void)
{
	return atomic_load_explicit(&armed, memory_order_acquire);
}

int sx_wio_armed(void)
{
	return is_armed();
}

/* Is call number k (1-based) inside the window [nth, nth + times)? */
static int in_window(unsigned k, int nth, int times)
{
	if (nth <= 0 || k < (unsigned)nth)
		return 0;
	if (times == SX_WIO_ALWAYS)
		return 1;
	if (times <= 0)
		times = 1;
	return k < (unsigned)nth + (unsigned)times;
}

static int for_fd(int fd)
{
	int want = LD(plan.fd);
	return want == 0 || want == fd;
}

SX_COLD static ssize_t write_planned(int fd, const void *buf, size_t n)
{
	if (!for_fd(fd))
		return write(fd, buf, n);
	int delay = LD(plan.write_delay_ms);
	if (delay > 0) {
		struct timespec ts = { delay / 1000, (long)(delay % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	unsigned k = atomic_fetch_add(&n_write, 1) + 1;
	int nth = LD(plan.write_nth);
	if (!in_window(k, nth, LD(plan.write_times)))
		return write(fd, buf, n);
	atomic_fetch_add(&n_fired, 1);
	size_t sh = LD(plan.write_short);
	if (k == (unsigned)nth && sh > 0)
		return write(fd, buf, sh < n ? sh : n);
	int e = LD(plan.write_errno);
	errno = e ? e : EIO;
	return -1;
}

ssize_t sx_wio_write(int fd, const void *buf, size_t n)
{
	if (sx_likely(!is_armed()))
		return write(fd, buf, n);
	return write_planned(fd, buf, n);
}

/* Count a call of one kind on fd and say whether the plan fails it: 1
 * with errno set (EIO when the plan names none), else 0. */
SX_COLD static int fault_due(int fd, atomic_uint *calls, atomic_int *nth,
                             atomic_int *times, atomic_int *err)
{
	if (!for_fd(fd))
		return 0;
	unsigned k = atomic_fetch_add(calls, 1) + 1;
	if (!in_window(k, LD(*nth), LD(*times)))
		return 0;
	atomic_fetch_add(&n_fired, 1);
	int e = LD(*err);
	errno = e ? e : EIO;
	return 1;
}

SX_COLD static int sync_planned(int fd, int data_only)
{
	if (fault_due(fd, &n_fsync, &plan.fsync_nth, &plan.fsync_times,
	              &plan.fsync_errno))
		return -1;
	return data_only ? fdatasync(fd) : fsync(fd);
}

int sx_wio_fsync(int fd)
{
	if (sx_likely(!is_armed()))
		return fsync(fd);
	return sync_planned(fd, 0);
}

int sx_wio_fdatasync(int fd)
{
	if (sx_likely(!is_armed()))
		return fdatasync(fd);
	return sync_planned(fd, 1);
}

SX_COLD static int trunc_planned(int fd, off_t len)
{
	if (fault_due(fd, &n_trunc, &plan.trunc_nth, &plan.trunc_times,
	              &plan.trunc_errno))
		return -1;
	return ftruncate(fd, len);
}

int sx_wio_ftruncate(int fd, off_t len)
{
	if (sx_likely(!is_armed()))
		return ftruncate(fd, len);
	return trunc_planned(fd, len);
}

int sx_wio_write_all(int fd, const void *buf, size_t n, size_t *done)
{
	const char *p = buf;
	size_t off = 0;
	int rc = 0;

	while (off < n) {
		ssize_t w = sx_wio_write(fd, p + off, n - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (w == 0) {           /* no progress and no errno: treat as full */
			rc = -ENOSPC;
			break;
		}
		off += (size_t)w;
	}
	if (done)
		*done = off;
	return rc;
}

int sx_wio_fsync_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = sx_wio_fsync(fd) ? -errno : 0;
	close(fd);
	return rc;
}

/* ---- the SXGATE_WIO_FAULT syntax (testing hook; see wio.h) --------------- */

enum { SPEC_COUNT, SPEC_TIMES, SPEC_ERRNO, SPEC_SIZE };

/* The fields a spec may set: name, kind. */
#define SX_WIO_SPEC_FIELDS(X)                                    \
	X(write_nth, SPEC_COUNT)       X(write_times, SPEC_TIMES) \
	X(write_errno, SPEC_ERRNO)     X(write_short, SPEC_SIZE)  \
	X(write_delay_ms, SPEC_COUNT)                             \
	X(fsync_nth, SPEC_COUNT)       X(fsync_times, SPEC_TIMES) \
	X(fsync_errno, SPEC_ERRNO)                                \
	X(ftruncate_nth, SPEC_COUNT)   X(ftruncate_times, SPEC_TIMES) \
	X(ftruncate_errno, SPEC_ERRNO)

static const struct spec_field {
	const char *name;
	size_t off;
	int kind;
} spec_fields[] = {
#define X(field, kind) { #field, offsetof(sx_wio_fault, field), kind },
	SX_WIO_SPEC_FIELDS(X)
#undef X
};

static const struct { const char *name; int value; } spec_errnos[] = {
	{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT },
	{ "EROFS", EROFS }, { "EFBIG", EFBIG },
};

/* A decimal number in [0, max] spelled by v[0..n); 0 or -1. */
static int spec_number(const char *v, size_t n, unsigned long long max,
                       unsigned long long *out)
{
	unsigned long long x = 0;
	if (n == 0 || n > 12)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (unsigned)(v[i] - '0');
	}
	if (x > max)
		return -1;
	*out = x;
	return 0;
}

int sx_wio_parse_fault(const char *spec, sx_wio_fault *f, char *why,
                       size_t cap)
{
	memset(f, 0, sizeof *f);
	if (!spec || !*spec)
		return sx_fail(why, cap, SX_EINVAL, "empty fault plan");
	for (const char *w = spec; *w;) {
		size_t at = (size_t)(w - spec);
		size_t wl = strcspn(w, ",");
		const char *eq = memchr(w, '=', wl);
		if (!eq)
			return sx_fail(why, cap, SX_EINVAL, "'%.*s' at offset %zu is not "
			               "NAME=VALUE", (int)wl, w, at);
		size_t nl = (size_t)(eq - w), vl = wl - nl - 1;
		const char *v = eq + 1;
		const struct spec_field *sf = NULL;
		for (size_t i = 0; i < sizeof spec_fields / sizeof *spec_fields; i++)
			if (strlen(spec_fields[i].name) == nl &&
			    !memcmp(spec_fields[i].name, w, nl))
				sf = &spec_fields[i];
		if (!sf)
			return sx_fail(why, cap, SX_EINVAL, "unknown name '%.*s' at offset %zu "
			               "(names: the fields of sx_wio_fault in "
			               "engine/wio.h but fd)", (int)nl, w, at);
		unsigned long long x = 0;
		int ok = spec_number(v, vl, sf->kind == SPEC_SIZE ? 1u << 30 :
		                     1000000000u, &x) == 0;
		if (!ok && sf->kind == SPEC_TIMES && vl == 6 &&
		    !memcmp(v, "always", 6)) {
			*(int *)((char *)f + sf->off) = SX_WIO_ALWAYS;
		} else if (!ok && sf->kind == SPEC_ERRNO) {
			for (size_t i = 0; !ok && i < sizeof spec_errnos /
			                   sizeof *spec_errnos; i++)
				if (strlen(spec_errnos[i].name) == vl &&
				    !memcmp(spec_errnos[i].name, v, vl)) {
					x = (unsigned)spec_errnos[i].value;
					ok = 1;
				}
			if (!ok)
				return sx_fail(why, cap, SX_EINVAL, "%s: '%.*s' at offset %zu is "
				               "not an errno number or one of EIO, ENOSPC, "
				               "EDQUOT, EROFS, EFBIG", sf->name, (int)vl, v,
				               at + nl + 1);
			*(int *)((char *)f + sf->off) = (int)x;
		} else if (!ok) {
			return sx_fail(why, cap, SX_EINVAL, "%s: '%.*s' at offset %zu is not a "
			               "number%s", sf->name, (int)vl, v, at + nl + 1,
			               sf->kind == SPEC_TIMES ? " or \"always\"" : "");
		} else if (sf->kind == SPEC_SIZE) {
			*(size_t *)((char *)f + sf->off) = (size_t)x;
		} else {
			*(int *)((char *)f + sf->off) = (int)x;
		}
		w += wl;
		if (*w == ',')
			w++;
	}
	if (!f->write_nth && (f->write_times || f->write_errno || f->write_short))
		return sx_fail(why, cap, SX_EINVAL, "write_times, write_errno or write_short "
		               "without write_nth: no write would fail");
	if (!f->fsync_nth && (f->fsync_times || f->fsync_errno))
		return sx_fail(why, cap, SX_EINVAL, "fsync_times or fsync_errno without "
		               "fsync_nth: no fsync would fail");
	if (!f->ftruncate_nth && (f->ftruncate_times || f->ftruncate_errno))
		return sx_fail(why, cap, SX_EINVAL, "ftruncate_times or ftruncate_errno "
		               "without ftruncate_nth: no ftruncate would fail");
	if (!f->write_nth && !f->fsync_nth && !f->ftruncate_nth &&
	    !f->write_delay_ms)
		return sx_fail(why, cap, SX_EINVAL, "the plan fails nothing (set write_nth, "
		               "fsync_nth, ftruncate_nth or write_delay_ms)");
	return 0;
}

/* ---- files that hold personal data (wio.h) -------------------------------- */

static atomic_uint file_mode = SX_FILE_MODE;

/* rwx bits (0..7) in words. */
static const char *perm_words(unsigned bits)
{
	static const char *w[8] = {
		"nothing", "execute", "write", "write and execute", "read",
		"read and execute", "read and write", "read, write and execute",
	};
	return w[bits & 7];
}

int sx_file_mode_check(const char *flag, unsigned mode, char *why, size_t cap)
{
	const char *fix = "the files hold ID numbers (personal data): use 0600, "
	                  "or 0640 to let the file's group read them";
	if (mode & 07)
		return sx_fail(why, cap, SX_EINVAL, "%s %04o: gives %s to others; %s",
		               flag, mode, perm_words(mode), fix);
	if (mode & 030)
		return sx_fail(why, cap, SX_EINVAL, "%s %04o: gives %s to the group "
		               "(read is the most it may have); %s", flag, mode,
		               perm_words(mode >> 3), fix);
	if ((mode & 0700) != 0600 || mode > 0777)
		return sx_fail(why, cap, SX_EINVAL, "%s %04o: the owner must read and "
		               "write the files, and no execute, setuid, setgid or "
		               "sticky bit belongs on them; %s", flag, mode, fix);
	return 0;
}

int sx_file_mode_parse(const char *flag, const char *s, unsigned *mode,
                       char *why, size_t cap)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 8);
	if (errno || end == s || *end || *s == '-' || *s == '+' || v > 07777)
		return sx_fail(why, cap, SX_EINVAL, "%s '%s': not an octal file mode "
		               "(e.g. 0600 or 0640)", flag, s);
	int rc = sx_file_mode_check(flag, (unsigned)v, why, cap);
	if (!rc)
		*mode = (unsigned)v;
	return rc;
}

int sx_file_set_mode(unsigned mode, char *why, size_t cap)
{
	int rc = sx_file_mode_check("file mode", mode, why, cap);
	if (!rc)
		atomic_store(&file_mode, mode);
	return rc;
}

unsigned sx_file_mode(void)
{
	return atomic_load(&file_mode);
}

int sx_file_open(const char *path, int flags, int *was, char *why, size_t cap)
{
	unsigned mode = sx_file_mode();
	int fd, created = 0;
	struct stat st;

	if (was)
		*was = -1;
	/* Open an existing file first, so that a changed mode can be told
	 * from the mode the umask gave a file created just now. */
	fd = open(path, (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, flags | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		created = 1;
	}
	if (fd < 0)
		return sx_fail(why, cap, -errno, "%s: cannot %s: %s", path,
		               created ? "create" : "open", strerror(errno));
	if (fstat(fd, &st))
		goto fail;
	if (S_ISREG(st.st_mode) && (st.st_mode & 07777) != mode) {
		if (fchmod(fd, mode))
			goto fail;
		if (was && !created)
			*was = (int)(st.st_mode & 07777);
	}
	return fd;
fail:;
	int rc = sx_fail(why, cap, -errno, "%s: cannot set its mode to %04o: %s",
	                 path, mode, strerror(errno));
	close(fd);
	return rc;
}

int sx_file_private(const char *path, const char *flag, char *why, size_t cap)
{
	struct stat st;
	if (stat(path, &st))
		return sx_fail(why, cap, -errno, "%s %s: %s", flag, path,
		               strerror(errno));
	unsigned m = st.st_mode & 07777;
	if (!(m & 077))
		return 0;
	return sx_fail(why, cap, SX_EINVAL, "%s %s: UNPROTECTED PRIVATE FILE: mode "
	               "%04o gives %s to the group and %s to others; it holds "
	               "secrets, so only its owner may read it: chmod 600 %s",
	               flag, path, m, perm_words(m >> 3), perm_words(m), path);
}

int sx_file_is(const char *path, const struct stat *st)
{
	struct stat o;
	return path && !stat(path, &o) && o.st_dev == st->st_dev && o.st_ino == st->st_ino;
}

int sx_file_same(const char *a, const char *b)
{
	struct stat y;
	return a && b && (!strcmp(a, b) || (!stat(b, &y) && sx_file_is(a, &y)));
}
