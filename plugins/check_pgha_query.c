/*
 * check_pgha_query: a number computed by a custom SQL query, against
 * warning and critical ranges.
 *
 * -q/--query SQL is one statement; the first column of its first row is
 * the value. It must be a number (integer, numeric or floating point;
 * cast booleans with ::int): a query that returns no row, no column, NULL,
 * text, NaN or an infinity is UNKNOWN and says which. Further rows and
 * columns are ignored (-v mentions them).
 *
 * The value is judged against -w/-c (plain numbers; "80%" is read as 80)
 * and printed as perfdata under --label (default "result", also when
 * given empty) with --uom (default none), e.g. `-q "SELECT count(*) FROM pg_stat_activity"
 * --label sessions -w 80 -c 95`.
 *
 * Read-only: the check opens a transaction with BEGIN READ ONLY before it
 * runs the query and never commits it; the statement is sent with the
 * extended query protocol, so it is exactly one statement (no "a; b").
 * A write (INSERT, CREATE, nextval(), ...) fails with the server's
 * "cannot execute ... in a read-only transaction" and the check is
 * UNKNOWN. Read-only does not stop a function with effects outside the
 * database (dblink, a untrusted language): run the check as a role that
 * may do no more than it needs.
 *
 * With --patroni the check connects to the leader (or --member). A server
 * that cannot be reached within -t is CRITICAL (--timeout-result changes
 * it), and so is a query still running at -t (statement_timeout is set
 * from -t); a SQL error is UNKNOWN with the server's message.
 */
#include "error.h"
#include "options.h"
#include "output.h"
#include "pg.h"
#include "pgtarget.h"
#include "range.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct config {
	const char *query;
	const char *label;
	const char *uom;
};

enum { OPT_QUERY, OPT_LABEL, OPT_UOM };

static const struct pgha_option options[] = {
	{ "query", 'q', "SQL",
	  "the query (one statement); the first column of its first row is the value", OPT_QUERY },
	{ "label", 0, "LABEL", "perfdata label and name of the value (default \"result\")",
	  OPT_LABEL },
	{ "uom", 0, "UOM", "perfdata unit: s ms us % B KB MB GB TB c (default none)", OPT_UOM },
};

/* The units of measurement the plugin guidelines know. */
static bool valid_uom(const char *u)
{
	static const char *const known[] = { "", "s", "ms", "us", "%", "B", "KB", "MB", "GB",
					     "TB", "c" };
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(u, known[i]) == 0)
			return true;
	return false;
}

static int handle_option(void *ctx, int id, const char *arg, char *err, size_t errlen)
{
	struct config *cfg = ctx;
	switch (id) {
	case OPT_QUERY:
		if (!arg[0] || strspn(arg, " \t\r\n;") == strlen(arg)) {
			snprintf(err, errlen, "the query is empty");
			return PGHA_E_INVALID;
		}
		cfg->query = arg;
		return 0;
	case OPT_LABEL:
		if (strpbrk(arg, "='\"|\n\r\t")) {
			snprintf(err, errlen, "invalid label \"%s\": use a name without '=', "
				 "quotes, a vertical bar or control characters", arg);
			return PGHA_E_INVALID;
		}
		cfg->label = arg[0] ? arg : "result"; /* empty, as an unset $ARGn$: the default */
		return 0;
	case OPT_UOM:
		if (!valid_uom(arg)) {
			snprintf(err, errlen, "invalid unit \"%s\": use s, ms, us, %%, B, KB, MB, GB, "
				 "TB or c", arg);
			return PGHA_E_INVALID;
		}
		cfg->uom = arg;
		return 0;
	}
	return PGHA_E_INVALID;
}

/* At most n bytes of s (whole UTF-8 characters), its first line, for a
 * message; "..." when cut. */
static void excerpt(const char *s, char *out, size_t outlen, size_t n)
{
	size_t len = strcspn(s, "\r\n");
	bool cut = len > n || s[len];
	if (len > n) {
		len = n;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--; /* not inside a UTF-8 sequence */
	}
	snprintf(out, outlen, "%.*s%s", (int)len, s, cut ? "..." : "");
}

/* Judge the value the query returned and fill the result. */
static void report(const struct config *cfg, const struct pgha_thresholds *t,
		   const struct pgha_common *common, const char *who, const struct pgha_pg *pg,
		   struct pgha_result *r)
{
	char text[64];
	double v;
	int rows = pgha_pg_rows(pg), cols = pgha_pg_cols(pg);

	if (!pg->res || PQresultStatus(pg->res) != PGRES_TUPLES_OK || cols == 0) {
		pgha_result_set(r, PGHA_UNKNOWN, "%s: the statement returned no result set: "
				"give a query that returns a number", who);
		return;
	}
	if (rows == 0) {
		pgha_result_set(r, PGHA_UNKNOWN, "%s: the query returned no row", who);
		return;
	}
	int rc = pgha_pg_double(pg, 0, 0, &v);
	if (rc == PGHA_E_NOTFOUND) {
		pgha_result_set(r, PGHA_UNKNOWN, "%s: the query returned NULL", who);
		return;
	}
	if (rc) {
		const char *raw = pgha_pg_value(pg, 0, 0);
		char *end;
		double parsed = strtod(raw, &end);
		excerpt(raw, text, sizeof text, 40);
		pgha_result_set(r, PGHA_UNKNOWN, "%s: the query returned \"%s\", not a %snumber", who,
				text, end != raw && !*end && !isfinite(parsed) ? "finite " : "");
		return;
	}

	enum pgha_state s = pgha_thresholds_check(t, v);
	char num[PGHA_NUMBER_MAX + 1];
	pgha_number_format(v, num, sizeof num);
	const struct pgha_range *hit = s == PGHA_CRITICAL ? &t->critical
				       : s == PGHA_WARNING ? &t->warning : NULL;
	if (hit)
		pgha_result_set(r, s, "%s: %s is %s%s (%s %s range %s)", who, cfg->label, num,
				cfg->uom, hit->alert_inside ? "inside" : "outside",
				s == PGHA_CRITICAL ? "critical" : "warning",
				s == PGHA_CRITICAL ? t->critical_text : t->warning_text);
	else
		pgha_result_set(r, s, "%s: %s is %s%s", who, cfg->label, num, cfg->uom);
	struct pgha_perf_spec spec = { .uom = cfg->uom, .warn = t->warning_text,
				       .crit = t->critical_text };
	pgha_result_perf(r, cfg->label, v, &spec);

	if (common->verbose >= 1 && (rows > 1 || cols > 1))
		pgha_result_line(r, PGHA_OK, "the query returned %d row%s and %d column%s; "
				 "only the first value counts", rows, rows == 1 ? "" : "s", cols,
				 cols == 1 ? "" : "s");
	if (common->verbose >= 2) {
		char q[128];
		excerpt(cfg->query, q, sizeof q, 100);
		pgha_pg_check_verbose(pg, common, who, r);
		pgha_result_line(r, PGHA_OK, "query (read-only transaction): %s", q);
	}
}

int main(int argc, char **argv)
{
	struct config cfg = { .label = "result", .uom = "" };
	const struct pgha_program program = {
		.name = "check_pgha_query",
		.result_name = "PGHA_QUERY",
		.summary = "Check the number a custom SQL query returns (first column of the "
			   "first row) against warning and critical ranges; the query runs in "
			   "a read-only transaction.",
		.synopsis = "-q SQL [-w RANGE] [-c RANGE] [--label LABEL] [--uom UOM] "
			    PGHA_PG_SYNOPSIS " [-t SECONDS]",
		.groups = PGHA_PG_GROUPS | PGHA_GROUP_THRESHOLDS,
		.options = options,
		.n_options = sizeof options / sizeof options[0],
		.handler = handle_option,
		.ctx = &cfg,
		.notes = "The query is one statement, run inside BEGIN READ ONLY and never "
			 "committed: a write is refused by the server (UNKNOWN).\n"
			 "No row, NULL or a value that is not a number is UNKNOWN; so is a SQL "
			 "error, with the server's message.\n"
			 "With --patroni it connects to the current leader (or --member).\n"
			 "A server that cannot be reached, or a query still running, at -t is "
			 "CRITICAL unless --timeout-result says otherwise.",
	};
	struct pgha_common common;
	int done = pgha_pg_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;
	if (!cfg.query)
		return pgha_options_fail(&program, "give the query with -q SQL");

	struct pgha_thresholds t;
	char err[512] = "";
	if (pgha_thresholds_set(&t, common.warning, common.critical, PGHA_UNIT_NONE, err,
				sizeof err))
		return pgha_options_fail(&program, "%s", err);

	struct pgha_result r;
	struct pgha_pg pg;
	char who[192];
	pgha_result_init(&r, program.result_name);

	if (pgha_pg_check_connect(&pg, &common, who, sizeof who, &r) == 0 &&
	    pgha_pg_check_query(&pg, &common, who, "BEGIN READ ONLY", 0, NULL, &r) == 0 &&
	    pgha_pg_check_query(&pg, &common, who, cfg.query, 0, NULL, &r) == 0)
		report(&cfg, &t, &common, who, &pg, &r);
	pgha_pg_close(&pg);
	return pgha_result_exit(&r);
}
