/*
 * decide.h - the question and the answer (SPEC section 4): parse a query,
 * decide it against a snapshot, and name the denying records.  The rule
 * table a decision follows (classes and effects) is rules.h.
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
#include "rules.h"
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
