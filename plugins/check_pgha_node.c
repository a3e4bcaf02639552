/*
 * check_pgha_node: the health of one Patroni node, from its REST API.
 *
 * Checks, any combination (default: --alive alone):
 *   --alive                 GET /liveness answers 200 (heartbeat loop runs)
 *   --role ROLE             the node is primary, leader (primary or standby
 *                           leader), standby-leader or replica, and running
 *   --pending-restart       CRITICAL when a restart is pending
 *   --patroni-version V     CRITICAL unless Patroni runs version V
 *   --timeline N            CRITICAL unless PostgreSQL is on timeline N
 *   --state-file F [--save] CRITICAL when the timeline differs from the one
 *                           recorded in F (recorded on the first run, and
 *                           again on each run with --save)
 * The last four read GET /patroni once. A node that cannot be reached in
 * time is CRITICAL (--timeout-result changes it).
 */
#include "error.h"
#include "options.h"
#include "output.h"
#include "patroni.h"
#include "rest.h"
#include "statefile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum expected_role { ROLE_ANY, ROLE_PRIMARY, ROLE_LEADER, ROLE_STANDBY_LEADER, ROLE_REPLICA };

struct config {
	bool alive;
	enum expected_role role;
	const char *role_text;
	bool pending_restart;
	const char *patroni_version;
	bool has_timeline;
	int64_t timeline;
	const char *state_file;
	bool save;
};

enum { OPT_ALIVE, OPT_ROLE, OPT_PENDING, OPT_VERSION_IS, OPT_TIMELINE, OPT_STATE_FILE, OPT_SAVE };

static const struct pgha_option options[] = {
	{ "alive", 0, NULL, "check GET /liveness (the default when no other check is given)", OPT_ALIVE },
	{ "role", 0, "ROLE", "expected role: primary, leader, standby-leader or replica", OPT_ROLE },
	{ "pending-restart", 0, NULL, "CRITICAL when the node has a restart pending", OPT_PENDING },
	{ "patroni-version", 0, "VERSION", "CRITICAL unless Patroni runs this version", OPT_VERSION_IS },
	{ "timeline", 0, "N", "CRITICAL unless PostgreSQL is on timeline N", OPT_TIMELINE },
	{ "state-file", 0, "FILE",
	  "CRITICAL when the timeline differs from the one recorded in FILE "
	  "(recorded on the first run)", OPT_STATE_FILE },
	{ "save", 0, NULL, "with --state-file: record the current timeline after checking", OPT_SAVE },
};

static int handle_option(void *ctx, int id, const char *arg, char *err, size_t errlen)
{
	struct config *cfg = ctx;
	switch (id) {
	case OPT_ALIVE:
		cfg->alive = true;
		return 0;
	case OPT_ROLE: {
		static const struct { const char *name; enum expected_role role; } roles[] = {
			{ "primary", ROLE_PRIMARY }, { "leader", ROLE_LEADER },
			{ "standby-leader", ROLE_STANDBY_LEADER }, { "replica", ROLE_REPLICA },
		};
		for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
			if (strcmp(arg, roles[i].name) == 0) {
				cfg->role = roles[i].role;
				cfg->role_text = roles[i].name;
				return 0;
			}
		}
		snprintf(err, errlen, "invalid role \"%s\": use primary, leader, "
			 "standby-leader or replica", arg);
		return PGHA_E_INVALID;
	}
	case OPT_PENDING:
		cfg->pending_restart = true;
		return 0;
	case OPT_VERSION_IS:
		cfg->patroni_version = arg;
		return 0;
	case OPT_TIMELINE: {
		char *end;
		errno = 0;
		long long v = strtoll(arg, &end, 10);
		if (errno || end == arg || *end || v < 1) {
			snprintf(err, errlen, "invalid timeline \"%s\": must be a positive integer", arg);
			return PGHA_E_INVALID;
		}
		cfg->has_timeline = true;
		cfg->timeline = v;
		return 0;
	}
	case OPT_STATE_FILE:
		cfg->state_file = arg;
		return 0;
	case OPT_SAVE:
		cfg->save = true;
		return 0;
	}
	return PGHA_E_INVALID;
}

/* Does the node hold the expected role, and run? */
static bool role_matches(enum expected_role want, const struct pgha_patroni_node *n)
{
	bool running = strcmp(n->state, "running") == 0 || strcmp(n->state, "streaming") == 0;
	switch (want) {
	case ROLE_ANY: return true;
	case ROLE_PRIMARY: return running && n->role == PGHA_ROLE_PRIMARY;
	case ROLE_LEADER:
		return running && (n->role == PGHA_ROLE_PRIMARY || n->role == PGHA_ROLE_STANDBY_LEADER);
	case ROLE_STANDBY_LEADER: return running && n->role == PGHA_ROLE_STANDBY_LEADER;
	case ROLE_REPLICA: return running && n->role == PGHA_ROLE_REPLICA;
	}
	return false;
}

/* GET /liveness: the Patroni heartbeat loop is alive. */
static void check_alive(struct pgha_http *http, const struct pgha_common *common,
			struct pgha_result *r)
{
	struct pgha_http_response resp;
	pgha_http_response_init(&resp, 4096);
	int rc = pgha_http_get(http, &common->deadline, "/liveness", &resp);
	if (rc) {
		pgha_result_raise(r, common->timeout_result);
		pgha_result_line(r, common->timeout_result, "not reachable: %s", resp.error);
		pgha_result_perf_unknown(r, "alive", NULL);
	} else if (resp.status == 200) {
		pgha_result_line(r, PGHA_OK, "alive: /liveness answered 200");
		pgha_result_perf(r, "alive", 1, NULL);
	} else {
		pgha_result_raise(r, PGHA_CRITICAL);
		pgha_result_line(r, PGHA_CRITICAL, "not alive: /liveness answered %ld", resp.status);
		pgha_result_perf(r, "alive", 0, NULL);
	}
	pgha_http_response_free(&resp);
}

/* Compare the timeline with the state file, recording it when asked. */
static void check_state_file(const struct config *cfg, const struct pgha_patroni_node *n,
			     struct pgha_result *r)
{
	struct pgha_statefile sf;
	char err[512] = "", now[32];
	snprintf(now, sizeof now, "%" PRId64, n->timeline);

	int rc = pgha_statefile_load(&sf, cfg->state_file, err, sizeof err);
	if (rc && rc != PGHA_E_NOTFOUND) {
		pgha_result_raise(r, PGHA_UNKNOWN);
		pgha_result_line(r, PGHA_UNKNOWN, "%s", err);
		return;
	}
	const char *recorded = pgha_statefile_get(&sf, "timeline");
	bool record = cfg->save || !recorded;
	if (!recorded) {
		pgha_result_line(r, PGHA_OK, "timeline %s recorded in \"%s\"", now, cfg->state_file);
	} else if (strcmp(recorded, now) != 0) {
		pgha_result_raise(r, PGHA_CRITICAL);
		pgha_result_line(r, PGHA_CRITICAL, "timeline changed from %s to %s", recorded, now);
	} else {
		pgha_result_line(r, PGHA_OK, "timeline %s unchanged", now);
	}
	if (record) {
		if (pgha_statefile_set(&sf, "timeline", now) == 0 &&
		    pgha_statefile_save(&sf, cfg->state_file, err, sizeof err) != 0) {
			pgha_result_raise(r, PGHA_UNKNOWN);
			pgha_result_line(r, PGHA_UNKNOWN, "%s", err);
		}
	}
	pgha_statefile_free(&sf);
}

/* Evaluate every check that reads GET /patroni. */
static void check_status(const struct config *cfg, const struct pgha_patroni_node *n,
			 struct pgha_result *r)
{
	if (cfg->role != ROLE_ANY) {
		bool ok = role_matches(cfg->role, n);
		pgha_result_raise(r, ok ? PGHA_OK : PGHA_CRITICAL);
		pgha_result_line(r, ok ? PGHA_OK : PGHA_CRITICAL, "role %s (%s), expected %s",
				 pgha_role_name(n->role), n->state, cfg->role_text);
		pgha_result_perf(r, "role_ok", ok, NULL);
	}
	if (cfg->pending_restart) {
		enum pgha_state s = n->pending_restart ? PGHA_CRITICAL : PGHA_OK;
		pgha_result_raise(r, s);
		pgha_result_line(r, s, n->pending_restart ? "restart pending" : "no restart pending");
		pgha_result_perf(r, "pending_restart", n->pending_restart, NULL);
	}
	if (cfg->patroni_version) {
		bool same = strcmp(n->version, cfg->patroni_version) == 0;
		pgha_result_raise(r, same ? PGHA_OK : PGHA_CRITICAL);
		pgha_result_line(r, same ? PGHA_OK : PGHA_CRITICAL, "Patroni %s, expected %s",
				 n->version[0] ? n->version : "(unknown)", cfg->patroni_version);
	}
	if (cfg->has_timeline || cfg->state_file) {
		if (!n->has_timeline) {
			pgha_result_raise(r, PGHA_UNKNOWN);
			pgha_result_line(r, PGHA_UNKNOWN, "timeline unknown: PostgreSQL is %s", n->state);
			pgha_result_perf_unknown(r, "timeline", NULL);
			return;
		}
		pgha_result_perf(r, "timeline", (double)n->timeline, NULL);
		if (cfg->has_timeline) {
			bool same = n->timeline == cfg->timeline;
			pgha_result_raise(r, same ? PGHA_OK : PGHA_CRITICAL);
			pgha_result_line(r, same ? PGHA_OK : PGHA_CRITICAL,
					 "timeline %" PRId64 ", expected %" PRId64,
					 n->timeline, cfg->timeline);
		}
		if (cfg->state_file)
			check_state_file(cfg, n, r);
	}
}

/* GET /patroni and run the checks on it. */
static void check_node(struct pgha_rest *rest, const struct pgha_common *common,
		       const struct config *cfg, struct pgha_result *r, char *who, size_t wholen,
		       char *detail, size_t detaillen)
{
	cJSON *root = NULL;
	struct pgha_patroni_node node;
	long status = 0;
	char err[512];

	int rc = pgha_rest_get_json(rest, &common->deadline, "/patroni", &root, &status, NULL,
				    err, sizeof err);
	if (rc) {
		enum pgha_state s = pgha_rest_failure_state(rc, common);
		pgha_result_raise(r, s);
		pgha_result_line(r, s, "%s%s", s == common->timeout_result ? "not reachable: " : "", err);
	} else if (status != 200) {
		pgha_result_raise(r, PGHA_UNKNOWN);
		pgha_result_line(r, PGHA_UNKNOWN, "GET /patroni answered HTTP %ld", status);
	} else if (pgha_patroni_node_parse(root, &node, err, sizeof err)) {
		pgha_result_raise(r, PGHA_UNKNOWN);
		pgha_result_line(r, PGHA_UNKNOWN, "GET /patroni: %s", err);
	} else {
		if (node.name[0])
			snprintf(who, wholen, "%s", node.name);
		check_status(cfg, &node, r);
		if (common->verbose >= 1)
			snprintf(detail, detaillen, "%s %s, timeline %s%" PRId64 ", Patroni %s, scope %s",
				 pgha_role_name(node.role), node.state,
				 node.has_timeline ? "" : "unknown ",
				 node.has_timeline ? node.timeline : 0, node.version, node.scope);
	}
	cJSON_Delete(root);
}

int main(int argc, char **argv)
{
	struct config cfg = { .role = ROLE_ANY };
	const struct pgha_program program = {
		.name = "check_pgha_node",
		.result_name = "PGHA_NODE",
		.summary = "Check one Patroni node through its REST API: alive, role, "
			   "pending restart, Patroni version, timeline.",
		.synopsis = "--patroni URL | -H HOST [-p PORT] [--alive] [--role ROLE] "
			    "[--pending-restart] [--patroni-version V] "
			    "[--timeline N | --state-file FILE [--save]] [-t SECONDS]",
		.groups = PGHA_GROUP_PATRONI | PGHA_GROUP_HOST | PGHA_GROUP_TLS,
		.options = options,
		.n_options = sizeof options / sizeof options[0],
		.handler = handle_option,
		.ctx = &cfg,
		.notes = "-H and -p (default 8008) are a shorthand for --patroni "
			 "http://HOST:PORT.\nA node that cannot be reached within -t "
			 "is CRITICAL unless --timeout-result says otherwise.",
	};
	struct pgha_common common;
	int done = pgha_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;
	if (common.n_patroni == 0 && !common.hostname)
		return pgha_options_fail(&program, "give the node with --patroni URL or -H HOST");
	if (cfg.save && !cfg.state_file)
		return pgha_options_fail(&program, "--save needs --state-file");

	bool reads_status = cfg.role != ROLE_ANY || cfg.pending_restart || cfg.patroni_version ||
			    cfg.has_timeline || cfg.state_file;
	if (!reads_status)
		cfg.alive = true;

	struct pgha_rest rest;
	struct pgha_result r;
	char err[512] = "";
	char url[512];
	const char *urls[1] = { url };

	if (common.n_patroni == 0)
		snprintf(url, sizeof url, "http://%s:%s", common.hostname,
			 common.port ? common.port : "8008");
	int rc = pgha_rest_open(&rest, common.n_patroni ? common.patroni : urls,
				common.n_patroni ? common.n_patroni : 1, &common, err, sizeof err);
	if (rc == 0 && rest.http.n_endpoints != 1) {
		rc = PGHA_E_INVALID;
		snprintf(err, sizeof err, "check_pgha_node checks one node: give one URL");
	}
	if (rc == PGHA_E_INVALID) {
		pgha_rest_close(&rest);
		return pgha_options_fail(&program, "%s", err);
	}
	pgha_result_init(&r, program.result_name);
	if (rc) {
		pgha_rest_close(&rest);
		pgha_result_set(&r, PGHA_UNKNOWN, "%s", err);
		return pgha_result_exit(&r);
	}

	char who[128], detail[256] = "";
	/* the node as operators name it: its Patroni name (3.2+) or host:port */
	const char *endpoint = rest.http.endpoints[0];
	const char *scheme_end = strstr(endpoint, "://");
	snprintf(who, sizeof who, "%s", scheme_end ? scheme_end + 3 : endpoint);
	if (cfg.alive)
		check_alive(&rest.http, &common, &r);
	if (reads_status)
		check_node(&rest, &common, &cfg, &r, who, sizeof who, detail, sizeof detail);
	pgha_result_summarise(&r, who);
	if (detail[0])
		pgha_result_line(&r, PGHA_OK, "%s", detail);

	pgha_rest_close(&rest);
	return pgha_result_exit(&r);
}
