/*
 * test_sample.c - the contract's own worked example: ../shared/data next to
 * the repository holds a sample list, a permits file, sample-queries.tsv
 * (the consumption channels) and sample-queries-joint.tsv (the
 * joint-punishment measures), whose every line is a CHECK command and the
 * answer SPEC demands.  The list must load with no rejects, and every line must
 * get its answer through the engine API (the same parser and decision the
 * server and the offline CLI use).
 *
 * The TSV: '#' lines are comments; otherwise the CHECK arguments
 * (space-separated: ID CHANNEL [CLASS] [TYPE t] [AT day]), a tab, then the
 * reply's elements tab-separated: decision, reason and the case number of
 * each denying record, or "ERR" and the error's first words.  Case numbers
 * are compared after folding half-width brackets to full-width, as the
 * file's header says.  The test counts the lines it checked, so a parser
 * that silently skipped lines could not pass; when the data directory is
 * missing the tests are skipped, saying so.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "decide.h"
#include "snapshot.h"
#include "snapwrite.h"
#include "testutil.h"

TestSuite(sample, .init = tu_setup, .fini = tu_teardown);

/* Build the sample into tu_dir; skips the test when the data is absent. */
static sx_snap *build_sample(sx_build_report *rep)
{
	char list[PATH_MAX + 64], permits[PATH_MAX + 64], out[PATH_MAX + 64];
	char rej[PATH_MAX + 64], why[1024] = "";

	/* (a skipped test does not reach .fini: clean up before skipping) */
	if (!tu_repo_root()) {
		tu_teardown();
		cr_skip_test("cannot find the repository root (no Makefile above "
		             "the test binary or the working directory)");
	}
	if (!tu_data_path("sample-list.csv", list, sizeof list) ||
	    !tu_data_path("sample-permits.csv", permits, sizeof permits)) {
		tu_teardown();
		cr_skip_test("sample data not found in %s/../shared/data: nothing "
		             "to check", tu_repo_root());
	}
	sx_build_opts o = {
		.input = list, .permits = permits,
		.output = tu_path(out, sizeof out, tu_dir, "sample.snap"),
		.rejects = tu_path(rej, sizeof rej, tu_dir, "sample.rejects.csv"),
		.as_of = SX_AS_OF_NONE, .max_rejects = -1, .threads = 2,
	};
	int rc = sx_build(&o, rep, why, sizeof why);
	if (rc || rep->rejected) {
		char *text = tu_read(rej, NULL);
		cr_assert_fail("the sample did not load cleanly (rc %d, %llu "
		               "rejected): %s\n%s", rc,
		               (unsigned long long)rep->rejected, why,
		               text ? text : "");
	}
	sx_snap *s = NULL;
	cr_assert_eq(sx_snap_open(out, &s, why, sizeof why), 0, "%s", why);
	return s;
}

/* Data lines of a CSV without quoted line breaks: lines after the header. */
static uint64_t data_lines(const char *name)
{
	char path[PATH_MAX + 64];
	uint64_t n = 0;
	cr_assert_not_null(tu_data_path(name, path, sizeof path));
	char *text = tu_read(path, NULL);
	for (char *save = NULL, *l = strtok_r(text, "\r\n", &save); l;
	     l = strtok_r(NULL, "\r\n", &save))
		n++;
	free(text);
	return n ? n - 1 : 0;
}

Test(sample, the_sample_list_and_permits_load_with_zero_rejects)
{
	sx_build_report rep;
	sx_snap *s = build_sample(&rep);
	uint64_t rows = data_lines("sample-list.csv");
	uint64_t prows = data_lines("sample-permits.csv");

	cr_assert_eq(rep.rejected, 0);
	cr_assert_eq(rep.rows, rows, "read %llu of %llu rows",
	             (unsigned long long)rep.rows, (unsigned long long)rows);
	cr_assert_eq(rep.loaded + rep.duplicates, rows);
	cr_assert_eq(rep.permit_rows, prows);
	cr_assert_eq(rep.permits_loaded, prows);
	cr_assert_eq(sx_snap_get_info(s)->records, rep.loaded);
	cr_assert_eq(sx_snap_get_info(s)->permits, prows);
	sx_snap_close(s);
}

/* Fold half-width brackets to full-width: into buf, NUL-terminated. */
static const char *fold(const char *s, size_t n, char *buf, size_t cap)
{
	size_t l = sx_case_fold(s, n, buf, cap - 1);
	cr_assert_lt(l, cap);
	buf[l] = 0;
	return buf;
}

/* Check one line of TSV file `file`; returns 1 when it was a query line. */
static int check_line(const sx_snap *s, const char *file, char *line,
                      unsigned lineno)
{
	char *exp[32], *words[16], *save = NULL;
	int nexp = 0;

	if (!line[0] || line[0] == '#')
		return 0;
	char *args = strtok_r(line, "\t", &save);
	for (char *t = strtok_r(NULL, "\t", &save); t && nexp < 32;
	     t = strtok_r(NULL, "\t", &save))
		exp[nexp++] = t;
	cr_assert_geq(nexp, 2, "%s:%u: no expected answer",
	              file, lineno);
	char argcopy[512];
	snprintf(argcopy, sizeof argcopy, "%s", args);
	int nw = tu_words(argcopy, words, 16);
	tu_check_args a;
	cr_assert_eq(tu_parse_check(words, nw, &a), 0,
	             "%s:%u: cannot parse '%s'", file, lineno, args);

	sx_query q;
	char err[256];
	memset(&q, 0, sizeof q);
	int bad = sx_query_common(&q, sx_snap_rules(s), tu_s(a.chan), tu_s(a.cls),
	                          tu_s(a.type), tu_s(a.at), err, sizeof err) ||
	          sx_query_id(&q, tu_s(a.id), err, sizeof err);
	if (!strcmp(exp[0], "ERR")) {
		cr_assert(bad, "%s:%u: %s: want ERR %s, got an "
		          "answer", file, lineno, args, exp[1]);
		cr_assert(strncmp(err, exp[1], strlen(exp[1])) == 0,
		          "%s:%u: %s: want ERR %s..., got ERR %s",
		          file, lineno, args, exp[1], err);
		return 1;
	}
	cr_assert(!bad, "%s:%u: %s: ERR %s", file, lineno, args, err);

	uint32_t *recs = malloc(sx_snap_max_query_records(s) * sizeof *recs);
	sx_decision d;
	sx_decide(s, &q, &d, recs);
	cr_assert_str_eq(sx_reason_decision(d.reason), exp[0],
	                 "%s:%u: %s: %s %s, want %s %s", file, lineno,
	                 args, sx_reason_decision(d.reason),
	                 sx_reason_name(d.reason), exp[0], exp[1]);
	cr_assert_str_eq(sx_reason_name(d.reason), exp[1],
	                 "%s:%u: %s: %s, want %s", file, lineno, args,
	                 sx_reason_name(d.reason), exp[1]);
	cr_assert_eq(d.nrec, (uint32_t)(nexp - 2),
	             "%s:%u: %s: %u records named, want %d",
	             file, lineno, args, d.nrec, nexp - 2);
	for (uint32_t i = 0; i < d.nrec; i++) {
		sx_recview v;
		char got[512], want[512];
		sx_snap_record(s, d.rec[i], &v);
		fold(v.case_no, v.case_len, got, sizeof got);
		fold(exp[2 + i], strlen(exp[2 + i]), want, sizeof want);
		cr_assert_str_eq(got, want, "%s:%u: %s: record %u "
		                 "is %s, want %s", file, lineno, args, i, got, want);
	}
	free(recs);
	/* and the generic invariants (order, batch, buffer bound) */
	char line_out[4096];
	tu_ask_args(s, &a, line_out, sizeof line_out);
	cr_assert(strncmp(line_out, exp[0], strlen(exp[0])) == 0);
	return 1;
}

/* Every query line of the TSV file name on the sample; how many there
 * were.  Skips the test when the file is missing. */
static unsigned check_file(const char *name)
{
	sx_build_report rep;
	sx_snap *s = build_sample(&rep);
	char path[PATH_MAX + 64];

	if (!tu_data_path(name, path, sizeof path)) {
		sx_snap_close(s);
		tu_teardown();
		cr_skip_test("%s not found next to the sample list", name);
	}
	char *text = tu_read(path, NULL);
	cr_assert_not_null(text);
	unsigned lineno = 0, checked = 0, expected = 0;
	for (char *p = text; *p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		size_t n = strlen(p);
		if (n && p[n - 1] == '\r')
			p[--n] = 0;
		lineno++;
		expected += n && p[0] != '#';   /* every other line is a query */
		checked += (unsigned)check_line(s, name, p, lineno);
		if (!nl)
			break;
		p = nl + 1;
	}
	cr_assert_eq(checked, expected, "%s: checked %u of %u query lines", name,
	             checked, expected);
	free(text);
	sx_snap_close(s);
	return checked;
}

Test(sample, every_sample_query_gets_the_documented_answer)
{
	unsigned n = check_file("sample-queries.tsv");
	cr_assert_geq(n, 100, "the sample has at least 100 queries");
}

Test(sample, every_joint_punishment_sample_query_gets_the_documented_answer)
{
	unsigned n = check_file("sample-queries-joint.tsv");
	cr_assert_geq(n, 19, "the joint sample has at least 19 queries");
}
