/*
 * test_follow.c - the Redis Stream follower (server/follow.c) against a
 * real redis-server on a free loopback port: entries are applied in order
 * and once, malformed ones are skipped and counted, a restart resumes
 * after the last applied ID, a Redis outage is survived, and feed URLs
 * parse (TLS, user, %XX-escaped password, IPv6) and print masked.
 */
#include "testutil.h"
#include "follow.h"
#include "overlay.h"
#include "redisconn.h"

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

static pid_t redis_pid;
static int redis_port;

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &l);
	close(fd);
	return ntohs(a.sin_port);
}

static int redis_cli(const char *fmt, ...)
{
	char cmd[2048], args[1800];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "redis-cli -p %d %s >/dev/null 2>&1", redis_port, args);
	return system(cmd);
}

static void start_redis(void)
{
	char port[16];
	snprintf(port, sizeof port, "%d", redis_port);
	redis_pid = fork();
	if (redis_pid == 0) {
		int dn = open("/dev/null", O_WRONLY);
		dup2(dn, 1);
		dup2(dn, 2);
		execlp("redis-server", "redis-server", "--port", port, "--bind",
		       "127.0.0.1", "--save", "", "--appendonly", "no", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && redis_cli("PING") != 0; i++)
		usleep(50 * 1000);
}

static void stop_redis(void)
{
	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, NULL, 0);
		redis_pid = 0;
	}
}

/* The "server": an overlay on the sample snapshot, updated under a lock,
 * and a record of the sources applied. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sx_snap *base, *cur;
static char applied[64][48];
static int napplied;

static int apply(void *arg, const sx_str *argv, size_t argc, int64_t time_ms,
                 const char *source, sx_str by, char *why, size_t cap)
{
	(void)arg;
	(void)time_ms;
	(void)by;
	pthread_mutex_lock(&lock);
	sx_overlay *ov;
	int rc = sx_overlay_apply(cur, sx_snap_overlay(cur), argv, argc, &ov, why, cap);
	if (!rc) {
		sx_snap *next;
		sx_snap_derive(base, ov, &next);
		if (cur != base)
			sx_snap_close(cur);
		cur = next;
		if (napplied < 64)
			snprintf(applied[napplied++], 48, "%s", source);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

static const char *ask(const char *q)
{
	pthread_mutex_lock(&lock);
	const char *a = tu_ask(cur, q);
	pthread_mutex_unlock(&lock);
	return a;
}

static void setup(void)
{
	if (system("command -v redis-server >/dev/null 2>&1") != 0)
		cr_skip_test("redis-server is not installed: skipped");
	tu_setup();
	char list[PATH_MAX], permits[PATH_MAX];
	tu_data_path("sample-list.csv", list, sizeof list);
	tu_data_path("sample-permits.csv", permits, sizeof permits);
	size_t n;
	char *l = tu_read(list, &n), *p = tu_read(permits, &n);
	if (!l || !p)
		cr_skip_test("../shared/data is not there: skipped");
	base = cur = tu_snap_from_csv(tu_dir, "f", l, p);
	free(l);
	free(p);
	napplied = 0;
	redis_port = free_port();
	start_redis();
}

static void teardown(void)
{
	stop_redis();
	if (cur != base)
		sx_snap_close(cur);
	sx_snap_close(base);
	tu_teardown();
}

TestSuite(follow, .init = setup, .fini = teardown, .timeout = 60);

static sx_follow *start(const char *after)
{
	char url[128], why[256];
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/sxgate:updates", redis_port);
	sx_follow_config c = { .url = url, .resume_after = after, .apply = apply,
	                       .block_ms = 200 };
	sx_follow *f;
	cr_assert_eq(sx_follow_start(&c, &f, why, sizeof why), 0, "%s", why);
	return f;
}

/* Wait until the follower has applied n entries in total. */
static void wait_applied(sx_follow *f, uint64_t n)
{
	sx_follow_stats st;
	for (int i = 0; i < 200; i++) {
		sx_follow_get_stats(f, &st);
		if (st.applied >= n)
			return;
		usleep(25 * 1000);
	}
	cr_assert_fail("only %llu of %llu entries applied (%s)",
	               (unsigned long long)st.applied, (unsigned long long)n,
	               st.last_error);
}

Test(follow, applies_entries_in_order_and_skips_malformed_ones)
{
	sx_follow *f = start(NULL);
	cr_assert_eq(redis_cli("XADD sxgate:updates 1-1 op LIST.REMOVE case_no "
	                       "'（2023）闽05执1001号' id_type RIC id_no 350304197806263293"), 0);
	cr_assert_eq(redis_cli("XADD sxgate:updates 1-2 op NOPE x y"), 0);
	cr_assert_eq(redis_cli("XADD sxgate:updates 1-3 op LIST.SUSPEND case_no "
	                       "'（2023）闽0302执1008号' id_type RIC id_no 110101199405036676"), 0);
	wait_applied(f, 2);
	sx_follow_stats st;
	sx_follow_get_stats(f, &st);
	cr_assert_eq(st.malformed, 1);
	cr_assert_str_eq(st.last_id, "1-3");
	cr_assert_str_eq(ask("350304197806263293 air AT 2026-01-10"), "ALLOW NOT_LISTED");
	cr_assert_str_eq(ask("110101199405036676 air AT 2026-01-10"), "ALLOW SUSPENDED");
	cr_assert_str_eq(applied[0], "1-1");
	cr_assert_str_eq(applied[1], "1-3");
	sx_follow_stop(f);
}

/* Stream entries carry the joint-punishment codes like any other field:
 * a listing narrowed to two measures, a permit on one, an XG listing that
 * names a joint code (refused by the update path: skipped and counted). */
Test(follow, entries_with_joint_punishment_codes)
{
	sx_follow *f = start(NULL);
	cr_assert_eq(redis_cli("XADD sxgate:updates 1-1 op LIST.ADD case_no "
	                       "'（2026）闽0102执7号' court 福州市鼓楼区人民法院 list SX "
	                       "role debtor id_type RIC id_no 110101198001011005 name 甲 "
	                       "status active listed_on 2026-01-01 restrictions "
	                       "'BIDDING;credit'"), 0);
	cr_assert_eq(redis_cli("XADD sxgate:updates 1-2 op LIST.ADD case_no "
	                       "'（2026）闽0102执8号' court 福州市鼓楼区人民法院 list XG "
	                       "role debtor id_type RIC id_no 110101197512121017 name 乙 "
	                       "status active listed_on 2026-01-01 restrictions BIDDING"), 0);
	cr_assert_eq(redis_cli("XADD sxgate:updates 1-3 op PERMIT.ADD id_type RIC id_no "
	                       "350304197806263293 case_no '（2023）闽05执1001号' codes "
	                       "PROCUREMENT valid_from 2026-01-01 valid_to 2026-01-31 "
	                       "permit_ref 准许-9"), 0);
	wait_applied(f, 2);
	sx_follow_stats st;
	sx_follow_get_stats(f, &st);
	cr_assert_eq(st.skipped, 1, "the XG entry naming BIDDING is refused");
	cr_assert_str_eq(st.last_id, "1-3");
	cr_assert_str_eq(ask("110101198001011005 bidding AT 2026-01-10"),
	                 "DENY LISTED （2026）闽0102执7号|福州市鼓楼区人民法院|debtor|SX");
	cr_assert_str_eq(ask("110101198001011005 credit AT 2026-01-10"),
	                 "REVIEW LISTED （2026）闽0102执7号|福州市鼓楼区人民法院|debtor|SX");
	cr_assert_str_eq(ask("110101198001011005 procurement AT 2026-01-10"),
	                 "ALLOW NOT_RESTRICTED");
	cr_assert_str_eq(ask("110101197512121017 air AT 2026-01-10"), "ALLOW NOT_LISTED");
	cr_assert_str_eq(ask("350304197806263293 procurement AT 2026-01-10"), "ALLOW EXEMPT");
	cr_assert_str_eq(ask("350304197806263293 bidding AT 2026-01-10"),
	                 "DENY LISTED （2023）闽05执1001号|泉州市中级人民法院|debtor|SX");
	sx_follow_stop(f);
}

Test(follow, a_restart_resumes_after_the_last_applied_entry)
{
	cr_assert_eq(redis_cli("XADD sxgate:updates 5-1 op LIST.SUSPEND case_no "
	                       "'（2023）闽0302执1008号' id_type RIC id_no 110101199405036676"), 0);
	cr_assert_eq(redis_cli("XADD sxgate:updates 5-2 op LIST.RESUME case_no "
	                       "'（2023）闽0302执1008号' id_type RIC id_no 110101199405036676"), 0);
	/* 5-1 was applied before the "restart": only 5-2 is new */
	sx_follow *f = start("5-1");
	wait_applied(f, 1);
	usleep(300 * 1000);
	sx_follow_stats st;
	sx_follow_get_stats(f, &st);
	cr_assert_eq(st.applied, 1, "applied %llu", (unsigned long long)st.applied);
	cr_assert_str_eq(applied[0], "5-2");
	sx_follow_stop(f);
}

Test(follow, survives_redis_going_away_and_catches_up)
{
	sx_follow *f = start(NULL);
	cr_assert_eq(redis_cli("XADD sxgate:updates 7-1 op LIST.SUSPEND case_no "
	                       "'（2023）闽0302执1008号' id_type RIC id_no 110101199405036676"), 0);
	wait_applied(f, 1);
	stop_redis();
	usleep(500 * 1000);
	sx_follow_stats st;
	sx_follow_get_stats(f, &st);
	cr_assert_eq(st.connected, 0);
	/* a fresh Redis with the stream re-published from the start: entries
	 * up to 7-1 are not applied twice */
	start_redis();
	cr_assert_eq(redis_cli("XADD sxgate:updates 7-1 op LIST.SUSPEND case_no "
	                       "'（2023）闽0302执1008号' id_type RIC id_no 110101199405036676"), 0);
	cr_assert_eq(redis_cli("XADD sxgate:updates 7-2 op LIST.RESUME case_no "
	                       "'（2023）闽0302执1008号' id_type RIC id_no 110101199405036676"), 0);
	wait_applied(f, 2);
	sx_follow_get_stats(f, &st);
	cr_assert_eq(st.applied, 2);
	cr_assert_geq(st.reconnects, 1);
	cr_assert_str_eq(ask("110101199405036676 air AT 2026-01-10"),
	                 "DENY LISTED （2023）闽0302执1008号|莆田市城厢区人民法院|legal_rep|SX");
	sx_follow_stop(f);
}

Test(follow, bad_urls_are_refused)
{
	char why[256];
	sx_follow *f;
	sx_follow_config c = { .url = "http://x/y", .apply = apply };
	cr_assert_eq(sx_follow_start(&c, &f, why, sizeof why), SX_EINVAL);
	cr_assert(strstr(why, "redis[s]://[USER[:PASSWORD]@]HOST[:PORT]/STREAM"), "%s", why);
	c.url = "redis://host:99999/s";
	cr_assert_eq(sx_follow_start(&c, &f, why, sizeof why), SX_EINVAL);
	c.url = "redis://host:6379/";
	cr_assert_eq(sx_follow_start(&c, &f, why, sizeof why), SX_EINVAL);
	cr_assert_lt(sx_follow_id_cmp("9-1", "10-0"), 0);
	cr_assert_gt(sx_follow_id_cmp("10-2", "10-1"), 0);
}

Test(follow, urls_parse_and_print_masked)
{
	sx_redis_url u;
	char why[256], buf[256];
	cr_assert_eq(sx_redis_url_parse("--updates-from", "rediss://ops:p%40ss%3Aw@[::1]:7000/st",
	                                &u, why, sizeof why), 0, "%s", why);
	cr_assert_eq(u.tls, 1);
	cr_assert_str_eq(u.host, "::1");
	cr_assert_eq(u.port, 7000);
	cr_assert_str_eq(u.user, "ops");
	cr_assert_str_eq(u.password, "p@ss:w");
	cr_assert_str_eq(u.stream, "st");
	cr_assert_str_eq(u.masked, "rediss://ops:***@[::1]:7000/st");
	cr_assert_eq(sx_redis_url_parse("--updates-from", "redis://:pw@h/s", &u, why, sizeof why), 0);
	cr_assert_str_eq(u.user, "");
	cr_assert_str_eq(u.password, "pw");
	cr_assert_eq(u.port, 6379);
	cr_assert_str_eq(u.masked, "redis://:***@h/s");
	/* a refused URL is named masked too */
	cr_assert_eq(sx_redis_url_parse("--updates-from", "redis://u:hunter2@h:x/s", &u, why,
	                                sizeof why), SX_EINVAL);
	cr_assert(strstr(why, "redis://u:***@h:x/s") && !strstr(why, "hunter2"), "%s", why);
	cr_assert_str_eq(sx_redis_url_mask("redis://u@h:1/s", buf, sizeof buf), "redis://u@h:1/s");
	cr_assert_str_eq(sx_redis_url_mask("redis://h:1/a@b", buf, sizeof buf), "redis://h:1/a@b");
}
