/* pgtarget.c: which PostgreSQL a libpq check connects to (see pgtarget.h). */
#include "pgtarget.h"
#include "error.h"
#include "patroni.h"
#include "rest.h"

#include <inttypes.h>
#include <stdio.h>
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
