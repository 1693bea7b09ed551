/*
 * fuzz_rules.c - libFuzzer target: the operator's rule table parser
 * (engine/decide.h sx_rules_parse, sxgate-build --rules).
 *
 * Input: the rule text as given (not NUL-terminated: the parser takes a
 * length), in a heap block of exactly its size.
 *
 * Checked beyond the sanitizers: a refusal has a NUL-terminated reason
 * starting "line N:" that fits its buffer; an accepted table has masks
 * only over real classes, and writing it with sx_rules_write and parsing
 * that again gives the same table (the file sxgate-build stores and prints
 * is the table it uses).
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

	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	CHECK(f != NULL, "open_memstream");
	sx_rules_write(&r, f);
	CHECK(fclose(f) == 0, "fclose");
	CHECK(sx_rules_parse(out, n, &back, why, sizeof why) == 0,
	      "written table refused: %s\n%s", why, out);
	CHECK(memcmp(back.rail, r.rail, sizeof r.rail) == 0 && back.ship == r.ship &&
	      back.hotel == r.hotel, "table changes when written and read:\n%s", out);
	free(out);
	free(text);
	return 0;
}
