/*
 * json.h - JSON text out: one string escaper and one UTF-8 check, shared
 * by the server's HTTP API, the CLI's reports and `sxgate screen`.
 *
 * The escaper writes into a caller's buffer (no allocation, no FILE):
 * the server appends to a connection's output buffer, the tools to a
 * stdio stream, and both get the same bytes.  Input is expected to be
 * valid UTF-8 (case numbers and court names are; IDs are checked with
 * sx_utf8_valid() before they are echoed); bytes are copied as they are
 * except '"', '\\' and control characters, so a multi-byte character
 * stays itself and the output is valid UTF-8 JSON whenever the input is.
 * Reading JSON is Jansson's job (libjansson), not ours.
 */
#ifndef SX_JSON_H
#define SX_JSON_H

#include <stddef.h>

/* The most bytes sx_json_str() writes for n input bytes. */
#define SX_JSON_STR_MAX(n) (6 * (size_t)(n) + 2)

/* Write s[0..n) as a JSON string, quotes included, to dst (room for
 * SX_JSON_STR_MAX(n) bytes); returns the bytes written. */
size_t sx_json_str(char *dst, const char *s, size_t n);

/* 1 if s[0..n) is well-formed UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF), else 0. */
int sx_utf8_valid(const char *s, size_t n);

#endif
