/*
 * fuzz_idsbody.c - libFuzzer target: the plain-shape reader of a batch
 * query's body (server/idsbody.h), against Jansson, the JSON library the
 * server reads every other body with.
 *
 * Input: the body, as a client sent it (a private copy of exactly its
 * length, so a read past it is an ASan report).
 *
 * The promise checked: whatever the scanner accepts, Jansson accepts too
 * (JSON_REJECT_DUPLICATES, as the server calls it), as an object, and
 * reads the same thing: channel the same non-empty string; class, type and
 * at each absent, null or "" exactly when the scanner says "not given",
 * and otherwise the same bytes; ids an array of exactly those strings, in
 * order, no more than the room given.  So the fast path never answers a
 * body differently from the slow one.  And on the seeds' shape (a body
 * with a few IDs and no escapes), the scanner must not refuse what it is
 * for: checked by the seed corpus replay, not here.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idsbody.h"
#include "json.h"

#define CHECK(cond, ...)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "fuzz_idsbody: check failed: %s: ", #cond);  \
			fprintf(stderr, __VA_ARGS__);                              \
			fputc('\n', stderr);                                       \
			abort();                                                   \
		}                                                                 \
	} while (0)

#define ROOM 64

static int same(sx_str a, const char *s, size_t n)
{
	return a.n == n && !memcmp(a.p, s, n);
}

/* An optional member as the server's Jansson path reads it. */
static void check_opt(json_t *o, const char *key, sx_str got)
{
	json_t *m = json_object_get(o, key);
	if (!m || json_is_null(m) || (json_is_string(m) && !json_string_length(m))) {
		CHECK(!got.p, "%s: Jansson has none, the scanner has %zu bytes", key, got.n);
		return;
	}
	CHECK(json_is_string(m), "%s: not a string for Jansson", key);
	CHECK(got.p && same(got, json_string_value(m), json_string_length(m)),
	      "%s: the scanner read other bytes", key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size ? size : 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	sx_idsbody b;
	sx_str ids[ROOM];
	if (sx_idsbody_scan(body, size, &b, ids, ROOM) == 0) {
		CHECK(b.n <= ROOM, "%zu IDs in room for %d", b.n, ROOM);
		int utf8 = 1;
		for (size_t i = 0; i < b.n; i++) {
			CHECK(ids[i].p >= body && ids[i].p + ids[i].n <= body + size,
			      "id %zu points outside the body", i);
			utf8 &= sx_utf8_valid(ids[i].p, ids[i].n);
		}
		if (!utf8) {
			/* not JSON, so Jansson refuses it whole; the API answers
			 * the IDs that are not UTF-8 with an error each */
			free(body);
			return 0;
		}
		json_error_t e;
		json_t *o = json_loadb(body, size, JSON_REJECT_DUPLICATES, &e);
		CHECK(o, "the scanner accepted what Jansson refuses: %s (column %d)", e.text,
		      e.column);
		CHECK(json_is_object(o), "the scanner accepted a non-object");
		const char *key;
		json_t *m;
		json_object_foreach(o, key, m)
			CHECK(!strcmp(key, "channel") || !strcmp(key, "class") ||
			      !strcmp(key, "type") || !strcmp(key, "at") || !strcmp(key, "ids"),
			      "an unknown member '%s' was accepted", key);
		json_t *ch = json_object_get(o, "channel");
		CHECK(json_is_string(ch) && json_string_length(ch) &&
		      same(b.channel, json_string_value(ch), json_string_length(ch)),
		      "channel differs");
		check_opt(o, "class", b.cls);
		check_opt(o, "type", b.type);
		check_opt(o, "at", b.at);
		json_t *arr = json_object_get(o, "ids");
		CHECK(json_is_array(arr) && json_array_size(arr) == b.n,
		      "ids: %zu for Jansson, %zu for the scanner", json_array_size(arr), b.n);
		for (size_t i = 0; i < b.n; i++) {
			json_t *v = json_array_get(arr, i);
			CHECK(json_is_string(v) &&
			      same(ids[i], json_string_value(v), json_string_length(v)),
			      "id %zu differs", i);
			CHECK(ids[i].p >= body && ids[i].p + ids[i].n <= body + size,
			      "id %zu points outside the body", i);
		}
		json_decref(o);
	}
	free(body);
	return 0;
}
