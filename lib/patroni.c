/* patroni.c: Patroni REST API documents (see patroni.h). */
#include "patroni.h"
#include "error.h"

#include <stdio.h>
#include <string.h>

const char *pgha_role_name(enum pgha_role role)
{
	switch (role) {
	case PGHA_ROLE_PRIMARY: return "primary";
	case PGHA_ROLE_STANDBY_LEADER: return "standby_leader";
	case PGHA_ROLE_REPLICA: return "replica";
	case PGHA_ROLE_UNKNOWN: break;
	}
	return "unknown";
}

static enum pgha_role role_from_text(const char *text)
{
	if (strcmp(text, "master") == 0 || strcmp(text, "primary") == 0 ||
	    strcmp(text, "leader") == 0)
		return PGHA_ROLE_PRIMARY;
	if (strcmp(text, "standby_leader") == 0 || strcmp(text, "standby-leader") == 0)
		return PGHA_ROLE_STANDBY_LEADER;
	if (strcmp(text, "replica") == 0 || strcmp(text, "sync_standby") == 0 ||
	    strcmp(text, "quorum_standby") == 0)
		return PGHA_ROLE_REPLICA;
	return PGHA_ROLE_UNKNOWN;
}

/* A string member or "" when absent or not a string. */
static const char *string_or_empty(const cJSON *obj, const char *key)
{
	const char *s = "";
	pgha_json_string(obj, key, &s);
	return s;
}

int pgha_patroni_node_parse(const cJSON *root, struct pgha_patroni_node *node,
			    char *err, size_t errlen)
{
	memset(node, 0, sizeof *node);
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "Patroni status is not a JSON object");
		return PGHA_E_PROTOCOL;
	}
	if (pgha_json_string(root, "state", &node->state) ||
	    pgha_json_string(root, "role", &node->role_text)) {
		snprintf(err, errlen, "Patroni status has no \"state\" or \"role\"");
		return PGHA_E_PROTOCOL;
	}
	node->role = role_from_text(node->role_text);
	node->has_timeline = pgha_json_int64(root, "timeline", &node->timeline) == 0;
	const cJSON *patroni = NULL;
	pgha_json_object(root, "patroni", &patroni);
	node->version = string_or_empty(patroni, "version");
	node->scope = string_or_empty(patroni, "scope");
	node->name = string_or_empty(patroni, "name");
	if (pgha_json_int64(root, "server_version", &node->server_version))
		node->server_version = 0;
	node->pending_restart = pgha_json_flag(root, "pending_restart");
	node->paused = pgha_json_flag(root, "pause");
	node->system_identifier = string_or_empty(root, "database_system_identifier");
	return 0;
}

/* Read the next dotted component as a number; advance *s past it. */
static long next_part(const char **s)
{
	long v = 0;
	while (**s >= '0' && **s <= '9') {
		if (v < 100000000)
			v = v * 10 + (**s - '0');
		(*s)++;
	}
	while (**s && **s != '.')
		(*s)++; /* skip suffixes such as "rc1" */
	if (**s == '.')
		(*s)++;
	return v;
}

int pgha_version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		long x = next_part(&a), y = next_part(&b);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}
