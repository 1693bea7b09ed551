/*
 * resp.h - RESP2, the Redis protocol: parse one request, write replies.
 *
 * The parser is stateless: it is given the unprocessed bytes of a
 * connection and either returns one whole command (argv points into the
 * given bytes, which must stay put while the command runs), or says how
 * many bytes the command needs at least before it is worth looking again
 * (so a 1 MiB bulk arriving in small reads is parsed once, not a thousand
 * times), or names a protocol error in Redis's own words.
 *
 * Both request forms Redis accepts are understood: multibulk
 * ("*2\r\n$4\r\nPING\r\n...") from client libraries, and inline commands
 * (one line of words, double or single quotes as redis-cli/sdssplitargs
 * quote them) typed into telnet or nc.  Inline unquoting rewrites the line
 * in place, so the buffer is not const.
 *
 * Writers append to an output buffer and cannot fail (see obuf.h).
 */
#ifndef SX_RESP_H
#define SX_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "decide.h"   /* sx_str */
#include "obuf.h"

#define SX_RESP_MAX_BULK   (1u << 20)     /* one argument */
#define SX_RESP_MAX_ARGS   65536u         /* arguments of one command */
#define SX_RESP_MAX_INLINE (64u * 1024)   /* an inline line, a header line */

enum {
	SX_RESP_DONE = 0,   /* one command parsed (argc may be 0: nothing to run) */
	SX_RESP_MORE = 1,   /* incomplete: *need = bytes the command needs at least */
	SX_RESP_EPROTO = -1 /* protocol error: err holds "Protocol error: ..." */
};

/*
 * Parse the command at the start of buf[0..len).  On SX_RESP_DONE, argv
 * [0..*argc) point into buf and *used bytes were consumed (argv holds at
 * most SX_RESP_MAX_ARGS entries).  On SX_RESP_MORE, *need > len.  On
 * SX_RESP_EPROTO, err (errcap bytes) gets the message without "ERR ".
 */
int sx_resp_parse(char *buf, size_t len, sx_str *argv, size_t *argc,
                  size_t *used, size_t *need, char *err, size_t errcap);

/* ---- writers ----------------------------------------------------------- */

/* Decimal digits of v into buf (>= 20 bytes); returns the length. */
size_t sx_u64toa(uint64_t v, char *buf);

void sx_resp_simple(sx_obuf *ob, const char *s, size_t n);    /* +s */
/* -s: s is "ERR ...", "NOAUTH ..." etc.  CR and LF become spaces. */
void sx_resp_error(sx_obuf *ob, const char *s, size_t n);
/* +s when ok, else -s; CR and LF become spaces (a job's result, whose
 * text may echo what a client sent). */
void sx_resp_status(sx_obuf *ob, int ok, const char *s, size_t n);
void sx_resp_errorf(sx_obuf *ob, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sx_resp_bulk(sx_obuf *ob, const void *p, size_t n);
void sx_resp_array(sx_obuf *ob, size_t n);
void sx_resp_int(sx_obuf *ob, int64_t v);

/* A literal (string constant) written as-is. */
#define sx_resp_lit(ob, s) sx_obuf_put((ob), (s), sizeof(s) - 1)

#endif
