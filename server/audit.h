/*
 * audit.h - the audit trail: one structured log line per security event
 * (docs/SERVER.md, "Audit log"), so that an operator can answer who did
 * what, from where, when, and with what result:
 *
 *     audit event=list.remove tenant=ops addr=10.0.0.5:41234 proto=resp
 *           case="（2025）闽0102执1号" id_type=RIC id=350102********0011
 *           result=ok seq=17
 *     audit event=auth.fail tenant="x\nfoo=bar" addr=10.0.0.9:50211 proto=resp
 *           result=unknown-tenant
 *
 * (one line each; wrapped here).  Events: every admin command (the live
 * updates, RELOAD, RELOAD TLS, JOURNAL.COMPACT; refused ones too), every
 * failed AUTH, every AUTH refused by the rate limit, every NOPERM.  Not
 * CHECK, MCHECK, LISTED, INFO, a successful AUTH: the request path logs
 * nothing.
 *
 * Format: "audit", then key=value pairs separated by one space, the event
 * first and the result near the end.  Keys are fixed words.  A value is
 * written bare when it is made only of letters, digits and . _ : / @ + ,
 * ; - [ ] * (and is neither empty nor "-"), else double-quoted with C
 * escapes: \" \\ \n \r \t, \xNN for other control bytes and bytes that
 * are not UTF-8, \uNNNN for the invisible characters that could make a
 * line read differently than it parses (C1 controls, bidi overrides,
 * line and paragraph separators); other UTF-8 is written as it is.  So a
 * value can never end the line, start a second one, or add a key (a space
 * or an '=' forces the quotes), whatever a hostile tenant name, case
 * number or stream field holds.  "-" stands for no value (no tenant, no
 * address).  A value is cut at 128 bytes and then ends in "…" (inside the
 * quotes).
 *
 * ID numbers are personal data: the log gets them masked (the first 6 and
 * the last 4 characters of an 18-character RIC, fewer of shorter IDs; the
 * rest '*'), because the log travels further than the journal (journald,
 * log shippers).  The journal (mode 0600) has the full ID with who and
 * where, and the line names the journal's sequence number: `sxgate journal
 * dump` answers "who delisted this ID" by the ID, the log by the seq.
 *
 * Levels: info for an admin command that did what it was asked, warning
 * for everything else (failures and refusals).  Audit lines are written
 * whatever --log-level says (log.h); their bound is a rate limit per event
 * (a token bucket: refusals 20 lines then 1 a second, admin commands 200
 * then 20 a second), so a flood of failed AUTHs or NOPERMs from a hostile
 * client cannot fill the disk.  The lines over the limit are counted, and
 * at most once per 10 s per event a summary says how many were left out:
 *
 *     audit event=suppressed kind=noperm lines=1873 seconds=10
 *
 * Thread-safe; the rate limit's state is behind one mutex, taken only for
 * an audit event, never on the request path.
 */
#ifndef SX_AUDIT_H
#define SX_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "tenant.h"      /* sx_addr */

/*      enum             name                admin */
#define SX_AUDIT_EVENTS(X)                                   \
	X(AUTH_FAIL,       "auth.fail",        0)           \
	X(AUTH_LIMITED,    "auth.limited",     0)           \
	X(NOPERM,          "noperm",           0)           \
	X(LIST_ADD,        "list.add",         1)           \
	X(LIST_REMOVE,     "list.remove",      1)           \
	X(LIST_SUSPEND,    "list.suspend",     1)           \
	X(LIST_RESUME,     "list.resume",      1)           \
	X(PERMIT_ADD,      "permit.add",       1)           \
	X(PERMIT_REMOVE,   "permit.remove",    1)           \
	X(JOURNAL_COMPACT, "journal.compact",  1)           \
	X(RELOAD,          "reload",           1)           \
	X(RELOAD_TLS,      "reload.tls",       1)

enum {
#define X(e, name, admin) SX_AUDIT_##e,
	SX_AUDIT_EVENTS(X)
#undef X
	SX_AUDIT_NEVENTS
};

/* Rate limits: lines in a burst, then lines a second; a summary of the
 * lines left out at most every SX_AUDIT_SUMMARY_MS. */
#define SX_AUDIT_REFUSAL_BURST 20
#define SX_AUDIT_REFUSAL_RATE  1
#define SX_AUDIT_ADMIN_BURST   200
#define SX_AUDIT_ADMIN_RATE    20
#define SX_AUDIT_SUMMARY_MS    10000
#define SX_AUDIT_VALUE_MAX     128      /* bytes of a value before it is cut */

/* one byte over the audit's cut, so that a longer name is marked cut (…)
 * in the line rather than shown whole */
#define SX_ORIGIN_WHO   (SX_AUDIT_VALUE_MAX + 1)
#define SX_ORIGIN_WHERE 64

/* Who asked and from where: a copy, so a job can keep it. */
typedef struct sx_origin {
	char who[SX_ORIGIN_WHO + 1];   /* tenant name, a stream entry's `by`,
	                                  the name an AUTH tried; "" none */
	uint8_t who_len;               /* may hold NUL bytes (a hostile name) */
	char where[SX_ORIGIN_WHERE];   /* "10.0.0.5:41234", "[::1]:5000",
	                                  "stream:1700000000000-0"; "" none */
	char proto[16];                /* "resp", "binary+tls", "stream",
	                                  "signal"; "" none */
} sx_origin;

/* Set o's who to who[0..n) (cut to SX_ORIGIN_WHO; NULL: none). */
void sx_origin_who(sx_origin *o, const char *who, size_t n);
/* Set o's where to the address and port, "a.b.c.d:port" or "[v6]:port"
 * (addr NULL or all zero: none), and proto to the protocol's name with
 * "+tls" when tls (NULL: none). */
void sx_origin_peer(sx_origin *o, const sx_addr *addr, uint16_t port,
                    const char *proto, int tls);
/* Set o's where and proto as given (NULL: none). */
void sx_origin_where(sx_origin *o, const char *where, const char *proto);

/* One line being built. */
typedef struct sx_audit {
	int ev;
	int on;                 /* 0: over the rate limit, every call a no-op */
	size_t n;
	char buf[3600];         /* room for every key of an event at its worst */
} sx_audit;

/* Start a line for event ev (SX_AUDIT_*) from origin o (NULL: none):
 * "audit event=... tenant=... addr=... proto=...".  Takes a token of
 * ev's rate limit; without one, the line is counted as suppressed and
 * the calls up to sx_audit_end() do nothing. */
void sx_audit_begin(sx_audit *a, int ev, const sx_origin *o);
/* key=value (n bytes, quoted and escaped as needed; NULL: "-"). */
void sx_audit_str(sx_audit *a, const char *key, const char *v, size_t n);
/* key=value for a NUL-terminated value (NULL: "-"). */
void sx_audit_cstr(sx_audit *a, const char *key, const char *v);
/* key=an ID number masked (above). */
void sx_audit_id(sx_audit *a, const char *key, const char *v, size_t n);
void sx_audit_u64(sx_audit *a, const char *key, uint64_t v);
/* Write the line: info when ok, warning otherwise. */
void sx_audit_end(sx_audit *a, int ok);

/* Write the summaries that are due ("N similar lines suppressed"); the
 * main thread calls it a few times a second, and with force at exit. */
void sx_audit_tick(int force);

/* The masked form of an ID (above) into out (cap >= n + 1); its length. */
size_t sx_audit_mask_id(const char *id, size_t n, char *out, size_t cap);

/* Tests: the clock of the rate limit (monotonic milliseconds; NULL: the
 * real one), and a fresh state. */
void sx_audit_test_clock(int64_t (*now_ms)(void));
void sx_audit_test_reset(void);

#endif
