/*
 * fanout.h: several HTTP requests at once, to different URLs.
 *
 * Used where one slow peer must not delay the others: asking every etcd
 * member for its status, every Patroni node for its own view. Each
 * request runs in its own thread with its own client (a copy of the
 * model's TLS, credentials and token), all under one deadline and an
 * optional shorter per-request timeout.
 */
#ifndef PGHA_FANOUT_H
#define PGHA_FANOUT_H

#include <stddef.h>

#include "http.h"

struct pgha_fanout {
	/* in */
	const char *method;  /* "GET", "POST", ... */
	const char *url;     /* absolute URL */
	const char *body;    /* NULL: none */
	/* out */
	int rc;              /* as pgha_http_request_url() */
	struct pgha_http_response resp; /* initialised by pgha_fanout_run */
};

/* Run the n requests concurrently. Each gets at most per_request_ms
 * (0: no limit) and none outlives d. Returns 0 once all are done (each
 * item has its own rc and response), or PGHA_E_NOMEM when the requests
 * could not be started. Free the responses with pgha_fanout_free(). */
int pgha_fanout_run(const struct pgha_http *model, const struct pgha_deadline *d,
		    int64_t per_request_ms, struct pgha_fanout *items, size_t n);

void pgha_fanout_free(struct pgha_fanout *items, size_t n);

#endif
