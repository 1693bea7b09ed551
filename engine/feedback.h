/*
 * feedback.h - the feedback log to the courts (SPEC 8, `sxgated
 * --feedback FILE`): every DENY, REVIEW, EXEMPT and SUSPENDED decision, with the
 * cases behind it, appended to a framed file that `sxgate feedback
 * summarize` turns into per-court, per-case refusal counts (自动反馈).
 *
 * Writing is built for the lookup hot path.  sx_feedback_add() encodes the
 * record into one of several sharded in-memory buffers (a thread keeps to
 * one shard, so its mutex is uncontended) and returns: no system call, no
 * shared lock, no allocation once the buffers have grown.  A background
 * thread swaps the buffers out, writes them and fdatasyncs, every
 * flush_ms (at most 1000: "fsync'd at least once a second").  Memory is
 * bounded: when the disk is stuck or failing the buffers fill up and
 * further records are dropped and counted, never waited for.  Write and
 * fsync errors are counted; a write that fails part-way is cut back so the
 * file never holds half a frame followed by more records.
 *
 * Records of different shards interleave in the file, so it is in time
 * order only roughly (within a flush interval); readers sort when they
 * need order.
 *
 * The file is frames ("SXF1", length, XXH3-64, payload; docs/JOURNAL.md).
 * Opening for writing cuts a torn tail and refuses a file damaged in the
 * middle, exactly as the journal does (journal.h).
 */
#ifndef SX_FEEDBACK_H
#define SX_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>
#include "sx.h"
#include "decide.h"     /* sx_str, SX_R_* */

typedef struct sx_feedback sx_feedback;

/* One case behind a decision: its number and court, as spelled in the
 * list (sx_recview's case_no and court). */
typedef struct sx_feedback_case {
	sx_str case_no;
	sx_str court;
} sx_feedback_case;

/* A record.  Writing: every pointer need only be valid during
 * sx_feedback_add() (the record is copied).  Reading: every pointer is
 * valid only during the callback. */
typedef struct sx_feedback_rec {
	int64_t time_ms;          /* unix milliseconds; 0 when adding: now */
	sx_str tenant;            /* NULL or empty: stored as "-" */
	uint8_t channel;          /* SX_C_* */
	sx_str cls;               /* class text, e.g. "G1234:second"; NULL or
	                             empty: stored as "-" */
	uint8_t id_type;          /* SX_IDT_* */
	sx_str id;                /* the normalised ID */
	uint8_t reason;           /* SX_R_LISTED (DENY), SX_R_REVIEW,
	                             SX_R_SUSPENDED or SX_R_EXEMPT */
	uint8_t cases_cut;        /* reading: 1 when the writer had to leave
	                             cases out to fit SX_FEEDBACK_MAX_RECORD */
	uint32_t ncases;
	const sx_feedback_case *cases;  /* DENY, REVIEW: the named records' cases;
	                                   SUSPENDED/EXEMPT: those concerned */
} sx_feedback_rec;

/* Longest encoded record; a string is cut to SX_FEEDBACK_MAX_STR bytes
 * and cases past the limit are left out (the record says so). */
#define SX_FEEDBACK_MAX_RECORD 65536u
#define SX_FEEDBACK_MAX_STR    1024u

typedef struct sx_feedback_opts {
	unsigned shards;          /* buffers; 0: 32 */
	size_t max_buffer;        /* bytes of records held in memory before
	                             dropping, over all shards; 0: 64 MiB.
	                             Each shard gets max_buffer / shards, and a
	                             thread fills one shard.  At most twice
	                             this is allocated (buffers being written
	                             plus buffers filling), and only as used. */
	unsigned flush_ms;        /* write + fdatasync period; 0: 200; values
	                             over 1000 are taken as 1000 */
} sx_feedback_opts;

typedef struct sx_feedback_report {
	uint64_t records;         /* valid records in the file */
	uint64_t bytes;           /* their length */
	uint64_t torn_offset;     /* where a torn tail began */
	uint64_t torn_bytes;      /* its length; 0: clean end */
	int mode_was;             /* sx_feedback_open: -1, or the other mode an
	                             existing log had before it was given the
	                             file mode (wio.h), for a log line */
} sx_feedback_report;

/*
 * Open (creating it when missing) the feedback log at path for appending
 * and start its flusher thread.  It holds ID numbers: it is opened with
 * sx_file_open(), so it has the process's file mode (wio.h, 0600 by
 * default) whatever the umask.  The existing file is checked: a torn tail is cut
 * (reported in rep, may be NULL); a damaged record followed by a valid one
 * fails with SX_ECORRUPT (file untouched; why names the file, the offset
 * and the record number); a file that is not a feedback log fails with
 * SX_EBADMAGIC; a checksum-valid record with unknown flags or with a
 * channel, ID type or reason this version never writes fails with
 * SX_EVERSION (why names the field, its value and its offset; the file
 * is untouched).  Other errors: -EWOULDBLOCK (another process has it
 * open), -errno.  o may be NULL (defaults).  Close with sx_feedback_close().
 */
int sx_feedback_open(const char *path, sx_feedback **out,
                     sx_feedback_report *rep, char *why, size_t cap);
int sx_feedback_open_opts(const char *path, const sx_feedback_opts *o,
                          sx_feedback **out, sx_feedback_report *rep,
                          char *why, size_t cap);

/*
 * Buffer one record for writing; safe from any number of threads, never
 * blocks on I/O.  Returns 0, SX_EINVAL (channel, id_type or reason out of
 * range; not counted), or SX_EFULL when the buffers are full (the record
 * is dropped and counted in stats.dropped).  A record is on disk after the
 * next flush (within flush_ms) unless the stats say otherwise.
 */
int sx_feedback_add(sx_feedback *fb, const sx_feedback_rec *r);

/*
 * Write everything added before this call and fdatasync it, now; waits
 * for it (for tests and shutdown, not the hot path).  Returns 0, or the
 * -errno of the write or fdatasync that failed (the records then stay
 * buffered and are retried at the next flush).
 */
int sx_feedback_flush(sx_feedback *fb);

typedef struct sx_feedback_stats {
	uint64_t added;           /* records accepted by sx_feedback_add() */
	uint64_t written;         /* records written to the file (durable at
	                             the fdatasync that follows) */
	uint64_t bytes;           /* bytes written */
	uint64_t fsyncs;          /* successful fdatasyncs */
	uint64_t write_errors;    /* failed write attempts */
	uint64_t fsync_errors;    /* failed fdatasyncs */
	uint64_t dropped;         /* records refused: buffers full */
	uint64_t buffered;        /* records in memory, not yet written */
	int64_t last_fsync_ms;    /* unix ms of the last good fdatasync, 0 */
	int last_error;           /* -errno of the last failure, 0 none */
	char last_error_text[256];  /* what failed, and where; "" none */
} sx_feedback_stats;
void sx_feedback_get_stats(sx_feedback *fb, sx_feedback_stats *st);

/*
 * Stop the flusher after a last flush, close the file and free fb (NULL
 * is fine).  Returns 0, or the error of that last flush (records that
 * could not be written are lost; the stats said so before).  Call it only
 * after every thread has stopped calling sx_feedback_add().
 */
int sx_feedback_close(sx_feedback *fb);

/* ---- reading ------------------------------------------------------------ */

/* Return 0 to go on; anything else stops the read, which returns it. */
typedef int (*sx_feedback_cb)(void *arg, const sx_feedback_rec *r);

/*
 * Read the log at path (read-only: never locks, cuts or writes; safe
 * while a server appends).  The whole file is checked first; then every
 * record goes to cb in file order.  A torn tail is reported in rep (may
 * be NULL), not an error.  Returns 0, -errno (-ENOENT: missing),
 * SX_EBADMAGIC, SX_ECORRUPT (damage in the middle: nothing delivered),
 * SX_EVERSION (a record with unknown flags, or a channel, ID type or
 * reason out of range, as sx_feedback_open(): nothing delivered), or
 * cb's non-zero value; why gets a sentence naming the file.
 */
int sx_feedback_read(const char *path, sx_feedback_cb cb, void *arg,
                     sx_feedback_report *rep, char *why, size_t cap);

/* ---- reading with pointers that last ------------------------------------ */

/* A checked, mapped log, for readers that keep pointers into it from one
 * record to the next (the per-case summary, tools/fbsummary.c, sorts
 * them).  The fields are private. */
typedef struct sx_feedback_view {
	const char *path;
	const uint8_t *p;
	size_t size, end, next;
	uint64_t records;
	size_t torn_off, torn_bytes;
	char *why;                /* while checking */
	size_t cap;
} sx_feedback_view;

/*
 * Open, map and check the log at path exactly as sx_feedback_read() does
 * (read-only; the same errors, with the same words in why).  On success
 * read it with sx_feedback_view_next() and end with
 * sx_feedback_view_close(); on failure there is nothing to close.
 */
int sx_feedback_view_open(const char *path, sx_feedback_view *v, char *why,
                          size_t cap);
/*
 * The next record in file order: 1 with *r, 0 after the last.  r's
 * strings point into the map and stay valid until
 * sx_feedback_view_close(); r->cases is cases (room for 65535 cases),
 * overwritten by the next call.  *at (when at is not NULL) gets the
 * record's offset in the file.
 */
int sx_feedback_view_next(sx_feedback_view *v, sx_feedback_rec *r,
                          sx_feedback_case *cases, size_t *at);
/* What the check found: the records, their length and the torn tail
 * (only the fields of rep it names are written). */
void sx_feedback_view_report(const sx_feedback_view *v,
                             sx_feedback_report *rep);
/* Unmap; every pointer the view gave is invalid afterwards. */
void sx_feedback_view_close(sx_feedback_view *v);

#endif
