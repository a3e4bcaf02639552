/*
 * http.c: HTTP client over the libcurl easy interface (see http.h).
 *
 * Design:
 * - One CURL easy handle per client, created on the first request (a
 *   check that never makes a request pays nothing for libcurl), together
 *   with curl_global_init(); pgha_http_free() undoes both. libcurl counts
 *   global init/cleanup calls, so several clients in one process are fine.
 *   Reusing the handle keeps curl's connection and DNS caches.
 * - Every request starts from curl_easy_reset() and sets all options, so
 *   nothing leaks from one request into the next (a PATCH's custom method
 *   into the following GET, for instance).
 * - Endpoints are tried in order. Failures to reach an endpoint (refused,
 *   unresolvable, timed out, reset, empty reply, TLS handshake) move on to
 *   the next one; any HTTP answer, whatever its status, ends the request.
 *   Each attempt's time budget is the time left on the deadline divided by
 *   the number of endpoints not yet tried, so one hanging node cannot use
 *   up the time of the others.
 * - Errors the next endpoint cannot fix stop at once: a body over the cap
 *   (PGHA_E_TOOBIG), out of memory, and local set-up problems such as an
 *   unreadable CA or client certificate (PGHA_E_INVALID).
 * - The body is capped in the write callback; a Content-Length over the
 *   cap is refused before any byte is read (CURLOPT_MAXFILESIZE_LARGE).
 * - curl's own verbose output would print the Authorization header, so
 *   the trace (verbose >= 3) is ours: method, URL, outcome, time; never
 *   headers or bodies.
 */
#define _POSIX_C_SOURCE 200809L
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#include "http.h"
#include "error.h"

#include <curl/curl.h>
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
	if (h->curl) {
		curl_easy_cleanup(h->curl);
		h->curl = NULL;
		curl_global_cleanup();
	}
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

/* Where the write callback puts the body, and why it refused. */
struct sink {
	struct pgha_buf *body;
	size_t cap;  /* most bytes accepted */
	int failed;  /* 0, PGHA_E_TOOBIG or PGHA_E_NOMEM */
};

/* CURLOPT_WRITEFUNCTION: append to the body; returning less than given
 * makes curl abort the transfer with CURLE_WRITE_ERROR. */
static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;

	if (n > s->cap - s->body->len) {
		s->failed = PGHA_E_TOOBIG;
		return 0;
	}
	int rc = pgha_buf_append(s->body, data, n);
	if (rc) {
		s->failed = rc;
		return 0;
	}
	return n;
}

/* The client's CURL handle, created (with curl's global state) on first
 * use. NULL when libcurl cannot be initialised. */
static CURL *get_handle(struct pgha_http *h)
{
	if (!h->curl) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		h->curl = curl_easy_init();
		if (!h->curl)
			curl_global_cleanup();
	}
	return h->curl;
}

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

/* Errors in our own set-up (options, certificate files): retrying
 * elsewhere cannot help. Every other failure (refused, unresolvable,
 * timed out, reset, empty or garbled reply, TLS handshake or peer
 * verification) is taken as this endpoint's and the next one is tried. */
static bool setup_failure(CURLcode cc)
{
	switch (cc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_FAILED_INIT:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_UNKNOWN_OPTION:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
		return true;
	default:
		return false;
	}
}

/* One request in progress: what stays the same across attempts. */
struct request {
	struct pgha_http *h;
	CURL *curl;
	const char *method;
	const char *body;
	struct curl_slist *headers;
	struct sink sink;
	char errbuf[CURL_ERROR_SIZE];
};

/* Set the options shared by every attempt of the request, on a freshly
 * reset handle. Returns the first CURLcode that is not CURLE_OK. */
static CURLcode set_common_options(struct request *r)
{
	struct pgha_http *h = r->h;
	CURL *c = r->curl;
	CURLcode cc = CURLE_OK;

#define SET(opt, val) do { \
		if (cc == CURLE_OK) \
			cc = curl_easy_setopt(c, opt, val); \
	} while (0)

	curl_easy_reset(c);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, r->errbuf);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* Patroni and etcd are talked to directly: ignore http_proxy and
	 * friends in the environment */
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_USERAGENT, USER_AGENT);
	SET(CURLOPT_WRITEFUNCTION, on_write);
	SET(CURLOPT_WRITEDATA, &r->sink);
	SET(CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)(r->sink.cap > (size_t)INT64_MAX ? INT64_MAX
							 : (int64_t)r->sink.cap));
	SET(CURLOPT_HTTPHEADER, r->headers);

	if (r->body) {
		SET(CURLOPT_POSTFIELDS, r->body);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(r->body));
		if (strcmp(r->method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, r->method);
	} else if (strcmp(r->method, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
	} else if (strcmp(r->method, "HEAD") == 0) {
		SET(CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "POST") == 0 ||
		   strcmp(r->method, "PUT") == 0 ||
		   strcmp(r->method, "PATCH") == 0) {
		/* an empty body, still with "Content-Length: 0" */
		SET(CURLOPT_POSTFIELDS, "");
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		if (strcmp(r->method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, r->method);
	} else {
		SET(CURLOPT_CUSTOMREQUEST, r->method);
	}

	if (h->auth && h->auth->username) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(CURLOPT_USERNAME, h->auth->username);
		SET(CURLOPT_PASSWORD,
		    h->auth->password ? h->auth->password : "");
	}

	if (h->tls.cacert)
		SET(CURLOPT_CAINFO, h->tls.cacert);
	if (h->tls.cert)
		SET(CURLOPT_SSLCERT, h->tls.cert);
	if (h->tls.key)
		SET(CURLOPT_SSLKEY, h->tls.key);
	if (h->tls.insecure) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		SET(CURLOPT_SSL_VERIFYPEER, 1L);
		SET(CURLOPT_SSL_VERIFYHOST, 2L);
	}
#undef SET
	return cc;
}

/* Describe a failed attempt at endpoint (whose budget was budget_ms)
 * into msg. */
static void describe_failure(const struct request *r, CURLcode cc,
			     const char *endpoint, int64_t budget_ms,
			     char *msg, size_t msglen)
{
	const char *why = r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc);
	long os_errno = 0;

	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		pgha_errf(msg, msglen, "no answer from \"%s\" within %lld ms",
			endpoint, (long long)budget_ms);
		break;
	case CURLE_COULDNT_CONNECT:
		/* "Connection refused" rather than curl's longer sentence */
		if (curl_easy_getinfo(r->curl, CURLINFO_OS_ERRNO, &os_errno) ==
			    CURLE_OK && os_errno > 0 && os_errno < INT_MAX)
			why = strerror((int)os_errno);
		pgha_errf(msg, msglen, "could not connect to \"%s\": %s",
			endpoint, why);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		pgha_errf(msg, msglen, "could not connect to \"%s\": %s",
			endpoint, why);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		pgha_errf(msg, msglen, "TLS connection to \"%s\" failed: %s",
			endpoint, why);
		break;
	default:
		pgha_errf(msg, msglen, "connection to \"%s\" failed: %s",
			endpoint, why);
		break;
	}
}

/* Write one trace line for an attempt when verbose >= 3. */
static void trace(const struct request *r, const char *url, long status,
		  const char *failure, int64_t start_ms)
{
	if (r->h->verbose < 3)
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
	struct request r;
	char last[sizeof resp->error] = "";
	bool last_timed_out = false;
	size_t tried = 0;
	int rc = PGHA_E_UNREACHABLE;

	r.h = h;
	r.method = method;
	r.body = body;
	r.headers = NULL;
	r.errbuf[0] = '\0';
	r.sink.body = &resp->body;
	r.sink.cap = resp->body.limit;
	if (h->max_body && h->max_body < r.sink.cap)
		r.sink.cap = h->max_body;
	r.sink.failed = 0;

	r.curl = get_handle(h);
	if (!r.curl) {
		pgha_errf(resp->error, sizeof resp->error,
			"could not initialise libcurl");
		return PGHA_E_NOMEM;
	}
	/* "Expect:" stops curl from waiting for a "100 Continue" that
	 * simple servers never send. */
	struct curl_slist *hd = curl_slist_append(NULL, "Expect:");
	if (hd && body) {
		struct curl_slist *more =
			curl_slist_append(hd, "Content-Type: application/json");
		if (!more) {
			curl_slist_free_all(hd);
			hd = NULL;
		}
	}
	if (!hd) {
		pgha_errf(resp->error, sizeof resp->error, "out of memory");
		return PGHA_E_NOMEM;
	}
	r.headers = hd;

	CURLcode cc = set_common_options(&r);
	if (cc != CURLE_OK) {
		pgha_errf(resp->error, sizeof resp->error,
			"could not set up HTTP request: %s",
			curl_easy_strerror(cc));
		rc = cc == CURLE_OUT_OF_MEMORY ? PGHA_E_NOMEM : PGHA_E_INVALID;
		goto out;
	}

	for (size_t i = 0; i < n; i++) {
		char url[URL_MAX_LEN];
		size_t blen = strlen(bases[i]), plen = strlen(path);
		int64_t left = pgha_deadline_left_ms(d);

		if (left <= 0) {
			if (tried == 0)
				pgha_errf(resp->error, sizeof resp->error,
					"deadline passed before contacting \"%s\"",
					bases[i]);
			else
				pgha_errf(resp->error, sizeof resp->error,
					"no endpoint answered in time (%zu of %zu tried); last: %s",
					tried, n, last);
			rc = PGHA_E_TIMEOUT;
			goto out;
		}
		if (blen + plen >= sizeof url) {
			pgha_errf(resp->error, sizeof resp->error,
				"URL for \"%s\" longer than %zu bytes", bases[i],
				sizeof url - 1);
			rc = PGHA_E_INVALID;
			goto out;
		}
		memcpy(url, bases[i], blen);
		memcpy(url + blen, path, plen + 1);

		int64_t budget = left / (int64_t)(n - i);
		if (budget < 1)
			budget = 1;
		if (budget > LONG_MAX)
			budget = LONG_MAX;

		pgha_buf_reset(&resp->body);
		r.sink.failed = 0;
		r.errbuf[0] = '\0';
		cc = curl_easy_setopt(r.curl, CURLOPT_URL, url);
		if (cc == CURLE_OK)
			cc = curl_easy_setopt(r.curl, CURLOPT_TIMEOUT_MS,
					      (long)budget);
		if (cc == CURLE_OK)
			cc = curl_easy_setopt(r.curl, CURLOPT_CONNECTTIMEOUT_MS,
					      (long)budget);
		int64_t start = pgha_now_ms();
		if (cc == CURLE_OK)
			cc = curl_easy_perform(r.curl);
		tried++;

		if (cc == CURLE_OK) {
			long status = 0;
			curl_easy_getinfo(r.curl, CURLINFO_RESPONSE_CODE, &status);
			resp->status = status;
			resp->endpoint = bases[i];
			resp->error[0] = '\0';
			/* make body.data non-NULL even for an empty body */
			if (pgha_buf_append(&resp->body, "", 0) == PGHA_E_NOMEM) {
				pgha_errf(resp->error, sizeof resp->error,
					"out of memory");
				rc = PGHA_E_NOMEM;
				goto out;
			}
			trace(&r, url, status, NULL, start);
			rc = 0;
			goto out;
		}

		if (r.sink.failed == PGHA_E_TOOBIG ||
		    cc == CURLE_FILESIZE_EXCEEDED) {
			pgha_errf(resp->error, sizeof resp->error,
				"response from \"%s\" larger than %zu bytes", url,
				r.sink.cap);
			rc = PGHA_E_TOOBIG;
		} else if (r.sink.failed == PGHA_E_NOMEM ||
			   cc == CURLE_OUT_OF_MEMORY) {
			pgha_errf(resp->error, sizeof resp->error,
				"out of memory reading the response from \"%s\"",
				url);
			rc = PGHA_E_NOMEM;
		} else if (setup_failure(cc)) {
			pgha_errf(resp->error, sizeof resp->error,
				"could not send request to \"%s\": %s", url,
				r.errbuf[0] ? r.errbuf : curl_easy_strerror(cc));
			rc = PGHA_E_INVALID;
		} else {
			/* Anything else is this endpoint's problem (or the
			 * network's): try the next one. */
			describe_failure(&r, cc, bases[i], budget, last,
					 sizeof last);
			last_timed_out = cc == CURLE_OPERATION_TIMEDOUT;
			trace(&r, url, 0, last, start);
			continue;
		}
		trace(&r, url, 0, resp->error, start);
		pgha_buf_reset(&resp->body);
		goto out;
	}

	/* Every endpoint failed. */
	if (n == 1)
		pgha_errf(resp->error, sizeof resp->error, "%s", last);
	else
		pgha_errf(resp->error, sizeof resp->error,
			"no endpoint answered (%zu tried); last: %s", tried,
			last);
	/* The last endpoint gets all the time left, so its timeout is the
	 * deadline's. */
	rc = (last_timed_out || pgha_deadline_expired(d)) ? PGHA_E_TIMEOUT
							  : PGHA_E_UNREACHABLE;
out:
	/* Do not leave pointers to our stack or the caller's body in the
	 * handle between requests. */
	curl_easy_setopt(r.curl, CURLOPT_ERRORBUFFER, (char *)NULL);
	curl_easy_setopt(r.curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
	curl_easy_setopt(r.curl, CURLOPT_POSTFIELDS, (char *)NULL);
	curl_easy_setopt(r.curl, CURLOPT_USERNAME, (char *)NULL);
	curl_easy_setopt(r.curl, CURLOPT_PASSWORD, (char *)NULL);
	curl_slist_free_all(r.headers);
	return rc;
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
