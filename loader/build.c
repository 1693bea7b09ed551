/*
 * build.c - list CSV to snapshot.
 *
 * One pass over the list: each CSV record is validated (row.c), then
 * deduplicated on (case, normalised ID, role) through an open-addressing
 * set of record numbers, then handed to the snapshot writer, which interns
 * its strings.  Rejects and warnings go to the rejects file as they are
 * met (CSV: line,reason,raw), so memory holds only what gets loaded.
 * Permits come second, because they name cases of the list.  The snapshot
 * is written only when the rejects stay within --max-rejects; the writer
 * replaces the output atomically, so a failed build leaves the old file.
 */
#include "build.h"
#include "csv.h"
#include "row.h"
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

/* What makes a row a repeat: case, normalised ID (its key) and role.
 * Compared and hashed as bytes, so no padding: 24 bytes exactly. */
struct seen { sx_key key; uint32_t case_id; uint32_t role; };
_Static_assert(sizeof(struct seen) == 24, "struct seen has no padding");

struct state {
	const sx_build_opts *o;
	sx_build_report *r;
	sx_snapw *w;
	FILE *rej;
	struct seen *seen;         /* every loaded row's identity */
	size_t nseen, seen_cap;
	uint32_t *tab;             /* open addressing: index into seen + 1 */
	size_t tabsize;
	/* the previous row's case and court: rows of one case come together
	 * (a unit and its people, a person and their passport) */
	char last_case[1024], last_court[1024];
	size_t last_case_len, last_court_len;
	uint32_t last_case_id, last_case_off, last_court_off;
};

/* Case id and spelled-case offset of a row, through the one-row cache. */
static int case_of(struct state *st, sx_str c, uint32_t *id, uint32_t *off)
{
	if (c.n != st->last_case_len || memcmp(c.p, st->last_case, c.n)) {
		st->last_case_id = sx_snapw_case(st->w, c.p, c.n);
		st->last_case_off = sx_snapw_string(st->w, c.p, c.n);
		if (st->last_case_id == UINT32_MAX || st->last_case_off == UINT32_MAX)
			return -ENOMEM;
		memcpy(st->last_case, c.p, c.n);    /* row.c caps it at 1000 */
		st->last_case_len = c.n;
	}
	*id = st->last_case_id;
	*off = st->last_case_off;
	return 0;
}

static uint32_t court_of(struct state *st, sx_str c)
{
	if (c.n != st->last_court_len || memcmp(c.p, st->last_court, c.n)) {
		st->last_court_off = sx_snapw_court(st->w, c.p, c.n);
		if (st->last_court_off == UINT32_MAX)
			return UINT32_MAX;
		memcpy(st->last_court, c.p, c.n);
		st->last_court_len = c.n;
	}
	return st->last_court_off;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

static uint64_t seen_hash(const struct seen *s)
{
	return XXH3_64bits(s, sizeof(*s));
}

/* 1 when (key, case, role) was seen before; else remembers it. */
static int dedup(struct state *st, const struct seen *s)
{
	if (st->nseen * 2 >= st->tabsize) {
		size_t ns = st->tabsize ? st->tabsize * 2 : 1 << 16;
		uint32_t *t = calloc(ns, sizeof(uint32_t));
		if (!t)
			return -ENOMEM;
		for (size_t i = 0; i < st->tabsize; i++)
			if (st->tab[i]) {
				size_t j = seen_hash(&st->seen[st->tab[i] - 1]) & (ns - 1);
				while (t[j])
					j = (j + 1) & (ns - 1);
				t[j] = st->tab[i];
			}
		free(st->tab);
		st->tab = t;
		st->tabsize = ns;
	}
	size_t j = seen_hash(s) & (st->tabsize - 1);
	for (; st->tab[j]; j = (j + 1) & (st->tabsize - 1))
		if (memcmp(&st->seen[st->tab[j] - 1], s, sizeof(*s)) == 0)
			return 1;
	if (st->nseen == st->seen_cap) {
		size_t nc = st->seen_cap ? st->seen_cap * 2 : 1 << 16;
		struct seen *p = realloc(st->seen, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		st->seen = p;
		st->seen_cap = nc;
	}
	st->seen[st->nseen++] = *s;
	st->tab[j] = (uint32_t)st->nseen;
	return 0;
}

/* Room for n identities up front: no rehash during the load. */
static void reserve_seen(struct state *st, size_t n)
{
	size_t ts = 1 << 16;
	while (ts < 2 * n + 2)
		ts *= 2;
	struct seen *p = malloc(n * sizeof(*p));
	uint32_t *t = calloc(ts, sizeof(uint32_t));
	if (!p || !t || st->nseen) {
		free(p);
		free(t);
		return;
	}
	free(st->seen);
	free(st->tab);
	st->seen = p;
	st->seen_cap = n;
	st->tab = t;
	st->tabsize = ts;
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
		         sx_csv_error(c));
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

static int load_list(struct state *st, char *why, size_t cap)
{
	const sx_build_opts *o = st->o;
	sx_build_report *r = st->r;
	sx_csv *c;
	sx_csv_row row;
	int idx[SX_NLIST_COLUMNS], fd, rc;
	char reason[512];
	double t0 = now_s();

	if ((rc = open_csv(o->input, &c, &fd, why, cap)))
		return rc;
	struct stat sb;
	if (fstat(fd, &sb) == 0 && sb.st_size > (1 << 20)) {
		/* rows of a list export run about 140 bytes */
		size_t est = (size_t)sb.st_size / 140;
		sx_snapw_reserve(st->w, est);
		reserve_seen(st, est);
	}
	rc = read_header(c, o->input, sx_list_column_names,
	                 sx_list_column_required, SX_NLIST_COLUMNS, idx, why, cap);
	while (!rc && (rc = sx_csv_next(c, &row)) == 1) {
		sx_str f[SX_NLIST_COLUMNS];
		sx_listrow lr;
		rc = 0;
		r->rows++;
		if (o->progress && r->rows % 1000000 == 0)
			fprintf(o->progress, "sxgate-build: %llu rows read (%.1f s)\n",
			        (unsigned long long)r->rows, now_s() - t0);
		if (row.error) {
			note(st, NULL, row.line, "", row.error, row.raw, row.raw_len);
			r->rejected++;
			continue;
		}
		fields(&row, idx, SX_NLIST_COLUMNS, f);
		if (sx_listrow_parse(f, &lr, reason, sizeof(reason))) {
			note(st, NULL, row.line, "", reason, row.raw, row.raw_len);
			r->rejected++;
			continue;
		}
		uint32_t case_id, case_off;
		if (case_of(st, lr.case_no, &case_id, &case_off)) {
			rc = -ENOMEM;
			break;
		}
		struct seen s = { .key = lr.id.key[0], .case_id = case_id,
		                  .role = lr.role };
		int dup = dedup(st, &s);
		if (dup < 0) {
			rc = -ENOMEM;
			break;
		}
		if (dup) {
			note(st, NULL, row.line, "warning: ",
			     "repeats an earlier row (same case, ID and role); loaded once",
			     row.raw, row.raw_len);
			r->warned++;
			r->duplicates++;
			continue;
		}
		if (lr.id.warn == SX_IDW_CHECK) {
			snprintf(reason, sizeof(reason), "%s check character is wrong; "
			         "loaded, matched by the other characters",
			         sx_idtype_name(lr.id.type));
			note(st, NULL, row.line, "warning: ", reason, row.raw,
			     row.raw_len);
			r->warned++;
			r->check_warnings++;
		}
		sx_snapw_rec rec = {
			.key = lr.id.key[0], .emb = lr.id.key[1],
			.has_emb = lr.id.type == SX_IDT_USCC,
			.role = lr.role, .list = lr.list, .status = lr.status,
			.id_type = lr.id.type,
			.case_off = case_off,
			.court_off = court_of(st, lr.court),
			.case_id = case_id,
			.listed_on = lr.listed_on, .expires_on = lr.expires_on,
			.codes = lr.codes,
		};
		if (rec.case_off == UINT32_MAX || rec.court_off == UINT32_MAX ||
		    sx_snapw_add_record(st->w, &rec)) {
			rc = -ENOMEM;
			break;
		}
		r->loaded++;
		r->revoked += lr.status == SX_ST_REVOKED;
		r->shielded += lr.status == SX_ST_SHIELDED;
	}
	if (rc < 0 && !why[0])
		snprintf(why, cap, "%s: %s", o->input,
		         rc == -ENOMEM ? "out of memory" : sx_csv_error(c));
	sx_csv_close(c);
	close(fd);
	return rc < 0 ? rc : 0;
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
		    sx_snapw_add_permit(st->w, &p)) {
			rc = -ENOMEM;
			break;
		}
		r->permits_loaded++;
	}
	if (rc < 0 && !why[0])
		snprintf(why, cap, "%s: %s", o->permits,
		         rc == -ENOMEM ? "out of memory" : sx_csv_error(c));
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
	st.rej = fopen(r->rejects_path, "w");
	if (!st.rej) {
		snprintf(why, cap, "cannot create the rejects file %s: %s",
		         r->rejects_path, strerror(errno));
		return -errno;
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
	free(st.seen);
	free(st.tab);
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
	fprintf(f, "  warnings         %llu (%llu duplicates, %llu check characters)\n",
	        (unsigned long long)r->warned, (unsigned long long)r->duplicates,
	        (unsigned long long)r->check_warnings);
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
