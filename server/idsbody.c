/*
 * idsbody.c - a batch query's body, the plain shape only (see idsbody.h).
 *
 * One pass, no allocation, no backtracking: a cursor over the bytes and a
 * refusal (-1) at the first byte the plain shape does not allow.  A
 * string ends at the first '"'; since it may hold no backslash, that
 * quote is its end in JSON too.  An ID's bytes are not checked for UTF-8
 * here: the API answers an ID that is not UTF-8 with an error in its
 * place, as it does any invalid ID (idsbody.h).
 */
#include <string.h>

#include "idsbody.h"
#include "json.h"

typedef struct cur {
	const char *p, *end;
} cur;

static void ws(cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int take(cur *c, char ch)
{
	ws(c);
	if (c->p == c->end || *c->p != ch)
		return -1;
	c->p++;
	return 0;
}

/* A string without escapes or control characters: raw bytes, whose UTF-8
 * is the caller's to check (string() checks it, ids_array() leaves it). */
static int raw_string(cur *c, sx_str *out)
{
	if (take(c, '"'))
		return -1;
	const char *s = c->p;
	while (c->p < c->end && *c->p != '"') {
		unsigned char ch = (unsigned char)*c->p;
		if (ch < 0x20 || ch == '\\')
			return -1;
		c->p++;
	}
	if (c->p == c->end)
		return -1;
	*out = (sx_str){ s, (size_t)(c->p - s) };
	c->p++;
	return 0;
}

/* A raw string of valid UTF-8. */
static int string(cur *c, sx_str *out)
{
	return raw_string(c, out) || !sx_utf8_valid(out->p, out->n) ? -1 : 0;
}

/* A string, or null ({NULL, 0}); "" is {NULL, 0} too. */
static int string_or_null(cur *c, sx_str *out)
{
	ws(c);
	if (c->end - c->p >= 4 && !memcmp(c->p, "null", 4)) {
		c->p += 4;
		*out = (sx_str){ 0 };
		return 0;
	}
	if (string(c, out))
		return -1;
	if (!out->n)
		*out = (sx_str){ 0 };
	return 0;
}

static int ids_array(cur *c, sx_str *ids, size_t cap, size_t *n)
{
	if (take(c, '['))
		return -1;
	*n = 0;
	ws(c);
	if (c->p < c->end && *c->p == ']') {
		c->p++;
		return 0;
	}
	for (;;) {
		if (*n == cap || raw_string(c, &ids[*n]))
			return -1;
		(*n)++;
		ws(c);
		if (c->p == c->end)
			return -1;
		if (*c->p == ']') {
			c->p++;
			return 0;
		}
		if (*c->p++ != ',')
			return -1;
	}
}

int sx_idsbody_scan(const char *body, size_t len, sx_idsbody *b, sx_str *ids, size_t cap)
{
	static const char *const names[] = { "channel", "class", "type", "at", "ids" };
	cur c = { body, body + len };
	unsigned seen = 0;
	*b = (sx_idsbody){ 0 };
	if (take(&c, '{'))
		return -1;
	ws(&c);
	if (c.p < c.end && *c.p == '}')
		return -1;                       /* {}: no channel, no ids */
	for (;;) {
		sx_str key;
		if (string(&c, &key) || take(&c, ':'))
			return -1;
		int k = 0;
		while (k < 5 && !(strlen(names[k]) == key.n && !memcmp(names[k], key.p, key.n)))
			k++;
		if (k == 5 || (seen & (1u << k)))
			return -1;
		seen |= 1u << k;
		int rc;
		switch (k) {
		case 0: rc = string(&c, &b->channel) || !b->channel.n ? -1 : 0; break;
		case 1: rc = string_or_null(&c, &b->cls); break;
		case 2: rc = string_or_null(&c, &b->type); break;
		case 3: rc = string_or_null(&c, &b->at); break;
		default: rc = ids_array(&c, ids, cap, &b->n); break;
		}
		if (rc)
			return -1;
		ws(&c);
		if (c.p == c.end)
			return -1;
		if (*c.p == '}') {
			c.p++;
			break;
		}
		if (*c.p++ != ',')
			return -1;
	}
	ws(&c);
	if (c.p != c.end || (seen & 0x11u) != 0x11u)   /* trailing bytes; channel, ids */
		return -1;
	return 0;
}
