/*
 * bin.h - the binary protocol, server side (docs/protocol.md is the
 * contract; client/sxproto.h names its numbers).
 *
 * Frames are parsed where they landed, like RESP requests.  CHECK frames
 * are decided in batches (batch.h); EXEC runs a RESP command through the
 * command table (cmd.h) and wraps its RESP reply in an EXEC reply frame.
 * Reply frames are written straight into the connection's output: the
 * header is reserved first and its length patched once the body is
 * written (the output buffer never moves written bytes), and a reply that
 * would exceed SXB_MAX_BODY is taken back and replaced by an ERROR frame.
 */
#ifndef SX_BIN_H
#define SX_BIN_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"

/* Run the complete frames of buf[0..len); returns bytes consumed and sets
 * c->need when a frame is incomplete. */
size_t sx_bin_process(sx_conn *c, char *buf, size_t len);

/* Reply frames used when a blocked request finishes (conn.c). */
void sx_bin_exec_reply(sx_conn *c, uint32_t req, const char *line, size_t n);
void sx_bin_auth_reply(sx_conn *c, uint32_t req);
/* ERROR frame with msg (e.g. "ERR unknown channel 'bus'"); keeps c open. */
void sx_bin_error(sx_conn *c, uint32_t req, const char *msg, size_t n);
/* ERROR frame "ERR Protocol error: <why>", then close c. */
void sx_bin_protocol_error(sx_conn *c, uint32_t req, const char *why);

#endif
