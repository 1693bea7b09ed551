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

#define SX_REASONS(X)                                   \
	X(SX_R_LISTED,         "DENY",  "LISTED")         \
	X(SX_R_SUSPENDED,      "ALLOW", "SUSPENDED")      \
	X(SX_R_EXEMPT,         "ALLOW", "EXEMPT")         \
	X(SX_R_NOT_RESTRICTED, "ALLOW", "NOT_RESTRICTED") \
	X(SX_R_NOT_LISTED,     "ALLOW", "NOT_LISTED")

enum {
#define X(e, d, r) e,
	SX_REASONS(X)
#undef X
	SX_NREASONS
};
const char *sx_reason_name(int reason);     /* "LISTED" */
const char *sx_reason_decision(int reason); /* "DENY" or "ALLOW" */

/* Classes.  rail: train kind (SX_TRAIN_*) << 4 | seat (SX_SEAT_*);
 * ship: 0..4 (special..fourth); hotel: stars 0..5; others: SX_CLASS_NONE. */
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

/* The rule table: which classes of rail, ship and hotel are restricted.
 * Stored in the snapshot; sx_rules_default() is SPEC section 4's table. */
typedef struct sx_rules {
	uint16_t rail[SX_NTRAINS];   /* per train kind: mask of restricted seats */
	uint8_t ship;                /* mask over 0..4 */
	uint8_t hotel;               /* mask over 0..5 */
} sx_rules;

void sx_rules_default(sx_rules *r);
/*
 * Parse an operator's rule table: one rule a line, '#' comments:
 *   rail.G      business premium first second ...   (G trains)
 *   rail.DCS    business premium first ...           (D, C, S trains)
 *   rail.other  soft_sleeper deluxe_soft_sleeper     (any other train)
 *   ship        special first second                 (or 0 1 2)
 *   hotel       1 2 3 4 5
 * Each line lists the restricted classes; a rule not given keeps the
 * default.  Returns 0, or -1 with "line N: ..." in why.
 */
int sx_rules_parse(const char *text, size_t len, sx_rules *r, char *why,
                   size_t cap);
/* Write r in the format sx_rules_parse reads. */
void sx_rules_write(const sx_rules *r, FILE *f);
/* Is class cls of channel chan restricted under r? */
int sx_rules_restricted(const sx_rules *r, int chan, uint16_t cls);
/* The rule table of a snapshot: sx_snap_rules() (snapshot.h). */

/* What sx_decide_batch() answers for a query: the decision (CHECK), or
 * only whether the ID is listed (LISTED: reason SX_R_LISTED or
 * SX_R_NOT_LISTED, no records). */
enum { SX_Q_DECIDE = 0, SX_Q_LISTED = 1 };

typedef struct sx_query {
	sx_id id;
	uint8_t chan;       /* SX_C_* */
	uint8_t type;       /* SX_IDT_* */
	uint16_t cls;       /* see "Classes" */
	uint16_t day;       /* days since 1970-01-01 */
	uint8_t op;         /* SX_Q_*: sx_query_common sets SX_Q_DECIDE */
} sx_query;

/* Optional words of a query are sx_str (sx.h): a NULL pointer is "not
 * given". */
/* Channel, class, TYPE and AT: fills q->chan, cls, type, day (today in
 * UTC+8 when `at` is not given).  Returns 0, or -1 with err filled. */
int sx_query_common(sx_query *q, sx_str channel, sx_str cls, sx_str type,
                    sx_str at, char *err, size_t errcap);
/* TYPE and AT only, for a query that names no channel (LISTED): fills
 * q->type and q->day; q->chan and q->cls are left as they are.  Returns 0,
 * or -1 with err filled. */
int sx_query_when(sx_query *q, sx_str type, sx_str at, char *err, size_t errcap);
/* The ID, of type q->type.  Returns 0, or -1 with "invalid id: ..." in err. */
int sx_query_id(sx_query *q, sx_str id, char *err, size_t errcap);
/* Format a class back to text ("G1234:second" loses the train number:
 * "G:second"); for logs. */
size_t sx_class_format(int chan, uint16_t cls, char *buf, size_t cap);

typedef struct sx_decision {
	uint8_t reason;          /* SX_R_*; DENY exactly when SX_R_LISTED */
	uint32_t nrec;           /* denying records */
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
 * Each query has its own op, channel, class, type and day: a batch may
 * mix CHECKs of any kind with LISTED questions (op SX_Q_LISTED, answered
 * as sx_listed would: SX_R_LISTED or SX_R_NOT_LISTED, no records).
 * The denying record numbers of all decisions are packed into recs
 * (capacity cap).  Returns how many queries were decided (all n, unless
 * recs ran out first; cap >= sx_snap_max_query_records(s) guarantees at
 * least one).  Same answers as sx_decide (sx_listed) one by one.
 */
size_t sx_decide_batch(const sx_snap *s, const sx_query *qs, size_t n,
                       sx_decision *ds, uint32_t *recs, size_t cap);

/*
 * The records a decision concerns, for the feedback to the courts: for
 * DENY the denying records, for SUSPENDED the suspended records that
 * restrict, for EXEMPT the records permits neutralised; none otherwise.
 * Writes them to recs (room for sx_snap_max_query_records(s)) in list
 * order and returns how many.  Decisions other than DENY are rare: this
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
