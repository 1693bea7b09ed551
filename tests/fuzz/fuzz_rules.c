/*
 * fuzz_rules.c - libFuzzer target: the operator's rule table parser
 * (engine/rules.h sx_rules_parse, sxgate-build --rules).
 *
 * Input: the rule text as given (not NUL-terminated: the parser takes a
 * length), in a heap block of exactly its size.
 *
 * Checked beyond the sanitizers: a refusal has a NUL-terminated reason
 * starting "line N:" that fits its buffer; an accepted table has masks
 * only over real classes, effects in range, the default classes first and
 * in order, passes sx_rules_check (what the snapshot reader asks of a
 * stored table), every class parses as a query's class back to itself,
 * and writing it with sx_rules_write and parsing that again gives the
 * same table, byte for byte (the file sxgate-build stores and prints is
 * the table it uses).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_rules: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                           \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sx_rules r, back;
	char why[200];
	char *text = malloc(size ? size : 1);

	CHECK(text != NULL, "out of memory");
	if (size)
		memcpy(text, data, size);
	memset(why, 0x55, sizeof why);
	if (sx_rules_parse(text, size, &r, why, sizeof why)) {
		CHECK(memchr(why, 0, sizeof why) != NULL, "reason not terminated");
		CHECK(strncmp(why, "line ", 5) == 0, "reason '%s'", why);
		free(text);
		return 0;
	}
	for (int t = 0; t < SX_NTRAINS; t++)
		CHECK(r.rail[t] < (1u << SX_NSEATS), "rail mask %#x", r.rail[t]);
	CHECK(r.ship < 32 && r.hotel < 64, "ship %#x hotel %#x", r.ship, r.hotel);
	CHECK(sx_rules_check(&r, why, sizeof why) == 0, "accepted table fails "
	      "the check: %s", why);
	sx_rules def;
	sx_rules_default(&def);
	CHECK(r.nclasses >= def.nclasses && r.nclasses <= SX_RULES_MAX_CLASSES,
	      "%u classes", r.nclasses);
	for (int c = 0; c < SX_NCODES; c++)
		CHECK(r.effect[c] < SX_NEFFECTS, "effect %u", r.effect[c]);
	for (int i = 0; i < r.nclasses; i++) {
		const sx_rule_class *c = &r.cls[i];
		CHECK(i >= def.nclasses || (!strcmp(c->name, def.cls[i].name) &&
		      c->chan == def.cls[i].chan), "default class %d moved", i);
		sx_query q;
		char err[400];
		sx_str chan = { sx_channel_name(c->chan), strlen(sx_channel_name(c->chan)) };
		CHECK(sx_query_common(&q, &r, chan, (sx_str){ c->name, strlen(c->name) },
		                      (sx_str){ 0 }, (sx_str){ "2026-01-10", 10 }, err,
		                      sizeof err) == 0 && q.cls == i,
		      "class %d (%s) does not parse back: %s", i, c->name, err);
		CHECK(sx_rules_effect(&r, c->chan, (uint16_t)i) == c->effect, "effect");
	}

	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	CHECK(f != NULL, "open_memstream");
	sx_rules_write(&r, f);
	CHECK(fclose(f) == 0, "fclose");
	CHECK(sx_rules_parse(out, n, &back, why, sizeof why) == 0,
	      "written table refused: %s\n%s", why, out);
	CHECK(memcmp(&back, &r, sizeof r) == 0, "table changes when written and "
	      "read:\n%s", out);
	free(out);
	free(text);
	return 0;
}
