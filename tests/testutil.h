/*
 * testutil.h - helpers shared by the engine and loader tests.
 *
 * The Makefile builds every tests/test_*.c into its own binary linked with
 * all library objects, so shared helpers live here as `static` functions
 * (an unused one costs nothing; `unused` keeps -Wall quiet).
 *
 * What is here: finding the repository root without trusting the current
 * directory (from the test binary's own path in /proc/self/exe, then from
 * __FILE__ when absolute, then from the working directory, each walked up to
 * the directory that holds `Makefile` and `engine/snapshot.h`); a mkdtemp
 * scratch directory that is removed with everything in it; whole-file
 * reads and writes; a splitmix64 generator (a bijection of its counter, so
 * the values of distinct counters never collide); building a snapshot from
 * CSV text with sx_build(); and asking a snapshot a question written the
 * way SPEC section 5 writes a CHECK command ("ID CHANNEL [CLASS] [TYPE t]
 * [AT day]"), answered as one line "DECISION REASON rec rec ..." with each
 * denying record as case_no|court|role|list, or "ERR message".
 *
 * Every answer tu_ask() gives is also checked against the contract's
 * invariants on the way: DENY exactly when records are named, records
 * named once and in list order, the caller's record buffer (sized exactly
 * sx_snap_max_query_records()) never overrun, and sx_decide_batch() on the
 * same single query giving the same answer.
 */
#ifndef SX_TESTUTIL_H
#define SX_TESTUTIL_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "decide.h"
#include "snapshot.h"
#include "snapwrite.h"
#include "sx.h"

#define TU_UNUSED __attribute__((unused))

/* ---- paths ----------------------------------------------------------------- */

TU_UNUSED static int tu_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Walk up from dir (modified in place) to the directory holding Makefile
 * and engine/snapshot.h.  1 when found. */
TU_UNUSED static int tu_walk_up(char *dir)
{
	char probe[PATH_MAX + 64];

	for (;;) {
		snprintf(probe, sizeof probe, "%s/Makefile", dir);
		if (tu_exists(probe)) {
			snprintf(probe, sizeof probe, "%s/engine/snapshot.h", dir);
			if (tu_exists(probe))
				return 1;
		}
		char *slash = strrchr(dir, '/');
		if (!slash)
			return 0;
		if (slash == dir) {
			if (dir[1] == 0)
				return 0;
			dir[1] = 0;     /* try "/" last */
			continue;
		}
		*slash = 0;
	}
}

/* The repository root (static buffer), or NULL. */
TU_UNUSED static const char *tu_repo_root(void)
{
	static char root[PATH_MAX];
	char d[PATH_MAX];
	ssize_t n;

	if (root[0])
		return root;
	n = readlink("/proc/self/exe", d, sizeof d - 1);
	if (n > 0) {
		d[n] = 0;
		if (tu_walk_up(d))
			goto found;
	}
	if (__FILE__[0] == '/') {
		snprintf(d, sizeof d, "%s", __FILE__);
		if (tu_walk_up(d))
			goto found;
	}
	if (getcwd(d, sizeof d) && tu_walk_up(d))
		goto found;
	return NULL;
found:
	snprintf(root, sizeof root, "%s", d);
	return root;
}

/* ../shared/data/NAME relative to the repository root, into buf; NULL when
 * the file is not there (the caller skips, saying so). */
TU_UNUSED static const char *tu_data_path(const char *name, char *buf,
                                          size_t cap)
{
	const char *root = tu_repo_root();
	if (!root)
		return NULL;
	/* the contract's copy when it is beside the repository, else the
	 * copy the repository carries (a fresh clone has no ../shared) */
	snprintf(buf, cap, "%s/../shared/data/%s", root, name);
	if (tu_exists(buf))
		return buf;
	snprintf(buf, cap, "%s/tests/data/%s", root, name);
	return tu_exists(buf) ? buf : NULL;
}

/* ---- scratch directory ---------------------------------------------------- */

TU_UNUSED static void tu_mkdtemp(char *buf, size_t cap)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	snprintf(buf, cap, "%s/sxgate-test-XXXXXX", base);
	cr_assert_not_null(mkdtemp(buf), "mkdtemp %s: %s", buf, strerror(errno));
}

TU_UNUSED static int tu_rm_one(const char *p, const struct stat *sb, int flag,
                     struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

TU_UNUSED static void tu_rmtree(const char *dir)
{
	if (dir && dir[0])
		nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A scratch directory per test: TestSuite(x, .init = tu_setup, .fini =
 * tu_teardown).  Criterion runs .fini after a failed assertion too, so a
 * failing test leaves nothing behind either; it does not after
 * cr_skip_test() (call tu_teardown() first) or a crash. */
TU_UNUSED static char tu_dir[PATH_MAX];

TU_UNUSED static void tu_setup(void)
{
	tu_mkdtemp(tu_dir, sizeof tu_dir);
}

TU_UNUSED static void tu_teardown(void)
{
	tu_rmtree(tu_dir);
	tu_dir[0] = 0;
}

/* Files in dir whose name contains part. */
TU_UNUSED static int tu_count_named(const char *dir, const char *part)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
	while ((e = readdir(d)))
		n += strstr(e->d_name, part) != NULL;
	closedir(d);
	return n;
}

/* A program of this build into buf: $SXGATE_BIN_DIR/PROG (set by
 * tests/sanitize.sh) or ROOT/bin/PROG; fails the test when not built. */
TU_UNUSED static const char *tu_bin(const char *prog, char *buf, size_t cap)
{
	const char *dir = getenv("SXGATE_BIN_DIR");
	const char *root = tu_repo_root();
	cr_assert_not_null(root, "cannot find the repository root");
	if (dir && *dir)
		snprintf(buf, cap, "%s/%s", dir, prog);
	else
		snprintf(buf, cap, "%s/bin/%s", root, prog);
	cr_assert(tu_exists(buf), "%s is not built (make all)", buf);
	return buf;
}

/* A valid 18-digit RIC, distinct for each n < 36500000 (birth day from
 * 1950-01-01 + n / 1000, sequence n % 1000). */
TU_UNUSED static void tu_ric(uint64_t n, char out[19])
{
	time_t t = (time_t)(-631152000 + (int64_t)(n / 1000) * 86400);  /* 1950-01-01 UTC */
	struct tm tm;
	gmtime_r(&t, &tm);
	char tmp[64];
	snprintf(tmp, sizeof tmp, "110101%04d%02d%02d%03u", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, (unsigned)(n % 1000));
	memcpy(out, tmp, 17);
	out[17] = sx_ric_check(out);
	out[18] = 0;
}

/* dir/name into buf. */
TU_UNUSED static const char *tu_path(char *buf, size_t cap, const char *dir,
                                     const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
	return buf;
}

/* ---- files ---------------------------------------------------------------- */

TU_UNUSED static void tu_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "create %s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, len, f), len, "write %s", path);
	cr_assert_eq(fclose(f), 0, "close %s", path);
}

TU_UNUSED static void tu_write_str(const char *path, const char *s)
{
	tu_write(path, s, strlen(s));
}

/* A secrets file (tenants): written, then mode 0600, as sxgated requires. */
TU_UNUSED static void tu_write_private(const char *path, const char *s)
{
	tu_write_str(path, s);
	cr_assert_eq(chmod(path, 0600), 0, "chmod %s: %s", path, strerror(errno));
}

/* The whole file, NUL-terminated (malloc'd); *len its size.  NULL when it
 * cannot be read. */
TU_UNUSED static char *tu_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap + 1);
			cr_assert_not_null(buf);
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/* ---- random numbers --------------------------------------------------------- */

/* Run a shell command line (printf format); its stdout, any size, in a
 * malloc'd NUL-terminated string, and its exit status in *status (128 when
 * a signal ended it).  Add 2>&1 to the command to see stderr too. */
TU_UNUSED __attribute__((format(printf, 2, 3)))
static char *tu_run(int *status, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	fflush(NULL);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p, "popen %s", cmd);
	size_t cap = 1 << 16, n = 0, r;
	char *out = malloc(cap);
	cr_assert_not_null(out);
	while ((r = fread(out + n, 1, cap - 1 - n, p)) > 0)
		if ((n += r) == cap - 1) {
			out = realloc(out, cap *= 2);
			cr_assert_not_null(out);
		}
	out[n] = 0;
	int st = pclose(p);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	return out;
}

/* splitmix64: a bijection of the counter, so distinct i give distinct values. */
TU_UNUSED static uint64_t tu_mix(uint64_t i)
{
	uint64_t z = i * 0x9e3779b97f4a7c15ull + 0x6a09e667f3bcc909ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

typedef struct tu_rng { uint64_t n; } tu_rng;

TU_UNUSED static uint64_t tu_next(tu_rng *r)
{
	return tu_mix(r->n++);
}

/* Uniform-enough in [0, n). */
TU_UNUSED static uint32_t tu_below(tu_rng *r, uint32_t n)
{
	return (uint32_t)(((tu_next(r) >> 32) * n) >> 32);
}

/* ---- a generated list --------------------------------------------------------- */

/* A valid 18-digit RIC from r into out (19 bytes). */
TU_UNUSED static void tu_gen_ric(tu_rng *r, char *out)
{
	static const char *const areas[] = {
		"110101", "310104", "350102", "350203", "440305", "510107",
	};
	int y = 1940 + (int)tu_below(r, 66), m = 1 + (int)tu_below(r, 12);
	int d = 1 + (int)tu_below(r, 28);
	const char *area = areas[tu_below(r, 6)];
	unsigned seq = tu_below(r, 1000);
	snprintf(out, 19, "%s%04d%02d%02d%03u", area, y, m, d, seq);
	out[17] = sx_ric_check(out);
	out[18] = 0;
}

/* A valid 9-character organisation code (letters the USCC alphabet has,
 * so it can be embedded) into out (10 bytes). */
TU_UNUSED static void tu_gen_org(tu_rng *r, char *out)
{
	static const char al[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	for (int i = 0; i < 8; i++)
		out[i] = al[tu_below(r, 31)];
	out[8] = sx_org_check(out);
	out[9] = 0;
}

/* A valid USCC embedding org (9 chars) into out (19 bytes). */
TU_UNUSED static void tu_gen_uscc(tu_rng *r, const char *org, char *out)
{
	static const char *const heads[] = { "91350100", "91110000", "92440300",
	                                     "91310000" };
	snprintf(out, 19, "%s%s", heads[tu_below(r, 4)], org);
	out[17] = sx_uscc_check(out);
	out[18] = 0;
}

typedef struct tu_gen_row {
	char id_type[10];
	char id_no[24];
	char case_no[64];
} tu_gen_row;

/* n list rows, reproducible from seed, every row valid: unit debtors
 * (USCC or ORG) with their representatives in the same case, people
 * (RIC, sometimes a passport too) listed in more than one case, every
 * status, periods with and without an end, restriction subsets, half- and
 * full-width brackets.  Returns the CSV (malloc'd); rows[] (n entries, may
 * be NULL) gets each row's ID and case.  *permits (when not NULL) gets a
 * permits CSV naming about one row in ten. */
TU_UNUSED static char *tu_gen_list(uint32_t n, uint64_t seed,
                                   tu_gen_row *rows, char **permits)
{
	static const char *const courts[] = {
		"福州市鼓楼区人民法院", "厦门市思明区人民法院",
		"泉州市中级人民法院", "莆田市城厢区人民法院",
	};
	static const char *const statuses[] = {
		"active", "active", "active", "active", "active", "active",
		"suspended", "revoked", "shielded", "Active",
	};
	static const char *const restr[] = {
		"", "", "", "AIR", "AIR;RAIL", "RAIL;HOTEL;SHIP", "hotel;venue",
		"TRAVEL;SCHOOL;INSURANCE;PROPERTY;VEHICLE;OFFICE",
	};
	static const char *const roles[] = {
		"legal_rep", "principal", "controller", "responsible",
	};
	tu_rng r = { seed << 32 };
	char *out = NULL, *pout = NULL;
	size_t outlen = 0, poutlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	FILE *pf = permits ? open_memstream(&pout, &poutlen) : NULL;
	char people[64][19];
	uint32_t npeople = 0, nmade = 0;

	cr_assert_not_null(f);
	fputs("case_no,court,list,role,id_type,id_no,name,status,listed_on,"
	      "expires_on,restrictions,region\n", f);
	if (pf)
		fputs("id_type,id_no,case_no,codes,valid_from,valid_to,"
		      "permit_ref\n", pf);
	uint32_t i = 0, ncase = 0;
	while (i < n) {
		/* one case: a debtor and 0-3 more rows */
		char case_no[64], unit_org[10];
		int half = tu_below(&r, 4) == 0;
		ncase++;
		snprintf(case_no, sizeof case_no, "%s20%02u%s闽%04u执%u号",
		         half ? "(" : "（", 15 + tu_below(&r, 11), half ? ")" : "）",
		         (unsigned)tu_below(&r, 10000), ncase);
		const char *court = courts[tu_below(&r, 4)];
		uint32_t extra = tu_below(&r, 4);
		int unit = tu_below(&r, 3) == 0;
		tu_gen_org(&r, unit_org);
		for (uint32_t k = 0; k <= extra && i < n; k++, i++) {
			char idt[10], idn[24];
			const char *role = k == 0 ? "debtor" : roles[tu_below(&r, 4)];
			if (k == 0 && unit) {
				if (tu_below(&r, 2)) {
					strcpy(idt, "USCC");
					tu_gen_uscc(&r, unit_org, idn);
				} else {
					strcpy(idt, "ORG");
					snprintf(idn, sizeof idn, "%.8s-%c", unit_org,
					         unit_org[8]);
				}
			} else if (tu_below(&r, 10) == 0) {
				strcpy(idt, "PASSPORT");
				snprintf(idn, sizeof idn, "E%08u",
				         (unsigned)tu_below(&r, 100000000));
			} else {
				strcpy(idt, "RIC");
				if (npeople && tu_below(&r, 5) == 0) {
					strcpy(idn, people[tu_below(&r, npeople)]);
				} else {
					tu_gen_ric(&r, idn);
					strcpy(people[nmade++ % 64], idn);
					if (npeople < 64)
						npeople++;
				}
			}
			unsigned lday = tu_below(&r, 2400);   /* from 2019-01-01 */
			char listed[11], expires[11] = "";
			sx_day_format((uint16_t)(17897 + lday), listed);
			if (tu_below(&r, 3) == 0)
				sx_day_format((uint16_t)(17897 + lday +
				              tu_below(&r, 1500)), expires);
			const char *list = tu_below(&r, 3) ? "SX" : "XG";
			const char *status = statuses[tu_below(&r, 10)];
			const char *codes = restr[tu_below(&r, 8)];
			fprintf(f, "%s,%s,%s,%s,%s,%s,某%u,%s,%s,%s,%s,350102\n",
			        case_no, court, list, role, idt, idn, i, status,
			        listed, expires, codes);
			if (rows) {
				snprintf(rows[i].id_type, sizeof rows[i].id_type, "%s", idt);
				snprintf(rows[i].id_no, sizeof rows[i].id_no, "%s", idn);
				snprintf(rows[i].case_no, sizeof rows[i].case_no, "%s",
				         case_no);
			}
			if (pf && tu_below(&r, 10) == 0) {
				char from[11], to[11];
				unsigned pday = lday + tu_below(&r, 1500);
				unsigned plen = tu_below(&r, 400);
				const char *pcodes = tu_below(&r, 2) ? "AIR"
				                                     : "RAIL;AIR;HOTEL";
				sx_day_format((uint16_t)(17897 + pday), from);
				sx_day_format((uint16_t)(17897 + pday + plen), to);
				fprintf(pf, "%s,%s,%s,%s,%s,%s,P-%u\n", idt, idn,
				        case_no, pcodes, from, to, i);
			}
		}
	}
	fclose(f);
	if (pf) {
		fclose(pf);
		*permits = pout;
	}
	return out;
}

/* ---- building snapshots from CSV text --------------------------------------- */

typedef struct tu_build {
	char dir[PATH_MAX];
	char list[PATH_MAX + 64], permits[PATH_MAX + 64];
	char out[PATH_MAX + 64], rejects[PATH_MAX + 64];
	sx_build_opts o;
	sx_build_report rep;
	char why[1024];
	int rc;
} tu_build;

/* Write list (and permits when not NULL) as dir/NAME.csv, dir/NAME.permits.csv
 * and build dir/NAME.snap with rejects to dir/NAME.rejects.csv.  Returns
 * sx_build()'s code; b holds the paths, report and message. */
TU_UNUSED static int tu_build_csv(tu_build *b, const char *dir,
                                  const char *name, const char *list,
                                  const char *permits, int64_t max_rejects)
{
	memset(b, 0, sizeof *b);
	snprintf(b->dir, sizeof b->dir, "%s", dir);
	snprintf(b->list, sizeof b->list, "%s/%s.csv", dir, name);
	snprintf(b->permits, sizeof b->permits, "%s/%s.permits.csv", dir, name);
	snprintf(b->out, sizeof b->out, "%s/%s.snap", dir, name);
	snprintf(b->rejects, sizeof b->rejects, "%s/%s.rejects.csv", dir, name);
	tu_write_str(b->list, list);
	if (permits)
		tu_write_str(b->permits, permits);
	b->o = (sx_build_opts){
		.input = b->list, .permits = permits ? b->permits : NULL,
		.output = b->out, .rejects = b->rejects,
		.as_of = SX_AS_OF_NONE, .max_rejects = max_rejects, .threads = 2,
	};
	b->rc = sx_build(&b->o, &b->rep, b->why, sizeof b->why);
	return b->rc;
}

/* Build from CSV text (all rows must load: no rejects) and open the result. */
TU_UNUSED static sx_snap *tu_snap_from_csv(const char *dir, const char *name,
                                           const char *list,
                                           const char *permits)
{
	tu_build b;
	sx_snap *s = NULL;
	char why[512] = "";
	int rc = tu_build_csv(&b, dir, name, list, permits, 0);

	if (rc || b.rep.rejected) {
		size_t n;
		char *rej = tu_read(b.rejects, &n);
		cr_assert_fail("build of %s failed (rc %d, %llu rejected): %s\n"
		               "rejects file:\n%s", name, rc,
		               (unsigned long long)b.rep.rejected, b.why,
		               rej ? rej : "(none)");
	}
	rc = sx_snap_open(b.out, &s, why, sizeof why);
	cr_assert_eq(rc, 0, "open %s: %s", b.out, why);
	return s;
}

/* ---- asking ------------------------------------------------------------------ */

/* Split q at spaces into at most cap words (q is modified). */
TU_UNUSED static int tu_words(char *q, char **w, int cap)
{
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(q, " ", &save); t && n < cap;
	     t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	return n;
}

TU_UNUSED static sx_str tu_s(const char *p)
{
	return (sx_str){ p, p ? strlen(p) : 0 };
}

/* A CHECK command's words split into its parts (SPEC section 5): ID CHANNEL
 * [CLASS] [TYPE t] [AT day]; TYPE and AT are keywords, never a class. */
typedef struct tu_check_args {
	const char *id, *chan, *cls, *type, *at;
} tu_check_args;

TU_UNUSED static int tu_parse_check(char **w, int n, tu_check_args *a)
{
	int i = 2;
	memset(a, 0, sizeof *a);
	if (n < 2)
		return -1;
	a->id = w[0];
	a->chan = w[1];
	if (i < n && strcasecmp(w[i], "TYPE") && strcasecmp(w[i], "AT"))
		a->cls = w[i++];
	while (i < n) {
		if (i + 1 >= n)
			return -1;
		if (!strcasecmp(w[i], "TYPE") && !a->type)
			a->type = w[i + 1];
		else if (!strcasecmp(w[i], "AT") && !a->at)
			a->at = w[i + 1];
		else
			return -1;
		i += 2;
	}
	return 0;
}

/* Decide one query given as parts; the answer as one line in out. */
TU_UNUSED static const char *tu_ask_args(const sx_snap *s,
                                         const tu_check_args *a, char *out,
                                         size_t cap)
{
	sx_query q;
	sx_decision d, db;
	char err[256];
	uint32_t max = sx_snap_max_query_records(s);
	const uint32_t canary = 0xC0FFEE11u;

	memset(&q, 0, sizeof q);
	if (sx_query_common(&q, sx_snap_rules(s), tu_s(a->chan), tu_s(a->cls),
	                    tu_s(a->type), tu_s(a->at), err, sizeof err) ||
	    sx_query_id(&q, tu_s(a->id), err, sizeof err)) {
		snprintf(out, cap, "ERR %s", err);
		return out;
	}
	uint32_t *recs = malloc((max + 4) * sizeof *recs);
	uint32_t *recs2 = malloc((max + 4) * sizeof *recs2);
	cr_assert_not_null(recs);
	cr_assert_not_null(recs2);
	for (int i = 0; i < 4; i++)
		recs[max + i] = recs2[max + i] = canary;
	sx_decide(s, &q, &d, recs);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(recs[max + i], canary,
		             "sx_decide wrote past sx_snap_max_query_records() = %u "
		             "entries for %s %s", max, a->id, a->chan);
	cr_assert_eq(sx_reason_names_records(d.reason), d.nrec > 0,
	             "DENY and REVIEW must come with their records and only they "
	             "(%s %s, %u records)", sx_reason_decision(d.reason),
	             sx_reason_name(d.reason), d.nrec);
	cr_assert_leq(d.nrec, max);
	for (uint32_t i = 1; i < d.nrec; i++)
		cr_assert_lt(d.rec[i - 1], d.rec[i],
		             "denying records must be named once each, in list "
		             "order: %u then %u", d.rec[i - 1], d.rec[i]);
	size_t done = sx_decide_batch(s, &q, 1, &db, recs2, max);
	cr_assert_eq(done, 1, "sx_decide_batch with cap = max decided nothing");
	cr_assert_eq(db.reason, d.reason, "batch and single disagree");
	cr_assert_eq(db.nrec, d.nrec, "batch and single disagree");
	for (uint32_t i = 0; i < d.nrec; i++)
		cr_assert_eq(db.rec[i], d.rec[i]);

	size_t o = (size_t)snprintf(out, cap, "%s %s",
	                            sx_reason_decision(d.reason),
	                            sx_reason_name(d.reason));
	for (uint32_t i = 0; i < d.nrec && o < cap; i++) {
		out[o++] = ' ';
		if (o < cap)
			o += sx_record_format(s, d.rec[i], out + o, cap - o);
	}
	if (o >= cap)
		out[cap - 1] = 0;
	free(recs);
	free(recs2);
	return out;
}

/* Ask "ID CHANNEL [CLASS] [TYPE t] [AT day]".  The answer lives in one of 8
 * rotating static buffers. */
TU_UNUSED static const char *tu_ask(const sx_snap *s, const char *query)
{
	static char bufs[8][8192];
	static int next;
	char copy[1024], *w[16];
	tu_check_args a;
	char *out = bufs[next++ % 8];

	snprintf(copy, sizeof copy, "%s", query);
	int n = tu_words(copy, w, 16);
	cr_assert_eq(tu_parse_check(w, n, &a), 0, "test bug: bad query '%s'",
	             query);
	return tu_ask_args(s, &a, out, sizeof bufs[0]);
}

/* Assert the whole answer. */
#define TU_CHECK(snap, query, expected)                                     \
	do {                                                                \
		const char *got_ = tu_ask((snap), (query));                 \
		cr_assert_str_eq(got_, (expected), "CHECK %s\n  got  %s\n"  \
		                 "  want %s", (query), got_, (expected));   \
	} while (0)

/* Assert an answer starts with prefix (e.g. "ERR bad class"). */
#define TU_CHECK_PREFIX(snap, query, prefix)                                \
	do {                                                                \
		const char *got_ = tu_ask((snap), (query));                 \
		cr_assert(strncmp(got_, (prefix), strlen(prefix)) == 0,     \
		          "CHECK %s\n  got  %s\n  want %s...", (query),     \
		          got_, (prefix));                                  \
	} while (0)

#endif
