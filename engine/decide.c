/*
 * decide.c - SPEC section 4: parse a query, gather the records of its
 * keys, and decide.
 *
 * A query has one or two keys (id.h).  Each hit key's records are walked
 * once, in list order, and sorted into: applies (status active or
 * suspended, day within the listing period), restricts (applies, has the
 * channel's code, and the (channel, class) has an effect under the rule
 * table), neutralised (a permit of the same case, matching ID, code and
 * day).  The outcome follows the contract's order: LISTED (DENY, or
 * REVIEW when the effect is review), SUSPENDED, EXEMPT, NOT_RESTRICTED,
 * NOT_LISTED.  The related-persons rule needs no work here: the loader
 * and LIST.ADD store a record's codes with it applied (row.h).
 *
 * Bitmaps of the snapshot let a hit skip work: keys whose records are
 * all revoked or shielded are not walked at all, and keys with no live
 * record of the channel's code skip the restriction and permit tests.  Misses (most queries)
 * never get past the index.  Live updates (overlay.h) are read on the
 * same walk: a snapshot record's status may be overridden, and the
 * overlay's own records for the same keys follow the snapshot's.
 */
#include "casefold.h"
#include "decide.h"
#include "ovview.h"
#include "snapint.h"

#include <stdio.h>
#include <string.h>

static const char *const reason_names[] = {
#define X(e, d, r, k) r,
	SX_REASONS(X)
#undef X
};
static const char *const reason_decisions[] = {
#define X(e, d, r, k) d,
	SX_REASONS(X)
#undef X
};
static const char *const reason_keys[] = {
#define X(e, d, r, k) k,
	SX_REASONS(X)
#undef X
};
const char *sx_reason_name(int r) { return reason_names[r]; }
const char *sx_reason_decision(int r) { return reason_decisions[r]; }
const char *sx_reason_key(int r) { return reason_keys[r]; }

/* ---- parsing ------------------------------------------------------------- */

/* Quote user text into an error: printable ASCII and UTF-8 kept, control
 * bytes (which would break a RESP error line) replaced, long text cut. */
static void quote(char *buf, size_t cap, sx_str s)
{
	size_t o = 0, n = s.n > 40 ? 40 : s.n;
	for (size_t i = 0; i < n && o + 4 < cap; i++) {
		unsigned char c = (unsigned char)s.p[i];
		buf[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (s.n > n && o + 4 < cap) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = 0;
}

static int err(char *e, size_t cap, const char *fmt, const char *what,
               sx_str s)
{
	char q[64];
	quote(q, sizeof(q), s);
	snprintf(e, cap, fmt, q, what);
	return -1;
}

/* rail class: [letter]digits{1,4} ':' seat */
static int parse_rail(sx_str c, uint16_t *cls)
{
	const char *colon = memchr(c.p, ':', c.n);
	if (!colon)
		return -1;
	size_t tn = (size_t)(colon - c.p), i = 0;
	int kind = SX_TRAIN_OTHER;
	if (tn && ((c.p[0] | 0x20) >= 'a' && (c.p[0] | 0x20) <= 'z')) {
		char l = (char)(c.p[0] & ~0x20);
		kind = l == 'G' ? SX_TRAIN_G :
		       l == 'D' || l == 'C' || l == 'S' ? SX_TRAIN_DCS :
		       SX_TRAIN_OTHER;
		i = 1;
	}
	if (tn - i < 1 || tn - i > 4)
		return -1;
	for (; i < tn; i++)
		if (c.p[i] < '0' || c.p[i] > '9')
			return -1;
	int seat = sx_seat_parse(colon + 1, c.n - tn - 1);
	if (seat < 0)
		return -1;
	*cls = (uint16_t)(kind << 4 | seat);
	return 0;
}

/* "bank, securities, ..." or "want TRAIN:SEAT, ..." without the "want":
 * what an error says chan takes.  Error paths only. */
SX_COLD static void class_want(const sx_rules *r, int chan, char *buf, size_t cap)
{
	static const char *const want[] = {
		[SX_C_RAIL] = "TRAIN:SEAT, e.g. G1234:second",
		[SX_C_SHIP] = "special, first, second, third, fourth or 0-4",
		[SX_C_HOTEL] = "the star rating 0-5",
	};
	if (chan == SX_C_RAIL || chan == SX_C_SHIP || chan == SX_C_HOTEL)
		snprintf(buf, cap, "%s", want[chan]);
	else
		sx_rules_classes(r, chan, buf, cap);
}

static int parse_class(const sx_rules *r, int chan, sx_str c, uint16_t *cls,
                       char *e, size_t cap)
{
	char list[400];
	*cls = SX_CLASS_NONE;
	if (!sx_chan_classed(chan))
		return 0;
	if (!c.p || c.n == 0) {
		class_want(r, chan, list, sizeof list);
		snprintf(e, cap, "bad class: %s needs a class (want %s)",
		         sx_channel_name(chan), list);
		return -1;
	}
	int ok = -1;
	if (chan == SX_C_RAIL) {
		ok = parse_rail(c, cls);
	} else if (chan == SX_C_SHIP) {
		int k = sx_ship_class_parse(c.p, c.n);
		if (k >= 0) {
			*cls = (uint16_t)k;
			ok = 0;
		}
	} else if (chan == SX_C_HOTEL) {
		if (c.n == 1 && c.p[0] >= '0' && c.p[0] <= '5') {
			*cls = (uint16_t)(c.p[0] - '0');
			ok = 0;
		}
	} else {
		int i = sx_rules_class(r, chan, c.p, c.n);
		if (i >= 0) {
			*cls = (uint16_t)i;
			ok = 0;
		}
	}
	if (ok < 0) {
		char q[64];
		quote(q, sizeof(q), c);
		class_want(r, chan, list, sizeof list);
		snprintf(e, cap, "bad class '%s' for %s: want %s", q,
		         sx_channel_name(chan), list);
	}
	return ok;
}

int sx_query_when(sx_query *q, sx_str type, sx_str at, char *e, size_t cap)
{
	q->type = SX_IDT_RIC;
	if (type.p) {
		int t = sx_idtype_parse(type.p, type.n);
		if (t < 0)
			return err(e, cap, "unknown type '%s'%s", "", type);
		q->type = (uint8_t)t;
	}
	if (at.p) {
		if (sx_day_parse(at.p, at.n, &q->day))
			return err(e, cap, "bad date '%s'%s (want YYYY-MM-DD)", "",
			           at);
	} else {
		q->day = sx_today();
	}
	return 0;
}

int sx_query_common(sx_query *q, const sx_rules *rules, sx_str channel,
                    sx_str cls, sx_str type, sx_str at, char *e, size_t cap)
{
	int chan = channel.p ? sx_channel_parse(channel.p, channel.n) : -1;
	if (chan < 0)
		return err(e, cap, "unknown channel '%s'%s", "", channel);
	q->chan = (uint8_t)chan;
	q->op = SX_Q_DECIDE;
	if (parse_class(rules ? rules : sx_rules_default_table(), chan, cls, &q->cls,
	                e, cap))
		return -1;
	return sx_query_when(q, type, at, e, cap);
}

int sx_query_id(sx_query *q, sx_str id, char *e, size_t cap)
{
	const char *why = "empty id";
	if (id.p && sx_id_parse(q->type, id.p, id.n, SX_SIDE_QUERY, &q->id,
	                        &why) == 0)
		return 0;
	snprintf(e, cap, "invalid id: %s", why);
	return -1;
}

size_t sx_class_format(const sx_rules *r, int chan, uint16_t cls, char *buf,
                       size_t cap)
{
	static const char *const trains[] = { "G", "D", "K" };
	if (!r)
		r = sx_rules_default_table();
	if (cls == SX_CLASS_NONE)
		return (size_t)snprintf(buf, cap, "-");
	switch (chan) {
	case SX_C_HOTEL:
		return (size_t)snprintf(buf, cap, "%u", cls);
	case SX_C_RAIL:
		return (size_t)snprintf(buf, cap, "%s:%s", trains[(cls >> 4) % 3],
		                        sx_seat_name((cls & 15) % SX_NSEATS));
	case SX_C_SHIP:
		return (size_t)snprintf(buf, cap, "%s", sx_ship_class_name(cls % 5));
	default:
		if (cls < r->nclasses)
			return (size_t)snprintf(buf, cap, "%s", r->cls[cls].name);
		return (size_t)snprintf(buf, cap, "%u", cls);
	}
}

/* ---- deciding ------------------------------------------------------------ */

/* Does a permit lift code `chan` on `day` for the record of case
 * (case_id, or UINT32_MAX for a live-added record, spelled case_no) and
 * own key rk?  Snapshot permits are found by case id; live permits, and
 * snapshot permits of a live record, by folded spelling (both are few). */
static int neutralised(const sx_snap *s, uint32_t case_id, const char *case_no,
                       uint32_t case_len, const sx_key *rk, int chan,
                       uint16_t day)
{
	const sx_overlay *ov = s->ov;
	uint32_t np = s->hdr->n_permits, lo = 0, hi = np;
	char fold[3100];
	size_t fl = 0;
	int folded = 0;

	if (case_id != UINT32_MAX) {
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (s->permits[mid].case_id < case_id)
				lo = mid + 1;
			else
				hi = mid;
		}
		hi = np;
	} else {
		fl = sx_case_fold(case_no, case_len, fold, sizeof(fold));
		folded = 1;
	}
	for (; lo < hi; lo++) {
		const struct sx_disk_permit *p = &s->permits[lo];
		if (case_id != UINT32_MAX && p->case_id != case_id)
			break;
		if (!(p->codes >> chan & 1) || day < p->valid_from ||
		    day > p->valid_to || !sx_key_match((const sx_key *)p, rk) ||
		    (ov && ov->nremoved && sx_ov_permit_removed(ov, lo)))
			continue;
		if (case_id == UINT32_MAX) {     /* compare spellings, folded */
			char pf[3100];
			uint16_t l;
			memcpy(&l, s->strings + p->case_off, 2);
			size_t pl = sx_case_fold((const char *)s->strings + p->case_off + 2,
			                         l, pf, sizeof(pf));
			if (pl != fl || pl > sizeof(pf) || memcmp(pf, fold, fl))
				continue;
		}
		return 1;
	}
	if (!ov || !ov->npermits)
		return 0;
	if (!folded)
		fl = sx_case_fold(case_no, case_len, fold, sizeof(fold));
	for (uint32_t i = 0; i < ov->npermits; i++) {
		const struct sx_ov_permit *p = &ov->permits[i];
		if ((p->codes >> chan & 1) && p->valid_from <= day &&
		    day <= p->valid_to && p->fold_len == fl && fl <= sizeof(fold) &&
		    !memcmp(p->fold, fold, fl) && sx_key_match(&p->key, rk))
			return 1;
	}
	return 0;
}

static inline int applies(int st, uint16_t listed, uint16_t expires,
                          uint16_t day)
{
	return (st == SX_ST_ACTIVE || st == SX_ST_SUSPENDED) &&
	       listed <= day && day <= expires;
}

/* What one query's walk over its records has found.  `collect` says which
 * records go to the list: the denying ones (the reply), or, for the
 * feedback of a SUSPENDED or EXEMPT decision, the suspended or the
 * neutralised ones. */
enum { COLLECT_DENY, COLLECT_SUSPENDED, COLLECT_NEUTRALISED };
struct walk {
	int any_apply, any_restrict, any_susp;
	int cls_restricted;     /* the (channel, class) has an effect */
	int collect;
	uint32_t nden;
};

/* Sort one record into the walk. */
static inline void visit(const sx_snap *s, const sx_query *q, struct walk *w,
                         uint32_t rn, int st, uint16_t listed, uint16_t expires,
                         sx_codes codes, uint32_t case_id, const sx_key *rk,
                         uint32_t *recs)
{
	if (!applies(st, listed, expires, q->day))
		return;
	w->any_apply = 1;
	if (!w->cls_restricted || !(codes >> q->chan & 1))
		return;
	w->any_restrict = 1;
	if (s->hdr->n_permits || (s->ov && s->ov->npermits)) {
		sx_recview v;
		sx_snap_record(s, rn, &v);
		if (neutralised(s, case_id, v.case_no, v.case_len, rk, q->chan,
		                q->day)) {
			if (w->collect == COLLECT_NEUTRALISED)
				recs[w->nden++] = rn;
			return;
		}
	}
	if (st == SX_ST_ACTIVE) {
		if (w->collect == COLLECT_DENY)
			recs[w->nden++] = rn;
	} else {
		w->any_susp = 1;
		if (w->collect == COLLECT_SUSPENDED)
			recs[w->nden++] = rn;
	}
}

/* Decide q given its keys' numbers in the snapshot (-1: absent); denying
 * record numbers go to recs. */
static void decide_keys(const sx_snap *s, const sx_query *q,
                        const int64_t *kn, int nk, sx_decision *d,
                        uint32_t *recs, int collect)
{
	const sx_overlay *ov = s->ov;
	int masked = ov && ov->nmasks;
	int effect = sx_rules_effect(&s->rules, q->chan, q->cls);
	struct walk w = { .cls_restricted = effect != SX_EFF_NONE,
	                  .collect = collect };

	for (int i = 0; i < nk; i++) {
		uint32_t first = w.nden;
		if (kn[i] >= 0) {
			uint32_t k = (uint32_t)kn[i];
			/* the bitmaps describe the export: an overlay that
			 * changes statuses makes them stale */
			if (!masked && !roaring_bitmap_contains(s->bm[SX_BM_LIVE], k))
				goto live;
			/* no live record of this key has the channel's code */
			int cls = w.cls_restricted;
			if (cls && !masked &&
			    !roaring_bitmap_contains(s->bm[SX_BM_CODE(q->chan)], k))
				w.cls_restricted = 0;
			const struct sx_disk_key *e = &s->keys[k];
			for (uint32_t j = 0; j < (e->npost & SX_KEY_NMASK); j++) {
				uint32_t rn = s->post[e->post + j];
				const struct sx_disk_rec *r = &s->recs[rn];
				int st = r->status_type & 15;
				if (masked)
					st = sx_ov_status(ov, rn, st);
				visit(s, q, &w, rn, st, r->listed_on, r->expires_on,
				      r->codes, r->case_id,
				      (const sx_key *)&s->keys[r->id_key], recs);
			}
			w.cls_restricted = cls;
		}
live:
		if (ov && ov->nrecs) {
			const uint32_t *post;
			uint32_t n;
			if (sx_ov_find(ov, &q->id.key[i], &post, &n))
				for (uint32_t j = 0; j < n; j++) {
					const struct sx_ov_rec *r = &ov->recs[post[j]];
					visit(s, q, &w, s->hdr->n_records + post[j], r->status,
					      r->listed_on, r->expires_on, r->codes,
					      UINT32_MAX, &r->key, recs);
				}
		}
		/* the second key's records merge into list order */
		if (first && w.nden > first) {
			for (uint32_t a = first; a < w.nden; a++) {
				uint32_t v = recs[a], b = a;
				while (b > 0 && recs[b - 1] > v) {
					recs[b] = recs[b - 1];
					b--;
				}
				recs[b] = v;
			}
		}
	}
	d->nrec = w.nden;
	d->rec = recs;
	if (collect != COLLECT_DENY)
		return;
	d->reason = w.nden ? (effect == SX_EFF_REVIEW ? SX_R_REVIEW : SX_R_LISTED) :
	            w.any_susp ? SX_R_SUSPENDED :
	            w.any_restrict ? SX_R_EXEMPT :
	            w.any_apply ? SX_R_NOT_RESTRICTED : SX_R_NOT_LISTED;
}

void sx_decide(const sx_snap *s, const sx_query *q, sx_decision *d,
               uint32_t *recs)
{
	int64_t kn[2];
	for (int i = 0; i < q->id.nkeys; i++)
		kn[i] = sx_snap_find(s, &q->id.key[i]);
	decide_keys(s, q, kn, q->id.nkeys, d, recs, COLLECT_DENY);
}

uint32_t sx_decide_concerned(const sx_snap *s, const sx_query *q,
                             const sx_decision *d, uint32_t *recs)
{
	int64_t kn[2];
	sx_decision c;
	int collect = d->reason == SX_R_SUSPENDED ? COLLECT_SUSPENDED :
	              d->reason == SX_R_EXEMPT ? COLLECT_NEUTRALISED : -1;

	if (sx_reason_names_records(d->reason)) {
		memmove(recs, d->rec, d->nrec * sizeof(*recs));
		return d->nrec;
	}
	if (collect < 0)
		return 0;
	for (int i = 0; i < q->id.nkeys; i++)
		kn[i] = sx_snap_find(s, &q->id.key[i]);
	decide_keys(s, q, kn, q->id.nkeys, &c, recs, collect);
	return c.nrec;
}

/* Could the overlay hold records of q's keys?  (Its filter: cheap.) */
static inline int ov_may_have(const sx_overlay *ov, const sx_query *q)
{
	if (!ov || !ov->nrecs)
		return 0;
	for (int i = 0; i < q->id.nkeys; i++) {
		uint32_t bit = sx_ov_filter_bit(&q->id.key[i]);
		if (ov->filter[bit >> 6] >> (bit & 63) & 1)
			return 1;
	}
	return 0;
}

static int listed_keys(const sx_snap *s, const sx_query *q, const int64_t *kn);

#define CHUNK 64

size_t sx_decide_batch(const sx_snap *s, const sx_query *qs, size_t n,
                       sx_decision *ds, uint32_t *recs, size_t cap)
{
	sx_key keys[2 * CHUNK];
	int64_t kn[2 * CHUNK];
	uint32_t need = sx_snap_max_query_records(s);
	size_t used = 0, done = 0;

	while (done < n) {
		size_t m = n - done < CHUNK ? n - done : CHUNK, nk = 0;
		for (size_t i = 0; i < m; i++) {
			const sx_id *id = &qs[done + i].id;
			/* field by field: gcc makes a struct copy here a rep movsq,
			 * whose start-up cost was most of this loop's time */
			for (int j = 0; j < id->nkeys; j++, nk++) {
				keys[nk].lo = id->key[j].lo;
				keys[nk].hi = id->key[j].hi;
			}
		}
		/* hits walk their records: fetch the posting lists of all of
		 * them, then their first records, before walking any (a batch
		 * of misses, the common case, skips this) */
		if (sx_snap_find_batch(s, keys, nk, kn)) {
			for (size_t j = 0; j < nk; j++)
				if (kn[j] >= 0)
					__builtin_prefetch(&s->post[s->keys[kn[j]].post]);
			for (size_t j = 0; j < nk; j++)
				if (kn[j] >= 0)
					__builtin_prefetch(&s->recs[s->post[s->keys[kn[j]].post]]);
		}
		nk = 0;
		for (size_t i = 0; i < m; i++) {
			const sx_query *q = &qs[done + i];
			if (cap - used < need)
				return done + i;
			/* most queries miss every key: nothing to walk */
			if (kn[nk] < 0 && (q->id.nkeys < 2 || kn[nk + 1] < 0) &&
			    !ov_may_have(s->ov, q)) {
				ds[done + i] = (sx_decision){ .reason = SX_R_NOT_LISTED,
				                              .rec = recs + used };
				nk += q->id.nkeys;
				continue;
			}
			if (q->op == SX_Q_LISTED)
				ds[done + i] = (sx_decision){
					.reason = listed_keys(s, q, kn + nk) ? SX_R_LISTED
					                                       : SX_R_NOT_LISTED,
					.rec = recs + used };
			else
				decide_keys(s, q, kn + nk, q->id.nkeys, &ds[done + i],
				            recs + used, COLLECT_DENY);
			used += ds[done + i].nrec;
			nk += q->id.nkeys;
		}
		done += m;
	}
	return done;
}

/* LISTED given q's keys' numbers in the snapshot (-1: absent). */
static int listed_keys(const sx_snap *s, const sx_query *q, const int64_t *kn)
{
	const sx_overlay *ov = s->ov;
	for (int i = 0; i < q->id.nkeys; i++) {
		int64_t k = kn[i];
		if (k >= 0) {
			const struct sx_disk_key *e = &s->keys[k];
			for (uint32_t j = 0; j < (e->npost & SX_KEY_NMASK); j++) {
				uint32_t rn = s->post[e->post + j];
				const struct sx_disk_rec *r = &s->recs[rn];
				int st = r->status_type & 15;
				if (ov && ov->nmasks)
					st = sx_ov_status(ov, rn, st);
				if (st == SX_ST_ACTIVE &&
				    applies(st, r->listed_on, r->expires_on, q->day))
					return 1;
			}
		}
		const uint32_t *post;
		uint32_t n;
		if (ov && ov->nrecs && sx_ov_find(ov, &q->id.key[i], &post, &n))
			for (uint32_t j = 0; j < n; j++) {
				const struct sx_ov_rec *r = &ov->recs[post[j]];
				if (r->status == SX_ST_ACTIVE &&
				    applies(r->status, r->listed_on, r->expires_on, q->day))
					return 1;
			}
	}
	return 0;
}

int sx_listed(const sx_snap *s, const sx_query *q)
{
	int64_t kn[2];
	for (int i = 0; i < q->id.nkeys; i++)
		kn[i] = sx_snap_find(s, &q->id.key[i]);
	return listed_keys(s, q, kn);
}

size_t sx_record_format(const sx_snap *s, uint32_t rec, char *buf, size_t cap)
{
	sx_recview v;
	sx_snap_record(s, rec, &v);
	return (size_t)snprintf(buf, cap, "%.*s|%.*s|%s|%s", (int)v.case_len,
	                        v.case_no, (int)v.court_len, v.court,
	                        sx_role_name(v.role), sx_list_name(v.list));
}
