/*
 * ovview.h - reading a snapshot through an overlay: the read side of live
 * updates (overlay.h builds overlays; this file only reads them).
 *
 * sx_snap_derive() pairs a snapshot with an overlay into a handle that
 * every snapshot.h and decide.h call accepts: decisions, LISTED, record
 * formatting and max_query_records then see the updates.  Overlay records
 * are numbered after the snapshot's (n_records + i), so "list order"
 * places live additions after the export.
 *
 * The read side sits below the snapshot reader: snapshot.c asks it for an
 * overlay record and a masked status, and it knows nothing of building
 * overlays or of opening files, so the dependency runs one way (overlay.c
 * and snapshot.c use ovview.c, never the reverse).
 */
#ifndef SX_OVVIEW_H
#define SX_OVVIEW_H

#include <stdint.h>
#include "decide.h"      /* sx_recview */
#include "id.h"          /* sx_key */
#include "snapshot.h"

/* An immutable set of changes to one snapshot (overlay.h). */
typedef struct sx_overlay sx_overlay;

/* Free an overlay (NULL is fine).  Only once no reader holds it. */
void sx_overlay_free(sx_overlay *ov);

/* Counts for INFO. */
typedef struct sx_overlay_stats {
	uint32_t records;        /* live-added records */
	uint32_t masked;         /* snapshot records removed or re-statused */
	uint32_t permits;        /* live-added permits */
	uint32_t permits_removed;
	uint64_t updates;        /* updates applied to reach this overlay */
} sx_overlay_stats;
/* ov may be NULL: all zero. */
void sx_overlay_get_stats(const sx_overlay *ov, sx_overlay_stats *st);

/*
 * A handle that reads base through overlay ov.  It shares base's map
 * (base must outlive it) and takes ownership of ov (NULL: no changes).
 * Close it with sx_snap_close(), which frees ov but not base's map.
 * Returns 0 or -ENOMEM (ov is then freed).
 */
int sx_snap_derive(const sx_snap *base, sx_overlay *ov, sx_snap **out);

/* The overlay a handle reads through (NULL for a plain snapshot), and the
 * base snapshot (itself for a plain one). */
const sx_overlay *sx_snap_overlay(const sx_snap *s);
const sx_snap *sx_snap_base(const sx_snap *s);

/* ---- for the engine's read path (snapshot.c, decide.c) ------------------ */

/* Find the overlay records of key k: their numbers (relative to the
 * overlay) in *post[0..*n), valid while ov lives.  0 when it has none. */
int sx_ov_find(const sx_overlay *ov, const sx_key *k, const uint32_t **post,
               uint32_t *n);
/* The status of snapshot record rec after the overlay: its own, a new
 * one, or SX_OV_REMOVED (snapint.h). */
int sx_ov_status(const sx_overlay *ov, uint32_t rec, int own);
/* Is snapshot permit number i removed by the overlay? */
int sx_ov_permit_removed(const sx_overlay *ov, uint32_t i);
/* Overlay record i (relative to the overlay) as a record view; its
 * strings point into ov's arena.  case_id and id_key are UINT32_MAX. */
void sx_ov_record(const sx_overlay *ov, uint32_t i, sx_recview *v);

#endif
