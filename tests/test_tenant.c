/*
 * test_tenant.c - the tenants file and AUTH's checks (server/tenant.h):
 * loading, with errors that name file and line; find; verification
 * against a yescrypt hash made the way `sxgate tenant-hash` makes it;
 * the cached last good secret; the rate limit: a token reserved before a
 * secret is compared, buckets per (address, tenant name) with one for all
 * unknown names, a cap per address, refill, waiting behind logins in
 * progress, and a table that stays bounded.
 *
 * yescrypt costs tens of milliseconds a hash, so the rate-limit tests use
 * a cheap sha512-crypt hash (5000 rounds is its default; 1000 its minimum) ("any method Debian's libcrypt verifies").
 */
#include <crypt.h>

#include "tenant.h"
#include "testutil.h"

TestSuite(tenant, .init = tu_setup, .fini = tu_teardown);

/* A crypt(3) hash of secret with a fresh salt of method prefix (malloc'd). */
static char *hash_of(const char *prefix, unsigned long rounds, const char *secret)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;
	cr_assert_not_null(crypt_gensalt_rn(prefix, rounds, NULL, 0, salt, sizeof salt),
	                   "crypt_gensalt %s", prefix);
	memset(&cd, 0, sizeof cd);
	const char *h = crypt_r(secret, salt, &cd);
	cr_assert(h && h[0] != '*', "crypt_r failed");
	return strdup(h);
}

static sx_tenants *load_text(const char *text)
{
	char path[PATH_MAX + 32], why[512] = "";
	sx_tenants *ts = NULL;
	tu_path(path, sizeof path, tu_dir, "tenants");
	tu_write_str(path, text);
	int rc = sx_tenants_load(path, &ts, why, sizeof why);
	cr_assert_eq(rc, 0, "load: %s", why);
	return ts;
}

/* Load text expecting failure; the message must contain "tenants:LINE: "
 * and part. */
static void load_fails(const char *text, int line, const char *part)
{
	char path[PATH_MAX + 32], why[512] = "", want[64];
	sx_tenants *ts = NULL;
	tu_path(path, sizeof path, tu_dir, "tenants");
	tu_write_str(path, text);
	int rc = sx_tenants_load(path, &ts, why, sizeof why);
	cr_assert_neq(rc, 0, "loaded a bad file:\n%s", text);
	cr_assert_null(ts);
	if (line > 0) {
		snprintf(want, sizeof want, "/tenants:%d: ", line);
		cr_assert_not_null(strstr(why, want), "message '%s' lacks '%s'", why, want);
		cr_assert_eq(rc, SX_EINVAL, "a bad line is SX_EINVAL, got %d", rc);
	}
	cr_assert_not_null(strstr(why, part), "message '%s' lacks '%s'", why, part);
}

static sx_addr addr4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	sx_addr x = { { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff, a, b, c, d } };
	return x;
}

Test(tenant, load_find_and_fields)
{
	char *h = hash_of("$6$", 1000, "s3cret");
	char text[2048];
	snprintf(text, sizeof text,
	         "# tenants\n"
	         "\n"
	         "rail12306:%s:rail:listed\n"
	         "   ops:%s:*:admin,LISTED   \r\n"
	         "  # indented comment\n"
	         "hotels.x-1:%s:hotel,air,venue:-\n", h, h, h);
	sx_tenants *ts = load_text(text);
	cr_assert_eq(sx_tenants_count(ts), 3);

	const sx_tenant *t = sx_tenants_find(ts, "rail12306", 9);
	cr_assert_not_null(t);
	cr_assert_str_eq(t->name, "rail12306");
	cr_assert_eq(t->channels, 1u << SX_C_RAIL);
	cr_assert_eq(t->listed, 1);
	cr_assert_eq(t->admin, 0);
	cr_assert_str_eq(t->hash, h);

	t = sx_tenants_find(ts, "ops", 3);
	cr_assert_not_null(t);
	cr_assert_eq(t->channels, SX_CODES_ALL);
	cr_assert(t->admin && t->listed);

	t = sx_tenants_find(ts, "hotels.x-1", 10);
	cr_assert_not_null(t);
	cr_assert_eq(t->channels, (1u << SX_C_HOTEL) | (1u << SX_C_AIR) | (1u << SX_C_VENUE));
	cr_assert(!t->admin && !t->listed);

	cr_assert_null(sx_tenants_find(ts, "op", 2));
	cr_assert_null(sx_tenants_find(ts, "opsx", 4));
	cr_assert_null(sx_tenants_find(ts, "OPS", 3), "names are case-sensitive");
	cr_assert_not_null(sx_tenants_find(ts, "ops and more", 3), "n bytes of name count");
	sx_tenants_free(ts);
	free(h);
}

Test(tenant, load_errors_name_file_and_line)
{
	char *h = hash_of("$6$", 1000, "x");
	char text[2048];
	load_fails("", 0, "no tenants defined");
	load_fails("# only a comment\n\n", 0, "no tenants defined");
	snprintf(text, sizeof text, "# c\na:%s:rail:-\nb:%s:rail\n", h, h);
	load_fails(text, 3, "4 fields");
	snprintf(text, sizeof text, "bad name:%s:rail:-\n", h);
	load_fails(text, 1, "bad tenant name 'bad name'");
	snprintf(text, sizeof text, ":%s:rail:-\n", h);
	load_fails(text, 1, "bad tenant name ''");
	load_fails("a:plaintext:rail:-\n", 1, "crypt(3) hash");
	load_fails("a:$zz$nonsense:rail:-\n", 1, "not a hash this libcrypt can verify");
	snprintf(text, sizeof text, "a:%s:rail,boat:-\n", h);
	load_fails(text, 1, "unknown channel 'boat'");
	snprintf(text, sizeof text, "a:%s::-\n", h);
	load_fails(text, 1, "unknown channel");
	snprintf(text, sizeof text, "a:%s:rail:root\n", h);
	load_fails(text, 1, "unknown flag 'root'");
	snprintf(text, sizeof text, "a:%s:rail:\n", h);
	load_fails(text, 1, "unknown flag");
	snprintf(text, sizeof text, "a:%s:rail:-\n\nb:%s:air:-\na:%s:air:-\n", h, h, h);
	load_fails(text, 4, "tenant 'a' is defined twice");

	char why[256] = "";
	sx_tenants *ts = NULL;
	int rc = sx_tenants_load("/nonexistent/tenants", &ts, why, sizeof why);
	cr_assert_eq(rc, -ENOENT);
	cr_assert_null(ts);
	cr_assert_not_null(strstr(why, "/nonexistent/tenants"), "%s", why);
	free(h);
}

Test(tenant, verify_yescrypt_as_tenant_hash_makes_it, .timeout = 60)
{
	/* `sxgate tenant-hash` when it is built, else the same calls */
	char bin[PATH_MAX], cmd[PATH_MAX + 64], *h = NULL;
	snprintf(bin, sizeof bin, "%.4000s/bin/sxgate", tu_repo_root());
	if (tu_exists(bin)) {
		snprintf(cmd, sizeof cmd, "%s tenant-hash 'open sesame'", bin);
		FILE *p = popen(cmd, "r");
		char line[512] = "";
		cr_assert_not_null(p);
		cr_assert_not_null(fgets(line, sizeof line, p));
		cr_assert_eq(pclose(p), 0, "%s failed", cmd);
		line[strcspn(line, "\n")] = 0;
		h = strdup(line);
	} else {
		h = hash_of("$y$", 0, "open sesame");
	}
	cr_assert(!strncmp(h, "$y$", 3), "a yescrypt hash: %s", h);
	char text[1024];
	snprintf(text, sizeof text, "pos:%s:rail:-\n", h);
	sx_tenants *ts = load_text(text);
	const sx_tenant *t = sx_tenants_find(ts, "pos", 3);
	sx_addr a = addr4(10, 0, 0, 1);

	cr_assert_eq(sx_tenants_cached(ts, t, "open sesame", 11), 0, "nothing cached yet");
	cr_assert_eq(sx_tenants_verify(ts, t, &a, "open sesame", 11), 1);
	cr_assert_eq(sx_tenants_verify(ts, t, &a, "open sesame!", 12), 0);
	cr_assert_eq(sx_tenants_verify(ts, t, &a, "open sesam", 10), 0);
	cr_assert_eq(sx_tenants_verify(ts, t, &a, "open\0sesame", 11), 0,
	             "a NUL in the secret never matches");
	cr_assert_eq(sx_tenants_verify(ts, NULL, &a, "open sesame", 11), 0,
	             "unknown tenant");
	uint64_t ok, failed, limited;
	sx_tenants_counts(ts, &ok, &failed, &limited);
	cr_assert_eq(ok, 1);
	cr_assert_eq(failed, 4);
	cr_assert_eq(limited, 0);
	sx_tenants_free(ts);
	free(h);
}

Test(tenant, cached_secret)
{
	char *h1 = hash_of("$6$", 1000, "alpha"), *h2 = hash_of("$6$", 1000, "beta");
	char text[1024];
	snprintf(text, sizeof text, "one:%s:rail:-\ntwo:%s:air:-\n", h1, h2);
	sx_tenants *ts = load_text(text);
	const sx_tenant *one = sx_tenants_find(ts, "one", 3);
	const sx_tenant *two = sx_tenants_find(ts, "two", 3);
	sx_addr a = addr4(10, 0, 0, 2);

	cr_assert_eq(sx_tenants_verify(ts, one, &a, "alpha", 5), 1);
	cr_assert_eq(sx_tenants_cached(ts, one, "alpha", 5), 1);
	cr_assert_eq(sx_tenants_cached(ts, one, "alph", 4), 0);
	cr_assert_eq(sx_tenants_cached(ts, one, "alphaa", 6), 0);
	cr_assert_eq(sx_tenants_cached(ts, one, "Alpha", 5), 0);
	cr_assert_eq(sx_tenants_cached(ts, two, "alpha", 5), 0, "cache is per tenant");
	cr_assert_eq(sx_tenants_cached(ts, NULL, "alpha", 5), 0);
	/* a failed verify does not replace the cached secret */
	cr_assert_eq(sx_tenants_verify(ts, one, &a, "wrong", 5), 0);
	cr_assert_eq(sx_tenants_cached(ts, one, "alpha", 5), 1);
	cr_assert_eq(sx_tenants_cached(ts, one, "wrong", 5), 0);
	/* a secret at the maximum length is cached; longer never */
	char big[SX_TENANT_SECRET_MAX + 2];
	memset(big, 'k', sizeof big);
	big[SX_TENANT_SECRET_MAX] = 0;
	free(h2);
	h2 = hash_of("$6$", 1000, big);
	snprintf(text, sizeof text, "big:%s:rail:-\n", h2);
	sx_tenants_free(ts);
	ts = load_text(text);
	const sx_tenant *b = sx_tenants_find(ts, "big", 3);
	cr_assert_eq(sx_tenants_verify(ts, b, &a, big, SX_TENANT_SECRET_MAX), 1);
	cr_assert_eq(sx_tenants_cached(ts, b, big, SX_TENANT_SECRET_MAX), 1);
	cr_assert_eq(sx_tenants_verify(ts, b, &a, big, SX_TENANT_SECRET_MAX + 1), 0);
	cr_assert_eq(sx_tenants_cached(ts, b, big, SX_TENANT_SECRET_MAX + 1), 0);
	uint64_t ok, failed, limited;
	sx_tenants_counts(ts, &ok, &failed, &limited);
	cr_assert_eq(ok, 2, "one verify and one cache hit");
	cr_assert_eq(failed, 1);
	sx_tenants_free(ts);
	free(h1);
	free(h2);
}

Test(tenant, rate_limit_admits_five_failures_then_refuses, .timeout = 30)
{
	char *h = hash_of("$6$", 1000, "right");
	char text[512];
	snprintf(text, sizeof text, "t:%s:rail:-\n", h);
	sx_tenants *ts = load_text(text);
	const sx_tenant *t = sx_tenants_find(ts, "t", 1);
	sx_addr bad = addr4(192, 0, 2, 1), other = addr4(192, 0, 2, 2);

	for (int i = 0; i < 5; i++) {
		cr_assert_eq(sx_tenants_admit(ts, &bad, t, 0), SX_ADMIT_OK, "attempt %d refused", i + 1);
		cr_assert_eq(sx_tenants_verify(ts, t, &bad, "wrong", 5), 0);
	}
	cr_assert_eq(sx_tenants_admit(ts, &bad, t, 1), SX_ADMIT_LIMITED,
	             "a sixth try right away is refused");
	cr_assert_eq(sx_tenants_admit(ts, &other, t, 0), SX_ADMIT_OK,
	             "another address is not limited");
	sx_tenants_settle(ts, &other, t, 1);
	uint64_t ok, failed, limited;
	sx_tenants_counts(ts, &ok, &failed, &limited);
	cr_assert_eq(failed, 5);
	cr_assert_eq(limited, 1);

	/* one token a second: after a little over a second, one more try */
	struct timespec nap = { 1, 200 * 1000000L };
	nanosleep(&nap, NULL);
	cr_assert_eq(sx_tenants_admit(ts, &bad, t, 0), SX_ADMIT_OK, "refilled after 1.2 s");
	cr_assert_eq(sx_tenants_verify(ts, t, &bad, "wrong", 5), 0);
	cr_assert_eq(sx_tenants_admit(ts, &bad, t, 0), SX_ADMIT_LIMITED, "and empty again");

	/* a success does not spend a token */
	for (int i = 0; i < 11; i++) {
		cr_assert_eq(sx_tenants_admit(ts, &other, t, 0), SX_ADMIT_OK);
		cr_assert_eq(sx_tenants_verify(ts, t, &other, "right", 5), 1);
	}
	cr_assert_eq(sx_tenants_admit(ts, &other, t, 0), SX_ADMIT_OK);
	sx_tenants_free(ts);
	free(h);
}

Test(tenant, rate_limit_unknown_tenant_counts_too, .timeout = 60)
{
	/* guessing names is limited like guessing secrets (dummy yescrypt) */
	char *h = hash_of("$6$", 1000, "right");
	char text[512];
	snprintf(text, sizeof text, "t:%s:rail:-\n", h);
	sx_tenants *ts = load_text(text);
	sx_addr a = addr4(198, 51, 100, 7);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(sx_tenants_admit(ts, &a, NULL, 0), SX_ADMIT_OK);
		cr_assert_eq(sx_tenants_verify(ts, NULL, &a, "x", 1), 0);
	}
	/* five yescrypt hashes may take a while on a loaded machine: the bucket
	 * refills meanwhile, so only check what cannot have refilled */
	uint64_t ok, failed, limited;
	sx_tenants_counts(ts, &ok, &failed, &limited);
	cr_assert_eq(failed, 5);
	sx_tenants_free(ts);
	free(h);
}

/* Tenants t0..t{n-1}, each with the secret "right" (cheap hash). */
static sx_tenants *load_n(int n, char *h)
{
	char *text = malloc(4096), *p = text;
	for (int i = 0; i < n; i++)
		p += sprintf(p, "t%d:%s:rail:-\n", i, h);
	sx_tenants *ts = load_text(text);
	free(text);
	return ts;
}

Test(tenant, rate_limit_reserves_before_verifying)
{
	/* issue 14: parallel AUTHs each hold a token while being verified, so
	 * six at once cannot all be verified against a bucket of five */
	char *h = hash_of("$6$", 1000, "right");
	sx_tenants *ts = load_n(1, h);
	const sx_tenant *t = sx_tenants_find(ts, "t0", 2);
	sx_addr a = addr4(192, 0, 2, 10);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(sx_tenants_admit(ts, &a, t, 0), SX_ADMIT_OK, "reservation %d", i + 1);
	cr_assert_eq(sx_tenants_admit(ts, &a, t, 0), SX_ADMIT_LIMITED,
	             "a sixth AUTH while five are being verified");
	/* a success gives its token back, a failure keeps it spent */
	cr_assert_eq(sx_tenants_verify(ts, t, &a, "right", 5), 1);
	cr_assert_eq(sx_tenants_admit(ts, &a, t, 0), SX_ADMIT_OK, "the success's token came back");
	for (int i = 0; i < 5; i++)
		cr_assert_eq(sx_tenants_verify(ts, t, &a, "wrong", 5), 0);
	cr_assert_eq(sx_tenants_admit(ts, &a, t, 0), SX_ADMIT_LIMITED,
	             "five failures spent five tokens");
	/* the cached secret is no way around it: the caller may compare only
	 * with a token reserved, and there is none */
	cr_assert_eq(sx_tenants_cached(ts, t, "right", 5), 1, "cached, but unreachable");
	uint64_t ok, failed, limited;
	sx_tenants_counts(ts, &ok, &failed, &limited);
	cr_assert_eq(ok, 2);
	cr_assert_eq(failed, 5);
	cr_assert_eq(limited, 2);
	sx_tenants_free(ts);
	free(h);
}

Test(tenant, rate_limit_per_tenant_name_and_one_bucket_for_unknown_names)
{
	char *h = hash_of("$6$", 1000, "right");
	sx_tenants *ts = load_n(2, h);
	const sx_tenant *ta = sx_tenants_find(ts, "t0", 2), *tb = sx_tenants_find(ts, "t1", 2);
	sx_addr proxy = addr4(10, 1, 1, 1);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(sx_tenants_admit(ts, &proxy, ta, 0), SX_ADMIT_OK);
		sx_tenants_settle(ts, &proxy, ta, 0);
	}
	cr_assert_eq(sx_tenants_admit(ts, &proxy, ta, 0), SX_ADMIT_LIMITED);
	/* guessing A's secret does not lock B out of the same address */
	for (int i = 0; i < 30; i++) {
		cr_assert_eq(sx_tenants_admit(ts, &proxy, tb, 0), SX_ADMIT_OK, "B's AUTH %d", i + 1);
		sx_tenants_settle(ts, &proxy, tb, 1);
	}
	/* names not in the file share one bucket per address */
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(sx_tenants_admit(ts, &proxy, NULL, 0), SX_ADMIT_OK);
		sx_tenants_settle(ts, &proxy, NULL, 0);
	}
	cr_assert_eq(sx_tenants_admit(ts, &proxy, NULL, 0), SX_ADMIT_LIMITED,
	             "a sixth invented name");
	cr_assert_eq(sx_tenants_admit(ts, &proxy, tb, 0), SX_ADMIT_OK, "B still");
	sx_tenants_settle(ts, &proxy, tb, 1);
	sx_tenants_free(ts);
	free(h);
}

Test(tenant, rate_limit_address_cap_across_names_and_its_refill)
{
	/* 5 failures for each of 4 names spend the address's 20; the fifth
	 * name, its own bucket full, is refused; refusals spend nothing; the
	 * cap refills at 4 a second */
	char *h = hash_of("$6$", 1000, "right");
	sx_tenants *ts = load_n(6, h);
	const sx_tenant *t[6];
	char nm[16];
	for (int i = 0; i < 6; i++) {
		snprintf(nm, sizeof nm, "t%d", i);
		t[i] = sx_tenants_find(ts, nm, strlen(nm));
	}
	sx_addr a = addr4(10, 2, 2, 2), other = addr4(10, 2, 2, 3);
	for (int k = 0; k < 4; k++) {
		for (int i = 0; i < 5; i++) {
			cr_assert_eq(sx_tenants_admit(ts, &a, t[k], 0), SX_ADMIT_OK, "t%d try %d", k, i);
			sx_tenants_settle(ts, &a, t[k], 0);
		}
		/* refused tries do not drain the cap */
		for (int i = 0; i < 50; i++)
			cr_assert_eq(sx_tenants_admit(ts, &a, t[k], 0), SX_ADMIT_LIMITED);
	}
	cr_assert_eq(sx_tenants_admit(ts, &a, t[4], 0), SX_ADMIT_LIMITED,
	             "the address's cap of 20 is spent");
	cr_assert_eq(sx_tenants_admit(ts, &other, t[4], 0), SX_ADMIT_OK, "another address");
	sx_tenants_settle(ts, &other, t[4], 1);
	struct timespec nap = { 0, 350 * 1000000L };
	nanosleep(&nap, NULL);
	cr_assert_eq(sx_tenants_admit(ts, &a, t[4], 0), SX_ADMIT_OK, "4/s: one back after 0.35 s");
	sx_tenants_settle(ts, &a, t[4], 0);
	cr_assert_eq(sx_tenants_admit(ts, &a, t[5], 0), SX_ADMIT_LIMITED, "and spent again");
	sx_tenants_free(ts);
	free(h);
}

static sx_addr addr6(uint16_t w0, uint16_t w3, uint16_t last)
{
	sx_addr x = { { 0x20, 0x01, 0x0d, 0xb8, 0, 0, (uint8_t)(w3 >> 8), (uint8_t)w3,
	                0, 0, 0, 0, (uint8_t)(w0 >> 8), (uint8_t)w0,
	                (uint8_t)(last >> 8), (uint8_t)last } };
	return x;
}

Test(tenant, rate_limit_counts_an_ipv6_client_by_its_64_prefix)
{
	/* attack: one host owns a whole /64 (every ISP and cloud hands one
	 * out) and, through PROXY protocol, each connection can come from a
	 * new address of it; buckets per full address gave 5 guesses per
	 * address, i.e. no limit at all */
	char *h = hash_of("$6$", 1000, "right");
	sx_tenants *ts = load_n(2, h);
	const sx_tenant *t = sx_tenants_find(ts, "t0", 2), *t1 = sx_tenants_find(ts, "t1", 2);
	int admitted = 0;
	for (int i = 0; i < 40; i++) {
		sx_addr a = addr6((uint16_t)i, 1, (uint16_t)(i * 7 + 1));
		if (sx_tenants_admit(ts, &a, t, 0) == SX_ADMIT_OK) {
			admitted++;
			sx_tenants_settle(ts, &a, t, 0);
		}
	}
	cr_assert_eq(admitted, 5, "40 addresses of one /64 got %d guesses, not 5", admitted);
	/* another /64 is another client */
	sx_addr other = addr6(1, 2, 1);
	cr_assert_eq(sx_tenants_admit(ts, &other, t, 0), SX_ADMIT_OK, "another /64");
	sx_tenants_settle(ts, &other, t, 1);
	/* the /64 that guessed t0 still logs in as t1 */
	sx_addr same = addr6(99, 1, 99);
	cr_assert_eq(sx_tenants_admit(ts, &same, t1, 0), SX_ADMIT_OK, "t1 from the same /64");
	sx_tenants_settle(ts, &same, t1, 1);
	/* IPv4 (v4-mapped) stays per address */
	sx_addr v4a = addr4(192, 0, 2, 1), v4b = addr4(192, 0, 2, 2);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(sx_tenants_admit(ts, &v4a, t, 0), SX_ADMIT_OK);
		sx_tenants_settle(ts, &v4a, t, 0);
	}
	cr_assert_eq(sx_tenants_admit(ts, &v4a, t, 0), SX_ADMIT_LIMITED);
	cr_assert_eq(sx_tenants_admit(ts, &v4b, t, 0), SX_ADMIT_OK, "a neighbour IPv4 address");
	sx_tenants_settle(ts, &v4b, t, 1);
	sx_tenants_free(ts);
	free(h);
}

Test(tenant, rate_limit_table_full_evicts_the_fullest_bucket_not_a_limited_one)
{
	/* attack: fill the 2048-entry table with many addresses' one-failure
	 * buckets so that a limited address's buckets are evicted and it
	 * guesses again at full burst */
	char *h = hash_of("$6$", 1000, "right");
	sx_tenants *ts = load_n(1, h);
	const sx_tenant *t = sx_tenants_find(ts, "t0", 2);
	sx_addr bad = addr4(203, 0, 113, 1);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(sx_tenants_admit(ts, &bad, t, 0), SX_ADMIT_OK);
		sx_tenants_settle(ts, &bad, t, 0);
	}
	cr_assert_eq(sx_tenants_admit(ts, &bad, t, 0), SX_ADMIT_LIMITED);
	/* 1100 other addresses, one failure each: 2200 buckets with state,
	 * more than the table holds, all fuller than bad's */
	for (int i = 0; i < 1100; i++) {
		sx_addr a = addr4(10, 9, (uint8_t)(i >> 8), (uint8_t)i);
		cr_assert_eq(sx_tenants_admit(ts, &a, t, 0), SX_ADMIT_OK, "address %d", i);
		sx_tenants_settle(ts, &a, t, 0);
	}
	cr_assert_eq(sx_tenants_admit(ts, &bad, t, 0), SX_ADMIT_LIMITED,
	             "the limited address was evicted by a table flood and may guess again");
	sx_tenants_free(ts);
	free(h);
}

Test(tenant, rate_limit_waits_behind_logins_in_progress_not_behind_failures)
{
	/* a pool of connections logging in at once: the sixth waits for the
	 * five being verified rather than hear "too many failed attempts" */
	char *h = hash_of("$6$", 1000, "right");
	sx_tenants *ts = load_n(1, h);
	const sx_tenant *t = sx_tenants_find(ts, "t0", 2);
	sx_addr a = addr4(10, 3, 3, 3);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(sx_tenants_admit(ts, &a, t, 1), SX_ADMIT_OK);
	cr_assert_eq(sx_tenants_admit(ts, &a, t, 1), SX_ADMIT_WAIT);
	cr_assert_eq(sx_tenants_admit(ts, &a, t, 0), SX_ADMIT_LIMITED, "no waiting asked");
	sx_tenants_settle(ts, &a, t, 1);
	cr_assert_eq(sx_tenants_admit(ts, &a, t, 0), SX_ADMIT_OK, "after one logged in");
	/* once one of them failed, an empty bucket refuses at once */
	sx_tenants_settle(ts, &a, t, 0);
	cr_assert_eq(sx_tenants_admit(ts, &a, t, 1), SX_ADMIT_LIMITED,
	             "four held and one failure: no waiting");
	for (int i = 0; i < 4; i++)
		sx_tenants_settle(ts, &a, t, 1);
	cr_assert_eq(sx_tenants_admit(ts, &a, t, 1), SX_ADMIT_OK);
	sx_tenants_settle(ts, &a, t, 1);
	sx_tenants_free(ts);
	free(h);
}

Test(tenant, rate_limit_table_stays_bounded_and_keeps_limited_addresses)
{
	/* the table is a fixed array: 20000 addresses x (a tenant, an unknown
	 * name) pass through it; a full bucket is free for reuse, so the
	 * limited address is not evicted by them */
	char *h = hash_of("$6$", 1000, "right");
	sx_tenants *ts = load_n(1, h);
	const sx_tenant *t = sx_tenants_find(ts, "t0", 2);
	sx_addr bad = addr4(203, 0, 113, 1);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(sx_tenants_admit(ts, &bad, t, 0), SX_ADMIT_OK);
		sx_tenants_settle(ts, &bad, t, 0);
	}
	for (int i = 0; i < 20000; i++) {
		sx_addr x = addr4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i);
		cr_assert_eq(sx_tenants_admit(ts, &x, i % 2 ? t : NULL, 0), SX_ADMIT_OK);
		sx_tenants_settle(ts, &x, i % 2 ? t : NULL, 1);
	}
	cr_assert_eq(sx_tenants_admit(ts, &bad, t, 0), SX_ADMIT_LIMITED, "still limited");
	sx_tenants_free(ts);
	free(h);
}

Test(tenant, legacy_method_is_refused_with_a_reason)
{
	/* tenant.h: methods libcrypt rates legacy ($5$ sha256-crypt here) are
	 * refused, saying so and what to do, not "cannot verify" */
	char *h = hash_of("$5$", 5000, "pw");
	char text[512], path[PATH_MAX + 32], why[512] = "";
	sx_tenants *ts = NULL;
	snprintf(text, sizeof text, "t:%s:rail:-\n", h);
	tu_write_str(tu_path(path, sizeof path, tu_dir, "tenants"), text);
	int rc = sx_tenants_load(path, &ts, why, sizeof why);
	cr_assert_neq(rc, 0, "a $5$ hash was accepted");
	cr_assert(strstr(why, "legacy") && strstr(why, "tenant-hash"), "%s", why);
	cr_assert(strstr(why, "tenants:1:") || strstr(why, ":1"), "no line: %s", why);
	free(h);
}

/* The metrics flag and the max-batch and max-conns options (docs/SERVER.md,
 * Tenants): their defaults, their ranges, and errors that name the line. */
Test(tenant, metrics_flag_and_limit_options)
{
	char *h = hash_of("$6$", 1000, "pw");
	char text[2048];
	snprintf(text, sizeof text,
	         "plain:%s:rail:-\n"
	         "prom:%s:*:metrics\n"
	         "small:%s:air:listed:max-batch=3 max-conns=2\n"
	         "big:%s:air:-:  max-conns=10000000\tmax-batch=10000  \n", h, h, h, h);
	sx_tenants *ts = load_text(text);
	const sx_tenant *t = sx_tenants_find(ts, "plain", 5);
	cr_assert_eq(t->max_batch, SX_TENANT_MAX_BATCH, "the default max-batch is the cap");
	cr_assert_eq(SX_TENANT_MAX_BATCH, 10000u);
	cr_assert_eq(t->max_conns, 0, "no max-conns: no limit of its own");
	cr_assert(!t->metrics && !t->admin);
	t = sx_tenants_find(ts, "prom", 4);
	cr_assert(t->metrics && !t->admin && !t->listed);
	t = sx_tenants_find(ts, "small", 5);
	cr_assert_eq(t->max_batch, 3);
	cr_assert_eq(t->max_conns, 2);
	cr_assert(t->listed && !t->metrics);
	t = sx_tenants_find(ts, "big", 3);
	cr_assert_eq(t->max_batch, 10000);
	cr_assert_eq(t->max_conns, 10000000);
	cr_assert_eq(sx_tenants_with_metrics(ts), 1);
	sx_tenants_free(ts);

	static const struct { const char *opt, *part; } bad[] = {
		{ "max-batch=0", "max-batch=0 is not a number in 1..10000" },
		{ "max-batch=10001", "max-batch=10001 is not a number in 1..10000" },
		{ "max-batch=99999999999", "max-batch=99999999999 is not a number" },
		{ "max-batch=-1", "max-batch=-1 is not a number" },
		{ "max-batch=1k", "max-batch=1k is not a number" },
		{ "max-batch=", "max-batch= is not a number" },
		{ "max-batch", "unknown option 'max-batch'" },
		{ "max-conns=0", "max-conns=0 is not a number in 1..10000000" },
		{ "max-conns=10000001", "max-conns=10000001 is not a number" },
		{ "max-conns=+3", "max-conns=+3 is not a number" },
		{ "max-conns=2 max-conns=3", "option 'max-conns' is given twice" },
		{ "max-batch=2 max-batch=2", "option 'max-batch' is given twice" },
		{ "maxbatch=2", "unknown option 'maxbatch=2'" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "ok:%s:rail:-\nx:%s:rail:-:%s\n", h, h, bad[i].opt);
		load_fails(text, 2, bad[i].part);
		load_fails(text, 2, "tenant 'x'");
	}
	snprintf(text, sizeof text, "x:%s:rail:metric\n", h);
	load_fails(text, 1, "unknown flag 'metric' (flags: `-` or a comma-separated list "
	           "of admin, listed, metrics)");
	free(h);
}

/* Connections per tenant (max-conns): a move counts up to the limit and
 * not past it, moving away or closing counts down, a move to the same
 * tenant changes nothing, and a tenant without max-conns has no limit. */
Test(tenant, connection_counts_honour_max_conns)
{
	char *h = hash_of("$6$", 1000, "pw");
	char text[1024];
	snprintf(text, sizeof text, "two:%s:rail:-:max-conns=2\nfree:%s:rail:-\n", h, h);
	sx_tenants *ts = load_text(text);
	const sx_tenant *two = sx_tenants_find(ts, "two", 3);
	const sx_tenant *fr = sx_tenants_find(ts, "free", 4);
	cr_assert_eq(sx_tenants_conn_move(ts, NULL, two), 0);
	cr_assert_eq(sx_tenants_conn_move(ts, NULL, two), 0);
	cr_assert_eq(sx_tenants_conns(ts, two), 2);
	cr_assert_eq(sx_tenants_conn_move(ts, NULL, two), SX_EFULL, "a third connection");
	cr_assert_eq(sx_tenants_conns(ts, two), 2, "a refused move counts nothing");
	cr_assert_eq(sx_tenants_conn_move(ts, two, two), 0, "AUTH again as the same tenant");
	cr_assert_eq(sx_tenants_conns(ts, two), 2);
	cr_assert_eq(sx_tenants_conn_move(ts, fr, two), SX_EFULL);
	cr_assert_eq(sx_tenants_conns(ts, fr), 0, "a refused move keeps the old count");
	cr_assert_eq(sx_tenants_conn_move(ts, two, fr), 0, "one of two's becomes free's");
	cr_assert_eq(sx_tenants_conns(ts, two), 1);
	cr_assert_eq(sx_tenants_conns(ts, fr), 1);
	cr_assert_eq(sx_tenants_conn_move(ts, NULL, two), 0, "room again");
	cr_assert_eq(sx_tenants_conn_move(ts, two, NULL), 0, "a close");
	cr_assert_eq(sx_tenants_conn_move(ts, two, NULL), 0);
	cr_assert_eq(sx_tenants_conns(ts, two), 0);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(sx_tenants_conn_move(ts, NULL, fr), 0, "no limit of its own");
	cr_assert_eq(sx_tenants_conns(ts, fr), 1001);
	sx_tenants_free(ts);
	free(h);
}
