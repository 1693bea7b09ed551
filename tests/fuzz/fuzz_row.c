/*
 * fuzz_row.c - libFuzzer target: the row validator (engine/row.h) that
 * the loader and LIST.ADD / PERMIT.ADD share.
 *
 * Input: a mode byte (bit 0: permit row instead of list row; bits 1..7:
 * the capacity of the reason buffer, 0..127, so that truncated reasons are
 * exercised too), two bytes of a mask of columns given as NULL ("the input
 * lacks this column"), then the fields separated by '\n' in column order.
 * Missing trailing fields are NULL.  Each field is copied to its own heap
 * block of exactly its length, so a read one byte past a field is an ASan
 * report, not a silent read of the next field.
 *
 * Checked beyond the sanitizers: a refused row has a NUL-terminated reason
 * that fits its buffer; an accepted row obeys the contract: enums in range,
 * dates ordered, codes a subset of the known ones (non-empty for a permit
 * and a debtor; consumption codes only for XG; for a related person only
 * the consumption codes and STRAIT, APPOINT, ASSET, with what it named
 * beyond them in `dropped` and its warning well formed), case number
 * and court without '|' or line breaks and at most 1000 bytes, views that
 * point into the caller's fields, a region of six digits or nothing, and
 * an ID that parses again, from its normalised form, to the same keys.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "row.h"

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_row: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                           \
	} while (0)

#define MAXF 16

static int inside(sx_str v, const sx_str *f, int nf)
{
	if (!v.p)
		return v.n == 0;
	for (int i = 0; i < nf; i++)
		if (f[i].p && v.p >= f[i].p && v.p + v.n <= f[i].p + f[i].n)
			return 1;
	return 0;
}

static int clean_text(sx_str v)
{
	for (size_t i = 0; i < v.n; i++)
		if (v.p[i] == '|' || v.p[i] == '\n' || v.p[i] == '\r')
			return 0;
	return v.n <= 1000;
}

static void check_id(const sx_id *id)
{
	sx_id again;
	const char *why = NULL;
	CHECK(id->len == strlen(id->norm) && id->len <= SX_ID_MAX, "norm");
	CHECK(sx_id_parse(id->type, id->norm, id->len, SX_SIDE_LIST, &again,
	                  &why) == 0, "normalised '%s' refused: %s", id->norm,
	      why ? why : "?");
	CHECK(sx_key_eq(&again.key[0], &id->key[0]) && again.nkeys == id->nkeys &&
	      (id->nkeys < 2 || sx_key_eq(&again.key[1], &id->key[1])),
	      "keys of '%s' change when parsed again", id->norm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sx_str f[MAXF];
	char *copies[MAXF] = { 0 };
	int nf;

	if (size < 3)
		return 0;
	int permit = data[0] & 1;
	size_t cap = data[0] >> 1;
	unsigned nullmask = (unsigned)data[1] | (unsigned)data[2] << 8;
	const char *p = (const char *)data + 3, *end = (const char *)data + size;

	nf = permit ? SX_NPERMIT_COLUMNS : SX_NLIST_COLUMNS;
	for (int i = 0; i < MAXF; i++)
		f[i] = (sx_str){ NULL, 0 };
	for (int i = 0; i < nf && p <= end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		if (!(nullmask >> i & 1)) {
			copies[i] = malloc(n ? n : 1);
			CHECK(copies[i] != NULL, "out of memory");
			if (n)
				memcpy(copies[i], p, n);
			f[i] = (sx_str){ copies[i], n };
		}
		if (!nl)
			break;
		p = nl + 1;
	}

	char *why = cap ? malloc(cap) : NULL;
	if (cap)
		memset(why, 0x55, cap);
	if (permit) {
		sx_permitrow r;
		if (sx_permitrow_parse(f, &r, why, cap) == 0) {
			CHECK(r.valid_from <= r.valid_to, "valid period");
			CHECK(r.codes && !(r.codes & ~SX_CODES_ALL), "codes %#llx",
			      (unsigned long long)r.codes);
			CHECK(r.case_no.n && clean_text(r.case_no) && inside(r.case_no, f, nf),
			      "case_no");
			CHECK(r.ref.n && clean_text(r.ref) && inside(r.ref, f, nf), "ref");
			check_id(&r.id);
		} else if (cap) {
			CHECK(memchr(why, 0, cap) != NULL, "reason not terminated");
			CHECK(cap == 1 || why[0] != 0, "empty reason");
		}
	} else {
		sx_listrow r;
		if (sx_listrow_parse(f, &r, why, cap) == 0) {
			CHECK(r.role < SX_NROLES && r.list < SX_NLISTS &&
			      r.status < SX_NSTATUSES, "enums");
			CHECK(r.listed_on <= r.expires_on, "period %u..%u",
			      r.listed_on, r.expires_on);
			CHECK(!(r.codes & ~SX_CODES_ALL) && (r.codes || r.role != SX_ROLE_DEBTOR),
			      "codes %#llx", (unsigned long long)r.codes);
			CHECK(r.list != SX_LIST_XG || !(r.codes & ~SX_CODES_CONS),
			      "XG row with joint codes %#llx", (unsigned long long)r.codes);
			CHECK(r.role == SX_ROLE_DEBTOR ? !r.dropped :
			      !(r.codes & ~SX_CODES_RELATED) && !(r.dropped & SX_CODES_RELATED),
			      "role %u codes %#llx dropped %#llx", r.role,
			      (unsigned long long)r.codes, (unsigned long long)r.dropped);
			if (r.dropped) {
				char w[600];
				sx_listrow_dropped_warning(r.role, r.dropped, w, sizeof w);
				CHECK(strstr(w, sx_code_name(__builtin_ctzll(r.dropped))) &&
				      !strchr(w, '\n'), "warning '%s'", w);
			}
			CHECK(r.case_no.n && clean_text(r.case_no) && inside(r.case_no, f, nf),
			      "case_no");
			CHECK(r.court.n && clean_text(r.court) && inside(r.court, f, nf),
			      "court");
			CHECK(r.name.n && inside(r.name, f, nf), "name");
			CHECK(inside(r.region, f, nf), "region view");
			if (r.region.p && r.region.n) {
				CHECK(r.region.n == 6, "region length %zu", r.region.n);
				for (int i = 0; i < 6; i++)
					CHECK(r.region.p[i] >= '0' && r.region.p[i] <= '9',
					      "region digit");
			}
			check_id(&r.id);
		} else if (cap) {
			CHECK(memchr(why, 0, cap) != NULL, "reason not terminated");
			CHECK(cap == 1 || why[0] != 0, "empty reason");
		}
	}
	free(why);
	for (int i = 0; i < MAXF; i++)
		free(copies[i]);
	return 0;
}
