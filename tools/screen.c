/*
 * screen.c - `sxgate screen`: screen a whole file (a passenger manifest, a
 * customer base) against a snapshot or a server, in one command.
 *
 * The run is a pipeline of chunks (screen.h): this thread reads the input
 * into a ring of chunks and writes the finished ones in input order; N
 * worker threads each take the next filled chunk, check, decide and
 * format it (screen_decide.c, screen_out.c).  Offline with one worker
 * this thread also checks a chunk's rows and parses their IDs before
 * handing it out (scr_check_chunk): reading alone left it idle half the
 * time while the worker did everything else.  Offline the workers share
 * the mmap'd snapshot; online each has its own connection, opened and
 * authenticated before the first row is read, so a wrong address or
 * secret fails at once.  The ring holds 2N+1 chunks: reading, N being
 * decided and N done waiting for their turn to be written, so neither
 * the reader nor the workers wait for long, and memory stays bounded
 * whatever the file's size.
 *
 * --max-rejects N stops the run as soon as more rows than N were
 * rejected; without it the allowance is 0.1% of the rows, as the
 * loader's, known (and judged) only at the end.  Either way the exit is 2
 * and the summary says so.  The output and rejects files hold ID numbers:
 * they are created 0600 (sx_file_open), as the loader's rejects are.
 */
#include "screen.h"
#include "sxargs.h"
#include "wio.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_INPUT = 2, EXIT_FAIL = 3 };

static void usage(FILE *f)
{
	fputs(
"usage: sxgate screen [FILE|-] (--snapshot SNAP | --host H [--port P]) [options]\n"
"  Decide every row of FILE (stdin when absent or '-'): a CSV with a header\n"
"  naming id_no (or id) and optionally id_type (or type), channel, class,\n"
"  day (or at); other columns are carried through.  Or a plain list of IDs,\n"
"  one a line.  UTF-8 with or without BOM, CRLF, RFC 4180 quoting.\n"
"  --snapshot SNAP      decide offline on a snapshot file (mmap)\n"
"  --host H --port P    ask a server (binary protocol, default port 6381);\n"
"                       --timeout MS (default 30000) bounds each wait\n"
"  --channel C --class K --type T --at YYYY-MM-DD\n"
"                       a row's channel, class, ID type and day when it has\n"
"                       no such column or it is empty (--day = --at; the day\n"
"                       defaults to today in UTC+8, fixed at the start)\n"
"  --output FILE        write there instead of stdout (created 0600)\n"
"  --format csv|jsonl   CSV: the row plus decision,reason,cases (default);\n"
"                       jsonl: the /v1/check result plus \"input\"\n"
"  --all                every row, not only DENY, REVIEW, SUSPENDED, EXEMPT\n"
"  --rejects FILE       invalid rows as line,reason,raw (default\n"
"                       FILE.rejects.csv, or screen.rejects.csv for stdin\n"
"                       or a pipe)\n"
"  --max-rejects N      stop when more rows are rejected (default 0.1%)\n"
"  --threads N          workers deciding in parallel; online, connections\n"
"                       (default 2)\n"
"  --batch N            IDs per binary CHECK frame (default: the server's max)\n"
"  --quiet              no summary, no progress bar\n", f);
	fputs(sx_args_help, f);
	fputs("exit: 0 screened, 1 usage, 2 the input was refused or too many rows\n"
	      "      were rejected, 3 the snapshot or server failed\n", f);
}

/* ---- the pipeline ---------------------------------------------------------- */

typedef struct pipe_ {
	const scr_opts *o;
	scr_chunk *ring;
	size_t k;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	uint64_t filled, next;  /* chunks handed out so far, next to decide */
	uint8_t *finished;      /* per ring slot */
	int eof, stop;
} pipe_;

typedef struct worker {
	pipe_ *p;
	scr_net *net;
	pthread_t th;
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	pipe_ *p = w->p;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->next == p->filled && !p->eof && !p->stop)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop || p->next == p->filled) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		uint64_t seq = p->next++;
		pthread_mutex_unlock(&p->mu);
		scr_chunk *ch = &p->ring[seq % p->k];
		scr_decide_chunk(p->o, w->net, ch);
		if (!ch->fatal)
			scr_out_chunk(p->o, ch);
		if ((ch->out.oom || ch->rej.oom) && !ch->fatal) {
			ch->fatal = 1;
			snprintf(ch->fatal_msg, sizeof ch->fatal_msg, "out of memory");
		}
		pthread_mutex_lock(&p->mu);
		p->finished[seq % p->k] = 1;
		pthread_cond_broadcast(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
}

static void chunk_reset(scr_chunk *ch)
{
	ch->nrow = ch->nfld = ch->nq = 0;
	ch->checked = 0;
	ch->bytes.n = ch->text.n = ch->out.n = ch->rej.n = 0;
	memset(ch->per_reason, 0, sizeof ch->per_reason);
	ch->rejected = ch->written = 0;
}

static void chunk_free(scr_chunk *ch)
{
	free(ch->row);
	free(ch->fld);
	free(ch->bytes.p);
	free(ch->text.p);
	free(ch->out.p);
	free(ch->rej.p);
	free(ch->q);
	free(ch->qrow);
	for (size_t i = 0; i < SX_ARRAY_LEN(ch->ws); i++)
		free(ch->ws[i]);
}

/* ---- totals ---------------------------------------------------------------- */

typedef struct totals {
	uint64_t rows, rejected, written, bytes;
	uint64_t per_reason[SX_NREASONS];
} totals;

static void progress(const totals *t, uint64_t size, double secs)
{
	if (size)
		fprintf(stderr, "\r\033[Kscreen: %llu rows, %3.0f%%, %.0f rows/s",
		        (unsigned long long)t->rows,
		        100.0 * (double)(t->bytes > size ? size : t->bytes) / (double)size,
		        secs > 0 ? (double)t->rows / secs : 0.0);
	else
		fprintf(stderr, "\r\033[Kscreen: %llu rows, %.0f rows/s",
		        (unsigned long long)t->rows,
		        secs > 0 ? (double)t->rows / secs : 0.0);
}

static void summary(const scr_opts *o, const totals *t, uint64_t allowed,
                    double secs, const char *out_name, const char *rej_name)
{
	fprintf(stderr, "sxgate screen: %llu rows in %.2f s (%.0f rows/s)%s\n",
	        (unsigned long long)t->rows, secs,
	        secs > 0 ? (double)t->rows / secs : 0.0,
	        o->snap ? ", offline" : ", against the server");
	uint64_t dec[3] = { 0 };   /* DENY, REVIEW, ALLOW */
	for (int r = 0; r < SX_NREASONS; r++)
		dec[r == SX_R_LISTED ? 0 : r == SX_R_REVIEW ? 1 : 2] += t->per_reason[r];
	fprintf(stderr, "  DENY %llu  REVIEW %llu  ALLOW %llu (",
	        (unsigned long long)dec[0], (unsigned long long)dec[1],
	        (unsigned long long)dec[2]);
	int first = 1;
	for (int r = 0; r < SX_NREASONS; r++)
		if (r != SX_R_LISTED && r != SX_R_REVIEW) {
			fprintf(stderr, "%s%s %llu", first ? "" : ", ", sx_reason_name(r),
			        (unsigned long long)t->per_reason[r]);
			first = 0;
		}
	fprintf(stderr, ")\n  rejected %llu (allowed %llu), see %s\n"
	        "  written %llu rows to %s\n", (unsigned long long)t->rejected,
	        (unsigned long long)allowed, rej_name, (unsigned long long)t->written,
	        out_name);
}

/* ---- options --------------------------------------------------------------- */

typedef struct args {
	scr_opts o;
	const char *secret_flag, *secret_file, *format;
	char secret_buf[1024];
	int quiet, timeout_set;
} args;

static int parse_int(const char *flag, const char *s, long lo, long hi, long *v)
{
	char *end;
	errno = 0;
	long x = strtol(s, &end, 10);
	if (errno || end == s || *end || x < lo || x > hi) {
		fprintf(stderr, "sxgate screen: %s '%s': want a number %ld..%ld\n", flag,
		        s, lo, hi);
		return -1;
	}
	*v = x;
	return 0;
}

static int parse_args(int argc, char **argv, args *a)
{
	enum { O_SNAP = 256, O_HOST, O_PORT, O_TIMEOUT, O_CHAN, O_CLASS, O_TYPE, O_AT,
	       O_OUT, O_FMT, O_ALL, O_REJ, O_MAXREJ, O_THREADS, O_BATCH, O_QUIET,
	       O_TENANT, O_SECRET, O_SECRETF, O_TLS, O_HELP };
	static const struct option opts[] = {
		{ "snapshot", required_argument, 0, O_SNAP },
		{ "host", required_argument, 0, O_HOST },
		{ "port", required_argument, 0, O_PORT },
		{ "timeout", required_argument, 0, O_TIMEOUT },
		{ "channel", required_argument, 0, O_CHAN },
		{ "class", required_argument, 0, O_CLASS },
		{ "type", required_argument, 0, O_TYPE },
		{ "at", required_argument, 0, O_AT },
		{ "day", required_argument, 0, O_AT },
		{ "input", required_argument, 0, 'i' },
		{ "output", required_argument, 0, O_OUT },
		{ "format", required_argument, 0, O_FMT },
		{ "all", no_argument, 0, O_ALL },
		{ "rejects", required_argument, 0, O_REJ },
		{ "max-rejects", required_argument, 0, O_MAXREJ },
		{ "threads", required_argument, 0, O_THREADS },
		{ "batch", required_argument, 0, O_BATCH },
		{ "quiet", no_argument, 0, O_QUIET },
		{ "tenant", required_argument, 0, O_TENANT },
		{ "secret", required_argument, 0, O_SECRET },
		{ "secret-file", required_argument, 0, O_SECRETF },
		{ "tls", no_argument, 0, O_TLS },
		{ "insecure", no_argument, 0, O_TLS },
		{ "cacert", required_argument, 0, O_TLS },
		{ "cert", required_argument, 0, O_TLS },
		{ "key", required_argument, 0, O_TLS },
		{ "sni", required_argument, 0, O_TLS },
		{ "help", no_argument, 0, O_HELP },
		{ 0, 0, 0, 0 },
	};
	scr_opts *o = &a->o;
	long v;
	int c, li;
	o->threads = 2;
	o->max_rejects = -1;
	o->net.proto = SX_CLIENT_BINARY;
	o->net.timeout_ms = 30000;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":i:", opts, &li)) != -1) {
		switch (c) {
		case O_SNAP: o->snapshot = optarg; break;
		case O_HOST: o->net.host = optarg; break;
		case O_PORT:
			if (parse_int("--port", optarg, 1, 65535, &v))
				return EXIT_USAGE;
			o->net.port = (int)v;
			break;
		case O_TIMEOUT:
			if (parse_int("--timeout", optarg, 1, 3600000, &v))
				return EXIT_USAGE;
			o->net.timeout_ms = (int)v;
			break;
		case O_CHAN: o->channel = optarg; break;
		case O_CLASS: o->cls = optarg; break;
		case O_TYPE: o->type = optarg; break;
		case O_AT: o->day = optarg; break;
		case 'i': o->input = optarg; break;
		case O_OUT: o->output = optarg; break;
		case O_FMT: a->format = optarg; break;
		case O_ALL: o->all = 1; break;
		case O_REJ: o->rejects = optarg; break;
		case O_MAXREJ:
			if (parse_int("--max-rejects", optarg, 0, LONG_MAX, &v))
				return EXIT_USAGE;
			o->max_rejects = v;
			break;
		case O_THREADS:
			if (parse_int("--threads", optarg, 1, 64, &v))
				return EXIT_USAGE;
			o->threads = (int)v;
			break;
		case O_BATCH:
			if (parse_int("--batch", optarg, 1, SXB_MAX_BATCH, &v))
				return EXIT_USAGE;
			o->batch = (int)v;
			break;
		case O_QUIET: a->quiet = 1; break;
		case O_TENANT: o->tenant = optarg; break;
		case O_SECRET: a->secret_flag = optarg; break;
		case O_SECRETF: a->secret_file = optarg; break;
		case O_TLS: sx_args_tls_set(&o->net, opts[li].name, optarg); break;
		case O_HELP: usage(stdout); return -1;
		case ':':
			fprintf(stderr, "sxgate screen: %s needs a value\n", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "sxgate screen: unknown option '%s' (sxgate screen "
			        "--help)\n", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		if (o->input || optind + 1 < argc) {
			fprintf(stderr, "sxgate screen: unexpected argument '%s': one "
			        "input file\n", argv[o->input ? optind : optind + 1]);
			return EXIT_USAGE;
		}
		o->input = argv[optind];
	}
	if (o->input && !strcmp(o->input, "-"))
		o->input = NULL;
	if (!o->snapshot == !o->net.host) {
		fprintf(stderr, "sxgate screen: give --snapshot SNAP (offline) or "
		        "--host H (a server)%s\n", o->snapshot ? ", not both" : "");
		return EXIT_USAGE;
	}
	if (o->snapshot && (o->tenant || o->net.tls || a->secret_file || a->secret_flag)) {
		fprintf(stderr, "sxgate screen: --tenant, --secret-file and TLS are "
		        "for a server (--host), not --snapshot\n");
		return EXIT_USAGE;
	}
	if (!o->net.port)
		o->net.port = 6381;
	if (a->format && strcmp(a->format, "csv") && strcmp(a->format, "jsonl")) {
		fprintf(stderr, "sxgate screen: --format '%s': want csv or jsonl\n",
		        a->format);
		return EXIT_USAGE;
	}
	o->jsonl = a->format && !strcmp(a->format, "jsonl");
	if (o->day) {
		uint16_t d;
		if (sx_day_parse(o->day, strlen(o->day), &d)) {
			fprintf(stderr, "sxgate screen: --at '%s': want YYYY-MM-DD\n", o->day);
			return EXIT_USAGE;
		}
	}
	sx_day_format(sx_today(), o->today);
	if (o->net.host && (sx_args_tls_check("sxgate screen", &o->net) ||
	    sx_args_secret("sxgate screen", o->tenant, a->secret_flag, a->secret_file,
	                   a->secret_buf, sizeof a->secret_buf, &o->secret)))
		return EXIT_USAGE;
	return 0;
}

/* Create path 0600 (or use stdout) as a buffered stream. */
static FILE *open_out(const char *path, const char *what)
{
	char why[512];
	int fd = sx_file_open(path, O_WRONLY | O_TRUNC, NULL, why, sizeof why);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		fprintf(stderr, "sxgate screen: %s %s\n", what,
		        fd >= 0 ? strerror(errno) : why);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return f;
}

static int write_chunk(FILE *out, FILE *rej, const scr_chunk *ch)
{
	return (ch->out.n && fwrite(ch->out.p, 1, ch->out.n, out) != ch->out.n) ||
	       (ch->rej.n && fwrite(ch->rej.p, 1, ch->rej.n, rej) != ch->rej.n) ? -1 : 0;
}

int sx_cli_screen_main(int argc, char **argv)
{
	args a;
	memset(&a, 0, sizeof a);
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	scr_opts *o = &a.o;
	char why[1024];
	const char *in_name = o->input ? o->input : "stdin";
	sx_snap *snap = NULL;
	worker *ws = calloc((size_t)o->threads, sizeof *ws);
	pipe_ p = { .o = o, .k = 2 * (size_t)o->threads + 1 };
	p.ring = calloc(p.k, sizeof *p.ring);
	p.finished = calloc(p.k, 1);
	FILE *out = NULL, *rej = NULL;
	sx_csv *csv = NULL;
	int fd = -1, nthreads = 0, exit_code = EXIT_FAIL;
	char rej_name[4096];
	totals t = { 0 };
	uint64_t size = 0, allowed = 0;
	int tty = !a.quiet && isatty(2);
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.work, NULL);
	pthread_cond_init(&p.done, NULL);
	if (!ws || !p.ring || !p.finished) {
		fprintf(stderr, "sxgate screen: out of memory\n");
		goto out;
	}

	/* the deciding side first: a refused snapshot or server fails at once */
	if (o->snapshot) {
		if (sx_snap_open(o->snapshot, &snap, why, sizeof why)) {
			fprintf(stderr, "sxgate screen: snapshot refused: %s\n", why);
			goto out;
		}
		o->snap = snap;
	} else {
		for (int i = 0; i < o->threads; i++)
			if (scr_net_open(o, &ws[i].net, why, sizeof why)) {
				fprintf(stderr, "sxgate screen: %s\n", why);
				goto out;
			}
	}
	/* the flags' channel and type now (a class is judged with each row's
	 * channel, a joint channel's by the snapshot's or server's rules) */
	if (o->channel && sx_channel_parse(o->channel, strlen(o->channel)) < 0) {
		fprintf(stderr, "sxgate screen: --channel: unknown channel '%s'\n", o->channel);
		exit_code = EXIT_USAGE;
		goto out;
	}
	sx_query tq;
	if (o->type && sx_query_when(&tq, (sx_str){ o->type, strlen(o->type) },
	                             (sx_str){ o->today, strlen(o->today) }, why, sizeof why)) {
		fprintf(stderr, "sxgate screen: --type: %s\n", why);
		exit_code = EXIT_USAGE;
		goto out;
	}

	fd = o->input ? open(o->input, O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0) {
		fprintf(stderr, "sxgate screen: cannot open %s: %s\n", o->input,
		        strerror(errno));
		exit_code = EXIT_INPUT;
		goto out;
	}
	struct stat st;
	int in_reg = !fstat(fd, &st) && S_ISREG(st.st_mode);
	if (in_reg)
		size = (uint64_t)st.st_size;
	csv = sx_csv_open_fd(fd);
	if (!csv) {
		fprintf(stderr, "sxgate screen: out of memory\n");
		goto out;
	}
	if (scr_in_header(csv, in_name, o, &p.ring[0], why, sizeof why)) {
		fprintf(stderr, "sxgate screen: %s\n", why);
		exit_code = EXIT_INPUT;
		goto out;
	}
	if (o->rejects)
		snprintf(rej_name, sizeof rej_name, "%s", o->rejects);
	else
		snprintf(rej_name, sizeof rej_name, "%s.rejects.csv",
		         o->input && in_reg ? o->input : "screen");   /* a pipe: here */
	/* an output that is the input would be truncated while it is read
	 * (the rest of the rows lost, exit 0), two outputs one file mixed */
	struct stat rst;
	const char *clash = in_reg && sx_file_is(rej_name, &st) ? "the rejects file" :
	                    in_reg && o->output && sx_file_is(o->output, &st) ? "--output" :
	                    NULL;
	if (clash) {
		fprintf(stderr, "sxgate screen: %s %s is the input %s: it would be "
		        "overwritten while it is read\n", clash, clash[0] == '-' ? o->output
		        : rej_name, in_name);
		exit_code = EXIT_USAGE;
		goto out;
	}
	if (!(rej = open_out(rej_name, "the rejects file")))
		goto out;
	if (o->output && !fstat(fileno(rej), &rst) && sx_file_is(o->output, &rst)) {
		fprintf(stderr, "sxgate screen: --output %s is the rejects file: give "
		        "--rejects another name\n", o->output);
		exit_code = EXIT_USAGE;
		goto out;
	}
	if (!(out = o->output ? open_out(o->output, "--output") : stdout))
		goto out;
	setvbuf(out, NULL, _IOFBF, 1 << 20);
	fputs("line,reason,raw\n", rej);
	scr_buf hdr = { 0 };
	scr_out_header(o, &hdr);
	if (hdr.n)
		fwrite(hdr.p, 1, hdr.n, out);
	free(hdr.p);

	for (int i = 0; i < o->threads; i++) {
		ws[i].p = &p;
		if (pthread_create(&ws[i].th, NULL, work, &ws[i])) {
			fprintf(stderr, "sxgate screen: cannot start a thread\n");
			goto stop;
		}
		nthreads++;
	}

	uint64_t t0 = sx_mono_ns(), last = t0, nfill = 0, nwrite = 0;
	int eof = 0, failed = 0, too_many = 0;
	for (;;) {
		/* read while the ring has room, else write the oldest chunk */
		if (!eof && nfill - nwrite < p.k) {
			scr_chunk *ch = &p.ring[nfill % p.k];
			if (scr_in_fill(csv, ch, why, sizeof why) < 0) {
				fprintf(stderr, "%ssxgate screen: %s: %s\n", tty ? "\n" : "",
				        in_name, why);
				failed = EXIT_INPUT;
				break;
			}
			/* offline with one worker the rows are checked and
			 * their IDs parsed here, which evens the work out
			 * between this thread and the worker; with more, the
			 * workers check their own chunks and this thread, the
			 * serial part, stays light */
			if (o->snap && o->threads == 1 && ch->nrow)
				scr_check_chunk(o, ch);
			pthread_mutex_lock(&p.mu);
			if (ch->nrow) {
				ch->seq = nfill++;
				p.filled = nfill;
				pthread_cond_signal(&p.work);
			} else {
				eof = p.eof = 1;
				pthread_cond_broadcast(&p.work);
			}
			pthread_mutex_unlock(&p.mu);
			continue;
		}
		if (nwrite == nfill)
			break;
		scr_chunk *wc = &p.ring[nwrite % p.k];
		pthread_mutex_lock(&p.mu);
		while (!p.finished[nwrite % p.k])
			pthread_cond_wait(&p.done, &p.mu);
		p.finished[nwrite % p.k] = 0;
		pthread_mutex_unlock(&p.mu);
		nwrite++;
		if (wc->fatal) {
			fprintf(stderr, "%ssxgate screen: %s\n", tty ? "\n" : "",
			        wc->fatal_msg);
			failed = EXIT_FAIL;
			break;
		}
		if (write_chunk(out, rej, wc)) {
			fprintf(stderr, "sxgate screen: cannot write: %s\n", strerror(errno));
			failed = EXIT_FAIL;
			break;
		}
		t.rows += wc->nrow;
		t.rejected += wc->rejected;
		t.written += wc->written;
		for (size_t i = 0; i < wc->nrow; i++)
			t.bytes += wc->row[i].raw_len + 1;
		for (int r = 0; r < SX_NREASONS; r++)
			t.per_reason[r] += wc->per_reason[r];
		chunk_reset(wc);
		if (o->max_rejects >= 0 && t.rejected > (uint64_t)o->max_rejects) {
			too_many = 1;
			break;
		}
		uint64_t now = sx_mono_ns();
		if (tty && now - last > 200000000u) {
			progress(&t, size, (double)(now - t0) / 1e9);
			last = now;
		}
	}
	double secs = (double)(sx_mono_ns() - t0) / 1e9;
	if (tty)
		fputs("\r\033[K", stderr);
	if (fflush(out) || fflush(rej)) {
		fprintf(stderr, "sxgate screen: cannot write: %s\n", strerror(errno));
		failed = EXIT_FAIL;
	}
	allowed = o->max_rejects >= 0 ? (uint64_t)o->max_rejects : t.rows / 1000;
	if (!a.quiet)
		summary(o, &t, allowed, secs, o->output ? o->output : "stdout", rej_name);
	if (failed) {
		exit_code = failed;
	} else if (too_many || t.rejected > allowed) {
		fprintf(stderr, "sxgate screen: %llu rows rejected, more than the %llu "
		        "allowed (--max-rejects)%s; see %s\n",
		        (unsigned long long)t.rejected, (unsigned long long)allowed,
		        too_many ? ": stopped, the output is incomplete" : "", rej_name);
		exit_code = EXIT_INPUT;
	} else {
		exit_code = EXIT_OK;
	}
stop:
	pthread_mutex_lock(&p.mu);
	p.stop = 1;
	pthread_cond_broadcast(&p.work);
	pthread_mutex_unlock(&p.mu);
	for (int i = 0; i < nthreads; i++)
		pthread_join(ws[i].th, NULL);
out:
	if (out && out != stdout && fclose(out) && exit_code == EXIT_OK) {
		fprintf(stderr, "sxgate screen: cannot write %s: %s\n", o->output,
		        strerror(errno));
		exit_code = EXIT_FAIL;
	}
	if (out == stdout && fflush(stdout) && exit_code == EXIT_OK)
		exit_code = EXIT_FAIL;
	if (rej && fclose(rej) && exit_code == EXIT_OK)
		exit_code = EXIT_FAIL;
	sx_csv_close(csv);
	if (fd > 0)
		close(fd);
	for (size_t i = 0; p.ring && i < p.k; i++)
		chunk_free(&p.ring[i]);
	for (int i = 0; ws && i < o->threads; i++)
		scr_net_close(ws[i].net);
	free(ws);
	free(p.ring);
	free(p.finished);
	for (size_t i = 0; o->colname && i < o->ncols; i++)
		free(o->colname[i]);
	free(o->colname);
	free(o->header_raw);
	sx_snap_close(snap);
	return exit_code;
}
