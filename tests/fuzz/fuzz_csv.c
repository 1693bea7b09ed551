/*
 * fuzz_csv.c - libFuzzer target: the streaming CSV reader (loader/csv.h)
 * and, on every record it hands out, the header index and the list-row
 * validator, as the loader uses them.
 *
 * Input: one flag byte, then the CSV text.  The low three bits of the flag
 * pick a small block size; the reader is run twice over the same text, once
 * with the default 1 MiB block and once with the small one, and the two
 * runs must hand out exactly the same records (csv.c promises the result
 * does not depend on the block size, so a record cut by a block boundary at
 * any byte is a difference the fuzzer can see).  A flag of 0xff instead
 * repeats the text until it passes SX_CSV_MAX_RECORD, which reaches the
 * "record longer than 1 MiB" path that short inputs never do (rarely: such
 * a run costs a hundred ordinary ones).
 *
 * Checked on every record, beyond what ASan and UBSan see: at least one
 * field unless the record is an error row, field lengths that fit the
 * record, non-decreasing line numbers, a raw prefix of at most
 * SX_CSV_MAX_RECORD bytes, an error message for every error row, a
 * header index whose positions are in range, and a sticky end (0 again
 * after 0).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "csv.h"
#include "row.h"

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_csv: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                           \
	} while (0)

/* One digest per record, to compare two runs. */
typedef struct digests {
	uint64_t *h;
	size_t n, cap;
} digests;

static void push(digests *d, uint64_t h)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->h = realloc(d->h, d->cap * sizeof *d->h);
		CHECK(d->h != NULL, "out of memory");
	}
	d->h[d->n++] = h;
}

static uint64_t row_digest(const sx_csv_row *r)
{
	XXH3_state_t st;
	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, &r->line, sizeof r->line);
	XXH3_64bits_update(&st, &r->nfields, sizeof r->nfields);
	for (size_t i = 0; i < r->nfields; i++) {
		XXH3_64bits_update(&st, &r->len[i], sizeof r->len[i]);
		if (r->len[i])
			XXH3_64bits_update(&st, r->field[i], r->len[i]);
	}
	XXH3_64bits_update(&st, &r->raw_len, sizeof r->raw_len);
	if (r->raw_len)
		XXH3_64bits_update(&st, r->raw, r->raw_len);
	const char *e = r->error ? r->error : "";
	XXH3_64bits_update(&st, e, strlen(e));
	return XXH3_64bits_digest(&st);
}

/* The loader's use of a data row: fields by column, then validation. */
static void validate(const sx_csv_row *r, const int *idx)
{
	sx_str f[SX_NLIST_COLUMNS];
	sx_listrow lr;
	char why[256];

	for (int i = 0; i < SX_NLIST_COLUMNS; i++) {
		f[i] = (sx_str){ NULL, 0 };
		if (idx[i] >= 0 && (size_t)idx[i] < r->nfields)
			f[i] = (sx_str){ r->field[idx[i]], r->len[idx[i]] };
	}
	why[0] = 0;
	if (sx_listrow_parse(f, &lr, why, sizeof why) == 0)
		CHECK(lr.id.len == strlen(lr.id.norm), "norm length");
	else
		CHECK(why[0] != 0, "a refused row needs a reason");
}

static int run(const char *text, size_t len, size_t block, digests *out,
               int check_rows)
{
	sx_csv *c = sx_csv_open_mem(text, len);
	sx_csv_row r;
	uint64_t last_line = 0;
	int idx[SX_NLIST_COLUMNS], have_header = 0, rc;

	CHECK(c != NULL, "open");
	if (block)
		CHECK(sx_csv_set_block_size(c, block) == 0, "block %zu", block);
	while ((rc = sx_csv_next(c, &r)) == 1) {
		CHECK(r.error || r.nfields >= 1, "a record has a field (line "
		      "%llu)", (unsigned long long)r.line);
		CHECK(r.line >= 1 && r.line >= last_line, "line %llu after %llu",
		      (unsigned long long)r.line, (unsigned long long)last_line);
		CHECK(r.raw_len <= SX_CSV_MAX_RECORD, "raw %zu", r.raw_len);
		last_line = r.line;
		size_t sum = 0;
		for (size_t i = 0; i < r.nfields; i++) {
			CHECK(r.len[i] == 0 || r.field[i] != NULL, "field %zu", i);
			sum += r.len[i];
		}
		if (!r.error)
			CHECK(sum <= r.raw_len, "fields %zu > raw %zu", sum,
			      r.raw_len);
		else
			CHECK(strlen(sx_csv_error(c)) > 0, "error row without message");
		push(out, row_digest(&r));
		if (!check_rows)
			continue;
		if (!have_header) {
			int n = sx_csv_header_index(&r, sx_list_column_names,
			                            SX_NLIST_COLUMNS, idx);
			CHECK(n <= SX_NLIST_COLUMNS, "header index %d", n);
			for (int i = 0; i < SX_NLIST_COLUMNS; i++)
				CHECK(idx[i] == -1 || idx[i] == SX_CSV_DUPLICATE ||
				      (idx[i] >= 0 && (size_t)idx[i] < r.nfields),
				      "idx[%d] = %d of %zu", i, idx[i], r.nfields);
			have_header = 1;
		} else if (!r.error) {
			validate(&r, idx);
		}
	}
	CHECK(rc == 0, "sx_csv_next from memory: %d", rc);
	CHECK(sx_csv_next(c, &r) == 0, "the end is sticky");
	sx_csv_close(c);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t blocks[8] = { 1, 2, 3, 5, 8, 13, 64, 4096 };
	digests a = { 0 }, b = { 0 };
	char *big = NULL;

	if (size < 1)
		return 0;
	unsigned flags = data[0];
	const char *text = (const char *)data + 1;
	size_t len = size - 1;

	if (flags == 0xff && len > 0) {
		/* Repeat the text past the record limit. */
		size_t want = SX_CSV_MAX_RECORD + 4096, n = 0;
		big = malloc(want);
		CHECK(big != NULL, "out of memory");
		while (n < want) {
			size_t k = len < want - n ? len : want - n;
			memcpy(big + n, text, k);
			n += k;
		}
		run(big, want, 0, &a, 0);
		run(big, want, 65536, &b, 0);
	} else {
		/* Tiny blocks cost a move of the open record per read: keep
		 * the number of reads per input bounded. */
		size_t block = blocks[flags & 7];
		if (block < len / 256)
			block = len / 256;
		run(text, len, 0, &a, 1);
		run(text, len, block, &b, 0);
	}
	CHECK(a.n == b.n, "%zu records with the default block, %zu with a "
	      "small one", a.n, b.n);
	for (size_t i = 0; i < a.n; i++)
		CHECK(a.h[i] == b.h[i], "record %zu differs with the block size", i);
	free(a.h);
	free(b.h);
	free(big);
	return 0;
}
