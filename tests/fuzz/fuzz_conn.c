/*
 * fuzz_conn.c - libFuzzer target: a server connection's input path for
 * both protocols (server/conn.h sx_conn_input), which is where the binary
 * protocol is parsed.
 *
 * The binary frame parser (server/bin.c) is not a separable pure function:
 * its readers are static and parsing is interleaved with running the
 * operations, which need a connection, a worker and a server.  It is
 * separable from sockets, though: the backends only hand received bytes to
 * sx_conn_input() and send what the connection's output buffer holds.  So
 * this target makes a real server with sx_srv_create() (a small snapshot
 * built at startup, epoll, one worker; the worker thread is never started,
 * the job thread is, for RELOAD), registers a connection on worker 0 with
 * no socket behind it (fd -1), and plays the input into it from the
 * worker's side of the loop: online, input, bell when a job answers,
 * offline.  The RESP path (sx_resp_parse, then the command table) is
 * covered the same way, so this target also runs CHECK, MCHECK, LISTED,
 * INFO, RELOAD and the rest with whatever arguments the fuzzer finds.
 *
 * Input: one mode byte (bit 0: binary protocol instead of RESP; bits 1..3:
 * how the rest is cut into reads: whole, or pieces of 1, 2, 3, 7, 64, 512
 * or 4096 bytes; bit 4: HTTP instead of either), then the bytes a client
 * sends.  Each read is a heap copy
 * of exactly its size (inline RESP unquotes in place).
 *
 * Checked beyond the sanitizers: everything the connection writes is a
 * well-formed stream of its protocol: RESP replies (simple strings and
 * errors without CR or LF inside, integers, bulk strings of their stated
 * length, arrays of that many replies), or binary frames (12-byte header,
 * body at most SXB_MAX_BODY, a reply op or ERROR) that add up to exactly
 * the bytes written; or HTTP/1.1 responses (status line, headers, a body
 * of exactly its Content-Length); and a request that waits for a job is
 * answered.
 */
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "conn.h"
#include "obuf.h"
#include "server_int.h"
#include "sxproto.h"
#include "worker.h"

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_conn: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                           \
	} while (0)

#include "fuzz_snapshot.h"
#include "fuzz_server.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_server_start();
	return 0;
}

/* ---- checking what the server wrote ------------------------------------ */

/* One RESP reply at b[*pos]; 0 when well-formed. */
static int resp_reply(const uint8_t *b, size_t n, size_t *pos, int depth)
{
	if (*pos >= n || depth > 8)
		return -1;
	uint8_t t = b[(*pos)++];
	const uint8_t *nl = memchr(b + *pos, '\n', n - *pos);
	if (!nl || nl == b + *pos || nl[-1] != '\r')
		return -1;
	size_t line = (size_t)(nl - 1 - (b + *pos));
	if (memchr(b + *pos, '\r', line))
		return -1;
	long long v = 0;
	if (t == ':' || t == '$' || t == '*') {
		char num[24];
		if (line == 0 || line >= sizeof num)
			return -1;
		memcpy(num, b + *pos, line);
		num[line] = 0;
		char *e;
		v = strtoll(num, &e, 10);
		if (*e)
			return -1;
	} else if (t != '+' && t != '-') {
		return -1;
	}
	*pos += line + 2;
	if (t == '$' && v >= 0) {
		if ((unsigned long long)v > n - *pos || n - *pos - (size_t)v < 2 ||
		    b[*pos + (size_t)v] != '\r' || b[*pos + (size_t)v + 1] != '\n')
			return -1;
		*pos += (size_t)v + 2;
	} else if (t == '*') {
		for (long long i = 0; i < v; i++)
			if (resp_reply(b, n, pos, depth + 1))
				return -1;
	}
	return (t == '$' || t == '*') && v < -1 ? -1 : 0;
}

/* One HTTP response at b[*pos]; 0 when well-formed. */
static int http_reply(const uint8_t *b, size_t n, size_t *pos)
{
	const uint8_t *p = b + *pos;
	size_t left = n - *pos;
	if (left < 17 || memcmp(p, "HTTP/1.1 ", 9) || p[9] < '1' || p[9] > '5')
		return -1;
	const uint8_t *end = memmem(p, left, "\r\n\r\n", 4);
	if (!end)
		return -1;
	size_t head = (size_t)(end - p) + 4;
	const uint8_t *cl = memmem(p, head, "\r\nContent-Length: ", 18);
	if (!cl)
		return -1;
	unsigned long long len = strtoull((const char *)cl + 18, NULL, 10);
	/* a HEAD request's answer has the length but not the body */
	if (left == head || (left - head >= 9 && !memcmp(p + head, "HTTP/1.1 ", 9)))
		len = 0;
	if (len > left - head)
		return -1;
	*pos += head + (size_t)len;
	return 0;
}

static void check_output(int proto, const sink *k)
{
	size_t pos = 0;
	if (proto == SX_PROTO_HTTP) {
		while (pos < k->n) {
			size_t at = pos;
			CHECK(http_reply(k->b, k->n, &pos) == 0, "malformed HTTP response at "
			      "byte %zu of %zu: %.60s", at, k->n, (const char *)k->b + at);
		}
		return;
	}
	if (proto == SX_PROTO_RESP) {
		while (pos < k->n) {
			size_t at = pos;
#ifdef SX_FUZZ_KNOWN
			/* F6 (docs/RELIABILITY.md): a RELOAD path with CR or LF
			 * breaks its error reply. */
			if (resp_reply(k->b, k->n, &pos, 0) &&
			    memmem(k->b, k->n, "-ERR reload ", 12))
				return;
			pos = at;
#endif
			CHECK(resp_reply(k->b, k->n, &pos, 0) == 0,
			      "malformed RESP reply at byte %zu of %zu: %.60s", at, k->n,
			      (const char *)k->b + at);
		}
		return;
	}
	while (pos < k->n) {
		CHECK(k->n - pos >= SXB_HEADER, "a partial frame header at %zu", pos);
		const uint8_t *h = k->b + pos;
		uint32_t blen = (uint32_t)h[0] | (uint32_t)h[1] << 8 |
		                (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
		CHECK(blen <= SXB_MAX_BODY, "reply body of %u bytes", blen);
		CHECK((h[4] & SXB_OP_REPLY) || h[4] == SXB_OP_ERROR, "reply op %#x", h[4]);
		CHECK(k->n - pos - SXB_HEADER >= blen, "frame at %zu runs past the "
		      "output (%u body bytes, %zu left)", pos, blen,
		      k->n - pos - SXB_HEADER);
		pos += SXB_HEADER + blen;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t pieces[8] = { 0, 1, 2, 3, 7, 64, 512, 4096 };
	sx_worker *w = &srv->workers[0];
	sink out = { 0 };

	if (size < 1)
		return 0;
	int proto = data[0] & 16 ? SX_PROTO_HTTP : data[0] & 1 ? SX_PROTO_BIN : SX_PROTO_RESP;
	size_t piece = pieces[data[0] >> 1 & 7];
	data++;
	size--;
	if (piece && size / piece > 4096)
		piece = size / 4096 + 1;        /* bound the number of reads */

	sx_worker_online(w);
	sx_conn *c = sx_worker_accept(w, -1, proto);
	CHECK(c != NULL, "accept");
	for (size_t pos = 0; pos < size;) {
		size_t n = piece && piece < size - pos ? piece : size - pos;
		char *chunk = malloc(n);
		CHECK(chunk != NULL, "out of memory");
		memcpy(chunk, data + pos, n);
		sx_conn_input(c, chunk, n);
		free(chunk);
		pos += n;
		if (c->flags & SX_CF_BLOCKED)
			wait_job(w, c);
		drain(c, &out);
		if (c->flags & (SX_CF_CLOSING | SX_CF_KILL | SX_CF_DEAD))
			break;
	}
	drain(c, &out);
	check_output(proto, &out);

	/* Forget the flush list (nothing is sent) and let the connection go. */
	for (uint32_t i = 0; i < w->ndirty; i++)
		w->dirty[i]->flags &= (uint16_t)~SX_CF_DIRTY;
	w->ndirty = 0;
	sx_worker_release(w, c);
	sx_worker_offline(w);
	free(out.b);
	return 0;
}
