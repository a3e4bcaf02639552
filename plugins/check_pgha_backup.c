/*
 * check_pgha_backup: is there a recent good base backup, and does the WAL
 * archive hold every segment from its start on?
 *
 * Reads the backup directory (the cluster file's [backup] dir, or
 * --backup-dir) as lib/backup.h describes it (docs/backup-format.md): one
 * subdirectory per backup with its backup.json. A backup is good when
 * backup.json parses, has format 1, says verified, and every file it lists
 * exists with its size.
 *   no good backup     CRITICAL (bad ones are named with why)
 *   age                of the newest good backup, measured from its
 *                      finished_at: -w/-c are ranges in seconds with units
 *                      ms s min h d (default -w 26h -c 50h: a daily backup
 *                      two hours late, then two missed)
 *   WAL archive        with an archive directory ([backup] archive_dir or
 *                      --archive-dir) and without --no-archive-check: every
 *                      segment from the newest good backup's start_wal to
 *                      the newest archived one must be there, following
 *                      timeline switches (lib/walarchive.h); a gap, a
 *                      missing history file or a backup on an abandoned
 *                      timeline is CRITICAL, naming the first missing file
 * An unreadable directory or cluster file is UNKNOWN.
 *
 * Perfdata: age (s, with the ranges), size (B: size_bytes, else the files'
 * sizes), backups (good ones), bad_backups, and wal_missing (segments and
 * history files missing) when the archive is checked. -v lists every
 * backup with good/bad and why, and the timelines followed.
 *
 * No network: a local (or NFS-mounted) directory is read, nothing more.
 */
#define _POSIX_C_SOURCE 200809L
#include <config.h>

#include "backup.h"
#include "clusterfile.h"
#include "error.h"
#include "options.h"
#include "output.h"
#include "range.h"
#include "walarchive.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEFAULT_WARNING "26h"
#define DEFAULT_CRITICAL "50h"

struct config {
	const char *cluster_file, *backup_dir, *archive_dir;
	bool no_archive_check;
};

enum { OPT_CLUSTER_FILE, OPT_BACKUP_DIR, OPT_ARCHIVE_DIR, OPT_NO_ARCHIVE_CHECK };

static const struct pgha_option options[] = {
	{ "cluster-file", 0, "FILE",
	  "cluster file: its [backup] dir and archive_dir are checked", OPT_CLUSTER_FILE },
	{ "backup-dir", 0, "DIR", "the backup directory (instead of the cluster file's)",
	  OPT_BACKUP_DIR },
	{ "archive-dir", 0, "DIR", "the WAL archive directory (instead of the cluster file's)",
	  OPT_ARCHIVE_DIR },
	{ "no-archive-check", 0, NULL, "do not check the WAL archive", OPT_NO_ARCHIVE_CHECK },
};

static int handle_option(void *ctx, int id, const char *arg, char *err, size_t errlen)
{
	struct config *cfg = ctx;
	switch (id) {
	case OPT_CLUSTER_FILE: cfg->cluster_file = arg; return 0;
	case OPT_BACKUP_DIR: cfg->backup_dir = arg; return 0;
	case OPT_ARCHIVE_DIR: cfg->archive_dir = arg; return 0;
	case OPT_NO_ARCHIVE_CHECK: cfg->no_archive_check = true; return 0;
	}
	snprintf(err, errlen, "unknown option");
	return PGHA_E_INVALID;
}

/* "0 B", "512 B", "45.2 MB" (powers of 1024, PostgreSQL's unit names). */
static void format_bytes(int64_t v, char *out, size_t outlen)
{
	static const char *const units[] = { "kB", "MB", "GB", "TB", "PB" };
	if (v < 1024) {
		snprintf(out, outlen, "%" PRId64 " B", v < 0 ? 0 : v);
		return;
	}
	double d = (double)v / 1024;
	size_t u = 0;
	while (d >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		d /= 1024;
		u++;
	}
	snprintf(out, outlen, "%.1f %s", d, units[u]);
}

static int64_t backup_size(const struct pgha_backup *b)
{
	return b->has_size_bytes ? b->size_bytes : b->files_bytes;
}

/* One long-output line per backup (-v), or only the bad ones newer than
 * the newest good (always): newest first. */
static void list_backups(const struct pgha_backup_set *set, int verbose, time_t now,
			 struct pgha_result *r)
{
	for (size_t i = set->n; i-- > 0;) {
		const struct pgha_backup *b = &set->items[i];
		if (b == set->newest_good && verbose < 1)
			break;
		if (b->good && verbose < 1)
			continue;
		if (!b->good) {
			pgha_result_line(r, PGHA_OK, "%s bad: %s", b->id, b->why ? b->why : "?");
			continue;
		}
		char size[32], ago[32];
		format_bytes(backup_size(b), size, sizeof size);
		pgha_duration_format((double)(now - b->finished), ago, sizeof ago);
		pgha_result_line(r, PGHA_OK, "%s good: %s, finished %s (%s ago)%s%s, start %s%s%s",
				 b->id, size, b->finished_at, ago, b->node ? " on " : "",
				 b->node ? b->node : "", b->start_wal,
				 b->layout ? ", " : "", b->layout ? b->layout : "");
	}
}

/* The WAL archive from the newest good backup's start: sets *state, text
 * (the summary part) and *missing (-1: unknown) and adds detail lines. */
static void check_archive(const char *dir, const struct pgha_backup *b, int verbose,
			  enum pgha_state *state, char *text, size_t textlen, double *missing,
			  struct pgha_result *r)
{
	struct pgha_wal_coverage c;
	char err[512];
	int rc = pgha_wal_coverage_dir(dir, b->start_wal, NULL, &c, err, sizeof err);
	if (rc) {
		*state = PGHA_UNKNOWN;
		*missing = -1;
		snprintf(text, textlen, "WAL archive not checked: %s", err);
		pgha_wal_coverage_free(&c);
		return;
	}
	*missing = (double)c.n_missing;
	bool history = c.n_missing_listed > 0 && strstr(c.missing[0], ".history");
	*state = c.ok ? PGHA_OK : PGHA_CRITICAL;
	if (c.ok)
		snprintf(text, textlen, "WAL archive continuous from %s to %s", c.first, c.last);
	else if (!c.first[0] && !history && c.n_missing_listed > 0)
		snprintf(text, textlen, "WAL archive holds nothing from %s on", c.start);
	else if (!history && c.n_missing_listed > 0 && c.n_missing > 1)
		snprintf(text, textlen, "WAL archive not continuous from %s: %s and %" PRIu64
			 " more missing", c.start, c.missing[0], c.n_missing - 1);
	else if (!history && c.n_missing_listed > 0)
		snprintf(text, textlen, "WAL archive not continuous from %s: %s missing", c.start,
			 c.missing[0]);
	else
		snprintf(text, textlen, "WAL archive not continuous from %s: %s", c.start, c.why);
	if (c.n_missing_listed > 1) {
		char list[PGHA_WAL_MAX_MISSING * (PGHA_WAL_NAME_SIZE + 2)] = "";
		size_t len = 0;
		for (size_t i = 0; i < c.n_missing_listed; i++) {
			int n = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
					 c.missing[i]);
			if (n < 0 || (size_t)n >= sizeof list - len)
				break;
			len += (size_t)n;
		}
		pgha_result_line(r, PGHA_CRITICAL, "missing from \"%s\": %s%s", dir, list,
				 c.n_missing > c.n_missing_listed ? ", ..." : "");
	}
	if (verbose >= 1) {
		char line[1024] = "";
		size_t len = 0;
		for (size_t i = 0; i < c.n_timelines; i++) {
			char from[PGHA_LSN_SIZE], to[PGHA_LSN_SIZE];
			pgha_lsn_format(c.timelines[i].begin, from);
			pgha_lsn_format(c.timelines[i].end, to);
			int n = snprintf(line + len, sizeof line - len, "%s%" PRIu32 " from %s%s%s",
					 i ? ", then " : "", c.timelines[i].tli, from,
					 c.timelines[i].has_end ? " to " : " on",
					 c.timelines[i].has_end ? to : "");
			if (n < 0 || (size_t)n >= sizeof line - len)
				break;
			len += (size_t)n;
		}
		pgha_result_line(r, PGHA_OK, "WAL archive \"%s\": %" PRIu64 " segment%s present "
				 "from %s on; timeline %s", dir, c.n_present,
				 c.n_present == 1 ? "" : "s", c.start,
				 line[0] ? line : "(not followed)");
	}
	pgha_wal_coverage_free(&c);
}

/* Judge the set and fill the result. */
static void report(const struct config *cfg, const struct pgha_common *common,
		   const struct pgha_thresholds *age_t, const char *wtext, const char *ctext,
		   const char *archive_dir, const struct pgha_backup_set *set,
		   struct pgha_result *r)
{
	time_t now = time(NULL);
	const struct pgha_backup *b = set->newest_good;
	struct pgha_perf_spec age_spec = { .uom = "s", .warn = age_t->warning_text,
					   .crit = age_t->critical_text, .has_min = true,
					   .min = 0 };
	struct pgha_perf_spec size_spec = { .uom = "B", .has_min = true, .min = 0 };
	struct pgha_perf_spec count = { .has_min = true, .min = 0 };
	size_t n_bad = set->n - set->n_good;

	if (!b) {
		pgha_result_raise(r, PGHA_CRITICAL);
		if (set->n == 0) {
			pgha_result_summary(r, "no backup in \"%s\"", set->dir);
		} else {
			const struct pgha_backup *last = &set->items[set->n - 1];
			pgha_result_summary(r, "no good backup in \"%s\": %zu bad, the newest %s: %s",
					    set->dir, n_bad, last->id, last->why ? last->why : "?");
		}
		list_backups(set, common->verbose, now, r);
		pgha_result_perf_unknown(r, "age", &age_spec);
		pgha_result_perf_unknown(r, "size", &size_spec);
		pgha_result_perf(r, "backups", 0, &count);
		pgha_result_perf(r, "bad_backups", (double)n_bad, &count);
		return;
	}

	double age = (double)(now - b->finished);
	if (age < 0)
		age = 0; /* finished in the future: a clock apart; not judged as old */
	enum pgha_state s_age = pgha_thresholds_check(age_t, age);
	pgha_result_raise(r, s_age);
	char ago[32], size[32], why[96], part_age[320];
	pgha_duration_format(age, ago, sizeof ago);
	format_bytes(backup_size(b), size, sizeof size);
	const char *alert = pgha_alert_text(s_age, wtext, ctext, why, sizeof why);
	snprintf(part_age, sizeof part_age, "newest good backup %s is %s old%s%s%s, %s", b->id,
		 ago, alert[0] ? " (" : "", alert, alert[0] ? ")" : "", size);

	char part_wal[768] = "";
	enum pgha_state s_wal = PGHA_OK;
	double missing = 0;
	bool checked = archive_dir && !cfg->no_archive_check;
	list_backups(set, common->verbose, now, r);
	if (checked) {
		check_archive(archive_dir, b, common->verbose, &s_wal, part_wal, sizeof part_wal,
			      &missing, r);
		pgha_result_raise(r, s_wal);
	} else if (common->verbose >= 1) {
		pgha_result_line(r, PGHA_OK, "WAL archive not checked (%s)",
				 cfg->no_archive_check ? "--no-archive-check"
						       : "no archive directory given");
	}
	if (!part_wal[0])
		pgha_result_summary(r, "%s", part_age);
	else if (pgha_state_rank(s_wal) > pgha_state_rank(s_age))
		pgha_result_summary(r, "%s; %s", part_wal, part_age);
	else
		pgha_result_summary(r, "%s, %s", part_age, part_wal);
	if (common->verbose >= 2)
		pgha_result_line(r, PGHA_OK, "backup directory \"%s\": %zu backup%s, %zu good",
				 set->dir, set->n, set->n == 1 ? "" : "s", set->n_good);

	pgha_result_perf(r, "age", age, &age_spec);
	pgha_result_perf(r, "size", (double)backup_size(b), &size_spec);
	pgha_result_perf(r, "backups", (double)set->n_good, &count);
	pgha_result_perf(r, "bad_backups", (double)n_bad, &count);
	if (checked && missing >= 0)
		pgha_result_perf(r, "wal_missing", missing, &count);
	else if (checked)
		pgha_result_perf_unknown(r, "wal_missing", &count);
}

int main(int argc, char **argv)
{
	struct config cfg = { 0 };
	const struct pgha_program program = {
		.name = "check_pgha_backup",
		.result_name = "PGHA_BACKUP",
		.summary = "Check that a recent good base backup exists and that the WAL archive "
			   "holds every segment from its start on.",
		.synopsis = "--cluster-file FILE | --backup-dir DIR [--archive-dir DIR] "
			    "[-w AGE] [-c AGE] [--no-archive-check] [-t SECONDS] [-v]",
		.groups = PGHA_GROUP_THRESHOLDS,
		.options = options,
		.n_options = sizeof options / sizeof options[0],
		.handler = handle_option,
		.ctx = &cfg,
		.notes = "-w and -c are ranges on the age of the newest good backup, measured "
			 "from its finished_at, in seconds or with units ms, s, min, h, d "
			 "(default -w " DEFAULT_WARNING " -c " DEFAULT_CRITICAL "; an empty "
			 "value sets none).\nA backup is good when its backup.json parses, has "
			 "format 1, says verified, and every file it lists exists with its "
			 "size. No good backup is CRITICAL.\nWith an archive directory the WAL "
			 "archive must hold every segment from the newest good backup's "
			 "start_wal to the newest archived one, following timeline switches: "
			 "a gap is CRITICAL.\n--backup-dir and --archive-dir override the "
			 "cluster file's [backup] dir and archive_dir.",
	};
	struct pgha_common common;
	int done = pgha_options_parse(&program, argc, argv, &common);
	if (done >= 0)
		return done;

	const char *wtext = common.warning ? common.warning : DEFAULT_WARNING;
	const char *ctext = common.critical ? common.critical : DEFAULT_CRITICAL;
	struct pgha_thresholds age_t;
	char err[512] = "";
	if (pgha_thresholds_set_named(&age_t, wtext, ctext, PGHA_UNIT_SECONDS, "-w", "-c", err,
				      sizeof err))
		return pgha_options_fail(&program, "%s", err);
	if (!cfg.cluster_file && !cfg.backup_dir)
		return pgha_options_fail(&program,
					 "give the backups with --cluster-file FILE or --backup-dir DIR");

	struct pgha_result r;
	pgha_result_init(&r, program.result_name);
	struct pgha_clusterfile cf = { 0 };
	const char *backup_dir = cfg.backup_dir, *archive_dir = cfg.archive_dir;
	if (cfg.cluster_file) {
		if (pgha_clusterfile_load(cfg.cluster_file, &cf, err, sizeof err)) {
			pgha_result_set(&r, PGHA_UNKNOWN, "%s", err);
			pgha_clusterfile_free(&cf);
			return pgha_result_exit(&r);
		}
		if (!backup_dir)
			backup_dir = cf.backup_dir;
		if (!archive_dir)
			archive_dir = cf.archive_dir;
		if (!backup_dir) {
			pgha_result_set(&r, PGHA_UNKNOWN, "cluster file \"%s\" has no [backup] dir",
					cfg.cluster_file);
			pgha_clusterfile_free(&cf);
			return pgha_result_exit(&r);
		}
	}

	struct pgha_backup_set set;
	int rc = pgha_backup_scan(backup_dir, &set, err, sizeof err);
	if (rc) {
		pgha_result_set(&r, PGHA_UNKNOWN, "%s", err);
		struct pgha_perf_spec age_spec = { .uom = "s", .warn = age_t.warning_text,
						   .crit = age_t.critical_text, .has_min = true,
						   .min = 0 };
		pgha_result_perf_unknown(&r, "age", &age_spec);
	} else {
		report(&cfg, &common, &age_t, wtext, ctext, archive_dir, &set, &r);
	}
	pgha_backup_set_free(&set);
	pgha_clusterfile_free(&cf);
	return pgha_result_exit(&r);
}
