/*
 * tlsctx.c - the server's TLS context: certificate, key, CA and ciphers
 * loaded from their files, reloaded on rotation (see tls.h).
 *
 * The context is shared by all workers and swapped under a mutex on
 * rotation; SSL_new takes its own reference, so the old context lives as
 * long as a connection made with it.  This file knows files and OpenSSL
 * settings, not connections: the reload service (reload.c) and the
 * transport (tls.c) both use it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sx.h"
#include "tls.h"
#include "wio.h"

struct sx_tls_server {
	sx_tls_conf conf;
	pthread_mutex_t lock;        /* guards ctx against a swap */
	SSL_CTX *ctx;
};

const char *sx_tls_why(char *buf, size_t cap)
{
	unsigned long e = ERR_peek_last_error();
	if (!e) {
		snprintf(buf, cap, "%s", "unknown error");
		return buf;
	}
	ERR_error_string_n(e, buf, cap);
	ERR_clear_error();
	return buf;
}

SSL *sx_tls_server_ssl(sx_tls_server *ts)
{
	pthread_mutex_lock(&ts->lock);
	SSL *ssl = SSL_new(ts->ctx);
	pthread_mutex_unlock(&ts->lock);
	return ssl;
}

static SSL_CTX *ctx_build(const sx_tls_conf *c, char *why, size_t cap)
{
	char e[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(why, cap, "TLS: %s", sx_tls_why(e, sizeof e));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* Tickets let clients resume (and carry the ACK of their Finished);
	 * with client certificates asked for, OpenSSL refuses to resume a
	 * session that names no context ("session id context uninitialized"). */
	static const unsigned char sid_ctx[] = "sxgated";
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
	if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1) {
		snprintf(why, cap, "--tls-cert %s: %s", c->cert, sx_tls_why(e, sizeof e));
		goto fail;
	}
	if (sx_file_private(c->key, "--tls-key", why, cap))
		goto fail;                   /* readable by others: refused, as ssh does */
	if (SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			snprintf(why, cap, "--tls-key %s does not belong to --tls-cert %s (its "
			         "public key differs)", c->key, c->cert);
		} else {
			snprintf(why, cap, "--tls-key %s: %s", c->key, sx_tls_why(e, sizeof e));
		}
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(why, cap, "--tls-key %s does not belong to --tls-cert %s: %s",
		         c->key, c->cert, sx_tls_why(e, sizeof e));
		goto fail;
	}
	if (c->ciphers && SSL_CTX_set_cipher_list(ctx, c->ciphers) != 1) {
		snprintf(why, cap, "--tls-ciphers '%s': %s", c->ciphers, sx_tls_why(e, sizeof e));
		goto fail;
	}
	if (c->ciphersuites && SSL_CTX_set_ciphersuites(ctx, c->ciphersuites) != 1) {
		snprintf(why, cap, "--tls-ciphersuites '%s': %s", c->ciphersuites,
		         sx_tls_why(e, sizeof e));
		goto fail;
	}
	if (c->ca && SSL_CTX_load_verify_locations(ctx, c->ca, NULL) != 1) {
		snprintf(why, cap, "--tls-ca %s: %s", c->ca, sx_tls_why(e, sizeof e));
		goto fail;
	}
	if (c->client_auth != SX_TLS_CLIENT_NONE) {
		if (!c->ca) {
			snprintf(why, cap, "--tls-client-auth %s needs --tls-ca FILE: the CAs "
			         "client certificates must chain to",
			         c->client_auth == SX_TLS_CLIENT_REQUIRED ? "required" : "optional");
			goto fail;
		}
		int mode = SSL_VERIFY_PEER;
		if (c->client_auth == SX_TLS_CLIENT_REQUIRED)
			mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
		SSL_CTX_set_verify(ctx, mode, NULL);
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(c->ca);
		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int sx_tls_server_new(const sx_tls_conf *conf, sx_tls_server **out, char *why, size_t cap)
{
	if (!conf->cert || !conf->key) {
		snprintf(why, cap, "TLS needs --tls-cert FILE and --tls-key FILE");
		return SX_EINVAL;
	}
	SSL_CTX *ctx = ctx_build(conf, why, cap);
	if (!ctx)
		return SX_EINVAL;
	sx_tls_server *ts = calloc(1, sizeof *ts);
	if (!ts) {
		SSL_CTX_free(ctx);
		snprintf(why, cap, "out of memory");
		return -ENOMEM;
	}
	ts->conf = *conf;
	ts->ctx = ctx;
	pthread_mutex_init(&ts->lock, NULL);
	*out = ts;
	return 0;
}

int sx_tls_server_reload(sx_tls_server *ts, char *why, size_t cap)
{
	SSL_CTX *ctx = ctx_build(&ts->conf, why, cap);
	if (!ctx)
		return SX_EINVAL;
	pthread_mutex_lock(&ts->lock);
	SSL_CTX *old = ts->ctx;
	ts->ctx = ctx;
	pthread_mutex_unlock(&ts->lock);
	SSL_CTX_free(old);           /* open connections hold their own reference */
	return 0;
}

void sx_tls_server_free(sx_tls_server *ts)
{
	if (!ts)
		return;
	SSL_CTX_free(ts->ctx);
	pthread_mutex_destroy(&ts->lock);
	free(ts);
}

void sx_tls_server_describe(sx_tls_server *ts, char *buf, size_t cap)
{
	pthread_mutex_lock(&ts->lock);
	X509 *x = SSL_CTX_get0_certificate(ts->ctx);
	char subj[256] = "?", when[32] = "?", fp[3 * 32 + 1] = "";
	if (x) {
		X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof subj);
		const ASN1_TIME *na = X509_get0_notAfter(x);
		struct tm tm;
		if (na && ASN1_TIME_to_tm(na, &tm))
			strftime(when, sizeof when, "%Y-%m-%d", &tm);
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int n = 0;
		if (X509_digest(x, EVP_sha256(), md, &n))
			for (unsigned i = 0; i < n; i++)
				snprintf(fp + 3 * i, sizeof fp - 3 * i, "%02X%s", md[i],
				         i + 1 < n ? ":" : "");
	}
	pthread_mutex_unlock(&ts->lock);
	snprintf(buf, cap, "%s, expires %s, SHA-256 %s", subj, when, fp);
}

