/*
 * obuf.c - chained output chunks (see obuf.h).
 *
 * A spilled chunk is sized to the backlog (at least 16 KiB, at most 1 MiB)
 * so that a client that reads slowly costs a few large chunks rather than
 * thousands of small ones; once the backlog is sent the connection is back
 * to one 16 KiB chunk.
 */
#include <stdio.h>
#include <stdlib.h>

#include "obuf.h"

static sx_obuf_chunk *chunk_new(size_t cap)
{
	sx_obuf_chunk *c = malloc(sizeof *c + cap);
	if (!c) {
		fprintf(stderr, "sxgated: out of memory allocating %zu bytes of output\n", cap);
		abort();
	}
	c->next = NULL;
	c->off = c->len = 0;
	c->cap = (uint32_t)cap;
	return c;
}

void sx_obuf_init(sx_obuf *ob)
{
	ob->head = ob->tail = chunk_new(SX_OBUF_CHUNK);
	ob->pending = 0;
	ob->total = 0;
}

void sx_obuf_free(sx_obuf *ob)
{
	sx_obuf_chunk *c = ob->head, *next;
	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	ob->head = ob->tail = NULL;
	ob->pending = 0;
}

char *sx_obuf_grow(sx_obuf *ob, size_t n)
{
	size_t cap = ob->pending;
	if (cap < SX_OBUF_CHUNK)
		cap = SX_OBUF_CHUNK;
	if (cap > SX_OBUF_BIG)
		cap = SX_OBUF_BIG;
	if (cap < n)
		cap = n;
	sx_obuf_chunk *c = chunk_new(cap);
	ob->tail->next = c;
	ob->tail = c;
	return c->data;
}

void sx_obuf_put_slow(sx_obuf *ob, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		sx_obuf_chunk *t = ob->tail;
		size_t room = t->cap - t->len;
		if (room == 0) {
			sx_obuf_grow(ob, 1);
			continue;
		}
		size_t k = n < room ? n : room;
		memcpy(t->data + t->len, s, k);
		sx_obuf_commit(ob, k);
		s += k;
		n -= k;
	}
}

int sx_obuf_iov(const sx_obuf *ob, struct iovec *iov, int max)
{
	int n = 0;
	for (const sx_obuf_chunk *c = ob->head; c && n < max; c = c->next) {
		if (c->len == c->off)
			continue;
		iov[n].iov_base = (char *)c->data + c->off;
		iov[n].iov_len = c->len - c->off;
		n++;
	}
	return n;
}

/* Drop sent chunks from the front; keep one chunk, reset when empty. */
static void trim(sx_obuf *ob)
{
	while (ob->head->off == ob->head->len && ob->head->next) {
		sx_obuf_chunk *c = ob->head;
		ob->head = c->next;
		free(c);
	}
	sx_obuf_chunk *h = ob->head;
	if (h->off == h->len) {
		h->off = h->len = 0;
		if (h->cap > SX_OBUF_CHUNK) {   /* backlog gone: back to small */
			free(h);
			ob->head = ob->tail = chunk_new(SX_OBUF_CHUNK);
		}
	}
}

void sx_obuf_consume(sx_obuf *ob, size_t n)
{
	sx_obuf_chunk *c = ob->head;
	while (n > 0 && c) {
		size_t avail = c->len - c->off;
		size_t k = n < avail ? n : avail;
		c->off += (uint32_t)k;
		ob->pending -= k;
		n -= k;
		c = c->next;
	}
	trim(ob);
}

void sx_obuf_discard(sx_obuf *ob)
{
	for (sx_obuf_chunk *c = ob->head; c; c = c->next)
		c->off = c->len;
	ob->pending = 0;
	trim(ob);
}

void sx_obuf_rollback(sx_obuf *ob, const sx_obuf_mark *m)
{
	uint64_t drop = ob->total - m->total;
	if (drop == 0)
		return;
	/* Where each chunk starts in the stream: the chunks hold the last
	 * sum(len) bytes written, the sent ones included. */
	uint64_t start = ob->total;
	for (sx_obuf_chunk *c = ob->head; c; c = c->next)
		start -= c->len;
	sx_obuf_chunk *c = ob->head;
	while (c->next && start + c->len < m->total) {
		start += c->len;
		c = c->next;
	}
	for (sx_obuf_chunk *n = c->next, *next; n; n = next) {
		next = n->next;
		free(n);
	}
	c->next = NULL;
	c->len = m->total > start ? (uint32_t)(m->total - start) : 0;
	if (c->off > c->len)
		c->off = c->len;      /* cannot happen within the contract */
	ob->tail = c;
	ob->pending = ob->pending > drop ? ob->pending - (size_t)drop : 0;
	ob->total = m->total;
}
