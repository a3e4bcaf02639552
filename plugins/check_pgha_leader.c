/*
 * check_pgha_leader: does the Patroni cluster have a leader, from GET /cluster.
 *
 * OK        a member with role "leader" is "running", or a standby
 *           cluster's "standby_leader" is "streaming" (or "running" on
 *           Patroni before 3.0.4)
 * WARNING   the standby leader is "in archive recovery": it replays WAL
 *           from the archive but does not stream from its source
 * CRITICAL  no running leader and no usable standby leader
 *
 * The same verdicts as check_patroni's cluster_has_leader. Patroni 3.0.4
 * renamed a replica's "running" to "streaming" or "in archive recovery";
 * only when a standby leader says "running" does the check ask the
 * answering node's GET /patroni which version it runs.
 *
 * --verify-nodes also asks every member's own GET /patroni (its api_url in
 * /cluster), all at once and within -t, and is
 *   CRITICAL  when more than one node answers as a running primary (split
 *             brain), when a node that /cluster does not name as leader
 *             answers as primary, or when the leader answers with another
 *             role than /cluster gives it
 *   CRITICAL  (--unreachable-state) when the leader does not answer
 *   WARNING   when another member does not answer (split brain cannot be
 *             ruled out), or the --unreachable-state if that is milder
 *   UNKNOWN   when a member answers something that is not a Patroni status
 * The members are asked concurrently, so one hanging node cannot starve
 * the others.
 *
 * A cluster that cannot be read within -t is CRITICAL (--timeout-result
 * changes it); an answer that is not the expected JSON is UNKNOWN.
 *
 * Perfdata: has_leader, is_leader, is_standby_leader,
 * is_standby_leader_in_arc_rec (as check_patroni prints them), and with
 * --verify-nodes primaries (nodes answering as primary).
 * Long output: one line per member.
 */
#include "error.h"
#include "fanout.h"
#include "options.h"
#include "output.h"
#include "patroni.h"
#include "rest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct config {
	bool verify_nodes;
};

enum { OPT_VERIFY_NODES };

static const struct pgha_option options[] = {
	{ "verify-nodes", 0, NULL,
	  "also ask every member's GET /patroni; CRITICAL when more than one node "
	  "answers as primary (split brain)", OPT_VERIFY_NODES },
};

static int handle_option(void *ctx, int id, const char *arg, char *err, size_t errlen)
{
	struct config *cfg = ctx;
	(void)arg;
	(void)err;
	(void)errlen;
	switch (id) {
	case OPT_VERIFY_NODES:
		cfg->verify_nodes = true;
		return 0;
	}
	return PGHA_E_INVALID;
}

/* What /cluster says about the leader. */
enum leader_kind {
	LEADER_NONE,
	LEADER_PRIMARY,         /* role leader, state running */
	LEADER_STANDBY,         /* standby_leader streaming (or running < 3.0.4) */
	LEADER_STANDBY_ARCHIVE  /* standby_leader in archive recovery */
};

/* One member's own answer to GET /patroni (--verify-nodes). */
struct answer {
	int rc;              /* 0 when it answered a usable status */
	char error[300];     /* why not, when rc != 0 */
	enum pgha_role role;
	char role_text[32];
	char state[32];
	bool primary;        /* a running primary: takes writes */
};

/* "timeline 3" or "timeline unknown". */
static const char *timeline_text(const struct pgha_member *m, char *buf, size_t len)
{
	if (m->has_timeline)
		snprintf(buf, len, "timeline %" PRId64, m->timeline);
	else
		snprintf(buf, len, "timeline unknown");
	return buf;
}

/*
 * Find the leader as check_patroni does: the first member that is a
 * running leader, or a standby leader streaming, in archive recovery, or
 * "running" on a Patroni older than 3.0.4. Asks the endpoint for its
 * version only when that last case comes up. Returns 0 (with *kind and
 * *found, NULL when there is none) or the error of the version lookup.
 */
static int find_leader(const struct pgha_cluster *c, struct pgha_http *http,
		       const struct pgha_deadline *d, const char *endpoint,
		       enum leader_kind *kind, const struct pgha_member **found,
		       char *err, size_t errlen)
{
	int detailed = -1; /* not asked yet */

	*kind = LEADER_NONE;
	*found = NULL;
	for (size_t i = 0; i < c->n_members; i++) {
		const struct pgha_member *m = &c->members[i];
		if (m->role == PGHA_MEMBER_LEADER && strcmp(m->state, "running") == 0) {
			*kind = LEADER_PRIMARY;
			*found = m;
			return 0;
		}
		if (m->role != PGHA_MEMBER_STANDBY_LEADER)
			continue;
		if (strcmp(m->state, "streaming") == 0) {
			*kind = LEADER_STANDBY;
		} else if (strcmp(m->state, "in archive recovery") == 0) {
			*kind = LEADER_STANDBY_ARCHIVE;
		} else if (strcmp(m->state, "running") == 0) {
			if (detailed < 0) {
				bool yes = false;
				int rc = pgha_patroni_detailed_states_at(http, d, endpoint, &yes,
									 NULL, 0, err, errlen);
				if (rc)
					return rc;
				detailed = yes;
			}
			if (detailed)
				continue; /* 3.0.4+ says streaming when all is well */
			*kind = LEADER_STANDBY;
		} else {
			continue;
		}
		*found = m;
		return 0;
	}
	return 0;
}

/* Read one member's answer to GET /patroni (its request already ran). */
static void read_answer(const struct pgha_member *m, const struct pgha_fanout *f,
			struct answer *a)
{
	cJSON *root = NULL;
	struct pgha_patroni_node node;
	char why[200];

	a->rc = f->rc;
	if (a->rc) {
		snprintf(a->error, sizeof a->error, "%s", f->resp.error);
	} else if (f->resp.status != 200) {
		a->rc = PGHA_E_PROTOCOL;
		snprintf(a->error, sizeof a->error, "GET %s answered HTTP %ld", m->api_url,
			 f->resp.status);
	} else if (pgha_json_parse(pgha_buf_str(&f->resp.body), f->resp.body.len, &root, why,
				   sizeof why) ||
		   pgha_patroni_node_parse(root, &node, why, sizeof why)) {
		a->rc = PGHA_E_PROTOCOL;
		snprintf(a->error, sizeof a->error, "GET %s: %s", m->api_url, why);
	} else {
		a->role = node.role;
		snprintf(a->role_text, sizeof a->role_text, "%s", pgha_role_name(node.role));
		snprintf(a->state, sizeof a->state, "%s", node.state);
		a->primary = node.role == PGHA_ROLE_PRIMARY && strcmp(node.state, "running") == 0;
	}
	cJSON_Delete(root);
}

/* Ask every member's /patroni at once, all within d, so a hanging one
 * cannot delay the others. Returns 0 or PGHA_E_NOMEM. */
static int ask_members(const struct pgha_http *http, const struct pgha_deadline *d,
		       const struct pgha_cluster *c, struct answer *answers)
{
	struct pgha_fanout *items = calloc(c->n_members, sizeof *items);
	size_t *which = calloc(c->n_members, sizeof *which);
	size_t n = 0;
	int rc = items && which ? 0 : PGHA_E_NOMEM;

	for (size_t i = 0; rc == 0 && i < c->n_members; i++) {
		const struct pgha_member *m = &c->members[i];
		memset(&answers[i], 0, sizeof answers[i]);
		if (!m->api_url[0]) {
			answers[i].rc = PGHA_E_PROTOCOL;
			snprintf(answers[i].error, sizeof answers[i].error, "no api_url in /cluster");
			continue;
		}
		items[n].method = "GET";
		items[n].url = m->api_url;
		which[n++] = i;
	}
	if (rc == 0)
		rc = pgha_fanout_run(http, d, 0, items, n);
	for (size_t k = 0; rc == 0 && k < n; k++)
		read_answer(&c->members[which[k]], &items[k], &answers[which[k]]);
	if (items)
		pgha_fanout_free(items, n);
	free(items);
	free(which);
	return rc;
}

/* The milder of two states (by severity rank). */
static enum pgha_state milder(enum pgha_state a, enum pgha_state b)
{
	return pgha_state_rank(a) <= pgha_state_rank(b) ? a : b;
}

/*
 * Judge the members' own answers against /cluster. Sets states[i] (the
 * state of member i's line), raises r and appends problems to summary.
 * Returns the number of running primaries.
 */
static size_t judge_answers(const struct pgha_cluster *c, const struct answer *answers,
			    const struct pgha_member *leader, const struct pgha_common *common,
			    enum pgha_state *states, struct pgha_result *r, struct pgha_buf *summary)
{
	size_t primaries = 0, answered = 0, problems = 0, silent = 0, garbled = 0;
	struct pgha_buf names, quiet, bad;

	pgha_buf_init(&names, 1024);
	pgha_buf_init(&quiet, 1024);
	pgha_buf_init(&bad, 1024);
	for (size_t i = 0; i < c->n_members; i++) {
		states[i] = PGHA_OK;
		if (answers[i].rc == 0)
			answered++;
		if (answers[i].primary)
			pgha_buf_printf(&names, "%s%s", primaries++ ? ", " : "", c->members[i].name);
	}

	if (primaries > 1) {
		problems++;
		pgha_buf_printf(summary, "; split brain: %zu nodes answer as primary (%s)",
				primaries, pgha_buf_str(&names));
		for (size_t i = 0; i < c->n_members; i++)
			if (answers[i].primary)
				states[i] = PGHA_CRITICAL;
	}
	for (size_t i = 0; i < c->n_members; i++) {
		const struct pgha_member *m = &c->members[i];
		const struct answer *a = &answers[i];
		if (m == leader) {
			enum pgha_role want = m->role == PGHA_MEMBER_LEADER
						      ? PGHA_ROLE_PRIMARY : PGHA_ROLE_STANDBY_LEADER;
			if (a->rc) {
				problems++;
				states[i] = pgha_rest_failure_state(a->rc, common);
				pgha_buf_printf(summary, "; leader %s %s", m->name,
						pgha_rest_unreachable(a->rc) ? "does not answer"
								   : "gives no usable answer");
			} else if (a->role != want || (want == PGHA_ROLE_PRIMARY && !a->primary)) {
				problems++;
				states[i] = PGHA_CRITICAL;
				pgha_buf_printf(summary, "; leader %s answers as %s (%s)", m->name,
						a->role_text, a->state);
			}
		} else if (pgha_rest_unreachable(a->rc)) {
			/* cannot rule out that it runs as primary: a warning, or
			 * the --unreachable-state if the operator chose a milder one */
			states[i] = milder(PGHA_WARNING, common->timeout_result);
			pgha_buf_printf(&quiet, "%s%s", silent++ ? ", " : "", m->name);
		} else if (a->rc) {
			states[i] = PGHA_UNKNOWN;
			pgha_buf_printf(&bad, "%s%s", garbled++ ? ", " : "", m->name);
		} else if (a->primary && primaries == 1) {
			problems++;
			states[i] = PGHA_CRITICAL;
			if (leader)
				pgha_buf_printf(summary, "; %s answers as primary but the leader is %s",
						m->name, leader->name);
			else
				pgha_buf_printf(summary, "; %s answers as primary", m->name);
		}
		pgha_result_raise(r, states[i]);
	}
	if (silent)
		pgha_buf_printf(summary, "; no answer from %s", pgha_buf_str(&quiet));
	if (garbled)
		pgha_buf_printf(summary, "; no usable answer from %s", pgha_buf_str(&bad));
	if (answered < c->n_members)
		pgha_buf_printf(summary, " (%zu of %zu members answered)", answered, c->n_members);
	else if (!problems && primaries == 1)
		pgha_buf_printf(summary, "; only primary of %zu members", c->n_members);
	else if (!problems)
		pgha_buf_printf(summary, "; no primary among %zu members", c->n_members);
	pgha_buf_free(&names);
	pgha_buf_free(&quiet);
	pgha_buf_free(&bad);
	return primaries;
}

/* One long-output line per member: what /cluster says, and with
 * --verify-nodes what the node itself says. */
static void member_lines(const struct pgha_cluster *c, const struct answer *answers,
			 const enum pgha_state *states, struct pgha_result *r)
{
	for (size_t i = 0; i < c->n_members; i++) {
		const struct pgha_member *m = &c->members[i];
		char tl[48], lag[48] = "", own[400] = "";
		if (m->lag_kind == PGHA_LAG_BYTES)
			snprintf(lag, sizeof lag, ", lag %" PRId64 " B", m->lag);
		else if (m->lag_kind == PGHA_LAG_UNKNOWN)
			snprintf(lag, sizeof lag, ", lag unknown");
		if (answers && answers[i].rc)
			snprintf(own, sizeof own, "; /patroni: %s", answers[i].error);
		else if (answers)
			snprintf(own, sizeof own, "; /patroni: %s %s", answers[i].role_text,
				 answers[i].state);
		pgha_result_line(r, states ? states[i] : PGHA_OK, "%s: %s %s, %s%s%s", m->name,
				 m->role_text[0] ? m->role_text : "(no role)",
				 m->state[0] ? m->state : "(no state)", timeline_text(m, tl, sizeof tl),
				 lag, own);
	}
}

/* The verdict on /cluster (and the members' answers), into r. */
static void check_leader(const struct config *cfg, const struct pgha_common *common,
			 struct pgha_rest *rest, const char *endpoint,
			 const struct pgha_cluster *c, struct pgha_result *r)
{
	enum leader_kind kind;
	const struct pgha_member *leader;
	char err[512], tl[48];
	struct pgha_buf summary;

	int rc = find_leader(c, &rest->http, &common->deadline, endpoint, &kind, &leader, err,
			     sizeof err);
	if (rc) {
		enum pgha_state s = pgha_rest_failure_state(rc, common);
		pgha_result_set(r, s, "a standby leader is \"running\", but the Patroni version "
			       "could not be read: %s", err);
		member_lines(c, NULL, NULL, r);
		return;
	}

	pgha_buf_init(&summary, PGHA_OUTPUT_MAX);
	switch (kind) {
	case LEADER_PRIMARY:
		pgha_buf_printf(&summary, "leader %s running on %s", leader->name,
				timeline_text(leader, tl, sizeof tl));
		break;
	case LEADER_STANDBY:
		pgha_buf_printf(&summary, "standby leader %s %s on %s", leader->name,
				leader->state, timeline_text(leader, tl, sizeof tl));
		break;
	case LEADER_STANDBY_ARCHIVE:
		pgha_result_raise(r, PGHA_WARNING);
		pgha_buf_printf(&summary, "standby leader %s in archive recovery on %s, "
				"not streaming", leader->name, timeline_text(leader, tl, sizeof tl));
		break;
	case LEADER_NONE: {
		pgha_result_raise(r, PGHA_CRITICAL);
		pgha_buf_printf(&summary, "no running leader");
		size_t named = 0;
		for (size_t i = 0; i < c->n_members; i++) {
			const struct pgha_member *m = &c->members[i];
			if (m->role != PGHA_MEMBER_LEADER && m->role != PGHA_MEMBER_STANDBY_LEADER)
				continue;
			pgha_buf_printf(&summary, "%s%s: %s %s", named++ ? ", " : " (", m->name,
					m->role_text, m->state[0] ? m->state : "(no state)");
		}
		if (named)
			pgha_buf_puts(&summary, ")");
		else
			pgha_buf_printf(&summary, " (%zu member%s, none is leader)", c->n_members,
					c->n_members == 1 ? "" : "s");
		break;
	}
	}

	bool has = kind != LEADER_NONE;
	bool standby = kind == LEADER_STANDBY || kind == LEADER_STANDBY_ARCHIVE;
	const struct pgha_perf_spec has_spec = { .crit = "@0" };
	const struct pgha_perf_spec arc_spec = { .warn = "@1:1" };
	pgha_result_perf(r, "has_leader", has, &has_spec);
	pgha_result_perf(r, "is_leader", kind == LEADER_PRIMARY, NULL);
	pgha_result_perf(r, "is_standby_leader", standby, NULL);
	pgha_result_perf(r, "is_standby_leader_in_arc_rec", kind == LEADER_STANDBY_ARCHIVE,
			 &arc_spec);

	struct answer *answers = NULL;
	enum pgha_state *states = NULL;
	if (cfg->verify_nodes && c->n_members) {
		answers = calloc(c->n_members, sizeof *answers);
		states = calloc(c->n_members, sizeof *states);
		if (!answers || !states) {
			pgha_result_set(r, PGHA_UNKNOWN, "out of memory");
			goto out;
		}
		if (ask_members(&rest->http, &common->deadline, c, answers)) {
			pgha_result_set(r, PGHA_UNKNOWN, "out of memory");
			goto out;
		}
		size_t n = judge_answers(c, answers, leader, common, states, r, &summary);
		const struct pgha_perf_spec prim_spec = { .crit = "1", .has_min = true, .min = 0 };
		pgha_result_perf(r, "primaries", (double)n, &prim_spec);
	} else if (cfg->verify_nodes) {
		pgha_result_perf(r, "primaries", 0, NULL);
	}
	pgha_result_summary(r, "%s", pgha_buf_str(&summary));
	member_lines(c, answers, states, r);
out:
	free(answers);
	free(states);
	pgha_buf_free(&summary);
}

int main(int argc, char **argv)
{
	struct config cfg = { .verify_nodes = false };
	const struct pgha_program program = {
		.name = "check_pgha_leader",
		.result_name = "PGHA_LEADER",
		.summary = "Check that a Patroni cluster has a running leader (or a "
			   "streaming standby leader) and, with --verify-nodes, exactly "
			   "one primary.",
		.synopsis = "--patroni URL[,URL...] [--verify-nodes] [-t SECONDS]",
		.groups = PGHA_GROUP_PATRONI | PGHA_GROUP_TLS,
		.options = options,
		.n_options = sizeof options / sizeof options[0],
		.handler = handle_option,
		.ctx = &cfg,
		.notes = "GET /cluster is asked from the first --patroni endpoint that "
			 "answers.\nOK: a running leader, or a standby leader streaming. "
			 "WARNING: the standby\nleader is in archive recovery. CRITICAL: no "
			 "running leader; with --verify-nodes\nalso split brain. A cluster "
			 "that cannot be reached within -t is CRITICAL\nunless "
			 "--timeout-result says otherwise.",
	};
	struct pgha_common common;
	int done = pgha_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;
	if (common.n_patroni == 0)
		return pgha_options_fail(&program, "give the cluster with --patroni URL");

	struct pgha_rest rest;
	struct pgha_result r;
	done = pgha_rest_setup(&rest, &program, &common, common.patroni, common.n_patroni, &r);
	if (done >= 0)
		return done;

	struct pgha_cluster_doc doc;
	char err[512];
	int rc = pgha_cluster_get(&rest, &common.deadline, &doc, err, sizeof err);
	if (rc) {
		pgha_rest_set_failure(&r, rc, &common, NULL, err);
	} else {
		check_leader(&cfg, &common, &rest, doc.endpoint, &doc.cluster, &r);
		if (common.verbose >= 1)
			pgha_cluster_doc_line(&doc, &r);
	}
	pgha_cluster_doc_free(&doc);
	pgha_rest_close(&rest);
	return pgha_result_exit(&r);
}
