/*
 * check_pgha_members: how many members a Patroni cluster has, and how many
 * of them are healthy, from GET /cluster.
 *
 *   -w/--warning RANGE, -c/--critical RANGE
 *           thresholds for the number of members
 *   --healthy-warning RANGE, --healthy-critical RANGE
 *           thresholds for the number of healthy members
 * Without thresholds the check is OK and only reports the numbers, as
 * check_patroni's cluster_node_count does.
 *
 * Healthy, as check_patroni 2.x counts it:
 *   a leader                              "running"
 *   a standby leader, replica, sync or    "streaming" (Patroni 3.0.4+), or
 *   quorum standby                        "running" on Patroni before 3.0.4
 * Anything else is not healthy: "stopped", "starting", "in archive
 * recovery" (it does not stream), a role Patroni only shows in transition
 * ("demoted", "uninitialized"), ... Only when a non-leader member says
 * "running" does the check ask the answering node's GET /patroni which
 * Patroni version runs, to tell which of the two meanings it has.
 *
 * A cluster that cannot be read within -t is CRITICAL (--timeout-result
 * changes it); an answer that is not the expected JSON is UNKNOWN.
 *
 * Perfdata: members, healthy_members, and per role and per state the
 * number of members (role_leader, role_replica, state_running,
 * state_streaming, state_in_archive_recovery, ...), as check_patroni.
 * Long output: one line per member, the unhealthy ones first.
 */
#include "error.h"
#include "options.h"
#include "output.h"
#include "patroni.h"
#include "range.h"
#include "rest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct config {
	const char *healthy_warning, *healthy_critical;
};

enum { OPT_HEALTHY_WARNING, OPT_HEALTHY_CRITICAL };

static const struct pgha_option options[] = {
	{ "healthy-warning", 0, "RANGE", "warning range for the number of healthy members",
	  OPT_HEALTHY_WARNING },
	{ "healthy-critical", 0, "RANGE", "critical range for the number of healthy members",
	  OPT_HEALTHY_CRITICAL },
};

static int handle_option(void *ctx, int id, const char *arg, char *err, size_t errlen)
{
	struct config *cfg = ctx;
	(void)err;
	(void)errlen;
	switch (id) {
	case OPT_HEALTHY_WARNING:
		cfg->healthy_warning = arg;
		return 0;
	case OPT_HEALTHY_CRITICAL:
		cfg->healthy_critical = arg;
		return 0;
	}
	return PGHA_E_INVALID;
}

/* A member's health. */
enum health { HEALTHY, UNHEALTHY, HEALTH_UNKNOWN };

/* True for a non-leader member that says "running": healthy only on
 * Patroni before 3.0.4. */
static bool ambiguous(const struct pgha_member *m)
{
	return (pgha_member_is_replica(m) || m->role == PGHA_MEMBER_STANDBY_LEADER) &&
	       strcmp(m->state, "running") == 0;
}

/* detailed: 1 for Patroni 3.0.4+, 0 before, -1 not known. */
static enum health member_health(const struct pgha_member *m, int detailed)
{
	if (m->role == PGHA_MEMBER_LEADER)
		return strcmp(m->state, "running") == 0 ? HEALTHY : UNHEALTHY;
	if (!pgha_member_is_replica(m) && m->role != PGHA_MEMBER_STANDBY_LEADER)
		return UNHEALTHY;
	if (strcmp(m->state, "streaming") == 0)
		return HEALTHY;
	if (strcmp(m->state, "running") == 0)
		return detailed < 0 ? HEALTH_UNKNOWN : detailed ? UNHEALTHY : HEALTHY;
	return UNHEALTHY;
}

static int compare_labels(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Add perfdata prefix<text>=count for each distinct text, sorted by label.
 * Labels are made as check_patroni makes them: quotes dropped, spaces as
 * underscores; an absent text counts as "unknown". Returns 0 or
 * PGHA_E_NOMEM.
 */
static int count_perf(struct pgha_result *r, const char *prefix, const char *const *texts,
		      size_t n)
{
	char **labels = calloc(n ? n : 1, sizeof *labels);
	int rc = labels ? 0 : PGHA_E_NOMEM;

	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *t = texts[i][0] ? texts[i] : "unknown";
		size_t plen = strlen(prefix);
		labels[i] = malloc(plen + strlen(t) + 1);
		if (!labels[i]) {
			rc = PGHA_E_NOMEM;
			break;
		}
		memcpy(labels[i], prefix, plen);
		char *o = labels[i] + plen;
		for (; *t; t++) {
			if (*t == '\'')
				continue;
			*o++ = *t == ' ' ? '_' : *t;
		}
		*o = '\0';
	}
	if (rc == 0) {
		qsort(labels, n, sizeof *labels, compare_labels);
		for (size_t i = 0; i < n;) {
			size_t j = i;
			while (j < n && strcmp(labels[j], labels[i]) == 0)
				j++;
			pgha_result_perf(r, labels[i], (double)(j - i), NULL);
			i = j;
		}
	}
	for (size_t i = 0; labels && i < n; i++)
		free(labels[i]);
	free(labels);
	return rc;
}

/* "n3: stopped", or with the role when the state alone looks fine
 * ("n2: demoted running"). */
static void describe(struct pgha_buf *b, const struct pgha_member *m)
{
	const char *state = m->state[0] ? m->state : "(no state)";
	if (pgha_member_is_running(m) || m->role == PGHA_MEMBER_UNKNOWN)
		pgha_buf_printf(b, "%s: %s %s", m->name,
				m->role_text[0] ? m->role_text : "(no role)", state);
	else
		pgha_buf_printf(b, "%s: %s", m->name, state);
}

/* The verdict on /cluster, into r. */
static void check_members(const struct pgha_common *common, struct pgha_rest *rest,
			  const char *endpoint, const struct pgha_thresholds *count_t,
			  const struct pgha_thresholds *healthy_t, const struct pgha_cluster *c,
			  struct pgha_result *r)
{
	int detailed = -1;
	char err[512] = "";
	int version_rc = 0;

	for (size_t i = 0; i < c->n_members; i++) {
		if (!ambiguous(&c->members[i]))
			continue;
		bool yes = false;
		version_rc = pgha_patroni_detailed_states_at(&rest->http, &common->deadline,
							     endpoint, &yes, NULL, 0, err,
							     sizeof err);
		if (version_rc == 0)
			detailed = yes;
		break;
	}

	enum health *health = calloc(c->n_members ? c->n_members : 1, sizeof *health);
	const char **roles = calloc(c->n_members ? c->n_members : 1, sizeof *roles);
	const char **states = calloc(c->n_members ? c->n_members : 1, sizeof *states);
	struct pgha_buf summary;
	pgha_buf_init(&summary, PGHA_OUTPUT_MAX);
	if (!health || !roles || !states) {
		pgha_result_set(r, PGHA_UNKNOWN, "out of memory");
		goto out;
	}

	size_t healthy = 0, undecided = 0;
	for (size_t i = 0; i < c->n_members; i++) {
		health[i] = member_health(&c->members[i], detailed);
		healthy += health[i] == HEALTHY;
		undecided += health[i] == HEALTH_UNKNOWN;
		roles[i] = c->members[i].role_text;
		states[i] = c->members[i].state;
	}

	enum pgha_state count_state = pgha_thresholds_check(count_t, (double)c->n_members);
	enum pgha_state healthy_state = PGHA_OK;
	pgha_result_raise(r, count_state);
	if (undecided) {
		healthy_state = pgha_rest_failure_state(version_rc, common);
		pgha_result_raise(r, healthy_state);
		pgha_buf_printf(&summary, "%zu of %zu members healthy, %zu undecided: the Patroni "
				"version could not be read (%s)", healthy, c->n_members, undecided, err);
	} else {
		healthy_state = pgha_thresholds_check(healthy_t, (double)healthy);
		pgha_result_raise(r, healthy_state);
		pgha_buf_printf(&summary, "%zu of %zu members healthy", healthy, c->n_members);
		size_t named = 0;
		for (size_t i = 0; i < c->n_members; i++) {
			if (health[i] != UNHEALTHY)
				continue;
			pgha_buf_puts(&summary, named++ ? ", " : " (");
			describe(&summary, &c->members[i]);
		}
		if (named)
			pgha_buf_puts(&summary, ")");
	}
	if (count_state != PGHA_OK)
		pgha_buf_printf(&summary, "; member count %zu is %s (range %s)", c->n_members,
				count_state == PGHA_CRITICAL ? "critical" : "warning",
				count_state == PGHA_CRITICAL ? count_t->critical_text
							     : count_t->warning_text);
	pgha_result_summary(r, "%s", pgha_buf_str(&summary));

	const struct pgha_perf_spec count_spec = {
		.warn = count_t->warning_text, .crit = count_t->critical_text,
		.has_min = true, .min = 0,
	};
	const struct pgha_perf_spec healthy_spec = {
		.warn = healthy_t->warning_text, .crit = healthy_t->critical_text,
		.has_min = true, .min = 0, .has_max = true, .max = (double)c->n_members,
	};
	pgha_result_perf(r, "members", (double)c->n_members, &count_spec);
	if (undecided)
		pgha_result_perf_unknown(r, "healthy_members", &healthy_spec);
	else
		pgha_result_perf(r, "healthy_members", (double)healthy, &healthy_spec);
	if (count_perf(r, "role_", roles, c->n_members) ||
	    count_perf(r, "state_", states, c->n_members)) {
		pgha_result_set(r, PGHA_UNKNOWN, "out of memory");
		goto out;
	}

	/* long output: the members that are not healthy first */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->n_members; i++) {
			const struct pgha_member *m = &c->members[i];
			if ((health[i] == HEALTHY) != (pass == 1))
				continue;
			char tl[48] = "";
			if (m->has_timeline)
				snprintf(tl, sizeof tl, ", timeline %" PRId64, m->timeline);
			pgha_result_line(r, health[i] == HEALTHY ? PGHA_OK : healthy_state,
					 "%s: %s %s%s, %s", m->name,
					 m->role_text[0] ? m->role_text : "(no role)",
					 m->state[0] ? m->state : "(no state)", tl,
					 health[i] == HEALTHY ? "healthy"
					 : health[i] == UNHEALTHY ? "not healthy" : "health unknown");
		}
	}
out:
	free(health);
	free(roles);
	free(states);
	pgha_buf_free(&summary);
}

int main(int argc, char **argv)
{
	struct config cfg = { NULL, NULL };
	const struct pgha_program program = {
		.name = "check_pgha_members",
		.result_name = "PGHA_MEMBERS",
		.summary = "Count the members of a Patroni cluster and its healthy members "
			   "(running leader, streaming replicas).",
		.synopsis = "--patroni URL[,URL...] [-w RANGE] [-c RANGE] "
			    "[--healthy-warning RANGE] [--healthy-critical RANGE] [-t SECONDS]",
		.groups = PGHA_GROUP_PATRONI | PGHA_GROUP_TLS | PGHA_GROUP_THRESHOLDS,
		.options = options,
		.n_options = sizeof options / sizeof options[0],
		.handler = handle_option,
		.ctx = &cfg,
		.notes = "-w and -c apply to the number of members. Healthy: a running "
			 "leader; a standby\nleader or replica that streams (\"running\" "
			 "before Patroni 3.0.4). Without\nthresholds the check is OK. "
			 "Example: -w 3: -c 2: --healthy-warning 3:\n--healthy-critical 2: "
			 "for a three-node cluster. A cluster that cannot be\nreached within "
			 "-t is CRITICAL unless --timeout-result says otherwise.",
	};
	struct pgha_common common;
	int done = pgha_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;
	if (common.n_patroni == 0)
		return pgha_options_fail(&program, "give the cluster with --patroni URL");

	struct pgha_thresholds count_t, healthy_t;
	char err[512] = "";
	if (pgha_thresholds_set(&count_t, common.warning, common.critical, PGHA_UNIT_NONE, err,
				sizeof err))
		return pgha_options_fail(&program, "%s", err);
	if (pgha_thresholds_set(&healthy_t, cfg.healthy_warning, cfg.healthy_critical,
				PGHA_UNIT_NONE, err, sizeof err))
		return pgha_options_fail(&program, "%s (healthy members)",
					 err);

	struct pgha_rest rest;
	struct pgha_result r;
	done = pgha_rest_setup(&rest, &program, &common, common.patroni, common.n_patroni, &r);
	if (done >= 0)
		return done;

	struct pgha_cluster_doc doc;
	int rc = pgha_cluster_get(&rest, &common.deadline, &doc, err, sizeof err);
	if (rc) {
		pgha_rest_set_failure(&r, rc, &common, NULL, err);
	} else {
		check_members(&common, &rest, doc.endpoint, &count_t, &healthy_t, &doc.cluster, &r);
		if (common.verbose >= 1)
			pgha_cluster_doc_line(&doc, &r);
	}
	pgha_cluster_doc_free(&doc);
	pgha_rest_close(&rest);
	return pgha_result_exit(&r);
}
