/* rest.c: JSON REST client from the shared options (see rest.h). */
#include "rest.h"
#include "clusterfile.h"
#include "error.h"

#include <stdio.h>
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

int pgha_rest_open_cluster(struct pgha_rest *r, const struct pgha_clusterfile *cf, bool etcd,
			   char *err, size_t errlen)
{
	struct pgha_common c;
	memset(&c, 0, sizeof c);
	c.auth_file = cf->auth_file;
	c.cacert = cf->cacert;
	c.cert = cf->cert;
	c.key = cf->key;
	c.insecure = cf->insecure;
	if (etcd) {
		int rc = pgha_rest_open(r, (const char *const *)cf->etcd, cf->n_etcd, &c, err, errlen);
		r->http.auth = NULL; /* etcd takes a token (pgha_etcd_authenticate) */
		return rc;
	}
	return pgha_rest_open(r, (const char *const *)cf->patroni, cf->n_patroni, &c, err, errlen);
}

int pgha_rest_get_json_ok(struct pgha_rest *r, const struct pgha_deadline *d, const char *path,
			  cJSON **root, const char **endpoint, char *err, size_t errlen)
{
	struct pgha_http_response resp;
	char url[4096], why[128], answered[512] = "", last[512] = "";
	size_t n = r->http.n_endpoints, tried = 0;
	int rc = PGHA_E_UNREACHABLE;

	*root = NULL;
	if (n == 0) {
		pgha_errf(err, errlen, "no endpoint given");
		return PGHA_E_INVALID;
	}
	if (!path || path[0] != '/') {
		pgha_errf(err, errlen, "invalid request path");
		return PGHA_E_INVALID;
	}
	pgha_http_response_init(&resp, 0);
	for (size_t i = 0; i < n; i++) {
		const char *ep = r->http.endpoints[i];
		int64_t left = pgha_deadline_left_ms(d);
		if (left <= 0) {
			rc = PGHA_E_TIMEOUT;
			if (!last[0])
				pgha_errf(last, sizeof last, "deadline passed before contacting \"%s\"", ep);
			break;
		}
		/* each endpoint not yet tried gets an equal share of the time */
		struct pgha_deadline share = { pgha_now_ms() + left / (int64_t)(n - i) };
		if ((size_t)snprintf(url, sizeof url, "%s%s", ep, path) >= sizeof url) {
			pgha_errf(err, errlen, "URL for \"%s\" too long", ep);
			rc = PGHA_E_INVALID;
			break;
		}
		int one = pgha_http_request_url(&r->http, &share, "GET", url, NULL, &resp);
		tried++;
		if (one == PGHA_E_UNREACHABLE || one == PGHA_E_TIMEOUT) {
			pgha_errf(last, sizeof last, "%s", resp.error);
			if (one == PGHA_E_TIMEOUT || rc != PGHA_E_TIMEOUT)
				rc = one;
			continue;
		}
		if (one) {
			pgha_errf(err, errlen, "%s", resp.error);
			rc = one;
			break;
		}
		if (resp.status == 200 &&
		    pgha_json_parse(pgha_buf_str(&resp.body), resp.body.len, root, why, sizeof why) == 0) {
			if (endpoint)
				*endpoint = ep;
			rc = 0;
			break;
		}
		pgha_errf(answered, sizeof answered, "GET %s from \"%s\" answered HTTP %ld%s", path,
			  ep, resp.status,
			  resp.status != 200 ? "" : resp.body.len ? " with a body that is not JSON"
								  : " with no body");
	}
	pgha_http_response_free(&resp);
	if (rc == 0 || rc == PGHA_E_INVALID || rc == PGHA_E_NOMEM || rc == PGHA_E_TOOBIG)
		return rc;
	if (answered[0]) {
		pgha_errf(err, errlen, "%s", answered);
		return PGHA_E_PROTOCOL;
	}
	if (n == 1)
		pgha_errf(err, errlen, "%s", last);
	else
		pgha_errf(err, errlen, "no endpoint answered in time (%zu of %zu tried); last: %s",
			  tried, n, last);
	return rc;
}

void pgha_rest_close(struct pgha_rest *r)
{
	pgha_http_free(&r->http);
	pgha_credentials_free(&r->creds);
}
