/*
 * fuzz_feedback.c - libFuzzer target: the feedback log reader
 * (engine/feedback.h sx_feedback_read, tools/fbsummary.h
 * sx_feedback_summarize), then opening the log for appending, adding a
 * record and reading it back.
 *
 * Input: a mode byte, then the file.
 *   bit 0 clear: the rest is the log, byte for byte (framing: torn tails,
 *     damage in the middle, bad magic).
 *   bit 0 set: the rest is payloads (u16 little-endian length, bytes),
 *     which the target frames itself (magic "SXF1", length, XXH3-64), so
 *     the record decoder behind the checksum is what is exercised.  Bit 1
 *     then cuts the last frame short (a torn tail).
 *   bits 2..7: the summary's "since" filter (0: everything).
 * The file lives under /dev/shm and is opened by path, as `sxgate
 * feedback summarize` and sxgated --feedback open it.
 *
 * Checked beyond the sanitizers:
 *   - read and summarize accept and refuse the same files with the same
 *     code, and a refusal has a reason;
 *   - every delivered record's strings and cases are readable, and its
 *     channel, ID type and reason are ones the writer stores (F11: a
 *     checksum-valid record with any other is refused, not counted);
 *   - summary rows come sorted by court, then case number, each pair once;
 *     each row's IDs are distinct and sorted; and the rows add up to the
 *     records: every record counts once per case it names (once under
 *     "-" when it names none), under its reason (DENY, REVIEW, SUSPENDED
 *     or EXEMPT) and its channel (known ones only);
 *   - opening for appending agrees with reading, cuts a torn tail (the file
 *     is then exactly the valid records), and a record added then is read
 *     back after close, after the others, with its fields.
 */
#define XXH_INLINE_ALL
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "feedback.h"
/* sx_feedback_summarize is the tools' (tools/fbsummary.c), not in the
 * fuzz library of engine, loader, server and client objects. */
#include "../../tools/fbsummary.c"

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_feedback: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                           \
	} while (0)

static char dir[64], path[96];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static volatile uint8_t sink;

static void touch(sx_str s)
{
	for (size_t i = 0; i < s.n; i++)
		sink ^= (uint8_t)s.p[i];
}

typedef struct tally {
	int64_t since;
	uint64_t records, counted;      /* records; case slots they fill */
	uint64_t by_reason[4], by_channel[SX_NCODES];
	int64_t last_time;
	sx_feedback_rec last;
	char last_id[64];
} tally;

static int on_rec(void *arg, const sx_feedback_rec *r)
{
	tally *t = arg;
	touch(r->tenant);
	touch(r->cls);
	touch(r->id);
	for (uint32_t i = 0; i < r->ncases; i++) {
		touch(r->cases[i].case_no);
		touch(r->cases[i].court);
	}
	CHECK(r->channel < SX_NCODES && r->id_type < SX_NIDTYPES &&
	      (r->reason == SX_R_LISTED || r->reason == SX_R_SUSPENDED ||
	       r->reason == SX_R_EXEMPT || r->reason == SX_R_REVIEW),
	      "a record with channel %u, ID type %u, "
	      "reason %u was delivered", r->channel, r->id_type, r->reason);
	t->records++;
	t->last = *r;
	snprintf(t->last_id, sizeof t->last_id, "%.*s", (int)(r->id.n < 60 ? r->id.n : 60),
	         r->id.p ? r->id.p : "");
	if (r->time_ms < t->since)
		return 0;
	int k = r->reason == SX_R_LISTED ? 0 : r->reason == SX_R_SUSPENDED ? 1 :
	        r->reason == SX_R_EXEMPT ? 2 : 3;
	uint64_t slots = r->ncases ? r->ncases : 1;
	t->counted += slots;
	t->by_reason[k] += slots;
	t->by_channel[r->channel] += slots;
	return 0;
}

typedef struct sums {
	uint64_t rows, by_reason[4], by_channel[SX_NCODES];
	char *court, *case_no;
	size_t court_n, case_n;
} sums;

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	int c = n ? memcmp(a, b, n) : 0;
	return c ? c : (an > bn) - (an < bn);
}

static int on_sum(void *arg, const sx_feedback_case_sum *s)
{
	sums *u = arg;
	if (u->rows) {
		int c = cmp_bytes(u->court, u->court_n, s->court.p, s->court.n);
		CHECK(c < 0 || (c == 0 && cmp_bytes(u->case_no, u->case_n, s->case_no.p,
		                                    s->case_no.n) < 0),
		      "summary rows out of order or repeated");
	}
	free(u->court);
	free(u->case_no);
	u->court = malloc(s->court.n + 1);
	u->case_no = malloc(s->case_no.n + 1);
	CHECK(u->court && u->case_no, "out of memory");
	if (s->court.n)
		memcpy(u->court, s->court.p, s->court.n);
	if (s->case_no.n)
		memcpy(u->case_no, s->case_no.p, s->case_no.n);
	u->court_n = s->court.n;
	u->case_n = s->case_no.n;
	for (uint32_t i = 0; i < s->nids; i++) {
		touch(s->ids[i]);
		if (i)
			CHECK(cmp_bytes(s->ids[i - 1].p, s->ids[i - 1].n, s->ids[i].p,
			                s->ids[i].n) < 0 ||
			      (cmp_bytes(s->ids[i - 1].p, s->ids[i - 1].n, s->ids[i].p,
			                 s->ids[i].n) == 0 && s->id_types[i - 1] < s->id_types[i]),
			      "IDs of a row not distinct and sorted");
	}
	u->rows++;
	u->by_reason[0] += s->deny;
	u->by_reason[1] += s->suspended;
	u->by_reason[2] += s->exempt;
	u->by_reason[3] += s->review;
	for (int c = 0; c < SX_NCODES; c++)
		u->by_channel[c] += s->by_channel[c];
	return 0;
}

static void write_file(const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0, "create %s: %s", path, strerror(errno));
	CHECK(n == 0 || write(fd, p, n) == (ssize_t)n, "write");
	close(fd);
}

static size_t file_size(void)
{
	struct stat st;
	CHECK(stat(path, &st) == 0, "stat");
	return (size_t)st.st_size;
}

static uint8_t *frame(const uint8_t *in, size_t n, unsigned mode, size_t *outn)
{
	uint8_t *out = malloc(n / 2 * 18 + 64 + n);
	size_t o = 0, last_len = 0;
	CHECK(out != NULL, "out of memory");
	for (size_t i = 0; i + 2 <= n;) {
		size_t len = (size_t)in[i] | (size_t)in[i + 1] << 8;
		i += 2;
		if (len > n - i)
			len = n - i;
		uint32_t magic = 0x31465853u, l32 = (uint32_t)len;
		uint64_t h = XXH3_64bits(in + i, len);
		memcpy(out + o, &magic, 4);
		memcpy(out + o + 4, &l32, 4);
		memcpy(out + o + 8, &h, 8);
		memcpy(out + o + 16, in + i, len);
		last_len = 16 + len;
		o += 16 + len;
		i += len;
	}
	if (last_len && (mode & 2))
		o -= last_len / 2 + 1;
	*outn = o;
	return out;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof dir, "%s", access("/dev/shm", W_OK) == 0 ?
	         "/dev/shm/sxgate-fuzz-XXXXXX" : "/tmp/sxgate-fuzz-XXXXXX");
	CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof path, "%s/feedback", dir);
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sx_feedback_report rr, rs, ro;
	char why[512];
	uint8_t *file;
	size_t fn;

	if (size < 1)
		return 0;
	unsigned mode = data[0];
	if (mode & 1) {
		file = frame(data + 1, size - 1, mode, &fn);
	} else {
		fn = size - 1;
		file = malloc(fn + 1);
		CHECK(file != NULL, "out of memory");
		memcpy(file, data + 1, fn);
	}
	write_file(file, fn);
	int64_t since = (mode >> 2) ? 1700000000000LL + (int64_t)(mode >> 2) * 86400000LL
	                            : INT64_MIN;

	tally t = { .since = since };
	memset(why, 0x55, sizeof why);
	int rc_read = sx_feedback_read(path, on_rec, &t, &rr, why, sizeof why);
	if (rc_read)
		CHECK(memchr(why, 0, sizeof why) && why[0], "read refused without a reason");
	sums u = { 0 };
	sx_feedback_filter f = { .since_ms = since, .court = NULL };
	int rc_sum = sx_feedback_summarize(path, &f, on_sum, &u, &rs, why, sizeof why);
	CHECK(rc_sum == rc_read || rc_sum == -ENOMEM, "read says %d, summarize %d",
	      rc_read, rc_sum);
	if (rc_read == 0 && rc_sum == 0) {
		CHECK(rr.records == t.records && rs.records == rr.records &&
		      rs.torn_bytes == rr.torn_bytes, "read and summarize disagree");
		for (int k = 0; k < 4; k++)
			CHECK(u.by_reason[k] == t.by_reason[k], "reason %d: rows say %llu, "
			      "records %llu", k, (unsigned long long)u.by_reason[k],
			      (unsigned long long)t.by_reason[k]);
		for (int c = 0; c < SX_NCODES; c++)
			CHECK(u.by_channel[c] == t.by_channel[c], "channel %d: rows say %llu, "
			      "records %llu", c, (unsigned long long)u.by_channel[c],
			      (unsigned long long)t.by_channel[c]);
	}
	free(u.court);
	free(u.case_no);

	/* open for appending: agrees with read, cuts a torn tail */
	sx_feedback *fb = NULL;
	memset(why, 0x55, sizeof why);
	int rc_open = sx_feedback_open(path, &fb, &ro, why, sizeof why);
	CHECK(rc_open == rc_read, "read says %d, open %d (%s)", rc_read, rc_open,
	      rc_open ? why : "");
	if (rc_open) {
		CHECK(fb == NULL && memchr(why, 0, sizeof why) && why[0], "refusal");
		CHECK(file_size() == fn, "a refused log was changed");
		free(file);
		return 0;
	}
	CHECK(ro.records == rr.records && ro.bytes == rr.bytes, "open and read disagree");
	CHECK(file_size() == ro.bytes, "after open the log is %zu bytes, its records %llu",
	      file_size(), (unsigned long long)ro.bytes);
	sx_feedback_case cs = { { "（2025）闽0102执1号", 25 }, { "福州市鼓楼区人民法院", 30 } };
	sx_feedback_rec add = { .time_ms = 1735696800000LL, .tenant = { "rail", 4 },
	                        .channel = SX_C_RAIL, .cls = { "G1:second", 9 },
	                        .id_type = SX_IDT_RIC, .id = { "350102198001010011", 18 },
	                        .reason = SX_R_LISTED, .ncases = 1, .cases = &cs };
	CHECK(sx_feedback_add(fb, &add) == 0, "add");
	CHECK(sx_feedback_close(fb) == 0, "close");
	tally t2 = { .since = INT64_MIN };
	CHECK(sx_feedback_read(path, on_rec, &t2, &rr, why, sizeof why) == 0,
	      "read after an append: %s", why);
	CHECK(t2.records == ro.records + 1 && rr.torn_bytes == 0, "%llu records after "
	      "adding one to %llu", (unsigned long long)t2.records,
	      (unsigned long long)ro.records);
	CHECK(t2.last.time_ms == add.time_ms && t2.last.channel == SX_C_RAIL &&
	      t2.last.reason == SX_R_LISTED && t2.last.ncases == 1 &&
	      strcmp(t2.last_id, "350102198001010011") == 0, "the added record reads "
	      "back different");
	free(file);
	return 0;
}
