/*
 * test_server_pipeline.c - RESP pipelines (issue 15): the commands of one
 * read are decided as a batch, and a client cannot tell.
 *
 * A property test over random mixes of CHECK, LISTED, MCHECK (multibulk
 * and inline), PING, INFO, invalid IDs, bad channels and classes, syntax
 * errors, unknown commands, AUTH as three tenants of different rights
 * (each AUTH waits for the verification job) and a final QUIT: the
 * replies to the whole mix sent in one write, or in random pieces, are
 * byte for byte the replies to the same commands sent one at a time on a
 * fresh connection.  INFO's values change between runs (counters, times):
 * its reply is compared with every digit masked, so its presence, its
 * place and its shape still count.  The queries come from the contract's
 * sample-queries.tsv, so every reason (DENY, SUSPENDED, EXEMPT, ...) and
 * several ID types occur.
 *
 * Then a pipeline cut at every byte boundary: for each k, the first k
 * bytes, a pause long enough for the server to read them alone, then the
 * rest; the replies are those of the unsplit pipeline.
 *
 * Counters move as they do one command at a time: the INFO counters of
 * decisions, query errors, NOAUTH and NOPERM advance by the same amounts
 * for the pipelined run as for the sequential one.
 */
#include "helpers/srvtest.h"

static char tenants_path[PATH_MAX + 64];

static void write_tenants(void)
{
	char h1[256], h2[256], h3[256], text[2048];
	st_hash("h", h1, sizeof h1);
	st_hash("r", h2, sizeof h2);
	st_hash("o", h3, sizeof h3);
	snprintf(text, sizeof text,
	         "hotelsys:%s:hotel:-\n"
	         "rail12306:%s:rail,air:listed\n"
	         "ops:%s:*:admin,listed\n", h1, h2, h3);
	snprintf(tenants_path, sizeof tenants_path, "%s/tenants.txt", tu_dir);
	tu_write_private(tenants_path, text);
}

/* ---- the vocabulary: sample queries ------------------------------------ */

#define MAXQ 256
static char *queries[MAXQ];      /* "ID CHANNEL [CLASS] [TYPE t] [AT d]" */
static int nqueries;

static void load_queries(void)
{
	char path[PATH_MAX];
	cr_assert_not_null(tu_data_path("sample-queries.tsv", path, sizeof path),
	                   "sample-queries.tsv is missing");
	char *text = tu_read(path, NULL);
	cr_assert_not_null(text);
	nqueries = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#' || !line[0])
			continue;
		char *tab = strchr(line, '\t');
		if (tab)
			*tab = 0;
		if (nqueries < MAXQ)
			queries[nqueries++] = strdup(line);
	}
	free(text);
	cr_assert_gt(nqueries, 50, "only %d sample queries", nqueries);
}

/* Words of a sample query: the ID, the channel, the rest. */
static void split_query(const char *q, char *id, char *chan, char *rest, size_t cap)
{
	char tmp[200];
	snprintf(tmp, sizeof tmp, "%s", q);
	char *sp = strchr(tmp, ' ');
	cr_assert_not_null(sp);
	*sp = 0;
	snprintf(id, cap, "%s", tmp);
	char *c = sp + 1, *sp2 = strchr(c, ' ');
	if (sp2)
		*sp2 = 0;
	snprintf(chan, cap, "%s", c);
	snprintf(rest, cap, "%s", sp2 ? sp2 + 1 : "");
}

/* ---- a random mix --------------------------------------------------------- */

enum { F_INFO = 1, F_INLINE = 2, F_QUIT = 4 };

typedef struct mix {
	char *cmd[512];
	int flags[512];
	int n;
} mix;

static uint64_t rng;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *pick_query(void) { return queries[rnd((unsigned)nqueries)]; }

static void add(mix *m, int flags, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(mix *m, int flags, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	cr_assert_lt(m->n, 512);
	m->flags[m->n] = flags;
	m->cmd[m->n++] = strdup(buf);
}

/* A TYPE/AT tail of a sample query, without channel and class. */
static const char *when_of(const char *rest)
{
	const char *t = strstr(rest, "TYPE ");
	const char *a = strstr(rest, "AT ");
	return t && (!a || t < a) ? t : a ? a : "";
}

static void make_mix(mix *m, int n, int with_auth, int with_quit)
{
	static const char *const auths[] = { "AUTH hotelsys h", "AUTH rail12306 r", "AUTH ops o" };
	m->n = 0;
	for (int i = 0; i < n; i++) {
		char id[256], chan[256], rest[256];
		split_query(pick_query(), id, chan, rest, sizeof id);
		int inl = rnd(8) == 0 ? F_INLINE : 0;
		unsigned k = rnd(100);
		if (k < 40) {
			add(m, inl, "CHECK %s %s %s", id, chan, rest);
		} else if (k < 52) {
			add(m, inl, "LISTED %s %s", id, when_of(rest));
		} else if (k < 60) {
			/* MCHECK: the channel, class and day of one query, IDs of
			 * several (of other types too: those answer an error) */
			char cls[256] = "-";
			if (rest[0] && strncmp(rest, "AT ", 3) && strncmp(rest, "TYPE ", 5))
				sscanf(rest, "%255s", cls);
			char ids[2048];
			size_t o = (size_t)snprintf(ids, sizeof ids, "%s", id);
			int nid = 1 + (int)rnd(rnd(4) ? 6 : 300);
			for (int j = 1; j < nid && o < sizeof ids - 64; j++) {
				char id2[256], c2[256], r2[256];
				split_query(pick_query(), id2, c2, r2, sizeof id2);
				o += (size_t)snprintf(ids + o, sizeof ids - o, " %s",
				                      rnd(10) ? id2 : "12345");
			}
			add(m, 0, "MCHECK %s %s %s %s", chan, cls, when_of(rest), ids);
		} else if (k < 64) {
			add(m, inl, "CHECK 350304197806263294 %s %s", chan, rest);   /* bad check digit */
		} else if (k < 67) {
			add(m, inl, "CHECK %s rail X9:nope", id);                     /* bad class */
		} else if (k < 69) {
			add(m, inl, "CHECK %s spaceship", id);                        /* unknown channel */
		} else if (k < 71) {
			add(m, inl, "CHECK %s air TYPE", id);                         /* syntax error */
		} else if (k < 73) {
			add(m, inl, "CHECK %s", id);                                  /* arity */
		} else if (k < 76) {
			add(m, inl, "LISTED %s AT 2026-13-01", id);                   /* bad date */
		} else if (k < 82) {
			add(m, inl, rnd(2) ? "PING" : "PING hello");
		} else if (k < 86) {
			add(m, F_INFO | inl, "INFO");
		} else if (k < 90) {
			add(m, inl, "FOO %s bar", id);
		} else if (k < 93 && with_auth) {
			add(m, 0, "%s", auths[rnd(3)]);
		} else {
			add(m, inl, "CHECK %s %s %s", id, chan, rest);
		}
	}
	if (with_quit)
		add(m, F_QUIT, "QUIT");
}

static void free_mix(mix *m)
{
	for (int i = 0; i < m->n; i++)
		free(m->cmd[i]);
	m->n = 0;
}

/* The bytes of command i, multibulk or inline. */
static size_t encode(const mix *m, int i, char *out, size_t cap)
{
	if (m->flags[i] & F_INLINE) {
		int n = snprintf(out, cap, "%s\r\n", m->cmd[i]);
		cr_assert(n > 0 && (size_t)n < cap);
		return (size_t)n;
	}
	return st_resp_encode(m->cmd[i], out, cap);
}

/* ---- raw replies -------------------------------------------------------- */

/* Bytes of the next whole reply at the read position, appended to b (raw,
 * as the server wrote them); -1 when the connection closed first. */
static int raw_reply(st_conn *c, st_sb *b)
{
	char *l;
	size_t n;
	if (st_line(c, &l, &n))
		return -1;
	st_sb_put(b, l, n);
	st_sb_put(b, "\r\n", 2);
	char num[32];                /* the line is not NUL-terminated */
	size_t k = n == 0 ? 0 : n - 1 < sizeof num - 1 ? n - 1 : sizeof num - 1;
	memcpy(num, l + 1, k);
	num[k] = 0;
	long long v = strtoll(num, NULL, 10);
	if (l[0] == '$' && v >= 0) {
		while (c->len - c->off < (size_t)v + 2)
			if (st_fill(c) <= 0)
				return -1;
		st_sb_put(b, c->buf + c->off, (size_t)v + 2);
		c->off += (size_t)v + 2;
	} else if (l[0] == '*') {
		for (long long i = 0; i < v; i++)
			if (raw_reply(c, b))
				return -1;
	}
	return 0;
}

/* INFO's values vary: each run of digits becomes one '#' (the bulk
 * length's too). */
static void mask_digits(char *s)
{
	char *o = s;
	int prev = 0;
	for (; *s; s++) {
		int d = *s >= '0' && *s <= '9';
		if (!d)
			*o++ = *s;
		else if (!prev)
			*o++ = '#';
		prev = d;
	}
	*o = 0;
}

/* Read the replies to commands [from, m->n) into rep (masked for INFO);
 * after QUIT, expects the server to close. */
static void read_replies(st_conn *c, const mix *m, int from, char **rep)
{
	for (int i = from; i < m->n; i++) {
		st_sb b = { 0 };
		st_sb_put(&b, "", 0);
		cr_assert_eq(raw_reply(c, &b), 0, "no reply to command %d '%.80s'", i, m->cmd[i]);
		if (m->flags[i] & F_INFO)
			mask_digits(b.p);
		rep[i] = b.p;
	}
	if (m->n && (m->flags[m->n - 1] & F_QUIT))
		cr_assert(st_closed_by_server(c, 5000), "still open after QUIT");
}

/* One command at a time on a fresh connection. */
static void run_sequential(int port, const mix *m, char **rep)
{
	st_conn *c = st_connect(port);
	char buf[16384];
	for (int i = 0; i < m->n; i++) {
		size_t n = encode(m, i, buf, sizeof buf);
		st_send(c, buf, n);
		mix one = *m;
		one.n = i + 1;
		read_replies(c, &one, i, rep);
	}
	st_close(c);
}

/* The whole mix as one pipeline: its bytes, in pieces cut at cuts[] (a
 * pause after each piece), or in random pieces when cuts is NULL. */
static char *pipeline_bytes(const mix *m, size_t *len)
{
	st_sb b = { 0 };
	char buf[16384];
	st_sb_put(&b, "", 0);
	for (int i = 0; i < m->n; i++) {
		size_t n = encode(m, i, buf, sizeof buf);
		st_sb_put(&b, buf, n);
	}
	*len = b.n;
	return b.p;
}

static void run_pipelined(int port, const mix *m, char **rep, int random_pieces)
{
	size_t len;
	char *bytes = pipeline_bytes(m, &len);
	st_conn *c = st_connect(port);
	if (!random_pieces) {
		st_send(c, bytes, len);
	} else {
		for (size_t off = 0; off < len;) {
			size_t k = 1 + rnd(rnd(2) ? 64 : 4096);
			if (k > len - off)
				k = len - off;
			st_send(c, bytes + off, k);
			off += k;
			if (rnd(4) == 0)
				st_sleep_ms(1);
		}
	}
	read_replies(c, m, 0, rep);
	st_close(c);
	free(bytes);
}

static void compare(const mix *m, char **want, char **got, const char *how, uint64_t seed)
{
	for (int i = 0; i < m->n; i++) {
		cr_assert_str_eq(got[i], want[i], "seed %llu, %s: reply %d to '%.200s' differs:\n"
		                 "pipelined:  %.300s\none by one: %.300s", (unsigned long long)seed,
		                 how, i, m->cmd[i], got[i], want[i]);
		free(got[i]);
		got[i] = NULL;
	}
}

static void free_replies(char **rep, int n)
{
	for (int i = 0; i < n; i++) {
		free(rep[i]);
		rep[i] = NULL;
	}
}

static long long info_sum(int port, const char *const *keys)
{
	st_conn *c = st_connect(port);
	long long sum = 0;
	char v[64];
	const char *info = st_ask(c, "INFO");
	for (int i = 0; keys[i]; i++)
		if (st_info_get(info, keys[i], v, sizeof v))
			sum += strtoll(strncmp(v, "calls=", 6) ? v : v + 6, NULL, 10);
	st_close(c);
	return sum;
}

static const char *const counters[][8] = {
	{ "decisions_listed", "decisions_suspended", "decisions_exempt",
	  "decisions_not_restricted", "decisions_not_listed", NULL },
	{ "query_errors", NULL },
	{ "noauth_errors", NULL },
	{ "noperm_errors", NULL },
	{ "cmdstat_check", NULL },
	{ "cmdstat_listed", NULL },
	{ "cmdstat_mcheck", NULL },
	{ "mcheck_ids", NULL },
	{ "decisions_channel_air", "decisions_channel_rail", "decisions_channel_hotel",
	  "decisions_channel_ship", NULL },
};
#define NCOUNTERS (sizeof counters / sizeof counters[0])

static void counters_now(int port, long long *v)
{
	for (size_t i = 0; i < NCOUNTERS; i++)
		v[i] = info_sum(port, counters[i]);
}

static uint64_t test_seed(void)
{
	const char *e = getenv("SXGATE_TEST_SEED");
	return e ? strtoull(e, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 16;
}

ST_TEST(pipeline, random_mixes_answer_as_one_by_one)
{
	load_queries();
	write_tenants();
	st_server *s = st_start(st_snap, "--tenants", tenants_path);
	static char *want[512], *got[512];
	uint64_t seed0 = test_seed();
	for (int round = 0; round < 12; round++) {
		uint64_t seed = seed0 + (uint64_t)round;
		rng = seed * 0x9E3779B97F4A7C15ull | 1;
		mix m;
		make_mix(&m, 20 + (int)rnd(round < 6 ? 60 : 250), rnd(4) != 0, rnd(3) == 0);

		long long before[NCOUNTERS], mid[NCOUNTERS], after[NCOUNTERS];
		counters_now(s->resp_port, before);
		run_sequential(s->resp_port, &m, want);
		counters_now(s->resp_port, mid);
		run_pipelined(s->resp_port, &m, got, 0);
		counters_now(s->resp_port, after);
		compare(&m, want, got, "one write", seed);
		for (size_t i = 0; i < NCOUNTERS; i++)
			cr_assert_eq(after[i] - mid[i], mid[i] - before[i],
			             "seed %llu: %s moved by %lld pipelined, %lld one by one",
			             (unsigned long long)seed, counters[i][0], after[i] - mid[i],
			             mid[i] - before[i]);
		run_pipelined(s->resp_port, &m, got, 1);
		compare(&m, want, got, "random pieces", seed);
		free_replies(want, m.n);
		free_mix(&m);
	}
}

ST_TEST(pipeline, split_at_every_byte)
{
	load_queries();
	st_server *s = st_start(st_snap);
	rng = test_seed() * 0x9E3779B97F4A7C15ull | 1;
	mix m = { .n = 0 };
	/* short, but every kind of command and both request forms */
	add(&m, 0, "CHECK %s", queries[0]);
	add(&m, F_INLINE, "LISTED " ST_DENY_ID " " ST_AT);
	add(&m, 0, "MCHECK air - " ST_AT " " ST_DENY_ID " 12345 " ST_FREE_ID);
	add(&m, 0, "PING");
	add(&m, F_INLINE, "CHECK %s", queries[1]);
	add(&m, 0, "CHECK 350304197806263294 air");
	add(&m, F_INFO, "INFO");
	add(&m, F_INLINE, "CHECK %s", queries[2]);
	add(&m, 0, "FOO");
	add(&m, 0, "LISTED " ST_FREE_ID);
	static char *want[64], *got[64];
	run_pipelined(s->resp_port, &m, want, 0);
	size_t len;
	char *bytes = pipeline_bytes(&m, &len);
	cr_assert_gt(len, 200);
	for (size_t k = 1; k < len; k++) {
		st_conn *c = st_connect(s->resp_port);
		st_send(c, bytes, k);
		st_sleep_ms(1);
		st_send(c, bytes + k, len - k);
		read_replies(c, &m, 0, got);
		st_close(c);
		char how[64];
		snprintf(how, sizeof how, "cut after byte %zu of %zu", k, len);
		compare(&m, want, got, how, 0);
	}
	free(bytes);
	free_replies(want, m.n);
	free_mix(&m);
}
