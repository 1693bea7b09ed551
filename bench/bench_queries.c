/*
 * bench_queries.c - the load of sxgate-bench: a query file (as sxgate-gen
 * writes it) read once and cut into requests.
 *
 * The file is read whole into one buffer and the queries point into it,
 * so preparing 10 M queries costs one allocation for the text and one
 * array.  Batches are prepared here too (flat arrays of IDs and lengths,
 * each batch a range of them with its context), and over RESP every
 * batch's command is encoded here too, so sending a request in the timed
 * loop is a copy and the client spends its time on the round trip, not on
 * formatting (the same for every server it is pointed at).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench.h"

/* The run's settings (bench.h): defined here, in the lowest of the
 * bench's files, so that its files depend on each other one way. */
struct bench bench;

static const char *field(char *s)
{
	return (*s == 0 || (s[0] == '-' && s[1] == 0)) ? NULL : s;
}

/* Read FILE: lines "id TAB type TAB channel TAB class TAB day" (class,
 * type, day "-" for none), '#' comments and blank lines skipped. */
int load_queries(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "sxgate-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (!buf)
			goto nomem;
		len += fread(buf + len, 1, cap - len, f);
		if (len < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap + 1);
	}
	if (ferror(f)) {
		fprintf(stderr, "sxgate-bench: %s: read error\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[len] = 0;
	bench.text = buf;

	size_t qcap = 1024;
	bench.q = malloc(qcap * sizeof *bench.q);
	if (!bench.q)
		goto nomem;
	unsigned line = 0;
	for (char *p = buf; p < buf + len;) {
		char *nl = memchr(p, '\n', (size_t)(buf + len - p));
		char *end = nl ? nl : buf + len;
		line++;
		*end = 0;
		if (end > p && end[-1] == '\r')
			end[-1] = 0;
		char *ln = p;
		p = end + 1;
		if (*ln == 0 || *ln == '#')
			continue;
		char *fs[5];
		int nf = 0;
		for (char *s = ln; nf < 5;) {
			fs[nf++] = s;
			char *t = strchr(s, '\t');
			if (!t)
				break;
			*t = 0;
			s = t + 1;
		}
		if (nf < 5) {
			fprintf(stderr, "sxgate-bench: %s:%u: %d fields, expected 5 "
			        "(id, type, channel, class, day; tab-separated)\n",
			        path, line, nf);
			return -1;
		}
		size_t il = strlen(fs[0]);
		if (il == 0 || il > SXB_MAX_ID) {
			fprintf(stderr, "sxgate-bench: %s:%u: ID of %zu bytes (1..64 allowed)\n",
			        path, line, il);
			return -1;
		}
		for (int i = 1; i < 5; i++)
			if (strlen(fs[i]) > SXB_MAX_CTX) {
				fprintf(stderr, "sxgate-bench: %s:%u: field %d longer than 255 bytes\n",
				        path, line, i + 1);
				return -1;
			}
		if (!field(fs[2]) && bench.cmd == CMD_CHECK) {
			fprintf(stderr, "sxgate-bench: %s:%u: no channel\n", path, line);
			return -1;
		}
		if (bench.nq == qcap) {
			qcap *= 2;
			query *nq = realloc(bench.q, qcap * sizeof *bench.q);
			if (!nq)
				goto nomem;
			bench.q = nq;
		}
		bench.q[bench.nq++] = (query){ .id = fs[0], .idlen = il, .type = field(fs[1]),
		                       .chan = field(fs[2]), .cls = field(fs[3]),
		                       .day = field(fs[4]), .line = line };
	}
	if (!bench.nq) {
		fprintf(stderr, "sxgate-bench: %s: no queries\n", path);
		return -1;
	}
	return 0;
nomem:
	fprintf(stderr, "sxgate-bench: out of memory reading %s\n", path);
	return -1;
}

static int same_type(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcasecmp(a, b) == 0;
}

/*
 * Cut the queries into batches of up to B IDs of one type, keeping file
 * order within a type.  A small table of open batches, one per type seen
 * (there are seven ID types; more distinct spellings just open more).
 */
int make_batches(void)
{
	size_t B = (size_t)bench.batch;
	bench.ids = malloc(bench.nq * sizeof *bench.ids);
	bench.idlens = malloc(bench.nq * sizeof *bench.idlens);
	bench.batches = malloc((bench.nq + 64) * sizeof *bench.batches);
	/* per open type: the queries of its current batch */
	enum { NOPEN = 64 };
	size_t *open_q[NOPEN] = { 0 };
	size_t open_n[NOPEN] = { 0 };
	const char *open_type[NOPEN];
	int nopen = 0;
	if (!bench.ids || !bench.idlens || !bench.batches)
		return -1;
	size_t nid = 0;

#define EMIT(k)                                                                \
	do {                                                                   \
		const query *f0 = &bench.q[open_q[k][0]];                              \
		batch *b = &bench.batches[bench.nbatches++];                               \
		b->ctx = (sx_client_ctx){ f0->chan, f0->cls, f0->type, f0->day };  \
		b->first = (uint32_t)nid;                                          \
		b->n = (uint32_t)open_n[k];                                        \
		for (size_t j = 0; j < open_n[k]; j++) {                           \
			bench.ids[nid] = bench.q[open_q[k][j]].id;                             \
			bench.idlens[nid++] = bench.q[open_q[k][j]].idlen;                     \
		}                                                                  \
		open_n[k] = 0;                                                     \
	} while (0)

	for (size_t i = 0; i < bench.nq; i++) {
		int k;
		for (k = 0; k < nopen; k++)
			if (same_type(open_type[k], bench.q[i].type))
				break;
		if (k == nopen) {
			if (nopen == NOPEN) {
				fprintf(stderr, "sxgate-bench: %s: more than %d ID types "
				        "(line %u)\n", bench.queries, NOPEN, bench.q[i].line);
				return -1;
			}
			open_type[k] = bench.q[i].type;
			open_q[k] = malloc(B * sizeof(size_t));
			if (!open_q[k])
				return -1;
			nopen++;
		}
		open_q[k][open_n[k]++] = i;
		if (open_n[k] == B)
			EMIT(k);
	}
	for (int k = 0; k < nopen; k++) {
		if (open_n[k])
			EMIT(k);
		free(open_q[k]);
	}
#undef EMIT
	return 0;
}

int resp_argv(const batch *b, const char **a)
{
	int n = 0;
	if (bench.cmd == CMD_SISMEMBER) {
		a[n++] = "SISMEMBER";
		a[n++] = bench.redis_key;
		a[n++] = bench.ids[b->first];
		return n;
	}
	if (bench.cmd == CMD_LISTED) {
		a[n++] = "LISTED";
		a[n++] = bench.ids[b->first];
	} else if (bench.batch == 1) {
		a[n++] = "CHECK";
		a[n++] = bench.ids[b->first];
		a[n++] = b->ctx.channel;
		if (b->ctx.cls)
			a[n++] = b->ctx.cls;
	} else {
		a[n++] = "MCHECK";
		a[n++] = b->ctx.channel;
		a[n++] = b->ctx.cls ? b->ctx.cls : "-";
	}
	if (b->ctx.type) {
		a[n++] = "TYPE";
		a[n++] = b->ctx.type;
	}
	if (b->ctx.at) {
		a[n++] = "AT";
		a[n++] = b->ctx.at;
	}
	if (bench.cmd == CMD_CHECK && bench.batch > 1)
		for (uint32_t i = 0; i < b->n; i++)
			a[n++] = bench.ids[b->first + i];
	return n;
}

void encode_resp(void)
{
	const char **a = malloc(((size_t)bench.batch + 10) * sizeof *a);
	size_t *off = malloc((bench.nbatches + 1) * sizeof *off);
	char *w = NULL;
	if (!a || !off)
		goto out;
	/* sized first: "*N\r\n", then "$L\r\n" arg "\r\n" for each */
	size_t total = 0;
	for (size_t i = 0; i < bench.nbatches; i++) {
		int n = resp_argv(&bench.batches[i], a);
		total += 16;
		for (int k = 0; k < n; k++)
			total += 16 + strlen(a[k]);
	}
	if (total > ((size_t)512 << 20) || !(w = malloc(total)))
		goto out;
	size_t at = 0;
	for (size_t i = 0; i < bench.nbatches; i++) {
		int n = resp_argv(&bench.batches[i], a);
		off[i] = at;
		at += (size_t)sprintf(w + at, "*%d\r\n", n);
		for (int k = 0; k < n; k++) {
			size_t l = strlen(a[k]);
			at += (size_t)sprintf(w + at, "$%zu\r\n", l);
			memcpy(w + at, a[k], l);
			at += l;
			w[at++] = '\r';
			w[at++] = '\n';
		}
	}
	off[bench.nbatches] = at;
	bench.wire = w;
	bench.wire_off = off;
	off = NULL;
out:
	free(a);
	free(off);
}
