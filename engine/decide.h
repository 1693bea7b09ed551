/*
 * decide.h - the question and the answer (SPEC section 4): parse a query,
 * decide it against a snapshot, and name the denying records.
 *
 * Parsing is split so that MCHECK can parse channel, class, type and day
 * once and then only the IDs: sx_query_common() then sx_query_id() per ID.
 * Errors come back as text without the "ERR " prefix, in the contract's
 * wording ("invalid id: ...", "unknown channel ...", "bad class ...",
 * "unknown type ...", "bad date ..."), so the RESP server, the binary
 * protocol and the offline CLI say the same thing.
 *
 * Deciding allocates nothing.  The caller gives a buffer for the denying
 * record numbers; sx_snap_max_query_records() entries are always enough
 * for one query.
 */
#ifndef SX_DECIDE_H
#define SX_DECIDE_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include "sx.h"
#include "id.h"
#include "snapshot.h"

/* The outcomes of a decision: constant, decision, reason, and the name
 * INFO and the metrics count it under.  A constant's number is stored in
 * the feedback log: new outcomes go at the end. */
#define SX_REASONS(X)                                                     \
	X(SX_R_LISTED,         "DENY",   "LISTED",         "listed")         \
	X(SX_R_SUSPENDED,      "ALLOW",  "SUSPENDED",      "suspended")      \
	X(SX_R_EXEMPT,         "ALLOW",  "EXEMPT",         "exempt")         \
	X(SX_R_NOT_RESTRICTED, "ALLOW",  "NOT_RESTRICTED", "not_restricted") \
	X(SX_R_NOT_LISTED,     "ALLOW",  "NOT_LISTED",     "not_listed")     \
	X(SX_R_REVIEW,         "REVIEW", "LISTED",         "review")

enum {
#define X(e, d, r, k) e,
	SX_REASONS(X)
#undef X
	SX_NREASONS
};
const char *sx_reason_name(int reason);     /* "LISTED" */
const char *sx_reason_decision(int reason); /* "DENY", "REVIEW" or "ALLOW" */
const char *sx_reason_key(int reason);      /* "listed", "review", ... */

/* DENY or REVIEW: the reply names the records (and only then). */
static inline int sx_reason_names_records(int reason)
{
	return reason == SX_R_LISTED || reason == SX_R_REVIEW;
}
/* The outcomes fed back to the courts (SPEC section 8): DENY, REVIEW,
 * SUSPENDED and EXEMPT. */
static inline int sx_reason_fed_back(int reason)
{
	return reason != SX_R_NOT_RESTRICTED && reason != SX_R_NOT_LISTED;
}

/* Classes.  rail: train kind (SX_TRAIN_*) << 4 | seat (SX_SEAT_*);
 * ship: 0..4 (special..fourth); hotel: stars 0..5; a joint-punishment
 * channel with classes: the class's index in its rule table (sx_rules.cls);
 * others: SX_CLASS_NONE. */
#define SX_CLASS_NONE 0xffffu

#define SX_SEATS(X)                                        \
	X(SX_SEAT_BUSINESS,       "business",            '9') \
	X(SX_SEAT_PREMIUM,        "premium",             'P') \
	X(SX_SEAT_FIRST,          "first",               'M') \
	X(SX_SEAT_SECOND,         "second",              'O') \
	X(SX_SEAT_DELUXE_SOFT_SL, "deluxe_soft_sleeper", '6') \
	X(SX_SEAT_SOFT_SLEEPER,   "soft_sleeper",        '4') \
	X(SX_SEAT_EMU_SLEEPER,    "emu_sleeper",         'F') \
	X(SX_SEAT_HARD_SLEEPER,   "hard_sleeper",        '3') \
	X(SX_SEAT_SOFT_SEAT,      "soft_seat",           '2') \
	X(SX_SEAT_HARD_SEAT,      "hard_seat",           '1') \
	X(SX_SEAT_STANDING,       "standing",            0)

enum {
#define X(e, name, letter) e,
	SX_SEATS(X)
#undef X
	SX_NSEATS
};
enum { SX_TRAIN_G = 0, SX_TRAIN_DCS = 1, SX_TRAIN_OTHER = 2, SX_NTRAINS };

/* The classes of the joint-punishment channels that have them, with the
 * effect SPEC section 4 gives each (channel, class name, effect).  The
 * operator's rule table may change an effect and add classes. */
#define SX_JCLASSES(X)                                   \
	X(SX_C_FINANCE, "bank",                SX_EFF_REVIEW) \
	X(SX_C_FINANCE, "securities",          SX_EFF_REVIEW) \
	X(SX_C_FINANCE, "fund",                SX_EFF_REVIEW) \
	X(SX_C_FINANCE, "futures",             SX_EFF_REVIEW) \
	X(SX_C_FINANCE, "private_fund",        SX_EFF_REVIEW) \
	X(SX_C_FINANCE, "guarantee",           SX_EFF_DENY)   \
	X(SX_C_FINANCE, "insurer",             SX_EFF_DENY)   \
	X(SX_C_BOND,    "interbank",           SX_EFF_REVIEW) \
	X(SX_C_BOND,    "corporate",           SX_EFF_DENY)   \
	X(SX_C_APPOINT, "soe_executive",       SX_EFF_DENY)   \
	X(SX_C_APPOINT, "institution_rep",     SX_EFF_DENY)   \
	X(SX_C_APPOINT, "financial_executive", SX_EFF_DENY)   \
	X(SX_C_APPOINT, "society_head",        SX_EFF_DENY)   \
	X(SX_C_APPOINT, "civil_servant",       SX_EFF_DENY)   \
	X(SX_C_APPOINT, "deputy",              SX_EFF_DENY)   \
	X(SX_C_APPOINT, "party",               SX_EFF_REVIEW) \
	X(SX_C_APPOINT, "military",            SX_EFF_REVIEW) \
	X(SX_C_LICENSE, "drug",                SX_EFF_REVIEW) \
	X(SX_C_LICENSE, "food",                SX_EFF_REVIEW) \
	X(SX_C_LICENSE, "tobacco",             SX_EFF_DENY)   \
	X(SX_C_LICENSE, "fire",                SX_EFF_DENY)   \
	X(SX_C_LICENSE, "hazchem",             SX_EFF_DENY)   \
	X(SX_C_LICENSE, "fireworks",           SX_EFF_DENY)   \
	X(SX_C_LICENSE, "mining",              SX_EFF_DENY)

#define SX_CLASS_NAME        22    /* bytes of a class name, NUL included */
#define SX_RULES_MAX_CLASSES 128   /* classes of all joint channels */

typedef struct sx_rule_class {
	char name[SX_CLASS_NAME];    /* [a-z0-9_], NUL-padded */
	uint8_t chan;                /* SX_C_* of a joint channel with classes */
	uint8_t effect;              /* SX_EFF_* */
} sx_rule_class;

/* The rule table: which classes of rail, ship and hotel are restricted,
 * and the effect of every joint-punishment (channel, class).  Stored in
 * the snapshot; sx_rules_default() is SPEC section 4's table.  Two tables
 * that mean the same compare equal with memcmp (names are NUL-padded,
 * nothing else is padding). */
typedef struct sx_rules {
	uint16_t rail[SX_NTRAINS];   /* per train kind: mask of restricted seats */
	uint8_t ship;                /* mask over 0..4 */
	uint8_t hotel;               /* mask over 0..5 */
	uint8_t effect[SX_NCODES];   /* class-less channels: SX_EFF_* (always
	                                DENY for the consumption codes) */
	uint16_t nclasses;           /* cls[0..nclasses): the default ones in
	                                SX_JCLASSES order, then the added ones */
	sx_rule_class cls[SX_RULES_MAX_CLASSES];
} sx_rules;

void sx_rules_default(sx_rules *r);
/*
 * Parse an operator's rule table: one rule a line, '#' comments.  Every
 * rule starts from the default table and changes only what it names.
 *
 *   rail.G      business premium first second ...   (G trains)
 *   rail.DCS    business premium first ...           (D, C, S trains)
 *   rail.other  soft_sleeper deluxe_soft_sleeper     (any other train)
 *   ship        special first second                 (or 0 1 2)
 *   hotel       1 2 3 4 5
 * list the restricted classes of a consumption channel (the rule replaces
 * the channel's list), and
 *   procurement deny                   (a joint channel without classes)
 *   finance     review bank fund       (classes of a joint channel)
 *   finance     review trust           (a class not known yet: added)
 * set the effect (deny, review or none) of a joint-punishment channel, or
 * of the classes named of a channel that has classes (a new name adds a
 * class: [a-z0-9_], 1-21 characters, at most SX_RULES_MAX_CLASSES in
 * all).  Returns 0, or -1 with "line N: ..." in why.
 */
int sx_rules_parse(const char *text, size_t len, sx_rules *r, char *why,
                   size_t cap);
/* Write r in the format sx_rules_parse reads (parsing it again gives r). */
void sx_rules_write(const sx_rules *r, FILE *f);
/* Is r a table sx_rules_parse could have made (every mask, effect,
 * channel and name in range, no class twice)?  0, or -1 with what is
 * wrong in why; the snapshot reader's check of its rules section. */
int sx_rules_check(const sx_rules *r, char *why, size_t cap);
/* The effect (SX_EFF_*) of class cls of channel chan under r; cls as
 * parsed against r (a class index from another table is a caller bug:
 * it is bounds-checked, not meaningful). */
int sx_rules_effect(const sx_rules *r, int chan, uint16_t cls);
/* The rule table of a snapshot: sx_snap_rules() (snapshot.h). */

typedef struct sx_query {
	sx_id id;
	uint8_t chan;       /* SX_C_* */
	uint8_t type;       /* SX_IDT_* */
	uint16_t cls;       /* see "Classes" */
	uint16_t day;       /* days since 1970-01-01 */
} sx_query;

/* Optional words of a query are sx_str (sx.h): a NULL pointer is "not
 * given". */
/* Channel, class, TYPE and AT: fills q->chan, cls, type, day (today in
 * UTC+8 when `at` is not given).  Classes of the joint channels are those
 * of the rule table the query will be decided under: rules is the
 * snapshot's (sx_snap_rules), or NULL for the default table.  Returns 0,
 * or -1 with err filled. */
int sx_query_common(sx_query *q, const sx_rules *rules, sx_str channel,
                    sx_str cls, sx_str type, sx_str at, char *err,
                    size_t errcap);
/* TYPE and AT only, for a query that names no channel (LISTED): fills
 * q->type and q->day; q->chan and q->cls are left as they are.  Returns 0,
 * or -1 with err filled. */
int sx_query_when(sx_query *q, sx_str type, sx_str at, char *err, size_t errcap);
/* The ID, of type q->type.  Returns 0, or -1 with "invalid id: ..." in err. */
int sx_query_id(sx_query *q, sx_str id, char *err, size_t errcap);
/* Format a class back to text ("G1234:second" loses the train number:
 * "G:second"); for logs.  rules as for sx_query_common. */
size_t sx_class_format(const sx_rules *rules, int chan, uint16_t cls,
                       char *buf, size_t cap);

typedef struct sx_decision {
	uint8_t reason;          /* SX_R_*; DENY exactly when SX_R_LISTED,
	                            REVIEW exactly when SX_R_REVIEW */
	uint32_t nrec;           /* denying (or reviewed) records */
	const uint32_t *rec;     /* their record numbers, in list order */
} sx_decision;

/*
 * Decide q against s.  recs must have room for
 * sx_snap_max_query_records(s) entries; d->rec points into it.
 */
void sx_decide(const sx_snap *s, const sx_query *q, sx_decision *d,
               uint32_t *recs);

/*
 * Decide n queries with batched lookups (hash all, prefetch, resolve).
 * The denying record numbers of all decisions are packed into recs
 * (capacity cap).  Returns how many queries were decided (all n, unless
 * recs ran out first; cap >= sx_snap_max_query_records(s) guarantees at
 * least one).  Same answers as sx_decide one by one.
 */
size_t sx_decide_batch(const sx_snap *s, const sx_query *qs, size_t n,
                       sx_decision *ds, uint32_t *recs, size_t cap);

/*
 * The records a decision concerns, for the feedback to the courts: for
 * DENY and REVIEW the records named, for SUSPENDED the suspended records that
 * restrict, for EXEMPT the records permits neutralised; none otherwise.
 * Writes them to recs (room for sx_snap_max_query_records(s)) in list
 * order and returns how many.  SUSPENDED and EXEMPT are rare: this
 * walks the records again rather than slowing every decision.
 */
uint32_t sx_decide_concerned(const sx_snap *s, const sx_query *q,
                             const sx_decision *d, uint32_t *recs);

/* LISTED: 1 when an active record applies to q's ID on q->day. */
int sx_listed(const sx_snap *s, const sx_query *q);

/* "case_no|court|role|list" of record rec into buf; returns the length
 * (which may exceed cap: then buf holds a truncated prefix). */
size_t sx_record_format(const sx_snap *s, uint32_t rec, char *buf,
                        size_t cap);

#endif
