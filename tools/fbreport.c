/*
 * fbreport.c - `sxgate feedback summarize|dump` and `sxgate journal dump`
 * (usage and exit codes in fbreport.h).
 *
 * The idea: all reading and aggregation is elsewhere (sx_feedback_summarize
 * in fbsummary.c; sx_feedback_read and sx_journal_scan in the engine), so
 * the numbers a court gets come from code the tests exercise; this file only
 * parses options and lays the results out.  The table is aligned by
 * display width (a CJK character takes two columns) because case numbers
 * and court names are Chinese; --json gives the same numbers to programs.
 *
 * Each command has a static twin taking the output and error streams, so
 * a test can run it into memory streams.
 */
#include "fbreport.h"
#include "json.h"
#include "fbsummary.h"
#include "feedback.h"
#include "journal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- formatting helpers ------------------------------------------------- */

/* Unix milliseconds as "YYYY-MM-DDTHH:MM:SS[.mmm]+08:00". */
static void time_ms_format(int64_t ms, int with_ms, char *buf, size_t cap)
{
	int64_t s = ms / 1000, r = ms % 1000;
	char t[40];
	if (r < 0) {
		r += 1000;
		s--;
	}
	sx_time_format(s, t);          /* "YYYY-MM-DDTHH:MM:SS+08:00" */
	if (with_ms)
		snprintf(buf, cap, "%.19s.%03d%s", t, (int)r, t + 19);
	else
		snprintf(buf, cap, "%s", t);
}

/* Terminal columns of a UTF-8 string: East Asian wide characters take 2. */
static size_t display_width(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t k;
		if (c < 0x80) {
			cp = c;
			k = 1;
		} else if ((c & 0xe0) == 0xc0 && i + 1 < n) {
			cp = (uint32_t)(c & 0x1f) << 6 | (s[i + 1] & 0x3f);
			k = 2;
		} else if ((c & 0xf0) == 0xe0 && i + 2 < n) {
			cp = (uint32_t)(c & 0x0f) << 12 |
			     (uint32_t)(s[i + 1] & 0x3f) << 6 | (s[i + 2] & 0x3f);
			k = 3;
		} else if ((c & 0xf8) == 0xf0 && i + 3 < n) {
			cp = 0x10000;          /* astral: treat as wide */
			k = 4;
		} else {
			cp = '?';
			k = 1;
		}
		i += k;
		w += (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
		     (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
		     (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
		     (cp >= 0xffe0 && cp <= 0xffe6) || cp >= 0x10000 ? 2 : 1;
	}
	return w;
}

static void pad(FILE *out, size_t n)
{
	while (n--)
		fputc(' ', out);
}

static void json_str(FILE *out, const char *s, size_t n)
{
	char buf[SX_JSON_STR_MAX(256)];
	char *big = n > 256 ? malloc(SX_JSON_STR_MAX(n)) : NULL;
	char *o = n > 256 ? big : buf;
	if (!o) {
		fputs("\"\"", out);
		return;
	}
	fwrite(o, 1, sx_json_str(o, s, n), out);
	free(big);
}

/* A CSV field, quoted (RFC 4180) when it holds a comma, quote, CR or LF. */
static void csv_field(FILE *out, const char *s, size_t n)
{
	if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\r', n) &&
	    !memchr(s, '\n', n)) {
		fwrite(s, 1, n, out);
		return;
	}
	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			fputc('"', out);
		fputc(s[i], out);
	}
	fputc('"', out);
}

static const char *name_or_num(const char *name, unsigned v, char *buf,
                               size_t cap)
{
	if (name)
		return name;
	snprintf(buf, cap, "%u", v);
	return buf;
}

static const char *chan_name(unsigned c, char *buf, size_t cap)
{
	return name_or_num(c < SX_NCODES ? sx_channel_name((int)c) : NULL, c,
	                   buf, cap);
}

static const char *idt_name(unsigned t, char *buf, size_t cap)
{
	return name_or_num(t < SX_NIDTYPES ? sx_idtype_name((int)t) : NULL, t,
	                   buf, cap);
}

static const char *reason_name(unsigned r, char *buf, size_t cap)
{
	return name_or_num(r < SX_NREASONS ? sx_reason_name((int)r) : NULL, r,
	                   buf, cap);
}

/* ---- feedback summarize ------------------------------------------------- */

/* A summary row, copied out of the callback. */
typedef struct row {
	char *court, *case_no;
	size_t court_len, case_len;
	uint64_t deny, review, suspended, exempt;
	uint64_t by_channel[SX_NCODES];
	uint32_t nids;
	char **ids;                /* NUL-terminated copies */
	uint8_t *id_types;
	int64_t last_ms;
} row;

typedef struct rows {
	row *v;
	size_t n, cap;
} rows;

static char *dup_n(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = 0;
	}
	return s;
}

static void row_free(row *r)
{
	for (uint32_t i = 0; r->ids && i < r->nids; i++)
		free(r->ids[i]);
	free(r->ids);
	free(r->id_types);
	free(r->court);
	free(r->case_no);
}

static int keep_row(void *arg, const sx_feedback_case_sum *cs)
{
	rows *rs = arg;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		row *v = realloc(rs->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		rs->v = v;
		rs->cap = cap;
	}
	row *r = &rs->v[rs->n];
	memset(r, 0, sizeof *r);
	r->court = dup_n(cs->court.p, cs->court.n);
	r->case_no = dup_n(cs->case_no.p, cs->case_no.n);
	r->ids = calloc(cs->nids + 1, sizeof *r->ids);
	r->id_types = malloc(cs->nids + 1);
	int oom = !r->court || !r->case_no || !r->ids || !r->id_types;
	for (uint32_t i = 0; !oom && i < cs->nids; i++) {
		r->nids++;
		oom = !(r->ids[i] = dup_n(cs->ids[i].p, cs->ids[i].n));
		r->id_types[i] = cs->id_types[i];
	}
	if (oom) {
		row_free(r);
		return -ENOMEM;
	}
	r->court_len = cs->court.n;
	r->case_len = cs->case_no.n;
	r->deny = cs->deny;
	r->review = cs->review;
	r->suspended = cs->suspended;
	r->exempt = cs->exempt;
	memcpy(r->by_channel, cs->by_channel, sizeof r->by_channel);
	r->last_ms = cs->last_ms;
	rs->n++;
	return 0;
}

static void rows_free(rows *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		row_free(&rs->v[i]);
	free(rs->v);
}

static void print_channels(FILE *out, const row *r, int json)
{
	int first = 1;
	if (json)
		fputc('{', out);
	for (int c = 0; c < SX_NCODES; c++) {
		if (!r->by_channel[c])
			continue;
		if (json)
			fprintf(out, "%s\"%s\":%" PRIu64, first ? "" : ",",
			        sx_channel_name(c), r->by_channel[c]);
		else
			fprintf(out, "%s%s %" PRIu64, first ? "" : ", ",
			        sx_channel_name(c), r->by_channel[c]);
		first = 0;
	}
	if (json)
		fputc('}', out);
	else if (first)
		fputc('-', out);
}

static void print_json(FILE *out, const char *path, const rows *rs,
                       const sx_feedback_report *rep)
{
	fputs("{\"file\":", out);
	json_str(out, path, strlen(path));
	fprintf(out, ",\"records\":%" PRIu64 ",\"torn_bytes\":%" PRIu64
	        ",\"cases\":[", rep->records, rep->torn_bytes);
	for (size_t i = 0; i < rs->n; i++) {
		const row *r = &rs->v[i];
		char t[48];
		time_ms_format(r->last_ms, 0, t, sizeof t);
		fputs(i ? ",\n{\"court\":" : "\n{\"court\":", out);
		json_str(out, r->court, r->court_len);
		fputs(",\"case_no\":", out);
		json_str(out, r->case_no, r->case_len);
		fprintf(out, ",\"deny\":%" PRIu64 ",\"review\":%" PRIu64
		        ",\"suspended\":%" PRIu64 ",\"exempt\":%" PRIu64
		        ",\"channels\":", r->deny, r->review, r->suspended,
		        r->exempt);
		print_channels(out, r, 1);
		fprintf(out, ",\"distinct_ids\":%u,\"ids\":[", r->nids);
		for (uint32_t k = 0; k < r->nids; k++) {
			char nb[16];
			fprintf(out, "%s{\"type\":\"%s\",\"id\":", k ? "," : "",
			        idt_name(r->id_types[k], nb, sizeof nb));
			json_str(out, r->ids[k], strlen(r->ids[k]));
			fputc('}', out);
		}
		fprintf(out, "],\"last_attempt\":\"%s\"}", t);
	}
	fputs("\n]}\n", out);
}

static void print_table(FILE *out, const char *path, const rows *rs,
                        const sx_feedback_report *rep)
{
	uint64_t courts = 0;
	for (size_t i = 0; i < rs->n; i++)
		if (!i || strcmp(rs->v[i].court, rs->v[i - 1].court))
			courts++;
	fprintf(out, "feedback log %s: %" PRIu64 " records; %" PRIu64
	        " courts, %zu cases\n", path, rep->records, courts, rs->n);

	for (size_t i = 0; i < rs->n;) {
		size_t k = i, wcase = strlen("case_no");
		uint64_t d = 0, rv = 0, su = 0, ex = 0;
		for (; k < rs->n && !strcmp(rs->v[k].court, rs->v[i].court); k++) {
			size_t w = display_width(rs->v[k].case_no, rs->v[k].case_len);
			if (w > wcase)
				wcase = w;
			d += rs->v[k].deny;
			rv += rs->v[k].review;
			su += rs->v[k].suspended;
			ex += rs->v[k].exempt;
		}
		fprintf(out, "\n%s: %zu case%s, %" PRIu64 " DENY, %" PRIu64
		        " REVIEW, %" PRIu64 " SUSPENDED, %" PRIu64 " EXEMPT\n",
		        rs->v[i].court, k - i, k - i == 1 ? "" : "s", d, rv, su, ex);
		fputs("  case_no", out);
		pad(out, wcase - strlen("case_no"));
		fputs("    DENY  REVIEW  SUSPENDED  EXEMPT   IDS  LAST ATTEMPT       "
		      "        CHANNELS\n", out);
		for (size_t j = i; j < k; j++) {
			const row *r = &rs->v[j];
			char t[48];
			time_ms_format(r->last_ms, 0, t, sizeof t);
			fprintf(out, "  %s", r->case_no);
			pad(out, wcase - display_width(r->case_no, r->case_len));
			fprintf(out, "  %6" PRIu64 "  %6" PRIu64 "  %9" PRIu64 "  %6"
			        PRIu64 "  %4u  %-25s  ", r->deny, r->review,
			        r->suspended, r->exempt, r->nids, t);
			print_channels(out, r, 0);
			fputs("\n    ids:", out);
			for (uint32_t x = 0; x < r->nids; x++) {
				char nb[16];
				fprintf(out, "%s %s %s", x ? "," : "",
				        idt_name(r->id_types[x], nb, sizeof nb), r->ids[x]);
			}
			fputc('\n', out);
		}
		i = k;
	}
}

static void feedback_usage(FILE *f)
{
	fputs("usage: sxgate feedback summarize FILE [--since YYYY-MM-DD] "
	      "[--to YYYY-MM-DD] [--court NAME] [--tenant T] [--json]\n"
	      "       sxgate feedback report FILE --html OUT.html [--csv OUT] "
	      "[--json OUT] [...]\n"
	      "              (sxgate feedback report --help)\n"
	      "       sxgate feedback dump FILE\n", f);
}

const char *sx_cli_opt_value(int argc, char **argv, int *i, const char *name, int *bad)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n))
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n])
		return NULL;
	if (*i + 1 >= argc) {
		*bad = 1;
		return NULL;
	}
	return argv[++*i];
}

static void torn_note(FILE *err, const char *what, const char *path,
                      uint64_t bytes, uint64_t off)
{
	if (bytes)
		fprintf(err, "sxgate: %s %s: torn tail of %" PRIu64 " bytes at "
		        "offset %" PRIu64 " (an interrupted write; skipped, not "
		        "cut)\n", what, path, bytes, off);
}

static int summarize(int argc, char **argv, FILE *out, FILE *err)
{
	const char *path = NULL, *since = NULL, *to = NULL, *court = NULL,
	           *tenant = NULL;
	int json = 0, bad = 0;

	for (int i = 2; i < argc; i++) {
		const char *v;
		if ((v = sx_cli_opt_value(argc, argv, &i, "--since", &bad)))
			since = v;
		else if ((v = sx_cli_opt_value(argc, argv, &i, "--to", &bad)))
			to = v;
		else if ((v = sx_cli_opt_value(argc, argv, &i, "--court", &bad)))
			court = v;
		else if ((v = sx_cli_opt_value(argc, argv, &i, "--tenant", &bad)))
			tenant = v;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (bad || (argv[i][0] == '-' && argv[i][1]) || path) {
			fprintf(err, "sxgate feedback summarize: unexpected '%s'\n",
			        argv[i]);
			feedback_usage(err);
			return 1;
		} else
			path = argv[i];
		if (bad)
			break;
	}
	if (bad || !path) {
		fprintf(err, bad ? "sxgate feedback summarize: an option needs a "
		        "value\n" : "sxgate feedback summarize: which file?\n");
		feedback_usage(err);
		return 1;
	}
	sx_feedback_filter f = { .since_ms = INT64_MIN, .court = court,
	                         .tenant = tenant };
	if (to) {
		uint16_t day;
		if (sx_day_parse(to, strlen(to), &day)) {
			fprintf(err, "sxgate feedback summarize: --to '%s' is not a "
			        "date (YYYY-MM-DD)\n", to);
			return 1;
		}
		/* the end of that day, UTC+8: the next midnight */
		f.until_ms = (((int64_t)day + 1) * 86400 - 8 * 3600) * 1000;
	}
	if (since) {
		int64_t t;
		uint16_t day;
		if (sx_day_parse(since, strlen(since), &day) ||
		    sx_time_parse(since, &t)) {
			fprintf(err, "sxgate feedback summarize: --since '%s' is not a "
			        "date (YYYY-MM-DD)\n", since);
			return 1;
		}
		f.since_ms = t * 1000;      /* midnight, UTC+8 */
	}
	rows rs = { 0 };
	sx_feedback_report rep;
	char why[512];
	int rc = sx_feedback_summarize(path, &f, keep_row, &rs, &rep, why,
	                               sizeof why);
	if (rc) {
		rows_free(&rs);
		fprintf(err, "sxgate: %s\n", why);
		return 3;
	}
	torn_note(err, "feedback log", path, rep.torn_bytes, rep.torn_offset);
	if (json)
		print_json(out, path, &rs, &rep);
	else
		print_table(out, path, &rs, &rep);
	rows_free(&rs);
	return 0;
}

/* ---- feedback dump ------------------------------------------------------ */

static int dump_rec(void *arg, const sx_feedback_rec *r)
{
	FILE *out = arg;
	char t[48], nb[3][16];
	time_ms_format(r->time_ms, 1, t, sizeof t);
	fprintf(out, "%s,", t);
	csv_field(out, r->tenant.p, r->tenant.n);
	fprintf(out, ",%s,", chan_name(r->channel, nb[0], sizeof nb[0]));
	csv_field(out, r->cls.p, r->cls.n);
	fprintf(out, ",%s,", idt_name(r->id_type, nb[1], sizeof nb[1]));
	csv_field(out, r->id.p, r->id.n);
	fprintf(out, ",%s,%s,",
	        r->reason < SX_NREASONS ? sx_reason_decision(r->reason) : "?",
	        reason_name(r->reason, nb[2], sizeof nb[2]));
	char *cases = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&cases, &n);
	if (!f)
		return -ENOMEM;
	for (uint32_t i = 0; i < r->ncases; i++)
		fprintf(f, "%s%.*s|%.*s", i ? ";" : "",
		        (int)r->cases[i].case_no.n, r->cases[i].case_no.p,
		        (int)r->cases[i].court.n, r->cases[i].court.p);
	fclose(f);
	csv_field(out, cases, n);
	free(cases);
	fputc('\n', out);
	return 0;
}

static int feedback_dump(int argc, char **argv, FILE *out, FILE *err)
{
	if (argc != 3 || argv[2][0] == '-') {
		feedback_usage(err);
		return 1;
	}
	sx_feedback_report rep;
	char why[512];
	fputs("time,tenant,channel,class,id_type,id,decision,reason,cases\n", out);
	int rc = sx_feedback_read(argv[2], dump_rec, out, &rep, why, sizeof why);
	if (rc) {
		fprintf(err, "sxgate: %s\n", why);
		return 3;
	}
	torn_note(err, "feedback log", argv[2], rep.torn_bytes, rep.torn_offset);
	return 0;
}

static int feedback_main(int argc, char **argv, FILE *out, FILE *err)
{
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	                  !strcmp(argv[1], "help"))) {
		feedback_usage(out);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "summarize"))
		return summarize(argc, argv, out, err);
	if (argc >= 2 && !strcmp(argv[1], "dump"))
		return feedback_dump(argc, argv, out, err);
	if (argc >= 2)
		fprintf(err, "sxgate feedback: unknown subcommand '%s'\n", argv[1]);
	feedback_usage(err);
	return 1;
}

int sx_cli_feedback_main(int argc, char **argv)
{
	return feedback_main(argc, argv, stdout, stderr);
}

/* ---- journal dump ------------------------------------------------------- */

/* A word as typed: bare when it is plain, else double-quoted with C
 * escapes (bytes >= 0x80, UTF-8, are printed as they are). */
static void print_word(FILE *out, const char *s, size_t n)
{
	int plain = n > 0;
	for (size_t i = 0; i < n && plain; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == '"' || c == '\\' || c == 0x7f)
			plain = 0;
	}
	if (plain) {
		fwrite(s, 1, n, out);
		return;
	}
	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < ' ' || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* A column that may be absent: `-` when it is (or is empty), a literal
 * "-" quoted so that it is not taken for absent. */
static void print_col(FILE *out, const char *s, size_t n)
{
	if (!s || !n)
		fputc('-', out);
	else if (n == 1 && s[0] == '-')
		fputs("\"-\"", out);
	else
		print_word(out, s, n);
	fputc('\t', out);
}

static int dump_entry(void *arg, const sx_journal_entry *e)
{
	FILE *out = arg;
	char t[48];
	time_ms_format(e->time_ms, 1, t, sizeof t);
	fprintf(out, "%" PRIu64 "\t%s\t", e->seq, t);
	print_col(out, e->source, e->source_len);
	print_col(out, e->who, e->who_len);       /* `-`: an entry of format 1 */
	print_col(out, e->where, e->where_len);
	if (e->checkpoint)
		fputs("(checkpoint: compacted; sequence and source tag kept)", out);
	for (uint32_t i = 0; i < e->argc; i++) {
		if (i)
			fputc(' ', out);
		print_word(out, e->argv[i], e->lens[i]);
	}
	fputc('\n', out);
	return 0;
}

static void journal_usage(FILE *f)
{
	fputs("usage: sxgate journal dump FILE\n"
	      "  prints seq, time, source tag, who, where and the command,\n"
	      "  tab-separated; `-` where an entry has none (who and where:\n"
	      "  entries written before sxgate recorded them)\n",
	      f);
}

static int journal_main(int argc, char **argv, FILE *out, FILE *err)
{
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	                  !strcmp(argv[1], "help"))) {
		journal_usage(out);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "dump") || argv[2][0] == '-') {
		journal_usage(err);
		return 1;
	}
	sx_journal_report rep;
	char why[512];
	int rc = sx_journal_scan(argv[2], SX_JOURNAL_SCAN_CHECKPOINTS, dump_entry,
	                         out, &rep, why, sizeof why);
	if (rc) {
		fprintf(err, "sxgate: %s\n", why);
		return 3;
	}
	torn_note(err, "journal", argv[2], rep.torn_bytes, rep.torn_offset);
	return 0;
}

int sx_cli_journal_main(int argc, char **argv)
{
	return journal_main(argc, argv, stdout, stderr);
}
