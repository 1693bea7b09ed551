/*
 * cli_publish.c - `sxgate publish URL OP ARG...`: XADD one update to the
 * stream replicas follow, written as SPEC section 10 writes it (op plus
 * named fields), so that the words are those of the RESP command.
 */
#include "cli_publish.h"
#include "sx.h"
#include "sxclient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	if (argc < 3) {
		fprintf(stderr, "usage: sxgate publish redis://HOST:PORT/STREAM OP ARG...\n");
		return 1;
	}
	char host[256], stream[256];
	int port = 6379;
	const char *u = argv[1];
	const char *slash = strncmp(u, "redis://", 8) ? NULL : strchr(u + 8, '/');
	if (!slash || !slash[1] || (size_t)(slash - u - 8) >= sizeof host ||
	    strlen(slash + 1) >= sizeof stream) {
		fprintf(stderr, "sxgate publish: '%s' is not redis://HOST:PORT/STREAM\n", u);
		return 1;
	}
	snprintf(host, sizeof host, "%.*s", (int)(slash - u - 8), u + 8);
	char *colon = strchr(host, ':');
	if (colon) {
		*colon = 0;
		port = atoi(colon + 1);
	}
	snprintf(stream, sizeof stream, "%s", slash + 1);

	const char *words[64];
	size_t lens[64];
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
	for (int i = 0; i < n; i++)
		lens[i] = strlen(words[i]);

	sx_client *c;
	char err[256];
	if (sx_client_connect(host, port, SX_CLIENT_RESP, 3000, &c, err, sizeof err)) {
		fprintf(stderr, "sxgate publish: %s\n", err);
		return 3;
	}
	sx_client_resp r;
	int rc = sx_client_send_resp(c, n, words, lens);
	if (!rc)
		rc = sx_client_flush(c);
	if (!rc)
		rc = sx_client_recv_resp(c, &r);
	if (rc) {
		fprintf(stderr, "sxgate publish: %s\n", sx_client_strerror(rc));
		sx_client_close(c);
		return 3;
	}
	if (r.type == '-') {
		fprintf(stderr, "%.*s\n", (int)r.len, r.str);
		sx_client_close(c);
		return 2;
	}
	printf("%.*s\n", (int)r.len, r.str);      /* the entry ID */
	sx_client_close(c);
	return 0;
}

