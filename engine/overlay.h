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
 * This header builds overlays; reading a snapshot through one
 * (sx_snap_derive, freeing, stats) is ovview.h, which it includes.
 */
#ifndef SX_OVERLAY_H
#define SX_OVERLAY_H

#include <stdint.h>
#include "decide.h"
#include "ovview.h"     /* sx_overlay, reading through one */
#include "snapshot.h"

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
 * On success why holds a warning, or "" when there is none: a LIST.ADD
 * of a related person naming codes only a debtor carries (the loader's
 * words for the same row; the record is applied without them).
 * The caller owns *out (sx_overlay_free, or hand it to sx_snap_derive).
 */
int sx_overlay_apply(const sx_snap *base, const sx_overlay *old,
                     const sx_str *argv, size_t argc, sx_overlay **out,
                     char *why, size_t cap);

/*
 * Turn a Redis stream entry's fields (SPEC section 10: `op` and the
 * command's arguments as field/value pairs named as in section 2 and the
 * permits CSV) into the update's command words, as RESP would carry them:
 * LIST.ADD keeps its field/value pairs, the others become positional.
 * fields[0..nf) alternate name, value.  Fills argv (room for 40) and
 * returns argc, or -1 with the reason in why ("missing field 'id_no'",
 * "unknown op 'X'", "unknown field 'y' for LIST.REMOVE").  argv points
 * into fields.  The field `by` (who published the entry, for the
 * journal: `sxgate publish --by`) is no word of the command: its value
 * goes to *by ({NULL, 0} when the entry has none; by may be NULL).
 */
int sx_update_from_fields(const sx_str *fields, size_t nf, sx_str *argv,
                          sx_str *by, char *why, size_t cap);

#endif
