/*
 * test_feed_auth_tls.c - the update feed against a Redis that wants a
 * password, in the clear and over TLS: sxgated follows what `sxgate
 * publish` adds (redis:// and rediss://, password from a file or the URL);
 * a wrong password, a missing one and an untrusted certificate are each
 * one clear log line, INFO's stream_last_error and a 503 on /health, with
 * nothing applied; a password file others may read stops the start; and
 * the password never shows in INFO or the log.
 *
 * Every Redis here is a real redis-server started by the test; the TLS
 * one gets a CA and certificate made by the openssl CLI in the scratch
 * directory.  The feed does not depend on the I/O backend: epoll only.
 */
#include "helpers/feedtest.h"

#define PASSWORD  "pw-Zq8vK3xT-feed"     /* distinctive: grep'able in logs */
#define STREAM    "sxgate:updates"
#define X_ID      "350304197806263293"
#define X_CASE    "（2023）闽05执1001号"
#define ALLOW_NL  "[ALLOW, NOT_LISTED]"

static char pwfile[PATH_MAX + 64], badpw[PATH_MAX + 64];

static void write_file(const char *path, const char *text, mode_t mode)
{
	tu_write(path, text, strlen(text));
	cr_assert_eq(chmod(path, mode), 0);
}

static void setup(void)
{
	st_setup_epoll();
	if (!ft_have_redis())
		cr_skip_test("redis-server is not installed: the update feed is not tested");
	snprintf(pwfile, sizeof pwfile, "%s/redis.pw", tu_dir);
	snprintf(badpw, sizeof badpw, "%s/wrong.pw", tu_dir);
	write_file(pwfile, PASSWORD "\n", 0600);
	write_file(badpw, "not-the-password\n", 0600);
}

static void teardown(void)
{
	ft_redis_stop_all();
	st_teardown();
}

TestSuite(feed, .init = setup, .fini = teardown, .timeout = 60);

static const char *sxgate_bin(void)
{
	static char buf[PATH_MAX + 64];
	return tu_bin("sxgate", buf, sizeof buf);
}

/* A Redis with requirepass on 127.0.0.1: its port. */
static int redis_plain(void)
{
	int port = st_free_port();
	char p[16];
	snprintf(p, sizeof p, "%d", port);
	ft_redis_start(port, "--port", p, "--requirepass", PASSWORD);
	return port;
}

/* The same over TLS only (certificates made in tu_dir): its port. */
static int redis_tls(void)
{
	ft_make_certs(tu_dir);
	int port = st_free_port();
	char p[16], crt[PATH_MAX + 64], key[PATH_MAX + 64], ca[PATH_MAX + 64];
	snprintf(p, sizeof p, "%d", port);
	snprintf(crt, sizeof crt, "%s/redis.crt", tu_dir);
	snprintf(key, sizeof key, "%s/redis.key", tu_dir);
	snprintf(ca, sizeof ca, "%s/ca.crt", tu_dir);
	ft_redis_start(port, "--port", "0", "--tls-port", p, "--tls-cert-file", crt,
	               "--tls-key-file", key, "--tls-ca-cert-file", ca,
	               "--tls-auth-clients", "no", "--requirepass", PASSWORD);
	return port;
}

/* sxgated following url with the extra flags (NULL-terminated, up to 6);
 * *http gets its /health port. */
static st_server *replica(const char *url, int *http, const char *a, const char *b,
                          const char *c, const char *d)
{
	static char jrn[PATH_MAX + 64], hp[16];
	static int n;
	snprintf(jrn, sizeof jrn, "%s/replica-%d.jrn", tu_dir, ++n);
	*http = st_free_port();
	snprintf(hp, sizeof hp, "%d", *http);
	return st_start(st_snap, "--journal", jrn, "--updates-from", url, "--http-port", hp,
	                a, b, c, d);
}

/* `sxgate publish FLAGS URL LIST.REMOVE X...`: its exit status, output in out. */
static int publish(const char *flags, const char *url, char *out, size_t cap)
{
	int st;
	char *text = tu_run(&st, "'%s' publish %s '%s' LIST.REMOVE '" X_CASE "' RIC " X_ID
	                    " 2>&1", sxgate_bin(), flags, url);
	snprintf(out, cap, "%s", text);
	free(text);
	return st;
}

static const char *wait_check(st_conn *c, const char *want, int timeout_ms)
{
	const char *r;
	for (int t = 0; strcmp(r = st_ask(c, "CHECK " X_ID " air " ST_AT), want) &&
	     t < timeout_ms; t += 20)
		st_sleep_ms(20);
	return r;
}

/* INFO live and the log never hold the password. */
static void assert_no_password(st_server *s, st_conn *c)
{
	const char *info = st_ask(c, "INFO live");
	cr_assert(!strstr(info, PASSWORD), "INFO shows the password:\n%s", info);
	char *log = st_log_text(s);
	cr_assert(!strstr(log, PASSWORD), "the log shows the password:\n%s", log);
	free(log);
}

/* The failure every reconnect meets: said once in the log (however many
 * attempts), in INFO's stream_last_error and on /health; nothing applied;
 * never called a lost connection. */
static void assert_refused(st_server *s, int http, const char *url, const char *why)
{
	char line[1024], v[512], body[1024];
	snprintf(line, sizeof line, "update feed %s: %s", url, why);
	cr_assert(st_log_wait(s, line, 5000), "no '%s' in the log", line);
	st_conn *c = st_connect(s->resp_port);
	/* several attempts go by: the line stays one */
	const char *info = st_ask(c, "INFO live");
	for (int t = 0; t < 5000 && (!st_info_get(info, "stream_reconnects", v, sizeof v) ||
	                            atoi(v) < 4); t += 50) {
		st_sleep_ms(50);
		info = st_ask(c, "INFO live");
	}
	cr_assert_geq(atoi(v), 4, "%s", info);
	char *log = st_log_text(s);
	int n = 0;
	for (const char *p = log; (p = strstr(p, line)); p++)
		n++;
	cr_assert_eq(n, 1, "'%s' logged %d times in %s attempts:\n%s", line, n, v, log);
	cr_assert(!strstr(log, "connection lost"), "%s", log);
	free(log);
	cr_assert(!strncmp(st_info_get(info, "stream_last_error", v, sizeof v), why,
	                   strlen(why)), "stream_last_error: %s", v);
	cr_assert_str_eq(st_info_get(info, "stream_connected", v, sizeof v), "0");
	cr_assert_str_eq(st_info_get(info, "stream_applied", v, sizeof v), "0");
	char want[1024];
	snprintf(want, sizeof want, "update feed %s is not connected: %s", url, why);
	int code = ft_wait_health(http, 503, 3000, body, sizeof body);
	cr_assert_eq(code, 503, "%d %s", code, body);
	cr_assert(strstr(body, want), "/health lacks '%s': %s", want, body);
	cr_assert_str_eq(st_ask(c, "CHECK " X_ID " air " ST_AT), "[DENY, LISTED, " ST_DENY_REC "]",
	                 "an entry was applied without the password");
	assert_no_password(s, c);
	st_close(c);
}

Test(feed, follows_a_redis_with_a_password_from_a_file)
{
	int port = redis_plain(), http;
	char url[256], flags[2 * PATH_MAX], out[1024], body[1024];
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/" STREAM, port);
	st_server *s = replica(url, &http, "--updates-password-file", pwfile, NULL, NULL);
	cr_assert_eq(ft_wait_health(http, 200, 5000, body, sizeof body), 200, "%s", body);
	snprintf(flags, sizeof flags, "--password-file '%s'", pwfile);
	cr_assert_eq(publish(flags, url, out, sizeof out), 0, "%s", out);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(wait_check(c, ALLOW_NL, 3000), ALLOW_NL);
	/* the counter is bumped just after the entry is visible: wait for it */
	char v[256] = "";
	for (int t = 0; t < 3000; t += 10) {
		if (!strcmp(st_info_get(st_ask(c, "INFO live"), "stream_applied", v, sizeof v) ?
		            v : "", "1"))
			break;
		st_sleep_ms(10);
	}
	cr_assert_str_eq(v, "1", "stream_applied");
	assert_no_password(s, c);
	st_close(c);
}

Test(feed, a_password_in_the_url_works_warns_and_is_masked)
{
	int port = redis_plain(), http;
	char url[256], masked[256], out[1024], body[1024], v[256];
	snprintf(url, sizeof url, "redis://default:" PASSWORD "@127.0.0.1:%d/" STREAM, port);
	snprintf(masked, sizeof masked, "redis://default:***@127.0.0.1:%d/" STREAM, port);
	st_server *s = replica(url, &http, NULL, NULL, NULL, NULL);
	cr_assert_eq(ft_wait_health(http, 200, 5000, body, sizeof body), 200, "%s", body);
	cr_assert(st_log_wait(s, "the password in --updates-from shows in ps", 1000));
	/* publish with AUTH user password, the URL's */
	cr_assert_eq(publish("", url, out, sizeof out), 0, "%s", out);
	cr_assert(strstr(out, "warning: the password in the URL"), "%s", out);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(wait_check(c, ALLOW_NL, 3000), ALLOW_NL);
	cr_assert_str_eq(st_info_get(st_ask(c, "INFO live"), "updates_from", v, sizeof v), masked);
	char *log = st_log_text(s);
	cr_assert(strstr(log, masked), "%s", log);
	free(log);
	assert_no_password(s, c);
	st_close(c);
}

Test(feed, follows_a_tls_redis_with_a_password)
{
	int port = redis_tls(), http;
	char url[256], ca[PATH_MAX + 64], flags[3 * PATH_MAX], out[1024], body[1024];
	snprintf(url, sizeof url, "rediss://127.0.0.1:%d/" STREAM, port);
	snprintf(ca, sizeof ca, "%s/ca.crt", tu_dir);
	st_server *s = replica(url, &http, "--updates-password-file", pwfile, "--updates-ca", ca);
	cr_assert_eq(ft_wait_health(http, 200, 5000, body, sizeof body), 200, "%s", body);
	snprintf(flags, sizeof flags, "--ca '%s' --password-file '%s'", ca, pwfile);
	cr_assert_eq(publish(flags, url, out, sizeof out), 0, "%s", out);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(wait_check(c, ALLOW_NL, 3000), ALLOW_NL);
	assert_no_password(s, c);
	st_close(c);
}

Test(feed, a_wrong_password_is_said_once_and_applies_nothing)
{
	int port = redis_plain(), http;
	char url[256], flags[2 * PATH_MAX], out[1024];
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/" STREAM, port);
	/* an entry is there, published with the right password */
	snprintf(flags, sizeof flags, "--password-file '%s'", pwfile);
	cr_assert_eq(publish(flags, url, out, sizeof out), 0, "%s", out);
	st_server *s = replica(url, &http, "--updates-password-file", badpw, NULL, NULL);
	assert_refused(s, http, url, "AUTH refused: WRONGPASS");
	/* publish says the same */
	snprintf(flags, sizeof flags, "--password-file '%s'", badpw);
	cr_assert_eq(publish(flags, url, out, sizeof out), 3, "%s", out);
	cr_assert(strstr(out, "AUTH refused: WRONGPASS"), "%s", out);
}

Test(feed, no_password_against_requirepass_says_one_is_needed)
{
	int port = redis_plain(), http;
	char url[256], out[1024];
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/" STREAM, port);
	st_server *s = replica(url, &http, NULL, NULL, NULL, NULL);
	assert_refused(s, http, url, "the feed needs a password: --updates-password-file");
	cr_assert_eq(publish("", url, out, sizeof out), 3, "%s", out);
	cr_assert(strstr(out, "NOAUTH") && strstr(out, "--password-file"), "%s", out);
}

Test(feed, an_untrusted_certificate_is_refused)
{
	int port = redis_tls(), http;
	char url[256], ca[PATH_MAX + 64], flags[3 * PATH_MAX], out[1024];
	snprintf(url, sizeof url, "rediss://127.0.0.1:%d/" STREAM, port);
	snprintf(ca, sizeof ca, "%s/other-ca.crt", tu_dir);
	st_server *s = replica(url, &http, "--updates-password-file", pwfile, "--updates-ca", ca);
	assert_refused(s, http, url, "TLS handshake with 127.0.0.1: certificate verify failed");
	snprintf(flags, sizeof flags, "--ca '%s' --password-file '%s'", ca, pwfile);
	cr_assert_eq(publish(flags, url, out, sizeof out), 3, "%s", out);
	cr_assert(strstr(out, "certificate verify failed"), "%s", out);
	/* and the system's CAs do not know the test's CA either */
	cr_assert_eq(publish(flags + strlen(ca) + 8, url, out, sizeof out), 3, "%s", out);
	cr_assert(strstr(out, "certificate verify failed"), "%s", out);
}

Test(feed, a_password_file_others_may_read_stops_the_start)
{
	char url[256], jrn[PATH_MAX + 64];
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/" STREAM, st_free_port());
	snprintf(jrn, sizeof jrn, "%s/r.jrn", tu_dir);
	cr_assert_eq(chmod(pwfile, 0644), 0);
	const char *extra[] = { "--journal", jrn, "--updates-from", url,
	                        "--updates-password-file", pwfile, NULL };
	st_server *s = st_start_args(st_snap, 1, extra);
	cr_assert(s->reaped && WIFEXITED(s->status) && WEXITSTATUS(s->status) == 1);
	char *log = st_log_text(s);
	char want[2 * PATH_MAX];
	snprintf(want, sizeof want, "--updates-password-file %s: group or others may read "
	         "it (mode 0644)", pwfile);
	cr_assert(strstr(log, want), "%s", log);
	cr_assert(!strstr(log, PASSWORD), "%s", log);
	free(log);
}
