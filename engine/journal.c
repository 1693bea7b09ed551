/*
 * journal.c - the append-only journal of live updates (contract in
 * journal.h, bytes in docs/JOURNAL.md).
 *
 * The idea: an entry is acknowledged only after its frame is written and
 * fdatasync'd, and a frame is self-checking (magic, length, XXH3), so after
 * a crash the file is "good entries, then maybe one partial frame".  Open
 * tells that torn tail (cut it: it was never acknowledged) from corruption
 * in the middle (refuse: acknowledged updates are damaged) with the
 * framed-log rule that frame.c owns (sx_frame_scan); this file checks
 * each entry's payload and sequence number inside that scan and words
 * the verdict.  The whole file is
 * checked before the first replay callback, so a refusal never leaves the
 * server with half a journal applied.
 *
 * Appends go through O_APPEND and the wio layer.  A failed write or
 * fdatasync truncates the file back to the last good end, so a later
 * append never lands after a half-written frame; when even that fails the
 * journal stays "failed" and every append first re-checks the file size.
 *
 * Trade-off: one mutex around write + fdatasync serialises appends, so
 * appenders queue behind each other's disk flush.  Live updates are rare
 * (thousands a day); callers that have several at once use
 * sx_journal_append_batch() to pay one flush for all of them.
 */
#include "frame.h"
#include "journal.h"
#include "wio.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Frame: u32 magic, u32 payload length, u64 XXH3-64(payload), payload. */
#define J_MAGIC   0x314A5853u        /* "SXJ1" as little-endian bytes */
#define J_HDR   SX_FRAME_HDR
/* Payload: u64 seq, i64 time_ms, u32 flags, u32 argc, u32 source length,
 * source, [with J_F_ORIGIN: u32 who length, who, u32 where length, where],
 * then argc x (u32 length, bytes).  Format 1 is the payload without the
 * origin; format 2 added it behind a flag, so an entry without one is
 * format 1 byte for byte, and a format-1 reader refuses one with it
 * (unknown flag: SX_EVERSION) rather than cut it as damage. */
#define J_FIXED   28u
#define J_F_CHECKPOINT 1u
#define J_F_ORIGIN     2u          /* format 2: who and where follow the source */
#define J_F_KNOWN      (J_F_CHECKPOINT | J_F_ORIGIN)

static const sx_frame_kind J_KIND = { J_MAGIC, SX_JOURNAL_MAX_PAYLOAD };

struct sx_journal {
	pthread_mutex_t mu;
	int fd;
	char *path;
	uint64_t end;              /* bytes of good entries */
	uint64_t last_seq;
	char last_source[SX_JOURNAL_MAX_SOURCE + 1];
	size_t last_source_len;
	int failed;
	int last_error;
	char last_error_text[256];  /* what failed, and where */
	uint64_t appends, commits, errors;
	uint8_t *buf;              /* frame encoding buffer */
	size_t bufcap;
};

/* ---- payloads ----------------------------------------------------------- */

/* A payload's fields; pointers into it. */
typedef struct jdec {
	uint64_t seq;
	int64_t time_ms;
	uint32_t flags, argc;
	const uint8_t *src;
	uint32_t src_len;
	const uint8_t *who, *where;   /* with J_F_ORIGIN */
	uint32_t who_len, where_len;
	const uint8_t *words;      /* argc x (u32 length, bytes) */
} jdec;

/* One u32-length-prefixed string of at most max bytes at pl + *off.
 * 0, or -1 when it runs past len or over max. */
static int get_str(const uint8_t *pl, uint32_t len, size_t *off, uint32_t max,
                   const uint8_t **p, uint32_t *n)
{
	if (len - *off < 4)
		return -1;
	*n = sx_le_get32(pl + *off);
	*off += 4;
	if (*n > max || len - *off < *n)
		return -1;
	*p = pl + *off;
	*off += *n;
	return 0;
}

/* Parse a payload whose checksum matched.  Returns 0, or SX_ECORRUPT /
 * SX_EVERSION with *what set to a static reason. */
static int decode(const uint8_t *pl, uint32_t len, jdec *d, const char **what)
{
	if (len < J_FIXED) {
		*what = "payload shorter than its fixed fields";
		return SX_ECORRUPT;
	}
	d->seq = sx_le_get64(pl);
	d->time_ms = (int64_t)sx_le_get64(pl + 8);
	d->flags = sx_le_get32(pl + 16);
	d->argc = sx_le_get32(pl + 20);
	d->src_len = sx_le_get32(pl + 24);
	if (d->flags & ~J_F_KNOWN) {
		*what = "unknown entry flags (written by a newer sxgate?)";
		return SX_EVERSION;
	}
	if (d->src_len > SX_JOURNAL_MAX_SOURCE || d->src_len > len - J_FIXED) {
		*what = "source tag length out of range";
		return SX_ECORRUPT;
	}
	if (d->argc > SX_JOURNAL_MAX_ARGS) {
		*what = "too many words";
		return SX_ECORRUPT;
	}
	if ((d->flags & J_F_CHECKPOINT) ? d->argc != 0 : d->argc == 0) {
		*what = d->argc ? "checkpoint with words" : "command with no words";
		return SX_ECORRUPT;
	}
	d->src = pl + J_FIXED;
	size_t off = J_FIXED + d->src_len;
	d->who = d->where = NULL;
	d->who_len = d->where_len = 0;
	if ((d->flags & J_F_ORIGIN) &&
	    (get_str(pl, len, &off, SX_JOURNAL_MAX_ORIGIN, &d->who, &d->who_len) ||
	     get_str(pl, len, &off, SX_JOURNAL_MAX_ORIGIN, &d->where, &d->where_len))) {
		*what = "origin (who, where) length out of range";
		return SX_ECORRUPT;
	}
	d->words = pl + off;
	for (uint32_t i = 0; i < d->argc; i++) {
		if (len - off < 4) {
			*what = "word length runs past the payload";
			return SX_ECORRUPT;
		}
		uint32_t wl = sx_le_get32(pl + off);
		off += 4;
		if (len - off < wl) {
			*what = "word runs past the payload";
			return SX_ECORRUPT;
		}
		off += wl;
	}
	if (off != len) {
		*what = "bytes left over after the last word";
		return SX_ECORRUPT;
	}
	return 0;
}

/* ---- checking a whole file ---------------------------------------------- */

typedef struct jscan {
	const char *path;
	const uint8_t *p;
	size_t size;
	size_t end;                /* good entries end here */
	uint64_t entries, checkpoints, first_seq, last_seq;
	size_t last_off;           /* the last good entry (when have_prev) */
	int have_prev;
	size_t torn_off, torn_bytes;
	const uint8_t *src;        /* last source tag seen (into p) */
	uint32_t src_len;
	char *why;                 /* the check's message */
	size_t cap;
} jscan;

/* sx_frame_scan's callback: decode an entry and check its sequence. */
static int check_entry(void *arg, const uint8_t *pl, uint32_t len, size_t off)
{
	jscan *s = arg;
	jdec d;
	const char *what;
	int rc = decode(pl, len, &d, &what);
	if (rc)
		return sx_fail(s->why, s->cap, rc, "journal %s: entry at offset "
		               "%zu: %s", s->path, off, what);
	int ckpt = (d.flags & J_F_CHECKPOINT) != 0;
	if (d.seq == 0 || (s->have_prev && (ckpt ? d.seq < s->last_seq
	                                         : d.seq <= s->last_seq)))
		return sx_fail(s->why, s->cap, SX_ECORRUPT,
		               "journal %s: entry at offset %zu has sequence "
		               "number %llu, not above the %llu of the entry at "
		               "offset %zu", s->path, off,
		               (unsigned long long)d.seq,
		               (unsigned long long)s->last_seq, s->last_off);
	if (ckpt) {
		s->checkpoints++;
	} else {
		if (!s->entries++)
			s->first_seq = d.seq;
	}
	if (d.src_len || ckpt) {
		s->src = d.src;
		s->src_len = d.src_len;
	}
	s->last_seq = d.seq;
	s->last_off = off;
	s->have_prev = 1;
	return 0;
}

/* Check every frame of s->p[0..size): fills end, counts and the torn tail.
 * Returns 0, SX_ECORRUPT, SX_EVERSION or SX_EBADMAGIC with why filled. */
static int validate(jscan *s, char *why, size_t cap)
{
	sx_frame_report fr;

	s->why = why;
	s->cap = cap;
	int rc = sx_frame_scan(&J_KIND, s->p, s->size, check_entry, s, &fr);
	s->end = fr.end;
	if (fr.verdict == SX_FRAME_FOREIGN)
		return sx_frame_foreign(&J_KIND, "journal", s->path, why, cap);
	if (fr.verdict == SX_FRAME_DAMAGED && s->have_prev)
		return sx_fail(why, cap, rc,
		               "journal %s: damaged entry at offset %zu, after "
		               "entry seq %llu (offset %zu), and a valid entry "
		               "follows at offset %zu: corruption in the middle, "
		               "not a torn tail; refusing to replay",
		               s->path, fr.end, (unsigned long long)s->last_seq,
		               s->last_off, fr.next_valid);
	if (fr.verdict == SX_FRAME_DAMAGED)
		return sx_fail(why, cap, rc,
		               "journal %s: damaged entry at offset 0 (before any "
		               "valid entry), and a valid entry follows at offset "
		               "%zu: corruption, not a torn tail; refusing to replay",
		               s->path, fr.next_valid);
	s->torn_off = fr.torn_off;
	s->torn_bytes = fr.torn_bytes;
	return rc;                 /* 0, or check_entry's refusal */
}

/* ---- delivering entries ------------------------------------------------- */

typedef struct jscratch {
	char *buf;
	size_t cap;
	const char **argv;
	size_t *lens;
	sx_str *words;
	uint32_t argcap;
} jscratch;

static void scratch_free(jscratch *sc)
{
	free(sc->buf);
	free(sc->argv);
	free(sc->lens);
	free(sc->words);
}

/* Fill e from d with NUL-terminated copies in sc.  0 or -ENOMEM. */
static int materialise(const jdec *d, uint32_t plen, jscratch *sc,
                       sx_journal_entry *e)
{
	size_t need = (size_t)plen + d->argc + 3;   /* + the NULs */
	if (need > sc->cap) {
		char *b = realloc(sc->buf, need);
		if (!b)
			return -ENOMEM;
		sc->buf = b;
		sc->cap = need;
	}
	if (d->argc + 1 > sc->argcap) {
		uint32_t n = d->argc + 1;
		const char **a = realloc(sc->argv, n * sizeof *a);
		if (a)
			sc->argv = a;
		size_t *l = realloc(sc->lens, n * sizeof *l);
		if (l)
			sc->lens = l;
		sx_str *w = realloc(sc->words, n * sizeof *w);
		if (w)
			sc->words = w;
		if (!a || !l || !w)
			return -ENOMEM;
		sc->argcap = n;
	}
	char *o = sc->buf;
	if (d->src_len)
		memcpy(o, d->src, d->src_len);
	o[d->src_len] = 0;
	e->source = o;
	e->source_len = d->src_len;
	o += d->src_len + 1;
	e->who = e->where = NULL;
	e->who_len = e->where_len = 0;
	if (d->flags & J_F_ORIGIN) {
		if (d->who_len)
			memcpy(o, d->who, d->who_len);
		o[d->who_len] = 0;
		e->who = o;
		e->who_len = d->who_len;
		o += d->who_len + 1;
		if (d->where_len)
			memcpy(o, d->where, d->where_len);
		o[d->where_len] = 0;
		e->where = o;
		e->where_len = d->where_len;
		o += d->where_len + 1;
	}
	const uint8_t *w = d->words;
	for (uint32_t i = 0; i < d->argc; i++) {
		uint32_t wl = sx_le_get32(w);
		memcpy(o, w + 4, wl);
		o[wl] = 0;
		sc->argv[i] = o;
		sc->lens[i] = wl;
		sc->words[i] = (sx_str){ o, wl };
		o += wl + 1;
		w += 4 + wl;
	}
	sc->argv[d->argc] = NULL;
	e->seq = d->seq;
	e->time_ms = d->time_ms;
	e->checkpoint = (d->flags & J_F_CHECKPOINT) != 0;
	e->argc = d->argc;
	e->argv = sc->argv;
	e->lens = sc->lens;
	e->words = sc->words;
	return 0;
}

/* Give the frames of s->p[0..end) (already validated) to cb. */
static int deliver(const jscan *s, unsigned flags, sx_journal_cb cb, void *arg,
                   char *why, size_t cap)
{
	jscratch sc = { 0 };
	const uint8_t *pl;
	uint32_t len;
	int rc = 0;

	for (size_t off = 0, at = 0; sx_frame_next(s->p, s->end, &at, &pl, &len);
	     off = at) {
		jdec d;
		const char *what;
		decode(pl, len, &d, &what);   /* validated */
		if (!(d.flags & J_F_CHECKPOINT) ||
		    (flags & SX_JOURNAL_SCAN_CHECKPOINTS)) {
			sx_journal_entry e;
			if ((rc = materialise(&d, len, &sc, &e))) {
				sx_fail(why, cap, rc, "journal %s: out of memory "
				        "reading entry at offset %zu", s->path, off);
				break;
			}
			e.offset = off;
			if ((rc = cb(arg, &e))) {
				sx_fail(why, cap, rc, "journal %s: replay stopped at "
				        "entry seq %llu (offset %zu): the callback "
				        "returned %d", s->path,
				        (unsigned long long)d.seq, off, rc);
				break;
			}
		}
	}
	scratch_free(&sc);
	return rc;
}

static void fill_report(const jscan *s, sx_journal_report *rep)
{
	if (!rep)
		return;
	memset(rep, 0, sizeof *rep);
	rep->entries = s->entries;
	rep->checkpoints = s->checkpoints;
	rep->first_seq = s->first_seq;
	rep->last_seq = s->last_seq;
	rep->bytes = s->end;
	rep->torn_offset = s->torn_off;
	rep->torn_bytes = s->torn_bytes;
}

/* ---- open, scan, close -------------------------------------------------- */

int sx_journal_scan(const char *path, unsigned flags, sx_journal_cb cb,
                    void *arg, sx_journal_report *rep, char *why, size_t cap)
{
	jscan s = { .path = path };
	int rc;

	if (rep)
		memset(rep, 0, sizeof *rep);
	if ((rc = sx_frame_map_file("journal", path, &s.p, &s.size, why, cap)))
		goto out;
	if ((rc = validate(&s, why, cap)))
		goto out;
	if (cb && (rc = deliver(&s, flags, cb, arg, why, cap)))
		goto out;
	fill_report(&s, rep);
out:
	sx_frame_unmap(s.p, s.size);
	return rc;
}

int sx_journal_open(const char *path, sx_journal **out, sx_journal_cb replay,
                    void *arg, sx_journal_report *rep, char *why, size_t cap)
{
	jscan s = { .path = path };
	sx_journal *j;
	int rc, mode_was = -1;

	*out = NULL;
	if (rep)
		memset(rep, 0, sizeof *rep);
	if (!(j = calloc(1, sizeof *j)) || !(j->path = strdup(path))) {
		free(j);
		return sx_fail(why, cap, -ENOMEM, "journal %s: out of memory", path);
	}
	pthread_mutex_init(&j->mu, NULL);
	if ((rc = sx_frame_open_log("journal", path, &j->fd, &s.size, &mode_was,
	                            why, cap)))
		goto fail;
	if ((rc = sx_frame_map(j->fd, s.size, &s.p))) {
		sx_fail(why, cap, rc, "journal %s: mmap: %s", path, strerror(-rc));
		goto fail;
	}
	/* Check everything before the first callback: never half-applied. */
	if ((rc = validate(&s, why, cap)))
		goto fail;
	if (replay && (rc = deliver(&s, 0, replay, arg, why, cap)))
		goto fail;
	if ((rc = sx_frame_settle_log("journal", path, j->fd, s.torn_bytes != 0,
	                              s.end, why, cap)))
		goto fail;
	j->end = s.end;
	j->last_seq = s.last_seq;
	j->last_source_len = s.src_len;
	if (s.src_len)
		memcpy(j->last_source, s.src, s.src_len);
	j->last_source[s.src_len] = 0;
	fill_report(&s, rep);
	if (rep)
		rep->mode_was = mode_was;
	sx_frame_unmap(s.p, s.size);
	*out = j;
	return 0;
fail:
	sx_frame_unmap(s.p, s.size);
	if (j->fd >= 0)
		close(j->fd);
	pthread_mutex_destroy(&j->mu);
	free(j->path);
	free(j);
	return rc;
}

void sx_journal_close(sx_journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	pthread_mutex_destroy(&j->mu);
	free(j->buf);
	free(j->path);
	free(j);
}

const char *sx_journal_path(const sx_journal *j)
{
	return j->path;
}

/* ---- appending ---------------------------------------------------------- */

static size_t src_len_of(const char *source)
{
	return source ? strlen(source) : 0;
}

/* An origin string's stored length: cut to the limit, not refused (who
 * asked must not decide whether an update is durable). */
static size_t origin_len(const char *s)
{
	return s ? strnlen(s, SX_JOURNAL_MAX_ORIGIN) : 0;
}

static int has_origin(const sx_journal_cmd *c)
{
	return c->who || c->where;
}

/* The frame size of one command, or 0 when it breaks a rule. */
static size_t frame_size(const sx_journal_cmd *c)
{
	if (c->argc == 0 || c->argc > SX_JOURNAL_MAX_ARGS || !c->argv)
		return 0;
	size_t sl = src_len_of(c->source);
	if (sl > SX_JOURNAL_MAX_SOURCE)
		return 0;
	size_t n = J_FIXED + sl;
	if (has_origin(c))
		n += 8 + origin_len(c->who) + origin_len(c->where);
	for (uint32_t i = 0; i < c->argc; i++) {
		if (!c->argv[i])
			return 0;
		size_t wl = c->lens ? c->lens[i] : strlen(c->argv[i]);
		if (wl > SX_JOURNAL_MAX_PAYLOAD)
			return 0;
		n += 4 + wl;
		if (n > SX_JOURNAL_MAX_PAYLOAD)
			return 0;
	}
	return J_HDR + n;
}

/* Encode a frame of size fs at o; the source tag is c->source[0..sl). */
static void encode(uint8_t *o, size_t fs, const sx_journal_cmd *c, size_t sl,
                   uint64_t seq, int64_t t, uint32_t flags)
{
	uint8_t *pl = o + J_HDR, *w;
	uint32_t plen = (uint32_t)(fs - J_HDR);

	if (has_origin(c))
		flags |= J_F_ORIGIN;
	sx_le_put64(pl, seq);
	sx_le_put64(pl + 8, (uint64_t)t);
	sx_le_put32(pl + 16, flags);
	sx_le_put32(pl + 20, c->argc);
	sx_le_put32(pl + 24, (uint32_t)sl);
	if (sl)
		memcpy(pl + J_FIXED, c->source, sl);
	w = pl + J_FIXED + sl;
	if (flags & J_F_ORIGIN) {
		const char *s[2] = { c->who, c->where };
		for (int k = 0; k < 2; k++) {
			size_t ol = origin_len(s[k]);
			sx_le_put32(w, (uint32_t)ol);
			if (ol)
				memcpy(w + 4, s[k], ol);
			w += 4 + ol;
		}
	}
	for (uint32_t i = 0; i < c->argc; i++) {
		size_t wl = c->lens ? c->lens[i] : strlen(c->argv[i]);
		sx_le_put32(w, (uint32_t)wl);
		memcpy(w + 4, c->argv[i], wl);
		w += 4 + wl;
	}
	sx_frame_header(&J_KIND, o, pl, plen);
}

/* Count a failed append and say what failed (j->mu held). */
SX_COLD static void note_error(sx_journal *j, int rc, const char *fmt, ...)
{
	va_list ap;
	j->errors++;
	j->last_error = rc;
	va_start(ap, fmt);
	vsnprintf(j->last_error_text, sizeof j->last_error_text, fmt, ap);
	va_end(ap);
}

/* After a failed append: the file back to the good end (best effort).
 * 0, or the -errno of the ftruncate that failed. */
static int undo_tail(sx_journal *j)
{
	if (sx_wio_ftruncate(j->fd, (off_t)j->end))
		return -errno;
	(void)sx_wio_fdatasync(j->fd);
	return 0;
}

/* A failed journal is usable again once its size is the good end and a
 * flush succeeds.  0, or -errno with *step naming the call that failed. */
static int recheck(sx_journal *j, const char **step)
{
	struct stat st;
	*step = "fstat";
	if (fstat(j->fd, &st))
		return -errno;
	*step = "ftruncate";
	if ((uint64_t)st.st_size != j->end &&
	    sx_wio_ftruncate(j->fd, (off_t)j->end))
		return -errno;
	*step = "fdatasync";
	if (sx_wio_fdatasync(j->fd))
		return -errno;
	j->failed = 0;
	return 0;
}

static int grow_buf(sx_journal *j, size_t need)
{
	if (need <= j->bufcap)
		return 0;
	size_t cap = j->bufcap ? j->bufcap : 4096;
	while (cap < need)
		cap *= 2;
	uint8_t *b = realloc(j->buf, cap);
	if (!b)
		return -ENOMEM;
	j->buf = b;
	j->bufcap = cap;
	return 0;
}

int sx_journal_append_batch(sx_journal *j, size_t n,
                            const sx_journal_cmd *cmds, uint64_t *seqs)
{
	size_t total = 0;
	int rc;

	if (!j || (n && !cmds))
		return SX_EINVAL;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		size_t fs = frame_size(&cmds[i]);
		if (!fs)
			return SX_EINVAL;
		total += fs;
	}

	pthread_mutex_lock(&j->mu);
	const char *step;
	if (j->failed && (rc = recheck(j, &step))) {
		note_error(j, rc, "journal %s: the re-check after a failed append "
		           "(%s, the good end at offset %llu) failed: %s", j->path,
		           step, (unsigned long long)j->end, strerror(-rc));
		goto out;
	}
	if (j->last_seq > UINT64_MAX - n) {   /* a forged or damaged file */
		rc = SX_EFULL;
		goto out;
	}
	if ((rc = grow_buf(j, total)))
		goto out;
	size_t off = 0;
	int64_t now = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		size_t fs = frame_size(&cmds[i]);
		int64_t t = cmds[i].time_ms;
		if (t == SX_JOURNAL_NOW) {
			if (now == INT64_MIN)
				now = sx_real_ms();
			t = now;
		}
		encode(j->buf + off, fs, &cmds[i], src_len_of(cmds[i].source),
		       j->last_seq + 1 + i, t, 0);
		off += fs;
	}
	size_t done = 0;
	int synced = 1;
	rc = sx_wio_write_all(j->fd, j->buf, total, &done);
	if (!rc && sx_wio_fdatasync(j->fd)) {
		rc = -errno;
		synced = 0;
	}
	if (rc) {
		int undo = undo_tail(j);
		j->failed = 1;
		note_error(j, rc, "journal %s: %s %zu bytes at offset %llu: %s "
		           "(%zu bytes landed; %s)", j->path,
		           synced ? "write of" : "fdatasync after writing", total,
		           (unsigned long long)j->end, strerror(-rc), done,
		           undo ? "cutting them back failed too, the next append "
		           "retries" : "cut back");
		goto out;
	}
	j->end += total;
	for (size_t i = 0; i < n; i++) {
		if (seqs)
			seqs[i] = j->last_seq + 1 + i;
		size_t sl = src_len_of(cmds[i].source);
		if (sl) {
			memcpy(j->last_source, cmds[i].source, sl);
			j->last_source[sl] = 0;
			j->last_source_len = sl;
		}
	}
	j->last_seq += n;
	j->appends += n;
	j->commits++;
out:
	pthread_mutex_unlock(&j->mu);
	return rc;
}

int sx_journal_append(sx_journal *j, int64_t time_ms, const char *source,
                      uint32_t argc, const char *const *argv,
                      const size_t *lens, uint64_t *seq)
{
	sx_journal_cmd c = { time_ms, source, argc, argv, lens };
	return sx_journal_append_batch(j, 1, &c, seq);
}

uint64_t sx_journal_last_seq(sx_journal *j)
{
	pthread_mutex_lock(&j->mu);
	uint64_t s = j->last_seq;
	pthread_mutex_unlock(&j->mu);
	return s;
}

size_t sx_journal_last_source(sx_journal *j, char *buf, size_t cap)
{
	pthread_mutex_lock(&j->mu);
	size_t n = j->last_source_len;
	if (cap) {
		size_t c = n < cap - 1 ? n : cap - 1;
		memcpy(buf, j->last_source, c);
		buf[c] = 0;
	}
	pthread_mutex_unlock(&j->mu);
	return n;
}

void sx_journal_get_stats(sx_journal *j, sx_journal_stats *st)
{
	pthread_mutex_lock(&j->mu);
	st->last_seq = j->last_seq;
	st->bytes = j->end;
	st->appends = j->appends;
	st->commits = j->commits;
	st->errors = j->errors;
	st->failed = j->failed;
	st->last_error = j->last_error;
	memcpy(st->last_error_text, j->last_error_text,
	       sizeof st->last_error_text);
	pthread_mutex_unlock(&j->mu);
}

/* ---- compaction --------------------------------------------------------- */

int sx_journal_compact(sx_journal *j, int64_t keep_from_ms,
                       sx_journal_compact_report *rep, char *why, size_t cap)
{
	sx_journal_compact_report r = { 0 };
	jscan s = { .path = j->path };
	char tmp[4096];
	int tfd = -1, rc;

	pthread_mutex_lock(&j->mu);
	const char *step;
	if (j->failed && (rc = recheck(j, &step))) {
		sx_fail(why, cap, rc, "journal %s: cannot compact: the journal "
		        "failed and its re-check (%s) failed: %s", j->path, step,
		        strerror(-rc));
		goto out;
	}
	s.size = j->end;
	r.bytes_before = r.bytes_after = j->end;
	if ((rc = sx_frame_map(j->fd, s.size, &s.p))) {
		sx_fail(why, cap, rc, "journal %s: mmap: %s", j->path, strerror(-rc));
		goto out;
	}
	/* Only appends wrote the file since open checked it, but it is cheap
	 * to be sure before copying it. */
	if ((rc = validate(&s, why, cap)))
		goto out;
	if (s.torn_bytes) {
		rc = sx_fail(why, cap, SX_ECORRUPT, "journal %s: damaged entry at "
		             "offset %zu found while compacting", j->path, s.end);
		goto out;
	}
	const uint8_t *pl;
	uint32_t plen;
	for (size_t off = 0; sx_frame_next(s.p, s.end, &off, &pl, &plen);) {
		jdec d;
		const char *what;
		decode(pl, plen, &d, &what);
		if (d.flags & J_F_CHECKPOINT)
			;                  /* replaced by the new checkpoint */
		else if (d.time_ms < keep_from_ms)
			r.dropped++;
		else
			r.kept++;
	}
	if (!r.dropped) {          /* nothing to gain: leave the file alone */
		rc = 0;
		goto out;
	}

	snprintf(tmp, sizeof tmp, "%s.compact.tmp", j->path);
	char msg[512];
	tfd = sx_file_open(tmp, O_RDWR | O_TRUNC | O_APPEND, NULL, msg, sizeof msg);
	if (tfd < 0) {
		rc = sx_fail(why, cap, tfd, "journal %s: %s", j->path, msg);
		goto out;
	}
	/* Copy runs of kept frames with one write each. */
	size_t run = 0, run_len = 0, newsize = 0;
	for (size_t off = 0; off <= s.end;) {
		int keep = 0;
		uint32_t len = 0;
		if (off < s.end) {
			len = sx_le_get32(s.p + off + 4);
			jdec d;
			const char *what;
			decode(s.p + off + J_HDR, len, &d, &what);
			keep = !(d.flags & J_F_CHECKPOINT) && d.time_ms >= keep_from_ms;
		}
		if (keep) {
			if (!run_len)
				run = off;
			run_len += J_HDR + len;
		} else if (run_len) {
			if ((rc = sx_wio_write_all(tfd, s.p + run, run_len, NULL))) {
				sx_fail(why, cap, rc, "journal %s: writing %s: %s", j->path,
				        tmp, strerror(-rc));
				goto out;
			}
			newsize += run_len;
			run_len = 0;
		}
		if (off == s.end)
			break;
		off += J_HDR + len;
	}
	/* The checkpoint: last sequence number and source tag. */
	const char *none[1] = { NULL };
	sx_journal_cmd ck = { keep_from_ms, j->last_source, 0, none, NULL };
	size_t fs = J_HDR + J_FIXED + j->last_source_len;
	uint8_t frame[J_HDR + J_FIXED + SX_JOURNAL_MAX_SOURCE];
	encode(frame, fs, &ck, j->last_source_len, j->last_seq, keep_from_ms,
	       J_F_CHECKPOINT);
	if ((rc = sx_wio_write_all(tfd, frame, fs, NULL))) {
		sx_fail(why, cap, rc, "journal %s: writing %s: %s", j->path, tmp,
		        strerror(-rc));
		goto out;
	}
	newsize += fs;
	if (sx_wio_fsync(tfd)) {
		rc = sx_fail(why, cap, -errno, "journal %s: fsync of %s: %s", j->path,
		             tmp, strerror(errno));
		goto out;
	}
	if (flock(tfd, LOCK_EX | LOCK_NB)) {
		rc = sx_fail(why, cap, -errno, "journal %s: lock %s: %s", j->path, tmp,
		             strerror(errno));
		goto out;
	}
	if (rename(tmp, j->path)) {
		rc = sx_fail(why, cap, -errno, "journal %s: rename %s over it: %s",
		             j->path, tmp, strerror(errno));
		goto out;
	}
	/* From here the compacted file is the journal. */
	close(j->fd);
	j->fd = tfd;
	tfd = -1;
	j->end = newsize;
	r.bytes_after = newsize;
	if ((rc = sx_wio_fsync_dir(j->path)))
		sx_fail(why, cap, rc, "journal %s: compacted, but the fsync of its "
		        "directory failed (the rename may not survive a crash; "
		        "either file is a correct journal): %s", j->path,
		        strerror(-rc));
out:
	sx_frame_unmap(s.p, s.size);
	if (tfd >= 0) {
		close(tfd);
		unlink(tmp);
	}
	pthread_mutex_unlock(&j->mu);
	if (rep)
		*rep = r;
	return rc;
}
