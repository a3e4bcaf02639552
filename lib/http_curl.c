/*
 * http_curl.c: the https:// transport, over libcurl loaded at run time.
 *
 * Linking libcurl costs every check about 7 ms and 7 MB at start-up (it
 * pulls in 30-odd shared libraries and a TLS stack), whether or not it
 * speaks TLS. So libcurl is opened with dlopen() the first time an https
 * endpoint is contacted, and only then. One easy handle per client is
 * reused across attempts; each attempt starts from curl_easy_reset() so
 * nothing carries over from the previous request.
 *
 * curl's own verbose output would print the Authorization header, so it
 * is never turned on; http.c writes the trace.
 */
#define _POSIX_C_SOURCE 200809L
#define CURL_DISABLE_TYPECHECK 1 /* we call through function pointers */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#include "http_attempt.h"
#include "error.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <limits.h>
#include <string.h>

#define USER_AGENT "pgha/" PACKAGE_VERSION

/* The libcurl functions we use, resolved from the shared library. */
static int load_locked(char *msg, size_t msglen);

static struct {
	void *lib;
	int clients; /* clients holding an easy handle */
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} api;

/* Resolve one symbol into a function pointer without an object/function
 * pointer cast warning (POSIX guarantees the representation). */
static int resolve(void *slot, size_t size, const char *name)
{
	void *sym = dlsym(api.lib, name);
	if (!sym)
		return -1;
	memcpy(slot, &sym, size);
	return 0;
}
#define RESOLVE(field, name) resolve(&api.field, sizeof api.field, name)

/* Guards api: clients in several threads may open and release it. */
static pthread_mutex_t api_lock = PTHREAD_MUTEX_INITIALIZER;

/* Load libcurl and curl_global_init() it, and count the caller as a
 * client. 0, or -1 with msg set. */
static int load(char *msg, size_t msglen)
{
	int rc = 0;
	pthread_mutex_lock(&api_lock);
	if (!api.lib)
		rc = load_locked(msg, msglen);
	pthread_mutex_unlock(&api_lock);
	return rc;
}

static int load_locked(char *msg, size_t msglen)
{
	api.lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!api.lib) {
		pgha_errf(msg, msglen, "https needs libcurl: install the Debian package "
			  "libcurl4 (%s)", dlerror());
		return -1;
	}
	if (RESOLVE(global_init, "curl_global_init") ||
	    RESOLVE(global_cleanup, "curl_global_cleanup") ||
	    RESOLVE(easy_init, "curl_easy_init") ||
	    RESOLVE(easy_cleanup, "curl_easy_cleanup") ||
	    RESOLVE(easy_reset, "curl_easy_reset") ||
	    RESOLVE(easy_setopt, "curl_easy_setopt") ||
	    RESOLVE(easy_perform, "curl_easy_perform") ||
	    RESOLVE(easy_getinfo, "curl_easy_getinfo") ||
	    RESOLVE(easy_strerror, "curl_easy_strerror") ||
	    RESOLVE(slist_append, "curl_slist_append") ||
	    RESOLVE(slist_free_all, "curl_slist_free_all") ||
	    api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		pgha_errf(msg, msglen, "could not initialise libcurl");
		dlclose(api.lib);
		memset(&api, 0, sizeof api);
		return -1;
	}
	return 0;
}

void pgha_http_curl_release(struct pgha_http *h)
{
	if (!h->curl)
		return;
	pthread_mutex_lock(&api_lock);
	api.easy_cleanup(h->curl);
	h->curl = NULL;
	if (--api.clients == 0) {
		api.global_cleanup();
		dlclose(api.lib);
		memset(&api, 0, sizeof api);
	}
	pthread_mutex_unlock(&api_lock);
}

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

/* Set every option of the attempt on a freshly reset handle. Returns the
 * first CURLcode that is not CURLE_OK. */
static CURLcode set_options(CURL *c, const struct pgha_http_attempt *a,
			    struct curl_slist *headers, struct sink *sink, char *errbuf)
{
	const struct pgha_http *h = a->client;
	CURLcode cc = CURLE_OK;

#define SET(opt, val) do { \
		if (cc == CURLE_OK) \
			cc = api.easy_setopt(c, opt, val); \
	} while (0)

	api.easy_reset(c);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_URL, a->url);
	SET(CURLOPT_TIMEOUT_MS, (long)a->budget_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)a->budget_ms);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* Patroni and etcd are talked to directly: ignore http_proxy and
	 * friends in the environment */
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_USERAGENT, USER_AGENT);
	SET(CURLOPT_WRITEFUNCTION, on_write);
	SET(CURLOPT_WRITEDATA, sink);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(sink->cap > (size_t)INT64_MAX
						     ? INT64_MAX : (int64_t)sink->cap));
	SET(CURLOPT_HTTPHEADER, headers);

	const char *m = a->method;
	if (a->body) {
		SET(CURLOPT_POSTFIELDS, a->body);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(a->body));
		if (strcmp(m, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, m);
	} else if (strcmp(m, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
	} else if (strcmp(m, "HEAD") == 0) {
		SET(CURLOPT_NOBODY, 1L);
	} else if (strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
		/* an empty body, still with "Content-Length: 0" */
		SET(CURLOPT_POSTFIELDS, "");
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		if (strcmp(m, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, m);
	} else {
		SET(CURLOPT_CUSTOMREQUEST, m);
	}

	/* a token goes in a header (see pgha_http_curl_attempt) */
	if (!h->token && h->auth && h->auth->username) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(CURLOPT_USERNAME, h->auth->username);
		SET(CURLOPT_PASSWORD, h->auth->password ? h->auth->password : "");
	}
	if (h->tls.cacert)
		SET(CURLOPT_CAINFO, h->tls.cacert);
	if (h->tls.cert)
		SET(CURLOPT_SSLCERT, h->tls.cert);
	if (h->tls.key)
		SET(CURLOPT_SSLKEY, h->tls.key);
	SET(CURLOPT_SSL_VERIFYPEER, h->tls.insecure ? 0L : 1L);
	SET(CURLOPT_SSL_VERIFYHOST, h->tls.insecure ? 0L : 2L);
#undef SET
	return cc;
}

/* Describe why an attempt failed into a->msg. */
static void describe_failure(CURL *c, CURLcode cc, const char *errbuf,
			     struct pgha_http_attempt *a)
{
	const char *why = errbuf[0] ? errbuf : api.easy_strerror(cc);
	long os_errno = 0;

	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		pgha_errf(a->msg, sizeof a->msg, "no answer from \"%s\" within %lld ms",
			  a->endpoint, (long long)a->budget_ms);
		break;
	case CURLE_COULDNT_CONNECT:
		/* "Connection refused" rather than curl's longer sentence */
		if (api.easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK &&
		    os_errno > 0 && os_errno < INT_MAX)
			why = strerror((int)os_errno);
		pgha_errf(a->msg, sizeof a->msg, "could not connect to \"%s\": %s",
			  a->endpoint, why);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		pgha_errf(a->msg, sizeof a->msg, "could not connect to \"%s\": %s",
			  a->endpoint, why);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		pgha_errf(a->msg, sizeof a->msg, "TLS connection to \"%s\" failed: %s",
			  a->endpoint, why);
		break;
	default:
		pgha_errf(a->msg, sizeof a->msg, "connection to \"%s\" failed: %s",
			  a->endpoint, why);
		break;
	}
}

int pgha_http_curl_attempt(struct pgha_http_attempt *a)
{
	struct pgha_http *h = a->client;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct sink sink = { a->out, a->cap, 0 };
	int rc;

	if (load(a->msg, sizeof a->msg))
		return PGHA_E_INVALID;
	if (!h->curl) {
		pthread_mutex_lock(&api_lock);
		h->curl = api.easy_init();
		if (h->curl)
			api.clients++;
		pthread_mutex_unlock(&api_lock);
		if (!h->curl) {
			pgha_errf(a->msg, sizeof a->msg, "could not initialise libcurl");
			return PGHA_E_NOMEM;
		}
	}
	/* "Expect:" stops curl from waiting for a "100 Continue" that simple
	 * servers never send. */
	struct curl_slist *headers = api.slist_append(NULL, "Expect:");
	if (headers && a->body) {
		struct curl_slist *more = api.slist_append(headers, "Content-Type: application/json");
		if (!more) {
			api.slist_free_all(headers);
			headers = NULL;
		}
	}
	if (headers && h->token) {
		struct pgha_buf line;
		pgha_buf_init(&line, 8192);
		struct curl_slist *more = NULL;
		if (pgha_buf_printf(&line, "Authorization: %s", h->token) == 0)
			more = api.slist_append(headers, line.data);
		pgha_buf_free(&line);
		if (!more) {
			api.slist_free_all(headers);
			headers = NULL;
		}
	}
	if (!headers) {
		pgha_errf(a->msg, sizeof a->msg, "out of memory");
		return PGHA_E_NOMEM;
	}

	CURLcode cc = set_options(h->curl, a, headers, &sink, errbuf);
	if (cc != CURLE_OK) {
		pgha_errf(a->msg, sizeof a->msg, "could not set up HTTP request: %s",
			  api.easy_strerror(cc));
		rc = cc == CURLE_OUT_OF_MEMORY ? PGHA_E_NOMEM : PGHA_E_INVALID;
	} else if ((cc = api.easy_perform(h->curl)) == CURLE_OK) {
		api.easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &a->status);
		rc = 0;
	} else if (sink.failed == PGHA_E_TOOBIG || cc == CURLE_FILESIZE_EXCEEDED) {
		pgha_errf(a->msg, sizeof a->msg, "response from \"%s\" larger than %zu bytes",
			  a->url, a->cap);
		rc = PGHA_E_TOOBIG;
	} else if (sink.failed == PGHA_E_NOMEM || cc == CURLE_OUT_OF_MEMORY) {
		pgha_errf(a->msg, sizeof a->msg, "out of memory reading the response from \"%s\"",
			  a->url);
		rc = PGHA_E_NOMEM;
	} else if (setup_failure(cc)) {
		pgha_errf(a->msg, sizeof a->msg, "could not send request to \"%s\": %s", a->url,
			  errbuf[0] ? errbuf : api.easy_strerror(cc));
		rc = PGHA_E_INVALID;
	} else {
		describe_failure(h->curl, cc, errbuf, a);
		a->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
		rc = PGHA_ATTEMPT_NEXT;
	}
	/* leave no pointer to our stack, the body or the secrets in the handle */
	api.easy_reset(h->curl);
	api.slist_free_all(headers);
	return rc;
}
