/*
 * fuzz_resp.c - libFuzzer target: the RESP2 request parser of the server
 * (server/resp.h sx_resp_parse), which is pure: bytes in, one command or
 * "need more" or a protocol error out.
 *
 * Input: the bytes a client sent.  Commands are parsed one after another,
 * as a connection does, from a private copy (inline unquoting rewrites the
 * buffer in place) of exactly the remaining length, so a read past the
 * received bytes is an ASan report.
 *
 * Checked beyond the sanitizers, per parsed command:
 *   - DONE consumes at least one byte and at most what is there; argc is
 *     at most SX_RESP_MAX_ARGS; every argument lies inside the buffer;
 *   - MORE asks for more than there is (need > len), and an error has a
 *     NUL-terminated message that starts with "Protocol error";
 *   - the `need` promise: cutting a parsed command one byte short gives
 *     MORE with need at most the command's real length.  A need beyond it
 *     would make a connection wait for bytes that never come (a client
 *     that sent exactly one command would hang);
 *   - any shorter prefix of a command is MORE, never a different command
 *     and never an error (a read boundary can fall anywhere).
 *
 * Then the batched path (issue 15): the same bytes, arriving in one read
 * on a connection of a real server (fuzz_server.h: the small snapshot of
 * fuzz_snapshot.h), are a pipeline whose CHECK, LISTED and MCHECK
 * commands are gathered and decided as a batch; what the connection
 * writes must be, byte for byte, what the command table writes when each
 * parsed command is run on its own without a batch (the path every
 * command took before, and the binary protocol's EXEC still takes), up to
 * the same protocol error or QUIT.  Inputs with a command whose reply
 * changes from one run to the next or that changes the server (INFO,
 * RELOAD, AUTH, updates) are not compared.
 */
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "cmd.h"
#include "conn.h"
#include "resp.h"
#include "server_int.h"
#include "worker.h"

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_resp: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                           \
	} while (0)

#include "fuzz_snapshot.h"
#include "fuzz_server.h"

static sx_str *argv;

int LLVMFuzzerInitialize(int *argc, char ***argv_)
{
	(void)argc;
	(void)argv_;
	fuzz_server_start();
	return 0;
}

/* May this command's reply be compared between two runs? */
static int comparable(sx_str name)
{
	static const char *const skip[] = {
		"info", "reload", "auth", "journal.compact", "list.add", "list.remove",
		"list.suspend", "list.resume", "permit.add", "permit.remove",
	};
	for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
		if (name.n == strlen(skip[i]) && !strncasecmp(name.p, skip[i], name.n))
			return 0;
	return 1;
}

/* data as a pipeline in one read, against its commands one at a time
 * through the command table without a batch. */
static void pipeline_check(const uint8_t *data, size_t size)
{
	sx_worker *w = &srv->workers[0];
	sink one = { 0 }, piped = { 0 };
	char err[160];
	char *buf = malloc(size ? size : 1);
	CHECK(buf != NULL, "out of memory");
	memcpy(buf, data, size);

	sx_worker_online(w);
	sx_conn *c = sx_worker_accept(w, -1, SX_PROTO_RESP);
	CHECK(c != NULL, "accept");
	sx_obuf ob;
	sx_obuf_init(&ob);
	int compare = 1;
	for (size_t pos = 0; pos < size;) {
		size_t argc = 0, used = 0, need = 0;
		int rc = sx_resp_parse(buf + pos, size - pos, argv, &argc, &used, &need,
		                       err, sizeof err);
		if (rc == SX_RESP_MORE)
			break;
		if (rc == SX_RESP_EPROTO) {
			sx_resp_errorf(&ob, "ERR %s", err);
			break;
		}
		pos += used;
		if (!argc)
			continue;
		if (!comparable(argv[0])) {
			compare = 0;
			break;
		}
		sx_req r = { .x = &w->x, .addr = &c->addr, .out = &ob };
		sx_cmd_run(&r, argv, argc);
		CHECK(r.job == NULL, "'%.*s' made a job", (int)argv[0].n, argv[0].p);
		if (r.quit)
			break;
	}
	drain_obuf(&ob, &one);
	sx_obuf_free(&ob);

	if (compare) {
		memcpy(buf, data, size);     /* inline unquoting rewrote it */
		sx_conn_input(c, buf, size);
		drain(c, &piped);
		size_t k = 0;
		while (k < one.n && k < piped.n && one.b[k] == piped.b[k])
			k++;
		CHECK(one.n == piped.n && k == one.n, "a pipeline of %zu bytes answered %zu "
		      "bytes, one by one %zu; first difference at byte %zu: pipelined "
		      "'%.40s', one by one '%.40s'", size, piped.n, one.n, k,
		      k < piped.n ? (const char *)piped.b + k : "",
		      k < one.n ? (const char *)one.b + k : "");
	}
	for (uint32_t i = 0; i < w->ndirty; i++)
		w->dirty[i]->flags &= (uint16_t)~SX_CF_DIRTY;
	w->ndirty = 0;
	sx_worker_release(w, c);
	sx_worker_offline(w);
	free(buf);
	free(one.b);
	free(piped.b);
}

static int parse(const uint8_t *src, size_t len, size_t *argc, size_t *used,
                 size_t *need, char *err, size_t errcap)
{
	char *buf = malloc(len ? len : 1);
	CHECK(buf != NULL, "out of memory");
	if (len)
		memcpy(buf, src, len);
	*argc = *used = *need = 0;
	int rc = sx_resp_parse(buf, len, argv, argc, used, need, err, errcap);
	if (rc == SX_RESP_DONE)
		for (size_t i = 0; i < *argc; i++)
			CHECK(argv[i].n == 0 || (argv[i].p >= buf &&
			      argv[i].p + argv[i].n <= buf + *used),
			      "argument %zu outside the command", i);
	free(buf);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;
	char err[160];

	if (!argv) {
		argv = calloc(SX_RESP_MAX_ARGS, sizeof *argv);
		CHECK(argv != NULL, "out of memory");
	}
	for (int cmds = 0; cmds < 64 && pos < size; cmds++) {
		size_t argc, used, need, len = size - pos;
		memset(err, 0x55, sizeof err);
		int rc = parse(data + pos, len, &argc, &used, &need, err, sizeof err);
		if (rc == SX_RESP_MORE) {
			CHECK(need > len, "MORE with need %zu <= len %zu", need, len);
			break;
		}
		if (rc == SX_RESP_EPROTO) {
			CHECK(memchr(err, 0, sizeof err) != NULL, "error not terminated");
			CHECK(strncmp(err, "Protocol error", 14) == 0, "error '%s'", err);
			break;
		}
		CHECK(rc == SX_RESP_DONE, "rc %d", rc);
		CHECK(used >= 1 && used <= len, "used %zu of %zu", used, len);
		CHECK(argc <= SX_RESP_MAX_ARGS, "argc %zu", argc);

		/* One byte short, and one shorter prefix chosen by the data. */
		size_t cuts[2] = { used - 1, used > 1 ? data[pos] % used : 0 };
		for (int c = 0; c < 2; c++) {
			size_t k = cuts[c], a2, u2, n2;
			if (k == 0)
				continue;
			int r2 = parse(data + pos, k, &a2, &u2, &n2, err, sizeof err);
			CHECK(r2 == SX_RESP_MORE, "a %zu-byte prefix of a %zu-byte command "
			      "is not MORE but %d (%s)", k, used, r2,
			      r2 == SX_RESP_EPROTO ? err : "a command");
			CHECK(n2 > k && n2 <= used, "prefix %zu of a %zu-byte command asks "
			      "for %zu bytes", k, used, n2);
		}
		pos += used;
	}
	pipeline_check(data, size);
	return 0;
}
