/* pgtarget.c: which PostgreSQL a libpq check connects to (see pgtarget.h). */
#include "pgtarget.h"
#include "error.h"
#include "patroni.h"
#include "rest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Find the member to connect to in GET /cluster: the leader, or the one
 * named. Fills host and port. */
static int find_member(const struct pgha_common *c, char *host, size_t hostlen,
		       char *port, size_t portlen, char *name, size_t namelen,
		       enum pgha_state *fail, char *err, size_t errlen)
{
	struct pgha_rest rest;
	struct pgha_cluster cluster = { 0 };
	cJSON *root = NULL;
	long status = 0;

	int rc = pgha_rest_open(&rest, c->patroni, c->n_patroni, c, err, errlen);
	if (rc) {
		*fail = PGHA_UNKNOWN;
		goto out;
	}
	rc = pgha_rest_get_json(&rest, &c->deadline, "/cluster", &root, &status, NULL, err, errlen);
	if (rc) {
		*fail = pgha_rest_failure_state(rc, c);
		goto out;
	}
	rc = pgha_cluster_parse(root, &cluster, err, errlen);
	if (rc) {
		*fail = PGHA_UNKNOWN;
		goto out;
	}
	const struct pgha_member *m = NULL;
	if (c->member) {
		for (size_t i = 0; i < cluster.n_members; i++)
			if (strcmp(cluster.members[i].name, c->member) == 0)
				m = &cluster.members[i];
		if (!m) {
			pgha_errf(err, errlen, "no member \"%s\" in the Patroni cluster", c->member);
			*fail = PGHA_UNKNOWN;
			rc = PGHA_E_NOTFOUND;
			goto out;
		}
	} else {
		m = pgha_cluster_leader(&cluster);
		if (!m) {
			pgha_errf(err, errlen, "the Patroni cluster has no leader");
			*fail = c->timeout_result;
			rc = PGHA_E_NOTFOUND;
			goto out;
		}
	}
	if (!m->host[0] || m->port <= 0) {
		pgha_errf(err, errlen, "Patroni publishes no host and port for member \"%s\"", m->name);
		*fail = PGHA_UNKNOWN;
		rc = PGHA_E_PROTOCOL;
		goto out;
	}
	snprintf(host, hostlen, "%s", m->host);
	snprintf(port, portlen, "%" PRId64, m->port);
	snprintf(name, namelen, "%s", m->name);
out:
	pgha_cluster_free(&cluster);
	cJSON_Delete(root);
	pgha_rest_close(&rest);
	return rc;
}

int pgha_pg_target_connect(struct pgha_pg *pg, const struct pgha_common *c,
			   char *who, size_t wholen, enum pgha_state *fail,
			   char *err, size_t errlen)
{
	struct pgha_pg_params p = {
		.host = c->hostname, .port = c->port, .dbname = c->dbname,
		.user = c->username, .dsn = c->dsn,
	};
	char host[256], port[16], name[128] = "";

	pgha_pg_init(pg);
	if (c->n_patroni) {
		int rc = find_member(c, host, sizeof host, port, sizeof port, name, sizeof name,
				     fail, err, errlen);
		if (rc)
			return rc;
		p.host = host;
		p.port = port;
	}
	if (name[0])
		snprintf(who, wholen, "%s (%s:%s)", name, p.host, p.port);
	else if (p.host || p.port)
		snprintf(who, wholen, "%s:%s", p.host ? p.host : "localhost", p.port ? p.port : "5432");
	else
		snprintf(who, wholen, "PostgreSQL");

	int rc = pgha_pg_connect(pg, &p, &c->deadline);
	if (rc) {
		pgha_errf(err, errlen, "%s", pg->error);
		*fail = rc == PGHA_E_NOMEM ? PGHA_UNKNOWN : c->timeout_result;
	}
	return rc;
}

int pgha_pg_options_parse(const struct pgha_program *p, int argc, char **argv,
			  struct pgha_common *c)
{
	int done = pgha_options_parse(p, argc, argv, c);
	if (done < 0 && c->member && c->n_patroni == 0)
		return pgha_options_fail(p, "--member needs --patroni");
	return done;
}

int pgha_pg_check_connect(struct pgha_pg *pg, const struct pgha_common *c, char *who,
			  size_t wholen, struct pgha_result *r)
{
	enum pgha_state fail = PGHA_UNKNOWN;
	char err[512] = "";

	if (wholen)
		who[0] = '\0';
	int rc = pgha_pg_target_connect(pg, c, who, wholen, &fail, err, sizeof err);
	if (rc)
		pgha_result_set(r, fail, "%s%s%s", who, who[0] ? ": " : "", err);
	return rc;
}

enum pgha_state pgha_pg_query_failure_state(int rc, const struct pgha_common *c)
{
	if (rc == PGHA_E_TIMEOUT || pgha_deadline_left_ms(&c->deadline) < 250)
		return c->timeout_result;
	return PGHA_UNKNOWN;
}

int pgha_pg_check_query(struct pgha_pg *pg, const struct pgha_common *c, const char *who,
			const char *sql, int nparams, const char *const *params,
			struct pgha_result *r)
{
	int rc = pgha_pg_query(pg, sql, nparams, params);
	if (rc)
		pgha_result_set(r, pgha_pg_query_failure_state(rc, c), "%s: %s", who, pg->error);
	return rc;
}

int pgha_pg_check_query_length(const char *arg, long *out, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0 || v > 1000) {
		pgha_errf(err, errlen, "invalid query length \"%s\": use 0 to 1000", arg);
		return PGHA_E_INVALID;
	}
	*out = v;
	return 0;
}

void pgha_pg_check_verbose(const struct pgha_pg *pg, const struct pgha_common *c,
			   const char *who, struct pgha_result *r)
{
	if (c->verbose >= 2 && pg->conn)
		pgha_result_line(r, PGHA_OK, "connected to %s as \"%s\", PostgreSQL %d", who,
				 PQuser(pg->conn), PQserverVersion(pg->conn));
}
