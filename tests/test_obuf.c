/*
 * test_obuf.c - a connection's output buffer (server/obuf.h): put,
 * reserve and commit, the iovecs handed to a send, consuming across
 * chunks, the return to one small chunk once a backlog is sent, marks and
 * rollback, and that `pending` and `total` always agree with the bytes.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "obuf.h"

static size_t chunks(const sx_obuf *ob)
{
	size_t n = 0;
	for (const sx_obuf_chunk *c = ob->head; c; c = c->next)
		n++;
	return n;
}

/* The unsent bytes as one string (malloc'd), *n their count; checks the
 * iovecs against pending. */
static char *unsent(const sx_obuf *ob, size_t *n)
{
	struct iovec iov[256];
	int k = sx_obuf_iov(ob, iov, 256);
	size_t total = 0;
	for (int i = 0; i < k; i++) {
		cr_assert_gt(iov[i].iov_len, 0, "an empty iovec");
		total += iov[i].iov_len;
	}
	cr_assert_eq(total, ob->pending, "iovecs hold %zu bytes, pending says %zu",
	             total, ob->pending);
	char *s = malloc(total + 1);
	size_t o = 0;
	for (int i = 0; i < k; i++) {
		memcpy(s + o, iov[i].iov_base, iov[i].iov_len);
		o += iov[i].iov_len;
	}
	s[o] = 0;
	*n = o;
	return s;
}

static void expect_unsent(const sx_obuf *ob, const char *want, size_t wn)
{
	size_t n;
	char *s = unsent(ob, &n);
	cr_assert(n == wn && !memcmp(s, want, n), "unsent '%.*s' (%zu), want '%.*s' (%zu)",
	          (int)(n > 80 ? 80 : n), s, n, (int)(wn > 80 ? 80 : wn), want, wn);
	free(s);
}

/* A pattern byte for position i of a stream. */
static char pat(size_t i)
{
	return (char)('a' + (i * 7 + i / 251) % 26);
}

Test(obuf, put_reserve_commit)
{
	sx_obuf ob;
	sx_obuf_init(&ob);
	cr_assert_eq(ob.pending, 0);
	cr_assert_eq(ob.total, 0);
	cr_assert_eq(chunks(&ob), 1);
	cr_assert_eq(ob.head->cap, SX_OBUF_CHUNK);
	struct iovec iov[4];
	cr_assert_eq(sx_obuf_iov(&ob, iov, 4), 0, "nothing to send yet");

	sx_obuf_put(&ob, "hello ", 6);
	char *p = sx_obuf_reserve(&ob, 10);
	memcpy(p, "world!!!!!", 10);
	sx_obuf_commit(&ob, 5);            /* commit less than reserved */
	cr_assert_eq(ob.pending, 11);
	cr_assert_eq(ob.total, 11);
	expect_unsent(&ob, "hello world", 11);
	sx_obuf_free(&ob);
	cr_assert_null(ob.head);
}

Test(obuf, spill_and_consume_across_chunks)
{
	sx_obuf ob;
	sx_obuf_init(&ob);
	size_t n = 3 * SX_OBUF_CHUNK + 123;
	char *src = malloc(n);
	for (size_t i = 0; i < n; i++)
		src[i] = pat(i);
	/* written in odd pieces so puts straddle chunk ends */
	for (size_t o = 0; o < n;) {
		size_t k = 1 + (o * 31) % 5000;
		if (k > n - o)
			k = n - o;
		sx_obuf_put(&ob, src + o, k);
		o += k;
	}
	cr_assert_eq(ob.pending, n);
	cr_assert_eq(ob.total, n);
	cr_assert_gt(chunks(&ob), 1, "a backlog larger than a chunk spills");
	expect_unsent(&ob, src, n);

	/* send in pieces that end mid-chunk and on chunk ends */
	size_t sent = 0;
	size_t steps[] = { 1, SX_OBUF_CHUNK - 1, 5000, SX_OBUF_CHUNK, 77 };
	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
		sx_obuf_consume(&ob, steps[i]);
		sent += steps[i];
		cr_assert_eq(ob.pending, n - sent);
		expect_unsent(&ob, src + sent, n - sent);
	}
	cr_assert_eq(ob.total, n, "total counts what was written, not what is left");
	sx_obuf_consume(&ob, n - sent);
	cr_assert_eq(ob.pending, 0);
	cr_assert_eq(chunks(&ob), 1, "backlog sent: back to one chunk");
	cr_assert_eq(ob.head->cap, SX_OBUF_CHUNK, "and a small one");
	cr_assert_eq(ob.head->len, 0);
	cr_assert_eq(ob.head->off, 0);

	/* still usable */
	sx_obuf_put(&ob, "x", 1);
	expect_unsent(&ob, "x", 1);
	free(src);
	sx_obuf_free(&ob);
}

Test(obuf, big_reserve_gets_a_chunk_that_fits)
{
	sx_obuf ob;
	sx_obuf_init(&ob);
	sx_obuf_put(&ob, "ab", 2);
	size_t big = 3 * SX_OBUF_BIG;
	char *p = sx_obuf_reserve(&ob, big);
	memset(p, 'q', big);
	sx_obuf_commit(&ob, big);
	cr_assert_eq(ob.pending, big + 2);
	size_t n;
	char *s = unsent(&ob, &n);
	cr_assert_eq(n, big + 2);
	cr_assert(s[0] == 'a' && s[1] == 'b' && s[2] == 'q' && s[n - 1] == 'q');
	free(s);
	sx_obuf_free(&ob);
}

Test(obuf, reserved_memory_stays_put_while_more_is_appended)
{
	/* a length written early can be patched after the body is written */
	sx_obuf ob;
	sx_obuf_init(&ob);
	char *hdr = sx_obuf_reserve(&ob, 4);
	memcpy(hdr, "LLLL", 4);
	sx_obuf_commit(&ob, 4);
	char body[50000];
	memset(body, 'b', sizeof body);
	sx_obuf_put(&ob, body, sizeof body);
	memcpy(hdr, "0050", 4);
	size_t n;
	char *s = unsent(&ob, &n);
	cr_assert_eq(n, 4 + sizeof body);
	cr_assert(!memcmp(s, "0050", 4), "the patched header is what is sent");
	free(s);
	sx_obuf_free(&ob);
}

Test(obuf, iov_max_limits_and_keeps_order)
{
	sx_obuf ob;
	sx_obuf_init(&ob);
	static char blob[SX_OBUF_CHUNK];
	for (int i = 0; i < 4; i++) {
		memset(blob, 'A' + i, sizeof blob);
		sx_obuf_put(&ob, blob, sizeof blob);
	}
	struct iovec iov[2];
	int k = sx_obuf_iov(&ob, iov, 2);
	cr_assert_eq(k, 2);
	cr_assert_eq(((char *)iov[0].iov_base)[0], 'A', "oldest first");
	sx_obuf_free(&ob);
}

Test(obuf, discard_drops_everything_unsent)
{
	sx_obuf ob;
	sx_obuf_init(&ob);
	static char blob[3 * SX_OBUF_CHUNK];
	sx_obuf_put(&ob, blob, sizeof blob);
	sx_obuf_consume(&ob, 100);
	sx_obuf_discard(&ob);
	cr_assert_eq(ob.pending, 0);
	struct iovec iov[8];
	cr_assert_eq(sx_obuf_iov(&ob, iov, 8), 0);
	cr_assert_eq(chunks(&ob), 1);
	sx_obuf_put(&ob, "ok", 2);
	expect_unsent(&ob, "ok", 2);
	sx_obuf_free(&ob);
}

Test(obuf, rollback_in_one_chunk)
{
	sx_obuf ob;
	sx_obuf_mark m;
	sx_obuf_init(&ob);
	sx_obuf_put(&ob, "keep", 4);
	sx_obuf_mark_get(&ob, &m);
	sx_obuf_put(&ob, "drop", 4);
	sx_obuf_rollback(&ob, &m);
	cr_assert_eq(ob.pending, 4);
	cr_assert_eq(ob.total, 4);
	expect_unsent(&ob, "keep", 4);
	sx_obuf_put(&ob, "!", 1);
	expect_unsent(&ob, "keep!", 5);
	sx_obuf_free(&ob);
}

Test(obuf, rollback_frees_spilled_chunks)
{
	sx_obuf ob;
	sx_obuf_mark m;
	sx_obuf_init(&ob);
	sx_obuf_put(&ob, "keep", 4);
	sx_obuf_mark_get(&ob, &m);
	static char blob[5 * SX_OBUF_CHUNK];
	memset(blob, 'd', sizeof blob);
	sx_obuf_put(&ob, blob, sizeof blob);
	cr_assert_gt(chunks(&ob), 1);
	sx_obuf_rollback(&ob, &m);
	cr_assert_eq(chunks(&ob), 1, "chunks written after the mark are gone");
	cr_assert_eq(ob.pending, 4);
	cr_assert_eq(ob.total, 4);
	expect_unsent(&ob, "keep", 4);
	/* and writing goes on from the mark */
	sx_obuf_put(&ob, blob, 2 * SX_OBUF_CHUNK);
	cr_assert_eq(ob.pending, 4 + 2 * SX_OBUF_CHUNK);
	sx_obuf_free(&ob);
}

Test(obuf, rollback_after_bytes_before_the_mark_were_sent)
{
	/* obuf.h: a rollback is "only valid while nothing written after m has
	 * been handed to a send" - bytes written before m may have been sent.
	 * Then the rollback must not bring them back. */
	sx_obuf ob;
	sx_obuf_mark m;
	sx_obuf_init(&ob);
	sx_obuf_put(&ob, "sent", 4);
	sx_obuf_mark_get(&ob, &m);
	sx_obuf_put(&ob, "drop", 4);
	sx_obuf_consume(&ob, 4);            /* "sent" went out */
	expect_unsent(&ob, "drop", 4);
	sx_obuf_rollback(&ob, &m);
	cr_assert_eq(ob.pending, 0, "pending %zu after rolling back everything unsent",
	             ob.pending);
	expect_unsent(&ob, "", 0);
	sx_obuf_free(&ob);
}

Test(obuf, rollback_after_the_marked_chunk_was_sent_whole)
{
	/* the mark sits at the very end of a full chunk; that chunk is then
	 * sent and trimmed while a spilled chunk holds what follows the mark */
	sx_obuf ob;
	sx_obuf_mark m;
	sx_obuf_init(&ob);
	static char blob[SX_OBUF_CHUNK];
	memset(blob, 's', sizeof blob);
	sx_obuf_put(&ob, blob, sizeof blob);
	sx_obuf_mark_get(&ob, &m);
	sx_obuf_put(&ob, "drop", 4);
	cr_assert_eq(chunks(&ob), 2);
	sx_obuf_consume(&ob, sizeof blob);  /* all bytes before the mark */
	/* the chunk the mark was taken in is freed now: the rollback must not
	 * touch it (make test-sanitize catches a use after free here) */
	sx_obuf_rollback(&ob, &m);
	expect_unsent(&ob, "", 0);
	sx_obuf_free(&ob);
}
