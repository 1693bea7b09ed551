/*
 * test_frame.c - the framed-log core (engine/frame.h): sx_frame_scan tells
 * a torn tail from damage in the middle, for the journal and the feedback
 * log alike.
 *
 * What is proved: intact frames are all delivered, in order, with their
 * offsets and payloads, and the verdict is CLEAN; a partial last frame (at
 * every length short of whole), trailing zeros, and a magic prefix at the
 * end are a torn tail, cut at the end of the last whole frame and
 * reported with its offset and length; a damaged frame (a flipped payload
 * byte, a damaged header) with an intact frame after it is refused as
 * SX_ECORRUPT with the damage's offset and the next valid frame's; bytes
 * that cannot begin a frame are SX_EBADMAGIC; an empty file is clean with
 * no frames; a callback's refusal stops the scan with its code; frames
 * over the kind's payload limit are not intact; and the file helpers map
 * a log read-only and cut a torn tail durably.
 *
 * Logs are built in memory with sx_frame_header(), the writer's own
 * encoder; file tests use a mkdtemp directory (testutil.h).
 */
#include "testutil.h"
#include "frame.h"

#include <fcntl.h>
#include <unistd.h>

TestSuite(frame, .init = tu_setup, .fini = tu_teardown);

#define MAGIC 0x54535854u            /* "TXST" as little-endian bytes */
static const sx_frame_kind KIND = { MAGIC, 1024 };

/* ---- helpers ------------------------------------------------------------ */

typedef struct buf {
	uint8_t p[16384];
	size_t n;
	size_t off[64];            /* where each frame starts */
	size_t nframes;
} buf;

/* Append one frame whose payload is `len` bytes of `fill`. */
static void put_frame(buf *b, uint8_t fill, uint32_t len)
{
	cr_assert_leq(b->n + SX_FRAME_HDR + len, sizeof b->p);
	uint8_t *pl = b->p + b->n + SX_FRAME_HDR;
	memset(pl, fill, len);
	sx_frame_header(&KIND, b->p + b->n, pl, len);
	b->off[b->nframes++] = b->n;
	b->n += SX_FRAME_HDR + len;
}

/* n frames: frame i has payload length 3 + 5 * i, every byte 'a' + i. */
static void put_frames(buf *b, int n)
{
	for (int i = 0; i < n; i++)
		put_frame(b, (uint8_t)('a' + i), (uint32_t)(3 + 5 * i));
}

typedef struct seen {
	int n;
	size_t off[64];
	uint32_t len[64];
	uint8_t first[64];
	int stop_at;               /* refuse the frame with this index; -1 */
} seen;

static int record(void *arg, const uint8_t *pl, uint32_t len, size_t off)
{
	seen *s = arg;
	if (s->n == s->stop_at)
		return SX_EVERSION;
	cr_assert_lt(s->n, 64);
	s->off[s->n] = off;
	s->len[s->n] = len;
	s->first[s->n] = len ? pl[0] : 0;
	for (uint32_t i = 0; i < len; i++)
		cr_assert_eq(pl[i], pl[0], "payload of frame %d changes at %u",
		             s->n, i);
	s->n++;
	return 0;
}

static int scan(const buf *b, size_t size, seen *s, sx_frame_report *rep)
{
	memset(s, 0, sizeof *s);
	s->stop_at = -1;
	return sx_frame_scan(&KIND, size ? b->p : NULL, size, record, s, rep);
}

/* ---- intact logs --------------------------------------------------------- */

Test(frame, intact_frames_are_all_delivered_in_order)
{
	buf b = { .n = 0 };
	seen s;
	sx_frame_report rep;

	put_frames(&b, 10);
	cr_assert_eq(scan(&b, b.n, &s, &rep), 0);
	cr_assert_eq(rep.verdict, SX_FRAME_CLEAN);
	cr_assert_eq(rep.frames, 10);
	cr_assert_eq(rep.end, b.n);
	cr_assert_eq(rep.last_off, b.off[9]);
	cr_assert_eq(rep.torn_bytes, 0);
	cr_assert_eq(rep.next_valid, SIZE_MAX);
	cr_assert_eq(s.n, 10);
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(s.off[i], b.off[i], "frame %d offset", i);
		cr_assert_eq(s.len[i], 3u + 5u * (unsigned)i, "frame %d length", i);
		cr_assert_eq(s.first[i], 'a' + i, "frame %d payload", i);
	}
}

Test(frame, an_empty_log_is_clean_with_no_frames)
{
	buf b = { .n = 0 };
	seen s;
	sx_frame_report rep;

	cr_assert_eq(scan(&b, 0, &s, &rep), 0);
	cr_assert_eq(rep.verdict, SX_FRAME_CLEAN);
	cr_assert_eq(rep.frames, 0);
	cr_assert_eq(rep.end, 0);
	cr_assert_eq(s.n, 0);
}

Test(frame, an_empty_payload_is_a_frame)
{
	buf b = { .n = 0 };
	seen s;
	sx_frame_report rep;

	put_frame(&b, 'x', 0);
	put_frame(&b, 'y', 7);
	cr_assert_eq(scan(&b, b.n, &s, &rep), 0);
	cr_assert_eq(rep.verdict, SX_FRAME_CLEAN);
	cr_assert_eq(rep.frames, 2);
	cr_assert_eq(s.len[0], 0);
	cr_assert_eq(s.first[1], 'y');
}

Test(frame, sx_frame_next_walks_what_the_scan_accepted)
{
	buf b = { .n = 0 };
	put_frames(&b, 5);
	const uint8_t *pl;
	uint32_t len;
	size_t off = 0;
	int i = 0;
	while (sx_frame_next(b.p, b.n, &off, &pl, &len)) {
		cr_assert_eq(pl, b.p + b.off[i] + SX_FRAME_HDR, "frame %d", i);
		cr_assert_eq(len, 3u + 5u * (unsigned)i);
		i++;
	}
	cr_assert_eq(i, 5);
	cr_assert_eq(off, b.n);
}

/* ---- torn tails ---------------------------------------------------------- */

/* b[0..size) scans as `frames` intact frames ending at `end`, then a torn
 * tail to size: cut there, reported, nothing refused. */
static void expect_torn(const buf *b, size_t size, uint64_t frames,
                        size_t end)
{
	seen s;
	sx_frame_report rep;
	cr_assert_eq(scan(b, size, &s, &rep), 0, "size %zu", size);
	cr_assert_eq(rep.verdict, SX_FRAME_TORN, "size %zu", size);
	cr_assert_eq(rep.frames, frames, "size %zu", size);
	cr_assert_eq((uint64_t)s.n, frames, "size %zu: delivered", size);
	cr_assert_eq(rep.end, end, "size %zu", size);
	cr_assert_eq(rep.torn_off, end, "size %zu", size);
	cr_assert_eq(rep.torn_bytes, size - end, "size %zu", size);
	cr_assert_eq(rep.next_valid, SIZE_MAX, "size %zu", size);
}

Test(frame, a_partial_last_frame_at_every_length_is_a_torn_tail)
{
	buf b = { .n = 0 };
	put_frames(&b, 4);
	for (size_t size = b.off[3] + 1; size < b.n; size++)
		expect_torn(&b, size, 3, b.off[3]);
}

Test(frame, trailing_zeros_are_a_torn_tail)
{
	buf b = { .n = 0 };
	put_frames(&b, 3);
	size_t good = b.n;
	memset(b.p + b.n, 0, 4096);
	b.n += 4096;
	expect_torn(&b, b.n, 3, good);
}

Test(frame, a_log_of_only_zeros_is_a_torn_tail_not_foreign)
{
	buf b = { .n = 100 };
	memset(b.p, 0, b.n);
	expect_torn(&b, b.n, 0, 0);
}

Test(frame, a_magic_prefix_at_the_end_is_a_torn_tail)
{
	for (size_t k = 1; k <= 4; k++) {
		buf b = { .n = 0 };
		put_frames(&b, 2);
		size_t good = b.n;
		uint8_t m[4];
		sx_le_put32(m, MAGIC);
		memcpy(b.p + b.n, m, k);
		b.n += k;
		expect_torn(&b, b.n, 2, good);
	}
}

Test(frame, a_magic_prefix_alone_is_a_torn_tail)
{
	buf b = { .n = 2 };
	sx_le_put16(b.p, (uint16_t)MAGIC);   /* "TX" */
	expect_torn(&b, b.n, 0, 0);
}

Test(frame, a_bad_checksum_on_the_last_frame_is_a_torn_tail)
{
	buf b = { .n = 0 };
	put_frames(&b, 3);
	b.p[b.n - 1] ^= 0x40;      /* the last frame's last payload byte */
	expect_torn(&b, b.n, 2, b.off[2]);
}

/* ---- damage in the middle ------------------------------------------------ */

/* b scans as `frames` intact frames, then damage at `at` with an intact
 * frame at `next`: refused, nothing cut. */
static void expect_damaged(const buf *b, uint64_t frames, size_t at,
                           size_t next)
{
	seen s;
	sx_frame_report rep;
	cr_assert_eq(scan(b, b->n, &s, &rep), SX_ECORRUPT);
	cr_assert_eq(rep.verdict, SX_FRAME_DAMAGED);
	cr_assert_eq(rep.frames, frames);
	cr_assert_eq(rep.end, at, "the damage's offset");
	cr_assert_eq(rep.next_valid, next, "the next intact frame");
	cr_assert_eq(rep.torn_bytes, 0);
	if (frames)
		cr_assert_eq(rep.last_off, b->off[frames - 1]);
}

Test(frame, a_damaged_payload_before_a_valid_frame_is_refused)
{
	buf b = { .n = 0 };
	put_frames(&b, 5);
	b.p[b.off[2] + SX_FRAME_HDR + 1] ^= 1;
	expect_damaged(&b, 2, b.off[2], b.off[3]);
}

Test(frame, a_damaged_header_before_a_valid_frame_is_refused)
{
	buf b = { .n = 0 };
	put_frames(&b, 4);
	b.p[b.off[1] + 4] ^= 0x10;  /* frame 1's length */
	expect_damaged(&b, 1, b.off[1], b.off[2]);
}

Test(frame, damage_in_the_first_frame_before_a_valid_one_is_refused)
{
	buf b = { .n = 0 };
	put_frames(&b, 3);
	b.p[SX_FRAME_HDR] ^= 0xff;
	expect_damaged(&b, 0, 0, b.off[1]);
}

Test(frame, zeros_in_the_middle_before_a_valid_frame_are_refused)
{
	buf b = { .n = 0 };
	put_frames(&b, 2);
	size_t hole = b.n;
	memset(b.p + b.n, 0, 512);
	b.n += 512;
	put_frame(&b, 'z', 9);
	expect_damaged(&b, 2, hole, hole + 512);
}

/* ---- not a log, limits, refusals ----------------------------------------- */

Test(frame, bytes_that_cannot_begin_a_frame_are_foreign)
{
	buf b = { .n = 0 };
	seen s;
	sx_frame_report rep;

	memcpy(b.p, "id,name\n1,x\n", 12);
	b.n = 12;
	cr_assert_eq(scan(&b, b.n, &s, &rep), SX_EBADMAGIC);
	cr_assert_eq(rep.verdict, SX_FRAME_FOREIGN);
	cr_assert_eq(rep.frames, 0);
}

Test(frame, another_kinds_frames_are_foreign)
{
	buf b = { .n = 0 };
	sx_frame_report rep;

	put_frames(&b, 2);
	const sx_frame_kind other = { 0x31465853u, 1024 };   /* "SXF1" */
	cr_assert_eq(sx_frame_scan(&other, b.p, b.n, NULL, NULL, &rep),
	             SX_EBADMAGIC);
	cr_assert_eq(rep.verdict, SX_FRAME_FOREIGN);
}

Test(frame, a_frame_over_the_payload_limit_is_not_intact)
{
	buf b = { .n = 0 };
	seen s;
	sx_frame_report rep;

	put_frame(&b, 'a', 10);
	put_frame(&b, 'b', 1025);   /* over KIND's 1024 */
	cr_assert_eq(scan(&b, b.n, &s, &rep), 0);
	cr_assert_eq(rep.verdict, SX_FRAME_TORN);
	cr_assert_eq(rep.frames, 1);
	cr_assert_eq(rep.end, b.off[1]);
}

Test(frame, the_callback_stops_the_scan_with_its_code)
{
	buf b = { .n = 0 };
	seen s = { .stop_at = 2 };
	sx_frame_report rep;

	put_frames(&b, 5);
	cr_assert_eq(sx_frame_scan(&KIND, b.p, b.n, record, &s, &rep),
	             SX_EVERSION);
	cr_assert_eq(rep.verdict, SX_FRAME_STOPPED);
	cr_assert_eq(rep.frames, 2);
	cr_assert_eq(rep.end, b.off[2], "the refused frame's offset");
	cr_assert_eq(s.n, 2);
}

/* ---- files --------------------------------------------------------------- */

Test(frame, map_file_maps_a_log_and_names_a_missing_one)
{
	char path[PATH_MAX + 64], why[PATH_MAX + 256];
	const uint8_t *p;
	size_t size;
	buf b = { .n = 0 };

	put_frames(&b, 3);
	tu_path(path, sizeof path, tu_dir, "log");
	tu_write(path, b.p, b.n);
	cr_assert_eq(sx_frame_map_file("test log", path, &p, &size, why,
	                               sizeof why), 0, "%s", why);
	cr_assert_eq(size, b.n);
	cr_assert_eq(memcmp(p, b.p, b.n), 0);
	sx_frame_unmap(p, size);

	tu_write(path, "", 0);
	cr_assert_eq(sx_frame_map_file("test log", path, &p, &size, why,
	                               sizeof why), 0, "%s", why);
	cr_assert_null(p);
	cr_assert_eq(size, 0);

	tu_path(path, sizeof path, tu_dir, "missing");
	cr_assert_eq(sx_frame_map_file("test log", path, &p, &size, why,
	                               sizeof why), -ENOENT);
	cr_assert_not_null(strstr(why, "test log "), "%s", why);
	cr_assert_not_null(strstr(why, path), "%s", why);
}

Test(frame, settle_log_cuts_the_torn_tail_the_scan_found)
{
	char path[PATH_MAX + 64], why[PATH_MAX + 256];
	buf b = { .n = 0 };
	int fd;
	size_t size;
	const uint8_t *p;
	sx_frame_report rep;

	put_frames(&b, 3);
	size_t good = b.n;
	memset(b.p + b.n, 0, 100);
	b.n += 100;
	tu_path(path, sizeof path, tu_dir, "log");
	tu_write(path, b.p, b.n);
	cr_assert_eq(sx_frame_open_log("test log", path, &fd, &size, NULL, why,
	                               sizeof why), 0, "%s", why);
	cr_assert_eq(size, b.n);
	cr_assert_eq(sx_frame_map(fd, size, &p), 0);
	cr_assert_eq(sx_frame_scan(&KIND, p, size, NULL, NULL, &rep), 0);
	cr_assert_eq(rep.verdict, SX_FRAME_TORN);
	cr_assert_eq(sx_frame_settle_log("test log", path, fd, 1, rep.end, why,
	                                 sizeof why), 0, "%s", why);
	sx_frame_unmap(p, size);
	close(fd);

	size_t n;
	char *back = tu_read(path, &n);
	cr_assert_not_null(back);
	cr_assert_eq(n, good, "the file is cut to its intact frames");
	cr_assert_eq(memcmp(back, b.p, good), 0);
	free(back);
}
