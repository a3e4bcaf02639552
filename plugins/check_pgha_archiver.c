/*
 * check_pgha_archiver: is PostgreSQL's WAL archiver keeping up?
 *
 * From pg_stat_archiver and the archive status directory
 * (pg_ls_archive_statusdir(), pg_wal/archive_status):
 *   failing        the last failure is more recent than the last success
 *                  (last_failed_time > last_archived_time; failed_count
 *                  only counts since the statistics were reset, so it is
 *                  not judged): CRITICAL, naming the WAL that fails
 *   waiting        WAL segments with a .ready file, not archived yet:
 *                  -w/-c are ranges on how many (-w 5 -c 20)
 *   waiting age    how long the oldest of them has been waiting (its
 *                  .ready file's age): --warning-age/--critical-age, time
 *                  ranges with units (--warning-age 5min). It is 0 when
 *                  nothing waits, so an idle cluster that has archived
 *                  nothing for hours is fine (the age of the last archived
 *                  WAL says nothing about health by itself: it is
 *                  reported, not judged)
 * archive_mode off: nothing is archived, nothing to check: UNKNOWN,
 * unless --archive-off-state says otherwise (ok for clusters that do not
 * archive on purpose). A replica with archive_mode=on does not archive
 * (the primary does; "always" would archive there too): OK with that
 * note. A replica with archive_mode=always is checked as a primary.
 *
 * Perfdata: ready (count, with -w/-c), oldest_ready (s, with the age
 * ranges), last_archived_age (s, U when nothing was archived since the
 * statistics were reset), failing (0/1), archived_count and failed_count
 * (counters).
 *
 * With --patroni the check connects to the leader (or --member). A server
 * that cannot be reached within -t is CRITICAL (--timeout-result changes
 * it); a failing query is UNKNOWN with the server's message. Grants:
 * pg_monitor (pg_ls_archive_statusdir() is for pg_monitor members only;
 * GRANT EXECUTE on it would do too).
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

/* One row. Ages in seconds from now(); NULL when the time is NULL. */
static const char archiver_sql[] =
	"SELECT current_setting('archive_mode'), pg_is_in_recovery(),"
	" a.archived_count, a.last_archived_wal,"
	" extract(epoch FROM now() - a.last_archived_time)::float8,"
	" a.failed_count, a.last_failed_wal,"
	" extract(epoch FROM now() - a.last_failed_time)::float8,"
	" coalesce(a.last_failed_time > a.last_archived_time, a.last_failed_time IS NOT NULL),"
	" r.ready, greatest(extract(epoch FROM now() - r.oldest), 0)::float8"
	" FROM pg_stat_archiver a,"
	" (SELECT count(*) AS ready, min(modification) AS oldest"
	" FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready') r";

enum { C_MODE, C_RECOVERY, C_ARCHIVED, C_LAST_WAL, C_LAST_AGE, C_FAILED, C_FAILED_WAL,
       C_FAILED_AGE, C_FAILING, C_READY, C_OLDEST, N_COLS };

struct config {
	const char *warning_age, *critical_age;
	enum pgha_state off_state;
};

enum { OPT_WARNING_AGE, OPT_CRITICAL_AGE, OPT_OFF_STATE };

static const struct pgha_option options[] = {
	{ "warning-age", 0, "RANGE",
	  "warning range on how long the oldest waiting WAL has waited, units ms s min h d",
	  OPT_WARNING_AGE },
	{ "critical-age", 0, "RANGE",
	  "critical range on how long the oldest waiting WAL has waited", OPT_CRITICAL_AGE },
	{ "archive-off-state", 0, "STATE",
	  "state when archive_mode is off (default unknown)", OPT_OFF_STATE },
};

static int handle_option(void *ctx, int id, const char *arg, char *err, size_t errlen)
{
	struct config *cfg = ctx;
	switch (id) {
	case OPT_WARNING_AGE: cfg->warning_age = arg; return 0;
	case OPT_CRITICAL_AGE: cfg->critical_age = arg; return 0;
	case OPT_OFF_STATE:
		if (pgha_state_parse(arg, &cfg->off_state)) {
			snprintf(err, errlen, "invalid state \"%s\": use ok, warning, critical or "
				 "unknown", arg);
			return PGHA_E_INVALID;
		}
		return 0;
	}
	return PGHA_E_INVALID;
}


/* "45 s", "12 min", "5 h", "3 d": an age, rounded down. */
static void format_age(double secs, char *out, size_t outlen)
{
	long long s = secs < 0 ? 0 : (long long)secs;
	if (s < 120)
		snprintf(out, outlen, "%lld s", s);
	else if (s < 120 * 60)
		snprintf(out, outlen, "%lld min", s / 60);
	else if (s < 48 * 3600)
		snprintf(out, outlen, "%lld h", s / 3600);
	else
		snprintf(out, outlen, "%lld d", s / 86400);
}

/* "(warning range 5)" for an alerting state, "" otherwise. */
static const char *range_note(enum pgha_state s, const char *warning, const char *critical,
			      char *buf, size_t buflen)
{
	if (s != PGHA_WARNING && s != PGHA_CRITICAL)
		return "";
	snprintf(buf, buflen, " (%s range %s)", s == PGHA_CRITICAL ? "critical" : "warning",
		 s == PGHA_CRITICAL ? critical : warning);
	return buf;
}

struct archiver {
	const char *mode;
	bool recovery, failing;
	int64_t archived, failed, ready;
	const char *last_wal, *failed_wal; /* NULL when none */
	bool has_last_age, has_failed_age;
	double last_age, failed_age, oldest;
};

static int read_row(const struct pgha_pg *pg, struct archiver *a, char *err, size_t errlen)
{
	a->mode = pgha_pg_value(pg, 0, C_MODE);
	a->recovery = pgha_pg_bool(pg, 0, C_RECOVERY);
	a->failing = pgha_pg_bool(pg, 0, C_FAILING);
	a->last_wal = pgha_pg_value(pg, 0, C_LAST_WAL);
	a->failed_wal = pgha_pg_value(pg, 0, C_FAILED_WAL);
	a->has_last_age = pgha_pg_double(pg, 0, C_LAST_AGE, &a->last_age) == 0;
	a->has_failed_age = pgha_pg_double(pg, 0, C_FAILED_AGE, &a->failed_age) == 0;
	a->oldest = 0;
	if (!a->mode || pgha_pg_int64(pg, 0, C_ARCHIVED, &a->archived) ||
	    pgha_pg_int64(pg, 0, C_FAILED, &a->failed) ||
	    pgha_pg_int64(pg, 0, C_READY, &a->ready) ||
	    (a->ready > 0 && pgha_pg_double(pg, 0, C_OLDEST, &a->oldest))) {
		snprintf(err, errlen, "unexpected answer from pg_stat_archiver");
		return PGHA_E_PROTOCOL;
	}
	return 0;
}

/* Perfdata, the same set whatever the verdict. */
static void add_perf(const struct archiver *a, const struct pgha_thresholds *count,
		     const struct pgha_thresholds *age, struct pgha_result *r)
{
	struct pgha_perf_spec spec = { .warn = count->warning_text, .crit = count->critical_text,
				       .has_min = true, .min = 0 };
	pgha_result_perf(r, "ready", (double)a->ready, &spec);
	struct pgha_perf_spec aspec = { .uom = "s", .warn = age->warning_text,
					.crit = age->critical_text, .has_min = true, .min = 0 };
	pgha_result_perf(r, "oldest_ready", a->oldest, &aspec);
	struct pgha_perf_spec sspec = { .uom = "s", .has_min = true, .min = 0 };
	if (a->has_last_age)
		pgha_result_perf(r, "last_archived_age", a->last_age < 0 ? 0 : a->last_age, &sspec);
	else
		pgha_result_perf_unknown(r, "last_archived_age", &sspec);
	struct pgha_perf_spec fspec = { .has_min = true, .min = 0, .has_max = true, .max = 1 };
	pgha_result_perf(r, "failing", a->failing, &fspec);
	struct pgha_perf_spec cspec = { .uom = "c" };
	pgha_result_perf(r, "archived_count", (double)a->archived, &cspec);
	pgha_result_perf(r, "failed_count", (double)a->failed, &cspec);
}

/* Judge the archiver and fill the result. */
static void report(const struct config *cfg, const struct pgha_common *common,
		   const struct pgha_thresholds *count, const struct pgha_thresholds *age,
		   const char *who, const struct archiver *a, struct pgha_result *r)
{
	char t1[32], t2[32], n1[96], n2[96];

	if (strcmp(a->mode, "off") == 0) {
		pgha_result_set(r, cfg->off_state, "%s: archive_mode is off: WAL is not archived",
				who);
		add_perf(a, count, age, r);
		return;
	}
	if (a->recovery && strcmp(a->mode, "always") != 0) {
		pgha_result_set(r, PGHA_OK, "%s: a replica with archive_mode=%s does not archive: "
				"its primary does (archive_mode=always would archive here too)",
				who, a->mode);
		add_perf(a, count, age, r);
		return;
	}

	if (a->failing) {
		format_age(a->failed_age, t1, sizeof t1);
		if (a->has_last_age)
			format_age(a->last_age, t2, sizeof t2);
		pgha_result_raise(r, PGHA_CRITICAL);
		pgha_result_line(r, PGHA_CRITICAL, "archiving fails: \"%s\" failed %s ago, last "
				 "success %s%s (%" PRId64 " failure%s since the statistics reset)",
				 a->failed_wal ? a->failed_wal : "?", t1,
				 a->has_last_age ? t2 : "never", a->has_last_age ? " ago" : "",
				 a->failed, a->failed == 1 ? "" : "s");
	}

	enum pgha_state sc = pgha_thresholds_check(count, (double)a->ready);
	enum pgha_state sa = pgha_thresholds_check(age, a->oldest);
	enum pgha_state sw = pgha_state_worst(sc, sa);
	const char *nc = range_note(sc, common->warning, common->critical, n1, sizeof n1);
	const char *na = range_note(sa, cfg->warning_age, cfg->critical_age, n2, sizeof n2);
	pgha_result_raise(r, sw);
	if (a->ready > 0) {
		format_age(a->oldest, t1, sizeof t1);
		pgha_result_line(r, sw, "%" PRId64 " WAL file%s waiting%s, the oldest for %s%s",
				 a->ready, a->ready == 1 ? "" : "s", nc, t1, na);
	} else {
		pgha_result_line(r, sw, "no WAL file waiting%s%s", nc, na);
	}

	if (a->has_last_age && a->last_wal) {
		format_age(a->last_age, t1, sizeof t1);
		pgha_result_line(r, PGHA_OK, "last archived \"%s\" %s ago", a->last_wal, t1);
	} else {
		pgha_result_line(r, PGHA_OK, "nothing archived since the statistics reset");
	}
	pgha_result_summarise(r, who);
	add_perf(a, count, age, r);
}

int main(int argc, char **argv)
{
	struct config cfg = { .off_state = PGHA_UNKNOWN };
	const struct pgha_program program = {
		.name = "check_pgha_archiver",
		.result_name = "PGHA_ARCHIVER",
		.summary = "Check PostgreSQL's WAL archiver: failing archive_command, WAL files "
			   "waiting to be archived and how long the oldest has waited.",
		.synopsis = PGHA_PG_SYNOPSIS " [-w RANGE] [-c RANGE] "
			    "[--warning-age RANGE] [--critical-age RANGE] "
			    "[--archive-off-state STATE] [-t SECONDS]",
		.groups = PGHA_PG_GROUPS | PGHA_GROUP_THRESHOLDS,
		.options = options,
		.n_options = sizeof options / sizeof options[0],
		.handler = handle_option,
		.ctx = &cfg,
		.notes = "Archiving that fails (the last failure is newer than the last "
			 "success) is CRITICAL.\n-w and -c apply to the number of WAL files "
			 "waiting (.ready); --warning-age and --critical-age to how long the "
			 "oldest has waited (0 when none waits), with units (--critical-age "
			 "1h).\narchive_mode off is UNKNOWN unless --archive-off-state says "
			 "otherwise; a replica with archive_mode=on is OK (it does not "
			 "archive).\n" PGHA_PG_NOTES,
	};
	struct pgha_common common;
	int done = pgha_pg_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;

	struct pgha_thresholds count, age;
	char err[512] = "";
	if (pgha_thresholds_set_named(&count, common.warning, common.critical, PGHA_UNIT_NONE, "-w", "-c",
			 err, sizeof err) ||
	    pgha_thresholds_set_named(&age, cfg.warning_age, cfg.critical_age, PGHA_UNIT_SECONDS,
			 "--warning-age", "--critical-age", err, sizeof err))
		return pgha_options_fail(&program, "%s", err);

	struct pgha_result r;
	struct pgha_pg pg;
	struct archiver a;
	char who[192];
	pgha_result_init(&r, program.result_name);

	if (pgha_pg_check_connect(&pg, &common, who, sizeof who, &r) == 0 &&
	    pgha_pg_check_query(&pg, &common, who, archiver_sql, 0, NULL, &r) == 0) {
		if (pgha_pg_rows(&pg) != 1 || pgha_pg_cols(&pg) != N_COLS ||
		    read_row(&pg, &a, err, sizeof err)) {
			pgha_result_set(&r, PGHA_UNKNOWN,
					"%s: unexpected answer from pg_stat_archiver", who);
		} else {
			report(&cfg, &common, &count, &age, who, &a, &r);
			if (common.verbose >= 2)
				pgha_result_line(&r, PGHA_OK, "connected to %s as \"%s\", "
						 "PostgreSQL %d, archive_mode %s", who,
						 PQuser(pg.conn), PQserverVersion(pg.conn), a.mode);
		}
	}
	pgha_pg_close(&pg);
	return pgha_result_exit(&r);
}
