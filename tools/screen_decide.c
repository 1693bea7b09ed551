/*
 * screen_decide.c - the rows of a chunk checked and decided, offline
 * against a snapshot or online against a server.
 *
 * Checking happens here, before anything is asked (offline with one
 * worker on the reading thread, scr_check_chunk, which has time to
 * spare): the field count,
 * UTF-8 in every column, the type and day through the engine's own
 * parser (sx_query_when), and offline the ID (sx_query_id).  Online the
 * server parses the IDs it decides anyway; an ID it refuses comes back as
 * an error item and is rejected with the same words, naming the column
 * and the value, so both modes write the same rejects.  A row's
 * channel, class, type and day come from its columns when they are there
 * and not empty, else from the flags; a row with no day is decided on
 * the run's day (fixed at start, so a run across midnight decides every
 * row on the same day).
 *
 * Offline: sx_query_common once per distinct words (channel, class,
 * type, day) of a chunk, from a table of the words seen (a manifest
 * repeats a few contexts in any order; the checked rows' words are
 * hashed 32 at a time, their table slots fetched ahead, then looked up), then
 * sx_decide_batch over the chunk, which hashes, prefetches and resolves
 * its IDs in batches.
 * Online: the valid rows are grouped by query
 * context (what one binary CHECK frame shares), every frame of the chunk
 * is queued on the worker's connection, and frames are written and
 * replies read as the socket allows, so the whole chunk is in flight at
 * once.  Channel and class are parsed here when the engine's built-in
 * parsers judge them (every channel but the classed joint-punishment
 * ones): rows are then grouped by the parsed values, so a manifest of
 * trains with a thousand train numbers still makes full frames.  The
 * joint channels' classes are left to the server's rule table, grouped by
 * their text.  An "ERR" for a frame rejects its rows; any other refusal
 * (NOAUTH, NOPERM, a protocol error) stops the run.  Records are kept as
 * "case_no|court|role|list" text in both modes (the wire's form;
 * sx_record_format offline).
 */
#include "screen.h"
#include "json.h"
#include "rules.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct scr_net {
	sx_client *cli;
	unsigned batch;
};

int scr_net_open(const scr_opts *o, scr_net **out, char *why, size_t cap)
{
	scr_net *n = calloc(1, sizeof *n);
	if (!n) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	int rc = sx_client_open(&o->net, &n->cli, why, cap);
	if (rc) {
		free(n);
		return -1;
	}
	if (o->tenant && (rc = sx_client_auth(n->cli, o->tenant, o->secret))) {
		snprintf(why, cap, "AUTH as %s: %s", o->tenant,
		         sx_client_errmsg(n->cli));
		scr_net_close(n);
		return -1;
	}
	n->batch = sx_client_max_batch(n->cli);
	if (!n->batch || n->batch > SXB_MAX_BATCH)
		n->batch = SXB_MAX_BATCH;
	if (o->batch > 0 && (unsigned)o->batch < n->batch)
		n->batch = (unsigned)o->batch;
	sx_client_set_blocking(n->cli, 0);
	*out = n;
	return 0;
}

void scr_net_close(scr_net *n)
{
	if (!n)
		return;
	sx_client_close(n->cli);
	free(n);
}

/* ---- checking -------------------------------------------------------------- */

static const char *const flag_of[SCR_NCOLS] = { "the id", "--type", "--channel",
                                               "--class", "--at" };

/* The words of a row: its column when present and not empty, else the
 * flag (NULL when neither). */
typedef struct words {
	sx_str w[SCR_NCOLS];
	uint8_t from_col[SCR_NCOLS];
} words;

static void row_words(const scr_opts *o, const scr_chunk *ch, const scr_row *r,
                      words *w)
{
	const char *flag[SCR_NCOLS] = { NULL, o->type, o->channel, o->cls, o->day };
	for (int k = 0; k < SCR_NCOLS; k++) {
		sx_str v = scr_field(ch, r, o->col[k]);
		w->from_col[k] = v.p && v.n;
		if (!w->from_col[k])
			v = (sx_str){ flag[k], flag[k] ? strlen(flag[k]) : 0 };
		w->w[k] = v;
	}
}

/* "column channel" or "--channel": where word k came from (the column
 * when it is there but empty and the flag is not given either). */
static void source(const scr_opts *o, const words *w, int k, char *buf, size_t cap)
{
	if (w->from_col[k] || k == SCR_COL_ID || (o->col[k] >= 0 && !w->w[k].p))
		snprintf(buf, cap, "column %s", o->plain ? "id" : o->colname[o->col[k]]);
	else
		snprintf(buf, cap, "%s", flag_of[k]);
}

/* The word an engine error is about, from its contract wording. */
static int word_of_error(const char *err)
{
	if (!strncmp(err, "unknown channel", 15))
		return SCR_COL_CHANNEL;
	if (!strncmp(err, "bad class", 9))
		return SCR_COL_CLASS;
	if (!strncmp(err, "unknown type", 12))
		return SCR_COL_TYPE;
	if (!strncmp(err, "bad date", 8))
		return SCR_COL_DAY;
	return SCR_COL_ID;
}

static void reject_word(const scr_opts *o, scr_chunk *ch, scr_row *r,
                        const words *w, const char *err)
{
	char src[160];
	int k = word_of_error(err);
	source(o, w, k, src, sizeof src);
	if (k == SCR_COL_ID)
		scr_reject(ch, r, "%s '%.*s': %s", src,
		           (int)(w->w[k].n > 100 ? 100 : w->w[k].n), w->w[k].p, err);
	else
		scr_reject(ch, r, "%s: %s", src, err);
}

static int same(sx_str a, sx_str b)
{
	return a.n == b.n && (a.p == b.p || (a.p && b.p && !memcmp(a.p, b.p, a.n)));
}

/* 1 when s[0..n) is all ASCII (then valid UTF-8): the common record,
 * eight bytes a step, before the full check. */
static int ascii(const char *s, size_t n)
{
	uint64_t or = 0, w;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		or |= w;
	}
	for (; i < n; i++)
		or |= (uint8_t)s[i];
	return !(or & 0x8080808080808080ull);
}

/* The last type and day parsed by a worker: a manifest repeats them. */
typedef struct when_cache {
	sx_str type, day;
	uint8_t qtype;
	uint16_t qday;
	int ok;
} when_cache;

/* Shape, UTF-8, and the words every mode checks.  0 when the row may be
 * asked, with its words in *w and type, day and ID parsed into *q. */
static int check_row(const scr_opts *o, scr_chunk *ch, scr_row *r, words *w,
                     sx_query *q, when_cache *wc)
{
	char err[320];
	if (r->state == SCR_ROW_REJECT)
		return -1;
	if (r->nfld != o->ncols) {
		if (o->plain)
			scr_reject(ch, r, "%u fields: a plain list has one ID a line",
			           r->nfld);
		else
			scr_reject(ch, r, "%u fields, the header has %zu", r->nfld,
			           o->ncols);
		return -1;
	}
	if (!ascii(ch->bytes.p + r->raw, r->raw_len) &&
	    !sx_utf8_valid(ch->bytes.p + r->raw, r->raw_len)) {
		/* separators and quotes are ASCII: the fields of valid raw
		 * bytes are valid, so only a bad record needs the search */
		for (uint32_t i = 0; i < r->nfld; i++) {
			sx_str f = scr_field(ch, r, (int)i);
			if (!sx_utf8_valid(f.p, f.n)) {
				scr_reject(ch, r, "column %s: not valid UTF-8",
				           o->plain ? "id" : o->colname[i]);
				return -1;
			}
		}
		scr_reject(ch, r, "not valid UTF-8");
		return -1;
	}
	row_words(o, ch, r, w);
	if (!w->w[SCR_COL_ID].n) {
		scr_reject(ch, r, "column %s: empty id",
		           o->plain ? "id" : o->colname[o->col[SCR_COL_ID]]);
		return -1;
	}
	if (!w->w[SCR_COL_CHANNEL].p) {
		if (o->col[SCR_COL_CHANNEL] >= 0)
			scr_reject(ch, r, "column %s is empty and no --channel was given",
			           o->colname[o->col[SCR_COL_CHANNEL]]);
		else
			scr_reject(ch, r, "no channel: give --channel or a channel column");
		return -1;
	}
	sx_str day = w->w[SCR_COL_DAY];
	if (!day.p)
		day = (sx_str){ o->today, strlen(o->today) };
	if (wc->ok && same(wc->type, w->w[SCR_COL_TYPE]) && same(wc->day, day)) {
		q->type = wc->qtype;
		q->day = wc->qday;
	} else if (sx_query_when(q, w->w[SCR_COL_TYPE], day, err, sizeof err)) {
		wc->ok = 0;
		reject_word(o, ch, r, w, err);
		return -1;
	} else {
		*wc = (when_cache){ w->w[SCR_COL_TYPE], day, q->type, q->day, 1 };
	}
	/* online the server parses the ID (an invalid one comes back as an
	 * error item, rejected with the same words), unless it is too long
	 * for a frame */
	if ((!o->snap && w->w[SCR_COL_ID].n <= SXB_MAX_ID) ? 0 :
	    sx_query_id(q, w->w[SCR_COL_ID], err, sizeof err)) {
		reject_word(o, ch, r, w, err);
		return -1;
	}
	r->day = q->day;
	return 0;
}

static int grow_queries(scr_chunk *ch)
{
	if (ch->qcap >= ch->nrow)
		return 0;
	sx_query *q = realloc(ch->q, ch->nrow * sizeof *q);
	if (q)
		ch->q = q;
	uint32_t *qr = q ? realloc(ch->qrow, ch->nrow * sizeof *qr) : NULL;
	if (!qr) {
		ch->fatal = 1;
		snprintf(ch->fatal_msg, sizeof ch->fatal_msg, "out of memory");
		return -1;
	}
	ch->qrow = qr;
	ch->qcap = ch->nrow;
	return 0;
}

/* Channel, class, type and day of a and b are the same text. */
static int same_words(const words *a, const words *b)
{
	for (int k = SCR_COL_TYPE; k < SCR_NCOLS; k++)
		if (!same(a->w[k], b->w[k]))
			return 0;
	return 1;
}

/* ---- scratch and the words table ------------------------------------------- */

enum { WS_TABLE, WS_KEYS, WS_GROUPS, WS_ORDER, WS_FRAMES };

/* ch's scratch array `which` with room for n items of size bytes, kept for
 * the chunk's next use; NULL (ch->fatal set) when out of memory. */
static void *scratch(scr_chunk *ch, int which, size_t n, size_t size)
{
	if (ch->wscap[which] < n * size) {
		void *p = realloc(ch->ws[which], n * size);
		if (!p) {
			ch->fatal = 1;
			snprintf(ch->fatal_msg, sizeof ch->fatal_msg, "out of memory");
			return NULL;
		}
		ch->ws[which] = p;
		ch->wscap[which] = n * size;
	}
	return ch->ws[which];
}

/* h mixed with s[0..n): eight bytes a step, inline (a library hash per
 * word was a tenth of a worker's time), good enough for a table whose
 * hits are confirmed by comparing the words. */
static inline uint64_t mix(uint64_t h, const char *s, size_t n)
{
	const uint64_t m = 0x9E3779B97F4A7C15ull;
	uint64_t w;
	h = (h ^ n) * m;
	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * m;
		h ^= h >> 29;
	}
	if (n) {
		/* the tail by whole loads (a copy of n bytes into w was
		 * byte stores, then a stalled load): two overlapping
		 * halves, or three bytes; n was mixed in above */
		if (n >= 4) {
			uint32_t a, b;
			memcpy(&a, s, 4);
			memcpy(&b, s + n - 4, 4);
			w = (uint64_t)a << 32 | b;
		} else {
			w = (uint64_t)(uint8_t)s[0] << 16 |
			    (uint64_t)(uint8_t)s[n >> 1] << 8 | (uint8_t)s[n - 1];
		}
		h = (h ^ w) * m;
		h ^= h >> 29;
	}
	return h;
}

/* The hash of a row's type, channel, class and day texts (a NULL word,
 * not given, differs from an empty one). */
static uint64_t text_hash(const words *w)
{
	uint64_t h = 0;
	for (int k = SCR_COL_TYPE; k < SCR_NCOLS; k++)
		h = w->w[k].p ? mix(h, w->w[k].p, w->w[k].n) : mix(h + 1, "", 0);
	return h ^ h >> 32;
}

/* Words seen in a chunk, with what they parsed to: offline the query's
 * template, online the group of the rows that share them. */
typedef struct textkey {
	words w;
	struct {                   /* the query's context (no ID: the key */
		uint8_t chan, type, op;   /* stays small, the table in cache) */
		uint16_t cls, day;
	} tmpl;
	uint32_t group;
} textkey;

/* A table of the words seen in a chunk (open addressing over keys[]):
 * a manifest repeats a few contexts in any order.  A slot holds the top
 * half of the hash beside the key's index, so a probe that passes over
 * other words rarely touches their keys. */
typedef struct wtable {
	uint64_t *slot;         /* hash >> 32 << 32 | index; UINT64_MAX: empty */
	size_t mask, n;
	textkey *key;
} wtable;

static int wtable_init(scr_chunk *ch, wtable *t)
{
	size_t cap = 64;
	while (cap < ch->nrow * 2)
		cap *= 2;
	t->slot = scratch(ch, WS_TABLE, cap, sizeof *t->slot);
	t->key = scratch(ch, WS_KEYS, ch->nrow ? ch->nrow : 1, sizeof *t->key);
	if (!t->slot || !t->key)
		return -1;
	memset(t->slot, 0xff, cap * sizeof *t->slot);
	t->mask = cap - 1;
	t->n = 0;
	return 0;
}

/* The key of w, whose text_hash is h, or NULL with *slot and *tag where
 * to add it. */
static textkey *wtable_find(const wtable *t, const words *w, uint64_t h,
                            size_t *slot, uint64_t *tag)
{
	uint64_t e;
	uint64_t hi = h & 0xFFFFFFFF00000000ull;
	size_t i = h & t->mask;
	while ((e = t->slot[i]) != UINT64_MAX) {
		if ((e & 0xFFFFFFFF00000000ull) == hi &&
		    same_words(&t->key[(uint32_t)e].w, w))
			return &t->key[(uint32_t)e];
		i = (i + 1) & t->mask;
	}
	*slot = i;
	*tag = hi;
	return NULL;
}

static textkey *wtable_add(wtable *t, size_t slot, uint64_t tag, const words *w)
{
	textkey *k = &t->key[t->n];
	t->slot[slot] = tag | (uint32_t)t->n++;
	k->w = *w;
	return k;
}

/* ---- offline --------------------------------------------------------------- */

void scr_check_chunk(const scr_opts *o, scr_chunk *ch)
{
	when_cache wc = { 0 };
	size_t nq = 0;
	if (ch->checked || grow_queries(ch))
		return;
	for (size_t i = 0; i < ch->nrow; i++) {
		words w;
		if (!check_row(o, ch, &ch->row[i], &w, &ch->q[nq], &wc))
			ch->qrow[nq++] = (uint32_t)i;
	}
	ch->nq = nq;
	ch->checked = 1;
}

static void decide_offline(const scr_opts *o, scr_chunk *ch)
{
	const sx_snap *s = o->snap;
	char err[320];
	size_t nq = 0;
	wtable t;
	scr_check_chunk(o, ch);
	if (ch->fatal || wtable_init(ch, &t))
		return;

	/* the checked rows a batch at a time: hash each one's words,
	 * fetching the table's slot ahead; then find (or make) their
	 * templates, the slots now in cache.  A query is moved down past a
	 * row rejected on the way. */
	enum { BATCH = 32 };
	for (size_t base = 0; base < ch->nq; base += BATCH) {
		size_t end = ch->nq - base < BATCH ? ch->nq : base + BATCH;
		uint64_t ph[BATCH];
		words pw[BATCH];
		for (size_t j = base; j < end; j++) {
			row_words(o, ch, &ch->row[ch->qrow[j]], &pw[j - base]);
			ph[j - base] = text_hash(&pw[j - base]);
			__builtin_prefetch(&t.slot[ph[j - base] & t.mask]);
		}
		for (size_t j = base; j < end; j++) {
			uint32_t ri = ch->qrow[j];
			scr_row *r = &ch->row[ri];
			const words *w = &pw[j - base];
			size_t slot;
			uint64_t tag;
			textkey *k = wtable_find(&t, w, ph[j - base], &slot, &tag);
			if (!k) {
				sx_query tq;
				sx_str day = w->w[SCR_COL_DAY];
				if (!day.p)
					day = (sx_str){ o->today, strlen(o->today) };
				if (sx_query_common(&tq, sx_snap_rules(s), w->w[SCR_COL_CHANNEL],
				                    w->w[SCR_COL_CLASS], w->w[SCR_COL_TYPE],
				                    day, err, sizeof err)) {
					reject_word(o, ch, r, w, err);
					continue;
				}
				k = wtable_add(&t, slot, tag, w);
				k->tmpl.chan = tq.chan;
				k->tmpl.type = tq.type;
				k->tmpl.op = tq.op;
				k->tmpl.cls = tq.cls;
				k->tmpl.day = tq.day;
			}
			sx_query *q = &ch->q[nq];
			if (j != nq)
				*q = ch->q[j];
			/* the template's context field by field: a whole
			 * query copied around the ID moved three times the
			 * bytes */
			q->chan = k->tmpl.chan;
			q->type = k->tmpl.type;
			q->cls = k->tmpl.cls;
			q->day = k->tmpl.day;
			q->op = k->tmpl.op;
			ch->qrow[nq++] = ri;
		}
	}

	size_t cap = sx_snap_max_query_records(s);
	if (cap < 4096)
		cap = 4096;
	uint32_t *recs = malloc(cap * sizeof *recs);
	sx_decision ds[256];
	if (!recs) {
		ch->fatal = 1;
		snprintf(ch->fatal_msg, sizeof ch->fatal_msg, "out of memory");
		return;
	}
	for (size_t done = 0; done < nq;) {
		size_t m = nq - done < 256 ? nq - done : 256;
		size_t got = sx_decide_batch(s, ch->q + done, m, ds, recs, cap);
		for (size_t j = 0; j < got; j++) {
			scr_row *r = &ch->row[ch->qrow[done + j]];
			r->state = SCR_ROW_DECIDED;
			r->reason = ds[j].reason;
			r->rec = (uint32_t)ch->text.n;
			r->nrec = ds[j].nrec;
			for (uint32_t k = 0; k < ds[j].nrec; k++) {
				char line[4096];
				size_t n = sx_record_format(s, ds[j].rec[k], line, sizeof line);
				if (n >= sizeof line)
					n = sizeof line - 1;
				line[n] = 0;
				scr_buf_put(&ch->text, line, n + 1);
			}
		}
		done += got;
	}
	free(recs);
}

/* ---- online ---------------------------------------------------------------- */

/* One query context of a chunk: what a frame's rows share.  Rows whose
 * channel and class the engine parses without the snapshot's rules (every
 * channel but the classed joint-punishment ones) are grouped by the
 * parsed values, so "G1234:second" and "G77:second" share a frame (the
 * decision keeps only the train's kind); the rest by their text, which
 * the server's rules judge.  A frame carries the texts of its group's
 * first row. */
typedef struct group {
	sx_str chan, cls, type;   /* texts of the first row */
	int parsed;
	uint8_t pchan, ptype;
	uint16_t pcls, day;
	char at[11];
	uint32_t first, n, fill;   /* its rows in order[first .. first+n) */
} group;

typedef struct frame {
	uint32_t group, start, n;
	int answered;
} frame;

static void fatal(scr_chunk *ch, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fatal(scr_chunk *ch, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ch->fatal = 1;
	vsnprintf(ch->fatal_msg, sizeof ch->fatal_msg, fmt, ap);
	va_end(ap);
}

/* The rows of f answered by rep; 0, or -1 when the run must stop. */
static int take_reply(const scr_opts *o, scr_chunk *ch, const uint32_t *order, frame *f, const sx_client_reply *rep)
{
	if (rep->op == SXB_OP_ERROR) {
		int too_big = rep->errlen >= 22 && !memcmp(rep->err, "ERR max-batch exceeded", 22);
		if (rep->errlen < 4 || memcmp(rep->err, "ERR ", 4) || too_big ||
		    (rep->errlen >= 18 && !memcmp(rep->err, "ERR Protocol error", 18))) {
			fatal(ch, "the server refused a CHECK frame of %u IDs: %.*s%s", f->n,
			      (int)rep->errlen, rep->err,
			      too_big ? " (give a smaller --batch)" : "");
			return -1;
		}
		char err[320];
		snprintf(err, sizeof err, "%.*s", (int)(rep->errlen - 4), rep->err + 4);
		for (uint32_t i = 0; i < f->n; i++) {
			scr_row *r = &ch->row[order[f->start + i]];
			words w;
			row_words(o, ch, r, &w);
			reject_word(o, ch, r, &w, err);
		}
		return 0;
	}
	if (rep->op != SXB_OP_CHECK_REPLY || rep->count != f->n) {
		fatal(ch, "the server answered a CHECK frame of %u IDs with op "
		      "0x%02x and %u items", f->n, rep->op, rep->count);
		return -1;
	}
	size_t pos = 0;
	sx_client_item it;
	for (uint32_t i = 0; i < f->n && sx_client_item_next(rep, &pos, &it); i++) {
		scr_row *r = &ch->row[order[f->start + i]];
		if (it.kind == SXB_KIND_ERROR) {
			const char *t = (const char *)it.data;
			size_t tn = it.size;
			if (tn >= 4 && !memcmp(t, "ERR ", 4))
				t += 4, tn -= 4;
			char err[320];
			snprintf(err, sizeof err, "%.*s", (int)tn, t);
			words w;
			row_words(o, ch, r, &w);
			reject_word(o, ch, r, &w, err);
			continue;
		}
		r->state = SCR_ROW_DECIDED;
		r->reason = it.decision == SXB_REVIEW ? SX_R_REVIEW : it.reason;
		r->rec = (uint32_t)ch->text.n;
		r->nrec = it.n;
		size_t rp = 0;
		const char *s;
		size_t n;
		while (sx_client_record_next(&it, &rp, &s, &n)) {
			scr_buf_put(&ch->text, s, n);
			scr_buf_put(&ch->text, "", 1);
		}
	}
	f->answered = 1;
	return 0;
}

static int same_group(const group *g, const words *w, const sx_query *q, int parsed)
{
	if (g->parsed != parsed || g->day != q->day || g->ptype != q->type)
		return 0;
	if (parsed)
		return g->pchan == q->chan && g->pcls == q->cls;
	return same(g->chan, w->w[SCR_COL_CHANNEL]) && same(g->cls, w->w[SCR_COL_CLASS]);
}

/* Parse the row's channel and class here when the engine's default table
 * judges them as the server would: 1 with q->chan and q->cls, 0 to leave
 * them to the server, -1 after rejecting the row. */
static int parse_here(const scr_opts *o, scr_chunk *ch, scr_row *r, const words *w,
                      sx_query *q)
{
	sx_str c = w->w[SCR_COL_CHANNEL];
	int chan = sx_channel_parse(c.p, c.n);
	if (chan >= 0 && sx_chan_classed(chan) && chan != SX_C_RAIL &&
	    chan != SX_C_SHIP && chan != SX_C_HOTEL)
		return 0;
	sx_query p = *q;
	char err[320];
	sx_str day = w->w[SCR_COL_DAY];
	if (!day.p)
		day = (sx_str){ o->today, strlen(o->today) };
	if (sx_query_common(&p, NULL, c, w->w[SCR_COL_CLASS], w->w[SCR_COL_TYPE], day,
	                    err, sizeof err)) {
		reject_word(o, ch, r, w, err);
		return -1;
	}
	q->chan = p.chan;
	q->cls = p.cls;
	return 1;
}

static void decide_online(const scr_opts *o, scr_net *net, scr_chunk *ch)
{
	/* group the valid rows by query context: the words' table in front
	 * of the (few) groups */
	wtable t;
	group *gs = scratch(ch, WS_GROUPS, ch->nrow, sizeof *gs);
	uint32_t *order = scratch(ch, WS_ORDER, ch->nrow, sizeof *order);
	frame *fs = scratch(ch, WS_FRAMES, ch->nrow, sizeof *fs);
	if (!gs || !order || !fs || wtable_init(ch, &t))
		return;
	when_cache wc = { 0 };
	size_t ng = 0, nv = 0;
	for (size_t i = 0; i < ch->nrow; i++) {
		scr_row *r = &ch->row[i];
		words w;
		sx_query q = { 0 };
		if (check_row(o, ch, r, &w, &q, &wc))
			continue;
		if (w.w[SCR_COL_CHANNEL].n > SXB_MAX_CTX || w.w[SCR_COL_CLASS].n > SXB_MAX_CTX ||
		    w.w[SCR_COL_TYPE].n > SXB_MAX_CTX) {
			char src[160];
			int k = w.w[SCR_COL_CHANNEL].n > SXB_MAX_CTX ? SCR_COL_CHANNEL :
			        w.w[SCR_COL_CLASS].n > SXB_MAX_CTX ? SCR_COL_CLASS : SCR_COL_TYPE;
			source(o, &w, k, src, sizeof src);
			scr_reject(ch, r, "%s: over %u bytes", src, SXB_MAX_CTX);
			continue;
		}
		/* the group of these words, from the words' table, or found
		 * (made) by their parsed values the first time they are seen */
		size_t slot;
		uint64_t tag;
		textkey *k = wtable_find(&t, &w, text_hash(&w), &slot, &tag);
		if (!k) {
			int parsed = parse_here(o, ch, r, &w, &q);
			if (parsed < 0)
				continue;
			size_t gi = 0;
			while (gi < ng && !same_group(&gs[gi], &w, &q, parsed))
				gi++;
			if (gi == ng) {
				group *g = &gs[ng++];
				g->chan = w.w[SCR_COL_CHANNEL];
				g->cls = w.w[SCR_COL_CLASS];
				g->type = w.w[SCR_COL_TYPE];
				g->parsed = parsed;
				g->pchan = q.chan;
				g->pcls = q.cls;
				g->ptype = q.type;
				g->day = q.day;
				sx_day_format(q.day, g->at);
				g->n = 0;
			}
			k = wtable_add(&t, slot, tag, &w);
			k->group = (uint32_t)gi;
		}
		r->ctx = k->group;
		gs[r->ctx].n++;
		r->state = SCR_ROW_VALID;
		nv++;
	}
	uint32_t at = 0;
	for (size_t g = 0; g < ng; g++) {
		gs[g].first = gs[g].fill = at;
		at += gs[g].n;
	}
	for (size_t i = 0; i < ch->nrow; i++)
		if (ch->row[i].state == SCR_ROW_VALID)
			order[gs[ch->row[i].ctx].fill++] = (uint32_t)i;

	/* queue every frame of the chunk */
	size_t nf = 0;
	const char *ids[SXB_MAX_BATCH];
	size_t lens[SXB_MAX_BATCH];
	for (size_t gi = 0; gi < ng; gi++) {
		group *g = &gs[gi];
		char chan[SXB_MAX_CTX + 1], cls[SXB_MAX_CTX + 1], type[SXB_MAX_CTX + 1];
		snprintf(chan, sizeof chan, "%.*s", (int)g->chan.n, g->chan.p ? g->chan.p : "");
		snprintf(cls, sizeof cls, "%.*s", (int)g->cls.n, g->cls.p ? g->cls.p : "");
		snprintf(type, sizeof type, "%.*s", (int)g->type.n, g->type.p ? g->type.p : "");
		sx_client_ctx cx = { chan, g->cls.p ? cls : NULL, g->type.p ? type : NULL,
		                     g->at };
		for (uint32_t s = 0; s < g->n; s += net->batch) {
			uint32_t n = g->n - s < net->batch ? g->n - s : net->batch;
			for (uint32_t j = 0; j < n; j++) {
				sx_str id = scr_field(ch, &ch->row[order[g->first + s + j]],
				                      o->col[SCR_COL_ID]);
				ids[j] = id.p;
				lens[j] = id.n;
			}
			fs[nf] = (frame){ (uint32_t)gi, g->first + s, n, 0 };
			int rc = sx_client_send_check_batch(net->cli, (uint32_t)nf, &cx, ids,
			                                    lens, n);
			if (rc) {
				const char *m = sx_client_errmsg(net->cli);
				fatal(ch, "cannot queue a CHECK frame: %s", m);
				return;
			}
			nf++;
		}
	}

	/* write and read until every frame is answered */
	size_t answered = 0;
	int timeout = o->net.timeout_ms > 0 ? o->net.timeout_ms : 30000;
	while (answered < nf) {
		int rc = sx_client_flush(net->cli);
		if (rc && rc != -EAGAIN)
			goto conn_failed;
		sx_client_reply rep;
		while ((rc = sx_client_recv_reply(net->cli, &rep)) == 0) {
			if (rep.req_id >= nf || fs[rep.req_id].answered) {
				fatal(ch, "the server answered request %u, which was not "
				      "asked or was answered already", rep.req_id);
				return;
			}
			if (take_reply(o, ch, order, &fs[rep.req_id], &rep))
				return;
			answered++;
		}
		if (rc != -EAGAIN)
			goto conn_failed;
		if (answered == nf)
			break;
		struct pollfd p = { sx_client_fd(net->cli), POLLIN, 0 };
		if (sx_client_unsent(net->cli))
			p.events |= POLLOUT;
		int pr = poll(&p, 1, timeout);
		if (pr == 0) {
			fatal(ch, "the server did not answer for %d ms (--timeout)",
			      timeout);
			return;
		}
		if (pr < 0 && errno != EINTR) {
			fatal(ch, "poll: %s", strerror(errno));
			return;
		}
	}
	return;
conn_failed:
	fatal(ch, "the connection to the server failed: %s", sx_client_errmsg(net->cli));
}

void scr_decide_chunk(const scr_opts *o, scr_net *n, scr_chunk *ch)
{
	if (grow_queries(ch))
		return;
	if (n)
		decide_online(o, n, ch);
	else
		decide_offline(o, ch);
	if (ch->text.oom && !ch->fatal) {
		ch->fatal = 1;
		snprintf(ch->fatal_msg, sizeof ch->fatal_msg, "out of memory");
	}
}
