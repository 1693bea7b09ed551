/*
 * row.c - field-by-field validation of list and permit rows.
 *
 * Each check names the column and quotes the value (cut and cleaned of
 * control bytes), because the person reading the rejects file has to find
 * the row's problem without opening a hex editor.
 */
#include "row.h"

#include <stdio.h>
#include <string.h>

const char *const sx_list_column_names[SX_NLIST_COLUMNS] = {
#define X(e, name, req) name,
	SX_LIST_COLUMNS(X)
#undef X
};
const unsigned char sx_list_column_required[SX_NLIST_COLUMNS] = {
#define X(e, name, req) req,
	SX_LIST_COLUMNS(X)
#undef X
};
const char *const sx_permit_column_names[SX_NPERMIT_COLUMNS] = {
#define X(e, name, req) name,
	SX_PERMIT_COLUMNS(X)
#undef X
};

static sx_str trim(sx_str s)
{
	if (!s.p)
		return s;
	while (s.n && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.n--;
	}
	while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
		s.n--;
	return s;
}

static int bad(char *why, size_t cap, const char *col, const char *what,
               sx_str v)
{
	char q[64];
	size_t o = 0, n = v.n > 40 ? 40 : v.n;
	for (size_t i = 0; i < n && o + 4 < sizeof(q); i++) {
		unsigned char c = (unsigned char)v.p[i];
		q[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (v.n > n)
		o += (size_t)snprintf(q + o, sizeof(q) - o, "...");
	q[o] = 0;
	snprintf(why, cap, "%s %s '%s'", what, col, q);
	return -1;
}

static int missing(char *why, size_t cap, const char *col)
{
	snprintf(why, cap, "missing %s", col);
	return -1;
}

/* case_no and court go into "case_no|court|role|list" replies. */
static int text_ok(sx_str v)
{
	for (size_t i = 0; i < v.n; i++)
		if (v.p[i] == '|' || v.p[i] == '\n' || v.p[i] == '\r')
			return 0;
	return 1;
}

static int parse_id(sx_str type, sx_str no, sx_id *id, char *why, size_t cap)
{
	const char *r;
	int t = sx_idtype_parse(type.p, type.n);
	if (t < 0)
		return bad(why, cap, "id_type", "unknown", type);
	if (sx_id_parse(t, no.p, no.n, SX_SIDE_LIST, id, &r)) {
		snprintf(why, cap, "malformed id_no: %s", r);
		return -1;
	}
	return 0;
}

int sx_listrow_parse(const sx_str *in, sx_listrow *o, char *why, size_t cap)
{
	sx_str f[SX_NLIST_COLUMNS];
	for (int i = 0; i < SX_NLIST_COLUMNS; i++) {
		f[i] = trim(in[i]);
		if (sx_list_column_required[i] && (!f[i].p || !f[i].n))
			return missing(why, cap, sx_list_column_names[i]);
	}
	memset(o, 0, sizeof(*o));
	o->case_no = f[SX_COL_CASE_NO];
	o->court = f[SX_COL_COURT];
	o->name = f[SX_COL_NAME];
	o->region = f[SX_COL_REGION];
	if (!text_ok(o->case_no))
		return bad(why, cap, "case_no", "'|' or a line break in", o->case_no);
	if (!text_ok(o->court))
		return bad(why, cap, "court", "'|' or a line break in", o->court);
	if (o->case_no.n > 1000 || o->court.n > 1000)
		return bad(why, cap, o->case_no.n > 1000 ? "case_no" : "court",
		           "over 1000 bytes:", o->case_no.n > 1000 ? o->case_no : o->court);

	int v = sx_list_parse(f[SX_COL_LIST].p, f[SX_COL_LIST].n);
	if (v < 0)
		return bad(why, cap, "list", "unknown", f[SX_COL_LIST]);
	o->list = (uint8_t)v;
	if ((v = sx_role_parse(f[SX_COL_ROLE].p, f[SX_COL_ROLE].n)) < 0)
		return bad(why, cap, "role", "unknown", f[SX_COL_ROLE]);
	o->role = (uint8_t)v;
	if ((v = sx_status_parse(f[SX_COL_STATUS].p, f[SX_COL_STATUS].n)) < 0)
		return bad(why, cap, "status", "unknown", f[SX_COL_STATUS]);
	o->status = (uint8_t)v;
	if (parse_id(f[SX_COL_ID_TYPE], f[SX_COL_ID_NO], &o->id, why, cap))
		return -1;
	if (sx_day_parse(f[SX_COL_LISTED_ON].p, f[SX_COL_LISTED_ON].n,
	                 &o->listed_on))
		return bad(why, cap, "listed_on", "impossible date in",
		           f[SX_COL_LISTED_ON]);
	o->expires_on = SX_DAY_NONE;
	if (f[SX_COL_EXPIRES_ON].p && f[SX_COL_EXPIRES_ON].n) {
		if (sx_day_parse(f[SX_COL_EXPIRES_ON].p, f[SX_COL_EXPIRES_ON].n,
		                 &o->expires_on))
			return bad(why, cap, "expires_on", "impossible date in",
			           f[SX_COL_EXPIRES_ON]);
		if (o->expires_on < o->listed_on)
			return bad(why, cap, "listed_on", "expires_on is before",
			           f[SX_COL_LISTED_ON]);
	}
	sx_codes named = 0;
	if (f[SX_COL_RESTRICTIONS].p && f[SX_COL_RESTRICTIONS].n) {
		const char *b;
		size_t bl;
		if (sx_codes_parse(f[SX_COL_RESTRICTIONS].p, f[SX_COL_RESTRICTIONS].n,
		                   &named, &b, &bl))
			return bad(why, cap, "in restrictions", "unknown code",
			           (sx_str){ b, bl });
	}
	if (o->list == SX_LIST_XG && (named & ~SX_CODES_CONS)) {
		int c = __builtin_ctzll(named & ~SX_CODES_CONS);
		snprintf(why, cap, "XG row names joint-punishment code '%s' in "
		         "restrictions (a consumption-restriction order restricts "
		         "consumption only)", sx_code_name(c));
		return -1;
	}
	o->codes = named ? named : sx_codes_default(o->list);
	if (o->role != SX_ROLE_DEBTOR) {
		o->dropped = named & ~SX_CODES_RELATED;
		o->codes &= SX_CODES_RELATED;
	}
	if (o->region.p && o->region.n) {
		int ok = o->region.n == 6;
		for (size_t i = 0; ok && i < 6; i++)
			ok = o->region.p[i] >= '0' && o->region.p[i] <= '9';
		if (!ok)
			return bad(why, cap, "region", "not a 6-digit code:", o->region);
	}
	return 0;
}

void sx_listrow_dropped_warning(int role, sx_codes dropped, char *why,
                                size_t cap)
{
	char codes[400], joint[200];
	sx_codes_format(dropped, codes, sizeof codes);
	sx_codes_format(SX_CODES_RELATED & ~SX_CODES_CONS, joint, sizeof joint);
	for (char *p = joint; (p = strchr(p, ';'));)
		*p = ',';
	snprintf(why, cap, "a %s restricts only the consumption codes and %s; "
	         "%s named in restrictions restrict%s nothing for this row",
	         sx_role_name(role), joint, codes,
	         dropped & (dropped - 1) ? "" : "s");
}

int sx_permitrow_parse(const sx_str *in, sx_permitrow *o, char *why,
                       size_t cap)
{
	sx_str f[SX_NPERMIT_COLUMNS];
	for (int i = 0; i < SX_NPERMIT_COLUMNS; i++) {
		f[i] = trim(in[i]);
		if (!f[i].p || !f[i].n)
			return missing(why, cap, sx_permit_column_names[i]);
	}
	memset(o, 0, sizeof(*o));
	o->case_no = f[SX_PCOL_CASE_NO];
	o->ref = f[SX_PCOL_PERMIT_REF];
	if (!text_ok(o->case_no) || o->case_no.n > 1000)
		return bad(why, cap, "case_no", "'|', a line break or over 1000 bytes in",
		           o->case_no);
	if (!text_ok(o->ref) || o->ref.n > 1000)
		return bad(why, cap, "permit_ref", "'|', a line break or over 1000 bytes in",
		           o->ref);
	if (parse_id(f[SX_PCOL_ID_TYPE], f[SX_PCOL_ID_NO], &o->id, why, cap))
		return -1;
	const char *b;
	size_t bl;
	if (sx_codes_parse(f[SX_PCOL_CODES].p, f[SX_PCOL_CODES].n, &o->codes,
	                   &b, &bl))
		return bad(why, cap, "in codes", "unknown code", (sx_str){ b, bl });
	if (!o->codes)
		return missing(why, cap, "codes");
	if (sx_day_parse(f[SX_PCOL_VALID_FROM].p, f[SX_PCOL_VALID_FROM].n,
	                 &o->valid_from))
		return bad(why, cap, "valid_from", "impossible date in",
		           f[SX_PCOL_VALID_FROM]);
	if (sx_day_parse(f[SX_PCOL_VALID_TO].p, f[SX_PCOL_VALID_TO].n,
	                 &o->valid_to))
		return bad(why, cap, "valid_to", "impossible date in",
		           f[SX_PCOL_VALID_TO]);
	if (o->valid_to < o->valid_from)
		return bad(why, cap, "valid_from", "valid_to is before",
		           f[SX_PCOL_VALID_FROM]);
	return 0;
}
