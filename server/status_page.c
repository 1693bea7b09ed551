/*
 * status_page.c - GET /: the status page, one self-contained HTML
 * document (see status.h).
 *
 * The server renders everything: the rows of the gathered view as tables
 * and the chart as inline SVG polylines, so the page is whole with
 * JavaScript off.  A few lines of plain script then fetch /v1/stats every
 * SX_STATUS_REFRESH seconds, copy each view text into the element of its
 * id and redraw the polylines from the series, with the same geometry as
 * the C below.  The chart carries its data as attributes (data-points,
 * data-lookups, data-refreshes) for a test, or a curious operator, to read.
 *
 * Nothing is loaded from elsewhere: no font, no script, no style sheet,
 * no image (the icon is an empty data: URL).  The Content-Security-Policy
 * allows exactly the inline script and style below, by their SHA-256
 * computed once at first use, and fetches to this origin; every value
 * written into the HTML is escaped.  The font stack names the CJK fonts
 * Debian ships, so a Chinese path or court name in an error renders.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "qsbr.h"
#include "server_int.h"
#include "status.h"
#include "status_int.h"

/* The chart's plot area in the SVG's user units (the script has them too). */
#define X0 50
#define PW 940
#define Y0 10
#define PH 160

static const char css[] =
	"body{margin:0;background:#f3f4f6;color:#1f2937;font:14px/1.45 system-ui,"
	"'Noto Sans CJK SC','Noto Sans SC','WenQuanYi Micro Hei','WenQuanYi Zen Hei',"
	"'Microsoft YaHei',sans-serif}"
	"header{background:#1f2937;color:#f9fafb;padding:10px 20px;display:flex;"
	"gap:18px;align-items:baseline;flex-wrap:wrap}"
	"h1{font-size:18px;margin:0}#stamp{color:#cbd5e1}#err{color:#fca5a5}"
	"main{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));"
	"gap:14px;padding:14px 20px}"
	"section{background:#fff;border-radius:6px;padding:10px 14px;"
	"box-shadow:0 1px 2px rgba(0,0,0,.12)}"
	"section.wide{grid-column:1/-1}.wide table{width:auto}.wide th{width:auto}"
	"h2{font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:#6b7280;"
	"margin:0 0 6px}"
	"table{border-collapse:collapse;width:100%}"
	"th{text-align:left;font-weight:normal;color:#6b7280;padding:2px 12px 2px 0;"
	"white-space:nowrap;vertical-align:top;width:40%}"
	"td{padding:2px 0;font-variant-numeric:tabular-nums;word-break:break-word}"
	".ok{color:#15803d}.warn{color:#b45309}.bad{color:#b91c1c;font-weight:bold}"
	"svg{width:100%;height:auto;display:block}"
	"svg text{font-size:11px;fill:#6b7280}"
	".grid{stroke:#e5e7eb;stroke-width:1}"
	"polyline{fill:none;stroke-width:1.6;stroke-linejoin:round}"
	".l-lookups{stroke:#2563eb}.l-listed{stroke:#dc2626}.l-review{stroke:#d97706}"
	".l-errors{stroke:#6b7280;stroke-dasharray:3 3}"
	".legend{margin:4px 0 8px;color:#4b5563}"
	".legend span{margin-right:16px}"
	".legend span::before{content:'';display:inline-block;width:14px;height:3px;"
	"margin-right:5px;vertical-align:middle;background:currentColor}"
	".k-lookups{color:#2563eb}.k-listed{color:#dc2626}.k-review{color:#d97706}"
	".k-errors{color:#6b7280}"
	"footer{color:#6b7280;padding:0 20px 14px;font-size:12px}";

/* The page's script.  Its URL for /v1/stats leaves out any user:secret@
 * the page was opened with (fetch refuses such URLs); the browser's cache
 * of the page's credentials answers the JSON's challenge. */
static const char script[] =
	"(function () {\n"
	"  'use strict';\n"
	"  var chart = document.getElementById('chart'), refreshes = 0;\n"
	"  var X0 = 50, W = 940, Y0 = 10, H = 160;\n"
	"  var url = location.origin + location.pathname.replace(/[^/]*$/, '') + 'v1/stats';\n"
	"  function points(s, v) {\n"
	"    var out = [], end = s.t.length ? s.t[s.t.length - 1] : 0;\n"
	"    for (var i = 0; i < v.length; i++)\n"
	"      out.push((X0 + W - (end - s.t[i]) * W / s.window).toFixed(1) + ',' +\n"
	"               (Y0 + H - Math.min(v[i], s.ymax) * H / s.ymax).toFixed(1));\n"
	"    return out.join(' ');\n"
	"  }\n"
	"  function show(j) {\n"
	"    var s = j.series;\n"
	"    Object.keys(j.view).forEach(function (id) {\n"
	"      var e = document.getElementById(id);\n"
	"      if (e) { e.textContent = j.view[id][0]; e.className = j.view[id][1]; }\n"
	"    });\n"
	"    ['lookups', 'listed', 'review', 'errors'].forEach(function (k) {\n"
	"      document.getElementById('line-' + k).setAttribute('points', points(s, s[k]));\n"
	"    });\n"
	"    document.getElementById('ymax').textContent = s.ymax;\n"
	"    document.getElementById('ymid').textContent = s.ymax / 2;\n"
	"    chart.setAttribute('data-points', s.t.length);\n"
	"    chart.setAttribute('data-lookups', s.total.lookups);\n"
	"    chart.setAttribute('data-refreshes', ++refreshes);\n"
	"    document.getElementById('stamp').textContent = 'as of ' + j.generated;\n"
	"    document.getElementById('err').textContent = '';\n"
	"  }\n"
	"  function refresh() {\n"
	"    fetch(url, { cache: 'no-store', credentials: 'same-origin' })\n"
	"      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })\n"
	"      .then(show)\n"
	"      .catch(function (e) {\n"
	"        document.getElementById('err').textContent = 'refresh failed: ' + e.message;\n"
	"      });\n"
	"  }\n"
	"  setInterval(refresh, 1000 * Number(chart.getAttribute('data-refresh')));\n"
	"})();\n";

static const char *const sec_titles[SX_ST_NSEC] = {
	"Server", "Serving snapshot", "Live updates", "Feedback log to the courts",
	"Lookups and decisions",
};

/* ---- the page's headers (CSP by hash) ------------------------------------ */

static pthread_once_t headers_once = PTHREAD_ONCE_INIT;
static char headers[768];

static void sha256_b64(const char *text, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	if (!EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL))
		abort();              /* SHA-256 is always there; without it, no page */
	EVP_EncodeBlock((unsigned char *)out, md, (int)len);
}

static void make_headers(void)
{
	char hs[64], hc[64];
	sha256_b64(script, hs);
	sha256_b64(css, hc);
	snprintf(headers, sizeof headers,
	         "Content-Security-Policy: default-src 'none'; script-src 'sha256-%s'; "
	         "style-src 'sha256-%s'; connect-src 'self'; img-src data:; "
	         "base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n"
	         "X-Content-Type-Options: nosniff\r\n"
	         "Referrer-Policy: no-referrer\r\n"
	         "Cache-Control: no-store\r\n", hs, hc);
}

const char *sx_status_page_headers(void)
{
	pthread_once(&headers_once, make_headers);
	return headers;
}

/* ---- the HTML ------------------------------------------------------------- */

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void polyline(FILE *f, const sx_st_view *v, int k, const char *name)
{
	fprintf(f, "<polyline id=\"line-%s\" class=\"l-%s\" points=\"", name, name);
	int64_t end = v->npoints ? v->t[v->npoints - 1] : 0;
	for (size_t i = 0; i < v->npoints; i++) {
		double r = v->rate[k][i] < v->ymax ? v->rate[k][i] : v->ymax;
		fprintf(f, "%s%.1f,%.1f", i ? " " : "",
		        X0 + PW - (double)(end - v->t[i]) * PW / SX_STATUS_WINDOW,
		        Y0 + PH - r * PH / v->ymax);
	}
	fputs("\"/>", f);
}

static void chart(FILE *f, const sx_st_view *v)
{
	fprintf(f, "<svg id=\"chart\" viewBox=\"0 0 1000 192\" role=\"img\" "
	        "aria-label=\"lookups per second over the last %d minutes\" "
	        "data-refresh=\"%d\" data-points=\"%zu\" data-lookups=\"%llu\" "
	        "data-refreshes=\"0\">", SX_STATUS_WINDOW / 60, SX_STATUS_REFRESH,
	        v->npoints, (unsigned long long)v->win[SX_ST_LOOKUPS]);
	for (int i = 0; i <= 2; i++)
		fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
		        X0, Y0 + i * PH / 2, X0 + PW, Y0 + i * PH / 2);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" id=\"ymax\">%g</text>"
	        "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" id=\"ymid\">%g</text>"
	        "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>"
	        "<text x=\"%d\" y=\"188\">&#8722;%d min</text>"
	        "<text x=\"%d\" y=\"188\" text-anchor=\"end\">now</text>",
	        X0 - 4, Y0 + 4, v->ymax, X0 - 4, Y0 + PH / 2 + 4, v->ymax / 2,
	        X0 - 4, Y0 + PH + 4, X0, SX_STATUS_WINDOW / 60, X0 + PW);
	polyline(f, v, SX_ST_LOOKUPS, "lookups");
	polyline(f, v, 1 + SX_R_LISTED, "listed");
	polyline(f, v, 1 + SX_R_REVIEW, "review");
	polyline(f, v, SX_ST_K_ERRORS, "errors");
	fputs("</svg>\n<div class=\"legend\"><span class=\"k-lookups\">all lookups</span>"
	      "<span class=\"k-listed\">DENY</span><span class=\"k-review\">REVIEW</span>"
	      "<span class=\"k-errors\">query errors</span> per second</div>\n", f);
}

static void rows(FILE *f, const sx_st_view *v, int sec)
{
	fputs("<table>", f);
	for (int i = 0; i < v->nrows; i++) {
		const sx_st_row *r = &v->rows[i];
		if (r->sec != sec)
			continue;
		fputs("<tr><th>", f);
		esc(f, r->label);
		fprintf(f, "</th><td id=\"%s\" class=\"%s\">", r->id, sx_st_tone_name(r->tone));
		esc(f, r->text);
		fputs("</td></tr>", f);
	}
	fputs("</table>\n", f);
}

char *sx_status_html(sx_srv *s, const sx_served *cur, int full, size_t *n)
{
	sx_st_view *v = sx_st_gather(s, cur, full);
	char *out = NULL, stamp[40];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		abort();
	sx_time_format(v->generated, stamp);
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	        "<title>sxgated status</title><link rel=\"icon\" href=\"data:,\">"
	        "<style>%s</style></head>\n<body><header><h1>sxgated status</h1>"
	        "<span id=\"stamp\">as of %s</span><span id=\"err\"></span></header>\n<main>\n",
	        css, stamp);
	fprintf(f, "<section class=\"wide\"><h2>%s, last %d minutes</h2>\n",
	        sec_titles[SX_ST_SEC_TRAFFIC], SX_STATUS_WINDOW / 60);
	chart(f, v);
	rows(f, v, SX_ST_SEC_TRAFFIC);
	fputs("</section>\n", f);
	for (int sec = 0; sec < SX_ST_SEC_TRAFFIC; sec++) {
		fprintf(f, "<section><h2>%s</h2>", sec_titles[sec]);
		rows(f, v, sec);
		fputs("</section>\n", f);
	}
	fprintf(f, "</main>\n<footer>The same numbers as JSON: <code>/v1/stats</code>; "
	        "refreshed every %d s while scripts run.  All of INFO: "
	        "<code>redis-cli INFO</code> as an admin tenant.</footer>\n"
	        "<script>%s</script>\n</body></html>\n", SX_STATUS_REFRESH, script);
	fclose(f);
	free(v);
	*n = len;
	return out;
}
