/*
 * proxyproto.c - the PROXY protocol header parser (see proxyproto.h for
 * the format and the decisions).
 *
 * One pass, no state between calls: the caller hands the whole prefix it
 * has each time (at most SX_PP_MAX bytes, so parsing again after each
 * read of a header split over many costs nothing that matters), and the
 * parser says MORE until the header is whole.  The signatures are checked
 * byte by byte first, so the common refusal - a client that sends no
 * header - costs one comparison.
 */
#include <arpa/inet.h>
#include <string.h>

#include "proxyproto.h"

static const uint8_t v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
static const char v1_sig[] = "PROXY ";

enum { V2_LOCAL = 0, V2_PROXY = 1 };
enum { F_UNSPEC = 0, F_INET = 1, F_INET6 = 2, F_UNIX = 3 };
enum { T_UNSPEC = 0, T_STREAM = 1, T_DGRAM = 2 };

static int fail(sx_pp_hdr *h, const char *why)
{
	h->why = why;
	return SX_PP_ERROR;
}

static void v4_mapped(uint8_t out[16], const uint8_t v4[4])
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

/* ---- v1 ------------------------------------------------------------------ */

/* "0".."65535" without sign or spaces. */
static int v1_port(const char *s, size_t n, uint16_t *out)
{
	if (n == 0 || n > 5)
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* An address field of a TCP4/TCP6 line into out (v4-mapped for TCP4). */
static int v1_addr(const char *s, size_t n, int v6, uint8_t out[16])
{
	char buf[48];                     /* the longest IPv6 text is 45 */
	uint8_t a[16];
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, a) != 1)
		return -1;
	if (v6)
		memcpy(out, a, 16);
	else
		v4_mapped(out, a);
	return 0;
}

/* The line between "PROXY " and CRLF: line[0..n). */
static int v1_line(const char *line, size_t n, sx_pp_hdr *h)
{
	if (n >= 7 && !memcmp(line, "UNKNOWN", 7) && (n == 7 || line[7] == ' ')) {
		h->local = 1;             /* the rest of the line is ignored */
		return SX_PP_DONE;
	}
	if (n < 5 || memcmp(line, "TCP", 3) || (line[3] != '4' && line[3] != '6') ||
	    line[4] != ' ')
		return fail(h, "v1: the protocol is not TCP4, TCP6 or UNKNOWN");
	int v6 = line[3] == '6';
	h->v6 = (uint8_t)v6;
	/* four fields separated by single spaces */
	const char *f[4];
	size_t fl[4];
	const char *p = line + 5, *end = line + n;
	for (int i = 0; i < 4; i++) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *e = i < 3 ? sp : end;
		if (!e || (i == 3 && sp))
			return fail(h, "v1: want four fields after the protocol, "
			               "separated by single spaces");
		f[i] = p;
		fl[i] = (size_t)(e - p);
		p = e + 1;
	}
	if (v1_addr(f[0], fl[0], v6, h->src))
		return fail(h, v6 ? "v1: the source is not an IPv6 address"
		                  : "v1: the source is not an IPv4 address");
	if (v1_addr(f[1], fl[1], v6, h->dst))
		return fail(h, v6 ? "v1: the destination is not an IPv6 address"
		                  : "v1: the destination is not an IPv4 address");
	if (v1_port(f[2], fl[2], &h->sport) || v1_port(f[3], fl[3], &h->dport))
		return fail(h, "v1: a port is not a number in 0..65535");
	return SX_PP_DONE;
}

static int parse_v1(const uint8_t *p, size_t n, sx_pp_hdr *h)
{
	size_t lim = n < SX_PP_V1_MAX ? n : SX_PP_V1_MAX;
	for (size_t i = sizeof v1_sig - 1; i < lim; i++) {
		if (p[i] == '\n')
			return fail(h, "v1: the line ends in LF without CR");
		if (p[i] != '\r')
			continue;
		if (i + 1 >= lim)
			break;                /* CR is the last byte we have */
		if (p[i + 1] != '\n')
			return fail(h, "v1: CR not followed by LF");
		h->version = 1;
		h->len = i + 2;
		size_t skip = sizeof v1_sig - 1;
		return v1_line((const char *)p + skip, i - skip, h);
	}
	if (n >= SX_PP_V1_MAX)
		return fail(h, "v1: no CRLF within 107 bytes");
	return SX_PP_MORE;
}

/* ---- v2 ------------------------------------------------------------------ */

/* The version/command byte and the family/transport byte, as far as they
 * are in (so a bad one is refused before the rest arrives). */
static int v2_fixed(const uint8_t *p, size_t n, sx_pp_hdr *h)
{
	if (n > 12) {
		if ((p[12] >> 4) != 2)
			return fail(h, "v2: version is not 2");
		if ((p[12] & 0x0f) > V2_PROXY)
			return fail(h, "v2: command is neither LOCAL nor PROXY");
	}
	if (n > 13 && (p[12] & 0x0f) == V2_PROXY) {
		unsigned fam = p[13] >> 4, tr = p[13] & 0x0f;
		if (fam > F_UNIX || tr > T_DGRAM)
			return fail(h, "v2: unknown address family or transport");
		if ((fam == F_INET || fam == F_INET6) && tr != T_STREAM)
			return fail(h, "v2: an IPv4 or IPv6 client that is not TCP (STREAM)");
	}
	return SX_PP_MORE;
}

static int parse_v2(const uint8_t *p, size_t n, sx_pp_hdr *h)
{
	if (v2_fixed(p, n, h) == SX_PP_ERROR)
		return SX_PP_ERROR;
	if (n < SX_PP_V2_FIXED)
		return SX_PP_MORE;
	size_t total = SX_PP_V2_FIXED + ((size_t)p[14] << 8 | p[15]);
	if (total > SX_PP_MAX)
		return fail(h, "v2: header longer than 4096 bytes");
	if (n < total)
		return SX_PP_MORE;
	h->version = 2;
	h->len = total;
	if ((p[12] & 0x0f) == V2_LOCAL) {
		h->local = 1;             /* family, addresses and TLVs ignored */
		return SX_PP_DONE;
	}
	unsigned fam = p[13] >> 4;
	size_t asz = fam == F_INET ? 12 : fam == F_INET6 ? 36 : fam == F_UNIX ? 216 : 0;
	if (total - SX_PP_V2_FIXED < asz)
		return fail(h, "v2: length shorter than the addresses of its family");
	const uint8_t *a = p + SX_PP_V2_FIXED;
	if (fam == F_INET) {
		v4_mapped(h->src, a);
		v4_mapped(h->dst, a + 4);
		h->sport = (uint16_t)(a[8] << 8 | a[9]);
		h->dport = (uint16_t)(a[10] << 8 | a[11]);
	} else if (fam == F_INET6) {
		memcpy(h->src, a, 16);
		memcpy(h->dst, a + 16, 16);
		h->sport = (uint16_t)(a[32] << 8 | a[33]);
		h->dport = (uint16_t)(a[34] << 8 | a[35]);
		h->v6 = 1;
	} else {
		h->local = 1;             /* UNSPEC or UNIX: no network address */
	}
	/* TLVs: skipped, each must fit */
	for (size_t off = SX_PP_V2_FIXED + asz; off < total;) {
		if (total - off < 3)
			return fail(h, "v2: a TLV cut short");
		off += 3 + ((size_t)p[off + 1] << 8 | p[off + 2]);
		if (off > total)
			return fail(h, "v2: a TLV longer than the header");
	}
	return SX_PP_DONE;
}

int sx_pp_parse(const uint8_t *p, size_t n, sx_pp_hdr *h)
{
	memset(h, 0, sizeof *h);
	if (n == 0)
		return SX_PP_MORE;
	if (p[0] == v2_sig[0]) {
		size_t k = n < sizeof v2_sig ? n : sizeof v2_sig;
		if (memcmp(p, v2_sig, k))
			return fail(h, "no PROXY protocol header (bad v2 signature)");
		return parse_v2(p, n, h);
	}
	size_t k = n < sizeof v1_sig - 1 ? n : sizeof v1_sig - 1;
	if (memcmp(p, v1_sig, k))
		return fail(h, "no PROXY protocol header (neither \"PROXY \" nor the "
		               "v2 signature)");
	if (n < sizeof v1_sig - 1)
		return SX_PP_MORE;
	return parse_v1(p, n, h);
}
