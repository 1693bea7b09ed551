/*
 * journal.h - the durable, append-only journal of live updates (SPEC 7,
 * `sxgated --journal FILE`).
 *
 * Each entry is one update command as RESP carries it (argv[0] the command
 * name, then its words: {"LIST.REMOVE", "（2025）闽0102执1号", "RIC",
 * "350102198001010011"}), with a sequence number (strictly increasing,
 * from 1), the acknowledgement time in unix milliseconds (for an update
 * read from a Redis stream: the stream entry's time), an optional
 * source tag (the stream entry ID "1700000000000-0"; empty for a local
 * command) and, since format 2, an optional origin: who asked for it and
 * from where, two strings the journal stores without knowing what they
 * mean (the server writes a tenant name and "10.0.0.5:41234", or a stream
 * entry's `by` and "stream:1700000000000-0").  An entry without an origin
 * is written in format 1, byte for byte as before, so journals of older
 * versions replay unchanged; an older reader refuses an entry with an
 * origin (SX_EVERSION) instead of misreading it.  An append returns only
 * once the entry is on disk
 * (fdatasync), so the caller may answer `+OK <seq>` exactly when it
 * returns 0.
 *
 * Every entry is framed (magic "SXJ1", length, XXH3-64 of the payload;
 * layout in docs/JOURNAL.md).  Opening replays all entries, then decides
 * how the file ends:
 *   - a torn tail: the last entry is partial or fails its checksum, and no
 *     valid entry follows.  A crash during an append leaves exactly this;
 *     that entry was never acknowledged.  It is cut away (reported in
 *     sx_journal_report) and the journal opens.
 *   - a damaged entry followed by a valid one: corruption in the middle.
 *     Open fails with SX_ECORRUPT naming the file, the offset and the
 *     sequence number of the entry before it, and nothing is replayed
 *     (the whole file is checked before the first callback) and nothing
 *     is changed.
 * Sequence numbers that do not increase are refused the same way.
 *
 * Compaction (after a rebuild with --as-of) rewrites the file keeping the
 * entries acknowledged at or after a time, atomically, and preserves
 * sequence numbers.  When it drops entries it appends a checkpoint that
 * carries the last sequence number and the last source tag, so neither is
 * lost even when every entry was dropped.  Checkpoints are never given to
 * the replay callback.
 *
 * Thread safety: a journal handle may be used from any number of threads;
 * appends, compaction and the getters are serialised by a mutex inside.
 * One process at a time: open takes an exclusive flock(2) on the file.
 */
#ifndef SX_JOURNAL_H
#define SX_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include "sx.h"
#include "decide.h"     /* sx_str */

typedef struct sx_journal sx_journal;

/* Limits of one entry; an append over them is refused with SX_EINVAL, a
 * file entry over them is damaged. */
#define SX_JOURNAL_MAX_PAYLOAD (16u << 20)
#define SX_JOURNAL_MAX_ARGS    65536u
#define SX_JOURNAL_MAX_SOURCE  255u
#define SX_JOURNAL_MAX_ORIGIN  255u   /* each of who and where */

/* time_ms value asking the journal to stamp the entry with the current
 * time (CLOCK_REALTIME, milliseconds). */
#define SX_JOURNAL_NOW INT64_MIN

/*
 * One entry, as the replay and scan callbacks see it.  Every pointer in it
 * (source, argv and its strings, lens, words) is valid only during the
 * callback; copy what you keep.  Strings are NUL-terminated (they may also
 * hold NUL bytes: use the lengths).  words[i] is {argv[i], lens[i]}, the
 * shape sx_overlay_apply() takes.
 */
typedef struct sx_journal_entry {
	uint64_t seq;
	int64_t time_ms;
	uint64_t offset;          /* of the entry's frame in the file */
	int checkpoint;           /* 1 only for checkpoints, and only from
	                             sx_journal_scan(SX_JOURNAL_SCAN_CHECKPOINTS);
	                             argc is then 0 */
	const char *source;       /* "" when none */
	size_t source_len;
	/* The origin (format 2): NULL when the entry has none (written by an
	 * older sxgated, or without one); else NUL-terminated, possibly "". */
	const char *who;
	size_t who_len;
	const char *where;
	size_t where_len;
	uint32_t argc;
	const char *const *argv;
	const size_t *lens;
	const sx_str *words;
} sx_journal_entry;

/* Return 0 to go on; anything else stops the replay or scan, which then
 * returns that value. */
typedef int (*sx_journal_cb)(void *arg, const sx_journal_entry *e);

typedef struct sx_journal_report {
	uint64_t entries;         /* commands delivered */
	uint64_t checkpoints;     /* checkpoints seen */
	uint64_t first_seq;       /* first command's sequence number, 0: none */
	uint64_t last_seq;        /* highest sequence number (commands and
	                             checkpoints), 0: empty journal */
	uint64_t bytes;           /* length of the valid entries */
	uint64_t torn_offset;     /* where a torn tail began */
	uint64_t torn_bytes;      /* its length; 0: the file ended cleanly */
	int mode_was;             /* sx_journal_open: -1, or the other mode an
	                             existing journal had before it was given
	                             the file mode (wio.h), for a log line */
} sx_journal_report;

/*
 * Open (creating it when missing) the journal at path, replay
 * every entry through replay(arg, entry) in file order (replay may be
 * NULL), cut a torn tail, and return the handle in *out for appends.
 * rep (may be NULL) gets counts and the torn tail's offset and length.
 * The journal holds ID numbers: it is opened with sx_file_open(), so it
 * has the process's file mode (wio.h, 0600 by default) whatever the umask,
 * and so has the file compaction writes in its place.
 * Returns 0, or:
 *   SX_ECORRUPT   a damaged entry followed by a valid one, a sequence
 *                 number that does not increase, or a checksum-valid entry
 *                 that does not parse; why names the file, the offset and
 *                 the sequence number before it.  The file is untouched
 *                 and replay was never called.
 *   SX_EBADMAGIC  the file does not start like a journal (another kind of
 *                 file given by mistake); untouched.
 *   SX_EVERSION   an entry has flags this version does not know.
 *   -EWOULDBLOCK  another process has the journal open.
 *   -errno        open/read/truncate/fsync failed.
 *   the callback's non-zero value: replay stopped there (why says at
 *                 which entry); the file is untouched.
 * why (cap bytes) always gets a sentence on failure.  Close with
 * sx_journal_close().
 */
int sx_journal_open(const char *path, sx_journal **out, sx_journal_cb replay,
                    void *arg, sx_journal_report *rep, char *why, size_t cap);

/*
 * Append one command and make it durable.  time_ms: unix milliseconds or
 * SX_JOURNAL_NOW; source: NUL-terminated tag or NULL/"" for none (at most
 * SX_JOURNAL_MAX_SOURCE bytes); argv[0..argc) with lens[i] their lengths
 * (lens NULL: strlen of each).  The journal copies what it needs.  The
 * entry has no origin (format 1); sx_journal_append_batch() with one
 * sx_journal_cmd appends one with who and where.
 * Returns 0 with the assigned sequence number in *seq (may be NULL) once
 * the entry is fdatasync'd; then, and only then, acknowledge it.  Errors:
 *   SX_EINVAL  argc 0, a NULL word, a limit exceeded (nothing written);
 *   -errno     write or fdatasync failed (-ENOSPC, -EIO, ...).  The entry
 *              does not count: it is truncated away (best effort), its
 *              sequence number is not used, and the journal is marked
 *              failed: the next append first re-checks the file (size back
 *              to the last good end, fdatasync) and fails again with that
 *              error until the re-check passes.
 */
int sx_journal_append(sx_journal *j, int64_t time_ms, const char *source,
                      uint32_t argc, const char *const *argv,
                      const size_t *lens, uint64_t *seq);

/* One command for sx_journal_append_batch(); fields as in
 * sx_journal_append(), plus the origin: who and where (NUL-terminated, at
 * most SX_JOURNAL_MAX_ORIGIN bytes each; longer ones are cut).  Both NULL:
 * no origin, the entry is written in format 1; one NULL: stored as "". */
typedef struct sx_journal_cmd {
	int64_t time_ms;
	const char *source;
	uint32_t argc;
	const char *const *argv;
	const size_t *lens;
	const char *who;
	const char *where;
} sx_journal_cmd;

/*
 * Group commit: append cmds[0..n) with one write and one fdatasync.  All
 * or nothing: returns 0 with seqs[i] (may be NULL) the consecutive
 * sequence numbers, or an error as sx_journal_append() and none of them
 * counts.
 */
int sx_journal_append_batch(sx_journal *j, size_t n,
                            const sx_journal_cmd *cmds, uint64_t *seqs);

typedef struct sx_journal_compact_report {
	uint64_t kept, dropped;            /* commands */
	uint64_t bytes_before, bytes_after;
} sx_journal_compact_report;

/*
 * Keep only the commands with time_ms >= keep_from_ms (sequence numbers
 * unchanged), dropping older ones and old checkpoints, and append a
 * checkpoint with the last sequence number and source tag.  Atomic: writes
 * PATH.compact.tmp, fsyncs it, renames it over PATH, fsyncs the directory.
 * Nothing to drop: returns 0 without rewriting.  Appends wait while it
 * runs (it copies the kept entries: a few MB take milliseconds).
 * rep may be NULL.  Returns 0, or -errno / SX_ECORRUPT with why filled:
 * before the rename the journal is unchanged and the temporary file is
 * removed; a failure of the directory fsync after the rename is reported,
 * but the journal then already uses the compacted file (which holds the
 * same sequence and every kept entry, so either file is a correct
 * journal after a crash).
 */
int sx_journal_compact(sx_journal *j, int64_t keep_from_ms,
                       sx_journal_compact_report *rep, char *why, size_t cap);

/* The highest sequence number written (0 for an empty journal). */
uint64_t sx_journal_last_seq(sx_journal *j);

/*
 * The source tag of the last entry that had one (for resuming a Redis
 * stream), kept across reopen and compaction.  Copies it NUL-terminated
 * into buf (truncated to cap - 1) and returns its full length; 0 when no
 * entry ever had a tag.
 */
size_t sx_journal_last_source(sx_journal *j, char *buf, size_t cap);

typedef struct sx_journal_stats {
	uint64_t last_seq;
	uint64_t bytes;            /* file length (valid entries) */
	uint64_t appends;          /* entries appended since open */
	uint64_t commits;          /* successful fdatasyncs (one per batch) */
	uint64_t errors;           /* failed appends */
	int failed;                /* 1 while the next append must re-check */
	int last_error;            /* last -errno, 0 none */
	char last_error_text[256]; /* what failed, where, and the errno text;
	                              "" none */
} sx_journal_stats;
void sx_journal_get_stats(sx_journal *j, sx_journal_stats *st);

/* The path given to open (owned by j). */
const char *sx_journal_path(const sx_journal *j);

/* Close and free j (NULL is fine).  Appended entries are already durable. */
void sx_journal_close(sx_journal *j);

/* sx_journal_scan() flags. */
#define SX_JOURNAL_SCAN_CHECKPOINTS 1u   /* also deliver checkpoints */

/*
 * Read-only walk over the journal at path, for tools: never creates,
 * locks, truncates or writes.  Checks the whole file first with the same
 * rules as open, then delivers every command (and checkpoints when asked)
 * to cb.  A torn tail is reported in rep, not cut, and is not an error.
 * Returns 0, or the errors of sx_journal_open() (-ENOENT for a missing
 * file), or cb's non-zero value.
 */
int sx_journal_scan(const char *path, unsigned flags, sx_journal_cb cb,
                    void *arg, sx_journal_report *rep, char *why, size_t cap);

#endif
