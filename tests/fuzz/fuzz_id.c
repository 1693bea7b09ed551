/*
 * fuzz_id.c - libFuzzer target: the identity rules (engine/id.h).
 *
 * Input: one byte choosing the type (-1 .. 7: one past each end of the
 * valid range, to reach the "unknown id type" path), then the raw ID.  The
 * raw bytes are parsed for every side (query and list), and their first 16
 * bytes double as an arbitrary packed key for sx_key_unpack and
 * sx_key_match, which read keys from snapshot files.
 *
 * Invariants checked on every accepted ID (SPEC section 3, id.h):
 *   - the normalised form is NUL-terminated, at most 20 characters of
 *     0-9A-Z, and parses again (same type and side) to the same norm,
 *     keys, key count and warning: normalising is idempotent;
 *   - whatever the query side accepts, the list side accepts, with the
 *     same own key (the list is only more lenient);
 *   - the own key unpacks to the ID's characters (RIC: the first 17, the
 *     check digit never being part of the key) with the type's key kind,
 *     and packing them again gives the same key;
 *   - RIC: the query side refuses a wrong check character; a list-side
 *     RIC warns exactly when its check character is wrong;
 *   - USCC: the second key is the organisation code (characters 9..17)
 *     as EMB (list) or ORG (query); sx_key_match pairs the USCC with that
 *     ORG key in both argument orders; an ORG parsed from those characters
 *     has exactly that key;
 *   - ORG on the query side also looks up its EMB key.
 * And on arbitrary keys: unpack writes at most 21 bytes and 0-9A-Z or '?',
 * sx_key_match is symmetric, and sx_key_pack accepts exactly 1..20
 * characters of 0-9A-Z, which unpack returns unchanged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "id.h"

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_id: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                           \
	} while (0)

static const int own_kind[SX_NIDTYPES] = {
	[SX_IDT_RIC] = SX_KK_RIC, [SX_IDT_USCC] = SX_KK_USCC,
	[SX_IDT_ORG] = SX_KK_ORG, [SX_IDT_PASSPORT] = SX_KK_PASSPORT,
	[SX_IDT_HKMO] = SX_KK_HKMO, [SX_IDT_TW] = SX_KK_TW,
	[SX_IDT_FRP] = SX_KK_FRP,
};

static int alnum_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return 1;
}

static int keq(const sx_key *a, const sx_key *b)
{
	return sx_key_eq(a, b);
}

/* The key unpacks to want[0..n) with kind, and packs back to itself. */
static void key_is(const sx_key *k, int kind, const char *want, size_t n)
{
	char *buf = malloc(SX_ID_MAX + 1);
	int got_kind = -1;
	sx_key again;
	CHECK(buf != NULL, "out of memory");
	size_t len = sx_key_unpack(k, &got_kind, buf);
	CHECK(got_kind == kind, "kind %d, want %d", got_kind, kind);
	CHECK(len == n && memcmp(buf, want, n) == 0, "key holds '%s', want '%.*s'",
	      buf, (int)n, want);
	CHECK(sx_key_pack(kind, buf, len, &again) == 0 && keq(&again, k),
	      "pack(unpack(k)) != k for '%s'", buf);
	free(buf);
}

static void check_accepted(int type, int side, const sx_id *id)
{
	const char *why = NULL;
	sx_id again;

	CHECK(id->type == type, "type");
	CHECK(id->len <= SX_ID_MAX && id->len == strlen(id->norm), "norm length");
	CHECK(alnum_upper(id->norm, id->len), "norm '%s'", id->norm);
	CHECK(id->nkeys == 1 || id->nkeys == 2, "nkeys %u", id->nkeys);
	CHECK(sx_id_parse(type, id->norm, id->len, side, &again, &why) == 0,
	      "'%s' (type %d side %d) refused when parsed again: %s", id->norm,
	      type, side, why ? why : "?");
	CHECK(strcmp(again.norm, id->norm) == 0 && again.len == id->len &&
	      again.nkeys == id->nkeys && again.warn == id->warn &&
	      keq(&again.key[0], &id->key[0]) &&
	      (id->nkeys < 2 || keq(&again.key[1], &id->key[1])),
	      "'%s' is not a fixed point of normalising", id->norm);

	switch (type) {
	case SX_IDT_RIC: {
		CHECK(id->len == 18 && id->nkeys == 1, "RIC norm '%s'", id->norm);
		char check = sx_ric_check(id->norm);
		CHECK(check != 0, "RIC digits");
		if (side == SX_SIDE_QUERY)
			CHECK(id->norm[17] == check && id->warn == SX_IDW_NONE,
			      "query RIC '%s' with a wrong check character", id->norm);
		else
			CHECK((id->norm[17] != check) == (id->warn == SX_IDW_CHECK),
			      "list RIC '%s' warning %u", id->norm, id->warn);
		key_is(&id->key[0], SX_KK_RIC, id->norm, 17);
		break;
	}
	case SX_IDT_USCC: {
		CHECK(id->len == 18 && id->nkeys == 2, "USCC norm '%s'", id->norm);
		key_is(&id->key[0], SX_KK_USCC, id->norm, 18);
		key_is(&id->key[1], side == SX_SIDE_LIST ? SX_KK_EMB : SX_KK_ORG,
		       id->norm + 8, 9);
		sx_key org;
		CHECK(sx_key_pack(SX_KK_ORG, id->norm + 8, 9, &org) == 0, "pack org");
		CHECK(sx_key_match(&id->key[0], &org) && sx_key_match(&org, &id->key[0]),
		      "USCC '%s' does not match its organisation code", id->norm);
		sx_id o;
		if (sx_id_parse(SX_IDT_ORG, id->norm + 8, 9, side, &o, &why) == 0)
			CHECK(keq(&o.key[0], &org), "ORG key of '%.9s'", id->norm + 8);
		break;
	}
	case SX_IDT_ORG:
		CHECK(id->len == 9, "ORG norm '%s'", id->norm);
		key_is(&id->key[0], SX_KK_ORG, id->norm, 9);
		if (side == SX_SIDE_QUERY) {
			CHECK(id->nkeys == 2, "ORG query keys");
			key_is(&id->key[1], SX_KK_EMB, id->norm, 9);
		} else {
			CHECK(id->nkeys == 1, "ORG list keys");
		}
		break;
	default:
		CHECK(id->len >= 5 && id->nkeys == 1, "document '%s'", id->norm);
		key_is(&id->key[0], own_kind[type], id->norm, id->len);
		break;
	}
}

static void raw_keys(const uint8_t *data, size_t size)
{
	sx_key a, b;
	char *buf = malloc(SX_ID_MAX + 1);
	int kind;

	CHECK(buf != NULL, "out of memory");
	if (size >= 32) {
		memcpy(&a, data, 16);
		memcpy(&b, data + 16, 16);
		size_t n = sx_key_unpack(&a, &kind, buf);
		CHECK(n <= SX_ID_MAX && buf[n] == 0 && kind >= 0 && kind < 8, "unpack");
		for (size_t i = 0; i < n; i++)
			CHECK(buf[i] == '?' || alnum_upper(buf + i, 1), "unpacked byte");
		CHECK(sx_key_match(&a, &b) == sx_key_match(&b, &a), "match symmetry");
		CHECK(sx_key_match(&a, &a), "a key matches itself");
	}
	/* pack accepts exactly 1..20 characters of 0-9A-Z */
	size_t n = size > 24 ? 24 : size;
	int k = size ? data[0] & 7 : 0;
	const char *s = (const char *)data;
	int ok = n >= 1 && n <= SX_ID_MAX && alnum_upper(s, n);
	CHECK((sx_key_pack(k, s, n, &a) == 0) == ok, "pack of %zu bytes", n);
	if (ok)
		key_is(&a, k, s, n);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int type = (int)(data[0] % 9) - 1;     /* -1 .. 7 */
	const char *raw = (const char *)data + 1;
	size_t len = size - 1;
	sx_id q, l;
	const char *wq = NULL, *wl = NULL;

	int rq = sx_id_parse(type, raw, len, SX_SIDE_QUERY, &q, &wq);
	int rl = sx_id_parse(type, raw, len, SX_SIDE_LIST, &l, &wl);
	if (type < 0 || type >= SX_NIDTYPES)
		CHECK(rq && rl, "type %d accepted", type);
	if (rq)
		CHECK(wq && *wq, "refused without a reason");
	if (rl)
		CHECK(wl && *wl, "refused without a reason");
	if (rq == 0)
		check_accepted(type, SX_SIDE_QUERY, &q);
	if (rl == 0)
		check_accepted(type, SX_SIDE_LIST, &l);
	if (rq == 0)
		CHECK(rl == 0 && keq(&q.key[0], &l.key[0]) && strcmp(q.norm, l.norm) == 0,
		      "query side accepts '%s', list side %s", q.norm,
		      rl ? wl : "gives another key");
	raw_keys(data + 1, len);
	return 0;
}
