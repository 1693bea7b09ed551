/*
 * sx.h - what every part of sxgate shares: error codes, the vocabulary of
 * the contract (ID types, roles, lists, statuses, restriction codes and
 * channels) and calendar days.
 *
 * The vocabulary is kept as X-macro lists so that adding a restriction code
 * or an ID type is one line here; parsers, printers and tables are generated
 * from the lists.  Channels and restriction codes are the same list: channel
 * `air` asks about code `AIR`, `appointment` about `APPOINT`, and so on
 * (SPEC section 4); a measure of the catalogue is one line of SX_CODES
 * (and, when its channel has classes, lines of rules.h's SX_JCLASSES).
 *
 * Days are counted from 1970-01-01 in a uint16_t (good until 2149).  "Today"
 * is always China Standard Time (UTC+8), whatever the host's zone.
 */
#ifndef SX_H
#define SX_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define sx_likely(x)   __builtin_expect(!!(x), 1)
#define sx_unlikely(x) __builtin_expect(!!(x), 0)
#define SX_COLD        __attribute__((cold))
#define SX_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A string that is not NUL-terminated: p[0..n).  p == NULL: not given. */
typedef struct sx_str { const char *p; size_t n; } sx_str;

/* Little-endian integers in byte buffers: the snapshot, the journal, the
 * feedback log and the binary protocol all store them so. */
static inline void sx_le_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
}
static inline void sx_le_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void sx_le_put64(uint8_t *p, uint64_t v)
{
	sx_le_put32(p, (uint32_t)v);
	sx_le_put32(p + 4, (uint32_t)(v >> 32));
}
static inline uint16_t sx_le_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t sx_le_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static inline uint64_t sx_le_get64(const uint8_t *p)
{
	return (uint64_t)sx_le_get32(p) | (uint64_t)sx_le_get32(p + 4) << 32;
}

/* s[0..n) equals lit (lit_n bytes, lower case) ignoring ASCII case, as
 * strncasecmp in the C locale: only A-Z fold.  For the short command and
 * keyword names of the request path. */
static inline int sx_ascii_ieq(const char *s, size_t n, const char *lit, size_t lit_n)
{
	if (n != lit_n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned c = (unsigned char)s[i];
		c += (c - 'A' < 26u) << 5;
		if (c != (unsigned char)lit[i])
			return 0;
	}
	return 1;
}

/* Clocks: monotonic for durations and deadlines, real time for stamps. */
static inline uint64_t sx_clock_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static inline uint64_t sx_mono_ns(void) { return sx_clock_ns(CLOCK_MONOTONIC); }
static inline uint64_t sx_mono_ms(void) { return sx_mono_ns() / 1000000u; }
static inline int64_t sx_mono_s(void) { return (int64_t)(sx_mono_ns() / 1000000000u); }
static inline int64_t sx_real_ms(void)
{
	return (int64_t)(sx_clock_ns(CLOCK_REALTIME) / 1000000u);
}

/* Project error codes: negative, below the errno range.  System errors are
 * returned as -errno.  sx_strerror() names both. */
#define SX_ERRORS(X)                                                         \
	X(SX_EBADMAGIC,  -30001, "not an sxgate snapshot (bad magic)")       \
	X(SX_EVERSION,   -30002, "unsupported snapshot format version")     \
	X(SX_ECORRUPT,   -30003, "snapshot is damaged")                     \
	X(SX_ETRUNC,     -30004, "snapshot is truncated")                   \
	X(SX_EROARING,   -30005, "snapshot was written by another CRoaring") \
	X(SX_EINVAL,     -30006, "invalid argument")                        \
	X(SX_ENOTFOUND,  -30007, "not found")                               \
	X(SX_EFULL,      -30008, "a fixed limit was exceeded")              \
	X(SX_EBUILD,     -30009, "index build failed")

enum {
#define X(name, val, msg) name = val,
	SX_ERRORS(X)
#undef X
};

/* A static string describing err (0, -errno or SX_E*). */
const char *sx_strerror(int err);

/* The error path's one-liner: format a message into why[0..cap) (why may
 * be NULL or cap 0: no message) and return rc, so that a failure reads
 * `return sx_fail(why, cap, SX_ECORRUPT, "section %s: ...", ...);`. */
SX_COLD __attribute__((format(printf, 4, 5)))
int sx_fail(char *why, size_t cap, int rc, const char *fmt, ...);
/* vsnprintf into buf[0..cap) (cap > 0) returning the length written: at
 * most cap - 1, never negative, so that it can be sent as it is. */
size_t sx_vfmt(char *buf, size_t cap, const char *fmt, va_list ap);

/* ---- ID types (SPEC section 3) ---------------------------------------- */
#define SX_IDTYPES(X)                  \
	X(SX_IDT_RIC,      "RIC")      \
	X(SX_IDT_USCC,     "USCC")     \
	X(SX_IDT_ORG,      "ORG")      \
	X(SX_IDT_PASSPORT, "PASSPORT") \
	X(SX_IDT_HKMO,     "HKMO")     \
	X(SX_IDT_TW,       "TW")       \
	X(SX_IDT_FRP,      "FRP")

enum {
#define X(e, s) e,
	SX_IDTYPES(X)
#undef X
	SX_NIDTYPES
};

/* ---- roles, lists, statuses (SPEC section 2) -------------------------- */
#define SX_ROLES(X)                    \
	X(SX_ROLE_DEBTOR,      "debtor")      \
	X(SX_ROLE_LEGAL_REP,   "legal_rep")   \
	X(SX_ROLE_PRINCIPAL,   "principal")   \
	X(SX_ROLE_CONTROLLER,  "controller")  \
	X(SX_ROLE_RESPONSIBLE, "responsible")

#define SX_LISTS(X)            \
	X(SX_LIST_SX, "SX")    \
	X(SX_LIST_XG, "XG")

#define SX_STATUSES(X)                       \
	X(SX_ST_ACTIVE,    "active")         \
	X(SX_ST_SUSPENDED, "suspended")      \
	X(SX_ST_REVOKED,   "revoked")        \
	X(SX_ST_SHIELDED,  "shielded")

/*
 * The catalogue of restriction codes (SPEC section 4): the code, the
 * channel that asks about it, and what the contract says of it.
 *   kind   SX_K_CONS: a consumption code (SX and XG rows carry it);
 *          SX_K_JOINT: a joint-punishment measure (SX rows only)
 *   rel    1: it also restricts a unit debtor's related persons (a record
 *          whose role is not debtor); 0: such a record's code restricts
 *          nothing
 *   cls    1: the channel needs a class (rail, ship, hotel and the joint
 *          channels with classes; their classes are in rules.h)
 *   eff    the effect of a class-less channel (SX_EFF_*); a channel with
 *          classes has it per class (rules.h, SX_JCLASSES)
 * A code's number is its bit in every code mask on disk and on the wire
 * (snapshot records and permits, the feedback log's channel byte): new
 * measures go at the end.  sx_codes has room for 64.
 */
#define SX_CODES(X)                                                                 \
	X(SX_C_AIR,         "AIR",         "air",           SX_K_CONS,  1, 0, SX_EFF_DENY)   \
	X(SX_C_RAIL,        "RAIL",        "rail",          SX_K_CONS,  1, 1, SX_EFF_DENY)   \
	X(SX_C_SHIP,        "SHIP",        "ship",          SX_K_CONS,  1, 1, SX_EFF_DENY)   \
	X(SX_C_HOTEL,       "HOTEL",       "hotel",         SX_K_CONS,  1, 1, SX_EFF_DENY)   \
	X(SX_C_VENUE,       "VENUE",       "venue",         SX_K_CONS,  1, 0, SX_EFF_DENY)   \
	X(SX_C_TRAVEL,      "TRAVEL",      "travel",        SX_K_CONS,  1, 0, SX_EFF_DENY)   \
	X(SX_C_SCHOOL,      "SCHOOL",      "school",        SX_K_CONS,  1, 0, SX_EFF_DENY)   \
	X(SX_C_INSURANCE,   "INSURANCE",   "insurance",     SX_K_CONS,  1, 0, SX_EFF_DENY)   \
	X(SX_C_PROPERTY,    "PROPERTY",    "property",      SX_K_CONS,  1, 0, SX_EFF_DENY)   \
	X(SX_C_VEHICLE,     "VEHICLE",     "vehicle",       SX_K_CONS,  1, 0, SX_EFF_DENY)   \
	X(SX_C_OFFICE,      "OFFICE",      "office",        SX_K_CONS,  1, 0, SX_EFF_DENY)   \
	X(SX_C_FINANCE,     "FINANCE",     "finance",       SX_K_JOINT, 0, 1, SX_EFF_NONE)   \
	X(SX_C_BOND,        "BOND",        "bond",          SX_K_JOINT, 0, 1, SX_EFF_NONE)   \
	X(SX_C_QUOTA,       "QUOTA",       "quota",         SX_K_JOINT, 0, 0, SX_EFF_REVIEW) \
	X(SX_C_INCENTIVE,   "INCENTIVE",   "incentive",     SX_K_JOINT, 0, 0, SX_EFF_DENY)   \
	X(SX_C_STOCK,       "STOCK",       "stock",         SX_K_JOINT, 0, 0, SX_EFF_REVIEW) \
	X(SX_C_SOCIETY,     "SOCIETY",     "society",       SX_K_JOINT, 0, 0, SX_EFF_DENY)   \
	X(SX_C_PROCUREMENT, "PROCUREMENT", "procurement",   SX_K_JOINT, 0, 0, SX_EFF_DENY)   \
	X(SX_C_BIDDING,     "BIDDING",     "bidding",       SX_K_JOINT, 0, 0, SX_EFF_DENY)   \
	X(SX_C_STRAIT,      "STRAIT",      "strait",        SX_K_JOINT, 1, 0, SX_EFF_DENY)   \
	X(SX_C_SUBSIDY,     "SUBSIDY",     "subsidy",       SX_K_JOINT, 0, 0, SX_EFF_DENY)   \
	X(SX_C_POLICY,      "POLICY",      "policy",        SX_K_JOINT, 0, 0, SX_EFF_REVIEW) \
	X(SX_C_APPOINT,     "APPOINT",     "appointment",   SX_K_JOINT, 1, 1, SX_EFF_NONE)   \
	X(SX_C_CUSTOMS,     "CUSTOMS",     "customs",       SX_K_JOINT, 0, 0, SX_EFF_DENY)   \
	X(SX_C_LICENSE,     "LICENSE",     "license",       SX_K_JOINT, 0, 1, SX_EFF_NONE)   \
	X(SX_C_QUALIFY,     "QUALIFY",     "qualification", SX_K_JOINT, 0, 0, SX_EFF_DENY)   \
	X(SX_C_HONOR,       "HONOR",       "honor",         SX_K_JOINT, 0, 0, SX_EFF_DENY)   \
	X(SX_C_CREDIT,      "CREDIT",      "credit",        SX_K_JOINT, 0, 0, SX_EFF_REVIEW) \
	X(SX_C_ASSET,       "ASSET",       "asset",         SX_K_JOINT, 1, 0, SX_EFF_DENY)   \
	X(SX_C_RESOURCE,    "RESOURCE",    "resource",      SX_K_JOINT, 0, 0, SX_EFF_DENY)

#define SX_K_CONS  1
#define SX_K_JOINT 0

/* What a restricting record means for a query (SPEC section 4): nothing,
 * a refusal (DENY), or a strict review (REVIEW). */
#define SX_EFFECTS(X)                   \
	X(SX_EFF_NONE,   "none")        \
	X(SX_EFF_DENY,   "deny")        \
	X(SX_EFF_REVIEW, "review")

enum {
#define X(e, s) e,
	SX_EFFECTS(X)
#undef X
	SX_NEFFECTS
};

enum {
#define X(e, s) e,
	SX_ROLES(X)
#undef X
	SX_NROLES
};
enum {
#define X(e, s) e,
	SX_LISTS(X)
#undef X
	SX_NLISTS
};
enum {
#define X(e, s) e,
	SX_STATUSES(X)
#undef X
	SX_NSTATUSES
};
enum {
#define X(e, code, chan, kind, rel, cls, eff) e,
	SX_CODES(X)
#undef X
	SX_NCODES
};

/* A set of codes: bit c is code c. */
typedef uint64_t sx_codes;
#define SX_CODE_BIT(c) ((sx_codes)1 << (c))
_Static_assert(SX_NCODES <= 63, "sx_codes holds the codes and a spare bit");
#define SX_CODES_ALL (SX_CODE_BIT(SX_NCODES) - 1)
/* The consumption codes (what an XG row carries), and the codes that
 * restrict a unit debtor's related persons. */
static const sx_codes SX_CODES_CONS = 0
#define X(e, code, chan, kind, rel, cls, eff) | ((sx_codes)(kind == SX_K_CONS) << e)
	SX_CODES(X)
#undef X
	;
static const sx_codes SX_CODES_RELATED = 0
#define X(e, code, chan, kind, rel, cls, eff) | ((sx_codes)(rel) << e)
	SX_CODES(X)
#undef X
	;
/* The channels that need a class. */
static const sx_codes SX_CODES_CLASSED = 0
#define X(e, code, chan, kind, rel, cls, eff) | ((sx_codes)(cls) << e)
	SX_CODES(X)
#undef X
	;
/* What a list row with an empty `restrictions` carries (SPEC section 2):
 * every code for SX, the consumption codes for XG. */
static inline sx_codes sx_codes_default(int list)
{
	return list == SX_LIST_XG ? SX_CODES_CONS : SX_CODES_ALL;
}

/* Names (upper or lower case as in the contract) and case-insensitive
 * parsers.  Parsers take (s, len) and return the enum value or -1. */
const char *sx_idtype_name(int t);
const char *sx_role_name(int r);
const char *sx_list_name(int l);
const char *sx_status_name(int s);
const char *sx_code_name(int c);     /* "AIR" */
const char *sx_channel_name(int c);  /* "air" */
const char *sx_effect_name(int e);   /* "deny" */
int sx_idtype_parse(const char *s, size_t len);
int sx_role_parse(const char *s, size_t len);
int sx_list_parse(const char *s, size_t len);
int sx_status_parse(const char *s, size_t len);
int sx_code_parse(const char *s, size_t len);
int sx_channel_parse(const char *s, size_t len);
int sx_effect_parse(const char *s, size_t len);
/* The catalogue's default effect of a class-less channel (SX_EFF_*). */
int sx_code_effect(int c);

/* Parse a ';'-separated list of codes into a bitmask.  Empty (or only
 * spaces) gives *mask = 0 and returns 0; the caller decides what empty
 * means.  An unknown code returns -1 and points *bad and *badlen at it. */
int sx_codes_parse(const char *s, size_t len, sx_codes *mask,
                   const char **bad, size_t *badlen);
/* Write the codes of mask as "AIR;RAIL" into buf; returns the length. */
size_t sx_codes_format(sx_codes mask, char *buf, size_t cap);

/* ---- days -------------------------------------------------------------- */
#define SX_DAY_NONE 0xffffu  /* "no end date" */

/* Parse a strict YYYY-MM-DD (a real calendar date, 1970..2148) into days
 * since 1970-01-01.  Returns 0 or -1. */
int sx_day_parse(const char *s, size_t len, uint16_t *day);
/* Format day as YYYY-MM-DD into buf (at least 11 bytes). */
void sx_day_format(uint16_t day, char *buf);
/* Days since 1970-01-01 of a proleptic Gregorian date; no range check. */
int64_t sx_days_from_civil(int64_t y, unsigned m, unsigned d);
/* 1 when y-m-d is a real calendar date. */
int sx_date_valid(int y, int m, int d);
/* Today in UTC+8. */
uint16_t sx_today(void);
/* Parse ISO 8601 "YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM|-HH:MM]" to unix
 * seconds; a time without an offset is UTC+8.  Returns 0 or -1. */
int sx_time_parse(const char *s, int64_t *out);
/* Format unix seconds as "YYYY-MM-DDTHH:MM:SS+08:00" (buf >= 32). */
void sx_time_format(int64_t t, char *buf);

#endif
