/*
 * casefold.c - folding a case number's brackets (contract in casefold.h).
 *
 * The idea: a byte loop, no locale and no Unicode tables.  Only ASCII '('
 * and ')' change, and UTF-8 never uses bytes below 0x80 inside a
 * multi-byte character, so every other byte can be copied as it is.  The
 * output may be up to three times the input; the caller gives the room
 * (SX_CASE_FOLD_MAX) and gets the full length back to check it.
 */
#include "casefold.h"

#include <xxhash.h>

size_t sx_case_fold(const char *s, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		const char *rep = s[i] == '(' ? "\xef\xbc\x88" :
		                  s[i] == ')' ? "\xef\xbc\x89" : NULL;
		if (rep) {
			for (int k = 0; k < 3; k++, o++)
				if (o < cap)
					out[o] = rep[k];
		} else {
			if (o < cap)
				out[o] = s[i];
			o++;
		}
	}
	return o;
}

uint64_t sx_case_hash(const char *fold, size_t len)
{
	return XXH3_64bits(fold, len);
}
