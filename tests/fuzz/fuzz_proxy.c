/*
 * fuzz_proxy.c - libFuzzer target: the PROXY protocol header parser
 * (server/proxyproto.h sx_pp_parse), which is pure, and the CIDR lists of
 * --proxy-from (server/addr.h).
 *
 * Input: the first bytes of a connection, as a proxy (or anyone) sent
 * them.  Each parse reads a private copy of exactly the length given, so
 * a read past it is an ASan report.
 *
 * Checked beyond the sanitizers:
 *   - DONE: the header is 1..min(n, SX_PP_MAX) bytes (v1: at most 107),
 *     version 1 or 2; parsing exactly the header again gives the same
 *     header (length, addresses, ports, local);
 *   - MORE only while a header could still be valid and within bounds:
 *     fewer than SX_PP_MAX bytes (107 for v1);
 *   - ERROR carries a reason;
 *   - prefix consistency, what the transport relies on when a header
 *     comes over many reads: for a prefix of the input, MORE may become
 *     anything, but ERROR stays ERROR and DONE stays DONE with the same
 *     length (all prefixes of short inputs, a sample of long ones);
 *   - the input as a --proxy-from value: parsed or refused with a reason
 *     naming the flag; when parsed, every prefix it holds matches its own
 *     network address, and the header's client address is matched without
 *     a fault.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "proxyproto.h"

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_proxy: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                           \
	} while (0)

static int parse(const uint8_t *src, size_t n, sx_pp_hdr *h)
{
	uint8_t *buf = malloc(n ? n : 1);
	CHECK(buf != NULL, "out of memory");
	if (n)
		memcpy(buf, src, n);
	int rc = sx_pp_parse(buf, n, h);
	free(buf);
	return rc;
}

static void same(const sx_pp_hdr *a, const sx_pp_hdr *b)
{
	CHECK(a->len == b->len && a->version == b->version && a->local == b->local &&
	      a->v6 == b->v6 && !memcmp(a->src, b->src, 16) && !memcmp(a->dst, b->dst, 16) &&
	      a->sport == b->sport && a->dport == b->dport, "a header parsed two ways");
}

static void cidr(const uint8_t *data, size_t size, const sx_pp_hdr *h, int rc)
{
	char text[512];
	size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
	memcpy(text, data, n);
	text[n] = 0;
	sx_cidr_list l;
	char why[512] = "";
	if (sx_cidr_list_parse("--proxy-from", text, &l, why, sizeof why)) {
		CHECK(!strncmp(why, "--proxy-from: ", 14), "reason without the flag: %s", why);
		return;
	}
	CHECK(l.n >= 1, "an empty list parsed");
	for (size_t i = 0; i < l.n; i++) {
		CHECK(l.v[i].bits <= 128, "prefix /%u", l.v[i].bits);
		sx_cidr_list one = { &l.v[i], 1 };
		CHECK(sx_cidr_list_match(&one, l.v[i].net), "a prefix misses its own network");
	}
	char t[1024];
	sx_cidr_list_text(&l, t, sizeof t);
	if (rc == SX_PP_DONE)
		(void)sx_cidr_list_match(&l, h->src);
	sx_cidr_list_free(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sx_pp_hdr h;
	int rc = parse(data, size, &h);
	if (rc == SX_PP_DONE) {
		CHECK(h.len >= 1 && h.len <= size && h.len <= SX_PP_MAX, "len %zu of %zu", h.len, size);
		CHECK(h.version == 1 || h.version == 2, "version %u", h.version);
		CHECK(h.version == 2 || h.len <= SX_PP_V1_MAX, "v1 line of %zu", h.len);
		sx_pp_hdr g;
		CHECK(parse(data, h.len, &g) == SX_PP_DONE, "the header alone is not a header");
		same(&h, &g);
	} else if (rc == SX_PP_MORE) {
		CHECK(size < SX_PP_MAX, "MORE after %zu bytes", size);
		CHECK(size == 0 || data[0] != 'P' || size < SX_PP_V1_MAX, "v1 MORE after %zu", size);
	} else {
		CHECK(rc == SX_PP_ERROR && h.why && *h.why, "rc %d", rc);
	}
	/* prefixes: all of them up to 300 bytes, then a sample */
	size_t step = size <= 300 ? 1 : size / 97 + 1;
	for (size_t k = 0; k < size; k += step) {
		sx_pp_hdr p;
		int r = parse(data, k, &p);
		if (r == SX_PP_ERROR)
			CHECK(rc == SX_PP_ERROR, "a refused prefix of %zu became %d at %zu", k, rc, size);
		if (r == SX_PP_DONE) {
			CHECK(rc == SX_PP_DONE, "a header of %zu bytes became %d at %zu", p.len, rc, size);
			same(&p, &h);
		}
	}
	cidr(data, size, &h, rc);
	return 0;
}
