/*
 * check_pgha_etcd: the etcd cluster Patroni keeps its state in.
 *
 * A lost etcd quorum makes Patroni demote the primary within seconds, so
 * this check looks at what matters for that:
 *   - the members (POST member/list on the first --etcd endpoint that
 *     answers), then every voter's own maintenance/status, all at once,
 *     each within --member-timeout;
 *   - healthy voters = answered, has a leader, is who it says, no errors;
 *     quorum = voters / 2 + 1; fault tolerance = voters - quorum.
 * CRITICAL: fewer healthy voters than the quorum, no leader, members that
 * disagree on the leader, or no endpoint answering (the --timeout-result
 * state). WARNING: fault tolerance lost (a voter down), an alarm (NOSPACE,
 * CORRUPT), the database over --db-warning/--db-critical percent of its
 * quota, the raft index spread over --spread-warning/--spread-critical.
 * With --scope NAME it also checks that Patroni's leader key
 * <namespace>/NAME/leader exists and its lease is alive (a serializable
 * read, so it still answers without quorum).
 */
#include "base64.h"
#include "error.h"
#include "etcd.h"
#include "options.h"
#include "output.h"
#include "range.h"
#include "rest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct config {
	double member_timeout;  /* seconds */
	const char *db_warning, *db_critical;
	const char *spread_warning, *spread_critical;
	const char *scope;
	const char *namespace;
};

enum { OPT_MEMBER_TIMEOUT, OPT_DB_WARNING, OPT_DB_CRITICAL, OPT_SPREAD_WARNING,
       OPT_SPREAD_CRITICAL, OPT_SCOPE, OPT_NAMESPACE };

static const struct pgha_option options[] = {
	{ "member-timeout", 0, "SECONDS",
	  "time each member gets to answer its status (default 2)", OPT_MEMBER_TIMEOUT },
	{ "db-warning", 0, "RANGE",
	  "database size in percent of the quota (default 80)", OPT_DB_WARNING },
	{ "db-critical", 0, "RANGE", "likewise, critical (default 90)", OPT_DB_CRITICAL },
	{ "spread-warning", 0, "RANGE",
	  "raft index spread between healthy members (default 1000)", OPT_SPREAD_WARNING },
	{ "spread-critical", 0, "RANGE", "likewise, critical (default none)", OPT_SPREAD_CRITICAL },
	{ "scope", 0, "NAME", "also check Patroni's leader key of this cluster", OPT_SCOPE },
	{ "namespace", 0, "PATH", "Patroni's namespace (default /service)", OPT_NAMESPACE },
};

static int handle_option(void *ctx, int id, const char *arg, char *err, size_t errlen)
{
	struct config *cfg = ctx;
	switch (id) {
	case OPT_MEMBER_TIMEOUT: {
		char *end;
		errno = 0;
		double v = strtod(arg, &end);
		if (errno || end == arg || *end || !(v > 0) || v > 3600) {
			pgha_errf(err, errlen, "invalid --member-timeout \"%s\": seconds above 0", arg);
			return PGHA_E_INVALID;
		}
		cfg->member_timeout = v;
		return 0;
	}
	case OPT_DB_WARNING: cfg->db_warning = arg; return 0;
	case OPT_DB_CRITICAL: cfg->db_critical = arg; return 0;
	case OPT_SPREAD_WARNING: cfg->spread_warning = arg; return 0;
	case OPT_SPREAD_CRITICAL: cfg->spread_critical = arg; return 0;
	case OPT_SCOPE: cfg->scope = arg; return 0;
	case OPT_NAMESPACE:
		if (arg[0] != '/') {
			pgha_errf(err, errlen, "invalid --namespace \"%s\": must start with '/'", arg);
			return PGHA_E_INVALID;
		}
		cfg->namespace = arg;
		return 0;
	}
	return PGHA_E_INVALID;
}

/* The quota from GET /metrics (etcd_server_quota_backend_bytes), or 0. */
static double quota_bytes(struct pgha_rest *rest, const struct pgha_common *c)
{
	struct pgha_http_response resp;
	double quota = 0;
	pgha_http_response_init(&resp, 0);
	if (pgha_http_get(&rest->http, &c->deadline, "/metrics", &resp) == 0 &&
	    resp.status == 200) {
		static const char key[] = "etcd_server_quota_backend_bytes ";
		const char *text = pgha_buf_str(&resp.body);
		const char *p = strstr(text, key);
		while (p && p != text && p[-1] != '\n')
			p = strstr(p + 1, key); /* only at the start of a line */
		if (p) {
			char *end;
			double v = strtod(p + sizeof key - 1, &end);
			if (end != p + sizeof key - 1 && v > 0)
				quota = v;
		}
	}
	pgha_http_response_free(&resp);
	return quota;
}

/* Check Patroni's leader key and its lease (serializable reads). */
static void check_scope(struct pgha_rest *rest, const struct pgha_common *c,
			const struct config *cfg, const char *prefix, struct pgha_result *r)
{
	char key[512], keyb64[PGHA_BASE64_LEN(512)], body[1024], path[64], err[256];
	cJSON *root = NULL;
	snprintf(key, sizeof key, "%s/%s/leader",
		 strcmp(cfg->namespace, "/") == 0 ? "" : cfg->namespace, cfg->scope);
	pgha_base64_encode(key, strlen(key), keyb64);
	snprintf(body, sizeof body, "{\"key\":\"%s\",\"serializable\":true}", keyb64);
	snprintf(path, sizeof path, "%s/kv/range", prefix);

	int rc = pgha_etcd_call(rest, &c->deadline, path, body, &root, err, sizeof err);
	const cJSON *kvs = NULL, *kv;
	if (rc) {
		pgha_result_raise(r, PGHA_UNKNOWN);
		pgha_result_line(r, PGHA_UNKNOWN, "leader key \"%s\": %s", key, err);
		goto out;
	}
	if (pgha_json_array(root, "kvs", &kvs) || !(kv = cJSON_GetArrayItem(kvs, 0))) {
		pgha_result_raise(r, PGHA_CRITICAL);
		pgha_result_line(r, PGHA_CRITICAL, "no leader key \"%s\" in etcd", key);
		pgha_result_perf(r, "leader_key", 0, NULL);
		goto out;
	}
	const char *value64 = "";
	pgha_json_string(kv, "value", &value64);
	unsigned char holder[256] = "";
	if (strlen(value64) >= sizeof holder * 4 / 3 || pgha_base64_decode(value64, holder) < 0)
		snprintf((char *)holder, sizeof holder, "?");
	uint64_t lease = 0;
	if (pgha_json_uint64(kv, "lease", &lease) || lease == 0) {
		pgha_result_raise(r, PGHA_WARNING);
		pgha_result_line(r, PGHA_WARNING, "leader key held by %s has no lease", holder);
		pgha_result_perf(r, "leader_key", 1, NULL);
		goto out;
	}
	cJSON_Delete(root);
	root = NULL;
	snprintf(body, sizeof body, "{\"ID\":\"%" PRIu64 "\"}", lease);
	snprintf(path, sizeof path, "%s/lease/timetolive", prefix);
	int64_t ttl = -1;
	rc = pgha_etcd_call(rest, &c->deadline, path, body, &root, err, sizeof err);
	if (rc == 0 && pgha_json_int64(root, "TTL", &ttl))
		ttl = -1;
	if (rc) {
		pgha_result_raise(r, PGHA_UNKNOWN);
		pgha_result_line(r, PGHA_UNKNOWN, "leader lease of %s: %s", holder, err);
	} else if (ttl <= 0) {
		pgha_result_raise(r, PGHA_CRITICAL);
		pgha_result_line(r, PGHA_CRITICAL, "leader key held by %s: lease expired", holder);
	} else {
		pgha_result_line(r, PGHA_OK, "leader key held by %s (lease %" PRId64 " s left)",
				 holder, ttl);
	}
	pgha_result_perf(r, "leader_key", rc == 0 && ttl > 0, NULL);
out:
	cJSON_Delete(root);
}

/* "etcd1", or the ID in hex for a member with no name yet. */
static const char *member_label(const struct pgha_etcd_member *m, char *buf, size_t len)
{
	if (m->name[0])
		return m->name;
	snprintf(buf, len, "%" PRIx64, m->id);
	return buf;
}

/* The verdict on the voters, then the thresholds. */
static void check_members(struct pgha_rest *rest, const struct pgha_common *c,
			  const struct config *cfg, const struct pgha_etcd_view *view,
			  const struct pgha_thresholds *db, const struct pgha_thresholds *spread,
			  struct pgha_result *r)
{
	struct pgha_etcd_health h;
	pgha_etcd_assess(&rest->http, &c->deadline, (int64_t)(cfg->member_timeout * 1000), view, &h);

	/* one line per member */
	for (size_t i = 0; i < h.n_voters; i++) {
		const struct pgha_etcd_voter *v = &h.voters[i];
		char lb[32];
		const char *name = member_label(v->member, lb, sizeof lb);
		if (v->healthy)
			pgha_result_line(r, PGHA_OK, "%s (%s): %s, raft index %" PRIu64
					 ", db %" PRIu64 " B", name, v->member->client_url,
					 v->st.leader == v->member->id ? "leader" : "follower",
					 v->st.raft_index, v->st.db_size);
		else
			pgha_result_line(r, v->st.alarm ? PGHA_WARNING : PGHA_CRITICAL,
					 "%s (%s): %s", name, v->member->client_url, v->why);
	}

	struct pgha_buf sum;
	pgha_buf_init(&sum, 512);
	enum pgha_state s = PGHA_OK;
	if (h.healthy < h.quorum) {
		s = PGHA_CRITICAL;
		pgha_buf_printf(&sum, "quorum lost: %zu of %zu voters healthy (quorum %zu)",
				h.healthy, h.n_voters, h.quorum);
	} else if (h.disagree) {
		s = PGHA_CRITICAL;
		pgha_buf_printf(&sum, "members disagree on the leader");
	} else if (!h.leader_name) {
		s = PGHA_CRITICAL;
		pgha_buf_printf(&sum, "no leader");
	} else {
		if (h.healthy < h.n_voters)
			s = PGHA_WARNING;
		pgha_buf_printf(&sum, "%zu of %zu members healthy, leader %s, quorum %zu, "
				"fault tolerance %zu", h.healthy, h.n_voters, h.leader_name,
				h.quorum, h.healthy - h.quorum);
	}
	if (h.alarm) {
		s = pgha_state_worst(s, PGHA_WARNING);
		pgha_buf_puts(&sum, "; alarm raised");
	}
	double quota = quota_bytes(rest, c);
	if (quota > 0 && h.healthy) {
		/* two decimals are plenty for a percentage */
		double pct = (double)(int64_t)(10000.0 * (double)h.max_db_size / quota + 0.5) / 100.0;
		enum pgha_state ds = pgha_thresholds_check(db, pct);
		s = pgha_state_worst(s, ds);
		if (ds != PGHA_OK)
			pgha_buf_printf(&sum, "; database %.1f%% of its quota", pct);
		pgha_result_perf(r, "db_size_pct", pct, &(struct pgha_perf_spec){
			.uom = "%", .warn = db->warning_text, .crit = db->critical_text,
			.has_min = true, .min = 0, .has_max = true, .max = 100 });
	}
	if (h.healthy) {
		double spread_v = (double)h.raft_index_spread;
		enum pgha_state ss = pgha_thresholds_check(spread, spread_v);
		s = pgha_state_worst(s, ss);
		if (ss != PGHA_OK)
			pgha_buf_printf(&sum, "; raft index spread %.0f", spread_v);
		pgha_result_perf(r, "raft_index_spread", spread_v, &(struct pgha_perf_spec){
			.warn = spread->warning_text, .crit = spread->critical_text });
	}
	if (h.learners)
		pgha_buf_printf(&sum, " (+%zu learner%s)", h.learners, h.learners > 1 ? "s" : "");
	pgha_result_raise(r, s);
	pgha_result_summary(r, "%s", pgha_buf_str(&sum));
	pgha_buf_free(&sum);

	pgha_result_perf(r, "members", (double)h.n_voters, &(struct pgha_perf_spec){ .has_min = true });
	pgha_result_perf(r, "healthy", (double)h.healthy, &(struct pgha_perf_spec){
		.has_min = true, .has_max = true, .max = (double)h.n_voters });
	pgha_result_perf(r, "quorum", (double)h.quorum, NULL);
	pgha_result_perf(r, "fault_tolerance",
			 h.healthy >= h.quorum ? (double)(h.healthy - h.quorum) : 0,
			 &(struct pgha_perf_spec){ .has_min = true });
	if (h.healthy) {
		pgha_result_perf(r, "db_size", (double)h.max_db_size, &(struct pgha_perf_spec){
			.uom = "B", .has_min = true, .has_max = quota > 0, .max = quota });
		pgha_result_perf(r, "raft_term", (double)h.raft_term,
				 &(struct pgha_perf_spec){ .uom = "c" });
	}
}

int main(int argc, char **argv)
{
	struct config cfg = { .member_timeout = 2, .db_warning = "80", .db_critical = "90",
			      .spread_warning = "1000", .namespace = "/service" };
	const struct pgha_program program = {
		.name = "check_pgha_etcd",
		.result_name = "PGHA_ETCD",
		.summary = "Check the etcd cluster behind Patroni: quorum, leader, alarms, "
			   "database size and raft progress of every member.",
		.synopsis = "--etcd URL[,URL...] [--scope NAME] [--member-timeout S] "
			    "[--db-warning R] [--db-critical R] [--spread-warning R] "
			    "[--spread-critical R] [-t SECONDS]",
		.groups = PGHA_GROUP_ETCD | PGHA_GROUP_TLS,
		.options = options,
		.n_options = sizeof options / sizeof options[0],
		.handler = handle_option,
		.ctx = &cfg,
		.notes = "Healthy voters below the quorum, no leader or disagreeing leaders "
			 "are CRITICAL; a voter down (no fault tolerance left), an alarm, a "
			 "database near its quota or a raft index spread are WARNING by default."
			 "\nWith --auth-file the username and password authenticate to etcd "
			 "(a token), when the cluster has auth on.",
	};
	struct pgha_common common;
	int done = pgha_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;

	struct pgha_thresholds db, spread;
	char err[512] = "";
	if (pgha_thresholds_set(&db, cfg.db_warning, cfg.db_critical, PGHA_UNIT_NONE, err, sizeof err) ||
	    pgha_thresholds_set(&spread, cfg.spread_warning, cfg.spread_critical, PGHA_UNIT_NONE,
				err, sizeof err))
		return pgha_options_fail(&program, "%s", err);

	if (common.n_etcd == 0)
		return pgha_options_fail(&program, "give the etcd endpoints with --etcd URL");

	struct pgha_rest rest;
	struct pgha_result r;
	done = pgha_rest_setup(&rest, &program, &common, common.etcd, common.n_etcd, &r);
	if (done >= 0)
		return done;
	struct pgha_etcd_view view = { 0 };
	int rc = pgha_etcd_discover(&rest, &common.deadline, &view, err, sizeof err);
	if (rc) {
		pgha_rest_set_failure(&r, rc, &common, "no etcd endpoint answered: ", err);
		goto out;
	}
	check_members(&rest, &common, &cfg, &view, &db, &spread, &r);
	if (cfg.scope) {
		size_t before = r.nlines;
		check_scope(&rest, &common, &cfg, view.prefix, &r);
		if (r.nlines > before) {
			const struct pgha_line *l = &r.lines[r.nlines - 1];
			pgha_result_summary(&r, "%s; %s", r.summary, l->text);
		}
	}
	if (common.verbose >= 1)
		pgha_result_line(&r, PGHA_OK, "etcd %s, API %s", view.version, view.prefix);
out:
	pgha_etcd_view_free(&view);
	pgha_rest_close(&rest);
	return pgha_result_exit(&r);
}
