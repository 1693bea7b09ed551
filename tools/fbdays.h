/*
 * fbdays.h - the feedback log per day (自动反馈 for people who look at
 * charts): refusals per day by decision, channel and tenant, and per court
 * and day, for `sxgate feedback report` (tools/fbreportcmd.c).
 *
 * The per-case numbers, IDs and totals of the report come from
 * sx_feedback_summarize() (fbsummary.h), the code behind `sxgate feedback
 * summarize`; this adds the time axis.  It reads the log through the same
 * checked view and filters through the same sx_feedback_filter_rec() and
 * sx_feedback_filter_court(), and counts a court's cells the same way (a
 * record once for each of its cases; a record without cases under court
 * "-"), so a court's days add up to its cases' totals.  The report checks
 * that they do.
 *
 * Two counts, both kept: a record is one refusal at a gate (the charts of
 * the whole log count records); a court counts (record, case) pairs, as
 * the summary does, so a refusal naming two cases of one court counts
 * twice for it.
 *
 * Days are calendar days in UTC+8 (the courts' time), counted from
 * 1970-01-01.
 */
#ifndef SX_TOOLS_FBDAYS_H
#define SX_TOOLS_FBDAYS_H

#include <stddef.h>
#include <stdint.h>
#include "feedback.h"
#include "fbsummary.h"
#include "sx.h"

/* The decisions a feedback record can hold, in the report's order. */
enum { SX_FBD_DENY, SX_FBD_REVIEW, SX_FBD_SUSPENDED, SX_FBD_EXEMPT, SX_FBD_N };
extern const char *const sx_fbd_names[SX_FBD_N];   /* "DENY", ... */
/* SX_FBD_* of a reason (SX_R_LISTED, ...), or -1. */
int sx_fbd_of_reason(unsigned reason);

/* Counts of one court on one day: (record, case) pairs. */
typedef struct sx_fbday_cell {
	uint32_t court;           /* index into sx_fbdays.courts */
	int32_t day;              /* days since 1970-01-01, UTC+8 */
	uint64_t by_decision[SX_FBD_N];
	uint64_t by_channel[SX_NCODES];
} sx_fbday_cell;

typedef struct sx_fbdays {
	int32_t first_day, last_day;   /* days with records; ndays 0: none */
	uint32_t ndays;
	uint64_t records;         /* records that passed the filter */
	uint64_t pairs;           /* (record, case) pairs of passing courts */
	/* The whole log, per day (index: day - first_day), counting records
	 * (with a court filter: records with at least one case of it). */
	uint64_t (*day_decision)[SX_FBD_N];    /* [ndays] */
	uint64_t *day_channel;    /* [ndays * SX_NCODES] */
	uint64_t *day_tenant;     /* [ndays * ntenants] */
	/* Courts and tenants sorted by their bytes (as the summary sorts);
	 * the strings point into the mapped log (valid until
	 * sx_fbdays_free). */
	uint32_t ncourts, ntenants;
	sx_str *courts, *tenants;
	/* cells sorted by court, then day; court i's are
	 * cells[court_first[i] .. court_first[i + 1]). */
	sx_fbday_cell *cells;
	size_t ncells;
	size_t *court_first;      /* [ncourts + 1] */
	sx_feedback_report rep;   /* what the check found (torn tail) */
	/* private */
	sx_feedback_view view;
	int view_open;
} sx_fbdays;

/* Called every 1 M records with the bytes read so far and the file's. */
typedef void (*sx_fbdays_progress)(void *arg, uint64_t done, uint64_t total);

/* The most days from the first record to the last (about 27 years):
 * beyond, a clock was wrong and the report asks for --from and --to. */
#define SX_FBDAYS_MAX_SPAN 10000

/*
 * Read the log at path and count it per day.  f may be NULL (everything);
 * progress may be NULL.  Returns 0 (free d with sx_fbdays_free()), or as
 * sx_feedback_read() (why names the file; the reader's words are kept),
 * SX_EINVAL (the records span more than SX_FBDAYS_MAX_SPAN days; why says
 * which), or -ENOMEM; on failure there is nothing to free.
 */
int sx_fbdays_read(const char *path, const sx_feedback_filter *f,
                   sx_fbdays_progress progress, void *parg, sx_fbdays *d,
                   char *why, size_t cap);
void sx_fbdays_free(sx_fbdays *d);

/* The UTC+8 day of unix milliseconds. */
int32_t sx_fbdays_day_of(int64_t ms);
/* Index of court in d->courts, or -1. */
int sx_fbdays_court(const sx_fbdays *d, sx_str court);

#endif
