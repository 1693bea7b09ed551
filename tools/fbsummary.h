/*
 * fbsummary.h - the feedback log per court and case (自动反馈): what
 * `sxgate feedback summarize` prints, as numbers for a program.
 *
 * Built on the engine's reader (engine/feedback.h, sx_feedback_view_*):
 * only tools need it, so it lives here and the server does not carry it.
 */
#ifndef SX_TOOLS_FBSUMMARY_H
#define SX_TOOLS_FBSUMMARY_H

#include <stdint.h>
#include "feedback.h"   /* engine/feedback.h: sx_feedback_report */
#include "sx.h"

typedef struct sx_feedback_filter {
	int64_t since_ms;         /* only records at or after; INT64_MIN: all */
	const char *court;        /* only this court (exact bytes); NULL: all */
	int64_t until_ms;         /* only records before; 0: no end */
	const char *tenant;       /* only this tenant (exact bytes; "-" for
	                             records without one); NULL: all */
} sx_feedback_filter;

/* 1 when record r passes f's time and tenant tests (f may be NULL); the
 * court test is per case: sx_feedback_filter_court().  Every reader of
 * the summary and the report (fbdays.c) filters through these two, so
 * their numbers agree. */
int sx_feedback_filter_rec(const sx_feedback_filter *f,
                           const sx_feedback_rec *r);
/* 1 when a case of court passes f's court test (f may be NULL). */
int sx_feedback_filter_court(const sx_feedback_filter *f, sx_str court);

/* One case of one court.  Pointers valid only during the callback. */
typedef struct sx_feedback_case_sum {
	sx_str court, case_no;    /* "-" and "-" for records without cases */
	uint64_t deny, review, suspended, exempt;
	uint64_t by_channel[SX_NCODES];
	uint32_t nids;            /* distinct (id_type, id) */
	const sx_str *ids;        /* sorted by ID, then type */
	const uint8_t *id_types;
	int64_t last_ms;          /* latest attempt */
} sx_feedback_case_sum;

typedef int (*sx_feedback_sum_cb)(void *arg, const sx_feedback_case_sum *s);

/*
 * Aggregate the log at path per (court, case): a record with k cases
 * counts once for each of them.  Rows go to cb sorted by court, then case
 * number (byte order of their UTF-8).  f may be NULL (everything).
 * Memory: about 330 bytes per distinct case and 32 per distinct (case,
 * ID); the file is mapped.
 * Returns as sx_feedback_read(), or -ENOMEM.
 */
int sx_feedback_summarize(const char *path, const sx_feedback_filter *f,
                          sx_feedback_sum_cb cb, void *arg,
                          sx_feedback_report *rep, char *why, size_t cap);

#endif
