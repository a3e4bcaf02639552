/*
 * http.c: the HTTP client: endpoints, deadline and failover (see http.h).
 *
 * Design:
 * - Each attempt at one endpoint goes through a transport chosen by the
 *   URL's scheme (http_attempt.h): http:// over a plain socket, https://
 *   through libcurl loaded on first use, so a check pays for libcurl and
 *   TLS only when it speaks TLS.
 * - Endpoints are tried in order. Failures to reach an endpoint (refused,
 *   unresolvable, timed out, reset, empty reply, TLS handshake) move on to
 *   the next one; any HTTP answer, whatever its status, ends the request.
 *   Each attempt's time budget is the time left on the deadline divided by
 *   the number of endpoints not yet tried, so one hanging node cannot use
 *   up the time of the others.
 * - Errors the next endpoint cannot fix stop at once: a body over the cap
 *   (PGHA_E_TOOBIG), out of memory, and local set-up problems such as an
 *   unreadable CA or client certificate (PGHA_E_INVALID).
 * - The body is capped; a Content-Length over the cap is refused before
 *   any byte of the body is read.
 * - The trace (verbose >= 3) is ours: method, URL, outcome, time; never
 *   headers (they may hold credentials) or bodies.
 */
#define _POSIX_C_SOURCE 200809L
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#include "http.h"
#include "http_attempt.h"
#include "error.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_AGENT "pgha/" PACKAGE_VERSION
#define ENDPOINT_MAX_LEN 1024 /* one base URL */
#define URL_MAX_LEN 4096      /* endpoint + path */
#define METHOD_MAX_LEN 16

/* ------------------------------------------------------------------ */
/* URL validation                                                      */
/* ------------------------------------------------------------------ */

/* Copy n bytes of s into out (outlen bytes) for quoting in a message,
 * replacing control characters with '?' and cutting long strings with
 * "...". */
static void printable(char *out, size_t outlen, const char *s, size_t n)
{
	size_t max = outlen - 1, i;
	bool cut = false;

	if (n > max) {
		n = max > 3 ? max - 3 : max;
		cut = max > 3;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (cut) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

/* Whether the n bytes at s start with prefix, ignoring ASCII case. */
static bool has_prefix_ci(const char *s, size_t n, const char *prefix)
{
	size_t i;

	for (i = 0; prefix[i]; i++) {
		if (i >= n)
			return false;
		char a = s[i], b = prefix[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

/* Check that the n bytes at s form an http(s) URL we are willing to
 * contact: scheme http or https, a non-empty host, an optional numeric
 * port, no whitespace or control characters and no user information
 * (secrets come from a credentials file, never a URL). A base URL
 * (endpoint) may not carry a query or fragment either, since a path is
 * appended to it. Returns 0 or PGHA_E_INVALID with a message in err. */
static int check_url(const char *s, size_t n, bool base, char *err,
		     size_t errlen)
{
	char shown[160];
	size_t i, start;

	printable(shown, sizeof shown, s, n);
	if (n == 0) {
		pgha_errf(err, errlen, "invalid URL \"\": empty");
		return PGHA_E_INVALID;
	}
	if (n > ENDPOINT_MAX_LEN) {
		pgha_errf(err, errlen, "invalid URL \"%s\": longer than %d bytes",
			shown, ENDPOINT_MAX_LEN);
		return PGHA_E_INVALID;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= 0x20 || ch == 0x7f) {
			pgha_errf(err, errlen,
				"invalid URL \"%s\": contains whitespace or a control character",
				shown);
			return PGHA_E_INVALID;
		}
	}
	if (has_prefix_ci(s, n, "http://"))
		start = 7;
	else if (has_prefix_ci(s, n, "https://"))
		start = 8;
	else {
		pgha_errf(err, errlen,
			"invalid URL \"%s\": must start with http:// or https://",
			shown);
		return PGHA_E_INVALID;
	}

	/* The authority runs to the first '/', '?' or '#'. */
	size_t end = start;
	while (end < n && s[end] != '/' && s[end] != '?' && s[end] != '#')
		end++;
	if (memchr(s + start, '@', end - start)) {
		/* Do not echo it: it may hold a password. */
		pgha_errf(err, errlen,
			"invalid URL: user information (user@host) is not allowed, use a credentials file");
		return PGHA_E_INVALID;
	}
	if (base && (memchr(s, '?', n) || memchr(s, '#', n))) {
		pgha_errf(err, errlen,
			"invalid URL \"%s\": an endpoint cannot have a query or fragment",
			shown);
		return PGHA_E_INVALID;
	}

	/* host: a name, an IPv4 address or a bracketed IPv6 address */
	size_t host_end, p = start;
	if (p < end && s[p] == '[') {
		const char *rb = memchr(s + p, ']', end - p);
		if (!rb || rb == s + p + 1) {
			pgha_errf(err, errlen, "invalid URL \"%s\": bad IPv6 address",
				shown);
			return PGHA_E_INVALID;
		}
		host_end = (size_t)(rb - s) + 1;
	} else {
		host_end = p;
		while (host_end < end && s[host_end] != ':')
			host_end++;
		if (host_end == p) {
			pgha_errf(err, errlen, "invalid URL \"%s\": no host", shown);
			return PGHA_E_INVALID;
		}
	}
	if (host_end < end) {
		/* ":port", 1 to 65535 */
		unsigned long port = 0;
		size_t digits = 0;
		bool bad = s[host_end] != ':';
		for (p = host_end + 1; !bad && p < end; p++, digits++) {
			if (s[p] < '0' || s[p] > '9' || digits >= 5)
				bad = true;
			else
				port = port * 10 + (unsigned long)(s[p] - '0');
		}
		if (bad || digits == 0 || port == 0 || port > 65535) {
			pgha_errf(err, errlen, "invalid URL \"%s\": bad port", shown);
			return PGHA_E_INVALID;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* client set-up                                                       */
/* ------------------------------------------------------------------ */

int pgha_http_init(struct pgha_http *h)
{
	for (size_t i = 0; i < PGHA_HTTP_MAX_ENDPOINTS; i++)
		h->endpoints[i] = NULL;
	h->n_endpoints = 0;
	h->tls.cacert = NULL;
	h->tls.cert = NULL;
	h->tls.key = NULL;
	h->tls.insecure = false;
	h->auth = NULL;
	h->token = NULL;
	h->max_body = PGHA_HTTP_DEFAULT_MAX_BODY;
	h->verbose = 0;
	h->curl = NULL;
	return 0;
}

int pgha_http_add_endpoints(struct pgha_http *h, const char *list,
			    char *err, size_t errlen)
{
	char *added[PGHA_HTTP_MAX_ENDPOINTS];
	size_t n_added = 0;
	int rc = 0;

	if (!list) {
		pgha_errf(err, errlen, "invalid URL \"\": empty");
		return PGHA_E_INVALID;
	}
	/* Validate the whole list first: either all of it is added or none. */
	for (const char *p = list;;) {
		const char *comma = strchr(p, ',');
		const char *b = p, *e = comma ? comma : p + strlen(p);

		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		rc = check_url(b, (size_t)(e - b), true, err, errlen);
		if (rc)
			break;
		if (h->n_endpoints + n_added >= PGHA_HTTP_MAX_ENDPOINTS) {
			pgha_errf(err, errlen, "too many endpoints: at most %d",
				PGHA_HTTP_MAX_ENDPOINTS);
			rc = PGHA_E_TOOBIG;
			break;
		}
		while (e > b && e[-1] == '/')
			e--;
		char *copy = malloc((size_t)(e - b) + 1);
		if (!copy) {
			pgha_errf(err, errlen, "out of memory");
			rc = PGHA_E_NOMEM;
			break;
		}
		memcpy(copy, b, (size_t)(e - b));
		copy[e - b] = '\0';
		added[n_added++] = copy;
		if (!comma)
			break;
		p = comma + 1;
	}
	if (rc) {
		for (size_t i = 0; i < n_added; i++)
			free(added[i]);
		return rc;
	}
	for (size_t i = 0; i < n_added; i++)
		h->endpoints[h->n_endpoints++] = added[i];
	return 0;
}

void pgha_http_free(struct pgha_http *h)
{
	for (size_t i = 0; i < h->n_endpoints; i++) {
		free(h->endpoints[i]);
		h->endpoints[i] = NULL;
	}
	h->n_endpoints = 0;
	pgha_http_curl_release(h);
}

void pgha_http_response_init(struct pgha_http_response *resp, size_t max_body)
{
	resp->status = 0;
	pgha_buf_init(&resp->body,
		      max_body ? max_body : PGHA_HTTP_DEFAULT_MAX_BODY);
	resp->endpoint = NULL;
	resp->error[0] = '\0';
}

void pgha_http_response_free(struct pgha_http_response *resp)
{
	pgha_buf_free(&resp->body);
	resp->status = 0;
	resp->endpoint = NULL;
	resp->error[0] = '\0';
}

/* ------------------------------------------------------------------ */
/* requests                                                            */
/* ------------------------------------------------------------------ */

/* Whether method is an HTTP method token we send: 1 to METHOD_MAX_LEN
 * upper-case letters (it goes into the request line verbatim). */
static bool valid_method(const char *method)
{
	size_t n = 0;

	if (!method)
		return false;
	for (; method[n]; n++)
		if (method[n] < 'A' || method[n] > 'Z' || n >= METHOD_MAX_LEN)
			return false;
	return n > 0;
}

/* Whether path is "/..." without whitespace or control characters. */
static bool valid_path(const char *path)
{
	if (!path || path[0] != '/')
		return false;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* Write one trace line for an attempt when verbose >= 3. */
static void trace(const struct pgha_http_attempt *r, const char *url, long status,
		  const char *failure, int64_t start_ms)
{
	if (r->client->verbose < 3)
		return;
	long long ms = (long long)(pgha_now_ms() - start_ms);
	if (failure)
		fprintf(stderr, "http: %s %s -> %s (%lld ms)\n", r->method, url,
			failure, ms);
	else
		fprintf(stderr, "http: %s %s -> %ld (%lld ms)\n", r->method,
			url, status, ms);
}

/* Send the request to each of the n bases in turn, with path appended
 * (path may be ""), until one answers. The engine of pgha_http_request()
 * and pgha_http_request_url(); same contract. */
static int run(struct pgha_http *h, const struct pgha_deadline *d,
	       const char *method, const char *const *bases, size_t n,
	       const char *path, const char *body,
	       struct pgha_http_response *resp)
{
	char last[sizeof resp->error] = "";
	bool last_timed_out = false;
	size_t tried = 0;
	size_t cap = resp->body.limit;

	if (h->max_body && h->max_body < cap)
		cap = h->max_body;
	for (size_t i = 0; i < n; i++) {
		char url[URL_MAX_LEN];
		size_t blen = strlen(bases[i]), plen = strlen(path);
		int64_t left = pgha_deadline_left_ms(d);

		if (left <= 0) {
			if (tried == 0)
				pgha_errf(resp->error, sizeof resp->error,
					"deadline passed before contacting \"%s\"", bases[i]);
			else
				pgha_errf(resp->error, sizeof resp->error,
					"no endpoint answered in time (%zu of %zu tried); last: %s",
					tried, n, last);
			return PGHA_E_TIMEOUT;
		}
		if (blen + plen >= sizeof url) {
			pgha_errf(resp->error, sizeof resp->error,
				"URL for \"%s\" longer than %zu bytes", bases[i], sizeof url - 1);
			return PGHA_E_INVALID;
		}
		memcpy(url, bases[i], blen);
		memcpy(url + blen, path, plen + 1);

		/* each endpoint not yet tried gets an equal share of the time */
		int64_t budget = left / (int64_t)(n - i);
		struct pgha_http_attempt a = {
			.client = h, .method = method, .url = url, .endpoint = bases[i],
			.body = body, .budget_ms = budget < 1 ? 1 : budget,
			.out = &resp->body, .cap = cap,
		};
		pgha_buf_reset(&resp->body);
		int64_t start = pgha_now_ms();
		int rc = has_prefix_ci(url, blen, "https://") ? pgha_http_curl_attempt(&a)
							      : pgha_http_plain_attempt(&a);
		tried++;
		if (rc == 0) {
			resp->status = a.status;
			resp->endpoint = bases[i];
			resp->error[0] = '\0';
			/* make body.data non-NULL even for an empty body */
			if (pgha_buf_append(&resp->body, "", 0) == PGHA_E_NOMEM) {
				pgha_errf(resp->error, sizeof resp->error, "out of memory");
				return PGHA_E_NOMEM;
			}
			trace(&a, url, a.status, NULL, start);
			return 0;
		}
		if (rc == PGHA_ATTEMPT_NEXT) {
			/* this endpoint's problem (or the network's): try the next */
			pgha_errf(last, sizeof last, "%s", a.msg);
			last_timed_out = a.timed_out;
			trace(&a, url, 0, last, start);
			continue;
		}
		pgha_errf(resp->error, sizeof resp->error, "%s", a.msg);
		trace(&a, url, 0, resp->error, start);
		pgha_buf_reset(&resp->body);
		return rc;
	}

	/* Every endpoint failed. */
	if (n == 1)
		pgha_errf(resp->error, sizeof resp->error, "%s", last);
	else
		pgha_errf(resp->error, sizeof resp->error,
			"no endpoint answered (%zu tried); last: %s", tried, last);
	/* The last endpoint gets all the time left, so its timeout is the
	 * deadline's. */
	return (last_timed_out || pgha_deadline_expired(d)) ? PGHA_E_TIMEOUT
							    : PGHA_E_UNREACHABLE;
}

/* Checks shared by both request functions; 0 or PGHA_E_INVALID with
 * resp->error set. */
static int check_args(const struct pgha_http *h, const struct pgha_deadline *d,
		      const char *method, struct pgha_http_response *resp)
{
	resp->status = 0;
	resp->endpoint = NULL;
	resp->error[0] = '\0';
	pgha_buf_reset(&resp->body);
	if (!h || !d) {
		pgha_errf(resp->error, sizeof resp->error,
			"HTTP request without a client or deadline");
		return PGHA_E_INVALID;
	}
	if (!valid_method(method)) {
		pgha_errf(resp->error, sizeof resp->error,
			"invalid HTTP method");
		return PGHA_E_INVALID;
	}
	return 0;
}

int pgha_http_request(struct pgha_http *h, const struct pgha_deadline *d,
		      const char *method, const char *path, const char *body,
		      struct pgha_http_response *resp)
{
	char shown[160];
	int rc = check_args(h, d, method, resp);
	if (rc)
		return rc;
	if (!valid_path(path)) {
		printable(shown, sizeof shown, path ? path : "",
			  path ? strlen(path) : 0);
		pgha_errf(resp->error, sizeof resp->error,
			"invalid request path \"%s\": must start with '/' and contain no whitespace",
			shown);
		return PGHA_E_INVALID;
	}
	if (h->n_endpoints == 0) {
		pgha_errf(resp->error, sizeof resp->error, "no endpoint given");
		return PGHA_E_INVALID;
	}
	return run(h, d, method, (const char *const *)h->endpoints,
		   h->n_endpoints, path, body, resp);
}

int pgha_http_get(struct pgha_http *h, const struct pgha_deadline *d,
		  const char *path, struct pgha_http_response *resp)
{
	return pgha_http_request(h, d, "GET", path, NULL, resp);
}

int pgha_http_request_url(struct pgha_http *h, const struct pgha_deadline *d,
			  const char *method, const char *url, const char *body,
			  struct pgha_http_response *resp)
{
	int rc = check_args(h, d, method, resp);
	if (rc)
		return rc;
	if (!url) {
		pgha_errf(resp->error, sizeof resp->error, "invalid URL \"\": empty");
		return PGHA_E_INVALID;
	}
	rc = check_url(url, strlen(url), false, resp->error,
		       sizeof resp->error);
	if (rc)
		return rc;
	return run(h, d, method, &url, 1, "", body, resp);
}
