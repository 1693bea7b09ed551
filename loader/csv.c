/*
 * csv.c - the streaming RFC 4180 reader (contract in csv.h).
 *
 * One buffer of block + SX_CSV_MAX_RECORD bytes.  Reads append to it;
 * before each read the unfinished record is moved to the front, so a
 * record is always contiguous and at most one record's bytes are ever
 * moved.  The parser is a small state machine (field start, unquoted
 * field, quoted field, quote seen inside quotes, junk after a closing
 * quote) whose whole state is offsets from the record's start: running out
 * of data in any state refills the buffer and resumes at the same byte, so
 * a block boundary may fall anywhere, even between CR and LF.  Every step
 * that needs more data checks before it changes anything, which makes the
 * resume exact.
 *
 * Speed: inside a field the scan looks at eight bytes a step (a word
 * compared with the stop bytes at once; a 256-entry stop table, one byte
 * a step, where words are not little-endian), ended by a sentinel byte
 * after the data instead of a bounds test; the buffer has a few zeroed
 * bytes past its end for the last word.  Field positions are
 * kept as 32-bit offsets (top bit: "in the side buffer") and turned into
 * pointers once, when the record is complete.
 *
 * Deterministic whatever the block size: "too long" is decided on the
 * record's length alone, and the skip after it starts at a fixed offset,
 * so a fuzzer may compare runs with different block sizes.
 */
#include "csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SRC_FD, SRC_FILE, SRC_MEM };

/* Parser states. */
enum {
	S_START,   /* at the first byte of a field */
	S_UNQ,     /* inside an unquoted field */
	S_Q,       /* inside a quoted field */
	S_QQ,      /* inside a quoted field, just after a quote: "" or the end */
	S_JUNK     /* after a closing quote, before the next comma or line end */
};

#define IN_SCRATCH 0x80000000u   /* field offset refers to c->scr */
#define SENTINEL   '"'           /* stops both scan loops */
#define MAX_BLOCK  ((size_t)1 << 30)

static const char R_QUOTE[]  = "quote inside an unquoted field";
static const char R_JUNK[]   = "text after a closing quote";
static const char R_UNTERM[] = "unterminated quoted field";
static const char R_LONG[]   = "record longer than 1 MiB";

/* Eight bytes at a time: the first byte of w (little-endian) equal to
 * one of a, b, c, d, as a bit index (byte * 8 + 7), or 64 for none.  The
 * zero-byte test may also flag bytes above a real match (a borrow), never
 * below one, so the lowest flag is exact.  Used only where reading up to
 * seven bytes past the sentinel is safe: the buffer has SLACK bytes more. */
#define SLACK 8
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR 1
static inline uint64_t has_byte(uint64_t w, unsigned char c)
{
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t x = w ^ (ones * c);
	return (x - ones) & ~x & (ones << 7);
}

/* p advanced to the first byte of `stop` (',' '"' LF CR; without ','
 * when quoted); the sentinel at the end of the data is one. */
static inline char *scan(char *p, int quoted)
{
	for (;;) {
		uint64_t w, m;
		memcpy(&w, p, 8);
		m = has_byte(w, '"') | has_byte(w, '\n') | has_byte(w, '\r');
		if (!quoted)
			m |= has_byte(w, ',');
		if (m)
			return p + (__builtin_ctzll(m) >> 3);
		p += 8;
	}
}
#else
#define SWAR 0
#endif

/* Bytes that end the fast scan of an unquoted field and of a quoted one. */
static const unsigned char stop_unq[256] = {
	[','] = 1, ['"'] = 1, ['\n'] = 1, ['\r'] = 1,
};
#if !SWAR
static const unsigned char stop_q[256] = {
	['"'] = 1, ['\n'] = 1, ['\r'] = 1,
};
#endif

struct sx_csv {
	int src;
	int fd;
	FILE *fp;
	const char *mem;
	size_t mem_len, mem_off;

	size_t block;          /* bytes asked of the source per read */
	char *buf;             /* cap bytes + 1 for the sentinel; NULL before start */
	size_t cap;
	char *pos;             /* first byte not yet handed out */
	char *end;             /* end of data; *end == SENTINEL */
	int eof;               /* the source has nothing more */
	int err;               /* sticky error return, 0 if none */
	uint64_t line;         /* physical line of the byte at pos */

	/* the current record's fields */
	uint32_t *foff;        /* offset from record start, or IN_SCRATCH | offset */
	size_t *flen;
	const char **fptr;
	size_t fcap;

	/* fields with doubled quotes, collapsed; the raw prefix of a too-long record */
	char *scr;
	size_t slen, scap;

	char msg[192];
};

/* ---- opening and closing --------------------------------------------- */

static SX_COLD sx_csv *csv_new(int src)
{
	sx_csv *c = calloc(1, sizeof *c);
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->src = src;
	c->fd = -1;
	c->block = SX_CSV_BLOCK;
	c->line = 1;
	return c;
}

sx_csv *sx_csv_open_fd(int fd)
{
	sx_csv *c = csv_new(SRC_FD);
	if (c) {
		c->fd = fd;
		/* A hint only; fails harmlessly on pipes. */
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	return c;
}

sx_csv *sx_csv_open_file(FILE *f)
{
	sx_csv *c = csv_new(SRC_FILE);
	if (c)
		c->fp = f;
	return c;
}

sx_csv *sx_csv_open_mem(const char *buf, size_t len)
{
	sx_csv *c = csv_new(SRC_MEM);
	if (c) {
		c->mem = buf;
		c->mem_len = buf ? len : 0;
	}
	return c;
}

int sx_csv_set_block_size(sx_csv *c, size_t bytes)
{
	if (!c || c->buf || bytes == 0 || bytes > MAX_BLOCK)
		return SX_EINVAL;
	c->block = bytes;
	return 0;
}

void sx_csv_close(sx_csv *c)
{
	if (!c)
		return;
	free(c->buf);
	free(c->foff);
	free(c->flen);
	free(c->fptr);
	free(c->scr);
	free(c);
}

const char *sx_csv_error(const sx_csv *c)
{
	return c ? c->msg : "no CSV reader";
}

/* ---- input ------------------------------------------------------------ */

/* Move [pos, end) to the front of the buffer and append up to one block.
 * Returns the bytes read (0 at the end of input, which sets eof) or a
 * negative error. */
static int fill(sx_csv *c)
{
	size_t keep = (size_t)(c->end - c->pos);
	size_t want;
	ssize_t n;

	if (c->pos != c->buf) {
		memmove(c->buf, c->pos, keep);
		c->pos = c->buf;
		c->end = c->buf + keep;
	}
	want = c->cap - keep;
	if (want > c->block)
		want = c->block;
	if (sx_unlikely(want == 0))
		return SX_EFULL;   /* cannot happen: records are bounded */

	switch (c->src) {
	case SRC_FD:
		do
			n = read(c->fd, c->end, want);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		break;
	case SRC_FILE:
		errno = 0;
		n = (ssize_t)fread(c->end, 1, want, c->fp);
		if (n == 0 && ferror(c->fp))
			return errno ? -errno : -EIO;
		break;
	default:
		n = (ssize_t)(c->mem_len - c->mem_off);
		if ((size_t)n > want)
			n = (ssize_t)want;
		memcpy(c->end, c->mem + c->mem_off, (size_t)n);
		c->mem_off += (size_t)n;
		break;
	}
	if (n == 0)
		c->eof = 1;
	c->end += n;
	*c->end = SENTINEL;
	return (int)n;
}

static SX_COLD int fail(sx_csv *c, int err)
{
	c->err = err;
	if (err == -ENOMEM)
		snprintf(c->msg, sizeof c->msg, "line %llu: out of memory",
		         (unsigned long long)c->line);
	else
		snprintf(c->msg, sizeof c->msg, "line %llu: read failed: %s",
		         (unsigned long long)c->line,
		         err < 0 && err > -4096 ? strerror(-err) : "internal error");
	return err;
}

/* First call: allocate, then skip a UTF-8 BOM at the very start. */
static SX_COLD int start(sx_csv *c)
{
	int r;

	c->cap = c->block + SX_CSV_MAX_RECORD + 8;
	c->fcap = 64;
	/* zeroed: the word-wise scan may read the slack past the sentinel */
	c->buf = calloc(c->cap + 1 + SLACK, 1);
	c->foff = malloc(c->fcap * sizeof *c->foff);
	c->flen = malloc(c->fcap * sizeof *c->flen);
	c->fptr = malloc(c->fcap * sizeof *c->fptr);
	if (!c->buf || !c->foff || !c->flen || !c->fptr)
		return -ENOMEM;   /* the handle frees what was got */
	c->pos = c->end = c->buf;
	*c->end = SENTINEL;

	while (c->end - c->pos < 3 && !c->eof)
		if ((r = fill(c)) < 0)
			return r;
	if (c->end - c->pos >= 3 && memcmp(c->pos, "\xEF\xBB\xBF", 3) == 0)
		c->pos += 3;
	return 0;
}

static int grow_fields(sx_csv *c)
{
	size_t n = c->fcap * 2;
	uint32_t *o = realloc(c->foff, n * sizeof *o);
	if (o)
		c->foff = o;
	size_t *l = realloc(c->flen, n * sizeof *l);
	if (l)
		c->flen = l;
	const char **p = realloc(c->fptr, n * sizeof *p);
	if (p)
		c->fptr = p;
	if (!o || !l || !p)
		return -ENOMEM;
	c->fcap = n;
	return 0;
}

static int scratch_add(sx_csv *c, const char *s, size_t n)
{
	if (c->scap - c->slen < n) {
		size_t cap = c->scap ? c->scap : 4096;
		while (cap - c->slen < n)
			cap *= 2;
		char *p = realloc(c->scr, cap);
		if (!p)
			return -ENOMEM;
		c->scr = p;
		c->scap = cap;
	}
	memcpy(c->scr + c->slen, s, n);
	c->slen += n;
	return 0;
}

/* ---- error places ----------------------------------------------------- */

/* Line breaks in s[0..n): LF, CRLF, lone CR.  next_lf: s[n] is an LF. */
static uint64_t count_breaks(const char *s, size_t n, int next_lf)
{
	uint64_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			k++;
		else if (s[i] == '\r' && !(i + 1 < n ? s[i + 1] == '\n' : next_lf))
			k++;
	}
	return k;
}

/* "line L, column C: why" for the byte at rec[off] of a record starting on
 * line `line`.  The column counts UTF-8 characters. */
static SX_COLD void set_place(sx_csv *c, const char *rec, size_t off,
                              uint64_t line, const char *why)
{
	size_t bol = 0;
	uint64_t col = 1;

	line += count_breaks(rec, off, rec[off] == '\n');
	for (size_t i = off; i > 0; i--)
		if (rec[i - 1] == '\n' || rec[i - 1] == '\r') {
			bol = i;
			break;
		}
	for (size_t i = bol; i < off; i++)
		col += ((unsigned char)rec[i] & 0xC0) != 0x80;
	snprintf(c->msg, sizeof c->msg, "line %llu, column %llu: %s",
	         (unsigned long long)line, (unsigned long long)col, why);
}

/* Discard input up to and including the next line break at or after pos. */
static int skip_line(sx_csv *c)
{
	for (;;) {
		char *q = c->pos, *e = c->end;
		int r;

		while (q < e && *q != '\n' && *q != '\r')
			q++;
		if (q < e && !(*q == '\r' && q + 1 == e && !c->eof)) {
			q += (*q == '\r' && q + 1 < e && q[1] == '\n') ? 2 : 1;
			c->line++;
			c->pos = q;
			return 0;
		}
		c->pos = q;
		if (c->eof)
			return 0;
		if ((r = fill(c)) < 0)
			return r;
	}
}

/* ---- the parser ------------------------------------------------------- */

/* Append a field: offset `off` (maybe | IN_SCRATCH), length `n`. */
#define PUSH(off, n)                                                     \
	do {                                                             \
		if (sx_unlikely(nf == c->fcap)) {                        \
			if (grow_fields(c) < 0)                          \
				goto nomem;                              \
			foff = c->foff;                                  \
			flen = c->flen;                                  \
		}                                                        \
		foff[nf] = (uint32_t)(off);                              \
		flen[nf++] = (size_t)(n);                                \
	} while (0)

/* Append the quoted field that opened at fstart and closes at offset cl. */
#define PUSH_QUOTED(cl)                                                  \
	do {                                                             \
		if (!insc) {                                             \
			PUSH(fstart, (cl) - fstart);                     \
		} else {                                                 \
			if (scratch_add(c, b + seg, (cl) - seg) < 0)     \
				goto nomem;                              \
			PUSH(IN_SCRATCH | soff, c->slen - soff);         \
		}                                                        \
	} while (0)

int sx_csv_next(sx_csv *c, sx_csv_row *row)
{
	char *b, *p, *e;
	uint32_t *foff;
	size_t *flen;
	size_t nf = 0, fstart = 0, seg = 0, soff = 0, rend, erroff = 0;
	uint64_t nl = 0;         /* line breaks inside quotes */
	int state = S_START, insc = 0, ended;
	const char *why = NULL;

	if (sx_unlikely(!c || !row))
		return SX_EINVAL;
	if (sx_unlikely(c->err))
		return c->err;
	if (sx_unlikely(!c->buf)) {
		int r = start(c);
		if (r < 0)
			return fail(c, r);
	}
	memset(row, 0, sizeof *row);
	b = p = c->pos;
	e = c->end;
	foff = c->foff;
	flen = c->flen;
	c->slen = 0;

	for (;;) {
		switch (state) {
		case S_START:
			if (p == e)
				goto more;
			if (*p == '"') {
				state = S_Q;
				fstart = seg = (size_t)(p + 1 - b);
				insc = 0;
				p++;
				continue;
			}
			if (nf == 0 && (*p == '\n' || *p == '\r')) {
				/* An empty line is no record; it only counts. */
				if (*p == '\r' && p + 1 == e && !c->eof)
					goto more;
				p += (*p == '\r' && p + 1 < e && p[1] == '\n') ? 2 : 1;
				c->line++;
				b = p;
				continue;
			}
			fstart = (size_t)(p - b);
			state = S_UNQ;
			/* fall through */
		case S_UNQ:
#if SWAR
			p = scan(p, 0);
#else
			while (!stop_unq[(unsigned char)*p])
				p++;
#endif
			if (p == e)
				goto more;
			if (*p == ',') {
				PUSH(fstart, (size_t)(p - b) - fstart);
				p++;
				state = S_START;
				continue;
			}
			if (*p == '"') {
				if (!why) {
					why = R_QUOTE;
					erroff = (size_t)(p - b);
				}
				p++;
				continue;
			}
			if (*p == '\r' && p + 1 == e && !c->eof)
				goto more;
			PUSH(fstart, (size_t)(p - b) - fstart);
			goto eol;
		case S_Q:
#if SWAR
			p = scan(p, 1);
#else
			while (!stop_q[(unsigned char)*p])
				p++;
#endif
			if (p == e)
				goto more;
			if (*p == '"') {
				p++;
				state = S_QQ;
				continue;
			}
			if (*p == '\r') {
				if (p + 1 == e && !c->eof)
					goto more;
				if (!(p + 1 < e && p[1] == '\n'))
					nl++;
			} else {
				nl++;
			}
			p++;
			continue;
		case S_QQ:
			if (p == e)
				goto more;
			if (*p == '"') {
				/* "": keep one quote; the field goes to scratch. */
				if (!insc) {
					insc = 1;
					soff = c->slen;
				}
				if (scratch_add(c, b + seg, (size_t)(p - b) - seg) < 0)
					goto nomem;
				seg = (size_t)(p + 1 - b);
				p++;
				state = S_Q;
				continue;
			}
			if (*p == '\r' && p + 1 == e && !c->eof)
				goto more;
			PUSH_QUOTED((size_t)(p - 1 - b));
			if (*p == ',') {
				p++;
				state = S_START;
				continue;
			}
			if (*p == '\n' || *p == '\r')
				goto eol;
			if (!why) {
				why = R_JUNK;
				erroff = (size_t)(p - b);
			}
			p++;
			state = S_JUNK;
			continue;
		case S_JUNK:
			while (!stop_unq[(unsigned char)*p])
				p++;
			if (p == e)
				goto more;
			if (*p == ',') {
				p++;
				state = S_START;
				continue;
			}
			if (*p == '"') {
				p++;
				continue;
			}
			if (*p == '\r' && p + 1 == e && !c->eof)
				goto more;
			goto eol;
		}
	more:
		if (c->eof)
			goto at_eof;
		if ((size_t)(p - b) > SX_CSV_MAX_RECORD)
			goto oversize;
		{
			size_t at = (size_t)(p - b);
			int r;

			c->pos = b;
			c->end = e;
			if ((r = fill(c)) < 0)
				return fail(c, r);
			b = c->pos;
			p = b + at;
			e = c->end;
		}
	}

eol:
	/* p is at the LF or CR that ends the record (the byte after a CR is
	 * in the buffer unless the input ends there). */
	rend = (size_t)(p - b);
	p += (*p == '\r' && p + 1 < e && p[1] == '\n') ? 2 : 1;
	ended = 1;
	goto done;

at_eof:
	rend = (size_t)(e - b);
	ended = 0;
	switch (state) {
	case S_START:
		if (nf == 0) {
			c->pos = e;
			return 0;
		}
		PUSH(rend, 0);   /* "a,b," then the end: a last empty field */
		break;
	case S_UNQ:
		PUSH(fstart, rend - fstart);
		break;
	case S_Q:
		if (!why) {
			why = R_UNTERM;
			erroff = fstart - 1;
		}
		PUSH_QUOTED(rend);
		break;
	case S_QQ:
		PUSH_QUOTED(rend - 1);
		break;
	default:
		break;
	}

done:
	if (rend > SX_CSV_MAX_RECORD)
		goto oversize;
	for (size_t i = 0; i < nf; i++)
		c->fptr[i] = (foff[i] & IN_SCRATCH ? c->scr : b) + (foff[i] & ~IN_SCRATCH);
	row->nfields = nf;
	row->field = c->fptr;
	row->len = flen;
	row->line = c->line;
	row->raw = b;
	row->raw_len = rend;
	row->error = why;
	if (sx_unlikely(why != NULL))
		set_place(c, b, erroff, c->line, why);
	c->line += nl + (uint64_t)ended;
	c->pos = p;
	c->end = e;
	return 1;

oversize:
	/* Keep the first SX_CSV_MAX_RECORD bytes as raw (the buffer will be
	 * reused by the skip), count their lines, then drop input up to the
	 * next line break.  b[SX_CSV_MAX_RECORD] is in the buffer here. */
	row->line = c->line;
	c->slen = 0;
	if (scratch_add(c, b, SX_CSV_MAX_RECORD) < 0)
		goto nomem;
	c->line += count_breaks(b, SX_CSV_MAX_RECORD, b[SX_CSV_MAX_RECORD] == '\n');
	c->pos = b + SX_CSV_MAX_RECORD;
	c->end = e;
	{
		int r = skip_line(c);
		if (r < 0)
			return fail(c, r);
	}
	row->nfields = 0;
	row->field = c->fptr;
	row->len = c->flen;
	row->raw = c->scr;
	row->raw_len = SX_CSV_MAX_RECORD;
	row->error = R_LONG;
	snprintf(c->msg, sizeof c->msg, "line %llu, column 1: %s",
	         (unsigned long long)row->line, R_LONG);
	return 1;

nomem:
	c->pos = b;
	c->end = e;
	return fail(c, -ENOMEM);
}

/* ---- header ----------------------------------------------------------- */

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

static int same_ascii_nocase(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if ((unsigned)(x - 'A') < 26u)
			x += 'a' - 'A';
		if ((unsigned)(y - 'A') < 26u)
			y += 'a' - 'A';
		if (x != y)
			return 0;
	}
	return 1;
}

int sx_csv_header_index(const sx_csv_row *hdr, const char *const *names,
                        size_t nnames, int *idx)
{
	int found = 0, dup = 0;

	if (!hdr || (nnames && (!names || !idx)))
		return SX_EINVAL;
	for (size_t i = 0; i < nnames; i++) {
		const char *n = names[i] ? names[i] : "";
		size_t nlen = strlen(n);

		trim(&n, &nlen);
		idx[i] = -1;
		for (size_t j = 0; j < hdr->nfields; j++) {
			const char *f = hdr->field[j];
			size_t flen = hdr->len[j];

			trim(&f, &flen);
			if (flen != nlen || !same_ascii_nocase(f, n, nlen))
				continue;
			if (idx[i] == -1) {
				idx[i] = (int)j;
			} else {
				idx[i] = SX_CSV_DUPLICATE;
				break;
			}
		}
		if (idx[i] >= 0)
			found++;
		else if (idx[i] == SX_CSV_DUPLICATE)
			dup = 1;
	}
	return dup ? SX_EINVAL : found;
}
