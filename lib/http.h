/*
 * http.h: a small HTTP client for the Patroni REST API and etcd's JSON
 * gateway: plain HTTP over a socket, HTTPS over libcurl (loaded only when
 * an https:// endpoint is contacted).
 *
 * A client holds an ordered list of endpoints (base URLs such as
 * "http://10.0.0.1:8008"). A request tries them in order while they are
 * unreachable (connection refused, DNS failure, no answer in time) and
 * returns the first HTTP answer of any status. All attempts share one
 * deadline: each attempt gets the time left divided by the number of
 * endpoints not yet tried, so a hanging endpoint cannot eat the budget of
 * the next one. Response bodies are capped (max_body). Redirects are not
 * followed; only http and https are allowed. TLS peer and host
 * verification are on unless tls.insecure is set. Proxy variables in the
 * environment are ignored. The body cap is the smaller of the client's
 * max_body and the response's (0 there: the default).
 *
 * Ownership: the client copies the endpoint strings; credentials and TLS
 * paths are borrowed and must outlive the client. A response owns its body.
 */
#ifndef PGHA_HTTP_H
#define PGHA_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "buf.h"
#include "clock.h"

#define PGHA_HTTP_MAX_ENDPOINTS 16
#define PGHA_HTTP_DEFAULT_MAX_BODY (4u * 1024 * 1024)

struct pgha_tls {
	const char *cacert; /* CA bundle file, NULL for the system's */
	const char *cert;   /* client certificate (PEM), optional */
	const char *key;    /* client key (PEM), optional */
	bool insecure;      /* skip verification: only on explicit request */
};

struct pgha_http {
	char *endpoints[PGHA_HTTP_MAX_ENDPOINTS]; /* owned, no trailing '/' */
	size_t n_endpoints;
	struct pgha_tls tls;                      /* borrowed paths */
	const struct pgha_credentials *auth;      /* borrowed; NULL = none */
	const char *token;  /* borrowed; sent as "Authorization: <token>"
			       (etcd) instead of basic auth; NULL = none */
	size_t max_body;                          /* default 4 MiB */
	int verbose;                              /* >= 3: trace to stderr */
	void *curl;                               /* CURL * for https, reused */
};

struct pgha_http_response {
	long status;          /* HTTP status, 0 if none */
	struct pgha_buf body; /* owned, NUL-terminated */
	const char *endpoint; /* the endpoint that answered; borrowed from
				 the client, valid while it lives */
	char error[256];      /* why the request failed, when it did */
};

/* Initialise an empty client. Returns 0 or PGHA_E_NOMEM. */
int pgha_http_init(struct pgha_http *h);

/* Add one or more endpoints from a comma-separated list. Each must start
 * with http:// or https://; a trailing '/' is dropped. Returns 0, or
 * PGHA_E_INVALID with a message in err (`invalid URL "x": ...`), or
 * PGHA_E_TOOBIG past PGHA_HTTP_MAX_ENDPOINTS. */
int pgha_http_add_endpoints(struct pgha_http *h, const char *list,
			    char *err, size_t errlen);

/* Free everything the client owns. */
void pgha_http_free(struct pgha_http *h);

/* Send method (GET, POST, PATCH, DELETE, ...) for path (starting with '/')
 * to the endpoints in order, with body (NULL for none; sent as
 * application/json with a Content-Length, "" allowed). Returns 0 when some
 * endpoint answered (any status; see resp->status), else PGHA_E_UNREACHABLE
 * (every endpoint refused or failed to connect), PGHA_E_TIMEOUT (the
 * deadline passed), PGHA_E_TOOBIG (body over max_body), PGHA_E_INVALID
 * (bad method or path, no endpoints, unusable local TLS files) or
 * PGHA_E_NOMEM,
 * with resp->error naming the endpoint(s) and the reason, e.g.
 * `could not connect to "http://127.0.0.1:8008": Connection refused`.
 * resp must be initialised with pgha_http_response_init(). */
int pgha_http_request(struct pgha_http *h, const struct pgha_deadline *d,
		      const char *method, const char *path, const char *body,
		      struct pgha_http_response *resp);

/* GET shorthand. */
int pgha_http_get(struct pgha_http *h, const struct pgha_deadline *d,
		  const char *path, struct pgha_http_response *resp);

/* One request to one absolute URL (no endpoint list; e.g. a member's
 * api_url), same settings and error contract; resp->endpoint then points
 * at url. */
int pgha_http_request_url(struct pgha_http *h, const struct pgha_deadline *d,
			  const char *method, const char *url, const char *body,
			  struct pgha_http_response *resp);

void pgha_http_response_init(struct pgha_http_response *resp, size_t max_body);
void pgha_http_response_free(struct pgha_http_response *resp);

#endif
