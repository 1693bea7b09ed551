/*
 * screen.h - `sxgate screen`, bulk screening of a manifest or a customer
 * base: the pieces between its files.
 *
 * The run is a pipeline of chunks.  The main thread reads the input with
 * loader/csv.c's RFC 4180 reader and copies up to SCR_CHUNK_ROWS records
 * into a chunk (screen_in.c), and offline with one worker checks its
 * rows and parses their IDs; worker threads check (the rest), decide and
 * format a whole chunk each (screen_decide.c decides offline with the engine's
 * batched decision or against a server in pipelined binary CHECK frames,
 * screen_out.c writes CSV or JSON lines and the rejects); the main thread
 * writes finished chunks in input order (screen.c).  A chunk is the unit
 * of everything: it owns its bytes, its results and its output, so the
 * workers share nothing but the read-only snapshot and the options.
 *
 * Offsets, not pointers, into a chunk's arenas: they grow by realloc.
 */
#ifndef SX_SCREEN_H
#define SX_SCREEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "csv.h"
#include "decide.h"
#include "snapshot.h"
#include "sxclient.h"

/* `sxgate screen ...`: argv[0] is "screen".  Returns the exit code. */
int sx_cli_screen_main(int argc, char **argv);

#define SCR_CHUNK_ROWS  16384u
#define SCR_CHUNK_BYTES (4u << 20)   /* close a chunk past this much input */

/* Columns the tool reads from a header (the rest are carried through). */
enum { SCR_COL_ID, SCR_COL_TYPE, SCR_COL_CHANNEL, SCR_COL_CLASS, SCR_COL_DAY,
       SCR_NCOLS };

/* A growable byte buffer. */
typedef struct scr_buf {
	char *p;
	size_t n, cap;
	int oom;               /* an append failed: the run stops */
} scr_buf;

/* Room for n more bytes: 0, or -1 (b->oom set). */
int scr_buf_reserve(scr_buf *b, size_t n);
void scr_buf_put(scr_buf *b, const void *s, size_t n);
static inline void scr_buf_puts(scr_buf *b, const char *s);
/* s as one CSV field: quoted (quotes doubled) when it holds , " CR or LF. */
void scr_buf_csv(scr_buf *b, const char *s, size_t n);
/* s as a JSON string (engine/json.h's escaper). */
void scr_buf_json(scr_buf *b, const char *s, size_t n);

#include <string.h>
static inline void scr_buf_puts(scr_buf *b, const char *s)
{
	scr_buf_put(b, s, strlen(s));
}

/* Where a row stands. */
enum { SCR_ROW_READ = 0, SCR_ROW_REJECT, SCR_ROW_VALID, SCR_ROW_DECIDED };

typedef struct scr_row {
	uint64_t line;         /* physical line where the record starts */
	uint32_t raw, raw_len; /* the record as read, in chunk->bytes */
	uint32_t fld;          /* first of its fields in chunk->fld */
	uint32_t nfld;
	uint32_t why;          /* SCR_ROW_REJECT: reason, NUL-terminated in chunk->text */
	uint32_t rec, nrec;    /* SCR_ROW_DECIDED: records in chunk->text, each
	                          "case_no|court|role|list" NUL-terminated */
	uint16_t day;          /* the day decided on */
	uint8_t state;
	uint8_t reason;        /* SX_R_* when decided */
	uint32_t ctx;          /* online: the row's query-context group */
} scr_row;

typedef struct scr_fld { uint32_t off, len; } scr_fld;

/* The run's settings, shared read-only by every worker. */
typedef struct scr_opts {
	const char *input, *output, *rejects, *snapshot;
	const char *channel, *cls, *type, *day;   /* flags: the default of a row */
	int all, jsonl, threads, batch;
	int64_t max_rejects;   /* < 0: 0.1% of the rows */
	/* the input's shape, from its first record (screen_in.c) */
	int plain;             /* a plain list of IDs, one per line */
	int col[SCR_NCOLS];    /* header positions, -1 when absent */
	size_t ncols;
	char **colname;        /* header names (NUL-terminated), ncols of them */
	char *header_raw;      /* the header record as read */
	size_t header_len;
	char today[11];        /* the day of a row that names none */
	/* deciding */
	const sx_snap *snap;   /* offline */
	sx_client_opts net;    /* online: host, port, TLS */
	const char *tenant, *secret;
} scr_opts;

typedef struct scr_chunk {
	uint64_t seq;
	scr_row *row;
	size_t nrow, rowcap;
	scr_fld *fld;
	size_t nfld, fldcap;
	scr_buf bytes;         /* raw records and their fields */
	scr_buf text;          /* reasons and records */
	scr_buf out, rej;      /* formatted output and rejects lines */
	uint64_t per_reason[SX_NREASONS];
	uint64_t rejected, written;
	/* workspace of the worker that decides it */
	sx_query *q;
	uint32_t *qrow;
	size_t qcap;
	size_t nq;             /* offline: rows checked, queries in q[0..nq) */
	int checked;           /* scr_check_chunk has run */
	void *ws[6];           /* scratch arrays of screen_decide.c, kept with */
	size_t wscap[6];       /* the chunk so a reuse allocates nothing */
	int fatal;             /* set with fatal_msg: the run stops */
	char fatal_msg[512];
} scr_chunk;

/* ---- screen_in.c ----------------------------------------------------------- */

/* Read the first record: a header naming an id column (id_no or id), or
 * else the first ID of a plain list, which is data and goes into the
 * chunk first.  Fills o->plain, o->col, o->ncols, o->colname,
 * o->header_raw.  Returns 0, or -1 with why ("FILE, line 1: no id column
 * (...); the header is: a,b,c"). */
int scr_in_header(sx_csv *c, const char *name, scr_opts *o, scr_chunk *first,
                  char *why, size_t cap);
/* Add the next records to ch until it is full.  Returns the number of
 * rows added (0 at the end), or -1 with why (a read error, out of
 * memory). */
long scr_in_fill(sx_csv *c, scr_chunk *ch, char *why, size_t cap);
/* The text of row r's field i (not NUL-terminated). */
static inline sx_str scr_field(const scr_chunk *ch, const scr_row *r, int i)
{
	if (i < 0 || (uint32_t)i >= r->nfld)
		return (sx_str){ NULL, 0 };
	const scr_fld *f = &ch->fld[r->fld + (uint32_t)i];
	return (sx_str){ ch->bytes.p + f->off, f->len };
}
/* Reject row r with a formatted reason. */
void scr_reject(scr_chunk *ch, scr_row *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- screen_decide.c ------------------------------------------------------- */

/* A worker's connection (online), NULL offline. */
typedef struct scr_net scr_net;
int scr_net_open(const scr_opts *o, scr_net **out, char *why, size_t cap);
void scr_net_close(scr_net *n);
/* Check every row of ch and decide the valid ones: offline against
 * o->snap, online over n.  Sets ch->fatal on a failure that stops the run
 * (the server closed, refused the tenant, ...). */
void scr_decide_chunk(const scr_opts *o, scr_net *n, scr_chunk *ch);
/* Offline, the first half of that: every row checked and its ID parsed,
 * the rows to decide in ch->q and ch->qrow[0..ch->nq).  With one worker
 * the reading thread calls it as it fills a chunk (it has time to spare
 * while the worker decides); scr_decide_chunk does it when it was not
 * done. */
void scr_check_chunk(const scr_opts *o, scr_chunk *ch);

/* ---- screen_out.c ---------------------------------------------------------- */

/* The output's first line (CSV header; nothing for JSON lines). */
void scr_out_header(const scr_opts *o, scr_buf *b);
/* Format ch's rows into ch->out and ch->rej, counting them. */
void scr_out_chunk(const scr_opts *o, scr_chunk *ch);

#endif
