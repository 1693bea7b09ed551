/*
 * ovview.c - the read side of an overlay (contract in ovview.h): find an
 * overlay's records by key, a snapshot record's status after the
 * overlay, removed permits, and the derived handle that reads a snapshot
 * through an overlay.
 *
 * The idea: an overlay is frozen (overlay.c) into sorted arrays, so every
 * question here is a binary search, and a key the overlay does not hold
 * is nearly always turned away by a 2^16-bit filter before the search.
 * A derived handle is a copy of its base's handle struct pointing at the
 * same map plus the overlay: no bytes of the snapshot are copied, and
 * the snapshot reader needs no branch except "is there an overlay".
 * Nothing here builds overlays or opens files, so this file sits below
 * both snapshot.c and overlay.c.
 */
#include "ovview.h"
#include "snapint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- lookups ------------------------------------------------------------- */

int sx_ov_find(const sx_overlay *ov, const sx_key *k, const uint32_t **post,
               uint32_t *n)
{
	uint32_t bit = sx_ov_filter_bit(k);
	if (!(ov->filter[bit >> 6] >> (bit & 63) & 1))
		return 0;
	uint32_t lo = 0, hi = ov->nkeys;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = sx_key_cmp(&ov->keys[mid].key, k);
		if (c == 0) {
			*post = ov->post + ov->keys[mid].first;
			*n = ov->keys[mid].n;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int sx_ov_status(const sx_overlay *ov, uint32_t rec, int own)
{
	uint32_t lo = 0, hi = ov->nmasks;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ov->masks[mid].rec == rec)
			return ov->masks[mid].status;
		if (ov->masks[mid].rec < rec)
			lo = mid + 1;
		else
			hi = mid;
	}
	return own;
}

int sx_ov_permit_removed(const sx_overlay *ov, uint32_t i)
{
	uint32_t lo = 0, hi = ov->nremoved;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ov->permit_removed[mid] == i)
			return 1;
		if (ov->permit_removed[mid] < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void sx_ov_record(const sx_overlay *ov, uint32_t i, sx_recview *v)
{
	const struct sx_ov_rec *r = &ov->recs[i];
	v->case_no = r->case_no;
	v->case_len = r->case_len;
	v->court = r->court;
	v->court_len = r->court_len;
	v->case_id = UINT32_MAX;
	v->id_key = UINT32_MAX;
	v->listed_on = r->listed_on;
	v->expires_on = r->expires_on;
	v->codes = r->codes;
	v->role = r->role;
	v->list = r->list;
	v->status = r->status;
	v->id_type = r->id_type;
}

/* ---- lifetime and stats -------------------------------------------------- */

void sx_overlay_free(sx_overlay *ov)
{
	if (!ov)
		return;
	free(ov->recs);
	free(ov->masks);
	free(ov->permits);
	free(ov->permit_removed);
	free(ov->keys);
	free(ov->post);
	free(ov->arena);
	free(ov);
}

void sx_overlay_get_stats(const sx_overlay *ov, sx_overlay_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!ov)
		return;
	st->records = ov->nrecs;
	st->masked = ov->nmasks;
	st->permits = ov->npermits;
	st->permits_removed = ov->nremoved;
	st->updates = ov->updates;
}

/* ---- derived handles ----------------------------------------------------- */

int sx_snap_derive(const sx_snap *base, sx_overlay *ov, sx_snap **out)
{
	sx_snap *s = malloc(sizeof(*s));
	if (!s) {
		sx_overlay_free(ov);
		return -ENOMEM;
	}
	base = base->origin;
	*s = *base;
	s->ov = ov && (ov->nrecs || ov->nmasks || ov->npermits || ov->nremoved) ?
	        ov : NULL;
	if (!s->ov)
		sx_overlay_free(ov);
	s->origin = base;
	s->derived = 1;
	*out = s;
	return 0;
}

const sx_overlay *sx_snap_overlay(const sx_snap *s) { return s->ov; }
const sx_snap *sx_snap_base(const sx_snap *s) { return s->origin; }
