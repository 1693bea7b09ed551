/*
 * test_proxyproto.c - the PROXY protocol header parser (server/proxyproto.h)
 * and the CIDR lists of --proxy-from (server/addr.h): v1 TCP4, TCP6 and
 * UNKNOWN lines; v2 IPv4, IPv6, LOCAL, UNSPEC and UNIX headers, with and
 * without TLVs; every header split at every byte (a valid prefix is "need
 * more", never an error); the client's bytes after the header left alone;
 * truncated, oversized and malformed headers, bad signatures, bad TLVs.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "proxyproto.h"
#include "sx.h"

static const uint8_t SIG[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

typedef struct hb { uint8_t b[70000]; size_t n; } hb;

/* A v2 header: version/command byte vc, family/transport byte ft, then
 * body[0..bn) (addresses and TLVs); its length field says bn. */
static size_t v2(hb *o, uint8_t vc, uint8_t ft, const void *body, size_t bn)
{
	memcpy(o->b, SIG, 12);
	o->b[12] = vc;
	o->b[13] = ft;
	o->b[14] = (uint8_t)(bn >> 8);
	o->b[15] = (uint8_t)bn;
	if (bn)
		memcpy(o->b + 16, body, bn);
	o->n = 16 + bn;
	return o->n;
}

static const char *text(const uint8_t a[16])
{
	static char buf[4][SX_ADDR_TEXT];
	static int k;
	k = (k + 1) % 4;
	return sx_addr_text(a, buf[k], sizeof buf[k]);
}

/* Parse p whole: DONE with length len; every proper prefix: MORE; and
 * with client bytes after it, still DONE with the same length. */
static sx_pp_hdr done(const uint8_t *p, size_t len)
{
	sx_pp_hdr h;
	int rc = sx_pp_parse(p, len, &h);
	cr_assert_eq(rc, SX_PP_DONE, "rc %d (%s)", rc, rc == SX_PP_ERROR ? h.why : "");
	cr_assert_eq(h.len, len);
	for (size_t k = 0; k < len; k++) {
		sx_pp_hdr g;
		int r = sx_pp_parse(p, k, &g);
		cr_assert_eq(r, SX_PP_MORE, "prefix of %zu of %zu bytes: rc %d (%s)", k, len, r,
		             r == SX_PP_ERROR ? g.why : "");
	}
	uint8_t *more = malloc(len + 64);
	memcpy(more, p, len);
	static const char tail[] = "\x16\x03\x01\x02\x00PING\r\nPROXY TCP4";
	memcpy(more + len, tail, sizeof tail - 1);
	sx_pp_hdr g;
	cr_assert_eq(sx_pp_parse(more, len + sizeof tail - 1, &g), SX_PP_DONE);
	cr_assert_eq(g.len, len, "the client's bytes are not the header's");
	free(more);
	return h;
}

static sx_pp_hdr done_str(const char *s)
{
	return done((const uint8_t *)s, strlen(s));
}

/* p is refused, and why mentions needle. */
static void refused(const void *p, size_t n, const char *needle)
{
	sx_pp_hdr h;
	int rc = sx_pp_parse(p, n, &h);
	cr_assert_eq(rc, SX_PP_ERROR, "%zu bytes: rc %d, not refused", n, rc);
	cr_assert_not_null(h.why);
	cr_assert(strstr(h.why, needle), "why '%s' does not say '%s'", h.why, needle);
}

static void refused_str(const char *s, const char *needle)
{
	refused(s, strlen(s), needle);
}

static void more(const void *p, size_t n)
{
	sx_pp_hdr h;
	int rc = sx_pp_parse(p, n, &h);
	cr_assert_eq(rc, SX_PP_MORE, "%zu bytes: rc %d (%s)", n, rc, rc == SX_PP_ERROR ? h.why : "");
}

/* ---- v1 ------------------------------------------------------------------ */

Test(proxyproto_v1, tcp4)
{
	sx_pp_hdr h = done_str("PROXY TCP4 192.0.2.10 198.51.100.1 56324 6390\r\n");
	cr_assert_eq(h.version, 1);
	cr_assert_eq(h.local, 0);
	cr_assert_eq(h.v6, 0);
	cr_assert_str_eq(text(h.src), "192.0.2.10");
	cr_assert_str_eq(text(h.dst), "198.51.100.1");
	cr_assert_eq(h.sport, 56324);
	cr_assert_eq(h.dport, 6390);
	/* stored v4-mapped, as sx_addr stores a peer */
	static const uint8_t m[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 10 };
	cr_assert_arr_eq(h.src, m, 16);
}

Test(proxyproto_v1, tcp6)
{
	sx_pp_hdr h = done_str("PROXY TCP6 2001:db8::7 2001:db8::1 0 65535\r\n");
	cr_assert_eq(h.version, 1);
	cr_assert_eq(h.v6, 1);
	cr_assert_str_eq(text(h.src), "2001:db8::7");
	cr_assert_str_eq(text(h.dst), "2001:db8::1");
	cr_assert_eq(h.sport, 0);
	cr_assert_eq(h.dport, 65535);
}

Test(proxyproto_v1, unknown_keeps_the_peer)
{
	sx_pp_hdr h = done_str("PROXY UNKNOWN\r\n");
	cr_assert_eq(h.local, 1);
	h = done_str("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n");
	cr_assert_eq(h.local, 1);
}

Test(proxyproto_v1, the_longest_line_is_107_bytes)
{
	/* the specification's worst case: 107 bytes, CRLF included */
	const char *l = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	cr_assert_eq(strlen(l), 104);
	done_str(l);
	char u[200];
	memset(u, 'x', sizeof u);
	memcpy(u, "PROXY UNKNOWN ", 14);
	memcpy(u + 105, "\r\n", 3);       /* 107 bytes and the NUL */
	cr_assert_eq(strlen(u), 107);
	cr_assert_eq(done_str(u).local, 1);
	memset(u, 'x', sizeof u);
	memcpy(u, "PROXY UNKNOWN ", 14);
	memcpy(u + 106, "\r\n", 3);       /* 108 */
	refused_str(u, "no CRLF within 107");
}

Test(proxyproto_v1, a_line_without_crlf_is_refused_at_107_bytes)
{
	char b[300];
	memset(b, 'x', sizeof b);
	memcpy(b, "PROXY TCP4 ", 11);
	more(b, 106);
	refused(b, 107, "no CRLF within 107");
	refused(b, sizeof b, "no CRLF within 107");
}

Test(proxyproto_v1, malformed_lines)
{
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "LF without CR");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "CR not followed by LF");
	refused_str("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "not TCP4, TCP6 or UNKNOWN");
	refused_str("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", "not TCP4, TCP6 or UNKNOWN");
	refused_str("PROXY \r\n", "not TCP4, TCP6 or UNKNOWN");
	refused_str("PROXY UNKNOWNX\r\n", "not TCP4, TCP6 or UNKNOWN");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "four fields");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "four fields");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "four fields");
	refused_str("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "four fields");
	refused_str("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", "source is not an IPv4");
	refused_str("PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "source is not an IPv4");
	refused_str("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "source is not an IPv6");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7 1 2\r\n", "destination is not an IPv4");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "port");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n", "port");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 +2\r\n", "port");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 123456 2\r\n", "port");
}

/* ---- v2 ------------------------------------------------------------------ */

static const uint8_t V4_BODY[12] = { 203, 0, 113, 7, 10, 0, 0, 5, 0xc3, 0x50, 0x18, 0xf6 };

Test(proxyproto_v2, ipv4)
{
	hb *o = calloc(1, sizeof *o);
	v2(o, 0x21, 0x11, V4_BODY, sizeof V4_BODY);
	sx_pp_hdr h = done(o->b, o->n);
	cr_assert_eq(h.version, 2);
	cr_assert_eq(h.local, 0);
	cr_assert_eq(h.len, 28);
	cr_assert_str_eq(text(h.src), "203.0.113.7");
	cr_assert_str_eq(text(h.dst), "10.0.0.5");
	cr_assert_eq(h.sport, 50000);
	cr_assert_eq(h.dport, 6390);
	free(o);
}

Test(proxyproto_v2, ipv6)
{
	hb *o = calloc(1, sizeof *o);
	uint8_t body[36] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x42,
	                     [16] = 0xfd, [31] = 0x01, [32] = 0x12, 0x34, 0x00, 0x50 };
	v2(o, 0x21, 0x21, body, sizeof body);
	sx_pp_hdr h = done(o->b, o->n);
	cr_assert_eq(h.v6, 1);
	cr_assert_str_eq(text(h.src), "2001:db8::42");
	cr_assert_str_eq(text(h.dst), "fd00::1");
	cr_assert_eq(h.sport, 0x1234);
	cr_assert_eq(h.dport, 80);
	free(o);
}

Test(proxyproto_v2, local_keeps_the_peer)
{
	hb *o = calloc(1, sizeof *o);
	v2(o, 0x20, 0x00, NULL, 0);        /* HAProxy's health checks */
	sx_pp_hdr h = done(o->b, o->n);
	cr_assert_eq(h.local, 1);
	cr_assert_eq(h.len, 16);
	/* LOCAL ignores the family and whatever block it has */
	v2(o, 0x20, 0x11, V4_BODY, sizeof V4_BODY);
	h = done(o->b, o->n);
	cr_assert_eq(h.local, 1);
	cr_assert_eq(h.len, 28);
	v2(o, 0x20, 0xff, "\x01", 1);
	cr_assert_eq(done(o->b, o->n).local, 1);
	free(o);
}

Test(proxyproto_v2, unspec_and_unix_keep_the_peer)
{
	hb *o = calloc(1, sizeof *o);
	v2(o, 0x21, 0x00, NULL, 0);
	cr_assert_eq(done(o->b, o->n).local, 1);
	uint8_t un[216];
	memset(un, 0, sizeof un);
	strcpy((char *)un, "/run/haproxy/client.sock");
	v2(o, 0x21, 0x31, un, sizeof un);
	sx_pp_hdr h = done(o->b, o->n);
	cr_assert_eq(h.local, 1);
	cr_assert_eq(h.len, 16 + 216);
	free(o);
}

Test(proxyproto_v2, tlvs_are_skipped)
{
	hb *o = calloc(1, sizeof *o);
	uint8_t body[12 + 64];
	memcpy(body, V4_BODY, 12);
	size_t n = 12;
	/* ALPN "h2", authority "gate.example", a NOOP of 0 bytes, unique ID */
	const uint8_t tlv[] = { 0x01, 0x00, 0x02, 'h', '2',
	                        0x02, 0x00, 0x0c, 'g', 'a', 't', 'e', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e',
	                        0x04, 0x00, 0x00,
	                        0x05, 0x00, 0x04, 1, 2, 3, 4 };
	memcpy(body + n, tlv, sizeof tlv);
	n += sizeof tlv;
	v2(o, 0x21, 0x11, body, n);
	sx_pp_hdr h = done(o->b, o->n);
	cr_assert_eq(h.len, 16 + n);
	cr_assert_str_eq(text(h.src), "203.0.113.7");
	/* TLVs up to the size limit: one 4080-byte header */
	static uint8_t big[SX_PP_MAX - 16];
	memcpy(big, V4_BODY, 12);
	size_t left = sizeof big - 12;
	big[12] = 0xee;
	big[13] = (uint8_t)((left - 3) >> 8);
	big[14] = (uint8_t)(left - 3);
	v2(o, 0x21, 0x11, big, sizeof big);
	h = done(o->b, o->n);
	cr_assert_eq(h.len, SX_PP_MAX);
	free(o);
}

Test(proxyproto_v2, bad_tlvs)
{
	hb *o = calloc(1, sizeof *o);
	uint8_t body[12 + 8];
	memcpy(body, V4_BODY, 12);
	memcpy(body + 12, "\x01\x00\x09" "ab", 5);    /* says 9, has 2 */
	v2(o, 0x21, 0x11, body, 17);
	refused(o->b, o->n, "TLV longer than the header");
	memcpy(body + 12, "\x01\x00", 2);             /* 2 bytes: no room for a length */
	v2(o, 0x21, 0x11, body, 14);
	refused(o->b, o->n, "TLV cut short");
	free(o);
}

Test(proxyproto_v2, oversized_is_refused_at_once)
{
	hb *o = calloc(1, sizeof *o);
	/* a length of 65535: refused as soon as the 16 fixed bytes are in,
	 * not waited for */
	memset(o->b, 0, sizeof o->b);
	v2(o, 0x21, 0x11, V4_BODY, 12);
	o->b[14] = 0xff;
	o->b[15] = 0xff;
	more(o->b, 15);
	refused(o->b, 16, "longer than 4096");
	refused(o->b, 70000, "longer than 4096");
	/* one byte over the limit */
	o->b[14] = (uint8_t)((SX_PP_MAX - 15) >> 8);
	o->b[15] = (uint8_t)(SX_PP_MAX - 15);
	refused(o->b, 16, "longer than 4096");
	free(o);
}

Test(proxyproto_v2, truncated_is_more)
{
	hb *o = calloc(1, sizeof *o);
	v2(o, 0x21, 0x11, V4_BODY, sizeof V4_BODY);
	for (size_t k = 0; k < o->n; k++)
		more(o->b, k);
	free(o);
}

Test(proxyproto_v2, bad_fixed_bytes)
{
	hb *o = calloc(1, sizeof *o);
	v2(o, 0x11, 0x11, V4_BODY, 12);
	refused(o->b, 13, "version is not 2");       /* refused at its byte */
	v2(o, 0x31, 0x11, V4_BODY, 12);
	refused(o->b, o->n, "version is not 2");
	v2(o, 0x22, 0x11, V4_BODY, 12);
	refused(o->b, 13, "neither LOCAL nor PROXY");
	v2(o, 0x2f, 0x11, V4_BODY, 12);
	refused(o->b, o->n, "neither LOCAL nor PROXY");
	v2(o, 0x21, 0x41, V4_BODY, 12);
	refused(o->b, 14, "unknown address family");
	v2(o, 0x21, 0x13, V4_BODY, 12);
	refused(o->b, o->n, "unknown address family or transport");
	v2(o, 0x21, 0x12, V4_BODY, 12);              /* UDP */
	refused(o->b, o->n, "not TCP");
	v2(o, 0x21, 0x10, V4_BODY, 12);
	refused(o->b, o->n, "not TCP");
	v2(o, 0x21, 0x11, V4_BODY, 11);              /* 11 bytes of a 12-byte block */
	refused(o->b, o->n, "shorter than the addresses");
	uint8_t b6[35] = { 0 };
	v2(o, 0x21, 0x21, b6, sizeof b6);
	refused(o->b, o->n, "shorter than the addresses");
	uint8_t un[215] = { 0 };
	v2(o, 0x21, 0x31, un, sizeof un);
	refused(o->b, o->n, "shorter than the addresses");
	free(o);
}

/* ---- what is not a header at all --------------------------------------- */

Test(proxyproto, no_header_is_refused_at_the_first_differing_byte)
{
	more("", 0);
	refused("\x16\x03\x01", 1, "no PROXY protocol header");    /* a TLS ClientHello */
	refused("*1\r\n$4\r\nPING\r\n", 1, "no PROXY protocol header");
	refused("PING\r\n", 2, "no PROXY protocol header");
	refused("PROXYTCP4", 6, "no PROXY protocol header");
	refused("GET / HTTP/1.1\r\n", 1, "no PROXY protocol header");
	more("PROXY", 5);
	more("\r\n\r\n\x00\r\nQUI", 10);
	refused("\r\n\r\n\x00\r\nQUIX", 12, "bad v2 signature");
	refused("\r\n\r\n\x01", 5, "bad v2 signature");
	refused("\r\nX", 3, "bad v2 signature");
}

/* ---- CIDR lists ---------------------------------------------------------- */

static void addr_of(const char *s, uint8_t a[16])
{
	uint8_t b[16];
	memset(a, 0, 16);
	if (strchr(s, ':')) {
		cr_assert_eq(inet_pton(AF_INET6, s, a), 1, "%s", s);
	} else {
		cr_assert_eq(inet_pton(AF_INET, s, b), 1, "%s", s);
		a[10] = a[11] = 0xff;
		memcpy(a + 12, b, 4);
	}
}

static int in(const sx_cidr_list *l, const char *s)
{
	uint8_t a[16];
	addr_of(s, a);
	return sx_cidr_list_match(l, a);
}

Test(cidr, match_v4_and_v6)
{
	sx_cidr_list l;
	char why[256] = "";
	cr_assert_eq(sx_cidr_list_parse("--proxy-from", "10.0.0.0/8, 192.0.2.5 ,fd00::/8,::1",
	                                &l, why, sizeof why), 0, "%s", why);
	cr_assert_eq(l.n, 4);
	cr_assert(in(&l, "10.255.1.2"));
	cr_assert(in(&l, "10.0.0.0"));
	cr_assert(!in(&l, "11.0.0.1"));
	cr_assert(in(&l, "192.0.2.5"));
	cr_assert(!in(&l, "192.0.2.6"));
	cr_assert(in(&l, "fd12:3456::1"));
	cr_assert(!in(&l, "fe80::1"));
	cr_assert(in(&l, "::1"));
	cr_assert(!in(&l, "::2"));
	/* a v4-mapped IPv6 peer (dual-stack socket) is its IPv4 address */
	cr_assert(in(&l, "::ffff:10.1.1.1"));
	char t[256];
	cr_assert_str_eq(sx_cidr_list_text(&l, t, sizeof t),
	                 "10.0.0.0/8, 192.0.2.5/32, fd00::/8, ::1/128");
	sx_cidr_list_free(&l);

	cr_assert_eq(sx_cidr_list_parse("--proxy-from", "0.0.0.0/0", &l, why, sizeof why), 0);
	cr_assert(in(&l, "203.0.113.9"));
	cr_assert(!in(&l, "2001:db8::1"), "an IPv4 /0 is all of IPv4, not IPv6");
	sx_cidr_list_free(&l);
	cr_assert_eq(sx_cidr_list_parse("--proxy-from", "10.1.2.128/25", &l, why, sizeof why), 0);
	cr_assert(in(&l, "10.1.2.200"));
	cr_assert(!in(&l, "10.1.2.127"));
	sx_cidr_list_free(&l);
}

Test(cidr, bad_values_are_named)
{
	static const struct { const char *in, *says; } bad[] = {
		{ "10.0.0.300/8", "'10.0.0.300' is not an IPv4 or IPv6 address" },
		{ "10.0.0.1/8", "'10.0.0.1/8' has host bits set" },
		{ "10.0.0.0/33", "'10.0.0.0/33': the prefix length must be 0..32" },
		{ "fd00::/129", "must be 0..128" },
		{ "10.0.0.0/", "prefix length" },
		{ "10.0.0.0/x", "prefix length" },
		{ "10.0.0.0/-1", "prefix length" },
		{ "127.0.0.1,,::1", "an empty entry" },
		{ "", "an empty entry" },
		{ "localhost", "'localhost' is not an IPv4 or IPv6 address" },
		{ "fd00::1/8", "host bits set" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sx_cidr_list l;
		char why[256] = "";
		cr_assert_eq(sx_cidr_list_parse("--proxy-from", bad[i].in, &l, why, sizeof why),
		             SX_EINVAL, "'%s' accepted", bad[i].in);
		cr_assert(strstr(why, bad[i].says) && !strncmp(why, "--proxy-from: ", 14),
		          "'%s': %s", bad[i].in, why);
	}
}
