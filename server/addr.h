/*
 * addr.h - client addresses as the server keeps them (16 bytes, IPv4 as
 * v4-mapped IPv6, as tenant.h's sx_addr and the PROXY protocol parser
 * store them): their text form for the log, and lists of CIDR prefixes
 * that an address is checked against (--proxy-from).
 *
 * One representation for both families keeps matching a compare of
 * prefix bits: an IPv4 prefix a.b.c.d/n is the v4-mapped prefix
 * ::ffff:a.b.c.d/(96 + n), so it also matches IPv4 clients that a
 * dual-stack socket reports as v4-mapped IPv6.  Lists are small (a few
 * proxies) and checked once per connection: a linear scan.
 */
#ifndef SX_ADDR_H
#define SX_ADDR_H

#include <stddef.h>
#include <stdint.h>

/* "10.1.2.3" for a v4-mapped address, "2001:db8::1" otherwise, into buf
 * (46 bytes always suffice); returns buf. */
#define SX_ADDR_TEXT 46
const char *sx_addr_text(const uint8_t a[16], char *buf, size_t cap);

typedef struct sx_cidr {
	uint8_t net[16];          /* host bits zero */
	uint8_t bits;             /* prefix length over the 128 bits */
} sx_cidr;

typedef struct sx_cidr_list {
	sx_cidr *v;
	size_t n;
} sx_cidr_list;

/*
 * Parse "CIDR[,CIDR...]", each an IPv4 or IPv6 address with an optional
 * /prefix (none: the one host).  Host bits set under the prefix
 * (10.0.0.1/8) are refused rather than masked: it is most likely a typo
 * that would trust far more than meant.  Returns 0 with *out (free with
 * sx_cidr_list_free), or SX_EINVAL with why naming flag and the value
 * that is wrong.
 */
int sx_cidr_list_parse(const char *flag, const char *text, sx_cidr_list *out, char *why,
                       size_t whycap);
void sx_cidr_list_free(sx_cidr_list *l);

/* Does a lie in one of l's prefixes? */
int sx_cidr_list_match(const sx_cidr_list *l, const uint8_t a[16]);

/* l as "127.0.0.0/8, ::1/128" into buf, for the log; returns buf. */
const char *sx_cidr_list_text(const sx_cidr_list *l, char *buf, size_t cap);

#endif
