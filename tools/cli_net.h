/*
 * cli_net.h - the online subcommands of the `sxgate` CLI: they ask a
 * running sxgated over the network (libsxgate client) instead of opening a
 * snapshot file.
 *
 *   sxgate check ID CHANNEL [CLASS] [--type T] [--at D]
 *   sxgate mcheck CHANNEL CLASS-or-- ID... [--type T] [--at D]
 *   sxgate listed ID [--type T] [--at D]
 *   sxgate info [SECTION]
 *   sxgate reload [PATH] [--force]
 *   sxgate ping
 *   sxgate exec COMMAND [ARG...]
 * with  --host H (127.0.0.1)  --port P (6381 binary, 6380 with --resp)
 *       --resp  --timeout MS (5000)
 *       --tls --cacert FILE [--cert FILE --key FILE] [--sni NAME] [--insecure]
 *       --tenant T with --secret-file FILE or SXGATE_SECRET (--secret S warns)
 *
 * Exit codes (SPEC section 5): 0 an answer, 1 usage error, 2 the server
 * refused the query (its "ERR ..." on stderr), 3 cannot connect or the
 * connection failed.
 */
#ifndef SX_CLI_NET_H
#define SX_CLI_NET_H

/* argv[0] is the subcommand name.  Returns the process exit code. */
int sx_cli_net_main(int argc, char **argv);

#endif
