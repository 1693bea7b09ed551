/*
 * cli_net.c - `sxgate check|mcheck|listed|info|reload|ping|exec` against a
 * running server.
 *
 * Each subcommand is one connection and one synchronous request through
 * the client library (binary protocol by default, RESP with --resp), and
 * prints what the offline `sxgate check` prints: the elements of the
 * reply, one per line, so scripts can switch between a snapshot file and a
 * server without changing how they read the answer.
 *
 * Options are parsed by hand rather than with getopt because "--" is a
 * real argument here (MCHECK's "no class"), and options may come before or
 * after the positional words, as the main CLI passes them through.
 */
#include "cli_net.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sx.h"
#include "sxargs.h"
#include "sxclient.h"

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_REFUSED = 2, EXIT_CONN = 3 };

typedef struct net_opts {
	const char *host, *tenant, *secret, *secret_file, *type, *at;
	int port, resp, force, timeout_ms, timeout_set;
	sx_client_opts conn;    /* TLS options (sxargs.h); the rest at connect */
	char secret_buf[1024];  /* a secret read from --secret-file */
	const char *pos[4096];
	int npos;
} net_opts;

static void usage(void)
{
	fputs(
"usage: sxgate check ID CHANNEL [CLASS] [--type T] [--at YYYY-MM-DD]\n"
"       sxgate mcheck CHANNEL CLASS-or-- ID... [--type T] [--at YYYY-MM-DD]\n"
"       sxgate listed ID [--type T] [--at YYYY-MM-DD]\n"
"       sxgate info [SECTION]\n"
"       sxgate reload [PATH] [--force]\n"
"       sxgate ping\n"
"       sxgate exec COMMAND [ARG...]\n"
"  server: --host H (default 127.0.0.1) --port P (default 6381, 6380 with\n"
"          --resp) --resp (speak RESP instead of the binary protocol)\n"
"          --timeout MS (default 5000; reload waits up to 600000)\n", stderr);
	fputs(sx_args_help, stderr);
	fputs("exit: 0 answer, 1 usage, 2 the server refused (ERR on stderr),\n"
	      "      3 cannot connect (TLS refused included)\n", stderr);
}

static int parse_port(const char *s, int *port)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* Options anywhere among the words; returns 0 or an exit code. */
static int parse_opts(int argc, char **argv, net_opts *o)
{
	memset(o, 0, sizeof *o);
	o->host = "127.0.0.1";
	o->timeout_ms = 5000;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;
		const char *val = NULL;
		if (strncmp(a, "--", 2) != 0 || a[2] == 0) {
			if (o->npos == (int)SX_ARRAY_LEN(o->pos)) {
				fprintf(stderr, "sxgate %s: more than %zu arguments\n", argv[0],
				        SX_ARRAY_LEN(o->pos));
				return EXIT_USAGE;
			}
			o->pos[o->npos++] = a;
			continue;
		}
		/* --name value or --name=value */
		char name[32];
		const char *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a) : strlen(a);
		if (nl >= sizeof name) {
			fprintf(stderr, "sxgate %s: unknown option %s\n", argv[0], a);
			return EXIT_USAGE;
		}
		memcpy(name, a, nl);
		name[nl] = 0;
		int tls = sx_args_tls_kind(name + 2);
		if (!strcmp(name, "--resp") || !strcmp(name, "--force") ||
		    !strcmp(name, "--help") || tls == SX_ARGS_SWITCH) {
			if (eq) {
				fprintf(stderr, "sxgate %s: %s takes no value\n", argv[0], name);
				return EXIT_USAGE;
			}
			if (!strcmp(name, "--help")) {
				usage();
				return EXIT_USAGE;
			}
			if (tls)
				sx_args_tls_set(&o->conn, name + 2, NULL);
			else
				*(name[2] == 'r' ? &o->resp : &o->force) = 1;
			continue;
		}
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			fprintf(stderr, "sxgate %s: %s needs a value\n", argv[0], name);
			return EXIT_USAGE;
		}
		if (tls) {
			sx_args_tls_set(&o->conn, name + 2, val);
			continue;
		}
		if (!strcmp(name, "--host"))
			dst = &o->host;
		else if (!strcmp(name, "--tenant"))
			dst = &o->tenant;
		else if (!strcmp(name, "--secret"))
			dst = &o->secret;
		else if (!strcmp(name, "--secret-file"))
			dst = &o->secret_file;
		else if (!strcmp(name, "--type"))
			dst = &o->type;
		else if (!strcmp(name, "--at"))
			dst = &o->at;
		else if (!strcmp(name, "--port")) {
			if (parse_port(val, &o->port)) {
				fprintf(stderr, "sxgate %s: --port '%s': expected 1..65535\n",
				        argv[0], val);
				return EXIT_USAGE;
			}
			continue;
		} else if (!strcmp(name, "--timeout")) {
			char *end;
			long v = strtol(val, &end, 10);
			if (end == val || *end || v < 1 || v > 3600000) {
				fprintf(stderr, "sxgate %s: --timeout '%s': expected milliseconds\n",
				        argv[0], val);
				return EXIT_USAGE;
			}
			o->timeout_ms = (int)v;
			o->timeout_set = 1;
			continue;
		} else {
			fprintf(stderr, "sxgate %s: unknown option %s\n", argv[0], name);
			return EXIT_USAGE;
		}
		*dst = val;
	}
	if (!o->port)
		o->port = o->resp ? 6380 : 6381;
	char prog[64];
	snprintf(prog, sizeof prog, "sxgate %s", argv[0]);
	if (sx_args_tls_check(prog, &o->conn) ||
	    sx_args_secret(prog, o->tenant, o->secret, o->secret_file, o->secret_buf,
	                   sizeof o->secret_buf, &o->secret))
		return EXIT_USAGE;
	return 0;
}

/* The exit code for a failed call, with its message on stderr. */
static int report(const net_opts *o, sx_client *cli, int rc)
{
	const char *msg = sx_client_errmsg(cli);
	if (rc == SX_CLIENT_ESERVER) {
		fprintf(stderr, "%s\n", msg);
		return EXIT_REFUSED;
	}
	if (rc == SX_EINVAL || rc == SX_CLIENT_EMODE) {
		fprintf(stderr, "sxgate: %s\n", msg);
		return EXIT_USAGE;
	}
	fprintf(stderr, "sxgate: %s:%d: %s\n", o->host, o->port,
	        *msg ? msg : sx_client_strerror(rc));
	return EXIT_CONN;
}

static void print_result(const sx_client_result *r)
{
	printf("%s\n%s\n", r->decision, r->reason);
	for (size_t i = 0; i < r->nrec; i++)
		printf("%s\n", r->rec[i]);
}

static void print_resp(const sx_client_resp *v)
{
	switch (v->type) {
	case '+':
	case '-':
		printf("%.*s\n", (int)v->len, v->str);
		break;
	case ':':
		printf("%lld\n", (long long)v->num);
		break;
	case '$':
		if (v->nil)
			printf("(nil)\n");
		else
			printf("%.*s%s", (int)v->len, v->str,
			       v->len && v->str[v->len - 1] == '\n' ? "" : "\n");
		break;
	case '*': {
		if (v->nil) {
			printf("(nil)\n");
			break;
		}
		sx_client_resp e;
		size_t pos = 0;
		while (sx_client_resp_next(v, &pos, &e))
			print_resp(&e);
		break;
	}
	}
}

static int cmd_check(const net_opts *o, sx_client *cli)
{
	if (o->npos < 2 || o->npos > 3) {
		fputs("usage: sxgate check ID CHANNEL [CLASS] [--type T] [--at YYYY-MM-DD]\n",
		      stderr);
		return EXIT_USAGE;
	}
	sx_client_result r;
	int rc = sx_client_check(cli, o->pos[0], o->pos[1],
	                         o->npos == 3 ? o->pos[2] : NULL, o->type, o->at, &r);
	if (rc)
		return report(o, cli, rc);
	print_result(&r);
	sx_client_result_free(&r);
	return EXIT_OK;
}

static int cmd_mcheck(const net_opts *o, sx_client *cli)
{
	if (o->npos < 3) {
		fputs("usage: sxgate mcheck CHANNEL CLASS-or-- ID... [--type T] [--at YYYY-MM-DD]\n",
		      stderr);
		return EXIT_USAGE;
	}
	size_t n = (size_t)o->npos - 2;
	const char *cls = o->pos[1];
	if (!strcmp(cls, "--") || !strcmp(cls, "-"))
		cls = NULL;
	sx_client_result *rs = calloc(n, sizeof *rs);
	if (!rs) {
		fputs("sxgate: out of memory\n", stderr);
		return EXIT_CONN;
	}
	int rc = sx_client_mcheck(cli, o->pos[0], cls, o->type, o->at, o->pos + 2, n, rs);
	if (rc) {
		free(rs);
		return report(o, cli, rc);
	}
	/* One line per ID: the ID, then the elements of its reply. */
	int code = EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		printf("%s", o->pos[2 + i]);
		if (!rs[i].ok) {
			printf("\t%s\n", rs[i].error);
			fprintf(stderr, "%s: %s\n", o->pos[2 + i], rs[i].error);
			code = EXIT_REFUSED;
		} else {
			printf("\t%s\t%s", rs[i].decision, rs[i].reason);
			for (size_t k = 0; k < rs[i].nrec; k++)
				printf("\t%s", rs[i].rec[k]);
			putchar('\n');
		}
		sx_client_result_free(&rs[i]);
	}
	free(rs);
	return code;
}

static int cmd_listed(const net_opts *o, sx_client *cli)
{
	if (o->npos != 1) {
		fputs("usage: sxgate listed ID [--type T] [--at YYYY-MM-DD]\n", stderr);
		return EXIT_USAGE;
	}
	int listed;
	int rc = sx_client_listed(cli, o->pos[0], o->type, o->at, &listed);
	if (rc)
		return report(o, cli, rc);
	printf("%d\n", listed);
	return EXIT_OK;
}

static int cmd_info(const net_opts *o, sx_client *cli)
{
	if (o->npos > 1) {
		fputs("usage: sxgate info [SECTION]\n", stderr);
		return EXIT_USAGE;
	}
	char *text;
	int rc = sx_client_info(cli, o->npos ? o->pos[0] : NULL, &text);
	if (rc)
		return report(o, cli, rc);
	size_t n = strlen(text);
	fputs(text, stdout);
	if (n && text[n - 1] != '\n')
		putchar('\n');
	free(text);
	return EXIT_OK;
}

static int cmd_reload(const net_opts *o, sx_client *cli)
{
	if (o->npos > 1) {
		fputs("usage: sxgate reload [PATH] [--force]\n", stderr);
		return EXIT_USAGE;
	}
	/* Mapping and verifying a snapshot of tens of millions of IDs takes
	 * a while: unless told otherwise, wait for it up to ten minutes. */
	if (!o->timeout_set)
		sx_client_set_timeout(cli, 600000);
	uint64_t gen;
	int rc = sx_client_reload(cli, o->npos ? o->pos[0] : NULL, o->force, &gen);
	if (rc)
		return report(o, cli, rc);
	printf("OK %llu\n", (unsigned long long)gen);
	return EXIT_OK;
}

static int cmd_ping(const net_opts *o, sx_client *cli)
{
	if (o->npos) {
		fputs("usage: sxgate ping\n", stderr);
		return EXIT_USAGE;
	}
	int rc = sx_client_ping(cli);
	if (rc)
		return report(o, cli, rc);
	puts("PONG");
	return EXIT_OK;
}

static int cmd_exec(const net_opts *o, sx_client *cli)
{
	if (o->npos < 1) {
		fputs("usage: sxgate exec COMMAND [ARG...]\n", stderr);
		return EXIT_USAGE;
	}
	size_t cap = SX_CLIENT_MAX_RESP + SX_CLIENT_MAX_LINE, len;
	char *buf = malloc(cap);
	if (!buf) {
		fputs("sxgate: out of memory\n", stderr);
		return EXIT_CONN;
	}
	int rc = sx_client_exec(cli, o->npos, o->pos, NULL, buf, cap, &len);
	if (rc) {
		free(buf);
		return report(o, cli, rc);
	}
	sx_client_resp v;
	size_t used;
	int code = EXIT_OK;
	if (sx_client_resp_parse(buf, len, &v, &used, NULL) == 0) {
		if (v.type == '-') {
			fprintf(stderr, "%.*s\n", (int)v.len, v.str);
			code = EXIT_REFUSED;
		} else {
			print_resp(&v);
		}
	}
	free(buf);
	return code;
}

/* Words are counted before connecting, so a usage error never waits on
 * the network; each run() prints its own usage line. */
static const struct {
	const char *name;
	int (*run)(const net_opts *, sx_client *);
	int needs_query_opts;   /* --type/--at mean something */
	int minpos, maxpos;
} cmds[] = {
	{ "check",  cmd_check,  1, 2, 3 },
	{ "mcheck", cmd_mcheck, 1, 3, 1 << 30 },
	{ "listed", cmd_listed, 1, 1, 1 },
	{ "info",   cmd_info,   0, 0, 1 },
	{ "reload", cmd_reload, 0, 0, 1 },
	{ "ping",   cmd_ping,   0, 0, 0 },
	{ "exec",   cmd_exec,   0, 1, 1 << 30 },
};

int sx_cli_net_main(int argc, char **argv)
{
	if (argc < 1 || !argv[0]) {
		usage();
		return EXIT_USAGE;
	}
	size_t k;
	for (k = 0; k < SX_ARRAY_LEN(cmds); k++)
		if (!strcmp(argv[0], cmds[k].name))
			break;
	if (k == SX_ARRAY_LEN(cmds)) {
		fprintf(stderr, "sxgate: '%s' is not a server subcommand\n", argv[0]);
		usage();
		return EXIT_USAGE;
	}
	net_opts *o = malloc(sizeof *o);
	if (!o) {
		fputs("sxgate: out of memory\n", stderr);
		return EXIT_CONN;
	}
	int code = parse_opts(argc, argv, o);
	if (code)
		goto out;
	if (!cmds[k].needs_query_opts && (o->type || o->at)) {
		fprintf(stderr, "sxgate %s: --type and --at are for check, mcheck and listed\n",
		        argv[0]);
		code = EXIT_USAGE;
		goto out;
	}
	if (o->force && strcmp(argv[0], "reload")) {
		fprintf(stderr, "sxgate %s: --force is for reload\n", argv[0]);
		code = EXIT_USAGE;
		goto out;
	}

	if (o->npos < cmds[k].minpos || o->npos > cmds[k].maxpos) {
		code = cmds[k].run(o, NULL);   /* prints its usage */
		goto out;
	}

	sx_client *cli;
	char err[600];
	o->conn.host = o->host;
	o->conn.port = o->port;
	o->conn.proto = o->resp ? SX_CLIENT_RESP : SX_CLIENT_BINARY;
	o->conn.timeout_ms = o->timeout_ms;
	int rc = sx_client_open(&o->conn, &cli, err, sizeof err);
	if (rc) {
		fprintf(stderr, "sxgate: %s\n", err);
		code = rc == SX_CLIENT_ESERVER ? EXIT_REFUSED : EXIT_CONN;
		goto out;
	}
	if (o->tenant && (rc = sx_client_auth(cli, o->tenant, o->secret)))
		code = report(o, cli, rc);
	else
		code = cmds[k].run(o, cli);
	sx_client_close(cli);
out:
	explicit_bzero(o->secret_buf, sizeof o->secret_buf);
	free(o);
	return code;
}
