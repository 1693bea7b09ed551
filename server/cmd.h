/*
 * cmd.h - the command table: every RESP command sxgated knows, its arity,
 * who may run it, and its handler.  The binary protocol's EXEC runs
 * commands through the same table, so both ports answer alike.
 *
 * The table is an X-macro (memcached's CMD_FIELDS): adding a command, or
 * replacing a stub with its implementation, is one line here.  Arity is
 * Redis's convention: n > 0 exactly n words including the command name,
 * n < 0 at least -n.
 */
#ifndef SX_CMD_H
#define SX_CMD_H

#include <stddef.h>

#include "decide.h"   /* sx_str */

struct sx_conn;

/* Who may run a command. */
enum {
	SX_CMDF_PREAUTH = 1 << 0,   /* allowed before AUTH (AUTH, PING, QUIT) */
	SX_CMDF_ADMIN   = 1 << 1,   /* needs an admin tenant */
	SX_CMDF_LISTED  = 1 << 2,   /* needs a tenant with the listed flag */
};

/*      enum           name             arity flags            handler */
#define SX_COMMANDS(X)                                                        \
	X(CHECK,         "check",          -3, 0,               sx_cmd_check)   \
	X(MCHECK,        "mcheck",         -4, 0,               sx_cmd_mcheck)  \
	X(LISTED,        "listed",         -2, SX_CMDF_LISTED,  sx_cmd_listed)  \
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

/* A handler writes its RESP reply to c's output, or blocks c (see conn.h)
 * and replies when its job is done.  argv[0] is the command name. */
typedef void sx_cmd_fn(struct sx_conn *c, const sx_str *argv, size_t argc);

#define X(e, name, arity, flags, fn) sx_cmd_fn fn;
SX_COMMANDS(X)
#undef X

/* "check", ...; for n == SX_NCMDS "unknown". */
const char *sx_cmd_name(int cmd);

/* Look argv[0] up, check arity, authentication and permission, run it.
 * Errors are written as RESP errors in Redis's wording. */
void sx_cmd_run(struct sx_conn *c, const sx_str *argv, size_t argc);

#endif
