/*
 * fbreportcmd.c - `sxgate feedback report` (usage in fbreportcmd.h).
 *
 * The idea: parse the options into one sx_feedback_filter, count the log
 * per day once (fbdays.c), and hand that to the writers: the HTML page
 * (fbhtml.c, which also runs the per-case summary) and the per court and
 * day exports (fbexport.c).  Every output goes to a temporary file next
 * to it and is renamed into place only when complete, so a failed run
 * never leaves half a report to be mailed.
 */
#include "fbreportcmd.h"
#include "fbreport.h"
#include "wio.h"
#include "fbdays.h"
#include "fbexport.h"
#include "fbhtml.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sx_fb_report_usage(FILE *f)
{
	fputs("usage: sxgate feedback report FILE [--html OUT.html] [--csv OUT.csv]"
	      " [--json OUT.json]\n"
	      "              [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--court NAME]"
	      " [--tenant T]\n"
	      "              [--full-ids] [--max-ids N]\n"
	      "  --html   one self-contained page for the courts (charts per day by\n"
	      "           decision, channel and tenant; courts with a sparkline; cases\n"
	      "           and IDs); opens offline, no scripts\n"
	      "  --csv, --json  one row per court and day: counts by decision and\n"
	      "           channel, for the courts' own systems\n"
	      "  OUT '-' writes to stdout.  Days are UTC+8, --from and --to inclusive.\n"
	      "  IDs are masked as on the public list (350304********3293) unless\n"
	      "  --full-ids; --max-ids lists at most N IDs per case (default 20).\n"
	      "  Totals equal `sxgate feedback summarize` with the same filter.\n", f);
}

typedef struct prog {
	FILE *err;
	const char *path;
	int shown;
} prog;

static void progress(void *arg, uint64_t done, uint64_t total)
{
	prog *p = arg;
	fprintf(p->err, "\rsxgate feedback report: reading %s %3u%%", p->path,
	        total ? (unsigned)(done * 100 / total) : 100);
	fflush(p->err);
	p->shown = 1;
}

/* Midnight UTC+8 of day s (YYYY-MM-DD) plus extra days, in unix ms. */
static int day_ms(const char *s, int extra, int64_t *ms)
{
	uint16_t day;
	if (sx_day_parse(s, strlen(s), &day))
		return -1;
	*ms = (((int64_t)day + extra) * 86400 - 8 * 3600) * 1000;
	return 0;
}

typedef struct output {
	const char *path;
	char tmp[4096];
	FILE *f;
} output;

static int out_open(output *o, FILE *out, FILE *err)
{
	if (!strcmp(o->path, "-")) {
		o->f = out;
		return 0;
	}
	if (snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%d", o->path, (int)getpid())
	    >= (int)sizeof o->tmp) {
		fprintf(err, "sxgate feedback report: %s: path too long\n", o->path);
		return -1;
	}
	int fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		fprintf(err, "sxgate feedback report: cannot create %s: %s\n",
		        o->tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

/* Finish o: flush and rename into place (ok), or remove the temporary. */
static int out_close(output *o, int ok, FILE *err)
{
	if (!o->f)
		return 0;
	if (o->f == stdout || !strcmp(o->path, "-")) {
		o->f = NULL;
		return 0;
	}
	int bad = ferror(o->f);
	bad |= fclose(o->f) != 0;
	o->f = NULL;
	if (ok && bad)
		fprintf(err, "sxgate feedback report: writing %s failed: %s\n",
		        o->tmp, strerror(errno));
	if (ok && !bad && rename(o->tmp, o->path)) {
		fprintf(err, "sxgate feedback report: cannot rename %s to %s: %s\n",
		        o->tmp, o->path, strerror(errno));
		bad = 1;
	}
	if (!ok || bad)
		unlink(o->tmp);
	return ok && !bad ? 0 : -1;
}

int sx_fb_report_main(int argc, char **argv, FILE *out, FILE *err)
{
	const char *path = NULL, *from = NULL, *to = NULL, *court = NULL,
	           *tenant = NULL, *max_ids = NULL;
	output outs[3] = { { NULL }, { NULL }, { NULL } };   /* html csv json */
	int full_ids = 0, bad = 0;

	for (int i = 2; i < argc; i++) {
		const char *v;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			sx_fb_report_usage(out);
			return 0;
		}
		if ((v = sx_cli_opt_value(argc, argv, &i, "--html", &bad)))
			outs[0].path = v;
		else if ((v = sx_cli_opt_value(argc, argv, &i, "--csv", &bad)))
			outs[1].path = v;
		else if ((v = sx_cli_opt_value(argc, argv, &i, "--json", &bad)))
			outs[2].path = v;
		else if ((v = sx_cli_opt_value(argc, argv, &i, "--from", &bad)))
			from = v;
		else if ((v = sx_cli_opt_value(argc, argv, &i, "--to", &bad)))
			to = v;
		else if ((v = sx_cli_opt_value(argc, argv, &i, "--court", &bad)))
			court = v;
		else if ((v = sx_cli_opt_value(argc, argv, &i, "--tenant", &bad)))
			tenant = v;
		else if ((v = sx_cli_opt_value(argc, argv, &i, "--max-ids", &bad)))
			max_ids = v;
		else if (!strcmp(argv[i], "--full-ids"))
			full_ids = 1;
		else if (bad || (argv[i][0] == '-' && argv[i][1]) || path) {
			fprintf(err, "sxgate feedback report: unexpected '%s'\n", argv[i]);
			sx_fb_report_usage(err);
			return 1;
		} else
			path = argv[i];
		if (bad)
			break;
	}
	if (bad || !path || (!outs[0].path && !outs[1].path && !outs[2].path)) {
		fprintf(err, "sxgate feedback report: %s\n", bad ? "an option needs a "
		        "value" : !path ? "which file?" : "which output? (--html, "
		        "--csv or --json)");
		sx_fb_report_usage(err);
		return 1;
	}
	int dashes = 0;
	for (int k = 0; k < 3; k++)
		dashes += outs[k].path && !strcmp(outs[k].path, "-");
	if (dashes > 1) {
		fputs("sxgate feedback report: only one output can be '-' (stdout)\n",
		      err);
		return 1;
	}
	/* an output renamed over the log would replace it (the record of what
	 * was fed back to the courts); two outputs of one name, each other */
	static const char *const opt[3] = { "--html", "--csv", "--json" };
	for (int k = 0; k < 3; k++) {
		if (!outs[k].path || !strcmp(outs[k].path, "-"))
			continue;
		const char *clash = sx_file_same(outs[k].path, path) ? "the feedback log" : NULL;
		for (int j = 0; j < k && !clash; j++)
			if (outs[j].path && sx_file_same(outs[k].path, outs[j].path))
				clash = opt[j];
		if (clash) {
			fprintf(err, "sxgate feedback report: %s %s is %s: give it another "
			        "name\n", opt[k], outs[k].path, clash);
			return 1;
		}
	}
	sx_feedback_filter f = { .since_ms = INT64_MIN, .court = court,
	                         .tenant = tenant };
	if (from && day_ms(from, 0, &f.since_ms)) {
		fprintf(err, "sxgate feedback report: --from '%s' is not a date "
		        "(YYYY-MM-DD)\n", from);
		return 1;
	}
	if (to && day_ms(to, 1, &f.until_ms)) {
		fprintf(err, "sxgate feedback report: --to '%s' is not a date "
		        "(YYYY-MM-DD)\n", to);
		return 1;
	}
	if (from && to && f.until_ms <= f.since_ms) {
		fprintf(err, "sxgate feedback report: --from %s is after --to %s\n",
		        from, to);
		return 1;
	}
	unsigned maxn = 20;
	if (max_ids) {
		char *end;
		unsigned long v = strtoul(max_ids, &end, 10);
		if (!*max_ids || *end || v < 1 || v > 1000000) {
			fprintf(err, "sxgate feedback report: --max-ids '%s' is not a "
			        "number from 1 to 1000000\n", max_ids);
			return 1;
		}
		maxn = (unsigned)v;
	}

	char ftext[1024] = "";
	snprintf(ftext, sizeof ftext, "%s%s%s%s%s%s%s%s%s%s%s%s",
	         from ? "from " : "", from ? from : "", from ? " " : "",
	         to ? "to " : "", to ? to : "", to ? " " : "",
	         court ? "court " : "", court ? court : "", court ? " " : "",
	         tenant ? "tenant " : "", tenant ? tenant : "", "");
	size_t fl = strlen(ftext);
	if (fl && ftext[fl - 1] == ' ')
		ftext[fl - 1] = 0;

	prog p = { err, path, 0 };
	int tty = isatty(fileno(err));
	sx_fbdays d;
	char why[1024];
	int rc = sx_fbdays_read(path, &f, tty ? progress : NULL, &p, &d, why,
	                        sizeof why);
	if (p.shown)
		fputc('\n', err);
	if (rc) {
		fprintf(err, "sxgate: %s\n", why);
		return 3;
	}
	if (d.rep.torn_bytes)
		fprintf(err, "sxgate: feedback log %s: torn tail of %" PRIu64 " bytes "
		        "at offset %" PRIu64 " (an interrupted write; skipped, not "
		        "cut)\n", path, d.rep.torn_bytes, d.rep.torn_offset);

	int ok = 1;
	for (int k = 0; k < 3 && ok; k++)
		if (outs[k].path && out_open(&outs[k], out, err))
			ok = 0;
	if (ok && outs[1].f)
		sx_fbexport_csv(outs[1].f, &d);
	if (ok && outs[2].f)
		sx_fbexport_json(outs[2].f, &d, path);
	if (ok && outs[0].f) {
		if (tty)
			fprintf(err, "sxgate feedback report: per case and court...\n");
		sx_fbhtml_opts o = { .path = path, .filter_text = ftext,
		                     .full_ids = full_ids, .max_ids = maxn };
		if (sx_fbhtml_write(outs[0].f, &d, &f, &o, why, sizeof why)) {
			fprintf(err, "sxgate: %s\n", why);
			ok = 0;
		}
	}
	int wrote = 1;
	for (int k = 0; k < 3; k++)
		if (out_close(&outs[k], ok, err))
			wrote = 0;
	if (ok && wrote && tty)
		fprintf(err, "sxgate feedback report: %" PRIu64 " refusals, %u courts,"
		        " %u days\n", d.records, d.ncourts, d.ndays);
	sx_fbdays_free(&d);
	fflush(out);
	return ok && wrote ? 0 : 3;
}
