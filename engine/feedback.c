/*
 * feedback.c - the feedback log: hot-path writer and reader (contract in
 * feedback.h, bytes in docs/JOURNAL.md; the per-case summary built on the
 * reader is tools/fbsummary.c).
 *
 * The idea: lookups must not wait for a disk, so the writer is two
 * buffers per shard.  Workers encode into their shard's active buffer
 * under the shard's mutex (held for a memcpy; a thread keeps to one shard,
 * so nobody else wants it except the flusher for a pointer swap).  The
 * flusher thread swaps full buffers out, fills in the checksums (so the
 * hot path does not hash), writes each buffer with one write and
 * fdatasyncs once per cycle.  A buffer that fails to write stays with the
 * flusher and is retried next cycle, while its shard fills the other
 * buffer up to its limit and then drops (and counts) records: memory
 * stays bounded and lookups never block.  A write that failed part-way is
 * truncated back to the last good end before anything else is written, so
 * the file never gets valid records after half a frame (which the next
 * open would have to refuse as corruption in the middle).
 *
 * Trade-off: records of different shards interleave in the file (order is
 * exact per thread, rough across threads); the summary does not care, and
 * the alternative, one ordered queue, is the shared lock we avoid.
 */
#include "frame.h"
#include "feedback.h"
#include "wio.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

/* Frame: u32 magic, u32 payload length, u64 XXH3-64(payload), payload. */
#define F_MAGIC 0x31465853u          /* "SXF1" as little-endian bytes */
#define F_HDR   SX_FRAME_HDR
/* Payload: i64 time_ms, u8 channel, u8 id_type, u8 reason, u8 flags,
 * u16 ncases, then u16-length-prefixed tenant, class, id, and ncases x
 * (case_no, court). */
#define F_FIXED 14u
#define F_FLAG_CASES_CUT 1u
#define F_FLAGS_KNOWN    F_FLAG_CASES_CUT

static const sx_frame_kind F_KIND = { F_MAGIC, SX_FEEDBACK_MAX_RECORD };

/* ---- the writer's state ------------------------------------------------- */

typedef struct fb_shard {
	_Alignas(64) pthread_mutex_t mu;
	uint8_t *buf;              /* active: records being added */
	size_t len, cap;
	uint64_t nrec;
	uint8_t *spare;            /* the other buffer, when not with the flusher */
	size_t spare_cap;
	uint64_t added, dropped;
	int kicked;                /* flusher woken for this fill already */
} fb_shard;

typedef struct fb_taken {      /* a buffer the flusher is writing */
	uint8_t *buf;
	size_t len, cap;
	uint64_t nrec;
} fb_taken;

struct sx_feedback {
	char *path;
	int fd;
	unsigned nshards;
	size_t shard_max;
	unsigned flush_ms;
	fb_shard *shards;
	fb_taken *taken;           /* flusher only */
	uint64_t good_end;         /* flusher only: file length of whole frames */
	int need_trunc;            /* flusher only: junk after good_end */
	int need_sync;             /* flusher only: written but not yet synced */
	atomic_uint_fast64_t taken_nrec;
	atomic_int kick;

	pthread_t thread;
	int started;
	pthread_mutex_t mu;        /* control and stats below */
	pthread_cond_t wake, done;
	uint64_t req, done_req;
	int stop;
	int cycle_rc;
	uint64_t written, bytes, fsyncs, write_errors, fsync_errors;
	int64_t last_fsync_ms;
	int last_error;
	char last_error_text[256];
};

/* ---- payloads ----------------------------------------------------------- */

/* A string of the payload at *off: bounds-checked. */
static int take_str(const uint8_t *pl, uint32_t len, size_t *off, sx_str *s)
{
	if (len - *off < 2)
		return -1;
	uint16_t n = sx_le_get16(pl + *off);
	*off += 2;
	if (len - *off < n)
		return -1;
	s->p = (const char *)pl + *off;
	s->n = n;
	*off += n;
	return 0;
}

/*
 * Parse a payload into r; cases go to cases[] (room for 65535) when not
 * NULL.  at is the payload's offset in the file, for messages.  Returns
 * 0, or SX_ECORRUPT / SX_EVERSION with what (cap bytes, may be NULL)
 * saying which field and where.  The writer stores only a known channel,
 * ID type and one of the four fed-back outcomes (sx_reason_fed_back:
 * LISTED, REVIEW (since the joint-punishment measures), SUSPENDED,
 * EXEMPT), so anything else behind
 * a good checksum is a newer writer or damage, and refused like unknown
 * flags: a reader that counted it would count it under no decision.
 */
static int decode(const uint8_t *pl, uint32_t len, size_t at,
                  sx_feedback_rec *r, sx_feedback_case *cases, char *what,
                  size_t cap)
{
	size_t off = F_FIXED;
	memset(r, 0, sizeof *r);
	if (len < F_FIXED)
		return sx_fail(what, cap, SX_ECORRUPT, "payload of %u bytes is "
		               "shorter than its %u bytes of fixed fields", len,
		               F_FIXED);
	r->time_ms = (int64_t)sx_le_get64(pl);
	r->channel = pl[8];
	r->id_type = pl[9];
	r->reason = pl[10];
	if (r->channel >= SX_NCODES)
		return sx_fail(what, cap, SX_EVERSION, "channel %u (the byte at "
		               "offset %zu) is not a known channel (0..%d); written "
		               "by a newer sxgate, or damaged", r->channel, at + 8,
		               SX_NCODES - 1);
	if (r->id_type >= SX_NIDTYPES)
		return sx_fail(what, cap, SX_EVERSION, "ID type %u (the byte at "
		               "offset %zu) is not a known ID type (0..%d); written "
		               "by a newer sxgate, or damaged", r->id_type, at + 9,
		               SX_NIDTYPES - 1);
	if (r->reason >= SX_NREASONS || !sx_reason_fed_back(r->reason))
		return sx_fail(what, cap, SX_EVERSION, "reason %u (the byte at "
		               "offset %zu) is not LISTED (%d), REVIEW (%d), "
		               "SUSPENDED (%d) or EXEMPT (%d), the decisions the log "
		               "holds; written by a newer sxgate, or damaged",
		               r->reason, at + 10, SX_R_LISTED, SX_R_REVIEW,
		               SX_R_SUSPENDED, SX_R_EXEMPT);
	if (pl[11] & ~F_FLAGS_KNOWN)
		return sx_fail(what, cap, SX_EVERSION, "unknown record flags 0x%02x "
		               "(the byte at offset %zu; written by a newer sxgate?)",
		               pl[11], at + 11);
	r->cases_cut = pl[11] & F_FLAG_CASES_CUT;
	r->ncases = sx_le_get16(pl + 12);
	if (take_str(pl, len, &off, &r->tenant) ||
	    take_str(pl, len, &off, &r->cls) ||
	    take_str(pl, len, &off, &r->id))
		return sx_fail(what, cap, SX_ECORRUPT, "a string runs past the "
		               "payload (at offset %zu)", at + off);
	for (uint32_t i = 0; i < r->ncases; i++) {
		sx_feedback_case c;
		if (take_str(pl, len, &off, &c.case_no) ||
		    take_str(pl, len, &off, &c.court))
			return sx_fail(what, cap, SX_ECORRUPT, "case %u of %u runs past "
			               "the payload (at offset %zu)", i + 1, r->ncases,
			               at + off);
		if (cases)
			cases[i] = c;
	}
	if (off != len)
		return sx_fail(what, cap, SX_ECORRUPT, "%zu bytes left over after "
		               "the last case (at offset %zu)", len - off, at + off);
	r->cases = cases;
	return 0;
}

/* ---- checking a whole file ---------------------------------------------- */

/* sx_frame_scan's callback: decode a record. */
static int check_record(void *arg, const uint8_t *pl, uint32_t len,
                        size_t off)
{
	sx_feedback_view *s = arg;
	sx_feedback_rec r;
	char what[256];
	int rc = decode(pl, len, off + F_HDR, &r, NULL, what, sizeof what);
	if (rc)
		return sx_fail(s->why, s->cap, rc, "feedback log %s: record %llu "
		               "at offset %zu: %s", s->path,
		               (unsigned long long)s->records + 1, off, what);
	s->records++;
	return 0;
}

/* The frames' torn-tail / corrupt-middle rule (frame.h), in this log's
 * words. */
static int validate(sx_feedback_view *s, char *why, size_t cap)
{
	sx_frame_report fr;

	s->why = why;
	s->cap = cap;
	int rc = sx_frame_scan(&F_KIND, s->p, s->size, check_record, s, &fr);
	s->end = fr.end;
	if (fr.verdict == SX_FRAME_FOREIGN)
		return sx_frame_foreign(&F_KIND, "feedback log", s->path, why, cap);
	if (fr.verdict == SX_FRAME_DAMAGED && s->records)
		return sx_fail(why, cap, rc, "feedback log %s: damaged "
		               "record at offset %zu, after record %llu (offset "
		               "%zu), and a valid record follows at offset %zu: "
		               "corruption in the middle, not a torn tail",
		               s->path, fr.end, (unsigned long long)s->records,
		               fr.last_off, fr.next_valid);
	if (fr.verdict == SX_FRAME_DAMAGED)
		return sx_fail(why, cap, rc, "feedback log %s: damaged "
		               "record at offset 0, and a valid record follows at "
		               "offset %zu: corruption, not a torn tail", s->path,
		               fr.next_valid);
	s->torn_off = fr.torn_off;
	s->torn_bytes = fr.torn_bytes;
	return rc;                 /* 0, or check_record's refusal */
}

void sx_feedback_view_report(const sx_feedback_view *s,
                             sx_feedback_report *rep)
{
	if (!rep)
		return;
	rep->records = s->records;
	rep->bytes = s->end;
	rep->torn_offset = s->torn_off;
	rep->torn_bytes = s->torn_bytes;
}

int sx_feedback_view_open(const char *path, sx_feedback_view *v, char *why,
                          size_t cap)
{
	int rc;

	memset(v, 0, sizeof *v);
	v->path = path;
	if (!(rc = sx_frame_map_file("feedback log", path, &v->p, &v->size, why,
	                             cap)) &&
	    !(rc = validate(v, why, cap)))
		return 0;
	sx_feedback_view_close(v);
	return rc;
}

int sx_feedback_view_next(sx_feedback_view *v, sx_feedback_rec *r,
                          sx_feedback_case *cases, size_t *at)
{
	const uint8_t *pl;
	uint32_t len;
	size_t off = v->next;
	if (!sx_frame_next(v->p, v->end, &v->next, &pl, &len))
		return 0;
	decode(pl, len, off + F_HDR, r, cases, NULL, 0);   /* validated */
	if (at)
		*at = off;
	return 1;
}

void sx_feedback_view_close(sx_feedback_view *v)
{
	sx_frame_unmap(v->p, v->size);
	v->p = NULL;
}

/* ---- reading ------------------------------------------------------------ */

int sx_feedback_read(const char *path, sx_feedback_cb cb, void *arg,
                     sx_feedback_report *rep, char *why, size_t cap)
{
	sx_feedback_view v;
	int rc;

	if (rep)
		memset(rep, 0, sizeof *rep);
	if ((rc = sx_feedback_view_open(path, &v, why, cap)))
		return rc;
	sx_feedback_case *cases = malloc(65536 * sizeof *cases);
	if (!cases) {
		sx_feedback_view_close(&v);
		return sx_fail(why, cap, -ENOMEM, "feedback log %s: out of memory",
		               path);
	}
	uint64_t n = 0;
	sx_feedback_rec r;
	size_t off;
	while (cb && sx_feedback_view_next(&v, &r, cases, &off)) {
		n++;
		if ((rc = cb(arg, &r))) {
			sx_fail(why, cap, rc, "feedback log %s: reading stopped at record "
			        "%llu (offset %zu)", path, (unsigned long long)n, off);
			break;
		}
	}
	if (!rc)
		sx_feedback_view_report(&v, rep);
	free(cases);
	sx_feedback_view_close(&v);
	return rc;
}

/* ---- adding (the hot path) ---------------------------------------------- */

static atomic_uint next_slot;
static _Thread_local unsigned my_slot;   /* 0: not assigned yet */

static inline fb_shard *shard_of_thread(sx_feedback *fb)
{
	if (sx_unlikely(!my_slot))
		my_slot = atomic_fetch_add(&next_slot, 1) + 1;
	return &fb->shards[(my_slot - 1) % fb->nshards];
}

static inline sx_str or_dash(sx_str s)
{
	if (!s.p || !s.n)
		return (sx_str){ "-", 1 };
	if (s.n > SX_FEEDBACK_MAX_STR)
		s.n = SX_FEEDBACK_MAX_STR;
	return s;
}

static inline size_t cut(size_t n)
{
	return n > SX_FEEDBACK_MAX_STR ? SX_FEEDBACK_MAX_STR : n;
}

static inline uint8_t *put_str(uint8_t *o, const char *p, size_t n)
{
	sx_le_put16(o, (uint16_t)n);
	if (n)
		memcpy(o + 2, p, n);
	return o + 2 + n;
}

/* Grow s's active buffer to hold need bytes, within the shard limit.
 * Called with the shard locked; 0 or -1. */
static int shard_grow(sx_feedback *fb, fb_shard *s, size_t need)
{
	if (need > fb->shard_max)
		return -1;
	size_t cap = s->cap ? s->cap : 16384;
	while (cap < need)
		cap *= 2;
	if (cap > fb->shard_max)
		cap = fb->shard_max;
	uint8_t *b = realloc(s->buf, cap);
	if (!b)
		return -1;
	s->buf = b;
	s->cap = cap;
	return 0;
}

int sx_feedback_add(sx_feedback *fb, const sx_feedback_rec *r)
{
	if (sx_unlikely(r->channel >= SX_NCODES || r->id_type >= SX_NIDTYPES ||
	                r->reason >= SX_NREASONS || !sx_reason_fed_back(r->reason) ||
	                (r->ncases && !r->cases)))
		return SX_EINVAL;
	sx_str tenant = or_dash(r->tenant), cls = or_dash(r->cls);
	size_t idn = r->id.p ? cut(r->id.n) : 0;
	size_t size = F_HDR + F_FIXED + 6 + tenant.n + cls.n + idn;
	uint32_t nc = 0;
	uint8_t flags = 0;
	for (; nc < r->ncases && nc < 65535; nc++) {
		size_t cs = 4 + cut(r->cases[nc].case_no.n) + cut(r->cases[nc].court.n);
		if (size + cs > F_HDR + SX_FEEDBACK_MAX_RECORD)
			break;
		size += cs;
	}
	if (nc < r->ncases)
		flags |= F_FLAG_CASES_CUT;
	/* the coarse clock: a stamp to the tick is plenty, and it is the
	 * cheapest read on the hot path */
	int64_t t = r->time_ms ? r->time_ms :
	            (int64_t)(sx_clock_ns(CLOCK_REALTIME_COARSE) / 1000000u);

	fb_shard *s = shard_of_thread(fb);
	pthread_mutex_lock(&s->mu);
	if (sx_unlikely(s->len + size > s->cap) &&
	    shard_grow(fb, s, s->len + size)) {
		s->dropped++;
		pthread_mutex_unlock(&s->mu);
		return SX_EFULL;
	}
	uint8_t *o = s->buf + s->len, *pl = o + F_HDR;
	sx_le_put32(o, F_MAGIC);
	sx_le_put32(o + 4, (uint32_t)(size - F_HDR));
	/* o + 8: the checksum, filled in by the flusher */
	sx_le_put64(pl, (uint64_t)t);
	pl[8] = r->channel;
	pl[9] = r->id_type;
	pl[10] = r->reason;
	pl[11] = flags;
	sx_le_put16(pl + 12, (uint16_t)nc);
	uint8_t *w = pl + F_FIXED;
	w = put_str(w, tenant.p, tenant.n);
	w = put_str(w, cls.p, cls.n);
	w = put_str(w, r->id.p, idn);
	for (uint32_t i = 0; i < nc; i++) {
		const sx_feedback_case *c = &r->cases[i];
		w = put_str(w, c->case_no.p, cut(c->case_no.n));
		w = put_str(w, c->court.p, cut(c->court.n));
	}
	s->len += size;
	s->nrec++;
	s->added++;
	int kick = 0;
	if (sx_unlikely(s->len > fb->shard_max / 2) && !s->kicked)
		kick = s->kicked = 1;
	pthread_mutex_unlock(&s->mu);
	if (sx_unlikely(kick)) {
		atomic_store(&fb->kick, 1);
		pthread_cond_signal(&fb->wake);
	}
	return 0;
}

/* ---- the flusher -------------------------------------------------------- */

SX_COLD static void note_error(sx_feedback *fb, int rc, int is_sync,
                               const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&fb->mu);
	if (is_sync)
		fb->fsync_errors++;
	else
		fb->write_errors++;
	fb->last_error = rc;
	va_start(ap, fmt);
	vsnprintf(fb->last_error_text, sizeof fb->last_error_text, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&fb->mu);
}

/* Take shard i's active buffer (when it has records) and checksum it. */
static void take(sx_feedback *fb, unsigned i)
{
	fb_shard *s = &fb->shards[i];
	fb_taken *t = &fb->taken[i];

	pthread_mutex_lock(&s->mu);
	if (s->len) {
		t->buf = s->buf;
		t->len = s->len;
		t->cap = s->cap;
		t->nrec = s->nrec;
		s->buf = s->spare;
		s->cap = s->spare_cap;
		s->spare = NULL;
		s->spare_cap = 0;
		s->len = 0;
		s->nrec = 0;
		s->kicked = 0;
	}
	pthread_mutex_unlock(&s->mu);
	if (!t->len)
		return;
	atomic_fetch_add(&fb->taken_nrec, t->nrec);
	for (size_t off = 0; off < t->len;) {
		uint32_t len = sx_le_get32(t->buf + off + 4);
		sx_le_put64(t->buf + off + 8, XXH3_64bits(t->buf + off + F_HDR, len));
		off += F_HDR + len;
	}
}

/* Give a written buffer back to its shard as the spare. */
static void release(sx_feedback *fb, unsigned i)
{
	fb_shard *s = &fb->shards[i];
	fb_taken *t = &fb->taken[i];

	atomic_fetch_sub(&fb->taken_nrec, t->nrec);
	pthread_mutex_lock(&s->mu);
	if (!s->spare) {
		s->spare = t->buf;
		s->spare_cap = t->cap;
		t->buf = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	free(t->buf);
	memset(t, 0, sizeof *t);
}

/* Write every taken buffer; 0 or the first -errno (the rest stay taken). */
static int write_taken(sx_feedback *fb)
{
	if (fb->need_trunc) {
		if (sx_wio_ftruncate(fb->fd, (off_t)fb->good_end)) {
			int rc = -errno;
			note_error(fb, rc, 0, "feedback log %s: cannot cut a partial "
			           "write back to offset %llu: %s; not writing",
			           fb->path, (unsigned long long)fb->good_end,
			           strerror(-rc));
			return rc;
		}
		fb->need_trunc = 0;
	}
	for (unsigned i = 0; i < fb->nshards; i++) {
		fb_taken *t = &fb->taken[i];
		if (!t->len)
			continue;
		size_t done = 0;
		int rc = sx_wio_write_all(fb->fd, t->buf, t->len, &done);
		if (rc) {
			note_error(fb, rc, 0, "feedback log %s: write of %zu bytes at "
			           "offset %llu: %s", fb->path, t->len,
			           (unsigned long long)fb->good_end, strerror(-rc));
			if (done && sx_wio_ftruncate(fb->fd, (off_t)fb->good_end))
				fb->need_trunc = 1;
			return rc;             /* the disk is unwell: retry later */
		}
		fb->good_end += t->len;
		fb->need_sync = 1;
		pthread_mutex_lock(&fb->mu);
		fb->written += t->nrec;
		fb->bytes += t->len;
		pthread_mutex_unlock(&fb->mu);
		release(fb, i);
	}
	return 0;
}

/* One round: take, write, sync.  Returns 0 or the first -errno.  Two
 * passes, because a shard whose previous buffer was still waiting to be
 * retried could not be taken in the first. */
static int cycle(sx_feedback *fb)
{
	int rc = 0;

	for (int pass = 0; pass < 2 && !rc; pass++) {
		int any = 0;
		for (unsigned i = 0; i < fb->nshards; i++)
			if (!fb->taken[i].len) {
				take(fb, i);
				any |= fb->taken[i].len != 0;
			}
		if (pass && !any)
			break;
		rc = write_taken(fb);
	}
	if (fb->need_sync) {
		if (sx_wio_fdatasync(fb->fd)) {
			int e = -errno;
			note_error(fb, e, 1, "feedback log %s: fdatasync: %s",
			           fb->path, strerror(-e));
			if (!rc)
				rc = e;
		} else {
			fb->need_sync = 0;
			pthread_mutex_lock(&fb->mu);
			fb->fsyncs++;
			fb->last_fsync_ms = sx_real_ms();
			pthread_mutex_unlock(&fb->mu);
		}
	}
	return rc;
}

static void *flusher(void *arg)
{
	sx_feedback *fb = arg;

	pthread_mutex_lock(&fb->mu);
	for (;;) {
		uint64_t due = sx_mono_ns() + (uint64_t)fb->flush_ms * 1000000u;
		struct timespec dl = { (time_t)(due / 1000000000u),
		                       (long)(due % 1000000000u) };
		while (!fb->stop && fb->req == fb->done_req &&
		       !atomic_load(&fb->kick))
			if (pthread_cond_timedwait(&fb->wake, &fb->mu, &dl) ==
			    ETIMEDOUT)
				break;
		uint64_t req = fb->req;
		int stopping = fb->stop;
		atomic_store(&fb->kick, 0);
		pthread_mutex_unlock(&fb->mu);
		int rc = cycle(fb);
		pthread_mutex_lock(&fb->mu);
		fb->cycle_rc = rc;
		fb->done_req = req;
		pthread_cond_broadcast(&fb->done);
		if (stopping)
			break;
	}
	pthread_mutex_unlock(&fb->mu);
	return NULL;
}

int sx_feedback_flush(sx_feedback *fb)
{
	pthread_mutex_lock(&fb->mu);
	uint64_t my = ++fb->req;
	pthread_cond_signal(&fb->wake);
	while (fb->done_req < my)
		pthread_cond_wait(&fb->done, &fb->mu);
	int rc = fb->cycle_rc;
	pthread_mutex_unlock(&fb->mu);
	return rc;
}

void sx_feedback_get_stats(sx_feedback *fb, sx_feedback_stats *st)
{
	memset(st, 0, sizeof *st);
	for (unsigned i = 0; i < fb->nshards; i++) {
		fb_shard *s = &fb->shards[i];
		pthread_mutex_lock(&s->mu);
		st->added += s->added;
		st->dropped += s->dropped;
		st->buffered += s->nrec;
		pthread_mutex_unlock(&s->mu);
	}
	st->buffered += atomic_load(&fb->taken_nrec);
	pthread_mutex_lock(&fb->mu);
	st->written = fb->written;
	st->bytes = fb->bytes;
	st->fsyncs = fb->fsyncs;
	st->write_errors = fb->write_errors;
	st->fsync_errors = fb->fsync_errors;
	st->last_fsync_ms = fb->last_fsync_ms;
	st->last_error = fb->last_error;
	memcpy(st->last_error_text, fb->last_error_text,
	       sizeof st->last_error_text);
	pthread_mutex_unlock(&fb->mu);
}

/* ---- open and close ----------------------------------------------------- */

static void destroy(sx_feedback *fb)
{
	if (fb->shards) {
		for (unsigned i = 0; i < fb->nshards; i++) {
			pthread_mutex_destroy(&fb->shards[i].mu);
			free(fb->shards[i].buf);
			free(fb->shards[i].spare);
		}
		free(fb->shards);
	}
	if (fb->taken) {
		for (unsigned i = 0; i < fb->nshards; i++)
			free(fb->taken[i].buf);
		free(fb->taken);
	}
	if (fb->fd >= 0)
		close(fb->fd);
	pthread_cond_destroy(&fb->wake);
	pthread_cond_destroy(&fb->done);
	pthread_mutex_destroy(&fb->mu);
	free(fb->path);
	free(fb);
}

int sx_feedback_open(const char *path, sx_feedback **out,
                     sx_feedback_report *rep, char *why, size_t cap)
{
	return sx_feedback_open_opts(path, NULL, out, rep, why, cap);
}

int sx_feedback_open_opts(const char *path, const sx_feedback_opts *o,
                          sx_feedback **out, sx_feedback_report *rep,
                          char *why, size_t cap)
{
	sx_feedback_view s = { .path = path };
	sx_feedback *fb;
	pthread_condattr_t ca;
	int rc, mode_was = -1;

	*out = NULL;
	if (rep)
		memset(rep, 0, sizeof *rep);
	if (!(fb = calloc(1, sizeof *fb)))
		return sx_fail(why, cap, -ENOMEM, "feedback log %s: out of memory",
		               path);
	fb->fd = -1;
	pthread_mutex_init(&fb->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&fb->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&fb->done, NULL);
	fb->nshards = o && o->shards ? o->shards : 32;
	size_t maxbuf = o && o->max_buffer ? o->max_buffer : (size_t)64 << 20;
	fb->shard_max = maxbuf / fb->nshards;
	if (fb->shard_max < 4096)
		fb->shard_max = 4096;
	fb->flush_ms = o && o->flush_ms ? o->flush_ms : 200;
	if (fb->flush_ms > 1000)
		fb->flush_ms = 1000;
	fb->path = strdup(path);
	/* shards are cache-line aligned so workers do not share lines */
	if (posix_memalign((void **)&fb->shards, 64,
	                   fb->nshards * sizeof *fb->shards))
		fb->shards = NULL;
	else
		memset(fb->shards, 0, fb->nshards * sizeof *fb->shards);
	fb->taken = calloc(fb->nshards, sizeof *fb->taken);
	if (!fb->path || !fb->shards || !fb->taken) {
		rc = sx_fail(why, cap, -ENOMEM, "feedback log %s: out of memory", path);
		goto fail;
	}
	for (unsigned i = 0; i < fb->nshards; i++)
		pthread_mutex_init(&fb->shards[i].mu, NULL);

	if ((rc = sx_frame_open_log("feedback log", path, &fb->fd, &s.size,
	                            &mode_was, why, cap)))
		goto fail;
	if ((rc = sx_frame_map(fb->fd, s.size, &s.p))) {
		sx_fail(why, cap, rc, "feedback log %s: mmap: %s", path, strerror(-rc));
		goto fail;
	}
	if ((rc = validate(&s, why, cap)))
		goto fail;
	if ((rc = sx_frame_settle_log("feedback log", path, fb->fd,
	                              s.torn_bytes != 0, s.end, why, cap)))
		goto fail;
	fb->good_end = s.end;
	sx_feedback_view_report(&s, rep);
	if (rep)
		rep->mode_was = mode_was;
	sx_frame_unmap(s.p, s.size);
	s.p = NULL;
	if ((rc = pthread_create(&fb->thread, NULL, flusher, fb))) {
		rc = sx_fail(why, cap, -rc, "feedback log %s: cannot start the "
		             "flusher thread: %s", path, strerror(rc));
		goto fail;
	}
	fb->started = 1;
	*out = fb;
	return 0;
fail:
	sx_frame_unmap(s.p, s.size);
	destroy(fb);
	return rc;
}

int sx_feedback_close(sx_feedback *fb)
{
	if (!fb)
		return 0;
	int rc = 0;
	if (fb->started) {
		pthread_mutex_lock(&fb->mu);
		fb->stop = 1;
		fb->req++;
		pthread_cond_signal(&fb->wake);
		pthread_mutex_unlock(&fb->mu);
		pthread_join(fb->thread, NULL);
		rc = fb->cycle_rc;
	}
	destroy(fb);
	return rc;
}
