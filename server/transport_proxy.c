/*
 * transport_proxy.c - reading a connection's PROXY protocol header before
 * anything else (see transport_proxy.h).
 *
 * The common case costs no copy: the proxy writes its header in one send,
 * often with the client's first bytes behind it, and both arrive in one
 * read; the header is parsed there and the rest is passed on in place.
 * A header cut by a read boundary is gathered in pp_held, and since the
 * parser keeps no state, each read re-parses the held prefix (at most
 * SX_PP_MAX bytes, so a header sent a byte at a time costs at most a few
 * thousand short parses, within the header timeout).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "proxyproto.h"
#include "server_int.h"
#include "transport_proxy.h"

/* One line a second per thread at most: a flood of bad connections must
 * not flood the log; the next line says how many were not logged. */
__attribute__((cold, format(printf, 3, 4)))
static void refused(sx_ctx *x, const sx_addr *peer, const char *fmt, ...)
{
	static __thread int64_t last = -1;
	static __thread uint64_t quiet;
	if (x->now == last) {
		quiet++;
		return;
	}
	last = x->now;
	char why[256], a[SX_ADDR_TEXT], more[96] = "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (quiet)
		snprintf(more, sizeof more, " (and %llu more refused since the last such line)",
		         (unsigned long long)quiet);
	quiet = 0;
	sx_log_warn("PROXY protocol: connection from %s refused: %s%s",
	            sx_addr_text(peer->b, a, sizeof a), why, more);
}

int sx_proxy_admit(sx_ctx *x, const sx_addr *peer)
{
	const sx_cidr_list *from = &x->srv->proxy_from;
	if (sx_likely(sx_cidr_list_match(from, peer->b)))
		return 0;
	sx_stat_inc(x->stats.proxy_untrusted);
	char list[256];
	refused(x, peer, "not in --proxy-from (%s)", sx_cidr_list_text(from, list, sizeof list));
	return -1;
}

void sx_proxy_expect(sx_conn *c)
{
	c->flags |= SX_CF_PROXY;
	c->req_since = sx_mono_ns();       /* the header is timed from the connect */
}

void sx_proxy_drop(sx_conn *c)
{
	free(c->pp_held);
	c->pp_held = NULL;
	c->pp_len = 0;
}

/* The header is whole: the connection is the client's from now on. */
static void apply(sx_conn *c, const sx_pp_hdr *h)
{
	if (!h->local) {
		memcpy(c->addr.b, h->src, sizeof c->addr.b);
		c->port = h->sport;
	}
	c->flags &= (uint16_t)~SX_CF_PROXY;
	sx_stat_inc(c->x->stats.proxy_headers);
	sx_proxy_drop(c);
	if (c->tls)
		c->req_since = sx_mono_ns();   /* the TLS handshake gets its own time */
}

int sx_proxy_input(sx_conn *c, char **data, size_t *n)
{
	sx_pp_hdr h;
	int rc;
	size_t held = c->pp_len;
	if (!held) {
		/* where it landed: the usual case */
		rc = sx_pp_parse((const uint8_t *)*data, *n, &h);
		if (rc == SX_PP_DONE) {
			apply(c, &h);
			*data += h.len;
			*n -= h.len;
			return SX_PROXY_PASS;
		}
		if (rc == SX_PP_MORE) {
			/* cut by the read: hold the prefix (it is < SX_PP_MAX,
			 * or the parser would have refused it) */
			if (!c->pp_held && !(c->pp_held = malloc(SX_PP_MAX)))
				abort();      /* out of memory: see obuf.h */
			memcpy(c->pp_held, *data, *n);
			c->pp_len = (uint16_t)*n;
			return SX_PROXY_WAIT;
		}
	} else {
		size_t take = *n < SX_PP_MAX - held ? *n : SX_PP_MAX - held;
		memcpy(c->pp_held + held, *data, take);
		rc = sx_pp_parse(c->pp_held, held + take, &h);
		if (rc == SX_PP_DONE) {
			/* the held prefix was MORE, so the header ends in the new
			 * bytes: h.len > held */
			size_t used = h.len - held;
			apply(c, &h);
			*data += used;
			*n -= used;
			return SX_PROXY_PASS;
		}
		if (rc == SX_PP_MORE) {
			c->pp_len = (uint16_t)(held + take);
			return SX_PROXY_WAIT;
		}
	}
	sx_stat_inc(c->x->stats.proxy_malformed);
	refused(c->x, &c->addr, "%s", h.why);
	sx_proxy_drop(c);
	return SX_PROXY_FAIL;
}

int sx_proxy_late(sx_conn *c, uint64_t now_ns)
{
	unsigned secs = SX_PROXY_TIMEOUT_S;
	int rt = c->x->cfg->request_timeout;
	if (rt > 0 && (unsigned)rt < secs)
		secs = (unsigned)rt;
	if (now_ns - c->req_since < (uint64_t)secs * 1000000000u)
		return 0;
	sx_stat_inc(c->x->stats.proxy_timeout);
	refused(c->x, &c->addr, "no complete header within %u s (%u bytes of one received)",
	        secs, (unsigned)c->pp_len);
	sx_proxy_drop(c);
	return 1;
}

void sx_proxy_eof(sx_conn *c)
{
	if (!c->pp_len)
		return;
	sx_stat_inc(c->x->stats.proxy_incomplete);
	refused(c->x, &c->addr, "closed after %u bytes of a header", (unsigned)c->pp_len);
	sx_proxy_drop(c);
}
