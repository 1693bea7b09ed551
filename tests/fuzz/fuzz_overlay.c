/*
 * fuzz_overlay.c - libFuzzer target: live updates (engine/overlay.h
 * sx_overlay_apply) chained on a small snapshot, and decisions through
 * the derived handles.
 *
 * The snapshot is built once at startup (the list of fuzz_snap_struct.c:
 * every ID type and status, one ID in several cases, a USCC and its ORG,
 * permits).  Input: up to 8 update commands separated by '\n', their words
 * separated by '\t', as RESP would carry them (argv[0] the command name:
 * LIST.ADD field value ..., LIST.REMOVE / SUSPEND / RESUME case type id,
 * PERMIT.ADD ..., PERMIT.REMOVE ref, or anything else).  Each word is its
 * own heap block of exactly its length.  Each command is applied to the
 * handle the last successful one produced (copy on write: the old overlay
 * is given as `old`, the new one derived from the base with
 * sx_snap_derive), so later commands act on what earlier ones added,
 * removed or suspended.
 *
 * After every command, successful or not:
 *   - a refusal leaves no overlay, has a reason, and is SX_EINVAL,
 *     SX_ENOTFOUND or -ENOMEM;
 *   - every record (snapshot and live) is read and formatted;
 *   - every snapshot ID and every word of the command that parses as an ID
 *     of any type is decided on every channel, on several days, with
 *     sx_decide (record buffer exactly sx_snap_max_query_records() on the
 *     heap), sx_decide_batch (must agree) and sx_listed: DENY exactly when
 *     records are named, each once and in list order, and DENY implies
 *     LISTED;
 *   - a LIST.ADD that was accepted with status active makes its ID LISTED
 *     on its listed_on day.
 */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "decide.h"
#include "overlay.h"
#include "row.h"
#include "snapshot.h"

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_overlay: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                           \
	} while (0)

#include "fuzz_snapshot.h"

/* ---- deciding ------------------------------------------------------------ */

static sx_snap *base;
static const uint16_t days[3] = { 20463, 20100, 19500 };  /* 2026-01-10 ... */

/* A query class for channel c: seat or star (k & 1) for rail, ship and
 * hotel; the k-th class (wrapping) of a joint channel with classes under
 * s's rule table; none for the others. */
static uint16_t class_of(const sx_snap *s, int c, unsigned k)
{
	if (c == SX_C_RAIL || c == SX_C_SHIP || c == SX_C_HOTEL)
		return (uint16_t)(k & 1);
	if (!(SX_CODES_CLASSED >> c & 1))
		return SX_CLASS_NONE;
	const sx_rules *r = sx_snap_rules(s);
	unsigned n = 0;
	for (int i = 0; i < r->nclasses; i++)
		n += r->cls[i].chan == c;
	if (!n)
		return SX_CLASS_NONE;
	for (int i = 0, j = 0; i < r->nclasses; i++)
		if (r->cls[i].chan == c && (unsigned)j++ == k % n)
			return (uint16_t)i;
	return SX_CLASS_NONE;
}


static void decide_one(const sx_snap *s, const sx_query *q)
{
	uint32_t max = sx_snap_max_query_records(s);
	uint32_t *recs = malloc(((size_t)max ? max : 1) * sizeof *recs);
	uint32_t *brecs = malloc(((size_t)max ? max : 1) * sizeof *brecs);
	sx_decision d, bd;
	char buf[2200];
	CHECK(recs && brecs, "out of memory");
	sx_decide(s, q, &d, recs);
	CHECK(d.nrec <= max, "%u records, max %u", d.nrec, max);
	CHECK(sx_reason_names_records(d.reason) == (d.nrec > 0),
	      "DENY or REVIEW iff records");
	for (uint32_t j = 1; j < d.nrec; j++)
		CHECK(d.rec[j - 1] < d.rec[j], "records %u then %u: not once each in "
		      "list order", d.rec[j - 1], d.rec[j]);
	for (uint32_t j = 0; j < d.nrec; j++)
		sx_record_format(s, d.rec[j], buf, sizeof buf);
	CHECK(sx_decide_batch(s, q, 1, &bd, brecs, max) == 1, "batch");
	CHECK(bd.reason == d.reason && bd.nrec == d.nrec &&
	      (d.nrec == 0 || !memcmp(bd.rec, d.rec, d.nrec * sizeof *d.rec)),
	      "batch and single disagree");
	if (sx_reason_names_records(d.reason))
		CHECK(sx_listed(s, q), "DENY or REVIEW but not LISTED");
	free(recs);
	free(brecs);
}

static void decide_id(const sx_snap *s, const sx_id *id, int ndays)
{
	for (int c = 0; c < SX_NCODES; c++)
		for (int d = 0; d < ndays; d++) {
			sx_query q = { .id = *id, .chan = (uint8_t)c, .type = id->type,
			               .day = days[d], .cls = class_of(s, c, (unsigned)d) };
			decide_one(s, &q);
		}
}

/* A query for the snapshot's key k: the keys a real query has. */
static void decide_key(const sx_snap *s, const sx_key *k)
{
	char buf[SX_ID_MAX + 1];
	int kind;
	sx_id id;
	memset(&id, 0, sizeof id);
	size_t n = sx_key_unpack(k, &kind, buf);
	id.key[0] = *k;
	id.nkeys = 1;
	if (kind == SX_KK_USCC && n == 18 &&
	    sx_key_pack(SX_KK_ORG, buf + 8, 9, &id.key[1]) == 0)
		id.nkeys = 2;
	if (kind == SX_KK_ORG && n == 9 &&
	    sx_key_pack(SX_KK_EMB, buf, 9, &id.key[1]) == 0)
		id.nkeys = 2;
	decide_id(s, &id, 1);
}

static void serve(const sx_snap *s, const sx_str *words, size_t nw)
{
	const sx_snap_info *in = sx_snap_get_info(s);
	sx_overlay_stats st;
	char buf[2200];
	sx_overlay_get_stats(sx_snap_overlay(s), &st);
	for (uint64_t r = 0; r < in->records + st.records; r++) {
		sx_recview v;
		sx_snap_record(s, (uint32_t)r, &v);
		sx_record_format(s, (uint32_t)r, buf, sizeof buf);
	}
	for (uint64_t k = 0; k < in->keys; k++)
		decide_key(s, sx_snap_key(s, (uint32_t)k));
	for (size_t i = 1; i < nw; i++)
		for (int t = 0; t < SX_NIDTYPES; t++) {
			sx_id id;
			const char *why;
			if (sx_id_parse(t, words[i].p, words[i].n, SX_SIDE_QUERY, &id,
			                &why) == 0)
				decide_id(s, &id, 3);
		}
}

/* An accepted LIST.ADD of an active record: its ID is LISTED on its
 * listed_on day. */
static void check_added(const sx_snap *s, const sx_str *argv, size_t argc)
{
	sx_str f[SX_NLIST_COLUMNS];
	sx_listrow lr;
	char why[256];
	memset(f, 0, sizeof f);
	for (size_t i = 1; i + 1 < argc; i += 2)
		for (int c = 0; c < SX_NLIST_COLUMNS; c++)
			if (strlen(sx_list_column_names[c]) == argv[i].n &&
			    !strncasecmp(argv[i].p, sx_list_column_names[c], argv[i].n))
				f[c] = argv[i + 1];
	CHECK(sx_listrow_parse(f, &lr, why, sizeof why) == 0,
	      "LIST.ADD accepted a row the validator refuses: %s", why);
	if (lr.status != SX_ST_ACTIVE)
		return;
	sx_query q = { .id = lr.id, .chan = SX_C_AIR, .type = lr.id.type,
	               .day = lr.listed_on, .cls = SX_CLASS_NONE };
	q.id.nkeys = 1;
	CHECK(sx_listed(s, &q), "LIST.ADD of active %s in force from %u is not "
	      "LISTED that day", lr.id.norm, lr.listed_on);
}

/* ---- the target ------------------------------------------------------------ */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char why[512] = "";
	(void)argc;
	(void)argv;
	build_snapshot();
	CHECK(sx_snap_open(snap_path, &base, why, sizeof why) == 0, "open: %s", why);
	remove_snapshot_dir();     /* the map outlives the file */
	return 0;
}

#define MAXCMD 8
#define MAXW   64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	sx_snap *cur = NULL;
	char why[300];

	for (int cmd = 0; cmd < MAXCMD && p < end; cmd++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		sx_str w[MAXW];
		char *copies[MAXW];
		size_t nw = 0;
		for (const char *q = p; nw < MAXW;) {
			const char *tab = memchr(q, '\t', (size_t)(eol - q));
			size_t n = (size_t)((tab ? tab : eol) - q);
			copies[nw] = malloc(n ? n : 1);
			CHECK(copies[nw] != NULL, "out of memory");
			if (n)
				memcpy(copies[nw], q, n);
			w[nw] = (sx_str){ copies[nw], n };
			nw++;
			if (!tab)
				break;
			q = tab + 1;
		}
		p = eol < end ? eol + 1 : end;

		const sx_snap *s = cur ? cur : base;
		sx_overlay *ov = (sx_overlay *)1;
		memset(why, 0x55, sizeof why);
		int rc = sx_overlay_apply(s, sx_snap_overlay(s), w, nw, &ov, why,
		                          sizeof why);
		if (rc) {
			CHECK(ov == NULL, "a refused update left an overlay");
			CHECK(rc == SX_EINVAL || rc == SX_ENOTFOUND || rc == -ENOMEM,
			      "code %d", rc);
			CHECK(memchr(why, 0, sizeof why) && why[0], "reason");
		} else {
			sx_snap *next = NULL;
			CHECK(ov != NULL, "no overlay");
			CHECK(sx_snap_derive(base, ov, &next) == 0, "derive");
			sx_snap_close(cur);
			cur = next;
			if (sx_update_parse(w[0].p, w[0].n) == SX_UP_LIST_ADD)
				check_added(cur, w, nw);
		}
		serve(cur ? cur : base, w, nw);
		for (size_t i = 0; i < nw; i++)
			free(copies[i]);
	}
	sx_snap_close(cur);
	return 0;
}
