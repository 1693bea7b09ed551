/*
 * main.c - sxgate-gen: a seeded, reproducible generator of realistic
 * synthetic lists (SPEC section 2), court permits and query streams; this
 * file is its command line and setup.
 *
 * The idea.  One pass, one thread.  Cases are drawn one after another (a
 * court, a list, a status, listing and expiry dates relative to --as-of,
 * restrictions, a case number: cases.c) and each case writes its rows
 * (list.c): a person debtor with the passport or travel permit linked to
 * it, or a unit debtor with its legal representative and sometimes its
 * principal, controller and responsible persons (parties.c).  Permits
 * (permits.c) and queries (queries.c) follow from samples taken while the
 * list is written.
 *
 * Reproducible.  Everything derives from --seed through xoshiro256**
 * streams seeded by splitmix64 (rng.c), one stream per concern (list,
 * defects, query-hit sample, permits, queries), so the list bytes do not
 * depend on whether permits or queries are asked for, and
 * --bad-rate/--typo-rate inject defects into the same list rather than
 * producing another one.  Only integer arithmetic decides anything (rates
 * become parts per million once, here), so a seed means the same files on
 * every host.
 *
 * Unique by construction, not by lookup (ids.c): memory stays at ~6 MB of
 * slot counters plus the bounded hit sample (at most 4 M IDs, a uniform
 * reservoir of the listed rows - the trade-off that keeps 100 M-row runs
 * in RAM).
 *
 * Fast.  Rows are formatted by hand into an 8 MB buffer flushed with
 * write(2) (output.c): no stdio per field.
 *
 * Standalone.  The generator uses nothing of the engine (only sx.h's
 * inline clock), so it links no engine object; calendar and check
 * characters are its own, which makes it a cross-check of engine/id.c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "sx.h"

__attribute__((cold))
static void gen_init(gen_t *g)
{
	ids_init();

	rng_seed(&g->rl, g->seed, RS_LIST);
	rng_seed(&g->rd, g->seed, RS_DEFECT);
	rng_seed(&g->rh, g->seed, RS_HITS);
	rng_seed(&g->rp, g->seed, RS_PERMIT);
	rng_seed(&g->rq, g->seed, RS_QUERY);
	rng_t salt;
	rng_seed(&salt, g->seed, RS_SALT);
	g->seq_salt = (uint32_t)rng_next(&salt);
	g->org_old_b = rng_next(&salt) % 100000000ULL;
	g->org_new_b = rng_next(&salt) % 887503681ULL;
	g->pass_b = rng_next(&salt) % 100000000ULL;
	g->pass2_b = rng_next(&salt) % 240000000ULL;

	g->day0 = days_from_civil(BIRTH_Y0, 1, 1);
	g->ndays = (uint32_t)(days_from_civil(BIRTH_Y1 + 1, 1, 1) - g->day0);
	g->slot = calloc((size_t)NAREAS * g->ndays, sizeof(*g->slot));
	g->cno_next = calloc(NCOURTS, sizeof(*g->cno_next));
	g->pool = calloc(POOL_CAP, sizeof(*g->pool));
	if (!g->slot || !g->cno_next || !g->pool)
		die_io("out of memory");

	vocab_init(g);

	if (g->queries_path && g->hits_wanted) {
		g->hits_cap = g->records < HIT_SAMPLE_MAX ? g->records : HIT_SAMPLE_MAX;
		if (g->hits_cap && !(g->hits = malloc(g->hits_cap * sizeof(*g->hits))))
			die_io("out of memory for the query sample");
	}
	if (g->permits_path) {
		g->psrc_cap = g->records / 10000 ? g->records / 10000 : 1;
		if (!(g->psrc = malloc(g->psrc_cap * sizeof(*g->psrc))))
			die_io("out of memory for permits");
	}
}

static const char USAGE[] =
"Usage: sxgate-gen --records N --seed S --output LIST.csv [options]\n"
"\n"
"Writes a synthetic, realistic list CSV (SPEC section 2) of exactly N data\n"
"rows, and optionally court permits and a stream of queries.  The same seed\n"
"and arguments always give byte-identical files; the list does not change\n"
"when permits or queries are added, and --bad-rate/--typo-rate put defects\n"
"into the same list.\n"
"\n"
"  --records N            data rows in the list (0 to 500000000)\n"
"  --seed S               seed, decimal or 0x-hex, 0 to 2^64-1\n"
"  --output FILE          the list CSV ('-' for standard output)\n"
"  --permits-output FILE  permits CSV: about one per 10000 rows (at least\n"
"                         one), for listed persons' own cases\n"
"  --queries M            queries to write (needs --queries-output)\n"
"  --hit-rate R           fraction of queries whose ID is on the list, any\n"
"                         status, 0 to 1 (default 0.5); the others are valid\n"
"                         IDs that are on no row\n"
"  --queries-output FILE  queries, one a line: ID TAB type TAB channel TAB\n"
"                         class ('-' when none) TAB day\n"
"  --joint-rate R         fraction of queries on the joint-punishment\n"
"                         channels (procurement, bidding, credit, finance,\n"
"                         ...; SPEC section 4), 0 to 1 (default 0.02); the\n"
"                         others ask the booking channels\n"
"  --as-of YYYY-MM-DD     the day the list is current: listing dates, permit\n"
"                         windows and the queries' day follow it (default\n"
"                         2026-01-10)\n"
"  --bad-rate R           fraction of rows broken on purpose so the loader\n"
"                         must reject them (unknown status or code,\n"
"                         impossible date, malformed ID, ...), default 0\n"
"  --typo-rate R          fraction of 18-digit RIC rows with a wrong check\n"
"                         character (loaded with a warning), default 0\n"
"  --mask-names           mask names as published lists do (张某某,\n"
"                         福州某某建设工程有限公司)\n"
"  --quiet                no progress or summary on standard error\n"
"  --help                 this text\n"
"\n"
"Exit status: 0 done, 1 usage error, 2 an output could not be written.\n";

enum { OPT_RECORDS = 256, OPT_SEED, OPT_OUTPUT, OPT_PERMITS, OPT_QUERIES,
       OPT_HITRATE, OPT_QOUT, OPT_ASOF, OPT_BAD, OPT_TYPO, OPT_MASK,
       OPT_QUIET, OPT_HELP, OPT_JOINT };

static const struct option LONGOPTS[] = {
	{ "records",         required_argument, NULL, OPT_RECORDS },
	{ "seed",            required_argument, NULL, OPT_SEED },
	{ "output",          required_argument, NULL, OPT_OUTPUT },
	{ "permits-output",  required_argument, NULL, OPT_PERMITS },
	{ "queries",         required_argument, NULL, OPT_QUERIES },
	{ "hit-rate",        required_argument, NULL, OPT_HITRATE },
	{ "queries-output",  required_argument, NULL, OPT_QOUT },
	{ "joint-rate",      required_argument, NULL, OPT_JOINT },
	{ "as-of",           required_argument, NULL, OPT_ASOF },
	{ "bad-rate",        required_argument, NULL, OPT_BAD },
	{ "typo-rate",       required_argument, NULL, OPT_TYPO },
	{ "mask-names",      no_argument,       NULL, OPT_MASK },
	{ "quiet",           no_argument,       NULL, OPT_QUIET },
	{ "help",            no_argument,       NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

__attribute__((cold, noreturn, format(printf, 1, 2)))
static void usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
	exit(1);
}

static const char *opt_name(int val)
{
	for (const struct option *o = LONGOPTS; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

static uint64_t parse_count(const char *flag, const char *s, uint64_t max)
{
	char *end;
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		usage_error("--%s: '%s' is not a non-negative whole number", flag, s);
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || errno)
		usage_error("--%s: '%s' is not a non-negative whole number", flag, s);
	if (v > max)
		usage_error("--%s: %s is more than the limit, %" PRIu64, flag, s, max);
	return v;
}

static uint64_t parse_seed(const char *s)
{
	char *end;
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		usage_error("--seed: '%s' is not a number from 0 to 2^64-1", s);
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (*end || errno)
		usage_error("--seed: '%s' is not a number from 0 to 2^64-1", s);
	return v;
}

static double parse_rate(const char *flag, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (!*s || *end || errno || !(v >= 0.0 && v <= 1.0))
		usage_error("--%s: '%s' is not a fraction from 0 to 1", flag, s);
	return v;
}

static int32_t parse_day(const char *flag, const char *s)
{
	int y, m, d;
	char tail;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
	    m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		usage_error("--%s: '%s' is not a date YYYY-MM-DD", flag, s);
	if (y < 2016 || y > 2098)
		usage_error("--%s: %s is outside 2016..2098", flag, s);
	return days_from_civil(y, m, d);
}

static uint32_t to_ppm(double rate)
{
	return (uint32_t)(rate * 1e6 + 0.5);
}

static void parse_args(gen_t *g, int argc, char **argv)
{
	bool have_records = false, have_seed = false, have_hit = false;
	bool have_queries = false, have_joint = false;
	double hit_rate = 0.5;
	g->joint_ppm = to_ppm(0.02);
	g->asof = days_from_civil(2026, 1, 10);

	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, ":", LONGOPTS, NULL);
		if (c == -1)
			break;
		switch (c) {
		case OPT_RECORDS:
			g->records = parse_count("records", optarg, MAX_RECORDS);
			have_records = true;
			break;
		case OPT_SEED:
			g->seed = parse_seed(optarg);
			have_seed = true;
			break;
		case OPT_OUTPUT:  g->list_path = optarg; break;
		case OPT_PERMITS: g->permits_path = optarg; break;
		case OPT_QUERIES:
			g->queries = parse_count("queries", optarg, MAX_QUERIES);
			have_queries = true;
			break;
		case OPT_HITRATE:
			hit_rate = parse_rate("hit-rate", optarg);
			have_hit = true;
			break;
		case OPT_QOUT:    g->queries_path = optarg; break;
		case OPT_JOINT:
			g->joint_ppm = to_ppm(parse_rate("joint-rate", optarg));
			have_joint = true;
			break;
		case OPT_ASOF:    g->asof = parse_day("as-of", optarg); break;
		case OPT_BAD:     g->bad_ppm = to_ppm(parse_rate("bad-rate", optarg)); break;
		case OPT_TYPO:    g->typo_ppm = to_ppm(parse_rate("typo-rate", optarg)); break;
		case OPT_MASK:    g->mask = true; break;
		case OPT_QUIET:   g->quiet = true; break;
		case OPT_HELP:
			fputs(USAGE, stdout);
			exit(0);
		case ':':
			usage_error("--%s needs a value", opt_name(optopt));
		default:
			if (optopt >= OPT_RECORDS)
				usage_error("--%s takes no value", opt_name(optopt));
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!have_records)
		usage_error("--records is required");
	if (!have_seed)
		usage_error("--seed is required");
	if (!g->list_path)
		usage_error("--output is required");
	if (have_queries && !g->queries_path)
		usage_error("--queries needs --queries-output");
	if (g->queries_path && !have_queries)
		usage_error("--queries-output needs --queries M");
	if (have_hit && !g->queries_path)
		usage_error("--hit-rate needs --queries and --queries-output");
	if (have_joint && !g->queries_path)
		usage_error("--joint-rate needs --queries and --queries-output");
	const char *paths[3] = { g->list_path, g->permits_path, g->queries_path };
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (paths[i] && paths[j] && strcmp(paths[i], paths[j]) == 0)
				usage_error("--%s and --%s name the same file '%s'",
				            i == 0 ? "output" : "permits-output",
				            j == 1 ? "permits-output" : "queries-output",
				            paths[i]);
	/* round to the nearest whole number of hits */
	g->hits_wanted = (uint64_t)((double)g->queries * hit_rate + 0.5);
}

static double now_s(void)
{
	return (double)sx_mono_ns() / 1e9;
}

int main(int argc, char **argv)
{
	static gen_t G;
	gen_t *g = &G;
	parse_args(g, argc, argv);
	double t0 = now_s();

	/* open every output first: a bad path fails before the long run */
	out_open(&g->list_out, g->list_path);
	if (g->permits_path)
		out_open(&g->permits_out, g->permits_path);
	if (g->queries_path)
		out_open(&g->queries_out, g->queries_path);
	gen_init(g);

	generate_list(g);
	out_close(&g->list_out);
	double t_list = now_s();
	if (g->permits_path) {
		write_permits(g);
		out_close(&g->permits_out);
	}
	if (g->queries_path) {
		if (g->hits_wanted && !g->hits_n && !g->quiet)
			fprintf(stderr, PROG ": warning: the list is empty, so every "
			        "query is a miss\n");
		write_queries(g);
		out_close(&g->queries_out);
	}
	double t1 = now_s();

	if (!g->quiet) {
		fprintf(stderr, PROG ": %s: %" PRIu64 " rows, %" PRIu64 " cases "
		        "(%" PRIu64 " of units, %" PRIu64 " repeat debtors), %" PRIu64
		        " bytes in %.2f s",
		        g->list_path, g->rows, g->cases, g->unit_cases,
		        g->repeat_cases, g->list_out.bytes, t_list - t0);
		if (g->bad_rows || g->typo_rows)
			fprintf(stderr, "; %" PRIu64 " bad rows, %" PRIu64 " check-digit typos",
			        g->bad_rows, g->typo_rows);
		fputc('\n', stderr);
		if (g->permits_path)
			fprintf(stderr, PROG ": %s: %" PRIu64 " permits\n",
			        g->permits_path, g->psrc_n);
		if (g->queries_path)
			fprintf(stderr, PROG ": %s: %" PRIu64 " queries (%" PRIu64
			        " hits, %" PRIu64 " on joint-punishment channels), %"
			        PRIu64 " bytes; total %.2f s\n",
			        g->queries_path, g->queries, g->q_hits, g->q_joint,
			        g->queries_out.bytes, t1 - t0);
	}
	free(g->slot);
	free(g->cno_next);
	free(g->pool);
	free(g->hits);
	free(g->psrc);
	return 0;
}
