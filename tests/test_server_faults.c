/*
 * test_server_faults.c - a failing disk under the running server: journal
 * and feedback writes that fail (ENOSPC, EIO, a short write then ENOSPC,
 * fdatasync errors, a cut-back that fails too) never turn into an
 * acknowledged update, never stop the lookups, and are reported.
 *
 * The server runs as its own process (tests/helpers/srvtest.h), so the
 * faults are installed in it through the testing hook SXGATE_WIO_FAULT
 * (engine/wio.h): a fault plan parsed at start-up and armed once the
 * server is ready, counted from the first write a client causes.  Each
 * plan fails a bounded number of calls, so "the fault clears" is the
 * plan running out, as a disk that had space freed.  Every test checks
 * INFO's wio_faults_fired, so a test cannot pass because nothing failed.
 *
 * Journal (SPEC 7: an update is acknowledged only once durable): the
 * update gets "-ERR not durable, ...", its change is not visible, CHECK
 * and PING keep answering, INFO and /metrics count it (updates_failed,
 * journal_errors; sxgate_journal_errors_total)
 * and says why (journal_last_error, with the errno text); after the fault
 * the next update is acknowledged with the next sequence number, and a
 * restart after kill -9 replays exactly the acknowledged updates.  A fault
 * mid-frame whose cut-back also fails leaves a torn frame on disk: the
 * running server cuts it before its next append, or the restart cuts it
 * (logged), and it never replays.
 *
 * Feedback (SPEC 8: the log "never slows lookups down"): a failing
 * feedback write never refuses or delays an answer.  The records stay
 * buffered and are retried; the errors are counted (feedback_errors) and
 * described (feedback_last_error); once the disk recovers every record
 * lands, whole.  A partial write whose cut-back keeps failing is a torn
 * tail that the next start cuts.
 */
#include "helpers/httptest.h"
#include "feedback.h"
#include "wio.h"

#define FAULT_ENV "SXGATE_WIO_FAULT"
#define X_ID   ST_DENY_ID
#define X_CASE "（2023）闽05执1001号"
#define NEW_COURT "福州市中级人民法院"
#define ALLOW_NL "[ALLOW, NOT_LISTED]"
#define ENOSPC_TEXT "No space left on device"
#define EIO_TEXT "Input/output error"

/* ---- helpers ---------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *check(st_conn *c, const char *id)
{
	return st_askf(c, "CHECK %s air " ST_AT, id);
}

static const char *deny_x(void)
{
	return "[DENY, LISTED, " ST_DENY_REC "]";
}

/* The DENY reply for the record test_id() n adds. */
static const char *deny_n(unsigned n)
{
	static char buf[512];
	snprintf(buf, sizeof buf, "[DENY, LISTED, （2026）闽01执%u号|" NEW_COURT "|debtor|SX]", n);
	return buf;
}

/* LIST.ADD of a new record for ID tu_ric(n), case number n. */
static const char *list_add(st_conn *c, unsigned n)
{
	char id[19];
	tu_ric(n, id);
	return st_askf(c, "LIST.ADD case_no （2026）闽01执%u号 court " NEW_COURT " list SX role "
	            "debtor id_type RIC id_no %s name 某 status active listed_on 2025-01-01", n, id);
}

static const char *check_n(st_conn *c, unsigned n)
{
	char id[19];
	tu_ric(n, id);
	return check(c, id);
}

/* "+OK <seq>": the sequence number; fails on anything else. */
static unsigned long long ok_seq(const char *reply, const char *what)
{
	cr_assert(!strncmp(reply, "+OK ", 4), "%s: %s", what, reply);
	return strtoull(reply + 4, NULL, 10);
}

/* An INFO live value as text (static buffer), failing when missing. */
static const char *info_str(st_conn *c, const char *key)
{
	static char v[512];
	const char *info = st_ask(c, "INFO live");
	cr_assert_not_null(st_info_get(info, key, v, sizeof v), "INFO live has no %s:\n%s",
	                   key, info);
	return v;
}

static long long info_num(st_conn *c, const char *key)
{
	return strtoll(info_str(c, key), NULL, 10);
}

static int info_has(st_conn *c, const char *key)
{
	char v[64];
	return st_info_get(st_ask(c, "INFO live"), key, v, sizeof v) != NULL;
}

static off_t fsize(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
	return st.st_size;
}

/* Start sxgated with the fault plan spec in its environment (the test
 * process's own environment is left as it was). */
#define start_faulty(spec, ...) ({                                           \
		cr_assert_eq(setenv(FAULT_ENV, (spec), 1), 0);                   \
		st_server *s_ = st_start(__VA_ARGS__);                           \
		unsetenv(FAULT_ENV);                                             \
		cr_assert(st_log_wait(s_, "TESTING HOOK: " FAULT_ENV "=", 0),    \
		          "the server does not announce the fault plan");        \
		s_;                                                              \
	})

static int log_has(st_server *s, const char *needle)
{
	char *t = st_log_text(s);
	int found = strstr(t, needle) != NULL;
	free(t);
	return found;
}

/* The lookups a failing disk must not disturb: a DENY, a NOT_LISTED, PING. */
static void still_serving(st_conn *c, const char *when)
{
	cr_assert_str_eq(check(c, X_ID), deny_x(), "CHECK %s", when);
	cr_assert_str_eq(check(c, ST_FREE_ID), ALLOW_NL, "CHECK %s", when);
	cr_assert_str_eq(st_ask(c, "PING"), "+PONG", "PING %s", when);
}

/* ---- 1. journal writes that fail ---------------------------------------------- */

/*
 * One journal fault: the plan lets ok_before updates through, then fails
 * the next nfail (the first a LIST.REMOVE of the sample's DENY record, the
 * others LIST.ADDs of new IDs) with errno text errtext, firing `fired`
 * faults, then runs out.  Proves everything section 1 of the head comment
 * says, through a kill -9 and a restart.
 */
static void journal_fault(const char *spec, unsigned ok_before, unsigned nfail,
                          const char *errtext, unsigned fired)
{
	char jrn[PATH_MAX + 64];
	snprintf(jrn, sizeof jrn, "%s/faults.jrn", tu_dir);
	int mport = st_free_port();
	st_server *s = start_faulty(spec, st_snap, "--journal", jrn, "--http-port",
	                            ht_port_str(mport));
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(info_str(c, "wio_fault_plan"), "armed (SXGATE_WIO_FAULT, a testing hook)");
	cr_assert_eq(info_num(c, "wio_faults_fired"), 0, "a fault fired before any update");

	unsigned n = 100;                               /* next new ID */
	for (unsigned i = 0; i < ok_before; i++, n++) {
		cr_assert_eq(ok_seq(list_add(c, n), "an update before the fault"), i + 1);
		cr_assert_str_eq(check_n(c, n), deny_n(n));
	}
	off_t good = fsize(jrn);

	unsigned first_refused = n;
	for (unsigned i = 0; i < nfail; i++) {
		const char *r = i == 0 ? st_askf(c, "LIST.REMOVE " X_CASE " RIC " X_ID) : list_add(c, n++);
		cr_assert(!strncmp(r, "-ERR not durable, not applied: journal write failed: ", 53) &&
		          strstr(r, errtext), "update %u under the fault: %s", i + 1, r);
		still_serving(c, "after a refused update");     /* the REMOVE did not apply */
		for (unsigned k = first_refused; k < n; k++)
			cr_assert_str_eq(check_n(c, k), ALLOW_NL, "a refused LIST.ADD is visible");
		cr_assert_eq(fsize(jrn), good, "a refused update left bytes in the journal");
	}
	cr_assert_eq(info_num(c, "updates_failed"), nfail);
	cr_assert_eq(info_num(c, "updates_acknowledged"), ok_before);
	cr_assert_eq(info_num(c, "updates_in_force"), ok_before);
	cr_assert_eq(info_num(c, "journal_last_seq"), ok_before, "a refused update took a number");
	cr_assert_eq(info_num(c, "journal_errors"), nfail);
	ht_resp m = ht_get(mport, "/metrics");     /* what deploy/prometheus/alerts.yml reads */
	cr_assert_eq(m.status, 200);
	cr_assert_eq(ht_series(m.body, "sxgate_journal_errors_total"), nfail, "%s", m.body);
	cr_assert_eq(ht_series(m.body, "sxgate_updates_failed_total"), nfail, "%s", m.body);
	ht_free(&m);
	char why[512];
	snprintf(why, sizeof why, "%s", info_str(c, "journal_last_error"));
	cr_assert(strstr(why, jrn) && strstr(why, errtext), "journal_last_error: %s", why);
	cr_assert_eq(info_num(c, "wio_faults_fired"), fired);
	cr_assert(log_has(s, "update not acknowledged: journal "), "the failure is not logged");
	cr_log_info("%u faults fired; journal_last_error: %s", fired, why);

	/* The plan has run out: the next update is acknowledged, numbered on. */
	unsigned after = n++;
	cr_assert_eq(ok_seq(list_add(c, after), "the update after the fault"), ok_before + 1);
	cr_assert_str_eq(check_n(c, after), deny_n(after));
	cr_assert_eq(info_num(c, "wio_faults_fired"), fired, "the plan fired again");
	st_close(c);
	st_stop(s, SIGKILL);

	/* Restart (no plan): exactly the acknowledged updates are replayed. */
	s = st_start(st_snap, "--journal", jrn);
	c = st_connect(s->resp_port);
	cr_assert(!log_has(s, "TESTING HOOK"), "the plan outlived its process");
	cr_assert(!info_has(c, "wio_fault_plan"), "INFO shows a plan without the hook");
	cr_assert(!log_has(s, "torn tail"), "a refused update left a torn tail");
	cr_assert_eq(info_num(c, "updates_replayed_at_start"), ok_before + 1);
	cr_assert_eq(info_num(c, "journal_last_seq"), ok_before + 1);
	for (unsigned k = 100; k < 100 + ok_before; k++)
		cr_assert_str_eq(check_n(c, k), deny_n(k), "an update before the fault was lost");
	cr_assert_str_eq(check_n(c, after), deny_n(after), "the update after the fault was lost");
	for (unsigned k = first_refused; k < after; k++)
		cr_assert_str_eq(check_n(c, k), ALLOW_NL, "a refused LIST.ADD replayed");
	still_serving(c, "after the restart");          /* the refused REMOVE did not replay */
	st_close(c);
}

ST_TEST(faults, journal_enospc_refuses_the_update_and_the_server_keeps_serving)
{
	/* writes 1 and 2 fail: two updates refused */
	journal_fault("write_nth=1,write_times=2,write_errno=ENOSPC", 0, 2, ENOSPC_TEXT, 2);
}

ST_TEST(faults, journal_eio_after_acknowledged_updates_keeps_them_and_refuses_the_rest)
{
	/* write 1 lands (+OK 1), writes 2..4 fail */
	journal_fault("write_nth=2,write_times=3,write_errno=EIO", 1, 3, EIO_TEXT, 3);
}

ST_TEST(faults, journal_short_write_then_enospc_is_cut_back_and_refused)
{
	/* write 2 lands 10 bytes of a frame, write 3 (the rest) and write 4
	 * (the next update) find the disk full; the cut-back works */
	journal_fault("write_nth=2,write_short=10,write_times=3,write_errno=ENOSPC", 1, 2,
	              ENOSPC_TEXT, 3);
}

ST_TEST(faults, journal_fdatasync_failure_refuses_the_update_and_the_recheck_too)
{
	/* fdatasync 1 (the update's) fails, 2 (after the cut-back) fails,
	 * 3 (the next update's re-check) fails: two updates refused */
	journal_fault("fsync_nth=1,fsync_times=3,fsync_errno=EIO", 0, 2, EIO_TEXT, 3);
}

/* A fault mid-frame whose cut-back fails leaves a torn frame on disk.  The
 * disk stays unwell (every ftruncate fails), the server is killed: the
 * restart cuts the torn frame, says so, and it never replays. */
ST_TEST(faults, journal_torn_frame_left_by_a_failed_cut_back_is_cut_at_restart)
{
	char jrn[PATH_MAX + 64];
	snprintf(jrn, sizeof jrn, "%s/torn.jrn", tu_dir);
	st_server *s = start_faulty("write_nth=2,write_short=10,write_times=2,write_errno=ENOSPC,"
	                            "ftruncate_nth=1,ftruncate_times=always",
	                            st_snap, "--journal", jrn);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_eq(ok_seq(list_add(c, 1), "update 1"), 1);
	off_t good = fsize(jrn);

	const char *r = st_askf(c, "LIST.REMOVE " X_CASE " RIC " X_ID);
	cr_assert(!strncmp(r, "-ERR not durable", 16) && strstr(r, ENOSPC_TEXT), "%s", r);
	cr_assert_eq(fsize(jrn), good + 10, "the torn frame is not on disk: the test is void");
	const char *why = info_str(c, "journal_last_error");
	cr_assert(strstr(why, "10 bytes landed") && strstr(why, "cutting them back failed"),
	          "journal_last_error: %s", why);
	still_serving(c, "with a torn frame in the journal");

	/* the next append re-checks first, cannot cut, and refuses */
	r = list_add(c, 2);
	cr_assert(!strncmp(r, "-ERR not durable", 16) && strstr(r, EIO_TEXT), "%s", r);
	why = info_str(c, "journal_last_error");
	cr_assert(strstr(why, "re-check") && strstr(why, "ftruncate") && strstr(why, EIO_TEXT),
	          "journal_last_error: %s", why);
	cr_assert_str_eq(check_n(c, 2), ALLOW_NL);
	cr_assert_eq(info_num(c, "updates_failed"), 2);
	cr_assert_eq(info_num(c, "journal_last_seq"), 1);
	cr_assert_eq(info_num(c, "wio_faults_fired"), 4);   /* short, ENOSPC, 2 ftruncates */
	cr_log_info("4 faults fired; journal_last_error: %s", info_str(c, "journal_last_error"));
	still_serving(c, "after two refused updates");
	st_close(c);
	st_stop(s, SIGKILL);
	cr_assert_eq(fsize(jrn), good + 10);

	/* restart: the torn frame is cut and reported, update 1 stays */
	s = st_start(st_snap, "--journal", jrn);
	char want[128];
	snprintf(want, sizeof want, "a torn tail of 10 bytes at offset %lld was cut",
	         (long long)good);
	cr_assert(log_has(s, want), "the restart does not report the torn frame (%s)", want);
	cr_assert_eq(fsize(jrn), good);
	c = st_connect(s->resp_port);
	cr_assert_eq(info_num(c, "updates_replayed_at_start"), 1);
	cr_assert_str_eq(check_n(c, 1), deny_n(1));
	cr_assert_str_eq(check_n(c, 2), ALLOW_NL);
	still_serving(c, "after the restart");          /* the torn REMOVE did not replay */
	cr_assert_eq(ok_seq(list_add(c, 3), "update after the restart"), 2);
	st_close(c);
	cr_assert_eq(st_stop(s, SIGTERM), 0);

	/* and the journal is clean from then on */
	s = st_start(st_snap, "--journal", jrn);
	cr_assert(!log_has(s, "torn tail"));
	c = st_connect(s->resp_port);
	cr_assert_eq(info_num(c, "journal_last_seq"), 2);
	cr_assert_str_eq(check_n(c, 3), deny_n(3));
	st_close(c);
}

/* The same torn frame, but the disk recovers: the running server cuts it
 * before its next append, so nothing is ever written after half a frame
 * (a restart would otherwise refuse the journal as damaged in the
 * middle), and the refused update keeps no sequence number. */
ST_TEST(faults, journal_torn_frame_is_cut_by_the_next_append_once_the_disk_recovers)
{
	char jrn[PATH_MAX + 64];
	snprintf(jrn, sizeof jrn, "%s/torn.jrn", tu_dir);
	st_server *s = start_faulty("write_nth=2,write_short=10,write_times=2,write_errno=ENOSPC,"
	                            "ftruncate_nth=1", st_snap, "--journal", jrn);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_eq(ok_seq(list_add(c, 1), "update 1"), 1);
	off_t good = fsize(jrn);
	const char *r = list_add(c, 2);
	cr_assert(!strncmp(r, "-ERR not durable", 16) && strstr(r, ENOSPC_TEXT), "%s", r);
	cr_assert_eq(fsize(jrn), good + 10, "the torn frame is not on disk: the test is void");
	cr_assert_str_eq(check_n(c, 2), ALLOW_NL);
	cr_assert_eq(ok_seq(list_add(c, 3), "update 3"), 2);
	cr_assert_eq(info_num(c, "wio_faults_fired"), 3);   /* short, ENOSPC, ftruncate */
	cr_log_info("3 faults fired");
	st_close(c);
	st_stop(s, SIGKILL);

	s = st_start(st_snap, "--journal", jrn);
	cr_assert(!log_has(s, "torn tail"), "the torn frame was not cut by the append");
	c = st_connect(s->resp_port);
	cr_assert_eq(info_num(c, "updates_replayed_at_start"), 2);
	cr_assert_eq(info_num(c, "journal_last_seq"), 2);
	cr_assert_str_eq(check_n(c, 1), deny_n(1));
	cr_assert_str_eq(check_n(c, 2), ALLOW_NL, "the refused update replayed");
	cr_assert_str_eq(check_n(c, 3), deny_n(3));
	st_close(c);
}

/* ---- 2. feedback writes that fail ---------------------------------------------- */

typedef struct fb_count {
	unsigned records, deny_x;
} fb_count;

static int count_rec(void *arg, const sx_feedback_rec *r)
{
	fb_count *k = arg;
	k->records++;
	if (r->reason == SX_R_LISTED && r->id.n == strlen(X_ID) && !memcmp(r->id.p, X_ID, r->id.n))
		k->deny_x++;
	return 0;
}

/*
 * Keep CHECKing the DENY ID (each is a feedback record) while the flusher
 * fails, every answer checked, until INFO's key reaches want (or 5 s).
 * Returns how many DENYs were given.
 */
static unsigned deny_until(st_conn *c, const char *key, long long want, unsigned done)
{
	int64_t t0 = now_ms();
	while (info_num(c, key) < want) {
		cr_assert_lt(now_ms() - t0, 5000, "%s did not reach %lld within 5 s", key, want);
		cr_assert_str_eq(check(c, X_ID), deny_x(), "a lookup while the feedback log fails");
		cr_assert_str_eq(st_ask(c, "PING"), "+PONG");
		done++;
		st_sleep_ms(20);
	}
	return done;
}

/* Wait (up to 5 s) until INFO's key is at least min. */
static void wait_num(st_conn *c, const char *key, long long min)
{
	int64_t t0 = now_ms();
	while (info_num(c, key) < min) {
		cr_assert_lt(now_ms() - t0, 5000, "%s did not reach %lld within 5 s", key, min);
		st_sleep_ms(20);
	}
}

/* Wait until every record added is written; their number. */
static long long all_written(st_conn *c)
{
	int64_t t0 = now_ms();
	long long added;
	while ((added = info_num(c, "feedback_added")) != info_num(c, "feedback_written")) {
		cr_assert_lt(now_ms() - t0, 5000, "feedback records not written within 5 s "
		             "after the fault");
		st_sleep_ms(20);
	}
	return added;
}

/*
 * One feedback fault: lookups go on while the plan fails nerr feedback
 * writes or fdatasyncs (errtext), firing `fired` faults; afterwards every
 * record lands and the log reads back whole after a clean stop.
 */
static void feedback_fault(const char *spec, long long nerr, const char *errtext,
                           unsigned fired)
{
	char fb[PATH_MAX + 64];
	snprintf(fb, sizeof fb, "%s/feedback.log", tu_dir);
	st_server *s = start_faulty(spec, st_snap, "--feedback", fb);
	st_conn *c = st_connect(s->resp_port);
	unsigned denies = 0;
	for (; denies < 5; denies++)
		cr_assert_str_eq(check(c, X_ID), deny_x());
	denies = deny_until(c, "feedback_errors", nerr, denies);
	char why[512];
	snprintf(why, sizeof why, "%s", info_str(c, "feedback_last_error"));
	cr_assert(strstr(why, fb) && strstr(why, errtext), "feedback_last_error: %s", why);

	long long added = all_written(c);
	cr_assert_eq(added, denies, "a lookup's record was refused (%lld of %u)", added, denies);
	cr_assert_eq(info_num(c, "feedback_errors"), nerr, "more failures than the plan has");
	cr_assert_eq(info_num(c, "feedback_dropped"), 0);
	wait_num(c, "feedback_fsyncs", 1);               /* synced after the fault */
	cr_assert_eq(info_num(c, "wio_faults_fired"), fired);
	cr_log_info("%u faults fired; feedback_last_error: %s", fired, why);
	still_serving(c, "after the feedback log recovered");
	denies++;                                        /* still_serving's DENY */
	st_close(c);
	int st = st_stop(s, SIGTERM);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: status %d", st);

	fb_count k = { 0 };
	sx_feedback_report rep;
	char rwhy[512] = "";
	cr_assert_eq(sx_feedback_read(fb, count_rec, &k, &rep, rwhy, sizeof rwhy), 0, "%s", rwhy);
	cr_assert_eq(rep.torn_bytes, 0, "the feedback log has a torn tail");
	cr_assert_eq(k.records, denies, "%u records in the log for %u DENYs", k.records, denies);
	cr_assert_eq(k.deny_x, denies);
}

ST_TEST(faults, feedback_eio_is_counted_and_retried_while_lookups_go_on)
{
	feedback_fault("write_nth=1,write_times=3,write_errno=EIO", 3, EIO_TEXT, 3);
}

ST_TEST(faults, feedback_enospc_is_counted_and_retried_while_lookups_go_on)
{
	feedback_fault("write_nth=1,write_times=2,write_errno=ENOSPC", 2, ENOSPC_TEXT, 2);
}

ST_TEST(faults, feedback_short_write_then_enospc_is_cut_back_and_written_again)
{
	/* 50 bytes land, the rest finds the disk full, the first cut-back
	 * fails (so it is retried before anything else is written) */
	feedback_fault("write_nth=1,write_short=50,write_times=2,write_errno=ENOSPC,ftruncate_nth=1",
	               1, ENOSPC_TEXT, 3);
}

ST_TEST(faults, feedback_fdatasync_failure_is_counted_and_synced_again)
{
	feedback_fault("fsync_nth=1,fsync_times=2,fsync_errno=EIO", 2, "fdatasync", 2);
}

/* A partial feedback write that can never be cut back: nothing more is
 * written (so no record follows half a frame), lookups go on, and after
 * kill -9 the next start cuts the torn tail and writes again. */
ST_TEST(faults, feedback_torn_tail_left_by_a_failing_disk_is_cut_at_restart)
{
	char fb[PATH_MAX + 64];
	snprintf(fb, sizeof fb, "%s/feedback.log", tu_dir);
	st_server *s = start_faulty("write_nth=1,write_short=50,write_times=2,write_errno=ENOSPC,"
	                            "ftruncate_nth=1,ftruncate_times=always",
	                            st_snap, "--feedback", fb);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(check(c, X_ID), deny_x());
	deny_until(c, "feedback_errors", 3, 1);         /* the write, then cut-backs */
	cr_assert_eq(fsize(fb), 50, "the torn frame is not on disk: the test is void");
	cr_assert_eq(info_num(c, "feedback_written"), 0);
	/* short write, ENOSPC, then a failed cut-back per flush since */
	cr_assert_geq(info_num(c, "wio_faults_fired"), 5);
	const char *why = info_str(c, "feedback_last_error");
	cr_assert(strstr(why, "cannot cut a partial write back") && strstr(why, EIO_TEXT),
	          "feedback_last_error: %s", why);
	still_serving(c, "with a torn feedback log");
	cr_assert_eq(fsize(fb), 50, "written after half a frame");
	cr_log_info("%lld faults fired before the kill", info_num(c, "wio_faults_fired"));
	st_close(c);
	st_stop(s, SIGKILL);

	s = st_start(st_snap, "--feedback", fb);
	cr_assert(log_has(s, "a torn tail of 50 bytes was cut"), "the restart does not report it");
	cr_assert_eq(fsize(fb), 0);
	c = st_connect(s->resp_port);
	cr_assert_str_eq(check(c, X_ID), deny_x());
	cr_assert_eq(all_written(c), 1);
	st_close(c);
	cr_assert_eq(st_stop(s, SIGTERM), 0);
	fb_count k = { 0 };
	sx_feedback_report rep;
	cr_assert_eq(sx_feedback_read(fb, count_rec, &k, &rep, NULL, 0), 0);
	cr_assert_eq(k.deny_x, 1);
	cr_assert_eq(rep.torn_bytes, 0);
}

/* ---- 3. the hook itself ----------------------------------------------------------- */

/* Without the variable nothing is armed; a malformed plan stops the start
 * with a message naming the variable and the bad word, never a server
 * running with a plan it did not understand. */
ST_TEST(faults, the_hook_is_off_unless_set_and_a_malformed_plan_stops_the_start)
{
	char jrn[PATH_MAX + 64];
	snprintf(jrn, sizeof jrn, "%s/hook.jrn", tu_dir);
	unsetenv(FAULT_ENV);
	st_server *s = st_start(st_snap, "--journal", jrn);
	st_conn *c = st_connect(s->resp_port);
	cr_assert(!info_has(c, "wio_fault_plan") && !info_has(c, "wio_faults_fired"));
	cr_assert(!log_has(s, "TESTING HOOK"));
	cr_assert_eq(info_num(c, "journal_errors"), 0);
	cr_assert_str_eq(info_str(c, "journal_last_error"), "none");
	st_close(c);
	cr_assert_eq(st_stop(s, SIGTERM), 0);

	cr_assert_eq(setenv(FAULT_ENV, "write_nth=1,write_errno=ENOSPACE", 1), 0);
	s = st_start_args(st_snap, 1, (const char *[]){ "--journal", jrn, NULL });
	unsetenv(FAULT_ENV);
	cr_assert(s->reaped && WIFEXITED(s->status) && WEXITSTATUS(s->status) == 1,
	          "a malformed plan did not stop the start (status %d)", s->status);
	cr_assert(log_has(s, FAULT_ENV) && log_has(s, "ENOSPACE"), "the refusal is not explained");
}

Test(faults_hook, plan_syntax_is_parsed_and_errors_say_where)
{
	sx_wio_fault f;
	char why[256];
	cr_assert_eq(sx_wio_parse_fault("write_nth=2,write_short=10,write_times=always,"
	                                "write_errno=ENOSPC,fsync_nth=3,fsync_errno=5,"
	                                "ftruncate_nth=1,ftruncate_times=4,write_delay_ms=7",
	                                &f, why, sizeof why), 0, "%s", why);
	cr_assert(f.fd == 0 && f.write_nth == 2 && f.write_short == 10 &&
	          f.write_times == SX_WIO_ALWAYS && f.write_errno == ENOSPC &&
	          f.fsync_nth == 3 && f.fsync_errno == EIO && f.ftruncate_nth == 1 &&
	          f.ftruncate_times == 4 && f.write_delay_ms == 7);
	static const struct { const char *spec, *says; } bad[] = {
		{ "", "empty" },
		{ "write_nth", "'write_nth' at offset 0 is not NAME=VALUE" },
		{ "write_nth=1,fd=3", "unknown name 'fd' at offset 12" },
		{ "write_nth=x", "write_nth: 'x' at offset 10 is not a number" },
		{ "write_nth=1,write_times=often", "or \"always\"" },
		{ "write_nth=1,write_errno=ENOSPACE", "'ENOSPACE' at offset 24" },
		{ "write_errno=EIO", "without write_nth" },
		{ "fsync_times=2", "without fsync_nth" },
		{ "ftruncate_errno=EIO", "without ftruncate_nth" },
		{ "write_nth=0", "fails nothing" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		why[0] = 0;
		cr_assert_eq(sx_wio_parse_fault(bad[i].spec, &f, why, sizeof why), SX_EINVAL,
		             "'%s' was accepted", bad[i].spec);
		cr_assert(strstr(why, bad[i].says), "'%s': %s", bad[i].spec, why);
	}
}
