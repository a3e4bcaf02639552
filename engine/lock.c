/*
 * lock.c: the cluster lock, an etcd key bound to a lease. See lock.h.
 *
 * Two HTTP clients over the same endpoints and credentials: the main
 * thread's (acquire, fencing checks, release) and the keepalive thread's,
 * so neither waits for the other's request. The thread sleeps on a
 * condition variable (monotonic clock) between keepalives and wakes at
 * once when the lock is released. It blocks SIGINT and SIGTERM: those
 * belong to the main thread, which interrupts the runbook.
 *
 * A keepalive that fails is retried every second; one whose answer has
 * no TTL means the lease is gone, which the next fencing check reports.
 * An auth token that etcd no longer accepts (simple tokens expire after
 * five idle minutes) is renewed once per request.
 */
#define _DEFAULT_SOURCE
#include <config.h>

#include "lock.h"

#include "base64.h"
#include "clock.h"
#include "error.h"
#include "etcd.h"
#include "json.h"
#include "rest.h"

#include <cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CALL_SECONDS 10.0 /* per etcd request: a lost quorum answers in ~7 s */

struct client {
	struct pgha_rest rest;
	char *token; /* owned; NULL without auth */
};

struct pgha_lock {
	char prefix[16];     /* "/v3" */
	char key[1024];      /* "/pgha/lock/<scope>" */
	char *key_b64;       /* owned */
	char lease[24];
	int ttl;
	char create_rev[24]; /* of our key, decimal */
	struct client main, ka;
	bool main_open, ka_open;

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;           /* under mu */
	bool lease_lost;     /* under mu: keepalive answered without a TTL */
	char ka_error[256];  /* under mu: the last keepalive failure, "" */
};

/* --- small helpers -------------------------------------------------------- */

static void copy(char *dst, size_t dstlen, const char *src)
{
	snprintf(dst, dstlen, "%s", src ? src : "");
}

void pgha_lock_holder_self(struct pgha_lock_holder *h)
{
	struct passwd *pw = getpwuid(geteuid());
	if (pw)
		copy(h->user, sizeof h->user, pw->pw_name);
	else
		snprintf(h->user, sizeof h->user, "uid %ld", (long)geteuid());
	if (gethostname(h->host, sizeof h->host) != 0)
		copy(h->host, sizeof h->host, "?");
	h->host[sizeof h->host - 1] = '\0';
	h->pid = (long)getpid();
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(h->since, sizeof h->since, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void pgha_lock_holder_describe(const struct pgha_lock_holder *h, char *out, size_t outlen)
{
	snprintf(out, outlen, "run %s (runbook %s %s, user %s on host %s, pid %ld, since %s)",
		 h->run[0] ? h->run : "?", h->runbook[0] ? h->runbook : "?",
		 h->version[0] ? h->version : "?", h->user[0] ? h->user : "?",
		 h->host[0] ? h->host : "?", h->pid, h->since[0] ? h->since : "?");
}

/* base64 of a NUL-terminated string; caller frees; NULL when out of memory. */
static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(PGHA_BASE64_LEN(n));
	if (out)
		pgha_base64_encode(s, n, out);
	return out;
}

/* A decimal int64 string as etcd sends them: digits only, not empty. */
static bool decimal(const char *s)
{
	if (!s || !*s || strlen(s) > 20)
		return false;
	return strspn(s, "0123456789") == strlen(s);
}

/* The JSON holder; caller frees. */
static char *holder_json(const struct pgha_lock_holder *h)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "run", h->run);
	cJSON_AddStringToObject(o, "runbook", h->runbook);
	cJSON_AddStringToObject(o, "version", h->version);
	cJSON_AddStringToObject(o, "user", h->user);
	cJSON_AddStringToObject(o, "host", h->host);
	cJSON_AddNumberToObject(o, "pid", (double)h->pid);
	cJSON_AddStringToObject(o, "since", h->since);
	cJSON_AddStringToObject(o, "lease", h->lease);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* Read a holder from a key-value of a range answer (kvs[i]). Fields that
 * are missing stay empty; the key's own lease fills "lease" when the
 * value does not say. */
static void holder_from_kv(const cJSON *kv, struct pgha_lock_holder *h)
{
	memset(h, 0, sizeof *h);
	const char *lease = NULL, *value = NULL;
	if (pgha_json_string(kv, "lease", &lease) == 0)
		copy(h->lease, sizeof h->lease, lease);
	if (pgha_json_string(kv, "value", &value) != 0) {
		copy(h->run, sizeof h->run, "(no value)");
		return;
	}
	size_t vl = strlen(value);
	unsigned char *raw = malloc(vl / 4 * 3 + 4);
	long n = raw ? pgha_base64_decode(value, raw) : -1;
	cJSON *j = NULL;
	char why[64];
	if (n < 0 || pgha_json_parse((const char *)raw, (size_t)n, &j, why, sizeof why) != 0 ||
	    !cJSON_IsObject(j)) {
		copy(h->run, sizeof h->run, "(not a pgha holder)");
		cJSON_Delete(j);
		free(raw);
		return;
	}
	const char *s;
	if (pgha_json_string(j, "run", &s) == 0)
		copy(h->run, sizeof h->run, s);
	if (pgha_json_string(j, "runbook", &s) == 0)
		copy(h->runbook, sizeof h->runbook, s);
	if (pgha_json_string(j, "version", &s) == 0)
		copy(h->version, sizeof h->version, s);
	if (pgha_json_string(j, "user", &s) == 0)
		copy(h->user, sizeof h->user, s);
	if (pgha_json_string(j, "host", &s) == 0)
		copy(h->host, sizeof h->host, s);
	if (pgha_json_string(j, "since", &s) == 0)
		copy(h->since, sizeof h->since, s);
	if (pgha_json_string(j, "lease", &s) == 0 && !h->lease[0])
		copy(h->lease, sizeof h->lease, s);
	int64_t pid;
	if (pgha_json_int64(j, "pid", &pid) == 0)
		h->pid = (long)pid;
	cJSON_Delete(j);
	free(raw);
}

/* responses[i].response_range.kvs[0] of a txn answer, or NULL. */
static const cJSON *txn_kv(const cJSON *root, int i)
{
	const cJSON *responses, *range, *kvs;
	if (pgha_json_array(root, "responses", &responses) != 0)
		return NULL;
	const cJSON *r = cJSON_GetArrayItem(responses, i);
	if (pgha_json_object(r, "response_range", &range) != 0 ||
	    pgha_json_array(range, "kvs", &kvs) != 0)
		return NULL;
	const cJSON *kv = cJSON_GetArrayItem(kvs, 0);
	return cJSON_IsObject(kv) ? kv : NULL;
}

/* --- etcd calls -------------------------------------------------------------- */

static int client_open(struct client *c, const struct pgha_clusterfile *cf, char *err,
		       size_t errlen)
{
	struct pgha_common common;
	memset(&common, 0, sizeof common);
	common.auth_file = cf->auth_file; /* the cluster file's only */
	common.cacert = cf->cacert;
	common.cert = cf->cert;
	common.key = cf->key;
	common.insecure = cf->insecure;
	c->token = NULL;
	int rc = pgha_rest_open(&c->rest, (const char *const *)cf->etcd, cf->n_etcd, &common, err,
				errlen);
	if (rc)
		pgha_rest_close(&c->rest);
	else
		c->rest.http.auth = NULL; /* etcd takes a token, never basic auth (which it
					     rejects as "invalid auth token") */
	return rc;
}

static void client_close(struct client *c)
{
	pgha_rest_close(&c->rest);
	free(c->token);
	c->token = NULL;
}

/* POST l->prefix + what with body; on an auth failure with credentials,
 * authenticate again and retry once. */
static int call(struct pgha_lock *l, struct client *c, const char *what, const char *body,
		cJSON **root, char *err, size_t errlen)
{
	char path[64];
	snprintf(path, sizeof path, "%s%s", l->prefix, what);
	for (int attempt = 0;; attempt++) {
		struct pgha_deadline d;
		pgha_deadline_start(&d, CALL_SECONDS);
		int rc = pgha_etcd_call(&c->rest, &d, path, body, root, err, errlen);
		bool auth = rc == PGHA_E_AUTH || (rc == PGHA_E_PROTOCOL && strstr(err, "auth token"));
		if (!auth || attempt > 0 || !c->rest.creds.username)
			return rc;
		free(c->token);
		c->token = NULL;
		c->rest.http.token = NULL;
		pgha_deadline_start(&d, CALL_SECONDS);
		rc = pgha_etcd_authenticate(&c->rest, &d, l->prefix, &c->token, err, errlen);
		if (rc)
			return rc;
	}
}

static int lease_revoke(struct pgha_lock *l, struct client *c, const char *lease, char *err,
		  size_t errlen)
{
	char body[64];
	snprintf(body, sizeof body, "{\"ID\":\"%s\"}", lease);
	cJSON *root = NULL;
	int rc = call(l, c, "/lease/revoke", body, &root, err, errlen);
	cJSON_Delete(root);
	if (rc && strstr(err, "lease not found"))
		rc = 0; /* expired already: the key went with it */
	return rc;
}

/* One keepalive: 0 (alive), PGHA_LOCK_LOST (no TTL: the lease is gone)
 * or the call's error. */
static int keepalive_once(struct pgha_lock *l, char *err, size_t errlen)
{
	char body[64];
	snprintf(body, sizeof body, "{\"ID\":\"%s\"}", l->lease);
	cJSON *root = NULL;
	int rc = call(l, &l->ka, "/lease/keepalive", body, &root, err, errlen);
	if (rc == 0) {
		/* a stream: {"result":{"ID":..,"TTL":"30"}}; no TTL once expired */
		const cJSON *result;
		int64_t ttl = 0;
		if (pgha_json_object(root, "result", &result) != 0)
			result = root;
		if (pgha_json_int64(result, "TTL", &ttl) != 0 || ttl <= 0) {
			pgha_errf(err, errlen, "etcd says lease %s has expired", l->lease);
			rc = PGHA_LOCK_LOST;
		}
	}
	cJSON_Delete(root);
	return rc;
}

static void *keepalive_main(void *arg)
{
	struct pgha_lock *l = arg;
	int64_t interval = (int64_t)l->ttl * 1000 / 3, wait = interval;
	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		struct timespec now, until;
		clock_gettime(CLOCK_MONOTONIC, &now);
		until.tv_sec = now.tv_sec + (time_t)(wait / 1000);
		until.tv_nsec = now.tv_nsec + (long)(wait % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		int w = 0;
		while (!l->stop && w != ETIMEDOUT)
			w = pthread_cond_timedwait(&l->cv, &l->mu, &until);
		if (l->stop)
			break;
		pthread_mutex_unlock(&l->mu);
		char err[256] = "";
		int rc = keepalive_once(l, err, sizeof err);
		pthread_mutex_lock(&l->mu);
		if (rc == PGHA_LOCK_LOST)
			l->lease_lost = true;
		copy(l->ka_error, sizeof l->ka_error, rc ? err : "");
		wait = rc == 0 ? interval : 1000;
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* --- the lock --------------------------------------------------------------- */

static void lock_free(struct pgha_lock *l)
{
	if (!l)
		return;
	if (l->main_open)
		client_close(&l->main);
	if (l->ka_open)
		client_close(&l->ka);
	free(l->key_b64);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l);
}

static int lock_new(const struct pgha_clusterfile *cf, int ttl, struct pgha_lock **out, char *err,
		    size_t errlen)
{
	struct pgha_lock *l = calloc(1, sizeof *l);
	if (!l) {
		pgha_errf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	l->ttl = ttl;
	int n = snprintf(l->key, sizeof l->key, "%s%s", PGHA_LOCK_PREFIX, cf->scope);
	l->key_b64 = b64(l->key);
	if (n < 0 || (size_t)n >= sizeof l->key || !l->key_b64) {
		pgha_errf(err, errlen, "cluster scope too long or out of memory");
		lock_free(l);
		return PGHA_E_NOMEM;
	}
	*out = l;
	return 0;
}

/* The txn creating our key bound to the lease (success: put, then range
 * for its create_revision; failure: range for the holder). */
static char *acquire_body(const struct pgha_lock *l, const char *value_b64)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *cmp = cJSON_AddArrayToObject(o, "compare");
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "key", l->key_b64);
	cJSON_AddStringToObject(c, "result", "EQUAL");
	cJSON_AddStringToObject(c, "target", "CREATE");
	cJSON_AddStringToObject(c, "create_revision", "0");
	cJSON_AddItemToArray(cmp, c);
	cJSON *succ = cJSON_AddArrayToObject(o, "success");
	cJSON *put = cJSON_CreateObject();
	cJSON *p = cJSON_AddObjectToObject(put, "request_put");
	cJSON_AddStringToObject(p, "key", l->key_b64);
	cJSON_AddStringToObject(p, "value", value_b64);
	cJSON_AddStringToObject(p, "lease", l->lease);
	cJSON_AddItemToArray(succ, put);
	cJSON *rng = cJSON_CreateObject();
	cJSON_AddStringToObject(cJSON_AddObjectToObject(rng, "request_range"), "key", l->key_b64);
	cJSON_AddItemToArray(succ, rng);
	cJSON *fail = cJSON_AddArrayToObject(o, "failure");
	cJSON_AddItemToArray(fail, cJSON_Duplicate(rng, 1));
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* A txn comparing the key's create_revision with rev; success and failure
 * both read the key. */
static char *compare_body(const char *key_b64, const char *rev, bool delete_on_success)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *cmp = cJSON_AddArrayToObject(o, "compare");
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "key", key_b64);
	cJSON_AddStringToObject(c, "result", "EQUAL");
	cJSON_AddStringToObject(c, "target", "CREATE");
	cJSON_AddStringToObject(c, "create_revision", rev);
	cJSON_AddItemToArray(cmp, c);
	cJSON *rng = cJSON_CreateObject();
	cJSON_AddStringToObject(cJSON_AddObjectToObject(rng, "request_range"), "key", key_b64);
	cJSON *succ = cJSON_AddArrayToObject(o, "success");
	if (delete_on_success) {
		cJSON *del = cJSON_CreateObject();
		cJSON_AddStringToObject(cJSON_AddObjectToObject(del, "request_delete_range"), "key",
					key_b64);
		cJSON_AddItemToArray(succ, del);
	} else
		cJSON_AddItemToArray(succ, cJSON_Duplicate(rng, 1));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "failure"), rng);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* Remove a dead holder's key (the one created at rev) and its lease. */
static int take_over(struct pgha_lock *l, const char *rev, const char *lease, char *err,
		     size_t errlen)
{
	char *body = compare_body(l->key_b64, rev, true);
	if (!body) {
		pgha_errf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}
	cJSON *root = NULL;
	int rc = call(l, &l->main, "/kv/txn", body, &root, err, errlen);
	free(body);
	cJSON_Delete(root);
	if (rc == 0 && decimal(lease) && strcmp(lease, "0") != 0) {
		char why[256];
		/* the key is gone; should this fail, its lease expires */
		(void)lease_revoke(l, &l->main, lease, why, sizeof why);
	}
	return rc;
}

int pgha_lock_acquire(const struct pgha_clusterfile *cf, int ttl, struct pgha_lock_holder *me,
		      const char *take_over_run, struct pgha_lock **out,
		      struct pgha_lock_holder *holder, char *err, size_t errlen)
{
	*out = NULL;
	if (cf->n_etcd == 0) {
		pgha_errf(err, errlen, "no etcd in the cluster file");
		return PGHA_E_INVALID;
	}
	struct pgha_lock *l;
	int rc = lock_new(cf, ttl, &l, err, errlen);
	if (rc)
		return rc;
	rc = client_open(&l->main, cf, err, errlen);
	if (rc) {
		lock_free(l);
		return rc;
	}
	l->main_open = true;

	/* the API prefix and, with auth, a token */
	struct pgha_etcd_view view;
	struct pgha_deadline d;
	pgha_deadline_start(&d, CALL_SECONDS);
	rc = pgha_etcd_discover(&l->main.rest, &d, &view, err, errlen);
	copy(l->prefix, sizeof l->prefix, view.prefix);
	l->main.token = view.token; /* stolen: r->http.token points at it */
	view.token = NULL;
	pgha_etcd_view_free(&view);
	if (rc) {
		lock_free(l);
		return rc;
	}

	char body[64];
	snprintf(body, sizeof body, "{\"TTL\":%d}", ttl);
	cJSON *root = NULL;
	rc = call(l, &l->main, "/lease/grant", body, &root, err, errlen);
	const char *id = NULL;
	if (rc == 0 && (pgha_json_string(root, "ID", &id) != 0 || !decimal(id))) {
		pgha_errf(err, errlen, "etcd's lease grant has no ID");
		rc = PGHA_E_PROTOCOL;
	}
	if (rc == 0)
		copy(l->lease, sizeof l->lease, id);
	cJSON_Delete(root);
	if (rc) {
		lock_free(l);
		return rc;
	}
	copy(me->lease, sizeof me->lease, l->lease);

	char *value = holder_json(me);
	char *value_b64 = value ? b64(value) : NULL;
	char *txn = value_b64 ? acquire_body(l, value_b64) : NULL;
	free(value);
	free(value_b64);
	if (!txn) {
		pgha_errf(err, errlen, "out of memory");
		rc = PGHA_E_NOMEM;
	}
	bool won = false, tried_take_over = false;
	while (rc == 0 && !won) {
		root = NULL;
		rc = call(l, &l->main, "/kv/txn", txn, &root, err, errlen);
		if (rc)
			break;
		if (pgha_json_flag(root, "succeeded")) {
			const cJSON *kv = txn_kv(root, 1);
			const char *rev = NULL;
			if (!kv || pgha_json_string(kv, "create_revision", &rev) != 0 || !decimal(rev)) {
				pgha_errf(err, errlen, "etcd's txn answer has no create_revision");
				rc = PGHA_E_PROTOCOL;
			} else {
				copy(l->create_rev, sizeof l->create_rev, rev);
				won = true;
			}
		} else {
			const cJSON *kv = txn_kv(root, 0);
			struct pgha_lock_holder h;
			const char *rev = NULL;
			if (kv) {
				holder_from_kv(kv, &h);
				pgha_json_string(kv, "create_revision", &rev);
			}
			if (kv && take_over_run && !tried_take_over && strcmp(h.run, take_over_run) == 0 &&
			    decimal(rev)) {
				tried_take_over = true;
				rc = take_over(l, rev, h.lease, err, errlen);
			} else if (kv) {
				*holder = h;
				rc = PGHA_LOCK_HELD;
			} else if (!tried_take_over) {
				tried_take_over = true; /* gone meanwhile: try once more */
			} else {
				pgha_errf(err, errlen, "etcd's txn failed without saying who holds the key");
				rc = PGHA_E_PROTOCOL;
			}
		}
		cJSON_Delete(root);
	}
	free(txn);
	if (!won) {
		char why[256];
		lease_revoke(l, &l->main, l->lease, why, sizeof why); /* ours, unused */
		lock_free(l);
		return rc;
	}

	/* keepalive thread, with its own client */
	rc = client_open(&l->ka, cf, err, errlen);
	if (rc == 0) {
		l->ka_open = true;
		pgha_deadline_start(&d, CALL_SECONDS);
		rc = pgha_etcd_authenticate(&l->ka.rest, &d, l->prefix, &l->ka.token, err, errlen);
	}
	if (rc == 0) {
		sigset_t block, old;
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &block, &old);
		int e = pthread_create(&l->thread, NULL, keepalive_main, l);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (e != 0) {
			pgha_errf(err, errlen, "could not start the keepalive thread: %s", strerror(e));
			rc = PGHA_E_NOMEM;
		} else
			l->thread_started = true;
	}
	if (rc) {
		char why[256];
		lease_revoke(l, &l->main, l->lease, why, sizeof why);
		lock_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

int pgha_lock_check(struct pgha_lock *l, char *err, size_t errlen)
{
	char *body = compare_body(l->key_b64, l->create_rev, false);
	if (!body) {
		pgha_errf(err, errlen, "out of memory");
		return PGHA_E_NOMEM;
	}
	cJSON *root = NULL;
	int rc = call(l, &l->main, "/kv/txn", body, &root, err, errlen);
	free(body);
	if (rc == 0 && !pgha_json_flag(root, "succeeded")) {
		const cJSON *kv = txn_kv(root, 0);
		char ka[300];
		pthread_mutex_lock(&l->mu);
		snprintf(ka, sizeof ka, "%s%s", l->ka_error[0] ? "; last keepalive: " : "", l->ka_error);
		pthread_mutex_unlock(&l->mu);
		if (kv) {
			struct pgha_lock_holder h;
			char who[800];
			holder_from_kv(kv, &h);
			pgha_lock_holder_describe(&h, who, sizeof who);
			pgha_errf(err, errlen, "the key %s is now held by %s%s", l->key, who, ka);
		} else
			pgha_errf(err, errlen, "the key %s is gone (deleted, or lease %s expired)%s",
				  l->key, l->lease, ka);
		rc = PGHA_LOCK_LOST;
	}
	cJSON_Delete(root);
	return rc;
}

const char *pgha_lock_key(const struct pgha_lock *l) { return l->key; }
const char *pgha_lock_lease(const struct pgha_lock *l) { return l->lease; }
int pgha_lock_ttl(const struct pgha_lock *l) { return l->ttl; }

int pgha_lock_release(struct pgha_lock *l, char *err, size_t errlen)
{
	if (!l)
		return 0;
	if (l->thread_started) {
		pthread_mutex_lock(&l->mu);
		l->stop = true;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thread, NULL);
	}
	int rc = lease_revoke(l, &l->main, l->lease, err, errlen);
	lock_free(l);
	return rc;
}
