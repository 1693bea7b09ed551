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
 */
#ifndef SX_FRAME_H
#define SX_FRAME_H

#include <stdint.h>
#include <string.h>
#include <xxhash.h>

#include "sx.h"

#define SX_FRAME_HDR 16u

typedef struct sx_frame_kind {
	uint32_t magic;           /* the 4 magic bytes as a little-endian u32 */
	uint32_t max_payload;
} sx_frame_kind;

/* Is there a whole, intact frame at p[off..size)?  1 with *plen. */
static inline int sx_frame_ok(const sx_frame_kind *k, const uint8_t *p,
                              size_t size, size_t off, uint32_t *plen)
{
	if (size - off < SX_FRAME_HDR || sx_le_get32(p + off) != k->magic)
		return 0;
	uint32_t len = sx_le_get32(p + off + 4);
	if (len > k->max_payload || size - off - SX_FRAME_HDR < len)
		return 0;
	if (XXH3_64bits(p + off + SX_FRAME_HDR, len) != sx_le_get64(p + off + 8))
		return 0;
	*plen = len;
	return 1;
}

/* Could the bytes at off start a frame: a prefix of the magic, or zeros? */
static inline int sx_frame_could_start(const sx_frame_kind *k,
                                       const uint8_t *p, size_t size,
                                       size_t off)
{
	uint8_t m[4];
	sx_le_put32(m, k->magic);
	size_t n = size - off < 4 ? size - off : 4;
	if (!memcmp(p + off, m, n))
		return 1;
	for (size_t i = 0; i < n; i++)
		if (p[off + i])
			return 0;
	return 1;
}

/* The first intact frame strictly after off, or SIZE_MAX. */
static inline size_t sx_frame_next_valid(const sx_frame_kind *k,
                                         const uint8_t *p, size_t size,
                                         size_t off)
{
	uint8_t m[4];
	sx_le_put32(m, k->magic);
	size_t at = off + 1;
	while (at + SX_FRAME_HDR <= size) {
		const uint8_t *hit = memmem(p + at, size - at, m, 4);
		if (!hit)
			break;
		at = (size_t)(hit - p);
		uint32_t len;
		if (sx_frame_ok(k, p, size, at, &len))
			return at;
		at++;
	}
	return SIZE_MAX;
}

/* Fill a frame header for payload[0..len). */
static inline void sx_frame_header(const sx_frame_kind *k, uint8_t *hdr,
                                   const uint8_t *payload, uint32_t len)
{
	sx_le_put32(hdr, k->magic);
	sx_le_put32(hdr + 4, len);
	sx_le_put64(hdr + 8, XXH3_64bits(payload, len));
}

#endif

/*
 * Open (or create) an append-only log for writing, take its exclusive
 * lock (one writer process), and give its size.  what names the file in
 * messages ("journal", "feedback log").  Returns 0, or -errno with why.
 */
int sx_frame_open_log(const char *what, const char *path, int *fd,
                      size_t *size, char *why, size_t cap);
/* Map size bytes of fd read-only (*p NULL for an empty file).  0 or
 * -errno. */
int sx_frame_map(int fd, size_t size, const uint8_t **p);
/*
 * After validating an opened log: cut a torn tail at end (when torn is
 * set), then make the file and its directory entry durable.  Returns 0,
 * or -errno with why naming the step.
 */
int sx_frame_settle_log(const char *what, const char *path, int fd, int torn,
                        size_t end, char *why, size_t cap);
