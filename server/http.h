/*
 * http.h - HTTP/1.1 (RFC 9110, 9112): parse one request, write a response
 * head.  For /metrics, /health and whatever else an operator's tools ask
 * of sxgated over plain HTTP.
 *
 * The parser is stateless, like resp.h's: it is given the unprocessed
 * bytes of a connection and either returns one whole request (every
 * string points into the given bytes, which must stay put while the
 * request is handled; nothing is allocated), or says that more bytes are
 * needed (and how many at least), or names the error and the HTTP status
 * to answer it with, after which the connection is to be closed (the
 * framing of what follows cannot be trusted).
 *
 * What is accepted, and what each refusal answers:
 *   - HTTP/1.0 and HTTP/1.1 only; any other well-formed version is 505;
 *   - a request line "METHOD SP TARGET SP HTTP/d.d" and header lines
 *     "Name: value", CRLF or a bare LF (RFC 9112 2.2 allows it); empty
 *     lines before the request line are skipped; anything else, obsolete
 *     line folding included, is 400 (RFC 9112 5.2);
 *   - the head (request line, headers, blank line) is at most
 *     SX_HTTP_MAX_HEAD bytes and SX_HTTP_MAX_HEADERS lines: else 431;
 *   - a body only by Content-Length, at most the caller's max_body (413);
 *     a Content-Length that is not all digits, overflows or is repeated
 *     with a different value is 400 (RFC 9112 6.3);
 *   - Transfer-Encoding (chunked bodies) is not implemented: 501;
 *   - HTTP/1.1 needs exactly one Host (RFC 9112 3.2): else 400;
 *   - Authorization at most once (RFC 9110 11.6.2): else 400.
 *
 * Errors are found as early as the bytes allow: a malformed request line
 * is answered when its line is complete, not once 8 KiB have come.
 *
 * Re-parsing from the start on every read costs at most SX_HTTP_MAX_HEAD
 * bytes a time, and requests to this port are rare and small: no state
 * between calls is worth its complexity.
 *
 * Writers append to an output buffer and cannot fail (see obuf.h).
 */
#ifndef SX_HTTP_H
#define SX_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "obuf.h"
#include "sx.h"        /* sx_str */

#define SX_HTTP_MAX_HEAD    (8u * 1024)   /* request line + headers + blank line */
#define SX_HTTP_MAX_HEADERS 64u           /* header lines of one request */

enum {
	SX_HTTP_DONE = 0,    /* one request parsed */
	SX_HTTP_MORE = 1,    /* incomplete: r->need = bytes it needs at least (> len) */
	SX_HTTP_ERROR = -1   /* r->status (400, 413, 431, 501, 505) and r->why */
};

typedef struct sx_http_header {
	sx_str name;                  /* as sent (compare case-insensitively) */
	sx_str value;                 /* without the surrounding whitespace */
} sx_http_header;

typedef struct sx_http_req {
	sx_str method;                /* "GET", case-sensitive (RFC 9110 9.1) */
	sx_str target;                /* the request-target as sent */
	sx_str path;                  /* target up to '?'; origin-form "/..." (an
	                               * absolute-form target's path, "/" if none) */
	sx_str query;                 /* after '?', without it; n = 0 when none */
	int has_query;                /* a '?' was there (query may be empty) */
	int minor;                    /* HTTP/1.<minor>: 0 or 1 */
	int keep_alive;               /* 1.1 unless "Connection: close";
	                               * 1.0 only with "Connection: keep-alive" */
	sx_str host;                  /* n = 0 when absent (1.0 only) */
	sx_str connection;            /* the first Connection line; n = 0: none */
	sx_str authorization;         /* n = 0 when absent */
	int has_content_length;
	uint64_t content_length;      /* 0 when absent */
	sx_str body;                  /* content_length bytes after the head */
	size_t head_len;              /* bytes of the head, blank line included */
	size_t used;                  /* DONE: head_len + content_length */
	size_t need;                  /* MORE: bytes needed at least (> len) */
	int status;                   /* ERROR: the status to answer */
	const char *why;              /* ERROR: what was wrong (static text) */
	size_t nheaders;
	sx_http_header headers[SX_HTTP_MAX_HEADERS];
} sx_http_req;

/*
 * Parse the request at the start of buf[0..len).  A body larger than
 * max_body is refused with 413 as soon as the head is read (the body is
 * not waited for).  Returns SX_HTTP_DONE (r filled, r->used bytes
 * consumed; the pointers in r are valid while buf is), SX_HTTP_MORE
 * (r->need > len) or SX_HTTP_ERROR (r->status, r->why, and method,
 * target, path and query once the request line was read; close after
 * answering).  Never reads past buf + len; never writes to buf.
 */
int sx_http_parse(const char *buf, size_t len, size_t max_body, sx_http_req *r);

/* The value of the first header named name (case-insensitive), or NULL. */
const sx_str *sx_http_header_get(const sx_http_req *r, const char *name);

/* 1 when a comma-separated header value (Connection, say) holds token
 * (case-insensitive). */
int sx_http_has_token(sx_str value, const char *token);

/*
 * The user and password of an Authorization value: "Basic B64" (RFC 7617:
 * base64 of user:password, padding optional, nothing but the alphabet) or
 * "Bearer user:password" (the token as it is); the scheme in any case.
 * Split at the first colon (a user name has none; a password may).  The
 * decoded bytes go to buf[0..cap) and user and pass point into buf (or
 * into value for Bearer).  Returns 0, or -1 when the value is none of
 * these, has no colon, an empty user, or decodes to more than cap bytes:
 * nothing was checked against a secret (the caller answers 401).
 */
int sx_http_credentials(sx_str value, char *buf, size_t cap, sx_str *user, sx_str *pass);

/* The standard reason phrase of status ("Not Found"); "Unknown" for a
 * status this file does not know. */
const char *sx_http_reason(int status);

/* ---- writers ----------------------------------------------------------- */

/*
 * A response head: "HTTP/1.1 <status> <reason>", Date, Content-Type (when
 * type is not NULL), Content-Length: length, "Connection: keep-alive" or
 * "Connection: close", then extra (NULL, or whole header lines each ending
 * in CRLF, such as "Allow: GET, HEAD\r\n"; written as given), then the
 * blank line.  For a HEAD request pass the length the GET would have and
 * write no body.
 */
void sx_http_head(sx_obuf *ob, int status, const char *type, size_t length,
                  int keep_alive, const char *extra);

/* sx_http_head, then the n bytes of body unless head_only. */
void sx_http_response(sx_obuf *ob, int status, const char *type, const void *body,
                      size_t n, int keep_alive, int head_only, const char *extra);

/* A parse error's answer: text/plain "<status> <reason>: <why>\n",
 * "Connection: close" (the connection is to be closed after it). */
void sx_http_error(sx_obuf *ob, const sx_http_req *r);

#endif
