/*
 * metrics.c - GET /metrics and GET /health (see metrics.h).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "live.h"
#include "log.h"
#include "metrics.h"
#include "report.h"
#include "server_int.h"

struct sx_metrics {
	sx_srv *srv;
	int lfd, stopfd;
	sx_qsbr_reader *rd;
	pthread_t thr;
};

static void respond(int fd, int code, const char *status, const char *type,
                    const char *body, size_t n, int head_only)
{
	char hdr[256];
	int h = snprintf(hdr, sizeof hdr, "HTTP/1.0 %d %s\r\nContent-Type: %s\r\n"
	                 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	                 code, status, type, n);
	struct iovec iov[2] = { { hdr, (size_t)h }, { (void *)body, head_only ? 0 : n } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	size_t left = (size_t)h + iov[1].iov_len;
	while (left > 0) {
		ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (w <= 0)
			return;             /* timeout or reset: the scraper retries */
		left -= (size_t)w;
		while (msg.msg_iovlen && (size_t)w >= msg.msg_iov->iov_len) {
			w -= (ssize_t)msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen) {
			msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + w;
			msg.msg_iov->iov_len -= (size_t)w;
		}
	}
}

static void serve(sx_metrics *m, int fd)
{
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	char req[4096];
	size_t n = 0;
	while (n < sizeof req - 1) {
		ssize_t r = recv(fd, req + n, sizeof req - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = 0;
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[n] = 0;
	char method[8], path[256];
	if (sscanf(req, "%7s %255s", method, path) != 2) {
		respond(fd, 400, "Bad Request", "text/plain", "bad request\n", 12, 0);
		return;
	}
	int head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head) {
		respond(fd, 405, "Method Not Allowed", "text/plain", "GET only\n", 9, 0);
		return;
	}
	char *q = strchr(path, '?');
	if (q)
		*q = 0;
	if (!strcmp(path, "/health")) {
		const sx_served *cur = sx_qsbr_online(&m->srv->qsbr, m->rd);
		const char *why = NULL;
		if (!cur || !cur->snap)
			why = "no snapshot loaded\n";
		else if (atomic_load(&m->srv->stopping))
			why = "draining: shutting down\n";
		char lag[320];
		if (!why && !sx_live_healthy(m->srv, lag, sizeof lag - 1)) {
			strcat(lag, "\n");
			why = lag;
		}
		sx_qsbr_offline(m->rd);
		if (why)
			respond(fd, 503, "Service Unavailable", "text/plain", why, strlen(why), head);
		else
			respond(fd, 200, "OK", "text/plain", "ok\n", 3, head);
	} else if (!strcmp(path, "/metrics")) {
		size_t len;
		const sx_served *cur = sx_qsbr_online(&m->srv->qsbr, m->rd);
		char *text = sx_report_metrics(m->srv, cur, &len);
		sx_qsbr_offline(m->rd);
		respond(fd, 200, "OK", "text/plain; version=0.0.4", text, len, head);
		free(text);
	} else {
		respond(fd, 404, "Not Found", "text/plain", "not found: try /metrics or /health\n", 35, head);
	}
}

static void *metrics_main(void *arg)
{
	sx_metrics *m = arg;
	struct pollfd p[2] = { { .fd = m->lfd, .events = POLLIN },
	                       { .fd = m->stopfd, .events = POLLIN } };
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			sx_log("metrics: poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(m->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				usleep(100 * 1000);
			continue;
		}
		serve(m, fd);
		close(fd);
	}
	return NULL;
}

int sx_metrics_start(sx_srv *s, int lfd, int reader, sx_metrics **out)
{
	sx_metrics *m = calloc(1, sizeof *m);
	if (!m)
		return -ENOMEM;
	m->srv = s;
	m->lfd = lfd;
	m->rd = sx_qsbr_reader_get(&s->qsbr, reader);
	m->stopfd = eventfd(0, EFD_CLOEXEC);
	if (m->stopfd < 0) {
		int rc = -errno;
		free(m);
		return rc;
	}
	int rc = pthread_create(&m->thr, NULL, metrics_main, m);
	if (rc) {
		close(m->stopfd);
		free(m);
		return -rc;
	}
	pthread_setname_np(m->thr, "sxgated-metrics");
	*out = m;
	return 0;
}

void sx_metrics_stop(sx_metrics *m)
{
	if (!m)
		return;
	uint64_t one = 1;
	ssize_t r = write(m->stopfd, &one, sizeof one);
	(void)r;
	pthread_join(m->thr, NULL);
	close(m->stopfd);
	close(m->lfd);
	free(m);
}
