/*
 * etcd.h: etcd's v3 JSON gateway: version, members, member status, auth,
 * a serializable key read and a lease's time to live.
 *
 * Facts (shared design etcd-api.md): every call is a POST with a JSON
 * body; 64-bit fields arrive as strings (member IDs exceed 2^53); zero
 * and false fields are omitted; 3.4 serves /v3 and /v3beta, 3.3 only
 * /v3beta, 3.5+ only /v3, and GET /version says which.
 *
 * Ownership: structures filled here borrow strings from the cJSON tree
 * they were read from, except where noted.
 */
#ifndef PGHA_ETCD_H
#define PGHA_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "rest.h"

#define PGHA_ETCD_MAX_MEMBERS 16

struct pgha_etcd_member {
	uint64_t id;
	const char *name;       /* "" while a new member has not started */
	const char *client_url; /* the first client URL, "" if none */
	bool learner;
};

/* POST .../maintenance/status as one member answered it. */
struct pgha_etcd_status {
	uint64_t member_id;  /* header.member_id */
	uint64_t leader;     /* 0: no leader */
	uint64_t raft_index, raft_applied_index, raft_term;
	uint64_t db_size, db_size_in_use;
	char version[32];    /* etcd's version, "" if absent (copied) */
	char errors[256];    /* the "errors" array joined, "" if none (copied) */
	bool alarm;          /* an error names an alarm (NOSPACE, CORRUPT) */
};

/* The API prefix ("/v3" or "/v3beta") from GET /version's
 * {"etcdserver":"3.4.23",...}; *version borrows from root. */
int pgha_etcd_prefix(const cJSON *root, const char **prefix, const char **version,
		     char *err, size_t errlen);

/* Read member/list into members (at most PGHA_ETCD_MAX_MEMBERS).
 * PGHA_E_PROTOCOL when there is no "members" array. */
int pgha_etcd_members_parse(const cJSON *root, struct pgha_etcd_member *members,
			    size_t *n, char *err, size_t errlen);

/* Read a maintenance/status answer. PGHA_E_PROTOCOL without a header. */
int pgha_etcd_status_parse(const cJSON *root, struct pgha_etcd_status *st,
			   char *err, size_t errlen);

/* When the client's credentials name a user, authenticate and keep the
 * token in *token (caller frees) and in r->http.token. A cluster without
 * auth answers an error we ignore (auth is then simply not needed).
 * Returns 0, or PGHA_E_AUTH with a message when the credentials are
 * refused. */
int pgha_etcd_authenticate(struct pgha_rest *r, const struct pgha_deadline *d,
			   const char *prefix, char **token, char *err, size_t errlen);

/* The cluster as the check and `pgha status` see it: the first endpoint
 * that answers gives the version (hence the API prefix), authenticates
 * when the credentials name a user, and lists the members. Borrowed
 * strings point into trees the view owns; free with pgha_etcd_view_free.
 * Returns 0 or the error of the step that failed, with err set. */
struct pgha_etcd_view {
	const char *prefix;   /* "/v3" or "/v3beta" */
	const char *version;  /* "3.4.23" */
	char *token;          /* owned; NULL without auth */
	struct pgha_etcd_member members[PGHA_ETCD_MAX_MEMBERS];
	size_t n_members;
	cJSON *version_doc, *list_doc; /* owned */
};
int pgha_etcd_discover(struct pgha_rest *r, const struct pgha_deadline *d,
		       struct pgha_etcd_view *v, char *err, size_t errlen);
void pgha_etcd_view_free(struct pgha_etcd_view *v);

/* One voter, as its own status answer says. */
struct pgha_etcd_voter {
	const struct pgha_etcd_member *member; /* borrowed from the view */
	bool answered, healthy;
	struct pgha_etcd_status st;
	char why[256]; /* why it is not healthy */
};

/* The quorum computed from every voter's status (asked concurrently, each
 * within member_timeout_ms): healthy = answered, has a leader, is the
 * member it claims to be, no errors. quorum = voters / 2 + 1. Members
 * with no name or client URL yet (added, not started) and learners do not
 * vote. */
struct pgha_etcd_health {
	struct pgha_etcd_voter voters[PGHA_ETCD_MAX_MEMBERS];
	size_t n_voters, healthy, quorum, learners;
	uint64_t leader;        /* agreed leader ID, 0 if none */
	const char *leader_name;/* borrowed, NULL if unknown */
	bool disagree;          /* healthy members name different leaders */
	bool alarm;             /* some member reports an alarm */
	uint64_t raft_term, max_db_size, raft_index_spread;
};
void pgha_etcd_assess(const struct pgha_http *model, const struct pgha_deadline *d,
		      int64_t member_timeout_ms, const struct pgha_etcd_view *v,
		      struct pgha_etcd_health *h);

/* POST path with body and parse the JSON answer (200 only; an etcd error
 * becomes PGHA_E_PROTOCOL with its message). */
int pgha_etcd_call(struct pgha_rest *r, const struct pgha_deadline *d, const char *path,
		   const char *body, cJSON **root, char *err, size_t errlen);

#endif
