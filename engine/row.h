/*
 * row.h - one list row or permit row, validated against SPEC sections 2-4.
 *
 * The loader and the live-update commands (LIST.ADD, PERMIT.ADD) both go
 * through these two functions, so a bad field gets the same words whether
 * it came from a CSV file or a RESP command.  Fields come in as (pointer,
 * length) views, by column; a NULL pointer is a column the input lacks.
 * Surrounding spaces are trimmed.  Nothing is allocated: the parsed row
 * points into the caller's fields.
 */
#ifndef SX_ROW_H
#define SX_ROW_H

#include <stdint.h>
#include "decide.h"
#include "id.h"
#include "sx.h"

/* List columns: name, required. */
#define SX_LIST_COLUMNS(X)                 \
	X(SX_COL_CASE_NO,      "case_no",      1) \
	X(SX_COL_COURT,        "court",        1) \
	X(SX_COL_LIST,         "list",         1) \
	X(SX_COL_ROLE,         "role",         1) \
	X(SX_COL_ID_TYPE,      "id_type",      1) \
	X(SX_COL_ID_NO,        "id_no",        1) \
	X(SX_COL_NAME,         "name",         1) \
	X(SX_COL_STATUS,       "status",       1) \
	X(SX_COL_LISTED_ON,    "listed_on",    1) \
	X(SX_COL_EXPIRES_ON,   "expires_on",   0) \
	X(SX_COL_RESTRICTIONS, "restrictions", 0) \
	X(SX_COL_REGION,       "region",       0)

#define SX_PERMIT_COLUMNS(X)               \
	X(SX_PCOL_ID_TYPE,    "id_type",    1) \
	X(SX_PCOL_ID_NO,      "id_no",      1) \
	X(SX_PCOL_CASE_NO,    "case_no",    1) \
	X(SX_PCOL_CODES,      "codes",      1) \
	X(SX_PCOL_VALID_FROM, "valid_from", 1) \
	X(SX_PCOL_VALID_TO,   "valid_to",   1) \
	X(SX_PCOL_PERMIT_REF, "permit_ref", 1)

enum {
#define X(e, name, req) e,
	SX_LIST_COLUMNS(X)
#undef X
	SX_NLIST_COLUMNS
};
enum {
#define X(e, name, req) e,
	SX_PERMIT_COLUMNS(X)
#undef X
	SX_NPERMIT_COLUMNS
};

extern const char *const sx_list_column_names[SX_NLIST_COLUMNS];
extern const unsigned char sx_list_column_required[SX_NLIST_COLUMNS];
extern const char *const sx_permit_column_names[SX_NPERMIT_COLUMNS];

typedef struct sx_listrow {
	sx_id id;
	uint8_t role, list, status;
	uint16_t listed_on, expires_on;
	sx_codes codes;      /* what the record restricts: the codes named, or
	                        sx_codes_default(list) when none are; for a
	                        related person only those of SX_CODES_RELATED */
	sx_codes dropped;    /* codes a related person's row names that
	                        restrict nothing for it (a warning) */
	sx_str case_no, court, name, region;   /* trimmed views */
} sx_listrow;

typedef struct sx_permitrow {
	sx_id id;
	uint16_t valid_from, valid_to;
	sx_codes codes;
	sx_str case_no, ref;
} sx_permitrow;

/*
 * Validate a list row (f[SX_NLIST_COLUMNS]).  Returns 0, or -1 with the
 * reason in why, naming the column and the value ("unknown status
 * 'closed'", "id_no: RIC check character is wrong", "XG row names
 * joint-punishment code 'BIDDING' ..." ...).  A valid row may still carry
 * a warning: out->id.warn (check character loaded anyway), out->dropped
 * (sx_listrow_dropped_warning says so).
 */
int sx_listrow_parse(const sx_str *f, sx_listrow *out, char *why, size_t cap);

/* The warning for a row of role whose out->dropped is not empty, into
 * why: "a legal_rep restricts only the consumption codes and
 * STRAIT,APPOINT,ASSET; PROCUREMENT named in restrictions restricts
 * nothing for this row". */
void sx_listrow_dropped_warning(int role, sx_codes dropped, char *why,
                                size_t cap);

/* Validate a permit row (f[SX_NPERMIT_COLUMNS]); as above. */
int sx_permitrow_parse(const sx_str *f, sx_permitrow *out, char *why,
                       size_t cap);

#endif
