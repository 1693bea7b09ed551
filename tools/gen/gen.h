/*
 * gen.h - what the files of sxgate-gen share: the random streams, the
 * calendar, hand-written formatting, the vocabulary, the output buffers and
 * the generator's state.  main.c's first paragraph describes the design.
 *
 * One program, one internal header, like server_int.h: every file of the
 * generator includes it and nothing outside tools/gen/ does.  The hot
 * helpers (the RNG, the formatters, the output cursor) are static inline
 * here, so splitting the program into files costs no calls per field.
 * The vocabulary's tables are defined once in vocab.c; their lengths are
 * variables, as the tables' sizes are known only there.
 */
#ifndef SX_GEN_H
#define SX_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PROG "sxgate-gen"

#define MAX_RECORDS  500000000ULL
#define MAX_QUERIES  2000000000ULL
#define HIT_SAMPLE_MAX (4u << 20)   /* listed IDs kept for query hits */

#define ARRLEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------
 * PRNG: xoshiro256** (Blackman & Vigna), seeded with splitmix64.
 * ---------------------------------------------------------------------- */

typedef struct { uint64_t s[4]; } rng_t;

/* Stream numbers: one independent generator per concern. */
enum { RS_LIST = 1, RS_DEFECT, RS_HITS, RS_PERMIT, RS_QUERY, RS_SALT };

/* Seed r as stream `stream` of seed (splitmix64 over seed ^ stream). */
void rng_seed(rng_t *r, uint64_t seed, uint64_t stream);

static inline uint64_t rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(rng_t *r)
{
	uint64_t *s = r->s;
	const uint64_t result = rotl64(s[1] * 5, 7) * 9;
	const uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return result;
}

/* Uniform in [0, n) by multiply-shift (Lemire); the bias, < n / 2^32, is
 * far below anything a distribution check could see. */
static inline uint32_t rng_below(rng_t *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static inline uint64_t rng_below64(rng_t *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* Inclusive range. */
static inline int rng_range(rng_t *r, int lo, int hi)
{
	return lo + (int)rng_below(r, (uint32_t)(hi - lo + 1));
}

/* True with probability ppm / 1 000 000. */
static inline bool rng_ppm(rng_t *r, uint32_t ppm)
{
	return rng_below(r, 1000000) < ppm;
}

/* Weighted choice among up to 65536 items through a 4096-slot table:
 * O(1) per draw, weights resolved to 1/4096. */
#define WT_BITS 12
typedef struct { uint16_t idx[1u << WT_BITS]; } wtab_t;

/* Fill t from n weights (n <= 65536, total > 0). */
void wtab_build(wtab_t *t, const unsigned *w, size_t n);

static inline unsigned wpick(const wtab_t *t, rng_t *r)
{
	return t->idx[rng_next(r) >> (64 - WT_BITS)];
}

/* ------------------------------------------------------------------------
 * Calendar (calendar.c): proleptic Gregorian, days since 1970-01-01.
 * ---------------------------------------------------------------------- */

#define NO_DAY INT32_MIN

int32_t days_from_civil(int y, int m, int d);
void civil_from_days(int32_t z, int *y, int *m, int *d);
bool is_leap(int y);
int days_in_month(int y, int m);
int year_of(int32_t day);
/* The same calendar day n years later (29 Feb falls back to 28 Feb). */
int32_t add_years(int32_t day, int n);
/* Write day as YYYY-MM-DD at p; returns the end. */
char *put_date(char *p, int32_t day);

/* ------------------------------------------------------------------------
 * Hand-written formatting: every helper writes at p and returns the end.
 * ---------------------------------------------------------------------- */

static inline char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUTS(p, lit) put((p), (lit), sizeof(lit) - 1)

static inline char *put_str(char *p, const char *s)
{
	return put(p, s, strlen(s));
}

/* Exactly w digits, zero-padded (v < 10^w). */
static inline char *put_uw(char *p, uint64_t v, int w)
{
	for (int i = w - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + w;
}

static inline char *put_u(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* ------------------------------------------------------------------------
 * Vocabulary (vocab.c).
 * ---------------------------------------------------------------------- */

/* ------------------------------------------------------------------------
 * Vocabulary.
 * ---------------------------------------------------------------------- */

enum { IDT_RIC, IDT_USCC, IDT_ORG, IDT_PASSPORT, IDT_HKMO, IDT_TW, IDT_FRP };
extern const char *const IDT_NAME[];

enum { ROLE_DEBTOR, ROLE_LEGAL_REP, ROLE_PRINCIPAL, ROLE_CONTROLLER,
       ROLE_RESPONSIBLE };
extern const char *const ROLE_NAME[];

enum { LIST_SX, LIST_XG };
extern const char *const LIST_NAME[];

enum { ST_ACTIVE, ST_SUSPENDED, ST_REVOKED, ST_SHIELDED };
extern const char *const STATUS_NAME[];

/* Restriction codes in SPEC section 4 order; bit i is CODES[i]: the
 * eleven consumption codes, then the nineteen joint-punishment measures
 * (which only SX rows carry). */
extern const char *const CODES[];
#define NCODES 30
#define ALL_CODES ((1u << NCODES) - 1)
#define CONS_CODES ((1u << 11) - 1)
enum { C_AIR = 1, C_RAIL = 2, C_SHIP = 4, C_HOTEL = 8, C_VENUE = 16,
       C_TRAVEL = 32, C_PROPERTY = 1 << 8,
       C_FINANCE = 1 << 11, C_BOND = 1 << 12, C_QUOTA = 1 << 13,
       C_INCENTIVE = 1 << 14, C_STOCK = 1 << 15, C_SOCIETY = 1 << 16,
       C_PROCUREMENT = 1 << 17, C_BIDDING = 1 << 18, C_STRAIT = 1 << 19,
       C_SUBSIDY = 1 << 20, C_POLICY = 1 << 21, C_APPOINT = 1 << 22,
       C_CUSTOMS = 1 << 23, C_LICENSE = 1 << 24, C_QUALIFY = 1 << 25,
       C_HONOR = 1 << 26, C_CREDIT = 1 << 27, C_ASSET = 1 << 28,
       C_RESOURCE = 1 << 29 };
/* What a unit debtor's legal representative, principal, controller or
 * responsible person restricts (SPEC section 4, related persons). */
#define RELATED_CODES (CONS_CODES | C_STRAIT | C_APPOINT | C_ASSET)

/* Courts: name, region (the court's 6-digit area code, the `region`
 * column), province abbreviation and court code as they appear in case
 * numbers, and a weight (busy basic courts list the most debtors). */
typedef struct {
	const char *name, *region, *abbr, *code;
	unsigned weight;
} court_t;
extern const court_t COURTS[];
extern const size_t n_courts;
#define NCOURTS n_courts
#define MAX_COURTS 256         /* gen_t's per-court arrays */

/* Areas: a 6-digit area code and its place name; mainland areas first,
 * then Hong Kong, Macao and Taiwan. */
typedef struct { const char *code, *place; } area_t;
extern const area_t AREAS[];
extern const size_t n_areas;
#define NAREAS n_areas
#define AREA_HK (NAREAS - 3)
#define AREA_MO (NAREAS - 2)
#define AREA_TW (NAREAS - 1)
#define NAREAS_MAINLAND (NAREAS - 3)

/* Names: surnames, 3-byte UTF-8 characters for given names and firm
 * names, words for unit names, foreigners' names and nations. */
extern const char *const SURNAMES[];
extern const char GIVEN_CHARS[], FIRM_CHARS[];
extern const char *const INDUSTRIES[], *const COOP_KINDS[], *const SCHOOL_KINDS[];
extern const char *const FOREIGN_FIRST[], *const FOREIGN_LAST[], *const FRP_NATIONS[];
extern const size_t n_surnames, n_industries, n_coop_kinds, n_school_kinds,
                    n_foreign_first, n_foreign_last, n_frp_nations;
#define NSURNAMES n_surnames
#define NINDUSTRIES n_industries

/* ------------------------------------------------------------------------
 * Output: one big buffer per file, flushed with write(2).
 * ---------------------------------------------------------------------- */

#define OUT_CAP   ((size_t)8 << 20)
#define OUT_SLACK ((size_t)4096)     /* > the longest line we format */

typedef struct {
	int fd;
	bool created;        /* a regular file we made: removed on failure */
	const char *path;
	char *buf;
	size_t len;
	uint64_t bytes;
} out_t;

/* Open path ('-': standard output) for writing; dies (exit 2) when it
 * cannot.  A regular file made here is removed if the program dies. */
void out_open(out_t *o, const char *path);
/* Write what is buffered; dies on a write error. */
void out_flush(out_t *o);
/* Flush, close and free the buffer; dies on an error. */
void out_close(out_t *o);

/* Print "sxgate-gen: <message>: <strerror(errno)>", remove the files
 * being made and exit 2. */
__attribute__((cold, noreturn, format(printf, 1, 2)))
void die_io(const char *fmt, ...);

static inline char *out_ptr(out_t *o)
{
	return o->buf + o->len;
}

static inline void out_commit(out_t *o, char *end)
{
	o->len = (size_t)(end - o->buf);
	if (o->len > OUT_CAP - OUT_SLACK)
		out_flush(o);
}

/* ------------------------------------------------------------------------
 * The generator's state.
 * ---------------------------------------------------------------------- */

typedef struct {
	uint8_t type;        /* IDT_* */
	uint8_t len;
	char no[22];         /* normalised, as listed (ORG without hyphen) */
} doc_t;

typedef struct {
	uint8_t ndocs;       /* doc[0]: the primary ID (RIC, or FRP) */
	uint8_t name_len;
	doc_t doc[3];
	char name[48];
} person_t;

typedef struct {
	doc_t id;            /* USCC or ORG */
	bool org_hyphen;     /* ORG written XXXXXXXX-X */
	uint8_t name_len;
	char name[128];
	person_t rep;        /* the legal representative, same in every case */
} unit_t;

typedef struct {
	bool is_unit;
	uint8_t left;        /* cases still to come */
	person_t p;
	unit_t u;
} pooled_t;

typedef struct {
	uint16_t court;
	uint8_t list, status;
	int32_t listed, expires;      /* expires NO_DAY: until removed */
	uint32_t codes;               /* effective codes (the list's default
	                                 when restr is empty) */
	uint8_t cno_len, restr_lower;
	uint16_t restr_len;           /* 0: `restrictions` left empty */
	char cno[64];
	char restr[256];
} case_t;

typedef struct {
	doc_t d;
	uint32_t codes;
	uint8_t cno_len;
	char cno[64];
} permit_src_t;

#define POOL_CAP 1024
#define BIRTH_Y0 1940
#define BIRTH_Y1 2004
#define CNO_Y0 2000
#define CNO_YEARS 101
#define TAIL_ROWS 24      /* below this many rows left, one-row cases only */

typedef struct {
	/* options */
	uint64_t records, seed, queries, hits_wanted;
	int32_t asof;
	uint32_t bad_ppm, typo_ppm;
	uint32_t joint_ppm;             /* queries on joint-punishment channels */
	bool mask, quiet;
	const char *list_path, *permits_path, *queries_path;

	rng_t rl, rd, rh, rp, rq;
	uint32_t seq_salt;
	uint16_t *slot;                 /* [NAREAS][ndays] RICs issued */
	int32_t day0;                   /* 1940-01-01 */
	uint32_t ndays;
	uint32_t (*cno_next)[CNO_YEARS][2];
	/* ID counters and their affine bijections */
	uint64_t org_old_k, org_new_k, pass_k, pass2_k;
	uint64_t org_old_b, org_new_b, pass_b, pass2_b;

	wtab_t court_wt, surname_wt;
	uint16_t prov_areas[100][40];   /* mainland areas per province */
	uint8_t prov_n[100];
	int16_t court_area[MAX_COURTS]; /* the court's own area, or -1 */
	size_t ngiven, nfirm;

	pooled_t *pool;
	unsigned pool_n;

	doc_t *hits;                    /* reservoir of listed IDs */
	uint64_t hits_cap, hits_n, hits_seen;
	permit_src_t *psrc;             /* reservoir of permit candidates */
	uint64_t psrc_cap, psrc_n, psrc_seen;
	permit_src_t pfallback;         /* used when no candidate applies */
	bool pfallback_set;

	out_t list_out, permits_out, queries_out;

	/* counters for the summary */
	uint64_t rows, cases, unit_cases, repeat_cases, bad_rows, typo_rows;
	uint64_t q_hits, q_joint;
} gen_t;

/* ------------------------------------------------------------------------
 * The generator's parts.
 * ---------------------------------------------------------------------- */

/* vocab.c: the weight tables and per-court and per-province areas. */
void vocab_init(gen_t *g);

/* ids.c: identity numbers, unique by construction, with their check
 * characters (SPEC section 3). */
void ids_init(void);
/* The RIC check characters, indexed by the weighted sum mod 11. */
extern const char RIC_CHECKS[];
int birth_year(rng_t *r, int ymax);
void ric_issue(gen_t *g, rng_t *r, unsigned area, int ymax, bool legacy,
               doc_t *d);
void ric_upgrade(const char *r15, char *out19);
void org_issue(gen_t *g, bool new_style, char *out9);
void uscc_make(const char *kind2, const char *area6, const char *org9,
               doc_t *d);
void passport_issue(gen_t *g, rng_t *r, doc_t *d);
void digits_doc(rng_t *r, int type, const char *prefix, int ndig, doc_t *d);

/* parties.c: debtors and the persons linked to them. */
void person_new(gen_t *g, rng_t *r, unsigned court, int ymax, person_t *pp);
void person_plain(gen_t *g, rng_t *r, unsigned court, int ymax, person_t *pp);
void unit_new(gen_t *g, rng_t *r, unsigned court, int ymax, unit_t *u);

/* cases.c: a case's court, list, status, dates, number, restrictions. */
int pick_status(rng_t *r);
uint32_t random_codes(rng_t *r, uint32_t of);
size_t format_codes(char *out, uint32_t mask, bool lower);
void case_new(gen_t *g, case_t *c);

/* list.c, permits.c, queries.c: the three outputs. */
void generate_list(gen_t *g);
void write_permits(gen_t *g);
void write_queries(gen_t *g);

#endif
