/*
 * id.h - identity rules (SPEC section 3): normalise a document number,
 * validate it for its type, and turn it into the 16-byte keys the index is
 * built on.
 *
 * A key is a packed 128-bit value: bits 0..2 the key kind, bits 3..7 the
 * length, then one 6-bit code per character (0-9 -> 1..10, A-Z -> 11..36),
 * character i at bit 8 + 6*i.  Twenty characters fill it exactly.  Packing
 * keeps the key table at 16 bytes a key, lets keys be compared with two
 * 64-bit compares, and needs no string storage on the hot path.
 *
 * What a key holds decides what matches what, so matching is equality of
 * keys and nothing else:
 *   RIC       kind RIC, the first 17 digits (15-digit numbers upgraded):
 *             a typo in the check digit on the list still matches;
 *   USCC      kind USCC, all 18 characters (two USCCs never match);
 *   ORG       kind ORG, the 9 characters;
 *   USCC's organisation code: kind EMB, characters 9..17 of the USCC.
 * A listed USCC is indexed under its USCC key and its EMB key; a listed ORG
 * under its ORG key.  A USCC query looks up (USCC, ORG-of-it); an ORG query
 * looks up (ORG, EMB-of-it).  So a USCC query finds ORG listings of its
 * organisation code, an ORG query finds USCC listings that embed it, and a
 * USCC query never finds another USCC.
 */
#ifndef SX_ID_H
#define SX_ID_H

#include <stdbool.h>
#include <stdint.h>
#include "sx.h"

typedef struct sx_key { uint64_t lo, hi; } sx_key;

/* Key kinds (3 bits). */
enum {
	SX_KK_RIC = 0, SX_KK_USCC, SX_KK_ORG, SX_KK_EMB,
	SX_KK_PASSPORT, SX_KK_HKMO, SX_KK_TW, SX_KK_FRP
};

#define SX_ID_MAX 20   /* longest normalised ID */

/* Which side parses: the list is lenient about check characters of RIC
 * (loaded with a warning), the query side is not. USCC and ORG are lenient
 * on both sides. */
enum { SX_SIDE_QUERY = 0, SX_SIDE_LIST = 1 };

/* Warnings a valid ID may carry (list side). */
enum {
	SX_IDW_NONE = 0,
	SX_IDW_CHECK = 1,   /* check character fails; loaded/accepted anyway */
};

typedef struct sx_id {
	uint8_t type;               /* SX_IDT_* */
	uint8_t warn;               /* SX_IDW_* */
	uint8_t len;                /* strlen(norm) */
	uint8_t nkeys;              /* lookup keys in key[] (1 or 2) */
	char norm[SX_ID_MAX + 4];   /* normalised ID, NUL-terminated; RIC-15
	                               is upgraded to 18 characters */
	sx_key key[2];              /* key[0]: the ID's own key.  key[1]:
	                               list side: USCC's EMB key; query side:
	                               USCC's ORG key, ORG's EMB key */
} sx_id;

/*
 * Normalise and validate raw (len bytes, UTF-8) as an ID of `type` for
 * `side`.  Normalising drops surrounding spaces, folds full-width digits,
 * letters, hyphen and space to ASCII, upper-cases, and removes hyphens and
 * inner spaces.
 * Returns 0 and fills *out, or -1 with *why set to a static reason such as
 * "RIC check character is wrong" or "RIC birth date is not a real date".
 */
int sx_id_parse(int type, const char *raw, size_t len, int side,
                sx_id *out, const char **why);

/* Check characters, for validation and the generator.  Each takes the
 * characters before the check character (17 for RIC and USCC, 8 for ORG),
 * already normalised, and returns the check character, or 0 when an input
 * character is outside the type's alphabet. */
char sx_ric_check(const char *d17);
char sx_uscc_check(const char *c17);
char sx_org_check(const char *c8);

/* Pack a key from kind and normalised characters (0-9, A-Z only; len <= 20).
 * Returns 0, or -1 for a character outside 0-9A-Z or a bad length. */
int sx_key_pack(int kind, const char *s, size_t len, sx_key *k);
/* Unpack: writes the characters and a NUL into buf (>= 21 bytes); returns
 * the length; *kind gets the kind. */
size_t sx_key_unpack(const sx_key *k, int *kind, char *buf);

static inline bool sx_key_eq(const sx_key *a, const sx_key *b)
{
	return a->lo == b->lo && a->hi == b->hi;
}
static inline int sx_key_cmp(const sx_key *a, const sx_key *b)
{
	if (a->hi != b->hi) return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo) return a->lo < b->lo ? -1 : 1;
	return 0;
}
static inline int sx_key_kind(const sx_key *k) { return (int)(k->lo & 7); }

/* The EMB key of a USCC's own key: its organisation code (characters
 * 9..17), as sx_id_parse() gives it in key[1] on the list side. */
sx_key sx_key_uscc_emb(const sx_key *uscc);

/* Do the IDs behind two own keys (key[0] of sx_id, never EMB) match under
 * SPEC section 3?  Equal keys match; a USCC matches the ORG it embeds. */
bool sx_key_match(const sx_key *a, const sx_key *b);

#endif
