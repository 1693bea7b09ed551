/*
 * cli.c - sxgate, the command-line client.
 *
 * Subcommands that name a snapshot file (--snapshot) run offline, in
 * process, through the same engine calls the server makes, so an operator
 * can ask a snapshot the same question a gate asks the server and get the
 * same words back.  Everything else talks to a server (cli_net.c).
 * `sxgate screen` (screen.c), the bulk screening of a file, does either
 * and has its own options; `feedback`, `journal` and `publish` likewise.
 *
 * Exit status: 0 an answer, 1 usage error, 2 an invalid query (its ERR on
 * stderr), 3 the snapshot was refused or the server could not be reached.
 */
#include "cli_net.h"
#include "cli_publish.h"
#include "fbreport.h"
#include "fbreportcmd.h"
#include "screen.h"
#include "decide.h"
#include "snapshot.h"
#include "sxclient.h"

#include <strings.h>

#include <crypt.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static void usage(FILE *f)
{
	fputs("usage: sxgate COMMAND [options]\n"
	      "\n"
	      "Offline, against a snapshot file:\n"
	      "  check --snapshot SNAP ID CHANNEL [CLASS] [--type T] [--at YYYY-MM-DD]\n"
	      "  info --snapshot SNAP\n"
	      "\n"
	      "Against a server (--host H --port P [--resp] [--tls --cacert FILE\n"
	      "[--cert FILE --key FILE] [--sni NAME] [--insecure]] [--tenant T with\n"
	      "--secret-file FILE or SXGATE_SECRET]; `sxgate ping --help` for all):\n"
	      "  check ID CHANNEL [CLASS] [--type T] [--at D]\n"
	      "  mcheck CHANNEL CLASS|- ID...     listed ID     info [SECTION]\n"
	      "  reload [PATH] [--force]          ping          exec WORD...\n"
	      "\n"
	      "Bulk screening (a manifest, a customer base; `sxgate screen --help`):\n"
	      "  screen [FILE] (--snapshot SNAP | --host H) [--channel C] [--at D]\n"
	      "         [--output F] [--format csv|jsonl] [--all] [--threads N]\n"
	      "\n"
	      "Files:\n"
	      "  feedback summarize FILE [--since YYYY-MM-DD] [--to YYYY-MM-DD]\n"
	      "          [--court NAME] [--tenant T]\n"
	      "                          refusals per court and case (自动反馈)\n"
	      "  feedback report FILE --html OUT.html [--csv OUT] [--json OUT]\n"
	      "          [--from D] [--to D] [--court NAME] [--tenant T] [--full-ids]\n"
	      "                          the courts' report: one offline HTML page with\n"
	      "                          charts, and per court and day as CSV/JSON\n"
	      "  feedback dump FILE      every feedback record as CSV\n"
	      "  journal dump FILE       the live-update journal\n"
	      "\n"
	      "Live updates for replicas that follow a stream (SPEC section 10):\n"
	      "  publish [--ca F] [--password-file F] redis[s]://[USER@]HOST:PORT/STREAM\n"
	      "          OP ARG...       e.g. LIST.REMOVE CASE RIC ID (publish --help)\n"
	      "\n"
	      "Other:\n"
	      "  tenant-hash [SECRET]    print a yescrypt hash for a tenants file\n"
	      "                          (reads the secret from stdin when not given)\n"
	      "  help                    this text\n"
	      "\n"
	      "Exit status: 0 answered, 1 usage, 2 invalid query, 3 snapshot refused\n"
	      "or server unreachable.\n", f);
}

static sx_str opt(const char *s)
{
	return (sx_str){ s, s ? strlen(s) : 0 };
}

static int open_snap(const char *path, sx_snap **s)
{
	char why[512];
	if (sx_snap_open(path, s, why, sizeof(why))) {
		fprintf(stderr, "sxgate: snapshot refused: %s\n", why);
		return 3;
	}
	return 0;
}

static int offline_check(const char *snap, int argc, char **argv,
                         const char *type, const char *at)
{
	sx_snap *s;
	sx_query q;
	char err[256];
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "sxgate check: want ID CHANNEL [CLASS]\n");
		return 1;
	}
	if ((rc = open_snap(snap, &s)))
		return rc;
	if (sx_query_common(&q, sx_snap_rules(s), opt(argv[1]),
	                    opt(argc == 3 ? argv[2] : NULL), opt(type), opt(at),
	                    err, sizeof(err)) ||
	    sx_query_id(&q, opt(argv[0]), err, sizeof(err))) {
		fprintf(stderr, "ERR %s\n", err);
		sx_snap_close(s);
		return 2;
	}
	uint32_t *recs = malloc(sx_snap_max_query_records(s) * sizeof(uint32_t));
	if (!recs) {
		sx_snap_close(s);
		fprintf(stderr, "sxgate: out of memory\n");
		return 3;
	}
	sx_decision d;
	sx_decide(s, &q, &d, recs);
	printf("%s\n%s\n", sx_reason_decision(d.reason), sx_reason_name(d.reason));
	for (uint32_t i = 0; i < d.nrec; i++) {
		char line[4096];
		size_t n = sx_record_format(s, d.rec[i], line, sizeof(line));
		printf("%.*s\n", (int)(n < sizeof(line) ? n : sizeof(line) - 1), line);
	}
	free(recs);
	sx_snap_close(s);
	return 0;
}

static void print_time(const char *key, int64_t t)
{
	char buf[40];
	if (t == SX_AS_OF_NONE) {
		printf("%s:none\n", key);
		return;
	}
	sx_time_format(t, buf);
	printf("%s:%s\n", key, buf);
}

static int offline_info(const char *snap)
{
	sx_snap *s;
	int rc = open_snap(snap, &s);
	if (rc)
		return rc;
	const sx_snap_info *in = sx_snap_get_info(s);
	printf("# Snapshot\n");
	printf("path:%s\nformat_version:%u\ncroaring:%s\n", snap, in->version,
	       in->roaring);
	print_time("as_of", in->as_of);
	print_time("built_at", in->built_at);
	printf("build_ms:%u\nsource:%s\n", in->build_ms, in->source);
	printf("file_bytes:%llu\nindex_bytes:%llu\nindex_bytes_per_id:%.2f\n",
	       (unsigned long long)in->file_bytes,
	       (unsigned long long)in->index_bytes,
	       in->ids ? (double)in->index_bytes / (double)in->ids : 0.0);
	printf("# Records\n");
	printf("rows_read:%llu\nrows_loaded:%llu\nrows_rejected:%llu\n"
	       "rows_warned:%llu\nduplicates:%llu\n",
	       (unsigned long long)in->rows_read, (unsigned long long)in->rows_loaded,
	       (unsigned long long)in->rows_rejected,
	       (unsigned long long)in->rows_warned,
	       (unsigned long long)in->duplicates);
	printf("records:%llu\nids:%llu\nkeys:%llu\ncases:%llu\ncourts:%llu\n"
	       "permits:%llu\n", (unsigned long long)in->records,
	       (unsigned long long)in->ids, (unsigned long long)in->keys,
	       (unsigned long long)in->cases, (unsigned long long)in->courts,
	       (unsigned long long)in->permits);
	for (int i = 0; i < SX_NSTATUSES; i++)
		printf("status_%s:%llu\n", sx_status_name(i),
		       (unsigned long long)in->per_status[i]);
	for (int c = 0; c < SX_NCODES; c++)
		printf("code_%s:%llu\n", sx_code_name(c),
		       (unsigned long long)in->per_code[c]);
	sx_snap_close(s);
	return 0;
}

/* A yescrypt hash of a secret, for the tenants file. */
static int tenant_hash(int argc, char **argv)
{
	char secret[1024], salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;

	if (argc > 1) {
		snprintf(secret, sizeof(secret), "%s", argv[1]);
	} else {
		if (!fgets(secret, sizeof(secret), stdin)) {
			fprintf(stderr, "sxgate tenant-hash: no secret on stdin\n");
			return 1;
		}
		secret[strcspn(secret, "\r\n")] = 0;
	}
	if (!secret[0]) {
		fprintf(stderr, "sxgate tenant-hash: the secret is empty\n");
		return 1;
	}
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt))) {
		perror("sxgate tenant-hash: crypt_gensalt");
		return 3;
	}
	memset(&cd, 0, sizeof(cd));
	const char *h = crypt_r(secret, salt, &cd);
	if (!h || h[0] == '*') {
		fprintf(stderr, "sxgate tenant-hash: crypt failed\n");
		return 3;
	}
	printf("%s\n", h);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "tenant-hash"))
		return tenant_hash(argc - 1, argv + 1);
	if (!strcmp(cmd, "feedback") && argc > 2 && !strcmp(argv[2], "report"))
		return sx_fb_report_main(argc - 1, argv + 1, stdout, stderr);
	if (!strcmp(cmd, "feedback"))
		return sx_cli_feedback_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "journal"))
		return sx_cli_journal_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "publish"))
		return sx_cli_publish_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "screen"))
		return sx_cli_screen_main(argc - 1, argv + 1);

	static const char *const known[] = { "check", "info", "mcheck", "listed",
	                                     "reload", "ping", "exec" };
	int ok = 0;
	for (size_t i = 0; i < SX_ARRAY_LEN(known); i++)
		ok |= !strcmp(cmd, known[i]);
	if (!ok) {
		fprintf(stderr, "sxgate: unknown command '%s'\n\n", cmd);
		usage(stderr);
		return 1;
	}

	/* offline when --snapshot is given */
	const char *snap = NULL;
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--snapshot") && i + 1 < argc)
			snap = argv[i + 1];
		else if (!strncmp(argv[i], "--snapshot=", 11))
			snap = argv[i] + 11;
	if (!snap)
		return sx_cli_net_main(argc - 1, argv + 1);
	if (strcmp(cmd, "check") && strcmp(cmd, "info")) {
		fprintf(stderr, "sxgate: '%s' needs a server (--host/--port), not "
		        "--snapshot\n", cmd);
		return 1;
	}

	static const struct option opts[] = {
		{ "snapshot", required_argument, 0, 's' },
		{ "type", required_argument, 0, 't' },
		{ "at", required_argument, 0, 'a' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *type = NULL, *at = NULL;
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': break;
		case 't': type = optarg; break;
		case 'a': at = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (!strcmp(cmd, "info")) {
		if (optind != argc) {
			fprintf(stderr, "sxgate info: unexpected argument '%s'\n",
			        argv[optind]);
			return 1;
		}
		return offline_info(snap);
	}
	return offline_check(snap, argc - optind, argv + optind, type, at);
}
