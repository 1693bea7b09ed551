/*
 * calendar.c - days since 1970-01-01 in the proleptic Gregorian calendar
 * (H. Hinnant's algorithms) and their YYYY-MM-DD form.
 *
 * The generator keeps every date as an int32_t day number, so "n years
 * later" and "before --as-of" are integer arithmetic; these convert at
 * the edges.  Independent of engine/day.c on purpose, like the check
 * characters in ids.c: the generator doubles as a cross-check.
 */

#include "gen.h"

int32_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	const int era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned mm = (unsigned)m, dd = (unsigned)d;
	const unsigned doy = (153 * (mm > 2 ? mm - 3 : mm + 9) + 2) / 5 + dd - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int32_t)doe - 719468;
}

void civil_from_days(int32_t z, int *y, int *m, int *d)
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

bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

int year_of(int32_t day)
{
	int y, m, d;
	civil_from_days(day, &y, &m, &d);
	return y;
}

/* The same calendar day n years later (29 Feb falls back to 28 Feb). */
int32_t add_years(int32_t day, int n)
{
	int y, m, d;
	civil_from_days(day, &y, &m, &d);
	y += n;
	if (m == 2 && d == 29 && !is_leap(y))
		d = 28;
	return days_from_civil(y, m, d);
}

/* YYYY-MM-DD */
char *put_date(char *p, int32_t day)
{
	int y, m, d;
	civil_from_days(day, &y, &m, &d);
	p = put_uw(p, (uint64_t)y, 4);
	*p++ = '-';
	p = put_uw(p, (uint64_t)m, 2);
	*p++ = '-';
	return put_uw(p, (uint64_t)d, 2);
}
