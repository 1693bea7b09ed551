/*
 * svg.c - inline SVG charts and the text escaper (contract in svg.h).
 *
 * The idea: a chart is a fixed frame (value axis on the left, legend on
 * the right, day labels below) and a plot scaled to the largest stack,
 * with "nice" gridlines (1, 2 or 5 times a power of ten).  Coordinates
 * are printed with one decimal; a year of days is a few thousand <rect>s,
 * which browsers draw at once.
 */
#include "svg.h"
#include "json.h"
#include "sx.h"

#include <inttypes.h>
#include <string.h>

void sx_xml_text(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			i++;
			switch (c) {
			case '&': fputs("&amp;", out); break;
			case '<': fputs("&lt;", out); break;
			case '>': fputs("&gt;", out); break;
			case '"': fputs("&quot;", out); break;
			case '\'': fputs("&#39;", out); break;
			default:
				if (c >= 0x20 && c != 0x7f)
					fputc(c, out);
				else if (c == '\t' || c == '\n')
					fputc(c, out);
			}
			continue;
		}
		/* a well-formed multi-byte character as it is, else U+FFFD */
		size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		if (k > 1 && i + k <= n && sx_utf8_valid(s + i, k)) {
			fwrite(s + i, 1, k, out);
			i += k;
		} else {
			fputs("\xef\xbf\xbd", out);
			i++;
		}
	}
}

void sx_svg_day_text(int32_t day, char buf[12])
{
	if (day >= 0 && day < 0xffff)
		sx_day_format((uint16_t)day, buf);
	else
		snprintf(buf, 12, "?");
}

/* A step of 1, 2 or 5 x 10^k giving at most 5 gridlines up to max. */
static uint64_t nice_step(uint64_t max)
{
	uint64_t p = 1;
	for (;;) {
		if (max <= p * 5)
			return p;
		if (max <= p * 10)
			return p * 2;
		if (max <= p * 25)
			return p * 5;
		if (p > UINT64_MAX / 100)
			return p * 10;
		p *= 10;
	}
}

void sx_svg_stacked_days(FILE *out, const sx_svg_bars *b)
{
	const double W = b->width ? b->width : 880, H = b->height ? b->height : 260;
	const double L = 64, R = 170, T = 14, B = 44;
	const double pw = W - L - R, ph = H - T - B;
	uint64_t max = 0;

	for (uint32_t k = 0; k < b->ndays; k++) {
		uint64_t sum = 0;
		for (unsigned s = 0; s < b->nseries; s++)
			sum += b->value(b->arg, s, k);
		if (sum > max)
			max = sum;
	}
	uint64_t step = nice_step(max ? max : 1);
	uint64_t top = (max / step + (max % step != 0)) * step;
	if (!top)
		top = step;

	fprintf(out, "<svg class=\"chart\" "
	        "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
	        "role=\"img\" aria-label=\"", W, H, W, H);
	if (b->label)
		sx_xml_text(out, b->label, strlen(b->label));
	fputs("\">\n", out);
	/* gridlines and the value axis */
	for (uint64_t v = 0; v <= top; v += step) {
		double y = T + ph - ph * (double)v / (double)top;
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		        "stroke=\"%s\" stroke-width=\"1\"/>"
		        "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">%"
		        PRIu64 "</text>\n", L, y, L + pw, y, v ? "#e3e6ea" : "#888",
		        L - 6, y + 4, v);
	}
	/* bars */
	double bw = b->ndays ? pw / b->ndays : pw;
	double gap = bw > 4 ? bw * 0.18 : 0;
	for (uint32_t k = 0; k < b->ndays; k++) {
		double y = T + ph, x = L + k * bw + gap / 2;
		char day[12];
		sx_svg_day_text(b->first_day + (int32_t)k, day);
		for (unsigned s = 0; s < b->nseries; s++) {
			uint64_t v = b->value(b->arg, s, k);
			if (!v)
				continue;
			double h = ph * (double)v / (double)top;
			y -= h;
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			        "height=\"%.1f\" fill=\"%s\"><title>%s ", x, y,
			        bw - gap > 0.6 ? bw - gap : 0.6, h, b->colours[s], day);
			sx_xml_text(out, b->names[s], strlen(b->names[s]));
			fprintf(out, ": %" PRIu64 "</title></rect>\n", v);
		}
	}
	/* day labels: at most about 10, first and last always */
	uint32_t every = b->ndays > 10 ? (b->ndays + 9) / 10 : 1;
	for (uint32_t k = 0; k < b->ndays; k++) {
		if (k % every && k + 1 != b->ndays)
			continue;
		if (k + 1 == b->ndays && k % every && k % every < every / 2 + 1)
			continue;          /* too close to the label before it */
		char day[12];
		sx_svg_day_text(b->first_day + (int32_t)k, day);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
		        "text-anchor=\"middle\">%s</text>\n", L + (k + 0.5) * bw,
		        T + ph + 16, (k == 0 || every == 1) ? day : day + 5);
	}
	/* legend */
	for (unsigned s = 0; s < b->nseries; s++) {
		double y = T + 6 + s * 20;
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" "
		        "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\" class=\"lg\">",
		        L + pw + 16, y, b->colours[s], L + pw + 34, y + 11);
		sx_xml_text(out, b->names[s], strlen(b->names[s]));
		fputs("</text>\n", out);
	}
	fputs("</svg>\n", out);
}

void sx_svg_sparkline(FILE *out, const uint64_t *v, size_t n, unsigned w,
                      unsigned h, const char *colour)
{
	uint64_t max = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	fprintf(out, "<svg class=\"spark\" "
	        "width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\"><title>per day, "
	        "most %" PRIu64 "</title>", w, h, w, h, max);
	fprintf(out, "<line x1=\"0\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#ccc\"/>",
	        h - 1, w, h - 1);
	double bw = n ? (double)w / (double)n : w;
	for (size_t i = 0; i < n && max; i++) {
		if (!v[i])
			continue;
		double bh = (h - 2) * (double)v[i] / (double)max;
		if (bh < 1)
			bh = 1;
		fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
		        "height=\"%.2f\" fill=\"%s\"/>", i * bw, h - 1 - bh,
		        bw > 2 ? bw - 1 : bw, bh, colour);
	}
	fputs("</svg>", out);
}
