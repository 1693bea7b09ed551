/*
 * cli_publish.h - `sxgate publish`: add one live update to the Redis
 * Stream that replicas follow (sxgated --updates-from, SPEC section 10).
 */
#ifndef SX_CLI_PUBLISH_H
#define SX_CLI_PUBLISH_H

/* argv[0] is "publish".  Returns the process exit code (0 the entry ID
 * printed, 1 usage, 2 Redis refused the XADD, 3 cannot connect). */
int sx_cli_publish_main(int argc, char **argv);

#endif
