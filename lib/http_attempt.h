/*
 * http_attempt.h: one HTTP request to one URL, the unit http.c's endpoint
 * loop is made of (internal to libpgha_http).
 *
 * Two transports do attempts: http_plain.c speaks HTTP/1.0 over a socket
 * for http:// (a check's common case, costing no shared library at all),
 * and http_curl.c hands https:// to libcurl, loaded with dlopen() on first
 * use, so only TLS checks pay for libcurl and its TLS stack.
 */
#ifndef PGHA_HTTP_ATTEMPT_H
#define PGHA_HTTP_ATTEMPT_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "buf.h"
#include "http.h"

/* Returned by an attempt when this endpoint failed and the next one may
 * do better (refused, unresolvable, timed out, reset, TLS handshake). */
#define PGHA_ATTEMPT_NEXT 1

struct pgha_http_attempt {
	/* in */
	struct pgha_http *client;
	const char *method;
	const char *url;      /* endpoint + path */
	const char *endpoint; /* for messages */
	const char *body;     /* NULL: none */
	int64_t budget_ms;
	struct pgha_buf *out; /* the response body */
	size_t cap;           /* most body bytes accepted */
	/* out */
	long status;
	bool timed_out;
	char msg[256];        /* why it failed */
};

/* Each returns 0 (an HTTP answer: status and out set), PGHA_ATTEMPT_NEXT
 * (msg set, timed_out when it ran out of time) or a negative PGHA_E_* that
 * no other endpoint can fix (PGHA_E_TOOBIG, PGHA_E_NOMEM, PGHA_E_INVALID,
 * msg set). */
int pgha_http_plain_attempt(struct pgha_http_attempt *a);
int pgha_http_curl_attempt(struct pgha_http_attempt *a);

/* Release what the curl transport holds for the client (NULL-safe). */
void pgha_http_curl_release(struct pgha_http *h);

#endif
