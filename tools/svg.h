/*
 * svg.h - charts drawn as inline SVG text, for reports that are mailed
 * and opened offline (`sxgate feedback report --html`): no script, no
 * external file, nothing but elements a browser draws by itself.
 *
 * Two charts: bars per day stacked by series, with a value axis, day
 * labels, a legend and a tooltip (<title>) per segment; and a sparkline
 * of one series per day.  Every string that reaches the output goes
 * through sx_xml_text(), which is also the HTML escaper of the report.
 */
#ifndef SX_TOOLS_SVG_H
#define SX_TOOLS_SVG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Write s[0..n) as text safe in HTML and SVG content and in double-quoted
 * attributes: & < > " ' become entities, other control characters
 * (except tab and newline) are dropped, and bytes that are not UTF-8 show
 * as U+FFFD, so the page stays well-formed whatever the log holds. */
void sx_xml_text(FILE *out, const char *s, size_t n);

/* A day (since 1970-01-01) as YYYY-MM-DD, or "?" out of range. */
void sx_svg_day_text(int32_t day, char buf[12]);

/* The value of series s on day index k (0 .. ndays-1). */
typedef uint64_t (*sx_svg_value)(void *arg, unsigned s, uint32_t k);

typedef struct sx_svg_bars {
	int32_t first_day;        /* days since 1970-01-01 of index 0 */
	uint32_t ndays;
	unsigned nseries;
	const char *const *names; /* legend, escaped here */
	const char *const *colours;  /* CSS colours, trusted (not escaped) */
	sx_svg_value value;
	void *arg;
	const char *label;        /* aria-label of the chart, escaped here */
	unsigned width, height;   /* 0: 880 x 260 */
} sx_svg_bars;

/* Stacked bars, one per day, series 0 at the bottom. */
void sx_svg_stacked_days(FILE *out, const sx_svg_bars *b);

/* A sparkline of v[0..n) (one value per day), w x h pixels, with the
 * largest value as its tooltip. */
void sx_svg_sparkline(FILE *out, const uint64_t *v, size_t n, unsigned w,
                      unsigned h, const char *colour);

#endif
