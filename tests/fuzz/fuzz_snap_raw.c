/*
 * fuzz_snap_raw.c - libFuzzer target: sx_snap_open on arbitrary bytes.
 *
 * The input is written to a memfd and opened by its /proc/self/fd path, as
 * sxgated and `sxgate check` open a file.  Checksums cover every byte, so
 * the fuzzer almost never gets past the header and section checks: this
 * target proves those first layers (magic, version, header checksum,
 * sizes, section placement) never crash and always say why.  The
 * structural checks behind them are the job of fuzz_snap_struct, which
 * re-signs its mutations.  Should a file ever open, every record is read
 * and every key looked up and decided, as a server would.
 *
 * Checked beyond the sanitizers: a refusal is one of the snapshot error
 * codes (or -errno) with a non-empty, NUL-terminated reason.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "decide.h"
#include "snapshot.h"

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_snap_raw: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                           \
	} while (0)

static int memfd = -1;
static char path[64];

static void serve(const sx_snap *s)
{
	const sx_snap_info *in = sx_snap_get_info(s);
	uint32_t max = sx_snap_max_query_records(s);
	uint32_t *recs = malloc(((size_t)max + 1) * sizeof *recs);
	char buf[512];
	CHECK(recs != NULL, "out of memory");
	for (uint64_t r = 0; r < in->records; r++) {
		sx_recview v;
		sx_snap_record(s, (uint32_t)r, &v);
		sx_record_format(s, (uint32_t)r, buf, sizeof buf);
	}
	for (uint64_t k = 0; k < in->keys && k < 4096; k++) {
		sx_query q = { .chan = (uint8_t)(k % SX_NCODES), .cls = SX_CLASS_NONE,
		               .day = (uint16_t)(20000 + k) };
		sx_decision d;
		if (q.chan == SX_C_RAIL || q.chan == SX_C_SHIP || q.chan == SX_C_HOTEL)
			q.cls = 0;
		else if (SX_CODES_CLASSED >> q.chan & 1)    /* the channel's last class */
			for (int i = 0; i < sx_snap_rules(s)->nclasses; i++)
				if (sx_snap_rules(s)->cls[i].chan == q.chan)
					q.cls = (uint16_t)i;
		q.id.key[0] = *sx_snap_key(s, (uint32_t)k);
		q.id.nkeys = 1;
		(void)sx_snap_find(s, &q.id.key[0]);
		sx_decide(s, &q, &d, recs);
		CHECK(d.nrec <= max, "%u records, max %u", d.nrec, max);
		(void)sx_listed(s, &q);
	}
	free(recs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sx_snap *s = NULL;
	char why[256];

	if (memfd < 0) {
		memfd = memfd_create("fuzz_snap_raw", MFD_CLOEXEC);
		CHECK(memfd >= 0, "memfd_create: %s", strerror(errno));
		snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
	}
	CHECK(ftruncate(memfd, 0) == 0, "truncate");
	CHECK(pwrite(memfd, data, size, 0) == (ssize_t)size, "write");
	memset(why, 0x55, sizeof why);
	int rc = sx_snap_open(path, &s, why, sizeof why);
	if (rc) {
		CHECK(s == NULL, "a refused snapshot returned a handle");
		CHECK(rc == SX_EBADMAGIC || rc == SX_EVERSION || rc == SX_ECORRUPT ||
		      rc == SX_ETRUNC || rc == SX_EROARING || (rc < 0 && rc > -4096),
		      "code %d", rc);
		CHECK(memchr(why, 0, sizeof why) != NULL && why[0] != 0, "reason");
		return 0;
	}
	serve(s);
	sx_snap_close(s);
	return 0;
}
