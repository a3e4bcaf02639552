/*
 * patroni.h: the Patroni REST API's documents, read into plain structs.
 *
 * Hides the differences between Patroni 3.0.2 (Debian 12) and 4.x:
 * "master" (3.x) and "primary" (4.x) are both PGHA_ROLE_PRIMARY; absent
 * false flags read as false; a missing timeline is "unknown", not 0.
 * See shared design patroni-api.md.
 */
#ifndef PGHA_PATRONI_H
#define PGHA_PATRONI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

enum pgha_role {
	PGHA_ROLE_UNKNOWN = 0,
	PGHA_ROLE_PRIMARY,        /* "master" (3.x), "primary" (4.x) */
	PGHA_ROLE_STANDBY_LEADER, /* "standby_leader" */
	PGHA_ROLE_REPLICA         /* "replica" */
};

/* "primary", "standby_leader", "replica" or "unknown". */
const char *pgha_role_name(enum pgha_role role);

/* GET /patroni: one node's own view. Strings borrow from the JSON tree the
 * struct was parsed from and live as long as it. */
struct pgha_patroni_node {
	const char *state;      /* "running", "stopped", ...; "" if absent */
	const char *role_text;  /* as sent; "" if absent */
	enum pgha_role role;
	bool has_timeline;
	int64_t timeline;
	const char *version;    /* patroni.version, "" if absent */
	const char *scope;      /* patroni.scope, "" if absent */
	const char *name;       /* patroni.name (3.2+), "" if absent */
	int64_t server_version; /* 150020, 0 if absent */
	bool pending_restart;
	bool paused;
	const char *system_identifier;      /* "" if absent */
};

/* Read a /patroni document. PGHA_E_PROTOCOL with a message when it is not
 * an object or lacks "state" and "role". */
int pgha_patroni_node_parse(const cJSON *root, struct pgha_patroni_node *node,
			    char *err, size_t errlen);

/* A member's role in GET /cluster. */
enum pgha_member_role {
	PGHA_MEMBER_UNKNOWN = 0,
	PGHA_MEMBER_LEADER,         /* "leader" ("master"/"primary" accepted) */
	PGHA_MEMBER_STANDBY_LEADER, /* "standby_leader" */
	PGHA_MEMBER_SYNC_STANDBY,   /* "sync_standby" */
	PGHA_MEMBER_QUORUM_STANDBY, /* "quorum_standby" (4.0+) */
	PGHA_MEMBER_REPLICA         /* "replica" */
};

/* What a member's "lag" said. */
enum pgha_lag_kind {
	PGHA_LAG_ABSENT = 0, /* no "lag" key (the leader, a stopped member) */
	PGHA_LAG_BYTES,      /* a number of bytes */
	PGHA_LAG_UNKNOWN     /* "unknown", or anything that is not a number */
};

/* One member of GET /cluster. Strings borrow from the JSON tree; absent
 * strings are "". */
struct pgha_member {
	const char *name;
	const char *role_text;
	enum pgha_member_role role;
	const char *state;     /* "running", "streaming", "stopped", ... */
	const char *api_url;   /* ".../patroni" as Patroni publishes it */
	const char *host;
	int64_t port;          /* 0 if absent */
	bool has_timeline;
	int64_t timeline;
	enum pgha_lag_kind lag_kind;
	int64_t lag;           /* bytes, when lag_kind is PGHA_LAG_BYTES */
	bool has_receive_lag, has_replay_lag; /* 4.1+ */
	int64_t receive_lag, replay_lag;
	bool pending_restart;
	bool has_scheduled_restart;
	const cJSON *tags;     /* object or NULL */
};

/* GET /cluster. */
struct pgha_cluster {
	struct pgha_member *members; /* owned array */
	size_t n_members;
	bool paused;
	const cJSON *scheduled_switchover; /* object or NULL */
	const char *scope;                 /* 3.2+, "" if absent */
};

/* Read a /cluster document into c (c->members is allocated: free with
 * pgha_cluster_free; the strings still borrow from root). Members that
 * are not objects or have no name are skipped. PGHA_E_PROTOCOL when the
 * document has no "members" array; PGHA_E_NOMEM. */
int pgha_cluster_parse(const cJSON *root, struct pgha_cluster *c, char *err, size_t errlen);

void pgha_cluster_free(struct pgha_cluster *c);

/* The member called name, or NULL. Borrowed from c. */
const struct pgha_member *pgha_cluster_member(const struct pgha_cluster *c, const char *name);

/* The member names, "n1, n2, n3" ("none" without members), cut to
 * outlen. */
void pgha_cluster_names(const struct pgha_cluster *c, char *out, size_t outlen);

/* A node's base URL from its api_url or a base URL: "http://h:p/patroni",
 * "http://h:p/" and "http://h:p" all give "http://h:p" (cut to outlen). */
void pgha_patroni_base_url(const char *url, char *out, size_t outlen);

/* "leader", "standby_leader", "sync_standby", "quorum_standby", "replica"
 * or "unknown". */
const char *pgha_member_role_name(enum pgha_member_role role);

/* True for the roles that replicate from a leader: replica, sync_standby
 * and quorum_standby. */
bool pgha_member_is_replica(const struct pgha_member *m);

/* True when the member's PostgreSQL runs: "running" (leaders, and
 * replicas before 3.0.4) or "streaming" (replicas from 3.0.4). */
bool pgha_member_is_running(const struct pgha_member *m);

/* The leader or standby leader, or NULL when there is none. When several
 * claim it, the first one. */
const struct pgha_member *pgha_cluster_leader(const struct pgha_cluster *c);

/* GET <endpoint>/patroni and copy Patroni's version ("3.0.2") into
 * version. Returns 0; PGHA_E_UNREACHABLE / PGHA_E_TIMEOUT when the node did
 * not answer in time; PGHA_E_PROTOCOL for a non-200 answer or one without
 * a version; err says which. */
struct pgha_http;
struct pgha_deadline;
int pgha_patroni_version_at(struct pgha_http *http, const struct pgha_deadline *d,
			    const char *endpoint, char *version, size_t versionlen,
			    char *err, size_t errlen);

/* Does this Patroni version publish the replica states of 3.0.4 and
 * later ("streaming", "in archive recovery") rather than "running"? */
bool pgha_patroni_has_detailed_states(const char *version);

/* Ask the Patroni at endpoint (GET /patroni) whether it publishes the
 * states of 3.0.4+: sets *detailed and, when version is not NULL, copies
 * the version there ("" on error). Errors as pgha_patroni_version_at. */
int pgha_patroni_detailed_states_at(struct pgha_http *http, const struct pgha_deadline *d,
				    const char *endpoint, bool *detailed, char *version,
				    size_t versionlen, char *err, size_t errlen);

/* GET /cluster as a check reads it. */
struct pgha_rest;
struct pgha_cluster_doc {
	cJSON *root;                 /* the document; owned */
	struct pgha_cluster cluster; /* its strings borrow from root */
	const char *endpoint;        /* the endpoint that answered, or NULL;
					borrowed from the client: valid until
					pgha_rest_close */
};

/* GET /cluster from the first endpoint of rest that answers, and parse it
 * into doc. Returns 0, or with err set (the messages the checks print):
 * PGHA_E_UNREACHABLE / PGHA_E_TIMEOUT (nothing answered in time; the
 * client's message), PGHA_E_PROTOCOL (`GET /cluster from "URL" answered
 * HTTP 503`, a body that is not JSON, `GET /cluster from "URL": <why>`
 * for a document without members), PGHA_E_TOOBIG, PGHA_E_NOMEM; map them
 * with pgha_rest_failure_state / pgha_rest_set_failure. Whatever the
 * result, free doc with pgha_cluster_doc_free. */
int pgha_cluster_get(struct pgha_rest *rest, const struct pgha_deadline *d,
		     struct pgha_cluster_doc *doc, char *err, size_t errlen);

void pgha_cluster_doc_free(struct pgha_cluster_doc *doc);

/* The -v long-output line of the Patroni cluster checks:
 * `cluster "SCOPE" read from URL` (the scope when Patroni sends it). */
struct pgha_result;
void pgha_cluster_doc_line(const struct pgha_cluster_doc *doc, struct pgha_result *r);

/* --sync-type: which synchronous role a check accepts. */
enum pgha_sync_type {
	PGHA_SYNC_ANY = 0, /* "any": sync_standby or quorum_standby */
	PGHA_SYNC_SYNC,    /* "sync": sync_standby */
	PGHA_SYNC_QUORUM   /* "quorum": quorum_standby (Patroni 4.0+) */
};

/* Read "any", "sync" or "quorum". PGHA_E_INVALID with a message otherwise
 * (`invalid sync type "x": use any, sync or quorum`). */
int pgha_sync_type_parse(const char *text, enum pgha_sync_type *type, char *err,
			 size_t errlen);

/* Does a standby that is a sync_standby (sync) or a quorum_standby
 * (quorum) count as synchronous for type? */
bool pgha_sync_type_accepts(enum pgha_sync_type type, bool sync, bool quorum);

/* Read a --max-lag SIZE: bytes, with an optional unit (B kB MB GB TB).
 * An empty text (an unset Nagios $ARGn$) sets no limit: *has false,
 * *bytes untouched.
 * Returns 0 or PGHA_E_INVALID with a message (`invalid value "5XB": ...`,
 * or the bounds: a lag is between 0 and 1e18 bytes). */
int pgha_max_lag_parse(const char *text, bool *has, double *bytes, char *err, size_t errlen);

/* Compare dotted versions numerically ("3.0.10" > "3.0.2"); a missing
 * part counts as 0. Returns <0, 0 or >0. */
int pgha_version_cmp(const char *a, const char *b);

#endif
