/*
 * sxclient.h - libsxgate client: talk to sxgated over its binary protocol
 * (docs/protocol.md) or over RESP2 (SPEC section 5).
 *
 * One opaque sx_client is one TCP connection, in the clear or over TLS
 * (sx_client_open with opts.tls: the server's certificate and name are
 * verified unless opts.insecure; a client certificate for mutual TLS is
 * optional).  Everything below works the same on both.  Two ways to use
 * it:
 *
 *  - Synchronous helpers (sx_client_check, _mcheck, _listed, _info, ...):
 *    send one request, wait for its reply (each wait bounded by the
 *    connect timeout), return owned C strings.  For the CLI and for
 *    programs that ask one question at a time.  They may allocate.  Call
 *    them only when no pipelined request is outstanding.
 *
 *  - Pipelined API (sx_client_send_*, sx_client_flush, sx_client_recv_*):
 *    requests are encoded into a send buffer, written by flush, and
 *    replies are parsed in place from the receive buffer and handed out as
 *    views (zero copy).  Buffers grow to the working-set size once and are
 *    then reused: no allocation per request.  With
 *    sx_client_set_blocking(cli, 0) nothing waits; flush and recv return
 *    -EAGAIN and the caller polls sx_client_fd().  This is what
 *    sxgate-bench drives.
 *
 * Every reply is validated before it is handed out: a frame whose length
 * is over the limit, whose op is unknown, or whose body does not parse
 * exactly as its op says is an error (SX_CLIENT_EPROTO / _ETOOBIG), and
 * the connection is then unusable.  Garbage from the network never
 * crashes the client and never reads past what was received.
 *
 * Errors: 0 on success, -errno for system errors, the engine's SX_E*
 * codes (sx.h) for argument errors, and the SX_CLIENT_E* codes below.
 * sx_client_strerror() names all of them; sx_client_errmsg() gives the
 * detail of the last error on a connection (the server's own "ERR ..."
 * text for SX_CLIENT_ESERVER).
 */
#ifndef SX_CLIENT_H
#define SX_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include "sxproto.h"

/* Client error codes (their own range below the engine's SX_E*). */
#define SX_CLIENT_ERRORS(X)                                                   \
	X(SX_CLIENT_EPROTO,   -30101, "malformed reply from server")          \
	X(SX_CLIENT_ETOOBIG,  -30102, "reply from server exceeds the size limit") \
	X(SX_CLIENT_ESERVER,  -30103, "server replied with an error")         \
	X(SX_CLIENT_ECLOSED,  -30104, "connection closed by server")          \
	X(SX_CLIENT_EVERSION, -30105, "server speaks no common protocol version") \
	X(SX_CLIENT_EMODE,    -30106, "operation not available on this protocol") \
	X(SX_CLIENT_ETLS,     -30107, "TLS failed (handshake, certificate or record)")

enum {
#define X(name, val, msg) name = val,
	SX_CLIENT_ERRORS(X)
#undef X
};

/* Protocols of sx_client_connect (named apart from the server's own
 * SX_PROTO_* of server/conn.h, so that a test can include both). */
enum { SX_CLIENT_BINARY = 1, SX_CLIENT_RESP = 2 };

/* Limits on what the client accepts from a server. */
#define SX_CLIENT_MAX_RESP   (64u << 20) /* one RESP reply, bytes */
#define SX_CLIENT_MAX_LINE   65536u      /* a +, -, : or header line */
#define SX_CLIENT_MAX_DEPTH  8           /* nesting of RESP arrays */
#define SX_CLIENT_MAX_ELEMS  (1u << 24)  /* elements of one RESP array */

typedef struct sx_client sx_client;

/* A static string for err (0, -errno, SX_E*, SX_CLIENT_E*). */
const char *sx_client_strerror(int err);

/* ---- connection ------------------------------------------------------- */

/*
 * Connect to host:port (name or address, IPv4 or IPv6) speaking proto
 * (SX_CLIENT_BINARY or SX_CLIENT_RESP).  Binary: also performs the HELLO
 * handshake.  timeout_ms bounds the connect and, later, every wait of a
 * blocking call (<= 0: wait forever).  The socket has TCP_NODELAY.
 * Returns 0 and *out (free with sx_client_close), or a negative code with
 * a message "connect HOST:PORT: ..." in err (errcap bytes, may be NULL).
 */
int sx_client_connect(const char *host, int port, int proto, int timeout_ms,
                      sx_client **out, char *err, size_t errcap);

/* Where and how to connect: sx_client_open.  Zero the struct first (= {0})
 * so that fields added later keep their defaults. */
typedef struct sx_client_opts {
	const char *host;      /* name or address, IPv4 or IPv6 */
	int port;
	int proto;             /* SX_CLIENT_BINARY or SX_CLIENT_RESP */
	int timeout_ms;        /* as for sx_client_connect; also bounds the TLS
	                          handshake (<= 0: 5000 ms for it) */
	/* TLS: the rest is used only when tls is set. */
	int tls;
	const char *cacert;    /* PEM CAs the server's certificate must chain
	                          to; NULL: the system's store */
	const char *cert;      /* PEM client certificate (mutual TLS; the
	                          server may bind it to a tenant); NULL: none */
	const char *key;       /* its PEM private key; NULL: in cert's file */
	const char *sni;       /* name sent in SNI and verified against the
	                          certificate; NULL: host (an IP address is
	                          verified as an address and not sent) */
	int insecure;          /* 1: do not verify the server at all (no CA,
	                          no name); the caller warns its user */
} sx_client_opts;

/*
 * sx_client_connect with every option.  With o->tls the TLS handshake
 * follows the TCP connect (before the binary HELLO); the certificate is
 * checked against o->cacert and the name (o->sni, else o->host) unless
 * o->insecure.  The strings need live only during the call.  Returns 0
 * and *out, or a negative code with "connect HOST:PORT: ..." in err:
 * SX_CLIENT_ETLS when TLS failed, with OpenSSL's reason ("TLS handshake
 * with localhost: certificate verify failed: certificate has expired",
 * "--cacert FILE: ...", ...); otherwise as sx_client_connect.
 */
int sx_client_open(const sx_client_opts *o, sx_client **out, char *err,
                   size_t errcap);
/* Close the connection and free everything, views included.  NULL is ok. */
void sx_client_close(sx_client *cli);

/* The socket, for poll/epoll.  Over TLS too: a recv that returned
 * -EAGAIN has left no decrypted bytes waiting inside OpenSSL (it reads
 * again while OpenSSL holds some), so waiting for the fd to become
 * readable (level-triggered) is right on both transports. */
int sx_client_fd(const sx_client *cli);
int sx_client_proto(const sx_client *cli);
/* 1 when the connection runs over TLS. */
int sx_client_is_tls(const sx_client *cli);
/* From the HELLO reply (binary only; 0 for RESP). */
unsigned sx_client_version(const sx_client *cli);
unsigned sx_client_max_batch(const sx_client *cli);
int sx_client_auth_required(const sx_client *cli);
/* Detail of the last error on cli: the server's "ERR ..." text after
 * SX_CLIENT_ESERVER, else what failed and where.  Valid until the next
 * call on cli. */
const char *sx_client_errmsg(const sx_client *cli);

/* Authenticate as tenant (binary AUTH frame, or RESP AUTH).  Returns 0,
 * SX_CLIENT_ESERVER (e.g. WRONGPASS, see errmsg), or a transport error. */
int sx_client_auth(sx_client *cli, const char *tenant, const char *secret);

/* ---- synchronous helpers ---------------------------------------------- */

/* The answer for one ID. */
typedef struct sx_client_result {
	int ok;                /* 1: a decision; 0: the server refused this
	                          ID, error holds its "ERR ..." text */
	const char *decision;  /* "ALLOW" / "DENY" / "REVIEW" (static), NULL
	                          if !ok */
	const char *reason;    /* "LISTED", ... (static), NULL if !ok */
	int reason_code;       /* SXB_R_* (= SX_R_* of decide.h; REVIEW is
	                          SXB_R_LISTED with decision "REVIEW"), -1 if !ok */
	size_t nrec;           /* denying (or reviewed) records */
	char **rec;            /* "case_no|court|role|list", NUL-terminated */
	char *error;           /* NUL-terminated, NULL when ok */
	void *mem_;            /* private: one block holding rec and error */
} sx_client_result;

/* Free what a result owns and zero it.  NULL and zeroed results are ok. */
void sx_client_result_free(sx_client_result *r);

/*
 * CHECK id on channel.  cls, type and at may be NULL ("no class", RIC,
 * today in UTC+8).  Returns 0 with a decision in *r (r->ok == 1; free with
 * sx_client_result_free), SX_CLIENT_ESERVER when the server refused the
 * query (invalid ID, bad channel, class, type or date, NOAUTH, ...: the
 * "ERR ..." text is in sx_client_errmsg; *r is zeroed), or a transport
 * error (*r zeroed).
 */
int sx_client_check(sx_client *cli, const char *id, const char *channel,
                    const char *cls, const char *type, const char *at,
                    sx_client_result *r);

/*
 * MCHECK: n IDs sharing channel, class ("-" or NULL: none), type and day.
 * Returns 0 with results[0..n) filled in order (each freed by the caller
 * with sx_client_result_free); an invalid ID is results[i].ok == 0 with
 * its "ERR ..." text in results[i].error.  SX_CLIENT_ESERVER when the
 * whole command was refused (bad channel, class, type or date).  Binary:
 * split into frames of at most max_batch IDs.  On any non-zero return no
 * result needs freeing.
 */
int sx_client_mcheck(sx_client *cli, const char *channel, const char *cls,
                     const char *type, const char *at,
                     const char *const *ids, size_t n,
                     sx_client_result *results);

/* LISTED id: *listed = 0 or 1.  Returns 0, SX_CLIENT_ESERVER (an invalid
 * ID or a bad type/date; text in errmsg), or a transport error. */
int sx_client_listed(sx_client *cli, const char *id, const char *type,
                     const char *at, int *listed);

/*
 * Any command (argv[0..argc), lens NULL: strlen), e.g. INFO, RELOAD,
 * LIST.ADD.  Copies the command's raw RESP2 reply into buf (cap bytes) and
 * sets *len.  A RESP error reply (-ERR ...) is still a reply: returns 0.
 * Binary: sent as EXEC; an ERROR frame (NOAUTH, protocol error) is
 * SX_CLIENT_ESERVER.  When the reply does not fit, returns SX_EFULL with
 * *len the size needed (the reply is consumed).
 */
int sx_client_exec(sx_client *cli, int argc, const char *const *argv,
                   const size_t *lens, char *buf, size_t cap, size_t *len);

/* INFO [section]: *text is the bulk string, NUL-terminated, malloc'd (the
 * caller frees).  section may be NULL. */
int sx_client_info(sx_client *cli, const char *section, char **text);

/* RELOAD [path] [FORCE]: *generation from "+OK <generation>".  path may
 * be NULL (the server's --snapshot again). */
int sx_client_reload(sx_client *cli, const char *path, int force,
                     uint64_t *generation);

/* PING: 0 when the server answered PONG (binary: echoed the payload). */
int sx_client_ping(sx_client *cli);

/* ---- pipelined / asynchronous API ---------------------------------------- */

/* Query context of a CHECK/LISTED frame: NUL-terminated strings, NULL or
 * "" meaning "not given" (class: none, type: RIC, at: today). */
typedef struct sx_client_ctx {
	const char *channel;
	const char *cls;
	const char *type;
	const char *at;
} sx_client_ctx;

/* Bound every later wait of a blocking call by timeout_ms (<= 0: wait
 * forever); e.g. longer for a RELOAD of a large snapshot. */
void sx_client_set_timeout(sx_client *cli, int timeout_ms);

/* 1 (default): flush and recv wait (bounded by the timeout).
 * 0: they never wait and return -EAGAIN instead; poll sx_client_fd(). */
void sx_client_set_blocking(sx_client *cli, int blocking);

/*
 * Append a CHECK (or LISTED) frame of n IDs to the send buffer.  ids are
 * the IDs as the caller has them; lens may be NULL (strlen).  1 <= n <=
 * max_batch, each ID 1..64 bytes, each context string <= 255 bytes, else
 * SX_EINVAL and nothing is appended.  Nothing is written to the socket
 * until sx_client_flush.  Binary only (SX_CLIENT_EMODE on RESP).
 */
int sx_client_send_check_batch(sx_client *cli, uint32_t req_id,
                               const sx_client_ctx *ctx,
                               const char *const *ids, const size_t *lens,
                               size_t n);
int sx_client_send_listed_batch(sx_client *cli, uint32_t req_id,
                                const sx_client_ctx *ctx,
                                const char *const *ids, const size_t *lens,
                                size_t n);
/* Append an EXEC frame (binary only). */
int sx_client_send_exec(sx_client *cli, uint32_t req_id, int argc,
                        const char *const *argv, const size_t *lens);
/* Append a RESP command, an array of bulk strings (RESP only). */
int sx_client_send_resp(sx_client *cli, int argc, const char *const *argv,
                        const size_t *lens);
/* Append len bytes of RESP commands encoded beforehand (a load generator
 * prepares its commands once, outside its timed loop).  The bytes are sent
 * as they are: the caller answers for them being whole commands.  RESP
 * only; len > 0 (at most the send buffer's limit, as for any request). */
int sx_client_send_resp_raw(sx_client *cli, const void *buf, size_t len);

/* Write the send buffer.  Returns 0 when all of it is written; -EAGAIN
 * (non-blocking mode) when some is left: wait for POLLOUT and call again;
 * -ETIMEDOUT (blocking mode); or another error. */
int sx_client_flush(sx_client *cli);
/* Bytes appended but not yet written. */
size_t sx_client_unsent(const sx_client *cli);

/* A reply frame, as views into the client's receive buffer.  Valid until
 * the next recv call, sync helper, or sx_client_close on the same client.
 * The body has been validated against its op. */
typedef struct sx_client_reply {
	uint8_t op;            /* SXB_OP_*_REPLY or SXB_OP_ERROR */
	uint8_t flags;
	uint16_t count;
	uint32_t req_id;
	uint32_t len;          /* body bytes */
	const uint8_t *body;
	const char *err;       /* SXB_OP_ERROR: message (not NUL-terminated) */
	size_t errlen;
} sx_client_reply;

/*
 * Receive one reply frame (binary).  Returns 0 with *rep; -EAGAIN
 * (non-blocking) when no complete frame has arrived; SX_CLIENT_EPROTO or
 * SX_CLIENT_ETOOBIG for a malformed or oversized frame; SX_CLIENT_ECLOSED
 * at end of stream; -errno or -ETIMEDOUT.  After an error other than
 * -EAGAIN the connection is unusable and every later call returns it.
 * In non-blocking mode a call reads the socket at most once, and not at
 * all right after a short read, so a caller driven by level-triggered
 * readiness pays no extra read() that ends in EAGAIN.
 */
int sx_client_recv_reply(sx_client *cli, sx_client_reply *rep);

/* One item of a CHECK reply. */
typedef struct sx_client_item {
	uint8_t kind;          /* SXB_KIND_DECISION or SXB_KIND_ERROR */
	uint8_t decision;      /* SXB_ALLOW / SXB_DENY / SXB_REVIEW (version 2) */
	uint8_t reason;        /* SXB_R_* (0..4) */
	uint16_t n;            /* records (kind 0) or error length (kind 1) */
	uint32_t size;         /* bytes at data */
	const uint8_t *data;   /* kind 0: n x (u16 len, bytes); kind 1: text */
} sx_client_item;

/* Walk a validated CHECK reply: *pos starts at 0.  Returns 1 with *it,
 * 0 after the last item. */
int sx_client_item_next(const sx_client_reply *rep, size_t *pos,
                        sx_client_item *it);
/* Walk the records of a kind-0 item: *pos starts at 0.  Returns 1 with
 * the record's bytes, 0 after the last. */
int sx_client_record_next(const sx_client_item *it, size_t *pos,
                          const char **s, size_t *n);
/* Walk a validated LISTED reply: returns 1 with *value 0, 1 or 0xFF (then
 * *err and *errlen give the text), 0 after the last. */
int sx_client_listed_next(const sx_client_reply *rep, size_t *pos,
                          int *value, const char **err, size_t *errlen);

/*
 * Parse one reply frame at buf[0..len) without a connection (what
 * sx_client_recv_reply uses).  Returns 0 with *rep and *used (header +
 * body), -EAGAIN when buf holds only part of a frame, SX_CLIENT_ETOOBIG
 * when the header announces more than SXB_MAX_BODY, SX_CLIENT_EPROTO for
 * anything else malformed; why (may be NULL) then gets a static reason.
 */
int sx_client_frame_parse(const uint8_t *buf, size_t len,
                          sx_client_reply *rep, size_t *used,
                          const char **why);

/* ---- RESP replies --------------------------------------------------------- */

/* One RESP2 value, as views into the buffer it was parsed from. */
typedef struct sx_client_resp {
	char type;             /* '+', '-', ':', '$' or '*' */
	uint8_t nil;           /* $-1 or *-1 */
	int64_t num;           /* ':' value, '$' length, '*' element count */
	const char *str;       /* '+', '-', '$': the text (not NUL-terminated);
	                          '*': the bytes of the elements */
	size_t len;            /* of str */
	const char *raw;       /* the whole value as received */
	size_t rawlen;
} sx_client_resp;

/*
 * Parse and validate one complete RESP2 value at buf[0..len), nested
 * arrays included.  Returns 0 with *v and *used, -EAGAIN when incomplete,
 * SX_CLIENT_ETOOBIG (a bulk, line or array over the limits above), or
 * SX_CLIENT_EPROTO (unknown type byte, bad number, missing CRLF, nesting
 * deeper than SX_CLIENT_MAX_DEPTH); why (may be NULL) gets a reason.
 */
int sx_client_resp_parse(const char *buf, size_t len, sx_client_resp *v,
                         size_t *used, const char **why);
/* Walk the elements of a validated array: *pos starts at 0.  Returns 1
 * with *elem, 0 after the last. */
int sx_client_resp_next(const sx_client_resp *arr, size_t *pos,
                        sx_client_resp *elem);
/* 1 when v is a simple or bulk string equal to s (case-sensitive). */
int sx_client_resp_is(const sx_client_resp *v, const char *s);

/* Receive one RESP reply (RESP connections).  Same returns, view
 * lifetime and non-blocking behaviour as sx_client_recv_reply. */
int sx_client_recv_resp(sx_client *cli, sx_client_resp *v);

#endif
