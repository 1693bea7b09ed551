/*
 * wio.h - the write layer under every durable file sxgate writes (the
 * journal, the feedback log), with fault injection for their tests.
 *
 * Durability code is only as good as its error paths, and real disks fail
 * rarely and at the wrong moment.  So the journal and the feedback writer
 * never call write(2), fdatasync(2) or ftruncate(2) themselves: they call
 * sx_wio_*, which are the plain system calls unless a test installed a
 * fault plan with sx_wio_inject().  A plan can fail the Nth write with an
 * errno (ENOSPC, EIO), make it short (write only k bytes) and fail the ones
 * after it, fail the Nth fsync or ftruncate, or stall every write (a stuck
 * disk).
 *
 * Trade-off: one relaxed atomic load and a predictable branch on every
 * call, in exchange for testing the paths that decide whether an
 * acknowledged update survives.  These are not hot-path calls (one write
 * and one fdatasync per journal append or feedback batch), so the cost is
 * nothing measurable.
 *
 * Thread safety: the plan's fields and counters are atomics, so calls from
 * several threads and sx_wio_inject() racing with them never crash.  For
 * deterministic tests install a plan while no I/O is in flight; a call
 * that races with the installation may see the old or the new plan.
 */
#ifndef SX_WIO_H
#define SX_WIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* SX_WIO_ALWAYS as a *_times field: fault every call from the Nth on,
 * until the plan is cleared. */
#define SX_WIO_ALWAYS (-1)

/*
 * A fault plan.  Calls are counted per kind (write, fsync, ftruncate) from
 * the sx_wio_inject() call, 1-based, counting only calls on `fd` when fd
 * is not 0.  A zero field means "no fault of this kind".
 *
 * Writes: the calls numbered write_nth .. write_nth + write_times - 1
 * (write_times 0 means 1) are faulty.  When write_short > 0, the first
 * faulty call really writes min(write_short, n) bytes and returns that
 * count (a short write, as a filling disk gives); every other faulty call
 * writes nothing and returns -1 with errno = write_errno (EIO when 0).
 * So {write_nth 1, write_short 10, write_times 2, write_errno ENOSPC} is
 * "10 bytes land, then the disk is full".
 *
 * write_delay_ms stalls every write (faulty or not) that long before it
 * runs: a stuck disk, for tests that lookups never wait for I/O.
 */
typedef struct sx_wio_fault {
	int fd;                /* 0: any descriptor */
	int write_nth;
	int write_times;
	int write_errno;
	size_t write_short;
	int write_delay_ms;
	int fsync_nth;         /* sx_wio_fsync and sx_wio_fdatasync */
	int fsync_times;
	int fsync_errno;       /* EIO when 0 */
	int ftruncate_nth;
	int ftruncate_times;
	int ftruncate_errno;   /* EIO when 0 */
} sx_wio_fault;

/* Install plan f (copied), resetting the call counters; NULL clears it and
 * the system calls run unchanged again. */
void sx_wio_inject(const sx_wio_fault *f);

/* How many calls the current plan has faulted so far (all kinds). */
unsigned sx_wio_faults_fired(void);

/* 1 while a plan is installed (a test, or SXGATE_WIO_FAULT), else 0. */
int sx_wio_armed(void);

/*
 * Testing hook for whole programs: sxgated reads the environment variable
 * SXGATE_WIO_FAULT at start-up, parses it with this function, and installs
 * the plan once the journal and the feedback log are open (so the counters
 * start at the first write a client causes).  It exists so that the server
 * tests, which run sxgated as a separate process, can fail its journal and
 * feedback writes; it is not a feature.  A server started with it logs a
 * "TESTING HOOK" line and shows wio_fault_plan and wio_faults_fired in
 * INFO live; a malformed value stops the start-up.  docs/RELIABILITY.md
 * lists the tests that use it.
 *
 * Syntax: comma-separated NAME=VALUE, NAME a field of sx_wio_fault except
 * fd (the plan applies to every descriptor: start the server with only
 * the file under test), e.g.
 *
 *     write_nth=2,write_short=10,write_times=2,write_errno=ENOSPC
 *
 * VALUE: a decimal number; "always" (SX_WIO_ALWAYS) for a *_times field;
 * for a *_errno field also EIO, ENOSPC, EDQUOT, EROFS or EFBIG.  A field
 * that shapes a kind of fault (times, errno, short) without its *_nth is
 * refused, since it would never fire.  Returns 0 with *f filled, or
 * SX_EINVAL with why naming the offending word and its offset.
 */
int sx_wio_parse_fault(const char *spec, sx_wio_fault *f, char *why,
                       size_t cap);

/* write(2): returns bytes written (possibly fewer than n) or -1 with
 * errno.  Like write(2), the caller loops over short writes. */
ssize_t sx_wio_write(int fd, const void *buf, size_t n);
/* fsync(2) and fdatasync(2): 0, or -1 with errno. */
int sx_wio_fsync(int fd);
int sx_wio_fdatasync(int fd);
/* ftruncate(2): 0, or -1 with errno. */
int sx_wio_ftruncate(int fd, off_t len);

/* Helpers on top: write all n bytes, retrying short writes and EINTR.
 * Returns 0, or -errno (the bytes before the failure may have landed; the
 * count is in *done when done is not NULL). */
int sx_wio_write_all(int fd, const void *buf, size_t n, size_t *done);

/* fsync the directory holding path (after creating or renaming a file
 * there, so the name survives a crash).  Through sx_wio_fsync, so fsync
 * faults apply.  Returns 0 or -errno. */
int sx_wio_fsync_dir(const char *path);

/* ---- files that hold personal data --------------------------------------- */

/*
 * The journal, the feedback log, the snapshot and the rejects file hold
 * citizens' ID numbers, which the personal-information law says must be
 * kept from anyone who has no need of them.  Every one of them is created
 * through sx_file_open(), which gives it the process's file mode (0600
 * unless the program's --file-mode said otherwise) with fchmod(2) after
 * the open: a umask can neither narrow the mode an operator asked for nor
 * leave an old, wider mode on a file that already existed.
 *
 * The mode is a process setting, like the umask it overrides: the program
 * sets it once at start-up, before any file is created, and every writer
 * below uses it, so no writer can forget it.
 */
#define SX_FILE_MODE 0600u

/* Whether mode suits a file of personal data: the owner reads and writes
 * it, the group may read it, others get nothing, no other bit.  Returns 0,
 * or SX_EINVAL with why saying what the mode gives to whom
 * ("FLAG 0644: gives read to others; ..."). */
int sx_file_mode_check(const char *flag, unsigned mode, char *why,
                       size_t cap);

/* Parse an octal mode ("0640", "640") given as flag and check it as
 * sx_file_mode_check() does.  Returns 0 with *mode, or SX_EINVAL. */
int sx_file_mode_parse(const char *flag, const char *s, unsigned *mode,
                       char *why, size_t cap);

/* Set the mode of the files created from now on (checked: SX_EINVAL with
 * why when sx_file_mode_check() refuses it; the mode stays).  Call it
 * before any file is created; the mode is not changed under a writer. */
int sx_file_set_mode(unsigned mode, char *why, size_t cap);

/* The mode files are created with: SX_FILE_MODE unless set. */
unsigned sx_file_mode(void);

/*
 * Open path with flags (O_RDWR or O_WRONLY, plus O_APPEND, O_TRUNC,
 * O_DIRECT as the caller needs; O_CLOEXEC is added), creating it when
 * missing, and give it sx_file_mode() with fchmod(2) when it is a regular
 * file (a device or a pipe, e.g. --rejects /dev/stdout, is left alone).
 * *was (may be NULL) is -1, or the old mode of a file that existed with
 * another mode and was changed, for the caller to log.  Returns the
 * descriptor, or -errno with why (may be NULL) saying "PATH: cannot
 * create: ..." or "PATH: cannot set its mode to 0600: ...".
 */
int sx_file_open(const char *path, int flags, int *was, char *why,
                 size_t cap);

/*
 * Refuse a secret file (a tenants file, a TLS private key) that group or
 * others may read or write, as ssh refuses an unprotected private key.
 * flag names where the path came from ("--tenants").  Returns 0, -errno
 * when it cannot be stat'd, or SX_EINVAL with why naming the flag, the
 * file, its mode and the fix ("chmod 600 PATH").
 */
int sx_file_private(const char *path, const char *flag, char *why,
                    size_t cap);

/*
 * Whether an output would land on an input (and be truncated while it is
 * read): sx_file_is is 1 if path (may be NULL: 0) exists and is the file
 * st describes (device and inode); sx_file_same is 1 if paths a and b
 * (either may be NULL: 0) are the same string or name one existing file.
 */
struct stat;
int sx_file_is(const char *path, const struct stat *st);
int sx_file_same(const char *a, const char *b);

#endif
