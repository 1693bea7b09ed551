/*
 * frame.h - the record framing the journal and the feedback log share,
 * and the rule that tells a torn tail from a damaged middle.
 *
 * A frame is a 16-byte header — 4-byte magic, u32 payload length, u64
 * XXH3-64 of the payload, little-endian — then the payload.  After a crash
 * the last frame may be partial, or the file may end in zeros (extended
 * before its data reached the disk): that tail is cut.  A bad frame with a
 * valid frame anywhere after it is damage in the middle, and is refused:
 * cutting there would silently drop acknowledged records.
 *
 * sx_frame_scan() is the one implementation of that rule; the journal and
 * the feedback log check their payloads in its callback and say in their
 * own words what it found.
 */
#ifndef SX_FRAME_H
#define SX_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

#include "sx.h"

#define SX_FRAME_HDR 16u

typedef struct sx_frame_kind {
	uint32_t magic;           /* the 4 magic bytes as a little-endian u32 */
	uint32_t max_payload;
} sx_frame_kind;

/* Fill a frame header for payload[0..len). */
static inline void sx_frame_header(const sx_frame_kind *k, uint8_t *hdr,
                                   const uint8_t *payload, uint32_t len)
{
	sx_le_put32(hdr, k->magic);
	sx_le_put32(hdr + 4, len);
	sx_le_put64(hdr + 8, XXH3_64bits(payload, len));
}

/* ---- checking a log ------------------------------------------------------ */

/* What sx_frame_scan() concluded. */
enum {
	SX_FRAME_CLEAN,           /* intact frames to the last byte */
	SX_FRAME_TORN,            /* intact frames, then a torn tail */
	SX_FRAME_FOREIGN,         /* no frame at offset 0 and the bytes there
	                             cannot begin one: not this kind of log */
	SX_FRAME_DAMAGED,         /* a bad frame with an intact one after it */
	SX_FRAME_STOPPED,         /* the callback refused a frame */
};

typedef struct sx_frame_report {
	int verdict;              /* SX_FRAME_* */
	uint64_t frames;          /* intact frames the callback accepted */
	size_t end;               /* where they end: the log's good length,
	                             and the offset of the bad frame when
	                             DAMAGED, TORN or STOPPED */
	size_t last_off;          /* offset of the last accepted frame
	                             (when frames > 0) */
	size_t torn_off;          /* TORN: where the tail begins (= end) */
	size_t torn_bytes;        /* TORN: its length; else 0 */
	size_t next_valid;        /* DAMAGED: the intact frame after the
	                             damage; else SIZE_MAX */
} sx_frame_report;

/* Called with each intact frame in file order: its payload, the payload's
 * length and the frame's offset.  Return 0 to go on; anything else stops
 * the scan, which returns it (the callback says why). */
typedef int (*sx_frame_cb)(void *arg, const uint8_t *payload, uint32_t len,
                           size_t off);

/*
 * Walk the frames of p[0..size) (p may be NULL when size is 0), giving
 * each intact one to cb (may be NULL), and apply the torn-tail rule at the
 * first frame that is not intact.  Fills *rep (always).  Returns 0 for
 * CLEAN and TORN (the caller cuts the tail at rep->end when it writes),
 * SX_EBADMAGIC for FOREIGN, SX_ECORRUPT for DAMAGED, or cb's non-zero
 * value for STOPPED.  Never writes a message: the caller names its file
 * and its records.
 */
int sx_frame_scan(const sx_frame_kind *k, const uint8_t *p, size_t size,
                  sx_frame_cb cb, void *arg, sx_frame_report *rep);

/* A FOREIGN verdict in words: "WHAT PATH: not an sxgate WHAT (no "MAGIC"
 * magic at offset 0); refusing to touch it".  Returns SX_EBADMAGIC. */
int sx_frame_foreign(const sx_frame_kind *k, const char *what,
                     const char *path, char *why, size_t cap);

/*
 * Step through frames sx_frame_scan() accepted, p[0..end): the frame at
 * *off (its payload and length out), *off moved past it.  0 at end.
 */
static inline int sx_frame_next(const uint8_t *p, size_t end, size_t *off,
                                const uint8_t **payload, uint32_t *len)
{
	if (*off >= end)
		return 0;
	*len = sx_le_get32(p + *off + 4);
	*payload = p + *off + SX_FRAME_HDR;
	*off += SX_FRAME_HDR + *len;
	return 1;
}

/* ---- files --------------------------------------------------------------- */

/*
 * Open (or create) an append-only log for writing with sx_file_open() (it
 * holds personal data: the process's file mode, wio.h), take its exclusive
 * lock (one writer process), and give its size.  *mode_was (may be NULL)
 * is -1, or the wider or other mode an existing log had before it was
 * given the file mode.  what names the file in messages ("journal",
 * "feedback log").  Returns 0, or -errno with why.
 */
int sx_frame_open_log(const char *what, const char *path, int *fd,
                      size_t *size, int *mode_was, char *why, size_t cap);
/* Map size bytes of fd read-only (*p NULL for an empty file).  0 or
 * -errno. */
int sx_frame_map(int fd, size_t size, const uint8_t **p);
/* Unmap what sx_frame_map() or sx_frame_map_file() mapped (NULL: none). */
void sx_frame_unmap(const uint8_t *p, size_t size);
/*
 * Open the log at path read-only (no lock: a writer may be appending) and
 * map it whole: *p (NULL when empty) and *size, until sx_frame_unmap().
 * Returns 0, or -errno with why ("journal PATH: No such file...").
 */
int sx_frame_map_file(const char *what, const char *path, const uint8_t **p,
                      size_t *size, char *why, size_t cap);
/*
 * After validating an opened log: cut a torn tail at end (when torn is
 * set), then make the file and its directory entry durable.  Returns 0,
 * or -errno with why naming the step.
 */
int sx_frame_settle_log(const char *what, const char *path, int fd, int torn,
                        size_t end, char *why, size_t cap);

#endif
