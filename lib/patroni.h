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

/* Compare dotted versions numerically ("3.0.10" > "3.0.2"); a missing
 * part counts as 0. Returns <0, 0 or >0. */
int pgha_version_cmp(const char *a, const char *b);

#endif
