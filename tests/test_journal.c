/*
 * test_journal.c - the live-update journal keeps exactly the acknowledged
 * updates, through crashes, corruption, full disks and compaction.
 *
 * What is proved: a round trip of 1000 commands with Chinese words is
 * replayed byte for byte in order; a torn tail at every length of the last
 * entry is cut and the rest replays; a damaged entry in the middle refuses
 * the whole file (SX_ECORRUPT, offset and sequence in the message, file
 * untouched, nothing replayed); sequence numbers must increase; a failed
 * write, short write or fdatasync (injected through wio) fails the append,
 * leaves the file replaying exactly the acknowledged entries, and a later
 * append succeeds without a gap in the sequence; compaction keeps the
 * entries at or after its time with their sequence numbers, and the
 * sequence and the last source tag survive it and a reopen.
 *
 * Files live in a mkdtemp directory per test (testutil.h).
 */
#include "testutil.h"
#include "journal.h"
#include "wio.h"

#include <pthread.h>
#include <time.h>

TestSuite(journal, .init = tu_setup, .fini = tu_teardown);

/* ---- helpers ------------------------------------------------------------ */

/* A replayed entry, copied. */
typedef struct got_entry {
	uint64_t seq;
	int64_t time_ms;
	int checkpoint;
	char *source;
	uint32_t argc;
	char **argv;
	size_t *lens;
} got_entry;

typedef struct got {
	got_entry *e;
	size_t n, cap;
} got;

static int collect(void *arg, const sx_journal_entry *e)
{
	got *g = arg;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->e = realloc(g->e, g->cap * sizeof *g->e);
		cr_assert_not_null(g->e);
	}
	got_entry *o = &g->e[g->n++];
	o->seq = e->seq;
	o->time_ms = e->time_ms;
	o->checkpoint = e->checkpoint;
	cr_assert_eq(strlen(e->source), e->source_len);
	o->source = strdup(e->source);
	o->argc = e->argc;
	o->argv = calloc(e->argc + 1, sizeof *o->argv);
	o->lens = calloc(e->argc + 1, sizeof *o->lens);
	for (uint32_t i = 0; i < e->argc; i++) {
		cr_assert_eq(e->argv[i][e->lens[i]], 0, "word not NUL-terminated");
		cr_assert_eq(e->words[i].p, e->argv[i]);
		cr_assert_eq(e->words[i].n, e->lens[i]);
		o->argv[i] = malloc(e->lens[i] + 1);
		memcpy(o->argv[i], e->argv[i], e->lens[i] + 1);
		o->lens[i] = e->lens[i];
	}
	cr_assert_null(e->argv[e->argc], "argv must end with NULL");
	return 0;
}

static void got_free(got *g)
{
	for (size_t i = 0; i < g->n; i++) {
		for (uint32_t k = 0; k < g->e[i].argc; k++)
			free(g->e[i].argv[k]);
		free(g->e[i].argv);
		free(g->e[i].lens);
		free(g->e[i].source);
	}
	free(g->e);
	memset(g, 0, sizeof *g);
}

static int never_called(void *arg, const sx_journal_entry *e)
{
	(void)arg;
	cr_assert_fail("replay callback called for seq %llu of a refused file",
	               (unsigned long long)e->seq);
	return 0;
}

static sx_journal *jopen(const char *path, got *g, sx_journal_report *rep)
{
	sx_journal *j = NULL;
	char why[512] = "";
	int rc = sx_journal_open(path, &j, g ? collect : NULL, g, rep, why,
	                         sizeof why);
	cr_assert_eq(rc, 0, "open %s: %d %s", path, rc, why);
	cr_assert_not_null(j);
	return j;
}

/* The i-th test command: a LIST.REMOVE with a Chinese case number, or a
 * LIST.ADD with more words; words of i are reproducible. */
typedef struct tcmd {
	char w[8][96];
	const char *argv[8];
	size_t lens[8];
	uint32_t argc;
	char source[40];
	int64_t time_ms;
} tcmd;

static void make_cmd(tcmd *c, unsigned i)
{
	memset(c, 0, sizeof *c);
	if (i % 3) {
		snprintf(c->w[0], 96, "LIST.REMOVE");
		snprintf(c->w[1], 96, "（2025）闽0102执%u号", i);
		snprintf(c->w[2], 96, "RIC");
		snprintf(c->w[3], 96, "3501021980%08u", i);
		c->argc = 4;
	} else {
		snprintf(c->w[0], 96, "LIST.ADD");
		snprintf(c->w[1], 96, "case_no");
		snprintf(c->w[2], 96, "(2024)京0105执恢%u号", i);
		snprintf(c->w[3], 96, "court");
		snprintf(c->w[4], 96, "北京市朝阳区人民法院");
		snprintf(c->w[5], 96, "name");
		snprintf(c->w[6], 96, "张三%u", i);
		c->argc = 7;
		if (i % 7 == 0)      /* an empty word */
			c->w[6][0] = 0;
	}
	for (uint32_t k = 0; k < c->argc; k++) {
		c->argv[k] = c->w[k];
		c->lens[k] = strlen(c->w[k]);
	}
	if (i % 11 == 5) {          /* a word holding a NUL byte */
		c->w[1][3] = 0;
	}
	if (i % 4 == 1)
		snprintf(c->source, sizeof c->source, "17000000%05u-%u", i, i % 3);
	c->time_ms = 1700000000000LL + (int64_t)i * 1000;
}

static uint64_t append_cmd(sx_journal *j, unsigned i)
{
	tcmd c;
	uint64_t seq = 0;
	make_cmd(&c, i);
	int rc = sx_journal_append(j, c.time_ms, c.source, c.argc, c.argv,
	                           c.lens, &seq);
	cr_assert_eq(rc, 0, "append %u: %s", i, sx_strerror(rc));
	return seq;
}

/* Entry k of g is test command i with sequence seq, exactly. */
static void assert_entry(const got *g, size_t k, unsigned i, uint64_t seq)
{
	tcmd c;
	make_cmd(&c, i);
	cr_assert_lt(k, g->n);
	const got_entry *e = &g->e[k];
	cr_assert_eq(e->seq, seq, "entry %zu: seq %llu, want %llu", k,
	             (unsigned long long)e->seq, (unsigned long long)seq);
	cr_assert_eq(e->time_ms, c.time_ms, "entry %zu: time", k);
	cr_assert_str_eq(e->source, c.source, "entry %zu: source", k);
	cr_assert_eq(e->argc, c.argc, "entry %zu: argc", k);
	for (uint32_t w = 0; w < c.argc; w++) {
		cr_assert_eq(e->lens[w], c.lens[w], "entry %zu word %u: length",
		             k, w);
		cr_assert(!memcmp(e->argv[w], c.argv[w], c.lens[w]),
		          "entry %zu word %u: bytes differ", k, w);
	}
}

/* Commands 1..n replayed as seq 1..n. */
static void assert_prefix(const got *g, unsigned n)
{
	cr_assert_eq(g->n, n, "replayed %zu entries, want %u", g->n, n);
	for (unsigned k = 0; k < n; k++)
		assert_entry(g, k, k + 1, k + 1);
}

static off_t fsize(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "stat %s", path);
	return st.st_size;
}

/* A journal with commands 1..n, closed; returns the file size and fills
 * ends[k] with the end offset of entry k+1 (when ends is not NULL). */
static off_t make_journal(const char *path, unsigned n, off_t *ends)
{
	sx_journal *j = jopen(path, NULL, NULL);
	for (unsigned i = 1; i <= n; i++) {
		cr_assert_eq(append_cmd(j, i), i);
		if (ends)
			ends[i - 1] = fsize(path);
	}
	sx_journal_close(j);
	return fsize(path);
}

/* ---- round trip --------------------------------------------------------- */

Test(journal, round_trip_1000_chinese_entries_replays_in_order_exactly)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "j");
	sx_journal_report rep;
	got g = { 0 };

	sx_journal *j = jopen(path, &g, &rep);
	cr_assert_eq(g.n, 0);
	cr_assert_eq(rep.last_seq, 0);
	cr_assert_eq(sx_journal_last_seq(j), 0);
	for (unsigned i = 1; i <= 1000; i++)
		cr_assert_eq(append_cmd(j, i), i, "sequence numbers start at 1 "
		             "and go up by one");
	sx_journal_close(j);

	j = jopen(path, &g, &rep);
	assert_prefix(&g, 1000);
	cr_assert_eq(rep.entries, 1000);
	cr_assert_eq(rep.first_seq, 1);
	cr_assert_eq(rep.last_seq, 1000);
	cr_assert_eq(rep.torn_bytes, 0);
	cr_assert_eq(rep.bytes, (uint64_t)fsize(path));
	cr_assert_eq(sx_journal_last_seq(j), 1000);
	cr_assert_eq(append_cmd(j, 1001), 1001, "reopened journal continues");
	sx_journal_close(j);
	got_free(&g);

	/* The read-only scan sees the same. */
	cr_assert_eq(sx_journal_scan(path, 0, collect, &g, &rep, NULL, 0), 0);
	assert_prefix(&g, 1001);
	got_free(&g);
}

Test(journal, group_commit_assigns_consecutive_seqs_with_one_flush)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "j");
	sx_journal *j = jopen(path, NULL, NULL);
	append_cmd(j, 1);
	tcmd c[5];
	sx_journal_cmd cmds[5];
	uint64_t seqs[5];
	for (unsigned k = 0; k < 5; k++) {
		make_cmd(&c[k], k + 2);
		cmds[k] = (sx_journal_cmd){ c[k].time_ms, c[k].source, c[k].argc,
		                            c[k].argv, c[k].lens };
	}
	cr_assert_eq(sx_journal_append_batch(j, 5, cmds, seqs), 0);
	for (unsigned k = 0; k < 5; k++)
		cr_assert_eq(seqs[k], k + 2);
	sx_journal_stats st;
	sx_journal_get_stats(j, &st);
	cr_assert_eq(st.appends, 6);
	cr_assert_eq(st.commits, 2, "a batch is one commit");
	sx_journal_close(j);
	got g = { 0 };
	sx_journal_close(jopen(path, &g, NULL));
	assert_prefix(&g, 6);
	got_free(&g);
}

Test(journal, bad_appends_are_refused_without_writing)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "j");
	sx_journal *j = jopen(path, NULL, NULL);
	const char *argv[2] = { "LIST.REMOVE", NULL };
	char longsrc[SX_JOURNAL_MAX_SOURCE + 2];
	memset(longsrc, 'x', sizeof longsrc - 1);
	longsrc[sizeof longsrc - 1] = 0;
	cr_assert_eq(sx_journal_append(j, 1, NULL, 0, argv, NULL, NULL), SX_EINVAL);
	cr_assert_eq(sx_journal_append(j, 1, NULL, 2, argv, NULL, NULL), SX_EINVAL);
	cr_assert_eq(sx_journal_append(j, 1, longsrc, 1, argv, NULL, NULL),
	             SX_EINVAL);
	cr_assert_eq(fsize(path), 0);
	uint64_t seq;
	cr_assert_eq(sx_journal_append(j, SX_JOURNAL_NOW, "", 1, argv, NULL,
	                               &seq), 0);
	cr_assert_eq(seq, 1, "refused appends use no sequence number");
	sx_journal_close(j);
	got g = { 0 };
	sx_journal_close(jopen(path, &g, NULL));
	cr_assert_eq(g.n, 1);
	int64_t now = (int64_t)time(NULL) * 1000;
	cr_assert(g.e[0].time_ms > now - 60000 && g.e[0].time_ms <= now + 1000,
	          "SX_JOURNAL_NOW stamps the current time");
	got_free(&g);
}

Test(journal, second_opener_is_refused_while_locked)
{
	char path[PATH_MAX + 64], why[512] = "";
	tu_path(path, sizeof path, tu_dir, "j");
	sx_journal *j = jopen(path, NULL, NULL), *j2 = NULL;
	int rc = sx_journal_open(path, &j2, NULL, NULL, NULL, why, sizeof why);
	cr_assert_eq(rc, -EWOULDBLOCK, "got %d %s", rc, why);
	cr_assert_null(j2);
	cr_assert(strstr(why, "in use"), "%s", why);
	sx_journal_close(j);
	sx_journal_close(jopen(path, NULL, NULL));
}

/* ---- crashes and damage ------------------------------------------------- */

Test(journal, torn_tail_at_every_length_of_the_last_entry_is_cut)
{
	char path[PATH_MAX + 64], full[PATH_MAX + 64];
	off_t ends[5];
	tu_path(full, sizeof full, tu_dir, "full");
	tu_path(path, sizeof path, tu_dir, "j");
	off_t size = make_journal(full, 5, ends);
	size_t len;
	char *bytes = tu_read(full, &len);
	cr_assert_eq((off_t)len, size);
	off_t good = ends[3];           /* end of entry 4 */

	for (off_t cut = 1; cut < size - good; cut++) {
		tu_write(path, bytes, (size_t)(good + cut));
		sx_journal_report rep;
		got g = { 0 };
		sx_journal *j = jopen(path, &g, &rep);
		assert_prefix(&g, 4);
		cr_assert_eq(rep.torn_offset, (uint64_t)good, "cut %lld",
		             (long long)cut);
		cr_assert_eq(rep.torn_bytes, (uint64_t)cut);
		cr_assert_eq(fsize(path), good, "torn tail of %lld bytes not cut",
		             (long long)cut);
		cr_assert_eq(append_cmd(j, 5), 5);
		sx_journal_close(j);
		got_free(&g);
		sx_journal_close(jopen(path, &g, &rep));
		assert_prefix(&g, 5);
		cr_assert_eq(rep.torn_bytes, 0);
		got_free(&g);
	}

	/* The whole last entry there but failing its checksum, at each byte. */
	for (off_t at = good; at < size; at++) {
		bytes[at] ^= 0x20;
		tu_write(path, bytes, (size_t)size);
		bytes[at] ^= 0x20;
		sx_journal_report rep;
		got g = { 0 };
		sx_journal_close(jopen(path, &g, &rep));
		assert_prefix(&g, 4);
		cr_assert_eq(rep.torn_offset, (uint64_t)good);
		cr_assert_eq(fsize(path), good, "flip at %lld", (long long)at);
		got_free(&g);
	}

	/* A tail of zeros (size extended before the data reached the disk). */
	char *z = calloc(1, (size_t)size + 100);
	memcpy(z, bytes, (size_t)good);
	tu_write(path, z, (size_t)good + 100);
	sx_journal_report rep;
	got g = { 0 };
	sx_journal_close(jopen(path, &g, &rep));
	assert_prefix(&g, 4);
	cr_assert_eq(rep.torn_bytes, 100);
	got_free(&g);
	free(z);
	free(bytes);
}

Test(journal, torn_first_entry_leaves_an_empty_journal)
{
	char path[PATH_MAX + 64], full[PATH_MAX + 64];
	tu_path(full, sizeof full, tu_dir, "full");
	tu_path(path, sizeof path, tu_dir, "j");
	off_t size = make_journal(full, 1, NULL);
	char *bytes = tu_read(full, NULL);
	for (off_t cut = 1; cut < size; cut++) {
		tu_write(path, bytes, (size_t)cut);
		sx_journal_report rep;
		sx_journal *j = jopen(path, NULL, &rep);
		cr_assert_eq(rep.torn_bytes, (uint64_t)cut);
		cr_assert_eq(fsize(path), 0);
		cr_assert_eq(append_cmd(j, 1), 1);
		sx_journal_close(j);
	}
	free(bytes);
}

Test(journal, scan_reports_a_torn_tail_but_never_cuts_it)
{
	char path[PATH_MAX + 64];
	off_t ends[3];
	tu_path(path, sizeof path, tu_dir, "j");
	off_t size = make_journal(path, 3, ends);
	cr_assert_eq(truncate(path, size - 3), 0);
	sx_journal_report rep;
	got g = { 0 };
	cr_assert_eq(sx_journal_scan(path, 0, collect, &g, &rep, NULL, 0), 0);
	assert_prefix(&g, 2);
	cr_assert_eq(rep.torn_offset, (uint64_t)ends[1]);
	cr_assert_eq(rep.torn_bytes, (uint64_t)(size - 3 - ends[1]));
	cr_assert_eq(fsize(path), size - 3, "scan must not modify the file");
	got_free(&g);
	char why[256] = "";
	cr_assert_eq(sx_journal_scan("/nonexistent/j", 0, collect, &g, &rep, why,
	                             sizeof why), -ENOENT);
	cr_assert(strstr(why, "/nonexistent/j"), "%s", why);
}

Test(journal, damaged_middle_entry_refuses_the_file_untouched)
{
	char path[PATH_MAX + 64], full[PATH_MAX + 64];
	off_t ends[5];
	tu_path(full, sizeof full, tu_dir, "full");
	tu_path(path, sizeof path, tu_dir, "j");
	off_t size = make_journal(full, 5, ends);
	char *bytes = tu_read(full, NULL);

	/* Every byte of entry 3: magic, length, checksum and payload. */
	for (off_t at = ends[1]; at < ends[2]; at++) {
		bytes[at] ^= 0x01;
		tu_write(path, bytes, (size_t)size);
		sx_journal *j = NULL;
		char why[512] = "";
		int rc = sx_journal_open(path, &j, never_called, NULL, NULL, why,
		                         sizeof why);
		cr_assert_eq(rc, SX_ECORRUPT, "flip at %lld: rc %d (%s)",
		             (long long)at, rc, why);
		cr_assert_null(j);
		char want[64];
		snprintf(want, sizeof want, "offset %lld", (long long)ends[1]);
		cr_assert(strstr(why, want), "message must give the offset (%s): %s",
		          want, why);
		cr_assert(strstr(why, "seq 2"), "message must name the entry "
		          "before (seq 2): %s", why);
		cr_assert(strstr(why, path), "message must name the file: %s", why);
		size_t n;
		char *now = tu_read(path, &n);
		cr_assert_eq(n, (size_t)size, "file size changed");
		cr_assert(!memcmp(now, bytes, n), "file bytes changed");
		free(now);
		bytes[at] ^= 0x01;
	}
	free(bytes);
}

Test(journal, damaged_first_entry_with_valid_ones_after_is_refused)
{
	char path[PATH_MAX + 64];
	off_t ends[3];
	tu_path(path, sizeof path, tu_dir, "j");
	off_t size = make_journal(path, 3, ends);
	char *bytes = tu_read(path, NULL);
	bytes[20] ^= 0x40;
	tu_write(path, bytes, (size_t)size);
	char why[512] = "";
	sx_journal *j = NULL;
	cr_assert_eq(sx_journal_open(path, &j, never_called, NULL, NULL, why,
	                             sizeof why), SX_ECORRUPT, "%s", why);
	cr_assert(strstr(why, "offset 0"), "%s", why);
	cr_assert_eq(fsize(path), size);
	free(bytes);
}

Test(journal, a_foreign_file_is_refused_not_truncated)
{
	char path[PATH_MAX + 64], why[512] = "";
	tu_path(path, sizeof path, tu_dir, "not-a-journal.csv");
	tu_write_str(path, "case_no,court,list\n");
	sx_journal *j = NULL;
	cr_assert_eq(sx_journal_open(path, &j, never_called, NULL, NULL, why,
	                             sizeof why), SX_EBADMAGIC, "%s", why);
	cr_assert_eq(fsize(path), 19, "a foreign file must not be cut");
}

/* Build a file from frames of a 3-entry journal in the given order. */
static void reorder(const char *src, const char *dst, const int *order, int n)
{
	off_t ends[3];
	make_journal(src, 3, ends);
	char *b = tu_read(src, NULL);
	off_t starts[3] = { 0, ends[0], ends[1] };
	FILE *f = fopen(dst, "wb");
	cr_assert_not_null(f);
	for (int k = 0; k < n; k++) {
		int e = order[k];
		fwrite(b + starts[e], 1, (size_t)(ends[e] - starts[e]), f);
	}
	fclose(f);
	free(b);
}

Test(journal, non_increasing_sequence_numbers_are_refused)
{
	static const int dup[] = { 0, 1, 1 }, back[] = { 0, 2, 1 },
	                 again[] = { 0, 0 };
	const int *orders[] = { dup, back, again };
	const int lens[] = { 3, 3, 2 };
	for (int t = 0; t < 3; t++) {
		char src[PATH_MAX + 64], path[PATH_MAX + 64], why[512] = "";
		snprintf(src, sizeof src, "%s/src%d", tu_dir, t);
		snprintf(path, sizeof path, "%s/j%d", tu_dir, t);
		reorder(src, path, orders[t], lens[t]);
		off_t size = fsize(path);
		sx_journal *j = NULL;
		int rc = sx_journal_open(path, &j, never_called, NULL, NULL, why,
		                         sizeof why);
		cr_assert_eq(rc, SX_ECORRUPT, "case %d: rc %d %s", t, rc, why);
		cr_assert(strstr(why, "sequence number"), "%s", why);
		cr_assert_eq(fsize(path), size);
		got g = { 0 };
		cr_assert_eq(sx_journal_scan(path, 0, collect, &g, NULL, NULL, 0),
		             SX_ECORRUPT);
		cr_assert_eq(g.n, 0, "scan delivers nothing from a refused file");
	}
	/* Gaps are fine: 1, 3 (compaction never renumbers, but a gap is no
	 * reason to refuse). */
	static const int gap[] = { 0, 2 };
	char src[PATH_MAX + 64], path[PATH_MAX + 64];
	tu_path(src, sizeof src, tu_dir, "srcg");
	tu_path(path, sizeof path, tu_dir, "jg");
	reorder(src, path, gap, 2);
	got g = { 0 };
	sx_journal *j = jopen(path, &g, NULL);
	cr_assert_eq(g.n, 2);
	cr_assert_eq(g.e[1].seq, 3);
	cr_assert_eq(append_cmd(j, 4), 4);
	sx_journal_close(j);
	got_free(&g);
}

/* ---- failing disks ------------------------------------------------------ */

/* Append command 4 to a 3-entry journal under fault plan f: it must fail
 * with want_rc, the file must replay exactly 1..3, and with the fault
 * cleared the next append must get seq 4.  wio_clear_after: clear the plan
 * before the reopen check (a plan that also breaks the undo). */
static void fault_case(const sx_wio_fault *f, int want_rc, int broken_undo)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "j");
	unlink(path);
	off_t good = make_journal(path, 3, NULL);
	sx_journal *j = jopen(path, NULL, NULL);

	sx_wio_inject(f);
	tcmd c;
	make_cmd(&c, 4);
	uint64_t seq = 0;
	int rc = sx_journal_append(j, c.time_ms, c.source, c.argc, c.argv,
	                           c.lens, &seq);
	unsigned fired = sx_wio_faults_fired();
	sx_wio_inject(NULL);
	cr_assert_eq(rc, want_rc, "append under fault: got %d (%s), want %d",
	             rc, sx_strerror(rc), want_rc);
	cr_assert_gt(fired, 0, "the fault never fired: the test proves nothing");
	cr_assert_eq(seq, 0, "no sequence number for a failed append");
	sx_journal_stats st;
	sx_journal_get_stats(j, &st);
	cr_assert_eq(st.failed, 1);
	cr_assert_eq(st.errors, 1);
	cr_assert_eq(st.last_seq, 3);
	if (!broken_undo)
		cr_assert_eq(fsize(path), good, "the failed entry was not "
		             "truncated away");

	/* What a crash right now would replay: exactly 1..3. */
	got g = { 0 };
	sx_journal_report rep;
	cr_assert_eq(sx_journal_scan(path, 0, collect, &g, &rep, NULL, 0), 0);
	assert_prefix(&g, 3);
	got_free(&g);

	/* The disk is back: the next append re-checks and succeeds, seq 4. */
	cr_assert_eq(append_cmd(j, 4), 4);
	sx_journal_get_stats(j, &st);
	cr_assert_eq(st.failed, 0);
	sx_journal_close(j);
	sx_journal_close(jopen(path, &g, &rep));
	assert_prefix(&g, 4);
	cr_assert_eq(rep.torn_bytes, 0);
	got_free(&g);
}

Test(journal, enospc_on_write_fails_the_append_and_keeps_acknowledged)
{
	sx_wio_fault f = { .write_nth = 1, .write_errno = ENOSPC };
	fault_case(&f, -ENOSPC, 0);
}

Test(journal, short_write_then_enospc_fails_the_append_and_is_undone)
{
	for (size_t k = 1; k < 40; k += 7) {
		sx_wio_fault f = { .write_nth = 1, .write_short = k,
		                   .write_times = 2, .write_errno = ENOSPC };
		fault_case(&f, -ENOSPC, 0);
	}
}

Test(journal, a_short_write_alone_is_completed_not_an_error)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "j");
	make_journal(path, 3, NULL);
	sx_journal *j = jopen(path, NULL, NULL);
	sx_wio_fault f = { .write_nth = 1, .write_short = 5 };
	sx_wio_inject(&f);
	uint64_t seq = append_cmd(j, 4);
	cr_assert_eq(sx_wio_faults_fired(), 1);
	sx_wio_inject(NULL);
	cr_assert_eq(seq, 4);
	sx_journal_close(j);
	got g = { 0 };
	sx_journal_close(jopen(path, &g, NULL));
	assert_prefix(&g, 4);
	got_free(&g);
}

Test(journal, eio_on_fdatasync_fails_the_append_and_keeps_acknowledged)
{
	sx_wio_fault f = { .fsync_nth = 1, .fsync_errno = EIO };
	fault_case(&f, -EIO, 0);
}

Test(journal, failed_undo_leaves_a_torn_tail_that_recheck_and_reopen_cut)
{
	/* Short write, disk full, and the truncate back fails too: the file
	 * holds half a frame.  The next append must cut it first. */
	sx_wio_fault f = { .write_nth = 1, .write_short = 9, .write_times = 2,
	                   .write_errno = ENOSPC, .ftruncate_nth = 1,
	                   .ftruncate_times = SX_WIO_ALWAYS };
	fault_case(&f, -ENOSPC, 1);
}

Test(journal, append_keeps_failing_while_the_recheck_fails)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "j");
	off_t good = make_journal(path, 2, NULL);
	sx_journal *j = jopen(path, NULL, NULL);
	sx_wio_fault f = { .write_nth = 1, .write_short = 9, .write_times = 2,
	                   .write_errno = ENOSPC, .ftruncate_nth = 1,
	                   .ftruncate_times = SX_WIO_ALWAYS };
	sx_wio_inject(&f);
	tcmd c;
	make_cmd(&c, 3);
	cr_assert_eq(sx_journal_append(j, c.time_ms, NULL, c.argc, c.argv,
	                               c.lens, NULL), -ENOSPC);
	cr_assert_eq(fsize(path), good + 9, "half a frame left behind");
	/* Writes work again, truncate still does not: refuse, write nothing. */
	cr_assert_eq(sx_journal_append(j, c.time_ms, NULL, c.argc, c.argv,
	                               c.lens, NULL), -EIO);
	cr_assert_eq(fsize(path), good + 9, "an append after the junk would "
	             "corrupt the middle of the journal");
	sx_wio_inject(NULL);
	cr_assert_eq(append_cmd(j, 3), 3);
	sx_journal_close(j);
	got g = { 0 };
	sx_journal_close(jopen(path, &g, NULL));
	assert_prefix(&g, 3);
	got_free(&g);
}

Test(journal, failed_batch_counts_none_of_its_entries)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "j");
	make_journal(path, 1, NULL);
	sx_journal *j = jopen(path, NULL, NULL);
	tcmd c[3];
	sx_journal_cmd cmds[3];
	for (unsigned k = 0; k < 3; k++) {
		make_cmd(&c[k], k + 2);
		cmds[k] = (sx_journal_cmd){ c[k].time_ms, c[k].source, c[k].argc,
		                            c[k].argv, c[k].lens };
	}
	sx_wio_fault f = { .write_nth = 1, .write_short = 200, .write_times = 2,
	                   .write_errno = EIO };
	sx_wio_inject(&f);
	cr_assert_eq(sx_journal_append_batch(j, 3, cmds, NULL), -EIO);
	sx_wio_inject(NULL);
	uint64_t seqs[3];
	cr_assert_eq(sx_journal_append_batch(j, 3, cmds, seqs), 0);
	cr_assert_eq(seqs[0], 2);
	sx_journal_close(j);
	got g = { 0 };
	sx_journal_close(jopen(path, &g, NULL));
	assert_prefix(&g, 4);
	got_free(&g);
}

/* ---- compaction --------------------------------------------------------- */

Test(journal, compaction_keeps_entries_at_or_after_the_time_with_their_seqs)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 80];
	tu_path(path, sizeof path, tu_dir, "j");
	off_t before = make_journal(path, 100, NULL);
	sx_journal *j = jopen(path, NULL, NULL);
	tcmd c40;
	make_cmd(&c40, 40);
	sx_journal_compact_report cr;
	char why[512] = "";
	cr_assert_eq(sx_journal_compact(j, c40.time_ms, &cr, why, sizeof why), 0,
	             "%s", why);
	cr_assert_eq(cr.dropped, 39);
	cr_assert_eq(cr.kept, 61);
	cr_assert_eq(cr.bytes_before, (uint64_t)before);
	cr_assert_eq(cr.bytes_after, (uint64_t)fsize(path));
	cr_assert_lt(cr.bytes_after, cr.bytes_before);
	snprintf(tmp, sizeof tmp, "%s.compact.tmp", path);
	cr_assert(!tu_exists(tmp), "temporary file left behind");
	cr_assert_eq(sx_journal_last_seq(j), 100);
	cr_assert_eq(append_cmd(j, 101), 101, "appends go on after compaction");
	sx_journal_close(j);

	got g = { 0 };
	sx_journal_report rep;
	j = jopen(path, &g, &rep);
	cr_assert_eq(g.n, 62);
	for (unsigned k = 0; k < 62; k++)
		assert_entry(&g, k, 40 + k, 40 + k);
	cr_assert_eq(rep.first_seq, 40);
	cr_assert_eq(rep.last_seq, 101);
	cr_assert_eq(rep.checkpoints, 1);
	cr_assert_eq(append_cmd(j, 102), 102, "reopened journal continues");
	sx_journal_close(j);
	got_free(&g);

	/* Nothing older than the time: no rewrite. */
	j = jopen(path, NULL, NULL);
	off_t sz = fsize(path);
	cr_assert_eq(sx_journal_compact(j, c40.time_ms, &cr, why, sizeof why), 0);
	cr_assert_eq(cr.dropped, 0);
	cr_assert_eq(fsize(path), sz);
	sx_journal_close(j);
}

Test(journal, compacting_everything_away_keeps_the_sequence_and_source)
{
	char path[PATH_MAX + 64], src[64], want[64];
	tu_path(path, sizeof path, tu_dir, "j");
	make_journal(path, 10, NULL);
	sx_journal *j = jopen(path, NULL, NULL);
	sx_journal_last_source(j, want, sizeof want);
	cr_assert_str_eq(want, "1700000000009-0", "test command 9 has the "
	                 "last source tag");
	cr_assert_eq(sx_journal_compact(j, INT64_MAX, NULL, NULL, 0), 0);
	sx_journal_close(j);

	got g = { 0 };
	sx_journal_report rep;
	j = jopen(path, &g, &rep);
	cr_assert_eq(g.n, 0, "checkpoints are not replayed");
	cr_assert_eq(rep.last_seq, 10);
	cr_assert_eq(sx_journal_last_seq(j), 10);
	cr_assert_eq(sx_journal_last_source(j, src, sizeof src), strlen(want));
	cr_assert_str_eq(src, want);
	cr_assert_eq(append_cmd(j, 11), 11);
	sx_journal_close(j);
	got_free(&g);

	/* The scan shows the checkpoint when asked. */
	cr_assert_eq(sx_journal_scan(path, SX_JOURNAL_SCAN_CHECKPOINTS, collect,
	                             &g, NULL, NULL, 0), 0);
	cr_assert_eq(g.n, 2);
	cr_assert_eq(g.e[0].checkpoint, 1);
	cr_assert_eq(g.e[0].seq, 10);
	cr_assert_str_eq(g.e[0].source, want);
	cr_assert_eq(g.e[1].seq, 11);
	got_free(&g);
}

Test(journal, last_source_tag_survives_reopen_and_compaction)
{
	char path[PATH_MAX + 64], src[64];
	tu_path(path, sizeof path, tu_dir, "j");
	sx_journal *j = jopen(path, NULL, NULL);
	const char *w[2] = { "PERMIT.REMOVE", "P-1" };
	cr_assert_eq(sx_journal_last_source(j, src, sizeof src), 0);
	cr_assert_str_eq(src, "");
	cr_assert_eq(sx_journal_append(j, 1000, "1700000000000-0", 2, w, NULL,
	                               NULL), 0);
	cr_assert_eq(sx_journal_append(j, 2000, "1700000000500-3", 2, w, NULL,
	                               NULL), 0);
	/* A local command (no tag) does not erase the stream position. */
	cr_assert_eq(sx_journal_append(j, 3000, NULL, 2, w, NULL, NULL), 0);
	sx_journal_last_source(j, src, sizeof src);
	cr_assert_str_eq(src, "1700000000500-3");
	sx_journal_close(j);

	j = jopen(path, NULL, NULL);
	sx_journal_last_source(j, src, sizeof src);
	cr_assert_str_eq(src, "1700000000500-3", "after reopen");
	/* Drop both tagged entries, keep the local one. */
	cr_assert_eq(sx_journal_compact(j, 2500, NULL, NULL, 0), 0);
	sx_journal_last_source(j, src, sizeof src);
	cr_assert_str_eq(src, "1700000000500-3", "after compaction");
	sx_journal_close(j);
	j = jopen(path, NULL, NULL);
	sx_journal_last_source(j, src, sizeof src);
	cr_assert_str_eq(src, "1700000000500-3", "after compaction and reopen");
	cr_assert_eq(sx_journal_last_seq(j), 3);
	/* Truncated copy: full length returned. */
	char small[5];
	cr_assert_eq(sx_journal_last_source(j, small, sizeof small), 15);
	cr_assert_str_eq(small, "1700");
	sx_journal_close(j);
}

Test(journal, failed_compaction_leaves_the_journal_as_it_was)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 80], why[512] = "";
	tu_path(path, sizeof path, tu_dir, "j");
	make_journal(path, 20, NULL);
	size_t n0;
	char *before = tu_read(path, &n0);
	sx_journal *j = jopen(path, NULL, NULL);
	sx_wio_fault f = { .fsync_nth = 1, .fsync_errno = EIO };
	sx_wio_inject(&f);
	int rc = sx_journal_compact(j, 1700000000000LL + 10000, NULL, why,
	                            sizeof why);
	sx_wio_inject(NULL);
	cr_assert_eq(rc, -EIO, "%d %s", rc, why);
	cr_assert(strstr(why, path), "%s", why);
	snprintf(tmp, sizeof tmp, "%s.compact.tmp", path);
	cr_assert(!tu_exists(tmp), "temporary file left behind");
	size_t n1;
	char *after = tu_read(path, &n1);
	cr_assert_eq(n1, n0);
	cr_assert(!memcmp(before, after, n0));
	cr_assert_eq(append_cmd(j, 21), 21);
	sx_journal_close(j);
	got g = { 0 };
	sx_journal_close(jopen(path, &g, NULL));
	assert_prefix(&g, 21);
	got_free(&g);
	free(before);
	free(after);
}

/* ---- threads ------------------------------------------------------------ */

typedef struct th_arg {
	sx_journal *j;
	unsigned id;
	uint64_t seqs[100];
} th_arg;

static void *appender(void *p)
{
	th_arg *a = p;
	for (unsigned k = 0; k < 100; k++) {
		char word[32];
		snprintf(word, sizeof word, "t%u-%u", a->id, k);
		const char *argv[2] = { "PERMIT.REMOVE", word };
		int rc = sx_journal_append(a->j, 1, NULL, 2, argv, NULL, &a->seqs[k]);
		if (rc)
			a->seqs[k] = 0;
	}
	return NULL;
}

static int check_threaded(void *arg, const sx_journal_entry *e)
{
	uint64_t *next = arg;
	cr_assert_eq(e->seq, *next, "replay out of order");
	(*next)++;
	cr_assert_eq(e->argc, 2);
	return 0;
}

Test(journal, concurrent_appenders_get_unique_seqs_and_all_entries_land)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "j");
	sx_journal *j = jopen(path, NULL, NULL);
	pthread_t t[8];
	th_arg *a = calloc(8, sizeof *a);
	for (unsigned i = 0; i < 8; i++) {
		a[i].j = j;
		a[i].id = i;
		pthread_create(&t[i], NULL, appender, &a[i]);
	}
	for (unsigned i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	char *seen = calloc(801, 1);
	for (unsigned i = 0; i < 8; i++)
		for (unsigned k = 0; k < 100; k++) {
			uint64_t s = a[i].seqs[k];
			cr_assert(s >= 1 && s <= 800, "bad seq %llu",
			          (unsigned long long)s);
			cr_assert(!seen[s], "seq %llu given twice",
			          (unsigned long long)s);
			seen[s] = 1;
			if (k)
				cr_assert_gt(s, a[i].seqs[k - 1]);
		}
	sx_journal_close(j);
	uint64_t next = 1;
	sx_journal_close(jopen(path, NULL, NULL));
	cr_assert_eq(sx_journal_scan(path, 0, check_threaded, &next, NULL, NULL,
	                             0), 0);
	cr_assert_eq(next, 801);
	free(seen);
	free(a);
}

static int stop_at_3(void *arg, const sx_journal_entry *e)
{
	(void)arg;
	return e->seq == 3 ? 42 : 0;
}

Test(journal, a_failing_replay_callback_fails_open_and_leaves_the_file)
{
	char path[PATH_MAX + 64], why[512] = "";
	tu_path(path, sizeof path, tu_dir, "j");
	off_t size = make_journal(path, 5, NULL);
	cr_assert_eq(truncate(path, size - 1), 0);   /* a torn tail too */
	sx_journal *j = NULL;
	cr_assert_eq(sx_journal_open(path, &j, stop_at_3, NULL, NULL, why,
	                             sizeof why), 42);
	cr_assert_null(j);
	cr_assert(strstr(why, "seq 3"), "%s", why);
	cr_assert_eq(fsize(path), size - 1, "nothing cut when open fails");
}
