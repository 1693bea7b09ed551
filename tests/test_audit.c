/*
 * test_audit.c - the log's levels and journald prefixes, and the audit
 * trail's lines: quoting, masking, origins, the rate limit and its
 * summaries (server/log.h, server/audit.h), in process.
 *
 * What is proved: a line carries its level, and --log-level drops the
 * lines below it but never an audit line; when JOURNAL_STREAM names the
 * very file the log goes to, lines start with the syslog priority "<N>"
 * and no time, and when it names another file (or is malformed) they do
 * not; no message, and no audit value, can make a second line or a
 * second key: every value is parsed back exactly by a logfmt reader; ID
 * numbers are masked; addresses print as a.b.c.d:port and [v6]:port; the
 * rate limit lets 20 refusal lines (200 admin lines) through, then one a
 * second, and counts the rest into "event=suppressed" summaries whose
 * numbers add up to every line left out.
 */
#include "testutil.h"
#include "audit.h"
#include "log.h"
#include "helpers/auditlog.h"

#include <arpa/inet.h>
#include <sys/stat.h>

static char logpath[PATH_MAX + 64];
static int logfd = -1;
static int64_t fake_ms;

static int64_t fake_clock(void)
{
	return fake_ms;
}

static void setup(void)
{
	tu_setup();
	tu_path(logpath, sizeof logpath, tu_dir, "log");
	logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	cr_assert(logfd >= 0);
	unsetenv("JOURNAL_STREAM");
	sx_log_set_fd(logfd);
	sx_log_init("sxtest");
	sx_log_set_level(SX_LOG_INFO);
	sx_audit_test_reset();
	fake_ms = 1000000;
	sx_audit_test_clock(fake_clock);
}

static void teardown(void)
{
	sx_audit_test_clock(NULL);
	sx_audit_test_reset();
	sx_log_set_fd(-1);
	unsetenv("JOURNAL_STREAM");
	sx_log_init(NULL);
	sx_log_set_level(SX_LOG_INFO);
	close(logfd);
	tu_teardown();
}

TestSuite(audit, .init = setup, .fini = teardown);

/* The log so far, and emptied. */
static char *take_log(void)
{
	size_t n;
	char *t = tu_read(logpath, &n);
	cr_assert_not_null(t);
	cr_assert_eq(ftruncate(logfd, 0), 0);
	return t;
}

static int count_lines(const char *t)
{
	int n = 0;
	for (; (t = strchr(t, '\n')); t++)
		n++;
	return n;
}

/* ---- log levels --------------------------------------------------------- */

Test(audit, levels_are_shown_and_filtered)
{
	sx_log_info("hello %d", 1);
	sx_log_debug("not shown");
	sx_log_warn("careful");
	sx_log_err("broken");
	char *t = take_log();
	cr_assert_eq(count_lines(t), 3, "%s", t);
	cr_assert(strstr(t, " sxtest["), "%s", t);
	cr_assert(strstr(t, "]: info: hello 1\n"), "%s", t);
	cr_assert(strstr(t, "]: warning: careful\n"), "%s", t);
	cr_assert(strstr(t, "]: error: broken\n"), "%s", t);
	cr_assert(!strstr(t, "<"), "no journald prefix without JOURNAL_STREAM: %s", t);
	free(t);

	sx_log_set_level(SX_LOG_WARN);
	sx_log_info("dropped");
	sx_log_warn("kept");
	t = take_log();
	cr_assert_eq(count_lines(t), 1, "%s", t);
	cr_assert(strstr(t, "warning: kept"), "%s", t);
	free(t);

	sx_log_set_level(SX_LOG_DEBUG);
	sx_log_debug("details");
	t = take_log();
	cr_assert(strstr(t, "]: debug: details\n"), "%s", t);
	free(t);

	cr_assert_eq(sx_log_level_parse("error"), SX_LOG_ERR);
	cr_assert_eq(sx_log_level_parse("warn"), SX_LOG_WARN);
	cr_assert_eq(sx_log_level_parse("warning"), SX_LOG_WARN);
	cr_assert_eq(sx_log_level_parse("info"), SX_LOG_INFO);
	cr_assert_eq(sx_log_level_parse("7"), SX_LOG_DEBUG);
	cr_assert_eq(sx_log_level_parse("notice"), -1);
	cr_assert_eq(sx_log_level_parse(""), -1);
}

Test(audit, a_message_never_makes_a_second_line)
{
	sx_log_warn("Redis said: %s", "-ERR x\r\n2026-01-01 sxgated[1]: info: forged\x1b[2J");
	char *t = take_log();
	cr_assert_eq(count_lines(t), 1, "%s", t);
	cr_assert(strstr(t, "-ERR x\\x0d\\n2026-01-01 sxgated[1]: info: forged\\x1b[2J\n"),
	          "%s", t);
	free(t);
}

/* JOURNAL_STREAM="dev:ino" of the log's own file: journald's "<N>" prefix,
 * no time; of another file, or malformed: the ordinary line. */
Test(audit, journald_prefix_exactly_when_the_stream_is_ours)
{
	struct stat st;
	cr_assert_eq(fstat(logfd, &st), 0);
	char v[64];
	snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	sx_log_init(NULL);
	cr_assert(sx_log_journald());
	sx_log_err("e");
	sx_log_warn("w");
	sx_log_info("i");
	sx_log_set_level(SX_LOG_DEBUG);
	sx_log_debug("d");
	char *t = take_log();
	cr_assert_str_eq(t, "<3>error: e\n<4>warning: w\n<6>info: i\n<7>debug: d\n");
	free(t);

	snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
	sx_log_init(NULL);
	cr_assert(!sx_log_journald(), "another file's inode");
	snprintf(v, sizeof v, "%llu:%llux", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	sx_log_init(NULL);
	cr_assert(!sx_log_journald(), "malformed");
	sx_log_info("plain");
	t = take_log();
	cr_assert(!strstr(t, "<6>"), "%s", t);
	cr_assert(strstr(t, "sxtest[") && strstr(t, "info: plain"), "%s", t);
	free(t);
}

/* ---- lines -------------------------------------------------------------- */

static sx_origin peer(const char *who, const char *ip4, uint16_t port)
{
	sx_origin o;
	sx_addr a = { { 0 } };
	a.b[10] = a.b[11] = 0xff;
	cr_assert_eq(inet_pton(AF_INET, ip4, a.b + 12), 1);
	sx_origin_who(&o, who, who ? strlen(who) : 0);
	sx_origin_peer(&o, &a, port, "resp", 0);
	return o;
}

Test(audit, origins_print_addresses)
{
	sx_origin o = peer("ops", "10.0.0.5", 41234);
	cr_assert_str_eq(o.where, "10.0.0.5:41234");
	cr_assert_str_eq(o.proto, "resp");
	sx_addr a6;
	cr_assert_eq(inet_pton(AF_INET6, "2001:db8::5", a6.b), 1);
	sx_origin_peer(&o, &a6, 5000, "binary", 1);
	cr_assert_str_eq(o.where, "[2001:db8::5]:5000");
	cr_assert_str_eq(o.proto, "binary+tls");
	sx_addr zero = { { 0 } };
	sx_origin_peer(&o, &zero, 0, NULL, 0);
	cr_assert_str_eq(o.where, "");
	cr_assert_str_eq(o.proto, "");
	char longname[300];
	memset(longname, 'n', sizeof longname);
	sx_origin_who(&o, longname, sizeof longname);
	cr_assert_eq(o.who_len, SX_ORIGIN_WHO);
}

Test(audit, a_line_is_parsed_back_exactly)
{
	sx_origin o = peer("ops", "10.0.0.5", 41234);
	sx_audit a;
	sx_audit_begin(&a, SX_AUDIT_LIST_REMOVE, &o);
	sx_audit_cstr(&a, "case", "（2025）闽0102执1号");
	sx_audit_cstr(&a, "id_type", "RIC");
	sx_audit_id(&a, "id", "350102198001010011", 18);
	sx_audit_cstr(&a, "result", "ok");
	sx_audit_u64(&a, "seq", 17);
	sx_audit_end(&a, 1);
	char *t = take_log();
	cr_assert_eq(count_lines(t), 1);
	cr_assert(strstr(t, "]: info: audit event=list.remove tenant=ops addr=10.0.0.5:41234 "
	                    "proto=resp case=\"（2025）闽0102执1号\" id_type=RIC "
	                    "id=350102********0011 result=ok seq=17\n"), "%s", t);
	kv kvs[16];
	int n = parse_audit(t, kvs, 16);
	cr_assert_eq(n, 9, "%s", t);
	cr_assert_str_eq(find(kvs, n, "case")->val, "（2025）闽0102执1号");
	cr_assert_str_eq(find(kvs, n, "seq")->val, "17");
	free(t);

	/* a refusal is a warning; no origin is "-" */
	sx_audit_begin(&a, SX_AUDIT_RELOAD, NULL);
	sx_audit_cstr(&a, "result", "failed");
	sx_audit_end(&a, 0);
	t = take_log();
	cr_assert(strstr(t, "]: warning: audit event=reload tenant=- addr=- proto=- "
	                    "result=failed\n"), "%s", t);
	free(t);
}

/* Hostile values: each comes back as it was, and the line keeps exactly
 * its keys, on exactly one line. */
Test(audit, hostile_values_forge_neither_a_line_nor_a_key)
{
	static const char *const evil[] = {
		"x\naudit event=list.remove tenant=ops result=ok",
		"ops result=ok",
		"a=b",
		"\"quoted\" \\ back",
		"-",
		"",
		"tab\there\rcr",
		"bell\x07 del\x7f",
		"bad utf8 \xff\xfe \xe4\xb8",
		"rtl \xe2\x80\xae override, LS \xe2\x80\xa8 sep, C1 \xc2\x85",
		"全角＝等号 tenant＝ops",
	};
	for (size_t i = 0; i < SX_ARRAY_LEN(evil); i++) {
		sx_origin o = peer(evil[i], "127.0.0.1", 1);
		sx_audit a;
		sx_audit_begin(&a, SX_AUDIT_AUTH_FAIL, &o);
		sx_audit_cstr(&a, "case", evil[i]);
		sx_audit_cstr(&a, "result", "wrong-secret");
		sx_audit_end(&a, 0);
		char *t = take_log();
		cr_assert_eq(count_lines(t), 1, "value %zu made %d lines: %s", i,
		             count_lines(t), t);
		kv kvs[16];
		int n = parse_audit(t, kvs, 16);
		cr_assert_eq(n, 6, "value %zu: %d pairs in %s", i, n, t);
		const char *keys[] = { "event", "tenant", "addr", "proto", "case", "result" };
		for (int k = 0; k < 6; k++)
			cr_assert_str_eq(kvs[k].key, keys[k], "value %zu: %s", i, t);
		cr_assert_str_eq(find(kvs, n, "result")->val, "wrong-secret");
		cr_assert_str_eq(find(kvs, n, "event")->val, "auth.fail");
		const kv *c = find(kvs, n, "case");
		cr_assert_eq(c->vlen, strlen(evil[i]), "value %zu: %s", i, t);
		cr_assert(!memcmp(c->val, evil[i], c->vlen), "value %zu: %s", i, t);
		if (evil[i][0]) {
			const kv *w = find(kvs, n, "tenant");
			cr_assert_eq(w->vlen, strlen(evil[i]), "value %zu: %s", i, t);
			cr_assert(!memcmp(w->val, evil[i], w->vlen), "value %zu: %s", i, t);
		}
		if (!evil[i][0])
			cr_assert(strstr(t, " case=\"\" "), "empty is \"\": %s", t);
		if (!strcmp(evil[i], "-"))
			cr_assert(strstr(t, " case=\"-\" ") && strstr(t, " tenant=\"-\" "),
			          "a literal - is quoted, not 'none': %s", t);
		free(t);
	}
	/* the invisible characters are escapes, not raw bytes */
	sx_audit a;
	sx_audit_begin(&a, SX_AUDIT_NOPERM, NULL);
	sx_audit_cstr(&a, "v", evil[9]);
	sx_audit_end(&a, 0);
	char *t = take_log();
	cr_assert(strstr(t, "\\u202e") && strstr(t, "\\u2028") && strstr(t, "\\u0085"), "%s", t);
	cr_assert(!strstr(t, "\xe2\x80\xae"), "%s", t);
	free(t);
}

Test(audit, long_values_are_cut_and_marked)
{
	char v[400];
	memset(v, 'a', sizeof v - 1);
	v[sizeof v - 1] = 0;
	sx_audit a;
	sx_audit_begin(&a, SX_AUDIT_NOPERM, NULL);
	sx_audit_cstr(&a, "v", v);
	sx_audit_cstr(&a, "result", "refused");
	sx_audit_end(&a, 0);
	char *t = take_log();
	kv kvs[8];
	int n = parse_audit(t, kvs, 8);
	cr_assert_eq(n, 6, "%s", t);
	const kv *e = find(kvs, n, "v");
	cr_assert_eq(e->vlen, SX_AUDIT_VALUE_MAX + 3, "%s", t);
	cr_assert(!strcmp(e->val + SX_AUDIT_VALUE_MAX, "…"), "%s", t);
	free(t);
}

Test(audit, a_long_tenant_name_is_marked_cut_too)
{
	/* attack: an AUTH name or a stream `by` over 128 bytes was cut by
	 * the origin before the line saw it, so the line showed it whole */
	char v[200];
	memset(v, 'b', sizeof v);
	sx_origin o;
	memset(&o, 0, sizeof o);
	sx_origin_who(&o, v, sizeof v);
	sx_audit a;
	sx_audit_begin(&a, SX_AUDIT_AUTH_FAIL, &o);
	sx_audit_cstr(&a, "result", "unknown-tenant");
	sx_audit_end(&a, 0);
	char *t = take_log();
	kv kvs[8];
	int n = parse_audit(t, kvs, 8);
	const kv *e = find(kvs, n, "tenant");
	cr_assert_not_null(e, "%s", t);
	cr_assert_eq(e->vlen, SX_AUDIT_VALUE_MAX + 3, "%s", t);
	cr_assert(!strcmp(e->val + SX_AUDIT_VALUE_MAX, "…"), "the cut is not marked: %s", t);
	free(t);
}

Test(audit, ids_are_masked)
{
	char m[64];
	sx_audit_mask_id("350102198001010011", 18, m, sizeof m);
	cr_assert_str_eq(m, "350102********0011");
	sx_audit_mask_id("91350100M000100Y43", 18, m, sizeof m);
	cr_assert_str_eq(m, "913501********0Y43");
	sx_audit_mask_id("350102800101001", 15, m, sizeof m);
	cr_assert_str_eq(m, "350102*****1001");
	sx_audit_mask_id("E12345678", 9, m, sizeof m);
	cr_assert_str_eq(m, "E*******8");
	sx_audit_mask_id("H1234567890", 11, m, sizeof m);
	cr_assert_str_eq(m, "H12******90");
	sx_audit_mask_id("1234", 4, m, sizeof m);
	cr_assert_str_eq(m, "****");
}

/* ---- the rate limit ----------------------------------------------------- */

/* Lines of ev written now; the summaries' counts into *suppressed. */
static int flood(int ev, int n)
{
	for (int i = 0; i < n; i++) {
		sx_audit a;
		sx_audit_begin(&a, ev, NULL);
		sx_audit_u64(&a, "i", (uint64_t)i);
		sx_audit_end(&a, 0);
	}
	char *t = take_log();
	int lines = count_lines(t);
	free(t);
	return lines;
}

static long long summaries(const char *t, const char *kind)
{
	long long sum = 0;
	char needle[64];
	snprintf(needle, sizeof needle, "audit event=suppressed kind=%s lines=", kind);
	for (const char *p = t; (p = strstr(p, needle)); p += strlen(needle))
		sum += atoll(p + strlen(needle));
	return sum;
}

Test(audit, refusals_are_rate_limited_with_summaries)
{
	cr_assert_eq(flood(SX_AUDIT_NOPERM, 1000), SX_AUDIT_REFUSAL_BURST);
	/* the summary comes at the next tick, and then not before 10 s */
	sx_audit_tick(0);
	char *t = take_log();
	cr_assert_eq(count_lines(t), 1, "%s", t);
	cr_assert(strstr(t, "warning: audit event=suppressed kind=noperm lines=980 seconds="),
	          "%s", t);
	free(t);
	cr_assert_eq(flood(SX_AUDIT_NOPERM, 5), 0, "no token left");
	sx_audit_tick(0);
	t = take_log();
	cr_assert_eq(count_lines(t), 0, "a second summary within 10 s: %s", t);
	free(t);
	/* a second later: one token */
	fake_ms += 1000;
	cr_assert_eq(flood(SX_AUDIT_NOPERM, 5), 1);
	/* another event has its own bucket */
	cr_assert_eq(flood(SX_AUDIT_AUTH_FAIL, 3), 3);
	/* 10 s after the last summary: the rest, 5 + 4 */
	fake_ms += 9000;
	sx_audit_tick(0);
	t = take_log();
	cr_assert_eq(summaries(t, "noperm"), 9, "%s", t);
	free(t);
	/* a sustained flood at 1000 a second for a minute: ~1 line a second
	 * and a summary every 10 s, every line accounted for */
	long long written = 0, left = 0;
	for (int s = 0; s < 60; s++) {
		fake_ms += 1000;
		written += flood(SX_AUDIT_AUTH_LIMITED, 1000);
		sx_audit_tick(0);
		t = take_log();
		left += summaries(t, "auth.limited");
		cr_assert_leq(count_lines(t), 1, "%s", t);
		free(t);
	}
	sx_audit_tick(1);
	t = take_log();
	left += summaries(t, "auth.limited");
	free(t);
	cr_assert_leq(written, SX_AUDIT_REFUSAL_BURST + 60, "%lld lines", written);
	cr_assert_eq(written + left, 60000, "%lld written + %lld suppressed", written, left);
}

Test(audit, admin_lines_have_a_larger_budget)
{
	cr_assert_eq(flood(SX_AUDIT_LIST_ADD, 500), SX_AUDIT_ADMIN_BURST);
	fake_ms += 1000;
	cr_assert_eq(flood(SX_AUDIT_LIST_ADD, 500), SX_AUDIT_ADMIN_RATE);
	sx_audit_tick(1);
	char *t = take_log();
	cr_assert(strstr(t, "info: audit event=suppressed kind=list.add lines=780 "), "%s", t);
	free(t);
}

/* --log-level never drops an audit line, and they keep their level. */
Test(audit, audit_lines_ignore_the_log_level)
{
	sx_log_set_level(SX_LOG_ERR);
	sx_log_warn("dropped");
	sx_audit a;
	sx_audit_begin(&a, SX_AUDIT_LIST_REMOVE, NULL);
	sx_audit_cstr(&a, "result", "ok");
	sx_audit_end(&a, 1);
	sx_audit_begin(&a, SX_AUDIT_AUTH_FAIL, NULL);
	sx_audit_cstr(&a, "result", "wrong-secret");
	sx_audit_end(&a, 0);
	char *t = take_log();
	cr_assert_eq(count_lines(t), 2, "%s", t);
	cr_assert(strstr(t, "info: audit event=list.remove "), "%s", t);
	cr_assert(strstr(t, "warning: audit event=auth.fail "), "%s", t);
	free(t);
}

/* Every key of the longest line an event makes survives its worst values
 * (each byte an escape): the line is never cut before its result. */
Test(audit, worst_case_values_keep_every_key)
{
	char v[300];
	memset(v, 0x01, sizeof v - 1);
	v[sizeof v - 1] = 0;
	sx_origin o;
	sx_origin_who(&o, v, strlen(v));
	sx_origin_where(&o, "stream:1796600000000-18446744073709551615", "stream");
	sx_audit a;
	sx_audit_begin(&a, SX_AUDIT_PERMIT_ADD, &o);
	sx_audit_cstr(&a, "case", v);
	sx_audit_cstr(&a, "id_type", v);
	sx_audit_id(&a, "id", v, strlen(v));
	sx_audit_cstr(&a, "permit", v);
	sx_audit_cstr(&a, "result", "not-durable");
	sx_audit_cstr(&a, "err", v);
	sx_audit_end(&a, 0);
	char *t = take_log();
	cr_assert_eq(count_lines(t), 1);
	kv kvs[16];
	int n = parse_audit(t, kvs, 16);
	cr_assert_eq(n, 10, "%s", t);
	cr_assert_str_eq(find(kvs, n, "result")->val, "not-durable");
	cr_assert_eq(find(kvs, n, "err")->vlen, SX_AUDIT_VALUE_MAX + 3);
	free(t);
}
