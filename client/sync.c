/*
 * sync.c - the synchronous helpers of libsxgate (sx_client_check, _mcheck,
 * _listed, _exec, _info, _reload, _ping, _auth): one request, wait for its
 * reply, return owned C strings.
 *
 * Each helper speaks whichever protocol the connection has: a binary
 * CHECK/LISTED frame, or the RESP command (administrative commands go as
 * EXEC frames on the binary port, so their replies are RESP either way).
 * Results are copied out of the receive buffer into one allocation per
 * result (pointers, records and error text together), so a result outlives
 * the next request and is freed with one call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sxclient_int.h"

/* Flush and wait for the reply to request cli->seq, which must be of op
 * `want`; an ERROR frame becomes SX_CLIENT_ESERVER. */
static int bin_wait(sx_client *cli, unsigned want, sx_client_reply *rep)
{
	int rc = sxc_flush(cli, 1);
	if (rc)
		return rc;
	rc = sxc_rx_next(cli, 1, 0, rep);
	if (rc)
		return rc;
	if (rep->op == SXB_OP_ERROR && (rep->req_id == cli->seq || rep->req_id == 0))
		return sxc_fail(cli, SX_CLIENT_ESERVER, "%.*s", (int)rep->errlen, rep->err);
	if (rep->req_id != cli->seq)
		return sxc_fatal(cli, SX_CLIENT_EPROTO, "reply to request %u while waiting for %u",
		             rep->req_id, cli->seq);
	if (rep->op != want)
		return sxc_fatal(cli, SX_CLIENT_EPROTO, "reply op 0x%02x to a request expecting 0x%02x",
		             rep->op, want);
	return 0;
}

/* Send a command and receive its RESP reply (a view).  Binary: as EXEC. */
static int command(sx_client *cli, int argc, const char *const *argv,
                   const size_t *lens, sx_client_resp *v)
{
	int rc;
	if (cli->proto == SX_CLIENT_RESP) {
		if ((rc = sx_client_send_resp(cli, argc, argv, lens)) ||
		    (rc = sxc_flush(cli, 1)))
			return rc;
		return sxc_rx_next(cli, 1, 1, v);
	}
	sx_client_reply rep;
	if ((rc = sx_client_send_exec(cli, ++cli->seq, argc, argv, lens)) ||
	    (rc = bin_wait(cli, SXB_OP_EXEC_REPLY, &rep)))
		return rc;
	size_t u;
	return sx_client_resp_parse((const char *)rep.body, rep.len, v, &u, NULL);
}

/* A RESP error reply as SX_CLIENT_ESERVER with its text. */
static int resp_err(sx_client *cli, const sx_client_resp *v)
{
	return sxc_fail(cli, SX_CLIENT_ESERVER, "%.*s", (int)v->len, v->str);
}

/* command() for a reply that is not an error: an error reply becomes
 * SX_CLIENT_ESERVER with its text. */
static int command_ok(sx_client *cli, int argc, const char *const *argv,
                      sx_client_resp *v)
{
	int rc = command(cli, argc, argv, NULL, v);
	if (rc)
		return rc;
	if (v->type == '-')
		return resp_err(cli, v);
	return 0;
}

static int resp_unexpected(sx_client *cli, const sx_client_resp *v,
                           const char *what)
{
	return sxc_fatal(cli, SX_CLIENT_EPROTO, "unexpected reply to %s: %.*s", what,
	             (int)(v->rawlen > 80 ? 80 : v->rawlen), v->raw);
}

/* A command whose only good reply is the status or string `want`: 0,
 * SX_CLIENT_ESERVER for an error reply, SX_CLIENT_EPROTO for anything
 * else (named after argv[0]). */
static int command_expect(sx_client *cli, int argc, const char *const *argv,
                          const char *want)
{
	sx_client_resp v;
	int rc = command_ok(cli, argc, argv, &v);
	if (rc)
		return rc;
	if (!sx_client_resp_is(&v, want))
		return resp_unexpected(cli, &v, argv[0]);
	return 0;
}

static const char *const decision_names[3] = {
	[SXB_ALLOW] = "ALLOW", [SXB_DENY] = "DENY", [SXB_REVIEW] = "REVIEW"
};
static const char *const reason_names[SXB_NREASONS] = {
#define X(e, code, d, r) r,
	SXB_REASONS(X)
#undef X
};
static const char *const reason_decisions[SXB_NREASONS] = {
#define X(e, code, d, r) d,
	SXB_REASONS(X)
#undef X
};

void sx_client_result_free(sx_client_result *r)
{
	if (!r)
		return;
	free(r->mem_);
	memset(r, 0, sizeof *r);
}

/* One allocation for the record pointers, the records and the error. */
static int result_alloc(sx_client_result *r, size_t nrec, size_t bytes)
{
	if (nrec == 0 && bytes == 0)
		return 0;
	void *m = malloc(nrec * sizeof(char *) + bytes);
	if (!m)
		return -ENOMEM;
	r->mem_ = m;
	r->rec = nrec ? m : NULL;
	return 0;
}

static char *result_strings(sx_client_result *r)
{
	return (char *)r->mem_ + r->nrec * sizeof(char *);
}

static int result_error(sx_client_result *r, const char *s, size_t n)
{
	memset(r, 0, sizeof *r);
	r->reason_code = -1;
	if (result_alloc(r, 0, n + 1))
		return -ENOMEM;
	r->error = r->mem_;
	memcpy(r->error, s, n);
	r->error[n] = 0;
	return 0;
}

static int result_from_item(sx_client_result *r, const sx_client_item *it)
{
	if (it->kind == SXB_KIND_ERROR)
		return result_error(r, (const char *)it->data, it->n);
	memset(r, 0, sizeof *r);
	r->ok = 1;
	r->decision = decision_names[it->decision];
	r->reason = reason_names[it->reason];
	r->reason_code = it->reason;
	r->nrec = it->n;
	size_t pos = 0, bytes = 0, n;
	const char *s;
	while (sx_client_record_next(it, &pos, &s, &n))
		bytes += n + 1;
	if (result_alloc(r, r->nrec, bytes))
		return -ENOMEM;
	char *p = result_strings(r);
	size_t i = 0;
	pos = 0;
	while (sx_client_record_next(it, &pos, &s, &n)) {
		r->rec[i++] = p;
		memcpy(p, s, n);
		p[n] = 0;
		p += n + 1;
	}
	return 0;
}

/* A CHECK reply array (decision, reason, records...) into *r. */
static int result_from_resp(sx_client *cli, sx_client_result *r,
                            const sx_client_resp *v)
{
	memset(r, 0, sizeof *r);
	if (v->type != '*' || v->nil || v->num < 2)
		return resp_unexpected(cli, v, "CHECK");
	size_t pos = 0;
	sx_client_resp d, e;
	sx_client_resp_next(v, &pos, &d);
	sx_client_resp_next(v, &pos, &e);
	int reason = -1, decision = -1;
	for (int i = 0; i < SXB_NREASONS; i++)
		if (sx_client_resp_is(&e, reason_names[i]))
			reason = i;
	for (int i = 0; i < 3; i++)
		if (sx_client_resp_is(&d, decision_names[i]))
			decision = i;
	/* LISTED comes with DENY or REVIEW, every other reason with ALLOW */
	if (reason < 0 || decision < 0 ||
	    (reason == SXB_R_LISTED ? decision == SXB_ALLOW :
	     !sx_client_resp_is(&d, reason_decisions[reason])))
		return resp_unexpected(cli, v, "CHECK");
	size_t p0 = pos, bytes = 0;
	while (sx_client_resp_next(v, &pos, &e)) {
		if (e.type != '$' || e.nil)
			return resp_unexpected(cli, v, "CHECK");
		bytes += e.len + 1;
	}
	r->nrec = (size_t)v->num - 2;
	if (result_alloc(r, r->nrec, bytes)) {
		r->nrec = 0;
		return -ENOMEM;
	}
	r->ok = 1;
	r->reason_code = reason;
	r->reason = reason_names[reason];
	r->decision = decision_names[decision];
	char *p = result_strings(r);
	size_t i = 0;
	pos = p0;
	while (sx_client_resp_next(v, &pos, &e)) {
		r->rec[i++] = p;
		memcpy(p, e.str, e.len);
		p[e.len] = 0;
		p += e.len + 1;
	}
	return 0;
}

static int check_sizes(sx_client *cli, const char *const *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] && strlen(s[i]) > SXB_MAX_CTX)
			return sxc_fail(cli, SX_EINVAL, "argument of %zu bytes", strlen(s[i]));
	return 0;
}

/* "TYPE t" and "AT d" words of a RESP query, appended to argv. */
static int opt_words(const char **argv, int argc, const char *type,
                     const char *at)
{
	if (type && *type) {
		argv[argc++] = "TYPE";
		argv[argc++] = type;
	}
	if (at && *at) {
		argv[argc++] = "AT";
		argv[argc++] = at;
	}
	return argc;
}

int sx_client_check(sx_client *cli, const char *id, const char *channel,
                    const char *cls, const char *type, const char *at,
                    sx_client_result *r)
{
	memset(r, 0, sizeof *r);
	const char *words[] = { id, channel, cls, type, at };
	int rc = check_sizes(cli, words, 5);
	if (rc)
		return rc;
	if (cli->proto == SX_CLIENT_BINARY) {
		sx_client_ctx ctx = { channel, cls, type, at };
		sx_client_reply rep;
		sx_client_item it;
		size_t pos = 0;
		if ((rc = sx_client_send_check_batch(cli, ++cli->seq, &ctx, &id, NULL, 1)) ||
		    (rc = bin_wait(cli, SXB_OP_CHECK_REPLY, &rep)))
			return rc;
		if (rep.count != 1 || !sx_client_item_next(&rep, &pos, &it))
			return sxc_fatal(cli, SX_CLIENT_EPROTO, "CHECK reply with %u items for 1 ID",
			             rep.count);
		if (it.kind == SXB_KIND_ERROR)
			return sxc_fail(cli, SX_CLIENT_ESERVER, "%.*s", (int)it.n,
			            (const char *)it.data);
		return result_from_item(r, &it);
	}
	const char *argv[10];
	int argc = 0;
	argv[argc++] = "CHECK";
	argv[argc++] = id;
	argv[argc++] = channel;
	if (cls && *cls)
		argv[argc++] = cls;
	argc = opt_words(argv, argc, type, at);
	sx_client_resp v;
	if ((rc = command_ok(cli, argc, argv, &v)))
		return rc;
	return result_from_resp(cli, r, &v);
}

static void results_free(sx_client_result *rs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sx_client_result_free(&rs[i]);
}

int sx_client_mcheck(sx_client *cli, const char *channel, const char *cls,
                     const char *type, const char *at,
                     const char *const *ids, size_t n,
                     sx_client_result *results)
{
	memset(results, 0, n * sizeof *results);
	if (n == 0)
		return sxc_fail(cli, SX_EINVAL, "MCHECK of no IDs");
	const char *words[] = { channel, cls, type, at };
	int rc = check_sizes(cli, words, 4);
	if (rc)
		return rc;
	if (cls && strcmp(cls, "-") == 0)
		cls = NULL;
	if (cli->proto == SX_CLIENT_BINARY) {
		sx_client_ctx ctx = { channel, cls, type, at };
		size_t done = 0;
		while (done < n) {
			size_t k = n - done;
			if (k > cli->max_batch)
				k = cli->max_batch;
			sx_client_reply rep;
			sx_client_item it;
			size_t pos = 0, i = 0;
			if ((rc = sx_client_send_check_batch(cli, ++cli->seq, &ctx,
			                                      ids + done, NULL, k)) ||
			    (rc = bin_wait(cli, SXB_OP_CHECK_REPLY, &rep)))
				goto fail;
			if (rep.count != k) {
				rc = sxc_fatal(cli, SX_CLIENT_EPROTO,
				           "CHECK reply with %u items for %zu IDs",
				           rep.count, k);
				goto fail;
			}
			while (sx_client_item_next(&rep, &pos, &it))
				if ((rc = result_from_item(&results[done + i++], &it)))
					goto fail;
			done += k;
		}
		return 0;
	}
	if (n > 65536)
		return sxc_fail(cli, SX_EINVAL, "MCHECK of %zu IDs over RESP (65536 allowed)", n);
	const char **argv = malloc((n + 8) * sizeof *argv);
	if (!argv)
		return sxc_fail(cli, -ENOMEM, "out of memory");
	int argc = 0;
	argv[argc++] = "MCHECK";
	argv[argc++] = channel;
	argv[argc++] = cls && *cls ? cls : "-";
	argc = opt_words(argv, argc, type, at);
	for (size_t i = 0; i < n; i++)
		argv[argc++] = ids[i];
	sx_client_resp v, e;
	rc = command_ok(cli, argc, argv, &v);
	free(argv);
	if (rc)
		return rc;
	if (v.type != '*' || v.nil || (size_t)v.num != n)
		return resp_unexpected(cli, &v, "MCHECK");
	size_t pos = 0, i = 0;
	while (sx_client_resp_next(&v, &pos, &e)) {
		if (e.type == '-')
			rc = result_error(&results[i], e.str, e.len) ? -ENOMEM : 0;
		else
			rc = result_from_resp(cli, &results[i], &e);
		if (rc)
			goto fail;
		i++;
	}
	return 0;
fail:
	results_free(results, n);
	if (rc == -ENOMEM)
		sxc_fail(cli, rc, "out of memory");
	return rc;
}

int sx_client_listed(sx_client *cli, const char *id, const char *type,
                     const char *at, int *listed)
{
	const char *words[] = { id, type, at };
	int rc = check_sizes(cli, words, 3);
	if (rc)
		return rc;
	if (cli->proto == SX_CLIENT_BINARY) {
		sx_client_ctx ctx = { NULL, NULL, type, at };
		sx_client_reply rep;
		size_t pos = 0, errlen;
		const char *err;
		if ((rc = sx_client_send_listed_batch(cli, ++cli->seq, &ctx, &id, NULL, 1)) ||
		    (rc = bin_wait(cli, SXB_OP_LISTED_REPLY, &rep)))
			return rc;
		if (rep.count != 1 || !sx_client_listed_next(&rep, &pos, listed, &err, &errlen))
			return sxc_fatal(cli, SX_CLIENT_EPROTO, "LISTED reply with %u items for 1 ID",
			             rep.count);
		if (*listed == SXB_LISTED_ERROR)
			return sxc_fail(cli, SX_CLIENT_ESERVER, "%.*s", (int)errlen, err);
		return 0;
	}
	const char *argv[6];
	int argc = 0;
	argv[argc++] = "LISTED";
	argv[argc++] = id;
	argc = opt_words(argv, argc, type, at);
	sx_client_resp v;
	if ((rc = command_ok(cli, argc, argv, &v)))
		return rc;
	if (v.type != ':' || (v.num != 0 && v.num != 1))
		return resp_unexpected(cli, &v, "LISTED");
	*listed = (int)v.num;
	return 0;
}

int sx_client_exec(sx_client *cli, int argc, const char *const *argv,
                   const size_t *lens, char *buf, size_t cap, size_t *len)
{
	sx_client_resp v;
	int rc = command(cli, argc, argv, lens, &v);
	if (rc)
		return rc;
	*len = v.rawlen;
	if (v.rawlen > cap)
		return sxc_fail(cli, SX_EFULL, "reply of %zu bytes does not fit in %zu",
		            v.rawlen, cap);
	memcpy(buf, v.raw, v.rawlen);
	return 0;
}

int sx_client_info(sx_client *cli, const char *section, char **text)
{
	*text = NULL;
	const char *argv[2] = { "INFO", section };
	sx_client_resp v;
	int rc = command_ok(cli, section ? 2 : 1, argv, &v);
	if (rc)
		return rc;
	if (v.type != '$' || v.nil)
		return resp_unexpected(cli, &v, "INFO");
	char *t = malloc(v.len + 1);
	if (!t)
		return sxc_fail(cli, -ENOMEM, "out of memory");
	memcpy(t, v.str, v.len);
	t[v.len] = 0;
	*text = t;
	return 0;
}

int sx_client_reload(sx_client *cli, const char *path, int force,
                     uint64_t *generation)
{
	const char *argv[3];
	int argc = 0;
	argv[argc++] = "RELOAD";
	if (path)
		argv[argc++] = path;
	if (force)
		argv[argc++] = "FORCE";
	sx_client_resp v;
	int rc = command_ok(cli, argc, argv, &v);
	if (rc)
		return rc;
	if (v.type != '+' || v.len < 2 || memcmp(v.str, "OK", 2) != 0)
		return resp_unexpected(cli, &v, "RELOAD");
	int64_t g = 0;
	if (v.len > 3 && v.str[2] == ' ' && sxc_parse_i64(v.str + 3, v.len - 3, &g) == 0 &&
	    g >= 0)
		*generation = (uint64_t)g;
	else if (v.len == 2)
		*generation = 0;
	else
		return resp_unexpected(cli, &v, "RELOAD");
	return 0;
}

int sx_client_ping(sx_client *cli)
{
	static const char payload[] = "sxgate-ping";
	int rc;
	if (cli->proto == SX_CLIENT_BINARY) {
		if ((rc = sxc_tx_reserve(cli, SXB_HEADER + sizeof payload)))
			return rc;
		size_t start = cli->txlen;
		sxc_frame_begin(cli, SXB_OP_PING, 0, ++cli->seq);
		sxc_put_bytes(cli, payload, sizeof payload - 1);
		sxc_frame_end(cli, start);
		sx_client_reply rep;
		if ((rc = bin_wait(cli, SXB_OP_PING_REPLY, &rep)))
			return rc;
		if (rep.len != sizeof payload - 1 || memcmp(rep.body, payload, rep.len))
			return sxc_fatal(cli, SX_CLIENT_EPROTO, "PONG does not echo the PING payload");
		return 0;
	}
	const char *argv[1] = { "PING" };
	return command_expect(cli, 1, argv, "PONG");
}

int sx_client_auth(sx_client *cli, const char *tenant, const char *secret)
{
	size_t tl = strlen(tenant), sl = strlen(secret);
	int rc;
	if (tl > 255 || sl > 255)
		return sxc_fail(cli, SX_EINVAL, "tenant or secret longer than 255 bytes");
	if (cli->proto == SX_CLIENT_BINARY) {
		if ((rc = sxc_tx_reserve(cli, SXB_HEADER + 2 + tl + sl)))
			return rc;
		size_t start = cli->txlen;
		sxc_frame_begin(cli, SXB_OP_AUTH, 0, ++cli->seq);
		sxc_put_str8(cli, tenant, tl);
		sxc_put_str8(cli, secret, sl);
		sxc_frame_end(cli, start);
		sx_client_reply rep;
		return bin_wait(cli, SXB_OP_AUTH_REPLY, &rep);
	}
	const char *argv[3] = { "AUTH", tenant, secret };
	return command_expect(cli, 3, argv, "OK");
}
