/*
 * test_build.c - the loader as a function (loader/build.h): list CSV and
 * permits CSV in, snapshot, rejects file and report out (SPEC section 2).
 *
 * Inputs are small CSV texts written to a scratch directory; what comes out
 * is checked three ways: the report's counts, the snapshot (opened and
 * asked, so a row counted as loaded really answers), and the rejects file,
 * which is parsed back with the project's own CSV reader so each entry's
 * physical line number, reason and raw record can be compared exactly.
 *
 * Covered: a BOM and CRLF line ends; quoted fields holding commas, doubled
 * quotes and line breaks (which shift later line numbers); columns in any
 * order, unknown ones ignored, optional ones absent; a missing required
 * column failing the build with a message naming it and leaving an older
 * snapshot byte-identical; every reject reason of the contract, each at its
 * own line; duplicates loaded once with a warning, however the repeat is
 * spelled; check-character failures loaded with a warning; --max-rejects
 * (default 0.1% of the data rows; exactly the maximum passes, one more
 * fails and writes nothing); as-of recorded; an operator's rule table
 * stored and used; permit rows validated and rejected like list rows; the
 * summary; a list of 3001 rows across many of the loader's batches.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "csv.h"
#include "snapshot.h"
#include "testutil.h"

TestSuite(format, .init = tu_setup, .fini = tu_teardown);
TestSuite(columns, .init = tu_setup, .fini = tu_teardown);
TestSuite(rejects, .init = tu_setup, .fini = tu_teardown);
TestSuite(limits, .init = tu_setup, .fini = tu_teardown);
TestSuite(meta, .init = tu_setup, .fini = tu_teardown);
TestSuite(permits, .init = tu_setup, .fini = tu_teardown);

#define P1 "110101198001011005"
#define P2 "110101197512121017"
#define P3 "110101199005151026"
#define P4 "110101196603031039"
#define P5 "11010120010709104X"
#define USCC_B "91350200123456788X"
#define FZ "福州市鼓楼区人民法院"
#define HDR "case_no,court,list,role,id_type,id_no,name,status,listed_on," \
            "expires_on,restrictions,region\n"
#define PHDR "id_type,id_no,case_no,codes,valid_from,valid_to,permit_ref\n"
#define AT " AT 2026-01-10"

/* ---- helpers ------------------------------------------------------------------ */

typedef struct reject {
	unsigned long long line;
	char reason[512];
	char raw[2048];
} reject;

/* Parse a rejects file (line,reason,raw) with the project's CSV reader.
 * Returns the number of entries (at most cap) after checking the header. */
static size_t read_rejects(const char *path, reject *out, size_t cap)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "no rejects file at %s", path);
	sx_csv *c = sx_csv_open_file(f);
	sx_csv_row row;
	size_t n = 0;
	int rc = sx_csv_next(c, &row);

	cr_assert_eq(rc, 1, "rejects file is empty");
	cr_assert_eq(row.nfields, 3);
	cr_assert(row.len[0] == 4 && !memcmp(row.field[0], "line", 4) &&
	          row.len[1] == 6 && !memcmp(row.field[1], "reason", 6) &&
	          row.len[2] == 3 && !memcmp(row.field[2], "raw", 3),
	          "rejects header is not line,reason,raw");
	while ((rc = sx_csv_next(c, &row)) == 1) {
		cr_assert_null(row.error, "rejects file line %llu is malformed: %s",
		               (unsigned long long)row.line, row.error);
		cr_assert_eq(row.nfields, 3, "rejects entry with %zu fields",
		             row.nfields);
		cr_assert_lt(n, cap);
		char num[32];
		snprintf(num, sizeof num, "%.*s", (int)row.len[0], row.field[0]);
		out[n].line = strtoull(num, NULL, 10);
		snprintf(out[n].reason, sizeof out[n].reason, "%.*s",
		         (int)row.len[1], row.field[1]);
		snprintf(out[n].raw, sizeof out[n].raw, "%.*s", (int)row.len[2],
		         row.field[2]);
		n++;
	}
	cr_assert_eq(rc, 0);
	sx_csv_close(c);
	fclose(f);
	return n;
}

static const reject *find_line(const reject *r, size_t n, unsigned long long line)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].line == line)
			return &r[i];
	return NULL;
}

static sx_snap *open_out(const tu_build *b)
{
	sx_snap *s = NULL;
	char why[512];
	cr_assert_eq(sx_snap_open(b->out, &s, why, sizeof why), 0, "%s", why);
	return s;
}

static void build_ok(tu_build *b, const char *name, const char *list,
                     const char *permits)
{
	int rc = tu_build_csv(b, tu_dir, name, list, permits, 1000);
	cr_assert_eq(rc, 0, "build %s: %d %s", name, rc, b->why);
}

/* ---- format ---------------------------------------------------------------------- */

Test(format, bom_crlf_and_blank_lines_are_plain_csv)
{
	tu_build b;
	build_ok(&b, "crlf",
	         "\xEF\xBB\xBF" "case_no,court,list,role,id_type,id_no,name,status,listed_on\r\n"
	         "（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10\r\n"
	         "\r\n\n"    /* blank lines: skipped, but they are lines */
	         "（2024）闽0102执2号," FZ ",SX,debtor,RIC,12345,乙,active,2025-01-10\r\n"
	         "（2024）闽0102执3号," FZ ",SX,debtor,RIC," P2 ",丙,active,2025-01-10\r\n",
	         NULL);
	cr_assert_eq(b.rep.rows, 3);
	cr_assert_eq(b.rep.loaded, 2);
	cr_assert_eq(b.rep.rejected, 1);
	sx_snap *s = open_out(&b);
	/* no BOM in the first column's values, no CR in the last */
	TU_CHECK(s, P1 " air" AT, "DENY LISTED （2024）闽0102执1号|" FZ "|debtor|SX");
	TU_CHECK(s, P2 " air" AT, "DENY LISTED （2024）闽0102执3号|" FZ "|debtor|SX");
	sx_snap_close(s);
	reject r[8];
	size_t n = read_rejects(b.rejects, r, 8);
	cr_assert_eq(n, 1);
	cr_assert_eq(r[0].line, 5);
	cr_assert_str_eq(r[0].raw, "（2024）闽0102执2号," FZ ",SX,debtor,RIC,12345,乙,active,2025-01-10");
}

Test(format, quoted_fields_keep_commas_quotes_and_line_breaks)
{
	tu_build b;
	int rc = tu_build_csv(&b, tu_dir, "quoted",
		HDR
		"（2024）闽0102执1号,\"福州市鼓楼区人民法院,执行局\",SX,debtor,RIC," P1 ",\"甲,\"\"某\"\"\n第二行\",active,2025-01-10,,,\n"
		"\"（2024）闽0102执2号\",\"" FZ "\",\"SX\",\"debtor\",\"RIC\",\"" P2 "\",\"乙\",\"active\",\"2025-01-10\",\"\",\"AIR;\nRAIL\",\"\"\n"
		"（2024）闽0102执3号," FZ ",SX,debtor,RIC,bad,丙,active,2025-01-10,,,\n"
		"（2024）闽0102执4号," FZ ",SX,debtor,RIC," P3 ",\"丁\r\n\",active,2025-01-10,,\"AIR\",\n"
		"（2024）闽0102执5号," FZ ",SX,debtor,RIC,also-bad,戊,active,2025-01-10,,,\n",
		NULL, 10);
	cr_assert_eq(rc, 0, "%s", b.why);
	cr_assert_eq(b.rep.rows, 5);
	cr_assert_eq(b.rep.loaded, 2, "rows 1 and 4 load");
	sx_snap *s = open_out(&b);
	TU_CHECK(s, P1 " air" AT,
	         "DENY LISTED （2024）闽0102执1号|福州市鼓楼区人民法院,执行局|debtor|SX");
	TU_CHECK(s, P3 " air" AT, "DENY LISTED （2024）闽0102执4号|" FZ "|debtor|SX");
	sx_snap_close(s);
	/* "AIR;\nRAIL" is an unknown code: the line break is inside the code */
	reject r[8];
	size_t n = read_rejects(b.rejects, r, 8);
	cr_assert_eq(n, 3, "rows 2, 3 and 5");
	/* physical lines: header 1, row 1 is 2-3, row 2 is 4-5, row 3 is 6,
	 * row 4 is 7-8, row 5 is 9 */
	cr_assert_eq(r[0].line, 4);
	cr_assert_eq(r[1].line, 6);
	cr_assert_eq(r[2].line, 9, "a CRLF inside quotes is one line break");
	cr_assert_str_eq(r[0].raw,
		"\"（2024）闽0102执2号\",\"" FZ "\",\"SX\",\"debtor\",\"RIC\",\"" P2
		"\",\"乙\",\"active\",\"2025-01-10\",\"\",\"AIR;\nRAIL\",\"\"");
	cr_assert_str_eq(r[2].raw, "（2024）闽0102执5号," FZ ",SX,debtor,RIC,also-bad,戊,active,2025-01-10,,,");
}

/* ---- columns ------------------------------------------------------------------------ */

Test(columns, any_order_unknown_columns_ignored_values_case_insensitive)
{
	tu_build b;
	build_ok(&b, "order",
		"remark,region,restrictions,expires_on,listed_on,status,name,id_no,id_type,role,list,court,case_no,extra\n"
		"x,350102,air;Rail,,2025-01-10,Active,甲," P1 ",ric,DEBTOR,xg," FZ ",（2024）闽0102执1号,y\n"
		"x,,,2025-12-31,2025-01-10,SUSPENDED,乙," P2 ",RIC,Legal_Rep,Sx," FZ ",（2024）闽0102执2号,\n",
		NULL);
	cr_assert_eq(b.rep.rejected, 0);
	cr_assert_eq(b.rep.loaded, 2);
	sx_snap *s = open_out(&b);
	TU_CHECK(s, P1 " air" AT, "DENY LISTED （2024）闽0102执1号|" FZ "|debtor|XG");
	TU_CHECK(s, P1 " rail G1:first" AT, "DENY LISTED （2024）闽0102执1号|" FZ "|debtor|XG");
	TU_CHECK(s, P1 " hotel 5" AT, "ALLOW NOT_RESTRICTED");
	TU_CHECK(s, P2 " air AT 2025-12-31", "ALLOW SUSPENDED");
	TU_CHECK(s, P2 " air AT 2026-01-01", "ALLOW NOT_LISTED");
	sx_snap_close(s);
}

Test(columns, optional_columns_may_be_absent)
{
	tu_build b;
	build_ok(&b, "minimal",
		"case_no,court,list,role,id_type,id_no,name,status,listed_on\n"
		"（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10\n",
		NULL);
	sx_snap *s = open_out(&b);
	/* no restrictions column: every code; no expires_on: no end */
	TU_CHECK(s, P1 " office AT 2148-12-31", "DENY LISTED （2024）闽0102执1号|" FZ "|debtor|SX");
	sx_snap_close(s);
}

Test(columns, a_missing_required_column_fails_naming_it_and_keeps_the_old_snapshot)
{
	static const char *const cols[] = {
		"case_no", "court", "list", "role", "id_type", "id_no", "name",
		"status", "listed_on",
	};
	static const char *const vals[] = {
		"（2024）闽0102执1号", FZ, "SX", "debtor", "RIC", P1, "甲", "active",
		"2025-01-10",
	};
	tu_build b;
	char list[2048];
	size_t oldlen, newlen;

	/* an older snapshot at the output path */
	build_ok(&b, "req",
	         HDR "（2024）闽0102执9号," FZ ",SX,debtor,RIC," P2 ",乙,active,2025-01-10,,,\n",
	         NULL);
	char *old = tu_read(b.out, &oldlen);
	cr_assert_not_null(old);

	for (size_t miss = 0; miss < SX_ARRAY_LEN(cols); miss++) {
		size_t o = 0;
		for (int pass = 0; pass < 2; pass++) {   /* header, then the row */
			int first = 1;
			for (size_t i = 0; i < SX_ARRAY_LEN(cols); i++) {
				if (i == miss)
					continue;
				o += (size_t)snprintf(list + o, sizeof list - o, "%s%s",
				                      first ? "" : ",",
				                      pass ? vals[i] : cols[i]);
				first = 0;
			}
			o += (size_t)snprintf(list + o, sizeof list - o, "\n");
		}
		int rc = tu_build_csv(&b, tu_dir, "req", list, NULL, 1000);
		cr_assert_neq(rc, 0, "built without column %s", cols[miss]);
		char want[64];
		snprintf(want, sizeof want, "'%s'", cols[miss]);
		cr_assert_not_null(strstr(b.why, want), "missing %s: message '%s' "
		                   "does not name it", cols[miss], b.why);
		cr_assert_not_null(strstr(b.why, "missing"), "%s", b.why);
		char *now = tu_read(b.out, &newlen);
		cr_assert_not_null(now, "the old snapshot is gone");
		cr_assert(newlen == oldlen && !memcmp(now, old, oldlen),
		          "missing %s: the old snapshot changed", cols[miss]);
		free(now);
	}
	cr_assert_eq(tu_count_named(tu_dir, ".tmp."), 0);
	free(old);
}

Test(columns, a_header_naming_a_column_twice_fails)
{
	tu_build b;
	int rc = tu_build_csv(&b, tu_dir, "twice",
		"case_no,court,list,role,id_type,id_no,name,status,listed_on,court\n"
		"（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10," FZ "\n",
		NULL, 1000);
	cr_assert_neq(rc, 0);
	/* STYLE: a message says what was wrong and where, the value included */
	cr_assert_not_null(strstr(b.why, "'court'"), "the message does not name "
	                   "the repeated column: %s", b.why);
	cr_assert(!tu_exists(b.out), "a snapshot was written");
}

Test(columns, an_empty_or_absent_input_fails_and_says_why)
{
	tu_build b;
	int rc = tu_build_csv(&b, tu_dir, "empty", "", NULL, 1000);
	cr_assert_neq(rc, 0);
	cr_assert_neq(b.why[0], 0);
	cr_assert(!tu_exists(b.out));

	sx_build_opts o = b.o;
	char path[PATH_MAX + 32], why[1024] = "";
	sx_build_report rep;
	o.input = tu_path(path, sizeof path, tu_dir, "no-such-list.csv");
	rc = sx_build(&o, &rep, why, sizeof why);
	cr_assert_neq(rc, 0);
	cr_assert_not_null(strstr(why, "no-such-list.csv"), "%s", why);
}

/* An output named as an input would truncate it (the rejects file) or be
 * renamed over it (the snapshot): refused, the list left whole. */
Test(columns, an_output_that_is_an_input_is_refused_and_the_input_kept)
{
	tu_build b;
	const char *list = "case_no,court,list,role,id_type,id_no,name,status,listed_on\n"
	                   "c1,court,SX,debtor,RIC,350304197806263293,n,active,2025-01-10\n";
	cr_assert_eq(tu_build_csv(&b, tu_dir, "same", list, NULL, 1000), 0, "%s", b.why);
	sx_build_opts o = b.o;
	char why[1024] = "";
	sx_build_report rep;
	o.output = o.input;
	cr_assert_eq(sx_build(&o, &rep, why, sizeof why), SX_EINVAL);
	cr_assert_not_null(strstr(why, "--output") && strstr(why, "is the input") ? why : NULL,
	                   "%s", why);
	o = b.o;
	o.rejects = o.input;
	cr_assert_eq(sx_build(&o, &rep, why, sizeof why), SX_EINVAL);
	cr_assert_not_null(strstr(why, "the rejects file") ? why : NULL, "%s", why);
	o = b.o;
	o.rejects = o.output;
	cr_assert_eq(sx_build(&o, &rep, why, sizeof why), SX_EINVAL);
	cr_assert_not_null(strstr(why, "is --output") ? why : NULL, "%s", why);
	size_t n;
	char *kept = tu_read(b.o.input, &n);
	cr_assert_str_eq(kept, list);
	free(kept);
}

/* ---- rejects ---------------------------------------------------------------------------- */

Test(rejects, every_reason_lands_at_its_physical_line_with_the_raw_record)
{
	static const struct { unsigned line; const char *why; const char *raw; } want[] = {
		{ 5, "missing court",
		  "（2024）闽0102执2号,,SX,debtor,RIC," P2 ",乙,active,2025-01-10,,," },
		{ 6, "list",
		  "（2024）闽0102执3号," FZ ",ZX,debtor,RIC," P2 ",乙,active,2025-01-10,,," },
		{ 7, "role",
		  "（2024）闽0102执4号," FZ ",SX,boss,RIC," P2 ",乙,active,2025-01-10,,," },
		{ 8, "id_type",
		  "（2024）闽0102执5号," FZ ",SX,debtor,DL," P2 ",乙,active,2025-01-10,,," },
		{ 9, "status",
		  "（2024）闽0102执6号," FZ ",SX,debtor,RIC," P2 ",乙,closed,2025-01-10,,," },
		{ 10, "BOAT",
		  "（2024）闽0102执7号," FZ ",SX,debtor,RIC," P2 ",乙,active,2025-01-10,,AIR;BOAT," },
		{ 11, "listed_on",
		  "（2024）闽0102执8号," FZ ",SX,debtor,RIC," P2 ",乙,active,2025-02-30,,," },
		{ 12, "expires_on",
		  "（2024）闽0102执9号," FZ ",SX,debtor,RIC," P2 ",乙,active,2025-01-10,2025-13-01,," },
		{ 13, "before",
		  "（2024）闽0102执10号," FZ ",SX,debtor,RIC," P2 ",乙,active,2025-01-10,2025-01-09,," },
		{ 14, "id_no",
		  "（2024）闽0102执11号," FZ ",SX,debtor,RIC,11010119800101100,乙,active,2025-01-10,,," },
		{ 15, "date",
		  "（2024）闽0102执12号," FZ ",SX,debtor,RIC,110101198002301005,乙,active,2025-01-10,,," },
		{ 16, "case_no",
		  "（2024）闽0102执13|号," FZ ",SX,debtor,RIC," P2 ",乙,active,2025-01-10,,," },
		{ 17, "court",
		  "（2024）闽0102执14号,\"福州市\n鼓楼区人民法院\",SX,debtor,RIC," P2 ",乙,active,2025-01-10,,," },
		{ 19, "court",
		  "（2024）闽0102执15号,福州市|鼓楼区,SX,debtor,RIC," P2 ",乙,active,2025-01-10,,," },
		{ 20, "region",
		  "（2024）闽0102执16号," FZ ",SX,debtor,RIC," P2 ",乙,active,2025-01-10,,,35010" },
		{ 21, "missing listed_on",
		  "（2024）闽0102执17号," FZ ",SX,debtor,RIC," P2 ",乙,active,,,," },
		{ 22, "quote",
		  "（2024）闽0102执18号,court\"x\",SX,debtor,RIC," P2 ",乙,active,2025-01-10,,," },
		{ 23, "missing",
		  "（2024）闽0102执19号," FZ ",SX" },
		{ 24, "id_no",
		  "（2024）闽0102执20号," FZ ",SX,debtor,PASSPORT,AB1,乙,active,2025-01-10,,," },
		{ 25, "id_no",
		  "（2024）闽0102执21号," FZ ",SX,debtor,USCC,91350200123456788,乙,active,2025-01-10,,," },
	};
	char list[16384];
	size_t o = (size_t)snprintf(list, sizeof list, "%s%s", HDR,
		"（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2024）闽0102执1号," FZ ",SX,legal_rep,RIC," P3 ",\"丙\n(又名 丙丙)\",active,2025-01-10,,,\n");
	for (size_t i = 0; i < SX_ARRAY_LEN(want); i++)
		o += (size_t)snprintf(list + o, sizeof list - o, "%s\n", want[i].raw);
	o += (size_t)snprintf(list + o, sizeof list - o,
		"（2024）闽0102执99号," FZ ",SX,debtor,RIC," P4 ",丁,active,2025-01-10,,,\n");
	cr_assert_lt(o, sizeof list);

	tu_build b;
	int rc = tu_build_csv(&b, tu_dir, "reasons", list, NULL, 1000);
	cr_assert_eq(rc, 0, "%s", b.why);
	cr_assert_eq(b.rep.rows, 3 + SX_ARRAY_LEN(want));
	cr_assert_eq(b.rep.loaded, 3);
	cr_assert_eq(b.rep.rejected, SX_ARRAY_LEN(want));
	cr_assert_eq(b.rep.warned, 0);

	reject r[64];
	size_t n = read_rejects(b.rejects, r, 64);
	cr_assert_eq(n, SX_ARRAY_LEN(want), "%zu entries in the rejects file", n);
	for (size_t i = 0; i < SX_ARRAY_LEN(want); i++) {
		const reject *e = find_line(r, n, want[i].line);
		cr_assert_not_null(e, "no reject at line %u (%s)", want[i].line,
		                   want[i].why);
		cr_assert_not_null(strstr(e->reason, want[i].why),
		                   "line %u: reason '%s' does not mention '%s'",
		                   want[i].line, e->reason, want[i].why);
		cr_assert_str_eq(e->raw, want[i].raw, "line %u: raw record",
		                 want[i].line);
		cr_assert_null(strstr(e->reason, "warning"), "line %u", want[i].line);
	}
	/* the good rows around them loaded */
	sx_snap *s = open_out(&b);
	TU_CHECK(s, P3 " air" AT, "DENY LISTED （2024）闽0102执1号|" FZ "|legal_rep|SX");
	TU_CHECK(s, P4 " air" AT, "DENY LISTED （2024）闽0102执99号|" FZ "|debtor|SX");
	TU_CHECK(s, P2 " air" AT, "ALLOW NOT_LISTED");
	cr_assert_eq(sx_snap_get_info(s)->rows_rejected, SX_ARRAY_LEN(want));
	sx_snap_close(s);
}

Test(rejects, repeated_rows_load_once_with_a_warning_however_spelled)
{
	tu_build b;
	build_ok(&b, "dups",
		HDR
		"（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"   /* 2 */
		"（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"   /* 3: same */
		"(2024)闽0102执1号," FZ ",sx,DEBTOR,ric,１１０１０１１９８００１０１１００５,甲,active,2025-01-10,,,\n" /* 4 */
		"（2024）闽0102执1号," FZ ",SX,legal_rep,RIC," P1 ",甲,active,2025-01-10,,,\n"  /* 5: other role */
		"（2024）闽0102执2号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"   /* 6: other case */
		"（2025）闽0203执1002号," FZ ",SX,debtor,RIC,350203620915548,李某,active,2025-01-10,,,\n" /* 7 */
		"（2025）闽0203执1002号," FZ ",SX,debtor,RIC,350203196209155482,李某,active,2025-01-10,,,\n" /* 8: its 18 digits */
		"（2024）闽0102执3号," FZ ",SX,debtor,PASSPORT,E1234567,丙,active,2025-01-10,,,\n"   /* 9 */
		"（2024）闽0102执3号," FZ ",SX,debtor,HKMO,E1234567,丙,active,2025-01-10,,,\n",      /* 10: other type */
		NULL);
	cr_assert_eq(b.rep.rows, 9);
	cr_assert_eq(b.rep.loaded, 6);
	cr_assert_eq(b.rep.duplicates, 3);
	cr_assert_eq(b.rep.warned, 3);
	cr_assert_eq(b.rep.rejected, 0);
	reject r[16];
	size_t n = read_rejects(b.rejects, r, 16);
	cr_assert_eq(n, 3);
	cr_assert_eq(r[0].line, 3);
	cr_assert_eq(r[1].line, 4);
	cr_assert_eq(r[2].line, 8);
	for (size_t i = 0; i < n; i++)
		cr_assert_not_null(strstr(r[i].reason, "warning"), "%s", r[i].reason);
	cr_assert_str_eq(r[1].raw, "(2024)闽0102执1号," FZ ",sx,DEBTOR,ric,１１０１０１１９８００１０１１００５,甲,active,2025-01-10,,,");
	sx_snap *s = open_out(&b);
	cr_assert_eq(sx_snap_get_info(s)->records, 6);
	cr_assert_eq(sx_snap_get_info(s)->duplicates, 3);
	TU_CHECK(s, P1 " air" AT,
	         "DENY LISTED （2024）闽0102执1号|" FZ "|debtor|SX "
	         "（2024）闽0102执1号|" FZ "|legal_rep|SX "
	         "（2024）闽0102执2号|" FZ "|debtor|SX");
	TU_CHECK(s, "350203196209155482 air" AT,
	         "DENY LISTED （2025）闽0203执1002号|" FZ "|debtor|SX");
	sx_snap_close(s);
}

Test(rejects, check_character_failures_load_with_a_warning)
{
	tu_build b;
	build_ok(&b, "checks",
		HDR
		"（2024）闽0102执1号," FZ ",SX,debtor,RIC,110101198001011006,甲,active,2025-01-10,,,\n"
		"（2024）闽0102执2号," FZ ",SX,debtor,USCC,91350200123456788Y,乙公司,active,2025-01-10,,,\n"
		"（2024）闽0102执3号," FZ ",SX,debtor,ORG,AB1234CD8,丙公司,active,2025-01-10,,,\n"
		"（2024）闽0102执4号," FZ ",SX,debtor,RIC," P2 ",丁,active,2025-01-10,,,\n",
		NULL);
	cr_assert_eq(b.rep.loaded, 4);
	cr_assert_eq(b.rep.rejected, 0);
	cr_assert_eq(b.rep.check_warnings, 3);
	cr_assert_eq(b.rep.warned, 3);
	reject r[8];
	size_t n = read_rejects(b.rejects, r, 8);
	cr_assert_eq(n, 3);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(r[i].line, i + 2);
		cr_assert_not_null(strstr(r[i].reason, "warning"), "%s", r[i].reason);
		cr_assert_not_null(strstr(r[i].reason, "check"), "%s", r[i].reason);
	}
	sx_snap *s = open_out(&b);
	/* the RIC typo: the correct ID is refused nothing */
	TU_CHECK(s, P1 " air" AT, "DENY LISTED （2024）闽0102执1号|" FZ "|debtor|SX");
	/* USCC and ORG that fail only their check character match exactly */
	TU_CHECK(s, "91350200123456788Y air TYPE USCC" AT,
	         "DENY LISTED （2024）闽0102执2号|" FZ "|debtor|SX");
	TU_CHECK(s, USCC_B " air TYPE USCC" AT, "ALLOW NOT_LISTED");
	TU_CHECK(s, "AB1234CD8 air TYPE ORG" AT,
	         "DENY LISTED （2024）闽0102执3号|" FZ "|debtor|SX");
	TU_CHECK(s, "AB1234CD7 air TYPE ORG" AT, "ALLOW NOT_LISTED");
	sx_snap_close(s);
}

/* ---- --max-rejects ----------------------------------------------------------------------- */

/* A list of n data rows, nbad of them (spread out) rejected for an
 * unknown status. */
static char *list_with_rejects(size_t n, size_t nbad)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	tu_rng r = { 5 };
	fputs(HDR, f);
	for (size_t i = 0; i < n; i++) {
		char id[19];
		tu_gen_ric(&r, id);
		/* spread the bad rows out: every (n / nbad)-th */
		int bad = nbad && i % (n / nbad) == 0 && i / (n / nbad) < nbad;
		fprintf(f, "（2024）闽0102执%zu号," FZ ",SX,debtor,RIC,%s,某,%s,2025-01-10,,,\n",
		        i + 1, id, bad ? "closed" : "active");
	}
	fclose(f);
	return out;
}

/* Build over an existing snapshot at the same path; checks the outcome
 * and that a failed build leaves the old file byte-identical. */
static void build_over_old(size_t nrows, size_t nbad, int64_t max, int ok,
                           uint64_t want_max)
{
	tu_build b;
	char name[64];
	size_t oldlen, newlen;
	snprintf(name, sizeof name, "lim-%zu-%zu-%lld", nrows, nbad, (long long)max);
	build_ok(&b, name, HDR "（2024）闽0102执9号," FZ ",SX,debtor,RIC," P2 ",乙,active,2025-01-10,,,\n",
	         NULL);
	char *old = tu_read(b.out, &oldlen);
	char *list = list_with_rejects(nrows, nbad);
	int rc = tu_build_csv(&b, tu_dir, name, list, NULL, max);
	cr_assert_eq(b.rep.rejected, nbad);
	cr_assert_eq(b.rep.max_rejects, want_max, "%zu rows, max %lld: allowed "
	             "%llu, want %llu", nrows, (long long)max,
	             (unsigned long long)b.rep.max_rejects,
	             (unsigned long long)want_max);
	char *now = tu_read(b.out, &newlen);
	cr_assert_not_null(now);
	if (ok) {
		cr_assert_eq(rc, 0, "%zu rejects of %zu rows, max %lld: %s", nbad,
		             nrows, (long long)max, b.why);
		sx_snap *s = open_out(&b);
		cr_assert_eq(sx_snap_get_info(s)->records, nrows - nbad);
		sx_snap_close(s);
	} else {
		cr_assert_neq(rc, 0, "%zu rejects of %zu rows, max %lld: built",
		              nbad, nrows, (long long)max);
		cr_assert_not_null(strstr(b.why, "reject"), "%s", b.why);
		cr_assert(newlen == oldlen && !memcmp(now, old, oldlen),
		          "the failed build changed the old snapshot");
	}
	cr_assert_eq(tu_count_named(tu_dir, ".tmp."), 0);
	free(now);
	free(old);
	free(list);
}

Test(limits, default_max_rejects_is_a_thousandth_of_the_data_rows)
{
	build_over_old(2000, 0, -1, 1, 2);
	build_over_old(2000, 2, -1, 1, 2);
	build_over_old(2000, 3, -1, 0, 2);
	/* below 1000 rows the default allows none */
	build_over_old(999, 1, -1, 0, 0);
	build_over_old(999, 0, -1, 1, 0);
}

Test(limits, exactly_max_rejects_passes_and_one_more_fails)
{
	build_over_old(100, 5, 5, 1, 5);
	build_over_old(100, 6, 5, 0, 5);
	build_over_old(100, 1, 0, 0, 0);
	build_over_old(100, 0, 0, 1, 0);
}

Test(limits, a_failed_build_with_no_older_snapshot_writes_none)
{
	tu_build b;
	char *list = list_with_rejects(100, 1);
	int rc = tu_build_csv(&b, tu_dir, "none", list, NULL, 0);
	cr_assert_neq(rc, 0);
	cr_assert(!tu_exists(b.out), "a snapshot was written");
	/* the rejects file is still there to explain it */
	reject r[4];
	cr_assert_eq(read_rejects(b.rejects, r, 4), 1);
	free(list);
}

/* ---- meta ----------------------------------------------------------------------------------- */

Test(meta, as_of_is_recorded_and_absent_as_of_is_none)
{
	tu_build b;
	int64_t t, t2;
	const char *list = HDR "（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n";
	cr_assert_eq(sx_time_parse("2026-01-10T02:00:00", &t), 0);
	cr_assert_eq(sx_time_parse("2026-01-09T18:00:00Z", &t2), 0);
	cr_assert_eq(t, t2, "a time without an offset is UTC+8");

	build_ok(&b, "noasof", list, NULL);
	sx_snap *s = open_out(&b);
	cr_assert_eq(sx_snap_get_info(s)->as_of, SX_AS_OF_NONE);
	sx_snap_close(s);

	tu_write_str(b.list, list);
	b.o.as_of = t;
	cr_assert_eq(sx_build(&b.o, &b.rep, b.why, sizeof b.why), 0, "%s", b.why);
	s = open_out(&b);
	cr_assert_eq(sx_snap_get_info(s)->as_of, t);
	cr_assert_str_eq(sx_snap_get_info(s)->source, b.list);
	sx_snap_close(s);
}

Test(meta, report_and_snapshot_count_every_row)
{
	tu_build b;
	int rc = tu_build_csv(&b, tu_dir, "counts",
		HDR
		"（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n"
		"（2024）闽0102执2号," FZ ",SX,debtor,RIC," P2 ",乙,revoked,2025-01-10,,,\n"
		"（2024）闽0102执3号," FZ ",SX,debtor,RIC," P3 ",丙,shielded,2025-01-10,,,\n"
		"（2024）闽0102执4号," FZ ",SX,debtor,RIC," P4 ",丁,shielded,2025-01-10,,,\n"
		"（2024）闽0102执5号," FZ ",SX,debtor,RIC," P5 ",戊,suspended,2025-01-10,,,\n"
		"（2024）闽0102执5号," FZ ",SX,debtor,RIC," P5 ",戊,suspended,2025-01-10,,,\n"
		"（2024）闽0102执6号," FZ ",SX,debtor,RIC,110101198001011006,己,active,2025-01-10,,,\n"
		"（2024）闽0102执7号," FZ ",SX,debtor,RIC,bad,庚,active,2025-01-10,,,\n",
		NULL, 10);
	cr_assert_eq(rc, 0, "%s", b.why);
	cr_assert_eq(b.rep.rows, 8);
	cr_assert_eq(b.rep.loaded, 6);
	cr_assert_eq(b.rep.rejected, 1);
	cr_assert_eq(b.rep.warned, 2);
	cr_assert_eq(b.rep.duplicates, 1);
	cr_assert_eq(b.rep.check_warnings, 1);
	cr_assert_eq(b.rep.revoked, 1);
	cr_assert_eq(b.rep.shielded, 2);
	sx_snap *s = open_out(&b);
	const sx_snap_info *in = sx_snap_get_info(s);
	cr_assert_eq(in->rows_read, 8);
	cr_assert_eq(in->rows_loaded, 6);
	cr_assert_eq(in->rows_rejected, 1);
	cr_assert_eq(in->rows_warned, 2);
	cr_assert_eq(in->revoked, 1);
	cr_assert_eq(in->shielded, 2);
	cr_assert_eq(in->records, 6);
	sx_snap_close(s);

	/* the summary says the same */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	sx_build_summary(f, &b.o, &b.rep);
	fclose(f);
	cr_assert_not_null(strstr(text, "rows read        8"), "%s", text);
	cr_assert_not_null(strstr(text, "records loaded   6"), "%s", text);
	cr_assert_not_null(strstr(text, "rejected         1"), "%s", text);
	cr_assert_not_null(strstr(text, "revoked/shielded 1/2"), "%s", text);
	cr_assert_not_null(strstr(text, b.rejects), "%s", text);
	free(text);
}

Test(meta, rejects_file_defaults_to_output_dot_rejects_csv)
{
	tu_build b;
	build_ok(&b, "defrej", HDR "x,y,SX,debtor,RIC,bad,z,active,2025-01-10,,,\n", NULL);
	char want[sizeof b.out + 16];
	/* again, without naming a rejects file */
	b.o.rejects = NULL;
	cr_assert_eq(sx_build(&b.o, &b.rep, b.why, sizeof b.why), 0, "%s", b.why);
	snprintf(want, sizeof want, "%s.rejects.csv", b.out);
	cr_assert_str_eq(b.rep.rejects_path, want);
	reject r[4];
	cr_assert_eq(read_rejects(want, r, 4), 1);
}

Test(meta, an_operators_rule_table_is_stored_and_decides)
{
	static const char text[] =
		"# stricter hotels, laxer ships, hard sleepers on every train\n"
		"hotel 4 5\n"
		"ship special\n"
		"rail.other  soft_sleeper deluxe_soft_sleeper hard_sleeper\n";
	sx_rules rules, def, back;
	char why[256] = "";
	cr_assert_eq(sx_rules_parse(text, strlen(text), &rules, why, sizeof why),
	             0, "%s", why);
	sx_rules_default(&def);

	tu_build b;
	const char *list = HDR "（2024）闽0102执1号," FZ ",SX,debtor,RIC," P1 ",甲,active,2025-01-10,,,\n";
	build_ok(&b, "rules", list, NULL);
	sx_snap *s = open_out(&b);
	cr_assert_eq(memcmp(sx_snap_rules(s), &def, sizeof def), 0,
	             "no table given: the default is stored");
	sx_snap_close(s);

	b.o.rules = &rules;
	cr_assert_eq(sx_build(&b.o, &b.rep, b.why, sizeof b.why), 0, "%s", b.why);
	s = open_out(&b);
	const sx_rules *got = sx_snap_rules(s);
	cr_assert_eq(memcmp(got, &rules, sizeof rules), 0, "the table is stored");
	const char *deny = "DENY LISTED （2024）闽0102执1号|" FZ "|debtor|SX";
	TU_CHECK(s, P1 " hotel 3" AT, "ALLOW NOT_RESTRICTED");
	TU_CHECK(s, P1 " hotel 4" AT, deny);
	TU_CHECK(s, P1 " ship first" AT, "ALLOW NOT_RESTRICTED");
	TU_CHECK(s, P1 " ship special" AT, deny);
	TU_CHECK(s, P1 " rail K1:hard_sleeper" AT, deny);
	/* rules not given keep the default */
	TU_CHECK(s, P1 " rail G1:second" AT, deny);
	TU_CHECK(s, P1 " rail D1:first" AT, deny);
	TU_CHECK(s, P1 " rail D1:second" AT, "ALLOW NOT_RESTRICTED");
	sx_snap_close(s);

	/* the written form reads back as the same table */
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	sx_rules_write(&rules, f);
	fclose(f);
	cr_assert_eq(sx_rules_parse(out, len, &back, why, sizeof why), 0, "%s", why);
	cr_assert_eq(memcmp(&back, &rules, sizeof rules), 0, "%s", out);
	free(out);
	/* a bad table names its line */
	cr_assert_eq(sx_rules_parse("hotel 1\nbus 1\n", 14, &back, why, sizeof why), -1);
	cr_assert_not_null(strstr(why, "line 2"), "%s", why);
	cr_assert_eq(sx_rules_parse("ship fifth\n", 11, &back, why, sizeof why), -1);
	cr_assert_not_null(strstr(why, "line 1"), "%s", why);
}

/* ---- permits -------------------------------------------------------------------------------- */

Test(permits, bad_permit_rows_are_rejected_like_list_rows)
{
	tu_build b;
	int rc = tu_build_csv(&b, tu_dir, "permits",
		HDR
		"（2021）闽0102执1010号," FZ ",SX,debtor,RIC," P1 ",陈某,active,2025-01-10,,,\n"
		"（2021）闽0102执1011号," FZ ",SX,debtor,RIC," P2 ",林某,active,2025-01-10,,,\n",
		PHDR
		"RIC," P1 ",(2021)闽0102执1010号,AIR,2026-01-05,2026-01-20,准许-1\n"     /* 2 ok */
		"RIC," P2 ",（2021）闽0102执1011号,BOAT,2026-01-05,2026-01-20,准许-2\n"  /* 3 */
		"RIC," P2 ",（2021）闽0102执1011号,,2026-01-05,2026-01-20,准许-3\n"      /* 4 */
		"RIC," P2 ",（2021）闽0102执1011号,AIR,2026-01-21,2026-01-20,准许-4\n"   /* 5 */
		"RIC," P2 ",（2021）闽0102执1011号,AIR,2026-02-30,2026-03-20,准许-5\n"   /* 6 */
		"RIC,110101198001011,（2021）闽0102执1011号,AIR,2026-01-05,2026-01-20,准许-6\n" /* 7 */
		"DL," P2 ",（2021）闽0102执1011号,AIR,2026-01-05,2026-01-20,准许-7\n"    /* 8 */
		"RIC," P2 ",（2021）闽0102执1011|号,AIR,2026-01-05,2026-01-20,准许-8\n"  /* 9 */
		"RIC," P2 ",（2021）闽0102执1011号,AIR,2026-01-05,2026-01-20,\n"         /* 10 */
		"RIC," P2 ",（2021）闽0102执9999号,AIR,2026-01-05,2026-01-20,准许-9\n",  /* 11 warn */
		10);
	cr_assert_eq(rc, 0, "%s", b.why);
	cr_assert_eq(b.rep.permit_rows, 10);
	cr_assert_eq(b.rep.permits_loaded, 2);
	cr_assert_eq(b.rep.rejected, 8);
	cr_assert_eq(b.rep.warned, 1);
	reject r[16];
	size_t n = read_rejects(b.rejects, r, 16);
	cr_assert_eq(n, 9);
	static const struct { unsigned line; const char *why; } want[] = {
		{ 3, "BOAT" }, { 4, "codes" }, { 5, "valid_to" }, { 6, "valid_from" },
		{ 7, "id_no" }, { 8, "id_type" }, { 9, "case_no" },
		{ 10, "permit_ref" }, { 11, "warning" },
	};
	for (size_t i = 0; i < SX_ARRAY_LEN(want); i++) {
		const reject *e = find_line(r, n, want[i].line);
		cr_assert_not_null(e, "no entry for permits line %u", want[i].line);
		cr_assert_not_null(strstr(e->reason, want[i].why),
		                   "permits line %u: '%s' lacks '%s'", want[i].line,
		                   e->reason, want[i].why);
		cr_assert_not_null(strstr(e->reason, "permits.csv"),
		                   "permits line %u: '%s' does not name the permits "
		                   "file", want[i].line, e->reason);
	}
	cr_assert_str_eq(find_line(r, n, 3)->raw,
	                 "RIC," P2 ",（2021）闽0102执1011号,BOAT,2026-01-05,2026-01-20,准许-2");
	sx_snap *s = open_out(&b);
	cr_assert_eq(sx_snap_get_info(s)->permits, 2);
	TU_CHECK(s, P1 " air" AT, "ALLOW EXEMPT");
	TU_CHECK(s, P2 " air" AT, "DENY LISTED （2021）闽0102执1011号|" FZ "|debtor|SX");
	sx_snap_close(s);
}

Test(permits, a_permits_file_missing_a_column_fails_the_build)
{
	tu_build b;
	int rc = tu_build_csv(&b, tu_dir, "pcol",
		HDR "（2021）闽0102执1010号," FZ ",SX,debtor,RIC," P1 ",陈某,active,2025-01-10,,,\n",
		"id_type,id_no,case_no,codes,valid_from,permit_ref\n"
		"RIC," P1 ",（2021）闽0102执1010号,AIR,2026-01-05,准许-1\n", 10);
	cr_assert_neq(rc, 0);
	cr_assert_not_null(strstr(b.why, "valid_to"), "%s", b.why);
	cr_assert(!tu_exists(b.out));
}

/* ---- batches ------------------------------------------------------------------- */

/*
 * The loader reads on one thread and loads on another, in batches of 256
 * rows (loader/build.c).  A list of 3001 rows whose cases run in threes
 * (so runs cross batch boundaries), every 7th spelled with half-width
 * brackets (same case, its own spelling), every 97th rejected and every
 * 101st repeating the row 100 lines up: counts, the rejects file in line
 * order, and every loaded row's record (its spelling, its case) must come
 * out as if read one row at a time.
 */
TestSuite(batches, .init = tu_setup, .fini = tu_teardown);

#define NB_ROWS 3001

Test(batches, rows_across_many_batches_keep_order_cases_and_repeats)
{
	enum { OK, REJECT, REPEAT };
	static char line[NB_ROWS][256];
	static int kind[NB_ROWS];
	size_t cap = 300 * NB_ROWS, len = 0;
	char *list = malloc(cap);
	int nrej = 0, nrep = 0;
	cr_assert_not_null(list);
	len += (size_t)snprintf(list, cap, "%s", HDR);
	for (int i = 0; i < NB_ROWS; i++) {
		char id[19];
		tu_ric((uint64_t)i, id);
		if (i >= 100 && i % 101 == 0 && kind[i - 100] == OK) {
			memcpy(line[i], line[i - 100], sizeof line[i]);
			kind[i] = REPEAT;
			nrep++;
		} else {
			int half = i % 7 == 0;
			snprintf(line[i], sizeof line[i],
			         "%s2024%s闽0102执%d号," FZ ",SX,debtor,RIC,%s,某,%s,"
			         "2025-01-10,,,\n", half ? "(" : "（", half ? ")" : "）",
			         i / 3, id, i % 97 == 0 ? "closed" : "active");
			kind[i] = i % 97 == 0 ? REJECT : OK;
			nrej += kind[i] == REJECT;
		}
		len += (size_t)snprintf(list + len, cap - len, "%s", line[i]);
	}
	tu_build b;
	build_ok(&b, "batches", list, NULL);
	free(list);
	cr_assert_eq(b.rep.rows, NB_ROWS);
	cr_assert_eq(b.rep.rejected, (uint64_t)nrej);
	cr_assert_eq(b.rep.duplicates, (uint64_t)nrep);
	cr_assert_eq(b.rep.loaded, (uint64_t)(NB_ROWS - nrej - nrep));

	static reject r[NB_ROWS];
	size_t n = read_rejects(b.rejects, r, NB_ROWS), k = 0;
	cr_assert_eq(n, (size_t)(nrej + nrep));
	for (int i = 0; i < NB_ROWS; i++) {
		if (kind[i] == OK)
			continue;
		cr_assert_eq(r[k].line, (unsigned long long)i + 2,
		             "rejects entry %zu is line %llu, not %d", k, r[k].line, i + 2);
		cr_assert_eq(strstr(r[k].reason, "repeats an earlier row") != NULL,
		             kind[i] == REPEAT, "line %d: %s", i + 2, r[k].reason);
		k++;
	}

	sx_snap *s = open_out(&b);
	uint32_t case_of_run[NB_ROWS / 3 + 1];
	for (int i = 0; i < NB_ROWS; i++) {
		if (kind[i] != OK)
			continue;
		char id[19];
		tu_ric((uint64_t)i, id);
		sx_id q;
		const char *why;
		cr_assert_eq(sx_id_parse(SX_IDT_RIC, id, 18, SX_SIDE_QUERY, &q, &why), 0);
		int64_t kn = sx_snap_find(s, &q.key[0]);
		cr_assert_geq(kn, 0, "row %d (line %d) is not in the index", i, i + 2);
		uint32_t nr;
		const uint32_t *recs = sx_snap_key_records(s, (uint32_t)kn, &nr);
		cr_assert_eq(nr, 1, "row %d: %u records", i, nr);
		sx_recview v;
		sx_snap_record(s, recs[0], &v);
		const char *comma = strchr(line[i], ',');
		cr_assert(v.case_len == (uint32_t)(comma - line[i]) &&
		          memcmp(v.case_no, line[i], v.case_len) == 0,
		          "row %d: case spelled %.*s", i, (int)v.case_len, v.case_no);
		int run = i / 3;
		if (i % 3 == 0 || kind[i - i % 3] != OK)
			case_of_run[run] = v.case_id;   /* first loaded row of the run */
		cr_assert_eq(v.case_id, case_of_run[run], "row %d: case id %u, its "
		             "run's %u", i, v.case_id, case_of_run[run]);
		if (run > 0)
			cr_assert_neq(v.case_id, case_of_run[run - 1]);
	}
	sx_snap_close(s);
}
