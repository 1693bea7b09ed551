/*
 * fuzz_journal.c - libFuzzer target: the journal reader (engine/journal.h
 * sx_journal_scan and sx_journal_open), then append, reopen and compaction
 * on whatever opened.
 *
 * Input: a mode byte, then the file.
 *   bit 0 clear: the rest is the journal file, byte for byte.  Frames carry
 *     an XXH3 of their payload, so random bytes mostly exercise the framing:
 *     torn tails, damage in the middle, bad magic.
 *   bit 0 set: the rest is a list of payloads, each a u16 little-endian
 *     length and that many bytes, and the target frames each one itself
 *     (magic "SXJ1", length, XXH3-64 of the payload: journal.c's layout),
 *     so what is exercised is the payload parser behind the checksum.
 *     Bit 1 then cuts the last frame short (a torn tail), bit 2 flips a
 *     byte of the last frame's payload without re-signing it.
 *   bit 3: the entry the target appends has no source tag (NULL), as a
 *     local command has; else a stream entry ID.
 *   bit 4: the entry the target appends has an origin (who, where: format
 *     2); else none (format 1).
 * The file is written under /dev/shm (fdatasync is cheap there) and opened
 * by path, as sxgated --journal opens it.
 *
 * Checked beyond the sanitizers:
 *   - scan (read-only) and open agree: same result code, and when both
 *     succeed the same commands, last sequence number and torn tail; scan
 *     never changes the file; a refusal leaves the file untouched and
 *     has a reason; open never replays anything before refusing;
 *   - every delivered entry: command sequence numbers strictly increase
 *     (a checkpoint may repeat the number before it); each word
 *     is NUL-terminated at its length and words[i] is (argv[i], lens[i]);
 *     the source is NUL-terminated at its length; checkpoints only when
 *     asked for, with no words;
 *   - after open, the file is exactly the valid entries (the torn tail
 *     was cut), and an append gets last_seq + 1, never a number that is
 *     not above it;
 *   - reopening replays what was there plus the appended entry, with no
 *     torn tail; compacting at a time taken from the input keeps exactly
 *     the commands at or after it, and keeps the last sequence number.
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

#include "journal.h"

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_journal: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                           \
	} while (0)

static char dir[64], path[96];

static void cleanup(void)
{
	char p[128];
	unlink(path);
	snprintf(p, sizeof p, "%s.compact.tmp", path);
	unlink(p);
	rmdir(dir);
}

/* What a walk over the journal delivered. */
typedef struct seen {
	uint64_t commands, checkpoints, last_seq;
	int64_t *times;
	size_t ntimes, cap;
	int with_checkpoints;
} seen;

static int on_entry(void *arg, const sx_journal_entry *e)
{
	seen *s = arg;
	/* A checkpoint carries the last sequence number (journal.h): it may
	 * repeat the number before it; a command may not. */
	CHECK(e->checkpoint ? e->seq >= s->last_seq : e->seq > s->last_seq,
	      "%s seq %llu after %llu", e->checkpoint ? "checkpoint" : "command",
	      (unsigned long long)e->seq, (unsigned long long)s->last_seq);
	s->last_seq = e->seq;
	CHECK(e->source != NULL && e->source[e->source_len] == 0 &&
	      e->source_len <= SX_JOURNAL_MAX_SOURCE, "source");
	CHECK((e->who == NULL) == (e->where == NULL), "who without where");
	CHECK(!e->who || (e->who[e->who_len] == 0 && e->where[e->where_len] == 0 &&
	                  e->who_len <= SX_JOURNAL_MAX_ORIGIN &&
	                  e->where_len <= SX_JOURNAL_MAX_ORIGIN), "origin");
	if (e->checkpoint) {
		CHECK(s->with_checkpoints, "a checkpoint given to a replay");
		CHECK(e->argc == 0, "checkpoint with %u words", e->argc);
		s->checkpoints++;
		return 0;
	}
	CHECK(e->argc >= 1 && e->argc <= SX_JOURNAL_MAX_ARGS, "argc %u", e->argc);
	for (uint32_t i = 0; i < e->argc; i++) {
		CHECK(e->argv[i] != NULL && e->argv[i][e->lens[i]] == 0,
		      "word %u not NUL-terminated at its length", i);
		CHECK(e->words[i].p == e->argv[i] && e->words[i].n == e->lens[i],
		      "words[%u] is not (argv, lens)", i);
	}
	s->commands++;
	if (s->ntimes == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->times = realloc(s->times, s->cap * sizeof *s->times);
		CHECK(s->times != NULL, "out of memory");
	}
	s->times[s->ntimes++] = e->time_ms;
	return 0;
}

static void write_file(const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0, "create %s: %s", path, strerror(errno));
	CHECK(n == 0 || write(fd, p, n) == (ssize_t)n, "write");
	close(fd);
}

static uint8_t *read_file(size_t *n)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && fstat(fd, &st) == 0, "stat %s", path);
	uint8_t *b = malloc((size_t)st.st_size + 1);
	CHECK(b && read(fd, b, (size_t)st.st_size) == st.st_size, "read");
	close(fd);
	*n = (size_t)st.st_size;
	return b;
}

/* Frame payloads given as u16 length + bytes. */
static uint8_t *frame(const uint8_t *in, size_t n, unsigned mode, size_t *outn)
{
	uint8_t *out = malloc(n / 2 * 18 + 64 + n), *last = NULL;
	size_t o = 0, last_len = 0;
	CHECK(out != NULL, "out of memory");
	for (size_t i = 0; i + 2 <= n;) {
		size_t len = (size_t)in[i] | (size_t)in[i + 1] << 8;
		i += 2;
		if (len > n - i)
			len = n - i;
		uint32_t magic = 0x314A5853u, l32 = (uint32_t)len;
		uint64_t h = XXH3_64bits(in + i, len);
		memcpy(out + o, &magic, 4);
		memcpy(out + o + 4, &l32, 4);
		memcpy(out + o + 8, &h, 8);
		memcpy(out + o + 16, in + i, len);
		last = out + o;
		last_len = 16 + len;
		o += 16 + len;
		i += len;
	}
	if (last && (mode & 4) && last_len > 16)
		last[16 + (last_len - 16) / 2] ^= 0x40;
	if (last && (mode & 2))
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
	snprintf(path, sizeof path, "%s/journal", dir);
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sx_journal_report rs, ro, rr;
	seen ss = { .with_checkpoints = 1 }, so = { 0 }, sr = { 0 };
	sx_journal *j = NULL;
	char why[512];
	uint8_t *file = NULL;
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

	/* scan: read-only */
	memset(why, 0x55, sizeof why);
	int rc_scan = sx_journal_scan(path, SX_JOURNAL_SCAN_CHECKPOINTS, on_entry, &ss,
	                              &rs, why, sizeof why);
	if (rc_scan)
		CHECK(memchr(why, 0, sizeof why) && why[0], "scan refused without a reason");
	size_t n2;
	uint8_t *after = read_file(&n2);
	CHECK(n2 == fn && (fn == 0 || memcmp(after, file, fn) == 0), "scan changed the file");
	free(after);

	/* open: replays, cuts a torn tail */
	memset(why, 0x55, sizeof why);
	int rc_open = sx_journal_open(path, &j, on_entry, &so, &ro, why, sizeof why);
	CHECK(rc_open == rc_scan, "scan says %d, open says %d (%s)", rc_scan, rc_open,
	      rc_open ? why : "");
	if (rc_open) {
		CHECK(j == NULL, "refused, with a handle");
		CHECK(memchr(why, 0, sizeof why) && why[0], "open refused without a reason");
		CHECK(so.commands == 0, "open replayed %llu entries, then refused",
		      (unsigned long long)so.commands);
		after = read_file(&n2);
		CHECK(n2 == fn && (fn == 0 || memcmp(after, file, fn) == 0),
		      "a refused journal was changed");
		free(after);
		goto out;
	}
	CHECK(so.commands == ss.commands && ro.entries == so.commands &&
	      ro.last_seq == rs.last_seq && ro.torn_bytes == rs.torn_bytes &&
	      ro.bytes == rs.bytes, "scan and open disagree");
	CHECK(ro.bytes + ro.torn_bytes == fn, "valid %llu + torn %llu != %zu bytes",
	      (unsigned long long)ro.bytes, (unsigned long long)ro.torn_bytes, fn);
	after = read_file(&n2);
	CHECK(n2 == ro.bytes && memcmp(after, file, n2) == 0,
	      "after open the file is not its valid entries");
	free(after);
	CHECK(sx_journal_last_seq(j) == ro.last_seq, "last_seq");

	/* append, reopen */
	static const char *const words[] = { "LIST.REMOVE", "（2025）闽0102执1号", "RIC",
	                                     "350102198001010011" };
	uint64_t seq = 0;
	sx_journal_cmd cmd = { 1700000000000LL, (mode & 8) ? NULL : "1700000000000-0",
	                       4, words, NULL, (mode & 16) ? "ops" : NULL,
	                       (mode & 16) ? "127.0.0.1:41234" : NULL };
	int rc = sx_journal_append_batch(j, 1, &cmd, &seq);
	/* F7 (fixed): sequence numbers are exhausted, never wrapped */
	if (ro.last_seq == UINT64_MAX) {
		CHECK(rc == SX_EFULL, "an append after the last sequence number: rc %d", rc);
		goto out;
	}
	CHECK(rc != 0 || seq > ro.last_seq, "an append after sequence number %llu "
	      "was acknowledged as %llu", (unsigned long long)ro.last_seq,
	      (unsigned long long)seq);
	CHECK(rc == 0 && seq == ro.last_seq + 1, "append: rc %d seq %llu after %llu", rc,
	      (unsigned long long)seq, (unsigned long long)ro.last_seq);
	sx_journal_close(j);
	j = NULL;
	rc = sx_journal_open(path, &j, on_entry, &sr, &rr, why, sizeof why);
	CHECK(rc == 0, "reopen after an append: %s", why);
	CHECK(rr.torn_bytes == 0 && sr.commands == so.commands + 1 &&
	      rr.last_seq == seq, "reopen: %llu commands, torn %llu, last %llu",
	      (unsigned long long)sr.commands, (unsigned long long)rr.torn_bytes,
	      (unsigned long long)rr.last_seq);

	/* compact at a time from the input: keeps exactly the newer commands */
	int64_t keep = size >= 9 ? (int64_t)((uint64_t)data[size - 1] << 40 |
	                                     (uint64_t)data[size - 2] << 32) : 0;
	uint64_t want = 0;
	for (size_t i = 0; i < sr.ntimes; i++)
		want += sr.times[i] >= keep;
	sx_journal_compact_report cr;
	rc = sx_journal_compact(j, keep, &cr, why, sizeof why);
	CHECK(rc == 0, "compact: %s", why);
	CHECK(sx_journal_last_seq(j) == seq, "compaction changed last_seq");
	sx_journal_close(j);
	j = NULL;
	seen sc = { 0 };
	sx_journal_report rc2;
	rc = sx_journal_open(path, &j, on_entry, &sc, &rc2, why, sizeof why);
	CHECK(rc == 0, "reopen after compaction: %s", why);
	CHECK(sc.commands == want, "compaction at %lld kept %llu commands, want %llu",
	      (long long)keep, (unsigned long long)sc.commands, (unsigned long long)want);
	CHECK(rc2.last_seq == seq, "last_seq %llu after compaction, was %llu",
	      (unsigned long long)rc2.last_seq, (unsigned long long)seq);
	free(sc.times);
out:
	sx_journal_close(j);
	free(ss.times);
	free(so.times);
	free(sr.times);
	free(file);
	return 0;
}
