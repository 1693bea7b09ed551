/*
 * test_server_conc.c - many clients at once, and the limits that protect
 * the server from clients: --max-clients, the output cap (a client that
 * sends but never reads is cut off and counted), --idle-timeout.
 */
#include <pthread.h>

#include "helpers/srvtest.h"

/* 256 connections open at once, each asking, all answered. */
ST_TEST(conc, hundreds_of_concurrent_connections)
{
	st_server *s = st_start(st_snap);
	enum { N = 256 };
	st_conn *cs[N];
	for (int i = 0; i < N; i++)
		cs[i] = st_connect(i % 2 ? s->bin_port : s->resp_port);
	for (int i = 0; i < N; i++) {
		if (i % 2) {
			st_bin_hello(cs[i], 0);
		} else {
			st_cmd(cs[i], i % 4 ? "CHECK " ST_FREE_ID " air " ST_AT : "CHECK " ST_DENY_ID " air " ST_AT);
		}
	}
	for (int i = 0; i < N; i += 2) {
		char *r = st_reply(cs[i]);
		cr_assert_str_eq(r, i % 4 ? "[ALLOW, NOT_LISTED]" : "[DENY, LISTED, " ST_DENY_REC "]",
		                 "client %d", i);
		free(r);
	}
	st_conn *c = st_connect(s->resp_port);
	cr_assert_eq(st_info_num(c, "connected_clients"), N + 1);
	for (int i = 0; i < N; i++)
		st_close(cs[i]);
	for (int t = 0; t < 100 && st_info_num(c, "connected_clients") != 1; t++)
		usleep(20 * 1000);
	cr_assert_eq(st_info_num(c, "connected_clients"), 1);
	cr_assert_eq(st_info_num(c, "total_connections_received"), N + 1);
	st_close(c);
}

/* Many clients' large pipelines arriving at the same moment: more data
 * than the io_uring buffer ring holds (ENOBUFS ends multishot receives,
 * which are re-armed once buffers are back); every command is still
 * answered once, in order. */
ST_TEST(conc, a_burst_larger_than_the_receive_buffers)
{
	st_server *s = st_start(st_snap);
	enum { N = 400, CMDS = 40000 };           /* 240 KB of PINGs a client */
	st_conn **cs = calloc(N, sizeof *cs);
	size_t *sent = calloc(N, sizeof *sent), total = 0;
	char *burst = malloc(CMDS * 6);
	for (int i = 0; i < CMDS; i++)
		memcpy(burst + i * 6, "PING\r\n", 6);
	for (int i = 0; i < N; i++)
		cs[i] = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(cs[0], "PING"), "+PONG");   /* all accepted */
	/* Stopped, the server cannot read: what the socket buffers take piles
	 * up and arrives at once when it continues. */
	kill(s->pid, SIGSTOP);
	for (int i = 0; i < N; i++) {
		ssize_t w = send(cs[i]->fd, burst, CMDS * 6, MSG_DONTWAIT | MSG_NOSIGNAL);
		sent[i] = w > 0 ? (size_t)w / 6 * 6 : 0;   /* whole commands only */
		if (w > 0 && (size_t)w != sent[i])
			st_send(cs[i], burst + w, sent[i] + 6 - (size_t)w), sent[i] += 6;
	}
	kill(s->pid, SIGCONT);
	for (int i = 0; i < N; i++) {
		/* Read the replies as one block of "+PONG\r\n"s. */
		size_t want = sent[i] / 6 * 7;
		total += sent[i] / 6;
		while (cs[i]->len - cs[i]->off < want)
			cr_assert_eq(st_fill(cs[i]), 1, "client %d: %zu of %zu bytes", i,
			             cs[i]->len - cs[i]->off, want);
		for (size_t k = 0; k < want; k += 7)
			cr_assert_eq(memcmp(cs[i]->buf + cs[i]->off + k, "+PONG\r\n", 7), 0);
		cs[i]->off += want;
		cr_assert_str_eq(st_ask(cs[i], "PING"), "+PONG");
		st_close(cs[i]);
	}
	st_conn *c = st_connect(s->resp_port);
	char v[64], want[64];
	const char *info = st_ask(c, "INFO stats");
	snprintf(want, sizeof want, "calls=%zu", total + N + 1);
	cr_assert_str_eq(st_info_get(info, "cmdstat_ping", v, sizeof v), want);
	cr_log_info("%zu PINGs in the burst; the buffer ring ran dry %s times", total,
	            st_info_get(info, "io_recv_nobufs", v, sizeof v));
	st_close(c);
	free(burst);
	free(sent);
	free(cs);
}

typedef struct hammer {
	int port, id;
	long answered, errors;
} hammer;

/* A client thread: pipelined CHECKs, each answer checked. */
static void *hammer_main(void *arg)
{
	hammer *h = arg;
	st_conn *c = st_connect(h->port);
	for (int round = 0; round < 50; round++) {
		char buf[64 * 128], *p = buf;
		for (int i = 0; i < 64; i++)
			p += st_resp_encode(i % 2 ? "CHECK " ST_DENY_ID " air " ST_AT
			                          : "CHECK " ST_FREE_ID " air " ST_AT, p, 128);
		if (st_send_raw(c, buf, (size_t)(p - buf))) {
			h->errors++;
			break;
		}
		for (int i = 0; i < 64; i++) {
			char *r = st_reply(c);
			if (!r || strcmp(r, i % 2 ? "[DENY, LISTED, " ST_DENY_REC "]" : "[ALLOW, NOT_LISTED]"))
				h->errors++;
			else
				h->answered++;
			free(r);
		}
	}
	st_close(c);
	return NULL;
}

ST_TEST(conc, parallel_pipelines_across_workers)
{
	st_server *s = st_start(st_snap);
	enum { T = 16 };
	pthread_t th[T];
	hammer h[T];
	for (int i = 0; i < T; i++) {
		h[i] = (hammer){ .port = s->resp_port, .id = i };
		pthread_create(&th[i], NULL, hammer_main, &h[i]);
	}
	long answered = 0, errors = 0;
	for (int i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		answered += h[i].answered;
		errors += h[i].errors;
	}
	cr_assert_eq(errors, 0);
	cr_assert_eq(answered, T * 50 * 64);
}

ST_TEST(conc, max_clients_refuses_the_next_one)
{
	st_server *s = st_start(st_snap, "--max-clients", "3");
	st_conn *cs[3];
	for (int i = 0; i < 3; i++) {
		cs[i] = st_connect(s->resp_port);
		cr_assert_str_eq(st_ask(cs[i], "PING"), "+PONG");
	}
	st_conn *extra = st_connect(s->resp_port);
	char *r = st_reply(extra);
	cr_assert_str_eq(r, "-ERR max number of clients reached");
	free(r);
	cr_assert(st_closed_by_server(extra, 3000));
	st_close(extra);
	extra = st_connect(s->bin_port);
	st_frame f;
	cr_assert_eq(st_frame_read(extra, &f), 0);
	cr_assert_str_eq(st_bin_error_text(&f), "ERR max number of clients reached");
	st_close(extra);
	cr_assert_eq(st_info_num(cs[0], "rejected_connections"), 2);
	st_close(cs[2]);
	usleep(100 * 1000);
	extra = st_connect(s->resp_port);   /* a slot is free again */
	cr_assert_str_eq(st_ask(extra, "PING"), "+PONG");
	st_close(extra);
	st_close(cs[0]);
	st_close(cs[1]);
}

/* A client that sends and never reads is cut off once its queued replies
 * pass --max-output; others are served meanwhile. */
ST_TEST(conc, output_cap_cuts_off_a_client_that_never_reads)
{
	st_server *s = st_start(st_snap, "--max-output", "1m");
	st_conn *greedy = st_connect(s->resp_port);
	int small = 4096;
	setsockopt(greedy->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	char cmd[16384];
	int len = snprintf(cmd, sizeof cmd, "MCHECK air - " ST_AT);
	for (int i = 0; i < 200; i++)
		len += snprintf(cmd + len, sizeof cmd - (size_t)len, " " ST_DENY_ID);
	char wire[32768];
	size_t n = st_resp_encode(cmd, wire, sizeof wire);
	/* ~16 KiB of replies per 4 KiB request: 1 MiB of output needs ~64
	 * requests; send far more, never reading. */
	int sent = 0;
	for (; sent < 2000; sent++)
		if (st_send_raw(greedy, wire, n))
			break;
	st_conn *c = st_connect(s->resp_port);
	long long cut = 0;
	for (int t = 0; t < 200 && !(cut = st_info_num(c, "output_cap_disconnects")); t++)
		usleep(20 * 1000);
	cr_assert_eq(cut, 1, "not cut off after %d requests", sent);
	cr_assert(st_closed_by_server(greedy, 5000), "the greedy client is still connected");
	cr_assert_str_eq(st_ask(c, "CHECK " ST_DENY_ID " air " ST_AT), "[DENY, LISTED, " ST_DENY_REC "]");
	st_close(greedy);
	st_close(c);
}

ST_TEST(conc, idle_timeout_closes_quiet_clients)
{
	st_server *s = st_start(st_snap, "--idle-timeout", "1");
	st_conn *quiet = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(quiet, "PING"), "+PONG");
	cr_assert(st_closed_by_server(quiet, 4000), "an idle client is still connected");
	st_close(quiet);
	/* A busy one stays. */
	st_conn *busy = st_connect(s->resp_port);
	for (int i = 0; i < 25; i++) {
		cr_assert_str_eq(st_ask(busy, "PING"), "+PONG");
		usleep(100 * 1000);
	}
	cr_assert(st_info_num(busy, "idle_disconnects") >= 1);
	st_close(busy);
}
