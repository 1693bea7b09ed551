/*
 * args.c - the TLS and secret options shared by the client programs (see
 * sxargs.h).
 *
 * The secret file is opened once and checked on the descriptor (fstat),
 * not by path, so the file checked is the file read.  Its mode is held to
 * ssh's rule for private keys: no access at all for group or others.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sxargs.h"

const char sx_args_help[] =
"  --tls                 connect over TLS; the server's certificate and name\n"
"                        are verified\n"
"  --cacert FILE         PEM CAs to verify the server with (default: the\n"
"                        system's store)\n"
"  --cert FILE --key FILE  client certificate and key (mutual TLS)\n"
"  --sni NAME            name to send and verify (default: --host)\n"
"  --insecure            skip verifying the server (warns; testing only)\n"
"  --tenant T            AUTH as T; its secret from --secret-file FILE (first\n"
"                        line; mode 0600 or stricter) or SXGATE_SECRET;\n"
"                        --secret S works but shows S to every user in ps\n";

static const struct {
	const char *name;
	int kind;
} tls_opts[] = {
	{ "tls", SX_ARGS_SWITCH },   { "insecure", SX_ARGS_SWITCH },
	{ "cacert", SX_ARGS_VALUE }, { "cert", SX_ARGS_VALUE },
	{ "key", SX_ARGS_VALUE },    { "sni", SX_ARGS_VALUE },
};

int sx_args_tls_kind(const char *name)
{
	for (size_t i = 0; i < sizeof tls_opts / sizeof tls_opts[0]; i++)
		if (!strcmp(name, tls_opts[i].name))
			return tls_opts[i].kind;
	return SX_ARGS_NONE;
}

void sx_args_tls_set(sx_client_opts *o, const char *name, const char *val)
{
	if (!strcmp(name, "tls"))
		o->tls = 1;
	else if (!strcmp(name, "insecure"))
		o->insecure = 1;
	else if (!strcmp(name, "cacert"))
		o->cacert = val;
	else if (!strcmp(name, "cert"))
		o->cert = val;
	else if (!strcmp(name, "key"))
		o->key = val;
	else if (!strcmp(name, "sni"))
		o->sni = val;
}

int sx_args_tls_check(const char *prog, const sx_client_opts *o)
{
	const char *lone = o->cacert ? "--cacert" : o->cert ? "--cert" : o->key ? "--key" :
	                   o->sni ? "--sni" : o->insecure ? "--insecure" : NULL;
	if (!o->tls && lone) {
		fprintf(stderr, "%s: %s is for TLS: give --tls too\n", prog, lone);
		return -1;
	}
	if (o->key && !o->cert) {
		fprintf(stderr, "%s: --key %s needs --cert FILE\n", prog, o->key);
		return -1;
	}
	if (o->insecure)
		fprintf(stderr, "%s: warning: --insecure: the server's certificate and name "
		        "are not verified; anyone on the path can pose as the server\n", prog);
	return 0;
}

/* The first line of path into buf; 0, or -1 after a message. */
static int read_secret_file(const char *prog, const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		fprintf(stderr, "%s: --secret-file %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	struct stat st;
	int bad = fstat(fd, &st) < 0 ? errno : S_ISREG(st.st_mode) ? 0 : -1;
	if (bad) {
		fprintf(stderr, "%s: --secret-file %s: %s\n", prog, path,
		        bad < 0 ? "not a regular file" : strerror(bad));
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		fprintf(stderr, "%s: --secret-file %s: permissions %04o are too open: group "
		        "or others may access it; refused (chmod 600 %s)\n", prog, path,
		        (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	size_t n = 0;
	ssize_t r;
	while (n < cap && (r = read(fd, buf + n, cap - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "%s: --secret-file %s: %s\n", prog, path, strerror(errno));
			close(fd);
			return -1;
		}
		n += (size_t)r;
		if (memchr(buf, '\n', n))
			break;
	}
	close(fd);
	char *nl = memchr(buf, '\n', n);
	if (!nl && n == cap) {
		fprintf(stderr, "%s: --secret-file %s: the first line is longer than %zu bytes\n",
		        prog, path, cap - 1);
		return -1;
	}
	size_t len = nl ? (size_t)(nl - buf) : n;
	if (len && buf[len - 1] == '\r')
		len--;
	buf[len] = 0;
	if (!len) {
		fprintf(stderr, "%s: --secret-file %s: the first line is empty\n", prog, path);
		return -1;
	}
	return 0;
}

int sx_args_secret(const char *prog, const char *tenant, const char *secret_flag,
                   const char *secret_file, char *buf, size_t cap,
                   const char **secret)
{
	*secret = NULL;
	if (secret_flag && secret_file) {
		fprintf(stderr, "%s: --secret and --secret-file: give one\n", prog);
		return -1;
	}
	if (!tenant) {
		if (secret_flag || secret_file) {
			fprintf(stderr, "%s: %s needs --tenant T\n", prog,
			        secret_flag ? "--secret" : "--secret-file");
			return -1;
		}
		return 0;
	}
	if (secret_file) {
		if (read_secret_file(prog, secret_file, buf, cap))
			return -1;
		*secret = buf;
		return 0;
	}
	if (secret_flag) {
		fprintf(stderr, "%s: warning: --secret shows the secret to every user of this "
		        "machine (ps, /proc); use --secret-file FILE or SXGATE_SECRET\n", prog);
		*secret = secret_flag;
		return 0;
	}
	const char *env = getenv("SXGATE_SECRET");
	if (!env || !*env) {
		fprintf(stderr, "%s: --tenant %s needs its secret: --secret-file FILE or "
		        "SXGATE_SECRET%s\n", prog, tenant, env ? " (it is empty)" : "");
		return -1;
	}
	*secret = env;
	return 0;
}
