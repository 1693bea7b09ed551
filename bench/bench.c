/*
 * bench.c - sxgate-bench, the load generator: drives sxgated (or, with
 * --redis-sismember, a redis-server) over many connections with many
 * requests in flight, checks every reply, and reports throughput and
 * latency percentiles.
 *
 * The idea: T threads, each owning connections/T connections and its own
 * epoll loop; every connection keeps up to --depth requests in flight and
 * remembers them in a ring (send time, request ID, IDs asked), so each
 * reply is matched in order against what was asked.  Requests come from a
 * query file prepared once into batches; sending a request only encodes
 * into the connection's buffer (libsxgate client's pipelined API), so the
 * request path allocates nothing.
 *
 * Closed loop (default): a connection sends its next request as soon as a
 * reply frees a slot; latency is reply time minus send time.  Open loop
 * (--rate R): requests are due at a fixed total rate, spread evenly over
 * the connections, and latency is measured from the time a request was
 * due, not when it could be sent: when the server falls behind, the
 * waiting shows up in the percentiles instead of silently slowing the
 * load (the coordinated-omission correction of wrk2 and HdrHistogram).
 *
 * Batching: one binary CHECK frame carries IDs that share channel, class,
 * type and day.  With --batch B > 1, a frame holds B consecutive queries of
 * the same ID type and takes channel, class and day from its first query;
 * over RESP the same batch is one MCHECK.  With B = 1 every query is sent
 * exactly as written.  Throughput counts IDs answered (lookups); latency is
 * per request (one frame or one command).
 *
 * Trade-off: the timestamp of a reply is taken once per read of a
 * connection, not per frame; parsing a buffer of frames takes
 * microseconds, far below the network round trip being measured. *
 * This file is the command line, the setup (every connection made before
 * the clock starts) and the report; bench_queries.c prepares the load and
 * bench_load.c runs it (bench.h between them).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bench.h"
#include "sxargs.h"

static void usage(FILE *f)
{
	fputs(
"usage: sxgate-bench --queries FILE [options]\n"
"  --host H             server address (default 127.0.0.1)\n"
"  --port P             default 6381 (binary), 6380 (resp), 6379 (--redis-sismember)\n"
"  --protocol binary|resp   (default binary)\n"
"  --connections N      TCP connections (default 1)\n"
"  --depth D            requests in flight per connection (default 1)\n"
"  --batch B            IDs per request: binary frame, or RESP MCHECK (default 1)\n"
"  --duration S         measured seconds (default 10)\n"
"  --warmup S           seconds run before measuring (default 0)\n"
"  --rate R             open loop: R requests/s in total, latency from the\n"
"                       intended send time (default: closed loop)\n"
"  --threads T          threads, each with its own epoll loop (default 1)\n"
"  --queries FILE       lines: id TAB type TAB channel TAB class TAB day\n"
"                       (type, class, day '-' for none), as sxgate-gen writes\n"
"  --command check|listed   (default check)\n"
"  --redis-sismember KEY    send SISMEMBER KEY id over RESP (drive redis-server)\n"
"  --timeout MS         connect and handshake timeout (default 5000)\n"
"  --json               print one JSON line of results on stdout (the summary\n"
"                       goes to stderr)\n"
"TLS and AUTH (on every connection):\n", f);
	fputs(sx_args_help, f);
	fputs(
"exit: 0 run completed without errors, 2 completed with errors (every reply\n"
"is checked), 1 usage error, 3 cannot connect or set up.\n", f);
}

static int parse_num(const char *opt, const char *s, double lo, double hi,
                     double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi)) {
		fprintf(stderr, "sxgate-bench: %s '%s': expected a number from %g to %g\n",
		        opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", 1, 0, 'h' }, { "port", 1, 0, 'p' }, { "protocol", 1, 0, 'P' },
		{ "connections", 1, 0, 'c' }, { "depth", 1, 0, 'd' },
		{ "batch", 1, 0, 'b' }, { "duration", 1, 0, 'D' },
		{ "warmup", 1, 0, 'w' }, { "rate", 1, 0, 'r' },
		{ "threads", 1, 0, 't' }, { "queries", 1, 0, 'q' },
		{ "command", 1, 0, 'C' }, { "redis-sismember", 1, 0, 'R' },
		{ "tenant", 1, 0, 'T' }, { "secret", 1, 0, 'S' },
		{ "secret-file", 1, 0, 'F' },
		{ "timeout", 1, 0, 'o' }, { "json", 0, 0, 'j' }, { "help", 0, 0, 'H' },
		/* the TLS flags of sxargs.h, handed over by name */
		{ "tls", 0, 0, 'L' }, { "insecure", 0, 0, 'L' }, { "cacert", 1, 0, 'L' },
		{ "cert", 1, 0, 'L' }, { "key", 1, 0, 'L' }, { "sni", 1, 0, 'L' },
		{ 0, 0, 0, 0 }
	};
	const char *secret_file = NULL;
	bench.host = "127.0.0.1";
	bench.proto = SX_CLIENT_BINARY;
	bench.conns = bench.depth = bench.batch = bench.threads = 1;
	bench.duration = 10;
	bench.timeout_ms = 5000;
	bench.cmd = CMD_CHECK;
	int proto_set = 0, cmd_set = 0;
	double v;
	int o, li;
	while ((o = getopt_long(argc, argv, "", opts, &li)) != -1) {
		switch (o) {
		case 'h': bench.host = optarg; break;
		case 'p':
			if (parse_num("--port", optarg, 1, 65535, &v)) return -1;
			bench.port = (int)v;
			break;
		case 'P':
			proto_set = 1;
			if (!strcmp(optarg, "binary"))
				bench.proto = SX_CLIENT_BINARY;
			else if (!strcmp(optarg, "resp"))
				bench.proto = SX_CLIENT_RESP;
			else {
				fprintf(stderr, "sxgate-bench: --protocol '%s': expected binary or resp\n",
				        optarg);
				return -1;
			}
			break;
		case 'c':
			if (parse_num("--connections", optarg, 1, 100000, &v)) return -1;
			bench.conns = (int)v;
			break;
		case 'd':
			if (parse_num("--depth", optarg, 1, 1000000, &v)) return -1;
			bench.depth = (int)v;
			break;
		case 'b':
			if (parse_num("--batch", optarg, 1, 65535, &v)) return -1;
			bench.batch = (int)v;
			break;
		case 'D':
			if (parse_num("--duration", optarg, 0.001, 1e7, &bench.duration)) return -1;
			break;
		case 'w':
			if (parse_num("--warmup", optarg, 0, 1e7, &bench.warmup)) return -1;
			break;
		case 'r':
			if (parse_num("--rate", optarg, 0.001, 1e10, &bench.rate)) return -1;
			break;
		case 't':
			if (parse_num("--threads", optarg, 1, 1024, &v)) return -1;
			bench.threads = (int)v;
			break;
		case 'q': bench.queries = optarg; break;
		case 'C':
			cmd_set = 1;
			if (!strcmp(optarg, "check"))
				bench.cmd = CMD_CHECK;
			else if (!strcmp(optarg, "listed"))
				bench.cmd = CMD_LISTED;
			else {
				fprintf(stderr, "sxgate-bench: --command '%s': expected check or listed\n",
				        optarg);
				return -1;
			}
			break;
		case 'R': bench.redis_key = optarg; break;
		case 'T': bench.tenant = optarg; break;
		case 'S': bench.secret = optarg; break;
		case 'F': secret_file = optarg; break;
		case 'L': sx_args_tls_set(&bench.net, opts[li].name, optarg); break;
		case 'o':
			if (parse_num("--timeout", optarg, 1, 3600000, &v)) return -1;
			bench.timeout_ms = (int)v;
			break;
		case 'j': bench.json = 1; break;
		case 'H': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sxgate-bench: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!bench.queries) {
		fprintf(stderr, "sxgate-bench: --queries FILE is required\n");
		return -1;
	}
	if (bench.redis_key) {
		if (cmd_set || (proto_set && bench.proto != SX_CLIENT_RESP)) {
			fprintf(stderr, "sxgate-bench: --redis-sismember speaks RESP SISMEMBER; "
			        "it takes no --command and no --protocol binary\n");
			return -1;
		}
		bench.proto = SX_CLIENT_RESP;
		bench.cmd = CMD_SISMEMBER;
	}
	if (bench.proto == SX_CLIENT_RESP && bench.cmd != CMD_CHECK && bench.batch > 1) {
		fprintf(stderr, "sxgate-bench: --batch %d: over RESP only CHECK batches "
		        "(as MCHECK); LISTED and SISMEMBER take one ID\n", bench.batch);
		return -1;
	}
	if (sx_args_tls_check("sxgate-bench", &bench.net) ||
	    sx_args_secret("sxgate-bench", bench.tenant, bench.secret, secret_file,
	                   bench.secret_buf, sizeof bench.secret_buf, &bench.secret))
		return -1;
	if (!bench.port)
		bench.port = bench.redis_key ? 6379 : bench.proto == SX_CLIENT_RESP ? 6380 : 6381;
	if (bench.threads > bench.conns)
		bench.threads = bench.conns;
	return 0;
}

static const char *cmd_name(void)
{
	return bench.cmd == CMD_CHECK ? (bench.proto == SX_CLIENT_RESP && bench.batch > 1 ? "mcheck" : "check")
	     : bench.cmd == CMD_LISTED ? "listed" : "sismember";
}

int main(int argc, char **argv)
{
	if (parse_args(argc, argv))
		return 1;
	signal(SIGPIPE, SIG_IGN);
	if (load_queries(bench.queries) || make_batches())
		return 3;
	if (bench.proto == SX_CLIENT_RESP)
		encode_resp();

	worker *ws = calloc((size_t)bench.threads, sizeof *ws);
	conn *cs = calloc((size_t)bench.conns, sizeof *cs);
	if (!ws || !cs) {
		fprintf(stderr, "sxgate-bench: out of memory\n");
		return 3;
	}
	bench.net.host = bench.host;
	bench.net.port = bench.port;
	bench.net.proto = bench.proto;
	bench.net.timeout_ms = bench.timeout_ms;
	/* Connect everything before the clock starts. */
	for (int i = 0; i < bench.conns; i++) {
		conn *c = &cs[i];
		char err[600];
		int rc = sx_client_open(&bench.net, &c->cli, err, sizeof err);
		if (rc) {
			fprintf(stderr, "sxgate-bench: connection %d: %s\n", i, err);
			return 3;
		}
		if (!bench.tenant && bench.proto == SX_CLIENT_BINARY && sx_client_auth_required(c->cli)) {
			fprintf(stderr, "sxgate-bench: %s:%d requires AUTH: give --tenant and --secret\n",
			        bench.host, bench.port);
			return 3;
		}
		if (bench.tenant && (rc = sx_client_auth(c->cli, bench.tenant, bench.secret))) {
			fprintf(stderr, "sxgate-bench: AUTH %s: %s\n", bench.tenant,
			        sx_client_errmsg(c->cli));
			return 3;
		}
		if (bench.proto == SX_CLIENT_BINARY && (unsigned)bench.batch > sx_client_max_batch(c->cli)) {
			fprintf(stderr, "sxgate-bench: --batch %d exceeds the server's max_batch %u\n",
			        bench.batch, sx_client_max_batch(c->cli));
			return 1;
		}
		sx_client_set_blocking(c->cli, 0);
		c->alive = 1;
		c->ring = calloc((size_t)bench.depth, sizeof *c->ring);
		c->argv = malloc(((size_t)bench.batch + 10) * sizeof *c->argv);
		c->alens = malloc(((size_t)bench.batch + 10) * sizeof *c->alens);
		if (!c->ring || !c->argv || !c->alens) {
			fprintf(stderr, "sxgate-bench: out of memory\n");
			return 3;
		}
		/* Spread the connections over the query list. */
		c->next_batch = (size_t)((double)i * (double)bench.nbatches / bench.conns);
	}

	pthread_barrier_init(&bench.go, NULL, (unsigned)bench.threads + 1);
	int per = bench.conns / bench.threads, extra = bench.conns % bench.threads, at = 0;
	for (int t = 0; t < bench.threads; t++) {
		worker *w = &ws[t];
		w->idx = t;
		w->conns = cs + at;
		w->nconn = per + (t < extra);
		at += w->nconn;
		w->hist = sx_hist_new();
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (!w->hist || w->epfd < 0) {
			fprintf(stderr, "sxgate-bench: cannot set up thread %d: %s\n", t,
			        strerror(errno));
			return 3;
		}
		for (int i = 0; i < w->nconn; i++) {
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->conns[i] };
			if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, sx_client_fd(w->conns[i].cli), &ev)) {
				fprintf(stderr, "sxgate-bench: epoll_ctl: %s\n", strerror(errno));
				return 3;
			}
		}
		if (pthread_create(&w->th, NULL, worker_main, w)) {
			fprintf(stderr, "sxgate-bench: cannot start thread %d\n", t);
			return 3;
		}
	}
	bench.t_start = now_ns();
	bench.t_meas = bench.t_start + bench.warmup * 1e9;
	bench.t_end = bench.t_meas + bench.duration * 1e9;
	if (bench.rate > 0) {
		bench.interval = 1e9 * bench.conns / bench.rate;
		for (int i = 0; i < bench.conns; i++)
			cs[i].next_due = bench.t_start + bench.interval * i / bench.conns;
	}
	pthread_barrier_wait(&bench.go);

	sx_hist *h = sx_hist_new();
	uint64_t requests = 0, lookups = 0, errors = 0, failed = 0, dec[3] = { 0 };
	for (int t = 0; t < bench.threads; t++) {
		pthread_join(ws[t].th, NULL);
		sx_hist_merge(h, ws[t].hist);
		for (int i = 0; i < 3; i++)
			dec[i] += ws[t].decided[i];
		requests += ws[t].requests;
		lookups += ws[t].lookups;
		errors += ws[t].errors;
		failed += ws[t].failed_conns;
	}
	double t_done = now_ns();
	double secs = ((t_done < bench.t_end ? t_done : bench.t_end) - bench.t_meas) / 1e9;
	if (secs <= 0)
		secs = 0;
	for (int i = 0; i < bench.conns; i++) {
		sx_client_close(cs[i].cli);
		free(cs[i].ring);
		free(cs[i].argv);
		free(cs[i].alens);
	}
	for (int t = 0; t < bench.threads; t++) {
		sx_hist_free(ws[t].hist);
		close(ws[t].epfd);
	}
	free(cs);
	free(bench.wire);
	free(bench.wire_off);
	free(ws);

	double us = 1e-3;
	double p50 = (double)sx_hist_percentile(h, 50) * us;
	double p90 = (double)sx_hist_percentile(h, 90) * us;
	double p99 = (double)sx_hist_percentile(h, 99) * us;
	double p999 = (double)sx_hist_percentile(h, 99.9) * us;
	double pmax = (double)sx_hist_max(h) * us;
	double mean = sx_hist_mean(h) * us;
	double lps = secs > 0 ? (double)lookups / secs : 0;
	double rps = secs > 0 ? (double)requests / secs : 0;
	const char *proto = bench.proto == SX_CLIENT_BINARY ? "binary" : "resp";

	FILE *out = bench.json ? stderr : stdout;
	fprintf(out, "sxgate-bench: %s %s to %s:%d%s, %d connections x depth %d, batch %d, "
	        "%d threads, %s, %.1f s measured after %.1f s warmup\n",
	        proto, cmd_name(), bench.host, bench.port, bench.net.tls ? " over TLS" : "",
	        bench.conns, bench.depth, bench.batch, bench.threads,
	        bench.rate > 0 ? "open loop" : "closed loop", secs, bench.warmup);
	if (bench.rate > 0)
		fprintf(out, "  target rate  %.0f requests/s (latency from intended send time)\n",
		        bench.rate);
	fprintf(out, "  lookups      %llu (%.0f/s)\n", (unsigned long long)lookups, lps);
	fprintf(out, "  requests     %llu (%.0f/s)\n", (unsigned long long)requests, rps);
	fprintf(out, "  errors       %llu%s\n", (unsigned long long)errors,
	        failed ? " (connections lost, see above)" : "");
	if (bench.cmd == CMD_CHECK)
		fprintf(out, "  decisions    %llu ALLOW, %llu DENY, %llu REVIEW\n",
		        (unsigned long long)dec[SXB_ALLOW],
		        (unsigned long long)dec[SXB_DENY],
		        (unsigned long long)dec[SXB_REVIEW]);
	fprintf(out, "  latency us   p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  "
	        "mean %.1f\n", p50, p90, p99, p999, pmax, mean);
	if (bench.json) {
		printf("{\"lookups_per_s\":%.1f,\"requests_per_s\":%.1f,"
		       "\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
		       "\"max_us\":%.1f,\"mean_us\":%.1f,\"errors\":%llu,\"requests\":%llu,"
		       "\"lookups\":%llu,\"protocol\":\"%s\",\"command\":\"%s\","
		       "\"connections\":%d,\"depth\":%d,\"batch\":%d,\"threads\":%d,"
		       "\"duration_s\":%.3f,\"warmup_s\":%.3f,\"mode\":\"%s\",\"rate\":%.1f,"
		       "\"failed_connections\":%llu,\"allow\":%llu,\"deny\":%llu,"
		       "\"review\":%llu}\n",
		       lps, rps, p50, p90, p99, p999, pmax, mean,
		       (unsigned long long)errors, (unsigned long long)requests,
		       (unsigned long long)lookups, proto, cmd_name(), bench.conns, bench.depth,
		       bench.batch, bench.threads, secs, bench.warmup, bench.rate > 0 ? "open" : "closed",
		       bench.rate, (unsigned long long)failed,
		       (unsigned long long)dec[SXB_ALLOW], (unsigned long long)dec[SXB_DENY],
		       (unsigned long long)dec[SXB_REVIEW]);
		fflush(stdout);
	}
	sx_hist_free(h);
	free(bench.batches);
	free(bench.ids);
	free(bench.idlens);
	free(bench.q);
	free(bench.text);
	return errors ? 2 : 0;
}
