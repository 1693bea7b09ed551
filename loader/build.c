/*
 * build.c - list CSV to snapshot.
 *
 * One pass over the list, on two threads.  The reader thread does what
 * needs only the row: CSV, validation (row.c), the folded case number and
 * its hash.  It hands batches of rows, in order, to the loader (the
 * calling thread), which does what needs the whole list: case numbers,
 * duplicates on (case, normalised ID, role), the writer, and the rejects
 * file (CSV: line,reason,raw), written as rows are met, so memory holds
 * only what gets loaded.  The loader's work is table lookups that miss
 * the cache at every row of a large list, so it takes a batch in three
 * passes: prefetch the case slots; number the cases and prefetch the
 * duplicate-set slots; then the rest.  Permits come second, on one
 * thread, because they name cases of the list.  The snapshot is written
 * only when the rejects stay within --max-rejects; the writer replaces
 * the output atomically, so a failed build leaves the old file.
 */
#include "build.h"
#include "casefold.h"
#include "csv.h"
#include "row.h"
#include "snapshot.h"
#include "wio.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* One row as the reader hands it over.  Text lives in the batch's bytes,
 * named by offset and length: the CSV buffer moves on. */
enum { ROW_OK, ROW_REJECT };
struct brow {
	uint64_t line;
	uint32_t raw, raw_len;
	uint32_t text, text_len;      /* ROW_REJECT: the reason */
	uint32_t case_no, case_len;   /* ROW_OK: as spelled */
	uint32_t fold, fold_len;      /* folded (sx_case_fold) */
	uint32_t court, court_len;
	uint64_t case_h;              /* sx_case_hash of the folded case */
	sx_key key;
	uint8_t kind, same_case;      /* same spelling as the row before */
	uint8_t id_type, id_warn, role, list, status;
	uint16_t listed_on, expires_on;
	sx_codes codes, dropped;
	/* the loader's */
	uint32_t case_id, case_off;
	uint64_t rec_h;               /* sx_snapw_rec_hash */
};

#define BATCH_ROWS  256
#define BATCH_BYTES (4u << 20)   /* a batch of long rows ends early */
#define NBATCH      4

struct batch {
	struct brow row[BATCH_ROWS];
	size_t n;
	char *bytes;
	size_t len, cap;
	int end;                      /* the last batch: rc and why say how */
	int rc;
	char why[512];
};

/* The reader and the loader: a ring of NBATCH batches. */
struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch b[NBATCH];
	uint64_t filled, taken;       /* batches published / released */
	int stop;                     /* the loader gave up */
	sx_csv *csv;
	const int *idx;
	char last_case[1024];         /* the reader's previous row */
	size_t last_case_len;
};

struct state {
	const sx_build_opts *o;
	sx_build_report *r;
	sx_snapw *w;
	FILE *rej;
	/* the previous row's case and court: rows of one case come together
	 * (a unit and its people, a person and their passport) */
	uint32_t last_case_id, last_case_off;
	char last_court[1024];
	size_t last_court_len;
	uint32_t last_court_off;
};

static uint32_t court_of(struct state *st, const char *c, size_t n)
{
	if (n != st->last_court_len || memcmp(c, st->last_court, n)) {
		st->last_court_off = sx_snapw_court(st->w, c, n);
		if (st->last_court_off == UINT32_MAX)
			return UINT32_MAX;
		memcpy(st->last_court, c, n);     /* row.c caps it at 1000 */
		st->last_court_len = n;
	}
	return st->last_court_off;
}

static double now_s(void)
{
	return (double)sx_mono_ns() / 1e9;
}

static void put_quoted(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			fputc('"', f);
		fputc(s[i], f);
	}
	fputc('"', f);
}

static void note(struct state *st, const char *file, uint64_t line,
                 const char *kind, const char *reason, const char *raw,
                 size_t rawlen)
{
	char buf[1200];
	snprintf(buf, sizeof(buf), "%s%s%s", kind, file ? file : "",
	         reason);
	fprintf(st->rej, "%llu,", (unsigned long long)line);
	put_quoted(st->rej, buf, strlen(buf));
	fputc(',', st->rej);
	put_quoted(st->rej, raw, rawlen);
	fputc('\n', st->rej);
}

/* Map the header row to columns; fails when a required one is absent. */
static int read_header(sx_csv *c, const char *path, const char *const *names,
                       const unsigned char *required, size_t n, int *idx,
                       char *why, size_t cap)
{
	sx_csv_row row;
	int rc = sx_csv_next(c, &row);
	if (rc <= 0) {
		snprintf(why, cap, "%s: %s", path, rc == 0 ? "empty file, no header row" :
		         rc == -ENOMEM ? "out of memory" : sx_csv_error(c));
		return rc ? rc : SX_EINVAL;
	}
	sx_csv_header_index(&row, names, n, idx);
	for (size_t i = 0; i < n; i++) {
		const char *what = idx[i] == SX_CSV_DUPLICATE ? "duplicate" :
		                   idx[i] < 0 && (!required || required[i]) ?
		                   "missing required" : NULL;
		if (what) {
			snprintf(why, cap, "%s: line 1: %s column '%s'", path, what,
			         names[i]);
			return SX_EINVAL;
		}
	}
	return 0;
}

static void fields(const sx_csv_row *row, const int *idx, size_t n, sx_str *f)
{
	for (size_t i = 0; i < n; i++)
		if (idx[i] >= 0 && (size_t)idx[i] < row->nfields)
			f[i] = (sx_str){ row->field[idx[i]], row->len[idx[i]] };
		else if (idx[i] >= 0)
			f[i] = (sx_str){ "", 0 };     /* short row: empty field */
		else
			f[i] = (sx_str){ NULL, 0 };
}

static int open_csv(const char *path, sx_csv **c, int *fd, char *why,
                    size_t cap)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		snprintf(why, cap, "cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	posix_fadvise(*fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	*c = sx_csv_open_fd(*fd);
	if (!*c) {
		close(*fd);
		snprintf(why, cap, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* ---- the reader thread ------------------------------------------------- */

/* Copy n bytes into the batch; the offset, or UINT32_MAX out of memory. */
static uint32_t put(struct batch *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap : 1 << 16;
		while (nc < b->len + n)
			nc *= 2;
		char *q = realloc(b->bytes, nc);
		if (!q)
			return UINT32_MAX;
		b->bytes = q;
		b->cap = nc;
	}
	memcpy(b->bytes + b->len, s, n);
	b->len += n;
	return (uint32_t)(b->len - n);
}

/* Read one row into *e.  1: a row; 0: the end; < 0: an error, said in
 * b->why. */
static int read_row(struct pipe *pp, struct batch *b, struct brow *e)
{
	sx_csv_row row;
	sx_str f[SX_NLIST_COLUMNS];
	sx_listrow lr;
	char reason[512];
	int rc = sx_csv_next(pp->csv, &row);
	if (rc <= 0) {
		if (rc < 0)
			snprintf(b->why, sizeof(b->why), "%s",
			         rc == -ENOMEM ? "out of memory" : sx_csv_error(pp->csv));
		return rc;
	}
	memset(e, 0, sizeof(*e));
	e->line = row.line;
	e->raw_len = (uint32_t)row.raw_len;
	if ((e->raw = put(b, row.raw, row.raw_len)) == UINT32_MAX)
		goto oom;
	const char *err = row.error;
	if (!err) {
		fields(&row, pp->idx, SX_NLIST_COLUMNS, f);
		if (sx_listrow_parse(f, &lr, reason, sizeof(reason)))
			err = reason;
	}
	if (err) {
		e->kind = ROW_REJECT;
		e->text_len = (uint32_t)strlen(err);
		if ((e->text = put(b, err, e->text_len)) == UINT32_MAX)
			goto oom;
		pp->last_case_len = SIZE_MAX;       /* no row before a reject */
		return 1;
	}
	char fold[SX_CASE_FOLD_MAX];
	size_t fl = sx_case_fold(lr.case_no.p, lr.case_no.n, fold, sizeof(fold));
	e->kind = ROW_OK;
	e->key = lr.id.key[0];
	e->id_type = lr.id.type;
	e->id_warn = lr.id.warn;
	e->role = lr.role;
	e->list = lr.list;
	e->status = lr.status;
	e->listed_on = lr.listed_on;
	e->expires_on = lr.expires_on;
	e->codes = lr.codes;
	e->dropped = lr.dropped;
	e->case_len = (uint32_t)lr.case_no.n;
	e->fold_len = (uint32_t)fl;
	e->court_len = (uint32_t)lr.court.n;
	e->case_h = sx_case_hash(fold, fl);
	e->same_case = lr.case_no.n == pp->last_case_len &&
	               memcmp(lr.case_no.p, pp->last_case, lr.case_no.n) == 0;
	memcpy(pp->last_case, lr.case_no.p, lr.case_no.n);   /* <= 1000 */
	pp->last_case_len = lr.case_no.n;
	if ((e->case_no = put(b, lr.case_no.p, lr.case_no.n)) == UINT32_MAX ||
	    (e->fold = put(b, fold, fl)) == UINT32_MAX ||
	    (e->court = put(b, lr.court.p, lr.court.n)) == UINT32_MAX)
		goto oom;
	return 1;
oom:
	snprintf(b->why, sizeof(b->why), "out of memory");
	return -ENOMEM;
}

static void *reader(void *arg)
{
	struct pipe *pp = arg;
	for (uint64_t k = 0;; k++) {
		struct batch *b = &pp->b[k % NBATCH];
		pthread_mutex_lock(&pp->mu);
		while (!pp->stop && pp->filled - pp->taken == NBATCH)
			pthread_cond_wait(&pp->cv, &pp->mu);
		int stop = pp->stop;
		pthread_mutex_unlock(&pp->mu);
		if (stop)
			return NULL;
		b->n = b->len = 0;
		b->end = b->rc = 0;
		b->why[0] = 0;
		int rc = 1;
		while (b->n < BATCH_ROWS && b->len < BATCH_BYTES &&
		       (rc = read_row(pp, b, &b->row[b->n])) == 1)
			b->n++;
		if (rc <= 0) {
			b->end = 1;
			b->rc = rc;
		}
		pthread_mutex_lock(&pp->mu);
		pp->filled++;
		pthread_cond_broadcast(&pp->cv);
		pthread_mutex_unlock(&pp->mu);
		if (rc <= 0)
			return NULL;
	}
}

/* ---- the loader ---------------------------------------------------------- */

/* One row that passed the reader, with its case numbered. */
static int load_row(struct state *st, const struct batch *b,
                    const struct brow *e)
{
	sx_build_report *r = st->r;
	const char *raw = b->bytes + e->raw;
	sx_snapw_rec rec = {
		.key = e->key,
		.role = e->role, .list = e->list, .status = e->status,
		.id_type = e->id_type,
		.case_off = e->case_off,
		.court_off = court_of(st, b->bytes + e->court, e->court_len),
		.case_id = e->case_id,
		.listed_on = e->listed_on, .expires_on = e->expires_on,
		.codes = e->codes,
	};
	if (rec.court_off == UINT32_MAX)
		return -ENOMEM;
	int rc = sx_snapw_add_unique(st->w, &rec, e->rec_h);
	if (rc < 0)
		return rc;
	if (rc) {
		note(st, NULL, e->line, "warning: ",
		     "repeats an earlier row (same case, ID and role); loaded once",
		     raw, e->raw_len);
		r->warned++;
		r->duplicates++;
		return 0;
	}
	if (e->id_warn == SX_IDW_CHECK) {
		char reason[200];
		snprintf(reason, sizeof(reason), "%s check character is wrong; "
		         "loaded, matched by the other characters",
		         sx_idtype_name(e->id_type));
		note(st, NULL, e->line, "warning: ", reason, raw, e->raw_len);
		r->warned++;
		r->check_warnings++;
	}
	if (e->dropped) {
		char reason[600];
		sx_listrow_dropped_warning(e->role, e->dropped, reason, sizeof(reason));
		note(st, NULL, e->line, "warning: ", reason, raw, e->raw_len);
		r->warned++;
		r->code_warnings++;
	}
	r->loaded++;
	r->revoked += e->status == SX_ST_REVOKED;
	r->shielded += e->status == SX_ST_SHIELDED;
	return 0;
}

/* A batch in three passes (see the file comment). */
static int load_batch(struct state *st, struct batch *b, double t0)
{
	sx_build_report *r = st->r;
	for (size_t i = 0; i < b->n; i++)
		if (b->row[i].kind == ROW_OK && !b->row[i].same_case)
			sx_snapw_case_prefetch(st->w, b->row[i].case_h);
	for (size_t i = 0; i < b->n; i++) {
		struct brow *e = &b->row[i];
		if (e->kind != ROW_OK)
			continue;
		if (e->same_case) {
			e->case_id = st->last_case_id;
			e->case_off = st->last_case_off;
		} else {
			e->case_id = sx_snapw_case_add(st->w, b->bytes + e->case_no,
			                               e->case_len, b->bytes + e->fold,
			                               e->fold_len, e->case_h, 1,
			                               &e->case_off);
			if (e->case_id == UINT32_MAX)
				return -ENOMEM;
			st->last_case_id = e->case_id;
			st->last_case_off = e->case_off;
		}
		e->rec_h = sx_snapw_rec_hash(&e->key, e->case_id, e->role);
		sx_snapw_unique_prefetch(st->w, e->rec_h);
	}
	for (size_t i = 0; i < b->n; i++) {
		const struct brow *e = &b->row[i];
		r->rows++;
		if (st->o->progress && r->rows % 1000000 == 0)
			fprintf(st->o->progress, "sxgate-build: %llu rows read (%.1f s)\n",
			        (unsigned long long)r->rows, now_s() - t0);
		if (e->kind == ROW_REJECT) {
			char reason[512];
			snprintf(reason, sizeof(reason), "%.*s", (int)e->text_len,
			         b->bytes + e->text);
			note(st, NULL, e->line, "", reason, b->bytes + e->raw,
			     e->raw_len);
			r->rejected++;
			continue;
		}
		int rc = load_row(st, b, e);
		if (rc)
			return rc;
	}
	return 0;
}

static int load_list(struct state *st, char *why, size_t cap)
{
	const sx_build_opts *o = st->o;
	struct pipe *pp = calloc(1, sizeof(*pp));  /* 150 KiB of batches */
	pthread_t th;
	int idx[SX_NLIST_COLUMNS], fd, rc;
	double t0 = now_s();

	if (!pp) {
		snprintf(why, cap, "out of memory");
		return -ENOMEM;
	}
	pp->last_case_len = SIZE_MAX;
	if ((rc = open_csv(o->input, &pp->csv, &fd, why, cap))) {
		free(pp);
		return rc;
	}
	struct stat sb;
	if (fstat(fd, &sb) == 0 && sb.st_size > (1 << 20)) {
		/* rows of a list export run about 140 bytes */
		sx_snapw_reserve(st->w, (size_t)sb.st_size / 140);
	}
	rc = read_header(pp->csv, o->input, sx_list_column_names,
	                 sx_list_column_required, SX_NLIST_COLUMNS, idx, why, cap);
	if (rc)
		goto out;
	pp->idx = idx;
	pthread_mutex_init(&pp->mu, NULL);
	pthread_cond_init(&pp->cv, NULL);
	if ((rc = -pthread_create(&th, NULL, reader, pp))) {
		snprintf(why, cap, "cannot start the reader thread: %s%s",
		         strerror(-rc), rc == -EAGAIN ? " (out of memory?)" : "");
		goto out_sync;
	}
	for (;;) {
		struct batch *b = &pp->b[pp->taken % NBATCH];
		pthread_mutex_lock(&pp->mu);
		while (pp->filled == pp->taken)
			pthread_cond_wait(&pp->cv, &pp->mu);
		pthread_mutex_unlock(&pp->mu);
		rc = load_batch(st, b, t0);
		int end = b->end;
		if (!rc && end && b->rc < 0) {
			rc = b->rc;
			snprintf(why, cap, "%s: %s", o->input, b->why);
		}
		pthread_mutex_lock(&pp->mu);
		pp->taken++;
		pp->stop = rc != 0;
		pthread_cond_broadcast(&pp->cv);
		pthread_mutex_unlock(&pp->mu);
		if (rc || end)
			break;
	}
	pthread_join(th, NULL);
	if (rc == -ENOMEM && !why[0])
		snprintf(why, cap, "%s: out of memory", o->input);
out_sync:
	pthread_mutex_destroy(&pp->mu);
	pthread_cond_destroy(&pp->cv);
out:
	for (int i = 0; i < NBATCH; i++)
		free(pp->b[i].bytes);
	sx_csv_close(pp->csv);
	close(fd);
	free(pp);
	return rc < 0 ? rc : 0;
}

/* Permits of cases on the list, kept until the codes those cases carry
 * are known (one pass over the records, after the permits: no per-case
 * table while the list loads).  Permit files are small. */
struct pending {
	struct pend { uint64_t line; size_t raw, raw_len; uint32_t case_id;
	              sx_codes codes; } *v;
	size_t n, cap;
	char *bytes;
	size_t len, bcap;
};

static int pending_add(struct pending *pp, uint64_t line, const char *raw,
                       size_t raw_len, uint32_t case_id, sx_codes codes)
{
	if (pp->n == pp->cap) {
		size_t nc = pp->cap ? 2 * pp->cap : 64;
		struct pend *v = realloc(pp->v, nc * sizeof(*v));
		if (!v)
			return -ENOMEM;
		pp->v = v;
		pp->cap = nc;
	}
	if (pp->len + raw_len > pp->bcap) {
		size_t nc = pp->bcap ? pp->bcap : 1 << 14;
		while (nc < pp->len + raw_len)
			nc *= 2;
		char *b = realloc(pp->bytes, nc);
		if (!b)
			return -ENOMEM;
		pp->bytes = b;
		pp->bcap = nc;
	}
	memcpy(pp->bytes + pp->len, raw, raw_len);
	pp->v[pp->n++] = (struct pend){ line, pp->len, raw_len, case_id, codes };
	pp->len += raw_len;
	return 0;
}

/* The warning for each pending permit naming a code no record of its case
 * carries (SPEC section 4: it lifts nothing, and is loaded). */
static int pending_check(struct state *st, const char *file, struct pending *pp)
{
	uint32_t *ids = malloc((pp->n + 1) * sizeof(*ids));
	sx_codes *carried = malloc((pp->n + 1) * sizeof(*carried));
	int rc = -ENOMEM;
	if (!ids || !carried)
		goto out;
	for (size_t i = 0; i < pp->n; i++)
		ids[i] = pp->v[i].case_id;
	if ((rc = sx_snapw_case_codes(st->w, ids, pp->n, carried)))
		goto out;
	for (size_t i = 0; i < pp->n; i++) {
		sx_codes lack = pp->v[i].codes & ~carried[i];
		char codes[400], msg[600];
		if (!lack)
			continue;
		sx_codes_format(lack, codes, sizeof codes);
		snprintf(msg, sizeof msg, "no record of the permit's case carries %s; "
		         "kept, lifts nothing for %s", codes,
		         lack & (lack - 1) ? "them" : "it");
		note(st, file, pp->v[i].line, "warning: ", msg,
		     pp->bytes + pp->v[i].raw, pp->v[i].raw_len);
		st->r->warned++;
		st->r->code_warnings++;
	}
out:
	free(ids);
	free(carried);
	return rc;
}

static int load_permits(struct state *st, char *why, size_t cap)
{
	const sx_build_opts *o = st->o;
	sx_build_report *r = st->r;
	sx_csv *c;
	sx_csv_row row;
	int idx[SX_NPERMIT_COLUMNS], fd, rc;
	char reason[512];
	char file[4200];
	struct pending pp = { 0 };

	snprintf(file, sizeof(file), "%s: ", o->permits);
	if ((rc = open_csv(o->permits, &c, &fd, why, cap)))
		return rc;
	rc = read_header(c, o->permits, sx_permit_column_names, NULL,
	                 SX_NPERMIT_COLUMNS, idx, why, cap);
	while (!rc && (rc = sx_csv_next(c, &row)) == 1) {
		sx_str f[SX_NPERMIT_COLUMNS];
		sx_permitrow pr;
		rc = 0;
		r->permit_rows++;
		if (row.error) {
			note(st, file, row.line, "", row.error, row.raw, row.raw_len);
			r->rejected++;
			continue;
		}
		fields(&row, idx, SX_NPERMIT_COLUMNS, f);
		if (sx_permitrow_parse(f, &pr, reason, sizeof(reason))) {
			note(st, file, row.line, "", reason, row.raw, row.raw_len);
			r->rejected++;
			continue;
		}
		sx_snapw_permit p = {
			.key = pr.id.key[0],
			.case_id = sx_snapw_case_find(st->w, pr.case_no.p, pr.case_no.n),
			.case_off = sx_snapw_string(st->w, pr.case_no.p, pr.case_no.n),
			.ref_off = sx_snapw_string(st->w, pr.ref.p, pr.ref.n),
			.valid_from = pr.valid_from, .valid_to = pr.valid_to,
			.codes = pr.codes,
		};
		if (p.case_id == UINT32_MAX) {
			note(st, file, row.line, "warning: ",
			     "the permit's case is not on the list; kept, lifts nothing",
			     row.raw, row.raw_len);
			r->warned++;
		}
		if (p.case_off == UINT32_MAX || p.ref_off == UINT32_MAX ||
		    (p.case_id != UINT32_MAX &&
		     pending_add(&pp, row.line, row.raw, row.raw_len, p.case_id, p.codes)) ||
		    sx_snapw_add_permit(st->w, &p)) {
			rc = -ENOMEM;
			break;
		}
		r->permits_loaded++;
	}
	if (rc >= 0 && pp.n)
		rc = pending_check(st, file, &pp);
	if (rc < 0 && !why[0])
		snprintf(why, cap, "%s: %s", o->permits,
		         rc == -ENOMEM ? "out of memory" : sx_csv_error(c));
	free(pp.v);
	free(pp.bytes);
	sx_csv_close(c);
	close(fd);
	return rc < 0 ? rc : 0;
}

int sx_build(const sx_build_opts *o, sx_build_report *r, char *why, size_t cap)
{
	struct state st = { .o = o, .r = r };
	double t0 = now_s();
	int rc;

	memset(r, 0, sizeof(*r));
	why[0] = 0;
	if (o->rejects)
		snprintf(r->rejects_path, sizeof(r->rejects_path), "%s", o->rejects);
	else
		snprintf(r->rejects_path, sizeof(r->rejects_path), "%s.rejects.csv",
		         o->output);
	/* an output that is an input would be truncated (the rejects) or
	 * renamed over it (the snapshot): the list export lost */
	const char *outs[2] = { o->output, r->rejects_path };
	const char *ins[3] = { o->input, o->permits, o->output };
	static const char *const out_names[2] = { "--output", "the rejects file" };
	static const char *const in_names[3] = { "the input", "--permits", "--output" };
	for (int k = 0; k < 2; k++)
		for (int j = 0; j < 2 + k; j++)
			if (sx_file_same(outs[k], ins[j]))
				return sx_fail(why, cap, SX_EINVAL, "%s %s is %s: give it another "
				               "name", out_names[k], outs[k], in_names[j]);
	/* the rows it quotes hold ID numbers: the process's file mode (wio.h) */
	char msg[512];
	int fd = sx_file_open(r->rejects_path, O_WRONLY | O_TRUNC, NULL, msg,
	                      sizeof msg);
	if (fd < 0)
		return sx_fail(why, cap, fd, "the rejects file %s", msg);
	if (!(st.rej = fdopen(fd, "w"))) {
		rc = -errno;
		close(fd);
		return sx_fail(why, cap, rc, "the rejects file %s: %s",
		               r->rejects_path, strerror(-rc));
	}
	setvbuf(st.rej, NULL, _IOFBF, 1 << 16);
	fputs("line,reason,raw\n", st.rej);
	st.w = sx_snapw_new();
	if (!st.w) {
		rc = -ENOMEM;
		snprintf(why, cap, "out of memory");
		goto out;
	}
	if ((rc = load_list(&st, why, cap)))
		goto out;
	if (o->permits && (rc = load_permits(&st, why, cap)))
		goto out;
	r->parse_seconds = now_s() - t0;

	uint64_t data = r->rows + r->permit_rows;
	r->max_rejects = o->max_rejects >= 0 ? (uint64_t)o->max_rejects : data / 1000;
	if (r->rejected > r->max_rejects) {
		snprintf(why, cap, "%llu rows rejected, more than the %llu allowed "
		         "(--max-rejects); see %s; the snapshot was not written",
		         (unsigned long long)r->rejected,
		         (unsigned long long)r->max_rejects, r->rejects_path);
		rc = SX_EINVAL;
		goto out;
	}
	if (o->progress && r->rows >= 1000000)
		fprintf(o->progress, "sxgate-build: %llu records parsed in %.1f s, "
		        "building the index\n", (unsigned long long)r->loaded,
		        r->parse_seconds);
	sx_snapw_meta m = {
		.as_of = o->as_of,
		.rows_read = r->rows, .rows_loaded = r->loaded,
		.rows_rejected = r->rejected, .rows_warned = r->warned,
		.duplicates = r->duplicates, .source = o->input,
		.threads = o->threads > 0 ? o->threads : 2,
		.build_ms = (uint32_t)(r->parse_seconds * 1000),
	};
	if (o->rules)
		m.rules = *o->rules;
	else
		sx_rules_default(&m.rules);
	rc = sx_snapw_write(st.w, &m, o->output, &r->snap, why, cap);
out:
	if (st.rej && fclose(st.rej) && !rc) {
		rc = -errno;
		snprintf(why, cap, "cannot write the rejects file %s: %s",
		         r->rejects_path, strerror(errno));
	}
	sx_snapw_free(st.w);
	r->seconds = now_s() - t0;
	return rc;
}

void sx_build_summary(FILE *f, const sx_build_opts *o, const sx_build_report *r)
{
	fprintf(f, "sxgate-build: %s -> %s\n", o->input, o->output);
	fprintf(f, "  rows read        %llu\n", (unsigned long long)r->rows);
	fprintf(f, "  records loaded   %llu\n", (unsigned long long)r->loaded);
	fprintf(f, "  rejected         %llu (allowed %llu)\n",
	        (unsigned long long)r->rejected, (unsigned long long)r->max_rejects);
	fprintf(f, "  warnings         %llu (%llu duplicates, %llu check characters, "
	        "%llu codes)\n", (unsigned long long)r->warned,
	        (unsigned long long)r->duplicates,
	        (unsigned long long)r->check_warnings,
	        (unsigned long long)r->code_warnings);
	fprintf(f, "  revoked/shielded %llu/%llu\n", (unsigned long long)r->revoked,
	        (unsigned long long)r->shielded);
	if (o->permits)
		fprintf(f, "  permits          %llu of %llu rows\n",
		        (unsigned long long)r->permits_loaded,
		        (unsigned long long)r->permit_rows);
	fprintf(f, "  distinct IDs     %llu (%llu index keys)\n",
	        (unsigned long long)r->snap.ids, (unsigned long long)r->snap.keys);
	fprintf(f, "  snapshot         %llu bytes; hot index %llu bytes (%.2f bytes/ID)\n",
	        (unsigned long long)r->snap.file_bytes,
	        (unsigned long long)r->snap.index_bytes,
	        r->snap.ids ? (double)r->snap.index_bytes / (double)r->snap.ids : 0.0);
	fprintf(f, "  build time       %.2f s (parse %.2f s, index %.2f s, write %.2f s)\n",
	        r->seconds, r->parse_seconds, r->snap.index_ms / 1000.0,
	        r->snap.write_ms / 1000.0);
	fprintf(f, "  rejects file     %s\n", r->rejects_path);
}
