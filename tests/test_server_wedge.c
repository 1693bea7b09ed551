/*
 * test_server_wedge.c - nothing a client asks for wedges the job threads
 * (issue 14): RELOAD of a FIFO, a directory or /dev/zero is refused at once
 * with a clear reason; meanwhile and after, CHECK and an uncached AUTH
 * answer within a second; an AUTH never waits behind a journal write that
 * hangs (a stuck disk, through the SXGATE_WIO_FAULT testing hook); and
 * SIGTERM exits within the drain cap even while a job never returns.
 */

#include "helpers/srvtest.h"

#define DRAIN_CAP_S 10          /* worker.c's drain timeout */
#define FAULT_ENV "SXGATE_WIO_FAULT"

static char tenants_path[PATH_MAX + 64];

/* An admin "ops" and tenants t0..t3, each AUTHed once at most, so that
 * every AUTH of a t<n> is uncached: it needs the verification job. */
static void write_tenants(void)
{
	char text[4096], h[256];
	st_hash("ops-secret", h, sizeof h);
	int n = snprintf(text, sizeof text, "ops:%s:*:admin,listed\n", h);
	for (int i = 0; i < 4; i++) {
		char secret[32];
		snprintf(secret, sizeof secret, "secret-%d", i);
		st_hash(secret, h, sizeof h);
		n += snprintf(text + n, sizeof text - (size_t)n, "t%d:%s:air:-\n", i, h);
	}
	snprintf(tenants_path, sizeof tenants_path, "%s/tenants.txt", tu_dir);
	tu_write_private(tenants_path, text);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ask with a receive timeout of limit_ms + 500; the reply (malloc'd) or
 * NULL when none came, and how long it took. */
static char *timed_ask(st_conn *c, const char *line, int limit_ms, long long *ms)
{
	int wait = limit_ms + 500;
	struct timeval tv = { .tv_sec = wait / 1000, .tv_usec = (wait % 1000) * 1000 };
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	long long t0 = now_ms();
	st_cmd(c, line);
	char *r = st_reply(c);
	*ms = now_ms() - t0;
	tv.tv_sec = ST_TIMEOUT_S;
	tv.tv_usec = 0;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return r;
}

/* line answers within a second, with a reply starting with want. */
static void answers_fast(st_conn *c, const char *line, const char *want)
{
	long long ms;
	char *r = timed_ask(c, line, 1000, &ms);
	cr_assert_not_null(r, "'%.40s': no reply within %d ms", line, 1500);
	cr_assert(ms < 1000, "'%.40s' took %lld ms", line, ms);
	cr_assert(!strncmp(r, want, strlen(want)), "'%.40s': %s (want %s...)", line, r, want);
	free(r);
}

/* A new connection AUTHs as t<i> (uncached: its first AUTH) within 1 s,
 * then CHECKs. */
static void fresh_auth_and_check(st_server *s, int i)
{
	st_conn *c = st_connect(s->resp_port);
	char line[64];
	snprintf(line, sizeof line, "AUTH t%d secret-%d", i, i);
	answers_fast(c, line, "+OK");
	answers_fast(c, "CHECK " ST_DENY_ID " air", "[DENY, LISTED");
	st_close(c);
}

/* SIGTERM; the process is gone within the drain cap (plus the 1 s tick
 * and a second of slack).  Returns the wait status. */
static int sigterm_within_cap(st_server *s)
{
	long long t0 = now_ms();
	kill(s->pid, SIGTERM);
	while (!st_reap(s, 0) && now_ms() - t0 < (DRAIN_CAP_S + 2) * 1000)
		usleep(20 * 1000);
	cr_assert(s->reaped, "sxgated is still running %lld ms after SIGTERM", now_ms() - t0);
	return s->status;
}

ST_TEST(wedge, reload_of_fifo_directory_or_device_is_refused_at_once)
{
	write_tenants();
	char fifo[PATH_MAX + 80], dir[PATH_MAX + 80];
	snprintf(fifo, sizeof fifo, "%s/snap.fifo", tu_dir);
	snprintf(dir, sizeof dir, "%s/snapdir", tu_dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0, "mkfifo %s: %s", fifo, strerror(errno));
	cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s: %s", dir, strerror(errno));
	struct { const char *path, *what; } bad[] = {
		{ fifo, "is a FIFO" }, { dir, "is a directory" },
		{ "/dev/zero", "is a character device" },
	};

	st_server *s = st_start(st_snap, "--tenants", tenants_path);
	st_conn *admin = st_connect(s->resp_port);
	answers_fast(admin, "AUTH ops ops-secret", "+OK");
	for (size_t i = 0; i < SX_ARRAY_LEN(bad); i++) {
		char line[PATH_MAX + 100], want[PATH_MAX + 100];
		snprintf(line, sizeof line, "RELOAD %s", bad[i].path);
		snprintf(want, sizeof want, "-ERR reload failed: %s: ", bad[i].path);
		long long ms;
		char *r = timed_ask(admin, line, 1000, &ms);
		cr_assert_not_null(r, "RELOAD %s: no reply within 1.5 s (the job thread is wedged)",
		                   bad[i].path);
		cr_assert(ms < 1000, "RELOAD %s took %lld ms", bad[i].path, ms);
		cr_assert(!strncmp(r, want, strlen(want)), "RELOAD %s: %s", bad[i].path, r);
		cr_assert(strstr(r, bad[i].what), "RELOAD %s: %s (want '%s')", bad[i].path, r,
		          bad[i].what);
		free(r);
		fresh_auth_and_check(s, (int)i);
	}
	/* The serving snapshot is untouched and reloads still work. */
	answers_fast(admin, "CHECK " ST_DENY_ID " air", "[DENY, LISTED");
	answers_fast(admin, "RELOAD", "+OK 2");
	int status = sigterm_within_cap(s);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
	st_close(admin);
}

/* A job that never returns: LIST.ADD's journal write stalls for a minute.
 * AUTH and CHECK do not wait behind it; SIGTERM exits within the drain cap
 * anyway, saying which job it left. */
ST_TEST(wedge, a_stuck_update_blocks_neither_auth_nor_sigterm)
{
	write_tenants();
	char journal[PATH_MAX + 80];
	snprintf(journal, sizeof journal, "%s/journal", tu_dir);
	cr_assert_eq(setenv(FAULT_ENV, "write_delay_ms=60000", 1), 0);
	st_server *s = st_start(st_snap, "--tenants", tenants_path, "--journal", journal);
	unsetenv(FAULT_ENV);
	cr_assert(st_log_wait(s, "TESTING HOOK: " FAULT_ENV "=", 0));

	st_conn *admin = st_connect(s->resp_port);
	answers_fast(admin, "AUTH ops ops-secret", "+OK");
	char id[19];
	tu_ric(7, id);
	char line[512];
	snprintf(line, sizeof line, "LIST.ADD case_no （2026）闽01执7号 court 福州市中级人民法院 list SX "
	         "role debtor id_type RIC id_no %s name 某 status active listed_on 2025-01-01",
	         id);
	st_cmd(admin, line);       /* its reply never comes: the write hangs */
	usleep(300 * 1000);

	fresh_auth_and_check(s, 0);
	fresh_auth_and_check(s, 1);
	int status = sigterm_within_cap(s);
	/* Status 1: a client's update was never answered. */
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "exit status %d", status);
	cr_assert(st_log_wait(s, "drain: 1 job on the reload/update thread (0 queued behind) "
	                      "still running after the 10 s drain cap", 0),
	          "no log line says which job was left");
	cr_assert(st_log_wait(s, "exiting with a job unfinished", 0));
	st_close(admin);
}
