/*
 * check_pgha_blocking: sessions of a PostgreSQL server that wait for a lock
 * another session holds, and who holds it.
 *
 * A session is blocked when pg_stat_activity shows it waiting for a
 * heavyweight lock (wait_event_type "Lock") and pg_blocking_pids() names
 * the sessions in its way (any backend type: a client blocked by an
 * autovacuum worker counts). pg_blocking_pids() is called only for those
 * lock waiters, and pg_locks read only when there is one, so a server
 * where nobody waits costs one scan of pg_stat_activity. Its wait is timed
 * from pg_locks.waitstart (PostgreSQL 14 and later), from the start of its
 * statement before.
 *
 * Thresholds:
 *   -w/-c RANGE             the longest wait, in seconds; units ms s min h
 *                           ("30s", "5min"; a bare number is seconds)
 *   --warning-count/--critical-count RANGE
 *                           the number of blocked sessions
 * Without ranges the check reports and is OK.
 *
 * Long output: one line per blocking session, the longest wait first: its
 * pid, user, application, client, state and transaction age, the sessions
 * it blocks (the first five), and the start of its query (whitespace runs
 * folded to one space, cut at --query-length characters). A session that
 * is itself blocked is marked; a blocker with pid 0 is a prepared
 * transaction. Perfdata: blocked, blockers, longest_wait (s).
 *
 * With --patroni the check connects to the leader (or --member). A server
 * that cannot be reached within -t is CRITICAL (--timeout-result changes
 * it); a failing query is UNKNOWN with the server's message.
 * Grants: pg_monitor (pg_read_all_stats shows other roles' queries;
 * pg_locks and pg_blocking_pids() need nothing more).
 */
#include "error.h"
#include "options.h"
#include "output.h"
#include "pg.h"
#include "pgtarget.h"
#include "range.h"

#include <inttypes.h>
#include <stdio.h>

#define MAX_BLOCKERS 20 /* blockers listed; the rest are counted */
#define MAX_VICTIMS 5   /* blocked sessions named per blocker */
#define STR_(x) #x
#define STR(x) STR_(x)

/* One row per blocking session (at most MAX_BLOCKERS), longest wait
 * first; always at least one row, whose first three columns are the
 * totals (the rest NULL when nothing is blocked). $1: query length, $2:
 * name the lock each blocked session waits for. WAITSTART: when a lock
 * wait began. */
#define BLOCKING_SQL(WAITSTART) \
	"WITH waiting AS (" \
	" SELECT a.pid, a.usename, a.backend_type, a.application_name, l.mode, l.locktype," \
	"  greatest(extract(epoch FROM now() - " WAITSTART "), 0)::float8 AS wait," \
	"  pg_blocking_pids(a.pid) AS blockers" \
	" FROM pg_stat_activity a" \
	" LEFT JOIN LATERAL (SELECT * FROM pg_locks l" \
	"  WHERE l.pid = a.pid AND NOT l.granted LIMIT 1) l ON true" \
	" WHERE a.wait_event_type = 'Lock' AND a.pid <> pg_backend_pid())," \
	" blocked AS (SELECT * FROM waiting WHERE cardinality(blockers) > 0)," \
	" per_blocker AS (" \
	" SELECT b.pid, count(*) AS n, max(w.wait) AS longest," \
	"  array_to_string((array_agg(format('pid %s (%s, %L%s)', w.pid," \
	"   coalesce(w.usename, w.backend_type), w.application_name," \
	"   CASE WHEN $2::bool THEN format(', %s on %s', w.mode, w.locktype) ELSE '' END)" \
	"   ORDER BY w.wait DESC, w.pid))[1:" STR(MAX_VICTIMS) "], ', ') AS victims" \
	" FROM blocked w CROSS JOIN LATERAL unnest(w.blockers) AS b(pid)" \
	" GROUP BY b.pid)" \
	" SELECT (SELECT count(*) FROM blocked), (SELECT coalesce(max(wait), 0) FROM blocked)," \
	"  (SELECT count(*) FROM per_blocker)," \
	"  k.pid, k.n, k.longest, k.victims, k.pid IN (SELECT pid FROM blocked)," \
	"  coalesce(s.usename, s.backend_type), s.application_name," \
	"  coalesce(host(s.client_addr), 'local'), s.state," \
	"  CASE WHEN s.xact_start IS NOT NULL" \
	"   THEN greatest(extract(epoch FROM now() - s.xact_start), 0)::float8 END," \
	"  left(q.text, $1::int), length(q.text) > $1::int" \
	" FROM (SELECT 1) AS one" \
	" LEFT JOIN per_blocker k ON true" \
	" LEFT JOIN pg_stat_activity s ON s.pid = k.pid AND k.pid <> 0" \
	" LEFT JOIN LATERAL (SELECT btrim(regexp_replace(s.query, '\\s+', ' ', 'g')) AS text) q" \
	"  ON true" \
	" ORDER BY k.longest DESC NULLS LAST, k.pid LIMIT " STR(MAX_BLOCKERS)

static const char blocking_sql_14[] = BLOCKING_SQL("coalesce(l.waitstart, now())");
static const char blocking_sql_13[] = BLOCKING_SQL("a.query_start");

/* The query for this server: pg_locks.waitstart is new in PostgreSQL 14. */
static const char *blocking_sql(const struct pgha_pg *pg)
{
	return PQserverVersion(pg->conn) >= 140000 ? blocking_sql_14 : blocking_sql_13;
}

enum {
	B_N_BLOCKED, B_LONGEST, B_N_BLOCKERS, B_PID, B_N, B_WAIT, B_VICTIMS, B_ITSELF_BLOCKED,
	B_USER, B_APP, B_CLIENT, B_STATE, B_XACT_AGE, B_QUERY, B_QUERY_CUT, N_COLS
};

struct config {
	const char *warning_count, *critical_count;
	long query_length;
};

enum { OPT_WARNING_COUNT, OPT_CRITICAL_COUNT, OPT_QUERY_LENGTH };

static const struct pgha_option options[] = {
	{ "warning-count", 0, "RANGE", "warning range for the number of blocked sessions",
	  OPT_WARNING_COUNT },
	{ "critical-count", 0, "RANGE", "critical range for the number of blocked sessions",
	  OPT_CRITICAL_COUNT },
	{ "query-length", 0, "N",
	  "characters of a blocker's query shown in long output (default 60, 0: none)",
	  OPT_QUERY_LENGTH },
};

static int handle_option(void *ctx, int id, const char *arg, char *err, size_t errlen)
{
	struct config *cfg = ctx;
	switch (id) {
	case OPT_WARNING_COUNT:
		cfg->warning_count = arg;
		return 0;
	case OPT_CRITICAL_COUNT:
		cfg->critical_count = arg;
		return 0;
	case OPT_QUERY_LENGTH:
		return pgha_pg_check_query_length(arg, &cfg->query_length, err, errlen);
	}
	return PGHA_E_INVALID;
}

/* One long-output line for the blocker in row i. */
static void report_blocker(const struct pgha_pg *pg, int i, const struct pgha_thresholds *wait,
			   struct pgha_result *r)
{
	int64_t pid = 0, n = 0;
	double longest = 0, xact_age = 0;
	char d_wait[48], d_xact[48], who[512];
	pgha_pg_int64(pg, i, B_PID, &pid);
	pgha_pg_int64(pg, i, B_N, &n);
	pgha_pg_double(pg, i, B_WAIT, &longest);
	pgha_duration_format(longest, d_wait, sizeof d_wait);

	if (pid == 0) {
		snprintf(who, sizeof who, "a prepared transaction (see pg_prepared_xacts)");
	} else if (!pgha_pg_value(pg, i, B_STATE) && !pgha_pg_value(pg, i, B_USER)) {
		snprintf(who, sizeof who, "pid %" PRId64 " (ended since)", pid);
	} else {
		bool has_xact = pgha_pg_double(pg, i, B_XACT_AGE, &xact_age) == 0;
		pgha_duration_format(xact_age, d_xact, sizeof d_xact);
		snprintf(who, sizeof who, "pid %" PRId64 " (user %s, application '%s', client %s, "
			 "%s%s%s%s)", pid, pgha_pg_text(pg, i, B_USER), pgha_pg_text(pg, i, B_APP),
			 pgha_pg_text(pg, i, B_CLIENT),
			 pgha_pg_value(pg, i, B_STATE) ? pgha_pg_text(pg, i, B_STATE) : "no state",
			 has_xact ? ", transaction open for " : "", has_xact ? d_xact : "",
			 pgha_pg_bool(pg, i, B_ITSELF_BLOCKED) ? ", itself blocked" : "");
	}
	const char *query = pgha_pg_value(pg, i, B_QUERY);
	pgha_result_line(r, pgha_thresholds_check(wait, longest),
			 "%s blocks %" PRId64 " session%s for up to %s: %s%s%s%s%s", who, n,
			 n == 1 ? "" : "s", d_wait, pgha_pg_text(pg, i, B_VICTIMS),
			 n > MAX_VICTIMS ? " and more" : "",
			 query && query[0] ? "; query: " : "", query ? query : "",
			 pgha_pg_bool(pg, i, B_QUERY_CUT) ? "..." : "");
}

/* Judge the answer and fill the result. */
static void report(const char *who, const struct pgha_pg *pg, const struct pgha_common *c,
		   const struct config *cfg, const struct pgha_thresholds *wait,
		   const struct pgha_thresholds *count, struct pgha_result *r)
{
	int64_t n_blocked = 0, n_blockers = 0;
	double longest = 0;
	if (pgha_pg_rows(pg) < 1 || pgha_pg_cols(pg) != N_COLS ||
	    pgha_pg_int64(pg, 0, B_N_BLOCKED, &n_blocked) ||
	    pgha_pg_double(pg, 0, B_LONGEST, &longest) ||
	    pgha_pg_int64(pg, 0, B_N_BLOCKERS, &n_blockers)) {
		pgha_result_set(r, PGHA_UNKNOWN, "%s: unexpected answer from pg_stat_activity", who);
		return;
	}
	enum pgha_state s_wait = n_blocked ? pgha_thresholds_check(wait, longest) : PGHA_OK;
	enum pgha_state s_count = pgha_thresholds_check(count, (double)n_blocked);
	pgha_result_raise(r, s_wait);
	pgha_result_raise(r, s_count);

	char a1[96], a2[96], d[48];
	const char *why_wait = pgha_alert_text(s_wait, c->warning, c->critical, a1, sizeof a1);
	const char *why_count = pgha_alert_text(s_count, cfg->warning_count,
						cfg->critical_count, a2, sizeof a2);
	bool why = why_wait[0] || why_count[0];
	pgha_duration_format(longest, d, sizeof d);
	if (n_blocked == 0) {
		pgha_result_summary(r, "%s: no session blocked%s%s%s", who, why ? " (" : "",
				    why_count, why ? ")" : "");
	} else {
		int64_t pid = 0;
		char by[320];
		pgha_pg_int64(pg, 0, B_PID, &pid);
		const char *app = pgha_pg_text(pg, 0, B_APP);
		if (pid == 0)
			snprintf(by, sizeof by, "a prepared transaction");
		else
			snprintf(by, sizeof by, "pid %" PRId64 "%s%s%s", pid, app[0] ? " '" : "", app,
				 app[0] ? "'" : "");
		pgha_result_summary(r, "%s: %" PRId64 " session%s blocked, %s%s by %s%s%s%s%s%s",
				    who, n_blocked, n_blocked == 1 ? "" : "s",
				    n_blocked == 1 ? "for " : "longest ", d, by,
				    why ? " (" : "", why_wait, why_wait[0] && why_count[0] ? ", " : "",
				    why_count, why ? ")" : "");
		for (int i = 0; i < pgha_pg_rows(pg); i++)
			report_blocker(pg, i, wait, r);
		if (n_blockers > pgha_pg_rows(pg))
			pgha_result_line(r, PGHA_OK, "... and %" PRId64 " more blocking sessions",
					 n_blockers - pgha_pg_rows(pg));
	}

	struct pgha_perf_spec spec = { .warn = count->warning_text, .crit = count->critical_text,
				       .has_min = true, .min = 0 };
	pgha_result_perf(r, "blocked", (double)n_blocked, &spec);
	spec.warn = spec.crit = NULL;
	pgha_result_perf(r, "blockers", (double)n_blockers, &spec);
	spec.uom = "s";
	spec.warn = wait->warning_text;
	spec.crit = wait->critical_text;
	pgha_result_perf(r, "longest_wait", pgha_round_ms(longest), &spec);
}

int main(int argc, char **argv)
{
	struct config cfg = { .query_length = 60 };
	const struct pgha_program program = {
		.name = "check_pgha_blocking",
		.result_name = "PGHA_BLOCKING",
		.summary = "Check for sessions of a PostgreSQL server blocked by another "
			   "session's lock: how many, the longest wait, and who blocks them.",
		.synopsis = PGHA_PG_SYNOPSIS " [-w TIME] [-c TIME] [--warning-count RANGE] "
			    "[--critical-count RANGE] [--query-length N] [-t SECONDS]",
		.groups = PGHA_PG_GROUPS | PGHA_GROUP_THRESHOLDS,
		.options = options,
		.n_options = sizeof options / sizeof options[0],
		.handler = handle_option,
		.ctx = &cfg,
		.notes = "-w and -c are ranges for the longest lock wait in seconds; units ms, "
			 "s, min, h (-w 30s -c 5min).\nWithout ranges the check reports and is "
			 "OK.\n" PGHA_PG_NOTES,
	};
	struct pgha_common common;
	int done = pgha_pg_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;

	struct pgha_thresholds wait, count;
	char err[512] = "";
	if (pgha_thresholds_set(&wait, common.warning, common.critical, PGHA_UNIT_SECONDS, err,
				sizeof err))
		return pgha_options_fail(&program, "%s", err);
	if (pgha_thresholds_set(&count, cfg.warning_count, cfg.critical_count, PGHA_UNIT_NONE,
				err, sizeof err))
		return pgha_options_fail(&program, "%s (--warning-count/--critical-count)", err);

	struct pgha_result r;
	struct pgha_pg pg;
	char who[192], length[24];
	pgha_result_init(&r, program.result_name);

	snprintf(length, sizeof length, "%ld", cfg.query_length);
	const char *params[2] = { length, common.verbose >= 1 ? "true" : "false" };
	if (pgha_pg_check_connect(&pg, &common, who, sizeof who, &r) == 0 &&
	    pgha_pg_check_query(&pg, &common, who, blocking_sql(&pg), 2, params, &r) == 0) {
		report(who, &pg, &common, &cfg, &wait, &count, &r);
		pgha_pg_check_verbose(&pg, &common, who, &r);
	}
	pgha_pg_close(&pg);
	return pgha_result_exit(&r);
}
