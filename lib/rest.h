/*
 * rest.h: a JSON REST client set up from the shared command line.
 *
 * Every Patroni and etcd check does the same thing first: take the
 * endpoints given with --patroni/--etcd, the credentials file and the TLS
 * options, and GET a JSON document from the first endpoint that answers.
 * This module does it once. It owns the HTTP client and the credentials.
 */
#ifndef PGHA_REST_H
#define PGHA_REST_H

#include <stddef.h>

#include "auth.h"
#include "http.h"
#include "json.h"
#include "options.h"
#include "state.h"

struct pgha_rest {
	struct pgha_http http;
	struct pgha_credentials creds;
};

/* Set up a client for the URL arguments (each may be a comma list) with
 * the credentials file and TLS options of c. Returns 0; PGHA_E_INVALID for
 * a bad or missing URL (a usage error: show it with pgha_options_fail);
 * PGHA_E_IO or PGHA_E_AUTH for an unusable credentials file (UNKNOWN);
 * PGHA_E_NOMEM. err gets one line. Free with pgha_rest_close() whatever
 * the result. */
int pgha_rest_open(struct pgha_rest *r, const char *const *urls, size_t n_urls,
		   const struct pgha_common *c, char *err, size_t errlen);

/* GET path and parse the body as JSON. On 0, *root is the tree (caller
 * frees with cJSON_Delete) and *status the HTTP status, whatever it is
 * (Patroni answers 503 with a JSON body on many paths). Errors:
 * PGHA_E_UNREACHABLE / PGHA_E_TIMEOUT (no endpoint answered in time),
 * PGHA_E_PROTOCOL (the body is not JSON: an HTML error page, a proxy),
 * PGHA_E_TOOBIG, PGHA_E_NOMEM; err names the endpoint and the reason.
 * *endpoint, when not NULL, gets the endpoint that answered. */
int pgha_rest_get_json(struct pgha_rest *r, const struct pgha_deadline *d,
		       const char *path, cJSON **root, long *status,
		       const char **endpoint, char *err, size_t errlen);

/* The state a failed request maps to: the --timeout-result state when
 * nothing answered in time, UNKNOWN for everything else. */
enum pgha_state pgha_rest_failure_state(int err, const struct pgha_common *c);

void pgha_rest_close(struct pgha_rest *r);

#endif
