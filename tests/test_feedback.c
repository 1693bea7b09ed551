/*
 * test_feedback.c - the feedback log loses nothing it accepted, never
 * makes a lookup wait, and its summary counts what the courts are owed.
 *
 * What is proved: 100k records added from 8 threads are all read back with
 * exact fields (and in order per thread); a torn tail at every length is
 * cut on reopen and is not fatal for readers; a damaged record in the
 * middle refuses the file untouched; a failing disk (injected through wio:
 * EIO, ENOSPC after a short write, a failing truncate, fdatasync errors)
 * is counted and reported while sx_feedback_add() keeps returning at once
 * and drops (and counts) what does not fit; a stalled disk does not slow
 * adds; records reach the disk within a second without a flush; the
 * per-court, per-case summary and the `sxgate feedback` / `sxgate journal`
 * commands give the right numbers and exit codes.
 *
 * The tools/ objects are linked into bin/sxgate, not into the tests, so
 * this file includes tools/fbreport.c (and the summary it prints,
 * tools/fbsummary.c) to run its commands into memory streams.
 */
#include "testutil.h"
#include "feedback.h"
#include "frame.h"
#include "journal.h"
#include "wio.h"
#include "../tools/fbreport.c"
#include "../tools/fbsummary.c"

#include <pthread.h>
#include <time.h>

TestSuite(feedback, .init = tu_setup, .fini = tu_teardown);

/* ---- helpers ------------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *const courts[] = {
	"福州市鼓楼区人民法院", "厦门市思明区人民法院", "泉州市中级人民法院",
};

/* The record number k of thread t, reproducibly, into strings held by e. */
typedef struct trec {
	char tenant[32], cls[32], id[24];
	char case_no[4][64];
	sx_feedback_case cases[4];
	sx_feedback_rec r;
} trec;

static void make_rec(trec *e, unsigned t, unsigned k)
{
	memset(e, 0, sizeof *e);
	snprintf(e->tenant, sizeof e->tenant, "tenant-%u", t);
	snprintf(e->id, sizeof e->id, "T%02uK%08u", t, k);
	e->r.time_ms = 1735689600000LL + (int64_t)k * 10 + t;  /* 2025-01-01 */
	e->r.tenant = (sx_str){ e->tenant, strlen(e->tenant) };
	e->r.channel = (uint8_t)(k % SX_NCODES);
	if (k % 5) {
		snprintf(e->cls, sizeof e->cls, "G%u:second", k % 9000);
		e->r.cls = (sx_str){ e->cls, strlen(e->cls) };
	}
	e->r.id_type = (uint8_t)((k / 3) % SX_NIDTYPES);
	e->r.id = (sx_str){ e->id, strlen(e->id) };
	e->r.reason = (uint8_t)(k % 3);
	e->r.ncases = k % 4;
	for (unsigned c = 0; c < e->r.ncases; c++) {
		snprintf(e->case_no[c], 64, "（2025）闽0102执%u号", k + c);
		e->cases[c].case_no = (sx_str){ e->case_no[c], strlen(e->case_no[c]) };
		e->cases[c].court = (sx_str){ courts[(k + c) % 3],
		                              strlen(courts[(k + c) % 3]) };
	}
	e->r.cases = e->cases;
}

static int str_is(sx_str s, const char *want)
{
	return s.n == strlen(want) && !memcmp(s.p, want, s.n);
}

static void assert_rec_eq(const sx_feedback_rec *got, const trec *want)
{
	const sx_feedback_rec *w = &want->r;
	cr_assert_eq(got->time_ms, w->time_ms);
	cr_assert(str_is(got->tenant, want->tenant), "tenant");
	cr_assert_eq(got->channel, w->channel);
	cr_assert(str_is(got->cls, w->cls.p ? want->cls : "-"),
	          "class %.*s", (int)got->cls.n, got->cls.p);
	cr_assert_eq(got->id_type, w->id_type);
	cr_assert(str_is(got->id, want->id), "id");
	cr_assert_eq(got->reason, w->reason);
	cr_assert_eq(got->cases_cut, 0);
	cr_assert_eq(got->ncases, w->ncases);
	for (unsigned c = 0; c < w->ncases; c++) {
		cr_assert(str_is(got->cases[c].case_no, want->case_no[c]));
		cr_assert_eq(got->cases[c].court.n, w->cases[c].court.n);
		cr_assert(!memcmp(got->cases[c].court.p, w->cases[c].court.p,
		                  w->cases[c].court.n), "court");
	}
}

static sx_feedback *fbopen(const char *path, const sx_feedback_opts *o,
                           sx_feedback_report *rep)
{
	sx_feedback *fb = NULL;
	char why[512] = "";
	int rc = sx_feedback_open_opts(path, o, &fb, rep, why, sizeof why);
	cr_assert_eq(rc, 0, "open %s: %d %s", path, rc, why);
	return fb;
}

static off_t fsize(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "stat %s", path);
	return st.st_size;
}

/* Records read back, by (thread, k), checked against make_rec. */
typedef struct readback {
	unsigned threads, per;
	char *seen;
	int64_t *last_time;        /* per thread: order check */
	uint64_t n;
} readback;

static int check_rec(void *arg, const sx_feedback_rec *r)
{
	readback *rb = arg;
	unsigned t, k;
	char id[24];
	cr_assert_lt(r->id.n, sizeof id);
	memcpy(id, r->id.p, r->id.n);
	id[r->id.n] = 0;
	cr_assert_eq(sscanf(id, "T%02uK%08u", &t, &k), 2, "id %s", id);
	cr_assert_lt(t, rb->threads);
	cr_assert_lt(k, rb->per);
	cr_assert(!rb->seen[(size_t)t * rb->per + k], "record %u/%u twice", t, k);
	rb->seen[(size_t)t * rb->per + k] = 1;
	trec e;
	make_rec(&e, t, k);
	assert_rec_eq(r, &e);
	cr_assert_gt(r->time_ms, rb->last_time[t], "thread %u out of order", t);
	rb->last_time[t] = r->time_ms;
	rb->n++;
	return 0;
}

static uint64_t read_back(const char *path, unsigned threads, unsigned per,
                          sx_feedback_report *rep)
{
	readback rb = { threads, per, calloc((size_t)threads * per, 1),
	                calloc(threads, sizeof(int64_t)), 0 };
	for (unsigned t = 0; t < threads; t++)
		rb.last_time[t] = INT64_MIN;
	char why[512] = "";
	int rc = sx_feedback_read(path, check_rec, &rb, rep, why, sizeof why);
	cr_assert_eq(rc, 0, "read %s: %s", path, why);
	free(rb.seen);
	free(rb.last_time);
	return rb.n;
}

/* ---- many writers ------------------------------------------------------- */

typedef struct adder_arg {
	sx_feedback *fb;
	unsigned t, n;
	double max_add_s;
	unsigned refused;
} adder_arg;

static void *adder(void *p)
{
	adder_arg *a = p;
	for (unsigned k = 0; k < a->n; k++) {
		trec e;
		make_rec(&e, a->t, k);
		double t0 = now_s();
		if (sx_feedback_add(a->fb, &e.r))
			a->refused++;
		double dt = now_s() - t0;
		if (dt > a->max_add_s)
			a->max_add_s = dt;
	}
	return NULL;
}

static void run_adders(sx_feedback *fb, unsigned threads, unsigned per,
                       adder_arg *args)
{
	pthread_t th[16];
	for (unsigned t = 0; t < threads; t++) {
		args[t] = (adder_arg){ fb, t, per, 0, 0 };
		pthread_create(&th[t], NULL, adder, &args[t]);
	}
	for (unsigned t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
}

Test(feedback, many_threads_100k_records_all_read_back_exactly)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "fb");
	/* Room for all of it: this test is about losing nothing, the drop
	 * policy has its own test. */
	sx_feedback_opts o = { .max_buffer = (size_t)512 << 20 };
	sx_feedback *fb = fbopen(path, &o, NULL);
	adder_arg args[8];
	run_adders(fb, 8, 12500, args);
	for (unsigned t = 0; t < 8; t++)
		cr_assert_eq(args[t].refused, 0);
	cr_assert_eq(sx_feedback_flush(fb), 0);
	sx_feedback_stats st;
	sx_feedback_get_stats(fb, &st);
	cr_assert_eq(st.added, 100000);
	cr_assert_eq(st.written, 100000, "flush must write everything added "
	             "before it (written %llu)", (unsigned long long)st.written);
	cr_assert_eq(st.dropped, 0);
	cr_assert_eq(st.buffered, 0);
	cr_assert_eq(st.write_errors + st.fsync_errors, 0);
	cr_assert_geq(st.fsyncs, 1);
	cr_assert_eq(st.bytes, (uint64_t)fsize(path));
	cr_assert_eq(sx_feedback_close(fb), 0);

	sx_feedback_report rep;
	cr_assert_eq(read_back(path, 8, 12500, &rep), 100000);
	cr_assert_eq(rep.records, 100000);
	cr_assert_eq(rep.torn_bytes, 0);

	/* Reopen appends after what is there. */
	sx_feedback_report rep2;
	fb = fbopen(path, NULL, &rep2);
	cr_assert_eq(rep2.records, 100000);
	cr_assert_eq(rep2.torn_bytes, 0);
	sx_feedback_close(fb);
}

Test(feedback, records_reach_the_disk_within_a_second_without_a_flush)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "fb");
	sx_feedback_opts o = { .flush_ms = 5000 };   /* taken as 1000 */
	sx_feedback *fb = fbopen(path, &o, NULL);
	trec e;
	make_rec(&e, 0, 0);
	cr_assert_eq(sx_feedback_add(fb, &e.r), 0);
	struct timespec ts = { 1, 300000000 };
	nanosleep(&ts, NULL);
	sx_feedback_stats st;
	sx_feedback_get_stats(fb, &st);
	cr_assert_eq(st.written, 1);
	cr_assert_geq(st.fsyncs, 1, "fdatasync at least once a second");
	cr_assert_eq(read_back(path, 1, 1, NULL), 1);
	sx_feedback_close(fb);
}

Test(feedback, close_writes_what_is_buffered)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "fb");
	sx_feedback *fb = fbopen(path, NULL, NULL);
	for (unsigned k = 0; k < 1000; k++) {
		trec e;
		make_rec(&e, 0, k);
		cr_assert_eq(sx_feedback_add(fb, &e.r), 0);
	}
	cr_assert_eq(sx_feedback_close(fb), 0);
	cr_assert_eq(read_back(path, 1, 1000, NULL), 1000);
}

Test(feedback, bad_records_are_refused)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "fb");
	sx_feedback *fb = fbopen(path, NULL, NULL);
	trec e;
	make_rec(&e, 0, 1);
	e.r.reason = SX_R_NOT_LISTED;
	cr_assert_eq(sx_feedback_add(fb, &e.r), SX_EINVAL, "ALLOW NOT_LISTED "
	             "is not fed back");
	make_rec(&e, 0, 1);
	e.r.channel = SX_NCODES;
	cr_assert_eq(sx_feedback_add(fb, &e.r), SX_EINVAL);

	e.r.channel = 0;
	e.r.ncases = 2;
	e.r.cases = NULL;
	cr_assert_eq(sx_feedback_add(fb, &e.r), SX_EINVAL);
	cr_assert_eq(sx_feedback_close(fb), 0);
	sx_feedback_report rep;
	cr_assert_eq(sx_feedback_read(path, NULL, NULL, &rep, NULL, 0), 0);
	cr_assert_eq(rep.records, 0, "refused records are not written");
}

static int expect_cut(void *arg, const sx_feedback_rec *r)
{
	(void)arg;
	cr_assert_eq(r->cases_cut, 1);
	cr_assert(r->ncases > 500 && r->ncases < 3000, "ncases %u", r->ncases);
	cr_assert(str_is(r->tenant, "-"), "a missing tenant is stored as -");
	return 0;
}

Test(feedback, a_cut_case_list_says_so)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "fb");
	sx_feedback *fb = fbopen(path, NULL, NULL);
	sx_feedback_case *many = calloc(3000, sizeof *many);
	static const char cno[] = "（2025）闽0102执恢字第0000000001号之一";
	for (unsigned i = 0; i < 3000; i++)
		many[i] = (sx_feedback_case){ { cno, strlen(cno) },
		                              { courts[0], strlen(courts[0]) } };
	trec e;
	make_rec(&e, 0, 2);
	e.r.ncases = 3000;
	e.r.cases = many;
	e.r.tenant = (sx_str){ NULL, 0 };
	cr_assert_eq(sx_feedback_add(fb, &e.r), 0);
	sx_feedback_close(fb);
	free(many);
	cr_assert_eq(sx_feedback_read(path, expect_cut, NULL, NULL, NULL, 0), 0);
}

/* ---- crashes and damage ------------------------------------------------- */

static off_t write_records(const char *path, unsigned n, off_t *ends)
{
	/* One thread, flushing after each record, so record k ends at ends[k]. */
	sx_feedback *fb = fbopen(path, NULL, NULL);
	for (unsigned k = 0; k < n; k++) {
		trec e;
		make_rec(&e, 0, k);
		cr_assert_eq(sx_feedback_add(fb, &e.r), 0);
		cr_assert_eq(sx_feedback_flush(fb), 0);
		if (ends)
			ends[k] = fsize(path);
	}
	cr_assert_eq(sx_feedback_close(fb), 0);
	return fsize(path);
}

Test(feedback, torn_tail_at_every_length_is_cut_on_reopen)
{
	char full[PATH_MAX + 64], path[PATH_MAX + 64];
	off_t ends[6];
	tu_path(full, sizeof full, tu_dir, "full");
	tu_path(path, sizeof path, tu_dir, "fb");
	off_t size = write_records(full, 6, ends);
	char *bytes = tu_read(full, NULL);
	off_t good = ends[4];

	for (off_t cut = 1; cut < size - good; cut++) {
		tu_write(path, bytes, (size_t)(good + cut));
		/* Readers report it and go on. */
		sx_feedback_report rep;
		cr_assert_eq(read_back(path, 1, 6, &rep), 5);
		cr_assert_eq(rep.torn_offset, (uint64_t)good);
		cr_assert_eq(rep.torn_bytes, (uint64_t)cut);
		cr_assert_eq(fsize(path), good + cut, "readers never cut");
		/* The writer cuts it and appends after the good records. */
		sx_feedback *fb = fbopen(path, NULL, &rep);
		cr_assert_eq(rep.torn_bytes, (uint64_t)cut);
		cr_assert_eq(rep.records, 5);
		cr_assert_eq(fsize(path), good);
		trec e;
		make_rec(&e, 0, 5);
		cr_assert_eq(sx_feedback_add(fb, &e.r), 0);
		cr_assert_eq(sx_feedback_close(fb), 0);
		cr_assert_eq(read_back(path, 1, 6, &rep), 6);
		cr_assert_eq(rep.torn_bytes, 0);
	}
	free(bytes);
}

Test(feedback, damaged_middle_record_refuses_the_file_untouched)
{
	char full[PATH_MAX + 64], path[PATH_MAX + 64];
	off_t ends[5];
	tu_path(full, sizeof full, tu_dir, "full");
	tu_path(path, sizeof path, tu_dir, "fb");
	off_t size = write_records(full, 5, ends);
	char *bytes = tu_read(full, NULL);
	for (off_t at = ends[1]; at < ends[2]; at += 3) {
		bytes[at] ^= 0x10;
		tu_write(path, bytes, (size_t)size);
		char why[512] = "";
		sx_feedback *fb = NULL;
		int rc = sx_feedback_open(path, &fb, NULL, why, sizeof why);
		cr_assert_eq(rc, SX_ECORRUPT, "flip at %lld: %d %s", (long long)at,
		             rc, why);
		cr_assert_null(fb);
		char want[64];
		snprintf(want, sizeof want, "offset %lld", (long long)ends[1]);
		cr_assert(strstr(why, want), "%s", why);
		cr_assert(strstr(why, path), "%s", why);
		cr_assert_eq(sx_feedback_read(path, NULL, NULL, NULL, why, sizeof why),
		             SX_ECORRUPT);
		size_t n;
		char *now = tu_read(path, &n);
		cr_assert_eq(n, (size_t)size);
		cr_assert(!memcmp(now, bytes, n), "file changed");
		free(now);
		bytes[at] ^= 0x10;
	}
	free(bytes);
}

static int count_only(void *arg, const sx_feedback_rec *r)
{
	(void)r;
	(*(unsigned *)arg)++;
	return 0;
}

/* F11 (docs/RELIABILITY.md): a record whose checksum is good but whose
 * channel, ID type or reason is one the writer never stores is refused by
 * read, summarize and open alike, with a reason naming the field, its
 * value and the byte's offset; nothing is delivered and the file is left
 * as it was.  Before the fix such a record was read and summarised under
 * its channel but under none of DENY, SUSPENDED, EXEMPT. */
Test(feedback, out_of_range_fields_behind_a_good_checksum_are_refused)
{
	char full[PATH_MAX + 64], path[PATH_MAX + 64];
	off_t ends[3];
	tu_path(full, sizeof full, tu_dir, "full");
	tu_path(path, sizeof path, tu_dir, "fb");
	off_t size = write_records(full, 3, ends);
	char *orig = tu_read(full, NULL);
	static const struct {
		unsigned at;              /* in the payload */
		unsigned value;
		const char *says;
	} bad[] = {
		{ 8, SX_NCODES, "channel" },
		{ 8, 255, "channel 255" },
		{ 9, SX_NIDTYPES, "ID type" },
		{ 9, 200, "ID type 200" },
		{ 10, SX_R_NOT_RESTRICTED, "reason" },
		{ 10, SX_R_NOT_LISTED, "reason" },
		{ 10, 65, "reason 65" },          /* the fuzzer's input */
	};
	size_t rec = (size_t)ends[0], pl = rec + SX_FRAME_HDR;  /* record 2 */
	uint32_t plen = sx_le_get32((const uint8_t *)orig + rec + 4);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		uint8_t *b = malloc((size_t)size);
		memcpy(b, orig, (size_t)size);
		b[pl + bad[i].at] = (uint8_t)bad[i].value;
		sx_le_put64(b + rec + 8, XXH3_64bits(b + pl, plen));   /* re-sign */
		tu_write(path, b, (size_t)size);

		char want_at[64], why[512] = "";
		snprintf(want_at, sizeof want_at, "the byte at offset %zu",
		         pl + bad[i].at);
		unsigned delivered = 0;
		int rc = sx_feedback_read(path, count_only, &delivered, NULL, why,
		                          sizeof why);
		cr_assert_eq(rc, SX_EVERSION, "%s %u: read gave %d: %s", bad[i].says,
		             bad[i].value, rc, why);
		cr_assert_eq(delivered, 0, "records delivered before the refusal");
		cr_assert(strstr(why, bad[i].says) && strstr(why, want_at) &&
		          strstr(why, "record 2") && strstr(why, path),
		          "the reason does not name the field, value and offset: %s",
		          why);
		char value[16];
		snprintf(value, sizeof value, " %u ", bad[i].value);
		cr_assert(strstr(why, value), "the value is not named: %s", why);

		why[0] = 0;
		rc = sx_feedback_summarize(path, NULL, NULL, NULL, NULL, why,
		                           sizeof why);
		cr_assert_eq(rc, SX_EVERSION, "summarize gave %d: %s", rc, why);
		cr_assert(strstr(why, want_at), "%s", why);

		sx_feedback *fb = NULL;
		why[0] = 0;
		rc = sx_feedback_open(path, &fb, NULL, why, sizeof why);
		cr_assert_eq(rc, SX_EVERSION, "open gave %d: %s", rc, why);
		cr_assert_null(fb);
		cr_assert(strstr(why, want_at), "%s", why);
		size_t n;
		char *now = tu_read(path, &n);
		cr_assert(n == (size_t)size && !memcmp(now, b, n),
		          "a refused log was changed");
		free(now);
		free(b);
	}
	/* the same bytes with the fields as written read back whole */
	tu_write(path, orig, (size_t)size);
	unsigned delivered = 0;
	cr_assert_eq(sx_feedback_read(path, count_only, &delivered, NULL, NULL, 0),
	             0);
	cr_assert_eq(delivered, 3);
	free(orig);
}

Test(feedback, a_foreign_file_is_refused_and_a_locked_one_too)
{
	char path[PATH_MAX + 64], why[512] = "";
	tu_path(path, sizeof path, tu_dir, "list.csv");
	tu_write_str(path, "case_no,court\n");
	sx_feedback *fb = NULL;
	cr_assert_eq(sx_feedback_open(path, &fb, NULL, why, sizeof why),
	             SX_EBADMAGIC, "%s", why);
	cr_assert_eq(fsize(path), 14);
	tu_path(path, sizeof path, tu_dir, "fb");
	sx_feedback *a = fbopen(path, NULL, NULL);
	cr_assert_eq(sx_feedback_open(path, &fb, NULL, why, sizeof why),
	             -EWOULDBLOCK, "%s", why);
	sx_feedback_close(a);
}

/* ---- failing and stuck disks -------------------------------------------- */

Test(feedback, write_errors_are_counted_and_adds_never_block)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "fb");
	/* Small buffers so a dead disk fills them quickly. */
	sx_feedback_opts o = { .shards = 4, .max_buffer = 256 << 10,
	                       .flush_ms = 20 };
	sx_feedback *fb = fbopen(path, &o, NULL);
	sx_wio_fault f = { .write_nth = 1, .write_times = SX_WIO_ALWAYS,
	                   .write_errno = EIO };
	sx_wio_inject(&f);

	adder_arg args[4];
	double t0 = now_s();
	run_adders(fb, 4, 20000, args);
	double took = now_s() - t0;
	unsigned refused = 0;
	double worst = 0;
	for (unsigned t = 0; t < 4; t++) {
		refused += args[t].refused;
		if (args[t].max_add_s > worst)
			worst = args[t].max_add_s;
	}
	cr_assert_lt(took, 2.0, "80k adds took %.3f s against a failing disk",
	             took);
	cr_assert_lt(worst, 0.05, "one add waited %.3f s", worst);
	cr_assert_eq(sx_feedback_flush(fb), -EIO, "flush reports the error");

	sx_feedback_stats st;
	sx_feedback_get_stats(fb, &st);
	cr_assert_gt(st.write_errors, 0);
	cr_assert_eq(st.last_error, -EIO);
	cr_assert(strstr(st.last_error_text, path), "%s", st.last_error_text);
	cr_assert_gt(st.dropped, 0, "bounded buffers must drop, not grow");
	cr_assert_eq(st.dropped, refused, "every refused add is counted");
	cr_assert_eq(st.added + st.dropped, 80000);
	cr_assert_eq(st.written, 0);
	cr_assert_eq(st.buffered, st.added);
	cr_assert_eq(fsize(path), 0);

	/* The disk comes back: everything accepted is written, nothing else. */
	sx_wio_inject(NULL);
	cr_assert_eq(sx_feedback_flush(fb), 0);
	sx_feedback_get_stats(fb, &st);
	cr_assert_eq(st.written, st.added);
	cr_assert_eq(st.buffered, 0);
	uint64_t added = st.added;
	cr_assert_eq(sx_feedback_close(fb), 0);

	sx_feedback_report rep;
	cr_assert_eq(sx_feedback_read(path, NULL, NULL, &rep, NULL, 0), 0);
	cr_assert_eq(rep.records, added);
	cr_assert_eq(rep.torn_bytes, 0);
}

Test(feedback, partial_write_is_cut_back_before_more_is_written)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "fb");
	sx_feedback_opts o = { .shards = 2, .flush_ms = 1000 };
	sx_feedback *fb = fbopen(path, &o, NULL);
	for (unsigned k = 0; k < 100; k++) {
		trec e;
		make_rec(&e, 0, k);
		cr_assert_eq(sx_feedback_add(fb, &e.r), 0);
	}
	/* 50 bytes land, then ENOSPC, and the first truncate back fails. */
	sx_wio_fault f = { .write_nth = 1, .write_short = 50, .write_times = 2,
	                   .write_errno = ENOSPC, .ftruncate_nth = 1 };
	sx_wio_inject(&f);
	cr_assert_eq(sx_feedback_flush(fb), -ENOSPC);
	cr_assert_eq(fsize(path), 50, "half a frame is on disk now");
	for (unsigned k = 100; k < 200; k++) {
		trec e;
		make_rec(&e, 0, k);
		cr_assert_eq(sx_feedback_add(fb, &e.r), 0);
	}
	/* Next flush: truncate works now, so cut, then write everything. */
	cr_assert_eq(sx_feedback_flush(fb), 0);
	sx_wio_inject(NULL);
	sx_feedback_stats st;
	sx_feedback_get_stats(fb, &st);
	cr_assert_eq(st.written, 200);
	cr_assert_eq(st.write_errors, 1);
	cr_assert_eq(sx_feedback_close(fb), 0);
	sx_feedback_report rep;
	cr_assert_eq(read_back(path, 1, 200, &rep), 200);
	cr_assert_eq(rep.torn_bytes, 0);
}

Test(feedback, fdatasync_errors_are_counted)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "fb");
	sx_feedback *fb = fbopen(path, NULL, NULL);
	trec e;
	make_rec(&e, 0, 0);
	cr_assert_eq(sx_feedback_add(fb, &e.r), 0);
	sx_wio_fault f = { .fsync_nth = 1, .fsync_errno = EIO };
	sx_wio_inject(&f);
	cr_assert_eq(sx_feedback_flush(fb), -EIO);
	sx_wio_inject(NULL);
	sx_feedback_stats st;
	sx_feedback_get_stats(fb, &st);
	cr_assert_eq(st.fsync_errors, 1);
	cr_assert(strstr(st.last_error_text, "fdatasync"), "%s",
	          st.last_error_text);
	/* The sync is retried at the next flush even with nothing new. */
	cr_assert_eq(sx_feedback_flush(fb), 0);
	sx_feedback_get_stats(fb, &st);
	cr_assert_eq(st.fsyncs, 1);
	sx_feedback_close(fb);
}

Test(feedback, a_stalled_disk_does_not_slow_adds)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "fb");
	sx_feedback_opts o = { .shards = 4, .max_buffer = (size_t)64 << 20,
	                       .flush_ms = 10 };
	sx_feedback *fb = fbopen(path, &o, NULL);
	trec e;
	make_rec(&e, 0, 0);
	cr_assert_eq(sx_feedback_add(fb, &e.r), 0);
	sx_wio_fault f = { .write_delay_ms = 1500 };
	sx_wio_inject(&f);
	struct timespec ts = { 0, 100000000 };
	nanosleep(&ts, NULL);          /* the flusher is now inside a write */
	double worst = 0, t0 = now_s();
	for (unsigned k = 1; k < 20000; k++) {
		make_rec(&e, 0, k);
		double a = now_s();
		cr_assert_eq(sx_feedback_add(fb, &e.r), 0);
		double dt = now_s() - a;
		if (dt > worst)
			worst = dt;
	}
	double took = now_s() - t0;
	cr_assert_lt(took, 1.0, "adds took %.3f s while the disk stalled", took);
	cr_assert_lt(worst, 0.05, "one add waited %.3f s", worst);
	sx_wio_inject(NULL);
	cr_assert_eq(sx_feedback_close(fb), 0);
	cr_assert_eq(read_back(path, 1, 20000, NULL), 20000);
}

/* ---- summary ------------------------------------------------------------ */

/* A known log: the numbers below are counted by hand from it. */
static void known_log(const char *path)
{
	static const sx_feedback_case
		c1 = { { "（2025）闽0102执1号", 0 }, { "福州市鼓楼区人民法院", 0 } },
		c2 = { { "（2025）闽0102执2号", 0 }, { "福州市鼓楼区人民法院", 0 } },
		c3 = { { "(2024)闽0203执9号", 0 }, { "厦门市思明区人民法院", 0 } };
	sx_feedback_case k1 = c1, k2 = c2, k3 = c3;
	sx_feedback_case *all[3] = { &k1, &k2, &k3 };
	for (int i = 0; i < 3; i++) {
		all[i]->case_no.n = strlen(all[i]->case_no.p);
		all[i]->court.n = strlen(all[i]->court.p);
	}
	struct {
		int64_t t;
		int chan, reason;
		const char *id;
		int ncases;
		sx_feedback_case cases[2];
	} recs[] = {
		/* 2025-01-01T10:00:00+08:00 = 1735696800 */
		{ 1735696800000LL, SX_C_AIR, SX_R_LISTED, "350102198001010011", 2, { k1, k3 } },
		{ 1735696860000LL, SX_C_RAIL, SX_R_LISTED, "350102198001010011", 1, { k1 } },
		{ 1735783200000LL, SX_C_RAIL, SX_R_LISTED, "350102198001010029", 1, { k1 } },
		{ 1735783260000LL, SX_C_HOTEL, SX_R_SUSPENDED, "350102198001010037", 1, { k2 } },
		{ 1735869600000LL, SX_C_AIR, SX_R_EXEMPT, "350102198001010011", 1, { k1 } },
		{ 1735869700000LL, SX_C_AIR, SX_R_LISTED, "91350100M000100Y43", 1, { k3 } },
	};
	sx_feedback *fb = fbopen(path, NULL, NULL);
	for (size_t i = 0; i < SX_ARRAY_LEN(recs); i++) {
		sx_feedback_rec r = {
			.time_ms = recs[i].t, .tenant = { "12306", 5 },
			.channel = (uint8_t)recs[i].chan,
			.id_type = recs[i].id[0] == '9' ? SX_IDT_USCC : SX_IDT_RIC,
			.id = { recs[i].id, strlen(recs[i].id) },
			.reason = (uint8_t)recs[i].reason,
			.ncases = (uint32_t)recs[i].ncases, .cases = recs[i].cases,
		};
		cr_assert_eq(sx_feedback_add(fb, &r), 0);
	}
	cr_assert_eq(sx_feedback_close(fb), 0);
}

typedef struct sum_rows {
	char text[16][512];
	int n;
} sum_rows;

/* Each row as "court|case|deny/susp/exempt|air,rail,hotel|ids|last". */
static int sum_row(void *arg, const sx_feedback_case_sum *cs)
{
	sum_rows *sr = arg;
	cr_assert_lt(sr->n, 16);
	char ids[256] = "";
	for (uint32_t i = 0; i < cs->nids; i++)
		snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%s:%.*s",
		         i ? "," : "", sx_idtype_name(cs->id_types[i]),
		         (int)cs->ids[i].n, cs->ids[i].p);
	snprintf(sr->text[sr->n++], 512, "%.*s|%.*s|%llu/%llu/%llu|%llu,%llu,%llu|%s|%lld",
	         (int)cs->court.n, cs->court.p, (int)cs->case_no.n, cs->case_no.p,
	         (unsigned long long)cs->deny, (unsigned long long)cs->suspended,
	         (unsigned long long)cs->exempt,
	         (unsigned long long)cs->by_channel[SX_C_AIR],
	         (unsigned long long)cs->by_channel[SX_C_RAIL],
	         (unsigned long long)cs->by_channel[SX_C_HOTEL], ids,
	         (long long)cs->last_ms);
	return 0;
}

Test(feedback, summary_counts_per_court_and_case)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "fb");
	known_log(path);
	sum_rows sr = { .n = 0 };
	sx_feedback_report rep;
	char why[256] = "";
	cr_assert_eq(sx_feedback_summarize(path, NULL, sum_row, &sr, &rep, why,
	                                   sizeof why), 0, "%s", why);
	cr_assert_eq(rep.records, 6);
	/* Sorted by court (UTF-8 bytes: 厦 E5 8E A6 < 福 E7 A6 8F), then case. */
	cr_assert_eq(sr.n, 3);
	cr_assert_str_eq(sr.text[0], "厦门市思明区人民法院|(2024)闽0203执9号|2/0/0|"
	                 "2,0,0|RIC:350102198001010011,USCC:91350100M000100Y43|"
	                 "1735869700000");
	cr_assert_str_eq(sr.text[1], "福州市鼓楼区人民法院|（2025）闽0102执1号|3/0/1|"
	                 "2,2,0|RIC:350102198001010011,RIC:350102198001010029|"
	                 "1735869600000");
	cr_assert_str_eq(sr.text[2], "福州市鼓楼区人民法院|（2025）闽0102执2号|0/1/0|"
	                 "0,0,1|RIC:350102198001010037|1735783260000");

	/* --since 2025-01-02 (midnight +08:00 = 1735747200) and --court. */
	sx_feedback_filter f = { 1735747200000LL, "福州市鼓楼区人民法院" };
	sr.n = 0;
	cr_assert_eq(sx_feedback_summarize(path, &f, sum_row, &sr, NULL, NULL, 0), 0);
	cr_assert_eq(sr.n, 2);
	cr_assert_str_eq(sr.text[0], "福州市鼓楼区人民法院|（2025）闽0102执1号|1/0/1|"
	                 "1,1,0|RIC:350102198001010011,RIC:350102198001010029|"
	                 "1735869600000");
	cr_assert_str_eq(sr.text[1], "福州市鼓楼区人民法院|（2025）闽0102执2号|0/1/0|"
	                 "0,0,1|RIC:350102198001010037|1735783260000");
}

/* ---- the commands ------------------------------------------------------- */

typedef struct run_out {
	int rc;
	char *out, *err;
} run_out;

static run_out run(int (*fn)(int, char **, FILE *, FILE *), int argc,
                   const char **argv)
{
	run_out r;
	size_t on, en;
	FILE *o = open_memstream(&r.out, &on), *e = open_memstream(&r.err, &en);
	r.rc = fn(argc, (char **)argv, o, e);
	fclose(o);
	fclose(e);
	return r;
}

static void run_free(run_out *r)
{
	free(r->out);
	free(r->err);
}

Test(feedback, cli_summarize_table_and_json_give_the_counts)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "fb");
	known_log(path);

	const char *a1[] = { "feedback", "summarize", path };
	run_out r = run(feedback_main, 3, a1);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_assert(strstr(r.out, "6 records; 2 courts, 3 cases"), "%s", r.out);
	cr_assert(strstr(r.out, "福州市鼓楼区人民法院: 2 cases, 3 DENY, 0 REVIEW, "
	                 "1 SUSPENDED, 1 EXEMPT"), "%s", r.out);
	/* The row of case 1: DENY 3, REVIEW 0, SUSPENDED 0, EXEMPT 1, 2 IDs,
	 * last at 2025-01-03T10:00:00+08:00, air 2 and rail 2. */
	const char *row1 = strstr(r.out, "  （2025）闽0102执1号");
	cr_assert_not_null(row1, "%s", r.out);
	unsigned long long d, v, s, e, n;
	char last[40];
	cr_assert_eq(sscanf(row1 + strlen("  （2025）闽0102执1号"),
	                    "%llu %llu %llu %llu %llu %39s", &d, &v, &s, &e, &n,
	                    last), 6);
	cr_assert_eq(d, 3);
	cr_assert_eq(v, 0);
	cr_assert_eq(s, 0);
	cr_assert_eq(e, 1);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(last, "2025-01-03T10:00:00+08:00");
	cr_assert(strstr(row1, "air 2, rail 2\n    ids: RIC 350102198001010011, "
	                 "RIC 350102198001010029\n"), "%s", row1);
	/* Columns line up: the DENY counts end where the header's DENY does. */
	const char *hdr = strstr(r.out, "  case_no");
	cr_assert_not_null(hdr);
	run_free(&r);

	const char *a2[] = { "feedback", "summarize", "--json", path, "--since",
	                     "2025-01-02", "--court=厦门市思明区人民法院" };
	r = run(feedback_main, 7, a2);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_assert(strstr(r.out, "{\"court\":\"厦门市思明区人民法院\",\"case_no\":"
	                 "\"(2024)闽0203执9号\",\"deny\":1,\"review\":0,\"suspended\":0,"
	                 "\"exempt\":0,\"channels\":{\"air\":1},\"distinct_ids\":1,"
	                 "\"ids\":[{\"type\":\"USCC\",\"id\":\"91350100M000100Y43\"}],"
	                 "\"last_attempt\":\"2025-01-03T10:01:40+08:00\"}"),
	          "%s", r.out);
	cr_assert_null(strstr(r.out, "福州"), "--court filters: %s", r.out);
	run_free(&r);
}

/* REVIEW decisions (the joint-punishment measures) are fed back and
 * summarised in a column of their own, between DENY and SUSPENDED. */
Test(feedback, review_decisions_are_logged_and_summarised)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "fb");
	sx_feedback *fb = fbopen(path, NULL, NULL);
	sx_feedback_case c = { { "（2023）闽05执1001号", strlen("（2023）闽05执1001号") },
	                       { "泉州市中级人民法院", strlen("泉州市中级人民法院") } };
	sx_feedback_rec rec = {
		.time_ms = 1735696800000LL, .tenant = { "bank", 4 },
		.channel = SX_C_CREDIT, .id_type = SX_IDT_RIC,
		.id = { "350304197806263293", 18 }, .reason = SX_R_REVIEW,
		.ncases = 1, .cases = &c,
	};
	cr_assert_eq(sx_feedback_add(fb, &rec), 0);
	rec.channel = SX_C_FINANCE;
	rec.cls = (sx_str){ "bank", 4 };
	cr_assert_eq(sx_feedback_add(fb, &rec), 0);
	rec.channel = SX_C_PROCUREMENT;
	rec.cls = (sx_str){ 0 };
	rec.reason = SX_R_LISTED;
	cr_assert_eq(sx_feedback_add(fb, &rec), 0);
	rec.reason = SX_R_NOT_RESTRICTED;            /* never fed back */
	cr_assert_eq(sx_feedback_add(fb, &rec), SX_EINVAL);
	cr_assert_eq(sx_feedback_close(fb), 0);

	const char *a1[] = { "feedback", "summarize", path };
	run_out r = run(feedback_main, 3, a1);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_assert(strstr(r.out, "泉州市中级人民法院: 1 case, 1 DENY, 2 REVIEW, "
	                 "0 SUSPENDED, 0 EXEMPT"), "%s", r.out);
	cr_assert(strstr(r.out, "DENY  REVIEW  SUSPENDED  EXEMPT"), "%s", r.out);
	cr_assert(strstr(r.out, "finance 1, procurement 1, credit 1"), "%s", r.out);
	run_free(&r);
	const char *a2[] = { "feedback", "summarize", "--json", path };
	r = run(feedback_main, 4, a2);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\"deny\":1,\"review\":2,\"suspended\":0,"
	                 "\"exempt\":0,\"channels\":{\"finance\":1,"
	                 "\"procurement\":1,\"credit\":1}"), "%s", r.out);
	run_free(&r);
	const char *a3[] = { "feedback", "dump", path };
	r = run(feedback_main, 3, a3);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_assert(strstr(r.out, ",bank,finance,bank,RIC,350304197806263293,REVIEW,"
	                 "LISTED,"), "%s", r.out);
	run_free(&r);
}

Test(feedback, cli_dump_prints_rfc4180_csv)
{
	char path[PATH_MAX + 64];
	tu_path(path, sizeof path, tu_dir, "fb");
	sx_feedback *fb = fbopen(path, NULL, NULL);
	sx_feedback_case cs[2] = {
		{ { "（2025）闽0102执1号", strlen("（2025）闽0102执1号") },
		  { "福州市鼓楼区人民法院", strlen("福州市鼓楼区人民法院") } },
		{ { "A,1", 3 }, { "court \"x\"", 9 } },
	};
	sx_feedback_rec rec = {
		.time_ms = 1735696800123LL, .tenant = { "hotel,inc", 9 },
		.channel = SX_C_RAIL, .cls = { "G1234:second", 12 },
		.id_type = SX_IDT_RIC, .id = { "350102198001010011", 18 },
		.reason = SX_R_LISTED, .ncases = 2, .cases = cs,
	};
	cr_assert_eq(sx_feedback_add(fb, &rec), 0);
	rec.reason = SX_R_EXEMPT;
	rec.ncases = 0;
	rec.tenant = (sx_str){ NULL, 0 };
	rec.cls = (sx_str){ NULL, 0 };
	rec.channel = SX_C_AIR;
	cr_assert_eq(sx_feedback_add(fb, &rec), 0);
	sx_feedback_close(fb);

	const char *a[] = { "feedback", "dump", path };
	run_out r = run(feedback_main, 3, a);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_assert_str_eq(r.out,
	    "time,tenant,channel,class,id_type,id,decision,reason,cases\n"
	    "2025-01-01T10:00:00.123+08:00,\"hotel,inc\",rail,G1234:second,RIC,"
	    "350102198001010011,DENY,LISTED,\"（2025）闽0102执1号|福州市鼓楼区人民法院;"
	    "A,1|court \"\"x\"\"\"\n"
	    "2025-01-01T10:00:00.123+08:00,-,air,-,RIC,350102198001010011,ALLOW,"
	    "EXEMPT,\n");
	run_free(&r);
}

Test(feedback, cli_errors_and_exit_codes)
{
	char missing[PATH_MAX + 64];
	tu_path(missing, sizeof missing, tu_dir, "no-such-file");
	const char *a1[] = { "feedback", "summarize", missing };
	run_out r = run(feedback_main, 3, a1);
	cr_assert_eq(r.rc, 3);
	cr_assert(strstr(r.err, missing), "the message names the file: %s", r.err);
	run_free(&r);
	const char *a2[] = { "feedback", "dump", missing };
	r = run(feedback_main, 3, a2);
	cr_assert_eq(r.rc, 3);
	run_free(&r);
	const char *a3[] = { "journal", "dump", missing };
	r = run(journal_main, 3, a3);
	cr_assert_eq(r.rc, 3);
	cr_assert(strstr(r.err, missing), "%s", r.err);
	run_free(&r);

	const char *u1[] = { "feedback" };
	const char *u2[] = { "feedback", "summarize" };
	const char *u3[] = { "feedback", "summarize", "f", "--since" };
	const char *u4[] = { "feedback", "summarize", "f", "--since", "2025-13-01" };
	const char *u5[] = { "feedback", "frobnicate", "f" };
	const char *u6[] = { "feedback", "summarize", "f", "--bogus" };
	const char *u7[] = { "journal", "dump" };
	struct { const char **a; int n; int journal; } u[] = {
		{ u1, 1, 0 }, { u2, 2, 0 }, { u3, 4, 0 }, { u4, 5, 0 }, { u5, 3, 0 },
		{ u6, 4, 0 }, { u7, 2, 1 },
	};
	for (size_t i = 0; i < SX_ARRAY_LEN(u); i++) {
		r = run(u[i].journal ? journal_main : feedback_main, u[i].n, u[i].a);
		cr_assert_eq(r.rc, 1, "usage case %zu: exit %d", i, r.rc);
		cr_assert(strstr(r.err, "usage") || strstr(r.err, "not a date"),
		          "case %zu: %s", i, r.err);
		run_free(&r);
	}
}

Test(feedback, cli_journal_dump_prints_entries_and_checkpoints)
{
	char path[PATH_MAX + 64], why[256] = "";
	tu_path(path, sizeof path, tu_dir, "j");
	sx_journal *j = NULL;
	cr_assert_eq(sx_journal_open(path, &j, NULL, NULL, NULL, why, sizeof why),
	             0, "%s", why);
	const char *w1[] = { "LIST.REMOVE", "（2025）闽0102执1号", "RIC",
	                     "350102198001010011" };
	const char *w2[] = { "LIST.ADD", "name", "张 三", "note", "a\"b\n" };
	cr_assert_eq(sx_journal_append(j, 1735696800000LL, "1735696800000-0", 4,
	                               w1, NULL, NULL), 0);
	cr_assert_eq(sx_journal_append(j, 1735696801500LL, NULL, 5, w2, NULL,
	                               NULL), 0);
	cr_assert_eq(sx_journal_compact(j, 1735696801000LL, NULL, NULL, 0), 0);
	sx_journal_close(j);

	const char *a[] = { "journal", "dump", path };
	run_out r = run(journal_main, 3, a);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_assert_str_eq(r.out,
	    "2\t2025-01-01T10:00:01.500+08:00\t-\t-\t-\tLIST.ADD name \"张 三\" note "
	    "\"a\\\"b\\n\"\n"
	    "2\t2025-01-01T10:00:01.000+08:00\t1735696800000-0\t-\t-\t(checkpoint: "
	    "compacted; sequence and source tag kept)\n");
	run_free(&r);
}
