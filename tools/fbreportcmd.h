/*
 * fbreportcmd.h - `sxgate feedback report`: the courts' report of the
 * feedback log, as one HTML file to mail and per court and day as CSV
 * and JSON for the courts' own systems.
 *
 *   sxgate feedback report FILE [--html OUT.html] [--csv OUT.csv]
 *          [--json OUT.json] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
 *          [--court NAME] [--tenant T] [--full-ids] [--max-ids N]
 *
 * At least one of --html, --csv, --json; OUT "-" is stdout (for one of
 * them).  Days are UTC+8 and inclusive.  Files are written whole or not at
 * all (a temporary file renamed), mode 0600: they name people.  Progress
 * goes to stderr when it is a terminal.
 *
 * Exit codes as the other feedback commands (fbreport.h): 0 done, 1 usage
 * error, 3 the log is missing, unreadable or damaged (the reader's
 * message, naming the file) or an output cannot be written.
 */
#ifndef SX_TOOLS_FBREPORTCMD_H
#define SX_TOOLS_FBREPORTCMD_H

#include <stdio.h>

/* argv[0] "feedback", argv[1] "report". */
int sx_fb_report_main(int argc, char **argv, FILE *out, FILE *err);
void sx_fb_report_usage(FILE *f);

#endif
