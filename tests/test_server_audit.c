/*
 * test_server_audit.c - the audit trail of the running server: who did
 * what, from where, when, in the log and in the journal (docs/SERVER.md,
 * "Audit log"; docs/JOURNAL.md, "Format versions").
 *
 * What is proved, over the wire:
 *   - an admin LIST.REMOVE by tenant `ops` is one audit line naming ops,
 *     its client address and port, the case, the ID masked and the
 *     journal's sequence number, and `sxgate journal dump` shows ops and
 *     the same address beside the full command; a CHECK logs nothing;
 *   - a failed AUTH, an AUTH refused by the rate limit and a NOPERM are
 *     each exactly one line (RESP and the binary protocol);
 *   - a hostile AUTH name, case number or stream `by` cannot forge a line
 *     or a key: every audit line reads back with exactly its keys;
 *   - a journal written by an older sxgated (tests/data/journal-v1.sxj)
 *     replays, and entries appended after it carry who and where;
 *   - a stream entry's `by` (sxgate publish --by) and stream:<entry id>
 *     are the who and where of the follower's journal entry and line;
 *   - lines carry journald's "<N>" priority when JOURNAL_STREAM is the
 *     log's own file, and not otherwise; --log-level drops the lines
 *     below it but no audit line;
 *   - a flood of NOPERMs writes at most the burst and a summary, whose
 *     count with the lines written makes every refusal.
 */
#include <sys/stat.h>

#include "audit.h"
#include "helpers/srvtest.h"
#include "helpers/feedtest.h"
#include "helpers/auditlog.h"

#define X_ID   "350304197806263293"
#define X_CASE "（2023）闽05执1001号"
#define X_MASK "350304********3293"

static char tenants_path[PATH_MAX + 64];

static void write_tenants(void)
{
	char h1[256], h2[256], h3[256], text[2048];
	st_hash("ops-secret", h1, sizeof h1);
	st_hash("hotel-secret", h2, sizeof h2);
	st_hash("rail-secret", h3, sizeof h3);
	snprintf(text, sizeof text, "ops:%s:*:admin,listed\nhotelsys:%s:hotel:-\n"
	         "rail12306:%s:rail:-\n", h1, h2, h3);
	snprintf(tenants_path, sizeof tenants_path, "%s/tenants", tu_dir);
	tu_write_private(tenants_path, text);
}

static const char *journal_path(char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/journal", tu_dir);
	return buf;
}

/* The client side's port of c, as the server sees it. */
static int local_port(const st_conn *c)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	cr_assert_eq(getsockname(c->fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

/* Lines of the log holding needle. */
static int count_lines_with(const char *log, const char *needle)
{
	int n = 0;
	for (const char *l = log; *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		char *line = strndup(l, len);
		n += strstr(line, needle) != NULL;
		free(line);
		l += len + (e != NULL);
	}
	return n;
}

/*
 * Every audit line of the log reads back with unique keys, event first,
 * and every line of the log is one of the server's (a prefix it writes).
 * Returns how many audit lines there are; *forged (may be NULL) counts
 * the audit lines whose key key has the value val.
 */
static int check_lines(const char *log, const char *key, const char *val, int *forged)
{
	int audits = 0;
	if (forged)
		*forged = 0;
	for (const char *l = log; *l;) {
		const char *e = strchr(l, '\n');
		cr_assert_not_null(e, "a line without its newline: %s", l);
		char *line = strndup(l, (size_t)(e - l));
		cr_assert(strstr(line, " sxgated[") || line[0] == '<',
		          "a line the server did not write: '%s'", line);
		const char *a = strstr(line, ": audit ");
		if (a) {
			kv kvs[24];
			int n = parse_audit(a + 2, kvs, 24);
			cr_assert_geq(n, 5, "an audit line that does not parse: '%s'", line);
			for (int i = 0; i < n; i++)
				(void)find(kvs, n, kvs[i].key);   /* asserts each key once */
			cr_assert_str_eq(kvs[0].key, "event", "%s", line);
			const kv *t = key ? find(kvs, n, key) : NULL;
			if (forged && t && !strcmp(t->val, val))
				(*forged)++;
			audits++;
		}
		free(line);
		l = e + 1;
	}
	return audits;
}

/* ---- an admin update: the log and the journal ----------------------------- */

ST_TEST(audit, list_remove_by_ops_in_the_log_and_the_journal)
{
	write_tenants();
	char jrn[PATH_MAX + 64];
	st_server *s = st_start(st_snap, "--tenants", tenants_path, "--journal",
	                        journal_path(jrn, sizeof jrn));
	st_conn *c = st_connect(s->resp_port);
	int port = local_port(c);
	cr_assert_str_eq(st_ask(c, "AUTH ops ops-secret"), "+OK");
	cr_assert_str_eq(st_ask(c, "LIST.REMOVE " X_CASE " RIC " X_ID), "+OK 1");

	char want[512];
	snprintf(want, sizeof want, "info: audit event=list.remove tenant=ops "
	         "addr=127.0.0.1:%d proto=resp case=\"" X_CASE "\" id_type=RIC id=" X_MASK
	         " result=ok seq=1\n", port);
	char *log = st_log_text(s);
	cr_assert(strstr(log, want), "no '%s' in the log:\n%s", want, log);
	cr_assert(!strstr(log, X_ID), "the full ID is in the log:\n%s", log);
	free(log);

	/* the request path logs nothing */
	size_t before = strlen(log = st_log_text(s));
	free(log);
	for (int i = 0; i < 200; i++)
		cr_assert(st_ask(c, "CHECK " X_ID " air")[0] == '[');
	cr_assert_eq(strlen(log = st_log_text(s)), before, "CHECK logged:\n%s", log);
	free(log);

	/* the journal: who, where, when, the full command */
	int status;
	char *dump = tu_run(&status, "'%s' journal dump '%s' 2>&1",
	                    tu_bin("sxgate", (char[PATH_MAX]){ 0 }, PATH_MAX), jrn);
	cr_assert_eq(status, 0, "%s", dump);
	snprintf(want, sizeof want, "\tops\t127.0.0.1:%d\tLIST.REMOVE " X_CASE " RIC " X_ID "\n",
	         port);
	cr_assert(strstr(dump, want), "no '%s' in the dump:\n%s", want, dump);
	cr_assert(!strncmp(dump, "1\t20", 4), "seq and time first: %s", dump);
	free(dump);

	/* the other admin commands are lines too, refused ones included */
	cr_assert_str_eq(st_ask(c, "RELOAD"), "+OK 2");
	cr_assert(!strncmp(st_ask(c, "RELOAD a b c"), "-ERR syntax error", 17));
	cr_assert(!strncmp(st_ask(c, "JOURNAL.COMPACT"), "-ERR", 4));
	cr_assert_str_eq(st_ask(c, "LIST.RESUME " X_CASE " RIC " X_ID), "-ERR not found");
	log = st_log_text(s);
	snprintf(want, sizeof want, "info: audit event=reload tenant=ops addr=127.0.0.1:%d "
	         "proto=resp path=", port);
	cr_assert(strstr(log, want) && strstr(log, "result=ok generation=2\n"), "%s", log);
	cr_assert(strstr(log, "warning: audit event=reload tenant=ops") &&
	          strstr(log, "result=refused err=\"syntax error\"\n"), "%s", log);
	cr_assert_eq(count_lines_with(log, "audit event=journal.compact tenant=ops "), 1, "%s",
	             log);
	cr_assert_eq(count_lines_with(log, "audit event=list.resume tenant=ops "), 1, "%s", log);
	cr_assert(strstr(log, "result=not-found\n"), "%s", log);
	cr_assert_eq(check_lines(log, NULL, NULL, NULL), 5, "%s", log);
	free(log);
	st_close(c);

	/* SIGHUP: proto=sighup, no tenant */
	kill(s->pid, SIGHUP);
	cr_assert(st_log_wait(s, "audit event=reload tenant=- addr=- proto=sighup path=", 3000));
}

/* ---- refusals: one line each ------------------------------------------------ */

static st_out out;

static st_frame bin_auth(st_conn *c, uint32_t req, const char *tenant, const char *secret)
{
	out.n = 0;
	size_t h = st_frame_begin(&out, SXB_OP_AUTH, 0, req);
	st_putstr8(&out, tenant);
	st_putstr8(&out, secret);
	st_frame_end(&out, h);
	st_send(c, out.b, out.n);
	st_frame f;
	cr_assert_eq(st_frame_read(c, &f), 0);
	return f;
}

ST_TEST(audit, auth_failure_rate_limit_and_noperm_are_one_line_each)
{
	write_tenants();
	st_server *s = st_start(st_snap, "--tenants", tenants_path);
	st_conn *c = st_connect(s->resp_port);
	int port = local_port(c);
	char want[256];

	cr_assert_str_eq(st_ask(c, "AUTH hotelsys Sekr1tGuess"),
	                 "-WRONGPASS invalid username-password pair or user is disabled.");
	cr_assert_str_eq(st_ask(c, "AUTH nobody x"),
	                 "-WRONGPASS invalid username-password pair or user is disabled.");
	char *log = st_log_text(s);
	snprintf(want, sizeof want, "warning: audit event=auth.fail tenant=hotelsys "
	         "addr=127.0.0.1:%d proto=resp result=wrong-secret", port);
	cr_assert_eq(count_lines_with(log, want), 1, "%s", log);
	cr_assert_eq(count_lines_with(log, "audit event=auth.fail tenant=nobody "), 1, "%s", log);
	cr_assert(strstr(log, "result=unknown-tenant\n"), "%s", log);
	cr_assert(!strstr(log, "Sekr1tGuess"), "a secret in the log? %s", log);
	free(log);

	/* guess rail12306's secret until the rate limit answers: each failure
	 * and each refusal one line */
	int fails = 0, limited = 0;
	for (int i = 0; i < 12; i++) {
		const char *r = st_ask(c, "AUTH rail12306 guess");
		if (strstr(r, "too many failed AUTH attempts"))
			limited++;
		else
			fails++;
	}
	cr_assert_geq(limited, 1, "the rate limit never answered");
	log = st_log_text(s);
	cr_assert_eq(count_lines_with(log, "audit event=auth.fail tenant=rail12306 "), fails,
	             "%d failures:\n%s", fails, log);
	cr_assert_eq(count_lines_with(log, "audit event=auth.limited tenant=rail12306 "), limited,
	             "%d refusals:\n%s", limited, log);
	cr_assert(strstr(log, "proto=resp result=rate-limited\n"), "%s", log);
	free(log);
	st_close(c);

	/* NOPERM: channel, admin, listed */
	c = st_connect(s->resp_port);
	port = local_port(c);
	cr_assert_str_eq(st_ask(c, "AUTH hotelsys hotel-secret"), "+OK");
	cr_assert(!strncmp(st_ask(c, "CHECK " X_ID " air"), "-NOPERM", 7));
	cr_assert(!strncmp(st_ask(c, "MCHECK air - " X_ID), "-NOPERM", 7));
	cr_assert(!strncmp(st_ask(c, "LIST.REMOVE " X_CASE " RIC " X_ID), "-NOPERM", 7));
	cr_assert(!strncmp(st_ask(c, "LISTED " X_ID), "-NOPERM", 7));
	log = st_log_text(s);
	snprintf(want, sizeof want, "warning: audit event=noperm tenant=hotelsys "
	         "addr=127.0.0.1:%d proto=resp cmd=CHECK channel=air need=channel "
	         "result=refused", port);
	cr_assert_eq(count_lines_with(log, want), 1, "%s", log);
	cr_assert_eq(count_lines_with(log, "cmd=MCHECK channel=air need=channel"), 1, "%s", log);
	cr_assert_eq(count_lines_with(log, "cmd=LIST.REMOVE need=admin result=refused"), 1,
	             "%s", log);
	cr_assert(!strstr(log, X_ID), "a refused command's arguments are not logged: %s", log);
	cr_assert_eq(count_lines_with(log, "cmd=LISTED need=listed result=refused"), 1, "%s", log);
	cr_assert_eq(count_lines_with(log, "audit event=noperm "), 4, "%s", log);
	free(log);
	st_close(c);

	/* the binary protocol: its AUTH and its CHECK frames */
	c = st_connect(s->bin_port);
	port = local_port(c);
	st_bin_hello(c, 1);
	st_frame f = bin_auth(c, 1, "ops", "wrong");
	cr_assert_eq(f.op, SXB_OP_ERROR);
	f = bin_auth(c, 2, "hotelsys", "hotel-secret");
	cr_assert_eq(f.op, SXB_OP_AUTH_REPLY);
	out.n = 0;
	const char *ids[] = { X_ID };
	st_bin_query(&out, SXB_OP_CHECK, 3, "air", "", "", "", ids, 1);
	st_send(c, out.b, out.n);
	cr_assert_eq(st_frame_read(c, &f), 0);
	cr_assert(strstr(st_bin_error_text(&f), "NOPERM"));
	log = st_log_text(s);
	snprintf(want, sizeof want, "audit event=auth.fail tenant=ops addr=127.0.0.1:%d "
	         "proto=binary result=wrong-secret", port);
	cr_assert_eq(count_lines_with(log, want), 1, "%s", log);
	snprintf(want, sizeof want, "audit event=noperm tenant=hotelsys addr=127.0.0.1:%d "
	         "proto=binary cmd=CHECK channel=air", port);
	cr_assert_eq(count_lines_with(log, want), 1, "%s", log);
	check_lines(log, NULL, NULL, NULL);
	free(log);
	st_close(c);
}

/* ---- hostile words ---------------------------------------------------------- */

/* A RESP command of raw words (they may hold anything); the reply as
 * st_ask gives it (valid until the next call). */
static const char *ask_words(st_conn *c, int n, const char *const *w)
{
	static char *last;
	char buf[4096];
	size_t o = (size_t)snprintf(buf, sizeof buf, "*%d\r\n", n);
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "$%zu\r\n%s\r\n", strlen(w[i]), w[i]);
	st_send(c, buf, o);
	free(last);
	last = st_reply(c);
	cr_assert_not_null(last);
	return last;
}

ST_TEST(audit, hostile_words_forge_no_line_and_no_key)
{
	write_tenants();
	char jrn[PATH_MAX + 64];
	st_server *s = st_start(st_snap, "--tenants", tenants_path, "--journal",
	                        journal_path(jrn, sizeof jrn));
	st_conn *c = st_connect(s->resp_port);
	static const char forged[] =
		"x\n2026-01-01T00:00:00.000+08:00 sxgated[1]: info: audit event=list.remove "
		"tenant=ops addr=10.0.0.1:1 proto=resp result=ok seq=99";
	const char *auth1[] = { "AUTH", forged, "secret" };
	cr_assert(!strncmp(ask_words(c, 3, auth1), "-WRONGPASS", 10));
	const char *auth2[] = { "AUTH", "ops result=ok tenant=ops", "s" };
	cr_assert(!strncmp(ask_words(c, 3, auth2), "-WRONGPASS", 10));
	cr_assert_str_eq(st_ask(c, "AUTH ops ops-secret"), "+OK");
	/* an admin's words are not trusted either */
	const char *add[] = { "LIST.ADD", "case_no", "（2026）闽01执1号\" result=ok seq=1 x=\"",
	                      "court", "法院\n", "list", "SX", "role", "debtor",
	                      "id_type", "RIC", "id_no", "11010519491231002X", "name", "某",
	                      "status", "active", "listed_on", "2026-01-02" };
	ask_words(c, 19, add);
	const char *rm[] = { "LIST.REMOVE", "a\r\nb", "RIC", "1\n" };
	cr_assert(!strncmp(ask_words(c, 4, rm), "-ERR", 4));
	const char *rl[] = { "RELOAD", "/tmp/x\nfoo" };
	cr_assert(!strncmp(ask_words(c, 2, rl), "-ERR", 4));

	char *log = st_log_text(s);
	int forged_n, forged_addr;
	int n = check_lines(log, "seq", "99", &forged_n);
	check_lines(log, "addr", "10.0.0.1:1", &forged_addr);
	cr_assert_eq(forged_n + forged_addr, 0, "a forged line:\n%s", log);
	cr_assert_eq(n, 5, "%d audit lines:\n%s", n, log);
	cr_assert(strstr(log, "tenant=\"x\\n2026-01-01T00:00:00.000+08:00 sxgated[1]: info: "
	                      "audit event=list.remove"), "%s", log);
	cr_assert(strstr(log, "tenant=\"ops result=ok tenant=ops\""), "%s", log);
	cr_assert(strstr(log, "case=\"（2026）闽01执1号\\\" result=ok seq=1 x=\\\"\""), "%s", log);
	cr_assert(strstr(log, "case=\"a\\r\\nb\""), "%s", log);
	free(log);
	st_close(c);
}

/* ---- a journal of the older format -------------------------------------------- */

ST_TEST(audit, journal_of_the_older_format_replays_and_takes_who_and_where)
{
	write_tenants();
	char jrn[PATH_MAX + 64], fx[PATH_MAX + 64];
	const char *root = tu_repo_root();
	cr_assert_not_null(root);
	snprintf(fx, sizeof fx, "%s/tests/data/journal-v1.sxj", root);
	size_t n;
	char *data = tu_read(fx, &n);
	cr_assert_not_null(data, "the fixture %s is missing", fx);
	tu_write_private(journal_path(jrn, sizeof jrn), "");
	tu_write(jrn, data, n);
	free(data);

	st_server *s = st_start(st_snap, "--tenants", tenants_path, "--journal", jrn);
	cr_assert(st_log_wait(s, "8 updates in force", 0), "%s", st_log_text(s));
	st_conn *c = st_connect(s->resp_port);
	int port = local_port(c);
	cr_assert_str_eq(st_ask(c, "AUTH ops ops-secret"), "+OK");
	/* the fixture's net effect (tests/data/README) */
	cr_assert_str_eq(st_ask(c, "CHECK 310104199609222493 air " ST_AT), "[ALLOW, SUSPENDED]");
	cr_assert_str_eq(st_ask(c, "CHECK 11010519491231002X air " ST_AT),
	                 "[DENY, LISTED, （2026）闽0102执78号|福州市鼓楼区人民法院|debtor|XG]");
	cr_assert_str_eq(st_ask(c, "CHECK " X_ID " air " ST_AT), "[DENY, LISTED, " ST_DENY_REC "]");
	/* an update after the old entries: the sequence goes on, with who */
	cr_assert_str_eq(st_ask(c, "LIST.RESUME （2020）闽0302执1003号 RIC 310104199609222493"),
	                 "+OK 10");
	st_close(c);
	cr_assert_eq(st_stop(s, SIGTERM), 0);

	int status;
	char *dump = tu_run(&status, "'%s' journal dump '%s' 2>&1",
	                    tu_bin("sxgate", (char[PATH_MAX]){ 0 }, PATH_MAX), jrn);
	cr_assert_eq(status, 0, "%s", dump);
	cr_assert(strstr(dump, "2\t2026-12-06T19:15:45.597+08:00\t1796555745597-0\t-\t-\t"
	                       "LIST.SUSPEND " X_CASE " RIC " X_ID "\n"), "%s", dump);
	char want[256];
	snprintf(want, sizeof want, "\t-\tops\t127.0.0.1:%d\tLIST.RESUME （2020）闽0302执1003号 "
	         "RIC 310104199609222493\n", port);
	cr_assert(strstr(dump, want), "no '%s' in\n%s", want, dump);
	free(dump);

	/* and the mixed journal replays again */
	s = st_start(st_snap, "--tenants", tenants_path, "--journal", jrn);
	cr_assert(st_log_wait(s, "9 updates in force", 0), "%s", st_log_text(s));
	c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "AUTH ops ops-secret"), "+OK");
	cr_assert_str_eq(st_ask(c, "CHECK 310104199609222493 air " ST_AT),
	                 "[DENY, LISTED, （2020）闽0302执1003号|莆田市城厢区人民法院|debtor|XG]");
	st_close(c);
}

/* ---- the stream's by ---------------------------------------------------------- */

Test(audit, stream_by_is_who_and_the_entry_is_where, .init = st_setup_epoll,
     .fini = st_teardown, .timeout = 120)
{
	if (!ft_have_redis())
		cr_skip_test("redis-server is not installed: the follower is not tested here");
	int rport = st_free_port();
	char p[16], url[128], jrn[PATH_MAX + 64], exe[PATH_MAX];
	snprintf(p, sizeof p, "%d", rport);
	ft_redis_start(rport, "--port", p);
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/sxgate:updates", rport);
	st_server *s = st_start(st_snap, "--journal", journal_path(jrn, sizeof jrn),
	                        "--updates-from", url);
	tu_bin("sxgate", exe, sizeof exe);
	int status;
	char *id1 = tu_run(&status, "'%s' publish --by \"$(printf 'court-sync\\nby=ops')\" '%s' "
	                   "LIST.SUSPEND '" X_CASE "' RIC " X_ID, exe, url);
	cr_assert_eq(status, 0, "%s", id1);
	id1[strcspn(id1, "\n")] = 0;
	char *id2 = tu_run(&status, "'%s' publish '%s' LIST.RESUME '" X_CASE "' RIC " X_ID,
	                   exe, url);
	cr_assert_eq(status, 0, "%s", id2);
	id2[strcspn(id2, "\n")] = 0;

	char want[512];
	snprintf(want, sizeof want, "info: audit event=list.suspend tenant=\"court-sync\\nby=ops\" "
	         "addr=stream:%s proto=stream case=\"" X_CASE "\" id_type=RIC id=" X_MASK
	         " result=ok seq=1\n", id1);
	cr_assert(st_log_wait(s, want, 5000), "no '%s' in\n%s", want, st_log_text(s));
	snprintf(want, sizeof want, "info: audit event=list.resume tenant=default "
	         "addr=stream:%s proto=stream ", id2);
	cr_assert(st_log_wait(s, want, 5000), "no '%s' in\n%s", want, st_log_text(s));
	char *log = st_log_text(s);
	check_lines(log, NULL, NULL, NULL);
	free(log);
	cr_assert_eq(st_stop(s, SIGTERM), 0);

	char *dump = tu_run(&status, "'%s' journal dump '%s' 2>&1", exe, jrn);
	cr_assert_eq(status, 0, "%s", dump);
	snprintf(want, sizeof want, "\t%s\t\"court-sync\\nby=ops\"\tstream:%s\tLIST.SUSPEND "
	         X_CASE " RIC " X_ID "\n", id1, id1);
	cr_assert(strstr(dump, want), "no '%s' in\n%s", want, dump);
	snprintf(want, sizeof want, "\t%s\tdefault\tstream:%s\tLIST.RESUME ", id2, id2);
	cr_assert(strstr(dump, want), "no '%s' in\n%s", want, dump);
	free(dump);
	free(id1);
	free(id2);
	ft_redis_stop_all();
}

/* ---- journald and --log-level --------------------------------------------------- */

ST_TEST(audit, journald_prefix_only_when_the_stream_is_stderr)
{
	write_tenants();
	/* the log file st_start will give the next server, made now to know
	 * its inode (the server opens it with O_TRUNC: the same file) */
	char log1[PATH_MAX + 64], v[64];
	snprintf(log1, sizeof log1, "%s/sxgated-%d.log", tu_dir, 1);
	tu_write(log1, "", 0);
	struct stat st;
	cr_assert_eq(stat(log1, &st), 0);
	snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	st_server *s = st_start(st_snap, "--tenants", tenants_path);
	st_conn *c = st_connect(s->resp_port);
	cr_assert(!strncmp(st_ask(c, "AUTH hotelsys wrong"), "-WRONGPASS", 10));
	st_close(c);
	char *log = st_log_text(s);
	cr_assert(!strncmp(log, "<6>info: sxgated ", 17), "%s", log);
	cr_assert(strstr(log, "\n<6>info: ready to accept connections\n"), "%s", log);
	cr_assert(strstr(log, "\n<4>warning: audit event=auth.fail tenant=hotelsys "), "%s", log);
	cr_assert(!strstr(log, "sxgated["), "no time or name under journald: %s", log);
	for (const char *l = log; *l; l = strchr(l, '\n') + 1)
		cr_assert(l[0] == '<' && strchr("3467", l[1]) && l[2] == '>', "%s", l);
	free(log);

	/* the variable inherited, but stderr is another file: no prefix */
	snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	s = st_start(st_snap, "--tenants", tenants_path);
	unsetenv("JOURNAL_STREAM");
	log = st_log_text(s);
	cr_assert(!strchr(log, '<'), "%s", log);
	cr_assert(strstr(log, " sxgated[") && strstr(log, "]: info: ready to accept"), "%s", log);
	free(log);
}

ST_TEST(audit, log_level_drops_lines_but_no_audit_line)
{
	write_tenants();
	char jrn[PATH_MAX + 64];
	st_ready_line = NULL;               /* "ready" is an info line */
	st_server *s = st_start(st_snap, "--tenants", tenants_path, "--journal",
	                        journal_path(jrn, sizeof jrn), "--log-level", "error");
	st_conn *c = st_connect(s->resp_port);
	cr_assert(!strncmp(st_ask(c, "AUTH hotelsys wrong"), "-WRONGPASS", 10));
	cr_assert_str_eq(st_ask(c, "AUTH ops ops-secret"), "+OK");
	cr_assert_str_eq(st_ask(c, "LIST.REMOVE " X_CASE " RIC " X_ID), "+OK 1");
	st_close(c);
	cr_assert_eq(st_stop(s, SIGTERM), 0);
	char *log = st_log_text(s);
	cr_assert_eq(check_lines(log, NULL, NULL, NULL), 2, "%s", log);
	cr_assert_eq(count_lines_with(log, ": info: "),
	             count_lines_with(log, ": info: audit event="), "%s", log);
	cr_assert_eq(count_lines_with(log, ": warning: "),
	             count_lines_with(log, ": warning: audit event="), "%s", log);
	cr_assert(strstr(log, "info: audit event=list.remove tenant=ops "), "%s", log);
	cr_assert(strstr(log, "warning: audit event=auth.fail tenant=hotelsys "), "%s", log);
	cr_assert(!strstr(log, "ready to accept"), "%s", log);
	free(log);

	/* warning: the warnings, not the infos; debug: everything */
	s = st_start(st_snap, "--log-level", "warning");
	st_stop(s, SIGTERM);
	log = st_log_text(s);
	cr_assert(strstr(log, ": warning: no --tenants: AUTH is off"), "%s", log);
	cr_assert(!strstr(log, ": info: "), "%s", log);
	free(log);
	st_ready_line = "ready to accept connections";
	s = st_start(st_snap, "--log-level", "debug");
	log = st_log_text(s);
	cr_assert(strstr(log, ": info: ready to accept connections"), "%s", log);
	free(log);
	st_server *bad = st_start_args(st_snap, 1, (const char *[]){ "--log-level", "loud", NULL });
	cr_assert(bad->reaped && WIFEXITED(bad->status) && WEXITSTATUS(bad->status) == 1);
	log = st_log_text(bad);
	cr_assert(strstr(log, "--log-level: 'loud' is not error, warning, info or debug"), "%s",
	          log);
	free(log);
}

/* ---- a flood ----------------------------------------------------------------------- */

Test(audit, a_flood_of_noperm_is_bounded_and_counted, .init = st_setup_epoll,
     .fini = st_teardown, .timeout = 120)
{
	write_tenants();
	st_server *s = st_start(st_snap, "--tenants", tenants_path);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "AUTH hotelsys hotel-secret"), "+OK");
	enum { N = 2000 };
	static char req[N * 64];
	size_t o = 0;
	for (int i = 0; i < N; i++)
		o += (size_t)snprintf(req + o, sizeof req - o,
		                      "*3\r\n$5\r\nCHECK\r\n$18\r\n" X_ID "\r\n$3\r\nair\r\n");
	st_send(c, req, o);
	for (int i = 0; i < N; i++) {
		char *r = st_reply(c);
		cr_assert(r && !strncmp(r, "-NOPERM", 7), "reply %d", i);
		free(r);
	}
	cr_assert(st_log_wait(s, "audit event=suppressed kind=noperm lines=", 2000),
	          "no summary:\n%s", st_log_text(s));
	st_close(c);
	cr_assert_eq(st_stop(s, SIGTERM), 0);
	char *log = st_log_text(s);
	int lines = count_lines_with(log, "audit event=noperm ");
	cr_assert_leq(lines, SX_AUDIT_REFUSAL_BURST + 2, "%d lines", lines);
	long long left = 0;
	const char *k = "audit event=suppressed kind=noperm lines=";
	for (const char *p = log; (p = strstr(p, k)); p += strlen(k))
		left += atoll(p + strlen(k));
	cr_assert_eq(lines + left, N, "%d lines + %lld suppressed:\n%s", lines, left, log);
	free(log);
}
