/*
 * test_csv.c - the streaming CSV reader (loader/csv.h).
 *
 * Most tests render every row of an input as text ("line [f1][f2] !error")
 * and compare with the expected rendering.  Each input is read with the
 * default 1 MiB block and again with blocks of 1, 2, 3, 5 and 16 bytes, so
 * every test also proves that a block boundary anywhere (inside a field,
 * between "" or between CR and LF) changes nothing.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"

#define MAXREC SX_CSV_MAX_RECORD

/* Every row of in[0..len) read with block size `block` (0: default). */
static char *render(const char *in, size_t len, size_t block)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *m = open_memstream(&out, &outlen);
	sx_csv *c = sx_csv_open_mem(in, len);
	sx_csv_row r;
	int rc;

	cr_assert_not_null(m);
	cr_assert_not_null(c);
	if (block)
		cr_assert_eq(sx_csv_set_block_size(c, block), 0);
	while ((rc = sx_csv_next(c, &r)) == 1) {
		fprintf(m, "%llu", (unsigned long long)r.line);
		for (size_t i = 0; i < r.nfields; i++) {
			fputs(" [", m);
			fwrite(r.field[i], 1, r.len[i], m);
			fputc(']', m);
		}
		if (r.error)
			fprintf(m, " !%s", r.error);
		fputc('\n', m);
	}
	cr_assert_eq(rc, 0, "sx_csv_next returned %d: %s", rc, sx_csv_error(c));
	cr_assert_eq(sx_csv_next(c, &r), 0, "end of input is returned again");
	sx_csv_close(c);
	fclose(m);
	return out;
}

static void expect(const char *in, size_t len, const char *want)
{
	static const size_t blocks[] = { 0, 1, 2, 3, 5, 16 };

	for (size_t i = 0; i < SX_ARRAY_LEN(blocks); i++) {
		char *got = render(in, len, blocks[i]);
		cr_assert_str_eq(got, want, "block size %zu:\n got: %s\nwant: %s",
		                 blocks[i], got, want);
		free(got);
	}
}
#define EXPECT(in, want) expect((in), sizeof(in) - 1, (want))

/* The first row of a string, the handle kept open for sx_csv_error(). */
static sx_csv *first_row(const char *in, sx_csv_row *r)
{
	sx_csv *c = sx_csv_open_mem(in, strlen(in));
	cr_assert_not_null(c);
	cr_assert_eq(sx_csv_next(c, r), 1);
	return c;
}

/* ---- well-formed input ------------------------------------------------ */

Test(csv, lf_ends_records)
{
	EXPECT("case_no,court\nA1,X\nA2,Y\n", "1 [case_no] [court]\n2 [A1] [X]\n3 [A2] [Y]\n");
}

Test(csv, crlf_ends_records_and_is_not_data)
{
	EXPECT("a,b\r\nc,d\r\n", "1 [a] [b]\n2 [c] [d]\n");
}

Test(csv, lone_cr_ends_a_record_and_a_line)
{
	EXPECT("a,b\rc\r\rd\r", "1 [a] [b]\n2 [c]\n4 [d]\n");
}

Test(csv, utf8_bom_at_start_is_skipped_only_there)
{
	EXPECT("\xEF\xBB\xBF" "a,b\n\xEF\xBB\xBF" "c\n",
	       "1 [a] [b]\n2 [\xEF\xBB\xBF" "c]\n");
	EXPECT("\xEF\xBB\xBF", "");
	EXPECT("\xEF\xBB", "1 [\xEF\xBB]\n");
}

Test(csv, commas_inside_quotes_are_data)
{
	EXPECT("\"a,b\",c,\",\"\n", "1 [a,b] [c] [,]\n");
}

Test(csv, doubled_quotes_collapse_to_one)
{
	EXPECT("\"a\"\"b\",\"\"\"\"\"\",\"x\"\"\"\n",
	       "1 [a\"b] [\"\"] [x\"]\n");
	/* Several such fields in one record keep their own contents. */
	EXPECT("\"1\"\"\",\"2\",\"\"\"3\"\n", "1 [1\"] [2] [\"3]\n");
}

Test(csv, empty_fields_are_kept)
{
	EXPECT(",,\n", "1 [] [] []\n");
	EXPECT("a,,b\n\"\",x\nx,\"\"\n", "1 [a] [] [b]\n2 [] [x]\n3 [x] []\n");
	EXPECT("a,\n", "1 [a] []\n");
	EXPECT("a,", "1 [a] []\n");
}

Test(csv, last_record_without_line_break_is_a_record)
{
	EXPECT("a,b\nc,d", "1 [a] [b]\n2 [c] [d]\n");
	EXPECT("a\n\"q\"", "1 [a]\n2 [q]\n");
	EXPECT("x", "1 [x]\n");
}

Test(csv, blank_lines_are_skipped_but_counted)
{
	EXPECT("\n\na\n\r\n\nb\n\n", "3 [a]\n6 [b]\n");
	EXPECT("\n\r\n\r", "");
	EXPECT("", "");
}

Test(csv, line_breaks_inside_quotes_are_data_and_count_as_lines)
{
	/* line 2-3: "a<LF>b"; lines 4-6: "c<CRLF>d<CR>e" */
	EXPECT("h\n\"a\nb\",x\n\"c\r\nd\re\",y\r\nz\n",
	       "1 [h]\n2 [a\nb] [x]\n4 [c\r\nd\re] [y]\n7 [z]\n");
}

Test(csv, spaces_are_data_and_a_quote_after_a_space_is_not_an_opening)
{
	EXPECT(" a , b\n", "1 [ a ] [ b]\n");
	EXPECT(" \"a\"\n", "1 [ \"a\"] !quote inside an unquoted field\n");
}

Test(csv, raw_is_the_record_as_read_without_its_line_break)
{
	sx_csv_row r;
	const char *in = "x\n\"a,\"\"b\"\"\",c\r\nnext";
	sx_csv *c = sx_csv_open_mem(in, strlen(in));

	cr_assert_eq(sx_csv_next(c, &r), 1);
	cr_assert_eq(sx_csv_next(c, &r), 1);
	cr_assert_eq(r.line, 2);
	cr_assert_eq(r.raw_len, 11);
	cr_assert_eq(memcmp(r.raw, "\"a,\"\"b\"\"\",c", 11), 0);
	cr_assert_eq(r.nfields, 2);
	cr_assert_eq(r.len[0], 5);
	cr_assert_eq(memcmp(r.field[0], "a,\"b\"", 5), 0);
	cr_assert_eq(sx_csv_next(c, &r), 1);
	cr_assert_eq(r.raw_len, 4);
	cr_assert_eq(memcmp(r.raw, "next", 4), 0);
	cr_assert_eq(sx_csv_next(c, &r), 0);
	sx_csv_close(c);
}

/* ---- malformed records: reported as rows, reading goes on ------------- */

Test(csv, quote_inside_unquoted_field_is_an_error_row_and_next_line_reads)
{
	sx_csv_row r;
	sx_csv *c;

	/* The stray quote opens nothing: the next line is the next record. */
	EXPECT("h\nab\"c,d\nok\n",
	       "1 [h]\n2 [ab\"c] [d] !quote inside an unquoted field\n3 [ok]\n");
	c = first_row("\xE5\x90\x8D\xE5\xAD\x97,ab\"c\n", &r);   /* 名字,ab"c */
	cr_assert_str_eq(r.error, "quote inside an unquoted field");
	cr_assert_str_eq(sx_csv_error(c),
	                 "line 1, column 6: quote inside an unquoted field");
	cr_assert_eq(r.raw_len, 11);
	sx_csv_close(c);
}

Test(csv, text_after_closing_quote_is_an_error_row_and_next_line_reads)
{
	sx_csv_row r;
	sx_csv *c;

	EXPECT("h\n\"abc\"x,y\nok\n",
	       "1 [h]\n2 [abc] [y] !text after a closing quote\n3 [ok]\n");
	EXPECT("\"a\"\"b\" ,c\r\nok",
	       "1 [a\"b] [c] !text after a closing quote\n2 [ok]\n");
	/* The place is the physical line of the bad byte, not the record's. */
	c = first_row("\"a\nb\"c\n", &r);
	cr_assert_eq(r.line, 1);
	cr_assert_str_eq(sx_csv_error(c), "line 2, column 3: text after a closing quote");
	cr_assert_eq(r.raw_len, 6);
	sx_csv_close(c);
}

Test(csv, unterminated_quote_makes_the_rest_of_input_one_error_row)
{
	sx_csv_row r;
	sx_csv *c;

	EXPECT("a\n\"abc\nd,e\n",
	       "1 [a]\n2 [abc\nd,e\n] !unterminated quoted field\n");
	c = sx_csv_open_mem("a\nx,\"abc\nd,e\n", 13);
	cr_assert_eq(sx_csv_next(c, &r), 1);
	cr_assert_eq(sx_csv_next(c, &r), 1);
	cr_assert_str_eq(r.error, "unterminated quoted field");
	cr_assert_eq(r.line, 2);
	cr_assert_eq(r.raw_len, 11);
	cr_assert_eq(memcmp(r.raw, "x,\"abc\nd,e\n", 11), 0);
	cr_assert_str_eq(sx_csv_error(c), "line 2, column 3: unterminated quoted field");
	cr_assert_eq(sx_csv_next(c, &r), 0);
	sx_csv_close(c);
}

Test(csv, only_the_first_error_of_a_record_is_reported)
{
	EXPECT("a\"b,\"c\"d\nok\n",
	       "1 [a\"b] [c] !quote inside an unquoted field\n2 [ok]\n");
}

/* A buffer "a\n" + body + tail. */
static char *with_body(size_t n, char fill, const char *tail, size_t *len)
{
	size_t tl = strlen(tail);
	char *s = malloc(2 + n + tl);

	cr_assert_not_null(s);
	memcpy(s, "a\n", 2);
	memset(s + 2, fill, n);
	memcpy(s + 2 + n, tail, tl);
	*len = 2 + n + tl;
	return s;
}

static const size_t big_blocks[] = { 0, 4096, 65536, 1000003 };

Test(csv, record_of_exactly_1_MiB_is_read)
{
	size_t len;
	char *s = with_body(MAXREC, 'x', "\nb", &len);

	for (size_t k = 0; k < SX_ARRAY_LEN(big_blocks); k++) {
		sx_csv *c = sx_csv_open_mem(s, len);
		sx_csv_row r;

		if (big_blocks[k])
			sx_csv_set_block_size(c, big_blocks[k]);
		cr_assert_eq(sx_csv_next(c, &r), 1);
		cr_assert_eq(sx_csv_next(c, &r), 1);
		cr_assert_null(r.error, "block %zu: %s", big_blocks[k], r.error);
		cr_assert_eq(r.nfields, 1);
		cr_assert_eq(r.len[0], MAXREC);
		cr_assert_eq(sx_csv_next(c, &r), 1);
		cr_assert_eq(r.line, 3);
		cr_assert_eq(sx_csv_next(c, &r), 0);
		sx_csv_close(c);
	}
	free(s);
}

Test(csv, record_longer_than_1_MiB_is_an_error_row_and_skipped_to_next_line)
{
	size_t len;
	char *s = with_body(MAXREC + 1, 'x', "\r\nb,c\n", &len);

	for (size_t k = 0; k < SX_ARRAY_LEN(big_blocks); k++) {
		sx_csv *c = sx_csv_open_mem(s, len);
		sx_csv_row r;

		if (big_blocks[k])
			sx_csv_set_block_size(c, big_blocks[k]);
		cr_assert_eq(sx_csv_next(c, &r), 1);
		cr_assert_eq(sx_csv_next(c, &r), 1);
		cr_assert_str_eq(r.error, "record longer than 1 MiB");
		cr_assert_eq(r.line, 2);
		cr_assert_eq(r.nfields, 0);
		cr_assert_eq(r.raw_len, MAXREC);
		cr_assert_eq(r.raw[0], 'x');
		cr_assert_eq(r.raw[MAXREC - 1], 'x');
		cr_assert_str_eq(sx_csv_error(c), "line 2, column 1: record longer than 1 MiB");
		cr_assert_eq(sx_csv_next(c, &r), 1);
		cr_assert_null(r.error);
		cr_assert_eq(r.line, 3);
		cr_assert_eq(r.nfields, 2);
		cr_assert_eq(sx_csv_next(c, &r), 0);
		sx_csv_close(c);
	}
	free(s);
}

Test(csv, stray_opening_quote_swallows_about_1_MiB_not_the_whole_file)
{
	/* "h", then a quote that is never closed and 600000 lines "y". */
	const size_t pairs = 600000;
	size_t len = 3 + 2 * pairs + 4;
	char *s = malloc(len);

	memcpy(s, "h\n\"", 3);
	for (size_t i = 0; i < pairs; i++)
		memcpy(s + 3 + 2 * i, "y\n", 2);
	memcpy(s + 3 + 2 * pairs, "end\n", 4);

	for (size_t k = 0; k < SX_ARRAY_LEN(big_blocks); k++) {
		sx_csv *c = sx_csv_open_mem(s, len);
		sx_csv_row r;
		size_t ys = 0;

		if (big_blocks[k])
			sx_csv_set_block_size(c, big_blocks[k]);
		cr_assert_eq(sx_csv_next(c, &r), 1);
		cr_assert_eq(sx_csv_next(c, &r), 1);
		cr_assert_str_eq(r.error, "record longer than 1 MiB");
		cr_assert_eq(r.line, 2);
		/* The first MiB holds the quote and 524287.5 pairs; reading
		 * resumes after the line break that follows it, at the 524289th
		 * "y", which is on physical line 524290. */
		cr_assert_eq(sx_csv_next(c, &r), 1);
		cr_assert_eq(r.line, 524290);
		do {
			cr_assert_null(r.error);
			if (r.len[0] == 1 && r.field[0][0] == 'y')
				ys++;
			else
				break;
		} while (sx_csv_next(c, &r) == 1);
		cr_assert_eq(ys, pairs - 524288);
		cr_assert_eq(r.len[0], 3);
		cr_assert_eq(memcmp(r.field[0], "end", 3), 0);
		cr_assert_eq(r.line, pairs + 2);
		cr_assert_eq(sx_csv_next(c, &r), 0);
		sx_csv_close(c);
	}
	free(s);
}

/* ---- block boundaries, sources ---------------------------------------- */

static void write_rows(int fd, size_t n)
{
	FILE *f = fdopen(dup(fd), "w");

	cr_assert_not_null(f);
	fputs("\xEF\xBB\xBF" "id,name,note\r\n", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "id%06zu,\"name, %zu\",\"q\"\"%zu\nline\"\r\n", i, i, i);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
}

static void check_rows(sx_csv *c, size_t n)
{
	sx_csv_row r;
	char want[64];
	size_t i;

	cr_assert_eq(sx_csv_next(c, &r), 1);
	cr_assert_eq(r.line, 1);
	cr_assert_eq(r.len[0], 2);
	cr_assert_eq(memcmp(r.field[0], "id", 2), 0);
	for (i = 0; i < n; i++) {
		int k;

		cr_assert_eq(sx_csv_next(c, &r), 1, "row %zu: %s", i, sx_csv_error(c));
		cr_assert_null(r.error);
		cr_assert_eq(r.nfields, 3);
		cr_assert_eq(r.line, 2 + 2 * i, "row %zu on line %llu", i,
		             (unsigned long long)r.line);
		k = snprintf(want, sizeof want, "id%06zu", i);
		cr_assert_eq(r.len[0], (size_t)k);
		cr_assert_eq(memcmp(r.field[0], want, (size_t)k), 0);
		k = snprintf(want, sizeof want, "name, %zu", i);
		cr_assert_eq(r.len[1], (size_t)k);
		cr_assert_eq(memcmp(r.field[1], want, (size_t)k), 0);
		k = snprintf(want, sizeof want, "q\"%zu\nline", i);
		cr_assert_eq(r.len[2], (size_t)k, "row %zu", i);
		cr_assert_eq(memcmp(r.field[2], want, (size_t)k), 0);
	}
	cr_assert_eq(sx_csv_next(c, &r), 0);
}

Test(csv, records_crossing_read_blocks_from_an_fd_are_whole)
{
	static const size_t blocks[] = { 0, 4093, 100, 7 };
	FILE *t = tmpfile();
	int fd = fileno(t);

	write_rows(fd, 20000);
	for (size_t k = 0; k < SX_ARRAY_LEN(blocks); k++) {
		sx_csv *c = sx_csv_open_fd(fd);

		cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
		if (blocks[k])
			cr_assert_eq(sx_csv_set_block_size(c, blocks[k]), 0);
		check_rows(c, 20000);
		sx_csv_close(c);
	}
	fclose(t);
}

Test(csv, file_stream_source_reads_the_same_rows)
{
	FILE *t = tmpfile();
	sx_csv *c;

	write_rows(fileno(t), 3000);
	c = sx_csv_open_file(t);
	cr_assert_eq(sx_csv_set_block_size(c, 997), 0);
	check_rows(c, 3000);
	sx_csv_close(c);
	fclose(t);
}

Test(csv, any_block_size_gives_the_same_rows_on_random_input)
{
	static const char alphabet[] = "ab,\"\"\n\r\xC3\xA9 ";
	char in[80];
	unsigned seed = 12345;

	for (int round = 0; round < 3000; round++) {
		size_t n;
		char *ref, *got;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % sizeof in;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
		}
		ref = render(in, n, 0);
		for (size_t b = 1; b <= 4; b++) {
			got = render(in, n, b);
			cr_assert_str_eq(got, ref, "round %d block %zu", round, b);
			free(got);
		}
		free(ref);
	}
}

Test(csv, read_error_is_returned_as_minus_errno_and_sticks)
{
	sx_csv *c = sx_csv_open_fd(-1);
	sx_csv_row r;

	cr_assert_eq(sx_csv_next(c, &r), -EBADF);
	cr_assert_eq(sx_csv_next(c, &r), -EBADF);
	cr_assert_not_null(strstr(sx_csv_error(c), "line 1: read failed"),
	                  "%s", sx_csv_error(c));
	sx_csv_close(c);
}

Test(csv, block_size_is_refused_once_reading_started)
{
	sx_csv *c = sx_csv_open_mem("a\n", 2);
	sx_csv_row r;

	cr_assert_eq(sx_csv_set_block_size(c, 0), SX_EINVAL);
	cr_assert_eq(sx_csv_next(c, &r), 1);
	cr_assert_eq(sx_csv_set_block_size(c, 64), SX_EINVAL);
	cr_assert_str_eq(sx_csv_error(c), "");
	sx_csv_close(c);
	sx_csv_close(NULL);
}

/* ---- header ----------------------------------------------------------- */

Test(csv, header_index_maps_names_in_any_order_and_marks_missing)
{
	static const char *const want[] = { "case_no", "id_no", " name", "status" };
	int idx[4];
	sx_csv_row r;
	sx_csv *c = first_row("\xEF\xBB\xBF" " Case_No ,NAME,extra,\"id_no\t\"\n", &r);

	cr_assert_eq(sx_csv_header_index(&r, want, 4, idx), 3);
	cr_assert_eq(idx[0], 0);
	cr_assert_eq(idx[1], 3);
	cr_assert_eq(idx[2], 1);
	cr_assert_eq(idx[3], -1);
	sx_csv_close(c);
}

Test(csv, header_index_refuses_a_wanted_name_given_twice)
{
	static const char *const want[] = { "a", "b" };
	int idx[2];
	sx_csv_row r;
	sx_csv *c = first_row("a,b,c,A\n", &r);

	cr_assert_eq(sx_csv_header_index(&r, want, 2, idx), SX_EINVAL);
	cr_assert_eq(idx[0], SX_CSV_DUPLICATE);
	cr_assert_eq(idx[1], 1);
	sx_csv_close(c);
}
