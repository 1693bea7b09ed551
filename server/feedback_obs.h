/*
 * feedback_obs.h - the courts' feedback (SPEC section 8) as an observer of
 * decisions: every DENY, SUSPENDED and EXEMPT a thread decides is turned
 * into a feedback record (who asked, the query, the cases concerned) and
 * handed to the feedback log (engine/feedback.h), which only copies it
 * into a buffer; the log's own thread writes and fsyncs.  Lookups never
 * wait for the log; a full buffer drops and counts.
 */
#ifndef SX_FEEDBACK_OBS_H
#define SX_FEEDBACK_OBS_H

#include "ctx.h"
#include "decide.h"

/* One decision of query q for tenant (NULL: none): cheap unless it is a
 * refusal and x has a feedback log. */
void sx_fbobs_decision(sx_ctx *x, const char *tenant, const sx_query *q,
                       const sx_decision *d);

#endif
