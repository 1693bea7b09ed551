/* test_json.c - the JSON string escaper and the UTF-8 check (engine/json.h). */
#include <criterion/criterion.h>
#include <string.h>

#include "json.h"

static void esc(const char *in, size_t n, const char *want)
{
	char out[SX_JSON_STR_MAX(64)];
	size_t m = sx_json_str(out, in, n);
	cr_assert(m <= SX_JSON_STR_MAX(n));
	cr_assert_eq(m, strlen(want), "%.*s vs %s", (int)m, out, want);
	cr_assert(!memcmp(out, want, m), "%.*s vs %s", (int)m, out, want);
}

Test(json, escapes_only_what_json_reserves)
{
	esc("", 0, "\"\"");
	esc("abc", 3, "\"abc\"");
	esc("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	esc("\n\r\t\x01\x1f", 5, "\"\\n\\r\\t\\u0001\\u001f\"");
	esc("x\0y", 3, "\"x\\u0000y\"");
	esc("（2023）闽05执1001号", strlen("（2023）闽05执1001号"), "\"（2023）闽05执1001号\"");
	/* the worst case is exactly the bound */
	char ctl[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	char out[SX_JSON_STR_MAX(8)];
	cr_assert_eq(sx_json_str(out, ctl, 8), SX_JSON_STR_MAX(8));
}

Test(json, utf8_well_formed_only)
{
	cr_assert(sx_utf8_valid("", 0));
	cr_assert(sx_utf8_valid("plain", 5));
	cr_assert(sx_utf8_valid("闽05执", strlen("闽05执")));
	cr_assert(sx_utf8_valid("\xf0\x9f\x98\x80", 4));          /* U+1F600 */
	cr_assert(!sx_utf8_valid("\xc0\xaf", 2));                  /* overlong '/' */
	cr_assert(!sx_utf8_valid("\xe0\x80\xaf", 3));              /* overlong */
	cr_assert(!sx_utf8_valid("\xed\xa0\x80", 3));              /* surrogate */
	cr_assert(!sx_utf8_valid("\xf4\x90\x80\x80", 4));          /* > U+10FFFF */
	cr_assert(!sx_utf8_valid("\xe9\x97", 2));                  /* cut short */
	cr_assert(!sx_utf8_valid("\x80", 1));                      /* lone continuation */
	cr_assert(!sx_utf8_valid("\xff", 1));
	cr_assert(!sx_utf8_valid("\xe9\x97\x41", 3));              /* bad continuation */
}
