/*
 * fuzz_query.c - libFuzzer target: the query parser (engine/decide.h
 * sx_query_common + sx_query_id), and the day and time parsers it and the
 * loader's --as-of rely on (engine/sx.h sx_day_parse, sx_time_parse).
 *
 * Input: a mask byte (bit i set: word i is "not given", a NULL pointer),
 * then words separated by '\n': channel, class, TYPE value, AT value, then
 * any number of IDs.  Each word sits in its own heap block of exactly its
 * length, so reading past a word is an ASan report.
 *
 * Checked beyond the sanitizers: an error is NUL-terminated, fits its
 * buffer, has no CR or LF (it becomes a RESP error line) and starts with
 * one of the contract's words (SPEC section 5); an accepted query has a
 * channel, type and class in range (rail: train kind and seat; ship 0..4;
 * hotel 0..5; a joint channel with classes: a class of that channel in
 * the table, whose name is the word given, in any case; others no class),
 * and its day formats and parses back to itself; sx_class_format and
 * sx_rules_effect take what was parsed.  An odd-sized input is parsed
 * against an operator's table with added classes, an even one against
 * the default table.  A time that sx_time_parse accepts formats and
 * parses back to itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decide.h"

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_query: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                           \
	} while (0)

#define MAXW 24

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void check_err(const char *err, size_t cap)
{
	CHECK(memchr(err, 0, cap) != NULL, "error not terminated");
	CHECK(!strchr(err, '\r') && !strchr(err, '\n'), "line break in '%s'", err);
	CHECK(starts(err, "unknown channel") || starts(err, "bad class") ||
	      starts(err, "unknown type") || starts(err, "bad date") ||
	      starts(err, "invalid id: "), "error '%s' is not in the contract's words",
	      err);
}

static void check_time(const sx_str *at)
{
	char *z = malloc(at->n + 1);
	char buf[40];
	int64_t t, t2;
	CHECK(z != NULL, "out of memory");
	memcpy(z, at->p, at->n);
	z[at->n] = 0;
	if (sx_time_parse(z, &t) == 0) {
		sx_time_format(t, buf);
		/* The format clamps the year to 0000..9999. */
		if (sx_time_parse(buf, &t2) == 0 && t >= -62135596800LL + 86400 &&
		    t < 253402300799LL - 86400)
			CHECK(t2 == t, "time %s -> %lld -> %s -> %lld", z, (long long)t,
			      buf, (long long)t2);
	}
	free(z);
}

/* An operator's table: changed effects, classes added to each classed
 * joint channel. */
static sx_rules ext;

__attribute__((constructor)) static void ext_init(void)
{
	static const char text[] = "credit none\nprocurement review\n"
		"finance deny bank trust\nbond review leasing\n"
		"appointment none party mayor\nlicense deny drug x1_y2\n";
	char why[200];
	if (sx_rules_parse(text, sizeof text - 1, &ext, why, sizeof why))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sx_str w[MAXW];
	char *copies[MAXW] = { 0 };
	int nw = 0;

	if (size < 1)
		return 0;
	unsigned mask = data[0];
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	for (int i = 0; i < MAXW; i++)
		w[i] = (sx_str){ NULL, 0 };
	while (nw < MAXW && p <= end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		if (!(nw < 8 && (mask >> nw & 1))) {
			copies[nw] = malloc(n ? n : 1);
			CHECK(copies[nw] != NULL, "out of memory");
			if (n)
				memcpy(copies[nw], p, n);
			w[nw] = (sx_str){ copies[nw], n };
		}
		nw++;
		if (!nl)
			break;
		p = nl + 1;
	}

	sx_query q;
	char err[256];
	sx_rules def;
	sx_rules_default(&def);
	const sx_rules *rules = size & 1 ? &ext : &def;
	memset(&q, 0xa5, sizeof q);
	memset(err, 0x55, sizeof err);
	if (sx_query_common(&q, size & 1 ? &ext : NULL, w[0], w[1], w[2], w[3], err,
	                    sizeof err)) {
		check_err(err, sizeof err);
	} else {
		CHECK(q.chan < SX_NCODES && q.type < SX_NIDTYPES, "chan %u type %u",
		      q.chan, q.type);
		if (q.chan == SX_C_RAIL)
			CHECK((q.cls >> 4) < SX_NTRAINS && (q.cls & 15) < SX_NSEATS &&
			      q.cls < 256, "rail class %#x", q.cls);
		else if (q.chan == SX_C_SHIP)
			CHECK(q.cls <= 4, "ship class %u", q.cls);
		else if (q.chan == SX_C_HOTEL)
			CHECK(q.cls <= 5, "hotel class %u", q.cls);
		else if (SX_CODES_CLASSED >> q.chan & 1)
			CHECK(q.cls < rules->nclasses && rules->cls[q.cls].chan == q.chan &&
			      strlen(rules->cls[q.cls].name) == w[1].n &&
			      !strncasecmp(rules->cls[q.cls].name, w[1].p, w[1].n),
			      "class %u of %s for '%.*s'", q.cls, sx_channel_name(q.chan),
			      (int)w[1].n, w[1].p);
		else
			CHECK(q.cls == SX_CLASS_NONE, "class %u for a channel without one",
			      q.cls);
		char buf[64], day[11];
		sx_class_format(rules, q.chan, q.cls, buf, sizeof buf);
		if ((SX_CODES_CLASSED >> q.chan & 1) && q.chan != SX_C_RAIL &&
		    q.chan != SX_C_SHIP && q.chan != SX_C_HOTEL)
			CHECK(!strcmp(buf, rules->cls[q.cls].name), "class printed as %s", buf);
		int eff = sx_rules_effect(rules, q.chan, q.cls);
		CHECK(eff >= 0 && eff < SX_NEFFECTS, "effect %d", eff);
		CHECK(q.day != SX_DAY_NONE, "day");
		sx_day_format(q.day, day);
		uint16_t back;
		CHECK(sx_day_parse(day, 10, &back) == 0 && back == q.day,
		      "day %u -> %s", q.day, day);
		if (w[3].p)
			CHECK(w[3].n == 10 && memcmp(w[3].p, day, 10) == 0,
			      "AT '%.*s' became %s", (int)w[3].n, w[3].p, day);
		for (int i = 4; i < nw; i++) {
			sx_query qi = q;
			memset(err, 0x55, sizeof err);
			if (sx_query_id(&qi, w[i], err, sizeof err)) {
				check_err(err, sizeof err);
				CHECK(starts(err, "invalid id: "), "'%s'", err);
			} else {
				CHECK(qi.id.type == q.type && qi.id.nkeys >= 1 &&
				      qi.id.nkeys <= 2, "parsed id");
			}
		}
	}
	if (w[3].p)
		check_time(&w[3]);
	for (int i = 0; i < MAXW; i++)
		free(copies[i]);
	return 0;
}
