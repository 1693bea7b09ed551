/*
 * test_sx.c - the shared vocabulary (engine/sx.h): error strings, enum
 * names and parsers, restriction-code lists, calendar days and ISO 8601
 * times in China Standard Time.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sx.h"

/* ---- errors ------------------------------------------------------------- */

Test(strerror, project_codes_have_their_own_text)
{
	cr_assert_str_eq(sx_strerror(SX_EBADMAGIC),
	                 "not an sxgate snapshot (bad magic)");
	cr_assert_str_eq(sx_strerror(SX_EVERSION),
	                 "unsupported snapshot format version");
	cr_assert_str_eq(sx_strerror(SX_EBUILD), "index build failed");
	cr_assert_str_eq(sx_strerror(SX_ENOTFOUND), "not found");
}

Test(strerror, negative_errno_is_named_by_the_system)
{
	cr_assert_str_eq(sx_strerror(-ENOENT), strerror(ENOENT));
	cr_assert_str_eq(sx_strerror(-ENOMEM), strerror(ENOMEM));
	cr_assert_not_null(sx_strerror(0));
}

/* ---- names and parsers -------------------------------------------------- */

/* s with every letter's case flipped, into buf. */
static const char *flip(const char *s, char *buf)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char c = s[i];
		buf[i] = c >= 'a' && c <= 'z' ? (char)(c - 32)
		       : c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
	}
	buf[i] = 0;
	return buf;
}

typedef const char *(*name_fn)(int);
typedef int (*parse_fn)(const char *, size_t);

static void round_trip(name_fn name, parse_fn parse, int n)
{
	char buf[64];

	for (int i = 0; i < n; i++) {
		const char *s = name(i);
		cr_assert_not_null(s);
		cr_assert_eq(parse(s, strlen(s)), i, "%s", s);
		cr_assert_eq(parse(flip(s, buf), strlen(s)), i, "%s", buf);
		/* A prefix or an extension of a name is not the name. */
		cr_assert_eq(parse(s, strlen(s) - 1), -1, "prefix of %s", s);
		snprintf(buf, sizeof buf, "%sX", s);
		cr_assert_eq(parse(buf, strlen(buf)), -1, "%s", buf);
	}
	cr_assert_eq(parse("nonsense", 8), -1);
	cr_assert_eq(parse("", 0), -1);
}

Test(names, every_enum_round_trips_case_insensitively)
{
	round_trip(sx_idtype_name, sx_idtype_parse, SX_NIDTYPES);
	round_trip(sx_role_name, sx_role_parse, SX_NROLES);
	round_trip(sx_list_name, sx_list_parse, SX_NLISTS);
	round_trip(sx_status_name, sx_status_parse, SX_NSTATUSES);
	round_trip(sx_code_name, sx_code_parse, SX_NCODES);
	round_trip(sx_channel_name, sx_channel_parse, SX_NCODES);
}

Test(names, spellings_are_the_contracts)
{
	cr_assert_str_eq(sx_idtype_name(SX_IDT_PASSPORT), "PASSPORT");
	cr_assert_str_eq(sx_role_name(SX_ROLE_LEGAL_REP), "legal_rep");
	cr_assert_str_eq(sx_list_name(SX_LIST_XG), "XG");
	cr_assert_str_eq(sx_status_name(SX_ST_SHIELDED), "shielded");
	cr_assert_str_eq(sx_code_name(SX_C_INSURANCE), "INSURANCE");
	cr_assert_str_eq(sx_channel_name(SX_C_INSURANCE), "insurance");
	cr_assert_eq(sx_channel_parse("Hotel", 5), SX_C_HOTEL);
	cr_assert_eq(sx_code_parse("hotel", 5), SX_C_HOTEL);
	cr_assert_eq(sx_idtype_parse("ric", 3), SX_IDT_RIC);
	cr_assert_eq(sx_status_parse("ACTIVE", 6), SX_ST_ACTIVE);
}

Test(names, parsers_use_the_length_not_a_terminator)
{
	cr_assert_eq(sx_code_parse("AIRPLANE", 3), SX_C_AIR);
	cr_assert_eq(sx_role_parse("debtor,legal_rep", 6), SX_ROLE_DEBTOR);
	cr_assert_eq(sx_list_parse("SXG", 2), SX_LIST_SX);
}

Test(names, out_of_range_values_have_a_printable_name)
{
	cr_assert_not_null(sx_code_name(SX_NCODES));
	cr_assert_not_null(sx_idtype_name(-1));
	cr_assert_not_null(sx_status_name(99));
}

/* ---- restriction code lists ---------------------------------------------- */

static int codes(const char *s, sx_codes *mask)
{
	const char *b = NULL;
	size_t bl = 0;

	return sx_codes_parse(s, strlen(s), mask, &b, &bl);
}

Test(codes, list_is_case_insensitive_and_tolerates_spaces)
{
	sx_codes m = 0xffff;

	cr_assert_eq(codes("AIR;rail; Hotel ;\tvenue", &m), 0);
	cr_assert_eq(m, SX_CODE_BIT(SX_C_AIR) | SX_CODE_BIT(SX_C_RAIL) |
	                SX_CODE_BIT(SX_C_HOTEL) | SX_CODE_BIT(SX_C_VENUE));
	cr_assert_eq(codes("office;Procurement", &m), 0);
	cr_assert_eq(m, SX_CODE_BIT(SX_C_OFFICE) | SX_CODE_BIT(SX_C_PROCUREMENT));
	cr_assert_eq(codes("AIR;AIR", &m), 0);
	cr_assert_eq(m, SX_CODE_BIT(SX_C_AIR));
}

#define ALL_CODES "AIR;RAIL;SHIP;HOTEL;VENUE;TRAVEL;SCHOOL;INSURANCE;" \
	"PROPERTY;VEHICLE;OFFICE;FINANCE;BOND;QUOTA;INCENTIVE;STOCK;SOCIETY;" \
	"PROCUREMENT;BIDDING;STRAIT;SUBSIDY;POLICY;APPOINT;CUSTOMS;LICENSE;" \
	"QUALIFY;HONOR;CREDIT;ASSET;RESOURCE"

Test(codes, every_code_parses)
{
	char buf[400];
	sx_codes m;

	cr_assert_eq(SX_NCODES, 30, "SPEC section 4 has 30 codes");
	cr_assert_eq(sx_codes_format(SX_CODES_ALL, buf, sizeof buf),
	             strlen(ALL_CODES));
	cr_assert_str_eq(buf, ALL_CODES);
	cr_assert_eq(codes(buf, &m), 0);
	cr_assert_eq(m, SX_CODES_ALL);
}

/* The catalogue of SPEC section 4, as the X-macro gives it. */
Test(codes, the_catalogue_says_what_spec_says)
{
	sx_codes m;
	cr_assert_eq(codes("AIR;RAIL;SHIP;HOTEL;VENUE;TRAVEL;SCHOOL;INSURANCE;"
	                   "PROPERTY;VEHICLE;OFFICE", &m), 0);
	cr_assert_eq(SX_CODES_CONS, m, "the consumption codes");
	cr_assert_eq(codes("AIR;RAIL;SHIP;HOTEL;VENUE;TRAVEL;SCHOOL;INSURANCE;"
	                   "PROPERTY;VEHICLE;OFFICE;STRAIT;APPOINT;ASSET", &m), 0);
	cr_assert_eq(SX_CODES_RELATED, m, "what a related person's record restricts");
	cr_assert_eq(codes("RAIL;SHIP;HOTEL;FINANCE;BOND;APPOINT;LICENSE", &m), 0);
	cr_assert_eq(SX_CODES_CLASSED, m, "the channels that need a class");
	cr_assert_eq(sx_codes_default(SX_LIST_SX), SX_CODES_ALL);
	cr_assert_eq(sx_codes_default(SX_LIST_XG), SX_CODES_CONS);
	/* the two channels not named as their code */
	cr_assert_str_eq(sx_channel_name(SX_C_APPOINT), "appointment");
	cr_assert_str_eq(sx_channel_name(SX_C_QUALIFY), "qualification");
	cr_assert_eq(sx_channel_parse("Qualification", 13), SX_C_QUALIFY);
	cr_assert_eq(sx_channel_parse("appoint", 7), -1);
	/* class-less channels and their effects */
	static const struct { int c; int eff; } e[] = {
		{ SX_C_AIR, SX_EFF_DENY }, { SX_C_OFFICE, SX_EFF_DENY },
		{ SX_C_QUOTA, SX_EFF_REVIEW }, { SX_C_INCENTIVE, SX_EFF_DENY },
		{ SX_C_STOCK, SX_EFF_REVIEW }, { SX_C_SOCIETY, SX_EFF_DENY },
		{ SX_C_PROCUREMENT, SX_EFF_DENY }, { SX_C_BIDDING, SX_EFF_DENY },
		{ SX_C_STRAIT, SX_EFF_DENY }, { SX_C_SUBSIDY, SX_EFF_DENY },
		{ SX_C_POLICY, SX_EFF_REVIEW }, { SX_C_CUSTOMS, SX_EFF_DENY },
		{ SX_C_QUALIFY, SX_EFF_DENY }, { SX_C_HONOR, SX_EFF_DENY },
		{ SX_C_CREDIT, SX_EFF_REVIEW }, { SX_C_ASSET, SX_EFF_DENY },
		{ SX_C_RESOURCE, SX_EFF_DENY },
	};
	for (size_t i = 0; i < SX_ARRAY_LEN(e); i++)
		cr_assert_eq(sx_code_effect(e[i].c), e[i].eff, "%s",
		             sx_channel_name(e[i].c));
	for (int i = 0; i < SX_NEFFECTS; i++) {
		const char *n = sx_effect_name(i);
		cr_assert_eq(sx_effect_parse(n, strlen(n)), i);
	}
	cr_assert_eq(sx_effect_parse("DENY", 4), SX_EFF_DENY);
}

Test(codes, empty_or_blank_is_mask_zero)
{
	sx_codes m = 0xffff;

	cr_assert_eq(codes("", &m), 0);
	cr_assert_eq(m, 0);
	m = 0xffff;
	cr_assert_eq(codes("   \t ", &m), 0);
	cr_assert_eq(m, 0);
}

Test(codes, unknown_code_is_reported)
{
	const char *s = "AIR; BOAT ;RAIL", *b = NULL;
	size_t bl = 99;
	sx_codes m;

	cr_assert_eq(sx_codes_parse(s, strlen(s), &m, &b, &bl), -1);
	cr_assert_eq(b, s + 5);
	cr_assert_eq(bl, 4);
	cr_assert_eq(strncmp(b, "BOAT", bl), 0);
}

Test(codes, empty_element_is_an_error)
{
	static const char *v[] = { "AIR;;RAIL", "AIR;", ";AIR", "AIR; ;RAIL", ";" };
	const char *b;
	size_t bl;
	sx_codes m;

	for (size_t i = 0; i < SX_ARRAY_LEN(v); i++) {
		b = NULL;
		bl = 99;
		cr_assert_eq(sx_codes_parse(v[i], strlen(v[i]), &m, &b, &bl), -1,
		             "'%s'", v[i]);
		cr_assert_not_null(b);
		cr_assert_eq(bl, 0, "'%s'", v[i]);
	}
}

Test(codes, format_writes_codes_in_list_order)
{
	char buf[64];

	cr_assert_eq(sx_codes_format(SX_CODE_BIT(SX_C_HOTEL) | SX_CODE_BIT(SX_C_AIR),
	                             buf, sizeof buf), 9);
	cr_assert_str_eq(buf, "AIR;HOTEL");
	cr_assert_eq(sx_codes_format(0, buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "");
}

Test(codes, format_truncates_but_reports_the_full_length)
{
	char buf[6];

	memset(buf, '#', sizeof buf);
	cr_assert_eq(sx_codes_format(SX_CODE_BIT(SX_C_AIR) | SX_CODE_BIT(SX_C_RAIL),
	                             buf, sizeof buf), 8);
	cr_assert_str_eq(buf, "AIR;R");
}

Test(codes, every_mask_round_trips)
{
	char buf[400];
	sx_codes m, mask;
	uint64_t x = 88172645463325252ull;

	/* every set of the first 16 codes, then a million random sets */
	for (uint64_t i = 0; i < (1u << 16) + 1000000; i++) {
		if (i < (1u << 16)) {
			mask = i;
		} else {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			mask = x & SX_CODES_ALL;
		}
		size_t n = sx_codes_format(mask, buf, sizeof buf);
		cr_assert_eq(sx_codes_parse(buf, n, &m, NULL, NULL), 0);
		if (m != mask)
			cr_assert_fail("%#llx came back as %#llx", (unsigned long long)mask,
			               (unsigned long long)m);
	}
}

/* ---- days ------------------------------------------------------------------ */

static int dparse(const char *s, uint16_t *d)
{
	return sx_day_parse(s, strlen(s), d);
}

Test(days, epoch_and_known_days)
{
	uint16_t d;

	cr_assert_eq(dparse("1970-01-01", &d), 0);
	cr_assert_eq(d, 0);
	cr_assert_eq(dparse("2000-03-01", &d), 0);
	cr_assert_eq(d, 11017);
	cr_assert_eq(dparse("2025-01-01", &d), 0);
	cr_assert_eq(d, 20089);     /* 1735689600 / 86400 */
	cr_assert_eq(dparse("2148-12-31", &d), 0);
	cr_assert_eq(d, 65378);
	cr_assert_neq(d, SX_DAY_NONE);
}

Test(days, leap_years)
{
	uint16_t d;

	cr_assert_eq(dparse("2000-02-29", &d), 0);
	cr_assert_eq(dparse("2024-02-29", &d), 0);
	cr_assert_eq(dparse("2023-02-29", &d), -1);
	cr_assert_eq(dparse("2100-02-29", &d), -1);
	cr_assert(sx_date_valid(2000, 2, 29));
	cr_assert(sx_date_valid(1600, 2, 29));
	cr_assert_not(sx_date_valid(1900, 2, 29));
	cr_assert_not(sx_date_valid(2023, 2, 29));
	cr_assert_not(sx_date_valid(2024, 2, 30));
}

Test(days, date_valid_knows_month_lengths)
{
	static const int len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	                             30, 31 };
	for (int m = 1; m <= 12; m++) {
		cr_assert(sx_date_valid(2023, m, len[m - 1]));
		cr_assert_not(sx_date_valid(2023, m, len[m - 1] + 1));
		cr_assert_not(sx_date_valid(2023, m, 0));
	}
	cr_assert_not(sx_date_valid(2023, 0, 1));
	cr_assert_not(sx_date_valid(2023, 13, 1));
}

Test(days, out_of_range_years_are_refused)
{
	uint16_t d;

	cr_assert_eq(dparse("1969-12-31", &d), -1);
	cr_assert_eq(dparse("2149-01-01", &d), -1);
	cr_assert_eq(dparse("0000-01-01", &d), -1);
}

Test(days, only_strict_yyyy_mm_dd_is_accepted)
{
	static const char *v[] = { "2024-1-01", "2024/01/01", "2024-01-01 ",
	                           " 2024-01-01", "24-01-01", "2024-13-01",
	                           "2024-00-10", "2024-04-31", "2024-01-00",
	                           "2024-01-0a", "+024-01-01", "2024-01-01T00",
	                           "" };
	uint16_t d;

	for (size_t i = 0; i < SX_ARRAY_LEN(v); i++)
		cr_assert_eq(dparse(v[i], &d), -1, "'%s'", v[i]);
	/* The length decides, not a terminator. */
	cr_assert_eq(sx_day_parse("2024-01-01xyz", 10, &d), 0);
}

Test(days, days_from_civil_agrees_with_counting_day_by_day)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	                               30, 31 };
	/* Walk from 1600-01-01, counted independently: 1600..1969 has
	 * 370 years and 90 leap days (1600 is one; 1700, 1800, 1900 are not). */
	int64_t n = -(370 * 365 + 90);

	for (int y = 1600; y <= 2400; y++) {
		int leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
		for (int m = 1; m <= 12; m++) {
			int dim = mdays[m - 1] + (m == 2 && leap);
			for (int d = 1; d <= dim; d++, n++)
				cr_assert_eq(sx_days_from_civil(y, (unsigned)m,
				                                (unsigned)d), n,
				             "%04d-%02d-%02d", y, m, d);
		}
	}
	cr_assert_eq(sx_days_from_civil(1969, 12, 31), -1);
	cr_assert_eq(sx_days_from_civil(0, 3, 1), -719468);
}

Test(days, format_round_trips_every_day)
{
	char buf[16];
	uint16_t d;

	for (unsigned day = 0; day <= 65378; day++) {
		sx_day_format((uint16_t)day, buf);
		cr_assert_eq(strlen(buf), 10);
		cr_assert_eq(sx_day_parse(buf, 10, &d), 0, "%s", buf);
		cr_assert_eq(d, day, "%s", buf);
	}
	sx_day_format(0, buf);
	cr_assert_str_eq(buf, "1970-01-01");
	sx_day_format(11016, buf);
	cr_assert_str_eq(buf, "2000-02-29");
}

Test(days, today_is_utc_plus_8_whatever_the_zone)
{
	static const char *zones[] = { "America/Los_Angeles", "UTC",
	                               "Pacific/Kiritimati", "Asia/Shanghai" };

	for (size_t i = 0; i < SX_ARRAY_LEN(zones); i++) {
		setenv("TZ", zones[i], 1);
		tzset();
		time_t before = time(NULL);
		uint16_t t = sx_today();
		time_t after = time(NULL);
		cr_assert_geq(t, (before + 8 * 3600) / 86400, "%s", zones[i]);
		cr_assert_leq(t, (after + 8 * 3600) / 86400, "%s", zones[i]);
	}
}

/* ---- times ---------------------------------------------------------------- */

#define T_2025_08Z 1735718400   /* 2025-01-01T08:00:00Z */

static int64_t tparse(const char *s)
{
	int64_t t = 0;

	cr_assert_eq(sx_time_parse(s, &t), 0, "'%s' refused", s);
	return t;
}

Test(times, no_offset_means_utc_plus_8)
{
	cr_assert_eq(tparse("2025-01-01"), 1735689600 - 8 * 3600);
	cr_assert_eq(tparse("2025-01-01T00:00"), 1735689600 - 8 * 3600);
	cr_assert_eq(tparse("2025-01-01T16:00:00"), T_2025_08Z);
	cr_assert_eq(tparse("2025-01-01 16:00"), T_2025_08Z);
	cr_assert_eq(tparse("1970-01-01T08:00:00"), 0);
}

Test(times, explicit_offsets)
{
	cr_assert_eq(tparse("2025-01-01T08:00:00Z"), T_2025_08Z);
	cr_assert_eq(tparse("2025-01-01T08:00Z"), T_2025_08Z);
	cr_assert_eq(tparse("2025-01-01T08:00:00+00:00"), T_2025_08Z);
	cr_assert_eq(tparse("2025-01-01T16:00:00+08:00"), T_2025_08Z);
	cr_assert_eq(tparse("2025-01-01T16:00:00+0800"), T_2025_08Z);
	cr_assert_eq(tparse("2025-01-01T03:00:00-05:00"), T_2025_08Z);
	cr_assert_eq(tparse("2024-12-31T22:30:00-0930"), T_2025_08Z);
	cr_assert_eq(tparse("2025-01-01T13:45+05:45"), T_2025_08Z);
	cr_assert_eq(tparse("2025-01-01 08:00:00Z"), T_2025_08Z);
}

Test(times, fractional_seconds_are_ignored)
{
	cr_assert_eq(tparse("2025-01-01T16:00:00.999"), T_2025_08Z);
	cr_assert_eq(tparse("2025-01-01T08:00:00.123456Z"), T_2025_08Z);
	cr_assert_eq(tparse("2025-01-01T16:00:00,5+08:00"), T_2025_08Z);
}

Test(times, malformed_times_are_refused)
{
	static const char *v[] = {
		"", "2025", "2025-01-32", "2025-02-29", "2025-01-01T",
		"2025-01-01T8:00", "2025-01-01T24:00", "2025-01-01T10:60",
		"2025-01-01T10:00:60", "2025-01-01T10", "2025-01-01T10:00:0",
		"2025-01-01T10:00:00.", "2025-01-01T10:00:00+8",
		"2025-01-01T10:00:00+08:0", "2025-01-01T10:00:00+08:000",
		"2025-01-01T10:00:00+24:00", "2025-01-01T10:00:00 ",
		"2025-01-01Z", "2025-01-01X10:00", "2025-01-01T10:00:00ZZ",
		"2025/01/01",
	};
	int64_t t;

	for (size_t i = 0; i < SX_ARRAY_LEN(v); i++)
		cr_assert_eq(sx_time_parse(v[i], &t), -1, "'%s' accepted", v[i]);
	cr_assert_eq(sx_time_parse(NULL, &t), -1);
}

Test(times, format_is_china_standard_time)
{
	char buf[32];

	sx_time_format(0, buf);
	cr_assert_str_eq(buf, "1970-01-01T08:00:00+08:00");
	sx_time_format(T_2025_08Z, buf);
	cr_assert_str_eq(buf, "2025-01-01T16:00:00+08:00");
	sx_time_format(-8 * 3600 - 1, buf);
	cr_assert_str_eq(buf, "1969-12-31T23:59:59+08:00");
	sx_time_format(951782400 - 8 * 3600, buf);   /* 2000-02-29T00:00Z+8 */
	cr_assert_str_eq(buf, "2000-02-29T00:00:00+08:00");
}

Test(times, format_then_parse_is_identity)
{
	char buf[32];

	for (int64_t t = -86400 * 400; t < 4102444800; t += 86400 * 7 + 3607) {
		sx_time_format(t, buf);
		cr_assert_eq(tparse(buf), t, "%s", buf);
	}
}
