/*
 * gen.c - sxgate-gen: a seeded, reproducible generator of realistic
 * synthetic lists (SPEC section 2), court permits and query streams.
 *
 * The idea.  One pass, one thread.  Cases are drawn one after another (a
 * court, a list, a status, listing and expiry dates relative to --as-of,
 * restrictions, a case number) and each case writes its rows: a person
 * debtor with the passport or travel permit linked to it, or a unit debtor
 * with its legal representative and sometimes its principal, controller and
 * responsible persons.  --records counts data rows, and the last rows are
 * one-row person cases so no unit case is cut in half.  About one debtor in
 * ten is kept in a small pool and comes back in later cases.
 *
 * Reproducible.  Everything derives from --seed through xoshiro256**
 * streams seeded by splitmix64, one stream per concern (list, defects,
 * query-hit sample, permits, queries), so the list bytes do not depend on
 * whether permits or queries are asked for, and --bad-rate/--typo-rate
 * inject defects into the same list rather than producing another one.
 * Only integer arithmetic decides anything (rates become parts per million
 * once), so a seed means the same files on every host.
 *
 * Unique by construction, not by lookup.  A RIC is an (area, birth day)
 * slot plus a per-slot counter permuted into the 3-digit sequence;
 * organisation codes and passports come from counters through affine
 * bijections (mod 10^8, 31^6).  Query misses draw from the same counters
 * after the list is written, so a "fresh" ID is guaranteed absent from the
 * list, including its legacy-15 form and the USCC/ORG embedding of SPEC
 * section 3, without a hash set: memory stays at ~6 MB of slot counters
 * plus the bounded hit sample (at most 4 M IDs, a uniform reservoir of the
 * listed rows - the trade-off that keeps 100 M-row runs in RAM).
 *
 * Fast.  Rows are formatted by hand into an 8 MB buffer flushed with
 * write(2): no stdio per field.
 *
 * Check characters are computed here, independently of engine/id.c, so the
 * generator doubles as a cross-check of the engine's ID rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROG "sxgate-gen"

#define MAX_RECORDS  500000000ULL
#define MAX_QUERIES  2000000000ULL
#define HIT_SAMPLE_MAX (4u << 20)   /* listed IDs kept for query hits */

/* ------------------------------------------------------------------------
 * PRNG: xoshiro256** (Blackman & Vigna), seeded with splitmix64.
 * ---------------------------------------------------------------------- */

typedef struct { uint64_t s[4]; } rng_t;

/* Stream numbers: one independent generator per concern. */
enum { RS_LIST = 1, RS_DEFECT, RS_HITS, RS_PERMIT, RS_QUERY, RS_SALT };

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

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

static void wtab_build(wtab_t *t, const unsigned *w, size_t n)
{
	uint64_t total = 0, cum = 0;
	size_t i = 0;
	for (size_t k = 0; k < n; k++)
		total += w[k];
	for (uint32_t s = 0; s < (1u << WT_BITS); s++) {
		/* the item whose cumulative range holds the slot's midpoint */
		uint64_t pos = ((2 * (uint64_t)s + 1) * total) >> (WT_BITS + 1);
		while (i < n && cum + w[i] <= pos)
			cum += w[i++];
		t->idx[s] = (uint16_t)(i < n ? i : n - 1);
	}
}

static inline unsigned wpick(const wtab_t *t, rng_t *r)
{
	return t->idx[rng_next(r) >> (64 - WT_BITS)];
}

/* ------------------------------------------------------------------------
 * Calendar (proleptic Gregorian; days since 1970-01-01, H. Hinnant).
 * ---------------------------------------------------------------------- */

#define NO_DAY INT32_MIN

static int32_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	const int era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned mm = (unsigned)m, dd = (unsigned)d;
	const unsigned doy = (153 * (mm > 2 ? mm - 3 : mm + 9) + 2) / 5 + dd - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int32_t)doe - 719468;
}

static void civil_from_days(int32_t z, int *y, int *m, int *d)
{
	z += 719468;
	const int era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	const unsigned dd = doy - (153 * mp + 2) / 5 + 1;
	const unsigned mm = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)yoe + era * 400 + (mm <= 2);
	*m = (int)mm;
	*d = (int)dd;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

static int year_of(int32_t day)
{
	int y, m, d;
	civil_from_days(day, &y, &m, &d);
	return y;
}

/* The same calendar day n years later (29 Feb falls back to 28 Feb). */
static int32_t add_years(int32_t day, int n)
{
	int y, m, d;
	civil_from_days(day, &y, &m, &d);
	y += n;
	if (m == 2 && d == 29 && !is_leap(y))
		d = 28;
	return days_from_civil(y, m, d);
}

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

static char *put_u(char *p, uint64_t v)
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

/* YYYY-MM-DD */
static char *put_date(char *p, int32_t day)
{
	int y, m, d;
	civil_from_days(day, &y, &m, &d);
	p = put_uw(p, (uint64_t)y, 4);
	*p++ = '-';
	p = put_uw(p, (uint64_t)m, 2);
	*p++ = '-';
	return put_uw(p, (uint64_t)d, 2);
}

/* ------------------------------------------------------------------------
 * Check characters (SPEC section 3), independent of engine/id.c.
 * ---------------------------------------------------------------------- */

static const char RIC_CHECKS[] = "10X98765432";
static const int RIC_W[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
static const char USCC_ALPHA[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";   /* 31 */
static const int USCC_W[17] = { 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8,
                                24, 10, 30, 28 };
static const int ORG_W[8] = { 3, 7, 9, 10, 5, 8, 4, 2 };
static int8_t uscc_val[256];   /* -1 outside the USCC alphabet */

static char ric_check(const char *d17)
{
	int s = 0;
	for (int i = 0; i < 17; i++)
		s += (d17[i] - '0') * RIC_W[i];
	return RIC_CHECKS[s % 11];
}

static char uscc_check(const char *c17)
{
	int s = 0;
	for (int i = 0; i < 17; i++)
		s += uscc_val[(unsigned char)c17[i]] * USCC_W[i];
	int v = 31 - s % 31;
	return USCC_ALPHA[v == 31 ? 0 : v];
}

static char org_check(const char *c8)
{
	int s = 0;
	for (int i = 0; i < 8; i++) {
		char c = c8[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c - 'A' + 10;
		s += v * ORG_W[i];
	}
	int v = 11 - s % 11;
	return v == 10 ? 'X' : v == 11 ? '0' : (char)('0' + v);
}

/* ------------------------------------------------------------------------
 * Vocabulary.
 * ---------------------------------------------------------------------- */

enum { IDT_RIC, IDT_USCC, IDT_ORG, IDT_PASSPORT, IDT_HKMO, IDT_TW, IDT_FRP };
static const char *const IDT_NAME[] = {
	"RIC", "USCC", "ORG", "PASSPORT", "HKMO", "TW", "FRP"
};

enum { ROLE_DEBTOR, ROLE_LEGAL_REP, ROLE_PRINCIPAL, ROLE_CONTROLLER,
       ROLE_RESPONSIBLE };
static const char *const ROLE_NAME[] = {
	"debtor", "legal_rep", "principal", "controller", "responsible"
};

enum { LIST_SX, LIST_XG };
static const char *const LIST_NAME[] = { "SX", "XG" };

enum { ST_ACTIVE, ST_SUSPENDED, ST_REVOKED, ST_SHIELDED };
static const char *const STATUS_NAME[] = {
	"active", "suspended", "revoked", "shielded"
};

/* Restriction codes in SPEC section 4 order; bit i is CODES[i]. */
static const char *const CODES[] = {
	"AIR", "RAIL", "SHIP", "HOTEL", "VENUE", "TRAVEL", "SCHOOL",
	"INSURANCE", "PROPERTY", "VEHICLE", "OFFICE"
};
#define NCODES 11
#define ALL_CODES ((1u << NCODES) - 1)
enum { C_AIR = 1, C_RAIL = 2, C_SHIP = 4, C_HOTEL = 8, C_VENUE = 16,
       C_TRAVEL = 32 };

/* Courts: name, region (the court's 6-digit area code, the `region`
 * column), province abbreviation and court code as they appear in case
 * numbers, and a weight (busy basic courts list the most debtors). */
typedef struct {
	const char *name, *region, *abbr, *code;
	unsigned weight;
} court_t;

static const court_t COURTS[] = {
	{ "福建省高级人民法院", "350000", "闽", "", 1 },
	{ "福州市中级人民法院", "350100", "闽", "01", 4 },
	{ "福州市鼓楼区人民法院", "350102", "闽", "0102", 10 },
	{ "福州市台江区人民法院", "350103", "闽", "0103", 8 },
	{ "福州市仓山区人民法院", "350104", "闽", "0104", 8 },
	{ "福州市马尾区人民法院", "350105", "闽", "0105", 4 },
	{ "福州市晋安区人民法院", "350111", "闽", "0111", 8 },
	{ "闽侯县人民法院", "350121", "闽", "0121", 6 },
	{ "福清市人民法院", "350181", "闽", "0181", 8 },
	{ "厦门市中级人民法院", "350200", "闽", "02", 4 },
	{ "厦门市思明区人民法院", "350203", "闽", "0203", 10 },
	{ "厦门市海沧区人民法院", "350205", "闽", "0205", 5 },
	{ "厦门市湖里区人民法院", "350206", "闽", "0206", 9 },
	{ "厦门市集美区人民法院", "350211", "闽", "0211", 6 },
	{ "厦门市同安区人民法院", "350212", "闽", "0212", 5 },
	{ "莆田市中级人民法院", "350300", "闽", "03", 3 },
	{ "莆田市城厢区人民法院", "350302", "闽", "0302", 6 },
	{ "莆田市涵江区人民法院", "350303", "闽", "0303", 5 },
	{ "莆田市荔城区人民法院", "350304", "闽", "0304", 6 },
	{ "泉州市中级人民法院", "350500", "闽", "05", 4 },
	{ "泉州市鲤城区人民法院", "350502", "闽", "0502", 6 },
	{ "泉州市丰泽区人民法院", "350503", "闽", "0503", 7 },
	{ "石狮市人民法院", "350581", "闽", "0581", 6 },
	{ "晋江市人民法院", "350582", "闽", "0582", 10 },
	{ "南安市人民法院", "350583", "闽", "0583", 7 },
	{ "漳州市中级人民法院", "350600", "闽", "06", 3 },
	{ "漳州市芗城区人民法院", "350602", "闽", "0602", 6 },
	{ "南平市延平区人民法院", "350702", "闽", "0702", 4 },
	{ "龙岩市新罗区人民法院", "350802", "闽", "0802", 5 },
	{ "宁德市蕉城区人民法院", "350902", "闽", "0902", 4 },
	{ "北京市高级人民法院", "110000", "京", "", 1 },
	{ "北京市第一中级人民法院", "110100", "京", "01", 3 },
	{ "北京市东城区人民法院", "110101", "京", "0101", 5 },
	{ "北京市西城区人民法院", "110102", "京", "0102", 5 },
	{ "北京市朝阳区人民法院", "110105", "京", "0105", 10 },
	{ "北京市丰台区人民法院", "110106", "京", "0106", 6 },
	{ "北京市海淀区人民法院", "110108", "京", "0108", 9 },
	{ "北京市通州区人民法院", "110112", "京", "0112", 6 },
	{ "天津市和平区人民法院", "120101", "津", "0101", 4 },
	{ "天津市滨海新区人民法院", "120116", "津", "0116", 6 },
	{ "石家庄市长安区人民法院", "130102", "冀", "0102", 4 },
	{ "太原市小店区人民法院", "140105", "晋", "0105", 4 },
	{ "沈阳市和平区人民法院", "210102", "辽", "0102", 4 },
	{ "大连市中山区人民法院", "210202", "辽", "0202", 4 },
	{ "长春市朝阳区人民法院", "220104", "吉", "0104", 3 },
	{ "哈尔滨市南岗区人民法院", "230103", "黑", "0103", 4 },
	{ "上海市第一中级人民法院", "310100", "沪", "01", 3 },
	{ "上海市黄浦区人民法院", "310101", "沪", "0101", 5 },
	{ "上海市徐汇区人民法院", "310104", "沪", "0104", 6 },
	{ "上海市长宁区人民法院", "310105", "沪", "0105", 5 },
	{ "上海市静安区人民法院", "310106", "沪", "0106", 6 },
	{ "上海市闵行区人民法院", "310112", "沪", "0112", 8 },
	{ "上海市浦东新区人民法院", "310115", "沪", "0115", 10 },
	{ "南京市中级人民法院", "320100", "苏", "01", 3 },
	{ "南京市玄武区人民法院", "320102", "苏", "0102", 5 },
	{ "南京市鼓楼区人民法院", "320106", "苏", "0106", 6 },
	{ "无锡市梁溪区人民法院", "320213", "苏", "0213", 5 },
	{ "苏州市姑苏区人民法院", "320508", "苏", "0508", 5 },
	{ "昆山市人民法院", "320583", "苏", "0583", 8 },
	{ "杭州市中级人民法院", "330100", "浙", "01", 3 },
	{ "杭州市上城区人民法院", "330102", "浙", "0102", 5 },
	{ "杭州市西湖区人民法院", "330106", "浙", "0106", 6 },
	{ "杭州市滨江区人民法院", "330108", "浙", "0108", 5 },
	{ "杭州市萧山区人民法院", "330109", "浙", "0109", 7 },
	{ "宁波市鄞州区人民法院", "330212", "浙", "0212", 6 },
	{ "温州市鹿城区人民法院", "330302", "浙", "0302", 6 },
	{ "义乌市人民法院", "330782", "浙", "0782", 8 },
	{ "合肥市蜀山区人民法院", "340104", "皖", "0104", 5 },
	{ "南昌市东湖区人民法院", "360102", "赣", "0102", 4 },
	{ "济南市历下区人民法院", "370102", "鲁", "0102", 5 },
	{ "青岛市市南区人民法院", "370202", "鲁", "0202", 5 },
	{ "青岛市黄岛区人民法院", "370211", "鲁", "0211", 6 },
	{ "郑州市中级人民法院", "410100", "豫", "01", 3 },
	{ "郑州市二七区人民法院", "410103", "豫", "0103", 4 },
	{ "郑州市金水区人民法院", "410105", "豫", "0105", 7 },
	{ "武汉市中级人民法院", "420100", "鄂", "01", 3 },
	{ "武汉市江岸区人民法院", "420102", "鄂", "0102", 5 },
	{ "武汉市武昌区人民法院", "420106", "鄂", "0106", 5 },
	{ "武汉市洪山区人民法院", "420111", "鄂", "0111", 6 },
	{ "长沙市天心区人民法院", "430103", "湘", "0103", 4 },
	{ "长沙市岳麓区人民法院", "430104", "湘", "0104", 5 },
	{ "广东省高级人民法院", "440000", "粤", "", 1 },
	{ "广州市中级人民法院", "440100", "粤", "01", 4 },
	{ "广州市越秀区人民法院", "440104", "粤", "0104", 6 },
	{ "广州市天河区人民法院", "440106", "粤", "0106", 9 },
	{ "广州市白云区人民法院", "440111", "粤", "0111", 8 },
	{ "深圳市中级人民法院", "440300", "粤", "03", 4 },
	{ "深圳市罗湖区人民法院", "440303", "粤", "0303", 6 },
	{ "深圳市福田区人民法院", "440304", "粤", "0304", 9 },
	{ "深圳市南山区人民法院", "440305", "粤", "0305", 8 },
	{ "深圳市宝安区人民法院", "440306", "粤", "0306", 9 },
	{ "深圳市龙岗区人民法院", "440307", "粤", "0307", 9 },
	{ "佛山市南海区人民法院", "440605", "粤", "0605", 6 },
	{ "佛山市顺德区人民法院", "440606", "粤", "0606", 6 },
	{ "东莞市第一人民法院", "441900", "粤", "1971", 8 },
	{ "南宁市青秀区人民法院", "450103", "桂", "0103", 4 },
	{ "海口市龙华区人民法院", "460106", "琼", "0106", 3 },
	{ "重庆市渝中区人民法院", "500103", "渝", "0103", 5 },
	{ "重庆市江北区人民法院", "500105", "渝", "0105", 5 },
	{ "成都市中级人民法院", "510100", "川", "01", 3 },
	{ "成都市锦江区人民法院", "510104", "川", "0104", 5 },
	{ "成都市武侯区人民法院", "510107", "川", "0107", 6 },
	{ "成都市成华区人民法院", "510108", "川", "0108", 5 },
	{ "贵阳市南明区人民法院", "520102", "黔", "0102", 3 },
	{ "昆明市五华区人民法院", "530102", "云", "0102", 4 },
	{ "西安市雁塔区人民法院", "610113", "陕", "0113", 5 },
	{ "兰州市城关区人民法院", "620102", "甘", "0102", 3 },
	{ "乌鲁木齐市天山区人民法院", "650102", "新", "0102", 3 },
};
#define NCOURTS (sizeof(COURTS) / sizeof(COURTS[0]))

/* Area codes for RICs and USCCs, with the place name a unit registered
 * there would carry.  The last three are the residence-permit codes of
 * Hong Kong, Macao and Taiwan residents; they are used only for them. */
typedef struct { const char *code, *place; } area_t;

static const area_t AREAS[] = {
	{ "110101", "北京" }, { "110102", "北京" }, { "110105", "北京" },
	{ "110106", "北京" }, { "110107", "北京" }, { "110108", "北京" },
	{ "110111", "北京" }, { "110112", "北京" }, { "110114", "北京" },
	{ "120101", "天津" }, { "120102", "天津" }, { "120103", "天津" },
	{ "120104", "天津" }, { "120116", "天津" },
	{ "130102", "石家庄" }, { "130104", "石家庄" }, { "130105", "石家庄" },
	{ "130203", "唐山" }, { "130602", "保定" },
	{ "140105", "太原" }, { "140106", "太原" }, { "150102", "呼和浩特" },
	{ "210102", "沈阳" }, { "210103", "沈阳" }, { "210202", "大连" },
	{ "210203", "大连" }, { "220102", "长春" }, { "220104", "长春" },
	{ "230102", "哈尔滨" }, { "230103", "哈尔滨" },
	{ "310101", "上海" }, { "310104", "上海" }, { "310105", "上海" },
	{ "310106", "上海" }, { "310107", "上海" }, { "310109", "上海" },
	{ "310110", "上海" }, { "310112", "上海" }, { "310115", "上海" },
	{ "320102", "南京" }, { "320104", "南京" }, { "320106", "南京" },
	{ "320213", "无锡" }, { "320303", "徐州" }, { "320402", "常州" },
	{ "320508", "苏州" }, { "320583", "昆山" },
	{ "330102", "杭州" }, { "330106", "杭州" }, { "330108", "杭州" },
	{ "330109", "杭州" }, { "330110", "杭州" }, { "330203", "宁波" },
	{ "330212", "宁波" }, { "330302", "温州" }, { "330602", "绍兴" },
	{ "330782", "义乌" },
	{ "340102", "合肥" }, { "340104", "合肥" },
	{ "350102", "福州" }, { "350103", "福州" }, { "350104", "福州" },
	{ "350105", "福州" }, { "350111", "福州" }, { "350121", "福州" },
	{ "350181", "福清" }, { "350203", "厦门" }, { "350205", "厦门" },
	{ "350206", "厦门" }, { "350211", "厦门" }, { "350212", "厦门" },
	{ "350302", "莆田" }, { "350303", "莆田" }, { "350304", "莆田" },
	{ "350502", "泉州" }, { "350503", "泉州" }, { "350581", "石狮" },
	{ "350582", "晋江" }, { "350583", "南安" }, { "350602", "漳州" },
	{ "350702", "南平" }, { "350802", "龙岩" }, { "350902", "宁德" },
	{ "360102", "南昌" }, { "360103", "南昌" }, { "360402", "九江" },
	{ "370102", "济南" }, { "370103", "济南" }, { "370202", "青岛" },
	{ "370211", "青岛" }, { "370602", "烟台" },
	{ "410103", "郑州" }, { "410105", "郑州" }, { "410302", "洛阳" },
	{ "420102", "武汉" }, { "420106", "武汉" }, { "420111", "武汉" },
	{ "430103", "长沙" }, { "430104", "长沙" }, { "430105", "长沙" },
	{ "440103", "广州" }, { "440104", "广州" }, { "440106", "广州" },
	{ "440111", "广州" }, { "440303", "深圳" }, { "440304", "深圳" },
	{ "440305", "深圳" }, { "440306", "深圳" }, { "440307", "深圳" },
	{ "440402", "珠海" }, { "440507", "汕头" }, { "440605", "佛山" },
	{ "440606", "佛山" }, { "441900", "东莞" }, { "445102", "潮州" },
	{ "450103", "南宁" }, { "460106", "海口" },
	{ "500103", "重庆" }, { "500105", "重庆" }, { "500106", "重庆" },
	{ "510104", "成都" }, { "510105", "成都" }, { "510107", "成都" },
	{ "510108", "成都" }, { "520102", "贵阳" }, { "530102", "昆明" },
	{ "610103", "西安" }, { "610113", "西安" }, { "620102", "兰州" },
	{ "630102", "西宁" }, { "640104", "银川" }, { "650102", "乌鲁木齐" },
	{ "810000", "香港" }, { "820000", "澳门" }, { "830000", "台湾" },
};
#define NAREAS (sizeof(AREAS) / sizeof(AREAS[0]))
#define AREA_HK (NAREAS - 3)
#define AREA_MO (NAREAS - 2)
#define AREA_TW (NAREAS - 1)
#define NAREAS_MAINLAND (NAREAS - 3)

/* Surnames by frequency rank; the last four are compound. */
static const char *const SURNAMES[] = {
	"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
	"马", "朱", "胡", "郭", "何", "林", "高", "罗", "郑", "梁", "谢", "宋",
	"唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "潘",
	"袁", "蔡", "蒋", "余", "于", "杜", "叶", "程", "魏", "苏", "吕", "丁",
	"任", "卢", "姚", "沈", "钟", "姜", "崔", "谭", "陆", "范", "汪", "廖",
	"石", "金", "韦", "贾", "夏", "付", "方", "邹", "熊", "白", "孟", "秦",
	"邱", "侯", "江", "尹", "薛", "闫", "段", "雷", "龙", "黎", "史", "陶",
	"贺", "毛", "郝", "顾", "龚", "邵", "万", "覃", "武", "钱", "戴", "严",
	"莫", "孔", "向", "常", "汤", "康", "易", "乔", "赖", "文",
	"欧阳", "司马", "诸葛", "上官",
};
#define NSURNAMES (sizeof(SURNAMES) / sizeof(SURNAMES[0]))

/* Given-name characters (all 3-byte UTF-8). */
static const char GIVEN_CHARS[] =
	"伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉鹏"
	"斌宇浩凯婷雪琳晶燕飞波鑫俊峰志宏海林云东春梅金凤荣新立永成德福生龙"
	"晓子欣怡佳嘉思雨梓涵轩睿博一诗婉慧颖淑素丹倩琴蕾薇欢莉瑶晨阳亮健毅"
	"炜锋彬昊然铭瑞泽天家振兴良民胜利财旺发贵祥清仁义忠宁珍爱庆启少坤炳"
	"水木元光正朝旭豪";

/* Trade-name (字号) characters of units. */
static const char FIRM_CHARS[] =
	"鑫隆盛泰华兴达源恒宏昌丰瑞祥金海天正通远博创德信汇富佳安嘉联鼎腾旺"
	"星辰锦中大新万永和合益利顺凯誉诚晟煜弘捷宸铭悦辉";

static const char *const INDUSTRIES[] = {
	"建设工程", "建筑工程", "房地产开发", "贸易", "商贸", "科技",
	"信息技术", "投资管理", "投资咨询", "物流", "供应链管理", "餐饮管理",
	"建材", "实业", "电子商务", "农业发展", "装饰工程", "置业",
	"机械设备", "服装", "鞋业", "纺织", "食品", "文化传媒", "汽车销售",
	"石材", "茶业", "医疗器械", "环保科技", "网络科技", "劳务",
	"融资担保", "酒店管理", "物业管理", "印刷", "包装", "五金", "化工",
	"能源", "进出口",
};
#define NINDUSTRIES (sizeof(INDUSTRIES) / sizeof(INDUSTRIES[0]))

static const char *const COOP_KINDS[] = {
	"茶叶种植", "果蔬种植", "水产养殖", "生猪养殖", "食用菌种植", "花卉苗木",
};
static const char *const SCHOOL_KINDS[] = {
	"培训学校", "职业培训学校", "艺术培训中心", "教育培训中心",
};

static const char *const FOREIGN_FIRST[] = {
	"约翰", "迈克尔", "大卫", "詹姆斯", "罗伯特", "威廉", "理查德", "托马斯",
	"丹尼尔", "保罗", "安娜", "玛丽亚", "伊丽莎白", "萨拉", "劳拉",
};
static const char *const FOREIGN_LAST[] = {
	"史密斯", "约翰逊", "布朗", "威尔逊", "泰勒", "安德森", "怀特", "马丁",
	"汤普森", "米勒", "戴维斯", "克拉克", "刘易斯", "沃克", "霍尔",
};
static const char *const FRP_NATIONS[] = {
	"USA", "GBR", "CAN", "AUS", "DEU", "FRA", "KOR", "JPN", "SGP", "MYS",
	"ITA", "RUS", "NZL", "NLD",
};
#define ARRLEN(a) (sizeof(a) / sizeof((a)[0]))

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

static out_t *open_outs[3];
static int n_open_outs;

static void cleanup_outputs(void)
{
	for (int i = 0; i < n_open_outs; i++)
		if (open_outs[i]->created)
			unlink(open_outs[i]->path);
}

__attribute__((cold, noreturn, format(printf, 1, 2)))
static void die_io(const char *fmt, ...)
{
	va_list ap;
	int e = errno;
	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(e));
	cleanup_outputs();
	exit(2);
}

__attribute__((cold))
static void out_open(out_t *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	o->path = path;
	if (strcmp(path, "-") == 0) {
		o->fd = STDOUT_FILENO;
	} else {
		struct stat st;
		o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (o->fd < 0)
			die_io("cannot create %s", path);
		/* a regular file's old contents are gone with O_TRUNC anyway,
		 * so a half-written one is removed on failure */
		o->created = fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode);
	}
	o->buf = malloc(OUT_CAP);
	if (!o->buf)
		die_io("cannot allocate the output buffer for %s", path);
	open_outs[n_open_outs++] = o;
}

static void out_flush(out_t *o)
{
	size_t off = 0;
	while (off < o->len) {
		ssize_t w = write(o->fd, o->buf + off, o->len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die_io("write to %s failed", o->path);
		}
		off += (size_t)w;
	}
	o->bytes += o->len;
	o->len = 0;
}

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

static void out_close(out_t *o)
{
	out_flush(o);
	if (o->fd != STDOUT_FILENO && close(o->fd) != 0)
		die_io("closing %s failed", o->path);
	o->fd = -1;
	free(o->buf);
	o->buf = NULL;
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
	uint16_t codes;               /* effective codes (all when restr empty) */
	uint8_t cno_len, restr_len;
	char cno[64];
	char restr[96];
} case_t;

typedef struct {
	doc_t d;
	uint16_t codes;
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
	int16_t court_area[NCOURTS];    /* the court's own area, or -1 */
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
	uint64_t q_hits;
} gen_t;

/* ------------------------------------------------------------------------
 * Identity numbers.
 * ---------------------------------------------------------------------- */

static int birth_year(rng_t *r, int ymax)
{
	/* triangular over 1940..2004, mode 1972: debtors are mostly 30-60 */
	int y = BIRTH_Y0 + (int)rng_below(r, 33) + (int)rng_below(r, 33);
	if (y > ymax)
		y = ymax - (int)rng_below(r, 8);
	if (y < BIRTH_Y0)
		y = BIRTH_Y0;
	return y;
}

/*
 * Issue a RIC in area `area` for someone born no later than ymax.  Each
 * (area, birth day) slot hands out up to 999 sequence numbers, counter k
 * mapped to 1 + (337k + salt) mod 999 (337 is prime to 999, so the map is
 * a bijection): distinct people never share the first 17 digits, and a
 * legacy 15-digit number is distinct from every 18-digit one too.
 */
static void ric_issue(gen_t *g, rng_t *r, unsigned area, int ymax, bool legacy,
                      doc_t *d)
{
	unsigned tries = 0;
	for (;;) {
		int y = birth_year(r, ymax);
		int32_t day = days_from_civil(y, 1, 1) +
		              (int32_t)rng_below(r, is_leap(y) ? 366 : 365);
		size_t slot = (size_t)area * g->ndays + (size_t)(day - g->day0);
		if (g->slot[slot] >= 999) {
			if (++tries > 16 && area < NAREAS_MAINLAND)
				area = rng_below(r, NAREAS_MAINLAND);
			continue;
		}
		unsigned k = g->slot[slot]++;
		unsigned salt = (unsigned)((slot * 2654435761u) ^ g->seq_salt) % 999;
		unsigned seq = 1 + (k * 337 + salt) % 999;
		int yy, mm, dd;
		civil_from_days(day, &yy, &mm, &dd);
		char *p = d->no;
		p = put(p, AREAS[area].code, 6);
		if (legacy && yy < 2000) {
			p = put_uw(p, (uint64_t)(yy % 100), 2);
		} else {
			p = put_uw(p, (uint64_t)yy, 4);
			legacy = false;
		}
		p = put_uw(p, (uint64_t)mm, 2);
		p = put_uw(p, (uint64_t)dd, 2);
		p = put_uw(p, seq, 3);
		if (!legacy) {
			*p = ric_check(d->no);
			p++;
		}
		*p = 0;
		d->type = IDT_RIC;
		d->len = (uint8_t)(p - d->no);
		return;
	}
}

/* The 18-digit form of a legacy 15-digit RIC. */
static void ric_upgrade(const char *r15, char *out19)
{
	memcpy(out19, r15, 6);
	memcpy(out19 + 6, "19", 2);
	memcpy(out19 + 8, r15 + 6, 9);
	out19[17] = ric_check(out19);
	out19[18] = 0;
}

/*
 * A fresh 9-character organisation code.  Old-style bodies are 8 digits,
 * (48271k + b) mod 10^8; new-style bodies (units registered since the 2015
 * reform) are "MA" + 6 USCC characters, (1000003k + b) mod 31^6.  Both maps
 * are bijections, so codes never repeat, and the two styles never collide
 * (digits vs. letters in position 1).
 */
static void org_issue(gen_t *g, bool new_style, char *out9)
{
	if (new_style) {
		const uint64_t m = 887503681ULL;   /* 31^6 */
		uint64_t v = (g->org_new_k++ * 1000003ULL + g->org_new_b) % m;
		out9[0] = 'M';
		out9[1] = 'A';
		for (int i = 7; i >= 2; i--) {
			out9[i] = USCC_ALPHA[v % 31];
			v /= 31;
		}
	} else {
		uint64_t v = (g->org_old_k++ * 48271ULL + g->org_old_b) % 100000000ULL;
		put_uw(out9, v, 8);
	}
	out9[8] = org_check(out9);
}

/* A USCC around an organisation code: registration authority and unit
 * kind (e.g. "91" enterprise), the registering area, the code, check. */
static void uscc_make(const char *kind2, const char *area6, const char *org9,
                      doc_t *d)
{
	memcpy(d->no, kind2, 2);
	memcpy(d->no + 2, area6, 6);
	memcpy(d->no + 8, org9, 9);
	d->no[17] = uscc_check(d->no);
	d->no[18] = 0;
	d->len = 18;
	d->type = IDT_USCC;
}

/* Chinese passport: E + 8 digits, or (newer series) E + letter + 7
 * digits; both from counters through bijections, so never repeated. */
static void passport_issue(gen_t *g, rng_t *r, doc_t *d)
{
	static const char L[] = "ABCDEFGHJKLMNPQRSTUVWXYZ";   /* 24 */
	char *p = d->no;
	*p++ = 'E';
	if (rng_below(r, 100) < 85) {
		uint64_t v = (g->pass_k++ * 16807ULL + g->pass_b) % 100000000ULL;
		p = put_uw(p, v, 8);
	} else {
		uint64_t v = (g->pass2_k++ * 69069ULL + g->pass2_b) % 240000000ULL;
		*p++ = L[v / 10000000];
		p = put_uw(p, v % 10000000, 7);
	}
	*p = 0;
	d->type = IDT_PASSPORT;
	d->len = (uint8_t)(p - d->no);
}

static void digits_doc(rng_t *r, int type, const char *prefix, int ndig, doc_t *d)
{
	char *p = put_str(d->no, prefix);
	for (int i = 0; i < ndig; i++)
		*p++ = (char)('0' + rng_below(r, 10));
	*p = 0;
	d->type = (uint8_t)type;
	d->len = (uint8_t)(p - d->no);
}

/* ------------------------------------------------------------------------
 * Names.
 * ---------------------------------------------------------------------- */

static char *put_cjk(char *p, const char *chars, size_t nchars, rng_t *r)
{
	return put(p, chars + 3 * rng_below(r, (uint32_t)nchars), 3);
}

static void person_name(gen_t *g, rng_t *r, person_t *pp)
{
	char *p = put_str(pp->name, SURNAMES[wpick(&g->surname_wt, r)]);
	int n = rng_below(r, 100) < 35 ? 1 : 2;
	for (int i = 0; i < n; i++)
		p = g->mask ? PUTS(p, "某") : put_cjk(p, GIVEN_CHARS, g->ngiven, r);
	pp->name_len = (uint8_t)(p - pp->name);
}

static void foreign_name(gen_t *g, rng_t *r, person_t *pp)
{
	char *p = put_str(pp->name, FOREIGN_FIRST[rng_below(r, ARRLEN(FOREIGN_FIRST))]);
	p = PUTS(p, "·");
	p = g->mask ? PUTS(p, "某某")
	            : put_str(p, FOREIGN_LAST[rng_below(r, ARRLEN(FOREIGN_LAST))]);
	pp->name_len = (uint8_t)(p - pp->name);
}

static char *put_firm(gen_t *g, rng_t *r, char *p)
{
	if (g->mask)
		return PUTS(p, "某某");
	p = put_cjk(p, FIRM_CHARS, g->nfirm, r);
	return put_cjk(p, FIRM_CHARS, g->nfirm, r);
}

/* ------------------------------------------------------------------------
 * Parties.
 * ---------------------------------------------------------------------- */

/* A mainland area: mostly in the court's province, else anywhere. */
static unsigned area_near(gen_t *g, rng_t *r, unsigned court)
{
	unsigned prov = (unsigned)(COURTS[court].region[0] - '0') * 10 +
	                (unsigned)(COURTS[court].region[1] - '0');
	if (g->prov_n[prov] && rng_below(r, 100) < 60)
		return g->prov_areas[prov][rng_below(r, g->prov_n[prov])];
	return rng_below(r, NAREAS_MAINLAND);
}

/*
 * A new person: mainland resident (RIC, ~3% of them legacy 15-digit numbers
 * of people born before 2000, 5% with a passport), Hong Kong / Macao resident (RIC
 * of a residence permit + HKMO pass), Taiwan resident (RIC + TW pass), or
 * foreigner (FRP, half of them with a passport).
 */
static void person_new(gen_t *g, rng_t *r, unsigned court, int ymax, person_t *pp)
{
	unsigned kind = rng_below(r, 10000);
	pp->ndocs = 1;
	if (kind < 100) {                                   /* HK / Macao */
		bool hk = rng_below(r, 4) != 0;
		ric_issue(g, r, hk ? AREA_HK : AREA_MO, ymax, false, &pp->doc[0]);
		digits_doc(r, IDT_HKMO, hk ? "H" : "M", 8, &pp->doc[pp->ndocs++]);
		person_name(g, r, pp);
	} else if (kind < 150) {                            /* Taiwan */
		ric_issue(g, r, AREA_TW, ymax, false, &pp->doc[0]);
		digits_doc(r, IDT_TW, "", 8, &pp->doc[pp->ndocs++]);
		person_name(g, r, pp);
	} else if (kind < 180) {                            /* foreigner */
		/* old-format permanent residence card: nationality, 4-digit
		 * area, YYMMDD of birth, 2 digits */
		doc_t *d = &pp->doc[0];
		char *p = put_str(d->no, FRP_NATIONS[rng_below(r, ARRLEN(FRP_NATIONS))]);
		p = put(p, COURTS[court].region, 4);
		p = put_uw(p, (uint64_t)(birth_year(r, ymax) % 100), 2);
		p = put_uw(p, (uint64_t)rng_range(r, 1, 12), 2);
		p = put_uw(p, (uint64_t)rng_range(r, 1, 28), 2);
		p = put_uw(p, rng_below(r, 100), 2);
		*p = 0;
		d->type = IDT_FRP;
		d->len = (uint8_t)(p - d->no);
		if (rng_below(r, 2)) {
			/* a foreign passport: a letter other than E, 8 digits */
			static const char L[] = "ABCGKLNPSTXY";
			char pre[2] = { L[rng_below(r, sizeof(L) - 1)], 0 };
			digits_doc(r, IDT_PASSPORT, pre, 8, &pp->doc[pp->ndocs++]);
		}
		foreign_name(g, r, pp);
	} else {                                            /* mainland */
		bool legacy = rng_below(r, 1000) < 32;
		ric_issue(g, r, area_near(g, r, court), ymax, legacy, &pp->doc[0]);
		if (rng_below(r, 100) < 5)
			passport_issue(g, r, &pp->doc[pp->ndocs++]);
		person_name(g, r, pp);
	}
}

/* A plain mainland person with one RIC row (the tail of the file). */
static void person_plain(gen_t *g, rng_t *r, unsigned court, int ymax, person_t *pp)
{
	pp->ndocs = 1;
	ric_issue(g, r, area_near(g, r, court), ymax, false, &pp->doc[0]);
	person_name(g, r, pp);
}

/*
 * A new unit: an enterprise with a USCC (91 + area + organisation code),
 * now and then a farmers' cooperative (93) or a private school (52), or an
 * older unit known only by its 9-character organisation code.
 */
static void unit_new(gen_t *g, rng_t *r, unsigned court, int ymax, unit_t *u)
{
	int ca = g->court_area[court];
	unsigned area = ca >= 0 && rng_below(r, 100) < 75 ? (unsigned)ca
	                                                  : area_near(g, r, court);
	const char *place = AREAS[area].place;
	char org[9];
	char *p = u->name;
	unsigned form = rng_below(r, 100);

	if (rng_below(r, 100) < 85) {
		char a6[6];
		memcpy(a6, AREAS[area].code, 6);
		if (rng_below(r, 2))
			memcpy(a6 + 4, "00", 2);       /* registered at city level */
		org_issue(g, rng_below(r, 100) < 65, org);
		const char *kind = form < 94 ? "91" : form < 97 ? "93" : "52";
		uscc_make(kind, a6, org, &u->id);
		u->org_hyphen = false;
	} else {
		org_issue(g, false, org);
		memcpy(u->id.no, org, 9);
		u->id.no[9] = 0;
		u->id.len = 9;
		u->id.type = IDT_ORG;
		u->org_hyphen = rng_below(r, 100) < 30;
		form = rng_below(r, 94);               /* enterprises only */
	}

	if (form >= 97) {
		p = put_str(p, place);
		p = put_firm(g, r, p);
		p = put_str(p, SCHOOL_KINDS[rng_below(r, ARRLEN(SCHOOL_KINDS))]);
	} else if (form >= 94) {
		p = put_str(p, place);
		p = PUTS(p, "市");
		p = put_firm(g, r, p);
		p = put_str(p, COOP_KINDS[rng_below(r, ARRLEN(COOP_KINDS))]);
		p = PUTS(p, "专业合作社");
	} else {
		const char *ind = INDUSTRIES[rng_below(r, NINDUSTRIES)];
		unsigned style = rng_below(r, 100);
		if (style < 8) {                         /* 鑫隆（福州）贸易有限公司 */
			p = put_firm(g, r, p);
			p = PUTS(p, "（");
			p = put_str(p, place);
			p = PUTS(p, "）");
		} else {
			p = put_str(p, place);
			if (style < 25)
				p = PUTS(p, "市");
			p = put_firm(g, r, p);
		}
		p = put_str(p, ind);
		if (style >= 95)
			p = PUTS(p, "股份有限公司");
		else if (style >= 92)
			p = PUTS(p, "合伙企业（有限合伙）");
		else if (style >= 80)
			p = PUTS(p, "有限责任公司");
		else
			p = PUTS(p, "有限公司");
	}
	u->name_len = (uint8_t)(p - u->name);
	person_new(g, r, court, ymax, &u->rep);
}

/* ------------------------------------------------------------------------
 * Cases.
 * ---------------------------------------------------------------------- */

static int pick_status(rng_t *r)
{
	unsigned v = rng_below(r, 100);
	return v < 90 ? ST_ACTIVE : v < 94 ? ST_SUSPENDED : v < 97 ? ST_REVOKED
	                                                          : ST_SHIELDED;
}

/* Days ago, skewed to the recent past (the minimum of two uniforms). */
static int32_t recent(rng_t *r, uint32_t span)
{
	uint32_t a = rng_below(r, span), b = rng_below(r, span);
	return (int32_t)(a < b ? a : b);
}

/* A listing with a term of `years`: in force today (listed within the
 * term) or, for a few, already expired. */
static void termed(gen_t *g, rng_t *r, case_t *c, int years)
{
	int32_t lo = add_years(g->asof, -years) + 1;
	if (rng_below(r, 100) < 8)
		c->listed = lo - 1 - (int32_t)rng_below(r, 365);
	else
		c->listed = lo + (int32_t)rng_below(r, (uint32_t)(g->asof - lo + 1));
	c->expires = add_years(c->listed, years) - 1;
}

static void case_dates(gen_t *g, rng_t *r, case_t *c)
{
	const uint32_t span = 6 * 365;
	c->expires = NO_DAY;
	if (c->list == LIST_SX) {
		/* 失信: two years as a rule, extended for serious cases, and some
		 * with no end until the debt is paid */
		if (rng_below(r, 100) < 10) {
			c->listed = g->asof - recent(r, span);
		} else {
			unsigned t = rng_below(r, 100);
			termed(g, r, c, t < 75 ? 2 : t < 87 ? 3 : t < 94 ? 4 : 5);
		}
	} else {
		/* 限制消费令: in force until lifted, as a rule */
		if (rng_below(r, 100) < 88)
			c->listed = g->asof - recent(r, span);
		else
			termed(g, r, c, rng_range(r, 1, 3));
	}
	if (rng_below(r, 1000) < 5) {
		/* published ahead of its first day in force */
		int32_t len = c->expires == NO_DAY ? 0 : c->expires - c->listed;
		c->listed = g->asof + 1 + (int32_t)rng_below(r, 30);
		if (c->expires != NO_DAY)
			c->expires = c->listed + len;
	}
}

/* （2023）闽0102执1234号: the filing year, province, court code, 执 (or 执恢
 * for a resumed enforcement) and a number unique per (court, year, kind). */
static void case_number(gen_t *g, rng_t *r, case_t *c)
{
	const court_t *ct = &COURTS[c->court];
	uint32_t lag = rng_below(r, 100);
	lag = lag < 70 ? (uint32_t)rng_range(r, 20, 365)
	    : lag < 90 ? (uint32_t)rng_range(r, 366, 1095)
	               : (uint32_t)rng_range(r, 1096, 3650);
	/* filed before listing, and before today for cases listed ahead */
	int32_t last = c->listed < g->asof ? c->listed : g->asof;
	int year = year_of(last - (int32_t)lag);
	if (year < 2015) {
		/* old cases show up as 2015-2017 ones, never after the listing */
		int ly = year_of(last);
		year = 2015 + (int)rng_below(r, 3);
		if (year > ly)
			year = ly;
	}
	int kind = rng_below(r, 100) < 8;
	uint32_t *next = &g->cno_next[c->court][year - CNO_Y0][kind];
	if (*next == 0)
		*next = 1 + rng_below(r, 300);
	uint32_t num = *next;
	*next += 1 + rng_below(r, 4);

	bool half = rng_below(r, 100) < 10;
	char *p = c->cno;
	p = half ? PUTS(p, "(") : PUTS(p, "（");
	p = put_uw(p, (uint64_t)year, 4);
	p = half ? PUTS(p, ")") : PUTS(p, "）");
	p = put_str(p, ct->abbr);
	p = put_str(p, ct->code);
	p = kind ? PUTS(p, "执恢") : PUTS(p, "执");
	p = put_u(p, num);
	p = PUTS(p, "号");
	c->cno_len = (uint8_t)(p - c->cno);
}

static uint16_t random_codes(rng_t *r)
{
	uint16_t m = 0;
	while (!m)
		for (int i = 0; i < NCODES; i++)
			if (rng_below(r, 2))
				m |= (uint16_t)(1u << i);
	return m;
}

static size_t format_codes(char *out, uint16_t mask, bool lower)
{
	char *p = out;
	for (int i = 0; i < NCODES; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (p != out)
			*p++ = ';';
		for (const char *s = CODES[i]; *s; s++)
			*p++ = lower ? (char)(*s - 'A' + 'a') : *s;
	}
	return (size_t)(p - out);
}

/* Empty (all codes) for most; otherwise the usual sets or any subset. */
static void case_restrictions(rng_t *r, case_t *c)
{
	if (rng_below(r, 100) < 70) {
		c->codes = ALL_CODES;
		c->restr_len = 0;
		return;
	}
	unsigned v = rng_below(r, 100);
	uint16_t m = v < 35 ? C_AIR | C_RAIL
	           : v < 60 ? C_AIR | C_RAIL | C_HOTEL
	           : v < 70 ? C_AIR | C_RAIL | C_SHIP
	           : v < 80 ? C_AIR | C_RAIL | C_HOTEL | C_VENUE | C_TRAVEL
	           : v < 82 ? ALL_CODES
	                    : random_codes(r);
	c->codes = m;
	c->restr_len = (uint8_t)format_codes(c->restr, m, rng_below(r, 100) < 3);
}

static void case_new(gen_t *g, case_t *c)
{
	rng_t *r = &g->rl;
	c->court = (uint16_t)wpick(&g->court_wt, r);
	c->list = rng_below(r, 100) < 70 ? LIST_SX : LIST_XG;
	c->status = (uint8_t)pick_status(r);
	case_dates(g, r, c);
	case_number(g, r, c);
	case_restrictions(r, c);
}

/* ------------------------------------------------------------------------
 * Rows.
 * ---------------------------------------------------------------------- */

enum { BAD_NONE, BAD_STATUS, BAD_DATE, BAD_ID, BAD_LIST, BAD_CODE,
       BAD_ORDER, BAD_EMPTY, BAD_PIPE, BAD_ROLE, BAD_N };

static void hits_add(gen_t *g, const doc_t *d)
{
	if (!g->hits_cap)
		return;
	uint64_t i = g->hits_seen++;
	if (i < g->hits_cap) {
		g->hits[g->hits_n++] = *d;
	} else {
		uint64_t j = rng_below64(&g->rh, i + 1);
		if (j < g->hits_cap)
			g->hits[j] = *d;
	}
}

/* Rows a permit can be given for: a person's, applying on the as-of day. */
static void permit_candidate(gen_t *g, const case_t *c, const doc_t *d, int status)
{
	permit_src_t *e;
	if (!g->psrc_cap || d->type == IDT_USCC || d->type == IDT_ORG)
		return;
	if (!g->pfallback_set) {
		/* the first person row of all, for a list where none applies */
		e = &g->pfallback;
		g->pfallback_set = true;
		goto store;
	}
	if (status != ST_ACTIVE && status != ST_SUSPENDED)
		return;
	if (c->listed > g->asof || (c->expires != NO_DAY && c->expires < g->asof))
		return;
	uint64_t i = g->psrc_seen++, j = i;
	if (i >= g->psrc_cap) {
		j = rng_below64(&g->rp, i + 1);
		if (j >= g->psrc_cap)
			return;
	} else {
		g->psrc_n++;
	}
	e = &g->psrc[j];
store:
	e->d = *d;
	e->codes = c->codes;
	e->cno_len = c->cno_len;
	memcpy(e->cno, c->cno, c->cno_len);
}

/* A malformed version of an ID, for --bad-rate. */
static size_t corrupt_id(rng_t *r, const doc_t *d, char *out)
{
	memcpy(out, d->no, d->len);
	size_t n = d->len;
	switch (d->type) {
	case IDT_RIC:
		switch (rng_below(r, 3)) {
		case 0: return n - 1;                             /* a digit short */
		case 1: out[n - 4] = 'A'; return n;               /* a letter */
		default:                                          /* month 13 */
			out[n == 18 ? 10 : 8] = '1';
			out[n == 18 ? 11 : 9] = '3';
			return n;
		}
	case IDT_USCC:
		out[5] = 'I';                    /* outside the USCC alphabet */
		return n;
	case IDT_ORG:
		return 7;                        /* too short */
	default:
		out[n - 1] = '#';
		return n;
	}
}

/*
 * Write one row of case c.  With --bad-rate a row may be broken on purpose
 * (it must be rejected), with --typo-rate an 18-digit RIC gets a wrong
 * check character (loaded with a warning, and still matched).  Defect
 * draws use their own stream, so the list around them stays the same.
 */
static void emit_row(gen_t *g, const case_t *c, int role, const doc_t *d,
                     bool org_hyphen, const char *name, size_t name_len,
                     int status)
{
	rng_t *rd = &g->rd;
	const court_t *ct = &COURTS[c->court];
	int bad = BAD_NONE;
	bool typo = false;
	char idbuf[32];
	const char *id = d->no;
	size_t id_len = d->len;

	if (g->bad_ppm && rng_ppm(rd, g->bad_ppm))
		bad = 1 + (int)rng_below(rd, BAD_N - 1);
	else if (g->typo_ppm && d->type == IDT_RIC && d->len == 18 &&
	         rng_ppm(rd, g->typo_ppm))
		typo = true;

	if (d->type == IDT_ORG && org_hyphen) {
		memcpy(idbuf, d->no, 8);
		idbuf[8] = '-';
		idbuf[9] = d->no[8];
		id = idbuf;
		id_len = 10;
	}
	if (typo) {
		memcpy(idbuf, d->no, 18);
		const char *q = strchr(RIC_CHECKS, d->no[17]);
		idbuf[17] = RIC_CHECKS[((size_t)(q - RIC_CHECKS) + 1 + rng_below(rd, 10)) % 11];
		id = idbuf;
		g->typo_rows++;
	}
	if (bad == BAD_ID) {
		id_len = corrupt_id(rd, d, idbuf);
		id = idbuf;
	}

	char *p = out_ptr(&g->list_out);
	p = put(p, c->cno, c->cno_len);
	*p++ = ',';
	if (bad == BAD_PIPE) {
		/* "XX市XX区|人民法院": split before the last five characters */
		size_t n = strlen(ct->name);
		p = put(p, ct->name, n - 15);
		*p++ = '|';
		p = put(p, ct->name + n - 15, 15);
	} else {
		p = put_str(p, ct->name);
	}
	*p++ = ',';
	p = bad == BAD_LIST ? PUTS(p, "ZX") : put(p, LIST_NAME[c->list], 2);
	*p++ = ',';
	p = put_str(p, bad == BAD_ROLE ? "guarantor" : ROLE_NAME[role]);
	*p++ = ',';
	p = put_str(p, IDT_NAME[d->type]);
	*p++ = ',';
	p = put(p, id, id_len);
	*p++ = ',';
	if (bad != BAD_EMPTY)
		p = put(p, name, name_len);
	*p++ = ',';
	p = put_str(p, bad == BAD_STATUS ? "pending" : STATUS_NAME[status]);
	*p++ = ',';
	if (bad == BAD_DATE) {
		int y, m, dd;
		civil_from_days(c->listed, &y, &m, &dd);
		p = put_uw(p, (uint64_t)y, 4);
		p = rng_below(rd, 2) ? PUTS(p, "-02-30") : PUTS(p, "-13-01");
	} else {
		p = put_date(p, c->listed);
	}
	*p++ = ',';
	if (bad == BAD_ORDER)
		p = put_date(p, c->listed - 1 - (int32_t)rng_below(rd, 60));
	else if (c->expires != NO_DAY)
		p = put_date(p, c->expires);
	*p++ = ',';
	if (bad == BAD_CODE)
		p = PUTS(p, "AIR;YACHT");
	else
		p = put(p, c->restr, c->restr_len);
	*p++ = ',';
	p = put(p, ct->region, 6);
	*p++ = '\n';
	out_commit(&g->list_out, p);
	g->rows++;

	if (bad) {
		g->bad_rows++;
		return;
	}
	hits_add(g, d);
	permit_candidate(g, c, d, status);
}

/* Within a unit's case a row now and then has its own status (one person
 * shielded while the unit stays listed, and so on). */
static int row_status(gen_t *g, const case_t *c)
{
	return rng_below(&g->rl, 100) < 2 ? pick_status(&g->rl) : c->status;
}

static void emit_person(gen_t *g, const case_t *c, int role, const person_t *pp,
                        int status)
{
	for (unsigned i = 0; i < pp->ndocs; i++)
		emit_row(g, c, role, &pp->doc[i], false, pp->name, pp->name_len, status);
}

static void emit_unit_case(gen_t *g, const case_t *c, const unit_t *u, int ymax)
{
	rng_t *r = &g->rl;
	person_t extra;
	emit_row(g, c, ROLE_DEBTOR, &u->id, u->org_hyphen, u->name, u->name_len,
	         c->status);
	emit_person(g, c, ROLE_LEGAL_REP, &u->rep, row_status(g, c));
	if (rng_below(r, 100) < 10) {
		person_new(g, r, c->court, ymax, &extra);
		emit_person(g, c, ROLE_PRINCIPAL, &extra, row_status(g, c));
	}
	if (rng_below(r, 100) < 25) {
		/* often the legal representative controls the unit too: the
		 * same ID in two roles of one case, two records */
		if (rng_below(r, 100) < 40) {
			emit_person(g, c, ROLE_CONTROLLER, &u->rep, row_status(g, c));
		} else {
			person_new(g, r, c->court, ymax, &extra);
			emit_person(g, c, ROLE_CONTROLLER, &extra, row_status(g, c));
		}
	}
	if (rng_below(r, 100) < 15) {
		int n = rng_below(r, 100) < 30 ? 2 : 1;
		for (int i = 0; i < n; i++) {
			person_new(g, r, c->court, ymax, &extra);
			emit_person(g, c, ROLE_RESPONSIBLE, &extra, row_status(g, c));
		}
	}
}

/* Keep a new debtor for 1-3 more cases later on (~10% of debtors). */
static void pool_maybe_add(gen_t *g, bool is_unit, const person_t *pp,
                           const unit_t *u)
{
	rng_t *r = &g->rl;
	if (rng_below(r, 100) >= 10 || g->pool_n >= POOL_CAP)
		return;
	pooled_t *e = &g->pool[g->pool_n++];
	e->is_unit = is_unit;
	e->left = (uint8_t)rng_range(r, 1, 3);
	if (is_unit)
		e->u = *u;
	else
		e->p = *pp;
}

static void progress(gen_t *g, uint64_t *next_report)
{
	if (g->rows < *next_report)
		return;
	if (!g->quiet)
		fprintf(stderr, PROG ": %" PRIu64 " of %" PRIu64 " rows (%u%%)\n",
		        g->rows, g->records, (unsigned)(g->rows * 100 / g->records));
	*next_report += 1000000;
}

static void generate_list(gen_t *g)
{
	rng_t *r = &g->rl;
	uint64_t next_report = g->records >= 2000000 ? 1000000 : UINT64_MAX;
	char *p = out_ptr(&g->list_out);
	p = PUTS(p, "case_no,court,list,role,id_type,id_no,name,status,listed_on,"
	            "expires_on,restrictions,region\n");
	out_commit(&g->list_out, p);

	while (g->rows < g->records) {
		case_t c;
		case_new(g, &c);
		g->cases++;
		int ymax = year_of(c.listed) - 18;
		if (ymax > BIRTH_Y1)
			ymax = BIRTH_Y1;

		if (g->records - g->rows < TAIL_ROWS) {
			person_t pp;
			person_plain(g, r, c.court, ymax, &pp);
			emit_person(g, &c, ROLE_DEBTOR, &pp, c.status);
		} else if (rng_below(r, POOL_CAP) < g->pool_n) {
			/* a debtor we met before, in another case.  Drawing with
			 * probability pool_n / POOL_CAP settles the pool at ~1/6
			 * full, so a debtor's cases are spread over thousands of
			 * other cases, and a full pool always gives one back. */
			unsigned k = rng_below(r, g->pool_n);
			pooled_t *e = &g->pool[k];
			g->repeat_cases++;
			if (e->is_unit) {
				g->unit_cases++;
				emit_unit_case(g, &c, &e->u, ymax);
			} else {
				emit_person(g, &c, ROLE_DEBTOR, &e->p, c.status);
			}
			if (--e->left == 0)
				*e = g->pool[--g->pool_n];
		} else if (rng_below(r, 100) < 15) {
			unit_t u;
			unit_new(g, r, c.court, ymax, &u);
			g->unit_cases++;
			emit_unit_case(g, &c, &u, ymax);
			pool_maybe_add(g, true, NULL, &u);
		} else {
			person_t pp;
			person_new(g, r, c.court, ymax, &pp);
			emit_person(g, &c, ROLE_DEBTOR, &pp, c.status);
			pool_maybe_add(g, false, &pp, NULL);
		}
		progress(g, &next_report);
	}
}

/* ------------------------------------------------------------------------
 * Permits.
 * ---------------------------------------------------------------------- */

/* The same case number with the other kind of brackets. */
static size_t swap_brackets(const char *in, size_t n, char *out)
{
	char *p = out;
	for (size_t i = 0; i < n;) {
		if (in[i] == '(') {
			p = PUTS(p, "（"); i++;
		} else if (in[i] == ')') {
			p = PUTS(p, "）"); i++;
		} else if (i + 3 <= n && memcmp(in + i, "（", 3) == 0) {
			*p++ = '('; i += 3;
		} else if (i + 3 <= n && memcmp(in + i, "）", 3) == 0) {
			*p++ = ')'; i += 3;
		} else {
			*p++ = in[i++];
		}
	}
	return (size_t)(p - out);
}

/*
 * One permit per selected listed person's row: its own case, codes the
 * case restricts (mostly flights or trains: a trip for medical treatment),
 * a window of days to weeks around the as-of day - most cover it, some are
 * over, some still to come.
 */
static void write_permits(gen_t *g)
{
	rng_t *r = &g->rp;
	out_t *o = &g->permits_out;
	char *p = out_ptr(o);
	p = PUTS(p, "id_type,id_no,case_no,codes,valid_from,valid_to,permit_ref\n");
	out_commit(o, p);
	if (!g->psrc_n && g->pfallback_set) {
		g->psrc[0] = g->pfallback;
		g->psrc_n = 1;
	}

	for (uint64_t i = 0; i < g->psrc_n; i++) {
		const permit_src_t *e = &g->psrc[i];
		char buf[128];
		unsigned v = rng_below(r, 100);
		uint16_t want = v < 40 ? C_AIR : v < 60 ? C_RAIL : v < 75 ? C_AIR | C_RAIL
		              : v < 85 ? C_HOTEL : v < 90 ? C_TRAVEL : random_codes(r);
		uint16_t codes = want & e->codes;
		if (!codes)
			codes = (uint16_t)(e->codes & -e->codes);   /* lowest code */

		int32_t from, to;
		v = rng_below(r, 100);
		if (v < 75) {
			from = g->asof - (int32_t)rng_below(r, 15);
			to = g->asof + (int32_t)rng_below(r, 31);
		} else if (v < 90) {
			to = g->asof - 1 - (int32_t)rng_below(r, 30);
			from = to - 1 - (int32_t)rng_below(r, 20);
		} else {
			from = g->asof + 1 + (int32_t)rng_below(r, 20);
			to = from + 1 + (int32_t)rng_below(r, 30);
		}

		p = out_ptr(o);
		p = put_str(p, IDT_NAME[e->d.type]);
		*p++ = ',';
		if (e->d.type == IDT_RIC && e->d.len == 15 && rng_below(r, 2)) {
			ric_upgrade(e->d.no, buf);
			p = put(p, buf, 18);
		} else {
			p = put(p, e->d.no, e->d.len);
		}
		*p++ = ',';
		if (rng_below(r, 100) < 20)
			p = put(p, buf, swap_brackets(e->cno, e->cno_len, buf));
		else
			p = put(p, e->cno, e->cno_len);
		*p++ = ',';
		p = put(p, buf, format_codes(buf, codes, false));
		*p++ = ',';
		p = put_date(p, from);
		*p++ = ',';
		p = put_date(p, to);
		*p++ = ',';
		p = PUTS(p, "准许-");
		p = put_uw(p, (uint64_t)year_of(from), 4);
		*p++ = '-';
		p = put_uw(p, i + 1, 6);
		*p++ = '\n';
		out_commit(o, p);
	}
}

/* ------------------------------------------------------------------------
 * Queries.
 * ---------------------------------------------------------------------- */

typedef struct { const char *word, *letter; } seat_t;
enum { SEAT_BUSINESS, SEAT_PREMIUM, SEAT_FIRST, SEAT_SECOND, SEAT_DELUXE,
       SEAT_SOFT_SLEEPER, SEAT_EMU_SLEEPER, SEAT_HARD_SLEEPER, SEAT_SOFT_SEAT,
       SEAT_HARD_SEAT, SEAT_STANDING };
static const seat_t SEATS[] = {
	{ "business", "9" }, { "premium", "P" }, { "first", "M" },
	{ "second", "O" }, { "deluxe_soft_sleeper", "6" },
	{ "soft_sleeper", "4" }, { "emu_sleeper", "F" },
	{ "hard_sleeper", "3" }, { "soft_seat", "2" }, { "hard_seat", "1" },
	{ "standing", NULL },
};

/* The seats sold on each kind of train, in percent. */
static int pick_seat(rng_t *r, char train)
{
	unsigned v = rng_below(r, 100);
	switch (train) {
	case 'G':
		return v < 75 ? SEAT_SECOND : v < 90 ? SEAT_FIRST : v < 95 ? SEAT_BUSINESS
		     : v < 97 ? SEAT_PREMIUM : SEAT_STANDING;
	case 'D':
		return v < 70 ? SEAT_SECOND : v < 85 ? SEAT_FIRST : v < 90 ? SEAT_EMU_SLEEPER
		     : v < 93 ? SEAT_BUSINESS : SEAT_STANDING;
	case 'C': case 'S':
		return v < 78 ? SEAT_SECOND : v < 92 ? SEAT_FIRST : v < 94 ? SEAT_BUSINESS
		     : SEAT_STANDING;
	default:
		return v < 40 ? SEAT_HARD_SEAT : v < 75 ? SEAT_HARD_SLEEPER
		     : v < 87 ? SEAT_SOFT_SLEEPER : v < 95 ? SEAT_STANDING
		     : v < 98 ? SEAT_SOFT_SEAT : SEAT_DELUXE;
	}
}

/* Writes "channel\tclass" for one query, in the mix of real traffic. */
static char *put_channel_class(rng_t *r, char *p)
{
	unsigned v = rng_below(r, 1000);
	if (v < 500) {                                          /* rail */
		unsigned t = rng_below(r, 1000);
		char train = t < 450 ? 'G' : t < 700 ? 'D' : t < 750 ? 'C'
		           : t < 870 ? 'K' : t < 920 ? 'T' : t < 970 ? 'Z'
		           : t < 975 ? 'S' : 0;
		uint32_t num = train == 'T' || train == 'Z' ? (uint32_t)rng_range(r, 1, 399)
		             : train == 'S' ? (uint32_t)rng_range(r, 1, 999)
		             : train == 0 ? (uint32_t)rng_range(r, 1001, 8999)
		                          : (uint32_t)rng_range(r, 1, 9999);
		const seat_t *s = &SEATS[pick_seat(r, train)];
		p = PUTS(p, "rail\t");
		if (train)
			*p++ = train;
		p = put_u(p, num);
		*p++ = ':';
		if (s->letter && rng_below(r, 100) < 3)
			p = put_str(p, s->letter);          /* 12306 seat letter */
		else
			p = put_str(p, s->word);
		return p;
	}
	if (v < 750)
		return PUTS(p, "air\t-");
	if (v < 950) {                                          /* hotel stars */
		unsigned h = rng_below(r, 100);
		char star = h < 30 ? '0' : h < 35 ? '1' : h < 50 ? '2' : h < 75 ? '3'
		          : h < 92 ? '4' : '5';
		p = PUTS(p, "hotel\t");
		*p++ = star;
		return p;
	}
	if (v < 965) {
		static const char *const SHIP[] = { "special", "first", "second",
		                                    "third", "fourth" };
		unsigned s = rng_below(r, 100);
		unsigned k = s < 5 ? 0 : s < 25 ? 1 : s < 60 ? 2 : s < 90 ? 3 : 4;
		p = PUTS(p, "ship\t");
		if (rng_below(r, 100) < 10)
			*p++ = (char)('0' + k);
		else
			p = put_str(p, SHIP[k]);
		return p;
	}
	static const char *const OTHER[] = {
		"venue\t-", "venue\t-", "travel\t-", "travel\t-", "travel\t-",
		"property\t-", "vehicle\t-", "insurance\t-", "school\t-", "office\t-",
	};
	return put_str(p, OTHER[rng_below(r, ARRLEN(OTHER))]);
}

/* A fresh ID that is on no list row: drawn from the same counters the list
 * used, after it, so it cannot collide. */
static void fresh_id(gen_t *g, rng_t *r, doc_t *d)
{
	unsigned v = rng_below(r, 100);
	char org[9];
	if (v < 92) {
		ric_issue(g, r, rng_below(r, NAREAS_MAINLAND), BIRTH_Y1, false, d);
	} else if (v < 95) {
		org_issue(g, true, org);
		uscc_make("91", AREAS[rng_below(r, NAREAS_MAINLAND)].code, org, d);
	} else if (v < 96) {
		org_issue(g, false, org);
		memcpy(d->no, org, 9);
		d->no[9] = 0;
		d->len = 9;
		d->type = IDT_ORG;
	} else {
		passport_issue(g, r, d);
	}
}

/* How a listed ID is asked about: legacy RICs mostly by their 18-digit
 * upgrade, a unit sometimes by the organisation code inside its USCC (or a
 * USCC around its ORG), and now and then the way people type it. */
static char *put_query_id(rng_t *r, const doc_t *d, char *p, int *type)
{
	char buf[24];
	*type = d->type;
	switch (d->type) {
	case IDT_RIC:
		if (d->len == 15 && rng_below(r, 100) < 70) {
			ric_upgrade(d->no, buf);
			p = put(p, buf, 18);
		} else {
			p = put(p, d->no, d->len);
		}
		if (p[-1] == 'X' && rng_below(r, 100) < 2)
			p[-1] = 'x';
		return p;
	case IDT_USCC:
		if (rng_below(r, 100) < 10) {
			*type = IDT_ORG;
			return put(p, d->no + 8, 9);
		}
		return put(p, d->no, 18);
	case IDT_ORG:
		if (rng_below(r, 100) < 20) {
			doc_t u;
			uscc_make("91", AREAS[rng_below(r, NAREAS_MAINLAND)].code, d->no, &u);
			*type = IDT_USCC;
			return put(p, u.no, 18);
		}
		if (rng_below(r, 100) < 15) {
			p = put(p, d->no, 8);
			*p++ = '-';
			*p++ = d->no[8];
			return p;
		}
		return put(p, d->no, 9);
	default:
		return put(p, d->no, d->len);
	}
}

static void write_queries(gen_t *g)
{
	rng_t *r = &g->rq;
	out_t *o = &g->queries_out;
	char day[10];
	put_date(day, g->asof);
	uint64_t hits_left = g->hits_n ? g->hits_wanted : 0;
	uint64_t next_report = g->queries >= 2000000 ? 1000000 : UINT64_MAX;

	for (uint64_t i = 0; i < g->queries; i++) {
		uint64_t left = g->queries - i;
		doc_t fresh;
		int type;
		char *p = out_ptr(o);
		/* exactly hits_wanted hits, at random positions */
		if (hits_left && rng_below64(r, left) < hits_left) {
			hits_left--;
			g->q_hits++;
			p = put_query_id(r, &g->hits[rng_below64(r, g->hits_n)], p, &type);
		} else {
			fresh_id(g, r, &fresh);
			type = fresh.type;
			p = put(p, fresh.no, fresh.len);
		}
		*p++ = '\t';
		p = put_str(p, IDT_NAME[type]);
		*p++ = '\t';
		p = put_channel_class(r, p);
		*p++ = '\t';
		p = put(p, day, 10);
		*p++ = '\n';
		out_commit(o, p);
		if (i + 1 >= next_report) {
			if (!g->quiet)
				fprintf(stderr, PROG ": %" PRIu64 " of %" PRIu64 " queries\n",
				        i + 1, g->queries);
			next_report += 1000000;
		}
	}
}

/* ------------------------------------------------------------------------
 * Setup.
 * ---------------------------------------------------------------------- */

__attribute__((cold))
static void gen_init(gen_t *g)
{
	static unsigned w[NSURNAMES > NCOURTS ? NSURNAMES : NCOURTS];

	memset(uscc_val, -1, sizeof(uscc_val));
	for (int i = 0; USCC_ALPHA[i]; i++)
		uscc_val[(unsigned char)USCC_ALPHA[i]] = (int8_t)i;

	rng_seed(&g->rl, g->seed, RS_LIST);
	rng_seed(&g->rd, g->seed, RS_DEFECT);
	rng_seed(&g->rh, g->seed, RS_HITS);
	rng_seed(&g->rp, g->seed, RS_PERMIT);
	rng_seed(&g->rq, g->seed, RS_QUERY);
	rng_t salt;
	rng_seed(&salt, g->seed, RS_SALT);
	g->seq_salt = (uint32_t)rng_next(&salt);
	g->org_old_b = rng_next(&salt) % 100000000ULL;
	g->org_new_b = rng_next(&salt) % 887503681ULL;
	g->pass_b = rng_next(&salt) % 100000000ULL;
	g->pass2_b = rng_next(&salt) % 240000000ULL;

	g->day0 = days_from_civil(BIRTH_Y0, 1, 1);
	g->ndays = (uint32_t)(days_from_civil(BIRTH_Y1 + 1, 1, 1) - g->day0);
	g->slot = calloc((size_t)NAREAS * g->ndays, sizeof(*g->slot));
	g->cno_next = calloc(NCOURTS, sizeof(*g->cno_next));
	g->pool = calloc(POOL_CAP, sizeof(*g->pool));
	if (!g->slot || !g->cno_next || !g->pool)
		die_io("out of memory");

	for (size_t i = 0; i < NCOURTS; i++)
		w[i] = COURTS[i].weight;
	wtab_build(&g->court_wt, w, NCOURTS);
	for (size_t i = 0; i < NSURNAMES; i++)
		w[i] = i < NSURNAMES - 4 ? 10000 / (unsigned)(i + 4) : 20;
	wtab_build(&g->surname_wt, w, NSURNAMES);

	for (size_t a = 0; a < NAREAS_MAINLAND; a++) {
		unsigned prov = (unsigned)(AREAS[a].code[0] - '0') * 10 +
		                (unsigned)(AREAS[a].code[1] - '0');
		if (g->prov_n[prov] < ARRLEN(g->prov_areas[prov]))
			g->prov_areas[prov][g->prov_n[prov]++] = (uint16_t)a;
	}
	for (size_t c = 0; c < NCOURTS; c++) {
		g->court_area[c] = -1;
		for (size_t a = 0; a < NAREAS_MAINLAND; a++)
			if (memcmp(AREAS[a].code, COURTS[c].region, 6) == 0)
				g->court_area[c] = (int16_t)a;
	}
	g->ngiven = (sizeof(GIVEN_CHARS) - 1) / 3;
	g->nfirm = (sizeof(FIRM_CHARS) - 1) / 3;

	if (g->queries_path && g->hits_wanted) {
		g->hits_cap = g->records < HIT_SAMPLE_MAX ? g->records : HIT_SAMPLE_MAX;
		if (g->hits_cap && !(g->hits = malloc(g->hits_cap * sizeof(*g->hits))))
			die_io("out of memory for the query sample");
	}
	if (g->permits_path) {
		g->psrc_cap = g->records / 10000 ? g->records / 10000 : 1;
		if (!(g->psrc = malloc(g->psrc_cap * sizeof(*g->psrc))))
			die_io("out of memory for permits");
	}
}

/* ------------------------------------------------------------------------
 * Command line.
 * ---------------------------------------------------------------------- */

static const char USAGE[] =
"Usage: sxgate-gen --records N --seed S --output LIST.csv [options]\n"
"\n"
"Writes a synthetic, realistic list CSV (SPEC section 2) of exactly N data\n"
"rows, and optionally court permits and a stream of queries.  The same seed\n"
"and arguments always give byte-identical files; the list does not change\n"
"when permits or queries are added, and --bad-rate/--typo-rate put defects\n"
"into the same list.\n"
"\n"
"  --records N            data rows in the list (0 to 500000000)\n"
"  --seed S               seed, decimal or 0x-hex, 0 to 2^64-1\n"
"  --output FILE          the list CSV ('-' for standard output)\n"
"  --permits-output FILE  permits CSV: about one per 10000 rows (at least\n"
"                         one), for listed persons' own cases\n"
"  --queries M            queries to write (needs --queries-output)\n"
"  --hit-rate R           fraction of queries whose ID is on the list, any\n"
"                         status, 0 to 1 (default 0.5); the others are valid\n"
"                         IDs that are on no row\n"
"  --queries-output FILE  queries, one a line: ID TAB type TAB channel TAB\n"
"                         class ('-' when none) TAB day\n"
"  --as-of YYYY-MM-DD     the day the list is current: listing dates, permit\n"
"                         windows and the queries' day follow it (default\n"
"                         2026-01-10)\n"
"  --bad-rate R           fraction of rows broken on purpose so the loader\n"
"                         must reject them (unknown status or code,\n"
"                         impossible date, malformed ID, ...), default 0\n"
"  --typo-rate R          fraction of 18-digit RIC rows with a wrong check\n"
"                         character (loaded with a warning), default 0\n"
"  --mask-names           mask names as published lists do (张某某,\n"
"                         福州某某建设工程有限公司)\n"
"  --quiet                no progress or summary on standard error\n"
"  --help                 this text\n"
"\n"
"Exit status: 0 done, 1 usage error, 2 an output could not be written.\n";

enum { OPT_RECORDS = 256, OPT_SEED, OPT_OUTPUT, OPT_PERMITS, OPT_QUERIES,
       OPT_HITRATE, OPT_QOUT, OPT_ASOF, OPT_BAD, OPT_TYPO, OPT_MASK,
       OPT_QUIET, OPT_HELP };

static const struct option LONGOPTS[] = {
	{ "records",         required_argument, NULL, OPT_RECORDS },
	{ "seed",            required_argument, NULL, OPT_SEED },
	{ "output",          required_argument, NULL, OPT_OUTPUT },
	{ "permits-output",  required_argument, NULL, OPT_PERMITS },
	{ "queries",         required_argument, NULL, OPT_QUERIES },
	{ "hit-rate",        required_argument, NULL, OPT_HITRATE },
	{ "queries-output",  required_argument, NULL, OPT_QOUT },
	{ "as-of",           required_argument, NULL, OPT_ASOF },
	{ "bad-rate",        required_argument, NULL, OPT_BAD },
	{ "typo-rate",       required_argument, NULL, OPT_TYPO },
	{ "mask-names",      no_argument,       NULL, OPT_MASK },
	{ "quiet",           no_argument,       NULL, OPT_QUIET },
	{ "help",            no_argument,       NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

__attribute__((cold, noreturn, format(printf, 1, 2)))
static void usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
	exit(1);
}

static const char *opt_name(int val)
{
	for (const struct option *o = LONGOPTS; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

static uint64_t parse_count(const char *flag, const char *s, uint64_t max)
{
	char *end;
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		usage_error("--%s: '%s' is not a non-negative whole number", flag, s);
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || errno)
		usage_error("--%s: '%s' is not a non-negative whole number", flag, s);
	if (v > max)
		usage_error("--%s: %s is more than the limit, %" PRIu64, flag, s, max);
	return v;
}

static uint64_t parse_seed(const char *s)
{
	char *end;
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		usage_error("--seed: '%s' is not a number from 0 to 2^64-1", s);
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (*end || errno)
		usage_error("--seed: '%s' is not a number from 0 to 2^64-1", s);
	return v;
}

static double parse_rate(const char *flag, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (!*s || *end || errno || !(v >= 0.0 && v <= 1.0))
		usage_error("--%s: '%s' is not a fraction from 0 to 1", flag, s);
	return v;
}

static int32_t parse_day(const char *flag, const char *s)
{
	int y, m, d;
	char tail;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
	    m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		usage_error("--%s: '%s' is not a date YYYY-MM-DD", flag, s);
	if (y < 2016 || y > 2098)
		usage_error("--%s: %s is outside 2016..2098", flag, s);
	return days_from_civil(y, m, d);
}

static uint32_t to_ppm(double rate)
{
	return (uint32_t)(rate * 1e6 + 0.5);
}

static void parse_args(gen_t *g, int argc, char **argv)
{
	bool have_records = false, have_seed = false, have_hit = false;
	bool have_queries = false;
	double hit_rate = 0.5;
	g->asof = days_from_civil(2026, 1, 10);

	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, ":", LONGOPTS, NULL);
		if (c == -1)
			break;
		switch (c) {
		case OPT_RECORDS:
			g->records = parse_count("records", optarg, MAX_RECORDS);
			have_records = true;
			break;
		case OPT_SEED:
			g->seed = parse_seed(optarg);
			have_seed = true;
			break;
		case OPT_OUTPUT:  g->list_path = optarg; break;
		case OPT_PERMITS: g->permits_path = optarg; break;
		case OPT_QUERIES:
			g->queries = parse_count("queries", optarg, MAX_QUERIES);
			have_queries = true;
			break;
		case OPT_HITRATE:
			hit_rate = parse_rate("hit-rate", optarg);
			have_hit = true;
			break;
		case OPT_QOUT:    g->queries_path = optarg; break;
		case OPT_ASOF:    g->asof = parse_day("as-of", optarg); break;
		case OPT_BAD:     g->bad_ppm = to_ppm(parse_rate("bad-rate", optarg)); break;
		case OPT_TYPO:    g->typo_ppm = to_ppm(parse_rate("typo-rate", optarg)); break;
		case OPT_MASK:    g->mask = true; break;
		case OPT_QUIET:   g->quiet = true; break;
		case OPT_HELP:
			fputs(USAGE, stdout);
			exit(0);
		case ':':
			usage_error("--%s needs a value", opt_name(optopt));
		default:
			if (optopt >= OPT_RECORDS)
				usage_error("--%s takes no value", opt_name(optopt));
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!have_records)
		usage_error("--records is required");
	if (!have_seed)
		usage_error("--seed is required");
	if (!g->list_path)
		usage_error("--output is required");
	if (have_queries && !g->queries_path)
		usage_error("--queries needs --queries-output");
	if (g->queries_path && !have_queries)
		usage_error("--queries-output needs --queries M");
	if (have_hit && !g->queries_path)
		usage_error("--hit-rate needs --queries and --queries-output");
	const char *paths[3] = { g->list_path, g->permits_path, g->queries_path };
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (paths[i] && paths[j] && strcmp(paths[i], paths[j]) == 0)
				usage_error("--%s and --%s name the same file '%s'",
				            i == 0 ? "output" : "permits-output",
				            j == 1 ? "permits-output" : "queries-output",
				            paths[i]);
	/* round to the nearest whole number of hits */
	g->hits_wanted = (uint64_t)((double)g->queries * hit_rate + 0.5);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static gen_t G;
	gen_t *g = &G;
	parse_args(g, argc, argv);
	double t0 = now_s();

	/* open every output first: a bad path fails before the long run */
	out_open(&g->list_out, g->list_path);
	if (g->permits_path)
		out_open(&g->permits_out, g->permits_path);
	if (g->queries_path)
		out_open(&g->queries_out, g->queries_path);
	gen_init(g);

	generate_list(g);
	out_close(&g->list_out);
	double t_list = now_s();
	if (g->permits_path) {
		write_permits(g);
		out_close(&g->permits_out);
	}
	if (g->queries_path) {
		if (g->hits_wanted && !g->hits_n && !g->quiet)
			fprintf(stderr, PROG ": warning: the list is empty, so every "
			        "query is a miss\n");
		write_queries(g);
		out_close(&g->queries_out);
	}
	double t1 = now_s();

	if (!g->quiet) {
		fprintf(stderr, PROG ": %s: %" PRIu64 " rows, %" PRIu64 " cases "
		        "(%" PRIu64 " of units, %" PRIu64 " repeat debtors), %" PRIu64
		        " bytes in %.2f s",
		        g->list_path, g->rows, g->cases, g->unit_cases,
		        g->repeat_cases, g->list_out.bytes, t_list - t0);
		if (g->bad_rows || g->typo_rows)
			fprintf(stderr, "; %" PRIu64 " bad rows, %" PRIu64 " check-digit typos",
			        g->bad_rows, g->typo_rows);
		fputc('\n', stderr);
		if (g->permits_path)
			fprintf(stderr, PROG ": %s: %" PRIu64 " permits\n",
			        g->permits_path, g->psrc_n);
		if (g->queries_path)
			fprintf(stderr, PROG ": %s: %" PRIu64 " queries (%" PRIu64
			        " hits), %" PRIu64 " bytes; total %.2f s\n",
			        g->queries_path, g->queries, g->q_hits,
			        g->queries_out.bytes, t1 - t0);
	}
	free(g->slot);
	free(g->cno_next);
	free(g->pool);
	free(g->hits);
	free(g->psrc);
	return 0;
}
