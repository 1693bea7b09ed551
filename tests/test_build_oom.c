/*
 * test_build_oom.c - sxgate-build out of memory: a clear error, the older
 * snapshot untouched, no half-written file, never a crash.
 *
 * The real program (bin/sxgate-build, with jemalloc, a reader thread and
 * the perfect hash's threads) is run on a generated list under a sweep of
 * address-space limits (RLIMIT_AS), from too little to start up to enough
 * to finish.  Memory then runs out at every stage in turn: the CSV
 * buffers, thread start-up, the case and duplicate tables, the index, the
 * write buffer.  Every run must either write a snapshot that opens and
 * holds every record, or exit 2 with a message that says "out of memory"
 * (a thread that cannot start says so with its errno), leaving the older
 * snapshot byte for byte and no temporary file.  A death by signal fails.
 *
 * ASan reserves terabytes of address space for its shadow, so under
 * make test-sanitize (ASAN_OPTIONS set) the test reports itself skipped.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "snapshot.h"
#include "testutil.h"

TestSuite(oom, .init = tu_setup, .fini = tu_teardown);

#define RECORDS "200000"

/* Run argv with RLIMIT_AS at limit bytes (0: none), stderr to errpath.
 * Returns the wait status. */
static int run(char *const argv[], rlim_t limit, const char *errpath)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		if (limit) {
			struct rlimit rl = { limit, limit };
			if (setrlimit(RLIMIT_AS, &rl))
				_exit(126);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

Test(oom, every_stage_fails_cleanly_or_succeeds_whole, .timeout = 240)
{
	char gen[8192], build[8192], list[8192], snap[8192], err[8192];
	if (getenv("ASAN_OPTIONS")) {
		tu_teardown();
		cr_skip_test("skipped: ASan reserves terabytes of address space, "
		             "so RLIMIT_AS cannot bound it");
	}
	tu_bin("sxgate-gen", gen, sizeof gen);
	tu_bin("sxgate-build", build, sizeof build);
	tu_path(list, sizeof list, tu_dir, "list.csv");
	tu_path(snap, sizeof snap, tu_dir, "list.snap");
	tu_path(err, sizeof err, tu_dir, "stderr.txt");

	char *genv[] = { gen, "--records", RECORDS, "--seed", "11", "--output",
	                 list, "--quiet", NULL };
	cr_assert_eq(run(genv, 0, err), 0, "sxgate-gen failed");
	char *bargv[] = { build, "--input", list, "--output", snap, "--quiet",
	                  NULL };
	cr_assert_eq(run(bargv, 0, err), 0, "the unlimited build failed");
	size_t oldlen;
	char *old = tu_read(snap, &oldlen);
	cr_assert_not_null(old);

	int failed = 0, succeeded = 0;
	for (rlim_t mb = 24; mb <= 400 && succeeded < 3; mb += 2) {
		int st = run(bargv, mb << 20, err);
		size_t elen, len;
		char *msg = tu_read(err, &elen);
		cr_assert_not_null(msg);
		cr_assert(WIFEXITED(st), "limit %lu MiB: killed by signal %d; "
		          "stderr: %s", (unsigned long)mb, WTERMSIG(st), msg);
		cr_assert_eq(tu_count_named(tu_dir, ".tmp."), 0,
		             "limit %lu MiB: a temporary file was left", (unsigned long)mb);
		if (WEXITSTATUS(st) == 0) {
			sx_snap *s;
			char why[512];
			cr_assert_eq(sx_snap_open(snap, &s, why, sizeof why), 0,
			             "limit %lu MiB: the snapshot written does not "
			             "open: %s", (unsigned long)mb, why);
			cr_assert_eq(sx_snap_get_info(s)->records, 200000);
			sx_snap_close(s);
			succeeded++;
			free(old);
			old = tu_read(snap, &oldlen);   /* the new "older" one */
		} else {
			cr_assert_eq(WEXITSTATUS(st), 2, "limit %lu MiB: exit %d: %s",
			             (unsigned long)mb, WEXITSTATUS(st), msg);
			cr_assert(strstr(msg, "out of memory"),
			          "limit %lu MiB: the error does not say out of "
			          "memory: %s", (unsigned long)mb, msg);
			char *now = tu_read(snap, &len);
			cr_assert(now && len == oldlen && memcmp(now, old, len) == 0,
			          "limit %lu MiB: the older snapshot changed",
			          (unsigned long)mb);
			free(now);
			failed++;
		}
		free(msg);
	}
	free(old);
	cr_log_info("oom: %d limited builds failed cleanly, %d succeeded",
	            failed, succeeded);
	cr_assert_geq(failed, 5, "too few limits ran out of memory (%d): the "
	              "sweep proves nothing", failed);
	cr_assert_geq(succeeded, 1, "no limit up to 400 MiB was enough");
}
