/*
 * test_client_tls.c - the client side of TLS against the real bin/sxgated
 * with its TLS ports: the client library (sx_client_open), `sxgate check`
 * and sxgate-bench over the binary and RESP TLS ports get the answers they
 * get in the clear; the client refuses an untrusted CA, a wrong host name
 * and an expired certificate with the reason, and --insecure connects
 * anyway with a warning; mutual TLS (a client without a certificate is
 * refused, a certificate bound to a tenant is that tenant without AUTH and
 * no other); secrets from --secret-file (mode checked) and SXGATE_SECRET.
 *
 * The certificates are made at run time with the openssl command line (EC
 * P-256: fast) in the test's scratch directory: a CA, a server certificate
 * for localhost and 127.0.0.1, the same one expired (`openssl ca` with a
 * start and end date in 2020), a second CA nobody trusts, and a client
 * certificate for tenant a.  No key is ever committed.
 */
#include "helpers/srvtest.h"


#include "sxclient.h"

#define AIR_Q    ST_DENY_ID " air --at 2026-01-10"
static char fp_a[128];        /* SHA-256 fingerprint of client a's certificate */

static const char *pki(const char *name)
{
	static __thread char buf[4][PATH_MAX + 64];
	static __thread int k;
	k = (k + 1) % 4;
	return tu_path(buf[k], sizeof buf[k], tu_dir, name);
}

/* Everything the tests need, by the openssl CLI, in tu_dir. */
static void make_pki(void)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd,
	"set -e; cd '%s'; exec 2>pki.log\n"
	"ec='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes'\n"
	"openssl req -x509 $ec -keyout ca.key -out ca.pem -days 30 -subj /CN=test-ca\n"
	"openssl req -x509 $ec -keyout other.key -out other-ca.pem -days 30 -subj /CN=other-ca\n"
	"openssl req $ec -keyout srv.key -out srv.csr -subj /CN=localhost\n"
	"printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > srv.ext\n"
	"openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	"  -out srv.pem -days 30 -extfile srv.ext\n"
	"mkdir db; : > db/index.txt; echo 01 > db/serial\n"
	"printf '[ca]\\ndefault_ca=c\\n[c]\\ndatabase=db/index.txt\\nserial=db/serial\\n"
	"new_certs_dir=db\\ndefault_md=sha256\\npolicy=p\\nunique_subject=no\\n"
	"[p]\\ncommonName=supplied\\n' > ca.cnf\n"
	"openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in srv.csr "
	"  -out expired.pem -startdate 20200101000000Z -enddate 20200201000000Z "
	"  -extfile srv.ext\n"
	"openssl req $ec -keyout a.key -out a.csr -subj /CN=tenant-a\n"
	"printf 'extendedKeyUsage=clientAuth\\n' > a.ext\n"
	"openssl x509 -req -in a.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	"  -out a.pem -days 30 -extfile a.ext\n"
	"openssl x509 -in a.pem -noout -fingerprint -sha256 | cut -d= -f2 > a.fp\n"
	"chmod 600 *.key\n", tu_dir);
	int st = system(cmd);
	if (st != 0) {
		char *log = tu_read(pki("pki.log"), NULL);
		cr_assert_fail("making certificates with openssl failed (status %d):\n%s", st,
		               log ? log : "");
	}
	char *fp = tu_read(pki("a.fp"), NULL);
	cr_assert_not_null(fp);
	snprintf(fp_a, sizeof fp_a, "%.*s", (int)strcspn(fp, "\n"), fp);
	free(fp);
}

/* A server with plain and TLS ports (cert: srv.pem or expired.pem) plus
 * extra arguments; its TLS ports in *tls_bin and *tls_resp. */
static st_server *start_tls(const char *cert, int *tls_bin, int *tls_resp,
                            const char **extra)
{
	static char pb[16], pr[16];
	*tls_bin = st_free_port();
	do
		*tls_resp = st_free_port();
	while (*tls_resp == *tls_bin);
	snprintf(pb, sizeof pb, "%d", *tls_bin);
	snprintf(pr, sizeof pr, "%d", *tls_resp);
	const char *argv[32] = { "--tls-bin-port", pb, "--tls-resp-port", pr,
	                         "--tls-cert", pki(cert), "--tls-key", pki("srv.key") };
	int n = 8;
	for (int i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	return st_start_args(st_snap, 0, argv);
}

static int open_tls(int port, int proto, const char *cacert, const char *sni,
                    const char *cert, sx_client **cli, char *err, size_t cap)
{
	sx_client_opts o = { .host = "127.0.0.1", .port = port, .proto = proto,
	                     .timeout_ms = 5000, .tls = 1, .cacert = cacert, .sni = sni };
	if (cert) {
		o.cert = pki(cert);
		o.key = pki("a.key");
	}
	return sx_client_open(&o, cli, err, cap);
}

/* "DECISION REASON rec..." of one CHECK through the library. */
static char *check_text(sx_client *cli, const char *channel, const char *cls)
{
	sx_client_result r;
	int rc = sx_client_check(cli, ST_DENY_ID, channel, cls, NULL, "2026-01-10", &r);
	if (rc)
		return strdup(sx_client_errmsg(cli));
	char buf[4096];
	size_t n = (size_t)snprintf(buf, sizeof buf, "%s %s", r.decision, r.reason);
	for (size_t i = 0; i < r.nrec && n < sizeof buf; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, " %s", r.rec[i]);
	sx_client_result_free(&r);
	return strdup(buf);
}

/* Run a shell command: its stdout (malloc'd), stderr in *err (malloc'd),
 * and its exit status. */
static char *run(const char *cmd, char **err, int *status)
{
	char full[PATH_MAX * 4];
	const char *ef = pki("stderr.txt");
	snprintf(full, sizeof full, "%s 2>'%s'", cmd, ef);
	FILE *p = popen(full, "r");
	cr_assert_not_null(p, "popen %s", cmd);
	size_t cap = 1 << 16, n = 0, r;
	char *out = malloc(cap);
	while ((r = fread(out + n, 1, cap - 1 - n, p)) > 0)
		if ((n += r) == cap - 1)
			out = realloc(out, cap *= 2);
	out[n] = 0;
	int st = pclose(p);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	*err = tu_read(ef, NULL);
	if (!*err)
		*err = strdup("");
	return out;
}

/* `sxgate ARGS`; asserts the exit status, returns stdout, stderr in *err. */
__attribute__((format(printf, 3, 4)))
static char *cli(int want, char **err, const char *fmt, ...)
{
	char exe[PATH_MAX], args[2048], cmd[PATH_MAX + 2200];
	tu_bin("sxgate", exe, sizeof exe);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "%s %s", exe, args);
	int st;
	char *out = run(cmd, err, &st);
	cr_assert_eq(st, want, "sxgate %s: exit %d, wanted %d\nstdout: %s\nstderr: %s",
	             args, st, want, out, *err);
	return out;
}

/* ---- the same answers ---------------------------------------------------- */

ST_TEST(client_tls, answers_as_in_the_clear_through_library_cli_and_bench)
{
	make_pki();
	int tb, tr;
	st_server *s = start_tls("srv.pem", &tb, &tr, NULL);
	char err[600];
	sx_client *plain, *tls;

	for (int proto = SX_CLIENT_BINARY; proto <= SX_CLIENT_RESP; proto++) {
		int pp = proto == SX_CLIENT_BINARY ? s->bin_port : s->resp_port;
		int tp = proto == SX_CLIENT_BINARY ? tb : tr;
		cr_assert_eq(sx_client_connect("127.0.0.1", pp, proto, 5000, &plain, err,
		                               sizeof err), 0, "%s", err);
		cr_assert_eq(open_tls(tp, proto, pki("ca.pem"), NULL, NULL, &tls, err,
		                      sizeof err), 0, "%s", err);
		cr_assert(sx_client_is_tls(tls) && !sx_client_is_tls(plain));
		const char *q[][2] = { { "air", NULL }, { "rail", "G1:second" }, { "bogus", NULL } };
		for (size_t i = 0; i < SX_ARRAY_LEN(q); i++) {
			char *a = check_text(plain, q[i][0], q[i][1]);
			char *b = check_text(tls, q[i][0], q[i][1]);
			cr_assert_str_eq(b, a, "proto %d, channel %s", proto, q[i][0]);
			if (i == 0)
				cr_assert(!strncmp(a, "DENY LISTED ", 12), "%s", a);
			free(a);
			free(b);
		}
		cr_assert_eq(sx_client_ping(tls), 0, "%s", sx_client_errmsg(tls));
		sx_client_close(plain);
		sx_client_close(tls);
	}

	/* Pipelined and non-blocking, as sxgate-bench drives it: many frames
	 * in flight, replies read by polling the fd only. */
	cr_assert_eq(open_tls(tb, SX_CLIENT_BINARY, pki("ca.pem"), NULL, NULL, &tls, err,
	                      sizeof err), 0, "%s", err);
	sx_client_set_blocking(tls, 0);
	enum { N = 2000 };
	const char *ids[64];
	for (int i = 0; i < 64; i++)
		ids[i] = i % 2 ? ST_FREE_ID : ST_DENY_ID;
	sx_client_ctx ctx = { .channel = "air", .at = "2026-01-10" };
	for (uint32_t i = 0; i < N; i++)
		cr_assert_eq(sx_client_send_check_batch(tls, i, &ctx, ids, NULL, 64), 0);
	int got = 0;
	for (int spins = 0; got < N && spins < 100000; spins++) {
		int rc = sx_client_flush(tls);
		cr_assert(rc == 0 || rc == -EAGAIN, "flush: %s", sx_client_errmsg(tls));
		sx_client_reply rep;
		while ((rc = sx_client_recv_reply(tls, &rep)) == 0) {
			cr_assert_eq(rep.req_id, (uint32_t)got, "reply order");
			cr_assert_eq(rep.count, 64);
			got++;
		}
		cr_assert_eq(rc, -EAGAIN, "recv: %s", sx_client_errmsg(tls));
		struct pollfd p = { .fd = sx_client_fd(tls),
		                    .events = POLLIN | (sx_client_unsent(tls) ? POLLOUT : 0) };
		if (got < N)
			cr_assert_gt(poll(&p, 1, 5000), 0, "stalled after %d replies", got);
	}
	cr_assert_eq(got, N);
	sx_client_close(tls);

	/* sxgate check: the same lines over both TLS ports. */
	char *e, *plain_out = cli(0, &e, "check " AIR_Q " --port %d", s->bin_port);
	free(e);
	char *out = cli(0, &e, "check " AIR_Q " --port %d --tls --cacert %s", tb, pki("ca.pem"));
	cr_assert_str_eq(out, plain_out);
	cr_assert_str_eq(e, "");
	free(out);
	free(e);
	out = cli(0, &e, "check " AIR_Q " --resp --port %d --tls --cacert %s --host localhost",
	          tr, pki("ca.pem"));
	cr_assert_str_eq(out, plain_out);
	free(out);
	free(e);
	free(plain_out);
	free(cli(1, &e, "check " AIR_Q " --port %d --cacert %s", tb, pki("ca.pem")));
	cr_assert(strstr(e, "--cacert is for TLS: give --tls too"), "%s", e);
	free(e);

	/* sxgate-bench over TLS, both protocols: every reply checks out. */
	char q[PATH_MAX + 64], exe[PATH_MAX], cmd[4 * PATH_MAX];
	tu_path(q, sizeof q, tu_dir, "q.tsv");
	tu_write_str(q, ST_DENY_ID "\t-\tair\t-\t2026-01-10\n"
	                ST_FREE_ID "\t-\tair\t-\t2026-01-10\n");
	tu_bin("sxgate-bench", exe, sizeof exe);
	for (int resp = 0; resp < 2; resp++) {
		snprintf(cmd, sizeof cmd, "%s --queries %s --port %d --protocol %s --tls "
		         "--cacert %s --connections 4 --threads 2 --depth 32 --batch %d "
		         "--duration 0.5 --json", exe, q, resp ? tr : tb,
		         resp ? "resp" : "binary", pki("ca.pem"), resp ? 20 : 300);
		int st;
		out = run(cmd, &e, &st);
		cr_assert_eq(st, 0, "%s\n%s\n%s", cmd, out, e);
		cr_assert(strstr(out, "\"errors\":0,") && !strstr(out, "\"lookups\":0,"),
		          "%s", out);
		cr_assert(strstr(e, "over TLS"), "%s", e);
		free(out);
		free(e);
	}
}

/* ---- what the client refuses ---------------------------------------------- */

ST_TEST(client_tls, refuses_untrusted_ca_wrong_name_and_expired_certificate)
{
	make_pki();
	int tb, tr;
	start_tls("srv.pem", &tb, &tr, NULL);
	char err[600], *e;
	sx_client *c = NULL;

	cr_assert_eq(open_tls(tb, SX_CLIENT_BINARY, pki("other-ca.pem"), NULL, NULL, &c,
	                      err, sizeof err), SX_CLIENT_ETLS);
	cr_assert(strstr(err, "certificate verify failed"), "%s", err);
	cr_assert_null(c);
	cr_assert_eq(open_tls(tr, SX_CLIENT_RESP, pki("ca.pem"), "wrong.example", NULL, &c,
	                      err, sizeof err), SX_CLIENT_ETLS);
	cr_assert(strstr(err, "hostname mismatch"), "%s", err);
	cr_assert_eq(open_tls(tb, SX_CLIENT_BINARY, pki("missing.pem"), NULL, NULL, &c,
	                      err, sizeof err), SX_CLIENT_ETLS);
	cr_assert(strstr(err, "missing.pem"), "%s", err);

	free(cli(3, &e, "check " AIR_Q " --port %d --tls --cacert %s", tb, pki("other-ca.pem")));
	cr_assert(strstr(e, "certificate verify failed: unable to get local issuer"), "%s", e);
	free(e);
	free(cli(3, &e, "check " AIR_Q " --resp --port %d --tls --cacert %s --sni wrong.example",
	         tr, pki("ca.pem")));
	cr_assert(strstr(e, "wrong.example") && strstr(e, "hostname mismatch"), "%s", e);
	free(e);
	/* A plain client on a TLS port and a TLS client on a plain one say so. */
	free(cli(3, &e, "ping --port %d", tb));
	cr_assert(strstr(e, "is this a TLS port?"), "%s", e);
	free(e);

	/* --insecure connects to the wrong name anyway, and warns. */
	char *out = cli(0, &e, "check " AIR_Q " --port %d --tls --insecure --sni wrong.example",
	                tb);
	cr_assert(!strncmp(out, "DENY\nLISTED\n", 12), "%s", out);
	cr_assert(strstr(e, "warning: --insecure"), "%s", e);
	free(out);
	free(e);

	int xb, xr;
	start_tls("expired.pem", &xb, &xr, NULL);
	cr_assert_eq(open_tls(xb, SX_CLIENT_BINARY, pki("ca.pem"), NULL, NULL, &c, err,
	                      sizeof err), SX_CLIENT_ETLS);
	cr_assert(strstr(err, "certificate has expired"), "%s", err);
	free(cli(3, &e, "check " AIR_Q " --resp --port %d --tls --cacert %s", xr, pki("ca.pem")));
	cr_assert(strstr(e, "certificate has expired"), "%s", e);
	free(e);
	out = cli(0, &e, "check " AIR_Q " --resp --port %d --tls --cacert %s --insecure", xr,
	          pki("ca.pem"));
	cr_assert(!strncmp(out, "DENY\nLISTED\n", 12), "%s", out);
	cr_assert(strstr(e, "warning: --insecure"), "%s", e);
	free(out);
	free(e);
}

/* ---- mutual TLS -------------------------------------------------------------- */

/* Tenants: a by certificate only (air), b by secret (rail). */
static const char *write_tenants(void)
{
	char h[256], text[1024];
	st_hash("b-secret", h, sizeof h);
	snprintf(text, sizeof text, "a:!:air:-:cert=%s\nb:%s:rail:-\n", fp_a, h);
	const char *p = pki("tenants");
	tu_write_str(p, text);
	chmod(p, 0600);                  /* sxgated refuses one others may read */
	return p;
}

ST_TEST(client_tls, mutual_tls_makes_the_certificate_its_tenant)
{
	make_pki();
	int tb, tr;
	start_tls("srv.pem", &tb, &tr, (const char *[]){ "--tls-ca", pki("ca.pem"),
	          "--tls-client-auth", "required", "--tenants", write_tenants(), NULL });
	char err[600], *e;
	sx_client *c;

	/* No certificate: refused (binary: at HELLO; RESP: at the first read). */
	cr_assert_neq(open_tls(tb, SX_CLIENT_BINARY, pki("ca.pem"), NULL, NULL, &c, err,
	                       sizeof err), 0, "connected without a client certificate");
	cr_assert(strstr(err, "TLS"), "%s", err);
	free(cli(3, &e, "check " AIR_Q " --resp --port %d --tls --cacert %s", tr, pki("ca.pem")));
	cr_assert(strstr(e, "TLS"), "%s", e);
	free(e);

	for (int proto = SX_CLIENT_BINARY; proto <= SX_CLIENT_RESP; proto++) {
		cr_assert_eq(open_tls(proto == SX_CLIENT_BINARY ? tb : tr, proto, pki("ca.pem"),
		                      NULL, "a.pem", &c, err, sizeof err), 0, "%s", err);
		char *t = check_text(c, "air", NULL);
		cr_assert(!strncmp(t, "DENY LISTED ", 12), "a asks about air without AUTH: %s", t);
		free(t);
		t = check_text(c, "rail", "G1:second");
		cr_assert(strstr(t, "NOPERM") && strstr(t, "'a'"), "proto %d: %s", proto, t);
		free(t);
		cr_assert_eq(sx_client_auth(c, "b", "b-secret"), SX_CLIENT_ESERVER);
		cr_assert(strstr(sx_client_errmsg(c), "NOPERM"), "%s", sx_client_errmsg(c));
		sx_client_close(c);
	}

	char *out = cli(0, &e, "check " AIR_Q " --port %d --tls --cacert %s --cert %s --key %s",
	                tb, pki("ca.pem"), pki("a.pem"), pki("a.key"));
	cr_assert(!strncmp(out, "DENY\nLISTED\n", 12), "%s", out);
	free(out);
	free(e);
	free(cli(2, &e, "check " ST_DENY_ID " rail G1:second --port %d --tls --cacert %s "
	         "--cert %s --key %s", tb, pki("ca.pem"), pki("a.pem"), pki("a.key")));
	cr_assert(strstr(e, "NOPERM"), "%s", e);
	free(e);
	free(cli(1, &e, "ping --port %d --tls --cacert %s --key %s", tb, pki("ca.pem"),
	         pki("a.key")));
	cr_assert(strstr(e, "--key") && strstr(e, "needs --cert"), "%s", e);
	free(e);
}

/* ---- secrets off argv ------------------------------------------------------------ */

ST_TEST(client_tls, secret_from_a_private_file_or_the_environment)
{
	make_pki();
	int tb, tr;
	st_server *s = start_tls("srv.pem", &tb, &tr,
	                         (const char *[]){ "--tenants", write_tenants(), NULL });
	char f[PATH_MAX + 64];
	tu_path(f, sizeof f, tu_dir, "b.secret");
	tu_write_str(f, "b-secret\n");
	char *e, *out;
	const char *rail = ST_DENY_ID " rail G1:second --at 2026-01-10";

	cr_assert_eq(chmod(f, 0644), 0);
	free(cli(1, &e, "check %s --port %d --tenant b --secret-file %s", rail, s->bin_port, f));
	cr_assert(strstr(e, f) && strstr(e, "0644") && strstr(e, "too open"), "%s", e);
	free(e);
	cr_assert_eq(chmod(f, 0600), 0);
	out = cli(0, &e, "check %s --port %d --tls --cacert %s --tenant b --secret-file %s",
	          rail, tb, pki("ca.pem"), f);
	cr_assert(!strncmp(out, "DENY\nLISTED\n", 12), "%s", out);
	cr_assert_str_eq(e, "");
	free(out);
	free(e);

	cr_assert_eq(setenv("SXGATE_SECRET", "b-secret", 1), 0);
	out = cli(0, &e, "check %s --resp --port %d --tenant b", rail, s->resp_port);
	cr_assert(!strncmp(out, "DENY\nLISTED\n", 12), "%s", out);
	cr_assert_str_eq(e, "");
	free(out);
	free(e);
	cr_assert_eq(setenv("SXGATE_SECRET", "not-it", 1), 0);
	free(cli(2, &e, "check %s --port %d --tenant b", rail, s->bin_port));
	cr_assert(strstr(e, "WRONGPASS"), "%s", e);
	free(e);
	cr_assert_eq(unsetenv("SXGATE_SECRET"), 0);
	free(cli(1, &e, "check %s --port %d --tenant b", rail, s->bin_port));
	cr_assert(strstr(e, "--secret-file FILE or SXGATE_SECRET"), "%s", e);
	free(e);

	/* --secret still works, and says that ps shows it. */
	out = cli(0, &e, "check %s --port %d --tenant b --secret b-secret", rail, s->bin_port);
	cr_assert(!strncmp(out, "DENY\nLISTED\n", 12), "%s", out);
	cr_assert(strstr(e, "warning: --secret") && strstr(e, "ps"), "%s", e);
	free(out);
	free(e);
	free(cli(1, &e, "ping --port %d --tenant b --secret x --secret-file %s", s->bin_port, f));
	free(e);
	free(cli(1, &e, "ping --port %d --secret-file %s", s->bin_port, f));
	cr_assert(strstr(e, "needs --tenant"), "%s", e);
	free(e);

	/* sxgate-bench: the same rules. */
	char q[PATH_MAX + 64], exe[PATH_MAX], cmd[4 * PATH_MAX];
	tu_path(q, sizeof q, tu_dir, "q.tsv");
	tu_write_str(q, ST_DENY_ID "\t-\trail\tG1:second\t2026-01-10\n");
	tu_bin("sxgate-bench", exe, sizeof exe);
	int st;
	cr_assert_eq(chmod(f, 0640), 0);
	snprintf(cmd, sizeof cmd, "%s --queries %s --port %d --tls --cacert %s --tenant b "
	         "--secret-file %s --duration 0.3", exe, q, tb, pki("ca.pem"), f);
	out = run(cmd, &e, &st);
	cr_assert_eq(st, 1, "%s", e);
	cr_assert(strstr(e, f) && strstr(e, "0640"), "%s", e);
	free(out);
	free(e);
	cr_assert_eq(chmod(f, 0600), 0);
	out = run(cmd, &e, &st);
	cr_assert_eq(st, 0, "%s\n%s", out, e);
	free(out);
	free(e);
}
