/*
 * check_pgha_connections: how many client connections a PostgreSQL server
 * has, by state, and how much of its usable connection slots they take.
 *
 * Counts the rows of pg_stat_activity whose backend_type is "client
 * backend" (this check's own connection included: it takes a slot too;
 * walsenders, autovacuum and background workers have slots of their own):
 *   total                all client backends
 *   active               state "active"
 *   idle                 state "idle"
 *   idle in transaction  "idle in transaction" and "... (aborted)"
 *   waiting              wait_event_type "Lock" (a heavyweight lock wait)
 * Usable connections are max_connections - superuser_reserved_connections
 * (- reserved_connections on PostgreSQL 16 and later): what an ordinary
 * role may open. The percentage is total / usable, one decimal; it passes
 * 100 when superusers use their reserved slots.
 *
 * Thresholds: -w/-c RANGE. A range that contains '%' ("80%", "~:80%",
 * "@50%:90%") applies to the percentage of usable connections, any other
 * to the total count ("90", "~:90"); warning and critical may be of
 * different kinds (-w 80% -c 95). Without ranges the check reports and is
 * OK. Perfdata: total, active, idle, idle_in_transaction, waiting (max
 * max_connections) and used_pct (0..100, the % ranges).
 *
 * With --patroni the check connects to the leader (or --member). A server
 * that cannot be reached within -t is CRITICAL (--timeout-result changes
 * it); a failing query is UNKNOWN with the server's message.
 * Grants: pg_monitor, or pg_read_all_stats and pg_read_all_settings, so
 * that other roles' sessions show their state.
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

/* One row: the counts, then the settings. reserved_connections is new in
 * PostgreSQL 16; current_setting(..., true) is NULL before. */
static const char counts_sql[] =
	"SELECT count(*),"
	" count(*) FILTER (WHERE state = 'active'),"
	" count(*) FILTER (WHERE state = 'idle'),"
	" count(*) FILTER (WHERE state IN ('idle in transaction',"
	" 'idle in transaction (aborted)')),"
	" count(*) FILTER (WHERE wait_event_type = 'Lock'),"
	" current_setting('max_connections')::int,"
	" current_setting('superuser_reserved_connections')::int,"
	" coalesce(current_setting('reserved_connections', true)::int, 0)"
	" FROM pg_stat_activity WHERE backend_type = 'client backend'";

enum { C_TOTAL, C_ACTIVE, C_IDLE, C_IDLE_XACT, C_WAITING, C_MAX, C_SUPERUSER, C_RESERVED, N_COLS };

struct counts {
	int64_t v[N_COLS];
};

/* The user's ranges, split by kind: a '%' anywhere makes a percent range. */
struct limits {
	struct pgha_thresholds count, pct;
	const char *count_text[2], *pct_text[2]; /* as given: warning, critical */
};

static int split_limits(const struct pgha_common *c, struct limits *l, char *err, size_t errlen)
{
	const char *given[2] = { c->warning, c->critical };
	for (int i = 0; i < 2; i++) {
		bool pct = given[i] && strchr(given[i], '%');
		l->count_text[i] = pct ? NULL : given[i];
		l->pct_text[i] = pct ? given[i] : NULL;
	}
	if (pgha_thresholds_set(&l->count, l->count_text[0], l->count_text[1], PGHA_UNIT_NONE,
				err, errlen))
		return PGHA_E_INVALID;
	return pgha_thresholds_set(&l->pct, l->pct_text[0], l->pct_text[1], PGHA_UNIT_NONE,
				   err, errlen);
}

static int read_counts(struct pgha_pg *pg, struct counts *c, char *err, size_t errlen)
{
	if (pgha_pg_rows(pg) != 1 || pgha_pg_cols(pg) != N_COLS) {
		snprintf(err, errlen, "unexpected answer from pg_stat_activity: %d rows",
			 pgha_pg_rows(pg));
		return PGHA_E_PROTOCOL;
	}
	for (int i = 0; i < N_COLS; i++) {
		if (pgha_pg_int64(pg, 0, i, &c->v[i])) {
			snprintf(err, errlen, "unexpected value in column %d: \"%s\"", i + 1,
				 pgha_pg_value(pg, 0, i) ? pgha_pg_value(pg, 0, i) : "NULL");
			return PGHA_E_PROTOCOL;
		}
	}
	return 0;
}

/* Judge the counts and fill the result. */
static void report(const char *who, const struct counts *c, const struct limits *l,
		   int verbose, struct pgha_result *r)
{
	int64_t total = c->v[C_TOTAL];
	int64_t usable = c->v[C_MAX] - c->v[C_SUPERUSER] - c->v[C_RESERVED];
	bool has_pct = usable > 0;
	/* one decimal, and the thresholds judge what is printed */
	double pct = has_pct ? (double)(int64_t)((double)total * 1000.0 / (double)usable + 0.5) / 10
			     : 0;
	char pct_text[PGHA_NUMBER_MAX + 1], a1[96], a2[96];
	pgha_number_format(pct, pct_text, sizeof pct_text);

	enum pgha_state s_count = pgha_thresholds_check(&l->count, (double)total);
	enum pgha_state s_pct = PGHA_OK;
	if (has_pct)
		s_pct = pgha_thresholds_check(&l->pct, pct);
	else if (l->pct.has_warning || l->pct.has_critical)
		s_pct = PGHA_UNKNOWN;
	pgha_result_raise(r, s_count);
	pgha_result_raise(r, s_pct);

	const char *why_count = pgha_alert_text(s_count, l->count_text[0], l->count_text[1], a1,
						sizeof a1);
	const char *why_pct = pgha_alert_text(s_pct, l->pct_text[0], l->pct_text[1], a2,
					      sizeof a2);
	if (has_pct)
		pgha_result_summary(r, "%s: %" PRId64 " connection%s, %s%% of %" PRId64
				    " usable%s%s%s%s%s", who, total, total == 1 ? "" : "s", pct_text, usable,
				    why_count[0] || why_pct[0] ? " (" : "", why_count,
				    why_count[0] && why_pct[0] ? ", " : "", why_pct,
				    why_count[0] || why_pct[0] ? ")" : "");
	else
		pgha_result_summary(r, "%s: %" PRId64 " connection%s%s%s%s, no usable slots "
				    "(max_connections %" PRId64 ")%s", who,
				    total, total == 1 ? "" : "s", why_count[0] ? " (" : "",
				    why_count, why_count[0] ? ")" : "", c->v[C_MAX],
				    s_pct == PGHA_UNKNOWN ? ": percent ranges cannot be judged" : "");

	pgha_result_line(r, PGHA_OK, "%" PRId64 " active, %" PRId64 " idle, %" PRId64
			 " idle in transaction, %" PRId64 " waiting for a lock",
			 c->v[C_ACTIVE], c->v[C_IDLE], c->v[C_IDLE_XACT], c->v[C_WAITING]);
	if (verbose >= 1)
		pgha_result_line(r, PGHA_OK, "max_connections %" PRId64
				 ", superuser_reserved_connections %" PRId64
				 ", reserved_connections %" PRId64 ": %" PRId64 " usable",
				 c->v[C_MAX], c->v[C_SUPERUSER], c->v[C_RESERVED], usable);

	struct pgha_perf_spec spec = { .warn = l->count.warning_text,
				       .crit = l->count.critical_text, .has_min = true, .min = 0,
				       .has_max = true, .max = (double)c->v[C_MAX] };
	pgha_result_perf(r, "total", (double)total, &spec);
	spec.warn = spec.crit = NULL;
	pgha_result_perf(r, "active", (double)c->v[C_ACTIVE], &spec);
	pgha_result_perf(r, "idle", (double)c->v[C_IDLE], &spec);
	pgha_result_perf(r, "idle_in_transaction", (double)c->v[C_IDLE_XACT], &spec);
	pgha_result_perf(r, "waiting", (double)c->v[C_WAITING], &spec);
	struct pgha_perf_spec pspec = { .uom = "%", .warn = l->pct.warning_text,
					.crit = l->pct.critical_text, .has_min = true, .min = 0,
					.has_max = true, .max = 100 };
	if (has_pct)
		pgha_result_perf(r, "used_pct", pct, &pspec);
	else
		pgha_result_perf_unknown(r, "used_pct", &pspec);
}

int main(int argc, char **argv)
{
	const struct pgha_program program = {
		.name = "check_pgha_connections",
		.result_name = "PGHA_CONNECTIONS",
		.summary = "Check the client connections of a PostgreSQL server: total, "
			   "active, idle, idle in transaction, waiting for a lock, and the "
			   "share of usable connection slots in use.",
		.synopsis = PGHA_PG_SYNOPSIS " [-w RANGE] [-c RANGE] [-t SECONDS]",
		.groups = PGHA_PG_GROUPS | PGHA_GROUP_THRESHOLDS,
		.notes = "-w and -c apply to the number of client connections (-w 80 -c 90), "
			 "or, when the range holds a '%', to the percentage of usable "
			 "connections, max_connections - superuser_reserved_connections "
			 "(-w 80% -c 95%).\nWithout ranges the check reports and is OK.\n"
			 PGHA_PG_NOTES,
	};
	struct pgha_common common;
	int done = pgha_pg_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;

	struct limits limits;
	char err[512] = "";
	if (split_limits(&common, &limits, err, sizeof err))
		return pgha_options_fail(&program, "%s", err);

	struct pgha_result r;
	struct pgha_pg pg;
	struct counts counts;
	char who[192];
	pgha_result_init(&r, program.result_name);

	if (pgha_pg_check_connect(&pg, &common, who, sizeof who, &r) == 0 &&
	    pgha_pg_check_query(&pg, &common, who, counts_sql, 0, NULL, &r) == 0) {
		if (read_counts(&pg, &counts, err, sizeof err)) {
			pgha_result_set(&r, PGHA_UNKNOWN, "%s: %s", who, err);
		} else {
			report(who, &counts, &limits, common.verbose, &r);
			pgha_pg_check_verbose(&pg, &common, who, &r);
		}
	}
	pgha_pg_close(&pg);
	return pgha_result_exit(&r);
}
