/*
 * id.c - identity rules (SPEC section 3): normalise a document number,
 * validate it for its type, compute check characters, and pack it into the
 * 16-byte keys the index is built on (layout in id.h).
 *
 * The idea: one pass over the raw bytes both normalises and validates the
 * alphabet.  Full-width forms are recognised by their fixed three-byte
 * UTF-8 spellings (EF BC xx, EF BD xx, E3 80 80) rather than by decoding
 * code points, and letters are upper-cased with ASCII arithmetic, so no
 * locale and no table of Unicode can change what an ID is.  The output is
 * at most SX_ID_MAX bytes into the caller's sx_id, so parsing allocates
 * nothing and stops reading at the first byte that settles the answer.
 * Type rules then run over the short normalised string, and keys are
 * packed straight from it: a USCC's organisation code is carried over from
 * the packed USCC by a shift instead of being packed twice.
 *
 * The trade-off: only the full-width forms the contract names are folded.
 * Other look-alikes (U+2010 hyphen, U+2212 minus, ideographic digits) are
 * refused as "not a letter or digit" instead of being guessed at: an ID
 * that silently became someone else's would be worse than an error reply
 * that names the problem.  Messages are static strings, one per type and
 * problem, so a rejected ID costs no formatting.
 */
#include <string.h>

#include "id.h"

typedef unsigned __int128 u128;

/* ---- keys -------------------------------------------------------------- */

#define KEY_KIND_MASK 7u    /* bits 0..2 */
#define KEY_LEN_SHIFT 3
#define KEY_LEN_MASK  31u   /* bits 3..7 */
#define KEY_CHAR0     8     /* character i at bit 8 + 6 * i */
#define KEY_CHAR_BITS 6

/* 0-9 -> 1..10, A-Z -> 11..36; 0 for anything else.  Codes start at 1 so
 * that an unused character slot (0) never looks like '0'. */
static inline unsigned key_code(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0' + 1u;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 11u;
	return 0;
}

static inline sx_key key_from_u128(u128 v)
{
	sx_key k = { (uint64_t)v, (uint64_t)(v >> 64) };
	return k;
}

static inline u128 key_to_u128(const sx_key *k)
{
	return (u128)k->hi << 64 | k->lo;
}

/* s must be normalised (0-9A-Z) and len <= SX_ID_MAX: sx_id_parse only
 * calls this on strings it has just checked.
 *
 * Characters 0..8 and the low 2 bits of character 9 fill `lo`; the rest of
 * character 9 and characters 10..19 fill `hi`.  Each word is built last
 * character first with a constant shift, and the two chains are
 * independent, so the CPU runs them side by side. */
static inline sx_key key_pack_trusted(int kind, const char *s, size_t len)
{
	uint64_t lo = 0, hi = 0;
	size_t i, nlo = len < 9 ? len : 9;

	for (i = len; i-- > 10;)
		hi = hi << KEY_CHAR_BITS | key_code((unsigned char)s[i]);
	if (len > 9) {
		unsigned c9 = key_code((unsigned char)s[9]);
		hi = hi << 4 | c9 >> 2;
		lo = (uint64_t)(c9 & 3);
	}
	for (i = nlo; i-- > 0;)
		lo = lo << KEY_CHAR_BITS | key_code((unsigned char)s[i]);
	lo = lo << KEY_CHAR0 | (uint64_t)len << KEY_LEN_SHIFT | (unsigned)kind;
	return (sx_key){ lo, hi };
}

int sx_key_pack(int kind, const char *s, size_t len, sx_key *k)
{
	size_t i;

	if (kind < 0 || kind > SX_KK_FRP || len == 0 || len > SX_ID_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if (key_code((unsigned char)s[i]) == 0)
			return -1;
	*k = key_pack_trusted(kind, s, len);
	return 0;
}

size_t sx_key_unpack(const sx_key *k, int *kind, char *buf)
{
	static const char chars[] = "?0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	u128 v = key_to_u128(k);
	size_t len = (size_t)(v >> KEY_LEN_SHIFT) & KEY_LEN_MASK, i;

	/* A key read from a damaged file may claim more than 20 characters;
	 * never write past the caller's 21 bytes. */
	if (len > SX_ID_MAX)
		len = SX_ID_MAX;
	if (kind)
		*kind = (int)(v & KEY_KIND_MASK);
	for (i = 0; i < len; i++) {
		unsigned c = (unsigned)(v >> (KEY_CHAR0 + KEY_CHAR_BITS * i)) & 63;
		buf[i] = chars[c <= 36 ? c : 0];
	}
	buf[len] = 0;
	return len;
}

/* Characters 9..17 of a USCC (s[8..16]) start at this bit of its key. */
#define USCC_ORG_SHIFT (KEY_CHAR0 + KEY_CHAR_BITS * 8)
#define ORG_CHARS_MASK (((u128)1 << (KEY_CHAR_BITS * 9)) - 1)

/* The key of `kind` over the organisation code embedded in a packed USCC:
 * the same 6-bit codes, moved down to character 0. */
static inline sx_key uscc_org_key(const sx_key *uscc, int kind)
{
	u128 chars = key_to_u128(uscc) >> USCC_ORG_SHIFT & ORG_CHARS_MASK;

	return key_from_u128(chars << KEY_CHAR0 | (u128)9 << KEY_LEN_SHIFT
	                     | (u128)(unsigned)kind);
}

sx_key sx_key_uscc_emb(const sx_key *uscc)
{
	return uscc_org_key(uscc, SX_KK_EMB);
}

static inline unsigned key_len(const sx_key *k)
{
	return (unsigned)(k->lo >> KEY_LEN_SHIFT) & KEY_LEN_MASK;
}

bool sx_key_match(const sx_key *a, const sx_key *b)
{
	const sx_key *uscc, *org;
	sx_key emb;

	if (sx_key_eq(a, b))
		return true;
	if (sx_key_kind(a) == SX_KK_USCC && sx_key_kind(b) == SX_KK_ORG) {
		uscc = a;
		org = b;
	} else if (sx_key_kind(a) == SX_KK_ORG && sx_key_kind(b) == SX_KK_USCC) {
		uscc = b;
		org = a;
	} else {
		return false;
	}
	if (key_len(uscc) != 18 || key_len(org) != 9)
		return false;
	emb = uscc_org_key(uscc, SX_KK_ORG);
	return sx_key_eq(&emb, org);
}

/* ---- check characters ---------------------------------------------------- */

char sx_ric_check(const char *d17)
{
	static const unsigned char w[17] = {
		7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2
	};
	unsigned sum = 0;
	int i;

	for (i = 0; i < 17; i++) {
		if (d17[i] < '0' || d17[i] > '9')
			return 0;
		sum += (unsigned)(d17[i] - '0') * w[i];
	}
	return "10X98765432"[sum % 11];
}

/* USCC alphabet "0123456789ABCDEFGHJKLMNPQRTUWXY" (no I O S V Z): the value
 * of a character is its index.  Stored +1 so that 0 means "not in it". */
static const unsigned char uscc_value1[256] = {
	['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,
	['5'] = 6,  ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15,
	['F'] = 16, ['G'] = 17, ['H'] = 18, ['J'] = 19, ['K'] = 20,
	['L'] = 21, ['M'] = 22, ['N'] = 23, ['P'] = 24, ['Q'] = 25,
	['R'] = 26, ['T'] = 27, ['U'] = 28, ['W'] = 29, ['X'] = 30,
	['Y'] = 31,
};
static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

char sx_uscc_check(const char *c17)
{
	static const unsigned char w[17] = {
		1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
	};
	unsigned sum = 0;
	int i;

	for (i = 0; i < 17; i++) {
		unsigned v = uscc_value1[(unsigned char)c17[i]];
		if (v == 0)
			return 0;
		sum += (v - 1) * w[i];
	}
	return uscc_alphabet[(31 - sum % 31) % 31];
}

char sx_org_check(const char *c8)
{
	static const unsigned char w[8] = { 3, 7, 9, 10, 5, 8, 4, 2 };
	unsigned sum = 0, c;
	int i;

	for (i = 0; i < 8; i++) {
		unsigned v = key_code((unsigned char)c8[i]);
		if (v == 0)
			return 0;
		sum += (v - 1) * w[i];   /* A = 10 ... Z = 35 */
	}
	c = 11 - sum % 11;
	return c == 10 ? 'X' : c == 11 ? '0' : (char)('0' + c);
}

/* ---- normalising ----------------------------------------------------------- */

enum { NORM_BADCHAR = -1, NORM_TOOLONG = -2 };

static inline int is_u3000(const unsigned char *p)
{
	return p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80;
}

/*
 * raw[0..len) -> out (0-9A-Z, not terminated).  Returns the length, or
 * NORM_BADCHAR / NORM_TOOLONG.  Surrounding ASCII spaces, tabs and U+3000
 * are dropped; inside, spaces, U+3000, '-' and U+FF0D are removed (a tab
 * inside an ID is not a space a clerk typed, so it is refused).
 */
static int normalise(const char *raw, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)raw;
	size_t i = 0, e = len;
	int n = 0;

	for (;;) {
		if (i < e && (p[i] == ' ' || p[i] == '\t'))
			i++;
		else if (e - i >= 3 && is_u3000(p + i))
			i += 3;
		else
			break;
	}
	for (;;) {
		if (e > i && (p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		else if (e - i >= 3 && is_u3000(p + e - 3))
			e -= 3;
		else
			break;
	}

	while (i < e) {
		unsigned c = p[i];
		char o;

		if (c >= '0' && c <= '9') {
			o = (char)c;
			i++;
		} else if (c >= 'A' && c <= 'Z') {
			o = (char)c;
			i++;
		} else if (c >= 'a' && c <= 'z') {
			o = (char)(c - 32);
			i++;
		} else if (c == '-' || c == ' ') {
			i++;
			continue;
		} else if (c == 0xEF && e - i >= 3) {
			unsigned c1 = p[i + 1], c2 = p[i + 2];

			i += 3;
			if (c1 == 0xBC && c2 >= 0x90 && c2 <= 0x99)
				o = (char)('0' + (c2 - 0x90));      /* U+FF10.. */
			else if (c1 == 0xBC && c2 >= 0xA1 && c2 <= 0xBA)
				o = (char)('A' + (c2 - 0xA1));      /* U+FF21.. */
			else if (c1 == 0xBD && c2 >= 0x81 && c2 <= 0x9A)
				o = (char)('A' + (c2 - 0x81));      /* U+FF41.. */
			else if (c1 == 0xBC && c2 == 0x8D)
				continue;                           /* U+FF0D */
			else
				return NORM_BADCHAR;
		} else if (c == 0xE3 && e - i >= 3 && is_u3000(p + i)) {
			i += 3;
			continue;
		} else {
			return NORM_BADCHAR;
		}
		if (n == SX_ID_MAX)
			return NORM_TOOLONG;
		out[n++] = o;
	}
	return n;
}

/* ---- messages -------------------------------------------------------------- */

static const char *const why_badchar[SX_NIDTYPES] = {
#define X(e, s) [e] = s " contains a character that is not a letter or digit",
	SX_IDTYPES(X)
#undef X
};
/* PASSPORT, HKMO, TW, FRP share one rule; their length message. */
static const char *const why_doclen[SX_NIDTYPES] = {
#define X(e, s) [e] = s " must have 5 to 20 letters or digits",
	SX_IDTYPES(X)
#undef X
};

static const char WHY_EMPTY[]          = "empty id";
static const char WHY_TYPE[]           = "unknown id type";
static const char WHY_RIC_LEN[]        = "RIC must have 18 or 15 digits";
static const char WHY_RIC_DIGITS[]     =
	"RIC must be all digits, except an X as the 18th character";
static const char WHY_RIC_CHECKCHAR[]  =
	"RIC check character must be a digit or X";
static const char WHY_RIC_AREA[]       = "RIC area code cannot start with 0";
static const char WHY_RIC_DATE[]       = "RIC birth date is not a real date";
static const char WHY_RIC_YEAR[]       =
	"RIC birth year is not between 1800 and 2100";
static const char WHY_RIC_CHECK[]      = "RIC check character is wrong";
static const char WHY_USCC_LEN[]       = "USCC must have 18 characters";
static const char WHY_USCC_ALPHABET[]  =
	"USCC contains a character outside its alphabet";
static const char WHY_ORG_LEN[]        = "ORG must have 9 characters";
static const char WHY_ORG_CHECKCHAR[]  =
	"ORG check character must be a digit or X";

/* ---- type rules ------------------------------------------------------------ */

static inline int two(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* s holds 18 characters, or 15 to be upgraded in place (s has room for
 * 18).  On success the 18-character form is in s and *n is 18. */
static const char *ric_rule(char *s, int *n, int side, uint8_t *warn)
{
	int y, m, d;
	char check;

	if (*n == 15) {
		/* area(6) YYMMDD(6) seq(3) -> area(6) 19YYMMDD(8) seq(3) */
		memmove(s + 8, s + 6, 9);
		s[6] = '1';
		s[7] = '9';
	} else if (*n != 18) {
		return WHY_RIC_LEN;
	}
	/* The check function refuses a non-digit, so it is also the digit
	 * test: one pass over the 17 instead of two. */
	check = sx_ric_check(s);
	if (check == 0)
		return WHY_RIC_DIGITS;
	if (*n == 18 && !(s[17] >= '0' && s[17] <= '9') && s[17] != 'X')
		return WHY_RIC_CHECKCHAR;

	if (s[0] == '0')
		return WHY_RIC_AREA;
	y = two(s + 6) * 100 + two(s + 8);
	m = two(s + 10);
	d = two(s + 12);
	if (!sx_date_valid(y, m, d))
		return WHY_RIC_DATE;
	if (y < 1800 || y > 2100)
		return WHY_RIC_YEAR;

	if (*n == 15) {
		s[17] = check;
		*n = 18;
	} else if (s[17] != check) {
		/* The list keeps a clerk's typo in the check digit: the key is
		 * the first 17 digits, so the debtor still matches. */
		if (side != SX_SIDE_LIST)
			return WHY_RIC_CHECK;
		*warn = SX_IDW_CHECK;
	}
	return NULL;
}

static const char *uscc_rule(const char *s, int n, uint8_t *warn)
{
	char check;

	if (n != 18)
		return WHY_USCC_LEN;
	/* The check function refuses a character outside the alphabet, so
	 * it tests the first 17; the check character is tested alone. */
	check = sx_uscc_check(s);
	if (check == 0 || uscc_value1[(unsigned char)s[17]] == 0)
		return WHY_USCC_ALPHABET;
	if (check != s[17])
		*warn = SX_IDW_CHECK;     /* early pilot codes: accepted */
	return NULL;
}

static const char *org_rule(const char *s, int n, uint8_t *warn)
{
	if (n != 9)
		return WHY_ORG_LEN;
	/* s[0..7] are 0-9A-Z after normalising; only the check is narrower. */
	if (!(s[8] >= '0' && s[8] <= '9') && s[8] != 'X')
		return WHY_ORG_CHECKCHAR;
	if (sx_org_check(s) != s[8])
		*warn = SX_IDW_CHECK;
	return NULL;
}

/* ---- parse ----------------------------------------------------------------- */

static const unsigned char doc_kind[SX_NIDTYPES] = {
	[SX_IDT_PASSPORT] = SX_KK_PASSPORT,
	[SX_IDT_HKMO]     = SX_KK_HKMO,
	[SX_IDT_TW]       = SX_KK_TW,
	[SX_IDT_FRP]      = SX_KK_FRP,
};

/* ---- the common case, branch-light ------------------------------------------
 *
 * Most IDs a gate is asked about arrive already normal: a RIC as its 18
 * ASCII digits (or an X last), a passport as ASCII letters and digits.
 * For those the steps above collapse: nothing to drop or fold, and the
 * digits of a RIC are tested eight at a time (SWAR), summed for the
 * check character and packed into the key without a branch per
 * character.  An ID that is not in that form, or that fails any rule,
 * goes the general way, which alone words the errors: the fast paths
 * only ever accept what the general path accepts, with the same result.
 */

#define ONES8 0x0101010101010101ull

/* Are all 8 bytes of w ASCII digits?  High nibble 3, and adding 6 keeps it
 * 3 ('9' + 6 = '?', ':' + 6 = '@'). */
static inline int digits8(uint64_t w)
{
	return ((w & 0xF0 * ONES8) == 0x30 * ONES8) &
	       (((w + 0x06 * ONES8) & 0xF0 * ONES8) == 0x30 * ONES8);
}

static inline uint64_t load8(const char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;    /* little-endian: p[0] in the low byte */
}

/* Four 16-bit lanes w0..w3 for a weighted sum by multiplication: lane
 * 3 of (x * W4(w0, w1, w2, w3)) is x0*w0 + x1*w1 + x2*w2 + x3*w3 when x
 * holds digits x0..x3 in its 16-bit lanes (each partial sum stays below
 * 2^16, so no lane carries into the next; lanes past 3 fall off the top). */
#define W4(w0, w1, w2, w3) \
	((uint64_t)(w3) | (uint64_t)(w2) << 16 | (uint64_t)(w1) << 32 | (uint64_t)(w0) << 48)
#define EVEN8 0x00FF00FF00FF00FFull

/* 18 ASCII digits (or a last X/x) that pass every RIC rule with the right
 * check character: the ID, as ric_rule and the general path would make
 * it.  0 when raw is anything else (the general path decides).  The
 * weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 are applied four digits per
 * multiplication, even and odd bytes apart. */
static int ric18_fast(const char *raw, sx_id *out)
{
	uint64_t a = load8(raw), b = load8(raw + 8);
	unsigned d16 = (unsigned char)raw[16] - '0';

	if (!(digits8(a) & digits8(b) & (d16 < 10)))
		return 0;
	a -= 0x30 * ONES8;                      /* the digits' values, byte by byte */
	b -= 0x30 * ONES8;
	unsigned sum = (unsigned)(((a & EVEN8) * W4(7, 10, 8, 2)) >> 48) +
	               (unsigned)(((a >> 8 & EVEN8) * W4(9, 5, 4, 1)) >> 48) +
	               (unsigned)(((b & EVEN8) * W4(6, 7, 10, 8)) >> 48) +
	               (unsigned)(((b >> 8 & EVEN8) * W4(3, 9, 5, 4)) >> 48) + d16 * 2;
	char check = "10X98765432"[sum % 11];
	/* 'x' folds to 'X'; any other byte is compared as it is */
	char last = raw[17] == 'x' ? 'X' : raw[17];
#define DA(i) ((unsigned)(a >> (8 * (i))) & 0xff)
#define DB(i) ((unsigned)(b >> (8 * ((i) - 8))) & 0xff)
	int y = (int)(DA(6) * 1000 + DA(7) * 100 + DB(8) * 10 + DB(9));
	int m = (int)(DB(10) * 10 + DB(11)), day = (int)(DB(12) * 10 + DB(13));
	if (!((last == check) & (DA(0) != 0) & (y >= 1800) & (y <= 2100)) ||
	    !sx_date_valid(y, m, day))
		return 0;

	/* codes are digit + 1, character i at bit 8 + 6i (id.h): independent
	 * terms, so the CPU builds them side by side */
	a += ONES8;
	b += ONES8;
	uint64_t lo = 0, hi = (uint64_t)(d16 + 1) << (4 + 6 * 6);
	for (int i = 0; i < 8; i++)
		lo |= (uint64_t)DA(i) << (KEY_CHAR0 + KEY_CHAR_BITS * i);
	lo |= (uint64_t)DB(8) << (KEY_CHAR0 + KEY_CHAR_BITS * 8);
	lo |= (uint64_t)(DB(9) & 3) << 62;
	hi |= DB(9) >> 2;
	for (int i = 10; i < 16; i++)
		hi |= (uint64_t)DB(i) << (4 + KEY_CHAR_BITS * (i - 10));
#undef DA
#undef DB
	out->key[0].lo = lo | 17u << KEY_LEN_SHIFT | SX_KK_RIC;
	out->key[0].hi = hi;
	out->key[1].lo = out->key[1].hi = 0;
	memcpy(out->norm, raw, 17);
	out->norm[17] = last;
	out->norm[18] = 0;
	out->type = SX_IDT_RIC;
	out->warn = SX_IDW_NONE;
	out->len = 18;
	out->nkeys = 1;
	return 1;
}

/* Key code of an ASCII letter or digit (either case), 0 for any other
 * byte: key_code() after upper-casing, as a table. */
static const unsigned char alnum_code[256] = {
#define D(c) [c] = c - '0' + 1
	D('0'), D('1'), D('2'), D('3'), D('4'), D('5'), D('6'), D('7'), D('8'), D('9'),
#undef D
#define L(c) [c] = c - 'A' + 11, [c + 32] = c - 'A' + 11
	L('A'), L('B'), L('C'), L('D'), L('E'), L('F'), L('G'), L('H'), L('I'),
	L('J'), L('K'), L('L'), L('M'), L('N'), L('O'), L('P'), L('Q'), L('R'),
	L('S'), L('T'), L('U'), L('V'), L('W'), L('X'), L('Y'), L('Z'),
#undef L
};
static const char code_char[37] = "?0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* A passport, HKMO, TW or FRP number of 5 to 20 ASCII letters and digits
 * and nothing else: the ID the general path would make.  0 otherwise. */
static int doc_fast(int type, const char *raw, size_t len, int kind, sx_id *out)
{
	unsigned bad = len - 5 > SX_ID_MAX - 5;     /* 5..20 */
	if (bad)
		return 0;
	/* each character's code lands at its own place: no chain from one
	 * character to the next */
	uint64_t lo = 0, hi = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned c = alnum_code[(unsigned char)raw[i]];
		bad |= c == 0;
		out->norm[i] = code_char[c];
		if (i < 9)
			lo |= (uint64_t)c << (KEY_CHAR0 + KEY_CHAR_BITS * i);
		else if (i == 9)
			lo |= (uint64_t)(c & 3) << 62, hi |= c >> 2;
		else
			hi |= (uint64_t)c << (4 + KEY_CHAR_BITS * (i - 10));
	}
	if (bad)
		return 0;
	out->norm[len] = 0;
	out->key[0].lo = lo | (uint64_t)len << KEY_LEN_SHIFT | (unsigned)kind;
	out->key[0].hi = hi;
	out->key[1].lo = out->key[1].hi = 0;
	out->type = (uint8_t)type;
	out->warn = SX_IDW_NONE;
	out->len = (uint8_t)len;
	out->nkeys = 1;
	return 1;
}

int sx_id_parse(int type, const char *raw, size_t len, int side,
                sx_id *out, const char **why)
{
	if (type == SX_IDT_RIC && len == 18 && ric18_fast(raw, out))
		return 0;
	if (type >= SX_IDT_PASSPORT && type < SX_NIDTYPES &&
	    doc_fast(type, raw, len, doc_kind[type], out))
		return 0;
	const char *w = NULL;
	uint8_t warn = SX_IDW_NONE;
	char *s = out->norm;
	int n;

	if (type < 0 || type >= SX_NIDTYPES) {
		w = WHY_TYPE;
		goto fail;
	}
	n = normalise(raw, len, s);
	if (sx_unlikely(n < 0)) {
		if (n == NORM_BADCHAR)
			w = why_badchar[type];
		else if (type == SX_IDT_RIC)
			w = WHY_RIC_LEN;
		else if (type == SX_IDT_USCC)
			w = WHY_USCC_LEN;
		else if (type == SX_IDT_ORG)
			w = WHY_ORG_LEN;
		else
			w = why_doclen[type];
		goto fail;
	}
	if (sx_unlikely(n == 0)) {
		w = WHY_EMPTY;
		goto fail;
	}

	out->key[1].lo = out->key[1].hi = 0;
	switch (type) {
	case SX_IDT_RIC:
		w = ric_rule(s, &n, side, &warn);
		if (w)
			goto fail;
		out->key[0] = key_pack_trusted(SX_KK_RIC, s, 17);
		out->nkeys = 1;
		break;
	case SX_IDT_USCC:
		w = uscc_rule(s, n, &warn);
		if (w)
			goto fail;
		out->key[0] = key_pack_trusted(SX_KK_USCC, s, 18);
		out->key[1] = uscc_org_key(&out->key[0],
		                           side == SX_SIDE_LIST ? SX_KK_EMB
		                                                : SX_KK_ORG);
		out->nkeys = 2;
		break;
	case SX_IDT_ORG:
		w = org_rule(s, n, &warn);
		if (w)
			goto fail;
		out->key[0] = key_pack_trusted(SX_KK_ORG, s, 9);
		if (side == SX_SIDE_LIST) {
			out->nkeys = 1;
		} else {
			out->key[1] = key_pack_trusted(SX_KK_EMB, s, 9);
			out->nkeys = 2;
		}
		break;
	default:   /* PASSPORT, HKMO, TW, FRP: the alphabet is all there is */
		if (n < 5) {
			w = why_doclen[type];
			goto fail;
		}
		out->key[0] = key_pack_trusted(doc_kind[type], s, (size_t)n);
		out->nkeys = 1;
		break;
	}
	s[n] = 0;
	out->type = (uint8_t)type;
	out->warn = warn;
	out->len = (uint8_t)n;
	return 0;
fail:
	if (why)
		*why = w;
	return -1;
}
