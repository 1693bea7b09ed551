/*
 * fbgen.c - a feedback log of any size, for `sxgate feedback report` on
 * large logs (make bench-fbreport) and for the report's screenshot.
 *
 * usage: bench-fbgen OUT RECORDS [DAYS [LAST-DAY]]
 *
 * Writes RECORDS records through the engine's writer (engine/feedback.h),
 * exactly as sxgated does, spread over DAYS days (default 30) ending on
 * LAST-DAY (YYYY-MM-DD, default 2026-01-10), with a fixed seed: 40 Fujian
 * courts (a few much busier than the rest), about 30 cases per court,
 * 18-digit RICs, a few passports and company codes; decisions about 86 %
 * DENY, 7 % REVIEW, 4 % SUSPENDED, 3 % EXEMPT; channels and tenants as a
 * gate network would send them (rail and air the most); fewer on weekends;
 * one case in ten shares its debtors with a second case of the same
 * court, and half of their refusals name both.  OUT must not exist yet.
 */
#include "feedback.h"
#include "sx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t st = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	uint64_t z = (st += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static unsigned below(unsigned n) { return (unsigned)(next() % n); }

static const char *const court_names[] = {
	"福州市中级人民法院", "福州市鼓楼区人民法院", "福州市台江区人民法院",
	"福州市仓山区人民法院", "福州市晋安区人民法院", "福州市马尾区人民法院",
	"福清市人民法院", "闽侯县人民法院", "厦门市中级人民法院",
	"厦门市思明区人民法院", "厦门市湖里区人民法院", "厦门市集美区人民法院",
	"厦门市海沧区人民法院", "厦门市同安区人民法院", "厦门市翔安区人民法院",
	"泉州市中级人民法院", "泉州市鲤城区人民法院", "泉州市丰泽区人民法院",
	"晋江市人民法院", "石狮市人民法院", "南安市人民法院", "惠安县人民法院",
	"漳州市中级人民法院", "漳州市芗城区人民法院", "漳州市龙文区人民法院",
	"龙海区人民法院", "莆田市中级人民法院", "莆田市城厢区人民法院",
	"莆田市涵江区人民法院", "仙游县人民法院", "三明市中级人民法院",
	"三明市三元区人民法院", "南平市中级人民法院", "南平市延平区人民法院",
	"龙岩市中级人民法院", "龙岩市新罗区人民法院", "宁德市中级人民法院",
	"宁德市蕉城区人民法院", "福安市人民法院", "平潭综合实验区人民法院",
};
static const char *const court_codes[] = {
	"01", "0102", "0103", "0104", "0111", "0105", "0181", "0121", "02",
	"0203", "0206", "0211", "0205", "0212", "0213", "05", "0502", "0503",
	"0582", "0581", "0583", "0521", "06", "0602", "0603", "0681", "03",
	"0302", "0303", "0322", "04", "0403", "07", "0702", "08", "0802", "09",
	"0902", "0981", "0128",
};
#define NCOURTS 40
#define NCASES 30

static const char *const tenants[] = {
	"12306", "csair-booking", "xiamen-air", "ctrip-hotel", "fj-procurement",
	"cmb-credit", "fj-landbureau", "ferry-pingtan", "jinjiang-hotels",
	"school-admissions",
};
static const unsigned tenant_w[] = { 30, 12, 10, 14, 6, 8, 4, 5, 7, 4 };
static const int chans[] = { SX_C_RAIL, SX_C_AIR, SX_C_HOTEL, SX_C_SHIP,
                             SX_C_PROCUREMENT, SX_C_CREDIT, SX_C_PROPERTY,
                             SX_C_SCHOOL };
static const unsigned tenant_chan[] = { 0, 1, 1, 2, 4, 5, 6, 3, 2, 7 };

static unsigned weighted(const unsigned *w, unsigned n)
{
	unsigned sum = 0;
	for (unsigned i = 0; i < n; i++)
		sum += w[i];
	unsigned r = below(sum);
	for (unsigned i = 0; i < n; i++) {
		if (r < w[i])
			return i;
		r -= w[i];
	}
	return n - 1;
}

typedef struct kase {
	char court[96], case_no[96];
	char id[4][24];
	uint8_t idt[4];
	unsigned nids;
	int sibling;              /* a second case of the same debtors, or -1 */
} kase;

static kase kases[NCOURTS * NCASES];

static void make_cases(void)
{
	for (unsigned c = 0; c < NCOURTS; c++) {
		for (unsigned k = 0; k < NCASES; k++) {
			kase *x = &kases[c * NCASES + k];
			snprintf(x->court, sizeof x->court, "%s", court_names[c]);
			snprintf(x->case_no, sizeof x->case_no, "（%u）闽%s执%u号",
			         2019 + below(7), court_codes[c], 100 + below(9000));
			x->sibling = -1;
			if (k % 2 && below(5) == 0) {
				/* the debtors of the case before, in a second case */
				const kase *y = &kases[c * NCASES + k - 1];
				memcpy(x->id, y->id, sizeof x->id);
				memcpy(x->idt, y->idt, sizeof x->idt);
				x->nids = y->nids;
				x->sibling = (int)(c * NCASES + k - 1);
				kases[c * NCASES + k - 1].sibling = (int)(c * NCASES + k);
				continue;
			}
			x->nids = 1 + (below(5) == 0) + (below(12) == 0);
			for (unsigned i = 0; i < x->nids; i++) {
				unsigned t = below(40);
				if (t == 0) {
					snprintf(x->id[i], sizeof x->id[i], "E%08u",
					         (unsigned)below(100000000));
					x->idt[i] = SX_IDT_PASSPORT;
				} else if (t < 3) {
					snprintf(x->id[i], sizeof x->id[i], "91350%03u%09uX",
					         below(1000), below(1000000000));
					x->idt[i] = SX_IDT_USCC;
				} else {
					snprintf(x->id[i], sizeof x->id[i], "35%04u%04u%02u%02u%03u%c",
					         below(10000), 1950 + below(55), 1 + below(12),
					         1 + below(28), below(1000),
					         "0123456789X"[below(11)]);
					x->idt[i] = SX_IDT_RIC;
				}
			}
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: bench-fbgen OUT RECORDS [DAYS [LAST-DAY]]\n");
		return 1;
	}
	char *end;
	unsigned long long n = strtoull(argv[2], &end, 10);
	unsigned days = argc > 3 ? (unsigned)atoi(argv[3]) : 30;
	const char *lastd = argc > 4 ? argv[4] : "2026-01-10";
	uint16_t last;
	if (*end || !n || !days || days > 3650 ||
	    sx_day_parse(lastd, strlen(lastd), &last)) {
		fprintf(stderr, "bench-fbgen: bad RECORDS, DAYS or LAST-DAY\n");
		return 1;
	}
	FILE *probe = fopen(argv[1], "r");
	if (probe) {
		fclose(probe);
		fprintf(stderr, "bench-fbgen: %s exists; not appending\n", argv[1]);
		return 1;
	}
	make_cases();
	/* courts' weights: a few busy ones */
	unsigned cw[NCOURTS];
	for (unsigned c = 0; c < NCOURTS; c++)
		cw[c] = c % 8 == 1 ? 30 - c / 2 : 2 + below(8);
	/* days' weights: weekends lower, a slow rise */
	unsigned dw[3650];
	for (unsigned d = 0; d < days; d++) {
		unsigned day = last - (days - 1) + d;
		unsigned wd = (day + 3) % 7;     /* 0 Monday (1970-01-01 Thursday) */
		dw[d] = (wd >= 5 ? 55 : 100) + d * 40 / days + below(20);
	}

	sx_feedback_opts o = { .max_buffer = 256u << 20, .flush_ms = 200 };
	sx_feedback *fb;
	char why[512];
	int rc = sx_feedback_open_opts(argv[1], &o, &fb, NULL, why, sizeof why);
	if (rc) {
		fprintf(stderr, "bench-fbgen: %s\n", why);
		return 1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long long i = 0; i < n; i++) {
		unsigned d = weighted(dw, days);
		int64_t day = (int64_t)last - (days - 1) + d;
		int64_t ms = (day * 86400 - 8 * 3600 + 7 * 3600 + below(15 * 3600)) *
		             1000 + below(1000);
		unsigned c = weighted(cw, NCOURTS);
		const kase *k = &kases[c * NCASES + below(NCASES)];
		const kase *k2 = k->sibling >= 0 && below(2) ? &kases[k->sibling] : NULL;
		unsigned t = weighted(tenant_w, 10);
		unsigned r = below(100);
		uint8_t reason = r < 86 ? SX_R_LISTED : r < 93 ? SX_R_REVIEW
		                 : r < 97 ? SX_R_SUSPENDED : SX_R_EXEMPT;
		unsigned idi = below(k->nids);
		sx_feedback_case cs[2] = {
			{ { k->case_no, strlen(k->case_no) }, { k->court, strlen(k->court) } },
			{ { k2 ? k2->case_no : "", k2 ? strlen(k2->case_no) : 0 },
			  { k2 ? k2->court : "", k2 ? strlen(k2->court) : 0 } },
		};
		sx_feedback_rec rec = {
			.time_ms = ms, .tenant = { tenants[t], strlen(tenants[t]) },
			.channel = (uint8_t)chans[below(5) ? tenant_chan[t] : below(8)],
			.cls = { "-", 1 }, .id_type = k->idt[idi],
			.id = { k->id[idi], strlen(k->id[idi]) }, .reason = reason,
			.ncases = k2 ? 2 : 1, .cases = cs,
		};
		while ((rc = sx_feedback_add(fb, &rec)) == SX_EFULL)
			sx_feedback_flush(fb);
		if (rc) {
			fprintf(stderr, "bench-fbgen: record %llu refused (%d)\n", i, rc);
			return 1;
		}
	}
	rc = sx_feedback_close(fb);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc) {
		fprintf(stderr, "bench-fbgen: closing %s failed (%d)\n", argv[1], rc);
		return 1;
	}
	fprintf(stderr, "bench-fbgen: %llu records in %s over %u days, %.1f s\n",
	        n, argv[1], days, (double)(t1.tv_sec - t0.tv_sec) +
	        (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
