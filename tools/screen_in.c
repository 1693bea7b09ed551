/*
 * screen_in.c - the input of `sxgate screen`: what the first record says
 * the file is, and records copied into chunks.
 *
 * Records come from loader/csv.c's reader (RFC 4180 quoting, CRLF, a BOM
 * skipped, line numbers), the one CSV parser of the project.  A first
 * record naming an id column (id_no, or id) is a header: every column is
 * carried through, and id_type/type, channel, class and day/at are read
 * per row.  Anything else with one field is the first ID of a plain list.
 * A header-less file of several columns is refused, naming the header it
 * saw, rather than guessed at.
 *
 * The reader's fields point into its buffer, valid only until the next
 * record, so a chunk copies each record's raw bytes once and points its
 * fields into that copy (a field the reader had to unquote into its side
 * buffer is copied on its own).  The raw copy is also what the rejects
 * file shows and what the CSV output carries: the input columns come out
 * byte for byte as they went in.
 */
#include "screen.h"
#include "json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int scr_buf_reserve(scr_buf *b, size_t n)
{
	if (b->n + n <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->n + n)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void scr_buf_put(scr_buf *b, const void *s, size_t n)
{
	if (!n || scr_buf_reserve(b, n))
		return;
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

void scr_reject(scr_chunk *ch, scr_row *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->state = SCR_ROW_REJECT;
	r->why = (uint32_t)ch->text.n;
	scr_buf_put(&ch->text, msg, strlen(msg) + 1);
}

/* Copy one record into ch; a reader's error row is rejected with the
 * reader's message.  0, or -1 out of memory. */
static int add_row(sx_csv *c, scr_chunk *ch, const sx_csv_row *in)
{
	if (ch->nrow == ch->rowcap) {
		size_t cap = ch->rowcap ? ch->rowcap * 2 : 1024;
		scr_row *p = realloc(ch->row, cap * sizeof *p);
		if (!p)
			return -1;
		ch->row = p;
		ch->rowcap = cap;
	}
	if (ch->nfld + in->nfields > ch->fldcap) {
		size_t cap = ch->fldcap ? ch->fldcap : 4096;
		while (cap < ch->nfld + in->nfields)
			cap *= 2;
		scr_fld *p = realloc(ch->fld, cap * sizeof *p);
		if (!p)
			return -1;
		ch->fld = p;
		ch->fldcap = cap;
	}
	scr_row *r = &ch->row[ch->nrow++];
	memset(r, 0, sizeof *r);
	r->line = in->line;
	r->raw = (uint32_t)ch->bytes.n;
	r->raw_len = (uint32_t)in->raw_len;
	scr_buf_put(&ch->bytes, in->raw, in->raw_len);
	r->fld = (uint32_t)ch->nfld;
	r->nfld = (uint32_t)in->nfields;
	for (size_t i = 0; i < in->nfields; i++) {
		scr_fld *f = &ch->fld[ch->nfld++];
		const char *p = in->field[i];
		f->len = (uint32_t)in->len[i];
		if (p >= in->raw && p + in->len[i] <= in->raw + in->raw_len) {
			f->off = r->raw + (uint32_t)(p - in->raw);
		} else {
			f->off = (uint32_t)ch->bytes.n;
			scr_buf_put(&ch->bytes, p, in->len[i]);
		}
	}
	if (in->error)
		scr_reject(ch, r, "%s", sx_csv_error(c));
	return ch->bytes.oom || ch->text.oom ? -1 : 0;
}

static const char *const wanted[] = { "id_no", "id", "id_type", "type",
                                      "channel", "class", "day", "at" };

int scr_in_header(sx_csv *c, const char *name, scr_opts *o, scr_chunk *first,
                  char *why, size_t cap)
{
	sx_csv_row row;
	int rc = sx_csv_next(c, &row);
	if (rc < 0) {
		snprintf(why, cap, "%s: %s", name, rc == -ENOMEM ? "out of memory" :
		         sx_csv_error(c));
		return -1;
	}
	if (rc == 0) {
		snprintf(why, cap, "%s: empty input: no header and no ID", name);
		return -1;
	}
	int idx[SX_ARRAY_LEN(wanted)];
	sx_csv_header_index(&row, wanted, SX_ARRAY_LEN(wanted), idx);
	for (size_t i = 0; i < SX_ARRAY_LEN(wanted); i++)
		if (idx[i] == SX_CSV_DUPLICATE) {
			snprintf(why, cap, "%s, line %llu: the header names column %s "
			         "twice", name, (unsigned long long)row.line, wanted[i]);
			return -1;
		}
	/* id_no before id, id_type before type, day before at */
	int pick[SCR_NCOLS][2] = { { 0, 1 }, { 2, 3 }, { 4, 4 }, { 5, 5 }, { 6, 7 } };
	for (int k = 0; k < SCR_NCOLS; k++)
		o->col[k] = idx[pick[k][0]] >= 0 ? idx[pick[k][0]] : idx[pick[k][1]];
	if (o->col[SCR_COL_ID] < 0 && row.error && row.nfields != 1) {
		/* a header the reader could not split (one over 1 MiB): its
		 * error, not "no id column" */
		snprintf(why, cap, "%s: the header: %s", name, sx_csv_error(c));
		return -1;
	}
	if (o->col[SCR_COL_ID] < 0) {
		if (row.nfields == 1 && !row.error) {
			o->plain = 1;
			o->ncols = 1;
			o->col[SCR_COL_ID] = 0;
			for (int k = 1; k < SCR_NCOLS; k++)
				o->col[k] = -1;
			return add_row(c, first, &row) ? snprintf(why, cap, "out of memory"), -1 : 0;
		}
		snprintf(why, cap, "%s, line %llu: no id column (want id_no or id, "
		         "and id_type or type; or one ID a line); the header is: %.*s",
		         name, (unsigned long long)row.line,
		         (int)(row.raw_len > 300 ? 300 : row.raw_len), row.raw);
		return -1;
	}
	if (row.error) {
		snprintf(why, cap, "%s: the header: %s", name, sx_csv_error(c));
		return -1;
	}
	o->ncols = row.nfields;
	o->colname = calloc(row.nfields, sizeof *o->colname);
	o->header_raw = malloc(row.raw_len + 1);
	if (!o->colname || !o->header_raw) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	memcpy(o->header_raw, row.raw, row.raw_len);
	o->header_len = row.raw_len;
	for (size_t i = 0; i < row.nfields; i++) {
		if (!sx_utf8_valid(row.field[i], row.len[i])) {
			snprintf(why, cap, "%s, line %llu: header column %zu is not "
			         "valid UTF-8", name, (unsigned long long)row.line, i + 1);
			return -1;
		}
		o->colname[i] = strndup(row.field[i], row.len[i]);
		if (!o->colname[i]) {
			snprintf(why, cap, "out of memory");
			return -1;
		}
	}
	return 0;
}

long scr_in_fill(sx_csv *c, scr_chunk *ch, char *why, size_t cap)
{
	long n = 0;
	sx_csv_row row;
	while (ch->nrow < SCR_CHUNK_ROWS && ch->bytes.n < SCR_CHUNK_BYTES) {
		int rc = sx_csv_next(c, &row);
		if (rc == 0)
			break;
		if (rc < 0) {
			snprintf(why, cap, "%s", rc == -ENOMEM ? "out of memory" :
			         sx_csv_error(c));
			return -1;
		}
		if (add_row(c, ch, &row)) {
			snprintf(why, cap, "out of memory");
			return -1;
		}
		n++;
	}
	return n;
}
