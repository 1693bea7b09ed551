/*
 * redis_ids.c - bench-redis-ids, a helper of `make bench`: turns a list CSV
 * into the RESP commands that load its IDs into one Redis set, for
 * `redis-cli --pipe`.
 *
 * usage: bench-redis-ids LIST.csv KEY [BATCH] > cmds.resp
 *
 * The idea: Redis should hold exactly what sxgated answers membership on,
 * so every ID goes through the engine's own rules (sx_id_parse, list side:
 * full-width folded, upper-cased, hyphens dropped, 15-digit RICs upgraded
 * to 18) and the set member is the normalised ID, spelled as a query sends
 * it.  Rows whose ID does not parse are skipped and counted (sxgate-build
 * rejects them too).  Members go out as SADD KEY id id ... with BATCH
 * (default 1000) members a command: one command per ID would make the
 * load measure round trips instead of Redis.  Redis removes the repeats
 * (several cases, several roles of one person); SCARD gives the distinct
 * count to set beside sxgated's `ids`.
 *
 * Trade-off: member strings carry no ID type, so a passport number equal
 * to some other type's number would be one member; with generated data of
 * distinct shapes (18-digit RIC, 18-char USCC, 9-char ORG, letter-led
 * passports) it does not happen, and keeping the member equal to the query
 * string is what lets `SISMEMBER key <query id>` be the fair comparison.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "id.h"
#include "sx.h"

static char *out;
static size_t outlen, outcap;

static void put(const char *s, size_t n)
{
	if (outlen + n > outcap) {
		while (outlen + n > outcap)
			outcap = outcap ? outcap * 2 : 1 << 20;
		out = realloc(out, outcap);
		if (!out) {
			fputs("bench-redis-ids: out of memory\n", stderr);
			exit(1);
		}
	}
	memcpy(out + outlen, s, n);
	outlen += n;
}

static void put_bulk(const char *s, size_t n)
{
	char hdr[32];
	int h = snprintf(hdr, sizeof hdr, "$%zu\r\n", n);
	put(hdr, (size_t)h);
	put(s, n);
	put("\r\n", 2);
}

/* One SADD of the members collected in mbuf (each NUL-separated). */
static void flush_sadd(const char *key, const char *mbuf, size_t mlen, size_t n)
{
	if (!n)
		return;
	char hdr[32];
	int h = snprintf(hdr, sizeof hdr, "*%zu\r\n", n + 2);
	put(hdr, (size_t)h);
	put_bulk("SADD", 4);
	put_bulk(key, strlen(key));
	for (const char *p = mbuf; p < mbuf + mlen;) {
		size_t l = strlen(p);
		put_bulk(p, l);
		p += l + 1;
	}
	if (outlen >= 1 << 20) {
		if (fwrite(out, 1, outlen, stdout) != outlen) {
			perror("bench-redis-ids: stdout");
			exit(1);
		}
		outlen = 0;
	}
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fputs("usage: bench-redis-ids LIST.csv KEY [BATCH] > cmds.resp\n", stderr);
		return 1;
	}
	const char *path = argv[1], *key = argv[2];
	long batch = argc == 4 ? strtol(argv[3], NULL, 10) : 1000;
	if (batch < 1 || batch > 100000) {
		fprintf(stderr, "bench-redis-ids: batch '%s': expected 1 to 100000\n", argv[3]);
		return 1;
	}
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 1;
	}
	sx_csv *c = sx_csv_open_file(f);
	sx_csv_row row;
	int rc = c ? sx_csv_next(c, &row) : -1;
	if (rc != 1) {
		fprintf(stderr, "bench-redis-ids: %s: no header row\n", path);
		return 1;
	}
	static const char *const names[] = { "id_type", "id_no" };
	int idx[2];
	sx_csv_header_index(&row, names, 2, idx);
	if (idx[0] < 0 || idx[1] < 0) {
		fprintf(stderr, "bench-redis-ids: %s: line 1: header lacks id_type or id_no\n",
		        path);
		return 1;
	}
	char *mbuf = malloc((size_t)batch * (SX_ID_MAX + 5));
	if (!mbuf)
		return 1;
	size_t mlen = 0, n = 0;
	unsigned long long rows = 0, members = 0, skipped = 0;
	while ((rc = sx_csv_next(c, &row)) == 1) {
		rows++;
		if (row.error || row.nfields <= (size_t)idx[0] || row.nfields <= (size_t)idx[1]) {
			skipped++;
			continue;
		}
		int t = sx_idtype_parse(row.field[idx[0]], row.len[idx[0]]);
		sx_id id;
		const char *why;
		if (t < 0 || sx_id_parse(t, row.field[idx[1]], row.len[idx[1]],
		                         SX_SIDE_LIST, &id, &why)) {
			skipped++;
			continue;
		}
		memcpy(mbuf + mlen, id.norm, (size_t)id.len + 1);
		mlen += (size_t)id.len + 1;
		members++;
		if (++n == (size_t)batch) {
			flush_sadd(key, mbuf, mlen, n);
			mlen = n = 0;
		}
	}
	if (rc < 0) {
		fprintf(stderr, "bench-redis-ids: %s: %s\n", path, sx_csv_error(c));
		return 1;
	}
	flush_sadd(key, mbuf, mlen, n);
	if (outlen && fwrite(out, 1, outlen, stdout) != outlen) {
		perror("bench-redis-ids: stdout");
		return 1;
	}
	if (fflush(stdout)) {
		perror("bench-redis-ids: stdout");
		return 1;
	}
	fprintf(stderr, "bench-redis-ids: %llu rows, %llu members sent, %llu skipped\n",
	        rows, members, skipped);
	sx_csv_close(c);
	fclose(f);
	free(mbuf);
	free(out);
	return 0;
}
