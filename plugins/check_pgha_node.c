/*
 * check_pgha_node: the health of one Patroni node, from its REST API.
 *
 * Checks, any combination (default: --alive alone):
 *   --alive                 GET /liveness answers 200 (heartbeat loop runs)
 *   --role ROLE             Patroni's own health endpoint for the role
 *                           answers 200: GET /primary (holds the leader
 *                           lock, runs read-write), /leader (primary or
 *                           standby leader), /standby-leader, or /replica
 *                           (a running replica without the noloadbalance
 *                           tag), as check_patroni's node_is_* do
 *     --max-lag SIZE        with replica: GET /replica?lag=BYTES, Patroni
 *                           refuses a replica whose replay position trails
 *                           the leader's by more
 *     --is-sync, --is-async with replica: the node is (not) a synchronous
 *                           standby; --sync-type any|sync|quorum says
 *                           which kind --is-sync accepts
 *                           (--max-lag, --is-sync and --is-async imply
 *                           --role replica)
 *   --pending-restart       CRITICAL when a restart is pending
 *   --patroni-version V     CRITICAL unless Patroni runs version V
 *   --timeline N            CRITICAL unless PostgreSQL is on timeline N
 *   --state-file F [--save] CRITICAL when the timeline differs from the one
 *                           recorded in F (recorded on the first run, and
 *                           again on each run with --save)
 * All but --alive read one status document: the body of the role endpoint
 * (200 or 503, the same JSON as GET /patroni), or GET /patroni when no role
 * is asked for. A node that cannot be reached in time is CRITICAL
 * (--timeout-result changes it).
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
	bool has_max_lag;
	long long max_lag; /* bytes */
	const char *max_lag_text;
	bool is_sync, is_async;
	enum pgha_sync_type sync_type;
};

enum {
	OPT_ALIVE, OPT_ROLE, OPT_PENDING, OPT_VERSION_IS, OPT_TIMELINE, OPT_STATE_FILE, OPT_SAVE,
	OPT_MAX_LAG, OPT_IS_SYNC, OPT_IS_ASYNC, OPT_SYNC_TYPE
};

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
	{ "max-lag", 0, "SIZE",
	  "replica: CRITICAL when Patroni finds the replay lag over SIZE (bytes; units B kB "
	  "MB GB TB)", OPT_MAX_LAG },
	{ "is-sync", 0, NULL, "replica: CRITICAL unless it is a synchronous standby", OPT_IS_SYNC },
	{ "is-async", 0, NULL, "replica: CRITICAL unless it is an asynchronous replica",
	  OPT_IS_ASYNC },
	{ "sync-type", 0, "TYPE",
	  "with --is-sync: any (default), sync (sync_standby) or quorum (quorum_standby)",
	  OPT_SYNC_TYPE },
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
	case OPT_MAX_LAG: {
		double v = 0;
		if (pgha_max_lag_parse(arg, &cfg->has_max_lag, &v, err, errlen))
			return PGHA_E_INVALID;
		cfg->max_lag = (long long)(v + 0.5); /* whole bytes for /replica?lag= */
		cfg->max_lag_text = arg;
		return 0;
	}
	case OPT_IS_SYNC:
		cfg->is_sync = true;
		return 0;
	case OPT_IS_ASYNC:
		cfg->is_async = true;
		return 0;
	case OPT_SYNC_TYPE:
		return pgha_sync_type_parse(arg, &cfg->sync_type, err, errlen);
	}
	return PGHA_E_INVALID;
}

/* The path whose status is Patroni's verdict on the role (its body is the
 * node's status document), or /patroni when no role is asked for. */
static void status_path(const struct config *cfg, char *path, size_t pathlen)
{
	switch (cfg->role) {
	case ROLE_ANY: snprintf(path, pathlen, "/patroni"); return;
	case ROLE_PRIMARY: snprintf(path, pathlen, "/primary"); return;
	case ROLE_LEADER: snprintf(path, pathlen, "/leader"); return;
	case ROLE_STANDBY_LEADER: snprintf(path, pathlen, "/standby-leader"); return;
	case ROLE_REPLICA:
		if (cfg->has_max_lag) /* bytes: Patroni's own unit parser is lenient */
			snprintf(path, pathlen, "/replica?lag=%lld", cfg->max_lag);
		else
			snprintf(path, pathlen, "/replica");
		return;
	}
}

/* Would the node hold the role by its document alone? Used only to explain
 * a 503 from the role endpoint. */
static bool document_has_role(enum expected_role want, const struct pgha_patroni_node *n)
{
	switch (want) {
	case ROLE_ANY: return true;
	case ROLE_PRIMARY: return n->role == PGHA_ROLE_PRIMARY;
	case ROLE_LEADER: return n->role == PGHA_ROLE_PRIMARY || n->role == PGHA_ROLE_STANDBY_LEADER;
	case ROLE_STANDBY_LEADER: return n->role == PGHA_ROLE_STANDBY_LEADER;
	case ROLE_REPLICA: return n->role == PGHA_ROLE_REPLICA;
	}
	return false;
}

/* A tag Patroni reads as true: JSON true, or a string such as "true". */
static bool tag_is_true(const cJSON *root, const char *tag)
{
	const cJSON *tags = pgha_json_get(root, "tags");
	const cJSON *v = pgha_json_get(tags, tag);
	if (cJSON_IsTrue(v))
		return true;
	if (cJSON_IsString(v)) {
		static const char *const yes[] = { "true", "True", "TRUE", "on", "yes", "1" };
		for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
			if (strcmp(v->valuestring, yes[i]) == 0)
				return true;
	}
	return false;
}

/* Why the role endpoint refused a node whose document shows the role. */
static const char *refusal_reason(const struct config *cfg, const struct pgha_patroni_node *n,
				  const cJSON *root, char *buf, size_t buflen)
{
	if (strcmp(n->state, "running") != 0)
		return "";
	if (cfg->role != ROLE_REPLICA)
		return ": it does not hold the leader lock";
	if (tag_is_true(root, "noloadbalance"))
		return ": it is tagged noloadbalance";
	if (cfg->has_max_lag) {
		snprintf(buf, buflen, ": its replay lag is over %s", cfg->max_lag_text);
		return buf;
	}
	return ": GET /replica refused it";
}

/* --is-sync / --is-async, from the document's sync_standby and
 * quorum_standby flags (Patroni sets them on synchronous replicas). */
static void check_sync(const struct config *cfg, const cJSON *root, struct pgha_result *r)
{
	bool sync = pgha_json_flag(root, "sync_standby");
	bool quorum = pgha_json_flag(root, "quorum_standby");
	const char *kind = sync ? "sync_standby" : quorum ? "quorum_standby" : "asynchronous";
	bool ok;
	const char *want;
	if (cfg->is_sync) {
		ok = pgha_sync_type_accepts(cfg->sync_type, sync, quorum);
		want = cfg->sync_type == PGHA_SYNC_SYNC ? "sync_standby"
		       : cfg->sync_type == PGHA_SYNC_QUORUM ? "quorum_standby" : "synchronous";
	} else {
		ok = !sync && !quorum;
		want = "asynchronous";
	}
	pgha_result_raise(r, ok ? PGHA_OK : PGHA_CRITICAL);
	pgha_result_line(r, ok ? PGHA_OK : PGHA_CRITICAL, "replication %s, expected %s", kind, want);
	pgha_result_perf(r, "sync", sync || quorum, NULL);
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

/* Evaluate every check that reads the status document. role_ok is the
 * role endpoint's verdict (200). */
static void check_status(const struct config *cfg, const struct pgha_patroni_node *n,
			 const cJSON *root, bool role_ok, struct pgha_result *r)
{
	if (cfg->role != ROLE_ANY) {
		char lag[128] = "", why[128];
		const char *reason = "";
		if (cfg->has_max_lag && role_ok)
			snprintf(lag, sizeof lag, ", replay lag within %s", cfg->max_lag_text);
		if (!role_ok && document_has_role(cfg->role, n))
			reason = refusal_reason(cfg, n, root, why, sizeof why);
		pgha_result_raise(r, role_ok ? PGHA_OK : PGHA_CRITICAL);
		pgha_result_line(r, role_ok ? PGHA_OK : PGHA_CRITICAL, "role %s (%s), expected %s%s%s",
				 pgha_role_name(n->role), n->state, cfg->role_text, lag, reason);
		pgha_result_perf(r, "role_ok", role_ok, NULL);
		if ((cfg->is_sync || cfg->is_async) && n->role == PGHA_ROLE_REPLICA)
			check_sync(cfg, root, r);
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

/* GET the status document (from the role endpoint, or /patroni) and run
 * the checks on it. */
static void check_node(struct pgha_rest *rest, const struct pgha_common *common,
		       const struct config *cfg, struct pgha_result *r, char *who, size_t wholen,
		       char *detail, size_t detaillen)
{
	cJSON *root = NULL;
	struct pgha_patroni_node node;
	long status = 0;
	char err[512], path[64];

	status_path(cfg, path, sizeof path);
	int rc = pgha_rest_get_json(rest, &common->deadline, path, &root, &status, NULL,
				    err, sizeof err);
	if (rc) {
		enum pgha_state s = pgha_rest_failure_state(rc, common);
		pgha_result_raise(r, s);
		pgha_result_line(r, s, "%s%s", pgha_rest_unreachable(rc) ? "not reachable: " : "",
				 err);
	} else if (status != 200 && (cfg->role == ROLE_ANY || status != 503)) {
		/* a role endpoint answers 503 when the node lacks the role */
		pgha_result_raise(r, PGHA_UNKNOWN);
		pgha_result_line(r, PGHA_UNKNOWN, "GET %s answered HTTP %ld", path, status);
	} else if (pgha_patroni_node_parse(root, &node, err, sizeof err)) {
		pgha_result_raise(r, PGHA_UNKNOWN);
		pgha_result_line(r, PGHA_UNKNOWN, "GET %s: %s", path, err);
	} else {
		if (node.name[0])
			snprintf(who, wholen, "%s", node.name);
		check_status(cfg, &node, root, status == 200, r);
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
			   "replica lag and sync state, pending restart, Patroni version, "
			   "timeline.",
		.synopsis = "--patroni URL | -H HOST [-p PORT] [--alive] [--role ROLE] "
			    "[--max-lag SIZE] [--is-sync [--sync-type T] | --is-async] "
			    "[--pending-restart] [--patroni-version V] "
			    "[--timeline N | --state-file FILE [--save]] [-t SECONDS]",
		.groups = PGHA_GROUP_PATRONI | PGHA_GROUP_HOST | PGHA_GROUP_TLS,
		.options = options,
		.n_options = sizeof options / sizeof options[0],
		.handler = handle_option,
		.ctx = &cfg,
		.notes = "-H and -p (default 8008) are a shorthand for --patroni "
			 "http://HOST:PORT.\n--role asks Patroni's endpoint for the role "
			 "(/primary, /leader, /standby-leader, /replica); --max-lag, --is-sync "
			 "and --is-async imply --role replica.\nA node that cannot be reached "
			 "within -t is CRITICAL unless --timeout-result says otherwise.",
	};
	struct pgha_common common;
	int done = pgha_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;
	if (common.n_patroni == 0 && !common.hostname)
		return pgha_options_fail(&program, "give the node with --patroni URL or -H HOST");
	if (cfg.save && !cfg.state_file)
		return pgha_options_fail(&program, "--save needs --state-file");
	if (cfg.is_sync && cfg.is_async)
		return pgha_options_fail(&program, "--is-sync and --is-async exclude each other");
	if (cfg.has_max_lag || cfg.is_sync || cfg.is_async) {
		if (cfg.role == ROLE_ANY) {
			cfg.role = ROLE_REPLICA;
			cfg.role_text = "replica";
		} else if (cfg.role != ROLE_REPLICA) {
			return pgha_options_fail(&program, "--max-lag, --is-sync and --is-async "
						 "check a replica: not with --role %s",
						 cfg.role_text);
		}
	}

	bool reads_status = cfg.role != ROLE_ANY || cfg.pending_restart || cfg.patroni_version ||
			    cfg.has_timeline || cfg.state_file;
	if (!reads_status)
		cfg.alive = true;

	/* -H HOST [-p PORT] is a shorthand for --patroni http://HOST:PORT */
	char url[512];
	const char *urls[1] = { url };
	if (common.n_patroni == 0)
		snprintf(url, sizeof url, "http://%s:%s", common.hostname,
			 common.port ? common.port : "8008");
	struct pgha_rest rest;
	struct pgha_result r;
	done = pgha_rest_setup(&rest, &program, &common, common.n_patroni ? common.patroni : urls,
			       common.n_patroni ? common.n_patroni : 1, &r);
	if (done >= 0)
		return done;
	if (rest.http.n_endpoints != 1) {
		pgha_rest_close(&rest);
		pgha_result_free(&r);
		return pgha_options_fail(&program, "check_pgha_node checks one node: give one URL");
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
