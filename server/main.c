/*
 * main.c - sxgated: flags, signals, and the server's life (server.h does
 * the work).
 *
 * Signals are blocked in every thread and taken synchronously here with
 * sigtimedwait, so a handler never runs in the middle of a request and no
 * async-signal-safety rules apply: SIGHUP reloads the snapshot, SIGTERM
 * and SIGINT drain (stop accepting, answer what was received, exit 0; at
 * the 10 s cap a job still stuck is left behind, logged, and the exit
 * status is 1); a second SIGTERM/SIGINT while draining exits at once.  SIGPIPE is ignored
 * (sends use MSG_NOSIGNAL anyway).
 *
 * Under systemd (Type=notify, notify.h) main says READY=1 once
 * sx_srv_start has returned (every listener accepts, every worker runs),
 * STOPPING=1 when the drain begins, and, when WatchdogSec is set, WATCHDOG=1
 * every half interval, but only while every I/O worker's event loop turns
 * (sx_srv_alive): a worker wedged in a request for SX_WATCHDOG_STALE_MS
 * stops the pings, and systemd restarts the server.  A check that fails is
 * tried again every tick, so a worker that was only slow delays one ping,
 * never past the manager's deadline.
 *
 * One testing hook lives here: SXGATE_WIO_FAULT (engine/wio.h,
 * docs/RELIABILITY.md) installs a fault plan for the journal and feedback
 * writes, so the server tests can fail them in this process.  It is
 * parsed before anything is opened (a malformed plan stops the start),
 * installed once the server is ready, and announced in the log and INFO.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "addr.h"
#include "audit.h"
#include "log.h"
#include "notify.h"
#include "server.h"
#include "sx.h"
#include "tls.h"
#include "wio.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: sxgated --snapshot SNAP [options]\n"
"\n"
"Serve sxgate decisions from a snapshot over RESP2, the binary protocol and\n"
"HTTP, each in the clear and over TLS.\n"
"\n"
"  --snapshot SNAP       snapshot file to serve (required); RELOAD and SIGHUP\n"
"                        load it again\n"
"  --bind ADDR           address to listen on (default 127.0.0.1); a\n"
"                        non-loopback address needs --tenants (or\n"
"                        --insecure-no-auth) and TLS (or --allow-plain)\n"
"  --resp-port N         RESP port (default 6380; 0: off)\n"
"  --bin-port N          binary protocol port (default 6381; 0: off)\n"
"  --http-port N         plain HTTP: GET /metrics (Prometheus), /health and\n"
"                        the HTTP/JSON API, /v1/... (docs/HTTP.md; off loopback\n"
"                        only with --allow-plain) (default 0: off);\n"
"                        --metrics-port N is the same flag\n"
"  --tls-http-port N     HTTP over TLS, the API included (default 0: off)\n"
"  --tls-resp-port N     RESP over TLS (default 0: off)\n"
"  --tls-bin-port N      binary protocol over TLS (default 0: off)\n"
"  --tls-cert FILE       PEM certificate (a chain allowed) of the TLS ports\n"
"  --tls-key FILE        its PEM private key (not readable by group or others)\n"
"  --tls-ca FILE         PEM CAs that client certificates must chain to\n"
"  --tls-client-auth none|optional|required\n"
"                        ask for a client certificate (default none); a\n"
"                        tenant's cert= binds one to it (docs/SERVER.md)\n"
"  --tls-ciphers LIST    TLS 1.2 ciphers (OpenSSL syntax; default OpenSSL's)\n"
"  --tls-ciphersuites L  TLS 1.3 suites (default OpenSSL's)\n"
"  --allow-plain         plain --resp-port/--bin-port/HTTP API on a non-loopback\n"
"                        --bind (refused without it: clear text on a network)\n"
"  --http-bind ADDR      address of the plain HTTP port (default: --bind),\n"
"                        e.g. for HAProxy's checks on a private address\n"
"  --proxy-protocol      behind a load balancer (HAProxy send-proxy-v2): every\n"
"                        RESP and binary connection, plain or TLS, must begin\n"
"                        with a PROXY protocol header (v1 or v2, before TLS),\n"
"                        and AUTH limits count the client address it names;\n"
"                        refused from anyone not in --proxy-from. The HTTP\n"
"                        ports take no header (checks, scrapers come direct)\n"
"  --proxy-from CIDR[,CIDR...]\n"
"                        who may send the header, IPv4 or IPv6 prefixes, e.g.\n"
"                        10.0.0.5/32,fd00::/64 (default: loopback only,\n"
"                        127.0.0.0/8,::1/128); needs --proxy-protocol\n"
"  --metrics-auth non-loopback|always|none\n"
"                        where GET /metrics needs the credentials of a tenant\n"
"                        with the metrics flag (HTTP Basic or Bearer\n"
"                        tenant:secret): on HTTP ports not bound to loopback\n"
"                        (default), on every HTTP port, or nowhere (warned);\n"
"                        /health is always open\n"
"  --threads N           I/O threads (default: one per CPU)\n"
"  --io uring|epoll      I/O backend (default: io_uring when usable, else epoll)\n"
"  --tenants FILE        tenants file: clients must AUTH (see docs/SERVER.md);\n"
"                        refused when group or others may read or write it\n"
"  --insecure-no-auth    allow a non-loopback --bind without --tenants\n"
"  --max-clients N       connection limit (default 10000)\n"
"  --idle-timeout S      close clients idle for S seconds (default 0: never)\n"
"  --auth-timeout S      with --tenants, close a client (RESP, binary) that has\n"
"                        not authenticated within S seconds (default 10; 0:\n"
"                        never)\n"
"  --request-timeout S   close a client whose request stays incomplete for S\n"
"                        seconds, trickled or stalled (default 10; 0: never)\n"
"  --max-output BYTES    reply bytes queued for one client before it is cut\n"
"                        off (default 67108864; suffixes k, m, g)\n"
"  --journal FILE        live-update journal: LIST.*/PERMIT.* are answered\n"
"                        only once fsync'd here, and replayed at start\n"
"  --feedback FILE       feedback log to the courts: every DENY, SUSPENDED\n"
"                        and EXEMPT decision (sxgate feedback summarize)\n"
"  --updates-from URL    follow live updates from redis://HOST:PORT/STREAM,\n"
"                        rediss://... over TLS, redis://USER@HOST... as a\n"
"                        Redis 6 ACL user (needs --journal; admin updates\n"
"                        are then refused)\n"
"  --updates-password-file FILE\n"
"                        the feed's password, the first line of FILE (mode\n"
"                        0600: refused when group or others may read it)\n"
"  --updates-ca FILE     PEM CAs a rediss:// feed's certificate must chain\n"
"                        to (default: the system's)\n"
"  --max-lag S           feed lag /health tolerates (default 5 seconds)\n"
"  --log-level LEVEL     error, warning, info or debug (default info): drop\n"
"                        log lines below it; audit lines are never dropped\n"
"                        (docs/SERVER.md, \"Log levels\")\n"
"  --file-mode MODE      octal mode of the journal and the feedback log, which\n"
"                        hold ID numbers (default 0600; 0640 lets the group\n"
"                        read them; modes that give others anything are refused)\n"
"  --help                this text\n"
"  --version             print the version\n"
"\n"
"Signals: SIGHUP reloads the snapshot (and the TLS certificate, key and CA);\n"
"SIGTERM or SIGINT drains and exits 0 (1 when a job is still stuck at the\n"
"10 s drain cap).  Under systemd (Type=notify, NOTIFY_SOCKET) it says READY=1,\n"
"RELOADING=1/READY=1 around a snapshot swap, STOPPING=1, and WATCHDOG=1 while\n"
"its event loops turn (WatchdogSec).\n");
}

static int parse_int(const char *flag, const char *s, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "sxgated: %s: '%s' is not a number in %ld..%ld\n", flag, s, lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int parse_size(const char *flag, const char *s, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;
	if (*end == 'k' || *end == 'K') shift = 10, end++;
	else if (*end == 'm' || *end == 'M') shift = 20, end++;
	else if (*end == 'g' || *end == 'G') shift = 30, end++;
	if (errno || end == s || *end || s[0] == '-' || v > (1ull << 40) >> shift) {
		fprintf(stderr, "sxgated: %s: '%s' is not a size (bytes, or with k, m, g)\n", flag, s);
		return -1;
	}
	*out = (size_t)(v << shift);
	return 0;
}

/* A worker that has not begun a loop iteration for this long is wedged (an
 * idle one wakes every second): no WATCHDOG=1 until it turns again. */
#define SX_WATCHDOG_STALE_MS 3000

/* Descriptors besides the clients': per worker three listening sockets
 * (RESP, binary, HTTP), a doorbell and a ring or epoll instance; then the
 * journal, the feedback log, the follower's connection, the log. */
#define FD_PER_THREAD 5
#define FD_RESERVE    64

/*
 * Every client is a descriptor, and the usual soft limit (1024) is far
 * below --max-clients.  Raise the soft RLIMIT_NOFILE to what the clients
 * need, as far as the hard limit allows (as Redis does), and say so when
 * it does not: past the limit accept fails, and the clients over it wait
 * in the listen queue (INFO accept_errors) instead of being refused.
 */
__attribute__((cold)) static void raise_fd_limit(const sx_srv_config *cfg)
{
	long threads = cfg->threads;
	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n < 1 ? 1 : n;
	}
	rlim_t want = (rlim_t)cfg->max_clients + FD_RESERVE + FD_PER_THREAD * (rlim_t)threads;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
		return;
	rlim_t was = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
	if (rl.rlim_cur > was && setrlimit(RLIMIT_NOFILE, &rl) == 0)
		sx_log_info("open files limit raised from %llu to %llu for --max-clients %d",
		            (unsigned long long)was, (unsigned long long)rl.rlim_cur, cfg->max_clients);
	else
		rl.rlim_cur = was;
	if (rl.rlim_cur < want)
		sx_log_warn("the open files limit is %llu (hard limit %llu), below the %llu "
		            "descriptors --max-clients %d needs: clients past it wait unaccepted instead "
		            "of being refused (INFO accept_errors); raise it (ulimit -Hn, systemd "
		            "LimitNOFILE=)", (unsigned long long)rl.rlim_cur,
		            (unsigned long long)rl.rlim_max, (unsigned long long)want, cfg->max_clients);
}

enum {
	OPT_SNAPSHOT = 256, OPT_BIND, OPT_RESP_PORT, OPT_BIN_PORT, OPT_HTTP_PORT,
	OPT_THREADS, OPT_IO, OPT_TENANTS, OPT_JOURNAL, OPT_FEEDBACK, OPT_UPDATES_FROM,
	OPT_MAX_LAG, OPT_MAX_CLIENTS,
	OPT_IDLE_TIMEOUT, OPT_REQUEST_TIMEOUT, OPT_AUTH_TIMEOUT, OPT_MAX_OUTPUT, OPT_INSECURE, OPT_HELP, OPT_VERSION,
	OPT_TLS_RESP_PORT, OPT_TLS_BIN_PORT, OPT_TLS_HTTP_PORT, OPT_TLS_CERT, OPT_TLS_KEY,
	OPT_TLS_CA, OPT_TLS_CLIENT_AUTH, OPT_TLS_CIPHERS, OPT_TLS_CIPHERSUITES,
	OPT_ALLOW_PLAIN, OPT_HTTP_BIND, OPT_FILE_MODE, OPT_UPDATES_PASSWORD_FILE, OPT_UPDATES_CA,
	OPT_PROXY_PROTOCOL, OPT_PROXY_FROM,
	OPT_METRICS_AUTH,
	OPT_LOG_LEVEL,
};

static const struct option options[] = {
	{ "snapshot",         required_argument, NULL, OPT_SNAPSHOT },
	{ "bind",             required_argument, NULL, OPT_BIND },
	{ "resp-port",        required_argument, NULL, OPT_RESP_PORT },
	{ "bin-port",         required_argument, NULL, OPT_BIN_PORT },
	{ "http-port",        required_argument, NULL, OPT_HTTP_PORT },
	{ "metrics-port",     required_argument, NULL, OPT_HTTP_PORT },   /* its old name */
	{ "threads",          required_argument, NULL, OPT_THREADS },
	{ "io",               required_argument, NULL, OPT_IO },
	{ "tenants",          required_argument, NULL, OPT_TENANTS },
	{ "journal",          required_argument, NULL, OPT_JOURNAL },
	{ "feedback",         required_argument, NULL, OPT_FEEDBACK },
	{ "updates-from",     required_argument, NULL, OPT_UPDATES_FROM },
	{ "updates-password-file", required_argument, NULL, OPT_UPDATES_PASSWORD_FILE },
	{ "updates-ca",       required_argument, NULL, OPT_UPDATES_CA },
	{ "max-lag",          required_argument, NULL, OPT_MAX_LAG },
	{ "max-clients",      required_argument, NULL, OPT_MAX_CLIENTS },
	{ "idle-timeout",     required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "request-timeout",  required_argument, NULL, OPT_REQUEST_TIMEOUT },
	{ "auth-timeout",     required_argument, NULL, OPT_AUTH_TIMEOUT },
	{ "max-output",       required_argument, NULL, OPT_MAX_OUTPUT },
	{ "insecure-no-auth", no_argument,       NULL, OPT_INSECURE },
	{ "metrics-auth",     required_argument, NULL, OPT_METRICS_AUTH },
	{ "tls-resp-port",    required_argument, NULL, OPT_TLS_RESP_PORT },
	{ "tls-bin-port",     required_argument, NULL, OPT_TLS_BIN_PORT },
	{ "tls-http-port",    required_argument, NULL, OPT_TLS_HTTP_PORT },
	{ "tls-cert",         required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key",          required_argument, NULL, OPT_TLS_KEY },
	{ "tls-ca",           required_argument, NULL, OPT_TLS_CA },
	{ "tls-client-auth",  required_argument, NULL, OPT_TLS_CLIENT_AUTH },
	{ "tls-ciphers",      required_argument, NULL, OPT_TLS_CIPHERS },
	{ "tls-ciphersuites", required_argument, NULL, OPT_TLS_CIPHERSUITES },
	{ "allow-plain",      no_argument,       NULL, OPT_ALLOW_PLAIN },
	{ "http-bind",        required_argument, NULL, OPT_HTTP_BIND },
	{ "proxy-protocol",   no_argument,       NULL, OPT_PROXY_PROTOCOL },
	{ "proxy-from",       required_argument, NULL, OPT_PROXY_FROM },
	{ "file-mode",        required_argument, NULL, OPT_FILE_MODE },
	{ "log-level",        required_argument, NULL, OPT_LOG_LEVEL },
	{ "help",             no_argument,       NULL, OPT_HELP },
	{ "version",          no_argument,       NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int log_level = SX_LOG_INFO;      /* --log-level */

/* Returns 0, 1 (exit 0: --help/--version) or -1 (usage error). */
static int parse_args(int argc, char **argv, sx_srv_config *cfg)
{
	int opt, li = -1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", options, &li)) != -1) {
		const char *flag = argv[optind - 1];
		switch (opt) {
		case OPT_SNAPSHOT: cfg->snapshot = optarg; break;
		case OPT_BIND: cfg->bind = optarg; break;
		case OPT_RESP_PORT:
			if (parse_int("--resp-port", optarg, 0, 65535, &cfg->resp_port)) return -1;
			break;
		case OPT_BIN_PORT:
			if (parse_int("--bin-port", optarg, 0, 65535, &cfg->bin_port)) return -1;
			break;
		case OPT_HTTP_PORT: {    /* named as given: --http-port or --metrics-port */
			char name[32];
			snprintf(name, sizeof name, "--%s", li >= 0 ? options[li].name : "http-port");
			if (parse_int(name, optarg, 0, 65535, &cfg->http_port)) return -1;
			break;
		}
		case OPT_THREADS:
			if (parse_int("--threads", optarg, 1, 256, &cfg->threads)) return -1;
			break;
		case OPT_IO:
			if (!strcmp(optarg, "uring") || !strcmp(optarg, "io_uring"))
				cfg->io = SX_IO_URING;
			else if (!strcmp(optarg, "epoll"))
				cfg->io = SX_IO_EPOLL;
			else {
				fprintf(stderr, "sxgated: --io: '%s' is not uring or epoll\n", optarg);
				return -1;
			}
			break;
		case OPT_TENANTS: cfg->tenants = optarg; break;
		case OPT_JOURNAL: cfg->journal = optarg; break;
		case OPT_FEEDBACK: cfg->feedback = optarg; break;
		case OPT_UPDATES_FROM: cfg->updates_from = optarg; break;
		case OPT_UPDATES_PASSWORD_FILE: cfg->updates_password_file = optarg; break;
		case OPT_UPDATES_CA: cfg->updates_ca = optarg; break;
		case OPT_MAX_LAG:
			if (parse_int("--max-lag", optarg, 0, 86400, &cfg->max_lag))
				return -1;
			break;
		case OPT_MAX_CLIENTS:
			if (parse_int("--max-clients", optarg, 1, 10000000, &cfg->max_clients)) return -1;
			break;
		case OPT_IDLE_TIMEOUT:
			if (parse_int("--idle-timeout", optarg, 0, INT_MAX, &cfg->idle_timeout)) return -1;
			break;
		case OPT_AUTH_TIMEOUT:
			if (parse_int("--auth-timeout", optarg, 0, INT_MAX, &cfg->auth_timeout))
				return -1;
			break;
		case OPT_REQUEST_TIMEOUT:
			if (parse_int("--request-timeout", optarg, 0, INT_MAX, &cfg->request_timeout))
				return -1;
			break;
		case OPT_MAX_OUTPUT:
			if (parse_size("--max-output", optarg, &cfg->max_output)) return -1;
			break;
		case OPT_INSECURE: cfg->insecure_no_auth = 1; break;
		case OPT_METRICS_AUTH:
			if (!strcmp(optarg, "non-loopback"))
				cfg->metrics_auth = SX_METRICS_AUTH_NON_LOOPBACK;
			else if (!strcmp(optarg, "always"))
				cfg->metrics_auth = SX_METRICS_AUTH_ALWAYS;
			else if (!strcmp(optarg, "none"))
				cfg->metrics_auth = SX_METRICS_AUTH_NONE;
			else {
				fprintf(stderr, "sxgated: --metrics-auth: '%s' is not non-loopback, "
				        "always or none\n", optarg);
				return -1;
			}
			break;
		case OPT_TLS_RESP_PORT:
			if (parse_int("--tls-resp-port", optarg, 0, 65535, &cfg->tls_resp_port)) return -1;
			break;
		case OPT_TLS_BIN_PORT:
			if (parse_int("--tls-bin-port", optarg, 0, 65535, &cfg->tls_bin_port)) return -1;
			break;
		case OPT_TLS_HTTP_PORT:
			if (parse_int("--tls-http-port", optarg, 0, 65535, &cfg->tls_http_port)) return -1;
			break;
		case OPT_TLS_CERT: cfg->tls_cert = optarg; break;
		case OPT_TLS_KEY: cfg->tls_key = optarg; break;
		case OPT_TLS_CA: cfg->tls_ca = optarg; break;
		case OPT_TLS_CIPHERS: cfg->tls_ciphers = optarg; break;
		case OPT_TLS_CIPHERSUITES: cfg->tls_ciphersuites = optarg; break;
		case OPT_TLS_CLIENT_AUTH:
			if (!strcmp(optarg, "none"))
				cfg->tls_client_auth = SX_TLS_CLIENT_NONE;
			else if (!strcmp(optarg, "optional"))
				cfg->tls_client_auth = SX_TLS_CLIENT_OPTIONAL;
			else if (!strcmp(optarg, "required"))
				cfg->tls_client_auth = SX_TLS_CLIENT_REQUIRED;
			else {
				fprintf(stderr, "sxgated: --tls-client-auth: '%s' is not none, optional "
				        "or required\n", optarg);
				return -1;
			}
			break;
		case OPT_ALLOW_PLAIN: cfg->allow_plain = 1; break;
		case OPT_HTTP_BIND: cfg->http_bind = optarg; break;
		case OPT_PROXY_PROTOCOL: cfg->proxy_protocol = 1; break;
		case OPT_PROXY_FROM: {
			char why[512];
			sx_cidr_list l;
			if (sx_cidr_list_parse("--proxy-from", optarg, &l, why, sizeof why)) {
				fprintf(stderr, "sxgated: %s\n", why);
				return -1;
			}
			sx_cidr_list_free(&l);
			cfg->proxy_from = optarg;
			break;
		}
		case OPT_FILE_MODE: {
			char why[256];
			if (sx_file_mode_parse("--file-mode", optarg, &cfg->file_mode, why,
			                       sizeof why)) {
				fprintf(stderr, "sxgated: %s\n", why);
				return -1;
			}
			break;
		}
		case OPT_LOG_LEVEL:
			if ((log_level = sx_log_level_parse(optarg)) < 0) {
				fprintf(stderr, "sxgated: --log-level: '%s' is not error, warning, "
				        "info or debug\n", optarg);
				return -1;
			}
			break;
		case OPT_HELP: usage(stdout); return 1;
		case OPT_VERSION: printf("sxgated %s\n", SX_SRV_VERSION); return 1;
		case ':':
			fprintf(stderr, "sxgated: %s needs a value\n", flag);
			return -1;
		default:
			fprintf(stderr, "sxgated: unknown option '%s'\n", flag);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sxgated: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!cfg->snapshot) {
		fprintf(stderr, "sxgated: --snapshot is required\n");
		return -1;
	}
	if (cfg->proxy_from && !cfg->proxy_protocol) {
		fprintf(stderr, "sxgated: --proxy-from needs --proxy-protocol\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	sx_srv_config cfg;
	sx_srv_config_default(&cfg);
	int rc = parse_args(argc, argv, &cfg);
	if (rc) {
		if (rc < 0)
			usage(stderr);
		return rc < 0 ? 1 : 0;
	}
	sx_log_init("sxgated");
	sx_log_set_level(log_level);
	sx_notify_init();

	/* Every thread inherits this mask: signals are taken here only. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	sx_log_info("sxgated %s starting", SX_SRV_VERSION);
	raise_fd_limit(&cfg);
	char why[1024];
	const char *fault_spec = getenv("SXGATE_WIO_FAULT");   /* testing hook */
	sx_wio_fault fault;
	if (fault_spec && *fault_spec &&
	    sx_wio_parse_fault(fault_spec, &fault, why, sizeof why)) {
		sx_log_err("cannot start: SXGATE_WIO_FAULT (a testing hook) is set but "
		           "malformed: %s", why);
		return 1;
	}
	sx_srv *srv;
	if ((rc = sx_srv_create(&cfg, &srv, why, sizeof why))) {
		sx_log_err("cannot start: %s", why);
		sx_notify_status("cannot start: %s", why);
		return 1;
	}
	if ((rc = sx_srv_start(srv, why, sizeof why))) {
		sx_log_err("cannot start: %s", why);
		sx_notify_status("cannot start: %s", why);
		sx_srv_destroy(srv);
		return 1;
	}
	if (fault_spec && *fault_spec) {
		sx_wio_inject(&fault);
		sx_log_warn("TESTING HOOK: SXGATE_WIO_FAULT=%s is installed: journal and "
		            "feedback writes will fail as it says (engine/wio.h); never "
		            "set it outside tests", fault_spec);
	}
	sx_log_info("ready to accept connections");
	sx_notify_ready("ready to accept connections; serving %s", cfg.snapshot);

	/* The watchdog: a ping every half interval, from the first tick on. */
	uint64_t wd_ms = sx_notify_watchdog_usec() / 2000u, wd_next = 0;
	int wd_stale = 0;
	if (sx_notify_watchdog_usec())
		sx_log_info("watchdog: WATCHDOG=1 to systemd every %llu ms while the I/O "
		            "workers turn (a worker wedged for %d ms stops it)",
		            (unsigned long long)(wd_ms ? wd_ms : 1), SX_WATCHDOG_STALE_MS);
	int draining = 0;
	for (;;) {
		long tick_ms = wd_ms && wd_ms < 100 ? (long)wd_ms : 100;
		struct timespec tick = { 0, tick_ms * 1000 * 1000 };
		siginfo_t si;
		int sig = sigtimedwait(&set, &si, &tick);
		sx_audit_tick(0);              /* "N similar lines suppressed" */
		if (draining && !sx_srv_running(srv))
			break;
		if (sx_notify_watchdog_usec() && !draining && sx_mono_ms() >= wd_next) {
			if (sx_srv_alive(srv, SX_WATCHDOG_STALE_MS, why, sizeof why)) {
				sx_notify_watchdog();
				wd_next = sx_mono_ms() + (wd_ms ? wd_ms : 1);
				if (wd_stale) {
					sx_log_info("watchdog: every I/O worker turns again; "
					            "WATCHDOG=1 resumed");
					sx_notify_status("every I/O worker turns again");
				}
				wd_stale = 0;
			} else if (!wd_stale) {
				/* no wd_next: asked again next tick */
				sx_log_err("watchdog: %s; no WATCHDOG=1 to systemd until it turns "
				           "again (WatchdogSec restarts the server)", why);
				sx_notify_status("wedged: %s", why);
				wd_stale = 1;
			}
		}
		if (sig < 0)
			continue;
		if (sig == SIGHUP) {
			sx_log_info("SIGHUP: reloading %s", cfg.snapshot);
			sx_srv_reload(srv);
		} else if (!draining) {
			sx_log_info("%s: draining (no new connections; answering what was received)",
			            sig == SIGTERM ? "SIGTERM" : "SIGINT");
			sx_notify_stopping("draining: no new connections; answering what was "
			                   "received");
			sx_srv_stop(srv);
			draining = 1;
		} else {
			sx_log_warn("%s again: exiting without finishing the drain",
			            sig == SIGTERM ? "SIGTERM" : "SIGINT");
			_exit(1);
		}
	}
	int unfinished = sx_srv_wait(srv);
	sx_audit_tick(1);
	if (unfinished) {
		/* A job thread still uses the server: no sx_srv_destroy, no
		 * exit handlers; what a client was promised is not all done. */
		sx_log_err("exiting with a job unfinished (status 1)");
		fflush(NULL);
		_exit(1);
	}
	sx_srv_destroy(srv);
	sx_log_info("drained; bye");
	return 0;
}
