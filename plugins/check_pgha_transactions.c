/*
 * check_pgha_transactions: the oldest open transaction of a PostgreSQL
 * server, and the session idle in transaction the longest.
 *
 * From pg_stat_activity, for the sessions with an open transaction
 * (xact_start set):
 *   transaction age       now() - xact_start, whatever the session does
 *   idle in transaction   now() - state_change, for sessions in state
 *                         "idle in transaction" or "... (aborted)": how
 *                         long the session has sat idle holding its
 *                         transaction (its locks and its snapshot)
 * Sessions counted: client backends (backend_type "client backend"),
 * except this check's own. --all-backends also counts autovacuum workers,
 * walsenders and other background processes with a transaction; parallel
 * workers are never counted (their leader is).
 *
 * Thresholds, ranges in seconds with units ms s min h d ("10min"; a bare
 * number is seconds):
 *   --warning-age/--critical-age RANGE    oldest transaction age
 *   --warning-idle/--critical-idle RANGE  longest idle in transaction
 * Without ranges the check reports and is OK.
 *
 * Long output names the sessions: each session whose transaction or idle
 * time alerts (worst first), and always the oldest transaction and the
 * longest idle one; with -v every session with an open transaction. A line
 * holds pid, user, application, client, state, transaction age, idle time
 * and the start of the query (whitespace runs folded to one space, cut at
 * --query-length characters; for an idle session, its last query).
 * Perfdata: oldest_xact and oldest_idle_xact (s; 0 when none), xacts and
 * idle_xacts (counts).
 *
 * With --patroni the check connects to the leader (or --member). A server
 * that cannot be reached within -t is CRITICAL (--timeout-result changes
 * it); a failing query is UNKNOWN with the server's message.
 * Grants: pg_monitor (pg_read_all_stats lets it see other roles'
 * sessions' state, times and queries).
 */
#include "error.h"
#include "options.h"
#include "output.h"
#include "pg.h"
#include "pgtarget.h"
#include "range.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Every counted session with an open transaction, oldest first. $1: query
 * length, $2: count all backend types. */
static const char transactions_sql[] =
	"SELECT a.pid, coalesce(a.usename, a.backend_type), a.application_name,"
	" coalesce(host(a.client_addr), 'local'), a.state,"
	" greatest(extract(epoch FROM now() - a.xact_start), 0)::float8,"
	" CASE WHEN a.state IN ('idle in transaction', 'idle in transaction (aborted)')"
	"  THEN greatest(extract(epoch FROM now() - a.state_change), 0)::float8 END,"
	" left(q.text, $1::int), length(q.text) > $1::int, a.backend_type"
	" FROM pg_stat_activity a"
	" CROSS JOIN LATERAL (SELECT btrim(regexp_replace(a.query, '\\s+', ' ', 'g')) AS text) q"
	" WHERE a.xact_start IS NOT NULL AND a.pid <> pg_backend_pid()"
	"  AND (a.leader_pid IS NULL OR a.leader_pid = a.pid)"
	"  AND ($2::bool OR a.backend_type = 'client backend')"
	" ORDER BY a.xact_start, a.pid";

enum { T_PID, T_USER, T_APP, T_CLIENT, T_STATE, T_AGE, T_IDLE, T_QUERY, T_QUERY_CUT, T_TYPE,
       N_COLS };

struct config {
	const char *warning_age, *critical_age, *warning_idle, *critical_idle;
	long query_length;
	bool all_backends;
};

enum { OPT_WARNING_AGE, OPT_CRITICAL_AGE, OPT_WARNING_IDLE, OPT_CRITICAL_IDLE, OPT_QUERY_LENGTH,
       OPT_ALL_BACKENDS };

static const struct pgha_option options[] = {
	{ "warning-age", 0, "RANGE",
	  "warning range for the oldest transaction's age (seconds; units ms s min h d)",
	  OPT_WARNING_AGE },
	{ "critical-age", 0, "RANGE", "critical range for the oldest transaction's age",
	  OPT_CRITICAL_AGE },
	{ "warning-idle", 0, "RANGE",
	  "warning range for the longest time a session sits idle in transaction",
	  OPT_WARNING_IDLE },
	{ "critical-idle", 0, "RANGE",
	  "critical range for the longest time a session sits idle in transaction",
	  OPT_CRITICAL_IDLE },
	{ "all-backends", 0, NULL,
	  "also count autovacuum workers, walsenders and other background processes "
	  "(default: client backends only)", OPT_ALL_BACKENDS },
	{ "query-length", 0, "N",
	  "characters of a session's query shown in long output (default 60, 0: none)",
	  OPT_QUERY_LENGTH },
};

static int handle_option(void *ctx, int id, const char *arg, char *err, size_t errlen)
{
	struct config *cfg = ctx;
	switch (id) {
	case OPT_WARNING_AGE: cfg->warning_age = arg; return 0;
	case OPT_CRITICAL_AGE: cfg->critical_age = arg; return 0;
	case OPT_WARNING_IDLE: cfg->warning_idle = arg; return 0;
	case OPT_CRITICAL_IDLE: cfg->critical_idle = arg; return 0;
	case OPT_ALL_BACKENDS: cfg->all_backends = true; return 0;
	case OPT_QUERY_LENGTH:
		return pgha_pg_check_query_length(arg, &cfg->query_length, err, errlen);
	}
	return PGHA_E_INVALID;
}

/* "pid 4242 'batch'", or "pid 4242" without an application name. */
static const char *session_name(const struct pgha_pg *pg, int i, char *buf, size_t buflen)
{
	const char *app = pgha_pg_text(pg, i, T_APP);
	snprintf(buf, buflen, "pid %s%s%s%s", pgha_pg_text(pg, i, T_PID), app[0] ? " '" : "", app,
		 app[0] ? "'" : "");
	return buf;
}

/* The long-output line naming the session in row i, with state s. */
static void report_session(const struct pgha_pg *pg, int i, enum pgha_state s,
			   struct pgha_result *r)
{
	double age = 0, idle = 0;
	char d_age[48], d_idle[48] = "", type[96] = "";
	pgha_pg_double(pg, i, T_AGE, &age);
	pgha_duration_format(age, d_age, sizeof d_age);
	bool is_idle = pgha_pg_double(pg, i, T_IDLE, &idle) == 0;
	if (is_idle)
		pgha_duration_format(idle, d_idle, sizeof d_idle);
	if (strcmp(pgha_pg_text(pg, i, T_TYPE), "client backend") != 0)
		snprintf(type, sizeof type, "%s, ", pgha_pg_text(pg, i, T_TYPE));
	const char *query = pgha_pg_value(pg, i, T_QUERY);
	pgha_result_line(r, s, "pid %s (%suser %s, application '%s', client %s, %s): "
			 "transaction open for %s%s%s%s%s%s", pgha_pg_text(pg, i, T_PID), type,
			 pgha_pg_text(pg, i, T_USER), pgha_pg_text(pg, i, T_APP), pgha_pg_text(pg, i, T_CLIENT),
			 pgha_pg_value(pg, i, T_STATE) ? pgha_pg_text(pg, i, T_STATE) : "no state", d_age,
			 is_idle ? ", idle for " : "", d_idle,
			 query && query[0] ? (is_idle ? "; last query: " : "; query: ") : "",
			 query ? query : "",
			 query && pgha_pg_bool(pg, i, T_QUERY_CUT) ? "..." : "");
}

/* Judge every session and fill the result. */
static void report(const char *who, const struct pgha_pg *pg, const struct config *cfg,
		   int verbose, const struct pgha_thresholds *age_t,
		   const struct pgha_thresholds *idle_t, struct pgha_result *r)
{
	int n = pgha_pg_rows(pg);
	if (pgha_pg_cols(pg) != N_COLS) {
		pgha_result_set(r, PGHA_UNKNOWN, "%s: unexpected answer from pg_stat_activity", who);
		return;
	}
	int oldest = -1, longest_idle = -1, n_idle = 0;
	double max_age = 0, max_idle = 0;
	for (int i = 0; i < n; i++) {
		double age = 0, idle = 0;
		if (pgha_pg_double(pg, i, T_AGE, &age) == 0 && (oldest < 0 || age > max_age)) {
			oldest = i;
			max_age = age;
		}
		if (pgha_pg_double(pg, i, T_IDLE, &idle) == 0) {
			n_idle++;
			if (longest_idle < 0 || idle > max_idle) {
				longest_idle = i;
				max_idle = idle;
			}
		}
	}
	enum pgha_state s_age = n ? pgha_thresholds_check(age_t, max_age) : PGHA_OK;
	enum pgha_state s_idle = n_idle ? pgha_thresholds_check(idle_t, max_idle) : PGHA_OK;
	pgha_result_raise(r, s_age);
	pgha_result_raise(r, s_idle);

	/* the summary: both maxima, who holds them, and what alerted */
	char d[48], a1[96], a2[96], n1[160], part_age[384], part_idle[384];
	const char *why_age = pgha_alert_text(s_age, cfg->warning_age, cfg->critical_age, a1,
					      sizeof a1);
	const char *why_idle = pgha_alert_text(s_idle, cfg->warning_idle, cfg->critical_idle, a2,
					       sizeof a2);
	if (oldest < 0) {
		snprintf(part_age, sizeof part_age, "no open transaction");
	} else {
		pgha_duration_format(max_age, d, sizeof d);
		snprintf(part_age, sizeof part_age, "oldest transaction %s (%s%s%s)", d,
			 session_name(pg, oldest, n1, sizeof n1), why_age[0] ? ", " : "", why_age);
	}
	if (longest_idle < 0) {
		snprintf(part_idle, sizeof part_idle, "none idle in transaction");
	} else {
		pgha_duration_format(max_idle, d, sizeof d);
		snprintf(part_idle, sizeof part_idle, "idle in transaction %s (%s%s%s)", d,
			 session_name(pg, longest_idle, n1, sizeof n1), why_idle[0] ? ", " : "",
			 why_idle);
	}
	/* the problem first */
	bool idle_first = pgha_state_rank(s_idle) > pgha_state_rank(s_age);
	pgha_result_summary(r, "%s: %s, %s", who, idle_first ? part_idle : part_age,
			    idle_first ? part_age : part_idle);

	/* long output: the sessions that alert, the two holders of the maxima,
	 * and with -v every session (worst first, then oldest first) */
	for (int i = 0; i < n; i++) {
		double age = 0, idle = 0;
		pgha_pg_double(pg, i, T_AGE, &age);
		bool is_idle = pgha_pg_double(pg, i, T_IDLE, &idle) == 0;
		enum pgha_state s = pgha_state_worst(pgha_thresholds_check(age_t, age),
						     is_idle ? pgha_thresholds_check(idle_t, idle)
							     : PGHA_OK);
		if (s != PGHA_OK || i == oldest || i == longest_idle || verbose >= 1)
			report_session(pg, i, s, r);
	}

	struct pgha_perf_spec spec = { .uom = "s", .warn = age_t->warning_text,
				       .crit = age_t->critical_text, .has_min = true, .min = 0 };
	pgha_result_perf(r, "oldest_xact", pgha_round_ms(max_age), &spec);
	spec.warn = idle_t->warning_text;
	spec.crit = idle_t->critical_text;
	pgha_result_perf(r, "oldest_idle_xact", pgha_round_ms(max_idle), &spec);
	struct pgha_perf_spec count = { .has_min = true, .min = 0 };
	pgha_result_perf(r, "xacts", (double)n, &count);
	pgha_result_perf(r, "idle_xacts", (double)n_idle, &count);
}

int main(int argc, char **argv)
{
	struct config cfg = { .query_length = 60 };
	const struct pgha_program program = {
		.name = "check_pgha_transactions",
		.result_name = "PGHA_TRANSACTIONS",
		.summary = "Check the oldest open transaction of a PostgreSQL server and the "
			   "session idle in transaction the longest, and name them.",
		.synopsis = PGHA_PG_SYNOPSIS " [--warning-age TIME] "
			    "[--critical-age TIME] [--warning-idle TIME] [--critical-idle TIME] "
			    "[--all-backends] [--query-length N] [-t SECONDS]",
		.groups = PGHA_PG_GROUPS,
		.options = options,
		.n_options = sizeof options / sizeof options[0],
		.handler = handle_option,
		.ctx = &cfg,
		.notes = "Ranges are in seconds; units ms, s, min, h, d (--warning-age 1h "
			 "--critical-idle 10min).\nWithout ranges the check reports and is OK.\n"
			 "This check's own session is never counted.\n"
			 PGHA_PG_NOTES,
	};
	struct pgha_common common;
	int done = pgha_pg_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;

	struct pgha_thresholds age_t, idle_t;
	char err[512] = "";
	if (pgha_thresholds_set(&age_t, cfg.warning_age, cfg.critical_age, PGHA_UNIT_SECONDS,
				err, sizeof err))
		return pgha_options_fail(&program, "%s (--warning-age/--critical-age)", err);
	if (pgha_thresholds_set(&idle_t, cfg.warning_idle, cfg.critical_idle, PGHA_UNIT_SECONDS,
				err, sizeof err))
		return pgha_options_fail(&program, "%s (--warning-idle/--critical-idle)", err);

	struct pgha_result r;
	struct pgha_pg pg;
	char who[192], length[24];
	pgha_result_init(&r, program.result_name);

	snprintf(length, sizeof length, "%ld", cfg.query_length);
	const char *params[2] = { length, cfg.all_backends ? "true" : "false" };
	if (pgha_pg_check_connect(&pg, &common, who, sizeof who, &r) == 0 &&
	    pgha_pg_check_query(&pg, &common, who, transactions_sql, 2, params, &r) == 0) {
		report(who, &pg, &cfg, common.verbose, &age_t, &idle_t, &r);
		pgha_pg_check_verbose(&pg, &common, who, &r);
	}
	pgha_pg_close(&pg);
	return pgha_result_exit(&r);
}
