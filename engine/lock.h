/*
 * lock.h: the cluster lock of the runbook engine, one etcd key per cluster
 * scope bound to a lease (shared design etcd-api.md, "Runbook lock").
 *
 * Key: PGHA_LOCK_PREFIX "<scope>" ("/pgha/lock/main"); `etcd.lock_holder()`
 * of the runbook host reads the same key. Value: the holder as JSON,
 *
 *   {"run":"20261125T212348Z-1087-6e91","runbook":"switchover",
 *    "version":"1.2.0","user":"alice","host":"db-admin1","pid":1087,
 *    "since":"2026-11-25T21:23:48Z","lease":"3644716205522740231"}
 *
 * Protocol: lease grant (TTL seconds), then a txn creating the key only if
 * absent (create_revision == 0) bound to the lease; the loser reads the
 * holder from the txn's failure branch. A background thread with its own
 * HTTP client keeps the lease alive every TTL/3. Fencing: before a step
 * mutates, pgha_lock_check() compares the key's create_revision with the
 * one we created (a txn compare), so a run whose lease expired, or whose
 * key was deleted, learns it before it changes anything. Release revokes
 * the lease, which deletes the key; a crashed holder's key goes when its
 * lease expires.
 *
 * Credentials: the cluster file's auth_file only (etcd user and password,
 * exchanged for a token when etcd has auth enabled); TLS files from the
 * cluster file.
 *
 * Ownership: pgha_lock_acquire() returns a lock that pgha_lock_release()
 * releases and frees; the cluster file is borrowed until then.
 */
#ifndef PGHA_LOCK_H
#define PGHA_LOCK_H

#include <stddef.h>

#include "clusterfile.h"

#define PGHA_LOCK_PREFIX "/pgha/lock/"
#define PGHA_LOCK_TTL_DEFAULT 30
#define PGHA_LOCK_TTL_MIN 5
#define PGHA_LOCK_TTL_MAX 3600

/* Results besides 0 and the negative PGHA_E_* codes. */
enum {
	PGHA_LOCK_HELD = 1, /* pgha_lock_acquire: someone else holds it */
	PGHA_LOCK_LOST = 2  /* pgha_lock_check: the key is no longer ours */
};

/* Who holds the lock. Strings are copied (truncated to fit). */
struct pgha_lock_holder {
	char run[96];
	char runbook[128];
	char version[64];
	char user[64];
	char host[256];
	char since[32];  /* ISO 8601 UTC, "2026-11-25T21:23:48Z" */
	char lease[24];  /* the lease ID, decimal */
	long pid;
};

struct pgha_lock;

/* Fill h->user, h->host, h->pid and h->since from this process and now;
 * the caller sets run, runbook and version. */
void pgha_lock_holder_self(struct pgha_lock_holder *h);

/* Take the lock of cf's scope for me (me->lease is filled in), with a
 * lease of ttl seconds, kept alive in the background. When the key is
 * held by the run take_over (not NULL: a resumed run taking back its own
 * lock after a crash), that holder's key and lease are removed first.
 * Returns 0 and *out; PGHA_LOCK_HELD with *holder filled; or a negative
 * PGHA_E_* (PGHA_E_UNREACHABLE / PGHA_E_TIMEOUT: no etcd endpoint
 * answered; PGHA_E_AUTH: credentials refused or unusable; PGHA_E_INVALID:
 * no etcd URL in cf) with one line in err. */
int pgha_lock_acquire(const struct pgha_clusterfile *cf, int ttl, struct pgha_lock_holder *me,
		      const char *take_over, struct pgha_lock **out, struct pgha_lock_holder *holder,
		      char *err, size_t errlen);

/* Fencing: is the key still the one we created? Returns 0 when it is;
 * PGHA_LOCK_LOST (err says why: deleted, held by another run, lease
 * expired); or a negative PGHA_E_* when etcd could not be asked (err). */
int pgha_lock_check(struct pgha_lock *l, char *err, size_t errlen);

/* The key ("/pgha/lock/main"), lease ID and TTL; borrowed until release. */
const char *pgha_lock_key(const struct pgha_lock *l);
const char *pgha_lock_lease(const struct pgha_lock *l);
int pgha_lock_ttl(const struct pgha_lock *l);

/* Stop the keepalive thread, revoke the lease (the key goes with it) and
 * free l. Returns 0, or a negative PGHA_E_* when the revoke failed (err
 * set; the key then expires with its lease). NULL: returns 0. */
int pgha_lock_release(struct pgha_lock *l, char *err, size_t errlen);

/* "run R (runbook N V, user U on host H, pid P, since T)" into out. */
void pgha_lock_holder_describe(const struct pgha_lock_holder *h, char *out, size_t outlen);

#endif
