/* rest.c: JSON REST client from the shared options (see rest.h). */
#include "rest.h"
#include "error.h"

#include <string.h>

int pgha_rest_open(struct pgha_rest *r, const char *const *urls, size_t n_urls,
		   const struct pgha_common *c, char *err, size_t errlen)
{
	memset(&r->creds, 0, sizeof r->creds);
	int rc = pgha_http_init(&r->http);
	if (rc) {
		pgha_errf(err, errlen, "out of memory");
		return rc;
	}
	if (n_urls == 0) {
		pgha_errf(err, errlen, "no endpoint given");
		return PGHA_E_INVALID;
	}
	for (size_t i = 0; i < n_urls; i++) {
		rc = pgha_http_add_endpoints(&r->http, urls[i], err, errlen);
		if (rc)
			return rc == PGHA_E_TOOBIG ? PGHA_E_INVALID : rc;
	}
	if (c->auth_file) {
		rc = pgha_credentials_load(c->auth_file, &r->creds, err, errlen);
		if (rc)
			return rc;
	}
	r->http.auth = r->creds.username ? &r->creds : NULL;
	r->http.tls = (struct pgha_tls){ c->cacert, c->cert, c->key, c->insecure };
	r->http.verbose = c->verbose;
	return 0;
}

int pgha_rest_get_json(struct pgha_rest *r, const struct pgha_deadline *d,
		       const char *path, cJSON **root, long *status,
		       const char **endpoint, char *err, size_t errlen)
{
	struct pgha_http_response resp;
	char why[128];

	*root = NULL;
	pgha_http_response_init(&resp, 0);
	int rc = pgha_http_get(&r->http, d, path, &resp);
	if (rc) {
		pgha_errf(err, errlen, "%s", resp.error);
	} else {
		*status = resp.status;
		if (endpoint)
			*endpoint = resp.endpoint;
		if (pgha_json_parse(pgha_buf_str(&resp.body), resp.body.len, root, why, sizeof why)) {
			pgha_errf(err, errlen, "GET %s from \"%s\" answered HTTP %ld with %s",
				  path, resp.endpoint, resp.status,
				  resp.body.len ? "a body that is not JSON" : "no body");
			rc = PGHA_E_PROTOCOL;
		}
	}
	pgha_http_response_free(&resp);
	return rc;
}

int pgha_rest_setup(struct pgha_rest *rest, const struct pgha_program *p,
		    const struct pgha_common *c, const char *const *urls, size_t n_urls,
		    struct pgha_result *r)
{
	char err[512] = "";
	int rc = pgha_rest_open(rest, urls, n_urls, c, err, sizeof err);
	if (rc == PGHA_E_INVALID) {
		pgha_rest_close(rest);
		return pgha_options_fail(p, "%s", err);
	}
	pgha_result_init(r, p->result_name);
	if (rc) {
		pgha_rest_close(rest);
		pgha_result_set(r, PGHA_UNKNOWN, "%s", err);
		return pgha_result_exit(r);
	}
	return -1;
}

bool pgha_rest_unreachable(int err)
{
	return err == PGHA_E_UNREACHABLE || err == PGHA_E_TIMEOUT;
}

enum pgha_state pgha_rest_failure_state(int err, const struct pgha_common *c)
{
	return pgha_rest_unreachable(err) ? c->timeout_result : PGHA_UNKNOWN;
}

void pgha_rest_set_failure(struct pgha_result *r, int err, const struct pgha_common *c,
			   const char *unreachable, const char *msg)
{
	pgha_result_set(r, pgha_rest_failure_state(err, c), "%s%s",
			unreachable && pgha_rest_unreachable(err) ? unreachable : "", msg);
}

void pgha_rest_close(struct pgha_rest *r)
{
	pgha_http_free(&r->http);
	pgha_credentials_free(&r->creds);
}
