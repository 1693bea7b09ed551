/*
 * tlstest.h - certificates for TLS tests, made at run time with the
 * openssl command line (EC P-256: fast), never committed: a CA, a server
 * certificate for localhost and 127.0.0.1, a second server certificate (for
 * rotation), one that expired, one from a CA nobody trusts, and client
 * certificates.  Also: running a command and capturing its output.
 */
#ifndef SX_TLSTEST_H
#define SX_TLSTEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../testutil.h"

#define TT_UNUSED __attribute__((unused))

/* Run a shell command (tu_run) with its stderr too; the output stays valid
 * until the next call; *rc its exit status. */
TT_UNUSED static const char *tt_sh(int *rc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
TT_UNUSED static const char *tt_sh(int *rc, const char *fmt, ...)
{
	static char *out;
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	free(out);
	out = tu_run(rc, "(%s) 2>&1", cmd);
	return out;
}

/* dir/NAME.pem and dir/NAME.key signed by dir/CA.pem: cn, subjectAltName
 * san ("DNS:localhost,IP:127.0.0.1"), valid from start to end (openssl ca
 * dates YYYYMMDDHHMMSSZ, or NULL for now .. now + 30 days). */
TT_UNUSED static void tt_cert(const char *dir, const char *ca, const char *name,
                              const char *cn, const char *san, const char *start,
                              const char *end)
{
	int rc;
	const char *o = tt_sh(&rc,
		"cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		"-keyout %s.key -out %s.csr -subj '/CN=%s' && chmod 600 %s.key && "
		"printf 'subjectAltName=%s\\nbasicConstraints=CA:FALSE\\n' > %s.ext && "
		"mkdir -p %s.db && : > %s.db/index && echo 01 > %s.db/serial && "
		"printf '[ca]\\ndefault_ca=d\\n[d]\\ndatabase=%s.db/index\\nserial=%s.db/serial\\n"
		"new_certs_dir=%s.db\\ndefault_md=sha256\\npolicy=p\\ncopy_extensions=none\\n"
		"[p]\\ncommonName=supplied\\n' > %s.cnf && "
		"openssl ca -batch -notext -config %s.cnf -cert %s.pem -keyfile %s.key "
		"-in %s.csr -out %s.pem -extfile %s.ext %s%s %s%s",
		dir, name, name, cn, name, san, name, name, name, name, name, name, name, name,
		name, ca, ca, name, name, name,
		start ? "-startdate " : "-days 30", start ? start : "",
		end ? "-enddate " : "", end ? end : "");
	cr_assert_eq(rc, 0, "making certificate %s: %s", name, o);
}

/* A self-signed CA dir/NAME.pem, dir/NAME.key. */
TT_UNUSED static void tt_ca(const char *dir, const char *name)
{
	int rc;
	const char *o = tt_sh(&rc, "cd %s && openssl req -x509 -newkey ec -pkeyopt "
	                      "ec_paramgen_curve:P-256 -nodes -keyout %s.key -out %s.pem "
	                      "-days 30 -subj '/CN=sxgate test %s' && chmod 600 %s.key",
	                      dir, name, name, name, name);
	cr_assert_eq(rc, 0, "making CA %s: %s", name, o);
}

/* The SHA-256 fingerprint of dir/NAME.pem as openssl prints it. */
TT_UNUSED static const char *tt_fingerprint(const char *dir, const char *name)
{
	static char fp[128];
	int rc;
	const char *o = tt_sh(&rc, "openssl x509 -noout -fingerprint -sha256 -in %s/%s.pem",
	                      dir, name);
	const char *eq = strchr(o, '=');
	cr_assert(rc == 0 && eq, "fingerprint of %s: %s", name, o);
	snprintf(fp, sizeof fp, "%.*s", (int)strcspn(eq + 1, "\n"), eq + 1);
	return fp;
}

/* Everything a TLS test needs, in tu_dir: ca, srv (localhost), srv2 (a
 * second one for rotation), old (expired), rogueca + rogue (an untrusted
 * CA's server certificate), cli_a, cli_b (client certificates). */
TT_UNUSED static void tt_pki(void)
{
	tt_ca(tu_dir, "ca");
	tt_ca(tu_dir, "rogueca");
	tt_cert(tu_dir, "ca", "srv", "localhost", "DNS:localhost,IP:127.0.0.1", NULL, NULL);
	tt_cert(tu_dir, "ca", "srv2", "localhost", "DNS:localhost,IP:127.0.0.1", NULL, NULL);
	tt_cert(tu_dir, "ca", "old", "localhost", "DNS:localhost,IP:127.0.0.1",
	        "20200101000000Z", "20200201000000Z");
	tt_cert(tu_dir, "rogueca", "rogue", "localhost", "DNS:localhost,IP:127.0.0.1",
	        NULL, NULL);
	tt_cert(tu_dir, "ca", "cli_a", "tenant a", "DNS:a.example", NULL, NULL);
	tt_cert(tu_dir, "ca", "cli_b", "tenant b", "DNS:b.example", NULL, NULL);
}

#endif
