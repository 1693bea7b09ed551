/*
 * overlay.h - live updates on top of a snapshot (SPEC sections 5 and 7).
 *
 * An overlay is an immutable set of changes to one snapshot: records
 * added (LIST.ADD), snapshot records removed or with their status changed
 * (LIST.ADD replacing, LIST.REMOVE, LIST.SUSPEND, LIST.RESUME), permits
 * added and removed.  An update never changes an overlay: it builds the
 * next one (copy on write), which the server publishes the way it
 * publishes a snapshot, so lookups stay lock-free and no reply mixes two
 * states.  Updates are rare (thousands a day against millions of lookups
 * a second), so copying the overlay per update is the cheap side of the
 * trade.
 *
 * sx_snap_derive() pairs a snapshot with an overlay into a handle that
 * every snapshot.h and decide.h call accepts: decisions, LISTED, record
 * formatting and max_query_records then see the updates.  Overlay records
 * are numbered after the snapshot's (n_records + i), so "list order"
 * places live additions after the export.
 */
#ifndef SX_OVERLAY_H
#define SX_OVERLAY_H

#include <stdint.h>
#include "decide.h"
#include "snapshot.h"

typedef struct sx_overlay sx_overlay;

/* The update commands, as their RESP names. */
#define SX_UPDATES(X)                                      \
	X(SX_UP_LIST_ADD,      "LIST.ADD")                 \
	X(SX_UP_LIST_REMOVE,   "LIST.REMOVE")              \
	X(SX_UP_LIST_SUSPEND,  "LIST.SUSPEND")             \
	X(SX_UP_LIST_RESUME,   "LIST.RESUME")              \
	X(SX_UP_PERMIT_ADD,    "PERMIT.ADD")               \
	X(SX_UP_PERMIT_REMOVE, "PERMIT.REMOVE")

enum {
#define X(e, name) e,
	SX_UPDATES(X)
#undef X
	SX_NUPDATES
};

/* The update named by word (case-insensitive), or -1. */
int sx_update_parse(const char *word, size_t len);

/*
 * Apply one update command (argv[0] is its name, as RESP carries it) to
 * base + old (old may be NULL: no changes yet) and return the next
 * overlay in *out.  Nothing is changed on failure: returns SX_EINVAL with
 * the reason in why (the loader's words for bad fields: "malformed id_no:
 * ...", "unknown field 'x'"), SX_ENOTFOUND ("not found") when a REMOVE,
 * SUSPEND, RESUME or PERMIT.REMOVE matches nothing, or -ENOMEM.
 * The caller owns *out (sx_overlay_free, or hand it to sx_snap_derive).
 */
int sx_overlay_apply(const sx_snap *base, const sx_overlay *old,
                     const sx_str *argv, size_t argc, sx_overlay **out,
                     char *why, size_t cap);

void sx_overlay_free(sx_overlay *ov);

/*
 * Turn a Redis stream entry's fields (SPEC section 10: `op` and the
 * command's arguments as field/value pairs named as in section 2 and the
 * permits CSV) into the update's command words, as RESP would carry them:
 * LIST.ADD keeps its field/value pairs, the others become positional.
 * fields[0..nf) alternate name, value.  Fills argv (room for 40) and
 * returns argc, or -1 with the reason in why ("missing field 'id_no'",
 * "unknown op 'X'", "unknown field 'y' for LIST.REMOVE").  argv points
 * into fields.
 */
int sx_update_from_fields(const sx_str *fields, size_t nf, sx_str *argv,
                          char *why, size_t cap);

/* Counts for INFO. */
typedef struct sx_overlay_stats {
	uint32_t records;        /* live-added records */
	uint32_t masked;         /* snapshot records removed or re-statused */
	uint32_t permits;        /* live-added permits */
	uint32_t permits_removed;
	uint64_t updates;        /* updates applied to reach this overlay */
} sx_overlay_stats;
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

#endif
