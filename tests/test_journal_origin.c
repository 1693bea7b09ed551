/*
 * test_journal_origin.c - journal format 2: who and where of each entry,
 * and the journals of format 1 still replay unchanged.
 *
 * What is proved: an entry appended with an origin (who, where) comes back
 * with it, byte for byte, through open, scan, compaction and a reopen, and
 * `sxgate journal dump` prints it; an entry appended without one is
 * written in format 1 exactly as before (the bytes of docs/JOURNAL.md's
 * example) and comes back with who and where NULL; an origin over the
 * limit is cut, not refused; an origin whose length runs past the payload
 * is corruption, and a flag this version does not know is SX_EVERSION.
 *
 * The fixture tests/data/journal-v1.sxj was written by sxgated before this
 * format existed (tests/data/README): it scans and replays with every
 * entry, sequence number, time and source tag as it was written, dumps
 * with `-` for who and where, and an entry of format 2 appended to it
 * leaves the old bytes untouched and reads back beside them.
 */
#include "testutil.h"
#include "journal.h"

#include <sys/wait.h>
#include <xxhash.h>

TestSuite(journal_origin, .init = tu_setup, .fini = tu_teardown);

/* ---- helpers ------------------------------------------------------------ */

typedef struct ent {
	uint64_t seq;
	int64_t time_ms;
	int checkpoint;
	char source[64];
	int has_origin;
	char who[300], where[300];
	char words[512];           /* the words joined by ' ' */
} ent;

typedef struct ents {
	ent e[64];
	size_t n;
} ents;

static int collect(void *arg, const sx_journal_entry *e)
{
	ents *g = arg;
	cr_assert_lt(g->n, SX_ARRAY_LEN(g->e));
	ent *o = &g->e[g->n++];
	memset(o, 0, sizeof *o);
	o->seq = e->seq;
	o->time_ms = e->time_ms;
	o->checkpoint = e->checkpoint;
	snprintf(o->source, sizeof o->source, "%s", e->source);
	cr_assert_eq((e->who == NULL), (e->where == NULL), "who and where come together");
	if (e->who) {
		o->has_origin = 1;
		cr_assert_eq(strlen(e->who), e->who_len);
		cr_assert_eq(strlen(e->where), e->where_len);
		snprintf(o->who, sizeof o->who, "%s", e->who);
		snprintf(o->where, sizeof o->where, "%s", e->where);
	} else {
		cr_assert_eq(e->who_len + e->where_len, 0);
	}
	size_t n = 0;
	for (uint32_t i = 0; i < e->argc; i++)
		n += (size_t)snprintf(o->words + n, sizeof o->words - n, "%s%s",
		                      i ? " " : "", e->argv[i]);
	return 0;
}

static const char *fixture(char *buf, size_t cap)
{
	const char *root = tu_repo_root();
	cr_assert_not_null(root);
	snprintf(buf, cap, "%s/tests/data/journal-v1.sxj", root);
	cr_assert(tu_exists(buf), "the fixture %s is missing", buf);
	return buf;
}

/* Copy the fixture into the scratch directory (open may cut, append). */
static const char *fixture_copy(char *buf, size_t cap, size_t *len)
{
	char src[PATH_MAX];
	size_t n;
	char *data = tu_read(fixture(src, sizeof src), &n);
	cr_assert_not_null(data);
	tu_path(buf, cap, tu_dir, "journal");
	tu_write(buf, data, n);
	free(data);
	if (len)
		*len = n;
	return buf;
}

/* `sxgate journal dump path` (stdout; stderr into it too). */
static char *dump(const char *path, int *status)
{
	char exe[PATH_MAX];
	tu_bin("sxgate", exe, sizeof exe);
	return tu_run(status, "'%s' journal dump '%s' 2>&1", exe, path);
}

static const char *const W_REMOVE[] = { "LIST.REMOVE", "（2025）闽0102执1号", "RIC",
                                        "350102198001010011" };

/* ---- format 1: the fixture written by an older sxgated ------------------- */

/* What sxgated wrote at commit 455fd32 (tests/data/README), entry by entry. */
static void expect_fixture(const ents *g)
{
	static const struct { uint64_t seq; int64_t t; int ck; const char *src;
	                      const char *words; } want[] = {
		{ 2, 1796555745597LL, 0, "1796555745597-0",
		  "LIST.SUSPEND （2023）闽05执1001号 RIC 350304197806263293" },
		{ 3, 1796555754682LL, 0, "", "LIST.ADD case_no （2026）闽0102执77号 court "
		  "福州市鼓楼区人民法院 list SX role debtor id_type RIC id_no "
		  "11010519491231002X name 测试 某 status active listed_on 2026-01-02" },
		{ 4, 1796555754696LL, 0, "", "PERMIT.ADD RIC 350304197806263293 "
		  "（2023）闽05执1001号 AIR 2026-01-01 2026-12-31 fixture-permit-1" },
		{ 5, 1796555754709LL, 0, "", "PERMIT.REMOVE fixture-permit-1" },
		{ 5, 1609430400000LL, 1, "1796555745597-0", "" },
		{ 6, 1796555754749LL, 0, "", "LIST.RESUME （2023）闽05执1001号 RIC "
		  "350304197806263293" },
		{ 7, 1796555754760LL, 0, "", "LIST.REMOVE （2026）闽0102执77号 RIC "
		  "11010519491231002X" },
		{ 8, 1796555766444LL, 0, "", "LIST.SUSPEND （2020）闽0302执1003号 RIC "
		  "310104199609222493" },
		{ 9, 1796555766450LL, 0, "", "LIST.ADD case_no （2026）闽0102执78号 court "
		  "福州市鼓楼区人民法院 list XG role debtor id_type RIC id_no "
		  "11010519491231002X name 测试 status active listed_on 2026-01-02 "
		  "restrictions AIR;RAIL" },
	};
	cr_assert_eq(g->n, SX_ARRAY_LEN(want), "%zu entries", g->n);
	for (size_t i = 0; i < g->n; i++) {
		const ent *e = &g->e[i];
		cr_assert_eq(e->seq, want[i].seq, "entry %zu", i);
		cr_assert_eq(e->time_ms, want[i].t, "entry %zu: time %lld", i,
		             (long long)e->time_ms);
		cr_assert_eq(e->checkpoint, want[i].ck, "entry %zu", i);
		cr_assert_str_eq(e->source, want[i].src, "entry %zu", i);
		cr_assert_str_eq(e->words, want[i].words, "entry %zu", i);
		cr_assert_eq(e->has_origin, 0, "entry %zu of format 1 has an origin", i);
	}
}

Test(journal_origin, format1_fixture_scans_as_written)
{
	char path[PATH_MAX + 64], why[512] = "";
	ents g = { 0 };
	sx_journal_report rep;
	int rc = sx_journal_scan(fixture(path, sizeof path), SX_JOURNAL_SCAN_CHECKPOINTS,
	                         collect, &g, &rep, why, sizeof why);
	cr_assert_eq(rc, 0, "%s", why);
	expect_fixture(&g);
	cr_assert_eq(rep.entries, 8);
	cr_assert_eq(rep.checkpoints, 1);
	cr_assert_eq(rep.last_seq, 9);
	cr_assert_eq(rep.torn_bytes, 0);
}

Test(journal_origin, format1_fixture_opens_and_takes_format2_after_it)
{
	char path[PATH_MAX + 64], why[512] = "";
	size_t len;
	fixture_copy(path, sizeof path, &len);
	size_t n0;
	char *before = tu_read(path, &n0);

	ents g = { 0 };
	sx_journal *j = NULL;
	sx_journal_report rep;
	cr_assert_eq(sx_journal_open(path, &j, collect, &g, &rep, why, sizeof why), 0,
	             "%s", why);
	cr_assert_eq(g.n, 8, "replay gives commands only");
	cr_assert_eq(sx_journal_last_seq(j), 9);
	char src[64];
	sx_journal_last_source(j, src, sizeof src);
	cr_assert_str_eq(src, "1796555745597-0", "the stream position survives");

	sx_journal_cmd c = { 1796600000000LL, NULL, 4, W_REMOVE, NULL, "ops",
	                     "127.0.0.1:41234" };
	uint64_t seq;
	cr_assert_eq(sx_journal_append_batch(j, 1, &c, &seq), 0);
	cr_assert_eq(seq, 10);
	sx_journal_close(j);

	size_t n1;
	char *after = tu_read(path, &n1);
	cr_assert_gt(n1, n0);
	cr_assert(!memcmp(before, after, n0), "the format-1 entries were rewritten");
	free(before);
	free(after);

	memset(&g, 0, sizeof g);
	cr_assert_eq(sx_journal_scan(path, SX_JOURNAL_SCAN_CHECKPOINTS, collect, &g, NULL,
	                             why, sizeof why), 0, "%s", why);
	cr_assert_eq(g.n, 10);
	ents old = g;
	old.n = 9;
	expect_fixture(&old);
	const ent *e = &g.e[9];
	cr_assert_eq(e->seq, 10);
	cr_assert(e->has_origin);
	cr_assert_str_eq(e->who, "ops");
	cr_assert_str_eq(e->where, "127.0.0.1:41234");
	cr_assert_str_eq(e->words, "LIST.REMOVE （2025）闽0102执1号 RIC 350102198001010011");
}

Test(journal_origin, dump_shows_who_and_where_and_dashes_for_format1)
{
	char path[PATH_MAX + 64], why[512] = "";
	fixture_copy(path, sizeof path, NULL);
	int st;
	char *out = dump(path, &st);
	cr_assert_eq(st, 0, "%s", out);
	/* every format-1 line: seq, time, source, -, -, command */
	cr_assert(strstr(out, "2\t2026-12-06T19:15:45.597+08:00\t1796555745597-0\t-\t-\t"
	                      "LIST.SUSPEND （2023）闽05执1001号 RIC 350304197806263293\n"),
	          "%s", out);
	cr_assert(strstr(out, "3\t2026-12-06T19:15:54.682+08:00\t-\t-\t-\tLIST.ADD case_no "
	                      "（2026）闽0102执77号 "), "%s", out);
	cr_assert(strstr(out, "5\t2021-01-01T00:00:00.000+08:00\t1796555745597-0\t-\t-\t"
	                      "(checkpoint: "), "%s", out);
	cr_assert(strstr(out, "\t-\t-\tLIST.ADD case_no （2026）闽0102执78号 "), "%s", out);
	int lines = 0;
	for (const char *p = out; (p = strchr(p, '\n')); p++)
		lines++;
	cr_assert_eq(lines, 9, "%s", out);
	free(out);

	/* a format-2 entry after them: who and where, and a hostile who
	 * quoted, never a second line or a shifted column */
	sx_journal *j = NULL;
	cr_assert_eq(sx_journal_open(path, &j, NULL, NULL, NULL, why, sizeof why), 0, "%s",
	             why);
	sx_journal_cmd c[2] = {
		{ 1796600000000LL, NULL, 4, W_REMOVE, NULL, "ops", "127.0.0.1:41234" },
		{ 1796600000001LL, "1796600000001-0", 4, W_REMOVE, NULL, "a\tb\nc d",
		  "stream:1796600000001-0" },
	};
	cr_assert_eq(sx_journal_append_batch(j, 2, c, NULL), 0);
	sx_journal_close(j);
	out = dump(path, &st);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, "10\t2026-12-07T07:33:20.000+08:00\t-\tops\t127.0.0.1:41234\t"
	                      "LIST.REMOVE （2025）闽0102执1号 RIC 350102198001010011\n"),
	          "%s", out);
	cr_assert(strstr(out, "11\t2026-12-07T07:33:20.001+08:00\t1796600000001-0\t"
	                      "\"a\\x09b\\nc d\"\tstream:1796600000001-0\tLIST.REMOVE "),
	          "%s", out);
	lines = 0;
	for (const char *p = out; (p = strchr(p, '\n')); p++)
		lines++;
	cr_assert_eq(lines, 11, "%s", out);
	free(out);
}

/* ---- format 2 ----------------------------------------------------------- */

Test(journal_origin, origin_round_trips_through_reopen_and_compaction)
{
	char path[PATH_MAX + 64], why[512] = "";
	tu_path(path, sizeof path, tu_dir, "j");
	sx_journal *j = NULL;
	cr_assert_eq(sx_journal_open(path, &j, NULL, NULL, NULL, why, sizeof why), 0);
	char longwho[400];
	memset(longwho, 'w', sizeof longwho - 1);
	longwho[sizeof longwho - 1] = 0;
	sx_journal_cmd c[4] = {
		{ 1000, NULL, 4, W_REMOVE, NULL, "ops", "[2001:db8::1]:5000" },
		{ 2000, "1700000000000-0", 4, W_REMOVE, NULL, "publisher 7",
		  "stream:1700000000000-0" },
		{ 3000, NULL, 4, W_REMOVE, NULL, NULL, NULL },          /* format 1 */
		{ 4000, NULL, 4, W_REMOVE, NULL, longwho, "" },         /* cut, "" */
	};
	cr_assert_eq(sx_journal_append_batch(j, 4, c, NULL), 0);
	sx_journal_close(j);

	ents g = { 0 };
	cr_assert_eq(sx_journal_open(path, &j, collect, &g, NULL, why, sizeof why), 0,
	             "%s", why);
	cr_assert_eq(g.n, 4);
	cr_assert(g.e[0].has_origin);
	cr_assert_str_eq(g.e[0].who, "ops");
	cr_assert_str_eq(g.e[0].where, "[2001:db8::1]:5000");
	cr_assert_str_eq(g.e[1].who, "publisher 7");
	cr_assert_str_eq(g.e[1].where, "stream:1700000000000-0");
	cr_assert_str_eq(g.e[1].source, "1700000000000-0");
	cr_assert_eq(g.e[2].has_origin, 0);
	cr_assert(g.e[3].has_origin);
	cr_assert_eq(strlen(g.e[3].who), SX_JOURNAL_MAX_ORIGIN, "cut to the limit");
	cr_assert_str_eq(g.e[3].where, "");
	for (size_t i = 0; i < 4; i++)
		cr_assert_str_eq(g.e[i].words, "LIST.REMOVE （2025）闽0102执1号 RIC "
		                 "350102198001010011");

	/* compaction copies the kept frames as they are */
	cr_assert_eq(sx_journal_compact(j, 2000, NULL, why, sizeof why), 0, "%s", why);
	sx_journal_close(j);
	memset(&g, 0, sizeof g);
	cr_assert_eq(sx_journal_scan(path, SX_JOURNAL_SCAN_CHECKPOINTS, collect, &g, NULL,
	                             why, sizeof why), 0, "%s", why);
	cr_assert_eq(g.n, 4, "3 kept and the checkpoint");
	cr_assert_str_eq(g.e[0].who, "publisher 7");
	cr_assert_eq(g.e[1].has_origin, 0);
	cr_assert_eq(strlen(g.e[2].who), SX_JOURNAL_MAX_ORIGIN);
	cr_assert(g.e[3].checkpoint);
	cr_assert_eq(g.e[3].has_origin, 0, "a checkpoint has no origin");
}

/* docs/JOURNAL.md's examples, byte for byte: without an origin the
 * format-1 frame, with one flags bit 1 and who/where after the source. */
Test(journal_origin, bytes_are_those_of_docs_journal_md)
{
	char path[PATH_MAX + 64], why[512] = "";
	tu_path(path, sizeof path, tu_dir, "j");
	sx_journal *j = NULL;
	cr_assert_eq(sx_journal_open(path, &j, NULL, NULL, NULL, why, sizeof why), 0);
	sx_journal_cmd c[2] = {
		{ 1735696800000LL, "1735696800000-0", 4, W_REMOVE, NULL, NULL, NULL },
		{ 1735696800000LL, NULL, 4, W_REMOVE, NULL, "ops", "10.0.0.5:41234" },
	};
	cr_assert_eq(sx_journal_append_batch(j, 2, c, NULL), 0);
	sx_journal_close(j);
	size_t n;
	uint8_t *b = (uint8_t *)tu_read(path, &n);
	/* format 1: 131 bytes, flags 0 (docs/JOURNAL.md, the first example) */
	static const uint8_t v1[] = {
		0x53, 0x58, 0x4a, 0x31, 0x73, 0x00, 0x00, 0x00, 0x07, 0xfa, 0x4e, 0x93,
		0xa9, 0x2f, 0x63, 0xc5, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x59, 0x97, 0x1f,
		0x94, 0x01, 0x00, 0x00, 0, 0, 0, 0, 0x04, 0, 0, 0, 0x0f, 0, 0, 0,
	};
	cr_assert_geq(n, 131);
	cr_assert(!memcmp(b, v1, sizeof v1), "a format-1 entry is not as it was");
	/* format 2: len 125 = 28 fixed + 0 source + 4+3 "ops" + 4+14 where +
	 * words 15+28+7+22 */
	const uint8_t *f = b + 131;
	cr_assert_eq(n, 131 + 16 + 125);
	uint32_t len, flags, whol, wherel;
	memcpy(&len, f + 4, 4);
	memcpy(&flags, f + 16 + 16, 4);
	cr_assert_eq(len, 125);
	cr_assert_eq(flags, 2, "flags bit 1: the origin");
	uint64_t h;
	memcpy(&h, f + 8, 8);
	cr_assert_eq(h, XXH3_64bits(f + 16, len));
	memcpy(&whol, f + 16 + 28, 4);
	cr_assert_eq(whol, 3);
	cr_assert(!memcmp(f + 16 + 32, "ops", 3));
	memcpy(&wherel, f + 16 + 35, 4);
	cr_assert_eq(wherel, 14);
	cr_assert(!memcmp(f + 16 + 39, "10.0.0.5:41234", 14));
	uint32_t w0;
	memcpy(&w0, f + 16 + 53, 4);
	cr_assert_eq(w0, 11);
	cr_assert(!memcmp(f + 16 + 57, "LIST.REMOVE", 11));
	free(b);

	/* alone in a journal (seq 1): the second example, all 141 bytes */
	tu_path(path, sizeof path, tu_dir, "j2");
	cr_assert_eq(sx_journal_open(path, &j, NULL, NULL, NULL, why, sizeof why), 0);
	cr_assert_eq(sx_journal_append_batch(j, 1, &c[1], NULL), 0);
	sx_journal_close(j);
	b = (uint8_t *)tu_read(path, &n);
	static const uint8_t v2[] = {
		0x53, 0x58, 0x4a, 0x31, 0x7d, 0x00, 0x00, 0x00, 0xbc, 0xa5, 0xe4, 0x12,
		0x16, 0x33, 0x51, 0x6d, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x59, 0x97, 0x1f,
		0x94, 0x01, 0x00, 0x00, 0x02, 0, 0, 0, 0x04, 0, 0, 0, 0, 0, 0, 0,
		0x03, 0, 0, 0, 'o', 'p', 's', 0x0e, 0, 0, 0, '1', '0', '.', '0', '.',
		'0', '.', '5', ':', '4', '1', '2', '3', '4', 0x0b, 0, 0, 0,
	};
	cr_assert_eq(n, 141);
	cr_assert(!memcmp(b, v2, sizeof v2), "not docs/JOURNAL.md's format-2 example");
	free(b);
}

/* Write one frame with payload pl[0..n) (a valid checksum). */
static void frame_file(const char *path, const uint8_t *pl, uint32_t n)
{
	uint8_t buf[512];
	cr_assert_leq(n + 16, sizeof buf);
	memcpy(buf, "SXJ1", 4);
	memcpy(buf + 4, &n, 4);
	uint64_t h = XXH3_64bits(pl, n);
	memcpy(buf + 8, &h, 8);
	memcpy(buf + 16, pl, n);
	tu_write(path, buf, n + 16);
}

Test(journal_origin, damaged_origin_is_corrupt_and_unknown_flags_a_version)
{
	char path[PATH_MAX + 64], why[512] = "";
	tu_path(path, sizeof path, tu_dir, "j");
	/* seq 1, time 0, flags 2, argc 1, no source, who "ops", then a where
	 * length running past the payload */
	uint8_t pl[64] = { 1, 0, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0, 0, 0, 0, 0,
	                   2, 0, 0, 0,  1, 0, 0, 0,  0, 0, 0, 0,
	                   3, 0, 0, 0, 'o', 'p', 's',  200, 0, 0, 0 };
	frame_file(path, pl, 39);
	cr_assert_eq(sx_journal_scan(path, 0, NULL, NULL, NULL, why, sizeof why),
	             SX_ECORRUPT);
	cr_assert(strstr(why, "origin"), "%s", why);
	/* who over the limit */
	pl[28] = 0;
	pl[29] = 1;            /* 256 */
	frame_file(path, pl, 39);
	cr_assert_eq(sx_journal_scan(path, 0, NULL, NULL, NULL, why, sizeof why),
	             SX_ECORRUPT);
	/* a good one: where "", word "PING" */
	static const uint8_t good[] = { 1, 0, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0, 0, 0, 0, 0,
	                                2, 0, 0, 0,  1, 0, 0, 0,  0, 0, 0, 0,
	                                3, 0, 0, 0, 'o', 'p', 's',  0, 0, 0, 0,
	                                4, 0, 0, 0, 'P', 'I', 'N', 'G' };
	frame_file(path, good, sizeof good);
	ents g = { 0 };
	cr_assert_eq(sx_journal_scan(path, 0, collect, &g, NULL, why, sizeof why), 0, "%s",
	             why);
	cr_assert_eq(g.n, 1);
	cr_assert_str_eq(g.e[0].who, "ops");
	cr_assert_str_eq(g.e[0].where, "");
	cr_assert_str_eq(g.e[0].words, "PING");
	/* flags bit 2 is no format this version knows */
	uint8_t v3[sizeof good];
	memcpy(v3, good, sizeof good);
	v3[16] = 4 | 2;
	frame_file(path, v3, sizeof v3);
	cr_assert_eq(sx_journal_scan(path, 0, NULL, NULL, NULL, why, sizeof why),
	             SX_EVERSION);
}
