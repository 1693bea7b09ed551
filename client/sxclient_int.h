/*
 * sxclient_int.h - what the files of libsxgate share and its users must
 * not see: the connection struct, its two byte buffers, the sticky-error
 * helpers and the send-buffer writers.
 *
 * The library is split by concept: conn.c (connecting, the buffers and
 * the socket, errors), frame.c (validating binary reply frames and walking
 * their items), resp.c (parsing and walking RESP values), request.c
 * (encoding pipelined requests) and sync.c (the synchronous helpers built
 * on the rest).  sxclient.h is the public contract; this header is the
 * contract between those files.
 */
#ifndef SX_CLIENT_INT_H
#define SX_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sx.h"
#include "sxclient.h"
#include "sxwire.h"

#define RX_INIT      (64u << 10)
#define TX_INIT      (64u << 10)
#define TX_MAX       (256u << 20)
#define RX_MAX_BIN   (SXB_HEADER + SXB_MAX_BODY)
#define RX_MAX_RESP  (SX_CLIENT_MAX_RESP + SX_CLIENT_MAX_LINE + 64)

typedef struct sx_tlsc sx_tlsc;

struct sx_client {
	int fd;
	sx_tlsc *tls;           /* NULL: in the clear */
	int proto;
	int timeout_ms;         /* -1: forever */
	int blocking;
	int broken;             /* sticky error, 0 while usable */
	unsigned version, flags, max_body, max_batch;
	uint32_t seq;           /* req_id of the last synchronous request */

	uint8_t *tx;            /* [txoff, txlen) appended, not yet written */
	size_t txcap, txoff, txlen;

	uint8_t *rx;            /* [rxoff, rxlen) received, not yet consumed */
	size_t rxcap, rxoff, rxlen;
	size_t rxgive;          /* bytes of the last reply handed out */
	int rx_short;           /* the last read() did not fill the buffer */

	char errmsg[512];
};

/* ---- errors (conn.c) ------------------------------------------------------ */

/* Format the message into cli->errmsg and return code.  sxc_fatal also
 * marks the connection broken: the byte stream can no longer be trusted,
 * and every later call returns code. */
SX_COLD __attribute__((format(printf, 3, 4)))
int sxc_fail(sx_client *cli, int code, const char *fmt, ...);
SX_COLD __attribute__((format(printf, 3, 4)))
int sxc_fatal(sx_client *cli, int code, const char *fmt, ...);

/* ---- buffers and the socket (conn.c) ------------------------------------- */

/* Make room for need more bytes at the end of the send buffer (which may
 * move it: pointers into cli->tx are stale afterwards).  0, SX_EFULL over
 * TX_MAX, or -ENOMEM. */
int sxc_tx_reserve(sx_client *cli, size_t need);

/* Write the send buffer; wait != 0 polls on EAGAIN (bounded by the
 * timeout), wait == 0 returns -EAGAIN.  0 when all is written. */
int sxc_flush(sx_client *cli, int wait);

/* Receive the next binary frame (resp == 0, out is an sx_client_reply) or
 * RESP value (resp == 1, out is an sx_client_resp).  The view stays valid
 * until the next receive on cli.  wait as for sxc_flush. */
int sxc_rx_next(sx_client *cli, int wait, int resp, void *out);

/* ---- writing a frame into the send buffer ---------------------------------
 * The caller has reserved the whole frame with sxc_tx_reserve. */

/* Header at tx+txlen with len filled later by sxc_frame_end. */
static inline uint8_t *sxc_frame_begin(sx_client *cli, unsigned op,
                                       unsigned count, uint32_t req_id)
{
	uint8_t *h = cli->tx + cli->txlen;
	sxw_header_encode(h, 0, op, count, req_id);
	cli->txlen += SXB_HEADER;
	return h;
}

/* Patch the length of the frame that begins at tx+start. */
static inline void sxc_frame_end(sx_client *cli, size_t start)
{
	sxw_header_set_len(cli->tx + start, (uint32_t)(cli->txlen - start - SXB_HEADER));
}

static inline void sxc_put_bytes(sx_client *cli, const void *p, size_t n)
{
	if (n)   /* p may be NULL for an empty context string */
		memcpy(cli->tx + cli->txlen, p, n);
	cli->txlen += n;
}

static inline void sxc_put_str8(sx_client *cli, const char *s, size_t n)
{
	cli->txlen += sxw_put_str8(cli->tx + cli->txlen, s, n);
}

/* ---- numbers (resp.c) ----------------------------------------------------- */

/* Strict signed decimal of p[0..n): 1..19 digits, optional '-'.  0 or -1. */
int sxc_parse_i64(const char *p, size_t n, int64_t *out);

#endif
