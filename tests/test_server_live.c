/*
 * test_server_live.c - live updates over the wire (SPEC sections 7, 8, 10):
 * acknowledged updates visible at once everywhere and numbered in order,
 * durability across kill -9 at random moments, a corrupt journal refused
 * and a torn tail cut, the rebuild (--as-of) rule and JOURNAL.COMPACT,
 * the feedback log to the courts, and a replica following a Redis stream.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "helpers/feedtest.h"

#define HDR "case_no,court,list,role,id_type,id_no,name,status,listed_on,expires_on,restrictions,region\n"
#define X_ID   "350304197806263293"
#define X_CASE "（2023）闽05执1001号"
#define X_COURT "泉州市中级人民法院"
#define Y_ID   "110101199405036676"
#define Y_CASE "（2024）闽0102执2002号"
#define Y_COURT "福州市鼓楼区人民法院"
#define SUSP_ID "350602196503281979"      /* sample: suspended record */
#define SUSP_CASE "（2019）闽0203执1004号"
#define SUSP_COURT "厦门市思明区人民法院"
#define XG_ID "310104199609222493"        /* sample: XG, AIR;RAIL;HOTEL */
#define XG_CASE "（2020）闽0302执1003号"
#define XG_COURT "莆田市城厢区人民法院"
#define PERMIT_ID "350203197604181976"    /* sample: permit for AIR 2026-01-05..20 */
#define PERMIT_CASE "(2021)闽0102执1010号"
#define PERMIT_COURT "福州市鼓楼区人民法院"
#define NEW_COURT "福州市中级人民法院"

#define ALLOW_NL  "[ALLOW, NOT_LISTED]"
#define ALLOW_SUS "[ALLOW, SUSPENDED]"
#define ALLOW_EX  "[ALLOW, EXEMPT]"

/* ---- helpers ---------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *check(st_conn *c, const char *id)
{
	return st_askf(c, "CHECK %s air " ST_AT, id);
}

static char *deny(const char *rec)
{
	static char buf[4][512];
	static int i;
	char *b = buf[i++ % 4];
	snprintf(b, sizeof buf[0], "[DENY, LISTED, %s]", rec);
	return b;
}

/* "+OK <seq>": the sequence, failing on anything else. */
static unsigned long long ok_seq(const char *reply, const char *what)
{
	cr_assert(!strncmp(reply, "+OK ", 4), "%s: %s", what, reply);
	char *end;
	unsigned long long v = strtoull(reply + 4, &end, 10);
	cr_assert(end != reply + 4 && *end == 0, "%s: %s", what, reply);
	return v;
}

/* Poll CHECK on c until the reply is want (up to timeout_ms); the time it
 * took, or -1. */
static long wait_check(st_conn *c, const char *id, const char *want, int timeout_ms)
{
	int64_t t0 = now_ms();
	do {
		if (!strcmp(check(c, id), want))
			return (long)(now_ms() - t0);
		st_sleep_ms(5);
	} while (now_ms() - t0 <= timeout_ms);
	return -1;
}

static char *list_add_cmd(char *buf, size_t cap, const char *cas, const char *id)
{
	snprintf(buf, cap, "LIST.ADD case_no %s court " NEW_COURT " list SX role debtor "
	         "id_type RIC id_no %s name 某 status active listed_on 2025-01-01", cas, id);
	return buf;
}

static const char *list_add(st_conn *c, const char *cas, const char *id)
{
	char cmd[1024];
	return st_ask(c, list_add_cmd(cmd, sizeof cmd, cas, id));
}

/* A CHECK on the binary port, rendered as st_bin_check_text does. */
static char *bin_check_chan(st_conn *c, const char *id, const char *chan,
                            const char *cls, uint32_t req)
{
	static st_out o;
	o.n = 0;
	const char *ids[] = { id };
	st_bin_query(&o, SXB_OP_CHECK, req, chan, cls ? cls : "", "", "2026-01-10",
	             ids, 1);
	st_send(c, o.b, o.n);
	st_frame f;
	cr_assert_eq(st_frame_read(c, &f), 0, "no binary CHECK reply");
	cr_assert_eq(f.op, SXB_OP_CHECK_REPLY);
	cr_assert_eq(f.req, req);
	return st_bin_check_text(&f);
}

static char *bin_check(st_conn *c, const char *id, uint32_t req)
{
	return bin_check_chan(c, id, "air", NULL, req);
}

/* EXEC on the binary port; the RESP reply in its body, rendered. */
static char *bin_exec(st_conn *c, uint32_t req, const char *const *w, unsigned n)
{
	static st_out o;
	o.n = 0;
	size_t h = st_frame_begin(&o, SXB_OP_EXEC, n, req);
	for (unsigned i = 0; i < n; i++) {
		size_t l = strlen(w[i]);
		st_put16(&o, (unsigned)l);
		memcpy(o.b + o.n, w[i], l);
		o.n += l;
	}
	st_frame_end(&o, h);
	st_send(c, o.b, o.n);
	st_frame f;
	cr_assert_eq(st_frame_read(c, &f), 0, "no EXEC reply");
	cr_assert_eq(f.req, req);
	cr_assert_eq(f.op, SXB_OP_EXEC_REPLY, "EXEC answered with op 0x%02x", f.op);
	char *r = st_reply_from(f.body, f.len);
	cr_assert_not_null(r, "EXEC reply body is not one RESP reply");
	return r;
}

static const char *sxgate_bin(void)
{
	static char buf[PATH_MAX + 64];
	return tu_bin("sxgate", buf, sizeof buf);
}

static int count_substr(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Every server started so far has exited: reuse the slots (the crash test
 * starts more servers than ST_MAX_SERVERS over its rounds).  Their logs
 * go, or the next start would find the old "ready" line before the new
 * server truncates the file. */
static void reuse_slots(void)
{
	for (int i = 0; i < st_nservers; i++)
		if (!st_servers[i].reaped)
			return;
	for (int i = 0; i < st_nservers; i++)
		unlink(st_servers[i].log);
	st_nservers = 0;
}

static long long info_num(st_conn *c, const char *section, const char *key)
{
	char v[256];
	const char *info = st_askf(c, "INFO %s", section);
	cr_assert_not_null(st_info_get(info, key, v, sizeof v), "INFO %s has no %s:\n%s",
	                   section, key, info);
	return strtoll(v, NULL, 10);
}

/* ---- 1. acknowledged updates: order, visibility, errors ------------------- */

ST_TEST(live, acknowledged_updates_are_numbered_and_visible_on_every_connection)
{
	char jrn[PATH_MAX + 64];
	snprintf(jrn, sizeof jrn, "%s/live.jrn", tu_dir);
	st_server *s = st_start(st_snap, "--journal", jrn);
	st_conn *c1 = st_connect(s->resp_port), *c2 = st_connect(s->resp_port);
	st_conn *b = st_connect(s->bin_port);
	st_bin_hello(b, 0);
	char w[19];
	tu_ric(4242, w);

	cr_assert_str_eq(check(c2, X_ID), deny(ST_DENY_REC));
	cr_assert_str_eq(check(c2, SUSP_ID), ALLOW_SUS);
	cr_assert_str_eq(check(c2, w), ALLOW_NL);
	unsigned long long last = 0, seq;

	/* LIST.REMOVE */
	seq = ok_seq(st_askf(c1, "LIST.REMOVE " X_CASE " RIC " X_ID), "LIST.REMOVE");
	cr_assert_eq(seq, 1, "the first update of an empty journal is sequence 1");
	last = seq;
	cr_assert_str_eq(check(c1, X_ID), ALLOW_NL, "same connection right after +OK");
	cr_assert(wait_check(c2, X_ID, ALLOW_NL, 1000) >= 0, "other connection within 1 s");
	char *t = bin_check(b, X_ID, 1);
	cr_assert_str_eq(t, "[ALLOW, NOT_LISTED]", "binary port after the REMOVE");
	free(t);
	cr_assert_str_eq(st_askf(c1, "LIST.REMOVE " X_CASE " RIC " X_ID), "-ERR not found");
	cr_assert_str_eq(st_askf(c2, "LIST.SUSPEND （1999）闽01执1号 RIC " X_ID), "-ERR not found");

	/* LIST.SUSPEND of an active record: ALLOW SUSPENDED */
	cr_assert_str_eq(check(c1, XG_ID), deny(XG_CASE "|" XG_COURT "|debtor|XG"));
	seq = ok_seq(st_askf(c2, "LIST.SUSPEND " XG_CASE " RIC " XG_ID), "LIST.SUSPEND");
	cr_assert_gt(seq, last);
	last = seq;
	cr_assert_str_eq(check(c2, XG_ID), ALLOW_SUS);
	cr_assert(wait_check(c1, XG_ID, ALLOW_SUS, 1000) >= 0);

	/* LIST.ADD of a new ID: DENY naming the added record */
	seq = ok_seq(list_add(c1, "（2026）闽01执4242号", w), "LIST.ADD");
	cr_assert_gt(seq, last);
	last = seq;
	const char *wrec = "（2026）闽01执4242号|" NEW_COURT "|debtor|SX";
	cr_assert_str_eq(check(c1, w), deny(wrec));
	cr_assert(wait_check(c2, w, deny(wrec), 1000) >= 0);
	t = bin_check(b, w, 2);
	char want[512];
	snprintf(want, sizeof want, "[DENY, LISTED, %s]", wrec);
	cr_assert_str_eq(t, want);
	free(t);

	/* PERMIT.ADD for that case: EXEMPT on a day it covers, DENY outside */
	seq = ok_seq(st_askf(c2, "PERMIT.ADD RIC %s （2026）闽01执4242号 AIR 2026-01-01 2026-01-31 "
	                  "准许-T-1", w), "PERMIT.ADD");
	cr_assert_gt(seq, last);
	last = seq;
	cr_assert_str_eq(check(c2, w), ALLOW_EX);
	cr_assert(wait_check(c1, w, ALLOW_EX, 1000) >= 0);
	cr_assert_str_eq(st_askf(c1, "CHECK %s air AT 2026-02-01", w), deny(wrec));

	/* EXEC on the binary port takes the same admin update */
	const char *ex[] = { "LIST.RESUME", XG_CASE, "RIC", XG_ID };
	char *r = bin_exec(b, 3, ex, 4);
	seq = ok_seq(r, "EXEC LIST.RESUME");
	free(r);
	cr_assert_gt(seq, last);
	last = seq;
	cr_assert_str_eq(check(c1, XG_ID), deny(XG_CASE "|" XG_COURT "|debtor|XG"));

	/* refused updates take no sequence number */
	cr_assert_eq(info_num(c1, "live", "journal_last_seq"), (long long)last);
	cr_assert_eq(info_num(c1, "live", "updates_acknowledged"), 5);
	cr_assert_eq(info_num(c1, "live", "updates_refused"), 2);
	st_close(c1);
	st_close(c2);
	st_close(b);
}

ST_TEST(live, a_bad_update_gets_the_loaders_words_and_changes_nothing)
{
	char jrn[PATH_MAX + 64];
	snprintf(jrn, sizeof jrn, "%s/live.jrn", tu_dir);
	st_server *s = st_start(st_snap, "--journal", jrn);
	st_conn *c = st_connect(s->resp_port);
	char y[19];
	tu_ric(31337, y);
	const char *r = list_add(c, "（2026）闽01执1号", "12345");
	cr_assert(!strncmp(r, "-ERR malformed id_no", 20), "%s", r);
	r = st_askf(c, "LIST.ADD case_no （2026）闽01执1号 court X list SX role debtor id_type RIC "
	         "id_no %s name 某 status active listed_on 2025-13-40", y);
	cr_assert(!strncmp(r, "-ERR ", 5) && strstr(r, "listed_on"), "%s", r);
	r = st_askf(c, "LIST.ADD case_no （2026）闽01执1号 bogus 1");
	cr_assert(!strncmp(r, "-ERR ", 5), "%s", r);
	cr_assert_str_eq(check(c, y), ALLOW_NL);
	cr_assert_eq(info_num(c, "live", "journal_last_seq"), 0);
	/* the next good update is still sequence 1 */
	cr_assert_eq(ok_seq(list_add(c, "（2026）闽01执1号", y), "LIST.ADD"), 1);
	cr_assert_str_eq(check(c, y), deny("（2026）闽01执1号|" NEW_COURT "|debtor|SX"));
	st_close(c);

	/* without --journal an update is refused, never acknowledged */
	s = st_start(st_snap);
	c = st_connect(s->resp_port);
	r = st_askf(c, "LIST.REMOVE " X_CASE " RIC " X_ID);
	cr_assert(!strncmp(r, "-ERR ", 5) && strstr(r, "--journal"), "%s", r);
	cr_assert_str_eq(check(c, X_ID), deny(ST_DENY_REC));
	st_close(c);
}

/* ---- 2. kill -9 at random moments ----------------------------------------- */

enum { CR_MAX = 200000 };
static uint8_t cr_state[CR_MAX];          /* 0 never sent, 1 sent, 2 acknowledged */
static unsigned long long cr_seq[CR_MAX];

typedef struct crash_client {
	int port;
	atomic_int connected;     /* the kill waits for it */
	uint64_t next;            /* next ID counter */
	char error[512];          /* an unexpected reply */
} crash_client;

/* LIST.ADD one new ID per update until the connection dies.  No Criterion
 * assertions here (not the test's thread). */
static void *crash_run(void *arg)
{
	crash_client *k = arg;
	st_conn *c = calloc(1, sizeof *c);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)k->port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (connect(c->fd, (struct sockaddr *)&a, sizeof a)) {
		snprintf(k->error, sizeof k->error, "connect: %s", strerror(errno));
		close(c->fd);
		free(c);
		return NULL;
	}
	atomic_store(&k->connected, 1);
	struct timeval tv = { .tv_sec = ST_TIMEOUT_S };
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	c->cap = 1 << 16;
	c->buf = malloc(c->cap);
	while (k->next < CR_MAX) {
		uint64_t n = k->next++;
		char id[19], cas[64], cmd[1024], wire[2048];
		tu_ric(n, id);
		snprintf(cas, sizeof cas, "（2026）闽01执%llu号", (unsigned long long)n);
		size_t len = st_resp_encode(list_add_cmd(cmd, sizeof cmd, cas, id), wire, sizeof wire);
		cr_state[n] = 1;
		if (st_send_raw(c, wire, len))
			break;
		char *r = st_reply(c);
		if (!r)
			break;                   /* killed: n is in flight */
		char *end;
		if (!strncmp(r, "+OK ", 4) && (cr_seq[n] = strtoull(r + 4, &end, 10)) > 0 && !*end) {
			cr_state[n] = 2;
		} else {
			snprintf(k->error, sizeof k->error, "update %llu: %s", (unsigned long long)n, r);
			free(r);
			break;
		}
		free(r);
	}
	st_close(c);
	return NULL;
}

/* Every acknowledged ID denies; returns how many sent-but-unacknowledged
 * IDs are listed (each fully, with its own record). */
static unsigned verify_crash(st_conn *c, uint64_t upto, unsigned long long *max_seq,
                             unsigned *acked)
{
	unsigned inflight_listed = 0;
	*max_seq = 0;
	*acked = 0;
	for (uint64_t n = 0; n < upto; n++) {
		char id[19], rec[256];
		tu_ric(n, id);
		snprintf(rec, sizeof rec, "（2026）闽01执%llu号|" NEW_COURT "|debtor|SX",
		         (unsigned long long)n);
		const char *r = check(c, id);
		if (cr_state[n] == 2) {
			cr_assert_str_eq(r, deny(rec), "acknowledged update %llu (sequence %llu) "
			                 "was lost", (unsigned long long)n, cr_seq[n]);
			(*acked)++;
			if (cr_seq[n] > *max_seq)
				*max_seq = cr_seq[n];
		} else if (cr_state[n] == 1) {
			cr_assert(!strcmp(r, deny(rec)) || !strcmp(r, ALLOW_NL),
			          "in-flight update %llu half-applied: %s", (unsigned long long)n, r);
			inflight_listed += !strcmp(r, deny(rec));
		} else {
			cr_assert_str_eq(r, ALLOW_NL, "update %llu was never sent", (unsigned long long)n);
		}
	}
	return inflight_listed;
}

ST_TEST(live, acknowledged_updates_survive_kill_9_at_random_moments)
{
	char jrn[PATH_MAX + 64];
	snprintf(jrn, sizeof jrn, "%s/crash.jrn", tu_dir);
	memset(cr_state, 0, sizeof cr_state);
	memset(cr_seq, 0, sizeof cr_seq);
	uint64_t seed = (uint64_t)now_ms() ^ (uint64_t)getpid();
	tu_rng rng = { seed };
	static crash_client k;
	memset(&k, 0, sizeof k);
	unsigned long long prev_max = 0;
	enum { ROUNDS = 5 };
	for (int round = 0; round < ROUNDS; round++) {
		reuse_slots();
		st_server *s = st_start(st_snap, "--journal", jrn);
		k.port = s->resp_port;
		uint64_t first = k.next;
		atomic_store(&k.connected, 0);
		pthread_t th;
		pthread_create(&th, NULL, crash_run, &k);
		for (int t = 0; t < 5000 && !atomic_load(&k.connected) && !k.error[0]; t++)
			st_sleep_ms(1);
		int delay = 40 + (int)tu_below(&rng, 300);
		st_sleep_ms(delay);
		st_stop(s, SIGKILL);
		pthread_join(th, NULL);
		cr_assert_eq(k.error[0], 0, "round %d (seed %llu): %s", round,
		             (unsigned long long)seed, k.error);
		cr_assert(k.next > first, "round %d: no update was sent", round);
		/* acknowledged sequences increase, across restarts too */
		for (uint64_t n = first; n < k.next; n++)
			if (cr_state[n] == 2) {
				cr_assert_gt(cr_seq[n], prev_max, "round %d: sequence %llu after %llu",
				             round, cr_seq[n], prev_max);
				prev_max = cr_seq[n];
			}
	}
	cr_assert(prev_max > 0, "no update was acknowledged in %d rounds", ROUNDS);

	/* restart on the same journal: every acknowledged update holds */
	reuse_slots();
	st_server *s = st_start(st_snap, "--journal", jrn);
	st_conn *c = st_connect(s->resp_port);
	unsigned long long max_seq;
	unsigned acked;
	unsigned inflight = verify_crash(c, k.next + 5, &max_seq, &acked);
	long long last = info_num(c, "live", "journal_last_seq");
	long long in_force = info_num(c, "live", "updates_in_force");
	cr_assert_geq(last, (long long)max_seq);
	cr_assert_eq(in_force, (long long)(acked + inflight),
	             "%lld updates in force, %u acknowledged + %u in flight listed",
	             in_force, acked, inflight);
	cr_assert_eq(info_num(c, "live", "updates_replayed_at_start"), in_force);
	cr_log_info("%s: %d rounds (seed %llu): %u acknowledged, %u in flight at a kill "
	            "and applied, journal_last_seq %lld", st_io, ROUNDS,
	            (unsigned long long)seed, acked, inflight, last);

	/* the journal holds exactly those entries, each whole */
	int status;
	char *dump = tu_run(&status, "'%s' journal dump '%s' 2>&1", sxgate_bin(), jrn);
	cr_assert_eq(status, 0, "journal dump: %s", dump);
	cr_assert_eq(count_substr(dump, "\tLIST.ADD case_no "), (int)in_force, "%s", dump);
	free(dump);

	/* and the next update continues the sequence */
	char id[19];
	tu_ric(CR_MAX - 1, id);
	cr_assert_eq(ok_seq(list_add(c, "（2026）闽01执9999999号", id), "after restart"),
	             (unsigned long long)last + 1);
	st_close(c);
}

/* ---- 3. corrupt journal, torn tail ---------------------------------------- */

ST_TEST(live, corrupt_journal_refuses_to_start_and_a_torn_tail_is_cut)
{
	char jrn[PATH_MAX + 64], bad[PATH_MAX + 64], torn[PATH_MAX + 64];
	snprintf(jrn, sizeof jrn, "%s/real.jrn", tu_dir);
	snprintf(bad, sizeof bad, "%s/bad.jrn", tu_dir);
	snprintf(torn, sizeof torn, "%s/torn.jrn", tu_dir);
	char w1[19], w2[19], w3[19];
	tu_ric(1, w1);
	tu_ric(2, w2);
	tu_ric(3, w3);
	st_server *s = st_start(st_snap, "--journal", jrn);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_askf(c, "LIST.REMOVE " X_CASE " RIC " X_ID), "+OK 1");
	cr_assert_str_eq(list_add(c, "（2026）闽01执1号", w1), "+OK 2");
	cr_assert_str_eq(list_add(c, "（2026）闽01执2号", w2), "+OK 3");
	cr_assert_str_eq(list_add(c, "（2026）闽01执3号", w3), "+OK 4");
	st_close(c);
	cr_assert_eq(st_stop(s, SIGTERM), 0);

	size_t n;
	char *bytes = tu_read(jrn, &n);
	cr_assert_not_null(bytes);
	cr_assert(n > 64 && !memcmp(bytes, "SXJ1", 4), "the journal does not start with a frame");

	/* flip a byte inside the first entry's payload (its time) */
	bytes[16 + 9] ^= 0x20;
	tu_write(bad, bytes, n);
	bytes[16 + 9] ^= 0x20;
	s = st_start_args(st_snap, 1, (const char *[]){ "--journal", bad, NULL });
	cr_assert(s->reaped, "sxgated started on a journal corrupted in the middle");
	cr_assert(WIFEXITED(s->status) && WEXITSTATUS(s->status) != 0,
	          "sxgated status %d on a corrupt journal", s->status);
	char *log = st_log_text(s);
	cr_assert(strstr(log, bad), "the refusal does not name the journal:\n%s", log);
	cr_assert(strstr(log, "offset"), "the refusal does not name an offset:\n%s", log);
	free(log);
	size_t n2;
	char *after = tu_read(bad, &n2);
	cr_assert(n2 == n && after[16 + 9] == (char)(bytes[16 + 9] ^ 0x20) &&
	          !memcmp(after + 32, bytes + 32, n - 32), "a refused journal was changed");
	free(after);

	/* cut the last entry short: a torn tail, cut and reported */
	tu_write(torn, bytes, n - 5);
	free(bytes);
	s = st_start(st_snap, "--journal", torn);
	cr_assert(st_log_wait(s, "torn tail", 1000), "the torn tail is not reported");
	c = st_connect(s->resp_port);
	cr_assert_str_eq(check(c, X_ID), ALLOW_NL);
	cr_assert_str_eq(check(c, w1), deny("（2026）闽01执1号|" NEW_COURT "|debtor|SX"));
	cr_assert_str_eq(check(c, w2), deny("（2026）闽01执2号|" NEW_COURT "|debtor|SX"));
	cr_assert_str_eq(check(c, w3), ALLOW_NL, "the torn (unacknowledged) entry applied");
	cr_assert_eq(info_num(c, "live", "journal_last_seq"), 3);
	cr_assert_eq(info_num(c, "live", "updates_replayed_at_start"), 3);
	cr_assert_str_eq(list_add(c, "（2026）闽01执3号", w3), "+OK 4");
	cr_assert_str_eq(check(c, w3), deny("（2026）闽01执3号|" NEW_COURT "|debtor|SX"));
	st_close(c);
}

/* ---- 4. the rebuild rule and compaction ------------------------------------ */

ST_TEST(live, rebuild_as_of_supersedes_older_updates_only_and_compaction_drops_them)
{
	char la[PATH_MAX + 64], lb[PATH_MAX + 64], sa[PATH_MAX + 64], sb[PATH_MAX + 64],
	     sc[PATH_MAX + 64], jrn[PATH_MAX + 64];
	snprintf(la, sizeof la, "%s/a.csv", tu_dir);
	snprintf(lb, sizeof lb, "%s/b.csv", tu_dir);
	snprintf(sa, sizeof sa, "%s/a.snap", tu_dir);
	snprintf(sb, sizeof sb, "%s/b.snap", tu_dir);
	snprintf(sc, sizeof sc, "%s/c.snap", tu_dir);
	snprintf(jrn, sizeof jrn, "%s/rb.jrn", tu_dir);
	const char *xrow = X_CASE "," X_COURT ",SX,debtor,RIC," X_ID ",张某某,active,2025-01-10,,,350500\n";
	const char *yrow = Y_CASE "," Y_COURT ",SX,debtor,RIC," Y_ID ",吴某,active,2025-01-10,,,350102\n";
	char buf[2048];
	snprintf(buf, sizeof buf, HDR "%s%s", xrow, yrow);
	tu_write_str(la, buf);
	snprintf(buf, sizeof buf, HDR "%s", yrow);       /* the export after U1 */
	tu_write_str(lb, buf);
	st_build(la, NULL, sa, NULL);

	char w[19];
	tu_ric(777, w);
	const char *wrec = "（2026）闽01执77号|" NEW_COURT "|debtor|SX";
	const char *yrec = Y_CASE "|" Y_COURT "|debtor|SX";
	st_server *s = st_start(sa, "--journal", jrn);
	st_conn *c = st_connect(s->resp_port);
	/* U1: before T */
	cr_assert_str_eq(st_askf(c, "LIST.REMOVE " X_CASE " RIC " X_ID), "+OK 1");
	cr_assert_str_eq(list_add(c, "（2026）闽01执77号", w), "+OK 2");
	/* T: the next whole second after U1's acknowledgement */
	time_t T = (time_t)(now_ms() / 1000 + 1);
	while (now_ms() < (int64_t)T * 1000 + 30)
		st_sleep_ms(10);
	/* U2: after T */
	cr_assert_str_eq(st_askf(c, "LIST.SUSPEND " Y_CASE " RIC " Y_ID), "+OK 3");
	cr_assert_str_eq(check(c, Y_ID), ALLOW_SUS);

	char as_of[64];
	time_t local = T + 8 * 3600;
	struct tm tm;
	gmtime_r(&local, &tm);
	strftime(as_of, sizeof as_of, "%Y-%m-%dT%H:%M:%S", &tm);   /* no offset: UTC+8 */
	st_build(lb, NULL, sb, as_of);
	st_build(lb, NULL, sc, NULL);

	/* without --as-of: supersedes nothing, every entry applies again */
	cr_assert_str_eq(st_askf(c, "RELOAD %s", sc), "+OK 2");
	cr_assert_str_eq(check(c, X_ID), ALLOW_NL);
	cr_assert_str_eq(check(c, w), deny(wrec), "U1 (LIST.ADD) lost on a snapshot without as-of");
	cr_assert_str_eq(check(c, Y_ID), ALLOW_SUS, "U2 lost on a snapshot without as-of");
	const char *r = st_ask(c, "JOURNAL.COMPACT");
	cr_assert(!strncmp(r, "-ERR ", 5), "compaction without an as-of: %s", r);

	/* with --as-of T: U1 superseded by the export, U2 stays */
	cr_assert_str_eq(st_askf(c, "RELOAD %s", sb), "+OK 3");
	cr_assert_str_eq(check(c, X_ID), ALLOW_NL);
	cr_assert_str_eq(check(c, w), ALLOW_NL, "U1 (older than the as-of) not superseded");
	cr_assert_str_eq(check(c, Y_ID), ALLOW_SUS, "U2 (after the as-of) reverted by the rebuild");
	cr_assert_eq(info_num(c, "live", "updates_in_force"), 1);

	/* compaction drops the two entries older than T */
	cr_assert_str_eq(st_ask(c, "JOURNAL.COMPACT"), "+OK 1 kept, 2 dropped");
	cr_assert_eq(info_num(c, "live", "journal_last_seq"), 3);
	int status;
	char *dump = tu_run(&status, "'%s' journal dump '%s' 2>&1", sxgate_bin(), jrn);
	cr_assert_eq(status, 0, "%s", dump);
	cr_assert(strstr(dump, "LIST.SUSPEND " Y_CASE " RIC " Y_ID), "%s", dump);
	cr_assert(!strstr(dump, "LIST.REMOVE") && !strstr(dump, "LIST.ADD"),
	          "compaction kept superseded entries:\n%s", dump);
	cr_assert(strstr(dump, "checkpoint"), "%s", dump);
	free(dump);
	cr_assert_str_eq(check(c, Y_ID), ALLOW_SUS);
	st_close(c);
	cr_assert_eq(st_stop(s, SIGTERM), 0);

	/* a restart on B still has U2, and the sequence goes on */
	s = st_start(sb, "--journal", jrn);
	c = st_connect(s->resp_port);
	cr_assert_str_eq(check(c, Y_ID), ALLOW_SUS);
	cr_assert_str_eq(check(c, X_ID), ALLOW_NL);
	cr_assert_str_eq(check(c, w), ALLOW_NL);
	cr_assert_eq(info_num(c, "live", "updates_replayed_at_start"), 1);
	cr_assert_str_eq(st_askf(c, "LIST.RESUME " Y_CASE " RIC " Y_ID), "+OK 4");
	cr_assert_str_eq(check(c, Y_ID), deny(yrec));
	st_close(c);
}

/* ---- 5. feedback ------------------------------------------------------------ */

ST_TEST(live, feedback_log_holds_exactly_the_deny_review_exempt_and_suspended_decisions)
{
	char fb[PATH_MAX + 64];
	snprintf(fb, sizeof fb, "%s/feedback.log", tu_dir);
	st_server *s = st_start(st_snap, "--feedback", fb);
	st_conn *c = st_connect(s->resp_port), *b = st_connect(s->bin_port);
	st_bin_hello(b, 0);
	enum { N = 3, M = 2, K = 2, V = 2 };
	for (int i = 0; i < N - 1; i++)
		cr_assert_str_eq(check(c, X_ID), deny(ST_DENY_REC));
	char *t = bin_check(b, X_ID, 9);                 /* the binary port logs too */
	cr_assert(!strncmp(t, "[DENY, LISTED, ", 15), "%s", t);
	free(t);
	for (int i = 0; i < M; i++)
		cr_assert_str_eq(check(c, PERMIT_ID), ALLOW_EX);
	for (int i = 0; i < K; i++)
		cr_assert_str_eq(check(c, SUSP_ID), ALLOW_SUS);
	for (int i = 0; i < 4; i++)                      /* never logged */
		cr_assert_str_eq(check(c, ST_FREE_ID), ALLOW_NL);
	cr_assert_str_eq(st_askf(c, "CHECK " XG_ID " venue " ST_AT), "[ALLOW, NOT_RESTRICTED]");
	/* REVIEW is fed back too (the opinions' 惩戒情况), over either port */
	cr_assert_str_eq(st_askf(c, "CHECK " X_ID " credit " ST_AT),
	                 "[REVIEW, LISTED, " ST_DENY_REC "]");
	t = bin_check_chan(b, X_ID, "credit", NULL, 10);
	cr_assert(!strncmp(t, "[REVIEW, LISTED, ", 17), "%s", t);
	free(t);
	cr_assert_str_eq(st_askf(c, "CHECK " XG_ID " credit " ST_AT), "[ALLOW, NOT_RESTRICTED]");
	st_close(c);
	st_close(b);
	int st = st_stop(s, SIGTERM);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: status %d", st);

	int status;
	char *dump = tu_run(&status, "'%s' feedback dump '%s'", sxgate_bin(), fb);
	cr_assert_eq(status, 0, "%s", dump);
	int rows = 0, deny_n = 0, ex = 0, sus = 0, rev = 0;
	char *save = NULL;
	for (char *line = strtok_r(dump, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "time,", 5))
			continue;
		rows++;
		if (strstr(line, ",air,-,RIC," X_ID ",DENY,LISTED," X_CASE "|" X_COURT))
			deny_n++;
		else if (strstr(line, ",credit,-,RIC," X_ID ",REVIEW,LISTED," X_CASE "|" X_COURT))
			rev++;
		else if (strstr(line, ",air,-,RIC," PERMIT_ID ",ALLOW,EXEMPT," PERMIT_CASE "|" PERMIT_COURT))
			ex++;
		else if (strstr(line, ",air,-,RIC," SUSP_ID ",ALLOW,SUSPENDED," SUSP_CASE "|" SUSP_COURT))
			sus++;
		else
			cr_assert_fail("unexpected feedback row: %s", line);
	}
	free(dump);
	cr_assert_eq(rows, N + M + K + V);
	cr_assert_eq(deny_n, N);
	cr_assert_eq(rev, V);
	cr_assert_eq(ex, M);
	cr_assert_eq(sus, K);

	char *sum = tu_run(&status, "'%s' feedback summarize '%s'", sxgate_bin(), fb);
	cr_assert_eq(status, 0, "%s", sum);
	char want[256];
	snprintf(want, sizeof want, ": %d records; 3 courts, 3 cases", N + M + K + V);
	cr_assert(strstr(sum, want), "summary lacks '%s':\n%s", want, sum);
	snprintf(want, sizeof want, X_COURT ": 1 case, %d DENY, %d REVIEW, 0 SUSPENDED, "
	         "0 EXEMPT", N, V);
	cr_assert(strstr(sum, want), "summary lacks '%s':\n%s", want, sum);
	snprintf(want, sizeof want, SUSP_COURT ": 1 case, 0 DENY, 0 REVIEW, %d SUSPENDED, "
	         "0 EXEMPT", K);
	cr_assert(strstr(sum, want), "summary lacks '%s':\n%s", want, sum);
	snprintf(want, sizeof want, PERMIT_COURT ": 1 case, 0 DENY, 0 REVIEW, 0 SUSPENDED, "
	         "%d EXEMPT", M);
	cr_assert(strstr(sum, want), "summary lacks '%s':\n%s", want, sum);
	cr_assert(strstr(sum, "air 3, credit 2"), "channels of the X case:\n%s", sum);
	free(sum);
	sum = tu_run(&status, "'%s' feedback summarize --json '%s'", sxgate_bin(), fb);
	cr_assert_eq(status, 0, "%s", sum);
	snprintf(want, sizeof want, "\"deny\":%d,\"review\":%d,\"suspended\":0,"
	         "\"exempt\":0", N, V);
	cr_assert(strstr(sum, want), "JSON summary lacks '%s':\n%s", want, sum);
	free(sum);
}

/* ---- 6. a replica following a Redis stream --------------------------------- */

/* INFO live's key once it reads want (the follower counts an entry just
 * after it is published, so a CHECK may see it first); the INFO text. */
static const char *wait_info(st_conn *c, const char *key, const char *want, int timeout_ms)
{
	int64_t t0 = now_ms();
	char v[256];
	const char *info;
	while (st_info_get(info = st_ask(c, "INFO live"), key, v, sizeof v) &&
	       strcmp(v, want) && now_ms() - t0 < timeout_ms)
		st_sleep_ms(5);
	return info;
}

ST_TEST(live, stream_follower_applies_each_entry_once_and_reports_health)
{
	int dummy;
	char *where = tu_run(&dummy, "command -v redis-server");
	int have = where[0] != 0;
	free(where);
	if (!have) {
		st_teardown();
		cr_skip_test("redis-server is not installed: the stream follower is not tested");
	}
	int rport = st_free_port(), mport = st_free_port();
	char rp[16];
	snprintf(rp, sizeof rp, "%d", rport);
	ft_redis_start(rport, "--port", rp);
	char url[128], mp[16], jrn[PATH_MAX + 64], body[1024];
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/sxgate:updates", rport);
	snprintf(mp, sizeof mp, "%d", mport);
	snprintf(jrn, sizeof jrn, "%s/replica.jrn", tu_dir);
	st_conn *rc = st_connect(rport);
	cr_assert_str_eq(st_ask(rc, "PING"), "+PONG");

	st_server *s = st_start(st_snap, "--journal", jrn, "--updates-from", url,
	                        "--metrics-port", mp);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_eq(ft_wait_health(mport, 200, 5000, body, sizeof body), 200,
	             "not healthy with an empty stream: %s", body);
	cr_assert_str_eq(check(c, X_ID), deny(ST_DENY_REC));

	/* a LIST.REMOVE published to the stream applies within a second */
	char id1[64], id2[64], w[19];
	snprintf(id1, sizeof id1, "%s", st_ask(rc, "XADD sxgate:updates * op LIST.REMOVE case_no "
	                                        X_CASE " id_type RIC id_no " X_ID));
	cr_assert(strchr(id1, '-') && id1[0] != '-', "XADD: %s", id1);
	long took = wait_check(c, X_ID, ALLOW_NL, 1000);
	cr_assert(took >= 0, "the stream's LIST.REMOVE not applied within 1 s");
	tu_ric(55, w);
	snprintf(id2, sizeof id2, "%s", st_askf(rc, "XADD sxgate:updates * op LIST.ADD case_no "
	                                     "（2026）闽01执55号 court " NEW_COURT " list SX role "
	                                     "debtor id_type RIC id_no %s name 某 status active "
	                                     "listed_on 2025-01-01", w));
	const char *wrec = "（2026）闽01执55号|" NEW_COURT "|debtor|SX";
	cr_assert(wait_check(c, w, deny(wrec), 1000) >= 0, "the stream's LIST.ADD not applied");

	/* admin updates on a replica are refused, naming the stream */
	const char *r = st_askf(c, "LIST.REMOVE " Y_CASE " RIC " Y_ID);
	cr_assert(!strncmp(r, "-ERR ", 5) && strstr(r, "sxgate:updates"), "%s", r);
	r = list_add(c, "（2026）闽01执56号", Y_ID);
	cr_assert(!strncmp(r, "-ERR ", 5) && strstr(r, "sxgate:updates"), "%s", r);

	char v[256];
	const char *info = wait_info(c, "stream_applied", "2", 1000);
	cr_assert_str_eq(st_info_get(info, "stream_applied", v, sizeof v), "2", "%s", info);
	cr_assert_str_eq(st_info_get(info, "stream_last_id", v, sizeof v), id2, "%s", info);
	cr_assert_str_eq(st_info_get(info, "journal_last_seq", v, sizeof v), "2", "%s", info);
	cr_assert_eq(ft_wait_health(mport, 200, 3000, body, sizeof body), 200, "%s", body);

	/* a restart resumes after the last entry: nothing applied twice */
	st_close(c);
	cr_assert_eq(st_stop(s, SIGTERM), 0);
	s = st_start(st_snap, "--journal", jrn, "--updates-from", url, "--metrics-port", mp);
	c = st_connect(s->resp_port);
	cr_assert_eq(ft_wait_health(mport, 200, 5000, body, sizeof body), 200, "%s", body);
	cr_assert_str_eq(check(c, X_ID), ALLOW_NL);
	cr_assert_str_eq(check(c, w), deny(wrec));
	info = st_ask(c, "INFO live");
	cr_assert_str_eq(st_info_get(info, "stream_applied", v, sizeof v), "0", "%s", info);
	cr_assert_str_eq(st_info_get(info, "journal_last_seq", v, sizeof v), "2",
	                 "entries applied twice after a restart:\n%s", info);
	cr_assert_str_eq(st_info_get(info, "stream_last_id", v, sizeof v), id2, "%s", info);
	/* only the new entry applies */
	char id3[64];
	snprintf(id3, sizeof id3, "%s", st_askf(rc, "XADD sxgate:updates * op LIST.SUSPEND case_no "
	                                     XG_CASE " id_type RIC id_no " XG_ID));
	cr_assert(strchr(id3, '-') && id3[0] != '-', "XADD: %s", id3);
	cr_assert(wait_check(c, XG_ID, ALLOW_SUS, 1000) >= 0, "the new entry not applied within 1 s");
	info = wait_info(c, "stream_applied", "1", 1000);
	cr_assert_str_eq(st_info_get(info, "stream_applied", v, sizeof v), "1", "%s", info);
	cr_assert_str_eq(st_info_get(info, "journal_last_seq", v, sizeof v), "3", "%s", info);
	cr_assert_str_eq(st_info_get(info, "stream_last_id", v, sizeof v), id3, "%s", info);

	/* Redis down: /health says 503 */
	st_close(rc);
	ft_redis_stop_all();
	int code = ft_wait_health(mport, 503, 5000, body, sizeof body);
	cr_assert_eq(code, 503, "health %d with Redis down: %s", code, body);
	cr_assert(strstr(body, "sxgate:updates"), "%s", body);
	cr_assert_str_eq(check(c, X_ID), ALLOW_NL, "a replica keeps serving without its feed");
	st_close(c);
}
