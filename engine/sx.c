/*
 * sx.c - the shared vocabulary of sxgate: error strings, the names and
 * parsers of the contract's enumerations, restriction-code lists, and
 * calendar days and times.
 *
 * The idea: every table here is generated from the X-macro lists in sx.h,
 * so adding an ID type, a status or a restriction code is one line there
 * and nothing here changes.  Parsers compare ASCII case-insensitively by
 * hand rather than with strcasecmp(), so no locale can change what
 * "RAIL" means.  Dates are pure arithmetic (Howard Hinnant's
 * days_from_civil / civil_from_days) and never touch the host's zone
 * database: "today" and times without an offset are China Standard Time,
 * a fixed UTC+8 with no daylight saving, so a constant offset is exact.
 *
 * The trade-off: the enum parsers are linear scans over at most thirty
 * names, most of them rejected at their first byte.  That is cheaper
 * than hashing for lists this short, and they run once per query word,
 * not per byte of the list.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sx.h"

#define SX_UTC8 (8 * 3600)

/* ---- errors ------------------------------------------------------------ */

const char *sx_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
#define X(name, val, msg) case name: return msg;
	SX_ERRORS(X)
#undef X
	default:
		break;
	}
	/* glibc returns static text for every errno it knows; an unknown one
	 * gets a thread-local "Unknown error N", which is still safe to print. */
	return strerror(err < 0 ? -err : err);
}

int sx_fail(char *why, size_t cap, int rc, const char *fmt, ...)
{
	va_list ap;
	if (why && cap) {
		va_start(ap, fmt);
		vsnprintf(why, cap, fmt, ap);
		va_end(ap);
	}
	return rc;
}

size_t sx_vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, cap, fmt, ap);
	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

/* ---- names and parsers ------------------------------------------------- */

static const char *const idtype_names[] = {
#define X(e, s) [e] = s,
	SX_IDTYPES(X)
#undef X
};
static const char *const role_names[] = {
#define X(e, s) [e] = s,
	SX_ROLES(X)
#undef X
};
static const char *const list_names[] = {
#define X(e, s) [e] = s,
	SX_LISTS(X)
#undef X
};
static const char *const status_names[] = {
#define X(e, s) [e] = s,
	SX_STATUSES(X)
#undef X
};
static const char *const code_names[] = {
#define X(e, code, chan, kind, rel, cls, eff) [e] = code,
	SX_CODES(X)
#undef X
};
static const char *const channel_names[] = {
#define X(e, code, chan, kind, rel, cls, eff) [e] = chan,
	SX_CODES(X)
#undef X
};
static const unsigned char code_effects[] = {
#define X(e, code, chan, kind, rel, cls, eff) [e] = eff,
	SX_CODES(X)
#undef X
};
static const char *const effect_names[] = {
#define X(e, s) [e] = s,
	SX_EFFECTS(X)
#undef X
};

/* An out-of-range value names itself "?" rather than NULL, so that a
 * caller printing a damaged record with "%s" never crashes. */
static const char *name_of(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? names[v] : "?";
}

const char *sx_idtype_name(int t)
{
	return name_of(idtype_names, SX_ARRAY_LEN(idtype_names), t);
}
const char *sx_role_name(int r)
{
	return name_of(role_names, SX_ARRAY_LEN(role_names), r);
}
const char *sx_list_name(int l)
{
	return name_of(list_names, SX_ARRAY_LEN(list_names), l);
}
const char *sx_status_name(int s)
{
	return name_of(status_names, SX_ARRAY_LEN(status_names), s);
}
const char *sx_code_name(int c)
{
	return name_of(code_names, SX_ARRAY_LEN(code_names), c);
}
const char *sx_channel_name(int c)
{
	return name_of(channel_names, SX_ARRAY_LEN(channel_names), c);
}
const char *sx_effect_name(int e)
{
	return name_of(effect_names, SX_ARRAY_LEN(effect_names), e);
}
int sx_code_effect(int c)
{
	return c >= 0 && c < SX_NCODES ? code_effects[c] : SX_EFF_NONE;
}

static inline unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

/* Does s[0..len) equal the NUL-terminated name, ignoring ASCII case? */
static int ascii_case_eq(const char *s, size_t len, const char *name)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char n = (unsigned char)name[i];
		if (n == 0 || ascii_lower((unsigned char)s[i]) != ascii_lower(n))
			return 0;
	}
	return name[len] == 0;
}

static int parse_of(const char *const *names, size_t n, const char *s,
                    size_t len)
{
	size_t i;

	if (s == NULL || len == 0)
		return -1;
	/* the first letter settles most mismatches without a call */
	unsigned char c0 = ascii_lower((unsigned char)s[0]);
	for (i = 0; i < n; i++)
		if (ascii_lower((unsigned char)names[i][0]) == c0 &&
		    ascii_case_eq(s, len, names[i]))
			return (int)i;
	return -1;
}

int sx_idtype_parse(const char *s, size_t len)
{
	return parse_of(idtype_names, SX_ARRAY_LEN(idtype_names), s, len);
}
int sx_role_parse(const char *s, size_t len)
{
	return parse_of(role_names, SX_ARRAY_LEN(role_names), s, len);
}
int sx_list_parse(const char *s, size_t len)
{
	return parse_of(list_names, SX_ARRAY_LEN(list_names), s, len);
}
int sx_status_parse(const char *s, size_t len)
{
	return parse_of(status_names, SX_ARRAY_LEN(status_names), s, len);
}
int sx_code_parse(const char *s, size_t len)
{
	return parse_of(code_names, SX_ARRAY_LEN(code_names), s, len);
}
int sx_channel_parse(const char *s, size_t len)
{
	return parse_of(channel_names, SX_ARRAY_LEN(channel_names), s, len);
}
int sx_effect_parse(const char *s, size_t len)
{
	return parse_of(effect_names, SX_ARRAY_LEN(effect_names), s, len);
}

/* ---- restriction code lists -------------------------------------------- */

static inline int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Every element between semicolons must be a code: "AIR;;RAIL" and a
 * trailing "AIR;" hold an empty element and are refused (with *bad at the
 * empty element, *badlen 0), because a clerk who typed two separators most
 * likely lost a code between them.  Only a value that is wholly empty or
 * blank means "no codes".
 */
int sx_codes_parse(const char *s, size_t len, sx_codes *mask,
                   const char **bad, size_t *badlen)
{
	size_t i = 0;
	sx_codes m = 0;

	*mask = 0;
	while (i < len && is_blank(s[i]))
		i++;
	if (i == len)
		return 0;

	for (i = 0;;) {
		size_t start = i, end, b, e;
		int c;

		while (i < len && s[i] != ';')
			i++;
		end = i;
		b = start;
		e = end;
		while (b < e && is_blank(s[b]))
			b++;
		while (e > b && is_blank(s[e - 1]))
			e--;
		c = sx_code_parse(s + b, e - b);
		if (c < 0) {
			if (bad)
				*bad = s + b;
			if (badlen)
				*badlen = e - b;
			return -1;
		}
		m |= SX_CODE_BIT(c);
		if (end == len)
			break;
		i = end + 1;
	}
	*mask = m;
	return 0;
}

/* snprintf-like: returns the full length; buf holds as much of it as fits,
 * always NUL-terminated when cap > 0. */
size_t sx_codes_format(sx_codes mask, char *buf, size_t cap)
{
	size_t n = 0;
	int c;

	for (c = 0; c < SX_NCODES; c++) {
		const char *name;

		if (!(mask & SX_CODE_BIT(c)))
			continue;
		if (n > 0) {
			if (n + 1 < cap)
				buf[n] = ';';
			n++;
		}
		for (name = code_names[c]; *name; name++, n++)
			if (n + 1 < cap)
				buf[n] = *name;
	}
	if (cap > 0)
		buf[n < cap ? n : cap - 1] = 0;
	return n;
}

/* ---- days -------------------------------------------------------------- */

#define SX_DAY_FIRST_YEAR 1970
#define SX_DAY_LAST_YEAR  2148

static inline int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms":
 * shift the year to start on March 1 so that the leap day is the last day
 * of the shifted year, then count 400-year eras of 146097 days. */
int64_t sx_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe, mp;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;                        /* [0, 399] */
	mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9;  /* March = 0 */
	doy = (153 * mp + 2) / 5 + (int64_t)d - 1;  /* [0, 365] */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

/* The inverse of sx_days_from_civil(), same source. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static inline int is_leap(int y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

int sx_date_valid(int y, int m, int d)
{
	static const unsigned char mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m < 1 || m > 12 || d < 1)
		return 0;
	return d <= mdays[m - 1] + (m == 2 && is_leap(y));
}

static inline int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* n digits at s as a number, or -1 if one is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY-MM-DD" at s (10 bytes available): a real date, or -1. */
static int parse_ymd(const char *s, int *y, int *m, int *d)
{
	if (s[4] != '-' || s[7] != '-')
		return -1;
	*y = digits(s, 4);
	*m = digits(s + 5, 2);
	*d = digits(s + 8, 2);
	if (*y < 0 || *m < 0 || *d < 0 || !sx_date_valid(*y, *m, *d))
		return -1;
	return 0;
}

int sx_day_parse(const char *s, size_t len, uint16_t *day)
{
	int y, m, d;

	if (s == NULL || len != 10 || parse_ymd(s, &y, &m, &d) < 0)
		return -1;
	if (y < SX_DAY_FIRST_YEAR || y > SX_DAY_LAST_YEAR)
		return -1;
	*day = (uint16_t)sx_days_from_civil(y, (unsigned)m, (unsigned)d);
	return 0;
}

static void put_digits(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void sx_day_format(uint16_t day, char *buf)
{
	int64_t y;
	unsigned m, d;

	civil_from_days(day, &y, &m, &d);
	put_digits(buf, (unsigned)y, 4);
	buf[4] = '-';
	put_digits(buf + 5, m, 2);
	buf[7] = '-';
	put_digits(buf + 8, d, 2);
	buf[10] = 0;
}

uint16_t sx_today(void)
{
	return (uint16_t)floor_div((int64_t)time(NULL) + SX_UTC8, 86400);
}

/* ---- times ------------------------------------------------------------- */

/* "HH:MM" at s; -1 unless both fields are in range. */
static int parse_hm(const char *s, int hmax, int *h, int *m)
{
	if (s[2] != ':')
		return -1;
	*h = digits(s, 2);
	*m = digits(s + 3, 2);
	return *h < 0 || *h > hmax || *m < 0 || *m > 59 ? -1 : 0;
}

/*
 * Accepted: a date alone (midnight), or a date, 'T' (or 't' or a space,
 * as RFC 3339 allows), HH:MM, optionally :SS and a fraction ('.' or ','
 * and digits; ignored: the contract's times are to the second), then
 * optionally 'Z', or an offset +HH:MM, -HH:MM, +HHMM, -HHMM.  An offset
 * without a time of day is refused: "2025-01-01Z" is not ISO 8601.
 * Nothing may follow.  strlen() is safe: the header takes a C string.
 */
int sx_time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, oh, om, sign;
	int64_t offset = SX_UTC8;
	size_t len, i;

	if (s == NULL)
		return -1;
	len = strlen(s);
	if (len < 10 || parse_ymd(s, &y, &mo, &d) < 0)
		return -1;
	i = 10;
	if (i == len)
		goto done;
	if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
		return -1;
	i++;
	if (len - i < 5 || parse_hm(s + i, 23, &h, &mi) < 0)
		return -1;
	i += 5;
	if (i < len && s[i] == ':') {
		if (len - i < 3 || (sec = digits(s + i + 1, 2)) < 0 || sec > 59)
			return -1;
		i += 3;
		if (i < len && (s[i] == '.' || s[i] == ',')) {
			size_t f = ++i;
			while (i < len && is_digit(s[i]))
				i++;
			if (i == f)
				return -1;
		}
	}
	if (i == len)
		goto done;
	if (s[i] == 'Z' || s[i] == 'z') {
		offset = 0;
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		sign = s[i] == '-' ? -1 : 1;
		i++;
		if (len - i == 5) {
			if (parse_hm(s + i, 23, &oh, &om) < 0)
				return -1;
			i += 5;
		} else if (len - i == 4) {
			oh = digits(s + i, 2);
			om = digits(s + i + 2, 2);
			if (oh < 0 || oh > 23 || om < 0 || om > 59)
				return -1;
			i += 4;
		} else {
			return -1;
		}
		offset = sign * (int64_t)(oh * 3600 + om * 60);
	}
	if (i != len)
		return -1;
done:
	*out = sx_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400
	     + h * 3600 + mi * 60 + sec - offset;
	return 0;
}

void sx_time_format(int64_t t, char *buf)
{
	int64_t local = t + SX_UTC8, days, y;
	int64_t secs;
	unsigned m, d;

	days = floor_div(local, 86400);
	secs = local - days * 86400;
	civil_from_days(days, &y, &m, &d);
	/* Four digits of year: anything outside 0000..9999 is not a time this
	 * system will ever hold, and a fixed width keeps the output in 26
	 * bytes. */
	if (y < 0)
		y = 0;
	if (y > 9999)
		y = 9999;
	put_digits(buf, (unsigned)y, 4);
	buf[4] = '-';
	put_digits(buf + 5, m, 2);
	buf[7] = '-';
	put_digits(buf + 8, d, 2);
	buf[10] = 'T';
	put_digits(buf + 11, (unsigned)(secs / 3600), 2);
	buf[13] = ':';
	put_digits(buf + 14, (unsigned)(secs / 60 % 60), 2);
	buf[16] = ':';
	put_digits(buf + 17, (unsigned)(secs % 60), 2);
	memcpy(buf + 19, "+08:00", 7);
}
