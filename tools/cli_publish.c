/*
 * cli_publish.c - `sxgate publish [--ca FILE] [--password-file FILE]
 * [--by NAME] URL OP ARG...`: XADD one update to the stream replicas
 * follow, written as SPEC section 10 writes it (op plus named fields), so
 * that the words are those of the RESP command, plus the field `by`: who
 * published it, which every replica's journal records (docs/JOURNAL.md).
 * By default that is the Redis user the publisher authenticates as (the
 * URL's user, else Redis's `default`); --by NAME says more (a person, a
 * system), --by '' sends none (for replicas older than the field, which
 * skip an entry with a field they do not know).  The URL, its TLS and its password are the
 * follower's (client/redisconn.h), with flags named like sxgated's
 * --updates-ca and --updates-password-file; the password is never
 * printed (the URL is masked in every message).
 */
#include "cli_publish.h"
#include "sx.h"
#include "redisconn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define USAGE \
	"usage: sxgate publish [--ca FILE] [--password-file FILE] [--by NAME] URL OP ARG...\n" \
	"  URL   redis://[USER[:PASSWORD]@]HOST[:PORT]/STREAM, rediss:// for TLS\n" \
	"  --ca FILE             PEM CAs Redis's certificate must chain to\n" \
	"                        (rediss://; default: the system's)\n" \
	"  --password-file FILE  the password, the first line of FILE (mode 0600)\n" \
	"  --by NAME             who publishes, recorded in every replica's journal\n" \
	"                        (default: the Redis user, USER or 'default');\n" \
	"                        --by '' sends none (for replicas that predate it)\n" \
	"  OP    LIST.ADD FIELD VALUE..., LIST.REMOVE|LIST.SUSPEND|LIST.RESUME\n" \
	"        CASE_NO ID_TYPE ID_NO, PERMIT.ADD ID_TYPE ID_NO CASE_NO CODES\n" \
	"        VALID_FROM VALID_TO PERMIT_REF, PERMIT.REMOVE PERMIT_REF\n"

int sx_cli_publish_main(int argc, char **argv)
{
	static const struct { const char *op; const char *fields[8]; } ops[] = {
		{ "LIST.REMOVE", { "case_no", "id_type", "id_no" } },
		{ "LIST.SUSPEND", { "case_no", "id_type", "id_no" } },
		{ "LIST.RESUME", { "case_no", "id_type", "id_no" } },
		{ "PERMIT.ADD", { "id_type", "id_no", "case_no", "codes", "valid_from",
		                  "valid_to", "permit_ref" } },
		{ "PERMIT.REMOVE", { "permit_ref" } },
	};
	const char *ca = NULL, *pwfile = NULL, *by = NULL;
	int a = 1;
	for (; a < argc && !strncmp(argv[a], "--", 2); a++) {
		if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
			fputs(USAGE, stdout);
			return 0;
		}
		const char **dst = !strcmp(argv[a], "--ca") ? &ca :
		                   !strcmp(argv[a], "--password-file") ? &pwfile :
		                   !strcmp(argv[a], "--by") ? &by : NULL;
		if (!dst || a + 1 == argc) {
			fprintf(stderr, "sxgate publish: %s '%s'\n%s", dst ? "no value after" :
			        "unknown option", argv[a], USAGE);
			return 1;
		}
		*dst = argv[++a];
	}
	argc -= a - 1;
	argv += a - 1;
	if (argc < 3) {
		fputs(USAGE, stderr);
		return 1;
	}
	sx_redis_url u;
	char why[1024];
	if (sx_redis_url_parse("URL", argv[1], &u, why, sizeof why) ||
	    (pwfile && sx_redis_url_password_file(&u, "--password-file", pwfile, why,
	                                          sizeof why))) {
		fprintf(stderr, "sxgate publish: %s\n", why);
		return 1;
	}
	if (ca && !u.tls) {
		fprintf(stderr, "sxgate publish: --ca %s: %s is not TLS; use rediss://\n",
		        ca, u.masked);
		return 1;
	}
	if (u.password_in_url)
		fprintf(stderr, "sxgate publish: warning: the password in the URL shows in "
		        "ps and in shell history; --password-file FILE keeps it out\n");
	const char *stream = u.stream;
	if (!by)
		by = u.user[0] ? u.user : "default";
	if (strlen(by) > 128) {
		fprintf(stderr, "sxgate publish: --by: longer than 128 bytes\n");
		return 1;
	}

	const char *words[64];
	int n = 0;
	words[n++] = "XADD";
	words[n++] = stream;
	words[n++] = "*";
	words[n++] = "op";
	const char *op = argv[2];
	int known = 0;
	if (!strcasecmp(op, "LIST.ADD")) {
		known = 1;
		if ((argc - 3) % 2 || argc - 3 > 56 || argc == 3) {
			fprintf(stderr, "sxgate publish: LIST.ADD wants field value pairs\n");
			return 1;
		}
		words[n++] = "LIST.ADD";
		for (int i = 3; i < argc; i++)
			words[n++] = argv[i];
	}
	for (size_t k = 0; !known && k < SX_ARRAY_LEN(ops); k++) {
		if (strcasecmp(op, ops[k].op))
			continue;
		known = 1;
		int want = 0;
		while (ops[k].fields[want])
			want++;
		if (argc - 3 != want) {
			fprintf(stderr, "sxgate publish: %s wants", ops[k].op);
			for (int i = 0; i < want; i++)
				fprintf(stderr, " %s", ops[k].fields[i]);
			fputc('\n', stderr);
			return 1;
		}
		words[n++] = ops[k].op;
		for (int i = 0; i < want; i++) {
			words[n++] = ops[k].fields[i];
			words[n++] = argv[3 + i];
		}
	}
	if (!known) {
		fprintf(stderr, "sxgate publish: unknown op '%s' (LIST.ADD, LIST.REMOVE, "
		        "LIST.SUSPEND, LIST.RESUME, PERMIT.ADD, PERMIT.REMOVE)\n", op);
		return 1;
	}
	if (by[0]) {
		words[n++] = "by";
		words[n++] = by;
	}
	sx_redis *c;
	int rc = sx_redis_connect(&u, ca, 3000, &c, why, sizeof why);
	explicit_bzero(u.password, sizeof u.password);
	if (rc) {
		fprintf(stderr, "sxgate publish: %s: %s", u.masked, why);
		if (rc == SX_REDIS_ENOAUTH)
			fprintf(stderr, " (Redis wants a password: --password-file FILE)");
		else if (rc == SX_REDIS_ETLS)
			fprintf(stderr, " (trusting %s)", ca ? ca : "the system's CAs; --ca FILE "
			        "names another");
		fputc('\n', stderr);
		return 3;
	}
	sx_client_resp r;
	if ((rc = sx_redis_call(c, n, words, NULL, &r))) {
		fprintf(stderr, "sxgate publish: %s: %s\n", u.masked, sx_redis_errmsg(c));
		sx_redis_close(c);
		return 3;
	}
	if (r.type == '-') {
		fprintf(stderr, "sxgate publish: %s: XADD refused: %.*s\n", u.masked,
		        (int)r.len, r.str);
		sx_redis_close(c);
		return 2;
	}
	printf("%.*s\n", (int)r.len, r.str);      /* the entry ID */
	sx_redis_close(c);
	return 0;
}

