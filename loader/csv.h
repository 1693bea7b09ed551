/*
 * csv.h - a streaming RFC 4180 reader for the list file (SPEC section 2).
 *
 * The reader pulls the input in large blocks (1 MiB by default) into one
 * buffer and hands out one record at a time.  Fields point into that
 * buffer, so the common field costs no copy; only a field that contains a
 * doubled quote ("") is collapsed into a side buffer.  Keeping the buffer
 * unmodified is what lets every record also carry its raw bytes, which the
 * loader writes to the rejects file.  The trade-off: fields are not
 * NUL-terminated; use the lengths.
 *
 * Accepted: comma separator; fields optionally in double quotes, "" inside
 * quotes is one quote, commas and line breaks inside quotes are data;
 * records end at LF, CRLF or a lone CR; a UTF-8 BOM at the very start is
 * skipped; a last record without a line break is a record; empty lines are
 * skipped.  Line numbers are physical lines (LF, CRLF and a lone CR each
 * end one, also inside quotes), 1-based, the header being line 1.
 *
 * Malformed records never stop the reader.  They come back as rows with
 * row->error set so the caller can reject them and go on:
 *   - a quote inside an unquoted field (the quote is kept as data);
 *   - text after a closing quote (the text is dropped from the field);
 *   - an unterminated quoted field (the rest of the input is that record);
 *   - a record longer than SX_CSV_MAX_RECORD bytes: the reader keeps its
 *     first SX_CSV_MAX_RECORD bytes as raw, gives no fields, and resumes
 *     after the next line break at or past that point, whatever the
 *     quoting.  This bounds memory and bounds the damage of a stray
 *     opening quote to about 1 MiB of input.
 * Fields of an error row are a best effort; raw is exact.
 *
 * A handle is not thread-safe; use one per thread.
 */
#ifndef SX_CSV_H
#define SX_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "sx.h"

typedef struct sx_csv sx_csv;

#define SX_CSV_MAX_RECORD  (1u << 20)   /* bytes of one record, terminator excluded */
#define SX_CSV_BLOCK       (1u << 20)   /* default read size */

/* idx[] value of sx_csv_header_index() for a name the header has twice. */
#define SX_CSV_DUPLICATE   (-2)

/* One record.  Every pointer stays valid until the next sx_csv_next() or
 * sx_csv_close() on the same handle; do not modify or free them. */
typedef struct sx_csv_row {
	size_t nfields;
	const char **field;      /* field[i]: bytes of field i, unquoted, not NUL-terminated */
	size_t *len;             /* len[i]: its length */
	uint64_t line;           /* physical line where the record starts, 1-based */
	const char *raw;         /* the record as read, without its line break */
	size_t raw_len;
	const char *error;       /* NULL, or a static reason the record is malformed */
} sx_csv_row;

/* Open a reader.  The source is not taken over: the caller closes fd or f
 * after sx_csv_close(); open_mem reads buf[0..len) without copying it
 * whole, and buf must outlive the handle.  Returns NULL (errno ENOMEM) when
 * out of memory.  Nothing is read before the first sx_csv_next(). */
sx_csv *sx_csv_open_fd(int fd);
sx_csv *sx_csv_open_file(FILE *f);
sx_csv *sx_csv_open_mem(const char *buf, size_t len);

/* Read at most `bytes` per read from the source (default SX_CSV_BLOCK).
 * Meant for tests, which use tiny blocks to make records cross block
 * boundaries, and for tuning.  Only before the first sx_csv_next().
 * Returns 0, or SX_EINVAL (too late, 0, or above 1 GiB). */
int sx_csv_set_block_size(sx_csv *c, size_t bytes);

/* Read the next record into *row.  Returns 1 for a record (check
 * row->error), 0 at the end of the input (again on every later call), or a
 * negative error: -errno of a failed read, -ENOMEM.  An error return is
 * sticky: later calls return it again.  sx_csv_error() then says what and
 * where. */
int sx_csv_next(sx_csv *c, sx_csv_row *row);

/* The message of the last error row or error return, naming the place:
 * "line 12, column 40: quote inside an unquoted field" (the column counts
 * UTF-8 characters from 1).  "" before any error.  Valid until the next
 * call on the handle. */
const char *sx_csv_error(const sx_csv *c);

/* Map wanted column names to positions in a header row: idx[i] is the
 * position of the header field equal to names[i], compared ASCII
 * case-insensitively with surrounding spaces and tabs trimmed on both
 * sides, or -1 when the header lacks it, or SX_CSV_DUPLICATE when the
 * header has it more than once.  Header columns not asked for are ignored.
 * Returns how many names were found, or SX_EINVAL when a wanted name is
 * duplicated in the header. */
int sx_csv_header_index(const sx_csv_row *hdr, const char *const *names,
                        size_t nnames, int *idx);

/* Free the handle and everything it handed out.  NULL is a no-op. */
void sx_csv_close(sx_csv *c);

#endif
