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

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "http.h"
#include "json.h"
#include "options.h"
#include "output.h"
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

/*
 * The first step of every REST check's main: pgha_rest_open() on urls and
 * pgha_result_init(r, p->result_name). Returns -1 to go on: rest is open
 * and r started; the caller closes rest and ends with pgha_result_exit(r).
 * Otherwise it returns the exit code main returns right away, with rest
 * closed and nothing left to free: 3 after pgha_options_fail() for a bad
 * or missing URL (PGHA_E_INVALID), or the printed UNKNOWN result for an
 * unusable credentials file or no memory.
 */
int pgha_rest_setup(struct pgha_rest *rest, const struct pgha_program *p,
		    const struct pgha_common *c, const char *const *urls, size_t n_urls,
		    struct pgha_result *r);

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

/* Did the request fail because no endpoint answered (in time)? */
bool pgha_rest_unreachable(int err);

/* Say in r why a request failed: the state of pgha_rest_failure_state()
 * and msg as the summary, after the text unreachable (e.g. "not reachable:
 * ") when no endpoint answered; unreachable may be NULL. */
void pgha_rest_set_failure(struct pgha_result *r, int err, const struct pgha_common *c,
			   const char *unreachable, const char *msg);

/* Set up a client for the cluster file's Patroni endpoints (etcd false)
 * or its etcd endpoints (etcd true), with its auth_file and TLS settings
 * (and nothing from the environment). For etcd no basic auth is sent:
 * the credentials stay in r->creds for pgha_etcd_authenticate(), which
 * trades them for a token (etcd's gateway reads any Authorization header
 * as a token). Errors as pgha_rest_open(): for an
 * empty list PGHA_E_INVALID, "no endpoint given". Free with
 * pgha_rest_close() whatever the result. */
struct pgha_clusterfile;
int pgha_rest_open_cluster(struct pgha_rest *r, const struct pgha_clusterfile *cf, bool etcd,
			   char *err, size_t errlen);

/* GET path from each endpoint in turn until one answers HTTP 200 with a
 * JSON body: unlike pgha_rest_get_json(), an endpoint that answers
 * something else (Patroni's 502 on /config without a DCS, an HTML error
 * page) does not end the request. Each endpoint gets an equal share of
 * the time left. On 0, *root is the tree (caller frees) and *endpoint,
 * when not NULL, the endpoint that answered (borrowed from the client).
 * Errors: PGHA_E_PROTOCOL when some endpoint answered, but none with 200
 * and JSON (err: the last such answer, `GET /config from "URL" answered
 * HTTP 502`); PGHA_E_UNREACHABLE / PGHA_E_TIMEOUT when none answered;
 * PGHA_E_TOOBIG, PGHA_E_NOMEM, PGHA_E_INVALID (a bad path). */
int pgha_rest_get_json_ok(struct pgha_rest *r, const struct pgha_deadline *d, const char *path,
			  cJSON **root, const char **endpoint, char *err, size_t errlen);

void pgha_rest_close(struct pgha_rest *r);

#endif
