/*
 * fbhtml.h - the courts' feedback report as one self-contained HTML file
 * (`sxgate feedback report --html`): a court clerk opens it offline and
 * sees their refusals.
 *
 * What it shows: the totals (equal to `sxgate feedback summarize` over the
 * same filter: the per-case rows are that summary's, sx_feedback_summarize);
 * refusals per day stacked by decision, by channel and by tenant (inline
 * SVG, svg.h); a table of courts with a per-day sparkline; and per court
 * its cases with counts, channels, IDs and the last attempt.
 *
 * Self-contained and safe to open: no script, no external file (styles
 * inline; a Content-Security-Policy forbids anything else); every string
 * from the log is escaped (sx_xml_text).  Fonts: the stack names the CJK
 * fonts Debian ships (fonts-noto-cjk, fonts-wqy-microhei, fonts-wqy-zenhei)
 * and those of other systems, so Chinese court names and case numbers
 * render wherever one of them is installed.
 *
 * IDs are masked by default as the courts' public list does
 * (sx_fbhtml_mask_id).
 */
#ifndef SX_TOOLS_FBHTML_H
#define SX_TOOLS_FBHTML_H

#include <stdio.h>
#include "fbdays.h"
#include "fbsummary.h"

typedef struct sx_fbhtml_opts {
	const char *path;         /* the log (shown) */
	const char *filter_text;  /* the filter in words, "" for none (shown) */
	int full_ids;             /* 1: IDs in full */
	unsigned max_ids;         /* IDs listed per case; 0: 20 */
} sx_fbhtml_opts;

/*
 * Write the report of the log at o->path, counted per day in d with
 * filter f, to out.  Reads the log a second time for the per-case summary.
 * Returns 0, or as sx_feedback_summarize() (why says what), or SX_ECORRUPT
 * when the per-day counts of a court disagree with its cases' (a bug; the
 * report is then not trusted).
 */
int sx_fbhtml_write(FILE *out, const sx_fbdays *d, const sx_feedback_filter *f,
                    const sx_fbhtml_opts *o, char *why, size_t cap);

/*
 * Mask an ID as the public list does: at least 15 characters (RICs, USCCs)
 * keep the first 6 and the last 4 ("350304********3293"); 8 to 14
 * (passports, permits, organisation codes) keep the first 2 and the last
 * 2 ("E6*****00"); 4 to 7 keep the first and the last; shorter ones are
 * all masked.  The length is kept.  out has room for n + 1 bytes.
 */
void sx_fbhtml_mask_id(const char *id, size_t n, char *out);

#endif
