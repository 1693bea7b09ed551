/*
 * cmd.h - the command table: every command sxgated knows, its arity, who
 * may run it, and its handler; and the permission checks, in one place.
 *
 * Commands are the RESP command language (SPEC section 5).  The RESP
 * protocol runs them for each request, the binary protocol's EXEC runs
 * them through the same table, so both ports answer alike.  A handler
 * gets the request (sx_req: the thread's context, who asks, where the
 * reply goes), writes its RESP reply to r->out, or hands the work to a job
 * (r->job) that a service made; the protocol then makes the connection
 * wait and writes the job's result in its own framing.  Handlers are thin:
 * they parse words and call services (batch.h, auth.h, reload.h, live.h,
 * report.h), in cmd_query.c, cmd_session.c and cmd_admin.c.
 *
 * The table is an X-macro (memcached's CMD_FIELDS): adding a command is
 * one line here and a handler.  Arity is Redis's convention: n > 0 exactly
 * n words including the command name, n < 0 at least -n.
 */
#ifndef SX_CMD_H
#define SX_CMD_H

#include <stddef.h>

#include "sx.h"

struct sx_ctx;
struct sx_job;
struct sx_obuf;
struct sx_tenant;
struct sx_addr;
struct sx_origin;

/* Who may run a command. */
enum {
	SX_CMDF_PREAUTH = 1 << 0,   /* allowed before AUTH (AUTH, PING, QUIT) */
	SX_CMDF_ADMIN   = 1 << 1,   /* needs an admin tenant */
	SX_CMDF_LISTED  = 1 << 2,   /* needs a tenant with the listed flag */
	SX_CMDF_BATCH   = 1 << 3,   /* a query a pipeline may gather (sx_cmd_batch) */
};

/*      enum           name             arity flags            handler */
#define SX_COMMANDS(X)                                                        \
	X(CHECK,         "check",          -3, SX_CMDF_BATCH,   sx_cmd_check)   \
	X(MCHECK,        "mcheck",         -4, SX_CMDF_BATCH,   sx_cmd_mcheck)  \
	X(LISTED,        "listed",         -2, SX_CMDF_LISTED | SX_CMDF_BATCH, sx_cmd_listed) \
	X(PING,          "ping",           -1, SX_CMDF_PREAUTH, sx_cmd_ping)    \
	X(AUTH,          "auth",            3, SX_CMDF_PREAUTH, sx_cmd_auth)    \
	X(QUIT,          "quit",           -1, SX_CMDF_PREAUTH, sx_cmd_quit)    \
	X(INFO,          "info",           -1, 0,               sx_cmd_info)    \
	X(RELOAD,        "reload",         -1, SX_CMDF_ADMIN,   sx_cmd_reload)  \
	X(LIST_ADD,      "list.add",       -3, SX_CMDF_ADMIN,   sx_cmd_update) \
	X(LIST_REMOVE,   "list.remove",     4, SX_CMDF_ADMIN,   sx_cmd_update) \
	X(LIST_SUSPEND,  "list.suspend",    4, SX_CMDF_ADMIN,   sx_cmd_update) \
	X(LIST_RESUME,   "list.resume",     4, SX_CMDF_ADMIN,   sx_cmd_update) \
	X(PERMIT_ADD,    "permit.add",      8, SX_CMDF_ADMIN,   sx_cmd_update) \
	X(PERMIT_REMOVE, "permit.remove",   2, SX_CMDF_ADMIN,   sx_cmd_update)  \
	X(JOURNAL_COMPACT, "journal.compact", 1, SX_CMDF_ADMIN, sx_cmd_journal_compact)

enum {
#define X(e, name, arity, flags, fn) SX_CMD_##e,
	SX_COMMANDS(X)
#undef X
	SX_NCMDS
};

/*
 * The queries of a RESP pipeline, gathered to be decided together.  A
 * protocol that reads several commands at once lends one to each request
 * (sx_req.batch): CHECK, LISTED and MCHECK then parse their query into the
 * context's x->qs and write nothing yet; sx_cmd_flush() decides what was
 * gathered in one sx_batch_run() (hash all, prefetch, resolve) and writes
 * the replies in the order the commands came.  Whatever else would write
 * a reply (another command, an error of a query command, a command that
 * waits for a job) flushes first, so replies never change order, and
 * every counter and the feedback observer see what they saw one command
 * at a time.  Nothing in it points into the request bytes once a query is
 * parsed, so the bytes may go as soon as the protocol returns, provided
 * it flushed.  Capacity SX_CMD_BATCH queries (at most the context's
 * SX_BATCH): a full batch flushes itself.
 */
#define SX_CMD_BATCH 256

typedef struct sx_cmd_batch {
	struct sx_ctx *x;
	struct sx_obuf *out;             /* where the replies go */
	const char *tenant;              /* who asked (all of the batch) */
	size_t n;                        /* queries gathered in x->qs */
	uint32_t hdr;                    /* MCHECK array header not yet written */
	uint32_t pre[SX_CMD_BATCH];      /* array header before reply i (0: none) */
} sx_cmd_batch;

/* Decide and answer what b holds; b is empty afterwards. */
void sx_cmd_flush(sx_cmd_batch *b);

/* One request, as a protocol hands it to a command. */
typedef struct sx_req {
	struct sx_ctx *x;                /* the thread's context */
	const struct sx_tenant *tenant;  /* in: authenticated as (NULL: not, or no
	                                    tenants); out: AUTH answered at once */
	const struct sx_addr *addr;      /* the client's address */
	uint16_t port;                   /* and port */
	uint8_t tls;                     /* it came over TLS */
	const char *proto;               /* the protocol's name ("resp") */
	struct sx_obuf *out;             /* the RESP reply goes here */
	struct sx_job *job;              /* out: a job answers (nothing written) */
	int quit;                        /* out: close after the reply */
	int counted;                     /* the protocol counted the request */
	const struct sx_tenant *bound;   /* tenant by TLS client certificate */
	sx_cmd_batch *batch;             /* NULL: answer at once; else gather */
} sx_req;

/* r's output for a reply written now: what r's batch gathered is answered
 * first, so replies stay in order. */
static inline struct sx_obuf *sx_req_out(sx_req *r)
{
	if (r->batch && (r->batch->n || r->batch->hdr))
		sx_cmd_flush(r->batch);
	return r->out;
}

typedef void sx_cmd_fn(sx_req *r, const sx_str *argv, size_t argc);

#define X(e, name, arity, flags, fn) sx_cmd_fn fn;
SX_COMMANDS(X)
#undef X

/* Look argv[0] up, check arity, authentication and permission, run it.
 * Errors are written as RESP errors in Redis's wording. */
void sx_cmd_run(sx_req *r, const sx_str *argv, size_t argc);

/* ---- permissions (the one place they are decided) ----------------------- */

/* May r's tenant ask about channel chan in command cmd (SX_CMD_CHECK,
 * SX_CMD_MCHECK)?  0, or the NOPERM message's length in msg ("NOPERM
 * tenant 'x' may not ask about channel 'y'"); no tenant: no tenants,
 * anything goes.  A refusal is counted in r->x and is an audit line
 * (audit.h: event=noperm). */
size_t sx_perm_channel(const sx_req *r, int cmd, int chan, char *msg, size_t cap);
/* May r's tenant run command cmd (SX_CMD_*)?  0, or the NOPERM message's
 * length in msg, counted and audited as above. */
size_t sx_perm_command(const sx_req *r, int cmd, char *msg, size_t cap);

/* Who sent r and from where, for the audit trail and the journal: the
 * tenant's name ("" with none), the client's address and port, the
 * protocol. */
void sx_req_origin(const sx_req *r, struct sx_origin *o);

/* May tenant t send a batch of n IDs (MCHECK, a binary frame)?  0, or the
 * error message's length in msg ("ERR max-batch exceeded: ..."); t NULL:
 * the server's cap, SX_TENANT_MAX_BATCH.  Counts the refusal in x. */
size_t sx_perm_batch(struct sx_ctx *x, const struct sx_tenant *t, size_t n,
                     char *msg, size_t cap);

#define SX_NOAUTH_MSG "NOAUTH Authentication required."

#endif
