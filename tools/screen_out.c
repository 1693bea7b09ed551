/*
 * screen_out.c - what `sxgate screen` writes: the screened rows as CSV or
 * JSON lines, and the rejects.
 *
 * CSV: the input record exactly as read (its quoting included), then
 * decision, reason and cases, the denying records "case_no|court|role|
 * list" joined by ';' (a case number or court never holds '|', the
 * loader refuses it).  A cases cell that a spreadsheet would take for a
 * formula (it begins with = + - @, a tab or CR: list data, not ours) gets
 * a leading apostrophe, as OWASP advises; the carried columns are the
 * caller's own and stay byte for byte (README's screen section).  A
 * plain list of IDs comes out as id,decision,reason,cases.  JSON lines:
 * the /v1/check result of the HTTP API ({"decision","reason","day",
 * "records":[{"case_no","court","role","list"}]}) plus "input", the
 * row's columns by header name; strings
 * through engine/json.h's one escaper, the columns having been checked as
 * UTF-8 before.  Rejects: line,reason,raw, as the loader writes them.
 *
 * By default only the outcomes fed back to the courts are written (DENY,
 * REVIEW, SUSPENDED, EXEMPT: sx_reason_fed_back), every row with --all.
 * A worker formats its chunk into the chunk's own buffers; the main
 * thread only writes them out, in order.
 */
#include "screen.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

/* lead and s in double quotes, s's quotes doubled. */
static void put_quoted_after(scr_buf *b, const char *lead, const char *s, size_t n)
{
	scr_buf_put(b, "\"", 1);
	scr_buf_put(b, lead, strlen(lead));
	for (const char *q; n && (q = memchr(s, '"', n)); ) {
		size_t k = (size_t)(q - s) + 1;
		scr_buf_put(b, s, k);
		scr_buf_put(b, "\"", 1);
		s += k;
		n -= k;
	}
	scr_buf_put(b, s, n);
	scr_buf_put(b, "\"", 1);
}

/* s in double quotes, quotes doubled: a rejects field, always quoted as
 * the loader writes it. */
static void put_quoted(scr_buf *b, const char *s, size_t n)
{
	put_quoted_after(b, "", s, n);
}

void scr_buf_csv(scr_buf *b, const char *s, size_t n)
{
	if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) &&
	    !memchr(s, '\r', n)) {
		scr_buf_put(b, s, n);
		return;
	}
	put_quoted(b, s, n);
}

void scr_buf_json(scr_buf *b, const char *s, size_t n)
{
	if (scr_buf_reserve(b, SX_JSON_STR_MAX(n)))
		return;
	b->n += sx_json_str(b->p + b->n, s, n);
}

void scr_out_header(const scr_opts *o, scr_buf *b)
{
	if (o->jsonl)
		return;
	if (o->plain)
		scr_buf_puts(b, "id");
	else
		scr_buf_put(b, o->header_raw, o->header_len);
	scr_buf_puts(b, ",decision,reason,cases\n");
}

static void csv_row(const scr_opts *o, scr_chunk *ch, const scr_row *r)
{
	scr_buf *b = &ch->out;
	if (o->plain) {
		sx_str id = scr_field(ch, r, 0);
		scr_buf_csv(b, id.p, id.n);
	} else {
		scr_buf_put(b, ch->bytes.p + r->raw, r->raw_len);
	}
	scr_buf_puts(b, ",");
	scr_buf_puts(b, sx_reason_decision(r->reason));
	scr_buf_puts(b, ",");
	scr_buf_puts(b, sx_reason_name(r->reason));
	scr_buf_puts(b, ",");
	if (r->nrec) {
		scr_buf cases = { 0 };
		const char *s = ch->text.p + r->rec;
		for (uint32_t i = 0; i < r->nrec; i++) {
			size_t n = strlen(s);
			if (i)
				scr_buf_put(&cases, ";", 1);
			scr_buf_put(&cases, s, n);
			s += n + 1;
		}
		if (cases.oom)
			b->oom = 1;
		else if (cases.n && memchr("=+-@\t\r", cases.p[0], 6))
			put_quoted_after(b, "'", cases.p, cases.n);  /* not a formula */
		else
			scr_buf_csv(b, cases.p, cases.n);
		free(cases.p);
	}
	scr_buf_puts(b, "\n");
}

static void json_key(scr_buf *b, const char *k)
{
	scr_buf_json(b, k, strlen(k));
	scr_buf_put(b, ":", 1);
}

static void json_row(const scr_opts *o, scr_chunk *ch, const scr_row *r)
{
	static const char *const part[4] = { "case_no", "court", "role", "list" };
	scr_buf *b = &ch->out;
	char day[11];
	sx_day_format(r->day, day);
	scr_buf_puts(b, "{\"decision\":\"");
	scr_buf_puts(b, sx_reason_decision(r->reason));
	scr_buf_puts(b, "\",\"reason\":\"");
	scr_buf_puts(b, sx_reason_name(r->reason));
	scr_buf_puts(b, "\",\"day\":\"");
	scr_buf_puts(b, day);
	scr_buf_puts(b, "\",\"records\":[");
	const char *s = ch->text.p + r->rec;
	for (uint32_t i = 0; i < r->nrec; i++) {
		size_t n = strlen(s);
		const char *p = s, *end = s + n;
		scr_buf_puts(b, i ? ",{" : "{");
		for (int k = 0; k < 4; k++) {
			const char *bar = k < 3 ? memchr(p, '|', (size_t)(end - p)) : NULL;
			const char *e = bar ? bar : end;
			if (k)
				scr_buf_put(b, ",", 1);
			json_key(b, part[k]);
			scr_buf_json(b, p, (size_t)(e - p));
			p = bar ? bar + 1 : end;
		}
		scr_buf_puts(b, "}");
		s += n + 1;
	}
	scr_buf_puts(b, "],\"input\":{");
	for (size_t i = 0; i < o->ncols; i++) {
		sx_str f = scr_field(ch, r, (int)i);
		if (i)
			scr_buf_put(b, ",", 1);
		json_key(b, o->plain ? "id" : o->colname[i]);
		scr_buf_json(b, f.p, f.n);
	}
	scr_buf_puts(b, "}}\n");
}

void scr_out_chunk(const scr_opts *o, scr_chunk *ch)
{
	for (size_t i = 0; i < ch->nrow; i++) {
		const scr_row *r = &ch->row[i];
		if (r->state == SCR_ROW_REJECT) {
			const char *why = ch->text.p + r->why;
			char num[24];
			snprintf(num, sizeof num, "%llu,", (unsigned long long)r->line);
			scr_buf_puts(&ch->rej, num);
			put_quoted(&ch->rej, why, strlen(why));
			scr_buf_put(&ch->rej, ",", 1);
			put_quoted(&ch->rej, ch->bytes.p + r->raw, r->raw_len);
			scr_buf_put(&ch->rej, "\n", 1);
			ch->rejected++;
			continue;
		}
		if (r->state != SCR_ROW_DECIDED)
			continue;
		ch->per_reason[r->reason]++;
		if (!o->all && !sx_reason_fed_back(r->reason))
			continue;
		ch->written++;
		if (o->jsonl)
			json_row(o, ch, r);
		else
			csv_row(o, ch, r);
	}
}
