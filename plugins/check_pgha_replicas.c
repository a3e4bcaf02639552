/*
 * check_pgha_replicas: how many replicas of a Patroni cluster are healthy,
 * from GET /cluster (check_patroni's cluster_has_replica).
 *
 * A replica is a member with the role replica, sync_standby or
 * quorum_standby. It is healthy when
 *   - its lag is a number of bytes (not "unknown"),
 *   - it is on the leader's timeline,
 *   - it streams: state "streaming" or "in archive recovery" from Patroni
 *     3.0.4, "running" before (the version is read from GET /patroni only
 *     when a replica says "running", the one state whose meaning changed),
 *   - and, with --max-lag, its lag is at most that many bytes.
 * Options:
 *   -w/-c RANGE             thresholds on the number of healthy replicas
 *   --sync-warning/--sync-critical RANGE
 *                           thresholds on the number of synchronous
 *                           replicas (sync_standby/quorum_standby, as
 *                           --sync-type says) that stream on the leader's
 *                           timeline, whatever their lag
 *   --sync-type any|sync|quorum  which synchronous role counts (any)
 *   --max-lag SIZE          a replica lagging more is unhealthy (16MB)
 * Without thresholds the check is OK whatever the counts, as
 * check_patroni's is. "lag" in /cluster is the distance between the
 * leader's last WAL position and the replica's received-or-replayed one,
 * as Patroni last wrote them into the DCS (every loop_wait): a replica
 * whose replay is paused shows no lag there. On Patroni 4.1 receive_lag and
 * replay_lag are reported as perfdata; --max-lag applies to "lag", as in
 * check_patroni. A cluster that cannot be reached in time is CRITICAL
 * (--timeout-result changes it).
 */
#include "buf.h"
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
	bool has_max_lag;
	double max_lag; /* bytes */
	const char *max_lag_text;
	const char *sync_warning, *sync_critical;
	enum pgha_sync_type sync_type;
};

enum { OPT_MAX_LAG, OPT_SYNC_WARNING, OPT_SYNC_CRITICAL, OPT_SYNC_TYPE };

static const struct pgha_option options[] = {
	{ "max-lag", 0, "SIZE",
	  "a replica whose lag exceeds SIZE is unhealthy (bytes; units B kB MB GB TB)",
	  OPT_MAX_LAG },
	{ "sync-warning", 0, "RANGE", "warning range for the number of synchronous replicas",
	  OPT_SYNC_WARNING },
	{ "sync-critical", 0, "RANGE", "critical range for the number of synchronous replicas",
	  OPT_SYNC_CRITICAL },
	{ "sync-type", 0, "TYPE",
	  "synchronous role that counts: any (default), sync (sync_standby) or quorum "
	  "(quorum_standby)", OPT_SYNC_TYPE },
};

static int handle_option(void *ctx, int id, const char *arg, char *err, size_t errlen)
{
	struct config *cfg = ctx;
	switch (id) {
	case OPT_MAX_LAG:
		cfg->max_lag_text = arg;
		return pgha_max_lag_parse(arg, &cfg->has_max_lag, &cfg->max_lag, err, errlen);
	case OPT_SYNC_WARNING:
		cfg->sync_warning = arg;
		return 0;
	case OPT_SYNC_CRITICAL:
		cfg->sync_critical = arg;
		return 0;
	case OPT_SYNC_TYPE:
		return pgha_sync_type_parse(arg, &cfg->sync_type, err, errlen);
	}
	return PGHA_E_INVALID;
}

/* "512 B", "30.5 MB": a lag (never negative) for people, in powers of
 * 1024, one decimal. */
static void format_bytes(double v, char *out, size_t outlen)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
	size_t u = 0;
	while (u + 1 < sizeof units / sizeof units[0] && v >= 1024) {
		v /= 1024;
		u++;
	}
	char num[PGHA_NUMBER_MAX + 1];
	if (u) /* one decimal without libm; v < 2^24 here (int64 bytes in TB) */
		v = (double)(long long)(v * 10 + 0.5) / 10;
	pgha_number_format(v, num, sizeof num);
	snprintf(out, outlen, "%s %s", num, units[u]);
}

/* Does the replica's state say it replicates? detailed: Patroni >= 3.0.4,
 * where "running" means neither streaming nor restoring from an archive. */
static bool state_replicates(const struct pgha_member *m, bool detailed)
{
	if (detailed)
		return strcmp(m->state, "streaming") == 0 ||
		       strcmp(m->state, "in archive recovery") == 0;
	return strcmp(m->state, "running") == 0;
}

/* What a replica's evaluation found. */
struct verdict {
	bool healthy;
	bool sync;          /* counts in sync_replica */
	char reason[192];   /* why it is unhealthy, short, for the summary */
};

/* Judge one replica the way check_patroni's cluster_has_replica does, in
 * its order: unknown lag, then state and timeline, then the lag limit.
 * leader may be NULL. */
static void judge(const struct config *cfg, const struct pgha_member *m,
		  const struct pgha_member *leader, bool detailed, struct verdict *v)
{
	const char *state = m->state[0] ? m->state : "no state";
	memset(v, 0, sizeof *v);
	bool replicates = state_replicates(m, detailed);
	if (m->lag_kind != PGHA_LAG_BYTES) {
		/* a stopped replica has no position in the DCS */
		snprintf(v->reason, sizeof v->reason, "%s", replicates ? "lag unknown" : state);
		return;
	}
	if (!replicates) {
		snprintf(v->reason, sizeof v->reason, "%s%s", state,
			 detailed && strcmp(m->state, "running") == 0 ? ", not streaming" : "");
		return;
	}
	if (!leader) {
		snprintf(v->reason, sizeof v->reason, "no leader to compare timelines with");
		return;
	}
	if (!leader->has_timeline || !m->has_timeline) {
		snprintf(v->reason, sizeof v->reason, "timeline unknown");
		return;
	}
	if (m->timeline != leader->timeline) {
		snprintf(v->reason, sizeof v->reason, "timeline %" PRId64 ", leader on %" PRId64,
			 m->timeline, leader->timeline);
		return;
	}
	v->sync = pgha_sync_type_accepts(cfg->sync_type, m->role == PGHA_MEMBER_SYNC_STANDBY,
					 m->role == PGHA_MEMBER_QUORUM_STANDBY);
	if (cfg->has_max_lag && (double)m->lag > cfg->max_lag) {
		/* exact bytes: "1 MB over 1MB" would puzzle */
		snprintf(v->reason, sizeof v->reason, "lag %" PRId64 " B over %s", m->lag,
			 cfg->max_lag_text);
		return;
	}
	v->healthy = true;
}

/* One long-output line and the perfdata of a replica. */
static void report_replica(struct pgha_result *r, const struct pgha_member *m,
			   const struct verdict *v)
{
	static const struct pgha_perf_spec bytes = { .uom = "B", .has_min = true, .min = 0 };
	char label[256], lag[48], timeline[32], extra[128] = "";

	if (m->lag_kind == PGHA_LAG_BYTES)
		format_bytes((double)m->lag, lag, sizeof lag);
	else
		snprintf(lag, sizeof lag, "unknown");
	if (m->has_timeline)
		snprintf(timeline, sizeof timeline, "%" PRId64, m->timeline);
	else
		snprintf(timeline, sizeof timeline, "unknown");
	if (m->has_receive_lag && m->has_replay_lag) {
		char rl[48], pl[48];
		format_bytes((double)m->receive_lag, rl, sizeof rl);
		format_bytes((double)m->replay_lag, pl, sizeof pl);
		snprintf(extra, sizeof extra, " (receive %s, replay %s)", rl, pl);
	}
	pgha_result_line(r, v->healthy ? PGHA_OK : PGHA_WARNING,
			 "%s: %s %s, timeline %s, lag %s%s%s%s", m->name,
			 pgha_member_role_name(m->role), m->state[0] ? m->state : "(no state)",
			 timeline, lag, extra, v->healthy ? "" : " - unhealthy: ",
			 v->healthy ? "" : v->reason);

	snprintf(label, sizeof label, "%s_lag", m->name);
	if (m->lag_kind == PGHA_LAG_BYTES)
		pgha_result_perf(r, label, (double)m->lag, &bytes);
	else
		pgha_result_perf_unknown(r, label, NULL);
	snprintf(label, sizeof label, "%s_timeline", m->name);
	if (m->has_timeline)
		pgha_result_perf(r, label, (double)m->timeline, NULL);
	else
		pgha_result_perf_unknown(r, label, NULL);
	snprintf(label, sizeof label, "%s_sync", m->name);
	pgha_result_perf(r, label,
			 m->role == PGHA_MEMBER_SYNC_STANDBY || m->role == PGHA_MEMBER_QUORUM_STANDBY,
			 NULL);
	if (m->has_receive_lag) {
		snprintf(label, sizeof label, "%s_receive_lag", m->name);
		pgha_result_perf(r, label, (double)m->receive_lag, &bytes);
	}
	if (m->has_replay_lag) {
		snprintf(label, sizeof label, "%s_replay_lag", m->name);
		pgha_result_perf(r, label, (double)m->replay_lag, &bytes);
	}
}

/* Patroni >= 3.0.4 reports "streaming" / "in archive recovery"; before, a
 * replica that runs is "running". Only a replica that says "running" needs
 * the version to be judged; then the endpoint that gave /cluster is asked
 * for GET /patroni, as check_patroni does. */
static bool needs_version(const struct pgha_cluster *c)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (pgha_member_is_replica(&c->members[i]) &&
		    strcmp(c->members[i].state, "running") == 0)
			return true;
	return false;
}

/* Judge every replica, then the counts. */
static void check_cluster(const struct config *cfg, const struct pgha_cluster *c,
			  bool detailed, const struct pgha_thresholds *count,
			  const struct pgha_thresholds *sync, struct pgha_result *r)
{
	const struct pgha_member *leader = pgha_cluster_leader(c);
	size_t n = 0, healthy = 0, n_sync = 0;
	struct pgha_buf why;
	pgha_buf_init(&why, 2048);

	/* counts first in perfdata, replicas after: collect the verdicts */
	struct verdict *v = calloc(c->n_members ? c->n_members : 1, sizeof *v);
	if (!v) {
		pgha_result_set(r, PGHA_UNKNOWN, "out of memory");
		return;
	}
	for (size_t i = 0; i < c->n_members; i++) {
		const struct pgha_member *m = &c->members[i];
		if (!pgha_member_is_replica(m))
			continue;
		n++;
		judge(cfg, m, leader, detailed, &v[i]);
		healthy += v[i].healthy;
		n_sync += v[i].sync;
		if (!v[i].healthy && leader)
			pgha_buf_printf(&why, "%s%s: %s", why.len ? "; " : "", m->name, v[i].reason);
	}

	enum pgha_state s_count = pgha_thresholds_check(count, (double)healthy);
	enum pgha_state s_sync = pgha_thresholds_check(sync, (double)n_sync);
	pgha_result_raise(r, s_count);
	pgha_result_raise(r, s_sync);

	struct pgha_buf sum;
	pgha_buf_init(&sum, 4096);
	if (n == 0)
		pgha_buf_puts(&sum, "no replicas");
	else
		pgha_buf_printf(&sum, "%zu of %zu replica%s healthy", healthy, n, n == 1 ? "" : "s");
	if (!leader && n)
		pgha_buf_puts(&sum, " (no leader)");
	else if (why.len)
		pgha_buf_printf(&sum, " (%s)", pgha_buf_str(&why));
	if (n_sync || sync->has_warning || sync->has_critical) {
		pgha_buf_printf(&sum, ", %zu sync", n_sync);
		if (s_sync != PGHA_OK)
			pgha_buf_printf(&sum, " (%s range %s)",
					s_sync == PGHA_CRITICAL ? "critical" : "warning",
					s_sync == PGHA_CRITICAL ? sync->critical_text
								: sync->warning_text);
	}
	pgha_result_summary(r, "%s", pgha_buf_str(&sum));
	pgha_buf_free(&sum);
	pgha_buf_free(&why);

	struct pgha_perf_spec spec = { .warn = count->warning_text, .crit = count->critical_text,
				       .has_min = true, .min = 0, .has_max = true,
				       .max = (double)n };
	pgha_result_perf(r, "healthy_replica", (double)healthy, &spec);
	spec.warn = spec.crit = NULL;
	pgha_result_perf(r, "unhealthy_replica", (double)(n - healthy), &spec);
	spec.warn = sync->warning_text;
	spec.crit = sync->critical_text;
	pgha_result_perf(r, "sync_replica", (double)n_sync, &spec);

	for (size_t i = 0; i < c->n_members; i++)
		if (pgha_member_is_replica(&c->members[i]))
			report_replica(r, &c->members[i], &v[i]);
	if (leader)
		pgha_result_line(r, PGHA_OK, "%s: %s %s, timeline %s%" PRId64, leader->name,
				 pgha_member_role_name(leader->role), leader->state,
				 leader->has_timeline ? "" : "unknown ",
				 leader->has_timeline ? leader->timeline : 0);
	else
		pgha_result_line(r, PGHA_WARNING, "no leader in the cluster: replicas cannot "
				 "be on its timeline");
	free(v);
}

/* GET /cluster and judge it. */
static void run(struct pgha_rest *rest, const struct pgha_common *common,
		const struct config *cfg, const struct pgha_thresholds *count,
		const struct pgha_thresholds *sync, struct pgha_result *r)
{
	struct pgha_cluster_doc doc;
	char err[512], version[64] = "";
	bool detailed = true;

	int rc = pgha_cluster_get(rest, &common->deadline, &doc, err, sizeof err);
	if (rc) {
		pgha_rest_set_failure(r, rc, common, "not reachable: ", err);
	} else if (needs_version(&doc.cluster) &&
		   (rc = pgha_patroni_detailed_states_at(&rest->http, &common->deadline,
							 doc.endpoint, &detailed, version,
							 sizeof version, err, sizeof err))) {
		pgha_result_set(r, pgha_rest_failure_state(rc, common),
				"could not read the Patroni version: %s", err);
	} else {
		check_cluster(cfg, &doc.cluster, detailed, count, sync, r);
		if (common->verbose >= 2)
			pgha_result_line(r, PGHA_OK, "GET /cluster from \"%s\"%s%s%s", doc.endpoint,
					 version[0] ? "; Patroni " : "", version,
					 version[0] ? (detailed ? " (streaming states)"
								: " (running states)")
						    : "");
	}
	pgha_cluster_doc_free(&doc);
}

int main(int argc, char **argv)
{
	struct config cfg = { .sync_type = PGHA_SYNC_ANY };
	const struct pgha_program program = {
		.name = "check_pgha_replicas",
		.result_name = "PGHA_REPLICAS",
		.summary = "Check how many replicas of a Patroni cluster are healthy: "
			   "streaming on the leader's timeline, within a lag.",
		.synopsis = "--patroni URL[,URL...] [-w RANGE] [-c RANGE] [--max-lag SIZE] "
			    "[--sync-warning RANGE] [--sync-critical RANGE] "
			    "[--sync-type any|sync|quorum] [-t SECONDS]",
		.groups = PGHA_GROUP_PATRONI | PGHA_GROUP_TLS | PGHA_GROUP_THRESHOLDS,
		.options = options,
		.n_options = sizeof options / sizeof options[0],
		.handler = handle_option,
		.ctx = &cfg,
		.notes = "-w and -c apply to the number of healthy replicas (e.g. -w 2: -c 1:).\n"
			 "Without ranges the check reports the counts and is OK.\n"
			 "The lag is Patroni's, from the DCS: it stays 0 while a replica's "
			 "replay is paused.\nA cluster that cannot be reached within -t is "
			 "CRITICAL unless --timeout-result says otherwise.",
	};
	struct pgha_common common;
	int done = pgha_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;
	if (common.n_patroni == 0)
		return pgha_options_fail(&program, "give the cluster with --patroni URL");

	struct pgha_thresholds count, sync;
	char err[512] = "";
	if (pgha_thresholds_set(&count, common.warning, common.critical, PGHA_UNIT_NONE, err,
				sizeof err))
		return pgha_options_fail(&program, "%s", err);
	if (pgha_thresholds_set(&sync, cfg.sync_warning, cfg.sync_critical, PGHA_UNIT_NONE,
				err, sizeof err))
		return pgha_options_fail(&program, "%s (--sync-warning/--sync-critical)", err);

	struct pgha_rest rest;
	struct pgha_result r;
	done = pgha_rest_setup(&rest, &program, &common, common.patroni, common.n_patroni, &r);
	if (done >= 0)
		return done;
	run(&rest, &common, &cfg, &count, &sync, &r);
	pgha_rest_close(&rest);
	return pgha_result_exit(&r);
}
