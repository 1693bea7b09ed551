/*
 * obuf.h - a connection's output: replies are appended here and sent once
 * per loop iteration.
 *
 * The buffer is a chain of chunks.  A connection keeps its first chunk
 * (16 KiB) for its whole life, so the replies of a normal pipeline are
 * written into memory that was allocated at accept time; only a backlog
 * larger than that "spills" into more chunks (Redis's reply list does the
 * same).  Chunks never move or grow once allocated, so bytes handed to an
 * asynchronous send (io_uring) stay valid while new replies are appended
 * behind them, and a length field written early (binary frame header) can
 * be patched in place after the body is written.
 *
 * Out of memory aborts the process, as in Redis: a server that cannot
 * allocate a reply buffer cannot answer anyway, and it keeps every writer
 * free of error paths.
 */
#ifndef SX_OBUF_H
#define SX_OBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "sx.h"

#define SX_OBUF_CHUNK (16u * 1024)     /* first chunk, and the smallest */
#define SX_OBUF_BIG   (1u << 20)       /* largest chunk for a backlog */

typedef struct sx_obuf_chunk {
	struct sx_obuf_chunk *next;
	uint32_t off;      /* first byte not yet sent */
	uint32_t len;      /* bytes written */
	uint32_t cap;
	char data[];
} sx_obuf_chunk;

typedef struct sx_obuf {
	sx_obuf_chunk *head, *tail;
	size_t pending;    /* written and not yet sent */
	uint64_t total;    /* written since init: for patching lengths */
} sx_obuf;

/* A point to roll back to (used when a reply turns out too large): a
 * position in the stream, not a pointer, so that sends completing and
 * chunks being freed in between cannot make it dangle. */
typedef struct sx_obuf_mark {
	uint64_t total;    /* ob->total when the mark was taken */
} sx_obuf_mark;

/* Allocate the first chunk.  sx_obuf_free releases every chunk. */
void sx_obuf_init(sx_obuf *ob);
void sx_obuf_free(sx_obuf *ob);

/* Slow path of sx_obuf_reserve: append a chunk with room for n bytes. */
char *sx_obuf_grow(sx_obuf *ob, size_t n);

/* n contiguous writable bytes at the end; valid until the next reserve.
 * Follow with sx_obuf_commit(ob, m), m <= n. */
static inline char *sx_obuf_reserve(sx_obuf *ob, size_t n)
{
	sx_obuf_chunk *t = ob->tail;
	if (sx_likely(t->cap - t->len >= n))
		return t->data + t->len;
	return sx_obuf_grow(ob, n);
}

static inline void sx_obuf_commit(sx_obuf *ob, size_t n)
{
	ob->tail->len += (uint32_t)n;
	ob->pending += n;
	ob->total += n;
}

/* Append n bytes (may span chunks). */
void sx_obuf_put_slow(sx_obuf *ob, const void *p, size_t n);
static inline void sx_obuf_put(sx_obuf *ob, const void *p, size_t n)
{
	sx_obuf_chunk *t = ob->tail;
	if (sx_likely(t->cap - t->len >= n)) {
		memcpy(t->data + t->len, p, n);
		sx_obuf_commit(ob, n);
		return;
	}
	sx_obuf_put_slow(ob, p, n);
}

/* Fill up to max iovecs with the unsent bytes, oldest first; returns how
 * many.  The memory stays valid until sx_obuf_consume() passes it. */
int sx_obuf_iov(const sx_obuf *ob, struct iovec *iov, int max);

/* n bytes from the front were sent: drop them, free spilled chunks. */
void sx_obuf_consume(sx_obuf *ob, size_t n);

/* Drop everything not yet sent (a connection being cut off). */
void sx_obuf_discard(sx_obuf *ob);

static inline void sx_obuf_mark_get(const sx_obuf *ob, sx_obuf_mark *m)
{
	m->total = ob->total;
}

/* Forget what was written after m.  Only valid while nothing written after
 * m has been handed to a send; what was written before it may have been
 * sent and consumed meanwhile. */
void sx_obuf_rollback(sx_obuf *ob, const sx_obuf_mark *m);

#endif
