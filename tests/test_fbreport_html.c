/*
 * test_fbreport_html.c - `sxgate feedback report`: a court clerk opens one
 * file and sees their refusals, checked the way a clerk looks: in a real
 * browser (Debian's headless chromium, tests/helpers/browser.py).
 *
 * What is proved: a feedback log made by a real server run (sxgated
 * --feedback, CHECKs that are refused, suspended, exempted, sent to
 * review) gives a report whose DOM, after Chromium has laid it out, names
 * every court and shows totals equal to `sxgate feedback summarize --json`
 * of the same log; its screenshot is not blank; the page logs no
 * JavaScript error (browser.py exits 3 on one); Chinese text renders with
 * a CJK font rather than as boxes (a page of court names and a page of
 * characters no font has must not look the same); IDs are masked unless
 * --full-ids; the CSV and JSON per court and day add up to the summary;
 * a court name holding markup from the log shows as text and runs
 * nothing; the filters (--from, --to, --tenant, --court) count the right
 * records; bad days, missing and damaged logs get clear errors and leave
 * no file.
 *
 * Without chromium the browser checks are skipped with "skipped: chromium
 * not installed" (browser.py exit 77); the rest still runs.
 */
#include "helpers/srvtest.h"
#include "feedback.h"

TestSuite(fbreport, .init = tu_setup, .fini = tu_teardown);

/* ---- helpers ------------------------------------------------------------ */

static char *sh(int *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *sh(int *st, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	return tu_run(st, "%s", cmd);
}

/* browser.py WHAT ARGS: its stdout; skips the test without chromium and
 * fails it on a JavaScript error (exit 3). */
static char *browser(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *browser(const char *fmt, ...)
{
	char args[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	int st;
	char *out = tu_run(&st, "/usr/bin/python3 %s/tests/helpers/browser.py %s 2>%s/browser.err",
	                   tu_repo_root(), args, tu_dir);
	if (st == 77) {
		free(out);
		cr_skip_test("skipped: chromium not installed (Debian package chromium)");
	}
	char ep[PATH_MAX + 32];
	snprintf(ep, sizeof ep, "%s/browser.err", tu_dir);
	size_t n;
	char *err = tu_read(ep, &n);
	cr_assert_eq(st, 0, "browser.py %s: exit %d (3: a JavaScript error)\n%s\n%s",
	             args, st, out, err ? err : "");
	free(err);
	return out;
}

static double png_dominant(const char *png)
{
	char *o = browser("png-stats %s", png);
	const char *d = strstr(o, "dominant=");
	cr_assert_not_null(d, "png-stats: %s", o);
	double v = atof(d + 9);
	free(o);
	return v;
}

static const char *sxgate(void)
{
	static char b[PATH_MAX + 32];
	return tu_bin("sxgate", b, sizeof b);
}

/* Checks the summary, CSV and JSON of one log against each other and
 * prints "deny review suspended exempt cases courts", then the courts. */
static const char checker[] =
	"import csv, json, sys\n"
	"s = json.load(open(sys.argv[1]))\n"
	"tot = [0, 0, 0, 0]; per = {}\n"
	"for c in s['cases']:\n"
	"    v = [c['deny'], c['review'], c['suspended'], c['exempt']]\n"
	"    tot = [a + b for a, b in zip(tot, v)]\n"
	"    p = per.setdefault(c['court'], [0, 0, 0, 0])\n"
	"    per[c['court']] = [a + b for a, b in zip(p, v)]\n"
	"if len(sys.argv) > 2:\n"
	"    got = {}\n"
	"    for r in csv.DictReader(open(sys.argv[2], encoding='utf-8')):\n"
	"        p = got.setdefault(r['court'], [0, 0, 0, 0])\n"
	"        v = [int(r[k]) for k in ('deny', 'review', 'suspended', 'exempt')]\n"
	"        assert int(r['refusals']) == sum(v), r\n"
	"        got[r['court']] = [a + b for a, b in zip(p, v)]\n"
	"    assert got == per, ('csv', got, per)\n"
	"    j = json.load(open(sys.argv[3]))\n"
	"    got = {}\n"
	"    for r in j['rows']:\n"
	"        p = got.setdefault(r['court'], [0, 0, 0, 0])\n"
	"        v = [r[k] for k in ('deny', 'review', 'suspended', 'exempt')]\n"
	"        assert sum(r['channels'].values()) == r['refusals'], r\n"
	"        got[r['court']] = [a + b for a, b in zip(p, v)]\n"
	"    assert got == per, ('json', got, per)\n"
	"print(*tot, len(s['cases']), len(per))\n"
	"for c in sorted(per): print(c)\n";

typedef struct totals {
	unsigned long long deny, review, suspended, exempt, cases, courts;
	char courts_text[8192];
} totals;

static void check_summary(const char *log, const char *filter, const char *csv,
                          const char *json, totals *t)
{
	char py[PATH_MAX + 32], sum[PATH_MAX + 32];
	int st;
	snprintf(py, sizeof py, "%s/check.py", tu_dir);
	snprintf(sum, sizeof sum, "%s/summary.json", tu_dir);
	tu_write_str(py, checker);
	free(sh(&st, "%s feedback summarize --json %s %s >%s", sxgate(), log,
	        filter, sum));
	cr_assert_eq(st, 0, "feedback summarize --json failed");
	char *o = sh(&st, "/usr/bin/python3 %s %s %s %s 2>&1", py, sum, csv ? csv : "",
	             json ? json : "");
	cr_assert_eq(st, 0, "summary, CSV and JSON disagree:\n%s", o);
	int used = 0;
	cr_assert_eq(sscanf(o, "%llu %llu %llu %llu %llu %llu%n", &t->deny,
	                    &t->review, &t->suspended, &t->exempt, &t->cases,
	                    &t->courts, &used), 6, "%s", o);
	snprintf(t->courts_text, sizeof t->courts_text, "%s", o + used + 1);
	free(o);
}

/* The DOM has the totals of t in the report's total cells. */
static void check_dom_totals(const char *dom, const totals *t)
{
	char want[128];
	const char *ids[] = { "total-deny", "total-review", "total-suspended",
	                      "total-exempt", "total-cases", "total-courts" };
	unsigned long long v[] = { t->deny, t->review, t->suspended, t->exempt,
	                           t->cases, t->courts };
	for (int i = 0; i < 6; i++) {
		snprintf(want, sizeof want, "id=\"%s\">%llu<", ids[i], v[i]);
		cr_assert(strstr(dom, want), "the DOM lacks %s", want);
	}
	/* every court of the summary, by name */
	char copy[8192];
	snprintf(copy, sizeof copy, "%s", t->courts_text);
	for (char *save, *c = strtok_r(copy, "\n", &save); c;
	     c = strtok_r(NULL, "\n", &save)) {
		char h[1024];
		snprintf(h, sizeof h, "<h3>%s</h3>", c);
		cr_assert(strstr(dom, h), "the DOM lacks the court %s", c);
	}
}

/* ---- a report of a real server run, in a browser ------------------------ */

static const char *const queries[] = {
	"CHECK 350304197806263293 air " ST_AT,               /* DENY 泉州中院 */
	"CHECK 350304197806263293 rail G1:second " ST_AT,    /* DENY */
	"CHECK 350304197806263293 credit " ST_AT,            /* REVIEW */
	"CHECK 350602196503281979 air " ST_AT,               /* SUSPENDED 厦门 */
	"CHECK 350203197604181976 air " ST_AT,               /* EXEMPT 福州鼓楼 */
	"CHECK E65994900 air TYPE PASSPORT " ST_AT,          /* DENY 厦门 */
	"CHECK 91350100658106848R air TYPE USCC " ST_AT,     /* DENY 莆田 */
	"CHECK 350602195408276982 air " ST_AT,               /* DENY 漳州 */
	"CHECK 350304199509279511 air " ST_AT,               /* revoked: ALLOW */
};

static void server_log(const char *fb)
{
	st_server *s = st_start(st_snap, "--feedback", fb);
	st_conn *c = st_connect(s->resp_port);
	for (size_t i = 0; i < SX_ARRAY_LEN(queries); i++)
		for (int k = 0; k <= (int)(i % 3); k++)
			st_ask(c, queries[i]);
	const char *r = st_ask(c, queries[2]);
	cr_assert(!strncmp(r, "[REVIEW", 7), "%s", r);
	st_close(c);
	st_stop(s, SIGTERM);       /* the feedback log is flushed on the way out */
}

Test(fbreport_srv, report_of_a_server_run_in_a_browser, .init = st_setup_epoll,
     .fini = st_teardown, .timeout = 240)
{
	char fb[PATH_MAX + 32], html[PATH_MAX + 32], csv[PATH_MAX + 32],
	     json[PATH_MAX + 32], png[PATH_MAX + 32];
	snprintf(fb, sizeof fb, "%s/feedback", tu_dir);
	snprintf(html, sizeof html, "%s/report.html", tu_dir);
	snprintf(csv, sizeof csv, "%s/report.csv", tu_dir);
	snprintf(json, sizeof json, "%s/report.json", tu_dir);
	snprintf(png, sizeof png, "%s/report.png", tu_dir);
	server_log(fb);

	int st;
	char *o = sh(&st, "%s feedback report %s --html %s --csv %s --json %s 2>&1",
	             sxgate(), fb, html, csv, json);
	cr_assert_eq(st, 0, "feedback report: %s", o);
	free(o);
	totals t;
	check_summary(fb, "", csv, json, &t);
	cr_assert_eq(t.courts, 5, "the run refused for 5 courts, not %llu:\n%s",
	             t.courts, t.courts_text);
	cr_assert(t.deny > 0 && t.review > 0 && t.suspended > 0 && t.exempt > 0,
	          "every decision is in the log: %llu %llu %llu %llu", t.deny,
	          t.review, t.suspended, t.exempt);

	/* the file is self-contained: nothing is fetched, nothing runs */
	size_t n;
	char *file = tu_read(html, &n);
	cr_assert_not_null(file);
	cr_assert_null(strstr(file, "<script"), "the report has a script");
	cr_assert_null(strstr(file, "src="), "the report loads something");
	cr_assert_null(strstr(file, "http:"), "a link out of the file");
	cr_assert_null(strstr(file, "https:"), "a link out of the file");
	cr_assert_null(strstr(file, "url("), "the style loads something");
	cr_assert(strstr(file, "WenQuanYi Micro Hei") && strstr(file, "Noto Sans CJK SC"),
	          "the font stack names Debian's CJK fonts");
	free(file);

	char *dom = browser("dom file://%s", html);
	check_dom_totals(dom, &t);
	cr_assert(strstr(dom, "<svg"), "charts are inline SVG");
	cr_assert(strstr(dom, "（2023）闽05执1001号"), "case numbers are in the DOM");
	/* masked as the public list does, full IDs nowhere */
	cr_assert(strstr(dom, "350304********3293"), "masked RIC");
	cr_assert(strstr(dom, "E6*****00"), "masked passport");
	cr_assert_null(strstr(dom, "350304197806263293"), "an ID in full");
	free(dom);

	free(browser("shot file://%s %s --size 1200x1800", html, png));
	double dom_share = png_dominant(png);
	cr_assert_lt(dom_share, 0.95, "the screenshot is blank (%.3f one colour)",
	             dom_share);

	/* --full-ids shows them */
	o = sh(&st, "%s feedback report %s --html %s --full-ids 2>&1", sxgate(), fb,
	       html);
	cr_assert_eq(st, 0, "%s", o);
	free(o);
	file = tu_read(html, &n);
	cr_assert(strstr(file, "350304197806263293") && strstr(file, "E65994900"));
	cr_assert_null(strstr(file, "350304********3293"));
	free(file);
}

/* Chinese renders as Chinese: the court names and a row of characters no
 * font has (private use, drawn as boxes) must not give the same picture. */
Test(fbreport, chinese_renders_as_chinese_not_boxes, .timeout = 120)
{
	int st;
	char *fonts = sh(&st, "fc-list :lang=zh family 2>/dev/null");
	if (!*fonts) {
		free(fonts);
		cr_skip_test("skipped: no CJK font installed (fonts-wqy-microhei or "
		             "fonts-noto-cjk): Chinese would render as boxes");
	}
	free(fonts);
	char a[PATH_MAX + 32], b[PATH_MAX + 32], pa[PATH_MAX + 32], pb[PATH_MAX + 32];
	snprintf(a, sizeof a, "%s/zh.html", tu_dir);
	snprintf(b, sizeof b, "%s/box.html", tu_dir);
	snprintf(pa, sizeof pa, "%s/zh.png", tu_dir);
	snprintf(pb, sizeof pb, "%s/box.png", tu_dir);
	/* the report's own font stack, from the file the tool writes */
	char fb[PATH_MAX + 32], html[PATH_MAX + 32];
	snprintf(fb, sizeof fb, "%s/fb", tu_dir);
	snprintf(html, sizeof html, "%s/r.html", tu_dir);
	sx_feedback *f;
	char why[256];
	cr_assert_eq(sx_feedback_open(fb, &f, NULL, why, sizeof why), 0, "%s", why);
	sx_feedback_case cs = { { "（2024）闽0203执9号", strlen("（2024）闽0203执9号") },
	                        { "厦门市思明区人民法院", strlen("厦门市思明区人民法院") } };
	sx_feedback_rec r = { .time_ms = 1767000000000LL, .channel = SX_C_AIR,
	                      .id_type = SX_IDT_RIC, .id = { "350203197604181976", 18 },
	                      .reason = SX_R_LISTED, .ncases = 1, .cases = &cs };
	cr_assert_eq(sx_feedback_add(f, &r), 0);
	cr_assert_eq(sx_feedback_close(f), 0);
	free(sh(&st, "%s feedback report %s --html %s", sxgate(), fb, html));
	cr_assert_eq(st, 0);
	size_t n;
	char *page = tu_read(html, &n);
	char *style = strstr(page, "<style>"), *end = strstr(page, "</style>");
	cr_assert(style && end);
	*end = 0;
	char doc[16384];
	const char *fmt = "<!DOCTYPE html><html><head><meta charset=\"utf-8\">%s"
	                  "</style></head><body><h1 style=\"font-size:40px\">%s</h1>"
	                  "</body></html>";
	snprintf(doc, sizeof doc, fmt, style, "厦门市思明区人民法院");
	tu_write_str(a, doc);
	snprintf(doc, sizeof doc, fmt, style,
	         "\xee\x80\x80\xee\x80\x81\xee\x80\x82\xee\x80\x83\xee\x80\x84"
	         "\xee\x80\x85\xee\x80\x86\xee\x80\x87\xee\x80\x88\xee\x80\x89");
	tu_write_str(b, doc);
	free(page);
	free(browser("shot file://%s %s --size 600x120", a, pa));
	free(browser("shot file://%s %s --size 600x120", b, pb));
	size_t na, nb;
	char *ia = tu_read(pa, &na), *ib = tu_read(pb, &nb);
	cr_assert(ia && ib);
	cr_assert(na != nb || memcmp(ia, ib, na), "Chinese renders as the same "
	          "boxes as characters no font has: no CJK font is used");
	double d = png_dominant(pa);
	cr_assert(d < 0.99, "the Chinese line drew nothing (%.3f)", d);
	free(ia);
	free(ib);
}

/* ---- a log written here: markup, filters, errors ------------------------- */

typedef struct lrec {
	int64_t t;
	const char *tenant;
	int chan, reason;
	const char *id;
	const char *court, *case_no;
} lrec;

static void write_log(const char *path, const lrec *v, size_t n)
{
	sx_feedback *f;
	char why[256];
	cr_assert_eq(sx_feedback_open(path, &f, NULL, why, sizeof why), 0, "%s", why);
	for (size_t i = 0; i < n; i++) {
		sx_feedback_case cs = { { v[i].case_no, strlen(v[i].case_no) },
		                        { v[i].court, strlen(v[i].court) } };
		sx_feedback_rec r = {
			.time_ms = v[i].t, .tenant = { v[i].tenant, strlen(v[i].tenant) },
			.channel = (uint8_t)v[i].chan, .id_type = SX_IDT_RIC,
			.id = { v[i].id, strlen(v[i].id) }, .reason = (uint8_t)v[i].reason,
			.ncases = 1, .cases = &cs,
		};
		cr_assert_eq(sx_feedback_add(f, &r), 0);
	}
	cr_assert_eq(sx_feedback_close(f), 0);
}

#define EVIL "<script>throw new Error(\"xss\")</script><img src=x onerror=\"throw 1\">法院"

Test(fbreport, markup_in_a_court_name_is_text_and_runs_nothing, .timeout = 120)
{
	char fb[PATH_MAX + 32], html[PATH_MAX + 32], csv[PATH_MAX + 32];
	snprintf(fb, sizeof fb, "%s/fb", tu_dir);
	snprintf(html, sizeof html, "%s/r.html", tu_dir);
	snprintf(csv, sizeof csv, "%s/r.csv", tu_dir);
	const lrec v[] = {
		{ 1767000000000LL, "t<b>1", SX_C_AIR, SX_R_LISTED, "350304197806263293",
		  EVIL, "\"><svg onload=\"throw 2\">执1号" },
		{ 1767000000000LL, "t2", SX_C_RAIL, SX_R_LISTED, "35030419780626329\x01",
		  "a,\"b\"\xff法院", "x" },
	};
	write_log(fb, v, 2);
	int st;
	char *o = sh(&st, "%s feedback report %s --html %s --csv %s 2>&1", sxgate(),
	             fb, html, csv);
	cr_assert_eq(st, 0, "%s", o);
	free(o);
	size_t n;
	char *file = tu_read(html, &n);
	cr_assert_null(strstr(file, "<script"), "markup from the log reached the page");
	cr_assert_null(strstr(file, "<img"));
	cr_assert_null(strstr(file, "<svg onload"));
	cr_assert_null(strstr(file, "<b>1"));
	cr_assert(strstr(file, "&lt;script&gt;throw new Error(&quot;xss&quot;)"),
	          "the court name is shown as text");
	cr_assert(strstr(file, "a,&quot;b&quot;\xef\xbf\xbd法院"),
	          "a byte that is not UTF-8 shows as U+FFFD");
	free(file);
	char *c = tu_read(csv, &n);
	cr_assert(strstr(c, "\"a,\"\"b\"\"\xff法院\",") , "CSV quotes: %s", c);
	free(c);
	/* a court name that is a spreadsheet formula is text in the CSV */
	const lrec f[] = {
		{ 1767000000000LL, "t", SX_C_AIR, SX_R_LISTED, "350304197806263293",
		  "=HYPERLINK(\"http://x\",\"法院\")", "1" },
		{ 1767000000000LL, "t", SX_C_AIR, SX_R_LISTED, "350304197806263293",
		  "@SUM(1)", "2" },
	};
	write_log(fb, f, 2);
	o = sh(&st, "%s feedback report %s --csv %s 2>&1", sxgate(), fb, csv);
	cr_assert_eq(st, 0, "%s", o);
	free(o);
	c = tu_read(csv, &n);
	cr_assert(strstr(c, "\r\n\"'=HYPERLINK(\"\"http://x\"\",\"\"法院\"\")\",") &&
	          strstr(c, "\r\n\"'@SUM(1)\","), "formulas as text: %s", c);
	free(c);
	/* the browser runs no script from it (browser.py fails on a JS error) */
	char *dom = browser("dom file://%s", html);
	cr_assert(strstr(dom, "&lt;script&gt;throw new Error(\"xss\")&lt;/script&gt;"),
	          "the DOM shows the markup as text");
	cr_assert_null(strstr(dom, "<img"));
	cr_assert_null(strstr(dom, "<script"));
	free(dom);
}

/* 2026-01-01T00:00+08:00 = 1767196800 */
#define DAY0 1767196800000LL
#define H (3600 * 1000LL)

Test(fbreport, filters_count_the_right_records)
{
	char fb[PATH_MAX + 32], json[PATH_MAX + 32];
	snprintf(fb, sizeof fb, "%s/fb", tu_dir);
	snprintf(json, sizeof json, "%s/r.json", tu_dir);
	const char *A = "福州市鼓楼区人民法院", *B = "厦门市思明区人民法院";
	const lrec v[] = {
		{ DAY0 - 1, "12306", SX_C_RAIL, SX_R_LISTED, "350304197806263293", A, "1" },
		{ DAY0, "12306", SX_C_RAIL, SX_R_LISTED, "350304197806263293", A, "1" },
		{ DAY0 + 23 * H, "ctrip", SX_C_HOTEL, SX_R_REVIEW, "350304197806263293", A, "1" },
		{ DAY0 + 24 * H, "12306", SX_C_AIR, SX_R_SUSPENDED, "350304197806263293", B, "2" },
		{ DAY0 + 48 * H, "ctrip", SX_C_HOTEL, SX_R_EXEMPT, "350304197806263293", B, "2" },
		{ DAY0 + 72 * H - 1, "12306", SX_C_AIR, SX_R_LISTED, "350304197806263293", B, "3" },
		{ DAY0 + 72 * H, "12306", SX_C_AIR, SX_R_LISTED, "350304197806263293", A, "1" },
	};
	write_log(fb, v, SX_ARRAY_LEN(v));
	int st;
	char *o;
	/* everything: 2025-12-31 .. 2026-01-04 */
	o = sh(&st, "%s feedback report %s --json -", sxgate(), fb);
	cr_assert_eq(st, 0);
	cr_assert(strstr(o, "\"records\":7,\"pairs\":7,\"from\":\"2025-12-31\","
	                 "\"to\":\"2026-01-04\""), "%s", o);
	cr_assert(strstr(o, "{\"court\":\"福州市鼓楼区人民法院\",\"day\":\"2026-01-01\","
	                 "\"refusals\":2,\"deny\":1,\"review\":1,\"suspended\":0,"
	                 "\"exempt\":0,\"channels\":{\"rail\":1,\"hotel\":1}}"), "%s", o);
	free(o);
	/* --from 2026-01-01 --to 2026-01-03: days inclusive, UTC+8 */
	o = sh(&st, "%s feedback report %s --json - --from 2026-01-01 --to 2026-01-03",
	       sxgate(), fb);
	cr_assert_eq(st, 0);
	cr_assert(strstr(o, "\"records\":5,"), "%s", o);
	cr_assert(strstr(o, "\"from\":\"2026-01-01\",\"to\":\"2026-01-03\""), "%s", o);
	free(o);
	/* --tenant and --court */
	o = sh(&st, "%s feedback report %s --json - --tenant ctrip", sxgate(), fb);
	cr_assert(strstr(o, "\"records\":2,"), "%s", o);
	free(o);
	/* the same filters in the summary: the same numbers */
	char csv[PATH_MAX + 32];
	snprintf(csv, sizeof csv, "%s/r.csv", tu_dir);
	o = sh(&st, "%s feedback report %s --csv %s --json %s --from 2026-01-01 "
	       "--to 2026-01-02 --tenant 12306", sxgate(), fb, csv, json);
	cr_assert_eq(st, 0);
	free(o);
	totals t;
	check_summary(fb, "--since 2026-01-01 --to 2026-01-02 --tenant 12306",
	              csv, json, &t);
	cr_assert(t.deny == 1 && t.review == 0 && t.suspended == 1 && t.exempt == 0 &&
	          t.courts == 2, "%llu %llu %llu %llu %llu", t.deny, t.review,
	          t.suspended, t.exempt, t.courts);
	o = sh(&st, "%s feedback report %s --json - --court %s --tenant 12306",
	       sxgate(), fb, B);
	cr_assert(strstr(o, "\"records\":2,"), "%s", o);
	cr_assert_null(strstr(o, A), "%s", o);
	free(o);
	/* the HTML's totals equal summarize with the same --since and --court */
	char html[PATH_MAX + 32];
	snprintf(html, sizeof html, "%s/r.html", tu_dir);
	o = sh(&st, "%s feedback report %s --html %s --from 2026-01-02 --court %s",
	       sxgate(), fb, html, A);
	cr_assert_eq(st, 0);
	free(o);
	o = sh(&st, "%s feedback summarize %s --since 2026-01-02 --court %s", sxgate(),
	       fb, A);
	cr_assert(strstr(o, ": 1 case, 1 DENY, 0 REVIEW, 0 SUSPENDED, 0 EXEMPT"), "%s", o);
	free(o);
	size_t n;
	char *page = tu_read(html, &n);
	cr_assert(strstr(page, "id=\"total-deny\">1<") && strstr(page, "id=\"total-review\">0<") &&
	          strstr(page, "id=\"total-cases\">1<") && strstr(page, "id=\"total-records\">1<"));
	free(page);
}

Test(fbreport, errors_are_clear_and_leave_no_file)
{
	char fb[PATH_MAX + 32], html[PATH_MAX + 32];
	snprintf(fb, sizeof fb, "%s/fb", tu_dir);
	snprintf(html, sizeof html, "%s/r.html", tu_dir);
	int st;
	char *o;
	o = sh(&st, "%s feedback report %s/missing --html %s 2>&1", sxgate(), tu_dir, html);
	cr_assert_eq(st, 3, "%s", o);
	cr_assert(strstr(o, "missing") && strstr(o, "No such file"), "%s", o);
	free(o);
	cr_assert(!tu_exists(html));

	const lrec v[] = {
		{ DAY0, "a", SX_C_AIR, SX_R_LISTED, "350304197806263293", "法院", "1" },
		{ DAY0, "a", SX_C_AIR, SX_R_LISTED, "350304197806263293", "法院", "2" },
		{ DAY0, "a", SX_C_AIR, SX_R_LISTED, "350304197806263293", "法院", "3" },
	};
	write_log(fb, v, 3);
	o = sh(&st, "%s feedback report %s --html %s --from 2026-02-30 2>&1", sxgate(),
	       fb, html);
	cr_assert_eq(st, 1, "%s", o);
	cr_assert(strstr(o, "--from '2026-02-30' is not a date (YYYY-MM-DD)"), "%s", o);
	free(o);
	o = sh(&st, "%s feedback report %s --html %s --from 2026-02-03 --to 2026-02-01 2>&1",
	       sxgate(), fb, html);
	cr_assert_eq(st, 1, "%s", o);
	cr_assert(strstr(o, "after"), "%s", o);
	free(o);
	o = sh(&st, "%s feedback report %s 2>&1", sxgate(), fb);
	cr_assert_eq(st, 1, "%s", o);
	cr_assert(strstr(o, "which output?"), "%s", o);
	free(o);
	/* an output named as the log would be renamed over it: refused, the
	 * log whole; two outputs of one name likewise */
	size_t n0;
	char *before = tu_read(fb, &n0);
	o = sh(&st, "%s feedback report %s --csv %s 2>&1", sxgate(), fb, fb);
	cr_assert_eq(st, 1, "%s", o);
	cr_assert(strstr(o, "--csv") && strstr(o, "is the feedback log"), "%s", o);
	free(o);
	size_t n1;
	char *after = tu_read(fb, &n1);
	cr_assert(n0 == n1 && !memcmp(before, after, n0), "the log was changed");
	free(before);
	free(after);
	o = sh(&st, "%s feedback report %s --csv %s --json %s 2>&1", sxgate(), fb, html,
	       html);
	cr_assert_eq(st, 1, "%s", o);
	cr_assert(strstr(o, "--json") && strstr(o, "is --csv"), "%s", o);
	free(o);
	cr_assert(!tu_exists(html));
	o = sh(&st, "%s feedback report --help", sxgate());
	cr_assert_eq(st, 0);
	cr_assert(strstr(o, "--full-ids") && strstr(o, "--tenant"), "%s", o);
	free(o);

	/* a wrong clock: records 56 years apart ask for --from and --to */
	char far[PATH_MAX + 32];
	snprintf(far, sizeof far, "%s/far", tu_dir);
	const lrec w[] = {
		{ 1000, "a", SX_C_AIR, SX_R_LISTED, "350304197806263293", "法院", "1" },
		{ DAY0, "a", SX_C_AIR, SX_R_LISTED, "350304197806263293", "法院", "1" },
	};
	write_log(far, w, 2);
	o = sh(&st, "%s feedback report %s --html %s 2>&1", sxgate(), far, html);
	cr_assert_eq(st, 3, "%s", o);
	cr_assert(strstr(o, "records span 20455 days (1970-01-01 to 2026-01-01; "
	                 "more than 10000: a wrong clock?); choose days with --from "
	                 "and --to"), "%s", o);
	free(o);
	o = sh(&st, "%s feedback report %s --html %s --from 2025-01-01 2>&1",
	       sxgate(), far, html);
	cr_assert_eq(st, 0, "%s", o);
	free(o);
	unlink(html);

	/* absurd times at both ends of int64 (a hostile log, its CRCs right):
	 * the day of each is computed without overflow, so the span is seen
	 * as the wrong clock it is, not folded into one day */
	char absurd[PATH_MAX + 32];
	snprintf(absurd, sizeof absurd, "%s/absurd", tu_dir);
	const lrec z[] = {
		{ INT64_MAX, "a", SX_C_AIR, SX_R_LISTED, "350304197806263293", "法院", "1" },
		{ INT64_MIN, "a", SX_C_AIR, SX_R_LISTED, "350304197806263293", "法院", "1" },
	};
	write_log(absurd, z, 2);
	o = sh(&st, "%s feedback report %s --json - 2>&1", sxgate(), absurd);
	cr_assert_eq(st, 3, "%s", o);
	cr_assert(strstr(o, "a wrong clock?"), "%s", o);
	free(o);

	/* a damaged record in the middle: the reader's message, no file */
	size_t n;
	char *data = tu_read(fb, &n);
	data[n / 2] ^= 0x55;
	tu_write(fb, data, n);
	free(data);
	char *want = sh(&st, "%s feedback summarize %s 2>&1", sxgate(), fb);
	cr_assert_eq(st, 3);
	o = sh(&st, "%s feedback report %s --html %s --csv %s.csv 2>&1", sxgate(), fb,
	       html, html);
	cr_assert_eq(st, 3, "%s", o);
	cr_assert_str_eq(o, want, "the reader's message is kept");
	free(o);
	free(want);
	cr_assert(!tu_exists(html));
	o = sh(&st, "ls %s", tu_dir);
	cr_assert_null(strstr(o, ".tmp"), "a temporary file is left: %s", o);
	free(o);
}
