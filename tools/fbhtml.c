/*
 * fbhtml.c - the courts' feedback report in HTML (contract in fbhtml.h).
 *
 * The idea: the per-case rows come from sx_feedback_summarize() in court
 * order; each court's section is written into a memory stream as its rows
 * arrive, and its totals are added up from those rows (as `feedback
 * summarize` adds them).  Only then is the page written: head, totals,
 * the three charts (from the per-day counts, fbdays.h), the table of
 * courts with sparklines, and the buffered sections.  Before that, each
 * court's per-day cells are added up and compared with its cases' totals:
 * the two come from separate passes, and a report whose numbers disagree
 * is refused rather than mailed.
 */
#include "fbhtml.h"
#include "svg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const dec_colours[SX_FBD_N] = {
	"#c0392b", "#e67e22", "#7f8c8d", "#2e86c1",
};
#define NPAL 8
static const char *const palette[NPAL] = {
	"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2",
	"#edc948", "#9c755f",
};

void sx_fbhtml_mask_id(const char *id, size_t n, char *out)
{
	size_t head = n >= 15 ? 6 : n >= 8 ? 2 : n >= 4 ? 1 : 0;
	size_t tail = n >= 15 ? 4 : n >= 8 ? 2 : n >= 4 ? 1 : 0;
	for (size_t i = 0; i < n; i++)
		out[i] = i < head || i >= n - tail ? id[i] : '*';
	out[n] = 0;
}

/* ---- the per-case rows, court by court ---------------------------------- */

typedef struct court_tot {
	uint64_t by_decision[SX_FBD_N];
	uint64_t cases;
	int seen;
} court_tot;

typedef struct hw {
	const sx_fbdays *d;
	const sx_fbhtml_opts *o;
	FILE *body;               /* every court's section */
	FILE *sec;                /* the current court's case rows */
	char *sec_buf;
	size_t sec_len;
	int cur;                  /* court index of sec, -1 none */
	court_tot *tot;           /* [d->ncourts] */
	uint64_t total[SX_FBD_N], cases, courts;
	int bad;                  /* a court the per-day pass did not see */
} hw;

static void put_u64(FILE *out, const char *cls, uint64_t v)
{
	fprintf(out, "<td class=\"n%s%s\">%" PRIu64 "</td>", v ? "" : " z",
	        cls, v);
}

static void channels_text(FILE *out, const uint64_t *by_channel)
{
	int first = 1;
	for (int c = 0; c < SX_NCODES; c++) {
		if (!by_channel[c])
			continue;
		fprintf(out, "%s%s&nbsp;%" PRIu64, first ? "" : ", ",
		        sx_channel_name(c), by_channel[c]);
		first = 0;
	}
	if (first)
		fputc('-', out);
}

/* Close the current court's section: heading with its totals, then its
 * rows. */
static int end_court(hw *w)
{
	if (w->cur < 0)
		return 0;
	if (fclose(w->sec))
		return -ENOMEM;
	w->sec = NULL;
	const court_tot *t = &w->tot[w->cur];
	const sx_str *name = &w->d->courts[w->cur];
	FILE *b = w->body;
	fprintf(b, "<section class=\"court\" id=\"court-%d\">\n<h3>", w->cur);
	sx_xml_text(b, name->p, name->n);
	fprintf(b, "</h3>\n<p class=\"sub\">%" PRIu64 " case%s: %" PRIu64
	        " DENY, %" PRIu64 " REVIEW, %" PRIu64 " SUSPENDED, %" PRIu64
	        " EXEMPT</p>\n", t->cases, t->cases == 1 ? "" : "s",
	        t->by_decision[0], t->by_decision[1], t->by_decision[2],
	        t->by_decision[3]);
	fputs("<table class=\"cases\"><thead><tr><th>case number</th>"
	      "<th>DENY</th><th>REVIEW</th><th>SUSPENDED</th><th>EXEMPT</th>"
	      "<th>channels</th><th>IDs</th><th>last attempt</th></tr></thead>"
	      "<tbody>\n", b);
	fwrite(w->sec_buf, 1, w->sec_len, b);
	fputs("</tbody></table>\n</section>\n", b);
	free(w->sec_buf);
	w->sec_buf = NULL;
	w->cur = -1;
	return 0;
}

static int case_row(void *arg, const sx_feedback_case_sum *cs)
{
	hw *w = arg;
	int ci = sx_fbdays_court(w->d, cs->court);
	if (ci < 0) {
		w->bad = 1;
		return SX_ECORRUPT;
	}
	if (ci != w->cur) {
		if (end_court(w))
			return -ENOMEM;
		w->sec = open_memstream(&w->sec_buf, &w->sec_len);
		if (!w->sec)
			return -ENOMEM;
		w->cur = ci;
		w->courts++;
	}
	court_tot *t = &w->tot[ci];
	uint64_t v[SX_FBD_N] = { cs->deny, cs->review, cs->suspended, cs->exempt };
	for (int k = 0; k < SX_FBD_N; k++) {
		t->by_decision[k] += v[k];
		w->total[k] += v[k];
	}
	t->cases++;
	t->seen = 1;
	w->cases++;

	FILE *o = w->sec;
	fputs("<tr><td class=\"case\">", o);
	sx_xml_text(o, cs->case_no.p, cs->case_no.n);
	fputs("</td>", o);
	for (int k = 0; k < SX_FBD_N; k++)
		put_u64(o, "", v[k]);
	fputs("<td class=\"ch\">", o);
	channels_text(o, cs->by_channel);
	fputs("</td><td class=\"ids\">", o);
	unsigned max = w->o->max_ids ? w->o->max_ids : 20;
	for (uint32_t i = 0; i < cs->nids && i < max; i++) {
		char m[SX_FEEDBACK_MAX_STR + 1];
		size_t n = cs->ids[i].n < SX_FEEDBACK_MAX_STR ? cs->ids[i].n
		                                             : SX_FEEDBACK_MAX_STR;
		if (w->o->full_ids) {
			memcpy(m, cs->ids[i].p, n);
			m[n] = 0;
		} else
			sx_fbhtml_mask_id(cs->ids[i].p, n, m);
		const char *tn = cs->id_types[i] < SX_NIDTYPES
		                 ? sx_idtype_name(cs->id_types[i]) : "?";
		fprintf(o, "%s<span class=\"idt\">%s</span>&nbsp;<code>", i ? "<br>" : "",
		        tn);
		sx_xml_text(o, m, n);
		fputs("</code>", o);
	}
	if (cs->nids > max)
		fprintf(o, "<br><span class=\"sub\">and %u more (sxgate feedback "
		        "summarize lists them all)</span>", cs->nids - max);
	char t8[40];
	int64_t s = cs->last_ms / 1000 - (cs->last_ms % 1000 < 0);
	sx_time_format(s, t8);
	t8[19] = 0;                /* "YYYY-MM-DDTHH:MM:SS", +08:00 said above */
	t8[10] = ' ';
	fprintf(o, "</td><td class=\"t\">%s</td></tr>\n", t8);
	return 0;
}

/* ---- the charts ---------------------------------------------------------- */

static uint64_t dec_value(void *arg, unsigned s, uint32_t k)
{
	const sx_fbdays *d = arg;
	return d->day_decision[k][s];
}

/* A chart of the top NPAL-1 of many columns per day and "other". */
typedef struct topn {
	const uint64_t *m;        /* [ndays * ncols] */
	size_t ncols;
	unsigned n;               /* series shown, "other" last when used */
	size_t col[NPAL];
	int other;
	const char *names[NPAL];
	char name_buf[NPAL][64];
} topn;

static uint64_t topn_value(void *arg, unsigned s, uint32_t k)
{
	const topn *t = arg;
	const uint64_t *row = t->m + (size_t)k * t->ncols;
	if (t->other && s == t->n - 1) {
		uint64_t sum = 0;
		for (size_t c = 0; c < t->ncols; c++)
			sum += row[c];
		for (unsigned i = 0; i + 1 < t->n; i++)
			sum -= row[t->col[i]];
		return sum;
	}
	return row[t->col[s]];
}

static void topn_pick(topn *t, const uint64_t *m, size_t ncols, uint32_t ndays)
{
	uint64_t *sum = calloc(ncols ? ncols : 1, sizeof *sum);
	memset(t, 0, sizeof *t);
	t->m = m;
	t->ncols = ncols;
	size_t used = 0;
	for (size_t c = 0; sum && c < ncols; c++) {
		for (uint32_t k = 0; k < ndays; k++)
			sum[c] += m[(size_t)k * ncols + c];
		used += sum[c] != 0;
	}
	unsigned room = used > NPAL ? NPAL - 1 : (unsigned)used;
	for (unsigned i = 0; sum && i < room; i++) {
		size_t best = 0;
		for (size_t c = 1; c < ncols; c++)
			if (sum[c] > sum[best])
				best = c;
		t->col[t->n++] = best;
		sum[best] = 0;
	}
	if (used > NPAL) {
		t->other = 1;
		t->n++;
	}
	free(sum);
}

static void chart(FILE *out, const char *title, const char *label,
                  const sx_fbdays *d, unsigned nseries,
                  const char *const *names, const char *const *colours,
                  sx_svg_value value, void *arg)
{
	fprintf(out, "<figure><figcaption>%s</figcaption>\n", title);
	if (!d->ndays)
		fputs("<p class=\"sub\">no refusals</p>", out);
	else
		sx_svg_stacked_days(out, &(sx_svg_bars){
			.first_day = d->first_day, .ndays = d->ndays,
			.nseries = nseries, .names = names, .colours = colours,
			.value = value, .arg = arg, .label = label });
	fputs("</figure>\n", out);
}

static void charts(FILE *out, const sx_fbdays *d)
{
	chart(out, "Refusals per day, by decision", "refusals per day by decision",
	      d, SX_FBD_N, sx_fbd_names, dec_colours, dec_value, (void *)d);

	topn t;
	topn_pick(&t, d->day_channel, SX_NCODES, d->ndays);
	for (unsigned i = 0; i < t.n; i++)
		t.names[i] = t.other && i + 1 == t.n ? "other"
		             : sx_channel_name((int)t.col[i]);
	chart(out, "Refusals per day, by channel", "refusals per day by channel",
	      d, t.n, t.names, palette, topn_value, &t);

	topn_pick(&t, d->day_tenant, d->ntenants, d->ndays);
	for (unsigned i = 0; i < t.n; i++) {
		if (t.other && i + 1 == t.n) {
			t.names[i] = "other tenants";
			continue;
		}
		const sx_str *s = &d->tenants[t.col[i]];
		size_t n = s->n < 60 ? s->n : 60;
		while (n < s->n && n && ((unsigned char)s->p[n] & 0xc0) == 0x80)
			n--;               /* cut on a character boundary */
		memcpy(t.name_buf[i], s->p, n);
		t.name_buf[i][n] = 0;
		t.names[i] = t.name_buf[i];
	}
	chart(out, "Refusals per day, by tenant (the gate that asked)",
	      "refusals per day by tenant", d, t.n, t.names, palette, topn_value,
	      &t);
}

/* ---- the page ------------------------------------------------------------ */

static const char style[] =
	"body{font-family:\"Noto Sans CJK SC\",\"Noto Sans SC\",\"WenQuanYi Micro "
	"Hei\",\"WenQuanYi Zen Hei\",\"Source Han Sans SC\",\"PingFang SC\","
	"\"Hiragino Sans GB\",\"Microsoft YaHei\",\"SimHei\",sans-serif;"
	"margin:24px auto;max-width:1100px;padding:0 16px;color:#1d2733;"
	"background:#fff}\n"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;"
	"border-bottom:2px solid #d6dbe1;padding-bottom:4px}"
	"h3{font-size:17px;margin:22px 0 2px}\n"
	".sub{color:#5b6672;font-size:13px;margin:2px 0 8px}\n"
	"table{border-collapse:collapse;font-size:14px;margin:6px 0}"
	"th,td{border:1px solid #d6dbe1;padding:4px 8px;text-align:left;"
	"vertical-align:top}th{background:#f1f3f5;font-weight:600}\n"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}td.z{color:#aab}\n"
	"td.ids code{font-family:\"DejaVu Sans Mono\",monospace;font-size:13px}"
	".idt{color:#5b6672;font-size:11px}td.t,td.case{white-space:nowrap}\n"
	"table.totals td{font-size:20px;font-weight:600;text-align:right;"
	"min-width:90px}\n"
	"figure{margin:10px 0 18px}figcaption{font-weight:600;margin:0 0 4px}"
	"svg text{font-family:inherit}svg .ax{font-size:11px;fill:#5b6672}"
	"svg .lg{font-size:12px;fill:#1d2733}\n"
	"@media print{figure,section{break-inside:avoid}}\n";

int sx_fbhtml_write(FILE *out, const sx_fbdays *d, const sx_feedback_filter *f,
                    const sx_fbhtml_opts *o, char *why, size_t cap)
{
	hw w = { .d = d, .o = o, .cur = -1 };
	char *body_buf = NULL;
	size_t body_len = 0;
	int rc;

	w.tot = calloc(d->ncourts ? d->ncourts : 1, sizeof *w.tot);
	w.body = open_memstream(&body_buf, &body_len);
	if (!w.tot || !w.body) {
		rc = sx_fail(why, cap, -ENOMEM, "feedback report: out of memory");
		goto out;
	}
	sx_feedback_report rep;
	rc = sx_feedback_summarize(o->path, f, case_row, &w, &rep, why, cap);
	if (!rc && end_court(&w))
		rc = sx_fail(why, cap, -ENOMEM, "feedback report: out of memory");
	if (rc && w.bad)
		rc = sx_fail(why, cap, SX_ECORRUPT, "feedback log %s: the summary "
		             "names a court the per-day count did not see (was the "
		             "file replaced while it was read?)", o->path);
	if (rc)
		goto out;
	/* every court's days add up to its cases */
	for (uint32_t c = 0; c < d->ncourts; c++) {
		uint64_t sum[SX_FBD_N] = { 0 };
		for (size_t i = d->court_first[c]; i < d->court_first[c + 1]; i++)
			for (int k = 0; k < SX_FBD_N; k++)
				sum[k] += d->cells[i].by_decision[k];
		if (memcmp(sum, w.tot[c].by_decision, sizeof sum)) {
			rc = sx_fail(why, cap, SX_ECORRUPT, "feedback log %s: court "
			             "%.*s: the per-day counts disagree with its cases' "
			             "(was the file replaced while it was read?)",
			             o->path, (int)d->courts[c].n, d->courts[c].p);
			goto out;
		}
	}
	fclose(w.body);
	w.body = NULL;

	uint64_t all = w.total[0] + w.total[1] + w.total[2] + w.total[3];
	char from[12] = "-", to[12] = "-", now[40];
	if (d->ndays) {
		sx_svg_day_text(d->first_day, from);
		sx_svg_day_text(d->last_day, to);
	}
	sx_time_format((int64_t)time(NULL), now);

	fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta "
	      "charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" "
	      "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n"
	      "<meta name=\"generator\" content=\"sxgate feedback report\">\n"
	      "<title>Feedback to the courts (自动反馈) ", out);
	fprintf(out, "%s to %s</title>\n<style>\n%s</style>\n</head>\n<body>\n",
	        from, to, style);
	fprintf(out, "<h1>Refusals fed back to the courts (自动反馈)</h1>\n"
	        "<p class=\"sub\">%s to %s (days in UTC+8) &middot; log <code>",
	        from, to);
	sx_xml_text(out, o->path, strlen(o->path));
	fprintf(out, "</code>, %" PRIu64 " records%s &middot; made %.19s+08:00 by "
	        "sxgate feedback report", rep.records,
	        rep.torn_bytes ? " and a torn tail (skipped)" : "", now);
	if (o->filter_text && *o->filter_text) {
		fputs(" &middot; only ", out);
		sx_xml_text(out, o->filter_text, strlen(o->filter_text));
	}
	fprintf(out, " &middot; IDs %s</p>\n", o->full_ids ? "in full"
	        : "masked as on the public list");

	fputs("<h2>Totals</h2>\n<table class=\"totals\"><thead><tr>"
	      "<th>refusals</th><th>courts</th><th>cases</th><th>DENY</th>"
	      "<th>REVIEW</th><th>SUSPENDED</th><th>EXEMPT</th></tr></thead>"
	      "<tbody><tr>", out);
	fprintf(out, "<td id=\"total-records\">%" PRIu64 "</td>"
	        "<td id=\"total-courts\">%" PRIu64 "</td>"
	        "<td id=\"total-cases\">%" PRIu64 "</td>", d->records, w.courts,
	        w.cases);
	static const char *const ids[SX_FBD_N] = {
		"total-deny", "total-review", "total-suspended", "total-exempt",
	};
	for (int k = 0; k < SX_FBD_N; k++)
		fprintf(out, "<td id=\"%s\">%" PRIu64 "</td>", ids[k], w.total[k]);
	fprintf(out, "</tr></tbody></table>\n<p class=\"sub\">A refusal is one "
	        "decision at a gate (%" PRIu64 "). Courts and cases count a "
	        "refusal once for each case it names (%" PRIu64 " in all), as "
	        "<code>sxgate feedback summarize</code> does.</p>\n", d->records,
	        all);

	fputs("<h2>Per day</h2>\n", out);
	charts(out, d);

	fputs("<h2>Courts</h2>\n<table class=\"courts\"><thead><tr><th>court</th>"
	      "<th>cases</th><th>DENY</th><th>REVIEW</th><th>SUSPENDED</th>"
	      "<th>EXEMPT</th><th>per day</th></tr></thead><tbody>\n", out);
	uint64_t *per = calloc(d->ndays ? d->ndays : 1, sizeof *per);
	if (!per) {
		rc = sx_fail(why, cap, -ENOMEM, "feedback report: out of memory");
		goto out;
	}
	for (uint32_t c = 0; c < d->ncourts; c++) {
		const court_tot *t = &w.tot[c];
		if (!t->seen)
			continue;
		memset(per, 0, (d->ndays ? d->ndays : 1) * sizeof *per);
		for (size_t i = d->court_first[c]; i < d->court_first[c + 1]; i++) {
			const sx_fbday_cell *x = &d->cells[i];
			per[x->day - d->first_day] = x->by_decision[0] +
			        x->by_decision[1] + x->by_decision[2] + x->by_decision[3];
		}
		fprintf(out, "<tr><td class=\"court\"><a href=\"#court-%u\">", c);
		sx_xml_text(out, d->courts[c].p, d->courts[c].n);
		fputs("</a></td>", out);
		put_u64(out, "", t->cases);
		for (int k = 0; k < SX_FBD_N; k++)
			put_u64(out, "", t->by_decision[k]);
		fputs("<td>", out);
		sx_svg_sparkline(out, per, d->ndays, 160, 26, "#c0392b");
		fputs("</td></tr>\n", out);
	}
	free(per);
	fputs("</tbody></table>\n<h2>Cases per court</h2>\n", out);
	fwrite(body_buf, 1, body_len, out);
	fputs("<p class=\"sub\">Times are UTC+8. Counts: DENY refused; REVIEW "
	      "sent to manual review; SUSPENDED and EXEMPT allowed because the "
	      "listing is suspended or a permit exempts it (fed back so the "
	      "court sees them).</p>\n</body>\n</html>\n", out);
	rc = 0;
out:
	if (w.sec)
		fclose(w.sec);
	free(w.sec_buf);
	if (w.body)
		fclose(w.body);
	free(body_buf);
	free(w.tot);
	return rc;
}
