/*
 * json.c - the JSON string escaper and the UTF-8 check (json.h).
 *
 * Escaping copies runs of plain bytes with one memcpy and stops only at
 * the bytes JSON reserves, so a case number of thirty Chinese characters
 * costs one copy.  The UTF-8 check follows RFC 3629's table of
 * well-formed sequences, byte by byte.
 */
#include <string.h>

#include "json.h"

static const char hex[] = "0123456789abcdef";

size_t sx_json_str(char *dst, const char *s, size_t n)
{
	char *o = dst;
	size_t run = 0;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		memcpy(o, s + run, i - run);
		o += i - run;
		run = i + 1;
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			*o++ = 'u'; *o++ = '0'; *o++ = '0';
			*o++ = hex[c >> 4]; *o++ = hex[c & 15];
		}
	}
	memcpy(o, s + run, n - run);
	o += n - run;
	*o++ = '"';
	return (size_t)(o - dst);
}

int sx_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + n;
	while (s < end) {
		unsigned c = *s;
		if (c < 0x80) {
			s++;
			continue;
		}
		size_t len;
		unsigned lo = 0x80, hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			if (c == 0xe0) lo = 0xa0;
			if (c == 0xed) hi = 0x9f;         /* no surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			if (c == 0xf0) lo = 0x90;
			if (c == 0xf4) hi = 0x8f;         /* nothing above U+10FFFF */
		} else {
			return 0;
		}
		if ((size_t)(end - s) < len || s[1] < lo || s[1] > hi)
			return 0;
		for (size_t k = 2; k < len; k++)
			if (s[k] < 0x80 || s[k] > 0xbf)
				return 0;
		s += len;
	}
	return 1;
}
