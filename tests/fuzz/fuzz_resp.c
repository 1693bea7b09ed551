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
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_resp: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                           \
	} while (0)

static sx_str *argv;

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
	return 0;
}
