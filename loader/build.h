/*
 * build.h - the whole loader as a function: list CSV (+ permits CSV) in,
 * snapshot out, with the rejects file and the account of every row.
 * sxgate-build is a thin main around it; tests call it directly.
 */
#ifndef SX_BUILD_H
#define SX_BUILD_H

#include <stdint.h>
#include <stdio.h>
#include "snapwrite.h"

typedef struct sx_build_opts {
	const char *input;        /* list CSV (required) */
	const char *permits;      /* permits CSV or NULL */
	const char *output;       /* snapshot path (required) */
	const char *rejects;      /* rejects CSV; NULL: OUTPUT.rejects.csv */
	const sx_rules *rules;    /* NULL: the default table of SPEC section 4 */
	int64_t as_of;            /* SX_AS_OF_NONE when not given */
	int64_t max_rejects;      /* < 0: 0.1% of the data rows */
	int threads;
	FILE *progress;           /* progress lines, or NULL */
} sx_build_opts;

typedef struct sx_build_report {
	uint64_t rows, loaded, rejected, warned;
	uint64_t duplicates, check_warnings;
	uint64_t code_warnings;   /* a related person's row naming a code it
	                             cannot carry; a permit naming a code no
	                             record of its case carries */
	uint64_t revoked, shielded;
	uint64_t permit_rows, permits_loaded;
	uint64_t max_rejects;
	char rejects_path[4096];
	sx_snapw_stats snap;
	double seconds, parse_seconds;
} sx_build_report;

/* Build.  Returns 0, or a negative code with a sentence in why (a missing
 * column, too many rejects, an I/O error).  On failure the output path is
 * left as it was.  The snapshot and the rejects file get the process's
 * file mode (wio.h: 0600 unless sx_file_set_mode() said otherwise). */
int sx_build(const sx_build_opts *o, sx_build_report *r, char *why,
             size_t cap);

/* Print the build's summary (several lines) to f. */
void sx_build_summary(FILE *f, const sx_build_opts *o,
                      const sx_build_report *r);

#endif
