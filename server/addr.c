/*
 * addr.c - client addresses in text and CIDR lists (see addr.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "sx.h"

static int is_v4_mapped(const uint8_t a[16])
{
	static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return !memcmp(a, pre, sizeof pre);
}

const char *sx_addr_text(const uint8_t a[16], char *buf, size_t cap)
{
	char t[INET6_ADDRSTRLEN];
	if (!inet_ntop(is_v4_mapped(a) ? AF_INET : AF_INET6, is_v4_mapped(a) ? a + 12 : a,
	               t, sizeof t))
		snprintf(t, sizeof t, "?");
	snprintf(buf, cap, "%s", t);
	return buf;
}

/* Do the first bits bits of a and b agree? */
static int prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, whole))
		return 0;
	if (!rest)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

/* One "ADDR[/BITS]" of len n. */
static int parse_one(const char *flag, const char *s, size_t n, sx_cidr *out, char *why,
                     size_t whycap)
{
	char buf[80];
	if (n == 0) {
		snprintf(why, whycap, "%s: an empty entry (want CIDR[,CIDR...], e.g. "
		         "10.0.0.5/32,fd00::/8)", flag);
		return SX_EINVAL;
	}
	if (n >= sizeof buf) {
		snprintf(why, whycap, "%s: '%.*s...' is not an IPv4 or IPv6 address or prefix",
		         flag, 40, s);
		return SX_EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = 0;
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	int v6 = strchr(buf, ':') != NULL;
	uint8_t a[16];
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, a) != 1) {
		snprintf(why, whycap, "%s: '%.*s': '%s' is not an IPv4 or IPv6 address", flag,
		         (int)n, s, buf);
		return SX_EINVAL;
	}
	unsigned max = v6 ? 128 : 32, bits = max;
	if (slash) {
		const char *d = slash + 1;
		size_t dl = strlen(d);
		unsigned v = 0;
		int ok = dl >= 1 && dl <= 3;
		for (size_t i = 0; ok && i < dl; i++) {
			ok = d[i] >= '0' && d[i] <= '9';
			v = v * 10 + (unsigned)(d[i] - '0');
		}
		if (!ok || v > max) {
			snprintf(why, whycap, "%s: '%.*s': the prefix length must be 0..%u", flag,
			         (int)n, s, max);
			return SX_EINVAL;
		}
		bits = v;
	}
	memset(out, 0, sizeof *out);
	if (v6) {
		memcpy(out->net, a, 16);
		out->bits = (uint8_t)bits;
	} else {
		out->net[10] = out->net[11] = 0xff;
		memcpy(out->net + 12, a, 4);
		out->bits = (uint8_t)(96 + bits);
	}
	uint8_t masked[16] = { 0 };
	unsigned whole = out->bits / 8, rest = out->bits % 8;
	memcpy(masked, out->net, whole);
	if (rest)
		masked[whole] = (uint8_t)(out->net[whole] & (0xff << (8 - rest)));
	if (memcmp(masked, out->net, 16)) {
		char t[SX_ADDR_TEXT];
		snprintf(why, whycap, "%s: '%.*s' has host bits set under its /%u prefix "
		         "(the network is %s/%u; for the one host write /%u)", flag, (int)n, s,
		         bits, sx_addr_text(masked, t, sizeof t), bits, max);
		return SX_EINVAL;
	}
	return 0;
}

int sx_cidr_list_parse(const char *flag, const char *text, sx_cidr_list *out, char *why,
                       size_t whycap)
{
	memset(out, 0, sizeof *out);
	size_t cap = 1;
	for (const char *p = text; *p; p++)
		cap += *p == ',';
	out->v = calloc(cap, sizeof *out->v);
	if (!out->v) {
		snprintf(why, whycap, "%s: out of memory", flag);
		return -ENOMEM;
	}
	for (const char *p = text;;) {
		const char *e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		const char *s = p, *t = e;
		while (s < t && *s == ' ')
			s++;
		while (t > s && t[-1] == ' ')
			t--;
		int rc = parse_one(flag, s, (size_t)(t - s), &out->v[out->n], why, whycap);
		if (rc) {
			sx_cidr_list_free(out);
			return rc;
		}
		out->n++;
		if (!*e)
			break;
		p = e + 1;
	}
	return 0;
}

void sx_cidr_list_free(sx_cidr_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int sx_cidr_list_match(const sx_cidr_list *l, const uint8_t a[16])
{
	for (size_t i = 0; i < l->n; i++)
		if (prefix_eq(l->v[i].net, a, l->v[i].bits))
			return 1;
	return 0;
}

const char *sx_cidr_list_text(const sx_cidr_list *l, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = 0;
	for (size_t i = 0; i < l->n && len < cap; i++) {
		char t[SX_ADDR_TEXT];
		const sx_cidr *c = &l->v[i];
		int v4 = is_v4_mapped(c->net) && c->bits >= 96;
		int m = snprintf(buf + len, cap - len, "%s%s/%u", i ? ", " : "",
		                 v4 ? inet_ntop(AF_INET, c->net + 12, t, sizeof t)
		                    : inet_ntop(AF_INET6, c->net, t, sizeof t),
		                 v4 ? c->bits - 96u : c->bits);
		if (m < 0)
			break;
		len += (size_t)m;
	}
	return buf;
}
