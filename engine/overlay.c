/*
 * overlay.c - building the next overlay from the last one and an update.
 *
 * An update is applied to a builder: plain growable copies of the old
 * overlay's arrays whose strings still point into the old arena (or into
 * the command's words).  Freezing copies every string into one new arena
 * and indexes the records by key, so the result owns everything and the
 * old overlay can be freed as soon as no reader holds it.
 *
 * Matching follows the loader: the ID is parsed on the list side (so a
 * check-digit typo names the same person it named in the export), cases
 * are compared after bracket folding, and "the same record" is the
 * loader's duplicate rule: case, ID and role.
 */
#include "casefold.h"
#include "overlay.h"
#include "row.h"
#include "snapint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const update_names[] = {
#define X(e, name) name,
	SX_UPDATES(X)
#undef X
};

int sx_update_parse(const char *w, size_t n)
{
	for (int i = 0; i < SX_NUPDATES; i++)
		if (strlen(update_names[i]) == n && !strncasecmp(w, update_names[i], n))
			return i;
	return -1;
}

/* ---- the builder --------------------------------------------------------- */

struct builder {
	struct sx_ov_rec *recs;       size_t nrecs, crecs;
	struct sx_ov_mask *masks;     size_t nmasks, cmasks;
	struct sx_ov_permit *permits; size_t npermits, cpermits;
	uint32_t *removed;            size_t nremoved, cremoved;
	uint64_t updates;
};

static int push(void **a, size_t *n, size_t *cap, size_t elem)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		void *p = realloc(*a, nc * elem);
		if (!p)
			return -ENOMEM;
		*a = p;
		*cap = nc;
	}
	(*n)++;
	return 0;
}

static int dup_array(void **dst, size_t *n, size_t *cap, const void *src,
                     size_t count, size_t elem)
{
	*n = *cap = 0;
	*dst = NULL;
	if (!count)
		return 0;
	if (!(*dst = malloc(count * elem)))
		return -ENOMEM;
	memcpy(*dst, src, count * elem);
	*n = *cap = count;
	return 0;
}

static int builder_init(struct builder *b, const sx_overlay *old)
{
	memset(b, 0, sizeof(*b));
	if (!old)
		return 0;
	b->updates = old->updates;
	if (dup_array((void **)&b->recs, &b->nrecs, &b->crecs, old->recs,
	              old->nrecs, sizeof(*b->recs)) ||
	    dup_array((void **)&b->masks, &b->nmasks, &b->cmasks, old->masks,
	              old->nmasks, sizeof(*b->masks)) ||
	    dup_array((void **)&b->permits, &b->npermits, &b->cpermits,
	              old->permits, old->npermits, sizeof(*b->permits)) ||
	    dup_array((void **)&b->removed, &b->nremoved, &b->cremoved,
	              old->permit_removed, old->nremoved, sizeof(uint32_t)))
		return -ENOMEM;
	return 0;
}

static void builder_free(struct builder *b)
{
	free(b->recs);
	free(b->masks);
	free(b->permits);
	free(b->removed);
}

static int set_mask(struct builder *b, uint32_t rec, uint8_t status)
{
	for (size_t i = 0; i < b->nmasks; i++)
		if (b->masks[i].rec == rec) {
			b->masks[i].status = status;
			return 0;
		}
	if (push((void **)&b->masks, &b->nmasks, &b->cmasks, sizeof(*b->masks)))
		return -ENOMEM;
	b->masks[b->nmasks - 1] = (struct sx_ov_mask){ rec, status };
	return 0;
}

static int cur_status(const struct builder *b, uint32_t rec, int own)
{
	for (size_t i = 0; i < b->nmasks; i++)
		if (b->masks[i].rec == rec)
			return b->masks[i].status;
	return own;
}

/* ---- freezing ------------------------------------------------------------ */

static int cmp_mask(const void *x, const void *y)
{
	const struct sx_ov_mask *a = x, *b = y;
	return a->rec < b->rec ? -1 : a->rec > b->rec;
}
static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}
struct pair { sx_key key; uint32_t rec; };
static int cmp_pair(const void *x, const void *y)
{
	const struct pair *a = x, *b = y;
	int c = sx_key_cmp(&a->key, &b->key);
	return c ? c : (a->rec < b->rec ? -1 : a->rec > b->rec);
}

static const char *copy_str(char **at, const char *s, uint32_t n)
{
	char *p = *at;
	memcpy(p, s, n);
	*at += n;
	return p;
}

static int freeze(struct builder *b, sx_overlay **out)
{
	sx_overlay *ov = calloc(1, sizeof(*ov));
	struct pair *pairs = NULL;
	size_t bytes = 1, np = 0;

	if (!ov)
		return -ENOMEM;
	for (size_t i = 0; i < b->nrecs; i++)
		bytes += b->recs[i].case_len + b->recs[i].fold_len + b->recs[i].court_len;
	for (size_t i = 0; i < b->npermits; i++)
		bytes += b->permits[i].fold_len + b->permits[i].case_len +
		         b->permits[i].ref_len;
	ov->arena = malloc(bytes);
	pairs = malloc((2 * b->nrecs + 1) * sizeof(*pairs));
	ov->keys = malloc((2 * b->nrecs + 1) * sizeof(*ov->keys));
	ov->post = malloc((2 * b->nrecs + 1) * sizeof(uint32_t));
	if (!ov->arena || !pairs || !ov->keys || !ov->post) {
		free(pairs);
		sx_overlay_free(ov);
		return -ENOMEM;
	}
	char *at = ov->arena;
	for (size_t i = 0; i < b->nrecs; i++) {
		struct sx_ov_rec *r = &b->recs[i];
		r->case_no = copy_str(&at, r->case_no, r->case_len);
		r->fold = copy_str(&at, r->fold, r->fold_len);
		r->court = copy_str(&at, r->court, r->court_len);
		pairs[np++] = (struct pair){ r->key, (uint32_t)i };
		if (r->has_emb)
			pairs[np++] = (struct pair){ r->emb, (uint32_t)i };
	}
	for (size_t i = 0; i < b->npermits; i++) {
		struct sx_ov_permit *p = &b->permits[i];
		p->fold = copy_str(&at, p->fold, p->fold_len);
		p->case_no = copy_str(&at, p->case_no, p->case_len);
		p->ref = copy_str(&at, p->ref, p->ref_len);
	}
	qsort(pairs, np, sizeof(*pairs), cmp_pair);
	for (size_t i = 0; i < np; i++) {
		if (!ov->nkeys || !sx_key_eq(&ov->keys[ov->nkeys - 1].key, &pairs[i].key))
			ov->keys[ov->nkeys++] = (struct sx_ov_key){ pairs[i].key,
			                                            (uint32_t)i, 0 };
		struct sx_ov_key *k = &ov->keys[ov->nkeys - 1];
		uint32_t bit = sx_ov_filter_bit(&pairs[i].key);
		ov->filter[bit >> 6] |= 1ull << (bit & 63);
		ov->post[i] = pairs[i].rec;
		if (++k->n > ov->max_per_key)
			ov->max_per_key = k->n;
	}
	free(pairs);
	if (b->nmasks)
		qsort(b->masks, b->nmasks, sizeof(*b->masks), cmp_mask);
	if (b->nremoved)
		qsort(b->removed, b->nremoved, sizeof(uint32_t), cmp_u32);
	ov->recs = b->recs;       ov->nrecs = (uint32_t)b->nrecs;
	ov->masks = b->masks;     ov->nmasks = (uint32_t)b->nmasks;
	ov->permits = b->permits; ov->npermits = (uint32_t)b->npermits;
	ov->permit_removed = b->removed;
	ov->nremoved = (uint32_t)b->nremoved;
	ov->updates = b->updates + 1;
	memset(b, 0, sizeof(*b));    /* the overlay owns the arrays now */
	*out = ov;
	return 0;
}

/* ---- applying ------------------------------------------------------------ */

struct target {
	sx_key key;
	char fold[3100];
	size_t fold_len;
	int role;            /* -1: every role */
};

static int same_case(const struct target *t, const char *c, size_t n)
{
	char buf[3100];
	size_t fl = sx_case_fold(c, n, buf, sizeof(buf));
	return fl == t->fold_len && fl <= sizeof(buf) && !memcmp(buf, t->fold, fl);
}

/* Act on every record (snapshot and overlay) of the target: status is the
 * new status, or SX_OV_REMOVED.  Returns how many were hit, or -ENOMEM. */
static int act(const sx_snap *base, struct builder *b, const struct target *t,
               uint8_t status)
{
	int hits = 0;
	int64_t kn = sx_snap_find(base, &t->key);
	if (kn >= 0) {
		uint32_t n;
		const uint32_t *post = sx_snap_key_records(base, (uint32_t)kn, &n);
		for (uint32_t j = 0; j < n; j++) {
			sx_recview v;
			sx_snap_record(base, post[j], &v);
			if (v.id_key != (uint32_t)kn ||
			    cur_status(b, post[j], v.status) == SX_OV_REMOVED ||
			    (t->role >= 0 && v.role != t->role) ||
			    !same_case(t, v.case_no, v.case_len))
				continue;
			if (set_mask(b, post[j], status))
				return -ENOMEM;
			hits++;
		}
	}
	for (size_t i = 0; i < b->nrecs;) {
		struct sx_ov_rec *r = &b->recs[i];
		if (!sx_key_eq(&r->key, &t->key) ||
		    (t->role >= 0 && r->role != t->role) ||
		    r->fold_len != t->fold_len || memcmp(r->fold, t->fold, t->fold_len)) {
			i++;
			continue;
		}
		hits++;
		if (status == SX_OV_REMOVED) {
			memmove(r, r + 1, (b->nrecs - i - 1) * sizeof(*r));
			b->nrecs--;
		} else {
			r->status = status;
			i++;
		}
	}
	return hits;
}

static int target_of(struct target *t, sx_str case_no, sx_str type, sx_str id,
                     char *why, size_t cap)
{
	sx_id parsed;
	const char *r;
	int ty = sx_idtype_parse(type.p, type.n);
	if (ty < 0) {
		snprintf(why, cap, "unknown id_type '%.*s'", (int)(type.n > 40 ? 40 : type.n),
		         type.p);
		return SX_EINVAL;
	}
	if (sx_id_parse(ty, id.p, id.n, SX_SIDE_LIST, &parsed, &r)) {
		snprintf(why, cap, "malformed id_no: %s", r);
		return SX_EINVAL;
	}
	if (case_no.n == 0 || case_no.n > 1000) {
		snprintf(why, cap, "missing case_no");
		return SX_EINVAL;
	}
	t->key = parsed.key[0];
	t->fold_len = sx_case_fold(case_no.p, case_no.n, t->fold, sizeof(t->fold));
	t->role = -1;
	return 0;
}

/* fold: room for the new record's folded case until freeze copies it */
static int list_add(const sx_snap *base, struct builder *b, const sx_str *argv,
                    size_t argc, char *fold, size_t foldcap, char *why,
                    size_t cap)
{
	sx_str f[SX_NLIST_COLUMNS] = {{0}};
	sx_listrow lr;

	if (argc % 2 == 0) {
		snprintf(why, cap, "LIST.ADD wants field value pairs");
		return SX_EINVAL;
	}
	for (size_t i = 1; i < argc; i += 2) {
		int col = -1;
		for (int c = 0; c < SX_NLIST_COLUMNS; c++)
			if (strlen(sx_list_column_names[c]) == argv[i].n &&
			    !strncasecmp(argv[i].p, sx_list_column_names[c], argv[i].n))
				col = c;
		if (col < 0 || f[col].p) {
			snprintf(why, cap, "%s field '%.*s'", col < 0 ? "unknown" : "repeated",
			         (int)(argv[i].n > 40 ? 40 : argv[i].n), argv[i].p);
			return SX_EINVAL;
		}
		f[col] = argv[i + 1].p ? argv[i + 1] : (sx_str){ "", 0 };
	}
	if (sx_listrow_parse(f, &lr, why, cap))
		return SX_EINVAL;
	if (lr.dropped && cap)
		sx_listrow_dropped_warning(lr.role, lr.dropped, why, cap);

	struct target t;
	t.key = lr.id.key[0];
	t.fold_len = sx_case_fold(lr.case_no.p, lr.case_no.n, t.fold, sizeof(t.fold));
	t.role = lr.role;
	memcpy(fold, t.fold, t.fold_len < foldcap ? t.fold_len : foldcap);
	if (act(base, b, &t, SX_OV_REMOVED) < 0 ||
	    push((void **)&b->recs, &b->nrecs, &b->crecs, sizeof(*b->recs)))
		return -ENOMEM;
	b->recs[b->nrecs - 1] = (struct sx_ov_rec){
		.key = lr.id.key[0], .emb = lr.id.key[1],
		.has_emb = lr.id.type == SX_IDT_USCC,
		.role = lr.role, .list = lr.list, .status = lr.status,
		.id_type = lr.id.type, .listed_on = lr.listed_on,
		.expires_on = lr.expires_on, .codes = lr.codes,
		.case_no = lr.case_no.p, .case_len = (uint32_t)lr.case_no.n,
		.fold = fold, .fold_len = (uint32_t)t.fold_len,
		.court = lr.court.p, .court_len = (uint32_t)lr.court.n,
	};
	return 0;
}

static int permit_add(const sx_snap *base, struct builder *b, const sx_str *argv,
                      char *fold, size_t foldcap, char *why, size_t cap)
{
	sx_str f[SX_NPERMIT_COLUMNS];
	sx_permitrow pr;
	for (int i = 0; i < SX_NPERMIT_COLUMNS; i++)
		f[i] = argv[1 + i];
	if (sx_permitrow_parse(f, &pr, why, cap))
		return SX_EINVAL;
	/* a known permit_ref is replaced */
	const sx_snap_info *in = sx_snap_get_info(base);
	for (uint32_t i = 0; i < in->permits; i++) {
		const struct sx_disk_permit *p = &base->permits[i];
		uint16_t l;
		memcpy(&l, base->strings + p->ref_off, 2);
		if (l == pr.ref.n && !memcmp(base->strings + p->ref_off + 2, pr.ref.p, l) &&
		    push((void **)&b->removed, &b->nremoved, &b->cremoved, sizeof(uint32_t)) == 0)
			b->removed[b->nremoved - 1] = i;
	}
	for (size_t i = 0; i < b->npermits;)
		if (b->permits[i].ref_len == pr.ref.n &&
		    !memcmp(b->permits[i].ref, pr.ref.p, pr.ref.n))
			memmove(&b->permits[i], &b->permits[i + 1],
			        (--b->npermits - i) * sizeof(*b->permits));
		else
			i++;
	if (push((void **)&b->permits, &b->npermits, &b->cpermits, sizeof(*b->permits)))
		return -ENOMEM;
	size_t fl = sx_case_fold(pr.case_no.p, pr.case_no.n, fold, foldcap);
	b->permits[b->npermits - 1] = (struct sx_ov_permit){
		.key = pr.id.key[0], .fold = fold, .fold_len = (uint32_t)fl,
		.case_no = pr.case_no.p, .case_len = (uint32_t)pr.case_no.n,
		.ref = pr.ref.p, .ref_len = (uint32_t)pr.ref.n,
		.valid_from = pr.valid_from, .valid_to = pr.valid_to,
		.codes = pr.codes };
	return 0;
}

static int permit_remove(const sx_snap *base, struct builder *b, sx_str ref)
{
	int hits = 0;
	const sx_snap_info *in = sx_snap_get_info(base);
	for (uint32_t i = 0; i < in->permits; i++) {
		const struct sx_disk_permit *p = &base->permits[i];
		uint16_t l;
		memcpy(&l, base->strings + p->ref_off, 2);
		if (l != ref.n || memcmp(base->strings + p->ref_off + 2, ref.p, l))
			continue;
		int known = 0;
		for (size_t j = 0; j < b->nremoved; j++)
			known |= b->removed[j] == i;
		if (known)
			continue;
		if (push((void **)&b->removed, &b->nremoved, &b->cremoved, sizeof(uint32_t)))
			return -ENOMEM;
		b->removed[b->nremoved - 1] = i;
		hits++;
	}
	for (size_t i = 0; i < b->npermits;)
		if (b->permits[i].ref_len == ref.n && !memcmp(b->permits[i].ref, ref.p, ref.n)) {
			memmove(&b->permits[i], &b->permits[i + 1],
			        (--b->npermits - i) * sizeof(*b->permits));
			hits++;
		} else {
			i++;
		}
	return hits;
}

/* act() and permit_remove() return how many they changed (or -ENOMEM):
 * none is "not found".  0, SX_ENOTFOUND with why, or the error. */
static int found(int n, char *why, size_t cap)
{
	if (n == 0) {
		snprintf(why, cap, "not found");
		return SX_ENOTFOUND;
	}
	return n < 0 ? n : 0;
}

int sx_overlay_apply(const sx_snap *s, const sx_overlay *old,
                     const sx_str *argv, size_t argc, sx_overlay **out,
                     char *why, size_t cap)
{
	static const size_t arity[SX_NUPDATES] = {
		[SX_UP_LIST_REMOVE] = 4, [SX_UP_LIST_SUSPEND] = 4,
		[SX_UP_LIST_RESUME] = 4, [SX_UP_PERMIT_ADD] = 8,
		[SX_UP_PERMIT_REMOVE] = 2,
	};
	const sx_snap *base = sx_snap_base(s);
	struct builder b;
	struct target t;
	char fold[3100];
	int op, rc;

	*out = NULL;
	if (cap)
		why[0] = 0;
	op = argc ? sx_update_parse(argv[0].p, argv[0].n) : -1;
	if (op < 0) {
		snprintf(why, cap, "not an update command");
		return SX_EINVAL;
	}
	if ((arity[op] && argc != arity[op]) || (op == SX_UP_LIST_ADD && argc < 3)) {
		snprintf(why, cap, "wrong number of arguments for '%s'", update_names[op]);
		return SX_EINVAL;
	}
	if ((rc = builder_init(&b, old)))
		goto out;
	switch (op) {
	case SX_UP_LIST_ADD:
		if ((rc = list_add(base, &b, argv, argc, fold, sizeof(fold), why, cap)))
			goto out;
		break;
	case SX_UP_LIST_REMOVE:
	case SX_UP_LIST_SUSPEND:
	case SX_UP_LIST_RESUME:
		if ((rc = target_of(&t, argv[1], argv[2], argv[3], why, cap)))
			goto out;
		rc = act(base, &b, &t, op == SX_UP_LIST_REMOVE ? SX_OV_REMOVED :
		                       op == SX_UP_LIST_SUSPEND ? SX_ST_SUSPENDED :
		                       SX_ST_ACTIVE);
		if ((rc = found(rc, why, cap)))
			goto out;
		break;
	case SX_UP_PERMIT_ADD:
		if ((rc = permit_add(base, &b, argv, fold, sizeof(fold), why, cap)))
			goto out;
		break;
	case SX_UP_PERMIT_REMOVE:
		if ((rc = found(permit_remove(base, &b, argv[1]), why, cap)))
			goto out;
		break;
	}
	rc = freeze(&b, out);
out:
	if (rc == -ENOMEM)
		snprintf(why, cap, "out of memory");
	builder_free(&b);
	return rc;
}

/* ---- stream entries ------------------------------------------------------ */

/* Is field name f the word w? */
static int field_is(const sx_str *f, const char *w)
{
	return f->n == strlen(w) && !strncasecmp(f->p, w, f->n);
}

int sx_update_from_fields(const sx_str *f, size_t nf, sx_str *argv,
                          sx_str *by, char *why, size_t cap)
{
	/* the positional arguments of each op, by field name */
	static const char *const pos[SX_NUPDATES][8] = {
		[SX_UP_LIST_REMOVE] = { "case_no", "id_type", "id_no" },
		[SX_UP_LIST_SUSPEND] = { "case_no", "id_type", "id_no" },
		[SX_UP_LIST_RESUME] = { "case_no", "id_type", "id_no" },
		[SX_UP_PERMIT_ADD] = { "id_type", "id_no", "case_no", "codes",
		                       "valid_from", "valid_to", "permit_ref" },
		[SX_UP_PERMIT_REMOVE] = { "permit_ref" },
	};
	int op = -1;
	size_t argc = 1;

	if (by)
		*by = (sx_str){ NULL, 0 };
	if (nf % 2) {
		snprintf(why, cap, "odd number of fields");
		return -1;
	}
	for (size_t i = 0; i < nf; i += 2)
		if (by && field_is(&f[i], "by"))
			*by = f[i + 1];
	for (size_t i = 0; i < nf; i += 2)
		if (f[i].n == 2 && !strncasecmp(f[i].p, "op", 2)) {
			op = sx_update_parse(f[i + 1].p, f[i + 1].n);
			if (op < 0) {
				snprintf(why, cap, "unknown op '%.*s'",
				         (int)(f[i + 1].n > 40 ? 40 : f[i + 1].n), f[i + 1].p);
				return -1;
			}
			argv[0] = (sx_str){ update_names[op], strlen(update_names[op]) };
		}
	if (op < 0) {
		snprintf(why, cap, "missing field 'op'");
		return -1;
	}
	if (op == SX_UP_LIST_ADD) {
		for (size_t i = 0; i < nf; i += 2) {
			if (field_is(&f[i], "op") || field_is(&f[i], "by"))
				continue;
			if (argc + 2 > 40) {
				snprintf(why, cap, "too many fields");
				return -1;
			}
			argv[argc++] = f[i];
			argv[argc++] = f[i + 1];
		}
		return (int)argc;
	}
	for (int k = 0; pos[op][k]; k++) {
		size_t i;
		for (i = 0; i < nf; i += 2)
			if (f[i].n == strlen(pos[op][k]) &&
			    !strncasecmp(f[i].p, pos[op][k], f[i].n))
				break;
		if (i >= nf) {
			snprintf(why, cap, "missing field '%s' for %s", pos[op][k],
			         update_names[op]);
			return -1;
		}
		argv[argc++] = f[i + 1];
	}
	for (size_t i = 0; i < nf; i += 2) {    /* nothing unexpected */
		int known = field_is(&f[i], "op") || field_is(&f[i], "by");
		for (int k = 0; !known && pos[op][k]; k++)
			known = f[i].n == strlen(pos[op][k]) &&
			        !strncasecmp(f[i].p, pos[op][k], f[i].n);
		if (!known) {
			snprintf(why, cap, "unknown field '%.*s' for %s",
			         (int)(f[i].n > 40 ? 40 : f[i].n), f[i].p, update_names[op]);
			return -1;
		}
	}
	return (int)argc;
}
