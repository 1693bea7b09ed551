/*
 * main.c - sxgate-build: the loader's command line around sx_build().
 */
#include "build.h"
#include "decide.h"
#include "snapshot.h"
#include "wio.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* jemalloc: back the big build arrays with huge pages (a 10 M-record build
 * touches gigabytes; 4 KiB faults cost a second of system time), and never
 * give freed memory back during the build: the index arrays reuse what the
 * parse freed, where fresh pages cost about 2 s per GiB on the VMs we
 * measured (docs/BENCHMARKS.md).  The process is short-lived. */
const char *malloc_conf = "thp:always,metadata_thp:auto,"
                          "dirty_decay_ms:-1,muzzy_decay_ms:-1,narenas:1";

static void usage(FILE *f)
{
	fputs("usage: sxgate-build --input LIST.csv --output SNAP [options]\n"
	      "\n"
	      "Validate a list export (SPEC section 2) and write one snapshot file.\n"
	      "\n"
	      "  --input FILE        the list CSV (required)\n"
	      "  --permits FILE      court permits CSV\n"
	      "  --output FILE       the snapshot to write (replaced atomically)\n"
	      "  --as-of TIME        when the export was taken (ISO 8601; no offset\n"
	      "                      means UTC+8); live updates from then on survive\n"
	      "                      a reload of this snapshot\n"
	      "  --rejects FILE      rejected rows and warnings (default OUTPUT.rejects.csv)\n"
	      "  --file-mode MODE    octal mode of the snapshot and the rejects file,\n"
	      "                      which hold ID numbers (default 0600; 0640 lets the\n"
	      "                      group read them; modes giving others anything are\n"
	      "                      refused)\n"
	      "  --max-rejects N     fail when more rows are rejected (default 0.1%)\n"
	      "  --rules FILE        the rule table: restricted classes of rail, ship\n"
	      "                      and hotel, effects (deny, review, none) and classes\n"
	      "                      of the joint-punishment channels (docs/MEASURES.md);\n"
	      "                      default: SPEC section 4's table\n"
	      "  --print-rules       print the default rule table in that format\n"
	      "  --threads N         threads for the perfect hash (default 2); the\n"
	      "                      list is always parsed on a thread of its own\n"
	      "  --quiet             no progress or summary\n"
	      "  --help              this text\n"
	      "\n"
	      "Exit status: 0 written, 1 usage error, 2 the build failed.\n", f);
}

static int load_rules(const char *path, sx_rules *r)
{
	char buf[65536], why[256];
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "sxgate-build: cannot open the rule table %s: %m\n", path);
		return -1;
	}
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n == sizeof(buf)) {
		fprintf(stderr, "sxgate-build: %s: over 64 KiB, not a rule table\n", path);
		return -1;
	}
	if (sx_rules_parse(buf, n, r, why, sizeof(why))) {
		fprintf(stderr, "sxgate-build: %s: %s\n", path, why);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, 0, 'i' },
		{ "permits", required_argument, 0, 'p' },
		{ "output", required_argument, 0, 'o' },
		{ "as-of", required_argument, 0, 'a' },
		{ "rejects", required_argument, 0, 'r' },
		{ "file-mode", required_argument, 0, 'f' },
		{ "max-rejects", required_argument, 0, 'm' },
		{ "threads", required_argument, 0, 't' },
		{ "rules", required_argument, 0, 'R' },
		{ "print-rules", no_argument, 0, 'P' },
		{ "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	sx_build_opts o = { .as_of = SX_AS_OF_NONE, .max_rejects = -1,
	                    .threads = 2, .progress = stderr };
	int c, quiet = 0;
	unsigned mode;
	char *end, why[1024];
	sx_rules rules;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': o.input = optarg; break;
		case 'p': o.permits = optarg; break;
		case 'o': o.output = optarg; break;
		case 'r': o.rejects = optarg; break;
		case 'f':
			if (sx_file_mode_parse("--file-mode", optarg, &mode, why,
			                       sizeof why) ||
			    sx_file_set_mode(mode, why, sizeof why)) {
				fprintf(stderr, "sxgate-build: %s\n", why);
				return 1;
			}
			break;
		case 'q': quiet = 1; o.progress = NULL; break;
		case 'a':
			if (sx_time_parse(optarg, &o.as_of)) {
				fprintf(stderr, "sxgate-build: --as-of '%s' is not an ISO 8601 "
				        "time (e.g. 2026-01-10T02:00:00+08:00)\n", optarg);
				return 1;
			}
			break;
		case 'm':
			o.max_rejects = strtoll(optarg, &end, 10);
			if (*end || o.max_rejects < 0) {
				fprintf(stderr, "sxgate-build: --max-rejects '%s' is not a "
				        "count\n", optarg);
				return 1;
			}
			break;
		case 't':
			o.threads = (int)strtol(optarg, &end, 10);
			if (*end || o.threads < 1 || o.threads > 64) {
				fprintf(stderr, "sxgate-build: --threads '%s' is not 1..64\n",
				        optarg);
				return 1;
			}
			break;
		case 'R':
			if (load_rules(optarg, &rules))
				return 1;
			o.rules = &rules;
			break;
		case 'P':
			sx_rules_default(&rules);
			sx_rules_write(&rules, stdout);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc || !o.input || !o.output) {
		if (optind < argc)
			fprintf(stderr, "sxgate-build: unexpected argument '%s'\n",
			        argv[optind]);
		else
			fprintf(stderr, "sxgate-build: --input and --output are required\n");
		usage(stderr);
		return 1;
	}

	sx_build_report r;
	int rc = sx_build(&o, &r, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "sxgate-build: %s\n", why);
		if (!quiet && r.rows)
			sx_build_summary(stderr, &o, &r);
		return 2;
	}
	if (!quiet)
		sx_build_summary(stdout, &o, &r);
	return 0;
}
