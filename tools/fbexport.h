/*
 * fbexport.h - the feedback log per court and day for the courts' own
 * systems (`sxgate feedback report --csv/--json`): one row per (court,
 * day) that has refusals, with counts by decision and by channel.
 *
 * The counts are those of the report's courts (fbdays.h): (record, case)
 * pairs, as `sxgate feedback summarize` counts them, so a court's rows
 * add up to its summary totals.  Days are UTC+8, YYYY-MM-DD.
 *
 * CSV: RFC 4180, UTF-8, a header line
 *   court,day,refusals,deny,review,suspended,exempt,air,rail,...
 * with a column for every channel (sxgate's channel names, fixed order),
 * so a court's system can read every file with one schema.
 * JSON: {"file":..,"records":N,"from":"YYYY-MM-DD","to":..,"rows":[
 *   {"court":..,"day":..,"refusals":N,"deny":N,"review":N,"suspended":N,
 *    "exempt":N,"channels":{"air":N,...}}, ...]}  (channels: non-zero only)
 */
#ifndef SX_TOOLS_FBEXPORT_H
#define SX_TOOLS_FBEXPORT_H

#include <stdio.h>
#include "fbdays.h"

void sx_fbexport_csv(FILE *out, const sx_fbdays *d);
void sx_fbexport_json(FILE *out, const sx_fbdays *d, const char *path);

#endif
