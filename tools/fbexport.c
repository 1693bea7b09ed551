/*
 * fbexport.c - per court and day as CSV and JSON (contract in fbexport.h).
 * The cells are already sorted by court and day (fbdays.c); this only
 * lays them out, quoting CSV fields (RFC 4180; a court name that would be
 * a spreadsheet formula as text) and escaping JSON strings with the
 * engine's escaper (json.h).
 */
#include "fbexport.h"
#include "json.h"
#include "svg.h"          /* sx_svg_day_text */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A court name as a CSV field; one a spreadsheet would run as a formula
 * (it begins with = + - @, a tab or CR: the list's data, opened by a
 * clerk in Excel) is quoted with a leading apostrophe, as text. */
static void csv_field(FILE *out, const char *s, size_t n)
{
	int formula = n && memchr("=+-@\t\r", s[0], 6);
	if (!formula && !memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\r', n) &&
	    !memchr(s, '\n', n)) {
		fwrite(s, 1, n, out);
		return;
	}
	fputc('"', out);
	if (formula)
		fputc('\'', out);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			fputc('"', out);
		fputc(s[i], out);
	}
	fputc('"', out);
}

static void json_str(FILE *out, const char *s, size_t n)
{
	char *b = malloc(SX_JSON_STR_MAX(n));
	if (!b) {
		fputs("\"\"", out);
		return;
	}
	fwrite(b, 1, sx_json_str(b, s, n), out);
	free(b);
}

static uint64_t refusals(const sx_fbday_cell *c)
{
	uint64_t n = 0;
	for (int k = 0; k < SX_FBD_N; k++)
		n += c->by_decision[k];
	return n;
}

void sx_fbexport_csv(FILE *out, const sx_fbdays *d)
{
	fputs("court,day,refusals,deny,review,suspended,exempt", out);
	for (int c = 0; c < SX_NCODES; c++)
		fprintf(out, ",%s", sx_channel_name(c));
	fputs("\r\n", out);
	for (size_t i = 0; i < d->ncells; i++) {
		const sx_fbday_cell *c = &d->cells[i];
		const sx_str *court = &d->courts[c->court];
		char day[12];
		sx_svg_day_text(c->day, day);
		csv_field(out, court->p, court->n);
		fprintf(out, ",%s,%" PRIu64, day, refusals(c));
		for (int k = 0; k < SX_FBD_N; k++)
			fprintf(out, ",%" PRIu64, c->by_decision[k]);
		for (int k = 0; k < SX_NCODES; k++)
			fprintf(out, ",%" PRIu64, c->by_channel[k]);
		fputs("\r\n", out);
	}
}

void sx_fbexport_json(FILE *out, const sx_fbdays *d, const char *path)
{
	char from[12] = "", to[12] = "";
	if (d->ndays) {
		sx_svg_day_text(d->first_day, from);
		sx_svg_day_text(d->last_day, to);
	}
	fputs("{\"file\":", out);
	json_str(out, path, strlen(path));
	fprintf(out, ",\"records\":%" PRIu64 ",\"pairs\":%" PRIu64 ",\"from\":"
	        "%s%s%s,\"to\":%s%s%s,\"rows\":[", d->records, d->pairs,
	        d->ndays ? "\"" : "", d->ndays ? from : "null",
	        d->ndays ? "\"" : "", d->ndays ? "\"" : "",
	        d->ndays ? to : "null", d->ndays ? "\"" : "");
	for (size_t i = 0; i < d->ncells; i++) {
		const sx_fbday_cell *c = &d->cells[i];
		const sx_str *court = &d->courts[c->court];
		char day[12];
		sx_svg_day_text(c->day, day);
		fputs(i ? ",\n{\"court\":" : "\n{\"court\":", out);
		json_str(out, court->p, court->n);
		fprintf(out, ",\"day\":\"%s\",\"refusals\":%" PRIu64 ",\"deny\":%"
		        PRIu64 ",\"review\":%" PRIu64 ",\"suspended\":%" PRIu64
		        ",\"exempt\":%" PRIu64 ",\"channels\":{", day, refusals(c),
		        c->by_decision[0], c->by_decision[1], c->by_decision[2],
		        c->by_decision[3]);
		int first = 1;
		for (int k = 0; k < SX_NCODES; k++) {
			if (!c->by_channel[k])
				continue;
			fprintf(out, "%s\"%s\":%" PRIu64, first ? "" : ",",
			        sx_channel_name(k), c->by_channel[k]);
			first = 0;
		}
		fputs("}}", out);
	}
	fputs("\n]}\n", out);
}
