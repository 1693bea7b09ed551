/*
 * test_file_modes.c - files that hold ID numbers are created 0600 (or the
 * --file-mode asked for) whatever the umask (issue 13, "personal data at
 * rest"), a mode that gives others anything is refused, an old journal
 * left 0644 is narrowed on open and logged, and a tenants file group or
 * others may read stops sxgated.
 *
 * The real programs run: bin/sxgate-build under a umask, bin/sxgated with
 * a journal and a feedback log that a live update, a DENY and a
 * JOURNAL.COMPACT (a new file renamed over the journal) all write.  The
 * modes are read with stat(2).  umask() is per process, and Criterion
 * runs each test in a process of its own.
 */
#include <crypt.h>

#include "helpers/srvtest.h"
#include "wio.h"

#define LISTED_ID "350304197806263293"     /* sample: SX, listed */

static unsigned mode_of(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

static void assert_mode(const char *path, unsigned want)
{
	unsigned got = mode_of(path);
	cr_assert_eq(got, want, "%s: mode %04o, want %04o", path, got, want);
}

/* bin/sxgate-build with the sample list, a row it rejects, and extra
 * (e.g. "--file-mode 0640"); its exit status, its output in *out. */
static int build(const char *extra, const char *snap, const char *rejects,
                 char **out)
{
	char exe[PATH_MAX], sample[PATH_MAX], list[PATH_MAX + 64], log[PATH_MAX + 64],
	     cmd[4 * PATH_MAX + 512];
	size_t n;
	tu_bin("sxgate-build", exe, sizeof exe);
	cr_assert_not_null(tu_data_path("sample-list.csv", sample, sizeof sample));
	char *text = tu_read(sample, &n);
	cr_assert_not_null(text);
	tu_path(list, sizeof list, tu_dir, "list.csv");
	tu_path(log, sizeof log, tu_dir, "build.out");
	char *with_bad = malloc(n + 64);
	snprintf(with_bad, n + 64, "%snot,a,row\n", text);
	tu_write_str(list, with_bad);
	free(with_bad);
	free(text);
	snprintf(cmd, sizeof cmd, "'%s' --input '%s' --output '%s' --rejects '%s' "
	         "--max-rejects 5 --quiet %s >'%s' 2>&1", exe, list, snap, rejects,
	         extra, log);
	int st = system(cmd);
	*out = tu_read(log, &n);
	cr_assert(WIFEXITED(st), "sxgate-build died: %s", *out);
	return WEXITSTATUS(st);
}

static void build_gives(mode_t mask, const char *extra, unsigned want)
{
	char snap[PATH_MAX + 64], rej[PATH_MAX + 64], *out;
	tu_path(snap, sizeof snap, tu_dir, "out.snap");
	tu_path(rej, sizeof rej, tu_dir, "out.rejects.csv");
	umask(mask);
	cr_assert_eq(build(extra, snap, rej, &out), 0, "sxgate-build: %s", out);
	free(out);
	assert_mode(snap, want);
	assert_mode(rej, want);
	size_t n;
	char *r = tu_read(rej, &n);
	cr_assert(r && strstr(r, "not,a,row"), "the bad row is not in the rejects file");
	free(r);
	cr_assert_eq(tu_count_named(tu_dir, ".tmp."), 0, "a temporary file was left");
}

Test(file_modes, build_writes_0600_under_umask_022, .init = tu_setup, .fini = tu_teardown)
{
	build_gives(022, "", 0600);
}

Test(file_modes, build_file_mode_0640_holds_under_umask_077, .init = tu_setup,
     .fini = tu_teardown)
{
	build_gives(077, "--file-mode 0640", 0640);
}

Test(file_modes, build_refuses_a_mode_that_gives_others_anything, .init = tu_setup,
     .fini = tu_teardown)
{
	char snap[PATH_MAX + 64], rej[PATH_MAX + 64], *out;
	tu_path(snap, sizeof snap, tu_dir, "out.snap");
	tu_path(rej, sizeof rej, tu_dir, "out.rejects.csv");
	cr_assert_eq(build("--file-mode 0644", snap, rej, &out), 1, "%s", out);
	cr_assert(strstr(out, "--file-mode 0644: gives read to others"), "%s", out);
	cr_assert(strstr(out, "personal data"), "%s", out);
	free(out);
	cr_assert_eq(build("--file-mode 0604", snap, rej, &out), 1, "%s", out);
	cr_assert(strstr(out, "--file-mode 0604: gives read to others"), "%s", out);
	free(out);
	cr_assert(!tu_exists(snap) && !tu_exists(rej), "a file was written");
}

Test(file_modes, mode_parse_and_private_check)
{
	char why[512];
	unsigned m = 0;
	cr_assert_eq(sx_file_mode_parse("--file-mode", "0640", &m, why, sizeof why), 0, "%s", why);
	cr_assert_eq(m, 0640);
	cr_assert_eq(sx_file_mode_parse("--file-mode", "600", &m, why, sizeof why), 0, "%s", why);
	cr_assert_eq(m, 0600);
	const char *bad[] = { "0644", "0604", "0660", "0700", "0400", "4600", "0x180", "", "-600", "0689" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert_eq(sx_file_mode_parse("--file-mode", bad[i], &m, why, sizeof why),
		             SX_EINVAL, "%s accepted", bad[i]);
	cr_assert(strstr(why, "'0689': not an octal file mode"), "%s", why);
	sx_file_mode_check("--file-mode", 0660, why, sizeof why);
	cr_assert(strstr(why, "0660: gives read and write to the group"), "%s", why);

	char path[] = "/tmp/sx-private-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	cr_assert_eq(chmod(path, 0640), 0);
	cr_assert_eq(sx_file_private(path, "--tls-key", why, sizeof why), SX_EINVAL);
	cr_assert(strstr(why, "--tls-key ") && strstr(why, path) &&
	          strstr(why, "UNPROTECTED PRIVATE FILE: mode 0640") &&
	          strstr(why, "chmod 600"), "%s", why);
	cr_assert_eq(chmod(path, 0400), 0);
	cr_assert_eq(sx_file_private(path, "--tls-key", why, sizeof why), 0, "%s", why);
	unlink(path);
	cr_assert_eq(sx_file_private(path, "--tls-key", why, sizeof why), -ENOENT);
}

/* ---- sxgated ----------------------------------------------------------------- */

/* Write the journal (a LIST.ADD), the feedback log (a DENY) and a compacted
 * journal (a snapshot with an as-of after the update, RELOAD, COMPACT);
 * then check the modes of the three files the server created. */
static void server_gives(mode_t mask, const char *mode_flag, unsigned want)
{
	char jrn[PATH_MAX + 64], fb[PATH_MAX + 64], snap[PATH_MAX + 64], list[PATH_MAX];
	tu_path(jrn, sizeof jrn, tu_dir, "journal");
	tu_path(fb, sizeof fb, tu_dir, "feedback.log");
	tu_path(snap, sizeof snap, tu_dir, "asof.snap");
	umask(mask);
	const char *args[] = { "--journal", jrn, "--feedback", fb,
	                       mode_flag ? "--file-mode" : NULL, mode_flag, NULL };
	st_server *s = st_start_args(st_snap, 0, args);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "LIST.ADD case_no （2026）闽01执9号 court 福州市中级人民法院 "
	                        "list SX role debtor id_type RIC id_no 350102198001010012 "
	                        "name 某 status active listed_on 2025-01-01"), "+OK 1");
	const char *r = st_ask(c, "CHECK " LISTED_ID " air " ST_AT);
	cr_assert(!strncmp(r, "[DENY", 5), "%s", r);
	struct stat st;
	for (int t = 0; t < 300 && (stat(fb, &st) || st.st_size == 0); t++)
		st_sleep_ms(10);
	cr_assert(st.st_size > 0, "the DENY never reached the feedback log");
	assert_mode(jrn, want);
	assert_mode(fb, want);

	/* an export taken after the update: compaction drops it */
	st_sleep_ms(1100);
	char as_of[32];
	time_t t8 = time(NULL) + 8 * 3600;
	strftime(as_of, sizeof as_of, "%Y-%m-%dT%H:%M:%S", gmtime(&t8));
	cr_assert_not_null(tu_data_path("sample-list.csv", list, sizeof list));
	st_build(list, NULL, snap, as_of);
	cr_assert(!strncmp(st_askf(c, "RELOAD %s", snap), "+OK", 3));
	struct stat before;
	cr_assert_eq(stat(jrn, &before), 0);
	cr_assert_str_eq(st_ask(c, "JOURNAL.COMPACT"), "+OK 0 kept, 1 dropped");
	cr_assert_eq(stat(jrn, &st), 0);
	cr_assert_neq(st.st_ino, before.st_ino, "compaction wrote no new file");
	assert_mode(jrn, want);
	st_close(c);
	cr_assert_eq(st_stop(s, SIGTERM), 0);
}

Test(file_modes, server_writes_0600_under_umask_022, .init = st_setup_epoll,
     .fini = st_teardown)
{
	server_gives(022, NULL, 0600);
}

Test(file_modes, server_file_mode_0640_holds_under_umask_077, .init = st_setup_epoll,
     .fini = st_teardown)
{
	server_gives(077, "0640", 0640);
}

Test(file_modes, server_refuses_a_mode_that_gives_others_anything, .init = st_setup_epoll,
     .fini = st_teardown)
{
	st_server *s = st_start_args(st_snap, 1, (const char *[]){ "--file-mode", "0644", NULL });
	cr_assert(s->reaped && WIFEXITED(s->status) && WEXITSTATUS(s->status) == 1);
	char *log = st_log_text(s);
	cr_assert(strstr(log, "sxgated: --file-mode 0644: gives read to others; the files "
	                 "hold ID numbers (personal data)"), "log: %s", log);
	free(log);
}

Test(file_modes, an_old_0644_journal_is_narrowed_and_logged, .init = st_setup_epoll,
     .fini = st_teardown)
{
	char jrn[PATH_MAX + 64], fb[PATH_MAX + 64], want[2 * PATH_MAX];
	tu_path(jrn, sizeof jrn, tu_dir, "journal");
	tu_path(fb, sizeof fb, tu_dir, "feedback.log");
	tu_write_str(jrn, "");
	tu_write_str(fb, "");
	cr_assert_eq(chmod(jrn, 0644), 0);
	cr_assert_eq(chmod(fb, 0604), 0);
	st_server *s = st_start(st_snap, "--journal", jrn, "--feedback", fb);
	assert_mode(jrn, 0600);
	assert_mode(fb, 0600);
	char *log = st_log_text(s);
	snprintf(want, sizeof want, "journal %s had mode 0644; set to 0600", jrn);
	cr_assert(strstr(log, want), "log: %s", log);
	snprintf(want, sizeof want, "feedback log %s had mode 0604; set to 0600", fb);
	cr_assert(strstr(log, want), "log: %s", log);
	free(log);
	cr_assert_eq(st_stop(s, SIGTERM), 0);

	/* the second start finds nothing to change and says nothing */
	s = st_start(st_snap, "--journal", jrn, "--feedback", fb);
	log = st_log_text(s);
	cr_assert(!strstr(log, "had mode"), "log: %s", log);
	free(log);
	cr_assert_eq(st_stop(s, SIGTERM), 0);
}

Test(file_modes, a_tenants_file_others_can_read_stops_startup, .init = st_setup_epoll,
     .fini = st_teardown)
{
	char p[PATH_MAX + 64], want[2 * PATH_MAX], line[512];
	char *hash = crypt("s3cret", crypt_gensalt("$y$", 0, NULL, 0));
	cr_assert(hash && hash[0] == '$', "crypt failed");
	snprintf(line, sizeof line, "hotel:%s:hotel:-\n", hash);
	tu_path(p, sizeof p, tu_dir, "tenants");
	tu_write_str(p, line);
	cr_assert_eq(chmod(p, 0644), 0);
	st_server *s = st_start_args(st_snap, 1, (const char *[]){ "--tenants", p, NULL });
	cr_assert(s->reaped && WIFEXITED(s->status) && WEXITSTATUS(s->status) == 1);
	char *log = st_log_text(s);
	snprintf(want, sizeof want, "cannot start: --tenants %s: UNPROTECTED PRIVATE FILE: "
	         "mode 0644 gives read to the group and read to others", p);
	cr_assert(strstr(log, want), "log: %s", log);
	free(log);

	cr_assert_eq(chmod(p, 0600), 0);
	s = st_start(st_snap, "--tenants", p);
	cr_assert_eq(st_stop(s, SIGTERM), 0);
}
