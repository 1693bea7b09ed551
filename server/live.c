/*
 * live.c - live updates, the journal, the feedback log and the stream
 * follower inside sxgated (see live.h for the order of an update).
 *
 * The update path is the job thread's: a connection's update waits there
 * like a RELOAD does (its later requests are held, so replies stay in
 * order), and the stream follower submits the same job and waits for it.
 * The commands (cmd_admin.c) only make the job (sx_live_update_job).
 * So there is exactly one writer of the serving state, and the journal's
 * order is the order updates became visible.
 *
 * The feedback log is opened here and fed by the I/O threads' decision
 * observer (feedback_obs.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "audit.h"
#include "feedback.h"
#include "follow.h"
#include "redisconn.h"
#include "journal.h"
#include "live.h"
#include "log.h"
#include "overlay.h"
#include "server_int.h"
#include "wio.h"

#define MAX_WORDS 40

/* ---- replaying the journal onto a snapshot -------------------------------- */

struct replay {
	const sx_snap *base;
	sx_overlay *ov;
	int64_t from_ms;          /* entries before it are superseded */
	uint64_t applied, superseded, refused;
};

static int replay_one(void *arg, const sx_journal_entry *e)
{
	struct replay *r = arg;
	sx_overlay *next;
	char why[256];

	if (e->time_ms < r->from_ms) {
		r->superseded++;
		return 0;
	}
	int rc = sx_overlay_apply(r->base, r->ov, e->words, e->argc, &next, why,
	                          sizeof why);
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		/* the export this runs on may already hold the change (or
		 * lack the record it names): nothing to apply */
		r->refused++;
		return 0;
	}
	sx_overlay_free(r->ov);
	r->ov = next;
	r->applied++;
	return 0;
}

static int64_t from_ms(const sx_snap *snap)
{
	int64_t as_of = sx_snap_get_info(snap)->as_of;
	return as_of == SX_AS_OF_NONE ? INT64_MIN : as_of * 1000;
}

/* The served state of `cur`'s export with the replayed overlay. */
static sx_served *with_updates(sx_served *cur, struct replay *r)
{
	if (!r->ov)
		return cur;
	sx_served *next = sx_served_derive(cur, r->ov);
	r->ov = NULL;
	if (!next)
		return NULL;
	next->gen = cur->gen;            /* not yet published */
	next->updates = r->applied;
	sx_served_free(cur);
	return next;
}

/* An existing log that had another mode (one an older sxgated created
 * 0644, or a changed --file-mode) was given the file mode on open: say so,
 * since it held ID numbers under the old mode until now. */
static void log_mode_change(const char *what, const char *path, int was)
{
	if (was >= 0)
		sx_log_warn("%s %s had mode %04o; set to %04o (--file-mode): it holds ID "
		            "numbers", what, path, (unsigned)was, sx_file_mode());
}

int sx_live_open(sx_srv *s, sx_served **first, char *why, size_t cap)
{
	if (s->cfg.journal) {
		struct replay r = { .base = (*first)->snap,
		                    .from_ms = from_ms((*first)->snap) };
		sx_journal_report rep;
		char msg[512];
		int rc = sx_journal_open(s->cfg.journal, &s->journal, replay_one, &r,
		                         &rep, msg, sizeof msg);
		if (rc) {
			sx_overlay_free(r.ov);
			snprintf(why, cap, "journal %s: %s", s->cfg.journal, msg);
			return rc;
		}
		log_mode_change("journal", s->cfg.journal, rep.mode_was);
		if (rep.torn_bytes)
			sx_log_warn("journal %s: a torn tail of %llu bytes at offset %llu was cut "
			            "(an update that was never acknowledged)", s->cfg.journal,
			            (unsigned long long)rep.torn_bytes,
			            (unsigned long long)rep.torn_offset);
		sx_served *next = with_updates(*first, &r);
		if (!next) {
			snprintf(why, cap, "out of memory replaying the journal");
			return -ENOMEM;
		}
		*first = next;
		s->replayed = r.applied;
		sx_log_info("journal %s: %llu updates in force, %llu superseded by the "
		            "snapshot's as-of, %llu already in the export; next sequence %llu",
		            s->cfg.journal, (unsigned long long)r.applied,
		            (unsigned long long)r.superseded, (unsigned long long)r.refused,
		            (unsigned long long)sx_journal_last_seq(s->journal) + 1);
	}
	if (s->cfg.feedback) {
		sx_feedback_report rep;
		char msg[512];
		int rc = sx_feedback_open(s->cfg.feedback, &s->feedback, &rep, msg,
		                          sizeof msg);
		if (rc) {
			snprintf(why, cap, "feedback log %s: %s", s->cfg.feedback, msg);
			return rc;
		}
		log_mode_change("feedback log", s->cfg.feedback, rep.mode_was);
		if (rep.torn_bytes)
			sx_log_warn("feedback log %s: a torn tail of %llu bytes was cut",
			            s->cfg.feedback, (unsigned long long)rep.torn_bytes);
	}
	return 0;
}

sx_served *sx_live_rebase(sx_srv *s, sx_served *next)
{
	if (!s->journal)
		return next;
	struct replay r = { .base = next->snap, .from_ms = from_ms(next->snap) };
	sx_journal_report rep;
	char why[512];
	int rc = sx_journal_scan(sx_journal_path(s->journal), 0, replay_one, &r,
	                         &rep, why, sizeof why);
	if (rc) {
		/* the journal was verified at start and only grows by our own
		 * appends: a failure here is an I/O error; serve without the
		 * updates rather than not at all, and say so loudly */
		sx_log_err("reload: replaying journal %s failed: %s; the updates are "
		           "not in force until the next reload", sx_journal_path(s->journal),
		           why);
		sx_overlay_free(r.ov);
		return next;
	}
	sx_log_info("reload: %llu journal updates in force on the new snapshot, "
	            "%llu superseded by its as-of", (unsigned long long)r.applied,
	            (unsigned long long)r.superseded);
	return with_updates(next, &r);
}

/* ---- the update job --------------------------------------------------------- */

typedef struct update_job {
	sx_job job;                 /* first */
	sx_srv *srv;
	int64_t time_ms;            /* SX_JOURNAL_NOW for local commands */
	char source[48];
	sx_origin origin;           /* who and where: journal and audit */
	int op_compact;             /* JOURNAL.COMPACT instead of an update */
	/* the follower waits for its own jobs */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int finished;
	size_t argc;
	sx_str argv[MAX_WORDS];
	char data[];
} update_job;

/* ---- the audit trail of updates ---------------------------------------------- */

/* The audit event of an update's words (or of JOURNAL.COMPACT). */
static int update_event(const sx_str *argv, size_t argc, int compact)
{
	static const int ev[SX_NUPDATES] = {
		[SX_UP_LIST_ADD] = SX_AUDIT_LIST_ADD,
		[SX_UP_LIST_REMOVE] = SX_AUDIT_LIST_REMOVE,
		[SX_UP_LIST_SUSPEND] = SX_AUDIT_LIST_SUSPEND,
		[SX_UP_LIST_RESUME] = SX_AUDIT_LIST_RESUME,
		[SX_UP_PERMIT_ADD] = SX_AUDIT_PERMIT_ADD,
		[SX_UP_PERMIT_REMOVE] = SX_AUDIT_PERMIT_REMOVE,
	};
	int op = argc && !compact ? sx_update_parse(argv[0].p, argv[0].n) : -1;
	return op < 0 ? SX_AUDIT_JOURNAL_COMPACT : ev[op];
}

/* LIST.ADD's value of field name, or NULL. */
static const sx_str *add_field(const sx_str *argv, size_t argc, const char *name)
{
	for (size_t i = 1; i + 1 < argc; i += 2)
		if (argv[i].n == strlen(name) && !strncasecmp(argv[i].p, name, argv[i].n))
			return &argv[i + 1];
	return NULL;
}

static void audit_word(sx_audit *a, const char *key, const sx_str *w, int id)
{
	if (w && id)
		sx_audit_id(a, key, w->p, w->n);
	else if (w)
		sx_audit_str(a, key, w->p, w->n);
}

/* Start the audit line of an update: what it names (the case, the ID
 * masked, the permit), never its other fields. */
static void audit_update(sx_audit *a, const sx_origin *o, const sx_str *argv,
                         size_t argc, int compact)
{
	int ev = update_event(argv, argc, compact);
	sx_audit_begin(a, ev, o);
	switch (ev) {
	case SX_AUDIT_LIST_ADD:
		audit_word(a, "case", add_field(argv, argc, "case_no"), 0);
		audit_word(a, "id_type", add_field(argv, argc, "id_type"), 0);
		audit_word(a, "id", add_field(argv, argc, "id_no"), 1);
		break;
	case SX_AUDIT_LIST_REMOVE:
	case SX_AUDIT_LIST_SUSPEND:
	case SX_AUDIT_LIST_RESUME:
		audit_word(a, "case", argc > 1 ? &argv[1] : NULL, 0);
		audit_word(a, "id_type", argc > 2 ? &argv[2] : NULL, 0);
		audit_word(a, "id", argc > 3 ? &argv[3] : NULL, 1);
		break;
	case SX_AUDIT_PERMIT_ADD:
		audit_word(a, "case", argc > 3 ? &argv[3] : NULL, 0);
		audit_word(a, "id_type", argc > 1 ? &argv[1] : NULL, 0);
		audit_word(a, "id", argc > 2 ? &argv[2] : NULL, 1);
		audit_word(a, "permit", argc > 7 ? &argv[7] : NULL, 0);
		break;
	case SX_AUDIT_PERMIT_REMOVE:
		audit_word(a, "permit", argc > 1 ? &argv[1] : NULL, 0);
		break;
	}
}

/* The whole line of an update that did not happen. */
static void audit_refused(const sx_origin *o, const sx_str *argv, size_t argc,
                          int compact, const char *result, const char *err)
{
	sx_audit a;
	audit_update(&a, o, argv, argc, compact);
	sx_audit_cstr(&a, "result", result);
	if (err)
		sx_audit_cstr(&a, "err", err);
	sx_audit_end(&a, 0);
}

static void compact_run(update_job *u)
{
	sx_srv *s = u->srv;
	sx_served *cur = sx_qsbr_current(&s->qsbr);
	int64_t keep = from_ms(cur->snap);
	char why[256];
	if (keep == INT64_MIN) {
		audit_refused(&u->origin, u->argv, u->argc, 1, "refused",
		              "the serving snapshot has no as-of");
		sx_job_result(&u->job, SX_EINVAL, "ERR the serving snapshot has no as-of: it "
		          "supersedes no journal entry");
		return;
	}
	sx_journal_compact_report rep;
	int rc = sx_journal_compact(s->journal, keep, &rep, why, sizeof why);
	if (rc) {
		audit_refused(&u->origin, u->argv, u->argc, 1, "failed", why);
		sx_job_result(&u->job, rc, "ERR journal compaction failed: %s", why);
		return;
	}
	sx_audit a;
	audit_update(&a, &u->origin, u->argv, u->argc, 1);
	sx_audit_cstr(&a, "result", "ok");
	sx_audit_u64(&a, "kept", rep.kept);
	sx_audit_u64(&a, "dropped", rep.dropped);
	sx_audit_end(&a, 1);
	sx_log_info("journal %s compacted: %llu entries kept, %llu dropped (older than "
	            "the serving snapshot's as-of)", sx_journal_path(s->journal),
	            (unsigned long long)rep.kept, (unsigned long long)rep.dropped);
	sx_job_result(&u->job, 0, "OK %llu kept, %llu dropped", (unsigned long long)rep.kept,
	          (unsigned long long)rep.dropped);
}

static void update_run(sx_job *j)
{
	update_job *u = (update_job *)j;
	sx_srv *s = u->srv;
	sx_served *cur = sx_qsbr_current(&s->qsbr);
	sx_overlay *ov;
	char why[256];
	const char *words[MAX_WORDS];
	size_t lens[MAX_WORDS];
	uint64_t seq;

	if (u->op_compact) {
		compact_run(u);
		return;
	}
	int rc = sx_overlay_apply(cur->snap, sx_snap_overlay(cur->snap), u->argv,
	                          u->argc, &ov, why, sizeof why);
	if (rc) {
		atomic_fetch_add(&s->updates_refused, 1);
		audit_refused(&u->origin, u->argv, u->argc, 0, rc == SX_ENOTFOUND ?
		              "not-found" : "refused", rc == SX_ENOTFOUND ? NULL : why);
		if (rc == SX_ENOTFOUND)
			sx_job_result(&u->job, rc, "ERR not found");
		else
			sx_job_result(&u->job, rc, "ERR %s", why);
		return;
	}
	for (size_t i = 0; i < u->argc; i++) {
		words[i] = u->argv[i].p;
		lens[i] = u->argv[i].n;
	}
	sx_journal_cmd jc = { u->time_ms, u->source, (uint32_t)u->argc, words, lens,
	                      u->origin.who, u->origin.where };
	rc = sx_journal_append_batch(s->journal, 1, &jc, &seq);
	if (rc) {
		sx_overlay_free(ov);
		atomic_fetch_add(&s->updates_failed, 1);
		sx_journal_stats js;
		sx_journal_get_stats(s->journal, &js);
		sx_log_err("update not acknowledged: %s", js.last_error_text[0] ?
		           js.last_error_text : sx_strerror(rc));
		audit_refused(&u->origin, u->argv, u->argc, 0, "not-durable",
		              js.last_error_text[0] ? js.last_error_text : sx_strerror(rc));
		sx_job_result(&u->job, rc, "ERR not durable, not applied: journal write failed: %s",
		          sx_strerror(rc));
		return;
	}
	sx_audit a;
	audit_update(&a, &u->origin, u->argv, u->argc, 0);
	sx_audit_cstr(&a, "result", "ok");
	sx_audit_u64(&a, "seq", seq);
	sx_audit_end(&a, 1);
	sx_served *next = sx_served_derive(cur, ov);
	if (!next) {
		atomic_fetch_add(&s->updates_failed, 1);
		sx_job_result(&u->job, -ENOMEM, "ERR out of memory publishing update %llu (it is "
		          "in the journal and applies at the next start or reload)",
		          (unsigned long long)seq);
		return;
	}
	next->updates = cur->updates + 1;
	sx_served_free(sx_qsbr_publish(&s->qsbr, next));
	atomic_fetch_add(&s->updates_ok, 1);
	if (why[0])        /* applied, as the loader loads such a row */
		sx_log_warn("update %llu: %s", (unsigned long long)seq, why);
	sx_job_result(&u->job, 0, "OK %llu", (unsigned long long)seq);
}

static void update_done(sx_job *j)
{
	free(j);
}

static update_job *job_new(sx_srv *s, const sx_str *argv, size_t argc,
                           const sx_origin *o)
{
	size_t bytes = 0;
	for (size_t i = 0; i < argc; i++)
		bytes += argv[i].n;
	update_job *u = calloc(1, sizeof *u + bytes + 1);
	if (!u)
		return NULL;
	u->job.run = update_run;
	u->job.done = update_done;
	u->srv = s;
	u->time_ms = SX_JOURNAL_NOW;
	if (o)
		u->origin = *o;
	u->argc = argc;
	char *p = u->data;
	for (size_t i = 0; i < argc; i++) {
		memcpy(p, argv[i].p, argv[i].n);
		u->argv[i] = (sx_str){ p, argv[i].n };
		p += argv[i].n;
	}
	return u;
}

/* --updates-from as it may be printed: its password masked (INFO, /health,
 * errors).  The buffer is per thread, valid until the next call. */
static const char *feed_url(const sx_srv *s)
{
	static __thread char buf[1024];
	return sx_redis_url_mask(s->cfg.updates_from, buf, sizeof buf);
}

int sx_live_follows(sx_srv *s)
{
	return s->follow != NULL;
}

int sx_live_journaled(sx_srv *s)
{
	return s->journal != NULL;
}

sx_job *sx_live_update_job(sx_srv *s, const sx_str *argv, size_t argc,
                           int compact, const sx_origin *o, char *err, size_t cap)
{
	if (!compact && s->follow) {
		snprintf(err, cap, "ERR this replica follows %s: publish updates to the "
		         "stream, not to a replica", feed_url(s));
		goto refused;
	}
	if (!s->journal) {
		snprintf(err, cap, compact ? "ERR no journal (--journal FILE)" :
		         "ERR live updates need --journal FILE: an update is "
		         "acknowledged only once it is durable");
		goto refused;
	}
	if (argc > MAX_WORDS) {
		snprintf(err, cap, "ERR too many arguments");
		goto refused;
	}
	update_job *u = job_new(s, argv, compact && argc > 1 ? 1 : argc, o);
	if (!u) {
		snprintf(err, cap, "ERR out of memory");
		goto refused;
	}
	u->op_compact = compact;
	return &u->job;
refused:
	audit_refused(o, argv, argc, compact, "refused", err + (strncmp(err, "ERR ", 4) ? 0 : 4));
	return NULL;
}

/* ---- the stream follower ---------------------------------------------------- */

/* Job thread: the follower's job is done; wake it (it frees the job). */
static void follow_wake(sx_job *j)
{
	update_job *u = (update_job *)j;
	pthread_mutex_lock(&u->lock);
	u->finished = 1;
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->lock);
}

static int follow_apply(void *arg, const sx_str *argv, size_t argc,
                        int64_t time_ms, const char *source, sx_str by,
                        char *why, size_t cap)
{
	sx_srv *s = arg;
	if (argc > MAX_WORDS) {
		snprintf(why, cap, "too many arguments");
		return SX_EINVAL;
	}
	/* who: the entry's `by`; where: the entry, which the journal's
	 * source tag names too */
	sx_origin o;
	char where[SX_ORIGIN_WHERE];
	snprintf(where, sizeof where, "stream:%s", source);
	sx_origin_who(&o, by.p, by.n);
	sx_origin_where(&o, where, "stream");
	update_job *u = job_new(s, argv, argc, &o);
	if (!u) {
		snprintf(why, cap, "out of memory");
		return -ENOMEM;
	}
	u->time_ms = time_ms;
	snprintf(u->source, sizeof u->source, "%s", source);
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->cond, NULL);
	u->job.complete = follow_wake;
	sx_jobs_submit(s->jobs, &u->job);
	pthread_mutex_lock(&u->lock);
	while (!u->finished)
		pthread_cond_wait(&u->cond, &u->lock);
	pthread_mutex_unlock(&u->lock);
	int rc = u->job.rc;
	snprintf(why, cap, "%s", u->job.text);
	pthread_cond_destroy(&u->cond);
	pthread_mutex_destroy(&u->lock);
	free(u);
	return rc;
}

static void follow_log(void *arg, int level, const char *msg)
{
	(void)arg;
	sx_logl(level, "%s", msg);
}

int sx_live_start(sx_srv *s, char *why, size_t cap)
{
	if (!s->cfg.updates_from) {
		if (!s->cfg.updates_password_file && !s->cfg.updates_ca)
			return 0;
		snprintf(why, cap, "%s needs --updates-from URL", s->cfg.updates_ca ?
		         "--updates-ca" : "--updates-password-file");
		return SX_EINVAL;
	}
	if (!s->journal) {
		snprintf(why, cap, "--updates-from needs --journal FILE: the journal "
		         "records the last stream entry applied");
		return SX_EINVAL;
	}
	char last[64];
	sx_journal_last_source(s->journal, last, sizeof last);
	sx_follow_config c = { .url = s->cfg.updates_from, .resume_after = last,
	                       .password_file = s->cfg.updates_password_file,
	                       .cafile = s->cfg.updates_ca,
	                       .apply = follow_apply, .log = follow_log, .arg = s };
	struct sx_follow *f = NULL;
	int rc = sx_follow_start(&c, &f, why, cap);
	if (rc == 0)
		atomic_store(&s->follow, f);
	return rc;
}

void sx_live_close(sx_srv *s)
{
	sx_follow_stop(s->follow);
	s->follow = NULL;
	if (s->feedback)
		sx_feedback_close(s->feedback);
	s->feedback = NULL;
	if (s->journal)
		sx_journal_close(s->journal);
	s->journal = NULL;
}

/* ---- INFO, metrics, health -------------------------------------------------- */

size_t sx_live_info(sx_srv *s, char *buf, size_t cap)
{
	sx_served *cur = sx_qsbr_current(&s->qsbr);
	sx_overlay_stats os;
	size_t n = 0;
#define P(...) (n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__))
	sx_overlay_get_stats(sx_snap_overlay(cur->snap), &os);
	P("# Live\r\n");
	P("journal:%s\r\n", s->cfg.journal ? s->cfg.journal : "none");
	if (s->journal) {
		sx_journal_stats js;
		sx_journal_get_stats(s->journal, &js);
		P("journal_last_seq:%llu\r\njournal_errors:%llu\r\n"
		  "journal_last_error:%s\r\n", (unsigned long long)js.last_seq,
		  (unsigned long long)js.errors,
		  js.last_error_text[0] ? js.last_error_text : "none");
	}
	P("updates_in_force:%llu\r\nupdates_acknowledged:%llu\r\n"
	  "updates_refused:%llu\r\nupdates_failed:%llu\r\nupdates_replayed_at_start:%llu\r\n",
	  (unsigned long long)cur->updates, (unsigned long long)atomic_load(&s->updates_ok),
	  (unsigned long long)atomic_load(&s->updates_refused),
	  (unsigned long long)atomic_load(&s->updates_failed),
	  (unsigned long long)s->replayed);
	P("overlay_records:%u\r\noverlay_masked:%u\r\noverlay_permits:%u\r\n"
	  "overlay_permits_removed:%u\r\n", os.records, os.masked, os.permits,
	  os.permits_removed);
	P("feedback:%s\r\n", s->cfg.feedback ? s->cfg.feedback : "none");
	if (s->feedback) {
		sx_feedback_stats fs;
		sx_feedback_get_stats(s->feedback, &fs);
		P("feedback_added:%llu\r\nfeedback_written:%llu\r\nfeedback_fsyncs:%llu\r\n"
		  "feedback_dropped:%llu\r\nfeedback_errors:%llu\r\nfeedback_last_error:%s\r\n",
		  (unsigned long long)fs.added, (unsigned long long)fs.written,
		  (unsigned long long)fs.fsyncs, (unsigned long long)fs.dropped,
		  (unsigned long long)(fs.write_errors + fs.fsync_errors),
		  fs.last_error_text[0] ? fs.last_error_text : "none");
	}
	P("updates_from:%s\r\n", s->cfg.updates_from ? feed_url(s) : "none");
	if (s->follow) {
		sx_follow_stats st;
		sx_follow_get_stats(s->follow, &st);
		P("stream_connected:%d\r\nstream_caught_up:%d\r\nstream_last_id:%s\r\n"
		  "stream_applied:%llu\r\nstream_skipped:%llu\r\nstream_malformed:%llu\r\n"
		  "stream_lag_entries:%llu\r\nstream_lag_seconds:%.3f\r\n"
		  "stream_reconnects:%llu\r\nstream_last_error:%s\r\n",
		  st.connected, st.caught_up, st.last_id, (unsigned long long)st.applied,
		  (unsigned long long)st.skipped, (unsigned long long)st.malformed,
		  (unsigned long long)st.lag_entries, st.lag_seconds,
		  (unsigned long long)st.reconnects, st.last_error[0] ? st.last_error : "none");
	}
	if (sx_unlikely(sx_wio_armed()))     /* the SXGATE_WIO_FAULT testing hook */
		P("wio_fault_plan:armed (SXGATE_WIO_FAULT, a testing hook)\r\n"
		  "wio_faults_fired:%u\r\n", sx_wio_faults_fired());
#undef P
	return n < cap ? n : cap ? cap - 1 : 0;
}

size_t sx_live_metrics(sx_srv *s, char *buf, size_t cap)
{
	size_t n = 0;
#define P(...) (n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__))
	/* Every series with its HELP and TYPE (promtool check metrics). */
#define M(name, type, help, fmt, v) \
	P("# HELP " name " " help "\n# TYPE " name " " type "\n" name " " fmt "\n", v)
	sx_served *cur = sx_qsbr_current(&s->qsbr);
	M("sxgate_updates_in_force", "gauge", "Live updates in force over the snapshot",
	  "%llu", (unsigned long long)cur->updates);
	M("sxgate_updates_acknowledged_total", "counter", "Live updates journaled and applied",
	  "%llu", (unsigned long long)atomic_load(&s->updates_ok));
	M("sxgate_updates_refused_total", "counter", "Live updates refused (invalid or not allowed)",
	  "%llu", (unsigned long long)atomic_load(&s->updates_refused));
	M("sxgate_updates_failed_total", "counter", "Live updates that failed (journal errors)",
	  "%llu", (unsigned long long)atomic_load(&s->updates_failed));
	if (s->feedback) {
		sx_feedback_stats fs;
		sx_feedback_get_stats(s->feedback, &fs);
		M("sxgate_feedback_written_total", "counter", "Feedback records written to the log",
		  "%llu", (unsigned long long)fs.written);
		M("sxgate_feedback_dropped_total", "counter", "Feedback records dropped (buffers full)",
		  "%llu", (unsigned long long)fs.dropped);
		M("sxgate_feedback_errors_total", "counter", "Feedback log write and fsync errors",
		  "%llu", (unsigned long long)(fs.write_errors + fs.fsync_errors));
	}
	if (s->follow) {
		sx_follow_stats st;
		sx_follow_get_stats(s->follow, &st);
		M("sxgate_stream_connected", "gauge", "1 while connected to the update stream",
		  "%d", st.connected);
		M("sxgate_stream_lag_seconds", "gauge", "Time between the newest stream entry and the last one applied",
		  "%.3f", st.lag_seconds);
		M("sxgate_stream_lag_entries", "gauge", "Stream entries fetched but not yet applied",
		  "%llu", (unsigned long long)st.lag_entries);
		M("sxgate_stream_applied_total", "counter", "Stream entries applied",
		  "%llu", (unsigned long long)st.applied);
		M("sxgate_stream_malformed_total", "counter", "Stream entries skipped as malformed",
		  "%llu", (unsigned long long)st.malformed);
	}
#undef M
#undef P
	return n < cap ? n : cap ? cap - 1 : 0;
}

int sx_live_healthy(sx_srv *s, char *why, size_t cap)
{
	if (!s->cfg.updates_from)
		return 1;
	if (!s->follow) {
		snprintf(why, cap, "update feed %s: not started yet", feed_url(s));
		return 0;
	}
	sx_follow_stats st;
	sx_follow_get_stats(s->follow, &st);
	if (!st.connected) {
		snprintf(why, cap, "update feed %s is not connected: %s",
		         feed_url(s), st.last_error[0] ? st.last_error : "connecting");
		return 0;
	}
	if (!st.checked) {
		snprintf(why, cap, "update feed %s: measuring the lag", feed_url(s));
		return 0;
	}
	if (!st.caught_up && st.lag_seconds > s->cfg.max_lag) {
		snprintf(why, cap, "update feed lags %.1f s behind (more than %d s)",
		         st.lag_seconds, s->cfg.max_lag);
		return 0;
	}
	return 1;
}
