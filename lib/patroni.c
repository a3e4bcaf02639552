/* patroni.c: Patroni REST API documents (see patroni.h). */
#include "patroni.h"
#include "error.h"
#include "http.h"
#include "output.h"
#include "range.h"
#include "rest.h"

#include <stdio.h>
#include <stdlib.h>
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

const char *pgha_member_role_name(enum pgha_member_role role)
{
	switch (role) {
	case PGHA_MEMBER_LEADER: return "leader";
	case PGHA_MEMBER_STANDBY_LEADER: return "standby_leader";
	case PGHA_MEMBER_SYNC_STANDBY: return "sync_standby";
	case PGHA_MEMBER_QUORUM_STANDBY: return "quorum_standby";
	case PGHA_MEMBER_REPLICA: return "replica";
	case PGHA_MEMBER_UNKNOWN: break;
	}
	return "unknown";
}

static enum pgha_member_role member_role_from_text(const char *text)
{
	static const struct { const char *name; enum pgha_member_role role; } roles[] = {
		{ "leader", PGHA_MEMBER_LEADER }, { "master", PGHA_MEMBER_LEADER },
		{ "primary", PGHA_MEMBER_LEADER },
		{ "standby_leader", PGHA_MEMBER_STANDBY_LEADER },
		{ "sync_standby", PGHA_MEMBER_SYNC_STANDBY },
		{ "quorum_standby", PGHA_MEMBER_QUORUM_STANDBY },
		{ "replica", PGHA_MEMBER_REPLICA },
	};
	for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
		if (strcmp(text, roles[i].name) == 0)
			return roles[i].role;
	return PGHA_MEMBER_UNKNOWN;
}

/* Fill one member from its JSON object. */
static void member_parse(const cJSON *obj, struct pgha_member *m)
{
	memset(m, 0, sizeof *m);
	m->name = string_or_empty(obj, "name");
	m->role_text = string_or_empty(obj, "role");
	m->role = member_role_from_text(m->role_text);
	m->state = string_or_empty(obj, "state");
	m->api_url = string_or_empty(obj, "api_url");
	m->host = string_or_empty(obj, "host");
	if (pgha_json_int64(obj, "port", &m->port))
		m->port = 0;
	m->has_timeline = pgha_json_int64(obj, "timeline", &m->timeline) == 0;
	const cJSON *lag = pgha_json_get(obj, "lag");
	if (!lag)
		m->lag_kind = PGHA_LAG_ABSENT;
	else if (cJSON_IsNumber(lag) && pgha_json_value_int64(lag, &m->lag) == 0 && m->lag >= 0)
		m->lag_kind = PGHA_LAG_BYTES;
	else
		m->lag_kind = PGHA_LAG_UNKNOWN; /* "unknown", or a shape we do not trust */
	m->has_receive_lag = pgha_json_int64(obj, "receive_lag", &m->receive_lag) == 0;
	m->has_replay_lag = pgha_json_int64(obj, "replay_lag", &m->replay_lag) == 0;
	m->pending_restart = pgha_json_flag(obj, "pending_restart");
	m->has_scheduled_restart = cJSON_IsObject(pgha_json_get(obj, "scheduled_restart"));
	const cJSON *tags = pgha_json_get(obj, "tags");
	m->tags = cJSON_IsObject(tags) ? tags : NULL;
}

int pgha_cluster_parse(const cJSON *root, struct pgha_cluster *c, char *err, size_t errlen)
{
	const cJSON *members;

	memset(c, 0, sizeof *c);
	if (pgha_json_array(root, "members", &members)) {
		pgha_errf(err, errlen, "Patroni cluster document has no \"members\" array");
		return PGHA_E_PROTOCOL;
	}
	size_t n = (size_t)cJSON_GetArraySize(members);
	if (n) {
		c->members = calloc(n, sizeof *c->members);
		if (!c->members) {
			pgha_errf(err, errlen, "out of memory");
			return PGHA_E_NOMEM;
		}
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, members) {
		if (!cJSON_IsObject(item) || !cJSON_IsString(pgha_json_get(item, "name")))
			continue;
		member_parse(item, &c->members[c->n_members++]);
	}
	c->paused = pgha_json_flag(root, "pause");
	const cJSON *sw = pgha_json_get(root, "scheduled_switchover");
	c->scheduled_switchover = cJSON_IsObject(sw) ? sw : NULL;
	c->scope = string_or_empty(root, "scope");
	return 0;
}

void pgha_cluster_free(struct pgha_cluster *c)
{
	free(c->members);
	memset(c, 0, sizeof *c);
}

const struct pgha_member *pgha_cluster_member(const struct pgha_cluster *c, const char *name)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (strcmp(c->members[i].name, name) == 0)
			return &c->members[i];
	return NULL;
}

void pgha_cluster_names(const struct pgha_cluster *c, char *out, size_t outlen)
{
	size_t used = 0;
	if (!outlen)
		return;
	snprintf(out, outlen, "%s", c->n_members ? "" : "none");
	for (size_t i = 0; i < c->n_members && used < outlen; i++) {
		int w = snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", c->members[i].name);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

void pgha_patroni_base_url(const char *url, char *out, size_t outlen)
{
	if (!outlen)
		return;
	snprintf(out, outlen, "%s", url);
	size_t n = strlen(out);
	while (n && out[n - 1] == '/')
		out[--n] = '\0';
	if (n >= 8 && strcmp(out + n - 8, "/patroni") == 0)
		out[n - 8] = '\0';
}

bool pgha_member_is_replica(const struct pgha_member *m)
{
	return m->role == PGHA_MEMBER_REPLICA || m->role == PGHA_MEMBER_SYNC_STANDBY ||
	       m->role == PGHA_MEMBER_QUORUM_STANDBY;
}

bool pgha_member_is_running(const struct pgha_member *m)
{
	return strcmp(m->state, "running") == 0 || strcmp(m->state, "streaming") == 0;
}

const struct pgha_member *pgha_cluster_leader(const struct pgha_cluster *c)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].role == PGHA_MEMBER_LEADER ||
		    c->members[i].role == PGHA_MEMBER_STANDBY_LEADER)
			return &c->members[i];
	return NULL;
}

int pgha_patroni_version_at(struct pgha_http *http, const struct pgha_deadline *d,
			    const char *endpoint, char *version, size_t versionlen,
			    char *err, size_t errlen)
{
	char url[1100];
	struct pgha_http_response resp;
	cJSON *root = NULL;
	struct pgha_patroni_node node;

	if ((size_t)snprintf(url, sizeof url, "%s/patroni", endpoint) >= sizeof url) {
		pgha_errf(err, errlen, "URL for \"%s\" too long", endpoint);
		return PGHA_E_INVALID;
	}
	pgha_http_response_init(&resp, 0);
	int rc = pgha_http_request_url(http, d, "GET", url, NULL, &resp);
	if (rc) {
		pgha_errf(err, errlen, "%s", resp.error);
	} else if (resp.status != 200) {
		pgha_errf(err, errlen, "GET %s answered HTTP %ld", url, resp.status);
		rc = PGHA_E_PROTOCOL;
	} else if (pgha_json_parse(pgha_buf_str(&resp.body), resp.body.len, &root, NULL, 0) ||
		   pgha_patroni_node_parse(root, &node, NULL, 0) || !node.version[0]) {
		pgha_errf(err, errlen, "GET %s answered without a Patroni version", url);
		rc = PGHA_E_PROTOCOL;
	} else {
		pgha_errf(version, versionlen, "%s", node.version);
	}
	cJSON_Delete(root);
	pgha_http_response_free(&resp);
	return rc;
}

bool pgha_patroni_has_detailed_states(const char *version)
{
	return pgha_version_cmp(version, "3.0.4") >= 0;
}

int pgha_patroni_detailed_states_at(struct pgha_http *http, const struct pgha_deadline *d,
				    const char *endpoint, bool *detailed, char *version,
				    size_t versionlen, char *err, size_t errlen)
{
	char own[64];
	if (!version) {
		version = own;
		versionlen = sizeof own;
	}
	int rc = pgha_patroni_version_at(http, d, endpoint, version, versionlen, err, errlen);
	if (rc == 0)
		*detailed = pgha_patroni_has_detailed_states(version);
	else if (versionlen)
		version[0] = '\0';
	return rc;
}

int pgha_cluster_get(struct pgha_rest *rest, const struct pgha_deadline *d,
		     struct pgha_cluster_doc *doc, char *err, size_t errlen)
{
	char why[256];
	long status = 0;

	memset(doc, 0, sizeof *doc);
	int rc = pgha_rest_get_json(rest, d, "/cluster", &doc->root, &status, &doc->endpoint,
				    err, errlen);
	if (rc)
		return rc;
	if (status != 200) {
		pgha_errf(err, errlen, "GET /cluster from \"%s\" answered HTTP %ld", doc->endpoint,
			  status);
		return PGHA_E_PROTOCOL;
	}
	rc = pgha_cluster_parse(doc->root, &doc->cluster, why, sizeof why);
	if (rc)
		pgha_errf(err, errlen, "GET /cluster from \"%s\": %s", doc->endpoint, why);
	return rc;
}

void pgha_cluster_doc_free(struct pgha_cluster_doc *doc)
{
	pgha_cluster_free(&doc->cluster);
	cJSON_Delete(doc->root);
	memset(doc, 0, sizeof *doc);
}

void pgha_cluster_doc_line(const struct pgha_cluster_doc *doc, struct pgha_result *r)
{
	const char *scope = doc->cluster.scope ? doc->cluster.scope : "";
	pgha_result_line(r, PGHA_OK, "cluster%s%s%s read from %s", scope[0] ? " \"" : "", scope,
			 scope[0] ? "\"" : "", doc->endpoint ? doc->endpoint : "(none)");
}

int pgha_sync_type_parse(const char *text, enum pgha_sync_type *type, char *err,
			 size_t errlen)
{
	static const struct { const char *name; enum pgha_sync_type type; } types[] = {
		{ "any", PGHA_SYNC_ANY },
		{ "sync", PGHA_SYNC_SYNC },
		{ "quorum", PGHA_SYNC_QUORUM },
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		if (strcmp(text, types[i].name) == 0) {
			*type = types[i].type;
			return 0;
		}
	}
	pgha_errf(err, errlen, "invalid sync type \"%s\": use any, sync or quorum", text);
	return PGHA_E_INVALID;
}

bool pgha_sync_type_accepts(enum pgha_sync_type type, bool sync, bool quorum)
{
	return (sync && type != PGHA_SYNC_QUORUM) || (quorum && type != PGHA_SYNC_SYNC);
}

int pgha_max_lag_parse(const char *text, bool *has, double *bytes, char *err, size_t errlen)
{
	double v;
	if (!text[0]) { /* an empty Nagios $ARGn$: no limit, as for ranges */
		*has = false;
		return 0;
	}
	if (pgha_quantity_parse(text, PGHA_UNIT_BYTES, &v, err, errlen))
		return PGHA_E_INVALID;
	if (!(v >= 0 && v <= 1e18)) {
		pgha_errf(err, errlen, "invalid value \"%s\": a lag is between 0 and 1e18 bytes",
			  text);
		return PGHA_E_INVALID;
	}
	*has = true;
	*bytes = v;
	return 0;
}
