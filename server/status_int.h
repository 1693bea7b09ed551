/*
 * status_int.h - what status.c gathers for status_page.c: the view of the
 * gate's state (labelled rows and the chart's series), made once per
 * request and rendered as the page or as /v1/stats.
 */
#ifndef SX_STATUS_INT_H
#define SX_STATUS_INT_H
#include <stdint.h>
#include <stdio.h>

#include "decide.h"
#include "feedback.h"
#include "follow.h"
#include "status.h"

struct sx_srv;
struct sx_served;

/* Counters sampled: decisions by reason, then query errors. */
#define SX_ST_ERRORS   SX_NREASONS
#define SX_ST_NC       (SX_NREASONS + 1)
/* Keys of the series: all lookups, each reason (1 + reason), errors. */
#define SX_ST_LOOKUPS  0
#define SX_ST_K_ERRORS (SX_NREASONS + 1)
#define SX_ST_NK       (SX_NREASONS + 2)

#define SX_ST_MAX_ROWS 48

/* The page's sections, in order (status_page.c has their titles). */
enum { SX_ST_SEC_SERVER, SX_ST_SEC_SNAPSHOT, SX_ST_SEC_LIVE, SX_ST_SEC_FEEDBACK,
       SX_ST_SEC_TRAFFIC, SX_ST_NSEC };

typedef struct sx_st_row {
	int sec;
	const char *id;          /* the element's id on the page, the key in "view" */
	const char *label;
	int tone;                /* 0 plain, 1 ok, 2 warn, 3 bad */
	char text[640];
} sx_st_row;

typedef struct sx_st_view {
	sx_st_row rows[SX_ST_MAX_ROWS];
	int nrows;
	int64_t generated;       /* unix seconds */
	int healthy;
	/* the chart: per-second rates between samples ending at t[] */
	size_t npoints;
	int64_t t[SX_STATUS_WINDOW];
	double rate[SX_ST_NK][SX_STATUS_WINDOW];
	uint64_t win[SX_ST_NK];  /* counts over the window */
	double now[SX_ST_NK];    /* rates over its last 10 seconds */
	double ymax;             /* the chart's top: 1, 2, 4, 5 or 8 times 10^k */
	/* for the JSON's own fields */
	const char *live_mode, *reload_result;
	int following, feedback_on;
	sx_follow_stats feed;
	sx_feedback_stats fb;
	int64_t reload_last;
	uint64_t reloads_ok, reloads_failed;
	char reload_error[512];
} sx_st_view;

/* Offer a sample, then gather (calloc'd; free it). */
sx_st_view *sx_st_gather(struct sx_srv *s, const struct sx_served *cur, int full);
const char *sx_st_tone_name(int tone);
const char *sx_st_key(int k);                      /* "lookups", "listed", ... */
void sx_st_json_str(FILE *f, const char *s);

#endif
