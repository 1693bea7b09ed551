/*
 * request.c - encoding pipelined requests: CHECK and LISTED batches and
 * EXEC frames for the binary protocol, commands for RESP (and RESP
 * commands a caller encoded beforehand, appended as they are).
 *
 * Each request is sized first, then checked against the protocol's limits
 * (IDs 1..64 bytes, context strings up to 255, bodies up to 1 MiB), then
 * its room is reserved in the send buffer and it is written straight into
 * place: a request is either appended whole or not at all, and nothing is
 * allocated once the buffer has grown to the working set.
 */
#include <string.h>

#include "sxclient_int.h"

static inline size_t slen(const char *s)
{
	return s ? strlen(s) : 0;
}

static int send_query_batch(sx_client *cli, unsigned op, uint32_t req_id,
                            const sx_client_ctx *ctx,
                            const char *const *ids, const size_t *lens,
                            size_t n)
{
	if (cli->proto != SX_CLIENT_BINARY)
		return sxc_fail(cli, SX_CLIENT_EMODE, "CHECK/LISTED frames need the binary protocol");
	if (cli->broken)
		return cli->broken;
	if (n == 0 || n > cli->max_batch)
		return sxc_fail(cli, SX_EINVAL, "batch of %zu IDs (1..%u allowed)", n,
		            cli->max_batch);
	static const sx_client_ctx none;
	if (!ctx)
		ctx = &none;
	const char *cs[4] = { ctx->channel, ctx->cls, ctx->type, ctx->at };
	size_t cl[4], total = SXB_HEADER;
	for (int i = 0; i < 4; i++) {
		cl[i] = slen(cs[i]);
		if (cl[i] > SXB_MAX_CTX)
			return sxc_fail(cli, SX_EINVAL, "query context string of %zu bytes (255 allowed)",
			            cl[i]);
		total += 1 + cl[i];
	}
	for (size_t i = 0; i < n; i++) {
		size_t l = lens ? lens[i] : strlen(ids[i]);
		if (l == 0 || l > SXB_MAX_ID)
			return sxc_fail(cli, SX_EINVAL, "ID %zu of the batch has %zu bytes (1..64 allowed)",
			            i, l);
		total += 1 + l;
	}
	if (total - SXB_HEADER > SXB_MAX_BODY)
		return sxc_fail(cli, SX_EINVAL, "frame body of %zu bytes over 1048576",
		            total - SXB_HEADER);
	int rc = sxc_tx_reserve(cli, total);
	if (rc)
		return rc;
	size_t start = cli->txlen;
	sxc_frame_begin(cli, op, (unsigned)n, req_id);
	for (int i = 0; i < 4; i++)
		sxc_put_str8(cli, cs[i], cl[i]);
	for (size_t i = 0; i < n; i++)
		sxc_put_str8(cli, ids[i], lens ? lens[i] : strlen(ids[i]));
	sxc_frame_end(cli, start);
	return 0;
}

int sx_client_send_check_batch(sx_client *cli, uint32_t req_id,
                               const sx_client_ctx *ctx,
                               const char *const *ids, const size_t *lens,
                               size_t n)
{
	return send_query_batch(cli, SXB_OP_CHECK, req_id, ctx, ids, lens, n);
}

int sx_client_send_listed_batch(sx_client *cli, uint32_t req_id,
                                const sx_client_ctx *ctx,
                                const char *const *ids, const size_t *lens,
                                size_t n)
{
	return send_query_batch(cli, SXB_OP_LISTED, req_id, ctx, ids, lens, n);
}

int sx_client_send_exec(sx_client *cli, uint32_t req_id, int argc,
                        const char *const *argv, const size_t *lens)
{
	if (cli->proto != SX_CLIENT_BINARY)
		return sxc_fail(cli, SX_CLIENT_EMODE, "EXEC frames need the binary protocol");
	if (cli->broken)
		return cli->broken;
	if (argc < 1 || argc > 65535)
		return sxc_fail(cli, SX_EINVAL, "EXEC of %d arguments", argc);
	size_t total = SXB_HEADER;
	for (int i = 0; i < argc; i++) {
		size_t l = lens ? lens[i] : strlen(argv[i]);
		if (l > 65535)
			return sxc_fail(cli, SX_EINVAL, "EXEC argument %d has %zu bytes (65535 allowed)",
			            i, l);
		total += 2 + l;
	}
	if (total - SXB_HEADER > SXB_MAX_BODY)
		return sxc_fail(cli, SX_EINVAL, "EXEC body of %zu bytes over 1048576",
		            total - SXB_HEADER);
	int rc = sxc_tx_reserve(cli, total);
	if (rc)
		return rc;
	size_t start = cli->txlen;
	sxc_frame_begin(cli, SXB_OP_EXEC, (unsigned)argc, req_id);
	for (int i = 0; i < argc; i++) {
		size_t l = lens ? lens[i] : strlen(argv[i]);
		cli->txlen += sxw_put_str16(cli->tx + cli->txlen, argv[i], l);
	}
	sxc_frame_end(cli, start);
	return 0;
}

static size_t udec(char *p, size_t v)
{
	char t[24];
	size_t n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		p[i] = t[n - 1 - i];
	return n;
}

int sx_client_send_resp(sx_client *cli, int argc, const char *const *argv,
                        const size_t *lens)
{
	if (cli->proto != SX_CLIENT_RESP)
		return sxc_fail(cli, SX_CLIENT_EMODE, "RESP commands need a RESP connection");
	if (cli->broken)
		return cli->broken;
	if (argc < 1)
		return sxc_fail(cli, SX_EINVAL, "empty command");
	size_t total = 24;
	for (int i = 0; i < argc; i++)
		total += 28 + (lens ? lens[i] : strlen(argv[i]));
	int rc = sxc_tx_reserve(cli, total);
	if (rc)
		return rc;
	char *p = (char *)cli->tx + cli->txlen, *p0 = p;
	*p++ = '*';
	p += udec(p, (size_t)argc);
	*p++ = '\r';
	*p++ = '\n';
	for (int i = 0; i < argc; i++) {
		size_t l = lens ? lens[i] : strlen(argv[i]);
		*p++ = '$';
		p += udec(p, l);
		*p++ = '\r';
		*p++ = '\n';
		memcpy(p, argv[i], l);
		p += l;
		*p++ = '\r';
		*p++ = '\n';
	}
	cli->txlen += (size_t)(p - p0);
	return 0;
}

int sx_client_send_resp_raw(sx_client *cli, const void *buf, size_t len)
{
	if (cli->proto != SX_CLIENT_RESP)
		return sxc_fail(cli, SX_CLIENT_EMODE, "RESP commands need a RESP connection");
	if (cli->broken)
		return cli->broken;
	if (len == 0)
		return sxc_fail(cli, SX_EINVAL, "no RESP command to send");
	int rc = sxc_tx_reserve(cli, len);
	if (rc)
		return rc;
	memcpy(cli->tx + cli->txlen, buf, len);
	cli->txlen += len;
	return 0;
}
