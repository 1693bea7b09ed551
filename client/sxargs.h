/*
 * sxargs.h - the command-line options every client program of sxgate
 * shares (the server subcommands of `sxgate`, `sxgate-bench`): TLS to the
 * server and the tenant's secret.
 *
 * One place for their names, their help text, their checks and their
 * warnings, so that both programs take and refuse the same things with the
 * same words.  The programs keep their own parsers (a hand-written one in
 * tools/cli_net.c, getopt_long in bench/bench.c); they hand each option
 * here by name.  Messages go to stderr, prefixed with the program's name.
 *
 * Secrets stay off argv: --secret-file FILE (its first line; refused when
 * group or others have any access to it, as ssh refuses a private key) or
 * the SXGATE_SECRET environment variable.  --secret S still works, with a
 * warning that every user sees it in `ps`.
 */
#ifndef SX_ARGS_H
#define SX_ARGS_H

#include <stddef.h>

#include "sxclient.h"

/* Help lines for the flags below, each indented by two spaces. */
extern const char sx_args_help[];

enum { SX_ARGS_NONE = 0, SX_ARGS_SWITCH = 1, SX_ARGS_VALUE = 2 };

/* What name (without its "--": "tls", "cacert", ...) is: SX_ARGS_SWITCH
 * (--tls, --insecure), SX_ARGS_VALUE (--cacert --cert --key --sni), or
 * SX_ARGS_NONE when it is not a TLS option. */
int sx_args_tls_kind(const char *name);

/* Record the TLS option name (a kind other than NONE) in o; val is NULL
 * for a switch.  o keeps the pointer. */
void sx_args_tls_set(sx_client_opts *o, const char *name, const char *val);

/* After parsing: --cacert, --cert, --key, --sni or --insecure without
 * --tls, or --key without --cert, is a usage error (-1, message printed);
 * --insecure prints its warning.  0 when fine. */
int sx_args_tls_check(const char *prog, const sx_client_opts *o);

/*
 * The secret of tenant from --secret (secret_flag), --secret-file
 * (secret_file) or SXGATE_SECRET, in that order of choice; giving both
 * flags, or either without --tenant, or --tenant with none of the three,
 * is a usage error.  A file's first line is read into buf (cap bytes),
 * its trailing newline stripped.  Returns 0 with *secret (NULL when no
 * tenant; else secret_flag, buf or the environment's string), or -1 after
 * a message on stderr naming what was wrong (the file and its mode, ...).
 */
int sx_args_secret(const char *prog, const char *tenant, const char *secret_flag,
                   const char *secret_file, char *buf, size_t cap,
                   const char **secret);

#endif
