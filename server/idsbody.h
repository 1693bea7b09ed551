/*
 * idsbody.h - the body of a batch query (POST /v1/check) read without a
 * JSON library, when it has the plain shape every client sends:
 *
 *     {"channel": "air", "class": null, "type": "RIC", "at": "2026-01-10",
 *      "ids": ["350304197806263293", "..."]}
 *
 * Jansson builds a tree of the whole body, an allocation and a copy per
 * ID, and reads it a character at a time through its stream layer: for a
 * batch of 256 IDs that was half the server's time per request (bench/
 * http.sh, docs/BENCHMARKS.md).  This scanner only finds where things are:
 * every string it returns points into the body.
 *
 * It accepts a strict subset of JSON and nothing else: an object of the
 * members channel (a non-empty string), class, type, at (a string or
 * null), ids (an array of strings), each at most once, strings without
 * backslash escapes or control characters and of valid UTF-8, JSON
 * whitespace anywhere JSON allows it.  The one exception: the bytes of an
 * ID are not checked for UTF-8, so that a batch with one ID that is not
 * (a client's encoding slip) is still answered, that ID with an error in
 * its place; the caller checks each ID (sx_utf8_valid) before use.  Anything else (an escape, a number,
 * an unknown member, a duplicate, trailing bytes, more IDs than the caller
 * has room for) is "not mine", and the caller reads the body with Jansson,
 * which accepts what JSON allows and says what is wrong with the rest.  So
 * the two readers never disagree on a body both accept: tests/fuzz/
 * fuzz_idsbody.c checks exactly that, against Jansson itself (a body with
 * an ID that is not UTF-8 is one Jansson refuses whole).
 */
#ifndef SX_IDSBODY_H
#define SX_IDSBODY_H

#include <stddef.h>

#include "sx.h"

typedef struct sx_idsbody {
	sx_str channel;
	sx_str cls, type, at;   /* p NULL: absent, null or "" (as "not given") */
	size_t n;               /* IDs in ids[] */
} sx_idsbody;

/* Scan body[0..len).  Returns 0 with *b and ids[0..b->n) (pointing into
 * body), or -1 when the body is not of the plain shape or has more than
 * cap IDs (then nothing in *b or ids is meaningful). */
int sx_idsbody_scan(const char *body, size_t len, sx_idsbody *b, sx_str *ids, size_t cap);

#endif
