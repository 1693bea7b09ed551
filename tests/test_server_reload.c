/*
 * test_server_reload.c - snapshot hot swap: RELOAD under load with no
 * error and no reply mixing two snapshots, SIGHUP, a damaged snapshot
 * refused while the old one keeps serving, the as-of rule and FORCE, and
 * replies after a RELOAD staying in order.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "helpers/srvtest.h"

#define HDR "case_no,court,list,role,id_type,id_no,name,status,listed_on,expires_on,restrictions,region\n"
#define X_ID "350304197806263293"
#define Y_ID "110101199405036676"
#define X_REC "（2023）闽05执1001号|泉州市中级人民法院|debtor|SX"
#define Y_REC "（2024）闽0102执2002号|福州市鼓楼区人民法院|debtor|SX"

/* A lists X only, B lists Y only: a reply about both comes wholly from one. */
#define A_ANSWER "[[DENY, LISTED, " X_REC "], [ALLOW, NOT_LISTED]]"
#define B_ANSWER "[[ALLOW, NOT_LISTED], [DENY, LISTED, " Y_REC "]]"

static char snap_a[PATH_MAX + 64], snap_b[PATH_MAX + 64];

static void build_ab(const char *as_of_a, const char *as_of_b)
{
	char la[PATH_MAX + 64], lb[PATH_MAX + 64];
	snprintf(la, sizeof la, "%s/a.csv", tu_dir);
	snprintf(lb, sizeof lb, "%s/b.csv", tu_dir);
	tu_write_str(la, HDR "（2023）闽05执1001号,泉州市中级人民法院,SX,debtor,RIC," X_ID
	             ",张某某,active,2025-01-10,,,350500\n");
	tu_write_str(lb, HDR "（2024）闽0102执2002号,福州市鼓楼区人民法院,SX,debtor,RIC," Y_ID
	             ",吴某,active,2025-01-10,,,350102\n");
	snprintf(snap_a, sizeof snap_a, "%s/a.snap", tu_dir);
	snprintf(snap_b, sizeof snap_b, "%s/b.snap", tu_dir);
	st_build(la, NULL, snap_a, as_of_a);
	st_build(lb, NULL, snap_b, as_of_b);
}

typedef struct load {
	int port, bin;
	atomic_int stop;
	long answers, errors, from_a, from_b;
	char first_error[512];
} load;

static void bad(load *l, const char *what)
{
	if (!l->errors++)
		snprintf(l->first_error, sizeof l->first_error, "%s", what);
}

/* RESP: pipelines of MCHECK X Y, every reply wholly A's or B's. */
static void *resp_load(void *arg)
{
	load *l = arg;
	st_conn *c = st_connect(l->port);
	char one[256], buf[32 * 256];
	size_t n1 = st_resp_encode("MCHECK air - AT 2026-01-10 " X_ID " " Y_ID, one, sizeof one);
	for (int i = 0; i < 32; i++)
		memcpy(buf + i * n1, one, n1);
	while (!atomic_load(&l->stop)) {
		if (st_send_raw(c, buf, 32 * n1)) {
			bad(l, "send failed");
			break;
		}
		for (int i = 0; i < 32; i++) {
			char *r = st_reply(c);
			if (r && !strcmp(r, A_ANSWER))
				l->from_a++;
			else if (r && !strcmp(r, B_ANSWER))
				l->from_b++;
			else
				bad(l, r ? r : "connection closed");
			l->answers++;
			free(r);
		}
	}
	st_close(c);
	return NULL;
}

/* Binary: CHECK frames of X and Y, same rule. */
static void *bin_load(void *arg)
{
	load *l = arg;
	st_conn *c = st_connect(l->port);
	st_bin_hello(c, 0);
	st_out *o = calloc(1, sizeof *o);
	const char *ids[] = { X_ID, Y_ID };
	uint32_t req = 100;
	while (!atomic_load(&l->stop)) {
		o->n = 0;
		for (int i = 0; i < 32; i++)
			st_bin_query(o, SXB_OP_CHECK, req + (uint32_t)i, "air", "", "", "2026-01-10", ids, 2);
		if (st_send_raw(c, o->b, o->n)) {
			bad(l, "send failed");
			break;
		}
		for (int i = 0; i < 32; i++) {
			st_frame f;
			if (st_frame_read(c, &f) || f.op != SXB_OP_CHECK_REPLY || f.req != req + (uint32_t)i) {
				bad(l, "bad binary reply");
				l->answers++;
				continue;
			}
			char *t = st_bin_check_text(&f);
			if (!strcmp(t, "[DENY, LISTED, " X_REC "] ; [ALLOW, NOT_LISTED]"))
				l->from_a++;
			else if (!strcmp(t, "[ALLOW, NOT_LISTED] ; [DENY, LISTED, " Y_REC "]"))
				l->from_b++;
			else
				bad(l, t);
			l->answers++;
			free(t);
		}
		req += 32;
	}
	free(o);
	st_close(c);
	return NULL;
}

ST_TEST(reload, twenty_reloads_under_load_without_an_error)
{
	build_ab(NULL, NULL);
	st_server *s = st_start(snap_a);
	enum { T = 4 };
	load l[T];
	pthread_t th[T];
	for (int i = 0; i < T; i++) {
		memset(&l[i], 0, sizeof l[i]);
		l[i].bin = i % 2;
		l[i].port = l[i].bin ? s->bin_port : s->resp_port;
		pthread_create(&th[i], NULL, l[i].bin ? bin_load : resp_load, &l[i]);
	}
	st_conn *admin = st_connect(s->resp_port);
	usleep(50 * 1000);
	for (int i = 1; i <= 20; i++) {
		char cmd[PATH_MAX + 80], want[32];
		snprintf(cmd, sizeof cmd, "RELOAD %s", i % 2 ? snap_b : snap_a);
		snprintf(want, sizeof want, "+OK %d", i + 1);
		cr_assert_str_eq(st_ask(admin, cmd), want, "reload %d", i);
		usleep(20 * 1000);
	}
	for (int i = 0; i < T; i++)
		atomic_store(&l[i].stop, 1);
	long answers = 0, from_a = 0, from_b = 0;
	for (int i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(l[i].errors, 0, "%s client: %ld errors, first: %s",
		             l[i].bin ? "binary" : "RESP", l[i].errors, l[i].first_error);
		answers += l[i].answers;
		from_a += l[i].from_a;
		from_b += l[i].from_b;
	}
	cr_assert(answers > 1000, "only %ld answers under load", answers);
	cr_assert(from_a > 0 && from_b > 0, "answers came from A %ld and B %ld times", from_a, from_b);
	char v[PATH_MAX];
	const char *info = st_ask(admin, "INFO snapshot");
	cr_assert_str_eq(st_info_get(info, "snapshot_generation", v, sizeof v), "21");
	cr_assert_str_eq(st_info_get(info, "snapshot_path", v, sizeof v), snap_a);
	cr_assert_str_eq(st_info_get(info, "reloads_ok", v, sizeof v), "20");
	st_close(admin);
}

ST_TEST(reload, sighup_reloads_the_configured_snapshot)
{
	build_ab(NULL, NULL);
	st_server *s = st_start(snap_a);
	st_conn *c = st_connect(s->resp_port);
	cr_assert_str_eq(st_ask(c, "MCHECK air - AT 2026-01-10 " X_ID " " Y_ID), A_ANSWER);
	/* Replace the file the server was started with (as a rebuild would:
	 * a new file renamed over the old name), then SIGHUP. */
	char tmp[PATH_MAX + 80];
	snprintf(tmp, sizeof tmp, "%s.new", snap_a);
	size_t n;
	char *bytes = tu_read(snap_b, &n);
	tu_write(tmp, bytes, n);
	free(bytes);
	cr_assert_eq(rename(tmp, snap_a), 0);
	kill(s->pid, SIGHUP);
	long long gen = 1;
	for (int t = 0; t < 200 && (gen = st_info_num(c, "snapshot_generation")) == 1; t++)
		usleep(10 * 1000);
	cr_assert_eq(gen, 2);
	cr_assert_str_eq(st_ask(c, "MCHECK air - AT 2026-01-10 " X_ID " " Y_ID), B_ANSWER);
	cr_assert(st_log_wait(s, "SIGHUP: reloading", 1000));
	cr_assert(st_log_wait(s, "generation 2", 1000));
	st_close(c);
}

ST_TEST(reload, damaged_snapshot_is_refused_and_the_old_keeps_serving)
{
	build_ab(NULL, NULL);
	st_server *s = st_start(snap_a);
	st_conn *c = st_connect(s->resp_port);
	size_t n;
	char *bytes = tu_read(snap_b, &n);
	char bad_path[PATH_MAX + 80], short_path[PATH_MAX + 80], cmd[PATH_MAX + 100];
	snprintf(bad_path, sizeof bad_path, "%s/flipped.snap", tu_dir);
	snprintf(short_path, sizeof short_path, "%s/short.snap", tu_dir);
	bytes[n / 2] ^= 0x40;
	tu_write(bad_path, bytes, n);
	bytes[n / 2] ^= 0x40;
	tu_write(short_path, bytes, n / 3);
	free(bytes);

	const char *paths[] = { bad_path, short_path, "/nonexistent/x.snap", snap_a };
	for (int i = 0; i < 3; i++) {
		snprintf(cmd, sizeof cmd, "RELOAD %s", paths[i]);
		const char *r = st_ask(c, cmd);
		/* the reply names the file, once */
		const char *at = strstr(r, paths[i]);
		cr_assert(!strncmp(r, "-ERR reload failed: ", 20), "%s: %s", cmd, r);
		cr_assert(at && !strstr(at + 1, paths[i]), "%s: %s", cmd, r);
		cr_assert_str_eq(st_ask(c, "MCHECK air - AT 2026-01-10 " X_ID " " Y_ID), A_ANSWER);
		char v[1024];
		const char *info = st_ask(c, "INFO snapshot");
		cr_assert_str_eq(st_info_get(info, "snapshot_generation", v, sizeof v), "1");
		st_info_get(info, "last_reload_error", v, sizeof v);
		cr_assert(!strncmp(v, "reload failed: ", 15), "last_reload_error: %s", v);
		cr_assert(strstr(v, paths[i]), "last_reload_error: %s", v);
	}
	cr_assert(st_log_wait(s, "generation 1 keeps serving", 1000));
	cr_assert_str_eq(st_ask(c, "RELOAD FORCE"), "+OK 2");
	char v[64];
	cr_assert_str_eq(st_info_get(st_ask(c, "INFO"), "last_reload_error", v, sizeof v), "none");
	cr_assert_str_eq(st_ask(c, "RELOAD a b c"), "-ERR syntax error");
	cr_assert_str_eq(st_ask(c, "RELOAD a NOTFORCE"), "-ERR syntax error");
	st_close(c);
}

ST_TEST(reload, an_older_as_of_needs_force)
{
	build_ab("2026-01-10T02:00:00+08:00", "2026-01-09");
	st_server *s = st_start(snap_a);
	st_conn *c = st_connect(s->resp_port);
	char cmd[PATH_MAX + 100];
	snprintf(cmd, sizeof cmd, "RELOAD %s", snap_b);
	const char *r = st_ask(c, cmd);
	cr_assert(!strncmp(r, "-ERR reload refused: ", 21), "%s", r);
	cr_assert(strstr(r, "older"), "%s", r);
	cr_assert_str_eq(st_ask(c, "MCHECK air - AT 2026-01-10 " X_ID " " Y_ID), A_ANSWER);
	char v[1024];
	cr_assert(strstr(st_info_get(st_ask(c, "INFO"), "last_reload_error", v, sizeof v), "older"));
	snprintf(cmd, sizeof cmd, "reload %s force", snap_b);
	cr_assert_str_eq(st_ask(c, cmd), "+OK 2");
	cr_assert_str_eq(st_ask(c, "MCHECK air - AT 2026-01-10 " X_ID " " Y_ID), B_ANSWER);
	/* The configured file is newer again: no FORCE needed. */
	cr_assert_str_eq(st_ask(c, "RELOAD"), "+OK 3");
	cr_assert_str_eq(st_ask(c, "MCHECK air - AT 2026-01-10 " X_ID " " Y_ID), A_ANSWER);
	st_close(c);
}

/* A RELOAD in the middle of a pipeline: the replies keep their order. */
ST_TEST(reload, pipeline_through_a_reload_stays_in_order)
{
	build_ab(NULL, NULL);
	st_server *s = st_start(snap_a);
	st_conn *c = st_connect(s->resp_port);
	char buf[8192];
	int n = snprintf(buf, sizeof buf,
	                 "PING\r\nRELOAD %s\r\nMCHECK air - AT 2026-01-10 " X_ID " " Y_ID "\r\n"
	                 "PING\r\nRELOAD\r\nMCHECK air - AT 2026-01-10 " X_ID " " Y_ID "\r\nQUIT\r\n",
	                 snap_b);
	st_send(c, buf, (size_t)n);
	const char *want[] = { "+PONG", "+OK 2", B_ANSWER, "+PONG", "+OK 3", A_ANSWER, "+OK" };
	for (int i = 0; i < 7; i++) {
		char *r = st_reply(c);
		cr_assert_not_null(r, "reply %d missing", i);
		cr_assert_str_eq(r, want[i], "reply %d", i);
		free(r);
	}
	cr_assert(st_closed_by_server(c, 3000));
	st_close(c);

	/* The client half-closes right after its requests (as `nc` does when
	 * its input ends): everything before the EOF is still answered, the
	 * requests held behind a RELOAD included. */
	c = st_connect(s->resp_port);
	st_send_str(c, "RELOAD\r\nPING\r\nLISTED " X_ID "\r\n");
	shutdown(c->fd, SHUT_WR);
	const char *want2[] = { "+OK 4", "+PONG", ":1" };
	for (int i = 0; i < 3; i++) {
		char *r = st_reply(c);
		cr_assert_not_null(r, "reply %d after EOF missing", i);
		cr_assert_str_eq(r, want2[i], "reply %d", i);
		free(r);
	}
	cr_assert(st_closed_by_server(c, 3000));
	st_close(c);
}

/* A snapshot of format version 1 (before the joint-punishment measures)
 * is refused on RELOAD with a word to rebuild, the old one keeps serving,
 * and sxgated will not start on one. */
ST_TEST(reload, a_format_1_snapshot_is_refused_with_a_word_to_rebuild)
{
	char v1[PATH_MAX + 64], cmd[PATH_MAX + 100];
	cr_assert_not_null(tu_data_path("sample-v1.snap", v1, sizeof v1));
	build_ab(NULL, NULL);
	st_server *s = st_start(snap_a);
	st_conn *c = st_connect(s->resp_port);
	snprintf(cmd, sizeof cmd, "RELOAD %s FORCE", v1);
	const char *r = st_ask(c, cmd);
	cr_assert(!strncmp(r, "-ERR reload failed: ", 20), "%s", r);
	cr_assert(strstr(r, "snapshot format version 1 predates the joint-punishment "
	                 "measures") && strstr(r, "rebuild it with sxgate-build"), "%s", r);
	cr_assert_str_eq(st_ask(c, "MCHECK air - AT 2026-01-10 " X_ID " " Y_ID), A_ANSWER);
	st_close(c);

	st_server *old = st_start_args(v1, 1, NULL);
	cr_assert(old->reaped && WIFEXITED(old->status) && WEXITSTATUS(old->status) != 0,
	          "sxgated started on a format 1 snapshot");
	char *log = st_log_text(old);
	cr_assert(strstr(log, "rebuild it with sxgate-build"), "%s", log);
	free(log);
}
