/*
 * check_pgha_maintenance: is the Patroni cluster paused, or is an action
 * scheduled on it?
 *
 * Reads GET /cluster (the cluster as the DCS holds it) from the first
 * --patroni endpoint that answers and reports:
 *   paused      the cluster is in maintenance mode (top-level "pause"):
 *               Patroni neither fails over nor restarts anything
 *   switchover  a switchover is scheduled (top-level "scheduled_switchover")
 *   restart     a restart is scheduled on a member ("scheduled_restart")
 *
 *   --alert LIST          which of them alert: a comma list of paused,
 *                         switchover, restart, or "scheduled" (switchover and
 *                         restart) or "all" (the default); repeatable
 *   --paused-state S      the state when paused (default critical)
 *   --switchover-state S  the state when a switchover is scheduled (critical)
 *   --restart-state S     the state when a restart is scheduled (critical)
 *
 * The defaults give check_patroni's verdicts: its cluster_is_in_maintenance
 * is --alert paused, its cluster_has_scheduled_action --alert scheduled,
 * both CRITICAL. Kinds not selected are not checked, reported or graphed.
 * Perfdata as check_patroni's: is_in_maintenance, has_scheduled_actions,
 * scheduled_switchover, scheduled_restart (a count of members). A cluster
 * that cannot be reached in time is CRITICAL (--timeout-result changes it).
 */
#include "error.h"
#include "options.h"
#include "output.h"
#include "patroni.h"
#include "rest.h"

#include <stdio.h>
#include <string.h>

enum { KIND_PAUSED = 1 << 0, KIND_SWITCHOVER = 1 << 1, KIND_RESTART = 1 << 2 };
#define KIND_ALL (KIND_PAUSED | KIND_SWITCHOVER | KIND_RESTART)

struct config {
	unsigned alert; /* KIND_*; 0 until --alert is given */
	enum pgha_state paused_state, switchover_state, restart_state;
};

enum { OPT_ALERT, OPT_PAUSED_STATE, OPT_SWITCHOVER_STATE, OPT_RESTART_STATE };

static const struct pgha_option options[] = {
	{ "alert", 0, "LIST",
	  "what alerts: comma list of paused, switchover, restart; scheduled (switchover "
	  "and restart) or all (the default)", OPT_ALERT },
	{ "paused-state", 0, "STATE",
	  "state when the cluster is paused: ok, warning, critical (default) or unknown",
	  OPT_PAUSED_STATE },
	{ "switchover-state", 0, "STATE",
	  "state when a switchover is scheduled (default critical)", OPT_SWITCHOVER_STATE },
	{ "restart-state", 0, "STATE",
	  "state when a restart is scheduled on a member (default critical)", OPT_RESTART_STATE },
};

/* Add the kinds named in a comma list to *set. */
static int parse_alert(const char *list, unsigned *set, char *err, size_t errlen)
{
	static const struct { const char *name; unsigned kinds; } names[] = {
		{ "paused", KIND_PAUSED }, { "pause", KIND_PAUSED },
		{ "maintenance", KIND_PAUSED }, { "switchover", KIND_SWITCHOVER },
		{ "restart", KIND_RESTART }, { "scheduled", KIND_SWITCHOVER | KIND_RESTART },
		{ "all", KIND_ALL },
	};
	const char *p = list;
	for (;;) {
		size_t len = strcspn(p, ",");
		size_t i = 0;
		for (; i < sizeof names / sizeof names[0]; i++)
			if (strlen(names[i].name) == len && strncmp(p, names[i].name, len) == 0)
				break;
		if (i == sizeof names / sizeof names[0]) {
			snprintf(err, errlen, "invalid --alert \"%s\": use a comma list of paused, "
				 "switchover, restart, scheduled or all", list);
			return PGHA_E_INVALID;
		}
		*set |= names[i].kinds;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

static int handle_option(void *ctx, int id, const char *arg, char *err, size_t errlen)
{
	struct config *cfg = ctx;
	enum pgha_state *target = NULL;
	switch (id) {
	case OPT_ALERT:
		return parse_alert(arg, &cfg->alert, err, errlen);
	case OPT_PAUSED_STATE:
		target = &cfg->paused_state;
		break;
	case OPT_SWITCHOVER_STATE:
		target = &cfg->switchover_state;
		break;
	case OPT_RESTART_STATE:
		target = &cfg->restart_state;
		break;
	default:
		return PGHA_E_INVALID;
	}
	if (pgha_state_parse(arg, target)) {
		snprintf(err, errlen, "invalid state \"%s\": use ok, warning, critical or unknown",
			 arg);
		return PGHA_E_INVALID;
	}
	return 0;
}

/* Python's truth of a JSON value, as check_patroni tests "pause". */
static bool truthy(const cJSON *v)
{
	if (!v || cJSON_IsFalse(v) || cJSON_IsNull(v))
		return false;
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0;
	if (cJSON_IsString(v))
		return v->valuestring && v->valuestring[0];
	if (cJSON_IsArray(v) || cJSON_IsObject(v))
		return v->child != NULL;
	return true;
}

/* A string member of obj, or dflt. */
static const char *text_or(const cJSON *obj, const char *key, const char *dflt)
{
	const char *s;
	return pgha_json_string(obj, key, &s) == 0 ? s : dflt;
}

/* The thresholds echoed in perfdata: "0:0" (alerts above 0) as warning or
 * critical, as check_patroni prints it. */
static struct pgha_perf_spec alert_spec(enum pgha_state s)
{
	struct pgha_perf_spec spec = { .has_min = true, .min = 0 };
	if (s == PGHA_WARNING)
		spec.warn = "0:0";
	else if (s == PGHA_CRITICAL)
		spec.crit = "0:0";
	return spec;
}

static void check_paused(const struct config *cfg, const cJSON *root, struct pgha_result *r)
{
	bool paused = truthy(pgha_json_get(root, "pause"));
	struct pgha_perf_spec spec = alert_spec(cfg->paused_state);
	if (paused) {
		pgha_result_raise(r, cfg->paused_state);
		pgha_result_line(r, cfg->paused_state,
				 "cluster paused (maintenance mode: no automatic failover)");
	} else {
		pgha_result_line(r, PGHA_OK, "not paused");
	}
	pgha_result_perf(r, "is_in_maintenance", paused, &spec);
}

/* Returns 1 when a switchover is scheduled. */
static int check_switchover(const struct config *cfg, const cJSON *root, struct pgha_result *r)
{
	const cJSON *sw = pgha_json_get(root, "scheduled_switchover");
	if (!sw) {
		pgha_result_line(r, PGHA_OK, "no switchover scheduled");
		return 0;
	}
	const char *from = text_or(sw, "from", NULL), *to = text_or(sw, "to", NULL);
	pgha_result_raise(r, cfg->switchover_state);
	pgha_result_line(r, cfg->switchover_state, "switchover scheduled at %s%s%s%s%s",
			 text_or(sw, "at", "an unknown time"), from ? " from " : "", from ? from : "",
			 to ? " to " : "", to ? to : "");
	return 1;
}

/* Returns the number of members with a scheduled restart. */
static int check_restarts(const struct config *cfg, const cJSON *root, struct pgha_result *r)
{
	const cJSON *members = pgha_json_get(root, "members"), *m;
	int n = 0;
	cJSON_ArrayForEach(m, members) {
		const cJSON *sr = pgha_json_get(m, "scheduled_restart");
		if (!sr)
			continue;
		n++;
		const char *role = text_or(sr, "role", NULL);
		const char *version = text_or(sr, "postgres_version", NULL);
		pgha_result_raise(r, cfg->restart_state);
		pgha_result_line(r, cfg->restart_state, "restart scheduled on %s at %s%s%s%s%s%s",
				 text_or(m, "name", "(unnamed member)"),
				 text_or(sr, "schedule", "an unknown time"),
				 role ? " if its role is " : "", role ? role : "",
				 version ? " if PostgreSQL is older than " : "", version ? version : "",
				 pgha_json_flag(sr, "restart_pending") ? " if a restart is pending" : "");
	}
	if (n == 0)
		pgha_result_line(r, PGHA_OK, "no restart scheduled");
	return n;
}

/* Run the selected checks on the /cluster document. */
static void check_cluster(const struct config *cfg, const struct pgha_common *common,
			  const struct pgha_cluster_doc *doc, struct pgha_result *r)
{
	int switchover = 0, restarts = 0;
	if (cfg->alert & KIND_PAUSED)
		check_paused(cfg, doc->root, r);
	if (cfg->alert & KIND_SWITCHOVER)
		switchover = check_switchover(cfg, doc->root, r);
	if (cfg->alert & KIND_RESTART)
		restarts = check_restarts(cfg, doc->root, r);
	pgha_result_summarise(r, doc->cluster.scope[0] ? doc->cluster.scope : NULL);
	if (cfg->alert & (KIND_SWITCHOVER | KIND_RESTART)) {
		struct pgha_perf_spec none = { .has_min = true, .min = 0 };
		struct pgha_perf_spec sw = alert_spec(cfg->switchover_state);
		struct pgha_perf_spec rs = alert_spec(cfg->restart_state);
		pgha_result_perf(r, "has_scheduled_actions", switchover + restarts > 0, &none);
		if (cfg->alert & KIND_SWITCHOVER)
			pgha_result_perf(r, "scheduled_switchover", switchover, &sw);
		if (cfg->alert & KIND_RESTART)
			pgha_result_perf(r, "scheduled_restart", restarts, &rs);
	}
	if (common->verbose >= 1)
		pgha_result_line(r, PGHA_OK, "GET /cluster from \"%s\": %zu members", doc->endpoint,
				 doc->cluster.n_members);
}

/* No usable answer: the selected values are unknown. */
static void perf_unknown(const struct config *cfg, struct pgha_result *r)
{
	static const struct { unsigned kind; const char *label; } perf[] = {
		{ KIND_PAUSED, "is_in_maintenance" },
		{ KIND_SWITCHOVER | KIND_RESTART, "has_scheduled_actions" },
		{ KIND_SWITCHOVER, "scheduled_switchover" },
		{ KIND_RESTART, "scheduled_restart" },
	};
	for (size_t i = 0; i < sizeof perf / sizeof perf[0]; i++)
		if (cfg->alert & perf[i].kind)
			pgha_result_perf_unknown(r, perf[i].label, NULL);
}

int main(int argc, char **argv)
{
	struct config cfg = {
		.paused_state = PGHA_CRITICAL,
		.switchover_state = PGHA_CRITICAL,
		.restart_state = PGHA_CRITICAL,
	};
	const struct pgha_program program = {
		.name = "check_pgha_maintenance",
		.result_name = "PGHA_MAINTENANCE",
		.summary = "Check whether a Patroni cluster is paused (maintenance mode) or has "
			   "a switchover or restart scheduled.",
		.synopsis = "--patroni URL[,URL...] [--alert paused,switchover,restart] "
			    "[--paused-state S] [--switchover-state S] [--restart-state S] "
			    "[-t SECONDS]",
		.groups = PGHA_GROUP_PATRONI | PGHA_GROUP_TLS,
		.options = options,
		.n_options = sizeof options / sizeof options[0],
		.handler = handle_option,
		.ctx = &cfg,
		.notes = "Reads GET /cluster. Give every node with --patroni: the first that "
			 "answers is asked.\nA cluster that cannot be reached within -t is "
			 "CRITICAL unless --timeout-result says otherwise.",
	};
	struct pgha_common common;
	int done = pgha_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;
	if (common.n_patroni == 0)
		return pgha_options_fail(&program, "give the Patroni REST API with --patroni URL");
	if (cfg.alert == 0)
		cfg.alert = KIND_ALL;

	struct pgha_rest rest;
	struct pgha_result r;
	done = pgha_rest_setup(&rest, &program, &common, common.patroni, common.n_patroni, &r);
	if (done >= 0)
		return done;

	struct pgha_cluster_doc doc;
	char err[512];
	int rc = pgha_cluster_get(&rest, &common.deadline, &doc, err, sizeof err);
	if (rc) {
		pgha_rest_set_failure(&r, rc, &common, "not reachable: ", err);
		perf_unknown(&cfg, &r);
	} else {
		check_cluster(&cfg, &common, &doc, &r);
	}
	pgha_cluster_doc_free(&doc);
	pgha_rest_close(&rest);
	return pgha_result_exit(&r);
}
